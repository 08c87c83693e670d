/*
 * parser.y - the IDL grammar (MIDL, widl and WinRT forms), pure and with
 * locations. Actions only build the tree through the constructors of
 * ast.c and declare names in the current scope (the lexer needs to know
 * which identifiers are types); every check lives in sema.c.
 *
 * Imports are parsed on the spot (compiler_import), when the file name
 * is reduced, so the imported types are known to the lexer from the next
 * token on. Each file is parsed once per compilation.
 */
%code requires {
#include "parse.h"
typedef void *yyscan_t;
}

%code provides {
int yylex(YYSTYPE *lval, YYLTYPE *lloc, yyscan_t scanner);
}

%{
#include <stdlib.h>
#include <string.h>
#include "parse.h"
#include "parser.h"

#define YYLLOC_DEFAULT(Cur, Rhs, N) do { \
        if (N) { (Cur).file = YYRHSLOC(Rhs, 1).file; \
                 (Cur).first_line = YYRHSLOC(Rhs, 1).first_line; (Cur).first_column = YYRHSLOC(Rhs, 1).first_column; \
                 (Cur).last_line = YYRHSLOC(Rhs, N).last_line; (Cur).last_column = YYRHSLOC(Rhs, N).last_column; } \
        else { (Cur).file = YYRHSLOC(Rhs, 0).file; \
               (Cur).first_line = (Cur).last_line = YYRHSLOC(Rhs, 0).last_line; \
               (Cur).first_column = (Cur).last_column = YYRHSLOC(Rhs, 0).last_column; } } while (0)

#define L(l) ((Loc){ (l).file, (l).first_line, (l).first_column })
#define CC (ps->cc)
#define YYMAXDEPTH 20000

static void yyerror(YYLTYPE *loc, yyscan_t scanner, ParseState *ps, const char *msg);

/* actions (bottom of this file) */
static Stmt *do_typedef(ParseState *ps, Attr *attrs, DeclSpec ds, List *decls, Loc loc);
static Stmt *do_decl(ParseState *ps, Attr *attrs, DeclSpec ds, List *decls, Loc loc);
static Stmt *type_stmt(ParseState *ps, Attr *attrs, DeclSpec ds, Loc loc);
static Type *tagged(ParseState *ps, TypeKind k, const char *tag, Loc loc, bool defining);
static Type *iface_decl(ParseState *ps, TypeKind k, const char *name, Type *existing, Loc loc);
static Stmt *iface_stmt(ParseState *ps, StmtKind k, Type *t, Attr *attrs, Loc loc);
static Var *make_var(ParseState *ps, Attr *attrs, DeclSpec ds, Declarator *d);
static Declarator *new_decl(ParseState *ps, DeclKind k, Declarator *inner, Loc loc);
static Type *basic(ParseState *ps, BasicKind b, int sign, Loc loc);
static List *import_file(ParseState *ps, const char *name, Loc loc);
static Scope *enter_ns(ParseState *ps, List *names, Loc loc);
static Type *instantiate(ParseState *ps, Type *generic, List *args, Loc loc);
static void set_tparams(ParseState *ps, List *names, Loc loc);
static Stmt **list_stmts(ParseState *ps, List *l, int *n);
static void depth_push(ParseState *ps, Loc loc);
static bool claim_body(Type *t);
static void depth_pop(ParseState *ps);
static AcfItem *acf_item(ParseState *ps, AcfKind k, const char *name, Attr *attrs, Loc loc, List *items);
static List *slist_push(ParseState *ps, List *l, void *x);
static Var **list_vars(ParseState *ps, List *l, int *n);
%}

%define api.pure full
%define parse.error detailed
%locations
%param {yyscan_t scanner}
%parse-param {ParseState *ps}

%union {
    char *str;
    Expr *expr;
    Type *type;
    Var *var;
    Attr *attr;
    Stmt *stmt;
    List *list;
    Declarator *decl;
    DeclSpec dspec;
    unsigned num;
    Scope *scope;
    AcfItem *acf;
}

%token <str> IDENT "identifier"
%token <str> tCALLCONV "calling convention"
%token <type> TYPENAME "type name"
%token <str> NSNAME "namespace name"
%token <str> UUID "uuid"
%token <str> INTNUM "integer constant"
%token <str> FLOATNUM "floating constant"
%token <str> STRING "string literal"
%token <str> WSTRING "wide string literal"
%token <str> CHARLIT "character constant"
%token <str> PRAGMA "#pragma"
%token SHL "<<" SHR ">>" LE "<=" GE ">=" EQ "==" NE "!=" ANDAND "&&" OROR "||"
%token ARROW "->" ELLIPSIS "..." SCOPE "::"
%token tSAFEARRAY "SAFEARRAY" tATTRIBUTE "attribute" tACF "the start of an ACF file"
%token tAPICONTRACT "apicontract" tBOOLEAN "boolean" tBYTE "byte"
%token tCASE "case" tCHAR "char" tCOCLASS "coclass" tCONST "const" tCPPQUOTE "cpp_quote"
%token tDECLARE "declare" tDEFAULT "default" tDELEGATE "delegate" tDISPINTERFACE "dispinterface"
%token tDOUBLE "double" tENUM "enum" tERRORSTATUST "error_status_t" tEXTENSION "__extension__"
%token tEXTERN "extern" tFALSE "FALSE" tFLOAT "float" tHANDLET "handle_t" tHYPER "hyper"
%token tIMPORT "import" tIMPORTLIB "importlib" tINLINE "inline" tINT "int" tINT128 "__int128"
%token tINT16 "__int16" tINT32 "__int32" tINT3264 "__int3264" tINT64 "__int64" tINT8 "__int8"
%token tINTERFACE "interface" tLIBRARY "library" tLONG "long" tMETHODS "methods"
%token tMIDLPRAGMA "midl_pragma" tMODULE "module" tNAMESPACE "namespace" tNULL "NULL"
%token tPROPERTIES "properties" tREGISTER "register" tREQUIRES "requires"
%token tRUNTIMECLASS "runtimeclass" tSHORT "short" tSIGNED "signed" tSIZEOF "sizeof"
%token tSMALL "small" tSTRUCT "struct" tSWITCH "switch" tTRUE "TRUE" tTYPEDEF "typedef"
%token tUNION "union" tUNSIGNED "unsigned" tVOID "void" tVOLATILE "volatile" tWCHAR "wchar_t"

%type <list> stmts import_list attr_list attr_args decl_list fields field_list params m_params
%type <list> enum_list enum_body ucases encap_cases case_labels coclass_items type_args ns_name
%type <list> tparam_list m_requires type_ref_list declare_items rc_items
%type <stmt> stmt decl_body
%type <attr> m_attributes attributes attr
%type <expr> expr m_expr attr_arg case_label
%type <type> type_spec known_type basic_type int_type struct_spec union_spec enum_spec type_ref
%type <type> qualified_type generic_type m_inherit iface_hdr dispiface_hdr
%type <type> coclass_name named_ref
%type <dspec> decl_spec type_arg
%type <decl> declarator direct_decl init_declarator pdecl pdirect m_pdecl array abs_ptrs
%type <var> param field_decl enum_val case_arm coclass_item rc_item
%type <str> ident decl_ident plain_ident m_ident m_tag tag winrt_word
%type <list> acf_stmts acf_items acf_item acf_params acf_param_list acf_names acf_includes
%type <acf> acf_stmt acf_param
%type <num> m_mods mods mod quals

%right '?' ':'
%left OROR
%left ANDAND
%left '|'
%left '^'
%left '&'
%left EQ NE
%left '<' '>' LE GE
%left SHL SHR
%left '+' '-'
%left '*' '/' '%'
%precedence UNARY CAST
%precedence '.' ARROW '['

%expect 0

%destructor { } <*>

%start input

%%

input: stmts                        { ps->stmts = $1; }
    | tACF acf_stmts                { ps->acf = $2; }
    ;

/* ---- an ACF file (MIDL's application configuration file): attributes
 * for the interfaces, typedefs, methods and parameters of the IDL, by
 * name; acf.c merges them ---- */

acf_stmts: %empty                   { $$ = list_new(CC); }
    | acf_stmts acf_stmt            { $$ = $2 ? list_push(CC, $1, $2) : $1; }
    | acf_stmts error ';'           { $$ = $1; yyerrok; }
    | acf_stmts error '}'           { $$ = $1; yyerrok; }
    ;

acf_stmt: ';'                       { $$ = NULL; }
    | PRAGMA                        { (void)$1; $$ = NULL; }
    | m_attributes tINTERFACE decl_ident '{' acf_items '}'
                                    { $$ = acf_item(ps, ACF_INTERFACE, $3, $1, L(@3), $5); }
    | IDENT acf_includes ';'        { if (strcmp($1, "include"))
                                          error_at(CC, L(@1), "syntax error, unexpected identifier '%s' in an ACF file (expected interface or include)", $1);
                                      $$ = acf_item(ps, ACF_INCLUDE, NULL, NULL, L(@1), $2); }
    ;

/* include "a.h", "b.h"; each file an ACF_INCLUDE item of the statement */
acf_includes: STRING                { $$ = list_push(CC, list_new(CC), acf_item(ps, ACF_INCLUDE, $1, NULL, L(@1), NULL)); }
    | acf_includes ',' STRING       { $$ = list_push(CC, $1, acf_item(ps, ACF_INCLUDE, $3, NULL, L(@3), NULL)); }
    ;

acf_items: %empty                   { $$ = list_new(CC); }
    | acf_items acf_item            { $$ = $1; for (int i = 0; i < $2->n; i++) list_push(CC, $$, $2->v[i]); }
    ;

acf_item: ';'                       { $$ = list_new(CC); }
    | tTYPEDEF m_attributes acf_names ';'
                                    { $$ = list_new(CC); for (int i = 0; i < $3->n; i++) { Var *v = $3->v[i];
                                          list_push(CC, $$, acf_item(ps, ACF_TYPEDEF, v->name, $2, v->loc, NULL)); } }
    | m_attributes decl_ident '(' acf_params ')' ';'
                                    { $$ = list_push(CC, list_new(CC), acf_item(ps, ACF_METHOD, $2, $1, L(@2), $4)); }
    ;

acf_names: decl_ident               { Var *v = new_var(CC, $1, L(@1)); $$ = list_push(CC, list_new(CC), v); }
    | acf_names ',' decl_ident      { Var *v = new_var(CC, $3, L(@3)); $$ = list_push(CC, $1, v); }
    ;

acf_params: %empty                  { $$ = list_new(CC); }
    | acf_param_list                { $$ = $1; }
    ;

acf_param_list: acf_param           { $$ = list_push(CC, list_new(CC), $1); }
    | acf_param_list ',' acf_param  { $$ = list_push(CC, $1, $3); }
    ;

acf_param: m_attributes decl_ident  { $$ = acf_item(ps, ACF_PARAM, $2, $1, L(@2), NULL); }
    ;

stmts: %empty                       { $$ = list_new(CC); }
    | stmts stmt                    { $$ = $2 ? list_push(CC, $1, $2) : $1; arena_reset(ps->scratch); }
    | stmts tIMPORT import_list ';' { $$ = $1; for (int i = 0; i < $3->n; i++) list_push(CC, $$, $3->v[i]); }
    | stmts error ';'               { $$ = $1; yyerrok; arena_reset(ps->scratch); }
    | stmts error '}'               { $$ = $1; yyerrok; arena_reset(ps->scratch); }
    ;

import_list: STRING                 { $$ = import_file(ps, $1, L(@1)); }
    | import_list ',' STRING        { $$ = $1; List *l = import_file(ps, $3, L(@3)); for (int i = 0; i < l->n; i++) list_push(CC, $$, l->v[i]); }
    ;

stmt: ';'                           { $$ = NULL; }
    | m_attributes decl_body        { $$ = $2; if ($$ && $1 && ($$->kind == ST_DECL || $$->kind == ST_CONST))
                                          for (int i = 0; i < $$->ndecls; i++) if (!$$->decls[i]->attrs) $$->decls[i]->attrs = $1;
                                      if ($$ && $$->kind == ST_INTERFACE && attr_find($1, A_ASYNC_UUID)) async_predeclare(ps->cc, ps->scope, $$->type);
                                      if ($$ && $1) { if ($$->type && ($$->kind == ST_INTERFACE || $$->kind == ST_COCLASS || $$->kind == ST_DISPINTERFACE || $$->kind == ST_LIBRARY || $$->kind == ST_MODULE || $$->kind == ST_RUNTIMECLASS || $$->kind == ST_DELEGATE || $$->kind == ST_APICONTRACT || $$->kind == ST_IFACE_FWD || $$->kind == ST_COCLASS_FWD)) $$->type->attrs = attr_append($1, $$->type->attrs); $$->attrs = attr_append($1, $$->attrs); } }
    | tIMPORTLIB '(' STRING ')'     { $$ = new_stmt(CC, ST_IMPORTLIB, L(@1)); $$->text = $3; }
    | tCPPQUOTE '(' STRING ')'      { $$ = new_stmt(CC, ST_CPPQUOTE, L(@1)); $$->text = $3; }
    | PRAGMA                        { $$ = new_stmt(CC, ST_PRAGMA, L(@1)); $$->text = $1;
                                      if (strstr($1, "winrt") && strstr($1, "ns_prefix")) CC->winrt_ns_prefix = true; }
    | tMIDLPRAGMA IDENT '(' midl_args ')' { $$ = new_stmt(CC, ST_MIDL_PRAGMA, L(@1)); $$->text = $2; }
    | tNAMESPACE ns_name '{'        { $<scope>$ = ps->scope; ps->scope = enter_ns(ps, $2, L(@2)); depth_push(ps, L(@3)); }
      stmts '}'                     { ps->scope = $<scope>4; depth_pop(ps); $$ = new_stmt(CC, ST_NAMESPACE, L(@1));
                                      $$->stmts = list_stmts(ps, $5, &$$->nstmts); $$->text = (char *)$<scope>4->qname; }
    | tDECLARE '{' declare_items '}' { $$ = new_stmt(CC, ST_DECLARE, L(@1));
                                      $$->ndeclared = $3->n; $$->declared = (Type **)$3->v; }
    ;

midl_args: %empty
    | midl_args IDENT               { (void)$2; }
    | midl_args INTNUM              { (void)$2; }
    | midl_args ':'
    | midl_args ','
    | midl_args STRING              { (void)$2; }
    | midl_args '-'
    ;

ns_name: IDENT                      { $$ = list_push(CC, list_new(CC), $1); }
    | NSNAME                        { $$ = list_push(CC, list_new(CC), $1); }
    | TYPENAME                      { $$ = list_push(CC, list_new(CC), (char *)$1->name); }
    | ns_name '.' IDENT             { $$ = list_push(CC, $1, $3); }
    | ns_name '.' NSNAME            { $$ = list_push(CC, $1, $3); }
    | ns_name '.' TYPENAME          { $$ = list_push(CC, $1, (char *)$3->name); }
    ;

declare_items: %empty               { $$ = list_new(CC); }
    | declare_items tINTERFACE type_ref ';' { $$ = list_push(CC, $1, $3); if ($3) winrt_note_declared(CC, $3, L(@3)); }
    ;

decl_body:
      tTYPEDEF m_attributes decl_spec decl_list ';'     { $$ = do_typedef(ps, $2, $3, $4, L(@1)); }
    | decl_spec ';'                                     { $$ = type_stmt(ps, NULL, $1, L(@1)); }
    | decl_spec decl_list ';'                           { $$ = do_decl(ps, NULL, $1, $2, L(@1)); }
    | iface_hdr m_inherit m_requires '{'                { depth_push(ps, L(@4)); }
      stmts '}'                                         { depth_pop(ps); Type *t = $1; TXW(CC, t)->base = $2; t->defined = true; t->declared_only = false;
                                                          TXW(CC, t)->stmts = list_stmts(ps, $6, &TXW(CC, t)->nstmts);
                                                          if ($3) { TXW(CC, t)->ifaces = (Type **)$3->v; TXW(CC, t)->nifaces = $3->n; }
                                                          ps->tparams = NULL;
                                                          $$ = iface_stmt(ps, ST_INTERFACE, t, NULL, L(@1)); }
    | tINTERFACE ident ';'                              { $$ = iface_stmt(ps, ST_IFACE_FWD, iface_decl(ps, TY_INTERFACE, $2, NULL, L(@2)), NULL, L(@1)); }
    | tINTERFACE TYPENAME ';'                           { $$ = iface_stmt(ps, ST_IFACE_FWD, iface_decl(ps, TY_INTERFACE, $2->name, $2, L(@2)), NULL, L(@1)); }
    | tINTERFACE ident '<' tparam_list '>' ';'          { Type *t = iface_decl(ps, TY_PARAMETERIZED, $2, NULL, L(@2)); TXW(CC, t)->nparams = $4->n;
                                                          $$ = iface_stmt(ps, ST_IFACE_FWD, t, NULL, L(@1)); }
    | tINTERFACE TYPENAME '<' tparam_list '>' ';'       { Type *t = iface_decl(ps, TY_PARAMETERIZED, $2->name, $2, L(@2)); TXW(CC, t)->nparams = $4->n;
                                                          $$ = iface_stmt(ps, ST_IFACE_FWD, t, NULL, L(@1)); }
    | tINTERFACE qualified_type ';'                     { $$ = iface_stmt(ps, ST_IFACE_FWD, $2, NULL, L(@1)); }
    | dispiface_hdr '{' tPROPERTIES ':' fields tMETHODS ':' fields '}'
                                                        { Type *t = $1; t->defined = true; t->declared_only = false;
                                                          t->fields = list_vars(ps, $5, &t->nfields);
                                                          TXW(CC, t)->methods = list_vars(ps, $8, &TXW(CC, t)->nmethods);
                                                          $$ = iface_stmt(ps, ST_DISPINTERFACE, t, NULL, L(@1)); }
    | dispiface_hdr '{' tINTERFACE type_ref ';' '}'     { Type *t = $1; t->defined = true; t->declared_only = false; TXW(CC, t)->base = $4;
                                                          TXW(CC, t)->ifaces = arena_alloc(CC->arena, sizeof(Type *)); TXW(CC, t)->ifaces[0] = $4; TXW(CC, t)->nifaces = -1;
                                                          $$ = iface_stmt(ps, ST_DISPINTERFACE, t, NULL, L(@1)); }
    | tDISPINTERFACE ident ';'                          { $$ = iface_stmt(ps, ST_IFACE_FWD, iface_decl(ps, TY_DISPINTERFACE, $2, NULL, L(@2)), NULL, L(@1)); }
    | tDISPINTERFACE TYPENAME ';'                       { $$ = iface_stmt(ps, ST_IFACE_FWD, iface_decl(ps, TY_DISPINTERFACE, $2->name, $2, L(@2)), NULL, L(@1)); }
    | tCOCLASS coclass_name ';'                         { $$ = iface_stmt(ps, ST_COCLASS_FWD, $2, NULL, L(@1)); }
    | tCOCLASS coclass_name '{' coclass_items '}'       { Type *t = $2; t->defined = true; t->declared_only = false;
                                                          TXW(CC, t)->ifaces = arena_alloc(CC->arena, sizeof(Type *) * (size_t)($4->n + 1));
                                                          TXW(CC, t)->iface_attrs = arena_alloc(CC->arena, sizeof(Attr *) * (size_t)($4->n + 1));
                                                          for (int i = 0; i < $4->n; i++) { Var *v = $4->v[i]; TXW(CC, t)->ifaces[i] = v->type; TXW(CC, t)->iface_attrs[i] = v->attrs; }
                                                          TXW(CC, t)->nifaces = $4->n;
                                                          $$ = iface_stmt(ps, ST_COCLASS, t, NULL, L(@1)); }
    | tMODULE ident '{'                                 { depth_push(ps, L(@3)); }
      stmts '}'                                         { depth_pop(ps); Type *t = iface_decl(ps, TY_MODULE, $2, NULL, L(@2)); t->defined = true;
                                                          TXW(CC, t)->stmts = list_stmts(ps, $5, &TXW(CC, t)->nstmts);
                                                          $$ = iface_stmt(ps, ST_MODULE, t, NULL, L(@1)); }
    | tLIBRARY ident '{'                                { depth_push(ps, L(@3)); }
      stmts '}'                                         { depth_pop(ps); Type *t = new_type(CC, TY_LIBRARY, $2, L(@2)); t->defined = true;
                                                          $$ = new_stmt(CC, ST_LIBRARY, L(@1)); $$->type = t;
                                                          $$->stmts = list_stmts(ps, $5, &$$->nstmts); TXW(CC, t)->stmts = $$->stmts; TXW(CC, t)->nstmts = $$->nstmts; }
    | tRUNTIMECLASS coclass_name ';'                    { $2->kind = TY_RUNTIMECLASS; $$ = iface_stmt(ps, ST_COCLASS_FWD, $2, NULL, L(@1)); }
    | tRUNTIMECLASS coclass_name ':' type_ref '{' rc_items '}'
                                                        { Type *t = $2; t->kind = TY_RUNTIMECLASS; t->defined = true; t->declared_only = false; TXW(CC, t)->base = $4;
                                                          TXW(CC, t)->ifaces = arena_alloc(CC->arena, sizeof(Type *) * (size_t)($6->n + 1));
                                                          TXW(CC, t)->iface_attrs = arena_alloc(CC->arena, sizeof(Attr *) * (size_t)($6->n + 1));
                                                          TXW(CC, t)->winrt_iface_locs = arena_alloc(CC->arena, sizeof(Loc) * (size_t)($6->n + 1));
                                                          for (int i = 0; i < $6->n; i++) { Var *v = $6->v[i]; TXW(CC, t)->ifaces[i] = v->type; TXW(CC, t)->iface_attrs[i] = v->attrs; TXW(CC, t)->winrt_iface_locs[i] = v->loc; }
                                                          TXW(CC, t)->nifaces = $6->n;
                                                          $$ = iface_stmt(ps, ST_RUNTIMECLASS, t, NULL, L(@1)); }
    | tRUNTIMECLASS coclass_name '{' rc_items '}'       { Type *t = $2; t->kind = TY_RUNTIMECLASS; t->defined = true; t->declared_only = false;
                                                          TXW(CC, t)->ifaces = arena_alloc(CC->arena, sizeof(Type *) * (size_t)($4->n + 1));
                                                          TXW(CC, t)->iface_attrs = arena_alloc(CC->arena, sizeof(Attr *) * (size_t)($4->n + 1));
                                                          TXW(CC, t)->winrt_iface_locs = arena_alloc(CC->arena, sizeof(Loc) * (size_t)($4->n + 1));
                                                          for (int i = 0; i < $4->n; i++) { Var *v = $4->v[i]; TXW(CC, t)->ifaces[i] = v->type; TXW(CC, t)->iface_attrs[i] = v->attrs; TXW(CC, t)->winrt_iface_locs[i] = v->loc; }
                                                          TXW(CC, t)->nifaces = $4->n;
                                                          $$ = iface_stmt(ps, ST_RUNTIMECLASS, t, NULL, L(@1)); }
    | tATTRIBUTE coclass_name '{' fields '}'            { Type *t = $2; t->kind = TY_ATTRIBUTE; t->defined = true; t->declared_only = false;
                                                          t->fields = list_vars(ps, $4, &t->nfields);
                                                          $$ = iface_stmt(ps, ST_ATTRIBUTE, t, NULL, L(@1)); }
    | tAPICONTRACT coclass_name ';'                     { $2->kind = TY_APICONTRACT; $$ = iface_stmt(ps, ST_APICONTRACT, $2, NULL, L(@1)); }
    | tAPICONTRACT coclass_name '{' '}'                 { $2->kind = TY_APICONTRACT; $2->defined = true; $$ = iface_stmt(ps, ST_APICONTRACT, $2, NULL, L(@1)); }
    | tDELEGATE decl_spec ident m_tparams '(' m_params ')' ';'
                                                        { Type *t = iface_decl(ps, TY_DELEGATE, $3, NULL, L(@3)); t->defined = true; t->declared_only = false;
                                                          Type *fn = new_type(CC, TY_FUNCTION, NULL, L(@3)); fn->ref = $2.type; fn->ref_qual = $2.qual;
                                                          fn->fields = (Var **)$6->v; fn->nfields = $6->n;
                                                          Var *m = new_var(CC, "Invoke", L(@3)); m->type = fn; VXW(CC, m)->owner = t;
                                                          push_var(CC, &TXW(CC, t)->methods, &TXW(CC, t)->nmethods, m);
                                                          if (ps->tparams) { TXW(CC, t)->params = ps->tparam_v; TXW(CC, t)->nparams = ps->tparam_n; }
                                                          ps->tparams = NULL;
                                                          $$ = iface_stmt(ps, ST_DELEGATE, t, NULL, L(@1)); }
    ;

m_tparams: %empty
    | '<' tparam_list '>'           { set_tparams(ps, $2, L(@1)); }
    ;

iface_hdr: tINTERFACE ident                             { $$ = iface_decl(ps, TY_INTERFACE, $2, NULL, L(@2)); }
    | tINTERFACE TYPENAME                               { $$ = iface_decl(ps, TY_INTERFACE, $2->name, $2, L(@2)); }
    | tINTERFACE ident '<' tparam_list '>'              { $$ = iface_decl(ps, TY_INTERFACE, $2, NULL, L(@2)); set_tparams(ps, $4, L(@3));
                                                          $$->kind = TY_PARAMETERIZED; TXW(CC, $$)->nparams = $4->n; TXW(CC, $$)->params = ps->tparam_v; }
    | tINTERFACE TYPENAME '<' tparam_list '>'           { $$ = iface_decl(ps, TY_PARAMETERIZED, $2->name, $2, L(@2)); set_tparams(ps, $4, L(@3));
                                                          $$->kind = TY_PARAMETERIZED; TXW(CC, $$)->nparams = $4->n; TXW(CC, $$)->params = ps->tparam_v; }
    ;

tparam_list: IDENT                  { $$ = list_push(CC, list_new(CC), $1); }
    | TYPENAME                      { $$ = list_push(CC, list_new(CC), (char *)$1->name); }
    | tparam_list ',' IDENT         { $$ = list_push(CC, $1, $3); }
    | tparam_list ',' TYPENAME      { $$ = list_push(CC, $1, (char *)$3->name); }
    ;

dispiface_hdr: tDISPINTERFACE ident                     { $$ = iface_decl(ps, TY_DISPINTERFACE, $2, NULL, L(@2)); }
    | tDISPINTERFACE TYPENAME                           { $$ = iface_decl(ps, TY_DISPINTERFACE, $2->name, $2, L(@2)); }
    ;

coclass_name: ident                 { $$ = iface_decl(ps, TY_COCLASS, $1, NULL, L(@1)); }
    | TYPENAME                      { $$ = iface_decl(ps, TY_COCLASS, $1->name, $1, L(@1)); }
    ;

m_inherit: %empty                   { $$ = NULL; }
    | ':' type_ref                  { $$ = $2; }
    | ':' IDENT                     { if (known_import($2)) {          /* a base IDL name: the import is missing */
                                          error_at(CC, L(@2), "unknown base interface '%s'", $2);
                                          note_missing_import(CC, L(@2), $2); $$ = NULL;
                                      } else {  /* a base defined later in the file: MIDL accepts it (sema checks it is) */
                                          $$ = iface_decl(ps, TY_INTERFACE, $2, NULL, L(@2)); TXW(CC, $$)->named_as_base = true;
                                      } }
    ;

m_requires: %empty                  { $$ = NULL; }
    | tREQUIRES type_ref_list       { $$ = $2; }
    ;

type_ref_list: type_ref             { $$ = list_push(CC, list_new(CC), $1); }
    | type_ref_list ',' type_ref    { $$ = list_push(CC, $1, $3); }
    ;

type_ref: named_ref                 { $$ = $1; }
    | generic_type                  { $$ = $1; }
    ;

named_ref: TYPENAME                 { $$ = $1; }
    | qualified_type                { $$ = $1; }
    ;

qualified_type: NSNAME '.' TYPENAME { (void)$1; $$ = $3; }
    | NSNAME '.' qualified_type     { (void)$1; $$ = $3; }
    ;

generic_type: named_ref '<' type_args '>'   { $$ = instantiate(ps, $1, $3, L(@1)); }
    ;

type_args: type_arg                 { $$ = list_push(CC, list_new(CC), $1.type); }
    | type_args ',' type_arg        { $$ = list_push(CC, $1, $3.type); }
    ;

type_arg: m_mods known_type m_mods  { $$.type = $2; $$.qual = ($1 | $3) & (Q_CONST | Q_VOLATILE); }
    | type_arg '*'                  { $$.type = new_pointer(CC, $1.type, $1.qual, L(@2)); $$.qual = 0; }
    ;

coclass_items: %empty               { $$ = list_new(CC); }
    | coclass_items coclass_item    { $$ = list_push(CC, $1, $2); }
    ;

coclass_item: m_attributes tINTERFACE type_ref ';'      { $$ = new_var(CC, $3->name, L(@3)); $$->type = $3; $$->attrs = $1; }
    | m_attributes tDISPINTERFACE type_ref ';'          { $$ = new_var(CC, $3->name, L(@3)); $$->type = $3; $$->attrs = $1; }
    | m_attributes tINTERFACE IDENT ';'                 { Type *t = iface_decl(ps, TY_INTERFACE, $3, NULL, L(@3));
                                                          $$ = new_var(CC, $3, L(@3)); $$->type = t; $$->attrs = $1; }
    | m_attributes tDISPINTERFACE IDENT ';'             { Type *t = iface_decl(ps, TY_DISPINTERFACE, $3, NULL, L(@3));
                                                          $$ = new_var(CC, $3, L(@3)); $$->type = t; $$->attrs = $1; }
    ;

rc_items: %empty                    { $$ = list_new(CC); }
    | rc_items rc_item              { $$ = list_push(CC, $1, $2); }
    ;

rc_item: m_attributes tINTERFACE type_ref ';'           { $$ = new_var(CC, $3->name, L(@3)); $$->type = $3; $$->attrs = $1; }
    ;

/* ---- attributes ---- */

m_attributes: %empty                { $$ = NULL; }
    | attributes                    { $$ = $1; }
    ;

attributes: '[' attr_list ']'       { Attr *head = NULL; for (int i = 0; i < $2->n; i++) head = attr_append(head, $2->v[i]); $$ = head; }
    | attributes '[' attr_list ']'  { Attr *head = $1; for (int i = 0; i < $3->n; i++) head = attr_append(head, $3->v[i]); $$ = head; }
    ;

attr_list: %empty                   { $$ = list_new(CC); }
    | attr                          { $$ = list_push(CC, list_new(CC), $1); }
    | attr_list ',' attr            { $$ = list_push(CC, $1, $3); }
    | attr_list ','                 { $$ = $1; }
    ;

attr: ident                         { $$ = new_attr(CC, $1, L(@1)); }
    | TYPENAME                      { $$ = new_attr(CC, $1->name, L(@1)); }
    | tDEFAULT                      { $$ = new_attr(CC, "default", L(@1)); }
    | tCONST                        { $$ = new_attr(CC, "const", L(@1)); }
    | ident '(' attr_args ')'       { $$ = new_attr(CC, $1, L(@1)); $$->args = (Expr **)$3->v; $$->nargs = $3->n; }
    | TYPENAME '(' attr_args ')'    { $$ = new_attr(CC, $1->name, L(@1)); $$->args = (Expr **)$3->v; $$->nargs = $3->n; }
    | tCASE '(' attr_args ')'       { $$ = new_attr(CC, "case", L(@1)); $$->args = (Expr **)$3->v; $$->nargs = $3->n; }
    ;

attr_args: attr_arg                 { $$ = list_push(CC, list_new(CC), $1); }
    | attr_args ',' attr_arg        { $$ = list_push(CC, $1, $3); }
    ;

attr_arg: %empty                    { $$ = new_expr(CC, EX_EMPTY, L(@$)); }
    | expr                          { $$ = $1; }
    | UUID                          { $$ = new_expr(CC, EX_UUID, L(@1)); $$->text = $1; }
    | type_arg                      { $$ = new_expr(CC, EX_CAST, L(@1)); $$->type = $1.type; $$->text = type_name_of($1.type); }
    | type_arg IDENT                { /* implicit_handle(handle_t h): a declaration, kept as the type with the name */
                                      $$ = new_expr(CC, EX_CAST, L(@1)); $$->type = $1.type; $$->text = type_name_of($1.type);
                                      $$->a = new_expr(CC, EX_IDENT, L(@2)); $$->a->text = $2; }
    ;

/* ---- declarations ---- */

decl_spec: m_mods type_spec m_mods  { $$.type = $2; $$.qual = ($1 | $3) & (Q_CONST | Q_VOLATILE); }
    ;

m_mods: %empty                      { $$ = 0; }
    | mods                          { $$ = $1; }
    ;

mods: mod                           { $$ = $1; }
    | mods mod                      { $$ = $1 | $2; }
    ;

mod: tCONST                         { $$ = Q_CONST; }
    | tVOLATILE                     { $$ = Q_VOLATILE; }
    | tEXTERN                       { $$ = 0; }
    | tINLINE                       { $$ = 0; }
    | tREGISTER                     { $$ = 0; }
    | tEXTENSION                    { $$ = 0; }
    ;

quals: tCONST                       { $$ = Q_CONST; }
    | tVOLATILE                     { $$ = Q_VOLATILE; }
    | quals tCONST                  { $$ = $1 | Q_CONST; }
    | quals tVOLATILE               { $$ = $1 | Q_VOLATILE; }
    ;

type_spec: known_type               { $$ = $1; }
    | IDENT                         { const char *near = scope_suggest_type(ps->scope, $1);
                                      if (near) error_at(CC, L(@1), "unknown type name '%s'; did you mean '%s'?", $1, near);
                                      else error_at(CC, L(@1), "unknown type name '%s'", $1);
                                      note_missing_import(CC, L(@1), $1);
                                      $$ = new_type(CC, TY_ALIAS, $1, L(@1)); $$->ref = new_basic(CC, B_INT, 0, L(@1)); }
    ;

known_type: basic_type              { $$ = $1; }
    | tVOID                         { $$ = new_type(CC, TY_VOID, "void", L(@1)); }
    | type_ref                      { $$ = $1; }
    | struct_spec                   { $$ = $1; }
    | union_spec                    { $$ = $1; }
    | enum_spec                     { $$ = $1; }
    | tSAFEARRAY '(' type_arg ')'   { Type *sa = scope_find_type(ps->cc->global, "SAFEARRAY");
                                      if (!sa) { error_at(CC, L(@1), "SAFEARRAY(...) used but SAFEARRAY is not declared (import oaidl.idl)");
                                                 sa = new_type(CC, TY_ALIAS, "SAFEARRAY", L(@1)); sa->ref = new_type(CC, TY_VOID, "void", L(@1)); }
                                      $$ = new_pointer(CC, sa, 0, L(@1)); TXW(CC, $$)->generic = $3.type; }
    ;

basic_type: int_type                { $$ = $1; }
    | tSIGNED int_type              { $$ = basic(ps, $2->basic, 1, L(@1)); }
    | tUNSIGNED int_type            { $$ = basic(ps, $2->basic, -1, L(@1)); }
    | tUNSIGNED                     { $$ = basic(ps, B_INT, -1, L(@1)); }
    | tSIGNED                       { $$ = basic(ps, B_INT, 1, L(@1)); }
    | tFLOAT                        { $$ = basic(ps, B_FLOAT, 0, L(@1)); }
    | tDOUBLE                       { $$ = basic(ps, B_DOUBLE, 0, L(@1)); }
    | tLONG tDOUBLE                 { $$ = basic(ps, B_DOUBLE, 0, L(@1)); }
    | tBOOLEAN                      { $$ = basic(ps, B_BOOLEAN, 0, L(@1)); }
    | tBYTE                         { $$ = basic(ps, B_BYTE, 0, L(@1)); }
    | tWCHAR                        { $$ = basic(ps, B_WCHAR, 0, L(@1)); }
    | tHANDLET                      { $$ = basic(ps, B_HANDLE, 0, L(@1)); }
    | tERRORSTATUST                 { $$ = basic(ps, B_ERROR_STATUS, 0, L(@1)); }
    ;

int_type: tINT                      { $$ = basic(ps, B_INT, 0, L(@1)); }
    | tCHAR                         { $$ = basic(ps, B_CHAR, 0, L(@1)); }
    | tSMALL                        { $$ = basic(ps, B_SMALL, 0, L(@1)); }
    | tSHORT                        { $$ = basic(ps, B_SHORT, 0, L(@1)); }
    | tSHORT tINT                   { $$ = basic(ps, B_SHORT, 0, L(@1)); }
    | tLONG                         { $$ = basic(ps, B_LONG, 0, L(@1)); }
    | tLONG tINT                    { $$ = basic(ps, B_LONG, 0, L(@1)); }
    | tLONG tLONG                   { $$ = basic(ps, B_INT64, 0, L(@1)); }
    | tLONG tLONG tINT              { $$ = basic(ps, B_INT64, 0, L(@1)); }
    | tHYPER                        { $$ = basic(ps, B_HYPER, 0, L(@1)); }
    | tHYPER tINT                   { $$ = basic(ps, B_HYPER, 0, L(@1)); }
    | tINT64                        { $$ = basic(ps, B_INT64, 0, L(@1)); }
    | tINT32                        { $$ = basic(ps, B_INT32, 0, L(@1)); }
    | tINT3264                      { $$ = basic(ps, B_INT3264, 0, L(@1)); }
    | tINT8                         { $$ = basic(ps, B_INT8, 0, L(@1)); }
    | tINT16                        { $$ = basic(ps, B_INT16, 0, L(@1)); }
    | tINT128                       { $$ = basic(ps, B_INT128, 0, L(@1)); }
    ;

m_tag: %empty                       { $$ = NULL; }
    | tag                           { $$ = $1; }
    ;

tag: IDENT                          { $$ = $1; }
    | TYPENAME                      { $$ = (char *)$1->name; }
    | NSNAME                        { $$ = $1; }
    ;

struct_spec: tSTRUCT m_tag '{'      { depth_push(ps, L(@3)); }
      fields '}'                    { depth_pop(ps); $$ = tagged(ps, TY_STRUCT, $2, L(@1), true);
                                      $$->fields = list_vars(ps, $5, &$$->nfields); }
    | tSTRUCT tag                   { $$ = tagged(ps, TY_STRUCT, $2, L(@2), false); }
    ;

union_spec: tUNION m_tag '{'        { depth_push(ps, L(@3)); }
      ucases '}'                    { depth_pop(ps); $$ = tagged(ps, TY_UNION, $2, L(@1), true);
                                      $$->fields = list_vars(ps, $5, &$$->nfields); }
    | tUNION tag                    { $$ = tagged(ps, TY_UNION, $2, L(@2), false); }
    | tUNION m_tag tSWITCH '(' decl_spec ident ')' m_ident '{'  { depth_push(ps, L(@9)); }
      encap_cases '}'               { depth_pop(ps); $$ = tagged(ps, TY_ENCUNION, $2, L(@1), true);
                                      $$->fields = (Var **)$11->v; $$->nfields = $11->n;
                                      Var *sv = new_var(CC, $6, L(@6)); sv->type = $5.type; sv->qual = $5.qual;
                                      TXW(CC, $$)->switch_var = sv; TXW(CC, $$)->union_name = $8 ? $8 : "tagged_union"; }
    ;

enum_spec: tENUM m_tag '{' enum_body '}'    { $$ = tagged(ps, TY_ENUM, $2, L(@1), true);
                                              $$->fields = (Var **)$4->v; $$->nfields = $4->n; }
    | tENUM tag                     { $$ = tagged(ps, TY_ENUM, $2, L(@2), false); }
    ;

enum_body: %empty                   { $$ = list_new(CC); }
    | enum_list                     { $$ = $1; }
    | enum_list ','                 { $$ = $1; }
    ;

enum_list: enum_val                 { $$ = list_push(CC, list_new(CC), $1); }
    | enum_list ',' enum_val        { $$ = list_push(CC, $1, $3); }
    ;

enum_val: m_attributes plain_ident  { $$ = new_var(CC, $2, L(@2)); $$->attrs = $1; }
    | m_attributes plain_ident '=' expr { $$ = new_var(CC, $2, L(@2)); $$->attrs = $1; VXW(CC, $$)->init = $4; }
    ;

fields: %empty                      { $$ = arena_alloc(ps->scratch, sizeof(List)); }
    | fields field_list             { $$ = $1; for (int i = 0; i < $2->n; i++) slist_push(ps, $$, $2->v[i]); }
    ;

field_list: m_attributes decl_spec decl_list ';'    { $$ = NULL; bool def = claim_body($2.type);
                                                      for (int i = 0; i < $3->n; i++) { Var *v = make_var(ps, $1, $2, $3->v[i]); v->defines_type = def && i == 0; $$ = slist_push(ps, $$, v); } }
    | m_attributes decl_spec ';'                    { Var *v = new_var(CC, NULL, L(@2)); v->type = $2.type; v->qual = $2.qual; v->attrs = $1;
                                                      v->defines_type = claim_body($2.type);
                                                      $$ = slist_push(ps, NULL, v); }
    | m_attributes ';'                              { Var *v = new_var(CC, NULL, L(@2)); v->attrs = $1; $$ = slist_push(ps, NULL, v); }
    ;

ucases: fields                      { $$ = $1; }
    ;

encap_cases: %empty                 { $$ = list_new(CC); }
    | encap_cases case_arm          { $$ = list_push(CC, $1, $2); }
    ;

case_arm: case_labels field_decl    { $$ = $2; VXW(CC, $$)->ncases = 0;
                                      for (int i = 0; i < $1->n; i++) { Expr *e = $1->v[i];
                                          if (!e) VXW(CC, $$)->is_default_case = true;
                                          else { Expr **n = arena_alloc(CC->arena, sizeof(Expr *) * (size_t)(VXW(CC, $$)->ncases + 1));
                                                 if (VXW(CC, $$)->ncases) memcpy(n, VXW(CC, $$)->case_exprs, sizeof(Expr *) * (size_t)VXW(CC, $$)->ncases);
                                                 n[VXW(CC, $$)->ncases++] = e; VXW(CC, $$)->case_exprs = n; } } }
    ;

case_labels: case_label             { $$ = list_push(CC, list_new(CC), $1); }
    | case_labels case_label        { $$ = list_push(CC, $1, $2); }
    ;

case_label: tCASE expr ':'          { $$ = $2; }
    | tDEFAULT ':'                  { $$ = NULL; }
    ;

field_decl: m_attributes decl_spec declarator ';'   { bool def = claim_body($2.type); $$ = make_var(ps, $1, $2, $3); $$->defines_type = def; }
    | m_attributes decl_spec ';'                    { $$ = new_var(CC, NULL, L(@2)); $$->type = $2.type; $$->qual = $2.qual; $$->attrs = $1;
                                                      $$->defines_type = claim_body($2.type); }
    | m_attributes ';'                              { $$ = new_var(CC, NULL, L(@2)); $$->attrs = $1; }
    ;

decl_list: init_declarator          { $$ = slist_push(ps, NULL, $1); }
    | decl_list ',' init_declarator { $$ = slist_push(ps, $1, $3); }
    ;

init_declarator: declarator         { $$ = $1; }
    | declarator '=' expr           { $$ = $1; $$->init = $3; }
    | declarator ':' expr           { $$ = $1; $$->bits = $3; }
    | ':' expr                      { $$ = new_decl(ps, DK_IDENT, NULL, L(@1)); $$->bits = $2; }
    ;

declarator: '*' declarator          { $$ = new_decl(ps, DK_PTR, $2, L(@1)); }
    | '*' quals declarator          { $$ = new_decl(ps, DK_PTR, $3, L(@1)); $$->qual = $2; }
    | tCALLCONV declarator          { $$ = $2; $$->callconv = $1; $$->callconv_loc = L(@1); }
    | direct_decl                   { $$ = $1; }
    ;

direct_decl: decl_ident             { $$ = new_decl(ps, DK_IDENT, NULL, L(@1)); $$->name = $1; }
    | '(' declarator ')'            { $$ = $2; }
    | direct_decl array             { $$ = $2; $$->inner = $1; }
    | direct_decl '(' m_params ')'  { $$ = new_decl(ps, DK_FUNC, $1, L(@2)); $$->params = $3; }
    ;

array: '[' m_expr ']'               { $$ = new_decl(ps, DK_ARRAY, NULL, L(@1)); $$->size = $2; $$->conformant = !$2; }
    | '[' '*' ']'                   { $$ = new_decl(ps, DK_ARRAY, NULL, L(@1)); $$->conformant = true; }
    ;

m_params: %empty                    { $$ = list_new(CC); }
    | params                        { $$ = $1; }
    | params ',' ELLIPSIS           { $$ = $1; }
    ;

params: param                       { $$ = list_push(CC, list_new(CC), $1); }
    | params ',' param              { $$ = list_push(CC, $1, $3); }
    ;

param: m_attributes decl_spec m_pdecl   { $$ = make_var(ps, $1, $2, $3); }
    ;

m_pdecl: %empty                     { $$ = NULL; }
    | pdecl                         { $$ = $1; }
    | abs_ptrs                      { $$ = $1; }
    ;

abs_ptrs: '*'                       { $$ = new_decl(ps, DK_PTR, NULL, L(@1)); }
    | '*' quals                     { $$ = new_decl(ps, DK_PTR, NULL, L(@1)); $$->qual = $2; }
    | '*' abs_ptrs                  { $$ = new_decl(ps, DK_PTR, $2, L(@1)); }
    | '*' quals abs_ptrs            { $$ = new_decl(ps, DK_PTR, $3, L(@1)); $$->qual = $2; }
    ;

pdecl: '*' pdecl                    { $$ = new_decl(ps, DK_PTR, $2, L(@1)); }
    | '*' quals pdecl               { $$ = new_decl(ps, DK_PTR, $3, L(@1)); $$->qual = $2; }
    | tCALLCONV pdecl               { $$ = $2; $$->callconv = $1; $$->callconv_loc = L(@1); }
    | pdirect                       { $$ = $1; }
    ;

pdirect: decl_ident                 { $$ = new_decl(ps, DK_IDENT, NULL, L(@1)); $$->name = $1; }
    | '(' pdecl ')'                 { $$ = $2; }
    | pdirect array                 { $$ = $2; $$->inner = $1; }
    | pdirect '(' m_params ')'      { $$ = new_decl(ps, DK_FUNC, $1, L(@2)); $$->params = $3; }
    ;

ident: IDENT                        { $$ = $1; }
    ;

decl_ident: plain_ident             { $$ = $1; }
    | winrt_word                    { $$ = $1; }
    ;

plain_ident: IDENT                  { $$ = $1; }
    | TYPENAME                      { $$ = (char *)$1->name; }
    | NSNAME                        { $$ = $1; }
    ;

/* The words WinRT made keywords stay names where a name is expected (as
 * widl outside --winrt): a parameter named requires, a method declare. */
winrt_word: tREQUIRES               { $$ = "requires"; }
    | tDECLARE                      { $$ = "declare"; }
    | tDELEGATE                     { $$ = "delegate"; }
    | tAPICONTRACT                  { $$ = "apicontract"; }
    | tRUNTIMECLASS                 { $$ = "runtimeclass"; }
    | tNAMESPACE                    { $$ = "namespace"; }
    ;

m_ident: %empty                     { $$ = NULL; }
    | ident                         { $$ = $1; }
    ;

/* ---- expressions ---- */

m_expr: %empty                      { $$ = NULL; }
    | expr                          { $$ = $1; }
    ;

expr: INTNUM                        { $$ = new_num(CC, $1, L(@1)); }
    | FLOATNUM                      { $$ = new_expr(CC, EX_FLOAT, L(@1)); $$->text = $1; }
    | STRING                        { $$ = new_expr(CC, EX_STR, L(@1)); $$->text = $1; }
    | WSTRING                       { $$ = new_expr(CC, EX_WSTR, L(@1)); $$->text = $1; }
    | CHARLIT                       { $$ = new_expr(CC, EX_CHAR, L(@1)); $$->text = $1; }
    | IDENT                         { $$ = new_expr(CC, EX_IDENT, L(@1)); $$->text = $1; }
    | winrt_word                    { $$ = new_expr(CC, EX_IDENT, L(@1)); $$->text = $1; }
    | tTRUE                         { $$ = new_expr(CC, EX_TRUE, L(@1)); }
    | tFALSE                        { $$ = new_expr(CC, EX_FALSE, L(@1)); }
    | tNULL                         { $$ = new_expr(CC, EX_NULL, L(@1)); }
    | '(' expr ')'                  { $$ = $2; }
    | expr '?' expr ':' expr        { $$ = new_expr(CC, EX_TERNARY, L(@1)); $$->a = $1; $$->b = $3; $$->c = $5; }
    | expr OROR expr                { $$ = new_binary(CC, OP_OROR, $1, $3, L(@2)); }
    | expr ANDAND expr              { $$ = new_binary(CC, OP_ANDAND, $1, $3, L(@2)); }
    | expr '|' expr                 { $$ = new_binary(CC, '|', $1, $3, L(@2)); }
    | expr '^' expr                 { $$ = new_binary(CC, '^', $1, $3, L(@2)); }
    | expr '&' expr                 { $$ = new_binary(CC, '&', $1, $3, L(@2)); }
    | expr EQ expr                  { $$ = new_binary(CC, OP_EQ, $1, $3, L(@2)); }
    | expr NE expr                  { $$ = new_binary(CC, OP_NE, $1, $3, L(@2)); }
    | expr '<' expr                 { $$ = new_binary(CC, '<', $1, $3, L(@2)); }
    | expr '>' expr                 { $$ = new_binary(CC, '>', $1, $3, L(@2)); }
    | expr LE expr                  { $$ = new_binary(CC, OP_LE, $1, $3, L(@2)); }
    | expr GE expr                  { $$ = new_binary(CC, OP_GE, $1, $3, L(@2)); }
    | expr SHL expr                 { $$ = new_binary(CC, OP_SHL, $1, $3, L(@2)); }
    | expr SHR expr                 { $$ = new_binary(CC, OP_SHR, $1, $3, L(@2)); }
    | expr '+' expr                 { $$ = new_binary(CC, '+', $1, $3, L(@2)); }
    | expr '-' expr                 { $$ = new_binary(CC, '-', $1, $3, L(@2)); }
    | expr '*' expr                 { $$ = new_binary(CC, '*', $1, $3, L(@2)); }
    | expr '/' expr                 { $$ = new_binary(CC, '/', $1, $3, L(@2)); }
    | expr '%' expr                 { $$ = new_binary(CC, '%', $1, $3, L(@2)); }
    | '-' expr %prec UNARY          { $$ = new_unary(CC, OP_NEG, $2, L(@1)); }
    | '+' expr %prec UNARY          { $$ = new_unary(CC, OP_POS, $2, L(@1)); }
    | '!' expr %prec UNARY          { $$ = new_unary(CC, OP_NOT, $2, L(@1)); }
    | '~' expr %prec UNARY          { $$ = new_unary(CC, OP_BITNOT, $2, L(@1)); }
    | '*' expr %prec UNARY          { $$ = new_unary(CC, OP_DEREF, $2, L(@1)); }
    | '&' expr %prec UNARY          { $$ = new_unary(CC, OP_ADDR, $2, L(@1)); }
    | '(' type_arg ')' expr %prec CAST { $$ = new_expr(CC, EX_CAST, L(@1)); $$->type = $2.type; $$->a = $4; }
    | tSIZEOF '(' type_arg ')'      { $$ = new_expr(CC, EX_SIZEOF, L(@1)); $$->type = $3.type; }
    | expr '.' IDENT                { $$ = new_expr(CC, EX_MEMBER, L(@2)); $$->a = $1; $$->text = $3; }
    | expr ARROW IDENT              { $$ = new_expr(CC, EX_PMEMBER, L(@2)); $$->a = $1; $$->text = $3; }
    | expr '[' expr ']'             { $$ = new_expr(CC, EX_INDEX, L(@2)); $$->a = $1; $$->b = $3; }
    ;

%%

#include "lexer.h"

static void yyerror(YYLTYPE *loc, yyscan_t scanner, ParseState *ps, const char *msg)
{
    (void)scanner;
    if (ps->nest_error)
        return;     /* already reported */
    if (!strcmp(msg, "memory exhausted"))
        msg = "declarations nested too deeply";
    error_at(ps->cc, L(*loc), "%s", msg);
}

List *list_new(Compiler *cc)
{
    return arena_alloc(cc->arena, sizeof(List));
}

/* A list longer than this moves to the heap (cc->heap_lists, freed with
 * the compiler), where it grows in place: doubling in the arena leaves
 * every smaller copy behind (#13: 160,000 statements kept 26 bytes each
 * of the file's statement list, 8 this way). */
#define LIST_HEAP_MIN 256

List *list_push(Compiler *cc, List *l, void *x)
{
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 2;
        if (cap > LIST_HEAP_MIN) {
            if (l->cap <= LIST_HEAP_MIN) {
                void **v = xmalloc(sizeof(void *) * (size_t)cap);
                memcpy(v, l->v, sizeof(void *) * (size_t)l->n);
                l->v = v;
                vec_push(&cc->heap_lists, l);
            } else {
                l->v = xrealloc(l->v, sizeof(void *) * (size_t)cap);
            }
            l->cap = cap;
        } else {
            void **v = arena_alloc(cc->arena, sizeof(void *) * (size_t)cap);
            if (l->n)
                memcpy(v, l->v, sizeof(void *) * (size_t)l->n);
            l->v = v;
            l->cap = cap;
        }
    }
    l->v[l->n++] = x;
    return l;
}

/* A list whose items are copied out by the rule that consumes it
 * (declarators, a field line's fields): in the scratch arena, which the
 * end of each statement frees (#13: 160,000 structures kept ~240 bytes
 * each of such lists) */
static List *slist_push(ParseState *ps, List *l, void *x)
{
    if (!l)
        l = arena_alloc(ps->scratch, sizeof(List));
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 2;
        void **v = arena_alloc(ps->scratch, sizeof(void *) * (size_t)cap);
        if (l->n)
            memcpy(v, l->v, sizeof(void *) * (size_t)l->n);
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = x;
    return l;
}

/* A scratch list of Vars (fields) copied out at its exact size (#13: a
 * structure's field list grown by doubling in the arena kept 64 bytes
 * for 3 fields). */
static Var **list_vars(ParseState *ps, List *l, int *n)
{
    *n = l->n;
    if (!l->n)
        return NULL;
    Var **v = arena_alloc(ps->cc->arena, sizeof(Var *) * (size_t)l->n);
    memcpy(v, l->v, sizeof(Var *) * (size_t)l->n);
    return v;
}

static Stmt **list_stmts(ParseState *ps, List *l, int *n)
{
    (void)ps;
    *n = l->n;
    return (Stmt **)l->v;
}

static void depth_push(ParseState *ps, Loc loc)
{
    if (++ps->depth == MAX_NEST_DEPTH)
        error_at(ps->cc, loc, "declarations nested too deeply (limit %d)", MAX_NEST_DEPTH);
}

static void depth_pop(ParseState *ps)
{
    ps->depth--;
}

static Declarator *new_decl(ParseState *ps, DeclKind k, Declarator *inner, Loc loc)
{
    Declarator *d = arena_alloc(ps->scratch, sizeof(Declarator));
    d->kind = k;
    d->inner = inner;
    d->loc = loc;
    return d;
}

static Type *basic(ParseState *ps, BasicKind b, int sign, Loc loc)
{
    (void)loc;
    /* one node per basic type and sign for the whole compilation */
    Compiler *cc = ps->cc;
    int slot = (int)b * 3 + sign + 1;
    if (!cc->basic_types[slot])
        cc->basic_types[slot] = new_basic(cc, b, sign, loc);
    return cc->basic_types[slot];
}

static Var *make_var(ParseState *ps, Attr *attrs, DeclSpec ds, Declarator *d)
{
    Compiler *cc = ps->cc;
    Var *v = new_var(cc, NULL, d ? d->loc : ds.type->loc);
    v->attrs = attrs;
    if (!d) {
        v->type = ds.type;
        v->qual = ds.qual;
        return v;
    }
    unsigned q = 0;
    v->type = declarator_apply(cc, d, ds.type, ds.qual, &q);
    v->qual = q;
    for (Declarator *x = d; x; x = x->inner)
        if (x->kind == DK_IDENT) {
            v->name = x->name;
            v->loc = x->loc;
        }
    if (d->init)
        VXW(ps->cc, v)->init = d->init;
    if (d->bits) {
        Type *bf = new_type(cc, TY_BITFIELD, NULL, d->bits->loc);
        bf->ref = v->type;
        bf->ref_qual = v->qual;
        TXW(cc, bf)->size = d->bits;
        v->type = bf;
        v->qual = 0;
    }
    return v;
}

/* The first declaration that uses a struct/union/enum right after its body
 * owns that body (the header prints it there). */
static bool claim_body(Type *t)
{
    if (!t->defined || t->checked ||
        !(t->kind == TY_STRUCT || t->kind == TY_UNION || t->kind == TY_ENUM || t->kind == TY_ENCUNION))
        return false;
    t->checked = true;
    return true;
}

/* v, one of the n declarators of s (the array made at its size on the first) */
static void add_decl(Compiler *cc, Stmt *s, int n, Var *v)
{
    if (!s->decls)
        s->decls = arena_alloc(cc->arena, sizeof(Var *) * (size_t)n);
    s->decls[s->ndecls++] = v;
}

static Stmt *do_typedef(ParseState *ps, Attr *attrs, DeclSpec ds, List *decls, Loc loc)
{
    Compiler *cc = ps->cc;
    Stmt *s = new_stmt(cc, ST_TYPEDEF, loc);
    s->type = ds.type;
    s->qual = ds.qual;
    s->attrs = attrs;
    s->defines_type = ds.type->defined && ds.type->loc.file == loc.file &&
                      (ds.type->kind == TY_STRUCT || ds.type->kind == TY_UNION ||
                       ds.type->kind == TY_ENUM || ds.type->kind == TY_ENCUNION) &&
                      !ds.type->checked;
    if (s->defines_type)
        ds.type->checked = true;   /* the body belongs to this statement */
    for (int i = 0; i < decls->n; i++) {
        Var *v = make_var(ps, attrs, ds, decls->v[i]);
        if (!v->name) {
            error_at(cc, v->loc, "typedef declares no name");
            continue;
        }
        Type *alias = new_type(cc, TY_ALIAS, v->name, v->loc);
        alias->ref = v->type;
        alias->ref_qual = v->qual;
        alias->attrs = attrs;
        if (ps->scope != cc->global)
            TXW(cc, alias)->ns = ps->scope;
        alias->imported = ps->file != cc->main_file;
        v->type = alias;
        v->qual = 0;
        scope_add_type(cc, ps->scope, alias, v->name);
        add_decl(cc, s, decls->n, v);
    }
    return s;
}

static Stmt *type_stmt(ParseState *ps, Attr *attrs, DeclSpec ds, Loc loc)
{
    Stmt *s = new_stmt(ps->cc, ST_TYPE, loc);
    s->type = ds.type;
    s->qual = ds.qual;
    s->attrs = attrs;
    s->defines_type = ds.type->defined && !ds.type->checked &&
                      (ds.type->kind == TY_STRUCT || ds.type->kind == TY_UNION ||
                       ds.type->kind == TY_ENUM || ds.type->kind == TY_ENCUNION);
    if (s->defines_type)
        ds.type->checked = true;
    if (attrs)
        ds.type->attrs = attr_append(attrs, ds.type->attrs);
    return s;
}

static Stmt *do_decl(ParseState *ps, Attr *attrs, DeclSpec ds, List *decls, Loc loc)
{
    Compiler *cc = ps->cc;
    Stmt *s = new_stmt(cc, ST_DECL, loc);
    s->type = ds.type;
    s->qual = ds.qual;
    s->attrs = attrs;
    s->defines_type = ds.type->defined && !ds.type->checked &&
                      (ds.type->kind == TY_STRUCT || ds.type->kind == TY_UNION ||
                       ds.type->kind == TY_ENUM || ds.type->kind == TY_ENCUNION);
    if (s->defines_type)
        ds.type->checked = true;
    bool is_const = false;
    for (int i = 0; i < decls->n; i++) {
        Var *v = make_var(ps, attrs, ds, decls->v[i]);
        if (!v->name) {
            error_at(cc, v->loc, "declaration declares no name");
            continue;
        }
        if (VX(v)->init && v->type->kind != TY_FUNCTION) {
            is_const = true;
            scope_add_const(cc, ps->scope, v);
        }
        add_decl(cc, s, decls->n, v);
    }
    if (is_const)
        s->kind = ST_CONST;
    return s;
}

/* struct/union/enum by tag: find the tag in the current scope chain or
 * declare it. A definition of an already-defined tag is an error. */
static Type *tagged(ParseState *ps, TypeKind k, const char *tag, Loc loc, bool defining)
{
    Compiler *cc = ps->cc;
    Type *t = tag ? scope_find_tag(ps->scope, tag) : NULL;
    const char *what = k == TY_ENUM ? "enum" : k == TY_STRUCT ? "struct" : "union";
    if (t && defining && t->defined) {
        if (!t->imported || ps->file == cc->main_file) {
            error_at(cc, loc, "redefinition of '%s %s'", what, tag);
            note_at(cc, t->loc, "previous definition of '%s %s' was here", what, tag);
        }
        t = NULL;
    }
    if (t && !((t->kind == k) || (k == TY_UNION && t->kind == TY_ENCUNION) || (k == TY_ENCUNION && t->kind == TY_UNION))) {
        error_at(cc, loc, "'%s' defined as the wrong kind of tag", tag);
        t = NULL;
    }
    if (!t) {
        t = new_type(cc, k, tag, loc);
        if (ps->scope != cc->global)
            TXW(cc, t)->ns = ps->scope;
        t->imported = ps->file != cc->main_file;
        if (!tag)
            TXW(CC, t)->gen_id = ++cc->anon_counter;
        else
            scope_add_tag(cc, ps->scope, t);
    }
    if (defining) {
        t->kind = k;
        t->defined = true;
        t->loc = loc;
        t->imported = ps->file != cc->main_file;
    }
    return t;
}

static Type *iface_decl(ParseState *ps, TypeKind k, const char *name, Type *existing, Loc loc)
{
    Compiler *cc = ps->cc;
    Type *t = existing;
    if (t && TX(t)->ns != (ps->scope == cc->global ? NULL : ps->scope))
        t = NULL;   /* a type of an outer scope: this declares a new one */
    if (t && t->kind != k && !(t->kind == TY_INTERFACE && k == TY_PARAMETERIZED)) {
        bool compatible = (k == TY_COCLASS && (t->kind == TY_RUNTIMECLASS || t->kind == TY_APICONTRACT)) ||
                          (k == TY_INTERFACE && t->kind == TY_DISPINTERFACE) ||
                          (k == TY_DISPINTERFACE && t->kind == TY_INTERFACE);
        if (!compatible) {
            error_at(cc, loc, "'%s' redeclared as a different kind of symbol", name);
            note_at(cc, t->loc, "previous declaration of '%s' was here", name);
            t = NULL;
        }
    }
    if (!t) {
        t = new_type(cc, k, name, loc);
        if (ps->scope != cc->global)
            TXW(cc, t)->ns = ps->scope;
        t->declared_only = true;
        t->imported = ps->file != cc->main_file;
        if (TX(t)->ns)
            TXW(cc, t)->qname = arena_printf(cc->arena, "%s.%s", TX(t)->ns->qname, name);
        scope_add_type(cc, ps->scope, t, name);
    } else if (t->kind == TY_DISPINTERFACE && k == TY_INTERFACE) {
        t->kind = k;
    }
    return t;
}

static Stmt *iface_stmt(ParseState *ps, StmtKind k, Type *t, Attr *attrs, Loc loc)
{
    Stmt *s = new_stmt(ps->cc, k, loc);
    s->type = t;
    s->attrs = attrs;
    if (k == ST_INTERFACE || k == ST_DISPINTERFACE || k == ST_COCLASS || k == ST_RUNTIMECLASS ||
        k == ST_DELEGATE || k == ST_MODULE) {
        if (t->defined && t->loc.file && t->checked && !t->imported) {
            error_at(ps->cc, loc, "redefinition of '%s'", t->name);
            note_at(ps->cc, t->loc, "previous definition of '%s' was here", t->name);
        }
        t->checked = true;
        t->loc = loc;
        t->imported = ps->file != ps->cc->main_file;
    }
    return s;
}

static List *import_file(ParseState *ps, const char *name, Loc loc)
{
    Compiler *cc = ps->cc;
    List *l = list_new(cc);
    Stmt *s = new_stmt(cc, ST_IMPORT, loc);
    s->text = name;
    s->file = compiler_import(cc, name, loc, true);
    if (s->file)
        vec_push(&ps->file->deps, (void *)s->file->path);
    list_push(cc, l, s);
    return l;
}

static Scope *enter_ns(ParseState *ps, List *names, Loc loc)
{
    (void)loc;
    Scope *s = ps->scope;
    for (int i = 0; i < names->n; i++)
        s = scope_child_ns(ps->cc, s, names->v[i]);
    return s;
}

static void set_tparams(ParseState *ps, List *names, Loc loc)
{
    Compiler *cc = ps->cc;
    Scope *s = scope_new(cc, "<params>", NULL);
    ps->tparam_v = arena_alloc(cc->arena, sizeof(Type *) * (size_t)(names->n ? names->n : 1));
    for (int i = 0; i < names->n; i++) {
        Type *p = new_type(cc, TY_PARAM, names->v[i], loc);
        scope_add_type(cc, s, p, names->v[i]);
        ps->tparam_v[i] = p;
    }
    ps->tparam_n = names->n;
    ps->tparams = s;
}

static Type *instantiate(ParseState *ps, Type *generic, List *args, Loc loc)
{
    Compiler *cc = ps->cc;
    bool generic_kind = generic->kind == TY_PARAMETERIZED || (generic->kind == TY_DELEGATE && TX(generic)->nparams > 0);
    if (!generic_kind)
        error_at(cc, loc, "'%s' is not a parameterized type", type_name_of(generic));
    else if (args->n != TX(generic)->nparams)
        error_at(cc, loc, "'%s' takes %d type argument%s, not %d", type_name_of(generic), TX(generic)->nparams,
                 TX(generic)->nparams == 1 ? "" : "s", args->n);
    Type *t = winrt_instantiate(cc, generic, (Type **)args->v, args->n, loc);
    if (!ps->tparams && TX(t)->winrt_concrete)
        winrt_note_use(cc, t, loc);
    return t;
}

static AcfItem *acf_item(ParseState *ps, AcfKind k, const char *name, Attr *attrs, Loc loc, List *items)
{
    AcfItem *it = arena_alloc(ps->cc->arena, sizeof *it);
    it->kind = k;
    it->name = name;
    it->attrs = attrs;
    it->loc = loc;
    if (items) {
        it->items = (AcfItem **)items->v;
        it->nitems = items->n;
    }
    return it;
}

int parse_file(Compiler *cc, File *f, char *text, size_t len)
{
    ParseState ps = {0};
    ps.cc = cc;
    ps.file = f;
    ps.scope = cc->global;
    ps.cur_file = f->path;
    ps.line = 1;
    ps.col = 1;
    ps.start_token = f->is_acf ? tACF : 0;
    ps.scratch = arena_new();
    yyscan_t scanner;
    if (yylex_init_extra(&ps, &scanner))
        out_of_memory();
    /* scan the caller's buffer in place (it ends in two NULs): no copy */
    YY_BUFFER_STATE buf = yy_scan_buffer(text, len + 2, scanner);
    if (!buf)
        out_of_memory();
    int before = cc->errors;
    int r = yyparse(scanner, &ps);
    yy_delete_buffer(buf, scanner);
    yylex_destroy(scanner);
    arena_free(ps.scratch);
    if (ps.stmts) {
        f->stmts = (Stmt **)ps.stmts->v;
        f->nstmts = ps.stmts->n;
    }
    if (ps.acf) {
        f->acf = (AcfItem **)ps.acf->v;
        f->nacf = ps.acf->n;
    }
    return r == 0 && cc->errors == before ? 0 : -1;
}
