/* oop_serve.h - what the two-process tests share (oop_serve.c): a class
 * factory over a create function, the serving loop of a test server
 * (register, say "ready PID", serve until SIGTERM, revoke), and the count
 * of the pool's threads. */
#ifndef OOP_SERVE_H
#define OOP_SERVE_H

#include "amidlrt.h"

#include <stdatomic.h>

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

/* The threads of this process named amrt-worker (the pool's); -1 when
 * /proc/self/task cannot be read. */
int oop_pool_workers(void);

#endif
