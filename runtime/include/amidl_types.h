/*
 * amidl_types.h - the Windows base types and macros that amidl's generated
 * headers use, for Linux (gcc, g++, clang; x86-64 and other LP64 targets).
 *
 * Sizes follow Windows, not the Linux C model: LONG and ULONG are 32 bits,
 * WCHAR is 16 bits (char16_t in C++), and BOOL is a 32-bit int. Calling-
 * convention macros (STDMETHODCALLTYPE, WINAPI, __stdcall, ...) are empty:
 * there is one calling convention on x86-64 Linux.
 */
#ifndef AMIDL_TYPES_H
#define AMIDL_TYPES_H

#ifdef _WIN32
#error "amidl_types.h is for Linux; on Windows use the platform's rpc.h"
#endif

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
#define EXTERN_C extern "C"
#else
#define EXTERN_C extern
#endif

/* calling conventions and decorations */
#define STDMETHODCALLTYPE
#define STDMETHODVCALLTYPE
#define STDAPICALLTYPE
#define STDAPIVCALLTYPE
#define WINAPI
#define WINAPIV
#define APIENTRY
#define CALLBACK
#define __RPC_USER
#define __RPC_STUB
#define __RPC_API
#define __RPC_FAR
#define RPC_ENTRY
#ifndef __stdcall
#define __stdcall
#endif
#ifndef __cdecl
#define __cdecl
#endif
#ifndef __fastcall
#define __fastcall
#endif
#ifndef __pascal
#define __pascal
#endif
#define DECLSPEC_SELECTANY __attribute__((weak))
#define DECLSPEC_UUID(x)
#define DECLSPEC_NOVTABLE
#define DECLSPEC_IMPORT
#define CONST const
#define VOID void

/* MIDL base types */
#define small char
typedef unsigned char boolean;
typedef unsigned char byte;
typedef int64_t hyper;
typedef uint64_t MIDL_uhyper;
#define __int3264 long
typedef void *handle_t;
typedef void *RPC_IF_HANDLE;
typedef uint32_t error_status_t;

/* Windows base types */
typedef uint8_t BYTE, *PBYTE, *LPBYTE;
typedef uint16_t WORD, *PWORD, *LPWORD;
typedef uint32_t DWORD, *PDWORD, *LPDWORD;
typedef int32_t LONG, *PLONG, *LPLONG;
typedef uint32_t ULONG, *PULONG;
typedef int32_t BOOL, WINBOOL, *PBOOL, *LPBOOL;
typedef int INT, *PINT, *LPINT;
typedef unsigned int UINT, *PUINT;
typedef short SHORT;
typedef unsigned short USHORT;
typedef char CHAR, *PCHAR;
typedef unsigned char UCHAR, *PUCHAR;
typedef float FLOAT;
typedef double DOUBLE;
typedef int8_t INT8;
typedef uint8_t UINT8;
typedef int16_t INT16;
typedef uint16_t UINT16;
typedef int32_t INT32, LONG32;
typedef uint32_t UINT32, ULONG32, DWORD32;
typedef int64_t INT64, LONG64, LONGLONG;
typedef uint64_t UINT64, ULONG64, DWORD64, ULONGLONG, DWORDLONG;
typedef intptr_t INT_PTR, LONG_PTR, SSIZE_T;
typedef uintptr_t UINT_PTR, ULONG_PTR, DWORD_PTR, SIZE_T;
typedef int32_t HRESULT, SCODE;
typedef void *PVOID, *LPVOID, *HANDLE;
typedef const void *LPCVOID;
#ifdef __cplusplus
typedef char16_t WCHAR;
#else
typedef uint16_t WCHAR;
#endif
typedef WCHAR *PWSTR, *LPWSTR, *PWCHAR;
typedef const WCHAR *PCWSTR, *LPCWSTR;
typedef char *PSTR, *LPSTR;
typedef const char *PCSTR, *LPCSTR;
typedef WCHAR OLECHAR;
typedef OLECHAR *LPOLESTR, *BSTR;
typedef const OLECHAR *LPCOLESTR;
typedef DWORD LCID;
typedef HANDLE HINSTANCE, HMODULE, HWND, HGLOBAL;

#ifndef TRUE
#define TRUE 1
#define FALSE 0
#endif

/* GUIDs (guiddef.h) */
#ifndef GUID_DEFINED
#define GUID_DEFINED
typedef struct _GUID {
    uint32_t Data1;
    uint16_t Data2;
    uint16_t Data3;
    uint8_t Data4[8];
} GUID;
#endif
typedef GUID IID, CLSID, FMTID, *LPGUID, *LPIID, *LPCLSID;
#ifdef __cplusplus
#define REFGUID const GUID &
#define REFIID const IID &
#define REFCLSID const CLSID &
#define REFFMTID const FMTID &
#else
#define REFGUID const GUID *
#define REFIID const IID *
#define REFCLSID const CLSID *
#define REFFMTID const FMTID *
#endif

#undef DEFINE_GUID
#ifdef INITGUID
/* C: a const object at file scope has external linkage already, and "extern"
 * with an initializer draws a warning; C++ needs extern "C" for both. */
#ifdef __cplusplus
#define DEFINE_GUID(name, l, w1, w2, b1, b2, b3, b4, b5, b6, b7, b8) \
    EXTERN_C const GUID DECLSPEC_SELECTANY name = { l, w1, w2, { b1, b2, b3, b4, b5, b6, b7, b8 } }
#else
#define DEFINE_GUID(name, l, w1, w2, b1, b2, b3, b4, b5, b6, b7, b8) \
    const GUID DECLSPEC_SELECTANY name = { l, w1, w2, { b1, b2, b3, b4, b5, b6, b7, b8 } }
#endif
#else
#define DEFINE_GUID(name, l, w1, w2, b1, b2, b3, b4, b5, b6, b7, b8) \
    EXTERN_C const GUID name
#endif

/* COM interface declarations (objbase.h) */
#ifdef __cplusplus
#define interface struct
#define MIDL_INTERFACE(x) struct
#else
#define interface struct
#endif
#define BEGIN_INTERFACE
#define END_INTERFACE
#define CONST_VTBL
#define STDMETHOD(m) virtual HRESULT STDMETHODCALLTYPE m
#define STDMETHOD_(t, m) virtual t STDMETHODCALLTYPE m
#define PURE = 0
#define THIS_
#define THIS void
#define STDAPI EXTERN_C HRESULT STDAPICALLTYPE
#define STDAPI_(t) EXTERN_C t STDAPICALLTYPE
#define STDMETHODIMP HRESULT STDMETHODCALLTYPE
#define STDMETHODIMP_(t) t STDMETHODCALLTYPE

#endif
