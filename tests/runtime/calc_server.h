/* calc_server.h - the plain ICalc server the call-object tests drive
 * (test-callobj.c, test-stress.c): it implements only the synchronous
 * interface; its Slow method polls CoTestCancel() every calc_slow_step_ns. */
#ifndef CALC_SERVER_H
#define CALC_SERVER_H

#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include "calltest.h"

static long calc_slow_step_ns = 2000000;
/* non-zero: Slow waits until it is 0 again before it starts (1 ms naps,
 * at most 60 s): a test knows the call cannot be done meanwhile */
static atomic_int calc_slow_gate;

typedef struct Calc { ICalc iface; atomic_long refs; atomic_long calls; } Calc;
static atomic_long live;

static HRESULT STDMETHODCALLTYPE c_qi(ICalc *This, REFIID riid, void **ppv)
{
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_ICalc)) { *ppv = This; ICalc_AddRef(This); return S_OK; }
    *ppv = NULL;
    return E_NOINTERFACE;
}
static ULONG STDMETHODCALLTYPE c_addref(ICalc *This) { return (ULONG)atomic_fetch_add(&((Calc *)This)->refs, 1) + 1; }
static ULONG STDMETHODCALLTYPE c_release(ICalc *This)
{
    long r = atomic_fetch_sub(&((Calc *)This)->refs, 1) - 1;
    if (!r) { free(This); atomic_fetch_sub(&live, 1); }
    return (ULONG)r;
}
static HRESULT STDMETHODCALLTYPE c_add(ICalc *This, LONG a, LONG b, LONG *sum)
{
    atomic_fetch_add(&((Calc *)This)->calls, 1);
    *sum = a + b;
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE c_slow(ICalc *This, DWORD ms, LONG *canceled)
{
    (void)This;
    for (int i = 0; i < 60000 && atomic_load(&calc_slow_gate); i++) {
        struct timespec nap = { 0, 1000000 };
        nanosleep(&nap, NULL);
    }
    double end = now_ms() + ms;
    *canceled = 0;
    while (now_ms() < end) {
        if (CoTestCancel() == RPC_E_CALL_CANCELED) {   /* the server polls for cancellation (D11) */
            *canceled = 1;
            return RPC_E_CALL_CANCELED;
        }
        struct timespec ts = { 0, calc_slow_step_ns };
        nanosleep(&ts, NULL);
    }
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE c_concat(ICalc *This, LPCWSTR a, LPCWSTR b, LPWSTR *result)
{
    (void)This;
    size_t na = 0, nb = 0;
    while (a[na]) na++;
    while (b[nb]) nb++;
    WCHAR *r = CoTaskMemAlloc((na + nb + 1) * sizeof(WCHAR));   /* the caller frees it */
    if (!r) return E_OUTOFMEMORY;
    memcpy(r, a, na * sizeof(WCHAR));
    memcpy(r + na, b, (nb + 1) * sizeof(WCHAR));
    *result = r;
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE c_sum(ICalc *This, ULONG n, const BYTE *data, ULONG *sum)
{
    (void)This;
    ULONG s = 0;
    for (ULONG i = 0; i < n; i++) s += data[i];
    *sum = s;
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE c_twice(ICalc *This, LONG *v) { (void)This; *v *= 2; return S_OK; }
static HRESULT STDMETHODCALLTYPE c_self(ICalc *This, IUnknown **obj) { *obj = (IUnknown *)This; ICalc_AddRef(This); return S_OK; }
static HRESULT STDMETHODCALLTYPE c_fail(ICalc *This, HRESULT hr) { (void)This; return hr; }
static ULONG STDMETHODCALLTYPE c_count(ICalc *This) { return (ULONG)atomic_load(&((Calc *)This)->calls); }
static ICalcVtbl calc_vtbl = { c_qi, c_addref, c_release, c_add, c_slow, c_concat, c_sum, c_twice, c_self, c_fail, c_count };

static ICalc *new_calc(void)
{
    Calc *c = calloc(1, sizeof *c);
    c->iface.lpVtbl = &calc_vtbl;
    atomic_init(&c->refs, 1);
    atomic_fetch_add(&live, 1);
    return &c->iface;
}

/* A call object for AsyncICalc from px's ICallFactory; the first failure. */
static HRESULT calc_call(ICalc *px, AsyncICalc **call)
{
    ICallFactory *f;
    *call = NULL;
    HRESULT hr = ICalc_QueryInterface(px, &IID_ICallFactory, (void **)&f);
    if (FAILED(hr))
        return hr;
    hr = ICallFactory_CreateCall(f, &IID_AsyncICalc, NULL, &IID_AsyncICalc, (IUnknown **)call);
    ICallFactory_Release(f);
    return hr;
}

#endif
