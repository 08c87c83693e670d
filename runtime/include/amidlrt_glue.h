/*
 * amidlrt_glue.h - the call-object glue ABI of libamidlrt: what the code
 * amidl writes into FILE_async.c uses (descriptor types, expression
 * opcodes, the Begin/Finish/Call/Proxy entry points, AMRT_GLUE_VERSION).
 * Programs include amidlrt.h, which includes this header.
 */
/* The interpreter's limits: the depth of its stack and the steps of one
 * program. An expression beyond them cannot be evaluated (the call fails
 * with E_INVALIDARG); amidl rejects such expressions when it compiles them
 * (grammar/glue.c, x_fits). amidl itself reads this part alone: it
 * defines AMIDLRT_GLUE_LIMITS_ONLY before including this header. */
#ifndef AMIDLRT_GLUE_LIMITS
#define AMIDLRT_GLUE_LIMITS
enum { AMRT_X_STACK_MAX = 16, AMRT_X_STEPS_MAX = 256 };
#endif

#if !defined(AMIDLRT_GLUE_LIMITS_ONLY) && !defined(AMIDLRT_GLUE_H)
#define AMIDLRT_GLUE_H

#include "amidlrt.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the call-object glue ABI (what amidl writes into FILE_async.c) ----
 * Per async interface, a table describing each method's parameters, a
 * thunk that makes the synchronous call, and the AsyncIFoo and IFoo-proxy
 * vtables of thin functions that hand their arguments to the runtime.
 * The runtime's one interpreter copies [in] data at Begin_, runs the call
 * on a worker, and hands [out] data back at Finish_. */
#define AMRT_GLUE_VERSION 4

enum { AMRT_IN = 1, AMRT_OUT = 2 };

typedef enum AmrtKind {
    AMRT_K_SCALAR = 1,      /* integers, enums, floating point, BOOL: 'size' bytes by value */
    AMRT_K_STRUCT,          /* plain data (a structure or union without pointers): 'size' bytes */
    AMRT_K_POINTER,         /* a pointer to one 'ref' */
    AMRT_K_STRING,          /* [string] char *, NUL-terminated */
    AMRT_K_WSTRING,         /* [string] WCHAR *, NUL-terminated */
    AMRT_K_ARRAY,           /* a pointer to 'size_x' (or 'size') elements of 'ref' */
    AMRT_K_INTERFACE,       /* an interface pointer: AddRef'd while the call owns it */
    AMRT_K_BSTR,            /* a BSTR (SysAllocString) */
    AMRT_K_CSTRUCT,         /* a structure of 'size' bytes whose 'members' hold pointers */
    AMRT_K_UNION,           /* a union of 'size' bytes: the arm of 'members' whose value
                             * is the discriminant 'size_x' */
    AMRT_K_FIXED_ARRAY,     /* 'size' elements of 'ref' stored inline (a member array) */
    AMRT_K_CONFSTRUCT,      /* a conformant structure (only behind a pointer): 'size' bytes,
                             * then 'size_x' elements of 'ref'; 'members' hold pointers */
    AMRT_K_HANDLE,          /* a HANDLE: a file descriptor, (HANDLE)(intptr_t)fd, 'size' bytes;
                             * a call object copies a duplicate, a cross-process call passes
                             * one (RULES.md J16); NULL and negative values pass as they are */
    AMRT_K_VARIANT,         /* an Automation VARIANT stored inline, 'size' bytes: copied as
                             * VariantCopy does, across processes its value by vt (docs/wire.md) */
    AMRT_K_SAFEARRAY        /* a SAFEARRAY *: the array and its elements, by their vt */
} AmrtKind;

enum {
    AMRT_F_UNIQUE = 1       /* the pointer may be NULL ([unique], [ptr]) */
};

/* Correlation expressions (size_is, length_is, first_is, switch_is, ...):
 * a program for a small stack machine, ending with AMRT_X_END. Operands
 * follow their opcode; 'size' 0 reads a pointer, 'sign' is 1 for signed. */
enum {
    AMRT_X_END,
    AMRT_X_CONST,           /* value */
    AMRT_X_PARAM,           /* index size sign: the value of a parameter */
    AMRT_X_FIELD,           /* offset size sign: a member of the enclosing structure */
    AMRT_X_DEREF,           /* size sign: *pop */
    AMRT_X_CAST,            /* size sign: truncate to the type */
    AMRT_X_NEG, AMRT_X_BITNOT, AMRT_X_NOT,
    AMRT_X_ADD, AMRT_X_SUB, AMRT_X_MUL, AMRT_X_DIV, AMRT_X_MOD, AMRT_X_SHL, AMRT_X_SHR,
    AMRT_X_AND, AMRT_X_OR, AMRT_X_XOR, AMRT_X_ANDAND, AMRT_X_OROR,
    AMRT_X_EQ, AMRT_X_NE, AMRT_X_LT, AMRT_X_GT, AMRT_X_LE, AMRT_X_GE,
    AMRT_X_COND             /* c ? a : b, operands pushed in that order */
};

typedef struct AmrtType {
    unsigned char kind;             /* AmrtKind */
    unsigned char flags;            /* AMRT_F_* */
    short iid_param;                /* INTERFACE: iid_is parameter index, -1: use iid */
    unsigned int size;              /* SCALAR/STRUCT/CSTRUCT/UNION: sizeof; ARRAY: the count
                                     * when size_x is NULL; FIXED_ARRAY: the count;
                                     * CONFSTRUCT: the offset of its last member */
    const struct AmrtType *ref;     /* POINTER/ARRAY/FIXED_ARRAY: the pointee / element */
    const IID *iid;                 /* INTERFACE */
    const int *size_x;              /* ARRAY, CONFSTRUCT: element count (size_is, max_is + 1);
                                     * UNION: switch_is */
    const int *first_x;             /* ARRAY: first element passed (first_is); NULL: 0 */
    const int *length_x;            /* ARRAY: elements passed (length_is, last_is - first + 1) */
    unsigned short nmembers;
    const struct AmrtMember *members;   /* CSTRUCT, CONFSTRUCT: members holding pointers; UNION: arms */
} AmrtType;

typedef struct AmrtMember {
    unsigned int offset;            /* CSTRUCT: offsetof the member */
    unsigned char is_default;       /* UNION: the default arm */
    long long value;                /* UNION: the case value */
    const struct AmrtType *type;    /* NULL: plain data (nothing to copy but the bytes) */
} AmrtMember;

typedef struct AmrtParam {
    const char *name;
    unsigned char dir;              /* AMRT_IN | AMRT_OUT */
    const AmrtType *type;
} AmrtParam;

typedef void (*AmrtCallFn)(void *object, void **args, void *ret);

typedef struct AmrtMethod {
    const char *name;
    unsigned short nparams;
    const AmrtParam *params;
    unsigned short ret_size;        /* sizeof the return type; 0 for void */
    unsigned char ret_hresult;      /* returns HRESULT */
    unsigned char local;            /* [local]: refused from another process (E_NOTIMPL) */
    AmrtCallFn call;                /* makes the synchronous call: args[i] -> the i-th argument */
    AmrtCallFn begin;               /* calls Begin_ of a server's own call object (server-side async) */
    AmrtCallFn finish;              /* calls its Finish_ */
    AmrtCallFn send;                /* a [call_as] remote twin: sends it to the object in another
                                     * process ('object': a proxy), for a call object's worker;
                                     * NULL for the methods of the vtable */
} AmrtMethod;

typedef struct AmrtInterface {
    unsigned int version;           /* AMRT_GLUE_VERSION */
    const char *name;
    const IID *iid, *async_iid;
    const struct AmrtInterface *base;   /* the async base's glue, NULL when the base is IUnknown */
    unsigned short nmethods;        /* own methods, vtable order */
    const AmrtMethod *methods;
    const void *async_vtbl;         /* AsyncIFooVtbl of thunks calling AmrtBegin/AmrtFinish */
    const void *proxy_vtbl;         /* IFooVtbl of thunks forwarding to the object */
    unsigned short ncall_as;        /* the [call_as] remote twins, in methods[] after the nmethods
                                     * of the vtable: what crosses a process for a [local] method */
} AmrtInterface;

/* Register glue tables (FILE_async.c does it from a constructor). */
AMIDLRT_API HRESULT AmrtRegisterInterfaces(const AmrtInterface *const *ifaces, int count);
/* The thunks of the generated vtables call these. 'method' counts the
 * methods of the whole async chain (base interfaces first). */
AMIDLRT_API HRESULT AmrtBegin(void *call, const AmrtInterface *glue, int method, void **args);
AMIDLRT_API HRESULT AmrtFinish(void *call, const AmrtInterface *glue, int method, void **args, void *ret);
AMIDLRT_API void *AmrtProxyTarget(void *proxy_iface);
/* the proxy thunks' way across processes when AmrtProxyTarget is NULL */
AMIDLRT_API HRESULT AmrtProxyInvoke(void *proxy_iface, const AmrtInterface *glue, int method, void **args, void *ret);
AMIDLRT_API HRESULT AmrtProxyQueryInterface(void *proxy_iface, REFIID iid, void **ppv);
AMIDLRT_API ULONG AmrtProxyAddRef(void *proxy_iface);
AMIDLRT_API ULONG AmrtProxyRelease(void *proxy_iface);
/* whether a call object's calls go to an object in another process (the
 * generated Begin_ of a [local] method with a [call_as] twin then hands over
 * to the program's AsyncIFoo_Begin_M_Proxy, RULES.md A10) */
AMIDLRT_API int AmrtCallRemote(void *call_iface);
AMIDLRT_API HRESULT AmrtCallQueryInterface(void *call_iface, REFIID iid, void **ppv);
AMIDLRT_API ULONG AmrtCallAddRef(void *call_iface);
AMIDLRT_API ULONG AmrtCallRelease(void *call_iface);

#ifdef __cplusplus
}
#endif

#endif
