/* The golden async_basic.h with its IID file: the IIDs link, and the
 * asynchronous twin's vtable has the IUnknown slots, then Begin_Read,
 * Finish_Read, Begin_Write, Finish_Write (built as C and as C++ by the
 * golden suite). */
#define COBJMACROS
#define CINTERFACE
#include "async_basic.h"
#include <stdio.h>
int main(void)
{
    const GUID *g = &IID_AsyncISimpleStream;    /* the async_uuid */
    int ok = g->Data1 == 0xa1b2c3d4 && g->Data2 == 0x0010 && g->Data4[7] == 0x11 &&
             IID_ISimpleStream.Data4[7] == 0x10 &&
             offsetof(AsyncISimpleStreamVtbl, Begin_Read) == 3 * sizeof(void *) &&
             offsetof(AsyncISimpleStreamVtbl, Finish_Write) == 6 * sizeof(void *);
    printf("%s\n", ok ? "ok" : "bad");
    return !ok;
}
