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
 * The call's thread (conn.c runs every incoming call on a thread of its
 * own, so waiting there delays no other call, J6) calls Begin_ with the
 * request's [in] data, waits for the Signal, calls Finish_ for the [out]
 * data and the result, and the reply goes as a synchronous method's would.
 * A Begin_ that fails is the call's result: no Signal is awaited, Finish_
 * is not called (as in-process, callobj.c's F_BEGIN_FAILED).
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
 * CoTestCancel on the call's thread (during Begin_), and, when it
 * implements ICancelMethodCalls itself, by a call of its Cancel(0) once
 * the waiting thread notices (project choice: the cancel reaches the
 * server's call object). The server still Signals; Finish_ is called and
 * its reply sent (the client discards a late reply, J7, J8).
 */
#include "remote.h"

#include <string.h>

typedef struct SrvCall {
    IUnknown unk;                       /* the controlling unknown */
    ICancelMethodCalls cancel;
    IAsyncManager manager;              /* RULES.md E8, as the in-process call objects have it */
    atomic_long refs;
    IUnknown *ev;                       /* the aggregated ManualResetEvent's inner unknown */
    IUnknown *inner;                    /* the server call object's inner unknown */
    pthread_mutex_t lock;
    AmrtInCall *ic;                     /* the incoming call while it runs (lock) */
    bool canceled;                      /* lock */
    bool forced;                        /* IAsyncManager::CompleteCall ended the call with 'result' (lock) */
    HRESULT result;
} SrvCall;

#define SC_FROM(p, field) ((SrvCall *)((char *)(p) - offsetof(SrvCall, field)))

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
    } else if (IsEqualIID(riid, &IID_ICancelMethodCalls)) {
        *ppv = &s->cancel;
    } else if (IsEqualIID(riid, &IID_IAsyncManager)) {
        *ppv = &s->manager;
    } else if (IsEqualIID(riid, &IID_ISynchronize) || IsEqualIID(riid, &IID_ISynchronizeHandle) ||
               IsEqualIID(riid, &IID_ISynchronizeEvent)) {
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

static HRESULT STDMETHODCALLTYPE scc_qi(ICancelMethodCalls *This, REFIID riid, void **ppv)
{
    return sc_qi(&SC_FROM(This, cancel)->unk, riid, ppv);
}

static ULONG STDMETHODCALLTYPE scc_addref(ICancelMethodCalls *This)
{
    return sc_addref(&SC_FROM(This, cancel)->unk);
}

static ULONG STDMETHODCALLTYPE scc_release(ICancelMethodCalls *This)
{
    return sc_release(&SC_FROM(This, cancel)->unk);
}

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

static HRESULT STDMETHODCALLTYPE scm_qi(IAsyncManager *This, REFIID riid, void **ppv)
{
    return sc_qi(&SC_FROM(This, manager)->unk, riid, ppv);
}

static ULONG STDMETHODCALLTYPE scm_addref(IAsyncManager *This)
{
    return sc_addref(&SC_FROM(This, manager)->unk);
}

static ULONG STDMETHODCALLTYPE scm_release(IAsyncManager *This)
{
    return sc_release(&SC_FROM(This, manager)->unk);
}

/* the call's event: signaled (poll), or signal it */
static bool sc_event(SrvCall *s, bool signal)
{
    ISynchronize *sync = NULL;
    if (FAILED(IUnknown_QueryInterface(s->ev, &IID_ISynchronize, (void **)&sync)) || !sync)
        return false;
    bool on = signal ? SUCCEEDED(ISynchronize_Signal(sync)) : ISynchronize_Wait(sync, 0, 0) == S_OK;
    ISynchronize_Release(sync);
    return on;
}

static HRESULT STDMETHODCALLTYPE scm_complete(IAsyncManager *This, HRESULT result)
{
    SrvCall *s = SC_FROM(This, manager);
    if (SUCCEEDED(result))
        return E_INVALIDARG;            /* a success would hand back outputs nobody produced */
    amrt__mutex_lock(&s->lock);
    bool done = s->forced || !s->ic || sc_event(s, false);
    if (!done) {
        s->forced = true;
        s->result = result;
    }
    amrt__mutex_unlock(&s->lock);
    if (done)
        return RPC_E_CALL_COMPLETE;
    sc_event(s, true);
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
    else if (forced || sc_event(s, false))
        *state = DCOM_CALL_COMPLETE;
    else
        *state = DCOM_NONE;
    return S_OK;
}

static const IAsyncManagerVtbl scm_vtbl = { scm_qi, scm_addref, scm_release, scm_complete, scm_context, scm_state };

/* The object's own call object for g's async IID, aggregated in a new
 * SrvCall; NULL when it has none (the synchronous method runs). */
static SrvCall *srvcall_new(AmrtInCall *ic, IUnknown *obj, const AmrtInterface *g, void **async)
{
    *async = NULL;
    if (!g->async_iid)
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
    s->cancel.lpVtbl = (ICancelMethodCallsVtbl *)&scc_vtbl;
    s->manager.lpVtbl = (IAsyncManagerVtbl *)&scm_vtbl;
    atomic_init(&s->refs, 1);
    pthread_mutex_init(&s->lock, NULL);
    s->ic = ic;
    HRESULT hr = CoCreateInstance(&CLSID_ManualResetEvent, &s->unk, CLSCTX_INPROC_SERVER, &IID_IUnknown,
                                  (void **)&s->ev);
    if (SUCCEEDED(hr) && s->ev)
        hr = ICallFactory_CreateCall(cf, g->async_iid, &s->unk, &IID_IUnknown, &s->inner);
    ICallFactory_Release(cf);
    if (SUCCEEDED(hr) && s->inner)
        hr = IUnknown_QueryInterface(s->inner, g->async_iid, async);
    if (FAILED(hr) || !s->ev || !s->inner || !*async) {
        if (*async)
            IUnknown_Release((IUnknown *)*async);
        *async = NULL;
        sc_release(&s->unk);
        return NULL;                    /* B15: CreateCall is not guaranteed to succeed */
    }
    return s;
}

/* Wait for the server's Signal; a cancel of the client's meanwhile is
 * passed on to the server call object's own ICancelMethodCalls, once. */
static void srvcall_wait(SrvCall *s)
{
    ISynchronize *sync = NULL;
    if (FAILED(IUnknown_QueryInterface(s->ev, &IID_ISynchronize, (void **)&sync)) || !sync)
        return;
    bool told = false;
    for (;;) {
        HRESULT hr = ISynchronize_Wait(sync, 0, told ? 50 : 10);
        if (hr != AMRT_WAIT_TIMEOUT)
            break;                      /* S_OK: signaled (a failure: nothing to wait with) */
        if (!told && sc_canceled(s)) {
            told = true;
            ICancelMethodCalls *own = NULL;
            if (SUCCEEDED(IUnknown_QueryInterface(s->inner, &IID_ICancelMethodCalls, (void **)&own)) && own) {
                if (own != &s->cancel)
                    ICancelMethodCalls_Cancel(own, 0);
                ICancelMethodCalls_Release(own);
            }
        }
    }
    ISynchronize_Release(sync);
}

bool amrt__srvasync_call(AmrtInCall *ic, IUnknown *obj, const AmrtInterface *g, const AmrtMethod *m, void **args,
                         void *ret)
{
    if (!m->begin || !m->finish)
        return false;
    void *async = NULL;
    SrvCall *s = srvcall_new(ic, obj, g, &async);
    if (!s)
        return false;                   /* the synchronous method, as Windows does */
    m->begin(async, args, ret);
    bool refused = m->ret_hresult && FAILED(*(HRESULT *)ret);
    if (!refused)
        srvcall_wait(s);
    amrt__mutex_lock(&s->lock);
    bool forced = s->forced;
    if (!forced)
        s->forced = true;               /* no CompleteCall from now on: the call is complete */
    amrt__mutex_unlock(&s->lock);
    if (forced && m->ret_hresult)
        *(HRESULT *)ret = s->result;    /* E8: CompleteCall's result; no Finish_ */
    else if (!refused && !forced)
        m->finish(async, args, ret);
    amrt__mutex_lock(&s->lock);
    s->ic = NULL;                       /* the record is conn.c's again once we return */
    amrt__mutex_unlock(&s->lock);
    IUnknown_Release((IUnknown *)async);
    sc_release(&s->unk);
    return true;
}
