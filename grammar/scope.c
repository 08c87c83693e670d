/*
 * scope.c - scopes and symbols: ordinary identifiers, tags, constants
 * and namespaces (uthash tables), the lexer's name classification, and
 * "did you mean" suggestions.
 */
#include "amidl.h"

#include <string.h>
/* FNV-1a: cheaper than uthash's default on the short names looked up here */
#define HASH_FUNCTION(keyptr, keylen, hashv) HASH_FNV(keyptr, keylen, hashv)
#include <uthash.h>

struct Symbol {
    const char *name;
    void *ptr;
    UT_hash_handle hh;
};


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


void scopes_free(Compiler *cc)
{
    for (int i = 0; i < cc->scopes.n; i++) {
        Scope *sc = cc->scopes.v[i];
        HASH_CLEAR(hh, sc->syms);
        HASH_CLEAR(hh, sc->tags);
        HASH_CLEAR(hh, sc->children);
        HASH_CLEAR(hh, sc->consts);
    }
    vec_free(&cc->scopes);
}
