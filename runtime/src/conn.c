/*
 * conn.c - connections between processes and the event threads.
 *
 * A process has a pool of event threads, started with its first
 * connection or its first published class. They wait on one epoll set
 * holding the listening socket (a server), every connection, an eventfd
 * that wakes them all for shutdown. The thread an event goes
 * to reads the connection: it assembles messages, completes the call
 * waiting for a reply (its id names it; replies come in any order, J6; a
 * call object's call is completed here, with its reply decoded), queues
 * the incoming calls and runs them itself (leader/follower: see
 * "incoming calls"), so that the common call costs no hand-off between
 * threads, while a slow call still never delays another. Any thread
 * sends, one whole message at a time under the connection's send lock; a
 * thread running calls sends its replies several in one write (a cork).
 *
 * A connection that closes, or sends what is not a message, is dead: the
 * calls waiting on it fail with RPC_E_SERVER_DIED (J10), the peer's calls
 * running here see CoTestCancel say canceled, and the references the peer
 * held on our objects are released (J11). Later calls through it fail
 * at once with RPC_E_DISCONNECTED.
 *
 * The handshake (J12, J15): the client sends HELLO (magic, version, pid);
 * the server first checks the peer's credentials (SO_PEERCRED): another
 * user gets a WELCOME carrying E_ACCESSDENIED and the connection is
 * closed; a HELLO of another version gets RPC_E_VERSION_MISMATCH.
 */
#include "remote.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <fcntl.h>
#include <sched.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum { K_CONN = 1, K_LISTEN, K_WAKE };

static pthread_mutex_t io_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t io_cond = PTHREAD_COND_INITIALIZER;
static int epfd = -1, wakefd = -1;
static bool io_running, io_stopping;
static AmrtConn *conns;                 /* every live connection (io_lock) */
static int listen_fd = -1;
static char listen_path[108];
static bool listen_owned;               /* we made the socket file (not LISTEN_FDS) */
static int incalls_running;             /* io_lock */
static const int listen_tag = K_LISTEN, wake_tag = K_WAKE;
/* a connection's registration: one thread's at a time, re-armed after its read */
#define CONN_EVENTS (EPOLLIN | EPOLLRDHUP | EPOLLONESHOT)
enum { R_ARMED, R_EVENT, R_CALLER };    /* AmrtConn.rstate */

void amrt__msg_init(AmrtMsg *m)
{
    memset(&m->h, 0, sizeof m->h);
    amrt__wire_buf_init(&m->buf);
}

void amrt__msg_free(AmrtMsg *m)
{
    amrt__wire_buf_fini(&m->buf);
    amrt__wire_buf_init(&m->buf);
}

/* ==================================================================== connections */

static AmrtConn *conn_new(int fd, bool accepted)
{
    AmrtConn *c = amrt__calloc(sizeof *c);
    if (!c)
        return NULL;
    c->kind = K_CONN;
    atomic_init(&c->refs, 1);
    c->fd = fd;
    c->accepted = accepted;
    pthread_mutex_init(&c->send_lock, NULL);
    pthread_mutex_init(&c->lock, NULL);
    amrt__tp_peer(fd, &c->peer);
    amrt__msg_init(&c->in);
    amrt__peer_init(c);
    c->pending_tail = &c->pending;
    return c;
}

/* The calls waiting for their replies (c->lock): in the order they were
 * sent, which is the order a server mostly answers in, so that the reply's
 * call is found first (not after the other 63 in flight). */
static void pending_add(AmrtConn *c, AmrtPending *p)
{
    p->next = NULL;
    *c->pending_tail = p;
    c->pending_tail = &p->next;
}

/* *pp (in c's list) leaves it (c->lock) */
static void pending_unlink(AmrtConn *c, AmrtPending **pp)
{
    AmrtPending *p = *pp;
    *pp = p->next;
    if (c->pending_tail == &p->next)
        c->pending_tail = pp;
}

/* p leaves c's list, if it is there (c->lock): false when it is not */
static bool pending_remove(AmrtConn *c, AmrtPending *p)
{
    for (AmrtPending **pp = &c->pending; *pp; pp = &(*pp)->next)
        if (*pp == p) {
            pending_unlink(c, pp);
            return true;
        }
    return false;
}

void amrt__conn_release(AmrtConn *c)
{
    if (atomic_fetch_sub(&c->refs, 1) != 1)
        return;
    amrt__tp_close(c->fd);
    for (int i = 0; i < c->nfdq; i++)
        close(c->fdq[i]);
    amrt__msg_free(&c->in);
    if (c->next_record) {
        amrt__msg_free(&c->next_record->msg);
        amrt__free(c->next_record);
    }
    amrt__mutex_destroy(&c->send_lock);
    amrt__mutex_destroy(&c->lock);
    amrt__free(c);
}

/* one whole message now, under the connection's send lock */
static int conn_send_now(AmrtConn *c, const void *data, size_t len, const int *fds, int nfds)
{
    amrt__mutex_lock(&c->send_lock);
    int rc = amrt__tp_send(c->fd, data, len, NULL, 0, fds, nfds);
    if (rc != 0 && !atomic_exchange(&c->broken, true))
        shutdown(c->fd, SHUT_RDWR);     /* part of a message may have gone: nothing after it can be read */
    amrt__mutex_unlock(&c->send_lock);
    return rc;
}

/* Messages for one connection held back to go in one write: a cork's
 * (a thread running calls: its replies) or the hold's (a client's
 * pipelined requests). The holder's lock guards it. */
enum { BATCH_MAX = 16384 };
typedef struct Batch {
    AmrtConn *c;                /* whose messages it holds (a reference), NULL: empty */
    size_t len;
    unsigned char buf[BATCH_MAX];
} Batch;

/* b holds messages that must go before len more bytes for c: another
 * connection's, or too many for the room left */
static bool batch_full_for(const Batch *b, const AmrtConn *c, size_t len)
{
    return b->c && (b->c != c || b->len + len > BATCH_MAX);
}

/* a message for c appended (batch_full_for said there is room); true
 * when b was empty: it took a reference to c */
static bool batch_put(Batch *b, AmrtConn *c, const void *data, size_t len)
{
    bool first = !b->c;
    if (first) {
        atomic_fetch_add(&c->refs, 1);
        b->c = c;
    }
    memcpy(b->buf + b->len, data, len);
    b->len += len;
    return first;
}

/* b is empty, what it held gone nowhere */
static void batch_drop(Batch *b)
{
    AmrtConn *c = b->c;
    b->c = NULL;
    b->len = 0;
    if (c)
        amrt__conn_release(c);
}

/* what b holds goes (nothing goes to a dead connection), and b is
 * empty; false when it was */
static bool batch_send(Batch *b)
{
    AmrtConn *c = b->c;
    if (!c)
        return false;
    if (!atomic_load(&c->dead))
        conn_send_now(c, b->buf, b->len, NULL, 0);
    batch_drop(b);
    return true;
}

/* Replies held back (a cork): a thread running calls appends the
 * messages it sends (replies, releases; not those with descriptors) to
 * its cork instead of sending each, and sends them with one write when
 * its queue of calls is empty, when what it holds is QUEUE_US old, before
 * it makes a call of its own, or when another connection's message
 * comes. A call that takes long does not hold the replies before it for
 * long: the standby thread (see "incoming calls") sends what a cork has
 * held for QUEUE_US when it looks. Lock order: io_lock, a cork's lock, a send lock. */
enum { QUEUE_US = 100 };
typedef struct Cork {
    pthread_mutex_t lock;
    Batch b;                    /* the replies held */
    struct timespec t0;         /* when the first came (written by its thread only) */
    bool held;                  /* its thread's own: it held messages since it last sent them
                                 * (b.c may be NULL: the standby thread sent them) */
    struct Cork *next;          /* io_lock: every event thread's, or the spares */
    amrt__wire_buf out;         /* its thread's replies are encoded here */
} Cork;
/* The corks (and reply buffers) of threads that ended, for the next
 * threads (io_lock): a thread made while calls run allocates nothing. */
enum { SPARES_MAX = 8 };
static Cork *spares;
static int nspares;
static Cork *corks;                     /* io_lock */
static atomic_int ncorked;              /* corks holding messages */
static _Thread_local Cork *tl_cork;     /* this thread's while it runs calls */
static _Thread_local bool tl_runner;    /* this thread runs calls (counted in nrunning) */
static _Thread_local bool tl_queued;    /* this thread queued an incoming call it read */

/* send what k holds (k->lock held) */
static void cork_flush_locked(Cork *k)
{
    if (batch_send(&k->b))
        atomic_fetch_sub(&ncorked, 1);
}

static void cork_flush(Cork *k)
{
    if (!k)
        return;
    amrt__mutex_lock(&k->lock);
    cork_flush_locked(k);
    amrt__mutex_unlock(&k->lock);
}

static long ns_since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - t0->tv_sec) * 1000000000L + (now.tv_nsec - t0->tv_nsec);
}

/* k holds what has waited QUEUE_US (k->lock held) */
static bool cork_old(Cork *k)
{
    return k->b.c && ns_since(&k->t0) >= QUEUE_US * 1000L;
}

static void hold_flush_for(AmrtConn *c);

int amrt__conn_send(AmrtConn *c, amrt__wire_buf *b)
{
    if (atomic_load(&c->dead))
        return -EPIPE;
    hold_flush_for(c);                  /* requests held for c go first */
    int fds[AMRT__WIRE_MAX_FDS];
    unsigned n = 0;
    for (unsigned i = 0; i < b->nfds && n < AMRT__WIRE_MAX_FDS; i++)
        if (b->fds[i] >= 0)
            fds[n++] = b->fds[i];
    Cork *k = tl_cork;
    if (k && n == 0 && b->len <= BATCH_MAX) {
        amrt__mutex_lock(&k->lock);
        if (batch_full_for(&k->b, c, b->len))
            cork_flush_locked(k);
        bool first = batch_put(&k->b, c, b->data, b->len);
        if (first) {
            clock_gettime(CLOCK_MONOTONIC, &k->t0);
            atomic_fetch_add(&ncorked, 1);
        }
        amrt__mutex_unlock(&k->lock);
        if (first)
            k->held = true;             /* the standby thread looks at it too (this thread runs calls) */
        return 0;
    }
    cork_flush(k);                      /* what it holds goes first */
    return conn_send_now(c, b->data, b->len, fds, (int)n);
}

int amrt__conn_send_small(AmrtConn *c, amrt__wire_header *h, const void *body, size_t len)
{
    amrt__wire_buf b;
    amrt__wire_buf_init(&b);
    int rc = -ENOMEM;
    void *p;
    if (SUCCEEDED(amrt__wire_buf_start(&b)) && (!len || (p = amrt__wire_buf_append(&b, len)))) {
        if (len)
            memcpy(p, body, len);
        amrt__wire_buf_seal(&b, h);
        rc = amrt__conn_send(c, &b);
    }
    amrt__wire_buf_fini(&b);
    return rc;
}

/* ==================================================================== the hold

 * A client's pipelined requests held back (a "hold"): the request of a
 * call object's call, while other calls wait for their replies on its
 * connection, goes to the process's hold instead of to the socket when an
 * event thread has promised to look within HOLD_MS (hold.watch: it waits
 * in epoll_wait with that timeout, having read replies just before); what
 * the hold has goes in one write:
 *  - when a thread is about to wait (amrt__ev_wait, CoWaitForMultipleHandles,
 *    a synchronous call): the replies it waits for may need it;
 *  - when any other message goes on that connection (a synchronous call's
 *    request, a cancel, a release: their order is kept), or a request for
 *    another connection comes, or it is full;
 *  - when the event thread that watches wakes up, for replies or after
 *    HOLD_MS; it watches again only after replies, or when it found
 *    something held (a call that takes long costs one more wake-up, not
 *    one every HOLD_MS).
 * So a request waits at most about HOLD_MS, and mostly until the thread
 * that made it waits, or until the next replies come.
 * A request with no other call awaiting its reply goes at once, so that
 * the server works on it while the caller goes on; except when the server
 * and this process run on one and the same CPU (c->one_cpu): the server
 * cannot work meanwhile, and its wake-up by the request preempts the
 * caller at once, which then finds its next call's reply there and sends
 * the next request alone again (seen: 64 pipelined calls in chunks of
 * about 6, a wake-up of each process per chunk); held, the caller's
 * requests go together when it waits (one chunk of 64). A thread running
 * calls for another process does not hold (its cork sends its messages).
 * Lock order: hold.lock, a send lock. */
enum { HOLD_MS = 1 };
static struct {
    pthread_mutex_t lock;
    bool watch;                 /* an event thread looks within HOLD_MS */
    Batch b;                    /* the requests held */
    size_t cut;                 /* b.buf begins with the rest of a message partly sent: its length */
} hold = { .lock = PTHREAD_MUTEX_INITIALIZER };
static _Atomic(AmrtConn *) hold_conn;   /* hold.b.c, for a look without the lock */

/* the hold is empty (hold.lock held) */
static void hold_emptied(void)
{
    hold.cut = 0;
    atomic_store_explicit(&hold_conn, NULL, memory_order_relaxed);
}

/* send what the hold has (hold.lock held) */
static void hold_flush_locked(void)
{
    if (batch_send(&hold.b))
        hold_emptied();
}

void amrt__conn_hold_flush(void)
{
    if (!atomic_load_explicit(&hold_conn, memory_order_relaxed))
        return;
    amrt__mutex_lock(&hold.lock);
    hold_flush_locked();
    amrt__mutex_unlock(&hold.lock);
}

/* what the hold has for c goes before c's next message */
static void hold_flush_for(AmrtConn *c)
{
    if (atomic_load_explicit(&hold_conn, memory_order_relaxed) != c)
        return;
    amrt__mutex_lock(&hold.lock);
    if (hold.b.c == c)
        hold_flush_locked();
    amrt__mutex_unlock(&hold.lock);
}

/* c is over: what the hold has for it goes nowhere; the call ids of the
 * requests it held (never sent: they fail with RPC_E_SERVER_DIED_DNE,
 * J10) go to ids (HOLD_IDS at most), their number is returned */
enum { HOLD_IDS = BATCH_MAX / AMRT__WIRE_HEADER };
static unsigned hold_drop(AmrtConn *c, uint64_t *ids)
{
    unsigned n = 0;
    if (atomic_load_explicit(&hold_conn, memory_order_relaxed) != c)
        return 0;
    amrt__mutex_lock(&hold.lock);
    if (hold.b.c == c) {
        for (size_t at = hold.cut; at + AMRT__WIRE_HEADER <= hold.b.len && n < HOLD_IDS;) {
            uint32_t len;
            memcpy(&len, hold.b.buf + at + 8, 4);   /* the header's length (wire.h) */
            memcpy(&ids[n++], hold.b.buf + at + AMRT__WIRE_CALL_ID_AT, 8);
            at += AMRT__WIRE_HEADER + (size_t)len;
        }
        batch_drop(&hold.b);            /* its reference to c is not the last: the caller has one */
        hold_emptied();
    }
    amrt__mutex_unlock(&hold.lock);
    return n;
}

static bool held_id(const uint64_t *ids, unsigned n, uint64_t id)
{
    for (unsigned i = 0; i < n; i++)
        if (ids[i] == id)
            return true;
    return false;
}

/* A program that ends without CoUninitialize: what the hold has goes
 * at exit (as it would have gone before the hold), if it can without
 * waiting (the lock taken, the socket's room) */
static void hold_try_locked(void);

static void hold_at_exit(void)
{
    if (!atomic_load_explicit(&hold_conn, memory_order_relaxed) || pthread_mutex_trylock(&hold.lock) != 0)
        return;
    hold_try_locked();
    amrt__mutex_unlock(&hold.lock);
}

static pthread_once_t hold_exit_once = PTHREAD_ONCE_INIT;
static void hold_exit_register(void)
{
    atexit(hold_at_exit);
}

/* A call object's request (others: calls before it wait for replies on
 * c): held, or sent. 0 or -errno, as amrt__conn_send. */
static int conn_send_request(AmrtConn *c, amrt__wire_buf *b, bool others)
{
    if ((others || c->one_cpu) && !tl_runner && !tl_cork && b->nfds == 0 && b->len <= BATCH_MAX && !atomic_load(&c->dead)) {
        pthread_once(&hold_exit_once, hold_exit_register);
        amrt__mutex_lock(&hold.lock);
        if (hold.watch) {
            if (batch_full_for(&hold.b, c, b->len))
                hold_flush_locked();
            if (batch_put(&hold.b, c, b->data, b->len))
                atomic_store_explicit(&hold_conn, c, memory_order_relaxed);
            amrt__mutex_unlock(&hold.lock);
            return 0;
        }
        amrt__mutex_unlock(&hold.lock);
    }
    return amrt__conn_send(c, b);
}

/* An event thread about to wait watches the hold (it read replies, or
 * found requests held): it waits HOLD_MS at most */
static void hold_watch(void)
{
    amrt__mutex_lock(&hold.lock);
    hold.watch = true;
    amrt__mutex_unlock(&hold.lock);
}

/* The event thread's send of what the hold has (hold.lock held): it
 * never waits, neither for room in the socket nor for a sender that waits
 * for it, since the peer may be waiting for this thread to read its
 * replies before it reads again; what does not go now stays (a message's
 * rest first: any other message on c sends it before itself) for the next
 * look or the next thread that waits. */
static void hold_try_locked(void)
{
    AmrtConn *c = hold.b.c;
    if (!c)
        return;
    if (atomic_load(&c->dead)) {
        hold_flush_locked();            /* (nothing goes to a dead connection) */
        return;
    }
    if (pthread_mutex_trylock(&c->send_lock) != 0)
        return;
    ssize_t n = amrt__tp_send_some(c->fd, hold.b.buf, hold.b.len);
    if (n < 0) {
        if (!atomic_exchange(&c->broken, true))
            shutdown(c->fd, SHUT_RDWR); /* as conn_send_now: the I/O thread ends it */
        n = (ssize_t)hold.b.len;
    }
    amrt__mutex_unlock(&c->send_lock);
    if ((size_t)n < hold.b.len) {
        /* the messages are whole in b.buf after the first: find where the
         * first one not wholly sent ends */
        size_t at = hold.cut;
        while (at < (size_t)n) {
            uint32_t len;
            memcpy(&len, hold.b.buf + at + 8, 4);   /* the header's length (wire.h) */
            at += AMRT__WIRE_HEADER + (size_t)len;
        }
        hold.cut = at - (size_t)n;
        memmove(hold.b.buf, hold.b.buf + n, hold.b.len - (size_t)n);
        hold.b.len -= (size_t)n;
        return;
    }
    batch_drop(&hold.b);                /* all sent */
    hold_emptied();
}

/* A watching event thread woke: what the hold has goes if it can (true
 * when it had something), and nobody watches until a thread waits again */
static bool hold_look(void)
{
    amrt__mutex_lock(&hold.lock);
    bool had = hold.b.c != NULL;
    hold_try_locked();
    hold.watch = false;
    amrt__mutex_unlock(&hold.lock);
    return had;
}

/* ==================================================================== a synchronous call's wait */

/* The waiting thread spins on p->state, then sleeps on it (a futex):
 * the I/O thread completes the call with one atomic exchange and enters
 * the kernel only when the waiter sleeps. No lock, no condition
 * variable: the epoll floor's handoff. */
enum { P_WAIT, P_SLEEP, P_DONE };

static long futex(atomic_uint *w, int op, unsigned val, const struct timespec *rel)
{
    return syscall(SYS_futex, (unsigned *)w, op, val, rel, NULL, 0);
}

/* reply or fail is set: the waiter may return (and its frame go) from here on */
static void pending_done(AmrtPending *p)
{
    if (atomic_exchange_explicit(&p->state, P_DONE, memory_order_acq_rel) == P_SLEEP)
        futex(&p->state, FUTEX_WAKE_PRIVATE, 1, NULL);
    /* a wake after the waiter left (it saw P_DONE on its own) is a
     * spurious wake of whoever waits on that word next: futex waiters loop */
}

static bool pending_ready(void *arg)
{
    return atomic_load_explicit(&((AmrtPending *)arg)->state, memory_order_acquire) == P_DONE;
}

/* wait until done, or ms milliseconds (-1: no limit); true when done */
static bool pending_wait(AmrtPending *p, int ms)
{
    amrt__conn_hold_flush();
    if (!amrt__spin_pointless() && amrt__spin_until(pending_ready, p))
        return true;
    unsigned s = P_WAIT;
    if (!atomic_compare_exchange_strong_explicit(&p->state, &s, P_SLEEP, memory_order_acq_rel,
                                                 memory_order_acquire) &&
        s == P_DONE)
        return true;
    struct timespec rel = { ms / 1000, (long)(ms % 1000) * 1000000L };
    do {
        long r = futex(&p->state, FUTEX_WAIT_PRIVATE, P_SLEEP, ms < 0 ? NULL : &rel);
        if (pending_ready(p))
            return true;
        if (r != 0 && errno == ETIMEDOUT)
            return false;
    } while (ms < 0);
    return pending_ready(p);
}

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

/* a call marked canceled (c->lock held) */
static void incall_cancel(AmrtInCall *ic)
{
    atomic_store(&ic->canceled, true);
    if (ic->on_cancel)
        ic->on_cancel(ic->cancel_arg);
}

/* The connection is over (on the I/O thread, or at shutdown with the I/O
 * thread stopped): fail what waits on it, cancel what runs for it, let go
 * of what the peer held. */
static void conn_fail(AmrtConn *c)
{
    if (atomic_exchange(&c->dead, true))
        return;
    uint64_t held[HOLD_IDS];
    unsigned nheld = hold_drop(c, held);
    if (epfd >= 0)
        epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
    shutdown(c->fd, SHUT_RDWR);         /* closed at the last reference: no reuse of the number meanwhile */
    amrt__mutex_lock(&c->lock);
    AmrtPending *async = NULL;
    for (AmrtPending *p = c->pending, *next; p; p = next) {
        next = p->next;
        if (p->complete) {
            p->next = async;
            async = p;
            continue;
        }
        p->fail = RPC_E_SERVER_DIED;
        pending_done(p);
    }
    c->pending = NULL;
    c->pending_tail = &c->pending;
    for (AmrtInCall *ic = c->incalls; ic; ic = ic->next)
        incall_cancel(ic);
    amrt__mutex_unlock(&c->lock);
    for (AmrtPending *p = async, *next; p; p = next) {
        next = p->next;                 /* complete may free p */
        p->complete(p, NULL, held_id(held, nheld, p->id) ? RPC_E_SERVER_DIED_DNE : RPC_E_SERVER_DIED);
    }
    amrt__release_exports(c);
    amrt__mutex_lock(&io_lock);
    for (AmrtConn **pp = &conns; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    amrt__mutex_unlock(&io_lock);
    amrt__conn_release(c);              /* the reference of the I/O thread's set */
}

/* c's reader is done with it: c back in the epoll set, nobody reading it
 * (io_lock held: the set closes, amrt__conn_shutdown, only once every
 * connection is dead). False: the re-arm failed, c must go. */
static bool conn_rearm_locked(AmrtConn *c)
{
    struct epoll_event ev = { .events = CONN_EVENTS, .data.ptr = c };
    atomic_store(&c->rstate, R_ARMED);  /* before the re-arm: its event finds c armed */
    return atomic_load(&c->dead) || epfd < 0 || epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0;
}

/* ==================================================================== incoming calls */

/* The event threads (leader/follower). A thread of the pool waits in
 * epoll_wait on the one set (more than one when calls run in parallel);
 * the kernel hands each event to one of them. A connection is registered
 * EPOLLONESHOT: the thread its event went to is its only reader until it
 * re-arms it, which it does once it has read all there was, before it
 * runs any call. It reads every message available, completes the replies
 * among them (one atomic operation for a synchronous call, as before),
 * and appends the incoming calls to the process's queue; then it takes
 * the queue's first call and runs it itself: no hand-off, no wake-up.
 * At most as many threads run calls as the process has CPUs; a thread
 * whose call is done takes the next queued call. So that a slow call
 * never delays another (J6):
 *  - while threads run calls, one more thread stands by: it looks every
 *    STANDBY_US (a timed wait, no wake-up from the threads that run
 *    calls), and when no call was done since it last looked it becomes a
 *    thread that waits for events and runs queued calls; it also sends
 *    the replies a cork has held for QUEUE_US. A call that takes long
 *    thus delays the others by 2 STANDBY_US at most. On one CPU no thread
 *    waits in epoll_wait while a call runs, and the requests that come
 *    meanwhile wake nobody: the runner reads them all when it is done,
 *    as a single-threaded server would;
 *  - a thread about to run a call while calls are still queued behind
 *    it, or while its cork holds replies, makes sure the standby thread
 *    exists (it creates one): the threads in epoll_wait look at neither;
 *    a new thread stands by while a cork holds replies, and the standby
 *    thread sends every cork's replies when it leaves (it may not come
 *    back), and runs queued calls when a CPU is free for them;
 *  - with more CPUs than threads running calls, a thread about to run a
 *    call makes sure another one waits in epoll_wait (the standby one
 *    woken, or a thread created), so that calls run in parallel;
 *  - a thread running a call that calls out (a callback, a call to a
 *    third process) makes sure another thread reads the reply.
 * A thread that waited IDLE_MS in epoll_wait for nothing ends while
 * another waits there. Shutdown: an eventfd that stays readable
 * (level-triggered) wakes every waiter, a broadcast the standby thread;
 * each drains the queue and ends. */
enum { IDLE_MS = 10000, STANDBY_US = 1000, STANDBY_POLLS = 20 };
static AmrtInCall *queue_head, *queue_tail;     /* io_lock, what follows too */
static int nwait;                       /* threads in (or on their way into) epoll_wait */
static int nstarting;                   /* threads created, not yet placed */
static int nstandby;                    /* the standby thread (0 or 1) */
static bool standby_deep;               /* it sleeps without looking (nothing ran for long) */
static bool standby_go;                 /* it is wanted in epoll_wait now */
static bool runners_stuck;              /* the standby thread saw no call done: queued calls may run */
static pthread_cond_t standby_cond;     /* CLOCK_MONOTONIC */
static unsigned long calls_done;        /* calls run so far */
static int nrunning;                    /* threads running calls, not waiting for a reply */
static int ncpu = 1;                    /* the CPUs this process may run on */
static int nevent;                      /* threads between epoll_wait and running a call */
static unsigned io_gen;                 /* the pool's generation: one per io_start */

static void *event_thread(void *arg);

/* the connection forgets ic (not its record: record_put) */
static void incall_end(AmrtInCall *ic)
{
    AmrtConn *c = ic->conn;
    amrt__mutex_lock(&c->lock);
    *ic->pprev = ic->next;
    if (ic->next)
        ic->next->pprev = ic->pprev;
    AmrtExport *d = amrt__active_end_locked(c);
    amrt__mutex_unlock(&c->lock);
    amrt__exports_free(d);
    amrt__conn_release(c);
}

/* ic's call, run; false when it goes on after this (amrt__incall_done) */
static bool incall_run(AmrtInCall *ic)
{
    if (amrt__dispatch(ic->conn, ic))
        return false;                   /* ic may be done with already: not touched */
    incall_end(ic);
    return true;
}

/* Records of incoming calls done with, their request buffers kept
 * (io_lock): the next calls reuse them, so that a call allocates nothing. */
enum { RECORDS_MAX = 64 };
static AmrtInCall *records;
static int nrecords;

/* a call's record is done with (io_lock held) */
static void record_put(AmrtInCall *ic)
{
    if (nrecords < RECORDS_MAX && ic->msg.buf.cap <= 4096) {
        amrt__wire_buf_reset(&ic->msg.buf);
        ic->qnext = records;
        records = ic;
        nrecords++;
        return;
    }
    amrt__msg_free(&ic->msg);
    amrt__free(ic);
}

/* one more thread for the pool (io_lock held): false when none could be made */
static bool thread_add(void)
{
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    pthread_t th;
    bool ok = pthread_create(&th, &a, event_thread, (void *)(uintptr_t)io_gen) == 0;
    pthread_attr_destroy(&a);
    if (ok)
        nstarting++;
    return ok;
}

/* the standby thread back to the event loop now (to the queue, then
 * epoll_wait), or a thread made (io_lock held): false when none could be */
static bool standby_or_add(void)
{
    if (nstandby > 0) {
        if (!standby_go) {
            standby_go = true;
            amrt__cond_signal(&standby_cond);
        }
        return true;
    }
    return thread_add();
}

/* the standby thread to epoll_wait now, or a thread made for it (io_lock held) */
static bool waiter_call(void)
{
    return nwait + nstarting > 0 || standby_or_add();
}

/* A thread is about to run a call (io_lock held, counted in nrunning):
 * someone must stand by or wait for events meanwhile. False when nobody
 * does or could. */
static bool waiter_ensure(void)
{
    if (nrunning < ncpu && nwait == 0)
        waiter_call();                  /* a CPU is free: the next request runs in parallel */
    if (nstandby > 0 && standby_deep) {
        standby_deep = false;
        amrt__cond_signal(&standby_cond);
    }
    /* calls still queued behind this one (one read brought several), or
     * replies held in a cork: the threads in epoll_wait look at neither,
     * so a standby thread must, or they wait for this call's end (J6) */
    if ((queue_head || atomic_load(&ncorked) > 0) && nstandby + nstarting == 0)
        return thread_add() || nwait > 0;
    return nwait + nstandby + nstarting > 0 || thread_add();
}

/* the queue's first call, taken (io_lock held), or NULL */
static AmrtInCall *queue_take(void)
{
    AmrtInCall *ic = queue_head;
    if (ic) {
        queue_head = ic->qnext;
        if (!queue_head)
            queue_tail = NULL;
    }
    return ic;
}

/* run ic on this thread, then what the queue holds (io_lock held at the
 * start and the end), the replies held in k; when no thread would wait
 * for the events meanwhile and none could be made, ic is answered
 * E_OUTOFMEMORY instead */
static void run_calls(AmrtInCall *ic, amrt__wire_buf *out, Cork *k)
{
    nrunning++;
    tl_runner = true;
    tl_cork = k;
    while (ic) {
        bool ok = waiter_ensure(), over = true;
        amrt__mutex_unlock(&io_lock);
        if (ok) {
            ic->out = out;
            over = incall_run(ic);
        } else {
            /* nobody would read the next message meanwhile (a call back
             * into this process would hang): refuse this one */
            amrt__wire_header h = head_of(ic->msg.h.type == M_CALL ? M_REPLY : ic->msg.h.type + 1,
                                          ic->msg.h.call_id, E_OUTOFMEMORY, 0);
            amrt__conn_send_small(ic->conn, &h, NULL, 0);
            ic->msg.h.type = 0;         /* nothing to run */
            incall_run(ic);
        }
        if (out->cap > 4096)
            amrt__wire_buf_fini(out);   /* keep a small one only */
        amrt__mutex_lock(&io_lock);
        if (over)
            record_put(ic);
        calls_done++;
        runners_stuck = false;
        AmrtInCall *next = queue_take();
        /* the replies go before this thread waits, or when old (t0 is
         * this thread's to write: read here without k's lock) */
        if (k && k->held && (!next || ns_since(&k->t0) >= QUEUE_US * 1000L)) {
            amrt__mutex_unlock(&io_lock);
            cork_flush(k);
            k->held = false;
            amrt__mutex_lock(&io_lock);
        }
        if (over && --incalls_running == 0)
            amrt__cond_broadcast(&io_cond);
        ic = next;
    }
    tl_cork = NULL;
    tl_runner = false;
    nrunning--;
}

void amrt__incall_done(AmrtInCall *ic)
{
    incall_end(ic);
    amrt__mutex_lock(&io_lock);
    record_put(ic);
    if (--incalls_running == 0)
        amrt__cond_broadcast(&io_cond);
    amrt__mutex_unlock(&io_lock);
}

/* a record done with, for a new call (io_lock held), or NULL */
static AmrtInCall *record_take(void)
{
    AmrtInCall *ic = records;
    if (ic) {
        records = ic->qnext;
        nrecords--;
    }
    return ic;
}

/* An incoming call was read (on the connection's reader): its record,
 * queued; the reader takes it (or an earlier one) when done reading. */
static void start_incall(AmrtConn *c, AmrtMsg *m)
{
    AmrtInCall *ic = c->next_record;    /* taken when the previous call was queued */
    c->next_record = NULL;
    if (!ic) {
        amrt__mutex_lock(&io_lock);
        ic = record_take();
        amrt__mutex_unlock(&io_lock);
    }
    if (ic) {
        /* its buffer receives the next message (the receiver's, empty: m took it) */
        if (!c->in.buf.data)
            c->in.buf = ic->msg.buf;
        else
            amrt__msg_free(&ic->msg);
        memset(ic, 0, sizeof *ic);
    } else {
        ic = amrt__calloc(sizeof *ic);
    }
    if (!ic) {
        amrt__wire_header h = head_of(m->h.type == M_CALL ? M_REPLY : m->h.type + 1, m->h.call_id, E_OUTOFMEMORY, 0);
        amrt__conn_send_small(c, &h, NULL, 0);
        amrt__msg_free(m);
        return;
    }
    ic->conn = c;
    ic->msg = *m;
    amrt__msg_init(m);
    atomic_init(&ic->canceled, false);
    atomic_fetch_add(&c->refs, 1);
    amrt__mutex_lock(&c->lock);
    ic->next = c->incalls;
    if (ic->next)
        ic->next->pprev = &ic->next;
    ic->pprev = &c->incalls;
    c->incalls = ic;
    c->active++;                        /* before the reader reads the peer's next message */
    amrt__mutex_unlock(&c->lock);
    amrt__mutex_lock(&io_lock);
    incalls_running++;
    ic->qnext = NULL;
    if (queue_tail)
        queue_tail->qnext = ic;
    else
        queue_head = ic;
    queue_tail = ic;
    c->next_record = record_take();     /* the next call's, under the same lock */
    amrt__mutex_unlock(&io_lock);
    tl_queued = true;
}

/* ==================================================================== the receiver */

static bool good_hello(AmrtMsg *m)
{
    if (m->h.type != M_HELLO || m->h.length < 16 || memcmp(amrt__msg_body(m), AMRT_PROTO_MAGIC, 8) != 0)
        return false;
    uint32_t v;
    memcpy(&v, amrt__msg_body(m) + 8, 4);
    return v == AMRT_PROTO_VERSION;
}

/* the server's HELLO: status S_OK, or why the connection is refused */
static void send_welcome(int fd, HRESULT hr)
{
    unsigned char body[16];
    memcpy(body, AMRT_PROTO_MAGIC, 8);
    uint32_t v = AMRT_PROTO_VERSION, pid = (uint32_t)getpid();
    memcpy(body + 8, &v, 4);
    memcpy(body + 12, &pid, 4);
    amrt__wire_header h = head_of(M_HELLO, 0, hr, 0);
    amrt__wire_buf b;
    amrt__wire_buf_init(&b);
    void *p;
    if (SUCCEEDED(amrt__wire_buf_start(&b)) && (p = amrt__wire_buf_append(&b, sizeof body))) {
        memcpy(p, body, sizeof body);
        amrt__wire_buf_seal(&b, &h);
        amrt__tp_send(fd, b.data, b.len, NULL, 0, NULL, 0);
    }
    amrt__wire_buf_fini(&b);
}

/* One whole message arrived: false drops the connection. */
static bool conn_message(AmrtConn *c, AmrtMsg *m)
{
    if (c->accepted && !c->hello) {
        if (!good_hello(m)) {
            send_welcome(c->fd, RPC_E_VERSION_MISMATCH);
            return false;
        }
        c->hello = true;
        send_welcome(c->fd, S_OK);
        amrt__msg_free(m);
        return true;
    }
    switch (m->h.type) {
    case M_ACTIVATED:
    case M_QI_REPLY:
    case M_REPLY: {
        amrt__mutex_lock(&c->lock);
        AmrtPending **pp = &c->pending;
        while (*pp && (*pp)->id != m->h.call_id)
            pp = &(*pp)->next;
        AmrtPending *p = *pp;
        if (p && p->complete) {
            /* a call object's: completed here; conn_read reuses m's buffer */
            pending_unlink(c, pp);
            amrt__mutex_unlock(&c->lock);
            p->complete(p, m, m->h.type == M_REPLY ? S_OK : HRESULT_FROM_WIN32(RPC_X_BAD_STUB_DATA));
            return true;
        }
        if (p)
            pending_unlink(c, pp);
        amrt__mutex_unlock(&c->lock);
        if (p) {
            p->reply = *m;
            amrt__msg_init(m);
            pending_done(p);
        } else {
            /* nobody waits (a call given up, J7): discard it, the references in it too */
            if (m->h.type == M_REPLY) {
                amrt__wire_frame f;
                amrt__wire_frame_init(&f);
                amrt__wire_discard_reply(&f, &m->buf, &c->wpeer);
                amrt__wire_frame_fini(&f);
            }
            amrt__msg_free(m);
        }
        return true;
    }
    case M_ACTIVATE:
    case M_QI:
    case M_CALL:
        if (!c->accepted && m->h.type == M_ACTIVATE) {
            amrt__msg_free(m);
            return false;               /* a server does not activate in its client */
        }
        start_incall(c, m);
        return true;
    case M_CANCEL:
        amrt__mutex_lock(&c->lock);
        for (AmrtInCall *ic = c->incalls; ic; ic = ic->next)
            if (ic->msg.h.call_id == m->h.call_id)
                incall_cancel(ic);
        amrt__mutex_unlock(&c->lock);
        amrt__msg_free(m);
        return true;
    case M_RELEASE: {
        uint32_t n = 0;
        if (m->h.length >= 4)
            memcpy(&n, amrt__msg_body(m), 4);
        uint64_t oid = m->h.object_id;
        amrt__msg_free(m);
        amrt__release_export(c, oid, (long)n);
        return true;
    }
    default:
        amrt__msg_free(m);
        return false;                   /* not a message of this protocol (J13) */
    }
}

enum { RECYCLE_MAX = 4096 };         /* the largest message buffer kept for the next message */

/* Descriptors come with the first bytes of their message, which may
 * follow the end of the previous one in the same read: they wait in c
 * until their message's header says how many are its. False: more than
 * any message may carry (J13). */
static bool fds_queue(AmrtConn *c, const int *fds, int nfds)
{
    for (int i = 0; i < nfds; i++) {
        if (c->nfdq == (int)(sizeof c->fdq / sizeof c->fdq[0])) {
            for (; i < nfds; i++)
                close(fds[i]);
            return false;
        }
        c->fdq[c->nfdq++] = fds[i];
    }
    return true;
}

/* c->in is whole: handled (false drops the connection), c ready for the next */
static bool conn_deliver(AmrtConn *c)
{
    AmrtMsg m = c->in;
    amrt__msg_init(&c->in);
    c->got = 0;
    c->have_head = false;
    if (!conn_message(c, &m)) {
        amrt__msg_free(&m);
        return false;
    }
    if (m.buf.data) {
        /* a message left to us (a call object's reply): its storage
         * receives the next one (no allocation per call) */
        if (!c->in.buf.data && m.buf.cap <= RECYCLE_MAX) {
            amrt__wire_buf_reset(&m.buf);
            c->in.buf = m.buf;
        } else {
            amrt__msg_free(&m);
        }
    }
    return true;
}

/* The rest of a message's body (rest bytes, at least a read's buffer)
 * read straight into its buffer: one copy less, and reads as large as the
 * socket has. At most BODY_READ at a time: the buffer grows with what
 * came, not with what a header announced (J13). 1: read (the message may
 * be whole), 0: nothing more there now, -1: the connection is over. */
enum { BODY_READ = 256 * 1024 };
static int conn_read_body(AmrtConn *c, size_t rest)
{
    if (rest > BODY_READ)
        rest = BODY_READ;
    unsigned char *p = amrt__wire_buf_append(&c->in.buf, rest);
    if (!p)
        return -1;
    int fds[16], nfds = 0;
    ssize_t n = amrt__tp_recv(c->fd, p, rest, fds, &nfds, 16);
    c->in.buf.len -= rest - (n > 0 ? (size_t)n : 0);
    if (!fds_queue(c, fds, nfds))
        return -1;
    if (n == -EAGAIN)
        return 0;
    if (n <= 0)
        return -1;
    c->got += (size_t)n;
    if (c->got == AMRT__WIRE_HEADER + (size_t)c->in.h.length && !conn_deliver(c))
        return -1;
    return (size_t)n < rest ? 0 : 1;    /* a short read took all there was */
}

/* Read what is there (through buf, bufsize bytes at a time); false: the
 * connection is over. */
static bool conn_read(AmrtConn *c, unsigned char *buf, size_t bufsize)
{
    for (;;) {
        size_t rest = c->have_head ? AMRT__WIRE_HEADER + (size_t)c->in.h.length - c->got : 0;
        if (rest >= bufsize) {
            int r = conn_read_body(c, rest);
            if (r <= 0)
                return r == 0;
            continue;
        }
        int fds[16], nfds = 0;
        ssize_t n = amrt__tp_recv(c->fd, buf, bufsize, fds, &nfds, 16);
        if (!fds_queue(c, fds, nfds))
            return false;               /* (J13) */
        if (n == -EAGAIN)
            return true;
        if (n <= 0)
            return false;
        size_t off = 0;
        while (off < (size_t)n) {
            size_t want = c->have_head ? AMRT__WIRE_HEADER + (size_t)c->in.h.length : AMRT__WIRE_HEADER;
            size_t take = want - c->got;
            if (take > (size_t)n - off)
                take = (size_t)n - off;
            if (take) {
                void *p = amrt__wire_buf_append(&c->in.buf, take);
                if (!p)
                    return false;       /* beyond the limit (J13) or no memory: drop the connection */
                memcpy(p, buf + off, take);
                c->got += take;
                off += take;
            }
            if (c->got < want)
                break;
            if (!c->have_head) {
                if (FAILED(amrt__wire_header_get(c->in.buf.data, &c->in.h)))
                    return false;       /* not ours, another version, oversized (J13, J15) */
                if (c->in.h.nfds > (uint32_t)c->nfdq)
                    return false;       /* descriptors announced that did not come */
                for (uint32_t i = 0; i < c->in.h.nfds; i++)
                    if (FAILED(amrt__wire_buf_push_fd(&c->in.buf, c->fdq[i]))) {
                        c->nfdq -= (int)i + 1;      /* pushed ones belong to the message; the failed one is closed */
                        memmove(c->fdq, c->fdq + i + 1, sizeof(int) * (size_t)c->nfdq);
                        return false;
                    }
                c->nfdq -= (int)c->in.h.nfds;
                memmove(c->fdq, c->fdq + c->in.h.nfds, sizeof(int) * (size_t)c->nfdq);
                c->have_head = true;
                if (c->in.h.length)
                    continue;
            }
            if (!conn_deliver(c))
                return false;
        }
        /* A short read took all there was: the re-armed registration is
         * level-triggered, so what comes later wakes a thread again (no
         * read just to see EAGAIN). */
        if ((size_t)n < bufsize)
            return true;
    }
}

static void accept_all(void)
{
    for (;;) {
        int fd = amrt__tp_accept(listen_fd);
        if (fd < 0)
            return;
        AmrtPeer peer;
        if (amrt__tp_peer(fd, &peer) != 0 || peer.uid != getuid()) {
            send_welcome(fd, E_ACCESSDENIED);     /* J12: only the same user */
            amrt__tp_close(fd);
            continue;
        }
        AmrtConn *c = conn_new(fd, true);
        if (!c) {
            amrt__tp_close(fd);
            continue;
        }
        struct epoll_event ev = { .events = CONN_EVENTS, .data.ptr = c };
        amrt__mutex_lock(&io_lock);
        c->next = conns;
        conns = c;
        int e = epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);      /* under io_lock: see event_thread */
        amrt__mutex_unlock(&io_lock);
        if (e != 0)
            conn_fail(c);
    }
}

/* The standby thread (io_lock held; see "incoming calls"): returns when
 * it is wanted in epoll_wait or for queued calls, or at shutdown. */
static void standby(void)
{
    nstandby++;
    standby_go = false;
    standby_deep = false;
    unsigned long seen = calls_done;
    int quiet = 0;
    while (!io_stopping && !standby_go) {
        if (standby_deep) {
            amrt__cond_wait(&standby_cond, &io_lock);
            quiet = 0;
            seen = calls_done;
            continue;
        }
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        t.tv_nsec += STANDBY_US * 1000L;
        if (t.tv_nsec >= 1000000000L) {
            t.tv_sec++;
            t.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&standby_cond, &io_lock, &t);
        if (io_stopping || standby_go)
            break;
        /* replies held while their thread runs a call that takes long */
        for (Cork *o = corks; o && atomic_load(&ncorked) > 0; o = o->next) {
            amrt__mutex_lock(&o->lock);
            if (cork_old(o))
                cork_flush_locked(o);
            amrt__mutex_unlock(&o->lock);
        }
        bool progress = calls_done != seen;
        seen = calls_done;
        if (queue_head && nrunning < ncpu)
            break;                      /* a CPU for them (a runner calls out, waiting for its reply) */
        if (nrunning > 0 && !progress && (queue_head || nwait == 0)) {
            runners_stuck = true;       /* the calls running take long: this thread serves */
            break;
        }
        if (progress || nrunning > 0 || queue_head)
            quiet = 0;
        else if (++quiet >= STANDBY_POLLS)
            standby_deep = true;        /* nothing ran for long: sleep until a call runs */
    }
    /* what corks hold goes now: no thread stands by to send it later
     * (a runner that corks again makes sure of one before its next call) */
    for (Cork *o = corks; o && atomic_load(&ncorked) > 0; o = o->next)
        cork_flush(o);
    standby_go = false;
    standby_deep = false;
    nstandby--;
}

/* An event thread (see "incoming calls"): waits for events, reads, runs
 * what it read, until shutdown or a long idle. */
static void *event_thread(void *arg)
{
    unsigned gen = (unsigned)(uintptr_t)arg;
    amrt__wire_buf own;                 /* the replies' buffer when there is no cork */
    amrt__wire_buf_init(&own);
    unsigned char buf[65536];           /* what one read takes */
    amrt__mutex_lock(&io_lock);
    Cork *k = spares;                   /* an ended thread's, or one made once for this thread */
    if (k) {
        spares = k->next;
        nspares--;
    }
    amrt__mutex_unlock(&io_lock);
    if (!k && (k = amrt__calloc(sizeof *k))) {
        pthread_mutex_init(&k->lock, NULL);
        amrt__wire_buf_init(&k->out);
    }
    /* no cork: replies go one by one */
    amrt__wire_buf *out = k ? &k->out : &own;
    bool watch = false;                 /* watch the hold in the next wait (see "the hold") */
    amrt__mutex_lock(&io_lock);
    nstarting--;
    if (k) {
        k->next = corks;
        corks = k;
    }
    for (;;) {
        if (gen != io_gen)
            break;                      /* a call outlived its shutdown: the next pool is not ours */
        /* queued calls: run them while fewer threads run calls than there
         * are CPUs (the others are on their way back to the queue), or
         * when the standby thread saw the running calls take long */
        if (queue_head && (nrunning < ncpu || runners_stuck || io_stopping)) {
            run_calls(queue_take(), out, k);
            continue;
        }
        if (io_stopping)
            break;
        if (nstandby == 0 && (nwait > 0 || queue_head || atomic_load(&ncorked) > 0)) {
            /* one thread waits for events already, or calls wait that
             * this one may not run yet, or a runner holds replies: it
             * stands by for them */
            standby();
            continue;
        }
        if (nwait > 0 && nstandby > 0)
            break;                      /* a thread waits for events, one stands by: a second waiter
                                         * would only be woken in turn by the requests (on one CPU, a
                                         * runner's peer then hands its CPU over once per request) */
        nwait++;
        nevent++;
        amrt__mutex_unlock(&io_lock);
        struct epoll_event ev;
        int ms = watch ? HOLD_MS : IDLE_MS;
        if (watch)
            hold_watch();
        int n = epoll_wait(epfd, &ev, 1, ms);
        watch = ms == HOLD_MS && hold_look() && n == 0;     /* requests were held: watch on */
        amrt__mutex_lock(&io_lock);
        nwait--;
        if (n == 0 && ms == IDLE_MS && nwait + nstarting > 0 && !io_stopping) {
            nevent--;
            break;                      /* idle for long, and another thread waits */
        }
        if (n <= 0) {
            nevent--;
            continue;
        }
        int kind = *(int *)ev.data.ptr;
        if (kind == K_WAKE) {
            nevent--;
            continue;                   /* shutdown: the queue, then the end */
        }
        amrt__mutex_unlock(&io_lock);
        if (kind == K_LISTEN) {
            accept_all();
            struct epoll_event lev = { .events = EPOLLIN | EPOLLONESHOT, .data.ptr = (void *)&listen_tag };
            amrt__mutex_lock(&io_lock);
            if (listen_fd >= 0)
                epoll_ctl(epfd, EPOLL_CTL_MOD, listen_fd, &lev);
        } else {
            AmrtConn *c = ev.data.ptr;
            int armed = R_ARMED;
            if (!c->accepted && !atomic_compare_exchange_strong(&c->rstate, &armed, R_EVENT)) {
                /* another reader has c (mostly a caller that took it from
                 * the registration as the event came): it re-arms c when done */
                amrt__mutex_lock(&io_lock);
            } else {
                watch = !c->accepted;   /* replies to our calls: more may follow the next requests */
                /* this thread is c's only reader until the re-arm; the re-arm
                 * under io_lock, which the next reader takes once its
                 * epoll_wait returns: what this one wrote in c happens before
                 * (for ThreadSanitizer too, which does not see through epoll;
                 * a caller that reads c takes it through rstate) */
                if (!atomic_load(&c->dead) && conn_read(c, buf, sizeof buf)) {
                    amrt__mutex_lock(&io_lock);
                    if (!conn_rearm_locked(c)) {
                        amrt__mutex_unlock(&io_lock);
                        conn_fail(c);
                        amrt__mutex_lock(&io_lock);
                    }
                } else {
                    conn_fail(c);
                    amrt__mutex_lock(&io_lock);
                }
            }
        }
        nevent--;
        if (nevent == 0 && io_stopping)
            amrt__cond_broadcast(&io_cond);
    }
    if (nevent == 0 && io_stopping)
        amrt__cond_broadcast(&io_cond);
    if (k)
        for (Cork **pp = &corks; *pp; pp = &(*pp)->next)
            if (*pp == k) {
                *pp = k->next;
                break;
            }
    amrt__mutex_unlock(&io_lock);
    if (k) {
        cork_flush(k);                  /* empty already: run_calls sends before it returns */
        amrt__mutex_lock(&io_lock);
        bool kept = nspares < SPARES_MAX;
        if (kept) {
            k->next = spares;
            spares = k;
            nspares++;
        }
        amrt__mutex_unlock(&io_lock);
        if (!kept) {
            amrt__wire_buf_fini(&k->out);
            amrt__mutex_destroy(&k->lock);
            amrt__free(k);
        }
    }
    amrt__wire_buf_fini(&own);
    return NULL;
}

/* start the event threads (io_lock held) */
static HRESULT io_start(void)
{
    if (io_running)
        return S_OK;
    epfd = epoll_create1(EPOLL_CLOEXEC);
    wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (epfd < 0 || wakefd < 0)
        goto fail;
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = (void *)&wake_tag };
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, wakefd, &ev) != 0)
        goto fail;
    io_stopping = false;
    io_gen++;
    cpu_set_t cpus;
    ncpu = sched_getaffinity(0, sizeof cpus, &cpus) == 0 && CPU_COUNT(&cpus) > 0 ? CPU_COUNT(&cpus) : 1;
    static bool cond_made;
    if (!cond_made) {
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&standby_cond, &ca);
        pthread_condattr_destroy(&ca);
        cond_made = true;
    }
    runners_stuck = false;
    if (!thread_add())
        goto fail;
    io_running = true;
    return S_OK;
fail:
    if (epfd >= 0)
        close(epfd);
    if (wakefd >= 0)
        close(wakefd);
    epfd = wakefd = -1;
    return E_OUTOFMEMORY;
}

/* ==================================================================== the client's side */

static int wait_readable(int fd, int ms)
{
    struct pollfd p = { fd, POLLIN, 0 };
    int r;
    do
        r = poll(&p, 1, ms);
    while (r < 0 && errno == EINTR);
    return r;
}

/* read exactly n bytes from a blocking socket within the handshake's time */
static bool read_exact(int fd, void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        if (wait_readable(fd, 5000) <= 0)
            return false;
        ssize_t r = recv(fd, (char *)buf + got, n - got, MSG_DONTWAIT);
        if (r < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (r <= 0)
            return false;
        got += (size_t)r;
    }
    return true;
}

/* the server's process id in *server */
static HRESULT handshake(int fd, pid_t *server)
{
    unsigned char body[16];
    memcpy(body, AMRT_PROTO_MAGIC, 8);
    uint32_t v = AMRT_PROTO_VERSION, pid = (uint32_t)getpid();
    const char *force = getenv("AMIDL_TEST_PROTO_VERSION");     /* tests: speak another version (J15) */
    if (force)
        v = (uint32_t)strtoul(force, NULL, 0);
    memcpy(body + 8, &v, 4);
    memcpy(body + 12, &pid, 4);
    amrt__wire_header h = head_of(M_HELLO, 0, S_OK, 0);
    amrt__wire_buf b;
    amrt__wire_buf_init(&b);
    void *p;
    if (FAILED(amrt__wire_buf_start(&b)) || !(p = amrt__wire_buf_append(&b, sizeof body))) {
        amrt__wire_buf_fini(&b);
        return E_OUTOFMEMORY;
    }
    memcpy(p, body, sizeof body);
    amrt__wire_buf_seal(&b, &h);
    amrt__tp_send(fd, b.data, b.len, NULL, 0, NULL, 0);    /* a refusing server may have closed */
    amrt__wire_buf_fini(&b);
    unsigned char rh[AMRT__WIRE_HEADER], rb[16];
    amrt__wire_header r;
    if (!read_exact(fd, rh, sizeof rh))
        return RPC_E_DISCONNECTED;
    HRESULT hr = amrt__wire_header_get(rh, &r);
    if (FAILED(hr))
        return hr;                      /* RPC_E_VERSION_MISMATCH: another wire version (J15) */
    if (r.type != M_HELLO || r.length != sizeof rb || !read_exact(fd, rb, sizeof rb) ||
        memcmp(rb, AMRT_PROTO_MAGIC, 8) != 0)
        return RPC_E_DISCONNECTED;
    if (FAILED((HRESULT)r.status))
        return (HRESULT)r.status;       /* E_ACCESSDENIED (J12), RPC_E_VERSION_MISMATCH (J15) */
    memcpy(&v, rb + 8, 4);
    memcpy(&pid, rb + 12, 4);
    *server = (pid_t)pid;
    return v == AMRT_PROTO_VERSION ? S_OK : RPC_E_VERSION_MISMATCH;
}

/* this process and the server may run on one and the same CPU only */
static bool same_one_cpu(pid_t server)
{
    cpu_set_t mine, theirs;
    if (sched_getaffinity(0, sizeof mine, &mine) != 0 || CPU_COUNT(&mine) != 1)
        return false;
    return server > 0 && sched_getaffinity(server, sizeof theirs, &theirs) == 0 && CPU_EQUAL(&mine, &theirs);
}

HRESULT amrt__conn_get(const char *path, AmrtConn **out)
{
    *out = NULL;
    char key[128];
    ssize_t kl = readlink(path, key, sizeof key - 1);
    if (kl > 0)
        key[kl] = 0;
    else
        snprintf(key, sizeof key, "%s", path);
    amrt__mutex_lock(&io_lock);
    for (AmrtConn *c = conns; c; c = c->next)
        if (!c->accepted && !atomic_load(&c->dead) && !atomic_load(&c->broken) && strcmp(c->key, key) == 0) {
            atomic_fetch_add(&c->refs, 1);
            *out = c;
            break;
        }
    amrt__mutex_unlock(&io_lock);
    if (*out)
        return S_OK;
    int fd = amrt__tp_connect(path);
    if (fd < 0)
        return fd == -ENOENT || fd == -ECONNREFUSED ? REGDB_E_CLASSNOTREG
               : fd == -EACCES || fd == -EPERM     ? E_ACCESSDENIED
                                                   : RPC_E_SERVER_DIED_DNE;
    pid_t server = 0;
    HRESULT hr = handshake(fd, &server);
    if (FAILED(hr)) {
        amrt__tp_close(fd);
        return hr;
    }
    AmrtConn *c = conn_new(fd, false);
    if (!c) {
        amrt__tp_close(fd);
        return E_OUTOFMEMORY;
    }
    snprintf(c->key, sizeof c->key, "%s", key);
    c->one_cpu = same_one_cpu(server);
    amrt__mutex_lock(&io_lock);
    hr = io_start();
    if (SUCCEEDED(hr)) {
        c->next = conns;
        conns = c;
        atomic_fetch_add(&c->refs, 1);  /* the caller's */
        struct epoll_event ev = { .events = CONN_EVENTS, .data.ptr = c };
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
            hr = E_OUTOFMEMORY;
    }
    amrt__mutex_unlock(&io_lock);
    if (FAILED(hr)) {
        if (atomic_load(&c->refs) == 2) {
            conn_fail(c);
            amrt__conn_release(c);
        } else {
            amrt__conn_release(c);
        }
        return hr;
    }
    *out = c;
    return S_OK;
}

static HRESULT conn_call(AmrtConn *c, amrt__wire_buf *b, AmrtMsg *reply, bool cancel_poll);
static HRESULT conn_call_async(AmrtConn *c, amrt__wire_buf *b, AmrtPending *p, unsigned gen);

/* A call from a thread running calls: what its cork holds goes first,
 * and the call's messages are not held (the cork is put back after). */
static Cork *cork_set_aside(void)
{
    Cork *k = tl_cork;
    cork_flush(k);
    tl_cork = NULL;
    return k;
}

HRESULT amrt__conn_call(AmrtConn *c, amrt__wire_buf *b, AmrtMsg *reply, bool cancel_poll)
{
    Cork *k = cork_set_aside();
    HRESULT hr = conn_call(c, b, reply, cancel_poll);
    tl_cork = k;
    return hr;
}

HRESULT amrt__conn_call_async(AmrtConn *c, amrt__wire_buf *b, AmrtPending *p, unsigned gen)
{
    Cork *k = cork_set_aside();
    HRESULT hr = conn_call_async(c, b, p, gen);
    tl_cork = k;
    return hr;
}

/* The call id goes into b's sealed header, at call_id's offset
 * (docs/wire.md); false when b holds no sealed header. */
static bool set_call_id(amrt__wire_buf *b, uint64_t id)
{
    if (b->len < AMRT__WIRE_HEADER || !b->data)
        return false;
    uint32_t magic;
    memcpy(&magic, b->data, 4);
    if (magic != AMRT__WIRE_MAGIC)
        return false;
    memcpy(b->data + AMRT__WIRE_CALL_ID_AT, &id, 8);
    return true;
}

/* ==================================================================== a synchronous call's reader

 * A thread about to wait for its synchronous call's reply on a client
 * connection nobody reads (rstate R_ARMED: registered in the epoll set,
 * no event thread reading it) takes the reading of it (R_CALLER) and
 * takes it out of the set before the request goes; it then reads c until
 * its reply is there, as an event thread would (the replies of other
 * calls complete theirs, an incoming call is queued and a thread made
 * sure of to run it), and puts c back in the set. The reply thus wakes
 * the caller, not an event thread that would wake the caller in turn:
 * one wake-up (a context switch, on one CPU) less per call, for two
 * epoll_ctl. A caller that finds c read by another thread waits for the
 * reply as before (pending_wait). */
enum { READER_BUF = 4096 };     /* what one read takes (on the caller's stack) */
enum { READER_LARGE = 65536 };  /* a message this long goes to the event threads */

static bool reader_take(AmrtConn *c)
{
    int armed = R_ARMED;
    if (!atomic_compare_exchange_strong(&c->rstate, &armed, R_CALLER))
        return false;
    /* out of the set (no events but the ones epoll always reports, once) */
    struct epoll_event ev = { .events = EPOLLONESHOT, .data.ptr = c };
    amrt__mutex_lock(&io_lock);
    if (!atomic_load(&c->dead) && epfd >= 0)
        epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
    amrt__mutex_unlock(&io_lock);
    return true;
}

/* c back in the set, with nobody reading it */
static void reader_give(AmrtConn *c)
{
    amrt__mutex_lock(&io_lock);
    bool ok = conn_rearm_locked(c);
    amrt__mutex_unlock(&io_lock);
    if (!ok)
        conn_fail(c);
}

/* calls this thread read and queued: a thread of the pool runs them (an
 * event thread runs what it read itself; this caller waits for its reply,
 * which may need them: a call back into this process) */
static void reader_kick(void)
{
    tl_queued = false;
    amrt__mutex_lock(&io_lock);
    if (queue_head && nrunning < ncpu && nstarting == 0)
        standby_or_add();               /* (the threads in epoll_wait do not look at the queue) */
    amrt__mutex_unlock(&io_lock);
}

/* read c (taken by reader_take) until p's reply is there or c is over */
static void read_reply(AmrtConn *c, AmrtPending *p)
{
    unsigned char buf[READER_BUF];
    amrt__conn_hold_flush();            /* requests held for other connections: this thread waits */
    tl_queued = false;
    bool over = false;
    while (!pending_ready(p) && !over) {
        struct pollfd pf = { .fd = c->fd, .events = POLLIN | POLLRDHUP };
        int r = poll(&pf, 1, -1);
        if (r < 0 && errno == EINTR)
            continue;
        over = r < 0 || atomic_load(&c->dead) || !conn_read(c, buf, sizeof buf);
        if (tl_queued)
            reader_kick();
        /* A large message on its way: the event threads read it (they
         * continue it where this thread stopped). The saved wake-up is
         * nothing beside it, and its buffer, grown as it comes, costs
         * more from the caller's malloc arena (measured with glibc: a
         * 2 MB reply 11-13 ms a call read here, 8-9 ms by an event
         * thread: the main arena gives the memory back and faults it in
         * again each call) */
        if (!over && c->have_head && c->in.h.length >= READER_LARGE && !pending_ready(p))
            break;
    }
    if (over)
        conn_fail(c);                   /* fails p too (or has, on another thread) */
    else
        reader_give(c);
    pending_wait(p, -1);                /* done already, or by the conn_fail of another thread */
}

static HRESULT conn_call(AmrtConn *c, amrt__wire_buf *b, AmrtMsg *reply, bool cancel_poll)
{
    amrt__msg_init(reply);
    AmrtPending p = { 0 };
    atomic_init(&p.state, P_WAIT);
    amrt__mutex_lock(&c->lock);
    if (atomic_load(&c->dead)) {
        amrt__mutex_unlock(&c->lock);
        return RPC_E_DISCONNECTED;      /* J10: at once */
    }
    p.id = ++c->next_id;
    pending_add(c, &p);
    amrt__mutex_unlock(&c->lock);
    /* the caller reads its reply itself when nobody reads c: taken
     * before the request goes, so that the reply wakes only the caller */
    bool reader = !c->accepted && !cancel_poll && !tl_runner && reader_take(c);
    bool sealed = set_call_id(b, p.id);
    if (!sealed || amrt__conn_send(c, b) != 0) {
        if (reader)
            reader_give(c);
        amrt__mutex_lock(&c->lock);
        bool ours = pending_remove(c, &p);
        amrt__mutex_unlock(&c->lock);
        if (!ours)
            pending_wait(&p, -1);       /* the connection's end took it: let it finish with p */
        return RPC_E_SERVER_DIED_DNE;   /* it did not reach the server */
    }
    if (reader) {
        read_reply(c, &p);
        if (p.fail)
            return p.fail;
        *reply = p.reply;
        return S_OK;
    }
    /* a call made by a call running here (a callback, a call to a third
     * process): while it waits, it does not count as running */
    bool runner = tl_runner;
    if (runner) {
        amrt__mutex_lock(&io_lock);
        nrunning--;
        waiter_call();                  /* someone reads the reply */
        amrt__mutex_unlock(&io_lock);
    }
    if (cancel_poll) {
        /* J7: look at CoTestCancel every 5 ms; once canceled, the server's CoTestCancel will say so */
        while (!pending_wait(&p, 5))
            if (CoTestCancel() == RPC_E_CALL_CANCELED) {
                amrt__wire_header ch = head_of(M_CANCEL, p.id, S_OK, 0);
                amrt__conn_send_small(c, &ch, NULL, 0);
                break;
            }
    }
    pending_wait(&p, -1);
    if (runner) {
        amrt__mutex_lock(&io_lock);
        nrunning++;
        amrt__mutex_unlock(&io_lock);
    }
    if (p.fail)
        return p.fail;
    *reply = p.reply;
    return S_OK;
}

static HRESULT conn_call_async(AmrtConn *c, amrt__wire_buf *b, AmrtPending *p, unsigned gen)
{
    amrt__mutex_lock(&c->lock);
    if (atomic_load(&c->dead)) {
        amrt__mutex_unlock(&c->lock);
        return RPC_E_DISCONNECTED;      /* J10: at once */
    }
    p->id = ++c->next_id;
    p->done = false;
    p->fail = S_OK;
    pending_add(c, p);
    bool others = c->pending != p;      /* replies are awaited before this one's */
    p->gen = gen;
    /* canceled between the call's start and now: nobody could send
     * M_CANCEL (no id yet); it follows the request */
    bool cancel = p->cancel_gen == gen;
    p->cancel_gen = gen - 1;
    uint64_t id = p->id;
    amrt__mutex_unlock(&c->lock);
    if (set_call_id(b, id) && conn_send_request(c, b, others) == 0) {
        /* p may be completed (and freed) already: only c and id from here
         * on; a server ignores M_CANCEL for a call it has finished */
        if (cancel) {
            amrt__wire_header ch = head_of(M_CANCEL, id, S_OK, 0);
            amrt__conn_send_small(c, &ch, NULL, 0);
        }
        return S_OK;
    }
    amrt__mutex_lock(&c->lock);
    bool ours = pending_remove(c, p);
    amrt__mutex_unlock(&c->lock);
    /* not in the list: the connection's end took it, and completes it */
    return ours ? RPC_E_SERVER_DIED_DNE : S_OK;
}

uint64_t amrt__conn_cancel_id(AmrtConn *c, AmrtPending *p, unsigned gen)
{
    uint64_t id = 0;
    amrt__mutex_lock(&c->lock);
    for (AmrtPending *q = c->pending; q && !id; q = q->next)
        if (q == p && p->gen == gen)
            id = p->id;
    if (!id)
        p->cancel_gen = gen;            /* not registered yet: amrt__conn_call_async sends it */
    amrt__mutex_unlock(&c->lock);
    return id;
}

/* ==================================================================== the server's side */

HRESULT amrt__serve(char *path, size_t len)
{
    amrt__mutex_lock(&io_lock);
    HRESULT hr = io_start();
    if (FAILED(hr) || listen_fd >= 0)
        goto done;
    const char *lpid = getenv("LISTEN_PID"), *lfds = getenv("LISTEN_FDS");
    if (lpid && lfds && strtol(lpid, NULL, 10) == (long)getpid() && strtol(lfds, NULL, 10) >= 1) {
        /* J3: a supervisor handed us the listening socket (sd_listen_fds: from fd 3) */
        listen_fd = 3;
        fcntl(listen_fd, F_SETFD, FD_CLOEXEC);
        fcntl(listen_fd, F_SETFL, fcntl(listen_fd, F_GETFL) | O_NONBLOCK);
        unsetenv("LISTEN_PID");
        unsetenv("LISTEN_FDS");
        unsetenv("LISTEN_FDNAMES");
        listen_owned = false;
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        listen_path[0] = 0;
        if (getsockname(listen_fd, (struct sockaddr *)&ss, &sl) == 0 && ss.ss_family == AF_UNIX) {
            const char *sp = ((struct sockaddr_un *)&ss)->sun_path;
            size_t sn = strnlen(sp, sizeof listen_path - 1);
            memcpy(listen_path, sp, sn);
            listen_path[sn] = 0;
        }
    } else {
        char dir[96];
        int e = amrt__tp_rundir(dir, sizeof dir);
        if (e) {
            hr = e == -EACCES ? E_ACCESSDENIED : E_FAIL;
            goto done;
        }
        int pl = snprintf(listen_path, sizeof listen_path, "%s/server-%d.sock", dir, (int)getpid());
        listen_fd = pl < 0 || (size_t)pl >= sizeof listen_path ? -ENAMETOOLONG : amrt__tp_listen(listen_path);
        if (listen_fd < 0) {
            listen_fd = -1;
            hr = E_FAIL;
            goto done;
        }
        listen_owned = true;
    }
    struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT, .data.ptr = (void *)&listen_tag };
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, listen_fd, &ev) != 0) {
        close(listen_fd);
        listen_fd = -1;
        hr = E_FAIL;
    }
done:
    if (SUCCEEDED(hr))
        snprintf(path, len, "%s", listen_path);
    amrt__mutex_unlock(&io_lock);
    return hr;
}

/* The last CoUninitialize: stop listening, end every connection (calls
 * in flight fail, J10; the peers' calls here are canceled, J11), wait a
 * bounded time for the calls running here, stop the I/O thread. */
void amrt__conn_shutdown(void)
{
    amrt__conn_hold_flush();            /* requests made before it reach their servers */
    amrt__mutex_lock(&io_lock);
    if (!io_running) {
        amrt__mutex_unlock(&io_lock);
        return;
    }
    if (listen_fd >= 0) {
        epoll_ctl(epfd, EPOLL_CTL_DEL, listen_fd, NULL);
        close(listen_fd);
        if (listen_owned)
            unlink(listen_path);
        listen_fd = -1;
    }
    io_stopping = true;
    uint64_t one = 1;
    if (write(wakefd, &one, sizeof one) < 0) { /* the threads still stop at their next event */ }
    amrt__cond_broadcast(&standby_cond);
    /* every thread out of the events (those in calls will not come back) */
    while (nevent > 0)
        amrt__cond_wait(&io_cond, &io_lock);
    /* every connection goes */
    for (;;) {
        AmrtConn *c = conns;
        if (!c)
            break;
        amrt__mutex_unlock(&io_lock);
        conn_fail(c);
        amrt__mutex_lock(&io_lock);
    }
    struct timespec deadline;
    amrt__deadline(&deadline, 2000);
    while (incalls_running > 0 && amrt__ms_left(&deadline) > 0) {
        amrt__mutex_unlock(&io_lock);
        nanosleep(&(struct timespec){ 0, 5000000 }, NULL);
        amrt__mutex_lock(&io_lock);
    }
    close(epfd);
    close(wakefd);
    epfd = wakefd = -1;
    io_running = false;
    io_gen++;                           /* threads of calls that outlived the wait end */
    while (records) {
        AmrtInCall *ic = records;
        records = ic->qnext;
        amrt__msg_free(&ic->msg);
        amrt__free(ic);
    }
    nrecords = 0;
    amrt__mutex_unlock(&io_lock);
}
