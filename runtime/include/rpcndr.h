/* rpcndr.h - for Linux: what MIDL-generated code expects of rpcndr.h. */
#ifndef AMIDL_RPCNDR_H
#define AMIDL_RPCNDR_H
#include "amidl_types.h"
#ifndef __RPCNDR_H_VERSION__
#define __RPCNDR_H_VERSION__ 475
#endif
#endif
