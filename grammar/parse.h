/*
 * parse.h - state shared by the reentrant lexer and the pure parser of one file.
 */
#ifndef AMIDL_PARSE_H
#define AMIDL_PARSE_H

#include "amidl.h"

/* Arena-backed growable list used by the grammar actions. */
typedef struct List { void **v; int n, cap; } List;
List *list_new(Compiler *cc);
List *list_push(Compiler *cc, List *l, void *x);

/* A C declarator, applied to its decl-spec type once the whole
 * declaration is read (see ast.c: declarator_apply). Declarators live in
 * ParseState.scratch, reset after each statement: nothing keeps them. */
typedef enum { DK_IDENT, DK_PTR, DK_ARRAY, DK_FUNC, DK_ABSTRACT } DeclKind;
typedef struct Declarator {
    struct Declarator *inner;
    const char *name;
    Loc loc;
    Expr *size;             /* DK_ARRAY */
    List *params;           /* DK_FUNC: Var* */
    Expr *bits;             /* bitfield width */
    Expr *init;             /* '= expr' */
    const char *callconv;   /* written before this declarator: "__stdcall", ... */
    DeclKind kind;
    unsigned qual;          /* DK_PTR: qualifiers after '*' */
    bool conformant;
    Loc callconv_loc;
} Declarator;

typedef struct DeclSpec { Type *type; unsigned qual; } DeclSpec;

typedef struct ParseState {
    Compiler *cc;
    File *file;
    Scope *scope;           /* current namespace (global outside namespaces) */
    Scope *tparams;         /* parameterized interface: formal type names */
    Type **tparam_v;        /* ... and their TY_PARAM types, in order */
    int tparam_n;
    /* lexer */
    const char *cur_file;
    int line, col;
    int last_tok;
    Scope *last_ns;         /* namespace named by the last NSNAME token */
    Scope *qual_next;       /* after "NS.", look the next identifier up here */
    int nest;               /* open ( [ { */
    bool nest_error;        /* limit hit: the parse was cut short */
    int start_token;        /* returned by the lexer first (tACF: an ACF file) */
    Arena *scratch;         /* declarators of the statement being read */
    /* results */
    List *stmts;
    List *acf;              /* an ACF file: its AcfItems */
    int depth;              /* nesting guard */
} ParseState;

typedef struct YYLTYPE {
    int first_line, first_column, last_line, last_column;
    const char *file;
} YYLTYPE;
#define YYLTYPE_IS_DECLARED 1
#define YYLTYPE_IS_TRIVIAL 0

Type *declarator_apply(Compiler *cc, Declarator *d, Type *base, unsigned bqual, unsigned *qual_out);

#endif
