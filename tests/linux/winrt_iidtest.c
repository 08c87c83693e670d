/* tests/suites/winrt.sh: a program using the IIDs that
 * tests/golden/winrt_iids.h declares, linked with winrt_iids_i.c (and,
 * built with -DWITH_INITGUID_TU, with a second unit that defines them
 * too through INITGUID): each IID is the one widl writes. Prints "ok". */
#include "winrt_iids.h"
#include <stdio.h>
#include <string.h>

static int same(const IID *a, unsigned long d1, unsigned d2, unsigned d3, const char *d4)
{
    return a->Data1 == d1 && a->Data2 == d2 && a->Data3 == d3 && !memcmp(a->Data4, d4, 8);
}

int main(void)
{
    int ok = same(&IID___x_ABI_CWindows_CFoundation_CIClosable, 0x30d5a829, 0x7fa4, 0x4026, "\x83\xbb\xd7\x5b\xae\x4e\xa9\x9e")
          && same(&IID___FIReference_1_INT32, 0x548cefbd, 0xbc8a, 0x5fa0, "\x8d\xf2\x95\x74\x40\xfc\x8b\xf4")
          && same(&IID___FIReference_1_DOUBLE, 0x2f2d6c29, 0x5473, 0x5f3e, "\x92\xe7\x96\x57\x2b\xb9\x90\xe2")
          && same(&IID___FIEventHandler_1_IInspectable, 0xc50898f6, 0xc536, 0x5f47, "\x85\x83\x8b\x2c\x24\x38\xa1\x3b")
          && same(&IID_IInspectable, 0xaf86e2e0, 0xb12d, 0x4c6a, "\x9c\x5a\xd7\xaa\x65\x10\x1e\x90");
    puts(ok ? "ok" : "wrong IIDs");
    return !ok;
}
