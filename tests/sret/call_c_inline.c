/* tests/sret: the C caller again, through the WIDL_C_INLINE_WRAPPERS functions. */
#define WIDL_C_INLINE_WRAPPERS
#define SRET_CALL_C sret_call_c_inline
#include "call_c.c"
