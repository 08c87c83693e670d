# the two-process suite (tests/suites/oop.sh, RULES.md J): a server and a client executable
SUITE_BINS += $(BUILD)/tests/oop-server $(BUILD)/tests/oop-client

$(TEST_GEN)/oop.h $(TEST_GEN)/oop_i.c $(TEST_GEN)/oop_async.c: tests/oop/oop.idl $(AMIDL)
	@mkdir -p $(TEST_GEN)
	$(AMIDL) -I runtime/idl --outdir $(TEST_GEN) $<

.SECONDARY: $(TEST_GEN)/oop.h $(TEST_GEN)/oop_i.c $(TEST_GEN)/oop_async.c

$(BUILD)/tests/oop-server $(BUILD)/tests/oop-client: $(BUILD)/tests/oop-%: tests/oop/oop-%.c $(TEST_GEN)/oop.h tests/oop/oop_serve.c tests/oop/oop_serve.h $(BUILD)/lib/libamidlrt.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -pthread -Iruntime/include -Iruntime/src -I$(RT_GEN) -I$(TEST_GEN) -Itests/oop \
	    -o $@ $< tests/oop/oop_serve.c $(TEST_GEN)/oop_i.c $(TEST_GEN)/oop_async.c $(BUILD)/lib/libamidlrt.a

# tests/e2e/kinds.idl's kinds across the boundary (one executable, server and client roles)
SUITE_BINS += $(BUILD)/tests/oop-kinds

# tests/oop/oop_serve.c: the test servers' class factory and serving loop
OOP_SERVE := tests/oop/oop_serve.c tests/oop/oop_serve.h

$(BUILD)/tests/oop-kinds: tests/oop/oop-kinds.c $(TEST_GEN)/kinds.h $(DEEP_SERVER) $(OOP_SERVE) $(BUILD)/lib/libamidlrt.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -pthread -Iruntime/include -I$(RT_GEN) -I$(TEST_GEN) -Itests/e2e -Itests/oop \
	    -o $@ $< tests/e2e/deep_server.c tests/oop/oop_serve.c $(TEST_GEN)/kinds_i.c $(TEST_GEN)/kinds_async.c $(BUILD)/lib/libamidlrt.a -lm

# the two-process suite again with ASan+UBSan and TSan builds of its programs (suite oop-sanitize)
OOP_BINS := tests/oop-server tests/oop-client tests/oop-kinds
oop-sanitize-build: $(AMIDL)
	@$(MAKE) -s --no-print-directory BUILD=$(BUILD)/asan AMIDL=$(BUILD)/asan/amidl CC=clang \
	    CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined" \
	    LDFLAGS="-fsanitize=address,undefined" $(OOP_BINS:%=$(BUILD)/asan/%) >/dev/null
	@$(MAKE) -s --no-print-directory BUILD=$(BUILD)/tsan AMIDL=$(BUILD)/tsan/amidl CC=clang \
	    CFLAGS="-O1 -g -fsanitize=thread" LDFLAGS="-fsanitize=thread" $(OOP_BINS:%=$(BUILD)/tsan/%) >/dev/null

suite-oop-sanitize: oop-sanitize-build
.PHONY: oop-sanitize-build

# server-side asynchronous processing across the boundary, CoAddRefServerProcess and friends
# (tests/oop/oop-srvasync.c: one executable, server and client roles)
SUITE_BINS += $(BUILD)/tests/oop-srvasync

$(TEST_GEN)/srvasync.h $(TEST_GEN)/srvasync_i.c $(TEST_GEN)/srvasync_async.c: tests/oop/srvasync.idl $(AMIDL)
	@mkdir -p $(TEST_GEN)
	$(AMIDL) -I runtime/idl --outdir $(TEST_GEN) $<

.SECONDARY: $(TEST_GEN)/srvasync.h $(TEST_GEN)/srvasync_i.c $(TEST_GEN)/srvasync_async.c

$(BUILD)/tests/oop-srvasync: tests/oop/oop-srvasync.c $(TEST_GEN)/srvasync.h $(OOP_SERVE) $(BUILD)/lib/libamidlrt.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -pthread -Iruntime/include -I$(RT_GEN) -I$(TEST_GEN) -Itests/oop \
	    -o $@ $< tests/oop/oop_serve.c $(TEST_GEN)/srvasync_i.c $(TEST_GEN)/srvasync_async.c $(BUILD)/lib/libamidlrt.a

# the sanitizer builds of the oop suite run it too
OOP_BINS += tests/oop-srvasync

# [local] methods with [call_as] twins across the boundary (one executable, server and client roles)
SUITE_BINS += $(BUILD)/tests/oop-callas

$(TEST_GEN)/callas.h $(TEST_GEN)/callas_i.c $(TEST_GEN)/callas_async.c: tests/oop/callas.idl $(AMIDL)
	@mkdir -p $(TEST_GEN)
	$(AMIDL) -I runtime/idl --outdir $(TEST_GEN) $<

.SECONDARY: $(TEST_GEN)/callas.h $(TEST_GEN)/callas_i.c $(TEST_GEN)/callas_async.c

$(BUILD)/tests/oop-callas: tests/oop/oop-callas.c $(TEST_GEN)/callas.h $(OOP_SERVE) $(BUILD)/lib/libamidlrt.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -pthread -Iruntime/include -I$(RT_GEN) -I$(TEST_GEN) -Itests/oop \
	    -o $@ $< tests/oop/oop_serve.c $(TEST_GEN)/callas_i.c $(TEST_GEN)/callas_async.c $(BUILD)/lib/libamidlrt.a
OOP_BINS += tests/oop-callas

# Automation's VARIANT, BSTR and SAFEARRAY across the boundary and through call objects (#13)
SUITE_BINS += $(BUILD)/tests/oop-variant

$(TEST_GEN)/variant.h $(TEST_GEN)/variant_i.c $(TEST_GEN)/variant_async.c: tests/oop/variant.idl $(AMIDL)
	@mkdir -p $(TEST_GEN)
	$(AMIDL) -I runtime/idl --outdir $(TEST_GEN) $<

.SECONDARY: $(TEST_GEN)/variant.h $(TEST_GEN)/variant_i.c $(TEST_GEN)/variant_async.c

$(BUILD)/tests/oop-variant: tests/oop/oop-variant.c $(TEST_GEN)/variant.h $(OOP_SERVE) $(BUILD)/lib/libamidlrt.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -pthread -Iruntime/include -I$(RT_GEN) -I$(TEST_GEN) -Itests/oop \
	    -o $@ $< tests/oop/oop_serve.c $(TEST_GEN)/variant_i.c $(TEST_GEN)/variant_async.c $(BUILD)/lib/libamidlrt.a
OOP_BINS += tests/oop-variant
