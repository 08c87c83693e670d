/*
 * options.c - the command line: GNU-style options (both "-I DIR" and
 * "-IDIR", "--opt=V" and "--opt V"), widl's spellings, MIDL's /switches
 * (one table, below) and response files (@FILE).
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

/* The option list here and the man page's (docs/amidl.1) are compared by
 * tests/suites/cli.sh: a new option goes into both. */
static void print_warnings(void)
{
    printf("Warnings (-WNAME; the code in -fdiagnostics-format=msvc; *: off by default):\n");
    for (int w = 0; w < W_COUNT; w++)
        printf("  -W%-20s AMIDL%04d%s %s\n", warning_name(w), warning_code(w), warning_default(w) ? " " : "*",
               warning_help(w));
}

static void print_help(void)
{
    printf("Usage: %s [options] FILE.idl     (FILE '-': the IDL from standard input)\n"
           "\n"
           "Compile a MIDL-style IDL file into C/C++ headers, IID definitions and the\n"
           "asynchronous call-object glue of libamidlrt.\n"
           "\n"
           "Preprocessor:\n"
           "  -I DIR                 add DIR to the include/import search path (in order,\n"
           "                         after the including file's directory)\n"
           "  -D NAME[=VAL]          define a macro\n"
           "  -U NAME                undefine a macro\n"
           "  --nostdinc             do not search AMIDL_INCLUDE and the base IDL's directory\n"
           "  -E                     preprocess only; write the result to stdout (or -o FILE)\n"
           "\n"
           "Output:\n"
           "  --check                parse and check only; write nothing\n"
           "  --outdir DIR           write outputs into DIR (default: current directory)\n"
           "  --header FILE          name the header (default: FILE.h), relative to --outdir\n"
           "  --iid FILE             name the IID file (default: FILE_i.c), relative to --outdir\n"
           "  --glue FILE            name the call-object glue (default: FILE_async.c), likewise\n"
           "  --no-header, --no-iid, --no-glue\n"
           "                         do not write that output\n"
           "  --name NAME            the outputs' stem when the IDL comes from stdin ('-')\n"
           "  -o FILE                write only FILE: the header, or FILE_i.c / FILE_async.c\n"
           "                         by its suffix; '-' and /dev/stdout are standard output\n"
           "  --print-outputs        print the files amidl would write, one a line; write none\n"
           "  --write-if-changed     leave an output whose content would not change untouched\n"
           "  --no-banner-version    leave amidl's version out of the outputs' first line\n"
           "  --win32, --win64, -m32, -m64\n"
           "                         target (default: win64, as x86_64-w64-mingw32-widl)\n"
           "\n"
           "Dependencies (as gcc):\n"
           "  -MD                    write a make dependency file FILE.d beside the outputs\n"
           "  -MF FILE               ... named FILE\n"
           "  -MT TARGET             ... with TARGET as the target\n"
           "  -MP                    ... with a phony target for each dependency\n"
           "\n"
           "Golden files:\n"
           "  --verify               compare the files on disk with what amidl generates: a\n"
           "                         diff that patch -p1 and git apply accept, exit 1 on drift\n"
           "\n"
           "Diagnostics:\n"
           "  -WNAME, -Wno-NAME      report (or not) the warning NAME (list below)\n"
           "  -Wall, -Wextra, -W     every warning, the ones off by default too\n"
           "  -Werror, -Wno-error    treat warnings as errors (or not)\n"
           "  -Werror=NAME, -Wno-error=NAME\n"
           "                         make the warning NAME an error (or not)\n"
           "  -w                     suppress warnings\n"
           "  --color=WHEN           auto, always or never (NO_COLOR is honoured)\n"
           "  -fdiagnostics-format=msvc\n"
           "                         print file(line,col): error AMIDLnnnn: message\n"
           "  Each warning ends with its flag ([-WNAME]); the run ends with\n"
           "  'N warnings and N errors generated.'\n"
           "\n", progname);
    print_warnings();
    printf("\n"
           "  @FILE                  read more arguments from FILE (as gcc and MIDL)\n"
           "  --help, -?, /?         print this help and exit\n"
           "  --version, -V          print the version and exit\n"
           "\n"
           "widl spellings: -h (header only), -H FILE, -u (IID file only), -U FILE_i.c,\n"
           "  -o FILE, --output=FILE, -b TARGET (i686-*: win32), --nostdinc, -W (as -Wall),\n"
           "  --acf FILE (the ACF file; default: FILE.acf beside FILE.idl, if there);\n"
           "  ignored with a note: -app_config, -robust. -c -s -p -t -r and --prefix-*\n"
           "  (stubs, type libraries) are refused.\n"
           "MIDL spellings: /h /header FILE, /iid FILE, /acf FILE, /out DIR, /I DIR,\n"
           "  /D NAME, /U NAME, /env win32|win64|x64|amd64|arm64, /win32, /win64, /amd64,\n"
           "  /W0, /WX, /no_warn, /no_def_idir, /syntax_check, /Zs, /o FILE (diagnostics\n"
           "  to FILE), /nologo, /notlb, /help; switches that cannot matter here (/char,\n"
           "  /robust, /W1.../W4, /Oicf, /target...) are ignored with a note; the rest are\n"
           "  refused (/tlb, /proxy...).\n"
           "\n"
           "Environment: AMIDL_INCLUDE (colon-separated directories searched after -I),\n"
           "  NO_COLOR.\n"
           "\n"
           "Exit status: 0 on success, 1 on an error in the input or drift found by\n"
           "--verify, 2 on a usage error.\n");
}

static bool starts(const char *s, const char *p)
{
    return !strncmp(s, p, strlen(p));
}

/* ---- MIDL's switches (its command-line reference, every entry) ---- */
typedef enum {
    M_HEADER, M_IID, M_OUT, M_INC, M_DEF, M_UNDEF, M_ENV, M_WIN32, M_WIN64, M_NOWARN, M_WERROR,
    M_NOSTDINC, M_CHECK, M_MSGFILE, M_HELP, M_QUIET, M_ACF,        /* mapped */
    M_IGNORE,       /* accepted, ignored with a note */
    M_REFUSE,       /* unsupported MIDL option */
} MidlAction;

typedef struct MidlSwitch {
    const char *name;
    bool arg;               /* takes the next argument */
    MidlAction act;
    const char *why;        /* M_IGNORE's note, M_REFUSE's hint */
} MidlSwitch;

#define NOSTUB "amidl writes no RPC stubs"
#define NOTLB "amidl writes no type library"
#define WLEVEL "amidl's warnings are switched one by one: -WNAME, -Wno-NAME, -Wall"
static const MidlSwitch midl_switches[] = {
    { "acf", true, M_ACF, NULL },
    { "align", true, M_IGNORE, NOSTUB },
    { "amd64", false, M_WIN64, NULL },
    { "app_config", false, M_IGNORE, "ACF attributes in the IDL are accepted as they are" },
    { "backward_compat", false, M_IGNORE, NOSTUB },
    { "c_ext", false, M_IGNORE, "Microsoft C extensions are always accepted" },
    { "caux", true, M_REFUSE, NOSTUB },
    { "char", true, M_IGNORE, NOSTUB },
    { "client", true, M_REFUSE, NOSTUB },
    { "confirm", false, M_REFUSE, "amidl has no dry run of its options" },
    { "cpp_cmd", true, M_IGNORE, "amidl has its own preprocessor" },
    { "cpp_opt", true, M_IGNORE, "amidl has its own preprocessor; give -D/-I" },
    { "cstruct_out", false, M_IGNORE, NOSTUB },
    { "cstub", true, M_REFUSE, NOSTUB },
    { "D", true, M_DEF, NULL },
    { "dlldata", true, M_REFUSE, NOSTUB },
    { "env", true, M_ENV, NULL },
    { "error", true, M_IGNORE, NOSTUB },
    { "h", true, M_HEADER, NULL },
    { "header", true, M_HEADER, NULL },
    { "help", false, M_HELP, NULL },
    { "?", false, M_HELP, NULL },
    { "ia64", false, M_REFUSE, "targets: win32, win64" },
    { "I", true, M_INC, NULL },
    { "iid", true, M_IID, NULL },
    { "import", true, M_REFUSE, "amidl declares imported files through their headers" },
    { "lcid", true, M_IGNORE, NOTLB },
    { "mktyplib203", false, M_REFUSE, NOTLB },
    { "ms_ext", false, M_IGNORE, "Microsoft extensions are always accepted" },
    { "ms_union", false, M_IGNORE, NOSTUB },
    { "msc_ver", true, M_IGNORE, "the header is the same for every compiler" },
    { "new", false, M_IGNORE, NOTLB },
    { "newtlb", false, M_IGNORE, NOTLB },
    { "no_cpp", false, M_REFUSE, "amidl always preprocesses" },
    { "nocpp", false, M_REFUSE, "amidl always preprocesses" },
    { "no_default_epv", false, M_IGNORE, NOSTUB },
    { "no_def_idir", false, M_NOSTDINC, NULL },
    { "no_format_opt", false, M_IGNORE, NOSTUB },
    { "no_robust", false, M_IGNORE, NOSTUB },
    { "no_warn", false, M_NOWARN, NULL },
    { "nologo", false, M_QUIET, NULL },
    { "notlb", false, M_QUIET, NULL },
    { "o", true, M_MSGFILE, NULL },
    { "Oi", false, M_IGNORE, NOSTUB },
    { "Oic", false, M_IGNORE, NOSTUB },
    { "Oicf", false, M_IGNORE, NOSTUB },
    { "Oif", false, M_IGNORE, NOSTUB },
    { "old", false, M_IGNORE, NOTLB },
    { "oldtlb", false, M_IGNORE, NOTLB },
    { "oldnames", false, M_IGNORE, "amidl writes no RPC interface handles" },
    { "Os", false, M_IGNORE, NOSTUB },
    { "osf", false, M_IGNORE, "Microsoft extensions stay accepted" },
    { "out", true, M_OUT, NULL },
    { "pack", true, M_IGNORE, NOSTUB },
    { "prefix", true, M_REFUSE, NOSTUB },
    { "protocol", true, M_IGNORE, NOSTUB },
    { "proxy", true, M_REFUSE, NOSTUB },
    { "robust", false, M_IGNORE, NOSTUB },
    { "rpcss", false, M_IGNORE, NOSTUB },
    { "sal", false, M_IGNORE, "amidl's headers carry no SAL annotations" },
    { "sal_local", false, M_IGNORE, "amidl's headers carry no SAL annotations" },
    { "saux", true, M_REFUSE, NOSTUB },
    { "savePP", false, M_REFUSE, "use -E" },
    { "server", true, M_REFUSE, NOSTUB },
    { "sstub", true, M_REFUSE, NOSTUB },
    { "syntax_check", false, M_CHECK, NULL },
    { "target", true, M_IGNORE, "the header is the same for every Windows version" },
    { "tlb", true, M_REFUSE, NOTLB },
    { "U", true, M_UNDEF, NULL },
    { "use_epv", false, M_IGNORE, NOSTUB },
    { "version_stamp", false, M_IGNORE, "amidl's banner is its own (see --no-banner-version)" },
    { "W0", false, M_NOWARN, NULL },
    { "W1", false, M_IGNORE, WLEVEL },
    { "W2", false, M_IGNORE, WLEVEL },
    { "W3", false, M_IGNORE, WLEVEL },
    { "W4", false, M_IGNORE, WLEVEL },
    { "warn", true, M_IGNORE, WLEVEL },
    { "win32", false, M_WIN32, NULL },
    { "win64", false, M_WIN64, NULL },
    { "x64", false, M_WIN64, NULL },
    { "WX", false, M_WERROR, NULL },
    { "Zp", false, M_IGNORE, NOSTUB },
    { "Zs", false, M_CHECK, NULL },
};

static const MidlSwitch *midl_find(const char *name)
{
    for (size_t i = 0; i < sizeof midl_switches / sizeof *midl_switches; i++)
        if (!strcmp(midl_switches[i].name, name))
            return &midl_switches[i];
    if (starts(name, "Zp") && name[2])         /* /Zp8: the value joined */
        return midl_find("Zp");
    return NULL;
}

/* "/name": a MIDL switch when it has no other '/' and no '.' (an absolute
 * path such as /tmp/a.idl is an input file). */
static bool looks_like_switch(const char *a)
{
    return a[0] == '/' && a[1] && !strchr(a + 1, '/') && !strchr(a, '.');
}

static void note(const char *a, const char *why)
{
    fprintf(stderr, "%s: note: '%s' ignored: %s\n", progname, a, why);
}

/* ---- response files: @FILE, words split as gcc does ('...', "...", \) ---- */
static void expand_response(PtrVec *out, const char *arg, int depth);

static void split_words(PtrVec *out, const char *text, int depth)
{
    const char *p = text;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
        if (!*p)
            break;
        Buf w = {0};
        char quote = 0;
        for (; *p; p++) {
            if (quote) {
                if (*p == quote)
                    quote = 0;
                else if (*p == '\\' && quote == '"' && p[1])
                    buf_putc(&w, *++p);
                else
                    buf_putc(&w, *p);
            } else if (*p == '\'' || *p == '"') {
                quote = *p;
            } else if (*p == '\\' && p[1]) {
                buf_putc(&w, *++p);
            } else if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
                break;
            } else {
                buf_putc(&w, *p);
            }
        }
        buf_putc(&w, 0);
        expand_response(out, w.data, depth);
        buf_free(&w);
    }
}

static void expand_response(PtrVec *out, const char *arg, int depth)
{
    if (arg[0] != '@' || !arg[1]) {
        vec_push(out, xstrdup(arg));
        return;
    }
    if (depth >= 16)
        usage_error("response files nested too deeply ('%s')", arg);
    FILE *f = fopen(arg + 1, "rb");
    if (!f)
        usage_error("cannot read response file '%s'", arg + 1);
    Buf text = {0};
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_write(&text, chunk, n);
    fclose(f);
    buf_putc(&text, 0);
    split_words(out, text.data, depth + 1);
    buf_free(&text);
}

static void push_undef(Cli *cli, const char *name)
{
    size_t l = strlen(name) + 2;
    char *s = xmalloc(l);
    snprintf(s, l, "-%s", name);
    vec_push(&cli->defs, s);
    vec_push(&cli->owned, s);
}

static void set_env(Options *opt, const char *env)
{
    if (!strcmp(env, "win64") || !strcmp(env, "x64") || !strcmp(env, "amd64") || !strcmp(env, "arm64"))
        opt->win32 = false;
    else if (!strcmp(env, "win32") || !strcmp(env, "arm32"))
        opt->win32 = true;
    else
        usage_error("/env '%s' is not supported (win32, win64, x64, amd64, arm32, arm64)", env);
}

static bool ends(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

void cli_free(Cli *cli)
{
    for (int i = 0; i < cli->args.n; i++)
        free(cli->args.v[i]);
    vec_free(&cli->args);
    for (int i = 0; i < cli->owned.n; i++)
        free(cli->owned.v[i]);
    vec_free(&cli->owned);
    vec_free(&cli->incs);
    vec_free(&cli->defs);
}

void parse_options(Cli *cli, int argc, char **argv)
{
    Options *opt = &cli->opt;
    opt->color = -1;
    bool want_h = false, want_u = false, no_more_options = false;
    bool saw_outdir = false;

    PtrVec args = {0};
    for (int i = 1; i < argc; i++)
        expand_response(&args, argv[i], 0);
    cli->args = args;
    int nargs = args.n;
    char **av = (char **)args.v;

    for (int i = 0; i < nargs; i++) {
        const char *a = av[i];
#define NEXT_ARG(name) (i + 1 < nargs ? av[++i] : (usage_error("option '%s' requires an argument", name), NULL))
        if (no_more_options || (a[0] != '-' && !looks_like_switch(a)) || !strcmp(a, "-")) {
            if (opt->input)
                usage_error("more than one input file ('%s')", a);
            opt->input = a;
        } else if (!strcmp(a, "--")) {
            no_more_options = true;
        } else if (a[0] == '/') {
            const MidlSwitch *m = midl_find(a + 1);
            if (!m)
                usage_error("unsupported MIDL option '%s'", a);
            const char *v = m->arg ? NEXT_ARG(a) : NULL;
            switch (m->act) {
            case M_HEADER: opt->header = v; break;
            case M_IID: opt->iid = v; break;
            case M_OUT: opt->outdir = v; saw_outdir = true; break;
            case M_INC: vec_push(&cli->incs, (void *)v); break;
            case M_DEF: vec_push(&cli->defs, (void *)v); break;
            case M_UNDEF: push_undef(cli, v); break;
            case M_ENV: set_env(opt, v); break;
            case M_WIN32: opt->win32 = true; break;
            case M_WIN64: opt->win32 = false; break;
            case M_NOWARN: opt->no_warnings = true; break;
            case M_WERROR: opt->werror = true; break;
            case M_NOSTDINC: cli->nostdinc = true; break;
            case M_CHECK: opt->check_only = true; break;
            case M_ACF: opt->acf = v; break;
            case M_MSGFILE:
                if (!freopen(v, "w", stderr))
                    exit(2);
                break;
            case M_HELP: print_help(); exit(0);
            case M_QUIET: break;        /* amidl prints no logo and writes no type library */
            case M_IGNORE: note(a, m->why); break;
            case M_REFUSE:
                fprintf(stderr, "%s: error: unsupported MIDL option '%s' (%s)\n", progname, a, m->why);
                exit(2);
            }
        } else if (starts(a, "-I")) {
            vec_push(&cli->incs, (void *)(a[2] ? a + 2 : NEXT_ARG("-I")));
        } else if (starts(a, "-D")) {
            vec_push(&cli->defs, (void *)(a[2] ? a + 2 : NEXT_ARG("-D")));
        } else if (starts(a, "-U") && strcmp(a, "-U")) {
            push_undef(cli, a + 2);
        } else if (!strcmp(a, "-U") && i + 1 < nargs && ends(av[i + 1], ".c") && strlen(av[i + 1]) > 2) {
            opt->iid = av[++i];                        /* widl: -U FILE_i.c */
            want_u = true;
        } else if (!strcmp(a, "-U")) {
            push_undef(cli, NEXT_ARG("-U"));
        } else if (!strcmp(a, "-E")) {
            opt->preprocess_only = true;
        } else if (!strcmp(a, "--check")) {
            opt->check_only = true;
        } else if (!strcmp(a, "--outdir") || starts(a, "--outdir=")) {
            opt->outdir = a[8] == '=' ? a + 9 : NEXT_ARG("--outdir");
            saw_outdir = true;
        } else if (!strcmp(a, "--header") || starts(a, "--header=")) {
            opt->header = a[8] == '=' ? a + 9 : NEXT_ARG("--header");
        } else if (!strcmp(a, "--iid") || starts(a, "--iid=")) {
            opt->iid = a[5] == '=' ? a + 6 : NEXT_ARG("--iid");
        } else if (!strcmp(a, "--glue") || starts(a, "--glue=")) {
            opt->glue = a[6] == '=' ? a + 7 : NEXT_ARG("--glue");
        } else if (!strcmp(a, "--name") || starts(a, "--name=")) {
            cli->name = a[6] == '=' ? a + 7 : NEXT_ARG("--name");
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
        } else if (!strcmp(a, "--print-outputs")) {
            cli->print_outputs = true;
        } else if (!strcmp(a, "--no-banner-version")) {
            opt->no_banner_version = true;
        } else if (!strcmp(a, "--nostdinc")) {
            cli->nostdinc = true;
        } else if (!strcmp(a, "-h")) {                 /* widl: generate the header */
            want_h = true;
        } else if (!strcmp(a, "-u")) {                 /* widl: generate the IID file */
            want_u = true;
        } else if (!strcmp(a, "-H")) {
            opt->header = NEXT_ARG("-H");
            want_h = true;
        } else if (!strcmp(a, "-o") || starts(a, "--output=")) {
            if (cli->output)
                usage_error("more than one -o ('%s')", a[1] == 'o' && i + 1 < nargs ? av[i + 1] : a);
            cli->output = a[1] == 'o' ? NEXT_ARG("-o") : a + 9;
        } else if (!strcmp(a, "-b")) {                 /* widl: -b TARGET (a GNU triplet) */
            const char *t = NEXT_ARG("-b");
            opt->win32 = starts(t, "i386") || starts(t, "i486") || starts(t, "i586") || starts(t, "i686") ||
                         starts(t, "arm-") || starts(t, "armv7");
        } else if (!strcmp(a, "--acf") || starts(a, "--acf=")) {
            opt->acf = a[5] == '=' ? a + 6 : NEXT_ARG("--acf");
        } else if (!strcmp(a, "-W") || !strcmp(a, "-Wall") || !strcmp(a, "-Wextra")) {
            for (int w = 0; w < W_COUNT; w++)       /* widl's -W: the pedantic warnings too */
                opt->warn[w] = 1;
        } else if (!strcmp(a, "-app_config") || !strcmp(a, "-robust") || !strcmp(a, "--robust")) {
            note(a, !strcmp(a, "-app_config") ? "ACF attributes in the IDL are accepted as they are" : NOSTUB);
        } else if (!strcmp(a, "-nologo")) {
            /* amidl prints no banner */
        } else if (!strcmp(a, "-p") || !strcmp(a, "-s") || !strcmp(a, "-c") || !strcmp(a, "-t") || !strcmp(a, "-r") ||
                   starts(a, "--prefix-")) {
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
        } else if (!strcmp(a, "-Werror") || !strcmp(a, "-Wno-error")) {
            opt->werror = a[2] == 'e';          /* as gcc: -Wno-error undoes -Werror */
        } else if (starts(a, "-Werror=") || starts(a, "-Wno-error=")) {
            bool on = a[2] != 'n';
            int w = warning_lookup(a + (on ? 8 : 11));
            if (w < 0)
                usage_error("unknown warning option '%s' (amidl --help lists the warnings)", a);
            opt->warn_error[w] = on ? 1 : -1;
            if (on)
                opt->warn[w] = 1;               /* as gcc: -Werror=NAME also enables NAME */
        } else if (starts(a, "-W") && a[2]) {
            bool on = !starts(a, "-Wno-");
            int w = warning_lookup(a + (on ? 2 : 5));
            if (w < 0)
                usage_error("unknown warning option '%s' (amidl --help lists the warnings)", a);
            opt->warn[w] = on ? 1 : -1;
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
    (void)saw_outdir;
    if (!opt->input)
        usage_error("%s", "no input file");

    /* combinations that cannot all be meant: usage errors, never a silent pass */
    const char *modes[4] = {0};
    int nmodes = 0;
    if (opt->preprocess_only) modes[nmodes++] = "-E";
    if (opt->check_only) modes[nmodes++] = "--check";
    if (opt->verify) modes[nmodes++] = "--verify";
    if (cli->print_outputs) modes[nmodes++] = "--print-outputs";
    if (nmodes > 1) {
        fprintf(stderr, "%s: error: %s and %s cannot be combined\n", progname, modes[0], modes[1]);
        fprintf(stderr, "Try '%s --help' for more information.\n", progname);
        exit(2);
    }
    if (opt->dep_md || opt->depfile || opt->deptarget || opt->dep_mp)
        if (opt->check_only || opt->preprocess_only || opt->verify)
            usage_error("%s", "-MD/-MF/-MT/-MP need outputs (not with --check, -E or --verify)");
    if (opt->write_if_changed && (opt->check_only || opt->preprocess_only || opt->verify || cli->print_outputs))
        usage_error("%s", "--write-if-changed writes outputs (not with --check, -E, --verify or --print-outputs)");
    if ((opt->deptarget || opt->dep_mp) && !opt->dep_md && !opt->depfile)
        usage_error("%s", "-MT/-MP need -MD or -MF");
    if ((opt->no_header && opt->header) || (opt->no_iid && opt->iid) || (opt->no_glue && opt->glue))
        usage_error("%s", "an output is both named and switched off (--header with --no-header...)");
    if (cli->name && strcmp(opt->input, "-"))
        usage_error("%s", "--name names the outputs of an IDL read from standard input ('-')");

    if (opt->preprocess_only) {
        opt->header = cli->output;      /* -E -o FILE */
        return;
    }
    /* widl's -h/-u: write only what is asked for; -o names that output */
    if (cli->output && !want_h && !want_u) {
        /* -o alone writes only that file, chosen by its suffix (as widl) */
        const char *o = cli->output;
        if (ends(o, "_p.c") || ends(o, "_c.c") || ends(o, "_s.c") || ends(o, ".tlb") || ends(o, "_r.rgs") ||
            ends(o, "dlldata.c"))
            usage_error("-o '%s': amidl writes no RPC proxy/stub, type library or registration code", o);
        if (ends(o, "_async.c")) {
            opt->glue = o;
            opt->no_header = opt->no_iid = true;
        } else if (ends(o, "_i.c")) {
            want_u = true;
        } else {
            want_h = true;
        }
    }
    if (want_h || want_u) {
        if ((want_h && opt->no_header) || (want_u && opt->no_iid))
            usage_error("%s", "an output is both asked for (-h/-u/-o) and switched off");
        opt->no_header = !want_h;
        opt->no_iid = !want_u;
        if (!opt->glue)
            opt->no_glue = true;
    }
    if (cli->output && (want_h || want_u)) {
        if (want_h && want_u)
            usage_error("-o '%s' names one file: give -H FILE and -U FILE for both", cli->output);
        if (want_u) {
            if (opt->iid && opt->iid != cli->output)
                usage_error("-o '%s' and -U/--iid name the same output twice", cli->output);
            opt->iid = cli->output;
        } else {
            if (opt->header && opt->header != cli->output)
                usage_error("-o '%s' and -H/--header name the same output twice", cli->output);
            opt->header = cli->output;
        }
    }
}
