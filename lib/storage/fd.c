/* Descriptor targets (`-`, `fd:N`): bytes go straight to a descriptor the
 * caller owns; it is never closed here. A descriptor cannot take bytes back,
 * so abort leaves what was written. */
#include "storage/kind.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "core/error.h"

int pktcap__storage_write_fd(int fd, const void *data, size_t size, const char *what)
{
    const char *p = data;
    while (size > 0) {
        ssize_t n = write(fd, p, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return pktcap__error_errno(PKTCAP_E_IO, errno, "writing %s", what);
        if (n == 0)
            return pktcap__error_set(PKTCAP_E_IO, "writing %s: the system wrote 0 of %zu bytes",
                                     what, size);
        p += n;
        size -= (size_t)n;
    }
    return 0;
}

int pktcap__storage_fd_init(pktcap_storage *st, int fd)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0)
        return pktcap__error_errno(PKTCAP_E_INVAL, errno, "storage '%s': descriptor %d", st->name, fd);
    if ((flags & O_ACCMODE) == O_RDONLY)
        return pktcap__error_set(PKTCAP_E_INVAL, "storage '%s': descriptor %d is open read-only",
                                 st->name, fd);
    st->fd = fd;
    return 0;
}

static int fd_write(pktcap_storage *st, const void *data, size_t size)
{
    return pktcap__storage_write_fd(st->fd, data, size, st->name);
}

static int fd_commit(pktcap_storage *st)
{
    /* Pipes, terminals and character devices cannot be synced; that is not
     * a failure of the capture. */
    if (st->fsync && fsync(st->fd) != 0 && errno != EINVAL && errno != EROFS && errno != ENOTSUP)
        return pktcap__error_errno(PKTCAP_E_IO, errno, "syncing %s", st->name);
    return 0;
}

const struct storage_kind pktcap__storage_fd_kind = {
    .what = "a descriptor target",
    .options = STORAGE_OPT_FORMAT | STORAGE_OPT_FSYNC,
    .write = fd_write,
    .commit = fd_commit,
};
