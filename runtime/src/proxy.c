/*
 * proxy.c - the registry of glue tables, and proxies (RULES.md I4, B16, E7).
 *
 * A proxy plays COM's proxy manager for an object the program holds: it
 * answers IUnknown and ICallFactory itself, and for an interface whose glue
 * is registered and which the object supports, it hands out a proxy
 * interface (the glue's forwarding vtable) that calls the object directly:
 * synchronous calls through the proxy behave as calls on the object.
 * CreateCall(IID_AsyncIFoo) makes a call object running IFoo's methods on
 * the worker pool. The proxy holds one reference to the object.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

/* ==================================================================== registry */

static pthread_mutex_t glue_lock = PTHREAD_MUTEX_INITIALIZER;
static const AmrtInterface **glues;     /* guarded by glue_lock */
static int nglues, capglues;

HRESULT AmrtRegisterInterfaces(const AmrtInterface *const *ifaces, int count)
{
    if (!ifaces || count < 0)
        return E_INVALIDARG;
    for (int i = 0; i < count; i++)
        if (!ifaces[i] || ifaces[i]->version != AMRT_GLUE_VERSION)
            return E_INVALIDARG;
    amrt__mutex_lock(&glue_lock);
    for (int i = 0; i < count; i++) {
        bool known = false;
        for (int k = 0; k < nglues; k++)
            known |= glues[k] == ifaces[i];
        if (known)
            continue;
        if (nglues == capglues) {
            int cap = capglues ? capglues * 2 : 16;
            const AmrtInterface **n = realloc(glues, sizeof *n * (size_t)cap);   /* lives for the process */
            if (!n) {
                amrt__mutex_unlock(&glue_lock);
                return E_OUTOFMEMORY;
            }
            glues = n;
            capglues = cap;
        }
        glues[nglues++] = ifaces[i];
    }
    amrt__mutex_unlock(&glue_lock);
    return S_OK;
}

/* The last table this thread found, each way: tables stay registered for
 * the process and are only appended, so the first match of a scan stays
 * the first (a server's calls find their table without the lock). */
static _Thread_local const AmrtInterface *tl_glue[2];

const AmrtInterface *amrt__glue_by_iid(const IID *iid, bool async)
{
    const AmrtInterface *g = tl_glue[async];
    if (g && IsEqualIID(iid, async ? g->async_iid : g->iid))
        return g;
    g = NULL;
    amrt__mutex_lock(&glue_lock);
    for (int i = 0; i < nglues && !g; i++)
        if (IsEqualIID(iid, async ? glues[i]->async_iid : glues[i]->iid))
            g = glues[i];
    amrt__mutex_unlock(&glue_lock);
    if (g)
        tl_glue[async] = g;
    return g;
}

/* ==================================================================== proxies */

typedef struct ProxyIface {
    const void *lpVtbl;             /* the glue's IFoo forwarding vtable: must be first */
    struct Proxy *proxy;
    const AmrtInterface *glue;
    IUnknown *target;               /* the object's IFoo (AddRef'd) */
    struct ProxyIface *next;
} ProxyIface;

typedef struct Proxy {
    IUnknown unk;
    ICallFactory factory;
    atomic_long refs;
    IUnknown *object;
    pthread_mutex_t lock;
    ProxyIface *ifaces;             /* guarded by lock */
} Proxy;

#define PX_FROM(p, field) ((Proxy *)((char *)(p) - offsetof(Proxy, field)))

static HRESULT proxy_qi(Proxy *px, const IID *iid, void **ppv)
{
    if (!ppv)
        return E_POINTER;
    *ppv = NULL;
    if (IsEqualIID(iid, &IID_IUnknown)) {
        *ppv = &px->unk;
    } else if (IsEqualIID(iid, &IID_ICallFactory)) {
        *ppv = &px->factory;
    } else {
        const AmrtInterface *g = amrt__glue_by_iid(iid, false);
        if (!g)
            return E_NOINTERFACE;       /* no glue linked for it: not proxied */
        amrt__mutex_lock(&px->lock);
        ProxyIface *pi = px->ifaces;
        while (pi && pi->glue != g)
            pi = pi->next;
        if (!pi) {
            IUnknown *target = NULL;
            /* an object in another process has no local target: the glue's
             * thunks call AmrtProxyInvoke (RULES.md J4) */
            HRESULT hr = amrt__is_remote(px->object) ? amrt__remote_qi(px->object, iid)
                                                     : IUnknown_QueryInterface(px->object, iid, (void **)&target);
            if (FAILED(hr)) {
                amrt__mutex_unlock(&px->lock);
                return hr;
            }
            pi = amrt__calloc(sizeof *pi);
            if (!pi) {
                IUnknown_Release(target);
                amrt__mutex_unlock(&px->lock);
                return E_OUTOFMEMORY;
            }
            pi->lpVtbl = g->proxy_vtbl;
            pi->proxy = px;
            pi->glue = g;
            pi->target = target;
            pi->next = px->ifaces;
            px->ifaces = pi;
        }
        amrt__mutex_unlock(&px->lock);
        *ppv = pi;
    }
    atomic_fetch_add(&px->refs, 1);
    return S_OK;
}

static ULONG proxy_release(Proxy *px)
{
    long left = atomic_fetch_sub(&px->refs, 1) - 1;
    if (left == 0) {
        for (ProxyIface *pi = px->ifaces, *next; pi; pi = next) {
            next = pi->next;
            if (pi->target)
                IUnknown_Release(pi->target);
            amrt__free(pi);
        }
        IUnknown_Release(px->object);
        amrt__mutex_destroy(&px->lock);
        amrt__free(px);
    }
    return (ULONG)left;
}

static HRESULT STDMETHODCALLTYPE unk_qi(IUnknown *This, REFIID riid, void **ppv)
{
    return proxy_qi(PX_FROM(This, unk), riid, ppv);
}

static ULONG STDMETHODCALLTYPE unk_addref(IUnknown *This)
{
    return (ULONG)atomic_fetch_add(&PX_FROM(This, unk)->refs, 1) + 1;
}

static ULONG STDMETHODCALLTYPE unk_release(IUnknown *This)
{
    return proxy_release(PX_FROM(This, unk));
}

static const IUnknownVtbl unk_vtbl = { unk_qi, unk_addref, unk_release };

static HRESULT STDMETHODCALLTYPE cf_qi(ICallFactory *This, REFIID riid, void **ppv)
{
    return proxy_qi(PX_FROM(This, factory), riid, ppv);
}

static ULONG STDMETHODCALLTYPE cf_addref(ICallFactory *This)
{
    return (ULONG)atomic_fetch_add(&PX_FROM(This, factory)->refs, 1) + 1;
}

static ULONG STDMETHODCALLTYPE cf_release(ICallFactory *This)
{
    return proxy_release(PX_FROM(This, factory));
}

/* RULES.md B2-B4: riid is the async IID; the object must support the sync one */
static HRESULT STDMETHODCALLTYPE cf_createcall(ICallFactory *This, REFIID riid, IUnknown *ctrl, REFIID riid2, IUnknown **ppv)
{
    Proxy *px = PX_FROM(This, factory);
    if (!ppv)
        return E_POINTER;
    *ppv = NULL;
    if (!riid || !riid2)
        return E_INVALIDARG;
    const AmrtInterface *g = amrt__glue_by_iid(riid, true);
    if (!g)
        return E_NOINTERFACE;
    IUnknown *server = NULL;
    HRESULT hr;
    if (amrt__is_remote(px->object)) {
        /* client-side async on the proxy's own interface (RULES.md J5):
         * a flat method's call goes from Begin_ and its reply completes it
         * (callobj.c, remote.c's AmrtAsyncCall); any other's, a worker
         * makes the synchronous cross-process call */
        if (FAILED(proxy_qi(px, g->iid, (void **)&server)))
            return E_NOINTERFACE;
        hr = amrt__call_create(g, server, NULL, ctrl, riid2, (void **)ppv);
        IUnknown_Release(server);
        return hr;
    }
    hr = IUnknown_QueryInterface(px->object, g->iid, (void **)&server);
    if (FAILED(hr))
        return E_NOINTERFACE;
    /* an object that implements ICallFactory itself gets server-side async (E7) */
    ICallFactory *own = NULL;
    if (FAILED(IUnknown_QueryInterface(px->object, &IID_ICallFactory, (void **)&own)))
        own = NULL;
    hr = amrt__call_create(g, server, own, ctrl, riid2, (void **)ppv);
    if (own)
        ICallFactory_Release(own);
    IUnknown_Release(server);
    return hr;
}

static const ICallFactoryVtbl cf_vtbl = { cf_qi, cf_addref, cf_release, cf_createcall };

HRESULT AmrtCreateProxy(IUnknown *object, REFIID riid, void **ppv)
{
    if (!ppv)
        return E_POINTER;
    *ppv = NULL;
    if (!object || !riid)
        return E_INVALIDARG;
    Proxy *px = amrt__calloc(sizeof *px);
    if (!px)
        return E_OUTOFMEMORY;
    px->unk.lpVtbl = (IUnknownVtbl *)&unk_vtbl;
    px->factory.lpVtbl = (ICallFactoryVtbl *)&cf_vtbl;
    atomic_init(&px->refs, 1);
    if (pthread_mutex_init(&px->lock, NULL) != 0) {
        amrt__free(px);
        return E_OUTOFMEMORY;
    }
    px->object = object;
    IUnknown_AddRef(object);
    HRESULT hr = proxy_qi(px, riid, ppv);
    proxy_release(px);
    return hr;
}

void *AmrtProxyTarget(void *iface)
{
    return ((ProxyIface *)iface)->target;
}

HRESULT AmrtProxyQueryInterface(void *iface, REFIID riid, void **ppv)
{
    return proxy_qi(((ProxyIface *)iface)->proxy, riid, ppv);
}

ULONG AmrtProxyAddRef(void *iface)
{
    return (ULONG)atomic_fetch_add(&((ProxyIface *)iface)->proxy->refs, 1) + 1;
}

ULONG AmrtProxyRelease(void *iface)
{
    return proxy_release(((ProxyIface *)iface)->proxy);
}

/* The glue's proxy thunk of an interface with no local target (an object
 * in another process): the call crosses (RULES.md J4). */
HRESULT AmrtProxyInvoke(void *iface, const AmrtInterface *glue, int method, void **args, void *ret)
{
    ProxyIface *pi = iface;
    return amrt__remote_invoke(pi->proxy->object, glue, method, args, ret);
}

IUnknown *amrt__proxy_object(IUnknown *obj)
{
    IUnknown *id = NULL;
    if (!obj || FAILED(IUnknown_QueryInterface(obj, &IID_IUnknown, (void **)&id)) || !id)
        return obj;
    IUnknown *inner = id->lpVtbl == (IUnknownVtbl *)&unk_vtbl ? PX_FROM(id, unk)->object : obj;
    IUnknown_Release(id);       /* the proxy's caller holds it */
    return inner;
}
