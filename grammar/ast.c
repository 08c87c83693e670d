/*
 * ast.c - small constructors for the tree, attribute table, GUIDs and
 * type helpers. Every node is zero-filled arena memory (one arena per
 * compilation, freed at once).
 */
#include "parse.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

Expr *new_expr(Compiler *cc, ExprKind k, Loc loc)
{
    Expr *e = arena_alloc(cc->arena, sizeof(Expr));
    e->kind = k;
    e->loc = loc;
    return e;
}

Expr *new_num(Compiler *cc, const char *text, Loc loc)
{
    Expr *e = new_expr(cc, EX_NUM, loc);
    e->text = text;
    char *end;
    unsigned long long v = strtoull(text, &end, 0);
    e->is_hex = text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
    for (; *end; end++)
        if (*end == 'u' || *end == 'U')
            e->is_unsigned = true;
    e->val = (long long)v;
    return e;
}

Expr *new_binary(Compiler *cc, int op, Expr *a, Expr *b, Loc loc)
{
    Expr *e = new_expr(cc, EX_BINARY, loc);
    e->op = op;
    e->a = a;
    e->b = b;
    return e;
}

Expr *new_unary(Compiler *cc, int op, Expr *a, Loc loc)
{
    Expr *e = new_expr(cc, EX_UNARY, loc);
    e->op = op;
    e->a = a;
    return e;
}

/* ---- attributes ---- */

static const struct { const char *name; const char *args; unsigned where; } attr_table[] = {
#define ATTR(id, name, args, where) { name, args, where },
#include "attrs.def"
#undef ATTR
};

/* attr_table by name (name_index_*, built once) */
#define ATTR_SLOTS 512
_Static_assert(A_UNKNOWN * 2 < ATTR_SLOTS, "the attribute table stays at most half full");
static unsigned short attr_slots[ATTR_SLOTS];
static bool attr_slots_ready;

AttrKind attr_lookup(const char *name)
{
    if (!attr_slots_ready) {
        name_index_build(attr_slots, ATTR_SLOTS, &attr_table[0].name, sizeof attr_table[0], (int)A_UNKNOWN);
        attr_slots_ready = true;
    }
    size_t len = strlen(name);
    int i = name_index_find(attr_slots, ATTR_SLOTS, &attr_table[0].name, sizeof attr_table[0], name, len,
                            scope_hash(name, len));
    return i < 0 ? A_UNKNOWN : (AttrKind)i;
}

const char *attr_name(AttrKind k)
{
    return k < A_UNKNOWN ? attr_table[k].name : "?";
}

unsigned attr_where(AttrKind k)
{
    return k < A_UNKNOWN ? attr_table[k].where : 0;
}

const char *attr_args_spec(AttrKind k);
const char *attr_args_spec(AttrKind k)
{
    return k < A_UNKNOWN ? attr_table[k].args : "*";
}

/* The known attribute name closest to 'name' (for "did you mean"). */
const char *attr_suggest(const char *name);
const char *attr_suggest(const char *name)
{
    const char *best = NULL;
    int best_d = 3;
    size_t n = strlen(name);
    for (int i = 0; i < (int)A_UNKNOWN; i++) {
        const char *c = attr_table[i].name;
        size_t m = strlen(c);
        if (n > 40 || m > 40)
            continue;
        int d[41][41];
        for (size_t x = 0; x <= n; x++) d[x][0] = (int)x;
        for (size_t y = 0; y <= m; y++) d[0][y] = (int)y;
        for (size_t x = 1; x <= n; x++)
            for (size_t y = 1; y <= m; y++) {
                int cost = tolower((unsigned char)name[x - 1]) != c[y - 1];
                int v = d[x - 1][y] + 1;
                if (d[x][y - 1] + 1 < v) v = d[x][y - 1] + 1;
                if (d[x - 1][y - 1] + cost < v) v = d[x - 1][y - 1] + cost;
                d[x][y] = v;
            }
        if (d[n][m] < best_d) {
            best_d = d[n][m];
            best = c;
        }
    }
    return best;
}

Attr *new_attr(Compiler *cc, const char *name, Loc loc)
{
    Attr *a = arena_alloc(cc->arena, sizeof(Attr));
    a->name = name;
    a->kind = attr_lookup(name);
    a->loc = loc;
    return a;
}

Attr *attr_append(Attr *list, Attr *a)
{
    if (!list)
        return a;
    Attr *p = list;
    while (p->next)
        p = p->next;
    p->next = a;
    return list;
}

Attr *attr_find(const Attr *list, AttrKind k)
{
    for (; list; list = list->next)
        if (list->kind == k)
            return (Attr *)list;
    return NULL;
}

bool attr_has(const Attr *list, AttrKind k)
{
    return attr_find(list, k) != NULL;
}

/* ---- types, vars, statements ---- */

Type *new_type(Compiler *cc, TypeKind k, const char *name, Loc loc)
{
    Type *t = arena_alloc(cc->arena, sizeof(Type));
    t->kind = k;
    t->name = name;
    t->loc = loc;
    return t;
}

const TypeExt type_ext_none;

TypeExt *type_ext(Compiler *cc, Type *t)
{
    if (!t->x)
        t->x = arena_alloc(cc->arena, sizeof(TypeExt));
    return t->x;
}

const VarExt var_ext_none = { .vtbl_index = -1 };

VarExt *var_ext(Compiler *cc, Var *v)
{
    if (!v->x) {
        v->x = arena_alloc(cc->arena, sizeof(VarExt));
        v->x->vtbl_index = -1;
    }
    return v->x;
}

Type *new_basic(Compiler *cc, BasicKind b, int sign, Loc loc)
{
    Type *t = new_type(cc, TY_BASIC, NULL, loc);
    t->basic = b;
    t->sign = sign;
    return t;
}

Type *new_pointer(Compiler *cc, Type *ref, unsigned qual, Loc loc)
{
    Type *t = new_type(cc, TY_POINTER, NULL, loc);
    t->ref = ref;
    t->ref_qual = qual;
    return t;
}

Type *new_array(Compiler *cc, Type *elem, unsigned qual, Expr *size, Loc loc)
{
    Type *t = new_type(cc, TY_ARRAY, NULL, loc);
    t->ref = elem;
    t->ref_qual = qual;
    if (size)
        TXW(cc, t)->size = size;
    t->conformant = size == NULL;
    return t;
}

Var *new_var(Compiler *cc, const char *name, Loc loc)
{
    Var *v = arena_alloc(cc->arena, sizeof(Var));
    v->name = name;
    v->loc = loc;
    return v;
}

/* A copy of v with its own VarExt (a method copied into an instance or
 * a twin gets its own owner and slot). */
Var *copy_var(Compiler *cc, const Var *v)
{
    Var *n = arena_alloc(cc->arena, sizeof *n);
    *n = *v;
    if (v->x) {
        n->x = arena_alloc(cc->arena, sizeof *n->x);
        *n->x = *v->x;
    }
    return n;
}

Stmt *new_stmt(Compiler *cc, StmtKind k, Loc loc)
{
    Stmt *s = arena_alloc(cc->arena, sizeof(Stmt));
    s->kind = k;
    s->loc = loc;
    return s;
}

#define GROW(cc, arr, n, T) do { \
        T *nv = arena_alloc((cc)->arena, sizeof(T) * (size_t)((n) + 1)); \
        if (n) memcpy(nv, *(arr), sizeof(T) * (size_t)(n)); \
        *(arr) = nv; } while (0)

void push_var(Compiler *cc, Var ***v, int *n, Var *x)
{
    /* amortised: grow in powers of two */
    if ((*n & (*n - 1)) == 0) {
        Var **nv = arena_alloc(cc->arena, sizeof(Var *) * (size_t)(*n ? *n * 2 : 1));
        if (*n)
            memcpy(nv, *v, sizeof(Var *) * (size_t)*n);
        *v = nv;
    }
    (*v)[(*n)++] = x;
}

void push_stmt(Compiler *cc, Stmt ***v, int *n, Stmt *x)
{
    if ((*n & (*n - 1)) == 0) {
        Stmt **nv = arena_alloc(cc->arena, sizeof(Stmt *) * (size_t)(*n ? *n * 2 : 1));
        if (*n)
            memcpy(nv, *v, sizeof(Stmt *) * (size_t)*n);
        *v = nv;
    }
    (*v)[(*n)++] = x;
}

void push_type(Compiler *cc, Type ***v, int *n, Type *x)
{
    if ((*n & (*n - 1)) == 0) {
        Type **nv = arena_alloc(cc->arena, sizeof(Type *) * (size_t)(*n ? *n * 2 : 1));
        if (*n)
            memcpy(nv, *v, sizeof(Type *) * (size_t)*n);
        *v = nv;
    }
    (*v)[(*n)++] = x;
}

/* Apply a declarator to its base type: the type of "*D" with base T is
 * the type of D with base "pointer to T", and so on outwards-in. */
Type *declarator_apply(Compiler *cc, Declarator *d, Type *base, unsigned bqual, unsigned *qual_out)
{
    /* A calling convention applies to the function type nearest to where
     * it is written: "(__stdcall *p)(...)" the function p points to,
     * "void __stdcall f(...)" f, "void *__stdcall g(...)" g. */
    Type *fn = NULL;
    Declarator *pending = NULL;
    while (d) {
        if (d->callconv && d->kind != DK_FUNC) {
            if (fn)
                TXW(cc, fn)->callconv = d->callconv;
            else
                pending = d;
        }
        switch (d->kind) {
        case DK_IDENT:
        case DK_ABSTRACT:
            goto done;
        case DK_PTR:
            base = new_pointer(cc, base, bqual, d->loc);
            bqual = d->qual;
            break;
        case DK_ARRAY: {
            Type *a = new_array(cc, base, bqual, d->size, d->loc);
            a->conformant = d->conformant;
            base = a;
            bqual = 0;
            break;
        }
        case DK_FUNC: {
            Type *f = new_type(cc, TY_FUNCTION, NULL, d->loc);
            f->ref = base;
            f->ref_qual = bqual;
            TXW(cc, f)->callconv = d->callconv ? d->callconv : pending ? pending->callconv : NULL;
            pending = NULL;
            fn = f;
            if (d->params) {
                f->fields = (Var **)d->params->v;
                f->nfields = d->params->n;
            }
            base = f;
            bqual = 0;
            break;
        }
        }
        d = d->inner;
    }
done:
    if (pending)
        error_at(cc, pending->callconv_loc, "calling convention '%s' applied to a non-function type", pending->callconv);
    *qual_out = bqual;
    return base;
}

/* ---- GUIDs ---- */

/* the value of n hex digits (checked by the caller) */
static uint32_t hex_value(const char *s, int n)
{
    uint32_t v = 0;
    for (int i = 0; i < n; i++) {
        unsigned c = (unsigned char)s[i];
        v = v << 4 | (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    return v;
}

bool parse_uuid(const char *s, Uuid *u)
{
    if (strlen(s) != 36)
        return false;
    static const int dash[] = {8, 13, 18, 23};
    for (int i = 0; i < 36; i++) {
        bool is_dash = i == dash[0] || i == dash[1] || i == dash[2] || i == dash[3];
        if (is_dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
            return false;
    }
    u->d1 = (uint32_t)hex_value(s, 8);
    u->d2 = (uint16_t)hex_value(s + 9, 4);
    u->d3 = (uint16_t)hex_value(s + 14, 4);
    static const int pos[8] = {19, 21, 24, 26, 28, 30, 32, 34};
    for (int i = 0; i < 8; i++)
        u->d4[i] = (uint8_t)hex_value(s + pos[i], 2);
    return true;
}

void format_uuid(const Uuid *u, char out[37])
{
    snprintf(out, 37, "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             u->d1, u->d2, u->d3, u->d4[0], u->d4[1], u->d4[2], u->d4[3],
             u->d4[4], u->d4[5], u->d4[6], u->d4[7]);
}

/* ---- type helpers ---- */

Type *type_strip_alias(Type *t)
{
    int guard = 0;
    while (t && t->kind == TY_ALIAS && t->ref && guard++ < 10000)
        t = t->ref;
    return t;
}

bool type_is_interface(const Type *t)
{
    t = type_strip_alias((Type *)t);
    return t && (t->kind == TY_INTERFACE || t->kind == TY_DISPINTERFACE || t->kind == TY_PARAMETERIZED ||
                 t->kind == TY_DELEGATE || t->kind == TY_RUNTIMECLASS);
}

bool type_is_pointer(const Type *t)
{
    t = type_strip_alias((Type *)t);
    return t && (t->kind == TY_POINTER || t->kind == TY_ARRAY);
}

const char *type_name_of(const Type *t)
{
    return t && t->name ? t->name : "";
}
