// tests/sret: an ISret2 object written in C++ against the header's C++ view
// (the methods return the structures by value).
#include "sret_test.h"

namespace {

class CxxSret : public ISret2 {
public:
    CxxSret() : refs(1), bias(200) {}
    virtual ~CxxSret() {}

    HRESULT STDMETHODCALLTYPE QueryInterface(REFIID, void **ppv)
    {
        *ppv = this;
        AddRef();
        return SRET_S_OK;
    }
    ULONG STDMETHODCALLTYPE AddRef() { return (ULONG)++refs; }
    ULONG STDMETHODCALLTYPE Release()
    {
        LONG n = --refs;
        if (n == 0)
            delete this;
        return (ULONG)n;
    }

    SMALL STDMETHODCALLTYPE GetSmall(LONG base) { return sret_small(base + bias); }
    FLOATS STDMETHODCALLTYPE GetFloats(float scale) { return sret_floats(scale + (float)bias); }
    MIXED STDMETHODCALLTYPE GetMixed(double d, LONG n) { return sret_mixed(d, n + bias); }
    PAIR STDMETHODCALLTYPE GetPair(LONGLONG a) { return sret_pair(a + bias); }
    BIG STDMETHODCALLTYPE GetBig(LONG first, LONG step) { return sret_big(first + bias, step); }
    TINY STDMETHODCALLTYPE GetTiny() { return sret_tiny(); }
    NUMBER STDMETHODCALLTYPE GetNumber(LONG i) { return sret_number(i + bias); }
    LONG STDMETHODCALLTYPE Check(SMALL s, BIG b) { return sret_check(s, b) + bias; }
    BIG STDMETHODCALLTYPE Twice(BIG b)
    {
        b.v[0] += bias;
        return sret_twice(b);
    }
    HRESULT STDMETHODCALLTYPE Plain(LONG *out)
    {
        *out = 42 + bias;
        return SRET_S_OK;
    }

private:
    LONG refs;
    LONG bias;          // read through this: a wrong this gives wrong results
};

}

extern "C" ISret2 *sret_make_cxx(void)
{
    return new CxxSret();
}
