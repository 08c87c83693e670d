/*
 * serverasync.c - server-side asynchronous calls (RULES.md E).
 *
 * The server object implements ISimpleStream *and* ICallFactory: it makes
 * its own call objects for AsyncISimpleStream. Each one is aggregatable
 * (E3): created by the runtime with the runtime's call object as the
 * controlling unknown, it runs Read on a thread of its own and, when done,
 * Signals the ISynchronize it gets from that controlling unknown (E2, E3).
 * Created without one, it exposes ISynchronize itself by aggregating a
 * CLSID_ManualResetEvent (E4). The client is the spec's, unchanged: it
 * cannot tell that the server did the asynchronous work itself.
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L     /* nanosleep, clock_gettime under -std=c11 */
#endif
#define COBJMACROS
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "amidlrt.h"
#include "simplestream.h"

static const char text[] = "Served asynchronously by the server's own call object.";
static atomic_int server_calls, live;
/* the slow part of the work waits for this (set by the client once it has
 * seen the call pending), so that the client's Wait times out on any
 * machine; bounded: a minute */
static atomic_int work_may_finish;

/* ==================================================================== the server's call object */

typedef struct SrvCall {
    IUnknown inner;
    AsyncISimpleStream async;
    atomic_long refs;
    IUnknown *outer;            /* controlling unknown */
    IUnknown *event;            /* our own ManualResetEvent when not aggregated (E4) */
    pthread_t thread;
    bool running;
    ULONG cb;                   /* Begin_Read's input */
    char data[128];             /* the results, for Finish_Read */
    ULONG got;
} SrvCall;

#define SC(p, f) ((SrvCall *)((char *)(p) - offsetof(SrvCall, f)))

static void *work(void *arg)
{
    SrvCall *c = arg;
    struct timespec ts = { 0, 1000000 };
    for (int i = 0; i < 60000 && !atomic_load(&work_may_finish); i++)
        nanosleep(&ts, NULL);                   /* the slow part */
    c->got = c->cb < sizeof text - 1 ? c->cb : (ULONG)(sizeof text - 1);
    memcpy(c->data, text, c->got);
    ISynchronize *s;
    if (SUCCEEDED(IUnknown_QueryInterface(c->outer, &IID_ISynchronize, (void **)&s))) {
        ISynchronize_Signal(s);                 /* E2: signal when the work is done */
        ISynchronize_Release(s);
    }
    IUnknown_Release(c->outer);                 /* the thread's reference */
    return NULL;
}

static HRESULT STDMETHODCALLTYPE sc_inner_qi(IUnknown *This, REFIID riid, void **ppv)
{
    SrvCall *c = SC(This, inner);
    if (IsEqualIID(riid, &IID_IUnknown))
        *ppv = &c->inner;
    else if (IsEqualIID(riid, &IID_AsyncISimpleStream))
        *ppv = &c->async;
    else if (c->event && IsEqualIID(riid, &IID_ISynchronize))
        return IUnknown_QueryInterface(c->event, riid, ppv);
    else {
        *ppv = NULL;
        return E_NOINTERFACE;
    }
    IUnknown_AddRef((IUnknown *)*ppv);
    return S_OK;
}
static ULONG STDMETHODCALLTYPE sc_inner_addref(IUnknown *This) { return (ULONG)atomic_fetch_add(&SC(This, inner)->refs, 1) + 1; }
/* The work thread is done with the call object once it is joined: its
 * Signal comes before its last Release, so the client may see the call
 * complete while the thread still holds a reference. */
static void join_work(SrvCall *c)
{
    if (!c->running)
        return;
    c->running = false;
    if (pthread_equal(c->thread, pthread_self()))
        pthread_detach(c->thread);              /* its own last Release freed us */
    else
        pthread_join(c->thread, NULL);
}

static ULONG STDMETHODCALLTYPE sc_inner_release(IUnknown *This)
{
    SrvCall *c = SC(This, inner);
    long left = atomic_fetch_sub(&c->refs, 1) - 1;
    if (!left) {
        join_work(c);
        if (c->event)
            IUnknown_Release(c->event);
        free(c);
        atomic_fetch_sub(&live, 1);
    }
    return (ULONG)left;
}
static IUnknownVtbl sc_inner_vtbl = { sc_inner_qi, sc_inner_addref, sc_inner_release };

static HRESULT STDMETHODCALLTYPE sa_qi(AsyncISimpleStream *This, REFIID riid, void **ppv)
{
    return IUnknown_QueryInterface(SC(This, async)->outer, riid, ppv);
}
static ULONG STDMETHODCALLTYPE sa_addref(AsyncISimpleStream *This) { return IUnknown_AddRef(SC(This, async)->outer); }
static ULONG STDMETHODCALLTYPE sa_release(AsyncISimpleStream *This) { return IUnknown_Release(SC(This, async)->outer); }

static HRESULT STDMETHODCALLTYPE sa_begin_read(AsyncISimpleStream *This, ULONG cb)
{
    SrvCall *c = SC(This, async);
    join_work(c);                               /* a call canceled before its Finish_ */
    c->cb = cb;
    IUnknown_AddRef(c->outer);                  /* the thread's reference */
    if (pthread_create(&c->thread, NULL, work, c) != 0) {   /* E6: return at once, work elsewhere */
        IUnknown_Release(c->outer);
        return E_OUTOFMEMORY;                   /* a refused Begin_: the runtime completes the call */
    }
    c->running = true;
    atomic_fetch_add(&server_calls, 1);
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE sa_finish_read(AsyncISimpleStream *This, char *pv, ULONG *pcbRead)
{
    SrvCall *c = SC(This, async);
    /* the thread has signaled; its Release of our controlling unknown
     * follows: wait for it, so that once the client's Finish_ returns no
     * thread of ours holds the client's call object (and through it this
     * object and the server), and the client's last Release frees them */
    join_work(c);
    memcpy(pv, c->data, c->got);
    *pcbRead = c->got;
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE sa_begin_write(AsyncISimpleStream *This, const char *pv, ULONG cb)
{
    (void)This; (void)pv; (void)cb;
    return E_NOTIMPL;       /* this server only reads asynchronously */
}
static HRESULT STDMETHODCALLTYPE sa_finish_write(AsyncISimpleStream *This, ULONG *pcbWritten)
{
    (void)This;
    *pcbWritten = 0;
    return E_NOTIMPL;
}
static AsyncISimpleStreamVtbl sa_vtbl = { sa_qi, sa_addref, sa_release, sa_begin_read, sa_finish_read,
                                          sa_begin_write, sa_finish_write };

/* ==================================================================== the server object */

typedef struct Server { ISimpleStream stream; ICallFactory factory; atomic_long refs; } Server;
#define SV(p, f) ((Server *)((char *)(p) - offsetof(Server, f)))

static HRESULT server_qi(Server *s, REFIID riid, void **ppv)
{
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_ISimpleStream))
        *ppv = &s->stream;
    else if (IsEqualIID(riid, &IID_ICallFactory))
        *ppv = &s->factory;
    else {
        *ppv = NULL;
        return E_NOINTERFACE;
    }
    atomic_fetch_add(&s->refs, 1);
    return S_OK;
}
static ULONG server_release(Server *s)
{
    long left = atomic_fetch_sub(&s->refs, 1) - 1;
    if (!left) {
        free(s);
        atomic_fetch_sub(&live, 1);
    }
    return (ULONG)left;
}
static HRESULT STDMETHODCALLTYPE st_qi(ISimpleStream *This, REFIID riid, void **ppv) { return server_qi(SV(This, stream), riid, ppv); }
static ULONG STDMETHODCALLTYPE st_addref(ISimpleStream *This) { return (ULONG)atomic_fetch_add(&SV(This, stream)->refs, 1) + 1; }
static ULONG STDMETHODCALLTYPE st_release(ISimpleStream *This) { return server_release(SV(This, stream)); }
static HRESULT STDMETHODCALLTYPE st_read(ISimpleStream *This, char *pv, ULONG cb, ULONG *pcbRead)
{
    (void)This;
    ULONG n = cb < sizeof text - 1 ? cb : (ULONG)(sizeof text - 1);
    memcpy(pv, text, n);
    *pcbRead = n;
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE st_write(ISimpleStream *This, const char *pv, ULONG cb, ULONG *pcbWritten)
{
    (void)This; (void)pv;
    *pcbWritten = cb;
    return S_OK;
}
static ISimpleStreamVtbl st_vtbl = { st_qi, st_addref, st_release, st_read, st_write };

static HRESULT STDMETHODCALLTYPE cf_qi(ICallFactory *This, REFIID riid, void **ppv) { return server_qi(SV(This, factory), riid, ppv); }
static ULONG STDMETHODCALLTYPE cf_addref(ICallFactory *This) { return (ULONG)atomic_fetch_add(&SV(This, factory)->refs, 1) + 1; }
static ULONG STDMETHODCALLTYPE cf_release(ICallFactory *This) { return server_release(SV(This, factory)); }

/* E1: this server makes call objects for AsyncISimpleStream (and no other) */
static HRESULT STDMETHODCALLTYPE cf_createcall(ICallFactory *This, REFIID riid, IUnknown *outer, REFIID riid2, IUnknown **ppv)
{
    (void)This;
    *ppv = NULL;
    if (!IsEqualIID(riid, &IID_AsyncISimpleStream))
        return E_NOINTERFACE;
    if (outer && !IsEqualIID(riid2, &IID_IUnknown))
        return CLASS_E_NOAGGREGATION;
    SrvCall *c = calloc(1, sizeof *c);
    if (!c)
        return E_OUTOFMEMORY;
    c->inner.lpVtbl = &sc_inner_vtbl;
    c->async.lpVtbl = &sa_vtbl;
    atomic_init(&c->refs, 1);
    c->outer = outer ? outer : &c->inner;
    atomic_fetch_add(&live, 1);
    if (!outer) {
        /* E4: not aggregated: expose ISynchronize through a ManualResetEvent of our own */
        HRESULT hr = CoCreateInstance(&CLSID_ManualResetEvent, &c->inner, CLSCTX_INPROC_SERVER, &IID_IUnknown,
                                      (void **)&c->event);
        if (FAILED(hr)) {
            sc_inner_release(&c->inner);
            return hr;
        }
    }
    if (outer) {
        *ppv = &c->inner;
        return S_OK;
    }
    HRESULT hr = sc_inner_qi(&c->inner, riid2, (void **)ppv);
    sc_inner_release(&c->inner);
    return hr;
}
static ICallFactoryVtbl cf_vtbl = { cf_qi, cf_addref, cf_release, cf_createcall };

int main(void)
{
    printf("serverasync: the server implements ICallFactory itself (server-side async)\n\n");
    if (FAILED(CoInitializeEx(NULL, COINIT_MULTITHREADED)))
        return 1;
    Server *srv = calloc(1, sizeof *srv);
    srv->stream.lpVtbl = &st_vtbl;
    srv->factory.lpVtbl = &cf_vtbl;
    atomic_init(&srv->refs, 1);
    atomic_fetch_add(&live, 1);

    /* the client's side: exactly the spec's steps, through the runtime's proxy */
    ISimpleStream *px = NULL;
    ICallFactory *f = NULL;
    AsyncISimpleStream *call = NULL;
    ISynchronize *sync = NULL;
    char buf[128] = {0};
    ULONG got = 0;
    HRESULT hr = AmrtCreateProxy((IUnknown *)&srv->stream, &IID_ISimpleStream, (void **)&px);
    ISimpleStream_Release(&srv->stream);
    printf("  AmrtCreateProxy(server)                        -> %s\n", AmrtHresultName(hr));
    if (FAILED(hr) || FAILED(ISimpleStream_QueryInterface(px, &IID_ICallFactory, (void **)&f)))
        return 2;
    hr = ICallFactory_CreateCall(f, &IID_AsyncISimpleStream, NULL, &IID_AsyncISimpleStream, (IUnknown **)&call);
    ICallFactory_Release(f);
    printf("  CreateCall(IID_AsyncISimpleStream)             -> %s\n", AmrtHresultName(hr));
    if (FAILED(hr))
        return 3;
    hr = AsyncISimpleStream_Begin_Read(call, sizeof buf);
    printf("  Begin_Read(128)                                -> %s\n", AmrtHresultName(hr));
    AsyncISimpleStream_QueryInterface(call, &IID_ISynchronize, (void **)&sync);
    HRESULT pending = ISynchronize_Wait(sync, 0, 25);
    printf("  Wait(25 ms) while the server works             -> %s\n", AmrtHresultName(pending));
    atomic_store(&work_may_finish, 1);
    hr = ISynchronize_Wait(sync, 0, INFINITE);
    printf("  Wait(INFINITE) once it may finish              -> %s\n", AmrtHresultName(hr));
    hr = AsyncISimpleStream_Finish_Read(call, buf, &got);
    printf("  Finish_Read                                    -> %s: \"%.*s\"\n", AmrtHresultName(hr),
           (int)got, buf);
    printf("  the server's call objects ran %d call(s)\n", atomic_load(&server_calls));
    ISynchronize_Release(sync);
    AsyncISimpleStream_Release(call);
    ISimpleStream_Release(px);
    CoUninitialize();
    printf("  live server objects and call objects: %d\n", atomic_load(&live));
    return hr == S_OK && atomic_load(&server_calls) == 1 && pending == RPC_E_TIMEOUT && atomic_load(&live) == 0 ? 0 : 4;
}
