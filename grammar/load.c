/*
 * load.c - the compilation and its files: compiler_new/compiler_free,
 * reading the main file and each import once (preprocessed with a fresh
 * macro table, then parsed on the spot). The state of the reading (the
 * import depth, the files being read, the main file's text) lives in the
 * Compiler.
 */
#include "parse.h"

#include <stdlib.h>
#include <string.h>

/* ==================================================================== files */

Compiler *compiler_new(Options *opt)
{
    Arena *a = arena_new();
    Compiler *cc = arena_alloc(a, sizeof(Compiler));
    cc->arena = a;
    cc->opt = opt;
    cc->global = scope_new(cc, "", NULL);
    cc->global->qname = "";
    cc->pp = pp_new(cc);
    diag_configure(cc);
    return cc;
}

void diag_free(Compiler *cc);

void compiler_free(Compiler *cc)
{
    if (!cc)
        return;
    diag_free(cc);
    pp_free(cc->pp);
    scopes_free(cc);
    vec_free(&cc->loading);
    for (int i = 0; i < cc->heap_lists.n; i++)
        free(((List *)cc->heap_lists.v[i])->v);
    vec_free(&cc->heap_lists);
    for (int i = 0; i < cc->files.n; i++)
        vec_free(&((File *)cc->files.v[i])->deps);
    vec_free(&cc->files);
    vec_free(&cc->async_ifaces);
    vec_free(&cc->winrt_instances);
    vec_free(&cc->winrt_uses);
    arena_free(cc->arena);
}

static const char *base_name(Compiler *cc, const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *b = slash ? slash + 1 : path;
    const char *dot = strrchr(b, '.');
    return dot ? arena_strndup(cc->arena, b, (size_t)(dot - b)) : arena_strdup(cc->arena, b);
}

static File *load(Compiler *cc, const char *name, const char *path, Loc loc);

File *compiler_load_text(Compiler *cc, const char *name, const char *text, size_t len)
{
    cc->main_text = text;
    cc->main_len = len;
    File *f = load(cc, name, name, (Loc){0});
    cc->main_text = NULL;
    return f;
}

static File *load(Compiler *cc, const char *name, const char *path, Loc loc)
{
    for (int i = 0; i < cc->files.n; i++) {
        File *f = cc->files.v[i];
        if (!strcmp(f->path, path))
            return f;
    }
    for (int i = 0; i < cc->loading.n; i++) {
        File *f = cc->loading.v[i];
        if (!strcmp(f->path, path))
            return f;     /* import cycle: the file is being read already */
    }
    if (cc->import_depth >= MAX_INCLUDE_DEPTH) {
        error_at(cc, loc, "imports nested too deeply (limit %d)", MAX_INCLUDE_DEPTH);
        return NULL;
    }
    File *f = arena_alloc(cc->arena, sizeof(File));
    f->name = arena_strdup(cc->arena, name);
    f->path = arena_strdup(cc->arena, path);
    f->base = base_name(cc, name);
    size_t n = strlen(name);
    f->is_c_header = n > 2 && !strcmp(name + n - 2, ".h");
    f->parsing = true;
    if (!cc->main_file)
        cc->main_file = f;
    vec_push(&cc->loading, f);
    Buf text = {0};
    cc->import_depth++;
    pp_set_dep_owner(cc->pp, f);
    bool is_main = f == cc->main_file;
    void *saved = is_main ? NULL : pp_push_state(cc->pp);
    int r = is_main && cc->main_text ? pp_text(cc->pp, path, cc->main_text, cc->main_len, &text) : pp_file(cc->pp, path, &text);
    if (!is_main)
        pp_pop_state(cc->pp, saved);
    if (r == 0 && cc->errors == 0) {
        buf_write(&text, "\0\0", 2);   /* the scanner's end-of-buffer marks */
        parse_file(cc, f, text.data, text.len - 2);
    }
    cc->import_depth--;
    buf_free(&text);
    cc->loading.n--;
    if (cc->loading.n == 0)
        vec_free(&cc->loading);
    f->parsing = false;
    f->parsed = true;
    vec_push(&cc->files, f);
    return f;
}

/* Where an import was looked for: the importing file's directory, then
 * the include path; a hint about -I when that path is empty. */
void note_search_path(Compiler *cc, const char *name, Loc loc)
{
    const char *from = loc.file;
    if (name[0] == '/')
        return;
    Buf b = {0};
    const char *slash = from ? strrchr(from, '/') : NULL;
    if (from)
        buf_printf(&b, "'%.*s'", slash ? (int)(slash - from) : 1, slash ? from : ".");
    const PtrVec *dirs = pp_include_dirs(cc->pp);
    for (int i = 0; i < dirs->n; i++) {
        bool seen = false;
        for (int j = 0; j < i && !seen; j++)
            seen = !strcmp(dirs->v[i], dirs->v[j]);
        if (!seen)
            buf_printf(&b, "%s'%s'", b.len ? ", " : "", (const char *)dirs->v[i]);
    }
    if (b.len)
        note_at(cc, loc, "searched %s; add the directory that holds '%s' with -I DIR", b.data, name);
    else
        note_at(cc, loc, "no directory to search; add the one that holds '%s' with -I DIR", name);
    buf_free(&b);
}

File *compiler_import(Compiler *cc, const char *name, Loc loc, bool is_import)
{
    (void)is_import;
    const char *from = loc.file;
    /* imports are searched beside the importing file's real path */
    for (int i = 0; i < cc->files.n; i++) {
        File *f = cc->files.v[i];
        if (!strcmp(f->name, name))
            return f;
    }
    const char *path = pp_find(cc->pp, name, from, false);
    if (!path) {
        error_at(cc, loc, "cannot find import '%s'", name);
        note_search_path(cc, name, loc);
        return NULL;
    }
    return load(cc, name, path, loc);
}

int compiler_load_acf(Compiler *cc, const char *input)
{
    const Options *o = cc->opt;
    const char *path = o ? o->acf : NULL;
    if (!path && input && strcmp(input, "-")) {
        /* MIDL reads FILE.acf beside FILE.idl when it is there */
        size_t n = strlen(input);
        const char *slash = strrchr(input, '/');
        const char *dot = strrchr(slash ? slash + 1 : input, '.');
        if (dot)
            n = (size_t)(dot - input);
        char *guess = arena_printf(cc->arena, "%.*s.acf", (int)n, input);
        if (!strcmp(guess, input))
            return 0;               /* the input itself is named .acf */
        FILE *probe = fopen(guess, "rb");
        if (!probe)
            return 0;
        fclose(probe);
        path = guess;
    }
    if (!path)
        return 0;
    int before = cc->errors;
    FILE *probe = fopen(path, "rb");
    if (!probe) {
        error_at(cc, (Loc){0}, "cannot find ACF file '%s'", path);
        return cc->errors - before;
    }
    fclose(probe);
    File *f = arena_alloc(cc->arena, sizeof(File));
    f->name = arena_strdup(cc->arena, path);
    f->path = f->name;
    f->base = base_name(cc, path);
    f->is_acf = true;
    Buf text = {0};
    void *saved = pp_push_state(cc->pp);        /* the command line's macros, not the IDL's */
    int r = pp_file(cc->pp, path, &text);
    pp_pop_state(cc->pp, saved);
    if (r == 0 && cc->errors == before) {
        buf_write(&text, "\0\0", 2);
        parse_file(cc, f, text.data, text.len - 2);
    }
    buf_free(&text);
    if (cc->errors == before) {
        acf_apply(cc, f);
        cc->acf_file = f;
    }
    return cc->errors - before;
}

File *compiler_load_main(Compiler *cc, const char *path)
{
    return load(cc, path, path, (Loc){0});
}
