/* test-sync.c - the system synchronization objects, one test per rule of
 * RULES.md section C (the rule is in the test's name). */
#include "task.h"

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/eventfd.h>

static ISynchronize *make_event(const CLSID *clsid)
{
    ISynchronize *s = NULL;
    ASSERT(SUCCEEDED(CoInitializeEx(NULL, COINIT_MULTITHREADED)));
    ASSERT_HR(S_OK, CoCreateInstance(clsid, NULL, CLSCTX_INPROC_SERVER, &IID_ISynchronize, (void **)&s));
    return s;
}

static int fd_of(ISynchronize *s)
{
    ISynchronizeHandle *h;
    HANDLE fd;
    ASSERT_HR(S_OK, ISynchronize_QueryInterface(s, &IID_ISynchronizeHandle, (void **)&h));
    ASSERT_HR(S_OK, ISynchronizeHandle_GetHandle(h, &fd));
    ISynchronizeHandle_Release(h);
    return (int)(intptr_t)fd;
}

static int readable(int fd)
{
    struct pollfd p = { fd, POLLIN, 0 };
    return poll(&p, 1, 0) == 1;
}

TEST(C1_wait_poll_and_infinite)
{
    ISynchronize *s = make_event(&CLSID_ManualResetEvent);
    ASSERT_HR(RPC_E_TIMEOUT, ISynchronize_Wait(s, 0, 0));        /* 0 = poll */
    ASSERT_HR(S_OK, ISynchronize_Signal(s));
    ASSERT_HR(S_OK, ISynchronize_Wait(s, 0, INFINITE));
    ISynchronize_Release(s);
}

TEST(C2_wait_timeout_is_rpc_e_timeout)
{
    ISynchronize *s = make_event(&CLSID_StdEvent);
    double t0 = now_ms();
    ASSERT_HR(RPC_E_TIMEOUT, ISynchronize_Wait(s, 0, 50));
    double dt = now_ms() - t0;
    ASSERT(dt >= 45);           /* it waited (a hang is the harness's time limit) */
    ASSERT_EQ(AMRT_WAIT_TIMEOUT, (HRESULT)0x8001011F);
    ISynchronize_Release(s);
}

static void *signal_later(void *arg)
{
    sleep_ms(30);
    ISynchronize_Signal((ISynchronize *)arg);
    return NULL;
}

TEST(C5_signal_releases_waiter)
{
    ISynchronize *s = make_event(&CLSID_StdEvent);
    pthread_t t;
    pthread_create(&t, NULL, signal_later, s);
    ASSERT_HR(S_OK, ISynchronize_Wait(s, 0, 5000));
    pthread_join(t, NULL);
    ISynchronize_Release(s);
}

TEST(C6_reset_makes_nonsignaled)
{
    ISynchronize *s = make_event(&CLSID_ManualResetEvent);
    ASSERT_HR(S_OK, ISynchronize_Signal(s));
    ASSERT_HR(S_OK, ISynchronize_Reset(s));
    ASSERT_HR(RPC_E_TIMEOUT, ISynchronize_Wait(s, 0, 0));
    ISynchronize_Release(s);
}

TEST(C7_std_event_is_auto_reset)
{
    ISynchronize *s = make_event(&CLSID_StdEvent);
    ASSERT_HR(S_OK, ISynchronize_Signal(s));
    ASSERT_HR(S_OK, ISynchronize_Wait(s, 0, 0));
    ASSERT_HR(RPC_E_TIMEOUT, ISynchronize_Wait(s, 0, 0));       /* consumed */
    ISynchronize_Release(s);
}

TEST(C8_manual_reset_stays_signaled)
{
    ISynchronize *s = make_event(&CLSID_ManualResetEvent);
    ASSERT_HR(S_OK, ISynchronize_Signal(s));
    ASSERT_HR(S_OK, ISynchronize_Wait(s, 0, 0));
    ASSERT_HR(S_OK, ISynchronize_Wait(s, 0, 0));
    ISynchronize_Release(s);
}

/* an outer object aggregating an event: it forwards QI to the inner */
typedef struct Outer { IUnknown iface; long refs; IUnknown *inner; } Outer;
static HRESULT STDMETHODCALLTYPE outer_qi(IUnknown *This, REFIID riid, void **ppv)
{
    Outer *o = (Outer *)This;
    if (IsEqualIID(riid, &IID_IUnknown)) { *ppv = This; IUnknown_AddRef(This); return S_OK; }
    return IUnknown_QueryInterface(o->inner, riid, ppv);
}
static ULONG STDMETHODCALLTYPE outer_addref(IUnknown *This) { return (ULONG)++((Outer *)This)->refs; }
static ULONG STDMETHODCALLTYPE outer_release(IUnknown *This) { return (ULONG)--((Outer *)This)->refs; }
static IUnknownVtbl outer_vtbl = { outer_qi, outer_addref, outer_release };

TEST(C9_aggregatable_events_and_interfaces)
{
    ASSERT_HR(S_OK, CoInitializeEx(NULL, COINIT_MULTITHREADED));
    Outer o = { { &outer_vtbl }, 1, NULL };
    void *p;
    ASSERT_HR(CLASS_E_NOAGGREGATION, CoCreateInstance(&CLSID_ManualResetEvent, &o.iface, CLSCTX_INPROC_SERVER, &IID_ISynchronize, &p));
    ASSERT_HR(S_OK, CoCreateInstance(&CLSID_ManualResetEvent, &o.iface, CLSCTX_INPROC_SERVER, &IID_IUnknown, (void **)&o.inner));
    ISynchronize *s;
    ASSERT_HR(S_OK, IUnknown_QueryInterface(&o.iface, &IID_ISynchronize, (void **)&s));
    ASSERT_EQ(o.refs, 2);                     /* the inner's interfaces count on the outer */
    IUnknown *u;
    ASSERT_HR(S_OK, ISynchronize_QueryInterface(s, &IID_IUnknown, (void **)&u));
    ASSERT(u == &o.iface);                    /* QI through the inner reaches the outer's identity */
    IUnknown_Release(u);
    ISynchronizeEvent *e;
    ASSERT_HR(S_OK, ISynchronize_QueryInterface(s, &IID_ISynchronizeEvent, (void **)&e));
    ISynchronizeEvent_Release(e);
    ASSERT_HR(RPC_E_TIMEOUT, ISynchronize_Wait(s, 0, 0));  /* initially non-signaled */
    ISynchronize_Release(s);
    ASSERT_EQ(o.refs, 1);
    IUnknown_Release(o.inner);                /* frees the event */
}

TEST(C10_handle_readable_exactly_while_signaled)
{
    ISynchronize *m = make_event(&CLSID_ManualResetEvent);
    int fd = fd_of(m);
    ASSERT(fd >= 0 && !readable(fd));
    ISynchronize_Signal(m);
    ASSERT(readable(fd));
    ISynchronize_Signal(m);                   /* twice: still one readable state */
    ISynchronize_Reset(m);
    ASSERT(!readable(fd));
    ISynchronize *a = make_event(&CLSID_StdEvent);
    ISynchronize_Signal(a);
    int fa = fd_of(a);                        /* created while signaled: readable */
    ASSERT(readable(fa));
    ASSERT_HR(S_OK, ISynchronize_Wait(a, 0, 0));
    ASSERT(!readable(fa));                    /* the auto-reset consumed it */
    ASSERT_EQ(fd_of(a), fa);                  /* the same handle, owned by the object */
    ISynchronize_Release(m);
    ISynchronize_Release(a);
}

TEST(C11_set_event_handle)
{
    ISynchronize *s = make_event(&CLSID_StdEvent);
    ISynchronizeEvent *e;
    ASSERT_HR(S_OK, ISynchronize_QueryInterface(s, &IID_ISynchronizeEvent, (void **)&e));
    ASSERT_HR(E_INVALIDARG, ISynchronizeEvent_SetEventHandle(e, NULL));
    int efd = eventfd(0, EFD_NONBLOCK);
    HANDLE h = (HANDLE)(intptr_t)efd;
    ASSERT_HR(S_OK, ISynchronizeEvent_SetEventHandle(e, &h));
    ASSERT(!readable(efd));
    ISynchronize_Signal(s);
    ASSERT(readable(efd));
    ISynchronizeEvent_Release(e);
    ISynchronize_Release(s);
    close(efd);
}

static ISynchronizeContainer *make_container(void)
{
    ISynchronizeContainer *c = NULL;
    ASSERT(SUCCEEDED(CoInitializeEx(NULL, COINIT_MULTITHREADED)));
    ASSERT_HR(S_OK, CoCreateInstance(&CLSID_SynchronizeContainer, NULL, CLSCTX_INPROC_SERVER,
                                     &IID_ISynchronizeContainer, (void **)&c));
    return c;
}

TEST(C13_container_holds_63)
{
    ISynchronizeContainer *c = make_container();
    ISynchronize *s = make_event(&CLSID_StdEvent);
    for (int i = 0; i < 63; i++)
        ASSERT_HR(S_OK, ISynchronizeContainer_AddSynchronize(c, s));
    ASSERT_HR(RPC_E_OUT_OF_RESOURCES, ISynchronizeContainer_AddSynchronize(c, s));
    ISynchronizeContainer_Release(c);
    ISynchronize_Release(s);
}

TEST(C14_wait_multiple_returns_the_signaled_one)
{
    ISynchronizeContainer *c = make_container();
    ISynchronize *ev[3], *got = NULL;
    ASSERT_HR(RPC_E_NO_SYNC, ISynchronizeContainer_WaitMultiple(c, 0, 0, &got));
    for (int i = 0; i < 3; i++) {
        ev[i] = make_event(&CLSID_StdEvent);
        ASSERT_HR(S_OK, ISynchronizeContainer_AddSynchronize(c, ev[i]));
    }
    ASSERT_HR(E_INVALIDARG, ISynchronizeContainer_WaitMultiple(c, 0, 0, NULL));
    ASSERT_HR(E_INVALIDARG, ISynchronizeContainer_WaitMultiple(c, COWAIT_WAITALL, 0, &got));
    ASSERT_HR(RPC_E_TIMEOUT, ISynchronizeContainer_WaitMultiple(c, 0, 20, &got));
    pthread_t t;
    pthread_create(&t, NULL, signal_later, ev[1]);
    ASSERT_HR(S_OK, ISynchronizeContainer_WaitMultiple(c, 0, 5000, &got));
    pthread_join(t, NULL);
    ASSERT(got == ev[1]);
    ISynchronize_Release(got);                /* AddRef'd for the caller */
    for (int i = 0; i < 3; i++)
        ISynchronize_Release(ev[i]);
    ISynchronizeContainer_Release(c);
}

TEST(C15_auto_reset_member_consumed_lowest_index_first)
{
    ISynchronizeContainer *c = make_container();
    ISynchronize *a = make_event(&CLSID_StdEvent), *b = make_event(&CLSID_StdEvent), *got;
    ISynchronizeContainer_AddSynchronize(c, a);
    ISynchronizeContainer_AddSynchronize(c, b);
    ISynchronize_Signal(b);
    ISynchronize_Signal(a);
    ASSERT_HR(S_OK, ISynchronizeContainer_WaitMultiple(c, 0, 0, &got));
    ASSERT(got == a);
    ISynchronize_Release(got);
    ASSERT_HR(S_OK, ISynchronizeContainer_WaitMultiple(c, 0, 0, &got));
    ASSERT(got == b);
    ISynchronize_Release(got);
    ASSERT_HR(RPC_E_TIMEOUT, ISynchronizeContainer_WaitMultiple(c, 0, 0, &got));
    ISynchronize_Release(a);
    ISynchronize_Release(b);
    ISynchronizeContainer_Release(c);
}

/* ISynchronizeMutex (the runtime's CLSID_AmrtSynchronizeMutex): Wait
 * acquires, recursively on the owning thread; ReleaseMutex from another
 * thread fails; a waiter on another thread gets it once fully released */
typedef struct { ISynchronizeMutex *mx; HRESULT poll, release, wait, release2; atomic_int got; } MxArg;

static void *mx_other(void *p)
{
    MxArg *a = p;
    a->poll = ISynchronizeMutex_Wait(a->mx, 0, 0);
    a->release = ISynchronizeMutex_ReleaseMutex(a->mx);
    a->wait = ISynchronizeMutex_Wait(a->mx, 0, 5000);
    atomic_store(&a->got, 1);
    a->release2 = ISynchronizeMutex_ReleaseMutex(a->mx);
    return NULL;
}

TEST(C16_synchronize_mutex)
{
    ISynchronizeMutex *mx = NULL;
    ISynchronize *s = NULL;
    IUnknown *bad = (IUnknown *)1, *outer = (IUnknown *)2;
    ASSERT(SUCCEEDED(CoInitializeEx(NULL, COINIT_MULTITHREADED)));
    ASSERT_HR(CLASS_E_NOAGGREGATION, CoCreateInstance(&CLSID_AmrtSynchronizeMutex, outer, CLSCTX_INPROC_SERVER,
                                                      &IID_ISynchronizeMutex, (void **)&bad));
    ASSERT(bad == NULL);
    ASSERT_HR(S_OK, CoCreateInstance(&CLSID_AmrtSynchronizeMutex, NULL, CLSCTX_INPROC_SERVER,
                                     &IID_ISynchronizeMutex, (void **)&mx));
    ASSERT_HR(S_OK, ISynchronizeMutex_QueryInterface(mx, &IID_ISynchronize, (void **)&s));
    ASSERT((void *)s == (void *)mx);
    ASSERT_HR(E_FAIL, ISynchronizeMutex_ReleaseMutex(mx));     /* not owned */
    ASSERT_HR(E_NOTIMPL, ISynchronize_Reset(s));
    ASSERT_HR(S_OK, ISynchronize_Wait(s, 0, 0));               /* acquire */
    ASSERT_HR(S_OK, ISynchronize_Wait(s, 0, INFINITE));        /* recursive */
    MxArg a = { mx, 0, 0, 0, 0, 0 };
    pthread_t t;
    pthread_create(&t, NULL, mx_other, &a);
    sleep_ms(50);
    ASSERT_EQ(atomic_load(&a.got), 0);                         /* still ours */
    ASSERT_HR(S_OK, ISynchronizeMutex_ReleaseMutex(mx));
    sleep_ms(50);
    ASSERT_EQ(atomic_load(&a.got), 0);                         /* one level left */
    ASSERT_HR(S_OK, ISynchronize_Signal(s));                   /* Signal releases too */
    pthread_join(t, NULL);
    ASSERT_HR(RPC_E_TIMEOUT, a.poll);
    ASSERT_HR(E_FAIL, a.release);
    ASSERT_HR(S_OK, a.wait);
    ASSERT_HR(S_OK, a.release2);
    ASSERT_HR(S_OK, ISynchronize_Wait(s, 0, 20));              /* free again */
    ASSERT_HR(S_OK, ISynchronizeMutex_ReleaseMutex(mx));
    ISynchronize_Release(s);
    ISynchronizeMutex_Release(mx);
    CoUninitialize();
}

TEST(C17_co_wait_for_multiple_handles)
{
    ISynchronize *a = make_event(&CLSID_ManualResetEvent), *b = make_event(&CLSID_ManualResetEvent);
    HANDLE hs[2] = { (HANDLE)(intptr_t)fd_of(a), (HANDLE)(intptr_t)fd_of(b) };
    DWORD idx = 99;
    ASSERT_HR(E_INVALIDARG, CoWaitForMultipleHandles(0, 0, 2, NULL, &idx));
    ASSERT_HR(E_INVALIDARG, CoWaitForMultipleHandles(0, 0, 2, hs, NULL));
    ASSERT_HR(RPC_E_NO_SYNC, CoWaitForMultipleHandles(0, 0, 0, hs, &idx));
    ASSERT_HR(RPC_S_CALLPENDING, CoWaitForMultipleHandles(0, 10, 2, hs, &idx));
    ISynchronize_Signal(b);
    ASSERT_HR(S_OK, CoWaitForMultipleHandles(0, 1000, 2, hs, &idx));
    ASSERT_EQ(idx, 1);
    ASSERT_HR(RPC_S_CALLPENDING, CoWaitForMultipleHandles(COWAIT_WAITALL, 10, 2, hs, &idx));
    ISynchronize_Signal(a);
    ASSERT_HR(S_OK, CoWaitForMultipleHandles(COWAIT_WAITALL, 1000, 2, hs, &idx));
    ISynchronize_Release(a);
    ISynchronize_Release(b);
}

TEST(C18_C19_cowait_flags_accepted)
{
    ISynchronize *a = make_event(&CLSID_ManualResetEvent);
    HANDLE h = (HANDLE)(intptr_t)fd_of(a);
    DWORD idx;
    ISynchronize_Signal(a);
    ASSERT_HR(S_OK, CoWaitForMultipleHandles(COWAIT_ALERTABLE | COWAIT_INPUTAVAILABLE | COWAIT_DISPATCH_CALLS |
                                             COWAIT_DISPATCH_WINDOW_MESSAGES, 0, 1, &h, &idx));
    ASSERT_HR(E_INVALIDARG, CoWaitForMultipleHandles(0x100, 0, 1, &h, &idx));
    ASSERT_EQ(COWAIT_WAITALL, 1);
    ASSERT_EQ(COWAIT_DISPATCH_WINDOW_MESSAGES, 0x10);
    ASSERT_HR(S_OK, ISynchronize_Wait(a, COWAIT_DISPATCH_CALLS, 0));
    ISynchronize_Release(a);
}

TEST(C3_wait_rejects_undefined_flags)
{
    ISynchronize *e = make_event(&CLSID_ManualResetEvent);
    ISynchronizeContainer *c = make_container();
    ISynchronizeMutex *mx;
    ISynchronize *got = (ISynchronize *)1;
    ASSERT_HR(S_OK, CoCreateInstance(&CLSID_AmrtSynchronizeMutex, NULL, CLSCTX_INPROC_SERVER, &IID_ISynchronizeMutex,
                                     (void **)&mx));
    ISynchronize_Signal(e);
    ASSERT_HR(E_INVALIDARG, ISynchronize_Wait(e, 0x100, 0));
    ASSERT_HR(E_INVALIDARG, ISynchronize_Wait(e, 0x80000000u, INFINITE));
    ASSERT_HR(S_OK, ISynchronize_Wait(e, 0, 0));                  /* it was not touched */
    ASSERT_HR(E_INVALIDARG, ISynchronizeMutex_Wait(mx, 0x40, 0));
    ASSERT_HR(S_OK, ISynchronizeContainer_AddSynchronize(c, e));
    ASSERT_HR(E_INVALIDARG, ISynchronizeContainer_WaitMultiple(c, 0x200, 0, &got));
    ASSERT(got == NULL);
    ASSERT_HR(E_INVALIDARG, ISynchronizeContainer_WaitMultiple(c, 0, 0, NULL));
    ISynchronizeMutex_Release(mx);
    ISynchronizeContainer_Release(c);
    ISynchronize_Release(e);
}

/* no message loop on Linux: whatever the COWAIT flags, Wait blocks until
 * the signal, as in an MTA */
TEST(C4_wait_blocks_whatever_the_flags)
{
    ISynchronize *s = make_event(&CLSID_ManualResetEvent);
    pthread_t t;
    double t0 = now_ms();
    pthread_create(&t, NULL, signal_later, s);      /* 30 ms from now */
    ASSERT_HR(S_OK, ISynchronize_Wait(s, COWAIT_DISPATCH_CALLS | COWAIT_DISPATCH_WINDOW_MESSAGES |
                                         COWAIT_INPUTAVAILABLE | COWAIT_ALERTABLE, INFINITE));
    ASSERT(now_ms() - t0 >= 25);                    /* it did not return to dispatch anything */
    pthread_join(t, NULL);
    ISynchronize_Release(s);
}

/* a container manages a group of unsignaled objects: nothing signaled,
 * WaitMultiple times out; it is not itself an ISynchronize */
TEST(C12_container_manages_unsignaled_objects)
{
    ISynchronizeContainer *c = make_container();
    ISynchronize *a = make_event(&CLSID_StdEvent), *b = make_event(&CLSID_ManualResetEvent), *got = NULL;
    void *p = (void *)1;
    ASSERT_HR(E_NOINTERFACE, ISynchronizeContainer_QueryInterface(c, &IID_ISynchronize, &p));
    ASSERT(p == NULL);
    ASSERT_HR(S_OK, ISynchronizeContainer_AddSynchronize(c, a));
    ASSERT_HR(S_OK, ISynchronizeContainer_AddSynchronize(c, b));
    ASSERT_HR(RPC_E_TIMEOUT, ISynchronizeContainer_WaitMultiple(c, 0, 0, &got));
    ASSERT_HR(RPC_E_TIMEOUT, ISynchronizeContainer_WaitMultiple(c, 0, 20, &got));
    ASSERT(got == NULL);
    ISynchronize_Signal(b);
    ASSERT_HR(S_OK, ISynchronizeContainer_WaitMultiple(c, 0, 1000, &got));
    ASSERT(got == b);
    ISynchronize_Release(got);
    ISynchronizeContainer_Release(c);
    ISynchronize_Release(a);
    ISynchronize_Release(b);
}

/* Wine's ole32 test_CoWaitForMultipleHandles, which passes on Windows */
TEST(C20_cowait_consumes_an_auto_reset_signal)
{
    ISynchronize *a = make_event(&CLSID_StdEvent), *b = make_event(&CLSID_StdEvent);
    ISynchronize *m = make_event(&CLSID_ManualResetEvent);
    HANDLE hs[3] = { (HANDLE)(intptr_t)fd_of(a), (HANDLE)(intptr_t)fd_of(b), (HANDLE)(intptr_t)fd_of(m) };
    DWORD idx = 99;
    ISynchronize_Signal(a);
    ISynchronize_Signal(b);
    ASSERT_HR(S_OK, CoWaitForMultipleHandles(0, 0, 2, hs, &idx));
    ASSERT_EQ(idx, 0);
    ASSERT_HR(S_OK, CoWaitForMultipleHandles(0, 0, 2, hs, &idx));      /* a's signal was consumed */
    ASSERT_EQ(idx, 1);
    ASSERT_HR(RPC_S_CALLPENDING, CoWaitForMultipleHandles(0, 0, 2, hs, &idx));
    ASSERT_HR(RPC_E_TIMEOUT, ISynchronize_Wait(a, 0, 0));
    ASSERT_HR(RPC_E_TIMEOUT, ISynchronize_Wait(b, 0, 0));
    ASSERT(!readable(fd_of(a)) && !readable(fd_of(b)));
    /* a manual-reset event stays signaled */
    ISynchronize_Signal(m);
    ASSERT_HR(S_OK, CoWaitForMultipleHandles(0, 0, 3, hs, &idx));
    ASSERT_EQ(idx, 2);
    ASSERT_HR(S_OK, CoWaitForMultipleHandles(0, 0, 3, hs, &idx));
    ASSERT_EQ(idx, 2);
    /* COWAIT_WAITALL consumes every one, and only when all are signaled */
    ISynchronize_Signal(a);
    ASSERT_HR(RPC_S_CALLPENDING, CoWaitForMultipleHandles(COWAIT_WAITALL, 0, 3, hs, &idx));
    ASSERT_HR(S_OK, ISynchronize_Wait(a, 0, 0));                         /* left as it was */
    ISynchronize_Signal(a);
    ISynchronize_Signal(b);
    ASSERT_HR(S_OK, CoWaitForMultipleHandles(COWAIT_WAITALL, 0, 3, hs, &idx));
    ASSERT_EQ(idx, 0);
    ASSERT_HR(RPC_E_TIMEOUT, ISynchronize_Wait(a, 0, 0));
    ASSERT_HR(RPC_E_TIMEOUT, ISynchronize_Wait(b, 0, 0));
    ASSERT_HR(S_OK, ISynchronize_Wait(m, 0, 0));
    /* the same auto-reset handle twice in a WAITALL wait: one signal does */
    HANDLE twice[2] = { hs[0], hs[0] };
    ISynchronize_Signal(a);
    ASSERT_HR(S_OK, CoWaitForMultipleHandles(COWAIT_WAITALL, 0, 2, twice, &idx));
    ASSERT_HR(RPC_E_TIMEOUT, ISynchronize_Wait(a, 0, 0));
    ISynchronize_Release(a);
    ISynchronize_Release(b);
    ISynchronize_Release(m);
}

static void *signal_twice_later(void *arg)
{
    sleep_ms(20);
    ISynchronize_Signal((ISynchronize *)arg);
    return NULL;
}

TEST(C20_cowait_wakes_for_the_next_signal_only)
{
    ISynchronize *a = make_event(&CLSID_StdEvent);
    HANDLE h = (HANDLE)(intptr_t)fd_of(a);
    DWORD idx = 99;
    for (int i = 0; i < 3; i++) {
        pthread_t t;
        pthread_create(&t, NULL, signal_twice_later, a);
        ASSERT_HR(S_OK, CoWaitForMultipleHandles(0, INFINITE, 1, &h, &idx));   /* one signal, one wait */
        pthread_join(t, NULL);
        ASSERT_HR(RPC_S_CALLPENDING, CoWaitForMultipleHandles(0, 0, 1, &h, &idx));
    }
    ISynchronize_Release(a);
}

TEST(C21_index_is_zero_on_invalid_arguments)
{
    ISynchronize *a = make_event(&CLSID_ManualResetEvent);
    HANDLE h = (HANDLE)(intptr_t)fd_of(a);
    DWORD idx = 99;
    ASSERT_HR(E_INVALIDARG, CoWaitForMultipleHandles(0, 0, 1, NULL, &idx));
    ASSERT_EQ(idx, 0);
    idx = 99;
    ASSERT_HR(RPC_E_NO_SYNC, CoWaitForMultipleHandles(0, 0, 0, &h, &idx));
    ASSERT_EQ(idx, 0);
    ISynchronize_Release(a);
}

TEST(C22_a_handle_not_of_this_runtime_fails_at_once)
{
    ISynchronize *a = make_event(&CLSID_ManualResetEvent);
    int own = eventfd(1, EFD_CLOEXEC);                                  /* readable, but the program's own */
    ASSERT(own >= 0);
    HANDLE hs[2] = { (HANDLE)(intptr_t)fd_of(a), (HANDLE)(intptr_t)own };
    DWORD idx = 99;
    ASSERT_EQ(HRESULT_FROM_WIN32(ERROR_INVALID_HANDLE), (HRESULT)0x80070006);
    ASSERT_HR(0x80070006, CoWaitForMultipleHandles(0, INFINITE, 2, hs, &idx));   /* no wait at all */
    ASSERT_HR(0x80070006, CoWaitForMultipleHandles(COWAIT_WAITALL, INFINITE, 2, hs, &idx));
    HANDLE bad[2] = { (HANDLE)(intptr_t)-1, (HANDLE)(intptr_t)100000 };
    ASSERT_HR(0x80070006, CoWaitForMultipleHandles(0, INFINITE, 1, &bad[0], &idx));
    ASSERT_HR(0x80070006, CoWaitForMultipleHandles(0, INFINITE, 1, &bad[1], &idx));
    /* a released event's handle is no handle any more */
    HANDLE gone = hs[0];
    ISynchronize_Release(a);
    ASSERT_HR(0x80070006, CoWaitForMultipleHandles(0, INFINITE, 1, &gone, &idx));
    close(own);
}

TEST(C23_co_get_class_object_for_the_system_classes)
{
    ASSERT_HR(S_OK, CoInitializeEx(NULL, COINIT_MULTITHREADED));
    const CLSID *clsids[4] = { &CLSID_StdEvent, &CLSID_ManualResetEvent, &CLSID_SynchronizeContainer,
                               &CLSID_AmrtSynchronizeMutex };
    const IID *iids[4] = { &IID_ISynchronize, &IID_ISynchronize, &IID_ISynchronizeContainer, &IID_ISynchronizeMutex };
    for (int i = 0; i < 4; i++) {
        IClassFactory *cf = NULL;
        IUnknown *u = NULL, *p = NULL;
        ASSERT_HR(S_OK, CoGetClassObject(clsids[i], CLSCTX_INPROC_SERVER, NULL, &IID_IClassFactory, (void **)&cf));
        ASSERT_HR(S_OK, CoGetClassObject(clsids[i], CLSCTX_INPROC_SERVER, NULL, &IID_IUnknown, (void **)&u));
        ASSERT(u != NULL);
        IUnknown_Release(u);
        ASSERT_HR(S_OK, IClassFactory_LockServer(cf, TRUE));
        ASSERT_HR(S_OK, IClassFactory_LockServer(cf, FALSE));
        ASSERT_HR(S_OK, IClassFactory_CreateInstance(cf, NULL, iids[i], (void **)&p));
        ASSERT(p != NULL);
        IUnknown_Release(p);
        IUnknown outer = { NULL };
        p = (IUnknown *)1;
        ASSERT_HR(CLASS_E_NOAGGREGATION, IClassFactory_CreateInstance(cf, &outer, iids[i], (void **)&p));
        ASSERT(p == NULL);
        IClassFactory_Release(cf);
    }
    /* what the factories make is what CoCreateInstance makes */
    IClassFactory *cf;
    ISynchronize *s;
    ASSERT_HR(S_OK, CoGetClassObject(&CLSID_StdEvent, CLSCTX_INPROC_SERVER, NULL, &IID_IClassFactory, (void **)&cf));
    ASSERT_HR(S_OK, IClassFactory_CreateInstance(cf, NULL, &IID_ISynchronize, (void **)&s));
    ISynchronize_Signal(s);
    ASSERT_HR(S_OK, ISynchronize_Wait(s, 0, 0));
    ASSERT_HR(RPC_E_TIMEOUT, ISynchronize_Wait(s, 0, 0));               /* auto-reset */
    ISynchronize_Release(s);
    IClassFactory_Release(cf);
    ASSERT_HR(S_OK, CoGetClassObject(&CLSID_ManualResetEvent, CLSCTX_INPROC_SERVER, NULL, &IID_IClassFactory,
                                     (void **)&cf));
    ASSERT_HR(S_OK, IClassFactory_CreateInstance(cf, NULL, &IID_ISynchronize, (void **)&s));
    ISynchronize_Signal(s);
    ASSERT_HR(S_OK, ISynchronize_Wait(s, 0, 0));
    ASSERT_HR(S_OK, ISynchronize_Wait(s, 0, 0));                        /* manual-reset */
    ISynchronize_Release(s);
    IClassFactory_Release(cf);
    CoUninitialize();
    ASSERT_HR(CO_E_NOTINITIALIZED, CoGetClassObject(&CLSID_StdEvent, CLSCTX_INPROC_SERVER, NULL, &IID_IClassFactory,
                                                    (void **)&cf));
}

TEST(event_creation_out_of_memory)
{
    ASSERT_HR(S_OK, CoInitializeEx(NULL, COINIT_MULTITHREADED));
    void *p = (void *)1;
    AmrtFailAllocationAfter(0);
    ASSERT_HR(E_OUTOFMEMORY, CoCreateInstance(&CLSID_StdEvent, NULL, CLSCTX_INPROC_SERVER, &IID_ISynchronize, &p));
    ASSERT(p == NULL);
    AmrtFailAllocationAfter(0);
    ASSERT_HR(E_OUTOFMEMORY, CoCreateInstance(&CLSID_SynchronizeContainer, NULL, CLSCTX_INPROC_SERVER, &IID_ISynchronizeContainer, &p));
    AmrtFailAllocationAfter(0);
    ASSERT_HR(E_OUTOFMEMORY, CoCreateInstance(&CLSID_AmrtSynchronizeMutex, NULL, CLSCTX_INPROC_SERVER, &IID_ISynchronizeMutex, &p));
    ASSERT(p == NULL);
    AmrtFailAllocationAfter(-1);
}

RUN_TESTS(ENTRY(C1_wait_poll_and_infinite), ENTRY(C2_wait_timeout_is_rpc_e_timeout), ENTRY(C5_signal_releases_waiter),
          ENTRY(C6_reset_makes_nonsignaled), ENTRY(C7_std_event_is_auto_reset), ENTRY(C8_manual_reset_stays_signaled),
          ENTRY(C9_aggregatable_events_and_interfaces), ENTRY(C10_handle_readable_exactly_while_signaled),
          ENTRY(C11_set_event_handle), ENTRY(C13_container_holds_63), ENTRY(C14_wait_multiple_returns_the_signaled_one),
          ENTRY(C15_auto_reset_member_consumed_lowest_index_first), ENTRY(C16_synchronize_mutex), ENTRY(C17_co_wait_for_multiple_handles),
          ENTRY(C18_C19_cowait_flags_accepted), ENTRY(C3_wait_rejects_undefined_flags),
          ENTRY(C4_wait_blocks_whatever_the_flags), ENTRY(C12_container_manages_unsignaled_objects),
          ENTRY(event_creation_out_of_memory), ENTRY(C20_cowait_consumes_an_auto_reset_signal),
          ENTRY(C20_cowait_wakes_for_the_next_signal_only), ENTRY(C21_index_is_zero_on_invalid_arguments),
          ENTRY(C22_a_handle_not_of_this_runtime_fails_at_once), ENTRY(C23_co_get_class_object_for_the_system_classes))
