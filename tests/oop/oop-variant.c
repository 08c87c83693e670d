/*
 * oop-variant.c - Automation's VARIANT, BSTR and SAFEARRAY through the glue
 * (tests/oop/variant.idl; tests/suites/oop.sh; issue #13), across a process
 * boundary and in-process through call objects (whose Begin_ copies them:
 * the caller clears its values as soon as Begin_ returns). One
 * executable, two roles:
 *
 *   oop-variant server   registers CLSID_OopVariant for CLSCTX_LOCAL_SERVER,
 *                        prints "ready PID", serves until SIGTERM; exits 0
 *                        when every object (its things included) was released
 *   oop-variant client   every test value both ways (Check: client to server,
 *                        Make: server to client, Next: [in, out]), arrays of
 *                        BSTRs and VARIANTs, values that cannot pass
 *
 * Both roles build the test values with sample(), so each side checks
 * what the other sent against its own copy.
 */
#define COBJMACROS
#include "amidlrt.h"
#include "oleauto.h"
#include "variant.h"
#include "oop_serve.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const CLSID CLSID_OopVariant = { 0x7a3e52c0, 0x5d1b, 0x4f7e, { 0x8c, 0x2a, 0x31, 0xb9, 0xe0, 0x4d, 0x6a, 0x1f } };

static atomic_long live;                /* objects and things of this process */

/* ==================================================================== things */

/* a plain object passed inside VARIANTs and arrays (VT_UNKNOWN) */
typedef struct Thing { IUnknown iface; atomic_long refs; } Thing;

static HRESULT STDMETHODCALLTYPE t_qi(IUnknown *This, REFIID riid, void **ppv) { return oop_qi_single(This, NULL, riid, ppv); }
static ULONG STDMETHODCALLTYPE t_addref(IUnknown *This) { return (ULONG)atomic_fetch_add(&((Thing *)This)->refs, 1) + 1; }
static ULONG STDMETHODCALLTYPE t_release(IUnknown *This) { return oop_release(&((Thing *)This)->refs, This, &live, NULL); }
static IUnknownVtbl thing_vtbl = { t_qi, t_addref, t_release };

static IUnknown *new_thing(void)
{
    Thing *t = calloc(1, sizeof *t);
    if (!t)
        abort();
    t->iface.lpVtbl = &thing_vtbl;
    atomic_init(&t->refs, 1);
    atomic_fetch_add(&live, 1);
    return &t->iface;
}

/* ==================================================================== the test values */

enum { N_SAMPLES = 34, S_DISPATCH = 34 };

/* what the VT_BYREF test values point to (each process its own) */
static LONG byref_long = -123456;
static double byref_double = 6.5;   /* S_DISPATCH: a VT_DISPATCH object, in-process only */

static BSTR bstr(const char *s)
{
    WCHAR w[64];
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++)
        w[i] = s[i] == '_' ? 0 : (WCHAR)s[i];   /* '_': an embedded NUL */
    return SysAllocStringLen(w, (UINT)n);
}

static SAFEARRAY *vector(VARTYPE vt, LONG lb, ULONG n)
{
    SAFEARRAY *a = SafeArrayCreateVector(vt, lb, n);
    if (!a)
        abort();
    return a;
}

/* test value i into v (VariantInit'd); its things are new ones */
static void sample(int i, VARIANT *v)
{
    VariantInit(v);
    switch (i) {
    case 0: v->vt = VT_EMPTY; break;
    case 1: v->vt = VT_NULL; break;
    case 2: v->vt = VT_I1; v->cVal = -5; break;
    case 3: v->vt = VT_UI1; v->bVal = 200; break;
    case 4: v->vt = VT_I2; v->iVal = -30000; break;
    case 5: v->vt = VT_UI2; v->uiVal = 60000; break;
    case 6: v->vt = VT_I4; v->lVal = -2000000000; break;
    case 7: v->vt = VT_UI4; v->ulVal = 4000000000u; break;
    case 8: v->vt = VT_I8; v->llVal = -(1LL << 60) - 3; break;
    case 9: v->vt = VT_UI8; v->ullVal = (1ULL << 63) + 5; break;
    case 10: v->vt = VT_INT; v->intVal = -7; break;
    case 11: v->vt = VT_UINT; v->uintVal = 7; break;
    case 12: v->vt = VT_R4; v->fltVal = 1.5f; break;
    case 13: v->vt = VT_R8; v->dblVal = -2.25; break;
    case 14: v->vt = VT_BOOL; v->boolVal = VARIANT_TRUE; break;
    case 15: v->vt = VT_ERROR; v->scode = (SCODE)0x80020004; break;
    case 16: v->vt = VT_CY; v->cyVal.int64 = 123456789012LL; break;
    case 17: v->vt = VT_DATE; v->date = 45000.75; break;
    case 18: v->vt = VT_BSTR; v->bstrVal = bstr("a_b variant"); break;
    case 19: v->vt = VT_BSTR; v->bstrVal = NULL; break;
    case 20: v->vt = VT_BSTR; v->bstrVal = bstr(""); break;
    case 21: v->vt = VT_UNKNOWN; v->punkVal = new_thing(); break;
    case 22: v->vt = VT_UNKNOWN; v->punkVal = NULL; break;
    case 23: v->vt = VT_DISPATCH; v->pdispVal = NULL; break;
    case 24: {                          /* 2 x 3 LONGs, lower bounds 1 and -1 */
        SAFEARRAYBOUND b[2] = { { 2, 1 }, { 3, -1 } };
        SAFEARRAY *a = SafeArrayCreate(VT_I4, 2, b);
        if (!a)
            abort();
        for (LONG x = 1; x <= 2; x++)
            for (LONG y = -1; y <= 1; y++) {
                LONG idx[2] = { x, y }, val = 100 * x + y;
                if (FAILED(SafeArrayPutElement(a, idx, &val)))
                    abort();
            }
        v->vt = VT_ARRAY | VT_I4;
        v->parray = a;
        break;
    }
    case 25: {
        SAFEARRAY *a = vector(VT_BSTR, 0, 3);
        BSTR *d = a->pvData;
        d[0] = bstr("one");
        d[2] = bstr("th_ree");
        v->vt = VT_ARRAY | VT_BSTR;
        v->parray = a;
        break;
    }
    case 26: {
        SAFEARRAY *a = vector(VT_VARIANT, 5, 5), *inner = vector(VT_R8, 0, 2);
        VARIANT *d = a->pvData;
        ((double *)inner->pvData)[0] = 1.0;
        ((double *)inner->pvData)[1] = -0.5;
        d[0].vt = VT_I4; d[0].lVal = 7;
        d[1].vt = VT_BSTR; d[1].bstrVal = bstr("x");
        d[2].vt = VT_ARRAY | VT_R8; d[2].parray = inner;
        d[3].vt = VT_EMPTY;
        d[4].vt = VT_UNKNOWN; d[4].punkVal = new_thing();
        v->vt = VT_ARRAY | VT_VARIANT;
        v->parray = a;
        break;
    }
    case 27: v->vt = VT_ARRAY | VT_UI1; v->parray = NULL; break;
    case 28: v->vt = VT_ARRAY | VT_R8; v->parray = vector(VT_R8, 3, 0); break;
    case 29: {
        SAFEARRAY *a = vector(VT_UNKNOWN, 0, 2);
        ((IUnknown **)a->pvData)[0] = new_thing();
        v->vt = VT_ARRAY | VT_UNKNOWN;
        v->parray = a;
        break;
    }
    case 30:
        v->decVal.scale = 4;
        v->decVal.sign = 0x80;
        v->decVal.Hi32 = 0x12345678;
        v->decVal.Lo64 = 0x9abcdef012345678ull;
        v->vt = VT_DECIMAL;
        break;
    case 31: v->vt = VT_BYREF | VT_I4; v->plVal = &byref_long; break;
    case 32: v->vt = VT_BYREF | VT_R8; v->pdblVal = &byref_double; break;
    case 33: v->vt = VT_BYREF | VT_UI2; v->puiVal = NULL; break;
    case S_DISPATCH: v->vt = VT_DISPATCH; v->pdispVal = (IDispatch *)new_thing(); break;
    default: abort();
    }
}

static bool var_same(const VARIANT *a, const VARIANT *b);

static bool array_same(SAFEARRAY *a, SAFEARRAY *b)
{
    if (!a || !b)
        return a == b;
    VARTYPE va, vb;
    if (FAILED(SafeArrayGetVartype(a, &va)) || FAILED(SafeArrayGetVartype(b, &vb)) || va != vb ||
        SafeArrayGetDim(a) != SafeArrayGetDim(b) || SafeArrayGetElemsize(a) != SafeArrayGetElemsize(b))
        return false;
    size_t n = 1;
    for (UINT d = 1; d <= SafeArrayGetDim(a); d++) {
        LONG la, lb, ua, ub;
        if (FAILED(SafeArrayGetLBound(a, d, &la)) || FAILED(SafeArrayGetLBound(b, d, &lb)) ||
            FAILED(SafeArrayGetUBound(a, d, &ua)) || FAILED(SafeArrayGetUBound(b, d, &ub)) || la != lb || ua != ub)
            return false;
        n *= (size_t)(ua - la + 1);
    }
    size_t es = SafeArrayGetElemsize(a);
    for (size_t i = 0; i < n; i++) {
        const unsigned char *ea = (unsigned char *)a->pvData + i * es, *eb = (unsigned char *)b->pvData + i * es;
        if (va == VT_VARIANT) {
            if (!var_same((const VARIANT *)ea, (const VARIANT *)eb))
                return false;
        } else if (va == VT_BSTR) {
            BSTR x = *(BSTR *)ea, y = *(BSTR *)eb;
            if (!x || !y ? x != y : SysStringByteLen(x) != SysStringByteLen(y) || memcmp(x, y, SysStringByteLen(x)))
                return false;
        } else if (va == VT_UNKNOWN || va == VT_DISPATCH) {
            if (!*(IUnknown **)ea != !*(IUnknown **)eb)
                return false;
        } else if (memcmp(ea, eb, es)) {
            return false;
        }
    }
    return true;
}

/* the same value (interfaces: both NULL or both not: an object crosses as a proxy) */
static bool var_same(const VARIANT *a, const VARIANT *b)
{
    if (a->vt != b->vt)
        return false;
    if (a->vt & VT_ARRAY)
        return array_same(a->parray, b->parray);
    if (a->vt & VT_BYREF) {             /* the values pointed to */
        size_t n = a->vt == (VT_BYREF | VT_I4) ? 4 : a->vt == (VT_BYREF | VT_R8) ? 8 : 2;
        if (!a->byref || !b->byref)
            return a->byref == b->byref;
        return !memcmp(a->byref, b->byref, n);
    }
    switch (a->vt) {
    case VT_EMPTY: case VT_NULL: return true;
    case VT_I1: case VT_UI1: return a->bVal == b->bVal;
    case VT_I2: case VT_UI2: case VT_BOOL: return a->iVal == b->iVal;
    case VT_I4: case VT_UI4: case VT_INT: case VT_UINT: case VT_ERROR: return a->lVal == b->lVal;
    case VT_R4: return a->fltVal == b->fltVal;
    case VT_I8: case VT_UI8: case VT_CY: return a->llVal == b->llVal;
    case VT_R8: case VT_DATE: return a->dblVal == b->dblVal;
    case VT_BSTR: {
        BSTR x = a->bstrVal, y = b->bstrVal;
        if (!x || !y)
            return x == y;
        return SysStringByteLen(x) == SysStringByteLen(y) && !memcmp(x, y, SysStringByteLen(x));
    }
    case VT_UNKNOWN: case VT_DISPATCH: return !a->punkVal == !b->punkVal;
    case VT_DECIMAL:
        return a->decVal.scale == b->decVal.scale && a->decVal.sign == b->decVal.sign &&
               a->decVal.Hi32 == b->decVal.Hi32 && a->decVal.Lo64 == b->decVal.Lo64;
    default: return false;
    }
}

/* v is test value i */
static bool is_sample(int i, const VARIANT *v)
{
    VARIANT s;
    sample(i, &s);
    bool same = var_same(&s, v);
    VariantClear(&s);
    if (same && v->vt == VT_UNKNOWN && v->punkVal) {
        IUnknown *u = NULL;             /* a proxy that works */
        same = SUCCEEDED(IUnknown_QueryInterface(v->punkVal, &IID_IUnknown, (void **)&u)) && u;
        if (u)
            IUnknown_Release(u);
    }
    return same;
}

/* ==================================================================== the object */

typedef struct Obj { IVariantTest iface; atomic_long refs; } Obj;

static HRESULT STDMETHODCALLTYPE o_qi(IVariantTest *This, REFIID riid, void **ppv)
{
    return oop_qi_single(This, &IID_IVariantTest, riid, ppv);
}
static ULONG STDMETHODCALLTYPE o_addref(IVariantTest *This) { return (ULONG)atomic_fetch_add(&((Obj *)This)->refs, 1) + 1; }
static ULONG STDMETHODCALLTYPE o_release(IVariantTest *This) { return oop_release(&((Obj *)This)->refs, This, &live, NULL); }
static HRESULT STDMETHODCALLTYPE o_check(IVariantTest *This, LONG which, VARIANT v, LONG *same)
{
    (void)This;
    *same = which >= 0 && which <= S_DISPATCH && is_sample(which, &v);
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE o_make(IVariantTest *This, LONG which, VARIANT *r)
{
    (void)This;
    if (which < 0 || which >= N_SAMPLES)
        return E_INVALIDARG;
    sample(which, r);
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE o_next(IVariantTest *This, LONG which, VARIANT *v, LONG *same)
{
    (void)This;
    if (which < 0 || which >= N_SAMPLES)
        return E_INVALIDARG;
    *same = is_sample(which, v);
    HRESULT hr = VariantClear(v);
    sample((which + 1) % N_SAMPLES, v);
    return hr;
}
static HRESULT STDMETHODCALLTYPE o_join(IVariantTest *This, SAFEARRAY *a, BSTR *b, SAFEARRAY **lens)
{
    (void)This;
    VARTYPE vt;
    LONG lb, ub;
    WCHAR buf[256];
    UINT n = 0;
    if (!a || FAILED(SafeArrayGetVartype(a, &vt)) || vt != VT_BSTR || SafeArrayGetDim(a) != 1 ||
        FAILED(SafeArrayGetLBound(a, 1, &lb)) || FAILED(SafeArrayGetUBound(a, 1, &ub)))
        return E_INVALIDARG;
    *lens = SafeArrayCreateVector(VT_I4, lb, (ULONG)(ub - lb + 1));
    for (LONG i = lb; i <= ub; i++) {
        BSTR s = NULL;
        HRESULT hr = SafeArrayGetElement(a, &i, &s);
        if (FAILED(hr))
            return hr;
        UINT len = SysStringLen(s);
        if (n + len > 256)
            len = 0;
        if (len)
            memcpy(buf + n, s, len * sizeof(WCHAR));
        n += len;
        LONG l = (LONG)len;
        SafeArrayPutElement(*lens, &i, &l);
        SysFreeString(s);
    }
    *b = SysAllocStringLen(buf, n);
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE o_reverse(IVariantTest *This, SAFEARRAY *a, SAFEARRAY **r)
{
    (void)This;
    VARTYPE vt;
    if (!a || FAILED(SafeArrayGetVartype(a, &vt)) || vt != VT_VARIANT || SafeArrayGetDim(a) != 1)
        return E_INVALIDARG;
    ULONG n = a->rgsabound[0].cElements;
    *r = SafeArrayCreateVector(VT_VARIANT, a->rgsabound[0].lLbound, n);
    for (ULONG i = 0; i < n; i++)
        VariantCopy(&((VARIANT *)(*r)->pvData)[i], &((VARIANT *)a->pvData)[n - 1 - i]);
    return S_OK;
}
static IVariantTestVtbl ovtbl = { o_qi, o_addref, o_release, o_check, o_make, o_next, o_join, o_reverse };

static HRESULT new_obj(REFIID riid, void **ppv)
{
    Obj *o = calloc(1, sizeof *o);
    if (!o)
        return E_OUTOFMEMORY;
    o->iface.lpVtbl = &ovtbl;
    atomic_init(&o->refs, 1);
    atomic_fetch_add(&live, 1);
    return oop_hand_out(&o->iface, riid, ppv);
}

static OopFactory factory = OOP_FACTORY(new_obj);

/* ==================================================================== the client */

/* every test value both ways, synchronously (remote: across processes;
 * in-process the proxy calls the object itself) */
static void sync_calls(IVariantTest *p, const char *how)
{
    for (int i = 0; i < N_SAMPLES; i++) {
        VARIANT v, r;
        LONG same = -1;
        sample(i, &v);
        EXPECT_HR(S_OK, IVariantTest_Check(p, i, v, &same));
        if (same != 1)
            fprintf(stderr, "%s: Check %d: the server saw another value\n", how, i), failures++;
        VariantClear(&v);
        VariantInit(&r);
        EXPECT_HR(S_OK, IVariantTest_Make(p, i, &r));
        if (!is_sample(i, &r))
            fprintf(stderr, "%s: Make %d: another value came back\n", how, i), failures++;
        EXPECT_HR(S_OK, VariantClear(&r));
        sample(i, &v);
        same = -1;
        EXPECT_HR(S_OK, IVariantTest_Next(p, i, &v, &same));
        if (same != 1 || !is_sample((i + 1) % N_SAMPLES, &v))
            fprintf(stderr, "%s: Next %d: [in, out] value wrong (same %d)\n", how, i, (int)same), failures++;
        EXPECT_HR(S_OK, VariantClear(&v));
    }
    /* SAFEARRAY(BSTR) in, BSTR and SAFEARRAY(LONG) out */
    SAFEARRAY *a = vector(VT_BSTR, 2, 3), *lens = NULL;
    ((BSTR *)a->pvData)[0] = bstr("ab");
    ((BSTR *)a->pvData)[2] = bstr("cde");
    BSTR joined = NULL;
    EXPECT_HR(S_OK, IVariantTest_Join(p, a, &joined, &lens));
    static const WCHAR abcde[] = { 'a', 'b', 'c', 'd', 'e' };
    EXPECT(joined && SysStringLen(joined) == 5 && !memcmp(joined, abcde, sizeof abcde));
    LONG l = 0, want[3] = { 2, 0, 3 };
    for (LONG i = 2; lens && i <= 4; i++) {
        EXPECT_HR(S_OK, SafeArrayGetElement(lens, &i, &l));
        EXPECT(l == want[i - 2]);
    }
    SysFreeString(joined);
    EXPECT_HR(S_OK, SafeArrayDestroy(lens));
    /* SAFEARRAY(VARIANT) both ways */
    VARIANT v;
    sample(26, &v);
    SAFEARRAY *rev = NULL;
    EXPECT_HR(S_OK, IVariantTest_Reverse(p, v.parray, &rev));
    EXPECT(rev && rev->rgsabound[0].cElements == 5 && rev->rgsabound[0].lLbound == 5);
    for (ULONG i = 0; rev && i < 5; i++)
        EXPECT(var_same(&((VARIANT *)rev->pvData)[i], &((VARIANT *)v.parray->pvData)[4 - i]));
    EXPECT_HR(S_OK, SafeArrayDestroy(rev));
    VariantClear(&v);
    SafeArrayDestroy(a);
}

/* through a call object: Begin_ copies (the caller clears its values at once) */
static void async_calls(IVariantTest *p, const char *how)
{
    AsyncIVariantTest *c = oop_new_call(p, &IID_AsyncIVariantTest);
    if (!c)
        return;
    for (int i = 0; i < N_SAMPLES; i++) {
        VARIANT v, r;
        LONG same = -1;
        sample(i, &v);
        EXPECT_HR(S_OK, AsyncIVariantTest_Begin_Check(c, i, v));
        VariantClear(&v);
        memset(&v, 0xA5, sizeof v);     /* the call has its own copy */
        EXPECT_HR(S_OK, AsyncIVariantTest_Finish_Check(c, &same));
        if (same != 1)
            fprintf(stderr, "%s: Begin_Check %d: the object saw another value\n", how, i), failures++;
        VariantInit(&r);
        EXPECT_HR(S_OK, AsyncIVariantTest_Begin_Make(c, i));
        EXPECT_HR(S_OK, AsyncIVariantTest_Finish_Make(c, &r));
        if (!is_sample(i, &r))
            fprintf(stderr, "%s: Finish_Make %d: another value came back\n", how, i), failures++;
        VariantClear(&r);
        sample(i, &v);
        same = -1;
        EXPECT_HR(S_OK, AsyncIVariantTest_Begin_Next(c, i, &v));
        EXPECT_HR(S_OK, AsyncIVariantTest_Finish_Next(c, &v, &same));
        if (same != 1 || !is_sample((i + 1) % N_SAMPLES, &v))
            fprintf(stderr, "%s: Begin_Next %d: [in, out] value wrong\n", how, i), failures++;
        VariantClear(&v);
    }
    AsyncIVariantTest_Release(c);
}

/* values that cannot pass: refused where the copy or the message is made */
static void refused(IVariantTest *p, bool remote)
{
    VARIANT v;
    LONG same = -1;
    VariantInit(&v);
    v.vt = VT_RECORD;                   /* not passed by this runtime */
    ICallFactory *cf = NULL;
    AsyncIVariantTest *c = NULL;
    if (SUCCEEDED(IVariantTest_QueryInterface(p, &IID_ICallFactory, (void **)&cf))) {
        ICallFactory_CreateCall(cf, &IID_AsyncIVariantTest, NULL, &IID_AsyncIVariantTest, (IUnknown **)&c);
        ICallFactory_Release(cf);
    }
    EXPECT(c);
    if (remote)
        EXPECT_HR(E_INVALIDARG, IVariantTest_Check(p, 0, v, &same));
    if (c)
        EXPECT_HR(E_INVALIDARG, AsyncIVariantTest_Begin_Check(c, 0, v));
    v.vt = 0x7777;                      /* no such vt */
    if (remote)
        EXPECT_HR(E_INVALIDARG, IVariantTest_Check(p, 0, v, &same));
    if (c)
        EXPECT_HR(E_INVALIDARG, AsyncIVariantTest_Begin_Check(c, 0, v));
    /* an array whose element size is not its vt's */
    sample(24, &v);
    v.parray->cbElements = 2;
    if (remote)
        EXPECT_HR(E_INVALIDARG, IVariantTest_Check(p, 24, v, &same));
    if (c)
        EXPECT_HR(E_INVALIDARG, AsyncIVariantTest_Begin_Check(c, 24, v));
    v.parray->cbElements = 4;
    /* a VARIANT's vt says another element type than its array's */
    v.vt = VT_ARRAY | VT_R4;
    if (remote)
        EXPECT_HR(E_INVALIDARG, IVariantTest_Check(p, 24, v, &same));
    v.vt = VT_ARRAY | VT_I4;
    VariantClear(&v);
    /* VT_DISPATCH: an object in-process; across, IDispatch has no glue (oaidl.idl's [local]) */
    sample(S_DISPATCH, &v);
    same = -1;
    EXPECT_HR(remote ? E_NOTIMPL : S_OK, IVariantTest_Check(p, S_DISPATCH, v, &same));
    EXPECT(remote || same == 1);
    if (c) {
        same = -1;
        EXPECT_HR(S_OK, AsyncIVariantTest_Begin_Check(c, S_DISPATCH, v));
        EXPECT_HR(remote ? E_NOTIMPL : S_OK, AsyncIVariantTest_Finish_Check(c, &same));
        EXPECT(remote || same == 1);
        AsyncIVariantTest_Release(c);
    }
    VariantClear(&v);
}

static int client(void)
{
    if (FAILED(CoInitializeEx(NULL, COINIT_MULTITHREADED)))
        return 1;
    IVariantTest *p = NULL;
    if (FAILED(oop_create(&CLSID_OopVariant, &IID_IVariantTest, (void **)&p)))
        return 1;
    sync_calls(p, "across");
    async_calls(p, "across, call object");
    refused(p, true);
    IVariantTest_Release(p);
    /* in-process: the runtime's proxy of an object of ours; its call
     * objects copy the values (the interpreter's deep copy) */
    IUnknown *own = NULL;
    EXPECT_HR(S_OK, new_obj(&IID_IUnknown, (void **)&own));
    p = NULL;
    if (own) {
        EXPECT_HR(S_OK, AmrtCreateProxy(own, &IID_IVariantTest, (void **)&p));
        IUnknown_Release(own);
    }
    if (p) {
        sync_calls(p, "in-process");
        async_calls(p, "in-process, call object");
        refused(p, false);
        IVariantTest_Release(p);
    }
    CoUninitialize();
    if (atomic_load(&live) != 0)
        fprintf(stderr, "%ld objects or things still alive\n", (long)atomic_load(&live)), failures++;
    if (!failures)
        printf("oop-variant: all held\n");
    return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc == 2 && strcmp(argv[1], "server") == 0)
        return oop_serve(&CLSID_OopVariant, &factory, &live, "oop-variant server");
    if (argc == 2 && strcmp(argv[1], "client") == 0)
        return client();
    fprintf(stderr, "usage: oop-variant server|client\n");
    return 2;
}
