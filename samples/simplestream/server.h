/* server.h - the sample's ISimpleStream server (server.c). */
#ifndef SIMPLESTREAM_SERVER_H
#define SIMPLESTREAM_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include "amidlrt.h"
#include "simplestream.h"

#define STG_E_MEDIUMFULL_SAMPLE ((HRESULT)0x80030070)

extern IClassFactory stream_factory;
extern const CLSID CLSID_SimpleStream;
extern atomic_long server_objects;
extern atomic_long server_objects_made;
extern ULONG server_read_delay_ms;
/* After server_device_hold, a Read waits for the device until
 * server_device_ready (at most a minute); the device is ready at first */
void server_device_hold(void);
void server_device_ready(void);
HRESULT create_stream(const char *text, REFIID riid, void **ppv);

#endif
