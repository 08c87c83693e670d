/*
 * emit_glue.c - FILE_async.c: the call-object glue of every [async_uuid]
 * interface of the file, as data plus thin thunks (amidlrt.h, "glue ABI"):
 *
 *   - per method, a table of its parameters (direction and a compact type
 *     description) and a thunk that makes the synchronous call;
 *   - the AsyncIFoo vtable: Begin_/Finish_ thunks that hand their
 *     arguments to AmrtBegin/AmrtFinish, the runtime's one interpreter;
 *   - the IFoo vtable of the runtime's proxy: thunks forwarding to the object;
 *   - a constructor registering the tables, and an exported table for
 *     programs that register by hand.
 *
 * A parameter the interpreter cannot copy correctly (handle_t, context
 * handles, structs or unions holding pointers, size expressions other than
 * a parameter or *parameter, ...) is an error naming interface, method and
 * parameter: never code that silently mishandles it.
 */
#include "emit.h"

#include <string.h>
#include <uthash.h>

typedef struct Body { const char *text, *name; UT_hash_handle hh; } Body;
struct Cached;

typedef struct Glue {
    Emitter *e;
    Buf fwd;            /* forward declarations of the structure descriptions */
    Buf types;          /* AmrtType, AmrtMember and expression definitions */
    int ntypes, nexprs, nmembers;
    struct Cached *cache;   /* one description per structure type (uthash, by Type *) */
    Body *bodies;           /* one definition per distinct description (uthash, by text) */
    bool failed;
} Glue;

static Type *strip(Type *t)
{
    return type_strip_alias(t);
}

/* Where the names of a correlation expression live: the parameters of a
 * method, or the members of the structure holding the attribute. */
typedef struct DScope {
    Var *m;                 /* the method */
    Type *st;               /* the structure (NULL: the method's parameters) */
    const char *st_c;       /* the C spelling of the named type holding it, for offsetof() */
    const char *path;       /* "" or, for an anonymous structure or union, its member path in st_c */
} DScope;

/* A type description: the name of its AmrtType, and whether the value is
 * plain bytes (nothing to copy beyond them). */
typedef struct TD {
    const char *name;
    bool plain;
} TD;

typedef struct Where {      /* what a failure names */
    Type *iface;
    Var *m, *p;
    Var *member;            /* inside a structure or union: the member */
    Type *of;               /* ... and the type holding it */
} Where;

static const char *c_text(Glue *g, Type *t, unsigned q)
{
    Buf b = {0};
    print_decl(g->e, &b, t, q & ~Q_CONST, "", 0);
    const char *s = arena_strdup(g->e->cc->arena, b.data);
    buf_free(&b);
    return s;
}

static const char *sizeof_of(Glue *g, Type *t, unsigned q)
{
    return arena_printf(g->e->cc->arena, "sizeof(%s)", c_text(g, t, q));
}

/* offsetof(the structure of sc, member) */
static const char *member_offset(Glue *g, const DScope *sc, const char *member)
{
    if (!*sc->path)
        return arena_printf(g->e->cc->arena, "offsetof(%s, %s)", sc->st_c, member);
    return arena_printf(g->e->cc->arena, "(offsetof(%s, %s.%s) - offsetof(%s, %s))", sc->st_c, sc->path, member,
                        sc->st_c, sc->path);
}

/* Where the type t of declaration d is spelled for sizeof/offsetof: a
 * named type is itself; an anonymous structure or union member (the C
 * header gives it no tag) is reached through the structure holding it. */
static DScope type_scope(Glue *g, Var *m, DScope *outer, Var *d, Type *t, unsigned q, int level)
{
    Type *s = strip(t);
    if (t->kind != TY_ALIAS && s && !s->name && outer && outer->st && d && d->name && level == 0)
        return (DScope){ m, s, outer->st_c,
                         *outer->path ? arena_printf(g->e->cc->arena, "%s.%s", outer->path, d->name) : d->name };
    return (DScope){ m, s, c_text(g, t, q), "" };
}

static const char *scope_sizeof(Glue *g, const DScope *sc)
{
    if (!*sc->path)
        return arena_printf(g->e->cc->arena, "sizeof(%s)", sc->st_c);
    return arena_printf(g->e->cc->arena, "sizeof(((%s *)0)->%s)", sc->st_c, sc->path);
}

static void fail(Glue *g, const Where *w, const char *why)
{
    Var *p = w->p;
    const char *in = w->member ? arena_printf(g->e->cc->arena, " (member '%s' of '%s')",
                                              w->member->name ? w->member->name : "?",
                                              w->of && w->of->name ? w->of->name : "?") : "";
    error_at(g->e->cc, p ? p->loc : w->m->loc, "the call-object glue cannot pass %s%s%s of %s::%s: %s%s",
             p ? "parameter '" : "the method", p ? (p->name ? p->name : "?") : "", p ? "'" : "",
             w->iface->name, w->m->name, why, in);
    g->failed = true;
}

static const char *iid_name(Type *t)
{
    return t && t->name ? t->name : "IUnknown";
}

static TD td(const char *name, bool plain)
{
    return (TD){ name, plain };
}

static const char *emit_desc(Glue *g, const char *kind, int flags, int iid_param, const char *size, const char *ref,
                             const char *iid, const char *size_x, const char *first_x, const char *length_x,
                             int nmembers, const char *members)
{
    const char *body = arena_printf(g->e->cc->arena, "{ %s, %d, %d, %s, %s%s, %s%s, %s, %s, %s, %d, %s }", kind, flags,
                                    iid_param, size, ref ? "&" : "", ref ? ref : "NULL", iid ? "&" : "",
                                    iid ? iid : "NULL", size_x ? size_x : "NULL", first_x ? first_x : "NULL",
                                    length_x ? length_x : "NULL", nmembers, members ? members : "NULL");
    Body *d;
    HASH_FIND_STR(g->bodies, body, d);     /* one definition per distinct description */
    if (d)
        return d->name;
    d = arena_alloc(g->e->cc->arena, sizeof *d);
    d->text = body;
    d->name = arena_printf(g->e->cc->arena, "amrt_t%d", g->ntypes++);
    HASH_ADD_KEYPTR(hh, g->bodies, d->text, strlen(d->text), d);
    buf_printf(&g->types, "static const AmrtType %s = %s;\n", d->name, body);
    return d->name;
}

static const char *simple_desc(Glue *g, const char *kind, int flags, const char *size, const char *ref)
{
    return emit_desc(g, kind, flags, -1, size, ref, NULL, NULL, NULL, NULL, 0, NULL);
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
static bool load_operands(Glue *g, Buf *x, Type *t, unsigned q)
{
    Type *s = strip(t);
    if (s && s->kind == TY_POINTER) {
        buf_puts(x, "0, 0, ");
        return true;
    }
    if (!int_type(t))
        return false;
    buf_printf(x, "(int)%s, %d, ", sizeof_of(g, t, q), is_signed(t));
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

/* Append the program of x to ops; *type gets the expression's type when it
 * is a name or a dereference (NULL: an integer). */
static bool compile_x(Glue *g, DScope *sc, Expr *x, Buf *ops, Type **type, unsigned *qual, int depth)
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
        if (v < -2147483647LL - 1 || v > 2147483647LL)
            return false;
        buf_printf(ops, "AMRT_X_CONST, %lld, ", v);
        return true;
    }
    case EX_SIZEOF:
        if (!x->type)
            return false;
        buf_printf(ops, "AMRT_X_CONST, (int)%s, ", sizeof_of(g, x->type, 0));
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
                buf_printf(ops, "AMRT_X_FIELD, (int)%s, ", member_offset(g, sc, v->name));
            } else {
                buf_printf(ops, "AMRT_X_PARAM, %d, ", i);
            }
            *type = v->type;
            *qual = v->qual;
            return load_operands(g, ops, v->type, v->qual);
        }
        if (x->ref && x->ref->has_value && x->ref->value >= -2147483647LL - 1 && x->ref->value <= 2147483647LL) {
            buf_printf(ops, "AMRT_X_CONST, %lld, ", x->ref->value);
            return true;
        }
        return false;
    }
    case EX_CAST:
        if (!x->type || !compile_x(g, sc, x->a, ops, &ta, &qa, depth + 1))
            return false;
        if (strip(x->type) && strip(x->type)->kind == TY_POINTER) {
            *type = x->type;
            return ta != NULL;      /* a pointer cast of a pointer */
        }
        if (!int_type(x->type))
            return false;
        buf_printf(ops, "AMRT_X_CAST, (int)%s, %d, ", sizeof_of(g, x->type, 0), is_signed(x->type));
        return true;
    case EX_UNARY:
        if (!compile_x(g, sc, x->a, ops, &ta, &qa, depth + 1))
            return false;
        switch (x->op) {
        case OP_DEREF: {
            Type *s = strip(ta);
            if (!s || s->kind != TY_POINTER)
                return false;
            buf_puts(ops, "AMRT_X_DEREF, ");
            if (!load_operands(g, ops, s->ref, s->ref_qual))
                return false;
            *type = s->ref;
            *qual = s->ref_qual;
            return true;
        }
        case OP_NEG: buf_puts(ops, "AMRT_X_NEG, "); return true;
        case OP_POS: return true;
        case OP_BITNOT: buf_puts(ops, "AMRT_X_BITNOT, "); return true;
        case OP_NOT: buf_puts(ops, "AMRT_X_NOT, "); return true;
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
        if (!code || !compile_x(g, sc, x->a, ops, &ta, &qa, depth + 1) ||
            !compile_x(g, sc, x->b, ops, &tb, &qb, depth + 1))
            return false;
        if ((ta && !int_type(ta)) || (tb && !int_type(tb)))
            return false;           /* no pointer arithmetic */
        buf_printf(ops, "AMRT_X_%s, ", code);
        return true;
    }
    case EX_TERNARY:
        if (!compile_x(g, sc, x->a, ops, &ta, &qa, depth + 1) || !compile_x(g, sc, x->b, ops, &tb, &qb, depth + 1) ||
            !compile_x(g, sc, x->c, ops, &tc, &qc, depth + 1) || (tb && !int_type(tb)) || (tc && !int_type(tc)))
            return false;
        buf_puts(ops, "AMRT_X_COND, ");
        return true;
    default:
        return false;
    }
}

/* The stack the runtime's evaluator needs for x (it has 16 slots and runs
 * at most 256 steps), and the number of nodes; huge or deep expressions
 * are refused here rather than failing at run time. */
static int x_stack(Expr *x, int *nodes)
{
    if (!x || ++*nodes > 100)
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
    return x_stack(x, &nodes) + extra <= 16 && nodes <= 100;
}

/* The name of the program computing x (+ add, when add != 0), or NULL. */
static const char *expr_prog(Glue *g, DScope *sc, Expr *x, int add)
{
    Buf ops = {0};
    Type *t;
    unsigned q;
    const char *name = NULL;
    if (x_fits(x, 1) && compile_x(g, sc, x, &ops, &t, &q, 0) && (!t || int_type(t))) {
        if (add)
            buf_printf(&ops, "AMRT_X_CONST, %d, AMRT_X_ADD, ", add);
        name = arena_printf(g->e->cc->arena, "amrt_x%d", g->nexprs++);
        buf_printf(&g->types, "static const int %s[] = { %sAMRT_X_END };\n", name, ops.data);
    }
    buf_free(&ops);
    return name;
}

/* last_is - first_is + 1 (first_x may be NULL: 0) */
static const char *last_prog(Glue *g, DScope *sc, Expr *last, Expr *first)
{
    Buf ops = {0};
    Type *t;
    unsigned q;
    const char *name = NULL;
    bool ok = x_fits(last, 1) && compile_x(g, sc, last, &ops, &t, &q, 0) && (!t || int_type(t));
    if (ok && first) {
        ok = x_fits(first, 1) && compile_x(g, sc, first, &ops, &t, &q, 0) && (!t || int_type(t));
        buf_puts(&ops, "AMRT_X_SUB, ");
    }
    if (ok) {
        name = arena_printf(g->e->cc->arena, "amrt_x%d", g->nexprs++);
        buf_printf(&g->types, "static const int %s[] = { %sAMRT_X_CONST, 1, AMRT_X_ADD, AMRT_X_END };\n", name,
                   ops.data);
    }
    buf_free(&ops);
    return name;
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

static TD describe(Glue *g, const Where *w, DScope *sc, Var *d, Type *t, unsigned q, int level, int depth);

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

/* Values that are plain bytes: no pointer anywhere inside. */
static bool plain_type(Type *t, int depth)
{
    Type *s = strip(t);
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
        return !s->conformant && s->size && plain_type(s->ref, depth + 1);
    default:
        return false;
    }
}

typedef struct Cached { Type *t; TD td; UT_hash_handle hh; } Cached;

static TD cached(Glue *g, Type *t)
{
    Cached *c;
    HASH_FIND_PTR(g->cache, &t, c);
    return c ? c->td : td(NULL, false);
}

/* record (or update) the description of structure type t */
static void cache(Glue *g, Type *t, TD d)
{
    Cached *c;
    HASH_FIND_PTR(g->cache, &t, c);
    if (!c) {
        c = arena_alloc(g->e->cc->arena, sizeof *c);
        c->t = t;
        HASH_ADD_PTR(g->cache, t, c);
    }
    c->td = d;
}

/* The case values of a union arm ([case(...)] or "case ...:") and whether
 * it is the default arm. */
static int arm_cases(Var *f, Expr ***cases, bool *is_default)
{
    Attr *a = attr_find(f->attrs, A_CASE);
    *is_default = f->is_default_case || attr_has(f->attrs, A_DEFAULT);
    if (f->ncases) {
        *cases = f->case_exprs;
        return f->ncases;
    }
    *cases = a ? a->args : NULL;
    return a ? a->nargs : 0;
}

/* "{ 0, default, value, type }" rows of an arm */
static int print_arms(Glue *g, Buf *arms, Var *f, TD a)
{
    Expr **cases;
    bool def;
    int n = arm_cases(f, &cases, &def), rows = 0;
    for (int k = 0; k < n; k++) {
        Buf v = {0};
        print_expr(g->e, &v, cases[k], false);
        buf_printf(arms, "    { 0, 0, (long long)(%s), %s%s },\n", v.data, a.plain ? "" : "&", a.plain ? "NULL" : a.name);
        buf_free(&v);
        rows++;
    }
    if (def || !n) {
        buf_printf(arms, "    { 0, %d, 0, %s%s },\n", def, a.plain ? "" : "&", a.plain ? "NULL" : a.name);
        rows++;
    }
    return rows;
}

/* The arm rows of union type s (members described in scope sc) into
 * arms; returns their number, *any says whether an arm holds pointers. */
static int describe_arms(Glue *g, const Where *w, DScope *sc, Type *s, Buf *arms, bool *any, int depth)
{
    int narms = 0;
    *any = false;
    for (int i = 0; i < s->nfields && !g->failed; i++) {
        Var *f = s->fields[i];
        Where mw = { w->iface, w->m, w->p, f, s };
        TD a = f->type && !plain_type(f->type, 0) ? describe(g, &mw, sc, f, f->type, f->qual, 0, depth + 1)
                                                   : td(NULL, true);
        if (g->failed)
            break;
        *any |= !a.plain;
        narms += print_arms(g, arms, f, a);
    }
    return narms;
}

/* A structure (or an encapsulated union, which is a structure holding
 * its discriminant and the union): plain bytes, or a CSTRUCT listing the
 * members that hold pointers. Described once per type; a structure that
 * reaches itself through a pointer works through a forward declaration. */
static TD describe_struct(Glue *g, const Where *w, DScope *outer, Var *d, Type *t, unsigned q, int level, int depth)
{
    Type *s = strip(t);
    DScope sc = type_scope(g, w->m, outer, d, t, q, level);
    TD c = cached(g, s);
    if (c.name)
        return c;
    if (!s->defined) {
        fail(g, w, arena_printf(g->e->cc->arena, "the structure '%s' is not defined", s->name ? s->name : "?"));
        return td(NULL, false);
    }
    if (plain_type(s, 0)) {
        TD r = td(simple_desc(g, "AMRT_K_STRUCT", 0, scope_sizeof(g, &sc), NULL), true);
        cache(g, s, r);
        return r;
    }
    const char *name = arena_printf(g->e->cc->arena, "amrt_t%d", g->ntypes++);
    cache(g, s, td(name, false));           /* while its members are described: a pointer back is not plain */
    Buf members = {0};
    int n = 0;
    Var *tail = NULL;               /* a conformant structure's last member */
    const char *tail_x = NULL, *tail_elem = NULL;
    if (s->kind == TY_ENCUNION) {
        Var *sv = s->switch_var;
        bool any;
        Buf arms = {0};
        int narms = describe_arms(g, w, &sc, s, &arms, &any, depth);
        if (!g->failed && any) {
            if (!sv || !sv->name || !int_type(sv->type)) {
                fail(g, w, "the union's discriminant must be a named integer");
                buf_free(&arms);
                buf_free(&members);
                return td(NULL, false);
            }
            const char *arm_tab = arena_printf(g->e->cc->arena, "amrt_m%d", g->nmembers++);
            buf_printf(&g->types, "static const AmrtMember %s[] = {\n%s};\n", arm_tab, arms.data);
            const char *sx = arena_printf(g->e->cc->arena, "amrt_x%d", g->nexprs++);
            const char *un = s->union_name ? s->union_name : "tagged_union";
            buf_printf(&g->types, "static const int %s[] = { AMRT_X_FIELD, (int)%s, (int)%s, %d, AMRT_X_END };\n",
                       sx, member_offset(g, &sc, sv->name), sizeof_of(g, sv->type, sv->qual), is_signed(sv->type));
            DScope us = { w->m, s, sc.st_c, *sc.path ? arena_printf(g->e->cc->arena, "%s.%s", sc.path, un) : un };
            const char *u = emit_desc(g, "AMRT_K_UNION", 0, -1, scope_sizeof(g, &us), NULL, NULL, sx, NULL, NULL, narms,
                                      arm_tab);
            buf_printf(&members, "    { %s, 0, 0, &%s },\n", member_offset(g, &sc, un), u);
            n++;
        }
        buf_free(&arms);
    } else {
        for (int i = 0; i < s->nfields && !g->failed; i++) {
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
                    fail(g, &mw, "an array of run-time size must be the last member and have size_is() or max_is()");
                    break;
                }
                tail_x = size ? expr_prog(g, &sc, size, 0) : expr_prog(g, &sc, max, 1);
                if (!tail_x) {
                    fail(g, &mw, "the size_is() expression must be made of integer members, constants and C operators");
                    break;
                }
                TD e = plain_type(fs->ref, 0) ? td(simple_desc(g, "AMRT_K_SCALAR", 0, sizeof_of(g, fs->ref, fs->ref_qual), NULL), true)
                                              : describe(g, &mw, &sc, f, fs->ref, fs->ref_qual, 1, depth + 1);
                if (g->failed)
                    break;
                tail_elem = e.name;
                tail = f;
                continue;
            }
            if (plain_type(ft, 0))
                continue;
            TD m = describe(g, &mw, &sc, f, ft, f->qual, 0, depth + 1);
            if (g->failed)
                break;
            if (!f->name) {
                fail(g, &mw, "an unnamed member holds pointers");
                break;
            }
            buf_printf(&members, "    { %s, 0, 0, &%s },\n", member_offset(g, &sc, f->name), m.name);
            n++;
        }
    }
    if (g->failed) {
        buf_free(&members);
        return td(NULL, false);
    }
    TD r;
    if (tail) {
        const char *tab = "NULL";
        if (n) {
            tab = arena_printf(g->e->cc->arena, "amrt_m%d", g->nmembers++);
            buf_printf(&g->types, "static const AmrtMember %s[] = {\n%s};\n", tab, members.data);
        }
        buf_printf(&g->types, "static const AmrtType %s = { AMRT_K_CONFSTRUCT, 0, -1, %s, &%s, NULL, %s, NULL, NULL, %d, %s };\n",
                   name, member_offset(g, &sc, tail->name), tail_elem, tail_x, n, tab);
        buf_printf(&g->fwd, "static const AmrtType %s;\n", name);
        r = td(name, false);
    } else if (!n) {
        /* plain after all: describe it as bytes (the forward name stays unused) */
        r = td(simple_desc(g, "AMRT_K_STRUCT", 0, scope_sizeof(g, &sc), NULL), true);
    } else {
        const char *tab = arena_printf(g->e->cc->arena, "amrt_m%d", g->nmembers++);
        buf_printf(&g->types, "static const AmrtMember %s[] = {\n%s};\n", tab, members.data);
        buf_printf(&g->types, "static const AmrtType %s = { AMRT_K_CSTRUCT, 0, -1, %s, NULL, NULL, NULL, NULL, NULL, %d, %s };\n",
                   name, scope_sizeof(g, &sc), n, tab);
        buf_printf(&g->fwd, "static const AmrtType %s;\n", name);
        r = td(name, false);
    }
    buf_free(&members);
    cache(g, s, r);
    return r;
}

/* A non-encapsulated union: switch_is() on the declaration picks the arm. */
static TD describe_union(Glue *g, const Where *w, DScope *sc, Var *d, Type *t, unsigned q, int level, int depth)
{
    Type *s = strip(t);
    DScope us = type_scope(g, w->m, sc, d, t, q, level);
    Buf arms = {0};
    bool any;
    int narms = describe_arms(g, w, &us, s, &arms, &any, depth);
    if (g->failed) {
        buf_free(&arms);
        return td(NULL, false);
    }
    if (!any) {
        buf_free(&arms);
        return td(simple_desc(g, "AMRT_K_STRUCT", 0, scope_sizeof(g, &us), NULL), true);
    }
    for (int i = 0; i < s->nfields; i++) {
        Expr **cases;
        bool def;
        if (!arm_cases(s->fields[i], &cases, &def) && !def) {
            buf_free(&arms);
            fail(g, w, "a union holding pointers needs a case() on every arm");
            return td(NULL, false);
        }
    }
    Attr *sw = attr_find(d->attrs, A_SWITCH_IS);
    const char *sx = sw && sw->nargs == 1 ? expr_prog(g, sc, sw->args[0], 0) : NULL;
    if (!sx) {
        buf_free(&arms);
        fail(g, w, sw ? "the switch_is() expression must be an integer expression of parameters (members, inside a structure), constants and C operators, of at most 100 terms"
                      : "a union holding pointers needs switch_is() to say which arm is passed");
        return td(NULL, false);
    }
    const char *tab = arena_printf(g->e->cc->arena, "amrt_m%d", g->nmembers++);
    buf_printf(&g->types, "static const AmrtMember %s[] = {\n%s};\n", tab, arms.data);
    buf_free(&arms);
    return td(emit_desc(g, "AMRT_K_UNION", 0, -1, scope_sizeof(g, &us), NULL, NULL, sx, NULL, NULL, narms, tab), false);
}

/* An array at this level of declaration d: size_is/max_is give its count
 * (or the fixed size of an array type), first_is/length_is/last_is the
 * part passed. inline_ok: a fixed array stored in place (a member). */
static TD describe_array(Glue *g, const Where *w, DScope *sc, Var *d, Type *t, int level, int depth, bool unique)
{
    Type *s = strip(t);
    Expr *size = attr_arg(attr_find(d->attrs, A_SIZE_IS), level);
    Expr *max = attr_arg(attr_find(d->attrs, A_MAX_IS), level);
    Expr *len = attr_arg(attr_find(d->attrs, A_LENGTH_IS), level);
    Expr *first = attr_arg(attr_find(d->attrs, A_FIRST_IS), level);
    Expr *last = attr_arg(attr_find(d->attrs, A_LAST_IS), level);
    const char *size_x = NULL, *first_x = NULL, *length_x = NULL, *fixed = "0";
    if (size || max) {
        size_x = size ? expr_prog(g, sc, size, 0) : expr_prog(g, sc, max, 1);
        if (!size_x) {
            fail(g, w, size ? "the size_is() expression must be an integer expression of parameters (members, inside a structure), constants and C operators, of at most 100 terms"
                            : "the max_is() expression must be an integer expression of parameters (members, inside a structure), constants and C operators, of at most 100 terms");
            return td(NULL, false);
        }
    } else if (s->kind == TY_ARRAY && s->size && !s->conformant) {
        Buf b = {0};
        print_expr(g->e, &b, s->size, false);
        fixed = arena_printf(g->e->cc->arena, "(%s)", b.data);
        buf_free(&b);
    } else {
        fail(g, w, "the array has no size (size_is or max_is)");
        return td(NULL, false);
    }
    if (first && !(first_x = expr_prog(g, sc, first, 0))) {
        fail(g, w, "the first_is() expression must be an integer expression of parameters (members, inside a structure), constants and C operators, of at most 100 terms");
        return td(NULL, false);
    }
    if (len)
        length_x = expr_prog(g, sc, len, 0);
    else if (last)
        length_x = last_prog(g, sc, last, first);
    if ((len || last) && !length_x) {
        fail(g, w, len ? "the length_is() expression must be an integer expression of parameters (members, inside a structure), constants and C operators, of at most 100 terms"
                       : "the last_is() expression must be an integer expression of parameters (members, inside a structure), constants and C operators, of at most 100 terms");
        return td(NULL, false);
    }
    TD e = describe(g, w, sc, d, s->ref, s->ref_qual, level + 1, depth + 1);
    if (!e.name)
        return e;
    return td(emit_desc(g, "AMRT_K_ARRAY", unique, -1, fixed, e.name, NULL, size_x, first_x, length_x, 0, NULL),
              false);
}

static bool has_size_attr(Var *d, int level)
{
    static const AttrKind k[] = { A_SIZE_IS, A_MAX_IS, A_LENGTH_IS, A_FIRST_IS, A_LAST_IS };
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
        if (attr_arg(attr_find(d->attrs, k[i]), level))
            return true;
    return false;
}

/* The description of a value of type t at pointer level 'level' of the
 * declaration d (a parameter or a member, which carries the attributes). */
static bool conformant_struct(Type *t)
{
    Type *s = strip(t);
    if (!s || s->kind != TY_STRUCT || !s->nfields)
        return false;
    Type *last = strip(s->fields[s->nfields - 1]->type);
    return last && last->kind == TY_ARRAY && last->conformant;
}

static TD describe(Glue *g, const Where *w, DScope *sc, Var *d, Type *t, unsigned q, int level, int depth)
{
    Type *s = strip(t);
    if (!s || depth > 24) {
        fail(g, w, "the type is nested too deeply");
        return td(NULL, false);
    }
    bool top = !sc->st && level == 0;       /* the parameter's own pointer: [ref] unless marked */
    int unique = !top || attr_has(d->attrs, A_UNIQUE) || attr_has(d->attrs, A_PTR);
    if (alias_attr(t, A_CONTEXT_HANDLE) || (level == 0 && attr_has(d->attrs, A_CONTEXT_HANDLE))) {
        fail(g, w, "a context handle belongs to an RPC binding; there is none in-process");
        return td(NULL, false);
    }
    if (alias_named(t, "BSTR"))
        return td(simple_desc(g, "AMRT_K_BSTR", 1, "0", NULL), false);     /* NULL is the empty BSTR */
    if (opaque_handle(t))
        return td(simple_desc(g, "AMRT_K_SCALAR", 0, sizeof_of(g, t, q), NULL), true);
    if ((s->kind == TY_POINTER || s->kind == TY_ARRAY) && has_size_attr(d, level))
        return describe_array(g, w, sc, d, t, level, depth, unique);
    switch (s->kind) {
    case TY_BASIC:
        if (s->basic == B_HANDLE) {
            fail(g, w, "handle_t binds an RPC call; there is none in-process");
            return td(NULL, false);
        }
        return td(simple_desc(g, "AMRT_K_SCALAR", 0, sizeof_of(g, t, q), NULL), true);
    case TY_ENUM:
        return td(simple_desc(g, "AMRT_K_SCALAR", 0, sizeof_of(g, t, q), NULL), true);
    case TY_STRUCT: case TY_ENCUNION:
        if (conformant_struct(s)) {     /* a pointer to one describes it itself (TY_POINTER) */
            fail(g, w, "a conformant structure (an array of run-time size at the end) is passed only through a pointer");
            return td(NULL, false);
        }
        return describe_struct(g, w, sc, d, t, q, level, depth);
    case TY_UNION:
        return describe_union(g, w, sc, d, t, q, level, depth);
    case TY_POINTER: {
        Type *r = strip(s->ref);
        if (r && (r->kind == TY_INTERFACE || r->kind == TY_DISPINTERFACE || r->kind == TY_VOID) &&
            attr_has(d->attrs, A_IID_IS)) {
            Attr *iid = attr_find(d->attrs, A_IID_IS);
            int ip = -1;
            Expr *x = iid->nargs == 1 ? iid->args[0] : NULL;
            if (sc->st || !x || x->kind != EX_IDENT || !scope_lookup(sc, x->text, &ip)) {
                fail(g, w, "iid_is() must name a parameter");
                return td(NULL, false);
            }
            return td(emit_desc(g, "AMRT_K_INTERFACE", 1, ip, "0", NULL, "IID_IUnknown", NULL, NULL, NULL, 0, NULL),
                      false);
        }
        if (r && (r->kind == TY_INTERFACE || r->kind == TY_DISPINTERFACE))
            return td(emit_desc(g, "AMRT_K_INTERFACE", 1, -1, "0", NULL,
                                arena_printf(g->e->cc->arena, "IID_%s", iid_name(r)), NULL, NULL, NULL, 0, NULL),
                      false);
        if (r && r->kind == TY_BASIC && (r->basic == B_CHAR || r->basic == B_WCHAR ||
                                         (r->basic == B_SHORT && r->sign < 0)) &&
            (alias_attr(t, A_STRING) || attr_has(d->attrs, A_STRING)))
            return td(simple_desc(g, r->basic == B_CHAR ? "AMRT_K_STRING" : "AMRT_K_WSTRING", unique, "0", NULL),
                      false);
        if (r && r->kind == TY_VOID) {
            fail(g, w, "a void pointer without iid_is() has no size to copy");
            return td(NULL, false);
        }
        if (r && r->kind == TY_FUNCTION) {
            fail(g, w, "a function pointer cannot be passed");
            return td(NULL, false);
        }
        if (conformant_struct(r) && top && attr_has(d->attrs, A_OUT)) {
            fail(g, w, "an [out] conformant structure has no size the caller's storage can be known by");
            return td(NULL, false);
        }
        TD e = conformant_struct(r) ? describe_struct(g, w, sc, d, s->ref, s->ref_qual, level + 1, depth + 1)
                                    : describe(g, w, sc, d, s->ref, s->ref_qual, level + 1, depth + 1);
        if (!e.name)
            return e;
        return td(simple_desc(g, "AMRT_K_POINTER", unique, "0", e.name), false);
    }
    case TY_ARRAY: {
        if (s->conformant || !s->size) {
            fail(g, w, "the array has no size (size_is or max_is)");
            return td(NULL, false);
        }
        if (!sc->st && level == 0)      /* a parameter array is a pointer to its elements */
            return describe_array(g, w, sc, d, t, level, depth, unique);
        if (plain_type(s, 0))
            return td(simple_desc(g, "AMRT_K_STRUCT", 0, sizeof_of(g, t, q), NULL), true);
        TD e = describe(g, w, sc, d, s->ref, s->ref_qual, level, depth + 1);
        if (!e.name)
            return e;
        Buf b = {0};
        print_expr(g->e, &b, s->size, false);
        const char *n = arena_printf(g->e->cc->arena, "(%s)", b.data);
        buf_free(&b);
        return td(simple_desc(g, "AMRT_K_FIXED_ARRAY", 0, n, e.name), false);
    }
    case TY_INTERFACE: case TY_DISPINTERFACE:
        fail(g, w, "an interface must be passed by pointer");
        return td(NULL, false);
    case TY_FUNCTION:
        fail(g, w, "a function cannot be passed");
        return td(NULL, false);
    default:
        fail(g, w, "values of this kind cannot be copied by the glue");
        return td(NULL, false);
    }
}

/* The description of parameter p of method m. */
static const char *describe_param(Glue *g, Type *iface, Var *m, Var *p)
{
    Where w = { iface, m, p, NULL, NULL };
    DScope sc = { m, NULL, NULL, "" };
    if (attr_has(p->attrs, A_IID_IS)) {
        /* [in, iid_is(riid)] IUnknown *p, or [out, iid_is(riid)] void **ppv */
        Type *t = strip(p->type);
        Type *r = t && t->kind == TY_POINTER ? strip(t->ref) : NULL;
        if (!r || (r->kind != TY_POINTER && r->kind != TY_INTERFACE && r->kind != TY_VOID)) {
            fail(g, &w, "iid_is() applies to an interface pointer");
            return NULL;
        }
    }
    TD d = describe(g, &w, &sc, p, p->type, p->qual, 0, 0);
    return d.name;
}

static bool returns_hresult(Var *m)
{
    Type *r = m->type->ref;
    return r && r->kind == TY_ALIAS && r->name && !strcmp(r->name, "HRESULT");
}

static void print_ret_type(Glue *g, Buf *b, Var *m)
{
    print_decl(g->e, b, m->type->ref, m->type->ref_qual, "", 0);
}

/* "T1 a, T2 b" of a method (with a leading ", " when non-empty) */
static void print_params(Glue *g, Buf *b, Var *m)
{
    for (int i = 0; i < m->type->nfields; i++) {
        Var *p = m->type->fields[i];
        buf_puts(b, ", ");
        print_decl(g->e, b, p->type, p->qual, p->name, 0);
    }
}

static bool in_vtable(Var *m)
{
    return !attr_has(m->attrs, A_CALL_AS);
}

/* tables and call thunks of the own methods of sync interface t */
static void emit_tables(Glue *g, Buf *b, Type *t)
{
    Buf methods = {0};
    int idx = 0;
    for (int k = 0; k < t->nmethods; k++) {
        Var *m = t->methods[k];
        if (!in_vtable(m))
            continue;
        int n = m->type->nfields;
        const char **descs = arena_alloc(g->e->cc->arena, sizeof(char *) * (size_t)(n + 1));
        for (int i = 0; i < n; i++)
            descs[i] = describe_param(g, t, m, m->type->fields[i]);
        if (g->failed)
            return;
        if (n) {
            buf_printf(b, "static const AmrtParam %s_%s_params[] = {\n", t->name, m->macro_name);
            for (int i = 0; i < n; i++) {
                Var *p = m->type->fields[i];
                bool in = attr_has(p->attrs, A_IN) || !attr_has(p->attrs, A_OUT);
                bool out = attr_has(p->attrs, A_OUT);
                buf_printf(b, "    { \"%s\", %s, &%s },\n", p->name,
                           in && out ? "AMRT_IN | AMRT_OUT" : out ? "AMRT_OUT" : "AMRT_IN", descs[i]);
            }
            buf_puts(b, "};\n");
        }
        /* the synchronous call: args[i] points at the value of argument i */
        buf_printf(b, "static void amrt_%s_%s_call(void *obj, void **args, void *ret)\n{\n", t->name, m->macro_name);
        bool is_void = strip(m->type->ref)->kind == TY_VOID;
        if (n == 0)
            buf_puts(b, "    (void)args;\n");
        if (is_void)
            buf_puts(b, "    (void)ret;\n    ");
        else {
            buf_puts(b, "    *(");
            print_ret_type(g, b, m);
            buf_puts(b, " *)ret = ");
        }
        buf_printf(b, "((%s *)obj)->lpVtbl->%s((%s *)obj", t->name, m->c_name, t->name);
        for (int i = 0; i < n; i++) {
            Var *p = m->type->fields[i];
            buf_puts(b, ", *(");
            print_decl(g->e, b, p->type, p->qual & ~Q_CONST, "*", 0);
            buf_printf(b, ")args[%d]", i);
        }
        buf_puts(b, ");\n}\n\n");
        /* Begin_/Finish_ of a server's own call object (server-side async) */
        for (int fin = 0; fin < 2; fin++) {
            buf_printf(b, "static void amrt_%s_%s_%s(void *obj, void **args, void *ret)\n{\n", t->name, m->macro_name,
                       fin ? "finish" : "begin");
            buf_puts(b, "    (void)args;\n");
            if (is_void || !returns_hresult(m))
                buf_puts(b, "    (void)ret;\n    ");
            else
                buf_puts(b, "    *(HRESULT *)ret = ");
            if (!is_void && !returns_hresult(m) && fin) {
                buf_puts(b, "*(");
                print_ret_type(g, b, m);
                buf_puts(b, " *)ret = ");
            }
            const char *aname = NULL;      /* the twin's C name of Begin_M / Finish_M */
            for (int k2 = 0, seen = 0; k2 < t->async_iface->nmethods; k2++)
                if (t->async_iface->methods[k2]->orig == m && seen++ == fin)
                    aname = t->async_iface->methods[k2]->c_name;
            buf_printf(b, "((%s *)obj)->lpVtbl->%s((%s *)obj", t->async_iface->name, aname ? aname : "?",
                       t->async_iface->name);
            for (int i = 0; i < n; i++) {
                Var *p = m->type->fields[i];
                bool in = attr_has(p->attrs, A_IN) || !attr_has(p->attrs, A_OUT);
                bool out = attr_has(p->attrs, A_OUT);
                if (fin ? !out : !in)
                    continue;
                buf_puts(b, ", *(");
                print_decl(g->e, b, p->type, p->qual & ~Q_CONST, "*", 0);
                buf_printf(b, ")args[%d]", i);
            }
            buf_puts(b, ");\n}\n\n");
        }
        buf_printf(&methods, "    { \"%s\", %d, %s%s%s, %s, %d, amrt_%s_%s_call, amrt_%s_%s_begin, amrt_%s_%s_finish },\n",
                   m->macro_name, n,
                   n ? t->name : "NULL", n ? "_" : "", n ? arena_printf(g->e->cc->arena, "%s_params", m->macro_name) : "",
                   is_void ? "0" : sizeof_of(g, m->type->ref, m->type->ref_qual), returns_hresult(m),
                   t->name, m->macro_name, t->name, m->macro_name, t->name, m->macro_name);
        idx++;
    }
    buf_printf(b, "static const AmrtMethod %s_methods[] = {\n%s};\n\n", t->name,
               methods.data ? methods.data : "    { NULL, 0, NULL, 0, 0, NULL, NULL, NULL }\n");
    buf_free(&methods);
}

/* Begin_/Finish_ thunks of every method of t's async chain, for vtable a */
static void emit_async_thunks(Glue *g, Buf *b, Type *a, Type *t)
{
    if (t->base && t->base->async_iface)
        emit_async_thunks(g, b, a, t->base);
    int idx = 0;
    for (int k = 0; k < t->nmethods; k++) {
        Var *m = t->methods[k];
        if (!in_vtable(m))
            continue;
        int n = m->type->nfields;
        bool is_void = strip(m->type->ref)->kind == TY_VOID;
        for (int fin = 0; fin < 2; fin++) {
            buf_puts(b, "static ");
            print_ret_type(g, b, m);
            buf_printf(b, " STDMETHODCALLTYPE amrt_%s_%s_%s(%s *This", a->name, fin ? "Finish" : "Begin", m->macro_name, a->name);
            for (int i = 0; i < n; i++) {
                Var *p = m->type->fields[i];
                bool in = attr_has(p->attrs, A_IN) || !attr_has(p->attrs, A_OUT);
                bool out = attr_has(p->attrs, A_OUT);
                if (fin ? out : in) {
                    buf_puts(b, ", ");
                    print_decl(g->e, b, p->type, p->qual, p->name, 0);
                }
            }
            buf_printf(b, ")\n{\n    void *args[%d] = {", n ? n : 1);
            for (int i = 0; i < n; i++) {
                Var *p = m->type->fields[i];
                bool in = attr_has(p->attrs, A_IN) || !attr_has(p->attrs, A_OUT);
                bool out = attr_has(p->attrs, A_OUT);
                buf_printf(b, "%s%s%s", i ? ", " : " ", (fin ? out : in) ? "(void *)&" : "NULL",
                           (fin ? out : in) ? p->name : "");
            }
            buf_puts(b, n ? " };\n" : " NULL };\n");
            if (!fin) {
                if (returns_hresult(m))
                    buf_printf(b, "    return AmrtBegin(This, &%s_amrt_glue, %d, args);\n}\n\n", t->name, idx);
                else if (is_void)
                    buf_printf(b, "    AmrtBegin(This, &%s_amrt_glue, %d, args);\n}\n\n", t->name, idx);
                else {
                    buf_printf(b, "    AmrtBegin(This, &%s_amrt_glue, %d, args);\n    return 0;\n}\n\n", t->name, idx);
                }
            } else {
                if (returns_hresult(m)) {
                    buf_printf(b, "    HRESULT ret = S_OK;\n    return AmrtFinish(This, &%s_amrt_glue, %d, args, &ret);\n}\n\n",
                               t->name, idx);
                } else if (is_void) {
                    buf_printf(b, "    AmrtFinish(This, &%s_amrt_glue, %d, args, NULL);\n}\n\n", t->name, idx);
                } else {
                    buf_puts(b, "    ");
                    print_decl(g->e, b, m->type->ref, m->type->ref_qual & ~Q_CONST, "ret", 1);
                    buf_printf(b, ";\n    memset(&ret, 0, sizeof ret);\n    AmrtFinish(This, &%s_amrt_glue, %d, args, &ret);\n    return ret;\n}\n\n",
                               t->name, idx);
                }
            }
        }
        idx++;
    }
}

static void emit_async_vtbl_entries(Glue *g, Buf *b, Type *a, Type *t)
{
    (void)g;
    if (t->base && t->base->async_iface)
        emit_async_vtbl_entries(g, b, a, t->base);
    for (int k = 0; k < t->nmethods; k++) {
        Var *m = t->methods[k];
        if (!in_vtable(m))
            continue;
        buf_printf(b, "    amrt_%s_Begin_%s,\n    amrt_%s_Finish_%s,\n", a->name, m->macro_name, a->name, m->macro_name);
    }
}

/* proxy forwarders of every method of t's chain (below IUnknown), for vtable of x */
static void emit_proxy_thunks(Glue *g, Buf *b, Type *x, Type *t)
{
    if (!t || !t->base)
        return;             /* IUnknown's slots are the runtime's */
    emit_proxy_thunks(g, b, x, t->base);
    for (int k = 0; k < t->nmethods; k++) {
        Var *m = t->methods[k];
        if (!in_vtable(m))
            continue;
        buf_puts(b, "static ");
        print_ret_type(g, b, m);
        buf_printf(b, " STDMETHODCALLTYPE amrt_%s_proxy_%s_%s(%s *This", x->name, t->name, m->macro_name, x->name);
        print_params(g, b, m);
        buf_printf(b, ")\n{\n    %s *target = (%s *)AmrtProxyTarget(This);\n    %starget->lpVtbl->%s(target",
                   t->name, t->name, strip(m->type->ref)->kind == TY_VOID ? "" : "return ", m->c_name);
        for (int i = 0; i < m->type->nfields; i++)
            buf_printf(b, ", %s", m->type->fields[i]->name);
        buf_puts(b, ");\n}\n\n");
    }
}

static void emit_proxy_entries(Glue *g, Buf *b, Type *x, Type *t)
{
    if (!t || !t->base)
        return;
    emit_proxy_entries(g, b, x, t->base);
    for (int k = 0; k < t->nmethods; k++)
        if (in_vtable(t->methods[k]))
            buf_printf(b, "    amrt_%s_proxy_%s_%s,\n", x->name, t->name, t->methods[k]->macro_name);
}

/* The three IUnknown thunks of a generated vtable (they hand over to the
 * runtime's AmrtCall* or AmrtProxy* functions) and the vtable's opening. */
static void emit_unknown_vtbl_start(Buf *b, const char *iface, const char *tag, const char *rt, const char *vtbl)
{
    buf_printf(b, "static HRESULT STDMETHODCALLTYPE amrt_%s_%sQueryInterface(%s *This, REFIID riid, void **ppv)\n"
                  "{\n    return Amrt%sQueryInterface(This, riid, ppv);\n}\n\n", iface, tag, iface, rt);
    buf_printf(b, "static ULONG STDMETHODCALLTYPE amrt_%s_%sAddRef(%s *This)\n{\n    return Amrt%sAddRef(This);\n}\n\n",
               iface, tag, iface, rt);
    buf_printf(b, "static ULONG STDMETHODCALLTYPE amrt_%s_%sRelease(%s *This)\n{\n    return Amrt%sRelease(This);\n}\n\n",
               iface, tag, iface, rt);
    buf_printf(b, "static const %sVtbl %s_%s = {\n    amrt_%s_%sQueryInterface,\n    amrt_%s_%sAddRef,\n    amrt_%s_%sRelease,\n",
               iface, iface, vtbl, iface, tag, iface, tag, iface, tag);
}

static void emit_interface(Glue *g, Buf *b, Type *t)
{
    Type *a = t->async_iface;
    buf_printf(b, "/* ======================================================== %s / %s */\n\n", t->name, a->name);
    emit_tables(g, b, t);
    if (g->failed)
        return;
    buf_printf(b, "extern const AmrtInterface %s_amrt_glue;\n\n", t->name);
    emit_async_thunks(g, b, a, t);
    emit_unknown_vtbl_start(b, a->name, "", "Call", "amrt_vtbl");
    emit_async_vtbl_entries(g, b, a, t);
    buf_puts(b, "};\n\n");
    /* the proxy's IFoo */
    emit_proxy_thunks(g, b, t, t);
    emit_unknown_vtbl_start(b, t->name, "proxy_", "Proxy", "proxy_vtbl");
    emit_proxy_entries(g, b, t, t);
    buf_puts(b, "};\n\n");
    Type *abase = t->base && t->base->async_iface ? t->base : NULL;
    if (abase && abase->imported)
        buf_printf(b, "extern const AmrtInterface %s_amrt_glue;\n", abase->name);
    int count = 0;
    for (int k = 0; k < t->nmethods; k++)
        count += in_vtable(t->methods[k]);
    buf_printf(b, "const AmrtInterface %s_amrt_glue = {\n    AMRT_GLUE_VERSION, \"%s\", &IID_%s, &IID_%s, %s%s%s,\n"
                  "    %d, %s_methods, &%s_amrt_vtbl, &%s_proxy_vtbl\n};\n\n",
               t->name, t->name, t->name, a->name, abase ? "&" : "NULL", abase ? abase->name : "",
               abase ? "_amrt_glue" : "", count, t->name, a->name, t->name);
}

static void collect(Stmt **stmts, int n, PtrVec *out)
{
    for (int i = 0; i < n; i++) {
        if (stmts[i]->kind == ST_INTERFACE && stmts[i]->type->async_iface)
            vec_push(out, stmts[i]->type);
        else if (stmts[i]->kind == ST_LIBRARY)
            collect(stmts[i]->stmts, stmts[i]->nstmts, out);
    }
}

int emit_glue(Compiler *cc, Buf *out, const char *header_name)
{
    Emitter e;
    if (!emitter_init(&e, cc))
        return -1;
    Glue g = { .e = &e };
    PtrVec ifaces = {0};
    collect(cc->main_file->stmts, cc->main_file->nstmts, &ifaces);
    Buf body = {0};
    for (int i = 0; i < ifaces.n && !g.failed; i++)
        emit_interface(&g, &body, ifaces.v[i]);
    if (!g.failed) {
        print_banner(&e, out);
        buf_printf(out, "/* The call-object glue of libamidlrt: link this file, %s's IID file and\n"
                        " * -lamidlrt; the interfaces register themselves (a constructor). */\n", e.file_base);
        buf_printf(out, "#include <stddef.h>\n#include <string.h>\n#include \"amidlrt.h\"\n#include \"%s\"\n\n", header_name);
        buf_puts(out, "#if defined(__GNUC__)\n#pragma GCC diagnostic ignored \"-Wunused-parameter\"\n#endif\n\n");
        buf_write(out, g.fwd.data ? g.fwd.data : "", g.fwd.len);
        buf_write(out, g.types.data ? g.types.data : "", g.types.len);
        buf_putc(out, '\n');
        buf_write(out, body.data ? body.data : "", body.len);
        buf_printf(out, "/* ======================================================== registration */\n\n");
        buf_printf(out, "const AmrtInterface *const %s_amrt_interfaces[] = {\n", e.stem);
        for (int i = 0; i < ifaces.n; i++)
            buf_printf(out, "    &%s_amrt_glue,\n", ((Type *)ifaces.v[i])->name);
        buf_printf(out, "    NULL\n};\n\n__attribute__((constructor)) static void %s_amrt_register(void)\n{\n"
                        "    AmrtRegisterInterfaces(%s_amrt_interfaces, %d);\n}\n", e.stem, e.stem, ifaces.n);
    }
    buf_free(&g.fwd);
    buf_free(&g.types);
    HASH_CLEAR(hh, g.cache);            /* the entries live in the arena */
    HASH_CLEAR(hh, g.bodies);
    buf_free(&body);
    vec_free(&ifaces);
    return g.failed ? -1 : 0;
}
