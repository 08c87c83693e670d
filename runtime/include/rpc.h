/* rpc.h - for Linux: the base of amidl's generated headers. */
#ifndef AMIDL_RPC_H
#define AMIDL_RPC_H
#include "amidl_types.h"
#endif
