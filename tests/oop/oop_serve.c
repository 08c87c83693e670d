/* oop_serve.c - what the two-process tests share: their checks' count and
 * time limits, the class factory and serving loop, a client's first object
 * and call objects, a server's own call objects, and the count of the
 * pool's threads (oop_serve.h). */
#define COBJMACROS
#include "oop_serve.h"

#include <dirent.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int failures;

DWORD oop_mult(void)
{
    const char *m = getenv("AMIDL_TEST_TIMEOUT_MULTIPLIER");
    return m && atoi(m) > 0 ? (DWORD)atoi(m) : 1;
}

DWORD hang_ms(void) { return 20000 * oop_mult(); }

void sleep_ms(long ms) { nanosleep(&(struct timespec){ ms / 1000, (ms % 1000) * 1000000L }, NULL); }

static HRESULT STDMETHODCALLTYPE f_qi(IClassFactory *This, REFIID riid, void **ppv)
{
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IClassFactory)) {
        *ppv = This;
        return S_OK;
    }
    *ppv = NULL;
    return E_NOINTERFACE;
}
static ULONG STDMETHODCALLTYPE f_addref(IClassFactory *This) { (void)This; return 2; }
static ULONG STDMETHODCALLTYPE f_release(IClassFactory *This) { (void)This; return 1; }
static HRESULT STDMETHODCALLTYPE f_create(IClassFactory *This, IUnknown *outer, REFIID riid, void **ppv)
{
    *ppv = NULL;
    return outer ? CLASS_E_NOAGGREGATION : ((OopFactory *)This)->create(riid, ppv);
}
static HRESULT STDMETHODCALLTYPE f_lock(IClassFactory *This, BOOL lock) { (void)This; (void)lock; return S_OK; }
IClassFactoryVtbl oop_factory_vtbl = { f_qi, f_addref, f_release, f_create, f_lock };

static int quit_pipe[2];
static void on_term(int sig) { (void)sig; char c = 'q'; if (write(quit_pipe[1], &c, 1) < 0) { /* ends at its limit */ } }

int oop_serve(const CLSID *clsid, OopFactory *factory, atomic_long *live, const char *who)
{
    if (pipe(quit_pipe) != 0 || FAILED(CoInitializeEx(NULL, COINIT_MULTITHREADED)))
        return 1;
    signal(SIGTERM, on_term);
    DWORD cookie;
    HRESULT hr = CoRegisterClassObject(clsid, (IUnknown *)&factory->iface, CLSCTX_LOCAL_SERVER, REGCLS_MULTIPLEUSE,
                                       &cookie);
    if (FAILED(hr)) {
        fprintf(stderr, "%s: CoRegisterClassObject: 0x%08x\n", who, (unsigned)hr);
        return 1;
    }
    printf("ready %d\n", (int)getpid());
    fflush(stdout);
    struct pollfd p = { quit_pipe[0], POLLIN, 0 };
    while (poll(&p, 1, 300000) < 0)
        ;
    CoRevokeClassObject(cookie);
    CoUninitialize();
    if (atomic_load(live)) {
        fprintf(stderr, "%s: %ld objects still alive\n", who, (long)atomic_load(live));
        return 3;
    }
    return 0;
}

HRESULT oop_qi_single(void *This, const IID *iid, REFIID riid, void **ppv)
{
    if (IsEqualIID(riid, &IID_IUnknown) || (iid && IsEqualIID(riid, iid))) {
        *ppv = This;
        IUnknown_AddRef((IUnknown *)This);
        return S_OK;
    }
    *ppv = NULL;
    return E_NOINTERFACE;
}

HRESULT oop_hand_out(void *obj, REFIID riid, void **ppv)
{
    HRESULT hr = IUnknown_QueryInterface((IUnknown *)obj, riid, ppv);
    IUnknown_Release((IUnknown *)obj);
    return hr;
}

ULONG oop_release(atomic_long *refs, void *block, atomic_long *live, void (*cleanup)(void *block))
{
    long r = atomic_fetch_sub(refs, 1) - 1;
    if (r == 0) {
        if (cleanup)
            cleanup(block);
        free(block);
        atomic_fetch_sub(live, 1);
    }
    return (ULONG)r;
}

/* ==================================================================== a server's own call objects */

#define OC_INNER(p) ((OopCall *)((char *)(p) - offsetof(OopCall, inner)))
#define OC_CANCEL(p) ((OopCall *)((char *)(p) - offsetof(OopCall, cancel)))

static HRESULT STDMETHODCALLTYPE oci_qi(IUnknown *This, REFIID riid, void **ppv)
{
    OopCall *c = OC_INNER(This);
    *ppv = NULL;
    if (IsEqualIID(riid, &IID_IUnknown))
        *ppv = &c->inner;
    else if (IsEqualIID(riid, &IID_ICancelMethodCalls))
        *ppv = &c->cancel;
    else if (c->ev && (IsEqualIID(riid, &IID_ISynchronize) || IsEqualIID(riid, &IID_ISynchronizeHandle)))
        return IUnknown_QueryInterface(c->ev, riid, ppv);
    else {
        for (int i = 0; i < 3 && c->kind->iids[i]; i++)
            if (IsEqualIID(riid, c->kind->iids[i]))
                *ppv = &c->async;
        if (!*ppv)
            return E_NOINTERFACE;
    }
    IUnknown_AddRef((IUnknown *)*ppv);
    return S_OK;
}
static ULONG STDMETHODCALLTYPE oci_addref(IUnknown *This) { return (ULONG)atomic_fetch_add(&OC_INNER(This)->refs, 1) + 1; }
static ULONG STDMETHODCALLTYPE oci_release(IUnknown *This)
{
    OopCall *c = OC_INNER(This);
    long r = atomic_fetch_sub(&c->refs, 1) - 1;
    if (r == 0) {
        atomic_store(&c->refs, 1);      /* the event may AddRef and Release us while it goes */
        if (c->ev)
            IUnknown_Release(c->ev);
        atomic_long *live = c->kind->live;
        free(c);
        atomic_fetch_sub(live, 1);
    }
    return (ULONG)r;
}
static IUnknownVtbl oci_vtbl = { oci_qi, oci_addref, oci_release };

static HRESULT STDMETHODCALLTYPE occ_qi(ICancelMethodCalls *This, REFIID riid, void **ppv)
{
    return IUnknown_QueryInterface(OC_CANCEL(This)->outer, riid, ppv);
}
static ULONG STDMETHODCALLTYPE occ_addref(ICancelMethodCalls *This) { return IUnknown_AddRef(OC_CANCEL(This)->outer); }
static ULONG STDMETHODCALLTYPE occ_release(ICancelMethodCalls *This) { return IUnknown_Release(OC_CANCEL(This)->outer); }
static HRESULT STDMETHODCALLTYPE occ_cancel(ICancelMethodCalls *This, ULONG seconds)
{
    (void)seconds;
    OopCall *c = OC_CANCEL(This);
    if (atomic_exchange(&c->own_canceled, true))
        return RPC_E_CALL_CANCELED;
    atomic_fetch_add(c->kind->told, 1);
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE occ_test(ICancelMethodCalls *This)
{
    return atomic_load(&OC_CANCEL(This)->own_canceled) ? RPC_E_CALL_CANCELED : RPC_S_CALLPENDING;
}
static ICancelMethodCallsVtbl occ_vtbl = { occ_qi, occ_addref, occ_release, occ_cancel, occ_test };

HRESULT oop_call_create(const OopCallKind *kind, size_t size, void *async_vtbl, REFIID riid, IUnknown *outer,
                        REFIID riid2, IUnknown **ppv)
{
    if (!ppv)
        return E_POINTER;
    *ppv = NULL;
    bool known = false;
    for (int i = 0; i < 3 && kind->iids[i]; i++)
        known |= IsEqualIID(riid, kind->iids[i]);
    if (!known)
        return E_NOINTERFACE;           /* B2 */
    if (!outer && kind->aggregated_only)
        return E_INVALIDARG;
    if (outer && !IsEqualIID(riid2, &IID_IUnknown))
        return CLASS_E_NOAGGREGATION;   /* B4 */
    OopCall *c = calloc(1, size < sizeof *c ? sizeof *c : size);
    if (!c)
        return E_OUTOFMEMORY;
    c->inner.lpVtbl = &oci_vtbl;
    c->async.lpVtbl = async_vtbl;
    c->cancel.lpVtbl = &occ_vtbl;
    atomic_init(&c->refs, 1);
    c->kind = kind;
    c->outer = outer ? outer : &c->inner;
    atomic_fetch_add(kind->live, 1);
    if (kind->made)
        atomic_fetch_add(kind->made, 1);
    if (outer) {
        *ppv = &c->inner;               /* E3: the inner, non-delegating unknown */
        return S_OK;
    }
    HRESULT hr = CoCreateInstance(&CLSID_ManualResetEvent, &c->inner, CLSCTX_INPROC_SERVER, &IID_IUnknown,
                                  (void **)&c->ev);
    if (SUCCEEDED(hr))
        hr = oci_qi(&c->inner, riid2, (void **)ppv);
    oci_release(&c->inner);
    return hr;
}

void oop_call_signal(OopCall *c)
{
    ISynchronize *sync = NULL;
    if (SUCCEEDED(IUnknown_QueryInterface(c->outer, &IID_ISynchronize, (void **)&sync)) && sync) {
        ISynchronize_Signal(sync);      /* E2, E3: the controlling unknown's */
        ISynchronize_Release(sync);
    }
}

HRESULT oop_call_start(OopCall *c, void *(*work)(void *), void *arg)
{
    /* (own_canceled is not reset here: a call canceled before it began is
     * told so before its Begin_, docs/remoting.md; one call per object) */
    IUnknown_AddRef(c->outer);
    pthread_t th;
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    int e = pthread_create(&th, &a, work, arg);
    pthread_attr_destroy(&a);
    if (e != 0) {
        IUnknown_Release(c->outer);
        return E_OUTOFMEMORY;
    }
    return S_OK;                        /* E6: quickly; the work goes on */
}

bool oop_call_work(OopCall *c, long ms, atomic_long *canceled)
{
    ICancelMethodCalls *cm = NULL;
    IUnknown_QueryInterface(c->outer, &IID_ICancelMethodCalls, (void **)&cm);     /* the controlling unknown's */
    bool was = false;
    for (long t = 0; t < ms; t += 2) {
        if (cm && ICancelMethodCalls_TestCancel(cm) == RPC_E_CALL_CANCELED) {
            atomic_fetch_add(canceled, 1);
            /* the runtime tells our own ICancelMethodCalls too: wait for it (bounded) */
            for (long w = 0; w < hang_ms() && !atomic_load(&c->own_canceled); w += 2)
                sleep_ms(2);
            was = true;
            break;
        }
        sleep_ms(2);
    }
    if (cm)
        ICancelMethodCalls_Release(cm);
    return was;
}

void oop_call_end(OopCall *c)
{
    oop_call_signal(c);
    IUnknown_Release(c->outer);         /* last: the aggregate may go with it */
}

/* ==================================================================== the client */

HRESULT oop_create(const CLSID *clsid, REFIID riid, void **ppv)
{
    *ppv = NULL;
    HRESULT hr = CoCreateInstance(clsid, NULL, CLSCTX_LOCAL_SERVER, riid, ppv);
    if (FAILED(hr))
        fprintf(stderr, "CoCreateInstance: 0x%08x\n", (unsigned)hr);
    return hr;
}

void *oop_new_call(void *obj, REFIID iid)
{
    ICallFactory *cf = NULL;
    IUnknown *c = NULL;
    EXPECT_HR(S_OK, IUnknown_QueryInterface((IUnknown *)obj, &IID_ICallFactory, (void **)&cf));
    if (cf) {
        EXPECT_HR(S_OK, ICallFactory_CreateCall(cf, iid, NULL, iid, &c));
        ICallFactory_Release(cf);
    }
    return c;
}

/* the threads of this process named amrt-worker: the pool's (bounded: 4096 entries) */
int oop_pool_workers(void)
{
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    for (int i = 0; i < 4096 && (e = readdir(d)); i++) {
        char path[64], comm[32] = "";
        snprintf(path, sizeof path, "/proc/self/task/%.20s/comm", e->d_name);
        FILE *f = e->d_name[0] != '.' ? fopen(path, "r") : NULL;
        if (!f)
            continue;
        if (fgets(comm, sizeof comm, f) && strncmp(comm, "amrt-worker", 11) == 0)
            n++;
        fclose(f);
    }
    closedir(d);
    return n;
}
