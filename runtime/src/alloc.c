/*
 * alloc.c - the base of libamidlrt, which every other file uses and which
 * uses none of them: the one allocator (with its failure-injection hook,
 * AmrtFailAllocationAfter), CoTaskMem*, the BSTR functions, and the
 * initialization count (CoInitializeEx and CoUninitialize in core.c
 * change it; everyone reads it through amrt__initialized).
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

/* ==================================================================== initialization count */

atomic_long amrt__init_count;

bool amrt__initialized(void)
{
    return atomic_load(&amrt__init_count) > 0;
}

/* ==================================================================== allocator */

static atomic_long fail_after = -1;      /* allocations left before one fails; -1: off */
static atomic_long alloc_count;

long AmrtFailAllocationAfter(long n)
{
    long made = atomic_exchange(&alloc_count, 0);
    atomic_store(&fail_after, n);
    return made;
}

/* Count an allocation; false when the failure hook says this one fails. */
static bool may_allocate(void)
{
    atomic_fetch_add(&alloc_count, 1);
    long left = atomic_load(&fail_after);
    while (left >= 0) {
        if (atomic_compare_exchange_weak(&fail_after, &left, left - 1))
            return left != 0;           /* left == 0: this one fails; the hook is now off (-1) */
    }
    return true;
}

void *amrt__alloc(size_t n)
{
    return may_allocate() ? malloc(n ? n : 1) : NULL;
}

void *amrt__calloc_aligned(size_t n)
{
    void *p = NULL;
    if (!may_allocate() || posix_memalign(&p, 64, n ? n : 1) != 0)
        return NULL;
    memset(p, 0, n ? n : 1);
    return p;
}

void *amrt__calloc(size_t n)
{
    void *p = amrt__alloc(n);
    if (p)
        memset(p, 0, n ? n : 1);
    return p;
}

void amrt__free(void *p)
{
    free(p);
}

LPVOID CoTaskMemAlloc(SIZE_T size)
{
    return amrt__alloc(size);
}

LPVOID CoTaskMemRealloc(LPVOID p, SIZE_T size)
{
    if (!p)
        return amrt__alloc(size);
    if (!size) {
        free(p);
        return NULL;
    }
    return may_allocate() ? realloc(p, size) : NULL;
}

void CoTaskMemFree(LPVOID p)
{
    free(p);
}

/* ==================================================================== BSTR */

/* One block: 4 bytes of padding, the DWORD byte length, the characters and
 * a 16-bit NUL; the BSTR points at the characters (8-byte aligned). */
enum { BSTR_HEAD = 8 };

BSTR SysAllocStringByteLen(LPCSTR s, UINT bytes)
{
    if (bytes > 0x7fffffffu - BSTR_HEAD - sizeof(OLECHAR) - 1)
        return NULL;
    unsigned char *block = amrt__alloc(BSTR_HEAD + (size_t)bytes + sizeof(OLECHAR) + 1);
    if (!block)
        return NULL;
    DWORD n = bytes;
    memcpy(block + BSTR_HEAD - sizeof n, &n, sizeof n);
    if (s)
        memcpy(block + BSTR_HEAD, s, bytes);
    else
        memset(block + BSTR_HEAD, 0, bytes);
    memset(block + BSTR_HEAD + bytes, 0, sizeof(OLECHAR) + 1);   /* NUL, also for an odd byte length */
    return (BSTR)(void *)(block + BSTR_HEAD);
}

BSTR SysAllocStringLen(const OLECHAR *s, UINT len)
{
    if (len > 0x3fffffffu)
        return NULL;
    return SysAllocStringByteLen((LPCSTR)s, len * (UINT)sizeof(OLECHAR));
}

BSTR SysAllocString(const OLECHAR *s)
{
    if (!s)
        return NULL;
    UINT n = 0;
    while (s[n])
        n++;
    return SysAllocStringLen(s, n);
}

void SysFreeString(BSTR b)
{
    if (b)
        free((unsigned char *)b - BSTR_HEAD);
}

UINT SysStringByteLen(BSTR b)
{
    DWORD n = 0;
    if (b)
        memcpy(&n, (unsigned char *)b - sizeof n, sizeof n);
    return n;
}

UINT SysStringLen(BSTR b)
{
    return SysStringByteLen(b) / (UINT)sizeof(OLECHAR);
}

INT SysReAllocStringLen(BSTR *b, const OLECHAR *s, UINT len)
{
    if (!b)
        return FALSE;
    BSTR n = SysAllocStringLen(s, len);
    if (!n)
        return FALSE;
    SysFreeString(*b);
    *b = n;
    return TRUE;
}

INT SysReAllocString(BSTR *b, const OLECHAR *s)
{
    UINT n = 0;
    while (s && s[n])
        n++;
    return SysReAllocStringLen(b, s, n);
}
