/*
 * sock.c - the floor: a hand-written blocking request/reply over a UNIX
 * stream socket. A request is two int32 (8 bytes), a reply one (4 bytes).
 * The server reads whatever has arrived, answers every whole request in
 * it with one write; the pipelined client keeps 64 requests unanswered.
 * One executable: "sock server PATH" or "sock client PATH".
 */
#include "harness.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int fd = -1;

static int write_all(int s, const void *p, size_t n)
{
    const char *b = p;
    while (n) {
        ssize_t w = write(s, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

static int read_all(int s, void *p, size_t n)
{
    char *b = p;
    while (n) {
        ssize_t r = read(s, b, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        b += r;
        n -= (size_t)r;
    }
    return 0;
}

static void serve(int c)
{
    int32_t in[2 * 1024], out[1024];
    size_t have = 0;
    for (;;) {
        ssize_t r = read(c, (char *)in + have, sizeof in - have);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        have += (size_t)r;
        size_t k = have / 8;
        for (size_t i = 0; i < k; i++)
            out[i] = in[2 * i] + in[2 * i + 1];
        if (write_all(c, out, k * 4) < 0)
            break;
        memmove(in, (char *)in + k * 8, have - k * 8);
        have -= k * 8;
    }
    close(c);
}

static int c_connect(const char *path)
{
    fd = oop_connect(path);
    return fd < 0 ? -1 : 0;
}

static int c_rt(long n)
{
    for (long i = 0; i < n; i++) {
        int32_t req[2] = { (int32_t)i, 1 }, r;
        if (write_all(fd, req, 8) < 0 || read_all(fd, &r, 4) < 0)
            return oop_error("socket: %s", strerror(errno));
        if (oop_check(req[0], 1, r) < 0)
            return -1;
    }
    return 0;
}

/* depth requests out, then one more for every reply read */
static int c_pipe(long n, int depth)
{
    long sent = 0, got = 0;
    while (got < n) {
        int32_t req[2 * OOP_DEPTH];
        int k = 0;
        while (sent < n && sent - got < depth) {
            req[2 * k] = (int32_t)sent;
            req[2 * k + 1] = 1;
            k++, sent++;
        }
        if (k && write_all(fd, req, (size_t)k * 8) < 0)
            return oop_error("socket: %s", strerror(errno));
        int32_t rep[OOP_DEPTH];
        ssize_t r = read(fd, rep, (size_t)(sent - got) * 4 & ~(size_t)3);
        if (r < 4 || r % 4) {       /* a reply split across reads: finish it */
            if (r <= 0 || read_all(fd, (char *)rep + r, 4 - (size_t)(r % 4)) < 0)
                return oop_error("socket: %s", r == 0 ? "closed" : strerror(errno));
            r += 4 - r % 4;
        }
        for (ssize_t i = 0; i < r / 4; i++, got++)
            if (oop_check((int)got, 1, rep[i]) < 0)
                return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "server")) {
        int l = oop_listen(argv[2]);
        oop_server_ready();
        for (;;) {
            int c = accept(l, NULL, NULL);
            if (c >= 0)
                serve(c);
        }
    }
    static const OopClient ops = { c_connect, c_rt, c_pipe, NULL };
    if (argc == 3 && !strcmp(argv[1], "client"))
        return oop_client_main(argc - 1, argv + 1, &ops);
    oop_die("usage: %s server|client PATH", argv[0]);
}
