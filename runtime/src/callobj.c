/*
 * callobj.c - call objects and the one interpreter of the glue tables.
 *
 * DESIGN. A call object (what ICallFactory::CreateCall returns) implements
 * AsyncIFoo through the glue's vtable of thunks, ISynchronize by
 * aggregating a CLSID_ManualResetEvent, and ICancelMethodCalls. It runs
 * one call at a time (RULES.md B6):
 *
 *   IDLE --Begin_--> RUNNING --worker done--> COMPLETE --Finish_--> IDLE
 *
 * Begin_ builds a Frame: every [in] and [in,out] argument is deep-copied
 * (the caller may reuse its buffers at once; interface pointers are
 * AddRef'd), every [out] argument gets zeroed storage; it Resets the
 * call's ISynchronize (B13) and queues the frame on the worker pool. The
 * worker makes the synchronous call through the glue's thunk, then
 * Signals (B11). Finish_ Waits (it blocks when the call is still running,
 * B12), moves the [out] data to the caller (COM ownership: what the callee
 * allocated now belongs to the caller) and frees the rest. A call object
 * released without Finish_ (B9), a canceled call and a failed Begin_ free
 * everything the frame holds. The worker owns a reference to the call's
 * controlling unknown while it runs, so a release never races it.
 *
 * Signal, Wait and Reset go through the ISynchronize of the controlling
 * unknown (B14), so an aggregating outer object can intercept completion.
 *
 * Lock invariant: call->lock guards state, frame, canceled flags.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

enum { IDLE, RUNNING, COMPLETE };

typedef struct Frame {
    struct Call *call;
    const AmrtInterface *glue;
    const AmrtMethod *m;
    void **args;                /* args[i] -> the value of argument i for the synchronous call */
    unsigned char *slots;       /* storage of the argument values (16 bytes each) */
    unsigned char ret[16];
    bool canceled;              /* ICancelMethodCalls::Cancel (or IAsyncManager::CompleteCall) was called */
    HRESULT forced;             /* IAsyncManager::CompleteCall's result (0: none) */
    bool begin_failed;          /* server-side async: the server's Begin_ failed (result in ret) */
    bool detached;              /* Finish_ left it to the worker (canceled while running) */
    bool worker_done;
    AmrtJob job;                /* the pool's queue node: no allocation per call */
    uint64_t inline_out;        /* bit i: [out] parameter i's pointee lives in slots */
    int nargs_cap;              /* capacities, for reuse by the next call */
    size_t slots_cap;
} Frame;

typedef struct Call {
    IUnknown inner;                     /* non-delegating IUnknown */
    struct { const void *lpVtbl; } async;   /* AsyncIFoo (the glue's vtable) */
    ICancelMethodCalls cancel;
    IAsyncManager manager;              /* RULES.md E8: a convenience of this runtime */
    IUnknown *outer;                    /* controlling unknown (&inner when not aggregated) */
    IUnknown *event;                    /* the aggregated ManualResetEvent's inner unknown */
    atomic_long refs;
    const AmrtInterface *glue;
    IUnknown *server;                   /* the object's IFoo (AddRef'd) */
    IUnknown *server_inner;             /* server-side async: the server's call object, aggregated in us */
    void *server_async;                 /* ... its AsyncIFoo (not counted: a cached inner pointer) */
    pthread_mutex_t lock;
    int state;
    Frame *frame;
    Frame *spare;                       /* a finished frame kept for the next Begin_ */
    ISynchronize *own_sync;             /* not aggregated: the event's ISynchronize (not counted) */
} Call;

#define CALL_FROM(p, field) ((Call *)((char *)(p) - offsetof(Call, field)))

/* ==================================================================== values */

/* Where correlation expressions find their operands: the call's argument
 * values and, inside a structure, the structure itself. */
typedef struct Ctx {
    const AmrtMethod *m;
    void *const *args;              /* args[i] -> the value of parameter i */
    const unsigned char *base;      /* the enclosing structure, NULL at the top */
} Ctx;

static bool plain(const AmrtType *t)
{
    return t->kind == AMRT_K_SCALAR || t->kind == AMRT_K_STRUCT;
}

static size_t value_size(const AmrtType *t)
{
    switch (t->kind) {
    case AMRT_K_SCALAR: case AMRT_K_STRUCT: case AMRT_K_CSTRUCT: case AMRT_K_UNION: case AMRT_K_CONFSTRUCT:
        return t->size;                 /* CONFSTRUCT: without its last member (instance_size) */
    case AMRT_K_FIXED_ARRAY:
        return (size_t)t->size * value_size(t->ref);
    default:
        return sizeof(void *);
    }
}

static size_t str_bytes(const AmrtType *t, const void *s)
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
static bool eval(const Ctx *c, const int *x, int64_t *out)
{
    int64_t st[16];
    int sp = 0;
    for (int steps = 0; steps < 256; steps++) {
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
            if (sp == 16)
                return false;
            st[sp++] = *x++;
            break;
        case AMRT_X_PARAM: {
            int i = x[0], size = x[1], sign = x[2];
            x += 3;
            if (sp == 16 || i < 0 || i >= c->m->nparams || !c->args[i] || !load(c->args[i], size, sign, &st[sp]))
                return false;
            sp++;
            break;
        }
        case AMRT_X_FIELD: {
            int off = x[0], size = x[1], sign = x[2];
            x += 3;
            if (sp == 16 || !c->base || off < 0 || !load(c->base + off, size, sign, &st[sp]))
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
static bool array_bounds(const Ctx *c, const AmrtType *t, size_t *count, size_t *first, size_t *len)
{
    int64_t n = t->size, f = 0, l;
    if (t->size_x && !eval(c, t->size_x, &n))
        return false;
    if (t->first_x && !eval(c, t->first_x, &f))
        return false;
    l = n - f;
    if (t->length_x && !eval(c, t->length_x, &l))
        return false;
    size_t es = value_size(t->ref);
    if (n < 0 || f < 0 || l < 0 || f > n || l > n - f || (uint64_t)n > SIZE_MAX / (es ? es : 1))
        return false;
    *count = (size_t)n;
    *first = (size_t)f;
    *len = (size_t)l;
    return true;
}

static const AmrtType *union_arm(const Ctx *c, const AmrtType *t)
{
    int64_t d;
    if (!t->size_x || !eval(c, t->size_x, &d))
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

static bool union_valid(const Ctx *c, const AmrtType *t)
{
    int64_t d;
    if (!t->size_x || !eval(c, t->size_x, &d))
        return false;
    for (unsigned i = 0; i < t->nmembers; i++)
        if (t->members[i].is_default || t->members[i].value == d)
            return true;
    return false;
}

static void deep_free(const Ctx *c, const AmrtType *t, void *v);
static HRESULT deep_copy(const Ctx *c, const AmrtType *t, const void *src, void *dst);

/* Copy n elements (of which [first, first + len) are passed) into a new
 * zeroed buffer. */
static HRESULT copy_elems(const Ctx *c, const AmrtType *et, const unsigned char *src, size_t n, size_t first,
                          size_t len, void **out)
{
    size_t es = value_size(et);
    unsigned char *b = amrt__calloc(n * es > 0 ? n * es : 1);
    if (!b)
        return E_OUTOFMEMORY;
    if (plain(et)) {
        memcpy(b, src, n * es);
    } else {
        for (size_t i = first; i < first + len; i++) {
            HRESULT hr = deep_copy(c, et, src + i * es, b + i * es);
            if (FAILED(hr)) {
                for (size_t k = first; k < i; k++)
                    deep_free(c, et, b + k * es);
                amrt__free(b);
                return hr;
            }
        }
    }
    *out = b;
    return S_OK;
}

static void free_elems(const Ctx *c, const AmrtType *et, unsigned char *b, size_t n)
{
    if (!plain(et))
        for (size_t i = 0; i < n; i++)
            deep_free(c, et, b + i * value_size(et));
}

/* The size of the value at v: a conformant structure's depends on its members. */
static bool instance_size(const Ctx *c, const AmrtType *t, const void *v, size_t *size)
{
    if (t->kind != AMRT_K_CONFSTRUCT) {
        *size = value_size(t);
        return true;
    }
    Ctx inner = { c->m, c->args, v };
    int64_t n;
    size_t es = value_size(t->ref);
    if (!t->size_x || !eval(&inner, t->size_x, &n) || n < 0 || (uint64_t)n > (SIZE_MAX - t->size) / (es ? es : 1))
        return false;
    *size = t->size + (size_t)n * es;
    return true;
}

/* The members of a structure that hold pointers (CSTRUCT, CONFSTRUCT),
 * and a conformant structure's trailing elements. */
static void free_members(const Ctx *c, const AmrtType *t, void *v)
{
    Ctx inner = { c->m, c->args, v };
    if (t->kind == AMRT_K_CONFSTRUCT && !plain(t->ref)) {
        size_t size;
        if (instance_size(c, t, v, &size))
            free_elems(&inner, t->ref, (unsigned char *)v + t->size, (size - t->size) / value_size(t->ref));
    }
    /* members in reverse: counts and discriminants stay readable */
    for (unsigned i = t->nmembers; i-- > 0;)
        deep_free(&inner, t->members[i].type, (unsigned char *)v + t->members[i].offset);
}

static HRESULT copy_members(const Ctx *c, const AmrtType *t, const void *src, void *dst, size_t size)
{
    Ctx inner = { c->m, c->args, src };
    memcpy(dst, src, size);
    unsigned i = 0;
    HRESULT hr = S_OK;
    for (; i < t->nmembers && SUCCEEDED(hr); i++)
        hr = deep_copy(&inner, t->members[i].type, (const unsigned char *)src + t->members[i].offset,
                       (unsigned char *)dst + t->members[i].offset);
    if (SUCCEEDED(hr) && t->kind == AMRT_K_CONFSTRUCT && !plain(t->ref)) {
        size_t es = value_size(t->ref), n = (size - t->size) / es, k = 0;
        unsigned char *d = (unsigned char *)dst + t->size;
        const unsigned char *s = (const unsigned char *)src + t->size;
        for (; k < n && SUCCEEDED(hr); k++)
            hr = deep_copy(&inner, t->ref, s + k * es, d + k * es);
        if (FAILED(hr)) {
            Ctx ours = { c->m, c->args, dst };
            for (size_t j = 0; j + 1 < k; j++)
                deep_free(&ours, t->ref, d + j * es);
            memset(d, 0, n * es);
        }
    } else if (FAILED(hr)) {
        i--;                            /* the member that failed holds nothing */
    }
    if (FAILED(hr)) {
        Ctx ours = { c->m, c->args, dst };
        for (unsigned k = 0; k < i; k++)
            deep_free(&ours, t->members[k].type, (unsigned char *)dst + t->members[k].offset);
        for (unsigned k = i; k < t->nmembers; k++)     /* the caller's pointers: not ours */
            memset((unsigned char *)dst + t->members[k].offset, 0, value_size(t->members[k].type));
    }
    return hr;
}

/* Copy the value at src (of type t) into dst, taking copies of everything
 * it points to. On failure nothing is held and dst holds no pointer. */
static HRESULT deep_copy(const Ctx *c, const AmrtType *t, const void *src, void *dst)
{
    switch (t->kind) {
    case AMRT_K_SCALAR: case AMRT_K_STRUCT:
        memcpy(dst, src, t->size);
        return S_OK;
    case AMRT_K_INTERFACE: {
        IUnknown *u = *(IUnknown *const *)src;
        if (u)
            IUnknown_AddRef(u);
        *(IUnknown **)dst = u;
        return S_OK;
    }
    case AMRT_K_STRING: case AMRT_K_WSTRING: case AMRT_K_BSTR: {
        const void *s = *(void *const *)src;
        void *copy = NULL;
        if (s && t->kind == AMRT_K_BSTR) {
            copy = SysAllocStringByteLen(s, SysStringByteLen((BSTR)s));
        } else if (s) {
            size_t n = str_bytes(t, s);
            if ((copy = CoTaskMemAlloc(n)))
                memcpy(copy, s, n);
        }
        *(void **)dst = copy;
        return s && !copy ? E_OUTOFMEMORY : S_OK;
    }
    case AMRT_K_POINTER: {
        const void *p = *(void *const *)src;
        *(void **)dst = NULL;
        if (!p)
            return S_OK;
        size_t size;
        if (!instance_size(c, t->ref, p, &size))
            return E_INVALIDARG;
        void *copy = amrt__calloc(size);
        if (!copy)
            return E_OUTOFMEMORY;
        HRESULT hr = t->ref->kind == AMRT_K_CONFSTRUCT ? copy_members(c, t->ref, p, copy, size)
                                                       : deep_copy(c, t->ref, p, copy);
        if (FAILED(hr)) {
            amrt__free(copy);
            return hr;
        }
        *(void **)dst = copy;
        return S_OK;
    }
    case AMRT_K_ARRAY: {
        const unsigned char *p = *(void *const *)src;
        *(void **)dst = NULL;
        if (!p)
            return S_OK;
        size_t n, first, len;
        if (!array_bounds(c, t, &n, &first, &len))
            return E_INVALIDARG;
        return copy_elems(c, t->ref, p, n, first, len, (void **)dst);
    }
    case AMRT_K_FIXED_ARRAY: {
        size_t es = value_size(t->ref);
        memset(dst, 0, value_size(t));
        for (size_t i = 0; i < t->size; i++) {
            HRESULT hr = deep_copy(c, t->ref, (const unsigned char *)src + i * es, (unsigned char *)dst + i * es);
            if (FAILED(hr)) {
                for (size_t k = 0; k < i; k++)
                    deep_free(c, t->ref, (unsigned char *)dst + k * es);
                memset(dst, 0, value_size(t));
                return hr;
            }
        }
        return S_OK;
    }
    case AMRT_K_CSTRUCT:
        return copy_members(c, t, src, dst, t->size);
    case AMRT_K_CONFSTRUCT:
        return E_UNEXPECTED;            /* only behind a pointer (AMRT_K_POINTER copies it) */
    case AMRT_K_UNION: {
        memcpy(dst, src, t->size);
        if (!union_valid(c, t)) {
            memset(dst, 0, t->size);
            return E_INVALIDARG;        /* no arm for the discriminant */
        }
        const AmrtType *arm = union_arm(c, t);
        HRESULT hr = arm ? deep_copy(c, arm, src, dst) : S_OK;
        if (FAILED(hr))
            memset(dst, 0, t->size);
        return hr;
    }
    }
    return E_UNEXPECTED;
}

/* Free what the value at v (of type t) owns; the storage of v itself stays. */
static void deep_free(const Ctx *c, const AmrtType *t, void *v)
{
    switch (t->kind) {
    case AMRT_K_SCALAR: case AMRT_K_STRUCT:
        return;
    case AMRT_K_INTERFACE: {
        IUnknown *u = *(IUnknown **)v;
        if (u)
            IUnknown_Release(u);
        *(IUnknown **)v = NULL;
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
        if (p) {
            deep_free(c, t->ref, p);
            amrt__free(p);
        }
        *(void **)v = NULL;
        return;
    }
    case AMRT_K_ARRAY: {
        unsigned char *p = *(void **)v;
        size_t n, first, len;
        if (p && array_bounds(c, t, &n, &first, &len))
            free_elems(c, t->ref, p, n);
        amrt__free(p);
        *(void **)v = NULL;
        return;
    }
    case AMRT_K_FIXED_ARRAY:
        free_elems(c, t->ref, v, t->size);
        return;
    case AMRT_K_CSTRUCT: case AMRT_K_CONFSTRUCT:
        free_members(c, t, v);
        return;
    case AMRT_K_UNION: {
        const AmrtType *arm = union_arm(c, t);
        if (arm)
            deep_free(c, arm, v);
        return;
    }
    }
}

/* ==================================================================== frames */

/* Parameters other arguments may read (size_is, switch_is, ...): plain
 * values and pointers to plain values. They are copied first, and freed
 * and delivered last. */
static bool is_holder(const AmrtType *t)
{
    return plain(t) || (t->kind == AMRT_K_POINTER && plain(t->ref));
}

/* A top-level array argument keeps its element count next to its pointer:
 * the count it was allocated with, whatever the callee does to its size. */
static size_t *arg_count(void *slot)
{
    return (size_t *)((unsigned char *)slot + sizeof(void *));
}

static void frame_ctx(const Frame *f, Ctx *c)
{
    c->m = f->m;
    c->args = f->args;
    c->base = NULL;
}

/* Free one argument's value (its slot stays). */
static void arg_free(Frame *f, const Ctx *c, int i)
{
    const AmrtType *t = f->m->params[i].type;
    void *slot = f->args[i];
    if (i < 64 && (f->inline_out >> i & 1)) {
        void *p = *(void **)slot;       /* storage inside the frame: free its contents only */
        if (p)
            deep_free(c, t->ref, p);
    } else if (t->kind == AMRT_K_ARRAY) {
        unsigned char *p = *(void **)slot;
        if (p)
            free_elems(c, t->ref, p, *arg_count(slot));
        amrt__free(p);
        *(void **)slot = NULL;
    } else {
        deep_free(c, t, slot);
    }
}

/* Free what the frame's arguments own (the frame itself stays). */
static void frame_clear(Frame *f)
{
    Ctx c;
    frame_ctx(f, &c);
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < f->m->nparams; i++)
            if (is_holder(f->m->params[i].type) == (pass == 1))
                arg_free(f, &c, i);
}

/* [out] pointers to small values get their storage inside the frame */
static bool inline_out_ok(const AmrtParam *p, int i)
{
    return i < 64 && p->dir == AMRT_OUT && p->type->kind == AMRT_K_POINTER && value_size(p->type->ref) <= 16;
}

static void frame_destroy(Frame *f)
{
    if (!f)
        return;
    amrt__free(f->slots);
    amrt__free(f->args);
    amrt__free(f);
}

static void frame_free(Frame *f)
{
    if (!f)
        return;
    frame_clear(f);
    frame_destroy(f);
}

/* One argument at Begin_: a copy of an [in] value, zeroed storage for an
 * [out] pointer or array for the callee to fill. */
static HRESULT arg_init(Frame *f, const Ctx *c, int i, const void *src)
{
    const AmrtParam *p = &f->m->params[i];
    const AmrtType *t = p->type;
    void *slot = f->args[i];
    bool pointer = t->kind == AMRT_K_POINTER || t->kind == AMRT_K_ARRAY || t->kind == AMRT_K_STRING ||
                   t->kind == AMRT_K_WSTRING;
    if (t->kind == AMRT_K_ARRAY) {
        size_t n, first, len;
        const void *caller = p->dir & AMRT_IN ? *(void *const *)src : NULL;
        if (!array_bounds(c, t, &n, &first, &len))
            return E_INVALIDARG;
        if (!caller && (p->dir & AMRT_IN) && !(t->flags & AMRT_F_UNIQUE) && n)
            return E_POINTER;   /* a [ref] pointer must not be NULL (B17: checked at Begin_) */
        if (!caller && (p->dir & AMRT_IN))
            return S_OK;
        *arg_count(slot) = n;
        if (caller)
            return copy_elems(c, t->ref, caller, n, first, len, (void **)slot);
        size_t bytes = n * value_size(t->ref);
        void *b = amrt__calloc(bytes > 0 ? bytes : 1);
        if (!b)
            return E_OUTOFMEMORY;
        *(void **)slot = b;
        return S_OK;
    }
    if (p->dir & AMRT_IN) {
        if (pointer && !(t->flags & AMRT_F_UNIQUE) && !*(void *const *)src)
            return E_POINTER;
        return deep_copy(c, t, src, slot);
    }
    if (t->kind == AMRT_K_POINTER && !(i < 64 && (f->inline_out >> i & 1))) {
        void *b = amrt__calloc(value_size(t->ref));
        if (!b)
            return E_OUTOFMEMORY;
        *(void **)slot = b;
    }
    return S_OK;
}

/* called with c->lock held; reuses the call's spare frame when it is big enough */
static HRESULT frame_new(Call *c, const AmrtInterface *glue, const AmrtMethod *m, void **in, Frame **out)
{
    int n = m->nparams;
    /* one block holds every argument value, each 16-byte aligned */
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        size_t vs = value_size(m->params[i].type);
        total += (vs + 15) & ~(size_t)15;
        if (inline_out_ok(&m->params[i], i))
            total += 16;
    }
    if (!total)
        total = 16;
    Frame *f = c->spare;
    c->spare = NULL;
    if (f && (f->nargs_cap < (n ? n : 1) || f->slots_cap < total)) {
        frame_destroy(f);
        f = NULL;
    }
    if (f) {
        void **args = f->args;
        unsigned char *slots = f->slots;
        int nc = f->nargs_cap;
        size_t sc = f->slots_cap;
        memset(f, 0, sizeof *f);
        memset(slots, 0, total);
        f->args = args;
        f->slots = slots;
        f->nargs_cap = nc;
        f->slots_cap = sc;
    } else {
        f = amrt__calloc(sizeof *f);
        if (!f)
            return E_OUTOFMEMORY;
        f->args = amrt__calloc(sizeof(void *) * (size_t)(n ? n : 1));
        f->slots = amrt__calloc(total);
        if (!f->args || !f->slots) {
            frame_destroy(f);
            return E_OUTOFMEMORY;
        }
        f->nargs_cap = n ? n : 1;
        f->slots_cap = total;
    }
    f->call = c;
    f->glue = glue;
    f->m = m;
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        f->args[i] = f->slots + off;
        off += (value_size(m->params[i].type) + 15) & ~(size_t)15;
    }
    for (int i = 0; i < n; i++)
        if (inline_out_ok(&m->params[i], i)) {
            *(void **)f->args[i] = f->slots + off;      /* zeroed storage for the callee */
            f->inline_out |= (uint64_t)1 << i;
            off += 16;
        }
    /* pass 0: the values others may read; pass 1: the rest */
    Ctx ctx;
    frame_ctx(f, &ctx);
    HRESULT hr = S_OK;
    for (int pass = 0; pass < 2 && SUCCEEDED(hr); pass++)
        for (int i = 0; i < n && SUCCEEDED(hr); i++) {
            if (is_holder(m->params[i].type) != (pass == 0))
                continue;
            if ((m->params[i].dir & AMRT_IN) && !in[i])
                hr = E_POINTER;
            else
                hr = arg_init(f, &ctx, i, in[i]);
        }
    if (FAILED(hr)) {
        frame_clear(f);
        c->spare = f;           /* c->lock is held */
        return hr;
    }
    *out = f;
    return S_OK;
}

/* Move the [out] values of the frame to the caller's pointers. The
 * caller's old [in,out] contents are freed with the caller's own counts,
 * so values others read are delivered last. */
static void frame_deliver(Frame *f, void **caller)
{
    int n = f->m->nparams;
    void *orig[64];                 /* the caller's view, for freeing its old [in,out] data */
    Ctx ours, theirs;
    frame_ctx(f, &ours);
    theirs = ours;
    if (n <= 64) {
        for (int i = 0; i < n; i++)
            orig[i] = f->m->params[i].dir == (AMRT_IN | AMRT_OUT) && caller[i] ? caller[i] : f->args[i];
        theirs.args = orig;
    }
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < n; i++) {
            const AmrtParam *p = &f->m->params[i];
            const AmrtType *t = p->type;
            if (!(p->dir & AMRT_OUT) || is_holder(t) != (pass == 1))
                continue;
            void *dst = caller[i] ? *(void **)caller[i] : NULL;     /* the caller's pointer */
            void *ours_p = *(void **)f->args[i];                    /* our pointee / buffer */
            if (!dst || !ours_p)
                continue;                   /* nothing to deliver: frame_free frees ours */
            if (t->kind == AMRT_K_POINTER) {
                size_t sz = value_size(t->ref);
                if (p->dir & AMRT_IN)
                    deep_free(&theirs, t->ref, dst);    /* the callee replaced the caller's value */
                memcpy(dst, ours_p, sz);                /* ownership moves to the caller */
                if (!plain(t->ref))
                    memset(ours_p, 0, sz);
            } else if (t->kind == AMRT_K_ARRAY) {
                size_t total = *arg_count(f->args[i]), cnt, first, len, es = value_size(t->ref);
                if (!array_bounds(&ours, t, &cnt, &first, &len) || first > total)
                    first = len = 0;
                if (len > total - first)
                    len = total - first;
                if (p->dir & AMRT_IN) {
                    size_t tc, tf, tl;          /* free the caller's elements it passed in */
                    if (!plain(t->ref) && array_bounds(&theirs, t, &tc, &tf, &tl) && tc <= total)
                        for (size_t k = tf; k < tf + tl; k++)
                            deep_free(&theirs, t->ref, (char *)dst + k * es);
                }
                memcpy((char *)dst + first * es, (char *)ours_p + first * es, len * es);
                if (!plain(t->ref))
                    memset((char *)ours_p + first * es, 0, len * es);
            }
        }
}

/* ==================================================================== the call object */

/* A finished frame becomes the call's spare: a reused call object with
 * plain arguments allocates nothing per call. */
static void frame_recycle(Call *c, Frame *f)
{
    frame_clear(f);
    pthread_mutex_lock(&c->lock);
    if (!c->spare) {
        c->spare = f;
        f = NULL;
    }
    pthread_mutex_unlock(&c->lock);
    frame_destroy(f);
}

static __thread Frame *current_frame;   /* the call a worker thread is running */

/* The ISynchronize of the controlling unknown (B14), with a reference to
 * give back through sync_put. A call object that is not aggregated uses
 * its own event's directly: no QueryInterface per operation. */
static ISynchronize *outer_sync(Call *c)
{
    if (c->own_sync)
        return c->own_sync;
    ISynchronize *s = NULL;
    if (FAILED(IUnknown_QueryInterface(c->outer, &IID_ISynchronize, (void **)&s)))
        return NULL;
    return s;
}

static void sync_put(Call *c, ISynchronize *s)
{
    if (s != c->own_sync)
        ISynchronize_Release(s);
}

static void sync_op(Call *c, int op)
{
    ISynchronize *s = outer_sync(c);
    if (!s)
        return;
    if (op == 0)
        ISynchronize_Reset(s);
    else if (op == 1)
        ISynchronize_Signal(s);
    else
        ISynchronize_Wait(s, 0, INFINITE);
    sync_put(c, s);
}

/* The worker holds a reference on the controlling unknown (which keeps an
 * aggregate alive, as COM's rules say) and one on our inner unknown (which
 * keeps this memory alive even if an outer breaks those rules). */
static void worker_addref(Call *c)
{
    IUnknown_AddRef(c->outer);
    if (c->outer != &c->inner)
        IUnknown_AddRef(&c->inner);
}

static void worker_release(Call *c)
{
    IUnknown *outer = c->outer;
    if (outer != &c->inner)
        IUnknown_Release(&c->inner);
    IUnknown_Release(outer);
}

static void run_frame(void *arg)
{
    Frame *f = arg;
    Call *c = f->call;
    current_frame = f;
    f->m->call(c->server, f->args, f->ret);
    current_frame = NULL;
    pthread_mutex_lock(&c->lock);
    bool signal = false, free_it = false;
    f->worker_done = true;
    if (f->detached) {
        free_it = true;                 /* canceled and finished by the client already */
    } else if (!f->canceled) {
        c->state = COMPLETE;
        signal = true;
    }
    pthread_mutex_unlock(&c->lock);
    if (free_it)
        frame_free(f);
    if (signal)
        sync_op(c, 1);
    worker_release(c);
}

/* Server-side async (RULES.md E): the worker drives the server call
 * object's Begin_; the server Signals our ISynchronize (it is aggregated
 * in our controlling unknown) when its work is done. */
static void run_server_begin(void *arg)
{
    Frame *f = arg;
    Call *c = f->call;
    f->m->begin(c->server_async, f->args, f->ret);
    bool failed = f->m->ret_hresult && FAILED(*(HRESULT *)f->ret);
    pthread_mutex_lock(&c->lock);
    f->worker_done = true;
    bool free_it = f->detached;
    if (failed && !f->detached) {
        f->begin_failed = true;
        c->state = COMPLETE;
    }
    pthread_mutex_unlock(&c->lock);
    if (free_it)
        frame_free(f);
    else if (failed)
        sync_op(c, 1);                  /* the server will not signal a call it refused */
    worker_release(c);
}

HRESULT AmrtBegin(void *iface, const AmrtInterface *glue, int method, void **args)
{
    Call *c = CALL_FROM(iface, async);
    if (method < 0 || method >= glue->nmethods)
        return E_INVALIDARG;
    const AmrtMethod *m = &glue->methods[method];
    pthread_mutex_lock(&c->lock);
    if (c->state != IDLE) {
        pthread_mutex_unlock(&c->lock);
        return RPC_E_CALL_PENDING;      /* one call at a time (B6); also until a canceled call is finished (D2) */
    }
    Frame *f;
    HRESULT hr = frame_new(c, glue, m, args, &f);
    if (FAILED(hr)) {
        pthread_mutex_unlock(&c->lock);
        return hr;
    }
    c->state = RUNNING;
    c->frame = f;
    pthread_mutex_unlock(&c->lock);
    sync_op(c, 0);                      /* Reset at Begin_ (B13) */
    worker_addref(c);                   /* the worker's references */
    f->job.fn = c->server_async ? run_server_begin : run_frame;
    f->job.arg = f;
    f->job.pool_owned = false;
    hr = amrt__pool_submit_job(&f->job);
    if (FAILED(hr)) {
        pthread_mutex_lock(&c->lock);
        c->state = IDLE;
        c->frame = NULL;
        pthread_mutex_unlock(&c->lock);
        frame_free(f);
        worker_release(c);
        return hr;
    }
    return S_OK;
}

HRESULT AmrtFinish(void *iface, const AmrtInterface *glue, int method, void **args, void *ret)
{
    Call *c = CALL_FROM(iface, async);
    (void)glue;
    (void)method;
    pthread_mutex_lock(&c->lock);
    if (c->state == IDLE) {
        pthread_mutex_unlock(&c->lock);
        return RPC_E_CALL_COMPLETE;     /* no call in progress (B7) */
    }
    pthread_mutex_unlock(&c->lock);
    sync_op(c, 2);                      /* Finish_ waits for completion (B12, B13) */
    pthread_mutex_lock(&c->lock);
    Frame *f = c->frame;
    HRESULT hr = S_OK;
    bool free_it = true;
    if (!f) {
        hr = RPC_E_CALL_COMPLETE;
        free_it = false;
    } else if (f->canceled) {
        hr = f->forced ? f->forced : RPC_E_CALL_CANCELED;  /* D6: outs untouched */
        if (!f->worker_done) {
            f->detached = true;         /* the worker frees it when the server returns */
            free_it = false;
        }
    } else {
        if (c->server_async) {
            /* the server signaled: wait for the Begin_ job itself, then take its results */
            while (!f->worker_done) {
                pthread_mutex_unlock(&c->lock);
                struct timespec ts = { 0, 200000 };
                nanosleep(&ts, NULL);
                pthread_mutex_lock(&c->lock);
            }
            if (!f->begin_failed) {
                pthread_mutex_unlock(&c->lock);
                f->m->finish(c->server_async, f->args, f->ret);
                pthread_mutex_lock(&c->lock);
            }
        }
        frame_deliver(f, args);
        if (ret && f->m->ret_size)
            memcpy(ret, f->ret, f->m->ret_size);
        if (f->m->ret_hresult)
            hr = *(HRESULT *)f->ret;
    }
    bool ret_hresult = f && f->m->ret_hresult;
    bool canceled = f && f->canceled;   /* read now: a detached frame is the worker's to free */
    c->frame = NULL;
    c->state = IDLE;                    /* reusable after Finish_ (B10) */
    pthread_mutex_unlock(&c->lock);
    if (f && free_it)
        frame_recycle(c, f);
    if (canceled && ret && ret_hresult)
        *(HRESULT *)ret = hr;
    return hr;
}

/* ---- IUnknown (non-delegating) ---- */

static HRESULT STDMETHODCALLTYPE call_inner_qi(IUnknown *This, REFIID riid, void **ppv)
{
    Call *c = CALL_FROM(This, inner);
    if (!ppv)
        return E_POINTER;
    *ppv = NULL;
    if (IsEqualIID(riid, &IID_IUnknown))
        *ppv = &c->inner;
    else if (IsEqualIID(riid, &IID_ICancelMethodCalls))
        *ppv = &c->cancel;
    else if (IsEqualIID(riid, &IID_IAsyncManager))
        *ppv = &c->manager;
    else if (IsEqualIID(riid, &IID_ISynchronize) || IsEqualIID(riid, &IID_ISynchronizeHandle) ||
             IsEqualIID(riid, &IID_ISynchronizeEvent))
        return IUnknown_QueryInterface(c->event, riid, ppv);
    else {
        for (const AmrtInterface *g = c->glue; g; g = g->base)
            if (IsEqualIID(riid, g->async_iid)) {
                *ppv = &c->async;
                break;
            }
        if (!*ppv)
            return E_NOINTERFACE;       /* including IClientSecurity (RULES.md F1) */
    }
    IUnknown_AddRef((IUnknown *)*ppv);
    return S_OK;
}

static ULONG STDMETHODCALLTYPE call_inner_addref(IUnknown *This)
{
    return (ULONG)atomic_fetch_add(&CALL_FROM(This, inner)->refs, 1) + 1;
}

static ULONG STDMETHODCALLTYPE call_inner_release(IUnknown *This)
{
    Call *c = CALL_FROM(This, inner);
    long left = atomic_fetch_sub(&c->refs, 1) - 1;
    if (left == 0) {
        /* no worker runs (it holds a reference); a call never finished is freed here (B9) */
        frame_free(c->frame);
        frame_destroy(c->spare);
        if (c->server_inner)
            IUnknown_Release(c->server_inner);
        IUnknown_Release(c->event);
        IUnknown_Release(c->server);
        pthread_mutex_destroy(&c->lock);
        amrt__free(c);
    }
    return (ULONG)left;
}

static const IUnknownVtbl call_inner_vtbl = { call_inner_qi, call_inner_addref, call_inner_release };

HRESULT AmrtCallQueryInterface(void *iface, REFIID riid, void **ppv)
{
    return IUnknown_QueryInterface(CALL_FROM(iface, async)->outer, riid, ppv);
}

ULONG AmrtCallAddRef(void *iface)
{
    return IUnknown_AddRef(CALL_FROM(iface, async)->outer);
}

ULONG AmrtCallRelease(void *iface)
{
    return IUnknown_Release(CALL_FROM(iface, async)->outer);
}

/* ---- ICancelMethodCalls (RULES.md D) ---- */

AMRT_DELEGATING_IUNKNOWN(cancel, ICancelMethodCalls, Call, cancel)

/* The call's work is over: the synchronous method returned (client-side
 * async), or the server's own call object signaled (server-side async:
 * the worker is done as soon as the server's Begin_ returns). */
static bool call_done(Call *c, ISynchronize *s)
{
    pthread_mutex_lock(&c->lock);
    bool done = c->frame && c->frame->worker_done;
    pthread_mutex_unlock(&c->lock);
    if (done && c->server_async)
        done = ISynchronize_Wait(s, 0, 0) == S_OK;
    return done;
}

static HRESULT STDMETHODCALLTYPE cancel_cancel(ICancelMethodCalls *This, ULONG seconds)
{
    Call *c = CALL_FROM(This, cancel);
    pthread_mutex_lock(&c->lock);
    if (c->state != RUNNING || !c->frame) {
        pthread_mutex_unlock(&c->lock);
        return RPC_E_CALL_COMPLETE;     /* no call, or it completed already (D8) */
    }
    if (c->frame->canceled) {
        pthread_mutex_unlock(&c->lock);
        return RPC_E_CALL_CANCELED;     /* already canceled (D5) */
    }
    c->frame->canceled = true;          /* the server sees it through CoTestCancel (D11) */
    pthread_mutex_unlock(&c->lock);
    /* D7: give the server ulSeconds to finish */
    ISynchronize *s = outer_sync(c);
    HRESULT hr = S_OK;
    if (s) {
        DWORD ms = seconds == RPC_C_CANCEL_INFINITE_TIMEOUT ? INFINITE : seconds > 4000000 ? 4000000000u : seconds * 1000;
        bool done = call_done(c, s);
        if (!done && ms) {
            /* the worker does not signal a canceled call: poll for its end */
            struct timespec deadline;
            if (ms != INFINITE)
                amrt__deadline(&deadline, ms);
            for (;;) {
                done = call_done(c, s);
                if (done || (ms != INFINITE && amrt__ms_left(&deadline) == 0))
                    break;
                struct timespec ts = { 0, 1000000 };
                nanosleep(&ts, NULL);
            }
        }
        if (done) {
            /* it completed within the interval: the call is complete, not canceled */
            pthread_mutex_lock(&c->lock);
            if (c->frame)
                c->frame->canceled = false;
            c->state = COMPLETE;
            pthread_mutex_unlock(&c->lock);
            hr = RPC_E_CALL_COMPLETE;
        }
        ISynchronize_Signal(s);         /* cancellation counts as completion */
        sync_put(c, s);
    }
    return hr;
}

static HRESULT STDMETHODCALLTYPE cancel_test(ICancelMethodCalls *This)
{
    Call *c = CALL_FROM(This, cancel);
    pthread_mutex_lock(&c->lock);
    bool canceled = c->frame && c->frame->canceled;
    pthread_mutex_unlock(&c->lock);
    return canceled ? RPC_E_CALL_CANCELED : RPC_S_CALLPENDING;     /* D9 */
}

static const ICancelMethodCallsVtbl cancel_vtbl = {
    cancel_qi, cancel_addref, cancel_release, cancel_cancel, cancel_test,
};

/* ---- IAsyncManager (RULES.md E8: no Win32 page; this runtime's convenience) ----
 * GetState: DCOM_NONE while idle or running, DCOM_CALL_COMPLETE once the
 * call completed (or CompleteCall completed it), DCOM_CALL_CANCELED after
 * Cancel. CompleteCall(hr): completes a running call now with the failure
 * hr (Finish_ returns it, outputs untouched, the server's results are
 * discarded; the server sees CoTestCancel). GetCallContext: the call's
 * ICancelMethodCalls; RPC_E_NO_CONTEXT for anything else (F3). */

AMRT_DELEGATING_IUNKNOWN(manager, IAsyncManager, Call, manager)

static HRESULT STDMETHODCALLTYPE manager_complete(IAsyncManager *This, HRESULT result)
{
    Call *c = CALL_FROM(This, manager);
    if (SUCCEEDED(result))
        return E_INVALIDARG;            /* a success would hand back outputs nobody produced */
    pthread_mutex_lock(&c->lock);
    HRESULT hr = S_OK;
    if (c->state != RUNNING || !c->frame)
        hr = RPC_E_CALL_COMPLETE;
    else if (c->frame->canceled)
        hr = c->frame->forced ? RPC_E_CALL_COMPLETE : RPC_E_CALL_CANCELED;
    else {
        c->frame->canceled = true;
        c->frame->forced = result;
        c->state = COMPLETE;
    }
    pthread_mutex_unlock(&c->lock);
    if (hr == S_OK)
        sync_op(c, 1);
    return hr;
}

static HRESULT STDMETHODCALLTYPE manager_context(IAsyncManager *This, REFIID riid, void **ppv)
{
    Call *c = CALL_FROM(This, manager);
    if (!ppv)
        return E_INVALIDARG;
    *ppv = NULL;
    if (IsEqualIID(riid, &IID_ICancelMethodCalls))
        return IUnknown_QueryInterface(c->outer, riid, ppv);
    return RPC_E_NO_CONTEXT;
}

static HRESULT STDMETHODCALLTYPE manager_state(IAsyncManager *This, ULONG *state)
{
    Call *c = CALL_FROM(This, manager);
    if (!state)
        return E_INVALIDARG;
    pthread_mutex_lock(&c->lock);
    Frame *f = c->frame;
    if (f && f->canceled && !f->forced)
        *state = DCOM_CALL_CANCELED;
    else if (c->state == COMPLETE)
        *state = DCOM_CALL_COMPLETE;
    else
        *state = DCOM_NONE;
    pthread_mutex_unlock(&c->lock);
    return S_OK;
}

static const IAsyncManagerVtbl manager_vtbl = {
    manager_qi, manager_addref, manager_release, manager_complete, manager_context, manager_state,
};

/* ---- CoGetCallContext / CoTestCancel on the server's thread (D11, F3) ---- */

HRESULT CoGetCallContext(REFIID riid, void **ppv)
{
    if (!ppv)
        return E_INVALIDARG;
    *ppv = NULL;
    Frame *f = current_frame;
    if (!f)
        return RPC_E_NO_CONTEXT;
    if (IsEqualIID(riid, &IID_ICancelMethodCalls))
        return IUnknown_QueryInterface(&f->call->inner, riid, ppv);
    return RPC_E_NO_CONTEXT;            /* IServerSecurity and others: no context here (RULES.md F3) */
}

HRESULT CoTestCancel(void)
{
    Frame *f = current_frame;
    if (!f)
        return RPC_E_NO_CONTEXT;
    pthread_mutex_lock(&f->call->lock);
    bool canceled = f->canceled;
    pthread_mutex_unlock(&f->call->lock);
    return canceled ? RPC_E_CALL_CANCELED : S_OK;
}

/* ---- creation (ICallFactory::CreateCall of the proxy) ---- */

HRESULT amrt__call_create(const AmrtInterface *glue, IUnknown *server, ICallFactory *own,
                          IUnknown *outer, const IID *riid2, void **ppv)
{
    *ppv = NULL;
    if (outer && !IsEqualIID(riid2, &IID_IUnknown))
        return CLASS_E_NOAGGREGATION;   /* B4 */
    Call *c = amrt__calloc(sizeof *c);
    if (!c)
        return E_OUTOFMEMORY;
    c->inner.lpVtbl = (IUnknownVtbl *)&call_inner_vtbl;
    c->async.lpVtbl = glue->async_vtbl;
    c->cancel.lpVtbl = (ICancelMethodCallsVtbl *)&cancel_vtbl;
    c->manager.lpVtbl = (IAsyncManagerVtbl *)&manager_vtbl;
    c->outer = outer ? outer : &c->inner;
    c->glue = glue;
    atomic_init(&c->refs, 1);
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        amrt__free(c);
        return E_OUTOFMEMORY;
    }
    /* ISynchronize: aggregate a manual-reset event in our controlling unknown */
    HRESULT hr = amrt__event_create(c->outer, true, &IID_IUnknown, (void **)&c->event);
    if (FAILED(hr)) {
        pthread_mutex_destroy(&c->lock);
        amrt__free(c);
        return hr;
    }
    if (!outer && SUCCEEDED(IUnknown_QueryInterface(c->event, &IID_ISynchronize, (void **)&c->own_sync)))
        ISynchronize_Release(c->own_sync);      /* it lives as long as we do: keep it uncounted */
    c->server = server;
    IUnknown_AddRef(server);
    if (own) {
        /* the object makes its own call objects (E1): one aggregated in us,
         * so that it signals our ISynchronize (E3) */
        hr = ICallFactory_CreateCall(own, glue->async_iid, c->outer, &IID_IUnknown, &c->server_inner);
        if (SUCCEEDED(hr) && c->server_inner) {
            hr = IUnknown_QueryInterface(c->server_inner, glue->async_iid, &c->server_async);
            if (SUCCEEDED(hr))
                IUnknown_Release(c->outer);     /* a cached inner pointer holds no reference on us */
        }
        if (FAILED(hr) || !c->server_inner) {
            c->server_async = NULL;
            IUnknown_Release(&c->inner);        /* frees the call (and the server's, if any) */
            return FAILED(hr) ? hr : E_NOINTERFACE;
        }
    }
    if (outer) {
        *ppv = &c->inner;
        return S_OK;
    }
    hr = IUnknown_QueryInterface(&c->inner, riid2, ppv);
    IUnknown_Release(&c->inner);
    return hr;
}
