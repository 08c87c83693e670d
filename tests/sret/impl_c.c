/* tests/sret: an ISret2 object written in C against the header's C view. */
#include <stdlib.h>
#include "sret_test.h"

typedef struct CSret {
    ISret2 iface;
    LONG refs;
    LONG bias;              /* read through This: a wrong This gives wrong results */
} CSret;

static CSret *impl(ISret2 *This)
{
    return (CSret *)This;
}

static HRESULT STDMETHODCALLTYPE c_QueryInterface(ISret2 *This, REFIID riid, void **ppv)
{
    (void)riid;
    *ppv = This;
    This->lpVtbl->AddRef(This);
    return SRET_S_OK;
}

static ULONG STDMETHODCALLTYPE c_AddRef(ISret2 *This)
{
    return (ULONG)++impl(This)->refs;
}

static ULONG STDMETHODCALLTYPE c_Release(ISret2 *This)
{
    LONG n = --impl(This)->refs;
    if (n == 0)
        free(impl(This));
    return (ULONG)n;
}

static SMALL STDMETHODCALLTYPE c_GetSmall(ISret2 *This, LONG base)
{
    return sret_small(base + impl(This)->bias);
}

static FLOATS STDMETHODCALLTYPE c_GetFloats(ISret2 *This, float scale)
{
    return sret_floats(scale + (float)impl(This)->bias);
}

static MIXED STDMETHODCALLTYPE c_GetMixed(ISret2 *This, double d, LONG n)
{
    return sret_mixed(d, n + impl(This)->bias);
}

static PAIR STDMETHODCALLTYPE c_GetPair(ISret2 *This, LONGLONG a)
{
    return sret_pair(a + impl(This)->bias);
}

static BIG STDMETHODCALLTYPE c_GetBig(ISret2 *This, LONG first, LONG step)
{
    return sret_big(first + impl(This)->bias, step);
}

static TINY STDMETHODCALLTYPE c_GetTiny(ISret2 *This)
{
    (void)This;
    return sret_tiny();
}

static NUMBER STDMETHODCALLTYPE c_GetNumber(ISret2 *This, LONG i)
{
    return sret_number(i + impl(This)->bias);
}

static LONG STDMETHODCALLTYPE c_Check(ISret2 *This, SMALL s, BIG b)
{
    return sret_check(s, b) + impl(This)->bias;
}

static BIG STDMETHODCALLTYPE c_Twice(ISret2 *This, BIG b)
{
    b.v[0] += impl(This)->bias;
    return sret_twice(b);
}

static HRESULT STDMETHODCALLTYPE c_Plain(ISret2 *This, LONG *out)
{
    *out = 42 + impl(This)->bias;
    return SRET_S_OK;
}

static const ISret2Vtbl c_vtbl = {
    c_QueryInterface, c_AddRef, c_Release,
    c_GetSmall, c_GetFloats, c_GetMixed, c_GetPair, c_GetBig, c_GetTiny, c_GetNumber, c_Check,
    c_Twice, c_Plain,
};

ISret2 *sret_make_c(void)
{
    CSret *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->iface.lpVtbl = (ISret2Vtbl *)&c_vtbl;
    o->refs = 1;
    o->bias = 100;
    return &o->iface;
}
