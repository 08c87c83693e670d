/*
 * fanout.c - one client, 1,000 calls in flight on 1,000 call objects.
 *
 * Every call object's ISynchronize is also pollable: its HANDLE is a file
 * descriptor readable exactly while the call is complete (RULES.md C10).
 * The client starts all the calls, then collects them with poll() as they
 * complete, and shows the throughput it reached. The first 63 are also
 * waited for through an ISynchronizeContainer (its capacity), the way a
 * COM program would; a second round on them, with CoWaitForMultipleHandles.
 *
 * A completed call stays signaled (its ISynchronize is a manual-reset
 * event, as on Windows) until its next Begin_, even after Finish_: a
 * container that still holds it returns it from every WaitMultiple. So
 * each WaitMultiple here is on a container rebuilt from the calls not
 * finished yet, and CoWaitForMultipleHandles gets the handles of those
 * calls only (see docs/runtime.md).
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L     /* nanosleep, clock_gettime under -std=c11 */
#endif
#define COBJMACROS
#include <poll.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "amidlrt.h"
#include "simplestream.h"

#define CALLS 1000

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

typedef struct Obj { ISimpleStream iface; atomic_long refs; } Obj;
static HRESULT STDMETHODCALLTYPE qi(ISimpleStream *This, REFIID riid, void **ppv)
{
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_ISimpleStream)) {
        *ppv = This; ISimpleStream_AddRef(This); return S_OK;
    }
    *ppv = NULL;
    return E_NOINTERFACE;
}
static ULONG STDMETHODCALLTYPE addref(ISimpleStream *This) { return (ULONG)atomic_fetch_add(&((Obj *)This)->refs, 1) + 1; }
static ULONG STDMETHODCALLTYPE release(ISimpleStream *This)
{
    long r = atomic_fetch_sub(&((Obj *)This)->refs, 1) - 1;
    if (!r) free(This);
    return (ULONG)r;
}
static HRESULT STDMETHODCALLTYPE read_(ISimpleStream *This, char *pv, ULONG cb, ULONG *pcbRead)
{
    (void)This;
    /* each call reads its own number back */
    int n = snprintf(pv, cb, "%lu", (unsigned long)cb);
    *pcbRead = (ULONG)n;
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE write_(ISimpleStream *This, const char *pv, ULONG cb, ULONG *w)
{
    (void)This; (void)pv;
    *w = cb;
    return S_OK;
}
static ISimpleStreamVtbl vtbl = { qi, addref, release, read_, write_ };

int main(void)
{
    static AsyncISimpleStream *calls[CALLS];
    static ISynchronize *syncs[CALLS];
    static struct pollfd pfd[CALLS];
    static int index_of[CALLS];
    CoInitializeEx(NULL, COINIT_MULTITHREADED);
    Obj *obj = calloc(1, sizeof *obj);
    obj->iface.lpVtbl = &vtbl;
    atomic_init(&obj->refs, 1);
    ISimpleStream *px;
    ICallFactory *f;
    AmrtCreateProxy((IUnknown *)&obj->iface, &IID_ISimpleStream, (void **)&px);
    ISimpleStream_Release(&obj->iface);
    ISimpleStream_QueryInterface(px, &IID_ICallFactory, (void **)&f);
    for (int i = 0; i < CALLS; i++) {
        if (FAILED(ICallFactory_CreateCall(f, &IID_AsyncISimpleStream, NULL, &IID_AsyncISimpleStream,
                                           (IUnknown **)&calls[i])))
            return 1;
        AsyncISimpleStream_QueryInterface(calls[i], &IID_ISynchronize, (void **)&syncs[i]);
    }
    ICallFactory_Release(f);
    printf("fanout: %d call objects\n", CALLS);

    double t0 = now_ms();
    for (int i = 0; i < CALLS; i++)
        if (AsyncISimpleStream_Begin_Read(calls[i], (ULONG)(100 + i)) != S_OK)
            return 2;
    int ok = 0, bad = 0;
    /* collect the first 63 with WaitMultiple: each wait returns one
     * completed call; the container of each round holds only the calls
     * not finished yet (a finished one would come back every time) */
    int from_container = 0;
    bool finished[63] = {0};
    for (int k = 0; k < 63; k++) {
        ISynchronizeContainer *cont;
        HRESULT hr = CoCreateInstance(&CLSID_SynchronizeContainer, NULL, CLSCTX_INPROC_SERVER,
                                      &IID_ISynchronizeContainer, (void **)&cont);
        if (FAILED(hr)) {
            fprintf(stderr, "fanout: CoCreateInstance: %s\n", AmrtHresultName(hr));
            return 3;
        }
        for (int i = 0; i < 63; i++)
            if (!finished[i])
                ISynchronizeContainer_AddSynchronize(cont, syncs[i]);
        ISynchronize *done = NULL;
        hr = ISynchronizeContainer_WaitMultiple(cont, 0, 10000, &done);
        ISynchronizeContainer_Release(cont);
        if (hr != S_OK) {
            fprintf(stderr, "fanout: WaitMultiple: %s\n", AmrtHresultName(hr));
            return 3;
        }
        for (int i = 0; i < 63; i++)
            if (syncs[i] == done && !finished[i]) {
                char buf[32] = {0};
                ULONG got = 0;
                if (AsyncISimpleStream_Finish_Read(calls[i], buf, &got) == S_OK && got == 3 && atoi(buf) == 100 + i)
                    ok++;
                else
                    bad++;
                finished[i] = true;
                from_container++;
                break;
            }
        ISynchronize_Release(done);
    }
    /* the rest with poll() on their handles */
    int n = 0;
    for (int i = 63; i < CALLS; i++) {
        ISynchronizeHandle *h;
        HANDLE fd;
        ISynchronize_QueryInterface(syncs[i], &IID_ISynchronizeHandle, (void **)&h);
        ISynchronizeHandle_GetHandle(h, &fd);
        ISynchronizeHandle_Release(h);
        pfd[n].fd = (int)(intptr_t)fd;
        pfd[n].events = POLLIN;
        index_of[n++] = i;
    }
    int left = n, from_poll = 0;
    while (left > 0) {
        if (poll(pfd, (nfds_t)n, 10000) <= 0)
            return 4;
        for (int k = 0; k < n; k++) {
            if (pfd[k].fd < 0 || !(pfd[k].revents & POLLIN))
                continue;
            int i = index_of[k];
            char buf[32] = {0};
            ULONG got = 0;
            if (AsyncISimpleStream_Finish_Read(calls[i], buf, &got) == S_OK && (int)got > 0 &&
                atoi(buf) == 100 + i)
                ok++;
            else
                bad++;
            pfd[k].fd = -1;
            left--;
            from_poll++;
        }
    }
    double ms = now_ms() - t0;
    printf("  %d collected through ISynchronizeContainer::WaitMultiple, %d through poll() on their handles\n",
           from_container, from_poll);
    printf("  %d of %d results correct, %d wrong\n", ok, CALLS, bad);
    printf("  throughput: %.0f calls/s (%d calls in %.1f ms)\n", CALLS / (ms / 1000.0), CALLS, ms);
    /* a second round on the first 63 call objects, collected with
     * CoWaitForMultipleHandles: the handles of the calls not finished yet,
     * a finished one's place taken by the last */
    HANDLE hs[63];
    int which[63], nh = 0, ok2 = 0;
    for (int i = 0; i < 63; i++) {
        ISynchronizeHandle *h;
        ISynchronize_QueryInterface(syncs[i], &IID_ISynchronizeHandle, (void **)&h);
        ISynchronizeHandle_GetHandle(h, &hs[nh]);
        ISynchronizeHandle_Release(h);
        which[nh++] = i;
        if (AsyncISimpleStream_Begin_Read(calls[i], (ULONG)(100 + i)) != S_OK)
            return 6;
    }
    while (nh > 0) {
        DWORD k = 0;
        HRESULT hr = CoWaitForMultipleHandles(0, 10000, (ULONG)nh, hs, &k);
        if (hr != S_OK) {
            fprintf(stderr, "fanout: CoWaitForMultipleHandles: %s\n", AmrtHresultName(hr));
            return 7;
        }
        int i = which[k];
        char buf[32] = {0};
        ULONG got = 0;
        ok2 += AsyncISimpleStream_Finish_Read(calls[i], buf, &got) == S_OK && got == 3 && atoi(buf) == 100 + i;
        nh--;
        hs[k] = hs[nh];
        which[k] = which[nh];
    }
    printf("  a second round on 63 of them, collected through CoWaitForMultipleHandles: %d of 63 correct\n", ok2);
    for (int i = 0; i < CALLS; i++) {
        ISynchronize_Release(syncs[i]);
        AsyncISimpleStream_Release(calls[i]);
    }
    ISimpleStream_Release(px);
    CoUninitialize();
    return ok == CALLS && ok2 == 63 ? 0 : 5;
}
