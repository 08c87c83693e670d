/*
 * acf.c - an ACF file (MIDL's application configuration file) merged into
 * the IDL's declarations before the checks.
 *
 * The ACF names an interface of the main IDL file, and in it typedefs,
 * methods and their parameters, each with attributes:
 *
 *   [implicit_handle(handle_t hBinding)] interface IFoo {
 *       typedef [encode, decode] PT;
 *       Method([comm_status] status);
 *   }
 *
 * Each attribute is appended to the declaration's own, as widl does, so
 * the semantic pass checks it where it stands (its location stays the
 * ACF's) and the emitters see it as if the IDL had it. An attribute the
 * IDL allows but an ACF does not ([in], [uuid]...) is an error; one that
 * only RPC stubs use and amidl does not know ([allocate], [heap]...) is
 * read and dropped (-Wacf says so).
 */
#include "amidl.h"

#include <string.h>

const char *attr_suggest(const char *name);

/* MIDL's ACF attributes */
static const char *const acf_attrs[] = {
    "allocate", "async", "auto_handle", "byte_count", "call_quota", "code", "comm_status",
    "context_handle_noserialize", "context_handle_serialize", "cs_char", "cs_drtag", "cs_rtag",
    "cs_stag", "cs_tag_rtn", "decode", "enable_allocate", "encode", "explicit_handle",
    "fault_status", "force_allocate", "heap", "implicit_handle", "in_line", "nocode", "notify",
    "notify_flag", "optimize", "out_of_line", "partial_ignore", "represent_as",
    "strict_context_handle", "type_strict_context_handle",
};

static bool is_acf_attr(const char *name)
{
    for (size_t i = 0; i < sizeof acf_attrs / sizeof *acf_attrs; i++)
        if (!strcmp(acf_attrs[i], name))
            return true;
    return false;
}

/* The attributes of one ACF item that are merged (a fresh chain). */
static Attr *acf_filter(Compiler *cc, Attr *attrs)
{
    Attr *head = NULL;
    for (Attr *a = attrs, *next; a; a = next) {
        next = a->next;
        a->next = NULL;
        if (!is_acf_attr(a->name)) {
            const char *s = a->kind == A_UNKNOWN ? attr_suggest(a->name) : NULL;
            if (a->kind != A_UNKNOWN)
                error_at(cc, a->loc, "attribute '%s' is not allowed in an ACF file", a->name);
            else if (s)
                error_at(cc, a->loc, "unknown attribute '%s'; did you mean '%s'?", a->name, s);
            else
                error_at(cc, a->loc, "unknown attribute '%s'", a->name);
            continue;
        }
        if (a->kind == A_UNKNOWN) {
            warning_at(cc, W_ACF, a->loc,
                       "ACF attribute '%s' is read and has no effect: it concerns RPC stubs, which amidl does not write",
                       a->name);
            continue;
        }
        head = attr_append(head, a);
    }
    return head;
}

/* Fresh nodes for a chain (merge links the nodes it is given). */
static Attr *attr_copy_chain(Compiler *cc, const Attr *list)
{
    Attr *head = NULL;
    for (; list; list = list->next) {
        Attr *c = arena_alloc(cc->arena, sizeof *c);
        *c = *list;
        c->next = NULL;
        head = attr_append(head, c);
    }
    return head;
}

/* Append extra to *holder; holders may share one chain (a typedef's
 * statement, declarators and alias), which is extended once. One walk to
 * the end, with no length limit: a limit would miss extra in a long chain
 * and link the chain into a cycle. */
static void merge(Attr **holder, Attr *extra)
{
    if (!extra)
        return;
    if (!*holder) {
        *holder = extra;
        return;
    }
    Attr *p = *holder;
    for (;; p = p->next) {
        if (p == extra)
            return;                 /* already merged through a shared chain */
        if (!p->next)
            break;
    }
    p->next = extra;
}

static Var *find_method(Type *t, const char *name)
{
    for (int i = 0; i < TX(t)->nstmts; i++) {
        Stmt *s = TX(t)->stmts[i];
        if (s->kind != ST_DECL)
            continue;
        for (int j = 0; j < s->ndecls; j++)
            if (s->decls[j]->name && !strcmp(s->decls[j]->name, name) && s->decls[j]->type &&
                s->decls[j]->type->kind == TY_FUNCTION)
                return s->decls[j];
    }
    return NULL;
}

/* The typedef statement declaring name (main file, its interfaces and libraries). */
static Stmt *find_typedef(Stmt **stmts, int n, const char *name, int depth)
{
    for (int i = 0; i < n && depth < MAX_NEST_DEPTH; i++) {
        Stmt *s = stmts[i];
        if (s->kind == ST_TYPEDEF)
            for (int j = 0; j < s->ndecls; j++)
                if (s->decls[j]->name && !strcmp(s->decls[j]->name, name))
                    return s;
        Stmt *in = NULL;
        if ((s->kind == ST_INTERFACE || s->kind == ST_MODULE) && s->type)
            in = find_typedef(TX(s->type)->stmts, TX(s->type)->nstmts, name, depth + 1);
        else if (s->kind == ST_LIBRARY || s->kind == ST_NAMESPACE)
            in = find_typedef(s->stmts, s->nstmts, name, depth + 1);
        if (in)
            return in;
    }
    return NULL;
}

static void apply_typedef(Compiler *cc, AcfItem *it, Attr *attrs)
{
    Type *t = scope_find_type(cc->global, it->name);
    if (!t) {
        error_at(cc, it->loc, "'%s' in the ACF file is not declared in '%s'", it->name, cc->main_file->name);
        return;
    }
    Stmt *s = cc->main_file ? find_typedef(cc->main_file->stmts, cc->main_file->nstmts, it->name, 0) : NULL;
    if (s) {
        merge(&s->attrs, attrs);
        for (int j = 0; j < s->ndecls; j++)
            merge(&s->decls[j]->attrs, attrs);
    }
    merge(&t->attrs, attrs);
}

static void apply_method(Compiler *cc, Type *iface, AcfItem *it, Attr *attrs)
{
    Var *m = find_method(iface, it->name);
    if (!m) {
        error_at(cc, it->loc, "'%s' in the ACF file is not a method of '%s'", it->name, iface->name);
        return;
    }
    merge(&m->attrs, attrs);
    Type *fn = m->type;
    for (int i = 0; i < it->nitems; i++) {
        AcfItem *p = it->items[i];
        Attr *pa = acf_filter(cc, p->attrs);
        Var *v = NULL;
        for (int k = 0; k < fn->nfields && !v; k++)
            if (fn->fields[k]->name && !strcmp(fn->fields[k]->name, p->name))
                v = fn->fields[k];
        if (!v)
            error_at(cc, p->loc, "'%s' in the ACF file is not a parameter of '%s'", p->name, m->name);
        else
            merge(&v->attrs, pa);
    }
}

void acf_apply(Compiler *cc, File *acf)
{
    const char *idl = cc->main_file ? cc->main_file->name : "the IDL file";
    for (int i = 0; i < acf->nacf; i++) {
        AcfItem *it = acf->acf[i];
        if (it->kind == ACF_INCLUDE) {
            /* the header #includes its files (emit_header.c): a name that
             * cannot stand between the quotes of an #include is an error */
            for (int k = 0; k < it->nitems; k++) {
                const char *n = it->items[k]->name;
                bool bad = !n || !*n;
                for (const char *q = n; q && *q && !bad; q++)
                    bad = *q == '"' || *q == '\\' || (unsigned char)*q < 0x20 || *q == 0x7f;
                if (bad)
                    error_at(cc, it->items[k]->loc, "ACF include names no usable file: '%s'", n ? n : "");
            }
            continue;
        }
        Attr *attrs = acf_filter(cc, it->attrs);
        Type *t = scope_find_type(cc->global, it->name);
        Type *s = type_strip_alias(t);
        if (!s || s->imported || !cc->main_file) {
            error_at(cc, it->loc, "'%s' in the ACF file is not declared in '%s'", it->name, idl);
            continue;
        }
        if (s->kind != TY_INTERFACE) {
            error_at(cc, it->loc, "'%s' in the ACF file is not an interface", it->name);
            continue;
        }
        merge(&s->attrs, attrs);
        /* typedef [encode] A, B;: the names share one attribute chain,
         * which acf_filter takes apart: it is filtered (and reported) once,
         * and each name gets its own copy of what was kept */
        Attr *shared_src = NULL, *shared_kept = NULL;
        for (int k = 0; k < it->nitems; k++) {
            AcfItem *x = it->items[k];
            if (!x->attrs || x->attrs != shared_src) {
                shared_src = x->attrs;
                shared_kept = acf_filter(cc, x->attrs);
            }
            Attr *xa = attr_copy_chain(cc, shared_kept);
            if (x->kind == ACF_TYPEDEF)
                apply_typedef(cc, x, xa);
            else
                apply_method(cc, s, x, xa);
        }
    }
}
