/*
 * oop-kinds.c - tests/e2e/kinds.idl's parameter kinds across a process
 * boundary (tests/suites/oop.sh; RULES.md J4, J5, J9). One executable, two roles:
 *
 *   oop-kinds server    registers CLSID_OopKinds (an object with IKinds and
 *                       IDeep) for CLSCTX_LOCAL_SERVER, prints "ready PID",
 *                       serves until SIGTERM; exits 0 when every object was released
 *   oop-kinds client    calls every method it covers, synchronously and through
 *                       call objects, and checks each value after the round trip
 */
#define COBJMACROS
#include "amidlrt.h"
#include "kinds.h"
#include "deep_server.h"
#include "oop_serve.h"

#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* the server's releases of a caller's object travel as their own messages,
 * after the call's reply: wait for them (bounded: 10 s of 1 ms steps) */
static int refs_settle(atomic_long *refs, long want)
{
    for (int i = 0; i < 10000 && atomic_load(refs) != want; i++)
        usleep(1000);
    return atomic_load(refs) == want;
}

static const CLSID CLSID_OopKinds = { 0x5c1d7e40, 0x2a61, 0x4b0e, { 0x9a, 0x3f, 0x0d, 0x6e, 0x8b, 0x7c, 0x4a, 0x40 } };

/* ==================================================================== the server's object */

typedef struct Both { IKinds k; IDeep d; atomic_long refs; } Both;
static atomic_long live;

#define FROM_K(p) ((Both *)(p))
#define FROM_D(p) ((Both *)((char *)(p) - offsetof(Both, d)))

static HRESULT both_qi(Both *b, REFIID riid, void **ppv)
{
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IKinds))
        *ppv = &b->k;
    else if (IsEqualIID(riid, &IID_IDeep))
        *ppv = &b->d;
    else {
        *ppv = NULL;
        return E_NOINTERFACE;
    }
    atomic_fetch_add(&b->refs, 1);
    return S_OK;
}
static ULONG both_release(Both *b) { return oop_release(&b->refs, b, &live, NULL); }
static HRESULT STDMETHODCALLTYPE k_qi(IKinds *This, REFIID riid, void **ppv) { return both_qi(FROM_K(This), riid, ppv); }
static ULONG STDMETHODCALLTYPE k_addref(IKinds *This) { return (ULONG)atomic_fetch_add(&FROM_K(This)->refs, 1) + 1; }
static ULONG STDMETHODCALLTYPE k_release(IKinds *This) { return both_release(FROM_K(This)); }
static HRESULT STDMETHODCALLTYPE d_qi(IDeep *This, REFIID riid, void **ppv) { return both_qi(FROM_D(This), riid, ppv); }
static ULONG STDMETHODCALLTYPE d_addref(IDeep *This) { return (ULONG)atomic_fetch_add(&FROM_D(This)->refs, 1) + 1; }
static ULONG STDMETHODCALLTYPE d_release(IDeep *This) { return both_release(FROM_D(This)); }

static HRESULT STDMETHODCALLTYPE k_scalars(IKinds *This, BYTE b, SHORT s, LONG l, hyper h, float f, double d, BOOL flag,
                                           COLOR c, double *total)
{
    (void)This;
    *total = b + s + l + (double)h + f + d + (flag ? 1000 : 0) + c;
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE k_structs(IKinds *This, POINT3 byval, const POINT3 *in, POINT3 *inout, POINT3 *out)
{
    (void)This;
    out->x = byval.x + in->x;
    out->y = byval.y + in->y;
    out->z = byval.z + in->z;
    inout->x *= 2;
    inout->y *= 2;
    inout->z *= 2;
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE k_strings(IKinds *This, const char *a, LPCWSTR w, char **copy, LPWSTR *wcopy)
{
    (void)This;
    size_t n = strlen(a), m = 0;
    while (w[m])
        m++;
    *copy = CoTaskMemAlloc(n + 2);
    memcpy(*copy, a, n);
    (*copy)[n] = '!';
    (*copy)[n + 1] = 0;
    *wcopy = CoTaskMemAlloc((m + 1) * sizeof(WCHAR));
    for (size_t i = 0; i < m; i++)
        (*wcopy)[i] = w[m - 1 - i];     /* reversed */
    (*wcopy)[m] = 0;
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE k_guids(IKinds *This, REFIID iid, IID *out) { (void)This; *out = *iid; out->Data1++; return S_OK; }
static HRESULT STDMETHODCALLTYPE k_arrays(IKinds *This, ULONG n, const LONG *in, LONG *out, LONG *inout)
{
    (void)This;
    for (ULONG i = 0; i < n; i++) {
        out[i] = in[i] * 10;
        inout[i] += 1;
    }
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE k_varying(IKinds *This, ULONG max, BYTE *buf, ULONG *len)
{
    (void)This;
    ULONG n = max / 2;
    for (ULONG i = 0; i < n; i++)
        buf[i] = (BYTE)(i + 1);
    *len = n;
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE k_unique(IKinds *This, LONG *maybe, LONG *seen) { (void)This; *seen = maybe ? *maybe : -1; return S_OK; }
static HRESULT STDMETHODCALLTYPE k_objects(IKinds *This, IUnknown *in, IUnknown **out, IUnknown **inout)
{
    *out = in;
    if (in)
        IUnknown_AddRef(in);
    if (*inout)
        IUnknown_Release(*inout);
    *inout = (IUnknown *)This;
    IKinds_AddRef(This);
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE k_byiid(IKinds *This, REFIID riid, void **ppv) { return IKinds_QueryInterface(This, riid, ppv); }
static IKindsVtbl kvtbl = { k_qi, k_addref, k_release, k_scalars, k_structs, k_strings, k_guids, k_arrays, k_varying,
                            k_unique, k_objects, k_byiid };

static WCHAR *wdup_a(const char *a)
{
    size_t n = strlen(a);
    WCHAR *w = CoTaskMemAlloc((n + 1) * sizeof(WCHAR));
    if (w)
        for (size_t i = 0; i <= n; i++)
            w[i] = (WCHAR)(unsigned char)a[i];
    return w;
}
static bool wstr_is(const WCHAR *a, const char *b)
{
    if (!a)
        return false;
    size_t i = 0;
    for (; b[i]; i++)
        if (a[i] != (WCHAR)(unsigned char)b[i])
            return false;
    return a[i] == 0;
}
static BSTR bstr_a(const char *a)
{
    size_t n = strlen(a);
    BSTR b = SysAllocStringLen(NULL, (UINT)n);
    if (b)
        for (size_t i = 0; i < n; i++)
            b[i] = (OLECHAR)(unsigned char)a[i];
    return b;
}
static IDeepVtbl dvtbl = { d_qi, d_addref, d_release, DEEP_SERVER_METHODS };

static HRESULT new_both(REFIID riid, void **ppv)
{
    Both *b = calloc(1, sizeof *b);
    if (!b)
        return E_OUTOFMEMORY;
    b->k.lpVtbl = &kvtbl;
    b->d.lpVtbl = &dvtbl;
    atomic_init(&b->refs, 1);
    atomic_fetch_add(&live, 1);
    return oop_hand_out(&b->k, riid, ppv);
}
static OopFactory factory = OOP_FACTORY(new_both);

/* ==================================================================== the client */

typedef struct Local { IUnknown iface; atomic_long refs; } Local;
static HRESULT STDMETHODCALLTYPE l_qi(IUnknown *This, REFIID riid, void **ppv)
{
    if (IsEqualIID(riid, &IID_IUnknown)) {
        *ppv = This;
        IUnknown_AddRef(This);
        return S_OK;
    }
    *ppv = NULL;
    return E_NOINTERFACE;
}
static ULONG STDMETHODCALLTYPE l_addref(IUnknown *This) { return (ULONG)atomic_fetch_add(&((Local *)This)->refs, 1) + 1; }
static ULONG STDMETHODCALLTYPE l_release(IUnknown *This) { return (ULONG)atomic_fetch_sub(&((Local *)This)->refs, 1) - 1; }
static IUnknownVtbl lvtbl = { l_qi, l_addref, l_release };

static void kinds_sync(IKinds *k)
{
    double total = 0;
    EXPECT_HR(S_OK, IKinds_Scalars(k, 200, -300, 70000, 5000000000LL, 0.5f, 0.25, TRUE, BLUE, &total));
    EXPECT(fabs(total - (200 - 300 + 70000 + 5000000000.0 + 0.5 + 0.25 + 1000 + 4)) < 1e-6);
    POINT3 a = { 1, 2, 3 }, b = { 10, 20, 30 }, io = { 5, 6, 7 }, out = { 0, 0, 0 };
    EXPECT_HR(S_OK, IKinds_Structs(k, a, &b, &io, &out));
    EXPECT(out.x == 11 && out.y == 22 && out.z == 33 && io.x == 10 && io.y == 12 && io.z == 14);
    char *copy = NULL;
    LPWSTR wcopy = NULL;
    static const WCHAR abc[] = { 'a', 'b', 'c', 0 };
    EXPECT_HR(S_OK, IKinds_Strings(k, "hello", abc, &copy, &wcopy));
    EXPECT(copy && strcmp(copy, "hello!") == 0);
    EXPECT(wstr_is(wcopy, "cba"));
    CoTaskMemFree(copy);
    CoTaskMemFree(wcopy);
    IID got;
    EXPECT_HR(S_OK, IKinds_Guids(k, &IID_IDeep, &got));
    IID want = IID_IDeep;
    want.Data1++;
    EXPECT(IsEqualGUID(&got, &want));
    LONG in[5] = { 1, 2, 3, 4, 5 }, o[5] = { 0 }, inout[5] = { 10, 20, 30, 40, 50 };
    EXPECT_HR(S_OK, IKinds_Arrays(k, 5, in, o, inout));
    for (int i = 0; i < 5; i++)
        EXPECT(o[i] == in[i] * 10 && inout[i] == (i + 1) * 10 + 1);
    BYTE buf[10];
    memset(buf, 0xEE, sizeof buf);
    ULONG len = 0;
    EXPECT_HR(S_OK, IKinds_Varying(k, 10, buf, &len));
    EXPECT(len == 5 && buf[0] == 1 && buf[4] == 5);
    LONG seen = 0, v = 42;
    EXPECT_HR(S_OK, IKinds_Unique(k, &v, &seen));
    EXPECT(seen == 42);
    EXPECT_HR(S_OK, IKinds_Unique(k, NULL, &seen));
    EXPECT(seen == -1);
    /* interface pointers: ours goes there and comes back as itself; the server's arrives as a proxy */
    Local mine = { { &lvtbl }, 1 };
    IUnknown *back = NULL, *swap = NULL;
    Local other = { { &lvtbl }, 1 };
    swap = &other.iface;
    IUnknown_AddRef(swap);
    EXPECT_HR(S_OK, IKinds_Objects(k, &mine.iface, &back, &swap));
    EXPECT(back == &mine.iface);
    EXPECT(swap != NULL && swap != &other.iface);
    if (back)
        IUnknown_Release(back);
    IKinds *sk = NULL;
    if (swap) {
        EXPECT_HR(S_OK, IUnknown_QueryInterface(swap, &IID_IKinds, (void **)&sk));
        IUnknown_Release(swap);
    }
    if (sk) {
        EXPECT_HR(S_OK, IKinds_Unique(sk, &v, &seen));
        EXPECT(seen == 42);
        IKinds_Release(sk);
    }
    /* the references the server took on ours are given back */
    for (int i = 0; i < 4000 && (atomic_load(&mine.refs) != 1 || atomic_load(&other.refs) != 1); i++)
        usleep(5000);
    EXPECT(atomic_load(&mine.refs) == 1 && atomic_load(&other.refs) == 1);
    IDeep *d = NULL;
    EXPECT_HR(S_OK, IKinds_ByIid(k, &IID_IDeep, (void **)&d));
    if (d) {
        LONG s = 0;
        EXPECT_HR(S_OK, IDeep_Typed(d, NULL, &sk, &v, NULL, &s));
        EXPECT(s == 42 && sk == NULL);
        IDeep_Release(d);
    }
}

static void kinds_async(IKinds *k)
{
    AsyncIKinds *c = oop_new_call(k, &IID_AsyncIKinds);
    if (!c)
        return;
    LONG in[3] = { 7, 8, 9 }, o[3] = { 0 }, inout[3] = { 1, 1, 1 };
    EXPECT_HR(S_OK, AsyncIKinds_Begin_Arrays(c, 3, in, inout));
    EXPECT_HR(S_OK, AsyncIKinds_Finish_Arrays(c, o, inout));
    EXPECT(o[0] == 70 && o[2] == 90 && inout[1] == 2);
    char *copy = NULL;
    LPWSTR wcopy = NULL;
    static const WCHAR yz[] = { 'y', 'z', 0 }, q[] = { 'q', 0 };
    EXPECT_HR(S_OK, AsyncIKinds_Begin_Strings(c, "x", yz));
    EXPECT_HR(S_OK, AsyncIKinds_Finish_Strings(c, &copy, &wcopy));
    EXPECT(copy && strcmp(copy, "x!") == 0 && wstr_is(wcopy, "zy"));
    CoTaskMemFree(copy);
    CoTaskMemFree(wcopy);
    /* released with a call in flight (J8) */
    EXPECT_HR(S_OK, AsyncIKinds_Begin_Strings(c, "gone", q));
    AsyncIKinds_Release(c);
}

static void deep_sync(IDeep *d)
{
    HOLDER h;
    NAMED e0;
    memset(&h, 0, sizeof h);
    deep_named_make(&h.first, 1000, u"first", 4, NULL);
    deep_named_make(&e0, 20000, u"e0", 1, NULL);
    h.extra[0] = &e0;
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            h.grid[i][j] = i * 3 + j;
    LONG sum = 0;
    EXPECT_HR(S_OK, IDeep_Holder(d, h, &sum));
    EXPECT(sum == 1000 + 4 + 20000 + 15);       /* by value: the nested NAMED, its array, the fixed array of pointers */
    deep_named_free(&h.first);
    deep_named_free(&e0);
    VALUE v, out;
    LONG kind = 0;
    v.i = 41;
    memset(&out, 0, sizeof out);
    EXPECT_HR(S_OK, IDeep_Value(d, 1, &v, &kind, &out));
    EXPECT(kind == 1 && out.i == 82);
    WCHAR txt[] = { 'h', 'i', 0 };
    v.s = txt;
    memset(&out, 0, sizeof out);
    EXPECT_HR(S_OK, IDeep_Value(d, 2, &v, &kind, &out));
    EXPECT(kind == 2 && wstr_is(out.s, "hi"));
    if (kind == 2)
        CoTaskMemFree(out.s);
    PAIR pin[3], pout[3];
    memset(pout, 0, sizeof pout);
    for (int i = 0; i < 3; i++) {
        pin[i].kind = 1;
        pin[i].v.i = i + 1;
    }
    EXPECT_HR(S_OK, IDeep_Pairs(d, 3, pin, pout));
    EXPECT(pout[0].v.i == 2 && pout[2].v.i == 6);
    TAGGED t = { 2, { 0 } }, tout;
    t.u.b = SysAllocStringLen((const OLECHAR[]){ 'a', 0, 'b' }, 3);      /* an embedded NUL */
    memset(&tout, 0, sizeof tout);
    EXPECT_HR(S_OK, IDeep_Tagged(d, &t, &tout));
    EXPECT(tout.kind == 2 && SysStringLen(tout.u.b) == 3 && tout.u.b[0] == 'a' && tout.u.b[1] == 0 && tout.u.b[2] == 'b');
    SysFreeString(t.u.b);
    if (tout.kind == 2)
        SysFreeString(tout.u.b);
    BSTR bin = SysAllocString((const OLECHAR[]){ 'o', 'k', 0 }), bout = NULL, bio = NULL;
    EXPECT_HR(S_OK, IDeep_Bstrs(d, bin, &bout, &bio));
    EXPECT(SysStringLen(bout) == 2 && bout[1] == 'k' && deep_wequal(bio, u"new value"));
    SysFreeString(bout);
    EXPECT_HR(S_OK, IDeep_Bstrs(d, NULL, &bout, &bio));
    EXPECT(bout == NULL && deep_wequal(bio, u"new value"));
    SysFreeString(bin);
    SysFreeString(bio);
    SHORT twice[5] = { 1, 2, 3, 4, 5 };
    LONG upto[3] = { 1, 1, 1 };
    WCHAR chars[2] = { 1, 2 };
    EXPECT_HR(S_OK, IDeep_Exprs(d, 2, twice, upto, sizeof chars, chars, &sum));
    EXPECT(sum == 15 + 300 + 30000);
    LONG win[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    EXPECT_HR(S_OK, IDeep_Window(d, 8, 2, 4, win));
    EXPECT(win[0] == 1 && win[1] == 2 && win[2] == 30 && win[4] == 50 && win[5] == 6 && win[7] == 8);   /* only [first, last] travels back */
    ULONG n = 0;
    LONG *items = NULL;
    EXPECT_HR(S_OK, IDeep_Alloc(d, 6, &n, &items));
    EXPECT(n == 6 && items && items[5] == 25);
    CoTaskMemFree(items);
    LPSTR names[2] = { "ab", "cde" };
    LPWSTR wn[2] = { NULL, NULL };
    EXPECT_HR(S_OK, IDeep_Names(d, 2, names, wn));
    EXPECT(wstr_is(wn[0], "ab") && wstr_is(wn[1], "cde"));
    CoTaskMemFree(wn[0]);
    CoTaskMemFree(wn[1]);
    /* [ptr]: the same pointer twice arrives as one */
    LONG a = 3;
    IKinds *back = NULL;
    EXPECT_HR(S_OK, IDeep_Typed(d, NULL, &back, &a, &a, &sum));
    EXPECT(sum == 1006 && back == NULL);
}

/* ---- the members with pointers inside, each direction, sync and through a call object */


/* in: a two-node list with an owner; io: an [in, out] NAMED the callee replaces */
static void named_args(NAMED *in, NAMED *second, LONG *vals, NAMED *io, IUnknown *owner)
{
    static WCHAR alpha[] = { 'a', 'l', 'p', 'h', 'a', 0 }, beta[] = { 'b', 'e', 't', 'a', 0 };
    memset(second, 0, sizeof *second);
    second->id = 7;
    second->name = beta;
    memset(in, 0, sizeof *in);
    in->id = 1;
    in->name = alpha;
    in->note = bstr_a("memo");
    in->count = 3;
    in->values = vals;
    in->owner = owner;
    in->next = second;
    memset(io, 0, sizeof *io);
    io->name = wdup_a("start");
    io->note = bstr_a("n");
    io->count = 2;
    io->values = CoTaskMemAlloc(2 * sizeof(LONG));
    io->values[0] = 1;
    io->values[1] = 2;
}
static void named_check(const NAMED *out, const NAMED *io, IUnknown *owner)
{
    EXPECT(out->id == 2 && wstr_is(out->name, "alpha") && SysStringLen(out->note) == 4 && out->count == 3);
    EXPECT(out->values && out->values[0] == 2 && out->values[2] == 6);
    EXPECT(out->owner == owner);            /* the caller's own object comes home as itself */
    EXPECT(out->next && out->next->id == 8 && !out->next->next && !out->next->name);
    EXPECT(wstr_is(io->name, "changed") && wstr_is(io->note, "noted") && io->count == 2);
    EXPECT(io->values && io->values[0] == 101 && io->values[1] == 102);
}

static void deep_more(IDeep *d)
{
    Local owner = { { &lvtbl }, 1 };
    NAMED in, second, io, out;
    LONG vals[3] = { 1, 2, 3 };
    named_args(&in, &second, vals, &io, &owner.iface);
    memset(&out, 0, sizeof out);
    EXPECT_HR(S_OK, IDeep_Named(d, &in, &out, &io));
    named_check(&out, &io, &owner.iface);
    SysFreeString(in.note);
    deep_named_free(&out);
    deep_named_free(&io);
    EXPECT(refs_settle(&owner.refs, 1));   /* every reference the server took was released */

    /* a conformant structure through a [unique] pointer, a conformant tail of strings */
    unsigned char devbuf[offsetof(DEVICE, data) + 4];
    DEVICE *dev = (DEVICE *)(void *)devbuf;
    dev->size = sizeof(DWORD) + sizeof(WORD) + 4;
    dev->offset = 9;
    for (int i = 0; i < 4; i++)
        dev->data[i] = (BYTE)(i + 1);
    FORMAT f = { 5, dev }, copy = { 0, NULL };
    unsigned char rbuf[offsetof(ROSTER, names) + 2 * sizeof(LPWSTR)];
    ROSTER *r = (ROSTER *)(void *)rbuf;
    WCHAR team[] = { 't', 'e', 'a', 'm', 0 }, ab[] = { 'a', 'b', 0 }, cde[] = { 'c', 'd', 'e', 0 };
    r->n = 2;
    r->title = team;
    r->names[0] = ab;
    r->names[1] = cde;
    ULONG sum = 0;
    EXPECT_HR(S_OK, IDeep_Conformant(d, &f, r, &sum, &copy));
    EXPECT(sum == 1000000 + 5000 + 10);
    EXPECT(copy.id == 5 && copy.device && copy.device->size == dev->size && copy.device->offset == 9 &&
           copy.device->data[3] == 4);
    CoTaskMemFree(copy.device);
    /* NULL [unique] member: arrives NULL, and comes back NULL */
    f.device = NULL;
    copy.device = dev;
    r->title = NULL;
    EXPECT_HR(S_OK, IDeep_Conformant(d, &f, r, &sum, &copy));
    EXPECT(sum == 5000 && copy.device == NULL);

    /* a descriptor (J16) and a wire_marshal handle by value */
    int p[2];
    if (pipe(p) == 0) {
        HTHING back = NULL;
        EXPECT_HR(S_OK, IDeep_Handles(d, (HANDLE)(intptr_t)p[1], (HTHING)(intptr_t)0x1000, &back));
        EXPECT((intptr_t)back == 0x1001);
        char c = 0;
        EXPECT(read(p[0], &c, 1) == 1 && c == 'x');
        EXPECT_HR(S_OK, IDeep_Handles(d, NULL, (HTHING)(intptr_t)0x2000, &back));
        EXPECT((intptr_t)back == 0x2000);
        close(p[0]);
        close(p[1]);
    }

    /* the anonymous union member of a MEDIUM, each arm, and a NULL [unique] object */
    for (DWORD tymed = 1; tymed <= 4; tymed++) {
        MEDIUM m, mo;
        memset(&m, 0, sizeof m);
        memset(&mo, 0, sizeof mo);
        WCHAR file[] = { 'f', '.', 't', 0 };
        m.tymed = tymed;
        if (tymed == 1)
            m.u.handle = (HTHING)(intptr_t)77;
        if (tymed == 2)
            m.u.file = file;
        if (tymed == 3)
            m.u.stream = &owner.iface;
        m.release = tymed == 4 ? NULL : &owner.iface;
        EXPECT_HR(S_OK, IDeep_Medium(d, &m, &mo));
        EXPECT(mo.tymed == tymed && mo.release == m.release);
        if (tymed == 1)
            EXPECT((intptr_t)mo.u.handle == 77);
        if (tymed == 2) {
            EXPECT(wstr_is(mo.u.file, "f.t"));
            CoTaskMemFree(mo.u.file);
        }
        if (tymed == 3) {
            EXPECT(mo.u.stream == &owner.iface);
            if (mo.u.stream)
                IUnknown_Release(mo.u.stream);
        }
        if (mo.release)
            IUnknown_Release(mo.release);
    }
    EXPECT(refs_settle(&owner.refs, 1));

    /* [in, out] of every shape: the callee frees and replaces */
    LPWSTR text = wdup_a("old");
    VALUE v;
    v.s = wdup_a("was");
    TAGGED t = { 2, { 0 } };
    t.u.b = bstr_a("bstr1");
    EXPECT_HR(S_OK, IDeep_InOut(d, &text, 2, &v, &t));
    EXPECT(wstr_is(text, "new") && wstr_is(v.s, "replaced") && t.kind == 2 && wstr_is(t.u.b, "bstr2"));
    CoTaskMemFree(v.s);
    SysFreeString(t.u.b);
    /* the union's pointer arm: [in, out] memory is the caller's CoTaskMemAlloc, which the call may replace */
    v.n = CoTaskMemAlloc(sizeof(NAMED));
    memset(v.n, 0, sizeof(NAMED));
    v.n->id = 4;
    v.n->name = wdup_a("nm");
    t.kind = 1;
    t.u.i = 9;
    EXPECT_HR(S_OK, IDeep_InOut(d, &text, 3, &v, &t));
    EXPECT(wstr_is(text, "?") && v.n && v.n->id == 104 && wstr_is(v.n->name, "renamed") && t.kind == 1 && t.u.i == 9);
    if (v.n) {
        deep_named_free(v.n);
        CoTaskMemFree(v.n);
    }
    CoTaskMemFree(text);
}

static void deep_async(IDeep *d)
{
    AsyncIDeep *c = oop_new_call(d, &IID_AsyncIDeep);
    if (!c)
        return;
    Local owner = { { &lvtbl }, 1 };
    NAMED in, second, io, out;
    LONG vals[3] = { 1, 2, 3 };
    named_args(&in, &second, vals, &io, &owner.iface);
    memset(&out, 0, sizeof out);
    EXPECT_HR(S_OK, AsyncIDeep_Begin_Named(c, &in, &io));
    EXPECT_HR(S_OK, AsyncIDeep_Finish_Named(c, &out, &io));
    named_check(&out, &io, &owner.iface);
    SysFreeString(in.note);
    deep_named_free(&out);
    deep_named_free(&io);

    int p[2];
    if (pipe(p) == 0) {
        HTHING back = NULL;
        EXPECT_HR(S_OK, AsyncIDeep_Begin_Handles(c, (HANDLE)(intptr_t)p[1], (HTHING)(intptr_t)0x1000));
        EXPECT_HR(S_OK, AsyncIDeep_Finish_Handles(c, &back));
        char ch = 0;
        EXPECT((intptr_t)back == 0x1001 && read(p[0], &ch, 1) == 1 && ch == 'x');
        close(p[0]);
        close(p[1]);
    }

    MEDIUM m, mo;
    memset(&m, 0, sizeof m);
    memset(&mo, 0, sizeof mo);
    m.tymed = 3;
    m.u.stream = &owner.iface;
    EXPECT_HR(S_OK, AsyncIDeep_Begin_Medium(c, &m));
    EXPECT_HR(S_OK, AsyncIDeep_Finish_Medium(c, &mo));
    EXPECT(mo.tymed == 3 && mo.u.stream == &owner.iface && mo.release == NULL);
    if (mo.u.stream)
        IUnknown_Release(mo.u.stream);

    LPWSTR text = wdup_a("old");
    VALUE v;
    v.s = wdup_a("was");
    TAGGED t = { 2, { 0 } };
    t.u.b = bstr_a("bstr1");
    EXPECT_HR(S_OK, AsyncIDeep_Begin_InOut(c, &text, 2, &v, &t));
    EXPECT_HR(S_OK, AsyncIDeep_Finish_InOut(c, &text, &v, &t));
    EXPECT(wstr_is(text, "new") && wstr_is(v.s, "replaced") && wstr_is(t.u.b, "bstr2"));
    CoTaskMemFree(text);
    CoTaskMemFree(v.s);
    SysFreeString(t.u.b);
    AsyncIDeep_Release(c);
    EXPECT(refs_settle(&owner.refs, 1));
}

static int client(void)
{
    if (FAILED(CoInitializeEx(NULL, COINIT_MULTITHREADED)))
        return 1;
    IKinds *k = NULL;
    if (FAILED(oop_create(&CLSID_OopKinds, &IID_IKinds, (void **)&k)))
        return 1;
    kinds_sync(k);
    kinds_async(k);
    IDeep *d = NULL;
    EXPECT_HR(S_OK, IKinds_QueryInterface(k, &IID_IDeep, (void **)&d));
    if (d) {
        deep_sync(d);
        deep_more(d);
        deep_async(d);
        IDeep_Release(d);
    }
    /* every call object's call went without a worker, the reply completing
     * it on the I/O thread (J5): flat or not, no pool thread was started */
    EXPECT(oop_pool_workers() == 0);
    IKinds_Release(k);
    CoUninitialize();
    return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc == 2 && strcmp(argv[1], "server") == 0)
        return oop_serve(&CLSID_OopKinds, &factory, &live, "oop-kinds server");
    if (argc == 2 && strcmp(argv[1], "client") == 0)
        return client();
    fprintf(stderr, "usage: oop-kinds server|client\n");
    return 2;
}
