/*
 * amidl.c - amidl's cross-process COM (RULES.md section J): the server
 * registers an IOopCalc class with CoRegisterClassObject(CLSCTX_LOCAL_SERVER,
 * REGCLS_MULTIPLEUSE) and serves; the client, another process, gets a proxy
 * with CoCreateInstance(CLSCTX_LOCAL_SERVER) and calls IOopCalc::Add
 * synchronously (round trip), or through 64 call objects from ICallFactory,
 * Begin_Add/Finish_Add, 64 in flight (pipelined). Rendezvous: the runtime's
 * own, in $XDG_RUNTIME_DIR (the driver gives both processes a private one);
 * the socket path argument is not used.
 *
 * The client first asks the object for its process id, and refuses to
 * measure a server that runs in its own process.
 *
 * Heap allocations per call on a reused call object: counted both by the
 * runtime's allocator (AmrtFailAllocationAfter(-1) returns the count) and
 * by this executable's malloc, which wraps glibc's (every thread, every
 * library of the process); the server counts its own mallocs the same way.
 * One executable: "amidl server PATH" or "amidl client PATH".
 */
#define COBJMACROS
#include "harness.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "amidlrt.h"
#include "amidlrt_test.h"     /* AmrtFailAllocationAfter: the runtime's allocation count */
#include "oopcalc.h"

/* ---------------------------------------------------------------- counted malloc */

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static _Atomic long mallocs;

void *malloc(size_t n)
{
    atomic_fetch_add_explicit(&mallocs, 1, memory_order_relaxed);
    return __libc_malloc(n);
}

void *calloc(size_t k, size_t n)
{
    atomic_fetch_add_explicit(&mallocs, 1, memory_order_relaxed);
    return __libc_calloc(k, n);
}

void *realloc(void *p, size_t n)
{
    atomic_fetch_add_explicit(&mallocs, 1, memory_order_relaxed);
    return __libc_realloc(p, n);
}

void *memalign(size_t a, size_t n)
{
    atomic_fetch_add_explicit(&mallocs, 1, memory_order_relaxed);
    return __libc_memalign(a, n);
}

void *aligned_alloc(size_t a, size_t n)
{
    return memalign(a, n);
}

int posix_memalign(void **pp, size_t a, size_t n)
{
    void *p = memalign(a, n);
    if (!p)
        return 12;      /* ENOMEM */
    *pp = p;
    return 0;
}

void free(void *p)
{
    __libc_free(p);
}

static long malloc_count(void)
{
    return atomic_load(&mallocs);
}

/* ---------------------------------------------------------------- the server */

static const CLSID CLSID_OopCalc = { 0x630dd1d7, 0xa724, 0x4643, { 0xa4, 0x13, 0x7a, 0x5a, 0x9b, 0x83, 0xe0, 0x87 } };

typedef struct Calc {
    IOopCalc iface;
    atomic_long refs;
} Calc;

static HRESULT STDMETHODCALLTYPE calc_qi(IOopCalc *This, REFIID riid, void **ppv)
{
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IOopCalc)) {
        *ppv = This;
        IOopCalc_AddRef(This);
        return S_OK;
    }
    *ppv = NULL;
    return E_NOINTERFACE;
}

static ULONG STDMETHODCALLTYPE calc_addref(IOopCalc *This)
{
    return (ULONG)atomic_fetch_add(&((Calc *)This)->refs, 1) + 1;
}

static ULONG STDMETHODCALLTYPE calc_release(IOopCalc *This)
{
    long left = atomic_fetch_sub(&((Calc *)This)->refs, 1) - 1;
    if (!left)
        free(This);
    return (ULONG)left;
}

static HRESULT STDMETHODCALLTYPE calc_add(IOopCalc *This, LONG a, LONG b, LONG *sum)
{
    (void)This;
    *sum = a + b;
    return S_OK;
}

static HRESULT STDMETHODCALLTYPE calc_pid(IOopCalc *This, LONG *pid)
{
    (void)This;
    *pid = (LONG)getpid();
    return S_OK;
}

static IOopCalcVtbl calc_vtbl = { calc_qi, calc_addref, calc_release, calc_add, calc_pid };

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
    (void)This;
    *ppv = NULL;
    if (outer)
        return CLASS_E_NOAGGREGATION;
    Calc *c = calloc(1, sizeof *c);
    if (!c)
        return E_OUTOFMEMORY;
    c->iface.lpVtbl = &calc_vtbl;
    atomic_init(&c->refs, 1);
    HRESULT hr = IOopCalc_QueryInterface(&c->iface, riid, ppv);
    IOopCalc_Release(&c->iface);
    return hr;
}

static HRESULT STDMETHODCALLTYPE f_lock(IClassFactory *This, BOOL lock) { (void)This, (void)lock; return S_OK; }
static IClassFactoryVtbl factory_vtbl = { f_qi, f_addref, f_release, f_create, f_lock };
static IClassFactory factory = { &factory_vtbl };

static void server(void)
{
    DWORD cookie;
    HRESULT hr = CoInitializeEx(NULL, COINIT_MULTITHREADED);
    if (FAILED(hr))
        oop_die("CoInitializeEx: 0x%08x", (unsigned)hr);
    hr = CoRegisterClassObject(&CLSID_OopCalc, (IUnknown *)&factory, CLSCTX_LOCAL_SERVER, REGCLS_MULTIPLEUSE, &cookie);
    if (FAILED(hr))
        oop_die("CoRegisterClassObject: 0x%08x", (unsigned)hr);
    oop_server_counter(malloc_count);
    oop_server_ready();
    for (;;)
        pause();        /* the runtime serves; end of stdin ends the process */
}

/* ---------------------------------------------------------------- the client */

static IOopCalc *calc;
static AsyncIOopCalc *calls[OOP_DEPTH];

static int c_connect(const char *path)
{
    (void)path;
    LONG pid = 0;
    HRESULT hr = CoInitializeEx(NULL, COINIT_MULTITHREADED);
    if (FAILED(hr))
        return oop_error("CoInitializeEx: 0x%08x", (unsigned)hr);
    hr = CoCreateInstance(&CLSID_OopCalc, NULL, CLSCTX_LOCAL_SERVER, &IID_IOopCalc, (void **)&calc);
    if (FAILED(hr))
        return oop_error("CoCreateInstance(CLSCTX_LOCAL_SERVER): 0x%08x", (unsigned)hr);
    hr = IOopCalc_Pid(calc, &pid);
    if (FAILED(hr))
        return oop_error("IOopCalc::Pid: 0x%08x", (unsigned)hr);
    if (pid == (LONG)getpid())
        return oop_error("the object runs in the client's own process, not across processes");
    ICallFactory *f;
    hr = IOopCalc_QueryInterface(calc, &IID_ICallFactory, (void **)&f);
    if (FAILED(hr))
        return oop_error("QueryInterface(ICallFactory): 0x%08x", (unsigned)hr);
    for (int i = 0; i < OOP_DEPTH && SUCCEEDED(hr); i++)
        hr = ICallFactory_CreateCall(f, &IID_AsyncIOopCalc, NULL, &IID_AsyncIOopCalc, (IUnknown **)&calls[i]);
    ICallFactory_Release(f);
    if (FAILED(hr))
        return oop_error("ICallFactory::CreateCall: 0x%08x", (unsigned)hr);
    return 0;
}

static int c_rt(long n)
{
    for (long i = 0; i < n; i++) {
        LONG sum = 0;
        HRESULT hr = IOopCalc_Add(calc, (LONG)i, 1, &sum);
        if (FAILED(hr))
            return oop_error("IOopCalc::Add: 0x%08x", (unsigned)hr);
        if (oop_check((int)i, 1, sum) < 0)
            return -1;
    }
    return 0;
}

static int begin(AsyncIOopCalc *c, long i)
{
    HRESULT hr = AsyncIOopCalc_Begin_Add(c, (LONG)i, 1);
    return FAILED(hr) ? oop_error("Begin_Add: 0x%08x", (unsigned)hr) : 0;
}

static int finish(AsyncIOopCalc *c, long i)
{
    LONG sum = 0;
    HRESULT hr = AsyncIOopCalc_Finish_Add(c, &sum);
    if (FAILED(hr))
        return oop_error("Finish_Add: 0x%08x", (unsigned)hr);
    return oop_check((int)i, 1, sum);
}

static int c_pipe(long n, int depth)
{
    for (long i = 0; i < depth && i < n; i++)
        if (begin(calls[i], i) < 0)
            return -1;
    for (long i = depth; i < n + depth; i++) {
        AsyncIOopCalc *c = calls[i % depth];
        if (i - depth < n && finish(c, i - depth) < 0)
            return -1;
        if (i < n && begin(c, i) < 0)
            return -1;
    }
    return 0;
}

/* on one reused call object, after a warm-up */
static int c_allocs(long n, double *runtime, double *per_malloc)
{
    for (long i = 0; i < 1000; i++)
        if (begin(calls[0], i) < 0 || finish(calls[0], i) < 0)
            return -1;
    AmrtFailAllocationAfter(-1);
    long m0 = malloc_count();
    for (long i = 0; i < n; i++)
        if (begin(calls[0], i) < 0 || finish(calls[0], i) < 0)
            return -1;
    long m1 = malloc_count();
    *runtime = (double)AmrtFailAllocationAfter(-1) / (double)n;
    *per_malloc = (double)(m1 - m0) / (double)n;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "server"))
        server();
    static const OopClient ops = { c_connect, c_rt, c_pipe, c_allocs };
    if (argc == 3 && !strcmp(argv[1], "client"))
        return oop_client_main(argc - 1, argv + 1, &ops);
    oop_die("usage: %s server|client PATH", argv[0]);
}
