/* test-e2e.c - every parameter kind of tests/e2e/kinds.idl through a call
 * object, each value checked after the round trip, every copy freed
 * (this binary also runs under valgrind, ASan+UBSan and TSan). */
#include "task.h"
#include "kinds.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

typedef struct K { IKinds iface; atomic_long refs; } K;
static atomic_long live;

static HRESULT STDMETHODCALLTYPE k_qi(IKinds *This, REFIID riid, void **ppv)
{
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IKinds)) { *ppv = This; IKinds_AddRef(This); return S_OK; }
    *ppv = NULL;
    return E_NOINTERFACE;
}
static ULONG STDMETHODCALLTYPE k_addref(IKinds *This) { return (ULONG)atomic_fetch_add(&((K *)This)->refs, 1) + 1; }
static ULONG STDMETHODCALLTYPE k_release(IKinds *This)
{
    long r = atomic_fetch_sub(&((K *)This)->refs, 1) - 1;
    if (!r) { free(This); atomic_fetch_sub(&live, 1); }
    return (ULONG)r;
}
static HRESULT STDMETHODCALLTYPE k_scalars(IKinds *This, BYTE b, SHORT s, LONG l, hyper h, float f, double d, BOOL flag,
                                           COLOR c, double *total)
{
    (void)This;
    *total = b + s + l + (double)h + f + d + (flag ? 1000 : 0) + c;
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE k_structs(IKinds *This, POINT3 byval, const POINT3 *in, POINT3 *inout, POINT3 *out)
{
    (void)This;
    out->x = byval.x + in->x;
    out->y = byval.y + in->y;
    out->z = byval.z + in->z;
    inout->x *= 2; inout->y *= 2; inout->z *= 2;
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE k_strings(IKinds *This, const char *a, LPCWSTR w, char **copy, LPWSTR *wcopy)
{
    (void)This;
    size_t n = strlen(a) + 1, m = 0;
    while (w[m]) m++;
    *copy = CoTaskMemAlloc(n);
    memcpy(*copy, a, n);
    *wcopy = CoTaskMemAlloc((m + 1) * sizeof(WCHAR));
    memcpy(*wcopy, w, (m + 1) * sizeof(WCHAR));
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE k_guids(IKinds *This, REFIID iid, IID *out) { (void)This; *out = *iid; return S_OK; }
static HRESULT STDMETHODCALLTYPE k_arrays(IKinds *This, ULONG n, const LONG *in, LONG *out, LONG *inout)
{
    (void)This;
    for (ULONG i = 0; i < n; i++) { out[i] = in[i] * 10; inout[i] += 1; }
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE k_varying(IKinds *This, ULONG max, BYTE *buf, ULONG *len)
{
    (void)This;
    ULONG n = max / 2;
    for (ULONG i = 0; i < n; i++) buf[i] = (BYTE)(i + 1);
    *len = n;
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE k_unique(IKinds *This, LONG *maybe, LONG *seen) { (void)This; *seen = maybe ? *maybe : -1; return S_OK; }
static HRESULT STDMETHODCALLTYPE k_objects(IKinds *This, IUnknown *in, IUnknown **out, IUnknown **inout)
{
    (void)This;
    *out = in;                      /* callee's reference for the caller */
    if (in) IUnknown_AddRef(in);
    if (*inout) IUnknown_Release(*inout);   /* replaces the caller's value */
    *inout = (IUnknown *)This;
    IKinds_AddRef(This);
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE k_byiid(IKinds *This, REFIID riid, void **ppv) { return IKinds_QueryInterface(This, riid, ppv); }
static IKindsVtbl vtbl = { k_qi, k_addref, k_release, k_scalars, k_structs, k_strings, k_guids, k_arrays, k_varying,
                           k_unique, k_objects, k_byiid };

static IKinds *proxy;
static AsyncIKinds *call;

static void setup(void)
{
    ASSERT(SUCCEEDED(CoInitializeEx(NULL, COINIT_MULTITHREADED)));
    K *k = calloc(1, sizeof *k);
    k->iface.lpVtbl = &vtbl;
    atomic_init(&k->refs, 1);
    atomic_fetch_add(&live, 1);
    ASSERT_HR(S_OK, AmrtCreateProxy((IUnknown *)&k->iface, &IID_IKinds, (void **)&proxy));
    IKinds_Release(&k->iface);
    ICallFactory *f;
    ASSERT_HR(S_OK, IKinds_QueryInterface(proxy, &IID_ICallFactory, (void **)&f));
    ASSERT_HR(S_OK, ICallFactory_CreateCall(f, &IID_AsyncIKinds, NULL, &IID_AsyncIKinds, (IUnknown **)&call));
    ICallFactory_Release(f);
}

static void teardown(void)
{
    AsyncIKinds_Release(call);
    IKinds_Release(proxy);
    CoUninitialize();
    ASSERT_EQ(atomic_load(&live), 0);
}

TEST(scalars_of_each_size_enum_bool_float)
{
    setup();
    double total = 0;
    ASSERT_HR(S_OK, AsyncIKinds_Begin_Scalars(call, 200, -300, 70000, (hyper)1 << 40, 0.5f, 0.25, 1, BLUE));
    ASSERT_HR(S_OK, AsyncIKinds_Finish_Scalars(call, &total));
    ASSERT(fabs(total - (200 - 300 + 70000 + 1099511627776.0 + 0.75 + 1000 + 4)) < 1e-6);
    teardown();
}

TEST(structs_by_value_in_inout_out)
{
    setup();
    POINT3 v = { 1, 2, 3 }, in = { 10, 20, 30 }, io = { 5, 6, 7 }, out = { 0, 0, 0 };
    ASSERT_HR(S_OK, AsyncIKinds_Begin_Structs(call, v, &in, &io));
    in.x = 999;                                     /* copied at Begin_ */
    ASSERT_HR(S_OK, AsyncIKinds_Finish_Structs(call, &io, &out));
    ASSERT(out.x == 11 && out.y == 22 && out.z == 33);
    ASSERT(io.x == 10 && io.y == 12 && io.z == 14);
    teardown();
}

TEST(strings_char_and_wchar)
{
    setup();
    char *copy = NULL;
    LPWSTR wcopy = NULL;
    char a[] = "narrow";
    ASSERT_HR(S_OK, AsyncIKinds_Begin_Strings(call, a, (LPCWSTR)u"wide"));
    a[0] = 'X';                                     /* copied at Begin_ */
    ASSERT_HR(S_OK, AsyncIKinds_Finish_Strings(call, &copy, &wcopy));
    ASSERT(copy && !strcmp(copy, "narrow"));
    ASSERT(wcopy && !memcmp(wcopy, u"wide", 10));
    CoTaskMemFree(copy);
    CoTaskMemFree(wcopy);
    teardown();
}

TEST(guids_by_reference_and_out)
{
    setup();
    IID out;
    ASSERT_HR(S_OK, AsyncIKinds_Begin_Guids(call, &IID_ICallFactory));
    ASSERT_HR(S_OK, AsyncIKinds_Finish_Guids(call, &out));
    ASSERT(IsEqualIID(&out, &IID_ICallFactory));
    teardown();
}

TEST(conformant_arrays_in_out_inout)
{
    setup();
    LONG in[5] = { 1, 2, 3, 4, 5 }, out[5] = { 0 }, io[5] = { 10, 20, 30, 40, 50 };
    ASSERT_HR(S_OK, AsyncIKinds_Begin_Arrays(call, 5, in, io));
    memset(in, 0, sizeof in);
    ASSERT_HR(S_OK, AsyncIKinds_Finish_Arrays(call, out, io));
    for (int i = 0; i < 5; i++) {
        ASSERT_EQ(out[i], (i + 1) * 10);
        ASSERT_EQ(io[i], (i + 1) * 10 + 1);
    }
    teardown();
}

TEST(varying_array_length_is)
{
    setup();
    BYTE buf[16];
    memset(buf, 0xEE, sizeof buf);
    ULONG len = 0;
    ASSERT_HR(S_OK, AsyncIKinds_Begin_Varying(call, 16));
    ASSERT_HR(S_OK, AsyncIKinds_Finish_Varying(call, buf, &len));
    ASSERT_EQ(len, 8);
    for (int i = 0; i < 8; i++)
        ASSERT_EQ(buf[i], i + 1);
    ASSERT_EQ(buf[8], 0xEE);                        /* only length_is elements are transmitted */
    teardown();
}

TEST(unique_pointer_null_and_not)
{
    setup();
    LONG v = 42, seen = 0;
    ASSERT_HR(S_OK, AsyncIKinds_Begin_Unique(call, NULL));
    ASSERT_HR(S_OK, AsyncIKinds_Finish_Unique(call, &seen));
    ASSERT_EQ(seen, -1);
    ASSERT_HR(S_OK, AsyncIKinds_Begin_Unique(call, &v));
    ASSERT_HR(S_OK, AsyncIKinds_Finish_Unique(call, &seen));
    ASSERT_EQ(seen, 42);
    teardown();
}

TEST(interface_pointers_in_out_inout)
{
    setup();
    IUnknown *out = NULL, *io = NULL;
    ISynchronize *token;
    ASSERT_HR(S_OK, CoCreateInstance(&CLSID_ManualResetEvent, NULL, CLSCTX_INPROC_SERVER, &IID_ISynchronize, (void **)&token));
    ASSERT_HR(S_OK, CoCreateInstance(&CLSID_StdEvent, NULL, CLSCTX_INPROC_SERVER, &IID_IUnknown, (void **)&io));
    ASSERT_HR(S_OK, AsyncIKinds_Begin_Objects(call, (IUnknown *)token, &io));
    ISynchronize_Release(token);                    /* the call holds its own reference */
    ASSERT_HR(S_OK, AsyncIKinds_Finish_Objects(call, &out, &io));
    ASSERT(out != NULL && io != NULL);
    ISynchronize *s;
    ASSERT_HR(S_OK, IUnknown_QueryInterface(out, &IID_ISynchronize, (void **)&s));  /* the same event came back */
    ISynchronize_Release(s);
    IUnknown_Release(out);
    IUnknown_Release(io);
    teardown();
}

TEST(iid_is_out)
{
    setup();
    IUnknown *p = NULL;
    ASSERT_HR(S_OK, AsyncIKinds_Begin_ByIid(call, &IID_IUnknown));
    ASSERT_HR(S_OK, AsyncIKinds_Finish_ByIid(call, (void **)&p));
    ASSERT(p != NULL);
    IUnknown_Release(p);
    ASSERT_HR(S_OK, AsyncIKinds_Begin_ByIid(call, &IID_ISynchronize));
    ASSERT_HR(E_NOINTERFACE, AsyncIKinds_Finish_ByIid(call, (void **)&p));
    teardown();
}

RUN_TESTS(ENTRY(scalars_of_each_size_enum_bool_float), ENTRY(structs_by_value_in_inout_out), ENTRY(strings_char_and_wchar),
          ENTRY(guids_by_reference_and_out), ENTRY(conformant_arrays_in_out_inout), ENTRY(varying_array_length_is),
          ENTRY(unique_pointer_null_and_not), ENTRY(interface_pointers_in_out_inout), ENTRY(iid_is_out))
