/*
 * activate.c - publishing classes to other processes and reaching them
 * (RULES.md J1-J3); docs/remoting.md describes the files and directories.
 *
 * Publishing. CoRegisterClassObject(..., CLSCTX_LOCAL_SERVER, ...) makes
 * the process listen (one socket per process, server-<pid>.sock in the
 * rendezvous directory, or the socket a supervisor handed over, J3) and
 * puts a symbolic link named after the CLSID next to it, pointing at that
 * socket: a client connects to the link. CoRevokeClassObject removes the
 * link (no new activations, J1); REGCLS_SINGLEUSE removes it after the
 * first activation.
 *
 * Activation. A client connects to the class's link; when nobody answers
 * there, it looks for the class file, starts the executable it names with
 * -Embedding (J2, detached: the server is not the client's child) and
 * retries for a bounded time.
 */
#include "remote.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void amrt__guid_text(const GUID *g, char out[37])
{
    snprintf(out, 37, "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x", g->Data1, g->Data2, g->Data3,
             g->Data4[0], g->Data4[1], g->Data4[2], g->Data4[3], g->Data4[4], g->Data4[5], g->Data4[6],
             g->Data4[7]);
}

/* ==================================================================== publishing */

typedef struct Published {
    DWORD cookie;
    CLSID clsid;
    DWORD flags;
    bool linked;                /* we made the link */
    bool used;                  /* REGCLS_SINGLEUSE: activated once */
    bool suspended;             /* REGCLS_SUSPENDED or CoSuspendClassObjects: no link, no activations */
    char link[160];
    struct Published *next;
} Published;

static pthread_mutex_t pub_lock = PTHREAD_MUTEX_INITIALIZER;
static Published *published;
static char serve_path[108];

static bool link_is_ours(const char *link)
{
    char t[128];
    ssize_t n = readlink(link, t, sizeof t - 1);
    if (n <= 0)
        return false;
    t[n] = 0;
    return strcmp(t, serve_path) == 0;
}

/* Is somebody serving at path? */
static bool alive(const char *path)
{
    int fd = amrt__tp_connect(path);
    if (fd < 0)
        return false;
    amrt__tp_close(fd);
    return true;
}

/* the class's link (pub_lock held); one left by a dead server is replaced,
 * a live server's is kept (it serves the class; we do so in-process) */
static void link_published(Published *p)
{
    const char *base = strrchr(serve_path, '/'), *name = strrchr(p->link, '/');
    if (base && name && strcmp(base + 1, name + 1) == 0)
        return;                         /* the socket itself is named after the class */
    for (int tries = 0; tries < 2 && !p->linked; tries++) {
        if (symlink(serve_path, p->link) == 0)
            p->linked = true;
        else if (errno != EEXIST || alive(p->link))
            break;
        else
            unlink(p->link);
    }
}

HRESULT amrt__publish(const CLSID *clsid, DWORD cookie, DWORD flags)
{
    char dir[96], name[37];
    int e = amrt__tp_rundir(dir, sizeof dir);
    if (e)
        return e == -EACCES ? E_ACCESSDENIED : E_FAIL;
    Published *p = amrt__calloc(sizeof *p);
    if (!p)
        return E_OUTOFMEMORY;
    amrt__guid_text(clsid, name);
    p->cookie = cookie;
    p->clsid = *clsid;
    p->flags = flags;
    p->suspended = (flags & REGCLS_SUSPENDED) != 0;     /* linked by CoResumeClassObjects */
    snprintf(p->link, sizeof p->link, "%s/%s", dir, name);
    /* in the list before the process listens and before the link exists:
     * a client that finds our socket or the link at once must find the
     * class published (an ACTIVATE that came between the two got
     * REGDB_E_CLASSNOTREG: oop's J2 -Embedding case under load, and a
     * client asking the server it started at its own socket) */
    amrt__mutex_lock(&pub_lock);
    p->next = published;
    published = p;
    amrt__mutex_unlock(&pub_lock);
    HRESULT hr = amrt__serve(serve_path, sizeof serve_path);
    if (FAILED(hr)) {
        amrt__unpublish(cookie);
        return hr;
    }
    amrt__mutex_lock(&pub_lock);
    if (!p->suspended)
        link_published(p);
    amrt__mutex_unlock(&pub_lock);
    return S_OK;
}

static void unlink_published(Published *p)
{
    if (p->linked && link_is_ours(p->link))
        unlink(p->link);
    p->linked = false;
}

void amrt__unpublish(DWORD cookie)
{
    amrt__mutex_lock(&pub_lock);
    Published **pp = &published, *p = NULL;
    for (; *pp; pp = &(*pp)->next)
        if ((*pp)->cookie == cookie) {
            p = *pp;
            *pp = p->next;
            break;
        }
    amrt__mutex_unlock(&pub_lock);
    if (p) {
        unlink_published(p);
        amrt__free(p);
    }
}

/* the factory for an activation from another process (AddRef'd): the
 * class must be published; a single-use registration serves once */
IUnknown *amrt__class_factory_for_peer(const CLSID *clsid)
{
    bool ok = false;
    amrt__mutex_lock(&pub_lock);
    for (Published *p = published; p && !ok; p = p->next) {
        if (!IsEqualGUID(&p->clsid, clsid) || p->used || p->suspended)
            continue;
        ok = true;
        if ((p->flags & (REGCLS_MULTIPLEUSE | REGCLS_MULTI_SEPARATE)) == 0) {     /* REGCLS_SINGLEUSE */
            p->used = true;
            unlink_published(p);
        }
    }
    amrt__mutex_unlock(&pub_lock);
    DWORD flags;
    return ok ? amrt__class_factory(clsid, CLSCTX_LOCAL_SERVER, &flags) : NULL;
}

/* ==================================================================== the server's lifetime */

/* CoAddRefServerProcess / CoReleaseServerProcess: the process's count
 * (pub_lock); its last release suspends the class objects in the same
 * step, so no activation comes between the zero and the suspension. */
static ULONG server_refs;

static void suspend_locked(void)
{
    for (Published *p = published; p; p = p->next) {
        p->suspended = true;
        unlink_published(p);            /* a new activation starts a new server (J2) */
    }
}

HRESULT CoSuspendClassObjects(void)
{
    amrt__mutex_lock(&pub_lock);
    suspend_locked();
    amrt__mutex_unlock(&pub_lock);
    return S_OK;
}

HRESULT CoResumeClassObjects(void)
{
    amrt__mutex_lock(&pub_lock);
    for (Published *p = published; p; p = p->next)
        if (p->suspended) {
            p->suspended = false;
            if (!p->used)
                link_published(p);
        }
    amrt__mutex_unlock(&pub_lock);
    return S_OK;
}

ULONG CoAddRefServerProcess(void)
{
    amrt__mutex_lock(&pub_lock);
    ULONG n = ++server_refs;
    amrt__mutex_unlock(&pub_lock);
    return n;
}

ULONG CoReleaseServerProcess(void)
{
    amrt__mutex_lock(&pub_lock);
    ULONG n = server_refs ? --server_refs : 0;     /* an unbalanced release stays at 0 (project choice) */
    if (n == 0)
        suspend_locked();
    amrt__mutex_unlock(&pub_lock);
    return n;
}

void amrt__remote_shutdown(void)
{
    amrt__mutex_lock(&pub_lock);
    Published *p = published;
    published = NULL;
    amrt__mutex_unlock(&pub_lock);
    while (p) {
        Published *next = p->next;
        unlink_published(p);
        amrt__free(p);
        p = next;
    }
    amrt__conn_shutdown();
}

/* ==================================================================== class files */

/* Look for <clsid>.class in the search path (docs/remoting.md); the
 * executable it names, resolved against the file's directory. */
static bool class_file(const char *name, char *exe, size_t len)
{
    char dirs[4096];
    const char *cp = getenv("AMIDL_CLASS_PATH"), *home = getenv("HOME"), *xdg = getenv("XDG_DATA_HOME");
    int n = snprintf(dirs, sizeof dirs, "%s%s", cp && *cp ? cp : "", cp && *cp ? ":" : "");
    if (xdg && *xdg)
        n += snprintf(dirs + n, sizeof dirs - (size_t)n, "%s/amidl/classes:", xdg);
    else if (home && *home)
        n += snprintf(dirs + n, sizeof dirs - (size_t)n, "%s/.local/share/amidl/classes:", home);
    snprintf(dirs + n, sizeof dirs - (size_t)n, "/usr/local/share/amidl/classes:/usr/share/amidl/classes");
    for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        char path[PATH_MAX];
        if ((size_t)snprintf(path, sizeof path, "%s/%s.class", d, name) >= sizeof path)
            continue;
        FILE *f = fopen(path, "re");
        if (!f)
            continue;
        char line[PATH_MAX + 16];
        bool found = false;
        while (!found && fgets(line, sizeof line, f)) {
            line[strcspn(line, "\r\n")] = 0;
            if (strncmp(line, "Exec=", 5) != 0 || !line[5])
                continue;
            const char *v = line + 5;
            if (v[0] == '/')
                found = (size_t)snprintf(exe, len, "%s", v) < len;
            else
                found = (size_t)snprintf(exe, len, "%s/%s", d, v) < len;
        }
        fclose(f);
        if (found)
            return true;
    }
    return false;
}

/* Start exe -Embedding, detached (a grandchild, in a session of its own).
 * 0 and its pid, or -errno when it could not be executed. */
static int spawn(const char *exe, pid_t *pid)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0)
        return -errno;
    char *argv[] = { (char *)exe, (char *)"-Embedding", NULL };
    pid_t child = fork();
    if (child < 0) {
        int e = errno;
        close(p[0]);
        close(p[1]);
        return -e;
    }
    if (child == 0) {
        /* only async-signal-safe calls from here */
        setsid();
        pid_t g = fork();
        if (g < 0)
            _exit(1);
        if (g > 0) {
            int32_t msg[2] = { 0, (int32_t)g };
            if (write(p[1], msg, sizeof msg) < 0) { /* the parent sees EOF */ }
            _exit(0);
        }
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) {
            dup2(devnull, 0);
            if (devnull > 2)
                close(devnull);
        }
        execv(exe, argv);
        int32_t msg[2] = { errno ? errno : ENOEXEC, 0 };
        if (write(p[1], msg, sizeof msg) < 0) { /* nothing to do */ }
        _exit(127);
    }
    close(p[1]);
    int status;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR)
        ;
    int32_t msg[2] = { 0, 0 }, err = 0;
    *pid = 0;
    for (int i = 0; i < 2; i++) {
        ssize_t r;
        do
            r = read(p[0], msg, sizeof msg);
        while (r < 0 && errno == EINTR);
        if (r != (ssize_t)sizeof msg)
            break;
        if (msg[0])
            err = msg[0];
        else if (msg[1])
            *pid = msg[1];
    }
    close(p[0]);
    if (err)
        return -err;
    return *pid ? 0 : -ECHILD;
}

static DWORD start_timeout_ms(void)
{
    const char *s = getenv("AMIDL_SERVER_START_TIMEOUT");
    return s && *s ? (DWORD)strtoul(s, NULL, 10) : 30000;
}

/* ==================================================================== the client's side */

typedef struct RemoteFactory {
    IClassFactory cf;
    atomic_long refs;
    CLSID clsid;
    AmrtConn *conn;
} RemoteFactory;

static HRESULT STDMETHODCALLTYPE rf_qi(IClassFactory *This, REFIID riid, void **ppv)
{
    if (!ppv)
        return E_POINTER;
    *ppv = NULL;
    if (!IsEqualIID(riid, &IID_IUnknown) && !IsEqualIID(riid, &IID_IClassFactory))
        return E_NOINTERFACE;
    *ppv = This;
    IClassFactory_AddRef(This);
    return S_OK;
}

static ULONG STDMETHODCALLTYPE rf_addref(IClassFactory *This)
{
    return (ULONG)atomic_fetch_add(&((RemoteFactory *)This)->refs, 1) + 1;
}

static ULONG STDMETHODCALLTYPE rf_release(IClassFactory *This)
{
    RemoteFactory *rf = (RemoteFactory *)This;
    long left = atomic_fetch_sub(&rf->refs, 1) - 1;
    if (left == 0) {
        amrt__conn_release(rf->conn);
        amrt__free(rf);
    }
    return (ULONG)left;
}

static HRESULT STDMETHODCALLTYPE rf_create(IClassFactory *This, IUnknown *outer, REFIID riid, void **ppv)
{
    RemoteFactory *rf = (RemoteFactory *)This;
    if (!ppv)
        return E_POINTER;
    *ppv = NULL;
    if (outer)
        return CLASS_E_NOAGGREGATION;
    return amrt__remote_create(rf->conn, &rf->clsid, riid, ppv);
}

static HRESULT STDMETHODCALLTYPE rf_lock(IClassFactory *This, BOOL lock)
{
    (void)This;
    (void)lock;
    return S_OK;
}

static const IClassFactoryVtbl rf_vtbl = { rf_qi, rf_addref, rf_release, rf_create, rf_lock };

/* CoCreateInstance / CoGetClassObject with CLSCTX_LOCAL_SERVER for a class
 * this process does not have (J1, J2). */
/* *again: the activation may start over: AGAIN_REVOKED, the server itself,
 * not the lookup, answered REGDB_E_CLASSNOTREG; AGAIN_ENDED, the server
 * started ended before this client reached it */
enum { AGAIN_NO, AGAIN_REVOKED, AGAIN_ENDED };
static HRESULT activate_once(const CLSID *clsid, const IID *iid, bool factory, void **ppv, int *again)
{
    char dir[96], name[37], link[160], exe[PATH_MAX];
    *ppv = NULL;
    int e = amrt__tp_rundir(dir, sizeof dir);
    if (e)
        return e == -EACCES ? E_ACCESSDENIED : REGDB_E_CLASSNOTREG;
    amrt__guid_text(clsid, name);
    snprintf(link, sizeof link, "%s/%s", dir, name);
    AmrtConn *c = NULL;
    HRESULT hr = amrt__conn_get(link, &c);
    if (hr == REGDB_E_CLASSNOTREG) {
        if (!class_file(name, exe, sizeof exe))
            return REGDB_E_CLASSNOTREG;
        pid_t pid = 0;
        if (spawn(exe, &pid) != 0)
            return CO_E_SERVER_EXEC_FAILURE;
        struct timespec deadline;
        amrt__deadline(&deadline, start_timeout_ms());
        char own[160];
        snprintf(own, sizeof own, "%s/server-%d.sock", dir, (int)pid);
        /* Ours first, at its own socket: two clients that found no server
         * start two, and the one that loses the race for the link serves
         * no link; a client that went to the winner would leave it waiting
         * for a client that never comes. The link, when ours has not
         * answered for 250 ms while the link does (a server that is not
         * the process started: a wrapper script), or when ours ended. */
        for (int link_polls = 0;;) {
            hr = amrt__conn_get(own, &c);
            if (hr != REGDB_E_CLASSNOTREG)
                break;
            bool ended = kill(pid, 0) != 0 && errno == ESRCH;
            if (ended || ++link_polls > 50) {
                hr = amrt__conn_get(link, &c);
                if (hr != REGDB_E_CLASSNOTREG)
                    break;
                link_polls = 0;
            }
            if (ended) {
                /* it ended without registering, or it registered, served
                 * another client that found its link first, and ended with
                 * that client's object before we looked */
                *again = AGAIN_ENDED;
                return CO_E_SERVER_EXEC_FAILURE;
            }
            if (amrt__ms_left(&deadline) == 0)
                return CO_E_SERVER_START_TIMEOUT;
            nanosleep(&(struct timespec){ 0, 5000000 }, NULL);
        }
    }
    if (FAILED(hr))
        return hr;
    if (!factory) {
        hr = amrt__remote_create(c, clsid, iid, ppv);
        amrt__conn_release(c);
        *again = hr == REGDB_E_CLASSNOTREG ? AGAIN_REVOKED : AGAIN_NO;
        return hr;
    }
    RemoteFactory *rf = amrt__calloc(sizeof *rf);
    if (!rf) {
        amrt__conn_release(c);
        return E_OUTOFMEMORY;
    }
    rf->cf.lpVtbl = (IClassFactoryVtbl *)&rf_vtbl;
    atomic_init(&rf->refs, 1);
    rf->clsid = *clsid;
    rf->conn = c;
    hr = rf_qi(&rf->cf, iid, ppv);
    rf_release(&rf->cf);
    return hr;
}

/* A server decides to end (its last object released) and revokes its class
 * while a second client activates: the client may reach it between the two
 * and hear "class not registered" from a process that is going away, or lose
 * the connection with the activation in flight. Neither means the class
 * cannot be had: the server's rendezvous link is gone or about to go, so the
 * activation starts over (a live server again, or a new one from the class
 * file), for as long as a server start may take. CoGetClassObject's
 * factory asks the server nothing until CreateInstance: one try. */
HRESULT amrt__activate(const CLSID *clsid, const IID *iid, bool factory, void **ppv)
{
    struct timespec deadline;
    amrt__deadline(&deadline, start_timeout_ms());
    for (int ended = 0;;) {
        int again = AGAIN_NO;
        HRESULT hr = activate_once(clsid, iid, factory, ppv, &again);
        bool going = hr == RPC_E_DISCONNECTED || hr == RPC_E_SERVER_DIED_DNE || hr == RPC_E_SERVER_DIED;
        /* CLASSNOTREG from the server (its class revoked) is retried; from
         * the lookup (no server, no class file) it is final. A server that
         * ended before we reached it is started again, three times at most
         * (one that cannot start stays CO_E_SERVER_EXEC_FAILURE) */
        if (again == AGAIN_ENDED && ++ended > 3)
            again = AGAIN_NO;
        if (!(going || again) || amrt__ms_left(&deadline) == 0)
            return hr;
        nanosleep(&(struct timespec){ 0, 2000000 }, NULL);
    }
}
