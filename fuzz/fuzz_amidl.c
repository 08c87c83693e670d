/*
 * fuzz_amidl.c - libFuzzer harness: one input is preprocessed, parsed,
 * checked and run through every emitter, all in memory. Any crash, leak,
 * hang or sanitizer report is a bug.
 *
 *   make fuzz                       build build/fuzz/fuzz_amidl (clang)
 *   build/fuzz/fuzz_amidl -dict=fuzz/idl.dict build/fuzz/corpus fuzz/seeds...
 *   build/fuzz/fuzz_amidl FILE...   replay files once (make test-sanitize does)
 *
 * AMIDL_FUZZ_INCLUDE (colon-separated) adds import/include directories.
 */
#include "amidl.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool verbose;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    verbose = getenv("AMIDL_FUZZ_VERBOSE") != NULL;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static Options opt;
    Compiler *cc = compiler_new(&opt);
    cc->no_exit = true;
    cc->silent = !verbose;      /* diagnostics are expected: keep libFuzzer's output readable */
    pp_define(cc->pp, "__midl", "501");
    pp_define(cc->pp, "__WIDL__", "1");
    pp_define(cc->pp, "_WIN32", "1");
    pp_define(cc->pp, "_WIN64", "1");
    const char *inc = getenv("AMIDL_FUZZ_INCLUDE");
    if (inc) {
        char *copy = xstrdup(inc);
        for (char *d = strtok(copy, ":"); d; d = strtok(NULL, ":"))
            pp_add_include_dir(cc->pp, d);
        free(copy);
    }
    if (compiler_load_text(cc, "fuzz.idl", (const char *)data, size) && cc->errors == 0) {
        sema_check(cc);
        if (cc->errors == 0) {
            Buf h = {0}, i = {0}, g = {0};
            if (emit_header(cc, &h, "fuzz.h") == 0 && emit_iid(cc, &i) == 0 && file_has_async(cc))
                emit_glue(cc, &g, "fuzz.h");
            buf_free(&h);
            buf_free(&i);
            buf_free(&g);
        }
    }
    compiler_free(cc);
    return 0;
}
