/*
 * oleaut.c - OLE Automation's VARIANT and SAFEARRAY helpers (oleauto.h),
 * and what the argument interpreter (interp.c, wire.c) asks about them:
 * which vts it passes, how big their elements are, an array's element
 * type and count.
 *
 * A SAFEARRAY made here is one block: 16 bytes before the descriptor (the
 * element VARTYPE in the last 4 of them, FADF_HAVEVARTYPE, as Windows
 * keeps it), the descriptor, its bounds; the data is a second block.
 * Bounds are kept in memory in the reverse of the order SafeArrayCreate
 * is given them (rgsabound[0] is the last dimension), as on Windows.
 */
#include "interp.h"

#include <string.h>

enum { PREFIX = 16, MAX_DIMS = 64 };

/* ---------------------------------------------------------------- element types */

size_t amrt__vt_scalar_size(VARTYPE vt)
{
    switch (vt) {
    case VT_I1: case VT_UI1:
        return 1;
    case VT_I2: case VT_UI2: case VT_BOOL:
        return 2;
    case VT_I4: case VT_UI4: case VT_INT: case VT_UINT: case VT_R4: case VT_ERROR:
        return 4;
    case VT_I8: case VT_UI8: case VT_R8: case VT_CY: case VT_DATE:
        return 8;
    default:
        return 0;
    }
}

size_t amrt__vt_elem_size(VARTYPE vt)
{
    switch (vt) {
    case VT_BSTR: case VT_UNKNOWN: case VT_DISPATCH:
        return sizeof(void *);
    case VT_VARIANT:
        return sizeof(VARIANT);
    default:
        return amrt__vt_scalar_size(vt);
    }
}

static USHORT features_of(VARTYPE vt)
{
    switch (vt) {
    case VT_BSTR: return FADF_BSTR;
    case VT_UNKNOWN: return FADF_UNKNOWN;
    case VT_DISPATCH: return FADF_DISPATCH;
    case VT_VARIANT: return FADF_VARIANT;
    default: return 0;
    }
}

VARTYPE amrt__sa_vt(const SAFEARRAY *psa)
{
    if (psa->fFeatures & FADF_HAVEVARTYPE) {
        DWORD vt;
        memcpy(&vt, (const unsigned char *)psa - 4, 4);
        return (VARTYPE)vt;
    }
    if (psa->fFeatures & FADF_BSTR)
        return VT_BSTR;
    if (psa->fFeatures & FADF_UNKNOWN)
        return VT_UNKNOWN;
    if (psa->fFeatures & FADF_DISPATCH)
        return VT_DISPATCH;
    if (psa->fFeatures & FADF_VARIANT)
        return VT_VARIANT;
    switch (psa->cbElements) {
    case 1: return VT_UI1;
    case 2: return VT_I2;
    case 4: return VT_I4;
    case 8: return VT_I8;
    default: return VT_EMPTY;
    }
}

bool amrt__sa_count(const SAFEARRAY *psa, size_t *n)
{
    size_t c = 1;
    for (USHORT i = 0; i < psa->cDims; i++) {
        size_t e = psa->rgsabound[i].cElements;
        if (e && c > SIZE_MAX / e)
            return false;
        c *= e;
    }
    if (psa->cbElements && c > SIZE_MAX / psa->cbElements)
        return false;
    *n = c;
    return true;
}

/* ---------------------------------------------------------------- VARIANT */

/* vt is one VariantCopy and VariantClear know */
static bool variant_vt_ok(VARTYPE vt)
{
    VARTYPE base = vt & VT_TYPEMASK;
    if (vt & ~(VT_TYPEMASK | VT_ARRAY | VT_BYREF))
        return false;
    if (base == VT_EMPTY || base == VT_NULL)
        return !(vt & (VT_ARRAY | VT_BYREF));
    if (base == VT_DECIMAL)
        return !(vt & VT_ARRAY);
    if (base == VT_VARIANT)
        return (vt & (VT_ARRAY | VT_BYREF)) != 0;
    return amrt__vt_elem_size(base) != 0;
}

void VariantInit(VARIANTARG *v)
{
    if (v)
        v->vt = VT_EMPTY;
}

HRESULT VariantClear(VARIANTARG *v)
{
    if (!v)
        return E_INVALIDARG;
    VARTYPE vt = v->vt;
    if (!variant_vt_ok(vt))
        return DISP_E_BADVARTYPE;
    if (!(vt & VT_BYREF)) {
        if (vt & VT_ARRAY) {
            HRESULT hr = v->parray ? SafeArrayDestroy(v->parray) : S_OK;
            if (FAILED(hr))
                return hr;
        } else if (vt == VT_BSTR) {
            SysFreeString(v->bstrVal);
        } else if ((vt == VT_UNKNOWN || vt == VT_DISPATCH) && v->punkVal) {
            IUnknown_Release(v->punkVal);
        }
    }
    memset(v, 0, sizeof *v);
    return S_OK;
}

HRESULT VariantCopy(VARIANTARG *dst, const VARIANTARG *src)
{
    if (!dst || !src)
        return E_INVALIDARG;
    if (dst == src)
        return S_OK;
    if (!variant_vt_ok(src->vt))
        return DISP_E_BADVARTYPE;
    HRESULT hr = VariantClear(dst);
    if (FAILED(hr))
        return hr;
    *dst = *src;
    VARTYPE vt = src->vt;
    if (vt & VT_BYREF)
        return S_OK;
    if (vt & VT_ARRAY) {
        dst->parray = NULL;
        if (src->parray && FAILED(hr = SafeArrayCopy(src->parray, &dst->parray))) {
            memset(dst, 0, sizeof *dst);
            return hr;
        }
    } else if (vt == VT_BSTR && src->bstrVal) {
        if (!(dst->bstrVal = SysAllocStringByteLen((LPCSTR)src->bstrVal, SysStringByteLen(src->bstrVal)))) {
            memset(dst, 0, sizeof *dst);
            return E_OUTOFMEMORY;
        }
    } else if ((vt == VT_UNKNOWN || vt == VT_DISPATCH) && src->punkVal) {
        IUnknown_AddRef(src->punkVal);
    }
    return S_OK;
}

/* ---------------------------------------------------------------- SAFEARRAY */

HRESULT SafeArrayAllocDescriptorEx(VARTYPE vt, UINT dims, SAFEARRAY **out)
{
    if (!out)
        return E_POINTER;
    *out = NULL;
    size_t es = amrt__vt_elem_size(vt);
    if (!dims || dims > MAX_DIMS)
        return E_INVALIDARG;
    if (!es)
        return DISP_E_BADVARTYPE;
    size_t size = PREFIX + offsetof(SAFEARRAY, rgsabound) + dims * sizeof(SAFEARRAYBOUND);
    unsigned char *b = amrt__calloc(size);
    if (!b)
        return E_OUTOFMEMORY;
    SAFEARRAY *psa = (SAFEARRAY *)(b + PREFIX);
    DWORD v = vt;
    memcpy(b + PREFIX - 4, &v, 4);
    psa->cDims = (USHORT)dims;
    psa->fFeatures = FADF_HAVEVARTYPE | features_of(vt);
    psa->cbElements = (ULONG)es;
    *out = psa;
    return S_OK;
}

HRESULT SafeArrayAllocData(SAFEARRAY *psa)
{
    size_t n;
    if (!psa || psa->pvData || !amrt__sa_count(psa, &n))
        return E_INVALIDARG;
    size_t bytes = n * psa->cbElements;
    psa->pvData = amrt__calloc(bytes ? bytes : 1);
    return psa->pvData ? S_OK : E_OUTOFMEMORY;
}

HRESULT amrt__sa_create(VARTYPE vt, UINT dims, const SAFEARRAYBOUND *mem_bounds, SAFEARRAY **out)
{
    HRESULT hr = SafeArrayAllocDescriptorEx(vt, dims, out);
    if (FAILED(hr))
        return hr;
    memcpy((*out)->rgsabound, mem_bounds, dims * sizeof *mem_bounds);
    if (FAILED(hr = SafeArrayAllocData(*out))) {
        SafeArrayDestroyDescriptor(*out);
        *out = NULL;
    }
    return hr;
}

SAFEARRAY *SafeArrayCreate(VARTYPE vt, UINT dims, SAFEARRAYBOUND *bounds)
{
    if (!bounds || !dims || dims > MAX_DIMS)
        return NULL;
    SAFEARRAYBOUND mem[MAX_DIMS];
    for (UINT i = 0; i < dims; i++)
        mem[dims - 1 - i] = bounds[i];
    SAFEARRAY *psa;
    return SUCCEEDED(amrt__sa_create(vt, dims, mem, &psa)) ? psa : NULL;
}

SAFEARRAY *SafeArrayCreateVector(VARTYPE vt, LONG lbound, ULONG elements)
{
    SAFEARRAYBOUND b = { elements, lbound };
    return SafeArrayCreate(vt, 1, &b);
}

/* release what the elements of psa own (they stay, zeroed) */
static void release_elems(SAFEARRAY *psa)
{
    size_t n;
    if (!psa->pvData || !amrt__sa_count(psa, &n))
        return;
    unsigned char *p = psa->pvData;
    for (size_t i = 0; i < n; i++, p += psa->cbElements) {
        if (psa->fFeatures & FADF_BSTR) {
            SysFreeString(*(BSTR *)p);
            *(BSTR *)p = NULL;
        } else if (psa->fFeatures & (FADF_UNKNOWN | FADF_DISPATCH)) {
            IUnknown *u = *(IUnknown **)p;
            *(IUnknown **)p = NULL;
            if (u)
                IUnknown_Release(u);
        } else if (psa->fFeatures & FADF_VARIANT) {
            VariantClear((VARIANT *)p);
        } else {
            return;
        }
    }
}

HRESULT SafeArrayDestroyData(SAFEARRAY *psa)
{
    if (!psa)
        return E_INVALIDARG;
    if (psa->cLocks)
        return DISP_E_ARRAYISLOCKED;
    release_elems(psa);
    if (!(psa->fFeatures & (FADF_STATIC | FADF_AUTO | FADF_EMBEDDED))) {
        amrt__free(psa->pvData);
        psa->pvData = NULL;
    }
    return S_OK;
}

HRESULT SafeArrayDestroyDescriptor(SAFEARRAY *psa)
{
    if (!psa)
        return E_INVALIDARG;
    if (psa->cLocks)
        return DISP_E_ARRAYISLOCKED;
    if (!(psa->fFeatures & (FADF_STATIC | FADF_AUTO | FADF_EMBEDDED)))
        amrt__free((unsigned char *)psa - PREFIX);
    return S_OK;
}

HRESULT SafeArrayDestroy(SAFEARRAY *psa)
{
    if (!psa)
        return S_OK;
    if (psa->cLocks)
        return DISP_E_ARRAYISLOCKED;
    SafeArrayDestroyData(psa);
    return SafeArrayDestroyDescriptor(psa);
}

HRESULT amrt__sa_copy(const SAFEARRAY *psa, VARTYPE vt, size_t n, AmrtVariantCopier *vcopy, void *ctx,
                      SAFEARRAY **out)
{
    SAFEARRAY *c;
    HRESULT hr = amrt__sa_create(vt, psa->cDims, psa->rgsabound, &c);
    if (FAILED(hr))
        return hr;
    const unsigned char *s = psa->pvData;
    unsigned char *d = c->pvData;
    size_t es = c->cbElements;
    if (!features_of(vt)) {
        if (n)
            memcpy(d, s, n * es);
    } else {
        for (size_t i = 0; i < n && SUCCEEDED(hr); i++) {
            const void *se = s + i * es;
            void *de = d + i * es;
            if (vt == VT_BSTR) {
                BSTR b = *(BSTR const *)se;
                if (b && !(*(BSTR *)de = SysAllocStringByteLen((LPCSTR)b, SysStringByteLen(b))))
                    hr = E_OUTOFMEMORY;
            } else if (vt == VT_VARIANT) {
                hr = vcopy(ctx, de, se);
            } else {
                IUnknown *u = *(IUnknown *const *)se;
                if (u)
                    IUnknown_AddRef(u);
                *(IUnknown **)de = u;
            }
        }
    }
    if (FAILED(hr)) {
        SafeArrayDestroy(c);
        return hr;
    }
    *out = c;
    return S_OK;
}

static HRESULT variant_copier(void *ctx, VARIANT *dst, const VARIANT *src)
{
    (void)ctx;
    return VariantCopy(dst, src);
}

HRESULT SafeArrayCopy(SAFEARRAY *psa, SAFEARRAY **out)
{
    if (!out)
        return E_INVALIDARG;
    *out = NULL;
    if (!psa)
        return S_OK;
    VARTYPE vt = amrt__sa_vt(psa);
    size_t n;
    if (!psa->cDims || psa->cDims > MAX_DIMS || amrt__vt_elem_size(vt) != psa->cbElements || !amrt__sa_count(psa, &n))
        return E_INVALIDARG;
    if (n && !psa->pvData)
        return E_INVALIDARG;
    return amrt__sa_copy(psa, vt, n, variant_copier, NULL, out);
}

UINT SafeArrayGetDim(SAFEARRAY *psa)
{
    return psa ? psa->cDims : 0;
}

UINT SafeArrayGetElemsize(SAFEARRAY *psa)
{
    return psa ? psa->cbElements : 0;
}

static const SAFEARRAYBOUND *bound_of(SAFEARRAY *psa, UINT dim)
{
    if (!psa || dim < 1 || dim > psa->cDims)
        return NULL;
    return &psa->rgsabound[psa->cDims - dim];
}

HRESULT SafeArrayGetLBound(SAFEARRAY *psa, UINT dim, LONG *lbound)
{
    const SAFEARRAYBOUND *b = bound_of(psa, dim);
    if (!lbound)
        return E_INVALIDARG;
    if (!b)
        return psa ? DISP_E_BADINDEX : E_INVALIDARG;
    *lbound = b->lLbound;
    return S_OK;
}

HRESULT SafeArrayGetUBound(SAFEARRAY *psa, UINT dim, LONG *ubound)
{
    const SAFEARRAYBOUND *b = bound_of(psa, dim);
    if (!ubound)
        return E_INVALIDARG;
    if (!b)
        return psa ? DISP_E_BADINDEX : E_INVALIDARG;
    *ubound = (LONG)((int64_t)b->lLbound + (int64_t)b->cElements - 1);
    return S_OK;
}

HRESULT SafeArrayGetVartype(SAFEARRAY *psa, VARTYPE *vt)
{
    if (!psa || !vt)
        return E_INVALIDARG;
    *vt = amrt__sa_vt(psa);
    return *vt == VT_EMPTY ? E_INVALIDARG : S_OK;
}

HRESULT SafeArrayLock(SAFEARRAY *psa)
{
    if (!psa)
        return E_INVALIDARG;
    if (psa->cLocks >= 0xffff)
        return E_UNEXPECTED;
    psa->cLocks++;
    return S_OK;
}

HRESULT SafeArrayUnlock(SAFEARRAY *psa)
{
    if (!psa)
        return E_INVALIDARG;
    if (!psa->cLocks)
        return E_UNEXPECTED;
    psa->cLocks--;
    return S_OK;
}

HRESULT SafeArrayAccessData(SAFEARRAY *psa, void **data)
{
    if (!psa || !data)
        return E_INVALIDARG;
    HRESULT hr = SafeArrayLock(psa);
    *data = SUCCEEDED(hr) ? psa->pvData : NULL;
    return hr;
}

HRESULT SafeArrayUnaccessData(SAFEARRAY *psa)
{
    return SafeArrayUnlock(psa);
}

HRESULT SafeArrayPtrOfIndex(SAFEARRAY *psa, LONG *indices, void **elem)
{
    if (!psa || !indices || !elem || !psa->pvData)
        return E_INVALIDARG;
    size_t off = 0, mul = 1;
    for (UINT d = 1; d <= psa->cDims; d++) {
        const SAFEARRAYBOUND *b = bound_of(psa, d);
        int64_t i = (int64_t)indices[d - 1] - b->lLbound;
        if (i < 0 || (uint64_t)i >= b->cElements)
            return DISP_E_BADINDEX;
        off += (size_t)i * mul;
        mul *= b->cElements;
    }
    *elem = (unsigned char *)psa->pvData + off * psa->cbElements;
    return S_OK;
}

HRESULT SafeArrayGetElement(SAFEARRAY *psa, LONG *indices, void *out)
{
    void *p;
    HRESULT hr = out ? SafeArrayPtrOfIndex(psa, indices, &p) : E_INVALIDARG;
    if (FAILED(hr))
        return hr;
    if (psa->fFeatures & FADF_BSTR) {
        BSTR b = *(BSTR *)p;
        *(BSTR *)out = NULL;
        if (b && !(*(BSTR *)out = SysAllocStringByteLen((LPCSTR)b, SysStringByteLen(b))))
            return E_OUTOFMEMORY;
    } else if (psa->fFeatures & FADF_VARIANT) {
        VariantInit(out);
        return VariantCopy(out, p);
    } else {
        memcpy(out, p, psa->cbElements);
        if ((psa->fFeatures & (FADF_UNKNOWN | FADF_DISPATCH)) && *(IUnknown **)out)
            IUnknown_AddRef(*(IUnknown **)out);
    }
    return S_OK;
}

HRESULT SafeArrayPutElement(SAFEARRAY *psa, LONG *indices, void *in)
{
    void *p;
    HRESULT hr = SafeArrayPtrOfIndex(psa, indices, &p);
    if (FAILED(hr))
        return hr;
    if (psa->fFeatures & FADF_BSTR) {
        BSTR b = in, c = NULL;
        if (b && !(c = SysAllocStringByteLen((LPCSTR)b, SysStringByteLen(b))))
            return E_OUTOFMEMORY;
        SysFreeString(*(BSTR *)p);
        *(BSTR *)p = c;
    } else if (psa->fFeatures & FADF_VARIANT) {
        return VariantCopy(p, in);
    } else if (psa->fFeatures & (FADF_UNKNOWN | FADF_DISPATCH)) {
        IUnknown *u = in, *old = *(IUnknown **)p;
        if (u)
            IUnknown_AddRef(u);
        *(IUnknown **)p = u;
        if (old)
            IUnknown_Release(old);
    } else {
        if (!in)
            return E_INVALIDARG;
        memcpy(p, in, psa->cbElements);
    }
    return S_OK;
}

/* ---------------------------------------------------------------- what passes */

bool amrt__vt_passable(VARTYPE vt)
{
    if (vt == VT_EMPTY || vt == VT_NULL || vt == VT_DECIMAL)
        return true;
    if (vt & VT_ARRAY) {
        VARTYPE e = vt & (VARTYPE)~VT_ARRAY;
        return e <= VT_TYPEMASK && amrt__vt_elem_size(e) != 0;
    }
    if (vt & VT_BYREF)
        return amrt__vt_scalar_size(vt & (VARTYPE)~VT_BYREF) != 0;
    return vt != VT_VARIANT && amrt__vt_elem_size(vt) != 0;
}

void *amrt__variant_inline(VARIANT *v)
{
    return (unsigned char *)v + AMRT__VARIANT_INLINE;
}

void amrt__variant_moved(VARIANT *v, const void *from)
{
    if ((v->vt & VT_BYREF) && amrt__vt_scalar_size(v->vt & (VARTYPE)~VT_BYREF) &&
        v->byref == (const unsigned char *)from + AMRT__VARIANT_INLINE)
        v->byref = amrt__variant_inline(v);
}

/* The element type of psa if it can be passed (its descriptor consistent:
 * dimensions, element size, data), else VT_EMPTY. */
VARTYPE amrt__sa_check(const SAFEARRAY *psa, size_t *n)
{
    VARTYPE vt = amrt__sa_vt(psa);
    size_t es = amrt__vt_elem_size(vt);
    if (!es || vt > VT_TYPEMASK || !psa->cDims || psa->cDims > MAX_DIMS || psa->cbElements != es ||
        !amrt__sa_count(psa, n) || (*n && !psa->pvData))
        return VT_EMPTY;
    return vt;
}

bool amrt__vt_fits(VARTYPE vt, VARTYPE want)
{
    if (want == VT_EMPTY)
        return true;
    if (want & VT_ARRAY)
        return vt == (want & (VARTYPE)~VT_ARRAY);
    if (amrt__vt_scalar_size(want))
        return amrt__vt_scalar_size(vt) == amrt__vt_scalar_size(want);
    return vt == want;
}
