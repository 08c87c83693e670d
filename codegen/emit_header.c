/* emit_header.c - FILE.h. Not written yet (issue #3): the driver reports it. */
#include "amidl.h"

int emit_header(Compiler *cc, Buf *out, const char *header_name)
{
    (void)cc; (void)out; (void)header_name;
    return -2;
}
