/*
 * internal.h - what the files of libamidlrt share. Internal names start
 * with amrt__; only the functions of amidlrt.h are exported (the library
 * is built with -fvisibility=hidden).
 */
#ifndef AMRT_INTERNAL_H
#define AMRT_INTERNAL_H

#define COBJMACROS
#include "amidlrt.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>

/* the runtime is C: REFIID is a pointer */
#define AMRT_REF(x) (x)
#define AMRT_IID(x) (x)

/* the one allocator (failure injection: AmrtFailAllocationAfter) */
void *amrt__alloc(size_t n);
void *amrt__calloc(size_t n);
void amrt__free(void *p);

bool amrt__initialized(void);
void amrt__shutdown(void);
void amrt__revoke_all(void);

/* The IUnknown methods of an interface that 'field' of a Type implements:
 * they delegate to the object's controlling unknown, Type's 'outer'
 * (COM aggregation). Writes PREFIX_qi, PREFIX_addref, PREFIX_release. */
#define AMRT_DELEGATING_IUNKNOWN(prefix, Iface, Type, field)                                      \
    static HRESULT STDMETHODCALLTYPE prefix##_qi(Iface *This, REFIID riid, void **ppv)           \
    {                                                                                            \
        Type *o_ = (Type *)((char *)This - offsetof(Type, field));                               \
        return IUnknown_QueryInterface(o_->outer, riid, ppv);                                    \
    }                                                                                            \
    static ULONG STDMETHODCALLTYPE prefix##_addref(Iface *This)                                  \
    {                                                                                            \
        return IUnknown_AddRef(((Type *)((char *)This - offsetof(Type, field)))->outer);         \
    }                                                                                            \
    static ULONG STDMETHODCALLTYPE prefix##_release(Iface *This)                                 \
    {                                                                                            \
        return IUnknown_Release(((Type *)((char *)This - offsetof(Type, field)))->outer);        \
    }

/* pool.c: the worker pool */
typedef struct AmrtJob {
    void (*fn)(void *arg);
    void *arg;
    _Atomic(struct AmrtJob *) next;  /* the pool's queue link */
    bool pool_owned;        /* allocated by amrt__pool_submit: freed after it runs */
} AmrtJob;
HRESULT amrt__pool_submit(void (*fn)(void *), void *arg);
HRESULT amrt__pool_submit_job(AmrtJob *job);
void amrt__pool_shutdown(void);
int amrt__pool_size(void);
int amrt__pool_threads(void);

/* callobj.c / proxy.c */
HRESULT amrt__call_create(const AmrtInterface *glue, IUnknown *server, ICallFactory *own,
                          IUnknown *outer, const IID *riid2, void **ppv);
const AmrtInterface *amrt__glue_by_iid(const IID *iid, bool async);

/* sync.c: the system synchronization objects */
HRESULT amrt__event_create(IUnknown *outer, bool manual, const IID *iid, void **ppv);
HRESULT amrt__container_create(IUnknown *outer, const IID *iid, void **ppv);
HRESULT amrt__mutex_create(IUnknown *outer, const IID *iid, void **ppv);

/* an absolute CLOCK_MONOTONIC deadline dwMilliseconds from now */
struct timespec;
void amrt__deadline(struct timespec *ts, DWORD ms);
/* milliseconds left until the deadline (0 when past) */
int amrt__ms_left(const struct timespec *deadline);

/* Spin for up to AMRT_SPIN_US microseconds (default 50; 0 turns spinning
 * off) until ready(arg) is true: a thread that is about to sleep first
 * watches for the other side, because on a virtual machine a sleep and its
 * wake-up cost tens of microseconds. After 1 us it yields the CPU between
 * looks, in case the other side waits for this very CPU. */
bool amrt__spin_until(bool (*ready)(void *), void *arg);

#endif
