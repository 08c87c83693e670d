/*
 * glue.c - lowering of the call-object glue: what FILE_async.c passes and
 * how, decided in the semantic pass (sema_check runs it), as widl checks
 * its stubs' arguments in its front end.
 *
 * For every [async_uuid] interface of the main file, each method of the
 * vtable gets a GlueMethod: its parameters' directions and a GlueType per
 * parameter (the runtime's AmrtType, with the sizes and offsets left for
 * the C compiler as GlueWords), the Begin_/Finish_ twins, whether it
 * returns HRESULT, its slot. Correlation expressions (size_is, length_is,
 * first_is, last_is, max_is, switch_is) are compiled to the runtime's
 * AMRT_X_* programs here.
 *
 * A parameter the interpreter cannot copy correctly (handle_t, context
 * handles, void pointers without iid_is, unions without switch_is, size
 * expressions it cannot evaluate, ...) is an error naming interface,
 * method and parameter: never glue that silently mishandles it. So
 * `amidl --check`, the fuzzer and a build report the same diagnostics.
 */
#include "amidl.h"

#include <string.h>
#include <uthash.h>

typedef struct Cached { Type *t; GlueType *gt; UT_hash_handle hh; } Cached;

typedef struct Lower {
    Compiler *cc;
    Cached *cache;          /* one description per structure type (by Type *) */
    bool failed;
    bool quiet;             /* probing an imported interface: fail() records, reports nothing */
    const char *why;        /* ... the first failure it recorded */
} Lower;

/* Where the names of a correlation expression live: the parameters of a
 * method, or the members of the structure holding the attribute. */
typedef struct DScope {
    Var *m;                 /* the method */
    Type *st;               /* the structure (NULL: the method's parameters) */
    Type *holder;           /* the named type holding it, for offsetof() */
    unsigned holder_q;
    const char *path;       /* "" or, for an anonymous structure or union, its member path in holder */
} DScope;

typedef struct Where {      /* what a failure names */
    Type *iface;
    Var *m, *p;
    Var *member;            /* inside a structure or union: the member */
    Type *of;               /* ... and the type holding it */
} Where;

static Type *strip(Type *t)
{
    return type_strip_alias(t);
}

static GlueWord w_int(long long n)
{
    return (GlueWord){ .kind = GW_INT, .n = n };
}

static GlueWord w_op(const char *op)
{
    return (GlueWord){ .kind = GW_OP, .op = op };
}

static GlueWord w_sizeof(Type *t, unsigned q)
{
    return (GlueWord){ .kind = GW_SIZEOF, .t = t, .q = q & ~Q_CONST, .path = "" };
}

static GlueWord w_scope_sizeof(const DScope *sc)
{
    return (GlueWord){ .kind = GW_SIZEOF, .t = sc->holder, .q = sc->holder_q, .path = sc->path };
}

static GlueWord w_offset(const DScope *sc, const char *member)
{
    return (GlueWord){ .kind = GW_OFFSET, .t = sc->holder, .q = sc->holder_q, .path = sc->path, .member = member };
}

static void put(Lower *L, GlueProg *p, GlueWord w)
{
    if (p->n == p->cap) {
        int cap = p->cap ? 2 * p->cap : 16;
        GlueWord *nw = arena_alloc(L->cc->arena, sizeof *nw * (size_t)cap);
        if (p->n)
            memcpy(nw, p->w, sizeof *nw * (size_t)p->n);
        p->w = nw;
        p->cap = cap;
    }
    p->w[p->n++] = w;
}

static GlueType *new_gt(Lower *L, GlueKind k, bool plain)
{
    GlueType *g = arena_alloc(L->cc->arena, sizeof *g);
    g->kind = k;
    g->plain = plain;
    g->iid_param = -1;
    g->size = w_int(0);
    return g;
}

static GlueType *sized(Lower *L, GlueKind k, bool plain, GlueWord size)
{
    GlueType *g = new_gt(L, k, plain);
    g->size = size;
    return g;
}

static void push_member(Lower *L, GlueType *g, GlueMember m)
{
    GlueMember *nm = arena_alloc(L->cc->arena, sizeof *nm * (size_t)(g->nmembers + 1));
    if (g->nmembers)
        memcpy(nm, g->members, sizeof *nm * (size_t)g->nmembers);
    nm[g->nmembers++] = m;
    g->members = nm;
}

/* Where the type t of declaration d is spelled for sizeof/offsetof: a
 * named type is itself; an anonymous structure or union member (the C
 * header gives it no tag) is reached through the structure holding it. */
static DScope type_scope(Lower *L, Var *m, DScope *outer, Var *d, Type *t, unsigned q, int level)
{
    Type *s = strip(t);
    if (t->kind != TY_ALIAS && s && !s->name && outer && outer->st && d && d->name && level == 0)
        return (DScope){ m, s, outer->holder, outer->holder_q,
                         *outer->path ? arena_printf(L->cc->arena, "%s.%s", outer->path, d->name) : d->name };
    return (DScope){ m, s, t, q & ~Q_CONST, "" };
}

static void fail(Lower *L, const Where *w, const char *why)
{
    Var *p = w->p;
    const char *in = w->member ? arena_printf(L->cc->arena, " (member '%s' of '%s')",
                                              w->member->name ? w->member->name : "?",
                                              w->of && w->of->name ? w->of->name : "?") : "";
    if (L->quiet) {
        if (!L->why)
            L->why = arena_printf(L->cc->arena, "%s%s%s of %s::%s: %s%s", p ? "parameter '" : "the method",
                                  p ? (p->name ? p->name : "?") : "", p ? "'" : "", w->iface->name, w->m->name, why, in);
        L->failed = true;
        return;
    }
    error_at(L->cc, p ? p->loc : w->m->loc, "the call-object glue cannot pass %s%s%s of %s::%s: %s%s",
             p ? "parameter '" : "the method", p ? (p->name ? p->name : "?") : "", p ? "'" : "",
             w->iface->name, w->m->name, why, in);
    L->failed = true;
}

/* ---- correlation expressions (amidlrt.h, AMRT_X_*) ---- */

static bool int_type(Type *t)
{
    t = strip(t);
    return t && (t->kind == TY_ENUM || (t->kind == TY_BASIC && t->basic != B_FLOAT && t->basic != B_DOUBLE &&
                                        t->basic != B_HANDLE && t->basic != B_INT128));
}

static int is_signed(Type *t)
{
    t = strip(t);
    if (!t || t->kind == TY_ENUM)
        return 1;
    if (t->kind != TY_BASIC || t->sign < 0)
        return 0;
    return !(t->basic == B_BYTE || t->basic == B_BOOLEAN || t->basic == B_WCHAR ||
             (t->basic == B_CHAR && t->sign == 0));
}

/* "size, sign" operands of a load of type t (size 0: a pointer) */
static bool load_operands(Lower *L, GlueProg *x, Type *t, unsigned q)
{
    Type *s = strip(t);
    if (s && s->kind == TY_POINTER) {
        put(L, x, w_int(0));
        put(L, x, w_int(0));
        return true;
    }
    if (!int_type(t))
        return false;
    put(L, x, w_sizeof(t, q));
    put(L, x, w_int(is_signed(t)));
    return true;
}

static Var *scope_lookup(DScope *sc, const char *name, int *index)
{
    Var **v = sc->st ? sc->st->fields : sc->m->type->fields;
    int n = sc->st ? sc->st->nfields : sc->m->type->nfields;
    for (int i = 0; i < n; i++)
        if (v[i]->name && !strcmp(v[i]->name, name)) {
            *index = i;
            return v[i];
        }
    return NULL;
}

static bool fits_int(long long v)
{
    return v >= -2147483647LL - 1 && v <= 2147483647LL;
}

/* Append the program of x to ops; *type gets the expression's type when it
 * is a name or a dereference (NULL: an integer). */
static bool compile_x(Lower *L, DScope *sc, Expr *x, GlueProg *ops, Type **type, unsigned *qual, int depth)
{
    *type = NULL;
    *qual = 0;
    if (!x || depth > 12)
        return false;
    Type *ta, *tb, *tc;
    unsigned qa, qb, qc;
    switch (x->kind) {
    case EX_NUM: case EX_TRUE: case EX_FALSE: case EX_NULL: {
        long long v = x->kind == EX_NUM ? x->val : x->kind == EX_TRUE;
        if (!fits_int(v))
            return false;
        put(L, ops, w_op("CONST"));
        put(L, ops, w_int(v));
        return true;
    }
    case EX_SIZEOF:
        if (!x->type)
            return false;
        put(L, ops, w_op("CONST"));
        put(L, ops, w_sizeof(x->type, 0));
        return true;
    case EX_IDENT: {
        int i;
        Var *v = scope_lookup(sc, x->text, &i);
        if (v) {
            if (!v->type)
                return false;
            if (sc->st) {
                if (!v->name)
                    return false;
                put(L, ops, w_op("FIELD"));
                put(L, ops, w_offset(sc, v->name));
            } else {
                put(L, ops, w_op("PARAM"));
                put(L, ops, w_int(i));
            }
            *type = v->type;
            *qual = v->qual;
            return load_operands(L, ops, v->type, v->qual);
        }
        if (x->ref && x->ref->has_value && fits_int(x->ref->value)) {
            put(L, ops, w_op("CONST"));
            put(L, ops, w_int(x->ref->value));
            return true;
        }
        return false;
    }
    case EX_CAST:
        if (!x->type || !compile_x(L, sc, x->a, ops, &ta, &qa, depth + 1))
            return false;
        if (strip(x->type) && strip(x->type)->kind == TY_POINTER) {
            *type = x->type;
            return ta != NULL;      /* a pointer cast of a pointer */
        }
        if (!int_type(x->type))
            return false;
        put(L, ops, w_op("CAST"));
        put(L, ops, w_sizeof(x->type, 0));
        put(L, ops, w_int(is_signed(x->type)));
        return true;
    case EX_UNARY:
        if (!compile_x(L, sc, x->a, ops, &ta, &qa, depth + 1))
            return false;
        switch (x->op) {
        case OP_DEREF: {
            Type *s = strip(ta);
            if (!s || s->kind != TY_POINTER)
                return false;
            put(L, ops, w_op("DEREF"));
            if (!load_operands(L, ops, s->ref, s->ref_qual))
                return false;
            *type = s->ref;
            *qual = s->ref_qual;
            return true;
        }
        case OP_NEG: put(L, ops, w_op("NEG")); return true;
        case OP_POS: return true;
        case OP_BITNOT: put(L, ops, w_op("BITNOT")); return true;
        case OP_NOT: put(L, ops, w_op("NOT")); return true;
        default: return false;
        }
    case EX_BINARY: {
        static const struct { int op; const char *code; } ops_tab[] = {
            { '+', "ADD" }, { '-', "SUB" }, { '*', "MUL" }, { '/', "DIV" }, { '%', "MOD" }, { OP_SHL, "SHL" },
            { OP_SHR, "SHR" }, { '&', "AND" }, { '|', "OR" }, { '^', "XOR" }, { OP_ANDAND, "ANDAND" },
            { OP_OROR, "OROR" }, { OP_EQ, "EQ" }, { OP_NE, "NE" }, { '<', "LT" }, { '>', "GT" }, { OP_LE, "LE" },
            { OP_GE, "GE" },
        };
        const char *code = NULL;
        for (size_t k = 0; k < sizeof ops_tab / sizeof ops_tab[0]; k++)
            if (ops_tab[k].op == x->op)
                code = ops_tab[k].code;
        if (!code || !compile_x(L, sc, x->a, ops, &ta, &qa, depth + 1) ||
            !compile_x(L, sc, x->b, ops, &tb, &qb, depth + 1))
            return false;
        if ((ta && !int_type(ta)) || (tb && !int_type(tb)))
            return false;           /* no pointer arithmetic */
        put(L, ops, w_op(code));
        return true;
    }
    case EX_TERNARY:
        if (!compile_x(L, sc, x->a, ops, &ta, &qa, depth + 1) || !compile_x(L, sc, x->b, ops, &tb, &qb, depth + 1) ||
            !compile_x(L, sc, x->c, ops, &tc, &qc, depth + 1) || (tb && !int_type(tb)) || (tc && !int_type(tc)))
            return false;
        put(L, ops, w_op("COND"));
        return true;
    default:
        return false;
    }
}

/* The stack the runtime's evaluator needs for x, and the number of nodes;
 * huge or deep expressions are refused here rather than failing at run
 * time (the evaluator also stops after AMRT_X_STEPS_MAX steps, which a
 * program of AMRT_X_MAX_TERMS terms never reaches). */
static int x_stack(Expr *x, int *nodes)
{
    if (!x || ++*nodes > AMRT_X_MAX_TERMS)
        return 99;
    int a, b, c;
    switch (x->kind) {
    case EX_CAST: case EX_UNARY:
        return x_stack(x->a, nodes);
    case EX_BINARY:
        a = x_stack(x->a, nodes);
        b = x_stack(x->b, nodes) + 1;
        return a > b ? a : b;
    case EX_TERNARY:
        a = x_stack(x->a, nodes);
        b = x_stack(x->b, nodes) + 1;
        c = x_stack(x->c, nodes) + 2;
        return a > b ? (a > c ? a : c) : (b > c ? b : c);
    default:
        return 1;
    }
}

static bool x_fits(Expr *x, int extra)
{
    int nodes = 0;
    return x_stack(x, &nodes) + extra <= AMRT_X_STACK_MAX && nodes <= AMRT_X_MAX_TERMS;
}

/* The program computing x (+ add, when add != 0), or NULL. */
static GlueProg *expr_prog(Lower *L, DScope *sc, Expr *x, int add)
{
    GlueProg *p = arena_alloc(L->cc->arena, sizeof *p);
    Type *t;
    unsigned q;
    if (!x_fits(x, 1) || !compile_x(L, sc, x, p, &t, &q, 0) || (t && !int_type(t)))
        return NULL;
    if (add) {
        put(L, p, w_op("CONST"));
        put(L, p, w_int(add));
        put(L, p, w_op("ADD"));
    }
    return p;
}

/* last_is - first_is + 1 (first may be NULL: 0) */
static GlueProg *last_prog(Lower *L, DScope *sc, Expr *last, Expr *first)
{
    GlueProg *p = arena_alloc(L->cc->arena, sizeof *p);
    Type *t;
    unsigned q;
    if (!x_fits(last, 1) || !compile_x(L, sc, last, p, &t, &q, 0) || (t && !int_type(t)))
        return NULL;
    if (first) {
        if (!x_fits(first, 1) || !compile_x(L, sc, first, p, &t, &q, 0) || (t && !int_type(t)))
            return NULL;
        put(L, p, w_op("SUB"));
    }
    put(L, p, w_op("CONST"));
    put(L, p, w_int(1));
    put(L, p, w_op("ADD"));
    return p;
}

/* The level-th argument of a correlation attribute (size_is(a, b): a is
 * level 0), NULL when absent or empty. */
static Expr *attr_arg(Attr *a, int level)
{
    if (!a || level >= a->nargs || !a->args[level] || a->args[level]->kind == EX_EMPTY)
        return NULL;
    return a->args[level];
}

/* ---- type descriptions ---- */

static bool alias_named(Type *t, const char *name)
{
    for (; t && t->kind == TY_ALIAS; t = t->ref)
        if (t->name && !strcmp(t->name, name))
            return true;
    return false;
}

static bool alias_attr(Type *t, AttrKind k)
{
    for (; t && t->kind == TY_ALIAS; t = t->ref)
        if (attr_has(t->attrs, k))
            return true;
    return false;
}

static GlueType *describe(Lower *L, const Where *w, DScope *sc, Var *d, Type *t, unsigned q, int level, int depth);

/* A Windows handle: HANDLE, or a void * typedef with [wire_marshal] or
 * [user_marshal] (DECLARE_WIREM_HANDLE: HWND, HGLOBAL, HBITMAP, ...). Its
 * value is what the callee needs in-process: it is passed by value. */
static bool opaque_handle(Type *t)
{
    for (; t && t->kind == TY_ALIAS; t = t->ref) {
        if (t->name && !strcmp(t->name, "HANDLE"))
            return true;
        Type *r = strip(t->ref);
        if ((attr_has(t->attrs, A_WIRE_MARSHAL) || attr_has(t->attrs, A_USER_MARSHAL)) && r &&
            r->kind == TY_POINTER && strip(r->ref) && strip(r->ref)->kind == TY_VOID)
            return true;
    }
    return false;
}

/* HANDLE (or a typedef of it): a file descriptor in this runtime, which
 * crosses processes as a duplicate (RULES.md J16) and is duplicated when a
 * call object copies it; other handles are plain values. */
static bool fd_handle(Type *t)
{
    for (; t && t->kind == TY_ALIAS; t = t->ref)
        if (t->name && !strcmp(t->name, "HANDLE"))
            return true;
    return false;
}

/* Automation's VARIANT (VARIANTARG, struct tagVARIANT), as oaidl.idl
 * declares it: the runtime passes it by its vt (AMRT_K_VARIANT). */
static bool variant_type(Type *t)
{
    Type *s = strip(t);
    return alias_named(t, "VARIANT") || (s && s->kind == TY_STRUCT && s->name && !strcmp(s->name, "tagVARIANT"));
}

/* a SAFEARRAY * (SAFEARRAY(T), LPSAFEARRAY): AMRT_K_SAFEARRAY */
static bool safearray_type(Type *t)
{
    Type *s = strip(t);
    if (!s || s->kind != TY_POINTER || !s->ref)
        return false;
    Type *r = strip(s->ref);
    return alias_named(s->ref, "SAFEARRAY") || (r && r->kind == TY_STRUCT && r->name && !strcmp(r->name, "tagSAFEARRAY"));
}

/* The VARTYPE (wtypes.idl's numbers) of the elements of SAFEARRAY(T) as
 * the runtime checks them (AMRT_K_SAFEARRAY's size): VT_BSTR, VT_VARIANT,
 * VT_UNKNOWN, VT_DISPATCH, or a scalar of T's size (the runtime takes any
 * scalar of that size for it); 0 when T says nothing (LPSAFEARRAY) or is
 * none of these. */
static int safearray_vt(Type *t)
{
    enum { VT_I2 = 2, VT_I4 = 3, VT_R4 = 4, VT_R8 = 5, VT_DISPATCH = 9, VT_UNKNOWN = 13, VT_VARIANT = 12,
           VT_BSTR = 8, VT_UI1 = 17, VT_I8 = 20 };
    Type *s = strip(t);
    Type *e = s && s->kind == TY_POINTER ? TX(s)->generic : NULL;
    if (!e)
        return 0;
    if (alias_named(e, "BSTR"))
        return VT_BSTR;
    if (variant_type(e))
        return VT_VARIANT;
    Type *es = strip(e);
    if (!es)
        return 0;
    if (es->kind == TY_POINTER) {
        Type *r = strip(es->ref);
        if (r && (r->kind == TY_INTERFACE || r->kind == TY_DISPINTERFACE))
            return r->name && !strcmp(r->name, "IDispatch") ? VT_DISPATCH : VT_UNKNOWN;
        return 0;
    }
    if (es->kind == TY_ENUM)
        return VT_I4;
    if (es->kind != TY_BASIC)
        return 0;
    switch (es->basic) {
    case B_CHAR: case B_SMALL: case B_BYTE: case B_BOOLEAN: case B_INT8: return VT_UI1;
    case B_SHORT: case B_INT16: case B_WCHAR: return VT_I2;
    case B_INT: case B_LONG: case B_INT32: return VT_I4;
    case B_FLOAT: return VT_R4;
    case B_HYPER: case B_INT64: return VT_I8;
    case B_DOUBLE: return VT_R8;
    default: return 0;
    }
}

/* Values that are plain bytes: no pointer (or descriptor) anywhere inside. */
static bool plain_type(Type *t, int depth)
{
    Type *s = strip(t);
    if (fd_handle(t))
        return false;
    if (opaque_handle(t))
        return true;
    if (!s || depth > 24 || alias_named(t, "BSTR") || alias_attr(t, A_CONTEXT_HANDLE))
        return false;
    switch (s->kind) {
    case TY_BASIC:
        return s->basic != B_HANDLE;
    case TY_ENUM:
        return true;
    case TY_STRUCT: case TY_UNION: case TY_ENCUNION:
        if (!s->defined)
            return false;
        for (int i = 0; i < s->nfields; i++) {
            Type *ft = s->fields[i]->type;
            if (ft && ft->kind != TY_BITFIELD && !plain_type(ft, depth + 1))
                return false;
        }
        return true;
    case TY_ARRAY:
        return !s->conformant && TX(s)->size && plain_type(s->ref, depth + 1);
    default:
        return false;
    }
}

static GlueType *cached(Lower *L, Type *t)
{
    Cached *c;
    HASH_FIND_PTR(L->cache, &t, c);
    return c ? c->gt : NULL;
}

/* record (or update) the description of structure type t */
static void cache(Lower *L, Type *t, GlueType *gt)
{
    Cached *c;
    HASH_FIND_PTR(L->cache, &t, c);
    if (!c) {
        c = arena_alloc(L->cc->arena, sizeof *c);
        c->t = t;
        HASH_ADD_PTR(L->cache, t, c);
    }
    c->gt = gt;
}

/* The case values of a union arm ([case(...)] or "case ...:") and whether
 * it is the default arm. */
static int arm_cases(Var *f, Expr ***cases, bool *is_default)
{
    Attr *a = attr_find(f->attrs, A_CASE);
    *is_default = VX(f)->is_default_case || attr_has(f->attrs, A_DEFAULT);
    if (VX(f)->ncases) {
        *cases = VX(f)->case_exprs;
        return VX(f)->ncases;
    }
    *cases = a ? a->args : NULL;
    return a ? a->nargs : 0;
}

/* The arm rows of union type s (members described in scope sc) into u;
 * true when an arm holds pointers. */
static bool describe_arms(Lower *L, const Where *w, DScope *sc, Type *s, GlueType *u, int depth)
{
    bool any = false;
    for (int i = 0; i < s->nfields && !L->failed; i++) {
        Var *f = s->fields[i];
        Where mw = { w->iface, w->m, w->p, f, s };
        GlueType *a = f->type && !plain_type(f->type, 0) ? describe(L, &mw, sc, f, f->type, f->qual, 0, depth + 1) : NULL;
        if (L->failed)
            break;
        if (a && a->plain)
            a = NULL;
        any |= a != NULL;
        Expr **cases;
        bool def;
        int n = arm_cases(f, &cases, &def);
        for (int k = 0; k < n; k++)
            push_member(L, u, (GlueMember){ .value = cases[k], .type = a });
        if (def || !n)
            push_member(L, u, (GlueMember){ .is_default = def, .type = a });
    }
    return any;
}

/* A structure (or an encapsulated union, which is a structure holding
 * its discriminant and the union): plain bytes, or a CSTRUCT listing the
 * members that hold pointers. Described once per type; a structure that
 * reaches itself through a pointer refers to the description being made. */
static GlueType *describe_struct(Lower *L, const Where *w, DScope *outer, Var *d, Type *t, unsigned q, int level,
                                 int depth)
{
    Type *s = strip(t);
    DScope sc = type_scope(L, w->m, outer, d, t, q, level);
    GlueType *c = cached(L, s);
    if (c)
        return c;
    if (!s->defined) {
        fail(L, w, arena_printf(L->cc->arena, "the structure '%s' is not defined", s->name ? s->name : "?"));
        return NULL;
    }
    if (plain_type(s, 0)) {
        GlueType *r = sized(L, GK_STRUCT, true, w_scope_sizeof(&sc));
        cache(L, s, r);
        return r;
    }
    GlueType *r = sized(L, GK_CSTRUCT, false, w_scope_sizeof(&sc));
    cache(L, s, r);                 /* while its members are described: a pointer back is not plain */
    if (s->kind == TY_ENCUNION) {
        Var *sv = TX(s)->switch_var;
        const char *un = TX(s)->union_name ? TX(s)->union_name : "tagged_union";
        DScope us = { w->m, s, sc.holder, sc.holder_q,
                      *sc.path ? arena_printf(L->cc->arena, "%s.%s", sc.path, un) : un };
        GlueType *u = sized(L, GK_UNION, false, w_scope_sizeof(&us));
        bool any = describe_arms(L, w, &sc, s, u, depth);
        if (!L->failed && any) {
            if (!sv || !sv->name || !int_type(sv->type)) {
                fail(L, w, "the union's discriminant must be a named integer");
                cache(L, s, NULL);
                return NULL;
            }
            u->size_x = arena_alloc(L->cc->arena, sizeof *u->size_x);
            put(L, u->size_x, w_op("FIELD"));
            put(L, u->size_x, w_offset(&sc, sv->name));
            put(L, u->size_x, w_sizeof(sv->type, sv->qual));
            put(L, u->size_x, w_int(is_signed(sv->type)));
            push_member(L, r, (GlueMember){ .offset = w_offset(&sc, un), .type = u });
        }
    } else {
        for (int i = 0; i < s->nfields && !L->failed; i++) {
            Var *f = s->fields[i];
            Type *ft = f->type;
            if (!ft || ft->kind == TY_BITFIELD)
                continue;
            Type *fs = strip(ft);
            Where mw = { w->iface, w->m, w->p, f, s };
            if (fs && fs->kind == TY_ARRAY && fs->conformant) {
                /* a conformant structure: its last member is an array of run-time size */
                Expr *size = attr_arg(attr_find(f->attrs, A_SIZE_IS), 0);
                Expr *max = attr_arg(attr_find(f->attrs, A_MAX_IS), 0);
                if (i + 1 != s->nfields || !f->name || (!size && !max)) {
                    fail(L, &mw, "an array of run-time size must be the last member and have size_is() or max_is()");
                    break;
                }
                r->kind = GK_CONFSTRUCT;
                r->size = w_offset(&sc, f->name);
                r->size_x = size ? expr_prog(L, &sc, size, 0) : expr_prog(L, &sc, max, 1);
                if (!r->size_x) {
                    fail(L, &mw, "the size_is() expression must be made of integer members, constants and C operators");
                    break;
                }
                r->ref = plain_type(fs->ref, 0) ? sized(L, GK_SCALAR, true, w_sizeof(fs->ref, fs->ref_qual))
                                                : describe(L, &mw, &sc, f, fs->ref, fs->ref_qual, 1, depth + 1);
                continue;
            }
            if (plain_type(ft, 0))
                continue;
            GlueType *m = describe(L, &mw, &sc, f, ft, f->qual, 0, depth + 1);
            if (L->failed)
                break;
            if (!f->name) {
                fail(L, &mw, "an unnamed member holds pointers");
                break;
            }
            push_member(L, r, (GlueMember){ .offset = w_offset(&sc, f->name), .type = m });
        }
    }
    if (L->failed) {
        cache(L, s, NULL);          /* another method using it gets its own error */
        return NULL;
    }
    if (r->kind == GK_CSTRUCT && !r->nmembers) {
        /* plain after all: describe it as bytes */
        r->kind = GK_STRUCT;
        r->plain = true;
    }
    return r;
}

/* A non-encapsulated union: switch_is() on the declaration picks the arm. */
static GlueType *describe_union(Lower *L, const Where *w, DScope *sc, Var *d, Type *t, unsigned q, int level,
                                int depth)
{
    Type *s = strip(t);
    DScope us = type_scope(L, w->m, sc, d, t, q, level);
    GlueType *u = sized(L, GK_UNION, false, w_scope_sizeof(&us));
    u->switch_first = true;
    bool any = describe_arms(L, w, &us, s, u, depth);
    if (L->failed)
        return NULL;
    if (!any)
        return sized(L, GK_STRUCT, true, w_scope_sizeof(&us));
    for (int i = 0; i < s->nfields; i++) {
        Expr **cases;
        bool def;
        if (!arm_cases(s->fields[i], &cases, &def) && !def) {
            fail(L, w, "a union holding pointers needs a case() on every arm");
            return NULL;
        }
    }
    Attr *sw = attr_find(d->attrs, A_SWITCH_IS);
    u->size_x = sw && sw->nargs == 1 ? expr_prog(L, sc, sw->args[0], 0) : NULL;
    if (!u->size_x) {
        fail(L, w, sw ? "the switch_is() expression must be an integer expression of parameters (members, inside a structure), constants and C operators, of at most 100 terms"
                      : "a union holding pointers needs switch_is() to say which arm is passed");
        return NULL;
    }
    return u;
}

/* An array at this level of declaration d: size_is/max_is give its count
 * (or the fixed size of an array type), first_is/length_is/last_is the
 * part passed. */
static GlueType *describe_array(Lower *L, const Where *w, DScope *sc, Var *d, Type *t, int level, int depth,
                                bool unique)
{
    Type *s = strip(t);
    Expr *size = attr_arg(attr_find(d->attrs, A_SIZE_IS), level);
    Expr *max = attr_arg(attr_find(d->attrs, A_MAX_IS), level);
    Expr *len = attr_arg(attr_find(d->attrs, A_LENGTH_IS), level);
    Expr *first = attr_arg(attr_find(d->attrs, A_FIRST_IS), level);
    Expr *last = attr_arg(attr_find(d->attrs, A_LAST_IS), level);
    GlueType *a = new_gt(L, GK_ARRAY, false);
    a->unique = unique;
    if (size || max) {
        a->size_x = size ? expr_prog(L, sc, size, 0) : expr_prog(L, sc, max, 1);
        if (!a->size_x) {
            fail(L, w, size ? "the size_is() expression must be an integer expression of parameters (members, inside a structure), constants and C operators, of at most 100 terms"
                            : "the max_is() expression must be an integer expression of parameters (members, inside a structure), constants and C operators, of at most 100 terms");
            return NULL;
        }
    } else if (s->kind == TY_ARRAY && TX(s)->size && !s->conformant) {
        a->size = (GlueWord){ .kind = GW_COUNT, .x = TX(s)->size };
    } else {
        fail(L, w, "the array has no size (size_is or max_is)");
        return NULL;
    }
    if (first && !(a->first_x = expr_prog(L, sc, first, 0))) {
        fail(L, w, "the first_is() expression must be an integer expression of parameters (members, inside a structure), constants and C operators, of at most 100 terms");
        return NULL;
    }
    if (len)
        a->length_x = expr_prog(L, sc, len, 0);
    else if (last)
        a->length_x = last_prog(L, sc, last, first);
    if ((len || last) && !a->length_x) {
        fail(L, w, len ? "the length_is() expression must be an integer expression of parameters (members, inside a structure), constants and C operators, of at most 100 terms"
                       : "the last_is() expression must be an integer expression of parameters (members, inside a structure), constants and C operators, of at most 100 terms");
        return NULL;
    }
    a->ref = describe(L, w, sc, d, s->ref, s->ref_qual, level + 1, depth + 1);
    return a->ref ? a : NULL;
}

static bool has_size_attr(Var *d, int level)
{
    static const AttrKind k[] = { A_SIZE_IS, A_MAX_IS, A_LENGTH_IS, A_FIRST_IS, A_LAST_IS };
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
        if (attr_arg(attr_find(d->attrs, k[i]), level))
            return true;
    return false;
}

static bool conformant_struct(Type *t)
{
    Type *s = strip(t);
    if (!s || s->kind != TY_STRUCT || !s->nfields)
        return false;
    Type *last = strip(s->fields[s->nfields - 1]->type);
    return last && last->kind == TY_ARRAY && last->conformant;
}

/* The description of a value of type t at pointer level 'level' of the
 * declaration d (a parameter or a member, which carries the attributes). */
static GlueType *describe(Lower *L, const Where *w, DScope *sc, Var *d, Type *t, unsigned q, int level, int depth)
{
    Type *s = strip(t);
    if (!s || depth > 24) {
        fail(L, w, "the type is nested too deeply");
        return NULL;
    }
    bool top = !sc->st && level == 0;       /* the parameter's own pointer: [ref] unless marked */
    bool unique = !top || attr_has(d->attrs, A_UNIQUE) || attr_has(d->attrs, A_PTR);
    if (alias_attr(t, A_CONTEXT_HANDLE) || (level == 0 && attr_has(d->attrs, A_CONTEXT_HANDLE))) {
        fail(L, w, "a context handle belongs to an RPC binding; there is none in-process");
        return NULL;
    }
    if (alias_named(t, "BSTR")) {
        GlueType *b = new_gt(L, GK_BSTR, false);     /* NULL is the empty BSTR */
        b->unique = true;
        return b;
    }
    if (variant_type(t))            /* Automation's VARIANT: the runtime knows its kinds by vt */
        return sized(L, GK_VARIANT, false, w_sizeof(t, q));
    if (safearray_type(t)) {        /* SAFEARRAY(T), LPSAFEARRAY: the array says its vt */
        GlueType *g = sized(L, GK_SAFEARRAY, false, w_int(safearray_vt(t)));
        g->unique = true;
        return g;
    }
    if (fd_handle(t))
        return sized(L, GK_HANDLE, false, w_sizeof(t, q));
    if (opaque_handle(t))
        return sized(L, GK_SCALAR, true, w_sizeof(t, q));
    if ((s->kind == TY_POINTER || s->kind == TY_ARRAY) && has_size_attr(d, level))
        return describe_array(L, w, sc, d, t, level, depth, unique);
    switch (s->kind) {
    case TY_BASIC:
        if (s->basic == B_HANDLE) {
            fail(L, w, "handle_t binds an RPC call; there is none in-process");
            return NULL;
        }
        return sized(L, GK_SCALAR, true, w_sizeof(t, q));
    case TY_ENUM:
        return sized(L, GK_SCALAR, true, w_sizeof(t, q));
    case TY_STRUCT: case TY_ENCUNION:
        if (conformant_struct(s)) {     /* a pointer to one describes it itself (TY_POINTER) */
            fail(L, w, "a conformant structure (an array of run-time size at the end) is passed only through a pointer");
            return NULL;
        }
        return describe_struct(L, w, sc, d, t, q, level, depth);
    case TY_UNION:
        return describe_union(L, w, sc, d, t, q, level, depth);
    case TY_POINTER: {
        Type *r = strip(s->ref);
        if (r && (r->kind == TY_INTERFACE || r->kind == TY_DISPINTERFACE || r->kind == TY_VOID) &&
            attr_has(d->attrs, A_IID_IS)) {
            Attr *iid = attr_find(d->attrs, A_IID_IS);
            int ip = -1;
            Expr *x = iid->nargs == 1 ? iid->args[0] : NULL;
            if (sc->st || !x || x->kind != EX_IDENT || !scope_lookup(sc, x->text, &ip)) {
                fail(L, w, "iid_is() must name a parameter");
                return NULL;
            }
            GlueType *g = new_gt(L, GK_INTERFACE, false);
            g->unique = true;
            g->iid_param = ip;
            g->iid = "IUnknown";
            return g;
        }
        if (r && (r->kind == TY_INTERFACE || r->kind == TY_DISPINTERFACE)) {
            GlueType *g = new_gt(L, GK_INTERFACE, false);
            g->unique = true;
            g->iid = r->name ? r->name : "IUnknown";
            return g;
        }
        if (r && r->kind == TY_BASIC && (r->basic == B_CHAR || r->basic == B_WCHAR ||
                                         (r->basic == B_SHORT && r->sign < 0)) &&
            (alias_attr(t, A_STRING) || attr_has(d->attrs, A_STRING))) {
            GlueType *g = new_gt(L, r->basic == B_CHAR ? GK_STRING : GK_WSTRING, false);
            g->unique = unique;
            return g;
        }
        if (r && r->kind == TY_VOID) {
            fail(L, w, "a void pointer without iid_is() has no size to copy");
            return NULL;
        }
        if (r && r->kind == TY_FUNCTION) {
            fail(L, w, "a function pointer cannot be passed");
            return NULL;
        }
        if (conformant_struct(r) && top && attr_has(d->attrs, A_OUT)) {
            fail(L, w, "an [out] conformant structure has no size the caller's storage can be known by");
            return NULL;
        }
        GlueType *e = conformant_struct(r) ? describe_struct(L, w, sc, d, s->ref, s->ref_qual, level + 1, depth + 1)
                                           : describe(L, w, sc, d, s->ref, s->ref_qual, level + 1, depth + 1);
        if (!e)
            return NULL;
        GlueType *g = new_gt(L, GK_POINTER, false);
        g->unique = unique;
        g->ref = e;
        return g;
    }
    case TY_ARRAY: {
        if (s->conformant || !TX(s)->size) {
            fail(L, w, "the array has no size (size_is or max_is)");
            return NULL;
        }
        if (!sc->st && level == 0)      /* a parameter array is a pointer to its elements */
            return describe_array(L, w, sc, d, t, level, depth, unique);
        if (plain_type(s, 0))
            return sized(L, GK_STRUCT, true, w_sizeof(t, q));
        GlueType *e = describe(L, w, sc, d, s->ref, s->ref_qual, level, depth + 1);
        if (!e)
            return NULL;
        GlueType *g = sized(L, GK_FIXED_ARRAY, false, (GlueWord){ .kind = GW_COUNT, .x = TX(s)->size });
        g->ref = e;
        return g;
    }
    case TY_INTERFACE: case TY_DISPINTERFACE:
        fail(L, w, "an interface must be passed by pointer");
        return NULL;
    case TY_FUNCTION:
        fail(L, w, "a function cannot be passed");
        return NULL;
    default:
        fail(L, w, "values of this kind cannot be copied by the glue");
        return NULL;
    }
}

/* The description of parameter p of method m. */
static GlueType *describe_param(Lower *L, Type *iface, Var *m, Var *p)
{
    Where w = { iface, m, p, NULL, NULL };
    DScope sc = { m, NULL, NULL, 0, "" };
    if (attr_has(p->attrs, A_IID_IS)) {
        /* [in, iid_is(riid)] IUnknown *p, or [out, iid_is(riid)] void **ppv */
        Type *t = strip(p->type);
        Type *r = t && t->kind == TY_POINTER ? strip(t->ref) : NULL;
        if (!r || (r->kind != TY_POINTER && r->kind != TY_INTERFACE && r->kind != TY_VOID)) {
            fail(L, &w, "iid_is() applies to an interface pointer");
            return NULL;
        }
    }
    return describe(L, &w, &sc, p, p->type, p->qual, 0, 0);
}

/* ---- methods and interfaces ---- */

static bool returns_hresult(Var *m)
{
    Type *r = m->type->ref;
    return r && r->kind == TY_ALIAS && r->name && !strcmp(r->name, "HRESULT");
}

/* [call_as] methods are the remote face of a local one: not in the vtable
 * (RULES.md A10), so not among its methods in the glue; they follow them,
 * as what crosses a process for their local method. */
static bool in_vtable(Var *m)
{
    return !attr_has(m->attrs, A_CALL_AS);
}

/* the [local] method of t that [call_as] method r stands for (NULL: none) */
static Var *call_as_target(Type *t, Var *r)
{
    Attr *ca = attr_find(r->attrs, A_CALL_AS);
    if (!ca || ca->nargs != 1 || ca->args[0]->kind != EX_IDENT)
        return NULL;
    for (int k = 0; k < TX(t)->nmethods; k++)
        if (in_vtable(TX(t)->methods[k]) && TX(t)->methods[k]->name && !strcmp(TX(t)->methods[k]->name, ca->args[0]->text))
            return TX(t)->methods[k];
    return NULL;
}

/* directions and (describe_params) descriptions of m's parameters */
static bool lower_method(Lower *L, Type *t, GlueMethod *gm, Var *m, bool describe_params)
{
    gm->m = m;
    gm->is_void = strip(m->type->ref) && strip(m->type->ref)->kind == TY_VOID;
    gm->ret_hresult = returns_hresult(m);
    gm->nparams = m->type->nfields;
    gm->params = arena_alloc(L->cc->arena, sizeof *gm->params * (size_t)(gm->nparams ? gm->nparams : 1));
    L->failed = false;          /* each method is judged on its own */
    for (int i = 0; i < gm->nparams; i++) {
        Var *p = m->type->fields[i];
        GlueParam *gp = &gm->params[i];
        gp->p = p;
        gp->out = attr_has(p->attrs, A_OUT);
        gp->in = attr_has(p->attrs, A_IN) || !gp->out;
        if (describe_params && !L->failed)
            gp->type = describe_param(L, t, m, p);
    }
    return !L->failed;
}

/* An imported async interface is described by the glue of its own file;
 * the runtime's base IDL has none (it is compiled with --no-glue). Can
 * its methods be passed at all? NULL: yes; else why not. (Nothing is
 * kept: the descriptions are made and dropped.) */
static const char *probe_imported(Lower *L, Type *t)
{
    bool failed = L->failed;
    L->quiet = true;
    L->why = NULL;
    for (int depth = 0; t && TX(t)->async_iface && !L->why && depth < 64; t = TX(t)->base, depth++)
        for (int k = 0; k < TX(t)->nmethods && !L->why; k++) {
            Var *m = TX(t)->methods[k];
            if (!in_vtable(m) || !m->type)
                continue;
            for (int i = 0; i < m->type->nfields && !L->why; i++) {
                L->failed = false;
                describe_param(L, t, m, m->type->fields[i]);
            }
        }
    L->quiet = false;
    L->failed = failed;
    return L->why;
}

/* the file of the runtime's base IDL (runtime/idl, compiled --no-glue) that
 * declares t, or NULL */
static const char *base_idl_file(Type *t)
{
    static const char *const files[] = { "wtypesbase.idl", "wtypes.idl", "unknwn.idl", "objidlbase.idl", "objidl.idl",
                                         "oleidl.idl", "oaidl.idl", "servprov.idl", "ocidl.idl", "propidl.idl" };
    const char *f = t->loc.file, *slash = f ? strrchr(f, '/') : NULL;
    const char *b = slash ? slash + 1 : f;
    for (size_t i = 0; b && i < sizeof files / sizeof files[0]; i++)
        if (!strcmp(b, files[i]))
            return files[i];
    return NULL;
}

static bool lower_iface(Lower *L, Type *t, bool describe_params)
{
    if (TX(t)->glue)
        return true;
    for (Type *b = TX(t)->base; describe_params && b && TX(b)->async_iface && b->imported; b = TX(b)->base) {
        const char *file = base_idl_file(b);
        if (!file)
            continue;
        const char *why = probe_imported(L, b);
        error_at(L->cc, t->loc, "the call-object glue cannot derive asynchronous interface '%s' from '%s': "
                 "libamidlrt has no glue of %s's interfaces%s%s; declare '%s' without async_uuid, or derive it from IUnknown",
                 t->name, b->name, file, why ? ", and the glue cannot pass " : "", why ? why : "", t->name);
        return false;
    }
    if (describe_params && TX(t)->base && TX(TX(t)->base)->async_iface && TX(t)->base->imported) {
        const char *why = probe_imported(L, TX(t)->base);
        if (why) {
            error_at(L->cc, t->loc, "the call-object glue cannot derive asynchronous interface '%s' from '%s': "
                     "the glue cannot pass %s; declare '%s' without async_uuid, or derive it from IUnknown",
                     t->name, TX(t)->base->name, why, t->name);
            return false;
        }
    }
    Type *a = TX(t)->async_iface;
    GlueIface *gi = arena_alloc(L->cc->arena, sizeof *gi);
    gi->iface = t;
    gi->async = a;
    gi->base = TX(t)->base && TX(TX(t)->base)->async_iface ? TX(t)->base : NULL;
    gi->described = describe_params;
    if (gi->base && !lower_iface(L, gi->base, describe_params && !gi->base->imported))
        return false;
    bool iface_local = attr_has(t->attrs, A_LOCAL);
    int count = 0, twins = 0;
    for (int k = 0; k < TX(t)->nmethods; k++) {
        count += in_vtable(TX(t)->methods[k]);
        twins += !in_vtable(TX(t)->methods[k]) && !iface_local && call_as_target(t, TX(t)->methods[k]);
    }
    gi->methods = arena_alloc(L->cc->arena, sizeof *gi->methods * (size_t)(count + twins ? count + twins : 1));
    bool ok = true;
    for (int k = 0; k < TX(t)->nmethods; k++) {
        Var *m = TX(t)->methods[k];
        if (!in_vtable(m))
            continue;
        GlueMethod *gm = &gi->methods[gi->nmethods];
        gm->index = gi->nmethods++;
        gm->is_local = attr_has(m->attrs, A_LOCAL) || iface_local;
        for (int j = 0, seen = 0; j < TX(a)->nmethods; j++)
            if (VX(TX(a)->methods[j])->orig == m) {
                if (seen++ == 0)
                    gm->begin = TX(a)->methods[j];
                else
                    gm->finish = TX(a)->methods[j];
            }
        ok &= lower_method(L, t, gm, m, describe_params);
    }
    /* the twins: described for the wire like any method; the program's
     * conversion functions (IFoo_M_Proxy, IFoo_M_Stub, ...) turn one
     * into the other on each side */
    for (int k = 0; k < TX(t)->nmethods && gi->ncall_as < twins; k++) {
        Var *r = TX(t)->methods[k];
        Var *local = in_vtable(r) ? NULL : call_as_target(t, r);
        if (!local)
            continue;
        GlueMethod *lm = NULL;
        for (int j = 0; j < gi->nmethods && !lm; j++)
            if (gi->methods[j].m == local && gi->methods[j].is_local && !gi->methods[j].twin)
                lm = &gi->methods[j];
        if (!lm)
            continue;           /* not [local] (it crosses as itself), or a second [call_as] of one method */
        GlueMethod *gm = &gi->methods[gi->nmethods + gi->ncall_as];
        gm->index = gi->nmethods + gi->ncall_as++;
        gm->is_twin = true;
        gm->twin = lm;
        lm->twin = gm;
        ok &= lower_method(L, t, gm, r, describe_params);
    }
    if (ok)
        TXW(L->cc, t)->glue = gi;
    return ok;
}

static void lower_stmts(Lower *L, Stmt **stmts, int n)
{
    for (int i = 0; i < n; i++) {
        if (stmts[i]->kind == ST_INTERFACE && TX(stmts[i]->type)->async_iface)
            lower_iface(L, stmts[i]->type, true);
        else if (stmts[i]->kind == ST_LIBRARY)
            lower_stmts(L, stmts[i]->stmts, stmts[i]->nstmts);
    }
}

int glue_lower(Compiler *cc)
{
    int before = cc->errors;
    Lower L = { .cc = cc };
    if (cc->main_file)
        lower_stmts(&L, cc->main_file->stmts, cc->main_file->nstmts);
    HASH_CLEAR(hh, L.cache);            /* the entries live in the arena */
    return cc->errors - before;
}
