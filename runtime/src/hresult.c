/*
 * hresult.c - AmrtHresultName: the names of amidlrt.h's HRESULT table.
 */
#include "internal.h"

const char *AmrtHresultName(HRESULT hr)
{
#define AMRT_HR_NAME_(name, value) if (hr == _HRESULT_TYPEDEF_(value)) return #name;
    AMRT_HRESULTS(AMRT_HR_NAME_)
#undef AMRT_HR_NAME_
    static __thread char hex[16];
    snprintf(hex, sizeof hex, "0x%08X", (unsigned)hr);
    return hex;
}
