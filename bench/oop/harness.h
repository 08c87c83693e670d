/*
 * harness.h - the part every cross-process contender shares: a client
 * and a server process, driven by bench/oop/oop.py over their stdin and
 * stdout, one command a line.
 *
 * Client (argv[1] the socket path): connects, prints "ready" (or "error
 * MSG"), then answers
 *   rt N        N round trips, one call at a time
 *   pipe N      N calls, 64 in flight
 *   allocs N    heap allocations per call (contenders that can count them):
 *               "ok RUNTIME MALLOC", each per call
 *   rss         its peak resident set (VmHWM)
 * with "ok SECONDS CPU_SECONDS" (the wall and CPU time of the N calls in
 * this process), "ok VALUE" or "error MSG". End of input ends it.
 *
 * Server (argv[1] the socket path): listens, calls oop_server_ready(),
 * serves; a thread of the harness then answers "cpu" (this process's CPU
 * time so far), "rss" and "count" (see oop_server_counter) on stdin; end
 * of input ends the process.
 *
 * The job of every contender: Add(a, b) returns a + b, two 32-bit ints in,
 * one out; the client checks every result with oop_check.
 */
#ifndef OOP_HARNESS_H
#define OOP_HARNESS_H

#ifdef __cplusplus
extern "C" {
#endif

#define OOP_DEPTH 64

typedef struct OopClient {
    int (*connect)(const char *path);       /* 0, or -1 after oop_error */
    int (*rt)(long n);                      /* n round trips */
    int (*pipe)(long n, int depth);         /* n calls, depth in flight */
    /* heap allocations per call over n calls: counted by the runtime and by
     * malloc in this process; NULL: cannot count */
    int (*allocs)(long n, double *runtime, double *mallocs);
} OopClient;

int oop_client_main(int argc, char **argv, const OopClient *c);
void oop_server_ready(void);
/* a server's count of heap allocations so far, answered to "count" */
void oop_server_counter(long (*count)(void));
int oop_listen(const char *path);           /* a listening UNIX socket, or exits */
int oop_connect(const char *path);          /* a connected UNIX socket, or -1 */
int oop_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* -1 (after oop_error) unless r == a + b */
int oop_check(int a, int b, int r);
void oop_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#ifdef __cplusplus
}
#endif
#endif
