/*
 * remote.c - objects across processes (RULES.md J4, J5, J9-J11).
 *
 * Exports. An object handed to a peer (an activation, an interface pointer
 * in a call, J9) gets an object id on that connection and one reference
 * per time it was handed over; M_RELEASE gives them back, and a connection
 * that goes releases all that its peer held (J11).
 *
 * Imports. The peer's object is a RemoteObject: an IUnknown of the
 * runtime's own that knows its connection and object id. The program
 * never sees it: it is the object behind one of proxy.c's proxies, which
 * gives it its interfaces (asking the peer, M_QI), its ICallFactory
 * (client-side async, J5: a flat method's call is sent by Begin_ and
 * completed by the I/O thread with its reply, AmrtAsyncCall below; any
 * other runs the synchronous method through the proxy on a worker, so
 * every rule of B-E holds as for an in-process object) and
 * its synchronous calls (the glue's proxy thunk finds no local target and
 * calls AmrtProxyInvoke, which comes here, J4).
 *
 * Calls. The wire format of a call's arguments and results is wire.c's
 * (docs/wire.md); a call's message is M_CALL with the interface's IID and
 * the method's index in front of it. On the server every call runs on a
 * thread of its own; CoTestCancel there says whether the client canceled
 * (J7) or went away (J11).
 */
#include "remote.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* the HRESULT of RULES.md J13 (RPC_X_BAD_STUB_DATA is the Win32 code) */
#define BAD_STUB HRESULT_FROM_WIN32(RPC_X_BAD_STUB_DATA)

static atomic_ullong next_oid = 1;

/* ==================================================================== exports */

uint64_t amrt__export(AmrtConn *c, IUnknown *obj)
{
    IUnknown *unk = NULL;
    if (FAILED(IUnknown_QueryInterface(obj, &IID_IUnknown, (void **)&unk)) || !unk)
        return 0;
    amrt__mutex_lock(&c->lock);
    AmrtExport *e = c->exports;
    while (e && e->unk != unk)
        e = e->next;
    if (e) {
        e->refs++;
        amrt__mutex_unlock(&c->lock);
        IUnknown_Release(unk);          /* the export holds one already */
        return e->oid;
    }
    if (atomic_load(&c->dead) || !(e = amrt__calloc(sizeof *e))) {
        amrt__mutex_unlock(&c->lock);
        IUnknown_Release(unk);
        return 0;
    }
    e->oid = atomic_fetch_add(&next_oid, 1);
    e->unk = unk;
    e->refs = 1;
    e->next = c->exports;
    c->exports = e;
    amrt__mutex_unlock(&c->lock);
    return e->oid;
}

/* the exported object oid (AddRef'd), NULL if the peer holds none such;
 * with dying, one the peer let go of while a call was active too */
static IUnknown *export_find_in(AmrtConn *c, uint64_t oid, bool dying)
{
    IUnknown *u = NULL;
    amrt__mutex_lock(&c->lock);
    for (int list = 0; list < (dying ? 2 : 1) && !u; list++)
        for (AmrtExport *e = list ? c->dying : c->exports; e; e = e->next)
            if (e->oid == oid) {
                u = e->unk;
                IUnknown_AddRef(u);
                break;
            }
    amrt__mutex_unlock(&c->lock);
    return u;
}

static IUnknown *export_find(AmrtConn *c, uint64_t oid)
{
    return export_find_in(c, oid, false);
}

static void free_exports(AmrtExport *e)
{
    while (e) {
        AmrtExport *next = e->next;
        IUnknown_Release(e->unk);
        amrt__free(e);
        e = next;
    }
}

void amrt__release_exports(AmrtConn *c)
{
    amrt__mutex_lock(&c->lock);
    AmrtExport *e = c->exports, *d = c->dying;
    c->exports = NULL;
    c->dying = NULL;
    amrt__mutex_unlock(&c->lock);
    free_exports(e);
    free_exports(d);
}

/* A message in flight may name an object whose last reference the peer
 * gave back after sending it: messages are read in order by the I/O
 * thread, but decoded later by the thread that waits for them. While a
 * call is active on the connection, released exports wait in 'dying'. */
void amrt__active_begin(AmrtConn *c)
{
    amrt__mutex_lock(&c->lock);
    c->active++;
    amrt__mutex_unlock(&c->lock);
}

AmrtExport *amrt__active_end_locked(AmrtConn *c)
{
    AmrtExport *d = NULL;
    if (--c->active == 0) {
        d = c->dying;
        c->dying = NULL;
    }
    return d;
}

void amrt__exports_free(AmrtExport *e)
{
    free_exports(e);
}

void amrt__active_end(AmrtConn *c)
{
    amrt__mutex_lock(&c->lock);
    AmrtExport *d = amrt__active_end_locked(c);
    amrt__mutex_unlock(&c->lock);
    free_exports(d);
}

/* ==================================================================== imports */

enum { KNOWN_IIDS = 8 };

typedef struct RemoteObject {
    IUnknown unk;
    atomic_long refs;
    AmrtConn *conn;
    uint64_t oid;
    pthread_mutex_t lock;
    IID known[KNOWN_IIDS];      /* interfaces the peer said it has (lock) */
    int nknown;
} RemoteObject;

static const IUnknownVtbl ro_vtbl;

static amrt__wire_header head_of(int type, uint64_t call_id, HRESULT status, uint64_t oid)
{
    amrt__wire_header h;
    memset(&h, 0, sizeof h);
    h.magic = AMRT__WIRE_MAGIC;
    h.version = AMRT__WIRE_VERSION;
    h.type = (uint8_t)type;
    h.call_id = call_id;
    h.status = (int32_t)status;
    h.object_id = oid;
    return h;
}

static void send_release(AmrtConn *c, uint64_t oid)
{
    uint32_t one = 1;
    amrt__wire_header h = head_of(M_RELEASE, 0, S_OK, oid);
    amrt__conn_send_small(c, &h, &one, sizeof one);
}

/* The thread completes a call object's call (async_complete, on the I/O
 * thread): an aggregated call object's outer runs there (its Signal, its
 * last Release, B14). A synchronous call to another process from there
 * would wait for a reply that only this thread reads: it fails at once,
 * as Windows fails an outgoing call during an input-synchronous one. */
static _Thread_local bool completing;
#define CANTCALLOUT ((HRESULT)0x8001010D)      /* RPC_E_CANTCALLOUT_ININPUTSYNCCALL */

/* a request of the connection layer: header h, body; the reply's status */
static HRESULT small_call(AmrtConn *c, amrt__wire_header *h, const void *body, size_t len, AmrtMsg *reply)
{
    if (completing)
        return CANTCALLOUT;
    amrt__wire_buf b;
    amrt__wire_buf_init(&b);
    void *p = NULL;
    HRESULT hr = amrt__wire_buf_start(&b);
    if (SUCCEEDED(hr) && len && !(p = amrt__wire_buf_append(&b, len)))
        hr = E_OUTOFMEMORY;
    if (SUCCEEDED(hr)) {
        if (len)
            memcpy(p, body, len);
        amrt__wire_buf_seal(&b, h);
        hr = amrt__conn_call(c, &b, reply, false);
    }
    amrt__wire_buf_fini(&b);
    if (SUCCEEDED(hr) && FAILED((HRESULT)reply->h.status)) {
        hr = (HRESULT)reply->h.status;
        amrt__msg_free(reply);
    }
    return hr;
}

static HRESULT STDMETHODCALLTYPE ro_qi(IUnknown *This, REFIID riid, void **ppv)
{
    if (!ppv)
        return E_POINTER;
    *ppv = NULL;
    if (IsEqualIID(riid, &IID_IUnknown)) {
        *ppv = This;
        IUnknown_AddRef(This);
        return S_OK;
    }
    return E_NOINTERFACE;       /* the proxy asks amrt__remote_qi instead */
}

static ULONG STDMETHODCALLTYPE ro_addref(IUnknown *This)
{
    return (ULONG)atomic_fetch_add(&((RemoteObject *)This)->refs, 1) + 1;
}

static ULONG STDMETHODCALLTYPE ro_release(IUnknown *This)
{
    RemoteObject *ro = (RemoteObject *)This;
    long left = atomic_fetch_sub(&ro->refs, 1) - 1;
    if (left == 0) {
        send_release(ro->conn, ro->oid);    /* a dead peer holds nothing any more */
        amrt__conn_release(ro->conn);
        amrt__mutex_destroy(&ro->lock);
        amrt__free(ro);
    }
    return (ULONG)left;
}

static const IUnknownVtbl ro_vtbl = { ro_qi, ro_addref, ro_release };

bool amrt__is_remote(IUnknown *obj)
{
    return obj && obj->lpVtbl == &ro_vtbl;
}

bool amrt__remote_failed(IUnknown *server, HRESULT hr)
{
    return (hr == RPC_E_SERVER_DIED || hr == RPC_E_SERVER_DIED_DNE || hr == RPC_E_DISCONNECTED) &&
           amrt__is_remote(amrt__proxy_object(server));
}

static void remember(RemoteObject *ro, const IID *iid)
{
    amrt__mutex_lock(&ro->lock);
    if (ro->nknown < KNOWN_IIDS)
        ro->known[ro->nknown++] = *iid;
    amrt__mutex_unlock(&ro->lock);
}

HRESULT amrt__import(AmrtConn *c, uint64_t oid, const IID *iid, void **ppv)
{
    *ppv = NULL;
    RemoteObject *ro = amrt__calloc(sizeof *ro);
    if (!ro) {
        send_release(c, oid);
        return E_OUTOFMEMORY;
    }
    ro->unk.lpVtbl = (IUnknownVtbl *)&ro_vtbl;
    atomic_init(&ro->refs, 1);
    ro->conn = c;
    atomic_fetch_add(&c->refs, 1);
    ro->oid = oid;
    pthread_mutex_init(&ro->lock, NULL);
    if (iid && !IsEqualIID(iid, &IID_IUnknown))
        remember(ro, iid);              /* the activation checked it */
    HRESULT hr = AmrtCreateProxy(&ro->unk, iid ? iid : &IID_IUnknown, ppv);
    IUnknown_Release(&ro->unk);         /* the proxy holds it (or it goes) */
    return hr;
}

HRESULT amrt__remote_qi(IUnknown *obj, const IID *iid)
{
    RemoteObject *ro = (RemoteObject *)obj;
    amrt__mutex_lock(&ro->lock);
    bool known = false;
    for (int i = 0; i < ro->nknown && !known; i++)
        known = IsEqualIID(&ro->known[i], iid);
    amrt__mutex_unlock(&ro->lock);
    if (known)
        return S_OK;
    amrt__wire_header h = head_of(M_QI, 0, S_OK, ro->oid);
    h.iid = *iid;
    AmrtMsg reply;
    HRESULT hr = small_call(ro->conn, &h, NULL, 0, &reply);
    if (SUCCEEDED(hr)) {
        hr = (HRESULT)reply.h.status;
        amrt__msg_free(&reply);
    }
    if (hr == S_OK)
        remember(ro, iid);
    return hr;
}

/* Client: create an instance of clsid in the server at the other end of c. */
HRESULT amrt__remote_create(AmrtConn *c, const CLSID *clsid, const IID *iid, void **ppv)
{
    amrt__wire_header h = head_of(M_ACTIVATE, 0, S_OK, 0);
    h.iid = *iid;
    AmrtMsg reply;
    HRESULT hr = small_call(c, &h, clsid, sizeof *clsid, &reply);
    if (FAILED(hr))
        return hr;
    hr = (HRESULT)reply.h.status;
    uint64_t oid = reply.h.object_id;
    amrt__msg_free(&reply);
    if (FAILED(hr))
        return hr;
    if (!oid)
        return BAD_STUB;
    return amrt__import(c, oid, iid, ppv);
}

/* ==================================================================== references (J9) */

/* the codec's peer: interface pointers in a message are references */
static HRESULT peer_marshal(void *ctx, IUnknown *obj, REFIID iid, amrt__wire_objref *ref)
{
    AmrtConn *c = ctx;
    memset(ref, 0, sizeof *ref);
    ref->iid = *iid;
    IUnknown *inner = amrt__proxy_object(obj);
    if (amrt__is_remote(inner) && ((RemoteObject *)inner)->conn == c) {
        /* the peer's own object goes home: the original pointer there */
        ref->owner = (uint64_t)c->peer.pid;
        ref->oid = ((RemoteObject *)inner)->oid;
        ref->flags = REF_YOURS;
        return S_OK;
    }
    /* a proxy of a third process's object is exported as a proxy (calls hop through us) */
    ref->owner = (uint64_t)getpid();
    ref->oid = amrt__export(c, obj);
    return ref->oid ? S_OK : E_OUTOFMEMORY;
}

static void release_export(AmrtConn *c, uint64_t oid, long n)
{
    IUnknown *drop = NULL;
    amrt__mutex_lock(&c->lock);
    for (AmrtExport **pp = &c->exports; *pp; pp = &(*pp)->next) {
        AmrtExport *e = *pp;
        if (e->oid != oid)
            continue;
        if (n >= e->refs) {
            *pp = e->next;
            if (c->active > 0) {
                e->next = c->dying;         /* a message being decoded may still name it */
                c->dying = e;
            } else {
                drop = e->unk;
                amrt__free(e);
            }
        } else {
            e->refs -= n;
        }
        break;
    }
    amrt__mutex_unlock(&c->lock);
    if (drop)
        IUnknown_Release(drop);
}

void amrt__release_export(AmrtConn *c, uint64_t oid, long n)
{
    release_export(c, oid, n);
}

static void peer_revoke(void *ctx, const amrt__wire_objref *ref)
{
    if (!(ref->flags & REF_YOURS))
        release_export(ctx, ref->oid, 1);
}

static HRESULT peer_unmarshal(void *ctx, const amrt__wire_objref *ref, IUnknown **out)
{
    AmrtConn *c = ctx;
    *out = NULL;
    if (ref->flags & REF_YOURS) {
        IUnknown *u = export_find_in(c, ref->oid, true);
        if (!u)
            return BAD_STUB;         /* not an object of ours (J13) */
        HRESULT hr = IUnknown_QueryInterface(u, &ref->iid, (void **)out);
        IUnknown_Release(u);
        return FAILED(hr) ? BAD_STUB : S_OK;
    }
    if (!ref->oid)
        return BAD_STUB;
    HRESULT hr = amrt__import(c, ref->oid, &ref->iid, (void **)out);
    return FAILED(hr) ? (hr == E_OUTOFMEMORY ? hr : BAD_STUB) : S_OK;
}

static void peer_drop(void *ctx, const amrt__wire_objref *ref)
{
    if (!(ref->flags & REF_YOURS) && ref->oid)
        send_release(ctx, ref->oid);
}

void amrt__peer_init(AmrtConn *c)
{
    c->wpeer.ctx = c;
    c->wpeer.marshal = peer_marshal;
    c->wpeer.revoke = peer_revoke;
    c->wpeer.unmarshal = peer_unmarshal;
    c->wpeer.drop = peer_drop;
}

/* ==================================================================== calls: the client */

static _Thread_local AmrtInCall *current_incall;

HRESULT amrt__remote_invoke(IUnknown *obj, const AmrtInterface *glue, int method, void **args, void *ret)
{
    RemoteObject *ro = (RemoteObject *)obj;
    const AmrtMethod *m = method >= 0 && method < glue->nmethods + glue->ncall_as ? &glue->methods[method] : NULL;
    HRESULT hr;
    if (!m) {
        hr = E_NOTIMPL;                 /* a method without glue (an interface without async_uuid) */
        goto out;
    }
    if (completing) {
        hr = CANTCALLOUT;               /* it would wait for itself */
        goto out;
    }
    amrt__wire_buf b;
    amrt__wire_frame f;
    amrt__wire_buf_init(&b);
    amrt__wire_frame_init(&f);
    amrt__wire_header h = head_of(M_CALL, 0, S_OK, ro->oid);
    h.iid = *glue->iid;
    h.method = (uint32_t)method;
    /* the header counts the methods of the base chain first */
    for (const AmrtInterface *g = glue->base; g; g = g->base)
        h.method += g->nmethods;
    h.iid = *glue->iid;
    bool counted = !amrt__wire_flat(m);     /* (as a call object's call) */
    if (counted)
        amrt__active_begin(ro->conn);
    hr = amrt__wire_encode_request(&b, &h, m, args, &ro->conn->wpeer, &f);
    if (SUCCEEDED(hr)) {
        AmrtMsg reply;
        bool blocking = amrt__pool_block_begin();      /* a call object's worker: J6 */
        hr = amrt__conn_call(ro->conn, &b, &reply, CoTestCancel() != RPC_E_NO_CONTEXT);
        amrt__pool_block_end(blocking);
        if (SUCCEEDED(hr)) {
            hr = amrt__wire_decode_reply(&f, &reply.buf, &ro->conn->wpeer, args, ret);
            amrt__msg_free(&reply);
        } else {
            amrt__wire_revoke(&b, &ro->conn->wpeer);
            amrt__wire_frame_clear(&f);
        }
    }
    amrt__wire_frame_fini(&f);
    amrt__wire_buf_fini(&b);
    if (counted)
        amrt__active_end(ro->conn);
    if (SUCCEEDED(hr))
        return S_OK;
out:
    if (m && m->ret_hresult && ret)
        *(HRESULT *)ret = hr;
    return hr;
}

/* ---- a call object's calls: the I/O thread completes them ---- */

struct AmrtAsyncCall {
    AmrtPending p;
    amrt__wire_buf b;           /* the request: its storage kept from call to call */
    RemoteObject *ro;           /* the object (the call object's server holds it) */
    const AmrtMethod *m;
    void **args;
    void *ret;
    void (*done)(void *);
    void *arg;
    bool counted;               /* the call counts as active on the connection (not a flat method's) */
    amrt__wire_frame f;
};

static void async_complete(AmrtPending *p, AmrtMsg *reply, HRESULT fail);

AmrtAsyncCall *amrt__remote_async_new(IUnknown *obj, void (*done)(void *), void *arg)
{
    AmrtAsyncCall *a = amrt__calloc(sizeof *a);
    if (!a)
        return NULL;
    a->ro = (RemoteObject *)obj;
    a->p.complete = async_complete;
    amrt__wire_buf_init(&a->b);
    amrt__wire_frame_init(&a->f);
    a->done = done;
    a->arg = arg;
    return a;
}

void amrt__remote_async_free(AmrtAsyncCall *a)
{
    if (!a)
        return;
    amrt__wire_frame_fini(&a->f);
    amrt__wire_buf_fini(&a->b);
    amrt__free(a);
}

/* on the I/O thread: the reply came (or the connection went) */
static void async_complete(AmrtPending *p, AmrtMsg *reply, HRESULT fail)
{
    AmrtAsyncCall *a = (AmrtAsyncCall *)p;
    AmrtConn *c = a->ro->conn;
    HRESULT hr = fail;
    if (SUCCEEDED(fail)) {
        hr = amrt__wire_decode_reply(&a->f, &reply->buf, &c->wpeer, a->args, a->ret);
    } else {
        amrt__wire_revoke(&a->b, &c->wpeer);
        amrt__wire_frame_clear(&a->f);
    }
    if (a->counted)
        amrt__active_end(c);
    if (FAILED(hr) && a->m->ret_hresult && a->ret)
        *(HRESULT *)a->ret = hr;
    bool was = completing;
    completing = true;
    a->done(a->arg);                    /* last: it may free a */
    completing = was;
}

/* tests: AMIDL_TEST_BEGIN_DELAY_MS holds a call object's request between
 * the call's start and its registration, where a Cancel finds no call id
 * (J7); read once */
static void test_begin_delay(void)
{
    static atomic_long ms = -1;
    long v = atomic_load_explicit(&ms, memory_order_relaxed);
    if (v < 0) {
        const char *e = getenv("AMIDL_TEST_BEGIN_DELAY_MS");
        v = e ? strtol(e, NULL, 10) : 0;
        if (v < 0 || v > 60000)
            v = 0;
        atomic_store_explicit(&ms, v, memory_order_relaxed);
    }
    if (v > 0) {
        struct timespec ts = { v / 1000, (v % 1000) * 1000000L };
        nanosleep(&ts, NULL);
    }
}

HRESULT amrt__remote_async_begin(AmrtAsyncCall *a, unsigned gen, const AmrtInterface *glue, int method, void **args,
                                 void *ret)
{
    RemoteObject *ro = a->ro;
    const AmrtMethod *m = &glue->methods[method];
    a->m = m;
    a->args = args;
    a->ret = ret;
    amrt__wire_header h = head_of(M_CALL, 0, S_OK, ro->oid);
    h.iid = *glue->iid;
    h.method = (uint32_t)method;
    for (const AmrtInterface *g = glue->base; g; g = g->base)
        h.method += g->nmethods;        /* the header counts the methods of the base chain first */
    /* a flat method's messages name no objects: nothing for the active count to keep (J9) */
    a->counted = !amrt__wire_flat(m);
    if (a->counted)
        amrt__active_begin(ro->conn);
    HRESULT hr = amrt__wire_encode_request(&a->b, &h, m, args, &ro->conn->wpeer, &a->f);
    if (SUCCEEDED(hr)) {
        test_begin_delay();
        hr = amrt__conn_call_async(ro->conn, &a->b, &a->p, gen);
        if (SUCCEEDED(hr))
            return S_OK;                /* async_complete runs (it may have run already) */
        amrt__wire_revoke(&a->b, &ro->conn->wpeer);
        amrt__wire_frame_clear(&a->f);
    }
    if (a->counted)
        amrt__active_end(ro->conn);
    if (m->ret_hresult && ret)
        *(HRESULT *)ret = hr;
    return hr;
}

void amrt__remote_async_cancel(AmrtAsyncCall *a, unsigned gen)
{
    AmrtConn *c = a->ro->conn;
    uint64_t id = amrt__conn_cancel_id(c, &a->p, gen);
    if (id) {
        amrt__wire_header h = head_of(M_CANCEL, id, S_OK, 0);
        amrt__conn_send_small(c, &h, NULL, 0);  /* J7: the server's CoTestCancel will say so */
    }
}

/* ==================================================================== calls: the server */

AmrtInCall *amrt__incall_enter(AmrtInCall *ic)
{
    AmrtInCall *was = current_incall;
    current_incall = ic;
    return was;
}

bool amrt__in_incall(void)
{
    return current_incall != NULL;
}

bool amrt__incall_canceled(void)
{
    return current_incall && atomic_load(&current_incall->canceled);
}

/* CoGetCallContext(IID_IServerSecurity) during a call from another
 * process (J12): the client's identity, from the socket's peer
 * credentials. QueryBlanket gives RPC_C_AUTHN_NONE, RPC_C_AUTHZ_NONE, the
 * server's principal "uid=U" (CoTaskMemAlloc'd), RPC_C_AUTHN_LEVEL_CONNECT,
 * RPC_C_IMP_LEVEL_IDENTIFY, the client's "uid=U pid=P" as the privileges
 * (a WCHAR string the object owns, as NTLM's "DOMAIN\user"), EOAC_NONE. The
 * client is the same user (J12), so impersonating it changes nothing. */
typedef struct Security {
    IServerSecurity iface;
    atomic_long refs;
    atomic_bool impersonating;
    WCHAR privs[48];
} Security;

static HRESULT STDMETHODCALLTYPE ss_qi(IServerSecurity *This, REFIID riid, void **ppv)
{
    if (!ppv)
        return E_POINTER;
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IServerSecurity)) {
        *ppv = This;
        IServerSecurity_AddRef(This);
        return S_OK;
    }
    *ppv = NULL;
    return E_NOINTERFACE;
}

static ULONG STDMETHODCALLTYPE ss_addref(IServerSecurity *This)
{
    return (ULONG)atomic_fetch_add(&((Security *)This)->refs, 1) + 1;
}

static ULONG STDMETHODCALLTYPE ss_release(IServerSecurity *This)
{
    long left = atomic_fetch_sub(&((Security *)This)->refs, 1) - 1;
    if (!left)
        amrt__free(This);
    return (ULONG)left;
}

static void wide(WCHAR *out, size_t n, const char *s)
{
    size_t i = 0;
    for (; s[i] && i + 1 < n; i++)
        out[i] = (WCHAR)(unsigned char)s[i];
    out[i] = 0;
}

static HRESULT STDMETHODCALLTYPE ss_blanket(IServerSecurity *This, DWORD *authn, DWORD *authz, OLECHAR **server,
                                            DWORD *level, DWORD *imp, void **privs, DWORD *caps)
{
    Security *s = (Security *)This;
    if (authn)
        *authn = 0;                     /* RPC_C_AUTHN_NONE: the kernel vouches (SO_PEERCRED) */
    if (authz)
        *authz = 0;                     /* RPC_C_AUTHZ_NONE */
    if (level)
        *level = 2;                     /* RPC_C_AUTHN_LEVEL_CONNECT */
    if (imp)
        *imp = 2;                       /* RPC_C_IMP_LEVEL_IDENTIFY */
    if (privs)
        *privs = s->privs;
    if (caps)
        *caps = 0;                      /* EOAC_NONE */
    if (server) {
        char t[32];
        snprintf(t, sizeof t, "uid=%u", (unsigned)getuid());
        *server = CoTaskMemAlloc(sizeof(WCHAR) * (strlen(t) + 1));
        if (!*server)
            return E_OUTOFMEMORY;
        wide(*server, strlen(t) + 1, t);
    }
    return S_OK;
}

static HRESULT STDMETHODCALLTYPE ss_impersonate(IServerSecurity *This)
{
    atomic_store(&((Security *)This)->impersonating, true);
    return S_OK;
}

static HRESULT STDMETHODCALLTYPE ss_revert(IServerSecurity *This)
{
    atomic_store(&((Security *)This)->impersonating, false);
    return S_OK;
}

static BOOL STDMETHODCALLTYPE ss_is(IServerSecurity *This)
{
    return atomic_load(&((Security *)This)->impersonating);
}

static IServerSecurityVtbl ss_vtbl = { ss_qi, ss_addref, ss_release, ss_blanket, ss_impersonate, ss_revert, ss_is };

HRESULT amrt__incall_context(const IID *iid, void **ppv)
{
    if (!ppv)
        return E_POINTER;
    *ppv = NULL;
    AmrtInCall *ic = current_incall;
    if (!ic || !(IsEqualIID(iid, &IID_IServerSecurity) || IsEqualIID(iid, &IID_IUnknown)))
        return RPC_E_NO_CONTEXT;
    Security *s = amrt__calloc(sizeof *s);
    if (!s)
        return E_OUTOFMEMORY;
    s->iface.lpVtbl = &ss_vtbl;
    atomic_init(&s->refs, 1);
    char t[48];
    snprintf(t, sizeof t, "uid=%u pid=%d", (unsigned)ic->conn->peer.uid, (int)ic->conn->peer.pid);
    wide(s->privs, sizeof s->privs / sizeof s->privs[0], t);
    *ppv = &s->iface;
    return S_OK;
}

static void reply(AmrtConn *c, const AmrtInCall *ic, int type, HRESULT hr, uint64_t oid)
{
    amrt__wire_header h = head_of(type, ic->msg.h.call_id, hr, oid);
    if (type != M_REPLY) {
        amrt__conn_send_small(c, &h, NULL, 0);
        return;
    }
    amrt__wire_buf b;
    amrt__wire_buf_init(&b);
    if (SUCCEEDED(amrt__wire_encode_fault(&b, &h, FAILED(hr) ? hr : E_UNEXPECTED)))
        amrt__conn_send(c, &b);
    amrt__wire_buf_fini(&b);
}

static void do_activate(AmrtConn *c, AmrtInCall *ic)
{
    if (ic->msg.h.length != sizeof(CLSID)) {
        reply(c, ic, M_ACTIVATED, BAD_STUB, 0);
        return;
    }
    CLSID clsid;
    IID iid = ic->msg.h.iid;
    memcpy(&clsid, amrt__msg_body(&ic->msg), sizeof clsid);
    HRESULT hr;
    uint64_t oid = 0;
    IUnknown *f = amrt__class_factory_for_peer(&clsid);
    IClassFactory *cf = NULL;
    if (!f) {
        hr = REGDB_E_CLASSNOTREG;       /* revoked meanwhile (J1) */
    } else if (SUCCEEDED(hr = IUnknown_QueryInterface(f, &IID_IClassFactory, (void **)&cf))) {
        IUnknown *obj = NULL;
        hr = IClassFactory_CreateInstance(cf, NULL, &IID_IUnknown, (void **)&obj);
        if (SUCCEEDED(hr)) {
            IUnknown *probe = NULL;
            hr = IUnknown_QueryInterface(obj, &iid, (void **)&probe);
            if (SUCCEEDED(hr)) {
                IUnknown_Release(probe);
                oid = amrt__export(c, obj);
                if (!oid)
                    hr = E_OUTOFMEMORY;
            }
            IUnknown_Release(obj);
        }
        IClassFactory_Release(cf);
    }
    if (f)
        IUnknown_Release(f);
    reply(c, ic, M_ACTIVATED, hr, oid);
}

static void do_qi(AmrtConn *c, AmrtInCall *ic)
{
    IUnknown *u = export_find(c, ic->msg.h.object_id);
    HRESULT hr = BAD_STUB;     /* an unknown object (J13) */
    if (u) {
        IID iid = ic->msg.h.iid;
        IUnknown *p = NULL;
        hr = IUnknown_QueryInterface(u, &iid, (void **)&p);
        if (SUCCEEDED(hr) && p)
            IUnknown_Release(p);
        if (SUCCEEDED(hr) && !amrt__glue_by_iid(&iid, false))
            hr = E_NOINTERFACE;         /* no glue to call it with */
    }
    if (u)
        IUnknown_Release(u);
    reply(c, ic, M_QI_REPLY, hr, 0);
}

/* A call being served: what its reply needs. On the stack of the call's
 * thread, or allocated when the call may outlive it (server-side async). */
typedef struct Served {
    AmrtConn *c;
    AmrtInCall *ic;
    IUnknown *u, *iface;
    amrt__wire_frame f;
} Served;

/* The reply from the frame's [out] values, sent; the call's references
 * released. out: the thread's buffer kept from call to call, or NULL. */
static void served_reply(Served *sv, amrt__wire_buf *out)
{
    AmrtConn *c = sv->c;
    amrt__wire_buf local, *b = out ? out : &local;
    if (b == &local)
        amrt__wire_buf_init(&local);
    amrt__wire_header h = head_of(M_REPLY, sv->ic->msg.h.call_id, S_OK, 0);
    HRESULT hr = amrt__wire_encode_reply(b, &h, &sv->f, &c->wpeer);
    amrt__wire_frame_clear(&sv->f);
    amrt__wire_frame_fini(&sv->f);
    IUnknown_Release(sv->iface);
    IUnknown_Release(sv->u);
    if (SUCCEEDED(hr) && amrt__conn_send(c, b) != 0)
        amrt__wire_revoke(b, &c->wpeer);      /* the client is gone: nobody holds what we sent */
    if (b == &local)
        amrt__wire_buf_fini(&local);
    else
        amrt__wire_buf_reset(b);        /* its descriptors went with the message */
    if (FAILED(hr))
        reply(c, sv->ic, M_REPLY, hr, 0);
}

/* a server-side async call's Finish_ is done (on a worker of the pool) */
static void served_later(void *arg)
{
    Served *sv = arg;
    AmrtInCall *ic = sv->ic;
    served_reply(sv, NULL);
    amrt__free(sv);
    amrt__incall_done(ic);
}

/* true: the call goes on after we return (served_later replies) */
static bool do_call(AmrtConn *c, AmrtInCall *ic)
{
    IUnknown *u = NULL, *iface = NULL;
    const AmrtInterface *g = NULL;
    const AmrtMethod *m = NULL;
    HRESULT hr = BAD_STUB;
    if (!(u = export_find(c, ic->msg.h.object_id)) || !(g = amrt__glue_by_iid(&ic->msg.h.iid, false)) ||
        !(m = amrt__wire_method(g, ic->msg.h.method)))
        goto fail;
    if (m->local) {             /* in-process only: a proxy never sends it; a raw request is refused */
        hr = E_NOTIMPL;
        goto fail;
    }
    /* g's pointer is its bases' pointer too: one QI serves every method of the chain */
    if (FAILED(hr = IUnknown_QueryInterface(u, g->iid, (void **)&iface)))
        goto fail;
    /* the object's own call object (RULES.md E): the call may outlive this thread */
    Served here, *sv = &here;
    SrvCall *s = amrt__srvcall_new(ic, u, g, m);
    if (s && !(sv = amrt__calloc(sizeof *sv))) {
        amrt__srvcall_drop(s);          /* no memory to wait with: the synchronous method */
        s = NULL;
        sv = &here;
    }
    sv->c = c;
    sv->ic = ic;
    sv->u = u;
    sv->iface = iface;
    amrt__wire_frame_init(&sv->f);
    hr = amrt__wire_decode_request(&sv->f, m, &ic->msg.buf, &c->wpeer);
    if (FAILED(hr)) {
        amrt__wire_frame_fini(&sv->f);
        if (s)
            amrt__srvcall_drop(s);
        if (sv != &here)
            amrt__free(sv);
        goto fail;
    }
    AmrtInCall *was = amrt__incall_enter(ic);
    bool later = false;
    if (s)
        later = amrt__srvcall_run(s, sv->f.args, sv->f.ret, served_later, sv);
    else
        m->call(iface, sv->f.args, sv->f.ret);
    amrt__incall_enter(was);
    if (later)
        return true;
    served_reply(sv, ic->out);
    if (sv != &here)
        amrt__free(sv);
    return false;
fail:
    if (iface)
        IUnknown_Release(iface);
    if (u)
        IUnknown_Release(u);
    reply(c, ic, M_REPLY, hr, 0);
    return false;
}

bool amrt__dispatch(AmrtConn *c, AmrtInCall *ic)
{
    switch (ic->msg.h.type) {
    case M_ACTIVATE:
        do_activate(c, ic);
        return false;
    case M_QI:
        do_qi(c, ic);
        return false;
    case M_CALL:
        return do_call(c, ic);
    default:
        return false;
    }
}
