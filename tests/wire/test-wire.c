/* test-wire.c - the wire codec (runtime/src/wire.c, docs/wire.md) through
 * bytes: every method of tests/e2e/kinds.idl's IKinds and IDeep encoded as
 * a client's request, decoded as the server's, called on a real object,
 * its reply encoded and decoded into the caller's pointers, each value
 * checked, every copy freed (the suite also runs it under valgrind). Each
 * round trip also feeds the decoders every truncation of both messages
 * (refused with RPC_X_BAD_STUB_DATA) and every one-byte corruption
 * (refused, or accepted and freed). Hostile input: counts larger than the
 * data, oversized messages, unknown object references, wrong versions,
 * stray descriptors; J14's NULL [ref] pointers, nothing sent.
 *
 * AMRT_WIRE_SEEDS=DIR writes every request (and request + reply) of the
 * round trips to DIR: the seeds of fuzz/fuzz_wire.c (fuzz/wire-seeds). */
#include "task.h"
#include "wire.h"
#include "kinds.h"
#include "deep_server.h"
#include "wiretest.h"
#include "oleauto.h"

#include <dirent.h>
#include <fcntl.h>
#include <stddef.h>
#include <uchar.h>

extern const AmrtInterface IKinds_amrt_glue, IDeep_amrt_glue, IHandles_amrt_glue, ISpans_amrt_glue, IVariants_amrt_glue, IFlat_amrt_glue;

#define BAD HRESULT_FROM_WIN32(RPC_X_BAD_STUB_DATA)
#define NULLREF HRESULT_FROM_WIN32(RPC_X_NULL_REF_POINTER)

/* ==================================================================== objects */

typedef struct Obj { const void *lpVtbl; long refs; const IID *iid; } Obj;
static long live;

static HRESULT STDMETHODCALLTYPE obj_qi(IUnknown *This, REFIID riid, void **ppv)
{
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, ((Obj *)This)->iid)) { *ppv = This; IUnknown_AddRef(This); return S_OK; }
    *ppv = NULL;
    return E_NOINTERFACE;
}
static ULONG STDMETHODCALLTYPE obj_addref(IUnknown *This) { return (ULONG)++((Obj *)This)->refs; }
static ULONG STDMETHODCALLTYPE obj_release(IUnknown *This)
{
    long r = --((Obj *)This)->refs;
    if (!r) { free(This); live--; }
    return (ULONG)r;
}
static IUnknown *obj_new(const void *vtbl, const IID *iid)
{
    Obj *o = calloc(1, sizeof *o);
    o->lpVtbl = vtbl;
    o->iid = iid;
    o->refs = 1;
    live++;
    return (IUnknown *)o;
}
static const IUnknownVtbl plain_vtbl = { (void *)obj_qi, (void *)obj_addref, (void *)obj_release };

/* ==================================================================== the peer: a loopback export table */

enum { NEXPORT = 1 << 16 };
static IUnknown *exported[NEXPORT];
static int nexported, revoked;

static HRESULT p_marshal(void *ctx, IUnknown *obj, REFIID iid, amrt__wire_objref *ref)
{
    (void)ctx; (void)iid;
    if (nexported == NEXPORT)
        return E_OUTOFMEMORY;
    IUnknown_AddRef(obj);
    exported[nexported++] = obj;
    ref->owner = 42;
    ref->oid = (uint64_t)nexported;
    return S_OK;
}
static void p_revoke(void *ctx, const amrt__wire_objref *ref)
{
    (void)ctx;
    revoked++;
    if (ref->oid && ref->oid <= (uint64_t)nexported && exported[ref->oid - 1]) {
        IUnknown_Release(exported[ref->oid - 1]);
        exported[ref->oid - 1] = NULL;
    }
}
static HRESULT p_unmarshal(void *ctx, const amrt__wire_objref *ref, IUnknown **out)
{
    (void)ctx;
    if (ref->owner != 42 || !ref->oid || ref->oid > (uint64_t)nexported || !exported[ref->oid - 1])
        return BAD;
    *out = exported[ref->oid - 1];
    IUnknown_AddRef(*out);
    return S_OK;
}
static int drops;
static void p_drop(void *ctx, const amrt__wire_objref *ref) { (void)ctx; (void)ref; drops++; }
static const amrt__wire_peer peer = { NULL, p_marshal, p_revoke, p_unmarshal, p_drop };

/* every export let go: what the peer's connection does when it closes */
static void exports_release(void)
{
    for (int i = 0; i < nexported; i++)
        if (exported[i]) { IUnknown_Release(exported[i]); exported[i] = NULL; }
    nexported = 0;
}

/* the descriptors this process has open */
static int fd_count(void)
{
    DIR *d = opendir("/proc/self/fd");
    ASSERT(d != NULL);
    int n = 0;
    while (readdir(d)) n++;
    closedir(d);
    return n;
}

/* ==================================================================== seeds */

static void write_seed(const char *iface, const char *method, const unsigned char *a, size_t na,
                       const unsigned char *b, size_t nb)
{
    const char *dir = getenv("AMRT_WIRE_SEEDS");
    if (!dir || !*dir)
        return;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < na; i++) h = (h ^ a[i]) * 1099511628211ull;
    for (size_t i = 0; i < nb; i++) h = (h ^ b[i]) * 1099511628211ull;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s-%s-%s-%016llx", dir, iface, method, nb ? "call" : "req", (unsigned long long)h);
    FILE *f = fopen(path, "wb");
    ASSERT(f != NULL);
    fwrite(a, 1, na, f);
    if (nb)
        fwrite(b, 1, nb, f);
    fclose(f);
}

/* ==================================================================== the round trip */

static amrt__wire_header req_header(const AmrtInterface *glue, int index)
{
    amrt__wire_header h;
    memset(&h, 0, sizeof h);
    h.call_id = 1000 + (uint64_t)index * 2;
    h.object_id = 1;
    h.iid = *glue->iid;
    h.method = (uint32_t)index;
    return h;
}

/* a copy of msg's first n bytes with the header's length saying so */
static void cut_copy(amrt__wire_buf *dst, const amrt__wire_buf *src, size_t n)
{
    amrt__wire_buf_reset(dst);
    unsigned char *p = amrt__wire_buf_append(dst, n);
    ASSERT(p != NULL);
    memcpy(p, src->data, n);
    if (n >= AMRT__WIRE_HEADER) {
        uint32_t body = (uint32_t)(n - AMRT__WIRE_HEADER);
        memcpy(p + 8, &body, 4);
    }
    /* descriptors: dups of the same ones */
    for (unsigned i = 0; i < src->nfds; i++)
        ASSERT_HR(S_OK, amrt__wire_buf_push_fd(dst, fcntl(src->fds[i], F_DUPFD_CLOEXEC, 0)));
}

static int corrupt_accepted;
static int new_fds;                         /* [out] descriptors the next round trip gives the caller */
static bool no_hostile;                     /* skip the truncations and corruptions (big messages) */

/* Every truncation of the request refused; every one-byte corruption
 * refused or decoded and freed. */
static void hostile_requests(const AmrtMethod *m, const amrt__wire_buf *req)
{
    amrt__wire_buf t;
    amrt__wire_frame f;
    amrt__wire_buf_init(&t);
    amrt__wire_frame_init(&f);
    for (size_t cut = AMRT__WIRE_HEADER; cut < req->len; cut++) {
        cut_copy(&t, req, cut);
        HRESULT hr = amrt__wire_decode_request(&f, m, &t, &peer);
        if (hr != BAD) {
            fprintf(stderr, "%s: the request cut to %zu of %zu bytes: 0x%08x\n", m->name, cut, req->len, (unsigned)hr);
            exit(1);
        }
    }
    for (size_t at = 0; at < req->len; at++)
        for (int v = 0; v < 2; v++) {
            cut_copy(&t, req, req->len);
            t.data[at] = v ? (unsigned char)~t.data[at] : (unsigned char)(t.data[at] + 1);
            if (SUCCEEDED(amrt__wire_decode_request(&f, m, &t, &peer)))
                corrupt_accepted++;
            amrt__wire_frame_clear(&f);
        }
    amrt__wire_frame_fini(&f);
    amrt__wire_buf_fini(&t);
}

/* the same for the reply to the request the caller's args make */
static void hostile_replies(const AmrtMethod *m, const amrt__wire_header *h, void **args, const amrt__wire_buf *rep)
{
    amrt__wire_buf t, req;
    amrt__wire_frame f;
    amrt__wire_buf_init(&t);
    amrt__wire_buf_init(&req);
    amrt__wire_frame_init(&f);
    void *none[64] = { 0 };
    unsigned char ret[16];
    for (size_t cut = AMRT__WIRE_HEADER; cut < rep->len; cut++) {
        amrt__wire_header hh = *h;
        ASSERT_HR(S_OK, amrt__wire_encode_request(&req, &hh, m, args, &peer, &f));
        cut_copy(&t, rep, cut);
        HRESULT hr = amrt__wire_decode_reply(&f, &t, &peer, none, ret);
        if (hr != BAD) {
            fprintf(stderr, "%s: the reply cut to %zu of %zu bytes: 0x%08x\n", m->name, cut, rep->len, (unsigned)hr);
            exit(1);
        }
        amrt__wire_revoke(&req, &peer);
    }
    for (size_t at = 0; at < rep->len; at++) {
        amrt__wire_header hh = *h;
        ASSERT_HR(S_OK, amrt__wire_encode_request(&req, &hh, m, args, &peer, &f));
        cut_copy(&t, rep, rep->len);
        t.data[at] ^= 0x81;
        if (at & 1)
            amrt__wire_discard_reply(&f, &t, &peer);
        else
            amrt__wire_decode_reply(&f, &t, &peer, none, ret);
        amrt__wire_revoke(&req, &peer);
    }
    amrt__wire_frame_fini(&f);
    amrt__wire_buf_fini(&t);
    amrt__wire_buf_fini(&req);
}

/* Every allocation of the decoders failed in turn (AmrtFailAllocationAfter):
 * E_OUTOFMEMORY, nothing held (valgrind and the counts say nothing leaked),
 * until the decoding needs no more allocations than allowed. */
static void oom_decodes(const AmrtMethod *m, const amrt__wire_header *h, void **args, const amrt__wire_buf *req,
                        const amrt__wire_buf *rep)
{
    amrt__wire_buf t, rq;
    amrt__wire_frame f;
    amrt__wire_buf_init(&t);
    amrt__wire_buf_init(&rq);
    amrt__wire_frame_init(&f);
    void *none[64] = { 0 };
    unsigned char ret[16];
    long live0 = live;
    for (long k = 0; req; k++) {
        ASSERT(k < 100000);
        cut_copy(&t, req, req->len);
        amrt__wire_frame_clear(&f);
        AmrtFailAllocationAfter(k);
        HRESULT hr = amrt__wire_decode_request(&f, m, &t, &peer);
        bool fired = AmrtFailAllocationAfter(-1) > k;
        amrt__wire_frame_clear(&f);
        ASSERT_EQ(live, live0);
        if (SUCCEEDED(hr) && !fired)
            break;
        if (hr != E_OUTOFMEMORY) {
            fprintf(stderr, "%s: request decoding with allocation %ld failing: 0x%08x\n", m->name, k, (unsigned)hr);
            exit(1);
        }
    }
    amrt__wire_frame_fini(&f);
    amrt__wire_frame_init(&f);
    for (long k = 0; rep; k++) {
        ASSERT(k < 100000);
        amrt__wire_header hh = *h;
        ASSERT_HR(S_OK, amrt__wire_encode_request(&rq, &hh, m, args, &peer, &f));
        cut_copy(&t, rep, rep->len);
        AmrtFailAllocationAfter(k);
        HRESULT hr = amrt__wire_decode_reply(&f, &t, &peer, none, ret);
        bool fired = AmrtFailAllocationAfter(-1) > k;
        amrt__wire_revoke(&rq, &peer);
        ASSERT_EQ(live, live0);
        if (SUCCEEDED(hr) && !fired)
            break;
        if (hr != E_OUTOFMEMORY) {
            fprintf(stderr, "%s: reply decoding with allocation %ld failing: 0x%08x\n", m->name, k, (unsigned)hr);
            exit(1);
        }
    }
    /* and the encoder: E_OUTOFMEMORY, nothing encoded, every reference it made revoked */
    for (long k = 0; rep; k++) {
        ASSERT(k < 100000);
        amrt__wire_header hh = *h;
        int exports = nexported, rev = revoked;
        AmrtFailAllocationAfter(k);
        HRESULT hr = amrt__wire_encode_request(&rq, &hh, m, args, &peer, &f);
        bool fired = AmrtFailAllocationAfter(-1) > k;
        if (SUCCEEDED(hr) && !fired) {
            amrt__wire_revoke(&rq, &peer);
            break;
        }
        if (hr != E_OUTOFMEMORY) {
            fprintf(stderr, "%s: request encoding with allocation %ld failing: 0x%08x\n", m->name, k, (unsigned)hr);
            exit(1);
        }
        ASSERT_EQ(rq.len, 0);
        ASSERT_EQ(nexported - exports, revoked - rev);  /* what it marshaled, it revoked */
    }
    amrt__wire_frame_fini(&f);
    amrt__wire_buf_fini(&t);
    amrt__wire_buf_fini(&rq);
}

/* One call of method 'index' of glue on obj through bytes: the caller's
 * args (as AmrtBegin/AmrtFinish get them), the return value in *ret. The
 * encoder's failure is returned (nothing may have been sent); every other
 * step must succeed. */
static HRESULT roundtrip(const AmrtInterface *glue, int index, void *obj, void **args, HRESULT *ret)
{
    const AmrtMethod *m = amrt__wire_method(glue, (uint32_t)index);
    ASSERT(m != NULL);
    int fds = fd_count();
    amrt__wire_buf req, rep;
    amrt__wire_frame cf, sf;
    amrt__wire_buf_init(&req);
    amrt__wire_buf_init(&rep);
    amrt__wire_frame_init(&cf);
    amrt__wire_frame_init(&sf);
    amrt__wire_header h = req_header(glue, index), h0 = h;
    HRESULT hr = amrt__wire_encode_request(&req, &h, m, args, &peer, &cf);
    if (FAILED(hr)) {
        ASSERT_EQ(req.len, 0);              /* nothing to send */
        amrt__wire_frame_fini(&cf);
        amrt__wire_buf_fini(&req);
        amrt__wire_buf_fini(&rep);
        return hr;
    }
    amrt__wire_header got;
    ASSERT_HR(S_OK, amrt__wire_header_get(req.data, &got));
    ASSERT_EQ(got.type, AMRT__WIRE_REQUEST);
    ASSERT_EQ(got.length, req.len - AMRT__WIRE_HEADER);
    ASSERT_EQ(got.call_id, h0.call_id);
    ASSERT_EQ(got.method, (uint32_t)index);
    ASSERT(IsEqualIID(&got.iid, glue->iid));
    write_seed(glue->name, m->name, req.data, req.len, NULL, 0);
    if (!no_hostile) {
        hostile_requests(m, &req);
        oom_decodes(m, &h0, args, &req, NULL);     /* (before the decoding below takes the descriptors) */
    }

    ASSERT_HR(S_OK, amrt__wire_decode_request(&sf, m, &req, &peer));
    ASSERT_EQ(req.nfds == 0 || req.fds[0] < 0, 1);   /* descriptors taken by the values */
    m->call(obj, sf.args, sf.ret);
    amrt__wire_header rh;
    memset(&rh, 0, sizeof rh);
    rh.call_id = h0.call_id;
    ASSERT_HR(S_OK, amrt__wire_encode_reply(&rep, &rh, &sf, &peer));
    amrt__wire_frame_clear(&sf);
    ASSERT_HR(S_OK, amrt__wire_header_get(rep.data, &got));
    ASSERT_EQ(got.type, AMRT__WIRE_REPLY);
    ASSERT_EQ(got.call_id, h0.call_id);
    write_seed(glue->name, m->name, req.data, req.len, rep.data, rep.len);
    if (!no_hostile) {
        hostile_replies(m, &h0, args, &rep);
        oom_decodes(m, &h0, args, NULL, &rep);
    }

    unsigned char r[16] = { 0 };
    ASSERT_HR(S_OK, amrt__wire_decode_reply(&cf, &rep, &peer, args, r));
    if (ret)
        memcpy(ret, r, sizeof *ret);
    amrt__wire_frame_fini(&cf);
    amrt__wire_frame_fini(&sf);
    amrt__wire_buf_fini(&req);
    amrt__wire_buf_fini(&rep);
    ASSERT_EQ(fd_count(), fds + new_fds);   /* no descriptor left behind but the caller's new ones */
    new_fds = 0;
    return S_OK;
}

/* the round trip of a call that must succeed and return S_OK */
#define CALL(glue, index, obj, ...) do { void *args_[] = { __VA_ARGS__ }; HRESULT ret_ = E_FAIL; \
        ASSERT_HR(S_OK, roundtrip(&glue, index, obj, args_, &ret_)); ASSERT_HR(S_OK, ret_); } while (0)

/* what every test ends with: no object or export left */
static void done(void)
{
    exports_release();
    ASSERT_EQ(live, 0);
}

/* ==================================================================== IKinds */

static HRESULT STDMETHODCALLTYPE k_scalars(IKinds *This, BYTE b, SHORT s, LONG l, hyper h, float f, double d, BOOL flag,
                                           COLOR c, double *total)
{ (void)This; *total = b + s + l + (double)h + f + d + (flag ? 1000 : 0) + c; return S_OK; }
static HRESULT STDMETHODCALLTYPE k_structs(IKinds *This, POINT3 byval, const POINT3 *in, POINT3 *inout, POINT3 *out)
{
    (void)This;
    out->x = byval.x + in->x; out->y = byval.y + in->y; out->z = byval.z + in->z;
    inout->x *= 2; inout->y *= 2; inout->z *= 2;
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE k_strings(IKinds *This, const char *a, LPCWSTR w, char **copy, LPWSTR *wcopy)
{
    (void)This;
    size_t n = strlen(a) + 1, m = 0;
    while (w[m]) m++;
    *copy = CoTaskMemAlloc(n + 1);
    (*copy)[0] = '>';
    memcpy(*copy + 1, a, n);
    *wcopy = CoTaskMemAlloc((m + 1) * sizeof(WCHAR));
    for (size_t i = 0; i <= m; i++) (*wcopy)[i] = w[m - i - (i < m)] * (i < m);
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE k_guids(IKinds *This, REFIID iid, IID *out) { (void)This; *out = *iid; out->Data1++; return S_OK; }
static HRESULT STDMETHODCALLTYPE k_arrays(IKinds *This, ULONG n, const LONG *in, LONG *out, LONG *inout)
{ (void)This; for (ULONG i = 0; i < n; i++) { out[i] = in[i] * 10; inout[i] += 1; } return S_OK; }
static HRESULT STDMETHODCALLTYPE k_varying(IKinds *This, ULONG max, BYTE *buf, ULONG *len)
{
    (void)This;
    for (ULONG i = 0; i < max; i++) buf[i] = (BYTE)(i + 1);     /* only *len of them cross */
    *len = max / 2;
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE k_unique(IKinds *This, LONG *maybe, LONG *seen) { (void)This; *seen = maybe ? *maybe : -1; return S_OK; }
static HRESULT STDMETHODCALLTYPE k_objects(IKinds *This, IUnknown *in, IUnknown **out, IUnknown **inout)
{
    *out = in;
    if (in) IUnknown_AddRef(in);
    if (*inout) IUnknown_Release(*inout);
    *inout = (IUnknown *)This;
    IKinds_AddRef(This);
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE k_byiid(IKinds *This, REFIID riid, void **ppv) { return IKinds_QueryInterface(This, riid, ppv); }
static IKindsVtbl kvtbl = { (void *)obj_qi, (void *)obj_addref, (void *)obj_release, k_scalars, k_structs, k_strings, k_guids,
                            k_arrays, k_varying, k_unique, k_objects, k_byiid };

TEST(scalars_and_enums)
{
    IUnknown *k = obj_new(&kvtbl, &IID_IKinds);
    BYTE b = 200; SHORT s = -300; LONG l = 70000; hyper hh = -5000000000ll; float f = 0.5f; double d = 0.25; BOOL fl = 1;
    COLOR c = BLUE; double total = 0, *pt = &total;
    CALL(IKinds_amrt_glue, 0, k, &b, &s, &l, &hh, &f, &d, &fl, &c, &pt);
    ASSERT(total == 200 - 300 + 70000 - 5000000000.0 + 0.75 + 1000 + 4);
    /* J14: a NULL [ref] [out] pointer: nothing sent */
    double *null = NULL;
    void *args[] = { &b, &s, &l, &hh, &f, &d, &fl, &c, &null };
    ASSERT_HR(NULLREF, roundtrip(&IKinds_amrt_glue, 0, k, args, NULL));
    IUnknown_Release(k);
    done();
}

TEST(structs_flat_by_value_and_by_pointer)
{
    IUnknown *k = obj_new(&kvtbl, &IID_IKinds);
    POINT3 byval = { 1, 2, 3 }, in = { 10, 20, 30 }, io = { 5, 6, 7 }, out = { 0 };
    POINT3 *pin = &in, *pio = &io, *pout = &out;
    CALL(IKinds_amrt_glue, 1, k, &byval, &pin, &pio, &pout);
    ASSERT(out.x == 11 && out.y == 22 && out.z == 33);
    ASSERT(io.x == 10 && io.y == 12 && io.z == 14);
    ASSERT(in.x == 10);
    POINT3 *null = NULL;                    /* J14: [in] and [in, out] [ref] */
    void *a1[] = { &byval, &null, &pio, &pout };
    ASSERT_HR(NULLREF, roundtrip(&IKinds_amrt_glue, 1, k, a1, NULL));
    void *a2[] = { &byval, &pin, &null, &pout };
    ASSERT_HR(NULLREF, roundtrip(&IKinds_amrt_glue, 1, k, a2, NULL));
    IUnknown_Release(k);
    done();
}

TEST(strings_char_and_wchar)
{
    IUnknown *k = obj_new(&kvtbl, &IID_IKinds);
    const char *a = "narrow"; LPCWSTR w = (LPCWSTR)u"wide\x00e9"; char *copy = NULL; LPWSTR wc = NULL;
    char **pc = &copy; LPWSTR *pw = &wc;
    CALL(IKinds_amrt_glue, 2, k, &a, &w, &pc, &pw);
    ASSERT(copy && !strcmp(copy, ">narrow"));
    ASSERT(wc && wc[0] == 0xe9 && wc[1] == 'e' && wc[4] == 'w' && wc[5] == 0);
    CoTaskMemFree(copy);
    CoTaskMemFree(wc);
    const char *empty = ""; LPCWSTR wempty = (LPCWSTR)u"";
    copy = NULL; wc = NULL;
    CALL(IKinds_amrt_glue, 2, k, &empty, &wempty, &pc, &pw);
    ASSERT(copy && !strcmp(copy, ">") && wc && wc[0] == 0);
    CoTaskMemFree(copy);
    CoTaskMemFree(wc);
    const char *null = NULL;                /* J14: a [string] is [ref] at the top */
    void *args[] = { &null, &w, &pc, &pw };
    ASSERT_HR(NULLREF, roundtrip(&IKinds_amrt_glue, 2, k, args, NULL));
    IUnknown_Release(k);
    done();
}

TEST(guids)
{
    IUnknown *k = obj_new(&kvtbl, &IID_IKinds);
    const IID *iid = &IID_IDeep; IID out, *po = &out;
    CALL(IKinds_amrt_glue, 3, k, &iid, &po);
    IID want = IID_IDeep;
    want.Data1++;
    ASSERT(IsEqualIID(&out, &want));
    IUnknown_Release(k);
    done();
}

TEST(conformant_arrays_size_is)
{
    IUnknown *k = obj_new(&kvtbl, &IID_IKinds);
    ULONG n = 5; LONG in[5] = { 1, 2, 3, 4, 5 }, out[6] = { 0, 0, 0, 0, 0, 77 }, io[5] = { 5, 6, 7, 8, 9 };
    const LONG *pin = in; LONG *pout = out, *pio = io;
    CALL(IKinds_amrt_glue, 4, k, &n, &pin, &pout, &pio);
    ASSERT(out[0] == 10 && out[4] == 50 && out[5] == 77);
    ASSERT(io[0] == 6 && io[4] == 10);
    LONG *null = NULL;                      /* J14: a NULL [ref] [out] array with elements: nothing sent */
    void *args[] = { &n, &pin, &null, &pio };
    ASSERT_HR(NULLREF, roundtrip(&IKinds_amrt_glue, 4, k, args, NULL));
    n = 0;                                  /* empty: NULL pointers are fine for 0 elements */
    const LONG *nin = NULL; LONG *nout = NULL, *nio = NULL;
    CALL(IKinds_amrt_glue, 4, k, &n, &nin, &nout, &nio);
    IUnknown_Release(k);
    done();
}

TEST(varying_array_length_is)
{
    IUnknown *k = obj_new(&kvtbl, &IID_IKinds);
    ULONG max = 10, len = 99; BYTE buf[10]; BYTE *pb = buf; ULONG *pl = &len;
    memset(buf, 0xee, sizeof buf);
    CALL(IKinds_amrt_glue, 5, k, &max, &pb, &pl);
    ASSERT_EQ(len, 5);
    BYTE *nullb = NULL;                     /* J14, whatever the [out] length's old value says */
    len = 1000;
    void *args[] = { &max, &nullb, &pl };
    ASSERT_HR(NULLREF, roundtrip(&IKinds_amrt_glue, 5, k, args, NULL));
    len = 99;
    for (int i = 0; i < 5; i++) ASSERT_EQ(buf[i], i + 1);
    for (int i = 5; i < 10; i++) ASSERT_EQ(buf[i], 0xee);     /* not transmitted */
    IUnknown_Release(k);
    done();
}

TEST(unique_pointer_null_and_not)
{
    IUnknown *k = obj_new(&kvtbl, &IID_IKinds);
    LONG five = 5, seen = 0, *p = &five, *null = NULL, *ps = &seen;
    CALL(IKinds_amrt_glue, 6, k, &p, &ps);
    ASSERT_EQ(seen, 5);
    CALL(IKinds_amrt_glue, 6, k, &null, &ps);
    ASSERT_EQ(seen, -1);
    IUnknown_Release(k);
    done();
}

TEST(J9_interface_pointers_as_object_references)
{
    IUnknown *k = obj_new(&kvtbl, &IID_IKinds), *in = obj_new(&plain_vtbl, &IID_IUnknown);
    IUnknown *out = NULL, *io = obj_new(&plain_vtbl, &IID_IUnknown);
    IUnknown **po = &out, **pio = &io;
    CALL(IKinds_amrt_glue, 7, k, &in, &po, &pio);
    ASSERT(out == in);                      /* back in its owner: the original pointer */
    ASSERT(io == k);                        /* the old [in, out] one released by the caller's side */
    IUnknown_Release(out);
    IUnknown_Release(io);
    IUnknown_Release(in);
    IUnknown *null = NULL;
    io = NULL;
    CALL(IKinds_amrt_glue, 7, k, &null, &po, &pio);
    ASSERT(out == NULL && io == k);
    IUnknown_Release(io);
    IUnknown_Release(k);
    done();
}

TEST(J9_iid_is)
{
    IUnknown *k = obj_new(&kvtbl, &IID_IKinds);
    const IID *riid = &IID_IKinds; void *pv = NULL, **ppv = &pv;
    CALL(IKinds_amrt_glue, 8, k, &riid, &ppv);
    ASSERT(pv == k);
    IUnknown_Release((IUnknown *)pv);
    riid = &IID_IDeep;                      /* E_NOINTERFACE, a NULL out */
    void *args[] = { &riid, &ppv };
    HRESULT ret;
    ASSERT_HR(S_OK, roundtrip(&IKinds_amrt_glue, 8, k, args, &ret));
    ASSERT_HR(E_NOINTERFACE, ret);
    ASSERT(pv == NULL);
    IUnknown_Release(k);
    done();
}

/* ==================================================================== IDeep */

static IDeepVtbl dvtbl = { (void *)obj_qi, (void *)obj_addref, (void *)obj_release, DEEP_SERVER_METHODS };

TEST(struct_with_string_bstr_sized_member_interface_and_list)
{
    IUnknown *dp = obj_new(&dvtbl, &IID_IDeep), *owner = obj_new(&plain_vtbl, &IID_IUnknown);
    NAMED in, second, io, out;
    deep_named_make(&in, 41, u"alpha", 3, owner);
    deep_named_make(&second, 7, u"beta", 1, NULL);
    in.next = &second;
    deep_named_make(&io, 1, u"before", 2, owner);
    memset(&out, 0, sizeof out);
    NAMED *pin = &in, *pout = &out, *pio = &io;
    CALL(IDeep_amrt_glue, 0, dp, &pin, &pout, &pio);
    ASSERT_EQ(out.id, 42);
    ASSERT(deep_wequal(out.name, u"alpha") && deep_wequal(out.note, u"memo") && SysStringLen(out.note) == 4);
    ASSERT(out.count == 3 && out.values[0] == 2 && out.values[2] == 6);
    ASSERT(out.owner == owner);
    ASSERT(out.next && out.next->id == 8 && !out.next->name && !out.next->next);
    ASSERT(deep_wequal(io.name, u"changed") && deep_wequal(io.note, u"noted") && io.values[0] == 101 && io.values[1] == 102);
    deep_named_free(&out);
    deep_named_free(&io);
    in.next = NULL;
    deep_named_free(&in);
    deep_named_free(&second);
    IUnknown_Release(owner);
    IUnknown_Release(dp);
    done();
}

TEST(struct_by_value_with_fixed_array_of_pointers)
{
    IUnknown *dp = obj_new(&dvtbl, &IID_IDeep);
    HOLDER h;
    memset(&h, 0, sizeof h);
    deep_named_make(&h.first, 3, u"first", 4, NULL);
    NAMED x;
    deep_named_make(&x, 50, u"x", 0, NULL);
    h.extra[0] = &x;
    h.extra[1] = NULL;
    for (int i = 0; i < 2; i++) for (int j = 0; j < 3; j++) h.grid[i][j] = i * 3 + j;
    LONG sum = 0, *ps = &sum;
    CALL(IDeep_amrt_glue, 1, dp, &h, &ps);
    ASSERT_EQ(sum, 3 + 4 + 50 + 15);
    h.extra[1] = &x;                        /* the same pointer twice in one value */
    CALL(IDeep_amrt_glue, 1, dp, &h, &ps);
    ASSERT_EQ(sum, 3 + 4 + 50 + 50 + 15);
    deep_named_free(&h.first);
    deep_named_free(&x);
    IUnknown_Release(dp);
    done();
}

TEST(union_switch_is_every_arm)
{
    IUnknown *dp = obj_new(&dvtbl, &IID_IDeep);
    NAMED n;
    deep_named_make(&n, 9, u"nine", 0, NULL);
    for (LONG kind = 1; kind <= 4; kind++) {
        VALUE v, out;
        memset(&v, 0, sizeof v);
        memset(&out, 0, sizeof out);
        if (kind == 1) v.i = 21;
        if (kind == 2) v.s = (LPWSTR)u"str";
        if (kind == 3) v.n = &n;
        LONG ko = 0, *pko = &ko;
        VALUE *pv = &v, *po = &out;
        CALL(IDeep_amrt_glue, 2, dp, &kind, &pv, &pko, &po);
        ASSERT_EQ(ko, kind);
        if (kind == 1) ASSERT_EQ(out.i, 42);
        if (kind == 2) { ASSERT(deep_wequal(out.s, u"str")); CoTaskMemFree(out.s); }
        if (kind == 3) { ASSERT(out.n->id == 10 && deep_wequal(out.n->name, u"nine")); deep_named_free(out.n); CoTaskMemFree(out.n); }
    }
    deep_named_free(&n);
    IUnknown_Release(dp);
    done();
}

TEST(array_of_structs_with_unions)
{
    IUnknown *dp = obj_new(&dvtbl, &IID_IDeep);
    PAIR in[3], out[3];
    memset(in, 0, sizeof in);
    memset(out, 0, sizeof out);
    in[0].kind = 1; in[0].v.i = 5;
    in[1].kind = 2; in[1].v.s = (LPWSTR)u"two";
    in[2].kind = 7;                         /* the default arm: nothing */
    ULONG n = 3;
    PAIR *pin = in, *pout = out;
    CALL(IDeep_amrt_glue, 3, dp, &n, &pin, &pout);
    ASSERT(out[0].kind == 1 && out[0].v.i == 10);
    ASSERT(out[1].kind == 2 && deep_wequal(out[1].v.s, u"two"));
    ASSERT(out[2].kind == 7);
    CoTaskMemFree(out[1].v.s);
    IUnknown_Release(dp);
    done();
}

TEST(encapsulated_union)
{
    IUnknown *dp = obj_new(&dvtbl, &IID_IDeep);
    for (LONG kind = 1; kind <= 3; kind++) {
        TAGGED in, out;
        memset(&in, 0, sizeof in);
        memset(&out, 0, sizeof out);
        in.kind = kind;
        if (kind == 1) in.u.i = 6;
        if (kind == 2) in.u.b = SysAllocString((const OLECHAR *)u"bee");
        TAGGED *pin = &in, *pout = &out;
        CALL(IDeep_amrt_glue, 4, dp, &pin, &pout);
        ASSERT_EQ(out.kind, kind);
        if (kind == 1) ASSERT_EQ(out.u.i, 7);
        if (kind == 2) { ASSERT(deep_wequal(out.u.b, u"bee")); SysFreeString(out.u.b); SysFreeString(in.u.b); }
    }
    TAGGED bad = { 0 }, out, *pbad = &bad, *pout = &out;    /* no arm for 9: the caller's error */
    bad.kind = 9;
    void *args[] = { &pbad, &pout };
    ASSERT_HR(E_INVALIDARG, roundtrip(&IDeep_amrt_glue, 4, dp, args, NULL));
    IUnknown_Release(dp);
    done();
}

TEST(bstrs_null_empty_and_binary)
{
    IUnknown *dp = obj_new(&dvtbl, &IID_IDeep);
    BSTR in = SysAllocStringByteLen("odd\0bytes", 9), out = NULL, io = SysAllocString((const OLECHAR *)u"old");
    BSTR *po = &out, *pio = &io;
    CALL(IDeep_amrt_glue, 5, dp, &in, &po, &pio);
    ASSERT(out && SysStringByteLen(out) == 9 && !memcmp(out, "odd\0bytes", 9));
    ASSERT(deep_wequal(io, u"new value"));
    SysFreeString(out);
    BSTR null = NULL;
    out = (BSTR)1;
    CALL(IDeep_amrt_glue, 5, dp, &null, &po, &pio);
    ASSERT(out == NULL);
    SysFreeString(in);
    in = SysAllocString((const OLECHAR *)u"");
    CALL(IDeep_amrt_glue, 5, dp, &in, &po, &pio);
    ASSERT(out && SysStringLen(out) == 0);
    SysFreeString(out);
    SysFreeString(in);
    SysFreeString(io);
    IUnknown_Release(dp);
    done();
}

TEST(size_expressions_arithmetic_max_is_sizeof)
{
    IUnknown *dp = obj_new(&dvtbl, &IID_IDeep);
    ULONG n = 2, cb = 3 * sizeof(WCHAR);
    SHORT twice[5] = { 1, 2, 3, 4, 5 };
    LONG upto[3] = { 1, 1, 1 };
    WCHAR chars[3] = { 1, 2, 3 };
    const SHORT *pt = twice; const LONG *pu = upto; const WCHAR *pc = chars;
    LONG sum = 0, *ps = &sum;
    CALL(IDeep_amrt_glue, 6, dp, &n, &pt, &pu, &cb, &pc, &ps);
    ASSERT_EQ(sum, 15 + 300 + 60000);
    IUnknown_Release(dp);
    done();
}

TEST(first_is_last_is_window)
{
    IUnknown *dp = obj_new(&dvtbl, &IID_IDeep);
    ULONG size = 8, first = 2, last = 5;
    LONG buf[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, *pb = buf;
    CALL(IDeep_amrt_glue, 7, dp, &size, &first, &last, &pb);
    LONG want[8] = { 1, 2, 30, 40, 50, 60, 7, 8 };     /* only [first, last] crosses back */
    for (int i = 0; i < 8; i++) ASSERT_EQ(buf[i], want[i]);
    first = 6; last = 2;                    /* last before first: the caller's error */
    void *args[] = { &size, &first, &last, &pb };
    ASSERT_HR(E_INVALIDARG, roundtrip(&IDeep_amrt_glue, 7, dp, args, NULL));
    IUnknown_Release(dp);
    done();
}

TEST(out_array_sized_by_out_value)
{
    IUnknown *dp = obj_new(&dvtbl, &IID_IDeep);
    ULONG want = 6, n = 0, *pn = &n; LONG *items = NULL, **pi = &items;
    CALL(IDeep_amrt_glue, 8, dp, &want, &pn, &pi);
    ASSERT_EQ(n, 6);
    for (int i = 0; i < 6; i++) ASSERT_EQ(items[i], i * i);
    CoTaskMemFree(items);
    want = 0;
    items = NULL;
    CALL(IDeep_amrt_glue, 8, dp, &want, &pn, &pi);
    ASSERT_EQ(n, 0);
    CoTaskMemFree(items);
    IUnknown_Release(dp);
    done();
}

TEST(arrays_of_strings)
{
    IUnknown *dp = obj_new(&dvtbl, &IID_IDeep);
    ULONG n = 3;
    LPSTR in[3] = { "a", "", "ccc" };
    LPWSTR out[3] = { 0 };
    LPSTR *pin = in; LPWSTR *pout = out;
    CALL(IDeep_amrt_glue, 9, dp, &n, &pin, &pout);
    ASSERT(deep_wequal(out[0], u"a") && deep_wequal(out[1], u"") && deep_wequal(out[2], u"ccc"));
    for (int i = 0; i < 3; i++) CoTaskMemFree(out[i]);
    IUnknown_Release(dp);
    done();
}

TEST(conformant_structures)
{
    IUnknown *dp = obj_new(&dvtbl, &IID_IDeep);
    DEVICE *dev = malloc(offsetof(DEVICE, data) + 4);
    dev->size = sizeof(DWORD) + sizeof(WORD) + 4;
    dev->offset = 1;
    for (int i = 0; i < 4; i++) dev->data[i] = (BYTE)(i + 1);
    FORMAT f, copy = { 0, NULL };
    memset(&f, 0, sizeof f);
    f.id = 5;
    f.device = dev;
    ROSTER *r = malloc(offsetof(ROSTER, names) + 2 * sizeof(LPWSTR));
    r->n = 2;
    r->title = (LPWSTR)u"team";
    r->names[0] = (LPWSTR)u"ab";
    r->names[1] = (LPWSTR)u"cde";
    const FORMAT *pf = &f; const ROSTER *pr = r;
    ULONG sum = 0, *ps = &sum; FORMAT *pc = &copy;
    CALL(IDeep_amrt_glue, 10, dp, &pf, &pr, &ps, &pc);
    ASSERT_EQ(sum, 10 + 5000 + 1000000);
    ASSERT(copy.id == 5 && copy.device && copy.device->size == dev->size && copy.device->offset == 1 &&
           copy.device->data[3] == 4);
    CoTaskMemFree(copy.device);
    free(dev);
    free(r);
    IUnknown_Release(dp);
    done();
}

TEST(medium_anonymous_union)
{
    IUnknown *dp = obj_new(&dvtbl, &IID_IDeep), *s = obj_new(&plain_vtbl, &IID_IUnknown);
    for (DWORD ty = 1; ty <= 4; ty++) {
        MEDIUM in, out;
        memset(&in, 0, sizeof in);
        memset(&out, 0, sizeof out);
        in.tymed = ty;
        if (ty == 1) in.u.handle = (HTHING)(intptr_t)77;
        if (ty == 2) in.u.file = (LPOLESTR)u"file.txt";
        if (ty == 3) in.u.stream = s;
        in.release = ty == 3 ? NULL : s;
        const MEDIUM *pin = &in; MEDIUM *pout = &out;
        CALL(IDeep_amrt_glue, 12, dp, &pin, &pout);
        ASSERT_EQ(out.tymed, ty);
        if (ty == 1) ASSERT(out.u.handle == (HTHING)(intptr_t)77);
        if (ty == 2) { ASSERT(deep_wequal(out.u.file, u"file.txt")); CoTaskMemFree(out.u.file); }
        if (ty == 3) { ASSERT(out.u.stream == s); IUnknown_Release(out.u.stream); }
        if (out.release) { ASSERT(out.release == s); IUnknown_Release(out.release); }
    }
    IUnknown_Release(s);
    IUnknown_Release(dp);
    done();
}

TEST(in_out_replaced_by_callee)
{
    IUnknown *dp = obj_new(&dvtbl, &IID_IDeep);
    LPWSTR text = deep_wdup((const WCHAR *)u"old"), *pt = &text;
    NAMED n;
    deep_named_make(&n, 1, u"n", 0, NULL);
    VALUE v;
    v.n = CoTaskMemAlloc(sizeof(NAMED));
    *v.n = n;
    LONG kind = 3;
    TAGGED t = { 0 };
    t.kind = 2;
    t.u.b = SysAllocString((const OLECHAR *)u"b1");
    VALUE *pv = &v; TAGGED *ptg = &t;
    CALL(IDeep_amrt_glue, 13, dp, &pt, &kind, &pv, &ptg);
    ASSERT(deep_wequal(text, u"new"));
    ASSERT(v.n->id == 101 && deep_wequal(v.n->name, u"renamed"));
    ASSERT(t.kind == 2 && deep_wequal(t.u.b, u"bstr2"));
    CoTaskMemFree(text);
    deep_named_free(v.n);
    CoTaskMemFree(v.n);
    SysFreeString(t.u.b);
    IUnknown_Release(dp);
    done();
}

TEST(ptr_aliasing_preserved_within_a_call)
{
    IUnknown *dp = obj_new(&dvtbl, &IID_IDeep), *k = obj_new(&kvtbl, &IID_IKinds);
    LONG x = 4, y = 5, sum = 0, *pa = &x, *pb = &y, *ps = &sum;
    IKinds *back = NULL, **pback = &back;
    CALL(IDeep_amrt_glue, 14, dp, &k, &pback, &pa, &pb, &ps);
    ASSERT_EQ(sum, 9);                      /* two pointers: two pointees */
    ASSERT(back == (IKinds *)k);
    IKinds_Release(back);
    pb = &x;                                /* one pointer twice: one pointee in the server */
    CALL(IDeep_amrt_glue, 14, dp, &k, &pback, &pa, &pb, &ps);
    ASSERT_EQ(sum, 1008);
    IKinds_Release(back);
    pa = NULL;
    pb = NULL;
    IUnknown *none = NULL;
    CALL(IDeep_amrt_glue, 14, dp, &none, &pback, &pa, &pb, &ps);
    ASSERT(sum == 0 && back == NULL);
    IUnknown_Release(k);
    IUnknown_Release(dp);
    done();
}

/* ==================================================================== IHandles: descriptors (J16) */

static int fd_of(HANDLE h) { return (int)(intptr_t)h; }
static HANDLE as_handle(int fd) { return (HANDLE)(intptr_t)fd; }

/* what a pipe holds until its end: every writer closed */
static void expect_pipe(int rd, const char *want)
{
    char got[64];
    size_t n = 0;
    for (;;) {
        ssize_t r = read(rd, got + n, sizeof got - n);
        ASSERT(r >= 0);
        if (r == 0) break;
        n += (size_t)r;
        ASSERT(n < sizeof got);
    }
    got[n] = 0;
    if (strcmp(got, want)) {
        fprintf(stderr, "the pipe held \"%s\", expected \"%s\"\n", got, want);
        exit(1);
    }
}

/* the callee writes to what it gets, and hands back duplicates of its own */
static HRESULT STDMETHODCALLTYPE h_pass(IHandles *This, HANDLE in, HANDLE *out, HANDLE *io)
{
    (void)This;
    if (in && write(fd_of(in), "i", 1) != 1) return E_HANDLE;
    if (*io && write(fd_of(*io), "o", 1) != 1) return E_HANDLE;
    *out = in ? as_handle(dup(fd_of(in))) : NULL;
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE h_many(IHandles *This, ULONG n, const HANDLE *fds, HANDLE *dups)
{
    (void)This;
    for (ULONG i = 0; i < n; i++) {
        char c = (char)('0' + i);
        if (fds[i] && write(fd_of(fds[i]), &c, 1) != 1) return E_HANDLE;
        dups[i] = fds[i] ? as_handle(dup(fd_of(fds[i]))) : NULL;
    }
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE h_paired(IHandles *This, const FDPAIR *in, FDPAIR *out)
{
    (void)This;
    if (write(fd_of(in->fd), "p", 1) != 1) return E_HANDLE;
    out->tag = in->tag + 1;
    out->fd = as_handle(dup(fd_of(in->fd)));
    return S_OK;
}
static IHandlesVtbl hvtbl = { (void *)obj_qi, (void *)obj_addref, (void *)obj_release, h_pass, h_many, h_paired };

TEST(J16_handles_cross_as_descriptors)
{
    IUnknown *hp = obj_new(&hvtbl, &IID_IHandles);
    int a[2], b[2];
    ASSERT(pipe(a) == 0 && pipe(b) == 0);
    int fds = fd_count();
    HANDLE in = as_handle(a[1]), out = NULL, io = as_handle(b[1]), *po = &out, *pio = &io;
    new_fds = 1;
    CALL(IHandles_amrt_glue, 0, hp, &in, &po, &pio);
    /* [out]: a new descriptor the caller owns; [in, out]: the caller's closed, a new one in its place */
    ASSERT(out && fd_of(out) != a[1] && io && fd_of(io) != b[1]);
    ASSERT_EQ(fcntl(b[1], F_GETFD), -1);
    ASSERT_EQ(fd_count(), fds + 1);         /* out; io in the place of b[1] */
    ASSERT(write(fd_of(out), "z", 1) == 1 && write(fd_of(io), "w", 1) == 1);
    close(fd_of(out));
    close(fd_of(io));
    close(a[1]);
    expect_pipe(a[0], "iz");                /* the server's duplicates are all closed */
    expect_pipe(b[0], "ow");
    close(a[0]);
    close(b[0]);
    /* NULL: no descriptor */
    in = NULL;
    io = NULL;
    out = as_handle(99);
    CALL(IHandles_amrt_glue, 0, hp, &in, &po, &pio);
    ASSERT(out == NULL && io == NULL);
    /* a descriptor that is not open: E_HANDLE, nothing sent */
    int closed = open("/dev/null", O_RDONLY);
    close(closed);
    in = as_handle(closed);
    void *args[] = { &in, &po, &pio };
    ASSERT_HR(E_HANDLE, roundtrip(&IHandles_amrt_glue, 0, hp, args, NULL));
    IUnknown_Release(hp);
    done();
}

TEST(J16_handles_in_arrays_and_structures)
{
    IUnknown *hp = obj_new(&hvtbl, &IID_IHandles);
    int a[2];
    ASSERT(pipe(a) == 0);
    HANDLE fds[3] = { as_handle(a[1]), NULL, as_handle(a[1]) }, dups[3] = { 0 };
    ULONG n = 3;
    const HANDLE *pf = fds; HANDLE *pd = dups;
    new_fds = 2;
    CALL(IHandles_amrt_glue, 1, hp, &n, &pf, &pd);
    ASSERT(dups[0] && dups[1] == NULL && dups[2] && dups[0] != dups[2]);
    close(fd_of(dups[0]));
    close(fd_of(dups[2]));
    FDPAIR pin, pout = { 0, NULL };
    memset(&pin, 0, sizeof pin);            /* its padding crosses too: the seeds stay the same */
    pin.tag = 41;
    pin.fd = as_handle(a[1]);
    const FDPAIR *ppin = &pin; FDPAIR *ppout = &pout;
    new_fds = 1;
    CALL(IHandles_amrt_glue, 2, hp, &ppin, &ppout);
    ASSERT(pout.tag == 42 && pout.fd);
    ASSERT(write(fd_of(pout.fd), "q", 1) == 1);
    close(fd_of(pout.fd));
    close(a[1]);
    expect_pipe(a[0], "02pq");
    close(a[0]);
    /* more descriptors than one message carries: the caller's error */
    enum { N = AMRT__WIRE_MAX_FDS + 1 };
    HANDLE many[N], back[N];
    int fd = open("/dev/null", O_RDONLY);
    for (int i = 0; i < N; i++) many[i] = as_handle(fd);
    n = N;
    const HANDLE *pm = many; HANDLE *pb = back;
    void *args[] = { &n, &pm, &pb };
    int before = fd_count();
    ASSERT_HR(E_INVALIDARG, roundtrip(&IHandles_amrt_glue, 1, hp, args, NULL));
    ASSERT_EQ(fd_count(), before);          /* the duplicates made so far closed */
    close(fd);
    IUnknown_Release(hp);
    done();
}

TEST(J13_J16_handles_hostile_indices)
{
    const AmrtMethod *m = amrt__wire_method(&IHandles_amrt_glue, 0);
    amrt__wire_buf b;
    amrt__wire_frame cf, sf;
    amrt__wire_buf_init(&b);
    amrt__wire_frame_init(&cf);
    amrt__wire_frame_init(&sf);
    int fd = open("/dev/null", O_RDONLY), fds = fd_count();
    HANDLE in = as_handle(fd), out = NULL, io = as_handle(fd), *po = &out, *pio = &io;
    void *args[] = { &in, &po, &pio };
    amrt__wire_header h = req_header(&IHandles_amrt_glue, 0);
    ASSERT_HR(S_OK, amrt__wire_encode_request(&b, &h, m, args, &peer, &cf));
    ASSERT_EQ(b.nfds, 2);
    /* the body: in's index (0), io's marker and index (1); both naming 0: one used twice */
    uint32_t idx[3];
    memcpy(idx, b.data + AMRT__WIRE_HEADER, sizeof idx);
    ASSERT(idx[0] == 0 && idx[1] == 0xFFFFFFFFu && idx[2] == 1);
    uint32_t zero = 0, two = 2;
    memcpy(b.data + AMRT__WIRE_HEADER + 8, &zero, 4);
    ASSERT_HR(BAD, amrt__wire_decode_request(&sf, m, &b, &peer));
    memcpy(b.data + AMRT__WIRE_HEADER + 8, &two, 4);        /* no such descriptor */
    ASSERT_HR(BAD, amrt__wire_decode_request(&sf, m, &b, &peer));
    amrt__wire_buf_fini(&b);                /* closes the message's descriptors */
    ASSERT_EQ(fd_count(), fds);
    close(fd);
    amrt__wire_frame_fini(&cf);
    amrt__wire_frame_fini(&sf);
    done();
}

/* more pointers than the decoder keeps ids for inline (it once freed its
 * own inline table when growing it: a crash on 17 pointers) */
TEST(long_list_many_pointer_ids)
{
    IUnknown *dp = obj_new(&dvtbl, &IID_IDeep);
    enum { N = 40 };
    NAMED nodes[N], io, out;
    memset(nodes, 0, sizeof nodes);
    for (int i = 0; i < N; i++) {
        nodes[i].id = i;
        nodes[i].next = i + 1 < N ? &nodes[i + 1] : NULL;
    }
    nodes[N - 1].next = &nodes[5];          /* and back: a cycle, each node sent once */
    memset(&io, 0, sizeof io);
    memset(&out, 0, sizeof out);
    NAMED *pin = nodes, *pout = &out, *pio = &io;
    void *args[] = { &pin, &pout, &pio };
    HRESULT ret = S_OK;
    ASSERT_HR(S_OK, roundtrip(&IDeep_amrt_glue, 0, dp, args, &ret));
    ASSERT_HR(E_FAIL, ret);                 /* (the callee wants another list: a result like any other) */
    IUnknown_Release(dp);
    done();
}

TEST(J13_nesting_depth_limited)
{
    IUnknown *dp = obj_new(&dvtbl, &IID_IDeep);
    enum { N = AMRT__WIRE_MAX_DEPTH + 10 };
    NAMED *nodes = calloc(N, sizeof *nodes), io, out;
    for (int i = 0; i < N; i++) {
        nodes[i].id = i;
        nodes[i].next = i + 1 < N ? &nodes[i + 1] : NULL;
    }
    memset(&io, 0, sizeof io);
    memset(&out, 0, sizeof out);
    NAMED *pin = nodes, *pout = &out, *pio = &io;
    void *args[] = { &pin, &pout, &pio };
    no_hostile = true;
    setenv("AMRT_WIRE_SEEDS", "", 1);       /* no seed of this size */
    /* a list within the limit crosses (the callee refuses it: E_FAIL, a result like any other) */
    nodes[AMRT__WIRE_MAX_DEPTH - 2].next = NULL;
    HRESULT ret = S_OK;
    ASSERT_HR(S_OK, roundtrip(&IDeep_amrt_glue, 0, dp, args, &ret));
    ASSERT_HR(E_FAIL, ret);
    /* one deeper than the limit cannot be sent */
    nodes[AMRT__WIRE_MAX_DEPTH - 2].next = &nodes[AMRT__WIRE_MAX_DEPTH - 1];
    ASSERT_HR(E_INVALIDARG, roundtrip(&IDeep_amrt_glue, 0, dp, args, NULL));
    /* nor received: a list of D nodes (each 80 bytes: its id, padding, its 56 bytes, four
     * NULL members, then the next node's id; the last node's next is 0), grown by hand */
    const AmrtMethod *m = amrt__wire_method(&IDeep_amrt_glue, 0);
    enum { D = 200 };
    for (int i = 0; i < D; i++) memset(&nodes[i], 0, sizeof nodes[i]), nodes[i].next = i + 1 < D ? &nodes[i + 1] : NULL;
    amrt__wire_buf b, big;
    amrt__wire_frame cf, sf;
    amrt__wire_buf_init(&b);
    amrt__wire_buf_init(&big);
    amrt__wire_frame_init(&cf);
    amrt__wire_frame_init(&sf);
    amrt__wire_header h = req_header(&IDeep_amrt_glue, 0);
    ASSERT_HR(S_OK, amrt__wire_encode_request(&b, &h, m, args, &peer, &cf));
    for (int extra = AMRT__WIRE_MAX_DEPTH - D; extra <= AMRT__WIRE_MAX_DEPTH - D + 1; extra++) {
        size_t at = AMRT__WIRE_HEADER + 80 * (size_t)D;
        uint32_t v;
        memcpy(&v, b.data + at, 4);
        ASSERT_EQ(v, 0);                    /* the last node's next */
        amrt__wire_buf_reset(&big);
        unsigned char *p = amrt__wire_buf_append(&big, b.len + 80 * (size_t)extra);
        memcpy(p, b.data, at);
        for (int k = 0; k < extra; k++) {
            unsigned char *node = p + at + 80 * (size_t)k;
            memset(node, 0, 80);
            v = (uint32_t)(D + k + 1);      /* the next id */
            memcpy(node, &v, 4);
        }
        memcpy(p + at + 80 * (size_t)extra, b.data + at, b.len - at);
        uint32_t body = (uint32_t)(big.len - AMRT__WIRE_HEADER);
        memcpy(p + 8, &body, 4);
        HRESULT want = D + extra <= AMRT__WIRE_MAX_DEPTH ? S_OK : BAD;
        ASSERT_HR(want, amrt__wire_decode_request(&sf, m, &big, &peer));
        amrt__wire_frame_clear(&sf);
        const char *out = getenv("AMRT_WIRE_REGRESS");  /* its path: fuzz/wire-seeds/regress-nesting-257 */
        FILE *fo = want == BAD && out && *out ? fopen(out, "wb") : NULL;
        if (fo) {
            fwrite(big.data, 1, big.len, fo);
            fclose(fo);
        }
    }
    amrt__wire_frame_fini(&cf);
    amrt__wire_frame_fini(&sf);
    amrt__wire_buf_fini(&b);
    amrt__wire_buf_fini(&big);
    free(nodes);
    IUnknown_Release(dp);
    done();
}

/* ==================================================================== ISpans: what counts may ask for */

static HRESULT STDMETHODCALLTYPE s_sum(ISpans *This, ULONG n, const SPAN *spans, ULONG *total)
{
    (void)This;
    ULONG t = 0;
    for (ULONG i = 0; i < n; i++) {
        for (ULONG k = 0; k < spans[i].len; k++) t += spans[i].data[k];
        for (ULONG k = spans[i].len; k < spans[i].size; k++) t += spans[i].data[k] * 1000;  /* zeroed: not passed */
    }
    *total = t;
    return S_OK;
}
static ISpansVtbl svtbl = { (void *)obj_qi, (void *)obj_addref, (void *)obj_release, s_sum };

TEST(varying_arrays_inside_structures)
{
    IUnknown *sp = obj_new(&svtbl, &IID_ISpans);
    BYTE a[4] = { 1, 2, 3, 4 }, b[6] = { 10, 20, 30, 40, 50, 60 };
    SPAN spans[3];
    memset(spans, 0, sizeof spans);
    spans[0] = (SPAN){ 4, 4, a };
    spans[1] = (SPAN){ 6, 2, b };               /* 40, 50, 60 stay behind */
    spans[2] = (SPAN){ 0, 0, NULL };
    ULONG n = 3, total = 0, *pt = &total;
    const SPAN *ps = spans;
    CALL(ISpans_amrt_glue, 0, sp, &n, &ps, &pt);
    ASSERT_EQ(total, 1 + 2 + 3 + 4 + 10 + 20);
    IUnknown_Release(sp);
    done();
}

/* A few bytes of message whose counts ask for much memory: all that one
 * message's values allocate stays within twice the message limit (J13). */
TEST(J13_allocation_budget_per_message)
{
    const AmrtMethod *m = amrt__wire_method(&ISpans_amrt_glue, 0);
    amrt__wire_set_max_message(65536);
    BYTE one = 1;
    enum { N = 8, EACH = 30000 };              /* each under the limit, 8 of them twice over it */
    SPAN spans[N];
    memset(spans, 0, sizeof spans);
    for (int i = 0; i < N; i++)
        spans[i] = (SPAN){ EACH, 1, &one };     /* (only the first element is read and sent) */
    ULONG n = N, total = 0, *pt = &total;
    const SPAN *ps = spans;
    void *args[] = { &n, &ps, &pt };
    amrt__wire_buf b;
    amrt__wire_frame cf, sf;
    amrt__wire_buf_init(&b);
    amrt__wire_frame_init(&cf);
    amrt__wire_frame_init(&sf);
    amrt__wire_header h = req_header(&ISpans_amrt_glue, 0);
    ASSERT_HR(S_OK, amrt__wire_encode_request(&b, &h, m, args, &peer, &cf));
    ASSERT(b.len < 1024);
    AmrtFailAllocationAfter(-1);
    ASSERT_HR(BAD, amrt__wire_decode_request(&sf, m, &b, &peer));
    ASSERT(AmrtFailAllocationAfter(-1) < 10);  /* refused after a few, not after all */
    n = 4;                                      /* half of them fit */
    ASSERT_HR(S_OK, amrt__wire_encode_request(&b, &h, m, args, &peer, &cf));
    ASSERT_HR(S_OK, amrt__wire_decode_request(&sf, m, &b, &peer));
    amrt__wire_frame_fini(&cf);
    amrt__wire_frame_fini(&sf);
    amrt__wire_buf_fini(&b);
    done();
}

/* J14: a NULL [ref] pointer at a cross-process call: RPC_X_NULL_REF_POINTER,
 * nothing encoded, whatever the kind and direction */
TEST(J14_null_ref_pointers_nothing_sent)
{
    IUnknown *k = obj_new(&kvtbl, &IID_IKinds), *dp = obj_new(&dvtbl, &IID_IDeep);
    POINT3 p = { 1, 2, 3 }, *pp = &p, *null = NULL;
    void *in_ref[] = { &p, &null, &pp, &pp };           /* [in] const POINT3 * */
    ASSERT_HR(NULLREF, roundtrip(&IKinds_amrt_glue, 1, k, in_ref, NULL));
    void *inout_ref[] = { &p, &pp, &null, &pp };        /* [in, out] POINT3 * */
    ASSERT_HR(NULLREF, roundtrip(&IKinds_amrt_glue, 1, k, inout_ref, NULL));
    void *out_ref[] = { &p, &pp, &pp, &null };          /* [out] POINT3 * */
    ASSERT_HR(NULLREF, roundtrip(&IKinds_amrt_glue, 1, k, out_ref, NULL));
    const char *a = "a", *nulls = NULL; LPCWSTR w = (LPCWSTR)u"w"; char *c = NULL, **pc = &c; LPWSTR wc = NULL, *pw = &wc;
    void *str_ref[] = { &nulls, &w, &pc, &pw };         /* [in, string] */
    ASSERT_HR(NULLREF, roundtrip(&IKinds_amrt_glue, 2, k, str_ref, NULL));
    char **nullpc = NULL;
    void *outstr_ref[] = { &a, &w, &nullpc, &pw };      /* [out, string] char ** */
    ASSERT_HR(NULLREF, roundtrip(&IKinds_amrt_glue, 2, k, outstr_ref, NULL));
    ULONG n = 2; LONG v[2] = { 1, 2 }, *pv = v, *nullv = NULL;
    void *arr_ref[] = { &n, &nullv, &pv, &pv };         /* [in, size_is(n)] */
    ASSERT_HR(NULLREF, roundtrip(&IKinds_amrt_glue, 4, k, arr_ref, NULL));
    NAMED named, *pn = &named, *nulln = NULL;
    memset(&named, 0, sizeof named);
    void *member_ref[] = { &pn, &pn, &nulln };          /* [in, out] NAMED *, after an [in] one encoded */
    ASSERT_HR(NULLREF, roundtrip(&IDeep_amrt_glue, 0, dp, member_ref, NULL));
    ASSERT(c == NULL && wc == NULL);
    IUnknown_Release(k);
    IUnknown_Release(dp);
    done();
}


/* ==================================================================== IVariants: VARIANT, SAFEARRAY (#13) */

static HRESULT STDMETHODCALLTYPE v_echo(IVariants *This, VARIANT v, VARIANT *r, VARIANT *io)
{
    (void)This;
    HRESULT hr = VariantCopy(r, &v);
    VARTYPE old = io->vt;
    VariantClear(io);
    io->vt = VT_I4;
    io->lVal = old;
    return hr;
}
static HRESULT STDMETHODCALLTYPE v_arrays(IVariants *This, SAFEARRAY *a, SAFEARRAY **b)
{
    (void)This;
    if (!a) {
        *b = NULL;
        return S_OK;
    }
    size_t n = a->rgsabound[0].cElements;
    *b = SafeArrayCreateVector(VT_BSTR, 0, (ULONG)n);
    for (size_t i = 0; i < n; i++) {
        char t[16];
        WCHAR w[16];
        int k = snprintf(t, sizeof t, "%u", ((VARIANT *)a->pvData)[i].vt);
        for (int j = 0; j < k; j++) w[j] = (WCHAR)t[j];
        ((BSTR *)(*b)->pvData)[i] = SysAllocStringLen(w, (UINT)k);
    }
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE v_held(IVariants *This, const VARHOLDER *h, VARHOLDER *h2)
{
    (void)This;
    h2->tag = h->tag + 1;
    h2->name = h->name ? SysAllocStringByteLen((LPCSTR)h->name, SysStringByteLen(h->name)) : NULL;
    return VariantCopy(&h2->v, &h->v);
}
static IVariantsVtbl vvtbl = { (void *)obj_qi, (void *)obj_addref, (void *)obj_release, v_echo, v_arrays, v_held };

static BSTR wbstr(const char *s, UINT n)
{
    WCHAR w[64];
    for (UINT i = 0; i < n; i++) w[i] = (WCHAR)(unsigned char)s[i];
    return SysAllocStringLen(w, n);
}

enum { NVAR = 28 };
static LONG byref_long = 0x55aa;
static double byref_dbl = -0.125;

/* test value i (VariantInit'd v); obj for the interface ones */
static void var_sample(int i, VARIANT *v, IUnknown *obj)
{
    /* all 24 bytes written: var_eq compares 8 bytes of every scalar, which also checks
       that the receiver built the VARIANT in zeroed storage (docs/wire.md) */
    memset(v, 0, sizeof *v);
    VariantInit(v);
    switch (i) {
    case 0: break;
    case 1: v->vt = VT_NULL; break;
    case 2: v->vt = VT_I1; v->cVal = -3; break;
    case 3: v->vt = VT_UI1; v->bVal = 0xfe; break;
    case 4: v->vt = VT_I2; v->iVal = -2; break;
    case 5: v->vt = VT_UI2; v->uiVal = 0xfffe; break;
    case 6: v->vt = VT_I4; v->lVal = 0x12345678; break;
    case 7: v->vt = VT_UI4; v->ulVal = 0xfedcba98u; break;
    case 8: v->vt = VT_I8; v->llVal = -0x123456789abLL; break;
    case 9: v->vt = VT_UI8; v->ullVal = 0xfedcba9876543210ull; break;
    case 10: v->vt = VT_INT; v->intVal = -1; break;
    case 11: v->vt = VT_UINT; v->uintVal = 3; break;
    case 12: v->vt = VT_R4; v->fltVal = 0.25f; break;
    case 13: v->vt = VT_R8; v->dblVal = 1e300; break;
    case 14: v->vt = VT_BOOL; v->boolVal = VARIANT_FALSE; break;
    case 15: v->vt = VT_ERROR; v->scode = E_FAIL; break;
    case 16: v->vt = VT_CY; v->cyVal.int64 = -50000; break;
    case 17: v->vt = VT_DATE; v->date = -1.5; break;
    case 18: v->vt = VT_BSTR; v->bstrVal = wbstr("bin\0ary", 7); break;
    case 19: v->vt = VT_BSTR; v->bstrVal = NULL; break;
    case 20: v->vt = VT_UNKNOWN; v->punkVal = obj; IUnknown_AddRef(obj); break;
    case 21: {
        SAFEARRAYBOUND b[3] = { { 2, -5 }, { 1, 0 }, { 3, 7 } };
        v->vt = VT_ARRAY | VT_I2;
        v->parray = SafeArrayCreate(VT_I2, 3, b);
        for (int k = 0; k < 6; k++) ((SHORT *)v->parray->pvData)[k] = (SHORT)(k * 11 - 20);
        break;
    }
    case 22: {
        v->vt = VT_ARRAY | VT_VARIANT;
        v->parray = SafeArrayCreateVector(VT_VARIANT, 1, 4);
        VARIANT *d = v->parray->pvData;
        var_sample(18, &d[0], obj);
        var_sample(20, &d[1], obj);
        var_sample(21, &d[2], obj);
        var_sample(9, &d[3], obj);
        break;
    }
    case 25: v->vt = VT_BYREF | VT_I4; v->plVal = &byref_long; break;
    case 26: v->vt = VT_BYREF | VT_R8; v->pdblVal = &byref_dbl; break;
    case 27: v->vt = VT_BYREF | VT_I1; v->pcVal = NULL; break;
    case 24:
        v->decVal.scale = 2;
        v->decVal.Hi32 = 7;
        v->decVal.Lo64 = 123456789;
        v->vt = VT_DECIMAL;
        break;
    case 23: {
        v->vt = VT_ARRAY | VT_UNKNOWN;
        v->parray = SafeArrayCreateVector(VT_UNKNOWN, 0, 3);
        IUnknown **d = v->parray->pvData;
        d[0] = obj; IUnknown_AddRef(obj);
        d[2] = obj; IUnknown_AddRef(obj);
        break;
    }
    }
}

static bool var_eq(const VARIANT *a, const VARIANT *b);

static bool sa_eq(SAFEARRAY *a, SAFEARRAY *b)
{
    if (!a || !b)
        return a == b;
    VARTYPE va, vb;
    if (SafeArrayGetVartype(a, &va) || SafeArrayGetVartype(b, &vb) || va != vb || a->cDims != b->cDims ||
        a->cbElements != b->cbElements || memcmp(a->rgsabound, b->rgsabound, a->cDims * sizeof *a->rgsabound))
        return false;
    size_t n = 1;
    for (int d = 0; d < a->cDims; d++) n *= a->rgsabound[d].cElements;
    for (size_t i = 0; i < n; i++) {
        unsigned char *x = (unsigned char *)a->pvData + i * a->cbElements, *y = (unsigned char *)b->pvData + i * b->cbElements;
        if (va == VT_VARIANT ? !var_eq((VARIANT *)x, (VARIANT *)y)
            : va == VT_BSTR ? (!*(BSTR *)x || !*(BSTR *)y ? *(BSTR *)x != *(BSTR *)y
                               : SysStringByteLen(*(BSTR *)x) != SysStringByteLen(*(BSTR *)y) ||
                                 memcmp(*(BSTR *)x, *(BSTR *)y, SysStringByteLen(*(BSTR *)x)))
            : memcmp(x, y, a->cbElements))
            return false;
    }
    return true;
}

/* equal values (interfaces: the same pointer, the loopback peer keeps identity) */
static bool var_eq(const VARIANT *a, const VARIANT *b)
{
    if (a->vt != b->vt)
        return false;
    if (a->vt & VT_ARRAY)
        return sa_eq(a->parray, b->parray);
    if (a->vt == VT_BSTR)
        return !a->bstrVal || !b->bstrVal ? a->bstrVal == b->bstrVal
               : SysStringByteLen(a->bstrVal) == SysStringByteLen(b->bstrVal) &&
                 !memcmp(a->bstrVal, b->bstrVal, SysStringByteLen(a->bstrVal));
    if (a->vt & VT_BYREF) {
        size_t n = a->vt == (VT_BYREF | VT_R8) ? 8 : a->vt == (VT_BYREF | VT_I4) ? 4 : 1;
        return !a->byref || !b->byref ? a->byref == b->byref : !memcmp(a->byref, b->byref, n);
    }
    if (a->vt == VT_DECIMAL)
        return !memcmp((const char *)&a->decVal + 2, (const char *)&b->decVal + 2, sizeof(DECIMAL) - 2);
    return !memcmp(&a->llVal, &b->llVal, 8);
}

TEST(variants_every_vt_both_ways)
{
    IUnknown *vo = obj_new(&vvtbl, &IID_IVariants), *thing = obj_new(&plain_vtbl, &IID_IUnknown);
    for (int i = 0; i < NVAR; i++) {
        VARIANT v, r, io, want;
        var_sample(i, &v, thing);
        var_sample(i, &io, thing);
        VariantInit(&r);
        VARIANT *pr = &r, *pio = &io;
        CALL(IVariants_amrt_glue, 0, vo, &v, &pr, &pio);
        if (!var_eq(&v, &r)) {
            fprintf(stderr, "Echo of test value %d: another value came back (vt %u)\n", i, r.vt);
            exit(1);
        }
        ASSERT_EQ(io.vt, VT_I4);
        ASSERT_EQ(io.lVal, v.vt);
        if ((r.vt & VT_BYREF) && r.byref)       /* its pointee came in the VARIANT, moved with it */
            ASSERT(r.byref == (unsigned char *)&r + 16);
        ASSERT_HR(S_OK, VariantClear(&r));
        ASSERT_HR(S_OK, VariantClear(&v));
        var_sample(i, &want, thing);     /* (the sample itself is deterministic) */
        VariantClear(&want);
    }
    ASSERT_EQ(((Obj *)thing)->refs, 1 + nexported - revoked);      /* the exports hold the rest */
    exports_release();
    ASSERT_EQ(((Obj *)thing)->refs, 1);
    IUnknown_Release(thing);
    IUnknown_Release(vo);
    done();
}

TEST(safearrays_of_variants_and_bstrs_and_variant_members)
{
    IUnknown *vo = obj_new(&vvtbl, &IID_IVariants), *thing = obj_new(&plain_vtbl, &IID_IUnknown);
    VARIANT v;
    var_sample(22, &v, thing);
    SAFEARRAY *a = v.parray, *b = NULL, **pb = &b;
    CALL(IVariants_amrt_glue, 1, vo, &a, &pb);
    ASSERT(b != NULL);
    static const char *want[] = { "8", "13", "8194", "21" };
    for (int i = 0; i < 4; i++) {
        BSTR s = ((BSTR *)b->pvData)[i];
        ASSERT_EQ(SysStringLen(s), strlen(want[i]));
        for (size_t k = 0; k < strlen(want[i]); k++) ASSERT_EQ(s[k], want[i][k]);
    }
    ASSERT_HR(S_OK, SafeArrayDestroy(b));
    SAFEARRAY *none = NULL;
    b = (SAFEARRAY *)1;
    CALL(IVariants_amrt_glue, 1, vo, &none, &pb);          /* a NULL SAFEARRAY both ways */
    ASSERT(b == NULL);
    VARHOLDER h = { 0 }, h2, *ph = &h, *ph2 = &h2;
    memset(&h2, 0, sizeof h2);
    h.tag = 41;
    h.v = v;                            /* (borrowed) */
    h.name = wbstr("nm", 2);
    CALL(IVariants_amrt_glue, 2, vo, &ph, &ph2);
    ASSERT_EQ(h2.tag, 42);
    ASSERT(var_eq(&h.v, &h2.v));
    ASSERT(h2.name && SysStringLen(h2.name) == 2);
    VariantClear(&h2.v);
    SysFreeString(h2.name);
    SysFreeString(h.name);
    VariantClear(&v);
    exports_release();
    IUnknown_Release(thing);
    IUnknown_Release(vo);
    done();
}

/* a REQUEST of IVariants method 'index' with the body words w (u32 each) */
static void raw_request(amrt__wire_buf *b, int index, const uint32_t *w, size_t n)
{
    ASSERT_HR(S_OK, amrt__wire_buf_start(b));
    unsigned char *p = amrt__wire_buf_append(b, n * 4);
    ASSERT(p != NULL);
    memcpy(p, w, n * 4);
    amrt__wire_header h = req_header(&IVariants_amrt_glue, index);
    h.type = AMRT__WIRE_REQUEST;
    amrt__wire_buf_seal(b, &h);
}

/* Hostile VARIANTs and SAFEARRAYs: every one refused (RPC_X_BAD_STUB_DATA),
 * nothing allocated for counts the data cannot hold, nothing leaked */
TEST(J13_variant_and_safearray_hostile)
{
    const AmrtMethod *echo = amrt__wire_method(&IVariants_amrt_glue, 0), *arrays = amrt__wire_method(&IVariants_amrt_glue, 1);
    enum { MV = 0xFFFFFFFFu };
    /* Echo(v, [out] r, [in, out] io): v, then io's marker and VARIANT */
    struct { const char *what; uint32_t w[24]; size_t n; const AmrtMethod *m; } cases[] = {
        { "well formed (control)", { VT_I4, 7, MV, VT_EMPTY }, 4, echo },
        { "no such vt", { 0x7777, 7, MV, VT_EMPTY }, 4, echo },
        { "vt over 16 bits", { 0x10003, 7, MV, VT_EMPTY }, 4, echo },
        { "VT_RECORD", { VT_RECORD, 0, 0, 0, MV, VT_EMPTY }, 6, echo },
        { "VT_VARIANT alone", { VT_VARIANT, MV, VT_EMPTY }, 3, echo },
        { "VT_BYREF of a BSTR", { VT_BYREF | VT_BSTR, MV, 0, MV, VT_EMPTY }, 5, echo },
        { "VT_BYREF bad marker", { VT_BYREF | VT_I4, 1, 7, MV, VT_EMPTY }, 5, echo },
        { "VT_BYREF truncated", { VT_BYREF | VT_I8, MV }, 2, echo },
        { "VT_ARRAY of VT_EMPTY", { VT_ARRAY, MV, 0, 1, 0, 0, 0, MV, VT_EMPTY }, 9, echo },
        { "array's vt not the VARIANT's", { VT_ARRAY | VT_I4, MV, VT_R4, 1, 4, 1, 0, 7, MV, VT_EMPTY }, 10, echo },
        { "element size not the vt's", { VT_ARRAY | VT_I4, MV, VT_I4, 1, 2, 1, 0, 7, MV, VT_EMPTY }, 10, echo },
        { "no dimensions", { VT_ARRAY | VT_I4, MV, VT_I4, 0, 4, MV, VT_EMPTY }, 7, echo },
        { "65 dimensions", { VT_ARRAY | VT_I4, MV, VT_I4, 65, 4, 1, 0, 7, MV, VT_EMPTY }, 10, echo },
        { "2^32 - 1 elements", { VT_ARRAY | VT_I4, MV, VT_I4, 1, 4, MV, 0, 7, MV, VT_EMPTY }, 10, echo },
        { "2^32 - 1 x 2^32 - 1 elements", { VT_ARRAY | VT_UI1, MV, VT_UI1, 2, 1, MV, 0, MV, 0, 7, MV, VT_EMPTY }, 12, echo },
        { "2^16 x 2^16 elements of VARIANT", { VT_ARRAY | VT_VARIANT, MV, VT_VARIANT, 2, 24, 65536, 0, 65536, 0, 0, MV, VT_EMPTY }, 12, echo },
        { "upper bound beyond LONG", { VT_ARRAY | VT_I4, MV, VT_I4, 1, 4, 2, 0x7fffffff, 7, 8, MV, VT_EMPTY }, 11, echo },
        { "bad array marker", { VT_ARRAY | VT_I4, 5, VT_I4, 1, 4, 1, 0, 7, MV, VT_EMPTY }, 10, echo },
        { "BSTR longer than the data", { VT_BSTR, MV, 1000, 0, MV, VT_EMPTY }, 6, echo },
        { "unknown object reference", { VT_UNKNOWN, MV, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, MV, VT_EMPTY }, 14, echo },
        { "nested arrays deeper than the limit", { 0 }, 0, echo },
        { "SAFEARRAY(VARIANT) with a bad element", { MV, VT_VARIANT, 1, 24, 2, 0, VT_I4, 1, 0x7777 }, 9, arrays },
        { "SAFEARRAY(VARIANT) given as BSTRs", { MV, VT_BSTR, 1, 8, 1, 0, 0 }, 7, arrays },
    };
    amrt__wire_buf b;
    amrt__wire_frame f;
    amrt__wire_buf_init(&b);
    amrt__wire_frame_init(&f);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (!cases[i].n) {
            /* VT_ARRAY | VT_VARIANT of one VT_ARRAY | VT_VARIANT of one ... 300 deep */
            enum { DEEP = 300 };
            static uint32_t w[DEEP * 7 + 8];
            size_t n = 0;
            for (int d = 0; d < DEEP; d++) {
                w[n++] = VT_ARRAY | VT_VARIANT; w[n++] = MV; w[n++] = VT_VARIANT; w[n++] = 1; w[n++] = 24;
                w[n++] = 1; w[n++] = 0;
            }
            w[n++] = VT_EMPTY; w[n++] = MV; w[n++] = VT_EMPTY;
            raw_request(&b, 0, w, n);
        } else {
            raw_request(&b, cases[i].m == echo ? 0 : 1, cases[i].w, cases[i].n);
        }
        AmrtFailAllocationAfter(-1);
        HRESULT hr = amrt__wire_decode_request(&f, cases[i].m, &b, &peer);
        int allocs = AmrtFailAllocationAfter(-1);
        HRESULT want = i == 0 ? S_OK : BAD;
        if (hr != want) {
            fprintf(stderr, "%s: 0x%08x\n", cases[i].what, (unsigned)hr);
            exit(1);
        }
        if (strstr(cases[i].what, "elements") && allocs > 4) {
            fprintf(stderr, "%s: %d allocations for a refused count\n", cases[i].what, allocs);
            exit(1);
        }
        amrt__wire_frame_clear(&f);
    }
    amrt__wire_frame_fini(&f);
    amrt__wire_buf_fini(&b);
    done();
}

/* values the sender cannot describe: E_INVALIDARG, nothing sent */
TEST(variants_that_cannot_be_sent)
{
    IUnknown *vo = obj_new(&vvtbl, &IID_IVariants);
    VARIANT v, r, io;
    VariantInit(&v);
    VariantInit(&r);
    VariantInit(&io);
    VARIANT *pr = &r, *pio = &io;
    void *args[] = { &v, &pr, &pio };
    v.vt = VT_RECORD;
    ASSERT_HR(E_INVALIDARG, roundtrip(&IVariants_amrt_glue, 0, vo, args, NULL));
    v.vt = VT_BYREF | VT_VARIANT;
    ASSERT_HR(E_INVALIDARG, roundtrip(&IVariants_amrt_glue, 0, vo, args, NULL));
    v.vt = VT_ARRAY | VT_I4;
    v.parray = SafeArrayCreateVector(VT_R4, 0, 2);     /* not the vt's array */
    ASSERT_HR(E_INVALIDARG, roundtrip(&IVariants_amrt_glue, 0, vo, args, NULL));
    v.vt = VT_ARRAY | VT_R4;
    ASSERT_HR(S_OK, roundtrip(&IVariants_amrt_glue, 0, vo, args, NULL));
    VariantClear(&r);
    VariantClear(&v);
    ASSERT_EQ(r.vt, VT_EMPTY);
    IUnknown_Release(vo);
    done();
}

/* ==================================================================== hostile data */

/* a request of Arrays(n, in, out, io) for editing */
static void arrays_request(amrt__wire_buf *b, amrt__wire_frame *cf, ULONG n, LONG *data)
{
    const AmrtMethod *m = amrt__wire_method(&IKinds_amrt_glue, 4);
    const LONG *pin = data; LONG *pout = data, *pio = data;
    void *args[] = { &n, &pin, &pout, &pio };
    amrt__wire_header h = req_header(&IKinds_amrt_glue, 4);
    ASSERT_HR(S_OK, amrt__wire_encode_request(b, &h, m, args, &peer, cf));
}

/* a callee whose [out] counts outgrow its array: its reply cannot be
 * encoded (E_INVALIDARG, nothing built); the server sends a fault instead */
static HRESULT STDMETHODCALLTYPE k_varying_bad(IKinds *This, ULONG max, BYTE *buf, ULONG *len)
{
    (void)This; (void)buf;
    *len = max + 1;
    return S_OK;
}

TEST(callee_data_that_cannot_be_encoded)
{
    IKindsVtbl bad = kvtbl;
    bad.Varying = k_varying_bad;
    IUnknown *k = obj_new(&bad, &IID_IKinds);
    const AmrtMethod *m = amrt__wire_method(&IKinds_amrt_glue, 5);
    ULONG max = 4, len = 99; BYTE buf[4] = { 7, 7, 7, 7 }; BYTE *pb = buf; ULONG *pl = &len;
    void *args[] = { &max, &pb, &pl };
    amrt__wire_buf b, rep;
    amrt__wire_frame cf, sf;
    amrt__wire_buf_init(&b);
    amrt__wire_buf_init(&rep);
    amrt__wire_frame_init(&cf);
    amrt__wire_frame_init(&sf);
    amrt__wire_header h = req_header(&IKinds_amrt_glue, 5), rh = { 0 };
    ASSERT_HR(S_OK, amrt__wire_encode_request(&b, &h, m, args, &peer, &cf));
    ASSERT_HR(S_OK, amrt__wire_decode_request(&sf, m, &b, &peer));
    m->call(k, sf.args, sf.ret);
    ASSERT_HR(E_INVALIDARG, amrt__wire_encode_reply(&rep, &rh, &sf, &peer));
    ASSERT_EQ(rep.len, 0);
    amrt__wire_frame_clear(&sf);
    ASSERT_HR(S_OK, amrt__wire_encode_fault(&rep, &rh, E_INVALIDARG));
    HRESULT ret = 1;
    ASSERT_HR(E_INVALIDARG, amrt__wire_decode_reply(&cf, &rep, &peer, args, &ret));
    ASSERT(len == 99 && buf[0] == 7 && ret == 1);  /* outputs untouched */
    amrt__wire_frame_fini(&cf);
    amrt__wire_frame_fini(&sf);
    amrt__wire_buf_fini(&b);
    amrt__wire_buf_fini(&rep);
    IUnknown_Release(k);
    done();
}

TEST(J13_count_larger_than_the_data)
{
    const AmrtMethod *m = amrt__wire_method(&IKinds_amrt_glue, 4);
    amrt__wire_buf b;
    amrt__wire_frame cf, sf;
    amrt__wire_buf_init(&b);
    amrt__wire_frame_init(&cf);
    amrt__wire_frame_init(&sf);
    LONG data[4] = { 1, 2, 3, 4 };
    arrays_request(&b, &cf, 4, data);
    ASSERT_HR(S_OK, amrt__wire_decode_request(&sf, m, &b, &peer));
    amrt__wire_frame_clear(&sf);
    /* n (the first 4 bytes of the body) says a million: the counts no longer match */
    ULONG big = 1000000;
    memcpy(b.data + AMRT__WIRE_HEADER, &big, 4);
    ASSERT_HR(BAD, amrt__wire_decode_request(&sf, m, &b, &peer));
    /* n and the array's own counts both say 0x40000000: the elements are not there */
    arrays_request(&b, &cf, 4, data);
    big = 0x40000000;
    memcpy(b.data + AMRT__WIRE_HEADER, &big, 4);
    for (size_t at = AMRT__WIRE_HEADER + 4; at + 4 <= b.len; at += 4) {
        uint32_t v;
        memcpy(&v, b.data + at, 4);
        if (v == 4) memcpy(b.data + at, &big, 4);
    }
    ASSERT_HR(BAD, amrt__wire_decode_request(&sf, m, &b, &peer));
    amrt__wire_frame_fini(&cf);
    amrt__wire_frame_fini(&sf);
    amrt__wire_buf_fini(&b);
    done();
}

TEST(J13_oversized_messages_refused_limit_configurable)
{
    const AmrtMethod *m = amrt__wire_method(&IKinds_amrt_glue, 4);
    amrt__wire_buf b;
    amrt__wire_frame cf, sf;
    amrt__wire_buf_init(&b);
    amrt__wire_frame_init(&cf);
    amrt__wire_frame_init(&sf);
    enum { N = 4096 };
    LONG *data = calloc(N, sizeof(LONG));
    arrays_request(&b, &cf, N, data);           /* 16 KiB of each array: fine at the default */
    ASSERT(b.len > 2 * N * sizeof(LONG));      /* [in] and [in, out] */
    amrt__wire_set_max_message(8192);
    ASSERT_EQ(amrt__wire_max_message(), 8192);
    /* the encoder will not build it, */
    ULONG n = N;
    const LONG *pin = data; LONG *pout = data, *pio = data;
    void *args[] = { &n, &pin, &pout, &pio };
    amrt__wire_buf b2;
    amrt__wire_buf_init(&b2);
    amrt__wire_header h = req_header(&IKinds_amrt_glue, 4);
    ASSERT_HR(E_OUTOFMEMORY, amrt__wire_encode_request(&b2, &h, m, args, &peer, &cf));
    ASSERT_EQ(b2.len, 0);
    /* the decoder will not take it (its header's length is over the limit) */
    ASSERT_HR(BAD, amrt__wire_decode_request(&sf, m, &b, &peer));
    amrt__wire_header got;
    ASSERT_HR(BAD, amrt__wire_header_get(b.data, &got));
    /* and a receiver's buffer will not grow past it */
    amrt__wire_buf_reset(&b2);
    ASSERT(amrt__wire_buf_append(&b2, 8193) == NULL);
    ASSERT(amrt__wire_buf_append(&b2, 8192) != NULL);
    /* $AMRT_MAX_MESSAGE configures it; nonsense is ignored */
    setenv("AMRT_MAX_MESSAGE", "65536", 1);
    amrt__wire_set_max_message(0);
    ASSERT_EQ(amrt__wire_max_message(), 65536);
    setenv("AMRT_MAX_MESSAGE", "12", 1);
    amrt__wire_set_max_message(0);
    ASSERT_EQ(amrt__wire_max_message(), AMRT__WIRE_DEFAULT_MAX);
    setenv("AMRT_MAX_MESSAGE", "lots", 1);
    amrt__wire_set_max_message(0);
    ASSERT_EQ(amrt__wire_max_message(), AMRT__WIRE_DEFAULT_MAX);
    free(data);
    amrt__wire_frame_fini(&cf);
    amrt__wire_frame_fini(&sf);
    amrt__wire_buf_fini(&b);
    amrt__wire_buf_fini(&b2);
    done();
}

TEST(J13_J15_headers_checked_other_version_refused)
{
    const AmrtMethod *m = amrt__wire_method(&IKinds_amrt_glue, 4);
    amrt__wire_buf b;
    amrt__wire_frame cf, sf;
    amrt__wire_buf_init(&b);
    amrt__wire_frame_init(&cf);
    amrt__wire_frame_init(&sf);
    LONG data[2] = { 1, 2 };
    amrt__wire_header got;
    struct { size_t at; unsigned char v; HRESULT want; } edits[] = {
        { 0, 'X', BAD },                     /* magic */
        { 4, 2, RPC_E_VERSION_MISMATCH },    /* another version (J15) */
        { 6, 0, BAD },                       /* type 0 */
        { 6, 16, BAD },                      /* type beyond this version's */
        { 63, 1, BAD },                      /* reserved */
        { 12, 65, BAD },                     /* too many descriptors */
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        arrays_request(&b, &cf, 2, data);
        b.data[edits[i].at] = edits[i].v;
        ASSERT_HR(edits[i].want, amrt__wire_header_get(b.data, &got));
        ASSERT_HR(BAD, amrt__wire_decode_request(&sf, m, &b, &peer));
    }
    arrays_request(&b, &cf, 2, data);
    b.data[6] = AMRT__WIRE_REPLY;           /* a reply where a request is due */
    ASSERT_HR(BAD, amrt__wire_decode_request(&sf, m, &b, &peer));
    arrays_request(&b, &cf, 2, data);
    b.data[7] = 0x80;                       /* an unknown flag */
    ASSERT_HR(BAD, amrt__wire_decode_request(&sf, m, &b, &peer));
    arrays_request(&b, &cf, 2, data);       /* a byte no parameter describes */
    unsigned char *extra = amrt__wire_buf_append(&b, 8);
    memset(extra, 0, 8);
    uint32_t body = (uint32_t)(b.len - AMRT__WIRE_HEADER);
    memcpy(b.data + 8, &body, 4);
    ASSERT_HR(BAD, amrt__wire_decode_request(&sf, m, &b, &peer));
    arrays_request(&b, &cf, 2, data);       /* a descriptor no HANDLE names */
    ASSERT_HR(S_OK, amrt__wire_buf_push_fd(&b, open("/dev/null", O_RDONLY)));
    uint32_t one = 1;
    memcpy(b.data + 12, &one, 4);
    ASSERT_HR(BAD, amrt__wire_decode_request(&sf, m, &b, &peer));
    int fds = fd_count();
    amrt__wire_buf_reset(&b);               /* closes it */
    ASSERT_EQ(fd_count(), fds - 1);
    amrt__wire_frame_fini(&cf);
    amrt__wire_frame_fini(&sf);
    amrt__wire_buf_fini(&b);
    done();
}

TEST(J13_unknown_object_reference)
{
    IUnknown *k = obj_new(&kvtbl, &IID_IKinds), *in = obj_new(&plain_vtbl, &IID_IUnknown);
    const AmrtMethod *m = amrt__wire_method(&IKinds_amrt_glue, 7);
    IUnknown *out = NULL, *io = NULL, **po = &out, **pio = &io;
    void *args[] = { &in, &po, &pio };
    amrt__wire_buf b;
    amrt__wire_frame cf, sf;
    amrt__wire_buf_init(&b);
    amrt__wire_frame_init(&cf);
    amrt__wire_frame_init(&sf);
    amrt__wire_header h = req_header(&IKinds_amrt_glue, 7);
    ASSERT_HR(S_OK, amrt__wire_encode_request(&b, &h, m, args, &peer, &cf));
    ASSERT_EQ(b.nrefs, 1);
    amrt__wire_objref r;
    memcpy(&r, b.data + b.refs[0], sizeof r);
    ASSERT(r.oid == 1 && IsEqualIID(&r.iid, &IID_IUnknown));
    r.oid = 999;
    memcpy(b.data + b.refs[0], &r, sizeof r);
    ASSERT_HR(BAD, amrt__wire_decode_request(&sf, m, &b, &peer));
    r.oid = 1;
    r.iid = IID_IKinds;                     /* not the interface the method passes */
    memcpy(b.data + b.refs[0], &r, sizeof r);
    ASSERT_HR(BAD, amrt__wire_decode_request(&sf, m, &b, &peer));
    /* a message not sent: its references revoked */
    revoked = 0;
    amrt__wire_revoke(&b, &peer);
    ASSERT_EQ(revoked, 1);
    amrt__wire_frame_fini(&cf);
    amrt__wire_frame_fini(&sf);
    amrt__wire_buf_fini(&b);
    IUnknown_Release(in);
    IUnknown_Release(k);
    done();
}

/* ==================================================================== flat methods (#12) */

static HRESULT STDMETHODCALLTYPE f_add(IFlat *This, LONG a, LONG b, LONG *sum) { (void)This; *sum = a + b; return S_OK; }
static HRESULT STDMETHODCALLTYPE f_mix(IFlat *This, BYTE b, FLATPT p, hyper *io, SHORT *s, double d, FLATPT *q)
{
    (void)This;
    *io = *io * 2 + b;
    *s = (SHORT)(p.x + p.y + p.z);
    q->x += (LONG)d;
    q->y = (SHORT)-q->y;
    q->z ^= 0x5a;
    return b == 7 ? E_ACCESSDENIED : S_OK;      /* a failure the method returns: a reply all the same */
}
static IFlatVtbl fvtbl = { (void *)obj_qi, (void *)obj_addref, (void *)obj_release, f_add, f_mix };

/* Mix's arguments; 'null' makes one pointer NULL (1: &io's slot NULL, 2: io
 * NULL, 3: s NULL, 4: &s's slot NULL (not wanted), 5: q NULL) */
typedef struct MixVals {
    BYTE b; FLATPT p; hyper io; SHORT s; double d; FLATPT q;
    hyper *pio; SHORT *ps; FLATPT *pq;
    void *args[6];
} MixVals;

static void mix_init(MixVals *v, int null, BYTE b)
{
    memset(v, 0, sizeof *v);
    v->b = b; v->p.x = 100000; v->p.y = -7; v->p.z = 9; v->io = -40000000000ll; v->s = 55; v->d = 3.75;
    v->q.x = 1; v->q.y = 2; v->q.z = 3;
    v->pio = null == 2 ? NULL : &v->io;
    v->ps = null == 3 ? NULL : &v->s;
    v->pq = null == 5 ? NULL : &v->q;
    void *a[6] = { &v->b, &v->p, null == 1 ? NULL : (void *)&v->pio, null == 4 ? NULL : (void *)&v->ps, &v->d, &v->pq };
    memcpy(v->args, a, sizeof a);
}

/* the header's length and descriptor count made the buffer's again */
static void put_length(amrt__wire_buf *t)
{
    uint32_t body = (uint32_t)(t->len - AMRT__WIRE_HEADER);
    memcpy(t->data + 8, &body, 4);
    memcpy(t->data + 12, &t->nfds, 4);
}

enum { MANGLE_NONE, MANGLE_CUT, MANGLE_FLIP, MANGLE_LONGER, MANGLE_FAULT, MANGLE_DISCARD, MANGLE_FD };

/* The server's side of a flat method both ways: the request req (and
 * every cut of it, every byte of it flipped, 8 bytes more) decoded by the
 * fast path and by the general one: the same HRESULT, the same values. */
static void flat_server_both(const AmrtMethod *m, const amrt__wire_buf *req)
{
    amrt__wire_buf t1, t2;
    amrt__wire_frame f1, f2;
    amrt__wire_buf_init(&t1); amrt__wire_buf_init(&t2);
    amrt__wire_frame_init(&f1); amrt__wire_frame_init(&f2);
    for (size_t k = AMRT__WIRE_HEADER; k <= 2 * req->len; k++) {
        size_t cut = k < req->len ? k : req->len, at = k - req->len;
        cut_copy(&t1, req, cut);
        cut_copy(&t2, req, cut);
        if (k > req->len && at < req->len) {
            t1.data[at] ^= 0x81;
            t2.data[at] ^= 0x81;
        } else if (k > req->len) {
            memset(amrt__wire_buf_append(&t1, 8), 0, 8);
            memset(amrt__wire_buf_append(&t2, 8), 0, 8);
            put_length(&t1);
            put_length(&t2);
        }
        HRESULT hr1 = amrt__wire_decode_request(&f1, m, &t1, &peer);
        amrt__wire_set_flat(false);
        HRESULT hr2 = amrt__wire_decode_request(&f2, m, &t2, &peer);
        amrt__wire_set_flat(true);
        ASSERT_HR(hr2, hr1);
        ASSERT_EQ(f1.state != 0, f2.state != 0);    /* both hold values, or neither (the fast path's state says flat) */
        if (SUCCEEDED(hr1))
            for (int i = 0; i < m->nparams; i++) {
                const AmrtType *t = m->params[i].type;
                if (t->kind == AMRT_K_POINTER)
                    ASSERT(memcmp(*(void **)f1.args[i], *(void **)f2.args[i], t->ref->size) == 0);
                else
                    ASSERT(memcmp(f1.args[i], f2.args[i], t->size) == 0);
            }
        if (k == req->len)
            ASSERT_HR(S_OK, hr1);           /* the request itself */
        else if (k < req->len || at >= req->len)
            ASSERT_HR(BAD, hr1);            /* cut, or longer */
        amrt__wire_frame_clear(&f1);
        amrt__wire_frame_clear(&f2);
    }
    amrt__wire_frame_fini(&f1); amrt__wire_frame_fini(&f2);
    amrt__wire_buf_fini(&t1); amrt__wire_buf_fini(&t2);
}

/* One call both ways: the request encoded by the fast path (args1) and by
 * the general one (args2): the same HRESULT and the same bytes; the
 * server's reply (mangled as 'how' says, at byte 'at') decoded both ways:
 * the same HRESULT and return value (the callers compare the [out] values
 * delivered). */
static HRESULT flat_both(const AmrtInterface *glue, int index, void *obj, void **args1, void **args2, int how, size_t at)
{
    const AmrtMethod *m = amrt__wire_method(glue, (uint32_t)index);
    ASSERT(m != NULL);
    amrt__wire_buf req1, req2, rep, t1, t2;
    amrt__wire_frame f1, f2, sf;
    amrt__wire_buf_init(&req1); amrt__wire_buf_init(&req2); amrt__wire_buf_init(&rep);
    amrt__wire_buf_init(&t1); amrt__wire_buf_init(&t2);
    amrt__wire_frame_init(&f1); amrt__wire_frame_init(&f2); amrt__wire_frame_init(&sf);
    amrt__wire_header h1 = req_header(glue, index), h2 = h1;
    HRESULT hr1 = amrt__wire_encode_request(&req1, &h1, m, args1, &peer, &f1);
    amrt__wire_set_flat(false);
    HRESULT hr2 = amrt__wire_encode_request(&req2, &h2, m, args2, &peer, &f2);
    amrt__wire_set_flat(true);
    ASSERT_HR(hr2, hr1);
    ASSERT(FAILED(hr1) || f1.plan != NULL);    /* the fast path taken */
    ASSERT(f2.plan == NULL);
    ASSERT_EQ(req1.len, req2.len);
    ASSERT(req1.len == 0 || memcmp(req1.data, req2.data, req1.len) == 0);
    HRESULT hr = hr1;
    if (SUCCEEDED(hr) && how == MANGLE_NONE)
        flat_server_both(m, &req2);
    if (SUCCEEDED(hr)) {
        ASSERT_HR(S_OK, amrt__wire_decode_request(&sf, m, &req2, &peer));
        m->call(obj, sf.args, sf.ret);
        amrt__wire_header rh;
        memset(&rh, 0, sizeof rh);
        rh.call_id = h1.call_id;
        ASSERT_HR(S_OK, amrt__wire_encode_reply(&rep, &rh, &sf, &peer));
        amrt__wire_header rh2 = rh;
        amrt__wire_buf rep2;
        amrt__wire_buf_init(&rep2);
        amrt__wire_set_flat(false);
        ASSERT_HR(S_OK, amrt__wire_encode_reply(&rep2, &rh2, &sf, &peer));
        amrt__wire_set_flat(true);
        ASSERT_EQ(rep.len, rep2.len);
        ASSERT(memcmp(rep.data, rep2.data, rep.len) == 0);
        amrt__wire_buf_fini(&rep2);
        amrt__wire_frame_clear(&sf);
        if (how == MANGLE_FAULT)
            ASSERT_HR(S_OK, amrt__wire_encode_fault(&rep, &rh, E_ACCESSDENIED));
        if ((how == MANGLE_CUT || how == MANGLE_FLIP) && at >= rep.len) {
            hr = S_FALSE;               /* beyond the reply: the caller's loop is done */
            goto out;
        }
        size_t n = how == MANGLE_CUT ? at : rep.len;
        cut_copy(&t1, &rep, n);
        cut_copy(&t2, &rep, n);
        if (how == MANGLE_FLIP) {
            t1.data[at] ^= 0x81;
            t2.data[at] ^= 0x81;
        } else if (how == MANGLE_LONGER) {
            for (int k = 0; k < 2; k++) {
                amrt__wire_buf *t = k ? &t2 : &t1;
                memset(amrt__wire_buf_append(t, 8), 0, 8);
                if (at)
                    put_length(t);
            }
        } else if (how == MANGLE_FD) {
            ASSERT_HR(S_OK, amrt__wire_buf_push_fd(&t1, open("/dev/null", O_RDONLY | O_CLOEXEC)));
            ASSERT_HR(S_OK, amrt__wire_buf_push_fd(&t2, open("/dev/null", O_RDONLY | O_CLOEXEC)));
            put_length(&t1);
            put_length(&t2);
        }
        unsigned char r1[16], r2[16];
        memset(r1, 0xcc, sizeof r1);
        memset(r2, 0xcc, sizeof r2);
        if (how == MANGLE_DISCARD) {
            amrt__wire_discard_reply(&f1, &t1, &peer);
            amrt__wire_discard_reply(&f2, &t2, &peer);
        } else {
            hr1 = amrt__wire_decode_reply(&f1, &t1, &peer, args1, r1);
            hr2 = amrt__wire_decode_reply(&f2, &t2, &peer, args2, r2);
            ASSERT_HR(hr2, hr1);
            hr = hr1;
        }
        ASSERT(memcmp(r1, r2, sizeof r1) == 0);
        if (SUCCEEDED(hr) && how == MANGLE_NONE)
            memcpy(&hr, r1, sizeof hr);     /* the method's own */
        ASSERT_EQ(f1.state, 0);
        ASSERT_EQ(f2.state, 0);
    }
out:
    amrt__wire_frame_fini(&f1); amrt__wire_frame_fini(&f2); amrt__wire_frame_fini(&sf);
    amrt__wire_buf_fini(&req1); amrt__wire_buf_fini(&req2); amrt__wire_buf_fini(&rep);
    amrt__wire_buf_fini(&t1); amrt__wire_buf_fini(&t2);
    return hr;
}

TEST(flat_fast_path_same_bytes_and_errors_as_the_general_one)
{
    IUnknown *o = obj_new(&fvtbl, &IID_IFlat);
    /* Add: the values, J14 */
    LONG a = 40, b = 2, s1 = 0, s2 = 0, *p1 = &s1, *p2 = &s2;
    void *x1[] = { &a, &b, &p1 }, *x2[] = { &a, &b, &p2 };
    ASSERT_HR(S_OK, flat_both(&IFlat_amrt_glue, 0, o, x1, x2, MANGLE_NONE, 0));
    ASSERT_EQ(s1, 42);
    ASSERT_EQ(s2, 42);
    p1 = p2 = NULL;
    ASSERT_HR(NULLREF, flat_both(&IFlat_amrt_glue, 0, o, x1, x2, MANGLE_NONE, 0));
    void *y1[] = { NULL, &b, &p1 }, *y2[] = { NULL, &b, &p2 };
    ASSERT_HR(NULLREF, flat_both(&IFlat_amrt_glue, 0, o, y1, y2, MANGLE_NONE, 0));   /* J14 first */
    p1 = &s1;
    p2 = &s2;
    ASSERT_HR(E_POINTER, flat_both(&IFlat_amrt_glue, 0, o, y1, y2, MANGLE_NONE, 0));
    void *z1[] = { &a, &b, NULL }, *z2[] = { &a, &b, NULL };     /* the [out] not wanted */
    ASSERT_HR(S_OK, flat_both(&IFlat_amrt_glue, 0, o, z1, z2, MANGLE_NONE, 0));

    /* Mix: [in, out] values, every NULL, the method's own failure */
    MixVals v1, v2;
    for (int null = 0; null <= 5; null++) {
        mix_init(&v1, null, 1);
        mix_init(&v2, null, 1);
        HRESULT hr = flat_both(&IFlat_amrt_glue, 1, o, v1.args, v2.args, MANGLE_NONE, 0);
        ASSERT_HR(null == 0 || null == 4 ? S_OK : null == 1 ? E_POINTER : NULLREF, hr);
        ASSERT(memcmp(&v1, &v2, offsetof(MixVals, pio)) == 0);
        if (null == 0) {
            ASSERT_EQ(v1.io, -80000000000ll + 1);
            ASSERT_EQ(v1.s, (SHORT)(100000 - 7 + 9));
            ASSERT_EQ(v1.q.x, 4);
            ASSERT_EQ(v1.q.y, -2);
            ASSERT_EQ(v1.q.z, 3 ^ 0x5a);
        }
    }
    mix_init(&v1, 0, 7);
    mix_init(&v2, 0, 7);
    ASSERT_HR(E_ACCESSDENIED, flat_both(&IFlat_amrt_glue, 1, o, v1.args, v2.args, MANGLE_NONE, 0));
    ASSERT(memcmp(&v1, &v2, offsetof(MixVals, pio)) == 0);
    ASSERT_EQ(v1.io, -80000000000ll + 7);

    /* replies that are malformed, faults, discarded: the same HRESULT, nothing delivered either way */
    int fds = fd_count();
    for (int how = MANGLE_CUT; how <= MANGLE_FD; how++) {
        size_t len = AMRT__WIRE_HEADER + 64;            /* more than Mix's reply has (40) */
        for (size_t at = how == MANGLE_CUT ? AMRT__WIRE_HEADER : 0; at < len; at++) {
            mix_init(&v1, 0, 1);
            mix_init(&v2, 0, 1);
            HRESULT hr = flat_both(&IFlat_amrt_glue, 1, o, v1.args, v2.args, how, at);
            if (hr == S_FALSE)
                break;
            ASSERT(memcmp(&v1, &v2, offsetof(MixVals, pio)) == 0);
            if (how == MANGLE_FAULT)
                ASSERT_HR(E_ACCESSDENIED, hr);
            else if (how == MANGLE_CUT || how == MANGLE_LONGER || how == MANGLE_FD)
                ASSERT_HR(BAD, hr);
            if (FAILED(hr))
                ASSERT_EQ(v1.io, -40000000000ll);       /* untouched */
            ASSERT(at + 1 < len);                       /* (the loops end within the reply) */
            if (how >= MANGLE_FAULT || (how == MANGLE_LONGER && at == 1))
                break;
        }
    }
    ASSERT_EQ(fd_count(), fds);

    /* Scalars of IKinds is flat too */
    IUnknown *k = obj_new(&kvtbl, &IID_IKinds);
    BYTE kb = 200; SHORT ks = -300; LONG kl = 70000; hyper kh = -5000000000ll; float kf = 0.5f; double kd = 0.25; BOOL kfl = 1;
    COLOR kc = BLUE; double t1 = 0, t2 = 0, *pt1 = &t1, *pt2 = &t2;
    void *k1[] = { &kb, &ks, &kl, &kh, &kf, &kd, &kfl, &kc, &pt1 }, *k2[] = { &kb, &ks, &kl, &kh, &kf, &kd, &kfl, &kc, &pt2 };
    ASSERT_HR(S_OK, flat_both(&IKinds_amrt_glue, 0, k, k1, k2, MANGLE_NONE, 0));
    ASSERT(t1 == t2 && t1 != 0);
    IUnknown_Release(k);
    IUnknown_Release(o);
    done();
}

TEST(J8_fault_replies_and_discarded_replies)
{
    IUnknown *k = obj_new(&kvtbl, &IID_IKinds), *in = obj_new(&plain_vtbl, &IID_IUnknown);
    const AmrtMethod *m = amrt__wire_method(&IKinds_amrt_glue, 7);
    IUnknown *out = NULL, *io = NULL, **po = &out, **pio = &io;
    void *args[] = { &in, &po, &pio };
    amrt__wire_buf b, rep;
    amrt__wire_frame cf, sf;
    amrt__wire_buf_init(&b);
    amrt__wire_buf_init(&rep);
    amrt__wire_frame_init(&cf);
    amrt__wire_frame_init(&sf);
    amrt__wire_header h = req_header(&IKinds_amrt_glue, 7), rh = { 0 };
    /* a fault: its status, nothing delivered */
    ASSERT_HR(S_OK, amrt__wire_encode_request(&b, &h, m, args, &peer, &cf));
    ASSERT_HR(S_OK, amrt__wire_encode_fault(&rep, &rh, E_ACCESSDENIED));
    HRESULT ret = 1;
    ASSERT_HR(E_ACCESSDENIED, amrt__wire_decode_reply(&cf, &rep, &peer, args, &ret));
    ASSERT(out == NULL && io == NULL && ret == 1);
    /* a reply nobody will Finish_ (J8): its references dropped at their owner */
    ASSERT_HR(S_OK, amrt__wire_encode_request(&b, &h, m, args, &peer, &cf));
    ASSERT_HR(S_OK, amrt__wire_decode_request(&sf, m, &b, &peer));
    m->call(k, sf.args, sf.ret);
    ASSERT_HR(S_OK, amrt__wire_encode_reply(&rep, &rh, &sf, &peer));
    amrt__wire_frame_clear(&sf);
    drops = 0;
    amrt__wire_discard_reply(&cf, &rep, &peer);
    ASSERT_EQ(drops, 2);
    ASSERT(out == NULL && io == NULL);
    /* a decoded reply can't be decoded twice: the frame is spent */
    ASSERT_HR(E_UNEXPECTED, amrt__wire_decode_reply(&cf, &rep, &peer, args, &ret));
    amrt__wire_frame_fini(&cf);
    amrt__wire_frame_fini(&sf);
    amrt__wire_buf_fini(&b);
    amrt__wire_buf_fini(&rep);
    IUnknown_Release(in);
    IUnknown_Release(k);
    done();
}

TEST(corruptions_were_tried)
{
    /* the round trips above fed one-byte corruptions to the decoder; some
     * of them (a changed scalar) must decode: the checks are not blanket refusals */
    IUnknown *k = obj_new(&kvtbl, &IID_IKinds);
    ULONG n = 2; LONG in[2] = { 1, 2 }, out[2], io[2] = { 0, 0 };
    const LONG *pin = in; LONG *pout = out, *pio = io;
    corrupt_accepted = 0;
    CALL(IKinds_amrt_glue, 4, k, &n, &pin, &pout, &pio);
    ASSERT(corrupt_accepted > 0);
    IUnknown_Release(k);
    done();
}

RUN_TESTS(ENTRY(scalars_and_enums), ENTRY(structs_flat_by_value_and_by_pointer), ENTRY(strings_char_and_wchar),
          ENTRY(guids), ENTRY(conformant_arrays_size_is), ENTRY(varying_array_length_is),
          ENTRY(unique_pointer_null_and_not), ENTRY(J9_interface_pointers_as_object_references), ENTRY(J9_iid_is),
          ENTRY(struct_with_string_bstr_sized_member_interface_and_list),
          ENTRY(struct_by_value_with_fixed_array_of_pointers), ENTRY(union_switch_is_every_arm),
          ENTRY(array_of_structs_with_unions), ENTRY(encapsulated_union), ENTRY(bstrs_null_empty_and_binary),
          ENTRY(size_expressions_arithmetic_max_is_sizeof), ENTRY(first_is_last_is_window),
          ENTRY(out_array_sized_by_out_value), ENTRY(arrays_of_strings), ENTRY(conformant_structures),
          ENTRY(medium_anonymous_union), ENTRY(in_out_replaced_by_callee), ENTRY(ptr_aliasing_preserved_within_a_call),
          ENTRY(J16_handles_cross_as_descriptors), ENTRY(J16_handles_in_arrays_and_structures), ENTRY(J13_J16_handles_hostile_indices), ENTRY(varying_arrays_inside_structures), ENTRY(J13_allocation_budget_per_message),
          ENTRY(long_list_many_pointer_ids), ENTRY(J13_nesting_depth_limited),
          ENTRY(callee_data_that_cannot_be_encoded), ENTRY(J13_count_larger_than_the_data), ENTRY(J13_oversized_messages_refused_limit_configurable), ENTRY(J13_J15_headers_checked_other_version_refused),
          ENTRY(J13_unknown_object_reference), ENTRY(J8_fault_replies_and_discarded_replies), ENTRY(J14_null_ref_pointers_nothing_sent),
          ENTRY(flat_fast_path_same_bytes_and_errors_as_the_general_one),
          ENTRY(variants_every_vt_both_ways), ENTRY(safearrays_of_variants_and_bstrs_and_variant_members),
          ENTRY(J13_variant_and_safearray_hostile), ENTRY(variants_that_cannot_be_sent), ENTRY(corruptions_were_tried))
