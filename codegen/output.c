/*
 * output.c - writing the outputs. Every output is generated in memory
 * first; only when the whole run has succeeded is each file written to
 * "NAME.tmp.XXXXXX" beside its target, flushed, closed and renamed into
 * place. A run that fails, is killed by SIGINT/SIGTERM or runs out of
 * memory leaves no partial file. Also --verify and the dependency file.
 */
#include "driver.h"

#include <errno.h>
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
    if (!dir || !*dir || name[0] == '/')
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
    int tmp_of[NOUT] = { -1, -1, -1, -1 };
    for (int i = 0; i < NOUT; i++)
        if (outs[i].on && (tmp_of[i] = write_atomic(outs[i].path, &outs[i].data, opt->write_if_changed)) == -2)
            return 1;
    /* all written: move them into place */
    for (int i = 0; i < NOUT; i++)
        if (tmp_of[i] >= 0 && commit_tmp(outs[i].path, tmp_of[i]) != 0)
            return 1;
    return 0;
}
