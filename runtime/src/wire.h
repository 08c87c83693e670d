/*
 * wire.h - the wire back end of the argument interpreter (wire.c): the
 * messages of docs/wire.md, encoded from and decoded into the values the
 * glue's AmrtType tables describe (the same tables, and interp.h's
 * expressions, array bounds, union arms and sizes, as the in-process deep
 * copy). The connection layer sends and receives the bytes; it lends the
 * codec a peer (amrt__wire_peer) for what only it knows: object
 * references for interface pointers.
 *
 * A client call:
 *     amrt__wire_encode_request(buf, &hdr, m, args, peer, frame)   at the call / Begin_
 *     ... send buf (its bytes and its descriptors), receive the reply into rbuf ...
 *     amrt__wire_decode_reply(frame, rbuf, peer, out_args, &ret)   at the return / Finish_
 *  or amrt__wire_discard_reply(frame, rbuf, peer)                  nobody will Finish_ (J8)
 *  or amrt__wire_frame_clear(frame)                                no reply will come
 * A server call:
 *     amrt__wire_decode_request(frame, m, rbuf, peer)
 *     m->call(object, frame->args, frame->ret)
 *     amrt__wire_encode_reply(buf, &hdr, frame, peer)     (or amrt__wire_encode_fault)
 *     amrt__wire_frame_clear(frame)                       frees the call's data, closes its descriptors
 *
 * Every function that fails leaves nothing behind: no memory, no
 * reference, no descriptor; an encoder's buffer is left empty. Decoders
 * fail with RPC_X_BAD_STUB_DATA for data that does not match the method's
 * description (J13), E_OUTOFMEMORY when memory runs out.
 */
#ifndef AMRT_WIRE_H
#define AMRT_WIRE_H

#include "internal.h"

#include <stdalign.h>
#include <stdint.h>

/* ---- the message header (docs/wire.md "Messages") ---- */

enum {
    AMRT__WIRE_MAGIC = 0x57524d41,      /* "AMRW" as little-endian bytes */
    AMRT__WIRE_VERSION = 1,
    AMRT__WIRE_HEADER = 64,             /* bytes; the body follows, 16-byte aligned */
    AMRT__WIRE_CALL_ID_AT = 16,         /* the header's call_id: its offset (little-endian 64 bits) */
    AMRT__WIRE_MAX_FDS = 64,            /* descriptors one message may carry */
    AMRT__WIRE_MAX_DEPTH = 256,         /* pointers followed within one value */
    AMRT__WIRE_DEFAULT_MAX = 16 << 20,  /* AMRT_MAX_MESSAGE's default: 16 MiB */
};

/* Message types. REQUEST and REPLY bodies are this file's; the others'
 * are the connection layer's (docs/remoting.md). */
enum {
    AMRT__WIRE_HELLO = 1,               /* on connect: versions, identities */
    AMRT__WIRE_REQUEST = 2,             /* a call: its [in] data */
    AMRT__WIRE_REPLY = 3,               /* its end: status, return value, [out] data */
    AMRT__WIRE_CANCEL = 4,              /* cancel call_id (J7) */
    AMRT__WIRE_RELEASE = 5,             /* object references let go (J9) */
    AMRT__WIRE_TYPE_MAX = 15,           /* types up to here are reserved for this version */
};

/* REQUEST flags */
enum {
    AMRT__WIRE_F_ONEWAY = 1,            /* no reply is wanted */
};

typedef struct amrt__wire_header {
    uint32_t magic;                     /* AMRT__WIRE_MAGIC */
    uint16_t version;                   /* AMRT__WIRE_VERSION */
    uint8_t type;                       /* AMRT__WIRE_* */
    uint8_t flags;
    uint32_t length;                    /* bytes of the body (after the header) */
    uint32_t nfds;                      /* descriptors passed with the message (SCM_RIGHTS) */
    uint64_t call_id;                   /* the caller's; a REPLY or CANCEL repeats it */
    uint64_t object_id;                 /* REQUEST: the object in the server's export table */
    GUID iid;                           /* REQUEST: the interface called (its synchronous IID) */
    uint32_t method;                    /* REQUEST: index in the interface's methods, base interfaces'
                                         * first (as AmrtBegin counts them; IUnknown's not counted) */
    int32_t status;                     /* REPLY: S_OK, or the HRESULT the call failed with (no body) */
    uint64_t reserved;                  /* 0 */
} amrt__wire_header;

/* The most bytes a message may have, header included: $AMRT_MAX_MESSAGE
 * (a number of bytes, read once; at least 4096), default 16 MiB. */
size_t amrt__wire_max_message(void);
/* tests: set the limit to n bytes (0: read AMRT_MAX_MESSAGE again) */
void amrt__wire_set_max_message(size_t n);

/* Write h to p (AMRT__WIRE_HEADER bytes), little-endian. */
void amrt__wire_header_put(void *p, const amrt__wire_header *h);

/* Read and check the header at p (AMRT__WIRE_HEADER bytes): magic,
 * version, type, length and descriptor count within the limits, reserved
 * bits 0. RPC_E_VERSION_MISMATCH for another version (h->version tells
 * which), RPC_X_BAD_STUB_DATA for anything else that is wrong. */
HRESULT amrt__wire_header_get(const void *p, amrt__wire_header *h);

/* ---- buffers ----
 * A message being built or received: its bytes (header first) and the
 * descriptors that travel with it. The buffer owns those descriptors:
 * amrt__wire_buf_reset and _fini close every one still in it (a decoder
 * takes out the ones it hands over). Memory is kept across resets, so a
 * buffer reused for calls allocates only when a message outgrows it. */
typedef struct amrt__wire_buf {
    unsigned char *data;                /* 16-byte aligned (malloc's) */
    size_t len, cap;
    int *fds;                           /* -1: taken by a decoder */
    unsigned nfds, fdcap;
    uint32_t *refs;                     /* offsets of the object references in data (encoding) */
    unsigned nrefs, refcap;
} amrt__wire_buf;

void amrt__wire_buf_init(amrt__wire_buf *b);
void amrt__wire_buf_reset(amrt__wire_buf *b);      /* empty, its descriptors closed */
void amrt__wire_buf_fini(amrt__wire_buf *b);
/* Room for n more bytes at the end: a pointer to them (len grows by n),
 * NULL when the message would exceed amrt__wire_max_message() or memory
 * runs out. For a receiver: reserve the header, then the body. */
void *amrt__wire_buf_append(amrt__wire_buf *b, size_t n);
/* Hand a received descriptor to the buffer (it closes fd on failure). */
HRESULT amrt__wire_buf_push_fd(amrt__wire_buf *b, int fd);
/* Start a message of the connection layer's own (HELLO, CANCEL, ...):
 * the buffer is reset and the header's room reserved; append the body,
 * then seal: the header h is written with length and nfds filled in. */
HRESULT amrt__wire_buf_start(amrt__wire_buf *b);
void amrt__wire_buf_seal(amrt__wire_buf *b, amrt__wire_header *h);

/* ---- object references (J9) ---- */
typedef struct amrt__wire_objref {
    uint64_t owner;                     /* who exports the object (a process's id) */
    uint64_t oid;                       /* the object in its owner's export table */
    GUID iid;                           /* the interface referred to */
    uint32_t flags;                     /* the connection layer's */
    uint32_t reserved;                  /* 0 */
} amrt__wire_objref;

/* What the connection layer does for the codec. ctx is its own. */
typedef struct amrt__wire_peer {
    void *ctx;
    /* A reference to obj (an interface pointer of iid) for a message: a
     * local object is exported (the export keeps it alive until the peer
     * releases the reference), a proxy names its owner's object. */
    HRESULT (*marshal)(void *ctx, IUnknown *obj, REFIID iid, amrt__wire_objref *ref);
    /* A reference marshal made for a message that will not be sent (the
     * encoding failed later on): undo what marshal did. */
    void (*revoke)(void *ctx, const amrt__wire_objref *ref);
    /* The interface pointer a received reference stands for, AddRef'd: a
     * proxy in this process, or the original pointer back in its owner.
     * A reference it does not know: RPC_X_BAD_STUB_DATA (any failure
     * fails the decoding). */
    HRESULT (*unmarshal)(void *ctx, const amrt__wire_objref *ref, IUnknown **out);
    /* A received reference nobody will use (a discarded reply): let it
     * go at its owner without making a proxy. NULL: unmarshal, Release. */
    void (*drop)(void *ctx, const amrt__wire_objref *ref);
} amrt__wire_peer;

/* The kind of a HANDLE (a file descriptor, J16): amidl emits
 * AMRT_K_HANDLE (13) for HANDLE parameters and members. A value
 * (HANDLE)(intptr_t)fd crosses as a duplicate of fd passed with the
 * message (SCM_RIGHTS); NULL and negative values cross as "no descriptor"
 * and arrive as NULL. (AMRT__K_HANDLE: its name before the glue had it.) */
#define AMRT__K_HANDLE AMRT_K_HANDLE
_Static_assert(AMRT_K_HANDLE == 13, "the HANDLE kind is 13");

/* ---- frames ----
 * A call's argument values on one side. The server's: what m->call takes
 * (args[i] -> the value of parameter i; the return value in ret). The
 * client's: the [in] values that size or select [out] data (kept from the
 * request to read its reply) and the reply's values until they are
 * delivered. A frame is reused from call to call: laid out again only when
 * the method changes; a call of flat arguments allocates nothing. */
enum { AMRT__WIRE_INLINE = 512 };

typedef struct amrt__wire_frame {
    const AmrtMethod *m;
    void **args;                        /* args[i] -> the value of parameter i */
    alignas(16) unsigned char ret[16];  /* the return value */
    /* the rest is wire.c's */
    unsigned char *vals;                /* argument values, then small pointees */
    size_t vals_size;
    uint64_t inline_ptr;                /* bit i: parameter i's pointee lives in vals */
    unsigned char state;                /* what the frame holds (wire.c) */
    bool aliased;                       /* some pointer is reachable twice: free with care */
    const void *plan;                   /* a flat method's request sent (wire.c's plan for m) */
    unsigned char *block;               /* allocated storage for args and vals */
    size_t cap;
    alignas(16) unsigned char storage[AMRT__WIRE_INLINE];
} amrt__wire_frame;

void amrt__wire_frame_init(amrt__wire_frame *f);
/* Free what the frame's values own (memory, references, descriptors). */
void amrt__wire_frame_clear(amrt__wire_frame *f);
void amrt__wire_frame_fini(amrt__wire_frame *f);

/* The method 'index' of glue, counting the methods of its base chain
 * first (the header's 'method'); NULL when there is none. */
const AmrtMethod *amrt__wire_method(const AmrtInterface *glue, uint32_t index);

/* ---- client ---- */

/* Encode the request for method m into b: the header h (the caller sets
 * call_id, object_id, iid, method, flags; the rest is filled in) and the
 * [in] and [in,out] data at args (args[i] -> the value of parameter i, as
 * AmrtBegin and a synchronous proxy get them; [out]-only ones are not
 * read, and may be NULL). The frame f keeps what the reply's decoding
 * needs. A NULL [ref] pointer: RPC_X_NULL_REF_POINTER, nothing encoded
 * (J14). Expressions that cannot be evaluated, bounds out of range, a
 * union without an arm for its discriminant: E_INVALIDARG (as the
 * in-process Begin_ says). A message beyond amrt__wire_max_message():
 * E_OUTOFMEMORY. */
HRESULT amrt__wire_encode_request(amrt__wire_buf *b, amrt__wire_header *h, const AmrtMethod *m, void *const *args,
                                  const amrt__wire_peer *peer, amrt__wire_frame *f);

/* Decode the reply in msg (header included) to the request encoded with
 * f, and hand its [out] and [in,out] data to the caller's pointers at
 * args (args[i] -> the caller's pointer argument i, as AmrtFinish and a
 * synchronous proxy get them; NULL: not wanted) exactly as the in-process
 * Finish_ does: CoTaskMemAlloc'd memory, AddRef'd interface pointers,
 * BSTRs, descriptors the caller owns; the caller's old [in,out] data
 * freed. The return value goes to ret (m->ret_size bytes). Returns S_OK,
 * or the status of a failed call (nothing delivered), or
 * RPC_X_BAD_STUB_DATA / E_OUTOFMEMORY (nothing delivered, nothing
 * leaked). The frame is cleared either way. */
HRESULT amrt__wire_decode_reply(amrt__wire_frame *f, amrt__wire_buf *msg, const amrt__wire_peer *peer,
                                void *const *args, void *ret);

/* A reply nobody will Finish_ (J8): decode it only to free it, every
 * object reference in it dropped at its owner. The frame is cleared. */
void amrt__wire_discard_reply(amrt__wire_frame *f, amrt__wire_buf *msg, const amrt__wire_peer *peer);

/* ---- server ---- */

/* Decode the request in msg (header included) for method m into f: its
 * [in] values, zeroed storage for its [out] ones, ready for m->call.
 * Descriptors it uses are taken out of msg. On failure f holds nothing. */
HRESULT amrt__wire_decode_request(amrt__wire_frame *f, const AmrtMethod *m, amrt__wire_buf *msg,
                                  const amrt__wire_peer *peer);

/* Encode the reply of the call in f (after m->call): the header h (the
 * caller sets call_id; the rest is filled in, status S_OK), the return
 * value and the [out] and [in,out] data. f still owns its values (clear
 * it afterwards). A failure (E_OUTOFMEMORY, E_INVALIDARG for data the
 * method returned that cannot be encoded) leaves b empty: send a fault. */
HRESULT amrt__wire_encode_reply(amrt__wire_buf *b, amrt__wire_header *h, amrt__wire_frame *f,
                                const amrt__wire_peer *peer);

/* A reply that says only that the call failed with status (FAILED). */
HRESULT amrt__wire_encode_fault(amrt__wire_buf *b, amrt__wire_header *h, HRESULT status);

/* tests: false makes every method take the general path (the flat
 * methods' fast path off, #12); true again by default */
void amrt__wire_set_flat(bool on);
/* m is a flat method (its messages go by its plan; they carry no object
 * references, no descriptors) */
bool amrt__wire_flat(const AmrtMethod *m);

/* Undo the object references of an encoded message that will not be sent. */
void amrt__wire_revoke(amrt__wire_buf *b, const amrt__wire_peer *peer);

#endif
