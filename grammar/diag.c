/*
 * diag.c - one reporter for every pass.
 *
 *   file:line:col: error: message
 *    source line
 *         ^
 *
 * After MAX_ERRORS errors the run stops (fatal). -fdiagnostics-format=msvc
 * prints file(line,col): error AMIDL1000: message instead.
 */
#include "amidl.h"

#include <stdlib.h>
#include <string.h>
#include <uthash.h>

typedef struct Source {
    const char *name;
    const char *text;
    size_t len;
    UT_hash_handle hh;
} Source;

void diag_add_source(Compiler *cc, const char *name, const char *text, size_t len)
{
    Source *s = NULL, *head = cc->sources;
    HASH_FIND_STR(head, name, s);
    if (s)
        return;
    s = arena_alloc(cc->arena, sizeof(*s));
    s->name = name;
    s->text = text;
    s->len = len;
    HASH_ADD_KEYPTR(hh, head, s->name, strlen(s->name), s);
    cc->sources = head;
}

static bool source_line(Compiler *cc, const char *file, int line, const char **start, int *len)
{
    Source *s = NULL, *head = cc->sources;
    if (!file || line <= 0)
        return false;
    HASH_FIND_STR(head, file, s);
    if (!s)
        return false;
    const char *p = s->text, *end = s->text + s->len;
    for (int l = 1; l < line && p < end; p++)
        if (*p == '\n')
            l++;
    if (p >= end && line > 1)
        return false;
    const char *e = p;
    while (e < end && *e != '\n' && *e != '\r')
        e++;
    if (e - p > 500)
        e = p + 500;
    *start = p;
    *len = (int)(e - p);
    return true;
}

static const char *kind_name(DiagKind k)
{
    return k == DIAG_ERROR ? "error" : k == DIAG_WARNING ? "warning" : "note";
}

static const char *kind_color(DiagKind k)
{
    return k == DIAG_ERROR ? "\033[1;31m" : k == DIAG_WARNING ? "\033[1;35m" : "\033[1;36m";
}

static int diag_code(const char *fmt)
{
    /* A stable code per message format (msvc style): a small hash. */
    unsigned h = 5381;
    for (const char *p = fmt; *p; p++)
        h = h * 33 + (unsigned char)*p;
    return 1000 + (int)(h % 9000);
}

void vreport(Compiler *cc, DiagKind k, Loc loc, const char *fmt, va_list ap)
{
    if (k == DIAG_WARNING && cc->nowarn)
        return;
    if (cc->silent) {
        if (k == DIAG_ERROR)
            cc->errors++;
        else if (k == DIAG_WARNING)
            cc->warnings++;
        return;
    }
    if (k == DIAG_ERROR && cc->no_exit && cc->errors >= MAX_ERRORS) {
        cc->errors++;           /* counted, no longer printed */
        return;
    }
    if (k == DIAG_WARNING && cc->werror)
        k = DIAG_ERROR;
    Buf msg = {0};
    buf_vprintf(&msg, fmt, ap);
    bool color = cc->color;
    if (cc->msvc) {
        if (loc.file)
            fprintf(stderr, "%s(%d,%d): ", loc.file, loc.line, loc.col);
        fprintf(stderr, "%s AMIDL%04d: %s\n", kind_name(k), diag_code(fmt), msg.data ? msg.data : "");
    } else {
        if (color)
            fputs("\033[1m", stderr);
        if (loc.file && loc.line > 0)
            fprintf(stderr, "%s:%d:%d: ", loc.file, loc.line, loc.col > 0 ? loc.col : 1);
        else if (loc.file)
            fprintf(stderr, "%s: ", loc.file);
        else
            fputs("amidl: ", stderr);
        if (color)
            fprintf(stderr, "%s%s:\033[0m\033[1m %s\033[0m\n", kind_color(k), kind_name(k), msg.data ? msg.data : "");
        else
            fprintf(stderr, "%s: %s\n", kind_name(k), msg.data ? msg.data : "");
        const char *line;
        int len;
        if (source_line(cc, loc.file, loc.line, &line, &len)) {
            fputc(' ', stderr);
            for (int i = 0; i < len; i++)
                fputc(line[i] == '\t' ? ' ' : (unsigned char)line[i] < 32 ? '?' : line[i], stderr);
            fputc('\n', stderr);
            int col = loc.col > 0 ? loc.col : 1;
            if (col > len + 1)
                col = len + 1;
            fprintf(stderr, " %*s%s^%s\n", col - 1, "", color ? "\033[1;32m" : "", color ? "\033[0m" : "");
        }
    }
    buf_free(&msg);
    if (k == DIAG_ERROR) {
        cc->errors++;
        if (cc->errors >= MAX_ERRORS && !cc->no_exit) {
            fprintf(stderr, "amidl: fatal error: too many errors emitted, stopping now\n");
            diag_finish(cc);
            exit(1);
        }
    } else if (k == DIAG_WARNING) {
        cc->warnings++;
    }
}

void error_at(Compiler *cc, Loc loc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(cc, DIAG_ERROR, loc, fmt, ap);
    va_end(ap);
}

void warning_at(Compiler *cc, Loc loc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(cc, DIAG_WARNING, loc, fmt, ap);
    va_end(ap);
}

void note_at(Compiler *cc, Loc loc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(cc, DIAG_NOTE, loc, fmt, ap);
    va_end(ap);
}

void fatal(Compiler *cc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    Loc none = {0};
    vreport(cc, DIAG_ERROR, none, fmt, ap);
    va_end(ap);
    diag_finish(cc);
    exit(1);
}

int diag_finish(Compiler *cc)
{
    if (cc->errors)
        fprintf(stderr, "%d error%s generated.\n", cc->errors, cc->errors == 1 ? "" : "s");
    return cc->errors;
}

void diag_free(Compiler *cc);
void diag_free(Compiler *cc)
{
    Source *head = cc->sources;
    HASH_CLEAR(hh, head);
    cc->sources = NULL;
}
