/*
 * amidl.h - the table of contents of the compiler.
 *
 * The passes run in a straight line (codegen/main.c; the driver's own parts
 * are in codegen/driver.h):
 *   pp.c      preprocessor: files -> one text buffer with # line markers
 *   lexer.l   reentrant flex scanner over that text
 *   parser.y  pure bison parser; builds the tree through ast.c constructors,
 *             and parses imported files on the spot (each file once)
 *   load.c    the compilation's files: the main file and each import once
 *   scope.c   scopes and symbols (also the lexer's type-name lookup)
 *   fold.c    constant folding
 *   sema.c    type resolution, attribute and declaration checks
 *   async.c   asynchronous interfaces (AsyncIFoo) from [async_uuid]
 *   glue.c    lowering of the call-object glue (FILE_async.c): every decision
 *   emit_*.c  print the checked model; they never re-derive semantics
 *
 * All nodes, strings and tokens of one compilation live in one arena
 * (Compiler.arena) and are freed at once.
 */
#ifndef AMIDL_H
#define AMIDL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdbool.h>
#include <string.h>

#define AMIDL_VERSION "0.2.0"

/* Resource limits (see README "Limits"). */
#define MAX_INCLUDE_DEPTH   200
#define MAX_EXPAND_DEPTH    256
#define MAX_EXPAND_TOKENS   (1024u * 1024)      /* tokens produced by one macro expansion */
#define MAX_EXPAND_RATIO    64u                 /* a run: MAX_EXPAND_TOKENS + this many per token read */
#define MAX_NEST_DEPTH      256                 /* declarations and expressions */
#define MAX_FILE_SIZE       (64L * 1024 * 1024)
#define MAX_ERRORS          20

typedef struct Compiler Compiler;
struct File;
typedef struct Type Type;
typedef struct Var Var;
typedef struct Expr Expr;
typedef struct Attr Attr;
typedef struct Stmt Stmt;
typedef struct Scope Scope;
typedef struct Symbol Symbol;

/* ====================================================================
 * util.c: arena, strings, growable buffers, allocation hook
 */
typedef struct Arena Arena;
Arena *arena_new(void);
void arena_free(Arena *a);
void arena_reset(Arena *a);                     /* free everything allocated, keep the arena */
void *arena_alloc(Arena *a, size_t n);          /* zero-filled, never NULL */
char *arena_strdup(Arena *a, const char *s);
char *arena_strndup(Arena *a, const char *s, size_t n);
char *arena_printf(Arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Every heap allocation of the compiler goes through these; a test hook
 * (AMIDL_FAIL_ALLOC=N) makes the Nth one fail, which ends the run with
 * "out of memory", exit 1, and no output written. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
void out_of_memory(void) __attribute__((noreturn));
extern void (*oom_handler)(void);

/* A growable byte buffer. With spill set, a buffer written only forward (an
 * output) hands its full chunks to spill->flush instead of growing past
 * spill->limit: what flush took is gone from data (spill->spilled bytes). */
typedef struct BufSpill {
    size_t limit;           /* flush when the text would grow past this */
    size_t spilled;         /* bytes flushed so far */
    bool off;               /* flush declined once: stay in memory from then on */
    bool (*flush)(struct BufSpill *sp, const char *p, size_t n);  /* false: keep it in memory */
} BufSpill;
typedef struct Buf { char *data; size_t len, cap; BufSpill *spill; } Buf;
/* room for extra more bytes and the NUL (util.c; spills, or grows) */
void buf_grow(Buf *b, size_t extra);
/* the byte and text writers: inline, as the preprocessor prints a token at a time */
static inline void buf_putc(Buf *b, int c)
{
    if (b->len + 2 > b->cap)
        buf_grow(b, 1);
    b->data[b->len++] = (char)c;
    b->data[b->len] = 0;
}
static inline void buf_write(Buf *b, const void *p, size_t n)
{
    if (b->len + n + 1 > b->cap)
        buf_grow(b, n);
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = 0;
}
/* n copies of c (the preprocessor's padding to a token's column) */
static inline void buf_fill(Buf *b, int c, size_t n)
{
    if (b->len + n + 1 > b->cap)
        buf_grow(b, n);
    memset(b->data + b->len, c, n);
    b->len += n;
    b->data[b->len] = 0;
}
void buf_puts(Buf *b, const char *s);
void buf_printf(Buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(Buf *b, const char *fmt, va_list ap);
void buf_free(Buf *b);

/* A growable array of pointers. */
typedef struct PtrVec { void **v; int n, cap; } PtrVec;
void vec_push(PtrVec *pv, void *p);
void vec_free(PtrVec *pv);

/* ====================================================================
 * diag.c: diagnostics
 */
typedef struct Loc { const char *file; int line, col; } Loc;

typedef enum { DIAG_ERROR, DIAG_WARNING, DIAG_NOTE } DiagKind;

/* The warnings, one table (diag.def): -Wname / -Wno-name / -Werror=name. */
typedef enum {
#define WARNING(id, name, on, code, help) W_##id,
#include "diag.def"
#undef WARNING
    W_COUNT
} Warning;

void error_at(Compiler *cc, Loc loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void warning_at(Compiler *cc, Warning w, Loc loc, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void note_at(Compiler *cc, Loc loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void vreport(Compiler *cc, DiagKind k, Warning w, Loc loc, const char *fmt, va_list ap);
void fatal(Compiler *cc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Register a source file's text so diagnostics can print the line. */
void diag_add_source(Compiler *cc, const char *name, const char *text, size_t len);
int diag_finish(Compiler *cc);    /* the error count so far (prints nothing) */
void diag_summary(Compiler *cc);  /* "N warnings and N errors generated." once, at the end */
void diag_configure(Compiler *cc); /* which warnings are on and which are errors (from cc->opt) */
/* The warning table, for the command line and --help. */
int warning_lookup(const char *name);       /* W_xxx, or -1 */
const char *warning_name(Warning w);
const char *warning_help(Warning w);
bool warning_default(Warning w);
int warning_code(Warning w);

/* ====================================================================
 * pp.c: preprocessor
 */
typedef struct PP PP;
PP *pp_new(Compiler *cc);
void pp_define(PP *pp, const char *name, const char *value);  /* -D NAME[=VAL] */
void pp_undef(PP *pp, const char *name);
void pp_add_include_dir(PP *pp, const char *dir);
/* Preprocess one file (path as given or found) into out. Returns 0 on success. */
int pp_file(PP *pp, const char *path, Buf *out);
/* Preprocess text held in memory under the given file name. */
int pp_text(PP *pp, const char *name, const char *text, size_t len, Buf *out);
/* Find a file on the include path, relative to 'from' first; NULL if not found. */
const char *pp_find(PP *pp, const char *name, const char *from, bool angled);
/* The -I directories (then AMIDL_INCLUDE's, then the base IDL's), in search order. */
const PtrVec *pp_include_dirs(PP *pp);
/* Evaluate a #if expression (for unit tests). Returns 0 on success. */
int pp_eval_string(PP *pp, const char *expr, long long *result);
void pp_free(PP *pp);
void *pp_push_state(PP *pp);             /* fresh macro table for an import */
void pp_pop_state(PP *pp, void *state);
void pp_set_dep_owner(PP *pp, struct File *f);
void pp_files_read(PP *pp, PtrVec *out);

/* ====================================================================
 * The tree (types only; constructors in ast.c, resolution in sema.c)
 */
typedef struct Uuid { uint32_t d1; uint16_t d2, d3; uint8_t d4[8]; } Uuid;

typedef enum {
    EX_NUM, EX_FLOAT, EX_STR, EX_WSTR, EX_CHAR, EX_IDENT, EX_UNARY, EX_BINARY,
    EX_TERNARY, EX_CAST, EX_SIZEOF, EX_MEMBER, EX_PMEMBER, EX_INDEX, EX_EMPTY,
    EX_TRUE, EX_FALSE, EX_NULL, EX_UUID,
} ExprKind;

struct Expr {
    ExprKind kind;
    int op;                 /* operator token for UNARY/BINARY ('+', SHL, ...) */
    Expr *a, *b, *c;
    const char *text;       /* identifier, string, the number as written */
    long long val;          /* EX_NUM value */
    Type *type;             /* EX_CAST / EX_SIZEOF */
    Var *ref;               /* EX_IDENT resolved to an enum constant, const or parameter */
    Uuid *uuid;
    Loc loc;
    bool is_unsigned, is_hex;
};
/* operator codes for two-character operators */
enum { OP_SHL = 256, OP_SHR, OP_LE, OP_GE, OP_EQ, OP_NE, OP_ANDAND, OP_OROR, OP_NEG, OP_POS,
       OP_NOT, OP_BITNOT, OP_DEREF, OP_ADDR };

typedef enum {
#define ATTR(id, name, args, where) A_##id,
#include "attrs.def"
#undef ATTR
    A_UNKNOWN,
} AttrKind;

/* Where an attribute may stand (bit mask). */
enum {
    AW_IFACE = 1 << 0, AW_METHOD = 1 << 1, AW_PARAM = 1 << 2, AW_FIELD = 1 << 3,
    AW_TYPEDEF = 1 << 4, AW_COCLASS = 1 << 5, AW_LIBRARY = 1 << 6, AW_MODULE = 1 << 7,
    AW_ENUMVAL = 1 << 8, AW_DISPIFACE = 1 << 9, AW_WINRT = 1 << 10, AW_STRUCT = 1 << 11,
    AW_UNION_CASE = 1 << 12, AW_COCLASS_ITEM = 1 << 13, AW_FUNC = 1 << 14,
    AW_ANY = 0x7fff,
};

struct Attr {
    const char *name;
    Loc loc;
    Expr **args;            /* arguments (expressions; type arguments are EX_CAST with no operand) */
    Uuid *uuid;             /* uuid / async_uuid */
    Attr *next;
    AttrKind kind;
    int nargs;
};

typedef enum {
    TY_VOID, TY_BASIC, TY_ENUM, TY_STRUCT, TY_UNION, TY_ENCUNION, TY_POINTER, TY_ARRAY,
    TY_FUNCTION, TY_ALIAS, TY_INTERFACE, TY_DISPINTERFACE, TY_COCLASS, TY_MODULE,
    TY_RUNTIMECLASS, TY_DELEGATE, TY_APICONTRACT, TY_PARAMETERIZED, TY_PARAM, TY_BITFIELD,
    TY_LIBRARY, TY_NAMED, TY_ATTRIBUTE,   /* TY_NAMED: a reference not resolved yet (sema resolves) */
} TypeKind;

typedef enum {
    B_CHAR, B_SMALL, B_SHORT, B_INT, B_LONG, B_HYPER, B_INT64, B_INT32, B_INT3264, B_INT8,
    B_INT16, B_INT128, B_FLOAT, B_DOUBLE, B_BOOLEAN, B_BYTE, B_WCHAR, B_HANDLE, B_ERROR_STATUS,
} BasicKind;

enum { Q_CONST = 1, Q_VOLATILE = 2 };

/* Pointer kinds (attribute or pointer_default). */
typedef enum { PTR_NONE, PTR_REF, PTR_UNIQUE, PTR_FULL } PtrKind;

/* What only some types need (interface-likes, WinRT, functions,
 * encapsulated unions, anonymous tags): Type.x, NULL until a field of it
 * is written (#13: a structure's five Types held 1.5 KiB when every Type
 * had all of these). Read through TX(t) (a zeroed TypeExt when there is
 * none), written through TXW(cc, t) (made on first use). */
typedef struct TypeExt {
    const char *qname;      /* WinRT: name with namespace, '.'-separated; NULL: the name (type_qname) */
    Scope *ns;              /* WinRT namespace this type lives in (NULL: global) */
    Expr *size;             /* array size (NULL: [] or [*]); bitfield width */
    const char *callconv;   /* function: "__stdcall", "__cdecl", "__fastcall", "__pascal", or a macro
                             * (WINAPI, ...) as written; NULL: none written */
    Var *switch_var;        /* encapsulated union discriminant */
    const char *union_name; /* encapsulated union member name */
    /* interface-likes */
    Type *base;             /* inherited interface */
    Type *incomplete_base;  /* imported: the base declared but never defined (widl accepts it there) */
    Var **methods;          /* own methods (TY_FUNCTION vars) */
    Stmt **stmts;           /* statements nested in the interface / module / library / namespace */
    Type **ifaces;          /* coclass/runtimeclass members, 'requires' list */
    Attr **iface_attrs;     /* per member attributes of ifaces[] */
    Type *async_iface;      /* [async_uuid] -> synthesized AsyncIFoo */
    Type *sync_iface;       /* AsyncIFoo -> IFoo */
    /* parameterized (WinRT) */
    Type **params;          /* TY_PARAMETERIZED: formal params (TY_PARAM); instance: actual args */
    Type *generic;          /* instance -> its parameterized definition */
    struct GlueIface *glue; /* glue.c: the lowered call-object glue ([async_uuid] interfaces) */
    const char *gen_name;   /* emitters: generated tag of an anonymous type */
    /* WinRT instances (winrt.c): an instance of a parameterized interface
     * (IVector<HSTRING>) is a TY_INTERFACE named by its C name
     * (__FIVector_1_HSTRING), ->generic its definition, ->params the
     * arguments; winrt_complete gives it ->methods, ->base, ->ifaces with
     * the parameters substituted and a uuid attribute holding winrt_iid */
    Uuid *winrt_iid;        /* the IID computed from the signature (NULL: not computable) */
    const char *winrt_signature;    /* "pinterface({...};string)" */
    Type *winrt_next;       /* the intern table's bucket chain */
    Loc *winrt_iface_locs;  /* runtimeclass: where each of ifaces[] is named */
    const struct File *winrt_seen;  /* the file whose declare { } named it last (repeats dropped) */
    int nmethods;
    int nstmts;
    int nifaces;
    int nparams;
    int gen_id;             /* stable number for anonymous tags */
    int winrt_depth;        /* instance: 0, or 1 + the deepest instance among its arguments */
    unsigned char sema_state;   /* interfaces: 1 being checked, 2 checked (a base defined later goes first) */
    bool named_as_base;     /* declared by its use as a base before any declaration (MIDL accepts it) */
    bool is_async;          /* synthesized twin */
    bool is_object;
    bool is_hand_async;     /* AsyncIUnknown: declared in IDL, treated as async */
    bool winrt_concrete;    /* no type parameter among the arguments: interned, completed */
    bool winrt_done;        /* completed */
    bool winrt_flags;       /* enum: [flags] (signature u4) */
    bool winrt_reported;    /* instance: "not declared" reported */
} TypeExt;

struct Type {
    /* (pointers first, then the packed kinds and flags: 64 bytes) */
    const char *name;       /* tag, typedef or interface name (C name) */
    Loc loc;
    Attr *attrs;
    /* pointer / array / alias / function return / bitfield base */
    Type *ref;
    /* struct, union, encapsulated union, enum, function params, dispinterface properties */
    Var **fields;
    TypeExt *x;             /* the rest (above), or NULL */
    TypeKind kind : 8;
    BasicKind basic : 5;    /* basic */
    signed int sign : 2;    /* -1 unsigned, 1 signed written, 0 plain */
    unsigned ref_qual : 2;  /* qualifiers of *ref (Q_CONST | Q_VOLATILE) */
    bool conformant : 1;    /* array written [] / [*] */
    bool defined : 1;       /* struct/union/enum/interface body seen */
    bool declared_only : 1; /* forward declaration only (so far) */
    bool imported : 1;      /* declared in an imported file */
    bool checked : 1;
    int nfields;
};
_Static_assert(B_ERROR_STATUS < 32 && TY_ATTRIBUTE < 128, "Type's kind bit-fields hold every kind");

extern const TypeExt type_ext_none;
TypeExt *type_ext(Compiler *cc, Type *t);      /* ast.c: t->x, made if need be */
static inline const TypeExt *TX(const Type *t) { return t->x ? t->x : &type_ext_none; }
static inline TypeExt *TXW(Compiler *cc, Type *t) { return t->x ? t->x : type_ext(cc, t); }
static inline const char *type_qname(const Type *t) { return t->x && t->x->qname ? t->x->qname : t->name; }

/* What only methods and union arms need: Var.x, NULL until written
 * (#13: five Vars a typedef'd structure, fields and declarators, had
 * 56 bytes each of these). Read through VX(v), written through VXW(cc, v). */
typedef struct VarExt {
    Expr *init;             /* const value / enum value / default */
    Expr **case_exprs;      /* encapsulated/non-encapsulated union: case(...) values */
    Type *owner;            /* interface owning a method */
    Var *orig;              /* Begin_/Finish_ method -> the sync method */
    const char *c_name;     /* method: its name in the C vtable (get_X, IFoo_X for overloads) */
    const char *macro_name; /* method: name used in IFoo_<macro_name> call macros */
    int ncases;
    int vtbl_index;         /* method slot (-1: none) */
    bool is_default_case;
} VarExt;

struct Var {
    /* (pointers first, then the qualifiers and flags: 64 bytes) */
    const char *name;       /* may be NULL (abstract declarator) */
    Type *type;
    Attr *attrs;
    Loc loc;
    long long value;        /* evaluated enum/const value */
    VarExt *x;              /* the rest (above: the initializer, ...), or NULL */
    unsigned qual : 2;      /* Q_CONST | Q_VOLATILE */
    bool has_value : 1;
    bool defines_type : 1;  /* field whose decl-spec defines a struct/union/enum body */
};

extern const VarExt var_ext_none;
VarExt *var_ext(Compiler *cc, Var *v);          /* ast.c: v->x, made if need be */
static inline const VarExt *VX(const Var *v) { return v->x ? v->x : &var_ext_none; }
static inline VarExt *VXW(Compiler *cc, Var *v) { return v->x ? v->x : var_ext(cc, v); }

typedef enum {
    ST_TYPEDEF, ST_TYPE,     /* ST_TYPE: struct/union/enum defined or declared alone */
    ST_DECL,                 /* function prototype or variable declaration */
    ST_CONST, ST_IMPORT, ST_IMPORTLIB, ST_CPPQUOTE, ST_PRAGMA, ST_INTERFACE,
    ST_IFACE_FWD, ST_COCLASS, ST_COCLASS_FWD, ST_MODULE, ST_LIBRARY, ST_DISPINTERFACE,
    ST_NAMESPACE, ST_RUNTIMECLASS, ST_DELEGATE, ST_APICONTRACT, ST_DECLARE, ST_MIDL_PRAGMA,
    ST_INCLUDE_MARK, ST_ATTRIBUTE,
} StmtKind;

struct Stmt {
    /* (pointers first, then ints, then flags: 96 bytes) */
    Loc loc;
    Type *type;             /* defined/declared type, decl-spec of typedef */
    Var **decls;            /* typedef declarators, decl / const */
    const char *text;       /* cpp_quote text, pragma line, import file name */
    struct File *file;      /* ST_IMPORT: the imported file */
    Stmt **stmts;           /* library / namespace / module bodies */
    Attr *attrs;
    Type **declared;        /* ST_DECLARE instances */
    StmtKind kind;
    unsigned qual;
    int ndecls;
    int nstmts;
    int ndeclared;
    bool defines_type;      /* the typedef's decl-spec was written with a body here */
};

/* An ACF file's statement (acf.c merges them into the IDL's declarations):
 * an interface, a typedef or a method of it, a parameter of the method. */
typedef enum { ACF_INTERFACE, ACF_TYPEDEF, ACF_METHOD, ACF_PARAM, ACF_INCLUDE } AcfKind;
typedef struct AcfItem {
    AcfKind kind;
    const char *name;       /* ACF_INCLUDE: the file named (the statement's items are its files) */
    Attr *attrs;
    Loc loc;
    struct AcfItem **items; /* interface: its typedefs and methods; method: its parameters */
    int nitems;
} AcfItem;

/* One source file of a compilation (the main file and each import). */
typedef struct File {
    const char *name;       /* as written in the import / on the command line */
    const char *path;       /* resolved path */
    const char *base;       /* basename without extension (header guards, output names) */
    Stmt **stmts;
    int nstmts;
    bool parsed, parsing;
    bool is_c_header;       /* imported .h file */
    PtrVec deps;            /* files #included or imported while reading (for -MD) */
    bool is_acf;            /* an ACF file: parsed into acf[] */
    AcfItem **acf;
    int nacf;
} File;

/* ====================================================================
 * Scopes and symbols (functions in scope.c, below)
 */

/* A name -> object table (scope.c): open addressing, a slot the object's
 * pointer (8 bytes; the name is the object's first member), at most 3/4
 * full (#13: uthash's 72 bytes an entry were 216 bytes of every typedef'd
 * structure). */
typedef struct SymTab { uintptr_t *slots; unsigned cap, n; } SymTab;

struct Scope {
    const char *name;       /* namespace name component */
    const char *qname;      /* full dotted name */
    Scope *parent;
    SymTab syms;            /* ordinary identifiers (types, constants) */
    SymTab tags;            /* struct/union/enum tags */
    SymTab children;        /* nested namespaces */
    SymTab consts;          /* constants and enum values */
    int ntypes;
    Type *contract_owner;
};

/* ====================================================================
 * The compiler context: everything one compilation owns (sema.c creates and
 * frees it; codegen/options.c fills Options from the command line).
 */
typedef struct Options {
    const char *input;
    const char **include_dirs; int ninclude;
    const char **defines; int ndefines;     /* "NAME" or "NAME=VAL", "-NAME" for -U */
    bool preprocess_only, check_only;
    const char *outdir, *header, *iid, *glue, *depfile, *deptarget;
    bool no_header, no_iid, no_glue, dep_md, dep_mp;
    bool win32;
    bool werror, no_warnings;
    signed char warn[W_COUNT];          /* -Wname 1, -Wno-name -1, 0: the table's default */
    signed char warn_error[W_COUNT];    /* -Werror=name 1, -Wno-error=name -1, 0: as -Werror */
    int color;              /* -1 auto, 0 never, 1 always */
    bool msvc_format;
    bool verify, write_if_changed;
    bool no_banner_version;     /* "Generated by amidl from X": golden files survive an upgrade */
    const char *acf;            /* --acf FILE, /acf FILE (else FILE.acf beside the input, if there) */
} Options;

struct Compiler {
    Arena *arena;
    Options *opt;
    PP *pp;
    Scope *global;
    File *main_file;
    File *acf_file;         /* the main file's ACF, applied (its include statements go into the header) */
    PtrVec files;           /* every File of the compilation */
    int errors, warnings;
    bool color;
    bool msvc;
    bool werror, nowarn;
    bool warn_on[W_COUNT];      /* which warnings are reported */
    bool warn_err[W_COUNT];     /* which of them are errors (-Werror, -Werror=name) */
    bool summary_done;          /* diag_summary printed */
    void *sources;          /* diag.c: file name -> text (for source lines) */
    int anon_counter;
    PtrVec async_ifaces;    /* synthesized AsyncIFoo types, in order */
    int depth;              /* parser nesting depth guard */
    Type *basic_types[(B_ERROR_STATUS + 1) * 3];   /* shared basic type nodes */
    bool no_exit;           /* in-process use (fuzzing): never exit on too many errors */
    bool silent;            /* count diagnostics, print none */
    PtrVec scopes;          /* every scope, for freeing their hash tables */
    PtrVec heap_lists;      /* parser.y: the Lists grown on the heap (their arrays are freed with the compiler) */
    struct ChainTable *iface_chains;    /* sema.c: each named interface's base-chain facts */
    /* load.c: the files being read */
    int import_depth;
    PtrVec loading;         /* files whose reading has begun and not ended (import cycles) */
    const char *main_text;  /* compiler_load_text: the main file's text */
    size_t main_len;
    /* winrt.c: every concrete parameterized-interface instance, in order of creation */
    PtrVec winrt_instances;
    Type **winrt_buckets;   /* intern table by C name (arena) */
    bool winrt_ns_prefix;   /* #pragma winrt ns_prefix seen: C names of namespaces start ABI_C */
    bool winrt_too_deep;    /* the nesting error was reported */
    PtrVec winrt_uses;      /* WinrtUse: instances named outside generics, and declared, in parse order */
};

Compiler *compiler_new(Options *opt);      /* load.c */
void compiler_free(Compiler *cc);

/* ====================================================================
 * ast.c: constructors
 */
Expr *new_expr(Compiler *cc, ExprKind k, Loc loc);
Expr *new_num(Compiler *cc, const char *text, Loc loc);
Expr *new_binary(Compiler *cc, int op, Expr *a, Expr *b, Loc loc);
Expr *new_unary(Compiler *cc, int op, Expr *a, Loc loc);
Attr *new_attr(Compiler *cc, const char *name, Loc loc);
Attr *attr_append(Attr *list, Attr *a);
Attr *attr_find(const Attr *list, AttrKind k);
bool attr_has(const Attr *list, AttrKind k);
const char *attr_name(AttrKind k);
unsigned attr_where(AttrKind k);
AttrKind attr_lookup(const char *name);
Type *new_type(Compiler *cc, TypeKind k, const char *name, Loc loc);
Type *new_basic(Compiler *cc, BasicKind b, int sign, Loc loc);
Type *new_pointer(Compiler *cc, Type *ref, unsigned qual, Loc loc);
Type *new_array(Compiler *cc, Type *elem, unsigned qual, Expr *size, Loc loc);
Var *new_var(Compiler *cc, const char *name, Loc loc);
Var *copy_var(Compiler *cc, const Var *v);      /* with a VarExt of its own */
Stmt *new_stmt(Compiler *cc, StmtKind k, Loc loc);
void push_var(Compiler *cc, Var ***v, int *n, Var *x);
void push_stmt(Compiler *cc, Stmt ***v, int *n, Stmt *s);
void push_type(Compiler *cc, Type ***v, int *n, Type *t);
bool parse_uuid(const char *s, Uuid *u);
void format_uuid(const Uuid *u, char out[37]);

/* type helpers used by sema and the emitters */
Type *type_strip_alias(Type *t);            /* follow typedefs */
bool type_is_interface(const Type *t);
bool type_is_pointer(const Type *t);        /* pointer after typedefs, or array */
const char *type_name_of(const Type *t);

/* ====================================================================
 * scope.c: scopes and symbols
 */
Scope *scope_new(Compiler *cc, const char *name, Scope *parent);
void *scope_lookup_here(Scope *s, const char *name);     /* the type named here, or NULL */
Type *scope_find_type(Scope *s, const char *name);      /* searches parents */
Type *scope_find_tag(Scope *s, const char *name);
Var *scope_find_const(Scope *s, const char *name);
Scope *scope_find_ns(Scope *s, const char *name);       /* child namespace */
Scope *scope_child_ns(Compiler *cc, Scope *s, const char *name); /* find or create */
void scope_add_type(Compiler *cc, Scope *s, Type *t, const char *name);
void scope_add_tag(Compiler *cc, Scope *s, Type *t);
void scope_add_const(Compiler *cc, Scope *s, Var *v);
/* scope_hash: a name's hash: eight bytes at a time (the loads of a short tail
 * overlap), then mixed so that both the low bits (the slot) and the top
 * two (the tag) vary. The lexer hashes each identifier once for its
 * keywords and for scope_classify, whose lookups in every scope reuse
 * it (#13: byte-at-a-time FNV was 2% of a run). */
static inline uint64_t amidl_load64(const char *s) { uint64_t w; memcpy(&w, s, 8); return w; }
static inline uint64_t amidl_load32(const char *s) { uint32_t w; memcpy(&w, s, 4); return w; }

static inline unsigned scope_hash(const char *s, size_t n)
{
    const uint64_t k = 0xff51afd7ed558ccdull;
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
    for (; n >= 8; s += 8, n -= 8) {
        h = (h ^ amidl_load64(s)) * k;
        h ^= h >> 32;
    }
    if (n >= 4)
        h = (h ^ (amidl_load32(s) | amidl_load32(s + n - 4) << 32)) * k;
    else if (n)
        h = (h ^ ((uint64_t)(unsigned char)s[0] | (uint64_t)(unsigned char)s[n / 2] << 8 |
                  (uint64_t)(unsigned char)s[n - 1] << 16)) * k;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 29;
    return (unsigned)h;
}
/* A fixed table of names found by scope_hash (util.c): the lexer's
 * keywords, the attributes. names points at the first entry's name,
 * stride is the bytes between entries; slot has nslots entries (a power
 * of two, more than twice the names), an index + 1 each, 0 empty. */
void name_index_build(unsigned short *slot, unsigned nslots, const void *names, size_t stride, int n);
static inline const char *name_index_name(const void *names, size_t stride, int i)
{
    return *(const char *const *)((const char *)names + (size_t)i * stride);
}
/* the index of the name s (len bytes, hash scope_hash of them), or -1
 * (inline: the lexer looks up every identifier) */
static inline int name_index_find(const unsigned short *slot, unsigned nslots, const void *names, size_t stride,
                                  const char *s, size_t len, unsigned hash)
{
    for (unsigned h = hash & (nslots - 1); slot[h]; h = (h + 1) & (nslots - 1)) {
        const char *n = name_index_name(names, stride, slot[h] - 1);
        if (n[0] == s[0] && !strncmp(n, s, len) && !n[len])
            return slot[h] - 1;
    }
    return -1;
}
/* Name lookup the lexer performs: 1 = type, 2 = namespace, 0 = plain
 * identifier; hash is scope_hash of the name's bytes. */
int scope_classify(Scope *s, const char *name, unsigned hash, void **out, bool here_only);
const char *scope_suggest_type(Scope *s, const char *name);   /* closest type name, or NULL */
/* known.c: the base IDL file that declares a well-known name (IUnknown: "unknwn.idl"), and the note saying so */
const char *known_import(const char *name);
void note_missing_import(Compiler *cc, Loc loc, const char *name);
void scopes_free(Compiler *cc);

/* ====================================================================
 * parser.y: parse one preprocessed file into f->stmts.
 * Imports are parsed on the spot through compiler_import() (load.c).
 */
int parse_file(Compiler *cc, File *f, char *text, size_t len);   /* text must end in two NULs */

/* ====================================================================
 * load.c: the compilation's files (compiler_new/compiler_free are here too)
 */
File *compiler_import(Compiler *cc, const char *name, Loc loc, bool is_import);
File *compiler_load_main(Compiler *cc, const char *path);
File *compiler_load_text(Compiler *cc, const char *name, const char *text, size_t len);  /* main file from memory */
/* The ACF file of the main file: --acf FILE, else FILE.acf beside it when
 * there (as MIDL); read, parsed and merged into the IDL's declarations
 * (acf.c). Returns the error count. */
int compiler_load_acf(Compiler *cc, const char *input);
/* After "cannot find import" / "file not found": the note listing where it was looked for. */
void note_search_path(Compiler *cc, const char *name, Loc loc);

/* ====================================================================
 * acf.c: an ACF file's attributes merged into the IDL's declarations
 */
void acf_apply(Compiler *cc, File *acf);

/* ====================================================================
 * fold.c: constant folding (names are looked up from scope)
 */
bool const_eval(Compiler *cc, Scope *scope, Expr *e, long long *out, bool quiet, int depth);
bool eval_const_expr(Compiler *cc, Expr *e, long long *out, bool quiet);   /* in the global scope */

/* ====================================================================
 * sema.c: the checks (then glue_lower)
 */
int sema_check(Compiler *cc);   /* returns error count */
bool type_is_iunknown(const Type *t);
int vtbl_method_count(Compiler *cc, Type *t);   /* vtable slots of t and its bases */
bool chain_derives_from_idispatch(Compiler *cc, Type *t);  /* IDispatch is t or one of its bases */
void name_methods(Compiler *cc, Type *t);   /* C and macro names of t's methods */

/* ====================================================================
 * async.c: asynchronous interfaces
 */
/* The parser: [async_uuid] interface t makes AsyncIFoo a known type name. */
void async_predeclare(Compiler *cc, Scope *scope, Type *t);
/* sema: build t's twin for async_uuid au (NULL after an error). */
Type *async_synthesize(Compiler *cc, Type *t, Attr *au);

/* ====================================================================
 * glue.c: lowering of the call-object glue (FILE_async.c). sema_check
 * runs it on every [async_uuid] interface of the main file (unless the
 * glue is not wanted): every decision and every "the call-object glue
 * cannot pass ..." error is made here; emit_glue.c only prints the result.
 * The description mirrors the runtime's tables (amidlrt.h, "glue ABI").
 */

/* The correlation-expression evaluator's limits, AMRT_X_STACK_MAX (its
 * stack) and AMRT_X_STEPS_MAX (the steps of one program), are the
 * runtime's (runtime/include/amidlrt_glue.h, read here without the rest of
 * the glue ABI). AMRT_X_MAX_TERMS is the compiler's own bound on the size
 * of an expression: a program of that many terms stays within the steps. */
#define AMIDLRT_GLUE_LIMITS_ONLY
#include "../runtime/include/amidlrt_glue.h"
#undef AMIDLRT_GLUE_LIMITS_ONLY
#define AMRT_X_MAX_TERMS    100
_Static_assert(AMRT_X_MAX_TERMS * 2 < AMRT_X_STEPS_MAX, "an expression of AMRT_X_MAX_TERMS terms fits the steps");

/* One int of a table or program as the C compiler computes it. */
typedef enum {
    GW_INT,         /* n */
    GW_OP,          /* AMRT_X_<op> */
    GW_SIZEOF,      /* sizeof(t) or, with a path, sizeof(((t *)0)->path) */
    GW_OFFSET,      /* offsetof(t, member), or relative to t's member 'path' */
    GW_COUNT,       /* (x): a fixed array's element count */
} GlueWordKind;

typedef struct GlueWord {
    GlueWordKind kind;
    long long n;
    const char *op;
    Type *t;
    unsigned q;
    const char *path;       /* "" or a member path inside t */
    const char *member;
    Expr *x;
} GlueWord;

/* A compiled correlation expression: AMRT_X_* opcodes and operands. */
typedef struct GlueProg { GlueWord *w; int n, cap; } GlueProg;

typedef enum {
    GK_SCALAR = 1, GK_STRUCT, GK_POINTER, GK_STRING, GK_WSTRING, GK_ARRAY, GK_INTERFACE, GK_BSTR,
    GK_CSTRUCT, GK_UNION, GK_FIXED_ARRAY, GK_CONFSTRUCT, GK_HANDLE, GK_VARIANT, GK_SAFEARRAY,     /* the order of AmrtKind */
} GlueKind;

typedef struct GlueType GlueType;

/* A member holding pointers (CSTRUCT) or one case of a union's arm. */
typedef struct GlueMember {
    GlueWord offset;        /* CSTRUCT */
    Expr *value;            /* UNION: the case value (NULL: none) */
    bool is_default;        /* UNION: the default arm */
    GlueType *type;         /* NULL: plain data */
} GlueMember;

struct GlueType {
    GlueKind kind;
    bool plain;             /* plain bytes: nothing to copy beyond them */
    bool unique;            /* AMRT_F_UNIQUE */
    bool switch_first;      /* UNION: its program is laid out before its arms' table */
    int iid_param;          /* INTERFACE: iid_is parameter, -1: 'iid' */
    const char *iid;        /* INTERFACE: the interface of the IID (IID_<iid>) */
    GlueWord size;
    GlueType *ref;
    GlueProg *size_x, *first_x, *length_x;
    GlueMember *members;
    int nmembers;
};

typedef struct GlueParam {
    Var *p;
    bool in, out;
    GlueType *type;         /* NULL when the interface is imported (not described) */
} GlueParam;

typedef struct GlueMethod {
    Var *m;                 /* the synchronous method */
    Var *begin, *finish;    /* its twins in AsyncIFoo */
    int index;              /* among the interface's own methods in the vtable; a [call_as] twin:
                             * nmethods + its place among the twins */
    bool is_void, ret_hresult;
    bool is_local;          /* [local] (or of a [local] interface): never crosses a process */
    bool is_twin;           /* m is a [call_as] remote method: not in the vtable, what crosses
                             * a process for its local method (RULES.md A10) */
    struct GlueMethod *twin;    /* a [local] method: its [call_as] twin (NULL: none); a twin: its local method */
    GlueParam *params;
    int nparams;
} GlueMethod;

typedef struct GlueIface {
    Type *iface, *async;
    Type *base;             /* the base whose glue this one chains to (NULL: IUnknown) */
    GlueMethod *methods;    /* the vtable's nmethods, then the ncall_as [call_as] twins */
    int nmethods, ncall_as;
    bool described;         /* parameters described (the main file's interfaces) */
} GlueIface;

/* Lower every [async_uuid] interface of the main file (Type.glue; their
 * imported async bases get directions and slots only). Returns the
 * number of errors. */
int glue_lower(Compiler *cc);

/* ====================================================================
 * winrt.c: WinRT parameterized interface instances; sha1.c
 */
/* The parser: the instance generic<args> (one Type per C name when no
 * argument holds a type parameter). */
Type *winrt_instantiate(Compiler *cc, Type *generic, Type **args, int nargs, Loc loc);
/* The parser: a file names instance t at loc, not in a generic's body
 * (widl: a declare block read before must declare it); a declare block
 * declares t, the instance just named. */
typedef struct WinrtUse { Type *t; Loc loc; bool declares; } WinrtUse;
void winrt_note_use(Compiler *cc, Type *t, Loc loc);
void winrt_note_declared(Compiler *cc, Type *t, Loc loc);
/* sema: substitute every instance's methods, base and requires, compute its
 * IID, drop repeats from declare { } lists. Returns the number of errors. */
int winrt_complete(Compiler *cc);
/* The WinRT type signature of t (appended to out); false: t has none. */
bool winrt_signature(Compiler *cc, const Type *t, Buf *out);
/* The version-5 UUID of a signature in the WinRT pinterface namespace. */
void winrt_uuid_v5(const char *sig, Uuid *u);
void sha1(const void *data, size_t len, uint8_t out[20]);

/* ====================================================================
 * codegen: emit_header.c, emit_iid.c, emit_glue.c (file_has_async: sema.c)
 */
int emit_header(Compiler *cc, Buf *out, const char *header_name);
int emit_iid(Compiler *cc, Buf *out);
int emit_glue(Compiler *cc, Buf *out, const char *header_name);
bool file_has_async(Compiler *cc);

#endif
