/*
 * runtime_bench.c - what an asynchronous call costs, against the ways a
 * program could hand the same work to another thread, measured in one run:
 *
 *   direct       the method called directly (the floor)
 *   mutex        a hand-written handoff to one worker: mutex + condvar
 *   futex        a hand-written handoff: a state word, futex wake only when
 *                the other side sleeps (the reference of the ratios)
 *   glib         GLib's GThreadPool, completion through a GAsyncQueue
 *   libuv        libuv's uv_queue_work on a loop
 *   amidl reuse  libamidlrt call objects: Begin_/Finish_ on one call object
 *   amidl new    ... a new call object per call (CreateCall + Release)
 *
 * The job: two ints in, one out (ICalc::Add). Round trip: one call at a
 * time, microseconds per call. Pipelined: 64 calls in flight, calls per
 * second. Also: heap allocations per call on a reused call object
 * (counted by the runtime's allocator). Every contender is measured three
 * times (argv[2] changes it) and its best run is kept: this VM is noisy.
 * Ratios, never assertions.
 */
#define COBJMACROS
#include <glib.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "amidlrt.h"
#include "calltest.h"
#include "glue.h"

#include <uchar.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static volatile LONG sink;
static LONG add(LONG a, LONG b) { return a + b; }

/* ==================================================================== futex handoff */

static long futex(atomic_int *addr, int op, int val)
{
    return syscall(SYS_futex, addr, op, val, NULL, NULL, 0);
}

typedef struct Slot {
    atomic_int state;               /* 0 empty, 1 request, 2 done */
    atomic_int sleeping;            /* someone waits in futex on state */
    LONG a, b, r;
    void (*fn)(struct Slot *);      /* the glue rows' jobs (NULL: add) */
    void *p;
    ULONG n, out;
} Slot;

/* spin up to 50 us (the runtime's default AMRT_SPIN_US) before sleeping,
 * so that the reference and libamidlrt play by the same rule */
static void slot_wait(Slot *s, int while_value)
{
    double until = now_s() + 50e-6;
    do {
        for (int spin = 0; spin < 64; spin++)
            if (atomic_load(&s->state) != while_value)
                return;
    } while (now_s() < until);
    while (atomic_load(&s->state) == while_value) {
        atomic_fetch_add(&s->sleeping, 1);
        if (atomic_load(&s->state) == while_value)
            futex(&s->state, FUTEX_WAIT_PRIVATE, while_value);
        atomic_fetch_sub(&s->sleeping, 1);
    }
}

static void slot_set(Slot *s, int v)
{
    atomic_store(&s->state, v);
    if (atomic_load(&s->sleeping))
        futex(&s->state, FUTEX_WAKE_PRIVATE, 1);
}

/* the futex worker serves 64 slots round-robin (pipelined) or slot 0 */
static Slot fslots[64];
static int fslot_count = 1;
static atomic_int fstop;

static void *futex_worker(void *arg)
{
    (void)arg;
    int i = 0;
    while (!atomic_load(&fstop)) {
        Slot *s = &fslots[i];
        slot_wait(s, 0);
        if (atomic_load(&fstop))
            break;
        if (atomic_load(&s->state) == 1) {
            if (s->fn)
                s->fn(s);
            else
                s->r = add(s->a, s->b);
            slot_set(s, 2);
            i = (i + 1) % fslot_count;
        }
    }
    return NULL;
}

/* ==================================================================== mutex handoff */

static pthread_mutex_t mlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t mreq = PTHREAD_COND_INITIALIZER, mdone = PTHREAD_COND_INITIALIZER;
static int mpending, mcompleted, mstop;
static LONG ma, mb, mr;

static void *mutex_worker(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mlock);
    for (;;) {
        while (!mpending && !mstop)
            pthread_cond_wait(&mreq, &mlock);
        if (mstop)
            break;
        mpending--;
        mr = add(ma, mb);
        mcompleted++;
        pthread_cond_signal(&mdone);
    }
    pthread_mutex_unlock(&mlock);
    return NULL;
}

/* ==================================================================== glib */

static GAsyncQueue *gdone;
static void glib_job(gpointer data, gpointer user)
{
    (void)user;
    LONG *v = data;
    v[2] = add(v[0], v[1]);
    g_async_queue_push(gdone, data);
}

/* ==================================================================== libuv */

typedef struct UvJob { uv_work_t req; LONG a, b, r; int *left; } UvJob;
static void uv_work(uv_work_t *req) { UvJob *j = (UvJob *)req; j->r = add(j->a, j->b); }
static void uv_after(uv_work_t *req, int status) { (void)status; (*((UvJob *)req)->left)--; }

/* ==================================================================== the server */

typedef struct Calc { ICalc iface; atomic_long refs; } Calc;
static HRESULT STDMETHODCALLTYPE c_qi(ICalc *This, REFIID riid, void **ppv)
{
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_ICalc)) { *ppv = This; ICalc_AddRef(This); return S_OK; }
    *ppv = NULL;
    return E_NOINTERFACE;
}
static ULONG STDMETHODCALLTYPE c_addref(ICalc *This) { return (ULONG)atomic_fetch_add(&((Calc *)This)->refs, 1) + 1; }
static ULONG STDMETHODCALLTYPE c_release(ICalc *This) { return (ULONG)atomic_fetch_sub(&((Calc *)This)->refs, 1) - 1; }
static HRESULT STDMETHODCALLTYPE c_add(ICalc *This, LONG a, LONG b, LONG *sum) { (void)This; *sum = add(a, b); return S_OK; }
static HRESULT STDMETHODCALLTYPE c_unused(ICalc *This) { (void)This; return E_NOTIMPL; }
static ICalcVtbl vtbl = { c_qi, c_addref, c_release, c_add, (void *)c_unused, (void *)c_unused, (void *)c_unused,
                          (void *)c_unused, (void *)c_unused, (void *)c_unused, (void *)c_unused };

/* ==================================================================== glue rows: one kind of argument each */

static ULONG sum_bytes(const BYTE *p, ULONG n)
{
    ULONG s = 0;
    for (ULONG i = 0; i < n; i++)
        s += p[i];
    return s;
}

static ULONG wlen(const WCHAR *w)
{
    ULONG n = 0;
    while (w[n])
        n++;
    return n;
}

typedef struct Bench { IBench iface; atomic_long refs; } Bench;
static HRESULT STDMETHODCALLTYPE b_qi(IBench *This, REFIID riid, void **ppv)
{
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IBench)) { *ppv = This; IBench_AddRef(This); return S_OK; }
    *ppv = NULL;
    return E_NOINTERFACE;
}
static ULONG STDMETHODCALLTYPE b_addref(IBench *This) { return (ULONG)atomic_fetch_add(&((Bench *)This)->refs, 1) + 1; }
static ULONG STDMETHODCALLTYPE b_release(IBench *This) { return (ULONG)atomic_fetch_sub(&((Bench *)This)->refs, 1) - 1; }
static HRESULT STDMETHODCALLTYPE b_buf(IBench *This, ULONG n, const BYTE *data, ULONG *sum)
{ (void)This; *sum = sum_bytes(data, n); return S_OK; }
static HRESULT STDMETHODCALLTYPE b_str(IBench *This, LPCWSTR s, ULONG *len) { (void)This; *len = wlen(s); return S_OK; }
static HRESULT STDMETHODCALLTYPE b_obj(IBench *This, IUnknown *obj, ULONG *ok) { (void)This; *ok = obj != NULL; return S_OK; }
static IBenchVtbl bvtbl = { b_qi, b_addref, b_release, b_buf, b_str, b_obj };

/* the hand-written side: the caller copies (or AddRefs) what the worker
 * reads, as an asynchronous call must, and frees it after the reply */
static void job_buf(Slot *s) { s->out = sum_bytes(s->p, s->n); }
static void job_str(Slot *s) { s->out = wlen(s->p); }
static void job_obj(Slot *s) { s->out = s->p != NULL; }

static void handoff(Slot *s, void (*fn)(Slot *), void *p, ULONG n)
{
    s->fn = fn;
    s->p = p;
    s->n = n;
    slot_set(s, 1);
    slot_wait(s, 1);
    sink = (LONG)s->out;
    atomic_store(&s->state, 0);
}

static AsyncICalc *make_call(ICallFactory *f)
{
    AsyncICalc *c = NULL;
    ICallFactory_CreateCall(f, &IID_AsyncICalc, NULL, &IID_AsyncICalc, (IUnknown **)&c);
    return c;
}

/* ==================================================================== main */

typedef struct Result { const char *name; double rt_us, pipe_cps; } Result;

/* One measurement of every contender. */
static void run_once(int n, Result *res, int *pnres, double hand[3], double glue[3], double *pallocs)
{
    int nres = 0;
    double t;
    atomic_store(&fstop, 0);
    memset(fslots, 0, sizeof fslots);
    mstop = mpending = mcompleted = 0;

    /* direct */
    t = now_s();
    for (int i = 0; i < n; i++)
        sink = add(i, 1);
    double direct = (now_s() - t) / n * 1e6;
    res[nres++] = (Result){ "direct call (floor)", direct, n / (now_s() - t + 1e-12) };

    /* mutex + condvar */
    pthread_t mt;
    pthread_create(&mt, NULL, mutex_worker, NULL);
    t = now_s();
    for (int i = 0; i < n; i++) {
        pthread_mutex_lock(&mlock);
        ma = i; mb = 1; mpending = 1;
        int want = mcompleted + 1;
        pthread_cond_signal(&mreq);
        while (mcompleted < want)
            pthread_cond_wait(&mdone, &mlock);
        sink = mr;
        pthread_mutex_unlock(&mlock);
    }
    double mutex_rt = (now_s() - t) / n * 1e6;
    /* pipelined: 64 requests queued at a time */
    t = now_s();
    for (int done = 0; done < n; done += 64) {
        pthread_mutex_lock(&mlock);
        int want = mcompleted + 64;
        mpending += 64;
        pthread_cond_signal(&mreq);
        while (mcompleted < want)
            pthread_cond_wait(&mdone, &mlock);
        pthread_mutex_unlock(&mlock);
    }
    double mutex_pipe = n / (now_s() - t);
    pthread_mutex_lock(&mlock);
    mstop = 1;
    pthread_cond_signal(&mreq);
    pthread_mutex_unlock(&mlock);
    pthread_join(mt, NULL);
    res[nres++] = (Result){ "mutex+condvar handoff", mutex_rt, mutex_pipe };

    /* futex, one slot */
    pthread_t ft;
    fslot_count = 1;
    pthread_create(&ft, NULL, futex_worker, NULL);
    t = now_s();
    for (int i = 0; i < n; i++) {
        Slot *s = &fslots[0];
        s->a = i; s->b = 1;
        slot_set(s, 1);
        slot_wait(s, 1);
        sink = s->r;
        atomic_store(&s->state, 0);
    }
    double futex_rt = (now_s() - t) / n * 1e6;
    atomic_store(&fstop, 1);
    slot_set(&fslots[0], 3);
    pthread_join(ft, NULL);
    /* futex, 64 slots in flight */
    memset(fslots, 0, sizeof fslots);
    atomic_store(&fstop, 0);
    fslot_count = 64;
    pthread_create(&ft, NULL, futex_worker, NULL);
    t = now_s();
    for (int i = 0; i < 64; i++) { fslots[i].a = i; fslots[i].b = 1; slot_set(&fslots[i], 1); }
    for (int i = 64; i < n + 64; i++) {
        Slot *s = &fslots[i % 64];
        slot_wait(s, 1);
        sink = s->r;
        if (i < n) { s->a = i; s->b = 1; slot_set(s, 1); }
        else atomic_store(&s->state, 0);
    }
    double futex_pipe = n / (now_s() - t);
    atomic_store(&fstop, 1);
    for (int i = 0; i < 64; i++) slot_set(&fslots[i], 3);
    pthread_join(ft, NULL);
    res[nres++] = (Result){ "futex handoff (reference)", futex_rt, futex_pipe };

    /* glib */
    gdone = g_async_queue_new();
    GThreadPool *pool = g_thread_pool_new(glib_job, NULL, 1, TRUE, NULL);
    static LONG gv[64][3];
    t = now_s();
    for (int i = 0; i < n; i++) {
        gv[0][0] = i; gv[0][1] = 1;
        g_thread_pool_push(pool, gv[0], NULL);
        g_async_queue_pop(gdone);
        sink = gv[0][2];
    }
    double glib_rt = (now_s() - t) / n * 1e6;
    t = now_s();
    for (int i = 0; i < 64; i++) g_thread_pool_push(pool, gv[i], NULL);
    for (int i = 64; i < n + 64; i++) {
        LONG *v = g_async_queue_pop(gdone);
        if (i < n) g_thread_pool_push(pool, v, NULL);
    }
    double glib_pipe = n / (now_s() - t);
    g_thread_pool_free(pool, FALSE, TRUE);
    res[nres++] = (Result){ "GLib GThreadPool", glib_rt, glib_pipe };

    /* libuv */
    uv_loop_t *loop = uv_default_loop();
    static UvJob jobs[64];
    int left;
    int nuv = n / 4 > 1000 ? n / 4 : n;     /* libuv is slow: fewer round trips */
    t = now_s();
    for (int i = 0; i < nuv; i++) {
        left = 1;
        jobs[0].a = i; jobs[0].b = 1; jobs[0].left = &left;
        uv_queue_work(loop, &jobs[0].req, uv_work, uv_after);
        uv_run(loop, UV_RUN_DEFAULT);
    }
    double uv_rt = (now_s() - t) / nuv * 1e6;
    t = now_s();
    for (int done = 0; done < n; done += 64) {
        left = 64;
        for (int i = 0; i < 64; i++) {
            jobs[i].a = i; jobs[i].b = 1; jobs[i].left = &left;
            uv_queue_work(loop, &jobs[i].req, uv_work, uv_after);
        }
        uv_run(loop, UV_RUN_DEFAULT);
    }
    double uv_pipe = n / (now_s() - t);
    res[nres++] = (Result){ "libuv uv_queue_work", uv_rt, uv_pipe };

    /* amidl call objects */
    setenv("AMRT_THREADS", "1", 0);
    CoInitializeEx(NULL, COINIT_MULTITHREADED);
    Calc calc = { { &vtbl }, 1 };
    ICalc *px;
    ICallFactory *f;
    AmrtCreateProxy((IUnknown *)&calc.iface, &IID_ICalc, (void **)&px);
    ICalc_QueryInterface(px, &IID_ICallFactory, (void **)&f);
    AsyncICalc *call = make_call(f);
    LONG sum;
    AsyncICalc_Begin_Add(call, 1, 2);       /* warm up: the pool starts */
    AsyncICalc_Finish_Add(call, &sum);
    AmrtFailAllocationAfter(-1);            /* reset the allocation counter */
    t = now_s();
    for (int i = 0; i < n; i++) {
        AsyncICalc_Begin_Add(call, i, 1);
        AsyncICalc_Finish_Add(call, &sum);
    }
    double amidl_rt = (now_s() - t) / n * 1e6;
    *pallocs = (double)AmrtFailAllocationAfter(-1) / n;
    static AsyncICalc *calls[64];
    for (int i = 0; i < 64; i++)
        calls[i] = make_call(f);
    t = now_s();
    for (int i = 0; i < 64; i++)
        AsyncICalc_Begin_Add(calls[i], i, 1);
    for (int i = 64; i < n + 64; i++) {
        AsyncICalc *c = calls[i % 64];
        AsyncICalc_Finish_Add(c, &sum);
        if (i < n)
            AsyncICalc_Begin_Add(c, i, 1);
    }
    double amidl_pipe = n / (now_s() - t);
    res[nres++] = (Result){ "amidl call object, reused", amidl_rt, amidl_pipe };
    t = now_s();
    int nnew = n / 4 > 1000 ? n / 4 : n;
    for (int i = 0; i < nnew; i++) {
        AsyncICalc *c = make_call(f);
        AsyncICalc_Begin_Add(c, i, 1);
        AsyncICalc_Finish_Add(c, &sum);
        AsyncICalc_Release(c);
    }
    double amidl_new = (now_s() - t) / nnew * 1e6;
    res[nres++] = (Result){ "amidl call object, new per call", amidl_new, 0 };

    /* glue rows: a 4 KiB [in, size_is] buffer, a string, an interface pointer */
    static BYTE buf[4096];
    for (int i = 0; i < 4096; i++)
        buf[i] = (BYTE)i;
    const WCHAR *text = (const WCHAR *)u"The quick brown fox jumps over the lazy dog, twice over.";
    IUnknown *token;
    CoCreateInstance(&CLSID_ManualResetEvent, NULL, CLSCTX_INPROC_SERVER, &IID_IUnknown, (void **)&token);
    memset(fslots, 0, sizeof fslots);
    atomic_store(&fstop, 0);
    fslot_count = 1;
    pthread_create(&ft, NULL, futex_worker, NULL);
    for (int k = 0; k < 3; k++) {
        t = now_s();
        for (int i = 0; i < n; i++) {
            if (k == 0) {
                void *copy = malloc(sizeof buf);
                memcpy(copy, buf, sizeof buf);
                handoff(&fslots[0], job_buf, copy, sizeof buf);
                free(copy);
            } else if (k == 1) {
                size_t bytes = (wlen(text) + 1) * sizeof(WCHAR);
                void *copy = malloc(bytes);
                memcpy(copy, text, bytes);
                handoff(&fslots[0], job_str, copy, 0);
                free(copy);
            } else {
                IUnknown_AddRef(token);
                handoff(&fslots[0], job_obj, token, 0);
                IUnknown_Release(token);
            }
        }
        hand[k] = (now_s() - t) / n * 1e6;
    }
    atomic_store(&fstop, 1);
    slot_set(&fslots[0], 3);
    pthread_join(ft, NULL);
    Bench bench = { { &bvtbl }, 1 };
    IBench *bpx;
    ICallFactory *bf;
    AsyncIBench *bcall = NULL;
    AmrtCreateProxy((IUnknown *)&bench.iface, &IID_IBench, (void **)&bpx);
    IBench_QueryInterface(bpx, &IID_ICallFactory, (void **)&bf);
    ICallFactory_CreateCall(bf, &IID_AsyncIBench, NULL, &IID_AsyncIBench, (IUnknown **)&bcall);
    ULONG out;
    for (int k = 0; k < 3; k++) {
        t = now_s();
        for (int i = 0; i < n; i++) {
            if (k == 0) {
                AsyncIBench_Begin_Buf(bcall, sizeof buf, buf);
                AsyncIBench_Finish_Buf(bcall, &out);
            } else if (k == 1) {
                AsyncIBench_Begin_Str(bcall, text);
                AsyncIBench_Finish_Str(bcall, &out);
            } else {
                AsyncIBench_Begin_Obj(bcall, token);
                AsyncIBench_Finish_Obj(bcall, &out);
            }
            sink = (LONG)out;
        }
        glue[k] = (now_s() - t) / n * 1e6;
    }
    AsyncIBench_Release(bcall);
    ICallFactory_Release(bf);
    IBench_Release(bpx);
    IUnknown_Release(token);
    for (int i = 0; i < 64; i++)
        AsyncICalc_Release(calls[i]);
    AsyncICalc_Release(call);
    ICallFactory_Release(f);
    ICalc_Release(px);
    CoUninitialize();

    *pnres = nres;
}

static double row(const Result *res, int nres, const char *prefix, bool pipe)
{
    for (int i = 0; i < nres; i++)
        if (!strncmp(res[i].name, prefix, strlen(prefix)))
            return pipe ? res[i].pipe_cps : res[i].rt_us;
    return 0;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 20000;
    int runs = argc > 2 ? atoi(argv[2]) : 3;
    Result res[8], best[8];
    int nres = 0;
    double hand[3], glue[3], best_hand[3], best_glue[3], allocs = 0, a;
    /* every contender measured 'runs' times; its best run is kept (this VM is noisy) */
    for (int r = 0; r < (runs > 0 ? runs : 1); r++) {
        run_once(n, res, &nres, hand, glue, &a);
        for (int i = 0; i < nres; i++) {
            if (r == 0 || res[i].rt_us < best[i].rt_us)
                best[i].rt_us = res[i].rt_us;
            if (r == 0 || res[i].pipe_cps > best[i].pipe_cps)
                best[i].pipe_cps = res[i].pipe_cps;
            best[i].name = res[i].name;
        }
        for (int k = 0; k < 3; k++) {
            if (r == 0 || hand[k] < best_hand[k]) best_hand[k] = hand[k];
            if (r == 0 || glue[k] < best_glue[k]) best_glue[k] = glue[k];
        }
        if (a > allocs) allocs = a;
    }
    memcpy(res, best, sizeof best);
    memcpy(hand, best_hand, sizeof hand);
    memcpy(glue, best_glue, sizeof glue);
    double futex_rt = row(res, nres, "futex", false), futex_pipe = row(res, nres, "futex", true);
    double glib_rt = row(res, nres, "GLib", false), glib_pipe = row(res, nres, "GLib", true);
    double uv_pipe = row(res, nres, "libuv", true);
    double amidl_rt = row(res, nres, "amidl call object, reused", false);
    double amidl_pipe = row(res, nres, "amidl call object, reused", true);

    printf("runtime: one call (two ints in, one out), %d calls per measurement, 1 worker thread,\n"
           "best of %d runs\n", n, runs);
    printf("%-34s %12s %10s %16s %10s\n", "", "round trip", "vs futex", "pipelined (64)", "vs futex");
    for (int i = 0; i < nres; i++) {
        printf("%-34s %9.2f us %9.2fx", res[i].name, res[i].rt_us, res[i].rt_us / futex_rt);
        if (res[i].pipe_cps > 0 && i > 0)
            printf(" %11.0f /s %9.2fx\n", res[i].pipe_cps, res[i].pipe_cps / futex_pipe);
        else
            printf("\n");
    }
    printf("amidl: %.2f heap allocations per call on a reused call object (target: 0)\n", allocs);
    printf("\nglue: round trip per argument kind, a reused call object vs a hand-written futex handoff\n"
           "that makes the same copies (target: within 1.5x)\n");
    static const char *const kinds[3] = { "4 KiB [in, size_is] buffer", "[in, string] LPCWSTR (56 chars)",
                                          "[in] IUnknown * (AddRef/Release)" };
    printf("%-34s %12s %12s %10s\n", "", "hand-written", "amidl", "ratio");
    for (int k = 0; k < 3; k++)
        printf("%-34s %9.2f us %9.2f us %9.2fx\n", kinds[k], hand[k], glue[k], glue[k] / hand[k]);
    printf("targets: round trip within 1.2x of futex and at most 0.7x GLib's (now %.2fx); pipelined at least 0.8x futex\n"
           "         and 4x GLib's and libuv's (now %.2fx / %.2fx)\n",
           amidl_rt / glib_rt, amidl_pipe / glib_pipe, amidl_pipe / uv_pipe);
    return 0;
}
