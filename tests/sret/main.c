/* tests/sret: every caller against every object: C into C++, C++ into C,
 * and each language into itself. Prints ok/FAIL lines and a summary. */
#define COBJMACROS
#include <stdio.h>
#include "sret_test.h"

static int passed, failed;

void sret_report(const char *who, const char *what, int good)
{
    printf("%s %s: %s\n", good ? "ok" : "FAIL", who, what);
    if (good)
        passed++;
    else
        failed++;
}

int main(void)
{
    ISret2 *c = sret_make_c(), *cxx = sret_make_cxx();
    if (!c || !cxx) {
        printf("FAIL creating the objects\n0 passed, 1 failed\n");
        return 1;
    }
    sret_call_c(cxx, "C caller, C++ object");
    sret_call_c_inline(cxx, "C caller (inline wrappers), C++ object");
    sret_call_cxx(c, "C++ caller, C object");
    sret_call_c(c, "C caller, C object");
    sret_call_cxx(cxx, "C++ caller, C++ object");
    sret_report("release", "both objects", ISret2_Release(c) == 0 && ISret2_Release(cxx) == 0);
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
