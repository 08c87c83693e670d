/*
 * client.c - "Making an Asynchronous Call", step by step.
 *
 * The server object (server.c) implements the synchronous ISimpleStream
 * only. Registered as a local server, it is reached through libamidlrt's
 * proxy, which answers ICallFactory: the client makes the asynchronous
 * call exactly as the spec describes it.
 *
 * With --remote the server is another process: the client registers
 * nothing, and CoCreateInstance(CLSCTX_LOCAL_SERVER) starts stream_server
 * through its class file ($AMIDL_CLASS_PATH; docs/remoting.md). The rest
 * of the code is the same.
 */
#define COBJMACROS
#include "server.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define CHECK(what, expr, expect) do { \
        HRESULT hr_ = (expr); \
        printf("  %-58s -> %s\n", what, hr_ == (expect) ? #expect : AmrtHresultName(hr_)); \
        if (hr_ != (expect)) { printf("unexpected result 0x%08x\n", (unsigned)hr_); return 1; } \
    } while (0)

int main(int argc, char **argv)
{
    bool remote = argc > 1 && strcmp(argv[1], "--remote") == 0;
    ISimpleStream *stream = NULL;
    ICallFactory *factory = NULL;
    AsyncISimpleStream *call = NULL;
    ISynchronize *sync = NULL;
    DWORD cookie = 0;
    char buf[64];
    ULONG got = 0, written = 0;

    printf("simplestream: an asynchronous call, as \"Making an Asynchronous Call\" describes it\n");
    printf("(the server: %s)\n\n", remote ? "another process, started on demand through its class file"
                                           : "a thread of this process");
    CHECK("CoInitializeEx(COINIT_MULTITHREADED)", CoInitializeEx(NULL, COINIT_MULTITHREADED), S_OK);
    if (!remote)
        CHECK("CoRegisterClassObject(CLSID_SimpleStream, LOCAL_SERVER)",
              CoRegisterClassObject(&CLSID_SimpleStream, (IUnknown *)&stream_factory, CLSCTX_LOCAL_SERVER,
                                    REGCLS_MULTIPLEUSE, &cookie), S_OK);
    CHECK("CoCreateInstance(CLSID_SimpleStream) -> ISimpleStream",
          CoCreateInstance(&CLSID_SimpleStream, NULL, CLSCTX_LOCAL_SERVER, &IID_ISimpleStream, (void **)&stream), S_OK);

    printf("\nTo begin an asynchronous call:\n");
    CHECK("1. QueryInterface(IID_ICallFactory)",
          ISimpleStream_QueryInterface(stream, &IID_ICallFactory, (void **)&factory), S_OK);
    CHECK("2. CreateCall(IID_AsyncISimpleStream), release the factory",
          ICallFactory_CreateCall(factory, &IID_AsyncISimpleStream, NULL, &IID_AsyncISimpleStream,
                                  (IUnknown **)&call), S_OK);
    ICallFactory_Release(factory);
    printf("  3. (the call object was asked for AsyncISimpleStream directly)\n");
    server_device_hold();       /* the server's device is slow: its Read waits for it */
    CHECK("4. Begin_Read(cb = 64)", AsyncISimpleStream_Begin_Read(call, sizeof buf), S_OK);
    CHECK("   a second Begin_ while the call is pending",
          AsyncISimpleStream_Begin_Read(call, sizeof buf), RPC_E_CALL_PENDING);
    printf("  ... the client does other work while the server reads ...\n");

    printf("\nTo complete the asynchronous call:\n");
    CHECK("1. QueryInterface(IID_ISynchronize)",
          AsyncISimpleStream_QueryInterface(call, &IID_ISynchronize, (void **)&sync), S_OK);
    /* the server's Read waits for its device: the call cannot be done yet */
    CHECK("2. Wait(50 ms) while the server waits for its device", ISynchronize_Wait(sync, 0, 50), RPC_E_TIMEOUT);
    printf("  ... the device gets its data ...\n");
    server_device_ready();
    CHECK("   Wait(INFINITE) until the call is done", ISynchronize_Wait(sync, 0, INFINITE), S_OK);
    memset(buf, 0, sizeof buf);
    CHECK("3. Finish_Read(buf, &cbRead)", AsyncISimpleStream_Finish_Read(call, buf, &got), S_OK);
    printf("  read %lu bytes: \"%.*s\"\n", (unsigned long)got, (int)got, buf);
    CHECK("   Finish_ with no call in progress", AsyncISimpleStream_Finish_Read(call, buf, &got), RPC_E_CALL_COMPLETE);

    printf("\nThe call object is reusable after Finish_:\n");
    CHECK("Begin_Write(\" And back.\")", AsyncISimpleStream_Begin_Write(call, " And back.", 10), S_OK);
    CHECK("Finish_Write(&cbWritten) (blocks until done)", AsyncISimpleStream_Finish_Write(call, &written), S_OK);
    printf("  wrote %lu bytes\n", (unsigned long)written);

    printf("\nSynchronous calls through the proxy behave as calls on the object:\n");
    memset(buf, 0, sizeof buf);
    CHECK("ISimpleStream_Read(buf, 64)", ISimpleStream_Read(stream, buf, sizeof buf, &got), S_OK);
    printf("  read %lu bytes: \"%.*s\"\n", (unsigned long)got, (int)got, buf);

    printf("\nA call object released without Finish_:\n");
    CHECK("Begin_Read(cb = 8)", AsyncISimpleStream_Begin_Read(call, 8), S_OK);
    ISynchronize_Release(sync);
    AsyncISimpleStream_Release(call);
    printf("  released: the call still runs to its end on the server; its outputs are freed\n");

    ISimpleStream_Release(stream);
    if (!remote)
        CHECK("CoRevokeClassObject", CoRevokeClassObject(cookie), S_OK);
    CoUninitialize();
    if (remote) {
        printf("\nCoUninitialize waited for the calls in flight; the server process ends with its last object\n");
        return 0;
    }
    printf("\nCoUninitialize waited for the calls in flight; live server objects: %ld\n",
           (long)atomic_load(&server_objects));
    return atomic_load(&server_objects) == 0 ? 0 : 1;
}
