/*
 * gdbus.c - GDBus peer to peer through the proxy and skeleton that
 * gdbus-codegen generates from gdbus-bench.xml, no bus daemon: the server
 * is a GDBusServer on unix:path=..., exporting an OopBench skeleton on each
 * new connection; the client opens the connection with
 * g_dbus_connection_new_for_address_sync and calls through an OopBench
 * proxy: oop_bench_call_add_sync (round trip), or 64 oop_bench_call_add
 * in flight completed on the main loop (pipelined).
 * One executable: "gdbus server PATH" or "gdbus client PATH".
 */
#include "harness.h"
#include "gdbus-gen.h"

#include <stdio.h>
#include <string.h>

static gboolean on_add(OopBench *obj, GDBusMethodInvocation *inv, gint a, gint b, gpointer user)
{
    (void)user;
    oop_bench_complete_add(obj, inv, a + b);
    return TRUE;
}

static gboolean on_connection(GDBusServer *server, GDBusConnection *conn, gpointer user)
{
    (void)server, (void)user;
    OopBench *skel = oop_bench_skeleton_new();
    GError *err = NULL;
    g_signal_connect(skel, "handle-add", G_CALLBACK(on_add), NULL);
    if (!g_dbus_interface_skeleton_export(G_DBUS_INTERFACE_SKELETON(skel), conn, "/bench", &err)) {
        fprintf(stderr, "gdbus server: export: %s\n", err->message);
        g_error_free(err);
        g_object_unref(skel);
        return FALSE;
    }
    g_object_ref(conn);
    return TRUE;
}

static void server(const char *path)
{
    char addr[256];
    GError *err = NULL;
    gchar *guid = g_dbus_generate_guid();
    snprintf(addr, sizeof addr, "unix:path=%s", path);
    GDBusServer *s = g_dbus_server_new_sync(addr, G_DBUS_SERVER_FLAGS_NONE, guid, NULL, NULL, &err);
    if (!s)
        oop_die("GDBusServer: %s", err->message);
    g_signal_connect(s, "new-connection", G_CALLBACK(on_connection), NULL);
    g_dbus_server_start(s);
    oop_server_ready();
    g_main_loop_run(g_main_loop_new(NULL, FALSE));
}

static OopBench *proxy;

static int c_connect(const char *path)
{
    char addr[256];
    GError *err = NULL;
    snprintf(addr, sizeof addr, "unix:path=%s", path);
    GDBusConnection *conn = g_dbus_connection_new_for_address_sync(addr, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT,
                                                                   NULL, NULL, &err);
    if (conn)
        proxy = oop_bench_proxy_new_sync(conn, G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES
                                         | G_DBUS_PROXY_FLAGS_DO_NOT_CONNECT_SIGNALS, NULL, "/bench", NULL, &err);
    if (!proxy) {
        oop_error("GDBus connect: %s", err->message);
        g_error_free(err);
        return -1;
    }
    return 0;
}

static int c_rt(long n)
{
    for (long i = 0; i < n; i++) {
        gint r;
        GError *err = NULL;
        if (!oop_bench_call_add_sync(proxy, (gint)i, 1, &r, NULL, &err)) {
            oop_error("GDBus call: %s", err->message);
            g_error_free(err);
            return -1;
        }
        if (oop_check((int)i, 1, r) < 0)
            return -1;
    }
    return 0;
}

static long got, failed;

static void on_reply(GObject *src, GAsyncResult *res, gpointer user)
{
    gint r;
    GError *err = NULL;
    if (!oop_bench_call_add_finish(OOP_BENCH(src), &r, res, &err)) {
        g_error_free(err);
        failed++;
    } else if (r != (gint)(glong)user + 1)
        failed++;
    got++;
}

static int c_pipe(long n, int depth)
{
    long sent = 0;
    got = failed = 0;
    while (got < n) {
        while (sent < n && sent - got < depth) {
            oop_bench_call_add(proxy, (gint)sent, 1, NULL, on_reply, (gpointer)(glong)sent);
            sent++;
        }
        g_main_context_iteration(NULL, TRUE);
    }
    if (failed)
        return oop_error("%ld calls failed", failed);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "server"))
        server(argv[2]);
    static const OopClient ops = { c_connect, c_rt, c_pipe, NULL };
    if (argc == 3 && !strcmp(argv[1], "client"))
        return oop_client_main(argc - 1, argv + 1, &ops);
    oop_die("usage: %s server|client PATH", argv[0]);
}
