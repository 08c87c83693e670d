/*
 * diag.c - one reporter for every pass.
 *
 *   file:line:col: error: message
 *    source line
 *         ^
 *
 * A warning ends with its flag, as gcc: "warning: message [-Wname]". After
 * MAX_ERRORS errors the run stops (fatal). -fdiagnostics-format=msvc prints
 * file(line,col): error AMIDL1304: message instead, the code from the one
 * table of diagnostics (diag.def). At the end, diag_summary prints clang's
 * "N warnings and N errors generated."
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

/* ---- the table (diag.def) ---- */

static const struct WarningInfo {
    const char *name;
    bool on;
    int code;
    const char *help;
} warning_table[W_COUNT] = {
#define WARNING(id, name, on, code, help) [W_##id] = { name, on, code, help },
#include "diag.def"
#undef WARNING
};

static const struct ErrorInfo {
    int code;
    const char *text;
} error_table[] = {
#define ERROR(code, text) { code, text },
#include "diag.def"
#undef ERROR
};

int warning_lookup(const char *name)
{
    for (int i = 0; i < W_COUNT; i++)
        if (!strcmp(warning_table[i].name, name))
            return i;
    return -1;
}

const char *warning_name(Warning w) { return warning_table[w].name; }
const char *warning_help(Warning w) { return warning_table[w].help; }
bool warning_default(Warning w) { return warning_table[w].on; }
int warning_code(Warning w) { return warning_table[w].code; }

/* Which warnings are reported and which are errors: the table's defaults,
 * then -Wname/-Wno-name, -Werror and -Werror=name/-Wno-error=name. */
void diag_configure(Compiler *cc)
{
    const Options *o = cc->opt;
    for (int i = 0; i < W_COUNT; i++) {
        cc->warn_on[i] = o && o->warn[i] ? o->warn[i] > 0 : warning_table[i].on;
        cc->warn_err[i] = o && o->warn_error[i] ? o->warn_error[i] > 0 : cc->werror;
    }
}

/* An error's code: its format in the table, or for a "%s" format the
 * message's start (entries ending in '*'). */
static int error_code(const char *fmt, const char *msg)
{
    bool whole = !strcmp(fmt, "%s");
    for (size_t i = 0; i < sizeof error_table / sizeof *error_table; i++) {
        const char *t = error_table[i].text;
        size_t n = strlen(t);
        if (n && t[n - 1] == '*') {
            if (whole && !strncmp(msg, t, n - 1))
                return error_table[i].code;
        } else if (!strcmp(fmt, t)) {
            return error_table[i].code;
        }
    }
    return 1999;
}

void vreport(Compiler *cc, DiagKind k, Warning w, Loc loc, const char *fmt, va_list ap)
{
    bool is_warning = k == DIAG_WARNING && (int)w >= 0 && (int)w < W_COUNT;
    if (k == DIAG_WARNING && (cc->nowarn || !is_warning || !cc->warn_on[w]))
        return;
    bool promoted = is_warning && cc->warn_err[w];
    if (promoted)
        k = DIAG_ERROR;
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
    Buf msg = {0};
    buf_vprintf(&msg, fmt, ap);
    const char *text = msg.data ? msg.data : "";
    /* a warning names its flag as gcc does: [-Wname], or [-Werror=name] */
    char flag[64] = "";
    if (is_warning)
        snprintf(flag, sizeof flag, " [-W%s%s]", promoted ? "error=" : "", warning_table[w].name);
    bool color = cc->color;
    if (cc->msvc) {
        if (loc.file && loc.line > 0)
            fprintf(stderr, "%s(%d,%d): ", loc.file, loc.line, loc.col > 0 ? loc.col : 1);
        else if (loc.file)
            fprintf(stderr, "%s: ", loc.file);
        if (k == DIAG_NOTE)
            fprintf(stderr, "note: %s\n", text);
        else
            fprintf(stderr, "%s AMIDL%04d: %s%s\n", kind_name(k),
                    is_warning ? warning_table[w].code : error_code(fmt, text), text, flag);
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
            fprintf(stderr, "%s%s:\033[0m\033[1m %s\033[0m%s\n", kind_color(k), kind_name(k), text, flag);
        else
            fprintf(stderr, "%s: %s%s\n", kind_name(k), text, flag);
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
            diag_summary(cc);
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
    vreport(cc, DIAG_ERROR, (Warning)-1, loc, fmt, ap);
    va_end(ap);
}

void warning_at(Compiler *cc, Warning w, Loc loc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(cc, DIAG_WARNING, w, loc, fmt, ap);
    va_end(ap);
}

void note_at(Compiler *cc, Loc loc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(cc, DIAG_NOTE, (Warning)-1, loc, fmt, ap);
    va_end(ap);
}

void fatal(Compiler *cc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    Loc none = {0};
    vreport(cc, DIAG_ERROR, (Warning)-1, none, fmt, ap);
    va_end(ap);
    diag_summary(cc);
    exit(1);
}

int diag_finish(Compiler *cc)
{
    return cc->errors;
}

/* As clang: "1 warning generated.", "2 warnings and 1 error generated." */
void diag_summary(Compiler *cc)
{
    if (!cc || cc->summary_done || cc->silent)
        return;
    cc->summary_done = true;
    int w = cc->warnings, e = cc->errors;
    if (w && e)
        fprintf(stderr, "%d warning%s and %d error%s generated.\n", w, w == 1 ? "" : "s", e, e == 1 ? "" : "s");
    else if (w)
        fprintf(stderr, "%d warning%s generated.\n", w, w == 1 ? "" : "s");
    else if (e)
        fprintf(stderr, "%d error%s generated.\n", e, e == 1 ? "" : "s");
}

void diag_free(Compiler *cc);
void diag_free(Compiler *cc)
{
    Source *head = cc->sources;
    HASH_CLEAR(hh, head);
    cc->sources = NULL;
}
