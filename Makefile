# amidl - top-level Makefile.
#   make            build bin/amidl, libamidlrt and the samples
#   make run        build everything and run the simplestream sample
#   make check      the fast tests (make -j2 check); ends with "N passed, N failed"
#   make test       every test: make check and the slow tier (valgrind, sanitizers,
#                   long soak, fuzz replay, corpus, ABI, install); 2 suites at a time
#   make test-NAME  one suite alone: test-runtime, test-abi, test-sanitize, ... (docs/testing.md)
#   make bench      run the benchmarks (the cross-process rows alone: make bench-oop)
#   make clean      remove everything generated (build/ and bin/)

CC       ?= cc
CFLAGS   ?= -O2 -g
WARN     := -std=c11 -Wall -Wextra -Werror
CPPFLAGS += -D_GNU_SOURCE -Igrammar -Icodegen -I$(BUILD)/grammar
BUILD    := build
AMIDL    := bin/amidl
BISON    ?= bison
FLEX     ?= flex

SHARED   ?= ../shared

FRONT_SRCS := grammar/util.c grammar/diag.c grammar/pp.c grammar/ast.c grammar/load.c grammar/scope.c grammar/fold.c \
              grammar/sema.c grammar/async.c grammar/glue.c grammar/known.c grammar/acf.c \
              grammar/winrt.c grammar/sha1.c
CODEGEN_SRCS := codegen/emit_header.c codegen/emit_winrt.c codegen/emit_protos.c codegen/emit_iid.c codegen/emit_glue.c
GEN_SRCS := $(BUILD)/grammar/parser.c $(BUILD)/grammar/lexer.c

FRONT_OBJS := $(FRONT_SRCS:%.c=$(BUILD)/%.o) $(GEN_SRCS:%.c=%.o) $(CODEGEN_SRCS:%.c=$(BUILD)/%.o)
DRIVER_SRCS := codegen/main.c codegen/options.c codegen/driver.c codegen/output.c
MAIN_OBJ := $(DRIVER_SRCS:%.c=$(BUILD)/%.o)

.PHONY: all test bench clean golden-update runtime
all: $(AMIDL) runtime samples

# amidl is linked statically where the C library allows it (as widl is):
# no dynamic loader and no shared libc pages, about 0.9 MiB less peak RSS
# and a faster start on each of the many small runs a build makes. Not
# with sanitizers (they need the dynamic runtime); AMIDL_STATIC= turns it off.
AMIDL_STATIC ?= $(if $(findstring -fsanitize,$(CFLAGS) $(LDFLAGS)),,$(if $(wildcard $(shell $(CC) -print-file-name=libc.a)),-static))

$(AMIDL): $(FRONT_OBJS) $(MAIN_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) $(AMIDL_STATIC) -o $@ $^

$(BUILD)/libamidlfe.a: $(FRONT_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/grammar/parser.c $(BUILD)/grammar/parser.h: grammar/parser.y
	@mkdir -p $(BUILD)/grammar
	$(BISON) -Wall -Werror -d -o $(BUILD)/grammar/parser.c $<

$(BUILD)/grammar/lexer.c $(BUILD)/grammar/lexer.h: grammar/lexer.l
	@mkdir -p $(BUILD)/grammar
	$(FLEX) --header-file=$(BUILD)/grammar/lexer.h -o $(BUILD)/grammar/lexer.c $<

# generated scanner/parser: relax the warnings flex's skeleton trips
$(BUILD)/grammar/lexer.o: $(BUILD)/grammar/lexer.c $(BUILD)/grammar/parser.h grammar/amidl.h grammar/parse.h
	$(CC) $(CFLAGS) $(CPPFLAGS) -std=c11 -Wall -Werror -Wno-unused-function -Wno-sign-compare -c -o $@ $<

$(BUILD)/grammar/parser.o: $(BUILD)/grammar/parser.c $(BUILD)/grammar/lexer.h grammar/amidl.h grammar/parse.h grammar/attrs.def
	$(CC) $(CFLAGS) $(CPPFLAGS) $(WARN) -c -o $@ $<

FRONT_DEPS := grammar/amidl.h grammar/parse.h grammar/attrs.def grammar/diag.def codegen/emit.h codegen/driver.h \
              $(BUILD)/grammar/parser.h runtime/include/amidlrt_glue.h
# the generated scanner and parser include amidl.h too
$(BUILD)/grammar/lexer.o $(BUILD)/grammar/parser.o: $(FRONT_DEPS)

$(BUILD)/grammar/%.o: grammar/%.c $(FRONT_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CPPFLAGS) $(WARN) -c -o $@ $<

$(BUILD)/codegen/%.o: codegen/%.c $(FRONT_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CPPFLAGS) $(WARN) -c -o $@ $<

# ---------------------------------------------------------------- libamidlrt
# The base IDL is compiled by amidl itself; its headers and IID files go
# to $(BUILD)/runtime/include, next to the hand-written runtime/include.
RT_IDL     := wtypesbase wtypes unknwn objidlbase objidl oleidl oaidl servprov ocidl propidl
RT_GEN     := $(BUILD)/runtime/include
RT_HEADERS := $(RT_IDL:%=$(RT_GEN)/%.h)
RT_IIDS    := $(RT_GEN)/unknwn_i.c $(RT_GEN)/objidlbase_i.c $(RT_GEN)/objidl_i.c $(RT_GEN)/oleidl_i.c $(RT_GEN)/oaidl_i.c \
              $(RT_GEN)/servprov_i.c $(RT_GEN)/ocidl_i.c $(RT_GEN)/propidl_i.c
RT_SRCS    := runtime/src/alloc.c runtime/src/core.c runtime/src/sync.c runtime/src/pool.c runtime/src/callobj.c runtime/src/frame.c runtime/src/cancel.c runtime/src/asyncmgr.c runtime/src/interp.c runtime/src/proxy.c runtime/src/hresult.c runtime/src/wire.c runtime/src/oleaut.c
# remoting: processes talk through UNIX sockets (docs/remoting.md)
RT_SRCS    += runtime/src/transport_unix.c runtime/src/conn.c runtime/src/remote.c runtime/src/activate.c
# server-side asynchronous processing of calls from other processes (RULES.md E, J5)
RT_SRCS    += runtime/src/srvasync.c
RT_CFLAGS  := $(CFLAGS) -std=c11 -Wall -Wextra -Werror -pthread -fPIC -D_GNU_SOURCE \
              -Iruntime/include -I$(RT_GEN)
RT_OBJS    := $(RT_SRCS:%.c=$(BUILD)/%.o) $(RT_IIDS:%.c=%.o)
RT_SONAME  := libamidlrt.so.0
RT_LIBS    := $(BUILD)/lib/libamidlrt.a $(BUILD)/lib/libamidlrt.so

runtime: $(RT_HEADERS) $(RT_LIBS)

# generated files are kept (not intermediate)
.SECONDARY: $(RT_HEADERS) $(RT_IDL:%=$(RT_GEN)/%_i.c)

$(RT_GEN)/%.h $(RT_GEN)/%_i.c: runtime/idl/%.idl bin/amidl
	@mkdir -p $(RT_GEN)
	bin/amidl -w --no-glue -I runtime/idl --outdir $(RT_GEN) $<

$(BUILD)/runtime/src/%.o: runtime/src/%.c $(wildcard runtime/src/*.h) runtime/include/amidlrt.h runtime/include/amidlrt_glue.h runtime/include/oleauto.h runtime/include/amidl_types.h $(RT_HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(RT_CFLAGS) -fvisibility=hidden -DAMIDLRT_BUILD -c -o $@ $<

# the IID definitions are part of the library's interface: default visibility
$(RT_GEN)/%_i.o: $(RT_GEN)/%_i.c $(RT_HEADERS)
	$(CC) $(RT_CFLAGS) -c -o $@ $<

$(BUILD)/lib/libamidlrt.a: $(RT_OBJS)
	@mkdir -p $(dir $@)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/lib/libamidlrt.so: $(RT_OBJS)
	@mkdir -p $(dir $@)
	$(CC) -shared -pthread -Wl,-soname,$(RT_SONAME) -o $(BUILD)/lib/$(RT_SONAME) $^
	ln -sf $(RT_SONAME) $@

# ---------------------------------------------------------------- samples
SAMPLE_GEN := $(BUILD)/samples/simplestream
SAMPLE_CFLAGS := $(CFLAGS) -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -pthread \
                 -Iruntime/include -I$(RT_GEN) -I$(SAMPLE_GEN) -Isamples/simplestream

$(SAMPLE_GEN)/simplestream.h $(SAMPLE_GEN)/simplestream_i.c $(SAMPLE_GEN)/simplestream_async.c: samples/simplestream/simplestream.idl bin/amidl
	@mkdir -p $(SAMPLE_GEN)
	bin/amidl --outdir $(SAMPLE_GEN) $<

$(SAMPLE_GEN)/client: samples/simplestream/client.c samples/simplestream/server.c samples/simplestream/server.h \
        $(SAMPLE_GEN)/simplestream.h $(SAMPLE_GEN)/simplestream_i.c $(SAMPLE_GEN)/simplestream_async.c $(BUILD)/lib/libamidlrt.a
	$(CC) $(SAMPLE_CFLAGS) -o $@ samples/simplestream/client.c samples/simplestream/server.c \
	    $(SAMPLE_GEN)/simplestream_i.c $(SAMPLE_GEN)/simplestream_async.c $(BUILD)/lib/libamidlrt.a

$(SAMPLE_GEN)/%.o: $(SAMPLE_GEN)/%.c $(SAMPLE_GEN)/simplestream.h
	$(CC) $(SAMPLE_CFLAGS) -c -o $@ $<

$(SAMPLE_GEN)/server.o: samples/simplestream/server.c samples/simplestream/server.h $(SAMPLE_GEN)/simplestream.h
	$(CC) $(SAMPLE_CFLAGS) -c -o $@ $<

# the same client in C++, against the same generated header
$(SAMPLE_GEN)/client_cxx: samples/simplestream/client_cxx.cc $(SAMPLE_GEN)/server.o $(SAMPLE_GEN)/simplestream_i.o \
        $(SAMPLE_GEN)/simplestream_async.o $(BUILD)/lib/libamidlrt.a
	$(CXX) $(CFLAGS) -std=c++11 -Wall -Wextra -Werror -pthread -Iruntime/include -I$(RT_GEN) -I$(SAMPLE_GEN) \
	    -o $@ $< $(SAMPLE_GEN)/server.o $(SAMPLE_GEN)/simplestream_i.o $(SAMPLE_GEN)/simplestream_async.o $(BUILD)/lib/libamidlrt.a

$(BUILD)/samples/serverasync: samples/serverasync/serverasync.c $(SAMPLE_GEN)/simplestream_i.o \
        $(SAMPLE_GEN)/simplestream_async.o $(BUILD)/lib/libamidlrt.a
	$(CC) $(SAMPLE_CFLAGS) -o $@ $< $(SAMPLE_GEN)/simplestream_i.o $(SAMPLE_GEN)/simplestream_async.o $(BUILD)/lib/libamidlrt.a

$(BUILD)/samples/cancel: samples/cancel/cancel.c $(SAMPLE_GEN)/simplestream_i.o \
        $(SAMPLE_GEN)/simplestream_async.o $(BUILD)/lib/libamidlrt.a
	$(CC) $(SAMPLE_CFLAGS) -o $@ $< $(SAMPLE_GEN)/simplestream_i.o $(SAMPLE_GEN)/simplestream_async.o $(BUILD)/lib/libamidlrt.a

$(BUILD)/samples/fanout: samples/fanout/fanout.c $(SAMPLE_GEN)/simplestream_i.o \
        $(SAMPLE_GEN)/simplestream_async.o $(BUILD)/lib/libamidlrt.a
	$(CC) $(SAMPLE_CFLAGS) -o $@ $< $(SAMPLE_GEN)/simplestream_i.o $(SAMPLE_GEN)/simplestream_async.o $(BUILD)/lib/libamidlrt.a

# the two-process form: the server executable and its class file in the build tree
SS_CLSID := 5e2f3b1a-7c4d-4e8f-9a0b-1c2d3e4f5a62
$(SAMPLE_GEN)/stream_server: samples/simplestream/stream_server.c $(SAMPLE_GEN)/server.o $(SAMPLE_GEN)/simplestream_i.o \
        $(SAMPLE_GEN)/simplestream_async.o $(BUILD)/lib/libamidlrt.a
	$(CC) $(SAMPLE_CFLAGS) -o $@ $< $(SAMPLE_GEN)/server.o $(SAMPLE_GEN)/simplestream_i.o $(SAMPLE_GEN)/simplestream_async.o $(BUILD)/lib/libamidlrt.a

$(SAMPLE_GEN)/classes/$(SS_CLSID).class:
	@mkdir -p $(dir $@)
	printf '# CLSID_SimpleStream: the simplestream sample server (docs/remoting.md)\nExec=../stream_server\n' > $@

samples: $(SAMPLE_GEN)/client $(SAMPLE_GEN)/client_cxx $(BUILD)/samples/serverasync $(BUILD)/samples/cancel $(BUILD)/samples/fanout \
         $(SAMPLE_GEN)/stream_server $(SAMPLE_GEN)/classes/$(SS_CLSID).class

# the main job: build everything, run the simplestream sample end to end,
# its server another process started on demand through the class file in
# the build tree (RULES.md J2, docs/remoting.md)
run: all samples
	@AMIDL_CLASS_PATH=$(SAMPLE_GEN)/classes $(SAMPLE_GEN)/client --remote

run-remote: run

# the same client with the server in its own process (a thread of the pool)
run-local: all samples
	@$(SAMPLE_GEN)/client

.PHONY: samples run run-remote run-local

# ---------------------------------------------------------------- install
# make install PREFIX=/usr/local DESTDIR=...: the compiler, its man page,
# libamidlrt (static and shared, with soname), the headers and base IDL
# under include/amidl (where amidl looks by default), pkg-config files
# (libamidlrt.pc and amidl.pc, the same but for the name) and the CMake
# package (amidlConfig.cmake, amidlConfigVersion.cmake). Nothing goes
# outside DESTDIR/PREFIX; ldconfig is not run (install says when it is
# needed). make uninstall removes exactly what install wrote (its manifest).
PREFIX  ?= /usr/local
LIBDIR  ?= lib
DESTDIR ?=
INST    := $(DESTDIR)$(PREFIX)
MANIFEST = $(INST)/share/amidl/install-manifest
# the version: grammar/amidl.h's AMIDL_VERSION is the one place it is written
VERSION := $(shell sed -n 's/^\#define AMIDL_VERSION "\([^"]*\)".*/\1/p' grammar/amidl.h)
VERSION_MAJOR := $(word 1,$(subst ., ,$(VERSION)))
VERSION_MINOR := $(word 2,$(subst ., ,$(VERSION)))
SIZEOF_VOID_P = $(shell echo __SIZEOF_POINTER__ | $(CC) -E -P - 2>/dev/null | tr -d ' ')
# from LIBDIR/cmake/amidl back up to PREFIX (LIBDIR may be lib/x86_64-linux-gnu)
CMAKE_RELUP = $(shell echo '$(LIBDIR)/cmake/amidl' | sed 's|[^/][^/]*|..|g')
INSTALL_FILES := bin/amidl share/man/man1/amidl.1 $(LIBDIR)/libamidlrt.a $(LIBDIR)/$(RT_SONAME) $(LIBDIR)/libamidlrt.so \
    $(LIBDIR)/pkgconfig/libamidlrt.pc $(LIBDIR)/pkgconfig/amidl.pc \
    $(LIBDIR)/cmake/amidl/amidlConfig.cmake $(LIBDIR)/cmake/amidl/amidlConfigVersion.cmake \
    $(LIBDIR)/cmake/amidl/amidlGenerate.cmake

install: all
	@test -n "$(VERSION)" || { echo "no AMIDL_VERSION in grammar/amidl.h"; exit 1; }
	@mkdir -p $(INST)/bin $(INST)/$(LIBDIR)/pkgconfig $(INST)/$(LIBDIR)/cmake/amidl $(INST)/include/amidl \
	    $(INST)/share/man/man1 $(INST)/share/amidl
	install -m 755 $(AMIDL) $(INST)/bin/amidl
	sed -e '1s/^\(\.TH [^"]*"[^"]*"\) "amidl[^"]*"/\1 "amidl $(VERSION)"/' docs/amidl.1 > $(INST)/share/man/man1/amidl.1
	install -m 644 $(BUILD)/lib/libamidlrt.a $(INST)/$(LIBDIR)/libamidlrt.a
	install -m 755 $(BUILD)/lib/$(RT_SONAME) $(INST)/$(LIBDIR)/$(RT_SONAME)
	ln -sf $(RT_SONAME) $(INST)/$(LIBDIR)/libamidlrt.so
	install -m 644 runtime/include/*.h $(RT_HEADERS) $(INST)/include/amidl/
	install -m 644 runtime/idl/*.idl $(INST)/include/amidl/
	for n in libamidlrt amidl; do \
	    sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@VERSION@|$(VERSION)|' -e "s|@NAME@|$$n|" \
	        runtime/libamidlrt.pc.in > $(INST)/$(LIBDIR)/pkgconfig/$$n.pc || exit 1; done
	sed -e 's|@LIBDIR@|$(LIBDIR)|g' -e 's|@RELUP@|$(CMAKE_RELUP)|' -e 's|@VERSION@|$(VERSION)|g' \
	    runtime/cmake/amidlConfig.cmake.in > $(INST)/$(LIBDIR)/cmake/amidl/amidlConfig.cmake
	sed -e 's|@VERSION@|$(VERSION)|g' -e 's|@VERSION_MAJOR@|$(VERSION_MAJOR)|g' -e 's|@VERSION_MINOR@|$(VERSION_MINOR)|g' \
	    -e 's|@SIZEOF_VOID_P@|$(SIZEOF_VOID_P)|g' -e 's|@SIZEOF_VOID_P_BITS@|$(shell expr 8 \* $(SIZEOF_VOID_P))|g' \
	    runtime/cmake/amidlConfigVersion.cmake.in > $(INST)/$(LIBDIR)/cmake/amidl/amidlConfigVersion.cmake
	install -m 644 runtime/cmake/amidlGenerate.cmake $(INST)/$(LIBDIR)/cmake/amidl/amidlGenerate.cmake
	@{ for f in $(INSTALL_FILES); do echo $$f; done; \
	   for f in runtime/include/*.h $(RT_HEADERS) runtime/idl/*.idl; do echo include/amidl/$$(basename $$f); done; \
	   echo share/amidl/install-manifest; } > $(MANIFEST)
	@PREFIX='$(PREFIX)' LIBDIR='$(LIBDIR)' DESTDIR='$(DESTDIR)' sh runtime/install-hint.sh

uninstall:
	@test -f $(MANIFEST) || { echo "nothing installed in $(INST)"; exit 1; }
	@cd $(INST) && xargs rm -f < share/amidl/install-manifest
	@-rmdir $(INST)/include/amidl $(INST)/$(LIBDIR)/cmake/amidl $(INST)/share/amidl 2>/dev/null; true

.PHONY: install uninstall

include tests/tests.mk
include bench/oop/oop.mk

clean:
	rm -rf $(BUILD) bin
