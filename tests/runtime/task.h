/*
 * task.h - a small test harness for the runtime tests (after libuv's
 * test/task.h and runner.c): each TEST runs in its own process with a
 * time limit, so a crash or a deadlock fails that test instead of the
 * suite. Prints "ok NAME" or "FAIL NAME: why" per test, then
 * "N passed, N failed".
 */
#ifndef AMRT_TASK_H
#define AMRT_TASK_H

#define COBJMACROS
#include "amidlrt.h"
#include "amidlrt_test.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef void (*test_fn)(void);
typedef struct { const char *name; test_fn fn; } test_entry;

#define TEST(name) static void test_##name(void)
#define ENTRY(name) { #name, test_##name }

#define ASSERT(cond) do { if (!(cond)) { \
        fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #cond); exit(1); } } while (0)
#define ASSERT_HR(expect, expr) do { HRESULT hr_ = (expr); if (hr_ != (HRESULT)(expect)) { \
        fprintf(stderr, "%s:%d: %s returned 0x%08x, expected %s (0x%08x)\n", __FILE__, __LINE__, #expr, \
                (unsigned)hr_, #expect, (unsigned)(HRESULT)(expect)); exit(1); } } while (0)
#define ASSERT_EQ(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); if (a_ != b_) { \
        fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", __FILE__, __LINE__, #a, a_, #b, b_); exit(1); } } while (0)

static inline double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static inline void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* Poll *flag every millisecond for up to ms; whether it became non-zero. */
static inline bool wait_flag(atomic_int *flag, int ms)
{
    for (int i = 0; i < ms && !atomic_load(flag); i++)
        sleep_ms(1);
    return atomic_load(flag) != 0;
}

static inline int run_tests(const test_entry *tests, int n, int argc, char **argv)
{
    int passed = 0, failed = 0;
    for (int i = 0; i < n; i++) {
        if (argc > 1 && !strstr(tests[i].name, argv[1]))
            continue;
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            const char *lim = getenv("AMRT_TEST_TIMEOUT");
            alarm(lim && atoi(lim) > 0 ? (unsigned)atoi(lim) : 20);   /* a deadlock fails the test */
            tests[i].fn();
            exit(0);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
            printf("ok %s\n", tests[i].name);
            passed++;
        } else {
            printf("FAIL %s: %s %d\n", tests[i].name, WIFSIGNALED(status) ? "signal" : "exit status",
                   WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
            failed++;
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

#define RUN_TESTS(...) int main(int argc, char **argv) { \
        static const test_entry tests[] = { __VA_ARGS__ }; \
        return run_tests(tests, (int)(sizeof tests / sizeof tests[0]), argc, argv); }

#endif
