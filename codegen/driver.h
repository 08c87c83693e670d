/*
 * driver.h - the parts of the driver (main.c reads as the pipeline):
 *
 *   options.c   the command line -> Cli (GNU, widl and MIDL spellings)
 *   driver.c    the compiler set up from Cli; the output files planned
 *   output.c    atomic output, --verify, dependency files
 */
#ifndef AMIDL_DRIVER_H
#define AMIDL_DRIVER_H

#include "../grammar/amidl.h"

extern const char *progname;

/* ---- options.c ---- */
typedef struct Cli {
    Options opt;            /* what the compiler itself reads */
    PtrVec incs, defs;      /* -I, -D/-U ("-NAME" for -U) in order */
    PtrVec args;            /* argv with @FILE expanded (owns the strings) */
    PtrVec owned;           /* other strings parse_options made ("-NAME" of -U) */
    const char *output;     /* -o FILE */
    const char *name;       /* --name: the stem of an IDL read from stdin */
    bool nostdinc;          /* --nostdinc, /no_def_idir */
    bool print_outputs;     /* --print-outputs */
    char *stdin_name;       /* "-": the name the IDL goes by (NAME.idl) */
    Buf stdin_text;
} Cli;

void parse_options(Cli *cli, int argc, char **argv);   /* exits on --help, --version, usage errors */
void usage_error(const char *fmt, const char *arg) __attribute__((noreturn));
void cli_free(Cli *cli);                                /* what parse_options allocated */

/* ---- driver.c ---- */
typedef struct Output {
    const char *name;       /* as given (or derived from the input) */
    char *path;             /* with --outdir */
    Buf data;
    bool on;
} Output;

enum { OUT_HEADER, OUT_IID, OUT_GLUE, OUT_DEP, NOUT };   /* OUT_DEP: -MD/-MF */

Compiler *setup_compiler(Cli *cli);
int read_input(Cli *cli, Compiler *cc);                 /* "-": stdin into memory; 0 or 1 */
File *load_input(Cli *cli, Compiler *cc);
int preprocess_only(Cli *cli, Compiler *cc);            /* -E [-o FILE]; the exit status */
void print_outputs(Output outs[NOUT]);
void plan_outputs(Cli *cli, Compiler *cc, Output outs[NOUT]);
int check_outputs(Cli *cli, Output outs[NOUT]);        /* 0, or 1 after an error message */
int generate(Compiler *cc, Output outs[NOUT]);         /* 0, 1 (input error) or 2 */
void free_outputs(Output outs[NOUT]);

/* ---- output.c ---- */
void output_init(void);                                 /* temporary files removed at exit and on signals */
int write_outputs(Cli *cli, Compiler *cc, Output outs[NOUT]);   /* depfile too; 0 or 1 */
int verify_outputs(Output outs[NOUT]);
void spill_outputs(Output outs[NOUT]);                 /* before generate, when writing: large outputs go to their temporary files as they grow */
int write_file(const char *path, const Buf *data, bool if_changed);   /* one file, as the outputs; 0 or 1 */                  /* 0 when equal, 1 otherwise */
bool same_file(const char *a, const char *b);
bool is_dir(const char *p);
char *join_path(const char *dir, const char *name);

#endif
