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
 * What is passed and how was decided by the front end (grammar/glue.c,
 * Type.glue); this file only prints that description.
 */
#include "emit.h"

#include <string.h>
#include <uthash.h>

enum { AMRT_DIR_IN = 1, AMRT_DIR_OUT = 2 };     /* print_args: which arguments */

typedef struct Body { const char *text, *name; UT_hash_handle hh; } Body;
typedef struct Named { const GlueType *gt; const char *name; UT_hash_handle hh; } Named;

typedef struct Glue {
    Emitter *e;
    Buf fwd;            /* forward declarations of the structure descriptions */
    Buf types;          /* AmrtType, AmrtMember and expression definitions */
    int ntypes, nexprs, nmembers;
    Named *named;       /* the name printed for each description (uthash, by GlueType *) */
    Body *bodies;       /* one definition per distinct description (uthash, by text) */
} Glue;

static Type *strip(Type *t)
{
    return type_strip_alias(t);
}

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

/* One word of a table or program; in a program (an int array) sizes and
 * offsets are cast to int. */
static void print_word(Glue *g, Buf *b, const GlueWord *w, bool in_prog)
{
    const char *cast = in_prog ? "(int)" : "";
    switch (w->kind) {
    case GW_INT:
        buf_printf(b, "%lld", w->n);
        break;
    case GW_OP:
        buf_printf(b, "AMRT_X_%s", w->op);
        break;
    case GW_SIZEOF:
        if (!*w->path)
            buf_printf(b, "%s%s", cast, sizeof_of(g, w->t, w->q));
        else
            buf_printf(b, "%ssizeof(((%s *)0)->%s)", cast, c_text(g, w->t, w->q), w->path);
        break;
    case GW_OFFSET: {
        const char *st = c_text(g, w->t, w->q);
        if (!*w->path)
            buf_printf(b, "%soffsetof(%s, %s)", cast, st, w->member);
        else
            buf_printf(b, "%s(offsetof(%s, %s.%s) - offsetof(%s, %s))", cast, st, w->path, w->member, st, w->path);
        break;
    }
    case GW_COUNT:
        buf_putc(b, '(');
        print_expr(g->e, b, w->x, false);
        buf_putc(b, ')');
        break;
    }
}

static const char *word(Glue *g, const GlueWord *w)
{
    Buf b = {0};
    print_word(g, &b, w, false);
    const char *s = arena_strdup(g->e->cc->arena, b.data);
    buf_free(&b);
    return s;
}

/* static const int amrt_xN[] = { ..., AMRT_X_END }; NULL stays NULL */
static const char *print_prog(Glue *g, const GlueProg *p)
{
    if (!p)
        return NULL;
    const char *name = arena_printf(g->e->cc->arena, "amrt_x%d", g->nexprs++);
    buf_printf(&g->types, "static const int %s[] = { ", name);
    for (int i = 0; i < p->n; i++) {
        print_word(g, &g->types, &p->w[i], true);
        buf_puts(&g->types, ", ");
    }
    buf_puts(&g->types, "AMRT_X_END };\n");
    return name;
}

static const char *const kind_names[] = {
    [GK_SCALAR] = "AMRT_K_SCALAR", [GK_STRUCT] = "AMRT_K_STRUCT", [GK_POINTER] = "AMRT_K_POINTER",
    [GK_STRING] = "AMRT_K_STRING", [GK_WSTRING] = "AMRT_K_WSTRING", [GK_ARRAY] = "AMRT_K_ARRAY",
    [GK_INTERFACE] = "AMRT_K_INTERFACE", [GK_BSTR] = "AMRT_K_BSTR", [GK_CSTRUCT] = "AMRT_K_CSTRUCT",
    [GK_UNION] = "AMRT_K_UNION", [GK_FIXED_ARRAY] = "AMRT_K_FIXED_ARRAY", [GK_CONFSTRUCT] = "AMRT_K_CONFSTRUCT",
    [GK_HANDLE] = "AMRT_K_HANDLE", [GK_VARIANT] = "AMRT_K_VARIANT", [GK_SAFEARRAY] = "AMRT_K_SAFEARRAY",
};

/* the initializer of an AmrtType */
static const char *desc_text(Glue *g, const GlueType *t, const char *ref, const char *size_x, const char *first_x,
                             const char *length_x, const char *members)
{
    const char *iid = t->iid ? arena_printf(g->e->cc->arena, "IID_%s", t->iid) : NULL;
    return arena_printf(g->e->cc->arena, "{ %s, %d, %d, %s, %s%s, %s%s, %s, %s, %s, %d, %s }", kind_names[t->kind],
                        t->unique, t->iid_param, word(g, &t->size), ref ? "&" : "", ref ? ref : "NULL",
                        iid ? "&" : "", iid ? iid : "NULL", size_x ? size_x : "NULL", first_x ? first_x : "NULL",
                        length_x ? length_x : "NULL", t->nmembers, members ? members : "NULL");
}

/* one definition per distinct description */
static const char *define(Glue *g, const char *body)
{
    Body *d;
    HASH_FIND_STR(g->bodies, body, d);
    if (d)
        return d->name;
    d = arena_alloc(g->e->cc->arena, sizeof *d);
    d->text = body;
    d->name = arena_printf(g->e->cc->arena, "amrt_t%d", g->ntypes++);
    HASH_ADD_KEYPTR(hh, g->bodies, d->text, strlen(d->text), d);
    buf_printf(&g->types, "static const AmrtType %s = %s;\n", d->name, body);
    return d->name;
}

static void remember(Glue *g, const GlueType *t, const char *name)
{
    Named *n = arena_alloc(g->e->cc->arena, sizeof *n);
    n->gt = t;
    n->name = name;
    HASH_ADD_PTR(g->named, gt, n);
}

static const char *print_type(Glue *g, const GlueType *t);

static const char *member_table(Glue *g, Buf *rows)
{
    const char *tab = arena_printf(g->e->cc->arena, "amrt_m%d", g->nmembers++);
    buf_printf(&g->types, "static const AmrtMember %s[] = {\n%s};\n", tab, rows->data);
    buf_free(rows);
    return tab;
}

/* A structure whose members hold pointers: named before its members are
 * printed (a member may point back at it), declared ahead. */
static const char *print_struct(Glue *g, const GlueType *t)
{
    const char *name = arena_printf(g->e->cc->arena, "amrt_t%d", g->ntypes++);
    remember(g, t, name);
    Buf rows = {0};
    for (int i = 0; i < t->nmembers; i++) {
        const char *m = print_type(g, t->members[i].type);
        buf_printf(&rows, "    { %s, 0, 0, &%s },\n", word(g, &t->members[i].offset), m);
    }
    const char *size_x = print_prog(g, t->size_x);
    const char *ref = t->ref ? print_type(g, t->ref) : NULL;
    const char *tab = t->nmembers ? member_table(g, &rows) : NULL;
    buf_printf(&g->types, "AMRT_DEFINED const AmrtType %s = %s;\n", name, desc_text(g, t, ref, size_x, NULL, NULL, tab));
    buf_printf(&g->fwd, "AMRT_AHEAD const AmrtType %s;\n", name);
    return name;
}

static const char *print_union(Glue *g, const GlueType *t)
{
    Buf rows = {0};
    for (int i = 0; i < t->nmembers; i++) {
        const GlueMember *a = &t->members[i];
        const char *ty = a->type ? print_type(g, a->type) : NULL;
        if (a->value) {
            Buf v = {0};
            print_expr(g->e, &v, a->value, false);
            buf_printf(&rows, "    { 0, 0, (long long)(%s), %s%s },\n", v.data, ty ? "&" : "", ty ? ty : "NULL");
            buf_free(&v);
        } else {
            buf_printf(&rows, "    { 0, %d, 0, %s%s },\n", a->is_default, ty ? "&" : "", ty ? ty : "NULL");
        }
    }
    const char *sx = t->switch_first ? print_prog(g, t->size_x) : NULL;
    const char *tab = member_table(g, &rows);
    if (!t->switch_first)
        sx = print_prog(g, t->size_x);
    return define(g, desc_text(g, t, NULL, sx, NULL, NULL, tab));
}

/* The name of the AmrtType of t, printing it (and what it refers to)
 * the first time. */
static const char *print_type(Glue *g, const GlueType *t)
{
    Named *n;
    HASH_FIND_PTR(g->named, &t, n);
    if (n)
        return n->name;
    const char *name;
    switch (t->kind) {
    case GK_CSTRUCT: case GK_CONFSTRUCT:
        return print_struct(g, t);
    case GK_UNION:
        name = print_union(g, t);
        break;
    case GK_ARRAY: {
        const char *sx = print_prog(g, t->size_x);
        const char *fx = print_prog(g, t->first_x);
        const char *lx = print_prog(g, t->length_x);
        name = define(g, desc_text(g, t, print_type(g, t->ref), sx, fx, lx, NULL));
        break;
    }
    case GK_POINTER: case GK_FIXED_ARRAY:
        name = define(g, desc_text(g, t, print_type(g, t->ref), NULL, NULL, NULL, NULL));
        break;
    default:
        name = define(g, desc_text(g, t, NULL, NULL, NULL, NULL, NULL));
        break;
    }
    remember(g, t, name);
    return name;
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

/* The alias t names when it is REFIID or one of its kin (amidl_types.h):
 * a pointer in C, a reference in C++. The runtime always receives the
 * pointer; AMRT_REFARG and AMRT_REFPTR convert in C++. */
static Type *cxx_ref(Type *t)
{
    static const char *const names[] = { "REFGUID", "REFIID", "REFCLSID", "REFFMTID" };
    for (; t && t->kind == TY_ALIAS; t = t->ref)
        for (size_t i = 0; i < sizeof names / sizeof *names; i++)
            if (t->name && !strcmp(t->name, names[i]))
                return t;
    return NULL;
}

/* ", *(T *)args[i]" for each argument passed (all: 'dir' 0) */
static void print_args(Glue *g, Buf *b, const GlueMethod *gm, int dir)
{
    for (int i = 0; i < gm->nparams; i++) {
        const GlueParam *p = &gm->params[i];
        if (dir == AMRT_DIR_IN ? !p->in : dir == AMRT_DIR_OUT ? !p->out : false)
            continue;
        Type *r = cxx_ref(p->p->type);
        if (r) {
            buf_puts(b, ", AMRT_REFARG(*(");
            print_decl(g->e, b, r->ref, r->ref_qual & ~Q_CONST, "*", 0);
            buf_printf(b, ")args[%d])", i);
            continue;
        }
        buf_puts(b, ", *(");
        print_decl(g->e, b, p->p->type, p->p->qual & ~Q_CONST, "*", 0);
        buf_printf(b, ")args[%d]", i);
    }
}

/* A thunk's start when the program's conversion function 'fn' of a
 * [call_as] method is missing (a weak reference): the call fails with
 * E_NOTIMPL, as a [local] method without a twin does across processes. */
static void print_missing(Buf *b, const GlueMethod *gm, const char *fn)
{
    buf_printf(b, "    if (!%s) {\n", fn);
    if (gm->ret_hresult)
        buf_puts(b, "        *(HRESULT *)ret = E_NOTIMPL;\n");
    buf_puts(b, "        return;\n    }\n");
}

/* tables and call thunks of the own methods of sync interface t (and of its [call_as] twins) */
static void emit_tables(Glue *g, Buf *b, const GlueIface *gi)
{
    Type *t = gi->iface;
    Buf methods = {0};
    for (int k = 0; k < gi->nmethods + gi->ncall_as; k++) {
        const GlueMethod *gm = &gi->methods[k];
        Var *m = gm->m;
        int n = gm->nparams;
        const char **descs = arena_alloc(g->e->cc->arena, sizeof(char *) * (size_t)(n + 1));
        for (int i = 0; i < n; i++)
            descs[i] = print_type(g, gm->params[i].type);
        if (n) {
            buf_printf(b, "/* the parameters of %s::%s: { name, dir, type } */\n", t->name, VX(m)->macro_name);
            buf_printf(b, "static const AmrtParam %s_%s_params[] = {\n", t->name, VX(m)->macro_name);
            for (int i = 0; i < n; i++) {
                const GlueParam *p = &gm->params[i];
                buf_printf(b, "    { \"%s\", %s, &%s },\n", p->p->name,
                           p->in && p->out ? "AMRT_IN | AMRT_OUT" : p->out ? "AMRT_OUT" : "AMRT_IN", descs[i]);
            }
            buf_puts(b, "};\n");
        }
        /* a [call_as] twin: the program's conversions make the local calls
         * (IFoo_M_Stub, AsyncIFoo_Begin_M_Stub, AsyncIFoo_Finish_M_Stub) */
        const char *local = gm->is_twin ? VX(gm->twin->m)->macro_name : NULL;
        if (local)
            buf_printf(b, "#pragma weak %s_%s_Stub\n#pragma weak %s_Begin_%s_Stub\n#pragma weak %s_Finish_%s_Stub\n",
                       t->name, local, gi->async->name, local, gi->async->name, local);
        /* the synchronous call: args[i] points at the value of argument i */
        buf_printf(b, "static void amrt_%s_%s_call(void *obj, void **args, void *ret)\n{\n", t->name, VX(m)->macro_name);
        if (n == 0)
            buf_puts(b, "    (void)args;\n");
        if (local)
            print_missing(b, gm, arena_printf(g->e->cc->arena, "%s_%s_Stub", t->name, local));
        if (gm->is_void)
            buf_puts(b, "    (void)ret;\n    ");
        else {
            buf_puts(b, "    *(");
            print_ret_type(g, b, m);
            buf_puts(b, " *)ret = ");
        }
        if (local)
            buf_printf(b, "%s_%s_Stub((%s *)obj", t->name, local, t->name);
        else
            buf_printf(b, "((%s *)obj)->lpVtbl->%s((%s *)obj", t->name, VX(m)->c_name, t->name);
        print_args(g, b, gm, 0);
        buf_puts(b, ");\n}\n\n");
        /* Begin_/Finish_ of a server's own call object (server-side async) */
        for (int fin = 0; fin < 2; fin++) {
            buf_printf(b, "static void amrt_%s_%s_%s(void *obj, void **args, void *ret)\n{\n", t->name, VX(m)->macro_name,
                       fin ? "finish" : "begin");
            buf_puts(b, "    (void)args;\n");
            if (local)
                print_missing(b, gm, arena_printf(g->e->cc->arena, "%s_%s_%s_Stub", gi->async->name,
                                                  fin ? "Finish" : "Begin", local));
            if (gm->is_void || !gm->ret_hresult)
                buf_puts(b, "    (void)ret;\n    ");
            else
                buf_puts(b, "    *(HRESULT *)ret = ");
            if (!gm->is_void && !gm->ret_hresult && fin) {
                buf_puts(b, "*(");
                print_ret_type(g, b, m);
                buf_puts(b, " *)ret = ");
            }
            Var *twin = fin ? gm->finish : gm->begin;
            if (local)
                buf_printf(b, "%s_%s_%s_Stub((%s *)obj", gi->async->name, fin ? "Finish" : "Begin", local,
                           gi->async->name);
            else
                buf_printf(b, "((%s *)obj)->lpVtbl->%s((%s *)obj", gi->async->name, twin ? VX(twin)->c_name : "?",
                           gi->async->name);
            print_args(g, b, gm, fin ? AMRT_DIR_OUT : AMRT_DIR_IN);
            buf_puts(b, ");\n}\n\n");
        }
        if (local) {
            /* a call object's worker sends the twin itself to the object's process */
            buf_printf(b, "EXTERN_C const AmrtInterface %s_amrt_glue;\n\n", t->name);
            buf_printf(b, "static void amrt_%s_%s_send(void *obj, void **args, void *ret)\n{\n"
                          "    AmrtProxyInvoke(obj, &%s_amrt_glue, %d, args, ret);\n}\n\n",
                       t->name, VX(m)->macro_name, t->name, gm->index);
        }
        buf_printf(&methods, "    { \"%s\", %d, %s%s%s, %s, %d, %d, amrt_%s_%s_call, amrt_%s_%s_begin, amrt_%s_%s_finish, %s },\n",
                   VX(m)->macro_name, n,
                   n ? t->name : "NULL", n ? "_" : "", n ? arena_printf(g->e->cc->arena, "%s_params", VX(m)->macro_name) : "",
                   gm->is_void ? "0" : sizeof_of(g, m->type->ref, m->type->ref_qual), gm->ret_hresult, gm->is_local,
                   t->name, VX(m)->macro_name, t->name, VX(m)->macro_name, t->name, VX(m)->macro_name,
                   local ? arena_printf(g->e->cc->arena, "amrt_%s_%s_send", t->name, VX(m)->macro_name) : "NULL");
    }
    buf_printf(b, "/* the own methods of %s, in vtable order, then its [call_as] twins:\n"
                  " * { name, nparams, params, ret_size, ret_hresult, local, call, begin, finish, send } */\n", t->name);
    buf_printf(b, "static const AmrtMethod %s_methods[] = {\n%s};\n\n", t->name,
               methods.data ? methods.data : "    { NULL, 0, NULL, 0, 0, 0, NULL, NULL, NULL, NULL }\n");
    buf_free(&methods);
}

/* ", a, b" of the parameters of gm passed at Begin_ (fin: Finish_) */
static void print_dir_params(Glue *g, Buf *b, const GlueMethod *gm, int fin)
{
    for (int i = 0; i < gm->nparams; i++) {
        const GlueParam *p = &gm->params[i];
        if (fin ? p->out : p->in) {
            buf_puts(b, ", ");
            print_decl(g->e, b, p->p->type, p->p->qual, p->p->name, 0);
        }
    }
}

/* The body of a Begin_ (fin: Finish_) of gm that hands its arguments to
 * AmrtBegin/AmrtFinish with the glue of interface 'owner'. */
static void print_begin_finish_body(Glue *g, Buf *b, const GlueMethod *gm, const char *owner, int fin)
{
    Var *m = gm->m;
    int n = gm->nparams;
    for (int i = 0; i < n; i++) {
        const GlueParam *p = &gm->params[i];
        Type *r = cxx_ref(p->p->type);
        if (r && (fin ? p->out : p->in)) {
            buf_puts(b, "    ");
            print_decl(g->e, b, r->ref, r->ref_qual, arena_printf(g->e->cc->arena, "amrt_%s", p->p->name), 0);
            buf_printf(b, " = AMRT_REFPTR(%s);\n", p->p->name);
        }
    }
    buf_printf(b, "    void *args[%d] = {", n ? n : 1);
    for (int i = 0; i < n; i++) {
        const GlueParam *p = &gm->params[i];
        bool passed = fin ? p->out : p->in;
        buf_printf(b, "%s%s%s%s", i ? ", " : " ", passed ? "(void *)&" : "NULL",
                   passed && cxx_ref(p->p->type) ? "amrt_" : "", passed ? p->p->name : "");
    }
    buf_puts(b, n ? " };\n" : " NULL };\n");
    if (!fin) {
        if (gm->ret_hresult)
            buf_printf(b, "    return AmrtBegin(This, &%s_amrt_glue, %d, args);\n}\n\n", owner, gm->index);
        else if (gm->is_void)
            buf_printf(b, "    AmrtBegin(This, &%s_amrt_glue, %d, args);\n}\n\n", owner, gm->index);
        else {
            /* Begin_ keeps the method's return type (widl); it returns a zeroed value */
            buf_puts(b, "    ");
            print_decl(g->e, b, m->type->ref, m->type->ref_qual & ~Q_CONST, "ret", 1);
            buf_printf(b, ";\n    memset(&ret, 0, sizeof ret);\n    AmrtBegin(This, &%s_amrt_glue, %d, args);\n"
                          "    return ret;\n}\n\n", owner, gm->index);
        }
    } else {
        if (gm->ret_hresult) {
            buf_printf(b, "    HRESULT ret = S_OK;\n    return AmrtFinish(This, &%s_amrt_glue, %d, args, &ret);\n}\n\n",
                       owner, gm->index);
        } else if (gm->is_void) {
            buf_printf(b, "    AmrtFinish(This, &%s_amrt_glue, %d, args, NULL);\n}\n\n", owner, gm->index);
        } else {
            buf_puts(b, "    ");
            print_decl(g->e, b, m->type->ref, m->type->ref_qual & ~Q_CONST, "ret", 1);
            buf_printf(b, ";\n    memset(&ret, 0, sizeof ret);\n    AmrtFinish(This, &%s_amrt_glue, %d, args, &ret);\n    return ret;\n}\n\n",
                       owner, gm->index);
        }
    }
}

/* "    if (!target) {" and the rest of a [call_as] local method's hand-over
 * to the program's conversion function fn (a weak reference: missing, the
 * call fails with E_NOTIMPL) with the parameters of direction dir */
static void print_hand_over(Glue *g, Buf *b, const GlueMethod *gm, const char *cond, const char *fn,
                            const char *this_type, int dir)
{
    buf_printf(b, "    if (%s) {\n        if (%s)\n            %s%s((%s *)This", cond, fn, gm->is_void ? "" : "return ", fn,
               this_type);
    for (int i = 0; i < gm->nparams; i++) {
        const GlueParam *p = &gm->params[i];
        if (dir == AMRT_DIR_IN ? !p->in : dir == AMRT_DIR_OUT ? !p->out : false)
            continue;
        buf_printf(b, ", %s", p->p->name);
    }
    buf_puts(b, ");\n");
    if (gm->is_void)
        buf_puts(b, "        return;\n");
    else if (gm->ret_hresult)
        buf_puts(b, "        return E_NOTIMPL;\n");
    else {
        buf_puts(b, "        ");
        print_decl(g->e, b, gm->m->type->ref, gm->m->type->ref_qual & ~Q_CONST, "ret", 1);
        buf_puts(b, ";\n        memset(&ret, 0, sizeof ret);\n        return ret;\n");
    }
    buf_puts(b, "    }\n");
}

/* Begin_/Finish_ thunks of every method of gi's async chain, for vtable a */
static void emit_async_thunks(Glue *g, Buf *b, Type *a, const GlueIface *gi)
{
    if (gi->base)
        emit_async_thunks(g, b, a, TX(gi->base)->glue);
    Type *t = gi->iface;
    for (int k = 0; k < gi->nmethods; k++) {
        const GlueMethod *gm = &gi->methods[k];
        Var *m = gm->m;
        for (int fin = 0; fin < 2; fin++) {
            const char *conv = gm->twin ? arena_printf(g->e->cc->arena, "%s_%s_%s_Proxy", gi->async->name,
                                                       fin ? "Finish" : "Begin", VX(m)->macro_name) : NULL;
            if (conv)
                buf_printf(b, "#pragma weak %s\n", conv);
            buf_puts(b, "static ");
            print_ret_type(g, b, m);
            Var *twin = fin ? gm->finish : gm->begin;   /* its slot's calling convention */
            buf_printf(b, " %s amrt_%s_%s_%s(%s *This", twin ? callconv_of(twin, "STDMETHODCALLTYPE") : "STDMETHODCALLTYPE",
                       a->name, fin ? "Finish" : "Begin", VX(m)->macro_name, a->name);
            print_dir_params(g, b, gm, fin);
            buf_puts(b, ")\n{\n");
            /* [call_as] (RULES.md A10): to another process, the program's
             * AsyncIFoo_Begin_M_Proxy converts and calls Begin_RemoteM */
            if (conv)
                print_hand_over(g, b, gm, "AmrtCallRemote(This)", conv, gi->async->name,
                                fin ? AMRT_DIR_OUT : AMRT_DIR_IN);
            print_begin_finish_body(g, b, gm, t->name, fin);
        }
    }
}

/* What the program's [call_as] conversions call, for each twin RemoteM of
 * gi's own methods: IFoo_RemoteM_Proxy (a synchronous call of RemoteM on
 * a proxy of an object in another process), AsyncIFoo_Begin_RemoteM_Proxy
 * and AsyncIFoo_Finish_RemoteM_Proxy (on a call object). */
static void emit_twin_proxies(Glue *g, Buf *b, const GlueIface *gi)
{
    Type *t = gi->iface, *a = gi->async;
    for (int k = gi->nmethods; k < gi->nmethods + gi->ncall_as; k++) {
        const GlueMethod *gm = &gi->methods[k];
        Var *m = gm->m;
        int n = gm->nparams;
        print_ret_type(g, b, m);
        buf_printf(b, " %s %s_%s_Proxy(%s *This", callconv_of(m, "STDMETHODCALLTYPE"), t->name, VX(m)->macro_name, t->name);
        print_params(g, b, m);
        buf_puts(b, ")\n{\n");
        for (int i = 0; i < n; i++) {
            Type *r = cxx_ref(gm->params[i].p->type);
            if (r) {
                buf_puts(b, "    ");
                print_decl(g->e, b, r->ref, r->ref_qual, arena_printf(g->e->cc->arena, "amrt_%s", gm->params[i].p->name), 0);
                buf_printf(b, " = AMRT_REFPTR(%s);\n", gm->params[i].p->name);
            }
        }
        buf_printf(b, "    void *args[%d] = {", n ? n : 1);
        for (int i = 0; i < n; i++)
            buf_printf(b, "%s(void *)&%s%s", i ? ", " : " ", cxx_ref(gm->params[i].p->type) ? "amrt_" : "",
                       gm->params[i].p->name);
        buf_puts(b, n ? " };\n" : " NULL };\n");
        if (gm->is_void) {
            buf_printf(b, "    AmrtProxyInvoke(This, &%s_amrt_glue, %d, args, NULL);\n}\n\n", t->name, gm->index);
        } else {
            buf_puts(b, "    ");
            print_decl(g->e, b, m->type->ref, m->type->ref_qual & ~Q_CONST, "ret", 1);
            buf_printf(b, ";\n    memset(&ret, 0, sizeof ret);\n    AmrtProxyInvoke(This, &%s_amrt_glue, %d, args, &ret);\n"
                          "    return ret;\n}\n\n", t->name, gm->index);
        }
        for (int fin = 0; fin < 2; fin++) {
            print_ret_type(g, b, m);
            buf_printf(b, " STDMETHODCALLTYPE %s_%s_%s_Proxy(%s *This", a->name, fin ? "Finish" : "Begin", VX(m)->macro_name,
                       a->name);
            print_dir_params(g, b, gm, fin);
            buf_puts(b, ")\n{\n");
            print_begin_finish_body(g, b, gm, t->name, fin);
        }
    }
}

static void emit_async_vtbl_entries(Buf *b, Type *a, const GlueIface *gi)
{
    if (gi->base)
        emit_async_vtbl_entries(b, a, TX(gi->base)->glue);
    for (int k = 0; k < gi->nmethods; k++) {
        const char *mn = VX(gi->methods[k].m)->macro_name;
        buf_printf(b, "    amrt_%s_Begin_%s,\n    amrt_%s_Finish_%s,\n", a->name, mn, a->name, mn);
    }
}

/* [call_as] methods are not in the vtable (RULES.md A10) */
static bool in_vtable(Var *m)
{
    return !attr_has(m->attrs, A_CALL_AS);
}

/* the glue of method m of interface t (NULL: t has none) */
static const GlueMethod *find_glue_method(Type *t, Var *m)
{
    if (!TX(t)->glue)
        return NULL;
    for (int k = 0; k < TX(t)->glue->nmethods; k++)
        if (TX(t)->glue->methods[k].m == m)
            return &TX(t)->glue->methods[k];
    return NULL;
}

/* proxy forwarders of every method of t's chain (below IUnknown), for vtable of x */
static void emit_proxy_thunks(Glue *g, Buf *b, Type *x, Type *t)
{
    if (!t || !TX(t)->base)
        return;             /* IUnknown's slots are the runtime's */
    emit_proxy_thunks(g, b, x, TX(t)->base);
    if (t != x && TX(t)->glue)
        buf_printf(b, "extern const AmrtInterface %s_amrt_glue;\n\n", t->name);
    for (int k = 0; k < TX(t)->nmethods; k++) {
        Var *m = TX(t)->methods[k];
        if (!in_vtable(m))
            continue;
        const GlueMethod *gm = find_glue_method(t, m);
        const char *conv = gm && gm->is_local && gm->twin
                         ? arena_printf(g->e->cc->arena, "%s_%s_Proxy", t->name, VX(m)->macro_name) : NULL;
        if (conv)
            buf_printf(b, "#pragma weak %s\n", conv);
        buf_puts(b, "static ");
        print_ret_type(g, b, m);
        buf_printf(b, " %s amrt_%s_proxy_%s_%s(%s *This", callconv_of(m, "STDMETHODCALLTYPE"), x->name, t->name,
                   VX(m)->macro_name, x->name);
        print_params(g, b, m);
        buf_printf(b, ")\n{\n    %s *target = (%s *)AmrtProxyTarget(This);\n", t->name, t->name);
        /* no local target: the object is in another process (RULES.md J4) */
        if (conv) {
            /* [call_as] (RULES.md A10): the program's IFoo_M_Proxy converts
             * and calls IFoo_RemoteM_Proxy, which sends the twin */
            print_hand_over(g, b, gm, "!target", conv, t->name, 0);
        } else if (gm && gm->is_local) {
            /* [local] without a [call_as] twin: nothing describes it for the
             * wire; in-process only */
            if (gm->is_void)
                buf_puts(b, "    if (!target)\n        return;\n");
            else if (gm->ret_hresult)
                buf_puts(b, "    if (!target)\n        return E_NOTIMPL;\n");
            else {
                buf_puts(b, "    if (!target) {\n        ");
                print_decl(g->e, b, m->type->ref, m->type->ref_qual & ~Q_CONST, "ret", 1);
                buf_puts(b, ";\n        memset(&ret, 0, sizeof ret);\n        return ret;\n    }\n");
            }
        } else if (gm) {
            int n = m->type->nfields;
            buf_printf(b, "    if (!target) {\n        void *args[%d] = {", n ? n : 1);
            for (int i = 0; i < n; i++)
                buf_printf(b, "%s(void *)&%s", i ? ", " : " ", m->type->fields[i]->name);
            buf_puts(b, n ? " };\n" : " NULL };\n");
            if (gm->is_void) {
                buf_printf(b, "        AmrtProxyInvoke(This, &%s_amrt_glue, %d, args, NULL);\n        return;\n    }\n",
                           t->name, gm->index);
            } else {
                buf_puts(b, "        ");
                print_decl(g->e, b, m->type->ref, m->type->ref_qual & ~Q_CONST, "ret", 1);
                buf_printf(b, ";\n        memset(&ret, 0, sizeof ret);\n"
                              "        AmrtProxyInvoke(This, &%s_amrt_glue, %d, args, &ret);\n        return ret;\n    }\n",
                           t->name, gm->index);
            }
        }
        buf_printf(b, "    %starget->lpVtbl->%s(target", strip(m->type->ref)->kind == TY_VOID ? "" : "return ",
                   VX(m)->c_name);
        for (int i = 0; i < m->type->nfields; i++)
            buf_printf(b, ", %s", m->type->fields[i]->name);
        buf_puts(b, ");\n}\n\n");
    }
}

static void emit_proxy_entries(Buf *b, Type *x, Type *t)
{
    if (!t || !TX(t)->base)
        return;
    emit_proxy_entries(b, x, TX(t)->base);
    for (int k = 0; k < TX(t)->nmethods; k++)
        if (in_vtable(TX(t)->methods[k]))
            buf_printf(b, "    amrt_%s_proxy_%s_%s,\n", x->name, t->name, VX(TX(t)->methods[k])->macro_name);
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

/* whether t's glue is defined in this file before position `upto` of ifaces */
static int emitted_before(const PtrVec *ifaces, int upto, const Type *t)
{
    for (int i = 0; i < upto; i++)
        if (ifaces->v[i] == t)
            return 1;
    return 0;
}

static void emit_interface(Glue *g, Buf *b, const GlueIface *gi, const PtrVec *ifaces, int pos)
{
    Type *t = gi->iface, *a = gi->async;
    buf_printf(b, "/* ======================================================== %s / %s */\n\n", t->name, a->name);
    emit_tables(g, b, gi);
    buf_printf(b, "EXTERN_C const AmrtInterface %s_amrt_glue;\n", t->name);
    /* the thunks of inherited methods name their interface's glue: an
     * imported base's (and its bases') is defined in its own FILE_async.c,
     * a base defined later in this file (declared ahead) after this one */
    for (const GlueIface *p = gi->base ? TX(gi->base)->glue : NULL; p; p = p->base ? TX(p->base)->glue : NULL)
        if (p->iface->imported || !emitted_before(ifaces, pos, p->iface))
            buf_printf(b, "EXTERN_C const AmrtInterface %s_amrt_glue;\n", p->iface->name);
    buf_puts(b, "\n");
    emit_async_thunks(g, b, a, gi);
    emit_twin_proxies(g, b, gi);
    emit_unknown_vtbl_start(b, a->name, "", "Call", "amrt_vtbl");
    emit_async_vtbl_entries(b, a, gi);
    buf_puts(b, "};\n\n");
    /* the proxy's IFoo */
    emit_proxy_thunks(g, b, t, t);
    emit_unknown_vtbl_start(b, t->name, "proxy_", "Proxy", "proxy_vtbl");
    emit_proxy_entries(b, t, t);
    buf_puts(b, "};\n\n");
    Type *abase = gi->base;
    buf_printf(b, "/* { version, name, iid, async_iid, base, nmethods, methods, async_vtbl, proxy_vtbl, ncall_as } */\n"
                  "const AmrtInterface %s_amrt_glue = {\n    AMRT_GLUE_VERSION, \"%s\", &IID_%s, &IID_%s, %s%s%s,\n"
                  "    %d, %s_methods, &%s_amrt_vtbl, &%s_proxy_vtbl, %d\n};\n\n",
               t->name, t->name, t->name, a->name, abase ? "&" : "NULL", abase ? abase->name : "",
               abase ? "_amrt_glue" : "", gi->nmethods, t->name, a->name, t->name, gi->ncall_as);
}

static void collect(Stmt **stmts, int n, PtrVec *out)
{
    for (int i = 0; i < n; i++) {
        if (stmts[i]->kind == ST_INTERFACE && TX(stmts[i]->type)->async_iface)
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
    for (int i = 0; i < ifaces.n; i++) {
        Type *t = ifaces.v[i];
        if (!TX(t)->glue || !TX(t)->glue->described) {      /* sema_check lowers them all (glue.c) */
            error_at(cc, t->loc, "internal error: the glue of '%s' was not lowered", t->name);
            vec_free(&ifaces);
            return -1;
        }
    }
    Buf body = {0};
    for (int i = 0; i < ifaces.n; i++)
        emit_interface(&g, &body,TX( ((Type *)ifaces.v[i]))->glue, &ifaces, i);
    print_banner(&e, out);
    buf_printf(out, "/* The call-object glue of libamidlrt: link this file, %s's IID file and\n"
                    " * -lamidlrt; the interfaces register themselves (a constructor). */\n", e.file_base);
    /* The file is C that a C++ compiler also accepts: the thunks call
     * through the C view of the vtables (lpVtbl), which CINTERFACE selects
     * in C++ too, and the tables use positional initializers (C++11 has no
     * designated ones), their fields named by the legend comments. */
    buf_puts(out, "#ifndef CINTERFACE\n#define CINTERFACE  /* the C view (lpVtbl), in C++ too */\n#endif\n");
    buf_printf(out, "#include <stddef.h>\n#include <string.h>\n#include \"amidlrt.h\"\n#include \"%s\"\n\n", header_name);
    buf_puts(out, "#if defined(__GNUC__)\n#pragma GCC diagnostic ignored \"-Wunused-parameter\"\n#endif\n\n");
    buf_puts(out, "/* REFIID and its kin are pointers in C, references in C++; the runtime\n"
                  " * receives the pointer */\n#ifdef __cplusplus\n#define AMRT_REFARG(p) (*(p))\n"
                  "#define AMRT_REFPTR(r) (&(r))\n#else\n#define AMRT_REFARG(p) (p)\n#define AMRT_REFPTR(r) (r)\n#endif\n\n");
    if (g.types.len) {
        /* a structure's description may be used before its definition (a
         * member pointing back at it): a tentative definition in C, an
         * extern declaration in an unnamed namespace in C++ */
        buf_puts(out, "/* The type descriptions, as amidlrt_glue.h declares them:\n"
                      " *   AmrtType   { kind, flags, iid_param, size, ref, iid, size_x, first_x, length_x, nmembers, members }\n"
                      " *   AmrtMember { offset, is_default, value, type }\n"
                      " *   amrt_xN    a size, switch or length expression: AMRT_X_* opcodes and operands */\n");
        buf_puts(out, "#ifdef __cplusplus\nnamespace {\n#define AMRT_AHEAD extern\n#define AMRT_DEFINED\n"
                      "#else\n#define AMRT_AHEAD static\n#define AMRT_DEFINED static\n#endif\n");
        buf_write(out, g.fwd.data ? g.fwd.data : "", g.fwd.len);
        buf_write(out, g.types.data, g.types.len);
        buf_puts(out, "#ifdef __cplusplus\n}\n#endif\n");
    }
    buf_putc(out, '\n');
    buf_write(out, body.data ? body.data : "", body.len);
    buf_printf(out, "/* ======================================================== registration */\n\n");
    buf_printf(out, "EXTERN_C const AmrtInterface *const %s_amrt_interfaces[];\n", e.stem);
    buf_printf(out, "const AmrtInterface *const %s_amrt_interfaces[] = {\n", e.stem);
    for (int i = 0; i < ifaces.n; i++)
        buf_printf(out, "    &%s_amrt_glue,\n", ((Type *)ifaces.v[i])->name);
    buf_printf(out, "    NULL\n};\n\n__attribute__((constructor)) static void %s_amrt_register(void)\n{\n"
                    "    AmrtRegisterInterfaces(%s_amrt_interfaces, %d);\n}\n", e.stem, e.stem, ifaces.n);
    buf_free(&g.fwd);
    buf_free(&g.types);
    HASH_CLEAR(hh, g.named);            /* the entries live in the arena */
    HASH_CLEAR(hh, g.bodies);
    buf_free(&body);
    vec_free(&ifaces);
    return 0;
}
