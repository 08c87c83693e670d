/*
 * emit_iid.c - FILE_i.c: the IID/CLSID/LIBID/DIID definitions of the main
 * file in MIDL's _i.c style (MIDL_DEFINE_GUID), including every
 * IID_AsyncIFoo; linkable from C and C++. For WinRT, what widl -u writes:
 * the IIDs of the interfaces of namespaces, in order (not those of
 * delegates or generic definitions), then those of the instances the
 * file's declare { } blocks name, each once. They are named as the
 * header's DEFINE_GUIDs declare them (IID___x_ABI_CWindows_CFoundation_CIFoo,
 * IID___FIVector_1_HSTRING), where widl's _i.c writes IID_IFoo and
 * IID_IVector<HSTRING >: names that are not the header's, and that do not
 * compile.
 */
#include "emit.h"

#include <string.h>

static void define_named(Buf *b, const char *type, const char *name, Uuid *u)
{
    buf_printf(b, "MIDL_DEFINE_GUID(%s, %s, ", type, name);
    guid_args(b, u);
    buf_puts(b, ");\n");
}

static void define(Buf *b, const char *type, const char *prefix, Type *t, Uuid *u)
{
    if (!u)
        return;
    buf_printf(b, "MIDL_DEFINE_GUID(%s, %s%s, ", type, prefix, t->name);
    guid_args(b, u);
    buf_puts(b, ");\n");
}

/* the WinRT IIDs named once each (a declare { } block may name an
 * instance twice: a second definition would not compile) */
static void define_winrt(Emitter *e, Buf *b, PtrVec *done, Type *t)
{
    const char *name = winrt_iid_name(e, t);
    if (!name)
        return;
    for (int i = 0; i < done->n; i++)
        if (!strcmp(done->v[i], name))
            return;
    vec_push(done, (void *)name);
    define_named(b, "IID", name, type_uuid(t));
}

static void walk(Emitter *e, Buf *b, Stmt **stmts, int n, PtrVec *inst, PtrVec *done)
{
    for (int i = 0; i < n; i++) {
        Stmt *s = stmts[i];
        switch (s->kind) {
        case ST_NAMESPACE:
            walk(e, b, s->stmts, s->nstmts, inst, done);
            break;
        case ST_DECLARE:
            for (int k = 0; k < s->ndeclared; k++)
                vec_push(inst, s->declared[k]);
            break;
        case ST_INTERFACE:
            if (TX(s->type)->ns) {
                define_winrt(e, b, done, s->type);
            } else if (TX(s->type)->is_object) {
                define(b, "IID", "IID_", s->type, type_uuid(s->type));
                if (TX(s->type)->async_iface)
                    define(b, "IID", "IID_", TX(s->type)->async_iface, type_uuid(TX(s->type)->async_iface));
            }
            break;
        case ST_DISPINTERFACE:
            define(b, "IID", "DIID_", s->type, type_uuid(s->type));
            break;
        case ST_COCLASS:
            define(b, "CLSID", "CLSID_", s->type, type_uuid(s->type));
            break;
        case ST_LIBRARY: {
            Attr *a = attr_find(s->attrs, A_UUID);
            if (a && a->uuid)
                define(b, "IID", "LIBID_", s->type, a->uuid);
            walk(e, b, s->stmts, s->nstmts, inst, done);
            break;
        }
        default:
            break;
        }
    }
}

int emit_iid(Compiler *cc, Buf *b)
{
    Emitter e;
    if (!emitter_init(&e, cc))
        return -1;
    print_banner(&e, b);
    buf_puts(b, "#include <rpc.h>\n#include <rpcndr.h>\n\n"
                "#ifdef _MIDL_USE_GUIDDEF_\n\n"
                "#ifndef INITGUID\n#define INITGUID\n#include <guiddef.h>\n#undef INITGUID\n#else\n#include <guiddef.h>\n#endif\n\n"
                "#define MIDL_DEFINE_GUID(type,name,l,w1,w2,b1,b2,b3,b4,b5,b6,b7,b8) \\\n"
                "    DEFINE_GUID(name,l,w1,w2,b1,b2,b3,b4,b5,b6,b7,b8)\n\n"
                "#elif defined(__cplusplus)\n\n"
                "#define MIDL_DEFINE_GUID(type,name,l,w1,w2,b1,b2,b3,b4,b5,b6,b7,b8) \\\n"
                "    EXTERN_C const type DECLSPEC_SELECTANY name = {l,w1,w2,{b1,b2,b3,b4,b5,b6,b7,b8}}\n\n"
                "#else\n\n"
                "#define MIDL_DEFINE_GUID(type,name,l,w1,w2,b1,b2,b3,b4,b5,b6,b7,b8) \\\n"
                "    const type DECLSPEC_SELECTANY name = {l,w1,w2,{b1,b2,b3,b4,b5,b6,b7,b8}}\n\n"
                "#endif\n\n"
                "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n");
    winrt_init(&e);
    PtrVec inst = {0}, done = {0};
    walk(&e, b, cc->main_file->stmts, cc->main_file->nstmts, &inst, &done);
    for (int i = 0; i < inst.n; i++)
        define_winrt(&e, b, &done, inst.v[i]);
    vec_free(&inst);
    vec_free(&done);
    winrt_free(&e);
    buf_puts(b, "\n#ifdef __cplusplus\n}\n#endif\n\n#undef MIDL_DEFINE_GUID\n");
    return 0;
}
