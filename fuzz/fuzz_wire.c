/*
 * fuzz_wire.c - libFuzzer harness for the wire decoder (runtime/src/wire.c,
 * docs/wire.md): arbitrary bytes decoded as a server decodes a request and
 * as a client decodes the reply to it, against the descriptions amidl
 * writes for the interfaces of tests/e2e/kinds.idl and
 * tests/wire/wiretest.idl. Any crash, leak (of memory, an object reference
 * or a descriptor), hang or sanitizer report is a bug.
 *
 * An input is one message, or two back to back (the first's header says
 * its length): a REQUEST, which picks its method by the header's IID and
 * method index as a server does, then optionally the REPLY to it. When
 * the request decodes, the harness also checks that the encoder takes
 * back what the decoder accepted (re-encoded, it decodes again, and
 * encoding that gives the same bytes: the encoding is a fixed point),
 * encodes a reply from the server's frame, and decodes the second message
 * as the reply to the re-encoded request, into the caller's pointers, or
 * only to discard it (J8) when the request's call_id is odd, or with no
 * pointer wanted when its bit 1 is set. Descriptors the header announces
 * are dups of /dev/null.
 *
 *   make fuzz-wire                     build build/fuzz/fuzz_wire (clang)
 *   make fuzz-wire-run                 fuzz for FUZZ_SECONDS from fuzz/wire-seeds
 *   build/fuzz/fuzz_wire FILE...       replay files once (the fuzz-replay suite)
 *   build/tests/wire-replay FILE...    the same without libFuzzer (gcc; the wire suite)
 *
 * The seeds in fuzz/wire-seeds are real messages: build/tests/test-wire
 * --seeds DIR writes every request and reply of its round trips.
 */
#include "wire.h"
#include "kinds.h"
#include "wiretest.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

extern const AmrtInterface IKinds_amrt_glue, IDeep_amrt_glue, IHandles_amrt_glue, ISpans_amrt_glue, IVariants_amrt_glue;

/* ---- the objects object references stand for ---- */

typedef struct Obj { const IUnknownVtbl *lpVtbl; long refs; uint64_t oid; } Obj;
static long live;                   /* objects not yet released */

static HRESULT STDMETHODCALLTYPE o_qi(IUnknown *This, REFIID iid, void **ppv)
{
    (void)iid;
    IUnknown_AddRef(This);
    *ppv = This;
    return S_OK;
}
static ULONG STDMETHODCALLTYPE o_addref(IUnknown *This) { return (ULONG)++((Obj *)This)->refs; }
static ULONG STDMETHODCALLTYPE o_release(IUnknown *This)
{
    Obj *o = (Obj *)This;
    long r = --o->refs;
    if (r == 0) {
        free(o);
        live--;
    }
    return (ULONG)r;
}
static const IUnknownVtbl obj_vtbl = { o_qi, o_addref, o_release };

static HRESULT p_marshal(void *ctx, IUnknown *obj, REFIID iid, amrt__wire_objref *ref)
{
    (void)ctx;
    (void)iid;
    ref->owner = 1;
    ref->oid = obj->lpVtbl == &obj_vtbl ? ((Obj *)obj)->oid : 1;
    return S_OK;
}
static void p_revoke(void *ctx, const amrt__wire_objref *ref) { (void)ctx; (void)ref; }
/* objects 1..64 exist; anything else is an unknown reference */
static HRESULT p_unmarshal(void *ctx, const amrt__wire_objref *ref, IUnknown **out)
{
    (void)ctx;
    if (ref->oid == 0 || ref->oid > 64)
        return HRESULT_FROM_WIN32(RPC_X_BAD_STUB_DATA);
    Obj *o = malloc(sizeof *o);
    if (!o)
        return E_OUTOFMEMORY;
    o->lpVtbl = &obj_vtbl;
    o->refs = 1;
    o->oid = ref->oid;
    live++;
    *out = (IUnknown *)o;
    return S_OK;
}
static long dropped;
static void p_drop(void *ctx, const amrt__wire_objref *ref) { (void)ctx; (void)ref; dropped++; }
static const amrt__wire_peer peer = { NULL, p_marshal, p_revoke, p_unmarshal, p_drop };

/* ---- the harness ---- */

static void die(const char *what, HRESULT hr)
{
    fprintf(stderr, "fuzz_wire: %s (0x%08x)\n", what, (unsigned)hr);
    abort();
}

/* the descriptors handed to buffers, to check that each is closed */
static int given[2 * (AMRT__WIRE_MAX_FDS + 1)];
static int ngiven;

static void load(amrt__wire_buf *b, const uint8_t *p, size_t n)
{
    amrt__wire_buf_init(b);
    void *d = amrt__wire_buf_append(b, n);
    if (!d)
        return;
    memcpy(d, p, n);
    uint32_t nfds = 0;
    if (n >= AMRT__WIRE_HEADER)
        memcpy(&nfds, p + 12, 4);
    if (nfds > AMRT__WIRE_MAX_FDS + 1)
        nfds = AMRT__WIRE_MAX_FDS + 1;
    for (uint32_t i = 0; i < nfds; i++) {
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            die("open /dev/null", E_FAIL);
        given[ngiven++] = fd;
        amrt__wire_buf_push_fd(b, fd);
    }
}

static const AmrtInterface *glue_of(const GUID *iid)
{
    if (IsEqualIID(iid, IKinds_amrt_glue.iid))
        return &IKinds_amrt_glue;
    if (IsEqualIID(iid, IDeep_amrt_glue.iid))
        return &IDeep_amrt_glue;
    if (IsEqualIID(iid, IHandles_amrt_glue.iid))
        return &IHandles_amrt_glue;
    if (IsEqualIID(iid, ISpans_amrt_glue.iid))
        return &ISpans_amrt_glue;
    if (IsEqualIID(iid, IVariants_amrt_glue.iid))
        return &IVariants_amrt_glue;
    return NULL;
}

/* The caller's pointers for a reply decoded into the frame's own [out]
 * storage: args[i] of the frame are where each value lives. */
static void run(const uint8_t *data, size_t size)
{
    if (size < AMRT__WIRE_HEADER)
        return;
    uint32_t body;
    memcpy(&body, data + 8, 4);
    size_t first = body <= size - AMRT__WIRE_HEADER ? AMRT__WIRE_HEADER + body : size;
    amrt__wire_header h;
    memcpy(&h.iid, data + 32, sizeof h.iid);
    memcpy(&h.method, data + 48, 4);
    memcpy(&h.call_id, data + 16, 8);
    const AmrtInterface *glue = glue_of(&h.iid);
    const AmrtMethod *m = glue ? amrt__wire_method(glue, h.method) : NULL;
    if (!m || m->nparams > 64)
        return;

    amrt__wire_buf req, again, rep, srep;
    amrt__wire_frame sf, sf2, cf;
    amrt__wire_frame_init(&sf);
    amrt__wire_frame_init(&sf2);
    amrt__wire_frame_init(&cf);
    amrt__wire_buf_init(&again);
    amrt__wire_buf_init(&srep);
    load(&req, data, first);
    load(&rep, data + first, size - first);

    HRESULT hr = amrt__wire_decode_request(&sf, m, &req, &peer);
    if (SUCCEEDED(hr)) {
        /* what the decoder accepted, the encoder can send again */
        amrt__wire_header h2 = { 0 };
        h2.call_id = h.call_id;
        h2.iid = h.iid;
        h2.method = h.method;
        hr = amrt__wire_encode_request(&again, &h2, m, sf.args, &peer, &cf);
        if (FAILED(hr) && hr != E_OUTOFMEMORY)
            die("a decoded request does not encode again", hr);
        if (SUCCEEDED(hr)) {
            /* (a copy: decoding takes the descriptors out of the message) */
            amrt__wire_buf copy;
            amrt__wire_buf_init(&copy);
            unsigned char *p = amrt__wire_buf_append(&copy, again.len);
            if (p) {
                memcpy(p, again.data, again.len);
                for (unsigned i = 0; i < again.nfds; i++)
                    amrt__wire_buf_push_fd(&copy, fcntl(again.fds[i], F_DUPFD_CLOEXEC, 0));
            }
            HRESULT hr2 = p ? amrt__wire_decode_request(&sf2, m, &copy, &peer) : E_OUTOFMEMORY;
            if (FAILED(hr2) && hr2 != E_OUTOFMEMORY)
                die("a re-encoded request does not decode", hr2);
            /* and the encoding is a fixed point: what it decodes to encodes to the same bytes */
            if (SUCCEEDED(hr2)) {
                amrt__wire_buf third;
                amrt__wire_frame cf3;
                amrt__wire_buf_init(&third);
                amrt__wire_frame_init(&cf3);
                amrt__wire_header h3 = h2;
                HRESULT hr3 = amrt__wire_encode_request(&third, &h3, m, sf2.args, &peer, &cf3);
                if (FAILED(hr3) && hr3 != E_OUTOFMEMORY)
                    die("a twice-decoded request does not encode", hr3);
                if (SUCCEEDED(hr3) && (third.len != again.len || third.nfds != again.nfds ||
                                       memcmp(third.data, again.data, again.len)))
                    die("encoding what a message decodes to gives other bytes", E_FAIL);
                amrt__wire_revoke(&third, &peer);
                amrt__wire_frame_fini(&cf3);
                amrt__wire_buf_fini(&third);
            }
            amrt__wire_frame_clear(&sf2);
            amrt__wire_buf_fini(&copy);
        }
        /* the server's reply with its [out] values as the decoder left them (zeroed) */
        amrt__wire_header rh = { 0 };
        if (SUCCEEDED(amrt__wire_encode_reply(&srep, &rh, &sf, &peer)))
            amrt__wire_revoke(&srep, &peer);
        if (SUCCEEDED(hr) && rep.len) {
            HRESULT ret;
            void *none[64] = { 0 };
            if (h.call_id & 1) {
                amrt__wire_discard_reply(&cf, &rep, &peer);
            } else if ((h.call_id & 2) || sf.aliased) {
                amrt__wire_decode_reply(&cf, &rep, &peer, none, &ret);     /* nothing wanted */
            } else {
                /* delivered into the server frame's [out] storage (its [in,out]
                 * values freed and replaced, as a caller's), freed with it */
                amrt__wire_decode_reply(&cf, &rep, &peer, m->nparams <= 64 ? sf.args : none, &ret);
                sf.aliased = true;
            }
        }
    }
    amrt__wire_frame_fini(&cf);
    amrt__wire_frame_fini(&sf);
    amrt__wire_frame_fini(&sf2);
    amrt__wire_buf_fini(&req);
    amrt__wire_buf_fini(&rep);
    amrt__wire_buf_fini(&again);
    amrt__wire_buf_fini(&srep);
}

/* The descriptors this process has open, each with the file it is, just
 * before and after each input: an input must neither leave one open nor
 * close (or replace) one it was not given, as a double close of a number
 * since reused would. (Per input: libFuzzer itself opens descriptors
 * between inputs, e.g. the pipes to llvm-symbolizer for NEW_FUNC lines.) */
enum { FD_WATCH = 256 };
typedef struct FdSet { int n; dev_t dev[FD_WATCH]; ino_t ino[FD_WATCH]; bool open[FD_WATCH]; } FdSet;

static void fd_snapshot(FdSet *s)
{
    memset(s, 0, sizeof *s);
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return;
    int self = dirfd(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        int fd = atoi(e->d_name);
        struct stat st;
        if (fd == self || fstat(fd, &st))
            continue;
        s->n++;
        if (fd < FD_WATCH) {
            s->open[fd] = true;
            s->dev[fd] = st.st_dev;
            s->ino[fd] = st.st_ino;
        }
    }
    closedir(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FdSet before, after;
    ngiven = 0;
    fd_snapshot(&before);
    run(data, size);
    if (live != 0)
        die("an object reference leaked", (HRESULT)live);
    for (int i = 0; i < ngiven; i++)
        if (fcntl(given[i], F_GETFD) != -1)
            die("a descriptor leaked", given[i]);
    fd_snapshot(&after);
    for (int fd = 0; fd < FD_WATCH; fd++)
        if (before.open[fd] && (!after.open[fd] || after.dev[fd] != before.dev[fd] || after.ino[fd] != before.ino[fd]))
            die("a descriptor the input did not own was closed or replaced", fd);
    if (after.n != before.n)      /* the codec's own duplicates too */
        die("a descriptor leaked", after.n - before.n);
    return 0;
}

#ifdef WIRE_REPLAY_MAIN
/* Without libFuzzer: every file named once. */
int main(int argc, char **argv)
{
    int n = 0;
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            fprintf(stderr, "%s: cannot open\n", argv[i]);
            return 1;
        }
        static uint8_t buf[1 << 20];
        size_t len = fread(buf, 1, sizeof buf, f);
        fclose(f);
        uint8_t *copy = malloc(len ? len : 1);      /* exactly len bytes: an overread is caught */
        memcpy(copy, buf, len);
        LLVMFuzzerTestOneInput(copy, len);
        free(copy);
        n++;
    }
    printf("%d inputs replayed\n", n);
    return 0;
}
#endif
