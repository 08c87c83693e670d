/*
 * pp.c - the C preprocessor that IDL needs, built in (no cc at run time).
 *
 * Each file is read once and cut into preprocessing tokens as the
 * expander walks on (a linked list, read a line at a time into chunks
 * given back behind it: FileLex). Directives are executed,
 * macros are replaced using hide sets (Prosser's algorithm, as in chibicc),
 * and the surviving tokens are printed into one text buffer. Tokens that
 * come straight from a file are printed at their own line and column
 * (with "# N "file"" markers when the file changes or lines jump), so the
 * IDL lexer's locations are the original ones; tokens produced by a macro
 * expansion follow each other separated by a space.
 *
 * Limits: include depth, macro expansion depth, the tokens one expansion
 * may produce (a macro named in the source, rescanning included) and the
 * tokens a whole run may produce relative to the tokens it reads are
 * bounded (amidl.h, count_expansion), so a "billion laughs" macro file
 * stops with an error instead of eating memory, while a large file of
 * ordinary macros passes.
 */
#include "amidl.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
/* scope.c's word-at-a-time hash: cheaper than uthash's default (and
 * than byte-at-a-time FNV) on the short names looked up here */
#define HASH_FUNCTION(keyptr, keylen, hashv) ((hashv) = scope_hash((const char *)(keyptr), (size_t)(keylen)))
#include <uthash.h>

enum { TK_IDENT, TK_NUM, TK_STR, TK_CHAR, TK_PUNCT, TK_OTHER, TK_EOF };

typedef struct Hide { const char *name; struct Hide *next; } Hide;

/* 32 bytes: the file is a number in PP.fnames (file_id). A file's tokens
 * (most of them) carry no hide
 * set; a token made by an expansion (copy_tok) is an ETok, which does
 * (ext), read through tok_hide (#13: 8 bytes less per token). */
typedef struct Tok {
    const char *s;
    struct Tok *next;
    int len : 31;
    bool spliced : 1;   /* a literal with backslash-newlines: s is a copy without them */
    int line;
    int col;            /* (not bit-fields: a token is written once a token, #13) */
    unsigned char kind;
    bool bol : 1;       /* first token of a line */
    bool space : 1;     /* whitespace before it */
    bool expanded : 1;  /* produced by a macro expansion */
    bool noexpand : 1;  /* painted blue: never expand again */
    bool ext : 1;       /* an ETok (copy_tok): it has a hide set */
    uint16_t file;      /* PP.fnames[file]; 0: none */
} Tok;
_Static_assert(sizeof(Tok) == 32, "a file's token is 32 bytes");

typedef struct ETok { Tok t; Hide *hide; } ETok;

/* (gcc sees a plain Tok, such as eof_tok, reach these and warns of the
 * ETok read that t->ext rules out) */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Warray-bounds"
static Hide *tok_hide(const Tok *t)
{
    return t->ext ? ((const ETok *)t)->hide : NULL;
}

static void tok_set_hide(Tok *t, Hide *h)
{
    if (!t->ext)
        abort();        /* only copies carry hide sets */
    ((ETok *)t)->hide = h;
}
#pragma GCC diagnostic pop

/* File names of tokens, numbered (one table for the compilation). */
typedef struct FName { const char *name; unsigned id; UT_hash_handle hh; } FName;
#define MAX_FNAMES 0xffff

typedef struct Macro {
    const char *name;
    bool funclike, variadic, builtin;
    const char **params;
    int nparams;
    /* The body: the tokens after the name (or the parameters) in the
     * #define's own line. Kept as its text in the file (btext, blen bytes,
     * starting at line bline, column bcol of file bfile), cut into tokens
     * again when the macro is first used in a run (macro_body): winerror.h
     * defines 4,800 macros that a file rarely uses (#13). A body that
     * cannot be read again from its text (a literal with line splices)
     * is copied at once (btext NULL). The tokens end at the first token
     * that starts a line, or at EOF (body_end). */
    const char *btext;
    int blen, bline, bcol;
    uint16_t bfile;
    bool bspace;        /* its first token has whitespace before it */
    unsigned brun;      /* body holds btext's tokens for run number brun */
    Tok *body;
    UT_hash_handle hh;
} Macro;

typedef struct SrcFile {
    const char *path;
    const char *text;   /* the file's text (kept for diagnostics and re-reading) */
    size_t len;
    unsigned run_id;    /* the last run that read it */
    const char *lexed;  /* the text up to here was read once: its lexical errors
                           were reported (each is reported once) */
    unsigned long ntoks;    /* how many tokens it has (known once guard_checked) */
    const char *guard;  /* include guard macro, if the file has the classic shape */
    bool guard_checked; /* read to the end once: guard looked for, ntoks counted */
    bool once;
    void *map;          /* the text is this mapping of the file (map_len bytes), or NULL */
    size_t map_len;
    UT_hash_handle hh;
} SrcFile;

typedef struct Cond { int state; Loc loc; bool had_else; struct Cond *next; } Cond;
enum { C_TAKING, C_SKIPPING, C_DONE };   /* DONE: a branch was taken, skip the rest */

struct PP {
    Compiler *cc;
    Arena *a;
    Macro *macros;
    SrcFile *files;
    PtrVec dirs;
    int include_depth;
    int expand_depth;
    unsigned long expansion_tokens; /* produced by the expansion under way (one use of a macro) */
    unsigned long run_expanded;     /* produced by every expansion of this run */
    unsigned long run_source;       /* tokens read from files in this run */
    bool expand_limit_hit;          /* reported: no more expansion in this run */
    /* output state */
    Buf *out;
    const char *out_file;
    int out_line, out_col;
    bool out_started;
    File *dep_owner;    /* File whose deps get the includes */
    int line_delta;     /* #line in the file being read */
    const char *line_file;
    PtrVec cmdline;     /* -D/-U in order: "+NAME=VALUE" / "-NAME", replayed per import */
    Arena *perm;        /* the compilation's arena: files, names, command-line macros */
    unsigned run_id;    /* each preprocessed file is a run with its own token arena */
    bool started;       /* the first file has been read: later defines are not command-line */
    FName *fname_tab;   /* name -> number */
    PtrVec fnames;      /* number -> name; [0] NULL */
    unsigned last_fid;  /* the last name looked up */
};

static Tok eof_tok = { .kind = TK_EOF, .s = "", .len = 0 };
/* the end of every non-empty macro body (see Macro.body) */
static Tok body_term = { .kind = TK_EOF, .s = "", .len = 0, .bol = true };

/* ==================================================================== tokenizer */

static const char *fname(const PP *pp, unsigned id)
{
    return id < (unsigned)pp->fnames.n ? pp->fnames.v[id] : NULL;
}

/* The number of a file name (NULL: 0). When the table is full (65,535
 * names, only reachable with #line), the last number is reused. */
static unsigned file_id(PP *pp, const char *name)
{
    if (!name)
        return 0;
    if (pp->last_fid && !strcmp(pp->fnames.v[pp->last_fid], name))
        return pp->last_fid;
    FName *f = NULL;
    HASH_FIND_STR(pp->fname_tab, name, f);
    if (!f) {
        if (!pp->fnames.n)
            vec_push(&pp->fnames, NULL);
        if (pp->fnames.n > MAX_FNAMES)
            return pp->last_fid = (unsigned)pp->fnames.n - 1;
        f = arena_alloc(pp->perm, sizeof(FName));
        f->name = arena_strdup(pp->perm, name);
        f->id = (unsigned)pp->fnames.n;
        vec_push(&pp->fnames, (void *)f->name);
        HASH_ADD_KEYPTR(hh, pp->fname_tab, f->name, strlen(f->name), f);
    }
    return pp->last_fid = f->id;
}

static Loc tok_loc(const PP *pp, const Tok *t)
{
    return (Loc){ fname(pp, t->file), t->line, t->col };
}

/* the characters of identifiers: 1 may start one, 2 only continue it
 * (a table: isalpha's locale lookup per character was 2% of a run, #13) */
static const unsigned char ident_class[256] = {
#define R2(a) [a] = 2, [a + 1] = 2, [a + 2] = 2, [a + 3] = 2, [a + 4] = 2
    R2('0'), R2('5'),
#undef R2
#define R1(a) [a] = 1, [a + 1] = 1, [a + 2] = 1, [a + 3] = 1, [a + 4] = 1, [a + 5] = 1, [a + 6] = 1, \
              [a + 7] = 1, [a + 8] = 1, [a + 9] = 1, [a + 10] = 1, [a + 11] = 1, [a + 12] = 1
    R1('A'), R1('N'), R1('a'), R1('n'),
#undef R1
    ['_'] = 1, ['$'] = 1,
};
static bool is_ident1(int c) { return ident_class[c & 0xff] == 1; }
/* ispunct in the C locale: the printable ASCII characters that are not
 * letters, digits or the space */
static bool is_punct(int c)
{
    return (c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') || (c >= '{' && c <= '~');
}
static bool is_ident2(int c) { return ident_class[c & 0xff] != 0; }

static const char *puncts[] = {
    "<<=", ">>=", "...", "##", "->", "++", "--", "<<", ">>", "<=", ">=", "==", "!=",
    "&&", "||", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "::", NULL
};

/* the characters a multi-character punctuator starts with, and its second ones */
static const bool punct_first[256] = {
    ['<'] = 1, ['>'] = 1, ['.'] = 1, ['#'] = 1, ['-'] = 1, ['+'] = 1, ['&'] = 1, ['|'] = 1,
    ['*'] = 1, ['/'] = 1, ['%'] = 1, ['='] = 1, ['!'] = 1, ['^'] = 1, [':'] = 1,
};
static const bool punct_second[256] = {
    ['<'] = 1, ['>'] = 1, ['.'] = 1, ['#'] = 1, ['-'] = 1, ['+'] = 1, ['&'] = 1, ['|'] = 1,
    ['='] = 1, [':'] = 1,
};

/* The scanner's state over one text. */
typedef struct Lex {
    PP *pp;
    const char *p, *end, *line_start;
    unsigned fid;
    const char *file;
    int line;
    bool bol, space;
    bool quiet;         /* report no errors */
    const char **lexed; /* report only errors from here on (SrcFile.lexed, moved on by lex_mark) */
} Lex;

static void lex_init(Lex *L, PP *pp, const char *file, const char *p, size_t n, bool quiet)
{
    L->pp = pp;
    L->fid = file_id(pp, file);
    L->file = fname(pp, L->fid);
    L->p = L->line_start = p;
    L->end = p + n;
    L->line = 1;
    L->bol = true;
    L->space = false;
    L->quiet = quiet;
    L->lexed = NULL;
}

static void set_tok(Tok *t, int kind, const char *s, int len, unsigned file, int line, int col, bool bol, bool space)
{
    /* one store of the whole token (the bit-fields composed in registers) */
    *t = (Tok){ .s = s, .len = len, .line = line, .col = col > 0x7fffff ? 0x7fffff : col, .kind = (unsigned)kind,
                .bol = bol, .space = space, .file = (uint16_t)file };
}
/* Scan the next token into *t (next: NULL); false at the end of the text
 * (*t is then the EOF token). Comments become whitespace; a backslash
 * before a newline joins lines; a literal's text with the line splices
 * taken out is put in the run's arena. Errors are reported (unless
 * L->quiet) and scanning goes on. */
__attribute__((always_inline)) static inline bool lex_tok_inline(Lex *L, Tok *t)
{
    PP *pp = L->pp;
    Compiler *cc = pp->cc;
    const char *p = L->p, *end = L->end, *line_start = L->line_start, *file = L->file;
    unsigned fid = L->fid;
    int line = L->line;
    bool bol = L->bol, space = L->space;
    bool more = false;

    while (p < end) {
        int c = (unsigned char)*p;
        if (c == '\n') {
            p++; line++; line_start = p; bol = true; space = false;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
            p++; space = true;
            continue;
        }
        if (c == '\\' && (p + 1 < end && (p[1] == '\n' || (p[1] == '\r' && p + 2 < end && p[2] == '\n')))) {
            p += p[1] == '\n' ? 2 : 3; line++; line_start = p; space = true;
            continue;
        }
        if (c == '/' && p + 1 < end && p[1] == '/') {
            while (p < end && *p != '\n')
                p++;
            space = true;
            continue;
        }
        if (c == '/' && p + 1 < end && p[1] == '*') {
            int sline = line, scol = (int)(p - line_start) + 1;
            const char *start = p;
            p += 2;
            while (p < end && !(p[0] == '*' && p + 1 < end && p[1] == '/')) {
                if (*p == '\n') { line++; line_start = p + 1; }
                p++;
            }
            if (p >= end) {
                if (!L->quiet && (!L->lexed || start >= *L->lexed))
                    error_at(cc, (Loc){ file, sline, scol }, "unterminated comment");
                break;
            }
            p += 2;
            space = true;
            continue;
        }
        int col = (int)(p - line_start) + 1;
        const char *start = p;
        int kind;
        if (is_ident1(c) && !((c == 'L' || c == 'u' || c == 'U') && p + 1 < end && (p[1] == '"' || p[1] == '\''))) {
            while (p < end && is_ident2((unsigned char)*p))
                p++;
            kind = TK_IDENT;
        } else if ((unsigned)(c - '0') < 10 || (c == '.' && p + 1 < end && (unsigned)(p[1] - '0') < 10)) {
            p++;
            while (p < end) {
                if ((*p == 'e' || *p == 'E' || *p == 'p' || *p == 'P') && p + 1 < end && (p[1] == '+' || p[1] == '-'))
                    p += 2;
                else if (is_ident2((unsigned char)*p) || *p == '.')
                    p++;
                else
                    break;
            }
            kind = TK_NUM;
        } else if (c == '"' || c == '\'' || ((c == 'L' || c == 'u' || c == 'U') && p + 1 < end && (p[1] == '"' || p[1] == '\''))) {
            if (c != '"' && c != '\'')
                p++;
            char q = *p++;
            bool spliced = false;
            while (p < end && *p != q) {
                if (*p == '\n') {
                    break;
                }
                if (*p == '\\' && p + 1 < end) {
                    if (p[1] == '\n') { spliced = true; line++; line_start = p + 2; }
                    p += 2;
                    continue;
                }
                p++;
            }
            if (p >= end || *p != q) {
                if (!L->quiet && (!L->lexed || start >= *L->lexed))
                    error_at(cc, (Loc){ file, line, col }, "missing terminating %c character", q);
                kind = TK_OTHER;
            } else {
                p++;
                kind = q == '"' ? TK_STR : TK_CHAR;
            }
            if (spliced) {
                /* remove the backslash-newlines from the literal */
                char *s = arena_alloc(pp->a, (size_t)(p - start) + 1);
                int k = 0;
                for (const char *q2 = start; q2 < p; q2++) {
                    if (*q2 == '\\' && q2 + 1 < p && q2[1] == '\n') { q2++; continue; }
                    s[k++] = *q2;
                }
                set_tok(t, kind, s, k, fid, line, col, bol, space);
                t->spliced = true;
                more = true;
                break;
            }
        } else {
            kind = TK_PUNCT;
            int len = 1;
            /* multi-character punctuators only start with these */
            if (p + 1 < end && punct_first[c] && punct_second[(unsigned char)p[1]]) {
                for (int i = 0; puncts[i]; i++) {
                    int l = puncts[i][2] ? 3 : 2;
                    if (puncts[i][0] == c && end - p >= l && !memcmp(p, puncts[i], (size_t)l)) { len = l; break; }
                }
            }
            if (!is_punct(c))
                kind = TK_OTHER;
            p += len;
        }
        set_tok(t, kind, start, (int)(p - start), fid, line, col, bol, space);
        more = true;
        break;
    }
    if (more) {
        bol = false;
        space = false;
    } else {
        p = end;
        set_tok(t, TK_EOF, "", 0, fid, line, 1, true, false);
    }
    L->p = p;
    L->line_start = line_start;
    L->line = line;
    L->bol = bol;
    L->space = space;
    return more;
}

/* (inline where a file is read as it is preprocessed, file_tok: a call a
 * token, saving and restoring the scanner's state, was 2% of a run) */
static __attribute__((noinline)) bool lex_tok(Lex *L, Tok *t)
{
    return lex_tok_inline(L, t);
}

/* The text up to where L is was read: its errors are not reported again. */
static void lex_mark(Lex *L)
{
    if (L->lexed && L->p > *L->lexed)
        *L->lexed = L->p;
}

/* Cut a whole text into tokens (a list in the arena ta, ending in EOF). */
static Tok *tokenize(PP *pp, Arena *ta, const char *file, const char *p, size_t n)
{
    Lex L;
    lex_init(&L, pp, file, p, n, false);
    Tok head = {0}, *cur = &head;
    for (;;) {
        Tok *t = arena_alloc(ta, sizeof(Tok));
        bool more = lex_tok(&L, t);
        cur = cur->next = t;
        if (!more)
            break;
    }
    return head.next;
}

static inline bool tok_is(const Tok *t, const char *s);

/* The classic include guard shape, looked for in the tokens as a file is
 * first read to its end: #ifndef X / #define X first, the matching #endif
 * the last directive, nothing after its line. */
typedef struct Guard {
    Tok first[6];       /* the first six tokens */
    int nfirst;
    Tok hash;           /* a '#' starting a line, its directive name not seen yet */
    bool pending;
    int depth;
    unsigned long endif_seq, seq;   /* the last #endif at depth 0: its '#', counted from 1 */
    int after;          /* after that #endif's line: 0 not yet seen, 1 EOF, -1 something else */
    bool fail;
} Guard;

static void guard_dir(Guard *g, const Tok *dir)
{
    if (tok_is(dir, "if") || tok_is(dir, "ifdef") || tok_is(dir, "ifndef"))
        g->depth++;
    else if (tok_is(dir, "endif")) {
        g->depth--;
        if (g->depth == 0) {
            g->endif_seq = g->seq;
            g->after = dir->bol ? (dir->kind == TK_EOF ? 1 : -1) : 0;
        }
    } else if (g->depth == 0)
        g->fail = true;
    if (g->depth == 0 && g->endif_seq && g->endif_seq != g->seq)
        g->fail = true;
}

static void guard_tok(Guard *g, const Tok *t)
{
    if (g->nfirst < 6)
        g->first[g->nfirst++] = *t;
    if (g->pending) {
        g->pending = false;
        guard_dir(g, t);
    } else if (g->endif_seq && !g->after && t->bol)
        g->after = t->kind == TK_EOF ? 1 : -1;
    if (t->bol && tok_is(t, "#") && t->kind != TK_EOF) {
        g->pending = true;
        g->seq++;
    }
}

/* The guard's name token, or NULL. */
static const Tok *guard_name(Guard *g)
{
    Tok *f = g->first;
    if (g->fail || g->nfirst < 6 || !g->endif_seq || g->after != 1)
        return NULL;
    if (!(tok_is(&f[0], "#") && tok_is(&f[1], "ifndef") && f[2].kind == TK_IDENT))
        return NULL;
    if (!(f[3].bol && tok_is(&f[3], "#") && tok_is(&f[4], "define") && f[5].len == f[2].len &&
          !memcmp(f[5].s, f[2].s, (size_t)f[2].len)))
        return NULL;
    return &f[2];
}

/* A file being preprocessed is cut into tokens as the preprocessor reads
 * on, a line at a time, into chunks that go back to spare_chunks as soon
 * as the main loop is past them (lex_release): a file's tokens are never
 * all in memory at once (#13: winerror.h's 34,000 tokens were 1.1 MB).
 * Nothing keeps a pointer into them: macro bodies are copied (copy_body),
 * conditionals keep a location. A file's last token read so far has no
 * next yet; nx() reads the next line then (refill). Only the innermost
 * file (lex_top) is read: the files that included it wait at their
 * #include, on a token that has its next. */
#ifndef CHUNK_TOKS
#define CHUNK_TOKS 256
#endif
typedef struct Chunk { struct Chunk *next; int used; Tok t[CHUNK_TOKS]; } Chunk;
typedef struct FileLex {
    Lex L;
    SrcFile *sf;
    Chunk *head, *tail; /* the chunks alive, oldest first */
    Tok *last;          /* the last token read */
    bool done;          /* last is the EOF token */
    bool counted;       /* its tokens are in run_source (else added as they are read) */
    unsigned long ntoks;    /* tokens read */
    Guard *guard;       /* the first read to the end: looking for the include guard */
    struct FileLex *up; /* the file that included this one */
} FileLex;

static FileLex *lex_top;        /* the file being read (one preprocessor at a time) */
static Chunk *spare_chunks;     /* in the compilation's arena: a few, reused */

/* Read one token. */
__attribute__((always_inline)) static inline bool file_tok(PP *pp, FileLex *f, Tok *t)
{
    bool more = lex_tok_inline(&f->L, t);
    if (f->guard)
        guard_tok(f->guard, t);
    if (more) {
        f->ntoks++;
        if (!f->counted)
            pp->run_source++;
    }
    return more;
}

static Tok *chunk_tok(FileLex *f)
{
    Chunk *c = f->tail;
    if (!c || c->used == CHUNK_TOKS) {
        Chunk *n = spare_chunks;
        if (n)
            spare_chunks = n->next;
        else
            n = arena_alloc(f->L.pp->perm, sizeof(Chunk));
        n->next = NULL;
        n->used = 0;
        if (c)
            c->next = n;
        else
            f->head = n;
        f->tail = c = n;
    }
    return &c->t[c->used++];
}

/* Read tokens up to the first token of the next line (or EOF). */
static void lex_line(FileLex *f)
{
    for (;;) {
        Tok *t = chunk_tok(f);
        bool more = file_tok(f->L.pp, f, t);
        if (f->last)
            f->last->next = t;
        f->last = t;
        if (!more) {
            f->done = true;
            return;
        }
        if (t->bol)
            return;
    }
}

static Tok *refill(Tok *t)
{
    FileLex *f = lex_top;
    if (!f || f->done || t != f->last)
        return NULL;        /* (the end of a list) */
    lex_line(f);
    return t->next;
}

/* The token after t (in a file: read when first needed). */
static inline Tok *nx(Tok *t)
{
    return t->next ? t->next : refill(t);
}

static bool in_chunk(const Chunk *c, const Tok *t)
{
    return (uintptr_t)t >= (uintptr_t)c->t && (uintptr_t)t < (uintptr_t)(c->t + CHUNK_TOKS);
}

/* The main loop is at t: the chunks before t's are given back. */
static void lex_release(const Tok *t)
{
    FileLex *f = lex_top;
    if (!f || f->head == f->tail || in_chunk(f->head, t))
        return;
    Chunk *c = f->head->next;
    while (c && !in_chunk(c, t))
        c = c->next;
    if (!c)
        return;     /* not one of this file's tokens */
    while (f->head != c) {
        Chunk *h = f->head;
        f->head = h->next;
        h->next = spare_chunks;
        spare_chunks = h;
    }
}

/* ==================================================================== helpers */

/* The end of a macro body (see Macro.body). */
static bool body_end(const Tok *t)
{
    return t->bol || t->kind == TK_EOF;
}

/* inline everywhere: s is a literal, so its length and the compare fold */
__attribute__((always_inline)) static inline bool tok_is(const Tok *t, const char *s)
{
    return t->len > 0 && t->s[0] == s[0] && (size_t)t->len == strlen(s) && !memcmp(t->s, s, (size_t)t->len) &&
           t->kind != TK_STR && t->kind != TK_CHAR;
}

static char *tok_str(PP *pp, const Tok *t)
{
    return arena_strndup(pp->a, t->s, (size_t)t->len);
}

static Tok *copy_tok(PP *pp, const Tok *t)
{
    ETok *e = arena_alloc(pp->a, sizeof(ETok));
    Tok *n = &e->t;
    *n = *t;
    e->hide = tok_hide(t);
    n->ext = true;
    n->next = NULL;
    return n;
}

static Tok *skip_line(Tok *t)
{
    while (!t->bol)
        t = nx(t);
    return t;
}

/* The tokens of the rest of the directive line, copied, ending in EOF. */
static Tok *copy_line(PP *pp, Tok **rest, Tok *t)
{
    Tok head = {0}, *cur = &head;
    for (; !t->bol; t = nx(t))
        cur = cur->next = copy_tok(pp, t);
    Tok *e = copy_tok(pp, &eof_tok);
    e->file = cur->file ? cur->file : t->file;
    e->line = cur->line;
    cur->next = e;
    *rest = t;
    return head.next;
}

static Macro *find_macro(PP *pp, const Tok *t)
{
    if (t->kind != TK_IDENT)
        return NULL;
    Macro *m = NULL;
    HASH_FIND(hh, pp->macros, t->s, (size_t)t->len, m);
    return m;
}

static bool hidden(Hide *h, const Tok *t)
{
    for (; h; h = h->next)
        if ((int)strlen(h->name) == t->len && !memcmp(h->name, t->s, (size_t)t->len))
            return true;
    return false;
}

static Hide *hide_add(PP *pp, Hide *h, const char *name)
{
    Hide *n = arena_alloc(pp->a, sizeof(Hide));
    n->name = name;
    n->next = h;
    return n;
}

static Hide *hide_union(PP *pp, Hide *a, Hide *b)
{
    Hide *r = b;
    for (; a; a = a->next)
        if (!hidden(b, &(Tok){ .s = a->name, .len = (int)strlen(a->name) }))
            r = hide_add(pp, r, a->name);
    return r;
}

static Hide *hide_intersect(PP *pp, Hide *a, Hide *b)
{
    Hide *r = NULL;
    for (; a; a = a->next)
        if (hidden(b, &(Tok){ .s = a->name, .len = (int)strlen(a->name) }))
            r = hide_add(pp, r, a->name);
    return r;
}

/* ==================================================================== macros */

static void define_macro(PP *pp, Macro *m)
{
    Macro *old = NULL;
    HASH_FIND_STR(pp->macros, m->name, old);
    if (old)
        HASH_DEL(pp->macros, old);
    HASH_ADD_KEYPTR(hh, pp->macros, m->name, strlen(m->name), m);
}

/* A macro body (t up to the end of the #define's line) copied into one
 * array: a Tok each, linked in order, ending in body_term. An empty body
 * is one EOF token where the line after it starts (its location, as when
 * bodies pointed into the file). */
static Tok *copy_body(PP *pp, Tok *t)
{
    size_t n = 0;
    for (Tok *x = t; !body_end(x); x = nx(x))
        n++;
    if (!n) {
        Tok *e = arena_alloc(pp->a, sizeof(Tok));
        *e = body_term;
        e->file = t->file;
        e->line = t->line;
        e->col = t->col;
        return e;
    }
    Tok *v = arena_alloc(pp->a, sizeof(Tok) * n);
    for (size_t i = 0; i < n; i++, t = nx(t)) {
        v[i] = *t;
        v[i].ext = false;       /* (file tokens have no hide set) */
        v[i].next = i + 1 < n ? &v[i + 1] : &body_term;
    }
    return v;
}

static void set_body(PP *pp, Macro *m, Tok *t)
{
    if (body_end(t)) {
        m->body = copy_body(pp, t);
        return;
    }
    Tok *last = t;
    bool text = t->col < 0x7fffff;
    for (Tok *x = t; !body_end(x); x = nx(x)) {
        last = x;
        if (x->spliced)
            text = false;
    }
    if (!text) {
        m->body = copy_body(pp, t);
        return;
    }
    m->btext = t->s;
    m->blen = (int)(last->s + last->len - t->s);
    m->bline = t->line;
    m->bcol = t->col;
    m->bfile = t->file;
    m->bspace = t->space;
}

/* A macro's body tokens for this run (see Macro.btext). */
static Tok *macro_body(PP *pp, Macro *m)
{
    if (!m->btext || (m->body && m->brun == pp->run_id))
        return m->body;
    Lex L = { .pp = pp, .p = m->btext, .end = m->btext + m->blen, .line_start = m->btext - (m->bcol - 1),
              .fid = m->bfile, .file = fname(pp, m->bfile), .line = m->bline, .bol = false,
              .space = m->bspace, .quiet = true };
    Tok head = {0}, *cur = &head, t;
    while (lex_tok(&L, &t)) {
        Tok *n = arena_alloc(pp->a, sizeof(Tok));
        *n = t;
        cur = cur->next = n;
    }
    cur->next = &body_term;
    m->body = head.next;
    m->brun = pp->run_id;
    return m->body;
}

static void read_define(PP *pp, Tok **rest, Tok *t)
{
    if (t->bol || t->kind != TK_IDENT) {
        error_at(pp->cc, tok_loc(pp, t->bol ? t : t), "macro name must be an identifier");
        *rest = skip_line(t);
        return;
    }
    Macro *m = arena_alloc(pp->a, sizeof(Macro));
    m->name = tok_str(pp, t);
    t = nx(t);
    if (!t->bol && tok_is(t, "(") && !t->space) {
        m->funclike = true;
        t = nx(t);
        PtrVec params = {0};
        while (!t->bol && !tok_is(t, ")")) {
            if (params.n || m->variadic) {
                if (!tok_is(t, ",")) {
                    error_at(pp->cc, tok_loc(pp, t), "expected ',' or ')' in macro parameter list");
                    vec_free(&params);
                    *rest = skip_line(t);
                    return;
                }
                t = nx(t);
            }
            if (tok_is(t, "...")) {
                m->variadic = true;
                vec_push(&params, "__VA_ARGS__");
                t = nx(t);
                continue;
            }
            if (t->bol || t->kind != TK_IDENT) {
                error_at(pp->cc, tok_loc(pp, t), "expected parameter name in macro parameter list");
                vec_free(&params);
                *rest = skip_line(t);
                return;
            }
            vec_push(&params, tok_str(pp, t));
            t = nx(t);
            if (tok_is(t, "...")) {        /* GNU named variadic: args... */
                m->variadic = true;
                t = nx(t);
            }
        }
        if (t->bol) {
            error_at(pp->cc, tok_loc(pp, t), "missing ')' in macro parameter list");
            vec_free(&params);
            *rest = t;
            return;
        }
        t = nx(t);
        m->nparams = params.n;
        m->params = arena_alloc(pp->a, sizeof(char *) * (size_t)(params.n + 1));
        for (int i = 0; i < params.n; i++)
            m->params[i] = params.v[i];
        vec_free(&params);
    }
    set_body(pp, m, t);
    *rest = skip_line(t);
    define_macro(pp, m);
}

static void define_text(PP *pp, const char *name, const char *value);

void pp_define(PP *pp, const char *name, const char *value)
{
    if (!pp->started)
        vec_push(&pp->cmdline, arena_printf(pp->a, "+%s=%s", name, value ? value : "1"));
    define_text(pp, name, value);
}

static void define_text(PP *pp, const char *name, const char *value)
{
    Buf b = {0};
    buf_printf(&b, "%s %s\n", name, value ? value : "1");
    char *text = arena_strndup(pp->a, b.data, b.len);
    buf_free(&b);
    Tok *t = tokenize(pp, pp->a, "<command line>", text, strlen(text));
    Tok *rest;
    t->bol = false;   /* read_define expects the name not at line start */
    read_define(pp, &rest, t);
}

static void undef_name(PP *pp, const char *name);

void pp_undef(PP *pp, const char *name)
{
    if (!pp->started)
        vec_push(&pp->cmdline, arena_printf(pp->a, "-%s", name));
    undef_name(pp, name);
}

static void undef_name(PP *pp, const char *name)
{
    Macro *m = NULL;
    HASH_FIND_STR(pp->macros, name, m);
    if (m)
        HASH_DEL(pp->macros, m);
}

static void add_builtin(PP *pp, const char *name)
{
    Macro *m = arena_alloc(pp->a, sizeof(Macro));
    m->name = name;
    m->builtin = true;
    m->body = &eof_tok;
    define_macro(pp, m);
}

/* Macro arguments: each a token list ending in EOF. */
typedef struct Arg { Tok *toks; } Arg;

static Tok *eof_at(PP *pp, const Tok *where)
{
    Tok *e = copy_tok(pp, &eof_tok);
    e->file = where->file;
    e->line = where->line;
    e->col = where->col;
    return e;
}

/* Read the arguments of a function-like macro call; t is at '('.
 * Returns false (and reports) when the call is unterminated. */
static bool read_args(PP *pp, Macro *m, Tok **rest, Tok *t, Arg *args, Tok **rparen)
{
    Tok *start = t;
    t = nx(t);
    int n = 0, depth = 0;
    int nparams = m->nparams ? m->nparams : 1;
    Tok head = {0}, *cur = &head;
    for (;;) {
        if (t->kind == TK_EOF) {
            error_at(pp->cc, tok_loc(pp, start), "unterminated argument list invoking macro '%s'", m->name);
            *rest = t;
            return false;
        }
        if (t->bol && tok_is(t, "#")) {
            /* a directive inside macro arguments: stop here */
            error_at(pp->cc, tok_loc(pp, start), "unterminated argument list invoking macro '%s'", m->name);
            *rest = t;
            return false;
        }
        if (depth == 0 && tok_is(t, ")"))
            break;
        if (depth == 0 && tok_is(t, ",") && !(m->variadic && n == nparams - 1)) {
            cur->next = eof_at(pp, t);
            if (n < nparams)
                args[n].toks = head.next ? head.next : nx(cur);
            n++;
            head.next = NULL;
            cur = &head;
            t = nx(t);
            continue;
        }
        if (tok_is(t, "("))
            depth++;
        else if (tok_is(t, ")"))
            depth--;
        cur = cur->next = copy_tok(pp, t);
        cur->bol = false;
        t = nx(t);
    }
    cur->next = eof_at(pp, t);
    if (n < nparams)
        args[n].toks = head.next ? head.next : nx(cur);
    n++;
    if (m->nparams == 0 && n == 1 && args[0].toks->kind == TK_EOF)
        n = 0;
    if (m->variadic && n == m->nparams - 1) {
        args[n].toks = eof_at(pp, t);       /* empty __VA_ARGS__ */
        n++;
    }
    if (n != m->nparams) {
        if (n > m->nparams)
            error_at(pp->cc, tok_loc(pp, start), "macro '%s' passed %d arguments, but takes just %d", m->name, n, m->nparams);
        else
            error_at(pp->cc, tok_loc(pp, start), "macro '%s' requires %d argument%s, but only %d given", m->name,
                     m->nparams, m->nparams == 1 ? "" : "s", n);
        *rest = t->next;
        return false;
    }
    *rparen = t;
    *rest = t->next;
    return true;
}

static int find_param(Macro *m, const Tok *t)
{
    if (t->kind != TK_IDENT)
        return -1;
    for (int i = 0; i < m->nparams; i++)
        if ((int)strlen(m->params[i]) == t->len && !memcmp(m->params[i], t->s, (size_t)t->len))
            return i;
    return -1;
}

static Tok *stringize(PP *pp, Tok *arg, const Tok *where)
{
    Buf b = {0};
    buf_putc(&b, '"');
    for (Tok *t = arg; t->kind != TK_EOF; t = nx(t)) {
        if (t != arg && t->space)
            buf_putc(&b, ' ');
        for (int i = 0; i < t->len; i++) {
            char c = t->s[i];
            if ((t->kind == TK_STR || t->kind == TK_CHAR) && (c == '"' || c == '\\'))
                buf_putc(&b, '\\');
            buf_putc(&b, c);
        }
    }
    buf_putc(&b, '"');
    Tok *n = copy_tok(pp, where);
    n->kind = TK_STR;
    n->s = arena_strndup(pp->a, b.data, b.len);
    n->len = (int)b.len;
    buf_free(&b);
    return n;
}

static Tok *paste(PP *pp, const Tok *l, const Tok *r)
{
    Buf b = {0};
    buf_write(&b, l->s, (size_t)l->len);
    buf_write(&b, r->s, (size_t)r->len);
    char *s = arena_strndup(pp->a, b.data, b.len);
    buf_free(&b);
    Tok *t = tokenize(pp, pp->a, fname(pp, l->file), s, strlen(s));
    if (t->kind == TK_EOF || nx(t)->kind != TK_EOF) {
        error_at(pp->cc, tok_loc(pp, l), "pasting \"%.*s\" and \"%.*s\" does not give a valid preprocessing token",
                 l->len, l->s, r->len, r->s);
        if (t->kind == TK_EOF)
            return copy_tok(pp, l);
    }
    t->file = l->file;
    t->line = l->line;
    t->col = l->col;
    t->space = l->space;
    t->bol = false;
    t->next = NULL;
    return t;
}

/* *cur = the token l ## r (cur stays what it was allocated as; the
 * pasted token has no hide set) */
static void paste_into(PP *pp, Tok *cur, const Tok *r)
{
    bool ext = cur->ext;
    *cur = *paste(pp, cur, r);
    cur->ext = ext;
    if (ext)
        tok_set_hide(cur, NULL);
}

static Tok *expand_list(PP *pp, Tok *toks);

static Tok *copy_list(PP *pp, Tok *t, Tok **last)
{
    Tok head = {0}, *cur = &head;
    for (; t->kind != TK_EOF; t = nx(t))
        cur = cur->next = copy_tok(pp, t);
    *last = cur == &head ? NULL : cur;
    return head.next;
}

/* Substitute arguments into a function-like macro body. */
static Tok *subst(PP *pp, Macro *m, Arg *args, Arg *expanded)
{
    Tok head = {0}, *cur = &head;
    for (Tok *t = macro_body(pp, m); !body_end(t); t = nx(t)) {
        if (tok_is(t, "#") && !body_end(nx(t))) {
            int i = find_param(m, nx(t));
            if (i >= 0) {
                cur = cur->next = stringize(pp, args[i].toks, t);
                cur->space = t->space;
                t = nx(t);
                continue;
            }
        }
        if (tok_is(t, "##") && cur != &head) {
            Tok *r = nx(t);
            if (body_end(r))
                break;
            int i = find_param(m, r);
            t = r;
            if (i >= 0) {
                Tok *a = args[i].toks;
                if (a->kind == TK_EOF)
                    continue;
                /* GNU: , ## __VA_ARGS__ */
                paste_into(pp, cur, a);
                cur->next = NULL;
                for (a = nx(a); a->kind != TK_EOF; a = nx(a))
                    cur = cur->next = copy_tok(pp, a);
                continue;
            }
            Tok *saved_next = nx(cur);
            paste_into(pp, cur, r);
            cur->next = saved_next;
            continue;
        }
        int i = find_param(m, t);
        if (i >= 0) {
            bool before_paste = !body_end(nx(t)) && tok_is(nx(t), "##");
            Tok *src = before_paste ? args[i].toks : expanded[i].toks;
            if (before_paste && src->kind == TK_EOF) {
                /* empty left operand of ##: if the right is a param, keep it */
                t = nx(t);      /* at ## */
                Tok *r = nx(t);
                int j = body_end(r) ? -1 : find_param(m, r);
                if (j >= 0) {
                    Tok *last;
                    Tok *l = copy_list(pp, args[j].toks, &last);
                    if (l) { cur->next = l; cur = last; }
                    t = r;
                } else if (!body_end(r)) {
                    cur = cur->next = copy_tok(pp, r);
                    t = r;
                }
                continue;
            }
            Tok *last;
            Tok *l = copy_list(pp, src, &last);
            if (l) {
                l->space = t->space;
                cur->next = l;
                cur = last;
            }
            continue;
        }
        cur = cur->next = copy_tok(pp, t);
    }
    cur->next = eof_at(pp, m->body);
    return head.next;
}

/* Expand a complete, closed token list (a macro argument). */
static Tok *expand_list(PP *pp, Tok *toks);

static bool expand_macro(PP *pp, Tok **rest, Tok *t);

/* Expand a token list completely; returns a new list ending in EOF. */
static Tok *expand_list(PP *pp, Tok *toks)
{
    Tok head = {0}, *cur = &head;
    Tok *t = toks;
    while (t->kind != TK_EOF) {
        if (expand_macro(pp, &t, t))
            continue;
        cur = cur->next = t;
        t = nx(t);
    }
    cur->next = t;
    return head.next;
}

/* The tokens from t up to (not including) end. */
static unsigned long ntoks_until(const Tok *t, const Tok *end)
{
    unsigned long n = 0;
    for (; t && t != end; t = t->next)
        n++;
    return n;
}

/* Count n tokens (or one macro use) of expansion at t against the limits:
 * MAX_EXPAND_TOKENS for one expansion (a macro named in the source, with
 * everything its rescanning expands), MAX_EXPAND_DEPTH for nesting, and for
 * the whole run MAX_EXPAND_TOKENS plus MAX_EXPAND_RATIO tokens per token
 * read from the files. The first limit hit is reported and ends expansion
 * for the run (the run fails anyway). Returns false when a limit is hit. */
static void count_open_files(PP *pp);

static bool count_expansion(PP *pp, Tok *t, unsigned long n)
{
    pp->expansion_tokens += n;
    pp->run_expanded += n;
    unsigned long run_cap = MAX_EXPAND_TOKENS + MAX_EXPAND_RATIO * pp->run_source;
    bool deep = pp->expand_depth > MAX_EXPAND_DEPTH, large = pp->expansion_tokens > MAX_EXPAND_TOKENS;
    if (!deep && !large && pp->run_expanded > run_cap && !pp->expand_limit_hit) {
        count_open_files(pp);       /* the cap counts the files' tokens not read yet */
        run_cap = MAX_EXPAND_TOKENS + MAX_EXPAND_RATIO * pp->run_source;
    }
    if (!deep && !large && pp->run_expanded <= run_cap)
        return true;
    if (!pp->expand_limit_hit) {
        pp->expand_limit_hit = true;
        if (deep)
            error_at(pp->cc, tok_loc(pp, t), "macro expansion nested too deeply (limit %d)", MAX_EXPAND_DEPTH);
        else if (large)
            error_at(pp->cc, tok_loc(pp, t), "macro expansion too large (limit %u tokens)", MAX_EXPAND_TOKENS);
        else
            error_at(pp->cc, tok_loc(pp, t), "macro expansion too large for the input (limit %lu tokens, %u per token read)",
                     run_cap, MAX_EXPAND_RATIO);
    }
    t->noexpand = true;
    return false;
}

static const char *fixed_date(void)
{
    return "\"Jan  1 1970\"";
}

/* If t is a macro invocation, replace it in the stream: *rest becomes the
 * expansion followed by the remaining tokens. Returns false otherwise. */
static bool expand_macro(PP *pp, Tok **rest, Tok *t)
{
    if (t->noexpand || hidden(tok_hide(t), t))
        return false;
    Macro *m = find_macro(pp, t);
    if (!m)
        return false;
    if (m->builtin) {
        Tok *n = copy_tok(pp, t);
        n->expanded = true;
        if (!strcmp(m->name, "__LINE__")) {
            n->kind = TK_NUM;
            n->s = arena_printf(pp->a, "%d", t->line + pp->line_delta);
        } else if (!strcmp(m->name, "__FILE__")) {
            n->kind = TK_STR;
            n->s = arena_printf(pp->a, "\"%s\"", fname(pp, t->file));
        } else {
            n->kind = TK_STR;
            n->s = fixed_date();
        }
        n->len = (int)strlen(n->s);
        n->next = nx(t);
        *rest = n;
        return true;
    }
    if (pp->expand_limit_hit) {
        t->noexpand = true;
        return false;
    }
    if (pp->expand_depth == 0 && !t->expanded)
        pp->expansion_tokens = 0;       /* a macro named in the source: a new expansion */
    if (!count_expansion(pp, t, 1))
        return false;
    Tok *result, *after;
    Hide *hs;
    if (!m->funclike) {
        hs = hide_add(pp, tok_hide(t), m->name);
        Tok head = {0}, *cur = &head;
        for (Tok *b = macro_body(pp, m); !body_end(b); b = nx(b)) {
            cur = cur->next = copy_tok(pp, b);
            tok_set_hide(cur, hide_union(pp, tok_hide(cur), hs));
        }
        result = head.next;
        after = nx(t);
        if (result) {
            result->space = t->space;
            cur->next = after;
        }
    } else {
        Tok *lp = nx(t);
        if (!tok_is(lp, "(") || lp->kind == TK_EOF)
            return false;
        Arg *args = arena_alloc(pp->a, sizeof(Arg) * (size_t)(m->nparams + 1));
        Arg *exp = arena_alloc(pp->a, sizeof(Arg) * (size_t)(m->nparams + 1));
        Tok *rparen;
        if (!read_args(pp, m, &after, lp, args, &rparen)) {
            *rest = after;
            return true;
        }
        pp->expand_depth++;
        for (int i = 0; i < m->nparams; i++)
            exp[i].toks = expand_list(pp, args[i].toks);
        pp->expand_depth--;
        hs = hide_add(pp, hide_intersect(pp, tok_hide(t), tok_hide(rparen)), m->name);
        Tok *body = subst(pp, m, args, exp);
        Tok head = {0}, *cur = &head;
        for (Tok *b = body; b->kind != TK_EOF; b = nx(b)) {
            cur = cur->next = b;
            tok_set_hide(b, hide_union(pp, tok_hide(b), hs));
        }
        result = head.next;
        if (result) {
            result->space = t->space;
            cur->next = after;
        }
    }
    for (Tok *r = result; r && r != after; r = nx(r)) {
        r->expanded = true;
        r->bol = false;
        r->file = t->file;
        r->line = t->line;
        r->col = t->col;
    }
    if (result)
        count_expansion(pp, t, ntoks_until(result, after));
    *rest = result ? result : after;
    if (!result && after) {
        /* empty expansion: keep the line structure of what follows */
        if (t->bol && !after->bol && after->kind != TK_EOF && false)
            after->bol = true;
    }
    return true;
}

/* ==================================================================== #if */

typedef struct Val { long long v; bool u; } Val;

typedef struct Eval { PP *pp; Tok *t; bool err; Loc loc; } Eval;

static Val eval_cond(Eval *e);

static void eval_error(Eval *e, const Tok *t, const char *msg)
{
    if (!e->err) {
        Loc l = t->kind == TK_EOF ? e->loc : tok_loc(e->pp, t);
        error_at(e->pp->cc, l, "%s", msg);
    }
    e->err = true;
}

static bool parse_pp_number(const char *s, int len, Val *out)
{
    char buf[128];
    if (len >= (int)sizeof buf)
        return false;
    memcpy(buf, s, (size_t)len);
    buf[len] = 0;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(buf, &end, 0);
    if (buf[0] == '0' && len > 1 && (buf[1] == 'b' || buf[1] == 'B'))
        v = strtoull(buf + 2, &end, 2);
    bool u = false;
    while (*end) {
        if (*end == 'u' || *end == 'U') { u = true; end++; }
        else if (*end == 'l' || *end == 'L') end++;
        else if (!strncmp(end, "i64", 3) || !strncmp(end, "I64", 3)) end += 3;
        else if (!strncmp(end, "i32", 3) || !strncmp(end, "I32", 3)) end += 3;
        else return false;
    }
    if (v > (unsigned long long)INT64_MAX)
        u = true;
    out->v = (long long)v;
    out->u = u;
    return true;
}

static long long char_value(const char *s, int len)
{
    const char *p = s;
    if (*p == 'L' || *p == 'u' || *p == 'U')
        p++;
    p++;  /* quote */
    if (p >= s + len - 1)
        return 0;
    if (*p != '\\')
        return (unsigned char)*p;
    p++;
    switch (*p) {
    case 'n': return '\n';
    case 't': return '\t';
    case 'r': return '\r';
    case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7':
        return strtol(p, NULL, 8);
    case 'x': return strtol(p + 1, NULL, 16);
    case 'a': return 7;
    case 'b': return 8;
    case 'f': return 12;
    case 'v': return 11;
    default: return (unsigned char)*p;
    }
}

static Val eval_primary(Eval *e)
{
    Tok *t = e->t;
    Val r = {0, false};
    if (tok_is(t, "(")) {
        e->t = nx(t);
        r = eval_cond(e);
        if (!tok_is(e->t, ")")) {
            eval_error(e, e->t, "expected ')' in preprocessor expression");
            return r;
        }
        e->t = nx(e->t);
        return r;
    }
    if (t->kind == TK_NUM) {
        if (!parse_pp_number(t->s, t->len, &r))
            eval_error(e, t, "invalid integer constant in preprocessor expression");
        e->t = nx(t);
        return r;
    }
    if (t->kind == TK_CHAR) {
        r.v = char_value(t->s, t->len);
        e->t = nx(t);
        return r;
    }
    if (t->kind == TK_IDENT) {
        /* identifiers left after expansion are 0 (true/false as in C++) */
        r.v = tok_is(t, "true") ? 1 : 0;
        e->t = nx(t);
        if (tok_is(e->t, "(")) {
            eval_error(e, t, "function-like macro is not defined");
        }
        return r;
    }
    eval_error(e, t, t->kind == TK_EOF ? "expected value in preprocessor expression"
                                       : "invalid token in preprocessor expression");
    return r;
}

static Val eval_unary(Eval *e)
{
    Tok *t = e->t;
    if (tok_is(t, "-") || tok_is(t, "+") || tok_is(t, "!") || tok_is(t, "~")) {
        e->t = nx(t);
        Val v = eval_unary(e);
        switch (t->s[0]) {
        case '-': v.v = (long long)(0ULL - (unsigned long long)v.v); break;
        case '!': v.v = !v.v; v.u = false; break;
        case '~': v.v = ~v.v; break;
        }
        return v;
    }
    return eval_primary(e);
}

static int prec(const Tok *t)
{
    static const struct { const char *op; int p; } tab[] = {
        {"*", 10}, {"/", 10}, {"%", 10}, {"+", 9}, {"-", 9}, {"<<", 8}, {">>", 8},
        {"<", 7}, {">", 7}, {"<=", 7}, {">=", 7}, {"==", 6}, {"!=", 6}, {"&", 5},
        {"^", 4}, {"|", 3}, {"&&", 2}, {"||", 1}, {NULL, 0}
    };
    if (t->kind != TK_PUNCT)
        return 0;
    for (int i = 0; tab[i].op; i++)
        if (tok_is(t, tab[i].op))
            return tab[i].p;
    return 0;
}

static Val binop(Eval *e, const Tok *op, Val a, Val b)
{
    bool u = a.u || b.u;
    unsigned long long ua = (unsigned long long)a.v, ub = (unsigned long long)b.v;
    Val r = { 0, u };
    const char *s = op->s;
    int len = op->len;
    if (len == 1) {
        switch (s[0]) {
        case '*': r.v = (long long)(ua * ub); break;
        case '/': case '%':
            if (b.v == 0) { eval_error(e, op, "division by zero in preprocessor expression"); return r; }
            if (u) r.v = (long long)(s[0] == '/' ? ua / ub : ua % ub);
            else if (a.v == INT64_MIN && b.v == -1) r.v = s[0] == '/' ? a.v : 0;
            else r.v = s[0] == '/' ? a.v / b.v : a.v % b.v;
            break;
        case '+': r.v = (long long)(ua + ub); break;
        case '-': r.v = (long long)(ua - ub); break;
        case '<': r.v = u ? ua < ub : a.v < b.v; r.u = false; break;
        case '>': r.v = u ? ua > ub : a.v > b.v; r.u = false; break;
        case '&': r.v = a.v & b.v; break;
        case '^': r.v = a.v ^ b.v; break;
        case '|': r.v = a.v | b.v; break;
        }
        return r;
    }
    if (!memcmp(s, "<<", 2)) { r.u = a.u; r.v = (b.v < 0 || b.v > 63) ? 0 : (long long)(ua << b.v); }
    else if (!memcmp(s, ">>", 2)) { r.u = a.u; r.v = (b.v < 0 || b.v > 63) ? 0 : a.u ? (long long)(ua >> b.v) : a.v >> b.v; }
    else if (!memcmp(s, "<=", 2)) { r.v = u ? ua <= ub : a.v <= b.v; r.u = false; }
    else if (!memcmp(s, ">=", 2)) { r.v = u ? ua >= ub : a.v >= b.v; r.u = false; }
    else if (!memcmp(s, "==", 2)) { r.v = a.v == b.v; r.u = false; }
    else if (!memcmp(s, "!=", 2)) { r.v = a.v != b.v; r.u = false; }
    else if (!memcmp(s, "&&", 2)) { r.v = a.v && b.v; r.u = false; }
    else if (!memcmp(s, "||", 2)) { r.v = a.v || b.v; r.u = false; }
    return r;
}

static Val eval_binary(Eval *e, int min_prec)
{
    Val lhs = eval_unary(e);
    for (;;) {
        Tok *op = e->t;
        int p = prec(op);
        if (!p || p < min_prec || e->err)
            return lhs;
        e->t = nx(op);
        Val rhs = eval_binary(e, p + 1);
        lhs = binop(e, op, lhs, rhs);
    }
}

static Val eval_cond(Eval *e)
{
    if (++e->pp->expand_depth > MAX_NEST_DEPTH) {
        eval_error(e, e->t, "preprocessor expression nested too deeply");
        e->pp->expand_depth--;
        return (Val){0, false};
    }
    Val c = eval_binary(e, 1);
    if (tok_is(e->t, "?")) {
        e->t = nx(e->t);
        Val a = eval_cond(e);
        if (!tok_is(e->t, ":"))
            eval_error(e, e->t, "expected ':' in preprocessor expression");
        else
            e->t = nx(e->t);
        Val b = eval_cond(e);
        c = c.v ? a : b;
        if (a.u || b.u)
            c.u = true;
    }
    e->pp->expand_depth--;
    return c;
}

/* Evaluate the tokens of a #if line (t..end of line). */
static bool eval_if(PP *pp, Tok **rest, Tok *t, long long *out)
{
    Loc where = tok_loc(pp, t);
    Tok *line = copy_line(pp, rest, t);
    /* replace defined X / defined(X) first */
    Tok head = {0}, *cur = &head;
    for (Tok *x = line; x->kind != TK_EOF; x = nx(x)) {
        if (tok_is(x, "defined") && x->kind == TK_IDENT) {
            Tok *start = x;
            bool paren = tok_is(nx(x), "(");
            x = paren ? nx(nx(x)) : nx(x);
            if (x->kind != TK_IDENT) {
                error_at(pp->cc, tok_loc(pp, start), "macro name must be an identifier");
                return false;
            }
            bool def = find_macro(pp, x) != NULL;
            if (paren) {
                if (!tok_is(nx(x), ")")) {
                    error_at(pp->cc, tok_loc(pp, x), "missing ')' after 'defined'");
                    return false;
                }
                x = nx(x);
            }
            Tok *n = copy_tok(pp, start);
            n->kind = TK_NUM;
            n->s = def ? "1" : "0";
            n->len = 1;
            cur = cur->next = n;
            continue;
        }
        cur = cur->next = x;
    }
    Tok *e0 = eof_at(pp, cur == &head ? t : cur);
    cur->next = e0;
    Tok *exp = expand_list(pp, head.next ? head.next : e0);
    Eval e = { pp, exp, false, where };
    if (exp->kind == TK_EOF) {
        error_at(pp->cc, where, "#if with no expression");
        return false;
    }
    Val v = eval_cond(&e);
    if (!e.err && e.t->kind != TK_EOF)
        eval_error(&e, e.t, "missing binary operator in preprocessor expression");
    *out = v.v;
    return !e.err;
}

int pp_eval_string(PP *pp, const char *expr, long long *result)
{
    int before = pp->cc->errors;
    char *text = arena_strdup(pp->a, expr);
    Tok *t = tokenize(pp, pp->a, "<expr>", text, strlen(text));
    if (t->kind != TK_EOF)
        t->bol = false;
    Tok *rest;
    if (t->kind == TK_EOF) {
        error_at(pp->cc, tok_loc(pp, t), "#if with no expression");
        return -1;
    }
    bool ok = eval_if(pp, &rest, t, result);
    return ok && pp->cc->errors == before ? 0 : -1;
}

/* ==================================================================== files */

static bool file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static char *dir_of(Arena *a, const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return arena_strdup(a, ".");
    return arena_strndup(a, path, (size_t)(slash - path));
}

const char *pp_find(PP *pp, const char *name, const char *from, bool angled)
{
    if (name[0] == '/')
        return file_exists(name) ? arena_strdup(pp->a, name) : NULL;
    if (from && !angled) {
        char *d = dir_of(pp->a, from);
        char *p = strcmp(d, ".") ? arena_printf(pp->a, "%s/%s", d, name) : arena_strdup(pp->a, name);
        if (file_exists(p))
            return p;
    }
    for (int i = 0; i < pp->dirs.n; i++) {
        char *p = arena_printf(pp->a, "%s/%s", (char *)pp->dirs.v[i], name);
        if (file_exists(p))
            return p;
    }
    if (angled && from) {
        /* MIDL and widl also look beside the including file for <...> */
        char *d = dir_of(pp->a, from);
        char *p = strcmp(d, ".") ? arena_printf(pp->a, "%s/%s", d, name) : arena_strdup(pp->a, name);
        if (file_exists(p))
            return p;
    }
    return NULL;
}

void pp_add_include_dir(PP *pp, const char *dir)
{
    vec_push(&pp->dirs, arena_strdup(pp->a, dir));
}

const PtrVec *pp_include_dirs(PP *pp)
{
    return &pp->dirs;
}

/* Files this large are mapped, not copied: their pages are given back
 * after each run that read them (release_texts) and come back from the
 * page cache if a diagnostic or a later run reads them again. */
#define MAP_MIN_SIZE (64 * 1024)

static char *read_whole(Compiler *cc, const char *path, size_t *len, Loc from, void **map, size_t *map_len)
{
    *map = NULL;
    *map_len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        error_at(cc, from, "cannot open '%s': %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0)
        st.st_mode = 0;     /* not known: read in chunks */
    if (S_ISDIR(st.st_mode)) {
        fclose(f);
        error_at(cc, from, "cannot read '%s': it is a directory", path);
        return NULL;
    }
    /* a regular file is read straight into the arena at its size (no
     * growing buffer and copy); a pipe or device in chunks */
    Buf b = {0};
    char *text = NULL;
    size_t n = 0;
    long page = sysconf(_SC_PAGESIZE);
    if (S_ISREG(st.st_mode) && st.st_size >= MAP_MIN_SIZE && st.st_size <= MAX_FILE_SIZE && page > 0 &&
        st.st_size % page != 0) {
        /* (not a multiple of the page size: the mapping's tail is zeros, so the text ends in a NUL) */
        void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fileno(f), 0);
        if (m != MAP_FAILED) {
            fclose(f);
            text = m;
            n = (size_t)st.st_size;
            *map = m;
            *map_len = n;
            goto check;
        }
    }
    if (S_ISREG(st.st_mode) && st.st_size <= MAX_FILE_SIZE) {
        size_t want = (size_t)st.st_size;
        text = arena_alloc(cc->arena, want + 1);
        n = fread(text, 1, want, f);
        int c;
        if (n == want && (c = getc(f)) != EOF) {
            /* it grew since fstat: go on in chunks */
            buf_write(&b, text, n);
            buf_putc(&b, c);
            text = NULL;
        }
    }
    if (!text) {
        char chunk[65536];
        size_t k;
        while ((k = fread(chunk, 1, sizeof chunk, f)) > 0) {
            buf_write(&b, chunk, k);
            if ((long)b.len > MAX_FILE_SIZE) {
                fclose(f);
                buf_free(&b);
                error_at(cc, from, "'%s' is too large (limit %ld MiB)", path, MAX_FILE_SIZE >> 20);
                return NULL;
            }
        }
    }
    bool err = ferror(f);
    fclose(f);
    if (err) {
        buf_free(&b);
        error_at(cc, from, "cannot read '%s'", path);
        return NULL;
    }
    if (!text) {
        text = arena_strndup(cc->arena, b.data ? b.data : "", b.len);
        n = b.len;
        buf_free(&b);
    }
    text[n] = 0;
check:
    *len = n;
    const char *nul = memchr(text, 0, *len);
    if (nul) {
        int line = 1, col = 1;
        for (const char *p = text; p < nul; p++, col++)
            if (*p == '\n') { line++; col = 0; }
        error_at(cc, (Loc){ arena_strdup(cc->arena, path), line, col },
                 "'%s' is not a text file (it contains a NUL byte)", path);
        if (*map)
            munmap(*map, *map_len);
        *map = NULL;
        *map_len = 0;
        return NULL;
    }
    return text;
}

/* The tokens of a text from L on (L is not moved; nothing reported). */
static unsigned long count_rest(const Lex *L)
{
    Lex c = *L;
    c.quiet = true;
    c.lexed = NULL;
    unsigned long n = 0;
    Tok t;
    while (lex_tok(&c, &t))
        n++;
    return n;
}

/* The whole file read once without preprocessing it: its lexical errors
 * reported, its tokens counted, its guard looked for. */
static void scan_file(PP *pp, SrcFile *sf)
{
    Lex L;
    lex_init(&L, pp, sf->path, sf->text, sf->len, false);
    L.lexed = &sf->lexed;
    Guard g = {0};
    Tok t;
    unsigned long n = 0;
    for (;;) {
        bool more = lex_tok_inline(&L, &t);
        guard_tok(&g, &t);
        if (!more)
            break;
        n++;
    }
    lex_mark(&L);
    sf->ntoks = n;
    const Tok *name = guard_name(&g);
    if (name)
        sf->guard = arena_strndup(pp->perm, name->s, (size_t)name->len);
    sf->guard_checked = true;
}

/* A file not read to its end yet that starts "#ifndef X" with X defined:
 * it may be guarded by X (and then not read at all): read it whole first
 * to know (scan_file). Files are otherwise read once, as they are
 * preprocessed, and their guard is known at their end. */
static void check_guard_first(PP *pp, SrcFile *sf)
{
    if (sf->guard_checked)
        return;
    Lex L;
    lex_init(&L, pp, sf->path, sf->text, sf->len, true);
    Tok t[3];
    for (int i = 0; i < 3; i++)
        if (!lex_tok(&L, &t[i]))
            return;
    if (tok_is(&t[0], "#") && tok_is(&t[1], "ifndef") && t[2].kind == TK_IDENT && find_macro(pp, &t[2]))
        scan_file(pp, sf);
}

/* The run's expansion cap counts every token of the files it entered:
 * the files being read that were not counted are counted to their end
 * (only when the cap read so far is passed). */
static void count_open_files(PP *pp)
{
    for (FileLex *f = lex_top; f; f = f->up)
        if (!f->counted) {
            pp->run_source += count_rest(&f->L);
            f->counted = true;
        }
}

static void preprocess_toks(PP *pp, Tok *t, const char *path);

/* Preprocess a file (scanned: scan_file), read as it goes (FileLex). */
static void preprocess_file(PP *pp, SrcFile *sf)
{
    FileLex f = {0};
    lex_init(&f.L, pp, sf->path, sf->text, sf->len, false);
    f.L.lexed = &sf->lexed;
    f.sf = sf;
    Guard g = {0};
    if (!sf->guard_checked)
        f.guard = &g;
    /* the tokens count against the expansion cap from the start (as
     * when files were cut into tokens whole) when their number is known */
    f.counted = sf->guard_checked;
    if (f.counted)
        pp->run_source += sf->ntoks;
    sf->run_id = pp->run_id;
    if (lex_top)
        lex_mark(&lex_top->L);  /* (this may be the same file, included in itself) */
    f.up = lex_top;
    lex_top = &f;
    Tok *first = chunk_tok(&f);
    f.last = first;
    if (!file_tok(pp, &f, first))
        f.done = true;
    preprocess_toks(pp, first, sf->path);
    lex_mark(&f.L);
    lex_top = f.up;
    if (f.guard && f.done) {
        const Tok *name = guard_name(&g);
        if (name)
            sf->guard = arena_strndup(pp->perm, name->s, (size_t)name->len);
        sf->ntoks = f.ntoks;
        sf->guard_checked = true;
    }
    if (f.tail) {
        f.tail->next = spare_chunks;
        spare_chunks = f.head;
    }
}

/* A file's text, read once per compilation (not cut into tokens yet:
 * that happens in the run that uses it, see tokenize_file). */
static SrcFile *load_file(PP *pp, const char *path, Loc from)
{
    SrcFile *sf = NULL;
    HASH_FIND_STR(pp->files, path, sf);
    if (sf)
        return sf;
    size_t len, map_len;
    void *map;
    char *text = read_whole(pp->cc, path, &len, from, &map, &map_len);
    if (!text)
        return NULL;
    if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3)) {
        text += 3;      /* a UTF-8 byte-order mark is not part of the text */
        len -= 3;
    }
    const char *name = arena_strdup(pp->perm, path);
    diag_add_source(pp->cc, name, text, len);
    sf = arena_alloc(pp->perm, sizeof(SrcFile));
    sf->path = name;
    sf->text = text;
    sf->len = len;
    sf->map = map;
    sf->map_len = map_len;
    HASH_ADD_KEYPTR(hh, pp->files, sf->path, strlen(sf->path), sf);
    return sf;
}

/* After a run: the pages of the mapped files it read are given back (they
 * are the file's own, read again from the page cache when needed). */
static void release_texts(PP *pp)
{
    for (SrcFile *sf = pp->files; sf; sf = sf->hh.next)
        if (sf->map && sf->run_id == pp->run_id)
            madvise(sf->map, sf->map_len, MADV_DONTNEED);
}

/* ==================================================================== output */

static void out_marker(PP *pp, const char *file, int line)
{
    Buf *o = pp->out;
    if (pp->out_started && pp->out_col > 1)
        buf_putc(o, '\n');
    buf_printf(o, "# %d \"%s\"\n", line, file);
    pp->out_file = file;
    pp->out_line = line;
    pp->out_col = 1;
    pp->out_started = true;
}

static void out_sync_slow(PP *pp, const char *file, int line);

/* (inline: most tokens are on the line already written) */
static inline void out_sync(PP *pp, const char *file, int line)
{
    if (__builtin_expect(pp->out_started && pp->out_file == file && line == pp->out_line, 1))
        return;
    out_sync_slow(pp, file, line);
}

static __attribute__((noinline)) void out_sync_slow(PP *pp, const char *file, int line)
{
    if (!pp->out_started || pp->out_file != file || line < pp->out_line || line - pp->out_line > 8) {
        if (!(pp->out_file && file && !strcmp(pp->out_file, file) && line >= pp->out_line && line - pp->out_line <= 8)) {
            out_marker(pp, file, line);
            return;
        }
        pp->out_file = file;
    }
    if (pp->out_line < line) {
        buf_fill(pp->out, '\n', (size_t)(line - pp->out_line));
        pp->out_line = line;
        pp->out_col = 1;
    }
}

static void out_tok(PP *pp, Tok *t)
{
    if (!t->expanded) {
        out_sync(pp, fname(pp, t->file), t->line);
        if (pp->out_col < t->col) {
            buf_fill(pp->out, ' ', (size_t)(t->col - pp->out_col));
            pp->out_col = t->col;
        } else if (pp->out_col > t->col && pp->out_col > 1) {
            /* an expansion ran longer than the macro's name: a marker puts
             * this token back at its own column (diagnostics point at it) */
            out_marker(pp, fname(pp, t->file), t->line);
            while (pp->out_col < t->col) {
                buf_putc(pp->out, ' ');
                pp->out_col++;
            }
        } else if (t->space) {
            if (pp->out_col > 1) {
                buf_putc(pp->out, ' ');
                pp->out_col++;
            }
        }
    } else {
        if (!pp->out_started || pp->out_file != fname(pp, t->file) || t->line > pp->out_line)
            out_sync(pp, fname(pp, t->file), t->line);
        /* keep the spacing the tokens had in the source (a GUID passed to a
         * macro must stay one piece), but never glue two words together */
        if (pp->out_col > 1) {
            char last = pp->out->len ? pp->out->data[pp->out->len - 1] : ' ';
            bool word_last = is_ident2((unsigned char)last);
            bool word_next = t->len && (is_ident2((unsigned char)t->s[0]) || t->s[0] == '"' || t->s[0] == '\'');
            if (t->space || (word_last && word_next)) {
                buf_putc(pp->out, ' ');
                pp->out_col++;
            }
        }
    }
    buf_write(pp->out, t->s, (size_t)t->len);
    pp->out_col += t->len;
}

/* ==================================================================== directives */

static void preprocess_toks(PP *pp, Tok *t, const char *path);

/* The file has an include guard and its macro is defined. */
static bool guarded(PP *pp, const SrcFile *sf)
{
    Macro *m = NULL;
    if (sf->guard)
        HASH_FIND_STR(pp->macros, sf->guard, m);
    return m != NULL;
}

static void do_include(PP *pp, Tok **rest, Tok *t, Tok *hash, const char *cur_path)
{
    Loc where = tok_loc(pp, t);
    char *name = NULL;
    bool angled = false;
    if (t->bol) {
        error_at(pp->cc, tok_loc(pp, hash), "#include expects \"FILENAME\" or <FILENAME>");
        *rest = t;
        return;
    }
    if (t->kind == TK_STR && t->s[0] == '"') {
        name = arena_strndup(pp->a, t->s + 1, (size_t)t->len - 2);
        t = nx(t);
    } else if (tok_is(t, "<")) {
        Buf b = {0};
        Tok *x = nx(t);
        for (; !x->bol && !tok_is(x, ">"); x = nx(x)) {
            if (x->space && b.len)
                buf_putc(&b, ' ');
            buf_write(&b, x->s, (size_t)x->len);
        }
        if (x->bol) {
            buf_free(&b);
            error_at(pp->cc, where, "missing terminating > character");
            *rest = x;
            return;
        }
        name = arena_strndup(pp->a, b.data ? b.data : "", b.len);
        buf_free(&b);
        angled = true;
        t = nx(x);
    } else {
        /* computed include */
        Tok *line = copy_line(pp, rest, t);
        Tok *exp = expand_list(pp, line);
        if (exp->kind == TK_STR && exp->s[0] == '"') {
            name = arena_strndup(pp->a, exp->s + 1, (size_t)exp->len - 2);
        } else {
            error_at(pp->cc, where, "#include expects \"FILENAME\" or <FILENAME>");
            return;
        }
        t = *rest;
    }
    if (!t->bol) {
        warning_at(pp->cc, W_EXTRA_TOKENS, tok_loc(pp, t), "extra tokens at end of #include directive");
    }
    *rest = skip_line(t);
    if (!*name) {
        error_at(pp->cc, where, "empty filename in #include");
        return;
    }
    const char *path = pp_find(pp, name, cur_path, angled);
    if (!path) {
        error_at(pp->cc, where, "'%s' file not found", name);
        note_search_path(pp->cc, name, where);
        return;
    }
    if (pp->include_depth >= MAX_INCLUDE_DEPTH) {
        error_at(pp->cc, where, "#include nested too deeply (limit %d)", MAX_INCLUDE_DEPTH);
        return;
    }
    SrcFile *sf = load_file(pp, path, where);
    if (!sf)
        return;
    if (pp->dep_owner)
        vec_push(&pp->dep_owner->deps, (void *)sf->path);
    if (sf->once)
        return;
    check_guard_first(pp, sf);
    if (guarded(pp, sf))
        return;
    pp->include_depth++;
    preprocess_file(pp, sf);
    pp->include_depth--;
}

static void skip_cond_block(PP *pp, Tok **rest, Tok *t)
{
    /* skip to the next #elif/#else/#endif at this level */
    int depth = 0;
    while (t->kind != TK_EOF) {
        if (t->bol && !t->ext)
            lex_release(t);     /* (the caller keeps no token behind t) */
        if (t->bol && tok_is(t, "#")) {
            Tok *d = nx(t);
            if (!d->bol) {
                if (tok_is(d, "if") || tok_is(d, "ifdef") || tok_is(d, "ifndef")) {
                    depth++;
                } else if (depth == 0 && (tok_is(d, "elif") || tok_is(d, "else") || tok_is(d, "endif"))) {
                    *rest = t;
                    return;
                } else if (tok_is(d, "endif")) {
                    depth--;
                }
            }
        }
        t = nx(t);
    }
    (void)pp;
    *rest = t;
}

static void expect_eol(PP *pp, Tok *t, const char *dir)
{
    if (!t->bol)
        warning_at(pp->cc, W_EXTRA_TOKENS, tok_loc(pp, t), "extra tokens at end of #%s directive", dir);
}

/* Process one file's token list: directives, expansion, output. */
static void preprocess_toks(PP *pp, Tok *t, const char *path)
{
    Cond *conds = NULL;
    int saved_delta = pp->line_delta;
    const char *saved_file = pp->line_file;
    pp->line_delta = 0;             /* #line overrides, per file */
    pp->line_file = NULL;
#define line_delta (pp->line_delta)
#define line_file (pp->line_file)

    while (t->kind != TK_EOF) {
        if (!t->ext)
            lex_release(t);
        if (t->bol && tok_is(t, "#") && !t->expanded) {
            Tok *hash = t;
            Tok *d = nx(t);
            if (d->bol) {            /* null directive */
                t = d;
                continue;
            }
            if (tok_is(d, "define")) {
                read_define(pp, &t, nx(d));
                continue;
            }
            if (tok_is(d, "undef")) {
                Tok *n = nx(d);
                if (n->bol || n->kind != TK_IDENT) {
                    error_at(pp->cc, tok_loc(pp, n->bol ? d : n), "macro name must be an identifier");
                    t = skip_line(n);
                    continue;
                }
                char *name = tok_str(pp, n);
                undef_name(pp, name);
                expect_eol(pp, nx(n), "undef");
                t = skip_line(nx(n));
                continue;
            }
            if (tok_is(d, "include") || tok_is(d, "include_next") || tok_is(d, "import")) {
                do_include(pp, &t, nx(d), hash, path);
                continue;
            }
            if (tok_is(d, "if") || tok_is(d, "ifdef") || tok_is(d, "ifndef")) {
                long long v = 0;
                if (tok_is(d, "if")) {
                    if (nx(d)->bol) {
                        error_at(pp->cc, tok_loc(pp, d), "#if with no expression");
                        t = nx(d);
                    } else if (!eval_if(pp, &t, nx(d), &v))
                        v = 0;
                } else {
                    Tok *n = nx(d);
                    if (n->bol || n->kind != TK_IDENT) {
                        error_at(pp->cc, tok_loc(pp, n->bol ? d : n), "macro name must be an identifier");
                        t = skip_line(n);
                    } else {
                        v = (find_macro(pp, n) != NULL) == tok_is(d, "ifdef");
                        expect_eol(pp, nx(n), tok_is(d, "ifdef") ? "ifdef" : "ifndef");
                        t = skip_line(nx(n));
                    }
                }
                Cond *c = arena_alloc(pp->a, sizeof(Cond));
                c->loc = tok_loc(pp, hash);
                c->next = conds;
                conds = c;
                if (v) {
                    c->state = C_TAKING;
                } else {
                    c->state = C_SKIPPING;
                    skip_cond_block(pp, &t, t);
                }
                continue;
            }
            if (tok_is(d, "elif")) {
                if (!conds) {
                    error_at(pp->cc, tok_loc(pp, hash), "#elif without #if");
                    t = skip_line(nx(d));
                    continue;
                }
                if (conds->had_else)
                    error_at(pp->cc, tok_loc(pp, hash), "#elif after #else");
                if (conds->state != C_SKIPPING) {
                    conds->state = C_DONE;
                    skip_cond_block(pp, &t, skip_line(nx(d)));
                    continue;
                }
                long long v = 0;
                if (nx(d)->bol) {
                    error_at(pp->cc, tok_loc(pp, d), "#elif with no expression");
                    t = nx(d);
                } else if (!eval_if(pp, &t, nx(d), &v))
                    v = 0;
                if (v)
                    conds->state = C_TAKING;
                else
                    skip_cond_block(pp, &t, t);
                continue;
            }
            if (tok_is(d, "else")) {
                if (!conds) {
                    error_at(pp->cc, tok_loc(pp, hash), "#else without #if");
                    t = skip_line(nx(d));
                    continue;
                }
                if (conds->had_else)
                    error_at(pp->cc, tok_loc(pp, hash), "#else after #else");
                conds->had_else = true;
                expect_eol(pp, nx(d), "else");
                t = skip_line(nx(d));
                if (conds->state == C_SKIPPING) {
                    conds->state = C_TAKING;
                } else {
                    conds->state = C_DONE;
                    skip_cond_block(pp, &t, t);
                }
                continue;
            }
            if (tok_is(d, "endif")) {
                if (!conds)
                    error_at(pp->cc, tok_loc(pp, hash), "#endif without #if");
                else
                    conds = conds->next;
                expect_eol(pp, nx(d), "endif");
                t = skip_line(nx(d));
                continue;
            }
            if (tok_is(d, "error") || tok_is(d, "warning")) {
                Buf b = {0};
                Tok *x = nx(d);
                for (; !x->bol; x = nx(x)) {
                    if (b.len && x->space)
                        buf_putc(&b, ' ');
                    buf_write(&b, x->s, (size_t)x->len);
                }
                if (tok_is(d, "error"))
                    error_at(pp->cc, tok_loc(pp, hash), "#error %s", b.data ? b.data : "");
                else
                    warning_at(pp->cc, W_CPP, tok_loc(pp, hash), "#warning %s", b.data ? b.data : "");
                buf_free(&b);
                t = x;
                continue;
            }
            if (tok_is(d, "line") || d->kind == TK_NUM) {
                Tok *n = tok_is(d, "line") ? nx(d) : d;
                Tok *line = copy_line(pp, &t, n);
                Tok *exp = expand_list(pp, line);
                Val v;
                if (exp->kind != TK_NUM || !parse_pp_number(exp->s, exp->len, &v) || v.v <= 0 || v.v > INT32_MAX) {
                    error_at(pp->cc, tok_loc(pp, n->bol ? d : n), "#line directive requires a positive integer argument");
                    continue;
                }
                /* the next source line gets number v */
                int next_line = t->kind == TK_EOF ? hash->line + 1 : t->line;
                line_delta = (int)v.v - next_line;
                if (nx(exp)->kind == TK_STR && nx(exp)->s[0] == '"')
                    line_file = arena_strndup(pp->a, nx(exp)->s + 1, (size_t)nx(exp)->len - 2);
                continue;
            }
            if (tok_is(d, "pragma")) {
                Tok *x = nx(d);
                if (tok_is(x, "once")) {
                    SrcFile *sf = NULL;
                    HASH_FIND_STR(pp->files, path, sf);
                    if (sf)
                        sf->once = true;
                    t = skip_line(x);
                    continue;
                }
                /* hand the pragma to the parser on a line of its own */
                out_sync(pp, fname(pp, hash->file), hash->line);
                if (pp->out_col > 1) {
                    buf_putc(pp->out, '\n');
                    pp->out_line++;
                }
                buf_puts(pp->out, "#pragma");
                for (; !x->bol; x = nx(x)) {
                    buf_putc(pp->out, ' ');
                    buf_write(pp->out, x->s, (size_t)x->len);
                }
                buf_putc(pp->out, '\n');
                pp->out_line++;
                pp->out_col = 1;
                t = x;
                continue;
            }
            if (tok_is(d, "ident") || tok_is(d, "sccs") || tok_is(d, "assert") || tok_is(d, "unassert")) {
                t = skip_line(d);
                continue;
            }
            error_at(pp->cc, tok_loc(pp, d), "invalid preprocessing directive #%.*s", d->len, d->s);
            t = skip_line(d);
            continue;
        }
        if (t->kind == TK_IDENT && expand_macro(pp, &t, t))
            continue;
        if (line_delta || line_file) {
            if (!t->expanded) {
                Tok *c = copy_tok(pp, t);
                c->next = nx(t);
                c->line += line_delta;
                if (line_file)
                    c->file = (uint16_t)file_id(pp, line_file);
                t = c;
            }
        }
        out_tok(pp, t);
        t = nx(t);
    }
    for (Cond *c = conds; c; c = c->next)
        error_at(pp->cc, c->loc, "unterminated conditional directive");
#undef line_delta
#undef line_file
    pp->line_delta = saved_delta;
    pp->line_file = saved_file;
}

/* ==================================================================== API */

PP *pp_new(Compiler *cc)
{
    PP *pp = arena_alloc(cc->arena, sizeof(PP));
    pp->cc = cc;
    pp->a = cc->arena;
    pp->perm = cc->arena;
    add_builtin(pp, "__LINE__");
    add_builtin(pp, "__FILE__");
    add_builtin(pp, "__DATE__");
    add_builtin(pp, "__TIME__");
    return pp;
}

/* Imported files are preprocessed as MIDL and widl do: each with a fresh
 * macro table holding only the predefined and command-line macros. */
static void fresh_macros(PP *pp);

void *pp_push_state(PP *pp)
{
    Macro *saved = pp->macros;
    pp->macros = NULL;
    fresh_macros(pp);
    return saved;
}

/* builtins and command-line macros, in the permanent arena */
static void fresh_macros(PP *pp)
{
    Arena *a = pp->a;
    pp->a = pp->perm;
    add_builtin(pp, "__LINE__");
    add_builtin(pp, "__FILE__");
    add_builtin(pp, "__DATE__");
    add_builtin(pp, "__TIME__");
    for (int i = 0; i < pp->cmdline.n; i++) {
        char *c = pp->cmdline.v[i];
        if (c[0] == '-') {
            undef_name(pp, c + 1);
        } else {
            char *eq = strchr(c, '=');
            define_text(pp, arena_strndup(pp->a, c + 1, (size_t)(eq - c - 1)), eq + 1);
        }
    }
    pp->a = a;
}

void pp_pop_state(PP *pp, void *state)
{
    HASH_CLEAR(hh, pp->macros);
    pp->macros = state;
}

void pp_free(PP *pp)
{
    if (!pp)
        return;
    vec_free(&pp->cmdline);
    HASH_CLEAR(hh, pp->macros);
    for (SrcFile *sf = pp->files; sf; sf = sf->hh.next)
        if (sf->map)
            munmap(sf->map, sf->map_len);
    HASH_CLEAR(hh, pp->files);
    vec_free(&pp->dirs);
    HASH_CLEAR(hh, pp->fname_tab);
    vec_free(&pp->fnames);
    spare_chunks = NULL;    /* (in the compilation's arena) */
}

static int run(PP *pp, SrcFile *sf, Buf *out)
{
    int before = pp->cc->errors;
    /* everything the run makes (tokens, macros, expansions) goes into an
     * arena of its own, freed at the end: only the text output remains */
    Arena *saved_arena = pp->a;
    unsigned saved_run = pp->run_id;
    static unsigned runs;
    pp->a = arena_new();
    pp->run_id = ++runs;
    Buf *saved = pp->out;
    const char *sfile = pp->out_file;
    int sline = pp->out_line, scol = pp->out_col;
    bool sstarted = pp->out_started;
    pp->out = out;
    pp->out_file = NULL;
    pp->out_line = 0;
    pp->out_col = 1;
    pp->out_started = false;
    pp->expansion_tokens = 0;
    pp->run_expanded = 0;
    pp->run_source = 0;
    pp->expand_limit_hit = false;
    out_marker(pp, sf->path, 1);
    preprocess_file(pp, sf);
    buf_putc(out, '\n');
    pp->out = saved;
    pp->out_file = sfile;
    pp->out_line = sline;
    pp->out_col = scol;
    pp->out_started = sstarted;
    /* the macros defined during the run die with it */
    HASH_CLEAR(hh, pp->macros);
    fresh_macros(pp);
    arena_free(pp->a);
    release_texts(pp);
    pp->a = saved_arena;
    pp->run_id = saved_run;
    return pp->cc->errors > before ? -1 : 0;
}

int pp_file(PP *pp, const char *path, Buf *out)
{
    pp->started = true;
    SrcFile *sf = load_file(pp, path, (Loc){0});
    if (!sf)
        return -1;
    return run(pp, sf, out);
}

int pp_text(PP *pp, const char *name, const char *text, size_t len, Buf *out)
{
    pp->started = true;
    const char *n = arena_strdup(pp->perm, name);
    if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3)) {
        text += 3;      /* a UTF-8 byte-order mark is not part of the text */
        len -= 3;
    }
    char *copy = arena_strndup(pp->perm, text, len);
    diag_add_source(pp->cc, n, copy, len);
    SrcFile *sf = arena_alloc(pp->perm, sizeof(SrcFile));
    sf->path = n;
    sf->text = copy;
    sf->len = len;
    SrcFile *old = NULL;
    HASH_FIND_STR(pp->files, n, old);
    if (!old)
        HASH_ADD_KEYPTR(hh, pp->files, sf->path, strlen(sf->path), sf);
    return run(pp, sf, out);
}

void pp_set_dep_owner(PP *pp, File *f)
{
    pp->dep_owner = f;
}

/* Every file read, in the order first read (for dependency files). */
void pp_files_read(PP *pp, PtrVec *out)
{
    for (SrcFile *sf = pp->files; sf; sf = sf->hh.next)
        vec_push(out, (void *)sf->path);
}
