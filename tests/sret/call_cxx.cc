// tests/sret: a C++ caller, through the header's C++ view (virtual methods
// returning the structures by value).
#include <string.h>
#include "sret_test.h"

static bool big_eq(const BIG &a, const BIG &b)
{
    return !memcmp(a.v, b.v, sizeof a.v);
}

extern "C" void sret_call_cxx(ISret2 *p, const char *who)
{
    LONG plain = 0;
    HRESULT hr = p->Plain(&plain);
    sret_report(who, "Plain (HRESULT, [out])", hr == SRET_S_OK && (plain == 142 || plain == 242));
    LONG bias = plain - 42;

    SMALL s = p->GetSmall(5), es = sret_small(5 + bias);
    sret_report(who, "GetSmall (8 bytes)", s.x == es.x && s.y == es.y);
    FLOATS f = p->GetFloats(3.0f), ef = sret_floats(3.0f + (float)bias);
    sret_report(who, "GetFloats (two floats)", f.f == ef.f && f.g == ef.g);
    MIXED m = p->GetMixed(1.25, 9), em = sret_mixed(1.25, 9 + bias);
    sret_report(who, "GetMixed (double and LONG)", m.d == em.d && m.n == em.n);
    PAIR pr = p->GetPair(1234567890123LL), ep = sret_pair(1234567890123LL + bias);
    sret_report(who, "GetPair (16 bytes)", pr.a == ep.a && pr.b == ep.b);
    BIG b = p->GetBig(11, 13);
    sret_report(who, "GetBig (40 bytes)", big_eq(b, sret_big(11 + bias, 13)));
    TINY t = p->GetTiny();
    sret_report(who, "GetTiny (1 byte)", t.b == sret_tiny().b);
    NUMBER n = p->GetNumber(77);
    sret_report(who, "GetNumber (union)", n.i == sret_number(77 + bias).i);
    SMALL in_s = sret_small(2);
    BIG in_b = sret_big(3, 4);
    sret_report(who, "Check (structures by value in)", p->Check(in_s, in_b) == sret_check(in_s, in_b) + bias);
    BIG tw = p->Twice(in_b), etw = in_b;
    etw.v[0] += bias;
    sret_report(who, "Twice (40 bytes in and out, derived interface)", big_eq(tw, sret_twice(etw)));
    ISret *base = p;        // through the base class
    SMALL v = base->GetSmall(-4);
    sret_report(who, "ISret::GetSmall", v.x == sret_small(-4 + bias).x && v.y == sret_small(-4 + bias).y);
    BIG vb = base->GetBig(1, 1);
    sret_report(who, "ISret::GetBig", big_eq(vb, sret_big(1 + bias, 1)));
}
