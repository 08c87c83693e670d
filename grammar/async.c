/*
 * async.c - the synthesis of asynchronous interfaces (RULES.md A), in one
 * place: the parser's pre-declaration of AsyncIFoo (so IDL can name it)
 * and, in the semantic pass, the twin itself.
 *
 * For [object, uuid(U), async_uuid(A)] interface IFoo : IBase the twin
 * AsyncIFoo (IID A) is an ordinary interface in the tree: base IUnknown
 * when IBase is IUnknown, else AsyncIBase; for each method M, Begin_M with
 * the [in] and [in,out] parameters and Finish_M with the [out] and
 * [in,out] ones, both with M's return type. The twins' parameters are
 * copies, their attributes filtered per direction as widl's
 * check_async_uuid does: Begin_ drops [out] and [retval], Finish_ drops
 * [in]. The emitters then have no async special cases.
 */
#include "amidl.h"

#include <string.h>

static Attr *uuid_attr(Type *t, AttrKind k)
{
    Attr *a = attr_find(t->attrs, k);
    return a && a->uuid ? a : NULL;
}

static bool returns_hresult(Var *m)
{
    Type *r = m->type->ref;
    return r && r->kind == TY_ALIAS && r->name && !strcmp(r->name, "HRESULT");
}

/* [async_uuid] interface IFoo: make AsyncIFoo a known type name right
 * away (the parser calls this); async_synthesize fills it in, or reports
 * why it cannot exist. */
void async_predeclare(Compiler *cc, Scope *scope, Type *t)
{
    const char *name = arena_printf(cc->arena, "Async%s", t->name);
    Scope *s = TX(t)->ns ? TX(t)->ns : scope;
    Type *old = scope_find_type(s, name);
    if (old)
        return;    /* async_synthesize reports a clash */
    Type *a = new_type(cc, TY_INTERFACE, name, t->loc);
    a->declared_only = true;
    TXW(cc, a)->is_async = true;
    TXW(cc, a)->ns = TX(t)->ns;
    a->imported = t->imported;
    scope_add_type(cc, s, a, name);
}

/* ---- the twin (sema) ---- */

static bool param_is_in(Var *p)
{
    return attr_has(p->attrs, A_IN) || !attr_has(p->attrs, A_OUT);
}

static bool param_is_out(Var *p)
{
    return attr_has(p->attrs, A_OUT);
}

/* A copy of parameter p for the twin: Begin_ (in) keeps every attribute
 * but [out] and [retval], Finish_ every attribute but [in]. */
static Var *twin_param(Compiler *cc, Var *p, bool in)
{
    Var *n = copy_var(cc, p);
    Attr *head = NULL;
    for (Attr *x = p->attrs; x; x = x->next) {
        if (in ? (x->kind == A_OUT || x->kind == A_RETVAL) : x->kind == A_IN)
            continue;
        Attr *c = arena_alloc(cc->arena, sizeof *c);
        *c = *x;
        c->next = NULL;
        head = attr_append(head, c);
    }
    n->attrs = head;
    return n;
}

static Var *async_method(Compiler *cc, Type *owner, Var *m, const char *prefix, bool in)
{
    Var *n = new_var(cc, arena_printf(cc->arena, "%s%s", prefix, m->name), m->loc);
    n->attrs = m->attrs;
    VXW(cc, n)->owner = owner;
    VXW(cc, n)->orig = m;
    Type *fn = new_type(cc, TY_FUNCTION, NULL, m->loc);
    fn->ref = m->type->ref;
    fn->ref_qual = m->type->ref_qual;
    for (int i = 0; i < m->type->nfields; i++) {
        Var *p = m->type->fields[i];
        if (in ? param_is_in(p) : param_is_out(p))
            push_var(cc, &fn->fields, &fn->nfields, twin_param(cc, p, in));
    }
    n->type = fn;
    return n;
}

static bool same_uuid(const Uuid *a, const Uuid *b)
{
    return !memcmp(a, b, sizeof *a);
}

Type *async_synthesize(Compiler *cc, Type *t, Attr *au)
{
    bool ok = true;
    if (!attr_has(t->attrs, A_OBJECT) || t->kind != TY_INTERFACE) {
        error_at(cc, au->loc, "async_uuid is only allowed on an [object] interface ('%s' is not one)", t->name);
        ok = false;
    }
    if (attr_has(t->attrs, A_DUAL)) {
        error_at(cc, au->loc, "async_uuid is not allowed on the [dual] interface '%s'", t->name);
        ok = false;
    } else if (chain_derives_from_idispatch(cc, t)) {
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
    if (TX(t)->base && ok) {
        if (type_is_iunknown(TX(t)->base)) {
            abase = TX(t)->base;
        } else if (TX(TX(t)->base)->async_iface) {
            abase = TX(TX(t)->base)->async_iface;
        } else {
            error_at(cc, au->loc, "async_uuid on '%s': its base '%s' is neither IUnknown nor an asynchronous interface",
                     t->name, TX(t)->base->name);
            ok = false;
        }
    } else if (!TX(t)->base && ok) {
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
        Attr *osu = TX(o)->sync_iface ? uuid_attr(TX(o)->sync_iface, A_UUID) : NULL;
        if ((ou && ou->uuid && same_uuid(ou->uuid, au->uuid)) || (osu && same_uuid(osu->uuid, au->uuid))) {
            error_at(cc, au->loc, "async_uuid of '%s' is already the IID of '%s'", t->name,
                     ou && same_uuid(ou->uuid, au->uuid) ? o->name : TX(o)->sync_iface->name);
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
    Scope *s = TX(t)->ns ? TX(t)->ns : cc->global;
    Type *a = scope_find_type(s, aname);
    if (a && a->kind == TY_INTERFACE && a->declared_only && TX(a)->is_async) {
        a->loc = t->loc;
    } else if (a && a->kind == TY_INTERFACE && !a->declared_only) {
        error_at(cc, au->loc, "'%s' is already defined; async_uuid cannot create it", aname);
        return NULL;
    } else {
        a = new_type(cc, TY_INTERFACE, aname, t->loc);
        scope_add_type(cc, s, a, a->name);
    }
    a->declared_only = false;
    TXW(cc, a)->is_async = true;
    TXW(cc, a)->is_object = true;
    TXW(cc, a)->sync_iface = t;
    TXW(cc, a)->base = abase;
    a->defined = true;
    a->imported = t->imported;
    TXW(cc, a)->ns = TX(t)->ns;
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
    int idx = vtbl_method_count(cc, abase);
    for (int i = 0; i < TX(t)->nmethods; i++) {
        Var *m = TX(t)->methods[i];
        if (attr_has(m->attrs, A_CALL_AS))
            continue;          /* the remote twin of a [local] method (A10) */
        if (!returns_hresult(m) && !t->imported)
            warning_at(cc, W_ASYNC_NOT_HRESULT, m->loc, "asynchronous method '%s::%s' does not return HRESULT; Begin_%s cannot report errors",
                       t->name, m->name, m->name);
        Var *b = async_method(cc, a, m, "Begin_", true);
        Var *f = async_method(cc, a, m, "Finish_", false);
        VXW(cc, b)->vtbl_index = idx++;
        VXW(cc, f)->vtbl_index = idx++;
        push_var(cc, &TXW(cc, a)->methods, &TXW(cc, a)->nmethods, b);
        push_var(cc, &TXW(cc, a)->methods, &TXW(cc, a)->nmethods, f);
    }
    name_methods(cc, a);
    vec_push(&cc->async_ifaces, a);
    return a;
}

