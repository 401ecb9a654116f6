/* Internal: the HTTP client every remote backend uses (libcurl).
 *
 * One pktcap__http per provider holds the settings (TLS, timeouts, retry
 * policy, size caps), a libcurl share handle (TLS sessions, DNS answers) and
 * an idle easy handle whose open connections the next request reuses.
 *
 * A request is sent with pktcap__http_send(): the retry policy runs inside
 * (exponential backoff with jitter, Retry-After honoured, a retry budget),
 * the Authorization header comes from a pktcap__auth (refreshed once on a
 * 401), and the final response is handed back whatever its status: mapping a
 * status onto a PKTCAP_E_* code is the caller's business, with
 * pktcap__http_status_error() doing the common part. Transport failures are
 * returned as codes (PKTCAP_E_NET, _TLS, _TIMEOUT, _LIMIT, _CANCELED).
 *
 * A client may keep cookies (pktcap__http_enable_cookies): what servers set
 * is kept in the client's cookie jar, shared by all its handles and threads,
 * and sent back on every later request, as a browser would — the way
 * appliances that log in with a session cookie (Citrix SD-WAN's NITRO API)
 * want it. A request can be cancelled from another thread (its `cancel`
 * flag) and can have a timeout of its own (a synchronous call that lasts as
 * long as the work it starts).
 *
 * pktcap__http_download() streams a body into a storage target in constant
 * memory, resumes a cut transfer with `Range`, and commits the unit only when
 * the whole body arrived: nothing half-downloaded ever has the final name.
 *
 * Internally each attempt is three phases — prepare an easy handle, transfer,
 * finish (classify, decide whether and when to retry) — so a later curl multi
 * driver can run many attempts from one thread with the same code.
 *
 * Nothing secret is ever logged: Authorization, Cookie, keys, tokens,
 * passwords and SAS signatures are replaced by "***" (lib/net/redact.h), and
 * bodies are never logged. */
#ifndef PKTCAP_NET_HTTP_H
#define PKTCAP_NET_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <pktcap/storage.h>

#include "core/log.h"

typedef struct pktcap__http pktcap__http;
typedef struct pktcap__auth pktcap__auth;   /* lib/net/auth.h */

/* ---- the client ------------------------------------------------------------- */

/* libcurl's global initialisation, once per process (thread-safe; also done
 * by pktcap__http_new). 0 or PKTCAP_E_NOMEM. */
int pktcap__http_global_init(void);

/* `log` (may be NULL) must outlive the client: it is the provider's logger. */
int pktcap__http_new(pktcap__http **out, const pktcap__logger *log);
void pktcap__http_free(pktcap__http *h);

/* Applies one of the common provider options below. Returns 0 when applied,
 * 1 when `key` is not an HTTP option (the backend goes on with its own), or
 * PKTCAP_E_INVAL naming the option and the bad value.
 *
 *   ca_file=PATH            CA bundle (PEM) to verify servers with
 *   ca_path=DIR             directory of hashed CA certificates
 *   tls_verify=true|false   false turns verification off (logged as a warning)
 *   connect_timeout_ms=N    default 10000
 *   timeout_ms=N            whole request, default 60000 (downloads: idle time
 *                           without a byte instead, same value)
 *   retries=N               retries after the first attempt, default 4, max 100
 *   retry_base_ms=N         first backoff, default 500 (doubles each time)
 *   retry_max_ms=N          longest single wait, default 30000
 *   retry_budget_ms=N       total time spent waiting to retry, default 120000
 *   max_response_bytes=N    API response body cap, default 16 MiB
 *   max_download_bytes=N    download cap, default 64 GiB
 *   allow_http=true|false   allow credentials over plain http to a host that
 *                           is not loopback (default false)
 */
int pktcap__http_set(pktcap__http *h, const char *key, const char *value);

/* Turns the cookie engine on for every later request of this client:
 * Set-Cookie headers are kept (libcurl's cookie engine, one jar shared by
 * the client's handles through its share handle, under its locks) and the
 * matching cookies go out with every request, whatever its `auth`. Cookies
 * are never written to disk, and their values are never logged (the Cookie
 * and Set-Cookie header lines are redacted). Off by default. 0 or NOMEM. */
int pktcap__http_enable_cookies(pktcap__http *h);

/* Forgets every cookie the client holds (before logging in again). 0 or NOMEM. */
int pktcap__http_clear_cookies(pktcap__http *h);

/* Whether a URL host (as libcurl gives it: "127.0.0.1", "localhost",
 * "[::1]") is this machine: credentials may go there over plain http. */
int pktcap__http_is_loopback(const char *host);

/* The header that carries the client request id (default "X-Request-ID";
 * Azure: "x-ms-client-request-id"). The value is copied. */
int pktcap__http_set_request_id_header(pktcap__http *h, const char *name);

/* ---- one request -------------------------------------------------------------- */

enum {
    PKTCAP__HTTP_RETRY_AUTO = 0,  /* by method: GET HEAD PUT DELETE are idempotent */
    PKTCAP__HTTP_RETRY_SAFE = 1,  /* treat as idempotent (e.g. a POST that only reads) */
    PKTCAP__HTTP_RETRY_NEVER = 2  /* only what the server marks retryable: 429, or any
                                     4xx/5xx with a Retry-After header (a 2xx/3xx with
                                     one is final: Azure paces polling that way) */
};

typedef struct pktcap__http_request {
    const char *method;            /* "GET", "PUT", "POST", "DELETE", "HEAD" */
    const char *url;               /* absolute; sent verbatim (polling URLs can be > 4 KB) */
    const char *const *headers;    /* extra "Name: value" lines, NULL-terminated; may be NULL */
    const void *body;              /* NULL: none (a PUT/POST without body sends Content-Length: 0) */
    size_t body_len;
    const char *content_type;      /* of the body; NULL = "application/json" */
    pktcap__auth *auth;            /* NULL: no Authorization */
    const char *scope;             /* the token audience for `auth` */
    const char *client_request_id; /* NULL: a new UUID for this call (same for its retries) */
    int retry;                     /* PKTCAP__HTTP_RETRY_* */
    const char *what;              /* for messages and logs: "create packet capture \"x\"" */
    int sensitive_body;            /* the body holds a secret (form with client_secret) */
    uint64_t timeout_ms;           /* whole request; 0: the client's timeout_ms (ignored by
                                      downloads, which fail only when they stall) */
    const int *cancel;             /* NULL, or a flag another thread sets (non-zero, with an
                                      atomic store) to cancel: the transfer stops within about
                                      a second (libcurl calls back at least once a second,
                                      more often while data flows), a retry wait at once, and
                                      the call returns PKTCAP_E_CANCELED. A login that the
                                      request's auth runs (pktcap__auth_new_session) is
                                      cancelled with it. */
} pktcap__http_request;

typedef struct pktcap__http_header {
    char *name, *value;            /* value without surrounding blanks */
} pktcap__http_header;

typedef struct pktcap__http_response {
    long status;                   /* of the final response */
    char *body;                    /* NUL-terminated ("" when none) */
    size_t body_len;
    pktcap__http_header *headers;  /* of the final response, in order */
    size_t nheaders;
    char client_request_id[40];    /* the id sent (re-send it while polling) */
    char request_id[128];          /* the server's: x-ms-request-id, cf-ray, x-request-id */
    int64_t retry_after_ms;        /* from the final response; -1 when absent; at most
                                      INT64_MAX / 4, so that a clock plus it cannot overflow */
    int attempts;                  /* requests sent, retries included */
} pktcap__http_response;

/* Sends the request, retrying as the policy allows. 0 when a final response
 * arrived (any status; resp filled, free with pktcap__http_response_clear),
 * else a negative code with the thread's error detail set (resp cleared):
 * PKTCAP_E_NET (DNS, refused, reset), PKTCAP_E_TLS, PKTCAP_E_TIMEOUT,
 * PKTCAP_E_LIMIT (body over max_response_bytes), PKTCAP_E_AUTH (no token),
 * PKTCAP_E_INVAL (credentials over plain http, bad URL), PKTCAP_E_CANCELED
 * (req->cancel was set), PKTCAP_E_NOMEM.
 * A 429/5xx still failing when retries or budget run out is returned as that
 * final response (status 429 etc.), with resp->attempts telling how many. */
int pktcap__http_send(pktcap__http *h, const pktcap__http_request *req,
                      pktcap__http_response *resp);

/* The value of the first header called `name` (case-insensitive), or NULL. */
const char *pktcap__http_header_get(const pktcap__http_response *resp, const char *name);

void pktcap__http_response_clear(pktcap__http_response *resp);

/* Records the thread's error for a response the caller does not accept and
 * returns its code: 400 INVAL, 401 AUTH, 403 PERM, 404 NOTFOUND, 405 NOTSUP,
 * 408 TIMEOUT, 409 CONFLICT, 412 CONFLICT, 413 LIMIT, 415 INVAL,
 * 429 THROTTLED, 5xx REMOTE, others REMOTE. The message reads
 * "WHAT: HTTP 404 Not Found: CODE: MESSAGE (request id ID)" plus
 * " after N attempts" when retried; provider_code/message (may be NULL) are
 * kept in the error detail beside the status. `code` overrides the mapping
 * when non-zero. */
int pktcap__http_status_error(const pktcap__http_response *resp, const char *what,
                              const char *provider_code, const char *provider_message,
                              int code);

/* ---- downloads ------------------------------------------------------------------ */

/* Called as bytes arrive; total is 0 when unknown. Non-zero cancels
 * (PKTCAP_E_CANCELED). */
typedef int (*pktcap__http_progress_cb)(uint64_t done, uint64_t total, void *userdata);

typedef struct pktcap__http_dl {
    uint64_t max_bytes;            /* 0: the client's max_download_bytes */
    int capture_file;              /* the body must start with a pcap/pcapng magic */
    pktcap__http_progress_cb progress;
    void *userdata;
    /* out */
    uint64_t bytes;                /* bytes committed */
    int format;                    /* PKTCAP_FORMAT_* recognised (capture_file) */
    int resumes;                   /* transfers continued with Range */
} pktcap__http_dl;   /* named apart from the function below */

/* GETs req->url into one unit of `st` (claim, begin, write, commit, release).
 * A transfer cut mid-body is resumed with "Range: bytes=N-" (206 with a
 * matching Content-Range continues the unit; a 200 starts it again), within
 * the retry policy. On a non-2xx final status nothing is written and 0 is
 * returned with resp filled (body capped at 64 KiB) for the caller to map;
 * every other failure aborts the unit (no final file) and returns its code:
 * PKTCAP_E_LIMIT over max_bytes (also from Content-Length before any byte),
 * PKTCAP_E_FORMAT when capture_file and the magic is wrong, storage errors,
 * transport errors as pktcap__http_send. */
int pktcap__http_download(pktcap__http *h, const pktcap__http_request *req, pktcap_storage *st,
                          pktcap__http_dl *dl, pktcap__http_response *resp);

/* ---- helpers shared with the backends --------------------------------------------- */

/* Parses Retry-After (delta seconds or an IMF-fixdate / RFC 850 / asctime
 * date, relative to `now` in Unix seconds), retry-after-ms and
 * x-ms-retry-after-ms from a response; the largest wins (ms). -1 when none
 * is valid. */
int64_t pktcap__http_retry_after_ms(const pktcap__http_response *resp, int64_t now);

/* A new random UUID v4 in canonical text form (37 bytes with the NUL). */
void pktcap__http_uuid(char out[37]);

/* Percent-encodes `s` for a URL path segment or query value. */
int pktcap__http_escape(char **out, const char *s);

/* ---- test transport (fuzz targets only) ------------------------------------------ */

/* What an attempt would send. Valid during the call only. */
typedef struct pktcap__http_test_request {
    const char *method;
    const char *url;
    const char *const *headers;    /* the header lines as they would go out, the
                                      Authorization of req->auth included; NULL-terminated */
    const void *body;              /* NULL when the attempt sends none */
    size_t body_len;
    int download;                  /* an attempt of pktcap__http_download */
} pktcap__http_test_request;

/* Transport failures a test transport can answer with instead of (or, after
 * part of a response, in the middle of) a response. */
enum {
    PKTCAP__HTTP_TEST_OK = 0,
    PKTCAP__HTTP_TEST_REFUSED = 1,  /* nothing sent: connection refused */
    PKTCAP__HTTP_TEST_TIMEOUT = 2,  /* the request timed out */
    PKTCAP__HTTP_TEST_RESET = 3,    /* the connection broke (after what was received) */
    PKTCAP__HTTP_TEST_TLS = 4       /* the server's certificate was not verified */
};

/* What the server answered. The memory is the test transport's and must stay
 * valid until it is called again (or removed). */
typedef struct pktcap__http_test_response {
    long status;                   /* 200-999; 0: nothing received */
    const char *headers;           /* "Name: value" lines separated by "\n" (or "\r\n");
                                      empty lines and status lines are skipped */
    size_t headers_len;
    const void *body;              /* ignored for HEAD, 204 and 304, as libcurl does */
    size_t body_len;
} pktcap__http_test_response;

/* Fills *resp and returns PKTCAP__HTTP_TEST_OK, or a PKTCAP__HTTP_TEST_*
 * failure (with resp->status 0, or after the response it filled: a transfer
 * cut short). Called from whichever thread sends the request. */
typedef int (*pktcap__http_test_fn)(const pktcap__http_test_request *req,
                                    pktcap__http_test_response *resp, void *userdata);

/* FOR FUZZ TARGETS ONLY: process-global, not exported. While a function is
 * set, it replaces libcurl's transfer in every attempt of every client that
 * starts a call afterwards: its answer goes through the same header and body
 * callbacks a real response does (a Content-Length larger than the body is a
 * transfer cut short, a smaller one truncates it, as with libcurl), and
 * everything after — status mapping, the retry policy, size caps, downloads
 * into storage — runs unchanged, except that retry delays are counted
 * against the budget without being slept. NULL restores the network. */
void pktcap__http_set_test_transport(pktcap__http_test_fn fn, void *userdata);

#endif
