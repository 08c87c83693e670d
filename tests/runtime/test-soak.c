/* test-soak.c - the runtime under a long, random, hostile workload
 * (issue #7). Runs for AMRT_SOAK_SECONDS (default 10; make test and CI: 60; `make soak`
 * 300) in rounds of a few seconds. Each round initializes COM, starts 8
 * client threads that pick random operations:
 *   Begin/Finish with exact results; Wait with short timeouts first;
 *   release without Finish_; Cancel; strings and arrays of random size in
 *   and out; a proxy of its own released while its call is in flight;
 *   synchronous calls through a shared proxy;
 * then every thread leaves one call pending and the round ends with
 * CoUninitialize while those calls run. Their Finish_ afterwards must
 * still give the exact result.
 * Checked: every result; every object back to zero (the servers count
 * themselves, `live`); no deadlock: a watchdog thread fails the test when
 * no operation completes for AMRT_SOAK_STALL seconds (default 30). */
#include "task.h"
#include "calltest.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "calc_server.h"

#define THREADS 8

static atomic_long errors, progress, ops_total, ops_by_kind[10];
static atomic_int stop_round, soak_done;
static ICalc *shared_proxy;

#define CHECKED(cond) do { if (!(cond)) { atomic_fetch_add(&errors, 1); \
        fprintf(stderr, "soak: %s:%d: %s\n", __FILE__, __LINE__, #cond); } } while (0)

static AsyncICalc *call_on(ICalc *px)
{
    AsyncICalc *c;
    calc_call(px, &c);
    return c;
}

typedef struct Client {
    pthread_t thread;
    unsigned seed;
    AsyncICalc *pending;        /* the call left running for CoUninitialize */
    LONG a, b;
    int slow;               /* which method it began */
} Client;

static void one_op(Client *cl, AsyncICalc **callp)
{
    AsyncICalc *call = *callp;
    int op = (int)(rand_r(&cl->seed) % 10);
    LONG a = (LONG)(rand_r(&cl->seed) % 100000), b = (LONG)(rand_r(&cl->seed) % 100000), sum = -1;
    switch (op) {
    case 0:                 /* begin / finish, reuse */
        CHECKED(AsyncICalc_Begin_Add(call, a, b) == S_OK);
        CHECKED(AsyncICalc_Finish_Add(call, &sum) == S_OK && sum == a + b);
        break;
    case 1: {               /* wait with timeouts first */
        ISynchronize *s;
        LONG c = -1;
        CHECKED(AsyncICalc_Begin_Slow(call, 2) == S_OK);
        CHECKED(AsyncICalc_QueryInterface(call, &IID_ISynchronize, (void **)&s) == S_OK);
        HRESULT hr;
        while ((hr = ISynchronize_Wait(s, 0, 1)) == RPC_E_TIMEOUT)
            ;
        CHECKED(hr == S_OK);
        ISynchronize_Release(s);
        CHECKED(AsyncICalc_Finish_Slow(call, &c) == S_OK && c == 0);
        break;
    }
    case 2:                 /* release without Finish_ */
        CHECKED(AsyncICalc_Begin_Concat(call, (LPCWSTR)u"left", (LPCWSTR)u" behind") == S_OK);
        AsyncICalc_Release(call);
        *callp = call_on(shared_proxy);
        CHECKED(*callp != NULL);
        break;
    case 3: {               /* cancel, at once or a little later */
        ICancelMethodCalls *cm;
        LONG c = -1;
        CHECKED(AsyncICalc_Begin_Slow(call, 1 + rand_r(&cl->seed) % 20) == S_OK);
        CHECKED(AsyncICalc_QueryInterface(call, &IID_ICancelMethodCalls, (void **)&cm) == S_OK);
        if (rand_r(&cl->seed) % 2) {
            struct timespec ts = { 0, (long)(rand_r(&cl->seed) % 5000000) };
            nanosleep(&ts, NULL);
        }
        HRESULT hr = ICancelMethodCalls_Cancel(cm, rand_r(&cl->seed) % 2);
        CHECKED(hr == S_OK || hr == RPC_E_CALL_COMPLETE);
        hr = AsyncICalc_Finish_Slow(call, &c);
        CHECKED((hr == RPC_E_CALL_CANCELED) || (hr == S_OK && c == 0));
        ICancelMethodCalls_Release(cm);
        break;
    }
    case 4: {               /* strings in and out */
        WCHAR x[40], y[40];
        int nx = (int)(rand_r(&cl->seed) % 39), ny = (int)(rand_r(&cl->seed) % 39);
        for (int i = 0; i < nx; i++) x[i] = (WCHAR)('a' + i % 26);
        for (int i = 0; i < ny; i++) y[i] = (WCHAR)('A' + i % 26);
        x[nx] = y[ny] = 0;
        LPWSTR r = NULL;
        CHECKED(AsyncICalc_Begin_Concat(call, x, y) == S_OK);
        x[0] = y[0] = '#';  /* Begin_ copied them */
        CHECKED(AsyncICalc_Finish_Concat(call, &r) == S_OK && r);
        if (r) {
            int okay = 1;
            for (int i = 0; i < nx; i++) okay &= r[i] == (WCHAR)('a' + i % 26);
            for (int i = 0; i < ny; i++) okay &= r[nx + i] == (WCHAR)('A' + i % 26);
            CHECKED(okay && r[nx + ny] == 0);
        }
        CoTaskMemFree(r);
        break;
    }
    case 5: {               /* an array of random size */
        ULONG n = rand_r(&cl->seed) % 4097, expect = 0, got = 0;
        BYTE *data = malloc(n ? n : 1);
        for (ULONG i = 0; i < n; i++) { data[i] = (BYTE)rand_r(&cl->seed); expect += data[i]; }
        CHECKED(AsyncICalc_Begin_Sum(call, n, data) == S_OK);
        free(data);         /* Begin_ copied it */
        CHECKED(AsyncICalc_Finish_Sum(call, &got) == S_OK && got == expect);
        break;
    }
    case 6: {               /* a proxy of its own, released while its call is in flight */
        ICalc *obj = new_calc(), *px = NULL;
        CHECKED(AmrtCreateProxy((IUnknown *)obj, &IID_ICalc, (void **)&px) == S_OK);
        ICalc_Release(obj);
        if (!px)
            break;
        AsyncICalc *mine = call_on(px);
        ICalc_Release(px);
        CHECKED(mine != NULL);
        if (!mine)
            break;
        CHECKED(AsyncICalc_Begin_Slow(mine, 1) == S_OK);
        if (rand_r(&cl->seed) % 2) {
            LONG c = -1;
            CHECKED(AsyncICalc_Finish_Slow(mine, &c) == S_OK && c == 0);
            CHECKED(AsyncICalc_Begin_Add(mine, a, b) == S_OK);
            CHECKED(AsyncICalc_Finish_Add(mine, &sum) == S_OK && sum == a + b);
        }
        AsyncICalc_Release(mine);   /* with or without Finish_ */
        break;
    }
    case 7:                 /* a synchronous call through the shared proxy */
        CHECKED(ICalc_Add(shared_proxy, a, b, &sum) == S_OK && sum == a + b);
        break;
    case 8: {               /* [in,out], interface out, error results */
        LONG v = a;
        IUnknown *o = NULL;
        CHECKED(AsyncICalc_Begin_Twice(call, &v) == S_OK);
        CHECKED(AsyncICalc_Finish_Twice(call, &v) == S_OK && v == 2 * a);
        CHECKED(AsyncICalc_Begin_Self(call) == S_OK);
        CHECKED(AsyncICalc_Finish_Self(call, &o) == S_OK && o);
        if (o) IUnknown_Release(o);
        CHECKED(AsyncICalc_Begin_Fail(call, E_ACCESSDENIED) == S_OK);
        CHECKED(AsyncICalc_Finish_Fail(call) == E_ACCESSDENIED);
        break;
    }
    case 9:                 /* protocol errors */
        CHECKED(AsyncICalc_Finish_Add(call, &sum) == RPC_E_CALL_COMPLETE);
        CHECKED(AsyncICalc_Begin_Slow(call, 1) == S_OK);
        CHECKED(AsyncICalc_Begin_Add(call, a, b) == RPC_E_CALL_PENDING);
        {
            LONG c = -1;
            CHECKED(AsyncICalc_Finish_Slow(call, &c) == S_OK && c == 0);
        }
        break;
    }
    atomic_fetch_add(&ops_by_kind[op], 1);
    atomic_fetch_add(&ops_total, 1);
    atomic_fetch_add(&progress, 1);
}

static void *client(void *arg)
{
    Client *cl = arg;
    AsyncICalc *call = call_on(shared_proxy);
    CHECKED(call != NULL);
    while (call && !atomic_load(&stop_round))
        one_op(cl, &call);
    /* leave one call running for CoUninitialize */
    cl->a = (LONG)(rand_r(&cl->seed) % 1000);
    cl->b = (LONG)(rand_r(&cl->seed) % 1000);
    cl->slow = (int)(rand_r(&cl->seed) % 2);
    if (call && cl->slow)
        CHECKED(AsyncICalc_Begin_Slow(call, 1 + rand_r(&cl->seed) % 10) == S_OK);
    else if (call)
        CHECKED(AsyncICalc_Begin_Add(call, cl->a, cl->b) == S_OK);
    cl->pending = call;
    return NULL;
}

static void *watchdog(void *arg)
{
    (void)arg;
    const char *s = getenv("AMRT_SOAK_STALL");
    int stall = s && atoi(s) > 0 ? atoi(s) : 30, quiet = 0;
    long last = -1;
    while (!atomic_load(&soak_done)) {
        sleep(1);
        long now = atomic_load(&progress);
        quiet = now == last ? quiet + 1 : 0;
        last = now;
        if (quiet >= stall) {
            fprintf(stderr, "soak: watchdog: no operation completed for %d s (deadlock?) after %ld operations\n",
                    stall, now);
            _exit(3);
        }
    }
    return NULL;
}

TEST(soak)
{
    const char *s = getenv("AMRT_SOAK_SECONDS");
    double seconds = s && atof(s) > 0 ? atof(s) : 10;
    double end = now_ms() + seconds * 1000, round_ms = seconds < 10 ? seconds * 250 : 3000;
    pthread_t dog;
    pthread_create(&dog, NULL, watchdog, NULL);
    calc_slow_step_ns = 100000;
    int rounds = 0;
    do {
        ASSERT_HR(S_OK, CoInitializeEx(NULL, COINIT_MULTITHREADED));
        ICalc *c = new_calc();
        ASSERT_HR(S_OK, AmrtCreateProxy((IUnknown *)c, &IID_ICalc, (void **)&shared_proxy));
        ICalc_Release(c);
        Client cl[THREADS];
        atomic_store(&stop_round, 0);
        for (int i = 0; i < THREADS; i++) {
            cl[i] = (Client){ .seed = (unsigned)(rounds * THREADS + i) * 7919u + 1 };
            pthread_create(&cl[i].thread, NULL, client, &cl[i]);
        }
        double stop_at = now_ms() + round_ms;
        while (now_ms() < stop_at) {
            sleep_ms(20);
        }
        atomic_store(&stop_round, 1);
        for (int i = 0; i < THREADS; i++)
            pthread_join(cl[i].thread, NULL);
        ICalc_Release(shared_proxy);
        shared_proxy = NULL;
        CoUninitialize();               /* with the clients' calls still running */
        atomic_fetch_add(&progress, 1);
        for (int i = 0; i < THREADS; i++) {
            if (!cl[i].pending)
                continue;
            LONG r = -1;
            if (cl[i].slow)
                CHECKED(AsyncICalc_Finish_Slow(cl[i].pending, &r) == S_OK && r == 0);
            else
                CHECKED(AsyncICalc_Finish_Add(cl[i].pending, &r) == S_OK && r == cl[i].a + cl[i].b);
            AsyncICalc_Release(cl[i].pending);
        }
        ASSERT_EQ(atomic_load(&live), 0);   /* every server object is gone */
        rounds++;
    } while (now_ms() < end);
    atomic_store(&soak_done, 1);
    pthread_join(dog, NULL);
    long total = atomic_load(&ops_total);
    printf("soak: %.0f s, %d rounds, %ld operations (", seconds, rounds, total);
    for (int k = 0; k < 10; k++)
        printf("%s%ld", k ? " " : "", atomic_load(&ops_by_kind[k]));
    printf(" by kind), %ld errors\n", atomic_load(&errors));
    ASSERT_EQ(atomic_load(&errors), 0);
    for (int k = 0; k < 10; k++)
        ASSERT(atomic_load(&ops_by_kind[k]) > 0);
}

RUN_TESTS(ENTRY(soak))
