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

typedef struct Glue {
    Emitter *e;
    Buf types;          /* AmrtType definitions */
    int ntypes;
    bool failed;
} Glue;

static Type *strip(Type *t)
{
    return type_strip_alias(t);
}

/* the chain of alias names of a type carries [string] (LPWSTR) */
static bool has_string_attr(Var *p)
{
    if (attr_has(p->attrs, A_STRING))
        return true;
    for (Type *t = p->type; t && t->kind == TY_ALIAS; t = t->ref)
        if (attr_has(t->attrs, A_STRING))
            return true;
    return false;
}

static bool alias_string(Type *t)
{
    for (; t && t->kind == TY_ALIAS; t = t->ref)
        if (attr_has(t->attrs, A_STRING))
            return true;
    return false;
}

/* a struct whose every member is plain data */
static bool flat_struct(Type *t, int depth)
{
    t = strip(t);
    if (!t || depth > 32)
        return false;
    switch (t->kind) {
    case TY_BASIC: case TY_ENUM:
        return t->kind != TY_BASIC || t->basic != B_HANDLE;
    case TY_STRUCT:
        for (int i = 0; i < t->nfields; i++) {
            Type *ft = t->fields[i]->type;
            if (!ft)
                continue;
            if (ft->kind == TY_BITFIELD)
                continue;
            if (ft->kind == TY_ARRAY && !ft->conformant) {
                if (!flat_struct(ft->ref, depth + 1))
                    return false;
                continue;
            }
            if (!flat_struct(ft, depth + 1))
                return false;
        }
        return t->defined;
    default:
        return false;
    }
}

static int param_index(Var *m, const char *name)
{
    for (int i = 0; i < m->type->nfields; i++)
        if (m->type->fields[i]->name && !strcmp(m->type->fields[i]->name, name))
            return i;
    return -1;
}

/* size_is(x) / size_is(*x): the parameter index, or -2 when the expression
 * is something the interpreter cannot evaluate */
static int count_param(Var *m, Expr *x, bool *deref)
{
    *deref = false;
    if (!x || x->kind == EX_EMPTY)
        return -1;
    if (x->kind == EX_UNARY && x->op == OP_DEREF && x->a && x->a->kind == EX_IDENT) {
        *deref = true;
        return param_index(m, x->a->text);
    }
    if (x->kind == EX_IDENT)
        return param_index(m, x->text);
    return -2;
}

static const char *sizeof_of(Glue *g, Type *t, unsigned q)
{
    Buf b = {0};
    buf_puts(&b, "sizeof(");
    print_decl(g->e, &b, t, q & ~Q_CONST, "", 0);
    buf_putc(&b, ')');
    const char *s = arena_strdup(g->e->cc->arena, b.data);
    buf_free(&b);
    return s;
}

static const char *new_type_desc(Glue *g, const char *kind, int flags, int count, int length, int iid_param,
                                 const char *size, const char *ref, const char *iid)
{
    const char *name = arena_printf(g->e->cc->arena, "amrt_t%d", g->ntypes++);
    buf_printf(&g->types, "static const AmrtType %s = { %s, %d, %d, %d, %d, %s, %s%s, %s%s };\n",
               name, kind, flags, count, length, iid_param, size, ref ? "&" : "", ref ? ref : "NULL",
               iid ? "&" : "", iid ? iid : "NULL");
    return name;
}

static void fail(Glue *g, Type *iface, Var *m, Var *p, const char *why)
{
    error_at(g->e->cc, p ? p->loc : m->loc, "the call-object glue cannot pass %s%s%s of %s::%s: %s",
             p ? "parameter '" : "the method", p ? (p->name ? p->name : "?") : "", p ? "'" : "",
             iface->name, m->name, why);
    g->failed = true;
}

static const char *iid_name(Type *t)
{
    return t && t->name ? t->name : "IUnknown";
}

/* The AmrtType describing a value of type t (one level), or NULL. */
static const char *describe(Glue *g, Type *iface, Var *m, Var *p, Type *t, unsigned q, int depth)
{
    Type *s = strip(t);
    if (!s || depth > 8) {
        fail(g, iface, m, p, "the type is nested too deeply");
        return NULL;
    }
    switch (s->kind) {
    case TY_BASIC:
        if (s->basic == B_HANDLE) {
            fail(g, iface, m, p, "handle_t binds an RPC call; there is none in-process");
            return NULL;
        }
        return new_type_desc(g, "AMRT_K_SCALAR", 0, -1, -1, -1, sizeof_of(g, t, q), NULL, NULL);
    case TY_ENUM:
        return new_type_desc(g, "AMRT_K_SCALAR", 0, -1, -1, -1, sizeof_of(g, t, q), NULL, NULL);
    case TY_STRUCT:
        if (!flat_struct(s, 0)) {
            fail(g, iface, m, p, "structures holding pointers are not supported by the glue yet");
            return NULL;
        }
        return new_type_desc(g, "AMRT_K_STRUCT", 0, -1, -1, -1, sizeof_of(g, t, q), NULL, NULL);
    case TY_POINTER: {
        Type *r = strip(s->ref);
        if (r && (r->kind == TY_INTERFACE || r->kind == TY_DISPINTERFACE)) {
            return new_type_desc(g, "AMRT_K_INTERFACE", 1, -1, -1, -1, "0", NULL,
                                 arena_printf(g->e->cc->arena, "IID_%s", iid_name(r)));
        }
        if (r && r->kind == TY_BASIC && (r->basic == B_CHAR || r->basic == B_WCHAR ||
                                         (r->basic == B_SHORT && r->sign < 0)) &&
            (alias_string(t) || (depth == 0 && has_string_attr(p)))) {
            int unique = depth > 0 || attr_has(p->attrs, A_UNIQUE) || attr_has(p->attrs, A_PTR);
            return new_type_desc(g, r->basic == B_CHAR ? "AMRT_K_STRING" : "AMRT_K_WSTRING", unique, -1, -1, -1, "0",
                                 NULL, NULL);
        }
        if (r && r->kind == TY_VOID) {
            fail(g, iface, m, p, "a void pointer without iid_is() has no size to copy");
            return NULL;
        }
        const char *ref = describe(g, iface, m, p, s->ref, s->ref_qual, depth + 1);
        if (!ref)
            return NULL;
        /* a top-level pointer is [ref] unless marked [unique]/[ptr];
         * embedded pointers follow pointer_default (unique) */
        int unique = depth > 0 || attr_has(p->attrs, A_UNIQUE) || attr_has(p->attrs, A_PTR);
        return new_type_desc(g, "AMRT_K_POINTER", unique, -1, -1, -1, "0", ref, NULL);
    }
    case TY_INTERFACE: case TY_DISPINTERFACE:
        fail(g, iface, m, p, "an interface must be passed by pointer");
        return NULL;
    default:
        fail(g, iface, m, p, "unions, arrays of this kind and function pointers are not supported by the glue yet");
        return NULL;
    }
}

/* The description of parameter i of method m. */
static const char *describe_param(Glue *g, Type *iface, Var *m, Var *p)
{
    Attr *size = attr_find(p->attrs, A_SIZE_IS);
    Attr *len = attr_find(p->attrs, A_LENGTH_IS);
    Attr *iid = attr_find(p->attrs, A_IID_IS);
    Type *t = strip(p->type);
    if (iid) {
        bool deref;
        int ip = iid->nargs == 1 ? count_param(m, iid->args[0], &deref) : -2;
        if (ip < 0 || deref) {
            fail(g, iface, m, p, "iid_is() must name a parameter");
            return NULL;
        }
        const char *itf = new_type_desc(g, "AMRT_K_INTERFACE", 1, -1, -1, ip, "0", NULL, "IID_IUnknown");
        Type *r = t && t->kind == TY_POINTER ? strip(t->ref) : NULL;
        if (r && r->kind == TY_POINTER)         /* [out, iid_is(riid)] void **ppv */
            return new_type_desc(g, "AMRT_K_POINTER", attr_has(p->attrs, A_UNIQUE), -1, -1, -1, "0", itf, NULL);
        if (r && (r->kind == TY_INTERFACE || r->kind == TY_VOID))     /* [in, iid_is(riid)] IUnknown *p */
            return itf;
        fail(g, iface, m, p, "iid_is() applies to an interface pointer");
        return NULL;
    }
    if (size || len) {
        if (!t || (t->kind != TY_POINTER && t->kind != TY_ARRAY)) {
            fail(g, iface, m, p, "size_is()/length_is() need a pointer or an array");
            return NULL;
        }
        bool d1 = false, d2 = false;
        int cp = size ? (size->nargs >= 1 ? count_param(m, size->args[0], &d1) : -2) : -1;
        int lp = len ? (len->nargs >= 1 ? count_param(m, len->args[0], &d2) : -2) : -1;
        if (cp == -2 || lp == -2 || (size && size->nargs > 1) || (len && len->nargs > 1)) {
            fail(g, iface, m, p, "only size_is(n)/size_is(*n) with a parameter n are supported by the glue yet");
            return NULL;
        }
        if (cp < 0 && lp >= 0) {
            cp = lp;
            d1 = d2;
        }
        const char *fixed = "0";
        if (cp < 0) {
            if (t->kind == TY_ARRAY && t->size && !t->conformant) {
                Buf b = {0};
                print_expr(g->e, &b, t->size, false);
                fixed = arena_strdup(g->e->cc->arena, b.data);
                buf_free(&b);
            } else {
                fail(g, iface, m, p, "the array has no size");
                return NULL;
            }
        }
        const char *elem = describe(g, iface, m, p, t->ref, t->ref_qual, 1);
        if (!elem)
            return NULL;
        int flags = (attr_has(p->attrs, A_UNIQUE) ? 1 : 0) | (d1 ? 2 : 0) | (d2 ? 4 : 0);
        return new_type_desc(g, "AMRT_K_ARRAY", flags, cp, lp, -1, fixed, elem, NULL);
    }
    return describe(g, iface, m, p, p->type, p->qual, 0);
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
        buf_printf(out, "/* Generated by amidl %s from %s \xe2\x80\x94 do not edit. */\n\n", AMIDL_VERSION, e.file_base);
        buf_printf(out, "/* The call-object glue of libamidlrt: link this file, %s's IID file and\n"
                        " * -lamidlrt; the interfaces register themselves (a constructor). */\n", e.file_base);
        buf_printf(out, "#include <string.h>\n#include \"amidlrt.h\"\n#include \"%s\"\n\n", header_name);
        buf_puts(out, "#if defined(__GNUC__)\n#pragma GCC diagnostic ignored \"-Wunused-parameter\"\n#endif\n\n");
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
    buf_free(&g.types);
    buf_free(&body);
    vec_free(&ifaces);
    return g.failed ? -1 : 0;
}
