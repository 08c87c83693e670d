/*
 * sema.c - the checks of the semantic pass: attributes where they may
 * stand, types, fields, enums, methods, interfaces, coclasses.
 *
 * Files are checked in the order their parsing finished (imports before
 * the files that import them), so every base interface and every async
 * twin (async.c) exists before it is used. After the checks, the glue of
 * the main file's [async_uuid] interfaces is lowered (glue.c). The
 * emitters then print the checked model and decide nothing.
 */
#include "parse.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

const char *attr_args_spec(AttrKind k);
const char *attr_suggest(const char *name);

typedef struct Ctx {
    Compiler *cc;
    Scope *scope;
    Type *iface;            /* enclosing interface / module */
    Var **params;           /* parameters in scope (attribute expressions) */
    int nparams;
    Var **fields;           /* struct fields in scope */
    int nfields;
    bool in_library, in_module, in_dispiface;
    bool glue;              /* the parameters are passed by the call-object glue */
    File *file;
} Ctx;

static Var *find_param(Var **v, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (v[i]->name && !strcmp(v[i]->name, name))
            return v[i];
    return NULL;
}


/* ==================================================================== checks */

static void check_type(Ctx *c, Type *t, bool body);
static void check_stmts(Ctx *c, Stmt **stmts, int n);

static const char *where_name(unsigned w)
{
    switch (w) {
    case AW_IFACE: return "an interface";
    case AW_METHOD: return "a method";
    case AW_PARAM: return "a parameter";
    case AW_FIELD: return "a field";
    case AW_TYPEDEF: return "a typedef";
    case AW_COCLASS: return "a coclass";
    case AW_LIBRARY: return "a library";
    case AW_MODULE: return "a module";
    case AW_ENUMVAL: return "an enum value";
    case AW_DISPIFACE: return "a dispinterface";
    case AW_STRUCT: return "a type";
    case AW_FUNC: return "a function";
    case AW_COCLASS_ITEM: return "a coclass member";
    default: return "this declaration";
    }
}

/* Resolve identifiers of an attribute expression against parameters,
 * fields and constants; report names that are none of them. */
static void check_attr_expr(Ctx *c, Attr *a, Expr *e, int depth)
{
    if (!e || depth > MAX_NEST_DEPTH)
        return;
    switch (e->kind) {
    case EX_IDENT: {
        Var *v = find_param(c->params, c->nparams, e->text);
        if (!v)
            v = find_param(c->fields, c->nfields, e->text);
        if (!v)
            v = scope_find_const(c->scope, e->text);
        /* as widl: only an error where the name is needed, the glue's
         * parameters (a structure used there fails in glue.c) */
        if (!v && c->params && c->glue)
            error_at(c->cc, e->loc, "'%s' in %s() is not a parameter of this method", e->text, a->name);
        else if (!v && c->params)
            warning_at(c->cc, W_UNRESOLVED_NAME, e->loc, "'%s' in %s() is not a parameter of this method", e->text,
                       a->name);
        else if (!v)
            warning_at(c->cc, W_UNRESOLVED_NAME, e->loc, "'%s' in %s() is not a field of this structure", e->text,
                       a->name);
        e->ref = v;
        break;
    }
    case EX_MEMBER: case EX_PMEMBER:
        check_attr_expr(c, a, e->a, depth + 1);
        break;
    default:
        check_attr_expr(c, a, e->a, depth + 1);
        check_attr_expr(c, a, e->b, depth + 1);
        check_attr_expr(c, a, e->c, depth + 1);
        break;
    }
}

static void check_attrs(Ctx *c, Attr *attrs, unsigned where)
{
    for (Attr *a = attrs; a; a = a->next) {
        if (a->kind == A_UNKNOWN) {
            const char *s = attr_suggest(a->name);
            if (s)
                error_at(c->cc, a->loc, "unknown attribute '%s'; did you mean '%s'?", a->name, s);
            else
                error_at(c->cc, a->loc, "unknown attribute '%s'", a->name);
            continue;
        }
        if (!(attr_where(a->kind) & where))
            error_at(c->cc, a->loc, "attribute '%s' is not allowed on %s", a->name, where_name(where));
        const char *spec = attr_args_spec(a->kind);
        int nonempty = 0;
        for (int i = 0; i < a->nargs; i++)
            if (a->args[i]->kind != EX_EMPTY)
                nonempty++;
        if (!*spec && a->nargs) {
            error_at(c->cc, a->loc, "attribute '%s' takes no arguments", a->name);
        } else if ((*spec == 'e' || *spec == 'u' || *spec == 't') && (a->nargs != 1 || nonempty != 1)) {
            error_at(c->cc, a->loc, "attribute '%s' takes one argument", a->name);
        } else if (*spec == '?' && a->nargs > 1) {
            error_at(c->cc, a->loc, "attribute '%s' takes at most one argument", a->name);
        }
        if ((a->kind == A_UUID || a->kind == A_ASYNC_UUID) && a->nargs == 1) {
            Expr *e = a->args[0];
            Uuid *u = arena_alloc(c->cc->arena, sizeof(Uuid));
            const char *txt = e->text ? e->text : "";
            if (e->kind != EX_UUID && e->kind != EX_STR)
                error_at(c->cc, e->loc, "%s() expects a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)", a->name);
            else if (!parse_uuid(txt, u))
                error_at(c->cc, e->loc, "'%s' is not a valid GUID (expected xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)", txt);
            else
                a->uuid = u;
        }
        if (where & (AW_PARAM | AW_FIELD)) {
            switch (a->kind) {
            case A_SIZE_IS: case A_LENGTH_IS: case A_MAX_IS: case A_MIN_IS: case A_FIRST_IS:
            case A_LAST_IS: case A_SWITCH_IS: case A_IID_IS: case A_BYTE_COUNT:
                for (int i = 0; i < a->nargs; i++)
                    check_attr_expr(c, a, a->args[i], 0);
                break;
            default:
                break;
            }
        }
    }
}

static void check_array_sizes(Ctx *c, Type *t, int depth)
{
    for (; t && depth < MAX_NEST_DEPTH; t = t->ref, depth++) {
        if (t->kind == TY_ALIAS || t->kind == TY_INTERFACE || t->kind == TY_STRUCT || t->kind == TY_UNION)
            return;
        if (t->kind == TY_ARRAY && TX(t)->size) {
            long long v;
            if (const_eval(c->cc, c->scope, TX(t)->size, &v, true, 0) && v < 0)
                error_at(c->cc, TX(t)->size->loc, "array size is negative");
        }
        if (t->kind == TY_FUNCTION)
            return;
    }
}

static void check_fields(Ctx *c, Type *t)
{
    Ctx fc = *c;
    fc.fields = t->fields;
    fc.nfields = t->nfields;
    fc.params = NULL;
    fc.glue = false;
    fc.nparams = 0;
    for (int i = 0; i < t->nfields; i++) {
        Var *f = t->fields[i];
        for (int j = 0; j < i; j++)
            if (f->name && t->fields[j]->name && !strcmp(f->name, t->fields[j]->name)) {
                error_at(c->cc, f->loc, "duplicate member '%s'", f->name);
                note_at(c->cc, t->fields[j]->loc, "previous definition of '%s' was here", f->name);
                break;
            }
        check_attrs(&fc, f->attrs, AW_FIELD | (t->kind == TY_UNION ? AW_UNION_CASE : 0));
        if (f->type) {
            check_array_sizes(&fc, f->type, 0);
            Type *ft = f->type->kind == TY_BITFIELD ? f->type->ref : f->type;
            if (ft && (ft->kind == TY_STRUCT || ft->kind == TY_UNION || ft->kind == TY_ENCUNION || ft->kind == TY_ENUM) &&
                !ft->name)
                check_type(c, ft, true);
            if (f->type->kind == TY_VOID)
                error_at(c->cc, f->loc, "field '%s' has type void", f->name ? f->name : "");
        }
    }
}

static void check_enum(Ctx *c, Type *t)
{
    long long next = 0;
    for (int i = 0; i < t->nfields; i++) {
        Var *v = t->fields[i];
        check_attrs(c, v->attrs, AW_ENUMVAL);
        if (VX(v)->init) {
            long long val;
            if (const_eval(c->cc, c->scope, VX(v)->init, &val, false, 0)) {
                v->value = val;
                v->has_value = true;
            }
        } else {
            v->value = next;
            v->has_value = true;
        }
        next = v->value + 1;
        Var *old = scope_find_const(c->scope, v->name);
        if (old && old != v && !c->file->is_c_header && old->loc.file == v->loc.file && c->file == c->cc->main_file) {
            error_at(c->cc, v->loc, "redefinition of enumerator '%s'", v->name);
            note_at(c->cc, old->loc, "previous definition of '%s' was here", v->name);
        }
        scope_add_const(c->cc, TX(t)->ns ? TX(t)->ns : c->scope, v);
    }
}

static void check_type(Ctx *c, Type *t, bool body)
{
    if (!t || !body)
        return;
    switch (t->kind) {
    case TY_STRUCT: case TY_UNION:
        check_fields(c, t);
        break;
    case TY_ENCUNION: {
        check_fields(c, t);
        Type *st = type_strip_alias(TX(t)->switch_var->type);
        if (st && st->kind != TY_BASIC && st->kind != TY_ENUM)
            error_at(c->cc, TX(t)->switch_var->loc, "switch type of union must be an integer or enum type");
        for (int i = 0; i < t->nfields; i++)
            for (int k = 0; k < VX(t->fields[i])->ncases; k++) {
                long long v;
                const_eval(c->cc, c->scope, VX(t->fields[i])->case_exprs[k], &v, false, 0);
            }
        break;
    }
    case TY_ENUM:
        check_enum(c, t);
        break;
    default:
        break;
    }
}

bool type_is_iunknown(const Type *t)
{
    return t && t->name && !strcmp(t->name, "IUnknown") && !TX(t)->ns;
}

/* ==================================================================== base chains
 *
 * What an interface's whole chain of bases gives it is computed once, when
 * its methods are named, from its base's (which was named before it), so
 * each interface costs its own methods whatever the depth of its chain
 * (#13: walking the chain per interface made a 20,000-deep chain
 * quadratic, and the walks stopped at 1,000 levels). An interface has
 * its IfaceChain (chain_of) only when its base has one (or it has no base): every
 * chain that has one is finite, and every interface on it is named. */

typedef struct IfaceChain IfaceChain;
typedef struct ChainTable ChainTable;

/* The vtable names (macro names) of a chain, for name_methods' clash
 * test. A set is shared down a line of single inheritance: the first
 * interface derived from the set's tip adds its names to it and becomes
 * the tip; another one derived from an interface above the tip starts a
 * set of its own whose parent is that one (names of the parent count up
 * to the depth of the base, parent_cut). */
typedef struct ChainName {
    const char *name;
    uint32_t hash;
    int depth;                  /* the shallowest interface of the set's line using the name */
    struct ChainName *next;
} ChainName;

typedef struct NameSet {
    ChainName **buckets;
    unsigned nbuckets, count;
    Type *tip;                  /* the deepest interface whose names are in the set */
    struct NameSet *parent;
    int parent_cut;
} NameSet;

struct IfaceChain {
    int depth;                  /* bases below it (0: no base) */
    int slots;                  /* vtable slots of the interface and its bases */
    bool dispatch;              /* IDispatch is on the chain (the interface itself included) */
    Type *incomplete;           /* the first on the chain whose base is declared but not defined */
    NameSet *names;             /* the chain's names, the interface's own included */
};

/* Type -> its IfaceChain (a table of the compilation, not a field of
 * every Type: 160,000 structures would pay for it) */
struct ChainTable {
    const Type **keys;
    IfaceChain **vals;
    size_t cap, count;
};

static size_t ptr_slot(const Type *t, size_t cap)
{
    uintptr_t h = (uintptr_t)t >> 3;
    h ^= h >> 17;
    return (size_t)(h * 0x9E3779B97F4A7C15u) & (cap - 1);
}

static IfaceChain *chain_of(Compiler *cc, const Type *t)
{
    ChainTable *ct = cc->iface_chains;
    if (!t || !ct)
        return NULL;
    for (size_t i = ptr_slot(t, ct->cap);; i = (i + 1) & (ct->cap - 1)) {
        if (ct->keys[i] == t)
            return ct->vals[i];
        if (!ct->keys[i])
            return NULL;
    }
}

static void chain_set(Compiler *cc, const Type *t, IfaceChain *ch)
{
    ChainTable *ct = cc->iface_chains;
    if (!ct)
        ct = cc->iface_chains = arena_alloc(cc->arena, sizeof *ct);
    if (2 * (ct->count + 1) > ct->cap) {
        size_t cap = ct->cap ? ct->cap * 2 : 64;
        const Type **k = arena_alloc(cc->arena, sizeof *k * cap);
        IfaceChain **v = arena_alloc(cc->arena, sizeof *v * cap);
        for (size_t i = 0; i < ct->cap; i++)
            if (ct->keys[i]) {
                size_t j = ptr_slot(ct->keys[i], cap);
                while (k[j])
                    j = (j + 1) & (cap - 1);
                k[j] = ct->keys[i];
                v[j] = ct->vals[i];
            }
        ct->keys = k;
        ct->vals = v;
        ct->cap = cap;
    }
    size_t i = ptr_slot(t, ct->cap);
    while (ct->keys[i] && ct->keys[i] != t)
        i = (i + 1) & (ct->cap - 1);
    if (!ct->keys[i])
        ct->count++;
    ct->keys[i] = t;
    ct->vals[i] = ch;
}

static uint32_t name_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static ChainName *nameset_find(NameSet *ns, const char *name, uint32_t h)
{
    if (!ns->nbuckets)
        return NULL;
    for (ChainName *e = ns->buckets[h & (ns->nbuckets - 1)]; e; e = e->next)
        if (e->hash == h && !strcmp(e->name, name))
            return e;
    return NULL;
}

/* a name of the chain up to depth cut */
static bool nameset_has(NameSet *ns, const char *name, int cut)
{
    uint32_t h = name_hash(name);
    for (; ns; cut = ns->parent_cut, ns = ns->parent) {
        ChainName *e = nameset_find(ns, name, h);
        if (e && e->depth <= cut)
            return true;
    }
    return false;
}

static void nameset_add(Compiler *cc, NameSet *ns, const char *name, int depth)
{
    uint32_t h = name_hash(name);
    if (nameset_find(ns, name, h))
        return;                 /* the shallower use stays */
    if (ns->count >= ns->nbuckets) {
        unsigned n = ns->nbuckets ? ns->nbuckets * 2 : 8;
        ChainName **b = arena_alloc(cc->arena, sizeof *b * n);
        for (unsigned i = 0; i < ns->nbuckets; i++)
            for (ChainName *e = ns->buckets[i], *next; e; e = next) {
                next = e->next;
                e->next = b[e->hash & (n - 1)];
                b[e->hash & (n - 1)] = e;
            }
        ns->buckets = b;
        ns->nbuckets = n;
    }
    ChainName *e = arena_alloc(cc->arena, sizeof *e);
    e->name = name;
    e->hash = h;
    e->depth = depth;
    e->next = ns->buckets[h & (ns->nbuckets - 1)];
    ns->buckets[h & (ns->nbuckets - 1)] = e;
    ns->count++;
}

static int own_slots(const Type *t)
{
    int n = 0;
    for (int i = 0; i < TX(t)->nmethods; i++)
        if (!attr_has(TX(t)->methods[i]->attrs, A_CALL_AS))
            n++;
    return n;
}

/* Chains without an IfaceChain (a base not checked yet, a cycle broken
 * elsewhere) are walked; the guard only ends a cycle. */
#define CHAIN_GUARD (1 << 24)

int vtbl_method_count(Compiler *cc, Type *t)
{
    int n = 0;
    for (int guard = 0; t && guard < CHAIN_GUARD; t = TX(t)->base, guard++) {
        IfaceChain *ch = chain_of(cc, t);
        if (ch)
            return n + ch->slots;
        n += own_slots(t);
    }
    return n;
}

bool chain_derives_from_idispatch(Compiler *cc, Type *t)
{
    for (int guard = 0; t && guard < CHAIN_GUARD; t = TX(t)->base, guard++) {
        IfaceChain *ch = chain_of(cc, t);
        if (ch)
            return ch->dispatch;
        if (t->name && !strcmp(t->name, "IDispatch"))
            return true;
    }
    return false;
}

/* the first interface of t's chain (t included) whose base is declared but not defined */
static Type *chain_incomplete(Compiler *cc, Type *t)
{
    for (int guard = 0; t && guard < CHAIN_GUARD; t = TX(t)->base, guard++) {
        IfaceChain *ch = chain_of(cc, t);
        if (ch)
            return ch->incomplete;
        if (TX(t)->incomplete_base)
            return t;
    }
    return NULL;
}

/* is t on the chain of b (b included)? */
static bool chain_has(Compiler *cc, Type *b, const Type *t)
{
    for (int guard = 0; b && guard < CHAIN_GUARD; b = TX(b)->base, guard++) {
        if (b == t)
            return true;
        if (chain_of(cc, b))
            return false;       /* a named chain: t, not named yet, is not on it */
    }
    return false;
}

/* t's IfaceChain (name_methods: its base is final and named), and the set
 * its own names go into; NULL when its base has none */
static IfaceChain *chain_make(Compiler *cc, Type *t)
{
    Type *b = TX(t)->base;
    IfaceChain *bc = chain_of(cc, b);
    if (b && !bc)
        return NULL;
    IfaceChain *ch = arena_alloc(cc->arena, sizeof *ch);
    ch->depth = bc ? bc->depth + 1 : 0;
    ch->slots = (bc ? bc->slots : 0) + own_slots(t);
    ch->dispatch = (bc && bc->dispatch) || (t->name && !strcmp(t->name, "IDispatch"));
    ch->incomplete = TX(t)->incomplete_base ? t : bc ? bc->incomplete : NULL;
    if (bc && bc->names->tip == b) {
        ch->names = bc->names;          /* t continues b's line */
    } else {
        ch->names = arena_alloc(cc->arena, sizeof *ch->names);
        ch->names->parent = bc ? bc->names : NULL;
        ch->names->parent_cut = bc ? bc->depth : -1;
    }
    return ch;
}

static void check_method(Ctx *c, Var *m, unsigned where)
{
    Ctx mc = *c;
    bool local = attr_has(m->attrs, A_LOCAL) || (c->iface && attr_has(c->iface->attrs, A_LOCAL));
    Type *fn = m->type;
    mc.params = fn->fields;
    mc.nparams = fn->nfields;
    /* glue.c passes every vtable method of an [async_uuid] interface */
    mc.glue = c->iface && c->iface->kind == TY_INTERFACE && attr_has(c->iface->attrs, A_ASYNC_UUID) &&
              !attr_has(m->attrs, A_CALL_AS);
    check_attrs(c, m->attrs, where);
    for (int i = 0; i < fn->nfields; i++) {
        Var *p = fn->fields[i];
        check_attrs(&mc, p->attrs, AW_PARAM);
        if (p->type && p->type->kind == TY_VOID && fn->nfields == 1 && !p->name) {
            fn->nfields = 0;   /* (void) */
            break;
        }
        if (p->type && p->type->kind == TY_VOID)
            error_at(c->cc, p->loc, "parameter '%s' has type void", p->name ? p->name : "");
        for (int j = 0; j < i; j++)
            if (p->name && fn->fields[j]->name && !strcmp(p->name, fn->fields[j]->name)) {
                error_at(c->cc, p->loc, "redefinition of parameter '%s'", p->name);
                note_at(c->cc, fn->fields[j]->loc, "previous definition of '%s' was here", p->name);
                break;
            }
        /* [out] data must be returned through a pointer; [local] methods are
         * never marshaled, and the SDK passes structs there (d3d12video.idl) */
        if (attr_has(p->attrs, A_OUT) && p->type && !type_is_pointer(p->type) && !local)
            error_at(c->cc, p->loc, "[out] parameter '%s' is not a pointer", p->name ? p->name : "");
        check_array_sizes(&mc, p->type, 0);
    }
}

/* C names of methods, as widl and MIDL spell them: [propget] X -> get_X
 * (put_, putref_; WinRT's [eventadd] X add_X, [eventremove] remove_X); a
 * method whose name an ancestor already uses in the C vtable becomes IFoo_X
 * there (C has no overloading; C++ keeps X). */
void name_methods(Compiler *cc, Type *t)
{
    /* named once (a second call only renames: its names are in the set) */
    IfaceChain *ch = chain_of(cc, t) ? NULL : chain_make(cc, t);
    IfaceChain *bc = chain_of(cc, TX(t)->base);
    for (int i = 0; i < TX(t)->nmethods; i++) {
        Var *m = TX(t)->methods[i];
        const char *n = m->name ? m->name : "";
        if (t->kind != TY_DISPINTERFACE) {
            if (attr_has(m->attrs, A_PROPGET))
                n = arena_printf(cc->arena, "get_%s", n);
            else if (attr_has(m->attrs, A_PROPPUT))
                n = arena_printf(cc->arena, "put_%s", n);
            else if (attr_has(m->attrs, A_PROPPUTREF))
                n = arena_printf(cc->arena, "putref_%s", n);
            else if (attr_has(m->attrs, A_EVENTADD))         /* WinRT events, as widl names them */
                n = arena_printf(cc->arena, "add_%s", n);
            else if (attr_has(m->attrs, A_EVENTREMOVE))
                n = arena_printf(cc->arena, "remove_%s", n);
        }
        VXW(cc, m)->macro_name = n;
        VXW(cc, m)->c_name = n;
        bool clash = false;
        if (bc) {
            clash = nameset_has(bc->names, n, bc->depth);
        } else {
            int guard = 0;
            for (Type *a = TX(t)->base; a && !clash && guard++ < CHAIN_GUARD; a = TX(a)->base)
                for (int k = 0; k < TX(a)->nmethods && !clash; k++)
                    if (VX(TX(a)->methods[k])->macro_name && !strcmp(VX(TX(a)->methods[k])->macro_name, n) &&
                        !attr_has(TX(a)->methods[k]->attrs, A_CALL_AS))
                        clash = true;
        }
        if (clash)
            VXW(cc, m)->c_name = arena_printf(cc->arena, "%s_%s", t->name, n);
        /* unnamed parameters get names, as widl gives them (a, b, ...) */
        Type *fn = m->type;
        for (int k = 0; k < fn->nfields; k++)
            if (!fn->fields[k]->name && !(fn->nfields == 1 && fn->fields[k]->type && fn->fields[k]->type->kind == TY_VOID))
                fn->fields[k]->name = k < 26 ? arena_printf(cc->arena, "%c", 'a' + k) : arena_printf(cc->arena, "p%d", k);
    }
    if (ch) {
        for (int i = 0; i < TX(t)->nmethods; i++)
            if (!attr_has(TX(t)->methods[i]->attrs, A_CALL_AS))
                nameset_add(cc, ch->names, VX(TX(t)->methods[i])->macro_name, ch->depth);
        ch->names->tip = t;
        chain_set(cc, t, ch);
    }
}

/* [explicit_handle] on an RPC interface or one of its methods: a method
 * with no handle_t parameter of its own takes one first, named IDL_handle,
 * as MIDL and widl write it (the prototype's ABI) */
static void add_explicit_handle(Compiler *cc, Type *iface, Var *m)
{
    if (!attr_has(m->attrs, A_EXPLICIT_HANDLE) && !attr_has(iface->attrs, A_EXPLICIT_HANDLE))
        return;
    Type *fn = m->type;
    for (int i = 0; i < fn->nfields; i++) {
        Type *pt = type_strip_alias(fn->fields[i]->type);
        if (pt && pt->kind == TY_BASIC && pt->basic == B_HANDLE)
            return;
    }
    Var *h = new_var(cc, "IDL_handle", m->loc);
    h->type = new_basic(cc, B_HANDLE, 0, m->loc);
    Var **f = arena_alloc(cc->arena, sizeof *f * (size_t)(fn->nfields + 1));
    f[0] = h;
    if (fn->nfields)
        memcpy(f + 1, fn->fields, sizeof *f * (size_t)fn->nfields);
    fn->fields = f;
    fn->nfields++;
}

static void check_one_interface(Ctx *c, Type *t);

/* t's base when it is defined later in this file and not checked yet */
static Type *late_base(Type *t)
{
    Type *lb = type_strip_alias(TX(t)->base);
    if (lb && lb->kind == TY_INTERFACE && lb->defined && !TX(lb)->sema_state && lb->imported == t->imported)
        return lb;
    return NULL;
}

static void check_interface(Ctx *c, Type *t)
{
    Compiler *cc = c->cc;
    if (TX(t)->sema_state)
        return;                 /* checked already, as the base of an interface before it */
    TXW(cc, t)->sema_state = 1;
    /* a base defined later in this file is checked first: the slots, the C
     * names and the async twin of t depend on it. The chain of such bases
     * is checked deepest first, in a loop (a recursion would overflow the
     * stack on a long chain defined in reverse). */
    PtrVec chain = {0};
    for (Type *x = t, *lb; (lb = late_base(x)); x = lb) {
        TXW(cc, lb)->sema_state = 1;
        vec_push(&chain, lb);
    }
    Ctx bc = *c;
    bc.iface = NULL;
    for (int i = chain.n - 1; i >= 0; i--) {
        Type *b = chain.v[i], *user = i ? chain.v[i - 1] : t;
        check_one_interface(&bc, b);
        if (TX(b)->named_as_base && !user->imported)
            warning_at(cc, W_LATE_BASE, user->loc,
                       "base interface '%s' of '%s' is defined after it (MIDL accepts this, widl does not)", b->name,
                       user->name);
    }
    vec_free(&chain);
    check_one_interface(c, t);
}

static void check_one_interface(Ctx *c, Type *t)
{
    Compiler *cc = c->cc;
    Ctx ic = *c;
    ic.iface = t;
    check_attrs(c, t->attrs, AW_IFACE | (TX(t)->ns ? AW_WINRT : 0));
    /* collect methods from the body */
    TXW(cc, t)->methods = NULL;
    TXW(cc, t)->nmethods = 0;
    for (int i = 0; i < TX(t)->nstmts; i++) {
        Stmt *s = TX(t)->stmts[i];
        if (s->kind != ST_DECL)
            continue;
        for (int j = 0; j < s->ndecls; j++) {
            Var *m = s->decls[j];
            if (m->type->kind != TY_FUNCTION) {
                error_at(cc, m->loc, "'%s' is not a method (interfaces hold methods only)", m->name);
                continue;
            }
            VXW(cc, m)->owner = t;
            push_var(cc, &TXW(cc, t)->methods, &TXW(cc, t)->nmethods, m);
        }
    }
    /* nested statements other than methods (typedefs, consts, cpp_quote) */
    for (int i = 0; i < TX(t)->nstmts; i++)
        if (TX(t)->stmts[i]->kind != ST_DECL)
            check_stmts(&ic, &TX(t)->stmts[i], 1);
    bool object = attr_has(t->attrs, A_OBJECT) || TX(t)->ns || attr_has(t->attrs, A_ODL);
    Type *base = TX(t)->base;
    bool base_error = false;
    if (base) {
        Type *b = type_strip_alias(base);
        if (!type_is_interface(b)) {
            error_at(cc, t->loc, "base of interface '%s' is not an interface: '%s'", t->name, type_name_of(base));
            TXW(cc, t)->base = NULL;
            base_error = true;
        } else if (b->declared_only && !TX(b)->generic) {
            /* as widl: an error in the main file only; an imported file may
             * name a base its own compilation never needs complete */
            if (!t->imported && TX(b)->named_as_base) {
                error_at(cc, b->loc, "unknown base interface '%s'", b->name);
                note_missing_import(cc, b->loc, b->name);
            } else if (!t->imported) {
                error_at(cc, t->loc, "base interface '%s' of '%s' is declared but not defined", b->name, t->name);
            }
            TXW(cc, t)->incomplete_base = b;
            TXW(cc, t)->base = NULL;
            base_error = true;
        } else {
            /* ... until the main file derives from it: its vtable needs the whole chain */
            Type *x = t->imported ? NULL : chain_incomplete(cc, b);
            if (x)
                error_at(cc, t->loc, "interface '%s' derives from '%s', whose base '%s' is declared but not defined",
                         t->name, x->name, TX(x)->incomplete_base->name);
            TXW(cc, t)->base = b;
            if (chain_has(cc, b, t)) {
                error_at(cc, t->loc, "interface '%s' inherits from itself", t->name);
                TXW(cc, t)->base = NULL;
            }
            if (TX(t)->base && TX(TX(t)->base)->is_async && !attr_has(t->attrs, A_ASYNC_UUID) && !TX(t)->is_async) {
                error_at(cc, t->loc, "interface '%s' derives from the asynchronous interface '%s'", t->name, b->name);
            }
        }
    }
    /* MIDL requires a uuid on [object] interfaces; real SDK files omit it
     * (amvideo.idl), so it is a warning unless the IID is needed (async_uuid) */
    if (object && !TX(t)->ns && !attr_find(t->attrs, A_UUID) && !attr_has(t->attrs, A_LOCAL)) {
        if (attr_has(t->attrs, A_ASYNC_UUID))
            error_at(cc, t->loc, "[object] interface '%s' has no uuid", t->name);
        else if (!t->imported)
            warning_at(cc, W_MISSING_UUID, t->loc, "[object] interface '%s' has no uuid", t->name);
    }
    if (object && !TX(t)->base && !base_error && !type_is_iunknown(t) && !TX(t)->ns && t->kind == TY_INTERFACE && !t->imported)
        warning_at(cc, W_MISSING_BASE, t->loc, "[object] interface '%s' has no base interface", t->name);
    /* as widl: an interface that inherits is a COM interface even without [object] */
    TXW(cc, t)->is_object = object || (TX(t)->base && t->kind == TY_INTERFACE);
    int base_count = vtbl_method_count(cc, TX(t)->base);
    int idx = base_count;
    for (int i = 0; i < TX(t)->nmethods; i++) {
        Var *m = TX(t)->methods[i];
        check_method(&ic, m, AW_METHOD);
        for (int j = 0; j < i; j++)
            if (m->name && TX(t)->methods[j]->name && !strcmp(m->name, TX(t)->methods[j]->name) &&
                attr_has(m->attrs, A_PROPGET) == attr_has(TX(t)->methods[j]->attrs, A_PROPGET) &&
                attr_has(m->attrs, A_PROPPUT) == attr_has(TX(t)->methods[j]->attrs, A_PROPPUT) &&
                attr_has(m->attrs, A_PROPPUTREF) == attr_has(TX(t)->methods[j]->attrs, A_PROPPUTREF) &&
                !attr_has(m->attrs, A_OVERLOAD) && !TX(t)->ns) {
                error_at(cc, m->loc, "duplicate method '%s' in interface '%s'", m->name, t->name);
                note_at(cc, TX(t)->methods[j]->loc, "previous definition of '%s' was here", m->name);
                break;
            }
        if (!attr_has(m->attrs, A_CALL_AS))
            VXW(cc, m)->vtbl_index = idx++;
        if (!TX(t)->is_object)
            add_explicit_handle(cc, t, m);
    }
    name_methods(cc, t);
    Attr *au = attr_find(t->attrs, A_ASYNC_UUID);
    if (au && au->uuid)
        TXW(cc, t)->async_iface = async_synthesize(c->cc, t, au);
    TXW(cc, t)->sema_state = 2;
}

/* widl's checks of a runtimeclass: a contract or version attribute (in
 * every file, imported ones too); its member interfaces and those its
 * static, activatable and composable attributes name defined (a forward
 * declaration is not enough; widl checks these in the main file only) */
static bool undefined_iface(Type *it)
{
    it = type_strip_alias(it);
    return it && type_is_interface(it) && !TX(it)->generic && (it->declared_only || !it->defined);
}

static void check_runtimeclass(Ctx *c, Type *t)
{
    Compiler *cc = c->cc;
    if (!attr_has(t->attrs, A_CONTRACT) && !attr_has(t->attrs, A_VERSION))
        error_at(cc, t->loc, "runtimeclass '%s' requires contract or version attribute", t->name);
    if (t->imported)
        return;
    for (int i = 0; i < TX(t)->nifaces; i++)
        if (undefined_iface(TX(t)->ifaces[i]))
            error_at(cc, TX(t)->winrt_iface_locs ? TX(t)->winrt_iface_locs[i] : t->loc,
                     "member interface '%s' of runtimeclass '%s' is undefined", type_name_of(TX(t)->ifaces[i]), t->name);
    for (Attr *a = t->attrs; a; a = a->next) {
        const char *what = a->kind == A_STATIC ? "static" : a->kind == A_ACTIVATABLE ? "activation"
                         : a->kind == A_COMPOSABLE ? "composition" : NULL;
        if (what && a->nargs > 0 && a->args[0]->kind == EX_CAST && undefined_iface(a->args[0]->type))
            error_at(cc, a->loc, "%s interface '%s' is undefined", what, type_name_of(a->args[0]->type));
    }
}

static void check_coclass(Ctx *c, Type *t)
{
    if (t->kind == TY_RUNTIMECLASS)
        check_runtimeclass(c, t);
    check_attrs(c, t->attrs, t->kind == TY_RUNTIMECLASS ? AW_WINRT : AW_COCLASS);
    if (t->kind == TY_COCLASS && !attr_find(t->attrs, A_UUID))
        error_at(c->cc, t->loc, "coclass '%s' has no uuid", t->name);
    for (int i = 0; i < TX(t)->nifaces; i++) {
        check_attrs(c, TX(t)->iface_attrs[i], AW_COCLASS_ITEM | AW_WINRT);
        Type *it = type_strip_alias(TX(t)->ifaces[i]);
        if (!type_is_interface(it) && it->kind != TY_COCLASS)
            error_at(c->cc, t->loc, "'%s' in coclass '%s' is not an interface", TX(t)->ifaces[i]->name, t->name);
    }
}

static void check_decl_stmt(Ctx *c, Stmt *s)
{
    if (s->defines_type)
        check_type(c, s->type, true);
    for (int i = 0; i < s->ndecls; i++) {
        Var *v = s->decls[i];
        if (v->type->kind == TY_FUNCTION) {
            check_method(c, v, c->in_module ? AW_FUNC | AW_METHOD : AW_FUNC | AW_METHOD);
        } else {
            check_attrs(c, v->attrs, AW_FIELD | AW_TYPEDEF | AW_FUNC);
            check_array_sizes(c, v->type, 0);
        }
        if (s->kind == ST_CONST && VX(v)->init) {
            long long val;
            bool numeric = VX(v)->init->kind != EX_STR && VX(v)->init->kind != EX_WSTR && VX(v)->init->kind != EX_FLOAT &&
                           VX(v)->init->kind != EX_CHAR && VX(v)->init->kind != EX_NULL;
            if (const_eval(c->cc, c->scope, VX(v)->init, &val, !numeric, 0)) {
                v->value = val;
                v->has_value = true;
            }
        }
    }
}

static void check_stmts(Ctx *c, Stmt **stmts, int n)
{
    for (int i = 0; i < n; i++) {
        Stmt *s = stmts[i];
        switch (s->kind) {
        case ST_TYPEDEF:
            check_attrs(c, s->attrs, AW_TYPEDEF | AW_STRUCT);
            if (s->defines_type)
                check_type(c, s->type, true);
            for (int j = 0; j < s->ndecls; j++)
                check_array_sizes(c, s->decls[j]->type->ref, 0);
            break;
        case ST_TYPE:
            check_attrs(c, s->attrs, AW_TYPEDEF | AW_STRUCT | AW_WINRT);
            check_type(c, s->type, s->defines_type);
            break;
        case ST_DECL: case ST_CONST:
            check_decl_stmt(c, s);
            break;
        case ST_INTERFACE:
            check_interface(c, s->type);
            break;
        case ST_DISPINTERFACE: {
            Type *t = s->type;
            check_attrs(c, t->attrs, AW_DISPIFACE | AW_IFACE);
            if (TX(t)->nifaces != -1) {
                for (int j = 0; j < t->nfields; j++)
                    check_attrs(c, t->fields[j]->attrs, AW_FIELD | AW_METHOD);
                for (int j = 0; j < TX(t)->nmethods; j++) {
                    VXW(c->cc, TX(t)->methods[j])->owner = t;
                    check_method(c, TX(t)->methods[j], AW_METHOD);
                }
                name_methods(c->cc, t);
            }
            break;
        }
        case ST_COCLASS: case ST_RUNTIMECLASS:
            check_coclass(c, s->type);
            break;
        case ST_MODULE: {
            Ctx mc = *c;
            mc.in_module = true;
            check_attrs(c, s->type->attrs, AW_MODULE);
            check_stmts(&mc, TX(s->type)->stmts, TX(s->type)->nstmts);
            break;
        }
        case ST_LIBRARY: {
            Ctx lc = *c;
            lc.in_library = true;
            check_attrs(c, s->attrs, AW_LIBRARY);
            check_stmts(&lc, s->stmts, s->nstmts);
            break;
        }
        case ST_NAMESPACE: {
            Ctx nc = *c;
            Scope *ns = c->scope;
            /* find the namespace scope by its dotted name */
            const char *q = s->text;
            (void)q;
            nc.scope = ns;
            check_stmts(&nc, s->stmts, s->nstmts);
            break;
        }
        case ST_DELEGATE: {
            Type *t = s->type;
            check_attrs(c, t->attrs, AW_WINRT | AW_IFACE);
            for (int j = 0; j < TX(t)->nmethods; j++)
                check_method(c, TX(t)->methods[j], AW_METHOD);
            break;
        }
        case ST_APICONTRACT:
            check_attrs(c, s->type->attrs, AW_WINRT);
            break;
        case ST_ATTRIBUTE:
            check_attrs(c, s->type->attrs, AW_WINRT);
            check_fields(c, s->type);
            break;
        case ST_IFACE_FWD: case ST_COCLASS_FWD:
            break;
        default:
            break;
        }
    }
}

/* MIDL writes a base interface defined later in the file (named before
 * any declaration) before its users: the statement of such a base moves
 * to just before the first interface deriving from it (the headers and
 * the glue print in order). A base declared ahead and defined later, as
 * widl accepts it, keeps widl's order (the header prints the base first). */
/* interface statements sorted by their type, to find a base's statement
 * by bisection (a scan of the file for each one was quadratic) */
typedef struct { Type *type; int idx; } IfaceIdx;

static int iface_idx_cmp(const void *pa, const void *pb)
{
    const IfaceIdx *a = pa, *b = pb;
    if (a->type != b->type)
        return (uintptr_t)a->type < (uintptr_t)b->type ? -1 : 1;
    return a->idx - b->idx;
}

/* the first entry of ix whose type is not below b */
static int iface_idx_first(const IfaceIdx *ix, int nix, Type *b)
{
    int lo = 0, hi = nix;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if ((uintptr_t)ix[mid].type < (uintptr_t)b)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* the first statement not placed yet that defines b, or -1 */
static int find_iface_stmt(const IfaceIdx *ix, int nix, const bool *done, Type *b)
{
    for (int lo = iface_idx_first(ix, nix, b); lo < nix && ix[lo].type == b; lo++)
        if (!done[ix[lo].idx])
            return ix[lo].idx;
    return -1;
}

/* statement i after the chain of its late bases, deepest first: a loop
 * collecting the chain (a recursion, or a depth limit, broke long chains:
 * past 256 the glue named a base before its definition) */
static void place_stmt(Stmt **in, int i, bool *done, const IfaceIdx *ix, int nix, Stmt **out, int *k,
                       PtrVec *chain)
{
    chain->n = 0;
    while (i >= 0 && !done[i]) {
        done[i] = true;
        vec_push(chain, in[i]);
        Type *b = in[i]->kind == ST_INTERFACE ? type_strip_alias(TX(in[i]->type)->base) : NULL;
        i = b && TX(b)->named_as_base ? find_iface_stmt(ix, nix, done, b) : -1;
    }
    for (int j = chain->n - 1; j >= 0; j--)
        out[(*k)++] = chain->v[j];
}

static void order_bases_first(Compiler *cc, Stmt **stmts, int n)
{
    bool late = false;
    for (int i = 0; i < n; i++)
        if (stmts[i]->kind == ST_LIBRARY)
            order_bases_first(cc, stmts[i]->stmts, stmts[i]->nstmts);
    int nix = 0;
    for (int i = 0; i < n; i++)
        nix += stmts[i]->kind == ST_INTERFACE;
    IfaceIdx *ix = arena_alloc(cc->arena, sizeof *ix * (size_t)(nix ? nix : 1));     /* (#13: not one a statement) */
    nix = 0;
    for (int i = 0; i < n; i++)
        if (stmts[i]->kind == ST_INTERFACE)
            ix[nix++] = (IfaceIdx){ stmts[i]->type, i };
    qsort(ix, (size_t)nix, sizeof *ix, iface_idx_cmp);
    /* late: some interface's base is defined by a statement after it */
    for (int i = 0; i < n && !late; i++) {
        Type *b = stmts[i]->kind == ST_INTERFACE ? type_strip_alias(TX(stmts[i]->type)->base) : NULL;
        if (!b || !TX(b)->named_as_base)
            continue;
        for (int lo = iface_idx_first(ix, nix, b); lo < nix && ix[lo].type == b && !late; lo++)
            late = ix[lo].idx > i;
    }
    if (!late)
        return;
    bool *done = arena_alloc(cc->arena, sizeof *done * (size_t)n);
    memset(done, 0, sizeof *done * (size_t)n);
    Stmt **out = arena_alloc(cc->arena, sizeof *out * (size_t)n);
    int k = 0;
    PtrVec chain = {0};
    for (int i = 0; i < n; i++)
        place_stmt(stmts, i, done, ix, nix, out, &k, &chain);
    vec_free(&chain);
    memcpy(stmts, out, sizeof *out * (size_t)n);
}

int sema_check(Compiler *cc)
{
    int before = cc->errors;
    for (int i = 0; i < cc->files.n; i++) {
        File *f = cc->files.v[i];
        Ctx c = { .cc = cc, .scope = cc->global, .file = f };
        check_stmts(&c, f->stmts, f->nstmts);
    }
    /* WinRT instances: methods substituted, IIDs (the generics are checked now) */
    winrt_complete(cc);
    if (cc->main_file)
        order_bases_first(cc, cc->main_file->stmts, cc->main_file->nstmts);
    /* the glue's decisions belong to the checks: --check reports them too */
    if (cc->errors == 0 && !(cc->opt && cc->opt->no_glue))
        glue_lower(cc);
    return cc->errors - before;
}

bool file_has_async(Compiler *cc)
{
    for (int i = 0; i < cc->async_ifaces.n; i++)
        if (!((Type *)cc->async_ifaces.v[i])->imported)
            return true;
    return false;
}
