/*
 * wire.c - the wire back end of the argument interpreter: the messages of
 * docs/wire.md, encoded from and decoded into the values the glue's
 * AmrtType tables describe.
 *
 * DESIGN. The in-process copy (interp.c) walks a value and copies what it
 * points to; this file walks the same descriptions with interp.h's
 * expressions, bounds, arms and sizes, and writes or reads bytes instead.
 * A value is its flat part (the bytes it occupies where it is stored, with
 * every pointer slot zeroed), then, member by member, what its pointers
 * lead to. Flat data (scalars, structures without pointers, arrays of
 * them) is one memcpy each way.
 *
 * The decoder never trusts a byte: every read is checked against what is
 * left of the body, every count against the limit and against the
 * method's expressions evaluated on what was decoded so far, every pointer
 * id, union arm, string terminator and descriptor index. A partly decoded
 * value is always consistent (pointer slots not yet filled are NULL,
 * counts describe what was allocated), so one free routine (interp.c's amrt__free_value) undoes
 * a failure at any byte. Pointers reachable twice (aliasing, [ptr]) are
 * freed once: a frame that has any frees with a set of the pointers seen.
 */
#include "wire.h"
#include "interp.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

_Static_assert((int)AMRT__WIRE_MAX_DEPTH == (int)AMRT__COPY_MAX_DEPTH, "a value copies in-process exactly when it crosses a boundary");

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the wire is little-endian: a big-endian host swaps");
_Static_assert(sizeof(void *) == 8, "flat data crosses in the LP64 layout");
_Static_assert(sizeof(amrt__wire_objref) == 40, "an object reference is 40 bytes on the wire");

/* pointer markers (docs/wire.md "Pointers") */
enum { M_NULL = 0, M_VALUE = 0xFFFFFFFFu };

enum { BAD = HRESULT_FROM_WIN32(RPC_X_BAD_STUB_DATA) };

/* ==================================================================== limits */

static atomic_size_t max_message;

size_t amrt__wire_max_message(void)
{
    size_t v = atomic_load_explicit(&max_message, memory_order_relaxed);
    if (v)
        return v;
    v = AMRT__WIRE_DEFAULT_MAX;
    const char *e = getenv("AMRT_MAX_MESSAGE");
    if (e && *e) {
        char *end;
        errno = 0;
        unsigned long long n = strtoull(e, &end, 10);
        if (!errno && !*end && n >= 4096 && n <= 0x7fffffffull)
            v = (size_t)n;
    }
    atomic_store_explicit(&max_message, v, memory_order_relaxed);
    return v;
}

/* tests: set the limit (0: read AMRT_MAX_MESSAGE again) */
void amrt__wire_set_max_message(size_t n)
{
    atomic_store_explicit(&max_message, n, memory_order_relaxed);
}

/* ==================================================================== header */

static void put32(unsigned char *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(unsigned char *p, uint64_t v) { memcpy(p, &v, 8); }
static uint32_t get32(const unsigned char *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get64(const unsigned char *p) { uint64_t v; memcpy(&v, p, 8); return v; }

void amrt__wire_header_put(void *out, const amrt__wire_header *h)
{
    unsigned char *p = out;
    put32(p + 0, h->magic);
    memcpy(p + 4, &h->version, 2);
    p[6] = h->type;
    p[7] = h->flags;
    put32(p + 8, h->length);
    put32(p + 12, h->nfds);
    put64(p + 16, h->call_id);
    put64(p + 24, h->object_id);
    memcpy(p + 32, &h->iid, 16);
    put32(p + 48, h->method);
    put32(p + 52, (uint32_t)h->status);
    put64(p + 56, h->reserved);
}

HRESULT amrt__wire_header_get(const void *in, amrt__wire_header *h)
{
    const unsigned char *p = in;
    h->magic = get32(p);
    memcpy(&h->version, p + 4, 2);
    h->type = p[6];
    h->flags = p[7];
    h->length = get32(p + 8);
    h->nfds = get32(p + 12);
    h->call_id = get64(p + 16);
    h->object_id = get64(p + 24);
    memcpy(&h->iid, p + 32, 16);
    h->method = get32(p + 48);
    h->status = (int32_t)get32(p + 52);
    h->reserved = get64(p + 56);
    if (h->magic != AMRT__WIRE_MAGIC)
        return BAD;
    if (h->version != AMRT__WIRE_VERSION)
        return RPC_E_VERSION_MISMATCH;
    if (h->type == 0 || h->type > AMRT__WIRE_TYPE_MAX || h->reserved != 0 || h->nfds > AMRT__WIRE_MAX_FDS ||
        h->length > amrt__wire_max_message() - AMRT__WIRE_HEADER)
        return BAD;
    return S_OK;
}

/* ==================================================================== buffers */

void amrt__wire_buf_init(amrt__wire_buf *b)
{
    memset(b, 0, sizeof *b);
}

void amrt__wire_buf_reset(amrt__wire_buf *b)
{
    for (unsigned i = 0; i < b->nfds; i++)
        if (b->fds[i] >= 0)
            close(b->fds[i]);
    b->nfds = 0;
    b->len = 0;
    b->nrefs = 0;
}

void amrt__wire_buf_fini(amrt__wire_buf *b)
{
    amrt__wire_buf_reset(b);
    amrt__free(b->data);
    amrt__free(b->fds);
    amrt__free(b->refs);
    memset(b, 0, sizeof *b);
}

/* grow an array of n elements of es bytes to hold one more */
static bool grow(void **arr, unsigned *cap, unsigned n, size_t es)
{
    if (n < *cap)
        return true;
    unsigned nc = *cap ? *cap * 2 : 8;
    void *a = amrt__alloc(nc * es);
    if (!a)
        return false;
    if (n)
        memcpy(a, *arr, n * es);
    amrt__free(*arr);
    *arr = a;
    *cap = nc;
    return true;
}

void *amrt__wire_buf_append(amrt__wire_buf *b, size_t n)
{
    size_t max = amrt__wire_max_message();
    if (n > max || b->len > max - n)
        return NULL;
    if (b->len + n > b->cap || !b->data) {       /* (a first append of 0 bytes too: never NULL + 0) */
        size_t nc = b->cap ? b->cap : 256;
        while (nc < b->len + n)
            nc *= 2;
        unsigned char *d = amrt__alloc(nc);
        if (!d)
            return NULL;
        if (b->len)
            memcpy(d, b->data, b->len);
        amrt__free(b->data);
        b->data = d;
        b->cap = nc;
    }
    void *p = b->data + b->len;
    b->len += n;
    return p;
}

HRESULT amrt__wire_buf_push_fd(amrt__wire_buf *b, int fd)
{
    if (b->nfds >= AMRT__WIRE_MAX_FDS) {
        close(fd);
        return BAD;
    }
    if (!grow((void **)&b->fds, &b->fdcap, b->nfds, sizeof(int))) {
        close(fd);
        return E_OUTOFMEMORY;
    }
    b->fds[b->nfds++] = fd;
    return S_OK;
}

HRESULT amrt__wire_buf_start(amrt__wire_buf *b)
{
    amrt__wire_buf_reset(b);
    void *p = amrt__wire_buf_append(b, AMRT__WIRE_HEADER);
    if (!p)
        return E_OUTOFMEMORY;
    memset(p, 0, AMRT__WIRE_HEADER);
    return S_OK;
}

void amrt__wire_buf_seal(amrt__wire_buf *b, amrt__wire_header *h)
{
    h->magic = AMRT__WIRE_MAGIC;
    h->version = AMRT__WIRE_VERSION;
    h->length = (uint32_t)(b->len - AMRT__WIRE_HEADER);
    h->nfds = b->nfds;
    h->reserved = 0;
    amrt__wire_header_put(b->data, h);
}

void amrt__wire_revoke(amrt__wire_buf *b, const amrt__wire_peer *peer)
{
    for (unsigned i = 0; i < b->nrefs; i++) {
        amrt__wire_objref r;
        memcpy(&r, b->data + b->refs[i], sizeof r);
        if (peer && peer->revoke)
            peer->revoke(peer->ctx, &r);
    }
    b->nrefs = 0;
}

/* ==================================================================== sizes */

/* the alignment of a value of 'size' bytes on the wire: the largest power
 * of two dividing it, at most 8 (never less than its C alignment) */
static size_t align_of(size_t size)
{
    size_t a = size & (~size + 1);
    return !a || a > 8 ? 8 : a;
}

static bool pointer_like(const AmrtType *t)
{
    switch (t->kind) {
    case AMRT_K_POINTER: case AMRT_K_STRING: case AMRT_K_WSTRING: case AMRT_K_BSTR: case AMRT_K_ARRAY:
    case AMRT_K_INTERFACE: case AMRT_K_HANDLE: case AMRT_K_SAFEARRAY:
        return true;
    default:
        return false;
    }
}

static size_t char_size(const AmrtType *t)
{
    return t->kind == AMRT_K_STRING ? 1 : sizeof(WCHAR);
}

/* The IID an interface pointer of t crosses as: its iid_is parameter's
 * value, or its declared one; NULL when it cannot be known. */
static const IID *iid_of(const Ctx *c, const AmrtType *t)
{
    if (t->iid_param < 0)
        return t->iid ? t->iid : &IID_IUnknown;
    if (t->iid_param >= c->m->nparams || !c->args[t->iid_param])
        return NULL;
    return *(const IID *const *)c->args[t->iid_param];
}

/* the values inside a VARIANT or a SAFEARRAY, as the kinds that pass them */
static const AmrtType t_bstr = { AMRT_K_BSTR, AMRT_F_UNIQUE, -1, 0, NULL, NULL, NULL, NULL, NULL, 0, NULL };
static const AmrtType t_unk = { AMRT_K_INTERFACE, AMRT_F_UNIQUE, -1, 0, NULL, &IID_IUnknown, NULL, NULL, NULL, 0, NULL };
static const AmrtType t_disp = { AMRT_K_INTERFACE, AMRT_F_UNIQUE, -1, 0, NULL, &IID_IDispatch, NULL, NULL, NULL, 0, NULL };

/* Zero the pointer slots of the flat copy dst of the value src (the same
 * memory when decoding). False when a union has no arm for its
 * discriminant. */
static bool mask(const Ctx *c, const AmrtType *t, const unsigned char *src, unsigned char *dst)
{
    if (pointer_like(t)) {
        memset(dst, 0, sizeof(void *));
        return true;
    }
    switch (t->kind) {
    case AMRT_K_VARIANT:            /* a member VARIANT's flat part is zeros: its value is deferred */
        memset(dst, 0, t->size);
        return true;
    case AMRT_K_CSTRUCT: case AMRT_K_CONFSTRUCT: {
        Ctx in = amrt__ctx_in(c, src);
        for (unsigned i = 0; i < t->nmembers; i++) {
            const AmrtMember *mb = &t->members[i];
            if (mb->type && !mask(&in, mb->type, src + mb->offset, dst + mb->offset))
                return false;
        }
        return true;
    }
    case AMRT_K_FIXED_ARRAY: {
        size_t es = amrt__value_size(t->ref);
        if (!amrt__plain(t->ref))
            for (size_t i = 0; i < t->size; i++)
                if (!mask(c, t->ref, src + i * es, dst + i * es))
                    return false;
        return true;
    }
    case AMRT_K_UNION: {
        if (!amrt__union_valid(c, t))
            return false;
        const AmrtType *arm = amrt__union_arm(c, t);
        return !arm || mask(c, arm, src, dst);
    }
    default:
        return true;
    }
}

/* ==================================================================== encoding */

typedef struct Alias { const void *p; const AmrtType *t; uint32_t id; } Alias;

typedef struct Enc {
    amrt__wire_buf *b;
    const amrt__wire_peer *peer;
    int depth;
    uint32_t next_id;               /* pointer ids given so far */
    bool aliased;                   /* some pointer was sent twice */
    Alias *tab;                     /* (address, type) -> id: open addressing */
    size_t tabcap, ntab;
    Alias inl[32];
} Enc;

static void enc_init(Enc *e, amrt__wire_buf *b, const amrt__wire_peer *peer)
{
    e->b = b;
    e->peer = peer;
    e->depth = 0;
    e->next_id = 0;
    e->aliased = false;
    e->tab = NULL;
    e->tabcap = 0;
    e->ntab = 0;
}

static void enc_fini(Enc *e)
{
    if (e->tab != e->inl)
        amrt__free(e->tab);
}

static size_t alias_hash(const void *p, const AmrtType *t)
{
    uint64_t h = ((uint64_t)(uintptr_t)p >> 3) ^ ((uint64_t)(uintptr_t)t << 7);
    return (size_t)((h * 0x9E3779B97F4A7C15ull) >> 20);
}

/* The id of pointer p to a t already sent (0: none); else p gets id 'id'. */
static HRESULT alias_find_or_add(Enc *e, const void *p, const AmrtType *t, uint32_t id, uint32_t *found)
{
    *found = 0;
    if ((e->ntab + 1) * 2 > e->tabcap) {
        size_t nc = e->tabcap ? e->tabcap * 2 : sizeof e->inl / sizeof e->inl[0];
        Alias *n = nc == sizeof e->inl / sizeof e->inl[0] ? e->inl : amrt__calloc(nc * sizeof *n);
        if (!n)
            return E_OUTOFMEMORY;
        if (n == e->inl)
            memset(n, 0, sizeof e->inl);
        for (size_t i = 0; i < e->tabcap; i++)
            if (e->tab[i].p) {
                size_t k = alias_hash(e->tab[i].p, e->tab[i].t) & (nc - 1);
                while (n[k].p)
                    k = (k + 1) & (nc - 1);
                n[k] = e->tab[i];
            }
        if (e->tab != e->inl)
            amrt__free(e->tab);
        e->tab = n;
        e->tabcap = nc;
    }
    size_t k = alias_hash(p, t) & (e->tabcap - 1);
    for (; e->tab[k].p; k = (k + 1) & (e->tabcap - 1))
        if (e->tab[k].p == p && e->tab[k].t == t) {
            *found = e->tab[k].id;
            return S_OK;
        }
    e->tab[k] = (Alias){ p, t, id };
    e->ntab++;
    return S_OK;
}

/* n bytes at the given alignment (padding zeroed); NULL: over the limit */
static unsigned char *put(Enc *e, size_t align, size_t n)
{
    size_t pad = (align - (e->b->len & (align - 1))) & (align - 1);
    unsigned char *p = amrt__wire_buf_append(e->b, pad + n);
    if (!p)
        return NULL;
    memset(p, 0, pad);
    return p + pad;
}

static HRESULT put_u32(Enc *e, uint32_t v)
{
    unsigned char *p = put(e, 4, 4);
    if (!p)
        return E_OUTOFMEMORY;
    put32(p, v);
    return S_OK;
}

static HRESULT enc_value(Enc *e, const Ctx *c, const AmrtType *t, const void *src);
static HRESULT enc_deferred(Enc *e, const Ctx *c, const AmrtType *t, const void *src);

/* n elements of et at src */
static HRESULT enc_elems(Enc *e, const Ctx *c, const AmrtType *et, const unsigned char *src, size_t n)
{
    size_t es = amrt__value_size(et);
    if (amrt__plain(et)) {
        unsigned char *p = put(e, align_of(es), n * es);
        if (!p)
            return E_OUTOFMEMORY;
        if (n)
            memcpy(p, src, n * es);
        return S_OK;
    }
    for (size_t i = 0; i < n; i++) {
        HRESULT hr = enc_value(e, c, et, src + i * es);
        if (FAILED(hr))
            return hr;
    }
    return S_OK;
}

/* the flat part of a composite value: its bytes, pointer slots zeroed */
static HRESULT enc_flat(Enc *e, const Ctx *c, const AmrtType *t, const unsigned char *src, size_t size)
{
    unsigned char *p = put(e, align_of(size), size);
    if (!p)
        return E_OUTOFMEMORY;
    memcpy(p, src, size);
    return mask(c, t, src, p) ? S_OK : E_INVALIDARG;
}

/* what a pointer to a t at p leads to */
static HRESULT enc_pointee(Enc *e, const Ctx *c, const AmrtType *t, const unsigned char *p)
{
    if (++e->depth > AMRT__WIRE_MAX_DEPTH)
        return E_INVALIDARG;
    HRESULT hr;
    if (t->kind == AMRT_K_CONFSTRUCT) {
        size_t size, es = amrt__value_size(t->ref);
        if (!amrt__instance_size(c, t, p, &size) || (size - t->size) / es > UINT32_MAX)
            return E_INVALIDARG;
        size_t n = (size - t->size) / es;
        Ctx in = amrt__ctx_in(c, p);
        if (FAILED(hr = put_u32(e, (uint32_t)n)) || FAILED(hr = enc_flat(e, c, t, p, t->size)) ||
            FAILED(hr = enc_elems(e, &in, t->ref, p + t->size, n)))
            return hr;
        for (unsigned i = 0; i < t->nmembers && SUCCEEDED(hr); i++)
            if (t->members[i].type)
                hr = enc_deferred(e, &in, t->members[i].type, p + t->members[i].offset);
    } else {
        hr = enc_value(e, c, t, p);
    }
    e->depth--;
    return hr;
}

static HRESULT enc_objref(Enc *e, const Ctx *c, const AmrtType *t, IUnknown *u)
{
    const IID *iid = iid_of(c, t);
    if (!iid)
        return E_INVALIDARG;
    if (!e->peer || !e->peer->marshal)
        return E_NOTIMPL;
    amrt__wire_objref r;
    memset(&r, 0, sizeof r);
    HRESULT hr = put_u32(e, M_VALUE);
    if (FAILED(hr))
        return hr;
    unsigned char *p = put(e, 8, sizeof r);
    if (!p)
        return E_OUTOFMEMORY;
    size_t at = (size_t)(p - e->b->data);
    if (!grow((void **)&e->b->refs, &e->b->refcap, e->b->nrefs, sizeof(uint32_t)))
        return E_OUTOFMEMORY;
    if (FAILED(hr = e->peer->marshal(e->peer->ctx, u, iid, &r)))
        return hr;
    r.iid = *iid;
    r.reserved = 0;
    memcpy(e->b->data + at, &r, sizeof r);
    e->b->refs[e->b->nrefs++] = (uint32_t)at;
    return S_OK;
}

static HRESULT enc_handle(Enc *e, HANDLE h)
{
    intptr_t fd = (intptr_t)h;
    if (fd <= 0 || fd > INT32_MAX)
        return put_u32(e, M_VALUE);         /* no descriptor */
    int dup = fcntl((int)fd, F_DUPFD_CLOEXEC, 0);
    if (dup < 0)
        return errno == EBADF ? E_HANDLE : E_OUTOFMEMORY;
    HRESULT hr = amrt__wire_buf_push_fd(e->b, dup);
    if (FAILED(hr))
        return hr == BAD ? E_INVALIDARG : hr;       /* too many descriptors for one message */
    return put_u32(e, e->b->nfds - 1);
}

static HRESULT enc_variant(Enc *e, const Ctx *c, const VARIANT *v);

/* docs/wire.md "SAFEARRAY": NULL or the array; 'want' its element type
 * (VT_EMPTY: any) */
static HRESULT enc_safearray(Enc *e, const Ctx *c, const SAFEARRAY *psa, VARTYPE want)
{
    HRESULT hr;
    size_t n;
    if (!psa)
        return put_u32(e, M_NULL);
    VARTYPE vt = amrt__sa_check(psa, &n);
    if (vt == VT_EMPTY || !amrt__vt_fits(vt, want) || n > UINT32_MAX)
        return E_INVALIDARG;
    if (++e->depth > AMRT__WIRE_MAX_DEPTH)
        return E_INVALIDARG;
    if (FAILED(hr = put_u32(e, M_VALUE)) || FAILED(hr = put_u32(e, vt)) || FAILED(hr = put_u32(e, psa->cDims)) ||
        FAILED(hr = put_u32(e, psa->cbElements)))
        return hr;
    for (USHORT i = 0; i < psa->cDims; i++)
        if (FAILED(hr = put_u32(e, psa->rgsabound[i].cElements)) ||
            FAILED(hr = put_u32(e, (uint32_t)psa->rgsabound[i].lLbound)))
            return hr;
    size_t es = psa->cbElements;
    const unsigned char *p = psa->pvData;
    if (amrt__vt_scalar_size(vt)) {
        unsigned char *w = put(e, align_of(es), n * es);
        if (!w)
            return E_OUTOFMEMORY;
        if (n)
            memcpy(w, p, n * es);
    } else {
        for (size_t i = 0; i < n; i++) {
            const void *el = p + i * es;
            if (vt == VT_VARIANT)
                hr = enc_variant(e, c, el);
            else
                hr = enc_deferred(e, c, vt == VT_BSTR ? &t_bstr : vt == VT_UNKNOWN ? &t_unk : &t_disp, el);
            if (FAILED(hr))
                return hr;
        }
    }
    e->depth--;
    return S_OK;
}

/* docs/wire.md "VARIANT": its vt, then its value by vt */
static HRESULT enc_variant(Enc *e, const Ctx *c, const VARIANT *v)
{
    VARTYPE vt = v->vt;
    HRESULT hr;
    if (!amrt__vt_passable(vt))
        return E_INVALIDARG;
    if (vt == VT_DISPATCH && v->pdispVal && !amrt__glue_by_iid(&IID_IDispatch, false))
        return E_NOTIMPL;               /* no proxy of IDispatch could be made on the other side */
    if (FAILED(hr = put_u32(e, vt)))
        return hr;
    if (vt & VT_ARRAY)
        return enc_safearray(e, c, v->parray, vt);       /* VT_ARRAY | vt: exactly vt */
    if (vt & VT_BYREF) {                /* its pointee: a marker, the scalar */
        size_t size = amrt__vt_scalar_size(vt & (VARTYPE)~VT_BYREF);
        if (!v->byref)
            return put_u32(e, M_NULL);
        unsigned char *p;
        if (FAILED(hr = put_u32(e, M_VALUE)) || !(p = put(e, size, size)))
            return FAILED(hr) ? hr : E_OUTOFMEMORY;
        memcpy(p, v->byref, size);
        return S_OK;
    }
    switch (vt) {
    case VT_EMPTY: case VT_NULL:
        return S_OK;
    case VT_BSTR:
        return enc_deferred(e, c, &t_bstr, &v->bstrVal);
    case VT_UNKNOWN: case VT_DISPATCH:
        return enc_deferred(e, c, vt == VT_UNKNOWN ? &t_unk : &t_disp, &v->punkVal);
    case VT_DECIMAL: {                  /* its 16 bytes, the first two (where vt is) zero */
        unsigned char *p = put(e, 8, sizeof(DECIMAL));
        if (!p)
            return E_OUTOFMEMORY;
        memcpy(p, &v->decVal, sizeof(DECIMAL));
        memset(p, 0, 2);
        return S_OK;
    }
    default: {
        size_t size = amrt__vt_scalar_size(vt);
        unsigned char *p = put(e, size, size);
        if (!p)
            return E_OUTOFMEMORY;
        memcpy(p, &v->llVal, size);
        return S_OK;
    }
    }
}

/* What the pointer slots of the value at src lead to (its flat part is sent). */
static HRESULT enc_deferred(Enc *e, const Ctx *c, const AmrtType *t, const void *src)
{
    HRESULT hr;
    switch (t->kind) {
    case AMRT_K_SCALAR: case AMRT_K_STRUCT:
        return S_OK;
    case AMRT_K_HANDLE:
        return enc_handle(e, *(HANDLE const *)src);
    case AMRT_K_INTERFACE: {
        IUnknown *u = *(IUnknown *const *)src;
        return u ? enc_objref(e, c, t, u) : put_u32(e, M_NULL);
    }
    case AMRT_K_STRING: case AMRT_K_WSTRING: {
        const void *s = *(void *const *)src;
        if (!s)
            return t->flags & AMRT_F_UNIQUE ? put_u32(e, M_NULL) : HRESULT_FROM_WIN32(RPC_X_NULL_REF_POINTER);
        size_t bytes = amrt__str_bytes(t, s), cs = char_size(t);
        if (bytes / cs > UINT32_MAX)
            return E_OUTOFMEMORY;
        if (FAILED(hr = put_u32(e, M_VALUE)) || FAILED(hr = put_u32(e, (uint32_t)(bytes / cs))))
            return hr;
        unsigned char *p = put(e, cs, bytes);
        if (!p)
            return E_OUTOFMEMORY;
        memcpy(p, s, bytes);
        return S_OK;
    }
    case AMRT_K_BSTR: {
        BSTR s = *(BSTR const *)src;
        if (!s)
            return put_u32(e, M_NULL);
        UINT bytes = SysStringByteLen(s);
        if (FAILED(hr = put_u32(e, M_VALUE)) || FAILED(hr = put_u32(e, bytes)))
            return hr;
        unsigned char *p = put(e, 4, bytes);
        if (!p)
            return E_OUTOFMEMORY;
        memcpy(p, s, bytes);
        return S_OK;
    }
    case AMRT_K_POINTER: {
        const void *p = *(void *const *)src;
        if (!p)
            return t->flags & AMRT_F_UNIQUE ? put_u32(e, M_NULL) : HRESULT_FROM_WIN32(RPC_X_NULL_REF_POINTER);
        uint32_t found;
        if (e->next_id >= 0x7fffffffu)
            return E_OUTOFMEMORY;
        if (FAILED(hr = alias_find_or_add(e, p, t->ref, e->next_id + 1, &found)))
            return hr;
        if (found) {
            e->aliased = true;
            return put_u32(e, found);   /* sent already: the same pointer */
        }
        if (FAILED(hr = put_u32(e, ++e->next_id)))
            return hr;
        return enc_pointee(e, c, t->ref, p);
    }
    case AMRT_K_ARRAY: {
        const unsigned char *p = *(void *const *)src;
        size_t n, first, len;
        if (!p && (t->flags & AMRT_F_UNIQUE))
            return put_u32(e, M_NULL);
        if (!amrt__array_bounds(c, t, &n, &first, &len))
            return E_INVALIDARG;
        if (!p)
            return n ? HRESULT_FROM_WIN32(RPC_X_NULL_REF_POINTER) : put_u32(e, M_NULL);
        if (n > UINT32_MAX)
            return E_OUTOFMEMORY;
        if (++e->depth > AMRT__WIRE_MAX_DEPTH)
            return E_INVALIDARG;
        if (FAILED(hr = put_u32(e, M_VALUE)) || FAILED(hr = put_u32(e, (uint32_t)n)) ||
            FAILED(hr = put_u32(e, (uint32_t)first)) || FAILED(hr = put_u32(e, (uint32_t)len)))
            return hr;
        hr = enc_elems(e, c, t->ref, p + first * amrt__value_size(t->ref), len);
        e->depth--;
        return hr;
    }
    case AMRT_K_FIXED_ARRAY: {
        size_t es = amrt__value_size(t->ref);
        if (amrt__plain(t->ref))
            return S_OK;
        for (size_t i = 0; i < t->size; i++)
            if (FAILED(hr = enc_deferred(e, c, t->ref, (const unsigned char *)src + i * es)))
                return hr;
        return S_OK;
    }
    case AMRT_K_CSTRUCT: {
        Ctx in = amrt__ctx_in(c, src);
        for (unsigned i = 0; i < t->nmembers; i++)
            if (t->members[i].type &&
                FAILED(hr = enc_deferred(e, &in, t->members[i].type, (const unsigned char *)src + t->members[i].offset)))
                return hr;
        return S_OK;
    }
    case AMRT_K_UNION: {
        const AmrtType *arm = amrt__union_arm(c, t);
        return arm ? enc_deferred(e, c, arm, src) : S_OK;
    }
    case AMRT_K_VARIANT:
        return enc_variant(e, c, src);
    case AMRT_K_SAFEARRAY:
        return enc_safearray(e, c, *(SAFEARRAY *const *)src, (VARTYPE)t->size);
    }
    return E_UNEXPECTED;                /* CONFSTRUCT: only behind a pointer */
}

/* a value stored at src: its flat part, then what it points to */
static HRESULT enc_value(Enc *e, const Ctx *c, const AmrtType *t, const void *src)
{
    switch (t->kind) {
    case AMRT_K_SCALAR: case AMRT_K_STRUCT: {
        unsigned char *p = put(e, align_of(t->size), t->size);
        if (!p)
            return E_OUTOFMEMORY;
        memcpy(p, src, t->size);
        return S_OK;
    }
    case AMRT_K_CSTRUCT: case AMRT_K_UNION: case AMRT_K_FIXED_ARRAY: {
        HRESULT hr = enc_flat(e, c, t, src, amrt__value_size(t));
        if (FAILED(hr))
            return hr;
        if (t->kind == AMRT_K_FIXED_ARRAY && amrt__plain(t->ref))
            return S_OK;
        return enc_deferred(e, c, t, src);
    }
    case AMRT_K_CONFSTRUCT:
        return E_UNEXPECTED;
    default:
        return enc_deferred(e, c, t, src);
    }
}

/* ==================================================================== decoding */

typedef struct Ref { void *p; const AmrtType *t; } Ref;

typedef struct Dec {
    const unsigned char *p;         /* the body */
    size_t len, at;
    amrt__wire_buf *msg;            /* its descriptors */
    const amrt__wire_peer *peer;
    bool discard;                   /* drop object references instead of unmarshaling them */
    bool aliased;                   /* a pointer arrived twice */
    int depth;
    size_t limit;                   /* the most bytes one allocation may have */
    size_t budget;                  /* the bytes this message's values may still allocate */
    Ref *ids;                       /* pointer id - 1 -> what it points to */
    unsigned nids, capids;
    Ref inl[16];
} Dec;

static void dec_init(Dec *d, amrt__wire_buf *msg, const amrt__wire_peer *peer, bool discard)
{
    d->p = msg->data + AMRT__WIRE_HEADER;
    d->len = msg->len - AMRT__WIRE_HEADER;
    d->at = 0;
    d->msg = msg;
    d->peer = peer;
    d->discard = discard;
    d->aliased = false;
    d->depth = 0;
    d->limit = amrt__wire_max_message();
    d->budget = 2 * d->limit;
    d->ids = d->inl;
    d->nids = 0;
    d->capids = sizeof d->inl / sizeof d->inl[0];
}

static void dec_fini(Dec *d)
{
    if (d->ids != d->inl)
        amrt__free(d->ids);
}

/* n bytes at the given alignment; NULL: the body is shorter */
static const unsigned char *get(Dec *d, size_t align, size_t n)
{
    size_t at = (d->at + align - 1) & ~(align - 1);
    if (at < d->at || at > d->len || n > d->len - at)
        return NULL;
    d->at = at + n;
    return d->p + at;
}

static bool get_u32(Dec *d, uint32_t *v)
{
    const unsigned char *p = get(d, 4, 4);
    if (!p)
        return false;
    *v = get32(p);
    return true;
}

/* The fewest bytes a value of t takes on the wire (its flat part, or a
 * pointer's marker): a count of elements the rest of the body cannot hold
 * is refused before anything is allocated for them. */
static size_t wire_min(const AmrtType *t)
{
    size_t n = pointer_like(t) || t->kind == AMRT_K_VARIANT ? 4 : amrt__value_size(t);
    return n ? n : 1;
}

/* Take n bytes of the message's budget: all that the values of one
 * message allocate stays within twice the message limit, whatever its
 * counts say (a varying array passes few of the elements it allocates). */
static bool charge(Dec *d, size_t n)
{
    if (n > d->budget)
        return false;
    d->budget -= n;
    return true;
}

/* zeroed room for extra bytes and n elements of es bytes, within the
 * limit and the budget (else RPC_X_BAD_STUB_DATA) */
static HRESULT dec_alloc(Dec *d, size_t n, size_t es, size_t extra, unsigned char **out)
{
    if (extra > d->limit || (es && n > (d->limit - extra) / es) || !charge(d, extra + n * es))
        return BAD;
    return (*out = amrt__calloc(extra + n * es)) ? S_OK : E_OUTOFMEMORY;
}

static HRESULT dec_value(Dec *d, const Ctx *c, const AmrtType *t, void *dst);
static HRESULT dec_deferred(Dec *d, const Ctx *c, const AmrtType *t, void *dst);

static HRESULT dec_elems(Dec *d, const Ctx *c, const AmrtType *et, unsigned char *dst, size_t n)
{
    size_t es = amrt__value_size(et);
    if (amrt__plain(et)) {
        if (es && n > d->len / es)
            return BAD;
        const unsigned char *p = get(d, align_of(es), n * es);
        if (!p)
            return BAD;
        if (n)
            memcpy(dst, p, n * es);
        return S_OK;
    }
    for (size_t i = 0; i < n; i++) {
        HRESULT hr = dec_value(d, c, et, dst + i * es);
        if (FAILED(hr))
            return hr;
    }
    return S_OK;
}

static HRESULT dec_flat(Dec *d, const Ctx *c, const AmrtType *t, unsigned char *dst, size_t size)
{
    const unsigned char *p = get(d, align_of(size), size);
    if (!p)
        return BAD;
    memcpy(dst, p, size);
    if (!mask(c, t, dst, dst)) {
        memset(dst, 0, size);
        return BAD;
    }
    return S_OK;
}

static HRESULT add_id(Dec *d, void *p, const AmrtType *t)
{
    if (d->nids == d->capids) {
        /* (not grow(): the first ids live in the decoder itself, never freed) */
        unsigned nc = d->capids * 2;
        Ref *n = amrt__alloc(nc * sizeof *n);
        if (!n)
            return E_OUTOFMEMORY;
        memcpy(n, d->ids, d->nids * sizeof *n);
        if (d->ids != d->inl)
            amrt__free(d->ids);
        d->ids = n;
        d->capids = nc;
    }
    d->ids[d->nids++] = (Ref){ p, t };
    return S_OK;
}

/* The pointee of a pointer to t: allocated, stored at *slot (before its
 * contents are decoded, so that a failure frees it), entered as pointer
 * id 'id' when not 0. */
static HRESULT dec_pointee(Dec *d, const Ctx *c, const AmrtType *t, void **slot, uint32_t id)
{
    if (++d->depth > AMRT__WIRE_MAX_DEPTH)
        return BAD;
    HRESULT hr;
    if (t->kind == AMRT_K_CONFSTRUCT) {
        uint32_t n;
        size_t es = amrt__value_size(t->ref);
        if (!get_u32(d, &n) || n > (d->len - d->at) / wire_min(t->ref))
            return BAD;                 /* the elements are not there: allocate nothing */
        unsigned char *b;
        if (FAILED(hr = dec_alloc(d, n, es, t->size, &b)))
            return hr;
        size_t size;
        Ctx in = amrt__ctx_in(c, b);
        if (FAILED(hr = dec_flat(d, c, t, b, t->size)) || !amrt__instance_size(c, t, b, &size) ||
            size != t->size + (size_t)n * es) {
            amrt__free(b);              /* nothing in it points anywhere yet */
            return FAILED(hr) ? hr : BAD;
        }
        if (id && FAILED(hr = add_id(d, b, t))) {
            amrt__free(b);
            return hr;
        }
        *slot = b;
        if (FAILED(hr = dec_elems(d, &in, t->ref, b + t->size, n)))
            return hr;
        for (unsigned i = 0; i < t->nmembers; i++)
            if (t->members[i].type && FAILED(hr = dec_deferred(d, &in, t->members[i].type, b + t->members[i].offset)))
                return hr;
    } else {
        unsigned char *b;
        if (FAILED(hr = dec_alloc(d, 1, amrt__value_size(t), 0, &b)))
            return hr;
        if (id && FAILED(hr = add_id(d, b, t))) {
            amrt__free(b);
            return hr;
        }
        *slot = b;
        if (FAILED(hr = dec_value(d, c, t, b)))
            return hr;
    }
    d->depth--;
    return S_OK;
}

static HRESULT dec_objref(Dec *d, const Ctx *c, const AmrtType *t, void *dst)
{
    uint32_t mk;
    if (!get_u32(d, &mk))
        return BAD;
    if (mk == M_NULL)
        return S_OK;
    const unsigned char *p;
    if (mk != M_VALUE || !(p = get(d, 8, sizeof(amrt__wire_objref))))
        return BAD;
    amrt__wire_objref r;
    memcpy(&r, p, sizeof r);
    const IID *iid = iid_of(c, t);
    if (r.reserved || !iid || !IsEqualIID(&r.iid, iid) || !d->peer || !d->peer->unmarshal)
        return BAD;
    if (d->discard && d->peer->drop) {
        d->peer->drop(d->peer->ctx, &r);
        return S_OK;
    }
    IUnknown *u = NULL;
    HRESULT hr = d->peer->unmarshal(d->peer->ctx, &r, &u);
    if (FAILED(hr) || !u)
        return hr == E_OUTOFMEMORY ? hr : BAD;
    if (d->discard)
        IUnknown_Release(u);
    else
        *(IUnknown **)dst = u;
    return S_OK;
}

static HRESULT dec_variant(Dec *d, const Ctx *c, VARIANT *dst);

/* the fewest bytes an element of vt takes on the wire */
static size_t vt_wire_min(VARTYPE vt)
{
    size_t n = amrt__vt_scalar_size(vt);
    return n ? n : 4;
}

/* docs/wire.md "SAFEARRAY" into *slot (NULL); 'want' as enc_safearray's.
 * The array is stored before its elements are decoded: a failure leaves
 * it for the frame's free. */
static HRESULT dec_safearray(Dec *d, const Ctx *c, SAFEARRAY **slot, VARTYPE want)
{
    uint32_t mk, vt, dims, cb;
    HRESULT hr;
    if (!get_u32(d, &mk))
        return BAD;
    if (mk == M_NULL)
        return S_OK;
    size_t es;
    if (mk != M_VALUE || !get_u32(d, &vt) || !get_u32(d, &dims) || !get_u32(d, &cb) || vt > VT_TYPEMASK ||
        !(es = amrt__vt_elem_size((VARTYPE)vt)) || !amrt__vt_fits((VARTYPE)vt, want) || !dims ||
        dims > AMRT__SA_MAX_DIMS || cb != es)
        return BAD;
    SAFEARRAYBOUND b[AMRT__SA_MAX_DIMS];
    size_t n = 1;
    for (uint32_t i = 0; i < dims; i++) {
        uint32_t ce, lb;
        if (!get_u32(d, &ce) || !get_u32(d, &lb))
            return BAD;
        if ((int64_t)(int32_t)lb + (int64_t)ce - 1 > INT32_MAX || (ce && n > SIZE_MAX / ce))
            return BAD;
        n *= ce;
        b[i].cElements = ce;
        b[i].lLbound = (LONG)(int32_t)lb;
    }
    if (n > (d->len - d->at) / vt_wire_min((VARTYPE)vt))
        return BAD;                     /* the elements are not there: allocate nothing */
    if (n > d->limit / es || !charge(d, n * es + sizeof(SAFEARRAY) + dims * sizeof(SAFEARRAYBOUND) + 16))
        return BAD;
    if (++d->depth > AMRT__WIRE_MAX_DEPTH)
        return BAD;
    SAFEARRAY *psa;
    if (FAILED(hr = amrt__sa_create((VARTYPE)vt, dims, b, &psa)))
        return hr;
    *slot = psa;
    unsigned char *p = psa->pvData;
    if (amrt__vt_scalar_size((VARTYPE)vt)) {
        const unsigned char *w = get(d, align_of(es), n * es);
        if (!w)
            return BAD;
        if (n)
            memcpy(p, w, n * es);
    } else {
        for (size_t i = 0; i < n; i++) {
            void *el = p + i * es;
            if (vt == VT_VARIANT)
                hr = dec_variant(d, c, el);
            else if (vt == VT_BSTR)
                hr = dec_deferred(d, c, &t_bstr, el);
            else
                hr = dec_objref(d, c, vt == VT_UNKNOWN ? &t_unk : &t_disp, el);
            if (FAILED(hr))
                return hr;
        }
    }
    d->depth--;
    return S_OK;
}

/* docs/wire.md "VARIANT" into dst (zeroed): its vt is set first, its
 * value after (a VARIANT is clearable at every step) */
static HRESULT dec_variant(Dec *d, const Ctx *c, VARIANT *dst)
{
    uint32_t w;
    if (!get_u32(d, &w) || w > 0xffff || !amrt__vt_passable((VARTYPE)w))
        return BAD;
    VARTYPE vt = (VARTYPE)w;
    dst->vt = vt;
    if (vt & VT_ARRAY)
        return dec_safearray(d, c, &dst->parray, vt);
    if (vt & VT_BYREF) {                /* the pointee in the VARIANT itself */
        size_t size = amrt__vt_scalar_size(vt & (VARTYPE)~VT_BYREF);
        uint32_t mk;
        const unsigned char *p;
        if (!get_u32(d, &mk) || (mk != M_NULL && mk != M_VALUE))
            return BAD;
        if (mk == M_NULL)
            return S_OK;
        if (!(p = get(d, size, size)))
            return BAD;
        dst->byref = amrt__variant_inline(dst);
        memcpy(dst->byref, p, size);
        return S_OK;
    }
    switch (vt) {
    case VT_EMPTY: case VT_NULL:
        return S_OK;
    case VT_BSTR:
        return dec_deferred(d, c, &t_bstr, &dst->bstrVal);
    case VT_UNKNOWN: case VT_DISPATCH:
        return dec_objref(d, c, vt == VT_UNKNOWN ? &t_unk : &t_disp, &dst->punkVal);
    case VT_DECIMAL: {
        const unsigned char *p = get(d, 8, sizeof(DECIMAL));
        if (!p || p[0] || p[1])
            return BAD;
        memcpy(&dst->decVal, p, sizeof(DECIMAL));
        dst->vt = vt;
        return S_OK;
    }
    default: {
        size_t size = amrt__vt_scalar_size(vt);
        const unsigned char *p = get(d, size, size);
        if (!p)
            return BAD;
        memcpy(&dst->llVal, p, size);
        return S_OK;
    }
    }
}

static HRESULT dec_deferred(Dec *d, const Ctx *c, const AmrtType *t, void *dst)
{
    uint32_t mk;
    HRESULT hr;
    switch (t->kind) {
    case AMRT_K_SCALAR: case AMRT_K_STRUCT:
        return S_OK;
    case AMRT_K_HANDLE:
        if (!get_u32(d, &mk))
            return BAD;
        if (mk == M_VALUE)
            return S_OK;
        if (mk >= d->msg->nfds || d->msg->fds[mk] < 0)
            return BAD;             /* no such descriptor, or one used twice */
        *(HANDLE *)dst = (HANDLE)(intptr_t)d->msg->fds[mk];
        d->msg->fds[mk] = -1;
        return S_OK;
    case AMRT_K_INTERFACE:
        return dec_objref(d, c, t, dst);
    case AMRT_K_STRING: case AMRT_K_WSTRING: {
        uint32_t n;
        if (!get_u32(d, &mk))
            return BAD;
        if (mk == M_NULL)
            return t->flags & AMRT_F_UNIQUE ? S_OK : BAD;
        size_t cs = char_size(t);
        const unsigned char *p;
        if (mk != M_VALUE || !get_u32(d, &n) || n == 0 || n > d->len / cs || !(p = get(d, cs, (size_t)n * cs)))
            return BAD;
        if ((cs == 1 ? memchr(p, 0, n) != p + n - 1 : false) || !charge(d, (size_t)n * cs))
            return BAD;
        if (cs != 1) {
            for (uint32_t i = 0; i < n; i++) {
                WCHAR w;
                memcpy(&w, p + (size_t)i * cs, sizeof w);
                if ((w == 0) != (i == n - 1))
                    return BAD;     /* must end at its one NUL */
            }
        }
        void *s = CoTaskMemAlloc((size_t)n * cs);
        if (!s)
            return E_OUTOFMEMORY;
        memcpy(s, p, (size_t)n * cs);
        *(void **)dst = s;
        return S_OK;
    }
    case AMRT_K_BSTR: {
        uint32_t n;
        const unsigned char *p;
        if (!get_u32(d, &mk))
            return BAD;
        if (mk == M_NULL)
            return S_OK;
        if (mk != M_VALUE || !get_u32(d, &n) || n > 0x7fff0000u || !(p = get(d, 4, n)) || !charge(d, n))
            return BAD;
        BSTR s = SysAllocStringByteLen((LPCSTR)p, n);
        if (!s)
            return E_OUTOFMEMORY;
        *(BSTR *)dst = s;
        return S_OK;
    }
    case AMRT_K_POINTER:
        if (!get_u32(d, &mk))
            return BAD;
        if (mk == M_NULL)
            return t->flags & AMRT_F_UNIQUE ? S_OK : BAD;
        if (mk == d->nids + 1 && mk < M_VALUE)
            return dec_pointee(d, c, t->ref, (void **)dst, mk);
        if (mk == M_NULL || mk > d->nids || d->ids[mk - 1].t != t->ref)
            return BAD;             /* an unknown id, or one of another type */
        *(void **)dst = d->ids[mk - 1].p;
        d->aliased = true;
        return S_OK;
    case AMRT_K_ARRAY: {
        size_t n, first, len, es = amrt__value_size(t->ref);
        uint32_t wn, wf, wl;
        if (!get_u32(d, &mk))
            return BAD;
        if (mk == M_NULL) {
            if (t->flags & AMRT_F_UNIQUE)
                return S_OK;
            return amrt__array_bounds(c, t, &n, &first, &len) && n == 0 ? S_OK : BAD;
        }
        if (mk != M_VALUE || !get_u32(d, &wn) || !get_u32(d, &wf) || !get_u32(d, &wl) ||
            !amrt__array_bounds(c, t, &n, &first, &len) || n != wn || first != wf || len != wl)
            return BAD;             /* the counts must be what the description says */
        if (++d->depth > AMRT__WIRE_MAX_DEPTH)
            return BAD;
        if (len > (d->len - d->at) / wire_min(t->ref))
            return BAD;                 /* the elements are not there: allocate nothing */
        unsigned char *b;
        if (FAILED(hr = dec_alloc(d, n, es, 0, &b)))
            return hr;
        *(void **)dst = b;
        if (FAILED(hr = dec_elems(d, c, t->ref, b + first * es, len)))
            return hr;
        d->depth--;
        return S_OK;
    }
    case AMRT_K_FIXED_ARRAY: {
        size_t es = amrt__value_size(t->ref);
        if (amrt__plain(t->ref))
            return S_OK;
        for (size_t i = 0; i < t->size; i++)
            if (FAILED(hr = dec_deferred(d, c, t->ref, (unsigned char *)dst + i * es)))
                return hr;
        return S_OK;
    }
    case AMRT_K_CSTRUCT: {
        Ctx in = amrt__ctx_in(c, dst);
        for (unsigned i = 0; i < t->nmembers; i++)
            if (t->members[i].type &&
                FAILED(hr = dec_deferred(d, &in, t->members[i].type, (unsigned char *)dst + t->members[i].offset)))
                return hr;
        return S_OK;
    }
    case AMRT_K_UNION: {
        const AmrtType *arm = amrt__union_arm(c, t);
        return arm ? dec_deferred(d, c, arm, dst) : S_OK;
    }
    case AMRT_K_VARIANT:
        return dec_variant(d, c, dst);
    case AMRT_K_SAFEARRAY:
        return dec_safearray(d, c, dst, (VARTYPE)t->size);
    }
    return BAD;
}

static HRESULT dec_value(Dec *d, const Ctx *c, const AmrtType *t, void *dst)
{
    switch (t->kind) {
    case AMRT_K_SCALAR: case AMRT_K_STRUCT: {
        const unsigned char *p = get(d, align_of(t->size), t->size);
        if (!p)
            return BAD;
        memcpy(dst, p, t->size);
        return S_OK;
    }
    case AMRT_K_CSTRUCT: case AMRT_K_UNION: case AMRT_K_FIXED_ARRAY: {
        HRESULT hr = dec_flat(d, c, t, dst, amrt__value_size(t));
        if (FAILED(hr))
            return hr;
        if (t->kind == AMRT_K_FIXED_ARRAY && amrt__plain(t->ref))
            return S_OK;
        return dec_deferred(d, c, t, dst);
    }
    case AMRT_K_CONFSTRUCT:
        return BAD;
    default:
        return dec_deferred(d, c, t, dst);
    }
}

/* ==================================================================== freeing */

/* Decoded (or callee-made) values are freed by interp.c's walk with a
 * freer: each pointer once when the frame is aliased, never the frame's
 * own storage (small pointees live in it). */
static void freer_for(AmrtFreer *fr, const amrt__wire_frame *f, bool aliased)
{
    amrt__freer_init(fr, aliased);
    fr->keep[0][0] = f->storage;
    fr->keep[0][1] = f->storage + sizeof f->storage;
    if (f->block) {
        fr->keep[1][0] = f->block;
        fr->keep[1][1] = f->block + f->cap;
    }
}

/* ==================================================================== frames */

/* A top-level array argument keeps, next to its pointer, the count of
 * elements it was allocated with and (client) the caller's count. */
static size_t *arr_count(void *slot) { return (size_t *)((unsigned char *)slot + sizeof(void *)); }
static size_t *arr_caller(void *slot) { return (size_t *)((unsigned char *)slot + 2 * sizeof(void *)); }

enum { INLINE_POINTEE = 32 };       /* bytes of a inl plain pointee kept in its argument's slot */

static bool inline_ok(const AmrtType *t, int i)
{
    return i < 64 && t->kind == AMRT_K_POINTER && amrt__plain(t->ref) && amrt__value_size(t->ref) <= INLINE_POINTEE;
}

/* an argument's slot: its value (or an array's pointer and counts, or a
 * inl pointer's pointee 16 bytes in) */
static size_t slot_room(const AmrtType *t, int i)
{
    if (t->kind == AMRT_K_ARRAY)
        return 3 * sizeof(void *);
    if (inline_ok(t, i))
        return 16 + ((amrt__value_size(t->ref) + 7) & ~(size_t)7);
    return (amrt__value_size(t) + 7) & ~(size_t)7;
}

static unsigned char *inline_pointee(const amrt__wire_frame *f, int i)
{
    return (unsigned char *)f->args[i] + 16;
}

static HRESULT frame_layout(amrt__wire_frame *f, const AmrtMethod *m)
{
    if (f->m == m)
        return S_OK;
    if (m->ret_size > sizeof f->ret)
        return E_NOTIMPL;
    size_t n = m->nparams, ptrs = (n * sizeof(void *) + 15) & ~(size_t)15, vals = 0;
    for (size_t i = 0; i < n; i++)
        vals = ((vals + 15) & ~(size_t)15) + slot_room(m->params[i].type, (int)i);
    unsigned char *base;
    if (ptrs + vals <= sizeof f->storage) {
        base = f->storage;
    } else {
        if (f->cap < ptrs + vals) {
            unsigned char *b = amrt__alloc(ptrs + vals);
            if (!b)
                return E_OUTOFMEMORY;
            amrt__free(f->block);
            f->block = b;
            f->cap = ptrs + vals;
        }
        base = f->block;
    }
    f->args = (void **)base;
    f->vals = base + ptrs;
    f->vals_size = vals;
    f->inline_ptr = 0;
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        off = (off + 15) & ~(size_t)15;
        f->args[i] = f->vals + off;
        off += slot_room(m->params[i].type, (int)i);
        if (inline_ok(m->params[i].type, (int)i))
            f->inline_ptr |= (uint64_t)1 << i;
    }
    f->m = m;
    return S_OK;
}

static void frame_zero(amrt__wire_frame *f)
{
    memset(f->vals, 0, f->vals_size);
    memset(f->ret, 0, sizeof f->ret);
}

void amrt__wire_frame_init(amrt__wire_frame *f)
{
    memset(f, 0, offsetof(amrt__wire_frame, storage));
}

/* what a frame holds: nothing; decoded or kept values; or (client) nothing
 * but the plan of the flat request it sent (its values untouched, zero) */
enum { S_EMPTY, S_HELD, S_FLAT, S_FLAT_HELD };
/* S_FLAT_HELD: (server) a flat method's request decoded: plain values, and
 * the [out] and [in,out] pointees, in the frame or allocated */

/* Free what the argument values own: non-holders first, holders (which
 * the others' counts and arms read) last. */
static void frame_free_values(amrt__wire_frame *f)
{
    const AmrtMethod *m = f->m;
    if (!m || !f->state)
        return;
    if (f->state == S_FLAT) {
        f->state = 0;
        return;
    }
    if (f->state == S_FLAT_HELD) {
        /* what the general path below frees of such a frame: the pointees
         * outside it (a flat method's pointers are [ref], to plain values) */
        for (int i = 0; i < m->nparams; i++)
            if (m->params[i].dir != AMRT_IN && !(f->inline_ptr >> i & 1)) {
                amrt__free(*(void **)f->args[i]);
                *(void **)f->args[i] = NULL;
            }
        f->state = 0;
        return;
    }
    Ctx c = amrt__ctx(m, f->args);
    AmrtFreer fr;
    freer_for(&fr, f, f->aliased);
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < m->nparams; i++) {
            const AmrtType *t = m->params[i].type;
            if (amrt__is_holder(t) != (pass == 1))
                continue;
            void *slot = f->args[i];
            if (t->kind == AMRT_K_ARRAY) {
                unsigned char *p = *(void **)slot;
                if (p)
                    amrt__free_elems_with(&fr, &c, t->ref, p, *arr_count(slot));
                amrt__free(p);
                *(void **)slot = NULL;
            } else {
                amrt__free_value(&fr, &c, t, slot);
            }
        }
    amrt__freer_fini(&fr);
    f->state = 0;
    f->aliased = false;
}

void amrt__wire_frame_clear(amrt__wire_frame *f)
{
    frame_free_values(f);
    if (f->m)
        frame_zero(f);
}

void amrt__wire_frame_fini(amrt__wire_frame *f)
{
    amrt__wire_frame_clear(f);
    amrt__free(f->block);
    f->block = NULL;
    f->cap = 0;
    f->m = NULL;
}

/* Storage for the pointee of top-level pointer parameter i (zeroed). */
static void *pointee_storage(amrt__wire_frame *f, int i)
{
    void **slot = f->args[i];
    if (*slot)
        return *slot;
    const AmrtType *t = f->m->params[i].type;
    void *p = f->inline_ptr >> i & 1 ? inline_pointee(f, i) : amrt__calloc(amrt__value_size(t->ref));
    if (p)
        memset(p, 0, amrt__value_size(t->ref));
    *slot = p;
    return p;
}

const AmrtMethod *amrt__wire_method(const AmrtInterface *glue, uint32_t index)
{
    for (int depth = 0; glue && depth < 64; depth++) {
        uint32_t below = 0;
        int links = 0;
        for (const AmrtInterface *b = glue->base; b && links < 64; b = b->base, links++)
            below += b->nmethods;
        if (index >= below)
            /* an interface's [call_as] twins follow its vtable methods */
            return index - below < (uint32_t)glue->nmethods + glue->ncall_as ? &glue->methods[index - below] : NULL;
        glue = glue->base;
    }
    return NULL;
}


/* ==================================================================== flat methods (#12) */

/* A flat method: every parameter a plain value [in] by value, or a [ref]
 * pointer to a plain value [out] or [in,out]; a return value of 16 bytes
 * at most. Its messages have one layout whatever the values: the plan
 * says where each value lies in the request's and the reply's bodies, and
 * a call is a few memcpys, with exactly the bytes, the checks and the
 * HRESULTs of the general path above (tests/wire: flat_fast_path_...). */
enum { FLAT_PARAMS = 16, FLAT_BODY = 2048 };   /* (bodies well under the least AMRT_MAX_MESSAGE, 4096) */

typedef struct FlatParam {
    uint8_t dir;                    /* AMRT_IN: by value; else a [ref] pointer */
    uint16_t size;                  /* the value's (the pointee's) bytes */
    uint16_t req_mark, req;         /* in the request: the pointer's marker, the value */
    uint16_t rep_mark, rep;         /* in the reply */
} FlatParam;

typedef struct FlatPlan {
    bool flat;
    bool fits;                      /* its frame's layout fits in the frame's storage */
    uint16_t req_len, rep_len;      /* the bodies' bytes */
    uint16_t ret;                   /* the return value in the reply */
    FlatParam p[FLAT_PARAMS];
    /* the frame's layout (frame_layout's, computed once): the values'
     * offset, each slot's within them, which pointees are inline */
    uint16_t vals_at, vals_size, slot[FLAT_PARAMS];
    uint64_t inline_ptr;
} FlatPlan;

static HRESULT check_message(amrt__wire_buf *msg, int type, amrt__wire_header *h);

static size_t flat_at(size_t *off, size_t align, size_t n)
{
    size_t at = (*off + align - 1) & ~(align - 1);
    *off = at + n;
    return at;
}

static void flat_build(const AmrtMethod *m, FlatPlan *pl)
{
    memset(pl, 0, sizeof *pl);
    if (m->nparams > FLAT_PARAMS || m->ret_size > sizeof ((amrt__wire_frame *)0)->ret || (m->nparams && !m->params))
        return;
    size_t rq = 0, rp = 0;
    if (m->ret_size)
        pl->ret = (uint16_t)flat_at(&rp, align_of(m->ret_size), m->ret_size);
    for (int i = 0; i < m->nparams; i++) {
        const AmrtParam *p = &m->params[i];
        const AmrtType *t = p->type;
        FlatParam *fp = &pl->p[i];
        if (!t)
            return;
        fp->dir = p->dir;
        if (p->dir == AMRT_IN && amrt__plain(t)) {
            if (t->size > FLAT_BODY)
                return;
            fp->size = (uint16_t)t->size;
            fp->req = (uint16_t)flat_at(&rq, align_of(t->size), t->size);
        } else if ((p->dir == AMRT_OUT || p->dir == (AMRT_IN | AMRT_OUT)) && t->kind == AMRT_K_POINTER &&
                   !(t->flags & AMRT_F_UNIQUE) && t->ref && amrt__plain(t->ref)) {
            if (t->ref->size > FLAT_BODY)
                return;
            fp->size = (uint16_t)t->ref->size;
            if (p->dir & AMRT_IN) {
                fp->req_mark = (uint16_t)flat_at(&rq, 4, 4);
                fp->req = (uint16_t)flat_at(&rq, align_of(fp->size), fp->size);
            }
            fp->rep_mark = (uint16_t)flat_at(&rp, 4, 4);
            fp->rep = (uint16_t)flat_at(&rp, align_of(fp->size), fp->size);
        } else {
            return;
        }
        if (rq > FLAT_BODY || rp > FLAT_BODY)
            return;
    }
    pl->req_len = (uint16_t)rq;
    pl->rep_len = (uint16_t)rp;
    pl->flat = true;
    /* frame_layout's layout, for frames laid out in their storage */
    size_t n = m->nparams, ptrs = (n * sizeof(void *) + 15) & ~(size_t)15, off = 0;
    for (size_t i = 0; i < n; i++) {
        off = (off + 15) & ~(size_t)15;
        pl->slot[i] = (uint16_t)off;
        off += slot_room(m->params[i].type, (int)i);
        if (inline_ok(m->params[i].type, (int)i))
            pl->inline_ptr |= (uint64_t)1 << i;
    }
    pl->fits = ptrs + off <= sizeof ((amrt__wire_frame *)0)->storage;
    pl->vals_at = (uint16_t)ptrs;
    pl->vals_size = (uint16_t)off;
}

/* frame_layout for a flat method whose layout fits in the frame's storage */
static void flat_layout(amrt__wire_frame *f, const AmrtMethod *m, const FlatPlan *pl)
{
    if (f->m == m)
        return;
    f->args = (void **)f->storage;
    f->vals = f->storage + pl->vals_at;
    f->vals_size = pl->vals_size;
    f->inline_ptr = pl->inline_ptr;
    for (int i = 0; i < m->nparams; i++)
        f->args[i] = f->vals + pl->slot[i];
    f->m = m;
}

/* The plans, made once per method (the glue's tables live as long as the
 * program): a slot is claimed for a method, then filled, then marked
 * ready; a method whose slot is being filled, or that finds no slot,
 * takes the general path. */
enum { FLAT_SLOTS = 512, FLAT_PROBES = 8 };
static struct FlatSlot {
    _Atomic(const AmrtMethod *) m;
    atomic_bool ready;
    FlatPlan plan;
} flat_slots[FLAT_SLOTS];
static atomic_bool flat_off;

void amrt__wire_set_flat(bool on)
{
    atomic_store_explicit(&flat_off, !on, memory_order_relaxed);
}

/* the method this thread asked for last, and its answer (once final) */
static _Thread_local const AmrtMethod *tl_flat_m;
static _Thread_local const FlatPlan *tl_flat_plan;

static const FlatPlan *flat_plan_find(const AmrtMethod *m);

static const FlatPlan *flat_plan(const AmrtMethod *m)
{
    if (atomic_load_explicit(&flat_off, memory_order_relaxed))
        return NULL;
    if (m == tl_flat_m)
        return tl_flat_plan;
    return flat_plan_find(m);
}

static const FlatPlan *flat_plan_find(const AmrtMethod *m)
{
    size_t h = (size_t)((((uint64_t)(uintptr_t)m >> 3) * 0x9E3779B97F4A7C15ull) >> 40);
    for (int k = 0; k < FLAT_PROBES; k++) {
        struct FlatSlot *s = &flat_slots[(h + (size_t)k) & (FLAT_SLOTS - 1)];
        const AmrtMethod *cur = atomic_load_explicit(&s->m, memory_order_acquire);
        if (!cur) {
            if (atomic_compare_exchange_strong_explicit(&s->m, &cur, m, memory_order_acq_rel, memory_order_acquire)) {
                flat_build(m, &s->plan);
                atomic_store_explicit(&s->ready, true, memory_order_release);
                tl_flat_m = m;
                tl_flat_plan = s->plan.flat ? &s->plan : NULL;
                return tl_flat_plan;
            }
        }
        if (cur == m) {
            if (!atomic_load_explicit(&s->ready, memory_order_acquire))
                return NULL;            /* being made: the general path this time */
            tl_flat_m = m;
            tl_flat_plan = s->plan.flat ? &s->plan : NULL;
            return tl_flat_plan;
        }
    }
    return NULL;
}

bool amrt__wire_flat(const AmrtMethod *m)
{
    return flat_plan(m) != NULL;
}

/* amrt__wire_encode_request for a flat method (the frame f laid out for m,
 * holding nothing) */
static HRESULT flat_encode_request(amrt__wire_buf *b, amrt__wire_header *h, const AmrtMethod *m,
                                   const FlatPlan *pl, void *const *args)
{
    amrt__wire_buf_reset(b);
    size_t total = AMRT__WIRE_HEADER + pl->req_len;
    unsigned char *body;
    if (b->data && b->cap >= total) {
        body = b->data + AMRT__WIRE_HEADER;
        b->len = total;
    } else {
        /* as the general path grows it: the header's room first, then the body's */
        if (!amrt__wire_buf_append(b, AMRT__WIRE_HEADER))
            return E_OUTOFMEMORY;
        body = NULL;
    }
    HRESULT hr = S_OK;
    for (int i = 0; i < m->nparams; i++)        /* J14: a NULL [ref] pointer sends nothing */
        if (pl->p[i].dir == AMRT_OUT && args[i] && !*(void *const *)args[i]) {
            hr = HRESULT_FROM_WIN32(RPC_X_NULL_REF_POINTER);
            goto fail;
        }
    for (int i = 0; i < m->nparams; i++) {
        if (!(pl->p[i].dir & AMRT_IN))
            continue;
        if (!args[i]) {
            hr = E_POINTER;
            goto fail;
        }
        if (pl->p[i].dir != AMRT_IN && !*(void *const *)args[i]) {
            hr = HRESULT_FROM_WIN32(RPC_X_NULL_REF_POINTER);
            goto fail;
        }
    }
    if (!body) {
        if (!(body = amrt__wire_buf_append(b, pl->req_len))) {
            hr = E_OUTOFMEMORY;
            goto fail;
        }
    }
    memset(body, 0, pl->req_len);
    for (int i = 0; i < m->nparams; i++) {
        const FlatParam *fp = &pl->p[i];
        if (fp->dir == AMRT_IN) {
            memcpy(body + fp->req, args[i], fp->size);
        } else if (fp->dir & AMRT_IN) {
            put32(body + fp->req_mark, M_VALUE);
            memcpy(body + fp->req, *(void *const *)args[i], fp->size);
        }
    }
    h->type = AMRT__WIRE_REQUEST;
    h->status = 0;
    amrt__wire_buf_seal(b, h);
    return S_OK;
fail:
    amrt__wire_buf_reset(b);
    return hr;
}

/* the body of a reply to a flat request checked as decode_reply does:
 * its exact length, its markers, no descriptor */
static bool flat_reply_ok(const FlatPlan *pl, const AmrtMethod *m, const amrt__wire_buf *msg)
{
    if (msg->len - AMRT__WIRE_HEADER != pl->rep_len)
        return false;
    const unsigned char *body = msg->data + AMRT__WIRE_HEADER;
    for (int i = 0; i < m->nparams; i++)
        if (pl->p[i].dir != AMRT_IN && get32(body + pl->p[i].rep_mark) != M_VALUE)
            return false;
    for (unsigned i = 0; i < msg->nfds; i++)
        if (msg->fds[i] >= 0)
            return false;
    return true;
}

/* amrt__wire_decode_reply for a flat request (f->state S_FLAT) */
static HRESULT flat_decode_reply(amrt__wire_frame *f, amrt__wire_buf *msg, void *const *args, void *ret)
{
    const AmrtMethod *m = f->m;
    const FlatPlan *pl = f->plan;
    f->state = S_EMPTY;                 /* (its values were never touched: still zero) */
    amrt__wire_header h;
    HRESULT hr = check_message(msg, AMRT__WIRE_REPLY, &h);
    if (hr == RPC_E_VERSION_MISMATCH)
        hr = BAD;
    if (FAILED(hr))
        return hr;
    if (h.status != S_OK)
        return FAILED(h.status) && h.length == 0 && h.nfds == 0 ? h.status : BAD;
    if (!flat_reply_ok(pl, m, msg))
        return BAD;
    const unsigned char *body = msg->data + AMRT__WIRE_HEADER;
    if (ret && m->ret_size)
        memcpy(ret, body + pl->ret, m->ret_size);
    for (int i = 0; i < m->nparams; i++) {
        const FlatParam *fp = &pl->p[i];
        void *dst = fp->dir != AMRT_IN && args[i] ? *(void *const *)args[i] : NULL;
        if (dst)
            memcpy(dst, body + fp->rep, fp->size);
    }
    return S_OK;
}

/* amrt__wire_decode_request for a flat method (the frame cleared and laid
 * out for m, zero): each check and allocation in the general path's order */
static HRESULT flat_decode_request(amrt__wire_frame *f, const AmrtMethod *m, const FlatPlan *pl, amrt__wire_buf *msg)
{
    f->state = S_FLAT_HELD;
    size_t len = msg->len - AMRT__WIRE_HEADER;
    const unsigned char *body = msg->data + AMRT__WIRE_HEADER;
    for (int i = 0; i < m->nparams; i++)
        if (pl->p[i].dir == AMRT_OUT && !pointee_storage(f, i))
            return E_OUTOFMEMORY;
    for (int i = 0; i < m->nparams; i++) {
        const FlatParam *fp = &pl->p[i];
        void *dst;
        if (fp->dir == AMRT_IN) {
            dst = f->args[i];
        } else if (fp->dir & AMRT_IN) {
            if (len < (size_t)fp->req_mark + 4 || get32(body + fp->req_mark) != M_VALUE)
                return BAD;
            if (!(dst = pointee_storage(f, i)))
                return E_OUTOFMEMORY;
        } else {
            continue;
        }
        if (len < (size_t)fp->req + fp->size)
            return BAD;
        memcpy(dst, body + fp->req, fp->size);
    }
    if (len != pl->req_len)
        return BAD;
    for (unsigned i = 0; i < msg->nfds; i++)
        if (msg->fds[i] >= 0)
            return BAD;
    return S_OK;
}

/* amrt__wire_encode_reply for a flat method */
static HRESULT flat_encode_reply(amrt__wire_buf *b, amrt__wire_header *h, amrt__wire_frame *f, const FlatPlan *pl)
{
    const AmrtMethod *m = f->m;
    amrt__wire_buf_reset(b);
    for (int i = 0; i < m->nparams; i++)
        if (pl->p[i].dir != AMRT_IN && !*(void *const *)f->args[i])
            return HRESULT_FROM_WIN32(RPC_X_NULL_REF_POINTER);
    unsigned char *body = amrt__wire_buf_append(b, AMRT__WIRE_HEADER + pl->rep_len);
    if (!body) {
        amrt__wire_buf_reset(b);
        return E_OUTOFMEMORY;
    }
    body += AMRT__WIRE_HEADER;
    memset(body, 0, pl->rep_len);
    if (m->ret_size)
        memcpy(body + pl->ret, f->ret, m->ret_size);
    for (int i = 0; i < m->nparams; i++) {
        const FlatParam *fp = &pl->p[i];
        if (fp->dir == AMRT_IN)
            continue;
        put32(body + fp->rep_mark, M_VALUE);
        memcpy(body + fp->rep, *(void *const *)f->args[i], fp->size);
    }
    h->type = AMRT__WIRE_REPLY;
    h->flags = 0;
    h->status = S_OK;
    amrt__wire_buf_seal(b, h);
    return S_OK;
}

/* ==================================================================== requests */

/* a top-level [in,out] or [out] pointer: its pointee, unshared */
static HRESULT enc_top_pointer(Enc *e, const Ctx *c, const AmrtType *t, const void *slot)
{
    const void *p = *(void *const *)slot;
    HRESULT hr;
    if (!p)
        return t->flags & AMRT_F_UNIQUE ? put_u32(e, M_NULL) : HRESULT_FROM_WIN32(RPC_X_NULL_REF_POINTER);
    if (FAILED(hr = put_u32(e, M_VALUE)))
        return hr;
    return enc_pointee(e, c, t->ref, p);
}

static HRESULT dec_top_pointer(Dec *d, const Ctx *c, amrt__wire_frame *f, int i)
{
    const AmrtType *t = f->m->params[i].type;
    uint32_t mk;
    if (!get_u32(d, &mk))
        return BAD;
    if (mk == M_NULL) {
        if (!(t->flags & AMRT_F_UNIQUE))
            return BAD;
        AmrtFreer fr;
        freer_for(&fr, f, false);
        amrt__free_value(&fr, c, t, f->args[i]);   /* a kept pointee the reply says is gone */
        amrt__freer_fini(&fr);
        return S_OK;
    }
    if (mk != M_VALUE)
        return BAD;
    if (t->ref->kind == AMRT_K_CONFSTRUCT) {
        if (*(void **)f->args[i])
            return BAD;
        return dec_pointee(d, c, t->ref, f->args[i], 0);
    }
    void *p = pointee_storage(f, i);
    if (!p)
        return E_OUTOFMEMORY;
    if (++d->depth > AMRT__WIRE_MAX_DEPTH)
        return BAD;
    HRESULT hr = dec_value(d, c, t->ref, p);
    d->depth--;
    return hr;
}

/* Keep what reading the reply needs: the values of the holders the
 * caller passes in, zeroed storage for the [out] ones, and the caller's
 * element count of each [out] array. */
static HRESULT keep_inputs(amrt__wire_frame *f, const AmrtMethod *m, void *const *args)
{
    for (int i = 0; i < m->nparams; i++) {
        const AmrtParam *p = &m->params[i];
        const AmrtType *t = p->type;
        if (!amrt__is_holder(t))
            continue;
        if (amrt__plain(t)) {
            if (p->dir & AMRT_IN)
                memcpy(f->args[i], args[i], t->size);
            continue;
        }
        const void *v = p->dir & AMRT_IN ? *(void *const *)args[i] : NULL;
        if ((p->dir & AMRT_IN) && !v)
            continue;                   /* a NULL [unique] pointer */
        void *s = pointee_storage(f, i);
        if (!s)
            return E_OUTOFMEMORY;
        if (v)
            memcpy(s, v, amrt__value_size(t->ref));
    }
    f->state = S_HELD;
    Ctx c = amrt__ctx(m, f->args);
    for (int i = 0; i < m->nparams; i++) {
        const AmrtParam *p = &m->params[i];
        size_t n, first, len;
        if (p->type->kind == AMRT_K_ARRAY && (p->dir & AMRT_OUT)) {
            if (!amrt__array_bounds(&c, p->type, &n, &first, &len))
                return E_INVALIDARG;
            *arr_caller(f->args[i]) = n;
        }
    }
    return S_OK;
}

static HRESULT encode_request(Enc *e, amrt__wire_header *h, const AmrtMethod *m, void *const *args)
{
    HRESULT hr = amrt__wire_buf_start(e->b);
    if (FAILED(hr))
        return hr;
    Ctx c = amrt__ctx(m, args);
    for (int i = 0; i < m->nparams; i++) {      /* J14: a NULL [ref] pointer sends nothing */
        const AmrtParam *p = &m->params[i];
        if (p->dir != AMRT_OUT || !args[i] || *(void *const *)args[i] || (p->type->flags & AMRT_F_UNIQUE))
            continue;
        int64_t n = 1;                  /* an array's count (not its length: that may read [out] values) */
        if (p->type->kind == AMRT_K_ARRAY) {
            n = p->type->size;
            if (p->type->size_x && !amrt__eval(&c, p->type->size_x, &n))
                return E_INVALIDARG;
        }
        if ((p->type->kind == AMRT_K_POINTER || p->type->kind == AMRT_K_ARRAY) && n)
            return HRESULT_FROM_WIN32(RPC_X_NULL_REF_POINTER);  /* (an empty array may be NULL) */
    }
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < m->nparams; i++) {
            const AmrtParam *p = &m->params[i];
            if (!(p->dir & AMRT_IN) || amrt__is_holder(p->type) != (pass == 0))
                continue;
            if (!args[i])
                return E_POINTER;
            if ((p->dir & AMRT_OUT) && p->type->kind == AMRT_K_POINTER)
                hr = enc_top_pointer(e, &c, p->type, args[i]);
            else
                hr = enc_value(e, &c, p->type, args[i]);
            if (FAILED(hr))
                return hr;
        }
    h->type = AMRT__WIRE_REQUEST;
    h->status = 0;
    amrt__wire_buf_seal(e->b, h);
    return S_OK;
}

HRESULT amrt__wire_encode_request(amrt__wire_buf *b, amrt__wire_header *h, const AmrtMethod *m, void *const *args,
                                  const amrt__wire_peer *peer, amrt__wire_frame *f)
{
    HRESULT hr = S_OK;
    const FlatPlan *pl = flat_plan(m);
    if (pl) {
        if (f) {
            if (f->state)
                amrt__wire_frame_clear(f);      /* (a frame holding nothing is zero: cleared last time) */
            if (f->m != m) {
                if (FAILED(hr = frame_layout(f, m)))
                    return hr;
                frame_zero(f);
            }
        }
        if (FAILED(hr = flat_encode_request(b, h, m, pl, args)))
            return hr;
        if (f) {
            f->plan = pl;
            f->state = S_FLAT;
        }
        return S_OK;
    }
    if (f) {
        amrt__wire_frame_clear(f);
        if (FAILED(hr = frame_layout(f, m)))
            return hr;
        frame_zero(f);
    }
    Enc e;
    enc_init(&e, b, peer);
    hr = encode_request(&e, h, m, args);
    enc_fini(&e);
    if (SUCCEEDED(hr) && f)
        hr = keep_inputs(f, m, args);
    if (FAILED(hr)) {
        amrt__wire_revoke(b, peer);
        amrt__wire_buf_reset(b);
        if (f)
            amrt__wire_frame_clear(f);
    }
    return hr;
}

/* the body is the message's, and every descriptor with it is used */
static HRESULT check_message(amrt__wire_buf *msg, int type, amrt__wire_header *h)
{
    if (msg->len < AMRT__WIRE_HEADER)
        return BAD;
    HRESULT hr = amrt__wire_header_get(msg->data, h);
    if (FAILED(hr))
        return hr;
    if (h->type != type || h->length != msg->len - AMRT__WIRE_HEADER || h->nfds != msg->nfds)
        return BAD;
    if (type == AMRT__WIRE_REQUEST ? h->flags & ~AMRT__WIRE_F_ONEWAY : h->flags)
        return BAD;
    return S_OK;
}

/* A top-level array's count, known before it is decoded (from the
 * holders, decoded first; the decoder checks the wire's against it), so
 * that a failure half-way frees what it holds. */
static void set_count(const Ctx *c, const AmrtType *t, void *slot)
{
    size_t n, first, len;
    if (t->kind == AMRT_K_ARRAY)
        *arr_count(slot) = amrt__array_bounds(c, t, &n, &first, &len) ? n : 0;
}

static HRESULT dec_end(Dec *d)
{
    if (d->at != d->len)
        return BAD;                     /* bytes no parameter describes */
    for (unsigned i = 0; i < d->msg->nfds; i++)
        if (d->msg->fds[i] >= 0)
            return BAD;                 /* a descriptor no HANDLE names */
    return S_OK;
}

HRESULT amrt__wire_decode_request(amrt__wire_frame *f, const AmrtMethod *m, amrt__wire_buf *msg,
                                  const amrt__wire_peer *peer)
{
    amrt__wire_frame_clear(f);
    amrt__wire_header h;
    HRESULT hr = check_message(msg, AMRT__WIRE_REQUEST, &h);
    if (FAILED(hr))
        return hr == RPC_E_VERSION_MISMATCH ? BAD : hr;
    const FlatPlan *pl = flat_plan(m);
    if (pl && pl->fits && !f->m)
        flat_layout(f, m, pl);
    else if (FAILED(hr = frame_layout(f, m)))
        return hr;
    frame_zero(f);
    if (pl) {
        if (FAILED(hr = flat_decode_request(f, m, pl, msg)))
            amrt__wire_frame_clear(f);
        return hr;
    }
    f->state = S_HELD;
    Ctx c = amrt__ctx(m, f->args);
    Dec d;
    dec_init(&d, msg, peer, false);
    /* [out] pointers get zeroed storage for the callee */
    for (int i = 0; i < m->nparams && SUCCEEDED(hr); i++)
        if (m->params[i].dir == AMRT_OUT && m->params[i].type->kind == AMRT_K_POINTER && !pointee_storage(f, i))
            hr = E_OUTOFMEMORY;
    for (int pass = 0; pass < 2 && SUCCEEDED(hr); pass++)
        for (int i = 0; i < m->nparams && SUCCEEDED(hr); i++) {
            const AmrtParam *p = &m->params[i];
            if (!(p->dir & AMRT_IN) || amrt__is_holder(p->type) != (pass == 0))
                continue;
            if ((p->dir & AMRT_OUT) && p->type->kind == AMRT_K_POINTER) {
                hr = dec_top_pointer(&d, &c, f, i);
            } else {
                set_count(&c, p->type, f->args[i]);
                hr = dec_value(&d, &c, p->type, f->args[i]);
            }
        }
    /* [out] arrays: zeroed storage of the size the [in] values say */
    for (int i = 0; i < m->nparams && SUCCEEDED(hr); i++) {
        const AmrtParam *p = &m->params[i];
        size_t n, first, len, es;
        if (p->dir != AMRT_OUT || p->type->kind != AMRT_K_ARRAY)
            continue;
        es = amrt__value_size(p->type->ref);
        unsigned char *b;
        if (!amrt__array_bounds(&c, p->type, &n, &first, &len)) {
            hr = BAD;
            break;
        }
        if (FAILED(hr = dec_alloc(&d, n, es, 0, &b)))
            break;
        *(void **)f->args[i] = b;
        *arr_count(f->args[i]) = n;
    }
    if (SUCCEEDED(hr))
        hr = dec_end(&d);
    f->aliased = d.aliased;
    dec_fini(&d);
    if (FAILED(hr))
        amrt__wire_frame_clear(f);
    return hr;
}

/* ==================================================================== replies */

static HRESULT encode_reply(Enc *e, amrt__wire_header *h, amrt__wire_frame *f)
{
    const AmrtMethod *m = f->m;
    HRESULT hr = amrt__wire_buf_start(e->b);
    if (FAILED(hr))
        return hr;
    if (m->ret_size) {
        unsigned char *p = put(e, align_of(m->ret_size), m->ret_size);
        if (!p)
            return E_OUTOFMEMORY;
        memcpy(p, f->ret, m->ret_size);
    }
    Ctx c = amrt__ctx(m, f->args);
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < m->nparams; i++) {
            const AmrtParam *p = &m->params[i];
            const AmrtType *t = p->type;
            if (!(p->dir & AMRT_OUT) || amrt__is_holder(t) != (pass == 0))
                continue;
            if (t->kind == AMRT_K_POINTER) {
                hr = enc_top_pointer(e, &c, t, f->args[i]);
            } else if (t->kind == AMRT_K_ARRAY) {
                size_t n, first, len;
                if (*(void **)f->args[i] && (!amrt__array_bounds(&c, t, &n, &first, &len) || n > *arr_count(f->args[i])))
                    return E_INVALIDARG;    /* the callee's counts outgrew the array */
                hr = enc_value(e, &c, t, f->args[i]);
            } else {
                hr = enc_value(e, &c, t, f->args[i]);
            }
            if (FAILED(hr))
                return hr;
        }
    if (e->aliased)
        f->aliased = true;              /* the callee's data shares pointers: free it with care */
    h->type = AMRT__WIRE_REPLY;
    h->flags = 0;
    h->status = S_OK;
    amrt__wire_buf_seal(e->b, h);
    return S_OK;
}

HRESULT amrt__wire_encode_reply(amrt__wire_buf *b, amrt__wire_header *h, amrt__wire_frame *f,
                                const amrt__wire_peer *peer)
{
    if (!f->m)
        return E_UNEXPECTED;
    const FlatPlan *pl = flat_plan(f->m);
    if (pl)
        return flat_encode_reply(b, h, f, pl);
    Enc e;
    enc_init(&e, b, peer);
    HRESULT hr = encode_reply(&e, h, f);
    if (e.aliased)
        f->aliased = true;
    enc_fini(&e);
    if (FAILED(hr)) {
        amrt__wire_revoke(b, peer);
        amrt__wire_buf_reset(b);
    }
    return hr;
}

HRESULT amrt__wire_encode_fault(amrt__wire_buf *b, amrt__wire_header *h, HRESULT status)
{
    HRESULT hr = amrt__wire_buf_start(b);
    if (FAILED(hr))
        return hr;
    h->type = AMRT__WIRE_REPLY;
    h->flags = 0;
    h->status = SUCCEEDED(status) ? E_UNEXPECTED : status;
    amrt__wire_buf_seal(b, h);
    return S_OK;
}

/* Decode the reply's values into f (the [out] slots; the kept [in] ones
 * stay). */
static HRESULT decode_reply(Dec *d, amrt__wire_frame *f, void *ret)
{
    const AmrtMethod *m = f->m;
    HRESULT hr = S_OK;
    if (m->ret_size) {
        const unsigned char *p = get(d, align_of(m->ret_size), m->ret_size);
        if (!p)
            return BAD;
        memcpy(f->ret, p, m->ret_size);
    }
    Ctx c = amrt__ctx(m, f->args);
    for (int pass = 0; pass < 2 && SUCCEEDED(hr); pass++)
        for (int i = 0; i < m->nparams && SUCCEEDED(hr); i++) {
            const AmrtParam *p = &m->params[i];
            const AmrtType *t = p->type;
            if (!(p->dir & AMRT_OUT) || amrt__is_holder(t) != (pass == 0))
                continue;
            if (t->kind == AMRT_K_POINTER) {
                hr = dec_top_pointer(d, &c, f, i);
            } else {
                set_count(&c, t, f->args[i]);
                hr = dec_value(d, &c, t, f->args[i]);
            }
        }
    if (SUCCEEDED(hr))
        hr = dec_end(d);
    if (SUCCEEDED(hr) && ret && m->ret_size)
        memcpy(ret, f->ret, m->ret_size);
    return hr;
}

/* a top-level array's counts for amrt__deliver: the caller's, kept from
 * the request, and what the reply allocated */
static void frame_counts(void *slot, size_t *total, size_t *have)
{
    *total = *arr_caller(slot);
    *have = *arr_count(slot);
}

HRESULT amrt__wire_decode_reply(amrt__wire_frame *f, amrt__wire_buf *msg, const amrt__wire_peer *peer,
                                void *const *args, void *ret)
{
    if (f->m && f->state == S_FLAT)
        return flat_decode_reply(f, msg, args, ret);
    amrt__wire_header h;
    HRESULT hr = f->m && f->state ? check_message(msg, AMRT__WIRE_REPLY, &h) : E_UNEXPECTED;
    if (hr == RPC_E_VERSION_MISMATCH)
        hr = BAD;
    if (SUCCEEDED(hr) && h.status != S_OK)
        hr = FAILED(h.status) && h.length == 0 && h.nfds == 0 ? h.status : BAD;
    if (SUCCEEDED(hr)) {
        Dec d;
        dec_init(&d, msg, peer, false);
        hr = decode_reply(&d, f, ret);
        if (d.aliased)
            f->aliased = true;
        dec_fini(&d);
        if (SUCCEEDED(hr))
            amrt__deliver(f->m, f->args, args, frame_counts);
    }
    amrt__wire_frame_clear(f);
    return hr;
}

void amrt__wire_discard_reply(amrt__wire_frame *f, amrt__wire_buf *msg, const amrt__wire_peer *peer)
{
    amrt__wire_header h;
    if (f->state == S_FLAT) {
        f->state = S_EMPTY;             /* a flat reply holds nothing to let go */
        return;
    }
    if (f->m && f->state && SUCCEEDED(check_message(msg, AMRT__WIRE_REPLY, &h)) && h.status == S_OK) {
        Dec d;
        dec_init(&d, msg, peer, true);
        decode_reply(&d, f, NULL);
        if (d.aliased)
            f->aliased = true;
        dec_fini(&d);
    }
    amrt__wire_frame_clear(f);
}
