# bench/oop/oop.mk - the cross-process benchmark (bench/oop/oop.py): make
# bench-oop, and the end of make bench. Its peers are benchmark-only
# dependencies (Debian: libsystemd-dev libglib2.0-dev libgrpc++-dev
# protobuf-compiler-grpc libcapnp-dev capnproto): nothing else builds them.
# Each contender is built on its own; one that does not build is reported
# as n/a by the driver, with its log in $(OOP)/NAME.build.log.
OOP       := $(BUILD)/bench/oop
OOP_NAMES := sock epoll sdbus gdbus grpc capnp amidl
OOP_CFLAGS := $(CFLAGS) -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -pthread -Ibench/oop -I$(OOP)
OOP_CXXFLAGS := $(CFLAGS) -std=c++17 -Wall -Wextra -D_GNU_SOURCE -pthread -Ibench/oop -I$(OOP)

bench-oop: $(AMIDL) runtime
	@mkdir -p $(OOP)
	@for c in $(OOP_NAMES); do \
	    $(MAKE) -s --no-print-directory $(OOP)/$$c > $(OOP)/$$c.build.log 2>&1 \
	        || { rm -f $(OOP)/$$c; echo "bench-oop: $$c did not build (see $(OOP)/$$c.build.log)"; }; \
	done
	@python3 bench/oop/oop.py $(OOP)

.PHONY: bench-oop

$(OOP)/harness.o: bench/oop/harness.c bench/oop/harness.h
	@mkdir -p $(dir $@)
	$(CC) $(OOP_CFLAGS) -c -o $@ $<

$(OOP)/sock $(OOP)/epoll: $(OOP)/%: bench/oop/%.c bench/oop/harness.h $(OOP)/harness.o
	$(CC) $(OOP_CFLAGS) -o $@ $< $(OOP)/harness.o

$(OOP)/sdbus: bench/oop/sdbus.c bench/oop/harness.h $(OOP)/harness.o
	$(CC) $(OOP_CFLAGS) $$(pkg-config --cflags libsystemd) -o $@ $< $(OOP)/harness.o $$(pkg-config --libs libsystemd)

$(OOP)/gdbus-gen.c $(OOP)/gdbus-gen.h &: bench/oop/gdbus-bench.xml
	@mkdir -p $(OOP)
	cd $(OOP) && gdbus-codegen --generate-c-code gdbus-gen --c-namespace Oop --interface-prefix org.amidl. \
	    $(abspath $<)

# (the generated code is not held to -Werror)
$(OOP)/gdbus-gen.o: $(OOP)/gdbus-gen.c $(OOP)/gdbus-gen.h
	$(CC) $(CFLAGS) -w $$(pkg-config --cflags gio-2.0 gio-unix-2.0) -c -o $@ $<

$(OOP)/gdbus: bench/oop/gdbus.c bench/oop/harness.h $(OOP)/harness.o $(OOP)/gdbus-gen.o
	$(CC) $(OOP_CFLAGS) $$(pkg-config --cflags gio-2.0 gio-unix-2.0) -o $@ $< $(OOP)/gdbus-gen.o \
	    $(OOP)/harness.o $$(pkg-config --libs gio-2.0 gio-unix-2.0)

$(OOP)/grpc_bench.pb.cc $(OOP)/grpc_bench.pb.h $(OOP)/grpc_bench.grpc.pb.cc $(OOP)/grpc_bench.grpc.pb.h &: \
        bench/oop/grpc_bench.proto
	@mkdir -p $(OOP)
	protoc -Ibench/oop --cpp_out=$(OOP) --grpc_out=$(OOP) --plugin=protoc-gen-grpc=$$(command -v grpc_cpp_plugin) $<

$(OOP)/grpc: bench/oop/grpc.cc bench/oop/harness.h $(OOP)/harness.o $(OOP)/grpc_bench.pb.cc $(OOP)/grpc_bench.grpc.pb.cc
	$(CXX) $(OOP_CXXFLAGS) $$(pkg-config --cflags grpc++ protobuf) -o $@ $< $(OOP)/grpc_bench.pb.cc \
	    $(OOP)/grpc_bench.grpc.pb.cc $(OOP)/harness.o $$(pkg-config --libs grpc++ protobuf)

$(OOP)/capnp_bench.capnp.c++ $(OOP)/capnp_bench.capnp.h &: bench/oop/capnp_bench.capnp
	@mkdir -p $(OOP)
	capnp compile -oc++:$(OOP) --src-prefix=bench/oop $<

$(OOP)/capnp: bench/oop/capnp.cc bench/oop/harness.h $(OOP)/harness.o $(OOP)/capnp_bench.capnp.c++
	$(CXX) $(OOP_CXXFLAGS) $$(pkg-config --cflags capnp-rpc kj-async) -o $@ $< $(OOP)/capnp_bench.capnp.c++ \
	    $(OOP)/harness.o $$(pkg-config --libs capnp-rpc kj-async)

$(OOP)/oopcalc.h $(OOP)/oopcalc_i.c $(OOP)/oopcalc_async.c &: bench/oop/oopcalc.idl $(AMIDL)
	@mkdir -p $(OOP)
	$(AMIDL) -I runtime/idl --outdir $(OOP) $<

$(OOP)/amidl: bench/oop/amidl.c bench/oop/harness.h $(OOP)/harness.o $(OOP)/oopcalc.h $(OOP)/oopcalc_i.c \
        $(OOP)/oopcalc_async.c $(BUILD)/lib/libamidlrt.a
	$(CC) $(OOP_CFLAGS) -Iruntime/include -I$(RT_GEN) -o $@ $< $(OOP)/oopcalc_i.c $(OOP)/oopcalc_async.c \
	    $(OOP)/harness.o $(BUILD)/lib/libamidlrt.a

.SECONDARY: $(OOP)/gdbus-gen.c $(OOP)/gdbus-gen.h $(OOP)/oopcalc.h $(OOP)/oopcalc_i.c $(OOP)/oopcalc_async.c \
    $(OOP)/grpc_bench.pb.cc $(OOP)/grpc_bench.grpc.pb.cc $(OOP)/capnp_bench.capnp.c++
