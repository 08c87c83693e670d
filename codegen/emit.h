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

#endif
