/* harness.c - see harness.h. */
#include "harness.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static char errmsg[256];

int oop_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errmsg, sizeof errmsg, fmt, ap);
    va_end(ap);
    for (char *p = errmsg; *p; p++)
        if (*p == '\n')
            *p = ' ';
    return -1;
}

void oop_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("error ", stdout);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
    _exit(1);
}

int oop_check(int a, int b, int r)
{
    if (r != a + b)
        return oop_error("wrong result: %d + %d gave %d", a, b, r);
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* this process's CPU time, every thread, user + system */
static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* peak RSS of this process's own address space in KiB: VmHWM, not
 * ru_maxrss, which keeps the parent's peak across fork + exec */
static long hwm_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

static void reply(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void reply(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

int oop_listen(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof sa.sun_path)
        oop_die("socket path too long: %s", path);
    strcpy(sa.sun_path, path);
    unlink(path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 16) < 0)
        oop_die("listen on %s: %s", path, strerror(errno));
    return fd;
}

int oop_connect(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof sa.sun_path)
        return oop_error("socket path too long: %s", path);
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return oop_error("socket: %s", strerror(errno));
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        oop_error("connect to %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static long (*server_count)(void);

void oop_server_counter(long (*count)(void))
{
    server_count = count;
}

static void *control(void *arg)
{
    (void)arg;
    char line[64];
    reply("ready");
    while (fgets(line, sizeof line, stdin)) {
        if (!strncmp(line, "cpu", 3))
            reply("ok %.6f", cpu_s());
        else if (!strncmp(line, "rss", 3))
            reply("ok %ld", hwm_kb());
        else if (!strncmp(line, "count", 5) && server_count)
            reply("ok %ld", server_count());
        else
            reply("error unknown command");
    }
    _exit(0);
}

void oop_server_ready(void)
{
    pthread_t t;
    signal(SIGPIPE, SIG_IGN);
    if (pthread_create(&t, NULL, control, NULL))
        oop_die("pthread_create");
    pthread_detach(t);
}

int oop_client_main(int argc, char **argv, const OopClient *c)
{
    char line[64];
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2)
        oop_die("usage: %s SOCKET", argv[0]);
    if (c->connect(argv[1]) < 0)
        oop_die("%s", errmsg);
    reply("ready");
    while (fgets(line, sizeof line, stdin)) {
        long n = 0;
        char cmd[16];
        if (sscanf(line, "%15s %ld", cmd, &n) < 1)
            continue;
        if (!strcmp(cmd, "rss")) {
            reply("ok %ld", hwm_kb());
            continue;
        }
        if (n < 1 || n > 100000000) {
            reply("error bad count");
            continue;
        }
        if (!strcmp(cmd, "allocs")) {
            double rt, m;
            if (!c->allocs)
                reply("error cannot count allocations");
            else if (c->allocs(n, &rt, &m) < 0)
                reply("error %s", errmsg);
            else
                reply("ok %.4f %.4f", rt, m);
            continue;
        }
        int pipe = !strcmp(cmd, "pipe");
        if (!pipe && strcmp(cmd, "rt")) {
            reply("error unknown command");
            continue;
        }
        double t0 = now_s(), c0 = cpu_s();
        int rc = pipe ? c->pipe(n, OOP_DEPTH) : c->rt(n);
        double t1 = now_s(), c1 = cpu_s();
        if (rc < 0)
            reply("error %s", errmsg);
        else
            reply("ok %.6f %.6f", t1 - t0, c1 - c0);
    }
    return 0;
}
