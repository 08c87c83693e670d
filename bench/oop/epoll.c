/*
 * epoll.c - the realistic floor for an asynchronous runtime: a hand-written
 * epoll server, and a client with one I/O thread that completes calls.
 *
 * A request is {id, a, b}, a reply {id, r}, each field 32 bits. A caller
 * thread marks its call slot pending, sends the request itself (one send
 * per call, under a mutex) and waits on the slot's state word with a
 * futex; the client's I/O thread sleeps in epoll_wait, reads the replies
 * and completes each slot with one atomic exchange, waking the caller only
 * if it sleeps. The pipelined client keeps 64 slots in flight, like 64
 * call objects. The server: one thread, epoll, nonblocking sockets, every
 * whole request read answered in one write per read.
 * One executable: "epoll server PATH" or "epoll client PATH".
 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

enum { PENDING = 1, SLEEPING = 2, DONE = 3 };

typedef struct Slot {
    _Atomic int state;
    int32_t a, b, r;
} Slot;

static Slot slots[OOP_DEPTH];
static int fd = -1;
static pthread_mutex_t send_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int io_failed;

static long futex(_Atomic int *w, int op, int val)
{
    return syscall(SYS_futex, w, op, val, NULL, NULL, 0);
}

/* ---------------------------------------------------------------- server */

typedef struct Conn {
    int fd;
    uint8_t in[16 * 1024];
    size_t have;
    uint8_t out[16 * 1024];
    size_t out_len;
} Conn;

static void conn_close(int ep, Conn *c)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c);
}

/* 0, or -1 when the connection is gone */
static int conn_flush(int ep, Conn *c)
{
    size_t off = 0;
    while (off < c->out_len) {
        ssize_t w = send(c->fd, c->out + off, c->out_len - off, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN)
            break;
        if (w <= 0)
            return -1;
        off += (size_t)w;
    }
    memmove(c->out, c->out + off, c->out_len - off);
    c->out_len -= off;
    struct epoll_event ev = { .events = EPOLLIN | (c->out_len ? EPOLLOUT : 0), .data.ptr = c };
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
    return 0;
}

static int conn_read(int ep, Conn *c)
{
    for (;;) {
        /* leave room for the replies of what is read */
        size_t room = sizeof c->in - c->have;
        size_t out_room = (sizeof c->out - c->out_len) / 8 * 12;
        if (out_room < room)
            room = out_room;
        if (room < 12)
            return conn_flush(ep, c);
        ssize_t r = recv(c->fd, c->in + c->have, room, MSG_DONTWAIT);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && errno == EAGAIN)
            return 0;
        if (r <= 0)
            return -1;
        c->have += (size_t)r;
        size_t k = c->have / 12;
        for (size_t i = 0; i < k; i++) {
            int32_t m[3];
            memcpy(m, c->in + 12 * i, 12);
            int32_t rep[2] = { m[0], m[1] + m[2] };
            memcpy(c->out + c->out_len, rep, 8);
            c->out_len += 8;
        }
        memmove(c->in, c->in + 12 * k, c->have - 12 * k);
        c->have -= 12 * k;
        if (conn_flush(ep, c) < 0)
            return -1;
    }
}

static void server(const char *path)
{
    int l = oop_listen(path);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
    epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
    oop_server_ready();
    for (;;) {
        struct epoll_event evs[16];
        int n = epoll_wait(ep, evs, 16, -1);
        for (int i = 0; i < n; i++) {
            Conn *c = evs[i].data.ptr;
            if (!c) {
                int s = accept4(l, NULL, NULL, SOCK_CLOEXEC);
                if (s < 0)
                    continue;
                c = calloc(1, sizeof *c);
                if (!c)
                    oop_die("out of memory");
                c->fd = s;
                struct epoll_event e = { .events = EPOLLIN, .data.ptr = c };
                epoll_ctl(ep, EPOLL_CTL_ADD, s, &e);
                continue;
            }
            int rc = 0;
            if (evs[i].events & EPOLLOUT)
                rc = conn_flush(ep, c);
            if (rc == 0 && evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                rc = conn_read(ep, c);
            if (rc < 0)
                conn_close(ep, c);
        }
    }
}

/* ---------------------------------------------------------------- client */

static void complete(Slot *s, int32_t r)
{
    s->r = r;
    if (atomic_exchange_explicit(&s->state, DONE, memory_order_acq_rel) == SLEEPING)
        futex(&s->state, FUTEX_WAKE_PRIVATE, 1);
}

static void *io_thread(void *arg)
{
    (void)arg;
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = { .events = EPOLLIN };
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    uint8_t buf[8 * 1024];
    size_t have = 0;
    for (;;) {
        struct epoll_event e;
        if (epoll_wait(ep, &e, 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        ssize_t r;
        while ((r = recv(fd, buf + have, sizeof buf - have, MSG_DONTWAIT)) > 0) {
            have += (size_t)r;
            size_t k = have / 8;
            for (size_t i = 0; i < k; i++) {
                uint32_t m[2];
                memcpy(m, buf + 8 * i, 8);
                if (m[0] < OOP_DEPTH)
                    complete(&slots[m[0]], (int32_t)m[1]);
            }
            memmove(buf, buf + 8 * k, have - 8 * k);
            have -= 8 * k;
        }
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
            break;
    }
    /* the server is gone: fail every call in flight */
    atomic_store(&io_failed, 1);
    for (int i = 0; i < OOP_DEPTH; i++)
        if (atomic_load(&slots[i].state) != 0)
            complete(&slots[i], INT32_MIN);
    return NULL;
}

static int begin(int id, int32_t a, int32_t b)
{
    Slot *s = &slots[id];
    s->a = a, s->b = b;
    atomic_store_explicit(&s->state, PENDING, memory_order_relaxed);
    int32_t m[3] = { id, a, b };
    pthread_mutex_lock(&send_lock);
    ssize_t w = send(fd, m, 12, MSG_NOSIGNAL);
    pthread_mutex_unlock(&send_lock);
    if (w != 12 || atomic_load(&io_failed))
        return oop_error("send: %s", w < 0 ? strerror(errno) : "server gone");
    return 0;
}

static int finish(int id)
{
    Slot *s = &slots[id];
    int st = PENDING;
    while (atomic_load_explicit(&s->state, memory_order_acquire) != DONE) {
        if (atomic_compare_exchange_strong(&s->state, &st, SLEEPING) || st == SLEEPING)
            futex(&s->state, FUTEX_WAIT_PRIVATE, SLEEPING);
        st = PENDING;
    }
    atomic_store_explicit(&s->state, 0, memory_order_relaxed);
    return oop_check(s->a, s->b, s->r);
}

static int c_connect(const char *path)
{
    fd = oop_connect(path);
    if (fd < 0)
        return -1;
    pthread_t t;
    if (pthread_create(&t, NULL, io_thread, NULL))
        return oop_error("pthread_create");
    pthread_detach(t);
    return 0;
}

static int c_rt(long n)
{
    for (long i = 0; i < n; i++)
        if (begin(0, (int32_t)i, 1) < 0 || finish(0) < 0)
            return -1;
    return 0;
}

static int c_pipe(long n, int depth)
{
    for (int i = 0; i < depth && i < n; i++)
        if (begin(i, i, 1) < 0)
            return -1;
    for (long i = depth; i < n + depth; i++) {
        int id = (int)(i % depth);
        if (i - depth < n && finish(id) < 0)
            return -1;
        if (i < n && begin(id, (int32_t)i, 1) < 0)
            return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "server"))
        server(argv[2]);
    static const OopClient ops = { c_connect, c_rt, c_pipe, NULL };
    if (argc == 3 && !strcmp(argv[1], "client"))
        return oop_client_main(argc - 1, argv + 1, &ops);
    oop_die("usage: %s server|client PATH", argv[0]);
}
