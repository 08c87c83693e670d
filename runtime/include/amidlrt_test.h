/*
 * amidlrt_test.h - the test hooks of libamidlrt, for the runtime's own
 * tests and benchmarks; programs do not need them.
 */
#ifndef AMIDLRT_TEST_H
#define AMIDLRT_TEST_H

#include "amidlrt.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The one allocator of the runtime, with failure injection:
 * After AmrtFailAllocationAfter(n), the allocation after n more successful
 * ones fails (and every later one succeeds again); n < 0 switches it off.
 * Returns the number of allocations made since the last call. */
AMIDLRT_API long AmrtFailAllocationAfter(long n);

#ifdef __cplusplus
}
#endif

#endif
