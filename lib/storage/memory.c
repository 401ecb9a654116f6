/* The `mem:` target: one growing buffer holding the current (or last
 * committed) capture. A new unit replaces the old bytes and an aborted one
 * leaves the buffer empty, as a file target would leave no file. */
#include "storage/kind.h"

#include <stdint.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"

#define MEMORY_MIN_CAPACITY 4096

static int memory_begin(pktcap_storage *st)
{
    st->mem.size = 0;
    return 0;
}

/* Doubling keeps appends amortised O(1); the checks refuse sizes that would
 * wrap rather than allocate a short buffer. */
static int memory_grow(pktcap_storage *st, size_t need)
{
    size_t cap = st->mem.cap ? st->mem.cap : MEMORY_MIN_CAPACITY;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    uint8_t *data = pktcap__realloc(st->mem.data, cap);
    if (!data)
        return PKTCAP_E_NOMEM;
    st->mem.data = data;
    st->mem.cap = cap;
    return 0;
}

static int memory_write(pktcap_storage *st, const void *data, size_t size)
{
    if (size > SIZE_MAX - st->mem.size)
        return pktcap__error_set(PKTCAP_E_LIMIT, "storage '%s': %zu more bytes do not fit in memory",
                                 st->name, size);
    size_t need = st->mem.size + size;
    if (need > st->mem.cap) {
        int rc = memory_grow(st, need);
        if (rc != 0)
            return rc;
    }
    memcpy(st->mem.data + st->mem.size, data, size);
    st->mem.size = need;
    return 0;
}

static void memory_abort(pktcap_storage *st)
{
    st->mem.size = 0;
}

static void memory_free(pktcap_storage *st)
{
    pktcap__free(st->mem.data);
}

const struct storage_kind pktcap__storage_memory_kind = {
    .what = "a memory target",
    .options = STORAGE_OPT_FORMAT,
    .begin = memory_begin,
    .write = memory_write,
    .abort = memory_abort,
    .free = memory_free,
};
