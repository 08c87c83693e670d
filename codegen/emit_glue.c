/* emit_glue.c - FILE_async.c. Not written yet (issue #5): the driver reports it. */
#include "amidl.h"

int emit_glue(Compiler *cc, Buf *out, const char *header_name)
{
    (void)cc; (void)out; (void)header_name;
    return -2;
}
