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

#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const CLSID CLSID_OopCallAs = { 0x5c1d7e40, 0x2a61, 0x4b0e, { 0x9a, 0x3f, 0x0d, 0x6e, 0x8b, 0x7c, 0x4a, 0x5f } };

static int failures;
#define EXPECT(cond) do { if (!(cond)) { fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #cond); failures++; } } while (0)
#define EXPECT_HR(expect, expr) do { HRESULT hr_ = (expr); if (hr_ != (HRESULT)(expect)) { \
        fprintf(stderr, "%s:%d: %s returned 0x%08x, expected 0x%08x\n", __FILE__, __LINE__, #expr, (unsigned)hr_, \
                (unsigned)(HRESULT)(expect)); failures++; } } while (0)

/* ==================================================================== the program's conversions */

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

/* a server whose object makes its own call objects would get these (the
 * object here is synchronous: the server calls ICallAs_Scale_Stub) */
HRESULT __RPC_STUB AsyncICallAs_Begin_Scale_Stub(AsyncICallAs *This, LONG coded)
{
    if (coded % 10 != 1)
        return E_INVALIDARG;
    return AsyncICallAs_Begin_Scale(This, coded / 10);
}

HRESULT __RPC_STUB AsyncICallAs_Finish_Scale_Stub(AsyncICallAs *This, LONG *result, LONG *trace)
{
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
    char buf[256];
    const char *name = unwrap(wrapped, buf, sizeof buf);
    return name ? AsyncICallAs_Begin_Greet(This, name) : E_INVALIDARG;
}

HRESULT __RPC_STUB AsyncICallAs_Finish_Greet_Stub(AsyncICallAs *This, LONG *len)
{
    HRESULT hr = AsyncICallAs_Finish_Greet(This, len);
    if (SUCCEEDED(hr))
        *len += 100;
    return hr;
}

/* ==================================================================== the object */

typedef struct Obj { ICallAs2 iface; atomic_long refs; } Obj;
static atomic_long live;

static HRESULT STDMETHODCALLTYPE o_qi(ICallAs2 *This, REFIID riid, void **ppv)
{
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_ICallAs) || IsEqualIID(riid, &IID_ICallAs2)) {
        *ppv = This;
        atomic_fetch_add(&((Obj *)This)->refs, 1);
        return S_OK;
    }
    *ppv = NULL;
    return E_NOINTERFACE;
}
static ULONG STDMETHODCALLTYPE o_addref(ICallAs2 *This) { return (ULONG)atomic_fetch_add(&((Obj *)This)->refs, 1) + 1; }
static ULONG STDMETHODCALLTYPE o_release(ICallAs2 *This)
{
    long r = atomic_fetch_sub(&((Obj *)This)->refs, 1) - 1;
    if (!r) {
        free(This);
        atomic_fetch_sub(&live, 1);
    }
    return (ULONG)r;
}
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

static HRESULT new_obj(REFIID riid, void **ppv)
{
    Obj *o = calloc(1, sizeof *o);
    if (!o)
        return E_OUTOFMEMORY;
    o->iface.lpVtbl = &ovtbl;
    atomic_init(&o->refs, 1);
    atomic_fetch_add(&live, 1);
    HRESULT hr = o_qi(&o->iface, riid, ppv);
    o_release(&o->iface);
    return hr;
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
    ICallFactory *cf = NULL;
    AsyncICallAs *c = NULL;
    EXPECT_HR(S_OK, ICallAs_QueryInterface(p, &IID_ICallFactory, (void **)&cf));
    if (!cf)
        return;
    EXPECT_HR(S_OK, ICallFactory_CreateCall(cf, &IID_AsyncICallAs, NULL, &IID_AsyncICallAs, (IUnknown **)&c));
    ICallFactory_Release(cf);
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
        /* across: the server refuses it (the call object sends it as it is) */
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
    ICallFactory *cf = NULL;
    AsyncICallAs2 *c = NULL;
    EXPECT_HR(S_OK, ICallAs2_QueryInterface(d, &IID_ICallFactory, (void **)&cf));
    if (cf) {
        EXPECT_HR(S_OK, ICallFactory_CreateCall(cf, &IID_AsyncICallAs2, NULL, &IID_AsyncICallAs2, (IUnknown **)&c));
        ICallFactory_Release(cf);
    }
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

static int client(void)
{
    if (FAILED(CoInitializeEx(NULL, COINIT_MULTITHREADED)))
        return 1;
    /* across the process boundary: the twins go, converted on each side */
    ICallAs *p = NULL;
    HRESULT hr = CoCreateInstance(&CLSID_OopCallAs, NULL, CLSCTX_LOCAL_SERVER, &IID_ICallAs, (void **)&p);
    if (FAILED(hr)) {
        fprintf(stderr, "CoCreateInstance: 0x%08x\n", (unsigned)hr);
        return 1;
    }
    sync_calls(p, true);
    async_calls(p, true);
    derived_calls(p, true);
    ICallAs_Release(p);
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
    if (argc == 2 && strcmp(argv[1], "server") == 0)
        return oop_serve(&CLSID_OopCallAs, &factory, &live, "oop-callas server");
    if (argc == 2 && strcmp(argv[1], "client") == 0)
        return client();
    fprintf(stderr, "usage: oop-callas server|client\n");
    return 2;
}
