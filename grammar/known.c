/*
 * known.c - which base IDL file declares a well-known name.
 *
 * A file that uses IUnknown, BSTR or IStream without importing the file
 * that declares it gets a syntax error at the name, since the lexer does
 * not know it as a type. The parser's error path asks here and turns that
 * into "unknown type name 'IUnknown'" with a note naming the import, as
 * gcc names the header of size_t. The names are the common ones of the
 * Windows SDK's base IDL (unknwn, objidl, oaidl, oleidl, ocidl, propidl,
 * servprov, wtypes), each under the file a user imports for it.
 */
#include <stdlib.h>
#include <string.h>
#include "amidl.h"

typedef struct Known {
    const char *name;
    const char *file;
} Known;

/* sorted by name (strcmp): known_import bsearches it */
static const Known known[] = {
    { "BLOB", "wtypes.idl" },
    { "BOOL", "wtypes.idl" },
    { "BSTR", "wtypes.idl" },
    { "BYTE", "wtypes.idl" },
    { "CLSID", "wtypes.idl" },
    { "CY", "wtypes.idl" },
    { "DATE", "wtypes.idl" },
    { "DECIMAL", "wtypes.idl" },
    { "DISPID", "oaidl.idl" },
    { "DISPPARAMS", "oaidl.idl" },
    { "DVTARGETDEVICE", "objidl.idl" },
    { "DWORD", "wtypes.idl" },
    { "EXCEPINFO", "oaidl.idl" },
    { "FILETIME", "wtypes.idl" },
    { "FORMATETC", "objidl.idl" },
    { "GUID", "wtypes.idl" },
    { "HANDLE", "wtypes.idl" },
    { "HRESULT", "wtypes.idl" },
    { "HWND", "wtypes.idl" },
    { "IAdviseSink", "objidl.idl" },
    { "IAsyncManager", "objidl.idl" },
    { "IBindCtx", "objidl.idl" },
    { "ICallFactory", "objidl.idl" },
    { "ICancelMethodCalls", "objidl.idl" },
    { "IClassFactory", "unknwn.idl" },
    { "IClassFactory2", "ocidl.idl" },
    { "IConnectionPoint", "ocidl.idl" },
    { "IConnectionPointContainer", "ocidl.idl" },
    { "IDataObject", "objidl.idl" },
    { "IDispatch", "oaidl.idl" },
    { "IDropSource", "oleidl.idl" },
    { "IDropTarget", "oleidl.idl" },
    { "IEnumFORMATETC", "objidl.idl" },
    { "IEnumOLEVERB", "oleidl.idl" },
    { "IEnumString", "objidl.idl" },
    { "IEnumUnknown", "objidl.idl" },
    { "IEnumVARIANT", "oaidl.idl" },
    { "IErrorInfo", "oaidl.idl" },
    { "IFont", "ocidl.idl" },
    { "IGlobalInterfaceTable", "objidl.idl" },
    { "IID", "wtypes.idl" },
    { "ILockBytes", "objidl.idl" },
    { "IMalloc", "objidl.idl" },
    { "IMarshal", "objidl.idl" },
    { "IMoniker", "objidl.idl" },
    { "IObjectWithSite", "ocidl.idl" },
    { "IOleCache", "oleidl.idl" },
    { "IOleClientSite", "oleidl.idl" },
    { "IOleContainer", "oleidl.idl" },
    { "IOleControl", "ocidl.idl" },
    { "IOleInPlaceFrame", "oleidl.idl" },
    { "IOleInPlaceObject", "oleidl.idl" },
    { "IOleInPlaceSite", "oleidl.idl" },
    { "IOleInPlaceSiteWindowless", "ocidl.idl" },
    { "IOleObject", "oleidl.idl" },
    { "IOleUndoManager", "ocidl.idl" },
    { "IOleWindow", "oleidl.idl" },
    { "IPSFactoryBuffer", "objidl.idl" },
    { "IPersist", "objidl.idl" },
    { "IPersistFile", "objidl.idl" },
    { "IPersistStorage", "objidl.idl" },
    { "IPersistStream", "objidl.idl" },
    { "IPersistStreamInit", "ocidl.idl" },
    { "IPicture", "ocidl.idl" },
    { "IPropertyBag", "oaidl.idl" },
    { "IPropertyNotifySink", "ocidl.idl" },
    { "IPropertyPage", "ocidl.idl" },
    { "IPropertySetStorage", "propidl.idl" },
    { "IPropertyStorage", "propidl.idl" },
    { "IProvideClassInfo", "ocidl.idl" },
    { "IQuickActivate", "ocidl.idl" },
    { "IRecordInfo", "oaidl.idl" },
    { "IRpcChannelBuffer", "objidl.idl" },
    { "IRpcStubBuffer", "objidl.idl" },
    { "IRunningObjectTable", "objidl.idl" },
    { "ISequentialStream", "objidl.idl" },
    { "IServiceProvider", "servprov.idl" },
    { "IStorage", "objidl.idl" },
    { "IStream", "objidl.idl" },
    { "ISupportErrorInfo", "oaidl.idl" },
    { "ISynchronize", "objidl.idl" },
    { "ISynchronizeContainer", "objidl.idl" },
    { "ISynchronizeEvent", "objidl.idl" },
    { "ISynchronizeHandle", "objidl.idl" },
    { "ITypeInfo", "oaidl.idl" },
    { "ITypeLib", "oaidl.idl" },
    { "IUnknown", "unknwn.idl" },
    { "IViewObject", "oleidl.idl" },
    { "IViewObject2", "oleidl.idl" },
    { "IViewObjectEx", "ocidl.idl" },
    { "LARGE_INTEGER", "wtypes.idl" },
    { "LCID", "wtypes.idl" },
    { "LONG", "wtypes.idl" },
    { "LPCOLESTR", "wtypes.idl" },
    { "LPCWSTR", "wtypes.idl" },
    { "LPOLESTR", "wtypes.idl" },
    { "LPWSTR", "wtypes.idl" },
    { "MSG", "wtypes.idl" },
    { "OLECHAR", "wtypes.idl" },
    { "POINT", "wtypes.idl" },
    { "PROPID", "wtypes.idl" },
    { "PROPSPEC", "propidl.idl" },
    { "PROPVARIANT", "propidl.idl" },
    { "RECT", "wtypes.idl" },
    { "REFCLSID", "wtypes.idl" },
    { "REFGUID", "wtypes.idl" },
    { "REFIID", "wtypes.idl" },
    { "SAFEARRAY", "oaidl.idl" },
    { "SIZE", "wtypes.idl" },
    { "STATSTG", "objidl.idl" },
    { "STGMEDIUM", "objidl.idl" },
    { "UINT", "wtypes.idl" },
    { "ULARGE_INTEGER", "wtypes.idl" },
    { "ULONG", "wtypes.idl" },
    { "USHORT", "wtypes.idl" },
    { "VARIANT", "oaidl.idl" },
    { "VARIANT_BOOL", "wtypes.idl" },
    { "WCHAR", "wtypes.idl" },
    { "WORD", "wtypes.idl" },
};

static int cmp_known(const void *key, const void *elem)
{
    return strcmp(key, ((const Known *)elem)->name);
}

const char *known_import(const char *name)
{
    const Known *k = bsearch(name, known, sizeof known / sizeof known[0], sizeof known[0], cmp_known);
    return k ? k->file : NULL;
}

/* The note after "unknown type name 'NAME'" when a base IDL file declares
 * it: the import the file probably lacks. */
void note_missing_import(Compiler *cc, Loc loc, const char *name)
{
    const char *file = known_import(name);
    if (file)
        note_at(cc, loc, "'%s' is declared in \"%s\"; did you forget 'import \"%s\";'?", name, file, file);
}
