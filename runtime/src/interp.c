/*
 * interp.c - the one interpreter of the glue's type descriptions (see
 * interp.h): sizes, correlation expressions, array bounds, union arms,
 * deep copies and frees of argument values.
 */
#include "interp.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

size_t amrt__str_bytes(const AmrtType *t, const void *s)
{
    if (t->kind == AMRT_K_STRING)
        return strlen(s) + 1;
    const WCHAR *w = s;
    size_t n = 0;
    while (w[n])
        n++;
    return (n + 1) * sizeof(WCHAR);
}

/* size 0 reads a pointer */
static bool load(const void *p, int size, int sign, int64_t *out)
{
    switch (size) {
    case 0: *out = (int64_t)(intptr_t)*(void *const *)p; return true;
    case 1: *out = sign ? (int64_t)*(const int8_t *)p : (int64_t)*(const uint8_t *)p; return true;
    case 2: *out = sign ? (int64_t)*(const int16_t *)p : (int64_t)*(const uint16_t *)p; return true;
    case 4: *out = sign ? (int64_t)*(const int32_t *)p : (int64_t)*(const uint32_t *)p; return true;
    case 8: *out = *(const int64_t *)p; return true;
    default: return false;
    }
}

static int64_t truncate_to(int64_t v, int size, int sign)
{
    switch (size) {
    case 1: return sign ? (int64_t)(int8_t)v : (int64_t)(uint8_t)v;
    case 2: return sign ? (int64_t)(int16_t)v : (int64_t)(uint16_t)v;
    case 4: return sign ? (int64_t)(int32_t)v : (int64_t)(uint32_t)v;
    default: return v;
    }
}

/* Run a correlation expression; false when it cannot be evaluated (a NULL
 * pointer, a division by zero, a malformed program). */
bool amrt__eval(const Ctx *c, const int *x, int64_t *out)
{
    int64_t st[AMRT_EVAL_STACK];
    int sp = 0;
    for (int steps = 0; steps < AMRT_EVAL_STEPS; steps++) {
        int op = *x++;
        if (op == AMRT_X_END) {
            if (sp != 1)
                return false;
            *out = st[0];
            return true;
        }
        if (op >= AMRT_X_ADD && op <= AMRT_X_GE) {
            if (sp < 2)
                return false;
            uint64_t a = (uint64_t)st[sp - 2], b = (uint64_t)st[sp - 1];
            int64_t sa = st[sp - 2], sb = st[sp - 1], r;
            switch (op) {
            case AMRT_X_ADD: r = (int64_t)(a + b); break;
            case AMRT_X_SUB: r = (int64_t)(a - b); break;
            case AMRT_X_MUL: r = (int64_t)(a * b); break;
            case AMRT_X_DIV: case AMRT_X_MOD:
                if (sb == 0 || (sa == INT64_MIN && sb == -1))
                    return false;
                r = op == AMRT_X_DIV ? sa / sb : sa % sb;
                break;
            case AMRT_X_SHL: if (b > 63) return false; r = (int64_t)(a << b); break;
            case AMRT_X_SHR: if (b > 63) return false; r = sa >> b; break;
            case AMRT_X_AND: r = (int64_t)(a & b); break;
            case AMRT_X_OR: r = (int64_t)(a | b); break;
            case AMRT_X_XOR: r = (int64_t)(a ^ b); break;
            case AMRT_X_ANDAND: r = sa && sb; break;
            case AMRT_X_OROR: r = sa || sb; break;
            case AMRT_X_EQ: r = sa == sb; break;
            case AMRT_X_NE: r = sa != sb; break;
            case AMRT_X_LT: r = sa < sb; break;
            case AMRT_X_GT: r = sa > sb; break;
            case AMRT_X_LE: r = sa <= sb; break;
            default: r = sa >= sb; break;
            }
            st[--sp - 1] = r;
            continue;
        }
        switch (op) {
        case AMRT_X_CONST:
            if (sp == AMRT_EVAL_STACK)
                return false;
            st[sp++] = *x++;
            break;
        case AMRT_X_PARAM: {
            int i = x[0], size = x[1], sign = x[2];
            x += 3;
            if (sp == AMRT_EVAL_STACK || i < 0 || i >= c->m->nparams || !c->args[i] ||
                !load(c->args[i], size, sign, &st[sp]))
                return false;
            sp++;
            break;
        }
        case AMRT_X_FIELD: {
            int off = x[0], size = x[1], sign = x[2];
            x += 3;
            if (sp == AMRT_EVAL_STACK || !c->base || off < 0 || !load(c->base + off, size, sign, &st[sp]))
                return false;
            sp++;
            break;
        }
        case AMRT_X_DEREF: {
            int size = x[0], sign = x[1];
            x += 2;
            if (sp < 1 || !st[sp - 1] || !load((const void *)(intptr_t)st[sp - 1], size, sign, &st[sp - 1]))
                return false;
            break;
        }
        case AMRT_X_CAST:
            if (sp < 1)
                return false;
            st[sp - 1] = truncate_to(st[sp - 1], x[0], x[1]);
            x += 2;
            break;
        case AMRT_X_NEG: case AMRT_X_BITNOT: case AMRT_X_NOT:
            if (sp < 1)
                return false;
            st[sp - 1] = op == AMRT_X_NEG ? (int64_t)(0 - (uint64_t)st[sp - 1])
                       : op == AMRT_X_BITNOT ? ~st[sp - 1] : !st[sp - 1];
            break;
        case AMRT_X_COND:
            if (sp < 3)
                return false;
            st[sp - 3] = st[sp - 3] ? st[sp - 2] : st[sp - 1];
            sp -= 2;
            break;
        default:
            return false;
        }
    }
    return false;
}

/* The bounds of an array: 'count' elements allocated, elements
 * [first, first + len) passed. False when an expression cannot be
 * evaluated or the bounds are out of range. */
bool amrt__array_bounds(const Ctx *c, const AmrtType *t, size_t *count, size_t *first, size_t *len)
{
    int64_t n = t->size, f = 0, l;
    if (t->size_x && !amrt__eval(c, t->size_x, &n))
        return false;
    if (t->first_x && !amrt__eval(c, t->first_x, &f))
        return false;
    l = n - f;
    if (t->length_x && !amrt__eval(c, t->length_x, &l))
        return false;
    size_t es = amrt__value_size(t->ref);
    if (n < 0 || f < 0 || l < 0 || f > n || l > n - f || (uint64_t)n > SIZE_MAX / (es ? es : 1))
        return false;
    *count = (size_t)n;
    *first = (size_t)f;
    *len = (size_t)l;
    return true;
}

const AmrtType *amrt__union_arm(const Ctx *c, const AmrtType *t)
{
    int64_t d;
    if (!t->size_x || !amrt__eval(c, t->size_x, &d))
        return NULL;
    const AmrtMember *def = NULL;
    for (unsigned i = 0; i < t->nmembers; i++) {
        if (t->members[i].is_default)
            def = &t->members[i];
        else if (t->members[i].value == d)
            return t->members[i].type;
    }
    return def ? def->type : NULL;
}

bool amrt__union_valid(const Ctx *c, const AmrtType *t)
{
    int64_t d;
    if (!t->size_x || !amrt__eval(c, t->size_x, &d))
        return false;
    for (unsigned i = 0; i < t->nmembers; i++)
        if (t->members[i].is_default || t->members[i].value == d)
            return true;
    return false;
}


/* Copy n elements (of which [first, first + len) are passed) into a new
 * zeroed buffer. */
/* ==================================================================== copying */

/* The table is zeroed when its first entry comes (most copies have no
 * pointer to remember). */
void amrt__copy_init(AmrtCopy *cp)
{
    cp->tab = cp->inl;
    cp->cap = sizeof cp->inl / sizeof cp->inl[0];
    cp->n = 0;
    cp->log = cp->linl;
    cp->lcap = sizeof cp->linl / sizeof cp->linl[0];
    cp->ln = 0;
    cp->depth = 0;
    cp->aliased = false;
}

void amrt__copy_fini(AmrtCopy *cp)
{
    if (cp->tab != cp->inl)
        amrt__free(cp->tab);
    if (cp->log != cp->linl)
        amrt__free(cp->log);
}

void amrt__copy_forget(AmrtCopy *cp)
{
    cp->n = 0;
}

void amrt__copy_commit(AmrtCopy *cp)
{
    cp->ln = 0;
}

enum { U_MEM, U_TASKMEM, U_BSTR, U_IFACE, U_FD, U_VARIANT, U_SAFEARRAY };

static void give_back(const AmrtUndo *u)
{
    switch (u->kind) {
    case U_MEM: amrt__free(u->p); break;
    case U_TASKMEM: CoTaskMemFree(u->p); break;
    case U_BSTR: SysFreeString(u->p); break;
    case U_IFACE: IUnknown_Release((IUnknown *)u->p); break;
    case U_FD: close((int)(intptr_t)u->p); break;
    case U_VARIANT: VariantClear(u->p); break;
    case U_SAFEARRAY: SafeArrayDestroy(u->p); break;
    }
}

void amrt__copy_undo(AmrtCopy *cp)
{
    while (cp->ln > 0)
        give_back(&cp->log[--cp->ln]);
}

/* The copy took p (NULL: an allocation that failed): log it. When the log
 * cannot grow, p is given back at once and the copy fails. */
static HRESULT took(AmrtCopy *cp, int kind, void *p)
{
    if (!p)
        return E_OUTOFMEMORY;
    AmrtUndo u = { p, (unsigned char)kind };
    if (cp->ln == cp->lcap) {
        AmrtUndo *n = amrt__alloc(cp->lcap * 2 * sizeof *n);
        if (!n) {
            give_back(&u);
            return E_OUTOFMEMORY;
        }
        memcpy(n, cp->log, cp->ln * sizeof *n);
        if (cp->log != cp->linl)
            amrt__free(cp->log);
        cp->log = n;
        cp->lcap *= 2;
    }
    cp->log[cp->ln++] = u;
    return S_OK;
}

static size_t ptr_hash(const void *p);

/* the copy of the pointee p of type t made in this session, or NULL */
static void *copied(const AmrtCopy *cp, const void *p, const AmrtType *t)
{
    if (!cp->n)
        return NULL;
    for (size_t k = ptr_hash(p) & (cp->cap - 1); cp->tab[k].src; k = (k + 1) & (cp->cap - 1))
        if (cp->tab[k].src == p && cp->tab[k].type == t)
            return cp->tab[k].dst;
    return NULL;
}

/* p (of type t) is copied to dst */
static HRESULT remember(AmrtCopy *cp, const void *p, const AmrtType *t, void *dst)
{
    if (cp->n == 0)
        memset(cp->tab, 0, cp->cap * sizeof *cp->tab);
    if ((cp->n + 1) * 2 > cp->cap) {
        size_t nc = cp->cap * 2;
        AmrtCopyEntry *n = amrt__calloc(nc * sizeof *n);
        if (!n)
            return E_OUTOFMEMORY;
        for (size_t i = 0; i < cp->cap; i++)
            if (cp->tab[i].src) {
                size_t k = ptr_hash(cp->tab[i].src) & (nc - 1);
                while (n[k].src)
                    k = (k + 1) & (nc - 1);
                n[k] = cp->tab[i];
            }
        if (cp->tab != cp->inl)
            amrt__free(cp->tab);
        cp->tab = n;
        cp->cap = nc;
    }
    size_t k = ptr_hash(p) & (cp->cap - 1);
    while (cp->tab[k].src)
        k = (k + 1) & (cp->cap - 1);
    cp->tab[k] = (AmrtCopyEntry){ p, t, dst };
    cp->n++;
    return S_OK;
}

HRESULT amrt__copy_elems(const Ctx *c, const AmrtType *et, const unsigned char *src, size_t n, size_t first,
                          size_t len, void **out)
{
    size_t es = amrt__value_size(et);
    unsigned char *b = amrt__calloc(n * es > 0 ? n * es : 1);
    HRESULT hr = took(c->cp, U_MEM, b);
    if (FAILED(hr))
        return hr;
    *out = b;
    if (amrt__plain(et)) {
        memcpy(b, src, n * es);
        return S_OK;
    }
    for (size_t i = first; i < first + len && SUCCEEDED(hr); i++)
        hr = amrt__deep_copy(c, et, src + i * es, b + i * es);
    return hr;
}

void amrt__free_elems_with(AmrtFreer *fr, const Ctx *c, const AmrtType *et, unsigned char *b, size_t n)
{
    if (!amrt__plain(et))
        for (size_t i = 0; i < n; i++)
            amrt__free_value(fr, c, et, b + i * amrt__value_size(et));
}

void amrt__free_elems(const Ctx *c, const AmrtType *et, unsigned char *b, size_t n)
{
    amrt__free_elems_with(NULL, c, et, b, n);
}

/* The size of the value at v: a conformant structure's depends on its members. */
bool amrt__instance_size(const Ctx *c, const AmrtType *t, const void *v, size_t *size)
{
    if (t->kind != AMRT_K_CONFSTRUCT) {
        *size = amrt__value_size(t);
        return true;
    }
    Ctx inner = amrt__ctx_in(c, v);
    int64_t n;
    size_t es = amrt__value_size(t->ref);
    if (!t->size_x || !amrt__eval(&inner, t->size_x, &n) || n < 0 || (uint64_t)n > (SIZE_MAX - t->size) / (es ? es : 1))
        return false;
    *size = t->size + (size_t)n * es;
    return true;
}

/* The members of a structure that hold pointers (CSTRUCT, CONFSTRUCT),
 * and a conformant structure's trailing elements. */
static void free_members(AmrtFreer *fr, const Ctx *c, const AmrtType *t, void *v)
{
    Ctx inner = amrt__ctx_in(c, v);
    if (t->kind == AMRT_K_CONFSTRUCT && !amrt__plain(t->ref)) {
        size_t size;
        if (amrt__instance_size(c, t, v, &size))
            amrt__free_elems_with(fr, &inner, t->ref, (unsigned char *)v + t->size,
                                  (size - t->size) / amrt__value_size(t->ref));
    }
    /* members in reverse: counts and discriminants stay readable */
    for (unsigned i = t->nmembers; i-- > 0;)
        if (t->members[i].type)
            amrt__free_value(fr, &inner, t->members[i].type, (unsigned char *)v + t->members[i].offset);
}

/* The members of the structure at src into dst (size bytes, a conformant
 * structure's trailing elements included): its bytes, then a copy of each
 * member with pointers over its own bytes. */
static HRESULT copy_members(const Ctx *c, const AmrtType *t, const void *src, void *dst, size_t size)
{
    Ctx inner = amrt__ctx_in(c, src);
    memcpy(dst, src, size);
    HRESULT hr = S_OK;
    for (unsigned i = 0; i < t->nmembers && SUCCEEDED(hr); i++)
        if (!amrt__plain(t->members[i].type))
            hr = amrt__deep_copy(&inner, t->members[i].type, (const unsigned char *)src + t->members[i].offset,
                                 (unsigned char *)dst + t->members[i].offset);
    if (SUCCEEDED(hr) && t->kind == AMRT_K_CONFSTRUCT && !amrt__plain(t->ref)) {
        size_t es = amrt__value_size(t->ref), n = (size - t->size) / es;
        for (size_t k = 0; k < n && SUCCEEDED(hr); k++)
            hr = amrt__deep_copy(&inner, t->ref, (const unsigned char *)src + t->size + k * es,
                                 (unsigned char *)dst + t->size + k * es);
    }
    return hr;
}

/* ---- VARIANT and SAFEARRAY: VariantCopy's semantics, for the vts that
 * also cross processes (amrt__vt_passable); each copy is whole or nothing */

static HRESULT copy_variant(AmrtCopy *cp, const VARIANT *src, VARIANT *dst);

static HRESULT copy_variant_elem(void *cp, VARIANT *dst, const VARIANT *src)
{
    return copy_variant(cp, src, dst);
}

/* 'want': the element types psa may have (amrt__vt_fits) */
static HRESULT copy_safearray(AmrtCopy *cp, const SAFEARRAY *psa, VARTYPE want, SAFEARRAY **out)
{
    size_t n;
    *out = NULL;
    VARTYPE vt = amrt__sa_check(psa, &n);
    if (vt == VT_EMPTY || !amrt__vt_fits(vt, want) || cp->depth >= AMRT__COPY_MAX_DEPTH)
        return E_INVALIDARG;
    cp->depth++;
    HRESULT hr = amrt__sa_copy(psa, vt, n, copy_variant_elem, cp, out);
    cp->depth--;
    return hr;
}

/* dst: zeroed storage */
static HRESULT copy_variant(AmrtCopy *cp, const VARIANT *src, VARIANT *dst)
{
    VARTYPE vt = src->vt;
    if (!amrt__vt_passable(vt))
        return E_INVALIDARG;
    HRESULT hr = S_OK;
    if (vt & VT_ARRAY) {
        SAFEARRAY *c = NULL;
        if (src->parray && FAILED(hr = copy_safearray(cp, src->parray, vt, &c)))
            return hr;
        dst->parray = c;
    } else if (vt == VT_BSTR) {
        if (src->bstrVal &&
            !(dst->bstrVal = SysAllocStringByteLen((LPCSTR)src->bstrVal, SysStringByteLen(src->bstrVal))))
            return E_OUTOFMEMORY;
    } else if (vt == VT_UNKNOWN || vt == VT_DISPATCH) {
        if ((dst->punkVal = src->punkVal))
            IUnknown_AddRef(dst->punkVal);
    } else if (vt & VT_BYREF) {
        dst->byref = src->byref ? amrt__variant_inline(dst) : NULL;
        if (src->byref)
            memcpy(dst->byref, src->byref, amrt__vt_scalar_size(vt & (VARTYPE)~VT_BYREF));
    } else if (vt == VT_DECIMAL) {
        dst->decVal = src->decVal;      /* (its wReserved is the vt, set below) */
    } else if (vt != VT_EMPTY && vt != VT_NULL) {
        memcpy(&dst->llVal, &src->llVal, amrt__vt_scalar_size(vt));
    }
    dst->vt = vt;
    return S_OK;
}

/* Copy the value at src (of type t) into dst, taking copies of everything
 * it points to; what it takes goes to the session's undo log (see AmrtCopy). */
HRESULT amrt__deep_copy(const Ctx *c, const AmrtType *t, const void *src, void *dst)
{
    AmrtCopy *cp = c->cp;
    switch (t->kind) {
    case AMRT_K_SCALAR: case AMRT_K_STRUCT:
        memcpy(dst, src, t->size);
        return S_OK;
    case AMRT_K_INTERFACE: {
        IUnknown *u = *(IUnknown *const *)src;
        *(IUnknown **)dst = NULL;
        if (!u)
            return S_OK;
        IUnknown_AddRef(u);
        HRESULT hr = took(cp, U_IFACE, u);
        if (SUCCEEDED(hr))
            *(IUnknown **)dst = u;
        return hr;
    }
    case AMRT_K_STRING: case AMRT_K_WSTRING: case AMRT_K_BSTR: {
        const void *s = *(void *const *)src;
        *(void **)dst = NULL;
        if (!s)
            return S_OK;
        void *copy = NULL;
        if (t->kind == AMRT_K_BSTR) {
            copy = SysAllocStringByteLen(s, SysStringByteLen((BSTR)s));
        } else {
            size_t n = amrt__str_bytes(t, s);
            if ((copy = CoTaskMemAlloc(n)))
                memcpy(copy, s, n);
        }
        HRESULT hr = took(cp, t->kind == AMRT_K_BSTR ? U_BSTR : U_TASKMEM, copy);
        if (SUCCEEDED(hr))
            *(void **)dst = copy;
        return hr;
    }
    case AMRT_K_POINTER: {
        const void *p = *(void *const *)src;
        *(void **)dst = NULL;
        if (!p)
            return S_OK;
        void *copy = copied(cp, p, t->ref);
        if (copy) {
            cp->aliased = true;         /* met before: the copy shares its copy */
            *(void **)dst = copy;
            return S_OK;
        }
        size_t size;
        if (cp->depth >= AMRT__COPY_MAX_DEPTH || !amrt__instance_size(c, t->ref, p, &size))
            return E_INVALIDARG;
        copy = amrt__calloc(size);
        HRESULT hr = took(cp, U_MEM, copy);
        if (SUCCEEDED(hr))
            hr = remember(cp, p, t->ref, copy);
        if (FAILED(hr))
            return hr;
        *(void **)dst = copy;
        cp->depth++;
        hr = t->ref->kind == AMRT_K_CONFSTRUCT ? copy_members(c, t->ref, p, copy, size)
                                               : amrt__deep_copy(c, t->ref, p, copy);
        cp->depth--;
        return hr;
    }
    case AMRT_K_ARRAY: {
        const unsigned char *p = *(void *const *)src;
        *(void **)dst = NULL;
        if (!p)
            return S_OK;
        size_t n, first, len;
        if (cp->depth >= AMRT__COPY_MAX_DEPTH || !amrt__array_bounds(c, t, &n, &first, &len))
            return E_INVALIDARG;
        cp->depth++;
        HRESULT hr = amrt__copy_elems(c, t->ref, p, n, first, len, (void **)dst);
        cp->depth--;
        return hr;
    }
    case AMRT_K_FIXED_ARRAY: {
        size_t es = amrt__value_size(t->ref);
        memset(dst, 0, amrt__value_size(t));
        HRESULT hr = S_OK;
        for (size_t i = 0; i < t->size && SUCCEEDED(hr); i++)
            hr = amrt__deep_copy(c, t->ref, (const unsigned char *)src + i * es, (unsigned char *)dst + i * es);
        return hr;
    }
    case AMRT_K_CSTRUCT:
        return copy_members(c, t, src, dst, t->size);
    case AMRT_K_CONFSTRUCT:
        return E_UNEXPECTED;            /* only behind a pointer (AMRT_K_POINTER copies it) */
    case AMRT_K_HANDLE: {
        /* J16 in-process: the copy is a duplicate the call owns, so that the
         * caller may close its descriptor once Begin_ has returned */
        intptr_t fd = (intptr_t)*(HANDLE const *)src;
        *(HANDLE *)dst = *(HANDLE const *)src;
        if (fd <= 0 || fd > INT32_MAX)
            return S_OK;                /* NULL, or not a descriptor: the value itself */
        *(HANDLE *)dst = NULL;
        int dup = fcntl((int)fd, F_DUPFD_CLOEXEC, 0);
        if (dup < 0)
            return errno == EBADF ? E_HANDLE : E_OUTOFMEMORY;
        HRESULT hr = took(cp, U_FD, (void *)(intptr_t)dup);
        if (SUCCEEDED(hr))
            *(HANDLE *)dst = (HANDLE)(intptr_t)dup;
        return hr;
    }
    case AMRT_K_VARIANT: {
        memset(dst, 0, t->size);
        HRESULT hr = copy_variant(cp, src, dst);
        return SUCCEEDED(hr) ? took(cp, U_VARIANT, dst) : hr;
    }
    case AMRT_K_SAFEARRAY: {
        const SAFEARRAY *psa = *(SAFEARRAY *const *)src;
        SAFEARRAY *copy = NULL;
        *(SAFEARRAY **)dst = NULL;
        if (!psa)
            return S_OK;
        HRESULT hr = copy_safearray(cp, psa, (VARTYPE)t->size, &copy);
        if (SUCCEEDED(hr) && SUCCEEDED(hr = took(cp, U_SAFEARRAY, copy)))
            *(SAFEARRAY **)dst = copy;
        return hr;
    }
    case AMRT_K_UNION: {
        memcpy(dst, src, t->size);
        if (!amrt__union_valid(c, t))
            return E_INVALIDARG;        /* no arm for the discriminant */
        const AmrtType *arm = amrt__union_arm(c, t);
        return arm ? amrt__deep_copy(c, arm, src, dst) : S_OK;
    }
    }
    return E_UNEXPECTED;
}

/* ==================================================================== freeing */

void amrt__freer_init(AmrtFreer *fr, bool aliased)
{
    memset(fr, 0, sizeof *fr);
    fr->aliased = aliased;
    fr->seen = fr->inl;
    fr->cap = sizeof fr->inl / sizeof fr->inl[0];
}

void amrt__freer_fini(AmrtFreer *fr)
{
    if (fr->seen != fr->inl)
        amrt__free(fr->seen);
}

static size_t ptr_hash(const void *p)
{
    return (size_t)((((uint64_t)(uintptr_t)p >> 3) * 0x9E3779B97F4A7C15ull) >> 20);
}

/* Is p freed already? (Else it is now.) Only when pointers may be shared. */
static bool seen(AmrtFreer *fr, void *p)
{
    if (!fr->aliased)
        return false;
    if ((fr->n + 1) * 2 > fr->cap) {
        size_t nc = fr->cap * 2;
        void **n = amrt__calloc(nc * sizeof *n);
        if (!n) {
            fr->full = true;
        } else {
            for (size_t i = 0; i < fr->cap; i++)
                if (fr->seen[i]) {
                    size_t k = ptr_hash(fr->seen[i]) & (nc - 1);
                    while (n[k])
                        k = (k + 1) & (nc - 1);
                    n[k] = fr->seen[i];
                }
            if (fr->seen != fr->inl)
                amrt__free(fr->seen);
            fr->seen = n;
            fr->cap = nc;
        }
    }
    size_t k = ptr_hash(p) & (fr->cap - 1);
    for (; fr->seen[k]; k = (k + 1) & (fr->cap - 1))
        if (fr->seen[k] == p)
            return true;
    if (fr->full)
        return true;                    /* the set could not grow: leak rather than free twice */
    fr->seen[k] = p;
    fr->n++;
    return false;
}

static bool kept(const AmrtFreer *fr, const void *p)
{
    const unsigned char *q = p;
    for (int i = 0; i < 2; i++)
        if (fr->keep[i][0] && q >= fr->keep[i][0] && q < fr->keep[i][1])
            return true;
    return false;
}

void amrt__free_value(AmrtFreer *fr, const Ctx *c, const AmrtType *t, void *v)
{
    switch (t->kind) {
    case AMRT_K_SCALAR: case AMRT_K_STRUCT:
        return;
    case AMRT_K_INTERFACE: {
        IUnknown *u = *(IUnknown **)v;
        *(IUnknown **)v = NULL;
        if (u)
            IUnknown_Release(u);
        return;
    }
    case AMRT_K_STRING: case AMRT_K_WSTRING:
        CoTaskMemFree(*(void **)v);
        *(void **)v = NULL;
        return;
    case AMRT_K_BSTR:
        SysFreeString(*(BSTR *)v);
        *(void **)v = NULL;
        return;
    case AMRT_K_POINTER: {
        void *p = *(void **)v;
        *(void **)v = NULL;
        if (!p || (fr && seen(fr, p)))
            return;
        amrt__free_value(fr, c, t->ref, p);
        if (!fr || !kept(fr, p))
            amrt__free(p);
        return;
    }
    case AMRT_K_ARRAY: {
        unsigned char *p = *(void **)v;
        size_t n, first, len;
        if (p && amrt__array_bounds(c, t, &n, &first, &len))
            amrt__free_elems_with(fr, c, t->ref, p, n);
        amrt__free(p);
        *(void **)v = NULL;
        return;
    }
    case AMRT_K_FIXED_ARRAY:
        amrt__free_elems_with(fr, c, t->ref, v, t->size);
        return;
    case AMRT_K_CSTRUCT: case AMRT_K_CONFSTRUCT:
        free_members(fr, c, t, v);
        return;
    case AMRT_K_HANDLE: {
        intptr_t fd = (intptr_t)*(HANDLE *)v;
        if (fd > 0 && fd <= INT32_MAX)
            close((int)fd);
        *(HANDLE *)v = NULL;
        return;
    }
    case AMRT_K_UNION: {
        const AmrtType *arm = amrt__union_arm(c, t);
        if (arm)
            amrt__free_value(fr, c, arm, v);
        return;
    }
    case AMRT_K_VARIANT:
        VariantClear(v);
        return;
    case AMRT_K_SAFEARRAY:
        SafeArrayDestroy(*(SAFEARRAY **)v);
        *(SAFEARRAY **)v = NULL;
        return;
    }
}

/* Free what the value at v (of type t) owns; the storage of v itself stays. */
void amrt__deep_free(const Ctx *c, const AmrtType *t, void *v)
{
    amrt__free_value(NULL, c, t, v);
}

/* ==================================================================== delivering */

/* The value of t moved from 'from' to v (memcpy): what points into itself
 * (a VT_BYREF VARIANT's own pointee) is pointed at its new place. What it
 * points to elsewhere has not moved. */
static void moved(const Ctx *c, const AmrtType *t, unsigned char *v, const unsigned char *from, int depth)
{
    if (depth > 64)
        return;
    switch (t->kind) {
    case AMRT_K_VARIANT:
        amrt__variant_moved((VARIANT *)v, from);
        return;
    case AMRT_K_CSTRUCT: case AMRT_K_CONFSTRUCT: {
        Ctx in = amrt__ctx_in(c, v);
        for (unsigned i = 0; i < t->nmembers; i++)
            if (t->members[i].type)
                moved(&in, t->members[i].type, v + t->members[i].offset, from + t->members[i].offset, depth + 1);
        return;
    }
    case AMRT_K_FIXED_ARRAY: {
        size_t es = amrt__value_size(t->ref);
        if (!amrt__plain(t->ref))
            for (size_t i = 0; i < t->size; i++)
                moved(c, t->ref, v + i * es, from + i * es, depth + 1);
        return;
    }
    case AMRT_K_UNION: {
        const AmrtType *arm = amrt__union_arm(c, t);
        if (arm)
            moved(c, arm, v, from, depth + 1);
        return;
    }
    default:
        return;
    }
}

/* Move the [out] values of method m at args to the caller's pointers, as
 * Finish_ does (see interp.h). Holders last: the others' counts read them. */
void amrt__deliver(const AmrtMethod *m, void *const *args, void *const *caller,
                   void (*counts)(void *slot, size_t *total, size_t *have))
{
    int n = m->nparams;
    void *orig[64];                 /* the caller's view, for freeing its old [in,out] data */
    Ctx ours = amrt__ctx(m, args), theirs = ours;
    if (n <= 64) {
        for (int i = 0; i < n; i++)
            orig[i] = m->params[i].dir == (AMRT_IN | AMRT_OUT) && caller[i] ? caller[i] : args[i];
        theirs.args = orig;
    }
    /* the caller's old data may share pointees (a [ptr] twice, a list
     * with a cycle), as the copy of it did: each freed once */
    AmrtFreer fr;
    amrt__freer_init(&fr, true);
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < n; i++) {
            const AmrtParam *p = &m->params[i];
            const AmrtType *t = p->type;
            if (!(p->dir & AMRT_OUT) || amrt__is_holder(t) != (pass == 1))
                continue;
            void *dst = caller[i] ? *(void *const *)caller[i] : NULL;     /* the caller's pointer */
            void *mine = *(void **)args[i];                              /* our pointee / buffer */
            if (!dst || !mine)
                continue;                   /* nothing to deliver: the frame frees ours */
            if (t->kind == AMRT_K_POINTER) {
                size_t sz = amrt__value_size(t->ref);
                if (p->dir & AMRT_IN)
                    amrt__free_value(&fr, &theirs, t->ref, dst);  /* the callee replaced the caller's value */
                memcpy(dst, mine, sz);                  /* ownership moves to the caller */
                if (!amrt__plain(t->ref)) {
                    moved(&ours, t->ref, dst, mine, 0);
                    memset(mine, 0, sz);
                }
            } else if (t->kind == AMRT_K_ARRAY) {
                size_t total, have, cnt, first, len, es = amrt__value_size(t->ref);
                counts(args[i], &total, &have);
                if (!amrt__array_bounds(&ours, t, &cnt, &first, &len) || first > total || first > have)
                    first = len = 0;
                if (len > total - first)
                    len = total - first;
                if (len > have - first)
                    len = have - first;
                if (p->dir & AMRT_IN) {
                    size_t tc, tf, tl;          /* free the caller's elements it passed in */
                    if (!amrt__plain(t->ref) && amrt__array_bounds(&theirs, t, &tc, &tf, &tl) && tc <= total)
                        for (size_t k = tf; k < tf + tl; k++)
                            amrt__free_value(&fr, &theirs, t->ref, (char *)dst + k * es);
                }
                memcpy((char *)dst + first * es, (char *)mine + first * es, len * es);
                if (!amrt__plain(t->ref)) {
                    for (size_t k = first; k < first + len; k++)
                        moved(&ours, t->ref, (unsigned char *)dst + k * es, (unsigned char *)mine + k * es, 0);
                    memset((char *)mine + first * es, 0, len * es);
                }
            }
        }
    amrt__freer_fini(&fr);
}
