/*
 * oop-callas.c - [local] methods with [call_as] twins across a process
 * boundary (tests/suites/oop.sh; RULES.md A10, J4, J5). One executable,
 * two roles:
 *
 *   oop-callas server   registers CLSID_OopCallAs (an object with ICallAs and
 *                       ICallAs2) for CLSCTX_LOCAL_SERVER, prints "ready PID",
 *                       serves until SIGTERM; exits 0 when every object was released
 *   oop-callas client   calls the [local] methods through a proxy of that object
 *                       (synchronously and through call objects) and through an
 *                       in-process proxy of one of its own
 *   oop-callas server srvasync / client srvasync
 *                       the same with an object that implements ICallFactory
 *                       itself (RULES.md E): the server's runtime passes the
 *                       twins' requests through AsyncICallAs_Begin_M_Stub and
 *                       AsyncICallAs_Finish_M_Stub to the object's own call
 *                       objects, whose results differ from the synchronous
 *                       methods'; the server's counters (read through Plain)
 *                       tell which conversion functions ran; a canceled call
 *                       reaches the server's call object
 *
 * The conversion functions below are the program's, named as MIDL names
 * them (ICallAs_Scale_Proxy, ICallAs_Scale_Stub, AsyncICallAs_Begin_Scale_Proxy,
 * ...). Each changes what it passes and leaves a mark in the results, so a
 * call that bypassed them (or went through one twice) shows.
 */
#define COBJMACROS
#include "amidlrt.h"
#include "callas.h"
#include "oop_serve.h"

#include <signal.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const CLSID CLSID_OopCallAs = { 0x5c1d7e40, 0x2a61, 0x4b0e, { 0x9a, 0x3f, 0x0d, 0x6e, 0x8b, 0x7c, 0x4a, 0x5f } };

/* ==================================================================== the program's conversions */

/* the server's counters: which conversion functions ran, what its own call
 * objects saw (a client reads counter k as Plain(-1 - k) of a server with
 * its own ICallFactory) */
enum { N_SCALE_STUB, N_BEGIN_SCALE_STUB, N_FINISH_SCALE_STUB, N_GREET_STUB, N_BEGIN_GREET_STUB,
       N_FINISH_GREET_STUB, N_CALLS_MADE, N_CALLS_LIVE, N_CANCELED, N_TOLD, N_COUNTERS };
static atomic_long counters[N_COUNTERS];
#define COUNT(k) atomic_fetch_add(&counters[k], 1)

/* the client's side: Scale's v goes as 10 * v + 1 */
HRESULT CALLBACK ICallAs_Scale_Proxy(ICallAs *This, LONG v, LONG *result, LONG *trace)
{
    HRESULT hr = ICallAs_RemoteScale_Proxy(This, 10 * v + 1, result, trace);
    if (SUCCEEDED(hr))
        *trace |= 0x4;
    return hr;
}

/* the server's side: the coded value back, then the object's own Scale */
HRESULT __RPC_STUB ICallAs_Scale_Stub(ICallAs *This, LONG coded, LONG *result, LONG *trace)
{
    COUNT(N_SCALE_STUB);
    if (coded % 10 != 1)
        return E_INVALIDARG;            /* not converted by ICallAs_Scale_Proxy */
    HRESULT hr = ICallAs_Scale(This, coded / 10, result, trace);
    if (SUCCEEDED(hr))
        *trace |= 0x2;
    return hr;
}

HRESULT CALLBACK AsyncICallAs_Begin_Scale_Proxy(AsyncICallAs *This, LONG v)
{
    return AsyncICallAs_Begin_RemoteScale_Proxy(This, 10 * v + 1);
}

HRESULT CALLBACK AsyncICallAs_Finish_Scale_Proxy(AsyncICallAs *This, LONG *result, LONG *trace)
{
    HRESULT hr = AsyncICallAs_Finish_RemoteScale_Proxy(This, result, trace);
    if (SUCCEEDED(hr))
        *trace |= 0x8;
    return hr;
}

/* a server whose object makes its own call objects gets these (server
 * srvasync); the synchronous object's server calls ICallAs_Scale_Stub */
HRESULT __RPC_STUB AsyncICallAs_Begin_Scale_Stub(AsyncICallAs *This, LONG coded)
{
    COUNT(N_BEGIN_SCALE_STUB);
    if (coded % 10 != 1)
        return E_INVALIDARG;
    return AsyncICallAs_Begin_Scale(This, coded / 10);
}

HRESULT __RPC_STUB AsyncICallAs_Finish_Scale_Stub(AsyncICallAs *This, LONG *result, LONG *trace)
{
    COUNT(N_FINISH_SCALE_STUB);
    HRESULT hr = AsyncICallAs_Finish_Scale(This, result, trace);
    if (SUCCEEDED(hr))
        *trace |= 0x2;
    return hr;
}

/* Greet: the name travels wrapped in <>; the stub adds 100, the proxies 1000 */
static HRESULT wrap(const char *name, char *buf, size_t cap)
{
    size_t n = name ? strlen(name) : 0;
    if (!name || n + 3 > cap)
        return E_INVALIDARG;
    buf[0] = '<';
    memcpy(buf + 1, name, n);
    buf[n + 1] = '>';
    buf[n + 2] = 0;
    return S_OK;
}

/* the inner name of "<name>" in buf (NULL: not wrapped) */
static const char *unwrap(const char *wrapped, char *buf, size_t cap)
{
    size_t n = wrapped ? strlen(wrapped) : 0;
    if (n < 2 || n - 1 > cap || wrapped[0] != '<' || wrapped[n - 1] != '>')
        return NULL;
    memcpy(buf, wrapped + 1, n - 2);
    buf[n - 2] = 0;
    return buf;
}

HRESULT CALLBACK ICallAs_Greet_Proxy(ICallAs *This, const char *name, LONG *len)
{
    char buf[256];
    HRESULT hr = wrap(name, buf, sizeof buf);
    if (SUCCEEDED(hr))
        hr = ICallAs_RemoteGreet_Proxy(This, buf, len);
    if (SUCCEEDED(hr))
        *len += 1000;
    return hr;
}

HRESULT __RPC_STUB ICallAs_Greet_Stub(ICallAs *This, const char *wrapped, LONG *len)
{
    COUNT(N_GREET_STUB);
    char buf[256];
    const char *name = unwrap(wrapped, buf, sizeof buf);
    if (!name)
        return E_INVALIDARG;
    HRESULT hr = ICallAs_Greet(This, name, len);
    if (SUCCEEDED(hr))
        *len += 100;
    return hr;
}

HRESULT CALLBACK AsyncICallAs_Begin_Greet_Proxy(AsyncICallAs *This, const char *name)
{
    char buf[256];                      /* Begin_ copies its [in] data */
    HRESULT hr = wrap(name, buf, sizeof buf);
    return SUCCEEDED(hr) ? AsyncICallAs_Begin_RemoteGreet_Proxy(This, buf) : hr;
}

HRESULT CALLBACK AsyncICallAs_Finish_Greet_Proxy(AsyncICallAs *This, LONG *len)
{
    HRESULT hr = AsyncICallAs_Finish_RemoteGreet_Proxy(This, len);
    if (SUCCEEDED(hr))
        *len += 1000;
    return hr;
}

HRESULT __RPC_STUB AsyncICallAs_Begin_Greet_Stub(AsyncICallAs *This, const char *wrapped)
{
    COUNT(N_BEGIN_GREET_STUB);
    char buf[256];
    const char *name = unwrap(wrapped, buf, sizeof buf);
    return name ? AsyncICallAs_Begin_Greet(This, name) : E_INVALIDARG;
}

HRESULT __RPC_STUB AsyncICallAs_Finish_Greet_Stub(AsyncICallAs *This, LONG *len)
{
    COUNT(N_FINISH_GREET_STUB);
    HRESULT hr = AsyncICallAs_Finish_Greet(This, len);
    if (SUCCEEDED(hr))
        *len += 100;
    return hr;
}

/* ==================================================================== the object */

static bool own_factory;                /* server srvasync: the objects implement ICallFactory */

typedef struct Obj { ICallAs2 iface; ICallFactory factory; atomic_long refs; } Obj;
static atomic_long live;

#define OBJ_F(p) ((Obj *)((char *)(p) - offsetof(Obj, factory)))

static HRESULT STDMETHODCALLTYPE o_qi(ICallAs2 *This, REFIID riid, void **ppv)
{
    Obj *o = (Obj *)This;
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_ICallAs) || IsEqualIID(riid, &IID_ICallAs2))
        *ppv = This;
    else if (own_factory && IsEqualIID(riid, &IID_ICallFactory))
        *ppv = &o->factory;
    else {
        *ppv = NULL;
        return E_NOINTERFACE;
    }
    atomic_fetch_add(&o->refs, 1);
    return S_OK;
}
static ULONG STDMETHODCALLTYPE o_addref(ICallAs2 *This) { return (ULONG)atomic_fetch_add(&((Obj *)This)->refs, 1) + 1; }
static ULONG STDMETHODCALLTYPE o_release(ICallAs2 *This) { return oop_release(&((Obj *)This)->refs, This, &live, NULL); }
static HRESULT STDMETHODCALLTYPE o_scale(ICallAs2 *This, LONG v, LONG *result, LONG *trace)
{
    (void)This;
    *result = 2 * v;
    *trace = 0x10;
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE o_greet(ICallAs2 *This, const char *name, LONG *len)
{
    (void)This;
    *len = (LONG)strlen(name);
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE o_local(ICallAs2 *This, LONG v, LONG *r) { (void)This; *r = v + 1; return S_OK; }
static HRESULT STDMETHODCALLTYPE o_plain(ICallAs2 *This, LONG v, LONG *r) { (void)This; *r = v + 2; return S_OK; }
static HRESULT STDMETHODCALLTYPE o_twice(ICallAs2 *This, LONG v, LONG *r) { (void)This; *r = 2 * v; return S_OK; }
static ICallAs2Vtbl ovtbl = { o_qi, o_addref, o_release, o_scale, o_greet, o_local, o_plain, o_twice };

/* ---- the object's own call objects (server srvasync, RULES.md E1-E6):
 * aggregated in the runtime's controlling unknown, which they Signal.
 * Their results differ from the synchronous methods': Scale 3 * v with
 * trace 0x20, Greet 10 * strlen, Plain v + 3 (Plain(-1 - k): counter k),
 * Twice 3 * v. Scale(SLOW_V) works on a thread of its own until the client
 * cancels it (bounded) ---- */

enum { SLOW_V = 1000 };

typedef struct SC {
    OopCall c;                          /* first (oop_serve.h) */
    LONG value, trace;                  /* the call's results, written before the Signal */
    HRESULT hr;
} SC;

#define SC_ASYNC(p) ((SC *)OOP_CALL_ASYNC(p))

static const OopCallKind sc_kind = { { &IID_AsyncICallAs, &IID_AsyncICallAs2, NULL }, true, &counters[N_CALLS_LIVE],
                                     &counters[N_CALLS_MADE], &counters[N_TOLD] };

static void sc_done(SC *s, LONG value, LONG trace)
{
    s->value = value;
    s->trace = trace;
    s->hr = S_OK;
    oop_call_signal(&s->c);             /* done at once: signaled just before Begin_ returns (E2) */
}

OOP_CALL_DELEGATES(sa, AsyncICallAs2)

/* Scale(SLOW_V): a thread of the server's, holding the aggregate alive,
 * until the client's cancel reaches it (or the hang limit) */
static void *slow_work(void *arg)
{
    SC *s = arg;
    s->value = 1;
    s->trace = 0x20;
    s->hr = S_OK;
    if (oop_call_work(&s->c, hang_ms(), &counters[N_CANCELED]))
        s->hr = RPC_E_CALL_CANCELED;
    oop_call_end(&s->c);
    return NULL;
}

static HRESULT STDMETHODCALLTYPE sa_begin_scale(AsyncICallAs2 *This, LONG v)
{
    SC *s = SC_ASYNC(This);
    if (v != SLOW_V) {
        sc_done(s, 3 * v, 0x20);
        return S_OK;
    }
    return oop_call_start(&s->c, slow_work, s);
}
static HRESULT STDMETHODCALLTYPE sa_finish_scale(AsyncICallAs2 *This, LONG *result, LONG *trace)
{
    SC *s = SC_ASYNC(This);
    if (FAILED(s->hr))
        return s->hr;
    *result = s->value;
    *trace = s->trace;
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE sa_begin_greet(AsyncICallAs2 *This, const char *name)
{
    sc_done(SC_ASYNC(This), 10 * (LONG)strlen(name), 0);
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE sa_finish_greet(AsyncICallAs2 *This, LONG *len)
{
    *len = SC_ASYNC(This)->value;
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE sa_begin_local(AsyncICallAs2 *This, LONG v)
{
    sc_done(SC_ASYNC(This), v + 1, 0);  /* never from another process: the runtime refuses it */
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE sa_finish_local(AsyncICallAs2 *This, LONG *r)
{
    *r = SC_ASYNC(This)->value;
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE sa_begin_plain(AsyncICallAs2 *This, LONG v)
{
    sc_done(SC_ASYNC(This), v < 0 && v >= -N_COUNTERS ? (LONG)atomic_load(&counters[-1 - v]) : v + 3, 0);
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE sa_finish_plain(AsyncICallAs2 *This, LONG *r)
{
    *r = SC_ASYNC(This)->value;
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE sa_begin_twice(AsyncICallAs2 *This, LONG v)
{
    sc_done(SC_ASYNC(This), 3 * v, 0);
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE sa_finish_twice(AsyncICallAs2 *This, LONG *r)
{
    *r = SC_ASYNC(This)->value;
    return S_OK;
}
static AsyncICallAs2Vtbl sa_vtbl = { sa_qi, sa_addref, sa_release, sa_begin_scale, sa_finish_scale, sa_begin_greet,
                                     sa_finish_greet, sa_begin_local, sa_finish_local, sa_begin_plain, sa_finish_plain,
                                     sa_begin_twice, sa_finish_twice };

static HRESULT STDMETHODCALLTYPE f_qi(ICallFactory *This, REFIID riid, void **ppv)
{
    return o_qi(&OBJ_F(This)->iface, riid, ppv);
}
static ULONG STDMETHODCALLTYPE f_addref(ICallFactory *This) { return o_addref(&OBJ_F(This)->iface); }
static ULONG STDMETHODCALLTYPE f_release(ICallFactory *This) { return o_release(&OBJ_F(This)->iface); }
/* only aggregated call objects: the runtime is always the outer here */
static HRESULT STDMETHODCALLTYPE f_createcall(ICallFactory *This, REFIID riid, IUnknown *outer, REFIID riid2,
                                              IUnknown **ppv)
{
    (void)This;
    return oop_call_create(&sc_kind, sizeof(SC), &sa_vtbl, riid, outer, riid2, ppv);
}
static ICallFactoryVtbl fvtbl = { f_qi, f_addref, f_release, f_createcall };

static HRESULT new_obj(REFIID riid, void **ppv)
{
    Obj *o = calloc(1, sizeof *o);
    if (!o)
        return E_OUTOFMEMORY;
    o->iface.lpVtbl = &ovtbl;
    o->factory.lpVtbl = &fvtbl;
    atomic_init(&o->refs, 1);
    atomic_fetch_add(&live, 1);
    return oop_hand_out(&o->iface, riid, ppv);
}

static OopFactory factory = OOP_FACTORY(new_obj);

/* ==================================================================== the client */

/* what the calls give: across processes (remote) through the conversions,
 * in-process straight from the object */
static void sync_calls(ICallAs *p, bool remote)
{
    LONG result = -1, trace = -1, len = -1, r = -1;
    EXPECT_HR(S_OK, ICallAs_Scale(p, 21, &result, &trace));
    EXPECT(result == 42);
    EXPECT(trace == (remote ? 0x16 : 0x10));
    EXPECT_HR(S_OK, ICallAs_Greet(p, "hello", &len));
    EXPECT(len == (remote ? 1105 : 5));
    EXPECT_HR(remote ? E_NOTIMPL : S_OK, ICallAs_LocalOnly(p, 7, &r));
    EXPECT(r == (remote ? -1 : 8));
    EXPECT_HR(S_OK, ICallAs_Plain(p, 7, &r));
    EXPECT(r == 9);
}

static void async_calls(ICallAs *p, bool remote)
{
    AsyncICallAs *c = oop_new_call(p, &IID_AsyncICallAs);
    if (!c)
        return;
    for (int round = 0; round < 3; round++) {      /* the call object serves call after call */
        LONG result = -1, trace = -1, len = -1, r = -1;
        EXPECT_HR(S_OK, AsyncICallAs_Begin_Scale(c, 5 + round));
        EXPECT_HR(S_OK, AsyncICallAs_Finish_Scale(c, &result, &trace));
        EXPECT(result == 2 * (5 + round));
        EXPECT(trace == (remote ? 0x1a : 0x10));
        EXPECT_HR(S_OK, AsyncICallAs_Begin_Greet(c, "call object"));
        EXPECT_HR(S_OK, AsyncICallAs_Finish_Greet(c, &len));
        EXPECT(len == (remote ? 1111 : 11));
        EXPECT_HR(S_OK, AsyncICallAs_Begin_LocalOnly(c, 7));
        /* across: nothing to send, E_NOTIMPL (as the proxy's method) */
        EXPECT_HR(remote ? E_NOTIMPL : S_OK, AsyncICallAs_Finish_LocalOnly(c, &r));
        EXPECT(remote || r == 8);
        EXPECT_HR(S_OK, AsyncICallAs_Begin_Plain(c, 7));
        EXPECT_HR(S_OK, AsyncICallAs_Finish_Plain(c, &r));
        EXPECT(r == 9);
    }
    AsyncICallAs_Release(c);
}

/* the base's twins through the derived interface's proxy and call objects */
static void derived_calls(ICallAs *p, bool remote)
{
    ICallAs2 *d = NULL;
    EXPECT_HR(S_OK, ICallAs_QueryInterface(p, &IID_ICallAs2, (void **)&d));
    if (!d)
        return;
    LONG result = -1, trace = -1, len = -1, r = -1;
    EXPECT_HR(S_OK, ICallAs2_Scale(d, 4, &result, &trace));
    EXPECT(result == 8 && trace == (remote ? 0x16 : 0x10));
    EXPECT_HR(S_OK, ICallAs2_Greet(d, "abc", &len));
    EXPECT(len == (remote ? 1103 : 3));
    EXPECT_HR(remote ? E_NOTIMPL : S_OK, ICallAs2_LocalOnly(d, 1, &r));
    EXPECT_HR(S_OK, ICallAs2_Twice(d, 6, &r));
    EXPECT(r == 12);
    AsyncICallAs2 *c = oop_new_call(d, &IID_AsyncICallAs2);
    if (c) {
        result = trace = len = -1;
        EXPECT_HR(S_OK, AsyncICallAs2_Begin_Scale(c, 3));
        EXPECT_HR(S_OK, AsyncICallAs2_Finish_Scale(c, &result, &trace));
        EXPECT(result == 6 && trace == (remote ? 0x1a : 0x10));
        EXPECT_HR(S_OK, AsyncICallAs2_Begin_Greet(c, "abcd"));
        EXPECT_HR(S_OK, AsyncICallAs2_Finish_Greet(c, &len));
        EXPECT(len == (remote ? 1104 : 4));
        EXPECT_HR(S_OK, AsyncICallAs2_Begin_Twice(c, 5));
        EXPECT_HR(S_OK, AsyncICallAs2_Finish_Twice(c, &r));
        EXPECT(r == 10);
        AsyncICallAs2_Release(c);
    }
    ICallAs2_Release(d);
}

/* ---- client srvasync: the server's object makes its own call objects ---- */

/* the server's counter k (Plain(-1 - k) on its call objects) */
static long counter(ICallAs *p, int k)
{
    LONG r = -1;
    EXPECT_HR(S_OK, ICallAs_Plain(p, -1 - k, &r));
    return r;
}

static void srvasync_calls(ICallAs *p)
{
    long made = counter(p, N_CALLS_MADE);
    EXPECT(made >= 1);                  /* the counter's own call went through one */
    /* synchronous calls: the twins' requests reach the server's call
     * objects through AsyncICallAs_Begin_M_Stub/Finish_M_Stub */
    LONG result = -1, trace = -1, len = -1, r = -1;
    EXPECT_HR(S_OK, ICallAs_Scale(p, 21, &result, &trace));
    EXPECT(result == 63);               /* the call object's 3 * v: the stub gave it v back */
    EXPECT(trace == 0x26);              /* the call object 0x20, Finish_Scale_Stub 0x2, ICallAs_Scale_Proxy 0x4 */
    EXPECT_HR(S_OK, ICallAs_Greet(p, "hello", &len));
    EXPECT(len == 1150);                /* 10 * 5, Finish_Greet_Stub 100, ICallAs_Greet_Proxy 1000 */
    EXPECT_HR(E_NOTIMPL, ICallAs_LocalOnly(p, 7, &r));
    EXPECT_HR(S_OK, ICallAs_Plain(p, 7, &r));
    EXPECT(r == 10);
    /* through call objects, the client's conversions too */
    AsyncICallAs *c = oop_new_call(p, &IID_AsyncICallAs);
    if (c) {
        for (int round = 0; round < 3; round++) {
            result = trace = len = -1;
            EXPECT_HR(S_OK, AsyncICallAs_Begin_Scale(c, 5 + round));
            EXPECT_HR(S_OK, AsyncICallAs_Finish_Scale(c, &result, &trace));
            EXPECT(result == 3 * (5 + round));
            EXPECT(trace == 0x2a);      /* 0x20, 0x2, AsyncICallAs_Finish_Scale_Proxy 0x8 */
            EXPECT_HR(S_OK, AsyncICallAs_Begin_Greet(c, "call object"));
            EXPECT_HR(S_OK, AsyncICallAs_Finish_Greet(c, &len));
            EXPECT(len == 1210);
            EXPECT_HR(S_OK, AsyncICallAs_Begin_Plain(c, 8));
            EXPECT_HR(S_OK, AsyncICallAs_Finish_Plain(c, &r));
            EXPECT(r == 11);
        }
        /* cancel: the request reached the server's call object, which works
         * until the cancel reaches it (TestCancel, then its own Cancel) */
        long finishes = counter(p, N_FINISH_SCALE_STUB);
        ICancelMethodCalls *cm = NULL;
        EXPECT_HR(S_OK, AsyncICallAs_QueryInterface(c, &IID_ICancelMethodCalls, (void **)&cm));
        EXPECT_HR(S_OK, AsyncICallAs_Begin_Scale(c, SLOW_V));
        if (cm) {
            EXPECT_HR(S_OK, ICancelMethodCalls_Cancel(cm, 0));
            ICancelMethodCalls_Release(cm);
        }
        result = trace = -1;
        EXPECT_HR(RPC_E_CALL_CANCELED, AsyncICallAs_Finish_Scale(c, &result, &trace));
        EXPECT(result == -1 || result == 0);
        long waited = 0;
        while ((counter(p, N_TOLD) < 1 || counter(p, N_FINISH_SCALE_STUB) < finishes + 1) && waited < hang_ms()) {
            sleep_ms(5);
            waited += 5;
        }
        EXPECT(counter(p, N_CANCELED) == 1);
        EXPECT(counter(p, N_TOLD) == 1);
        EXPECT(counter(p, N_FINISH_SCALE_STUB) == finishes + 1);    /* the server finished it through the stub */
        /* the call object serves on */
        result = trace = -1;
        EXPECT_HR(S_OK, AsyncICallAs_Begin_Scale(c, 2));
        EXPECT_HR(S_OK, AsyncICallAs_Finish_Scale(c, &result, &trace));
        EXPECT(result == 6 && trace == 0x2a);
        AsyncICallAs_Release(c);
    }
    /* the base's twins through the derived interface */
    ICallAs2 *d = NULL;
    EXPECT_HR(S_OK, ICallAs_QueryInterface(p, &IID_ICallAs2, (void **)&d));
    if (d) {
        result = trace = len = r = -1;
        EXPECT_HR(S_OK, ICallAs2_Scale(d, 4, &result, &trace));
        EXPECT(result == 12 && trace == 0x26);
        EXPECT_HR(S_OK, ICallAs2_Greet(d, "abc", &len));
        EXPECT(len == 1130);
        EXPECT_HR(S_OK, ICallAs2_Twice(d, 6, &r));
        EXPECT(r == 18);
        AsyncICallAs2 *c2 = oop_new_call(d, &IID_AsyncICallAs2);
        if (c2) {
            result = trace = len = -1;
            EXPECT_HR(S_OK, AsyncICallAs2_Begin_Scale(c2, 3));
            EXPECT_HR(S_OK, AsyncICallAs2_Finish_Scale(c2, &result, &trace));
            EXPECT(result == 9 && trace == 0x2a);
            EXPECT_HR(S_OK, AsyncICallAs2_Begin_Greet(c2, "abcd"));
            EXPECT_HR(S_OK, AsyncICallAs2_Finish_Greet(c2, &len));
            EXPECT(len == 1140);
            EXPECT_HR(S_OK, AsyncICallAs2_Begin_Twice(c2, 5));
            EXPECT_HR(S_OK, AsyncICallAs2_Finish_Twice(c2, &r));
            EXPECT(r == 15);
            AsyncICallAs2_Release(c2);
        }
        ICallAs2_Release(d);
    }
    /* released without Finish_ (B9, J8): the server still finishes it
     * through the stub, its reply is discarded */
    c = oop_new_call(p, &IID_AsyncICallAs);
    if (c) {
        EXPECT_HR(S_OK, AsyncICallAs_Begin_Greet(c, "gone"));
        AsyncICallAs_Release(c);
    }
    for (long waited = 0; counter(p, N_FINISH_GREET_STUB) < 7 && waited < hang_ms(); waited += 5)
        sleep_ms(5);
    /* which conversions ran: every Scale and Greet through the async
     * stubs (1 + 3 + 1 + 1 + 1 + 1 Scale: synchronous, call object,
     * canceled, after it, derived twice; 1 + 3 + 2 + 1 Greet), never
     * through ICallAs_M_Stub (the synchronous method's) */
    EXPECT(counter(p, N_SCALE_STUB) == 0);
    EXPECT(counter(p, N_GREET_STUB) == 0);
    EXPECT(counter(p, N_BEGIN_SCALE_STUB) == 8);
    EXPECT(counter(p, N_FINISH_SCALE_STUB) == 8);
    EXPECT(counter(p, N_BEGIN_GREET_STUB) == 7);
    EXPECT(counter(p, N_FINISH_GREET_STUB) == 7);
    EXPECT(counter(p, N_CALLS_MADE) > made + 20);   /* one server call object per call */
    /* none of them is left but the one answering (the canceled call's
     * thread let go of its own: bounded wait) */
    for (long waited = 0; counter(p, N_CALLS_LIVE) != 1 && waited < hang_ms(); waited += 5)
        sleep_ms(5);
    EXPECT(counter(p, N_CALLS_LIVE) == 1);
}

static int client_srvasync(void)
{
    if (FAILED(CoInitializeEx(NULL, COINIT_MULTITHREADED)))
        return 1;
    ICallAs *p = NULL;
    if (FAILED(oop_create(&CLSID_OopCallAs, &IID_ICallAs, (void **)&p)))
        return 1;
    srvasync_calls(p);
    ICallAs_Release(p);
    EXPECT(oop_pool_workers() == 0);
    CoUninitialize();
    if (!failures)
        printf("oop-callas srvasync: all held\n");
    return failures ? 1 : 0;
}

static int client(void)
{
    if (FAILED(CoInitializeEx(NULL, COINIT_MULTITHREADED)))
        return 1;
    /* across the process boundary: the twins go, converted on each side */
    ICallAs *p = NULL;
    if (FAILED(oop_create(&CLSID_OopCallAs, &IID_ICallAs, (void **)&p)))
        return 1;
    sync_calls(p, true);
    async_calls(p, true);
    derived_calls(p, true);
    ICallAs_Release(p);
    /* the call objects' calls went without a worker, the [local] method's
     * too (nothing to send: E_NOTIMPL at once) */
    EXPECT(oop_pool_workers() == 0);
    /* in-process: the runtime's proxy of an object of ours calls the local
     * methods themselves, no conversion */
    IUnknown *own = NULL;
    EXPECT_HR(S_OK, new_obj(&IID_IUnknown, (void **)&own));
    p = NULL;
    if (own) {
        EXPECT_HR(S_OK, AmrtCreateProxy(own, &IID_ICallAs, (void **)&p));
        IUnknown_Release(own);
    }
    if (p) {
        sync_calls(p, false);
        async_calls(p, false);
        derived_calls(p, false);
        ICallAs_Release(p);
    }
    CoUninitialize();
    EXPECT(atomic_load(&live) == 0);
    if (!failures)
        printf("oop-callas: all held\n");
    return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    bool srvasync = argc == 3 && strcmp(argv[2], "srvasync") == 0;
    if ((argc == 2 || srvasync) && strcmp(argv[1], "server") == 0) {
        own_factory = srvasync;
        int rc = oop_serve(&CLSID_OopCallAs, &factory, &live, "oop-callas server");
        if (rc == 0 && atomic_load(&counters[N_CALLS_LIVE])) {
            fprintf(stderr, "oop-callas server: %ld call objects still alive\n", (long)atomic_load(&counters[N_CALLS_LIVE]));
            rc = 3;
        }
        return rc;
    }
    if ((argc == 2 || srvasync) && strcmp(argv[1], "client") == 0)
        return srvasync ? client_srvasync() : client();
    fprintf(stderr, "usage: oop-callas server|client [srvasync]\n");
    return 2;
}
