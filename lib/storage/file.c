/* File targets: each unit is written under a hidden temporary name beside
 * its final name and only renamed there once complete, so a reader of the
 * final name never sees half a capture. Rotation names each unit after its
 * index and first packet time, and the ring buffer deletes the oldest files
 * this target made. */
#include "storage/kind.h"
#include "storage/storage.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"

#define TEMP_RANDOM_CHARS 6
#define TEMP_ATTEMPTS 100

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

int pktcap__storage_file_init(pktcap_storage *st, const char *path)
{
    const char *base = base_name(path);
    if (!*path)
        return pktcap__error_set(PKTCAP_E_INVAL, "storage '%s': empty file name", st->name);
    if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
        return pktcap__error_set(PKTCAP_E_INVAL, "storage '%s': '%s' names a directory, not a file",
                                 st->name, path);
    st->file.path = pktcap__strdup(path);
    return st->file.path ? 0 : PKTCAP_E_NOMEM;
}

/* Not for secrecy: only to make name clashes between concurrent writers
 * unlikely; O_EXCL settles the rare clash. */
static uint64_t temp_random(void)
{
    static uint64_t counter;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    uint64_t x = (uint64_t)now.tv_nsec ^ ((uint64_t)now.tv_sec << 30) ^ ((uint64_t)getpid() << 12) ^
                 __atomic_add_fetch(&counter, 0x9E3779B97F4A7C15ULL, __ATOMIC_RELAXED);
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL; /* splitmix64 finaliser */
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

/* DIR/.NAME.XXXXXX.part, created with the mode a plain open() would give
 * (0666 less the umask), unlike mkstemp's 0600. */
static int create_temp(pktcap_storage *st)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    const char *path = st->file.path;
    size_t dir_len = (size_t)(base_name(path) - path);
    size_t size = strlen(path) + 2 + TEMP_RANDOM_CHARS + sizeof(".part");
    char *temp = pktcap__malloc(size);
    if (!temp)
        return PKTCAP_E_NOMEM;
    for (int attempt = 0; attempt < TEMP_ATTEMPTS; attempt++) {
        uint64_t r = temp_random();
        char suffix[TEMP_RANDOM_CHARS + 1];
        for (int i = 0; i < TEMP_RANDOM_CHARS; i++, r /= 62)
            suffix[i] = alphabet[r % 62];
        suffix[TEMP_RANDOM_CHARS] = '\0';
        snprintf(temp, size, "%.*s.%s.%s.part", (int)dir_len, path, path + dir_len, suffix);
        int fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0) {
            st->file.fd = fd;
            st->file.temp = temp;
            return 0;
        }
        if (errno != EEXIST) {
            int err = errno;
            int rc = pktcap__error_errno(pktcap__error_from_errno(err), err,
                                         "storage '%s': creating %s", st->name, temp);
            pktcap__free(temp);
            return rc;
        }
    }
    pktcap__free(temp);
    return pktcap__error_set(PKTCAP_E_IO, "storage '%s': no free temporary name beside %s after %d tries",
                             st->name, path, TEMP_ATTEMPTS);
}

/* A device or FIFO under the final name (/dev/null, /dev/stdout, a named
 * pipe) is written in place: renaming a file over it would replace the node
 * itself. Nothing can be taken back from it, as with a descriptor target. */
static int special_file(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && (S_ISCHR(sb.st_mode) || S_ISFIFO(sb.st_mode));
}

static int open_in_place(pktcap_storage *st)
{
    int fd = open(st->file.path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return pktcap__error_errno(pktcap__error_from_errno(errno), errno, "storage '%s': opening %s",
                                   st->name, st->file.path);
    st->file.fd = fd;
    st->file.in_place = 1;
    return 0;
}

static int file_begin(pktcap_storage *st)
{
    struct stat sb;
    int rotating = pktcap__storage_rotates(st);
    /* Checked early so a capture is not made only to be refused at close;
     * the final placement checks again, atomically. */
    if (!rotating && !st->overwrite && lstat(st->file.path, &sb) == 0)
        return pktcap__error_set(PKTCAP_E_EXISTS, "storage '%s': %s already exists (overwrite=false)",
                                 st->name, st->file.path);
    if (!rotating && special_file(st->file.path))
        return open_in_place(st);
    return create_temp(st);
}

static int file_write(pktcap_storage *st, const void *data, size_t size)
{
    return pktcap__storage_write_fd(st->file.fd, data, size,
                                    st->file.in_place ? st->file.path : st->file.temp);
}

static void drop_temp(pktcap_storage *st)
{
    if (st->file.fd >= 0)
        close(st->file.fd);
    st->file.fd = -1;
    st->file.in_place = 0;
    if (st->file.temp)
        unlink(st->file.temp);
    pktcap__free(st->file.temp);
    st->file.temp = NULL;
}

/* DIR/NAME.EXT → DIR/NAME_00001_YYYYMMDDhhmmss.EXT, as dumpcap names ring files. */
static int rotated_name(char **out, const pktcap_storage *st)
{
    const char *path = st->file.path;
    const char *base = base_name(path);
    const char *dot = strrchr(base, '.');
    size_t stem_len = dot && dot != base ? (size_t)(dot - path) : strlen(path);
    time_t t = (time_t)st->unit_sec;
    struct tm tm;
    char when[64];
    if (!gmtime_r(&t, &tm) || strftime(when, sizeof(when), "%Y%m%d%H%M%S", &tm) == 0)
        return pktcap__error_set(PKTCAP_E_INVAL, "storage '%s': time %lld cannot be written as a date",
                                 st->name, (long long)st->unit_sec);
    size_t size = strlen(path) + 32 + strlen(when);
    char *name = pktcap__malloc(size);
    if (!name)
        return PKTCAP_E_NOMEM;
    snprintf(name, size, "%.*s_%05zu_%s%s", (int)stem_len, path, st->file.done_count + 1, when,
             path + stem_len);
    *out = name;
    return 0;
}

/* Some file systems (FAT, some FUSE) have no hard links; there the check and
 * the rename are two steps, which is the best they allow. */
static int link_unsupported(int err)
{
    return err == EPERM || err == ENOTSUP || err == EOPNOTSUPP || err == ENOSYS || err == EMLINK;
}

/* Gives the temporary file its final name; with `keep_existing`, refuses
 * (PKTCAP_E_EXISTS) to replace a file already there. */
static int place(const pktcap_storage *st, const char *final, int keep_existing)
{
    const char *temp = st->file.temp;
    struct stat sb;
    if (keep_existing) {
        if (link(temp, final) == 0) {
            /* The capture is complete under its final name; a stray
             * temporary link would only cost space, so it is not an error. */
            unlink(temp);
            return 0;
        }
        int err = errno;
        if (err != EEXIST && !link_unsupported(err))
            return pktcap__error_errno(pktcap__error_from_errno(err), err,
                                       "storage '%s': linking %s to %s", st->name, temp, final);
        if (err == EEXIST || lstat(final, &sb) == 0)
            return pktcap__error_set(PKTCAP_E_EXISTS, "storage '%s': %s already exists (%s)", st->name,
                                     final, pktcap__storage_rotates(st)
                                                ? "rotated files never replace a file"
                                                : "overwrite=false");
    }
    if (rename(temp, final) != 0)
        return pktcap__error_errno(pktcap__error_from_errno(errno), errno,
                                   "storage '%s': renaming %s to %s", st->name, temp, final);
    return 0;
}

/* The directory holding `final`, for sync_directory. Made before the file
 * takes its final name, so that no allocation can fail after it did. */
static char *directory_of(const char *final)
{
    size_t dir_len = (size_t)(base_name(final) - final);
    return dir_len ? pktcap__strndup(final, dir_len) : pktcap__strdup(".");
}

/* A rename is durable only once its directory is synced. */
static int sync_directory(const pktcap_storage *st, const char *dir)
{
    int rc = 0;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0)
        rc = pktcap__error_errno(PKTCAP_E_IO, errno, "storage '%s': syncing directory %s", st->name, dir);
    if (fd >= 0)
        close(fd);
    return rc;
}

static int reserve_done_slot(pktcap_storage *st)
{
    struct storage_file *f = &st->file;
    char **done = pktcap__grow(f->done, &f->done_cap, f->done_count, sizeof(*done));
    if (!done)
        return PKTCAP_E_NOMEM;
    f->done = done;
    return 0;
}

/* Deleting an old ring file can fail (someone removed or locked it): the
 * capture itself is intact, so that never fails the write. */
static void trim_ring(pktcap_storage *st)
{
    struct storage_file *f = &st->file;
    if (st->rotate_files && f->done_count > st->rotate_files)
        unlink(f->done[f->done_count - st->rotate_files - 1]);
}

/* A unit written in place ends with its close: it has no name to take. */
static int commit_in_place(pktcap_storage *st)
{
    struct storage_file *f = &st->file;
    char *final = pktcap__strdup(f->path);
    int rc = final ? reserve_done_slot(st) : PKTCAP_E_NOMEM;
    /* Pipes and character devices cannot be synced; that is no failure. */
    if (rc == 0 && st->fsync && fsync(f->fd) != 0 && errno != EINVAL && errno != EROFS &&
        errno != ENOTSUP)
        rc = pktcap__error_errno(PKTCAP_E_IO, errno, "storage '%s': syncing %s", st->name, f->path);
    if (close(f->fd) != 0 && errno != EINTR && rc == 0)
        rc = pktcap__error_errno(PKTCAP_E_IO, errno, "storage '%s': closing %s", st->name, f->path);
    f->fd = -1;
    f->in_place = 0;
    if (rc != 0) {
        pktcap__free(final);
        return rc;
    }
    f->done[f->done_count++] = final;
    return 0;
}

static int file_commit(pktcap_storage *st)
{
    struct storage_file *f = &st->file;
    int rotating = pktcap__storage_rotates(st);
    char *final = NULL, *dir = NULL;
    int rc = 0;

    if (f->in_place)
        return commit_in_place(st);

    if (st->fsync && fsync(f->fd) != 0)
        rc = pktcap__error_errno(PKTCAP_E_IO, errno, "storage '%s': syncing %s", st->name, f->temp);
    /* close() reports deferred write errors on network file systems. */
    if (close(f->fd) != 0 && errno != EINTR && rc == 0)
        rc = pktcap__error_errno(PKTCAP_E_IO, errno, "storage '%s': closing %s", st->name, f->temp);
    f->fd = -1;
    if (rc == 0)
        rc = rotating ? rotated_name(&final, st)
                      : ((final = pktcap__strdup(f->path)) ? 0 : PKTCAP_E_NOMEM);
    if (rc == 0)
        rc = reserve_done_slot(st);
    if (rc == 0 && st->fsync && !(dir = directory_of(final)))
        rc = PKTCAP_E_NOMEM;
    if (rc == 0)
        rc = place(st, final, rotating || !st->overwrite);
    if (rc != 0) {
        pktcap__free(final);
        pktcap__free(dir);
        drop_temp(st);
        return rc;
    }
    f->done[f->done_count++] = final;
    pktcap__free(f->temp);
    f->temp = NULL;
    trim_ring(st);
    rc = dir ? sync_directory(st, dir) : 0;
    pktcap__free(dir);
    return rc;
}

static void file_free(pktcap_storage *st)
{
    for (size_t i = 0; i < st->file.done_count; i++)
        pktcap__free(st->file.done[i]);
    pktcap__free(st->file.done);
    pktcap__free(st->file.path);
}

const struct storage_kind pktcap__storage_file_kind = {
    .what = "a file target",
    .options = STORAGE_OPT_FORMAT | STORAGE_OPT_ROTATE_BYTES | STORAGE_OPT_ROTATE_SECONDS |
               STORAGE_OPT_ROTATE_FILES | STORAGE_OPT_OVERWRITE | STORAGE_OPT_FSYNC,
    .begin = file_begin,
    .write = file_write,
    .commit = file_commit,
    .abort = drop_temp,
    .free = file_free,
};
