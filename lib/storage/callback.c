/* Callback targets: every chunk goes to the user's function, and a final
 * (NULL, 0) call tells it the stream is complete. An aborted stream gets no
 * final call, which is how the callback learns it must discard what it got. */
#include "storage/kind.h"

#include "core/error.h"

static int callback_failed(int rc)
{
    if (rc < 0)
        return pktcap__error_set(rc, "storage callback failed with %s (%d)", pktcap_error_name(rc), rc);
    return pktcap__error_set(PKTCAP_E_INVAL,
                             "storage callback returned %d; it must return 0 or a negative "
                             "PKTCAP_E_* code", rc);
}

static int callback_write(pktcap_storage *st, const void *data, size_t size)
{
    int rc = st->cb.fn(data, size, st->cb.userdata);
    return rc == 0 ? 0 : callback_failed(rc);
}

static int callback_commit(pktcap_storage *st)
{
    int rc = st->cb.fn(NULL, 0, st->cb.userdata);
    return rc == 0 ? 0 : callback_failed(rc);
}

const struct storage_kind pktcap__storage_callback_kind = {
    .what = "a callback target",
    .options = STORAGE_OPT_FORMAT,
    .write = callback_write,
    .commit = callback_commit,
};
