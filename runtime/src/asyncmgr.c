/*
 * asyncmgr.c - IAsyncManager on call objects (RULES.md E8).
 */
#include "call.h"

/* ---- IAsyncManager (RULES.md E8: no Win32 page; this runtime's convenience) ----
 * GetState: DCOM_NONE while idle or running, DCOM_CALL_COMPLETE once the
 * call completed (or CompleteCall completed it), DCOM_CALL_CANCELED after
 * Cancel. CompleteCall(hr): completes a running call now with the failure
 * hr (Finish_ returns it, outputs untouched, the server's results are
 * discarded; the server sees CoTestCancel). GetCallContext: the call's
 * ICancelMethodCalls; RPC_E_NO_CONTEXT for anything else (F3). */

AMRT_DELEGATING_IUNKNOWN(manager, IAsyncManager, Call, manager)

static HRESULT STDMETHODCALLTYPE manager_complete(IAsyncManager *This, HRESULT result)
{
    Call *c = CALL_FROM(This, manager);
    if (SUCCEEDED(result))
        return E_INVALIDARG;            /* a success would hand back outputs nobody produced */
    amrt__call_lock(c);
    unsigned seq = atomic_load(&c->seq);
    Frame *f = amrt__call_if(c, seq);
    HRESULT hr = RPC_E_CALL_COMPLETE;
    if (f) {
        hr = amrt__mark_canceled(c, f);
        if (hr == S_OK) {
            f->forced = result;         /* Finish_ reads both under the lock */
            atomic_fetch_or(&f->fl, (unsigned)F_FORCED);
            if (amrt__frame_rcall(c, f))
                amrt__remote_async_cancel(amrt__frame_rcall(c, f), seq);
        } else if (hr == RPC_E_CALL_CANCELED && (amrt__call_flags(c, f) & F_FORCED))
            hr = RPC_E_CALL_COMPLETE;   /* completed by an earlier CompleteCall */
    }
    amrt__call_unlock(c);
    if (hr == S_OK)
        amrt__signal_call(c, seq);
    return hr;
}

static HRESULT STDMETHODCALLTYPE manager_context(IAsyncManager *This, REFIID riid, void **ppv)
{
    Call *c = CALL_FROM(This, manager);
    if (!ppv)
        return E_INVALIDARG;
    *ppv = NULL;
    if (IsEqualIID(riid, &IID_ICancelMethodCalls))
        return IUnknown_QueryInterface(c->outer, riid, ppv);
    return RPC_E_NO_CONTEXT;
}

static HRESULT STDMETHODCALLTYPE manager_state(IAsyncManager *This, ULONG *state)
{
    Call *c = CALL_FROM(This, manager);
    if (!state)
        return E_INVALIDARG;
    amrt__call_lock(c);
    Frame *f = amrt__call_if(c, atomic_load(&c->seq));
    unsigned fl = f ? amrt__call_flags(c, f) : 0;
    if (f && (fl & F_CANCELED) && !(fl & F_FORCED))
        *state = DCOM_CALL_CANCELED;
    else if (f && amrt__call_complete(c, fl))
        *state = DCOM_CALL_COMPLETE;
    else
        *state = DCOM_NONE;
    amrt__call_unlock(c);
    return S_OK;
}

const IAsyncManagerVtbl amrt__manager_vtbl = {
    manager_qi, manager_addref, manager_release, manager_complete, manager_context, manager_state,
};
