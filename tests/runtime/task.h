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

/* The time limit of one test in seconds: AMRT_TEST_TIMEOUT (default 20)
 * times AMIDL_TEST_TIMEOUT_MULTIPLIER (default 1; the valgrind and
 * sanitizer suites raise it, as libuv's UV_TEST_TIMEOUT_MULTIPLIER). */
static inline unsigned test_timeout(void)
{
    const char *lim = getenv("AMRT_TEST_TIMEOUT"), *mul = getenv("AMIDL_TEST_TIMEOUT_MULTIPLIER");
    unsigned s = lim && atoi(lim) > 0 ? (unsigned)atoi(lim) : 20;
    return s * (mul && atoi(mul) > 0 ? (unsigned)atoi(mul) : 1);
}

/* Copy what a test wrote (its file f) to stdout, each line indented by
 * four spaces: the suite convention of tests/suites/README.md. */
static inline void print_indented(FILE *f)
{
    char line[4096];
    bool start = true;
    rewind(f);
    while (fgets(line, sizeof line, f)) {
        printf("%s%s", start ? "    " : "", line);
        start = strchr(line, '\n') != NULL;
    }
    if (!start)
        printf("\n");
}

/* Each test in its own process, its stdout and stderr caught in a file;
 * "ok NAME" or "FAIL NAME: cause" (exit status, signal, time limit), then
 * the test's own output indented; last "N passed, N failed". */
static inline int run_tests(const test_entry *tests, int n, int argc, char **argv)
{
    int passed = 0, failed = 0;
    unsigned limit = test_timeout();
    for (int i = 0; i < n; i++) {
        if (argc > 1 && !strstr(tests[i].name, argv[1]))
            continue;
        FILE *out = tmpfile();
        if (!out) {
            printf("FAIL %s: cannot create a file for its output\n", tests[i].name);
            failed++;
            continue;
        }
        fflush(stdout);
        fflush(stderr);
        pid_t pid = fork();
        if (pid == 0) {
            dup2(fileno(out), 1);
            dup2(fileno(out), 2);
            setvbuf(stdout, NULL, _IOLBF, 0);
            alarm(limit);                   /* a deadlock fails the test */
            tests[i].fn();
            fflush(NULL);
            exit(0);
        }
        int status = 0;
        if (pid < 0 || waitpid(pid, &status, 0) != pid) {
            printf("FAIL %s: cannot run it (fork or waitpid failed)\n", tests[i].name);
            failed++;
        } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
            printf("ok %s\n", tests[i].name);
            passed++;
        } else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) {
            printf("FAIL %s: timed out after %u s (SIGALRM; AMIDL_TEST_TIMEOUT_MULTIPLIER scales it)\n",
                   tests[i].name, limit);
            failed++;
        } else if (WIFSIGNALED(status)) {
            printf("FAIL %s: killed by signal %d (%s)\n", tests[i].name, WTERMSIG(status), strsignal(WTERMSIG(status)));
            failed++;
        } else {
            printf("FAIL %s: exit status %d\n", tests[i].name, WEXITSTATUS(status));
            failed++;
        }
        print_indented(out);
        fclose(out);
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

#define RUN_TESTS(...) int main(int argc, char **argv) { \
        static const test_entry tests[] = { __VA_ARGS__ }; \
        return run_tests(tests, (int)(sizeof tests / sizeof tests[0]), argc, argv); }

#endif
