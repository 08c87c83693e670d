/*
 * internal.h - what the files of libamidlrt share. Internal names start
 * with amrt__; only the functions of amidlrt.h are exported (the library
 * is built with -fvisibility=hidden).
 */
#ifndef AMRT_INTERNAL_H
#define AMRT_INTERNAL_H

#define COBJMACROS
#include "amidlrt.h"
#include "amidlrt_test.h"

#include "thread.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>

/* the runtime is C: REFIID is a pointer */
#define AMRT_REF(x) (x)
#define AMRT_IID(x) (x)

/* the one allocator (failure injection: AmrtFailAllocationAfter) */
void *amrt__alloc(size_t n);
void *amrt__calloc(size_t n);
void *amrt__calloc_aligned(size_t n);  /* zeroed, on a 64-byte (cache line) boundary */
void amrt__free(void *p);

/* CoInitializeEx's count (alloc.c; core.c changes it): COM is initialized while it is > 0 */
extern atomic_long amrt__init_count;
bool amrt__initialized(void);
void amrt__shutdown(void);
void amrt__revoke_all(void);

/* The IUnknown methods of an interface that 'field' of a Type implements:
 * they delegate to the object's controlling unknown, Type's 'outer'
 * (COM aggregation). Writes PREFIX_qi, PREFIX_addref, PREFIX_release. */
#define AMRT_DELEGATING_IUNKNOWN(prefix, Iface, Type, field)                                      \
    static HRESULT STDMETHODCALLTYPE prefix##_qi(Iface *This, REFIID riid, void **ppv)           \
    {                                                                                            \
        Type *o_ = (Type *)((char *)This - offsetof(Type, field));                               \
        return IUnknown_QueryInterface(o_->outer, riid, ppv);                                    \
    }                                                                                            \
    static ULONG STDMETHODCALLTYPE prefix##_addref(Iface *This)                                  \
    {                                                                                            \
        return IUnknown_AddRef(((Type *)((char *)This - offsetof(Type, field)))->outer);         \
    }                                                                                            \
    static ULONG STDMETHODCALLTYPE prefix##_release(Iface *This)                                 \
    {                                                                                            \
        return IUnknown_Release(((Type *)((char *)This - offsetof(Type, field)))->outer);        \
    }

/* pool.c: the worker pool. A job is embedded in what it works on (a call
 * object's frame): queuing one allocates nothing. */
typedef struct Job {
    void (*fn)(struct Job *job);    /* runs on a worker; may free the job */
    struct Job *next;               /* the pool's overflow list */
} Job;
HRESULT amrt__pool_submit(void (*fn)(void *), void *arg);
HRESULT amrt__pool_submit_job(Job *job);
void amrt__pool_shutdown(void);
int amrt__pool_size(void);
int amrt__pool_threads(void);
/* on a worker: does the pool need this thread back (a job waits, or a
 * shutdown began)? */
bool amrt__pool_wanted(void);
/* on a worker: the job just run spent the spin budget watching
 * amrt__pool_wanted, so the worker may sleep at once when it finds nothing */
void amrt__pool_spun(void);
/* a worker about to block (a call to another process): the pool keeps its
 * size of free workers; amrt__pool_block_end(what _begin returned) after */
bool amrt__pool_block_begin(void);
void amrt__pool_block_end(bool began);

/* callobj.c (creation), proxy.c (the glue registry) */
HRESULT amrt__call_create(const AmrtInterface *glue, IUnknown *server, ICallFactory *own,
                          IUnknown *outer, const IID *riid2, void **ppv);
const AmrtInterface *amrt__glue_by_iid(const IID *iid, bool async);

/* sync.c: the event every ISynchronize of the runtime is made of.
 *
 * One atomic word holds the state: a Signal, a Reset or a Wait that is
 * satisfied at once is one atomic operation on it, and nothing else is
 * touched. AMRT_EV_SLOW says that the lock is needed (a thread sleeps on
 * the condition variable, or an eventfd mirrors the state); it is set and
 * cleared under the lock. The bits from AMRT_EV_OWNER up belong to the
 * object that embeds the event (a call object keeps its own state there,
 * so that completing a call is a single atomic operation); the event's
 * functions keep them as they are. The rest (EventSlow) is touched
 * only on the slow path and may live elsewhere. */
enum {
    AMRT_EV_SIGNALED = 1u,
    AMRT_EV_SLOW = 2u,
    AMRT_EV_MANUAL = 4u,                /* a manual-reset event (constant) */
    AMRT_EV_OWNER = 0x100u,
};

typedef struct EventSlow {
    pthread_mutex_t lock;
    pthread_cond_t cond;                /* on CLOCK_MONOTONIC */
    int waiters;                        /* threads asleep on cond (under lock) */
    int efd;                            /* GetHandle's eventfd, -1 until asked (under lock) */
    bool efd_set;                       /* its counter is 1 (under lock) */
    int ext_fd;                         /* SetEventHandle's descriptor, -1 if none (under lock) */
} EventSlow;

typedef struct EventCore {
    atomic_uint word;
    EventSlow *slow;
} EventCore;

bool amrt__ev_init(EventCore *ev, EventSlow *slow, bool manual);
void amrt__ev_fini(EventCore *ev);
void amrt__ev_signal(EventCore *ev);
void amrt__ev_reset(EventCore *ev);
HRESULT amrt__ev_wait(EventCore *ev, DWORD flags, DWORD ms);
HRESULT amrt__ev_get_handle(EventCore *ev, HANDLE *ph);
HRESULT amrt__ev_set_handle(EventCore *ev, HANDLE *ph);

/* ISynchronize, ISynchronizeHandle and ISynchronizeEvent on an event core,
 * their IUnknown methods delegating to 'outer': the faces of an event
 * object and of a call object. */
typedef struct SyncFaces {
    ISynchronize sync;                  /* first */
    ISynchronizeEvent event;
    IUnknown *outer;
    EventCore *core;
} SyncFaces;
void amrt__sync_faces_init(SyncFaces *f, IUnknown *outer, EventCore *core);
/* the face answering riid (not AddRef'd), NULL if none */
void *amrt__sync_faces_find(SyncFaces *f, REFIID riid);

/* sync.c: the system synchronization objects */
HRESULT amrt__event_create(IUnknown *outer, bool manual, const IID *iid, void **ppv);
HRESULT amrt__container_create(IUnknown *outer, const IID *iid, void **ppv);
HRESULT amrt__mutex_create(IUnknown *outer, const IID *iid, void **ppv);
/* a system class's object (REGDB_E_CLASSNOTREG: clsid is none), and its
 * class factory (not counted; NULL: none) */
HRESULT amrt__system_create(const CLSID *clsid, IUnknown *outer, const IID *iid, void **ppv);
IUnknown *amrt__system_factory(const CLSID *clsid);

/* the COWAIT_FLAGS there are (RULES.md C18); other bits give E_INVALIDARG (C3) */
#define COWAIT_KNOWN ((DWORD)(COWAIT_WAITALL | COWAIT_ALERTABLE | COWAIT_INPUTAVAILABLE | COWAIT_DISPATCH_CALLS | \
                              COWAIT_DISPATCH_WINDOW_MESSAGES))

/* an absolute CLOCK_MONOTONIC deadline dwMilliseconds from now */
struct timespec;
void amrt__deadline(struct timespec *ts, DWORD ms);
/* milliseconds left until the deadline (0 when past) */
int amrt__ms_left(const struct timespec *deadline);

/* Spin for up to AMRT_SPIN_US microseconds (default 50; 0 turns spinning
 * off) until ready(arg) is true: a thread that is about to sleep first
 * watches for the other side, because on a virtual machine a sleep and its
 * wake-up cost tens of microseconds. It yields the CPU after 1 us, 2 us,
 * 4 us, ..., in case the other side waits for this very CPU. */
bool amrt__spin_until(bool (*ready)(void *), void *arg);
/* conn.c: the call objects' requests held back for one write (a client's
 * pipelined calls), sent now: before a thread waits */
void amrt__conn_hold_flush(void);
bool amrt__spin_pointless(void);       /* this process may run on one CPU only: waiters do not spin (sync.c) */

static inline void amrt__cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* remoting (conn.c, remote.c, activate.c: RULES.md J): what the rest of
 * the runtime calls */
bool amrt__is_remote(IUnknown *obj);
/* the object behind a proxy of proxy.c (not AddRef'd); obj itself when it is none */
IUnknown *amrt__proxy_object(IUnknown *obj);
HRESULT amrt__remote_qi(IUnknown *obj, const IID *iid);
HRESULT amrt__remote_invoke(IUnknown *obj, const AmrtInterface *glue, int method, void **args, void *ret);
/* A call object's calls to a remote object (obj: amrt__is_remote) with no
 * worker: Begin_ sends the request, the I/O thread decodes the reply into
 * args/ret and runs done(arg), which completes the call. One per call
 * object, reused from call to call (nothing allocated per call). */
typedef struct AmrtAsyncCall AmrtAsyncCall;
AmrtAsyncCall *amrt__remote_async_new(IUnknown *obj, void (*done)(void *), void *arg);
void amrt__remote_async_free(AmrtAsyncCall *a);
/* S_OK: sent, done() runs once (the reply, or the connection's end);
 * a failure: nothing sent, the failure in *ret, done() does not run */
HRESULT amrt__remote_async_begin(AmrtAsyncCall *a, unsigned gen, const AmrtInterface *glue, int method, void **args,
                                 void *ret);
/* the call a has in flight for the call object's call gen (its seq) is
 * canceled: the server's CoTestCancel says so (J7), also when the cancel
 * comes between Begin_'s start and the request's registration */
void amrt__remote_async_cancel(AmrtAsyncCall *a, unsigned gen);
HRESULT amrt__publish(const CLSID *clsid, DWORD cookie, DWORD flags);
void amrt__unpublish(DWORD cookie);
HRESULT amrt__activate(const CLSID *clsid, const IID *iid, bool factory, void **ppv);
void amrt__remote_shutdown(void);
IUnknown *amrt__class_factory(const CLSID *clsid, DWORD ctx, DWORD *flags);
bool amrt__incall_canceled(void);
HRESULT amrt__incall_context(const IID *iid, void **ppv);
bool amrt__in_incall(void);
/* hr ends a call on server (a proxy of another process's object) because
 * the connection failed (RULES.md J10): nothing to deliver */
bool amrt__remote_failed(IUnknown *server, HRESULT hr);

#endif
