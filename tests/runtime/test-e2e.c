/* test-e2e.c - every parameter kind of tests/e2e/kinds.idl through a call
 * object, each value checked after the round trip, every copy freed
 * (this binary also runs under valgrind, ASan+UBSan and TSan). */
#include "task.h"
#include "kinds.h"
#include "deep_server.h"

#include <fcntl.h>
#include <math.h>
#include <stddef.h>
#include <stdbool.h>
#include <uchar.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* The servers: an object of one interface (its vtable first), counted in 'live'. */
typedef struct Obj { const void *lpVtbl; atomic_long refs; const IID *iid; } Obj;
static atomic_long live;

static HRESULT STDMETHODCALLTYPE obj_qi(IUnknown *This, REFIID riid, void **ppv)
{
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, ((Obj *)This)->iid)) { *ppv = This; IUnknown_AddRef(This); return S_OK; }
    *ppv = NULL;
    return E_NOINTERFACE;
}
static ULONG STDMETHODCALLTYPE obj_addref(IUnknown *This) { return (ULONG)atomic_fetch_add(&((Obj *)This)->refs, 1) + 1; }
static ULONG STDMETHODCALLTYPE obj_release(IUnknown *This)
{
    long r = atomic_fetch_sub(&((Obj *)This)->refs, 1) - 1;
    if (!r) { free(This); atomic_fetch_sub(&live, 1); }
    return (ULONG)r;
}
static IUnknown *obj_new(const void *vtbl, const IID *iid)
{
    Obj *o = calloc(1, sizeof *o);
    o->lpVtbl = vtbl;
    o->iid = iid;
    atomic_init(&o->refs, 1);
    return (IUnknown *)o;
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
static IKindsVtbl vtbl = { (void *)obj_qi, (void *)obj_addref, (void *)obj_release, k_scalars, k_structs, k_strings, k_guids, k_arrays, k_varying,
                           k_unique, k_objects, k_byiid };

static IKinds *proxy;
static AsyncIKinds *call;

/* A proxy for obj (taking over the caller's reference) and a call object
 * of async_iid made through the proxy's ICallFactory. */
static void open_call(IUnknown *obj, REFIID iid, REFIID async_iid, IUnknown **px, IUnknown **call)
{
    ASSERT(SUCCEEDED(CoInitializeEx(NULL, COINIT_MULTITHREADED)));
    atomic_fetch_add(&live, 1);
    ASSERT_HR(S_OK, AmrtCreateProxy(obj, iid, (void **)px));
    IUnknown_Release(obj);
    ICallFactory *f;
    ASSERT_HR(S_OK, IUnknown_QueryInterface(*px, &IID_ICallFactory, (void **)&f));
    ASSERT_HR(S_OK, ICallFactory_CreateCall(f, async_iid, NULL, async_iid, call));
    ICallFactory_Release(f);
}

/* Release both (call may be NULL), then every server object must be gone. */
static void close_call(IUnknown *px, IUnknown *call)
{
    if (call)
        IUnknown_Release(call);
    IUnknown_Release(px);
    CoUninitialize();
    ASSERT_EQ(atomic_load(&live), 0);
}

static void setup(void)
{
    open_call(obj_new(&vtbl, &IID_IKinds), &IID_IKinds, &IID_AsyncIKinds, (IUnknown **)&proxy, (IUnknown **)&call);
}

static void teardown(void)
{
    close_call((IUnknown *)proxy, (IUnknown *)call);
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

/* ==================================================================== IDeep: data with pointers inside */


static IDeepVtbl dvtbl = { (void *)obj_qi, (void *)obj_addref, (void *)obj_release, DEEP_SERVER_METHODS };

static IDeep *dproxy;
static AsyncIDeep *dcall;

static void dsetup(void)
{
    open_call(obj_new(&dvtbl, &IID_IDeep), &IID_IDeep, &IID_AsyncIDeep, (IUnknown **)&dproxy, (IUnknown **)&dcall);
}

static void dteardown(void)
{
    close_call((IUnknown *)dproxy, (IUnknown *)dcall);
    dcall = NULL;
}

/* a NAMED as a caller builds it: every member allocated as COM says */

/* what IDeep::Named gets: a two-node list with an owner, and an [in, out] NAMED */
static void named_inputs(NAMED *in, NAMED *second, NAMED *io, IUnknown **owner)
{
    ASSERT_HR(S_OK, CoCreateInstance(&CLSID_StdEvent, NULL, CLSCTX_INPROC_SERVER, &IID_IUnknown, (void **)owner));
    deep_named_make(in, 41, u"alpha", 3, *owner);
    deep_named_make(second, 7, u"beta", 1, NULL);
    in->next = second;
    deep_named_make(io, 1, u"before", 2, *owner);
}

static void named_inputs_free(NAMED *in, NAMED *second, NAMED *io, IUnknown *owner)
{
    deep_named_free(io);
    in->next = NULL;
    deep_named_free(in);
    deep_named_free(second);
    IUnknown_Release(owner);
}

TEST(struct_with_string_bstr_sized_array_interface_and_list)
{
    dsetup();
    IUnknown *owner;
    NAMED in, second, io, out;
    named_inputs(&in, &second, &io, &owner);
    ASSERT_HR(S_OK, AsyncIDeep_Begin_Named(dcall, &in, &io));
    in.name[0] = 'X';                               /* copied at Begin_, all the way down */
    in.values[0] = 99;
    second.id = 0;
    ASSERT_HR(S_OK, AsyncIDeep_Finish_Named(dcall, &out, &io));
    ASSERT_EQ(out.id, 42);
    ASSERT(deep_wequal(out.name, u"alpha"));
    ASSERT(deep_wequal(out.note, u"memo") && SysStringLen(out.note) == 4);
    ASSERT_EQ(out.count, 3);
    ASSERT(out.values[0] == 2 && out.values[1] == 4 && out.values[2] == 6);
    ASSERT(out.owner == owner);
    ASSERT(out.next && out.next->id == 8 && !out.next->name);
    ASSERT(deep_wequal(io.name, u"changed") && deep_wequal(io.note, u"noted"));
    ASSERT(io.values[0] == 101 && io.values[1] == 102);
    deep_named_free(&out);
    named_inputs_free(&in, &second, &io, owner);
    dteardown();
}

TEST(struct_with_pointers_released_without_finish_frees_everything)
{
    dsetup();
    NAMED in, io;
    deep_named_make(&in, 7, u"beta", 2, NULL);
    NAMED next;
    deep_named_make(&next, 7, u"beta", 1, NULL);
    in.next = &next;
    in.owner = NULL;
    deep_named_make(&io, 1, u"x", 1, NULL);
    /* the server refuses (no owner): outputs are freed all the same */
    ASSERT_HR(S_OK, AsyncIDeep_Begin_Named(dcall, &in, &io));
    AsyncIDeep_Release(dcall);                      /* no Finish_: ASan and valgrind see no leak */
    dcall = NULL;
    in.next = NULL;
    deep_named_free(&in);
    deep_named_free(&next);
    deep_named_free(&io);
    dteardown();
}

TEST(struct_with_pointers_every_allocation_failure_is_E_OUTOFMEMORY)
{
    dsetup();
    IUnknown *owner;
    NAMED in, second, io, out;
    named_inputs(&in, &second, &io, &owner);
    int failures = 0;
    atomic_store(&deep_named_gate, 1);       /* the server waits until the hook is off */
    for (long n = 0;; n++) {
        AmrtFailAllocationAfter(n);
        HRESULT hr = AsyncIDeep_Begin_Named(dcall, &in, &io);
        AmrtFailAllocationAfter(-1);
        if (hr == S_OK)
            break;
        ASSERT_HR(E_OUTOFMEMORY, hr);
        ASSERT(deep_wequal(in.name, u"alpha") && in.next == &second);   /* the caller's data untouched */
        failures++;
    }
    atomic_store(&deep_named_gate, 0);
    ASSERT(failures >= 8);      /* frame, strings, BSTR, arrays, list node, ... each failed once */
    ASSERT_HR(S_OK, AsyncIDeep_Finish_Named(dcall, &out, &io));
    ASSERT_EQ(out.id, 42);
    deep_named_free(&out);
    named_inputs_free(&in, &second, &io, owner);
    dteardown();
}

TEST(struct_by_value_nested_struct_fixed_array_of_pointers)
{
    dsetup();
    HOLDER h;
    memset(&h, 0, sizeof h);
    deep_named_make(&h.first, 1000, u"first", 4, NULL);
    NAMED e0;
    deep_named_make(&e0, 20000, u"e0", 1, NULL);
    h.extra[0] = &e0;
    h.extra[1] = NULL;                              /* embedded pointers are unique */
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++) h.grid[i][j] = i * 3 + j;
    LONG sum = 0;
    ASSERT_HR(S_OK, AsyncIDeep_Begin_Holder(dcall, h));
    e0.id = 0;
    ASSERT_HR(S_OK, AsyncIDeep_Finish_Holder(dcall, &sum));
    ASSERT_EQ(sum, 1000 + 4 + 20000 + 15);
    deep_named_free(&h.first);
    deep_named_free(&e0);
    dteardown();
}

TEST(union_switch_is_parameter_each_arm)
{
    dsetup();
    NAMED n;
    deep_named_make(&n, 5, u"five", 1, NULL);
    const LONG kinds[] = { 1, 2, 3, 9 };
    for (int k = 0; k < 4; k++) {
        VALUE v, out;
        memset(&v, 0, sizeof v);
        memset(&out, 0, sizeof out);
        LONG kind_out = 0;
        if (kinds[k] == 1) v.i = 21;
        if (kinds[k] == 2) v.s = deep_wdup((const WCHAR *)u"text");
        if (kinds[k] == 3) v.n = &n;
        ASSERT_HR(S_OK, AsyncIDeep_Begin_Value(dcall, kinds[k], &v));
        if (kinds[k] == 2) { CoTaskMemFree(v.s); v.s = NULL; }     /* copied at Begin_ */
        ASSERT_HR(S_OK, AsyncIDeep_Finish_Value(dcall, &kind_out, &out));
        ASSERT_EQ(kind_out, kinds[k]);
        if (kinds[k] == 1) ASSERT_EQ(out.i, 42);
        if (kinds[k] == 2) { ASSERT(deep_wequal(out.s, u"text")); CoTaskMemFree(out.s); }
        if (kinds[k] == 3) { ASSERT(out.n->id == 6 && deep_wequal(out.n->name, u"five")); deep_named_free(out.n); CoTaskMemFree(out.n); }
    }
    deep_named_free(&n);
    dteardown();
}

TEST(array_of_structs_holding_unions_switch_is_member)
{
    dsetup();
    PAIR in[3], out[3];
    memset(in, 0, sizeof in);
    memset(out, 0x5A, sizeof out);                  /* [out]: the callee's values replace these */
    in[0].kind = 1; in[0].v.i = 4;
    in[1].kind = 2; in[1].v.s = deep_wdup((const WCHAR *)u"two");
    in[2].kind = 9;
    ASSERT_HR(S_OK, AsyncIDeep_Begin_Pairs(dcall, 3, in));
    ASSERT_HR(S_OK, AsyncIDeep_Finish_Pairs(dcall, out));
    ASSERT(out[0].kind == 1 && out[0].v.i == 8);
    ASSERT(out[1].kind == 2 && deep_wequal(out[1].v.s, u"two"));
    ASSERT_EQ(out[2].kind, 9);
    CoTaskMemFree(out[1].v.s);
    CoTaskMemFree(in[1].v.s);
    dteardown();
}

TEST(encapsulated_union_with_bstr_arm_keeps_embedded_nul)
{
    dsetup();
    TAGGED in, out;
    memset(&in, 0, sizeof in);
    in.kind = 2;
    in.u.b = SysAllocStringLen((const OLECHAR *)u"a\0b", 3);   /* a BSTR's length is its prefix */
    ASSERT_HR(S_OK, AsyncIDeep_Begin_Tagged(dcall, &in));
    SysFreeString(in.u.b);
    ASSERT_HR(S_OK, AsyncIDeep_Finish_Tagged(dcall, &out));
    ASSERT_EQ(out.kind, 2);
    ASSERT_EQ(SysStringLen(out.u.b), 3);
    ASSERT(out.u.b[0] == 'a' && out.u.b[1] == 0 && out.u.b[2] == 'b' && out.u.b[3] == 0);
    SysFreeString(out.u.b);
    in.kind = 1;
    in.u.i = 10;
    ASSERT_HR(S_OK, AsyncIDeep_Begin_Tagged(dcall, &in));
    ASSERT_HR(S_OK, AsyncIDeep_Finish_Tagged(dcall, &out));
    ASSERT(out.kind == 1 && out.u.i == 11);
    dteardown();
}

TEST(bstr_in_out_inout_and_null)
{
    dsetup();
    BSTR in = SysAllocString((const OLECHAR *)u"hello"), out = NULL, io = SysAllocString((const OLECHAR *)u"old");
    ASSERT_HR(S_OK, AsyncIDeep_Begin_Bstrs(dcall, in, &io));
    SysFreeString(in);
    ASSERT_HR(S_OK, AsyncIDeep_Finish_Bstrs(dcall, &out, &io));
    ASSERT(deep_wequal(out, u"hello") && SysStringLen(out) == 5);
    ASSERT(deep_wequal(io, u"new value"));
    SysFreeString(out);
    ASSERT_HR(S_OK, AsyncIDeep_Begin_Bstrs(dcall, NULL, &io));      /* NULL is the empty BSTR */
    ASSERT_HR(S_OK, AsyncIDeep_Finish_Bstrs(dcall, &out, &io));
    ASSERT(out == NULL);
    SysFreeString(io);
    dteardown();
}

TEST(size_expressions_arithmetic_max_is_sizeof)
{
    dsetup();
    SHORT twice[7] = { 1, 2, 3, 4, 5, 6, 7 };       /* n * 2 + 1 elements for n = 3 */
    LONG upto[4] = { 1, 1, 1, 1 };                  /* max_is(n): n + 1 elements */
    WCHAR chars[2] = { 1, 2 };                      /* cb / sizeof(WCHAR) */
    LONG sum = 0;
    ASSERT_HR(S_OK, AsyncIDeep_Begin_Exprs(dcall, 3, twice, upto, sizeof chars, chars));
    ASSERT_HR(S_OK, AsyncIDeep_Finish_Exprs(dcall, &sum));
    ASSERT_EQ(sum, 28 + 400 + 30000);
    dteardown();
}

TEST(first_is_last_is_pass_only_the_window)
{
    dsetup();
    LONG buf[8] = { 0, 1, 2, 3, 4, 5, 6, 7 };
    ASSERT_HR(S_OK, AsyncIDeep_Begin_Window(dcall, 8, 2, 4, buf));
    ASSERT_HR(S_OK, AsyncIDeep_Finish_Window(dcall, buf));
    const LONG want[8] = { 0, 1, 20, 30, 40, 5, 6, 7 };
    for (int i = 0; i < 8; i++)
        ASSERT_EQ(buf[i], want[i]);
    /* bounds that do not fit are refused at Begin_ */
    ASSERT_HR(E_INVALIDARG, AsyncIDeep_Begin_Window(dcall, 4, 3, 5, buf));
    ASSERT_HR(E_INVALIDARG, AsyncIDeep_Begin_Window(dcall, 4, 5, 5, buf));
    ASSERT_HR(RPC_E_CALL_COMPLETE, AsyncIDeep_Finish_Window(dcall, buf));
    dteardown();
}

TEST(out_array_allocated_by_the_callee_size_is_deref_out)
{
    dsetup();
    ULONG n = 0;
    LONG *items = NULL;
    ASSERT_HR(S_OK, AsyncIDeep_Begin_Alloc(dcall, 5));
    ASSERT_HR(S_OK, AsyncIDeep_Finish_Alloc(dcall, &n, &items));
    ASSERT_EQ(n, 5);
    for (ULONG i = 0; i < n; i++)
        ASSERT_EQ(items[i], (LONG)(i * i));
    CoTaskMemFree(items);
    ASSERT_HR(S_OK, AsyncIDeep_Begin_Alloc(dcall, 3));     /* abandoned: the callee's array is freed */
    dteardown();
}

TEST(arrays_of_strings_in_and_out)
{
    dsetup();
    char a[] = "one", b[] = "two";
    LPSTR in[2] = { a, b };
    LPWSTR out[2] = { NULL, NULL };
    ASSERT_HR(S_OK, AsyncIDeep_Begin_Names(dcall, 2, in));
    a[0] = 'X';
    ASSERT_HR(S_OK, AsyncIDeep_Finish_Names(dcall, out));
    ASSERT(deep_wequal(out[0], u"one") && deep_wequal(out[1], u"two"));
    CoTaskMemFree(out[0]);
    CoTaskMemFree(out[1]);
    dteardown();
}

TEST(conformant_structures_behind_pointers)
{
    dsetup();
    DEVICE *d = malloc(offsetof(DEVICE, data) + 5);
    d->size = sizeof(DWORD) + sizeof(WORD) + 5;     /* five bytes of data */
    d->offset = 0;
    for (int i = 0; i < 5; i++) d->data[i] = (BYTE)(i + 1);
    FORMAT f = { 7, d };
    ROSTER *r = malloc(offsetof(ROSTER, names) + 2 * sizeof(LPWSTR));
    r->n = 2;
    r->title = deep_wdup((const WCHAR *)u"team");
    r->names[0] = deep_wdup((const WCHAR *)u"ann");
    r->names[1] = deep_wdup((const WCHAR *)u"bo");
    ULONG sum = 0;
    FORMAT copy = { 0, NULL };
    ASSERT_HR(S_OK, AsyncIDeep_Begin_Conformant(dcall, &f, r));
    memset(d->data, 0, 5);                          /* copied at Begin_, tail included */
    CoTaskMemFree(r->names[0]);
    r->names[0] = NULL;
    ASSERT_HR(S_OK, AsyncIDeep_Finish_Conformant(dcall, &sum, &copy));
    ASSERT_EQ(sum, 15 + 5000 + 1000000);
    ASSERT(copy.id == 7 && copy.device && copy.device->size == d->size);
    for (int i = 0; i < 5; i++) ASSERT_EQ(copy.device->data[i], i + 1);
    CoTaskMemFree(copy.device);
    CoTaskMemFree(r->title);
    CoTaskMemFree(r->names[1]);
    free(r);
    free(d);
    dteardown();
}

/* J16 in-process: the call object copies an [in] HANDLE as a duplicate
 * descriptor of its own (the caller may close its one after Begin_), and
 * closes it after the call; other handles pass by value. */
TEST(handles_descriptors_duplicated_others_by_value)
{
    dsetup();
    int p[2];
    ASSERT(pipe(p) == 0);
    HTHING back = NULL;
    ASSERT_HR(S_OK, AsyncIDeep_Begin_Handles(dcall, (HANDLE)(intptr_t)p[1], (HTHING)(intptr_t)0x1000));
    close(p[1]);                            /* the call has its own */
    ASSERT_HR(S_OK, AsyncIDeep_Finish_Handles(dcall, &back));
    ASSERT(back == (HTHING)(intptr_t)0x1001);
    char c[2];
    ASSERT_EQ(read(p[0], c, 2), 1);         /* the callee's byte, */
    ASSERT_EQ(c[0], 'x');
    ASSERT_EQ(read(p[0], c, 2), 0);         /* then the end: the call's duplicate is closed */
    close(p[0]);
    ASSERT_HR(S_OK, AsyncIDeep_Begin_Handles(dcall, NULL, (HTHING)(intptr_t)0x2000));
    ASSERT_HR(S_OK, AsyncIDeep_Finish_Handles(dcall, &back));
    ASSERT(back == (HTHING)(intptr_t)0x2000);
    int fd = open("/dev/null", O_RDONLY);   /* a descriptor that is not open: E_HANDLE at Begin_ */
    close(fd);
    ASSERT_HR(E_HANDLE, AsyncIDeep_Begin_Handles(dcall, (HANDLE)(intptr_t)fd, (HTHING)(intptr_t)0x2000));
    dteardown();
}

TEST(anonymous_union_member_switch_is_cast)
{
    dsetup();
    IUnknown *obj;
    ASSERT_HR(S_OK, CoCreateInstance(&CLSID_StdEvent, NULL, CLSCTX_INPROC_SERVER, &IID_IUnknown, (void **)&obj));
    for (DWORD k = 1; k <= 4; k++) {
        MEDIUM in, out;
        memset(&in, 0, sizeof in);
        memset(&out, 0, sizeof out);
        in.tymed = k;
        if (k == 1) in.u.handle = (HTHING)(intptr_t)0x42;
        if (k == 2) in.u.file = deep_wdup((const WCHAR *)u"c:/file");
        if (k == 3) in.u.stream = obj;
        in.release = k == 3 ? obj : NULL;
        ASSERT_HR(S_OK, AsyncIDeep_Begin_Medium(dcall, &in));
        if (k == 2) { CoTaskMemFree(in.u.file); in.u.file = NULL; }
        ASSERT_HR(S_OK, AsyncIDeep_Finish_Medium(dcall, &out));
        ASSERT_EQ(out.tymed, k);
        if (k == 1) ASSERT(out.u.handle == (HTHING)(intptr_t)0x42);
        if (k == 2) { ASSERT(deep_wequal(out.u.file, u"c:/file")); CoTaskMemFree(out.u.file); }
        if (k == 3) { ASSERT(out.u.stream == obj && out.release == obj); IUnknown_Release(out.u.stream); IUnknown_Release(out.release); }
    }
    IUnknown_Release(obj);
    dteardown();
}

TEST(string_union_and_encapsulated_union_in_out)
{
    dsetup();
    LPWSTR text = deep_wdup((const WCHAR *)u"old");
    VALUE v;
    TAGGED t;
    memset(&t, 0, sizeof t);
    t.kind = 2;
    t.u.b = SysAllocString((const OLECHAR *)u"bstr1");
    v.s = deep_wdup((const WCHAR *)u"given");
    ASSERT_HR(S_OK, AsyncIDeep_Begin_InOut(dcall, &text, 2, &v, &t));
    ASSERT_HR(S_OK, AsyncIDeep_Finish_InOut(dcall, &text, &v, &t));
    ASSERT(deep_wequal(text, u"new") && deep_wequal(v.s, u"replaced") && deep_wequal(t.u.b, u"bstr2"));
    CoTaskMemFree(v.s);
    /* a list node through the union's pointer arm */
    NAMED n;
    deep_named_make(&n, 5, u"node", 1, NULL);
    NAMED *mine = CoTaskMemAlloc(sizeof n);
    *mine = n;
    v.n = mine;
    ASSERT_HR(S_OK, AsyncIDeep_Begin_InOut(dcall, &text, 3, &v, &t));
    ASSERT_HR(S_OK, AsyncIDeep_Finish_InOut(dcall, &text, &v, &t));
    ASSERT(v.n && v.n->id == 105 && deep_wequal(v.n->name, u"renamed") && v.n->count == 1 && v.n->values[0] == 1);
    deep_named_free(v.n);
    CoTaskMemFree(v.n);
    CoTaskMemFree(text);
    SysFreeString(t.u.b);
    dteardown();
}

/* a list with a cycle, [in, out]: copied with its cycle (each node once),
 * and the caller's old list freed node by node once at Finish_ (both used
 * to recurse until the stack ran out) */
TEST(list_with_a_cycle_copied_once_each_node)
{
    dsetup();
    LPWSTR text = deep_wdup((const WCHAR *)u"old");
    TAGGED t;
    memset(&t, 0, sizeof t);
    t.kind = 3;                                     /* the arm without data */
    VALUE v;
    NAMED *a = CoTaskMemAlloc(sizeof *a), *b = CoTaskMemAlloc(sizeof *b);
    deep_named_make(a, 1, u"a", 1, NULL);
    deep_named_make(b, 2, u"b", 2, NULL);
    a->next = b;
    b->next = a;                                    /* and back */
    v.n = a;
    ASSERT_HR(S_OK, AsyncIDeep_Begin_InOut(dcall, &text, 3, &v, &t));
    ASSERT_HR(S_OK, AsyncIDeep_Finish_InOut(dcall, &text, &v, &t));
    NAMED *x = v.n;                                 /* the callee's list now, ours to free */
    ASSERT(x && x != a && x->id == 101 && deep_wequal(x->name, u"renamed"));
    ASSERT(x->next && x->next->id == 2 && deep_wequal(x->next->name, u"b") && x->next->next == x);
    NAMED *y = x->next;
    x->next = y->next = NULL;
    deep_named_free(x);
    deep_named_free(y);
    CoTaskMemFree(x);
    CoTaskMemFree(y);
    CoTaskMemFree(text);
    dteardown();
}

/* a list longer than the wire's pointer depth is refused in-process too,
 * at Begin_, with nothing held; one within it goes (RULES.md J13) */
TEST(pointer_depth_limited_as_on_the_wire)
{
    dsetup();
    IUnknown *owner;
    NAMED in, second, io, out;
    named_inputs(&in, &second, &io, &owner);
    enum { N = 300 };
    NAMED *nodes = calloc(N, sizeof *nodes);
    for (int i = 0; i < N; i++)
        nodes[i].next = i + 1 < N ? &nodes[i + 1] : NULL;
    second.next = nodes;
    ASSERT_HR(E_INVALIDARG, AsyncIDeep_Begin_Named(dcall, &in, &io));
    nodes[100].next = NULL;
    ASSERT_HR(S_OK, AsyncIDeep_Begin_Named(dcall, &in, &io));
    ASSERT_HR(E_FAIL, AsyncIDeep_Finish_Named(dcall, &out, &io));     /* the callee wants a two-node list */
    second.next = NULL;
    free(nodes);
    named_inputs_free(&in, &second, &io, owner);
    dteardown();
}

/* every allocation of a copy that shares pointees failing in turn: each
 * Begin_ fails with E_OUTOFMEMORY and holds nothing (the undo log gives
 * back what it took; ASan and valgrind see no leak, no double free) */
TEST(shared_pointees_every_allocation_failure_gives_everything_back)
{
    dsetup();
    IKinds *k = (IKinds *)obj_new(&vtbl, &IID_IKinds), *back = NULL;
    atomic_fetch_add(&live, 1);
    LPWSTR text = deep_wdup((const WCHAR *)u"old");
    TAGGED t;
    memset(&t, 0, sizeof t);
    t.kind = 2;
    t.u.b = SysAllocString((const OLECHAR *)u"bstr1");
    VALUE v;
    NAMED *a = CoTaskMemAlloc(sizeof *a);
    deep_named_make(a, 1, u"a", 3, (IUnknown *)k);
    a->next = a;
    v.n = a;
    int failures = 0;
    for (long n = 0;; n++) {
        AmrtFailAllocationAfter(n);
        HRESULT hr = AsyncIDeep_Begin_InOut(dcall, &text, 3, &v, &t);
        AmrtFailAllocationAfter(-1);
        if (hr == S_OK)
            break;
        ASSERT_HR(E_OUTOFMEMORY, hr);
        ASSERT(v.n == a && a->next == a && deep_wequal(text, u"old"));     /* the caller's data untouched */
        failures++;
    }
    ASSERT(failures >= 4);      /* the frame, the node, its strings, its array, ... */
    ASSERT_HR(S_OK, AsyncIDeep_Finish_InOut(dcall, &text, &v, &t));
    ASSERT(v.n != a && v.n->next == v.n && v.n->id == 101 && v.n->owner == (IUnknown *)k);
    v.n->next = NULL;
    deep_named_free(v.n);
    CoTaskMemFree(v.n);
    CoTaskMemFree(text);
    SysFreeString(t.u.b);
    LONG x = 1, sum = 0;
    ASSERT_HR(S_OK, AsyncIDeep_Begin_Typed(dcall, k, &x, &x));
    ASSERT_HR(S_OK, AsyncIDeep_Finish_Typed(dcall, &back, &sum));
    ASSERT(back == k && sum == 1002);
    IKinds_Release(back);
    IKinds_Release(k);
    dteardown();
}

TEST(typed_interface_pointer_and_full_pointers)
{
    dsetup();
    IKinds *k = (IKinds *)obj_new(&vtbl, &IID_IKinds), *back = NULL;
    atomic_fetch_add(&live, 1);
    LONG a = 3, sum = 0;
    ASSERT_HR(S_OK, AsyncIDeep_Begin_Typed(dcall, k, &a, &a));     /* [ptr]: the same pointer twice */
    IKinds_Release(k);                                              /* the call holds its own reference */
    ASSERT_HR(S_OK, AsyncIDeep_Finish_Typed(dcall, &back, &sum));
    ASSERT(back == k && sum == 1006);   /* one pointee, copied once, as the wire sends it once */
    IKinds_Release(back);
    ASSERT_HR(S_OK, AsyncIDeep_Begin_Typed(dcall, NULL, NULL, &a)); /* [ptr] may be NULL */
    ASSERT_HR(S_OK, AsyncIDeep_Finish_Typed(dcall, &back, &sum));
    ASSERT(back == NULL && sum == 3);
    dteardown();
}

RUN_TESTS(ENTRY(scalars_of_each_size_enum_bool_float), ENTRY(structs_by_value_in_inout_out), ENTRY(strings_char_and_wchar),
          ENTRY(guids_by_reference_and_out), ENTRY(conformant_arrays_in_out_inout), ENTRY(varying_array_length_is),
          ENTRY(unique_pointer_null_and_not), ENTRY(interface_pointers_in_out_inout), ENTRY(iid_is_out),
          ENTRY(struct_with_string_bstr_sized_array_interface_and_list),
          ENTRY(struct_with_pointers_released_without_finish_frees_everything),
          ENTRY(struct_with_pointers_every_allocation_failure_is_E_OUTOFMEMORY),
          ENTRY(struct_by_value_nested_struct_fixed_array_of_pointers), ENTRY(union_switch_is_parameter_each_arm),
          ENTRY(array_of_structs_holding_unions_switch_is_member),
          ENTRY(encapsulated_union_with_bstr_arm_keeps_embedded_nul), ENTRY(bstr_in_out_inout_and_null),
          ENTRY(size_expressions_arithmetic_max_is_sizeof), ENTRY(first_is_last_is_pass_only_the_window),
          ENTRY(out_array_allocated_by_the_callee_size_is_deref_out), ENTRY(arrays_of_strings_in_and_out),
          ENTRY(conformant_structures_behind_pointers), ENTRY(handles_descriptors_duplicated_others_by_value),
          ENTRY(anonymous_union_member_switch_is_cast), ENTRY(string_union_and_encapsulated_union_in_out),
          ENTRY(typed_interface_pointer_and_full_pointers), ENTRY(list_with_a_cycle_copied_once_each_node),
          ENTRY(pointer_depth_limited_as_on_the_wire), ENTRY(shared_pointees_every_allocation_failure_gives_everything_back))
