/* test-core.c - COM core: initialization, memory, GUID strings, classes. */
#include "task.h"

#include <uchar.h>

TEST(init_counts)
{
    ASSERT_HR(S_OK, CoInitializeEx(NULL, COINIT_MULTITHREADED));
    ASSERT_HR(S_FALSE, CoInitializeEx(NULL, COINIT_MULTITHREADED));
    CoUninitialize();
    CoUninitialize();
    ASSERT_HR(S_OK, CoInitializeEx(NULL, COINIT_MULTITHREADED));
    CoUninitialize();
}

TEST(not_initialized)
{
    void *p = (void *)1;
    ASSERT_HR(CO_E_NOTINITIALIZED, CoCreateInstance(&CLSID_StdEvent, NULL, CLSCTX_INPROC_SERVER, &IID_ISynchronize, &p));
    ASSERT(p == NULL);
    DWORD cookie;
    IUnknown *dummy = (IUnknown *)&cookie;
    ASSERT_HR(CO_E_NOTINITIALIZED, CoRegisterClassObject(&CLSID_StdEvent, dummy, CLSCTX_INPROC_SERVER, REGCLS_MULTIPLEUSE, &cookie));
}

TEST(task_mem)
{
    char *p = CoTaskMemAlloc(16);
    ASSERT(p);
    memset(p, 'x', 16);
    p = CoTaskMemRealloc(p, 4096);
    ASSERT(p && p[15] == 'x');
    CoTaskMemFree(p);
    CoTaskMemFree(NULL);
    p = CoTaskMemRealloc(NULL, 8);
    ASSERT(p != NULL);
    CoTaskMemFree(p);
}

TEST(alloc_failure_hook)
{
    AmrtFailAllocationAfter(0);
    ASSERT(CoTaskMemAlloc(8) == NULL);       /* the next one fails ... */
    void *p = CoTaskMemAlloc(8);             /* ... and only that one */
    ASSERT(p);
    CoTaskMemFree(p);
    AmrtFailAllocationAfter(-1);
}

TEST(guid_strings)
{
    WCHAR buf[39];
    ASSERT_EQ(StringFromGUID2(&IID_ICallFactory, buf, 39), 39);
    char narrow[40];
    for (int i = 0; i < 39; i++)
        narrow[i] = (char)buf[i];
    ASSERT(!strcmp(narrow, "{1C733A30-2A1C-11CE-ADE5-00AA0044773D}"));
    ASSERT_EQ(StringFromGUID2(&IID_ICallFactory, buf, 38), 0);
    IID iid;
    ASSERT_HR(S_OK, IIDFromString(buf, &iid));
    ASSERT(IsEqualIID(&iid, &IID_ICallFactory));
    const char16_t *lower = u"{00000030-0000-0000-c000-000000000046}";
    ASSERT_HR(S_OK, IIDFromString((LPCOLESTR)lower, &iid));
    ASSERT(IsEqualIID(&iid, &IID_ISynchronize));
    ASSERT_HR(E_INVALIDARG, IIDFromString((LPCOLESTR)u"{00000030-0000-0000-c000-00000000004}", &iid));
    CLSID clsid;
    ASSERT_HR(CO_E_CLASSSTRING, CLSIDFromString((LPCOLESTR)u"nonsense", &clsid));
    ASSERT_HR(S_OK, CLSIDFromString((LPCOLESTR)u"{0000032B-0000-0000-C000-000000000046}", &clsid));
    ASSERT(IsEqualCLSID(&clsid, &CLSID_StdEvent));
}

/* a class factory for a trivial object */
typedef struct Obj { IUnknown iface; long refs; } Obj;
static long live_objects;
static HRESULT STDMETHODCALLTYPE obj_qi(IUnknown *This, REFIID riid, void **ppv)
{
    if (IsEqualIID(riid, &IID_IUnknown)) { *ppv = This; IUnknown_AddRef(This); return S_OK; }
    *ppv = NULL;
    return E_NOINTERFACE;
}
static ULONG STDMETHODCALLTYPE obj_addref(IUnknown *This) { return (ULONG)++((Obj *)This)->refs; }
static ULONG STDMETHODCALLTYPE obj_release(IUnknown *This)
{
    long r = --((Obj *)This)->refs;
    if (!r) { free(This); live_objects--; }
    return (ULONG)r;
}
static IUnknownVtbl obj_vtbl = { obj_qi, obj_addref, obj_release };

typedef struct Factory { IClassFactory iface; long refs; } Factory;
static HRESULT STDMETHODCALLTYPE f_qi(IClassFactory *This, REFIID riid, void **ppv)
{
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IClassFactory)) {
        *ppv = This; IClassFactory_AddRef(This); return S_OK;
    }
    *ppv = NULL;
    return E_NOINTERFACE;
}
static ULONG STDMETHODCALLTYPE f_addref(IClassFactory *This) { return (ULONG)++((Factory *)This)->refs; }
static ULONG STDMETHODCALLTYPE f_release(IClassFactory *This) { return (ULONG)--((Factory *)This)->refs; }
static HRESULT STDMETHODCALLTYPE f_create(IClassFactory *This, IUnknown *outer, REFIID riid, void **ppv)
{
    (void)This;
    if (outer) return CLASS_E_NOAGGREGATION;
    Obj *o = calloc(1, sizeof *o);
    o->iface.lpVtbl = &obj_vtbl;
    o->refs = 1;
    live_objects++;
    HRESULT hr = IUnknown_QueryInterface(&o->iface, riid, ppv);
    IUnknown_Release(&o->iface);
    return hr;
}
static HRESULT STDMETHODCALLTYPE f_lock(IClassFactory *This, BOOL lock) { (void)This; (void)lock; return S_OK; }
static IClassFactoryVtbl f_vtbl = { f_qi, f_addref, f_release, f_create, f_lock };

static const CLSID CLSID_Test = { 0x12345678, 0x1, 0x2, { 1, 2, 3, 4, 5, 6, 7, 8 } };

TEST(class_registration)
{
    Factory f = { { &f_vtbl }, 1 };
    DWORD cookie;
    IUnknown *p;
    ASSERT_HR(S_OK, CoInitializeEx(NULL, COINIT_MULTITHREADED));
    ASSERT_HR(REGDB_E_CLASSNOTREG, CoCreateInstance(&CLSID_Test, NULL, CLSCTX_INPROC_SERVER, &IID_IUnknown, (void **)&p));
    ASSERT_HR(S_OK, CoRegisterClassObject(&CLSID_Test, (IUnknown *)&f.iface, CLSCTX_INPROC_SERVER, REGCLS_MULTIPLEUSE, &cookie));
    ASSERT_EQ(f.refs, 2);                       /* the registration holds a reference */
    ASSERT_HR(S_OK, CoCreateInstance(&CLSID_Test, NULL, CLSCTX_INPROC_SERVER, &IID_IUnknown, (void **)&p));
    ASSERT_EQ(live_objects, 1);
    IUnknown *p2 = (IUnknown *)1;
    ASSERT_HR(E_NOINTERFACE, CoCreateInstance(&CLSID_Test, NULL, CLSCTX_INPROC_SERVER, &IID_ISynchronize, (void **)&p2));
    ASSERT(p2 == NULL);
    ASSERT_EQ(live_objects, 1);
    IClassFactory *cf;
    ASSERT_HR(S_OK, CoGetClassObject(&CLSID_Test, CLSCTX_INPROC_SERVER, NULL, &IID_IClassFactory, (void **)&cf));
    IClassFactory_Release(cf);
    ASSERT_HR(S_OK, CoRevokeClassObject(cookie));
    ASSERT_HR(CO_E_OBJNOTREG, CoRevokeClassObject(cookie));
    ASSERT_EQ(f.refs, 1);
    IUnknown_Release(p);
    ASSERT_EQ(live_objects, 0);
    CoUninitialize();
}

TEST(uninitialize_revokes)
{
    Factory f = { { &f_vtbl }, 1 };
    DWORD cookie;
    ASSERT_HR(S_OK, CoInitializeEx(NULL, COINIT_MULTITHREADED));
    ASSERT_HR(S_OK, CoRegisterClassObject(&CLSID_Test, (IUnknown *)&f.iface, CLSCTX_INPROC_SERVER, REGCLS_MULTIPLEUSE, &cookie));
    CoUninitialize();
    ASSERT_EQ(f.refs, 1);
}

/* amidlrt.h's one table gives the constants and their names */
TEST(hresult_names)
{
    ASSERT(!strcmp(AmrtHresultName(S_OK), "S_OK"));
    ASSERT(!strcmp(AmrtHresultName(E_POINTER), "E_POINTER"));
    ASSERT(!strcmp(AmrtHresultName(RPC_E_TIMEOUT), "RPC_E_TIMEOUT"));
    ASSERT(!strcmp(AmrtHresultName(CO_E_CANCEL_DISABLED), "CO_E_CANCEL_DISABLED"));
    ASSERT(!strcmp(AmrtHresultName(RPC_E_CALL_PENDING), "RPC_S_CALLPENDING"));   /* an alias: the table's name */
    ASSERT(!strcmp(AmrtHresultName((HRESULT)0x80070020), "0x80070020"));        /* not in the table */
    ASSERT_EQ(E_OUTOFMEMORY, (HRESULT)0x8007000E);
    ASSERT_EQ(RPC_E_UNEXPECTED, (HRESULT)0x8001FFFF);
    ASSERT_EQ(sizeof(E_FAIL), sizeof(HRESULT));
    switch ((HRESULT)0x80004003) {              /* constants: usable in case labels */
    case E_POINTER: break;
    default: ASSERT(0);
    }
}

RUN_TESTS(ENTRY(hresult_names), ENTRY(init_counts), ENTRY(not_initialized), ENTRY(task_mem), ENTRY(alloc_failure_hook),
          ENTRY(guid_strings), ENTRY(class_registration), ENTRY(uninitialize_revokes))
