/*
 * conn.c - connections between processes and the one I/O thread.
 *
 * A process has at most one I/O thread, started with its first
 * connection or its first published class. It waits on an epoll set
 * holding the listening socket (a server), every connection, and an
 * eventfd that wakes it for shutdown. It only reads: it assembles
 * messages, completes the call waiting for a reply (its id names it;
 * replies come in any order, J6; a call object's call is completed
 * here, with its reply decoded), and queues each incoming call for a
 * thread of its own (reused from call to call), so that a slow call
 * never delays another. Any thread
 * sends, one whole message at a time under the connection's send lock.
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
#include <semaphore.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum { K_CONN = 1, K_LISTEN, K_WAKE };

static pthread_mutex_t io_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t io_cond = PTHREAD_COND_INITIALIZER;
static int epfd = -1, wakefd = -1;
static pthread_t io_thread;
static bool io_running, io_stopping;
static AmrtConn *conns;                 /* every live connection (io_lock) */
static int listen_fd = -1;
static char listen_path[108];
static bool listen_owned;               /* we made the socket file (not LISTEN_FDS) */
static int incalls_running;             /* io_lock */
static const int listen_tag = K_LISTEN, wake_tag = K_WAKE;

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
    return c;
}

void amrt__conn_release(AmrtConn *c)
{
    if (atomic_fetch_sub(&c->refs, 1) != 1)
        return;
    amrt__tp_close(c->fd);
    for (int i = 0; i < c->nfdq; i++)
        close(c->fdq[i]);
    amrt__msg_free(&c->in);
    amrt__mutex_destroy(&c->send_lock);
    amrt__mutex_destroy(&c->lock);
    amrt__free(c);
}

int amrt__conn_send(AmrtConn *c, amrt__wire_buf *b)
{
    if (atomic_load(&c->dead))
        return -EPIPE;
    int fds[AMRT__WIRE_MAX_FDS];
    unsigned n = 0;
    for (unsigned i = 0; i < b->nfds && n < AMRT__WIRE_MAX_FDS; i++)
        if (b->fds[i] >= 0)
            fds[n++] = b->fds[i];
    amrt__mutex_lock(&c->send_lock);
    int rc = amrt__tp_send(c->fd, b->data, b->len, NULL, 0, fds, (int)n);
    if (rc != 0 && !atomic_exchange(&c->broken, true))
        shutdown(c->fd, SHUT_RDWR);     /* part of a message may have gone: nothing after it can be read */
    amrt__mutex_unlock(&c->send_lock);
    return rc;
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
    if (amrt__spin_until(pending_ready, p))
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

/* The connection is over (on the I/O thread, or at shutdown with the I/O
 * thread stopped): fail what waits on it, cancel what runs for it, let go
 * of what the peer held. */
static void conn_fail(AmrtConn *c)
{
    if (atomic_exchange(&c->dead, true))
        return;
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
    for (AmrtInCall *ic = c->incalls; ic; ic = ic->next)
        atomic_store(&ic->canceled, true);
    amrt__mutex_unlock(&c->lock);
    for (AmrtPending *p = async, *next; p; p = next) {
        next = p->next;                 /* complete may free p */
        p->complete(p, NULL, RPC_E_SERVER_DIED);
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

/* ==================================================================== incoming calls */

/* Threads for incoming calls. The I/O thread queues each call; a thread
 * takes it, and every call runs on a thread of its own, so that a slow
 * call never delays another: whenever calls wait in the queue, some thread
 * is on its way to take one (a "searching" thread: woken from the idle
 * ones, or created), and a thread that takes a call while others wait
 * makes sure of that for the rest before it runs its own. A thread whose
 * call is done takes the next waiting one, or waits (up to IDLE_MS, at
 * most IDLE_MAX of them) for the next call instead of ending. A burst of
 * calls (a client's pipelined ones) thus wakes a few threads, not one per
 * call, and a stream of calls creates no thread per call. */
typedef struct Idle {
    sem_t sem;                  /* posted once the thread is off the idle list: go */
    bool quit;                  /* shutdown: end now (set before the post) */
    struct Idle *next;
} Idle;

enum { IDLE_MS = 10000, IDLE_MAX = 64 };
static Idle *idle_threads;              /* io_lock, what follows too */
static int nidle;
static int nsearching;                  /* threads on their way to the queue */
static AmrtInCall *queue_head, *queue_tail;

static void *incall_thread(void *arg);

static void incall_run(AmrtInCall *ic)
{
    AmrtConn *c = ic->conn;
    amrt__dispatch(c, ic);
    amrt__mutex_lock(&c->lock);
    for (AmrtInCall **pp = &c->incalls; *pp; pp = &(*pp)->next)
        if (*pp == ic) {
            *pp = ic->next;
            break;
        }
    amrt__mutex_unlock(&c->lock);
    amrt__active_end(c);
    amrt__conn_release(c);
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

/* Calls wait and no thread is on its way: wake or create one (io_lock
 * held). An idle thread taken off the list goes to *post: post its
 * semaphore after unlocking (a thread woken under the lock would only
 * wait for it). False when no thread could be had. */
static bool want_thread(Idle **post)
{
    *post = NULL;
    if (!queue_head || nsearching > 0)
        return true;
    Idle *t = idle_threads;
    if (t) {
        idle_threads = t->next;
        nidle--;
        nsearching++;
        *post = t;                      /* it does not end before the post: see incall_thread */
        return true;
    }
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    pthread_t th;
    bool ok = pthread_create(&th, &a, incall_thread, NULL) == 0;
    pthread_attr_destroy(&a);
    if (ok)
        nsearching++;
    return ok;
}

static void *incall_thread(void *arg)
{
    (void)arg;
    Idle me;
    bool can_idle = sem_init(&me.sem, 0, 0) == 0;
    amrt__wire_buf out;                 /* this thread's replies are encoded here */
    amrt__wire_buf_init(&out);
    amrt__mutex_lock(&io_lock);
    for (;;) {
        /* searching (counted in nsearching) */
        AmrtInCall *ic = queue_head;
        if (ic) {
            queue_head = ic->qnext;
            if (!queue_head)
                queue_tail = NULL;
            nsearching--;
            Idle *post;
            want_thread(&post);         /* for the calls still waiting */
            amrt__mutex_unlock(&io_lock);
            if (post)
                sem_post(&post->sem);
            ic->out = &out;
            incall_run(ic);
            if (out.cap > 4096)
                amrt__wire_buf_fini(&out);      /* keep a small one only */
            amrt__mutex_lock(&io_lock);
            record_put(ic);
            if (--incalls_running == 0)
                amrt__cond_broadcast(&io_cond);
            nsearching++;
            continue;
        }
        nsearching--;
        if (!can_idle || io_stopping || nidle >= IDLE_MAX)
            break;
        me.quit = false;
        me.next = idle_threads;
        idle_threads = &me;
        nidle++;
        amrt__mutex_unlock(&io_lock);
        struct timespec deadline;
        clock_gettime(CLOCK_REALTIME, &deadline);       /* sem_timedwait's clock */
        deadline.tv_sec += IDLE_MS / 1000;
        int r;
        do
            r = sem_timedwait(&me.sem, &deadline);
        while (r != 0 && errno == EINTR);
        amrt__mutex_lock(&io_lock);
        if (r != 0) {
            /* timed out: end, unless a waker took us off the list meanwhile
             * (then its post comes: wait for it, we are searching) */
            bool listed = false;
            for (Idle **pp = &idle_threads; *pp; pp = &(*pp)->next)
                if (*pp == &me) {
                    *pp = me.next;
                    nidle--;
                    listed = true;
                    break;
                }
            if (listed)
                break;
            amrt__mutex_unlock(&io_lock);
            while (sem_wait(&me.sem) != 0 && errno == EINTR)
                ;
            amrt__mutex_lock(&io_lock);
        }
        if (me.quit)
            break;
        /* want_thread took us off the list and counted us searching */
    }
    amrt__mutex_unlock(&io_lock);
    if (can_idle)
        sem_destroy(&me.sem);
    amrt__wire_buf_fini(&out);
    return NULL;
}

/* shutdown: the idle threads end (io_lock held) */
static void idle_quit(void)
{
    for (Idle *t = idle_threads, *next; t; t = next) {
        next = t->next;                 /* read before the post: the thread may end at once */
        t->quit = true;
        sem_post(&t->sem);
    }
    idle_threads = NULL;
    nidle = 0;
}

static void start_incall(AmrtConn *c, AmrtMsg *m)
{
    amrt__mutex_lock(&io_lock);
    AmrtInCall *ic = records;
    if (ic) {
        records = ic->qnext;
        nrecords--;
    }
    amrt__mutex_unlock(&io_lock);
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
    c->incalls = ic;
    c->active++;                        /* before the I/O thread reads the peer's next message */
    amrt__mutex_unlock(&c->lock);
    amrt__mutex_lock(&io_lock);
    incalls_running++;
    ic->qnext = NULL;
    if (queue_tail)
        queue_tail->qnext = ic;
    else
        queue_head = ic;
    queue_tail = ic;
    Idle *post;
    bool ok = want_thread(&post);
    if (!ok) {
        /* no thread will take it (none runs, none could be made): take it back */
        AmrtInCall **pp = &queue_head, *prev = NULL;
        while (*pp && *pp != ic) {
            prev = *pp;
            pp = &(*pp)->qnext;
        }
        if (*pp) {
            *pp = ic->qnext;
            if (queue_tail == ic)
                queue_tail = prev;
        } else {
            ok = true;                  /* taken meanwhile */
        }
    }
    amrt__mutex_unlock(&io_lock);
    if (post)
        sem_post(&post->sem);
    if (ok)
        return;
    amrt__wire_header h = head_of(ic->msg.h.type == M_CALL ? M_REPLY : ic->msg.h.type + 1, ic->msg.h.call_id,
                                  E_OUTOFMEMORY, 0);
    amrt__conn_send_small(c, &h, NULL, 0);
    ic->msg.h.type = 0;                 /* nothing to run */
    incall_run(ic);
    amrt__mutex_lock(&io_lock);
    record_put(ic);
    if (--incalls_running == 0)
        amrt__cond_broadcast(&io_cond);
    amrt__mutex_unlock(&io_lock);
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
            *pp = p->next;
            amrt__mutex_unlock(&c->lock);
            p->complete(p, m, m->h.type == M_REPLY ? S_OK : HRESULT_FROM_WIN32(RPC_X_BAD_STUB_DATA));
            return true;
        }
        if (p)
            *pp = p->next;
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
                atomic_store(&ic->canceled, true);
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

/* Read what is there; false: the connection is over. */
static bool conn_read(AmrtConn *c)
{
    static unsigned char buf[65536];    /* the I/O thread's */
    for (;;) {
        int fds[16], nfds = 0;
        ssize_t n = amrt__tp_recv(c->fd, buf, sizeof buf, fds, &nfds, 16);
        /* Descriptors come with the first bytes of their message, which
         * may follow the end of the previous one in the same read: they
         * wait here until their message's header says how many are its. */
        for (int i = 0; i < nfds; i++) {
            if (c->nfdq == (int)(sizeof c->fdq / sizeof c->fdq[0])) {
                for (; i < nfds; i++)
                    close(fds[i]);
                return false;           /* more than any message may carry (J13) */
            }
            c->fdq[c->nfdq++] = fds[i];
        }
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
            AmrtMsg m = c->in;
            amrt__msg_init(&c->in);
            c->got = 0;
            c->have_head = false;
            if (!conn_message(c, &m)) {
                amrt__msg_free(&m);
                return false;
            }
            if (m.buf.data) {
                /* a message left to us (a call object's reply): its
                 * storage receives the next one (no allocation per call) */
                if (!c->in.buf.data && m.buf.cap <= RECYCLE_MAX) {
                    amrt__wire_buf_reset(&m.buf);
                    c->in.buf = m.buf;
                } else {
                    amrt__msg_free(&m);
                }
            }
        }
        /* A short read took all there was: the set is level-triggered, so
         * what comes later wakes us again (no read just to see EAGAIN). */
        if ((size_t)n < sizeof buf)
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
        amrt__mutex_lock(&io_lock);
        c->next = conns;
        conns = c;
        amrt__mutex_unlock(&io_lock);
        struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.ptr = c };
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
            conn_fail(c);
    }
}

static void *io_main(void *arg)
{
    (void)arg;
    for (;;) {
        struct epoll_event evs[32];
        int n = epoll_wait(epfd, evs, 32, -1);
        if (n < 0 && errno != EINTR)
            break;
        bool stop = false;
        for (int i = 0; i < n; i++) {
            int kind = *(int *)evs[i].data.ptr;
            if (kind == K_WAKE) {
                uint64_t v;
                if (read(wakefd, &v, sizeof v) < 0) { /* nothing */ }
                amrt__mutex_lock(&io_lock);
                stop = io_stopping;
                amrt__mutex_unlock(&io_lock);
            } else if (kind == K_LISTEN) {
                accept_all();
            } else {
                AmrtConn *c = evs[i].data.ptr;
                if (!atomic_load(&c->dead) && !conn_read(c))
                    conn_fail(c);
            }
        }
        if (stop)
            break;
    }
    /* shutdown: every connection goes */
    for (;;) {
        amrt__mutex_lock(&io_lock);
        AmrtConn *c = conns;
        amrt__mutex_unlock(&io_lock);
        if (!c)
            break;
        conn_fail(c);
    }
    return NULL;
}

/* start the I/O thread (io_lock held) */
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
    if (pthread_create(&io_thread, NULL, io_main, NULL) != 0)
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

static HRESULT handshake(int fd)
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
    return v == AMRT_PROTO_VERSION ? S_OK : RPC_E_VERSION_MISMATCH;
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
    HRESULT hr = handshake(fd);
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
    amrt__mutex_lock(&io_lock);
    hr = io_start();
    if (SUCCEEDED(hr)) {
        c->next = conns;
        conns = c;
        atomic_fetch_add(&c->refs, 1);  /* the caller's */
        struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.ptr = c };
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

HRESULT amrt__conn_call(AmrtConn *c, amrt__wire_buf *b, AmrtMsg *reply, bool cancel_poll)
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
    p.next = c->pending;
    c->pending = &p;
    amrt__mutex_unlock(&c->lock);
    /* the call id goes into the sealed header: offset of call_id (docs/wire.md) */
    amrt__wire_header h;
    bool sealed = SUCCEEDED(amrt__wire_header_get(b->data, &h));
    if (sealed) {
        h.call_id = p.id;
        amrt__wire_header_put(b->data, &h);
    }
    if (!sealed || amrt__conn_send(c, b) != 0) {
        bool ours = false;
        amrt__mutex_lock(&c->lock);
        for (AmrtPending **pp = &c->pending; *pp; pp = &(*pp)->next)
            if (*pp == &p) {
                *pp = p.next;
                ours = true;
                break;
            }
        amrt__mutex_unlock(&c->lock);
        if (!ours)
            pending_wait(&p, -1);       /* the connection's end took it: let it finish with p */
        return RPC_E_SERVER_DIED_DNE;   /* it did not reach the server */
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
    if (p.fail)
        return p.fail;
    *reply = p.reply;
    return S_OK;
}

HRESULT amrt__conn_call_async(AmrtConn *c, amrt__wire_buf *b, AmrtPending *p, unsigned gen)
{
    amrt__mutex_lock(&c->lock);
    if (atomic_load(&c->dead)) {
        amrt__mutex_unlock(&c->lock);
        return RPC_E_DISCONNECTED;      /* J10: at once */
    }
    p->id = ++c->next_id;
    p->done = false;
    p->fail = S_OK;
    p->next = c->pending;
    c->pending = p;
    p->gen = gen;
    /* canceled between the call's start and now: nobody could send
     * M_CANCEL (no id yet); it follows the request */
    bool cancel = p->cancel_gen == gen;
    p->cancel_gen = gen - 1;
    uint64_t id = p->id;
    amrt__mutex_unlock(&c->lock);
    amrt__wire_header h;
    bool sealed = SUCCEEDED(amrt__wire_header_get(b->data, &h));
    if (sealed) {
        h.call_id = id;
        amrt__wire_header_put(b->data, &h);
    }
    if (sealed && amrt__conn_send(c, b) == 0) {
        /* p may be completed (and freed) already: only c and id from here
         * on; a server ignores M_CANCEL for a call it has finished */
        if (cancel) {
            amrt__wire_header ch = head_of(M_CANCEL, id, S_OK, 0);
            amrt__conn_send_small(c, &ch, NULL, 0);
        }
        return S_OK;
    }
    bool ours = false;
    amrt__mutex_lock(&c->lock);
    for (AmrtPending **pp = &c->pending; *pp; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            ours = true;
            break;
        }
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
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = (void *)&listen_tag };
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
    idle_quit();
    uint64_t one = 1;
    if (write(wakefd, &one, sizeof one) < 0) { /* the thread still stops at its next event */ }
    amrt__mutex_unlock(&io_lock);
    amrt__thread_join(io_thread);
    amrt__mutex_lock(&io_lock);
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
    while (records) {
        AmrtInCall *ic = records;
        records = ic->qnext;
        amrt__msg_free(&ic->msg);
        amrt__free(ic);
    }
    nrecords = 0;
    amrt__mutex_unlock(&io_lock);
}
