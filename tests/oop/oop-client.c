/*
 * oop-client.c - the client process of the two-process tests
 * (tests/suites/oop.sh, RULES.md J). `oop-client CASE` runs one case
 * against the server the suite started (or that the runtime starts through
 * a class file), prints what went wrong, exits 0 when the case held.
 * Every wait is bounded (a limit that only catches hangs).
 */
#define COBJMACROS
#include "amidlrt.h"
#include "oop.h"
#include "oop_serve.h"
#include "wire.h"               /* the hostile cases build raw messages (J13, J15) */

extern const AmrtInterface IOopTest_amrt_glue;

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define BAD_STUB HRESULT_FROM_WIN32(RPC_X_BAD_STUB_DATA)
#define NULL_REF HRESULT_FROM_WIN32(RPC_X_NULL_REF_POINTER)

static IOopTest *create(void)
{
    IOopTest *p = NULL;
    REQUIRE_HR(S_OK, CoCreateInstance(&CLSID_OopTest, NULL, CLSCTX_LOCAL_SERVER, &IID_IOopTest, (void **)&p));
    if (!p) {
        fprintf(stderr, "CoCreateInstance gave NULL\n");
        exit(1);
    }
    return p;
}

static AsyncIOopTest *new_call(IOopTest *p)
{
    ICallFactory *cf = NULL;
    REQUIRE_HR(S_OK, IOopTest_QueryInterface(p, &IID_ICallFactory, (void **)&cf));
    AsyncIOopTest *call = NULL;
    REQUIRE_HR(S_OK, ICallFactory_CreateCall(cf, &IID_AsyncIOopTest, NULL, &IID_AsyncIOopTest, (IUnknown **)&call));
    ICallFactory_Release(cf);
    return call;
}

static HRESULT call_wait(AsyncIOopTest *call, DWORD ms)
{
    ISynchronize *s = NULL;
    HRESULT hr = AsyncIOopTest_QueryInterface(call, &IID_ISynchronize, (void **)&s);
    if (FAILED(hr))
        return hr;
    hr = ISynchronize_Wait(s, 0, ms);
    ISynchronize_Release(s);
    return hr;
}

static HRESULT call_cancel(AsyncIOopTest *call)
{
    ICancelMethodCalls *c = NULL;
    HRESULT hr = AsyncIOopTest_QueryInterface(call, &IID_ICancelMethodCalls, (void **)&c);
    if (FAILED(hr))
        return hr;
    hr = ICancelMethodCalls_Cancel(c, 0);
    ICancelMethodCalls_Release(c);
    return hr;
}

typedef struct Stats { LONG live, running, canceled, refs; } Stats;

static Stats stats(IOopTest *p)
{
    Stats s = { -1, -1, -1, -1 };
    EXPECT_HR(S_OK, IOopTest_Stats(p, &s.live, &s.running, &s.canceled, &s.refs));
    return s;
}

/* poll the server's counters until ok(s) (bounded) */
static bool wait_stats(IOopTest *p, bool (*ok)(const Stats *, const Stats *), const Stats *ref, Stats *out)
{
    for (DWORD t = 0; t < hang_ms(); t += 5) {
        *out = stats(p);
        if (ok(out, ref))
            return true;
        sleep_ms(5);
    }
    return false;
}

/* ==================================================================== a local IOopNotify (J9) */

static long ms_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

typedef struct Notify { IOopNotify iface; atomic_long refs; atomic_long calls; pid_t pid; } Notify;

static HRESULT STDMETHODCALLTYPE n_qi(IOopNotify *This, REFIID riid, void **ppv)
{
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IOopNotify)) {
        *ppv = This;
        IOopNotify_AddRef(This);
        return S_OK;
    }
    *ppv = NULL;
    return E_NOINTERFACE;
}
static ULONG STDMETHODCALLTYPE n_addref(IOopNotify *This) { return (ULONG)atomic_fetch_add(&((Notify *)This)->refs, 1) + 1; }
static ULONG STDMETHODCALLTYPE n_release(IOopNotify *This) { return (ULONG)atomic_fetch_sub(&((Notify *)This)->refs, 1) - 1; }
static HRESULT STDMETHODCALLTYPE n_notify(IOopNotify *This, LONG v, LONG *echo)
{
    Notify *n = (Notify *)This;
    atomic_fetch_add(&n->calls, 1);
    *echo = v * 10 + (getpid() == n->pid);       /* runs in its owner's process */
    return S_OK;
}
static IOopNotifyVtbl notify_vtbl = { n_qi, n_addref, n_release, n_notify };

/* ==================================================================== cases */

/* J1: CoCreateInstance(CLSCTX_LOCAL_SERVER) in another process gives a
 * proxy to the server's object; CoGetClassObject a factory. */
static void case_J1(void)
{
    IOopTest *p = create();
    DWORD pid = 0;
    EXPECT_HR(S_OK, IOopTest_Pid(p, &pid));
    EXPECT(pid != 0 && pid != (DWORD)getpid());
    LONG sum = 0;
    EXPECT_HR(S_OK, IOopTest_Add(p, 2, 40, &sum));
    EXPECT(sum == 42);
    IClassFactory *cf = NULL;
    EXPECT_HR(S_OK, CoGetClassObject(&CLSID_OopTest, CLSCTX_LOCAL_SERVER, NULL, &IID_IClassFactory, (void **)&cf));
    if (cf) {
        IOopTest *q = NULL;
        EXPECT_HR(S_OK, IClassFactory_CreateInstance(cf, NULL, &IID_IOopTest, (void **)&q));
        if (q) {
            DWORD pid2 = 0;
            EXPECT_HR(S_OK, IOopTest_Pid(q, &pid2));
            EXPECT(pid2 == pid);
            IOopTest_Release(q);
        }
        IClassFactory_Release(cf);
    }
    /* the server sees who calls (J12) */
    DWORD uid = 0, cpid = 0;
    HRESULT ctx = E_FAIL;
    EXPECT_HR(S_OK, IOopTest_Who(p, &uid, &cpid, &ctx));
    EXPECT_HR(S_OK, ctx);
    EXPECT(uid == (DWORD)getuid() && cpid == (DWORD)getpid());
    /* an interface the object does not have */
    IOopNotify *no = NULL;
    EXPECT_HR(E_NOINTERFACE, IOopTest_QueryInterface(p, &IID_IOopNotify, (void **)&no));
    /* identity: IUnknown twice is the same pointer */
    IUnknown *u1 = NULL, *u2 = NULL;
    EXPECT_HR(S_OK, IOopTest_QueryInterface(p, &IID_IUnknown, (void **)&u1));
    EXPECT_HR(S_OK, IOopTest_QueryInterface(p, &IID_IUnknown, (void **)&u2));
    EXPECT(u1 && u1 == u2);
    if (u1)
        IUnknown_Release(u1);
    if (u2)
        IUnknown_Release(u2);
    IOopTest_Release(p);
}

/* the first activation of a single-use class (the second process checks the rest) */
static void case_first(void)
{
    IOopTest *p = create();
    LONG sum = 0;
    EXPECT_HR(S_OK, IOopTest_Add(p, 1, 1, &sum));
    EXPECT(sum == 2);
    IOopTest_Release(p);
}

/* no server serves the class (revoked, single use, never registered), no class file */
static void case_notreg(void)
{
    IOopTest *p = NULL;
    EXPECT_HR(REGDB_E_CLASSNOTREG,
              CoCreateInstance(&CLSID_OopTest, NULL, CLSCTX_LOCAL_SERVER, &IID_IOopTest, (void **)&p));
    EXPECT(p == NULL);
}

static void case_exec_failure(void)
{
    IOopTest *p = NULL;
    EXPECT_HR(CO_E_SERVER_EXEC_FAILURE,
              CoCreateInstance(&CLSID_OopTest, NULL, CLSCTX_LOCAL_SERVER, &IID_IOopTest, (void **)&p));
}

static void case_start_timeout(void)
{
    IOopTest *p = NULL;
    EXPECT_HR(CO_E_SERVER_START_TIMEOUT,
              CoCreateInstance(&CLSID_OopTest, NULL, CLSCTX_LOCAL_SERVER, &IID_IOopTest, (void **)&p));
}

/* J2: activation through the class file: the server is started (with
 * -Embedding: without it oop-server refuses to run), then told to quit */
static void case_J2(void)
{
    IOopTest *p = create();
    DWORD pid = 0;
    EXPECT_HR(S_OK, IOopTest_Pid(p, &pid));
    EXPECT(pid != 0 && pid != (DWORD)getpid());
    /* a second activation reaches the running server, not a new one */
    IOopTest *q = create();
    DWORD pid2 = 0;
    EXPECT_HR(S_OK, IOopTest_Pid(q, &pid2));
    EXPECT(pid2 == pid);
    printf("server %u\n", (unsigned)pid);
    IOopTest_Release(q);
    HRESULT qh = IOopTest_Quit(p);
    EXPECT(qh == S_OK || qh == RPC_E_SERVER_DIED);      /* the reply may lose the race with the server's end */
    IOopTest_Release(p);
}

/* J4: synchronous calls, every direction of data */
static void case_J4(void)
{
    IOopTest *p = create();
    LONG v = 0;
    EXPECT_HR(S_OK, IOopTest_Add(p, -5, 3, &v));
    EXPECT(v == -2);
    WCHAR a[] = { 'a', 'b', 0 };
    LPWSTR w = NULL;
    LPSTR n = NULL;
    EXPECT_HR(S_OK, IOopTest_Concat(p, a, "cd", &w, &n));
    EXPECT(w && w[0] == 'a' && w[1] == 'b' && w[2] == 'c' && w[3] == 'd' && w[4] == 0);
    EXPECT(n && strcmp(n, "abcd") == 0);
    CoTaskMemFree(w);
    CoTaskMemFree(n);
    LONG data[1000], sum = 0, expect = 0;
    for (int i = 0; i < 1000; i++)
        expect += data[i] = i * 7 - 300;
    EXPECT_HR(S_OK, IOopTest_Sum(p, 1000, data, &sum));
    EXPECT(sum == expect);
    v = 21;
    EXPECT_HR(S_OK, IOopTest_Twice(p, &v));
    EXPECT(v == 42);
    LONG got = 0;
    v = 7;
    EXPECT_HR(S_OK, IOopTest_Ref(p, &v, &got));
    EXPECT(got == 7);
    BSTR b = SysAllocString((const OLECHAR[]){ 'x', 'y', 0 }), r = NULL;
    EXPECT_HR(S_OK, IOopTest_Bstr(p, b, &r));
    EXPECT(r && SysStringLen(r) == 4 && r[0] == 'x' && r[3] == 'y');
    SysFreeString(b);
    SysFreeString(r);
    /* a [local] method does not cross (the server aborts if it is called) */
    EXPECT_HR(E_NOTIMPL, IOopTest_Local(p, 1));
    /* the method's own failure comes back as it is */
    EXPECT_HR(E_NOTIMPL, IOopTest_Fail(p, E_NOTIMPL));
    EXPECT_HR(S_FALSE, IOopTest_Fail(p, S_FALSE));
    IOopTest_Release(p);
}

/* J5: ICallFactory on the cross-process proxy: Begin_ returns without
 * waiting for the server, the reply signals the call, Finish_ delivers */
static void case_J5(void)
{
    IOopTest *p = create();
    AsyncIOopTest *call = new_call(p);
    /* a call that runs until canceled: Begin_ must come back meanwhile */
    EXPECT_HR(S_OK, AsyncIOopTest_Begin_Slow(call, 60000));
    EXPECT_HR(AMRT_WAIT_TIMEOUT, call_wait(call, 0));
    EXPECT_HR(S_OK, call_cancel(call));
    EXPECT_HR(S_OK, call_wait(call, hang_ms()));
    LONG c = 0;
    EXPECT_HR(RPC_E_CALL_CANCELED, AsyncIOopTest_Finish_Slow(call, &c));
    AsyncIOopTest_Release(call);
    /* a complete one, the call object used again (B-rules hold) */
    call = new_call(p);
    for (int i = 0; i < 3; i++) {
        EXPECT_HR(S_OK, AsyncIOopTest_Begin_Add(call, i, 100));
        EXPECT_HR(S_OK, call_wait(call, hang_ms()));
        LONG s = 0;
        EXPECT_HR(S_OK, AsyncIOopTest_Finish_Add(call, &s));
        EXPECT(s == 100 + i);
    }
    EXPECT_HR(S_OK, AsyncIOopTest_Begin_Slow(call, 10));
    EXPECT_HR(S_OK, call_wait(call, hang_ms()));
    EXPECT_HR(S_OK, AsyncIOopTest_Finish_Slow(call, &c));
    EXPECT(c == 0);
    AsyncIOopTest_Release(call);
    IOopTest_Release(p);
}

/* J6: many calls in flight on one connection; a slow one delays no other */
typedef struct J6Arg { IOopTest *p; int base; atomic_int *bad; } J6Arg;

static void *j6_thread(void *arg)
{
    J6Arg *a = arg;
    AsyncIOopTest *calls[8];
    for (int i = 0; i < 8; i++) {
        calls[i] = new_call(a->p);
        if (FAILED(AsyncIOopTest_Begin_Add(calls[i], a->base, i)))
            atomic_fetch_add(a->bad, 1);
    }
    for (int i = 7; i >= 0; i--) {
        LONG s = -1;
        if (call_wait(calls[i], hang_ms()) != S_OK || AsyncIOopTest_Finish_Add(calls[i], &s) != S_OK ||
            s != a->base + i)
            atomic_fetch_add(a->bad, 1);
        AsyncIOopTest_Release(calls[i]);
    }
    return NULL;
}

static void case_J6(void)
{
    IOopTest *p = create();
    AsyncIOopTest *slow = new_call(p);
    EXPECT_HR(S_OK, AsyncIOopTest_Begin_Slow(slow, 60000));
    atomic_int bad = 0;
    pthread_t t[4];
    J6Arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (J6Arg){ p, i * 1000, &bad };
        pthread_create(&t[i], NULL, j6_thread, &args[i]);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    EXPECT(atomic_load(&bad) == 0);
    /* 32 calls came and went while the slow one still runs */
    EXPECT_HR(AMRT_WAIT_TIMEOUT, call_wait(slow, 0));
    /* more slow calls in flight than the client has workers (they run
     * until canceled): another call still completes */
    long nslow = 2 * sysconf(_SC_NPROCESSORS_ONLN) + 2;
    if (nslow > 64)
        nslow = 64;
    AsyncIOopTest *many[64], *fast = new_call(p);
    for (long i = 0; i < nslow; i++) {
        many[i] = new_call(p);
        EXPECT_HR(S_OK, AsyncIOopTest_Begin_Slow(many[i], 600000));
    }
    EXPECT_HR(S_OK, AsyncIOopTest_Begin_Add(fast, 20, 22));
    EXPECT_HR(S_OK, call_wait(fast, hang_ms()));
    LONG f = 0;
    EXPECT_HR(S_OK, AsyncIOopTest_Finish_Add(fast, &f));
    EXPECT(f == 42);
    AsyncIOopTest_Release(fast);
    for (long i = 0; i < nslow; i++) {
        EXPECT_HR(S_OK, call_cancel(many[i]));
        AsyncIOopTest_Release(many[i]);
    }
    call_cancel(slow);
    EXPECT_HR(S_OK, call_wait(slow, hang_ms()));
    LONG c;
    EXPECT_HR(RPC_E_CALL_CANCELED, AsyncIOopTest_Finish_Slow(slow, &c));
    AsyncIOopTest_Release(slow);
    IOopTest_Release(p);
}

static bool more_canceled(const Stats *s, const Stats *ref) { return s->canceled > ref->canceled && s->running == 0; }
static bool running_one(const Stats *s, const Stats *ref) { (void)ref; return s->running >= 1; }
static bool live_back(const Stats *s, const Stats *ref) { return s->live == ref->live && s->running == 0; }

/* J7: the cancellation reaches the server (its CoTestCancel says so) */
static void case_J7(void)
{
    IOopTest *p = create();
    Stats before = stats(p), now;
    AsyncIOopTest *call = new_call(p);
    EXPECT_HR(S_OK, AsyncIOopTest_Begin_Slow(call, 60000));
    EXPECT(wait_stats(p, running_one, &before, &now));
    EXPECT_HR(S_OK, call_cancel(call));
    EXPECT_HR(S_OK, call_wait(call, hang_ms()));
    LONG c = 0;
    EXPECT_HR(RPC_E_CALL_CANCELED, AsyncIOopTest_Finish_Slow(call, &c));
    EXPECT(wait_stats(p, more_canceled, &before, &now));
    /* the connection serves on */
    LONG s = 0;
    EXPECT_HR(S_OK, IOopTest_Add(p, 1, 2, &s));
    EXPECT(s == 3);
    AsyncIOopTest_Release(call);
    IOopTest_Release(p);
}

/* J7, early: a Cancel that comes after Begin_ started the call but before
 * its request is registered (AMIDL_TEST_BEGIN_DELAY_MS holds it there)
 * still reaches the server's CoTestCancel */
typedef struct { AsyncIOopTest *call; HRESULT hr; } EarlyBegin;
static void *early_begin(void *arg)
{
    EarlyBegin *e = arg;
    e->hr = AsyncIOopTest_Begin_Slow(e->call, hang_ms());
    return NULL;
}
static void case_J7_early(void)
{
    IOopTest *p = create();
    Stats before = stats(p), now;
    AsyncIOopTest *call = new_call(p);
    EarlyBegin e = { call, E_FAIL };
    pthread_t t;
    REQUIRE_HR(0, pthread_create(&t, NULL, early_begin, &e));
    /* until the call has started (RPC_E_CALL_COMPLETE: not yet; bounded) */
    HRESULT hr = RPC_E_CALL_COMPLETE;
    for (int i = 0; i < 200000 && hr == RPC_E_CALL_COMPLETE; i++) {
        hr = call_cancel(call);
        if (hr == RPC_E_CALL_COMPLETE)
            sched_yield();
    }
    EXPECT_HR(S_OK, hr);
    pthread_join(t, NULL);
    EXPECT_HR(S_OK, e.hr);
    EXPECT_HR(S_OK, call_wait(call, hang_ms()));
    LONG c = 0;
    EXPECT_HR(RPC_E_CALL_CANCELED, AsyncIOopTest_Finish_Slow(call, &c));
    /* the server saw it: its Slow ended canceled, long before its time */
    EXPECT(wait_stats(p, more_canceled, &before, &now));
    AsyncIOopTest_Release(call);
    IOopTest_Release(p);
}

/* J8: call objects released without Finish_: the replies (an object
 * reference among them) are freed, nothing leaks in the server */
static void case_J8(void)
{
    IOopTest *p = create();
    Stats before = stats(p), now;
    for (int i = 0; i < 10; i++) {
        AsyncIOopTest *call = new_call(p);
        EXPECT_HR(S_OK, AsyncIOopTest_Begin_Create(call));
        AsyncIOopTest_Release(call);
        call = new_call(p);
        EXPECT_HR(S_OK, AsyncIOopTest_Begin_Slow(call, 20));
        AsyncIOopTest_Release(call);
    }
    EXPECT(wait_stats(p, live_back, &before, &now));
    if (now.live != before.live)
        fprintf(stderr, "server objects: %ld before, %ld after\n", (long)before.live, (long)now.live);
    IOopTest_Release(p);
}

/* ---- aggregated call objects (RULES.md B4, B14, J5): an outer object
 * whose ISynchronize (its own, counting, over a ManualResetEvent) the
 * runtime must use, and which the call object's interfaces delegate to ---- */

typedef struct Agg {
    IUnknown unk;                       /* the controlling unknown */
    ISynchronize sync;                  /* the outer's own (B14): counts, then delegates */
    atomic_long refs;
    IUnknown *inner;                    /* the call object's non-delegating unknown */
    ISynchronize *ev;                   /* a ManualResetEvent of its own */
    atomic_long resets, signals, waits;
    atomic_int *freed;                  /* incremented when the outer goes */
    IOopTest *callout;                  /* set: Signal makes a synchronous call on it, its result in callout_hr */
    atomic_long callout_hr;
} Agg;

#define AGG_SYNC(p) ((Agg *)((char *)(p) - offsetof(Agg, sync)))

static HRESULT STDMETHODCALLTYPE agg_qi(IUnknown *This, REFIID riid, void **ppv)
{
    Agg *a = (Agg *)This;
    *ppv = NULL;
    if (IsEqualIID(riid, &IID_IUnknown))
        *ppv = &a->unk;
    else if (IsEqualIID(riid, &IID_ISynchronize))
        *ppv = &a->sync;
    else
        return a->inner ? IUnknown_QueryInterface(a->inner, riid, ppv) : E_NOINTERFACE;
    IUnknown_AddRef((IUnknown *)*ppv);
    return S_OK;
}
static ULONG STDMETHODCALLTYPE agg_addref(IUnknown *This) { return (ULONG)atomic_fetch_add(&((Agg *)This)->refs, 1) + 1; }
static ULONG STDMETHODCALLTYPE agg_release(IUnknown *This)
{
    Agg *a = (Agg *)This;
    long r = atomic_fetch_sub(&a->refs, 1) - 1;
    if (r == 0) {
        atomic_store(&a->refs, 1);      /* the inner may AddRef and Release us while it goes */
        if (a->inner)
            IUnknown_Release(a->inner);
        if (a->ev)
            ISynchronize_Release(a->ev);
        atomic_int *freed = a->freed;
        free(a);
        atomic_fetch_add(freed, 1);
    }
    return (ULONG)r;
}
static IUnknownVtbl agg_vtbl = { agg_qi, agg_addref, agg_release };

static HRESULT STDMETHODCALLTYPE aggs_qi(ISynchronize *This, REFIID riid, void **ppv) { return agg_qi(&AGG_SYNC(This)->unk, riid, ppv); }
static ULONG STDMETHODCALLTYPE aggs_addref(ISynchronize *This) { return agg_addref(&AGG_SYNC(This)->unk); }
static ULONG STDMETHODCALLTYPE aggs_release(ISynchronize *This) { return agg_release(&AGG_SYNC(This)->unk); }
static HRESULT STDMETHODCALLTYPE aggs_wait(ISynchronize *This, DWORD flags, DWORD ms)
{
    atomic_fetch_add(&AGG_SYNC(This)->waits, 1);
    return ISynchronize_Wait(AGG_SYNC(This)->ev, flags, ms);
}
static HRESULT STDMETHODCALLTYPE aggs_signal(ISynchronize *This)
{
    Agg *a = AGG_SYNC(This);
    atomic_fetch_add(&a->signals, 1);
    if (a->callout) {
        LONG sum = 0;
        atomic_store(&a->callout_hr, (long)IOopTest_Add(a->callout, 1, 2, &sum));
    }
    return ISynchronize_Signal(a->ev);
}
static HRESULT STDMETHODCALLTYPE aggs_reset(ISynchronize *This)
{
    atomic_fetch_add(&AGG_SYNC(This)->resets, 1);
    return ISynchronize_Reset(AGG_SYNC(This)->ev);
}
static ISynchronizeVtbl aggs_vtbl = { aggs_qi, aggs_addref, aggs_release, aggs_wait, aggs_signal, aggs_reset };

/* an outer with a call object of p's aggregated in it; *call: its
 * AsyncIOopTest (a reference on the outer) */
static Agg *agg_new(IOopTest *p, atomic_int *freed, AsyncIOopTest **call)
{
    *call = NULL;
    Agg *a = calloc(1, sizeof *a);
    if (!a) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    a->unk.lpVtbl = &agg_vtbl;
    a->sync.lpVtbl = &aggs_vtbl;
    atomic_init(&a->refs, 1);
    a->freed = freed;
    REQUIRE_HR(S_OK, CoCreateInstance(&CLSID_ManualResetEvent, NULL, CLSCTX_INPROC_SERVER, &IID_ISynchronize,
                                      (void **)&a->ev));
    ICallFactory *cf = NULL;
    REQUIRE_HR(S_OK, IOopTest_QueryInterface(p, &IID_ICallFactory, (void **)&cf));
    REQUIRE_HR(S_OK, ICallFactory_CreateCall(cf, &IID_AsyncIOopTest, &a->unk, &IID_IUnknown, &a->inner));
    ICallFactory_Release(cf);
    REQUIRE_HR(S_OK, agg_qi(&a->unk, &IID_AsyncIOopTest, (void **)call));
    agg_release(&a->unk);               /* *call holds the outer now */
    return a;
}

static bool freed_is(atomic_int *freed, int want)
{
    for (DWORD t = 0; t < hang_ms() && atomic_load(freed) != want; t += 2)
        sleep_ms(2);
    return atomic_load(freed) == want;
}

/* J5 with aggregated call objects: Begin_ sends, the reply completes the
 * call through the outer's ISynchronize (B14), no pool worker runs; the
 * results, J6's order (a slow call delays no other), cancel (J7) and
 * release without Finish_ (J8, B9) as for the others */
static void case_agg(void)
{
    IOopTest *p = create();
    Stats before = stats(p), now;
    atomic_int freed = 0;
    /* B4: aggregation wants IID_IUnknown */
    ICallFactory *cf = NULL;
    IUnknown *bad = (IUnknown *)&cf;
    REQUIRE_HR(S_OK, IOopTest_QueryInterface(p, &IID_ICallFactory, (void **)&cf));
    Agg *probe = calloc(1, sizeof *probe);
    probe->unk.lpVtbl = &agg_vtbl;
    EXPECT_HR(CLASS_E_NOAGGREGATION, ICallFactory_CreateCall(cf, &IID_AsyncIOopTest, &probe->unk, &IID_AsyncIOopTest, &bad));
    EXPECT(bad == NULL);
    free(probe);
    ICallFactory_Release(cf);

    AsyncIOopTest *call = NULL, *slow = NULL;
    Agg *a = agg_new(p, &freed, &call);
    /* the call object's interfaces are the outer's */
    IUnknown *u = NULL;
    EXPECT_HR(S_OK, AsyncIOopTest_QueryInterface(call, &IID_IUnknown, (void **)&u));
    EXPECT(u == &a->unk);
    if (u)
        IUnknown_Release(u);
    EXPECT(atomic_load(&a->refs) == 1);
    for (int i = 0; i < 3; i++) {
        long resets = atomic_load(&a->resets), signals = atomic_load(&a->signals);
        LONG sum = 0;
        EXPECT_HR(S_OK, AsyncIOopTest_Begin_Add(call, i, 100));
        EXPECT(atomic_load(&a->resets) == resets + 1);         /* B13 through the outer (B14) */
        EXPECT_HR(S_OK, call_wait(call, hang_ms()));
        EXPECT(atomic_load(&a->signals) == signals + 1);
        EXPECT_HR(S_OK, AsyncIOopTest_Finish_Add(call, &sum));
        EXPECT(sum == 100 + i);
    }
    /* not flat: strings both ways, a conformant array, a BSTR */
    static const WCHAR ab[] = { 'a', 'b', 0 };
    LPWSTR w = NULL;
    LPSTR n = NULL;
    EXPECT_HR(S_OK, AsyncIOopTest_Begin_Concat(call, ab, "cd"));
    EXPECT_HR(S_OK, AsyncIOopTest_Finish_Concat(call, &w, &n));
    EXPECT(n && strcmp(n, "abcd") == 0 && w && w[0] == 'a' && w[3] == 'd' && w[4] == 0);
    CoTaskMemFree(w);
    CoTaskMemFree(n);
    LONG data[300], sum = 0;
    for (int i = 0; i < 300; i++)
        data[i] = i;
    EXPECT_HR(S_OK, AsyncIOopTest_Begin_Sum(call, 300, data));
    memset(data, 0, sizeof data);       /* Begin_ copied them (B18) */
    EXPECT_HR(S_OK, AsyncIOopTest_Finish_Sum(call, &sum));
    EXPECT(sum == 299 * 300 / 2);
    LONG v = 21;
    EXPECT_HR(S_OK, AsyncIOopTest_Begin_Twice(call, &v));
    EXPECT_HR(S_OK, AsyncIOopTest_Finish_Twice(call, &v));
    EXPECT(v == 42);
    EXPECT_HR(S_OK, AsyncIOopTest_Begin_Fail(call, E_ACCESSDENIED));
    EXPECT_HR(E_ACCESSDENIED, AsyncIOopTest_Finish_Fail(call));
    /* the reply's thread signals the outer: a synchronous call to another
     * process from there fails at once instead of waiting for itself */
    a->callout = p;
    atomic_store(&a->callout_hr, 1);
    EXPECT_HR(S_OK, AsyncIOopTest_Begin_Add(call, 1, 1));
    EXPECT_HR(S_OK, AsyncIOopTest_Finish_Add(call, &sum));
    EXPECT(sum == 2);
    EXPECT_HR(0x8001010D, (HRESULT)atomic_load(&a->callout_hr));  /* RPC_E_CANTCALLOUT_ININPUTSYNCCALL */
    a->callout = NULL;

    /* J6: a slow call in flight on a second aggregated call object delays
     * no other; then J7: its cancel reaches the server */
    Agg *b = agg_new(p, &freed, &slow);
    EXPECT_HR(S_OK, AsyncIOopTest_Begin_Slow(slow, hang_ms()));
    EXPECT(wait_stats(p, running_one, &before, &now));
    for (int i = 0; i < 3; i++) {
        EXPECT_HR(S_OK, AsyncIOopTest_Begin_Add(call, i, 7));
        EXPECT_HR(S_OK, AsyncIOopTest_Finish_Add(call, &sum));
        EXPECT(sum == 7 + i);
    }
    EXPECT_HR(AMRT_WAIT_TIMEOUT, call_wait(slow, 0));
    long signals = atomic_load(&b->signals);
    EXPECT_HR(S_OK, call_cancel(slow));
    EXPECT(atomic_load(&b->signals) == signals + 1);      /* cancellation counts as completion, the outer's Signal */
    EXPECT_HR(S_OK, call_wait(slow, hang_ms()));
    LONG c = -1;
    EXPECT_HR(RPC_E_CALL_CANCELED, AsyncIOopTest_Finish_Slow(slow, &c));
    /* used again at once, its late reply (discarded, J7) still due: twice,
     * canceled again in between */
    for (int i = 0; i < 2; i++) {
        EXPECT_HR(S_OK, AsyncIOopTest_Begin_Add(slow, i, 5));
        EXPECT_HR(S_OK, AsyncIOopTest_Finish_Add(slow, &sum));
        EXPECT(sum == 5 + i);
        if (i == 0) {
            EXPECT_HR(S_OK, AsyncIOopTest_Begin_Slow(slow, hang_ms()));
            EXPECT_HR(S_OK, call_cancel(slow));
            EXPECT_HR(RPC_E_CALL_CANCELED, AsyncIOopTest_Finish_Slow(slow, &c));
        }
    }
    EXPECT(wait_stats(p, more_canceled, &before, &now));
    /* the outer goes once the late replies came */
    AsyncIOopTest_Release(slow);
    EXPECT(freed_is(&freed, 1));
    /* the same for a call object that is not aggregated */
    AsyncIOopTest *plain = new_call(p);
    before = stats(p);
    EXPECT_HR(S_OK, AsyncIOopTest_Begin_Slow(plain, hang_ms()));
    EXPECT(wait_stats(p, running_one, &before, &now));
    EXPECT_HR(S_OK, call_cancel(plain));
    EXPECT_HR(RPC_E_CALL_CANCELED, AsyncIOopTest_Finish_Slow(plain, &c));
    EXPECT_HR(S_OK, AsyncIOopTest_Begin_Add(plain, 2, 5));
    EXPECT_HR(S_OK, AsyncIOopTest_Finish_Add(plain, &sum));
    EXPECT(sum == 7);
    EXPECT(wait_stats(p, more_canceled, &before, &now));
    AsyncIOopTest_Release(plain);

    /* E8: IAsyncManager::CompleteCall ends it at once, the server is told */
    b = agg_new(p, &freed, &slow);
    before = stats(p);
    EXPECT_HR(S_OK, AsyncIOopTest_Begin_Slow(slow, hang_ms()));
    EXPECT(wait_stats(p, running_one, &before, &now));
    IAsyncManager *m = NULL;
    EXPECT_HR(S_OK, AsyncIOopTest_QueryInterface(slow, &IID_IAsyncManager, (void **)&m));
    if (m) {
        signals = atomic_load(&b->signals);
        EXPECT_HR(S_OK, IAsyncManager_CompleteCall(m, E_ABORT));
        EXPECT(atomic_load(&b->signals) == signals + 1);
        ULONG st = 99;
        EXPECT_HR(S_OK, IAsyncManager_GetState(m, &st));
        EXPECT(st == DCOM_CALL_COMPLETE);
        IAsyncManager_Release(m);
    }
    c = -1;
    EXPECT_HR(E_ABORT, AsyncIOopTest_Finish_Slow(slow, &c));
    EXPECT(c == -1);                    /* outputs untouched */
    EXPECT(wait_stats(p, more_canceled, &before, &now));
    AsyncIOopTest_Release(slow);
    EXPECT(freed_is(&freed, 2));
    before = stats(p);

    /* B9, J8: released without Finish_: the replies, an object reference
     * among them, are freed; the outers go when their calls end */
    for (int i = 0; i < 5; i++) {
        AsyncIOopTest *gone = NULL;
        agg_new(p, &freed, &gone);
        EXPECT_HR(S_OK, AsyncIOopTest_Begin_Create(gone));
        AsyncIOopTest_Release(gone);
        agg_new(p, &freed, &gone);
        EXPECT_HR(S_OK, AsyncIOopTest_Begin_Slow(gone, 20));
        AsyncIOopTest_Release(gone);
    }
    EXPECT(freed_is(&freed, 12));
    EXPECT(wait_stats(p, live_back, &before, &now));
    /* no call above needed a worker: Begin_ sent each request, the I/O
     * thread's reply completed it (J5) */
    EXPECT(oop_pool_workers() == 0);
    AsyncIOopTest_Release(call);
    EXPECT(freed_is(&freed, 13));
    IOopTest_Release(p);
}

/* J9: interface pointers both ways */
static void case_J9(void)
{
    IOopTest *p = create();
    Stats before = stats(p), now;
    /* server -> client: a new object of the server, a proxy here */
    IOopTest *q = NULL;
    EXPECT_HR(S_OK, IOopTest_Create(p, &q));
    if (q) {
        LONG s = 0;
        EXPECT_HR(S_OK, IOopTest_Add(q, 20, 22, &s));
        EXPECT(s == 42);
        EXPECT(stats(p).live == before.live + 1);
        IOopTest_Release(q);
        EXPECT(wait_stats(p, live_back, &before, &now));     /* released in the server */
    }
    /* client -> server: our object, called back from the server, at once
     * (the caller that reads the call back hands it to a thread of the
     * pool, which does not look for it on its own before its next event) */
    Notify n = { { &notify_vtbl }, 1, 0, getpid() };
    LONG echo = 0;
    long t0 = ms_now();
    EXPECT_HR(S_OK, IOopTest_Callback(p, &n.iface, 4, &echo));
    EXPECT(ms_now() - t0 < 2000);
    EXPECT(echo == 41);         /* ran here, in its owner's process */
    EXPECT(atomic_load(&n.calls) == 1);
    /* kept there, handed back: the original pointer, not a proxy */
    EXPECT_HR(S_OK, IOopTest_Keep(p, &n.iface));
    EXPECT(atomic_load(&n.refs) >= 2);
    IOopNotify *back = NULL;
    EXPECT_HR(S_OK, IOopTest_Give(p, &back));
    EXPECT(back == &n.iface);
    if (back)
        IOopNotify_Release(back);
    /* the server lets go: our reference count comes back to ours alone */
    EXPECT_HR(S_OK, IOopTest_Keep(p, NULL));
    for (DWORD t = 0; t < hang_ms() && atomic_load(&n.refs) != 1; t += 5)
        sleep_ms(5);
    EXPECT(atomic_load(&n.refs) == 1);
    /* a server object passed back to the server arrives as itself */
    IOopTest_Release(p);
}

/* J4 J9: the caller reads its own reply when nobody reads the connection
 * (conn.c, "a synchronous call's reader"): four threads race for that on
 * one connection, with synchronous calls, callbacks into this process
 * during a synchronous call (the reader queues them for a thread of the
 * pool, or the call would never end), and call objects whose replies the
 * readers complete */
typedef struct ReaderArg { IOopTest *p; int kind; atomic_int *bad; } ReaderArg;

static void *reader_thread(void *arg)
{
    ReaderArg *a = arg;
    AsyncIOopTest *calls[4] = { 0 };
    Notify n = { { &notify_vtbl }, 1, 0, getpid() };
    for (int i = 0; i < 4 && a->kind == 2; i++)
        calls[i] = new_call(a->p);
    for (int i = 0; i < 300; i++) {
        LONG r = -1;
        if (a->kind == 0 && i % 50 == 7) {
            /* a reply read straight into its buffer, by this caller (12 KB)
             * or by the event threads it hands a large one to (400 KB) */
            UINT n = i % 100 == 7 ? 3000 : 100000;
            BSTR in = SysAllocStringLen(NULL, n), out = NULL;
            for (UINT k = 0; in && k < n; k++)
                in[k] = (WCHAR)('a' + (k + (UINT)i) % 26);
            bool good = in && IOopTest_Bstr(a->p, in, &out) == S_OK && SysStringLen(out) == 2 * n &&
                        !memcmp(out, in, n * sizeof(WCHAR)) && !memcmp(out + n, in, n * sizeof(WCHAR));
            if (!good)
                atomic_fetch_add(a->bad, 1);
            SysFreeString(in);
            SysFreeString(out);
        } else if (a->kind == 0 || (a->kind == 1 && i % 3)) {
            if (IOopTest_Add(a->p, i, a->kind, &r) != S_OK || r != i + a->kind)
                atomic_fetch_add(a->bad, 1);
        } else if (a->kind == 1) {
            /* the callback runs at once: no thread of the pool looks at the
             * queue on its own before its next event (seen: 10 s) */
            long t0 = ms_now();
            if (IOopTest_Callback(a->p, &n.iface, i, &r) != S_OK || r != 10 * i + 1)
                atomic_fetch_add(a->bad, 1);
            if (ms_now() - t0 > 2000) {
                fprintf(stderr, "a callback during a synchronous call took more than 2 s\n");
                atomic_fetch_add(a->bad, 1);
            }
        } else {
            for (int k = 0; k < 4; k++)
                if (FAILED(AsyncIOopTest_Begin_Add(calls[k], i, k)))
                    atomic_fetch_add(a->bad, 1);
            for (int k = 0; k < 4; k++) {
                LONG s = -1;
                if (call_wait(calls[k], hang_ms()) != S_OK || AsyncIOopTest_Finish_Add(calls[k], &s) != S_OK ||
                    s != i + k)
                    atomic_fetch_add(a->bad, 1);
            }
        }
    }
    for (int i = 0; i < 4; i++)
        if (calls[i])
            AsyncIOopTest_Release(calls[i]);
    if (a->kind == 1 && atomic_load(&n.calls) != 100)
        atomic_fetch_add(a->bad, 1);
    return NULL;
}

static void case_reader(void)
{
    IOopTest *p = create();
    atomic_int bad = 0;
    pthread_t t[4];
    ReaderArg args[4];
    static const int kinds[4] = { 0, 1, 2, 0 };
    for (int i = 0; i < 4; i++) {
        args[i] = (ReaderArg){ p, kinds[i], &bad };
        REQUIRE_HR(0, pthread_create(&t[i], NULL, reader_thread, &args[i]));
    }
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    EXPECT(atomic_load(&bad) == 0);
    /* and the connection is still read by the event threads afterwards:
     * a call object's reply, with no synchronous call to read it */
    AsyncIOopTest *call = new_call(p);
    LONG s = -1;
    EXPECT_HR(S_OK, AsyncIOopTest_Begin_Add(call, 40, 2));
    EXPECT_HR(S_OK, call_wait(call, hang_ms()));
    EXPECT_HR(S_OK, AsyncIOopTest_Finish_Add(call, &s));
    EXPECT(s == 42);
    AsyncIOopTest_Release(call);
    IOopTest_Release(p);
}

/* J10: the server is killed with calls in flight */
typedef struct SyncSlow { IOopTest *p; HRESULT hr; LONG out; } SyncSlow;

static void *sync_slow(void *arg)
{
    SyncSlow *s = arg;
    s->out = 77;
    s->hr = IOopTest_Slow(s->p, 60000, &s->out);
    return NULL;
}

static void case_J10(const char *how)
{
    IOopTest *p = create();
    Stats before = stats(p), now;
    DWORD pid = 0;
    EXPECT_HR(S_OK, IOopTest_Pid(p, &pid));
    AsyncIOopTest *call = new_call(p), *agg = NULL;
    atomic_int freed = 0;
    Agg *a = agg_new(p, &freed, &agg);      /* an aggregated call object's call too */
    EXPECT_HR(S_OK, AsyncIOopTest_Begin_Slow(call, 60000));
    EXPECT_HR(S_OK, AsyncIOopTest_Begin_Slow(agg, 60000));
    SyncSlow ss = { p, S_OK, 0 };
    pthread_t t;
    pthread_create(&t, NULL, sync_slow, &ss);
    EXPECT(wait_stats(p, running_one, &before, &now));
    while (stats(p).running < 3)
        sleep_ms(2);            /* bounded by the suite's limit */
    if (strcmp(how, "kill") == 0) {
        EXPECT(kill((pid_t)pid, SIGKILL) == 0);
    } else {
        IOopTest *q = create();
        HRESULT qh = IOopTest_Quit(q);          /* the server ends with clients connected */
        EXPECT(qh == S_OK || qh == RPC_E_SERVER_DIED);  /* its reply may lose the race with its end */
        IOopTest_Release(q);
    }
    EXPECT_HR(S_OK, call_wait(call, hang_ms()));
    LONG c = 77;
    EXPECT_HR(RPC_E_SERVER_DIED, AsyncIOopTest_Finish_Slow(call, &c));
    EXPECT(c == 77);            /* outputs untouched (J10) */
    EXPECT_HR(S_OK, call_wait(agg, hang_ms()));
    EXPECT(atomic_load(&a->signals) == 1);      /* through the outer (B14) */
    EXPECT_HR(RPC_E_SERVER_DIED, AsyncIOopTest_Finish_Slow(agg, &c));
    EXPECT(c == 77);
    pthread_join(t, NULL);
    EXPECT_HR(RPC_E_SERVER_DIED, ss.hr);
    EXPECT(ss.out == 77);       /* the synchronous call's outputs untouched (J10) */
    /* later calls fail at once */
    LONG s = 0;
    EXPECT_HR(RPC_E_DISCONNECTED, IOopTest_Add(p, 1, 1, &s));
    EXPECT_HR(S_OK, AsyncIOopTest_Begin_Add(call, 1, 1));
    EXPECT_HR(S_OK, call_wait(call, hang_ms()));
    EXPECT_HR(RPC_E_DISCONNECTED, AsyncIOopTest_Finish_Add(call, &s));
    EXPECT_HR(S_OK, AsyncIOopTest_Begin_Add(agg, 1, 1));
    EXPECT_HR(S_OK, call_wait(agg, hang_ms()));
    EXPECT_HR(RPC_E_DISCONNECTED, AsyncIOopTest_Finish_Add(agg, &s));
    AsyncIOopTest_Release(agg);
    EXPECT(freed_is(&freed, 1));
    AsyncIOopTest_Release(call);
    IOopTest_Release(p);
}

/* J11, the victim: objects held, a call in flight, then the suite kills it */
static void case_victim(void)
{
    IOopTest *p = create();
    IOopTest *q = NULL;
    EXPECT_HR(S_OK, IOopTest_Create(p, &q));
    AsyncIOopTest *call = new_call(p);
    EXPECT_HR(S_OK, AsyncIOopTest_Begin_Slow(call, 60000));
    Stats before = stats(p), now;
    EXPECT(wait_stats(p, running_one, &before, &now));
    printf("ready %d\n", (int)getpid());
    fflush(stdout);
    sleep_ms(hang_ms() * 3);    /* until killed */
}

/* J11, the witness: the dead client's references and calls are gone */
static bool victim_gone(const Stats *s, const Stats *ref)
{
    return s->live == 1 && s->running == 0 && s->canceled > ref->canceled;
}

static void case_witness(void)
{
    IOopTest *p = create();
    Stats zero = { 0, 0, 0, 0 }, now;
    if (!wait_stats(p, victim_gone, &zero, &now)) {
        fprintf(stderr, "server: %ld live objects (1 expected: ours), %ld running, %ld canceled\n",
                (long)now.live, (long)now.running, (long)now.canceled);
        failures++;
    }
    IOopTest_Release(p);
}

/* J16: a HANDLE crosses as a duplicate descriptor, both ways */
static void case_J16(void)
{
    IOopTest *p = create();
    for (int round = 0; round < 2; round++) {
        int fds[2];
        EXPECT(pipe(fds) == 0);
        EXPECT(write(fds[1], "hello", 5) == 5);
        HANDLE out = NULL;
        LONG got = 0;
        if (round == 0) {
            EXPECT_HR(S_OK, IOopTest_Pipe(p, (HANDLE)(intptr_t)fds[0], &out, &got));
        } else {
            AsyncIOopTest *call = new_call(p);
            EXPECT_HR(S_OK, AsyncIOopTest_Begin_Pipe(call, (HANDLE)(intptr_t)fds[0]));
            EXPECT_HR(S_OK, AsyncIOopTest_Finish_Pipe(call, &out, &got));
            AsyncIOopTest_Release(call);
        }
        EXPECT(got == 5);
        /* ours stays ours: still open here */
        EXPECT(fcntl(fds[0], F_GETFD) >= 0);
        int o = (int)(intptr_t)out;
        EXPECT(o > 0 && o != fds[0] && o != fds[1]);
        char buf[8] = { 0 };
        if (o > 0) {
            EXPECT(read(o, buf, sizeof buf) == 4 && memcmp(buf, "pong", 4) == 0);
            EXPECT(read(o, buf, sizeof buf) == 0);      /* the server kept no write end */
            close(o);
        }
        close(fds[0]);
        close(fds[1]);
    }
    /* a value that is no descriptor: the call fails before anything is sent */
    HANDLE out = NULL;
    LONG got = 0;
    HRESULT hr = IOopTest_Pipe(p, (HANDLE)(intptr_t)1000000, &out, &got);
    EXPECT(FAILED(hr));
    IOopTest_Release(p);
}

/* J14: a NULL [ref] pointer: nothing is sent */
static void case_J14(void)
{
    IOopTest *p = create();
    Stats before = stats(p);
    LONG got = 5;
    EXPECT_HR(NULL_REF, IOopTest_Ref(p, NULL, &got));
    AsyncIOopTest *call = new_call(p);
    /* Begin_ refuses it before anything crosses (the in-process rule's
     * E_POINTER: the call object checks its [in] data first) */
    HRESULT hr = AsyncIOopTest_Begin_Ref(call, NULL);
    EXPECT(hr == NULL_REF || hr == E_POINTER);
    AsyncIOopTest_Release(call);
    Stats after = stats(p);
    EXPECT(after.refs == before.refs);
    LONG v = 9;
    EXPECT_HR(S_OK, IOopTest_Ref(p, &v, &got));
    EXPECT(got == 9 && stats(p).refs == before.refs + 1);
    IOopTest_Release(p);
}

/* J15: a client speaking another version is refused on connect (this
 * process runs with AMIDL_TEST_PROTO_VERSION set) */
static void case_J15_client(void)
{
    IOopTest *p = NULL;
    EXPECT_HR(RPC_E_VERSION_MISMATCH,
              CoCreateInstance(&CLSID_OopTest, NULL, CLSCTX_LOCAL_SERVER, &IID_IOopTest, (void **)&p));
}

/* ==================================================================== raw bytes (J12, J13, J15) */

static char link_path[512];

static int raw_connect(void)
{
    char name[40];
    const GUID *g = &CLSID_OopTest;
    snprintf(name, sizeof name, "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x", g->Data1, g->Data2, g->Data3,
             g->Data4[0], g->Data4[1], g->Data4[2], g->Data4[3], g->Data4[4], g->Data4[5], g->Data4[6], g->Data4[7]);
    snprintf(link_path, sizeof link_path, "%s/%s", getenv("AMIDL_RUNDIR"), name);
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    if (strlen(link_path) >= sizeof a.sun_path) {
        fprintf(stderr, "%s: path too long\n", link_path);
        exit(1);
    }
    memcpy(a.sun_path, link_path, strlen(link_path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        fprintf(stderr, "connect %s: %s\n", link_path, strerror(errno));
        exit(1);
    }
    return fd;
}

static void send_all(int fd, const void *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return;             /* the peer may have dropped us: what the case checks */
        p = (const char *)p + w;
        n -= (size_t)w;
    }
}

/* read one message (bounded); its header, or false when the peer closed */
static bool read_msg(int fd, amrt__wire_header *h, unsigned char *body, size_t cap)
{
    unsigned char buf[AMRT__WIRE_HEADER];
    size_t got = 0, want = sizeof buf;
    unsigned char *dst = buf;
    for (int phase = 0; phase < 2; phase++) {
        while (got < want) {
            struct pollfd pf = { fd, POLLIN, 0 };
            if (poll(&pf, 1, (int)hang_ms()) <= 0)
                return false;
            ssize_t r = recv(fd, dst + got, want - got, 0);
            if (r <= 0)
                return false;
            got += (size_t)r;
        }
        if (phase == 0) {
            if (FAILED(amrt__wire_header_get(buf, h)) || h->length > cap)
                return false;
            got = 0;
            want = h->length;
            dst = body;
        }
    }
    return true;
}

/* true when the peer closes the connection (bounded) */
static bool closed_by_peer(int fd)
{
    unsigned char b[4096];
    for (;;) {
        struct pollfd pf = { fd, POLLIN, 0 };
        if (poll(&pf, 1, (int)hang_ms()) <= 0)
            return false;
        ssize_t r = recv(fd, b, sizeof b, 0);
        if (r <= 0)
            return true;
    }
}

static amrt__wire_header head(int type)
{
    amrt__wire_header h;
    memset(&h, 0, sizeof h);
    h.magic = AMRT__WIRE_MAGIC;
    h.version = AMRT__WIRE_VERSION;
    h.type = (uint8_t)type;
    return h;
}

static void send_msg(int fd, amrt__wire_header *h, const void *body, size_t len)
{
    unsigned char buf[AMRT__WIRE_HEADER];
    h->length = (uint32_t)len;
    amrt__wire_header_put(buf, h);
    send_all(fd, buf, sizeof buf);
    if (len)
        send_all(fd, body, len);
}

/* connect and say HELLO with version v: the server's answer's status */
static HRESULT hello(int fd, uint32_t v)
{
    unsigned char body[16];
    memcpy(body, "AMIDLRPC", 8);
    uint32_t pid = (uint32_t)getpid();
    memcpy(body + 8, &v, 4);
    memcpy(body + 12, &pid, 4);
    amrt__wire_header h = head(AMRT__WIRE_HELLO);
    send_msg(fd, &h, body, sizeof body);
    unsigned char rb[64];
    amrt__wire_header r;
    if (!read_msg(fd, &r, rb, sizeof rb))
        return RPC_E_DISCONNECTED;
    return (HRESULT)r.status;
}

/* activate the class over the raw connection: the object id */
static uint64_t raw_activate(int fd)
{
    amrt__wire_header h = head(8 /* M_ACTIVATE */);
    h.call_id = 1;
    h.iid = IID_IOopTest;
    send_msg(fd, &h, &CLSID_OopTest, sizeof(CLSID));
    unsigned char rb[64];
    amrt__wire_header r;
    if (!read_msg(fd, &r, rb, sizeof rb) || r.status != S_OK || !r.object_id) {
        fprintf(stderr, "raw activation failed\n");
        exit(1);
    }
    return r.object_id;
}

/* a real request for method 'index' of IOopTest with these args */
static void encode(amrt__wire_buf *b, uint32_t index, void **args, uint64_t oid, uint64_t call_id)
{
    amrt__wire_frame f;
    amrt__wire_frame_init(&f);
    amrt__wire_peer peer = { 0 };
    amrt__wire_header h = head(AMRT__WIRE_REQUEST);
    h.call_id = call_id;
    h.object_id = oid;
    h.iid = IID_IOopTest;
    h.method = index;
    const AmrtMethod *m = amrt__wire_method(&IOopTest_amrt_glue, index);
    REQUIRE_HR(S_OK, amrt__wire_encode_request(b, &h, m, args, &peer, &f));
    amrt__wire_frame_clear(&f);
    amrt__wire_frame_fini(&f);
}

/* the status of the reply to call_id, or RPC_E_DISCONNECTED when the server dropped us */
static HRESULT reply_status(int fd, uint64_t call_id)
{
    static unsigned char rb[1 << 20];
    amrt__wire_header r;
    for (;;) {
        if (!read_msg(fd, &r, rb, sizeof rb))
            return RPC_E_DISCONNECTED;
        if (r.call_id == call_id)
            return (HRESULT)r.status;
    }
}

enum { M_ADD = 0, M_SUM = 3, M_LOCAL = 16 };    /* IOopTest's vtable order (oop.idl) */

static void still_serves(void)
{
    IOopTest *p = create();
    LONG s = 0;
    EXPECT_HR(S_OK, IOopTest_Add(p, 3, 4, &s));
    EXPECT(s == 7);
    IOopTest_Release(p);
}

/* J13: hostile bytes: each fails its call or drops its connection, and the server serves on */
static void case_J13(void)
{
    /* garbage instead of a header */
    int fd = raw_connect();
    unsigned char junk[256];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (unsigned char)(i * 37 + 11);
    send_all(fd, junk, sizeof junk);
    EXPECT(closed_by_peer(fd));
    close(fd);
    /* a header that claims a body beyond the limit */
    fd = raw_connect();
    EXPECT_HR(S_OK, hello(fd, 1));
    amrt__wire_header h = head(AMRT__WIRE_REQUEST);
    h.length = 0x7ffffff0u;
    unsigned char hb[AMRT__WIRE_HEADER];
    amrt__wire_header_put(hb, &h);
    send_all(fd, hb, sizeof hb);
    EXPECT(closed_by_peer(fd));
    close(fd);
    /* a call before HELLO */
    fd = raw_connect();
    amrt__wire_buf b;
    amrt__wire_buf_init(&b);
    LONG a1 = 1, a2 = 2;
    void *add_args[3] = { &a1, &a2, NULL };
    encode(&b, M_ADD, add_args, 1, 5);
    send_all(fd, b.data, b.len);
    EXPECT(closed_by_peer(fd));
    close(fd);
    /* unknown object, unknown method, unknown interface, truncated body */
    fd = raw_connect();
    EXPECT_HR(S_OK, hello(fd, 1));
    uint64_t oid = raw_activate(fd);
    encode(&b, M_ADD, add_args, oid + 1000, 10);
    send_all(fd, b.data, b.len);
    EXPECT_HR(BAD_STUB, reply_status(fd, 10));
    encode(&b, M_ADD, add_args, oid, 11);
    amrt__wire_header_get(b.data, &h);
    h.method = 999;
    amrt__wire_header_put(b.data, &h);
    send_all(fd, b.data, b.len);
    EXPECT_HR(BAD_STUB, reply_status(fd, 11));
    encode(&b, M_ADD, add_args, oid, 12);
    amrt__wire_header_get(b.data, &h);
    h.iid = IID_IOopNotify;
    amrt__wire_header_put(b.data, &h);
    send_all(fd, b.data, b.len);
    HRESULT hr = reply_status(fd, 12);
    EXPECT(hr == BAD_STUB || hr == E_NOINTERFACE);
    encode(&b, M_ADD, add_args, oid, 13);
    amrt__wire_header_get(b.data, &h);
    h.length -= 4;
    amrt__wire_header_put(b.data, &h);
    send_all(fd, b.data, b.len - 4);
    EXPECT_HR(BAD_STUB, reply_status(fd, 13));
    /* a request naming the [local] method, never sent by a proxy: refused, not run */
    LONG lv = 1;
    void *local_args[2] = { &lv, NULL };
    encode(&b, M_LOCAL, local_args, oid, 15);
    send_all(fd, b.data, b.len);
    EXPECT_HR(E_NOTIMPL, reply_status(fd, 15));
    /* a good call on the same connection still works */
    encode(&b, M_ADD, add_args, oid, 14);
    send_all(fd, b.data, b.len);
    EXPECT_HR(S_OK, reply_status(fd, 14));
    /* a count larger than the data, and random corruption of a real request */
    LONG data[16];
    for (int i = 0; i < 16; i++)
        data[i] = i;
    ULONG n16 = 16;
    LONG *dp = data;
    void *sum_args[3] = { &n16, &dp, NULL };
    encode(&b, M_SUM, sum_args, oid, 20);
    unsigned char orig[4096];
    size_t olen = b.len < sizeof orig ? b.len : sizeof orig;
    memcpy(orig, b.data, olen);
    unsigned seed = 12345;
    int dropped = 0;
    for (int i = 0; i < 300; i++) {
        unsigned char msg[4096];
        memcpy(msg, orig, olen);
        amrt__wire_header mh;
        amrt__wire_header_get(msg, &mh);
        mh.call_id = 100 + (uint64_t)i;
        amrt__wire_header_put(msg, &mh);
        for (int k = 0; k < 1 + i % 4; k++) {
            seed = seed * 1103515245u + 12345u;
            size_t at = AMRT__WIRE_HEADER + (seed >> 8) % (olen - AMRT__WIRE_HEADER);
            msg[at] ^= (unsigned char)(1u << ((seed >> 4) & 7)) | (unsigned char)((seed >> 16) & 0xff);
        }
        send_all(fd, msg, olen);
        hr = reply_status(fd, mh.call_id);
        if (hr == RPC_E_DISCONNECTED) {         /* dropped: a new connection for the next ones */
            dropped++;
            close(fd);
            fd = raw_connect();
            EXPECT_HR(S_OK, hello(fd, 1));
            oid = raw_activate(fd);
            encode(&b, M_SUM, sum_args, oid, 20);
            memcpy(orig, b.data, olen);
        }
    }
    printf("corrupted requests: 300, connections dropped: %d\n", dropped);
    amrt__wire_buf_fini(&b);
    close(fd);
    still_serves();
}

/* J13: a message beyond the server's limit (it runs with AMRT_MAX_MESSAGE=65536) */
static void case_J13_limit(void)
{
    IOopTest *p = create();
    enum { N = 100000 };
    LONG *data = calloc(N, sizeof *data), sum = -1;
    HRESULT hr = IOopTest_Sum(p, N, data, &sum);
    if (hr != RPC_E_SERVER_DIED && hr != RPC_E_SERVER_DIED_DNE && hr != BAD_STUB) {
        fprintf(stderr, "Sum of %d LONGs beyond the server's limit: 0x%08x\n", N, (unsigned)hr);
        failures++;
    }
    free(data);
    IOopTest_Release(p);
    still_serves();
}

/* J15: a HELLO of another version is refused with RPC_E_VERSION_MISMATCH */
static void case_J15(void)
{
    int fd = raw_connect();
    EXPECT_HR(RPC_E_VERSION_MISMATCH, hello(fd, 2));
    EXPECT(closed_by_peer(fd));
    close(fd);
    /* a header of another wire version */
    fd = raw_connect();
    amrt__wire_header h = head(AMRT__WIRE_HELLO);
    h.version = AMRT__WIRE_VERSION + 1;
    unsigned char hb[AMRT__WIRE_HEADER];
    amrt__wire_header_put(hb, &h);
    send_all(fd, hb, sizeof hb);
    EXPECT(closed_by_peer(fd));
    close(fd);
    still_serves();
}

/* J12: this process runs as another user: refused */
static void case_J12_other(void)
{
    IOopTest *p = NULL;
    EXPECT_HR(E_ACCESSDENIED, CoCreateInstance(&CLSID_OopTest, NULL, CLSCTX_LOCAL_SERVER, &IID_IOopTest, (void **)&p));
}

/* J12: a rendezvous directory others can enter is refused */
static void case_J12_private(void)
{
    IOopTest *p = NULL;
    EXPECT_HR(E_ACCESSDENIED, CoCreateInstance(&CLSID_OopTest, NULL, CLSCTX_LOCAL_SERVER, &IID_IOopTest, (void **)&p));
}

/* one of 32 stress clients: random calls, cancels and releases (bounded) */
static void case_stress(unsigned seed)
{
    IOopTest *p = create();
    IOopTest *extra = NULL;
    for (int i = 0; i < 150; i++) {
        seed = seed * 1103515245u + 12345u;
        unsigned r = (seed >> 8) % 8;
        LONG s = 0, c = 0;
        if (r == 0) {
            EXPECT_HR(S_OK, IOopTest_Add(p, i, 1, &s));
            EXPECT(s == i + 1);
        } else if (r == 1) {
            AsyncIOopTest *call = new_call(p);
            EXPECT_HR(S_OK, AsyncIOopTest_Begin_Add(call, i, 2));
            EXPECT_HR(S_OK, AsyncIOopTest_Finish_Add(call, &s));
            EXPECT(s == i + 2);
            AsyncIOopTest_Release(call);
        } else if (r == 2) {
            AsyncIOopTest *call = new_call(p);
            EXPECT_HR(S_OK, AsyncIOopTest_Begin_Slow(call, (seed >> 4) % 20));
            AsyncIOopTest_Release(call);            /* released without Finish_ (J8) */
        } else if (r == 3) {
            AsyncIOopTest *call = new_call(p);
            EXPECT_HR(S_OK, AsyncIOopTest_Begin_Slow(call, 5000));
            EXPECT_HR(S_OK, call_cancel(call));     /* canceled (J7) */
            EXPECT_HR(S_OK, call_wait(call, hang_ms()));
            HRESULT hr = AsyncIOopTest_Finish_Slow(call, &c);
            EXPECT(hr == RPC_E_CALL_CANCELED || hr == S_OK);
            AsyncIOopTest_Release(call);
        } else if (r == 4) {
            AsyncIOopTest *call = new_call(p);
            EXPECT_HR(S_OK, AsyncIOopTest_Begin_Slow(call, 100));
            if ((seed >> 20) & 1)
                call_cancel(call);
            AsyncIOopTest_Release(call);            /* canceled or not, released in flight */
        } else if (r == 5) {
            if (extra)
                IOopTest_Release(extra);
            extra = NULL;
            EXPECT_HR(S_OK, IOopTest_Create(p, &extra));
        } else if (r == 6) {
            AsyncIOopTest *call = new_call(p);
            EXPECT_HR(S_OK, AsyncIOopTest_Begin_Create(call));
            AsyncIOopTest_Release(call);            /* an object reference in a reply nobody takes */
        } else {
            Notify n = { { &notify_vtbl }, 1, 0, getpid() };
            LONG echo = 0;
            EXPECT_HR(S_OK, IOopTest_Callback(p, &n.iface, 3, &echo));
            EXPECT(echo == 31);
            for (DWORD t = 0; t < hang_ms() && atomic_load(&n.refs) != 1; t += 2)
                sleep_ms(2);                        /* n lives on this stack */
            EXPECT(atomic_load(&n.refs) == 1);
        }
    }
    if (extra)
        IOopTest_Release(extra);
    IOopTest_Release(p);
}

/* after the stress clients: only the witness's object, nothing running */
static bool stress_done(const Stats *s, const Stats *ref) { (void)ref; return s->live == 1 && s->running == 0; }

static void case_after_stress(void)
{
    IOopTest *p = create();
    Stats now;
    if (!wait_stats(p, stress_done, NULL, &now)) {
        fprintf(stderr, "server after the stress: %ld live objects (1 expected), %ld running\n", (long)now.live,
                (long)now.running);
        failures++;
    }
    IOopTest_Release(p);
}

/* CoUninitialize with calls in flight (a synchronous one on another
 * thread, an asynchronous one): they end with RPC_E_SERVER_DIED, nothing hangs */
static void case_uninit(void)
{
    IOopTest *p = create();
    Stats before = stats(p), now;
    AsyncIOopTest *call = new_call(p), *agg = NULL;
    atomic_int freed = 0;
    agg_new(p, &freed, &agg);           /* an aggregated call object's call too */
    EXPECT_HR(S_OK, AsyncIOopTest_Begin_Slow(call, 600000));
    EXPECT_HR(S_OK, AsyncIOopTest_Begin_Slow(agg, 600000));
    SyncSlow ss = { p, S_OK, 0 };
    pthread_t t;
    pthread_create(&t, NULL, sync_slow, &ss);
    EXPECT(wait_stats(p, running_one, &before, &now));
    while (stats(p).running < 3)
        sleep_ms(2);            /* bounded by the suite's limit */
    CoUninitialize();
    pthread_join(t, NULL);
    EXPECT_HR(RPC_E_SERVER_DIED, ss.hr);
    LONG c = 77;
    EXPECT_HR(RPC_E_SERVER_DIED, AsyncIOopTest_Finish_Slow(call, &c));
    EXPECT(c == 77);
    EXPECT_HR(RPC_E_SERVER_DIED, AsyncIOopTest_Finish_Slow(agg, &c));
    EXPECT(c == 77);
    AsyncIOopTest_Release(agg);
    EXPECT(freed_is(&freed, 1));
    AsyncIOopTest_Release(call);     /* still valid for Release (I6) */
    IOopTest_Release(p);
    exit(failures ? 1 : 0);
}

/* the server's Quit */
static void case_quit(void)
{
    IOopTest *p = create();
    HRESULT hr = IOopTest_Quit(p);
    EXPECT(hr == S_OK || hr == RPC_E_SERVER_DIED);      /* the reply may lose the race with the server's end */
    IOopTest_Release(p);
}

/* `oop-client touch CLSID`: activate CLSID (any local server, started
 * through its class file), release the object at once and uninitialize: a
 * server whose object lives for no time at all must still end with it */
static void case_touch(const char *text)
{
    OLECHAR w[64];
    size_t n = 0;
    w[n++] = '{';
    for (; text[n - 1] && n < 60; n++)
        w[n] = (OLECHAR)(unsigned char)text[n - 1];
    w[n++] = '}';
    w[n] = 0;
    CLSID clsid;
    REQUIRE_HR(S_OK, CLSIDFromString(w, &clsid));
    IUnknown *p = NULL;
    REQUIRE_HR(S_OK, CoCreateInstance(&clsid, NULL, CLSCTX_LOCAL_SERVER, &IID_IUnknown, (void **)&p));
    EXPECT(IUnknown_Release(p) == 0);
}

/* J3: `oop-client listen PATH CMD...`: bind a listening socket at PATH,
 * hand it to CMD as fd 3 with LISTEN_FDS=1 and LISTEN_PID (systemd's way) */
static int listen_exec(const char *path, char **cmd)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
    unlink(path);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 16) != 0) {
        perror("listen");
        return 1;
    }
    if (fd != 3) {
        dup2(fd, 3);
        close(fd);
    }
    char pid[32];
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    setenv("LISTEN_FDS", "1", 1);
    setenv("LISTEN_PID", pid, 1);
    execv(cmd[0], cmd);
    perror("execv");
    return 1;
}

/* J3: the server serves on the socket it was handed */
static void case_J3(const char *path)
{
    IOopTest *p = create();
    LONG s = 0;
    EXPECT_HR(S_OK, IOopTest_Add(p, 5, 6, &s));
    EXPECT(s == 11);
    IOopTest_Release(p);
    /* and it is that socket: a raw HELLO there is answered */
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
    EXPECT(connect(fd, (struct sockaddr *)&a, sizeof a) == 0);
    EXPECT_HR(S_OK, hello(fd, 1));
    close(fd);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: oop-client CASE\n");
        return 2;
    }
    const char *c = argv[1];
    if (strcmp(c, "listen") == 0 && argc >= 4)
        return listen_exec(argv[2], argv + 3);
    signal(SIGPIPE, SIG_IGN);
    REQUIRE_HR(S_OK, CoInitializeEx(NULL, COINIT_MULTITHREADED));
    if (strcmp(c, "J1") == 0) case_J1();
    else if (strcmp(c, "first") == 0) case_first();
    else if (strcmp(c, "notreg") == 0) case_notreg();
    else if (strcmp(c, "exec-failure") == 0) case_exec_failure();
    else if (strcmp(c, "start-timeout") == 0) case_start_timeout();
    else if (strcmp(c, "J2") == 0) case_J2();
    else if (strcmp(c, "J3") == 0 && argc >= 3) case_J3(argv[2]);
    else if (strcmp(c, "J4") == 0) case_J4();
    else if (strcmp(c, "J5") == 0) case_J5();
    else if (strcmp(c, "J6") == 0) case_J6();
    else if (strcmp(c, "J7") == 0) case_J7();
    else if (strcmp(c, "J7-early") == 0) case_J7_early();
    else if (strcmp(c, "J8") == 0) case_J8();
    else if (strcmp(c, "agg") == 0) case_agg();
    else if (strcmp(c, "J9") == 0) case_J9();
    else if (strcmp(c, "reader") == 0) case_reader();
    else if (strcmp(c, "J10-kill") == 0) case_J10("kill");
    else if (strcmp(c, "J10-close") == 0) case_J10("close");
    else if (strcmp(c, "victim") == 0) case_victim();
    else if (strcmp(c, "witness") == 0) case_witness();
    else if (strcmp(c, "J12-other") == 0) case_J12_other();
    else if (strcmp(c, "J12-private") == 0) case_J12_private();
    else if (strcmp(c, "J13") == 0) case_J13();
    else if (strcmp(c, "J13-limit") == 0) case_J13_limit();
    else if (strcmp(c, "J14") == 0) case_J14();
    else if (strcmp(c, "J16") == 0) case_J16();
    else if (strcmp(c, "uninit") == 0) case_uninit();
    else if (strcmp(c, "J15") == 0) case_J15();
    else if (strcmp(c, "J15-client") == 0) case_J15_client();
    else if (strcmp(c, "quit") == 0) case_quit();
    else if (strcmp(c, "touch") == 0 && argc >= 3) case_touch(argv[2]);
    else if (strcmp(c, "stress") == 0 && argc >= 3) case_stress((unsigned)strtoul(argv[2], NULL, 10));
    else if (strcmp(c, "after-stress") == 0) case_after_stress();
    else {
        fprintf(stderr, "oop-client: unknown case '%s'\n", c);
        return 2;
    }
    CoUninitialize();
    return failures ? 1 : 0;
}
