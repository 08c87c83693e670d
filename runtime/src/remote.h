/*
 * remote.h - what the files of libamidlrt's remoting share (conn.c,
 * remote.c, activate.c): messages, connections, the I/O thread. The
 * framing of the messages is described in docs/remoting.md; the bodies of
 * calls and replies are the wire format of wire.c (docs/wire.md).
 */
#ifndef AMRT_REMOTE_H
#define AMRT_REMOTE_H

#include "internal.h"
#include "transport.h"
#include "wire.h"

#include <stdint.h>

/* the connection layer's version, in HELLO (J15; the wire header has its own) */
#define AMRT_PROTO_VERSION 1u
#define AMRT_PROTO_MAGIC "AMIDLRPC"

/* Message types: wire.h's, and the connection layer's own within the
 * range it reserves (docs/remoting.md). */
enum {
    M_HELLO = AMRT__WIRE_HELLO,     /* body: magic, version, pid; the server's answer: status */
    M_CALL = AMRT__WIRE_REQUEST,    /* call_id, object_id, iid, method; the wire request */
    M_REPLY = AMRT__WIRE_REPLY,     /* call_id; status; the wire reply */
    M_CANCEL = AMRT__WIRE_CANCEL,   /* call_id: cancel that call (J7) */
    M_RELEASE = AMRT__WIRE_RELEASE, /* object_id; body: uint32 count (J9) */
    M_ACTIVATE = 8,                 /* call_id; iid; body: the CLSID -> M_ACTIVATED (status, object_id) */
    M_ACTIVATED = 9,
    M_QI = 10,                      /* call_id, object_id, iid -> M_QI_REPLY (status) */
    M_QI_REPLY = 11,
};

/* an object reference's flags (amrt__wire_objref.flags) */
enum { REF_YOURS = 1 };             /* the receiver's own object, back home */

/* a message: its header, decoded, and its bytes (header included) */
typedef struct AmrtMsg {
    amrt__wire_header h;
    amrt__wire_buf buf;
} AmrtMsg;

static inline unsigned char *amrt__msg_body(AmrtMsg *m)
{
    return m->buf.data + AMRT__WIRE_HEADER;
}

typedef struct AmrtPending AmrtPending;
typedef struct AmrtExport AmrtExport;
typedef struct AmrtInCall AmrtInCall;

typedef struct AmrtConn {
    int kind;                   /* first: what an epoll cookie points at (1: connection) */
    atomic_int refs;
    int fd;
    bool accepted;              /* the peer is a client of ours */
    AmrtPeer peer;
    atomic_bool dead;
    atomic_bool broken;         /* a send failed: the stream is lost, the I/O thread ends it */
    bool hello;                 /* accepted: the peer's HELLO was good */
    bool one_cpu;               /* a client's: the server and this process run on one and the
                                 * same CPU (their affinity masks): see "the hold" */
    pthread_mutex_t send_lock;
    pthread_mutex_t lock;       /* what follows */
    uint64_t next_id;
    AmrtPending *pending;       /* calls waiting for their replies, oldest first */
    AmrtPending **pending_tail; /* the last one's next (&pending when none) */
    AmrtExport *exports;        /* our objects the peer holds */
    AmrtExport *dying;          /* released by the peer while calls were active: a reference
                                 * to them in a message not yet decoded still resolves */
    int active;                 /* calls whose messages may still be decoded (J9) */
    AmrtInCall *incalls;        /* the peer's calls running here */
    amrt__wire_peer wpeer;      /* what the codec asks of this connection */
    /* who reads c (a client's; an accepted one is read by the event
     * threads only): R_ARMED, registered in the epoll set, the next event
     * thread whose event it is; R_EVENT, that thread; R_CALLER, a thread
     * waiting for its synchronous call's reply (conn.c: "a synchronous
     * call's reader"). The reader owns what follows. */
    atomic_int rstate;
    /* the receiver (c's reader only) */
    size_t got;                 /* bytes of the message being received */
    bool have_head;
    AmrtMsg in;
    AmrtInCall *next_record;    /* the record the next incoming call takes (taken with the last one's queuing) */
    int fdq[2 * AMRT__WIRE_MAX_FDS];    /* descriptors received, not yet given to their message */
    int nfdq;
    char key[128];              /* a client connection: the socket it reached */
    struct AmrtConn *next;      /* the list of client connections */
} AmrtConn;

/* a call waiting for its reply: a synchronous one (on the waiting
 * thread's stack, 'complete' NULL), or a call object's (remote.c's
 * AmrtAsyncCall): then the I/O thread runs complete, without c->lock,
 * with the reply (which it keeps) or why the connection went */
struct AmrtPending {
    uint64_t id;
    bool done;                  /* a call object's (c->lock) */
    /* a synchronous call's: P_WAIT, P_SLEEP (its thread sleeps on the
     * word, a futex), P_DONE (reply or fail set before, release) */
    atomic_uint state;
    HRESULT fail;               /* the connection went: why (the reply is empty) */
    AmrtMsg reply;
    void (*complete)(AmrtPending *p, AmrtMsg *reply, HRESULT fail);
    AmrtPending *next;
    /* a call object's calls (c->lock): the generation of the call p is
     * for, and the one a cancel asked for before p was registered */
    unsigned gen, cancel_gen;
};

struct AmrtExport {
    uint64_t oid;
    IUnknown *unk;              /* the identity (AddRef'd once per export) */
    long refs;                  /* references the peer holds */
    AmrtExport *next;
};

struct AmrtInCall {
    AmrtConn *conn;
    AmrtMsg msg;
    atomic_bool canceled;
    AmrtInCall *next;           /* the connection's incalls (its lock) */
    AmrtInCall **pprev;         /* what points at this one there */
    AmrtInCall *qnext;          /* conn.c's queue of calls waiting for a thread */
    amrt__wire_buf *out;        /* the running thread's buffer for the reply, or NULL */
    /* called (conn's lock held: it must not block or call out) when the
     * call is marked canceled, by M_CANCEL or the connection's end */
    void (*on_cancel)(void *arg);
    void *cancel_arg;
};

/* conn.c */
void amrt__msg_init(AmrtMsg *m);
void amrt__msg_free(AmrtMsg *m);
void amrt__conn_release(AmrtConn *c);
/* the connection to the server listening at path (a cached live one, or a new one after the handshake) */
HRESULT amrt__conn_get(const char *path, AmrtConn **out);
/* Send the request in b (its header's call_id is set here) and wait for
 * its reply. S_OK and the reply in *reply (amrt__msg_free it), or a
 * transport failure: RPC_E_DISCONNECTED (known dead before),
 * RPC_E_SERVER_DIED_DNE (it could not be sent), RPC_E_SERVER_DIED (the
 * peer went with the call in flight). With cancel_poll the wait watches
 * CoTestCancel of the calling thread and sends M_CANCEL once it says
 * canceled (J7). */
HRESULT amrt__conn_call(AmrtConn *c, amrt__wire_buf *b, AmrtMsg *reply, bool cancel_poll);
/* Send the request in b for p (p->complete set), call generation gen:
 * S_OK and p->complete runs once, on the I/O thread (possibly before this
 * returns), or RPC_E_DISCONNECTED / RPC_E_SERVER_DIED_DNE and it does not.
 * A cancel of gen that came before p was registered (amrt__conn_cancel_id
 * returned 0) sends M_CANCEL right after the request (J7). */
HRESULT amrt__conn_call_async(AmrtConn *c, amrt__wire_buf *b, AmrtPending *p, unsigned gen);
/* Cancel p's call of generation gen: its call id if it waits for its reply
 * on c (the caller sends M_CANCEL), else 0, and the request, when it is
 * sent, is followed by M_CANCEL (nothing when that call is over) */
uint64_t amrt__conn_cancel_id(AmrtConn *c, AmrtPending *p, unsigned gen);
/* send the whole message in b; 0 or -errno */
int amrt__conn_send(AmrtConn *c, amrt__wire_buf *b);
/* build and send a message of the connection layer (header h, body) */
int amrt__conn_send_small(AmrtConn *c, amrt__wire_header *h, const void *body, size_t len);
/* serve: listen on the process's socket (or LISTEN_FDS); its path */
HRESULT amrt__serve(char *path, size_t len);
void amrt__conn_shutdown(void);

/* remote.c: server side, run for a message on its own thread; true when
 * the call goes on without it (server-side async: amrt__incall_done ends it) */
bool amrt__dispatch(AmrtConn *c, AmrtInCall *ic);
/* conn.c: a call dispatch left running is done with (its reply sent) */
void amrt__incall_done(AmrtInCall *ic);
/* remote.c: ic is the incoming call of this thread (CoTestCancel, CoGetCallContext); the one before */
AmrtInCall *amrt__incall_enter(AmrtInCall *ic);
void amrt__release_exports(AmrtConn *c);
void amrt__release_export(AmrtConn *c, uint64_t oid, long n);
/* a call on c begins / is decoded and done (the peer's RELEASEs meanwhile are deferred) */
void amrt__active_begin(AmrtConn *c);
void amrt__active_end(AmrtConn *c);
/* amrt__active_end with c->lock held: what to free (amrt__exports_free) once it is let go */
AmrtExport *amrt__active_end_locked(AmrtConn *c);
void amrt__exports_free(AmrtExport *e);
uint64_t amrt__export(AmrtConn *c, IUnknown *obj);
HRESULT amrt__import(AmrtConn *c, uint64_t oid, const IID *iid, void **ppv);
void amrt__peer_init(AmrtConn *c);

HRESULT amrt__remote_create(AmrtConn *c, const CLSID *clsid, const IID *iid, void **ppv);

/* srvasync.c: a call through the object's own call object (its
 * ICallFactory, RULES.md E). amrt__srvcall_new: the call object for m of
 * g, or NULL when it has none (then the caller runs the synchronous
 * method). amrt__srvcall_run: Begin_ with args/ret as m->call takes them;
 * false when the call is complete on return (ret and the [out] data set,
 * s gone), true when it completes later: after the server's Signal,
 * Finish_ runs on a worker of the pool, then done(arg), and s is gone.
 * amrt__srvcall_drop: s not run. */
typedef struct SrvCall SrvCall;
SrvCall *amrt__srvcall_new(AmrtInCall *ic, IUnknown *obj, const AmrtInterface *g, const AmrtMethod *m);
bool amrt__srvcall_run(SrvCall *s, void **args, void *ret, void (*done)(void *), void *arg);
void amrt__srvcall_drop(SrvCall *s);

/* activate.c */
IUnknown *amrt__class_factory_for_peer(const CLSID *clsid);


void amrt__guid_text(const GUID *g, char out[37]);

#endif
