/*
 * transport_unix.c - the UNIX-domain socket transport (transport.h).
 *
 * The rendezvous directory: $AMIDL_RUNDIR when set (the user vouches for
 * it: it is created 0700 when missing, used as it is otherwise), else
 * $XDG_RUNTIME_DIR/amidl, else /tmp/amidl-$UID. Those two are created with
 * mode 0700 and must be directories owned by the user with no group or
 * other permission bits: anything else is refused (EACCES), since a
 * directory another user can write would let that user pose as a server.
 */
#include "transport.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int make_dir(const char *path, bool strict)
{
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return -errno;
    struct stat st;
    if (lstat(path, &st) != 0)
        return -errno;
    if (!S_ISDIR(st.st_mode))
        return -ENOTDIR;
    if (strict && (st.st_uid != getuid() || (st.st_mode & 077)))
        return -EACCES;
    return 0;
}

int amrt__tp_rundir(char *buf, size_t len)
{
    const char *own = getenv("AMIDL_RUNDIR");
    if (own && *own) {
        if ((size_t)snprintf(buf, len, "%s", own) >= len)
            return -ENAMETOOLONG;
        return make_dir(buf, false);
    }
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    int n;
    if (xdg && *xdg && access(xdg, W_OK | X_OK) == 0)
        n = snprintf(buf, len, "%s/amidl", xdg);
    else
        n = snprintf(buf, len, "/tmp/amidl-%u", (unsigned)getuid());
    if (n < 0 || (size_t)n >= len)
        return -ENAMETOOLONG;
    return make_dir(buf, true);
}

static int fill_addr(struct sockaddr_un *a, const char *path)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof a->sun_path)
        return -ENAMETOOLONG;
    strcpy(a->sun_path, path);
    return 0;
}

int amrt__tp_listen(const char *path)
{
    struct sockaddr_un a;
    int e = fill_addr(&a, path);
    if (e)
        return e;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    unlink(path);                       /* a stale socket of a dead process of ours */
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 128) != 0) {
        e = -errno;
        close(fd);
        return e;
    }
    return fd;
}

int amrt__tp_accept(int lfd)
{
    int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int amrt__tp_connect(const char *path)
{
    struct sockaddr_un a;
    int e = fill_addr(&a, path);
    if (e)
        return e;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    while (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (errno == EINTR)
            continue;
        e = -errno;
        close(fd);
        return e;
    }
    return fd;
}

int amrt__tp_peer(int fd, AmrtPeer *peer)
{
    struct ucred uc;
    socklen_t n = sizeof uc;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &n) != 0)
        return -errno;
    peer->uid = uc.uid;
    peer->gid = uc.gid;
    peer->pid = uc.pid;
    return 0;
}

enum { MAX_FDS = 16 };

ssize_t amrt__tp_send_some(int fd, const void *data, size_t len)
{
    ssize_t n;
    do
        n = send(fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
    return n;
}

int amrt__tp_send(int fd, const void *head, size_t hlen, const void *body, size_t blen, const int *fds, int nfds)
{
    struct iovec iov[2], *v = iov;
    int niov = 0;
    if (hlen)
        iov[niov++] = (struct iovec){ (void *)head, hlen };
    if (blen)
        iov[niov++] = (struct iovec){ (void *)body, blen };
    if (nfds > MAX_FDS || nfds < 0)
        return -EINVAL;
    union {
        char buf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
        struct cmsghdr align;
    } ctl;
    bool first = true;
    while (niov > 0) {
        struct msghdr mh = { 0 };
        mh.msg_iov = v;
        mh.msg_iovlen = (size_t)niov;
        if (first && nfds > 0) {
            memset(&ctl, 0, sizeof ctl);
            mh.msg_control = ctl.buf;
            mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
            struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
            cm->cmsg_level = SOL_SOCKET;
            cm->cmsg_type = SCM_RIGHTS;
            cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
            memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)nfds);
        }
        ssize_t n = sendmsg(fd, &mh, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        first = false;
        size_t left = (size_t)n;
        while (left && niov) {
            if (left >= v->iov_len) {
                left -= v->iov_len;
                v++;
                niov--;
            } else {
                v->iov_base = (char *)v->iov_base + left;
                v->iov_len -= left;
                left = 0;
            }
        }
    }
    return 0;
}

ssize_t amrt__tp_recv(int fd, void *buf, size_t len, int *fds, int *nfds, int maxfds)
{
    union {
        char buf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
        struct cmsghdr align;
    } ctl;
    struct iovec iov = { buf, len };
    struct msghdr mh = { 0 };
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = ctl.buf;
    mh.msg_controllen = sizeof ctl.buf;
    ssize_t n;
    do
        n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
            continue;
        int k = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        int got[MAX_FDS];
        memcpy(got, CMSG_DATA(cm), sizeof(int) * (size_t)(k < MAX_FDS ? k : MAX_FDS));
        for (int i = 0; i < k && i < MAX_FDS; i++) {
            if (fds && *nfds < maxfds)
                fds[(*nfds)++] = got[i];
            else
                close(got[i]);          /* more than expected: not ours to keep */
        }
    }
    return n;
}

void amrt__tp_close(int fd)
{
    if (fd >= 0)
        close(fd);
}
