/*
 * call.h - what the files of the call objects share: the frame (frame.c),
 * the call object and its state machine (callobj.c), cancellation
 * (cancel.c) and IAsyncManager (asyncmgr.c). See callobj.c's DESIGN.
 */
#ifndef AMRT_CALL_H
#define AMRT_CALL_H

#include "interp.h"

#include <sched.h>
#include <stdalign.h>

enum { IDLE, BEGINNING, RUNNING, FINISHING };      /* Call.state */

/* Frame.fl: the progress of a call on the counted protocol (F_FORCED for all) */
enum {
    F_RETURNED = 1u,            /* the worker's job returned (the method, or the server's Begin_) */
    F_CANCELED = 2u,            /* ICancelMethodCalls::Cancel, or IAsyncManager::CompleteCall */
    F_FORCED = 4u,              /* IAsyncManager::CompleteCall: Finish_ returns 'forced' */
    F_DETACHED = 8u,            /* Finish_ returned first: the worker frees the frame */
    F_BEGIN_FAILED = 16u,       /* server-side async: the server's Begin_ failed (its result in ret) */
};

/* the call's bits in its event word: the progress of a fast call */
enum {
    C_BUSY = AMRT_EV_OWNER,             /* a fast call is with the worker: queued or running */
    C_CANCELED = AMRT_EV_OWNER << 1,    /* ... and was canceled (Cancel, CompleteCall) */
    C_SIGNALING = AMRT_EV_OWNER << 2,   /* its worker returned and signals under the event's lock */
    C_PARKED = AMRT_EV_OWNER << 3,      /* a worker lingers on the call for its next Begin_ */
    C_DIRECT = AMRT_EV_OWNER << 4,      /* a Begin_ handed that worker the call; only it clears this */
    C_DETACHED = AMRT_EV_OWNER << 5,    /* the own frame is with a detached worker */
    C_ORPHAN = AMRT_EV_OWNER << 6,      /* released while a worker held it: the worker frees it */
    C_REAP = AMRT_EV_OWNER << 7,        /* ... unless only lingering: then it lets go, the releaser frees */
};

enum {
    HOT_BYTES = 48,             /* the rest of the call's first line: a small call's values */
    INLINE_BYTES = 256,         /* the call's storage for argument pointers and values */
    FLAT_MAX = 8,               /* the most arguments a flat method has (Frame.flat) */
};

typedef struct Frame {
    /* read by the worker; written when the method changes */
    Job job;                /* the pool's job: first */
    const AmrtMethod *m;        /* the method, and the layout below */
    void **args;                /* args[i] -> the value of argument i */
    unsigned char *vals;        /* the return value (8 or 16 bytes), then the argument values */
    struct Call *call;
    atomic_uint fl;             /* F_*: written on the counted protocol (and by CompleteCall) */
    bool fast;                  /* this call uses the fast protocol */
    bool heap;                  /* the frame was allocated (else: the call's own) */
    /* the client's */
    HRESULT forced;             /* IAsyncManager::CompleteCall's result */
    const AmrtInterface *glue;
    size_t vals_size;           /* bytes of vals in use */
    size_t outs_at;             /* where in vals the small [out] pointees begin */
    uint64_t inline_out;        /* bit i: [out] parameter i's pointee lives in vals */
    bool needs_clear;           /* some argument may own memory */
    bool aliased;               /* the copies of the [in] values share a pointee: free them with an aliased freer */
    uint8_t nflat;              /* > 0: the method is flat, its plan in flat[] (FLAT_MAX at most) */
    struct FlatArg {            /* a flat argument: a plain [in] value, or a small plain [out] pointee */
        uint16_t off;           /* its value in vals */
        uint16_t out;           /* [out]: where its pointee lives in vals (0: an [in] value) */
        uint16_t size;          /* bytes of the value ([in]) or of the pointee ([out]) */
    } flat[8];
    unsigned char *block;       /* an allocated block for args and vals, or NULL */
    size_t cap;                 /* its size */
    AmrtAsyncCall *rcall;       /* a heap frame's request and reply, on an object in another process
                                 * (made at its first call there; the own frame's is Call.rcall) */
} Frame;

typedef struct Call {
    /* the first line: changed by both sides for every call */
    alignas(64) EventCore ev;       /* the call's ISynchronize, and the C_* bits */
    unsigned char hot[HOT_BYTES];       /* the own frame's values, when they fit */
    /* the own frame's header: read by the worker */
    alignas(64) Frame own;              /* the frame of the fast calls */
    /* set when the call object is made */
    IUnknown *server;                   /* the object's IFoo (AddRef'd) */
    IUnknown inner;                     /* non-delegating IUnknown */
    struct { const void *lpVtbl; } async;   /* AsyncIFoo (the glue's vtable) */
    ICancelMethodCalls cancel;
    IAsyncManager manager;              /* RULES.md E8: a convenience of this runtime */
    SyncFaces faces;                /* ISynchronize, ISynchronizeHandle, ISynchronizeEvent */
    IUnknown *outer;                    /* controlling unknown (&inner when not aggregated) */
    const AmrtInterface *glue;
    IUnknown *server_inner;             /* server-side async: the server's call object, aggregated in us */
    void *server_async;                 /* ... its AsyncIFoo (not counted: a cached inner pointer) */
    bool fast;                          /* not aggregated, client-side async: the fast protocol */
    bool remote;                        /* the object is in another process ('server': a proxy) */
    AmrtAsyncCall *rcall;               /* on an object in another process: the calls go without a
                                         * worker (the I/O thread completes them); the own frame's */
    EventSlow evslow;
    /* the client side's */
    alignas(64) atomic_int lock;        /* call_lock: held for a few instructions, never over user code */
    atomic_int state;
    atomic_uint seq;                    /* calls begun: tells one call from the next */
    _Atomic(Frame *) frame;             /* the call in progress (RUNNING) */
    _Atomic(const AmrtMethod *) method; /* ... and its method (B20: Finish_ checks it without the lock) */
    Frame *spare;                       /* an allocated frame kept for the next call */
    atomic_long refs;
    alignas(64) unsigned char storage[INLINE_BYTES];
} Call;

#define CALL_FROM(p, field) ((Call *)((char *)(p) - offsetof(Call, field)))

/* The request of the call on frame f, when it went to another process
 * without a worker (NULL: a worker runs it, or it is in-process). */
static inline AmrtAsyncCall *amrt__frame_rcall(const Call *c, const Frame *f)
{
    return f == &c->own ? c->rcall : f->rcall;
}

_Static_assert(offsetof(Frame, heap) < 64, "what the worker reads of a frame fits in one cache line");
_Static_assert(offsetof(Call, hot) + HOT_BYTES == 64, "the hot values share the event word's line");

/* ---- frame.c ---- */

static inline unsigned char *amrt__frame_ret(const Frame *f)
{
    return f->vals;
}

/* Free what the frame's arguments own (the frame itself stays). */
void amrt__frame_clear(Frame *f);
void amrt__frame_destroy(Frame *f);
/* A frame that is done with, its arguments freed (in BEGINNING, or
 * c->lock held). */
void amrt__frame_put(Call *c, Frame *f);
/* Fill a frame for a call of m with the arguments at 'in' (in BEGINNING). */
HRESULT amrt__frame_new(Call *c, const AmrtInterface *glue, const AmrtMethod *m, void **in, Frame **out);
/* Move the [out] values of the frame to the caller's pointers. */
void amrt__frame_deliver(Frame *f, void **caller);

/* ---- callobj.c ---- */

/* call->lock: a spinlock, as it guards a few instructions at a time and no
 * call into a program's code; its release is a plain store (a mutex's
 * costs a second atomic instruction on every Finish_). A holder that lost
 * its CPU gets it back through the yields. */
static inline void amrt__call_lock(Call *c)
{
    for (int spins = 0;; spins++) {
        int free_ = 0;
        if (atomic_compare_exchange_weak_explicit(&c->lock, &free_, 1, memory_order_acquire, memory_order_relaxed))
            return;
        while (atomic_load_explicit(&c->lock, memory_order_relaxed))
            if (++spins < 100)
                amrt__cpu_relax();
            else
                sched_yield();
    }
}

static inline void amrt__call_unlock(Call *c)
{
    atomic_store_explicit(&c->lock, 0, memory_order_release);
}

extern __thread Frame *amrt__current_frame;     /* the call a worker thread is running */

enum { OP_RESET, OP_SIGNAL, OP_WAIT, OP_POLL };
/* Reset, Signal, Wait or poll on the ISynchronize of the controlling
 * unknown (B14); whether the wait or the poll found it signaled. */
bool amrt__sync_op(Call *c, int op);

/* The progress of the call on frame f, in F_* terms, whichever its protocol. */
static inline unsigned amrt__call_flags(Call *c, Frame *f)
{
    unsigned fl = atomic_load_explicit(&f->fl, memory_order_acquire);
    if (!f->fast)
        return fl;
    unsigned w = atomic_load_explicit(&c->ev.word, memory_order_acquire);
    fl &= F_FORCED;
    if (!(w & C_BUSY))
        fl |= F_RETURNED;
    if (w & C_CANCELED)
        fl |= F_CANCELED;
    return fl;
}

/* Has the call completed (not canceled)? A server-side async call
 * completes when the server signals, which the flags do not tell. */
static inline bool amrt__call_complete(const Call *c, unsigned fl)
{
    return (fl & (F_FORCED | F_BEGIN_FAILED)) || (!c->server_async && (fl & F_RETURNED) && !(fl & F_CANCELED));
}

/* ---- cancel.c ---- */

/* Mark the call on frame f canceled (c->lock held): S_OK, or
 * RPC_E_CALL_CANCELED (it was), or RPC_E_CALL_COMPLETE (it completed). */
HRESULT amrt__mark_canceled(Call *c, Frame *f);
/* The call in flight, if it is still call 'seq' (c->lock held). */
Frame *amrt__call_if(Call *c, unsigned seq);
/* Signal call 'seq' (cancellation, CompleteCall). */
void amrt__signal_call(Call *c, unsigned seq);
extern const ICancelMethodCallsVtbl amrt__cancel_vtbl;

/* ---- asyncmgr.c ---- */

extern const IAsyncManagerVtbl amrt__manager_vtbl;

#endif
