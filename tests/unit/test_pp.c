/*
 * test_pp.c - unit tests of the preprocessor: #if expression evaluation
 * and macro expansion. Each CHECK prints what it compared on failure.
 */
#include "amidl.h"

#include <string.h>

static int passed, failed;

#define CHECK(cond, ...) do { \
        if (cond) passed++; \
        else { failed++; printf("FAIL %s:%d: ", __FILE__, __LINE__); printf(__VA_ARGS__); printf("\n"); } \
    } while (0)

static Compiler *fresh(void)
{
    static Options opt;
    Compiler *cc = compiler_new(&opt);
    cc->nowarn = true;
    return cc;
}

static void expr(const char *e, long long want)
{
    Compiler *cc = fresh();
    pp_define(cc->pp, "ONE", "1");
    pp_define(cc->pp, "TWO", "(ONE + ONE)");
    pp_define(cc->pp, "F(x)", NULL);
    long long got = -999;
    int r = pp_eval_string(cc->pp, e, &got);
    CHECK(r == 0 && got == want, "#if %s: want %lld, got %lld (r=%d)", e, want, got, r);
    compiler_free(cc);
}

static void expr_error(const char *e)
{
    Compiler *cc = fresh();
    long long got;
    FILE *saved = stderr;
    stderr = fopen("/dev/null", "w");
    int r = pp_eval_string(cc->pp, e, &got);
    fclose(stderr);
    stderr = saved;
    CHECK(r != 0, "#if %s: expected an error", e);
    compiler_free(cc);
}

/* Preprocess text; return the output with markers and blank lines removed
 * and runs of spaces squeezed. */
static char *expand(const char *text)
{
    Compiler *cc = fresh();
    Buf out = {0};
    pp_text(cc->pp, "t.idl", text, strlen(text), &out);
    static char res[4096];
    size_t k = 0;
    for (char *line = strtok(out.data, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#' && line[1] == ' ')
            continue;
        for (char *p = line; *p && k + 2 < sizeof res; p++) {
            if (*p == ' ' && (k == 0 || res[k - 1] == ' '))
                continue;
            res[k++] = *p;
        }
        if (k && res[k - 1] != ' ' && k + 2 < sizeof res)
            res[k++] = ' ';
    }
    while (k && res[k - 1] == ' ')
        k--;
    res[k] = 0;
    buf_free(&out);
    compiler_free(cc);
    return res;
}

static void macro(const char *text, const char *want)
{
    char *got = expand(text);
    CHECK(!strcmp(got, want), "expand:\n%s\nwant [%s]\n got [%s]", text, want, got);
}

/* buf_printf (util.c) formats the common conversions itself: the same
 * text as vsnprintf */
#define PF(...) do { \
        char want_[1024]; \
        snprintf(want_, sizeof want_, __VA_ARGS__); \
        Buf b_ = {0}; \
        buf_printf(&b_, "<"); \
        buf_printf(&b_, __VA_ARGS__); \
        CHECK(b_.data && b_.len == strlen(want_) + 1 && !strcmp(b_.data + 1, want_) && b_.data[b_.len] == 0, \
              "buf_printf(%s): want '%s', got '%s'", #__VA_ARGS__, want_, b_.data ? b_.data + 1 : "(none)"); \
        buf_free(&b_); \
    } while (0)

static void printf_checks(void)
{
    const char *volatile null = NULL;   /* (volatile: gcc rejects a NULL it can see) */
    PF("plain text, no conversions");
    PF("%s and %s", "one", "two");
    PF("%d %i %d %d", 0, -1, 2147483647, (int)-2147483647 - 1);
    PF("%u %x %u", 0u, 0xdeadbeefu, 4294967295u);
    PF("%ld %lu %lx", -9223372036854775807L - 1, 18446744073709551615UL, 0xabcdefUL);
    PF("%lld %llu %llx %lli", -5LL, 12345678901234ULL, 0x1234567890abcdefULL, 42LL);
    PF("%zu %c%c %%", (size_t)77, 'a', 'Z');
    PF("[%*s] [%*s] [%*s]", 6, "ab", -6, "ab", 1, "abcdef");
    PF("[%.*s] [%.*s] [%.*s]", 3, "abcdef", 0, "abc", 10, "ab");
    PF("[%s] [%.*s] [%.*s]", null, 3, null, 6, null);
    PF("%08x %-20s| %04d %02x", 0x1234u, "left", 7, 0xfu);   /* vsnprintf's own path */
    PF("%s%%%s", "", "");
    PF("%-300s|%04d", "longer than the buffer's first room", 5);   /* vsnprintf, sized again */
    Buf e = {0};
    buf_printf(&e, "%s", "");
    CHECK(e.data && e.len == 0 && e.data[0] == 0, "buf_printf of nothing: an empty text");
    buf_free(&e);
}

int main(void)
{
    printf_checks();
    /* arithmetic and precedence */
    expr("1 + 2 * 3", 7);
    expr("(1 + 2) * 3", 9);
    expr("10 / 3", 3);
    expr("10 % 3", 1);
    expr("-7 / 2", -3);
    expr("1 << 4 | 1", 17);
    expr("0x10 + 010 + 0b11", 27);
    expr("~0", -1);
    expr("!0 && !!5", 1);
    expr("0 || 0", 0);
    expr("3 > 2 == 1", 1);
    expr("1 ? 2 : 3", 2);
    expr("0 ? 2 : 1 ? 4 : 5", 4);
    expr("'A'", 65);
    expr("'\\n'", 10);
    /* unsigned arithmetic follows C */
    expr("-1 > 0u", 1);
    expr("-1 > 0", 0);
    expr("0xffffffffffffffff == -1", 1);
    expr("1000000UL * 1000000UL", 1000000000000LL);
    /* defined, macros, unknown identifiers */
    expr("defined(ONE)", 1);
    expr("defined ONE && !defined NOPE", 1);
    expr("TWO * 3", 6);
    expr("UNKNOWN_NAME", 0);
    expr("UNKNOWN_NAME + 1", 1);
    expr("0x7fffffffffffffff + 0 > 0", 1);
    /* errors */
    expr_error("1 / 0");
    expr_error("1 % 0");
    expr_error("(1");
    expr_error("1 +");
    expr_error("1 2");
    expr_error("defined(");
    expr_error("F(1)");

    /* object-like and function-like macros */
    macro("#define A 1\nA", "1");
    macro("#define A B\n#define B 2\nA", "2");
    macro("#define SELF SELF + 1\nSELF", "SELF + 1");
    macro("#define M(a, b) a * b\nM(1 + 2, 3)", "1 + 2 * 3");
    macro("#define M(a) [a]\nM((1, 2))", "[(1, 2)]");
    macro("#define S(x) #x\nS(hello \"w\")", "\"hello \\\"w\\\"\"");
    macro("#define C(a, b) a##b\nC(foo, bar)", "foobar");
    macro("#define C(a, b) a##b\nC(, bar)", "bar");
    macro("#define V(...) f(__VA_ARGS__)\nV(1, 2, 3)", "f(1, 2, 3)");
    macro("#define V(a, ...) g(a, ##__VA_ARGS__)\nV(1)", "g(1,)");
    macro("#define F(x) x\nF", "F");
    macro("#define F(x) <x>\nF\n(1)", "<1>");
    macro("#define G(x) F(x)\n#define F(x) [x]\nG(G(1))", "[[1]]");
    macro("#define f(a) a*g\n#define g(a) f(a)\nf(2)(9)", "2*9*g");
    macro("#define A 1\n#undef A\nA", "A");
    macro("#if 0\nno\n#elif 1\nyes\n#else\nno\n#endif", "yes");
    macro("#ifdef X\nno\n#else\nyes\n#endif", "yes");
    macro("#define X\n#ifndef X\nno\n#endif\nend", "end");
    macro("#if 1\n#if 0\nno\n#else\ninner\n#endif\n#endif", "inner");
    macro("__LINE__\n__LINE__", "1 2");
    macro("#line 100\n__LINE__", "100");
    macro("uuid(01234567-89ab-cdef-0123-456789abcdef)", "uuid(01234567-89ab-cdef-0123-456789abcdef)");
    macro("#define U(g) uuid(g)\nU(01234567-89ab-cdef-0123-456789abcdef)", "uuid(01234567-89ab-cdef-0123-456789abcdef)");
    macro("a /* comment */ b // rest\nc", "a b c");
    macro("#define LONG_ONE 1 + \\\n 2\nLONG_ONE", "1 + 2");
    macro("#pragma pack(push, 8)\nx", "#pragma pack ( push , 8 ) x");

    printf("unit: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
