/*
 * oop-server.c - the server process of the two-process tests (tests/suites/oop.sh,
 * RULES.md J). An ordinary executable: it registers CLSID_OopTest with
 * CoRegisterClassObject(CLSCTX_LOCAL_SERVER), serves until a client calls
 * IOopTest::Quit or it gets SIGTERM (bounded: OOP_SERVER_LIFETIME seconds,
 * default 120, times AMIDL_TEST_TIMEOUT_MULTIPLIER), then revokes and
 * uninitializes; it exits 0 when every object it handed out was released.
 *
 *   oop-server -Embedding      started by the runtime through a class file (J2)
 *   oop-server --serve         started by the test; prints "ready PID" once registered
 *   add --single for REGCLS_SINGLEUSE (J1)
 * Without -Embedding or --serve it exits 2 (so J2 checks the argument).
 */
#define COBJMACROS
#include "amidlrt.h"
#include "oop.h"
#include "oop_serve.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_long live, running, canceled, refcalls;
static int quit_pipe[2] = { -1, -1 };

static void quit_now(void)
{
    char c = 'q';
    if (write(quit_pipe[1], &c, 1) < 0) { /* the main loop still ends at its limit */ }
}

static void on_term(int sig)
{
    (void)sig;
    quit_now();
}

/* ==================================================================== IOopTest */

typedef struct Obj { IOopTest iface; atomic_long refs; IOopNotify *kept; pthread_mutex_t lock; } Obj;

static IOopTest *new_obj(void);

static HRESULT STDMETHODCALLTYPE o_qi(IOopTest *This, REFIID riid, void **ppv)
{
    return oop_qi_single(This, &IID_IOopTest, riid, ppv);
}
static ULONG STDMETHODCALLTYPE o_addref(IOopTest *This) { return (ULONG)atomic_fetch_add(&((Obj *)This)->refs, 1) + 1; }
/* what goes with the object */
static void o_cleanup(void *block)
{
    Obj *o = block;
    if (o->kept)
        IOopNotify_Release(o->kept);
    pthread_mutex_destroy(&o->lock);
}
static ULONG STDMETHODCALLTYPE o_release(IOopTest *This) { return oop_release(&((Obj *)This)->refs, This, &live, o_cleanup); }
static HRESULT STDMETHODCALLTYPE o_add(IOopTest *This, LONG a, LONG b, LONG *sum)
{
    (void)This;
    *sum = a + b;
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE o_slow(IOopTest *This, DWORD ms, LONG *was_canceled)
{
    (void)This;
    atomic_fetch_add(&running, 1);
    *was_canceled = 0;
    HRESULT hr = S_OK;
    for (DWORD t = 0; t < ms; t += 2) {
        if (CoTestCancel() == RPC_E_CALL_CANCELED) {
            *was_canceled = 1;
            atomic_fetch_add(&canceled, 1);
            hr = RPC_E_CALL_CANCELED;
            break;
        }
        nanosleep(&(struct timespec){ 0, 2000000 }, NULL);
    }
    atomic_fetch_sub(&running, 1);
    return hr;
}
static HRESULT STDMETHODCALLTYPE o_concat(IOopTest *This, LPCWSTR a, LPCSTR b, LPWSTR *wide, LPSTR *narrow)
{
    (void)This;
    size_t na = 0, nb = strlen(b);
    while (a[na])
        na++;
    WCHAR *w = CoTaskMemAlloc((na + nb + 1) * sizeof(WCHAR));
    char *n = CoTaskMemAlloc(na + nb + 1);
    if (!w || !n) {
        CoTaskMemFree(w);
        CoTaskMemFree(n);
        return E_OUTOFMEMORY;
    }
    for (size_t i = 0; i < na; i++) {
        w[i] = a[i];
        n[i] = (char)a[i];
    }
    for (size_t i = 0; i <= nb; i++) {
        w[na + i] = (WCHAR)(unsigned char)b[i];
        n[na + i] = b[i];
    }
    *wide = w;
    *narrow = n;
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE o_sum(IOopTest *This, ULONG n, const LONG *data, LONG *sum)
{
    (void)This;
    uint32_t s = 0;         /* wraps: corrupted requests (J13) may carry any values */
    for (ULONG i = 0; i < n; i++)
        s += (uint32_t)data[i];
    *sum = (LONG)s;
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE o_twice(IOopTest *This, LONG *v) { (void)This; *v *= 2; return S_OK; }
static HRESULT STDMETHODCALLTYPE o_ref(IOopTest *This, LONG *v, LONG *got)
{
    (void)This;
    atomic_fetch_add(&refcalls, 1);
    *got = *v;
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE o_bstr(IOopTest *This, BSTR in, BSTR *out)
{
    (void)This;
    UINT n = SysStringLen(in);
    BSTR r = SysAllocStringLen(NULL, n * 2);
    if (!r)
        return E_OUTOFMEMORY;
    for (UINT i = 0; i < n; i++)
        r[i] = r[n + i] = in[i];
    *out = r;
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE o_fail(IOopTest *This, HRESULT hr) { (void)This; return hr; }
static HRESULT STDMETHODCALLTYPE o_pid(IOopTest *This, DWORD *pid) { (void)This; *pid = (DWORD)getpid(); return S_OK; }
static HRESULT STDMETHODCALLTYPE o_stats(IOopTest *This, LONG *l, LONG *r, LONG *c, LONG *refs)
{
    (void)This;
    *l = (LONG)atomic_load(&live);
    *r = (LONG)atomic_load(&running);
    *c = (LONG)atomic_load(&canceled);
    *refs = (LONG)atomic_load(&refcalls);
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE o_create(IOopTest *This, IOopTest **obj)
{
    (void)This;
    *obj = new_obj();
    return *obj ? S_OK : E_OUTOFMEMORY;
}
static HRESULT STDMETHODCALLTYPE o_callback(IOopTest *This, IOopNotify *cb, LONG value, LONG *echo)
{
    (void)This;
    if (!cb)
        return E_POINTER;
    return IOopNotify_Notify(cb, value, echo);
}
static HRESULT STDMETHODCALLTYPE o_keep(IOopTest *This, IOopNotify *cb)
{
    Obj *o = (Obj *)This;
    if (cb)
        IOopNotify_AddRef(cb);
    pthread_mutex_lock(&o->lock);
    IOopNotify *old = o->kept;
    o->kept = cb;
    pthread_mutex_unlock(&o->lock);
    if (old)
        IOopNotify_Release(old);
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE o_give(IOopTest *This, IOopNotify **cb)
{
    Obj *o = (Obj *)This;
    pthread_mutex_lock(&o->lock);
    *cb = o->kept;
    if (*cb)
        IOopNotify_AddRef(*cb);
    pthread_mutex_unlock(&o->lock);
    return *cb ? S_OK : E_FAIL;
}
static HRESULT STDMETHODCALLTYPE o_who(IOopTest *This, DWORD *uid, DWORD *pid, HRESULT *ctx)
{
    (void)This;
    *uid = *pid = 0;
    IServerSecurity *ss = NULL;
    *ctx = CoGetCallContext(&IID_IServerSecurity, (void **)&ss);
    if (FAILED(*ctx))
        return S_OK;
    void *privs = NULL;
    OLECHAR *server = NULL;
    DWORD level = 0;
    HRESULT hr = IServerSecurity_QueryBlanket(ss, NULL, NULL, &server, &level, NULL, &privs, NULL);
    if (SUCCEEDED(hr) && privs) {
        char t[64];
        const WCHAR *w = privs;
        size_t i = 0;
        for (; w[i] && i + 1 < sizeof t; i++)
            t[i] = (char)w[i];
        t[i] = 0;
        unsigned u = 0;
        int p = 0;
        if (sscanf(t, "uid=%u pid=%d", &u, &p) == 2) {
            *uid = u;
            *pid = (DWORD)p;
        }
    }
    CoTaskMemFree(server);
    if (IServerSecurity_IsImpersonating(ss) || FAILED(IServerSecurity_ImpersonateClient(ss)) ||
        !IServerSecurity_IsImpersonating(ss) || FAILED(IServerSecurity_RevertToSelf(ss)))
        *ctx = E_FAIL;
    IServerSecurity_Release(ss);
    return hr;
}
static HRESULT STDMETHODCALLTYPE o_pipe(IOopTest *This, HANDLE in, HANDLE *out, LONG *got)
{
    (void)This;
    *out = NULL;
    *got = -1;
    int fd = (int)(intptr_t)in;
    char buf[64];
    ssize_t n = fd > 0 ? read(fd, buf, sizeof buf) : -1;
    if (n < 0)
        return E_HANDLE;
    *got = (LONG)n;
    int p[2];
    if (pipe(p) != 0)
        return E_OUTOFMEMORY;
    if (write(p[1], "pong", 4) != 4) {
        close(p[0]);
        close(p[1]);
        return E_FAIL;
    }
    close(p[1]);
    *out = (HANDLE)(intptr_t)p[0];      /* the caller's now: the runtime closes ours after the reply */
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE o_local(IOopTest *This, LONG v)
{
    (void)This;
    (void)v;
    fprintf(stderr, "oop-server: the [local] method was called from another process\n");
    abort();
}
static HRESULT STDMETHODCALLTYPE o_quit(IOopTest *This)
{
    (void)This;
    quit_now();
    return S_OK;
}

static IOopTestVtbl obj_vtbl = { o_qi, o_addref, o_release, o_add, o_slow, o_concat, o_sum, o_twice, o_ref,
                                 o_bstr, o_fail, o_pid, o_stats, o_create, o_callback, o_keep, o_give, o_who, o_pipe, o_local, o_quit };

static IOopTest *new_obj(void)
{
    Obj *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->iface.lpVtbl = &obj_vtbl;
    atomic_init(&o->refs, 1);
    pthread_mutex_init(&o->lock, NULL);
    atomic_fetch_add(&live, 1);
    return &o->iface;
}

/* ==================================================================== the class factory */

static HRESULT create(REFIID riid, void **ppv)
{
    IOopTest *o = new_obj();
    return o ? oop_hand_out(o, riid, ppv) : E_OUTOFMEMORY;
}
static OopFactory factory = OOP_FACTORY(create);

int main(int argc, char **argv)
{
    bool embedding = false, serve = false, single = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-Embedding") == 0)
            embedding = true;
        else if (strcmp(argv[i], "--serve") == 0)
            serve = true;
        else if (strcmp(argv[i], "--single") == 0)
            single = true;
    }
    if (!embedding && !serve) {
        fprintf(stderr, "oop-server: neither -Embedding nor --serve\n");
        return 2;
    }
    if (pipe(quit_pipe) != 0)
        return 1;
    signal(SIGTERM, on_term);
    signal(SIGPIPE, SIG_IGN);
    HRESULT hr = CoInitializeEx(NULL, COINIT_MULTITHREADED);
    if (FAILED(hr)) {
        fprintf(stderr, "oop-server: CoInitializeEx: 0x%08x\n", (unsigned)hr);
        return 1;
    }
    IUnknown *none = NULL;
    if (CoGetCallContext(&IID_IServerSecurity, (void **)&none) != RPC_E_NO_CONTEXT) {
        fprintf(stderr, "oop-server: CoGetCallContext(IID_IServerSecurity) outside a call is not RPC_E_NO_CONTEXT\n");
        return 5;
    }
    DWORD cookie = 0;
    hr = CoRegisterClassObject(&CLSID_OopTest, (IUnknown *)&factory.iface, CLSCTX_LOCAL_SERVER,
                               single ? REGCLS_SINGLEUSE : REGCLS_MULTIPLEUSE, &cookie);
    if (FAILED(hr)) {
        fprintf(stderr, "oop-server: CoRegisterClassObject: 0x%08x\n", (unsigned)hr);
        CoUninitialize();
        return 1;
    }
    if (serve) {
        printf("ready %d\n", (int)getpid());
        fflush(stdout);
    }
    const char *l = getenv("OOP_SERVER_LIFETIME"), *mul = getenv("AMIDL_TEST_TIMEOUT_MULTIPLIER");
    long secs = (l && atol(l) > 0 ? atol(l) : 120) * (mul && atol(mul) > 0 ? atol(mul) : 1);
    struct pollfd p = { quit_pipe[0], POLLIN, 0 };
    int r;
    do
        r = poll(&p, 1, (int)(secs * 1000));
    while (r < 0 && errno == EINTR);
    CoRevokeClassObject(cookie);
    CoUninitialize();
    long left = atomic_load(&live);
    if (left) {
        fprintf(stderr, "oop-server: %ld objects still alive at exit\n", left);
        return 3;
    }
    return r > 0 ? 0 : 4;       /* 4: its lifetime ran out */
}
