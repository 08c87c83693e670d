/* deep_server.h - the one server of tests/e2e/kinds.idl's IDeep (data with
 * pointers inside), shared by the in-process deep copy (tests/runtime/test-e2e.c),
 * the wire codec (tests/wire/test-wire.c) and the two-process tests
 * (tests/oop/oop-kinds.c), so that all three check the same behaviour.
 *
 * A test supplies the three IUnknown slots and the rest from here:
 *     static IDeepVtbl dvtbl = { my_qi, my_addref, my_release, DEEP_SERVER_METHODS };
 *
 * What each method does with its arguments is written beside it in
 * deep_server.c; the callers' expected values follow from it. */
#ifndef DEEP_SERVER_H
#define DEEP_SERVER_H

#include "amidlrt.h"
#include "kinds.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <uchar.h>

/* the strings and lists the tests build and check */
WCHAR *deep_wdup(const WCHAR *w);                          /* CoTaskMemAlloc'd copy; NULL stays NULL */
bool deep_wequal(const WCHAR *a, const char16_t *b);        /* a is b (a NULL a is nothing) */
void deep_named_make(NAMED *n, LONG id, const char16_t *name, ULONG count, IUnknown *owner);
void deep_named_free(NAMED *n);                             /* what its owner holds after Finish_ */

/* Set: Named waits (at most 60 s) until the test clears it, then runs;
 * still set then: E_FAIL. For tests that need a call to stay in flight. */
extern atomic_int deep_named_gate;

HRESULT STDMETHODCALLTYPE deep_named(IDeep *This, const NAMED *in, NAMED *out, NAMED *io);
HRESULT STDMETHODCALLTYPE deep_holder(IDeep *This, HOLDER h, LONG *sum);
HRESULT STDMETHODCALLTYPE deep_value(IDeep *This, LONG kind, VALUE *v, LONG *kind_out, VALUE *out);
HRESULT STDMETHODCALLTYPE deep_pairs(IDeep *This, ULONG n, const PAIR *in, PAIR *out);
HRESULT STDMETHODCALLTYPE deep_tagged(IDeep *This, const TAGGED *in, TAGGED *out);
HRESULT STDMETHODCALLTYPE deep_bstrs(IDeep *This, BSTR in, BSTR *out, BSTR *io);
HRESULT STDMETHODCALLTYPE deep_exprs(IDeep *This, ULONG n, const SHORT *twice, const LONG *upto, ULONG cb,
                                     const WCHAR *chars, LONG *sum);
HRESULT STDMETHODCALLTYPE deep_window(IDeep *This, ULONG size, ULONG first, ULONG last, LONG *buf);
HRESULT STDMETHODCALLTYPE deep_alloc(IDeep *This, ULONG want, ULONG *n, LONG **items);
HRESULT STDMETHODCALLTYPE deep_names(IDeep *This, ULONG n, LPSTR *in, LPWSTR *out);
HRESULT STDMETHODCALLTYPE deep_conformant(IDeep *This, const FORMAT *format, const ROSTER *roster, ULONG *sum,
                                          FORMAT *copy);
HRESULT STDMETHODCALLTYPE deep_handles(IDeep *This, HANDLE h, HTHING t, HTHING *back);
HRESULT STDMETHODCALLTYPE deep_medium(IDeep *This, const MEDIUM *in, MEDIUM *out);
HRESULT STDMETHODCALLTYPE deep_inout(IDeep *This, LPWSTR *text, LONG kind, VALUE *v, TAGGED *t);
HRESULT STDMETHODCALLTYPE deep_typed(IDeep *This, IKinds *k, IKinds **back, LONG *a, LONG *b, LONG *sum);

#define DEEP_SERVER_METHODS                                                                            \
    deep_named, deep_holder, deep_value, deep_pairs, deep_tagged, deep_bstrs, deep_exprs, deep_window, \
    deep_alloc, deep_names, deep_conformant, deep_handles, deep_medium, deep_inout, deep_typed

#endif
