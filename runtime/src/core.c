/*
 * core.c - the COM core of libamidlrt: initialization, GUID strings, and
 * class registration / creation (the allocator is alloc.c).
 *
 * Apartments: everything is the multithreaded apartment (RULES.md C4).
 * Initialization is counted process-wide: CoInitializeEx gives S_OK the
 * first time and S_FALSE after; the matching last CoUninitialize shuts the
 * runtime down. Calls that need COM before that give CO_E_NOTINITIALIZED.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ==================================================================== init */

HRESULT CoInitializeEx(LPVOID reserved, DWORD coinit)
{
    if (reserved)
        return E_INVALIDARG;
    (void)coinit;       /* every thread is in the multithreaded apartment */
    long before = atomic_fetch_add(&amrt__init_count, 1);
    return before == 0 ? S_OK : S_FALSE;
}

HRESULT CoInitialize(LPVOID reserved)
{
    return CoInitializeEx(reserved, COINIT_APARTMENTTHREADED);
}

void CoUninitialize(void)
{
    long before = atomic_load(&amrt__init_count);
    while (before > 0 && !atomic_compare_exchange_weak(&amrt__init_count, &before, before - 1))
        ;
    if (before == 1)
        amrt__shutdown();
}

/* ==================================================================== GUID strings */

int StringFromGUID2(REFGUID rguid, LPOLESTR str, int cchMax)
{
    const GUID *g = AMRT_REF(rguid);
    char buf[40];
    if (!g || !str || cchMax < 39)
        return 0;
    snprintf(buf, sizeof buf, "{%08X-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X}",
             g->Data1, g->Data2, g->Data3, g->Data4[0], g->Data4[1], g->Data4[2], g->Data4[3],
             g->Data4[4], g->Data4[5], g->Data4[6], g->Data4[7]);
    for (int i = 0; i < 39; i++)
        str[i] = (WCHAR)(unsigned char)buf[i];
    return 39;
}

static int hexval(WCHAR c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static uint64_t hex_field(LPCOLESTR s, int from, int to)
{
    uint64_t v = 0;
    for (int i = from; i < to; i++)
        v = v * 16 + (uint64_t)hexval(s[i]);
    return v;
}

static bool parse_guid(LPCOLESTR s, GUID *g)
{
    static const int dash[] = {9, 14, 19, 24};
    if (!s || s[0] != '{')
        return false;
    for (int i = 1; i < 37; i++) {
        bool d = i == dash[0] || i == dash[1] || i == dash[2] || i == dash[3];
        if (d ? s[i] != '-' : hexval(s[i]) < 0)
            return false;
    }
    if (s[37] != '}' || s[38] != 0)
        return false;
    g->Data1 = (uint32_t)hex_field(s, 1, 9);
    g->Data2 = (uint16_t)hex_field(s, 10, 14);
    g->Data3 = (uint16_t)hex_field(s, 15, 19);
    static const int pos[8] = {20, 22, 25, 27, 29, 31, 33, 35};
    for (int i = 0; i < 8; i++)
        g->Data4[i] = (uint8_t)(hexval(s[pos[i]]) * 16 + hexval(s[pos[i] + 1]));
    return true;
}

static HRESULT guid_from_string(LPCOLESTR str, GUID *g, HRESULT bad)
{
    if (!g)
        return E_INVALIDARG;
    if (!parse_guid(str, g)) {
        memset(g, 0, sizeof *g);
        return bad;
    }
    return S_OK;
}

HRESULT IIDFromString(LPCOLESTR str, LPIID iid)
{
    return guid_from_string(str, iid, E_INVALIDARG);
}

HRESULT CLSIDFromString(LPCOLESTR str, LPCLSID clsid)
{
    return guid_from_string(str, clsid, CO_E_CLASSSTRING);
}

/* ==================================================================== classes */

typedef struct Registration {
    CLSID clsid;
    IUnknown *factory;
    DWORD clsctx, flags, cookie;
    struct Registration *next;
} Registration;

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static Registration *registrations;     /* guarded by reg_lock */
static DWORD next_cookie = 1;           /* guarded by reg_lock */

HRESULT CoRegisterClassObject(REFCLSID rclsid, IUnknown *factory, DWORD clsctx, DWORD flags, LPDWORD cookie)
{
    const CLSID *clsid = AMRT_REF(rclsid);
    if (!clsid || !factory || !cookie)
        return E_INVALIDARG;
    if (!amrt__initialized())
        return CO_E_NOTINITIALIZED;
    Registration *r = amrt__calloc(sizeof *r);
    if (!r)
        return E_OUTOFMEMORY;
    r->clsid = *clsid;
    r->factory = factory;
    r->clsctx = clsctx;
    r->flags = flags;
    factory->lpVtbl->AddRef(factory);
    amrt__mutex_lock(&reg_lock);
    r->cookie = next_cookie++;
    r->next = registrations;
    registrations = r;
    *cookie = r->cookie;
    amrt__mutex_unlock(&reg_lock);
    if (clsctx & CLSCTX_LOCAL_SERVER) {
        /* other processes of the user reach it too (RULES.md J1) */
        HRESULT hr = amrt__publish(clsid, r->cookie, flags);
        if (FAILED(hr)) {
            CoRevokeClassObject(*cookie);
            *cookie = 0;
            return hr;
        }
    }
    return S_OK;
}

HRESULT CoRevokeClassObject(DWORD cookie)
{
    amrt__unpublish(cookie);            /* no new activations from other processes (J1) */
    amrt__mutex_lock(&reg_lock);
    Registration **pp = &registrations, *r = NULL;
    for (; *pp; pp = &(*pp)->next)
        if ((*pp)->cookie == cookie) {
            r = *pp;
            *pp = r->next;
            break;
        }
    amrt__mutex_unlock(&reg_lock);
    if (!r)
        return CO_E_OBJNOTREG;
    r->factory->lpVtbl->Release(r->factory);
    amrt__free(r);
    return S_OK;
}

/* The registered factory for clsid in one of the contexts (AddRef'd). */
static IUnknown *find_factory(const CLSID *clsid, DWORD clsctx, DWORD *found_ctx)
{
    IUnknown *f = NULL;
    amrt__mutex_lock(&reg_lock);
    for (Registration *r = registrations; r; r = r->next)
        if (IsEqualGUID(&r->clsid, clsid) && (r->clsctx & clsctx)) {
            f = r->factory;
            *found_ctx = r->clsctx & clsctx;
            f->lpVtbl->AddRef(f);
            break;
        }
    amrt__mutex_unlock(&reg_lock);
    return f;
}

IUnknown *amrt__class_factory(const CLSID *clsid, DWORD ctx, DWORD *flags)
{
    DWORD found = 0;
    IUnknown *f = find_factory(clsid, ctx, &found);
    *flags = found;
    return f;
}

void amrt__revoke_all(void)
{
    amrt__mutex_lock(&reg_lock);
    Registration *r = registrations;
    registrations = NULL;
    amrt__mutex_unlock(&reg_lock);
    while (r) {
        Registration *next = r->next;
        r->factory->lpVtbl->Release(r->factory);
        amrt__free(r);
        r = next;
    }
}

HRESULT CoGetClassObject(REFCLSID rclsid, DWORD clsctx, LPVOID reserved, REFIID riid, LPVOID *ppv)
{
    const CLSID *clsid = AMRT_REF(rclsid);
    const IID *iid = AMRT_REF(riid);
    (void)reserved;
    if (!ppv)
        return E_POINTER;
    *ppv = NULL;
    if (!clsid || !iid)
        return E_INVALIDARG;
    if (!amrt__initialized())
        return CO_E_NOTINITIALIZED;
    IUnknown *sys = amrt__system_factory(clsid);   /* the system classes' (C23) */
    if (sys)
        return sys->lpVtbl->QueryInterface(sys, AMRT_IID(iid), ppv);
    DWORD ctx = 0;
    IUnknown *f = find_factory(clsid, clsctx, &ctx);
    if (!f)
        return clsctx & CLSCTX_LOCAL_SERVER ? amrt__activate(clsid, iid, true, ppv) : REGDB_E_CLASSNOTREG;
    HRESULT hr = f->lpVtbl->QueryInterface(f, AMRT_IID(iid), ppv);
    f->lpVtbl->Release(f);
    return hr;
}

HRESULT CoCreateInstance(REFCLSID rclsid, IUnknown *outer, DWORD clsctx, REFIID riid, LPVOID *ppv)
{
    const CLSID *clsid = AMRT_REF(rclsid);
    const IID *iid = AMRT_REF(riid);
    if (!ppv)
        return E_POINTER;
    *ppv = NULL;
    if (!clsid || !iid)
        return E_INVALIDARG;
    if (!amrt__initialized())
        return CO_E_NOTINITIALIZED;
    /* the system classes */
    HRESULT hr = amrt__system_create(clsid, outer, iid, ppv);
    if (hr != REGDB_E_CLASSNOTREG)
        return hr;
    /* registered classes: in-process, the caller gets the object itself;
     * a local server is reached through a proxy (RULES.md I5), which is not
     * part of the runtime yet: the class is then not available */
    DWORD ctx = 0;
    IUnknown *f = find_factory(clsid, clsctx & CLSCTX_INPROC_SERVER ? CLSCTX_INPROC_SERVER : 0, &ctx);
    if (!f)
        f = find_factory(clsid, clsctx, &ctx);
    if (!f && (clsctx & CLSCTX_LOCAL_SERVER))
        /* another process serves it, or is started to (RULES.md J1, J2) */
        return outer ? CLASS_E_NOAGGREGATION : amrt__activate(clsid, iid, false, ppv);
    if (!f)
        return REGDB_E_CLASSNOTREG;
    IClassFactory *cf = NULL;
    hr = f->lpVtbl->QueryInterface(f, AMRT_IID(&IID_IClassFactory), (void **)&cf);
    f->lpVtbl->Release(f);
    if (FAILED(hr))
        return hr;
    if (ctx & CLSCTX_INPROC_SERVER) {
        hr = cf->lpVtbl->CreateInstance(cf, outer, AMRT_IID(iid), ppv);     /* the object itself */
    } else if (outer) {
        hr = CLASS_E_NOAGGREGATION;     /* a local server's object cannot be aggregated */
    } else {
        /* a local server: the caller gets the runtime's proxy (RULES.md I5) */
        IUnknown *obj = NULL;
        hr = cf->lpVtbl->CreateInstance(cf, NULL, AMRT_IID(&IID_IUnknown), (void **)&obj);
        if (SUCCEEDED(hr)) {
            hr = AmrtCreateProxy(obj, AMRT_IID(iid), ppv);
            obj->lpVtbl->Release(obj);
        }
    }
    cf->lpVtbl->Release(cf);
    return hr;
}

/* The last CoUninitialize: calls in flight finish, then the pool and the
 * class registrations go (RULES.md I6). Objects the program still holds
 * stay valid until it releases them. */
void amrt__shutdown(void)
{
    amrt__remote_shutdown();            /* calls to other processes end first (J10, J11) */
    amrt__pool_shutdown();
    amrt__revoke_all();
}
