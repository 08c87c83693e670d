/*
 * cancel.c - cancellation (RULES.md D): ICancelMethodCalls on call
 * objects, CoTestCancel and the call context on the server's thread, and
 * the per-thread cancellation of synchronous calls (CoEnableCallCancellation,
 * CoDisableCallCancellation, CoCancelCall).
 */
#include "call.h"

#include <time.h>
#include <unistd.h>

/* ---- ICancelMethodCalls (RULES.md D) ---- */

AMRT_DELEGATING_IUNKNOWN(cancel, ICancelMethodCalls, Call, cancel)

/* Mark the call on frame f canceled (c->lock held): S_OK, or
 * RPC_E_CALL_CANCELED (it was), or RPC_E_CALL_COMPLETE (it completed). */
HRESULT amrt__mark_canceled(Call *c, Frame *f)
{
    if (f->fast) {
        unsigned w = atomic_load(&c->ev.word);
        for (;;) {
            if (w & C_CANCELED)
                return RPC_E_CALL_CANCELED;
            if (!(w & C_BUSY))
                return RPC_E_CALL_COMPLETE;
            if (atomic_compare_exchange_weak(&c->ev.word, &w, w | C_CANCELED))
                return S_OK;
        }
    }
    unsigned fl = atomic_load(&f->fl);
    for (;;) {
        if (fl & F_CANCELED)
            return RPC_E_CALL_CANCELED;
        if (amrt__call_complete(c, fl))
            return RPC_E_CALL_COMPLETE;
        if (atomic_compare_exchange_weak(&f->fl, &fl, fl | F_CANCELED))
            return S_OK;
    }
}

/* The call in flight, if it is still call 'seq' (c->lock held). */
Frame *amrt__call_if(Call *c, unsigned seq)
{
    if (atomic_load(&c->state) != RUNNING || atomic_load(&c->seq) != seq)
        return NULL;
    return atomic_load(&c->frame);
}

/* Is call 'seq' over? 1: its work is done (client-side: the method
 * returned; server-side: the server signaled too); 0: not yet; -1: it was
 * finished meanwhile (by another thread). */
static int call_done(Call *c, unsigned seq)
{
    amrt__call_lock(c);
    Frame *f = amrt__call_if(c, seq);
    int done = f ? (amrt__call_flags(c, f) & F_RETURNED) != 0 : -1;
    amrt__call_unlock(c);
    if (done == 1 && c->server_async)
        done = amrt__sync_op(c, OP_POLL);
    return done;
}

/* Signal call 'seq' (cancellation, CompleteCall): our own event under the
 * lock, so that it cannot reach the next call; an outer's after it. */
void amrt__signal_call(Call *c, unsigned seq)
{
    if (c->outer != &c->inner) {
        amrt__sync_op(c, OP_SIGNAL);
        return;
    }
    amrt__call_lock(c);
    if (amrt__call_if(c, seq))
        amrt__ev_signal(&c->ev);
    amrt__call_unlock(c);
}

static HRESULT STDMETHODCALLTYPE cancel_cancel(ICancelMethodCalls *This, ULONG seconds)
{
    Call *c = CALL_FROM(This, cancel);
    amrt__call_lock(c);
    unsigned seq = atomic_load(&c->seq);
    Frame *f = amrt__call_if(c, seq);
    /* no call, or it completed already (D8); already canceled (D5); else
     * the server sees it through CoTestCancel (D11) */
    HRESULT hr = f ? amrt__mark_canceled(c, f) : RPC_E_CALL_COMPLETE;
    AmrtAsyncCall *r = f ? amrt__frame_rcall(c, f) : NULL;
    if (hr == S_OK && r)
        amrt__remote_async_cancel(r, seq);          /* a call without a worker: tell the server now (J7) */
    amrt__call_unlock(c);
    if (hr != S_OK)
        return hr;
    /* D7: give the server ulSeconds to finish. With 0 there is no window:
     * a server that returns at once, because it saw the cancellation, has
     * not completed the call on its own (a look here would say it had). */
    DWORD ms = seconds == RPC_C_CANCEL_INFINITE_TIMEOUT ? INFINITE : seconds > 4000000 ? 4000000000u : seconds * 1000;
    int done = ms ? call_done(c, seq) : 0;
    if (done == 0 && ms) {
        /* the worker does not signal a canceled call: poll for its end */
        struct timespec deadline;
        if (ms != INFINITE)
            amrt__deadline(&deadline, ms);
        for (;;) {
            done = call_done(c, seq);
            if (done != 0 || (ms != INFINITE && amrt__ms_left(&deadline) == 0))
                break;
            struct timespec ts = { 0, 1000000 };
            nanosleep(&ts, NULL);
        }
    }
    if (done == 1) {
        /* it completed within the interval: the call is complete, not canceled */
        amrt__call_lock(c);
        if ((f = amrt__call_if(c, seq))) {
            if (f->fast)
                atomic_fetch_and(&c->ev.word, ~(unsigned)C_CANCELED);
            else
                atomic_fetch_and(&f->fl, ~(unsigned)F_CANCELED);
        }
        amrt__call_unlock(c);
        hr = RPC_E_CALL_COMPLETE;
    }
    if (done != -1)
        amrt__signal_call(c, seq);            /* cancellation counts as completion */
    return hr;
}

static HRESULT STDMETHODCALLTYPE cancel_test(ICancelMethodCalls *This)
{
    Call *c = CALL_FROM(This, cancel);
    amrt__call_lock(c);
    Frame *f = amrt__call_if(c, atomic_load(&c->seq));
    bool canceled = f && (amrt__call_flags(c, f) & F_CANCELED);
    amrt__call_unlock(c);
    return canceled ? RPC_E_CALL_CANCELED : RPC_S_CALLPENDING;     /* D9 */
}

const ICancelMethodCallsVtbl amrt__cancel_vtbl = {
    cancel_qi, cancel_addref, cancel_release, cancel_cancel, cancel_test,
};

/* ---- CoGetCallContext / CoTestCancel on the server's thread (D11, F3) ---- */

/* CoSwitchCallContext's object on this thread (not counted, as on
 * Windows), NULL when none: CoGetCallContext answers with it */
static __thread IUnknown *switched_context;

HRESULT CoSwitchCallContext(IUnknown *context, IUnknown **old)
{
    if (!old)
        return E_INVALIDARG;
    Frame *f = amrt__current_frame;
    IUnknown *own = f ? &f->call->inner : NULL;    /* the context of the call this thread runs */
    *old = switched_context ? switched_context : own;
    switched_context = context == own ? NULL : context;     /* switching back to the call's own */
    return S_OK;
}

HRESULT CoGetCallContext(REFIID riid, void **ppv)
{
    if (!ppv)
        return E_INVALIDARG;
    *ppv = NULL;
    if (switched_context)
        return IUnknown_QueryInterface(switched_context, riid, ppv);
    Frame *f = amrt__current_frame;
    if (!f)
        return amrt__incall_context(riid, ppv);     /* a call from another process, if any (J12) */
    if (IsEqualIID(riid, &IID_ICancelMethodCalls))
        return IUnknown_QueryInterface(&f->call->inner, riid, ppv);
    return RPC_E_NO_CONTEXT;            /* IServerSecurity and others: no context here (RULES.md F3) */
}

HRESULT CoTestCancel(void)
{
    Frame *f = amrt__current_frame;
    if (!f)     /* a call from another process, if any (J7, J11) */
        return !amrt__in_incall() ? RPC_E_NO_CONTEXT : amrt__incall_canceled() ? RPC_E_CALL_CANCELED : S_OK;
    /* a detached fast call keeps C_CANCELED until its worker is done */
    bool canceled = f->fast ? atomic_load_explicit(&f->call->ev.word, memory_order_acquire) & C_CANCELED
                            : atomic_load_explicit(&f->fl, memory_order_acquire) & F_CANCELED;
    return canceled ? RPC_E_CALL_CANCELED : S_OK;
}

/* ==================================================================== call cancellation (D10, D11) */

/* The threads that enabled the cancellation of synchronous calls, with
 * their counts: a list under a lock (CoCancelCall names a thread by id). A
 * thread's entry goes when its count returns to 0, or when it exits. */
typedef struct CancelThread {
    pid_t tid;
    int count;
    struct CancelThread *next;
} CancelThread;

static pthread_mutex_t cancel_lock = PTHREAD_MUTEX_INITIALIZER;
static CancelThread *cancel_threads;
static pthread_key_t cancel_key;
static bool cancel_key_made;            /* under cancel_lock */

static void cancel_unlink(CancelThread *t)      /* under cancel_lock */
{
    for (CancelThread **p = &cancel_threads; *p; p = &(*p)->next)
        if (*p == t) {
            *p = t->next;
            break;
        }
    amrt__free(t);
}

static void cancel_thread_exit(void *t)
{
    amrt__mutex_lock(&cancel_lock);
    cancel_unlink(t);
    amrt__mutex_unlock(&cancel_lock);
}

/* The thread-specific key, made on first use. pthread_key_create fails
 * when the process has used up its keys (EAGAIN) or memory: the caller
 * returns E_OUTOFMEMORY, and a later call tries again. */
static bool cancel_key_ready(void)
{
    amrt__mutex_lock(&cancel_lock);
    if (!cancel_key_made)
        cancel_key_made = pthread_key_create(&cancel_key, cancel_thread_exit) == 0;
    bool made = cancel_key_made;
    amrt__mutex_unlock(&cancel_lock);
    return made;
}

HRESULT CoEnableCallCancellation(LPVOID reserved)
{
    if (reserved)
        return E_INVALIDARG;
    if (!cancel_key_ready())
        return E_OUTOFMEMORY;
    CancelThread *t = pthread_getspecific(cancel_key);
    if (!t) {
        if (!(t = amrt__calloc(sizeof *t)))
            return E_OUTOFMEMORY;
        t->tid = gettid();
        if (pthread_setspecific(cancel_key, t) != 0) {
            amrt__free(t);
            return E_OUTOFMEMORY;
        }
        amrt__mutex_lock(&cancel_lock);
        t->next = cancel_threads;
        cancel_threads = t;
        amrt__mutex_unlock(&cancel_lock);
    }
    amrt__mutex_lock(&cancel_lock);
    t->count++;
    amrt__mutex_unlock(&cancel_lock);
    return S_OK;
}

/* RULES.md D13, as Windows behaves: S_OK for a disable that balances an
 * enable of the thread, CO_E_CANCEL_DISABLED when none is outstanding. The
 * count is the thread's: CoInitialize and CoUninitialize leave it. */
HRESULT CoDisableCallCancellation(LPVOID reserved)
{
    if (reserved)
        return E_INVALIDARG;
    if (!cancel_key_ready())
        return CO_E_CANCEL_DISABLED;    /* no key: no enable was ever counted */
    CancelThread *t = pthread_getspecific(cancel_key);
    if (!t)
        return CO_E_CANCEL_DISABLED;    /* nothing to balance */
    amrt__mutex_lock(&cancel_lock);
    bool last = --t->count == 0;
    if (last)
        cancel_unlink(t);
    amrt__mutex_unlock(&cancel_lock);
    if (last)
        pthread_setspecific(cancel_key, NULL);
    return S_OK;
}

HRESULT CoCancelCall(DWORD thread_id, ULONG timeout)
{
    (void)timeout;                      /* no call to wait for: see amidlrt.h */
    if (!amrt__initialized())
        return CO_E_NOTINITIALIZED;
    pid_t tid = thread_id ? (pid_t)thread_id : gettid();
    bool enabled = false;
    amrt__mutex_lock(&cancel_lock);
    for (CancelThread *t = cancel_threads; t && !enabled; t = t->next)
        enabled = t->tid == tid;
    amrt__mutex_unlock(&cancel_lock);
    return enabled ? E_NOINTERFACE : CO_E_CANCEL_DISABLED;
}
