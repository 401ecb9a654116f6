/* Remote targets: a blob container or a bucket that a provider writes to
 * (azblob://, s3://, gs://, r2://). libpktcap never writes to them itself: a
 * producer's claim is refused, and the provider reads the parsed URI —
 * account or bucket, path, and every query parameter, which only the
 * provider knows how to interpret (storage_id, region, …). */
#include "storage/kind.h"
#include "storage/storage.h"

#include <string.h>

#include "core/alloc.h"
#include "core/error.h"

static const char *const remote_schemes[] = { "azblob", "s3", "gs", "r2" };

int pktcap__storage_is_remote_scheme(const char *scheme)
{
    size_t i;
    for (i = 0; scheme && i < sizeof remote_schemes / sizeof remote_schemes[0]; i++)
        if (strcmp(scheme, remote_schemes[i]) == 0)
            return 1;
    return 0;
}

static void remote_free(pktcap_storage *st)
{
    if (st->remote) {
        pktcap__uri_clear(st->remote);
        pktcap__free(st->remote);
        st->remote = NULL;
    }
}

const struct storage_kind pktcap__storage_remote_kind = {
    .what = "a remote target",
    .options = 0,
    .free = remote_free,
};

int pktcap__storage_remote_init(pktcap_storage *st, const char *text)
{
    pktcap__uri *u = pktcap__calloc(1, sizeof *u);
    int rc;
    if (!u)
        return PKTCAP_E_NOMEM;
    if ((rc = pktcap__uri_parse(u, text)) < 0) {
        pktcap__free(u);
        return rc;
    }
    st->remote = u;
    if (!u->authority || !u->authority[0])
        return pktcap__error_set(PKTCAP_E_INVAL, "storage '%s': name the %s after the "
                                 "slashes (%s://NAME/…)", text,
                                 strcmp(u->scheme, "azblob") == 0 ? "storage account" : "bucket",
                                 u->scheme);
    if (strcmp(u->scheme, "azblob") == 0 && (u->path[0] != '/' || !u->path[1]))
        return pktcap__error_set(PKTCAP_E_INVAL, "storage '%s': an azblob target names a "
                                 "container: azblob://ACCOUNT/CONTAINER[/PATH]", text);
    return 0;
}

/* A provider setting read from the target: replaces or adds a parameter. */
int pktcap__storage_remote_set(pktcap_storage *st, const char *key, const char *value)
{
    pktcap__uri *u = st->remote;
    struct pktcap__uri_param *params;
    char *k, *v;
    size_t i, cap = u->param_count;
    for (i = 0; i < u->param_count; i++) {
        if (strcmp(u->params[i].key, key) == 0) {
            if (!(v = pktcap__strdup(value)))
                return PKTCAP_E_NOMEM;
            pktcap__free(u->params[i].value);
            u->params[i].value = v;
            return 0;
        }
    }
    params = pktcap__reallocarray(u->params, cap + 1, sizeof *params);
    if (!params)
        return PKTCAP_E_NOMEM;
    u->params = params;
    k = pktcap__strdup(key);
    v = pktcap__strdup(value);
    if (!k || !v) {
        pktcap__free(k);
        pktcap__free(v);
        return PKTCAP_E_NOMEM;
    }
    params[u->param_count].key = k;
    params[u->param_count].value = v;
    u->param_count++;
    return 0;
}

const pktcap__uri *pktcap__storage_remote(const pktcap_storage *st)
{
    return st && st->kind == &pktcap__storage_remote_kind ? st->remote : NULL;
}
