/*
 * output.c - writing the outputs. Every output is generated into a Buf;
 * one that grows past SPILL_LIMIT goes on into "NAME.tmp.XXXXXX" beside
 * its target (created then, the Buf's full chunks written as they fill),
 * a small one is written there when the whole run has succeeded. Only
 * then is each temporary file closed and renamed into place. A run that
 * fails, is killed by SIGINT/SIGTERM or runs out of memory leaves no
 * partial file. Outputs that are not regular files (standard output, a
 * FIFO or device) and --verify keep the whole text in memory. Also
 * --verify and the dependency file.
 */
#include "driver.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- temporary files removed on any exit ---- */
static char *tmp_files[8];
static int ntmp;

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

/* mkstemp(tmpl), and the file registered for removal (tmpl is kept) with
 * the handled signals blocked in between: a signal between the two left
 * the file behind. -1 with errno set (EMFILE: the table is full). */
static int tmp_create(char *tmpl)
{
    if (ntmp == (int)(sizeof tmp_files / sizeof tmp_files[0])) {
        errno = EMFILE;
        return -1;
    }
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    sigprocmask(SIG_BLOCK, &block, &old);
    int fd = mkstemp(tmpl);
    int e = errno;
    if (fd >= 0)
        tmp_files[ntmp++] = tmpl;
    sigprocmask(SIG_SETMASK, &old, NULL);
    errno = e;
    return fd;
}

/* the temporary file idx is gone (renamed or removed): no longer ours to remove */
static void tmp_forget(int idx)
{
    char *p = tmp_files[idx];
    tmp_files[idx] = NULL;      /* first: a signal meanwhile must not see freed memory */
    free(p);
}

void output_init(void)
{
    atexit(remove_tmp_files);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGHUP, on_signal);
}

bool is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

char *join_path(const char *dir, const char *name)
{
    if (!dir || !*dir || name[0] == '/' || !strcmp(name, "-"))
        return xstrdup(name);
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = xmalloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

bool same_file(const char *a, const char *b)
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

static bool is_stdout_name(const char *path)
{
    return !strcmp(path, "-") || !strcmp(path, "/dev/stdout") || !strcmp(path, "/dev/fd/1") ||
           !strcmp(path, "/proc/self/fd/1");
}

/* Where a write to a path lands. A rename never replaces anything but a
 * regular file: a symlink is followed (the link stays, its target is
 * replaced), a FIFO, device or /proc file is written in place, and
 * "-" and /dev/stdout are standard output. */
typedef struct Target {
    enum { T_NEW, T_FILE, T_DIRECT, T_STDOUT, T_SAME } kind;
    char *real;             /* the file replaced or opened */
    struct stat st;         /* T_FILE: the file replaced (its mode is kept) */
} Target;

static int resolve(const char *path, Target *t, bool quiet)
{
    memset(t, 0, sizeof *t);
    if (is_stdout_name(path)) {
        t->kind = T_STDOUT;
        return 0;
    }
    char *p = xstrdup(path);
    for (int hops = 0; hops < 40; hops++) {
        struct stat st;
        if (lstat(p, &st) != 0) {
            if (errno != ENOENT) {
                if (!quiet)
                    fprintf(stderr, "%s: error: cannot write '%s': %s\n", progname, path, strerror(errno));
                free(p);
                return -1;
            }
            t->kind = T_NEW;        /* a new file (or a dangling link's target) */
            t->real = p;
            return 0;
        }
        if (S_ISLNK(st.st_mode)) {
            char link[PATH_MAX];
            ssize_t n = readlink(p, link, sizeof link - 1);
            if (n <= 0)
                break;
            link[n] = 0;
            if (!strncmp(p, "/proc/", 6) || !strncmp(link, "/proc/", 6)) {
                t->kind = T_DIRECT;     /* /dev/stderr, /dev/fd/N: write through as given */
                t->real = p;
                return 0;
            }
            char *next;
            const char *slash = strrchr(p, '/');
            if (link[0] == '/' || !slash) {
                next = xstrdup(link);
            } else {
                size_t dl = (size_t)(slash - p) + 1, m = dl + strlen(link) + 1;
                next = xmalloc(m);
                memcpy(next, p, dl);
                strcpy(next + dl, link);
            }
            free(p);
            p = next;
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            if (!quiet)
                fprintf(stderr, "%s: error: cannot write '%s': Is a directory\n", progname, path);
            free(p);
            return -1;
        }
        t->kind = S_ISREG(st.st_mode) ? T_FILE : T_DIRECT;
        t->real = p;
        t->st = st;
        return 0;
    }
    if (!quiet)
        fprintf(stderr, "%s: error: cannot write '%s': %s\n", progname, path, strerror(ELOOP));
    free(p);
    return -1;
}

static int write_all(int fd, const Buf *data)
{
    size_t off = 0;
    while (off < data->len) {
        ssize_t w = write(fd, data->data + off, data->len - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        off += (size_t)w;
    }
    return 0;
}

/* The temporary file beside a regular file's target T (T_NEW or T_FILE),
 * with the replaced file's mode; its descriptor, *idx its tmp_files
 * index; -1 after a message (unless quiet). */
static int create_tmp(const char *path, const Target *t, int *idx, bool quiet)
{
    if (ntmp == (int)(sizeof tmp_files / sizeof tmp_files[0])) {
        if (!quiet)
            fprintf(stderr, "%s: error: cannot create '%s': too many temporary files\n", progname, path);
        return -1;
    }
    size_t n = strlen(t->real) + 16;
    char *tmp = xmalloc(n);
    snprintf(tmp, n, "%s.tmp.XXXXXX", t->real);
    int fd = tmp_create(tmp);
    if (fd < 0) {
        if (!quiet)
            fprintf(stderr, "%s: error: cannot create '%s': %s\n", progname, path, strerror(errno));
        free(tmp);
        return -1;
    }
    *idx = ntmp - 1;
    if (t->kind == T_FILE) {
        /* the replaced file's mode (and, when allowed, its owner) */
        if (fchown(fd, t->st.st_uid, t->st.st_gid) != 0) {
            /* not root: the new file is ours, as any rewrite by an editor */
        }
        fchmod(fd, t->st.st_mode & 07777);
    } else {
        mode_t um = umask(0);
        umask(um);
        fchmod(fd, 0666 & ~um);
    }
    return fd;
}

/* An output growing past SPILL_LIMIT: its temporary file is created at the
 * first full chunk (when the target is a regular file, else the text
 * stays in memory) and every full chunk is written to it. */
#define SPILL_LIMIT ((size_t)1 << 20)

typedef struct Spill {
    BufSpill sp;            /* first: the Buf's spill is this */
    const char *path;
    Target t;               /* resolved when the file is created */
    int fd, idx;            /* the temporary file (fd -1: none yet) */
    int err;                /* a failed write's errno: reported by stage */
} Spill;

static Spill spills[NOUT];

static bool spill_flush(BufSpill *bs, const char *p, size_t n)
{
    Spill *s = (Spill *)bs;
    if (s->fd < 0) {
        if (resolve(s->path, &s->t, true) != 0)
            return false;
        if (s->t.kind != T_NEW && s->t.kind != T_FILE) {
            free(s->t.real);
            s->t.real = NULL;
            return false;
        }
        if ((s->fd = create_tmp(s->path, &s->t, &s->idx, true)) < 0) {
            free(s->t.real);
            s->t.real = NULL;
            return false;
        }
    }
    if (!s->err && write_all(s->fd, &(Buf){ (char *)p, n, n, NULL }) != 0)
        s->err = errno ? errno : EIO;
    return true;
}

void spill_outputs(Output outs[NOUT])
{
    for (int i = 0; i < OUT_DEP; i++)
        if (outs[i].on) {
            spills[i] = (Spill){ .sp = { .limit = SPILL_LIMIT, .flush = spill_flush }, .path = outs[i].path,
                                 .fd = -1, .idx = -1 };
            outs[i].data.spill = &spills[i].sp;
        }
}

/* The two files have the same bytes (read in chunks). */
static bool same_files(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    bool same = fa && fb;
    static char ca[65536], cb[65536];
    while (same) {
        size_t na = fread(ca, 1, sizeof ca, fa), nb = fread(cb, 1, sizeof cb, fb);
        if (na != nb || memcmp(ca, cb, na))
            same = false;
        if (na < sizeof ca)
            break;
    }
    same = same && !ferror(fa) && !ferror(fb);
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    return same;
}

/* Stage a spilled output: the rest of its text into its temporary file. */
static int stage_spilled(const char *path, Target *t, Spill *s, const Buf *data, bool if_changed)
{
    *t = s->t;
    s->t.real = NULL;
    int fd = s->fd, idx = s->idx;
    s->fd = -1;
    if (!s->err && write_all(fd, data) != 0)
        s->err = errno ? errno : EIO;
    if (close(fd) != 0 && !s->err)
        s->err = errno;
    if (s->err) {
        fprintf(stderr, "%s: error: cannot write '%s': %s\n", progname, path, strerror(s->err));
        return -2;
    }
    if (if_changed && t->kind == T_FILE && same_files(tmp_files[idx], t->real)) {
        unlink(tmp_files[idx]);
        tmp_forget(idx);
        t->kind = T_SAME;
        return -1;
    }
    return idx;
}

/* Stage one output: a regular file's text goes to a temporary file beside
 * it (renamed into place by commit); T_SAME when --write-if-changed finds
 * the file identical. Returns the temporary file's index, -1 when there
 * is none, -2 on error. */
static int stage(const char *path, Target *t, const Buf *data, bool if_changed)
{
    Spill *s = (Spill *)data->spill;
    if (s && s->fd >= 0)
        return stage_spilled(path, t, s, data, if_changed);
    if (resolve(path, t, false) != 0)
        return -2;
    if (t->kind == T_DIRECT || t->kind == T_STDOUT)
        return -1;
    if (if_changed && t->kind == T_FILE && same_content(t->real, data)) {
        t->kind = T_SAME;
        return -1;
    }
    int idx;
    int fd = create_tmp(path, t, &idx, false);
    if (fd < 0)
        return -2;
    if (write_all(fd, data) != 0) {
        fprintf(stderr, "%s: error: cannot write '%s': %s\n", progname, path, strerror(errno));
        close(fd);
        return -2;
    }
    if (close(fd) != 0) {
        fprintf(stderr, "%s: error: cannot write '%s': %s\n", progname, path, strerror(errno));
        return -2;
    }
    return idx;
}

/* Put a staged output in place: rename the temporary file over the
 * (link's target) file, or write a FIFO, device or stdout directly. */
static int commit(const char *path, Target *t, int idx, const Buf *data)
{
    int rc = 0;
    if (t->kind == T_STDOUT) {
        if ((data->len && fwrite(data->data, 1, data->len, stdout) != data->len) || fflush(stdout) != 0) {
            fprintf(stderr, "%s: error: cannot write to standard output: %s\n", progname, strerror(errno));
            rc = -1;
        }
    } else if (t->kind == T_DIRECT) {
        int fd = open(t->real, O_WRONLY | O_NOCTTY);
        if (fd < 0 || write_all(fd, data) != 0) {
            fprintf(stderr, "%s: error: cannot write '%s': %s\n", progname, path, strerror(errno));
            rc = -1;
        }
        if (fd >= 0 && close(fd) != 0 && rc == 0) {
            fprintf(stderr, "%s: error: cannot write '%s': %s\n", progname, path, strerror(errno));
            rc = -1;
        }
    } else if (idx >= 0) {
        if (rename(tmp_files[idx], t->real) != 0) {
            fprintf(stderr, "%s: error: cannot rename into '%s': %s\n", progname, path, strerror(errno));
            rc = -1;
        } else {
            tmp_forget(idx);
        }
    }
    free(t->real);
    t->real = NULL;
    return rc;
}

int write_file(const char *path, const Buf *data, bool if_changed)
{
    Target t;
    int idx = stage(path, &t, data, if_changed);
    if (idx == -2)
        return 1;
    return commit(path, &t, idx, data) ? 1 : 0;
}

/* PATH as the diff names it: relative to the current directory when it
 * is below it, so that "patch -p1" and "git apply" find it from there. */
static char *diff_name(const char *path)
{
    char cwd[PATH_MAX];
    if (path[0] == '/' && getcwd(cwd, sizeof cwd)) {
        size_t n = strlen(cwd);
        if (!strncmp(path, cwd, n) && path[n] == '/')
            return xstrdup(path + n + 1);
    }
    if (path[0] == '.' && path[1] == '/')
        return xstrdup(path + 2);
    return xstrdup(path);
}

/* The file's text is the generated text with CRLF line ends. */
static bool crlf_of(const char *path, const Buf *data)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    bool same = true, any = false;
    size_t i = 0;
    int c;
    while (same && (c = getc(f)) != EOF) {
        if (c == '\r') {
            int d = getc(f);
            if (d != '\n' || i >= data->len || data->data[i] != '\n')
                same = false;
            any = true;
            i++;
            continue;
        }
        same = i < data->len && (unsigned char)data->data[i] == c;
        i++;
    }
    fclose(f);
    return same && any && i == data->len;
}

/* --verify: the file on disk against the generated text. When they differ,
 * a unified diff from the file (a/PATH) to what amidl generates (b/PATH)
 * goes to stdout, and the reason to stderr. Returns true when equal. */
static bool verify_one(const char *path, const Buf *data)
{
    if (same_content(path, data))
        return true;
    struct stat st;
    bool missing = stat(path, &st) != 0;
    char *name = diff_name(path);
    const char *dir = getenv("TMPDIR");
    size_t n = strlen(dir && *dir ? dir : "/tmp") + 32;
    char *tmpl = xmalloc(n);
    snprintf(tmpl, n, "%s/amidl-verify.XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = tmp_create(tmpl);          /* removed however the run ends */
    bool shown = false;
    if (fd >= 0) {
        int w = write_all(fd, data);
        close(fd);
        fflush(stdout);
        size_t ln = strlen(name) + 3;
        char *la = xmalloc(ln), *lb = xmalloc(ln);
        snprintf(la, ln, "a/%s", name);
        snprintf(lb, ln, "b/%s", name);
        if (w == 0) {
            pid_t pid = fork();
            if (pid == 0) {
                execlp("diff", "diff", "-u", "--label", missing ? "/dev/null" : la, "--label", lb,
                       missing ? "/dev/null" : path, tmpl, (char *)NULL);
                _exit(127);
            }
            int wst;
            if (pid > 0 && waitpid(pid, &wst, 0) == pid && WIFEXITED(wst) && WEXITSTATUS(wst) == 1)
                shown = true;
        }
        free(la);
        free(lb);
    } else {
        free(tmpl);
    }
    if (missing)
        fprintf(stderr, "%s: '%s' is missing\n", progname, path);
    else if (crlf_of(path, data))
        fprintf(stderr, "%s: '%s' has CRLF line ends where amidl writes LF (a checkout with core.autocrlf?)\n",
                progname, path);
    else
        fprintf(stderr, "%s: '%s' differs from what amidl generates\n", progname, path);
    if (!shown)
        fprintf(stderr, "%s: note: no diff shown (is diff(1) installed?)\n", progname);
    free(name);
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

int verify_outputs(Output outs[NOUT])
{
    bool all = true;
    for (int i = 0; i < OUT_DEP; i++)
        if (outs[i].on)
            all &= verify_one(outs[i].path, &outs[i].data);
    return all ? 0 : 1;
}

int write_outputs(Cli *cli, Compiler *cc, Output outs[NOUT])
{
    Options *opt = &cli->opt;
    /* the dependency file (-MD, -MF): the outputs depend on every file read */
    if (outs[OUT_DEP].on) {
        const char *targets[OUT_DEP];
        int nt = 0;
        for (int i = 0; i < OUT_DEP; i++)
            if (outs[i].on)
                targets[nt++] = outs[i].path;
        PtrVec deps = {0};
        pp_files_read(cc->pp, &deps);
        make_depfile(&outs[OUT_DEP].data, targets, nt, opt->deptarget, &deps, opt->dep_mp);
        vec_free(&deps);
    }
    Target tg[NOUT];
    int tmp_of[NOUT];
    for (int i = 0; i < NOUT; i++)
        if (outs[i].on && (tmp_of[i] = stage(outs[i].path, &tg[i], &outs[i].data, opt->write_if_changed)) == -2)
            return 1;
    /* all generated and staged: put them in place */
    int rc = 0;
    for (int i = 0; i < NOUT; i++)
        if (outs[i].on && commit(outs[i].path, &tg[i], tmp_of[i], &outs[i].data) != 0)
            rc = 1;
    return rc;
}
