# amidl - top-level Makefile.
#   make            build bin/amidl (and the runtime, once it exists)
#   make test       run every test; ends with "N passed, N failed"
#   make bench      run the benchmarks
#   make clean      remove everything generated (build/ and bin/)

CC       ?= cc
CFLAGS   ?= -O2 -g
WARN     := -std=c11 -Wall -Wextra -Werror
CPPFLAGS += -D_GNU_SOURCE -Igrammar -Icodegen -I$(BUILD)/grammar
BUILD    := build
BISON    ?= bison
FLEX     ?= flex

SHARED   ?= ../shared

FRONT_SRCS := grammar/util.c grammar/diag.c grammar/pp.c grammar/ast.c grammar/sema.c
CODEGEN_SRCS := codegen/emit_header.c codegen/emit_protos.c codegen/emit_iid.c codegen/emit_glue.c
GEN_SRCS := $(BUILD)/grammar/parser.c $(BUILD)/grammar/lexer.c

FRONT_OBJS := $(FRONT_SRCS:%.c=$(BUILD)/%.o) $(GEN_SRCS:%.c=%.o) $(CODEGEN_SRCS:%.c=$(BUILD)/%.o)
MAIN_OBJ := $(BUILD)/codegen/main.o

.PHONY: all test bench clean golden-update
all: bin/amidl

bin/amidl: $(FRONT_OBJS) $(MAIN_OBJ)
	@mkdir -p bin
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^

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
$(BUILD)/grammar/lexer.o: $(BUILD)/grammar/lexer.c $(BUILD)/grammar/parser.h
	$(CC) $(CFLAGS) $(CPPFLAGS) -std=c11 -Wall -Werror -Wno-unused-function -Wno-sign-compare -c -o $@ $<

$(BUILD)/grammar/parser.o: $(BUILD)/grammar/parser.c $(BUILD)/grammar/lexer.h
	$(CC) $(CFLAGS) $(CPPFLAGS) $(WARN) -c -o $@ $<

$(BUILD)/%.o: %.c grammar/amidl.h grammar/parse.h grammar/attrs.def codegen/emit.h $(BUILD)/grammar/parser.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CPPFLAGS) $(WARN) -c -o $@ $<

include tests/tests.mk

clean:
	rm -rf $(BUILD) bin
