/*
 * transport.h - the one small interface between libamidlrt's remoting and
 * the bytes' carrier (docs/remoting.md). A transport moves whole messages,
 * each a header and a body, with optional descriptors (SCM_RIGHTS), in
 * order, between two endpoints; it tells who the peer is. The UNIX-domain
 * socket (transport_unix.c) is the first and only implementation; a
 * cross-machine one would provide the same five functions.
 */
#ifndef AMRT_TRANSPORT_H
#define AMRT_TRANSPORT_H

#include <stddef.h>
#include <stdbool.h>
#include <sys/types.h>

typedef struct AmrtPeer {
    uid_t uid;
    gid_t gid;
    pid_t pid;
} AmrtPeer;

/* The rendezvous directory (private to the user), created if missing and
 * checked: 0 and its path in buf, or -errno (EACCES: not private). */
int amrt__tp_rundir(char *buf, size_t len);

/* Listen at path (replaced if stale): a descriptor, or -errno. */
int amrt__tp_listen(const char *path);
/* Accept one connection (non-blocking listener): a descriptor or -errno. */
int amrt__tp_accept(int lfd);
/* Connect to path: a descriptor, or -errno (ENOENT, ECONNREFUSED: nobody serves there). */
int amrt__tp_connect(const char *path);
/* The credentials of the peer of fd. */
int amrt__tp_peer(int fd, AmrtPeer *peer);

/* Send one message: hlen bytes of head, blen of body, nfds descriptors
 * (duplicated to the peer). 0 or -errno. Whole or nothing for the caller:
 * a short write of a blocking socket continues until done or error. */
int amrt__tp_send(int fd, const void *head, size_t hlen, const void *body, size_t blen, const int *fds, int nfds);
/* Send what goes without waiting (no descriptors): the bytes sent (0:
 * the socket is full), or -errno. */
ssize_t amrt__tp_send_some(int fd, const void *data, size_t len);
/* Receive what is there (non-blocking): bytes read, 0 at end of stream,
 * -EAGAIN when nothing is ready, -errno on error. Descriptors that came
 * with the bytes are appended to fds (up to *nfds), *nfds updated. */
ssize_t amrt__tp_recv(int fd, void *buf, size_t len, int *fds, int *nfds, int maxfds);
void amrt__tp_close(int fd);

#endif
