# tests/tests.mk - test targets (included by the top-level Makefile).

UNIT_TESTS := $(BUILD)/tests/test_pp

$(BUILD)/tests/test_pp: tests/unit/test_pp.c $(BUILD)/libamidlfe.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CPPFLAGS) $(WARN) -o $@ $< $(BUILD)/libamidlfe.a

test: bin/amidl $(UNIT_TESTS)
	@SHARED=$(SHARED) BUILD=$(BUILD) bash tests/run.sh

$(BUILD)/bench/run1: bench/run1.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -D_GNU_SOURCE -o $@ $<

bench: bin/amidl $(BUILD)/bench/run1
	@SHARED=$(SHARED) bash bench/run.sh

# rewrite the golden expectations from the current compiler (review the diff)
golden-update: bin/amidl
	@for idl in tests/golden/*.idl; do bin/amidl -w --no-glue --outdir tests/golden $$idl || exit 1; done
	@git status --short tests/golden
