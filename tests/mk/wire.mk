# the wire codec's suite (tests/suites/wire.sh)
SUITE_BINS += $(BUILD)/tests/test-wire

$(BUILD)/tests/test-wire: tests/wire/test-wire.c $(TEST_GEN)/kinds.h $(BUILD)/lib/libamidlrt.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -std=c11 -Wall -Wextra -D_GNU_SOURCE -pthread -Iruntime/include -Iruntime/src -I$(RT_GEN) -I$(TEST_GEN) \
	    -o $@ $< $(TEST_GEN)/kinds_i.c $(TEST_GEN)/kinds_async.c $(BUILD)/lib/libamidlrt.a
