# the struct-return test (tests/suites/sret.sh): tests/sret's C and C++
# objects and callers, built by each pair of compilers (C, C++) there is
SRET_DIR  := $(BUILD)/tests/sret
SRET_SRC  := tests/sret/impl_c.c tests/sret/call_c.c tests/sret/call_c_inline.c tests/sret/main.c \
             tests/sret/impl_cxx.cc tests/sret/call_cxx.cc tests/sret/sret_test.h
SRET_PAIRS := gcc:g++ $(if $(shell command -v clang 2>/dev/null),$(if $(shell command -v clang++ 2>/dev/null),clang:clang++ gcc:clang++ clang:g++))
SRET_BINS := $(foreach p,$(SRET_PAIRS),$(SRET_DIR)/sret-$(subst :,-,$(p)))

$(SRET_DIR)/gen/sret.h: tests/sret/sret.idl $(AMIDL) $(RT_HEADERS)
	@mkdir -p $(dir $@)
	$(AMIDL) -w --no-glue -I runtime/idl --outdir $(SRET_DIR)/gen $<

# sret-CC-CXX: the C files compiled by CC, the C++ files by CXX, linked by CXX
define SRET_RULE
$(SRET_DIR)/sret-$(1)-$(2): $(SRET_SRC) $(SRET_DIR)/gen/sret.h
	@mkdir -p $(SRET_DIR)/obj-$(1)-$(2)
	for f in impl_c call_c call_c_inline main; do \
	    $(1) -O2 -std=c11 -Wall -Wextra -Werror -Iruntime/include -I$(RT_GEN) -I$(SRET_DIR)/gen -Itests/sret \
	        -c -o $(SRET_DIR)/obj-$(1)-$(2)/$$$$f.o tests/sret/$$$$f.c || exit 1; done
	for f in impl_cxx call_cxx; do \
	    $(2) -O2 -std=c++11 -Wall -Wextra -Werror -Iruntime/include -I$(RT_GEN) -I$(SRET_DIR)/gen -Itests/sret \
	        -c -o $(SRET_DIR)/obj-$(1)-$(2)/$$$$f.o tests/sret/$$$$f.cc || exit 1; done
	$(2) -o $$@ $(SRET_DIR)/obj-$(1)-$(2)/*.o
endef
$(foreach p,$(SRET_PAIRS),$(eval $(call SRET_RULE,$(word 1,$(subst :, ,$(p))),$(word 2,$(subst :, ,$(p))))))

suite-sret: $(SRET_BINS)
