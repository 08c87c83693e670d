# tests/tests.mk - test targets (included by the top-level Makefile).

UNIT_TESTS := $(BUILD)/tests/test_pp $(BUILD)/tests/test_winrt

$(BUILD)/tests/test_pp $(BUILD)/tests/test_winrt: $(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libamidlfe.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CPPFLAGS) $(WARN) -o $@ $< $(BUILD)/libamidlfe.a

RT_TESTS := $(BUILD)/tests/test-core $(BUILD)/tests/test-sync $(BUILD)/tests/test-pool $(BUILD)/tests/test-callobj \
            $(BUILD)/tests/test-stress $(BUILD)/tests/test-soak $(BUILD)/tests/test-e2e
TEST_GEN := $(BUILD)/tests/gen

$(TEST_GEN)/calltest.h $(TEST_GEN)/calltest_i.c $(TEST_GEN)/calltest_async.c: tests/runtime/calltest.idl $(AMIDL)
	@mkdir -p $(TEST_GEN)
	$(AMIDL) -I runtime/idl --outdir $(TEST_GEN) $<

.SECONDARY: $(TEST_GEN)/calltest.h $(TEST_GEN)/calltest_i.c $(TEST_GEN)/calltest_async.c \
            $(TEST_GEN)/kinds.h $(TEST_GEN)/kinds_i.c $(TEST_GEN)/kinds_async.c

$(TEST_GEN)/kinds.h $(TEST_GEN)/kinds_i.c $(TEST_GEN)/kinds_async.c: tests/e2e/kinds.idl $(AMIDL)
	@mkdir -p $(TEST_GEN)
	$(AMIDL) -I runtime/idl --outdir $(TEST_GEN) $<

# tests/e2e/deep_server.c: the one IDeep server of test-e2e, test-wire and oop-kinds
DEEP_SERVER := tests/e2e/deep_server.c tests/e2e/deep_server.h

$(BUILD)/tests/test-e2e: tests/runtime/test-e2e.c tests/runtime/task.h $(TEST_GEN)/kinds.h $(DEEP_SERVER) $(BUILD)/lib/libamidlrt.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -pthread -Iruntime/include -I$(RT_GEN) -I$(TEST_GEN) -Itests/e2e \
	    -o $@ $< tests/e2e/deep_server.c $(TEST_GEN)/kinds_i.c $(TEST_GEN)/kinds_async.c $(BUILD)/lib/libamidlrt.a -lm

$(BUILD)/tests/test-callobj $(BUILD)/tests/test-stress $(BUILD)/tests/test-soak: $(BUILD)/tests/test-%: tests/runtime/test-%.c tests/runtime/task.h tests/runtime/calc_server.h $(TEST_GEN)/calltest.h $(BUILD)/lib/libamidlrt.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -pthread -Iruntime/include -Iruntime/src -I$(RT_GEN) -I$(TEST_GEN) \
	    -o $@ $< $(TEST_GEN)/calltest_i.c $(TEST_GEN)/calltest_async.c $(BUILD)/lib/libamidlrt.a

$(BUILD)/tests/test-%: tests/runtime/test-%.c tests/runtime/task.h $(BUILD)/lib/libamidlrt.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -pthread -Iruntime/include -Iruntime/src -I$(RT_GEN) -o $@ $< $(BUILD)/lib/libamidlrt.a

$(BUILD)/tests/cxx-api: tests/runtime/cxx-api.cc runtime/include/amidlrt.h $(BUILD)/lib/libamidlrt.so
	@mkdir -p $(dir $@)
	$(CXX) $(CFLAGS) -std=c++11 -Wall -Werror -Iruntime/include -I$(RT_GEN) -o $@ $< -L$(BUILD)/lib -lamidlrt -pthread

# ---------------------------------------------------------------- suites
# Every tests/suites/NAME.sh is a suite (tests/suites/README.md); its tier
# is its header line "# tier: check" (the default) or "# tier: slow".
#   make check          the check tier (make -j2 check runs suites side by side)
#   make test           every suite: the check tier and the slow tier
#   make test-NAME      one suite alone (test-sanitize: asan and tsan)
# Each suite runs as the target suite-NAME, writing $(BUILD)/tests/logs/NAME.log;
# the summary (tests/run.sh --summary) then prints the failures with their
# output and "N passed, N failed". A fragment tests/mk/NAME.mk appends the
# binaries every suite needs to SUITE_BINS, or names its own as
# prerequisites of suite-NAME.
SUITE_BINS :=
include $(wildcard tests/mk/*.mk)

SUITES       := $(sort $(basename $(notdir $(wildcard tests/suites/*.sh))))
SLOW_SUITES  := $(sort $(basename $(notdir $(shell grep -l '^\# tier: *slow' tests/suites/*.sh 2>/dev/null))))
CHECK_SUITES := $(filter-out $(SLOW_SUITES),$(SUITES))
# the longest first, so that make -j2 test packs them well
TEST_SUITES  := $(filter $(SUITES),abi tsan asan valgrind soak install corpus fuzz-replay) \
                $(filter-out abi tsan asan valgrind soak install corpus fuzz-replay,$(SUITES))
TEST_DEPS    := $(AMIDL) runtime samples $(UNIT_TESTS) $(RT_TESTS) $(BUILD)/tests/cxx-api $(SUITE_BINS)
TEST_JOBS    ?= 2
RUN_SUITES    = SHARED=$(SHARED) BUILD=$(BUILD) AMIDL=$(AMIDL) bash tests/run.sh

$(SUITES:%=suite-%): suite-%: $(TEST_DEPS)
	@$(RUN_SUITES) --run $*

# what the suites of the slow tier need besides TEST_DEPS
suite-asan: sanitize-build-asan
suite-tsan: sanitize-build-tsan
suite-fuzz-replay: $(BUILD)/fuzz/fuzz_amidl
suite-build: $(BUILD)/clang/libamidlfe.a

$(SUITES:%=test-%): test-%: suite-%
	@$(RUN_SUITES) --summary $*

check: $(CHECK_SUITES:%=suite-%)
	@$(RUN_SUITES) --summary $(CHECK_SUITES)

# make test runs its suites TEST_JOBS (2) at a time unless make was given -j
test:
	@$(MAKE) --no-print-directory $(if $(findstring jobserver,$(MAKEFLAGS)),,-j$(TEST_JOBS)) test-all

test-all: $(TEST_SUITES:%=suite-%)
	@$(RUN_SUITES) --summary $(TEST_SUITES)

test-sanitize: suite-asan suite-tsan
	@$(RUN_SUITES) --summary asan tsan

.PHONY: check test test-all test-sanitize $(SUITES:%=suite-%) $(SUITES:%=test-%)

# the compiler built with clang -Wall -Wextra -Werror (the build suite checks it is there)
$(BUILD)/clang/libamidlfe.a: $(FRONT_SRCS) $(CODEGEN_SRCS) $(filter-out $(BUILD)/%,$(FRONT_DEPS)) grammar/parser.y grammar/lexer.l
	@$(MAKE) -s --no-print-directory BUILD=$(BUILD)/clang AMIDL=$(BUILD)/clang/amidl CC=clang $@

$(BUILD)/bench/run1: bench/run1.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -D_GNU_SOURCE -o $@ $<

$(TEST_GEN)/glue.h $(TEST_GEN)/glue_i.c $(TEST_GEN)/glue_async.c: bench/glue.idl $(AMIDL)
	@mkdir -p $(TEST_GEN)
	$(AMIDL) -I runtime/idl --outdir $(TEST_GEN) $<

.SECONDARY: $(TEST_GEN)/glue.h $(TEST_GEN)/glue_i.c $(TEST_GEN)/glue_async.c

$(BUILD)/bench/runtime_bench: bench/runtime_bench.c $(TEST_GEN)/calltest.h $(TEST_GEN)/glue.h $(BUILD)/lib/libamidlrt.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -std=c11 -Wall -Wextra -Wno-cast-function-type -D_GNU_SOURCE -pthread -Iruntime/include -I$(RT_GEN) -I$(TEST_GEN) \
	    $$(pkg-config --cflags glib-2.0 libuv) -o $@ $< $(TEST_GEN)/calltest_i.c $(TEST_GEN)/calltest_async.c \
	    $(TEST_GEN)/glue_i.c $(TEST_GEN)/glue_async.c \
	    $(BUILD)/lib/libamidlrt.a $$(pkg-config --libs glib-2.0 libuv)

bench: $(AMIDL) $(BUILD)/bench/run1 $(BUILD)/bench/runtime_bench
	@SHARED=$(SHARED) bash bench/run.sh
	@$(BUILD)/bench/runtime_bench
	@$(MAKE) -s --no-print-directory bench-oop

# rewrite the golden expectations from the current compiler (review the diff)
golden-update: $(AMIDL)
	@tmp=$$(mktemp -d) && for idl in tests/golden/*.idl; do \
	    $(AMIDL) -w --no-banner-version --outdir $$tmp $$idl || { rm -rf $$tmp; exit 1; }; done && \
	    rm -f tests/golden/*.h tests/golden/*_i.c tests/golden/*_async.c && cp $$tmp/* tests/golden/ && rm -rf $$tmp
	@git status --short tests/golden

# The runtime tests under AddressSanitizer+UndefinedBehaviorSanitizer and
# under ThreadSanitizer (clang), each in a build directory of its own
# (the asan and tsan suites; make test-sanitize runs both).
SAN_TESTS := test-core test-sync test-pool test-callobj test-stress test-soak test-e2e test-wire

sanitize-build-asan: $(AMIDL)
	@$(MAKE) -s --no-print-directory BUILD=$(BUILD)/asan AMIDL=$(BUILD)/asan/amidl CC=clang \
	    CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined" \
	    LDFLAGS="-fsanitize=address,undefined" $(SAN_TESTS:%=$(BUILD)/asan/tests/%) >/dev/null

sanitize-build-tsan: $(AMIDL)
	@$(MAKE) -s --no-print-directory BUILD=$(BUILD)/tsan AMIDL=$(BUILD)/tsan/amidl CC=clang \
	    CFLAGS="-O1 -g -fsanitize=thread" LDFLAGS="-fsanitize=thread" $(SAN_TESTS:%=$(BUILD)/tsan/tests/%) >/dev/null

sanitize-build: sanitize-build-asan sanitize-build-tsan

.PHONY: sanitize-build sanitize-build-asan sanitize-build-tsan

# The soak for SOAK_SECONDS (default 300), then the stress test at the
# issue's full size: 8 threads x 50,000 calls.
SOAK_SECONDS ?= 300
soak: $(BUILD)/tests/test-soak $(BUILD)/tests/test-stress
	AMRT_SOAK_SECONDS=$(SOAK_SECONDS) AMRT_TEST_TIMEOUT=$$(($(SOAK_SECONDS) + 120)) $(BUILD)/tests/test-soak
	AMRT_STRESS_CALLS=50000 AMRT_TEST_TIMEOUT=1200 $(BUILD)/tests/test-stress

.PHONY: soak

# ---- fuzzing (clang, libFuzzer): make fuzz builds the harness; make
# fuzz-run fuzzes for FUZZ_SECONDS (default 600) seeded with the tests and
# the corpus; make fuzz-replay (make test-fuzz-replay) runs every seed once.
FUZZ_BUILD := $(BUILD)/fuzz
FUZZ_SAN   := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_SECONDS ?= 600

$(FUZZ_BUILD)/fuzz_amidl: fuzz/fuzz_amidl.c $(FRONT_SRCS) $(CODEGEN_SRCS) grammar/parser.y grammar/lexer.l
	@$(MAKE) -s BUILD=$(FUZZ_BUILD) AMIDL=$(FUZZ_BUILD)/amidl CC=clang \
	    CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link $(FUZZ_SAN)" $(FUZZ_BUILD)/libamidlfe.a
	clang -O1 -g -fsanitize=fuzzer $(FUZZ_SAN) -D_GNU_SOURCE -Igrammar -Icodegen -I$(FUZZ_BUILD)/grammar \
	    -o $@ $< $(FUZZ_BUILD)/libamidlfe.a

fuzz: $(FUZZ_BUILD)/fuzz_amidl

fuzz-seeds: fuzz
	@mkdir -p $(FUZZ_BUILD)/seeds $(FUZZ_BUILD)/corpus
	@cp tests/errors/*.idl tests/golden/*.idl tests/glue-errors/*.idl tests/e2e/*.idl runtime/idl/*.idl \
	    samples/simplestream/*.idl bench/glue.idl $(FUZZ_BUILD)/seeds/
	@cp $(SHARED)/corpus/mingw-w64/*.idl $(FUZZ_BUILD)/seeds/ 2>/dev/null || true

fuzz-run: fuzz-seeds
	AMIDL_FUZZ_INCLUDE=runtime/idl:$(SHARED)/corpus/mingw-w64:$(SHARED)/corpus/mingw-w64-include \
	    $(FUZZ_BUILD)/fuzz_amidl -dict=fuzz/idl.dict -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
	    -rss_limit_mb=4096 -max_len=65536 -jobs=$(or $(FUZZ_JOBS),1) $(FUZZ_BUILD)/corpus $(FUZZ_BUILD)/seeds

# every seed once (the fuzz-replay suite)
fuzz-replay: test-fuzz-replay

.PHONY: fuzz fuzz-seeds fuzz-run fuzz-replay
