/*
 * oleauto.h - OLE Automation's helpers in libamidlrt: VARIANT
 * (VariantInit, VariantClear, VariantCopy) and SAFEARRAY (SafeArrayCreate
 * and family), with Windows' names and behaviour (Microsoft's "oleauto.h"
 * reference). The BSTR functions are in amidlrt.h. The types come from the
 * base IDL (oaidl.idl, compiled by amidl). The element types a SAFEARRAY
 * made here may hold: VT_I1..VT_UI8, VT_INT, VT_UINT, VT_R4, VT_R8,
 * VT_BOOL, VT_ERROR, VT_CY, VT_DATE, VT_BSTR, VT_UNKNOWN, VT_DISPATCH,
 * VT_VARIANT (others: DISP_E_BADVARTYPE / NULL).
 */
#ifndef AMIDLRT_OLEAUTO_H
#define AMIDLRT_OLEAUTO_H

#include "amidlrt.h"
#include "oaidl.h"

#ifdef __cplusplus
extern "C" {
#endif

AMIDLRT_API void VariantInit(VARIANTARG *v);
/* frees what v owns (VT_BSTR, VT_UNKNOWN, VT_DISPATCH, VT_ARRAY; a
 * VT_BYREF value owns nothing), then VT_EMPTY */
AMIDLRT_API HRESULT VariantClear(VARIANTARG *v);
/* dst cleared, then a deep copy of src (BSTRs and arrays copied,
 * interfaces AddRef'd; VT_BYREF copies the pointer) */
AMIDLRT_API HRESULT VariantCopy(VARIANTARG *dst, const VARIANTARG *src);

AMIDLRT_API SAFEARRAY *SafeArrayCreate(VARTYPE vt, UINT dims, SAFEARRAYBOUND *bounds);
AMIDLRT_API SAFEARRAY *SafeArrayCreateVector(VARTYPE vt, LONG lbound, ULONG elements);
AMIDLRT_API HRESULT SafeArrayAllocDescriptorEx(VARTYPE vt, UINT dims, SAFEARRAY **out);
AMIDLRT_API HRESULT SafeArrayAllocData(SAFEARRAY *psa);
AMIDLRT_API HRESULT SafeArrayDestroy(SAFEARRAY *psa);
AMIDLRT_API HRESULT SafeArrayDestroyData(SAFEARRAY *psa);
AMIDLRT_API HRESULT SafeArrayDestroyDescriptor(SAFEARRAY *psa);
AMIDLRT_API HRESULT SafeArrayCopy(SAFEARRAY *psa, SAFEARRAY **out);
AMIDLRT_API UINT SafeArrayGetDim(SAFEARRAY *psa);
AMIDLRT_API UINT SafeArrayGetElemsize(SAFEARRAY *psa);
AMIDLRT_API HRESULT SafeArrayGetLBound(SAFEARRAY *psa, UINT dim, LONG *lbound);
AMIDLRT_API HRESULT SafeArrayGetUBound(SAFEARRAY *psa, UINT dim, LONG *ubound);
AMIDLRT_API HRESULT SafeArrayGetVartype(SAFEARRAY *psa, VARTYPE *vt);
AMIDLRT_API HRESULT SafeArrayLock(SAFEARRAY *psa);
AMIDLRT_API HRESULT SafeArrayUnlock(SAFEARRAY *psa);
AMIDLRT_API HRESULT SafeArrayAccessData(SAFEARRAY *psa, void **data);
AMIDLRT_API HRESULT SafeArrayUnaccessData(SAFEARRAY *psa);
/* indices: one per dimension, the first dimension's first (as given to SafeArrayCreate) */
AMIDLRT_API HRESULT SafeArrayPtrOfIndex(SAFEARRAY *psa, LONG *indices, void **elem);
/* copies: a BSTR copied, an interface AddRef'd, a VARIANT VariantCopy'd */
AMIDLRT_API HRESULT SafeArrayGetElement(SAFEARRAY *psa, LONG *indices, void *out);
AMIDLRT_API HRESULT SafeArrayPutElement(SAFEARRAY *psa, LONG *indices, void *in);

#ifdef __cplusplus
}
#endif

#endif
