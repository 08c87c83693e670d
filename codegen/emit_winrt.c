/*
 * emit_winrt.c - the WinRT part of FILE.h, as widl --winrt writes it:
 * declarations in namespaces get C names __x_ABI_C<ns parts>_C<Name> and a
 * C++ view in namespace ABI { ... } (without "#pragma winrt ns_prefix" in
 * their file: __x_C..., namespace Windows { ... }); enums, structs,
 * interfaces (IInspectable-derived), delegates (an interface I<Name>
 * deriving from IUnknown with one method, Invoke), runtimeclasses (their
 * RuntimeClass_ name strings), API contract guards, the WIDL_using_<ns>
 * short names, and parameterized-interface instances named by their
 * mangled name (__FIVector_1_HSTRING).
 */
#include "emit.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* ==================================================================== names */

static Arena *ctx_arena;
static Compiler *ctx_cc;       /* (the same compilation: its methods get their C names here) */

static bool in_vec(const PtrVec *v, const void *p)
{
    for (int i = 0; i < v->n; i++)
        if (v->v[i] == p)
            return true;
    return false;
}

/* whether t's file wrote "#pragma winrt ns_prefix" (names in ABI::) */
static bool prefixed(Emitter *e, const Type *t)
{
    for (int i = 0; i < e->wr_unprefixed.n; i++)
        if (t->loc.file && !strcmp(e->wr_unprefixed.v[i], t->loc.file))
            return false;
    return true;
}

static bool is_pragma_ns_prefix(const Stmt *s)
{
    if (s->kind != ST_PRAGMA || strncmp(s->text, "winrt", 5))
        return false;
    return strstr(s->text + 5, "ns_prefix") != NULL;
}

static bool has_namespace(Stmt **stmts, int n, bool *ns_prefix)
{
    bool any = false;
    for (int i = 0; i < n; i++) {
        if (is_pragma_ns_prefix(stmts[i]))
            *ns_prefix = true;
        if (stmts[i]->kind == ST_NAMESPACE)
            any = true;
    }
    return any;
}

static void collect_unprefixed(Emitter *e)
{
    for (int i = 0; i < e->cc->files.n; i++) {
        File *f = e->cc->files.v[i];
        bool pfx = false;
        if (!has_namespace(f->stmts, f->nstmts, &pfx) || pfx)
            continue;
        for (int k = 0; k < f->nstmts; k++) {
            const char *fn = f->stmts[k]->loc.file;
            if (fn && !in_vec(&e->wr_unprefixed, fn)) {
                bool dup = false;
                for (int j = 0; j < e->wr_unprefixed.n && !dup; j++)
                    dup = !strcmp(e->wr_unprefixed.v[j], fn);
                if (!dup)
                    vec_push(&e->wr_unprefixed, (void *)fn);
            }
        }
    }
}

static Type *default_iface(Type *rc)
{
    for (int i = 0; i < TX(rc)->nifaces; i++)
        if (TX(rc)->iface_attrs && attr_has(TX(rc)->iface_attrs[i], A_DEFAULT))
            return TX(rc)->ifaces[i];
    return NULL;
}

static bool is_instance(const Type *t)
{
    return TX(t)->generic != NULL;
}

/* the name a type has in its namespace: delegates are interfaces I<Name> */
static const char *short_name(Emitter *e, const Type *t)
{
    if (t->kind == TY_DELEGATE)
        return arena_printf(e->cc->arena, "I%s", t->name);
    return t->name;
}

static void mangle(Emitter *e, Buf *b, Type *t);
static void cxx_name(Emitter *e, Buf *b, Type *t, bool rc_self);

/* __x_ABI_CWindows_CFoundation_CIFoo */
static void c_name(Emitter *e, Buf *b, Type *t)
{
    if (is_instance(t)) {
        mangle(e, b, t);
        return;
    }
    buf_puts(b, prefixed(e, t) ? "__x_ABI_C" : "__x_");
    for (const char *p = TX(t)->ns->qname; *p; p++) {
        if (*p == '.')
            buf_puts(b, "_C");
        else
            buf_putc(b, *p);
    }
    buf_printf(b, "_C%s", short_name(e, t));
}

/* an instance's argument in its mangled name */
static void mangle_arg(Emitter *e, Buf *b, Type *a)
{
    if (a->kind == TY_POINTER && a->ref) {
        Type *p = a->ref;
        while (p->kind == TY_ALIAS && p->ref && TX(p)->ns)
            p = p->ref;
        if (is_instance(p)) {
            mangle(e, b, p);
            return;
        }
        if (TX(p)->ns) {
            for (const char *q = TX(p)->ns->qname; *q; q++) {
                if (*q == '.')
                    buf_puts(b, "__C");
                else
                    buf_putc(b, *q);
            }
            buf_printf(b, "__C%s", short_name(e, p));
            return;
        }
        buf_puts(b, p->name ? p->name : "void");
        return;
    }
    if (a->kind == TY_ALIAS && TX(a)->ns && a->ref)
        a = a->ref;
    if (a->kind == TY_BASIC || a->kind == TY_VOID) {
        Buf s = {0};
        bool saved = e->cxx;
        print_decl(e, &s, a, 0, "", 0);
        e->cxx = saved;
        buf_puts(b, s.data ? s.data : "");
        buf_free(&s);
        return;
    }
    buf_puts(b, a->name ? a->name : "");
}

/* __FIVector_1_HSTRING */
static void mangle(Emitter *e, Buf *b, Type *t)
{
    buf_printf(b, "__F%s_%d", short_name(e, TX(t)->generic), TX(t)->nparams);
    for (int i = 0; i < TX(t)->nparams; i++) {
        buf_putc(b, '_');
        mangle_arg(e, b, TX(t)->params[i]);
    }
}

static void cxx_arg(Emitter *e, Buf *b, Type *a)
{
    if (a->kind == TY_POINTER && a->ref) {
        cxx_arg(e, b, a->ref);
        buf_putc(b, '*');
        return;
    }
    if (a->kind == TY_ALIAS && TX(a)->ns && a->ref)
        a = a->ref;
    if (TX(a)->ns || is_instance(a)) {
        cxx_name(e, b, a, true);
        return;
    }
    Buf s = {0};
    bool saved = e->cxx;
    e->cxx = true;
    print_decl(e, &s, a, 0, "", 0);
    e->cxx = saved;
    buf_puts(b, s.data ? s.data : "");
    buf_free(&s);
}

/* ABI::Windows::Foundation::IFoo; rc_self: a runtimeclass by its own name
 * (else by its default interface's) */
static void cxx_name(Emitter *e, Buf *b, Type *t, bool rc_self)
{
    if (t->kind == TY_RUNTIMECLASS && !rc_self) {
        Type *d = default_iface(t);
        if (d)
            t = d;
    }
    Type *g = is_instance(t) ? TX(t)->generic : t;
    if (TX(g)->ns) {
        if (prefixed(e, g))
            buf_puts(b, "ABI::");
        for (const char *p = TX(g)->ns->qname; *p; p++) {
            if (*p == '.')
                buf_puts(b, "::");
            else
                buf_putc(b, *p);
        }
        buf_puts(b, "::");
    }
    buf_puts(b, short_name(e, g));
    if (is_instance(t)) {
        buf_putc(b, '<');
        for (int i = 0; i < TX(t)->nparams; i++) {
            if (i)
                buf_putc(b, ',');
            cxx_arg(e, b, TX(t)->params[i]);
        }
        buf_puts(b, " >");
    }
}

/* IKeyValuePair<HSTRING,HSTRING > (in its generic's namespace) */
static const char *relname_of(Emitter *e, Type *t)
{
    Buf b = {0};
    buf_printf(&b, "%s<", short_name(e, TX(t)->generic));
    for (int i = 0; i < TX(t)->nparams; i++) {
        if (i)
            buf_putc(&b, ',');
        cxx_arg(e, &b, TX(t)->params[i]);
    }
    buf_puts(&b, " >");
    const char *s = arena_strdup(e->cc->arena, b.data);
    buf_free(&b);
    return s;
}

/* IKeyValuePair_impl<HSTRING, HSTRING >: a runtimeclass argument is
 * AggregateType<the class*, its default interface* > */
static const char *implbase_of(Emitter *e, Type *t)
{
    Buf b = {0};
    buf_printf(&b, "%s_impl<", short_name(e, TX(t)->generic));
    for (int i = 0; i < TX(t)->nparams; i++) {
        Type *a = TX(t)->params[i];
        if (i)
            buf_puts(&b, ", ");
        Type *p = a->kind == TY_POINTER ? a->ref : NULL;
        if (p && p->kind == TY_RUNTIMECLASS && default_iface(p)) {
            buf_puts(&b, "ABI::Windows::Foundation::Internal::AggregateType<");
            cxx_arg(e, &b, a);
            buf_puts(&b, ", ");
            cxx_name(e, &b, default_iface(p), true);
            buf_puts(&b, "* >");
        } else {
            cxx_arg(e, &b, a);
        }
    }
    buf_puts(&b, " >");
    const char *s = arena_strdup(e->cc->arena, b.data);
    buf_free(&b);
    return s;
}

/* the WIDL_using_ short name of an instance: IKeyValuePair_HSTRING_HSTRING */
static void using_name(Emitter *e, Buf *b, Type *t)
{
    buf_puts(b, short_name(e, TX(t)->generic));
    for (int i = 0; i < TX(t)->nparams; i++) {
        Type *a = TX(t)->params[i];
        while (a->kind == TY_POINTER && a->ref)
            a = a->ref;
        if (a->kind == TY_ALIAS && TX(a)->ns && a->ref)
            a = a->ref;
        buf_putc(b, '_');
        if (is_instance(a))
            using_name(e, b, a);
        else if (TX(a)->ns)
            buf_puts(b, short_name(e, a));
        else
            mangle_arg(e, b, a);
    }
}

static const char *cname_of(Emitter *e, Type *t)
{
    Buf b = {0};
    c_name(e, &b, t);
    const char *s = arena_strdup(e->cc->arena, b.data ? b.data : "");
    buf_free(&b);
    return s;
}

static const char *cxxname_of(Emitter *e, Type *t, bool rc_self)
{
    Buf b = {0};
    cxx_name(e, &b, t, rc_self);
    const char *s = arena_strdup(e->cc->arena, b.data ? b.data : "");
    buf_free(&b);
    return s;
}

static bool has_param_args(const Type *t)
{
    for (int i = 0; TX(t)->generic && i < TX(t)->nparams; i++) {
        const Type *a = TX(t)->params[i];
        while (a && (a->kind == TY_POINTER || a->kind == TY_ARRAY))
            a = a->ref;
        if (a && (a->kind == TY_PARAM || (TX(a)->generic && has_param_args(a))))
            return true;
    }
    return false;
}

/* in a generic's _impl template: IFoo<T_logical, U_logical> */
static void impl_name(Emitter *e, Buf *b, Type *t)
{
    if (t->kind == TY_PARAM) {
        buf_printf(b, "%s_logical", t->name);
        return;
    }
    if (t->kind == TY_POINTER) {
        impl_name(e, b, t->ref);
        buf_putc(b, '*');
        return;
    }
    if (!TX(t)->generic) {
        cxx_arg(e, b, t);
        return;
    }
    buf_printf(b, "%s<", short_name(e, TX(t)->generic));
    for (int i = 0; i < TX(t)->nparams; i++) {
        if (i)
            buf_puts(b, ", ");
        impl_name(e, b, TX(t)->params[i]);
    }
    buf_putc(b, '>');
}

/* print_decl's name for a WinRT type (NULL: not one) */
const char *winrt_type_name(Emitter *e, Type *t)
{
    if (e->wr_impl && t->kind == TY_PARAM)
        return arena_printf(e->cc->arena, "%s_abi", t->name);
    if (e->wr_impl && is_instance(t) && has_param_args(t)) {
        Buf b = {0};
        impl_name(e, &b, t);
        const char *s = arena_strdup(e->cc->arena, b.data);
        buf_free(&b);
        return s;
    }
    if (!TX(t)->ns && !is_instance(t))
        return NULL;
    if (t->kind == TY_ALIAS || t->kind == TY_NAMED || t->kind == TY_PARAM)
        return NULL;
    if (t->kind == TY_RUNTIMECLASS) {
        Type *d = default_iface(t);
        if (d)
            t = d;
    }
    return e->cxx ? cxxname_of(e, t, false) : cname_of(e, t);
}

/* ==================================================================== contracts */

static unsigned long version_value(const Expr *x)
{
    if (!x)
        return 0;
    unsigned long major = (unsigned long)x->val, minor = 0;
    if (x->text) {
        char *end;
        major = strtoul(x->text, &end, 0);
        if (*end == '.')
            minor = strtoul(end + 1, NULL, 0);
    }
    return (major << 16) | minor;
}

/* the contract of [contract(C, V)]: its type */
static Type *contract_type(Emitter *e, const Expr *x)
{
    if (x->type)
        return x->type;
    if (x->text) {
        /* a dotted name: find it namespace by namespace */
        Scope *s = e->cc->global;
        const char *p = x->text;
        for (;;) {
            const char *dot = strchr(p, '.');
            if (!dot)
                return scope_find_type(s, p);
            char *part = arena_strndup(e->cc->arena, p, (size_t)(dot - p));
            s = scope_find_ns(s, part);
            if (!s)
                return NULL;
            p = dot + 1;
        }
    }
    return NULL;
}

static const char *contract_macro(Emitter *e, Type *c)
{
    Buf m = {0};
    for (const char *p = type_qname(c); *p; p++)
        buf_putc(&m, *p == '.' ? '_' : toupper((unsigned char)*p));
    buf_puts(&m, "_VERSION");
    const char *s = arena_strdup(e->cc->arena, m.data);
    buf_free(&m);
    return s;
}

/* "#if !defined(X_VERSION) #define X_VERSION 0x..." the first time a
 * contract is met in the file */
void winrt_contract_define(Emitter *e, Buf *b, Type *c)
{
    if (in_vec(&e->wr_contracts, c))
        return;
    vec_push(&e->wr_contracts, c);
    Attr *v = attr_find(c->attrs, A_CONTRACTVERSION);
    if (!v || v->nargs != 1)
        return;
    const char *m = contract_macro(e, c);
    buf_printf(b, "#if !defined(%s)\n#define %s 0x%lx\n#endif // defined(%s)\n\n", m, m, version_value(v->args[0]), m);
}

/* "#if X_VERSION >= 0x..." for a [contract] declaration; the closing
 * line in *close (NULL: none) */
static void contract_open(Emitter *e, Buf *b, const Attr *attrs, const char **close)
{
    *close = NULL;
    Attr *a = attr_find(attrs, A_CONTRACT);
    if (!a || a->nargs != 2)
        return;
    Type *c = contract_type(e, a->args[0]);
    if (!c)
        return;
    winrt_contract_define(e, b, c);
    const char *m = contract_macro(e, c);
    unsigned long v = version_value(a->args[1]);
    buf_printf(b, "#if %s >= 0x%lx\n", m, v);
    *close = arena_printf(e->cc->arena, "#endif /* %s >= 0x%lx */\n", m, v);
}

/* ==================================================================== namespaces */

static int ns_open(Emitter *e, Buf *b, Type *t)
{
    int d = 0;
    if (prefixed(e, t))
        buf_printf(b, "%*snamespace ABI {\n", 4 * d++, "");
    const char *p = TX(t)->ns->qname;
    while (*p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        buf_printf(b, "%*snamespace %.*s {\n", 4 * d++, "", (int)n, p);
        p += n;
        if (*p)
            p++;
    }
    return d;
}

static void ns_close(Buf *b, int d)
{
    while (d-- > 0)
        buf_printf(b, "%*s}\n", 4 * d, "");
}

static const char *using_macro(Emitter *e, Type *t)
{
    char *s = arena_printf(e->cc->arena, "WIDL_using_%s", TX(t)->ns->qname);
    for (char *p = s; *p; p++)
        if (*p == '.')
            *p = '_';
    return s;
}

/* ==================================================================== forward declarations */

/* ns_decl: the C++ declaration in its namespace (always, but for an
 * instance) */
static void iface_fwd_ns(Emitter *e, Buf *b, Type *t, bool ns_decl)
{
    const char *cn = cname_of(e, t);
    buf_printf(b, "#ifndef __%s_FWD_DEFINED__\n#define __%s_FWD_DEFINED__\ntypedef interface %s %s;\n#ifdef __cplusplus\n",
               cn, cn, cn, cn);
    buf_printf(b, "#define %s %s\n", cn, cxxname_of(e, t, false));
    if (!is_instance(t)) {
        int d = ns_open(e, b, t);
        buf_printf(b, "%*sinterface %s;\n", 4 * d, "", short_name(e, t));
        ns_close(b, d);
    } else if (ns_decl) {
        int d = ns_open(e, b, TX(t)->generic);
        buf_printf(b, "%*sinterface %s;\n", 4 * d, "", relname_of(e, t));
        ns_close(b, d);
    }
    buf_puts(b, "#endif /* __cplusplus */\n#endif\n\n");
}

static void iface_fwd(Emitter *e, Buf *b, Type *t)
{
    iface_fwd_ns(e, b, t, false);
}

/* whether the main file's declare blocks name t again after entry k of s */
static bool declared_again(Emitter *e, Stmt *s, int k, Type *t)
{
    int i = 0;
    while (i < e->wr_declares.n && e->wr_declares.v[i] != s)
        i++;
    for (; i < e->wr_declares.n; i++, k = -1) {
        Stmt *d = e->wr_declares.v[i];
        for (int j = k + 1; j < d->ndeclared; j++)
            if (d->declared[j] == t)
                return true;
    }
    return false;
}

static void collect_declares(Emitter *e, Stmt **stmts, int n, int depth)
{
    for (int i = 0; i < n && depth < MAX_NEST_DEPTH; i++) {
        if (stmts[i]->kind == ST_NAMESPACE)
            collect_declares(e, stmts[i]->stmts, stmts[i]->nstmts, depth + 1);
        else if (stmts[i]->kind == ST_DECLARE)
            vec_push(&e->wr_declares, stmts[i]);
    }
}

static void class_fwd(Emitter *e, Buf *b, Type *t)
{
    const char *cn = cname_of(e, t);
    buf_printf(b, "#ifndef __%s_FWD_DEFINED__\n#define __%s_FWD_DEFINED__\n#ifdef __cplusplus\n", cn, cn);
    int d = ns_open(e, b, t);
    buf_printf(b, "%*sclass %s;\n", 4 * d, "", t->name);
    ns_close(b, d);
    buf_printf(b, "#else\ntypedef struct %s %s;\n#endif /* defined __cplusplus */\n#endif /* defined __%s_FWD_DEFINED__ */\n\n",
               cn, cn, cn);
}

/* a generic definition (interface<T> or delegate<T>): written only through its instances */
static bool is_generic(const Type *t)
{
    if (t->kind == TY_PARAMETERIZED)
        return true;
    for (int i = 0; i < TX(t)->nmethods; i++) {
        Type *fn = TX(t)->methods[i]->type;
        for (int k = 0; fn && k < fn->nfields; k++) {
            Type *p = fn->fields[k]->type;
            while (p && (p->kind == TY_POINTER || p->kind == TY_ARRAY))
                p = p->ref;
            if (p && (p->kind == TY_PARAM || (TX(p)->generic && TX(p)->nparams && TX(p)->params[0]->kind == TY_PARAM)))
                return true;
        }
    }
    return false;
}

/* the type parameters of a generic, in order (a generic delegate's are
 * the TY_PARAMs its Invoke names, in the order met) */
static void find_params(Type *t, PtrVec *out, int depth)
{
    if (!t || depth > 64)
        return;
    if (t->kind == TY_PARAM) {
        if (!in_vec(out, t))
            vec_push(out, t);
        return;
    }
    if (t->kind == TY_POINTER || t->kind == TY_ARRAY)
        find_params(t->ref, out, depth + 1);
    else if (TX(t)->generic)
        for (int i = 0; i < TX(t)->nparams; i++)
            find_params(TX(t)->params[i], out, depth + 1);
}

static void generic_params(Type *t, PtrVec *out)
{
    if (TX(t)->params && TX(t)->nparams) {
        for (int i = 0; i < TX(t)->nparams; i++)
            vec_push(out, TX(t)->params[i]);
        return;
    }
    for (int i = 0; i < TX(t)->nmethods; i++) {
        Type *fn = TX(t)->methods[i]->type;
        for (int k = 0; fn && k < fn->nfields; k++)
            find_params(fn->fields[k]->type, out, 0);
    }
}

static void template_list(Buf *b, PtrVec *ps, const char *sep, const char *kw)
{
    for (int i = 0; i < ps->n; i++)
        buf_printf(b, "%s%s%s", i ? sep : "", kw, ((Type *)ps->v[i])->name);
}

/* template <class T> struct IFoo_impl; template <class T> struct IFoo : IFoo_impl<T> {}; */
static void generic_fwd(Emitter *e, Buf *b, Type *t)
{
    PtrVec ps = {0};
    generic_params(t, &ps);
    const char *sn = short_name(e, t);
    buf_puts(b, "#if defined(__cplusplus) && !defined(CINTERFACE)\n");
    int d = ns_open(e, b, t);
    buf_printf(b, "%*stemplate <", 4 * d, "");
    template_list(b, &ps, ", ", "class ");
    buf_printf(b, ">\n%*sstruct %s_impl;\n\n%*stemplate <", 4 * d, "", sn, 4 * d, "");
    template_list(b, &ps, ", ", "class ");
    buf_printf(b, ">\n%*sstruct %s : %s_impl<", 4 * d, "", sn, sn);
    template_list(b, &ps, ", ", "");
    buf_puts(b, "> {};\n");
    ns_close(b, d);
    buf_puts(b, "#endif\n\n");
    vec_free(&ps);
}

static void fwd_types(Emitter *e, Buf *b, Stmt **stmts, int n, bool in_ns)
{
    for (int i = 0; i < n; i++) {
        Stmt *s = stmts[i];
        switch (s->kind) {
        case ST_NAMESPACE:
            fwd_types(e, b, s->stmts, s->nstmts, true);
            break;
        case ST_INTERFACE: case ST_DELEGATE:
            if (!in_ns)
                break;
            if (is_generic(s->type))
                generic_fwd(e, b, s->type);
            else
                iface_fwd(e, b, s->type);
            break;
        case ST_RUNTIMECLASS:
            class_fwd(e, b, s->type);
            break;
        default:
            break;
        }
    }
}

static void fwd_instances(Emitter *e, Buf *b, Stmt **stmts, int n, bool body)
{
    for (int i = 0; i < n; i++) {
        Stmt *s = stmts[i];
        if (s->kind == ST_NAMESPACE && !body)
            fwd_instances(e, b, s->stmts, s->nstmts, body);
        else if (s->kind == ST_DECLARE)
            for (int k = 0; k < s->ndeclared; k++) {
                Type *t = s->declared[k];
                if (body && TX(t)->generic && TX(t)->generic->kind == TY_DELEGATE)
                    continue;
                /* widl: in the body, an instance the file declares again
                 * later is declared in its C++ namespace too */
                iface_fwd_ns(e, b, t, body && declared_again(e, s, k, t));
            }
    }
}

static void print_instances(Emitter *e, Buf *b, Stmt **stmts, int n)
{
    for (int i = 0; i < n; i++) {
        Stmt *s = stmts[i];
        if (s->kind == ST_NAMESPACE)
            print_instances(e, b, s->stmts, s->nstmts);
        else if (s->kind == ST_DECLARE)
            for (int k = 0; k < s->ndeclared; k++)
                if (TX(s->declared[k])->winrt_done)
                    winrt_print_interface(e, b, s->declared[k], NULL);
    }
}

/* the instances the file's declare { } blocks name, after its statements */
void winrt_print_instances(Emitter *e, Buf *b, Stmt **stmts, int n)
{
    print_instances(e, b, stmts, n);
}

/* the WinRT part of the header's "Forward declarations" (after the COM
 * ones of the file's other interfaces) */
void winrt_print_fwd(Emitter *e, Buf *b, Stmt **stmts, int n)
{
    fwd_types(e, b, stmts, n, false);
    fwd_instances(e, b, stmts, n, false);
}

/* FILE_i.c: the name of the IID that the header's DEFINE_GUID declares for
 * an interface of a namespace or an instance (IID___x_ABI_C..._CIFoo,
 * IID___FIVector_1_HSTRING); NULL for what widl's _i.c leaves out: a
 * delegate that is not an instance, a generic definition, no uuid */
const char *winrt_iid_name(Emitter *e, Type *t)
{
    if (!type_uuid(t) || is_generic(t) || (t->kind == TY_DELEGATE && !is_instance(t)))
        return NULL;
    return arena_printf(e->cc->arena, "IID_%s", cname_of(e, t));
}

/* ==================================================================== interfaces */

static void wr_params(Emitter *e, Buf *b, Var *m, const char *this_type, int spaces)
{
    Type *fn = m->type;
    bool first = true;
    if (this_type) {
        buf_printf(b, "\n%*s%s *This", spaces, "", this_type);
        first = false;
    }
    for (int i = 0; i < fn->nfields; i++) {
        Var *p = fn->fields[i];
        if (p->type && p->type->kind == TY_VOID && fn->nfields == 1 && !p->name)
            break;
        buf_printf(b, "%s\n%*s", first ? "" : ",", spaces, "");
        print_decl(e, b, p->type, p->qual, p->name ? p->name : "", 0);
        first = false;
    }
    if (first)
        buf_printf(b, "\n%*s", spaces, "");
    buf_putc(b, ')');
}

/* [eventadd] X is add_X, [eventremove] X remove_X (as [propget] X is get_X) */
static const char *vname(Var *m)
{
    const char *n = VX(m)->c_name ? VX(m)->c_name : m->name;
    if (attr_has(m->attrs, A_EVENTADD) && !strncmp(n, m->name, strlen(m->name)) && strncmp(n, "add_", 4))
        VXW(ctx_cc, m)->c_name = n = arena_printf(ctx_arena, "add_%s", n);
    else if (attr_has(m->attrs, A_EVENTREMOVE) && !strncmp(n, m->name, strlen(m->name)) && strncmp(n, "remove_", 7))
        VXW(ctx_cc, m)->c_name = n = arena_printf(ctx_arena, "remove_%s", n);
    return n;
}

static int vtable_count(Type *x)
{
    int n = 0;
    for (int i = 0; i < TX(x)->nmethods; i++)
        n += !attr_has(TX(x)->methods[i]->attrs, A_CALL_AS);
    return n;
}

static bool in_vtable(Var *m)
{
    return !attr_has(m->attrs, A_CALL_AS);
}

static int wr_chain(Emitter *e, Type *t, Type ***out)
{
    Type *unk = NULL;
    if (!TX(t)->base && (t->kind == TY_DELEGATE || (is_instance(t) && TX(t)->generic->kind == TY_DELEGATE)))
        unk = scope_find_type(e->cc->global, "IUnknown");
    int n = unk ? 1 : 0;
    for (Type *x = t; x; x = TX(x)->base)
        n++;
    Type **c = arena_alloc(e->cc->arena, sizeof *c * (size_t)n);
    int i = n;
    for (Type *x = t; x; x = TX(x)->base)
        c[--i] = x;
    if (unk)
        c[0] = unk;
    *out = c;
    return n;
}

static const char *chain_label(Emitter *e, Type *x)
{
    if (is_instance(x))
        return relname_of(e, x);
    return short_name(e, x);
}

static void print_arg_names(Buf *b, Type *fn)
{
    for (int k = 0; k < fn->nfields; k++)
        if (fn->fields[k]->name)
            buf_printf(b, ",%s", fn->fields[k]->name);
}

void winrt_print_interface(Emitter *e, Buf *b, Type *t, const Attr *attrs)
{
    if (printed_iface(e, t))
        return;
    vec_push(&e->printed, t);
    const char *cn = cname_of(e, t);
    const char *sn = is_instance(t) ? relname_of(e, t) : short_name(e, t);
    buf_printf(b, "/*****************************************************************************\n * %s interface\n */\n", sn);
    const char *close;
    contract_open(e, b, attrs, &close);
    buf_printf(b, "#ifndef __%s_INTERFACE_DEFINED__\n#define __%s_INTERFACE_DEFINED__\n\n", cn, cn);
    Uuid *u = type_uuid(t);
    char guid[37] = "";
    if (u) {
        format_uuid(u, guid);
        buf_printf(b, "DEFINE_GUID(IID_%s, ", cn);
        guid_args(b, u);
        buf_puts(b, ");\n");
    }
    Type **chain;
    int n = wr_chain(e, t, &chain);
    Type *base = n > 1 ? chain[n - 2] : NULL;
    /* C++ */
    buf_puts(b, "#if defined(__cplusplus) && !defined(CINTERFACE)\n} /* extern \"C\" */\n");
    int d = ns_open(e, b, is_instance(t) ? TX(t)->generic : t);
    int in = 4 * d;
    if (is_instance(t))
        buf_printf(b, "%*stemplate<>\n", in, "");
    if (u)
        buf_printf(b, "%*sMIDL_INTERFACE(\"%s\")\n", in, "", guid);
    buf_printf(b, "%*s%s", in, "", sn);
    if (is_instance(t)) {
        buf_printf(b, " : %s\n%*s{\n%*s};\n", implbase_of(e, t), in, "", in, "");
    } else if (base) {
        bool saved = e->cxx;
        e->cxx = true;
        const char *bn = TX(base)->ns || is_instance(base) ? cxxname_of(e, base, false) : base->name;
        e->cxx = saved;
        buf_printf(b, " : public %s", bn);
    }
    if (!is_instance(t))
        buf_printf(b, "\n%*s{\n", in, "");
    e->cxx = true;
    for (int i = 0; i < TX(t)->nmethods && !is_instance(t); i++) {
        Var *m = TX(t)->methods[i];
        if (!in_vtable(m))
            continue;
        buf_printf(b, "%*svirtual ", in + 4, "");
        print_decl(e, b, m->type->ref, m->type->ref_qual, "", 0);
        buf_printf(b, " STDMETHODCALLTYPE %s(", vname(m));
        wr_params(e, b, m, NULL, in + 8);
        buf_puts(b, " = 0;\n\n");
    }
    e->cxx = false;
    if (!is_instance(t))
        buf_printf(b, "%*s};\n", in, "");
    ns_close(b, d);
    buf_puts(b, "extern \"C\" {\n");
    if (u) {
        buf_printf(b, "#ifdef __CRT_UUID_DECL\n__CRT_UUID_DECL(%s, ", cn);
        guid_args(b, u);
        buf_puts(b, ")\n#endif\n");
    }
    /* C vtable */
    buf_printf(b, "#else\ntypedef struct %sVtbl {\n    BEGIN_INTERFACE\n", cn);
    for (int c = 0; c < n; c++) {
        Type *x = chain[c];
        if (vtable_count(x))
            buf_printf(b, "\n    /*** %s methods ***/\n", chain_label(e, x));
        bool first = true;
        for (int i = 0; i < TX(x)->nmethods; i++) {
            Var *m = TX(x)->methods[i];
            if (!in_vtable(m))
                continue;
            if (!first)
                buf_putc(b, '\n');
            first = false;
            buf_puts(b, "    ");
            print_decl(e, b, m->type->ref, m->type->ref_qual, "", 0);
            buf_printf(b, " (STDMETHODCALLTYPE *%s)(", vname(m));
            Type *fn = m->type;
            buf_printf(b, "\n        %s *This", cn);
            for (int k = 0; k < fn->nfields; k++) {
                Var *p = fn->fields[k];
                if (p->type && p->type->kind == TY_VOID && fn->nfields == 1 && !p->name)
                    break;
                buf_puts(b, ",\n        ");
                print_decl(e, b, p->type, p->qual, p->name ? p->name : "", 0);
            }
            buf_puts(b, ");\n");
        }
    }
    buf_printf(b, "\n    END_INTERFACE\n} %sVtbl;\n\n", cn);
    buf_printf(b, "interface %s {\n    CONST_VTBL %sVtbl* lpVtbl;\n};\n\n", cn, cn);
    /* call macros and inline wrappers */
    buf_puts(b, "#ifdef COBJMACROS\n#ifndef WIDL_C_INLINE_WRAPPERS\n");
    for (int pass = 0; pass < 2; pass++) {
        if (pass)
            buf_puts(b, "#else\n");
        for (int c = 0; c < n; c++) {
            Type *x = chain[c];
            if (vtable_count(x))
                buf_printf(b, "/*** %s methods ***/\n", chain_label(e, x));
            for (int i = 0; i < TX(x)->nmethods; i++) {
                Var *m = TX(x)->methods[i];
                if (!in_vtable(m))
                    continue;
                Type *fn = m->type;
                if (!pass) {
                    buf_printf(b, "#define %s_%s(This", cn, vname(m));
                    print_arg_names(b, fn);
                    buf_printf(b, ") (This)->lpVtbl->%s(This", vname(m));
                    print_arg_names(b, fn);
                    buf_puts(b, ")\n");
                    continue;
                }
                buf_puts(b, "static inline ");
                print_decl(e, b, fn->ref, fn->ref_qual, "", 0);
                buf_printf(b, " %s_%s(%s* This", cn, vname(m), cn);
                for (int k = 0; k < fn->nfields; k++) {
                    Var *p = fn->fields[k];
                    if (!p->name)
                        continue;
                    buf_putc(b, ',');
                    print_decl(e, b, p->type, p->qual, p->name, 0);
                }
                buf_printf(b, ") {\n    %sThis->lpVtbl->%s(This", fn->ref->kind == TY_VOID ? "" : "return ", vname(m));
                print_arg_names(b, fn);
                buf_puts(b, ");\n}\n");
            }
        }
    }
    buf_puts(b, "#endif\n");
    {
        const char *um = using_macro(e, is_instance(t) ? TX(t)->generic : t);
        if (is_instance(t)) {
            Buf un = {0};
            using_name(e, &un, t);
            sn = arena_strdup(e->cc->arena, un.data);
            buf_free(&un);
        }
        buf_printf(b, "#ifdef %s\n", um);
        buf_printf(b, "#define IID_%s IID_%s\n#define %sVtbl %sVtbl\n#define %s %s\n", sn, cn, sn, cn, sn, cn);
        for (int c = 0; c < n; c++)
            for (int i = 0; i < TX(chain[c])->nmethods; i++)
                if (in_vtable(TX(chain[c])->methods[i]))
                    buf_printf(b, "#define %s_%s %s_%s\n", sn, vname(TX(chain[c])->methods[i]), cn, vname(TX(chain[c])->methods[i]));
        buf_printf(b, "#endif /* %s */\n", um);
    }
    buf_puts(b, "#endif\n\n#endif\n\n");
    buf_printf(b, "#endif  /* __%s_INTERFACE_DEFINED__ */\n", cn);
    if (close)
        buf_puts(b, close);
    buf_putc(b, '\n');
}

/* ==================================================================== enums and structs */

static Stmt *type_def_stmt(Emitter *e, Type *t)
{
    for (int i = 0; i < e->wr_defs.n; i++) {
        Stmt *s = e->wr_defs.v[i];
        if (s->type == t)
            return s;
    }
    return NULL;
}

static void collect_defs(Emitter *e, Stmt **stmts, int n)
{
    for (int i = 0; i < n; i++) {
        Stmt *s = stmts[i];
        if (s->kind == ST_NAMESPACE)
            collect_defs(e, s->stmts, s->nstmts);
        else if (s->kind == ST_TYPE && s->defines_type && s->type && TX(s->type)->ns)
            vec_push(&e->wr_defs, s);
    }
}

static void print_enum_values(Emitter *e, Buf *b, Type *t, int in)
{
    for (int i = 0; i < t->nfields; i++) {
        Var *v = t->fields[i];
        const char *close;
        contract_open(e, b, v->attrs, &close);
        buf_printf(b, "%*s%s_%s = ", in, "", t->name, v->name);
        if (VX(v)->init && VX(v)->init->kind == EX_NUM && VX(v)->init->is_hex)
            buf_printf(b, "0x%llx", (unsigned long long)v->value);
        else if (VX(v)->init)
            print_expr(e, b, VX(v)->init, true);
        else
            buf_printf(b, "%lld", v->value);
        buf_puts(b, i + 1 < t->nfields ? ",\n" : "\n");
        if (close)
            buf_puts(b, close);
    }
}

static void print_fields(Emitter *e, Buf *b, Type *t, int in)
{
    for (int i = 0; i < t->nfields; i++) {
        Var *f = t->fields[i];
        buf_printf(b, "%*s", in, "");
        print_decl(e, b, f->type, f->qual, f->name ? f->name : "", 0);
        buf_puts(b, ";\n");
    }
}

static void print_enum_or_struct(Emitter *e, Buf *b, Type *t, const Attr *attrs)
{
    if (printed_iface(e, t))
        return;
    vec_push(&e->printed, t);
    bool en = t->kind == TY_ENUM;
    const char *kw = en ? "enum" : t->kind == TY_UNION ? "union" : "struct";
    const char *cn = cname_of(e, t);
    const char *close;
    contract_open(e, b, attrs, &close);
    if (en)
        buf_printf(b, "#ifndef __%s_ENUM_DEFINED__\n#define __%s_ENUM_DEFINED__\n", cn, cn);
    buf_puts(b, "#ifdef __cplusplus\n} /* extern \"C\" */\n");
    int d = ns_open(e, b, t);
    buf_printf(b, "%*s%s %s {\n", 4 * d, "", kw, t->name);
    e->cxx = true;
    if (en)
        print_enum_values(e, b, t, 4 * d + 4);
    else
        print_fields(e, b, t, 4 * d + 4);
    e->cxx = false;
    buf_printf(b, "%*s};\n", 4 * d, "");
    ns_close(b, d);
    buf_printf(b, "extern \"C\" {\n#else\n%s %s {\n", kw, cn);
    if (en)
        print_enum_values(e, b, t, 4);
    else
        print_fields(e, b, t, 4);
    const char *um = using_macro(e, t);
    buf_printf(b, "};\n#ifdef %s\n#define %s %s\n#endif /* %s */\n#endif\n\n", um, t->name, cn, um);
    if (en)
        buf_printf(b, "#endif /* __%s_ENUM_DEFINED__ */\n", cn);
    if (close)
        buf_puts(b, close);
}

static void print_typedef(Emitter *e, Buf *b, Stmt *s)
{
    Type *t = s->type;
    if (!t || !TX(t)->ns || !t->name)
        return;
    const char *cn = cname_of(e, t);
    if (t->kind == TY_ENUM) {
        if (t->defined) {
            Stmt *def = type_def_stmt(e, t);
            print_enum_or_struct(e, b, t, def ? def->attrs : NULL);
        }
        buf_printf(b, "#ifndef __cplusplus\ntypedef enum %s %s;\n#endif /* __cplusplus */\n\n", cn, cn);
    } else if (t->kind == TY_STRUCT || t->kind == TY_UNION) {
        const char *kw = t->kind == TY_STRUCT ? "struct" : "union";
        buf_printf(b, "#ifndef __cplusplus\ntypedef %s %s %s;\n#else /* __cplusplus */\n", kw, cn, cn);
        int d = ns_open(e, b, t);
        buf_printf(b, "%*stypedef %s %s %s;\n", 4 * d, "", kw, t->name, t->name);
        ns_close(b, d);
        buf_puts(b, "#endif /* __cplusplus */\n\n");
    }
}

/* ==================================================================== runtimeclasses */

static void wchar_list(Buf *b, const char *s)
{
    buf_putc(b, '{');
    for (const char *p = s; *p; p++)
        buf_printf(b, "'%c',", *p);
    buf_puts(b, "0}");
}

static void print_runtimeclass(Emitter *e, Buf *b, Type *t)
{
    const char *q = type_qname(t);
    char *id = arena_strdup(e->cc->arena, q);
    for (char *p = id; *p; p++)
        if (*p == '.')
            *p = '_';
    buf_printf(b, "/*\n * Class %s\n */\n", q);
    const char *close;
    contract_open(e, b, t->attrs, &close);
    buf_printf(b, "#ifndef RUNTIMECLASS_%s_DEFINED\n#define RUNTIMECLASS_%s_DEFINED\n", id, id);
    buf_printf(b, "#if !defined(_MSC_VER) && !defined(__MINGW32__)\nstatic const WCHAR RuntimeClass_%s[] = ", id);
    wchar_list(b, q);
    buf_printf(b, ";\n#elif defined(__GNUC__) && !defined(__cplusplus)\nconst DECLSPEC_SELECTANY WCHAR RuntimeClass_%s[] = L\"%s\";\n", id, q);
    buf_printf(b, "#else\nextern const DECLSPEC_SELECTANY WCHAR RuntimeClass_%s[] = ", id);
    wchar_list(b, q);
    buf_printf(b, ";\n#endif\n#endif /* RUNTIMECLASS_%s_DEFINED */\n", id);
    if (close)
        buf_puts(b, close);
    buf_putc(b, '\n');
}

/* ==================================================================== statements */

static void print_function(Emitter *e, Buf *b, Var *v)
{
    Type *fn = v->type;
    print_decl(e, b, fn->ref, fn->ref_qual, "", 0);
    buf_printf(b, " %s(", v->name);
    for (int i = 0; i < fn->nfields; i++) {
        if (i)
            buf_putc(b, ',');
        print_decl(e, b, fn->fields[i]->type, fn->fields[i]->qual, fn->fields[i]->name ? fn->fields[i]->name : "", 0);
    }
    buf_puts(b, ");\n\n");
}

/* a generic's C++ template: struct IFoo_impl : IInspectable { ... } */
static void print_generic(Emitter *e, Buf *b, Type *t)
{
    PtrVec ps = {0};
    generic_params(t, &ps);
    const char *sn = short_name(e, t);
    buf_puts(b, "#if defined(__cplusplus) && !defined(CINTERFACE)\n} /* extern \"C\" */\n");
    int d = ns_open(e, b, t);
    int in = 4 * d;
    buf_printf(b, "%*stemplate <", in, "");
    template_list(b, &ps, ", ", "class ");
    buf_printf(b, ">\n%*sstruct %s_impl : %s\n%*s{\n%*sprivate:\n", in, "", sn,
               t->kind == TY_DELEGATE || !TX(t)->base ? "IUnknown" : TX(t)->base->name, in, "", in, "");
    for (int i = 0; i < ps.n; i++) {
        const char *p = ((Type *)ps.v[i])->name;
        buf_printf(b, "%*stypedef typename Windows::Foundation::Internal::GetAbiType<%s>::type     %s_abi;\n", in + 4, "", p, p);
        buf_printf(b, "%*stypedef typename Windows::Foundation::Internal::GetLogicalType<%s>::type %s_logical;\n", in + 4, "", p, p);
    }
    buf_printf(b, "%*spublic:\n", in, "");
    for (int i = 0; i < ps.n; i++) {
        const char *p = ((Type *)ps.v[i])->name;
        buf_printf(b, "%*stypedef %s %s_complex;\n", in + 4, "", p, p);
    }
    e->cxx = e->wr_impl = true;
    for (int i = 0; i < TX(t)->nmethods; i++) {
        Var *m = TX(t)->methods[i];
        Type *fn = m->type;
        buf_printf(b, "%*svirtual ", in + 4, "");
        print_decl(e, b, fn->ref, fn->ref_qual, "", 0);
        buf_printf(b, " STDMETHODCALLTYPE %s(", vname(m));
        for (int k = 0; k < fn->nfields; k++) {
            Var *p = fn->fields[k];
            if (p->type && p->type->kind == TY_VOID && fn->nfields == 1 && !p->name)
                break;
            if (k)
                buf_putc(b, ',');
            print_decl(e, b, p->type, p->qual, p->name ? p->name : "", 0);
        }
        buf_puts(b, ") = 0;\n");
    }
    e->cxx = e->wr_impl = false;
    buf_printf(b, "%*s};\n", in, "");
    ns_close(b, d);
    buf_puts(b, "extern \"C\" {\n#endif\n\n");
    vec_free(&ps);
}

/* the statements of a namespace */
void winrt_print_ns(Emitter *e, Buf *b, Stmt **stmts, int n)
{
    for (int i = 0; i < n; i++) {
        Stmt *s = stmts[i];
        switch (s->kind) {
        case ST_NAMESPACE:
            winrt_print_ns(e, b, s->stmts, s->nstmts);
            break;
        case ST_TYPEDEF:
            print_typedef(e, b, s);
            break;
        case ST_TYPE:
            if (s->defines_type && TX(s->type)->ns)
                print_enum_or_struct(e, b, s->type, s->attrs);
            break;
        case ST_IFACE_FWD:
            if (s->type->kind == TY_INTERFACE && TX(s->type)->ns && !is_instance(s->type))
                iface_fwd(e, b, s->type);
            break;
        case ST_INTERFACE: case ST_DELEGATE:
            if (!is_generic(s->type))
                winrt_print_interface(e, b, s->type, s->type->attrs);
            else
                print_generic(e, b, s->type);
            break;
        case ST_RUNTIMECLASS:
            print_runtimeclass(e, b, s->type);
            break;
        case ST_DECLARE:
            fwd_instances(e, b, &s, 1, true);
            break;
        case ST_APICONTRACT:
            /* at its definition (the one with [contractversion]), not at "apicontract C;" */
            if (attr_has(s->attrs, A_CONTRACTVERSION))
                winrt_print_apicontract(e, b, s->type);
            break;
        case ST_DECL:
            for (int k = 0; k < s->ndecls; k++)
                if (s->decls[k]->type->kind == TY_FUNCTION)
                    print_function(e, b, s->decls[k]);
            break;
        case ST_CPPQUOTE: case ST_PRAGMA: case ST_CONST: case ST_COCLASS: case ST_DISPINTERFACE:
            winrt_print_other(e, b, s);
            break;
        default:
            break;
        }
    }
}

void winrt_init(Emitter *e)
{
    ctx_arena = e->cc->arena;
    ctx_cc = e->cc;
    has_namespace(e->cc->main_file->stmts, e->cc->main_file->nstmts, &e->wr_ns_prefix);
    collect_unprefixed(e);
    collect_declares(e, e->cc->main_file->stmts, e->cc->main_file->nstmts, 0);
    for (int i = 0; i < e->cc->files.n; i++) {
        File *f = e->cc->files.v[i];
        collect_defs(e, f->stmts, f->nstmts);
    }
}

void winrt_free(Emitter *e)
{
    vec_free(&e->wr_unprefixed);
    vec_free(&e->wr_contracts);
    vec_free(&e->wr_defs);
    vec_free(&e->wr_declares);
}
