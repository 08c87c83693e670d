/*
 * util.c - the compiler's one allocator, the arena, buffers and vectors.
 *
 * Every heap allocation goes through xmalloc/xrealloc. AMIDL_FAIL_ALLOC=N
 * (read once) makes the Nth allocation fail, so tests can walk the
 * out-of-memory path: the run ends with "out of memory", exit 1, and the
 * driver's atexit handler removes any temporary output file.
 */
#include "amidl.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static long fail_at = -1;       /* -1: not read yet, 0: never */
static long alloc_count;

static void default_oom(void)
{
    fputs("amidl: error: out of memory\n", stderr);
    exit(1);
}

void (*oom_handler)(void) = default_oom;

void out_of_memory(void)
{
    oom_handler();
    abort();    /* the handler must not return */
}

static bool should_fail(void)
{
    if (fail_at < 0) {
        const char *s = getenv("AMIDL_FAIL_ALLOC");
        fail_at = s ? atol(s) : 0;
        if (fail_at < 0)
            fail_at = 0;
    }
    return fail_at > 0 && ++alloc_count == fail_at;
}

void *xmalloc(size_t n)
{
    void *p = should_fail() ? NULL : malloc(n ? n : 1);
    if (!p)
        out_of_memory();
    return p;
}

void *xcalloc(size_t n, size_t m)
{
    void *p = should_fail() ? NULL : calloc(n ? n : 1, m ? m : 1);
    if (!p)
        out_of_memory();
    return p;
}

void *xrealloc(void *old, size_t n)
{
    void *p = should_fail() ? NULL : realloc(old, n ? n : 1);
    if (!p)
        out_of_memory();
    return p;
}

char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(xmalloc(n), s, n);
}

/* ---- arena: a chain of large blocks, bump allocation ---- */
typedef struct Block { struct Block *next; size_t used, size; _Alignas(16) char data[]; } Block;
struct Arena { Block *head; };

#define BLOCK_SIZE (256 * 1024)

Arena *arena_new(void)
{
    return xcalloc(1, sizeof(Arena));
}

/* Blocks are mapped straight from the kernel: their pages come zeroed.
 * A freed block of the usual size is kept for the next arena (a
 * preprocessor run frees one per file) and only its used part is cleared
 * again: no page is faulted in twice and no untouched page is cleared. */
static Block *spare_blocks;

static Block *block_new(size_t size)
{
    if (size == BLOCK_SIZE && spare_blocks) {
        Block *b = spare_blocks;
        spare_blocks = b->next;
        memset(b->data, 0, b->used);
        b->used = 0;
        b->next = NULL;
        return b;
    }
    size_t total = sizeof(Block) + size;
    void *p = should_fail() ? MAP_FAILED : mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        out_of_memory();
    Block *b = p;
    b->size = size;
    return b;
}

void arena_free(Arena *a)
{
    if (!a)
        return;
    for (Block *b = a->head, *next; b; b = next) {
        next = b->next;
        if (b->size == BLOCK_SIZE) {
            b->next = spare_blocks;
            spare_blocks = b;
        } else {
            munmap(b, sizeof(Block) + b->size);
        }
    }
    free(a);
}

void arena_reset(Arena *a)
{
    /* blocks go back cleared (a statement's declarators: a few hundred
     * bytes), so taking one again costs nothing, and none stays held by a
     * scratch arena while other arenas grow */
    for (Block *b = a->head, *next; b; b = next) {
        next = b->next;
        if (b->size == BLOCK_SIZE) {
            memset(b->data, 0, b->used);
            b->used = 0;
            b->next = spare_blocks;
            spare_blocks = b;
        } else {
            munmap(b, sizeof(Block) + b->size);
        }
    }
    a->head = NULL;
}

/* A new block in front of a (or behind its head for a big allocation),
 * with room for n bytes: the slow path of arena_alloc. */
static __attribute__((noinline)) Block *arena_grow(Arena *a, size_t n)
{
    Block *b = a->head;
    size_t size = n > BLOCK_SIZE / 4 ? n : BLOCK_SIZE;
    Block *nb = block_new(size);
    if (b && n > BLOCK_SIZE / 4) {
        /* big allocation: keep the current block in front */
        nb->next = b->next;
        b->next = nb;
    } else {
        nb->next = b;
        a->head = nb;
    }
    return nb;
}

void *arena_alloc(Arena *a, size_t n)
{
    n = (n + 7) & ~(size_t)7;
    Block *b = a->head;
    if (__builtin_expect(!b || b->size - b->used < n, 0))
        b = arena_grow(a, n);
    void *p = (char *)b->data + b->used;   /* zero: fresh pages, or cleared when reused */
    b->used += n;
    return p;
}

char *arena_strndup(Arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

char *arena_strdup(Arena *a, const char *s)
{
    return arena_strndup(a, s, strlen(s));
}

char *arena_printf(Arena *a, const char *fmt, ...)
{
    Buf b = {0};
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    char *s = arena_strndup(a, b.data ? b.data : "", b.len);
    buf_free(&b);
    return s;
}

/* ---- growable byte buffers ---- */
void buf_grow(Buf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return;
    BufSpill *sp = b->spill;
    if (sp && !sp->off && b->len && b->len + extra + 1 > sp->limit) {
        if (sp->flush(sp, b->data, b->len)) {
            sp->spilled += b->len;
            b->len = 0;
            if (extra + 1 <= b->cap)
                return;
        } else {
            sp->off = true;
        }
    }
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
}

void buf_puts(Buf *b, const char *s)
{
    buf_write(b, s, strlen(s));
}

/* The conversions buf_vprintf formats itself (the emitters print mostly
 * %s): s d i u x c % with an l, ll or z length, and %*s and %.*s. Any
 * other format goes to vsnprintf whole. */
static bool fmt_is_simple(const char *f)
{
    for (; *f; f++) {
        if (*f != '%')
            continue;
        f++;
        if (*f == '%' || *f == 'c' || *f == 's')
            continue;
        if ((f[0] == '*' || (f[0] == '.' && f[1] == '*')) ) {
            f += f[0] == '*' ? 1 : 2;
            if (*f != 's')
                return false;
            continue;
        }
        if (*f == 'l')
            f += f[1] == 'l' ? 2 : 1;
        else if (*f == 'z')
            f++;
        if (*f != 'd' && *f != 'i' && *f != 'u' && *f != 'x')
            return false;
    }
    return true;
}

static void put_unsigned(Buf *b, unsigned long long v, bool hex)
{
    char t[24];
    int i = (int)sizeof t;
    do {
        t[--i] = "0123456789abcdef"[hex ? v % 16 : v % 10];
        v = hex ? v / 16 : v / 10;
    } while (v);
    buf_write(b, t + i, sizeof t - (size_t)i);
}

/* glibc's vsnprintf's output, for the formats fmt_is_simple accepts:
 * vsnprintf was 26% of writing a header, called twice a line (#13) */
static void simple_vprintf(Buf *b, const char *f, va_list ap)
{
    while (*f) {
        const char *run = f;
        while (*f && *f != '%')
            f++;
        if (f > run)
            buf_write(b, run, (size_t)(f - run));
        if (!*f)
            break;
        f++;
        int width = 0, prec = -1;
        if (*f == '*') {
            width = va_arg(ap, int);
            f++;
        } else if (f[0] == '.' && f[1] == '*') {
            prec = va_arg(ap, int);
            f += 2;
        }
        int len = 0;            /* 0 int, 1 long, 2 long long, 3 size_t */
        if (*f == 'l') { len = f[1] == 'l' ? 2 : 1; f += len; }
        else if (*f == 'z') { len = 3; f++; }
        char c = *f++;
        if (c == '%') {
            buf_putc(b, '%');
        } else if (c == 'c') {
            buf_putc(b, (unsigned char)va_arg(ap, int));
        } else if (c == 's') {
            const char *str = va_arg(ap, const char *);
            if (!str)
                str = prec < 0 || prec >= 6 ? "(null)" : "";
            size_t n = prec < 0 ? strlen(str) : strnlen(str, (size_t)prec);
            size_t w = width < 0 ? (size_t)-(long)width : (size_t)width;
            if (width > 0 && w > n)
                buf_fill(b, ' ', w - n);
            buf_write(b, str, n);
            if (width < 0 && w > n)
                buf_fill(b, ' ', w - n);
        } else if (c == 'd' || c == 'i') {
            long long v = len == 0 ? va_arg(ap, int) : len == 1 ? va_arg(ap, long)
                        : len == 2 ? va_arg(ap, long long) : (long long)va_arg(ap, size_t);
            unsigned long long u = (unsigned long long)v;
            if (v < 0) {
                buf_putc(b, '-');
                u = 0 - u;
            }
            put_unsigned(b, u, false);
        } else {        /* u x */
            unsigned long long v = len == 0 ? va_arg(ap, unsigned) : len == 1 ? va_arg(ap, unsigned long)
                                 : len == 2 ? va_arg(ap, unsigned long long) : va_arg(ap, size_t);
            put_unsigned(b, v, c == 'x');
        }
    }
    if (!b->data) {
        buf_grow(b, 0);         /* (an empty text is still "") */
        b->data[0] = 0;
    }
}

void buf_vprintf(Buf *b, const char *fmt, va_list ap)
{
    if (fmt_is_simple(fmt)) {
        simple_vprintf(b, fmt, ap);
        return;
    }
    /* into the room there is; sized and written again only when short */
    size_t room = b->cap > b->len ? b->cap - b->len : 0;
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(room ? b->data + b->len : NULL, room, fmt, ap2);
    va_end(ap2);
    if (n >= 0 && (size_t)n < room) {
        b->len += (size_t)n;
        return;
    }
    if (room)
        b->data[b->len] = 0;    /* (the cut text is not kept) */
    if (n < 0)
        return;
    buf_grow(b, (size_t)n);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void buf_printf(Buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(b, fmt, ap);
    va_end(ap);
}

void buf_free(Buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void vec_push(PtrVec *pv, void *p)
{
    if (pv->n == pv->cap) {
        pv->cap = pv->cap ? pv->cap * 2 : 8;
        pv->v = xrealloc(pv->v, sizeof(void *) * (size_t)pv->cap);
    }
    pv->v[pv->n++] = p;
}

void vec_free(PtrVec *pv)
{
    free(pv->v);
    pv->v = NULL;
    pv->n = pv->cap = 0;
}

/* ==================================================================== name indexes */

void name_index_build(unsigned short *slot, unsigned nslots, const void *names, size_t stride, int n)
{
    for (int i = 0; i < n; i++) {
        const char *name = name_index_name(names, stride, i);
        unsigned h = scope_hash(name, strlen(name)) & (nslots - 1);
        while (slot[h])
            h = (h + 1) & (nslots - 1);
        slot[h] = (unsigned short)(i + 1);
    }
}
