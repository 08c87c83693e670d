/* test-pool.c - the worker pool: FIFO order (also past the ring, through
 * the overflow list), parallel producers, parallelism, AMRT_THREADS,
 * shutdown that waits for the jobs, restart after shutdown. */
#include "task.h"
#include "internal.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int order[20000], norder;
static atomic_int done;

static void record(void *arg)
{
    pthread_mutex_lock(&lock);
    order[norder++] = (int)(intptr_t)arg;
    pthread_mutex_unlock(&lock);
    atomic_fetch_add(&done, 1);
}

static atomic_int release_first;
static void slow_first(void *arg)
{
    (void)arg;
    while (!atomic_load(&release_first))
        sleep_ms(1);
}

TEST(fifo_with_one_thread)
{
    setenv("AMRT_THREADS", "1", 1);
    for (int i = 0; i < 500; i++)
        ASSERT_HR(S_OK, amrt__pool_submit(record, (void *)(intptr_t)i));
    amrt__pool_shutdown();                  /* waits for all of them */
    ASSERT_EQ(norder, 500);
    for (int i = 0; i < 500; i++)
        ASSERT_EQ(order[i], i);
}

/* more jobs than the ring holds (1024): the rest wait in the overflow
 * list, and still start in the order they were queued */
TEST(fifo_through_the_overflow_list)
{
    setenv("AMRT_THREADS", "1", 1);
    ASSERT_HR(S_OK, amrt__pool_submit(slow_first, NULL));  /* holds the worker while the ring fills */
    for (int i = 0; i < 5000; i++)
        ASSERT_HR(S_OK, amrt__pool_submit(record, (void *)(intptr_t)i));
    atomic_store(&release_first, 1);
    amrt__pool_shutdown();
    ASSERT_EQ(norder, 5000);
    for (int i = 0; i < 5000; i++)
        ASSERT_EQ(order[i], i);
}

/* several producers at once, ring and overflow: every job runs once */
static void *produce(void *arg)
{
    for (int i = 0; i < 2000; i++)
        if (FAILED(amrt__pool_submit(record, (void *)(intptr_t)((intptr_t)arg * 2000 + i))))
            return (void *)1;
    return NULL;
}

TEST(producers_in_parallel_each_job_runs_once)
{
    setenv("AMRT_THREADS", "2", 1);
    pthread_t t[4];
    for (intptr_t k = 0; k < 4; k++)
        pthread_create(&t[k], NULL, produce, (void *)k);
    for (int k = 0; k < 4; k++) {
        void *r;
        pthread_join(t[k], &r);
        ASSERT(r == NULL);
    }
    amrt__pool_shutdown();
    ASSERT_EQ(norder, 8000);
    static bool seen[8000];
    for (int i = 0; i < 8000; i++) {
        ASSERT(order[i] >= 0 && order[i] < 8000 && !seen[order[i]]);
        seen[order[i]] = true;
    }
}

static atomic_int inside, max_inside;
static void slow(void *arg)
{
    (void)arg;
    int now = atomic_fetch_add(&inside, 1) + 1;
    int m = atomic_load(&max_inside);
    while (now > m && !atomic_compare_exchange_weak(&max_inside, &m, now))
        ;
    sleep_ms(50);
    atomic_fetch_sub(&inside, 1);
    atomic_fetch_add(&done, 1);
}

TEST(threads_run_in_parallel)
{
    setenv("AMRT_THREADS", "4", 1);
    for (int i = 0; i < 8; i++)
        ASSERT_HR(S_OK, amrt__pool_submit(slow, NULL));
    ASSERT_EQ(amrt__pool_threads(), 4);
    amrt__pool_shutdown();
    ASSERT_EQ(atomic_load(&done), 8);
    ASSERT(atomic_load(&max_inside) >= 2);
    ASSERT(atomic_load(&max_inside) <= 4);
}

TEST(default_size_is_cpu_count)
{
    unsetenv("AMRT_THREADS");
    ASSERT_EQ(amrt__pool_size(), sysconf(_SC_NPROCESSORS_ONLN));
    setenv("AMRT_THREADS", "3", 1);
    ASSERT_EQ(amrt__pool_size(), 3);
    setenv("AMRT_THREADS", "100000", 1);
    ASSERT_EQ(amrt__pool_size(), 256);
}

TEST(restart_after_shutdown)
{
    setenv("AMRT_THREADS", "2", 1);
    ASSERT_HR(S_OK, amrt__pool_submit(record, (void *)1));
    amrt__pool_shutdown();
    ASSERT_EQ(amrt__pool_threads(), 0);
    ASSERT_HR(S_OK, amrt__pool_submit(record, (void *)2));
    amrt__pool_shutdown();
    ASSERT_EQ(atomic_load(&done), 2);
}

TEST(couninitialize_waits_for_jobs)
{
    setenv("AMRT_THREADS", "2", 1);
    ASSERT_HR(S_OK, CoInitializeEx(NULL, COINIT_MULTITHREADED));
    for (int i = 0; i < 4; i++)
        ASSERT_HR(S_OK, amrt__pool_submit(slow, NULL));
    CoUninitialize();
    ASSERT_EQ(atomic_load(&done), 4);
    ASSERT_EQ(amrt__pool_threads(), 0);
}

TEST(submit_out_of_memory)
{
    AmrtFailAllocationAfter(0);
    ASSERT_HR(E_OUTOFMEMORY, amrt__pool_submit(record, NULL));
    AmrtFailAllocationAfter(-1);
    amrt__pool_shutdown();
    ASSERT_EQ(atomic_load(&done), 0);
}

RUN_TESTS(ENTRY(fifo_with_one_thread), ENTRY(fifo_through_the_overflow_list),
          ENTRY(producers_in_parallel_each_job_runs_once), ENTRY(threads_run_in_parallel), ENTRY(default_size_is_cpu_count),
          ENTRY(restart_after_shutdown), ENTRY(couninitialize_waits_for_jobs), ENTRY(submit_out_of_memory))
