/*
 * thread.h - thin wrappers of the pthread calls that do not fail in a
 * correct program (lock, unlock, wait, signal, join, ...): on a failure
 * they say what failed and abort, as libuv's uv_mutex_lock and the like
 * do, instead of going on with a lock not held or a wait not made. The
 * calls that may fail for want of resources (pthread_mutex_init,
 * pthread_cond_init, pthread_create, pthread_key_create) stay with their
 * callers, which handle the failure.
 */
#ifndef AMRT_THREAD_H
#define AMRT_THREAD_H

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

__attribute__((noreturn, cold)) static inline void amrt__thread_abort(const char *what, int rc)
{
    fprintf(stderr, "libamidlrt: %s failed: %s (%d)\n", what, strerror(rc), rc);
    abort();
}

#define AMRT_THREAD_CHECK(what, call) do { int rc_ = (call); if (rc_ != 0) amrt__thread_abort(what, rc_); } while (0)

static inline void amrt__mutex_lock(pthread_mutex_t *m) { AMRT_THREAD_CHECK("pthread_mutex_lock", pthread_mutex_lock(m)); }
static inline void amrt__mutex_unlock(pthread_mutex_t *m) { AMRT_THREAD_CHECK("pthread_mutex_unlock", pthread_mutex_unlock(m)); }
static inline void amrt__mutex_destroy(pthread_mutex_t *m) { AMRT_THREAD_CHECK("pthread_mutex_destroy", pthread_mutex_destroy(m)); }
static inline void amrt__cond_wait(pthread_cond_t *c, pthread_mutex_t *m) { AMRT_THREAD_CHECK("pthread_cond_wait", pthread_cond_wait(c, m)); }
static inline void amrt__cond_signal(pthread_cond_t *c) { AMRT_THREAD_CHECK("pthread_cond_signal", pthread_cond_signal(c)); }
static inline void amrt__cond_broadcast(pthread_cond_t *c) { AMRT_THREAD_CHECK("pthread_cond_broadcast", pthread_cond_broadcast(c)); }
static inline void amrt__cond_destroy(pthread_cond_t *c) { AMRT_THREAD_CHECK("pthread_cond_destroy", pthread_cond_destroy(c)); }
static inline void amrt__thread_join(pthread_t t) { AMRT_THREAD_CHECK("pthread_join", pthread_join(t, NULL)); }
static inline void amrt__once(pthread_once_t *o, void (*fn)(void)) { AMRT_THREAD_CHECK("pthread_once", pthread_once(o, fn)); }

/* 0, or ETIMEDOUT when the deadline passed */
static inline int amrt__cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *deadline)
{
    int rc = pthread_cond_timedwait(c, m, deadline);
    if (rc != 0 && rc != ETIMEDOUT)
        amrt__thread_abort("pthread_cond_timedwait", rc);
    return rc;
}

#endif
