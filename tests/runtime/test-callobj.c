/* test-callobj.c - call objects, ICallFactory, proxies and cancellation:
 * one test per rule of RULES.md sections B, D, F and I (named after it). */
#include "task.h"
#include "calltest.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "calc_server.h"

/* a proxy for a fresh object, and a call object on it */
static ICalc *proxy(void)
{
    ASSERT(SUCCEEDED(CoInitializeEx(NULL, COINIT_MULTITHREADED)));
    ICalc *obj = new_calc(), *px = NULL;
    ASSERT_HR(S_OK, AmrtCreateProxy((IUnknown *)obj, &IID_ICalc, (void **)&px));
    ICalc_Release(obj);
    return px;
}

static AsyncICalc *new_call(ICalc *px)
{
    AsyncICalc *call;
    ASSERT_HR(S_OK, calc_call(px, &call));
    return call;
}

static void finish_all(ICalc *px)
{
    ICalc_Release(px);
    CoUninitialize();
    ASSERT_EQ(atomic_load(&live), 0);
}

TEST(B1_B16_no_call_factory_means_no_async)
{
    ASSERT(SUCCEEDED(CoInitializeEx(NULL, COINIT_MULTITHREADED)));
    ICalc *obj = new_calc();
    void *f = (void *)1;
    ASSERT_HR(E_NOINTERFACE, ICalc_QueryInterface(obj, &IID_ICallFactory, &f));   /* a plain object (B16) */
    ICalc_Release(obj);
    ICalc *px = proxy();
    ASSERT_HR(S_OK, ICalc_QueryInterface(px, &IID_ICallFactory, &f));             /* its proxy */
    ICallFactory_Release((ICallFactory *)f);
    finish_all(px);
}

TEST(B2_B3_create_call_results)
{
    ICalc *px = proxy();
    ICallFactory *f;
    IUnknown *call = (IUnknown *)1;
    ASSERT_HR(S_OK, ICalc_QueryInterface(px, &IID_ICallFactory, (void **)&f));
    ASSERT_HR(E_NOINTERFACE, ICallFactory_CreateCall(f, &IID_ICalc, NULL, &IID_IUnknown, &call));  /* not an async IID */
    ASSERT(call == NULL);
    ASSERT_HR(E_POINTER, ICallFactory_CreateCall(f, &IID_AsyncICalc, NULL, &IID_IUnknown, NULL));
    ASSERT_HR(S_OK, ICallFactory_CreateCall(f, &IID_AsyncICalc, NULL, &IID_ISynchronize, &call));  /* typical riid2 */
    IUnknown_Release(call);
    ICallFactory_Release(f);
    finish_all(px);
}

/* an outer object aggregating a call object, intercepting ISynchronize */
typedef struct Outer {
    IUnknown iface;
    ISynchronize sync;
    atomic_long refs;
    IUnknown *inner;
    ISynchronize *inner_sync;
    atomic_int signals, waits, resets;
} Outer;
#define OUTER(p) ((Outer *)((char *)(p) - offsetof(Outer, sync)))
static HRESULT STDMETHODCALLTYPE o_qi(IUnknown *This, REFIID riid, void **ppv)
{
    Outer *o = (Outer *)This;
    if (IsEqualIID(riid, &IID_IUnknown)) { *ppv = This; IUnknown_AddRef(This); return S_OK; }
    if (IsEqualIID(riid, &IID_ISynchronize)) { *ppv = &o->sync; IUnknown_AddRef(This); return S_OK; }
    return IUnknown_QueryInterface(o->inner, riid, ppv);
}
static ULONG STDMETHODCALLTYPE o_addref(IUnknown *This) { return (ULONG)atomic_fetch_add(&((Outer *)This)->refs, 1) + 1; }
static ULONG STDMETHODCALLTYPE o_release(IUnknown *This) { return (ULONG)atomic_fetch_sub(&((Outer *)This)->refs, 1) - 1; }
static IUnknownVtbl o_vtbl = { o_qi, o_addref, o_release };
static HRESULT STDMETHODCALLTYPE os_qi(ISynchronize *This, REFIID riid, void **ppv) { return o_qi(&OUTER(This)->iface, riid, ppv); }
static ULONG STDMETHODCALLTYPE os_addref(ISynchronize *This) { return o_addref(&OUTER(This)->iface); }
static ULONG STDMETHODCALLTYPE os_release(ISynchronize *This) { return o_release(&OUTER(This)->iface); }
static HRESULT STDMETHODCALLTYPE os_wait(ISynchronize *This, DWORD f, DWORD ms)
{
    atomic_fetch_add(&OUTER(This)->waits, 1);
    return ISynchronize_Wait(OUTER(This)->inner_sync, f, ms);
}
static HRESULT STDMETHODCALLTYPE os_signal(ISynchronize *This)
{
    atomic_fetch_add(&OUTER(This)->signals, 1);
    return ISynchronize_Signal(OUTER(This)->inner_sync);
}
static HRESULT STDMETHODCALLTYPE os_reset(ISynchronize *This)
{
    atomic_fetch_add(&OUTER(This)->resets, 1);
    return ISynchronize_Reset(OUTER(This)->inner_sync);
}
static ISynchronizeVtbl os_vtbl = { os_qi, os_addref, os_release, os_wait, os_signal, os_reset };

TEST(B4_B14_aggregated_call_object_uses_the_outer_isynchronize)
{
    ICalc *px = proxy();
    ICallFactory *f;
    Outer o = { { &o_vtbl }, { &os_vtbl }, 1, NULL, NULL, 0, 0, 0 };
    IUnknown *bad = (IUnknown *)1;
    ASSERT_HR(S_OK, ICalc_QueryInterface(px, &IID_ICallFactory, (void **)&f));
    ASSERT_HR(CLASS_E_NOAGGREGATION, ICallFactory_CreateCall(f, &IID_AsyncICalc, &o.iface, &IID_AsyncICalc, &bad));
    ASSERT(bad == NULL);
    ASSERT_HR(S_OK, ICallFactory_CreateCall(f, &IID_AsyncICalc, &o.iface, &IID_IUnknown, &o.inner));
    ICallFactory_Release(f);
    ASSERT_HR(S_OK, IUnknown_QueryInterface(o.inner, &IID_ISynchronize, (void **)&o.inner_sync));
    IUnknown_Release(&o.iface);                 /* QI on the inner counts on the outer */
    AsyncICalc *call;
    ASSERT_HR(S_OK, IUnknown_QueryInterface(&o.iface, &IID_AsyncICalc, (void **)&call));
    LONG sum = 0;
    ASSERT_HR(S_OK, AsyncICalc_Begin_Add(call, 2, 3));
    ASSERT_HR(S_OK, AsyncICalc_Finish_Add(call, &sum));
    ASSERT_EQ(sum, 5);
    ASSERT(atomic_load(&o.resets) >= 1 && atomic_load(&o.signals) >= 1 && atomic_load(&o.waits) >= 1);
    AsyncICalc_Release(call);
    IUnknown_AddRef(&o.iface);
    ISynchronize_Release(o.inner_sync);
    IUnknown_Release(o.inner);
    finish_all(px);
}

/* the flow of "Making an Asynchronous Call": QI ICallFactory, CreateCall
 * asking for IUnknown, Release the factory, QI the call object for the
 * async interface, Begin_, Finish_ */
TEST(B5_client_flow)
{
    ICalc *px = proxy();
    ICallFactory *f = NULL;
    IUnknown *unk = NULL;
    AsyncICalc *call = NULL;
    LONG sum = 0;
    ASSERT_HR(S_OK, ICalc_QueryInterface(px, &IID_ICallFactory, (void **)&f));
    ASSERT_HR(S_OK, ICallFactory_CreateCall(f, &IID_AsyncICalc, NULL, &IID_IUnknown, &unk));
    ICallFactory_Release(f);
    ASSERT_HR(S_OK, IUnknown_QueryInterface(unk, &IID_AsyncICalc, (void **)&call));
    IUnknown_Release(unk);
    ASSERT_HR(S_OK, AsyncICalc_Begin_Add(call, 40, 2));
    ASSERT_HR(S_OK, AsyncICalc_Finish_Add(call, &sum));
    ASSERT_EQ(sum, 42);
    AsyncICalc_Release(call);
    finish_all(px);
}

/* a server that implements ICallFactory but has call objects for nothing */
typedef struct Picky { ICalc iface; ICallFactory factory; ICalc *calc; atomic_long refs; atomic_int asked; } Picky;
#define PICKY(p) ((Picky *)((char *)(p) - offsetof(Picky, factory)))
static HRESULT STDMETHODCALLTYPE pk_qi(ICalc *This, REFIID riid, void **ppv)
{
    Picky *p = (Picky *)This;
    if (IsEqualIID(riid, &IID_ICallFactory)) *ppv = &p->factory;
    else if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_ICalc)) *ppv = &p->iface;
    else { *ppv = NULL; return E_NOINTERFACE; }
    atomic_fetch_add(&p->refs, 1);
    return S_OK;
}
static ULONG STDMETHODCALLTYPE pk_addref(ICalc *This) { return (ULONG)atomic_fetch_add(&((Picky *)This)->refs, 1) + 1; }
static ULONG STDMETHODCALLTYPE pk_release(ICalc *This)
{
    Picky *p = (Picky *)This;
    long r = atomic_fetch_sub(&p->refs, 1) - 1;
    if (!r) { ICalc_Release(p->calc); free(p); }
    return (ULONG)r;
}
static HRESULT STDMETHODCALLTYPE pk_add(ICalc *This, LONG a, LONG b, LONG *sum) { return ICalc_Add(((Picky *)This)->calc, a, b, sum); }
static HRESULT STDMETHODCALLTYPE pk_f_qi(ICallFactory *This, REFIID riid, void **ppv) { return pk_qi(&PICKY(This)->iface, riid, ppv); }
static ULONG STDMETHODCALLTYPE pk_f_addref(ICallFactory *This) { return pk_addref(&PICKY(This)->iface); }
static ULONG STDMETHODCALLTYPE pk_f_release(ICallFactory *This) { return pk_release(&PICKY(This)->iface); }
static HRESULT STDMETHODCALLTYPE pk_f_create(ICallFactory *This, REFIID riid, IUnknown *outer, REFIID riid2, IUnknown **ppv)
{
    (void)riid; (void)outer; (void)riid2;
    atomic_fetch_add(&PICKY(This)->asked, 1);
    *ppv = NULL;
    return E_NOINTERFACE;   /* it "need not provide call objects for every interface" (E1) */
}
static ICallFactoryVtbl pk_f_vtbl = { pk_f_qi, pk_f_addref, pk_f_release, pk_f_create };

/* an ICalc object (Add forwarded to a plain calc) whose ICallFactory is fvt */
static ICalcVtbl pk_vtbl = { pk_qi, pk_addref, pk_release, pk_add, c_slow, c_concat, c_sum, c_twice, c_self, c_fail, c_count };
static ICalc *new_picky(ICallFactoryVtbl *fvt)
{
    Picky *p = calloc(1, sizeof *p);
    p->iface.lpVtbl = &pk_vtbl;
    p->factory.lpVtbl = fvt;
    p->calc = new_calc();
    atomic_init(&p->refs, 1);
    return &p->iface;
}

/* CreateCall is "not guaranteed to succeed": it fails for an interface the
 * object lacks, and for one whose server has no call object; the client then
 * uses the synchronous interface */
TEST(B15_E1_E7_create_call_may_fail_then_use_the_sync_interface)
{
    ICalc *px = proxy();
    ICallFactory *f;
    IUnknown *call = (IUnknown *)1;
    LONG sum = 0;
    ASSERT_HR(S_OK, ICalc_QueryInterface(px, &IID_ICallFactory, (void **)&f));
    ASSERT_HR(E_NOINTERFACE, ICallFactory_CreateCall(f, &IID_AsyncIOther, NULL, &IID_IUnknown, &call));
    ASSERT(call == NULL);
    ICallFactory_Release(f);
    ASSERT_HR(S_OK, ICalc_Add(px, 1, 2, &sum));
    ASSERT_EQ(sum, 3);
    finish_all(px);

    ASSERT(SUCCEEDED(CoInitializeEx(NULL, COINIT_MULTITHREADED)));
    Picky *p = (Picky *)new_picky(&pk_f_vtbl);
    ASSERT_HR(S_OK, AmrtCreateProxy((IUnknown *)&p->iface, &IID_ICalc, (void **)&px));
    ICalc_Release(&p->iface);
    ASSERT_HR(S_OK, ICalc_QueryInterface(px, &IID_ICallFactory, (void **)&f));
    call = (IUnknown *)1;
    ASSERT_HR(E_NOINTERFACE, ICallFactory_CreateCall(f, &IID_AsyncICalc, NULL, &IID_IUnknown, &call));
    ASSERT(call == NULL);
    ASSERT_EQ(atomic_load(&p->asked), 1);   /* the server's own factory was asked (E7) */
    ICallFactory_Release(f);
    sum = 0;
    ASSERT_HR(S_OK, ICalc_Add(px, 20, 22, &sum));
    ASSERT_EQ(sum, 42);
    finish_all(px);
}

/* ---- server-side async (RULES.md E): a server with its own call objects ---- */

/* the server call object: AsyncICalc's Add only; Begin_Add does the work and
 * Signals the ISynchronize of its controlling unknown before returning (E2) */
typedef struct SrvCall {
    IUnknown inner;
    AsyncICalc async;
    atomic_long refs;
    IUnknown *outer;        /* pCtrlUnk (E3), or our own inner (E4) */
    IUnknown *event;        /* the aggregated ManualResetEvent when not aggregated (E4) */
    LONG sum;
} SrvCall;
#define SRVCALL(p, f) ((SrvCall *)((char *)(p) - offsetof(SrvCall, f)))
static atomic_int srv_signals, srv_calls;

static HRESULT STDMETHODCALLTYPE sc_qi(IUnknown *This, REFIID riid, void **ppv)
{
    SrvCall *c = SRVCALL(This, inner);
    if (IsEqualIID(riid, &IID_IUnknown)) *ppv = &c->inner;
    else if (IsEqualIID(riid, &IID_AsyncICalc)) *ppv = &c->async;
    else if (c->event && IsEqualIID(riid, &IID_ISynchronize)) return IUnknown_QueryInterface(c->event, riid, ppv);
    else { *ppv = NULL; return E_NOINTERFACE; }
    IUnknown_AddRef((IUnknown *)*ppv);
    return S_OK;
}
static ULONG STDMETHODCALLTYPE sc_addref(IUnknown *This) { return (ULONG)atomic_fetch_add(&SRVCALL(This, inner)->refs, 1) + 1; }
static ULONG STDMETHODCALLTYPE sc_release(IUnknown *This)
{
    SrvCall *c = SRVCALL(This, inner);
    long r = atomic_fetch_sub(&c->refs, 1) - 1;
    if (!r) {
        if (c->event) IUnknown_Release(c->event);
        free(c);
        atomic_fetch_sub(&live, 1);
    }
    return (ULONG)r;
}
static IUnknownVtbl sc_vtbl = { sc_qi, sc_addref, sc_release };
static HRESULT STDMETHODCALLTYPE sa_qi(AsyncICalc *This, REFIID riid, void **ppv) { return IUnknown_QueryInterface(SRVCALL(This, async)->outer, riid, ppv); }
static ULONG STDMETHODCALLTYPE sa_addref(AsyncICalc *This) { return IUnknown_AddRef(SRVCALL(This, async)->outer); }
static ULONG STDMETHODCALLTYPE sa_release(AsyncICalc *This) { return IUnknown_Release(SRVCALL(This, async)->outer); }
static HRESULT STDMETHODCALLTYPE sa_begin_add(AsyncICalc *This, LONG a, LONG b)
{
    SrvCall *c = SRVCALL(This, async);
    ISynchronize *sync;
    c->sum = a + b;
    atomic_fetch_add(&srv_calls, 1);
    HRESULT hr = IUnknown_QueryInterface(c->outer, &IID_ISynchronize, (void **)&sync);   /* E3: on pCtrlUnk */
    if (FAILED(hr)) return hr;
    atomic_fetch_add(&srv_signals, 1);
    ISynchronize_Signal(sync);
    ISynchronize_Release(sync);
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE sa_finish_add(AsyncICalc *This, LONG *sum) { *sum = SRVCALL(This, async)->sum + 1000; return S_OK; }
static AsyncICalcVtbl sa_vtbl = { .QueryInterface = sa_qi, .AddRef = sa_addref, .Release = sa_release,
                                  .Begin_Add = sa_begin_add, .Finish_Add = sa_finish_add };

static HRESULT STDMETHODCALLTYPE srv_create(ICallFactory *This, REFIID riid, IUnknown *outer, REFIID riid2, IUnknown **ppv)
{
    (void)This;
    *ppv = NULL;
    if (!IsEqualIID(riid, &IID_AsyncICalc)) return E_NOINTERFACE;
    if (outer && !IsEqualIID(riid2, &IID_IUnknown)) return CLASS_E_NOAGGREGATION;
    SrvCall *c = calloc(1, sizeof *c);
    c->inner.lpVtbl = &sc_vtbl;
    c->async.lpVtbl = &sa_vtbl;
    atomic_init(&c->refs, 1);
    atomic_fetch_add(&live, 1);
    c->outer = outer ? outer : &c->inner;
    if (outer) { *ppv = &c->inner; return S_OK; }   /* E3: the non-delegating IUnknown */
    HRESULT hr = CoCreateInstance(&CLSID_ManualResetEvent, &c->inner, CLSCTX_INPROC_SERVER, &IID_IUnknown, (void **)&c->event);
    if (SUCCEEDED(hr)) hr = sc_qi(&c->inner, riid2, (void **)ppv);
    sc_release(&c->inner);
    return hr;
}
static ICallFactoryVtbl srv_f_vtbl = { pk_f_qi, pk_f_addref, pk_f_release, srv_create };

static ICalc *new_server(void) { return new_picky(&srv_f_vtbl); }

/* not aggregated, the server call object exposes ISynchronize itself,
 * through an aggregated CLSID_ManualResetEvent */
TEST(E4_unaggregated_server_call_object_exposes_isynchronize)
{
    ASSERT(SUCCEEDED(CoInitializeEx(NULL, COINIT_MULTITHREADED)));
    ICalc *srv = new_server();
    ICallFactory *f;
    AsyncICalc *call = NULL;
    ISynchronize *sync = NULL;
    void *back = NULL;
    LONG sum = 0;
    ASSERT_HR(S_OK, ICalc_QueryInterface(srv, &IID_ICallFactory, (void **)&f));
    ASSERT_HR(S_OK, ICallFactory_CreateCall(f, &IID_AsyncICalc, NULL, &IID_AsyncICalc, (IUnknown **)&call));
    ICallFactory_Release(f);
    ASSERT_HR(S_OK, AsyncICalc_QueryInterface(call, &IID_ISynchronize, (void **)&sync));
    ASSERT_HR(S_OK, ISynchronize_QueryInterface(sync, &IID_AsyncICalc, &back));   /* one COM identity */
    ASSERT(back == call);
    AsyncICalc_Release((AsyncICalc *)back);
    ASSERT_HR(RPC_E_TIMEOUT, ISynchronize_Wait(sync, 0, 0));
    ASSERT_HR(S_OK, AsyncICalc_Begin_Add(call, 2, 3));
    ASSERT_HR(S_OK, ISynchronize_Wait(sync, 0, INFINITE));
    ASSERT_HR(S_OK, AsyncICalc_Finish_Add(call, &sum));
    ASSERT_EQ(sum, 1005);
    ISynchronize_Release(sync);
    AsyncICalc_Release(call);
    ICalc_Release(srv);
    CoUninitialize();
    ASSERT_EQ(atomic_load(&live), 0);
}

/* through the proxy, the server call object is aggregated in the client's
 * call object and Signals the ISynchronize it gets from pCtrlUnk: here, the
 * client's own outer object, which counts the signals it sees */
TEST(E2_E3_E7_aggregated_server_call_object_signals_the_outer)
{
    ASSERT(SUCCEEDED(CoInitializeEx(NULL, COINIT_MULTITHREADED)));
    ICalc *srv = new_server(), *px = NULL;
    ICallFactory *f;
    IUnknown *bad = (IUnknown *)1;
    ASSERT_HR(S_OK, ICalc_QueryInterface(srv, &IID_ICallFactory, (void **)&f));
    ASSERT_HR(CLASS_E_NOAGGREGATION, ICallFactory_CreateCall(f, &IID_AsyncICalc, (IUnknown *)srv, &IID_AsyncICalc, &bad));
    ICallFactory_Release(f);
    ASSERT(bad == NULL);
    ASSERT_HR(S_OK, AmrtCreateProxy((IUnknown *)srv, &IID_ICalc, (void **)&px));
    ICalc_Release(srv);
    atomic_store(&srv_signals, 0);
    atomic_store(&srv_calls, 0);
    Outer o = { { &o_vtbl }, { &os_vtbl }, 1, NULL, NULL, 0, 0, 0 };
    ASSERT_HR(S_OK, ICalc_QueryInterface(px, &IID_ICallFactory, (void **)&f));
    ASSERT_HR(S_OK, ICallFactory_CreateCall(f, &IID_AsyncICalc, &o.iface, &IID_IUnknown, &o.inner));
    ICallFactory_Release(f);
    ASSERT_HR(S_OK, IUnknown_QueryInterface(o.inner, &IID_ISynchronize, (void **)&o.inner_sync));
    IUnknown_Release(&o.iface);
    AsyncICalc *call;
    ASSERT_HR(S_OK, IUnknown_QueryInterface(&o.iface, &IID_AsyncICalc, (void **)&call));
    for (int i = 1; i <= 3; i++) {
        LONG sum = 0;
        ASSERT_HR(S_OK, AsyncICalc_Begin_Add(call, i, 1));
        ASSERT_HR(S_OK, AsyncICalc_Finish_Add(call, &sum));
        ASSERT_EQ(sum, 1000 + i + 1);           /* the server call object's result */
        ASSERT_EQ(atomic_load(&srv_calls), i);
        ASSERT_EQ(atomic_load(&srv_signals), i);
        ASSERT_EQ(atomic_load(&o.signals), i);  /* its Signal reached the outer, and only it signaled */
    }
    AsyncICalc_Release(call);
    IUnknown_AddRef(&o.iface);
    ISynchronize_Release(o.inner_sync);
    IUnknown_Release(o.inner);
    finish_all(px);
}

/* E6: a server call object whose Begin_ returns at once and hands the work
 * to a thread of its own, which checks TestCancel on its call object and
 * Signals when done; Finish_ returns the stored result */
typedef struct E6Call {
    IUnknown inner;
    AsyncICalc async;
    atomic_long refs;
    IUnknown *outer;        /* pCtrlUnk: the client's call object */
    DWORD ms;
    LONG canceled;
} E6Call;
#define E6CALL(p, f) ((E6Call *)((char *)(p) - offsetof(E6Call, f)))
static atomic_int e6_saw_cancel, e6_begin_returned;
static pthread_t e6_thread;     /* the last Begin_'s work: the test joins it before it counts */

static HRESULT STDMETHODCALLTYPE e6_qi(IUnknown *This, REFIID riid, void **ppv)
{
    E6Call *c = E6CALL(This, inner);
    if (IsEqualIID(riid, &IID_IUnknown)) *ppv = &c->inner;
    else if (IsEqualIID(riid, &IID_AsyncICalc)) *ppv = &c->async;
    else { *ppv = NULL; return E_NOINTERFACE; }
    IUnknown_AddRef((IUnknown *)*ppv);
    return S_OK;
}
static ULONG STDMETHODCALLTYPE e6_addref(IUnknown *This) { return (ULONG)atomic_fetch_add(&E6CALL(This, inner)->refs, 1) + 1; }
static ULONG STDMETHODCALLTYPE e6_release(IUnknown *This)
{
    E6Call *c = E6CALL(This, inner);
    long r = atomic_fetch_sub(&c->refs, 1) - 1;
    if (!r) { free(c); atomic_fetch_sub(&live, 1); }
    return (ULONG)r;
}
static IUnknownVtbl e6_vtbl = { e6_qi, e6_addref, e6_release };
static HRESULT STDMETHODCALLTYPE e6a_qi(AsyncICalc *This, REFIID riid, void **ppv) { return IUnknown_QueryInterface(E6CALL(This, async)->outer, riid, ppv); }
static ULONG STDMETHODCALLTYPE e6a_addref(AsyncICalc *This) { return IUnknown_AddRef(E6CALL(This, async)->outer); }
static ULONG STDMETHODCALLTYPE e6a_release(AsyncICalc *This) { return IUnknown_Release(E6CALL(This, async)->outer); }

static void *e6_work(void *arg)
{
    E6Call *c = arg;
    ICancelMethodCalls *cm = NULL;
    ISynchronize *sync = NULL;
    IUnknown_QueryInterface(c->outer, &IID_ICancelMethodCalls, (void **)&cm);
    IUnknown_QueryInterface(c->outer, &IID_ISynchronize, (void **)&sync);
    c->canceled = 0;
    for (DWORD t = 0; t < c->ms; t++) {
        if (cm && ICancelMethodCalls_TestCancel(cm) == RPC_E_CALL_CANCELED) {
            c->canceled = 1;
            atomic_store(&e6_saw_cancel, 1);
            break;
        }
        sleep_ms(1);
    }
    if (cm) ICancelMethodCalls_Release(cm);
    if (sync) { ISynchronize_Signal(sync); ISynchronize_Release(sync); }
    IUnknown_Release(c->outer);             /* the reference Begin_ took for this thread */
    return NULL;
}
static HRESULT STDMETHODCALLTYPE e6a_begin_slow(AsyncICalc *This, DWORD ms)
{
    E6Call *c = E6CALL(This, async);
    c->ms = ms;
    IUnknown_AddRef(c->outer);
    if (pthread_create(&e6_thread, NULL, e6_work, c) != 0) { IUnknown_Release(c->outer); return E_FAIL; }
    atomic_store(&e6_begin_returned, 1);
    return S_OK;                            /* at once: the work goes on elsewhere */
}
static HRESULT STDMETHODCALLTYPE e6a_finish_slow(AsyncICalc *This, LONG *canceled)
{
    *canceled = E6CALL(This, async)->canceled;
    return S_OK;
}
static AsyncICalcVtbl e6a_vtbl = { .QueryInterface = e6a_qi, .AddRef = e6a_addref, .Release = e6a_release,
                                   .Begin_Slow = e6a_begin_slow, .Finish_Slow = e6a_finish_slow };
static HRESULT STDMETHODCALLTYPE e6_create(ICallFactory *This, REFIID riid, IUnknown *outer, REFIID riid2, IUnknown **ppv)
{
    (void)This;
    *ppv = NULL;
    if (!IsEqualIID(riid, &IID_AsyncICalc) || !outer) return E_NOINTERFACE;
    if (!IsEqualIID(riid2, &IID_IUnknown)) return CLASS_E_NOAGGREGATION;
    E6Call *c = calloc(1, sizeof *c);
    c->inner.lpVtbl = &e6_vtbl;
    c->async.lpVtbl = &e6a_vtbl;
    atomic_init(&c->refs, 1);
    atomic_fetch_add(&live, 1);
    c->outer = outer;
    *ppv = &c->inner;
    return S_OK;
}
static ICallFactoryVtbl e6_f_vtbl = { pk_f_qi, pk_f_addref, pk_f_release, e6_create };

TEST(E6_server_begin_hands_off_and_checks_test_cancel)
{
    ASSERT(SUCCEEDED(CoInitializeEx(NULL, COINIT_MULTITHREADED)));
    ICalc *srv = new_picky(&e6_f_vtbl), *px = NULL;
    ASSERT_HR(S_OK, AmrtCreateProxy((IUnknown *)srv, &IID_ICalc, (void **)&px));
    ICalc_Release(srv);
    AsyncICalc *call = new_call(px);
    ISynchronize *sync;
    ICancelMethodCalls *cm;
    LONG canceled = 7;
    ASSERT_HR(S_OK, AsyncICalc_QueryInterface(call, &IID_ISynchronize, (void **)&sync));
    ASSERT_HR(S_OK, AsyncICalc_QueryInterface(call, &IID_ICancelMethodCalls, (void **)&cm));
    /* the work outlives the server's Begin_; Finish_ returns what it stored */
    atomic_store(&e6_begin_returned, 0);
    ASSERT_HR(S_OK, AsyncICalc_Begin_Slow(call, 100));
    ASSERT(wait_flag(&e6_begin_returned, 2000));
    ASSERT_HR(RPC_E_TIMEOUT, ISynchronize_Wait(sync, 0, 0));   /* Begin_ returned, the work goes on */
    ASSERT_HR(S_OK, AsyncICalc_Finish_Slow(call, &canceled));
    ASSERT_EQ(canceled, 0);
    /* the work Signals before it lets go of the call object: a program's
     * own thread, which no CoUninitialize waits for (I6) */
    ASSERT(pthread_join(e6_thread, NULL) == 0);
    /* the server sees the client's Cancel through TestCancel on its call object */
    atomic_store(&e6_saw_cancel, 0);
    atomic_store(&e6_begin_returned, 0);
    ASSERT_HR(S_OK, AsyncICalc_Begin_Slow(call, 5000));
    wait_flag(&e6_begin_returned, 2000);
    /* the server's Begin_ has returned, its work has not: the call is not complete */
    ASSERT_HR(S_OK, ICancelMethodCalls_Cancel(cm, 0));
    ASSERT(wait_flag(&e6_saw_cancel, 2000));
    ASSERT_HR(RPC_E_CALL_CANCELED, AsyncICalc_Finish_Slow(call, &canceled));
    ASSERT(pthread_join(e6_thread, NULL) == 0);
    ICancelMethodCalls_Release(cm);
    ISynchronize_Release(sync);
    AsyncICalc_Release(call);
    finish_all(px);
}

TEST(B6_one_call_at_a_time)
{
    ICalc *px = proxy();
    AsyncICalc *call = new_call(px);
    LONG c;
    ASSERT_HR(S_OK, AsyncICalc_Begin_Slow(call, 100));
    ASSERT_HR(RPC_E_CALL_PENDING, AsyncICalc_Begin_Add(call, 1, 2));
    ASSERT_HR(S_OK, AsyncICalc_Finish_Slow(call, &c));
    AsyncICalc_Release(call);
    finish_all(px);
}

TEST(B7_finish_without_call)
{
    ICalc *px = proxy();
    AsyncICalc *call = new_call(px);
    LONG sum = 7;
    ASSERT_HR(RPC_E_CALL_COMPLETE, AsyncICalc_Finish_Add(call, &sum));
    ASSERT_EQ(sum, 7);
    AsyncICalc_Release(call);
    finish_all(px);
}

TEST(B8_finish_returns_what_the_sync_method_returns)
{
    ICalc *px = proxy();
    AsyncICalc *call = new_call(px);
    LONG sum = 0, v = 21;
    ASSERT_HR(S_OK, AsyncICalc_Begin_Add(call, 40, 2));
    ASSERT_HR(S_OK, AsyncICalc_Finish_Add(call, &sum));
    ASSERT_EQ(sum, 42);
    ASSERT_HR(S_OK, AsyncICalc_Begin_Fail(call, E_ACCESSDENIED));
    ASSERT_HR(E_ACCESSDENIED, AsyncICalc_Finish_Fail(call));
    ASSERT_HR(S_OK, AsyncICalc_Begin_Twice(call, &v));
    ASSERT_HR(S_OK, AsyncICalc_Finish_Twice(call, &v));
    ASSERT_EQ(v, 42);
    LPWSTR s = NULL;
    ASSERT_HR(S_OK, AsyncICalc_Begin_Concat(call, (LPCWSTR)u"as", (LPCWSTR)u"ync"));
    ASSERT_HR(S_OK, AsyncICalc_Finish_Concat(call, &s));
    ASSERT(s && !memcmp(s, u"async", 12));
    CoTaskMemFree(s);                           /* callee-allocated: the caller frees it */
    IUnknown *self = NULL;
    ASSERT_HR(S_OK, AsyncICalc_Begin_Self(call));
    ASSERT_HR(S_OK, AsyncICalc_Finish_Self(call, &self));
    ASSERT(self != NULL);
    IUnknown_Release(self);
    AsyncICalc_Begin_Count(call);
    ASSERT_EQ(AsyncICalc_Finish_Count(call), 1);    /* a ULONG return comes back as is */
    AsyncICalc_Release(call);
    finish_all(px);
}

TEST(B9_release_without_finish)
{
    ICalc *px = proxy();
    AsyncICalc *call = new_call(px);
    ASSERT_HR(S_OK, AsyncICalc_Begin_Concat(call, (LPCWSTR)u"never", (LPCWSTR)u" collected"));
    AsyncICalc_Release(call);                   /* the string the server allocates is freed */
    AsyncICalc *slow = new_call(px);
    ASSERT_HR(S_OK, AsyncICalc_Begin_Slow(slow, 50));
    AsyncICalc_Release(slow);                   /* still running on the server: it finishes, then frees */
    finish_all(px);                             /* CoUninitialize waits; nothing is left */
}

TEST(B10_reusable_after_finish)
{
    ICalc *px = proxy();
    AsyncICalc *call = new_call(px);
    for (LONG i = 0; i < 100; i++) {
        LONG sum;
        ASSERT_HR(S_OK, AsyncICalc_Begin_Add(call, i, i));
        ASSERT_HR(S_OK, AsyncICalc_Finish_Add(call, &sum));
        ASSERT_EQ(sum, 2 * i);
    }
    AsyncICalc_Release(call);
    finish_all(px);
}

/* opens calc_slow_gate in a while, saying so first */
static atomic_int gate_opened;
static void *open_gate_later(void *arg)
{
    (void)arg;
    sleep_ms(50);
    atomic_store(&gate_opened, 1);
    atomic_store(&calc_slow_gate, 0);
    return NULL;
}

TEST(B11_B12_B13_E5_isynchronize_of_the_call)
{
    ICalc *px = proxy();
    AsyncICalc *call = new_call(px);
    ISynchronize *s;
    LONG c;
    pthread_t t;
    ASSERT_HR(S_OK, AsyncICalc_QueryInterface(call, &IID_ISynchronize, (void **)&s));
    ISynchronize_Signal(s);                     /* left signaled ... */
    atomic_store(&calc_slow_gate, 1);           /* the server waits at the gate: the call cannot be done */
    ASSERT_HR(S_OK, AsyncICalc_Begin_Slow(call, 0));
    ASSERT_HR(RPC_E_TIMEOUT, ISynchronize_Wait(s, 0, 0));   /* ... Begin_ Reset it (B13) */
    atomic_store(&gate_opened, 0);
    ASSERT(pthread_create(&t, NULL, open_gate_later, NULL) == 0);
    ASSERT_HR(S_OK, AsyncICalc_Finish_Slow(call, &c));      /* blocks until the server is done (B12) ... */
    ASSERT(atomic_load(&gate_opened));                      /* ... which it could be only once the gate opened */
    pthread_join(t, NULL);
    ASSERT_HR(S_OK, ISynchronize_Wait(s, 0, 0));            /* signaled at completion (B11) */
    ISynchronize_Release(s);
    AsyncICalc_Release(call);
    finish_all(px);
}

TEST(B17_null_ref_pointer_fails_at_begin)
{
    ICalc *px = proxy();
    AsyncICalc *call = new_call(px);
    ASSERT_HR(E_POINTER, AsyncICalc_Begin_Twice(call, NULL));
    ASSERT_HR(E_POINTER, AsyncICalc_Begin_Concat(call, NULL, (LPCWSTR)u"x"));
    ASSERT_HR(RPC_E_CALL_COMPLETE, AsyncICalc_Finish_Twice(call, NULL));    /* nothing started */
    AsyncICalc_Release(call);
    finish_all(px);
}

TEST(B18_begin_copies_in_data)
{
    ICalc *px = proxy();
    AsyncICalc *call = new_call(px);
    BYTE *data = malloc(4096);
    for (int i = 0; i < 4096; i++) data[i] = (BYTE)i;
    ULONG sum = 0, want = 0;
    for (int i = 0; i < 4096; i++) want += (BYTE)i;
    ASSERT_HR(S_OK, AsyncICalc_Begin_Sum(call, 4096, data));
    memset(data, 0, 4096);                      /* the caller reuses its buffer at once */
    free(data);
    ASSERT_HR(S_OK, AsyncICalc_Finish_Sum(call, &sum));
    ASSERT_EQ(sum, want);
    AsyncICalc_Release(call);
    finish_all(px);
}

TEST(D1_D2_D3_D5_D6_D8_D9_D10_D11_D12_cancel)
{
    ICalc *px = proxy();
    AsyncICalc *call = new_call(px);
    ICancelMethodCalls *cancel;
    LONG canceled = 5, sum;
    ASSERT_HR(S_OK, AsyncICalc_QueryInterface(call, &IID_ICancelMethodCalls, (void **)&cancel));   /* D1 */
    ASSERT_HR(RPC_E_CALL_COMPLETE, ICancelMethodCalls_Cancel(cancel, 0));   /* no call (D8) */
    ASSERT_HR(S_OK, AsyncICalc_Begin_Slow(call, 5000));
    ASSERT_HR(RPC_S_CALLPENDING, ICancelMethodCalls_TestCancel(cancel));
    /* a request (D3), for an asynchronous call (D12), granted without
     * CoEnableCallCancellation on this thread (D10) */
    ASSERT_HR(S_OK, ICancelMethodCalls_Cancel(cancel, 0));
    ASSERT_HR(RPC_E_CALL_CANCELED, ICancelMethodCalls_TestCancel(cancel));
    ASSERT_HR(RPC_E_CALL_CANCELED, ICancelMethodCalls_Cancel(cancel, 0));   /* already canceled (D5) */
    ASSERT_HR(RPC_E_CALL_PENDING, AsyncICalc_Begin_Add(call, 1, 1));        /* until Finish_ (D2) */
    ASSERT_HR(RPC_E_CALL_CANCELED, AsyncICalc_Finish_Slow(call, &canceled));
    ASSERT_EQ(canceled, 5);                                                 /* outs untouched (D6) */
    ASSERT_HR(S_OK, AsyncICalc_Begin_Add(call, 1, 1));                      /* reusable */
    ASSERT_HR(S_OK, AsyncICalc_Finish_Add(call, &sum));
    ICancelMethodCalls_Release(cancel);
    AsyncICalc_Release(call);
    finish_all(px);
}

static const IID IID_IServerSecurity_ = { 0x0000013e, 0, 0, { 0xc0, 0, 0, 0, 0, 0, 0, 0x46 } };

TEST(E8_async_manager_on_call_objects)
{
    ICalc *px = proxy();
    AsyncICalc *call = new_call(px);
    IAsyncManager *am;
    ISynchronize *sync;
    ICancelMethodCalls *cm, *cm2;
    ULONG st = 99;
    LONG canceled = 5, sum = 0;
    ASSERT_HR(S_OK, AsyncICalc_QueryInterface(call, &IID_IAsyncManager, (void **)&am));
    ASSERT_HR(S_OK, AsyncICalc_QueryInterface(call, &IID_ISynchronize, (void **)&sync));
    ASSERT_HR(S_OK, IAsyncManager_GetState(am, &st));
    ASSERT_EQ(st, DCOM_NONE);
    ASSERT_HR(RPC_E_CALL_COMPLETE, IAsyncManager_CompleteCall(am, E_ABORT));     /* no call */
    /* a normal call: complete once the server returns */
    ASSERT_HR(S_OK, AsyncICalc_Begin_Add(call, 2, 3));
    ASSERT_HR(S_OK, ISynchronize_Wait(sync, 0, INFINITE));
    ASSERT_HR(S_OK, IAsyncManager_GetState(am, &st));
    ASSERT_EQ(st, DCOM_CALL_COMPLETE);
    ASSERT_HR(S_OK, AsyncICalc_Finish_Add(call, &sum));
    ASSERT_EQ(sum, 5);
    /* CompleteCall completes a running call now with its failure */
    ASSERT_HR(S_OK, AsyncICalc_Begin_Slow(call, 5000));
    ASSERT_HR(S_OK, IAsyncManager_GetState(am, &st));
    ASSERT_EQ(st, DCOM_NONE);
    ASSERT_HR(E_INVALIDARG, IAsyncManager_CompleteCall(am, S_OK));    /* no outputs to hand back */
    ASSERT_HR(S_OK, IAsyncManager_CompleteCall(am, E_ABORT));
    ASSERT_HR(RPC_E_CALL_COMPLETE, IAsyncManager_CompleteCall(am, E_FAIL));
    ASSERT_HR(S_OK, ISynchronize_Wait(sync, 0, 1000));                   /* signaled at once */
    ASSERT_HR(S_OK, IAsyncManager_GetState(am, &st));
    ASSERT_EQ(st, DCOM_CALL_COMPLETE);
    ASSERT_HR(E_ABORT, AsyncICalc_Finish_Slow(call, &canceled));
    ASSERT_EQ(canceled, 5);                                             /* outputs untouched */
    /* GetCallContext: the call's ICancelMethodCalls, nothing else (F3) */
    ASSERT_HR(S_OK, IAsyncManager_GetCallContext(am, &IID_ICancelMethodCalls, (void **)&cm));
    ASSERT_HR(S_OK, AsyncICalc_QueryInterface(call, &IID_ICancelMethodCalls, (void **)&cm2));
    ASSERT(cm == cm2);
    void *none = (void *)1;
    ASSERT_HR(RPC_E_NO_CONTEXT, IAsyncManager_GetCallContext(am, &IID_IServerSecurity_, &none));
    ASSERT(none == NULL);
    /* after Cancel: DCOM_CALL_CANCELED */
    ASSERT_HR(S_OK, AsyncICalc_Begin_Slow(call, 5000));
    ASSERT_HR(S_OK, ICancelMethodCalls_Cancel(cm, 0));
    ASSERT_HR(S_OK, IAsyncManager_GetState(am, &st));
    ASSERT_EQ(st, DCOM_CALL_CANCELED);
    ASSERT_HR(RPC_E_CALL_CANCELED, AsyncICalc_Finish_Slow(call, &canceled));
    ICancelMethodCalls_Release(cm);
    ICancelMethodCalls_Release(cm2);
    ISynchronize_Release(sync);
    IAsyncManager_Release(am);
    AsyncICalc_Release(call);
    finish_all(px);
}

/* B19: [Call Synchronization]'s "asynchronous calls are converted to
 * synchronous calls in MTAs" does not apply to async_uuid: in the MTA
 * Begin_ returns while the server method is still running. */
TEST(B19_calls_stay_asynchronous_in_the_mta)
{
    ICalc *px = proxy();
    AsyncICalc *call = new_call(px);
    ISynchronize *sync;
    LONG canceled = 5;
    ASSERT_HR(S_OK, AsyncICalc_QueryInterface(call, &IID_ISynchronize, (void **)&sync));
    /* no wall-clock bound (valgrind is slow): the server method takes 2 s, and
     * the call must still be running when Begin_ has returned */
    ASSERT_HR(S_OK, AsyncICalc_Begin_Slow(call, 2000));
    ASSERT_HR(RPC_E_TIMEOUT, ISynchronize_Wait(sync, 0, 0)); /* still running */
    ASSERT_HR(S_OK, AsyncICalc_Finish_Slow(call, &canceled));
    ASSERT_EQ(canceled, 0);
    ISynchronize_Release(sync);
    AsyncICalc_Release(call);
    finish_all(px);
}

/* D4, D7: a call that completes within Cancel's interval makes Cancel
 * return RPC_E_CALL_COMPLETE as soon as it does, and Finish_ delivers the
 * server's own results (a canceled call's outputs stay untouched, D6). The
 * interval is 600 s, far beyond the test's time limit: that Cancel returns
 * at all shows it did not wait the interval out; no clock is read. */
TEST(D4_D7_cancel_after_completion_in_the_interval)
{
    ICalc *px = proxy();
    AsyncICalc *call = new_call(px);
    ICancelMethodCalls *cancel;
    LONG canceled = 5, sum = 0;
    ASSERT_HR(S_OK, AsyncICalc_QueryInterface(call, &IID_ICancelMethodCalls, (void **)&cancel));
    /* the server polls CoTestCancel: it returns (its own result) once it sees the request */
    ASSERT_HR(S_OK, AsyncICalc_Begin_Slow(call, 60000));
    ASSERT_HR(RPC_E_CALL_COMPLETE, ICancelMethodCalls_Cancel(cancel, 600));
    ASSERT_HR(RPC_E_CALL_CANCELED, AsyncICalc_Finish_Slow(call, &canceled));   /* what the server returned */
    ASSERT_EQ(canceled, 1);                                                     /* ... and wrote */
    /* a server that does not look completes on its own, within the interval or before it */
    ASSERT_HR(S_OK, AsyncICalc_Begin_Add(call, 20, 22));
    ASSERT_HR(RPC_E_CALL_COMPLETE, ICancelMethodCalls_Cancel(cancel, 600));
    ASSERT_HR(S_OK, AsyncICalc_Finish_Add(call, &sum));
    ASSERT_EQ(sum, 42);
    ICancelMethodCalls_Release(cancel);
    AsyncICalc_Release(call);
    finish_all(px);
}

/* Cancel(0) gives the server no time (D7): a server that sees the
 * cancellation at once and returns has not completed the call on its own,
 * so Cancel says S_OK and Finish_ RPC_E_CALL_CANCELED, however quickly the
 * server answers (here it looks at CoTestCancel without pause). */
TEST(D7_cancel_with_no_time_while_the_server_watches)
{
    ICalc *px = proxy();
    AsyncICalc *call = new_call(px);
    ICancelMethodCalls *cm;
    ASSERT_HR(S_OK, AsyncICalc_QueryInterface(call, &IID_ICancelMethodCalls, (void **)&cm));
    calc_slow_step_ns = 0;
    for (int i = 0; i < 2000; i++) {
        LONG canceled = 5;
        ASSERT_HR(S_OK, AsyncICalc_Begin_Slow(call, 60000));
        ASSERT_HR(S_OK, ICancelMethodCalls_Cancel(cm, 0));
        ASSERT_HR(RPC_E_CALL_CANCELED, AsyncICalc_Finish_Slow(call, &canceled));
        ASSERT_EQ(canceled, 5);
    }
    ICancelMethodCalls_Release(cm);
    AsyncICalc_Release(call);
    finish_all(px);                     /* waits for the last server to return */
    calc_slow_step_ns = 2000000;
}

/* D10, D11: cancellation of synchronous calls is off until a thread enables
 * it (counted); CoCancelCall then finds no cancel object, as a synchronous
 * call through a proxy runs on its own thread and asynchronous calls are
 * not located (an asynchronous call in flight on the thread is untouched) */
static atomic_int other_tid, other_step;
static void *cancel_thread(void *arg)
{
    (void)arg;
    atomic_store(&other_tid, (int)gettid());
    while (atomic_load(&other_step) < 1)
        sleep_ms(1);
    CoEnableCallCancellation(NULL);     /* and exits without disabling: its entry goes with it */
    atomic_store(&other_step, 2);
    while (atomic_load(&other_step) < 3)
        sleep_ms(1);
    return NULL;
}

TEST(D10_D11_cocancelcall_and_the_threads_that_enable_it)
{
    ASSERT_HR(CO_E_NOTINITIALIZED, CoCancelCall(0, 0));
    ICalc *px = proxy();
    AsyncICalc *call = new_call(px);
    ICancelMethodCalls *cm;
    LONG canceled = 5;
    ASSERT_HR(S_OK, AsyncICalc_QueryInterface(call, &IID_ICancelMethodCalls, (void **)&cm));
    ASSERT_HR(CO_E_CANCEL_DISABLED, CoCancelCall(0, 0));                /* off by default */
    ASSERT_HR(E_INVALIDARG, CoEnableCallCancellation((void *)1));
    ASSERT_HR(E_INVALIDARG, CoDisableCallCancellation((void *)1));
    ASSERT_HR(S_OK, CoEnableCallCancellation(NULL));
    ASSERT_HR(S_OK, CoEnableCallCancellation(NULL));
    ASSERT_HR(S_OK, AsyncICalc_Begin_Slow(call, 5000));
    ASSERT_HR(E_NOINTERFACE, CoCancelCall(0, 0));                       /* no cancel object (D11) */
    ASSERT_HR(E_NOINTERFACE, CoCancelCall((DWORD)gettid(), 0));
    ASSERT_HR(RPC_S_CALLPENDING, ICancelMethodCalls_TestCancel(cm));     /* the async call untouched */
    pthread_t t;
    ASSERT(pthread_create(&t, NULL, cancel_thread, NULL) == 0);
    while (!atomic_load(&other_tid))
        sleep_ms(1);
    DWORD other = (DWORD)atomic_load(&other_tid);
    ASSERT_HR(CO_E_CANCEL_DISABLED, CoCancelCall(other, 0));           /* per thread */
    atomic_store(&other_step, 1);
    while (atomic_load(&other_step) < 2)
        sleep_ms(1);
    ASSERT_HR(E_NOINTERFACE, CoCancelCall(other, 0));
    atomic_store(&other_step, 3);
    pthread_join(t, NULL);
    ASSERT_HR(CO_E_CANCEL_DISABLED, CoCancelCall(other, 0));           /* gone with its thread */
    ASSERT_HR(S_OK, CoDisableCallCancellation(NULL));                   /* balances one enable (D13) */
    ASSERT_HR(E_NOINTERFACE, CoCancelCall(0, 0));                       /* one still outstanding */
    ASSERT_HR(S_OK, CoDisableCallCancellation(NULL));
    ASSERT_HR(CO_E_CANCEL_DISABLED, CoCancelCall(0, 0));
    ASSERT_HR(CO_E_CANCEL_DISABLED, CoDisableCallCancellation(NULL));   /* nothing to balance (D13) */
    ASSERT_HR(S_OK, ICancelMethodCalls_Cancel(cm, 0));                   /* async calls: their call object */
    ASSERT_HR(RPC_E_CALL_CANCELED, AsyncICalc_Finish_Slow(call, &canceled));
    ICancelMethodCalls_Release(cm);
    AsyncICalc_Release(call);
    finish_all(px);
}

/* Wine's ole32 test_call_cancellation, which passes on Windows */
/* A process that has used up its thread-specific keys: the first
 * CoEnableCallCancellation cannot make the runtime's key. It returns
 * E_OUTOFMEMORY (the runtime does not abort), and once a key is free again
 * the next call makes it. */
TEST(enable_cancellation_without_a_free_key)
{
    enum { MAX_KEYS = 100000 };         /* PTHREAD_KEYS_MAX is 1024 on glibc: only a bound */
    static pthread_key_t keys[MAX_KEYS];
    int n = 0;
    while (n < MAX_KEYS && pthread_key_create(&keys[n], NULL) == 0)
        n++;
    ASSERT(n > 0 && n < MAX_KEYS);
    ASSERT_HR(E_OUTOFMEMORY, CoEnableCallCancellation(NULL));
    ASSERT_HR(CO_E_CANCEL_DISABLED, CoDisableCallCancellation(NULL));
    pthread_key_delete(keys[--n]);
    ASSERT_HR(S_OK, CoEnableCallCancellation(NULL));
    ASSERT_HR(S_OK, CoDisableCallCancellation(NULL));
    ASSERT_HR(CO_E_CANCEL_DISABLED, CoDisableCallCancellation(NULL));
    while (n > 0)
        pthread_key_delete(keys[--n]);
}

TEST(D13_disable_balances_an_enable_and_the_count_survives_initialization)
{
    ASSERT_HR(CO_E_CANCEL_DISABLED, CoDisableCallCancellation(NULL));   /* disabled at first */
    ASSERT_HR(S_OK, CoEnableCallCancellation(NULL));
    ASSERT_HR(S_OK, CoDisableCallCancellation(NULL));
    ASSERT_HR(CO_E_CANCEL_DISABLED, CoDisableCallCancellation(NULL));
    ASSERT_HR(S_OK, CoEnableCallCancellation(NULL));
    ASSERT_HR(S_OK, CoInitialize(NULL));                                /* the count is not reset */
    ASSERT_HR(S_OK, CoEnableCallCancellation(NULL));
    CoUninitialize();
    ASSERT_HR(S_OK, CoDisableCallCancellation(NULL));
    ASSERT_HR(S_OK, CoDisableCallCancellation(NULL));
    ASSERT_HR(CO_E_CANCEL_DISABLED, CoDisableCallCancellation(NULL));
    ASSERT_HR(S_OK, CoEnableCallCancellation(NULL));                    /* and once more across a shutdown */
    ASSERT_HR(S_OK, CoInitialize(NULL));
    CoUninitialize();
    ASSERT_HR(S_OK, CoDisableCallCancellation(NULL));
    ASSERT_HR(CO_E_CANCEL_DISABLED, CoDisableCallCancellation(NULL));
}

TEST(B20_finish_of_another_method_is_unexpected)
{
    ICalc *px = proxy();
    AsyncICalc *call = new_call(px);
    LONG sum = 7, canceled = 7, v = 7;
    ASSERT_HR(S_OK, AsyncICalc_Begin_Add(call, 40, 2));
    ASSERT_HR(E_UNEXPECTED, AsyncICalc_Finish_Slow(call, &canceled));
    ASSERT_EQ(canceled, 7);                                             /* nothing written */
    ASSERT_HR(E_UNEXPECTED, AsyncICalc_Finish_Twice(call, &v));
    ASSERT_EQ(v, 7);
    ASSERT_HR(RPC_E_CALL_PENDING, AsyncICalc_Begin_Add(call, 1, 1));     /* still pending */
    ASSERT_HR(S_OK, AsyncICalc_Finish_Add(call, &sum));                 /* and still finishable */
    ASSERT_EQ(sum, 42);
    /* a call still running: the wrong Finish_ does not wait for it */
    ASSERT_HR(S_OK, AsyncICalc_Begin_Slow(call, 100));
    ASSERT_HR(E_UNEXPECTED, AsyncICalc_Finish_Add(call, &sum));
    ASSERT_EQ(sum, 42);
    ASSERT_HR(S_OK, AsyncICalc_Finish_Slow(call, &canceled));
    ASSERT_EQ(canceled, 0);
    ASSERT_HR(RPC_E_CALL_COMPLETE, AsyncICalc_Finish_Add(call, &sum));   /* B7 still comes first */
    AsyncICalc_Release(call);
    finish_all(px);
}

TEST(B21_null_ref_out_pointer_at_finish)
{
    ICalc *px = proxy();
    AsyncICalc *call = new_call(px);
    LONG sum = 0, v = 21;
    ASSERT_EQ(HRESULT_FROM_WIN32(RPC_X_NULL_REF_POINTER), (HRESULT)0x800706F4);
    ASSERT_HR(S_OK, AsyncICalc_Begin_Add(call, 40, 2));
    ASSERT_HR(0x800706F4, AsyncICalc_Finish_Add(call, NULL));
    ASSERT_HR(S_OK, AsyncICalc_Finish_Add(call, &sum));                 /* still finishable */
    ASSERT_EQ(sum, 42);
    ASSERT_HR(S_OK, AsyncICalc_Begin_Twice(call, &v));                  /* [in, out] too */
    ASSERT_HR(0x800706F4, AsyncICalc_Finish_Twice(call, NULL));
    ASSERT_EQ(v, 21);
    ASSERT_HR(S_OK, AsyncICalc_Finish_Twice(call, &v));
    ASSERT_EQ(v, 42);
    IUnknown *self = (IUnknown *)1;
    ASSERT_HR(S_OK, AsyncICalc_Begin_Self(call));
    ASSERT_HR(0x800706F4, AsyncICalc_Finish_Self(call, NULL));
    ASSERT_HR(S_OK, AsyncICalc_Finish_Self(call, &self));
    ASSERT(self != NULL && self != (IUnknown *)1);
    IUnknown_Release(self);
    AsyncICalc_Release(call);
    finish_all(px);
}

TEST(B22_begin_after_the_last_couninitialize)
{
    ASSERT_HR(S_OK, CoInitializeEx(NULL, COINIT_MULTITHREADED));
    ICalc *obj = new_calc(), *px = NULL;
    ASSERT_HR(S_OK, AmrtCreateProxy((IUnknown *)obj, &IID_ICalc, (void **)&px));
    AsyncICalc *call = new_call(px);
    LONG sum = 7;
    CoUninitialize();                                                   /* the last one */
    ASSERT_HR(CO_E_NOTINITIALIZED, AsyncICalc_Begin_Add(call, 40, 2));
    ASSERT_HR(RPC_E_CALL_COMPLETE, AsyncICalc_Finish_Add(call, &sum));   /* nothing began */
    ASSERT_EQ(sum, 7);
    ASSERT_EQ(atomic_load(&((Calc *)obj)->calls), 0);                   /* nothing ran */
    ASSERT_HR(S_OK, CoInitializeEx(NULL, COINIT_MULTITHREADED));         /* initialized again: it runs */
    ASSERT_HR(S_OK, AsyncICalc_Begin_Add(call, 40, 2));
    ASSERT_HR(S_OK, AsyncICalc_Finish_Add(call, &sum));
    ASSERT_EQ(sum, 42);
    ASSERT_EQ(atomic_load(&((Calc *)obj)->calls), 1);
    AsyncICalc_Release(call);
    ICalc_Release(obj);
    finish_all(px);
}

/* a call context object of the program's own */
static atomic_int ctx_qis;
static HRESULT STDMETHODCALLTYPE ctx_qi(IUnknown *This, REFIID riid, void **ppv)
{
    atomic_fetch_add(&ctx_qis, 1);
    if (IsEqualIID(riid, &IID_IUnknown)) {
        *ppv = This;
        return S_OK;
    }
    *ppv = NULL;
    return E_NOINTERFACE;
}
static ULONG STDMETHODCALLTYPE ctx_addref(IUnknown *This) { (void)This; return 2; }
static ULONG STDMETHODCALLTYPE ctx_release(IUnknown *This) { (void)This; return 1; }
static IUnknownVtbl ctx_vtbl = { ctx_qi, ctx_addref, ctx_release };

TEST(co_switch_call_context)
{
    IUnknown mine = { &ctx_vtbl }, *old = (IUnknown *)1, *got = NULL;
    ASSERT_HR(RPC_E_NO_CONTEXT, CoGetCallContext(&IID_IUnknown, (void **)&got));
    ASSERT_HR(E_INVALIDARG, CoSwitchCallContext(&mine, NULL));
    ASSERT_HR(S_OK, CoSwitchCallContext(&mine, &old));
    ASSERT(old == NULL);                                                /* no call in progress */
    ASSERT_HR(S_OK, CoGetCallContext(&IID_IUnknown, (void **)&got));     /* answered by the object */
    ASSERT(got == &mine);
    ASSERT_HR(E_NOINTERFACE, CoGetCallContext(&IID_ICancelMethodCalls, (void **)&got));
    ASSERT(got == NULL);
    ASSERT_EQ(atomic_load(&ctx_qis), 2);
    ASSERT_HR(S_OK, CoSwitchCallContext(NULL, &old));                   /* back to the original: none */
    ASSERT(old == &mine);
    ASSERT_HR(RPC_E_NO_CONTEXT, CoGetCallContext(&IID_IUnknown, (void **)&got));
}

/* A completed call stays signaled (as on Windows): WaitMultiple keeps
 * returning it, even after Finish_, until its next Begin_ resets it. */
TEST(C14_B11_a_completed_call_stays_signaled_in_a_container)
{
    ICalc *px = proxy();
    AsyncICalc *a = new_call(px), *b = new_call(px);
    ISynchronize *sa, *sb, *got;
    ISynchronizeContainer *cont;
    LONG sum;
    ASSERT_HR(S_OK, AsyncICalc_QueryInterface(a, &IID_ISynchronize, (void **)&sa));
    ASSERT_HR(S_OK, AsyncICalc_QueryInterface(b, &IID_ISynchronize, (void **)&sb));
    ASSERT_HR(S_OK, CoCreateInstance(&CLSID_SynchronizeContainer, NULL, CLSCTX_INPROC_SERVER,
                                     &IID_ISynchronizeContainer, (void **)&cont));
    ASSERT_HR(S_OK, ISynchronizeContainer_AddSynchronize(cont, sa));
    ASSERT_HR(S_OK, ISynchronizeContainer_AddSynchronize(cont, sb));
    ASSERT_HR(S_OK, AsyncICalc_Begin_Add(a, 1, 2));
    ASSERT_HR(S_OK, AsyncICalc_Begin_Add(b, 3, 4));
    ASSERT_HR(S_OK, ISynchronize_Wait(sb, 0, INFINITE));
    ASSERT_HR(S_OK, ISynchronize_Wait(sa, 0, INFINITE));
    for (int i = 0; i < 3; i++) {
        ASSERT_HR(S_OK, ISynchronizeContainer_WaitMultiple(cont, 0, 0, &got));
        ASSERT(got == sa);                                              /* the same one, every time */
        ISynchronize_Release(got);
        if (i == 0) {
            ASSERT_HR(S_OK, AsyncICalc_Finish_Add(a, &sum));
            ASSERT_EQ(sum, 3);
        }
    }
    /* what works: wait on the calls not finished yet, here by their handles */
    ISynchronizeHandle *h;
    HANDLE hb;
    DWORD idx = 9;
    ASSERT_HR(S_OK, ISynchronize_QueryInterface(sb, &IID_ISynchronizeHandle, (void **)&h));
    ASSERT_HR(S_OK, ISynchronizeHandle_GetHandle(h, &hb));
    ISynchronizeHandle_Release(h);
    ASSERT_HR(S_OK, CoWaitForMultipleHandles(0, INFINITE, 1, &hb, &idx));
    ASSERT_EQ(idx, 0);
    ASSERT_HR(S_OK, AsyncICalc_Finish_Add(b, &sum));
    ASSERT_EQ(sum, 7);
    ISynchronizeContainer_Release(cont);
    ISynchronize_Release(sa);
    ISynchronize_Release(sb);
    AsyncICalc_Release(a);
    AsyncICalc_Release(b);
    finish_all(px);
}

static const IID IID_IClientSecurity_ = { 0x0000013d, 0, 0, { 0xc0, 0, 0, 0, 0, 0, 0, 0x46 } };

TEST(F1_F2_F3_no_client_security_no_server_context)
{
    ICalc *px = proxy();
    AsyncICalc *call = new_call(px);
    void *p = (void *)1;
    ASSERT_HR(E_NOINTERFACE, AsyncICalc_QueryInterface(call, &IID_IClientSecurity_, &p));
    ASSERT_HR(RPC_E_NO_CONTEXT, CoGetCallContext(&IID_IServerSecurity_, &p));
    ASSERT_HR(RPC_E_NO_CONTEXT, CoGetCallContext(&IID_ICancelMethodCalls, &p));    /* not a server thread */
    AsyncICalc_Release(call);
    finish_all(px);
}

TEST(I4_proxy_forwards_and_holds_the_object)
{
    ASSERT(SUCCEEDED(CoInitializeEx(NULL, COINIT_MULTITHREADED)));
    ICalc *obj = new_calc(), *px;
    ASSERT_HR(S_OK, AmrtCreateProxy((IUnknown *)obj, &IID_ICalc, (void **)&px));
    ASSERT(px != obj);
    ICalc_Release(obj);
    ASSERT_EQ(atomic_load(&live), 1);           /* the proxy's reference keeps it */
    LONG sum;
    ASSERT_HR(S_OK, ICalc_Add(px, 20, 22, &sum));  /* a synchronous call through the proxy */
    ASSERT_EQ(sum, 42);
    IUnknown *u1, *u2;
    ASSERT_HR(S_OK, ICalc_QueryInterface(px, &IID_IUnknown, (void **)&u1));
    ASSERT_HR(S_OK, IUnknown_QueryInterface(u1, &IID_ICalc, (void **)&u2));
    ASSERT(u2 == (IUnknown *)px);               /* one identity */
    IUnknown_Release(u1);
    IUnknown_Release(u2);
    ICalc_Release(px);
    ASSERT_EQ(atomic_load(&live), 0);
    CoUninitialize();
}

TEST(I5_local_server_is_reached_through_the_proxy)
{
    ASSERT(SUCCEEDED(CoInitializeEx(NULL, COINIT_MULTITHREADED)));
    /* checked end to end by samples/simplestream; here: a class not registered */
    IUnknown *p;
    static const CLSID nope = { 1, 2, 3, { 4, 5, 6, 7, 8, 9, 10, 11 } };
    ASSERT_HR(REGDB_E_CLASSNOTREG, CoCreateInstance(&nope, NULL, CLSCTX_LOCAL_SERVER, &IID_IUnknown, (void **)&p));
    CoUninitialize();
}

/* Begin_Concat with the Nth allocation failing, for N = 0..19; each call
 * either fails with E_OUTOFMEMORY or runs to a right result (or to the
 * server's own E_OUTOFMEMORY). Returns how many Begin_ failed. */
static int concat_oom_sweep(AsyncICalc *call)
{
    int failures = 0;
    for (long n = 0; n < 20; n++) {
        AmrtFailAllocationAfter(n);
        HRESULT hr = AsyncICalc_Begin_Concat(call, (LPCWSTR)u"ab", (LPCWSTR)u"cd");
        AmrtFailAllocationAfter(-1);
        if (hr == E_OUTOFMEMORY) {
            failures++;
            continue;
        }
        ASSERT_HR(S_OK, hr);
        LPWSTR s = NULL;
        hr = AsyncICalc_Finish_Concat(call, &s);
        ASSERT(hr == S_OK || hr == E_OUTOFMEMORY);  /* the server's own allocation may be the one */
        if (hr == S_OK)
            ASSERT(s && s[0] == 'a' && s[3] == 'd' && s[4] == 0);
        CoTaskMemFree(s);
    }
    return failures;
}

TEST(begin_out_of_memory_at_every_allocation)
{
    ICalc *px = proxy();
    AsyncICalc *call = new_call(px);
    ASSERT_EQ(concat_oom_sweep(call), 2);     /* the two string copies: the frame lives in the call object */
    AsyncICalc_Release(call);
    finish_all(px);
}

/* After a canceled call's Finish_, its frame stays with the worker until
 * the server returns, and the next call gets a frame of its own: each of
 * its allocations (the frame, its block, the strings) may fail too. */
TEST(begin_out_of_memory_while_a_canceled_call_runs)
{
    ICalc *px = proxy();
    AsyncICalc *call = new_call(px);
    ICancelMethodCalls *cm;
    LONG canceled = 5;
    calc_slow_step_ns = 900000000;      /* the server looks at CoTestCancel every 0.9 s */
    ASSERT_HR(S_OK, AsyncICalc_QueryInterface(call, &IID_ICancelMethodCalls, (void **)&cm));
    ASSERT_HR(S_OK, AsyncICalc_Begin_Slow(call, 5000));
    sleep_ms(100);                      /* the server is past its first look, asleep */
    ASSERT_HR(S_OK, ICancelMethodCalls_Cancel(cm, 0));
    ASSERT_HR(RPC_E_CALL_CANCELED, AsyncICalc_Finish_Slow(call, &canceled));
    ASSERT_EQ(canceled, 5);
    ASSERT(concat_oom_sweep(call) >= 3);
    ICancelMethodCalls_Release(cm);
    AsyncICalc_Release(call);
    finish_all(px);                     /* waits for the canceled call's server */
    calc_slow_step_ns = 2000000;
}

/* every allocation on the way to a call object may fail: AmrtCreateProxy,
 * the proxy's interfaces, CreateCall (plain and with a server call object);
 * each failure is E_OUTOFMEMORY with a NULL out pointer, nothing leaks
 * (finish_all counts the live objects; valgrind and ASan run this too) */
TEST(create_call_out_of_memory_at_every_allocation)
{
    for (int server = 0; server < 2; server++) {
        int failures = 0, successes = 0;
        for (long n = 0; n < 12; n++) {
            ASSERT(SUCCEEDED(CoInitializeEx(NULL, COINIT_MULTITHREADED)));
            ICalc *obj = server ? new_server() : new_calc(), *px = (ICalc *)1;
            ICallFactory *f = (ICallFactory *)1;
            AsyncICalc *call = (AsyncICalc *)1;
            AmrtFailAllocationAfter(n);
            HRESULT hr = AmrtCreateProxy((IUnknown *)obj, &IID_ICalc, (void **)&px);
            if (SUCCEEDED(hr)) {
                hr = ICalc_QueryInterface(px, &IID_ICallFactory, (void **)&f);
                if (SUCCEEDED(hr)) {
                    hr = ICallFactory_CreateCall(f, &IID_AsyncICalc, NULL, &IID_AsyncICalc, (IUnknown **)&call);
                    ICallFactory_Release(f);
                } else {
                    ASSERT(f == NULL);
                }
            } else {
                ASSERT(px == NULL);
            }
            AmrtFailAllocationAfter(-1);
            ICalc_Release(obj);
            if (FAILED(hr)) {
                ASSERT_HR(E_OUTOFMEMORY, hr);
                ASSERT(call == NULL || call == (AsyncICalc *)1);
                failures++;
            } else {
                LONG sum = 0;
                ASSERT_HR(S_OK, AsyncICalc_Begin_Add(call, 40, 2));
                ASSERT_HR(S_OK, AsyncICalc_Finish_Add(call, &sum));
                ASSERT_EQ(sum, server ? 1042 : 42);
                AsyncICalc_Release(call);
                successes++;
            }
            if (px != (ICalc *)1 && px)
                ICalc_Release(px);
            CoUninitialize();
            ASSERT_EQ(atomic_load(&live), 0);
        }
        ASSERT(failures >= 3 && successes >= 1);
    }
}

/* Finish_ only hands over what the call already holds: with every
 * allocation failing it still delivers the [out] string and array */
TEST(finish_allocates_nothing)
{
    ICalc *px = proxy();
    AsyncICalc *call = new_call(px);
    ISynchronize *sync;
    LPWSTR s = NULL;
    ASSERT_HR(S_OK, AsyncICalc_QueryInterface(call, &IID_ISynchronize, (void **)&sync));
    ASSERT_HR(S_OK, AsyncICalc_Begin_Concat(call, (LPCWSTR)u"fin", (LPCWSTR)u"ish"));
    ASSERT_HR(S_OK, ISynchronize_Wait(sync, 0, INFINITE));
    AmrtFailAllocationAfter(0);
    HRESULT hr = AsyncICalc_Finish_Concat(call, &s);
    AmrtFailAllocationAfter(-1);
    ASSERT_HR(S_OK, hr);
    ASSERT(s && !memcmp(s, u"finish", 14));
    CoTaskMemFree(s);
    ISynchronize_Release(sync);
    AsyncICalc_Release(call);
    finish_all(px);
}

/* ---- I6: the last CoUninitialize waits for every worker's references ----
 *
 * After a call's completion is visible (Finish_ returned, or the call was
 * canceled or released unfinished), a worker of the runtime may still hold
 * the call object, and through it the server: on its way out of the
 * method, lingering on the call for its next Begin_, signaling, dropping
 * its counted references. Once the last CoUninitialize returns none does,
 * so when the program holds nothing, nothing is left. Each way a worker
 * holds a call is run many times while two threads keep both CPUs busy,
 * so that the workers lose their CPU at every point of those paths; the
 * loops are bounded by their counts, no clock is read. */

/* an outer object on the heap, counted in 'live': it owns the call object
 * it aggregates and frees it with itself */
typedef struct HeapOuter { IUnknown iface; atomic_long refs; IUnknown *inner; } HeapOuter;
static HRESULT STDMETHODCALLTYPE ho_qi(IUnknown *This, REFIID riid, void **ppv)
{
    if (IsEqualIID(riid, &IID_IUnknown)) { *ppv = This; IUnknown_AddRef(This); return S_OK; }
    return IUnknown_QueryInterface(((HeapOuter *)This)->inner, riid, ppv);
}
static ULONG STDMETHODCALLTYPE ho_addref(IUnknown *This) { return (ULONG)atomic_fetch_add(&((HeapOuter *)This)->refs, 1) + 1; }
static ULONG STDMETHODCALLTYPE ho_release(IUnknown *This)
{
    HeapOuter *o = (HeapOuter *)This;
    long r = atomic_fetch_sub(&o->refs, 1) - 1;
    if (!r) {
        atomic_store(&o->refs, 1);      /* the inner's last Release may reach us again: stabilized */
        if (o->inner) IUnknown_Release(o->inner);
        free(o);
        atomic_fetch_sub(&live, 1);
    }
    return (ULONG)r;
}
static IUnknownVtbl ho_vtbl = { ho_qi, ho_addref, ho_release };

static atomic_int i6_stop;
static void *i6_spin(void *arg)
{
    (void)arg;
    while (!atomic_load_explicit(&i6_stop, memory_order_relaxed))
        ;
    return NULL;
}

/* the ways of i6_round; each leaves the call object released, the call
 * finished or not */
enum { I6_FAST, I6_FAST_RELEASED_RUNNING, I6_CANCELED_THEN_ANOTHER, I6_AGGREGATED, I6_SERVER_ASYNC, I6_WAYS };

static void i6_round(int way)
{
    ASSERT(SUCCEEDED(CoInitializeEx(NULL, COINIT_MULTITHREADED)));
    ICalc *obj = way == I6_SERVER_ASYNC ? new_server() : new_calc(), *px = NULL;
    ASSERT_HR(S_OK, AmrtCreateProxy((IUnknown *)obj, &IID_ICalc, (void **)&px));
    ICalc_Release(obj);
    AsyncICalc *call = NULL;
    LONG sum = 0, canceled = 0;
    if (way == I6_AGGREGATED) {
        HeapOuter *o = calloc(1, sizeof *o);
        ASSERT(o);
        o->iface.lpVtbl = &ho_vtbl;
        atomic_init(&o->refs, 1);
        atomic_fetch_add(&live, 1);
        ICallFactory *f;
        ASSERT_HR(S_OK, ICalc_QueryInterface(px, &IID_ICallFactory, (void **)&f));
        ASSERT_HR(S_OK, ICallFactory_CreateCall(f, &IID_AsyncICalc, &o->iface, &IID_IUnknown, &o->inner));
        ICallFactory_Release(f);
        ASSERT_HR(S_OK, IUnknown_QueryInterface(&o->iface, &IID_AsyncICalc, (void **)&call));
        IUnknown_Release(&o->iface);    /* the call's reference keeps the outer */
    } else {
        call = new_call(px);
    }
    switch (way) {
    case I6_FAST:                       /* the worker may linger on the call when it is released */
    case I6_AGGREGATED:                 /* the worker signals the outer, then drops its references */
    case I6_SERVER_ASYNC:               /* the worker drops its references after the server's Begin_ */
        for (int k = 0; k < 3; k++) {
            ASSERT_HR(S_OK, AsyncICalc_Begin_Add(call, k, 1));
            ASSERT_HR(S_OK, AsyncICalc_Finish_Add(call, &sum));
            ASSERT_EQ(sum, (way == I6_SERVER_ASYNC ? 1000 : 0) + k + 1);
        }
        break;
    case I6_FAST_RELEASED_RUNNING:      /* B9: the worker frees the call it still runs */
        ASSERT_HR(S_OK, AsyncICalc_Begin_Add(call, 1, 2));
        break;
    case I6_CANCELED_THEN_ANOTHER:      /* a detached worker still has the frame; the next call is counted */
        ASSERT_HR(S_OK, AsyncICalc_Begin_Slow(call, 60000));
        {
            ICancelMethodCalls *cm;
            ASSERT_HR(S_OK, AsyncICalc_QueryInterface(call, &IID_ICancelMethodCalls, (void **)&cm));
            ASSERT_HR(S_OK, ICancelMethodCalls_Cancel(cm, 0));
            ICancelMethodCalls_Release(cm);
        }
        ASSERT_HR(RPC_E_CALL_CANCELED, AsyncICalc_Finish_Slow(call, &canceled));
        ASSERT_HR(S_OK, AsyncICalc_Begin_Add(call, 2, 2));
        ASSERT_HR(S_OK, AsyncICalc_Finish_Add(call, &sum));
        ASSERT_EQ(sum, 4);
        break;
    }
    AsyncICalc_Release(call);
    ICalc_Release(px);
    CoUninitialize();
    if (atomic_load(&live) != 0) {
        fprintf(stderr, "way %d: %ld object(s) still live after the last CoUninitialize\n", way,
                (long)atomic_load(&live));
        exit(1);
    }
}

/* valgrind runs one thread at a time: spinning threads cannot load the
 * other CPU there, they only take the test's own time slices (a loaded
 * full run then spent more than 200 s in this test) */
static bool under_valgrind(void)
{
    const char *p = getenv("LD_PRELOAD");
    return p && strstr(p, "vgpreload");
}

TEST(I6_the_last_couninitialize_waits_for_every_worker_reference)
{
    bool vg = under_valgrind();
    int rounds = vg ? 10 : 60, spinners = vg ? 0 : 2;
    pthread_t spin[2];
    long step = calc_slow_step_ns;
    calc_slow_step_ns = 0;              /* a canceled Slow returns as soon as it looks */
    for (int i = 0; i < spinners; i++)
        ASSERT(pthread_create(&spin[i], NULL, i6_spin, NULL) == 0);
    for (int r = 0; r < rounds; r++)
        for (int way = 0; way < I6_WAYS; way++)
            i6_round(way);
    atomic_store(&i6_stop, 1);
    for (int i = 0; i < spinners; i++)
        pthread_join(spin[i], NULL);
    calc_slow_step_ns = step;
}

RUN_TESTS(ENTRY(B1_B16_no_call_factory_means_no_async), ENTRY(B2_B3_create_call_results),
          ENTRY(B4_B14_aggregated_call_object_uses_the_outer_isynchronize), ENTRY(B5_client_flow),
          ENTRY(B15_E1_E7_create_call_may_fail_then_use_the_sync_interface), ENTRY(B6_one_call_at_a_time),
          ENTRY(B7_finish_without_call), ENTRY(B8_finish_returns_what_the_sync_method_returns),
          ENTRY(B9_release_without_finish), ENTRY(B10_reusable_after_finish), ENTRY(B11_B12_B13_E5_isynchronize_of_the_call),
          ENTRY(B17_null_ref_pointer_fails_at_begin), ENTRY(B18_begin_copies_in_data), ENTRY(D1_D2_D3_D5_D6_D8_D9_D10_D11_D12_cancel), ENTRY(E8_async_manager_on_call_objects),
          ENTRY(B19_calls_stay_asynchronous_in_the_mta), ENTRY(E6_server_begin_hands_off_and_checks_test_cancel),
          ENTRY(D4_D7_cancel_after_completion_in_the_interval), ENTRY(D7_cancel_with_no_time_while_the_server_watches),
          ENTRY(D10_D11_cocancelcall_and_the_threads_that_enable_it), ENTRY(F1_F2_F3_no_client_security_no_server_context),
          ENTRY(E2_E3_E7_aggregated_server_call_object_signals_the_outer),
          ENTRY(E4_unaggregated_server_call_object_exposes_isynchronize), ENTRY(I4_proxy_forwards_and_holds_the_object), ENTRY(I5_local_server_is_reached_through_the_proxy),
          ENTRY(begin_out_of_memory_at_every_allocation), ENTRY(begin_out_of_memory_while_a_canceled_call_runs),
          ENTRY(create_call_out_of_memory_at_every_allocation),
          ENTRY(finish_allocates_nothing), ENTRY(D13_disable_balances_an_enable_and_the_count_survives_initialization),
          ENTRY(enable_cancellation_without_a_free_key),
          ENTRY(B20_finish_of_another_method_is_unexpected), ENTRY(B21_null_ref_out_pointer_at_finish),
          ENTRY(B22_begin_after_the_last_couninitialize), ENTRY(co_switch_call_context),
          ENTRY(C14_B11_a_completed_call_stays_signaled_in_a_container),
          ENTRY(I6_the_last_couninitialize_waits_for_every_worker_reference))
