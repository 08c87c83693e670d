/*
 * pool.c - the worker pool that runs the server side of asynchronous calls.
 *
 * DESIGN (after libuv's threadpool.c and redis' bio.c). A fixed number of
 * threads (default: the number of online CPUs; AMRT_THREADS overrides,
 * 1..256) takes jobs from one FIFO queue. Threads start lazily with the
 * first job. amrt__pool_submit appends a job and wakes one idle thread
 * only if a thread is asleep; a thread that runs out of jobs first spins
 * for a few tens of microseconds (amrt__spin_until) before it sleeps. amrt__pool_shutdown (from the last
 * CoUninitialize) lets the queued and running jobs finish, then joins the
 * threads; a later submit starts a new pool.
 *
 * Lock invariant: pool.lock guards queue, idle, nthreads, stopping; a job
 * runs with the lock released.
 */
#include "internal.h"

#include <stdlib.h>
#include <unistd.h>

typedef AmrtJob Job;

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;            /* a job was queued, or stopping */
    pthread_cond_t drained;         /* the queue emptied and no job runs */
    Job *head, *tail;
    atomic_int queued;              /* jobs in the queue, readable without the lock (workers spin on it) */
    int idle, running, nthreads;
    bool stopping;
    pthread_t threads[256];
} pool = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER,
           NULL, NULL, 0, 0, 0, 0, false, {0} };

int amrt__pool_size(void)
{
    const char *s = getenv("AMRT_THREADS");
    long n = s ? strtol(s, NULL, 10) : 0;
    if (n <= 0) {
        n = sysconf(_SC_NPROCESSORS_ONLN);
        if (n <= 0)
            n = 2;
    }
    return n > 256 ? 256 : (int)n;
}

static bool job_queued(void *unused)
{
    (void)unused;
    return atomic_load_explicit(&pool.queued, memory_order_relaxed) > 0;
}

static void *worker(void *unused)
{
    (void)unused;
    pthread_mutex_lock(&pool.lock);
    for (;;) {
        if (!pool.head && !pool.stopping) {
            /* watch for the next job before sleeping: a caller waiting for
             * one call often starts the next within microseconds */
            pthread_mutex_unlock(&pool.lock);
            amrt__spin_until(job_queued, NULL);
            pthread_mutex_lock(&pool.lock);
        }
        while (!pool.head && !pool.stopping) {
            pool.idle++;
            pthread_cond_wait(&pool.wake, &pool.lock);
            pool.idle--;
        }
        if (!pool.head)
            break;                  /* stopping and nothing left */
        Job *j = pool.head;
        pool.head = j->next;
        if (!pool.head)
            pool.tail = NULL;
        atomic_fetch_sub_explicit(&pool.queued, 1, memory_order_relaxed);
        pool.running++;
        pthread_mutex_unlock(&pool.lock);
        /* a caller-owned job may be freed by its own function: read it first */
        bool owned = j->pool_owned;
        void (*fn)(void *) = j->fn;
        void *arg = j->arg;
        fn(arg);
        if (owned)
            amrt__free(j);
        pthread_mutex_lock(&pool.lock);
        pool.running--;
        if (!pool.head && !pool.running)
            pthread_cond_broadcast(&pool.drained);
    }
    pthread_mutex_unlock(&pool.lock);
    return NULL;
}

/* Queue fn(arg) on the pool. E_OUTOFMEMORY when the job cannot be
 * allocated, E_FAIL when no worker thread can be started. */
HRESULT amrt__pool_submit(void (*fn)(void *), void *arg)
{
    Job *j = amrt__alloc(sizeof *j);
    if (!j)
        return E_OUTOFMEMORY;
    j->fn = fn;
    j->arg = arg;
    j->pool_owned = true;
    HRESULT hr = amrt__pool_submit_job(j);
    if (FAILED(hr))
        amrt__free(j);
    return hr;
}

/* Queue a job the caller owns (no allocation): it must stay valid until
 * its function runs; the function may free it. */
HRESULT amrt__pool_submit_job(AmrtJob *j)
{
    j->next = NULL;
    pthread_mutex_lock(&pool.lock);
    if (pool.nthreads == 0) {
        int want = amrt__pool_size();
        pool.stopping = false;
        for (int i = 0; i < want; i++) {
            if (pthread_create(&pool.threads[pool.nthreads], NULL, worker, NULL) != 0)
                break;
            pool.nthreads++;
        }
        if (pool.nthreads == 0) {
            pthread_mutex_unlock(&pool.lock);
            return E_FAIL;
        }
    }
    if (pool.tail)
        pool.tail->next = j;
    else
        pool.head = j;
    pool.tail = j;
    atomic_fetch_add_explicit(&pool.queued, 1, memory_order_relaxed);
    if (pool.idle > 0)
        pthread_cond_signal(&pool.wake);
    pthread_mutex_unlock(&pool.lock);
    return S_OK;
}

/* Let every queued and running job finish, then stop the threads. */
void amrt__pool_shutdown(void)
{
    pthread_mutex_lock(&pool.lock);
    while (pool.head || pool.running)
        pthread_cond_wait(&pool.drained, &pool.lock);
    pool.stopping = true;
    pthread_cond_broadcast(&pool.wake);
    int n = pool.nthreads;
    pool.nthreads = 0;
    pthread_mutex_unlock(&pool.lock);
    for (int i = 0; i < n; i++)
        pthread_join(pool.threads[i], NULL);
}

int amrt__pool_threads(void)
{
    pthread_mutex_lock(&pool.lock);
    int n = pool.nthreads;
    pthread_mutex_unlock(&pool.lock);
    return n;
}
