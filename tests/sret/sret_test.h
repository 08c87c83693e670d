/* tests/sret: what the implementations and the callers share. The
 * implementations compute every result with these functions, the callers
 * check what comes back against them. */
#ifndef SRET_TEST_H
#define SRET_TEST_H
#include <string.h>
#include "sret.h"

#define SRET_S_OK ((HRESULT)0)   /* the header alone (no amidlrt.h) */

#ifdef __cplusplus
extern "C" {
#endif
ISret2 *sret_make_c(void);                  /* impl_c.c: a C object, its own vtable */
ISret2 *sret_make_cxx(void);                /* impl_cxx.cc: a C++ object, virtual methods */
void sret_call_c(ISret2 *p, const char *who);           /* call_c.c: the COBJMACROS macros */
void sret_call_c_inline(ISret2 *p, const char *who);    /* ... WIDL_C_INLINE_WRAPPERS */
void sret_call_cxx(ISret2 *p, const char *who);         /* call_cxx.cc: the virtual methods */
void sret_report(const char *who, const char *what, int good);  /* main.c: an ok or FAIL line */
#ifdef __cplusplus
}
#endif

static inline SMALL sret_small(LONG base)
{
    SMALL s;
    s.x = base + 1;
    s.y = base * 3;
    return s;
}

static inline FLOATS sret_floats(float scale)
{
    FLOATS f;
    f.f = scale * 0.5f;
    f.g = scale * 2.0f;
    return f;
}

static inline MIXED sret_mixed(double d, LONG n)
{
    MIXED m;
    m.d = d * 2.0;
    m.n = n + 7;
    return m;
}

static inline PAIR sret_pair(LONGLONG a)
{
    PAIR p;
    p.a = a + 1;
    p.b = -a;
    return p;
}

static inline BIG sret_big(LONG first, LONG step)
{
    BIG b;
    for (int i = 0; i < 10; i++)
        b.v[i] = first + i * step;
    return b;
}

static inline TINY sret_tiny(void)
{
    TINY t;
    t.b = 0x5a;
    return t;
}

static inline NUMBER sret_number(LONG i)
{
    NUMBER n;
    memset(&n, 0, sizeof n);
    n.i = i ^ 0x1234;
    return n;
}

static inline LONG sret_check(SMALL s, BIG b)
{
    LONG sum = s.x + s.y * 10;
    for (int i = 0; i < 10; i++)
        sum += b.v[i] * (i + 1);
    return sum;
}

static inline BIG sret_twice(BIG b)
{
    for (int i = 0; i < 10; i++)
        b.v[i] *= 2;
    return b;
}
#endif
