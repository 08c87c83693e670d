/*
 * scope.c - scopes and symbols: ordinary identifiers, tags, constants
 * and namespaces (open-addressing tables of names), the lexer's name
 * classification, and "did you mean" suggestions.
 */
#include "amidl.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A slot (SymTab.slots): a pointer to what the name names, a Type, Var
 * or Scope, each of which begins with its name (8 bytes a slot: #13);
 * its low two bits are a tag from the name's hash, so most slots of
 * other names are passed over without reading their objects; bit 2
 * marks a Symbol, for an object entered under another name than its own
 * (none is today). 0: empty. A table keeps at most 3/4 of its slots
 * used; it doubles (rehashed) past that. */
#define SLOT_TAG    ((uintptr_t)3)
#define SLOT_SYM    ((uintptr_t)4)
#define SLOT_PTR(s) ((void *)((s) & ~(uintptr_t)7))

struct Symbol {
    const char *name;
    void *ptr;
};

_Static_assert(offsetof(Type, name) == 0 && offsetof(Var, name) == 0 && offsetof(Scope, name) == 0 &&
               offsetof(Symbol, name) == 0, "a slot's object begins with its name");

static const char *slot_name(uintptr_t s)
{
    return *(const char *const *)SLOT_PTR(s);
}

static void *slot_value(uintptr_t s)
{
    return s & SLOT_SYM ? ((Symbol *)SLOT_PTR(s))->ptr : SLOT_PTR(s);
}

/* (scope_hash: amidl.h) */
static unsigned name_hash(const char *s)
{
    return scope_hash(s, strlen(s));
}

static uintptr_t *table_slot(const SymTab *t, const char *name, unsigned h)
{
    unsigned mask = t->cap - 1;
    uintptr_t tag = h >> 30;
    for (unsigned i = h & mask;; i = (i + 1) & mask) {
        uintptr_t *s = &t->slots[i];
        if (!*s)
            return s;
        if ((*s & SLOT_TAG) == tag) {
            const char *n = slot_name(*s);
            if (n == name || (n[0] == name[0] && !strcmp(n, name)))
                return s;
        }
    }
}

/* what name (of hash h) names in t, or NULL */
static void *table_find_h(const SymTab *t, const char *name, unsigned h)
{
    if (!t->n)
        return NULL;
    uintptr_t s = *table_slot(t, name, h);
    return s ? slot_value(s) : NULL;
}

static void *table_find(const SymTab *t, const char *name)
{
    return t->n ? table_find_h(t, name, name_hash(name)) : NULL;
}

static void table_grow(SymTab *t)
{
    unsigned cap = t->cap ? t->cap * 2 : 8;
    SymTab nt = { xcalloc(cap, sizeof(uintptr_t)), cap, t->n };
    for (unsigned i = 0; i < t->cap; i++)
        if (t->slots[i]) {
            const char *n = slot_name(t->slots[i]);
            *table_slot(&nt, n, name_hash(n)) = t->slots[i];
        }
    free(t->slots);
    *t = nt;
}

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

static void table_add(Compiler *cc, SymTab *t, const char *name, void *ptr)
{
    if ((t->n + 1) * 4 > t->cap * 3)
        table_grow(t);
    unsigned h = name_hash(name);
    uintptr_t *s = table_slot(t, name, h);
    const char *own = *(const char *const *)ptr;
    uintptr_t v = (uintptr_t)ptr;
    if (own != name && (!own || strcmp(own, name))) {
        Symbol *sym = arena_alloc(cc->arena, sizeof *sym);
        sym->name = name;
        sym->ptr = ptr;
        v = (uintptr_t)sym | SLOT_SYM;
    }
    if (v & 7)
        abort();        /* (the arena's objects are 8-aligned) */
    if (!*s)
        t->n++;
    *s = v | (h >> 30);
}

void *scope_lookup_here(Scope *s, const char *name)
{
    return table_find(&s->syms, name);
}

Type *scope_find_type(Scope *s, const char *name)
{
    unsigned h = name_hash(name);
    for (; s; s = s->parent) {
        Type *t = table_find_h(&s->syms, name, h);
        if (t)
            return t;
    }
    return NULL;
}

Type *scope_find_tag(Scope *s, const char *name)
{
    unsigned h = name_hash(name);
    for (; s; s = s->parent) {
        Type *t = table_find_h(&s->tags, name, h);
        if (t)
            return t;
    }
    return NULL;
}

Var *scope_find_const(Scope *s, const char *name)
{
    unsigned h = name_hash(name);
    for (; s; s = s->parent) {
        Var *v = table_find_h(&s->consts, name, h);
        if (v)
            return v;
    }
    return NULL;
}

Scope *scope_find_ns(Scope *s, const char *name)
{
    return table_find(&s->children, name);
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
    Type *o = table_find(&s->syms, name);
    if (o && o != t) {
        /* a second typedef of a name is an error only within the main file */
        if (!o->imported && !t->imported && o->kind == TY_ALIAS && t->kind == TY_ALIAS && cc->main_file &&
            o->loc.file == t->loc.file && cc->main_file->path && o->loc.file &&
            !strcmp(o->loc.file, cc->main_file->path)) {
            error_at(cc, t->loc, "redefinition of typedef '%s'", name);
            note_at(cc, o->loc, "previous definition of '%s' was here", name);
        }
        /* ... and so is a typedef of an interface's name (as widl: the
         * header would declare the name twice) */
        if (!o->imported && !t->imported && t->kind == TY_ALIAS && (o->kind == TY_INTERFACE ||
            o->kind == TY_DISPINTERFACE || o->kind == TY_COCLASS) && !TX(o)->is_async && cc->main_file &&
            o->loc.file == t->loc.file && cc->main_file->path && o->loc.file &&
            !strcmp(o->loc.file, cc->main_file->path)) {
            error_at(cc, t->loc, "redefinition of '%s'", name);
            note_at(cc, o->loc, "previous definition of '%s' was here", name);
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

int scope_classify(Scope *s, const char *name, unsigned h, void **out, bool here_only)
{
    for (; s; s = s->parent) {
        void *p = table_find_h(&s->syms, name, h);
        if (p) {
            *out = p;
            return 1;
        }
        p = table_find_h(&s->children, name, h);
        if (p) {
            *out = p;
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
        for (unsigned i = 0; i < s->syms.cap; i++) {
            if (!s->syms.slots[i])
                continue;
            const char *n = slot_name(s->syms.slots[i]);
            int d = edit_distance(name, n, best_d);
            if (d <= best_d && (d < best_d || !best || strcmp(n, best) < 0)) {
                best_d = d;
                best = n;
            }
        }
    return best;
}


void scopes_free(Compiler *cc)
{
    for (int i = 0; i < cc->scopes.n; i++) {
        Scope *sc = cc->scopes.v[i];
        free(sc->syms.slots);
        free(sc->tags.slots);
        free(sc->children.slots);
        free(sc->consts.slots);
    }
    vec_free(&cc->scopes);
}
