/*
 * srvasync.c - server-side asynchronous processing of a call from another
 * process (RULES.md E, J5, J7; docs/remoting.md "Server-side asynchronous
 * processing").
 *
 * A call that arrives for an object that implements ICallFactory itself,
 * and whose CreateCall makes a call object for the interface's async IID,
 * is processed through that call object, as Windows' stub does: the
 * runtime is the call object's controlling unknown (E3), a small object
 * of this file (SrvCall) that exposes
 *   - ISynchronize, ISynchronizeHandle and ISynchronizeEvent of an
 *     aggregated CLSID_ManualResetEvent (E4): the server Signals it when
 *     its work is done (E2);
 *   - ICancelMethodCalls: TestCancel says RPC_E_CALL_CANCELED once the
 *     client canceled the call or went away (D9, J7, J11);
 *   - IAsyncManager (E8), as the in-process call objects have it:
 *     CompleteCall(hr) ends the call with the failure hr, no Finish_;
 *   - the server call object's own interfaces (the aggregate's).
 * The call's thread calls Begin_ with the request's [in] data and goes
 * back to conn.c's pool: no thread waits for the Signal. The Signal (the
 * controlling unknown's own ISynchronize face, which signals the event
 * and then looks at the call) hands the call to a worker of the pool,
 * which calls Finish_ for the [out] data and the result; the reply then
 * goes as a synchronous method's would (remote.c's 'done'), and conn.c
 * forgets the call (amrt__incall_done). A Signal during Begin_ (work done
 * at once) completes the call on its own thread, with no hop. A Begin_
 * that fails is the call's result: no Signal is awaited, Finish_ is not
 * called (as in-process, callobj.c's F_BEGIN_FAILED).
 *
 * Which calls. Every call of the client's, synchronous or through a call
 * object: as on Windows, client and server choose independently (a
 * synchronous client of an asynchronous server gets the server's Begin_/
 * Finish_ too), so the request need not say how the client called.
 * Otherwise (no ICallFactory, CreateCall fails, the object is itself a
 * proxy of a third process's object) the synchronous method runs.
 *
 * Cancellation. The client's Cancel sends M_CANCEL (J7); conn.c marks the
 * incoming call canceled. The server call object sees it through
 * TestCancel on its controlling unknown's ICancelMethodCalls, through
 * CoTestCancel on the call's thread (during Begin_ and Finish_), and,
 * when it implements ICancelMethodCalls itself, by a call of its
 * Cancel(0) from a worker of the pool, once (conn.c tells us through the
 * incoming call's on_cancel; project choice: the cancel reaches the
 * server's call object). The server still Signals; Finish_ is called and
 * its reply sent (the client discards a late reply, J7, J8).
 */
#include "remote.h"

#include <string.h>

/* where a call is (SrvCall.state, lock) */
enum { ST_BEGIN, ST_EARLY, ST_WAITING, ST_FINISHING };

struct SrvCall {
    IUnknown unk;                       /* the controlling unknown */
    ISynchronize sync;                  /* the event's Wait and Reset; a Signal also completes the call */
    ICancelMethodCalls cancel;
    IAsyncManager manager;              /* RULES.md E8, as the in-process call objects have it */
    atomic_long refs;
    IUnknown *ev;                       /* the aggregated ManualResetEvent's inner unknown */
    ISynchronize *evsync;               /* its ISynchronize (not counted: aggregation's rule) */
    IUnknown *inner;                    /* the server call object's inner unknown */
    void *async;                        /* its async interface, for Begin_ and Finish_ (not counted) */
    pthread_mutex_t lock;
    AmrtInCall *ic;                     /* the incoming call while it runs (lock) */
    bool canceled;                      /* lock */
    bool forced;                        /* IAsyncManager::CompleteCall ended the call with 'result' (lock) */
    HRESULT result;
    int state;                          /* ST_* (lock) */
    bool cancel_told;                   /* the server call object's Cancel was called (conn's lock) */
    /* the call, for its completion */
    const AmrtMethod *m;
    void **args;
    void *ret;
    void (*done)(void *);
    void *done_arg;
    Job finish_job, cancel_job;
};

#define SC_FROM(p, field) ((SrvCall *)((char *)(p) - offsetof(SrvCall, field)))

/* a face's IUnknown methods, those of the controlling unknown */
#define SC_FACE(prefix, Iface, field)                                                          \
    static HRESULT STDMETHODCALLTYPE prefix##_qi(Iface *This, REFIID riid, void **ppv)         \
    {                                                                                          \
        return sc_qi(&SC_FROM(This, field)->unk, riid, ppv);                                   \
    }                                                                                          \
    static ULONG STDMETHODCALLTYPE prefix##_addref(Iface *This)                                \
    {                                                                                          \
        return sc_addref(&SC_FROM(This, field)->unk);                                          \
    }                                                                                          \
    static ULONG STDMETHODCALLTYPE prefix##_release(Iface *This)                               \
    {                                                                                          \
        return sc_release(&SC_FROM(This, field)->unk);                                         \
    }

static bool sc_canceled(SrvCall *s)
{
    amrt__mutex_lock(&s->lock);
    if (!s->canceled && s->ic && atomic_load(&s->ic->canceled))
        s->canceled = true;
    bool c = s->canceled;
    amrt__mutex_unlock(&s->lock);
    return c;
}

static HRESULT STDMETHODCALLTYPE sc_qi(IUnknown *This, REFIID riid, void **ppv)
{
    SrvCall *s = SC_FROM(This, unk);
    if (!ppv)
        return E_POINTER;
    *ppv = NULL;
    if (IsEqualIID(riid, &IID_IUnknown)) {
        *ppv = &s->unk;
    } else if (IsEqualIID(riid, &IID_ISynchronize)) {
        *ppv = &s->sync;
    } else if (IsEqualIID(riid, &IID_ICancelMethodCalls)) {
        *ppv = &s->cancel;
    } else if (IsEqualIID(riid, &IID_IAsyncManager)) {
        *ppv = &s->manager;
    } else if (IsEqualIID(riid, &IID_ISynchronizeHandle) || IsEqualIID(riid, &IID_ISynchronizeEvent)) {
        return IUnknown_QueryInterface(s->ev, riid, ppv);
    } else if (s->inner) {
        return IUnknown_QueryInterface(s->inner, riid, ppv);
    } else {
        return E_NOINTERFACE;
    }
    IUnknown_AddRef((IUnknown *)*ppv);
    return S_OK;
}

static ULONG STDMETHODCALLTYPE sc_addref(IUnknown *This)
{
    return (ULONG)atomic_fetch_add(&SC_FROM(This, unk)->refs, 1) + 1;
}

static ULONG STDMETHODCALLTYPE sc_release(IUnknown *This)
{
    SrvCall *s = SC_FROM(This, unk);
    long left = atomic_fetch_sub(&s->refs, 1) - 1;
    if (left == 0) {
        atomic_store(&s->refs, 1);      /* the inners may AddRef and Release us while they go */
        if (s->inner)
            IUnknown_Release(s->inner);
        if (s->ev)
            IUnknown_Release(s->ev);
        amrt__mutex_destroy(&s->lock);
        amrt__free(s);
    }
    return (ULONG)left;
}

static const IUnknownVtbl sc_vtbl = { sc_qi, sc_addref, sc_release };

SC_FACE(scc, ICancelMethodCalls, cancel)

/* The server's own Cancel of its call: marks it canceled (what TestCancel
 * then says); the client's call is not affected (D3). */
static HRESULT STDMETHODCALLTYPE scc_cancel(ICancelMethodCalls *This, ULONG seconds)
{
    (void)seconds;
    SrvCall *s = SC_FROM(This, cancel);
    if (sc_canceled(s))
        return RPC_E_CALL_CANCELED;     /* D5 */
    amrt__mutex_lock(&s->lock);
    bool running = s->ic != NULL;
    if (running)
        s->canceled = true;
    amrt__mutex_unlock(&s->lock);
    return running ? S_OK : RPC_E_CALL_COMPLETE;    /* D8 */
}

static HRESULT STDMETHODCALLTYPE scc_test(ICancelMethodCalls *This)
{
    return sc_canceled(SC_FROM(This, cancel)) ? RPC_E_CALL_CANCELED : RPC_S_CALLPENDING;   /* D9 */
}

static const ICancelMethodCallsVtbl scc_vtbl = { scc_qi, scc_addref, scc_release, scc_cancel, scc_test };

/* ---- IAsyncManager (E8): the server may end the call itself ----
 * CompleteCall(hr): the call's result is the failure hr now (its Finish_
 * is not called, the [out] data stays empty), the waiting thread is woken
 * (a Signal); GetState: DCOM_CALL_CANCELED after the client's cancel,
 * DCOM_CALL_COMPLETE once signaled or completed, DCOM_NONE before;
 * GetCallContext: the call's ICancelMethodCalls, RPC_E_NO_CONTEXT else. */

SC_FACE(scm, IAsyncManager, manager)

static void sc_signaled(SrvCall *s);

/* the call's event is signaled */
static bool sc_is_signaled(SrvCall *s)
{
    return ISynchronize_Wait(s->evsync, 0, 0) == S_OK;
}

/* ---- ISynchronize: the event's, and a Signal completes the call (E2) ---- */

SC_FACE(scs, ISynchronize, sync)

static HRESULT STDMETHODCALLTYPE scs_wait(ISynchronize *This, DWORD flags, DWORD ms)
{
    return ISynchronize_Wait(SC_FROM(This, sync)->evsync, flags, ms);
}

static HRESULT STDMETHODCALLTYPE scs_signal(ISynchronize *This)
{
    SrvCall *s = SC_FROM(This, sync);
    HRESULT hr = ISynchronize_Signal(s->evsync);
    if (SUCCEEDED(hr))
        sc_signaled(s);
    return hr;
}

static HRESULT STDMETHODCALLTYPE scs_reset(ISynchronize *This)
{
    return ISynchronize_Reset(SC_FROM(This, sync)->evsync);
}

static const ISynchronizeVtbl scs_vtbl = { scs_qi, scs_addref, scs_release, scs_wait, scs_signal, scs_reset };

static HRESULT STDMETHODCALLTYPE scm_complete(IAsyncManager *This, HRESULT result)
{
    SrvCall *s = SC_FROM(This, manager);
    if (SUCCEEDED(result))
        return E_INVALIDARG;            /* a success would hand back outputs nobody produced */
    amrt__mutex_lock(&s->lock);
    bool done = s->forced || !s->ic || sc_is_signaled(s);
    if (!done) {
        s->forced = true;
        s->result = result;
    }
    amrt__mutex_unlock(&s->lock);
    if (done)
        return RPC_E_CALL_COMPLETE;
    scs_signal(&s->sync);
    return S_OK;
}

static HRESULT STDMETHODCALLTYPE scm_context(IAsyncManager *This, REFIID riid, void **ppv)
{
    SrvCall *s = SC_FROM(This, manager);
    if (!ppv)
        return E_INVALIDARG;
    *ppv = NULL;
    if (IsEqualIID(riid, &IID_ICancelMethodCalls))
        return sc_qi(&s->unk, riid, ppv);
    return RPC_E_NO_CONTEXT;
}

static HRESULT STDMETHODCALLTYPE scm_state(IAsyncManager *This, ULONG *state)
{
    SrvCall *s = SC_FROM(This, manager);
    if (!state)
        return E_INVALIDARG;
    bool canceled = sc_canceled(s);
    amrt__mutex_lock(&s->lock);
    bool forced = s->forced;
    amrt__mutex_unlock(&s->lock);
    if (canceled && !forced)
        *state = DCOM_CALL_CANCELED;
    else if (forced || sc_is_signaled(s))
        *state = DCOM_CALL_COMPLETE;
    else
        *state = DCOM_NONE;
    return S_OK;
}

static const IAsyncManagerVtbl scm_vtbl = { scm_qi, scm_addref, scm_release, scm_complete, scm_context, scm_state };

/* The object's own call object for g's async IID, aggregated in a new
 * SrvCall; NULL when it has none (the synchronous method runs). */
SrvCall *amrt__srvcall_new(AmrtInCall *ic, IUnknown *obj, const AmrtInterface *g, const AmrtMethod *m)
{
    if (!g->async_iid || !m->begin || !m->finish)
        return NULL;
    ICallFactory *cf = NULL;
    if (FAILED(IUnknown_QueryInterface(obj, &IID_ICallFactory, (void **)&cf)) || !cf)
        return NULL;                    /* B1: no async support */
    if (amrt__proxy_object(obj) != obj) {
        ICallFactory_Release(cf);       /* a proxy's own (B16): the call hops on synchronously */
        return NULL;
    }
    SrvCall *s = amrt__calloc(sizeof *s);
    if (!s) {
        ICallFactory_Release(cf);
        return NULL;
    }
    s->unk.lpVtbl = (IUnknownVtbl *)&sc_vtbl;
    s->sync.lpVtbl = (ISynchronizeVtbl *)&scs_vtbl;
    s->cancel.lpVtbl = (ICancelMethodCallsVtbl *)&scc_vtbl;
    s->manager.lpVtbl = (IAsyncManagerVtbl *)&scm_vtbl;
    atomic_init(&s->refs, 1);
    pthread_mutex_init(&s->lock, NULL);
    s->ic = ic;
    s->m = m;
    HRESULT hr = CoCreateInstance(&CLSID_ManualResetEvent, &s->unk, CLSCTX_INPROC_SERVER, &IID_IUnknown,
                                  (void **)&s->ev);
    if (SUCCEEDED(hr) && s->ev && SUCCEEDED(hr = IUnknown_QueryInterface(s->ev, &IID_ISynchronize,
                                                                          (void **)&s->evsync)))
        sc_release(&s->unk);            /* the aggregate's reference is ours: not counted (COM's rule) */
    if (SUCCEEDED(hr) && s->evsync)
        hr = ICallFactory_CreateCall(cf, g->async_iid, &s->unk, &IID_IUnknown, &s->inner);
    ICallFactory_Release(cf);
    if (SUCCEEDED(hr) && s->inner && SUCCEEDED(hr = IUnknown_QueryInterface(s->inner, g->async_iid, &s->async)) &&
        s->async)
        sc_release(&s->unk);            /* an aggregate's interface counts on us: not counted either */
    if (FAILED(hr) || !s->evsync || !s->inner || !s->async) {
        sc_release(&s->unk);
        return NULL;                    /* B15: CreateCall is not guaranteed to succeed */
    }
    return s;
}

void amrt__srvcall_drop(SrvCall *s)
{
    amrt__mutex_lock(&s->lock);
    s->ic = NULL;
    amrt__mutex_unlock(&s->lock);
    sc_release(&s->unk);
}

/* The server's Signal came (or CompleteCall): Finish_ for the [out] data
 * and the result, unless CompleteCall ended the call (E8); the call is
 * done with, and so are we. */
static void sc_finish(SrvCall *s)
{
    AmrtInCall *ic = s->ic;
    amrt__mutex_lock(&ic->conn->lock);
    ic->on_cancel = NULL;               /* a cancel from now on is the client's only */
    amrt__mutex_unlock(&ic->conn->lock);
    const AmrtMethod *m = s->m;
    amrt__mutex_lock(&s->lock);
    bool forced = s->forced;
    s->forced = true;                   /* no CompleteCall from now on: the call is complete */
    amrt__mutex_unlock(&s->lock);
    if (forced) {
        if (m->ret_hresult)
            *(HRESULT *)s->ret = s->result;     /* E8: CompleteCall's result; no Finish_ */
    } else {
        AmrtInCall *was = amrt__incall_enter(ic);   /* CoTestCancel during Finish_ */
        m->finish(s->async, s->args, s->ret);
        amrt__incall_enter(was);
    }
    amrt__mutex_lock(&s->lock);
    s->ic = NULL;                       /* the record is conn.c's again */
    amrt__mutex_unlock(&s->lock);
}

static void finish_job(Job *job)
{
    SrvCall *s = (SrvCall *)((char *)job - offsetof(SrvCall, finish_job));
    sc_finish(s);
    s->done(s->done_arg);               /* the reply goes; conn.c forgets the call */
    sc_release(&s->unk);
}

static void sc_signaled(SrvCall *s)
{
    amrt__mutex_lock(&s->lock);
    int was = s->state;
    if (was == ST_BEGIN)
        s->state = ST_EARLY;            /* Begin_'s thread completes it */
    else if (was == ST_WAITING)
        s->state = ST_FINISHING;
    amrt__mutex_unlock(&s->lock);
    if (was != ST_WAITING)
        return;
    /* not on the server's thread: it may hold its locks, or be a thread of ours */
    s->finish_job.fn = finish_job;
    if (FAILED(amrt__pool_submit_job(&s->finish_job)))
        finish_job(&s->finish_job);     /* no worker to be had: here then */
}

/* a cancel of the client's reaches the server call object's own Cancel */
static void cancel_own(SrvCall *s)
{
    ICancelMethodCalls *own = NULL;
    if (SUCCEEDED(IUnknown_QueryInterface(s->inner, &IID_ICancelMethodCalls, (void **)&own)) && own) {
        if (own != &s->cancel)
            ICancelMethodCalls_Cancel(own, 0);
        ICancelMethodCalls_Release(own);
    }
}

static void cancel_job(Job *job)
{
    SrvCall *s = (SrvCall *)((char *)job - offsetof(SrvCall, cancel_job));
    cancel_own(s);
    sc_release(&s->unk);
}

/* conn.c: the client canceled, or went (its lock held: only a job is queued) */
static void sc_on_cancel(void *arg)
{
    SrvCall *s = arg;
    if (s->cancel_told)
        return;
    s->cancel_told = true;
    sc_addref(&s->unk);
    s->cancel_job.fn = cancel_job;
    if (FAILED(amrt__pool_submit_job(&s->cancel_job)))
        atomic_fetch_sub(&s->refs, 1);  /* (never the last: the call holds one) TestCancel still says so */
}

bool amrt__srvcall_run(SrvCall *s, void **args, void *ret, void (*done)(void *), void *arg)
{
    const AmrtMethod *m = s->m;
    AmrtInCall *ic = s->ic;
    s->args = args;
    s->ret = ret;
    s->done = done;
    s->done_arg = arg;
    amrt__mutex_lock(&ic->conn->lock);
    bool canceled = atomic_load(&ic->canceled);
    s->cancel_told = canceled;
    if (!canceled) {
        ic->on_cancel = sc_on_cancel;
        ic->cancel_arg = s;
    }
    amrt__mutex_unlock(&ic->conn->lock);
    if (canceled)
        cancel_own(s);                  /* canceled before it began */
    m->begin(s->async, args, ret);
    bool refused = m->ret_hresult && FAILED(*(HRESULT *)ret);
    amrt__mutex_lock(&s->lock);
    bool later = !refused && s->state == ST_BEGIN;
    s->state = later ? ST_WAITING : ST_FINISHING;
    amrt__mutex_unlock(&s->lock);
    if (later)
        return true;                    /* the Signal's worker goes on (s is its reference) */
    if (refused) {
        amrt__mutex_lock(&ic->conn->lock);
        ic->on_cancel = NULL;
        amrt__mutex_unlock(&ic->conn->lock);
        amrt__srvcall_drop(s);          /* Begin_'s failure is the result: no Finish_ */
    } else {
        sc_finish(s);                   /* signaled during Begin_ */
        sc_release(&s->unk);
    }
    return false;
}
