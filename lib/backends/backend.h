/* backend.h — the internal interface between the public lifecycle
 * (lib/provider.c, lib/session.c) and the backends (lib/backends/NAME.c).
 *
 * A backend is a table of functions. The lifecycle code owns the handles,
 * the settings, the state machine (which operation is allowed in which
 * state), locking, waiting and callbacks; a backend only talks to its
 * capture mechanism and reports what happened through the pktcap__session_*
 * functions below.
 *
 * Remote backends: start() sends the create request and returns; step()
 * sends one status request and says when the next one is useful (poll
 * interval, Retry-After), so many sessions can later be driven from one
 * thread; fetch() downloads. The local backend runs one capture thread per
 * session and reports from there; it has no step().
 */
#ifndef PKTCAP_LIB_BACKENDS_BACKEND_H
#define PKTCAP_LIB_BACKENDS_BACKEND_H

#include <pthread.h>
#include <stdint.h>

#include <pktcap/pktcap.h>
#include <pktcap/session.h>

#include "core/log.h"
#include "core/uri.h"

typedef struct pktcap__backend pktcap__backend;

/* ---- handles --------------------------------------------------------------- */

struct pktcap_provider {
    const pktcap__backend *backend;
    void *impl;                  /* the backend's provider state */
    char *uri;                   /* as given (secrets possible: never print it whole) */
    pthread_mutex_t lock;        /* guards `sessions` */
    pktcap_session *sessions;    /* live handles, for listing (newest first) */
    unsigned long next_serial;   /* for generated session names */
    pktcap__logger log;          /* pktcap_provider_set_log_callback() */
};

/* One provider-specific setting, kept in the order given. */
typedef struct pktcap__option {
    char *key, *value;
} pktcap__option;

struct pktcap_session {
    pktcap_provider *provider;
    pktcap_session *next;        /* in provider->sessions */
    char *name;
    char *id;                    /* provider id ("" until known) */

    /* Settings: changed only in state NEW, by the owning thread. */
    char *target;
    uint32_t snaplen;
    uint64_t byte_limit, time_limit_ms, packet_limit;
    pktcap_filter *filter;       /* owned copy, or NULL */
    pktcap_storage *storage;     /* borrowed, or NULL */
    pktcap__option *options;
    size_t noptions, options_cap;
    pktcap_state_cb state_cb;
    void *state_userdata;
    pktcap_packet_cb packet_cb;
    void *packet_userdata;
    pktcap_progress_cb progress_cb;   /* any state: fetch progress */
    void *progress_userdata;

    /* Status: written by the backend (possibly from its thread) under `lock`. */
    pthread_mutex_t lock;
    pthread_cond_t changed;      /* broadcast on every state change and on cancel */
    int state;
    int canceled;                /* pktcap_session_cancel() since the last wait */
    char native_status[128];
    char stop_reason[128];
    char error_text[512];
    uint64_t stats[6];           /* by pktcap_stat_t; PKTCAP_STAT_ELAPSED_MS computed */
    uint32_t stats_known;        /* bit 1 << stat: the provider counts it (atomic) */
    int64_t started_ms, ended_ms;/* monotonic clock; 0 = not yet */
    char *details;               /* the provider's own description (JSON text) or NULL */
    pktcap_summary *summaries;   /* from the provider (PKTCAP_CAP_SUMMARIES), under `lock` */
    size_t nsummaries, summaries_cap;

    void *impl;                  /* the backend's session state */
    /* pktcap_group: the group's wake-up descriptor (an eventfd), written on
     * every state change so a local session's end reaches the driving
     * thread; -1 outside a group. Under `lock` (a capture thread reads it). */
    int group_fd;
    void *group;                 /* the group it belongs to, or NULL */
};

struct pktcap_session_list {
    size_t n, cap;
    struct pktcap__session_entry {
        char *name, *id, *native_status;
        int state;
    } *items;
};

struct pktcap_target_list {
    size_t n, cap;
    struct pktcap__target_entry {
        char *name, *description;
        uint32_t flags;
    } *items;
};

/* ---- the backend table ----------------------------------------------------- */

struct pktcap__backend {
    const char *kind;            /* "local" — also the URI scheme */
    uint32_t caps;               /* pktcap_cap_t bits */

    /* Provider. open() parses what it needs from the URI (query parameters
     * have already been passed to set()); set() validates one option. */
    int (*provider_open)(pktcap_provider *p, const pktcap__uri *uri);
    int (*provider_set)(pktcap_provider *p, const char *key, const char *value);
    void (*provider_close)(pktcap_provider *p);
    int (*list_sessions)(pktcap_provider *p, pktcap_session_list *list);   /* NULL: handles only */
    int (*list_targets)(pktcap_provider *p, pktcap_target_list *list);     /* NULL: NOTSUP */
    /* pktcap_provider_call(): `args` is a JSON object (never NULL: {} when
     * none); *result gets the result as allocated JSON text (pktcap__malloc).
     * NULL: the provider has no operations. */
    int (*call)(pktcap_provider *p, const char *operation, const char *args, char **result);

    /* Session settings the backend must see when they are made. */
    int (*check_filter)(pktcap_provider *p, const pktcap_filter *f);      /* NOTSUP with why */
    int (*check_target)(pktcap_provider *p, const char *target);          /* INVAL with the forms */
    int (*session_set)(pktcap_session *s, const char *key, const char *value);

    /* Lifecycle. Called without s->lock held, in an allowed state. */
    int (*session_open)(pktcap_session *s, const char *id);
    int (*start)(pktcap_session *s);
    int (*step)(pktcap_session *s, int64_t *next_ms);  /* NULL: the backend pushes changes */
    int (*stop)(pktcap_session *s);
    int (*remove)(pktcap_session *s);                   /* delete */
    int (*fetch)(pktcap_session *s, pktcap_storage *st);
    void (*session_free)(pktcap_session *s);            /* stop what runs, free impl */
};

extern const pktcap__backend pktcap__backend_local;
extern const pktcap__backend pktcap__backend_azure;
extern const pktcap__backend pktcap__backend_cloudflare;
extern const pktcap__backend pktcap__backend_sdwan;

/* ---- what backends call ------------------------------------------------------ */

/* Milliseconds of CLOCK_MONOTONIC. */
int64_t pktcap__now_ms(void);

/* Move to `state`, recording the native status / stop reason / error text
 * (NULL = leave as is), time stamps, and waking waiters; calls the state
 * callback (outside the lock) when the state changed. Terminal states stick. */
void pktcap__session_set_state(pktcap_session *s, int state, const char *native_status,
                               const char *text);
/* One status request (backend step): *next_ms is when another is useful
 * (-1: the backend pushes its changes and has no step). 0 or a code. */
int pktcap__session_step(pktcap_session *s, int64_t *next_ms);
/* Convenience: FAILED with the current thread's error message as error text. */
void pktcap__session_fail(pktcap_session *s, const char *native_status);
/* Statistics (any thread). */
void pktcap__session_stat_add(pktcap_session *s, int stat, uint64_t n);
void pktcap__session_stat_set(pktcap_session *s, int stat, uint64_t value);
/* Statistics are unknown (pktcap_session_stat_known() = 0) until the backend
 * sets or adds to them; a backend that counts from the start, at zero, says
 * so with this (mask: bits 1 << PKTCAP_STAT_*). */
void pktcap__session_stats_known(pktcap_session *s, uint32_t mask);
/* Replaces the provider's own description of the session (JSON text of one
 * value, copied; NULL clears) for pktcap_session_details(). Any thread. */
int pktcap__session_set_details(pktcap_session *s, const char *json);
/* Appends a packet summary the provider returned (any thread); its
 * struct_size is set here. PKTCAP_E_NOMEM. */
int pktcap__session_add_summary(pktcap_session *s, const pktcap_summary *summary);
/* Drops the summaries (before a new result arrives). */
void pktcap__session_clear_summaries(pktcap_session *s);
/* The value of a provider-specific setting given with pktcap_session_set(), or NULL. */
const char *pktcap__session_option(const pktcap_session *s, const char *key);

/* Lists. */
int pktcap__session_list_add(pktcap_session_list *l, const char *name, const char *id,
                             int state, const char *native_status);
int pktcap__target_list_add(pktcap_target_list *l, const char *name, const char *description,
                            uint32_t flags);

#endif
