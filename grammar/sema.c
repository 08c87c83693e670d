/*
 * sema.c - scopes, imports, constant folding, checks and the synthesis of
 * asynchronous interfaces.
 *
 * Files are checked in the order their parsing finished (imports before
 * the files that import them), so every base interface and every async
 * twin exists before it is used. For [object, uuid(U), async_uuid(A)]
 * interface IFoo : IBase the pass builds AsyncIFoo (IID A) as an
 * ordinary interface in the tree: base IUnknown when IBase is IUnknown,
 * else AsyncIBase; for each method M, Begin_M with the [in] and [in,out]
 * parameters and Finish_M with the [out] and [in,out] ones, both with M's
 * return type (RULES.md A1-A17). The emitters then have no async special
 * cases.
 */
#include "parse.h"

#include <stdlib.h>
#include <string.h>
#include <uthash.h>

struct Symbol {
    const char *name;
    void *ptr;
    UT_hash_handle hh;
};

const char *attr_args_spec(AttrKind k);
const char *attr_suggest(const char *name);

/* ==================================================================== scopes */

Scope *scope_new(Compiler *cc, const char *name, Scope *parent)
{
    Scope *s = arena_alloc(cc->arena, sizeof(Scope));
    vec_push(&cc->scopes, s);
    s->name = name;
    s->parent = parent;
    if (parent && parent->qname && *parent->qname)
        s->qname = arena_printf(cc->arena, "%s.%s", parent->qname, name);
    else
        s->qname = name;
    return s;
}

static Symbol *table_find(Symbol *table, const char *name)
{
    Symbol *sym = NULL;
    HASH_FIND_STR(table, name, sym);
    return sym;
}

static void table_add(Compiler *cc, Symbol **table, const char *name, void *ptr)
{
    Symbol *sym = table_find(*table, name);
    if (sym) {
        sym->ptr = ptr;
        return;
    }
    sym = arena_alloc(cc->arena, sizeof(Symbol));
    sym->name = name;
    sym->ptr = ptr;
    HASH_ADD_KEYPTR(hh, *table, sym->name, strlen(sym->name), sym);
}

Symbol *scope_lookup_here(Scope *s, const char *name)
{
    return table_find(s->syms, name);
}

Type *scope_find_type(Scope *s, const char *name)
{
    for (; s; s = s->parent) {
        Symbol *sym = table_find(s->syms, name);
        if (sym)
            return sym->ptr;
    }
    return NULL;
}

Type *scope_find_tag(Scope *s, const char *name)
{
    for (; s; s = s->parent) {
        Symbol *sym = table_find(s->tags, name);
        if (sym)
            return sym->ptr;
    }
    return NULL;
}

Var *scope_find_const(Scope *s, const char *name)
{
    for (; s; s = s->parent) {
        Symbol *sym = table_find(s->consts, name);
        if (sym)
            return sym->ptr;
    }
    return NULL;
}

Scope *scope_find_ns(Scope *s, const char *name)
{
    Symbol *sym = table_find(s->children, name);
    return sym ? sym->ptr : NULL;
}

Scope *scope_child_ns(Compiler *cc, Scope *s, const char *name)
{
    Scope *c = scope_find_ns(s, name);
    if (!c) {
        c = scope_new(cc, name, s);
        if (s == cc->global)
            c->qname = name;
        table_add(cc, &s->children, name, c);
    }
    return c;
}

void scope_add_type(Compiler *cc, Scope *s, Type *t, const char *name)
{
    Symbol *old = table_find(s->syms, name);
    if (old && old->ptr != t) {
        Type *o = old->ptr;
        /* a second typedef of a name is an error only within the main file */
        if (!o->imported && !t->imported && o->kind == TY_ALIAS && t->kind == TY_ALIAS && cc->main_file &&
            o->loc.file == t->loc.file && cc->main_file->path && o->loc.file &&
            !strcmp(o->loc.file, cc->main_file->path)) {
            error_at(cc, t->loc, "redefinition of typedef '%s'", name);
            note_at(cc, o->loc, "previous definition is here");
        }
    }
    table_add(cc, &s->syms, name, t);
    s->ntypes++;
}

void scope_add_tag(Compiler *cc, Scope *s, Type *t)
{
    table_add(cc, &s->tags, t->name, t);
}

void scope_add_const(Compiler *cc, Scope *s, Var *v)
{
    table_add(cc, &s->consts, v->name, v);
}

int scope_classify(Scope *s, const char *name, void **out, bool here_only)
{
    for (; s; s = s->parent) {
        Symbol *sym = table_find(s->syms, name);
        if (sym) {
            *out = sym->ptr;
            return 1;
        }
        sym = table_find(s->children, name);
        if (sym) {
            *out = sym->ptr;
            return 2;
        }
        if (here_only)
            break;
    }
    return 0;
}

/* the edit distance of a and b, or a large number when above limit */
static int edit_distance(const char *a, const char *b, int limit)
{
    size_t n = strlen(a), m = strlen(b);
    if (n > 64 || m > 64 || (n > m ? n - m : m - n) > (size_t)limit)
        return limit + 1;
    int d[65][65];
    for (size_t i = 0; i <= n; i++) d[i][0] = (int)i;
    for (size_t j = 0; j <= m; j++) d[0][j] = (int)j;
    for (size_t i = 1; i <= n; i++)
        for (size_t j = 1; j <= m; j++) {
            int c = a[i - 1] != b[j - 1];
            int v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v) v = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + c < v) v = d[i - 1][j - 1] + c;
            d[i][j] = v;
        }
    return d[n][m];
}

const char *scope_suggest_type(Scope *s, const char *name)
{
    const char *best = NULL;
    int best_d = strlen(name) > 4 ? 2 : 1;
    for (; s; s = s->parent)
        for (Symbol *sym = s->syms; sym; sym = sym->hh.next) {
            int d = edit_distance(name, sym->name, best_d);
            if (d <= best_d && (d < best_d || !best || strcmp(sym->name, best) < 0)) {
                best_d = d;
                best = sym->name;
            }
        }
    return best;
}

/* ==================================================================== files */

Compiler *compiler_new(Options *opt)
{
    Arena *a = arena_new();
    Compiler *cc = arena_alloc(a, sizeof(Compiler));
    cc->arena = a;
    cc->opt = opt;
    cc->global = scope_new(cc, "", NULL);
    cc->global->qname = "";
    cc->pp = pp_new(cc);
    return cc;
}

void diag_free(Compiler *cc);

void compiler_free(Compiler *cc)
{
    if (!cc)
        return;
    diag_free(cc);
    pp_free(cc->pp);
    for (int i = 0; i < cc->scopes.n; i++) {
        Scope *sc = cc->scopes.v[i];
        HASH_CLEAR(hh, sc->syms);
        HASH_CLEAR(hh, sc->tags);
        HASH_CLEAR(hh, sc->children);
        HASH_CLEAR(hh, sc->consts);
    }
    vec_free(&cc->scopes);
    for (int i = 0; i < cc->files.n; i++)
        vec_free(&((File *)cc->files.v[i])->deps);
    vec_free(&cc->files);
    vec_free(&cc->async_ifaces);
    arena_free(cc->arena);
}

static const char *base_name(Compiler *cc, const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *b = slash ? slash + 1 : path;
    const char *dot = strrchr(b, '.');
    return dot ? arena_strndup(cc->arena, b, (size_t)(dot - b)) : arena_strdup(cc->arena, b);
}

static int import_depth;

static File *load(Compiler *cc, const char *name, const char *path, Loc loc);
static const char *main_text;          /* compiler_load_text: the main file's text */
static size_t main_len;

File *compiler_load_text(Compiler *cc, const char *name, const char *text, size_t len)
{
    main_text = text;
    main_len = len;
    File *f = load(cc, name, name, (Loc){0});
    main_text = NULL;
    return f;
}

static File *load(Compiler *cc, const char *name, const char *path, Loc loc)
{
    for (int i = 0; i < cc->files.n; i++) {
        File *f = cc->files.v[i];
        if (!strcmp(f->path, path))
            return f;
    }
    static PtrVec in_progress;
    for (int i = 0; i < in_progress.n; i++) {
        File *f = in_progress.v[i];
        if (!strcmp(f->path, path))
            return f;     /* import cycle: the file is being read already */
    }
    if (import_depth >= MAX_INCLUDE_DEPTH) {
        error_at(cc, loc, "imports nested too deeply (limit %d)", MAX_INCLUDE_DEPTH);
        return NULL;
    }
    File *f = arena_alloc(cc->arena, sizeof(File));
    f->name = arena_strdup(cc->arena, name);
    f->path = arena_strdup(cc->arena, path);
    f->base = base_name(cc, name);
    size_t n = strlen(name);
    f->is_c_header = n > 2 && !strcmp(name + n - 2, ".h");
    f->parsing = true;
    if (!cc->main_file)
        cc->main_file = f;
    vec_push(&in_progress, f);
    Buf text = {0};
    import_depth++;
    pp_set_dep_owner(cc->pp, f);
    bool is_main = f == cc->main_file;
    void *saved = is_main ? NULL : pp_push_state(cc->pp);
    int r = is_main && main_text ? pp_text(cc->pp, path, main_text, main_len, &text) : pp_file(cc->pp, path, &text);
    if (!is_main)
        pp_pop_state(cc->pp, saved);
    if (r == 0 && cc->errors == 0) {
        buf_write(&text, "\0\0", 2);   /* the scanner's end-of-buffer marks */
        parse_file(cc, f, text.data, text.len - 2);
    }
    import_depth--;
    buf_free(&text);
    in_progress.n--;
    if (in_progress.n == 0)
        vec_free(&in_progress);
    f->parsing = false;
    f->parsed = true;
    vec_push(&cc->files, f);
    return f;
}

File *compiler_import(Compiler *cc, const char *name, Loc loc, bool is_import)
{
    (void)is_import;
    const char *from = loc.file;
    /* imports are searched beside the importing file's real path */
    for (int i = 0; i < cc->files.n; i++) {
        File *f = cc->files.v[i];
        if (!strcmp(f->name, name))
            return f;
    }
    const char *path = pp_find(cc->pp, name, from, false);
    if (!path) {
        error_at(cc, loc, "'%s' file not found", name);
        return NULL;
    }
    return load(cc, name, path, loc);
}

File *compiler_load_main(Compiler *cc, const char *path)
{
    return load(cc, path, path, (Loc){0});
}

/* ==================================================================== constants */

typedef struct Ctx {
    Compiler *cc;
    Scope *scope;
    Type *iface;            /* enclosing interface / module */
    Var **params;           /* parameters in scope (attribute expressions) */
    int nparams;
    Var **fields;           /* struct fields in scope */
    int nfields;
    bool in_library, in_module, in_dispiface;
    File *file;
} Ctx;

static Var *find_param(Var **v, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (v[i]->name && !strcmp(v[i]->name, name))
            return v[i];
    return NULL;
}

static bool eval(Compiler *cc, Scope *scope, Expr *e, long long *out, bool quiet, int depth)
{
    long long a = 0, b = 0;
    if (!e || depth > MAX_NEST_DEPTH)
        return false;
    switch (e->kind) {
    case EX_NUM: *out = e->val; return true;
    case EX_CHAR: {
        const char *s = e->text;
        if (*s == 'L') s++;
        s++;
        if (*s == '\\') {
            s++;
            switch (*s) {
            case 'n': *out = '\n'; break;
            case 't': *out = '\t'; break;
            case 'r': *out = '\r'; break;
            case '0': *out = strtol(s, NULL, 8); break;
            case 'x': *out = strtol(s + 1, NULL, 16); break;
            default: *out = (unsigned char)*s;
            }
        } else
            *out = (unsigned char)*s;
        return true;
    }
    case EX_TRUE: *out = 1; return true;
    case EX_FALSE: case EX_NULL: *out = 0; return true;
    case EX_IDENT: {
        Var *v = e->ref ? e->ref : scope_find_const(scope, e->text);
        if (!v) {
            if (!quiet)
                error_at(cc, e->loc, "use of undeclared identifier '%s'", e->text);
            return false;
        }
        e->ref = v;
        if (v->has_value) { *out = v->value; return true; }
        if (v->init && eval(cc, scope, v->init, out, true, depth + 1)) return true;
        return false;
    }
    case EX_UNARY:
        if (!eval(cc, scope, e->a, &a, quiet, depth + 1))
            return false;
        switch (e->op) {
        case OP_NEG: *out = (long long)(0ULL - (unsigned long long)a); return true;
        case OP_POS: *out = a; return true;
        case OP_NOT: *out = !a; return true;
        case OP_BITNOT: *out = ~a; return true;
        default: return false;
        }
    case EX_BINARY:
        if (!eval(cc, scope, e->a, &a, quiet, depth + 1) || !eval(cc, scope, e->b, &b, quiet, depth + 1))
            return false;
        switch (e->op) {
        case '+': *out = (long long)((unsigned long long)a + (unsigned long long)b); return true;
        case '-': *out = (long long)((unsigned long long)a - (unsigned long long)b); return true;
        case '*': *out = (long long)((unsigned long long)a * (unsigned long long)b); return true;
        case '/': case '%':
            if (b == 0) {
                if (!quiet)
                    error_at(cc, e->loc, "division by zero in constant expression");
                return false;
            }
            if (a == INT64_MIN && b == -1) { *out = e->op == '/' ? a : 0; return true; }
            *out = e->op == '/' ? a / b : a % b;
            return true;
        case OP_SHL: *out = (b < 0 || b > 63) ? 0 : (long long)((unsigned long long)a << b); return true;
        case OP_SHR: *out = (b < 0 || b > 63) ? 0 : a >> b; return true;
        case '&': *out = a & b; return true;
        case '|': *out = a | b; return true;
        case '^': *out = a ^ b; return true;
        case '<': *out = a < b; return true;
        case '>': *out = a > b; return true;
        case OP_LE: *out = a <= b; return true;
        case OP_GE: *out = a >= b; return true;
        case OP_EQ: *out = a == b; return true;
        case OP_NE: *out = a != b; return true;
        case OP_ANDAND: *out = a && b; return true;
        case OP_OROR: *out = a || b; return true;
        }
        return false;
    case EX_TERNARY:
        if (!eval(cc, scope, e->a, &a, quiet, depth + 1))
            return false;
        return eval(cc, scope, a ? e->b : e->c, out, quiet, depth + 1);
    case EX_CAST:
        return e->a ? eval(cc, scope, e->a, out, quiet, depth + 1) : false;
    default:
        return false;
    }
}

bool eval_const_expr(Compiler *cc, Expr *e, long long *out, bool quiet)
{
    return eval(cc, cc->global, e, out, quiet, 0);
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
        if (!v) {
            if (c->params)
                error_at(c->cc, e->loc, "'%s' in %s() is not a parameter of this method", e->text, a->name);
            else
                error_at(c->cc, e->loc, "'%s' in %s() is not a field of this structure", e->text, a->name);
        }
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

static Attr *uuid_attr(Type *t, AttrKind k)
{
    Attr *a = attr_find(t->attrs, k);
    return a && a->uuid ? a : NULL;
}

static void check_array_sizes(Ctx *c, Type *t, int depth)
{
    for (; t && depth < MAX_NEST_DEPTH; t = t->ref, depth++) {
        if (t->kind == TY_ALIAS || t->kind == TY_INTERFACE || t->kind == TY_STRUCT || t->kind == TY_UNION)
            return;
        if (t->kind == TY_ARRAY && t->size) {
            long long v;
            if (eval(c->cc, c->scope, t->size, &v, true, 0) && v < 0)
                error_at(c->cc, t->size->loc, "array size is negative");
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
    fc.nparams = 0;
    for (int i = 0; i < t->nfields; i++) {
        Var *f = t->fields[i];
        for (int j = 0; j < i; j++)
            if (f->name && t->fields[j]->name && !strcmp(f->name, t->fields[j]->name)) {
                error_at(c->cc, f->loc, "duplicate member '%s'", f->name);
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
        if (v->init) {
            long long val;
            if (eval(c->cc, c->scope, v->init, &val, false, 0)) {
                v->value = val;
                v->has_value = true;
            }
        } else {
            v->value = next;
            v->has_value = true;
        }
        next = v->value + 1;
        Var *old = scope_find_const(c->scope, v->name);
        if (old && old != v && !c->file->is_c_header && old->loc.file == v->loc.file && c->file == c->cc->main_file)
            error_at(c->cc, v->loc, "redefinition of enumerator '%s'", v->name);
        scope_add_const(c->cc, t->ns ? t->ns : c->scope, v);
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
        Type *st = type_strip_alias(t->switch_var->type);
        if (st && st->kind != TY_BASIC && st->kind != TY_ENUM)
            error_at(c->cc, t->switch_var->loc, "switch type of union must be an integer or enum type");
        for (int i = 0; i < t->nfields; i++)
            for (int k = 0; k < t->fields[i]->ncases; k++) {
                long long v;
                eval(c->cc, c->scope, t->fields[i]->case_exprs[k], &v, false, 0);
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

static bool returns_hresult(Var *m)
{
    Type *r = m->type->ref;
    return r && r->kind == TY_ALIAS && r->name && !strcmp(r->name, "HRESULT");
}

static bool is_iunknown(const Type *t)
{
    return t && t->name && !strcmp(t->name, "IUnknown") && !t->ns;
}

static bool derives_from_idispatch(Type *t)
{
    for (int guard = 0; t && guard < 1000; t = t->base, guard++)
        if (t->name && !strcmp(t->name, "IDispatch"))
            return true;
    return false;
}

static int method_count(Type *t)
{
    int n = 0;
    for (int guard = 0; t && guard < 1000; t = t->base, guard++)
        for (int i = 0; i < t->nmethods; i++)
            if (!attr_has(t->methods[i]->attrs, A_CALL_AS))
                n++;
    return n;
}

static void check_method(Ctx *c, Var *m, unsigned where)
{
    Ctx mc = *c;
    bool local = attr_has(m->attrs, A_LOCAL) || (c->iface && attr_has(c->iface->attrs, A_LOCAL));
    Type *fn = m->type;
    mc.params = fn->fields;
    mc.nparams = fn->nfields;
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
                break;
            }
        /* [out] data must be returned through a pointer; [local] methods are
         * never marshaled, and the SDK passes structs there (d3d12video.idl) */
        if (attr_has(p->attrs, A_OUT) && p->type && !type_is_pointer(p->type) && !local)
            error_at(c->cc, p->loc, "[out] parameter '%s' is not a pointer", p->name ? p->name : "");
        check_array_sizes(&mc, p->type, 0);
    }
}

static Type *make_async(Ctx *c, Type *iface, Attr *au);

/* C names of methods, as widl and MIDL spell them: [propget] X -> get_X
 * (put_, putref_); a method whose name an ancestor already uses in the C
 * vtable becomes IFoo_X there (C has no overloading; C++ keeps X). */
static void name_methods(Compiler *cc, Type *t)
{
    for (int i = 0; i < t->nmethods; i++) {
        Var *m = t->methods[i];
        const char *n = m->name ? m->name : "";
        if (t->kind != TY_DISPINTERFACE) {
            if (attr_has(m->attrs, A_PROPGET))
                n = arena_printf(cc->arena, "get_%s", n);
            else if (attr_has(m->attrs, A_PROPPUT))
                n = arena_printf(cc->arena, "put_%s", n);
            else if (attr_has(m->attrs, A_PROPPUTREF))
                n = arena_printf(cc->arena, "putref_%s", n);
        }
        m->macro_name = n;
        m->c_name = n;
        bool clash = false;
        for (Type *a = t->base; a && !clash; a = a->base)
            for (int k = 0; k < a->nmethods && !clash; k++)
                if (a->methods[k]->macro_name && !strcmp(a->methods[k]->macro_name, n) &&
                    !attr_has(a->methods[k]->attrs, A_CALL_AS))
                    clash = true;
        if (clash)
            m->c_name = arena_printf(cc->arena, "%s_%s", t->name, n);
        /* unnamed parameters get names, as widl gives them (a, b, ...) */
        Type *fn = m->type;
        for (int k = 0; k < fn->nfields; k++)
            if (!fn->fields[k]->name && !(fn->nfields == 1 && fn->fields[k]->type && fn->fields[k]->type->kind == TY_VOID))
                fn->fields[k]->name = k < 26 ? arena_printf(cc->arena, "%c", 'a' + k) : arena_printf(cc->arena, "p%d", k);
    }
}

static void check_interface(Ctx *c, Type *t)
{
    Compiler *cc = c->cc;
    Ctx ic = *c;
    ic.iface = t;
    check_attrs(c, t->attrs, AW_IFACE | (t->ns ? AW_WINRT : 0));
    /* collect methods from the body */
    t->methods = NULL;
    t->nmethods = 0;
    for (int i = 0; i < t->nstmts; i++) {
        Stmt *s = t->stmts[i];
        if (s->kind != ST_DECL)
            continue;
        for (int j = 0; j < s->ndecls; j++) {
            Var *m = s->decls[j];
            if (m->type->kind != TY_FUNCTION) {
                error_at(cc, m->loc, "'%s' is not a method (interfaces hold methods only)", m->name);
                continue;
            }
            m->owner = t;
            push_var(cc, &t->methods, &t->nmethods, m);
        }
    }
    /* nested statements other than methods (typedefs, consts, cpp_quote) */
    for (int i = 0; i < t->nstmts; i++)
        if (t->stmts[i]->kind != ST_DECL)
            check_stmts(&ic, &t->stmts[i], 1);
    bool object = attr_has(t->attrs, A_OBJECT) || t->ns || attr_has(t->attrs, A_ODL);
    Type *base = t->base;
    bool base_error = false;
    if (base) {
        Type *b = type_strip_alias(base);
        if (!type_is_interface(b)) {
            error_at(cc, t->loc, "base of interface '%s' is not an interface: '%s'", t->name, type_name_of(base));
            t->base = NULL;
            base_error = true;
        } else if (b->declared_only && !b->generic) {
            error_at(cc, t->loc, "base interface '%s' of '%s' is declared but not defined", b->name, t->name);
            t->base = NULL;
            base_error = true;
        } else {
            t->base = b;
            for (Type *x = b; x; x = x->base)
                if (x == t) {
                    error_at(cc, t->loc, "interface '%s' inherits from itself", t->name);
                    t->base = NULL;
                    break;
                }
            if (t->base && t->base->is_async && !attr_has(t->attrs, A_ASYNC_UUID) && !t->is_async) {
                error_at(cc, t->loc, "interface '%s' derives from the asynchronous interface '%s'", t->name, b->name);
            }
        }
    }
    /* MIDL requires a uuid on [object] interfaces; real SDK files omit it
     * (amvideo.idl), so it is a warning unless the IID is needed (async_uuid) */
    if (object && !t->ns && !attr_find(t->attrs, A_UUID) && !attr_has(t->attrs, A_LOCAL)) {
        if (attr_has(t->attrs, A_ASYNC_UUID))
            error_at(cc, t->loc, "[object] interface '%s' has no uuid", t->name);
        else if (!t->imported)
            warning_at(cc, t->loc, "[object] interface '%s' has no uuid", t->name);
    }
    if (object && !t->base && !base_error && !is_iunknown(t) && !t->ns && t->kind == TY_INTERFACE && !t->imported)
        warning_at(cc, t->loc, "[object] interface '%s' has no base interface", t->name);
    /* as widl: an interface that inherits is a COM interface even without [object] */
    t->is_object = object || (t->base && t->kind == TY_INTERFACE);
    int base_count = method_count(t->base);
    int idx = base_count;
    for (int i = 0; i < t->nmethods; i++) {
        Var *m = t->methods[i];
        check_method(&ic, m, AW_METHOD);
        for (int j = 0; j < i; j++)
            if (m->name && t->methods[j]->name && !strcmp(m->name, t->methods[j]->name) &&
                attr_has(m->attrs, A_PROPGET) == attr_has(t->methods[j]->attrs, A_PROPGET) &&
                attr_has(m->attrs, A_PROPPUT) == attr_has(t->methods[j]->attrs, A_PROPPUT) &&
                attr_has(m->attrs, A_PROPPUTREF) == attr_has(t->methods[j]->attrs, A_PROPPUTREF) &&
                !attr_has(m->attrs, A_OVERLOAD) && !t->ns) {
                error_at(cc, m->loc, "duplicate method '%s' in interface '%s'", m->name, t->name);
                break;
            }
        if (!attr_has(m->attrs, A_CALL_AS))
            m->vtbl_index = idx++;
    }
    name_methods(cc, t);
    Attr *au = attr_find(t->attrs, A_ASYNC_UUID);
    if (au && au->uuid)
        t->async_iface = make_async(c, t, au);
}

/* ---- async synthesis (RULES.md A) ---- */

static bool param_is_in(Var *p)
{
    return attr_has(p->attrs, A_IN) || !attr_has(p->attrs, A_OUT);
}

static bool param_is_out(Var *p)
{
    return attr_has(p->attrs, A_OUT);
}

static Var *async_method(Compiler *cc, Type *owner, Var *m, const char *prefix, bool in)
{
    Var *n = new_var(cc, arena_printf(cc->arena, "%s%s", prefix, m->name), m->loc);
    n->attrs = m->attrs;
    n->owner = owner;
    n->orig = m;
    Type *fn = new_type(cc, TY_FUNCTION, NULL, m->loc);
    fn->ref = m->type->ref;
    fn->ref_qual = m->type->ref_qual;
    for (int i = 0; i < m->type->nfields; i++) {
        Var *p = m->type->fields[i];
        if (in ? param_is_in(p) : param_is_out(p))
            push_var(cc, &fn->fields, &fn->nfields, p);
    }
    n->type = fn;
    return n;
}

static bool same_uuid(const Uuid *a, const Uuid *b)
{
    return !memcmp(a, b, sizeof *a);
}

static Type *make_async(Ctx *c, Type *t, Attr *au)
{
    Compiler *cc = c->cc;
    bool ok = true;
    if (!attr_has(t->attrs, A_OBJECT) || t->kind != TY_INTERFACE) {
        error_at(cc, au->loc, "async_uuid is only allowed on an [object] interface ('%s' is not one)", t->name);
        ok = false;
    }
    if (attr_has(t->attrs, A_DUAL)) {
        error_at(cc, au->loc, "async_uuid is not allowed on the [dual] interface '%s'", t->name);
        ok = false;
    } else if (derives_from_idispatch(t)) {
        error_at(cc, au->loc, "async_uuid is not allowed on '%s': it derives from IDispatch", t->name);
        ok = false;
    }
    Attr *ver = attr_find(t->attrs, A_VERSION);
    if (ver) {
        error_at(cc, ver->loc, "[version] is not allowed on the asynchronous interface '%s'", t->name);
        ok = false;
    }
    Attr *u = uuid_attr(t, A_UUID);
    if (u && same_uuid(u->uuid, au->uuid)) {
        error_at(cc, au->loc, "async_uuid of '%s' is the same as its uuid", t->name);
        ok = false;
    }
    Type *abase = NULL;
    if (t->base && ok) {
        if (is_iunknown(t->base)) {
            abase = t->base;
        } else if (t->base->async_iface) {
            abase = t->base->async_iface;
        } else {
            error_at(cc, au->loc, "async_uuid on '%s': its base '%s' is neither IUnknown nor an asynchronous interface",
                     t->name, t->base->name);
            ok = false;
        }
    } else if (!t->base && ok) {
        error_at(cc, au->loc, "async_uuid on '%s': the interface has no base (it must derive from IUnknown)", t->name);
        ok = false;
    }
    /* the async IID must not be any other interface's IID (A17) */
    for (int i = 0; ok && i < cc->files.n + 1; i++) {
        (void)i;
        break;
    }
    for (int i = 0; ok && i < cc->async_ifaces.n; i++) {
        Type *o = cc->async_ifaces.v[i];
        Attr *ou = attr_find(o->attrs, A_UUID);
        Attr *osu = o->sync_iface ? uuid_attr(o->sync_iface, A_UUID) : NULL;
        if ((ou && ou->uuid && same_uuid(ou->uuid, au->uuid)) || (osu && same_uuid(osu->uuid, au->uuid))) {
            error_at(cc, au->loc, "async_uuid of '%s' is already the IID of '%s'", t->name,
                     ou && same_uuid(ou->uuid, au->uuid) ? o->name : o->sync_iface->name);
            ok = false;
        }
        if (u && ou && ou->uuid && same_uuid(ou->uuid, u->uuid)) {
            error_at(cc, u->loc, "uuid of '%s' is already the IID of '%s'", t->name, o->name);
            ok = false;
        }
    }
    if (!ok)
        return NULL;
    /* the parser declared AsyncIFoo already (so IDL can name it): fill that */
    const char *aname = arena_printf(cc->arena, "Async%s", t->name);
    Scope *s = t->ns ? t->ns : cc->global;
    Type *a = scope_find_type(s, aname);
    if (a && a->kind == TY_INTERFACE && a->declared_only && a->is_async) {
        a->loc = t->loc;
    } else if (a && a->kind == TY_INTERFACE && !a->declared_only) {
        error_at(cc, au->loc, "'%s' is already defined; async_uuid cannot create it", aname);
        return NULL;
    } else {
        a = new_type(cc, TY_INTERFACE, aname, t->loc);
        scope_add_type(cc, s, a, a->name);
    }
    a->declared_only = false;
    a->is_async = true;
    a->is_object = true;
    a->sync_iface = t;
    a->base = abase;
    a->defined = true;
    a->imported = t->imported;
    a->ns = t->ns;
    /* attributes: the sync ones, uuid replaced by async_uuid (A14) */
    Attr *head = NULL;
    for (Attr *x = t->attrs; x; x = x->next) {
        if (x->kind == A_ASYNC_UUID)
            continue;
        Attr *n = arena_alloc(cc->arena, sizeof(Attr));
        *n = *x;
        n->next = NULL;
        if (x->kind == A_UUID) {
            n->uuid = au->uuid;
            n->args = au->args;
            n->nargs = au->nargs;
        }
        head = attr_append(head, n);
    }
    a->attrs = head;
    int idx = method_count(abase);
    for (int i = 0; i < t->nmethods; i++) {
        Var *m = t->methods[i];
        if (attr_has(m->attrs, A_CALL_AS))
            continue;          /* the remote twin of a [local] method (A10) */
        if (!returns_hresult(m) && !t->imported)
            warning_at(cc, m->loc, "asynchronous method '%s::%s' does not return HRESULT; Begin_%s cannot report errors",
                       t->name, m->name, m->name);
        Var *b = async_method(cc, a, m, "Begin_", true);
        Var *f = async_method(cc, a, m, "Finish_", false);
        b->vtbl_index = idx++;
        f->vtbl_index = idx++;
        push_var(cc, &a->methods, &a->nmethods, b);
        push_var(cc, &a->methods, &a->nmethods, f);
    }
    name_methods(cc, a);
    vec_push(&cc->async_ifaces, a);
    return a;
}

static void check_coclass(Ctx *c, Type *t)
{
    check_attrs(c, t->attrs, t->kind == TY_RUNTIMECLASS ? AW_WINRT : AW_COCLASS);
    if (t->kind == TY_COCLASS && !attr_find(t->attrs, A_UUID))
        error_at(c->cc, t->loc, "coclass '%s' has no uuid", t->name);
    for (int i = 0; i < t->nifaces; i++) {
        check_attrs(c, t->iface_attrs[i], AW_COCLASS_ITEM | AW_WINRT);
        Type *it = type_strip_alias(t->ifaces[i]);
        if (!type_is_interface(it) && it->kind != TY_COCLASS)
            error_at(c->cc, t->loc, "'%s' in coclass '%s' is not an interface", t->ifaces[i]->name, t->name);
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
        if (s->kind == ST_CONST && v->init) {
            long long val;
            bool numeric = v->init->kind != EX_STR && v->init->kind != EX_WSTR && v->init->kind != EX_FLOAT &&
                           v->init->kind != EX_CHAR && v->init->kind != EX_NULL;
            if (eval(c->cc, c->scope, v->init, &val, !numeric, 0)) {
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
            if (t->nifaces != -1) {
                for (int j = 0; j < t->nfields; j++)
                    check_attrs(c, t->fields[j]->attrs, AW_FIELD | AW_METHOD);
                for (int j = 0; j < t->nmethods; j++) {
                    t->methods[j]->owner = t;
                    check_method(c, t->methods[j], AW_METHOD);
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
            check_stmts(&mc, s->type->stmts, s->type->nstmts);
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
            for (int j = 0; j < t->nmethods; j++)
                check_method(c, t->methods[j], AW_METHOD);
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

int sema_check(Compiler *cc)
{
    int before = cc->errors;
    for (int i = 0; i < cc->files.n; i++) {
        File *f = cc->files.v[i];
        Ctx c = { .cc = cc, .scope = cc->global, .file = f };
        check_stmts(&c, f->stmts, f->nstmts);
    }
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
