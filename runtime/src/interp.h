/*
 * interp.h - the interpreter of the glue's type descriptions (interp.c):
 * what a value of an AmrtType is, how big, what its expressions say, how
 * to copy it and free it. The call objects' frames (frame.c) copy
 * arguments with it; the wire codec (wire.c) sits beside it. Nothing here
 * knows about calls.
 */
#ifndef AMRT_INTERP_H
#define AMRT_INTERP_H

#include "internal.h"
#include "oleauto.h"

#include <stdint.h>

/* ---- Automation's values (oleaut.c), for AMRT_K_VARIANT and AMRT_K_SAFEARRAY ----
 * The vts a VARIANT may have on the wire and in a copy: VT_EMPTY, VT_NULL,
 * the scalars, VT_DECIMAL, VT_BSTR, VT_UNKNOWN, VT_DISPATCH, VT_ARRAY | one of the
 * element types (the scalars, VT_BSTR, VT_UNKNOWN, VT_DISPATCH, VT_VARIANT);
 * VT_BYREF | a scalar (its pointee copied into the VARIANT itself: below). */
size_t amrt__vt_scalar_size(VARTYPE vt);    /* a plain scalar's bytes; 0: not one */
size_t amrt__vt_elem_size(VARTYPE vt);      /* a SAFEARRAY element's bytes; 0: not an element type */
VARTYPE amrt__sa_vt(const SAFEARRAY *psa);  /* its element type (VT_EMPTY: unknown) */
bool amrt__sa_count(const SAFEARRAY *psa, size_t *n);      /* its elements (false: overflow) */
/* a zeroed array of vt with bounds as a descriptor keeps them (reverse order) */
HRESULT amrt__sa_create(VARTYPE vt, UINT dims, const SAFEARRAYBOUND *mem_bounds, SAFEARRAY **out);
/* a copy of psa (vt its element type, n its elements, both checked): BSTRs
 * reallocated, interfaces AddRef'd, VARIANT elements copied by vcopy(ctx) */
typedef HRESULT AmrtVariantCopier(void *ctx, VARIANT *dst, const VARIANT *src);
HRESULT amrt__sa_copy(const SAFEARRAY *psa, VARTYPE vt, size_t n, AmrtVariantCopier *vcopy, void *ctx,
                      SAFEARRAY **out);
enum { AMRT__SA_MAX_DIMS = 64 };
bool amrt__vt_passable(VARTYPE vt);         /* a VARIANT of vt passes (above) */
/* VT_BYREF | a scalar: a copy's (and a decoded value's) pointee is its
 * own, kept in the VARIANT's last 8 bytes (brecVal.pRecInfo's, unused by
 * such a value): amrt__variant_inline. A VARIANT the runtime moves from
 * 'from' gets its pointer back into itself (amrt__variant_moved). */
enum { AMRT__VARIANT_INLINE = 16 };
void *amrt__variant_inline(VARIANT *v);
void amrt__variant_moved(VARIANT *v, const void *from);
/* an array of vt where one of 'want' is expected: VT_EMPTY any; VT_ARRAY |
 * x exactly x (a VARIANT's array); a scalar any scalar of its size (the
 * glue's SAFEARRAY(T)); else exactly it */
bool amrt__vt_fits(VARTYPE vt, VARTYPE want);
VARTYPE amrt__sa_check(const SAFEARRAY *psa, size_t *n);  /* its element type if it passes, else VT_EMPTY */

/* The limits of eval (amidlrt_glue.h's): the depth of its stack and the
 * steps of a program. An expression beyond them cannot be evaluated (eval
 * returns false). */
enum { AMRT_EVAL_STACK = AMRT_X_STACK_MAX, AMRT_EVAL_STEPS = AMRT_X_STEPS_MAX };

typedef struct AmrtCopy AmrtCopy;

/* Where correlation expressions find their operands: the call's argument
 * values and, inside a structure, the structure itself; and, for
 * amrt__deep_copy, the copy it is part of. */
typedef struct Ctx {
    const AmrtMethod *m;
    void *const *args;              /* args[i] -> the value of parameter i */
    const unsigned char *base;      /* the enclosing structure, NULL at the top */
    AmrtCopy *cp;                   /* amrt__deep_copy's session (NULL elsewhere) */
} Ctx;

/* the context of method m's arguments */
static inline Ctx amrt__ctx(const AmrtMethod *m, void *const *args)
{
    Ctx c = { m, args, NULL, NULL };
    return c;
}

/* the context inside the structure at base, within c's call */
static inline Ctx amrt__ctx_in(const Ctx *c, const void *base)
{
    Ctx in = { c->m, c->args, base, c->cp };
    return in;
}

/* Pointers (and arrays) followed within one value, at most: the wire's
 * limit too (wire.h), so that a value copies in-process exactly when it
 * crosses a process boundary; a deeper one is E_INVALIDARG. */
enum { AMRT__COPY_MAX_DEPTH = 256 };

/* A copy session (amrt__deep_copy and amrt__copy_elems run in one):
 * - the pointers copied so far and their copies: a pointer reached again
 *   (the same [ptr] in two arguments, a list with a cycle) is not copied
 *   again, its copy is shared, as the wire sends such a pointer once
 *   ('aliased' then says the copies must be freed with an aliased freer);
 * - the depth of pointers being followed (AMRT__COPY_MAX_DEPTH);
 * - an undo log of what the copy acquired since the last commit (memory,
 *   strings, references, descriptors): a copy that fails gives back
 *   exactly that, and never walks the values it half built.
 * The copy functions do not clean up after themselves: after a failure,
 * amrt__copy_undo, then zero the value copied into. */
typedef struct AmrtCopyEntry { const void *src; const void *type; void *dst; } AmrtCopyEntry;
typedef struct AmrtUndo { void *p; unsigned char kind; } AmrtUndo;
struct AmrtCopy {
    AmrtCopyEntry *tab;             /* open addressing on src (NULL: empty; all empty while n is 0); inl at first */
    size_t cap, n;
    AmrtUndo *log;                  /* linl at first */
    size_t lcap, ln;
    unsigned depth;
    bool aliased;                   /* a pointer was met twice */
    AmrtCopyEntry inl[16];
    AmrtUndo linl[16];
};
void amrt__copy_init(AmrtCopy *cp);
void amrt__copy_fini(AmrtCopy *cp);     /* the tables; what was copied stays */
void amrt__copy_forget(AmrtCopy *cp);   /* forget the pointers met: what follows shares nothing with what went before */
void amrt__copy_commit(AmrtCopy *cp);   /* what the log holds is kept: empty it */
void amrt__copy_undo(AmrtCopy *cp);     /* give back what the log holds, newest first, and empty it */

/* a value that owns nothing (a scalar, a structure without pointers) */
static inline bool amrt__plain(const AmrtType *t)
{
    return t->kind == AMRT_K_SCALAR || t->kind == AMRT_K_STRUCT;
}

/* The bytes of a value of t where it is stored (an argument, a member, an
 * element); a pointer's is sizeof(void *). A conformant structure's is
 * without its trailing elements (amrt__instance_size). */
static inline size_t amrt__value_size(const AmrtType *t)
{
    switch (t->kind) {
    case AMRT_K_SCALAR: case AMRT_K_STRUCT: case AMRT_K_CSTRUCT: case AMRT_K_UNION: case AMRT_K_CONFSTRUCT:
    case AMRT_K_VARIANT:
        return t->size;
    case AMRT_K_HANDLE:
        return sizeof(HANDLE);
    case AMRT_K_FIXED_ARRAY:
        return (size_t)t->size * amrt__value_size(t->ref);
    default:
        return sizeof(void *);
    }
}

/* Parameters other arguments may read (size_is, switch_is, ...): plain
 * values and pointers to plain values. A call copies them first, and
 * frees and delivers them last. */
static inline bool amrt__is_holder(const AmrtType *t)
{
    return amrt__plain(t) || (t->kind == AMRT_K_POINTER && amrt__plain(t->ref));
}

/* the bytes of the string s of t (STRING or WSTRING), its NUL included */
size_t amrt__str_bytes(const AmrtType *t, const void *s);

/* Run a correlation expression (AMRT_X_*); false when it cannot be
 * evaluated (a NULL pointer, a division by zero, a malformed program). */
bool amrt__eval(const Ctx *c, const int *x, int64_t *out);

/* The bounds of an array of t (ARRAY): 'count' elements allocated,
 * elements [first, first + len) passed. False when an expression cannot
 * be evaluated or the bounds are out of range. */
bool amrt__array_bounds(const Ctx *c, const AmrtType *t, size_t *count, size_t *first, size_t *len);

/* The arm of the union t that its discriminant selects (NULL: none, or an
 * arm without data); amrt__union_valid says whether any arm does (an empty
 * arm included). */
const AmrtType *amrt__union_arm(const Ctx *c, const AmrtType *t);
bool amrt__union_valid(const Ctx *c, const AmrtType *t);

/* The size of the value of t at v: a conformant structure's depends on its
 * members. False when it cannot be known. */
bool amrt__instance_size(const Ctx *c, const AmrtType *t, const void *v, size_t *size);

/* Copy the value at src (of type t) into dst, taking copies of everything
 * it points to (interfaces are AddRef'd), in the session c->cp (which
 * must be set). On failure dst is half built: see AmrtCopy. */
HRESULT amrt__deep_copy(const Ctx *c, const AmrtType *t, const void *src, void *dst);

/* Free what the value at v (of type t) owns; the storage of v itself stays. */
void amrt__deep_free(const Ctx *c, const AmrtType *t, void *v);

/* Copy n elements of et (of which [first, first + len) are passed) into a
 * new zeroed buffer (amrt__alloc's) at *out, in the session c->cp. */
HRESULT amrt__copy_elems(const Ctx *c, const AmrtType *et, const unsigned char *src, size_t n, size_t first,
                         size_t len, void **out);

/* free what n elements of et at b own (b stays) */
void amrt__free_elems(const Ctx *c, const AmrtType *et, unsigned char *b, size_t n);

/* Freeing values whose pointers may be shared (a decoded message that
 * sent one pointer twice: [ptr], a list with a cycle) or may point into
 * storage that is not the heap's (a wire frame's own): each pointer's
 * pointee freed once, none inside the 'keep' ranges [lo, hi) handed back
 * to the heap. */
typedef struct AmrtFreer {
    bool aliased;                   /* pointers may be shared: remember what was freed */
    bool full;                      /* the set could not grow: leak rather than free twice */
    const unsigned char *keep[2][2];
    void **seen;                    /* open addressing, NULL: empty */
    size_t cap, n;
    void *inl[64];
} AmrtFreer;

void amrt__freer_init(AmrtFreer *fr, bool aliased);
void amrt__freer_fini(AmrtFreer *fr);
/* amrt__deep_free and amrt__free_elems with a freer (NULL: none) */
void amrt__free_value(AmrtFreer *fr, const Ctx *c, const AmrtType *t, void *v);
void amrt__free_elems_with(AmrtFreer *fr, const Ctx *c, const AmrtType *et, unsigned char *b, size_t n);

/* Move the [out] values of method m, at args (args[i] -> the value of
 * parameter i, on the callee's side), to the caller's pointers (caller[i]
 * -> the caller's pointer argument i; NULL: not wanted), as Finish_ does:
 * what they own now belongs to the caller (zeroed on our side, so that
 * freeing args afterwards frees only what was not delivered); the
 * caller's old [in, out] data is freed first, with the caller's own counts.
 * counts gives a top-level array's element counts: the caller's ('total',
 * what its buffer holds) and what args' buffer was allocated with ('have'). */
void amrt__deliver(const AmrtMethod *m, void *const *args, void *const *caller,
                   void (*counts)(void *slot, size_t *total, size_t *have));

#endif
