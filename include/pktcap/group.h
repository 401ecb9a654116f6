/**
 * @file group.h
 * @brief Fleet captures: many sessions, of any providers, driven together
 *        from the caller's thread.
 *
 * A ::pktcap_group runs the whole job of each of its sessions — start, follow
 * the capture until it ends, fetch the file — for hundreds or thousands of
 * sessions at once, without a thread each. Every HTTP request of every
 * session goes through one libcurl multi handle, driven from the thread that
 * calls pktcap_group_wait() (blocking) or pktcap_group_step() (for an event
 * loop of the caller's own: poll pktcap_group_fd() and call
 * pktcap_group_step() when it is readable or the timeout it gave has passed).
 *
 * @code
 * pktcap_group *g;
 * pktcap_group_new(&g);
 * for (i = 0; i < n; i++)              // sessions configured as usual
 *     pktcap_group_add(g, sessions[i], storages[i]);
 * pktcap_group_start(g);
 * pktcap_group_wait(g, -1);
 * for (i = 0; i < pktcap_group_count(g); i++) {
 *     pktcap_group_result r = { .struct_size = sizeof r };
 *     pktcap_group_get_result(g, i, &r);
 *     printf("%s: %s %s\n", pktcap_session_name(pktcap_group_session(g, i)),
 *            pktcap_state_name(r.state), r.code ? r.message : "fetched");
 * }
 * pktcap_group_free(g);
 * @endcode
 *
 * What the group does for each session:
 * - a NEW session is started; a PENDING or RUNNING one (opened with
 *   pktcap_session_open()) is followed as it is;
 * - it is polled until it ends, adaptively: not before its time limit is
 *   near, then at `poll_min_ms`, doubling while nothing changes, up to
 *   `poll_max_ms`; a provider's Retry-After or poll interval always wins;
 *   a local session tells the group itself when it ends;
 * - when it ends COMPLETE or STOPPED and a storage target was given, its
 *   capture is fetched there, at most `max_downloads` at once.
 *
 * One session failing never stops the others: its failure is its result
 * (pktcap_group_get_result()), reported by an event, and in pktcap_group_report().
 *
 * Politeness: each provider keeps one HTTP client (its connections, TLS
 * sessions and tokens serve all its sessions) and its rate limits
 * (`rate_limit`, Azure's `x-ms-ratelimit-remaining-*`) hold for the whole
 * group; at most `max_requests` operations are in flight at once.
 *
 * Threads: a group, and the sessions in it, belong to the thread driving it
 * while it is busy; pktcap_group_cancel() may be called from any thread.
 * Event callbacks run on the driving thread, inside pktcap_group_step() or
 * pktcap_group_wait(); they may read the session but must not call group
 * functions other than pktcap_group_cancel().
 *
 * @since 1.5.0
 */
#ifndef PKTCAP_GROUP_H
#define PKTCAP_GROUP_H

#include <stddef.h>
#include <stdint.h>

#include <pktcap/common.h>
#include <pktcap/session.h>
#include <pktcap/storage.h>

PKTCAP_BEGIN_DECLS

/** A set of sessions driven together. */
typedef struct pktcap_group pktcap_group;

/** The operations the group runs on a session. */
typedef enum pktcap_group_op_t {
    PKTCAP_GROUP_OP_NONE = 0,   /**< None (no failure). */
    PKTCAP_GROUP_OP_START = 1,  /**< pktcap_session_start(). */
    PKTCAP_GROUP_OP_POLL = 2,   /**< A status request (pktcap_session_refresh()). */
    PKTCAP_GROUP_OP_STOP = 3,   /**< pktcap_session_stop(). */
    PKTCAP_GROUP_OP_FETCH = 4   /**< pktcap_session_fetch() into the session's target. */
} pktcap_group_op_t;

/** What an event reports. */
typedef enum pktcap_group_event_type_t {
    PKTCAP_GROUP_EVENT_STATE = 1,     /**< The session's state changed (`state`). */
    PKTCAP_GROUP_EVENT_PROGRESS = 2,  /**< A fetch advanced (`done` of `total` bytes). */
    PKTCAP_GROUP_EVENT_ERROR = 3,     /**< An operation failed (`op`, `code`, `message`). */
    PKTCAP_GROUP_EVENT_DONE = 4       /**< The group has finished with the session
                                           (`code`: 0, or the failure). */
} pktcap_group_event_type_t;

/** One event. Valid during the callback only. */
typedef struct pktcap_group_event {
    uint32_t struct_size;      /**< `sizeof(pktcap_group_event)` as the library knew it. */
    int type;                  /**< A ::pktcap_group_event_type_t. */
    pktcap_session *session;   /**< The session it is about. */
    size_t index;              /**< Its index in the group. */
    int state;                 /**< Its state now (a ::pktcap_state_t). */
    int op;                    /**< ERROR, DONE: the operation (a ::pktcap_group_op_t). */
    int code;                  /**< ERROR, DONE: 0 or a `PKTCAP_E_*` code. */
    const char *message;       /**< ERROR, DONE: the error message ("" when none). */
    uint64_t done;             /**< PROGRESS: bytes fetched so far. */
    uint64_t total;            /**< PROGRESS: the file's size (0 when unknown). */
} pktcap_group_event;

/** Event callback; runs on the thread driving the group. */
typedef void (*pktcap_group_event_cb)(const pktcap_group_event *event, void *userdata);

/** A session's result. Set `struct_size` before the call. */
typedef struct pktcap_group_result {
    uint32_t struct_size;      /**< `sizeof(pktcap_group_result)`, set by the caller. */
    int state;                 /**< The session's state (a ::pktcap_state_t). */
    int done;                  /**< 1 when the group has finished with the session. */
    int op;                    /**< The operation that failed (::PKTCAP_GROUP_OP_NONE when none). */
    int code;                  /**< Its `PKTCAP_E_*` code, or 0. */
    char message[512];         /**< Its message ("" when none). */
    int fetched;               /**< 1 when the capture was fetched into the storage target. */
    uint64_t bytes;            /**< Bytes fetched. */
    uint64_t requests;         /**< HTTP requests sent for this session by the group. */
} pktcap_group_result;

/**
 * @brief Create an empty group.
 * @param[out] out the new group.
 * @return 0, ::PKTCAP_E_INVAL or ::PKTCAP_E_NOMEM (::PKTCAP_E_IO when the
 *         event descriptors cannot be made).
 */
PKTCAP_API int pktcap_group_new(pktcap_group **out);

/**
 * @brief Change a setting (before pktcap_group_start(), or between runs).
 * @param group the group.
 * @param key the setting (table below).
 * @param value its value as text.
 *
 * | key | default | meaning |
 * |---|---|---|
 * | `max_requests` | 64 | operations (start, poll, stop, fetch) in flight at once, 1–4096 |
 * | `max_downloads` | 4 | fetches at once, 1–1024 |
 * | `poll_min_ms` | 1000 | first poll interval once a capture could have ended, 10–3600000 |
 * | `poll_max_ms` | 30000 | longest poll interval, 10–3600000 |
 *
 * `poll_min_ms` above `poll_max_ms` is refused by pktcap_group_start().
 *
 * @return 0; ::PKTCAP_E_INVAL naming the key or value; ::PKTCAP_E_STATE while busy.
 */
PKTCAP_API int pktcap_group_set(pktcap_group *group, const char *key, const char *value);

/**
 * @brief Set the event callback (NULL: none).
 * @param group the group.
 * @param cb called for every event, on the thread driving the group.
 * @param userdata passed to `cb`.
 * @return 0, ::PKTCAP_E_INVAL, ::PKTCAP_E_STATE from an event callback.
 */
PKTCAP_API int pktcap_group_set_event_callback(pktcap_group *group, pktcap_group_event_cb cb,
                                               void *userdata);

/**
 * @brief Add a session (borrowed: it must outlive the group, or its
 *        removal with pktcap_group_free()).
 * @param group the group.
 * @param session a session in any state, in no other group.
 * @param fetch_to where the capture goes when it ends (borrowed), or NULL
 *        not to fetch it.
 * @return 0; ::PKTCAP_E_INVAL (NULL, or already in a group);
 *         ::PKTCAP_E_NOTSUP when `fetch_to` is given and the provider cannot
 *         fetch; ::PKTCAP_E_STATE while the group is busy; ::PKTCAP_E_NOMEM.
 */
PKTCAP_API int pktcap_group_add(pktcap_group *group, pktcap_session *session,
                                pktcap_storage *fetch_to);

/**
 * @brief The number of sessions.
 * @param group the group.
 * @return the number added; 0 for NULL.
 */
PKTCAP_API size_t pktcap_group_count(const pktcap_group *group);

/**
 * @brief A session of the group.
 * @param group the group.
 * @param index from 0, in the order the sessions were added.
 * @return the session, or NULL for a NULL group or an index out of range.
 */
PKTCAP_API pktcap_session *pktcap_group_session(const pktcap_group *group, size_t index);

/**
 * @brief Plan the job of every session not yet done: start the NEW ones,
 *        follow the running ones, fetch those that end (the work is done by
 *        pktcap_group_wait() or pktcap_group_step()).
 * @param group the group.
 * @return 0, ::PKTCAP_E_INVAL (also when `poll_min_ms` is above
 *         `poll_max_ms`), ::PKTCAP_E_STATE from an event callback.
 */
PKTCAP_API int pktcap_group_start(pktcap_group *group);

/**
 * @brief Stop every session: those started are stopped (then fetched, as
 *        planned); those not yet started are not started (their result is
 *        ::PKTCAP_E_CANCELED). Done by the next step or wait. A provider that
 *        cannot stop a capture (SD-WAN) lets it end by its time limit.
 * @param group the group.
 * @return 0, ::PKTCAP_E_INVAL, ::PKTCAP_E_STATE from an event callback.
 */
PKTCAP_API int pktcap_group_stop(pktcap_group *group);

/**
 * @brief Do the work that is due, without blocking for the network.
 * @param group the group.
 * @param[out] timeout_ms may be NULL; the longest the caller may wait
 *        (for pktcap_group_fd() to become readable) before calling again:
 *        0 when work is due now, -1 when the group is idle.
 * @return 1 while work remains, 0 when every session is done (or nothing is
 *         planned), ::PKTCAP_E_INVAL, ::PKTCAP_E_STATE when called from an
 *         event callback.
 */
PKTCAP_API int pktcap_group_step(pktcap_group *group, int64_t *timeout_ms);

/**
 * @brief Drive the group until every session is done, the timeout passes,
 *        or pktcap_group_cancel() is called.
 * @param group the group.
 * @param timeout_ms milliseconds; negative = no timeout.
 * @return 0 when every session is done (each may have failed: see
 *         pktcap_group_get_result()); ::PKTCAP_E_TIMEOUT; ::PKTCAP_E_CANCELED
 *         (the work goes on with the next step or wait); ::PKTCAP_E_INVAL;
 *         ::PKTCAP_E_STATE from an event callback.
 */
PKTCAP_API int pktcap_group_wait(pktcap_group *group, int64_t timeout_ms);

/**
 * @brief A descriptor that becomes readable when pktcap_group_step() has
 *        work (network activity, a local session's change, a cancel).
 *        Poll it for reading; never read or close it.
 * @param group the group.
 * @return the descriptor (an epoll descriptor, valid until
 *         pktcap_group_free()), or ::PKTCAP_E_INVAL.
 */
PKTCAP_API int pktcap_group_fd(const pktcap_group *group);

/**
 * @brief Make the current or next pktcap_group_wait() return
 *        ::PKTCAP_E_CANCELED. Any thread (not a signal handler).
 * @param group the group.
 * @return 0 or ::PKTCAP_E_INVAL.
 */
PKTCAP_API int pktcap_group_cancel(pktcap_group *group);

/**
 * @brief A session's result so far.
 * @param group the group.
 * @param index the session's index.
 * @param[in,out] out its `struct_size` must be set.
 * @return 0; ::PKTCAP_E_INVAL (NULL, index out of range, struct_size too small).
 */
PKTCAP_API int pktcap_group_get_result(const pktcap_group *group, size_t index,
                                       pktcap_group_result *out);

/**
 * @brief The group's report as JSON text: totals (sessions by state, done,
 *        failed, fetched, requests, HTTP 429 answers, wall time) and one
 *        object per session (name, provider, target, id, state, result).
 *
 * @code{.json}
 * {"sessions_total": 2, "states": {"NEW": 0, ..., "COMPLETE": 1, "FAILED": 1},
 *  "done": 2, "failed": 1, "fetched": 1, "requests": 9, "throttled": 0, "wall_ms": 10412,
 *  "sessions": [{"index": 0, "name": "web1", "provider": "azure", "target": "/subscriptions/...",
 *                "id": "...", "state": "COMPLETE", "native_status": "Stopped", "done": true,
 *                "failed_op": null, "error": null, "message": null, "fetched": true,
 *                "bytes": 1048576, "requests": 6}, ...]}
 * @endcode
 * @param[out] json allocated text; free with pktcap_free().
 * @param group the group.
 * @return 0, ::PKTCAP_E_INVAL, ::PKTCAP_E_NOMEM.
 */
PKTCAP_API int pktcap_group_report(char **json, const pktcap_group *group);

/**
 * @brief Free the group. Operations still in flight are abandoned (their
 *        requests aborted; a download in progress leaves no file); the
 *        sessions themselves are not freed, and may join another group.
 *        Ignored in an event callback.
 * @param group the group, or NULL.
 */
PKTCAP_API void pktcap_group_free(pktcap_group *group);

PKTCAP_END_DECLS

#endif /* PKTCAP_GROUP_H */
