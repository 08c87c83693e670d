/*
 * cancel.c - canceling an asynchronous call (RULES.md D).
 *
 * The server's Read is long (up to 10 s) and polls CoTestCancel() every
 * 10 ms, as a cooperative server should. The client starts it, cancels
 * it through the call object's ICancelMethodCalls, gets
 * RPC_E_CALL_CANCELED from Finish_Read, and sees the server stop soon
 * after: the call still ran on the server until it noticed.
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L     /* nanosleep, clock_gettime under -std=c11 */
#endif
#define COBJMACROS
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "amidlrt.h"
#include "simplestream.h"

static atomic_int server_saw_cancel, server_done;

typedef struct Obj { ISimpleStream iface; atomic_long refs; } Obj;
static HRESULT STDMETHODCALLTYPE qi(ISimpleStream *This, REFIID riid, void **ppv)
{
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_ISimpleStream)) {
        *ppv = This; ISimpleStream_AddRef(This); return S_OK;
    }
    *ppv = NULL;
    return E_NOINTERFACE;
}
static ULONG STDMETHODCALLTYPE addref(ISimpleStream *This) { return (ULONG)atomic_fetch_add(&((Obj *)This)->refs, 1) + 1; }
static ULONG STDMETHODCALLTYPE release(ISimpleStream *This)
{
    long r = atomic_fetch_sub(&((Obj *)This)->refs, 1) - 1;
    if (!r) free(This);
    return (ULONG)r;
}
static HRESULT STDMETHODCALLTYPE slow_read(ISimpleStream *This, char *pv, ULONG cb, ULONG *pcbRead)
{
    (void)This; (void)pv; (void)cb;
    *pcbRead = 0;
    for (int i = 0; i < 1000; i++) {            /* up to 10 s of work ... */
        if (CoTestCancel() == RPC_E_CALL_CANCELED) {    /* ... unless the client cancels */
            atomic_store(&server_saw_cancel, 1);
            atomic_store(&server_done, 1);
            return RPC_E_CALL_CANCELED;
        }
        struct timespec ts = { 0, 10 * 1000000 };
        nanosleep(&ts, NULL);
    }
    atomic_store(&server_done, 1);
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE write_(ISimpleStream *This, const char *pv, ULONG cb, ULONG *w)
{
    (void)This; (void)pv;
    *w = cb;
    return S_OK;
}
static ISimpleStreamVtbl vtbl = { qi, addref, release, slow_read, write_ };

int main(void)
{
    printf("cancel: a long call canceled through ICancelMethodCalls\n\n");
    CoInitializeEx(NULL, COINIT_MULTITHREADED);
    Obj *obj = calloc(1, sizeof *obj);
    obj->iface.lpVtbl = &vtbl;
    atomic_init(&obj->refs, 1);
    ISimpleStream *px;
    ICallFactory *f;
    AsyncISimpleStream *call;
    ICancelMethodCalls *cancel;
    AmrtCreateProxy((IUnknown *)&obj->iface, &IID_ISimpleStream, (void **)&px);
    ISimpleStream_Release(&obj->iface);
    ISimpleStream_QueryInterface(px, &IID_ICallFactory, (void **)&f);
    ICallFactory_CreateCall(f, &IID_AsyncISimpleStream, NULL, &IID_AsyncISimpleStream, (IUnknown **)&call);
    ICallFactory_Release(f);
    AsyncISimpleStream_QueryInterface(call, &IID_ICancelMethodCalls, (void **)&cancel);

    char buf[16];
    ULONG got = 99;
    HRESULT hr = AsyncISimpleStream_Begin_Read(call, sizeof buf);
    printf("  Begin_Read (the server works for up to 10 s)   -> %s\n", AmrtHresultName(hr));
    struct timespec ts = { 0, 100 * 1000000 };
    nanosleep(&ts, NULL);
    printf("  TestCancel before canceling                    -> %s\n",
           AmrtHresultName(ICancelMethodCalls_TestCancel(cancel)));
    hr = ICancelMethodCalls_Cancel(cancel, 0);
    printf("  Cancel(0)                                      -> %s\n", AmrtHresultName(hr));
    hr = AsyncISimpleStream_Begin_Read(call, sizeof buf);
    printf("  a new Begin_ before Finish_                    -> %s\n",     /* RPC_S_CALLPENDING's alias (B6) */
           hr == RPC_E_CALL_PENDING ? "RPC_E_CALL_PENDING" : AmrtHresultName(hr));
    HRESULT fin = AsyncISimpleStream_Finish_Read(call, buf, &got);
    printf("  Finish_Read                                    -> %s, pcbRead untouched (%lu)\n",
           AmrtHresultName(fin), (unsigned long)got);
    while (!atomic_load(&server_done))
        nanosleep(&ts, NULL);
    /* what shows that the cancellation reached the server is that it saw
     * it and returned before its work was done, not how soon (a loaded
     * machine may take its time) */
    bool stopped = atomic_load(&server_saw_cancel);
    printf("  the server noticed the cancellation (CoTestCancel) %s\n",
           stopped ? "and stopped before the end of its work" : "NOT: it did all its work");
    ICancelMethodCalls_Release(cancel);
    AsyncISimpleStream_Release(call);
    ISimpleStream_Release(px);
    CoUninitialize();
    return fin == RPC_E_CALL_CANCELED && got == 99 && stopped ? 0 : 1;
}
