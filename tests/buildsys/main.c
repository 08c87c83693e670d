/* tests/buildsys/main.c - the program each build-system project builds:
 * the headers of a.idl and b.idl, their IIDs, a.idl's call-object glue
 * and a function of libamidlrt. */
#include <stdio.h>
#include "b.h"
#include "amidlrt.h"
#include "amidlrt_glue.h"

extern const AmrtInterface IAAsync_amrt_glue;

int main(void)
{
    IB *ib = NULL;   /* IB inherits IA's Get: b.h declares its vtable with it */
    (void)ib;
    printf("IID_IA %08x IID_IB %08x IID_AsyncIAAsync %08x glue %s %u %s\n",
           (unsigned)IID_IA.Data1, (unsigned)IID_IB.Data1, (unsigned)IID_AsyncIAAsync.Data1,
           IAAsync_amrt_glue.name, (unsigned)IAAsync_amrt_glue.nmethods, AmrtHresultName(E_NOINTERFACE));
    return 0;
}
