/* test-stress.c - 8 client threads, each mixing on its own call objects:
 * Begin/Wait/Finish, Wait timeouts, release without Finish_, Cancel, reuse,
 * synchronous calls through the shared proxy. Checks every result, and
 * that every object is gone at the end. AMRT_STRESS_CALLS sets the calls
 * per thread (default 2000; the full size is 50000). */
#include "task.h"
#include "calltest.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "calc_server.h"

static atomic_long errors;

static ICalc *shared_proxy;
static int per_thread = 2000;

#define CHECKED(cond) do { if (!(cond)) { atomic_fetch_add(&errors, 1); fprintf(stderr, "stress: %s:%d: %s\n", __FILE__, __LINE__, #cond); } } while (0)

static AsyncICalc *new_call(void)
{
    AsyncICalc *c;
    calc_call(shared_proxy, &c);
    return c;
}

static void *client(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg * 7919u + 1;
    AsyncICalc *call = new_call();
    for (int i = 0; i < per_thread; i++) {
        if (!call)
            call = new_call();
        int op = (int)(rand_r(&seed) % 8);
        LONG a = (LONG)(rand_r(&seed) % 1000), b = (LONG)(rand_r(&seed) % 1000), sum = -1;
        switch (op) {
        case 0: case 1:         /* begin / finish, reuse */
            CHECKED(AsyncICalc_Begin_Add(call, a, b) == S_OK);
            CHECKED(AsyncICalc_Finish_Add(call, &sum) == S_OK && sum == a + b);
            break;
        case 2: {               /* wait with timeouts first */
            ISynchronize *s;
            CHECKED(AsyncICalc_Begin_Slow(call, 3) == S_OK);
            CHECKED(AsyncICalc_QueryInterface(call, &IID_ISynchronize, (void **)&s) == S_OK);
            HRESULT hr;
            while ((hr = ISynchronize_Wait(s, 0, 1)) == RPC_E_TIMEOUT)
                ;
            CHECKED(hr == S_OK);
            ISynchronize_Release(s);
            LONG c;
            CHECKED(AsyncICalc_Finish_Slow(call, &c) == S_OK);
            break;
        }
        case 3: {               /* release without Finish_ */
            LPCWSTR x = (LPCWSTR)u"left", y = (LPCWSTR)u" behind";
            CHECKED(AsyncICalc_Begin_Concat(call, x, y) == S_OK);
            AsyncICalc_Release(call);
            call = NULL;
            break;
        }
        case 4: {               /* cancel */
            ICancelMethodCalls *cm;
            LONG c = 0;
            CHECKED(AsyncICalc_Begin_Slow(call, 20) == S_OK);
            CHECKED(AsyncICalc_QueryInterface(call, &IID_ICancelMethodCalls, (void **)&cm) == S_OK);
            HRESULT hr = ICancelMethodCalls_Cancel(cm, 0);
            CHECKED(hr == S_OK || hr == RPC_E_CALL_COMPLETE);
            hr = AsyncICalc_Finish_Slow(call, &c);
            CHECKED(hr == RPC_E_CALL_CANCELED || hr == S_OK);
            ICancelMethodCalls_Release(cm);
            break;
        }
        case 5: {               /* strings in and out */
            LPWSTR r = NULL;
            CHECKED(AsyncICalc_Begin_Concat(call, (LPCWSTR)u"ab", (LPCWSTR)u"c") == S_OK);
            CHECKED(AsyncICalc_Finish_Concat(call, &r) == S_OK && r && r[0] == 'a' && r[2] == 'c' && r[3] == 0);
            CoTaskMemFree(r);
            break;
        }
        case 6: {               /* [in,out] and interface out */
            LONG v = a;
            IUnknown *o = NULL;
            CHECKED(AsyncICalc_Begin_Twice(call, &v) == S_OK);
            CHECKED(AsyncICalc_Finish_Twice(call, &v) == S_OK && v == 2 * a);
            CHECKED(AsyncICalc_Begin_Self(call) == S_OK);
            CHECKED(AsyncICalc_Finish_Self(call, &o) == S_OK && o);
            if (o) IUnknown_Release(o);
            break;
        }
        case 7:                 /* a synchronous call through the proxy */
            CHECKED(ICalc_Add(shared_proxy, a, b, &sum) == S_OK && sum == a + b);
            break;
        }
    }
    if (call)
        AsyncICalc_Release(call);
    return NULL;
}

TEST(stress_8_threads)
{
    const char *n = getenv("AMRT_STRESS_CALLS");
    if (n && atoi(n) > 0)
        per_thread = atoi(n);
    ASSERT_HR(S_OK, CoInitializeEx(NULL, COINIT_MULTITHREADED));
    calc_slow_step_ns = 100000;
    ICalc *c = new_calc();
    ASSERT_HR(S_OK, AmrtCreateProxy((IUnknown *)c, &IID_ICalc, (void **)&shared_proxy));
    ICalc_Release(c);
    pthread_t t[8];
    for (int i = 0; i < 8; i++)
        pthread_create(&t[i], NULL, client, (void *)(uintptr_t)i);
    for (int i = 0; i < 8; i++)
        pthread_join(t[i], NULL);
    ICalc_Release(shared_proxy);
    CoUninitialize();                   /* waits for the calls released without Finish_ */
    ASSERT_EQ(atomic_load(&errors), 0);
    ASSERT_EQ(atomic_load(&live), 0);
}

RUN_TESTS(ENTRY(stress_8_threads))
