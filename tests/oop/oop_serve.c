/* oop_serve.c - the two-process tests' class factory and serving loop,
 * and the count of the pool's threads (oop_serve.h). */
#define COBJMACROS
#include "oop_serve.h"

#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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
