/*
 * options.c - the command line: GNU-style options (both "-I DIR" and
 * "-IDIR", "--opt=V" and "--opt V"), widl's spellings and MIDL's.
 */
#include "driver.h"

#include <stdlib.h>
#include <string.h>

const char *progname = "amidl";

void usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "%s: error: ", progname);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry '%s --help' for more information.\n", progname);
    exit(2);
}

static void print_help(void)
{
    printf("Usage: %s [options] FILE.idl\n"
           "\n"
           "Compile a MIDL-style IDL file into C/C++ headers, IID definitions and the\n"
           "asynchronous call-object glue of libamidlrt.\n"
           "\n"
           "Preprocessor:\n"
           "  -I DIR                 add DIR to the include/import search path (in order,\n"
           "                         after the including file's directory)\n"
           "  -D NAME[=VAL]          define a macro\n"
           "  -U NAME                undefine a macro\n"
           "  -E                     preprocess only; write the result to stdout\n"
           "\n"
           "Output:\n"
           "  --check                parse and check only; write nothing\n"
           "  --outdir DIR           write outputs into DIR (default: current directory)\n"
           "  --header FILE          name the header (default: FILE.h)\n"
           "  --iid FILE             name the IID file (default: FILE_i.c)\n"
           "  --glue FILE            name the call-object glue (default: FILE_async.c)\n"
           "  --no-header, --no-iid, --no-glue\n"
           "                         do not write that output\n"
           "  --win32, --win64       target (default: win64, as x86_64-w64-mingw32-widl)\n"
           "\n"
           "Diagnostics:\n"
           "  -Werror                treat warnings as errors\n"
           "  -w                     suppress warnings\n"
           "  --color=WHEN           auto, always or never (NO_COLOR is honoured)\n"
           "  -fdiagnostics-format=msvc\n"
           "                         print file(line,col): error AMIDLnnnn: message\n"
           "\n"
           "  --help                 print this help and exit\n"
           "  --version              print the version and exit\n"
           "\n"
           "Exit status: 0 on success, 1 on an error in the input, 2 on a usage error.\n",
           progname);
}

static bool starts(const char *s, const char *p)
{
    return !strncmp(s, p, strlen(p));
}

void parse_options(Cli *cli, int argc, char **argv)
{
    Options *opt = &cli->opt;
    opt->color = -1;
    bool want_h = false, want_u = false;
    const char *widl_o = NULL;

    /* GNU-style parsing by hand: both "-I DIR" and "-IDIR", "--opt=V" and "--opt V". */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
#define NEXT_ARG(name) (i + 1 < argc ? argv[++i] : (usage_error("option '%s' requires an argument", name), NULL))
        bool midl = a[0] == '/' && (!strcmp(a, "/h") || !strcmp(a, "/header") || !strcmp(a, "/iid") ||
                                    !strcmp(a, "/out") || !strcmp(a, "/I") || !strcmp(a, "/D") ||
                                    !strcmp(a, "/env") || !strcmp(a, "/nologo") || !strcmp(a, "/proxy") ||
                                    !strcmp(a, "/tlb") || !strcmp(a, "/dlldata") || !strcmp(a, "/client") ||
                                    !strcmp(a, "/server"));
        if (!midl && (a[0] != '-' || !a[1])) {
            if (opt->input)
                usage_error("more than one input file ('%s')", a);
            opt->input = a;
        } else if (!strcmp(a, "--")) {
            if (i + 1 < argc)
                opt->input = argv[++i];
        } else if (starts(a, "-I")) {
            vec_push(&cli->incs, (void *)(a[2] ? a + 2 : NEXT_ARG("-I")));
        } else if (starts(a, "-D")) {
            vec_push(&cli->defs, (void *)(a[2] ? a + 2 : NEXT_ARG("-D")));
        } else if (starts(a, "-U") && strcmp(a, "-U")) {
            const char *n = a + 2;
            size_t l = strlen(n) + 2;
            char *s = xmalloc(l);
            snprintf(s, l, "-%s", n);
            vec_push(&cli->defs, s);
        } else if (!strcmp(a, "-U") && i + 1 < argc && strlen(argv[i + 1]) > 2 &&
                   !strcmp(argv[i + 1] + strlen(argv[i + 1]) - 2, ".c")) {
            opt->iid = argv[++i];                        /* widl: -U FILE_i.c */
            want_u = true;
        } else if (!strcmp(a, "-U")) {
            const char *n = NEXT_ARG("-U");
            size_t l = strlen(n) + 2;
            char *s = xmalloc(l);
            snprintf(s, l, "-%s", n);
            vec_push(&cli->defs, s);
        } else if (!strcmp(a, "-E")) {
            opt->preprocess_only = true;
        } else if (!strcmp(a, "--check")) {
            opt->check_only = true;
        } else if (!strcmp(a, "--outdir") || starts(a, "--outdir=")) {
            opt->outdir = a[8] == '=' ? a + 9 : NEXT_ARG("--outdir");
        } else if (!strcmp(a, "--header") || starts(a, "--header=")) {
            opt->header = a[8] == '=' ? a + 9 : NEXT_ARG("--header");
        } else if (!strcmp(a, "--iid") || starts(a, "--iid=")) {
            opt->iid = a[5] == '=' ? a + 6 : NEXT_ARG("--iid");
        } else if (!strcmp(a, "--glue") || starts(a, "--glue=")) {
            opt->glue = a[6] == '=' ? a + 7 : NEXT_ARG("--glue");
        } else if (!strcmp(a, "-MD")) {
            opt->dep_md = true;
        } else if (!strcmp(a, "-MF")) {
            opt->depfile = NEXT_ARG("-MF");
        } else if (!strcmp(a, "-MT")) {
            opt->deptarget = NEXT_ARG("-MT");
        } else if (!strcmp(a, "-MP")) {
            opt->dep_mp = true;
        } else if (!strcmp(a, "--verify")) {
            opt->verify = true;
        } else if (!strcmp(a, "--write-if-changed")) {
            opt->write_if_changed = true;
        } else if (!strcmp(a, "-h")) {                 /* widl: generate the header */
            want_h = true;
        } else if (!strcmp(a, "-u")) {                 /* widl: generate the IID file */
            want_u = true;
        } else if (!strcmp(a, "-H")) {
            opt->header = NEXT_ARG("-H");
            want_h = true;
        } else if (!strcmp(a, "-o") || starts(a, "--output=")) {
            widl_o = a[1] == 'o' ? NEXT_ARG("-o") : a + 9;
        } else if (!strcmp(a, "/h") || !strcmp(a, "/header")) {     /* MIDL */
            opt->header = NEXT_ARG(a);
        } else if (!strcmp(a, "/iid")) {
            opt->iid = NEXT_ARG(a);
        } else if (!strcmp(a, "/out")) {
            opt->outdir = NEXT_ARG(a);
        } else if (!strcmp(a, "/I")) {
            vec_push(&cli->incs, (void *)NEXT_ARG("/I"));
        } else if (!strcmp(a, "/D")) {
            vec_push(&cli->defs, (void *)NEXT_ARG("/D"));
        } else if (!strcmp(a, "/env")) {
            const char *env = NEXT_ARG("/env");
            if (!strcmp(env, "win64") || !strcmp(env, "x64") || !strcmp(env, "amd64"))
                opt->win32 = false;
            else if (!strcmp(env, "win32"))
                opt->win32 = true;
            else
                usage_error("/env '%s' is not supported (win32, win64)", env);
        } else if (!strcmp(a, "/nologo") || !strcmp(a, "-nologo")) {
            /* amidl prints no banner */
        } else if (!strcmp(a, "-p") || !strcmp(a, "-s") || !strcmp(a, "-c") || !strcmp(a, "-t") || !strcmp(a, "-r") ||
                   !strcmp(a, "/proxy") || !strcmp(a, "/tlb") || !strcmp(a, "/dlldata") || !strcmp(a, "/client") ||
                   !strcmp(a, "/server") || starts(a, "--prefix-")) {
            usage_error("'%s' is not supported: amidl writes no RPC proxy/stub, type library or registration code", a);
        } else if (!strcmp(a, "--no-header")) {
            opt->no_header = true;
        } else if (!strcmp(a, "--no-iid")) {
            opt->no_iid = true;
        } else if (!strcmp(a, "--no-glue")) {
            opt->no_glue = true;
        } else if (!strcmp(a, "--win32") || !strcmp(a, "-m32")) {
            opt->win32 = true;
        } else if (!strcmp(a, "--win64") || !strcmp(a, "-m64")) {
            opt->win32 = false;
        } else if (!strcmp(a, "-Werror")) {
            opt->werror = true;
        } else if (!strcmp(a, "-w")) {
            opt->no_warnings = true;
        } else if (starts(a, "--color")) {
            const char *v = a[7] == '=' ? a + 8 : "always";
            if (!strcmp(v, "auto")) opt->color = -1;
            else if (!strcmp(v, "always")) opt->color = 1;
            else if (!strcmp(v, "never")) opt->color = 0;
            else usage_error("invalid argument '%s' for '--color' (auto, always, never)", v);
        } else if (starts(a, "-fdiagnostics-format=")) {
            const char *v = a + 21;
            if (!strcmp(v, "msvc")) opt->msvc_format = true;
            else if (!strcmp(v, "gcc") || !strcmp(v, "text")) opt->msvc_format = false;
            else usage_error("invalid diagnostics format '%s' (gcc, msvc)", v);
        } else if (!strcmp(a, "--help") || !strcmp(a, "-?")) {
            print_help();
            exit(0);
        } else if (!strcmp(a, "--version") || !strcmp(a, "-V")) {
            printf("amidl %s\n", AMIDL_VERSION);
            exit(0);
        } else {
            usage_error("unrecognized option '%s'", a);
        }
#undef NEXT_ARG
    }
    if (!opt->input)
        usage_error("%s", "no input file");
    if (opt->dep_md || opt->depfile)
        if (opt->check_only || opt->preprocess_only)
            usage_error("%s", "-MD/-MF need outputs (not with --check or -E)");
    /* widl's -h/-u: write only what is asked for; -o names that output */
    if (want_h || want_u) {
        opt->no_header = !want_h;
        opt->no_iid = !want_u;
        if (!opt->glue)
            opt->no_glue = true;
    }
    if (widl_o) {
        if (want_u && !want_h)
            opt->iid = widl_o;
        else
            opt->header = widl_o;
    }

}
