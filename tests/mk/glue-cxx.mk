# the glue compiled as C++ (tests/suites/glue-cxx.sh): test-e2e, a C program,
# linked with kinds_async.c compiled by g++ -std=c++11
SUITE_BINS += $(BUILD)/tests/test-e2e-cxx

$(BUILD)/tests/kinds_async_cxx.o: $(TEST_GEN)/kinds_async.c $(TEST_GEN)/kinds.h
	@mkdir -p $(dir $@)
	$(CXX) $(CFLAGS) -std=c++11 -Wall -Wextra -Werror -x c++ -Iruntime/include -I$(RT_GEN) -I$(TEST_GEN) -c -o $@ $<

$(BUILD)/tests/test-e2e-cxx: tests/runtime/test-e2e.c tests/runtime/task.h $(TEST_GEN)/kinds.h $(DEEP_SERVER) $(BUILD)/tests/kinds_async_cxx.o $(BUILD)/lib/libamidlrt.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -pthread -Iruntime/include -I$(RT_GEN) -I$(TEST_GEN) -Itests/e2e \
	    -o $@ $< tests/e2e/deep_server.c $(TEST_GEN)/kinds_i.c $(BUILD)/tests/kinds_async_cxx.o $(BUILD)/lib/libamidlrt.a -lm
