/*
 * pool.c - the worker pool that runs the server side of asynchronous calls.
 *
 * DESIGN (the ring is a bounded multi-producer, multi-consumer array
 * queue after Dmitry Vyukov's, with the consumers' position read by the
 * producers as in the LMAX Disruptor; the shape of the pool follows
 * libuv's threadpool.c). A fixed number of threads (default: the number
 * of online CPUs; AMRT_THREADS overrides, 1..256) take jobs in FIFO order.
 * Threads start lazily with the first job.
 *
 * The jobs travel through a ring of RING cells, each a job pointer and a
 * sequence word. A producer claims the position 'enq' with a
 * compare-and-swap, stores the job and publishes it by storing the
 * sequence (position + 1); a consumer reads the job of the cell at 'deq'
 * once its sequence says it is in, then claims the position with a
 * compare-and-swap. Consumers never write a cell: a producer knows a cell
 * is free from 'deq' (a position passed by 'deq' has been read), which it
 * reads only when the ring looks full from the copy it saw last. So, with
 * one client and one worker, what moves between them for a job is the job
 * itself and a quarter of a cache line: four cells share a line, filled in
 * turn by the producer and only read by the consumer. (A ring whose
 * consumers marked each cell free, Vyukov's, made them fight over the line
 * the worker had just written: three times slower, measured here.) The
 * positions live on cache lines of their own. An idle worker spins on the
 * next cell (amrt__spin_until) before it sleeps: a job that follows within
 * microseconds is taken without entering the kernel. The zeroed static
 * ring is a valid empty one.
 *
 * A full ring is not an error: the job goes to an overflow list under
 * pool.lock, and while that list is not empty every new job goes there too,
 * so jobs start in the order they were queued. Workers take from the ring
 * first, then from the list.
 *
 * Wake-ups are never lost: a producer claims its cell (a sequentially
 * consistent compare-and-swap of 'enq'), then reads 'sleepers', then
 * publishes the job; a worker increments 'sleepers' (sequentially
 * consistent) and then looks for a job, published or only claimed, under
 * pool.lock, which it holds until it waits; a producer that saw a sleeper
 * signals under that lock. No fence is needed beyond the claim.
 *
 * A job may keep its worker for a while after it is done (a call object's
 * worker lingers on the call for its next Begin_): amrt__pool_wanted tells
 * it when the pool needs it back, because a job is waiting or the pool is
 * shutting down.
 *
 * Shutdown (the last CoUninitialize) bumps the pool's generation and joins
 * the threads; a worker leaves once its generation is old and it finds no
 * job, so every queued and running job finishes first. A job queued after
 * the threads left finds no thread and starts new ones.
 *
 * Lock invariant: pool.lock guards the overflow list, nthreads, threads,
 * and the sleep of the workers; the ring and the counters are atomic.
 */
#include "internal.h"

#include <sched.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>


enum { RING = 1024 };                   /* a power of two */

typedef struct Cell {
    atomic_size_t seq;                  /* p + 1 once the job of position p is in */
    _Atomic(Job *) job;
} Cell;

static struct {
    alignas(64) atomic_size_t enq;      /* producers' position */
    alignas(64) atomic_size_t deq;      /* consumers' position */
    alignas(64) atomic_int sleepers;    /* workers asleep, or about to sleep, on 'wake' */
    atomic_int started;                 /* == nthreads, readable without the lock */
    atomic_int overflow;                /* jobs in the overflow list */
    atomic_int gen;                     /* bumped by each shutdown */
    alignas(64) pthread_mutex_t lock;
    pthread_cond_t wake;                /* a job was queued, or a shutdown began */
    Job *ohead, *otail;                 /* the overflow list (under lock) */
    int nthreads;
    pthread_t threads[256];
    alignas(64) Cell cells[RING];
} pool = { .lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER };

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

/* ---- the ring ---- */

/* the consumers' position this producer thread saw last: it re-reads
 * 'deq' only when the ring looks full from here */
static __thread size_t deq_seen;

/* Queue j; false when the ring is full. *sleepers gets the sleeping
 * workers, read after the claim and before the job is published (see
 * worker()). */
static bool ring_push(Job *j, int *sleepers)
{
    size_t pos = atomic_load_explicit(&pool.enq, memory_order_relaxed);
    for (;;) {
        if (pos - deq_seen >= RING) {
            deq_seen = atomic_load_explicit(&pool.deq, memory_order_acquire);
            if (pos - deq_seen >= RING)
                return false;           /* full: the cell's job of the last round is not taken yet */
        }
        if (atomic_compare_exchange_weak_explicit(&pool.enq, &pos, pos + 1, memory_order_seq_cst,
                                                  memory_order_relaxed))
            break;
    }
    *sleepers = atomic_load_explicit(&pool.sleepers, memory_order_seq_cst);
    Cell *c = &pool.cells[pos % RING];
    atomic_store_explicit(&c->job, j, memory_order_relaxed);
    atomic_store_explicit(&c->seq, pos + 1, memory_order_release);
    return true;
}

static Job *ring_pop(void)
{
    size_t pos = atomic_load_explicit(&pool.deq, memory_order_relaxed);
    for (;;) {
        Cell *c = &pool.cells[pos % RING];
        size_t seq = atomic_load_explicit(&c->seq, memory_order_acquire);
        intptr_t dif = (intptr_t)(seq - (pos + 1));
        if (dif == 0) {
            /* the job is read before the claim: once 'deq' passes the cell,
             * a producer may fill it for the next round */
            Job *j = atomic_load_explicit(&c->job, memory_order_relaxed);
            if (atomic_compare_exchange_weak_explicit(&pool.deq, &pos, pos + 1, memory_order_acq_rel,
                                                      memory_order_relaxed))
                return j;
        } else if (dif < 0) {
            return NULL;                /* empty (or a producer is between its claim and its store) */
        } else {
            pos = atomic_load_explicit(&pool.deq, memory_order_relaxed);
        }
    }
}

/* Is a job claimed by a producer but not yet published? (A worker that is
 * about to sleep waits for it instead.) */
static bool job_claimed(void)
{
    return atomic_load_explicit(&pool.enq, memory_order_seq_cst) !=
           atomic_load_explicit(&pool.deq, memory_order_relaxed);
}

/* Is there a job to take? (A cheap look: the next cell and the list.) */
static bool job_ready(void)
{
    size_t pos = atomic_load_explicit(&pool.deq, memory_order_relaxed);
    size_t seq = atomic_load_explicit(&pool.cells[pos % RING].seq, memory_order_acquire);
    return seq == pos + 1 || atomic_load_explicit(&pool.overflow, memory_order_acquire) > 0;
}

static Job *take(void)
{
    Job *j = ring_pop();
    if (j || atomic_load_explicit(&pool.overflow, memory_order_acquire) == 0)
        return j;
    amrt__mutex_lock(&pool.lock);
    j = pool.ohead;
    if (j) {
        pool.ohead = j->next;
        if (!pool.ohead)
            pool.otail = NULL;
        atomic_fetch_sub(&pool.overflow, 1);
    }
    amrt__mutex_unlock(&pool.lock);
    return j;
}

/* ---- the workers ---- */

static __thread int worker_gen = -1;    /* the generation of the pool this thread works for */
static __thread bool worker_spun;       /* the last job spun out the spin budget watching the pool */

bool amrt__pool_wanted(void)
{
    return job_ready() || atomic_load_explicit(&pool.gen, memory_order_relaxed) != worker_gen;
}

void amrt__pool_spun(void)
{
    worker_spun = true;
}

static bool wake_hint(void *unused)
{
    (void)unused;
    return amrt__pool_wanted();
}

static void *worker(void *arg)
{
    worker_gen = (int)(intptr_t)arg;
    pthread_setname_np(pthread_self(), "amrt-worker");     /* for ps, gdb, and the tests that count them */
    for (;;) {
        Job *j = take();
        if (j) {
            j->fn(j);                   /* may free j */
            continue;
        }
        if (atomic_load(&pool.gen) != worker_gen && !job_ready())
            break;                      /* shutting down, and nothing left */
        /* a caller waiting for one call often starts the next within
         * microseconds (unless the last job watched for as long already) */
        bool spun = worker_spun;
        worker_spun = false;
        if (!spun && amrt__spin_until(wake_hint, NULL))
            continue;
        amrt__mutex_lock(&pool.lock);
        atomic_fetch_add(&pool.sleepers, 1);
        /* Dekker with ring_push: it claims its cell, then reads 'sleepers';
         * we count ourselves, then look at the claims. A claimed job not
         * yet published is microseconds away: no sleep for it. */
        while (!job_ready() && !job_claimed() && atomic_load(&pool.gen) == worker_gen)
            amrt__cond_wait(&pool.wake, &pool.lock);
        atomic_fetch_sub(&pool.sleepers, 1);
        amrt__mutex_unlock(&pool.lock);
    }
    return NULL;
}

/* Start the threads if there are none (the first job, or after a shutdown). */
static HRESULT ensure_threads(void)
{
    HRESULT hr = S_OK;
    amrt__mutex_lock(&pool.lock);
    if (pool.nthreads == 0) {
        int want = amrt__pool_size();
        void *gen = (void *)(intptr_t)atomic_load(&pool.gen);
        for (int i = 0; i < want; i++) {
            if (pthread_create(&pool.threads[pool.nthreads], NULL, worker, gen) != 0)
                break;
            pool.nthreads++;
        }
        atomic_store(&pool.started, pool.nthreads);
        if (pool.nthreads == 0)
            hr = E_FAIL;
    }
    amrt__mutex_unlock(&pool.lock);
    return hr;
}

/* Queue a job the caller owns (no allocation): it must stay valid until
 * its function runs; the function may free it. E_FAIL when no worker
 * thread can be started. */
HRESULT amrt__pool_submit_job(Job *j)
{
    if (atomic_load_explicit(&pool.started, memory_order_acquire) == 0) {
        HRESULT hr = ensure_threads();
        if (FAILED(hr))
            return hr;
    }
    int sleepers = 0;
    bool queued = atomic_load_explicit(&pool.overflow, memory_order_acquire) == 0 && ring_push(j, &sleepers);
    if (!queued) {
        j->next = NULL;                 /* only here: the job's line is the worker's to read */
        amrt__mutex_lock(&pool.lock);
        if (pool.otail)
            pool.otail->next = j;
        else
            pool.ohead = j;
        pool.otail = j;
        atomic_fetch_add(&pool.overflow, 1);
        sleepers = atomic_load(&pool.sleepers);     /* the lock orders it with a sleeper's look */
        amrt__mutex_unlock(&pool.lock);
    }
    /* a shutdown that ran since the check above: its threads may be gone
     * (if they saw the job, they ran it before leaving) */
    if (atomic_load(&pool.started) == 0)
        ensure_threads();
    if (sleepers > 0) {
        amrt__mutex_lock(&pool.lock);
        amrt__cond_signal(&pool.wake);
        amrt__mutex_unlock(&pool.lock);
    }
    return S_OK;
}

/* a job the pool allocated: freed once its function ran */
typedef struct OwnedJob {
    Job job;
    void (*fn)(void *);
    void *arg;
} OwnedJob;

static void run_owned(Job *j)
{
    OwnedJob *o = (OwnedJob *)j;
    void (*fn)(void *) = o->fn;
    void *arg = o->arg;
    amrt__free(o);
    fn(arg);
}

/* Queue fn(arg) on the pool. E_OUTOFMEMORY when the job cannot be
 * allocated, E_FAIL when no worker thread can be started. */
HRESULT amrt__pool_submit(void (*fn)(void *), void *arg)
{
    OwnedJob *o = amrt__alloc(sizeof *o);
    if (!o)
        return E_OUTOFMEMORY;
    o->job.fn = run_owned;
    o->fn = fn;
    o->arg = arg;
    HRESULT hr = amrt__pool_submit_job(&o->job);
    if (FAILED(hr))
        amrt__free(o);
    return hr;
}

/* Let every queued and running job finish, then stop the threads. */
void amrt__pool_shutdown(void)
{
    pthread_t threads[256];
    amrt__mutex_lock(&pool.lock);
    int n = pool.nthreads;
    for (int i = 0; i < n; i++)
        threads[i] = pool.threads[i];
    pool.nthreads = 0;
    atomic_store(&pool.started, 0);
    atomic_fetch_add(&pool.gen, 1);
    amrt__cond_broadcast(&pool.wake);
    amrt__mutex_unlock(&pool.lock);
    for (int i = 0; i < n; i++)
        amrt__thread_join(threads[i]);
}

/* A worker that blocks for a while (a synchronous call to another
 * process, made for a call object: RULES.md J6) tells the pool, which
 * keeps amrt__pool_size() workers free for the other jobs by starting
 * another thread when it must (at most 256 in all; they stay until the
 * shutdown). Not on a worker: nothing to do. */
static atomic_int blocked;

bool amrt__pool_block_begin(void)
{
    if (worker_gen < 0 || worker_gen != atomic_load(&pool.gen))
        return false;
    int b = atomic_fetch_add(&blocked, 1) + 1;
    amrt__mutex_lock(&pool.lock);
    if (pool.nthreads > 0 && pool.nthreads - b < amrt__pool_size() && pool.nthreads < 256 &&
        pthread_create(&pool.threads[pool.nthreads], NULL, worker, (void *)(intptr_t)worker_gen) == 0) {
        pool.nthreads++;
        atomic_store(&pool.started, pool.nthreads);
    }
    amrt__mutex_unlock(&pool.lock);
    return true;
}

void amrt__pool_block_end(bool began)
{
    if (began)
        atomic_fetch_sub(&blocked, 1);
}

int amrt__pool_threads(void)
{
    amrt__mutex_lock(&pool.lock);
    int n = pool.nthreads;
    amrt__mutex_unlock(&pool.lock);
    return n;
}
