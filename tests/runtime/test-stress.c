/* test-stress.c - 8 client threads, each mixing on its own call objects:
 * Begin/Wait/Finish, Wait timeouts, release without Finish_, Cancel, reuse,
 * synchronous calls through the shared proxy. Checks every result, and
 * that every object is gone at the end. AMRT_STRESS_CALLS sets the calls
 * per thread (default 2000; the full size is 50000). */
#include "task.h"
#include "calltest.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

typedef struct Calc { ICalc iface; atomic_long refs; } Calc;
static atomic_long live, errors;

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
static HRESULT STDMETHODCALLTYPE c_add(ICalc *This, LONG a, LONG b, LONG *sum) { (void)This; *sum = a + b; return S_OK; }
static HRESULT STDMETHODCALLTYPE c_slow(ICalc *This, DWORD ms, LONG *canceled)
{
    (void)This;
    *canceled = 0;
    for (DWORD i = 0; i < ms; i++) {
        if (CoTestCancel() == RPC_E_CALL_CANCELED) { *canceled = 1; return RPC_E_CALL_CANCELED; }
        struct timespec ts = { 0, 100000 };
        nanosleep(&ts, NULL);
    }
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE c_concat(ICalc *This, LPCWSTR a, LPCWSTR b, LPWSTR *r)
{
    (void)This;
    size_t na = 0, nb = 0;
    while (a[na]) na++;
    while (b[nb]) nb++;
    WCHAR *s = CoTaskMemAlloc((na + nb + 1) * sizeof(WCHAR));
    memcpy(s, a, na * sizeof(WCHAR));
    memcpy(s + na, b, (nb + 1) * sizeof(WCHAR));
    *r = s;
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE c_sum(ICalc *This, ULONG n, const BYTE *d, ULONG *s)
{
    (void)This;
    ULONG t = 0;
    for (ULONG i = 0; i < n; i++) t += d[i];
    *s = t;
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE c_twice(ICalc *This, LONG *v) { (void)This; *v *= 2; return S_OK; }
static HRESULT STDMETHODCALLTYPE c_self(ICalc *This, IUnknown **o) { *o = (IUnknown *)This; ICalc_AddRef(This); return S_OK; }
static HRESULT STDMETHODCALLTYPE c_fail(ICalc *This, HRESULT hr) { (void)This; return hr; }
static ULONG STDMETHODCALLTYPE c_count(ICalc *This) { (void)This; return 7; }
static ICalcVtbl vtbl = { c_qi, c_addref, c_release, c_add, c_slow, c_concat, c_sum, c_twice, c_self, c_fail, c_count };

static ICalc *shared_proxy;
static int per_thread = 2000;

#define CHECKED(cond) do { if (!(cond)) { atomic_fetch_add(&errors, 1); fprintf(stderr, "stress: %s:%d: %s\n", __FILE__, __LINE__, #cond); } } while (0)

static AsyncICalc *new_call(void)
{
    ICallFactory *f;
    AsyncICalc *c = NULL;
    if (FAILED(ICalc_QueryInterface(shared_proxy, &IID_ICallFactory, (void **)&f)))
        return NULL;
    ICallFactory_CreateCall(f, &IID_AsyncICalc, NULL, &IID_AsyncICalc, (IUnknown **)&c);
    ICallFactory_Release(f);
    return c;
}

static void *client(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg * 7919u + 1;
    AsyncICalc *call = new_call();
    for (int i = 0; i < per_thread; i++) {
        if (!call)
            call = new_call();
        int op = (int)(rand_r(&seed) % 8);
        LONG a = (LONG)(rand_r(&seed) % 1000), b = (LONG)(rand_r(&seed) % 1000), sum = -1;
        switch (op) {
        case 0: case 1:         /* begin / finish, reuse */
            CHECKED(AsyncICalc_Begin_Add(call, a, b) == S_OK);
            CHECKED(AsyncICalc_Finish_Add(call, &sum) == S_OK && sum == a + b);
            break;
        case 2: {               /* wait with timeouts first */
            ISynchronize *s;
            CHECKED(AsyncICalc_Begin_Slow(call, 3) == S_OK);
            CHECKED(AsyncICalc_QueryInterface(call, &IID_ISynchronize, (void **)&s) == S_OK);
            HRESULT hr;
            while ((hr = ISynchronize_Wait(s, 0, 1)) == RPC_E_TIMEOUT)
                ;
            CHECKED(hr == S_OK);
            ISynchronize_Release(s);
            LONG c;
            CHECKED(AsyncICalc_Finish_Slow(call, &c) == S_OK);
            break;
        }
        case 3: {               /* release without Finish_ */
            LPCWSTR x = (LPCWSTR)u"left", y = (LPCWSTR)u" behind";
            CHECKED(AsyncICalc_Begin_Concat(call, x, y) == S_OK);
            AsyncICalc_Release(call);
            call = NULL;
            break;
        }
        case 4: {               /* cancel */
            ICancelMethodCalls *cm;
            LONG c = 0;
            CHECKED(AsyncICalc_Begin_Slow(call, 20) == S_OK);
            CHECKED(AsyncICalc_QueryInterface(call, &IID_ICancelMethodCalls, (void **)&cm) == S_OK);
            HRESULT hr = ICancelMethodCalls_Cancel(cm, 0);
            CHECKED(hr == S_OK || hr == RPC_E_CALL_COMPLETE);
            hr = AsyncICalc_Finish_Slow(call, &c);
            CHECKED(hr == RPC_E_CALL_CANCELED || hr == S_OK);
            ICancelMethodCalls_Release(cm);
            break;
        }
        case 5: {               /* strings in and out */
            LPWSTR r = NULL;
            CHECKED(AsyncICalc_Begin_Concat(call, (LPCWSTR)u"ab", (LPCWSTR)u"c") == S_OK);
            CHECKED(AsyncICalc_Finish_Concat(call, &r) == S_OK && r && r[0] == 'a' && r[2] == 'c' && r[3] == 0);
            CoTaskMemFree(r);
            break;
        }
        case 6: {               /* [in,out] and interface out */
            LONG v = a;
            IUnknown *o = NULL;
            CHECKED(AsyncICalc_Begin_Twice(call, &v) == S_OK);
            CHECKED(AsyncICalc_Finish_Twice(call, &v) == S_OK && v == 2 * a);
            CHECKED(AsyncICalc_Begin_Self(call) == S_OK);
            CHECKED(AsyncICalc_Finish_Self(call, &o) == S_OK && o);
            if (o) IUnknown_Release(o);
            break;
        }
        case 7:                 /* a synchronous call through the proxy */
            CHECKED(ICalc_Add(shared_proxy, a, b, &sum) == S_OK && sum == a + b);
            break;
        }
    }
    if (call)
        AsyncICalc_Release(call);
    return NULL;
}

TEST(stress_8_threads)
{
    const char *n = getenv("AMRT_STRESS_CALLS");
    if (n && atoi(n) > 0)
        per_thread = atoi(n);
    ASSERT_HR(S_OK, CoInitializeEx(NULL, COINIT_MULTITHREADED));
    Calc *c = calloc(1, sizeof *c);
    c->iface.lpVtbl = &vtbl;
    atomic_init(&c->refs, 1);
    atomic_fetch_add(&live, 1);
    ASSERT_HR(S_OK, AmrtCreateProxy((IUnknown *)&c->iface, &IID_ICalc, (void **)&shared_proxy));
    ICalc_Release(&c->iface);
    pthread_t t[8];
    for (int i = 0; i < 8; i++)
        pthread_create(&t[i], NULL, client, (void *)(uintptr_t)i);
    for (int i = 0; i < 8; i++)
        pthread_join(t[i], NULL);
    ICalc_Release(shared_proxy);
    CoUninitialize();                   /* waits for the calls released without Finish_ */
    ASSERT_EQ(atomic_load(&errors), 0);
    ASSERT_EQ(atomic_load(&live), 0);
}

RUN_TESTS(ENTRY(stress_8_threads))
