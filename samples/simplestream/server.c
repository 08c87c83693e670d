/*
 * server.c - a plain ISimpleStream object and its class factory.
 *
 * The object knows nothing about asynchronous calls: it implements the
 * synchronous ISimpleStream. Its data is a small text; Read takes a while
 * (it sleeps), and its "device" can be held (server_device_hold) until
 * server_device_ready: a Read meanwhile waits for it, so that a client in
 * the same process sees the call pending however fast or loaded the
 * machine is.
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L     /* nanosleep, clock_gettime under -std=c11 */
#endif
#define COBJMACROS
#include "server.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct Stream {
    ISimpleStream iface;
    atomic_long refs;
    pthread_mutex_t lock;
    char data[256];
    ULONG size, pos;
} Stream;

atomic_long server_objects;     /* live objects, for the leak check */
atomic_long server_objects_made;        /* objects ever made (stream_server's lifetime) */
ULONG server_read_delay_ms = 300;

static pthread_mutex_t device_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t device_cond = PTHREAD_COND_INITIALIZER;
static bool device_ready = true;

void server_device_hold(void)
{
    pthread_mutex_lock(&device_lock);
    device_ready = false;
    pthread_mutex_unlock(&device_lock);
}

void server_device_ready(void)
{
    pthread_mutex_lock(&device_lock);
    device_ready = true;
    pthread_cond_broadcast(&device_cond);
    pthread_mutex_unlock(&device_lock);
}

/* Wait for the device, for at most a minute (a client that never makes it
 * ready gets an error, not a hang). */
static bool device_wait(void)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 60;
    pthread_mutex_lock(&device_lock);
    int rc = 0;
    while (!device_ready && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&device_cond, &device_lock, &deadline);
    bool ready = device_ready;
    pthread_mutex_unlock(&device_lock);
    return ready;
}

static HRESULT STDMETHODCALLTYPE qi(ISimpleStream *This, REFIID riid, void **ppv)
{
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_ISimpleStream)) {
        *ppv = This;
        ISimpleStream_AddRef(This);
        return S_OK;
    }
    *ppv = NULL;
    return E_NOINTERFACE;       /* no ICallFactory: the runtime's proxy provides async */
}

static ULONG STDMETHODCALLTYPE addref(ISimpleStream *This)
{
    return (ULONG)atomic_fetch_add(&((Stream *)This)->refs, 1) + 1;
}

static ULONG STDMETHODCALLTYPE release(ISimpleStream *This)
{
    Stream *s = (Stream *)This;
    long left = atomic_fetch_sub(&s->refs, 1) - 1;
    if (!left) {
        pthread_mutex_destroy(&s->lock);
        free(s);
        atomic_fetch_sub(&server_objects, 1);
    }
    return (ULONG)left;
}

static HRESULT STDMETHODCALLTYPE read_(ISimpleStream *This, char *pv, ULONG cb, ULONG *pcbRead)
{
    Stream *s = (Stream *)This;
    *pcbRead = 0;
    if (!device_wait())         /* a slow device */
        return E_FAIL;
    struct timespec ts = { server_read_delay_ms / 1000, (long)(server_read_delay_ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
    pthread_mutex_lock(&s->lock);
    ULONG n = s->size - s->pos < cb ? s->size - s->pos : cb;
    memcpy(pv, s->data + s->pos, n);
    s->pos += n;
    pthread_mutex_unlock(&s->lock);
    *pcbRead = n;
    return n ? S_OK : S_FALSE;
}

static HRESULT STDMETHODCALLTYPE write_(ISimpleStream *This, const char *pv, ULONG cb, ULONG *pcbWritten)
{
    Stream *s = (Stream *)This;
    pthread_mutex_lock(&s->lock);
    ULONG room = (ULONG)sizeof s->data - s->size;
    ULONG n = cb < room ? cb : room;
    memcpy(s->data + s->size, pv, n);
    s->size += n;
    pthread_mutex_unlock(&s->lock);
    *pcbWritten = n;
    return n == cb ? S_OK : STG_E_MEDIUMFULL_SAMPLE;
}

static ISimpleStreamVtbl stream_vtbl = { qi, addref, release, read_, write_ };

HRESULT create_stream(const char *text, REFIID riid, void **ppv)
{
    Stream *s = calloc(1, sizeof *s);
    if (!s)
        return E_OUTOFMEMORY;
    s->iface.lpVtbl = &stream_vtbl;
    atomic_init(&s->refs, 1);
    pthread_mutex_init(&s->lock, NULL);
    s->size = (ULONG)strlen(text);
    memcpy(s->data, text, s->size);
    atomic_fetch_add(&server_objects, 1);
    atomic_fetch_add(&server_objects_made, 1);  /* after the live count: made > 0 means it was counted */
    HRESULT hr = ISimpleStream_QueryInterface(&s->iface, riid, ppv);
    ISimpleStream_Release(&s->iface);
    return hr;
}

/* ---- the class factory ---- */

static HRESULT STDMETHODCALLTYPE f_qi(IClassFactory *This, REFIID riid, void **ppv)
{
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IClassFactory)) {
        *ppv = This;
        return S_OK;
    }
    *ppv = NULL;
    return E_NOINTERFACE;
}
static ULONG STDMETHODCALLTYPE f_addref(IClassFactory *This) { (void)This; return 2; }
static ULONG STDMETHODCALLTYPE f_release(IClassFactory *This) { (void)This; return 1; }
static HRESULT STDMETHODCALLTYPE f_create(IClassFactory *This, IUnknown *outer, REFIID riid, void **ppv)
{
    (void)This;
    if (outer)
        return CLASS_E_NOAGGREGATION;
    return create_stream("The quick brown fox jumps over the lazy dog.", riid, ppv);
}
static HRESULT STDMETHODCALLTYPE f_lock(IClassFactory *This, BOOL lock) { (void)This; (void)lock; return S_OK; }
static IClassFactoryVtbl factory_vtbl = { f_qi, f_addref, f_release, f_create, f_lock };
IClassFactory stream_factory = { &factory_vtbl };

const CLSID CLSID_SimpleStream = { 0x5e2f3b1a, 0x7c4d, 0x4e8f, { 0x9a, 0x0b, 0x1c, 0x2d, 0x3e, 0x4f, 0x5a, 0x62 } };
