/*
 * main.c - the driver: command line, the passes in a straight line, and
 * atomic output.
 *
 *   options -> preprocess + parse (imports on the way) -> sema -> emitters
 *
 * Every output is generated in memory first; only when the whole run has
 * succeeded is each file written to "NAME.tmp.XXXXXX" beside its target,
 * flushed, closed and renamed into place. A run that fails, is killed by
 * SIGINT/SIGTERM or runs out of memory leaves no partial file.
 */
#include "../grammar/amidl.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *progname = "amidl";

/* ---- temporary files removed on any exit ---- */
static char *tmp_files[8];
static int ntmp;

static Compiler *the_compiler;      /* freed at exit, whatever the path */

static void free_compiler(void)
{
    compiler_free(the_compiler);
    the_compiler = NULL;
}

static void remove_tmp_files(void)
{
    for (int i = 0; i < ntmp; i++)
        if (tmp_files[i])
            unlink(tmp_files[i]);
}

static void on_signal(int sig)
{
    for (int i = 0; i < ntmp; i++)
        if (tmp_files[i])
            unlink(tmp_files[i]);
    signal(sig, SIG_DFL);
    raise(sig);
}

static void usage_error(const char *fmt, const char *arg) __attribute__((noreturn));
static void usage_error(const char *fmt, const char *arg)
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

static bool is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Directories searched after -I: the runtime's base IDL, in the source
 * tree (bin/../runtime/idl) or installed (bin/../include/amidl). */
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
        pp_add_include_dir(pp, path);
    snprintf(path, sizeof path, "%s/../include/amidl", d);
    if (is_dir(path))
        pp_add_include_dir(pp, path);
}

static char *join_path(const char *dir, const char *name)
{
    if (!dir || !*dir || name[0] == '/')
        return xstrdup(name);
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = xmalloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

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

static bool same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static bool same_content(const char *path, const Buf *data)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    Buf old = {0};
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_write(&old, chunk, n);
    fclose(f);
    bool same = old.len == data->len && (!old.len || !memcmp(old.data, data->data, old.len));
    buf_free(&old);
    return same;
}

/* Write data to a temporary file beside path (renamed into place later by
 * commit_tmp). Returns its index in tmp_files, -1 when --write-if-changed
 * found the file identical, -2 on error. */
static int write_atomic(const char *path, const Buf *data, bool if_changed)
{
    if (if_changed && same_content(path, data))
        return -1;
    size_t n = strlen(path) + 16;
    char *tmp = xmalloc(n);
    snprintf(tmp, n, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        fprintf(stderr, "%s: error: cannot create '%s': %s\n", progname, path, strerror(errno));
        free(tmp);
        return -2;
    }
    int idx = ntmp;
    tmp_files[ntmp++] = tmp;
    fchmod(fd, 0644 & ~0);
    {
        mode_t um = umask(0);
        umask(um);
        fchmod(fd, 0666 & ~um);
    }
    size_t off = 0;
    while (off < data->len) {
        ssize_t w = write(fd, data->data + off, data->len - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "%s: error: cannot write '%s': %s\n", progname, path, strerror(errno));
            close(fd);
            return -2;
        }
        off += (size_t)w;
    }
    if (close(fd) != 0) {
        fprintf(stderr, "%s: error: cannot write '%s': %s\n", progname, path, strerror(errno));
        return -2;
    }
    return idx;
}

/* --verify: the file on disk against the generated text; a unified diff
 * (diff -u) when they differ. Returns true when equal. */
static bool verify_one(const char *path, const Buf *data)
{
    if (same_content(path, data))
        return true;
    char tmpl[] = "/tmp/amidl-verify.XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd < 0)
        return false;
    ssize_t w = write(fd, data->data ? data->data : "", data->len);
    close(fd);
    fflush(stdout);
    if (w == (ssize_t)data->len) {
        pid_t pid = fork();
        if (pid == 0) {
            execlp("diff", "diff", "-u", "--label", path, "--label", "generated", access(path, R_OK) ? "/dev/null" : path,
                   tmpl, (char *)NULL);
            _exit(127);
        }
        int st;
        if (pid > 0)
            waitpid(pid, &st, 0);
    }
    unlink(tmpl);
    fprintf(stderr, "%s: '%s' differs from what amidl generates\n", progname, path);
    return false;
}

/* gcc-style dependency file: every output depends on every file read. */
static void dep_escape(Buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == ' ' || *s == '#')
            buf_putc(b, '\\');
        if (*s == '$')
            buf_putc(b, '$');
        buf_putc(b, *s);
    }
}

static void make_depfile(Buf *b, const char **targets, int ntargets, const char *mt, PtrVec *deps, bool phony)
{
    if (mt) {
        dep_escape(b, mt);
    } else {
        for (int i = 0; i < ntargets; i++) {
            if (i)
                buf_putc(b, ' ');
            dep_escape(b, targets[i]);
        }
    }
    buf_putc(b, ':');
    for (int i = 0; i < deps->n; i++) {
        buf_puts(b, " \\\n  ");
        dep_escape(b, deps->v[i]);
    }
    buf_putc(b, '\n');
    if (phony)
        for (int i = 1; i < deps->n; i++) {     /* not the input itself */
            buf_putc(b, '\n');
            dep_escape(b, deps->v[i]);
            buf_puts(b, ":\n");
        }
}

static int commit_tmp(const char *path, int idx)
{
    if (rename(tmp_files[idx], path) != 0) {
        fprintf(stderr, "%s: error: cannot rename into '%s': %s\n", progname, path, strerror(errno));
        return -1;
    }
    free(tmp_files[idx]);
    tmp_files[idx] = NULL;
    return 0;
}

enum {
    OPT_CHECK = 1000, OPT_OUTDIR, OPT_HEADER, OPT_IID, OPT_GLUE, OPT_NO_HEADER, OPT_NO_IID,
    OPT_NO_GLUE, OPT_WIN32, OPT_WIN64, OPT_COLOR, OPT_HELP, OPT_VERSION, OPT_VERIFY, OPT_WIC,
};

static bool starts(const char *s, const char *p)
{
    return !strncmp(s, p, strlen(p));
}

int main(int argc, char **argv)
{
    Options opt = {0};
    opt.color = -1;
    bool want_h = false, want_u = false;
    const char *widl_o = NULL;
    PtrVec incs = {0}, defs = {0};

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
            if (opt.input)
                usage_error("more than one input file ('%s')", a);
            opt.input = a;
        } else if (!strcmp(a, "--")) {
            if (i + 1 < argc)
                opt.input = argv[++i];
        } else if (starts(a, "-I")) {
            vec_push(&incs, (void *)(a[2] ? a + 2 : NEXT_ARG("-I")));
        } else if (starts(a, "-D")) {
            vec_push(&defs, (void *)(a[2] ? a + 2 : NEXT_ARG("-D")));
        } else if (starts(a, "-U") && strcmp(a, "-U")) {
            const char *n = a + 2;
            size_t l = strlen(n) + 2;
            char *s = xmalloc(l);
            snprintf(s, l, "-%s", n);
            vec_push(&defs, s);
        } else if (!strcmp(a, "-U") && i + 1 < argc && strlen(argv[i + 1]) > 2 &&
                   !strcmp(argv[i + 1] + strlen(argv[i + 1]) - 2, ".c")) {
            opt.iid = argv[++i];                        /* widl: -U FILE_i.c */
            want_u = true;
        } else if (!strcmp(a, "-U")) {
            const char *n = NEXT_ARG("-U");
            size_t l = strlen(n) + 2;
            char *s = xmalloc(l);
            snprintf(s, l, "-%s", n);
            vec_push(&defs, s);
        } else if (!strcmp(a, "-E")) {
            opt.preprocess_only = true;
        } else if (!strcmp(a, "--check")) {
            opt.check_only = true;
        } else if (!strcmp(a, "--outdir") || starts(a, "--outdir=")) {
            opt.outdir = a[8] == '=' ? a + 9 : NEXT_ARG("--outdir");
        } else if (!strcmp(a, "--header") || starts(a, "--header=")) {
            opt.header = a[8] == '=' ? a + 9 : NEXT_ARG("--header");
        } else if (!strcmp(a, "--iid") || starts(a, "--iid=")) {
            opt.iid = a[5] == '=' ? a + 6 : NEXT_ARG("--iid");
        } else if (!strcmp(a, "--glue") || starts(a, "--glue=")) {
            opt.glue = a[6] == '=' ? a + 7 : NEXT_ARG("--glue");
        } else if (!strcmp(a, "-MD")) {
            opt.dep_md = true;
        } else if (!strcmp(a, "-MF")) {
            opt.depfile = NEXT_ARG("-MF");
        } else if (!strcmp(a, "-MT")) {
            opt.deptarget = NEXT_ARG("-MT");
        } else if (!strcmp(a, "-MP")) {
            opt.dep_mp = true;
        } else if (!strcmp(a, "--verify")) {
            opt.verify = true;
        } else if (!strcmp(a, "--write-if-changed")) {
            opt.write_if_changed = true;
        } else if (!strcmp(a, "-h")) {                 /* widl: generate the header */
            want_h = true;
        } else if (!strcmp(a, "-u")) {                 /* widl: generate the IID file */
            want_u = true;
        } else if (!strcmp(a, "-H")) {
            opt.header = NEXT_ARG("-H");
            want_h = true;
        } else if (!strcmp(a, "-o") || starts(a, "--output=")) {
            widl_o = a[1] == 'o' ? NEXT_ARG("-o") : a + 9;
        } else if (!strcmp(a, "/h") || !strcmp(a, "/header")) {     /* MIDL */
            opt.header = NEXT_ARG(a);
        } else if (!strcmp(a, "/iid")) {
            opt.iid = NEXT_ARG(a);
        } else if (!strcmp(a, "/out")) {
            opt.outdir = NEXT_ARG(a);
        } else if (!strcmp(a, "/I")) {
            vec_push(&incs, (void *)NEXT_ARG("/I"));
        } else if (!strcmp(a, "/D")) {
            vec_push(&defs, (void *)NEXT_ARG("/D"));
        } else if (!strcmp(a, "/env")) {
            const char *env = NEXT_ARG("/env");
            if (!strcmp(env, "win64") || !strcmp(env, "x64") || !strcmp(env, "amd64"))
                opt.win32 = false;
            else if (!strcmp(env, "win32"))
                opt.win32 = true;
            else
                usage_error("/env '%s' is not supported (win32, win64)", env);
        } else if (!strcmp(a, "/nologo") || !strcmp(a, "-nologo")) {
            /* amidl prints no banner */
        } else if (!strcmp(a, "-p") || !strcmp(a, "-s") || !strcmp(a, "-c") || !strcmp(a, "-t") || !strcmp(a, "-r") ||
                   !strcmp(a, "/proxy") || !strcmp(a, "/tlb") || !strcmp(a, "/dlldata") || !strcmp(a, "/client") ||
                   !strcmp(a, "/server") || starts(a, "--prefix-")) {
            usage_error("'%s' is not supported: amidl writes no RPC proxy/stub, type library or registration code", a);
        } else if (!strcmp(a, "--no-header")) {
            opt.no_header = true;
        } else if (!strcmp(a, "--no-iid")) {
            opt.no_iid = true;
        } else if (!strcmp(a, "--no-glue")) {
            opt.no_glue = true;
        } else if (!strcmp(a, "--win32") || !strcmp(a, "-m32")) {
            opt.win32 = true;
        } else if (!strcmp(a, "--win64") || !strcmp(a, "-m64")) {
            opt.win32 = false;
        } else if (!strcmp(a, "-Werror")) {
            opt.werror = true;
        } else if (!strcmp(a, "-w")) {
            opt.no_warnings = true;
        } else if (starts(a, "--color")) {
            const char *v = a[7] == '=' ? a + 8 : "always";
            if (!strcmp(v, "auto")) opt.color = -1;
            else if (!strcmp(v, "always")) opt.color = 1;
            else if (!strcmp(v, "never")) opt.color = 0;
            else usage_error("invalid argument '%s' for '--color' (auto, always, never)", v);
        } else if (starts(a, "-fdiagnostics-format=")) {
            const char *v = a + 21;
            if (!strcmp(v, "msvc")) opt.msvc_format = true;
            else if (!strcmp(v, "gcc") || !strcmp(v, "text")) opt.msvc_format = false;
            else usage_error("invalid diagnostics format '%s' (gcc, msvc)", v);
        } else if (!strcmp(a, "--help") || !strcmp(a, "-?")) {
            print_help();
            return 0;
        } else if (!strcmp(a, "--version") || !strcmp(a, "-V")) {
            printf("amidl %s\n", AMIDL_VERSION);
            return 0;
        } else {
            usage_error("unrecognized option '%s'", a);
        }
#undef NEXT_ARG
    }
    if (!opt.input)
        usage_error("%s", "no input file");
    if (opt.dep_md || opt.depfile)
        if (opt.check_only || opt.preprocess_only)
            usage_error("%s", "-MD/-MF need outputs (not with --check or -E)");
    /* widl's -h/-u: write only what is asked for; -o names that output */
    if (want_h || want_u) {
        opt.no_header = !want_h;
        opt.no_iid = !want_u;
        if (!opt.glue)
            opt.no_glue = true;
    }
    if (widl_o) {
        if (want_u && !want_h)
            opt.iid = widl_o;
        else
            opt.header = widl_o;
    }

    atexit(remove_tmp_files);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGHUP, on_signal);

    Compiler *cc = compiler_new(&opt);
    the_compiler = cc;
    atexit(free_compiler);
    if (opt.color == 1)
        cc->color = true;
    else if (opt.color == -1)
        cc->color = isatty(2) && !getenv("NO_COLOR") && getenv("TERM") && strcmp(getenv("TERM"), "dumb");
    cc->msvc = opt.msvc_format;
    cc->werror = opt.werror;
    cc->nowarn = opt.no_warnings;

    PP *pp = cc->pp;
    pp_define(pp, "__midl", "501");
    pp_define(pp, "__WIDL__", "1");
    pp_define(pp, "_WIN32", "1");
    if (!opt.win32)
        pp_define(pp, "_WIN64", "1");
    for (int i = 0; i < defs.n; i++) {
        const char *d = defs.v[i];
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
    for (int i = 0; i < incs.n; i++)
        pp_add_include_dir(pp, incs.v[i]);
    add_default_dirs(pp);

    if (opt.preprocess_only) {
        Buf out = {0};
        int r = pp_file(pp, opt.input, &out);
        if (r == 0 && cc->errors == 0)
            fwrite(out.data, 1, out.len, stdout);
        buf_free(&out);
        int errs = diag_finish(cc);
        return errs ? 1 : 0;
    }

    if (!opt.check_only) {
        /* refuse to write over the input, before doing any work */
        (void)0;
    }

    File *main_file = compiler_load_main(cc, opt.input);
    if (cc->errors == 0 && main_file)
        sema_check(cc);
    if (diag_finish(cc))
        return 1;
    if (opt.check_only)
        return 0;

    char *stem = stem_of(opt.input);
    char *hname = opt.header ? xstrdup(opt.header) : NULL;
    if (!hname) {
        size_t n = strlen(stem) + 3;
        hname = xmalloc(n);
        snprintf(hname, n, "%s.h", stem);
    }
    char *iname = opt.iid ? xstrdup(opt.iid) : NULL;
    if (!iname) {
        size_t n = strlen(stem) + 5;
        iname = xmalloc(n);
        snprintf(iname, n, "%s_i.c", stem);
    }
    char *gname = opt.glue ? xstrdup(opt.glue) : NULL;
    if (!gname) {
        size_t n = strlen(stem) + 9;
        gname = xmalloc(n);
        snprintf(gname, n, "%s_async.c", stem);
    }
    struct { const char *name; char *path; Buf data; bool on; } outs[3] = {
        { hname, join_path(opt.outdir, hname), {0}, !opt.no_header },
        { iname, join_path(opt.outdir, iname), {0}, !opt.no_iid },
        { gname, join_path(opt.outdir, gname), {0}, !opt.no_glue && file_has_async(cc) },
    };
    /* --glue FILE asks for the glue even when the file has no async interface */
    if (opt.glue && !opt.no_glue)
        outs[2].on = true;
    for (int i = 0; i < 3; i++)
        if (outs[i].on && same_file(outs[i].path, opt.input)) {
            fprintf(stderr, "%s: error: refusing to overwrite the input file '%s'\n", progname, opt.input);
            return 1;
        }
    if (opt.outdir && !is_dir(opt.outdir)) {
        fprintf(stderr, "%s: error: output directory '%s' does not exist\n", progname, opt.outdir);
        return 1;
    }
    int rs[3] = {0, 0, 0};
    if (outs[0].on)
        rs[0] = emit_header(cc, &outs[0].data, base_of(hname));
    if (outs[1].on && rs[0] == 0)
        rs[1] = emit_iid(cc, &outs[1].data);
    if (outs[2].on && rs[0] == 0 && rs[1] == 0)
        rs[2] = emit_glue(cc, &outs[2].data, base_of(hname));
    for (int i = 0; i < 3; i++)
        if (rs[i] == -2) {
            fprintf(stderr, "%s: error: writing '%s' is not implemented yet (use --check)\n", progname, outs[i].name);
            return 2;
        }
    if (rs[0] || rs[1] || rs[2] || diag_finish(cc))
        return 1;
    if (opt.verify) {
        bool all = true;
        for (int i = 0; i < 3; i++)
            if (outs[i].on)
                all &= verify_one(outs[i].path, &outs[i].data);
        return all ? 0 : 1;
    }
    /* the dependency file (-MD, -MF): the outputs depend on every file read */
    struct { char *path; Buf data; bool on; } dep = { NULL, {0}, opt.dep_md || opt.depfile };
    if (dep.on) {
        if (opt.depfile) {
            dep.path = xstrdup(opt.depfile);
        } else {
            size_t n = strlen(stem) + 3;
            char *d = xmalloc(n);
            snprintf(d, n, "%s.d", stem);
            dep.path = join_path(opt.outdir, d);
            free(d);
        }
        const char *targets[3];
        int nt = 0;
        for (int i = 0; i < 3; i++)
            if (outs[i].on)
                targets[nt++] = outs[i].path;
        PtrVec deps = {0};
        pp_files_read(cc->pp, &deps);
        make_depfile(&dep.data, targets, nt, opt.deptarget, &deps, opt.dep_mp);
        vec_free(&deps);
    }
    int tmp_of[4] = { -1, -1, -1, -1 };
    for (int i = 0; i < 3; i++)
        if (outs[i].on && (tmp_of[i] = write_atomic(outs[i].path, &outs[i].data, opt.write_if_changed)) == -2)
            return 1;
    if (dep.on && (tmp_of[3] = write_atomic(dep.path, &dep.data, opt.write_if_changed)) == -2)
        return 1;
    /* all written: move them into place */
    for (int i = 0; i < 4; i++)
        if (tmp_of[i] >= 0 && commit_tmp(i < 3 ? outs[i].path : dep.path, tmp_of[i]) != 0)
            return 1;
    free(dep.path);
    buf_free(&dep.data);
    for (int i = 0; i < 3; i++) {
        buf_free(&outs[i].data);
        free(outs[i].path);
    }
    free(stem);
    free(hname);
    free(iname);
    free(gname);
    vec_free(&incs);
    vec_free(&defs);
    return 0;
}
