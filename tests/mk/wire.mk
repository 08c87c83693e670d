# the wire codec's suite (tests/suites/wire.sh): the round trips, and the
# decoder's fuzz harness without libFuzzer (gcc) replaying fuzz/wire-seeds
SUITE_BINS += $(BUILD)/tests/test-wire $(BUILD)/tests/wire-replay

.SECONDARY: $(TEST_GEN)/wiretest.h $(TEST_GEN)/wiretest_i.c $(TEST_GEN)/wiretest_async.c

$(TEST_GEN)/wiretest.h $(TEST_GEN)/wiretest_i.c $(TEST_GEN)/wiretest_async.c: tests/wire/wiretest.idl $(AMIDL)
	@mkdir -p $(TEST_GEN)
	$(AMIDL) -I runtime/idl --outdir $(TEST_GEN) $<

WIRE_GLUE = $(TEST_GEN)/kinds_i.c $(TEST_GEN)/kinds_async.c $(TEST_GEN)/wiretest_i.c $(TEST_GEN)/wiretest_async.c

WIRE_CFLAGS = $(CFLAGS) -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -pthread -Iruntime/include -Iruntime/src \
              -I$(RT_GEN) -I$(TEST_GEN)

$(BUILD)/tests/test-wire: tests/wire/test-wire.c tests/runtime/task.h runtime/src/wire.h $(TEST_GEN)/kinds.h $(TEST_GEN)/wiretest.h \
        $(DEEP_SERVER) $(BUILD)/lib/libamidlrt.a
	@mkdir -p $(dir $@)
	$(CC) $(WIRE_CFLAGS) -Itests/runtime -Itests/e2e $(LDFLAGS) -o $@ $< tests/e2e/deep_server.c $(WIRE_GLUE) $(BUILD)/lib/libamidlrt.a

$(BUILD)/tests/wire-replay: fuzz/fuzz_wire.c runtime/src/wire.h $(TEST_GEN)/kinds.h $(TEST_GEN)/wiretest.h $(BUILD)/lib/libamidlrt.a
	@mkdir -p $(dir $@)
	$(CC) $(WIRE_CFLAGS) -DWIRE_REPLAY_MAIN $(LDFLAGS) -o $@ $< $(WIRE_GLUE) $(BUILD)/lib/libamidlrt.a

# ---- the decoder under libFuzzer, ASan and UBSan (clang), in build/fuzz:
#   make fuzz-wire           build build/fuzz/fuzz_wire
#   make fuzz-wire-run       fuzz it for FUZZ_SECONDS (600) from fuzz/wire-seeds
#   make fuzz-wire-seeds     rewrite fuzz/wire-seeds from the round trips of test-wire
# The fuzz-replay suite replays fuzz/wire-seeds with it. (The variables of
# tests.mk's fuzz part are not defined yet here: targets spell them out.)
$(BUILD)/fuzz/fuzz_wire: fuzz/fuzz_wire.c $(AMIDL) $(RT_SRCS) runtime/src/wire.h runtime/src/interp.h runtime/src/internal.h \
        runtime/include/amidlrt.h runtime/include/amidlrt_glue.h tests/e2e/kinds.idl tests/wire/wiretest.idl \
        $(FRONT_SRCS) $(CODEGEN_SRCS)
	@ASAN_OPTIONS=detect_leaks=0 $(MAKE) -s --no-print-directory BUILD=$(BUILD)/fuzz AMIDL=$(BUILD)/fuzz/amidl CC=clang \
	    CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link $(FUZZ_SAN)" \
	    $(BUILD)/fuzz/lib/libamidlrt.a $(BUILD)/fuzz/tests/gen/kinds.h $(BUILD)/fuzz/tests/gen/wiretest.h
	clang -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer $(FUZZ_SAN) -std=c11 -D_GNU_SOURCE -pthread \
	    -Iruntime/include -Iruntime/src -I$(BUILD)/fuzz/runtime/include -I$(BUILD)/fuzz/tests/gen -o $@ $< \
	    $(BUILD)/fuzz/tests/gen/kinds_i.c $(BUILD)/fuzz/tests/gen/kinds_async.c \
	    $(BUILD)/fuzz/tests/gen/wiretest_i.c $(BUILD)/fuzz/tests/gen/wiretest_async.c $(BUILD)/fuzz/lib/libamidlrt.a

fuzz-wire: $(BUILD)/fuzz/fuzz_wire

fuzz-wire-run: $(BUILD)/fuzz/fuzz_wire
	@mkdir -p $(BUILD)/fuzz/wire-corpus
	$(BUILD)/fuzz/fuzz_wire -dict=fuzz/wire.dict -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
	    -artifact_prefix=$(BUILD)/fuzz/wire- $(BUILD)/fuzz/wire-corpus fuzz/wire-seeds

fuzz-wire-seeds: $(BUILD)/tests/test-wire
	@rm -rf $(BUILD)/wire-seeds && mkdir -p $(BUILD)/wire-seeds
	AMRT_WIRE_SEEDS=$(BUILD)/wire-seeds $(BUILD)/tests/test-wire >/dev/null
	@mkdir -p fuzz/wire-seeds && rm -f fuzz/wire-seeds/I*-* && cp $(BUILD)/wire-seeds/* fuzz/wire-seeds/
	@ls fuzz/wire-seeds | wc -l

suite-fuzz-replay: $(BUILD)/fuzz/fuzz_wire

.PHONY: fuzz-wire fuzz-wire-run fuzz-wire-seeds
