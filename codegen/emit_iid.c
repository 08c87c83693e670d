/* emit_iid.c - FILE_i.c. Not written yet (issue #3): the driver reports it. */
#include "amidl.h"

int emit_iid(Compiler *cc, Buf *out)
{
    (void)cc; (void)out;
    return -2;
}
