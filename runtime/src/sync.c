/*
 * sync.c - the system synchronization objects (RULES.md C):
 *   CLSID_StdEvent          auto-reset event: a Wait that sees the signal consumes it
 *   CLSID_ManualResetEvent  stays signaled until Reset
 *   CLSID_SynchronizeContainer  waits for any of up to 63 ISynchronize objects
 *   CLSID_AmrtSynchronizeMutex  ISynchronizeMutex (RULES.md C16; Windows has no
 *                           public class for it, so this one is the runtime's own)
 * Events expose ISynchronize, ISynchronizeHandle and ISynchronizeEvent and are
 * aggregatable (the call objects aggregate them). Both start non-signaled.
 *
 * DESIGN. An event is an atomic 'signaled' flag, plus a mutex and a
 * condition variable on CLOCK_MONOTONIC for the threads that really sleep.
 * Signal and Reset store the flag and take the lock only when there is
 * work for it (a sleeper to wake, an eventfd to mirror); a Wait first spins
 * on the flag (amrt__spin_until), so a call that completes within
 * microseconds never enters the kernel. Its HANDLE (GetHandle) is an
 * eventfd created on first request and kept readable exactly while the
 * event is signaled: after each change of the flag, efd_update (under the
 * lock) writes 1 or reads it back to 0. Invariant: once no change is in
 * flight, efd_set == signaled whenever efd >= 0.
 * SetEventHandle names another eventfd that each Signal also makes readable.
 * Timeouts return AMRT_WAIT_TIMEOUT (RPC_E_TIMEOUT, the contract's value).
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

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

bool amrt__spin_until(bool (*ready)(void *), void *arg)
{
    long budget = spin_budget();
    if (!budget)
        return ready(arg);
    if (ready(arg))
        return true;
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        for (int i = 0; i < 64; i++) {
            if (ready(arg))
                return true;
            cpu_relax();
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        long ns = (now.tv_sec - start.tv_sec) * 1000000000L + (now.tv_nsec - start.tv_nsec);
        if (ns > budget)
            return ready(arg);
        if (ns > 1000)
            sched_yield();      /* after 1 us: the other side may be waiting for this CPU */
    }
}

/* the COWAIT_FLAGS there are (RULES.md C18); other bits give E_INVALIDARG (C3) */
#define COWAIT_KNOWN ((DWORD)(COWAIT_WAITALL | COWAIT_ALERTABLE | COWAIT_INPUTAVAILABLE | COWAIT_DISPATCH_CALLS | \
                              COWAIT_DISPATCH_WINDOW_MESSAGES))

/* a mutex and a condition variable timed on CLOCK_MONOTONIC (the events' and the mutex object's) */
static bool lock_init(pthread_mutex_t *lock, pthread_cond_t *cond)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    bool ok = pthread_mutex_init(lock, NULL) == 0;
    if (ok && pthread_cond_init(cond, &ca) != 0) {
        pthread_mutex_destroy(lock);
        ok = false;
    }
    pthread_condattr_destroy(&ca);
    return ok;
}

/* ==================================================================== events */

typedef struct Event {
    IUnknown inner;                 /* the non-delegating IUnknown */
    ISynchronize sync;
    ISynchronizeEvent event;        /* also ISynchronizeHandle (its base) */
    IUnknown *outer;                /* controlling unknown: &inner when not aggregated */
    atomic_long refs;
    bool manual;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    atomic_bool signaled;
    atomic_int waiters;             /* threads in pthread_cond_wait (changed under lock) */
    atomic_int efd;                 /* eventfd mirror, -1 until GetHandle (set once, under lock) */
    bool efd_set;                   /* the eventfd's counter is 1 (guarded by lock) */
    atomic_int ext_fd;              /* SetEventHandle, -1 if none */
} Event;

#define EV_FROM(p, field) ((Event *)((char *)(p) - offsetof(Event, field)))

/* Make the eventfd mirror the current state (called with ev->lock held
 * after every change of 'signaled' once the eventfd exists). */
static void efd_update(Event *ev)
{
    int fd = atomic_load(&ev->efd);
    bool on = atomic_load(&ev->signaled);
    if (fd < 0 || ev->efd_set == on)
        return;
    uint64_t v = 1;
    if (on) {
        if (write(fd, &v, sizeof v) == (ssize_t)sizeof v)
            ev->efd_set = true;
    } else {
        if (read(fd, &v, sizeof v) == (ssize_t)sizeof v || errno == EAGAIN)
            ev->efd_set = false;
    }
}

/* ---- non-delegating IUnknown ---- */

static HRESULT STDMETHODCALLTYPE inner_qi(IUnknown *This, REFIID riid, void **ppv)
{
    Event *ev = EV_FROM(This, inner);
    if (!ppv)
        return E_POINTER;
    if (IsEqualIID(riid, &IID_IUnknown))
        *ppv = &ev->inner;
    else if (IsEqualIID(riid, &IID_ISynchronize))
        *ppv = &ev->sync;
    else if (IsEqualIID(riid, &IID_ISynchronizeHandle) || IsEqualIID(riid, &IID_ISynchronizeEvent))
        *ppv = &ev->event;
    else {
        *ppv = NULL;
        return E_NOINTERFACE;
    }
    IUnknown_AddRef((IUnknown *)*ppv);
    return S_OK;
}

static ULONG STDMETHODCALLTYPE inner_addref(IUnknown *This)
{
    Event *ev = EV_FROM(This, inner);
    return (ULONG)atomic_fetch_add(&ev->refs, 1) + 1;
}

static ULONG STDMETHODCALLTYPE inner_release(IUnknown *This)
{
    Event *ev = EV_FROM(This, inner);
    long left = atomic_fetch_sub(&ev->refs, 1) - 1;
    if (left == 0) {
        if (atomic_load(&ev->efd) >= 0)
            close(atomic_load(&ev->efd));
        pthread_cond_destroy(&ev->cond);
        pthread_mutex_destroy(&ev->lock);
        amrt__free(ev);
    }
    return (ULONG)left;
}

static const IUnknownVtbl inner_vtbl = { inner_qi, inner_addref, inner_release };

/* ---- ISynchronize (delegating to the controlling unknown) ---- */

AMRT_DELEGATING_IUNKNOWN(sync, ISynchronize, Event, sync)

static bool event_hint(void *arg)
{
    return atomic_load_explicit(&((Event *)arg)->signaled, memory_order_acquire);
}

/* Take the signal: a manual-reset event stays signaled, an auto-reset one
 * is consumed by exactly one waiter. */
static bool event_take(Event *ev)
{
    if (ev->manual)
        return atomic_load(&ev->signaled);
    bool expect = true;
    return atomic_compare_exchange_strong(&ev->signaled, &expect, false);
}

/* After 'signaled' changed: the work that needs the lock, only when there
 * is some (a sleeping waiter, an eventfd to mirror, SetEventHandle's fd).
 * Stores and loads are sequentially consistent on both sides (waiters++
 * then re-check in Wait; efd store then 'signaled' load in GetHandle), so
 * either this side sees the other or the other sees the change. */
static void event_changed(Event *ev, bool signal)
{
    int ext = signal ? atomic_load(&ev->ext_fd) : -1;
    if (!atomic_load(&ev->waiters) && atomic_load(&ev->efd) < 0 && ext < 0)
        return;
    pthread_mutex_lock(&ev->lock);
    efd_update(ev);
    if (ext >= 0) {
        uint64_t v = 1;
        ssize_t w = write(ext, &v, sizeof v);
        (void)w;
    }
    if (signal && atomic_load(&ev->waiters)) {
        if (ev->manual)
            pthread_cond_broadcast(&ev->cond);
        else
            pthread_cond_signal(&ev->cond);
    }
    pthread_mutex_unlock(&ev->lock);
}

static HRESULT STDMETHODCALLTYPE sync_wait(ISynchronize *This, DWORD flags, DWORD ms)
{
    Event *ev = EV_FROM(This, sync);
    if (flags & ~COWAIT_KNOWN)
        return E_INVALIDARG;    /* RULES.md C3 */
    /* C4/C19: MTA semantics, the known COWAIT flags change nothing */
    if (ms != 0)
        amrt__spin_until(event_hint, ev);   /* before sleeping: the signal is often microseconds away */
    if (event_take(ev)) {
        if (!ev->manual)
            event_changed(ev, false);       /* consumed: the eventfd mirror follows */
        return S_OK;
    }
    if (ms == 0)
        return AMRT_WAIT_TIMEOUT;
    struct timespec deadline;
    if (ms != INFINITE)
        amrt__deadline(&deadline, ms);
    HRESULT hr = AMRT_WAIT_TIMEOUT;
    pthread_mutex_lock(&ev->lock);
    for (;;) {
        atomic_fetch_add(&ev->waiters, 1);
        if (event_take(ev)) {               /* re-checked after announcing ourselves */
            atomic_fetch_sub(&ev->waiters, 1);
            hr = S_OK;
            break;
        }
        int rc = ms == INFINITE ? pthread_cond_wait(&ev->cond, &ev->lock)
                                : pthread_cond_timedwait(&ev->cond, &ev->lock, &deadline);
        atomic_fetch_sub(&ev->waiters, 1);
        if (event_take(ev)) {
            hr = S_OK;
            break;
        }
        if (rc == ETIMEDOUT)
            break;
    }
    if (hr == S_OK && !ev->manual)
        efd_update(ev);
    pthread_mutex_unlock(&ev->lock);
    return hr;
}

static HRESULT STDMETHODCALLTYPE sync_signal(ISynchronize *This)
{
    Event *ev = EV_FROM(This, sync);
    atomic_store(&ev->signaled, true);
    event_changed(ev, true);
    return S_OK;
}

static HRESULT STDMETHODCALLTYPE sync_reset(ISynchronize *This)
{
    Event *ev = EV_FROM(This, sync);
    atomic_store(&ev->signaled, false);
    event_changed(ev, false);
    return S_OK;
}

static const ISynchronizeVtbl sync_vtbl = {
    sync_qi, sync_addref, sync_release, sync_wait, sync_signal, sync_reset,
};

/* ---- ISynchronizeHandle / ISynchronizeEvent ---- */

AMRT_DELEGATING_IUNKNOWN(ev, ISynchronizeEvent, Event, event)

static HRESULT STDMETHODCALLTYPE ev_gethandle(ISynchronizeEvent *This, HANDLE *ph)
{
    Event *ev = EV_FROM(This, event);
    if (!ph)
        return E_INVALIDARG;
    pthread_mutex_lock(&ev->lock);
    if (atomic_load(&ev->efd) < 0) {
        int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (fd < 0) {
            pthread_mutex_unlock(&ev->lock);
            *ph = NULL;
            return errno == ENOMEM ? E_OUTOFMEMORY : E_FAIL;
        }
        ev->efd_set = false;
        atomic_store(&ev->efd, fd);     /* then read 'signaled' (efd_update): see event_changed */
        efd_update(ev);
    }
    /* the HANDLE's value is the file descriptor (RULES.md C10); owned by the object */
    *ph = (HANDLE)(intptr_t)atomic_load(&ev->efd);
    pthread_mutex_unlock(&ev->lock);
    return S_OK;
}

static HRESULT STDMETHODCALLTYPE ev_seteventhandle(ISynchronizeEvent *This, HANDLE *ph)
{
    Event *ev = EV_FROM(This, event);
    if (!ph)
        return E_INVALIDARG;
    int fd = (int)(intptr_t)*ph;
    if (fd < 0)
        return E_INVALIDARG;
    atomic_store(&ev->ext_fd, fd);
    return S_OK;
}

static const ISynchronizeEventVtbl event_vtbl = {
    ev_qi, ev_addref, ev_release, ev_gethandle, ev_seteventhandle,
};

HRESULT amrt__event_create(IUnknown *outer, bool manual, const IID *iid, void **ppv)
{
    *ppv = NULL;
    if (outer && !IsEqualIID(iid, &IID_IUnknown))
        return CLASS_E_NOAGGREGATION;   /* RULES.md C9 */
    Event *ev = amrt__calloc(sizeof *ev);
    if (!ev)
        return E_OUTOFMEMORY;
    ev->inner.lpVtbl = (IUnknownVtbl *)&inner_vtbl;
    ev->sync.lpVtbl = (ISynchronizeVtbl *)&sync_vtbl;
    ev->event.lpVtbl = (ISynchronizeEventVtbl *)&event_vtbl;
    ev->outer = outer ? outer : &ev->inner;
    ev->manual = manual;
    atomic_init(&ev->efd, -1);
    atomic_init(&ev->ext_fd, -1);
    atomic_init(&ev->signaled, false);
    atomic_init(&ev->waiters, 0);
    atomic_init(&ev->refs, 1);
    if (!lock_init(&ev->lock, &ev->cond)) {
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
        pthread_mutex_destroy(&c->lock);
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
    pthread_mutex_lock(&c->lock);
    if (c->count == CONTAINER_MAX) {
        pthread_mutex_unlock(&c->lock);
        return RPC_E_OUT_OF_RESOURCES;
    }
    ISynchronize_AddRef(sync);
    c->members[c->count++] = sync;
    pthread_mutex_unlock(&c->lock);
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
    pthread_mutex_lock(&c->lock);
    int n = c->count;
    for (int i = 0; i < n; i++) {
        m[i] = c->members[i];
        ISynchronize_AddRef(m[i]);
    }
    pthread_mutex_unlock(&c->lock);
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

HRESULT CoWaitForMultipleHandles(DWORD flags, DWORD timeout, ULONG count, HANDLE *handles, LPDWORD index)
{
    if (!handles || !index)
        return E_INVALIDARG;
    if (flags & ~COWAIT_KNOWN)
        return E_INVALIDARG;
    if (count == 0)
        return RPC_E_NO_SYNC;
    if (count > 64)
        return E_INVALIDARG;
    struct pollfd pfd[64];
    for (ULONG i = 0; i < count; i++) {
        pfd[i].fd = (int)(intptr_t)handles[i];
        pfd[i].events = POLLIN;
    }
    struct timespec deadline;
    if (timeout != INFINITE)
        amrt__deadline(&deadline, timeout);
    for (;;) {
        int left = timeout == INFINITE ? -1 : amrt__ms_left(&deadline);
        int r = poll(pfd, count, left);
        if (r < 0 && errno != EINTR)
            return E_FAIL;
        if (r > 0) {
            ULONG ready = 0, first = count;
            for (ULONG i = 0; i < count; i++)
                if (pfd[i].revents & (POLLIN | POLLERR | POLLHUP)) {
                    ready++;
                    if (first == count)
                        first = i;
                }
            if (!(flags & COWAIT_WAITALL) && first < count) {
                *index = first;
                return S_OK;
            }
            if ((flags & COWAIT_WAITALL) && ready == count) {
                *index = 0;
                return S_OK;
            }
            if (flags & COWAIT_WAITALL) {
                /* not all yet: wait a little before polling them again */
                struct timespec ts = { 0, 1000000 };
                nanosleep(&ts, NULL);
            }
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
        pthread_cond_destroy(&mx->cond);
        pthread_mutex_destroy(&mx->lock);
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
    pthread_mutex_lock(&mx->lock);
    while (mx->depth && !pthread_equal(mx->owner, self)) {
        if (ms == 0) {
            hr = AMRT_WAIT_TIMEOUT;
            break;
        }
        if (ms == INFINITE) {
            pthread_cond_wait(&mx->cond, &mx->lock);
        } else if (pthread_cond_timedwait(&mx->cond, &mx->lock, &deadline) == ETIMEDOUT &&
                   mx->depth && !pthread_equal(mx->owner, self)) {
            hr = AMRT_WAIT_TIMEOUT;
            break;
        }
    }
    if (hr == S_OK) {
        mx->owner = self;
        mx->depth++;
    }
    pthread_mutex_unlock(&mx->lock);
    return hr;
}

static HRESULT STDMETHODCALLTYPE mx_releasemutex(ISynchronizeMutex *This)
{
    Mutex *mx = MX_FROM(This, sync);
    HRESULT hr = S_OK;
    pthread_mutex_lock(&mx->lock);
    if (!mx->depth || !pthread_equal(mx->owner, pthread_self()))
        hr = E_FAIL;                /* not the owner */
    else if (--mx->depth == 0)
        pthread_cond_signal(&mx->cond);
    pthread_mutex_unlock(&mx->lock);
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
