/*
 * stream_server.c - the simplestream sample's server as a process of its
 * own (docs/remoting.md): the same ISimpleStream object (server.c),
 * registered with CoRegisterClassObject(CLSCTX_LOCAL_SERVER). The client
 * (client.c --remote) starts it on demand through the class file the build
 * writes (build/samples/simplestream/classes/<CLSID>.class); the runtime
 * passes -Embedding, as Windows does. It serves until its objects are all
 * released again (or for at most a minute without any), then revokes,
 * uninitializes and exits.
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L     /* nanosleep under -std=c11 */
#endif
#define COBJMACROS
#include "server.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-Embedding") != 0) {
        fprintf(stderr, "usage: %s -Embedding (the runtime starts it for a client)\n", argv[0]);
        return 2;
    }
    if (FAILED(CoInitializeEx(NULL, COINIT_MULTITHREADED)))
        return 1;
    DWORD cookie;
    HRESULT hr = CoRegisterClassObject(&CLSID_SimpleStream, (IUnknown *)&stream_factory, CLSCTX_LOCAL_SERVER,
                                       REGCLS_MULTIPLEUSE, &cookie);
    if (FAILED(hr)) {
        fprintf(stderr, "stream_server: CoRegisterClassObject: %s\n", AmrtHresultName(hr));
        CoUninitialize();
        return 1;
    }
    /* the lifetime of a local server: from the first object to the last
     * release. Whether an object was ever made is its own count, not what
     * an earlier look at the live count saw: an object that is made and
     * released between two looks (a client that releases it at once, a
     * call that completes at once) would otherwise leave the server
     * waiting for its idle minute. The made count is read first: a made
     * object was counted live before it was counted made. */
    for (int idle = 0; idle < 6000; idle++) {
        long made = atomic_load(&server_objects_made);
        if (atomic_load(&server_objects) > 0)
            idle = 0;
        else if (made > 0)
            break;
        nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
    }
    CoRevokeClassObject(cookie);
    CoUninitialize();
    return atomic_load(&server_objects) == 0 ? 0 : 1;
}
