/* provider.c — pktcap_provider: opening by URI, options, capabilities,
 * listing sessions and targets. The backends are in lib/backends/. */
#include "backends/backend.h"

#include <string.h>

#include "core/alloc.h"
#include "core/error.h"

static const pktcap__backend *const backends[] = {
    &pktcap__backend_local,
    &pktcap__backend_azure,
    &pktcap__backend_cloudflare,
    &pktcap__backend_sdwan,
};
#define NBACKENDS (sizeof backends / sizeof backends[0])

static int unknown_scheme(const char *scheme)
{
    char names[128] = "";
    size_t i;
    for (i = 0; i < NBACKENDS; i++) {
        if (i)
            strncat(names, ", ", sizeof names - strlen(names) - 1);
        strncat(names, backends[i]->kind, sizeof names - strlen(names) - 1);
        strncat(names, ":", sizeof names - strlen(names) - 1);
    }
    return pktcap__error_set(PKTCAP_E_NOTSUP, "unsupported provider %s%.40s%s (supported: %s)",
                             scheme ? "scheme \"" : "URI without a scheme",
                             scheme ? scheme : "", scheme ? ":\"" : "", names);
}

PKTCAP_API int pktcap_provider_open(pktcap_provider **out, const char *uri)
{
    pktcap__uri u;
    const pktcap__backend *be = NULL;
    pktcap_provider *p;
    size_t i;
    int rc;
    if (!out || !uri)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_provider_open: %s is NULL",
                                 out ? "uri" : "out");
    if ((rc = pktcap__uri_parse(&u, uri)) < 0)
        return rc;
    for (i = 0; i < NBACKENDS && u.scheme; i++)
        if (strcmp(u.scheme, backends[i]->kind) == 0)
            be = backends[i];
    if (!be) {
        rc = unknown_scheme(u.scheme);
        pktcap__uri_clear(&u);
        return rc;
    }
    p = pktcap__calloc(1, sizeof *p);
    if (!p || !(p->uri = pktcap__strdup(uri))) {
        pktcap__free(p);
        pktcap__uri_clear(&u);
        return PKTCAP_E_NOMEM;
    }
    p->backend = be;
    pthread_mutex_init(&p->lock, NULL);
    rc = be->provider_open(p, &u);
    for (i = 0; rc == 0 && i < u.param_count; i++)
        rc = pktcap_provider_set(p, u.params[i].key, u.params[i].value);
    pktcap__uri_clear(&u);
    if (rc < 0) {
        pktcap_provider_close(p);
        return rc;
    }
    *out = p;
    return 0;
}

PKTCAP_API int pktcap_provider_set(pktcap_provider *p, const char *key, const char *value)
{
    if (!p || !key || !value)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_provider_set: %s is NULL",
                                 !p ? "provider" : !key ? "key" : "value");
    if (!p->backend->provider_set)
        return pktcap__error_set(PKTCAP_E_INVAL, "unknown %s provider option \"%s\" "
                                 "(it has none)", p->backend->kind, key);
    return p->backend->provider_set(p, key, value);
}

PKTCAP_API int pktcap_provider_call(char **result, pktcap_provider *p, const char *operation,
                                    const char *arguments)
{
    char *text = NULL;
    int rc;
    if (!result || !p || !operation)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_provider_call: %s is NULL",
                                 !result ? "result" : !p ? "provider" : "operation");
    if (!p->backend->call)
        return pktcap__error_set(PKTCAP_E_NOTSUP, "the %s provider has no operation \"%s\" "
                                 "(it has none)", p->backend->kind, operation);
    if ((rc = p->backend->call(p, operation, arguments ? arguments : "{}", &text)) < 0)
        return rc;
    *result = text;
    return 0;
}

PKTCAP_API int pktcap_provider_set_log_callback(pktcap_provider *p, int level, pktcap_log_cb cb,
                                                void *userdata)
{
    if (!p)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_provider_set_log_callback: provider is NULL");
    if (level < PKTCAP_LOG_ERROR || level > PKTCAP_LOG_DEBUG)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_provider_set_log_callback: level %d is "
                                 "not a pktcap_log_level_t (0 error … 3 debug)", level);
    p->log.cb = cb;
    p->log.userdata = userdata;
    p->log.level = level;
    return 0;
}

PKTCAP_API uint32_t pktcap_provider_caps(const pktcap_provider *p)
{
    return p ? p->backend->caps : 0;
}

PKTCAP_API const char *pktcap_provider_kind(const pktcap_provider *p)
{
    return p ? p->backend->kind : NULL;
}

PKTCAP_API void pktcap_provider_close(pktcap_provider *p)
{
    if (!p)
        return;
    if (p->backend->provider_close)
        p->backend->provider_close(p);
    pthread_mutex_destroy(&p->lock);
    pktcap__free(p->uri);
    pktcap__free(p);
}

/* ---- session lists ------------------------------------------------------- */

int pktcap__session_list_add(pktcap_session_list *l, const char *name, const char *id,
                             int state, const char *native_status)
{
    struct pktcap__session_entry *e, *items;
    items = pktcap__grow(l->items, &l->cap, l->n, sizeof *items);
    if (!items)
        return PKTCAP_E_NOMEM;
    l->items = items;
    e = &items[l->n];
    e->name = pktcap__strdup(name ? name : "");
    e->id = pktcap__strdup(id ? id : "");
    e->native_status = pktcap__strdup(native_status ? native_status : "");
    e->state = state;
    if (!e->name || !e->id || !e->native_status) {
        pktcap__free(e->name);
        pktcap__free(e->id);
        pktcap__free(e->native_status);
        return PKTCAP_E_NOMEM;
    }
    l->n++;
    return 0;
}

PKTCAP_API void pktcap_session_list_free(pktcap_session_list *l)
{
    size_t i;
    if (!l)
        return;
    for (i = 0; i < l->n; i++) {
        pktcap__free(l->items[i].name);
        pktcap__free(l->items[i].id);
        pktcap__free(l->items[i].native_status);
    }
    pktcap__free(l->items);
    pktcap__free(l);
}

/* The handles this provider object made (what the local provider lists). */
static int list_handles(pktcap_provider *p, pktcap_session_list *l)
{
    pktcap_session *s;
    int rc = 0;
    pthread_mutex_lock(&p->lock);
    for (s = p->sessions; s && rc == 0; s = s->next)
        rc = pktcap__session_list_add(l, s->name, s->id, pktcap_session_state(s),
                                      pktcap_session_native_status(s));
    pthread_mutex_unlock(&p->lock);
    return rc;
}

PKTCAP_API int pktcap_provider_list_sessions(pktcap_session_list **out, pktcap_provider *p)
{
    pktcap_session_list *l;
    int rc;
    if (!out || !p)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_provider_list_sessions: %s is NULL",
                                 out ? "provider" : "out");
    if (!(p->backend->caps & PKTCAP_CAP_LIST))
        return pktcap__error_set(PKTCAP_E_NOTSUP, "the %s provider cannot list sessions",
                                 p->backend->kind);
    l = pktcap__calloc(1, sizeof *l);
    if (!l)
        return PKTCAP_E_NOMEM;
    rc = p->backend->list_sessions ? p->backend->list_sessions(p, l) : list_handles(p, l);
    if (rc < 0) {
        pktcap_session_list_free(l);
        return rc;
    }
    *out = l;
    return 0;
}

PKTCAP_API size_t pktcap_session_list_count(const pktcap_session_list *l)
{
    return l ? l->n : 0;
}

#define LIST_GET(list, index, member, fallback) \
    ((list) && (index) < (list)->n ? (list)->items[index].member : (fallback))

PKTCAP_API const char *pktcap_session_list_name(const pktcap_session_list *l, size_t i)
{
    return LIST_GET(l, i, name, NULL);
}

PKTCAP_API const char *pktcap_session_list_id(const pktcap_session_list *l, size_t i)
{
    return LIST_GET(l, i, id, NULL);
}

PKTCAP_API int pktcap_session_list_state(const pktcap_session_list *l, size_t i)
{
    return LIST_GET(l, i, state, PKTCAP_E_INVAL);
}

PKTCAP_API const char *pktcap_session_list_native_status(const pktcap_session_list *l, size_t i)
{
    return LIST_GET(l, i, native_status, NULL);
}

/* ---- target lists -------------------------------------------------------- */

int pktcap__target_list_add(pktcap_target_list *l, const char *name, const char *description,
                            uint32_t flags)
{
    struct pktcap__target_entry *e, *items;
    items = pktcap__grow(l->items, &l->cap, l->n, sizeof *items);
    if (!items)
        return PKTCAP_E_NOMEM;
    l->items = items;
    e = &items[l->n];
    e->name = pktcap__strdup(name);
    e->description = pktcap__strdup(description ? description : "");
    e->flags = flags;
    if (!e->name || !e->description) {
        pktcap__free(e->name);
        pktcap__free(e->description);
        return PKTCAP_E_NOMEM;
    }
    l->n++;
    return 0;
}

PKTCAP_API int pktcap_provider_list_targets(pktcap_target_list **out, pktcap_provider *p)
{
    pktcap_target_list *l;
    int rc;
    if (!out || !p)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_provider_list_targets: %s is NULL",
                                 out ? "provider" : "out");
    if (!p->backend->list_targets)
        return pktcap__error_set(PKTCAP_E_NOTSUP, "the %s provider cannot list its targets",
                                 p->backend->kind);
    l = pktcap__calloc(1, sizeof *l);
    if (!l)
        return PKTCAP_E_NOMEM;
    if ((rc = p->backend->list_targets(p, l)) < 0) {
        pktcap_target_list_free(l);
        return rc;
    }
    *out = l;
    return 0;
}

PKTCAP_API size_t pktcap_target_list_count(const pktcap_target_list *l)
{
    return l ? l->n : 0;
}

PKTCAP_API const char *pktcap_target_list_name(const pktcap_target_list *l, size_t i)
{
    return LIST_GET(l, i, name, NULL);
}

PKTCAP_API const char *pktcap_target_list_description(const pktcap_target_list *l, size_t i)
{
    return LIST_GET(l, i, description, NULL);
}

PKTCAP_API uint32_t pktcap_target_list_flags(const pktcap_target_list *l, size_t i)
{
    return LIST_GET(l, i, flags, 0);
}

PKTCAP_API void pktcap_target_list_free(pktcap_target_list *l)
{
    size_t i;
    if (!l)
        return;
    for (i = 0; i < l->n; i++) {
        pktcap__free(l->items[i].name);
        pktcap__free(l->items[i].description);
    }
    pktcap__free(l->items);
    pktcap__free(l);
}
