/*
 * emit_header.c - FILE.h: C and C++ declarations of every type and
 * interface of the main file, in source order, with the conventions of
 * widl's and MIDL's headers (forward declarations, include guards,
 * MIDL_INTERFACE classes, C vtables with BEGIN_INTERFACE/END_INTERFACE,
 * COBJMACROS call macros and inline wrappers), including the AsyncIFoo
 * twin that sema synthesized for every [async_uuid] interface.
 *
 * The emitter only prints the checked model: names, values and the async
 * methods all come from sema.
 */
#include "emit.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* ==================================================================== types */

static const char *basic_name(const Type *t)
{
    bool u = t->sign < 0;
    switch (t->basic) {
    case B_CHAR: return u ? "unsigned char" : t->sign > 0 ? "signed char" : "char";
    case B_SMALL: return u ? "unsigned small" : "small";
    case B_SHORT: return u ? "unsigned short" : t->sign > 0 ? "signed short" : "short";
    case B_INT: return u ? "unsigned int" : t->sign > 0 ? "signed int" : "int";
    case B_LONG: return u ? "ULONG" : "LONG";
    case B_HYPER: return u ? "MIDL_uhyper" : "hyper";
    case B_INT64: return u ? "UINT64" : "INT64";
    case B_INT32: return u ? "UINT32" : "INT32";
    case B_INT3264: return u ? "unsigned __int3264" : "__int3264";
    case B_INT8: return u ? "UINT8" : "INT8";
    case B_INT16: return u ? "UINT16" : "INT16";
    case B_INT128: return u ? "unsigned __int128" : "__int128";
    case B_FLOAT: return "float";
    case B_DOUBLE: return "double";
    case B_BOOLEAN: return "boolean";
    case B_BYTE: return "byte";
    case B_WCHAR: return "wchar_t";
    case B_HANDLE: return "handle_t";
    case B_ERROR_STATUS: return "error_status_t";
    }
    return "int";
}

/* The tag a struct/union/enum is printed with ('struct tag'). Anonymous
 * ones that need a name get a stable generated one. */
const char *type_tag(Emitter *e, Type *t)
{
    if (t->name)
        return t->name;
    if (!TX(t)->gen_name)
        TXW(e->cc, t)->gen_name = arena_printf(e->cc->arena, "__amidl_%s_generated_name_%08X", e->stem, (unsigned)TX(t)->gen_id);
    return TX(t)->gen_name;
}

static void print_body(Emitter *e, Buf *b, Type *t, int indent);

/* "RET inner(PARAMS)" of function type t; 'inner' already holds its
 * calling convention where one was written */
static void print_function(Emitter *e, Buf *b, Type *t, const char *inner, int indent)
{
    Buf ps = {0};
    buf_putc(&ps, '(');
    for (int i = 0; i < t->nfields; i++) {
        Var *p = t->fields[i];
        if (i)
            buf_puts(&ps, ", ");
        print_decl(e, &ps, p->type, p->qual, p->name ? p->name : "", indent);
    }
    buf_putc(&ps, ')');
    const char *s = arena_printf(e->cc->arena, "%s%s", inner, ps.data);
    buf_free(&ps);
    print_decl(e, b, t->ref, t->ref_qual, s, indent);
}

/* Print "TYPE DECLARATOR" for t with qualifiers q around the declarator
 * text 'inner' (a name, or "" for an abstract declarator). */
void print_decl(Emitter *e, Buf *b, Type *t, unsigned q, const char *inner, int indent)
{
    Arena *a = e->cc->arena;
    const char *c = q & Q_CONST ? "const " : "";
    switch (t->kind) {
    case TY_POINTER: {
        const char *s = arena_printf(a, "*%s%s", q & Q_CONST ? "const " : "", inner);
        if (t->ref && t->ref->kind == TY_FUNCTION) {
            /* the calling convention goes inside: "void (__stdcall *p)(int)", as widl */
            const char *cc = TX(t->ref)->callconv;
            print_function(e, b, t->ref, arena_printf(a, "(%s%s%s)", cc ? cc : "", cc ? " " : "", s), indent);
            return;
        }
        if (t->ref && t->ref->kind == TY_ARRAY)
            s = arena_printf(a, "(%s)", s);
        print_decl(e, b, t->ref, t->ref_qual, s, indent);
        return;
    }
    case TY_ARRAY: {
        Buf sz = {0};
        if (TX(t)->size && !t->conformant)
            print_expr(e, &sz, TX(t)->size, false);
        else if (e->in_field)
            buf_putc(&sz, '1');     /* conformant array member: MIDL's [1] */
        const char *s = arena_printf(a, "%s[%s]", inner, sz.data ? sz.data : "");
        buf_free(&sz);
        print_decl(e, b, t->ref, t->ref_qual, s, indent);
        return;
    }
    case TY_FUNCTION:
        print_function(e, b, t, TX(t)->callconv ? arena_printf(a, "%s %s", TX(t)->callconv, inner) : inner, indent);
        return;
    case TY_BITFIELD: {
        Buf w = {0};
        print_expr(e, &w, TX(t)->size, false);
        const char *s = arena_printf(a, "%s : %s", inner, w.data ? w.data : "0");
        buf_free(&w);
        print_decl(e, b, t->ref, t->ref_qual, s, indent);
        return;
    }
    case TY_BASIC:
        buf_printf(b, "%s%s", c, basic_name(t));
        break;
    case TY_VOID:
        buf_printf(b, "%svoid", c);
        break;
    case TY_STRUCT: case TY_UNION: case TY_ENUM: case TY_ENCUNION: {
        if (TX(t)->ns && t->name && t != e->inline_body) {
            buf_printf(b, "%s%s", c, winrt_type_name(e, t));
            break;
        }
        const char *kw = t->kind == TY_ENUM ? "enum" : t->kind == TY_UNION ? "union" : "struct";
        if ((!t->name && !TX(t)->gen_name && t->defined) || t == e->inline_body) {
            /* anonymous, or defined by this field: the body goes right here */
            e->inline_body = NULL;
            if (t->name)
                buf_printf(b, "%s%s %s {\n", c, kw, t->name);
            else
                buf_printf(b, "%s%s {\n", c, kw);
            print_body(e, b, t, indent + 1);
            buf_printf(b, "%*s}", indent * 4, "");
        } else {
            buf_printf(b, "%s%s %s", c, kw, type_tag(e, t));
        }
        break;
    }
    case TY_ALIAS:
        if (TX(t)->ns && t->ref) {
            /* a typedef in a namespace names the type itself */
            print_decl(e, b, t->ref, q | t->ref_qual, inner, indent);
            return;
        }
        buf_printf(b, "%s%s", c, t->name ? t->name : "void");
        break;
    default: {
        const char *w = winrt_type_name(e, t);
        buf_printf(b, "%s%s", c, w ? w : t->name ? t->name : "void");
        break;
    }
    }
    if (*inner)
        buf_printf(b, " %s", inner);
}

/* ==================================================================== expressions */

static int op_prec(const Expr *x)
{
    if (x->kind == EX_TERNARY)
        return 1;
    if (x->kind != EX_BINARY)
        return 20;
    switch (x->op) {
    case OP_OROR: return 2;
    case OP_ANDAND: return 3;
    case '|': return 4;
    case '^': return 5;
    case '&': return 6;
    case OP_EQ: case OP_NE: return 7;
    case '<': case '>': case OP_LE: case OP_GE: return 8;
    case OP_SHL: case OP_SHR: return 9;
    case '+': case '-': return 10;
    default: return 11;
    }
}

static const char *op_text(int op)
{
    static char one[2];
    switch (op) {
    case OP_SHL: return "<<";
    case OP_SHR: return ">>";
    case OP_LE: return "<=";
    case OP_GE: return ">=";
    case OP_EQ: return "==";
    case OP_NE: return "!=";
    case OP_ANDAND: return "&&";
    case OP_OROR: return "||";
    case OP_NEG: return "-";
    case OP_POS: return "+";
    case OP_NOT: return "!";
    case OP_BITNOT: return "~";
    case OP_DEREF: return "*";
    case OP_ADDR: return "&";
    default: one[0] = (char)op; one[1] = 0; return one;
    }
}

static void print_sub(Emitter *e, Buf *b, const Expr *x, int parent_prec)
{
    bool paren = op_prec(x) <= parent_prec && (x->kind == EX_BINARY || x->kind == EX_TERNARY);
    if (paren)
        buf_putc(b, '(');
    print_expr(e, b, (Expr *)x, false);
    if (paren)
        buf_putc(b, ')');
}

void print_expr(Emitter *e, Buf *b, Expr *x, bool top)
{
    (void)top;
    if (!x)
        return;
    switch (x->kind) {
    case EX_NUM: case EX_FLOAT: case EX_CHAR:
        buf_puts(b, x->text);
        break;
    case EX_STR:
        buf_printf(b, "\"%s\"", x->text);
        break;
    case EX_WSTR:
        buf_printf(b, "L\"%s\"", x->text);
        break;
    case EX_IDENT: case EX_UUID:
        buf_puts(b, x->text);
        break;
    case EX_TRUE: buf_puts(b, "TRUE"); break;
    case EX_FALSE: buf_puts(b, "FALSE"); break;
    case EX_NULL: buf_puts(b, "NULL"); break;
    case EX_EMPTY: break;
    case EX_UNARY:
        buf_puts(b, op_text(x->op));
        print_sub(e, b, x->a, 19);
        break;
    case EX_BINARY:
        print_sub(e, b, x->a, op_prec(x) - 1);
        buf_printf(b, " %s ", op_text(x->op));
        print_sub(e, b, x->b, op_prec(x));
        break;
    case EX_TERNARY:
        print_sub(e, b, x->a, 1);
        buf_puts(b, " ? ");
        print_sub(e, b, x->b, 0);
        buf_puts(b, " : ");
        print_sub(e, b, x->c, 0);
        break;
    case EX_CAST:
        buf_putc(b, '(');
        print_decl(e, b, x->type, 0, "", 0);
        buf_putc(b, ')');
        print_sub(e, b, x->a, 19);
        break;
    case EX_SIZEOF:
        buf_puts(b, "sizeof(");
        print_decl(e, b, x->type, 0, "", 0);
        buf_putc(b, ')');
        break;
    case EX_MEMBER:
        print_sub(e, b, x->a, 19);
        buf_printf(b, ".%s", x->text);
        break;
    case EX_PMEMBER:
        print_sub(e, b, x->a, 19);
        buf_printf(b, "->%s", x->text);
        break;
    case EX_INDEX:
        print_sub(e, b, x->a, 19);
        buf_putc(b, '[');
        print_expr(e, b, x->b, false);
        buf_putc(b, ']');
        break;
    }
}

/* ==================================================================== bodies */

static Type *innermost(Type *t)
{
    while (t && (t->kind == TY_POINTER || t->kind == TY_ARRAY || t->kind == TY_BITFIELD))
        t = t->ref;
    return t;
}

static void print_field(Emitter *e, Buf *b, Var *f, int indent)
{
    if (!f->type)
        return;                 /* empty union arm: [default] ; */
    buf_printf(b, "%*s", indent * 4, "");
    Type *base = innermost(f->type);
    bool saved_in_field = e->in_field;
    e->in_field = true;
    if (f->defines_type && base && base->name) {
        /* "struct tag { ... } name;": the body is defined right here */
        Type *saved = e->inline_body;
        e->inline_body = base;
        print_decl(e, b, f->type, f->qual, f->name ? f->name : "", indent);
        e->inline_body = saved;
    } else {
        print_decl(e, b, f->type, f->qual, f->name ? f->name : "", indent);
    }
    e->in_field = saved_in_field;
    buf_puts(b, ";\n");
}

static void print_body(Emitter *e, Buf *b, Type *t, int indent)
{
    switch (t->kind) {
    case TY_ENUM:
        for (int i = 0; i < t->nfields; i++) {
            Var *v = t->fields[i];
            buf_printf(b, "%*s%s = ", indent * 4, "", v->name);
            if (VX(v)->init)
                print_expr(e, b, VX(v)->init, true);
            else
                buf_printf(b, "%lld", v->value);
            buf_puts(b, i + 1 < t->nfields ? ",\n" : "\n");
        }
        break;
    case TY_ENCUNION: {
        Var *sv = TX(t)->switch_var;
        buf_printf(b, "%*s", indent * 4, "");
        print_decl(e, b, sv->type, sv->qual, sv->name, indent);
        buf_puts(b, ";\n");
        bool any = false;
        for (int i = 0; i < t->nfields; i++)
            any |= t->fields[i]->type != NULL;
        buf_printf(b, "%*sunion %s_u {\n", indent * 4, "", type_tag(e, t));
        for (int i = 0; i < t->nfields; i++)
            print_field(e, b, t->fields[i], indent + 1);
        if (!any)
            buf_printf(b, "%*schar __amidl_empty;\n", (indent + 1) * 4, "");
        buf_printf(b, "%*s} %s;\n", indent * 4, "", TX(t)->union_name ? TX(t)->union_name : "tagged_union");
        break;
    }
    default:
        for (int i = 0; i < t->nfields; i++)
            print_field(e, b, t->fields[i], indent);
        break;
    }
}

/* "struct tag {\n...\n}" for a type defined by this statement */
static void print_definition(Emitter *e, Buf *b, Type *t, unsigned q)
{
    const char *kw = t->kind == TY_ENUM ? "enum" : t->kind == TY_UNION ? "union" : "struct";
    buf_printf(b, "%s%s %s {\n", q & Q_CONST ? "const " : "", kw, type_tag(e, t));
    print_body(e, b, t, 1);
    buf_putc(b, '}');
}

/* ==================================================================== GUIDs */

void guid_args(Buf *b, const Uuid *u)
{
    buf_printf(b, "0x%08x, 0x%04x, 0x%04x, 0x%02x,0x%02x, 0x%02x,0x%02x,0x%02x,0x%02x,0x%02x,0x%02x",
               u->d1, u->d2, u->d3, u->d4[0], u->d4[1], u->d4[2], u->d4[3], u->d4[4], u->d4[5], u->d4[6], u->d4[7]);
}

Uuid *type_uuid(Type *t)
{
    Attr *a = attr_find(t->attrs, A_UUID);
    return a ? a->uuid : NULL;
}

/* ==================================================================== interfaces */

static bool is_aggregate(Type *t)
{
    t = type_strip_alias(t);
    return t && (t->kind == TY_STRUCT || t->kind == TY_UNION || t->kind == TY_ENCUNION);
}

/* Methods returning a structure or union: widl's C view passes a hidden
 * result pointer after This and returns it, which is what the C++ view's
 * return by value compiles to in the Microsoft ABI (mingw-w64, MSVC). In
 * the System V and Itanium ABIs (Linux) the C++ view returns by value like
 * a C function, so there the C view returns by value too (as MIDL does when
 * not targeting Windows). WIDL_EXPLICIT_AGGREGATE_RETURNS gives the C++
 * view the hidden pointer, so the C view follows it everywhere. */
static const char AGGREGATE_BY_POINTER[] = "#if defined(_WIN32) || defined(WIDL_EXPLICIT_AGGREGATE_RETURNS)\n";

const char *method_name(Emitter *e, Var *m)
{
    (void)e;
    return VX(m)->macro_name ? VX(m)->macro_name : m->name;
}

static const char *vtbl_name(Var *m)
{
    return VX(m)->c_name ? VX(m)->c_name : m->name;
}

static bool in_vtable(Var *m)
{
    return !attr_has(m->attrs, A_CALL_AS);
}

/* The calling convention a method or function is declared with: the one
 * written in the IDL (widl keeps it, in both views of a method), else
 * 'dflt' (STDMETHODCALLTYPE for methods, __cdecl for RPC and module
 * functions, none for a function declared at file scope). */
const char *callconv_of(Var *m, const char *dflt)
{
    return TX(m->type)->callconv ? TX(m->type)->callconv : dflt;
}

static void print_params(Emitter *e, Buf *b, Var *m, const char *this_type, bool aggregate_ret, int indent)
{
    Type *fn = m->type;
    bool first = true;
    if (this_type) {
        buf_printf(b, "\n%*s%s *This", indent * 4, "", this_type);
        first = false;
    }
    if (aggregate_ret) {
        /* a struct is returned through a hidden pointer right after This */
        buf_printf(b, "%s\n%*s", first ? "" : ",", indent * 4, "");
        print_decl(e, b, fn->ref, fn->ref_qual, "*__ret", indent);
        first = false;
    }
    for (int i = 0; i < fn->nfields; i++) {
        Var *p = fn->fields[i];
        buf_printf(b, "%s\n%*s", first ? "" : ",", indent * 4, "");
        print_decl(e, b, p->type, p->qual, p->name ? p->name : "", indent);
        first = false;
    }
    buf_putc(b, ')');
}

/* the chain root..t, so inherited methods come first; in the arena, as
 * long as the chain is (a fixed array of 256 cut deeper chains short: a
 * vtable without IUnknown's methods) */
static int iface_chain(Emitter *e, Type *t, Type ***chain)
{
    int n = 0;
    for (Type *x = t; x; x = TX(x)->base)
        n++;
    Type **c = arena_alloc(e->cc->arena, sizeof *c * (size_t)(n ? n : 1));
    int i = n;
    for (Type *x = t; x; x = TX(x)->base)
        c[--i] = x;
    *chain = c;
    return n;
}

static Type *dispatch_type(Emitter *e)
{
    Type *t = scope_find_type(e->cc->global, "IDispatch");
    return t && t->kind == TY_INTERFACE ? t : NULL;
}

static void print_cxx_class(Emitter *e, Buf *b, Type *t, Type *base, Var **methods, int nmethods)
{
    char guid[37] = "";
    Uuid *u = type_uuid(t);
    if (u)
        format_uuid(u, guid);
    buf_puts(b, "#if defined(__cplusplus) && !defined(CINTERFACE)\n");
    if (u)
        buf_printf(b, "MIDL_INTERFACE(\"%s\")\n", guid);
    else
        buf_puts(b, "interface ");
    buf_printf(b, "%s", t->name);
    if (base)
        buf_printf(b, " : public %s", base->name);
    buf_puts(b, "\n{\n");
    for (int i = 0; i < nmethods; i++) {
        Var *m = methods[i];
        if (!in_vtable(m))
            continue;
        Type *fn = m->type;
        const char *name = method_name(e, m);
        if (is_aggregate(fn->ref)) {
            buf_puts(b, "#ifdef WIDL_EXPLICIT_AGGREGATE_RETURNS\n    virtual ");
            print_decl(e, b, fn->ref, fn->ref_qual, "*", 1);
            buf_printf(b, " %s %s(", callconv_of(m, "STDMETHODCALLTYPE"), name);
            print_params(e, b, m, NULL, true, 2);
            buf_puts(b, " = 0;\n    ");
            print_decl(e, b, fn->ref, fn->ref_qual, "", 1);
            buf_printf(b, " %s %s(", callconv_of(m, "STDMETHODCALLTYPE"), name);
            print_params(e, b, m, NULL, false, 2);
            buf_puts(b, "\n    {\n        ");
            print_decl(e, b, fn->ref, fn->ref_qual, "__ret", 2);
            buf_printf(b, ";\n        return *%s(&__ret", name);
            for (int k = 0; k < fn->nfields; k++)
                buf_printf(b, ", %s", fn->fields[k]->name ? fn->fields[k]->name : "");
            buf_puts(b, ");\n    }\n#else\n");
        }
        buf_puts(b, "    virtual ");
        print_decl(e, b, fn->ref, fn->ref_qual, "", 1);
        buf_printf(b, " %s %s(", callconv_of(m, "STDMETHODCALLTYPE"), name);
        if (!fn->nfields)
            buf_puts(b, "\n        )");
        else
            print_params(e, b, m, NULL, false, 2);
        buf_puts(b, " = 0;\n");
        if (is_aggregate(fn->ref))
            buf_puts(b, "#endif\n");
        buf_putc(b, '\n');
    }
    buf_puts(b, "};\n");
    if (u) {
        buf_printf(b, "#ifdef __CRT_UUID_DECL\n__CRT_UUID_DECL(%s, ", t->name);
        guid_args(b, u);
        buf_puts(b, ")\n#endif\n");
    }
}

static void print_c_vtbl(Emitter *e, Buf *b, Type *t, Type **chain, int n, Type *disp)
{
    buf_printf(b, "#else\ntypedef struct %sVtbl {\n    BEGIN_INTERFACE\n", t->name);
    for (int c = 0; c < n; c++) {
        Type *x = chain[c];
        buf_printf(b, "\n    /*** %s methods ***/\n", x->name);
        bool first = true;
        for (int i = 0; i < TX(x)->nmethods; i++) {
            Var *m = TX(x)->methods[i];
            if (!in_vtable(m) || (x->kind == TY_DISPINTERFACE && x != disp))
                continue;
            if (!first)
                buf_putc(b, '\n');
            first = false;
            Type *fn = m->type;
            bool agg = is_aggregate(fn->ref);
            for (int by_value = 0; by_value <= agg; by_value++) {
                if (agg)
                    buf_puts(b, by_value ? "#else\n" : AGGREGATE_BY_POINTER);
                bool hidden = agg && !by_value;
                buf_puts(b, "    ");
                print_decl(e, b, fn->ref, fn->ref_qual, hidden ? "*" : "", 1);
                buf_printf(b, " (%s *%s)(", callconv_of(m, "STDMETHODCALLTYPE"), vtbl_name(m));
                print_params(e, b, m, t->name, hidden, 2);
                buf_puts(b, ";\n");
            }
            if (agg)
                buf_puts(b, "#endif\n");
        }
    }
    buf_printf(b, "\n    END_INTERFACE\n} %sVtbl;\n\n", t->name);
    buf_printf(b, "interface %s {\n    CONST_VTBL %sVtbl* lpVtbl;\n};\n\n", t->name, t->name);
}

static void print_macros(Emitter *e, Buf *b, Type *t, Type **chain, int n)
{
    buf_puts(b, "#ifdef COBJMACROS\n#ifndef WIDL_C_INLINE_WRAPPERS\n");
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1)
            buf_puts(b, "#else\n");
        for (int c = 0; c < n; c++) {
            Type *x = chain[c];
            int count = 0;
            for (int i = 0; i < TX(x)->nmethods; i++)
                count += in_vtable(TX(x)->methods[i]);
            if (!count)
                continue;
            buf_printf(b, "/*** %s methods ***/\n", x->name);
            for (int i = 0; i < TX(x)->nmethods; i++) {
                Var *m = TX(x)->methods[i];
                if (!in_vtable(m))
                    continue;
                Type *fn = m->type;
                const char *name = method_name(e, m);
                const char *vname = vtbl_name(m);
                bool hidden = false;     /* a later interface of the chain reuses the name */
                for (int c2 = c + 1; c2 < n && !hidden; c2++)
                    for (int k = 0; k < TX(chain[c2])->nmethods && !hidden; k++)
                        hidden = in_vtable(TX(chain[c2])->methods[k]) && !strcmp(method_name(e, TX(chain[c2])->methods[k]), name);
                if (hidden)
                    continue;
                bool agg = is_aggregate(fn->ref);
                if (pass == 0) {
                    if (agg)
                        buf_puts(b, AGGREGATE_BY_POINTER);
                    buf_printf(b, "#define %s_%s(This", t->name, name);
                    for (int k = 0; k < fn->nfields; k++)
                        buf_printf(b, ",%s", fn->fields[k]->name ? fn->fields[k]->name : "_");
                    if (agg) {
                        buf_printf(b, ") %s_%s_define_WIDL_C_INLINE_WRAPPERS_for_aggregate_return_support\n#else\n",
                                   t->name, name);
                        buf_printf(b, "#define %s_%s(This", t->name, name);
                        for (int k = 0; k < fn->nfields; k++)
                            buf_printf(b, ",%s", fn->fields[k]->name ? fn->fields[k]->name : "_");
                    }
                    buf_printf(b, ") (This)->lpVtbl->%s(This", vname);
                    for (int k = 0; k < fn->nfields; k++)
                        buf_printf(b, ",%s", fn->fields[k]->name ? fn->fields[k]->name : "_");
                    buf_puts(b, agg ? ")\n#endif\n" : ")\n");
                } else {
                    buf_puts(b, "static inline ");
                    print_decl(e, b, fn->ref, fn->ref_qual, "", 0);
                    buf_printf(b, " %s_%s(%s* This", t->name, name, t->name);
                    for (int k = 0; k < fn->nfields; k++) {
                        Var *p = fn->fields[k];
                        buf_putc(b, ',');
                        print_decl(e, b, p->type, p->qual, p->name ? p->name : "", 1);
                    }
                    buf_puts(b, ") {\n");
                    bool is_void = fn->ref->kind == TY_VOID;
                    if (agg) {
                        buf_puts(b, AGGREGATE_BY_POINTER);
                        buf_puts(b, "    ");
                        print_decl(e, b, fn->ref, fn->ref_qual, "__ret", 1);
                        buf_printf(b, ";\n    return *This->lpVtbl->%s(This,&__ret", vname);
                        for (int k = 0; k < fn->nfields; k++)
                            buf_printf(b, ",%s", fn->fields[k]->name ? fn->fields[k]->name : "_");
                        buf_puts(b, ");\n#else\n");
                    }
                    buf_printf(b, "    %sThis->lpVtbl->%s(This", is_void ? "" : "return ", vname);
                    for (int k = 0; k < fn->nfields; k++)
                        buf_printf(b, ",%s", fn->fields[k]->name ? fn->fields[k]->name : "_");
                    buf_puts(b, agg ? ");\n#endif\n}\n" : ");\n}\n");
                }
            }
        }
    }
    buf_puts(b, "#endif\n#endif\n\n");
}

static void print_stmts(Emitter *e, Buf *b, Stmt **stmts, int n, bool in_iface);

bool printed_iface(Emitter *e, Type *t)
{
    for (int i = 0; i < e->printed.n; i++)
        if (e->printed.v[i] == t)
            return true;
    return false;
}

static void print_interface(Emitter *e, Buf *b, Type *t)
{
    if (printed_iface(e, t))
        return;
    vec_push(&e->printed, t);
    /* C++ needs the base class complete: a base defined later in this file
     * (fsrm.idl) is printed first, with its async twin */
    Type *base = TX(t)->is_async ? TX(TX(t)->sync_iface)->base : TX(t)->base;
    if (base && !base->imported && base->defined && base->kind == TY_INTERFACE && !printed_iface(e, base)) {
        print_interface(e, b, base);
        if (TX(base)->async_iface)
            print_interface(e, b, TX(base)->async_iface);
    }
    bool object = TX(t)->is_object || TX(t)->is_async;
    buf_printf(b, "/*****************************************************************************\n * %s interface", t->name);
    if (!object) {
        Attr *v = attr_find(t->attrs, A_VERSION);
        if (v && v->nargs == 1 && v->args[0]->text)
            buf_printf(b, " (v%s)", v->args[0]->text);
    }
    buf_printf(b, "\n */\n#ifndef __%s_INTERFACE_DEFINED__\n#define __%s_INTERFACE_DEFINED__\n\n", t->name, t->name);
    if (!object) {
        const char *ver = "0_0";
        Attr *v = attr_find(t->attrs, A_VERSION);
        if (v && v->nargs == 1 && v->args[0]->text) {
            char *s = arena_strdup(e->cc->arena, v->args[0]->text);
            for (char *p = s; *p; p++)
                if (*p == '.')
                    *p = '_';
            if (!strchr(s, '_'))
                s = arena_printf(e->cc->arena, "%s_0", s);
            ver = s;
        }
        /* [implicit_handle(handle_t h)]: the handle is a global the client defines */
        Attr *ih = attr_find(t->attrs, A_IMPLICIT_HANDLE);
        if (ih && ih->nargs == 1 && ih->args[0]->kind == EX_CAST && ih->args[0]->type && ih->args[0]->a &&
            ih->args[0]->a->text) {
            buf_puts(b, "extern ");
            print_decl(e, b, ih->args[0]->type, 0, ih->args[0]->a->text, 0);
            buf_puts(b, ";\n");
        }
        buf_printf(b, "extern RPC_IF_HANDLE %s_v%s_c_ifspec;\nextern RPC_IF_HANDLE %s_v%s_s_ifspec;\n", t->name, ver, t->name, ver);
        /* nested declarations (typedefs, consts, cpp_quote) after the
         * ifspecs, as widl writes them; the procedures below */
        print_stmts(e, b, TX(t)->stmts, TX(t)->nstmts, true);
        for (int i = 0; i < TX(t)->nmethods; i++) {
            Var *m = TX(t)->methods[i];
            if (!in_vtable(m))
                continue;
            print_decl(e, b, m->type->ref, m->type->ref_qual, "", 0);
            buf_printf(b, " %s %s(", callconv_of(m, "__cdecl"), m->name);
            if (!m->type->nfields)
                buf_puts(b, "void)");
            else
                print_params(e, b, m, NULL, false, 1);
            buf_puts(b, ";\n\n");
        }
        buf_printf(b, "#endif  /* __%s_INTERFACE_DEFINED__ */\n\n", t->name);
        return;
    }
    /* nested declarations (typedefs, consts, cpp_quote); methods below */
    print_stmts(e, b, TX(t)->stmts, TX(t)->nstmts, true);
    Uuid *u = type_uuid(t);
    if (u) {
        buf_printf(b, "DEFINE_GUID(IID_%s, ", t->name);
        guid_args(b, u);
        buf_puts(b, ");\n");
    }
    Type **chain;
    int n = iface_chain(e, t, &chain);
    e->cxx = true;
    print_cxx_class(e, b, t, TX(t)->base, TX(t)->methods, TX(t)->nmethods);
    e->cxx = false;
    print_c_vtbl(e, b, t, chain, n, NULL);
    print_macros(e, b, t, chain, n);
    /* after "#pragma winrt ns_prefix" widl ends it as a WinRT interface */
    buf_printf(b, "#endif\n\n%s#endif  /* __%s_INTERFACE_DEFINED__ */\n\n", e->wr_ns_prefix ? "" : "\n", t->name);
}

static void print_dispinterface(Emitter *e, Buf *b, Type *t)
{
    buf_printf(b, "/*****************************************************************************\n * %s dispinterface\n */\n", t->name);
    buf_printf(b, "#ifndef __%s_DISPINTERFACE_DEFINED__\n#define __%s_DISPINTERFACE_DEFINED__\n\n", t->name, t->name);
    Uuid *u = type_uuid(t);
    if (u) {
        buf_printf(b, "DEFINE_GUID(DIID_%s, ", t->name);
        guid_args(b, u);
        buf_puts(b, ");\n");
    }
    Type *disp = dispatch_type(e);
    buf_puts(b, "#if defined(__cplusplus) && !defined(CINTERFACE)\n");
    if (u) {
        char g[37];
        format_uuid(u, g);
        buf_printf(b, "MIDL_INTERFACE(\"%s\")\n", g);
    }
    buf_printf(b, "%s : public IDispatch\n{\n};\n", t->name);
    if (u) {
        buf_printf(b, "#ifdef __CRT_UUID_DECL\n__CRT_UUID_DECL(%s, ", t->name);
        guid_args(b, u);
        buf_puts(b, ")\n#endif\n");
    }
    Type **chain = NULL;
    int n = disp ? iface_chain(e, disp, &chain) : 0;
    print_c_vtbl(e, b, t, chain, n, NULL);
    print_macros(e, b, t, chain, n);
    buf_printf(b, "#endif\n\n#endif  /* __%s_DISPINTERFACE_DEFINED__ */\n\n", t->name);
}

static void print_coclass(Emitter *e, Buf *b, Type *t)
{
    (void)e;
    buf_printf(b, "/*****************************************************************************\n * %s coclass\n */\n\n", t->name);
    Uuid *u = type_uuid(t);
    if (!u)
        return;
    char g[37];
    format_uuid(u, g);
    buf_printf(b, "DEFINE_GUID(CLSID_%s, ", t->name);
    guid_args(b, u);
    buf_printf(b, ");\n\n#ifdef __cplusplus\nclass DECLSPEC_UUID(\"%s\") %s;\n#ifdef __CRT_UUID_DECL\n__CRT_UUID_DECL(%s, ", g, t->name, t->name);
    guid_args(b, u);
    buf_puts(b, ")\n#endif\n#endif\n\n");
}

/* cpp_quote text: the string's escapes \" and \\ are undone */
static void print_cpp_quote(Buf *b, const char *s)
{
    for (const char *p = s; *p; p++) {
        if (*p == '\\' && (p[1] == '"' || p[1] == '\\')) {
            buf_putc(b, p[1]);
            p++;
            continue;
        }
        buf_putc(b, *p);
    }
    buf_putc(b, '\n');
}

static void print_typedef(Emitter *e, Buf *b, Stmt *s)
{
    for (int i = 0; i < s->ndecls; i++) {
        Var *v = s->decls[i];
        Type *alias = v->type;
        buf_puts(b, "typedef ");
        if (s->defines_type && i == 0 && alias->ref == s->type) {
            print_definition(e, b, s->type, s->qual);
            buf_printf(b, " %s;\n", alias->name);
            continue;
        }
        print_decl(e, b, alias->ref, alias->ref_qual, alias->name, 0);
        buf_puts(b, ";\n");
        if (s->defines_type && i == 0) {
            /* first declarator is not the plain type: define it first */
        }
    }
}

static void print_const(Emitter *e, Buf *b, Var *v)
{
    buf_printf(b, "#define %s (", v->name);
    print_expr(e, b, VX(v)->init, true);
    buf_puts(b, ")\n\n");
}

/* A WinRT API contract: the macro naming its version, as widl writes it
 * ("Windows.Foundation.FoundationContract", contractversion(4):
 * WINDOWS_FOUNDATION_FOUNDATIONCONTRACT_VERSION 0x40000, the major
 * version in the high 16 bits, the minor one in the low), defined unless
 * the user defined it first. */
void winrt_print_apicontract(Emitter *e, Buf *b, Type *t)
{
    winrt_contract_define(e, b, t);
}

static void print_stmts(Emitter *e, Buf *b, Stmt **stmts, int n, bool in_iface)
{
    for (int i = 0; i < n; i++) {
        Stmt *s = stmts[i];
        switch (s->kind) {
        case ST_TYPEDEF:
            if (s->defines_type && s->ndecls && s->decls[0]->type->ref != s->type) {
                /* "typedef struct S {...} *PS;": define the tag first */
                print_definition(e, b, s->type, 0);
                buf_puts(b, ";\n");
                Stmt copy = *s;
                copy.defines_type = false;
                print_typedef(e, b, &copy);
            } else {
                print_typedef(e, b, s);
            }
            break;
        case ST_TYPE:
            if (s->defines_type) {
                print_definition(e, b, s->type, s->qual);
                buf_puts(b, ";\n");
            } else if (s->type->name && (s->type->kind == TY_STRUCT || s->type->kind == TY_UNION ||
                                         s->type->kind == TY_ENUM || s->type->kind == TY_ENCUNION)) {
                const char *kw = s->type->kind == TY_ENUM ? "enum" : s->type->kind == TY_UNION ? "union" : "struct";
                buf_printf(b, "%s %s;\n", kw, s->type->name);
            }
            break;
        case ST_CONST:
            for (int k = 0; k < s->ndecls; k++)
                print_const(e, b, s->decls[k]);
            break;
        case ST_DECL:
            if (in_iface)
                break;          /* methods: printed with the interface */
            if (s->defines_type) {
                print_definition(e, b, s->type, s->qual);
                buf_puts(b, ";\n");
            }
            for (int k = 0; k < s->ndecls; k++) {
                Var *v = s->decls[k];
                if (v->type->kind == TY_FUNCTION) {
                    print_decl(e, b, v->type->ref, v->type->ref_qual, "", 0);
                    const char *cc = callconv_of(v, e->in_module ? "__cdecl" : NULL);
                    buf_printf(b, "%s%s %s(", cc ? " " : "", cc ? cc : "", v->name);
                    if (!v->type->nfields)
                        buf_puts(b, "void)");
                    else
                        print_params(e, b, v, NULL, false, 1);
                    buf_puts(b, ";\n\n");
                } else {
                    buf_puts(b, "extern ");
                    print_decl(e, b, v->type, v->qual, v->name, 0);
                    buf_puts(b, ";\n");
                }
            }
            break;
        case ST_CPPQUOTE:
            print_cpp_quote(b, s->text);
            break;
        case ST_NAMESPACE:
            winrt_print_ns(e, b, s->stmts, s->nstmts);
            break;
        case ST_APICONTRACT:
            winrt_print_apicontract(e, b, s->type);
            break;
        case ST_PRAGMA:
            /* "#pragma winrt ns_prefix" is the compiler's (widl does not copy it) */
            if (!strncmp(s->text, "winrt", 5) && (!s->text[5] || isspace((unsigned char)s->text[5])))
                break;
            /* nor "#pragma makedep" (Wine's build system's) */
            if (!strncmp(s->text, "makedep", 7) && (!s->text[7] || isspace((unsigned char)s->text[7])))
                break;
            buf_printf(b, "#pragma %s\n", s->text);
            break;
        case ST_INTERFACE:
            print_interface(e, b, s->type);
            if (TX(s->type)->async_iface)
                print_interface(e, b, TX(s->type)->async_iface);
            break;
        case ST_DISPINTERFACE:
            print_dispinterface(e, b, s->type);
            break;
        case ST_COCLASS:
            print_coclass(e, b, s->type);
            break;
        case ST_MODULE:
            buf_printf(b, "#ifndef __%s_MODULE_DEFINED__\n#define __%s_MODULE_DEFINED__\n\n", s->type->name, s->type->name);
            e->in_module = true;        /* its functions default to __cdecl */
            print_stmts(e, b, TX(s->type)->stmts, TX(s->type)->nstmts, false);
            e->in_module = false;
            buf_printf(b, "#endif /* __%s_MODULE_DEFINED__ */\n\n", s->type->name);
            break;
        case ST_LIBRARY: {
            buf_printf(b, "#ifndef __%s_LIBRARY_DEFINED__\n#define __%s_LIBRARY_DEFINED__\n\n", s->type->name, s->type->name);
            Attr *a = attr_find(s->attrs, A_UUID);
            if (a && a->uuid) {
                buf_printf(b, "DEFINE_GUID(LIBID_%s, ", s->type->name);
                guid_args(b, a->uuid);
                buf_puts(b, ");\n\n");
            }
            print_stmts(e, b, s->stmts, s->nstmts, false);
            buf_printf(b, "#endif /* __%s_LIBRARY_DEFINED__ */\n", s->type->name);
            break;
        }
        default:
            break;
        }
    }
}

/* a COM statement in a namespace: as outside one */
void winrt_print_other(Emitter *e, Buf *b, Stmt *s)
{
    print_stmts(e, b, &s, 1, false);
}

/* ==================================================================== file */

static void fwd_decl(Emitter *e, Buf *b, const char *name)
{
    if (e->wr_ns_prefix) {
        /* after "#pragma winrt ns_prefix", widl declares it in namespace ABI for C++ */
        buf_printf(b, "#ifndef __%s_FWD_DEFINED__\n#define __%s_FWD_DEFINED__\n"
                      "typedef interface %s %s;\n#ifdef __cplusplus\nnamespace ABI {\n    interface %s;\n}\n"
                      "#endif /* __cplusplus */\n#endif\n\n", name, name, name, name, name);
        return;
    }
    buf_printf(b, "#ifndef __%s_FWD_DEFINED__\n#define __%s_FWD_DEFINED__\n"
                  "typedef interface %s %s;\n#ifdef __cplusplus\ninterface %s;\n#endif /* __cplusplus */\n#endif\n\n",
               name, name, name, name, name);
}

static void print_fwd(Emitter *e, Buf *b, Stmt **stmts, int n)
{
    for (int i = 0; i < n; i++) {
        Stmt *s = stmts[i];
        switch (s->kind) {
        case ST_INTERFACE: case ST_IFACE_FWD:
            if (s->type->kind == TY_MODULE)
                break;
            if (s->kind == ST_INTERFACE && !TX(s->type)->is_object && s->type->kind == TY_INTERFACE)
                break;
            fwd_decl(e, b, s->type->name);
            if (TX(s->type)->async_iface)
                fwd_decl(e, b, TX(s->type)->async_iface->name);
            break;
        case ST_DISPINTERFACE:
            fwd_decl(e, b, s->type->name);
            break;
        case ST_COCLASS:
            buf_printf(b, "#ifndef __%s_FWD_DEFINED__\n#define __%s_FWD_DEFINED__\n#ifdef __cplusplus\ntypedef class %s %s;\n"
                          "#else\ntypedef struct %s %s;\n#endif /* defined __cplusplus */\n#endif /* defined __%s_FWD_DEFINED__ */\n\n",
                       s->type->name, s->type->name, s->type->name, s->type->name, s->type->name, s->type->name, s->type->name);
            break;
        case ST_LIBRARY:
            print_fwd(e, b, s->stmts, s->nstmts);
            break;
        case ST_MODULE:
            break;
        default:
            break;
        }
    }
}

static void print_imports(Emitter *e, Buf *b, Stmt **stmts, int n)
{
    for (int i = 0; i < n; i++) {
        Stmt *s = stmts[i];
        if (s->kind == ST_IMPORT) {
            const char *name = s->text;
            const char *slash = strrchr(name, '/');
            if (slash)
                name = slash + 1;
            const char *dot = strrchr(name, '.');
            size_t len = dot ? (size_t)(dot - name) : strlen(name);
            buf_printf(b, "#include <%.*s.h>\n", (int)len, name);
        } else if (s->kind == ST_LIBRARY) {
            print_imports(e, b, s->stmts, s->nstmts);
        }
    }
}

/* "Generated by amidl VERSION from FILE": --no-banner-version leaves the
 * version out, so that golden files do not change with every release. */
void print_banner(Emitter *e, Buf *b)
{
    if (e->cc->opt && e->cc->opt->no_banner_version)
        buf_printf(b, "/* Generated by amidl from %s \xe2\x80\x94 do not edit. */\n\n", e->file_base);
    else
        buf_printf(b, "/* Generated by amidl %s from %s \xe2\x80\x94 do not edit. */\n\n", AMIDL_VERSION, e->file_base);
}

bool emitter_init(Emitter *e, Compiler *cc)
{
    memset(e, 0, sizeof *e);
    e->cc = cc;
    File *f = cc->main_file;
    const char *base = strrchr(f->name, '/');
    base = base ? base + 1 : f->name;
    e->file_base = base;
    e->stem = f->base;
    return true;
}

static int write_header(Emitter *ep, Buf *b, const char *header_name);

int emit_header(Compiler *cc, Buf *b, const char *header_name)
{
    Emitter e;
    if (!emitter_init(&e, cc))
        return -1;
    winrt_init(&e);
    int r = write_header(&e, b, header_name);
    vec_free(&e.printed);
    winrt_free(&e);
    return r;
}

/* whether a typedef of the main file has [encode] or [decode] (type
 * serialization): widl's header then includes <midles.h>, which declares
 * the Mes* API the serialization stubs use */
static bool uses_serialization(Stmt **stmts, int n, int depth)
{
    for (int i = 0; i < n && depth < MAX_NEST_DEPTH; i++) {
        Stmt *s = stmts[i];
        if (s->kind == ST_TYPEDEF) {
            if (attr_has(s->attrs, A_ENCODE) || attr_has(s->attrs, A_DECODE))
                return true;
            for (int j = 0; j < s->ndecls; j++)
                if (attr_has(s->decls[j]->attrs, A_ENCODE) || attr_has(s->decls[j]->attrs, A_DECODE))
                    return true;
        } else if ((s->kind == ST_INTERFACE || s->kind == ST_MODULE) && s->type) {
            if (uses_serialization(TX(s->type)->stmts, TX(s->type)->nstmts, depth + 1))
                return true;
        } else if (s->kind == ST_LIBRARY || s->kind == ST_NAMESPACE) {
            if (uses_serialization(s->stmts, s->nstmts, depth + 1))
                return true;
        }
    }
    return false;
}

static bool has_winrt(Stmt **stmts, int n)
{
    for (int i = 0; i < n; i++)
        if (stmts[i]->kind == ST_NAMESPACE)
            return true;
    return false;
}

static int write_header(Emitter *ep, Buf *b, const char *header_name)
{
    Emitter e = *ep;
    Compiler *cc = e.cc;
    File *f = cc->main_file;
    char *guard = arena_printf(cc->arena, "__%s__", header_name);
    for (char *p = guard; *p; p++)
        if (!isalnum((unsigned char)*p))
            *p = '_';
    print_banner(&e, b);
    buf_puts(b, "#ifndef __REQUIRED_RPCNDR_H_VERSION__\n#define __REQUIRED_RPCNDR_H_VERSION__ 475\n#endif\n"
                "#include <rpc.h>\n#include <rpcndr.h>\n");
    /* only Windows has the serialization API (libamidlrt has none) */
    if (uses_serialization(f->stmts, f->nstmts, 0))
        buf_puts(b, "#ifdef _WIN32\n#include <midles.h>\n#endif\n");
    buf_puts(b, "\n#if defined(_WIN32) && !defined(COM_NO_WINDOWS_H)\n#include <windows.h>\n#include <ole2.h>\n#endif\n\n");
    buf_printf(b, "#ifndef %s\n#define %s\n\n/* Forward declarations */\n\n", guard, guard);
    print_fwd(&e, b, f->stmts, f->nstmts);
    winrt_print_fwd(&e, b, f->stmts, f->nstmts);
    buf_puts(b, "/* Headers for imported files */\n\n");
    print_imports(&e, b, f->stmts, f->nstmts);
    /* the ACF's include statements, as MIDL writes them */
    File *acf = cc->acf_file;
    for (int i = 0; acf && i < acf->nacf; i++)
        if (acf->acf[i]->kind == ACF_INCLUDE)
            for (int k = 0; k < acf->acf[i]->nitems; k++)
                buf_printf(b, "#include \"%s\"\n", acf->acf[i]->items[k]->name);
    buf_puts(b, "\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n");
    print_stmts(&e, b, f->stmts, f->nstmts, false);
    winrt_print_instances(&e, b, f->stmts, f->nstmts);
    buf_puts(b, "/* Begin additional prototypes for all interfaces */\n\n");
    if (has_winrt(f->stmts, f->nstmts) || e.wr_ns_prefix) {
        /* widl's WinRT headers: the prototypes without empty lines between
         * them, one after them, also when there are none */
        Buf p = {0};
        print_prototypes(&e, &p);
        size_t k = 0;
        for (size_t i = 0; i < p.len; i++)
            if (!(p.data[i] == '\n' && k && p.data[k - 1] == '\n'))
                p.data[k++] = p.data[i];
        p.len = k;
        while (p.len && p.data[p.len - 1] == '\n')
            p.len--;
        if (p.len) {
            buf_write(b, p.data, p.len);
            buf_putc(b, '\n');
        }
        buf_putc(b, '\n');
        buf_free(&p);
    } else {
        print_prototypes(&e, b);
    }
    buf_puts(b, "/* End additional prototypes */\n\n#ifdef __cplusplus\n}\n#endif\n\n");
    buf_printf(b, "#endif /* %s */\n", guard);
    ep->printed = e.printed;
    ep->wr_unprefixed = e.wr_unprefixed;
    ep->wr_contracts = e.wr_contracts;
    ep->wr_defs = e.wr_defs;
    return 0;
}
