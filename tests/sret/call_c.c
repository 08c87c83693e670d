/* tests/sret: a C caller, through the header's C view (COBJMACROS; with
 * WIDL_C_INLINE_WRAPPERS when call_c_inline.c includes this file). */
#define COBJMACROS
#include <string.h>
#include "sret_test.h"

#ifndef SRET_CALL_C
#define SRET_CALL_C sret_call_c
#endif

static int big_eq(BIG a, BIG b)
{
    return !memcmp(a.v, b.v, sizeof a.v);
}

void SRET_CALL_C(ISret2 *p, const char *who)
{
    LONG plain = 0;
    HRESULT hr = ISret2_Plain(p, &plain);
    sret_report(who, "Plain (HRESULT, [out])", hr == SRET_S_OK && (plain == 142 || plain == 242));
    LONG bias = plain - 42;

    SMALL s = ISret2_GetSmall(p, 5), es = sret_small(5 + bias);
    sret_report(who, "GetSmall (8 bytes)", s.x == es.x && s.y == es.y);
    FLOATS f = ISret2_GetFloats(p, 3.0f), ef = sret_floats(3.0f + (float)bias);
    sret_report(who, "GetFloats (two floats)", f.f == ef.f && f.g == ef.g);
    MIXED m = ISret2_GetMixed(p, 1.25, 9), em = sret_mixed(1.25, 9 + bias);
    sret_report(who, "GetMixed (double and LONG)", m.d == em.d && m.n == em.n);
    PAIR pr = ISret2_GetPair(p, 1234567890123LL), ep = sret_pair(1234567890123LL + bias);
    sret_report(who, "GetPair (16 bytes)", pr.a == ep.a && pr.b == ep.b);
    BIG b = ISret2_GetBig(p, 11, 13);
    sret_report(who, "GetBig (40 bytes)", big_eq(b, sret_big(11 + bias, 13)));
    TINY t = ISret2_GetTiny(p);
    sret_report(who, "GetTiny (1 byte)", t.b == sret_tiny().b);
    NUMBER n = ISret2_GetNumber(p, 77);
    sret_report(who, "GetNumber (union)", n.i == sret_number(77 + bias).i);
    SMALL in_s = sret_small(2);
    BIG in_b = sret_big(3, 4);
    sret_report(who, "Check (structures by value in)", ISret2_Check(p, in_s, in_b) == sret_check(in_s, in_b) + bias);
    BIG tw = ISret2_Twice(p, in_b), etw = in_b;
    etw.v[0] += bias;
    sret_report(who, "Twice (40 bytes in and out, derived interface)", big_eq(tw, sret_twice(etw)));
    /* straight through the vtable, as the glue does */
    SMALL v = p->lpVtbl->GetSmall(p, -4);
    sret_report(who, "lpVtbl->GetSmall", v.x == sret_small(-4 + bias).x && v.y == sret_small(-4 + bias).y);
    BIG vb = p->lpVtbl->GetBig(p, 1, 1);
    sret_report(who, "lpVtbl->GetBig", big_eq(vb, sret_big(1 + bias, 1)));
}
