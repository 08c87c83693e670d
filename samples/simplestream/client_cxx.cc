// client_cxx.cc - the simplestream client in C++, with the same generated
// header: interfaces are classes, IIDs are references (REFIID is const IID &).
#include "amidlrt.h"
#include "simplestream.h"

#include <cstdio>
#include <cstring>

extern "C" {
extern IClassFactory stream_factory;
extern const CLSID CLSID_SimpleStream;
void server_device_hold(void);
void server_device_ready(void);
}

int main()
{
    DWORD cookie = 0;
    ISimpleStream *stream = nullptr;
    ICallFactory *factory = nullptr;
    AsyncISimpleStream *call = nullptr;
    ISynchronize *sync = nullptr;
    char buf[64] = {};
    ULONG got = 0;

    if (FAILED(CoInitializeEx(nullptr, COINIT_MULTITHREADED)) ||
        FAILED(CoRegisterClassObject(CLSID_SimpleStream, reinterpret_cast<IUnknown *>(&stream_factory),
                                     CLSCTX_LOCAL_SERVER, REGCLS_MULTIPLEUSE, &cookie)) ||
        FAILED(CoCreateInstance(CLSID_SimpleStream, nullptr, CLSCTX_LOCAL_SERVER, IID_ISimpleStream,
                                reinterpret_cast<void **>(&stream))))
        return 1;
    if (FAILED(stream->QueryInterface(IID_ICallFactory, reinterpret_cast<void **>(&factory))))
        return 2;
    HRESULT hr = factory->CreateCall(IID_AsyncISimpleStream, nullptr, IID_AsyncISimpleStream,
                                     reinterpret_cast<IUnknown **>(&call));
    factory->Release();
    server_device_hold();       // the server's Read waits for its device
    if (FAILED(hr) || FAILED(call->Begin_Read(sizeof buf)))
        return 3;
    call->QueryInterface(IID_ISynchronize, reinterpret_cast<void **>(&sync));
    if (sync->Wait(0, 50) != RPC_E_TIMEOUT)     // the server's Read waits for its device
        return 4;
    server_device_ready();
    if (sync->Wait(0, INFINITE) != S_OK || call->Finish_Read(buf, &got) != S_OK)
        return 5;
    std::printf("C++ client: Wait(50 ms) -> RPC_E_TIMEOUT while the device was not ready, then read %lu bytes: \"%.*s\"\n",
                (unsigned long)got, (int)got, buf);
    sync->Release();
    call->Release();
    stream->Release();
    CoRevokeClassObject(cookie);
    CoUninitialize();
    return 0;
}
