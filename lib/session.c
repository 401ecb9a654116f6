/* session.c — pktcap_session: settings, the portable state machine, waiting,
 * cancelling, callbacks and statistics. Which operation is allowed in which
 * state is decided here, once, for every backend:
 *
 *   operation        allowed in                     then
 *   set_*            NEW                            —
 *   start            NEW                            PENDING or RUNNING (backend), FAILED on error
 *   refresh          any but NEW                    whatever the provider says
 *   wait             any but NEW                    returns at a terminal state
 *   stop             PENDING, RUNNING               STOPPING → STOPPED
 *   delete           NEW (nothing to delete remotely is fine), COMPLETE, STOPPED, FAILED
 *   fetch            COMPLETE, STOPPED
 *
 * Terminal states (COMPLETE, STOPPED, FAILED) never change again. */
#include "backends/backend.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "core/alloc.h"
#include "core/error.h"

#define NAME_MAX_LEN 80

static const char *const state_names[] = {
    "NEW", "PENDING", "RUNNING", "STOPPING", "PROCESSING", "COMPLETE", "STOPPED", "FAILED"
};

PKTCAP_API const char *pktcap_state_name(int state)
{
    if (state >= 0 && state < (int)(sizeof state_names / sizeof state_names[0]))
        return state_names[state];
    return "UNKNOWN";
}

static int is_terminal(int state)
{
    return state == PKTCAP_STATE_COMPLETE || state == PKTCAP_STATE_STOPPED ||
           state == PKTCAP_STATE_FAILED;
}

int64_t pktcap__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- construction -------------------------------------------------------- */

static int check_name(const char *name)
{
    size_t i, n = strlen(name);
    if (n == 0 || n > NAME_MAX_LEN)
        return pktcap__error_set(PKTCAP_E_INVAL, "session name \"%.100s\" must be 1-%d "
                                 "characters long", name, NAME_MAX_LEN);
    for (i = 0; i < n; i++) {
        char c = name[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || (c != '-' && c != '_' && c != '.')))
            return pktcap__error_set(PKTCAP_E_INVAL, "session name \"%.100s\": character %zu "
                                     "('%c') is not allowed (letters, digits, '-', '_', '.'; "
                                     "the first a letter or digit)", name, i + 1,
                                     (c >= 32 && c < 127) ? c : '?');
    }
    return 0;
}

static pktcap_session *session_alloc(pktcap_provider *p)
{
    pktcap_session *s = pktcap__calloc(1, sizeof *s);
    pthread_condattr_t attr;
    if (!s)
        return NULL;
    s->provider = p;
    s->state = PKTCAP_STATE_NEW;
    s->group_fd = -1;
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&s->changed, &attr);
    pthread_condattr_destroy(&attr);
    return s;
}

static void session_register(pktcap_session *s)
{
    pktcap_provider *p = s->provider;
    pthread_mutex_lock(&p->lock);
    s->next = p->sessions;
    p->sessions = s;
    pthread_mutex_unlock(&p->lock);
}

static void session_unregister(pktcap_session *s)
{
    pktcap_provider *p = s->provider;
    pktcap_session **pp;
    pthread_mutex_lock(&p->lock);
    for (pp = &p->sessions; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    pthread_mutex_unlock(&p->lock);
}

static void session_destroy(pktcap_session *s)
{
    size_t i;
    for (i = 0; i < s->noptions; i++) {
        pktcap__free(s->options[i].key);
        pktcap__free(s->options[i].value);
    }
    pktcap__free(s->options);
    pktcap_filter_free(s->filter);
    pktcap__free(s->target);
    pktcap__free(s->name);
    pktcap__free(s->id);
    pktcap__free(s->details);
    pktcap__free(s->summaries);
    pthread_cond_destroy(&s->changed);
    pthread_mutex_destroy(&s->lock);
    pktcap__free(s);
}

PKTCAP_API int pktcap_session_new(pktcap_session **out, pktcap_provider *p, const char *name)
{
    pktcap_session *s;
    char generated[64];
    int rc;
    if (!out || !p)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_session_new: %s is NULL",
                                 out ? "provider" : "out");
    if (!name) {
        time_t now = time(NULL);
        struct tm tm;
        unsigned long serial;
        gmtime_r(&now, &tm);
        pthread_mutex_lock(&p->lock);
        serial = ++p->next_serial;
        pthread_mutex_unlock(&p->lock);
        snprintf(generated, sizeof generated, "pktcap-%04d%02d%02d-%02d%02d%02d-%lu",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                 tm.tm_sec, serial);
        name = generated;
    }
    if ((rc = check_name(name)) < 0)
        return rc;
    s = session_alloc(p);
    if (!s)
        return PKTCAP_E_NOMEM;
    s->name = pktcap__strdup(name);
    s->id = pktcap__strdup("");
    if (!s->name || !s->id) {
        session_destroy(s);
        return PKTCAP_E_NOMEM;
    }
    session_register(s);
    *out = s;
    return 0;
}

PKTCAP_API int pktcap_session_open(pktcap_session **out, pktcap_provider *p, const char *id)
{
    pktcap_session *s;
    int rc;
    if (!out || !p || !id)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_session_open: %s is NULL",
                                 !out ? "out" : !p ? "provider" : "id");
    if (!(p->backend->caps & PKTCAP_CAP_OPEN) || !p->backend->session_open)
        return pktcap__error_set(PKTCAP_E_NOTSUP, "the %s provider cannot open sessions made "
                                 "elsewhere (its sessions live only in the handle that made "
                                 "them)", p->backend->kind);
    s = session_alloc(p);
    if (!s)
        return PKTCAP_E_NOMEM;
    s->name = pktcap__strdup(id);
    s->id = pktcap__strdup(id);
    if (!s->name || !s->id) {
        session_destroy(s);
        return PKTCAP_E_NOMEM;
    }
    /* The backend fills name, id, settings and state from the provider. */
    if ((rc = p->backend->session_open(s, id)) < 0) {
        if (p->backend->session_free)
            p->backend->session_free(s);
        session_destroy(s);
        return rc;
    }
    session_register(s);
    *out = s;
    return 0;
}

PKTCAP_API void pktcap_session_free(pktcap_session *s)
{
    if (!s)
        return;
    if (s->provider->backend->session_free)
        s->provider->backend->session_free(s);
    session_unregister(s);
    session_destroy(s);
}

/* ---- state --------------------------------------------------------------- */

static int current_state(const pktcap_session *s)
{
    int state;
    pthread_mutex_lock((pthread_mutex_t *)&s->lock);
    state = s->state;
    pthread_mutex_unlock((pthread_mutex_t *)&s->lock);
    return state;
}

/* PKTCAP_E_STATE naming the session, its state and what the operation needs. */
static int wrong_state(const pktcap_session *s, const char *operation, int state,
                       const char *allowed)
{
    return pktcap__error_set(PKTCAP_E_STATE, "cannot %s session \"%s\" in state %s (allowed "
                             "in %s)", operation, s->name, pktcap_state_name(state), allowed);
}

static int require_new(const pktcap_session *s, const char *operation)
{
    int state = current_state(s);
    return state == PKTCAP_STATE_NEW ? 0 : wrong_state(s, operation, state, "NEW");
}

static void copy_text(char *dst, size_t size, const char *src)
{
    if (src)
        snprintf(dst, size, "%s", src);
}

void pktcap__session_set_state(pktcap_session *s, int state, const char *native_status,
                               const char *text)
{
    pktcap_state_cb cb;
    void *userdata;
    int changed = 0;
    pthread_mutex_lock(&s->lock);
    if (!is_terminal(s->state)) {
        copy_text(s->native_status, sizeof s->native_status, native_status);
        if (text)
            copy_text(state == PKTCAP_STATE_FAILED ? s->error_text : s->stop_reason,
                      state == PKTCAP_STATE_FAILED ? sizeof s->error_text
                                                   : sizeof s->stop_reason, text);
        if (state != s->state) {
            changed = 1;
            if (state == PKTCAP_STATE_RUNNING && !s->started_ms)
                s->started_ms = pktcap__now_ms();
            if (is_terminal(state) && !s->ended_ms)
                s->ended_ms = pktcap__now_ms();
            s->state = state;
        }
        pthread_cond_broadcast(&s->changed);
    }
    /* Wake the group the session is in (under the lock: the group clears
     * group_fd under it before it closes the descriptor). */
    if (changed && s->group_fd >= 0) {
        uint64_t one = 1;
        ssize_t n = write(s->group_fd, &one, sizeof one);   /* full counter: already awake */
        (void)n;
    }
    cb = s->state_cb;
    userdata = s->state_userdata;
    pthread_mutex_unlock(&s->lock);
    if (changed && cb)
        cb(s, state, userdata);
}

void pktcap__session_fail(pktcap_session *s, const char *native_status)
{
    pktcap__session_set_state(s, PKTCAP_STATE_FAILED, native_status,
                              pktcap_error_message(pktcap_error_last()));
}

void pktcap__session_stat_add(pktcap_session *s, int stat, uint64_t n)
{
    __atomic_add_fetch(&s->stats[stat], n, __ATOMIC_RELAXED);
    __atomic_or_fetch(&s->stats_known, 1u << stat, __ATOMIC_RELAXED);
}

void pktcap__session_stat_set(pktcap_session *s, int stat, uint64_t value)
{
    __atomic_store_n(&s->stats[stat], value, __ATOMIC_RELAXED);
    __atomic_or_fetch(&s->stats_known, 1u << stat, __ATOMIC_RELAXED);
}

void pktcap__session_stats_known(pktcap_session *s, uint32_t mask)
{
    __atomic_or_fetch(&s->stats_known, mask, __ATOMIC_RELAXED);
}

PKTCAP_API int pktcap_session_stat_known(const pktcap_session *s, int stat)
{
    if (!s)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_session_stat_known: session is NULL");
    if (stat < 0 || stat > PKTCAP_STAT_ELAPSED_MS)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_session_stat_known: unknown "
                                 "statistic %d (0 to %d)", stat, PKTCAP_STAT_ELAPSED_MS);
    if (stat == PKTCAP_STAT_ELAPSED_MS) {
        pthread_mutex_lock((pthread_mutex_t *)&s->lock);
        int started = s->started_ms != 0;
        pthread_mutex_unlock((pthread_mutex_t *)&s->lock);
        return started;
    }
    return (__atomic_load_n(&s->stats_known, __ATOMIC_RELAXED) >> stat) & 1u;
}

PKTCAP_API int pktcap_session_state(const pktcap_session *s)
{
    if (!s)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_session_state: session is NULL");
    return current_state(s);
}

PKTCAP_API uint64_t pktcap_session_stat(const pktcap_session *s, int stat)
{
    if (!s || stat < 0 || stat > PKTCAP_STAT_ELAPSED_MS)
        return 0;
    if (stat == PKTCAP_STAT_ELAPSED_MS) {
        int64_t start, end;
        pthread_mutex_lock((pthread_mutex_t *)&s->lock);
        start = s->started_ms;
        end = s->ended_ms;
        pthread_mutex_unlock((pthread_mutex_t *)&s->lock);
        if (!start)
            return 0;
        return (uint64_t)((end ? end : pktcap__now_ms()) - start);
    }
    return __atomic_load_n(&s->stats[stat], __ATOMIC_RELAXED);
}

/* The text getters return buffers the backend may rewrite from its thread;
 * like every getter they are meant for the owning thread, and the status
 * texts are only rewritten on state changes. */
PKTCAP_API const char *pktcap_session_name(const pktcap_session *s)
{
    return s ? s->name : NULL;
}

PKTCAP_API const char *pktcap_session_target(const pktcap_session *s)
{
    return s ? (s->target ? s->target : "") : NULL;
}

PKTCAP_API const char *pktcap_session_id(const pktcap_session *s)
{
    return s ? s->id : NULL;
}

PKTCAP_API const char *pktcap_session_native_status(const pktcap_session *s)
{
    return s ? s->native_status : NULL;
}

PKTCAP_API const char *pktcap_session_stop_reason(const pktcap_session *s)
{
    return s ? s->stop_reason : NULL;
}

PKTCAP_API const char *pktcap_session_error_text(const pktcap_session *s)
{
    return s ? s->error_text : NULL;
}

int pktcap__session_set_details(pktcap_session *s, const char *json)
{
    char *copy = NULL;
    if (json && !(copy = pktcap__strdup(json)))
        return PKTCAP_E_NOMEM;
    pthread_mutex_lock(&s->lock);
    pktcap__free(s->details);
    s->details = copy;
    pthread_mutex_unlock(&s->lock);
    return 0;
}

/* ---- summaries from the provider ---------------------------------------- */

/* The fields of version 1 of pktcap_summary: what a caller must have room for. */
#define SUMMARY_V1_END (offsetof(pktcap_summary, protocol) + sizeof(((pktcap_summary *)0)->protocol))

int pktcap__session_add_summary(pktcap_session *s, const pktcap_summary *summary)
{
    pktcap_summary *items;
    int rc = 0;
    pthread_mutex_lock(&s->lock);
    items = pktcap__grow(s->summaries, &s->summaries_cap, s->nsummaries, sizeof *items);
    if (!items) {
        rc = PKTCAP_E_NOMEM;
    } else {
        s->summaries = items;
        items[s->nsummaries] = *summary;
        items[s->nsummaries].struct_size = (uint32_t)sizeof(pktcap_summary);
        s->nsummaries++;
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

void pktcap__session_clear_summaries(pktcap_session *s)
{
    pthread_mutex_lock(&s->lock);
    s->nsummaries = 0;
    pthread_mutex_unlock(&s->lock);
}

PKTCAP_API size_t pktcap_session_summary_count(const pktcap_session *s)
{
    size_t n;
    if (!s)
        return 0;
    pthread_mutex_lock((pthread_mutex_t *)&s->lock);
    n = s->nsummaries;
    pthread_mutex_unlock((pthread_mutex_t *)&s->lock);
    return n;
}

PKTCAP_API int pktcap_session_summary(pktcap_summary *out, const pktcap_session *s, size_t index)
{
    uint32_t size;
    int rc = 0;
    if (!out || !s)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_session_summary: %s is NULL",
                                 out ? "session" : "out");
    size = out->struct_size;
    if (size < SUMMARY_V1_END)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_session_summary: summary struct_size "
                                 "%u is smaller than %zu", (unsigned)size, (size_t)SUMMARY_V1_END);
    pthread_mutex_lock((pthread_mutex_t *)&s->lock);
    if (index >= s->nsummaries) {
        rc = pktcap__error_set(PKTCAP_E_END, "session \"%s\" has %zu summaries", s->name,
                               s->nsummaries);
    } else {
        /* A caller built against an older, shorter struct gets what it has room for. */
        memcpy(out, &s->summaries[index], size < sizeof *out ? size : sizeof *out);
        out->struct_size = size;
    }
    pthread_mutex_unlock((pthread_mutex_t *)&s->lock);
    return rc;
}

static const char *const stat_names[] = {
    "packets", "bytes", "wire_bytes", "dropped", "if_dropped", "elapsed_ms",
};

/* Adds `value` under `key` (taking the reference); 0 or NOMEM. */
static int put(json_t *obj, const char *key, json_t *value)
{
    return value && json_object_set_new(obj, key, value) == 0 ? 0 : PKTCAP_E_NOMEM;
}

PKTCAP_API int pktcap_session_details(char **json, const pktcap_session *s)
{
    json_t *o, *stats, *native = NULL;
    char *text, *copy;
    int rc = 0, i;
    if (!json || !s)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_session_details: %s is NULL",
                                 json ? "session" : "json");
    if (!(o = json_object()) || !(stats = json_object())) {
        json_decref(o);
        return pktcap__error_set(PKTCAP_E_NOMEM, "out of memory describing a session");
    }
    for (i = 0; rc == 0 && i <= PKTCAP_STAT_ELAPSED_MS; i++)
        rc = put(stats, stat_names[i],
                 pktcap_session_stat_known(s, i) == 1
                     ? json_integer((json_int_t)pktcap_session_stat(s, i)) : json_null());
    pthread_mutex_lock((pthread_mutex_t *)&s->lock);
    if (s->details)
        native = json_loads(s->details, JSON_DECODE_ANY, NULL);
    if (rc == 0)
        rc = put(o, "provider", json_string(s->provider->backend->kind));
    if (rc == 0)
        rc = put(o, "name", json_string(s->name));
    if (rc == 0)
        rc = put(o, "id", json_string(s->id));
    if (rc == 0)
        rc = put(o, "state", json_string(pktcap_state_name(s->state)));
    if (rc == 0)
        rc = put(o, "native_status", json_string(s->native_status));
    if (rc == 0)
        rc = put(o, "stop_reason", json_string(s->stop_reason));
    if (rc == 0)
        rc = put(o, "error_text", json_string(s->error_text));
    pthread_mutex_unlock((pthread_mutex_t *)&s->lock);
    if (rc == 0)
        rc = put(o, "stats", stats);
    else
        json_decref(stats);
    if (rc == 0)
        rc = put(o, "native", native ? native : json_null());
    else
        json_decref(native);
    text = rc == 0 ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    if (!text)
        return pktcap__error_set(PKTCAP_E_NOMEM, "out of memory describing session \"%s\"",
                                 s->name);
    copy = pktcap__strdup(text);
    free(text);
    if (!copy)
        return PKTCAP_E_NOMEM;
    *json = copy;
    return 0;
}

PKTCAP_API int pktcap_session_set_progress_callback(pktcap_session *s, pktcap_progress_cb cb,
                                                    void *userdata)
{
    if (!s)
        return pktcap__error_set(PKTCAP_E_INVAL,
                                 "pktcap_session_set_progress_callback: session is NULL");
    s->progress_cb = cb;
    s->progress_userdata = userdata;
    return 0;
}

/* ---- settings ------------------------------------------------------------ */

#define SETTER_PROLOGUE(fn)                                                             \
    int rc;                                                                             \
    if (!s)                                                                             \
        return pktcap__error_set(PKTCAP_E_INVAL, fn ": session is NULL");              \
    if ((rc = require_new(s, "configure")) < 0)                                         \
        return rc

static int require_cap(const pktcap_session *s, uint32_t cap, const char *what)
{
    if (s->provider->backend->caps & cap)
        return 0;
    return pktcap__error_set(PKTCAP_E_NOTSUP, "the %s provider does not support %s",
                             s->provider->backend->kind, what);
}

PKTCAP_API int pktcap_session_set_target(pktcap_session *s, const char *target)
{
    char *copy;
    SETTER_PROLOGUE("pktcap_session_set_target");
    if (!target || !*target)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_session_set_target: empty target");
    if (s->provider->backend->check_target &&
        (rc = s->provider->backend->check_target(s->provider, target)) < 0)
        return rc;
    if (!(copy = pktcap__strdup(target)))
        return PKTCAP_E_NOMEM;
    pktcap__free(s->target);
    s->target = copy;
    return 0;
}

/* The numeric settings: 0 means none; any other value needs the capability. */
static int set_number(pktcap_session *s, const char *fn, uint32_t cap, const char *what,
                      uint64_t value, uint64_t *field)
{
    int rc;
    if (!s)
        return pktcap__error_set(PKTCAP_E_INVAL, "%s: session is NULL", fn);
    if ((rc = require_new(s, "configure")) < 0)
        return rc;
    if (value && (rc = require_cap(s, cap, what)) < 0)
        return rc;
    *field = value;
    return 0;
}

PKTCAP_API int pktcap_session_set_snaplen(pktcap_session *s, uint32_t bytes)
{
    uint64_t v = 0;
    int rc = set_number(s, "pktcap_session_set_snaplen", PKTCAP_CAP_SNAPLEN,
                        "a snapshot length", bytes, &v);
    if (rc == 0)
        s->snaplen = (uint32_t)v;
    return rc;
}

PKTCAP_API int pktcap_session_set_byte_limit(pktcap_session *s, uint64_t bytes)
{
    return set_number(s, "pktcap_session_set_byte_limit", PKTCAP_CAP_BYTE_LIMIT, "a byte limit",
                      bytes, s ? &s->byte_limit : NULL);
}

PKTCAP_API int pktcap_session_set_time_limit(pktcap_session *s, uint64_t milliseconds)
{
    return set_number(s, "pktcap_session_set_time_limit", PKTCAP_CAP_TIME_LIMIT, "a time limit",
                      milliseconds, s ? &s->time_limit_ms : NULL);
}

PKTCAP_API int pktcap_session_set_packet_limit(pktcap_session *s, uint64_t packets)
{
    return set_number(s, "pktcap_session_set_packet_limit", PKTCAP_CAP_PACKET_LIMIT,
                      "a packet limit", packets, s ? &s->packet_limit : NULL);
}

PKTCAP_API int pktcap_session_set_filter(pktcap_session *s, const pktcap_filter *filter)
{
    pktcap_filter *copy = NULL;
    const pktcap__backend *be;
    SETTER_PROLOGUE("pktcap_session_set_filter");
    be = s->provider->backend;
    if (filter) {
        uint32_t need = pktcap_filter_bpf_expression(filter) ? PKTCAP_CAP_BPF_FILTER
                                                             : PKTCAP_CAP_RULE_FILTER;
        if ((rc = require_cap(s, need, need == PKTCAP_CAP_BPF_FILTER ? "raw BPF filters"
                                                                     : "rule filters")) < 0)
            return rc;
        if (be->check_filter && (rc = be->check_filter(s->provider, filter)) < 0)
            return rc;
        if ((rc = pktcap_filter_dup(&copy, filter)) < 0)
            return rc;
    }
    pktcap_filter_free(s->filter);
    s->filter = copy;
    return 0;
}

PKTCAP_API int pktcap_session_set_storage(pktcap_session *s, pktcap_storage *storage)
{
    SETTER_PROLOGUE("pktcap_session_set_storage");
    s->storage = storage;
    return 0;
}

PKTCAP_API int pktcap_session_set(pktcap_session *s, const char *key, const char *value)
{
    pktcap__option *opts, *o = NULL;
    char *v;
    size_t i;
    SETTER_PROLOGUE("pktcap_session_set");
    if (!key || !value)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_session_set: %s is NULL",
                                 key ? "value" : "key");
    if (!s->provider->backend->session_set)
        return pktcap__error_set(PKTCAP_E_INVAL, "unknown %s session setting \"%s\" (it has "
                                 "none)", s->provider->backend->kind, key);
    if ((rc = s->provider->backend->session_set(s, key, value)) < 0)
        return rc;
    for (i = 0; i < s->noptions; i++)
        if (strcmp(s->options[i].key, key) == 0)
            o = &s->options[i];
    if (!(v = pktcap__strdup(value)))
        return PKTCAP_E_NOMEM;
    if (!o) {
        opts = pktcap__grow(s->options, &s->options_cap, s->noptions, sizeof *opts);
        if (!opts) {
            pktcap__free(v);
            return PKTCAP_E_NOMEM;
        }
        s->options = opts;
        o = &opts[s->noptions];
        if (!(o->key = pktcap__strdup(key))) {
            pktcap__free(v);
            return PKTCAP_E_NOMEM;
        }
        o->value = NULL;
        s->noptions++;
    }
    pktcap__free(o->value);
    o->value = v;
    return 0;
}

const char *pktcap__session_option(const pktcap_session *s, const char *key)
{
    size_t i;
    for (i = 0; i < s->noptions; i++)
        if (strcmp(s->options[i].key, key) == 0)
            return s->options[i].value;
    return NULL;
}

PKTCAP_API int pktcap_session_set_state_callback(pktcap_session *s, pktcap_state_cb cb,
                                                 void *userdata)
{
    SETTER_PROLOGUE("pktcap_session_set_state_callback");
    s->state_cb = cb;
    s->state_userdata = userdata;
    return 0;
}

PKTCAP_API int pktcap_session_set_packet_callback(pktcap_session *s, pktcap_packet_cb cb,
                                                  void *userdata)
{
    SETTER_PROLOGUE("pktcap_session_set_packet_callback");
    if (cb && (rc = require_cap(s, PKTCAP_CAP_PACKET_CALLBACK, "live packet callbacks")) < 0)
        return rc;
    s->packet_cb = cb;
    s->packet_userdata = userdata;
    return 0;
}

/* ---- lifecycle ----------------------------------------------------------- */

PKTCAP_API int pktcap_session_start(pktcap_session *s)
{
    int rc;
    if (!s)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_session_start: session is NULL");
    if ((rc = require_new(s, "start")) < 0)
        return rc;
    if (!s->target)
        return pktcap__error_set(PKTCAP_E_INVAL, "cannot start session \"%s\": no target "
                                 "(pktcap_session_set_target)", s->name);
    /* A backend without ids of its own (local) is known by the name: the
     * copy is made first, so that no allocation can fail once it runs. */
    char *id = pktcap__strdup(s->name);
    if (!id)
        return PKTCAP_E_NOMEM;
    rc = s->provider->backend->start(s);
    if (rc < 0) {
        pktcap__free(id);
        /* Keep the backend's error as the thread's error and the session's text. */
        pktcap__session_fail(s, NULL);
        return rc;
    }
    if (!s->id[0]) {
        pktcap__free(s->id);
        s->id = id;
    } else {
        pktcap__free(id);
    }
    return 0;
}

/* One step of a backend that is polled; no-op for pushing backends. */
int pktcap__session_step(pktcap_session *s, int64_t *next_ms)
{
    *next_ms = -1;
    if (!s->provider->backend->step)
        return 0;
    return s->provider->backend->step(s, next_ms);
}

PKTCAP_API int pktcap_session_refresh(pktcap_session *s)
{
    int64_t next;
    int state;
    if (!s)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_session_refresh: session is NULL");
    state = current_state(s);
    if (state == PKTCAP_STATE_NEW)
        return wrong_state(s, "refresh", state, "any state but NEW");
    if (is_terminal(state))
        return 0;
    return pktcap__session_step(s, &next);
}

PKTCAP_API int pktcap_session_cancel(pktcap_session *s)
{
    if (!s)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_session_cancel: session is NULL");
    pthread_mutex_lock(&s->lock);
    s->canceled = 1;
    pthread_cond_broadcast(&s->changed);
    pthread_mutex_unlock(&s->lock);
    return 0;
}

/* Sleep on the condition until `until_ms` (monotonic) or a broadcast; lock held. */
static void wait_until(pktcap_session *s, int64_t until_ms)
{
    struct timespec ts;
    ts.tv_sec = (time_t)(until_ms / 1000);
    ts.tv_nsec = (long)(until_ms % 1000) * 1000000L;
    pthread_cond_timedwait(&s->changed, &s->lock, &ts);
}

PKTCAP_API int pktcap_session_wait(pktcap_session *s, int64_t timeout_ms)
{
    int64_t deadline, next_step = 0;
    int rc = 0;
    if (!s)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_session_wait: session is NULL");
    deadline = timeout_ms < 0 ? INT64_MAX : pktcap__now_ms() + timeout_ms;
    for (;;) {
        int64_t now = pktcap__now_ms(), until;
        int state;
        if (next_step >= 0 && now >= next_step) {
            int64_t in_ms;
            if ((rc = pktcap__session_step(s, &in_ms)) < 0)
                return rc;
            now = pktcap__now_ms();
            next_step = in_ms < 0 ? -1 : now + in_ms;
        }
        pthread_mutex_lock(&s->lock);
        state = s->state;
        if (state == PKTCAP_STATE_NEW) {
            pthread_mutex_unlock(&s->lock);
            return wrong_state(s, "wait for", state, "any state but NEW");
        }
        if (is_terminal(state)) {
            pthread_mutex_unlock(&s->lock);
            return 0;
        }
        if (s->canceled) {
            s->canceled = 0;
            pthread_mutex_unlock(&s->lock);
            return pktcap__error_set(PKTCAP_E_CANCELED, "waiting for session \"%s\" was "
                                     "canceled", s->name);
        }
        if (now >= deadline) {
            pthread_mutex_unlock(&s->lock);
            return pktcap__error_set(PKTCAP_E_TIMEOUT, "session \"%s\" still %s after %lld ms",
                                     s->name, pktcap_state_name(state), (long long)timeout_ms);
        }
        until = deadline;
        if (next_step >= 0 && next_step < until)
            until = next_step;
        if (until == INT64_MAX)
            until = now + 3600 * 1000;   /* wake now and then; broadcasts come first */
        wait_until(s, until);
        pthread_mutex_unlock(&s->lock);
    }
}

PKTCAP_API int pktcap_session_stop(pktcap_session *s)
{
    int state, rc;
    if (!s)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_session_stop: session is NULL");
    state = current_state(s);
    if (state != PKTCAP_STATE_PENDING && state != PKTCAP_STATE_RUNNING)
        return wrong_state(s, "stop", state, "PENDING or RUNNING");
    if ((rc = require_cap(s, PKTCAP_CAP_STOP, "stopping a capture")) < 0)
        return rc;
    pktcap__session_set_state(s, PKTCAP_STATE_STOPPING, NULL, NULL);
    return s->provider->backend->stop(s);
}

PKTCAP_API int pktcap_session_delete(pktcap_session *s)
{
    int state, rc;
    if (!s)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_session_delete: session is NULL");
    state = current_state(s);
    if (state != PKTCAP_STATE_NEW && !is_terminal(state))
        return wrong_state(s, "delete", state, "NEW, COMPLETE, STOPPED or FAILED");
    if ((rc = require_cap(s, PKTCAP_CAP_DELETE, "deleting a capture")) < 0)
        return rc;
    return s->provider->backend->remove(s);
}

PKTCAP_API int pktcap_session_fetch(pktcap_session *s, pktcap_storage *storage)
{
    int state, rc;
    if (!s || !storage)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_session_fetch: %s is NULL",
                                 s ? "storage" : "session");
    state = current_state(s);
    if (state != PKTCAP_STATE_COMPLETE && state != PKTCAP_STATE_STOPPED)
        return wrong_state(s, "fetch", state, "COMPLETE or STOPPED");
    if ((rc = require_cap(s, PKTCAP_CAP_FETCH, "fetching a capture")) < 0)
        return rc;
    return s->provider->backend->fetch(s, storage);
}
