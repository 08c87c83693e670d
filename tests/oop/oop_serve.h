/* oop_serve.h - what the two-process tests share (oop_serve.c): their
 * checks and time limits, a class factory over a create function, the
 * serving loop of a test server (register, say "ready PID", serve until
 * SIGTERM, revoke), a client's first object and call objects, a server's
 * own call objects (RULES.md E), and the count of the pool's threads. */
#ifndef OOP_SERVE_H
#define OOP_SERVE_H

#include "amidlrt.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- checks: a failed one says where and what, and counts in failures ---- */

extern int failures;
#define EXPECT(cond) do { if (!(cond)) { \
        fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #cond); failures++; } } while (0)
#define EXPECT_HR(expect, expr) do { HRESULT hr_ = (expr); if (hr_ != (HRESULT)(expect)) { \
        fprintf(stderr, "%s:%d: %s returned 0x%08x, expected %s (0x%08x)\n", __FILE__, __LINE__, #expr, \
                (unsigned)hr_, #expect, (unsigned)(HRESULT)(expect)); failures++; } } while (0)
/* the same, ending the process (exit status 1) */
#define REQUIRE_HR(expect, expr) do { HRESULT hr_ = (expr); if (hr_ != (HRESULT)(expect)) { \
        fprintf(stderr, "%s:%d: %s returned 0x%08x, expected %s (0x%08x)\n", __FILE__, __LINE__, #expr, \
                (unsigned)hr_, #expect, (unsigned)(HRESULT)(expect)); exit(1); } } while (0)

/* ---- time ---- */

/* AMIDL_TEST_TIMEOUT_MULTIPLIER (a whole number above 0), else 1 */
DWORD oop_mult(void);
/* a wait's limit: generous (20 s times oop_mult()), only to catch a hang */
DWORD hang_ms(void);
void sleep_ms(long ms);

/* ---- the server ---- */

/* A class factory whose CreateInstance calls create (aggregation refused)
 * and whose LockServer does nothing; static, never freed:
 *     static OopFactory factory = OOP_FACTORY(new_obj); */
typedef struct OopFactory {
    IClassFactory iface;
    HRESULT (*create)(REFIID riid, void **ppv);
} OopFactory;
extern IClassFactoryVtbl oop_factory_vtbl;
#define OOP_FACTORY(create) { { &oop_factory_vtbl }, (create) }

/* Register factory for clsid (CLSCTX_LOCAL_SERVER, REGCLS_MULTIPLEUSE),
 * print "ready PID", serve until SIGTERM (at most 300 s), revoke and
 * uninitialize. 0; 1 when it could not register; 3 when objects are still
 * alive (*live, counted by the objects), named after who. */
int oop_serve(const CLSID *clsid, OopFactory *factory, atomic_long *live, const char *who);

/* QueryInterface of an object with one interface iid (NULL: IUnknown
 * only) besides IUnknown: This, AddRef'd through its vtable */
HRESULT oop_qi_single(void *This, const IID *iid, REFIID riid, void **ppv);

/* what a create function hands out: obj's riid, then obj's own (first)
 * reference let go */
HRESULT oop_hand_out(void *obj, REFIID riid, void **ppv);

/* Release of an object (block, from malloc) that counts itself in *live:
 * refs -1; at 0 cleanup(block) when given, free(block), *live -1. The
 * count left. */
ULONG oop_release(atomic_long *refs, void *block, atomic_long *live, void (*cleanup)(void *block));

/* ---- a server object's own call objects (RULES.md E1-E6) ----
 * A test's call object begins with an OopCall and adds its results:
 *     typedef struct SC { OopCall c; LONG value; HRESULT hr; } SC;
 * Aggregated in the controlling unknown (the runtime's, E3), or standing
 * alone with a ManualResetEvent aggregated in it (E4); its own
 * ICancelMethodCalls is told when the client cancels. The asynchronous
 * interface's vtable is the test's, its IUnknown methods
 * OOP_CALL_DELEGATES'. */
typedef struct OopCallKind {
    const IID *iids[3];                 /* the asynchronous interfaces it has, NULL after the last */
    bool aggregated_only;               /* CreateCall without an outer: E_INVALIDARG */
    atomic_long *live;                  /* +1 a call object made, -1 one gone */
    atomic_long *made;                  /* +1 a call object made (or NULL) */
    atomic_long *told;                  /* +1 a call's first Cancel on its own ICancelMethodCalls */
} OopCallKind;

typedef struct OopCall {
    IUnknown inner;                     /* non-delegating */
    IUnknown async;                     /* the asynchronous interface (the test's vtable) */
    ICancelMethodCalls cancel;          /* its own: the runtime calls Cancel when the client cancels */
    atomic_long refs;
    IUnknown *outer;                    /* the controlling unknown (not counted: we are its part), or &inner */
    IUnknown *ev;                       /* standing alone: a ManualResetEvent aggregated in us (E4) */
    atomic_bool own_canceled;
    const OopCallKind *kind;
} OopCall;

/* the OopCall of a pointer to its asynchronous interface */
#define OOP_CALL_ASYNC(p) ((OopCall *)((char *)(p) - offsetof(OopCall, async)))

/* PREFIX_qi, PREFIX_addref, PREFIX_release: the IUnknown methods of the
 * asynchronous interface Type, delegating to the controlling unknown */
#define OOP_CALL_DELEGATES(prefix, Type) \
    static HRESULT STDMETHODCALLTYPE prefix##_qi(Type *This, REFIID riid, void **ppv) \
    { return IUnknown_QueryInterface(OOP_CALL_ASYNC(This)->outer, riid, ppv); } \
    static ULONG STDMETHODCALLTYPE prefix##_addref(Type *This) { return IUnknown_AddRef(OOP_CALL_ASYNC(This)->outer); } \
    static ULONG STDMETHODCALLTYPE prefix##_release(Type *This) { return IUnknown_Release(OOP_CALL_ASYNC(This)->outer); }

/* ICallFactory::CreateCall for kind: a zeroed call object of size bytes
 * (an OopCall first) whose asynchronous interface has async_vtbl; B2-B4's
 * answers (E_POINTER, E_NOINTERFACE, CLASS_E_NOAGGREGATION). With an outer
 * *ppv is the inner unknown, else the object's riid2. */
HRESULT oop_call_create(const OopCallKind *kind, size_t size, void *async_vtbl, REFIID riid, IUnknown *outer,
                        REFIID riid2, IUnknown **ppv);

/* Signal the controlling unknown's ISynchronize (E2, E3) */
void oop_call_signal(OopCall *c);

/* Begin_ of a long call: work(arg) on a detached thread of its own,
 * holding the controlling unknown (oop_call_end lets it go); S_OK at once
 * (E6), E_OUTOFMEMORY when there is no thread */
HRESULT oop_call_start(OopCall *c, void *(*work)(void *), void *arg);

/* The work of such a call: up to ms in 2 ms steps, until TestCancel on the
 * controlling unknown says canceled (then +1 *canceled, and wait, bounded,
 * for the call object's own ICancelMethodCalls to be told). true when it
 * was canceled. */
bool oop_call_work(OopCall *c, long ms, atomic_long *canceled);

/* the end of oop_call_start's work: Signal, then let go of the controlling
 * unknown (last: the aggregate may go with it) */
void oop_call_end(OopCall *c);

/* ---- the client ---- */

/* CoCreateInstance(CLSCTX_LOCAL_SERVER) of clsid for riid; on failure it
 * says so ("CoCreateInstance: 0x...") and *ppv is NULL */
HRESULT oop_create(const CLSID *clsid, REFIID riid, void **ppv);

/* a call object of obj's (an interface pointer) for the asynchronous
 * interface iid, asked through its ICallFactory; NULL (the failure
 * counted) when there is none */
void *oop_new_call(void *obj, REFIID iid);

/* The threads of this process named amrt-worker (the pool's); -1 when
 * /proc/self/task cannot be read. */
int oop_pool_workers(void);

#endif
