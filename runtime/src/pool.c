/*
 * pool.c - the worker pool that runs the server side of asynchronous calls.
 *
 * DESIGN (after libuv's threadpool.c and redis' bio.c; the queue is Dmitry
 * Vyukov's intrusive multi-producer queue). A fixed number of threads
 * (default: the number of online CPUs; AMRT_THREADS overrides, 1..256)
 * take jobs from one FIFO queue. Threads start lazily with the first job.
 *
 * amrt__pool_submit_job appends a job without a lock (an atomic exchange
 * of the tail, then a store of the link) and takes pool.lock only to wake
 * a thread that sleeps. Workers take jobs one at a time under pool.lock
 * (which serializes the consumers, not the producers); a worker that runs
 * out of jobs spins for a few tens of microseconds (amrt__spin_until)
 * before it sleeps on pool.wake. amrt__pool_shutdown (from the last
 * CoUninitialize) lets the queued and running jobs finish, then joins the
 * threads; a later submit starts a new pool.
 *
 * Wake-ups are never lost: a producer increments 'queued' (before its
 * push, so 'queued' never undercounts) and then reads 'idle'; a worker
 * increments 'idle' and then reads 'queued' (both sequentially
 * consistent), and the producer signals under pool.lock, which the worker
 * holds from its check until it waits. Workers leave only when stopping
 * and 'queued' is 0, so a job pushed during a shutdown still runs; a
 * producer that finds the threads gone after its push starts new ones.
 *
 * Lock invariant: pool.lock guards qhead (the consumers' end), running,
 * nthreads, stopping; a job runs with the lock released.
 */
#include "internal.h"

#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

typedef AmrtJob Job;

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;            /* a job was queued, or stopping */
    pthread_cond_t drained;         /* the queue emptied and no job runs */
    _Atomic(Job *) qtail;           /* producers' end */
    Job *qhead;                     /* consumers' end (under lock) */
    Job stub;                       /* keeps the queue non-empty */
    atomic_int queued;              /* jobs pushed and not yet taken */
    atomic_int idle;                /* threads asleep on 'wake' */
    atomic_int started;             /* == nthreads, readable without the lock */
    int running, nthreads;
    bool stopping;
    pthread_t threads[256];
} pool = { .lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER,
           .drained = PTHREAD_COND_INITIALIZER };

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

/* ---- the queue ---- */

static void queue_init(void)           /* under lock, before the first push */
{
    atomic_store(&pool.stub.next, NULL);
    pool.qhead = &pool.stub;
    atomic_store(&pool.qtail, &pool.stub);
}

static void push(Job *j)
{
    atomic_store_explicit(&j->next, NULL, memory_order_relaxed);
    Job *prev = atomic_exchange_explicit(&pool.qtail, j, memory_order_acq_rel);
    atomic_store_explicit(&prev->next, j, memory_order_release);
}

/* The oldest job, or NULL when the queue is empty or a push is half done
 * (the caller retries while 'queued' says a job is there). Under lock. */
static Job *pop(void)
{
    Job *head = pool.qhead;
    Job *next = atomic_load_explicit(&head->next, memory_order_acquire);
    if (head == &pool.stub) {
        if (!next)
            return NULL;
        pool.qhead = head = next;
        next = atomic_load_explicit(&head->next, memory_order_acquire);
    }
    if (next) {
        pool.qhead = next;
        return head;
    }
    if (head != atomic_load_explicit(&pool.qtail, memory_order_acquire))
        return NULL;                    /* a producer is between its exchange and its link */
    push(&pool.stub);
    next = atomic_load_explicit(&head->next, memory_order_acquire);
    if (next) {
        pool.qhead = next;
        return head;
    }
    return NULL;
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
        Job *j = pop();
        if (!j) {
            if (atomic_load(&pool.queued) > 0) {
                /* a push is half done: it completes in a few instructions,
                 * unless its thread lost the CPU (let it run) */
                pthread_mutex_unlock(&pool.lock);
                sched_yield();
                pthread_mutex_lock(&pool.lock);
                continue;
            }
            if (pool.stopping)
                break;                  /* stopping and nothing left */
            /* watch for the next job before sleeping: a caller waiting for
             * one call often starts the next within microseconds */
            pthread_mutex_unlock(&pool.lock);
            amrt__spin_until(job_queued, NULL);
            pthread_mutex_lock(&pool.lock);
            atomic_fetch_add(&pool.idle, 1);
            if (atomic_load(&pool.queued) == 0 && !pool.stopping)
                pthread_cond_wait(&pool.wake, &pool.lock);
            atomic_fetch_sub(&pool.idle, 1);
            continue;
        }
        atomic_fetch_sub(&pool.queued, 1);
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
        if (!pool.running && atomic_load(&pool.queued) == 0)
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

/* Start the threads if there are none (after the first job, or after a
 * shutdown). */
static HRESULT ensure_threads(void)
{
    HRESULT hr = S_OK;
    pthread_mutex_lock(&pool.lock);
    if (!pool.qhead)
        queue_init();
    if (pool.nthreads == 0) {
        int want = amrt__pool_size();
        pool.stopping = false;
        for (int i = 0; i < want; i++) {
            if (pthread_create(&pool.threads[pool.nthreads], NULL, worker, NULL) != 0)
                break;
            pool.nthreads++;
        }
        atomic_store(&pool.started, pool.nthreads);
        if (pool.nthreads == 0)
            hr = E_FAIL;
    }
    pthread_mutex_unlock(&pool.lock);
    return hr;
}

/* Queue a job the caller owns (no allocation): it must stay valid until
 * its function runs; the function may free it. */
HRESULT amrt__pool_submit_job(AmrtJob *j)
{
    if (atomic_load(&pool.started) == 0) {
        HRESULT hr = ensure_threads();
        if (FAILED(hr))
            return hr;
    }
    atomic_fetch_add(&pool.queued, 1);  /* before the push: 'queued' never undercounts */
    push(j);
    /* a shutdown that ran since the check above: its threads may be gone
     * (if they saw 'queued', they took the job before leaving) */
    if (atomic_load(&pool.started) == 0)
        ensure_threads();
    if (atomic_load(&pool.idle) > 0) {
        pthread_mutex_lock(&pool.lock);
        pthread_cond_signal(&pool.wake);
        pthread_mutex_unlock(&pool.lock);
    }
    return S_OK;
}

/* Let every queued and running job finish, then stop the threads. */
void amrt__pool_shutdown(void)
{
    pthread_mutex_lock(&pool.lock);
    while (atomic_load(&pool.queued) > 0 || pool.running)
        pthread_cond_wait(&pool.drained, &pool.lock);
    pool.stopping = true;
    pthread_cond_broadcast(&pool.wake);
    int n = pool.nthreads;
    pool.nthreads = 0;
    atomic_store(&pool.started, 0);
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
