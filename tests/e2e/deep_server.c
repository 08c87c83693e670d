/* deep_server.c - the tests' IDeep server (see deep_server.h). Every
 * method checks what arrived where a wrong copy would show, and answers
 * with values derived from its input, so a caller can check the way back. */
#define COBJMACROS
#include "deep_server.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

WCHAR *deep_wdup(const WCHAR *w)
{
    if (!w)
        return NULL;
    size_t n = 0;
    while (w[n])
        n++;
    WCHAR *c = CoTaskMemAlloc((n + 1) * sizeof(WCHAR));
    if (c)
        memcpy(c, w, (n + 1) * sizeof(WCHAR));
    return c;
}

bool deep_wequal(const WCHAR *a, const char16_t *b)
{
    if (!a)
        return false;
    size_t i = 0;
    for (; b[i]; i++)
        if (a[i] != b[i])
            return false;
    return a[i] == 0;
}

/* a NAMED with a name, the note "memo", count values 1..count and owner */
void deep_named_make(NAMED *n, LONG id, const char16_t *name, ULONG count, IUnknown *owner)
{
    memset(n, 0, sizeof *n);
    n->id = id;
    n->name = deep_wdup((const WCHAR *)name);
    n->note = SysAllocString((const OLECHAR *)u"memo");
    n->count = count;
    n->values = CoTaskMemAlloc(count * sizeof(LONG) + 1);
    for (ULONG i = 0; i < count; i++)
        n->values[i] = (LONG)i + 1;
    n->owner = owner;
    if (owner)
        IUnknown_AddRef(owner);
}

void deep_named_free(NAMED *n)
{
    CoTaskMemFree(n->name);
    SysFreeString(n->note);
    CoTaskMemFree(n->values);
    if (n->owner)
        IUnknown_Release(n->owner);
    if (n->next) {
        deep_named_free(n->next);
        CoTaskMemFree(n->next);
    }
    memset(n, 0, sizeof *n);
}

atomic_int deep_named_gate;

/* in: a two-node list (the second: id 7, "beta") with note "memo", an owner
 * and at least 3 values; out: id + 1, the name, note and owner, the values
 * doubled, a next node of id 8; io: renamed "changed", noted "noted", each
 * value + 100. The allocation-failure hook is the whole process's: a test
 * that arms it for a Begin_ switches it off before this runs (it does not
 * check its own allocations). */
HRESULT STDMETHODCALLTYPE deep_named(IDeep *This, const NAMED *in, NAMED *out, NAMED *io)
{
    (void)This;
    for (int i = 0; atomic_load(&deep_named_gate) && i < 60000; i++)
        nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
    if (atomic_load(&deep_named_gate))
        return E_FAIL;
    if (!in->next || in->next->id != 7 || !deep_wequal(in->next->name, u"beta") || in->next->next)
        return E_FAIL;
    if (SysStringLen(in->note) != 4 || !deep_wequal(in->note, u"memo") || !in->owner || in->count < 3 ||
        in->values[2] != 3)
        return E_FAIL;
    out->id = in->id + 1;
    out->name = deep_wdup(in->name);
    out->note = SysAllocStringLen(in->note, SysStringLen(in->note));
    out->count = in->count;
    out->values = CoTaskMemAlloc(in->count * sizeof(LONG));
    for (ULONG i = 0; i < in->count; i++)
        out->values[i] = in->values[i] * 2;
    out->owner = in->owner;
    IUnknown_AddRef(out->owner);
    out->next = CoTaskMemAlloc(sizeof(NAMED));
    memset(out->next, 0, sizeof(NAMED));
    out->next->id = in->next->id + 1;
    /* [in, out]: the callee frees and replaces what the caller passed */
    CoTaskMemFree(io->name);
    io->name = deep_wdup((const WCHAR *)u"changed");
    SysReAllocString(&io->note, (const OLECHAR *)u"noted");
    for (ULONG i = 0; i < io->count; i++)
        io->values[i] += 100;
    return S_OK;
}

/* first.id + first's last value + extra[0]->id + extra[1]->id (if any) + the grid */
HRESULT STDMETHODCALLTYPE deep_holder(IDeep *This, HOLDER h, LONG *sum)
{
    (void)This;
    if (!h.first.count || !h.first.values || !h.extra[0])
        return E_INVALIDARG;
    LONG s = h.first.id + h.first.values[h.first.count - 1] + h.extra[0]->id + (h.extra[1] ? h.extra[1]->id : 0);
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            s += h.grid[i][j];
    *sum = s;
    return S_OK;
}

/* arm 1: doubled; 2: the string; 3: the node, id + 1, its name */
static void value_copy(LONG kind, const VALUE *v, VALUE *out)
{
    switch (kind) {
    case 1: out->i = v->i * 2; break;
    case 2: out->s = deep_wdup(v->s); break;
    case 3:
        out->n = CoTaskMemAlloc(sizeof(NAMED));
        memset(out->n, 0, sizeof(NAMED));
        out->n->id = v->n->id + 1;
        out->n->name = deep_wdup(v->n->name);
        break;
    default: break;
    }
}

HRESULT STDMETHODCALLTYPE deep_value(IDeep *This, LONG kind, VALUE *v, LONG *kind_out, VALUE *out)
{
    (void)This;
    *kind_out = kind;
    value_copy(kind, v, out);
    return S_OK;
}

HRESULT STDMETHODCALLTYPE deep_pairs(IDeep *This, ULONG n, const PAIR *in, PAIR *out)
{
    (void)This;
    for (ULONG i = 0; i < n; i++) {
        out[i].kind = in[i].kind;
        value_copy(in[i].kind, &in[i].v, &out[i].v);
    }
    return S_OK;
}

/* arm 1: + 1; arm 2: the BSTR, embedded NULs and all */
HRESULT STDMETHODCALLTYPE deep_tagged(IDeep *This, const TAGGED *in, TAGGED *out)
{
    (void)This;
    out->kind = in->kind;
    if (in->kind == 1)
        out->u.i = in->u.i + 1;
    if (in->kind == 2)
        out->u.b = SysAllocStringLen(in->u.b, SysStringLen(in->u.b));
    return S_OK;
}

/* out: in, byte for byte (an odd byte length too); io: "new value" */
HRESULT STDMETHODCALLTYPE deep_bstrs(IDeep *This, BSTR in, BSTR *out, BSTR *io)
{
    (void)This;
    *out = in ? SysAllocStringByteLen((LPCSTR)in, SysStringByteLen(in)) : NULL;
    SysReAllocString(io, (const OLECHAR *)u"new value");
    return S_OK;
}

/* twice[0..2n] + 100 * upto[0..n] + 10000 * each of the cb / 2 chars */
HRESULT STDMETHODCALLTYPE deep_exprs(IDeep *This, ULONG n, const SHORT *twice, const LONG *upto, ULONG cb,
                                     const WCHAR *chars, LONG *sum)
{
    (void)This;
    LONG s = 0;
    for (ULONG i = 0; i < n * 2 + 1; i++)
        s += twice[i];
    for (ULONG i = 0; i <= n; i++)
        s += upto[i] * 100;
    for (ULONG i = 0; i < cb / sizeof(WCHAR); i++)
        s += chars[i] * 10000;
    *sum = s;
    return S_OK;
}

/* buf[first..last] times 10; the first and last elements set to -1, which
 * being outside the window must not travel back */
HRESULT STDMETHODCALLTYPE deep_window(IDeep *This, ULONG size, ULONG first, ULONG last, LONG *buf)
{
    (void)This;
    for (ULONG i = first; i <= last && i < size; i++)
        buf[i] *= 10;
    buf[0] = -1;
    buf[size - 1] = -1;
    return S_OK;
}

/* want items, i * i */
HRESULT STDMETHODCALLTYPE deep_alloc(IDeep *This, ULONG want, ULONG *n, LONG **items)
{
    (void)This;
    *n = want;
    *items = CoTaskMemAlloc(want * sizeof(LONG) + 1);
    for (ULONG i = 0; i < want; i++)
        (*items)[i] = (LONG)(i * i);
    return S_OK;
}

/* each char string widened */
HRESULT STDMETHODCALLTYPE deep_names(IDeep *This, ULONG n, LPSTR *in, LPWSTR *out)
{
    (void)This;
    for (ULONG i = 0; i < n; i++) {
        size_t len = strlen(in[i]);
        out[i] = CoTaskMemAlloc((len + 1) * sizeof(WCHAR));
        for (size_t k = 0; k <= len; k++)
            out[i][k] = (WCHAR)(unsigned char)in[i][k];
    }
    return S_OK;
}

/* sum: the device's data bytes + 1000 per character of the roster's names
 * + 1000000 if its title is "team"; copy: the format and its device */
HRESULT STDMETHODCALLTYPE deep_conformant(IDeep *This, const FORMAT *format, const ROSTER *roster, ULONG *sum,
                                          FORMAT *copy)
{
    (void)This;
    const DEVICE *d = format->device;
    ULONG s = 0, bytes = d ? d->size - sizeof(DWORD) - sizeof(WORD) : 0;
    for (ULONG i = 0; i < bytes; i++)
        s += d->data[i];
    for (ULONG i = 0; i < roster->n; i++)
        for (ULONG k = 0; roster->names[i][k]; k++)
            s += 1000;
    *sum = s + (deep_wequal(roster->title, u"team") ? 1000000 : 0);
    copy->id = format->id;
    copy->device = NULL;
    if (d) {
        copy->device = CoTaskMemAlloc(offsetof(DEVICE, data) + bytes);
        memcpy(copy->device, d, offsetof(DEVICE, data) + bytes);
    }
    return S_OK;
}

/* h: a descriptor (J16), the callee's own; it writes a byte to it. t: an
 * opaque handle, by value; back: t + 1 if h came */
HRESULT STDMETHODCALLTYPE deep_handles(IDeep *This, HANDLE h, HTHING t, HTHING *back)
{
    (void)This;
    if (h && write((int)(intptr_t)h, "x", 1) != 1)
        return E_HANDLE;
    *back = (HTHING)((intptr_t)t + (h ? 1 : 0));
    return S_OK;
}

/* the arm the tymed selects (1 a handle, 2 a file name, 3 a stream) and the
 * release object, each copied */
HRESULT STDMETHODCALLTYPE deep_medium(IDeep *This, const MEDIUM *in, MEDIUM *out)
{
    (void)This;
    out->tymed = in->tymed;
    if (in->tymed == 1)
        out->u.handle = in->u.handle;
    if (in->tymed == 2)
        out->u.file = deep_wdup(in->u.file);
    if (in->tymed == 3) {
        out->u.stream = in->u.stream;
        IUnknown_AddRef(out->u.stream);
    }
    out->release = in->release;
    if (out->release)
        IUnknown_AddRef(out->release);
    return S_OK;
}

/* [in, out]: the callee frees and replaces what it was given: text "old"
 * becomes "new" (anything else "?"), arm 2 "replaced", arm 3's node id + 100
 * renamed "renamed", a BSTR-armed t "bstr2" */
HRESULT STDMETHODCALLTYPE deep_inout(IDeep *This, LPWSTR *text, LONG kind, VALUE *v, TAGGED *t)
{
    (void)This;
    bool was = deep_wequal(*text, u"old");
    CoTaskMemFree(*text);
    *text = deep_wdup(was ? (const WCHAR *)u"new" : (const WCHAR *)u"?");
    if (kind == 2) {
        CoTaskMemFree(v->s);
        v->s = deep_wdup((const WCHAR *)u"replaced");
    }
    if (kind == 3) {
        v->n->id += 100;
        CoTaskMemFree(v->n->name);
        v->n->name = deep_wdup((const WCHAR *)u"renamed");
    }
    if (t->kind == 2)
        SysReAllocString(&t->u.b, (const OLECHAR *)u"bstr2");
    return S_OK;
}

/* back: k; sum: *a + *b (a NULL counts 0), + 1000 when a and b are one
 * pointer ([ptr] aliasing kept within the call) */
HRESULT STDMETHODCALLTYPE deep_typed(IDeep *This, IKinds *k, IKinds **back, LONG *a, LONG *b, LONG *sum)
{
    (void)This;
    *back = k;
    if (k)
        IKinds_AddRef(k);
    *sum = (a ? *a : 0) + (b ? *b : 0) + (a && a == b ? 1000 : 0);
    return S_OK;
}
