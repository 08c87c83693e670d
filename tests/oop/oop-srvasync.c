/*
 * oop-srvasync.c - server-side asynchronous processing across the process
 * boundary, and the server's lifetime helpers (tests/suites/oop.sh; RULES.md
 * E, J5, J7; CoAddRefServerProcess, CoReleaseServerProcess,
 * CoSuspendClassObjects, CoResumeClassObjects). One executable, two roles:
 *
 *   oop-srvasync server [--procrefs] [--suspended]
 *       registers CLSID_SrvAsyncTest (an object with ISrvAsync, ISrvInfo and
 *       ICallFactory, whose call objects for AsyncISrvAsync do the work: their
 *       results differ from the synchronous methods') for CLSCTX_LOCAL_SERVER,
 *       prints "ready PID", serves until SIGTERM; exits 0 when every object and
 *       call object was released.
 *       --procrefs: each object calls CoAddRefServerProcess when made and
 *       CoReleaseServerProcess when it goes; the release that returns 0 prints
 *       "suspended 0".
 *       --suspended: registers with REGCLS_SUSPENDED; SIGUSR1 makes it call
 *       CoResumeClassObjects and print "resumed".
 *   oop-srvasync client CASE     runs one case against that server, exits 0 when it held
 *
 * Every wait is bounded (a limit that only catches hangs).
 */
#define COBJMACROS
#include "amidlrt.h"
#include "srvasync.h"
#include "oop_serve.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ==================================================================== the server */

static atomic_long live, calls_live, begins, finishes, syncs, running, canceled, told, procrefs, mgr;
static bool use_procrefs;

typedef struct Obj {
    ISrvAsync a;
    ISrvInfo i;
    ICallFactory f;
    atomic_long refs;
    atomic_bool no_factory;
} Obj;

#define OBJ_A(p) ((Obj *)(p))
#define OBJ_I(p) ((Obj *)((char *)(p) - offsetof(Obj, i)))
#define OBJ_F(p) ((Obj *)((char *)(p) - offsetof(Obj, f)))

static HRESULT obj_qi(Obj *o, REFIID riid, void **ppv)
{
    *ppv = NULL;
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_ISrvAsync))
        *ppv = &o->a;
    else if (IsEqualIID(riid, &IID_ISrvInfo))
        *ppv = &o->i;
    else if (IsEqualIID(riid, &IID_ICallFactory) && !atomic_load(&o->no_factory))
        *ppv = &o->f;                   /* E1: the object makes its own call objects */
    else
        return E_NOINTERFACE;
    atomic_fetch_add(&o->refs, 1);
    return S_OK;
}

static ULONG obj_release(Obj *o)
{
    long r = atomic_fetch_sub(&o->refs, 1) - 1;
    if (r == 0) {
        free(o);
        atomic_fetch_sub(&live, 1);
        if (use_procrefs) {
            ULONG n = CoReleaseServerProcess();
            atomic_store(&procrefs, (long)n);
            if (n == 0) {
                printf("suspended %lu\n", (unsigned long)n);
                fflush(stdout);
            }
        }
    }
    return (ULONG)r;
}

/* ---- ISrvAsync: the synchronous methods ---- */

static HRESULT STDMETHODCALLTYPE a_qi(ISrvAsync *This, REFIID riid, void **ppv) { return obj_qi(OBJ_A(This), riid, ppv); }
static ULONG STDMETHODCALLTYPE a_addref(ISrvAsync *This) { return (ULONG)atomic_fetch_add(&OBJ_A(This)->refs, 1) + 1; }
static ULONG STDMETHODCALLTYPE a_release(ISrvAsync *This) { return obj_release(OBJ_A(This)); }
static HRESULT STDMETHODCALLTYPE a_add(ISrvAsync *This, LONG a, LONG b, LONG *sum)
{
    (void)This;
    atomic_fetch_add(&syncs, 1);
    *sum = a + b;
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE a_slow(ISrvAsync *This, DWORD ms, LONG *how)
{
    (void)This;
    (void)ms;
    atomic_fetch_add(&syncs, 1);
    *how = 0;
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE a_refuse(ISrvAsync *This, HRESULT hr)
{
    (void)This;
    (void)hr;
    atomic_fetch_add(&syncs, 1);
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE a_scale(ISrvAsync *This, LONG *v)
{
    (void)This;
    atomic_fetch_add(&syncs, 1);
    *v *= 2;
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE a_complete(ISrvAsync *This, HRESULT hr, LONG *v)
{
    (void)This;
    (void)hr;
    atomic_fetch_add(&syncs, 1);
    *v = 0;
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE a_complete_later(ISrvAsync *This, HRESULT hr, DWORD ms)
{
    (void)This;
    (void)hr;
    (void)ms;
    atomic_fetch_add(&syncs, 1);
    return S_OK;
}
static ISrvAsyncVtbl a_vtbl = { a_qi, a_addref, a_release, a_add, a_slow, a_refuse, a_scale, a_complete,
                                a_complete_later };

/* ---- ISrvInfo ---- */

static HRESULT STDMETHODCALLTYPE i_qi(ISrvInfo *This, REFIID riid, void **ppv) { return obj_qi(OBJ_I(This), riid, ppv); }
static ULONG STDMETHODCALLTYPE i_addref(ISrvInfo *This) { return (ULONG)atomic_fetch_add(&OBJ_I(This)->refs, 1) + 1; }
static ULONG STDMETHODCALLTYPE i_release(ISrvInfo *This) { return obj_release(OBJ_I(This)); }
static HRESULT STDMETHODCALLTYPE i_stats(ISrvInfo *This, LONG *b, LONG *f, LONG *s, LONG *r, LONG *c, LONG *t, LONG *p,
                                         LONG *g)
{
    *g = (LONG)atomic_load(&mgr);
    (void)This;
    *b = (LONG)atomic_load(&begins);
    *f = (LONG)atomic_load(&finishes);
    *s = (LONG)atomic_load(&syncs);
    *r = (LONG)atomic_load(&running);
    *c = (LONG)atomic_load(&canceled);
    *t = (LONG)atomic_load(&told);
    *p = (LONG)atomic_load(&procrefs);
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE i_nofactory(ISrvInfo *This, LONG off)
{
    atomic_store(&OBJ_I(This)->no_factory, off != 0);
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE i_threads(ISrvInfo *This, LONG *n)
{
    (void)This;
    *n = -1;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return E_FAIL;
    char line[256];
    long v = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "Threads: %ld", &v) == 1)
            break;
    fclose(f);
    *n = (LONG)v;
    return v > 0 ? S_OK : E_FAIL;
}
static ISrvInfoVtbl i_vtbl = { i_qi, i_addref, i_release, i_stats, i_nofactory, i_threads };

/* ---- the server's call objects (E1-E6): aggregatable; they Signal the
 * ISynchronize of their controlling unknown when the work is done ---- */

typedef struct SC {
    OopCall c;                          /* first (oop_serve.h) */
    /* the call's results, written before the Signal */
    LONG value;
    HRESULT hr;
    DWORD ms;
} SC;

#define SC_ASYNC(p) ((SC *)OOP_CALL_ASYNC(p))

static const OopCallKind sc_kind = { { &IID_AsyncISrvAsync, NULL }, false, &calls_live, NULL, &told };

OOP_CALL_DELEGATES(sa, AsyncISrvAsync)

static HRESULT STDMETHODCALLTYPE sa_begin_add(AsyncISrvAsync *This, LONG a, LONG b)
{
    SC *s = SC_ASYNC(This);
    atomic_fetch_add(&begins, 1);
    s->value = a + b + 1000;
    s->hr = S_OK;
    oop_call_signal(&s->c);             /* done at once: signaled just before Begin_ returns (E2) */
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE sa_finish_add(AsyncISrvAsync *This, LONG *sum)
{
    SC *s = SC_ASYNC(This);
    atomic_fetch_add(&finishes, 1);
    *sum = s->value;
    return s->hr;
}

/* the Slow work: a thread of the server's, holding the aggregate alive */
static void *slow_work(void *arg)
{
    SC *s = arg;
    s->value = 0;
    s->hr = S_OK;
    if (oop_call_work(&s->c, (long)s->ms, &canceled)) {
        s->value = 1;
        s->hr = RPC_E_CALL_CANCELED;
    }
    atomic_fetch_sub(&running, 1);
    oop_call_end(&s->c);
    return NULL;
}

static HRESULT STDMETHODCALLTYPE sa_begin_slow(AsyncISrvAsync *This, DWORD ms)
{
    SC *s = SC_ASYNC(This);
    atomic_fetch_add(&begins, 1);
    s->ms = ms;
    atomic_fetch_add(&running, 1);
    HRESULT hr = oop_call_start(&s->c, slow_work, s);
    if (FAILED(hr))
        atomic_fetch_sub(&running, 1);
    return hr;
}
static HRESULT STDMETHODCALLTYPE sa_finish_slow(AsyncISrvAsync *This, LONG *how)
{
    SC *s = SC_ASYNC(This);
    atomic_fetch_add(&finishes, 1);
    *how = s->value;
    return s->hr;
}

static HRESULT STDMETHODCALLTYPE sa_begin_refuse(AsyncISrvAsync *This, HRESULT hr)
{
    (void)This;
    atomic_fetch_add(&begins, 1);
    return hr;                          /* refused: no Signal, no Finish_ */
}
static HRESULT STDMETHODCALLTYPE sa_finish_refuse(AsyncISrvAsync *This)
{
    (void)This;
    atomic_fetch_add(&finishes, 1);
    return E_UNEXPECTED;
}

static HRESULT STDMETHODCALLTYPE sa_begin_scale(AsyncISrvAsync *This, LONG *v)
{
    SC *s = SC_ASYNC(This);
    atomic_fetch_add(&begins, 1);
    s->value = *v * 3;
    s->hr = S_OK;
    oop_call_signal(&s->c);
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE sa_finish_scale(AsyncISrvAsync *This, LONG *v)
{
    SC *s = SC_ASYNC(This);
    atomic_fetch_add(&finishes, 1);
    *v = s->value;
    return s->hr;
}
/* E8: the runtime's IAsyncManager on the controlling unknown ends the call */
static HRESULT STDMETHODCALLTYPE sa_begin_complete(AsyncISrvAsync *This, HRESULT hr)
{
    SC *s = SC_ASYNC(This);
    atomic_fetch_add(&begins, 1);
    IAsyncManager *m = NULL;
    if (FAILED(IUnknown_QueryInterface(s->c.outer, &IID_IAsyncManager, (void **)&m)) || !m)
        return S_OK;                    /* no Signal: the client's call would hang, and tell */
    bool good = true;
    ULONG st = 99;
    good &= IAsyncManager_GetState(m, &st) == S_OK && st == DCOM_NONE;
    good &= IAsyncManager_CompleteCall(m, S_OK) == E_INVALIDARG;
    good &= IAsyncManager_CompleteCall(m, hr) == S_OK;
    good &= IAsyncManager_CompleteCall(m, hr) == RPC_E_CALL_COMPLETE;
    good &= IAsyncManager_GetState(m, &st) == S_OK && st == DCOM_CALL_COMPLETE;
    IUnknown *ctx = NULL;
    good &= IAsyncManager_GetCallContext(m, &IID_ICancelMethodCalls, (void **)&ctx) == S_OK && ctx;
    if (ctx)
        IUnknown_Release(ctx);
    ctx = NULL;
    good &= IAsyncManager_GetCallContext(m, &IID_IServerSecurity, (void **)&ctx) == RPC_E_NO_CONTEXT && !ctx;
    IAsyncManager_Release(m);
    if (good)
        atomic_fetch_add(&mgr, 1);
    else
        fprintf(stderr, "oop-srvasync server: IAsyncManager misbehaved\n");
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE sa_finish_complete(AsyncISrvAsync *This, LONG *v)
{
    (void)This;
    atomic_fetch_add(&finishes, 1);     /* not after CompleteCall */
    *v = 1;
    return S_OK;
}
/* E8 from the work's thread, the call waiting for it: CompleteCall ends
 * it (no Finish_), the Signal after it changes nothing */
static void *complete_work(void *arg)
{
    SC *s = arg;
    sleep_ms(s->ms);
    IAsyncManager *m = NULL;
    if (SUCCEEDED(IUnknown_QueryInterface(s->c.outer, &IID_IAsyncManager, (void **)&m)) && m) {
        if (IAsyncManager_CompleteCall(m, s->hr) == S_OK && IAsyncManager_CompleteCall(m, s->hr) == RPC_E_CALL_COMPLETE)
            atomic_fetch_add(&mgr, 1);
        else
            fprintf(stderr, "oop-srvasync server: IAsyncManager misbehaved after Begin_\n");
        IAsyncManager_Release(m);
    }
    oop_call_end(&s->c);
    return NULL;
}
static HRESULT STDMETHODCALLTYPE sa_begin_complete_later(AsyncISrvAsync *This, HRESULT hr, DWORD ms)
{
    SC *s = SC_ASYNC(This);
    atomic_fetch_add(&begins, 1);
    s->hr = hr;
    s->ms = ms;
    return oop_call_start(&s->c, complete_work, s);
}
static HRESULT STDMETHODCALLTYPE sa_finish_complete_later(AsyncISrvAsync *This)
{
    (void)This;
    atomic_fetch_add(&finishes, 1);     /* not after CompleteCall */
    return S_OK;
}
static AsyncISrvAsyncVtbl sa_vtbl = { sa_qi, sa_addref, sa_release, sa_begin_add, sa_finish_add, sa_begin_slow,
                                      sa_finish_slow, sa_begin_refuse, sa_finish_refuse, sa_begin_scale, sa_finish_scale,
                                      sa_begin_complete, sa_finish_complete, sa_begin_complete_later,
                                      sa_finish_complete_later };

/* ---- ICallFactory ---- */

static HRESULT STDMETHODCALLTYPE f_qi(ICallFactory *This, REFIID riid, void **ppv) { return obj_qi(OBJ_F(This), riid, ppv); }
static ULONG STDMETHODCALLTYPE f_addref(ICallFactory *This) { return (ULONG)atomic_fetch_add(&OBJ_F(This)->refs, 1) + 1; }
static ULONG STDMETHODCALLTYPE f_release(ICallFactory *This) { return obj_release(OBJ_F(This)); }
static HRESULT STDMETHODCALLTYPE f_createcall(ICallFactory *This, REFIID riid, IUnknown *outer, REFIID riid2, IUnknown **ppv)
{
    (void)This;
    return oop_call_create(&sc_kind, sizeof(SC), &sa_vtbl, riid, outer, riid2, ppv);
}
static ICallFactoryVtbl f_vtbl = { f_qi, f_addref, f_release, f_createcall };

static Obj *new_obj(void)
{
    Obj *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->a.lpVtbl = &a_vtbl;
    o->i.lpVtbl = &i_vtbl;
    o->f.lpVtbl = &f_vtbl;
    atomic_init(&o->refs, 1);
    atomic_fetch_add(&live, 1);
    if (use_procrefs)
        atomic_store(&procrefs, (long)CoAddRefServerProcess());
    return o;
}

/* ---- the class factory ---- */

static HRESULT STDMETHODCALLTYPE cf_qi(IClassFactory *This, REFIID riid, void **ppv)
{
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IClassFactory)) {
        *ppv = This;
        return S_OK;
    }
    *ppv = NULL;
    return E_NOINTERFACE;
}
static ULONG STDMETHODCALLTYPE cf_addref(IClassFactory *This) { (void)This; return 2; }
static ULONG STDMETHODCALLTYPE cf_release(IClassFactory *This) { (void)This; return 1; }
static HRESULT STDMETHODCALLTYPE cf_create(IClassFactory *This, IUnknown *outer, REFIID riid, void **ppv)
{
    (void)This;
    *ppv = NULL;
    if (outer)
        return CLASS_E_NOAGGREGATION;
    Obj *o = new_obj();
    if (!o)
        return E_OUTOFMEMORY;
    HRESULT hr = obj_qi(o, riid, ppv);
    obj_release(o);
    return hr;
}
static HRESULT STDMETHODCALLTYPE cf_lock(IClassFactory *This, BOOL lock)
{
    (void)This;
    if (use_procrefs) {
        if (lock)
            CoAddRefServerProcess();
        else
            CoReleaseServerProcess();
    }
    return S_OK;
}
static IClassFactoryVtbl cf_vtbl = { cf_qi, cf_addref, cf_release, cf_create, cf_lock };
static IClassFactory factory = { &cf_vtbl };

static int sig_pipe[2];
static void on_signal(int sig)
{
    char c = sig == SIGUSR1 ? 'r' : 'q';
    if (write(sig_pipe[1], &c, 1) < 0) { /* the main loop still ends at its limit */ }
}

static int server(int argc, char **argv)
{
    bool suspended = false;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--procrefs") == 0)
            use_procrefs = true;
        else if (strcmp(argv[i], "--suspended") == 0)
            suspended = true;
    }
    if (pipe(sig_pipe) != 0 || FAILED(CoInitializeEx(NULL, COINIT_MULTITHREADED)))
        return 1;
    signal(SIGTERM, on_signal);
    signal(SIGUSR1, on_signal);
    signal(SIGPIPE, SIG_IGN);
    DWORD cookie;
    HRESULT hr = CoRegisterClassObject(&CLSID_SrvAsyncTest, (IUnknown *)&factory, CLSCTX_LOCAL_SERVER,
                                       REGCLS_MULTIPLEUSE | (suspended ? REGCLS_SUSPENDED : 0), &cookie);
    if (FAILED(hr)) {
        fprintf(stderr, "CoRegisterClassObject: 0x%08x\n", (unsigned)hr);
        return 1;
    }
    printf("ready %d\n", (int)getpid());
    fflush(stdout);
    int rc = 4;                         /* 4: its lifetime ran out */
    struct pollfd p = { sig_pipe[0], POLLIN, 0 };
    for (;;) {
        int r = poll(&p, 1, (int)(300000 * oop_mult()));
        if (r < 0 && errno == EINTR)
            continue;
        char c = 0;
        if (r <= 0 || read(sig_pipe[0], &c, 1) != 1)
            break;
        if (c == 'r') {
            EXPECT_HR(S_OK, CoResumeClassObjects());
            printf("resumed\n");
            fflush(stdout);
            continue;
        }
        rc = 0;
        break;
    }
    CoRevokeClassObject(cookie);
    CoUninitialize();
    if (atomic_load(&live) || atomic_load(&calls_live)) {
        fprintf(stderr, "oop-srvasync server: %ld objects, %ld call objects still alive\n", (long)atomic_load(&live),
                (long)atomic_load(&calls_live));
        return 3;
    }
    return failures ? 1 : rc;
}

/* ==================================================================== the client */

typedef struct Stats { LONG begins, finishes, syncs, running, canceled, told, procrefs, mgr; } Stats;

static Stats stats(ISrvInfo *info)
{
    Stats s;
    memset(&s, 0xff, sizeof s);
    EXPECT_HR(S_OK, ISrvInfo_Stats(info, &s.begins, &s.finishes, &s.syncs, &s.running, &s.canceled, &s.told,
                                   &s.procrefs, &s.mgr));
    return s;
}

static ISrvAsync *create(void)
{
    ISrvAsync *p = NULL;
    REQUIRE_HR(S_OK, CoCreateInstance(&CLSID_SrvAsyncTest, NULL, CLSCTX_LOCAL_SERVER, &IID_ISrvAsync, (void **)&p));
    return p;
}

static ISrvInfo *info_of(ISrvAsync *p)
{
    ISrvInfo *i = NULL;
    REQUIRE_HR(S_OK, ISrvAsync_QueryInterface(p, &IID_ISrvInfo, (void **)&i));
    return i;
}

static AsyncISrvAsync *new_call(ISrvAsync *p)
{
    ICallFactory *cf = NULL;
    REQUIRE_HR(S_OK, ISrvAsync_QueryInterface(p, &IID_ICallFactory, (void **)&cf));
    AsyncISrvAsync *call = NULL;
    REQUIRE_HR(S_OK, ICallFactory_CreateCall(cf, &IID_AsyncISrvAsync, NULL, &IID_AsyncISrvAsync, (IUnknown **)&call));
    ICallFactory_Release(cf);
    return call;
}

static HRESULT call_wait(void *call, DWORD ms)
{
    ISynchronize *s = NULL;
    HRESULT hr = IUnknown_QueryInterface((IUnknown *)call, &IID_ISynchronize, (void **)&s);
    if (FAILED(hr))
        return hr;
    hr = ISynchronize_Wait(s, 0, ms);
    ISynchronize_Release(s);
    return hr;
}

/* E across processes: a synchronous call and a call object's both reach
 * the server's call object (Begin_, Signal, Finish_), its results come back */
static void case_calls(void)
{
    ISrvAsync *p = create();
    ISrvInfo *info = info_of(p);
    Stats s0 = stats(info);
    EXPECT(s0.begins == 0 && s0.finishes == 0 && s0.syncs == 0);

    /* a synchronous client of an asynchronous server: the server's Begin_/Finish_ run (as on Windows) */
    LONG sum = 0;
    EXPECT_HR(S_OK, ISrvAsync_Add(p, 2, 3, &sum));
    EXPECT(sum == 1005);
    LONG v = 7;
    EXPECT_HR(S_OK, ISrvAsync_Scale(p, &v));
    EXPECT(v == 21);
    EXPECT_HR(E_ACCESSDENIED, ISrvAsync_Refuse(p, E_ACCESSDENIED));     /* a refused Begin_ is the result */
    Stats s1 = stats(info);
    EXPECT(s1.begins == 3);
    EXPECT(s1.finishes == 2);           /* no Finish_ after a refused Begin_ */
    EXPECT(s1.syncs == 0);

    /* through call objects (J5): the same */
    AsyncISrvAsync *call = new_call(p);
    EXPECT_HR(S_OK, AsyncISrvAsync_Begin_Add(call, 4, 5));
    EXPECT_HR(S_OK, call_wait(call, hang_ms()));
    sum = 0;
    EXPECT_HR(S_OK, AsyncISrvAsync_Finish_Add(call, &sum));
    EXPECT(sum == 1009);
    v = 5;
    EXPECT_HR(S_OK, AsyncISrvAsync_Begin_Scale(call, &v));
    EXPECT_HR(S_OK, AsyncISrvAsync_Finish_Scale(call, &v));
    EXPECT(v == 15);
    EXPECT_HR(S_OK, AsyncISrvAsync_Begin_Refuse(call, E_NOTIMPL));
    EXPECT_HR(E_NOTIMPL, AsyncISrvAsync_Finish_Refuse(call));
    /* a few in flight on several call objects */
    enum { N = 8 };
    AsyncISrvAsync *calls[N];
    for (int i = 0; i < N; i++) {
        calls[i] = new_call(p);
        EXPECT_HR(S_OK, AsyncISrvAsync_Begin_Add(calls[i], i, 100));
    }
    for (int i = 0; i < N; i++) {
        sum = 0;
        EXPECT_HR(S_OK, AsyncISrvAsync_Finish_Add(calls[i], &sum));
        EXPECT(sum == i + 1100);
        AsyncISrvAsync_Release(calls[i]);
    }
    /* E8: the server call object ends the call with IAsyncManager::CompleteCall, both ways */
    v = -1;
    EXPECT_HR(E_ABORT, ISrvAsync_Complete(p, E_ABORT, &v));
    EXPECT_HR(S_OK, AsyncISrvAsync_Begin_Complete(call, E_FAIL));
    EXPECT_HR(E_FAIL, AsyncISrvAsync_Finish_Complete(call, &v));
    Stats s2 = stats(info);
    EXPECT(s2.mgr == 2);
    EXPECT(s2.begins == 3 + 3 + N + 2);
    EXPECT(s2.finishes == 2 + 2 + N);   /* no Finish_ after CompleteCall */
    EXPECT(s2.syncs == 0);

    /* an object that answers E_NOINTERFACE for ICallFactory: the synchronous methods (B1), both ways */
    EXPECT_HR(S_OK, ISrvInfo_NoFactory(info, 1));
    EXPECT_HR(S_OK, ISrvAsync_Add(p, 2, 3, &sum));
    EXPECT(sum == 5);
    EXPECT_HR(S_OK, AsyncISrvAsync_Begin_Add(call, 4, 5));
    EXPECT_HR(S_OK, AsyncISrvAsync_Finish_Add(call, &sum));
    EXPECT(sum == 9);
    v = 7;
    EXPECT_HR(S_OK, ISrvAsync_Scale(p, &v));
    EXPECT(v == 14);
    EXPECT_HR(S_OK, ISrvAsync_Refuse(p, E_ACCESSDENIED));
    EXPECT_HR(S_OK, ISrvAsync_Complete(p, E_ABORT, &v));
    EXPECT(v == 0);
    Stats s3 = stats(info);
    EXPECT(s3.syncs == 5);
    EXPECT(s3.begins == s2.begins && s3.finishes == s2.finishes);
    EXPECT_HR(S_OK, ISrvInfo_NoFactory(info, 0));
    EXPECT_HR(S_OK, ISrvAsync_Add(p, 1, 1, &sum));
    EXPECT(sum == 1002);

    AsyncISrvAsync_Release(call);
    ISrvInfo_Release(info);
    ISrvAsync_Release(p);
}

/* wait (bounded) until the server's counters say ok */
static bool wait_stats(ISrvInfo *info, bool (*ok)(const Stats *), Stats *out)
{
    for (DWORD t = 0; t < hang_ms(); t += 5) {
        *out = stats(info);
        if (ok(out))
            return true;
        sleep_ms(5);
    }
    return false;
}

static Stats base;                      /* the counters when the case began */
static bool one_running(const Stats *s) { return s->running == 1; }
static bool cancel_seen(const Stats *s)
{
    return s->running == 0 && s->canceled - base.canceled == 1 && s->told - base.told == 1;
}
static bool all_finished(const Stats *s) { return s->begins - base.begins == s->finishes - base.finishes; }

/* D, J7: the client's Cancel reaches the server's call object: TestCancel
 * on its controlling unknown says canceled, its own ICancelMethodCalls is
 * told; the client's Finish_ says RPC_E_CALL_CANCELED; the server still
 * gets its Finish_ (nothing leaks: the server's exit checks) */
static void case_cancel(void)
{
    ISrvAsync *p = create();
    ISrvInfo *info = info_of(p);
    base = stats(info);
    AsyncISrvAsync *call = new_call(p);
    EXPECT_HR(S_OK, AsyncISrvAsync_Begin_Slow(call, 10 * hang_ms()));
    Stats s;
    EXPECT(wait_stats(info, one_running, &s));
    ICancelMethodCalls *cm = NULL;
    EXPECT_HR(S_OK, AsyncISrvAsync_QueryInterface(call, &IID_ICancelMethodCalls, (void **)&cm));
    if (cm) {
        EXPECT_HR(S_OK, ICancelMethodCalls_Cancel(cm, 0));
        ICancelMethodCalls_Release(cm);
    }
    LONG how = -1;
    EXPECT_HR(RPC_E_CALL_CANCELED, AsyncISrvAsync_Finish_Slow(call, &how));
    EXPECT(wait_stats(info, cancel_seen, &s));
    EXPECT(wait_stats(info, all_finished, &s));
    EXPECT(s.syncs == base.syncs);

    /* the call object serves on, and a call not canceled completes */
    EXPECT_HR(S_OK, AsyncISrvAsync_Begin_Slow(call, 20));
    how = -1;
    EXPECT_HR(S_OK, AsyncISrvAsync_Finish_Slow(call, &how));
    EXPECT(how == 0);

    /* released without Finish_ while the server works (B9, J8): nothing leaks */
    EXPECT_HR(S_OK, AsyncISrvAsync_Begin_Slow(call, 50));
    AsyncISrvAsync_Release(call);
    EXPECT(wait_stats(info, all_finished, &s));
    ISrvInfo_Release(info);
    ISrvAsync_Release(p);
}

/* J6, E: calls waiting for the server's Signal hold no thread of the
 * runtime's each. N Slow calls pending at once: the server has N threads of
 * its own working (one a Slow call) and a few of the runtime's, not N more
 * blocked in the incoming calls; then every call is canceled, each cancel
 * reaches its server call object (told), every Finish_ says
 * RPC_E_CALL_CANCELED and the server's Finish_ runs for each */
enum { PENDING = 48 };
static bool n_running(const Stats *s) { return s->running == PENDING; }
static bool all_told(const Stats *s)
{
    return s->running == 0 && s->told - base.told == PENDING && s->canceled - base.canceled == PENDING;
}

static void case_pending(void)
{
    ISrvAsync *p = create();
    ISrvInfo *info = info_of(p);
    base = stats(info);
    LONG before = -1;
    EXPECT_HR(S_OK, ISrvInfo_Threads(info, &before));
    AsyncISrvAsync *calls[PENDING];
    for (int i = 0; i < PENDING; i++) {
        calls[i] = new_call(p);
        EXPECT_HR(S_OK, AsyncISrvAsync_Begin_Slow(calls[i], 10 * hang_ms()));
    }
    Stats s;
    EXPECT(wait_stats(info, n_running, &s));
    LONG during = -1;
    EXPECT_HR(S_OK, ISrvInfo_Threads(info, &during));
    /* PENDING working threads of the server's, at most PENDING / 2 others
     * (a thread held by each waiting call would make it 2 * PENDING) */
    if (during < PENDING || during > before + PENDING + PENDING / 2) {
        fprintf(stderr, "oop-srvasync: %d pending calls: the server has %ld threads (%ld before)\n", PENDING,
                (long)during, (long)before);
        failures++;
    }
    for (int i = 0; i < PENDING; i++) {
        ICancelMethodCalls *cm = NULL;
        EXPECT_HR(S_OK, AsyncISrvAsync_QueryInterface(calls[i], &IID_ICancelMethodCalls, (void **)&cm));
        if (cm) {
            EXPECT_HR(S_OK, ICancelMethodCalls_Cancel(cm, 0));
            ICancelMethodCalls_Release(cm);
        }
    }
    for (int i = 0; i < PENDING; i++) {
        LONG how = -1;
        EXPECT_HR(RPC_E_CALL_CANCELED, AsyncISrvAsync_Finish_Slow(calls[i], &how));
        AsyncISrvAsync_Release(calls[i]);
    }
    EXPECT(wait_stats(info, all_told, &s));
    EXPECT(wait_stats(info, all_finished, &s));
    ISrvInfo_Release(info);
    ISrvAsync_Release(p);
}

/* E8 after Begin_ returned: the server's work thread ends the waiting
 * call with CompleteCall, for a call object's call and a synchronous one;
 * no Finish_ runs, the later Signal changes nothing */
static bool two_completed(const Stats *s) { return s->mgr - base.mgr == 2; }

static void case_later(void)
{
    ISrvAsync *p = create();
    ISrvInfo *info = info_of(p);
    Stats b = stats(info);
    base = b;
    AsyncISrvAsync *call = new_call(p);
    EXPECT_HR(S_OK, AsyncISrvAsync_Begin_CompleteLater(call, E_ABORT, 50));
    EXPECT_HR(E_ABORT, AsyncISrvAsync_Finish_CompleteLater(call));
    EXPECT_HR(E_FAIL, ISrvAsync_CompleteLater(p, E_FAIL, 20));
    /* and the call object serves on */
    LONG sum = 0;
    EXPECT_HR(S_OK, AsyncISrvAsync_Begin_Add(call, 1, 2));
    EXPECT_HR(S_OK, AsyncISrvAsync_Finish_Add(call, &sum));
    EXPECT(sum == 1003);
    AsyncISrvAsync_Release(call);
    /* the work thread counts a CompleteCall once it returned, which may be
     * after the client had the call's result: wait for the count (bounded) */
    Stats s;
    EXPECT(wait_stats(info, two_completed, &s));
    EXPECT(s.begins - b.begins == 3);
    EXPECT(s.finishes - b.finishes == 1);       /* Add's only */
    EXPECT(s.syncs == b.syncs);
    ISrvInfo_Release(info);
    ISrvAsync_Release(p);
}

/* the count of CoAddRefServerProcess in this process (no class objects
 * here), then the server's: its objects count themselves; the client's last
 * release takes the server's count to 0 (the suite then checks that the
 * server suspended its class objects) */
static void case_procrefs(void)
{
    EXPECT(CoAddRefServerProcess() == 1);
    EXPECT(CoAddRefServerProcess() == 2);
    EXPECT(CoReleaseServerProcess() == 1);
    EXPECT(CoReleaseServerProcess() == 0);
    EXPECT(CoReleaseServerProcess() == 0);      /* not below 0 */
    EXPECT(CoAddRefServerProcess() == 1);
    EXPECT(CoReleaseServerProcess() == 0);
    EXPECT_HR(S_OK, CoSuspendClassObjects());
    EXPECT_HR(S_OK, CoResumeClassObjects());

    ISrvAsync *a = create();
    ISrvInfo *ia = info_of(a);
    EXPECT(stats(ia).procrefs == 1);
    ISrvAsync *b = create();
    EXPECT(stats(ia).procrefs == 2);
    ISrvAsync_Release(b);
    /* the release travels as its own message: wait for it (bounded) */
    Stats s = stats(ia);
    for (DWORD t = 0; t < hang_ms() && s.procrefs != 1; t += 5) {
        sleep_ms(5);
        s = stats(ia);
    }
    EXPECT(s.procrefs == 1);
    ISrvInfo_Release(ia);
    ISrvAsync_Release(a);               /* the server's count goes to 0 */
}

/* J11: a client that dies with a call in flight (the suite SIGKILLs it once it says ready) */
static void case_victim(void)
{
    ISrvAsync *p = create();
    ISrvInfo *info = info_of(p);
    AsyncISrvAsync *call = new_call(p);
    EXPECT_HR(S_OK, AsyncISrvAsync_Begin_Slow(call, 10 * hang_ms()));
    Stats s;
    EXPECT(wait_stats(info, one_running, &s));
    printf("ready %d\n", (int)getpid());
    fflush(stdout);
    sleep_ms(10 * hang_ms());           /* the suite kills us first */
    exit(1);
}

/* ... and what the server did about it: the call object was told, TestCancel said canceled, Finish_ ran */
static void case_witness(void)
{
    ISrvAsync *p = create();
    ISrvInfo *info = info_of(p);
    memset(&base, 0, sizeof base);
    Stats s;
    EXPECT(wait_stats(info, cancel_seen, &s));
    EXPECT(wait_stats(info, all_finished, &s));
    EXPECT(s.begins == 1);
    ISrvInfo_Release(info);
    ISrvAsync_Release(p);
}

static void case_notreg(void)
{
    ISrvAsync *p = NULL;
    EXPECT_HR(REGDB_E_CLASSNOTREG, CoCreateInstance(&CLSID_SrvAsyncTest, NULL, CLSCTX_LOCAL_SERVER, &IID_ISrvAsync,
                                                    (void **)&p));
    if (p)
        ISrvAsync_Release(p);
}

static void case_one(void)
{
    ISrvAsync *p = create();
    LONG sum = 0;
    EXPECT_HR(S_OK, ISrvAsync_Add(p, 1, 2, &sum));
    EXPECT(sum == 1003);
    ISrvAsync_Release(p);
}

static int client(const char *c)
{
    if (FAILED(CoInitializeEx(NULL, COINIT_MULTITHREADED)))
        return 1;
    if (strcmp(c, "calls") == 0)
        case_calls();
    else if (strcmp(c, "cancel") == 0)
        case_cancel();
    else if (strcmp(c, "pending") == 0)
        case_pending();
    else if (strcmp(c, "later") == 0)
        case_later();
    else if (strcmp(c, "procrefs") == 0)
        case_procrefs();
    else if (strcmp(c, "notreg") == 0)
        case_notreg();
    else if (strcmp(c, "victim") == 0)
        case_victim();
    else if (strcmp(c, "witness") == 0)
        case_witness();
    else if (strcmp(c, "one") == 0)
        case_one();
    else {
        fprintf(stderr, "oop-srvasync: no case %s\n", c);
        failures++;
    }
    CoUninitialize();
    return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "server") == 0)
        return server(argc, argv);
    if (argc == 3 && strcmp(argv[1], "client") == 0)
        return client(argv[2]);
    fprintf(stderr, "usage: oop-srvasync server [--procrefs] [--suspended] | client CASE\n");
    return 2;
}
