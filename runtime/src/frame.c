/*
 * frame.c - a call's frame: its layout for a method, the deep copies of
 * the [in] arguments at Begin_, the storage of the [out] ones, their
 * delivery at Finish_ and the freeing of what the arguments own (the
 * DESIGN is callobj.c's).
 */
#include "call.h"

#include <stdlib.h>
#include <string.h>

/* ==================================================================== frames */


/* A top-level array argument keeps its element count next to its pointer:
 * the count it was allocated with, whatever the callee does to its size. */
static size_t *arg_count(void *slot)
{
    return (size_t *)((unsigned char *)slot + sizeof(void *));
}

/* The values: the return value (8 or 16 bytes), then each argument's
 * value, 8-byte aligned (16 when larger than 8 bytes), then the storage of
 * the small [out] pointees. */
static size_t ret_room(const AmrtMethod *m)
{
    return m->ret_size > 8 ? 16 : 8;
}


/* Place 'room' bytes of a value of 'size' bytes at *off; returns where. */
static size_t place(size_t *off, size_t size, size_t room)
{
    size_t align = size > 8 ? 16 : 8;
    size_t at = (*off + align - 1) & ~(align - 1);
    *off = at + ((room + 7) & ~(size_t)7);
    return at;
}

static size_t slot_room(const AmrtType *t)
{
    return t->kind == AMRT_K_ARRAY ? sizeof(void *) + sizeof(size_t) : amrt__value_size(t);
}

/* [out] pointers to small values get their storage inside the frame */
static bool inline_out_ok(const AmrtParam *p, int i)
{
    return i < 64 && p->dir == AMRT_OUT && p->type->kind == AMRT_K_POINTER && amrt__value_size(p->type->ref) <= 16;
}

/* Can the value own memory (so that clearing the frame has work to do)? */
static bool owns_memory(const AmrtParam *p, int i)
{
    const AmrtType *t = p->type;
    if (amrt__plain(t))
        return false;
    return !(t->kind == AMRT_K_POINTER && amrt__plain(t->ref) && inline_out_ok(p, i));
}

static void frame_ctx(const Frame *f, Ctx *c)
{
    c->m = f->m;
    c->args = f->args;
    c->base = NULL;
    c->cp = NULL;
}

/* Free one argument's value (its slot stays), with the freer fr (NULL: none). */
static void arg_free(Frame *f, AmrtFreer *fr, const Ctx *c, int i)
{
    const AmrtType *t = f->m->params[i].type;
    void *slot = f->args[i];
    if (i < 64 && (f->inline_out >> i & 1)) {
        void *p = *(void **)slot;       /* storage inside the frame: free its contents only */
        if (p)
            amrt__free_value(fr, c, t->ref, p);
    } else if (t->kind == AMRT_K_ARRAY) {
        unsigned char *p = *(void **)slot;
        if (p)
            amrt__free_elems_with(fr, c, t->ref, p, *arg_count(slot));
        amrt__free(p);
        *(void **)slot = NULL;
    } else {
        amrt__free_value(fr, c, t, slot);
    }
}

/* Free what the frame's arguments own (the frame itself stays): each
 * shared pointee once when the copies share some. */
void amrt__frame_clear(Frame *f)
{
    if (!f->m || !f->needs_clear)
        return;
    Ctx c;
    frame_ctx(f, &c);
    AmrtFreer fr;
    if (f->aliased)
        amrt__freer_init(&fr, true);
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < f->m->nparams; i++)
            if (amrt__is_holder(f->m->params[i].type) == (pass == 1))
                arg_free(f, f->aliased ? &fr : NULL, &c, i);
    if (f->aliased) {
        amrt__freer_fini(&fr);
        f->aliased = false;
    }
}

void amrt__frame_destroy(Frame *f)
{
    amrt__remote_async_free(f->rcall);
    amrt__free(f->block);
    if (f->heap)
        amrt__free(f);
}

/* The end of an [in] argument's copy into slot (bytes long), whose result
 * is hr: kept, or given back and the slot zeroed (see AmrtCopy). */
static HRESULT copy_in(const Ctx *c, void *slot, size_t bytes, HRESULT hr)
{
    if (SUCCEEDED(hr)) {
        amrt__copy_commit(c->cp);
        return hr;
    }
    amrt__copy_undo(c->cp);
    memset(slot, 0, bytes);
    return hr;
}

/* One argument at Begin_: a copy of an [in] value, zeroed storage for an
 * [out] pointer or array for the callee to fill (in the copy session
 * c->cp: the [in] values' copies may share pointees, an [in, out] value's
 * only with itself, as the caller gets it back). */
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
        if (!amrt__array_bounds(c, t, &n, &first, &len))
            return E_INVALIDARG;
        if (!caller && (p->dir & AMRT_IN) && !(t->flags & AMRT_F_UNIQUE) && n)
            return E_POINTER;   /* a [ref] pointer must not be NULL (B17: checked at Begin_) */
        if (!caller && (p->dir & AMRT_IN))
            return S_OK;
        *arg_count(slot) = n;
        if (caller)
            return copy_in(c, slot, sizeof(void *), amrt__copy_elems(c, t->ref, caller, n, first, len, (void **)slot));
        size_t bytes = n * amrt__value_size(t->ref);
        void *b = amrt__calloc(bytes > 0 ? bytes : 1);
        if (!b)
            return E_OUTOFMEMORY;
        *(void **)slot = b;
        return S_OK;
    }
    if (p->dir & AMRT_IN) {
        if (pointer && !(t->flags & AMRT_F_UNIQUE) && !*(void *const *)src)
            return E_POINTER;
        return copy_in(c, slot, amrt__value_size(t), amrt__deep_copy(c, t, src, slot));
    }
    if (t->kind == AMRT_K_POINTER && !(i < 64 && (f->inline_out >> i & 1))) {
        void *b = amrt__calloc(amrt__value_size(t->ref));
        if (!b)
            return E_OUTOFMEMORY;
        *(void **)slot = b;
    }
    return S_OK;
}

/* A frame for the next call: the call's own, unless a detached worker
 * still has it (in BEGINNING). */
static Frame *frame_take(Call *c)
{
    if (!(atomic_load_explicit(&c->ev.word, memory_order_acquire) & C_DETACHED))
        return &c->own;
    Frame *f = c->spare;
    if (f) {
        c->spare = NULL;
        return f;
    }
    f = amrt__calloc(sizeof *f);
    if (f) {
        f->heap = true;
        f->call = c;
        f->job.fn = c->own.job.fn;      /* run_server_begin or run_frame */
    }
    return f;
}

/* A frame that is done with, its arguments freed (in BEGINNING, or
 * c->lock held). */
void amrt__frame_put(Call *c, Frame *f)
{
    if (!f->heap)
        return;
    if (!c->spare)
        c->spare = f;
    else
        amrt__frame_destroy(f);
}

/* Lay the frame out for m: where args[] and the values go. They stay for
 * the next calls of m, so a call on a reused call object writes only
 * values. False when a block cannot be allocated. */
static bool frame_layout(Call *c, Frame *f, const AmrtMethod *m)
{
    int n = m->nparams;
    size_t vals = ret_room(m);
    bool needs_clear = false;
    for (int i = 0; i < n; i++) {
        place(&vals, amrt__value_size(m->params[i].type), slot_room(m->params[i].type));
        needs_clear |= owns_memory(&m->params[i], i);
    }
    for (int i = 0; i < n; i++)
        if (inline_out_ok(&m->params[i], i))
            place(&vals, amrt__value_size(m->params[i].type->ref), amrt__value_size(m->params[i].type->ref));
    size_t ptrs = (sizeof(void *) * (size_t)n + 15) & ~(size_t)15;
    void **args;
    unsigned char *v;
    if (!f->heap && vals <= HOT_BYTES && ptrs <= INLINE_BYTES) {
        args = (void **)c->storage;
        v = c->hot;
    } else if (!f->heap && ptrs + vals <= INLINE_BYTES) {
        args = (void **)c->storage;
        v = c->storage + ptrs;
    } else {
        if (f->cap < ptrs + vals) {
            unsigned char *b = amrt__alloc(ptrs + vals);
            if (!b)
                return false;
            amrt__free(f->block);
            f->block = b;
            f->cap = ptrs + vals;
        }
        args = (void **)f->block;
        v = f->block + ptrs;
    }
    size_t off = ret_room(m);
    uint64_t inline_out = 0;
    for (int i = 0; i < n; i++) {
        args[i] = v + place(&off, amrt__value_size(m->params[i].type), slot_room(m->params[i].type));
        if (inline_out_ok(&m->params[i], i))
            inline_out |= (uint64_t)1 << i;
    }
    f->inline_out = inline_out;
    f->outs_at = off;
    /* A flat method (plain [in] values and small plain [out] pointees
     * only, as most are) is copied by a plan instead of the interpreter. */
    bool flat = n > 0 && n <= FLAT_MAX && vals <= UINT16_MAX;
    for (int i = 0; i < n && flat; i++) {
        const AmrtParam *p = &m->params[i];
        flat = (p->dir == AMRT_IN && amrt__plain(p->type)) || ((inline_out >> i & 1) && amrt__plain(p->type->ref));
    }
    f->nflat = 0;
    if (flat) {
        for (int i = 0; i < n; i++) {
            const AmrtParam *p = &m->params[i];
            f->flat[i].off = (uint16_t)((unsigned char *)args[i] - v);
            f->flat[i].out = 0;
            f->flat[i].size = (uint16_t)amrt__value_size(p->dir == AMRT_IN ? p->type : p->type->ref);
        }
        for (int i = 0; i < n; i++)
            if (inline_out >> i & 1)
                f->flat[i].out = (uint16_t)place(&off, f->flat[i].size, f->flat[i].size);
        f->nflat = (uint8_t)n;
    }
    f->args = args;
    f->vals = v;
    f->vals_size = vals;
    f->needs_clear = needs_clear;
    f->m = m;
    return true;
}

/* a value of a flat argument: most are 1, 2, 4 or 8 bytes */
static inline void copy_small(void *dst, const void *src, size_t n)
{
    switch (n) {
    case 1: memcpy(dst, src, 1); break;
    case 2: memcpy(dst, src, 2); break;
    case 4: memcpy(dst, src, 4); break;
    case 8: memcpy(dst, src, 8); break;
    default: memcpy(dst, src, n); break;
    }
}

static HRESULT frame_fail(Call *c, Frame *f, HRESULT hr)
{
    amrt__frame_clear(f);
    amrt__frame_put(c, f);
    return hr;
}

/* Fill a frame for a call of m with the arguments at 'in' (in BEGINNING). */
HRESULT amrt__frame_new(Call *c, const AmrtInterface *glue, const AmrtMethod *m, void **in, Frame **out)
{
    Frame *f = frame_take(c);
    if (!f)
        return E_OUTOFMEMORY;
    if (f->m != m && !frame_layout(c, f, m)) {
        f->m = NULL;
        amrt__frame_put(c, f);
        return E_OUTOFMEMORY;
    }
    int n = m->nparams;
    for (size_t i = 0; i < f->vals_size; i += 8)       /* a multiple of 8 bytes, 8-byte aligned */
        memset(f->vals + i, 0, 8);
    if (atomic_load_explicit(&f->fl, memory_order_relaxed))
        atomic_store_explicit(&f->fl, 0, memory_order_relaxed);
    if (f->glue != glue)
        f->glue = glue;
    if (f->nflat) {
        for (int i = 0; i < n; i++) {
            const struct FlatArg *a = &f->flat[i];
            if (a->out) {
                *(void **)(f->vals + a->off) = f->vals + a->out;      /* zeroed storage for the callee */
            } else {
                if (!in[i])
                    return frame_fail(c, f, E_POINTER);
                copy_small(f->vals + a->off, in[i], a->size);
            }
        }
        *out = f;
        return S_OK;
    }
    if (f->inline_out) {
        size_t off = f->outs_at;
        for (int i = 0; i < n; i++)
            if (f->inline_out >> i & 1) {
                size_t vs = amrt__value_size(m->params[i].type->ref);
                *(void **)f->args[i] = f->vals + place(&off, vs, vs);     /* zeroed storage for the callee */
            }
    }
    /* pass 0: the values others may read; pass 1: the rest. The [in]
     * values are one copy session; each [in, out] value one of its own. */
    Ctx ctx, io_ctx;
    frame_ctx(f, &ctx);
    AmrtCopy cp, io_cp;
    amrt__copy_init(&cp);
    amrt__copy_init(&io_cp);
    ctx.cp = &cp;
    io_ctx = ctx;
    io_ctx.cp = &io_cp;
    HRESULT hr = S_OK;
    for (int pass = 0; pass < 2 && SUCCEEDED(hr); pass++)
        for (int i = 0; i < n && SUCCEEDED(hr); i++) {
            if (amrt__is_holder(m->params[i].type) != (pass == 0))
                continue;
            if ((m->params[i].dir & AMRT_IN) && !in[i]) {
                hr = E_POINTER;
            } else if (m->params[i].dir == (AMRT_IN | AMRT_OUT)) {
                amrt__copy_forget(&io_cp);
                hr = arg_init(f, &io_ctx, i, in[i]);
            } else {
                hr = arg_init(f, &ctx, i, in[i]);
            }
        }
    f->aliased = cp.aliased || io_cp.aliased;
    amrt__copy_fini(&cp);
    amrt__copy_fini(&io_cp);
    if (FAILED(hr))
        return frame_fail(c, f, hr);
    *out = f;
    return S_OK;
}

/* a top-level array's counts for amrt__deliver: the caller's is the one
 * the frame's buffer was allocated with */
static void frame_counts(void *slot, size_t *total, size_t *have)
{
    *total = *have = *arg_count(slot);
}

/* Move the [out] values of the frame to the caller's pointers (interp.c's
 * amrt__deliver, after the flat values' fast path). */
void amrt__frame_deliver(Frame *f, void **caller)
{
    if (f->nflat) {
        for (int i = 0; i < f->nflat; i++) {
            const struct FlatArg *a = &f->flat[i];
            void *dst = a->out && caller[i] ? *(void **)caller[i] : NULL;
            if (dst)
                copy_small(dst, f->vals + a->out, a->size);
        }
        return;
    }
    amrt__deliver(f->m, f->args, caller, frame_counts);
}
