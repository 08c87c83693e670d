/*
 * sync.c - the system synchronization objects (RULES.md C):
 *   CLSID_StdEvent          auto-reset event: a Wait that sees the signal consumes it
 *   CLSID_ManualResetEvent  stays signaled until Reset
 *   CLSID_SynchronizeContainer  waits for any of up to 63 ISynchronize objects
 *   CLSID_AmrtSynchronizeMutex  ISynchronizeMutex (RULES.md C16; Windows has no
 *                           public class for it, so this one is the runtime's own)
 * Events expose ISynchronize, ISynchronizeHandle and ISynchronizeEvent and are
 * aggregatable (RULES.md C9). Both start non-signaled.
 *
 * DESIGN. An event is one atomic word (EventCore, internal.h), plus a
 * mutex and a condition variable on CLOCK_MONOTONIC for the threads that
 * really sleep. Signal, Reset and a satisfied Wait are one atomic
 * operation on the word; the lock is taken only when the word's SLOW bit
 * says there is work for it (a sleeper to wake, an eventfd to mirror). A
 * Wait first spins on the word (amrt__spin_until), so a call that completes
 * within microseconds never enters the kernel; a waiter that goes to sleep
 * sets SLOW under the lock first, so a Signal either comes before (and the
 * waiter sees it) or takes the lock and wakes it. The event's HANDLE
 * (GetHandle) is an eventfd created on first request and kept readable
 * exactly while the event is signaled: after each change of the word,
 * efd_update (under the lock) writes 1 or reads it back to 0; once it
 * exists, SLOW stays set. SetEventHandle names another eventfd that each
 * Signal also makes readable. Timeouts return AMRT_WAIT_TIMEOUT
 * (RPC_E_TIMEOUT, the contract's value).
 *
 * The COM faces (ISynchronize, ISynchronizeHandle, ISynchronizeEvent) are
 * written once, on any core (SyncFaces): the event objects wear them,
 * and so do call objects, which embed their event's word in their own
 * first cache line.
 */
#include "internal.h"

#include <errno.h>
#include <sched.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

/* declared in mingw's cguid.h but defined nowhere there (RULES.md G) */
AMIDLRT_API const CLSID CLSID_StdEvent =
    { 0x0000032b, 0x0000, 0x0000, { 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46 } };
AMIDLRT_API const CLSID CLSID_ManualResetEvent =
    { 0x0000032c, 0x0000, 0x0000, { 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46 } };
AMIDLRT_API const CLSID CLSID_SynchronizeContainer =
    { 0x0000032d, 0x0000, 0x0000, { 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46 } };
/* {ca763971-7fa6-4578-bfd8-c09355a6e26f}: the runtime's own */
AMIDLRT_API const CLSID CLSID_AmrtSynchronizeMutex =
    { 0xca763971, 0x7fa6, 0x4578, { 0xbf, 0xd8, 0xc0, 0x93, 0x55, 0xa6, 0xe2, 0x6f } };

/* ==================================================================== time */

void amrt__deadline(struct timespec *ts, DWORD ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

int amrt__ms_left(const struct timespec *d)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long ms = (long long)(d->tv_sec - now.tv_sec) * 1000 + (d->tv_nsec - now.tv_nsec) / 1000000;
    if (ms < 0)
        return 0;
    return ms > INT32_MAX ? INT32_MAX : (int)ms;
}

static long spin_ns = -1;

static long spin_budget(void)
{
    long ns = __atomic_load_n(&spin_ns, __ATOMIC_RELAXED);
    if (ns < 0) {
        const char *e = getenv("AMRT_SPIN_US");
        long us = e ? strtol(e, NULL, 10) : 50;
        ns = (us < 0 ? 0 : us > 100000 ? 100000 : us) * 1000L;
        __atomic_store_n(&spin_ns, ns, __ATOMIC_RELAXED);
    }
    return ns;
}

/* The process may run on one CPU only (taskset, cpusets), and AMRT_SPIN_US
 * is not set: a waiter that spins there only keeps the threads it waits for
 * off that CPU, and its yields hand the CPU to whoever is runnable (another
 * process) one event at a time. Looked at once. */
static int one_cpu = -1;

bool amrt__spin_pointless(void)
{
    int v = __atomic_load_n(&one_cpu, __ATOMIC_RELAXED);
    if (v < 0) {
        cpu_set_t cpus;
        v = !getenv("AMRT_SPIN_US") && sched_getaffinity(0, sizeof cpus, &cpus) == 0 && CPU_COUNT(&cpus) == 1;
        __atomic_store_n(&one_cpu, v, __ATOMIC_RELAXED);
    }
    return v;
}

bool amrt__spin_until(bool (*ready)(void *), void *arg)
{
    long budget = spin_budget();
    if (!budget)
        return ready(arg);
    /* a quick look first, without PAUSE or the clock (each costs 30 ns on
     * the VM this was measured on): most waits end within it */
    for (int i = 0; i < 256; i++)
        if (ready(arg))
            return true;
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    long next_yield = 1000;
    for (;;) {
        for (int i = 0; i < 64; i++) {
            if (ready(arg))
                return true;
            amrt__cpu_relax();
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        long ns = (now.tv_sec - start.tv_sec) * 1000000000L + (now.tv_nsec - start.tv_nsec);
        if (ns > budget)
            return ready(arg);
        if (ns > next_yield) {
            /* the other side may be waiting for this very CPU: let it
             * run, at 1, 2, 4, ... us (each yield is a system call, and
             * meanwhile nobody looks) */
            sched_yield();
            next_yield *= 2;
        }
    }
}

/* a mutex and a condition variable timed on CLOCK_MONOTONIC (the events' and the mutex object's) */
static bool lock_init(pthread_mutex_t *lock, pthread_cond_t *cond)
{
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) != 0)
        return false;
    /* the deadlines are CLOCK_MONOTONIC's: a condition on another clock would misread them */
    AMRT_THREAD_CHECK("pthread_condattr_setclock", pthread_condattr_setclock(&ca, CLOCK_MONOTONIC));
    bool ok = pthread_mutex_init(lock, NULL) == 0;
    if (ok && pthread_cond_init(cond, &ca) != 0) {
        amrt__mutex_destroy(lock);
        ok = false;
    }
    pthread_condattr_destroy(&ca);
    return ok;
}

/* ==================================================================== handles */

/* The descriptors GetHandle gave out, indexed by their value: the handles
 * of this runtime, as CoWaitForMultipleHandles knows them (RULES.md C22),
 * each with the event it mirrors (C20: a wait consumes an auto-reset
 * event's signal). An event leaves the table before its descriptor is
 * closed, and a waiter holds handles_lock while it touches an event found
 * here, so the event cannot go under it. Lock order: handles_lock, then an
 * event's lock. */
static pthread_mutex_t handles_lock = PTHREAD_MUTEX_INITIALIZER;
static EventCore **handles;         /* [fd]; guarded by handles_lock */
static int handles_cap;

static bool handle_add(int fd, EventCore *ev)
{
    bool ok = true;
    amrt__mutex_lock(&handles_lock);
    if (fd >= handles_cap) {
        int cap = handles_cap ? handles_cap : 64;
        while (cap <= fd)
            cap *= 2;
        EventCore **n = amrt__calloc((size_t)cap * sizeof *n);
        if (n) {
            if (handles)
                memcpy(n, handles, (size_t)handles_cap * sizeof *n);
            amrt__free(handles);
            handles = n;
            handles_cap = cap;
        }
        ok = n != NULL;
    }
    if (ok)
        handles[fd] = ev;
    amrt__mutex_unlock(&handles_lock);
    return ok;
}

static void handle_remove(int fd)
{
    amrt__mutex_lock(&handles_lock);
    if (fd < handles_cap)
        handles[fd] = NULL;
    amrt__mutex_unlock(&handles_lock);
}

/* the event whose handle fd is, NULL if none (handles_lock held) */
static EventCore *handle_event(int fd)
{
    return fd >= 0 && fd < handles_cap ? handles[fd] : NULL;
}

/* ==================================================================== the event core */

static bool core_signaled(void *arg)
{
    return atomic_load_explicit(&((EventCore *)arg)->word, memory_order_acquire) & AMRT_EV_SIGNALED;
}

bool amrt__ev_init(EventCore *ev, EventSlow *slow, bool manual)
{
    atomic_init(&ev->word, manual ? AMRT_EV_MANUAL : 0u);
    ev->slow = slow;
    slow->waiters = 0;
    slow->efd = -1;
    slow->efd_set = false;
    slow->ext_fd = -1;
    return lock_init(&slow->lock, &slow->cond);
}

void amrt__ev_fini(EventCore *ev)
{
    if (ev->slow->efd >= 0) {
        handle_remove(ev->slow->efd);   /* no waiter can find it any more: then close */
        close(ev->slow->efd);
    }
    amrt__cond_destroy(&ev->slow->cond);
    amrt__mutex_destroy(&ev->slow->lock);
}

/* Make the eventfd mirror the signaled bit (under the lock). */
static void efd_update(EventCore *ev)
{
    EventSlow *s = ev->slow;
    bool on = atomic_load(&ev->word) & AMRT_EV_SIGNALED;
    if (s->efd < 0 || s->efd_set == on)
        return;
    uint64_t v = 1;
    if (on) {
        if (write(s->efd, &v, sizeof v) == (ssize_t)sizeof v)
            s->efd_set = true;
    } else {
        if (read(s->efd, &v, sizeof v) == (ssize_t)sizeof v || errno == EAGAIN)
            s->efd_set = false;
    }
}

/* Set or clear the signaled bit in one atomic step, keeping the owner's
 * bits; false, with nothing changed, when the lock is needed (SLOW). */
static bool fast_set(EventCore *ev, bool on)
{
    unsigned w = atomic_load_explicit(&ev->word, memory_order_relaxed);
    while (!(w & AMRT_EV_SLOW))
        if (atomic_compare_exchange_weak_explicit(&ev->word, &w, on ? w | AMRT_EV_SIGNALED : w & ~AMRT_EV_SIGNALED,
                                                  memory_order_acq_rel, memory_order_relaxed))
            return true;
    return false;
}

/* Signal or Reset when the lock is needed: wake the sleepers, mirror the
 * eventfd, write SetEventHandle's descriptor. */
static void slow_set(EventCore *ev, bool on)
{
    EventSlow *s = ev->slow;
    amrt__mutex_lock(&s->lock);
    if (on)
        atomic_fetch_or(&ev->word, AMRT_EV_SIGNALED);
    else
        atomic_fetch_and(&ev->word, ~AMRT_EV_SIGNALED);
    efd_update(ev);
    if (on && s->ext_fd >= 0) {
        uint64_t v = 1;
        ssize_t w = write(s->ext_fd, &v, sizeof v);
        (void)w;
    }
    if (on && s->waiters) {
        if (atomic_load(&ev->word) & AMRT_EV_MANUAL)
            amrt__cond_broadcast(&s->cond);
        else
            amrt__cond_signal(&s->cond);
    }
    amrt__mutex_unlock(&s->lock);
}

void amrt__ev_signal(EventCore *ev)
{
    if (!fast_set(ev, true))
        slow_set(ev, true);
}

void amrt__ev_reset(EventCore *ev)
{
    if (!fast_set(ev, false))
        slow_set(ev, false);
}

/* Take the signal: a manual-reset event stays signaled, an auto-reset one
 * is consumed by exactly one waiter. Reports whether the word was SLOW. */
static bool core_take(EventCore *ev, bool *slow)
{
    unsigned w = atomic_load_explicit(&ev->word, memory_order_acquire);
    *slow = w & AMRT_EV_SLOW;
    if (w & AMRT_EV_MANUAL)
        return w & AMRT_EV_SIGNALED;
    while (w & AMRT_EV_SIGNALED)
        if (atomic_compare_exchange_weak_explicit(&ev->word, &w, w & ~AMRT_EV_SIGNALED, memory_order_acq_rel,
                                                  memory_order_acquire)) {
            *slow = w & AMRT_EV_SLOW;
            return true;
        }
    return false;
}

HRESULT amrt__ev_wait(EventCore *ev, DWORD flags, DWORD ms)
{
    if (flags & ~COWAIT_KNOWN)
        return E_INVALIDARG;    /* RULES.md C3 */
    /* C4/C19: MTA semantics, the known COWAIT flags change nothing */
    if (ms != 0)
        amrt__conn_hold_flush();        /* what it may wait for goes first */
    if (ms != 0 && !amrt__spin_pointless())
        amrt__spin_until(core_signaled, ev);    /* before sleeping: the signal is often microseconds away */
    bool slow;
    bool manual = atomic_load_explicit(&ev->word, memory_order_relaxed) & AMRT_EV_MANUAL;
    EventSlow *s = ev->slow;
    if (core_take(ev, &slow)) {
        if (!manual && slow) {          /* consumed: the eventfd mirror follows */
            amrt__mutex_lock(&s->lock);
            efd_update(ev);
            amrt__mutex_unlock(&s->lock);
        }
        return S_OK;
    }
    if (ms == 0)
        return AMRT_WAIT_TIMEOUT;
    struct timespec deadline;
    if (ms != INFINITE)
        amrt__deadline(&deadline, ms);
    HRESULT hr = AMRT_WAIT_TIMEOUT;
    amrt__mutex_lock(&s->lock);
    s->waiters++;
    atomic_fetch_or(&ev->word, AMRT_EV_SLOW);   /* from now on Signal takes the lock, and wakes us */
    for (;;) {
        if (core_take(ev, &slow)) {
            hr = S_OK;
            break;
        }
        int rc = 0;
        if (ms == INFINITE)
            amrt__cond_wait(&s->cond, &s->lock);
        else
            rc = amrt__cond_timedwait(&s->cond, &s->lock, &deadline);
        if (core_take(ev, &slow)) {
            hr = S_OK;
            break;
        }
        if (rc == ETIMEDOUT)
            break;
    }
    if (--s->waiters == 0 && s->efd < 0 && s->ext_fd < 0)
        atomic_fetch_and(&ev->word, ~AMRT_EV_SLOW);
    if (hr == S_OK && !manual)
        efd_update(ev);
    amrt__mutex_unlock(&s->lock);
    return hr;
}

HRESULT amrt__ev_get_handle(EventCore *ev, HANDLE *ph)
{
    if (!ph)
        return E_INVALIDARG;
    EventSlow *s = ev->slow;
    amrt__mutex_lock(&s->lock);
    if (s->efd < 0) {
        int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (fd < 0) {
            amrt__mutex_unlock(&s->lock);
            *ph = NULL;
            return errno == ENOMEM ? E_OUTOFMEMORY : E_FAIL;
        }
        s->efd = fd;
        s->efd_set = false;
        /* SLOW first, then mirror: a Signal either comes before (and is
         * mirrored here) or sees SLOW and mirrors itself under the lock */
        atomic_fetch_or(&ev->word, AMRT_EV_SLOW);
        efd_update(ev);
    }
    int fd = s->efd;
    amrt__mutex_unlock(&s->lock);
    /* known to CoWaitForMultipleHandles before the program sees it */
    if (!handle_add(fd, ev)) {
        *ph = NULL;
        return E_OUTOFMEMORY;
    }
    /* the HANDLE's value is the file descriptor (RULES.md C10); owned by the object */
    *ph = (HANDLE)(intptr_t)fd;
    return S_OK;
}

HRESULT amrt__ev_set_handle(EventCore *ev, HANDLE *ph)
{
    if (!ph)
        return E_INVALIDARG;
    int fd = (int)(intptr_t)*ph;
    if (fd < 0)
        return E_INVALIDARG;
    amrt__mutex_lock(&ev->slow->lock);
    ev->slow->ext_fd = fd;
    atomic_fetch_or(&ev->word, AMRT_EV_SLOW);
    amrt__mutex_unlock(&ev->slow->lock);
    return S_OK;
}

/* ---- the COM faces of an event: ISynchronize, ISynchronizeHandle,
 * ISynchronizeEvent; their IUnknown methods delegate to 'outer' ---- */

AMRT_DELEGATING_IUNKNOWN(sync, ISynchronize, SyncFaces, sync)

static HRESULT STDMETHODCALLTYPE sync_wait(ISynchronize *This, DWORD flags, DWORD ms)
{
    return amrt__ev_wait(((SyncFaces *)This)->core, flags, ms);
}

static HRESULT STDMETHODCALLTYPE sync_signal(ISynchronize *This)
{
    amrt__ev_signal(((SyncFaces *)This)->core);
    return S_OK;
}

static HRESULT STDMETHODCALLTYPE sync_reset(ISynchronize *This)
{
    amrt__ev_reset(((SyncFaces *)This)->core);
    return S_OK;
}

static const ISynchronizeVtbl sync_vtbl = {
    sync_qi, sync_addref, sync_release, sync_wait, sync_signal, sync_reset,
};

AMRT_DELEGATING_IUNKNOWN(ev, ISynchronizeEvent, SyncFaces, event)

static EventCore *ev_core(ISynchronizeEvent *This)
{
    return ((SyncFaces *)((char *)This - offsetof(SyncFaces, event)))->core;
}

static HRESULT STDMETHODCALLTYPE ev_gethandle(ISynchronizeEvent *This, HANDLE *ph)
{
    return amrt__ev_get_handle(ev_core(This), ph);
}

static HRESULT STDMETHODCALLTYPE ev_seteventhandle(ISynchronizeEvent *This, HANDLE *ph)
{
    return amrt__ev_set_handle(ev_core(This), ph);
}

static const ISynchronizeEventVtbl event_vtbl = {
    ev_qi, ev_addref, ev_release, ev_gethandle, ev_seteventhandle,
};

void amrt__sync_faces_init(SyncFaces *f, IUnknown *outer, EventCore *core)
{
    f->sync.lpVtbl = (ISynchronizeVtbl *)&sync_vtbl;
    f->event.lpVtbl = (ISynchronizeEventVtbl *)&event_vtbl;
    f->outer = outer;
    f->core = core;
}

void *amrt__sync_faces_find(SyncFaces *f, REFIID riid)
{
    if (IsEqualIID(riid, &IID_ISynchronize))
        return &f->sync;
    if (IsEqualIID(riid, &IID_ISynchronizeHandle) || IsEqualIID(riid, &IID_ISynchronizeEvent))
        return &f->event;
    return NULL;
}

/* ==================================================================== events */

typedef struct Event {
    IUnknown inner;                 /* the non-delegating IUnknown */
    SyncFaces faces;
    atomic_long refs;
    EventCore core;
    EventSlow slow;
} Event;

static HRESULT STDMETHODCALLTYPE inner_qi(IUnknown *This, REFIID riid, void **ppv)
{
    Event *ev = (Event *)This;
    if (!ppv)
        return E_POINTER;
    *ppv = IsEqualIID(riid, &IID_IUnknown) ? &ev->inner : amrt__sync_faces_find(&ev->faces, riid);
    if (!*ppv)
        return E_NOINTERFACE;
    IUnknown_AddRef((IUnknown *)*ppv);
    return S_OK;
}

static ULONG STDMETHODCALLTYPE inner_addref(IUnknown *This)
{
    return (ULONG)atomic_fetch_add(&((Event *)This)->refs, 1) + 1;
}

static ULONG STDMETHODCALLTYPE inner_release(IUnknown *This)
{
    Event *ev = (Event *)This;
    long left = atomic_fetch_sub(&ev->refs, 1) - 1;
    if (left == 0) {
        amrt__ev_fini(&ev->core);
        amrt__free(ev);
    }
    return (ULONG)left;
}

static const IUnknownVtbl inner_vtbl = { inner_qi, inner_addref, inner_release };

HRESULT amrt__event_create(IUnknown *outer, bool manual, const IID *iid, void **ppv)
{
    *ppv = NULL;
    if (outer && !IsEqualIID(iid, &IID_IUnknown))
        return CLASS_E_NOAGGREGATION;   /* RULES.md C9 */
    Event *ev = amrt__calloc(sizeof *ev);
    if (!ev)
        return E_OUTOFMEMORY;
    ev->inner.lpVtbl = (IUnknownVtbl *)&inner_vtbl;
    amrt__sync_faces_init(&ev->faces, outer ? outer : &ev->inner, &ev->core);
    atomic_init(&ev->refs, 1);
    if (!amrt__ev_init(&ev->core, &ev->slow, manual)) {
        amrt__free(ev);
        return E_OUTOFMEMORY;
    }
    if (outer) {
        *ppv = &ev->inner;          /* the aggregator holds the inner unknown */
        return S_OK;
    }
    HRESULT hr = IUnknown_QueryInterface(&ev->inner, iid, ppv);
    IUnknown_Release(&ev->inner);
    return hr;
}

/* ==================================================================== container */

#define CONTAINER_MAX 63            /* RULES.md C13 */

typedef struct Container {
    IUnknown inner;
    ISynchronizeContainer cont;
    IUnknown *outer;
    atomic_long refs;
    pthread_mutex_t lock;
    ISynchronize *members[CONTAINER_MAX];   /* guarded by lock; AddRef'd */
    int count;
} Container;

#define CT_FROM(p, field) ((Container *)((char *)(p) - offsetof(Container, field)))

static HRESULT STDMETHODCALLTYPE ct_inner_qi(IUnknown *This, REFIID riid, void **ppv)
{
    Container *c = CT_FROM(This, inner);
    if (!ppv)
        return E_POINTER;
    if (IsEqualIID(riid, &IID_IUnknown))
        *ppv = &c->inner;
    else if (IsEqualIID(riid, &IID_ISynchronizeContainer))
        *ppv = &c->cont;
    else {
        *ppv = NULL;
        return E_NOINTERFACE;
    }
    IUnknown_AddRef((IUnknown *)*ppv);
    return S_OK;
}

static ULONG STDMETHODCALLTYPE ct_inner_addref(IUnknown *This)
{
    return (ULONG)atomic_fetch_add(&CT_FROM(This, inner)->refs, 1) + 1;
}

static ULONG STDMETHODCALLTYPE ct_inner_release(IUnknown *This)
{
    Container *c = CT_FROM(This, inner);
    long left = atomic_fetch_sub(&c->refs, 1) - 1;
    if (left == 0) {
        for (int i = 0; i < c->count; i++)
            ISynchronize_Release(c->members[i]);
        amrt__mutex_destroy(&c->lock);
        amrt__free(c);
    }
    return (ULONG)left;
}

static const IUnknownVtbl ct_inner_vtbl = { ct_inner_qi, ct_inner_addref, ct_inner_release };

AMRT_DELEGATING_IUNKNOWN(ct, ISynchronizeContainer, Container, cont)

static HRESULT STDMETHODCALLTYPE ct_add(ISynchronizeContainer *This, ISynchronize *sync)
{
    Container *c = CT_FROM(This, cont);
    if (!sync)
        return E_INVALIDARG;
    amrt__mutex_lock(&c->lock);
    if (c->count == CONTAINER_MAX) {
        amrt__mutex_unlock(&c->lock);
        return RPC_E_OUT_OF_RESOURCES;
    }
    ISynchronize_AddRef(sync);
    c->members[c->count++] = sync;
    amrt__mutex_unlock(&c->lock);
    return S_OK;
}

/* Wait for any member (RULES.md C14, C15). Members with a pollable handle
 * are waited for with poll(); each readable one is confirmed (and, for an
 * auto-reset event, consumed) by its own Wait(0), lowest index first. */
static HRESULT STDMETHODCALLTYPE ct_wait(ISynchronizeContainer *This, DWORD flags, DWORD ms, ISynchronize **out)
{
    Container *c = CT_FROM(This, cont);
    if (!out)
        return E_INVALIDARG;
    *out = NULL;
    if ((flags & COWAIT_WAITALL) || (flags & ~COWAIT_KNOWN))
        return E_INVALIDARG;
    ISynchronize *m[CONTAINER_MAX];
    struct pollfd pfd[CONTAINER_MAX];
    int idx[CONTAINER_MAX];
    amrt__mutex_lock(&c->lock);
    int n = c->count;
    for (int i = 0; i < n; i++) {
        m[i] = c->members[i];
        ISynchronize_AddRef(m[i]);
    }
    amrt__mutex_unlock(&c->lock);
    if (n == 0)
        return RPC_E_NO_SYNC;
    int npoll = 0;
    bool all_pollable = true;
    for (int i = 0; i < n; i++) {
        ISynchronizeHandle *h = NULL;
        HANDLE fd;
        if (SUCCEEDED(ISynchronize_QueryInterface(m[i], &IID_ISynchronizeHandle, (void **)&h))) {
            if (SUCCEEDED(ISynchronizeHandle_GetHandle(h, &fd))) {
                pfd[npoll].fd = (int)(intptr_t)fd;
                pfd[npoll].events = POLLIN;
                idx[npoll++] = i;
            } else {
                all_pollable = false;
            }
            ISynchronizeHandle_Release(h);
        } else {
            all_pollable = false;
        }
    }
    struct timespec deadline;
    if (ms != INFINITE)
        amrt__deadline(&deadline, ms);
    HRESULT hr = AMRT_WAIT_TIMEOUT;
    for (;;) {
        for (int i = 0; i < n; i++)
            if (ISynchronize_Wait(m[i], 0, 0) == S_OK) {
                *out = m[i];
                ISynchronize_AddRef(m[i]);      /* the caller's reference (RULES.md C14) */
                hr = S_OK;
                goto done;
            }
        int left = ms == INFINITE ? -1 : amrt__ms_left(&deadline);
        if (left == 0)
            break;
        if (!all_pollable && (left < 0 || left > 1))
            left = 1;       /* members without a handle: look again every millisecond */
        if (poll(pfd, (nfds_t)npoll, left) < 0 && errno != EINTR)
            break;
    }
done:
    (void)idx;
    for (int i = 0; i < n; i++)
        ISynchronize_Release(m[i]);
    return hr;
}

static const ISynchronizeContainerVtbl ct_vtbl = { ct_qi, ct_addref, ct_release, ct_add, ct_wait };

HRESULT amrt__container_create(IUnknown *outer, const IID *iid, void **ppv)
{
    *ppv = NULL;
    if (outer && !IsEqualIID(iid, &IID_IUnknown))
        return CLASS_E_NOAGGREGATION;
    Container *c = amrt__calloc(sizeof *c);
    if (!c)
        return E_OUTOFMEMORY;
    c->inner.lpVtbl = (IUnknownVtbl *)&ct_inner_vtbl;
    c->cont.lpVtbl = (ISynchronizeContainerVtbl *)&ct_vtbl;
    c->outer = outer ? outer : &c->inner;
    atomic_init(&c->refs, 1);
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        amrt__free(c);
        return E_OUTOFMEMORY;
    }
    if (outer) {
        *ppv = &c->inner;
        return S_OK;
    }
    HRESULT hr = IUnknown_QueryInterface(&c->inner, iid, ppv);
    IUnknown_Release(&c->inner);
    return hr;
}

/* ==================================================================== CoWaitForMultipleHandles */

/* Take the signal of the event whose handle fd is, as a wait that it
 * satisfies does (RULES.md C20): an auto-reset event's is consumed. False
 * when it is not signaled (another waiter took it); E_HANDLE in *hr when
 * fd is no handle any more. */
static bool handle_take(int fd, HRESULT *hr)
{
    bool on = false;
    amrt__mutex_lock(&handles_lock);
    EventCore *ev = handle_event(fd);
    if (ev) {
        amrt__mutex_lock(&ev->slow->lock);
        unsigned w = atomic_load(&ev->word);
        on = w & AMRT_EV_SIGNALED;
        if (on && !(w & AMRT_EV_MANUAL)) {
            atomic_fetch_and(&ev->word, ~AMRT_EV_SIGNALED);
            efd_update(ev);
        }
        amrt__mutex_unlock(&ev->slow->lock);
    } else {
        *hr = HRESULT_FROM_WIN32(ERROR_INVALID_HANDLE);
    }
    amrt__mutex_unlock(&handles_lock);
    return on;
}

static int by_address(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)*(void *const *)a, y = (uintptr_t)*(void *const *)b;
    return x < y ? -1 : x > y;
}

/* COWAIT_WAITALL: take every signal at once, or none (C20). The events'
 * locks are taken in address order, each once. */
static bool handles_take_all(const struct pollfd *pfd, ULONG count, HRESULT *hr)
{
    EventCore *evs[64];
    size_t n = 0;
    bool all = true;
    amrt__mutex_lock(&handles_lock);
    for (ULONG i = 0; i < count; i++) {
        if (!(evs[n] = handle_event(pfd[i].fd))) {
            *hr = HRESULT_FROM_WIN32(ERROR_INVALID_HANDLE);
            amrt__mutex_unlock(&handles_lock);
            return false;
        }
        n++;
    }
    qsort(evs, n, sizeof *evs, by_address);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || evs[i] != evs[i - 1])
            evs[k++] = evs[i];
    for (size_t i = 0; i < k; i++)
        amrt__mutex_lock(&evs[i]->slow->lock);
    for (size_t i = 0; i < k && all; i++)
        all = atomic_load(&evs[i]->word) & AMRT_EV_SIGNALED;
    for (size_t i = 0; i < k; i++) {
        if (all && !(atomic_load(&evs[i]->word) & AMRT_EV_MANUAL)) {
            atomic_fetch_and(&evs[i]->word, ~AMRT_EV_SIGNALED);
            efd_update(evs[i]);
        }
        amrt__mutex_unlock(&evs[i]->slow->lock);
    }
    amrt__mutex_unlock(&handles_lock);
    return all;
}

/* RULES.md C17-C22. The handles are the descriptors of GetHandle: poll()
 * says which may be signaled, the event itself confirms it and gives up
 * its signal as a Windows wait would. */
HRESULT CoWaitForMultipleHandles(DWORD flags, DWORD timeout, ULONG count, HANDLE *handles_, LPDWORD index)
{
    if (index)
        *index = 0;                     /* C21 */
    if (!handles_ || !index)
        return E_INVALIDARG;
    if (flags & ~COWAIT_KNOWN)
        return E_INVALIDARG;
    if (count == 0)
        return RPC_E_NO_SYNC;
    if (count > 64)
        return E_INVALIDARG;
    if (timeout != 0)
        amrt__conn_hold_flush();        /* what it may wait for goes first */
    struct pollfd pfd[64];
    amrt__mutex_lock(&handles_lock);
    for (ULONG i = 0; i < count; i++) {
        pfd[i].fd = (int)(intptr_t)handles_[i];
        pfd[i].events = POLLIN;
        if (!handle_event(pfd[i].fd)) {
            amrt__mutex_unlock(&handles_lock);
            return HRESULT_FROM_WIN32(ERROR_INVALID_HANDLE);    /* not ours: fails at once (C22) */
        }
    }
    amrt__mutex_unlock(&handles_lock);
    struct timespec deadline;
    if (timeout != INFINITE)
        amrt__deadline(&deadline, timeout);
    for (;;) {
        int left = timeout == INFINITE ? -1 : amrt__ms_left(&deadline);
        int r = poll(pfd, count, left);
        if (r < 0 && errno != EINTR)
            return E_FAIL;
        HRESULT hr = S_OK;
        if (r > 0) {
            ULONG ready = 0;
            for (ULONG i = 0; i < count; i++)
                if (pfd[i].revents)
                    ready++;
            if (!(flags & COWAIT_WAITALL)) {
                for (ULONG i = 0; i < count && hr == S_OK; i++)
                    if (pfd[i].revents && handle_take(pfd[i].fd, &hr)) {
                        *index = i;
                        return S_OK;
                    }
            } else if (ready == count) {
                if (handles_take_all(pfd, count, &hr))
                    return S_OK;        /* *index stays 0 */
            } else {
                /* not all yet: wait a little before polling them again */
                struct timespec ts = { 0, 1000000 };
                nanosleep(&ts, NULL);
            }
            if (FAILED(hr))
                return hr;              /* a handle was closed under the wait */
        }
        if (left == 0)
            return RPC_S_CALLPENDING;   /* this function's timeout value (RULES.md C17) */
    }
}

/* ==================================================================== mutex */

/* RULES.md C16 (project choice): Wait acquires, recursively for the owning
 * thread; ReleaseMutex releases one level and fails with E_FAIL on a thread
 * that does not own it. Signal is ReleaseMutex (releasing a mutex is what
 * makes it signaled); Reset has no meaning for a mutex: E_NOTIMPL. */
typedef struct Mutex {
    IUnknown inner;
    ISynchronizeMutex sync;
    IUnknown *outer;
    atomic_long refs;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t owner;                /* valid while depth > 0; guarded by lock */
    unsigned long depth;
} Mutex;

#define MX_FROM(p, field) ((Mutex *)((char *)(p) - offsetof(Mutex, field)))

static HRESULT STDMETHODCALLTYPE mx_inner_qi(IUnknown *This, REFIID riid, void **ppv)
{
    Mutex *mx = MX_FROM(This, inner);
    if (!ppv)
        return E_POINTER;
    if (IsEqualIID(riid, &IID_IUnknown))
        *ppv = &mx->inner;
    else if (IsEqualIID(riid, &IID_ISynchronize) || IsEqualIID(riid, &IID_ISynchronizeMutex))
        *ppv = &mx->sync;
    else {
        *ppv = NULL;
        return E_NOINTERFACE;
    }
    IUnknown_AddRef((IUnknown *)*ppv);
    return S_OK;
}

static ULONG STDMETHODCALLTYPE mx_inner_addref(IUnknown *This)
{
    return (ULONG)atomic_fetch_add(&MX_FROM(This, inner)->refs, 1) + 1;
}

static ULONG STDMETHODCALLTYPE mx_inner_release(IUnknown *This)
{
    Mutex *mx = MX_FROM(This, inner);
    long left = atomic_fetch_sub(&mx->refs, 1) - 1;
    if (left == 0) {
        amrt__cond_destroy(&mx->cond);
        amrt__mutex_destroy(&mx->lock);
        amrt__free(mx);
    }
    return (ULONG)left;
}

static const IUnknownVtbl mx_inner_vtbl = { mx_inner_qi, mx_inner_addref, mx_inner_release };

AMRT_DELEGATING_IUNKNOWN(mx, ISynchronizeMutex, Mutex, sync)

static HRESULT STDMETHODCALLTYPE mx_wait(ISynchronizeMutex *This, DWORD flags, DWORD ms)
{
    Mutex *mx = MX_FROM(This, sync);
    pthread_t self = pthread_self();
    if (flags & ~COWAIT_KNOWN)
        return E_INVALIDARG;    /* RULES.md C3, C4/C19: as for the events */
    struct timespec deadline;
    if (ms != INFINITE && ms != 0)
        amrt__deadline(&deadline, ms);
    HRESULT hr = S_OK;
    amrt__mutex_lock(&mx->lock);
    while (mx->depth && !pthread_equal(mx->owner, self)) {
        if (ms == 0) {
            hr = AMRT_WAIT_TIMEOUT;
            break;
        }
        if (ms == INFINITE) {
            amrt__cond_wait(&mx->cond, &mx->lock);
        } else if (amrt__cond_timedwait(&mx->cond, &mx->lock, &deadline) == ETIMEDOUT &&
                   mx->depth && !pthread_equal(mx->owner, self)) {
            hr = AMRT_WAIT_TIMEOUT;
            break;
        }
    }
    if (hr == S_OK) {
        mx->owner = self;
        mx->depth++;
    }
    amrt__mutex_unlock(&mx->lock);
    return hr;
}

static HRESULT STDMETHODCALLTYPE mx_releasemutex(ISynchronizeMutex *This)
{
    Mutex *mx = MX_FROM(This, sync);
    HRESULT hr = S_OK;
    amrt__mutex_lock(&mx->lock);
    if (!mx->depth || !pthread_equal(mx->owner, pthread_self()))
        hr = E_FAIL;                /* not the owner */
    else if (--mx->depth == 0)
        amrt__cond_signal(&mx->cond);
    amrt__mutex_unlock(&mx->lock);
    return hr;
}

static HRESULT STDMETHODCALLTYPE mx_signal(ISynchronizeMutex *This)
{
    return mx_releasemutex(This);
}

static HRESULT STDMETHODCALLTYPE mx_reset(ISynchronizeMutex *This)
{
    (void)This;
    return E_NOTIMPL;
}

static const ISynchronizeMutexVtbl mx_vtbl = {
    mx_qi, mx_addref, mx_release, mx_wait, mx_signal, mx_reset, mx_releasemutex,
};

HRESULT amrt__mutex_create(IUnknown *outer, const IID *iid, void **ppv)
{
    *ppv = NULL;
    if (outer && !IsEqualIID(iid, &IID_IUnknown))
        return CLASS_E_NOAGGREGATION;
    Mutex *mx = amrt__calloc(sizeof *mx);
    if (!mx)
        return E_OUTOFMEMORY;
    mx->inner.lpVtbl = (IUnknownVtbl *)&mx_inner_vtbl;
    mx->sync.lpVtbl = (ISynchronizeMutexVtbl *)&mx_vtbl;
    mx->outer = outer ? outer : &mx->inner;
    atomic_init(&mx->refs, 1);
    if (!lock_init(&mx->lock, &mx->cond)) {
        amrt__free(mx);
        return E_OUTOFMEMORY;
    }
    if (outer) {
        *ppv = &mx->inner;
        return S_OK;
    }
    HRESULT hr = IUnknown_QueryInterface(&mx->inner, iid, ppv);
    IUnknown_Release(&mx->inner);
    return hr;
}

/* ==================================================================== the system classes */

/* The system classes by CLSID (CoCreateInstance); REGDB_E_CLASSNOTREG for
 * any other. */
HRESULT amrt__system_create(const CLSID *clsid, IUnknown *outer, const IID *iid, void **ppv)
{
    *ppv = NULL;
    if (IsEqualGUID(clsid, &CLSID_StdEvent) || IsEqualGUID(clsid, &CLSID_ManualResetEvent))
        return amrt__event_create(outer, IsEqualGUID(clsid, &CLSID_ManualResetEvent), iid, ppv);
    if (IsEqualGUID(clsid, &CLSID_SynchronizeContainer))
        return amrt__container_create(outer, iid, ppv);
    if (IsEqualGUID(clsid, &CLSID_AmrtSynchronizeMutex))
        return amrt__mutex_create(outer, iid, ppv);
    return REGDB_E_CLASSNOTREG;
}

/* Their class factories (RULES.md C23): one static object per class, whose
 * references are not counted. */
typedef struct SystemFactory {
    IClassFactory cf;
    const CLSID *clsid;
} SystemFactory;

static HRESULT STDMETHODCALLTYPE sf_qi(IClassFactory *This, REFIID riid, void **ppv)
{
    if (!ppv)
        return E_POINTER;
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IClassFactory)) {
        *ppv = This;
        return S_OK;
    }
    *ppv = NULL;
    return E_NOINTERFACE;
}

static ULONG STDMETHODCALLTYPE sf_addref(IClassFactory *This)
{
    (void)This;
    return 2;
}

static ULONG STDMETHODCALLTYPE sf_release(IClassFactory *This)
{
    (void)This;
    return 1;
}

static HRESULT STDMETHODCALLTYPE sf_create(IClassFactory *This, IUnknown *outer, REFIID riid, void **ppv)
{
    if (!ppv)
        return E_POINTER;
    *ppv = NULL;
    if (!riid)
        return E_INVALIDARG;
    return amrt__system_create(((SystemFactory *)This)->clsid, outer, riid, ppv);
}

static HRESULT STDMETHODCALLTYPE sf_lock(IClassFactory *This, BOOL lock)
{
    (void)This;
    (void)lock;
    return S_OK;                        /* the runtime is never unloaded under a program */
}

static const IClassFactoryVtbl sf_vtbl = { sf_qi, sf_addref, sf_release, sf_create, sf_lock };

static SystemFactory system_factories[] = {
    { { (IClassFactoryVtbl *)&sf_vtbl }, &CLSID_StdEvent },
    { { (IClassFactoryVtbl *)&sf_vtbl }, &CLSID_ManualResetEvent },
    { { (IClassFactoryVtbl *)&sf_vtbl }, &CLSID_SynchronizeContainer },
    { { (IClassFactoryVtbl *)&sf_vtbl }, &CLSID_AmrtSynchronizeMutex },
};

IUnknown *amrt__system_factory(const CLSID *clsid)
{
    for (size_t i = 0; i < sizeof system_factories / sizeof system_factories[0]; i++)
        if (IsEqualGUID(clsid, system_factories[i].clsid))
            return (IUnknown *)&system_factories[i].cf;
    return NULL;
}
