/*
 * test_winrt.c - unit tests of the WinRT parameterized-interface code
 * (grammar/winrt.c, grammar/sha1.c): SHA-1 test vectors, version-5 UUIDs
 * of pinterface signatures, and the names, signatures and IIDs of the
 * instances of a small self-contained IDL (the IIDs as widl --winrt
 * writes them for the same text).
 *
 *   test_winrt                      run the checks: "unit: N passed, N failed"
 *   test_winrt [-I DIR]... FILE     compile FILE's front end and print each
 *                                   instance its declare { } blocks name, in
 *                                   order, as widl's header declares its IID:
 *                                   DEFINE_GUID(IID___F..., 0x..., ...);
 *                                   (tests/suites/winrt-generic.sh diffs them)
 *   test_winrt -m [-I DIR]... FILE  the same instances' methods, root first, as
 *                                   widl's C call macros: #define X_M(This,a) ...
 */
#include "amidl.h"

#include <string.h>

static int passed, failed;

#define CHECK(cond, ...) do { \
        if (cond) passed++; \
        else { failed++; printf("FAIL %s:%d: ", __FILE__, __LINE__); printf(__VA_ARGS__); printf("\n"); } \
    } while (0)

static void hex(const uint8_t *h, int n, char *out)
{
    for (int i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", h[i]);
}

static void sha1_case(const char *in, size_t len, const char *want)
{
    uint8_t h[20];
    char got[41];
    sha1(in, len, h);
    hex(h, 20, got);
    CHECK(!strcmp(got, want), "sha1 of %zu bytes: want %s, got %s", len, want, got);
}

static void v5_case(const char *sig, const char *want)
{
    Uuid u;
    char got[37];
    winrt_uuid_v5(sig, &u);
    format_uuid(&u, got);
    CHECK(!strcmp(got, want), "uuid of %s: want %s, got %s", sig, want, got);
}

static void print_guid(const char *name, const Uuid *u)
{
    printf("DEFINE_GUID(IID_%s, 0x%08x, 0x%04x, 0x%04x, 0x%02x,0x%02x, 0x%02x,0x%02x,0x%02x,0x%02x,0x%02x,0x%02x);\n",
           name, u->d1, u->d2, u->d3, u->d4[0], u->d4[1], u->d4[2], u->d4[3], u->d4[4], u->d4[5], u->d4[6],
           u->d4[7]);
}

static Options opt;

static Compiler *fresh(void)
{
    Compiler *cc = compiler_new(&opt);
    cc->nowarn = true;
    pp_define(cc->pp, "__midl", "501");
    pp_define(cc->pp, "__WIDL__", "1");
    pp_define(cc->pp, "_WIN32", "1");
    pp_define(cc->pp, "_WIN64", "1");
    pp_define(cc->pp, "BOOL", "WINBOOL");
    return cc;
}

static void declared_in(Stmt **stmts, int n, void (*fn)(Type *, void *), void *arg, PtrVec *seen)
{
    for (int i = 0; i < n; i++) {
        if (stmts[i]->kind == ST_NAMESPACE)
            declared_in(stmts[i]->stmts, stmts[i]->nstmts, fn, arg, seen);
        else if (stmts[i]->kind == ST_DECLARE)
            for (int j = 0; j < stmts[i]->ndeclared; j++) {
                Type *t = stmts[i]->declared[j];
                bool again = false;
                for (int k = 0; k < seen->n && !again; k++)
                    again = seen->v[k] == t;
                if (again)
                    continue;
                vec_push(seen, t);
                fn(t, arg);
            }
    }
}

/* the instances the file's declare blocks name, each once (a block may
 * name one again: its interface is written once, as widl's) */
static void declared(Stmt **stmts, int n, void (*fn)(Type *, void *), void *arg)
{
    PtrVec seen = {0};
    declared_in(stmts, n, fn, arg, &seen);
    vec_free(&seen);
}

/* the vtable's methods, root first, as widl's C call macros */
static void print_macros(const Type *inst, const Type *t, int depth)
{
    if (!t || depth > 50)
        return;
    print_macros(inst, TX(t)->base, depth + 1);
    for (int i = 0; i < TX(t)->nmethods; i++) {
        const Var *m = TX(t)->methods[i];
        Buf args = {0};
        const Type *fn = m->type;
        for (int k = 0; k < fn->nfields; k++)
            if (fn->fields[k]->name && fn->fields[k]->type && fn->fields[k]->type->kind != TY_VOID)
                buf_printf(&args, ",%s", fn->fields[k]->name);
        buf_putc(&args, 0);
        printf("#define %s_%s(This%s) (This)->lpVtbl->%s(This%s)\n", inst->name, VX(m)->macro_name, args.data,
               VX(m)->c_name, args.data);
        buf_free(&args);
    }
}

static bool macros;

static void print_one(Type *t, void *arg)
{
    (void)arg;
    if (macros) {
        print_macros(t, t, 0);
        return;
    }
    if (TX(t)->winrt_iid)
        print_guid(t->name, TX(t)->winrt_iid);
    else
        printf("no IID: %s\n", t->name);
}

/* ---- the self-contained IDL ---- */

static const char *const idl =
    "namespace N {\n"
    "    [contractversion(1)] apicontract C {};\n"
    "    typedef enum E E;\n"
    "    typedef enum F F;\n"
    "    typedef struct S S;\n"
    "    enum E { E0 = 0 };\n"
    "    [flags] enum F { F0 = 0 };\n"
    "    struct S { INT32 a; DOUBLE b; E c; };\n"
    "    [uuid(11111111-2222-3333-4444-555555555555)]\n"
    "    interface IThing : IInspectable { HRESULT M(); }\n"
    "    [uuid(99999999-2222-3333-4444-555555555555)]\n"
    "    delegate HRESULT Handler();\n"
    "    [contract(N.C, 1)] runtimeclass Thing { [default] interface N.IThing; }\n"
    "    [uuid(33333333-2222-3333-4444-555555555555)]\n"
    "    interface IPair<K, V> : IInspectable { HRESULT Get([out] K *k, [out] V *v); }\n"
    "    [uuid(22222222-2222-3333-4444-555555555555)]\n"
    "    interface IBox<T> : IInspectable {\n"
    "        [propget] HRESULT Value([out, retval] T *value);\n"
    "        HRESULT Pair([in] T a, [out, retval] N.IPair<T, T> **value);\n"
    "    }\n"
    "    declare {\n"
    "        interface N.IBox<INT32>;\n"
    "        interface N.IBox<E>;\n"
    "        interface N.IBox<F>;\n"
    "        interface N.IBox<S>;\n"
    "        interface N.IBox<N.IThing *>;\n"
    "        interface N.IBox<N.Thing *>;\n"
    "        interface N.IBox<N.Handler *>;\n"
    "        interface N.IPair<boolean, DOUBLE>;\n"
    "        interface N.IBox<INT32>;\n"
    "        interface N.IPair<INT32, INT32>;\n"
    "        interface N.IPair<E, E>;\n"
    "        interface N.IPair<F, F>;\n"
    "        interface N.IPair<S, S>;\n"
    "        interface N.IPair<N.IThing *, N.IThing *>;\n"
    "        interface N.IPair<N.Thing *, N.Thing *>;\n"
    "        interface N.IPair<N.Handler *, N.Handler *>;\n"
    "    }\n"
    "}\n";

typedef struct { const char *name, *sig, *iid; } Want;

/* the IIDs widl --winrt writes for the same text */
static const Want wants[] = {
    { "__x_N_CIBox_1_INT32", "pinterface({22222222-2222-3333-4444-555555555555};i4)", "16a87c88-6e2e-5f2d-bb0c-0ee8a180a5d5" },
    { "__x_N_CIBox_1_E", "pinterface({22222222-2222-3333-4444-555555555555};enum(N.E;i4))", "c667e5e8-cf47-50ff-9372-8d6ec1e705c4" },
    { "__x_N_CIBox_1_F", "pinterface({22222222-2222-3333-4444-555555555555};enum(N.F;u4))", "e7ad0d57-7a2d-5cb9-906e-91beeadbf285" },
    { "__x_N_CIBox_1_S", "pinterface({22222222-2222-3333-4444-555555555555};struct(N.S;i4;f8;enum(N.E;i4)))", "2c6483a3-4880-5dc7-81a7-3367c877a3a9" },
    { "__x_N_CIBox_1_N__CIThing", "pinterface({22222222-2222-3333-4444-555555555555};{11111111-2222-3333-4444-555555555555})", "fe6b8f11-ba70-5472-8b78-1d95d3adb132" },
    { "__x_N_CIBox_1_N__CThing", "pinterface({22222222-2222-3333-4444-555555555555};rc(N.Thing;{11111111-2222-3333-4444-555555555555}))", "af7d2693-da1e-5503-9ee2-550695d42439" },
    { "__x_N_CIBox_1_N__CHandler", "pinterface({22222222-2222-3333-4444-555555555555};delegate({99999999-2222-3333-4444-555555555555}))", "9f290f36-e917-5a3e-a8bb-64fe139dc7d3" },
    { "__x_N_CIPair_2_boolean_DOUBLE", "pinterface({33333333-2222-3333-4444-555555555555};b1;f8)", "b8fbac8d-77a8-5d52-a7e3-5fddff854654" },
    { "__x_N_CIPair_2_INT32_INT32",
      "pinterface({33333333-2222-3333-4444-555555555555};i4;i4)", "7cc4e918-9db8-5f80-8917-3f535f4ac261" },
    { "__x_N_CIPair_2_E_E",
      "pinterface({33333333-2222-3333-4444-555555555555};enum(N.E;i4);enum(N.E;i4))", "a1ba7758-2bcc-544c-b39d-cdd2523b3a90" },
    { "__x_N_CIPair_2_F_F",
      "pinterface({33333333-2222-3333-4444-555555555555};enum(N.F;u4);enum(N.F;u4))", "a89f9d5c-bd75-56d5-8982-a520657e4678" },
    { "__x_N_CIPair_2_S_S",
      "pinterface({33333333-2222-3333-4444-555555555555};struct(N.S;i4;f8;enum(N.E;i4));struct(N.S;i4;f8;enum(N.E;i4)))", "83c94c1f-843f-5b8b-b697-8718e468060b" },
    { "__x_N_CIPair_2_N__CIThing_N__CIThing",
      "pinterface({33333333-2222-3333-4444-555555555555};{11111111-2222-3333-4444-555555555555};{11111111-2222-3333-4444-555555555555})", "ed840edf-d543-597a-9452-58c628f9bbf0" },
    { "__x_N_CIPair_2_N__CThing_N__CThing",
      "pinterface({33333333-2222-3333-4444-555555555555};rc(N.Thing;{11111111-2222-3333-4444-555555555555});rc(N.Thing;{11111111-2222-3333-4444-555555555555}))", "5abcdb9c-ef20-5637-97b5-cb605f5c9535" },
    { "__x_N_CIPair_2_N__CHandler_N__CHandler",
      "pinterface({33333333-2222-3333-4444-555555555555};delegate({99999999-2222-3333-4444-555555555555});delegate({99999999-2222-3333-4444-555555555555}))", "4de241ff-4543-5af2-8305-9bca8688dfbb" },
};

typedef struct { int i; } Walk;

static void check_one(Type *t, void *arg)
{
    Walk *w = arg;
    int n = (int)(sizeof wants / sizeof *wants);
    if (w->i >= n) {
        CHECK(0, "an instance more than expected: %s", t->name);
        return;
    }
    const Want *x = &wants[w->i++];
    CHECK(!strcmp(t->name, x->name), "instance %d: want %s, got %s", w->i, x->name, t->name);
    CHECK(TX(t)->winrt_signature && !strcmp(TX(t)->winrt_signature, x->sig), "%s: signature want %s, got %s", x->name,
          x->sig, TX(t)->winrt_signature ? TX(t)->winrt_signature : "(none)");
    if (x->iid) {
        char got[37] = "(none)";
        if (TX(t)->winrt_iid)
            format_uuid(TX(t)->winrt_iid, got);
        CHECK(!strcmp(got, x->iid), "%s: IID want %s, got %s", x->name, x->iid, got);
    }
}

static void unit_idl(void)
{
    Compiler *cc = fresh();
    cc->silent = true;
    const char *base = "import \"unknwn.idl\";\n"
                       "[object, uuid(af86e2e0-b12d-4c6a-9c5a-d7aa65101e90)]\n"
                       "interface IInspectable : IUnknown { HRESULT GetIids(); HRESULT GetRuntimeClassName(); HRESULT GetTrustLevel(); }\n";
    Buf text = {0};
    buf_puts(&text, base);
    buf_puts(&text, idl);
    pp_add_include_dir(cc->pp, "runtime/idl");
    File *f = compiler_load_text(cc, "t.idl", text.data, text.len);
    int errs = f ? sema_check(cc) : -1;
    CHECK(f && errs == 0 && cc->errors == 0, "the unit IDL compiles (%d errors)", cc->errors);
    if (f) {
        Walk w = {0};
        declared(f->stmts, f->nstmts, check_one, &w);
        CHECK(w.i == (int)(sizeof wants / sizeof *wants), "%d instances declared, want %d (a repeat dropped)", w.i,
              (int)(sizeof wants / sizeof *wants));
        /* the methods, substituted: IBox<INT32>'s Value is get_Value(INT32 *), Pair returns IPair<INT32, INT32> */
        Type *box = NULL, *pair = NULL;
        for (int i = 0; i < cc->winrt_instances.n; i++) {
            Type *t = cc->winrt_instances.v[i];
            if (!strcmp(t->name, "__x_N_CIBox_1_INT32"))
                box = t;
            if (!strcmp(t->name, "__x_N_CIPair_2_INT32_INT32"))
                pair = t;
        }
        CHECK(box && TX(box)->nmethods == 2, "__x_N_CIBox_1_INT32 has 2 methods");
        CHECK(pair && TX(pair)->nmethods == 1 && TX(pair)->winrt_iid, "__x_N_CIPair_2_INT32_INT32 (named by a method too) is completed");
        if (box && TX(box)->nmethods == 2) {
            Var *m = TX(box)->methods[0];
            CHECK(!strcmp(VX(m)->c_name, "get_Value") && VX(m)->owner == box, "method 0 is get_Value, got %s", VX(m)->c_name);
            Type *p = m->type->fields[0]->type;
            CHECK(p->kind == TY_POINTER && p->ref->name && !strcmp(p->ref->name, "INT32"), "get_Value takes INT32 *");
            Type *r = TX(box)->methods[1]->type->fields[1]->type;
            CHECK(r->kind == TY_POINTER && r->ref->kind == TY_POINTER && r->ref->ref == pair,
                  "Pair returns the one __x_N_CIPair_2_INT32_INT32 Type");
            CHECK(TX(box)->base && TX(box)->base->name && !strcmp(TX(box)->base->name, "IInspectable"), "base IInspectable");
            CHECK(VX(TX(box)->methods[0])->vtbl_index == 6, "get_Value in slot 6, got %d", VX(TX(box)->methods[0])->vtbl_index);
            Attr *u = attr_find(box->attrs, A_UUID);
            CHECK(u && u->uuid == TX(box)->winrt_iid, "the uuid attribute holds the IID");
        }
    }
    buf_free(&text);
    compiler_free(cc);
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        Compiler *cc = fresh();
        const char *file = NULL;
        for (int i = 1; i < argc; i++) {
            if (!strcmp(argv[i], "-m"))
                macros = true;
            else if (!strcmp(argv[i], "-I") && i + 1 < argc)
                pp_add_include_dir(cc->pp, argv[++i]);
            else
                file = argv[i];
        }
        File *f = file ? compiler_load_main(cc, file) : NULL;
        if (!f || sema_check(cc) || cc->errors) {
            fprintf(stderr, "test_winrt: %s does not compile\n", file ? file : "(no file)");
            return 1;
        }
        declared(f->stmts, f->nstmts, print_one, NULL);
        compiler_free(cc);
        return 0;
    }
    sha1_case("", 0, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    sha1_case("abc", 3, "a9993e364706816aba3e25717850c26c9cd0d89d");
    sha1_case("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
              "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    static char million[1000000];
    memset(million, 'a', sizeof million);
    sha1_case(million, sizeof million, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
    /* 55, 56 and 64 bytes: the padding's edges */
    sha1_case(million, 55, "c1c8bbdc22796e28c0e15163d20899b65621d65a");
    sha1_case(million, 56, "c2db330f6083854c99d4b5bfb6e8f29f201be699");
    sha1_case(million, 63, "03f09f5b158a7a8cdad920bddc29b81c18a551f5");
    sha1_case(million, 64, "0098ba824b5c16427bd7a1122a5a442a25ec644d");
    sha1_case(million, 65, "11655326c708d70319be2610e8a57d9a5b959d3b");
    /* IIDs of widl --winrt's windows.foundation.h */
    v5_case("pinterface({913337e9-11a1-4345-a3a2-4e7f956e222d};string)", "98b9acc1-4b56-532e-ac73-03d5291cca90");
    v5_case("pinterface({913337e9-11a1-4345-a3a2-4e7f956e222d};cinterface(IInspectable))",
            "b32bdca4-5e52-5b27-bc5d-d66a1a268c2a");
    unit_idl();
    printf("unit: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
