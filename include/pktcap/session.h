/**
 * @file session.h
 * @brief Providers and capture sessions: one lifecycle for every place that
 *        can capture — this host (libpcap) or a provider's REST API.
 *
 * A ::pktcap_provider is a connection to one place that captures, named by a
 * URI (`local:` for this host). A ::pktcap_session is one capture on it:
 * configured with typed setters, started, waited for (or polled with
 * pktcap_session_refresh()), stopped, fetched into a storage target and
 * deleted. Every session reports one portable state (::pktcap_state_t) and
 * keeps the provider's own status and error text beside it.
 *
 * @code
 * pktcap_provider *p;
 * pktcap_session *s;
 * pktcap_storage *out;
 * pktcap_filter *f;
 * pktcap_provider_open(&p, "local:");
 * pktcap_session_new(&s, p, "web");
 * pktcap_session_set_target(s, "eth0");
 * pktcap_filter_parse(&f, "proto=tcp remote_port=443");
 * pktcap_session_set_filter(s, f);
 * pktcap_session_set_packet_limit(s, 1000);
 * pktcap_storage_open(&out, "web.pcapng");
 * pktcap_session_set_storage(s, out);
 * if (pktcap_session_start(s) == 0 && pktcap_session_wait(s, -1) == 0)
 *     printf("%s: %llu packets\n", pktcap_state_name(pktcap_session_state(s)),
 *            (unsigned long long)pktcap_session_stat(s, PKTCAP_STAT_PACKETS));
 * pktcap_session_free(s);
 * pktcap_storage_free(out);
 * pktcap_filter_free(f);
 * pktcap_provider_close(p);
 * @endcode
 *
 * Threads: a provider and its sessions are used by one thread at a time,
 * except pktcap_session_cancel(), pktcap_session_state(),
 * pktcap_session_stat() and pktcap_session_stat_known(), which any thread
 * may call at any time. Callbacks run
 * on the library's capture thread (local provider) or inside the call that
 * noticed the change (remote providers).
 */
#ifndef PKTCAP_SESSION_H
#define PKTCAP_SESSION_H

#include <stddef.h>
#include <stdint.h>
#include <pktcap/common.h>
#include <pktcap/file.h>
#include <pktcap/filter.h>
#include <pktcap/storage.h>
#include <pktcap/summary.h>

PKTCAP_BEGIN_DECLS

/** @brief An opaque connection to a place that captures. */
typedef struct pktcap_provider pktcap_provider;
/** @brief An opaque capture session. */
typedef struct pktcap_session pktcap_session;
/** @brief An opaque list of a provider's sessions (pktcap_provider_list_sessions()). */
typedef struct pktcap_session_list pktcap_session_list;
/** @brief An opaque list of capture targets (pktcap_provider_list_targets()). */
typedef struct pktcap_target_list pktcap_target_list;

/** @brief The portable state of a session. */
typedef enum pktcap_state_t {
    PKTCAP_STATE_NEW = 0,        /**< Made, not started: settings may change. */
    PKTCAP_STATE_PENDING = 1,    /**< Start requested; the provider is preparing. */
    PKTCAP_STATE_RUNNING = 2,    /**< Capturing. */
    PKTCAP_STATE_STOPPING = 3,   /**< Stop requested; not finished yet. */
    PKTCAP_STATE_PROCESSING = 4, /**< Capture over; the provider is converting or uploading. */
    PKTCAP_STATE_COMPLETE = 5,   /**< Ended by a limit or by the provider; the result is ready. Terminal. */
    PKTCAP_STATE_STOPPED = 6,    /**< Ended by pktcap_session_stop(); the result is ready. Terminal. */
    PKTCAP_STATE_FAILED = 7      /**< Ended by an error (pktcap_session_error_text()). Terminal. */
} pktcap_state_t;

/** @brief Capabilities of a provider (bits of pktcap_provider_caps()). */
typedef enum pktcap_cap_t {
    PKTCAP_CAP_RULE_FILTER = 1u << 0,   /**< Accepts rule filters (the renderable ones). */
    PKTCAP_CAP_BPF_FILTER = 1u << 1,    /**< Accepts raw BPF filters. */
    PKTCAP_CAP_SNAPLEN = 1u << 2,       /**< Honours pktcap_session_set_snaplen(). */
    PKTCAP_CAP_BYTE_LIMIT = 1u << 3,    /**< Honours pktcap_session_set_byte_limit(). */
    PKTCAP_CAP_PACKET_LIMIT = 1u << 4,  /**< Honours pktcap_session_set_packet_limit(). */
    PKTCAP_CAP_TIME_LIMIT = 1u << 5,    /**< Honours pktcap_session_set_time_limit(). */
    PKTCAP_CAP_STOP = 1u << 6,          /**< pktcap_session_stop() can end a running capture. */
    PKTCAP_CAP_DELETE = 1u << 7,        /**< pktcap_session_delete() removes it from the provider. */
    PKTCAP_CAP_LIST = 1u << 8,          /**< pktcap_provider_list_sessions() works. */
    PKTCAP_CAP_OPEN = 1u << 9,          /**< pktcap_session_open() finds sessions made elsewhere. */
    PKTCAP_CAP_FETCH = 1u << 10,        /**< pktcap_session_fetch() downloads the result. */
    PKTCAP_CAP_PACKET_CALLBACK = 1u << 11, /**< Packets are seen live (pktcap_session_set_packet_callback()). */
    PKTCAP_CAP_MULTI_TARGET = 1u << 12, /**< A target may name several interfaces. */
    PKTCAP_CAP_SUMMARIES = 1u << 13     /**< A finished session carries packet summaries from the provider (pktcap_session_summary()). Since 1.3. */
} pktcap_cap_t;

/** @brief Statistics of a session (pktcap_session_stat()). */
typedef enum pktcap_stat_t {
    PKTCAP_STAT_PACKETS = 0,     /**< Packets captured (written). */
    PKTCAP_STAT_BYTES = 1,       /**< Bytes captured (sum of captured lengths). */
    PKTCAP_STAT_WIRE_BYTES = 2,  /**< Bytes on the wire of the captured packets. */
    PKTCAP_STAT_DROPPED = 3,     /**< Packets the capture mechanism dropped (kernel buffer full). */
    PKTCAP_STAT_IF_DROPPED = 4,  /**< Packets the interface or driver dropped. */
    PKTCAP_STAT_ELAPSED_MS = 5   /**< Milliseconds since the capture started (to its end once ended). */
} pktcap_stat_t;

/** @brief Bits of pktcap_target_list_flags(). */
typedef enum pktcap_target_flag_t {
    PKTCAP_TARGET_UP = 1u << 0,       /**< The interface is up. */
    PKTCAP_TARGET_RUNNING = 1u << 1,  /**< The interface is running (link present). */
    PKTCAP_TARGET_LOOPBACK = 1u << 2  /**< A loopback interface. */
} pktcap_target_flag_t;

/* ------------------------------------------------------------------------ */
/* Providers                                                                 */
/* ------------------------------------------------------------------------ */

/**
 * @brief Open a provider by URI.
 *
 * Supported: `local:` (this host, libpcap). Query parameters are the same as
 * pktcap_provider_set() keys.
 *
 * @param[out] out the provider; untouched on failure.
 * @param uri the provider URI.
 * @return 0; ::PKTCAP_E_NOTSUP for an unknown scheme (the message names the
 *         supported ones); ::PKTCAP_E_INVAL for a malformed URI or option.
 */
PKTCAP_API int pktcap_provider_open(pktcap_provider **out, const char *uri);

/**
 * @brief Set a provider option (endpoint, credentials, timeouts…).
 * @param provider the provider.
 * @param key the option's name (see the provider's documentation).
 * @param value its value, as text.
 * @return 0; ::PKTCAP_E_INVAL for an unknown key or a bad value (named in the message).
 */
PKTCAP_API int pktcap_provider_set(pktcap_provider *provider, const char *key, const char *value);

/**
 * @brief What the provider can do.
 * @param provider the provider.
 * @return bits of ::pktcap_cap_t; 0 for NULL.
 */
PKTCAP_API uint32_t pktcap_provider_caps(const pktcap_provider *provider);

/**
 * @brief The provider's kind.
 * @param provider the provider.
 * @return `"local"`, …; NULL for NULL.
 */
PKTCAP_API const char *pktcap_provider_kind(const pktcap_provider *provider);

/**
 * @brief List the provider's sessions (the local provider: the sessions of this provider handle).
 * @param[out] out the list; free with pktcap_session_list_free().
 * @param provider the provider.
 * @return 0, ::PKTCAP_E_NOTSUP, or the provider's error.
 */
PKTCAP_API int pktcap_provider_list_sessions(pktcap_session_list **out, pktcap_provider *provider);

/**
 * @brief Number of sessions in a list.
 * @param list the list.
 * @return the count; 0 for NULL.
 */
PKTCAP_API size_t pktcap_session_list_count(const pktcap_session_list *list);
/**
 * @brief Name of a listed session.
 * @param list the list.
 * @param index an index below pktcap_session_list_count().
 * @return the name; NULL past the end.
 */
PKTCAP_API const char *pktcap_session_list_name(const pktcap_session_list *list, size_t index);
/**
 * @brief Provider id of a listed session (what pktcap_session_open() takes).
 * @param list the list.
 * @param index an index below pktcap_session_list_count().
 * @return the id; NULL past the end.
 */
PKTCAP_API const char *pktcap_session_list_id(const pktcap_session_list *list, size_t index);
/**
 * @brief Portable state of a listed session.
 * @param list the list.
 * @param index an index below pktcap_session_list_count().
 * @return a ::pktcap_state_t; ::PKTCAP_E_INVAL past the end.
 */
PKTCAP_API int pktcap_session_list_state(const pktcap_session_list *list, size_t index);
/**
 * @brief Provider-native status of a listed session.
 * @param list the list.
 * @param index an index below pktcap_session_list_count().
 * @return the status text ("" when none); NULL past the end.
 */
PKTCAP_API const char *pktcap_session_list_native_status(const pktcap_session_list *list,
                                                         size_t index);
/**
 * @brief Free a session list.
 * @param list the list; NULL is accepted.
 */
PKTCAP_API void pktcap_session_list_free(pktcap_session_list *list);

/**
 * @brief List what the provider can capture on (the local provider: network
 *        interfaces, as `pcap_findalldevs()` sees them, plus `any`).
 * @param[out] out the list; free with pktcap_target_list_free().
 * @param provider the provider.
 * @return 0, ::PKTCAP_E_NOTSUP, or the provider's error.
 */
PKTCAP_API int pktcap_provider_list_targets(pktcap_target_list **out, pktcap_provider *provider);
/**
 * @brief Number of targets in a list.
 * @param list the list.
 * @return the count; 0 for NULL.
 */
PKTCAP_API size_t pktcap_target_list_count(const pktcap_target_list *list);
/**
 * @brief Name of a listed target (what pktcap_session_set_target() takes).
 * @param list the list.
 * @param index an index below pktcap_target_list_count().
 * @return the name; NULL past the end.
 */
PKTCAP_API const char *pktcap_target_list_name(const pktcap_target_list *list, size_t index);
/**
 * @brief Description of a listed target.
 * @param list the list.
 * @param index an index below pktcap_target_list_count().
 * @return the description ("" when none); NULL past the end.
 */
PKTCAP_API const char *pktcap_target_list_description(const pktcap_target_list *list,
                                                      size_t index);
/**
 * @brief Flags of a listed target.
 * @param list the list.
 * @param index an index below pktcap_target_list_count().
 * @return bits of ::pktcap_target_flag_t; 0 past the end.
 */
PKTCAP_API uint32_t pktcap_target_list_flags(const pktcap_target_list *list, size_t index);
/**
 * @brief Free a target list.
 * @param list the list; NULL is accepted.
 */
PKTCAP_API void pktcap_target_list_free(pktcap_target_list *list);

/**
 * @brief Close a provider.
 *
 * Sessions made from it must be freed first; a running local session is
 * stopped by pktcap_session_free().
 *
 * @param provider the provider; NULL is accepted.
 */
PKTCAP_API void pktcap_provider_close(pktcap_provider *provider);

/** @brief Levels of the provider log (pktcap_provider_set_log_callback()). */
typedef enum pktcap_log_level_t {
    PKTCAP_LOG_ERROR = 0,   /**< A request failed for good. */
    PKTCAP_LOG_WARN = 1,    /**< Something the user should know (TLS verification off, a retry). */
    PKTCAP_LOG_INFO = 2,    /**< One line per request and response, state changes. */
    PKTCAP_LOG_DEBUG = 3    /**< Request and response headers (secrets redacted), token fetches. */
} pktcap_log_level_t;

/**
 * @brief Receives the provider's log messages.
 * @param level a ::pktcap_log_level_t.
 * @param message one line without a newline, valid during the call. It never
 *        holds a secret: Authorization and cookie headers, API keys, client
 *        secrets, tokens, passwords and SAS signatures are shown as `***`,
 *        and request and response bodies are never logged.
 * @param userdata as given to pktcap_provider_set_log_callback().
 */
typedef void (*pktcap_log_cb)(int level, const char *message, void *userdata);

/**
 * @brief Send the provider's log (HTTP requests, retries, token fetches,
 *        polling) to a callback.
 *
 * Called from the thread that makes the request. Available since 1.2.
 *
 * @param provider the provider.
 * @param level the most detailed ::pktcap_log_level_t to deliver.
 * @param cb the callback; NULL turns logging off.
 * @param userdata passed to @p cb unchanged.
 * @return 0, or ::PKTCAP_E_INVAL for a NULL provider or a level out of range.
 */
PKTCAP_API int pktcap_provider_set_log_callback(pktcap_provider *provider, int level,
                                                pktcap_log_cb cb, void *userdata);

/**
 * @brief Run a provider-specific operation that has no place in the common
 *        lifecycle (Cloudflare's bucket ownership, …).
 *
 * Each provider documents its operations, their arguments and their result
 * (doc/cloudflare.md for Cloudflare). Available since 1.3.
 *
 * @param[out] result the operation's result as JSON text (an object, an
 *        array, or `null`); free it with pktcap_free(). Untouched on failure.
 * @param provider the provider.
 * @param operation the operation's name, e.g. `"ownership_add"`.
 * @param arguments a JSON object of arguments, or NULL for none.
 * @return 0; ::PKTCAP_E_NOTSUP for an operation the provider does not have
 *         (the message lists those it has); ::PKTCAP_E_INVAL for arguments
 *         that are not a JSON object or lack a member (named); the
 *         provider's errors.
 */
PKTCAP_API int pktcap_provider_call(char **result, pktcap_provider *provider, const char *operation,
                                    const char *arguments);

/* ------------------------------------------------------------------------ */
/* Sessions                                                                  */
/* ------------------------------------------------------------------------ */

/** @brief Called when a session's state changes (from the thread that noticed). */
typedef void (*pktcap_state_cb)(pktcap_session *session, int state, void *userdata);

/**
 * @brief Called for every captured packet (local provider), on the capture thread.
 * @param session the session.
 * @param packet the packet, valid during the call.
 * @param summary its decoded summary (number = position in the capture, from 1).
 * @param userdata as given to pktcap_session_set_packet_callback().
 */
typedef void (*pktcap_packet_cb)(pktcap_session *session, const pktcap_packet *packet,
                                 const pktcap_summary *summary, void *userdata);

/**
 * @brief Called as a download (pktcap_session_fetch()) makes progress.
 * @param done bytes received so far.
 * @param total the size announced by the provider; 0 when unknown.
 * @param userdata as given to pktcap_session_set_progress_callback().
 * @return 0 to go on; anything else cancels the fetch (::PKTCAP_E_CANCELED,
 *         nothing kept).
 */
typedef int (*pktcap_progress_cb)(uint64_t done, uint64_t total, void *userdata);

/**
 * @brief Make a new session (state ::PKTCAP_STATE_NEW) on a provider.
 * @param[out] out the session; untouched on failure.
 * @param provider the provider; must outlive the session.
 * @param name a name: 1–80 characters of letters, digits, `-`, `_`, `.`
 *        (the intersection of what the providers accept); NULL picks
 *        `pktcap-<time>-<n>`.
 * @return 0, ::PKTCAP_E_INVAL, ::PKTCAP_E_NOMEM.
 */
PKTCAP_API int pktcap_session_new(pktcap_session **out, pktcap_provider *provider,
                                  const char *name);

/**
 * @brief Open an existing session by its provider id (see pktcap_session_list_id()).
 * @param[out] out the session; untouched on failure.
 * @param provider the provider; must outlive the session.
 * @param id the provider's id of the session.
 * @return 0, ::PKTCAP_E_NOTFOUND, ::PKTCAP_E_NOTSUP (provider without
 *         ::PKTCAP_CAP_OPEN), or the provider's error.
 */
PKTCAP_API int pktcap_session_open(pktcap_session **out, pktcap_provider *provider,
                                   const char *id);

/**
 * @brief Where to capture.
 * @param session the session (state NEW).
 * @param target interface name(s) for `local:` (`eth0`, `eth0,eth1`, `any`);
 *        a VM or scale set resource id for `azure:`.
 * @return 0; ::PKTCAP_E_INVAL for an empty target or one the provider can
 *         never capture on (the message shows the accepted forms);
 *         ::PKTCAP_E_STATE (not NEW).
 */
PKTCAP_API int pktcap_session_set_target(pktcap_session *session, const char *target);

/**
 * @brief Bytes kept of each packet.
 * @param session the session (state NEW).
 * @param bytes the snapshot length; 0 = whole packets (the default).
 * @return 0, ::PKTCAP_E_STATE, ::PKTCAP_E_NOTSUP (provider without ::PKTCAP_CAP_SNAPLEN).
 */
PKTCAP_API int pktcap_session_set_snaplen(pktcap_session *session, uint32_t bytes);

/**
 * @brief End the capture once this many bytes are captured.
 * @param session the session (state NEW).
 * @param bytes the limit; 0 = none (the default). What counts is the
 *        provider's (local: captured packet bytes, see `doc/sessions.md`).
 * @return 0, ::PKTCAP_E_STATE, ::PKTCAP_E_NOTSUP.
 */
PKTCAP_API int pktcap_session_set_byte_limit(pktcap_session *session, uint64_t bytes);

/**
 * @brief End the capture after this long.
 * @param session the session (state NEW).
 * @param milliseconds the limit from the start of capturing; 0 = none (the default).
 * @return 0, ::PKTCAP_E_STATE, ::PKTCAP_E_NOTSUP.
 */
PKTCAP_API int pktcap_session_set_time_limit(pktcap_session *session, uint64_t milliseconds);

/**
 * @brief End the capture once this many packets are captured.
 * @param session the session (state NEW).
 * @param packets the limit; 0 = none (the default).
 * @return 0, ::PKTCAP_E_STATE, ::PKTCAP_E_NOTSUP.
 */
PKTCAP_API int pktcap_session_set_packet_limit(pktcap_session *session, uint64_t packets);

/**
 * @brief What to capture.
 * @param session the session (state NEW).
 * @param filter the filter, of which the session keeps a copy; NULL removes it.
 * @return 0; ::PKTCAP_E_NOTSUP when the provider cannot express the filter
 *         (the message says which part); ::PKTCAP_E_STATE; ::PKTCAP_E_NOMEM.
 */
PKTCAP_API int pktcap_session_set_filter(pktcap_session *session, const pktcap_filter *filter);

/**
 * @brief Where the capture file goes.
 * @param session the session (state NEW).
 * @param storage the target (local provider: written while capturing, with
 *        the target's format and rotation). Borrowed: it must outlive the
 *        capture. NULL: the local provider keeps the file in memory for
 *        pktcap_session_fetch().
 * @return 0, ::PKTCAP_E_STATE, ::PKTCAP_E_NOTSUP.
 */
PKTCAP_API int pktcap_session_set_storage(pktcap_session *session, pktcap_storage *storage);

/**
 * @brief Set a provider-specific setting by name.
 * @param session the session (state NEW).
 * @param key the setting (e.g. `buffer_size` for `local:`; see `doc/sessions.md`).
 * @param value its value, as text.
 * @return 0; ::PKTCAP_E_INVAL for an unknown key or bad value; ::PKTCAP_E_STATE.
 */
PKTCAP_API int pktcap_session_set(pktcap_session *session, const char *key, const char *value);

/**
 * @brief Call @p cb on every state change.
 * @param session the session (state NEW).
 * @param cb the callback; NULL removes it.
 * @param userdata passed to @p cb.
 * @return 0, or ::PKTCAP_E_STATE once started.
 */
PKTCAP_API int pktcap_session_set_state_callback(pktcap_session *session, pktcap_state_cb cb,
                                                 void *userdata);

/**
 * @brief Call @p cb for every captured packet.
 * @param session the session (state NEW).
 * @param cb the callback; NULL removes it.
 * @param userdata passed to @p cb.
 * @return 0, ::PKTCAP_E_STATE, ::PKTCAP_E_NOTSUP (provider without
 *         ::PKTCAP_CAP_PACKET_CALLBACK).
 */
PKTCAP_API int pktcap_session_set_packet_callback(pktcap_session *session, pktcap_packet_cb cb,
                                                  void *userdata);

/**
 * @brief Start the capture (NEW → PENDING/RUNNING).
 * @param session the session.
 * @return 0; ::PKTCAP_E_STATE; ::PKTCAP_E_PERM (e.g. no capture privileges);
 *         ::PKTCAP_E_NOTFOUND (unknown interface, listing the available ones);
 *         or the provider's error. The session is FAILED after a failed start
 *         other than ::PKTCAP_E_STATE.
 */
PKTCAP_API int pktcap_session_start(pktcap_session *session);

/**
 * @brief Update the state from the provider (one status request for remote providers).
 * @param session the session (started).
 * @return 0, ::PKTCAP_E_STATE (never started) or the provider's error.
 */
PKTCAP_API int pktcap_session_refresh(pktcap_session *session);

/**
 * @brief Block until the session is in a terminal state, the timeout passes, or
 *        pktcap_session_cancel() is called.
 * @param session the session (started).
 * @param timeout_ms milliseconds; negative = no timeout.
 * @return 0 when terminal (see pktcap_session_state()); ::PKTCAP_E_TIMEOUT;
 *         ::PKTCAP_E_CANCELED; ::PKTCAP_E_STATE (never started); a provider error.
 */
PKTCAP_API int pktcap_session_wait(pktcap_session *session, int64_t timeout_ms);

/**
 * @brief Make a pktcap_session_wait() in another thread return ::PKTCAP_E_CANCELED.
 *
 * Safe from any thread (not from a signal handler). The capture goes on. A
 * cancel made while no one waits makes the next wait return at once.
 *
 * @param session the session.
 * @return 0 or ::PKTCAP_E_INVAL.
 */
PKTCAP_API int pktcap_session_cancel(pktcap_session *session);

/**
 * @brief Stop a running capture (→ STOPPING → STOPPED). Local captures end at
 *        once, with the file complete.
 * @param session the session.
 * @return 0; ::PKTCAP_E_STATE when not PENDING/RUNNING; ::PKTCAP_E_NOTSUP.
 */
PKTCAP_API int pktcap_session_stop(pktcap_session *session);

/**
 * @brief Delete the session at the provider (and its stored result there).
 * @param session the session; the handle stays valid and must still be freed.
 * @return 0; ::PKTCAP_E_STATE while it runs; ::PKTCAP_E_NOTSUP.
 */
PKTCAP_API int pktcap_session_delete(pktcap_session *session);

/**
 * @brief Copy the finished capture into a storage target (atomically, size-limited).
 * @param session the session.
 * @param storage where the file goes.
 * @return 0; ::PKTCAP_E_STATE unless COMPLETE or STOPPED; ::PKTCAP_E_NOTSUP;
 *         ::PKTCAP_E_IO; the provider's error.
 */
PKTCAP_API int pktcap_session_fetch(pktcap_session *session, pktcap_storage *storage);

/**
 * @brief The portable state. Any thread may call it.
 * @param session the session.
 * @return a ::pktcap_state_t, or ::PKTCAP_E_INVAL for NULL.
 */
PKTCAP_API int pktcap_session_state(const pktcap_session *session);

/**
 * @brief A state's name.
 * @param state a ::pktcap_state_t.
 * @return "NEW", "RUNNING", …; "UNKNOWN" for other values.
 */
PKTCAP_API const char *pktcap_state_name(int state);

/**
 * @brief The session's name.
 * @param session the session.
 * @return the name; NULL for NULL.
 */
PKTCAP_API const char *pktcap_session_name(const pktcap_session *session);

/**
 * @brief The provider's id for the session (what pktcap_session_open() takes).
 * @param session the session.
 * @return the id ("" before start); NULL for NULL.
 */
PKTCAP_API const char *pktcap_session_id(const pktcap_session *session);

/**
 * @brief The provider's own status text (e.g. Azure's `packetCaptureStatus`).
 * @param session the session.
 * @return the text ("" when none yet); NULL for NULL.
 */
PKTCAP_API const char *pktcap_session_native_status(const pktcap_session *session);

/**
 * @brief Why the capture ended.
 * @param session the session.
 * @return "packet limit", "byte limit", "time limit", "stopped", or a
 *         provider's stop reason; "" while it runs; NULL for NULL.
 */
PKTCAP_API const char *pktcap_session_stop_reason(const pktcap_session *session);

/**
 * @brief Why a session FAILED.
 * @param session the session.
 * @return the error text ("" unless FAILED); NULL for NULL.
 */
PKTCAP_API const char *pktcap_session_error_text(const pktcap_session *session);

/**
 * @brief A statistic of the session. Any thread may call it.
 * @param session the session.
 * @param stat a ::pktcap_stat_t.
 * @return its value; 0 when unknown (pktcap_session_stat_known() tells a
 *         counted zero from a statistic the provider does not report).
 */
PKTCAP_API uint64_t pktcap_session_stat(const pktcap_session *session, int stat);

/**
 * @brief Whether the provider counts a statistic for this session.
 *
 * Remote providers report what their API reports: Azure Network Watcher no
 * packet or byte counts, Cloudflare the packets captured once its API has a
 * number, Citrix SD-WAN the packets and bytes of the summaries it returns.
 * The local provider counts every statistic from the start (zero is a count
 * then). ::PKTCAP_STAT_ELAPSED_MS is known once the session was seen
 * running. Any thread may call it. Available since 1.4.
 *
 * @param session the session.
 * @param stat a ::pktcap_stat_t.
 * @return 1 when pktcap_session_stat() returns a reported value, 0 when the
 *         statistic is unknown (so far); ::PKTCAP_E_INVAL for a NULL session
 *         or a value outside ::pktcap_stat_t.
 */
PKTCAP_API int pktcap_session_stat_known(const pktcap_session *session, int stat);

/**
 * @brief Follow the progress of pktcap_session_fetch().
 *
 * Unlike the other setters, allowed in every state. Available since 1.2.
 *
 * @param session the session.
 * @param cb the callback; NULL removes it.
 * @param userdata passed to @p cb unchanged.
 * @return 0, or ::PKTCAP_E_INVAL for a NULL session.
 */
PKTCAP_API int pktcap_session_set_progress_callback(pktcap_session *session, pktcap_progress_cb cb,
                                                    void *userdata);

/**
 * @brief Everything known about a session, as one JSON object.
 *
 * Members: `provider`, `name`, `id`, `state` (the portable state's name),
 * `native_status`, `stop_reason`, `error_text`, `stats` (an object keyed by
 * statistic: `packets`, `bytes`, `wire_bytes`, `dropped`, `if_dropped`,
 * `elapsed_ms`; `null` for one the provider does not report — since 1.4,
 * 0 before), and `native`: the provider's own description of the capture as
 * it last answered (Azure: `{"resource": PacketCaptureResult, "status":
 * queryStatus result}`), or `null` when the provider has none.
 * Available since 1.2.
 *
 * @param[out] json the text; free it with pktcap_free(). Untouched on failure.
 * @param session the session.
 * @return 0, ::PKTCAP_E_INVAL for NULL arguments, ::PKTCAP_E_NOMEM.
 */
PKTCAP_API int pktcap_session_details(char **json, const pktcap_session *session);

/**
 * @brief What the session captures on, as set with pktcap_session_set_target()
 *        or as the provider described it (pktcap_session_open()).
 * Available since 1.2.
 * @param session the session.
 * @return the target ("" when not set); NULL for NULL.
 */
PKTCAP_API const char *pktcap_session_target(const pktcap_session *session);

/**
 * @brief How many packet summaries the provider returned with the session
 *        (providers with ::PKTCAP_CAP_SUMMARIES, once the session ended).
 * Available since 1.3.
 * @param session the session.
 * @return the count; 0 for NULL or when there are none.
 */
PKTCAP_API size_t pktcap_session_summary_count(const pktcap_session *session);

/**
 * @brief One packet summary the provider returned with the session.
 *
 * The provider's fields are parsed into a ::pktcap_summary (fields it does
 * not give are 0 or empty); print it with pktcap_summary_format(). Available
 * since 1.3.
 *
 * @param[in,out] out its `struct_size` must be set (as for
 *        pktcap_summarize()); filled on success.
 * @param session the session.
 * @param index 0 … pktcap_session_summary_count() - 1.
 * @return 0; ::PKTCAP_E_END past the last one; ::PKTCAP_E_INVAL for NULL
 *         arguments or a `struct_size` that is too small.
 */
PKTCAP_API int pktcap_session_summary(pktcap_summary *out, const pktcap_session *session,
                                      size_t index);

/**
 * @brief Free a session handle. A running local capture is stopped first (its
 *        file completed); remote sessions keep running at the provider.
 * @param session the session; NULL is accepted.
 */
PKTCAP_API void pktcap_session_free(pktcap_session *session);

PKTCAP_END_DECLS

#endif /* PKTCAP_SESSION_H */
