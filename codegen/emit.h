/*
 * emit.h - shared helpers of the emitters (emit_header.c, emit_iid.c,
 * emit_glue.c). They print the checked model and never re-derive it.
 */
#ifndef AMIDL_EMIT_H
#define AMIDL_EMIT_H

#include "amidl.h"

typedef struct Emitter {
    Compiler *cc;
    const char *file_base;     /* input file name without directories */
    const char *stem;          /* ... and without extension */
    bool in_field;             /* printing a struct member */
    Type *inline_body;         /* print_decl: print this type's body in place */
    bool in_module;            /* print_stmts: inside a module (functions default to __cdecl) */
    PtrVec printed;            /* interfaces already written */
    bool cxx;                  /* printing a C++ view: WinRT types by their ABI::... names */
    bool wr_ns_prefix;         /* the main file has "#pragma winrt ns_prefix" */
    bool wr_impl;              /* printing a generic's IFoo_impl template: T as T_abi, IBar<T_logical> */
    PtrVec wr_unprefixed;      /* WinRT: files without "#pragma winrt ns_prefix" (their Loc.file) */
    PtrVec wr_contracts;       /* WinRT: API contracts whose version macro is written */
    PtrVec wr_defs;            /* WinRT: the statements defining the enums and structs of namespaces */
    PtrVec wr_declares;        /* WinRT: the main file's declare { } statements, in order */
} Emitter;

bool emitter_init(Emitter *e, Compiler *cc);
void print_decl(Emitter *e, Buf *b, Type *t, unsigned q, const char *inner, int indent);
void print_expr(Emitter *e, Buf *b, Expr *x, bool top);
void print_prototypes(Emitter *e, Buf *b);
const char *type_tag(Emitter *e, Type *t);
const char *method_name(Emitter *e, Var *m);
const char *callconv_of(Var *m, const char *dflt);   /* the written calling convention, else dflt */
void guid_args(Buf *b, const Uuid *u);
void print_banner(Emitter *e, Buf *b);     /* the first line of every output */
Uuid *type_uuid(Type *t);
bool printed_iface(Emitter *e, Type *t);

/* emit_winrt.c */
void winrt_init(Emitter *e);
void winrt_free(Emitter *e);
const char *winrt_type_name(Emitter *e, Type *t);      /* NULL: not a WinRT type */
void winrt_print_fwd(Emitter *e, Buf *b, Stmt **stmts, int n);
void winrt_print_ns(Emitter *e, Buf *b, Stmt **stmts, int n);
void winrt_print_instances(Emitter *e, Buf *b, Stmt **stmts, int n);
void winrt_contract_define(Emitter *e, Buf *b, Type *c);
void winrt_print_interface(Emitter *e, Buf *b, Type *t, const Attr *attrs);
const char *winrt_iid_name(Emitter *e, Type *t);       /* FILE_i.c; NULL: none written */
/* emit_header.c: a COM statement met in a namespace, and an API contract */
void winrt_print_other(Emitter *e, Buf *b, Stmt *s);
void winrt_print_apicontract(Emitter *e, Buf *b, Type *t);

#endif
