/*
 * driver.c - the compiler set up from the command line (colour, macros,
 * the search path), and the output files: their names, the checks made
 * before any work, and the emitters that fill them in memory.
 */
#include "driver.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *base_of(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static char *stem_of(const char *path)
{
    const char *b = base_of(path);
    const char *dot = strrchr(b, '.');
    size_t n = dot ? (size_t)(dot - b) : strlen(b);
    char *s = xmalloc(n + 1);
    memcpy(s, b, n);
    s[n] = 0;
    return s;
}

static Compiler *the_compiler;      /* freed at exit, whatever the path */

static void free_compiler(void)
{
    compiler_free(the_compiler);
    the_compiler = NULL;
}

static const char *exe_dir(void)
{
    static char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0)
        return NULL;
    buf[n] = 0;
    char *slash = strrchr(buf, '/');
    if (!slash)
        return NULL;
    *slash = 0;
    return buf;
}

/* Directories searched after -I: the runtime's base IDL, in the source
 * tree (bin/../runtime/idl) or installed (bin/../include/amidl). */
static void add_dir_real(PP *pp, const char *path)
{
    /* the directory's real path: no "bin/../include" in diagnostics and depfiles */
    char *real = realpath(path, NULL);
    pp_add_include_dir(pp, real ? real : path);
    /* pp keeps the pointer: real lives as long as the run */
}

static void add_default_dirs(PP *pp)
{
    const char *env = getenv("AMIDL_INCLUDE");
    if (env && *env) {
        char *copy = xstrdup(env);
        for (char *tok = strtok(copy, ":"); tok; tok = strtok(NULL, ":"))
            pp_add_include_dir(pp, tok);
        free(copy);
    }
    const char *d = exe_dir();
    if (!d)
        return;
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/../runtime/idl", d);
    if (is_dir(path))
        add_dir_real(pp, path);
    snprintf(path, sizeof path, "%s/../include/amidl", d);
    if (is_dir(path))
        add_dir_real(pp, path);
}

Compiler *setup_compiler(Cli *cli)
{
    Options *opt = &cli->opt;
    Compiler *cc = compiler_new(opt);
    the_compiler = cc;
    atexit(free_compiler);
    if (opt->color == 1)
        cc->color = true;
    else if (opt->color == -1)
        cc->color = isatty(2) && !getenv("NO_COLOR") && getenv("TERM") && strcmp(getenv("TERM"), "dumb");
    cc->msvc = opt->msvc_format;
    cc->werror = opt->werror;
    cc->nowarn = opt->no_warnings;
    diag_configure(cc);

    PP *pp = cc->pp;
    pp_define(pp, "__midl", "501");
    pp_define(pp, "__WIDL__", "1");
    pp_define(pp, "_WIN32", "1");
    if (!opt->win32)
        pp_define(pp, "_WIN64", "1");
    for (int i = 0; i < cli->defs.n; i++) {
        const char *d = cli->defs.v[i];
        if (d[0] == '-') {
            pp_undef(pp, d + 1);
            continue;
        }
        const char *eq = strchr(d, '=');
        if (eq) {
            char *name = arena_strndup(cc->arena, d, (size_t)(eq - d));
            pp_define(pp, name, eq + 1);
        } else {
            pp_define(pp, d, "1");
        }
    }
    for (int i = 0; i < cli->incs.n; i++)
        pp_add_include_dir(pp, cli->incs.v[i]);
    if (!cli->nostdinc)
        add_default_dirs(pp);
    return cc;
}

/* "-": the IDL from standard input, named NAME.idl after --name (or the
 * -o file's stem) in diagnostics, the banner and the header guard. */
int read_input(Cli *cli, Compiler *cc)
{
    (void)cc;
    Options *opt = &cli->opt;
    if (strcmp(opt->input, "-"))
        return 0;
    const char *stem_from = cli->name;
    if (!stem_from && cli->output && strcmp(cli->output, "-") && !opt->preprocess_only)
        stem_from = cli->output;
    if (!stem_from && opt->preprocess_only)
        stem_from = "stdin";
    if (!stem_from)
        usage_error("%s", "the IDL comes from standard input: give --name NAME (or -o FILE) to name the outputs");
    char *stem = stem_of(stem_from);
    size_t n = strlen(stem) + 5;
    cli->stdin_name = xmalloc(n);
    snprintf(cli->stdin_name, n, "%s.idl", stem);
    free(stem);
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, stdin)) > 0) {
        buf_write(&cli->stdin_text, chunk, got);
        if (cli->stdin_text.len > (size_t)MAX_FILE_SIZE) {
            fprintf(stderr, "%s: error: standard input is larger than %ld bytes\n", progname, MAX_FILE_SIZE);
            return 1;
        }
    }
    if (ferror(stdin)) {
        fprintf(stderr, "%s: error: cannot read standard input\n", progname);
        return 1;
    }
    return 0;
}

File *load_input(Cli *cli, Compiler *cc)
{
    if (cli->stdin_name)
        return compiler_load_text(cc, cli->stdin_name, cli->stdin_text.data ? cli->stdin_text.data : "",
                                  cli->stdin_text.len);
    return compiler_load_main(cc, cli->opt.input);
}

int preprocess_only(Cli *cli, Compiler *cc)
{
    Options *opt = &cli->opt;
    Buf out = {0};
    int r = cli->stdin_name ? pp_text(cc->pp, cli->stdin_name, cli->stdin_text.data ? cli->stdin_text.data : "",
                                      cli->stdin_text.len, &out)
                            : pp_file(cc->pp, opt->input, &out);
    int rc = diag_finish(cc) || r ? 1 : 0;
    if (rc == 0) {
        if (opt->header)                /* -E -o FILE */
            rc = write_file(opt->header, &out, false);
        else
            fwrite(out.data, 1, out.len, stdout);
    }
    buf_free(&out);
    return rc;
}

static char *name_or(const char *given, const char *stem, const char *suffix)
{
    if (given)
        return xstrdup(given);
    size_t n = strlen(stem) + strlen(suffix) + 1;
    char *s = xmalloc(n);
    snprintf(s, n, "%s%s", stem, suffix);
    return s;
}

static char *header_base;   /* the header's name in its guard and in the glue's #include */

void plan_outputs(Cli *cli, Compiler *cc, Output outs[NOUT])
{
    Options *opt = &cli->opt;
    char *stem = stem_of(cli->stdin_name ? cli->stdin_name : opt->input);
    outs[OUT_HEADER] = (Output){ name_or(opt->header, stem, ".h"), NULL, {0}, !opt->no_header };
    outs[OUT_IID] = (Output){ name_or(opt->iid, stem, "_i.c"), NULL, {0}, !opt->no_iid };
    outs[OUT_GLUE] = (Output){ name_or(opt->glue, stem, "_async.c"), NULL, {0}, !opt->no_glue && file_has_async(cc) };
    /* --glue FILE asks for the glue even when the file has no async interface */
    if (opt->glue && !opt->no_glue)
        outs[OUT_GLUE].on = true;
    const char *h = outs[OUT_HEADER].name;
    /* a header written to stdout is still STEM.h to the guard and the glue */
    if (!strcmp(h, "-") || !strcmp(h, "/dev/stdout") || !strncmp(h, "/dev/fd/", 8) || !strncmp(h, "/proc/", 6))
        header_base = name_or(NULL, stem, ".h");
    else
        header_base = xstrdup(base_of(h));
    outs[OUT_DEP] = (Output){ name_or(opt->depfile, stem, ".d"), NULL, {0}, opt->dep_md || opt->depfile };
    for (int i = 0; i < OUT_DEP; i++)
        outs[i].path = join_path(opt->outdir, outs[i].name);
    /* -MF FILE is a path of its own; -MD alone writes STEM.d beside the outputs */
    outs[OUT_DEP].path = opt->depfile ? xstrdup(opt->depfile) : join_path(opt->outdir, outs[OUT_DEP].name);
    free(stem);
}

int check_outputs(Cli *cli, Output outs[NOUT])
{
    Options *opt = &cli->opt;
    for (int i = 0; i < OUT_DEP; i++)
        if (outs[i].on && !cli->stdin_name && same_file(outs[i].path, opt->input)) {
            fprintf(stderr, "%s: error: refusing to overwrite the input file '%s'\n", progname, opt->input);
            return 1;
        }
    for (int i = 0; i < NOUT; i++)
        for (int j = i + 1; j < NOUT; j++)
            if (outs[i].on && outs[j].on && !strcmp(outs[i].path, outs[j].path)) {
                fprintf(stderr, "%s: error: two outputs would be written to '%s'\n", progname, outs[i].path);
                return 1;
            }
    if (opt->outdir && !is_dir(opt->outdir)) {
        fprintf(stderr, "%s: error: output directory '%s' does not exist\n", progname, opt->outdir);
        return 1;
    }
    return 0;
}

int generate(Compiler *cc, Output outs[NOUT])
{
    const char *hbase = header_base;
    int rs[3] = {0, 0, 0};
    if (outs[OUT_HEADER].on)
        rs[0] = emit_header(cc, &outs[OUT_HEADER].data, hbase);
    if (outs[OUT_IID].on && rs[0] == 0)
        rs[1] = emit_iid(cc, &outs[OUT_IID].data);
    if (outs[OUT_GLUE].on && rs[0] == 0 && rs[1] == 0)
        rs[2] = emit_glue(cc, &outs[OUT_GLUE].data, hbase);
    for (int i = 0; i < 3; i++)
        if (rs[i] == -2) {
            fprintf(stderr, "%s: error: writing '%s' is not implemented yet (use --check)\n", progname, outs[i].name);
            return 2;
        }
    if (rs[0] || rs[1] || rs[2] || diag_finish(cc))
        return 1;
    return 0;
}

void print_outputs(Output outs[NOUT])
{
    for (int i = 0; i < NOUT; i++)
        if (outs[i].on)
            printf("%s\n", outs[i].path);
}

void free_outputs(Output outs[NOUT])
{
    free(header_base);
    header_base = NULL;
    for (int i = 0; i < NOUT; i++) {
        buf_free(&outs[i].data);
        free(outs[i].path);
        free((char *)outs[i].name);
    }
}
