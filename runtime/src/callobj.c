/*
 * callobj.c - call objects and their state machine (the frame is frame.c,
 * cancellation cancel.c, IAsyncManager asyncmgr.c, what they share call.h;
 * the glue tables' interpreter is interp.c).
 *
 * DESIGN. A call object (what ICallFactory::CreateCall returns) implements
 * AsyncIFoo through the glue's vtable of thunks, ISynchronize (with
 * ISynchronizeHandle and ISynchronizeEvent) on a manual-reset event of its
 * own, ICancelMethodCalls and IAsyncManager. It runs one call at a time
 * (RULES.md B6):
 *
 *   IDLE --Begin_--> BEGINNING --> RUNNING --Finish_--> FINISHING --> IDLE
 *
 * Begin_ fills a Frame: every [in] and [in,out] argument is deep-copied
 * (the caller may reuse its buffers at once; interface pointers are
 * AddRef'd), every [out] argument gets zeroed storage; it Resets the
 * call's ISynchronize (B13) and hands the frame to the worker pool. The
 * worker makes the synchronous call through the glue's thunk, then
 * Signals (B11). Finish_ Waits (it blocks when the call is still running,
 * B12), moves the [out] data to the caller (COM ownership: what the callee
 * allocated now belongs to the caller) and frees the rest. A call object
 * released without Finish_ (B9), a canceled call and a failed Begin_ free
 * everything the frame holds.
 *
 * Two protocols. A call object that is not aggregated runs its calls on
 * its own frame ('own') with the fast protocol: the call's progress is a
 * few bits of the event word (C_* below), next to the event's own bits, so
 * that the worker completes a call with one atomic operation that signals
 * it and lets go of it together. While a worker holds the call (C_BUSY,
 * C_SIGNALING), a Release of the last reference sets C_ORPHAN instead of
 * freeing, and the worker frees the call after its last touch; a worker
 * that only lingers on it (C_PARKED, below) is asked to let go (C_REAP)
 * and the releasing thread frees it. Every other call (an
 * aggregated call object, whose outer may intercept Signal (B14);
 * server-side async; a call made while the own frame is detached, below)
 * keeps its progress in the frame's flags (F_*), and the worker (or, for
 * an object in another process, the request in flight) holds counted
 * references on the controlling unknown and on the inner one.
 *
 * Detached frames. When Finish_ returns before the worker (a canceled
 * call), the frame is left to the worker, which frees what it holds; the
 * call object's next calls use a frame of their own meanwhile (C_DETACHED
 * says the own frame is away).
 *
 * Speed. A call on a reused call object allocates nothing and takes no
 * lock on the worker's side; what it moves between the client's CPU and
 * the worker's is the call's first cache line (the event word, and the
 * return and argument values of a small call, 'hot') plus, when the worker
 * is not already waiting on that call, the pool's ring cell. The frame's
 * header and its argument pointers are rewritten only when the method
 * changes, so both CPUs keep them cached. A worker that finishes a call
 * while no other job waits lingers on it (C_PARKED) for up to AMRT_SPIN_US:
 * the call's next Begin_ hands it the call directly (C_DIRECT), without
 * the ring. The call still runs on the worker.
 *
 * Objects in another process. A call on the own frame of a call object
 * on a cross-process proxy ('rcall') has no worker: Begin_ sends the
 * request (remote.c), and the I/O thread, with the reply decoded into the
 * frame, completes the call as a worker would (RULES.md J5): with
 * complete_fast, or, for an aggregated call object, with complete_counted
 * (the outer's Signal, the Release of the references Begin_ took; B14).
 * A call on a frame of its own (the own frame is detached) has a request
 * of its own (Frame.rcall) and is completed with complete_counted.
 *
 * Signal, Wait and Reset go through the ISynchronize of the controlling
 * unknown (B14), so an aggregating outer object can intercept completion.
 *
 * Client side. Begin_ claims an idle call object with one atomic step
 * (IDLE -> BEGINNING) and owns the frames until it publishes RUNNING;
 * Finish_ takes call->lock to end a RUNNING call (RUNNING -> FINISHING)
 * and stores IDLE when done; Cancel and IAsyncManager act on a RUNNING
 * call under the lock, so the call cannot end under them.
 *
 * Lock invariant: call->lock is held for every change of a RUNNING call
 * (its end, its cancellation) and for 'spare' outside BEGINNING; 'state',
 * 'seq' and 'frame' are atomic, published by the RUNNING store. The
 * worker reads the frame it was given and changes only the event word and
 * the frame's flags.
 */
#include "call.h"

#include <sched.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


/* ==================================================================== the call object */



__thread Frame *amrt__current_frame;   /* the call a worker thread is running */

/* Reset, Signal, Wait or poll (Wait(0)) on the ISynchronize of the
 * controlling unknown (B14): our own event when we are not aggregated.
 * Whether the wait or the poll found it signaled. */
bool amrt__sync_op(Call *c, int op)
{
    if (c->outer == &c->inner) {
        if (op == OP_RESET)
            amrt__ev_reset(&c->ev);
        else if (op == OP_SIGNAL)
            amrt__ev_signal(&c->ev);
        else
            return amrt__ev_wait(&c->ev, 0, op == OP_POLL ? 0 : INFINITE) == S_OK;
        return false;
    }
    ISynchronize *s = NULL;
    if (FAILED(IUnknown_QueryInterface(c->outer, &IID_ISynchronize, (void **)&s)) || !s)
        return false;
    bool on = false;
    if (op == OP_RESET)
        ISynchronize_Reset(s);
    else if (op == OP_SIGNAL)
        ISynchronize_Signal(s);
    else
        on = ISynchronize_Wait(s, 0, op == OP_POLL ? 0 : INFINITE) == S_OK;
    ISynchronize_Release(s);
    return on;
}



/* The counted references of a worker on the counted protocol: one on the
 * controlling unknown (which keeps an aggregate alive, as COM's rules say)
 * and one on our inner unknown (which keeps this memory alive even if an
 * outer breaks those rules). */
static void worker_addref(Call *c)
{
    IUnknown_AddRef(c->outer);
    if (c->outer != &c->inner)
        IUnknown_AddRef(&c->inner);
}

static void worker_release(Call *c)
{
    IUnknown *outer = c->outer;
    if (outer != &c->inner)
        IUnknown_Release(&c->inner);
    IUnknown_Release(outer);
}

static void call_destroy(Call *c)
{
    Frame *f = atomic_load(&c->frame);  /* a call never finished (B9) */
    if (f) {
        amrt__frame_clear(f);
        if (f->heap)
            amrt__frame_destroy(f);
    }
    if (c->spare)
        amrt__frame_destroy(c->spare);
    amrt__frame_destroy(&c->own);
    amrt__remote_async_free(c->rcall);
    if (c->server_inner)
        IUnknown_Release(c->server_inner);
    IUnknown_Release(c->server);
    amrt__ev_fini(&c->ev);
    amrt__free(c);
}

/* A detached frame (Finish_ returned first) is the worker's to free. */
static void detached_done(Call *c, Frame *f)
{
    amrt__frame_clear(f);
    bool fast = f->fast;
    if (f->heap)
        amrt__frame_destroy(f);
    else
        atomic_fetch_and(&c->ev.word, ~(unsigned)(C_DETACHED | C_CANCELED | C_DIRECT));   /* the own frame is back */
    if (fast)
        IUnknown_Release(&c->inner);    /* the reference Finish_ lent us */
    else
        worker_release(c);
}

/* The counted protocol's end of a call. */
static void complete_counted(Call *c, Frame *f)
{
    unsigned old = atomic_fetch_or_explicit(&f->fl, F_RETURNED, memory_order_acq_rel);
    if (old & F_DETACHED) {
        detached_done(c, f);
        return;
    }
    if (!(old & F_CANCELED))
        amrt__sync_op(c, OP_SIGNAL);          /* a canceled call was signaled by Cancel */
    worker_release(c);
}

/* The fast protocol's end of a call: signal it (unless it was canceled:
 * Cancel signals) and let go of it, or linger on it when 'park'. True when
 * the worker now lingers on the call. */
static bool complete_fast(Call *c, bool park)
{
    unsigned w = atomic_load_explicit(&c->ev.word, memory_order_relaxed), n;
    for (;;) {
        if (w & C_DETACHED) {
            detached_done(c, &c->own);
            return false;
        }
        n = w & ~(unsigned)(C_BUSY | C_DIRECT);
        bool signal = !(w & C_CANCELED);
        if (signal && (w & AMRT_EV_SLOW)) {
            n |= C_SIGNALING;           /* the signal needs the event's lock: hold the call meanwhile */
        } else {
            if (signal)
                n |= AMRT_EV_SIGNALED;
            if (park && !(w & C_ORPHAN))
                n |= C_PARKED;
        }
        if (atomic_compare_exchange_weak_explicit(&c->ev.word, &w, n, memory_order_acq_rel, memory_order_relaxed))
            break;
    }
    if (n & C_SIGNALING) {
        amrt__ev_signal(&c->ev);        /* wakes the sleepers, mirrors the eventfd */
        w = atomic_load_explicit(&c->ev.word, memory_order_relaxed);
        do
            n = (w & ~(unsigned)C_SIGNALING) | (park && !(w & C_ORPHAN) ? C_PARKED : 0u);
        while (!atomic_compare_exchange_weak_explicit(&c->ev.word, &w, n, memory_order_acq_rel, memory_order_relaxed));
    }
    if (w & C_ORPHAN) {
        call_destroy(c);                /* released while we held it: ours to free */
        return false;
    }
    return n & C_PARKED;
}

/* A worker's lingers that ended because another call's job came (a
 * client keeping many calls in flight) make it skip the next ones:
 * 1, 3, 7, ... up to 63 completions; a linger that got its call back ends
 * the skipping. */
static __thread unsigned linger_skip, linger_wasted;

static bool may_linger(void)
{
    if (linger_skip) {
        linger_skip--;
        return false;
    }
    return !amrt__pool_wanted();
}

static bool linger_hint(void *arg)
{
    Call *c = arg;
    return (atomic_load_explicit(&c->ev.word, memory_order_acquire) & (C_DIRECT | C_ORPHAN)) || amrt__pool_wanted();
}

/* Linger on a call just completed: true when its next Begin_ handed it
 * to us (run it), false when we let go of it. */
static bool linger(Call *c)
{
    bool hint = amrt__spin_until(linger_hint, c);
    if (!hint)
        amrt__pool_spun();              /* we watched the pool for the whole budget */
    unsigned w = atomic_load_explicit(&c->ev.word, memory_order_acquire);
    if (!(w & C_DIRECT) && hint && amrt__pool_wanted())
        linger_skip = linger_wasted = linger_wasted < 63 ? linger_wasted * 2 + 1 : 63;
    for (;;) {
        if (w & C_DIRECT) {
            linger_wasted = 0;
            return true;                /* complete_fast clears it */
        } else if ((w & C_ORPHAN) && !(w & C_REAP)) {
            call_destroy(c);            /* released, and nobody waits to free it */
            return false;
        } else if (atomic_compare_exchange_weak_explicit(&c->ev.word, &w, w & ~(unsigned)C_PARKED,
                                                         memory_order_acq_rel, memory_order_acquire)) {
            return false;               /* let go (C_REAP: the releasing thread frees it) */
        }
    }
}

/* the I/O thread: the reply of a call made without a worker came (or its
 * connection went); the same completion as a worker's */
static void remote_done(void *arg)
{
    complete_fast(arg, false);
}

/* ... of an aggregated call object's call (the counted protocol, on the
 * own frame): the outer's Signal (B14) and the call's references are let
 * go here, as a worker's complete_counted does */
static void remote_done_counted(void *arg)
{
    Call *c = arg;
    complete_counted(c, &c->own);
}

/* ... of a call on a heap frame (the own frame was detached): counted */
static void remote_done_frame(void *arg)
{
    Frame *f = arg;
    complete_counted(f->call, f);
}

static void run_frame(Job *job)
{
    Frame *f = (Frame *)job;
    Call *c = f->call;
    bool park;
    __builtin_prefetch(&c->ev, 1);      /* we read and write the first line: ask for it writable */
    do {
        /* decided before the call: between the method's stores to the
         * call's first line and our completion of it, the waiting client
         * should find no time to take the line back */
        park = f->fast && may_linger();
        amrt__current_frame = f;
        /* a [call_as] twin on a proxy goes as itself (its 'call' is the server's side) */
        (c->remote && f->m->send ? f->m->send : f->m->call)(c->server, f->args, amrt__frame_ret(f));
        amrt__current_frame = NULL;
        if (!f->fast) {
            complete_counted(c, f);
            return;
        }
    } while (complete_fast(c, park) && linger(c));
}

/* Server-side async (RULES.md E): the worker drives the server call
 * object's Begin_; the server Signals our ISynchronize (it is aggregated
 * in our controlling unknown) when its work is done. */
static void run_server_begin(Job *job)
{
    Frame *f = (Frame *)job;
    Call *c = f->call;
    f->m->begin(c->server_async, f->args, amrt__frame_ret(f));
    bool failed = f->m->ret_hresult && FAILED(*(HRESULT *)amrt__frame_ret(f));
    unsigned old = atomic_fetch_or_explicit(&f->fl, F_RETURNED | (failed ? F_BEGIN_FAILED : 0u),
                                            memory_order_acq_rel);
    if (old & F_DETACHED) {
        detached_done(c, f);
        return;
    }
    if (failed)
        amrt__sync_op(c, OP_SIGNAL);          /* the server will not signal a call it refused */
    worker_release(c);
}

/* The end of a call in FINISHING: free what the frame holds (unless it is
 * detached, 'keep' false: then the worker does), give an allocated frame
 * back, and make the call object IDLE. */
static void frame_done(Call *c, Frame *f, bool keep)
{
    if (keep && f->needs_clear)
        amrt__frame_clear(f);
    if (keep && f->heap) {
        amrt__call_lock(c);
        amrt__frame_put(c, f);
        atomic_store_explicit(&c->state, IDLE, memory_order_release);
        amrt__call_unlock(c);
    } else {
        atomic_store_explicit(&c->state, IDLE, memory_order_release);
    }
}

HRESULT AmrtBegin(void *iface, const AmrtInterface *glue, int method, void **args)
{
    Call *c = CALL_FROM(iface, async);
    if (method < 0 || method >= glue->nmethods + glue->ncall_as)
        return E_INVALIDARG;
    const AmrtMethod *m = &glue->methods[method];
    if (!amrt__initialized())
        return CO_E_NOTINITIALIZED;     /* after the last CoUninitialize nothing runs (B22) */
    __builtin_prefetch(&c->ev, 1);      /* the first line is ours to write: ask for it now */
    int idle = IDLE;
    if (!atomic_compare_exchange_strong_explicit(&c->state, &idle, BEGINNING, memory_order_acquire,
                                                 memory_order_relaxed))
        return RPC_E_CALL_PENDING;      /* one call at a time (B6); also until a canceled call is finished (D2) */
    Frame *f;
    HRESULT hr = amrt__frame_new(c, glue, m, args, &f);
    if (FAILED(hr)) {
        atomic_store_explicit(&c->state, IDLE, memory_order_release);
        return hr;
    }
    bool fast = c->fast && f == &c->own, direct = false;
    if (f->fast != fast)
        f->fast = fast;
    if (fast) {
        /* a worker still signaling the last call lets go first (it is
         * between two instructions, or waking a sleeper) */
        unsigned w;
        for (int spins = 0; (w = atomic_load_explicit(&c->ev.word, memory_order_acquire)) & C_SIGNALING; spins++) {
            if (spins < 1000)
                amrt__cpu_relax();
            else
                sched_yield();
        }
        /* Reset (B13) and hand the call to the worker, in one step unless
         * the event needs its lock; a lingering worker takes it directly */
        if (w & AMRT_EV_SLOW)
            amrt__ev_reset(&c->ev);
        unsigned n;
        do {
            n = (w & ~(unsigned)(C_CANCELED | C_PARKED | C_DIRECT)) | C_BUSY;
            if (!(w & AMRT_EV_SLOW))
                n &= ~(unsigned)AMRT_EV_SIGNALED;
            if (w & C_PARKED)
                n |= C_DIRECT;
        } while (!atomic_compare_exchange_weak_explicit(&c->ev.word, &w, n, memory_order_acq_rel,
                                                        memory_order_acquire));
        direct = w & C_PARKED;
    } else {
        amrt__sync_op(c, OP_RESET);           /* Reset at Begin_ (B13), through the controlling unknown */
        worker_addref(c);
    }
    atomic_store_explicit(&c->frame, f, memory_order_relaxed);
    if (atomic_load_explicit(&c->method, memory_order_relaxed) != m)
        atomic_store_explicit(&c->method, m, memory_order_relaxed);
    atomic_store_explicit(&c->seq, atomic_load_explicit(&c->seq, memory_order_relaxed) + 1, memory_order_relaxed);
    atomic_store_explicit(&c->state, RUNNING, memory_order_release);
    if (direct)
        return S_OK;
    AmrtAsyncCall *r = c->rcall;
    if (r && f != &c->own) {
        /* a frame of its own (the own frame is detached: a canceled
         * call's reply is still due): a request of its own too; none (no
         * memory): a worker makes the call */
        if (!f->rcall)
            f->rcall = amrt__remote_async_new(amrt__proxy_object(c->server), remote_done_frame, f);
        r = f->rcall;
    }
    if (r) {
        /* an object in another process: the request goes now, encoded
         * from the frame's copies, and the reply, decoded into the frame
         * on the I/O thread, completes the call (RULES.md J5); a request
         * that cannot go is the call's result, as a worker's call says.
         * Both protocols: an aggregated call object's call, and any on a
         * heap frame (counted), is completed by complete_counted, through
         * the controlling unknown's ISynchronize. A [local] method has
         * nothing to send: it ends here with what its proxy thunk answers
         * (E_NOTIMPL, or 0). */
        HRESULT sent = E_NOTIMPL;
        if (f->m->local) {
            if (f->m->ret_hresult)
                *(HRESULT *)amrt__frame_ret(f) = E_NOTIMPL;
            else if (f->m->ret_size)
                memset(amrt__frame_ret(f), 0, f->m->ret_size);
        } else {
            sent = amrt__remote_async_begin(r, atomic_load_explicit(&c->seq, memory_order_relaxed), glue, method,
                                            f->args, amrt__frame_ret(f));
        }
        if (FAILED(sent)) {
            if (fast)
                remote_done(c);
            else
                complete_counted(c, f);
        }
        return S_OK;
    }
    hr = amrt__pool_submit_job(&f->job);
    if (FAILED(hr)) {
        /* no worker will run it: end it here, as a Finish_ would */
        amrt__call_lock(c);
        atomic_store_explicit(&c->state, FINISHING, memory_order_relaxed);
        atomic_store_explicit(&c->frame, NULL, memory_order_relaxed);
        amrt__call_unlock(c);
        if (fast)
            atomic_fetch_and(&c->ev.word, ~(unsigned)C_BUSY);
        else
            worker_release(c);
        frame_done(c, f, true);
        return hr;
    }
    return S_OK;
}

/* Leave a canceled call's frame to its worker, which has not returned
 * (c->lock held). False when it returned meanwhile. */
static bool detach(Call *c, Frame *f)
{
    if (f->fast) {
        IUnknown_AddRef(&c->inner);     /* the worker's, from now on */
        unsigned w = atomic_load(&c->ev.word);
        while (w & C_BUSY)
            /* C_DIRECT stays: a lingering worker not yet aware of the
             * call must still run it (and end it as detached) */
            if (atomic_compare_exchange_weak(&c->ev.word, &w, (w & ~(unsigned)C_BUSY) | C_DETACHED))
                return true;
        IUnknown_Release(&c->inner);
        return false;
    }
    if (!f->heap)
        atomic_fetch_or(&c->ev.word, (unsigned)C_DETACHED);
    unsigned fl = atomic_load(&f->fl);
    while (!(fl & F_RETURNED))
        if (atomic_compare_exchange_weak(&f->fl, &fl, fl | F_DETACHED))
            return true;
    if (!f->heap)
        atomic_fetch_and(&c->ev.word, ~(unsigned)C_DETACHED);
    return false;
}

/* A NULL [ref] pointer among the caller's [out] arguments (B21)? */
static bool null_ref_out(const AmrtMethod *m, void **args)
{
    for (int i = 0; i < m->nparams; i++) {
        const AmrtParam *p = &m->params[i];
        if ((p->dir & AMRT_OUT) && !(p->type->flags & AMRT_F_UNIQUE) && (!args[i] || !*(void **)args[i]))
            return true;
    }
    return false;
}

HRESULT AmrtFinish(void *iface, const AmrtInterface *glue, int method, void **args, void *ret)
{
    Call *c = CALL_FROM(iface, async);
    if (atomic_load_explicit(&c->state, memory_order_acquire) != RUNNING)
        return RPC_E_CALL_COMPLETE;     /* no call in progress (B7) */
    /* Finish_ of another method (B20), or a NULL [ref] [out] pointer
     * (B21): an error at once, nothing written, the call still pending.
     * 'method' is published with RUNNING; a call another thread finishes
     * meanwhile is told by the seq check below. */
    const AmrtMethod *m = method >= 0 && method < glue->nmethods + glue->ncall_as ? &glue->methods[method] : NULL;
    if (m != atomic_load_explicit(&c->method, memory_order_relaxed))
        return E_UNEXPECTED;
    if (null_ref_out(m, args))
        return HRESULT_FROM_WIN32(RPC_X_NULL_REF_POINTER);
    unsigned seq = atomic_load_explicit(&c->seq, memory_order_relaxed);
    /* Finish_ waits for completion (B12, B13). Our own manual-reset event,
     * signaled already (many calls in flight), needs no Wait; the next
     * Begin_ will write the call's first line, so ask for it writable now,
     * while we deliver (not while a worker still has it). */
    if (c->outer == &c->inner && (atomic_load_explicit(&c->ev.word, memory_order_acquire) & AMRT_EV_SIGNALED))
        __builtin_prefetch(&c->ev, 1);
    else
        amrt__sync_op(c, OP_WAIT);
    /* The frame settles too: a server-side async call is signaled just
     * before the server's Begin_ returns (E2), and a program may Signal the
     * call's ISynchronize itself. */
    amrt__call_lock(c);
    Frame *f;
    unsigned fl;
    for (int naps = 0;; naps++) {
        f = atomic_load_explicit(&c->frame, memory_order_relaxed);
        if (atomic_load_explicit(&c->state, memory_order_relaxed) != RUNNING ||
            atomic_load_explicit(&c->seq, memory_order_relaxed) != seq) {
            amrt__call_unlock(c);
            return RPC_E_CALL_COMPLETE; /* another thread finished it */
        }
        fl = amrt__call_flags(c, f);
        if (fl & (F_RETURNED | F_CANCELED))
            break;
        amrt__call_unlock(c);
        if (naps < 100) {
            sched_yield();
        } else {
            struct timespec ts = { 0, 200000 };
            nanosleep(&ts, NULL);
        }
        amrt__call_lock(c);
    }
    HRESULT hr = S_OK;
    bool keep = true;                   /* false: detached, the worker frees it */
    m = f->m;                           /* read first: a detached frame is the worker's at once */
    if (fl & F_CANCELED) {
        hr = (fl & F_FORCED) ? f->forced : RPC_E_CALL_CANCELED;  /* D6: outs untouched */
        if (!(fl & F_RETURNED))
            keep = !detach(c, f);       /* the server still runs */
    }
    atomic_store_explicit(&c->frame, NULL, memory_order_relaxed);
    atomic_store_explicit(&c->state, FINISHING, memory_order_relaxed);
    amrt__call_unlock(c);
    if (!(fl & F_CANCELED)) {
        if (c->server_async && !(fl & F_BEGIN_FAILED))
            m->finish(c->server_async, f->args, amrt__frame_ret(f));
        if (!(m->ret_hresult && amrt__remote_failed(c->server, *(HRESULT *)amrt__frame_ret(f))))
            amrt__frame_deliver(f, args);   /* J10: a call the server's death ended leaves the outputs untouched */
        if (ret && m->ret_size)
            memcpy(ret, amrt__frame_ret(f), m->ret_size);
        if (m->ret_hresult)
            hr = *(HRESULT *)amrt__frame_ret(f);
    } else if (ret && m->ret_hresult) {
        *(HRESULT *)ret = hr;
    }
    frame_done(c, f, keep);             /* reusable after Finish_ (B10) */
    return hr;
}

/* ---- IUnknown (non-delegating) ---- */

static HRESULT STDMETHODCALLTYPE call_inner_qi(IUnknown *This, REFIID riid, void **ppv)
{
    Call *c = CALL_FROM(This, inner);
    if (!ppv)
        return E_POINTER;
    *ppv = NULL;
    if (IsEqualIID(riid, &IID_IUnknown))
        *ppv = &c->inner;
    else if (IsEqualIID(riid, &IID_ICancelMethodCalls))
        *ppv = &c->cancel;
    else if (IsEqualIID(riid, &IID_IAsyncManager))
        *ppv = &c->manager;
    else if ((*ppv = amrt__sync_faces_find(&c->faces, riid)))
        ;
    else {
        for (const AmrtInterface *g = c->glue; g; g = g->base)
            if (IsEqualIID(riid, g->async_iid)) {
                *ppv = &c->async;
                break;
            }
        if (!*ppv)
            return E_NOINTERFACE;       /* including IClientSecurity (RULES.md F1) */
    }
    IUnknown_AddRef((IUnknown *)*ppv);
    return S_OK;
}

static ULONG STDMETHODCALLTYPE call_inner_addref(IUnknown *This)
{
    return (ULONG)atomic_fetch_add(&CALL_FROM(This, inner)->refs, 1) + 1;
}

static bool unparked(void *arg)
{
    return !(atomic_load_explicit(&((Call *)arg)->ev.word, memory_order_acquire) & C_PARKED);
}

/* The last reference is gone: free the call, or leave it to the worker
 * that holds it. On the counted protocol no worker runs (it would hold a
 * reference). A worker that only lingers is asked to let go (C_REAP), so
 * that the call is freed here, by the thread that allocated it, and not
 * across threads through the allocator's locks. */
static void call_last_release(Call *c)
{
    unsigned w = atomic_load(&c->ev.word);
    for (;;) {
        if (w & (C_BUSY | C_SIGNALING)) {
            if (atomic_compare_exchange_weak(&c->ev.word, &w, w | C_ORPHAN))
                return;                 /* a call is out: its worker frees the call (B9) */
        } else if (!(w & C_PARKED)) {
            break;
        } else if (atomic_compare_exchange_weak(&c->ev.word, &w, w | C_ORPHAN | C_REAP)) {
            if (amrt__spin_until(unparked, c))
                break;
            /* it does not look: it frees the call when it does */
            w = atomic_load(&c->ev.word);
            while ((w & C_PARKED) && !atomic_compare_exchange_weak(&c->ev.word, &w, w & ~(unsigned)C_REAP))
                ;
            if (w & C_PARKED)
                return;
            break;                      /* it let go meanwhile */
        }
    }
    call_destroy(c);                    /* a call never finished is freed here (B9) */
}

static ULONG STDMETHODCALLTYPE call_inner_release(IUnknown *This)
{
    Call *c = CALL_FROM(This, inner);
    long left = atomic_fetch_sub(&c->refs, 1) - 1;
    if (left == 0)
        call_last_release(c);
    return (ULONG)left;
}

static const IUnknownVtbl call_inner_vtbl = { call_inner_qi, call_inner_addref, call_inner_release };

int AmrtCallRemote(void *iface)
{
    return CALL_FROM(iface, async)->remote;
}

HRESULT AmrtCallQueryInterface(void *iface, REFIID riid, void **ppv)
{
    return IUnknown_QueryInterface(CALL_FROM(iface, async)->outer, riid, ppv);
}

ULONG AmrtCallAddRef(void *iface)
{
    return IUnknown_AddRef(CALL_FROM(iface, async)->outer);
}

ULONG AmrtCallRelease(void *iface)
{
    return IUnknown_Release(CALL_FROM(iface, async)->outer);
}

/* ---- creation (ICallFactory::CreateCall of the proxy) ---- */

HRESULT amrt__call_create(const AmrtInterface *glue, IUnknown *server, ICallFactory *own,
                          IUnknown *outer, const IID *riid2, void **ppv)
{
    *ppv = NULL;
    if (outer && !IsEqualIID(riid2, &IID_IUnknown))
        return CLASS_E_NOAGGREGATION;   /* B4 */
    Call *c = amrt__calloc_aligned(sizeof *c);
    if (!c)
        return E_OUTOFMEMORY;
    /* ISynchronize: a manual-reset event of our own (the Signal, Wait and
     * Reset of a call go through the controlling unknown's, B14) */
    if (!amrt__ev_init(&c->ev, &c->evslow, true)) {
        amrt__free(c);
        return E_OUTOFMEMORY;
    }
    c->inner.lpVtbl = (IUnknownVtbl *)&call_inner_vtbl;
    c->async.lpVtbl = glue->async_vtbl;
    c->cancel.lpVtbl = (ICancelMethodCallsVtbl *)&amrt__cancel_vtbl;
    c->manager.lpVtbl = (IAsyncManagerVtbl *)&amrt__manager_vtbl;
    c->outer = outer ? outer : &c->inner;
    amrt__sync_faces_init(&c->faces, c->outer, &c->ev);
    c->glue = glue;
    c->fast = !outer && !own;
    if (!own) {
        IUnknown *o = amrt__proxy_object(server);
        c->remote = amrt__is_remote(o);
        if (c->remote)      /* NULL: its calls go through workers */
            c->rcall = amrt__remote_async_new(o, c->fast ? remote_done : remote_done_counted, c);
    }
    c->own.call = c;
    c->own.job.fn = own ? run_server_begin : run_frame;
    atomic_init(&c->state, IDLE);
    atomic_init(&c->refs, 1);
    c->server = server;
    IUnknown_AddRef(server);
    if (own) {
        /* the object makes its own call objects (E1): one aggregated in us,
         * so that it signals our ISynchronize (E3) */
        HRESULT hr = ICallFactory_CreateCall(own, glue->async_iid, c->outer, &IID_IUnknown, &c->server_inner);
        if (SUCCEEDED(hr) && c->server_inner) {
            hr = IUnknown_QueryInterface(c->server_inner, glue->async_iid, &c->server_async);
            if (SUCCEEDED(hr))
                IUnknown_Release(c->outer);     /* a cached inner pointer holds no reference on us */
        }
        if (FAILED(hr) || !c->server_inner) {
            c->server_async = NULL;
            IUnknown_Release(&c->inner);        /* frees the call (and the server's, if any) */
            return FAILED(hr) ? hr : E_NOINTERFACE;
        }
    }
    if (outer) {
        *ppv = &c->inner;
        return S_OK;
    }
    HRESULT hr = IUnknown_QueryInterface(&c->inner, riid2, ppv);
    IUnknown_Release(&c->inner);
    return hr;
}
