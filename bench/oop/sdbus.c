/*
 * sdbus.c - sd-bus (libsystemd) peer to peer, no bus daemon: the server
 * accepts a UNIX socket connection and runs a server-side sd_bus on it
 * (sd_bus_set_fd + sd_bus_set_server) with an object /bench exporting
 * org.amidl.Bench.Add(ii) -> i; the client connects with sd_bus_set_address
 * and calls it with sd_bus_call_method (round trip) or keeps 64
 * sd_bus_call_method_async calls in flight (pipelined).
 * One executable: "sdbus server PATH" or "sdbus client PATH".
 */
#include "harness.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#define IFACE "org.amidl.Bench"

static int method_add(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
    (void)userdata, (void)err;
    int32_t a, b;
    int r = sd_bus_message_read(m, "ii", &a, &b);
    if (r < 0)
        return r;
    return sd_bus_reply_method_return(m, "i", a + b);
}

static const sd_bus_vtable vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD("Add", "ii", "i", method_add, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_VTABLE_END,
};

static void serve(int c)
{
    sd_bus *bus = NULL;
    sd_id128_t id;
    sd_id128_randomize(&id);
    if (sd_bus_new(&bus) < 0 || sd_bus_set_fd(bus, c, c) < 0 || sd_bus_set_server(bus, 1, id) < 0
        || sd_bus_add_object_vtable(bus, NULL, "/bench", IFACE, vtable, NULL) < 0 || sd_bus_start(bus) < 0) {
        fprintf(stderr, "sdbus server: cannot start a connection\n");
        sd_bus_unref(bus);
        close(c);
        return;
    }
    for (;;) {
        int r = sd_bus_process(bus, NULL);
        if (r < 0)
            break;
        if (r > 0)
            continue;
        if (sd_bus_wait(bus, UINT64_MAX) < 0)
            break;
    }
    sd_bus_flush_close_unref(bus);
}

static sd_bus *bus;

static int c_connect(const char *path)
{
    char addr[256];
    snprintf(addr, sizeof addr, "unix:path=%s", path);
    int r;
    if ((r = sd_bus_new(&bus)) < 0 || (r = sd_bus_set_address(bus, addr)) < 0 || (r = sd_bus_start(bus)) < 0)
        return oop_error("sd-bus connect: %s", strerror(-r));
    return 0;
}

static int c_rt(long n)
{
    for (long i = 0; i < n; i++) {
        sd_bus_error err = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        int32_t v;
        int r = sd_bus_call_method(bus, NULL, "/bench", IFACE, "Add", &err, &reply, "ii", (int32_t)i, 1);
        if (r >= 0)
            r = sd_bus_message_read(reply, "i", &v);
        sd_bus_message_unref(reply);
        if (r < 0) {
            oop_error("sd-bus call: %s", err.message ? err.message : strerror(-r));
            sd_bus_error_free(&err);
            return -1;
        }
        if (oop_check((int)i, 1, v) < 0)
            return -1;
    }
    return 0;
}

static long got, failed;

static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
    (void)err;
    int32_t v;
    long i = (long)(intptr_t)userdata;
    if (sd_bus_message_is_method_error(m, NULL) || sd_bus_message_read(m, "i", &v) < 0 || v != i + 1)
        failed++;
    got++;
    return 0;
}

static int c_pipe(long n, int depth)
{
    long sent = 0;
    got = failed = 0;
    while (got < n) {
        while (sent < n && sent - got < depth) {
            int r = sd_bus_call_method_async(bus, NULL, NULL, "/bench", IFACE, "Add", on_reply,
                                             (void *)(intptr_t)sent, "ii", (int32_t)sent, 1);
            if (r < 0)
                return oop_error("sd-bus async call: %s", strerror(-r));
            sent++;
        }
        int r = sd_bus_process(bus, NULL);
        if (r < 0)
            return oop_error("sd-bus process: %s", strerror(-r));
        if (r == 0 && (r = sd_bus_wait(bus, UINT64_MAX)) < 0)
            return oop_error("sd-bus wait: %s", strerror(-r));
    }
    if (failed)
        return oop_error("%ld wrong replies", failed);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "server")) {
        int l = oop_listen(argv[2]);
        oop_server_ready();
        for (;;) {
            int c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
            if (c >= 0)
                serve(c);
        }
    }
    static const OopClient ops = { c_connect, c_rt, c_pipe, NULL };
    if (argc == 3 && !strcmp(argv[1], "client"))
        return oop_client_main(argc - 1, argv + 1, &ops);
    oop_die("usage: %s server|client PATH", argv[0]);
}
