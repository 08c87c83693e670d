/*
 * winrt.c - WinRT parameterized interface instances (issue #13).
 *
 * IVector<HSTRING> in the IDL is one Type, an ordinary TY_INTERFACE whose
 * name is the C name widl gives it (__FIVector_1_HSTRING), with ->generic
 * the parameterized definition and ->params the actual arguments.
 *
 *   winrt_instantiate  (the parser) the instance of generic<args>: one
 *                      Type per C name (interned), so every use of
 *                      IVector<HSTRING> is the same Type
 *   winrt_complete     (sema, after the checks) each instance's methods,
 *                      base and requires with the type parameters
 *                      substituted (which can name more instances: they are
 *                      completed too), and its IID: a version-5 UUID of
 *                      the WinRT pinterface signature; each declare { }
 *                      statement's list without repeats (within its file)
 *
 * The C name: "__F" Generic "_" count, then "_" and each argument: an
 * instance by its C name, an interface, runtimeclass or delegate by its
 * qualified name with "." spelled "__C" (Windows__CFoundation__CUri),
 * anything else (typedef, enum, struct) by its own name (HSTRING, UINT32,
 * DateTime), boolean as boolean; pointers do not show.
 *
 * The signature (what the IID hashes): pinterface({piid};arg;...), each
 * argument: string, b1, u1, i2, u2, i4, u4, i8, u8, f4, f8, c2, g16 for
 * the fundamental types, cinterface(IInspectable), {iid} of an
 * interface, pinterface(...) of an instance, delegate({iid}),
 * rc(Ns.Name;default interface's), enum(Ns.Name;i4) (u4 when [flags]),
 * struct(Ns.Name;field;...).
 */
#include "amidl.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define WINRT_BUCKETS 1024
#define WINRT_MAX_NESTING 10    /* instances as arguments of instances (the corpus: 3) */

static bool is_instance(const Type *t)
{
    return t && t->kind == TY_INTERFACE && TX(t)->generic;
}

static bool has_param(const Type *t, int depth)
{
    if (!t || depth > 100)
        return false;
    if (t->kind == TY_PARAM)
        return true;
    if (t->kind == TY_POINTER)
        return has_param(t->ref, depth + 1);
    if (is_instance(t))
        for (int i = 0; i < TX(t)->nparams; i++)
            if (has_param(TX(t)->params[i], depth + 1))
                return true;
    return false;
}

static const char *basic_name(const Type *t)
{
    switch (t->basic) {
    case B_BOOLEAN: return "boolean";
    case B_BYTE: return "byte";
    case B_CHAR: return "char";
    case B_SMALL: return "small";
    case B_SHORT: return "short";
    case B_INT: return "int";
    case B_LONG: return "long";
    case B_HYPER: return "hyper";
    case B_INT64: return "__int64";
    case B_INT32: return "__int32";
    case B_INT3264: return "__int3264";
    case B_INT8: return "__int8";
    case B_INT16: return "__int16";
    case B_INT128: return "__int128";
    case B_FLOAT: return "float";
    case B_DOUBLE: return "double";
    case B_WCHAR: return "wchar_t";
    case B_HANDLE: return "handle_t";
    case B_ERROR_STATUS: return "error_status_t";
    }
    return "";
}

static void arg_name(Buf *b, const Type *t)
{
    while (t && t->kind == TY_POINTER)
        t = t->ref;
    if (!t)
        return;
    if (is_instance(t)) {
        buf_puts(b, t->name);
        return;
    }
    switch (t->kind) {
    case TY_INTERFACE: case TY_RUNTIMECLASS: case TY_DELEGATE: case TY_DISPINTERFACE: case TY_PARAMETERIZED:
        for (const char *p = type_qname(t); p && *p; p++)
            if (*p == '.')
                buf_puts(b, "__C");
            else
                buf_putc(b, *p);
        break;
    case TY_BASIC:
        buf_puts(b, basic_name(t));
        break;
    default:
        buf_puts(b, t->name ? t->name : "");
        break;
    }
}

/* The generic's part of an instance's C name: __x_ (ABI_C after #pragma
 * winrt ns_prefix), the namespace's names joined by _C, _C, the name (a
 * delegate's with an I before it); Windows.Foundation and
 * Windows.Foundation.Collections are shortened to __F. */
static void generic_name(Compiler *cc, Buf *b, const Type *g)
{
    Buf ns = {0};
    const char *q = TX(g)->ns && TX(g)->ns->qname ? TX(g)->ns->qname : "";
    for (const char *p = q; *p; p++)
        if (*p == '.')
            buf_puts(&ns, "_C");
        else
            buf_putc(&ns, *p);
    buf_putc(&ns, 0);
    const char *path = ns.data;
    static const char *const shortened[] = { "Windows_CFoundation_CCollections", "Windows_CFoundation" };
    bool done = false;
    for (int i = 0; i < 2 && !done; i++) {
        size_t n = strlen(shortened[i]);
        if (!strncmp(path, shortened[i], n) && (path[n] == 0 || !strncmp(path + n, "_C", 2))) {
            buf_puts(b, "__F");
            if (path[n])
                buf_printf(b, "%s_C", path + n + 2);
            done = true;
        }
    }
    if (!done) {
        buf_puts(b, "__x_");
        if (cc->winrt_ns_prefix)
            buf_puts(b, "ABI_C");
        if (*path)
            buf_printf(b, "%s_C", path);
    }
    buf_free(&ns);
    buf_printf(b, "%s%s", g->kind == TY_DELEGATE ? "I" : "", g->name ? g->name : "");
}

static void put_dotted(Buf *b, const Type *t)
{
    if (t->kind == TY_INTERFACE || t->kind == TY_PARAMETERIZED || t->kind == TY_DELEGATE ||
        t->kind == TY_RUNTIMECLASS)
        buf_puts(b, type_qname(t) ? type_qname(t) : "");
    else
        buf_puts(b, t->name ? t->name : "");
}

static unsigned hash_name(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

Type *winrt_instantiate(Compiler *cc, Type *generic, Type **args, int nargs, Loc loc)
{
    bool concrete = true;
    int depth = 0;
    for (int i = 0; i < nargs; i++) {
        if (has_param(args[i], 0))
            concrete = false;
        const Type *a = args[i];
        while (a && a->kind == TY_POINTER)
            a = a->ref;
        if (is_instance(a) && TX(a)->winrt_depth >= depth)
            depth = TX(a)->winrt_depth + 1;
    }
    /* a bound on the names' length (each holds its arguments' names): an
     * instance of an instance of ... written deep, or a generic whose
     * methods name an instance of itself with itself as an argument
     * (IBox<T> returning IBox<IBox<T> *>: instances without end) */
    if (depth > WINRT_MAX_NESTING) {
        if (!cc->winrt_too_deep)
            error_at(cc, loc, "instances of parameterized interfaces nest more than %d deep here ('%s')",
                     WINRT_MAX_NESTING, generic->name ? generic->name : "");
        cc->winrt_too_deep = true;
        Type *t = new_type(cc, TY_INTERFACE, generic->name, loc);
        TXW(cc, t)->generic = generic;
        TXW(cc, t)->params = args;
        TXW(cc, t)->nparams = nargs;
        TXW(cc, t)->ns = TX(generic)->ns;
        TXW(cc, t)->qname = type_qname(generic);
        t->defined = true;
        t->imported = true;
        TXW(cc, t)->winrt_depth = depth;
        return t;
    }
    Buf b = {0};
    generic_name(cc, &b, generic);
    buf_printf(&b, "_%d", nargs);
    for (int i = 0; i < nargs; i++) {
        buf_putc(&b, '_');
        arg_name(&b, args[i]);
    }
    const char *name = arena_strndup(cc->arena, b.data, b.len);
    buf_free(&b);
    unsigned h = hash_name(name) % WINRT_BUCKETS;
    if (concrete && cc->winrt_buckets)
        for (Type *t = cc->winrt_buckets[h]; t; t = TX(t)->winrt_next)
            if (!strcmp(t->name, name) && TX(t)->generic == generic)
                return t;
    Type *t = new_type(cc, TY_INTERFACE, name, loc);
    TXW(cc, t)->winrt_depth = depth;
    TXW(cc, t)->generic = generic;
    TXW(cc, t)->params = arena_alloc(cc->arena, sizeof(Type *) * (size_t)(nargs ? nargs : 1));
    memcpy(TX(t)->params, args, sizeof(Type *) * (size_t)nargs);
    TXW(cc, t)->nparams = nargs;
    TXW(cc, t)->ns = TX(generic)->ns;
    TXW(cc, t)->qname = type_qname(generic);
    t->defined = true;
    t->imported = true;
    TXW(cc, t)->is_object = true;
    TXW(cc, t)->winrt_concrete = concrete;
    if (concrete) {
        if (!cc->winrt_buckets)
            cc->winrt_buckets = arena_alloc(cc->arena, sizeof(Type *) * WINRT_BUCKETS);
        TXW(cc, t)->winrt_next = cc->winrt_buckets[h];
        cc->winrt_buckets[h] = t;
        vec_push(&cc->winrt_instances, t);
    }
    return t;
}

void winrt_note_use(Compiler *cc, Type *t, Loc loc)
{
    WinrtUse *u = arena_alloc(cc->arena, sizeof *u);
    u->t = t;
    u->loc = loc;
    u->declares = false;
    vec_push(&cc->winrt_uses, u);
}

/* a declare block's item: the use the parser noted last (its arguments
 * come before it) is this declaration */
void winrt_note_declared(Compiler *cc, Type *t, Loc loc)
{
    if (!is_instance(t) || !TX(t)->winrt_concrete)
        return;
    PtrVec *v = &cc->winrt_uses;
    WinrtUse *last = v->n ? v->v[v->n - 1] : NULL;
    if (last && last->t == t && !last->declares) {
        last->declares = true;
        return;
    }
    winrt_note_use(cc, t, loc);
    ((WinrtUse *)v->v[v->n - 1])->declares = true;
}

/* an instance as the IDL writes it: N.IBox<N.IPair<INT32, DOUBLE> *> */
static void spell(Buf *b, const Type *t, int depth)
{
    int stars = 0;
    while (t && t->kind == TY_POINTER) {
        t = t->ref;
        stars++;
    }
    if (!t)
        return;
    if (is_instance(t) && depth < 20) {
        put_dotted(b, TX(t)->generic);
        buf_putc(b, '<');
        for (int i = 0; i < TX(t)->nparams; i++) {
            if (i)
                buf_puts(b, ", ");
            spell(b, TX(t)->params[i], depth + 1);
        }
        buf_putc(b, '>');
    } else if (t->kind == TY_BASIC) {
        buf_puts(b, basic_name(t));
    } else {
        put_dotted(b, t);
    }
    if (stars) {
        buf_putc(b, ' ');
        for (int i = 0; i < stars; i++)
            buf_putc(b, '*');
    }
}

static const char *spelled(Compiler *cc, const Type *t)
{
    Buf b = {0};
    spell(&b, t, 0);
    buf_putc(&b, 0);
    const char *s = arena_strdup(cc->arena, b.data);
    buf_free(&b);
    return s;
}

/* ---- signatures and IIDs ---- */

void winrt_uuid_v5(const char *sig, Uuid *u)
{
    static const uint8_t ns[16] = { 0x11, 0xf4, 0x7a, 0xd5, 0x7b, 0x73, 0x42, 0xc0,
                                    0xab, 0xae, 0x87, 0x8b, 0x1e, 0x16, 0xad, 0xee };
    Buf b = {0};
    buf_write(&b, ns, sizeof ns);
    buf_puts(&b, sig);
    uint8_t h[20];
    sha1(b.data, b.len, h);
    buf_free(&b);
    h[6] = (uint8_t)((h[6] & 0x0f) | 0x50);
    h[8] = (uint8_t)((h[8] & 0x3f) | 0x80);
    u->d1 = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
    u->d2 = (uint16_t)(h[4] << 8 | h[5]);
    u->d3 = (uint16_t)(h[6] << 8 | h[7]);
    memcpy(u->d4, h + 8, 8);
}

/* the fundamental types by their typedef names */
static const char *const fundamental[][2] = {
    { "HSTRING", "string" }, { "boolean", "b1" }, { "BOOLEAN", "b1" }, { "BYTE", "u1" }, { "UINT8", "u1" },
    { "INT8", "i1" }, { "INT16", "i2" }, { "UINT16", "u2" }, { "INT32", "i4" }, { "UINT32", "u4" },
    { "INT64", "i8" }, { "UINT64", "u8" }, { "FLOAT", "f4" }, { "DOUBLE", "f8" }, { "WCHAR", "c2" },
    { "CHAR16", "c2" }, { "GUID", "g16" },
};

static void put_qname(Buf *b, const Type *t)
{
    if (TX(t)->ns && TX(t)->ns->qname && *TX(t)->ns->qname && (!type_qname(t) || !strchr(type_qname(t), '.')))
        buf_printf(b, "%s.%s", TX(t)->ns->qname, t->name);
    else
        buf_puts(b, type_qname(t));
}

/* the type whose missing uuid made the last signature fail */
static const Type *no_uuid;

static bool put_uuid(Buf *b, const Type *t)
{
    Attr *a = attr_find(t->attrs, A_UUID);
    if (!a || !a->uuid) {
        no_uuid = t;
        return false;
    }
    char s[37];
    format_uuid(a->uuid, s);
    buf_printf(b, "{%s}", s);
    return true;
}

static bool basic_sig(Buf *b, const Type *t)
{
    bool u = t->sign < 0;
    switch (t->basic) {
    case B_BOOLEAN: buf_puts(b, "b1"); return true;
    case B_BYTE: buf_puts(b, "u1"); return true;
    case B_CHAR: case B_SMALL: case B_INT8: buf_puts(b, u ? "u1" : "i1"); return true;
    case B_SHORT: case B_INT16: buf_puts(b, u ? "u2" : "i2"); return true;
    case B_INT: case B_LONG: case B_INT32: buf_puts(b, u ? "u4" : "i4"); return true;
    case B_HYPER: case B_INT64: buf_puts(b, u ? "u8" : "i8"); return true;
    case B_FLOAT: buf_puts(b, "f4"); return true;
    case B_DOUBLE: buf_puts(b, "f8"); return true;
    case B_WCHAR: buf_puts(b, "c2"); return true;
    default: return false;
    }
}

static bool sig(Compiler *cc, const Type *t, Buf *b, int depth)
{
    if (depth > 100)
        return false;
    for (;;) {
        if (!t)
            return false;
        if (t->kind == TY_POINTER) {
            t = t->ref;
            continue;
        }
        if (t->kind == TY_ALIAS && t->name) {
            for (size_t i = 0; i < sizeof fundamental / sizeof *fundamental; i++)
                if (!strcmp(t->name, fundamental[i][0])) {
                    buf_puts(b, fundamental[i][1]);
                    return true;
                }
        }
        if (t->kind == TY_ALIAS) {
            t = t->ref;
            continue;
        }
        break;
    }
    switch (t->kind) {
    case TY_BASIC:
        return basic_sig(b, t);
    case TY_INTERFACE:
        if (is_instance(t)) {
            buf_puts(b, "pinterface(");
            if (!put_uuid(b, TX(t)->generic))
                return false;
            for (int i = 0; i < TX(t)->nparams; i++) {
                buf_putc(b, ';');
                if (!sig(cc, TX(t)->params[i], b, depth + 1))
                    return false;
            }
            buf_putc(b, ')');
            return true;
        }
        if (t->name && !strcmp(t->name, "IInspectable") && !TX(t)->ns) {
            buf_puts(b, "cinterface(IInspectable)");
            return true;
        }
        return put_uuid(b, t);
    case TY_DELEGATE:
        buf_puts(b, "delegate(");
        if (!put_uuid(b, t))
            return false;
        buf_putc(b, ')');
        return true;
    case TY_RUNTIMECLASS:
        buf_puts(b, "rc(");
        put_qname(b, t);
        buf_putc(b, ';');
        for (int i = 0; i < TX(t)->nifaces; i++)
            if (TX(t)->iface_attrs && attr_has(TX(t)->iface_attrs[i], A_DEFAULT)) {
                if (!sig(cc, TX(t)->ifaces[i], b, depth + 1))
                    return false;
                buf_putc(b, ')');
                return true;
            }
        return false;
    case TY_ENUM:
        buf_puts(b, "enum(");
        put_qname(b, t);
        buf_puts(b, TX(t)->winrt_flags ? ";u4)" : ";i4)");
        return true;
    case TY_STRUCT:
        buf_puts(b, "struct(");
        put_qname(b, t);
        for (int i = 0; i < t->nfields; i++) {
            buf_putc(b, ';');
            if (!sig(cc, t->fields[i]->type, b, depth + 1))
                return false;
        }
        buf_putc(b, ')');
        return true;
    default:
        return false;
    }
}

bool winrt_signature(Compiler *cc, const Type *t, Buf *out)
{
    return sig(cc, t, out, 0);
}

/* ---- substitution ---- */

typedef struct { Type **from, **to; int n; } Subst;

static Type *copy_type(Compiler *cc, const Type *t)
{
    Type *n = arena_alloc(cc->arena, sizeof *n);
    *n = *t;
    if (t->x) {
        n->x = arena_alloc(cc->arena, sizeof *n->x);
        *n->x = *t->x;
    }
    return n;
}

static Type *subst(Compiler *cc, const Subst *m, Type *t, int depth)
{
    if (!t || depth > 100)
        return t;
    switch (t->kind) {
    case TY_PARAM:
        for (int i = 0; i < m->n; i++)
            if (m->from[i] == t)
                return m->to[i];
        for (int i = 0; i < m->n; i++)
            if (m->from[i] && m->from[i]->name && t->name && !strcmp(m->from[i]->name, t->name))
                return m->to[i];
        return t;
    case TY_POINTER: case TY_ARRAY: {
        Type *r = subst(cc, m, t->ref, depth + 1);
        if (r == t->ref)
            return t;
        Type *n = copy_type(cc, t);
        n->ref = r;
        return n;
    }
    case TY_FUNCTION: {
        Type *n = copy_type(cc, t);
        n->ref = subst(cc, m, t->ref, depth + 1);
        n->fields = arena_alloc(cc->arena, sizeof(Var *) * (size_t)(t->nfields ? t->nfields : 1));
        for (int i = 0; i < t->nfields; i++) {
            Var *v = copy_var(cc, t->fields[i]);
            v->type = subst(cc, m, v->type, depth + 1);
            n->fields[i] = v;
        }
        return n;
    }
    case TY_INTERFACE:
        if (TX(t)->generic) {
            bool changed = false;
            Type **args = arena_alloc(cc->arena, sizeof(Type *) * (size_t)(TX(t)->nparams ? TX(t)->nparams : 1));
            for (int i = 0; i < TX(t)->nparams; i++) {
                args[i] = subst(cc, m, TX(t)->params[i], depth + 1);
                changed |= args[i] != TX(t)->params[i];
            }
            return changed ? winrt_instantiate(cc, TX(t)->generic, args, TX(t)->nparams, t->loc) : t;
        }
        return t;
    default:
        return t;
    }
}

static void complete(Compiler *cc, Type *t)
{
    TXW(cc, t)->winrt_done = true;
    Type *g = TX(t)->generic;
    /* the IID first: it needs the generic's uuid only */
    Buf b = {0};
    if (sig(cc, t, &b, 0)) {
        buf_putc(&b, 0);
        TXW(cc, t)->winrt_signature = arena_strdup(cc->arena, b.data);
        TXW(cc, t)->winrt_iid = arena_alloc(cc->arena, sizeof(Uuid));
        winrt_uuid_v5(TX(t)->winrt_signature, TX(t)->winrt_iid);
    }
    buf_free(&b);
    /* the generic's attributes, its uuid replaced by the instance's */
    Attr *head = NULL, **tail = &head;
    if (TX(t)->winrt_iid) {
        Attr *u = new_attr(cc, "uuid", t->loc);
        u->uuid = TX(t)->winrt_iid;
        *tail = u;
        tail = &u->next;
    }
    for (Attr *a = g->attrs; a; a = a->next) {
        if (a->kind == A_UUID)
            continue;
        Attr *c = arena_alloc(cc->arena, sizeof *c);
        *c = *a;
        c->next = NULL;
        *tail = c;
        tail = &c->next;
    }
    t->attrs = head;
    if (!g->defined || g->declared_only)
        return;
    int n = TX(g)->nparams < TX(t)->nparams ? TX(g)->nparams : TX(t)->nparams;
    Subst m = { TX(g)->params, TX(t)->params, TX(g)->params ? n : 0 };
    if (g->kind == TY_DELEGATE) {
        TXW(cc, t)->base = scope_find_type(cc->global, "IUnknown");
    } else {
        TXW(cc, t)->base = subst(cc, &m, TX(g)->base, 0);
        if (TX(g)->nifaces > 0) {
            TXW(cc, t)->ifaces = arena_alloc(cc->arena, sizeof(Type *) * (size_t)TX(g)->nifaces);
            for (int i = 0; i < TX(g)->nifaces; i++)
                TX(t)->ifaces[i] = subst(cc, &m, TX(g)->ifaces[i], 0);
            TXW(cc, t)->nifaces = TX(g)->nifaces;
        }
    }
    int idx = vtbl_method_count(cc, TX(t)->base);
    for (int i = 0; i < TX(g)->nmethods; i++) {
        Var *v = copy_var(cc, TX(g)->methods[i]);
        v->type = subst(cc, &m, v->type, 0);
        VXW(cc, v)->owner = t;
        if (!attr_has(v->attrs, A_CALL_AS))
            VXW(cc, v)->vtbl_index = idx++;
        push_var(cc, &TXW(cc, t)->methods, &TXW(cc, t)->nmethods, v);
    }
    name_methods(cc, t);
    t->checked = true;
    TXW(cc, t)->sema_state = 2;
}

/* ST_DECLARE lists hold the instances as written, repeats included (widl
 * writes a forward declaration for each; the interface itself once), each
 * marked declared (winrt_seen); [flags] enums marked (their signature is u4) */
static void walk(Compiler *cc, File *f, Stmt **stmts, int n, int depth)
{
    if (depth > 200)
        return;
    for (int i = 0; i < n; i++) {
        Stmt *s = stmts[i];
        if (s->kind == ST_NAMESPACE)
            walk(cc, f, s->stmts, s->nstmts, depth + 1);
        else if ((s->kind == ST_TYPE || s->kind == ST_TYPEDEF) && s->type && s->type->kind == TY_ENUM &&
                 attr_has(s->attrs, A_FLAGS))
            TXW(cc, s->type)->winrt_flags = true;
        else if (s->kind == ST_DECLARE) {
            int k = 0;
            for (int j = 0; j < s->ndeclared; j++) {
                Type *t = s->declared[j];
                if (!is_instance(t) || !TX(t)->winrt_concrete)
                    continue;
                TXW(cc, t)->winrt_seen = f;
                s->declared[k++] = t;
            }
            s->ndeclared = k;
        }
    }
}

/* the instances a type names, through pointers */
static const Type *named_instance(const Type *t)
{
    while (t && (t->kind == TY_POINTER || t->kind == TY_ARRAY))
        t = t->ref;
    return is_instance(t) && TX(t)->winrt_concrete ? t : NULL;
}

/* widl's error: an instance the main file names (outside declare blocks
 * and generics), or one the methods of an instance its declare blocks name
 * take or return, is declared by a declare block of some file; once each */
static void check_undeclared(Compiler *cc, Stmt **stmts, int n, int depth)
{
    if (depth > 200)
        return;
    for (int i = 0; i < n; i++) {
        Stmt *s = stmts[i];
        if (s->kind == ST_NAMESPACE)
            check_undeclared(cc, s->stmts, s->nstmts, depth + 1);
        if (s->kind != ST_DECLARE)
            continue;
        for (int j = 0; j < s->ndeclared; j++) {
            Type *t = s->declared[j];
            for (int k = 0; k < TX(t)->nmethods; k++) {
                const Type *fn = TX(t)->methods[k]->type;
                if (!fn || fn->kind != TY_FUNCTION)
                    continue;
                for (int p = -1; p < fn->nfields; p++) {
                    Type *u = (Type *)named_instance(p < 0 ? fn->ref : fn->fields[p]->type);
                    if (!u || TX(u)->winrt_seen || TX(u)->winrt_reported)
                        continue;
                    TXW(cc, u)->winrt_reported = true;
                    error_at(cc, t->loc, "parameterized type '%s' not declared (a method of '%s' names it)",
                             spelled(cc, u), spelled(cc, t));
                }
            }
        }
    }
}

/* widl's error: an instance a declare block of the main file names whose
 * signature needs a uuid missing (the generic's, or an argument's); once
 * for each type without one, at it */
static void check_declared(Compiler *cc, Stmt **stmts, int n, PtrVec *reported, int depth)
{
    if (depth > 200)
        return;
    for (int i = 0; i < n; i++) {
        Stmt *s = stmts[i];
        if (s->kind == ST_NAMESPACE)
            check_declared(cc, s->stmts, s->nstmts, reported, depth + 1);
        if (s->kind != ST_DECLARE)
            continue;
        for (int j = 0; j < s->ndeclared; j++) {
            Type *t = s->declared[j];
            if (TX(t)->winrt_iid)
                continue;
            Buf b = {0};
            no_uuid = NULL;
            bool ok = sig(cc, t, &b, 0);
            buf_free(&b);
            const Type *m = no_uuid;
            if (ok || !m)
                continue;
            bool seen = false;
            for (int k = 0; k < reported->n && !seen; k++)
                seen = reported->v[k] == m;
            if (seen)
                continue;
            vec_push(reported, (void *)m);
            error_at(cc, m->loc, "cannot compute type signature, no uuid found for type '%s'", m->name);
        }
    }
}

int winrt_complete(Compiler *cc)
{
    int before = cc->errors;
    for (int i = 0; i < cc->files.n; i++) {
        File *f = cc->files.v[i];
        walk(cc, f, f->stmts, f->nstmts, 0);
    }
    for (int i = 0; i < cc->winrt_instances.n; i++) {
        Type *t = cc->winrt_instances.v[i];
        if (TX(t)->winrt_done)
            continue;
        complete(cc, t);
    }
    /* widl's error: an instance a file names (outside generics; an argument
     * of a declare block's instance too) is declared by a declare block read
     * before it: earlier in its file, or in a file imported before; once each */
    size_t cap = 16;
    while (cap < 2 * (size_t)cc->winrt_uses.n)
        cap *= 2;
    const Type **declared = calloc(cap, sizeof *declared);
    for (int i = 0; declared && i < cc->winrt_uses.n; i++) {
        WinrtUse *u = cc->winrt_uses.v[i];
        size_t h = ((uintptr_t)u->t >> 4) & (cap - 1);
        while (declared[h] && declared[h] != u->t)
            h = (h + 1) & (cap - 1);
        if (u->declares) {
            declared[h] = u->t;
            continue;
        }
        if (declared[h] || TX(u->t)->winrt_reported)
            continue;
        TXW(cc, u->t)->winrt_reported = true;
        error_at(cc, u->loc, "parameterized type '%s' not declared", spelled(cc, u->t));
    }
    free(declared);
    if (cc->main_file)
        check_undeclared(cc, cc->main_file->stmts, cc->main_file->nstmts, 0);
    if (cc->main_file) {
        PtrVec reported = {0};
        check_declared(cc, cc->main_file->stmts, cc->main_file->nstmts, &reported, 0);
        vec_free(&reported);
    }
    return cc->errors - before;
}
