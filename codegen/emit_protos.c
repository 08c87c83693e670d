/*
 * emit_protos.c - the "additional prototypes" section of FILE.h: the
 * user-marshal routines of [wire_marshal]/[user_marshal] types used by
 * remotable interfaces, and the Proxy/Stub pairs of [local]/[call_as]
 * methods, the serialization functions of [encode]/[decode] types, as MIDL
 * and widl declare them.
 */
#include "emit.h"

#include <string.h>

typedef struct Seen { Type **v; int n, cap; } Seen;

static bool seen_add(Compiler *cc, Seen *s, Type *t)
{
    for (int i = 0; i < s->n; i++)
        if (s->v[i] == t)
            return false;
    push_type(cc, &s->v, &s->n, t);
    return true;
}

/* the wire_marshal/user_marshal typedef a parameter type goes through */
static Type *marshal_type(Type *t)
{
    for (int guard = 0; t && guard < 64; guard++) {
        if (t->kind == TY_ALIAS) {
            if (attr_has(t->attrs, A_WIRE_MARSHAL) || attr_has(t->attrs, A_USER_MARSHAL))
                return t;
            t = t->ref;
        } else if (t->kind == TY_POINTER || t->kind == TY_ARRAY) {
            t = t->ref;
        } else {
            return NULL;
        }
    }
    return NULL;
}

static void collect_iface(Emitter *e, Type *t, Seen *marshal, Seen *ifaces);

static void collect(Emitter *e, Stmt **stmts, int n, Seen *marshal, Seen *ifaces)
{
    for (int i = 0; i < n; i++) {
        Stmt *s = stmts[i];
        if (s->kind == ST_LIBRARY || s->kind == ST_NAMESPACE)
            collect(e, s->stmts, s->nstmts, marshal, ifaces);
        /* WinRT: the interfaces and delegates of namespaces are object
         * interfaces, and so are the instances declare { } names */
        if (s->kind == ST_DECLARE) {
            for (int k = 0; k < s->ndeclared; k++)
                if (TX(s->declared[k])->winrt_done)
                    collect_iface(e, s->declared[k], marshal, ifaces);
            continue;
        }
        if ((s->kind == ST_INTERFACE || s->kind == ST_DELEGATE) && TX(s->type)->ns && s->type->kind != TY_PARAMETERIZED) {
            collect_iface(e, s->type, marshal, ifaces);
            continue;
        }
        if (s->kind != ST_INTERFACE || !TX(s->type)->is_object)
            continue;
        collect_iface(e, s->type, marshal, ifaces);
    }
}

static void collect_iface(Emitter *e, Type *t, Seen *marshal, Seen *ifaces)
{
    {
        seen_add(e->cc, ifaces, t);
        if (attr_has(t->attrs, A_LOCAL))
            return;
        for (int m = 0; m < TX(t)->nmethods; m++) {
            Var *meth = TX(t)->methods[m];
            if (attr_has(meth->attrs, A_LOCAL))
                continue;
            for (int p = 0; p < meth->type->nfields; p++) {
                Type *mt = marshal_type(meth->type->fields[p]->type);
                if (mt)
                    seen_add(e->cc, marshal, mt);
            }
        }
    }
}

/* The type serialization functions of the [encode]/[decode] typedefs of
 * the file's RPC interfaces ([encode] gives _AlignSize and _Encode,
 * [decode] _Decode, either _Free), as widl declares them; a typedef
 * outside an interface has none. */
static bool print_serialization(Stmt **stmts, int n, Buf *b, int depth)
{
    bool any = false;
    for (int i = 0; i < n && depth < MAX_NEST_DEPTH; i++) {
        Stmt *s = stmts[i];
        if (s->kind == ST_LIBRARY)
            any |= print_serialization(s->stmts, s->nstmts, b, depth + 1);
        if (s->kind != ST_INTERFACE || !s->type || TX(s->type)->is_object)
            continue;
        Type *t = s->type;
        for (int k = 0; k < TX(t)->nstmts; k++) {
            Stmt *td = TX(t)->stmts[k];
            if (td->kind != ST_TYPEDEF)
                continue;
            for (int j = 0; j < td->ndecls; j++) {
                Var *v = td->decls[j];
                bool enc = attr_has(td->attrs, A_ENCODE) || attr_has(v->attrs, A_ENCODE);
                bool dec = attr_has(td->attrs, A_DECODE) || attr_has(v->attrs, A_DECODE);
                if (!v->name || (!enc && !dec))
                    continue;
                if (enc) {
                    buf_printf(b, "SIZE_T __cdecl %s_AlignSize(handle_t IDL_handle, %s *IDL_type);\n", v->name, v->name);
                    buf_printf(b, "void __cdecl %s_Encode(handle_t IDL_handle, %s *IDL_type);\n", v->name, v->name);
                }
                if (dec)
                    buf_printf(b, "void __cdecl %s_Decode(handle_t IDL_handle, %s *IDL_type);\n", v->name, v->name);
                buf_printf(b, "void __cdecl %s_Free(handle_t IDL_handle, %s *IDL_type);\n", v->name, v->name);
                any = true;
            }
        }
    }
    return any;
}

static void proto_params(Emitter *e, Buf *b, Type *owner, Var *m)
{
    buf_printf(b, "(\n    %s* This", owner->name);
    for (int i = 0; i < m->type->nfields; i++) {
        Var *p = m->type->fields[i];
        buf_puts(b, ",\n    ");
        print_decl(e, b, p->type, p->qual, p->name ? p->name : "", 1);
    }
    buf_puts(b, ")");
}

/* "(\n    AsyncIFoo* This, ...)" with the parameters of m passed at
 * Begin_ (fin: Finish_) */
static void proto_dir_params(Emitter *e, Buf *b, Type *owner, Var *m, bool fin)
{
    buf_printf(b, "(\n    %s* This", owner->name);
    for (int i = 0; i < m->type->nfields; i++) {
        Var *p = m->type->fields[i];
        bool out = attr_has(p->attrs, A_OUT), in = attr_has(p->attrs, A_IN) || !out;
        if (fin ? !out : !in)
            continue;
        buf_puts(b, ",\n    ");
        print_decl(e, b, p->type, p->qual, p->name ? p->name : "", 1);
    }
    buf_puts(b, ")");
}

/* The async side of a [local] method and its [call_as] twin (RULES.md A10),
 * as MIDL declares them: the program's AsyncIFoo_Begin_M_Proxy/_Stub and
 * AsyncIFoo_Finish_M_Proxy/_Stub; then what the call-object glue
 * (FILE_async.c) defines for them to call: IFoo_RemoteM_Proxy,
 * AsyncIFoo_Begin_RemoteM_Proxy, AsyncIFoo_Finish_RemoteM_Proxy. */
static void print_async_pair(Emitter *e, Buf *b, Type *t, Var *local, Var *remote)
{
    Type *a = TX(t)->async_iface;
    const char *name = method_name(e, local), *rname = method_name(e, remote);
    for (int fin = 0; fin < 2; fin++) {
        Var *twin = NULL;
        for (int k = 0, seen = 0; k < TX(a)->nmethods && !twin; k++)
            if (VX(TX(a)->methods[k])->orig == local && seen++ == fin)
                twin = TX(a)->methods[k];
        if (!twin)
            continue;
        print_decl(e, b, twin->type->ref, twin->type->ref_qual, "", 0);
        buf_printf(b, " CALLBACK %s_%s_%s_Proxy", a->name, fin ? "Finish" : "Begin", name);
        proto_dir_params(e, b, a, local, fin);
        buf_puts(b, ";\n");
        print_decl(e, b, remote->type->ref, remote->type->ref_qual, "", 0);
        buf_printf(b, " __RPC_STUB %s_%s_%s_Stub", a->name, fin ? "Finish" : "Begin", name);
        proto_dir_params(e, b, a, remote, fin);
        buf_puts(b, ";\n");
    }
    print_decl(e, b, remote->type->ref, remote->type->ref_qual, "", 0);
    buf_printf(b, " STDMETHODCALLTYPE %s_%s_Proxy", t->name, rname);
    proto_params(e, b, t, remote);
    buf_puts(b, ";\n");
    for (int fin = 0; fin < 2; fin++) {
        print_decl(e, b, remote->type->ref, remote->type->ref_qual, "", 0);
        buf_printf(b, " STDMETHODCALLTYPE %s_%s_%s_Proxy", a->name, fin ? "Finish" : "Begin", rname);
        proto_dir_params(e, b, a, remote, fin);
        buf_puts(b, ";\n");
    }
}

void print_prototypes(Emitter *e, Buf *b)
{
    Seen marshal = {0}, ifaces = {0};
    File *f = e->cc->main_file;
    collect(e, f->stmts, f->nstmts, &marshal, &ifaces);
    for (int i = 0; i < marshal.n; i++) {
        const char *n = marshal.v[i]->name;
        buf_printf(b, "ULONG           __RPC_USER %s_UserSize     (ULONG *, ULONG, %s *);\n", n, n);
        buf_printf(b, "unsigned char * __RPC_USER %s_UserMarshal  (ULONG *, unsigned char *, %s *);\n", n, n);
        buf_printf(b, "unsigned char * __RPC_USER %s_UserUnmarshal(ULONG *, unsigned char *, %s *);\n", n, n);
        buf_printf(b, "void            __RPC_USER %s_UserFree     (ULONG *, %s *);\n\n", n, n);
    }
    for (int i = 0; i < ifaces.n; i++) {
        Type *t = ifaces.v[i];
        for (int m = 0; m < TX(t)->nmethods; m++) {
            Var *remote = TX(t)->methods[m];
            Attr *ca = attr_find(remote->attrs, A_CALL_AS);
            if (!ca || ca->nargs != 1 || ca->args[0]->kind != EX_IDENT)
                continue;
            Var *local = NULL;
            for (int k = 0; k < TX(t)->nmethods; k++)
                if (TX(t)->methods[k]->name && !strcmp(TX(t)->methods[k]->name, ca->args[0]->text))
                    local = TX(t)->methods[k];
            if (!local)
                continue;
            const char *name = method_name(e, local);
            print_decl(e, b, local->type->ref, local->type->ref_qual, "", 0);
            buf_printf(b, " CALLBACK %s_%s_Proxy", t->name, name);
            proto_params(e, b, t, local);
            buf_puts(b, ";\n");
            print_decl(e, b, remote->type->ref, remote->type->ref_qual, "", 0);
            buf_printf(b, " __RPC_STUB %s_%s_Stub", t->name, name);
            proto_params(e, b, t, remote);
            buf_puts(b, ";\n");
            if (TX(t)->async_iface && attr_has(local->attrs, A_LOCAL))   /* as the glue (grammar/glue.c) */
                print_async_pair(e, b, t, local, remote);
        }
    }
    if (marshal.n || ifaces.n)
        buf_putc(b, '\n');
    if (print_serialization(f->stmts, f->nstmts, b, 0))
        buf_putc(b, '\n');
}
