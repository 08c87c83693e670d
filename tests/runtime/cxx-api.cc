// amidlrt.h from C++: REFIID is a reference, the interfaces are C++
// classes with vtables; linked to the shared library (the runtime suite).
#define COBJMACROS
#include "amidlrt.h"
int main()
{
    ISynchronize *s = nullptr;
    if (FAILED(CoInitializeEx(nullptr, COINIT_MULTITHREADED))) return 1;
    if (FAILED(CoCreateInstance(CLSID_ManualResetEvent, nullptr, CLSCTX_INPROC_SERVER, IID_ISynchronize, (void **)&s))) return 2;
    s->Signal();
    HRESULT hr = s->Wait(0, 0);
    s->Release();
    CoUninitialize();
    return hr == S_OK && IsEqualIID(IID_ISynchronize, IID_ISynchronize) ? 0 : 3;
}
