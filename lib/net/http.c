/* http.c — the HTTP client of the remote backends (lib/net/http.h), on
 * libcurl's easy interface.
 *
 * A call (pktcap__http_send, pktcap__http_download) runs one or more
 * attempts. Each attempt has three phases:
 *
 *   prepare   reset the easy handle and set it up for this attempt: URL,
 *             TLS, timeouts, the header list (Authorization fetched now, so a
 *             refreshed token is used), Range when a download resumes;
 *   transfer  curl_easy_perform; the header and body callbacks fill the
 *             response or stream into the storage unit;
 *   finish    classify the outcome (a response, a transport error, a
 *             callback's own error) and decide: done, or retry after a delay.
 *
 * The phases share nothing but the call's state, so a call can also run on
 * a fiber of a pktcap_group (lib/core/fiber.h): the transfer then goes to the
 * group's multi handle and every wait (rate limit, retry delay) suspends the
 * fiber instead of the thread, while many other calls run on the same thread.
 *
 * Connections are reused through the easy handle a call keeps for all its
 * attempts, and one idle handle the client keeps for the next call; in a
 * group, the transfers run in the group's multi handle, whose connection
 * pool then serves every call of every client in the group. The
 * client's share handle holds what libcurl allows threads to share under
 * locks — DNS answers and TLS sessions. Connections are not put in it:
 * libcurl documents sharing connections between concurrent threads as
 * unsupported (CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT), and two threads may
 * use one provider. The share also holds the cookie jar; libcurl uses it
 * only for the handles whose cookie engine is on (CURLOPT_COOKIEFILE ""),
 * which prepare turns on for every request of a client that asked for
 * cookies (pktcap__http_enable_cookies).
 *
 * Cancelling (req->cancel): the flag is read before each attempt, between
 * retries (the wait is cut short), and during a transfer by libcurl's
 * progress callback, which libcurl calls at least once a second. */
#include "net/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <pktcap/file.h>
#include <pktcap/version.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/fiber.h"
#include "core/strbuf.h"
#include "core/uri.h"
#include "net/auth.h"
#include "net/redact.h"
#include "storage/storage.h"

#define USER_AGENT "User-Agent: libpktcap/" PKTCAP_VERSION_STRING
#define ERROR_BODY_MAX (64 * 1024)   /* of a download's non-2xx response */
#define DAY_MS 86400000ULL
/* The longest Retry-After a response reports (pktcap__http_response), so
 * that callers may add it to a clock without overflowing: a server can ask
 * for up to INT64_MAX ms ("Retry-After: 99999999999999999999"). */
#define RETRY_AFTER_MAX_MS (INT64_MAX / 4)

enum { DONE = 0, RETRY = 1 };        /* what finish decides */

struct pktcap__http {
    const pktcap__logger *log;
    CURLSH *share;
    pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
    pthread_mutex_t lock;            /* guards idle and warned */
    CURL *idle;                      /* an easy handle, and its connections, for the next call */
    char **warned;                   /* hosts already warned about tls_verify=false */
    size_t nwarned, warned_alloc;
    char *ca_file, *ca_path, *request_id_header;
    int tls_verify, allow_http;
    int cookie_jar;                  /* the share holds a cookie jar (libcurl has cookies) */
    int cookies;                     /* pktcap__http_enable_cookies: the engine is on */
    uint64_t connect_timeout_ms, timeout_ms, retries, retry_base_ms, retry_max_ms,
        retry_budget_ms, max_response_bytes, max_download_bytes;
    /* rate_limit=N/S: at most N requests (attempts) in any S seconds. Under
     * `lock`: when the last N were sent (monotonic ms, a ring; 0 = free). */
    uint64_t rate_count, rate_window_ms;
    int64_t *rate_sent;
    size_t rate_next;
    int rate_warned;                 /* the first wait is logged at INFO, later ones at DEBUG */
};

/* A download's state across the attempts of its call. */
struct download {
    pktcap_storage *st;
    pktcap__http_dl *dl;
    uint64_t max;
    uint64_t received;               /* body bytes of the unit so far, held ones included */
    uint64_t total;                  /* size of the whole file; 0 when unknown */
    uint64_t offset;                 /* where this attempt's Range starts (0: none) */
    unsigned char head[4];           /* first bytes, held until the magic is checked */
    int begun;                       /* the unit is open */
    int to_storage;                  /* this attempt's body belongs to the unit */
    char *etag;                      /* strong validator of the first response, for If-Range */
};

/* One call, across its attempts; prepare resets the fields after `attempt`. */
struct call {
    pktcap__http *h;
    const pktcap__http_request *req;
    pktcap__http_response *resp;
    struct download *d;              /* NULL for pktcap__http_send */
    const char *what;
    const char *method;
    char *url;                       /* redacted, for logs and messages */
    CURL *easy;
    int idempotent;
    int retries_used;
    int refreshed;                   /* a 401 already had its token fetched again */
    int64_t waited_ms;
    size_t body_max;                 /* of a response body kept in memory */
    /* attempt */
    struct curl_slist *headers;
    char errbuf[CURL_ERROR_SIZE];
    pktcap__strbuf body;
    size_t header_alloc;             /* slots allocated at resp->headers */
    long status;                     /* of the header block being received */
    int started;                     /* that block's headers are complete */
    int rc;                          /* why a callback stopped the transfer */
    int64_t start_ms;
    /* a test transport replaces libcurl's transfer (fuzz targets) */
    pktcap__http_test_fn test_fn;
    void *test_userdata;
    uint64_t test_bytes;             /* body bytes it delivered in this attempt */
};

/* ---- small helpers ----------------------------------------------------------- */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int is_canceled(const int *flag)
{
    return flag && __atomic_load_n(flag, __ATOMIC_ACQUIRE) != 0;
}

/* Random bytes from getrandom, else /dev/urandom, else a clock-and-pid
 * mix: request ids and jitter need to differ, not to be secret. */
static void random_bytes(void *buf, size_t n)
{
    unsigned char *p = buf;
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom(p + got, n - got, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    if (got < n) {
        int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
        while (fd >= 0 && got < n) {
            ssize_t r = read(fd, p + got, n - got);
            if (r > 0)
                got += (size_t)r;
            else if (r == 0 || errno != EINTR)
                break;
        }
        if (fd >= 0)
            close(fd);
    }
    if (got < n) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ ((uint64_t)getpid() << 40);
        for (; got < n; got++) {
            x += 0x9E3779B97F4A7C15ULL;   /* splitmix64 */
            uint64_t z = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
            p[got] = (unsigned char)(z ^ (z >> 31));
        }
    }
}

static const char *reason_phrase(long status)
{
    static const struct { long status; const char *text; } reasons[] = {
        { 200, "OK" }, { 201, "Created" }, { 202, "Accepted" }, { 204, "No Content" },
        { 206, "Partial Content" }, { 301, "Moved Permanently" }, { 302, "Found" },
        { 303, "See Other" }, { 304, "Not Modified" }, { 307, "Temporary Redirect" },
        { 308, "Permanent Redirect" }, { 400, "Bad Request" }, { 401, "Unauthorized" },
        { 403, "Forbidden" }, { 404, "Not Found" }, { 405, "Method Not Allowed" },
        { 406, "Not Acceptable" }, { 408, "Request Timeout" }, { 409, "Conflict" },
        { 410, "Gone" }, { 411, "Length Required" }, { 412, "Precondition Failed" },
        { 413, "Content Too Large" }, { 415, "Unsupported Media Type" },
        { 416, "Range Not Satisfiable" }, { 422, "Unprocessable Content" },
        { 429, "Too Many Requests" }, { 500, "Internal Server Error" },
        { 501, "Not Implemented" }, { 502, "Bad Gateway" }, { 503, "Service Unavailable" },
        { 504, "Gateway Timeout" },
    };
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        if (reasons[i].status == status)
            return reasons[i].text;
    return NULL;
}

/* Decimal digits only, saturating at INT64_MAX; -1 for anything else. */
static int parse_count(const char *s, int64_t *out)
{
    int64_t v = 0;
    if (!*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v > (INT64_MAX - (*s - '0')) / 10 ? INT64_MAX : v * 10 + (*s - '0');
    }
    *out = v;
    return 0;
}

/* ---- the client ---------------------------------------------------------------- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result;

/* Once per process: curl_easy_init would do it implicitly, but not safely
 * when two threads make their first handles at the same time. */
static void curl_init_once(void)
{
    curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void share_lock(CURL *e, curl_lock_data data, curl_lock_access access, void *userp)
{
    pktcap__http *h = userp;
    (void)e;
    (void)access;
    pthread_mutex_lock(&h->share_locks[data]);
}

static void share_unlock(CURL *e, curl_lock_data data, void *userp)
{
    pktcap__http *h = userp;
    (void)e;
    pthread_mutex_unlock(&h->share_locks[data]);
}

static int share_setup(pktcap__http *h)
{
    CURLSHcode sc;
    h->share = curl_share_init();
    if (!h->share)
        return pktcap__error_set(PKTCAP_E_NOMEM, "HTTP client: libcurl could not make a share handle");
    sc = curl_share_setopt(h->share, CURLSHOPT_USERDATA, h);
    if (sc == CURLSHE_OK)
        sc = curl_share_setopt(h->share, CURLSHOPT_LOCKFUNC, share_lock);
    if (sc == CURLSHE_OK)
        sc = curl_share_setopt(h->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
    if (sc == CURLSHE_OK)
        sc = curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    if (sc == CURLSHE_OK)
        sc = curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    if (sc != CURLSHE_OK)
        return pktcap__error_set(PKTCAP_E_NOMEM, "HTTP client: setting up the share handle: %s",
                                 curl_share_strerror(sc));
    /* Before any handle uses the share (libcurl refuses changes afterwards);
     * a libcurl built without cookies only loses pktcap__http_enable_cookies. */
    sc = curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_COOKIE);
    if (sc == CURLSHE_NOMEM)
        return pktcap__error_set(PKTCAP_E_NOMEM, "HTTP client: setting up the cookie jar: %s",
                                 curl_share_strerror(sc));
    h->cookie_jar = sc == CURLSHE_OK;
    return 0;
}

int pktcap__http_global_init(void)
{
    pthread_once(&curl_once, curl_init_once);
    if (curl_init_result != CURLE_OK)
        return pktcap__error_set(PKTCAP_E_NOMEM, "HTTP client: libcurl failed to initialise: %s",
                                 curl_easy_strerror(curl_init_result));
    return 0;
}

int pktcap__http_new(pktcap__http **out, const pktcap__logger *log)
{
    pktcap__http *h;
    int rc;
    if ((rc = pktcap__http_global_init()) < 0)
        return rc;
    h = pktcap__calloc(1, sizeof *h);
    if (!h)
        return PKTCAP_E_NOMEM;
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_init(&h->share_locks[i], NULL);
    pthread_mutex_init(&h->lock, NULL);
    h->log = log;
    h->tls_verify = 1;
    h->connect_timeout_ms = 10000;
    h->timeout_ms = 60000;
    h->retries = 4;
    h->retry_base_ms = 500;
    h->retry_max_ms = 30000;
    h->retry_budget_ms = 120000;
    h->max_response_bytes = 16ULL << 20;
    h->max_download_bytes = 64ULL << 30;
    h->request_id_header = pktcap__strdup("X-Request-ID");
    rc = h->request_id_header ? share_setup(h) : PKTCAP_E_NOMEM;
    if (rc != 0) {
        pktcap__http_free(h);
        return rc;
    }
    *out = h;
    return 0;
}

void pktcap__http_free(pktcap__http *h)
{
    if (!h)
        return;
    if (h->idle)   /* before the share: a handle must not outlive its share */
        curl_easy_cleanup(h->idle);
    if (h->share)
        curl_share_cleanup(h->share);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_destroy(&h->share_locks[i]);
    pthread_mutex_destroy(&h->lock);
    for (size_t i = 0; i < h->nwarned; i++)
        pktcap__free(h->warned[i]);
    pktcap__free(h->warned);
    pktcap__free(h->ca_file);
    pktcap__free(h->ca_path);
    pktcap__free(h->request_id_header);
    pktcap__free(h->rate_sent);
    pktcap__free(h);
}

static const struct {
    const char *key;
    size_t offset;
    uint64_t min, max;
} number_options[] = {
    { "connect_timeout_ms", offsetof(pktcap__http, connect_timeout_ms), 1, DAY_MS },
    { "timeout_ms", offsetof(pktcap__http, timeout_ms), 1, DAY_MS },
    { "retries", offsetof(pktcap__http, retries), 0, 100 },
    { "retry_base_ms", offsetof(pktcap__http, retry_base_ms), 0, DAY_MS },
    { "retry_max_ms", offsetof(pktcap__http, retry_max_ms), 0, DAY_MS },
    { "retry_budget_ms", offsetof(pktcap__http, retry_budget_ms), 0, DAY_MS },
    { "max_response_bytes", offsetof(pktcap__http, max_response_bytes), 1, SIZE_MAX / 2 },
    { "max_download_bytes", offsetof(pktcap__http, max_download_bytes), 1, UINT64_MAX / 2 },
};

/* ca_file must be a file, ca_path a directory: checked now, so a typo is
 * reported where it was made rather than as a TLS failure later. */
static int set_ca(char **slot, const char *key, const char *value, int want_dir)
{
    struct stat sb;
    char *copy;
    if (stat(value, &sb) != 0)
        return pktcap__error_errno(PKTCAP_E_INVAL, errno, "HTTP option %s: '%s'", key, value);
    if (want_dir != !!S_ISDIR(sb.st_mode))
        return pktcap__error_set(PKTCAP_E_INVAL, "HTTP option %s: '%s' is %s", key, value,
                                 want_dir ? "not a directory" : "a directory, not a file");
    copy = pktcap__strdup(value);
    if (!copy)
        return PKTCAP_E_NOMEM;
    pktcap__free(*slot);
    *slot = copy;
    return 0;
}

/* rate_limit: "N/S" (N requests in any S seconds, 1 <= N <= 100000, 1 <= S
 * <= 86400) or "none". The ring of send times starts empty. */
static int set_rate_limit(pktcap__http *h, const char *what, const char *value)
{
    uint64_t count = 0, seconds = 0;
    int64_t *ring = NULL;
    const char *slash = strchr(value, '/');
    if (strcmp(value, "none") != 0) {
        char head[32];
        size_t n = slash ? (size_t)(slash - value) : 0;
        if (!slash || n == 0 || n >= sizeof head)
            return pktcap__error_set(PKTCAP_E_INVAL, "%s: '%.40s' is not N/SECONDS (such as "
                                     "1200/300) nor none", what, value);
        memcpy(head, value, n);
        head[n] = '\0';
        int rc = pktcap__parse_u64(&count, what, head, 1, 100000);
        if (rc == 0)
            rc = pktcap__parse_u64(&seconds, what, slash + 1, 1, 86400);
        if (rc < 0)
            return rc;
        if (!(ring = pktcap__calloc((size_t)count, sizeof *ring)))
            return PKTCAP_E_NOMEM;
    }
    pthread_mutex_lock(&h->lock);
    pktcap__free(h->rate_sent);
    h->rate_sent = ring;
    h->rate_count = count;
    h->rate_window_ms = seconds * 1000;
    h->rate_next = 0;
    pthread_mutex_unlock(&h->lock);
    return 0;
}

int pktcap__http_set(pktcap__http *h, const char *key, const char *value)
{
    char what[64];
    if (!h || !key || !value)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap__http_set: %s is NULL",
                                 !h ? "client" : !key ? "key" : "value");
    snprintf(what, sizeof what, "HTTP option '%.40s'", key);
    if (strcmp(key, "ca_file") == 0)
        return set_ca(&h->ca_file, key, value, 0);
    if (strcmp(key, "ca_path") == 0)
        return set_ca(&h->ca_path, key, value, 1);
    if (strcmp(key, "tls_verify") == 0)
        return pktcap__parse_bool(&h->tls_verify, what, value);
    if (strcmp(key, "allow_http") == 0)
        return pktcap__parse_bool(&h->allow_http, what, value);
    if (strcmp(key, "rate_limit") == 0)
        return set_rate_limit(h, what, value);
    for (size_t i = 0; i < sizeof number_options / sizeof number_options[0]; i++)
        if (strcmp(key, number_options[i].key) == 0)
            return pktcap__parse_u64((uint64_t *)(void *)((char *)h + number_options[i].offset),
                                     what, value, number_options[i].min, number_options[i].max);
    return 1;
}

int pktcap__http_enable_cookies(pktcap__http *h)
{
    if (!h)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap__http_enable_cookies: client is NULL");
    if (!h->cookie_jar)
        return pktcap__error_set(PKTCAP_E_NOTSUP, "HTTP client: this libcurl (%s) was built "
                                 "without cookie support", curl_version());
    h->cookies = 1;
    return 0;
}

static CURL *take_easy(pktcap__http *h);
static void give_back_easy(pktcap__http *h, CURL *e);

int pktcap__http_clear_cookies(pktcap__http *h)
{
    CURL *e;
    CURLcode cc;
    if (!h)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap__http_clear_cookies: client is NULL");
    if (!h->cookie_jar)
        return 0;
    if (!(e = take_easy(h)))
        return pktcap__error_set(PKTCAP_E_NOMEM, "HTTP client: libcurl could not make a handle");
    /* The jar is the share's: any handle attached to it reaches it. */
    cc = curl_easy_setopt(e, CURLOPT_SHARE, h->share);
    if (cc == CURLE_OK)
        cc = curl_easy_setopt(e, CURLOPT_COOKIELIST, "ALL");
    curl_easy_reset(e);
    give_back_easy(h, e);
    if (cc != CURLE_OK)
        return pktcap__error_set(cc == CURLE_OUT_OF_MEMORY ? PKTCAP_E_NOMEM : PKTCAP_E_INVAL,
                                 "HTTP client: forgetting the cookies: %s", curl_easy_strerror(cc));
    return 0;
}

int pktcap__http_set_request_id_header(pktcap__http *h, const char *name)
{
    char *copy;
    if (!h || !name || !*name || strpbrk(name, ": \t\r\n"))
        return pktcap__error_set(PKTCAP_E_INVAL, "request id header: '%s' is not a header name",
                                 name ? name : "(null)");
    copy = pktcap__strdup(name);
    if (!copy)
        return PKTCAP_E_NOMEM;
    pktcap__free(h->request_id_header);
    h->request_id_header = copy;
    return 0;
}

/* curl_easy_reset, first dropping the CURLOPT_COOKIEFILE list: libcurl 7.88
 * (Debian 12) frees that list only in curl_easy_cleanup, so a reset after
 * each cookie request would leak it. With a shared jar, setting it to NULL
 * leaves the jar alone (the share keeps it). */
static void reset_easy(const pktcap__http *h, CURL *e)
{
    if (h->cookies)
        curl_easy_setopt(e, CURLOPT_COOKIEFILE, (char *)NULL);
    curl_easy_reset(e);
}

/* The easy handle a call uses for all its attempts: the client's idle one
 * (its connections are what a second request reuses), else a new one. */
static CURL *take_easy(pktcap__http *h)
{
    CURL *e;
    pthread_mutex_lock(&h->lock);
    e = h->idle;
    h->idle = NULL;
    pthread_mutex_unlock(&h->lock);
    return e ? e : curl_easy_init();
}

static void give_back_easy(pktcap__http *h, CURL *e)
{
    pthread_mutex_lock(&h->lock);
    if (!h->idle) {
        h->idle = e;
        e = NULL;
    }
    pthread_mutex_unlock(&h->lock);
    if (e)
        curl_easy_cleanup(e);
}

/* tls_verify=false is logged once per host and client: often enough to be
 * seen, not on every poll of a long capture. */
static int warn_unverified(pktcap__http *h, const char *host)
{
    int rc = 0, seen = 0;
    pthread_mutex_lock(&h->lock);
    for (size_t i = 0; i < h->nwarned && !seen; i++)
        seen = strcmp(h->warned[i], host) == 0;
    if (!seen) {
        char **grown = pktcap__grow(h->warned, &h->warned_alloc, h->nwarned, sizeof *h->warned);
        char *copy = grown ? pktcap__strdup(host) : NULL;
        if (grown)
            h->warned = grown;
        if (copy)
            h->warned[h->nwarned++] = copy;
        else
            rc = PKTCAP_E_NOMEM;
    }
    pthread_mutex_unlock(&h->lock);
    if (rc == 0 && !seen)
        pktcap__log(h->log, PKTCAP_LOG_WARN,
                    "TLS verification is off (tls_verify=false): the identity of %s is not checked",
                    host);
    return rc;
}

/* ---- responses ------------------------------------------------------------------- */

const char *pktcap__http_header_get(const pktcap__http_response *resp, const char *name)
{
    for (size_t i = 0; resp && i < resp->nheaders; i++)
        if (strcasecmp(resp->headers[i].name, name) == 0)
            return resp->headers[i].value;
    return NULL;
}

/* Name and value live in one allocation, freed through the name. */
static void free_headers(pktcap__http_response *resp)
{
    for (size_t i = 0; i < resp->nheaders; i++)
        pktcap__free(resp->headers[i].name);
    pktcap__free(resp->headers);
    resp->headers = NULL;
    resp->nheaders = 0;
}

void pktcap__http_response_clear(pktcap__http_response *resp)
{
    if (!resp)
        return;
    free_headers(resp);
    pktcap__free(resp->body);
    memset(resp, 0, sizeof *resp);
    resp->retry_after_ms = -1;
}

static int add_header(pktcap__http_response *resp, size_t *alloc, const char *line, size_t len)
{
    const char *colon = memchr(line, ':', len);
    size_t name_len, value_len;
    const char *value;
    pktcap__http_header *grown;
    char *p;
    if (!colon)
        return 0;   /* not a header line: nothing to keep */
    name_len = (size_t)(colon - line);
    while (name_len > 0 && (line[name_len - 1] == ' ' || line[name_len - 1] == '\t'))
        name_len--;
    value = colon + 1;
    value_len = len - (size_t)(value - line);
    while (value_len > 0 && (*value == ' ' || *value == '\t'))
        value++, value_len--;
    while (value_len > 0 && (value[value_len - 1] == ' ' || value[value_len - 1] == '\t'))
        value_len--;
    grown = pktcap__grow(resp->headers, alloc, resp->nheaders, sizeof *resp->headers);
    if (!grown)
        return PKTCAP_E_NOMEM;
    resp->headers = grown;
    p = pktcap__malloc(name_len + value_len + 2);
    if (!p)
        return PKTCAP_E_NOMEM;
    memcpy(p, line, name_len);
    p[name_len] = '\0';
    memcpy(p + name_len + 1, value, value_len);
    p[name_len + 1 + value_len] = '\0';
    resp->headers[resp->nheaders].name = p;
    resp->headers[resp->nheaders].value = p + name_len + 1;
    resp->nheaders++;
    return 0;
}

/* The unsigned decimal value of a header, or -1 when absent or malformed. */
static int header_u64(const pktcap__http_response *resp, const char *name, uint64_t *out)
{
    const char *v = pktcap__http_header_get(resp, name);
    int64_t n;
    if (!v || parse_count(v, &n) != 0 || n == INT64_MAX)
        return -1;
    *out = (uint64_t)n;
    return 0;
}

static void copy_request_id(pktcap__http_response *resp)
{
    static const char *const names[] = { "x-ms-request-id", "request-id", "cf-ray", "x-request-id" };
    resp->request_id[0] = '\0';
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *v = pktcap__http_header_get(resp, names[i]);
        if (v && *v) {
            snprintf(resp->request_id, sizeof resp->request_id, "%s", v);
            return;
        }
    }
}

/* ---- Retry-After -------------------------------------------------------------------- */

static const char *const month_names[12] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
static const char *const day_names[7] = { "Monday", "Tuesday", "Wednesday", "Thursday",
                                          "Friday", "Saturday", "Sunday" };

/* Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int lit(const char **p, const char *s)
{
    size_t n = strlen(s);
    if (strncmp(*p, s, n) != 0)
        return -1;
    *p += n;
    return 0;
}

/* Between `min` and `max` digits. */
static int digits(const char **p, int min, int max, int *out)
{
    int v = 0, n = 0;
    while (n < max && (*p)[n] >= '0' && (*p)[n] <= '9') {
        v = v * 10 + ((*p)[n] - '0');
        n++;
    }
    if (n < min)
        return -1;
    *p += n;
    *out = v;
    return 0;
}

static int month(const char **p, int *out)
{
    for (int i = 0; i < 12; i++)
        if (lit(p, month_names[i]) == 0) {
            *out = i + 1;
            return 0;
        }
    return -1;
}

/* A day name, long ("Sunday") or short ("Sun"). */
static int day_name(const char **p, int *is_long)
{
    for (int i = 0; i < 7; i++)
        if (lit(p, day_names[i]) == 0) {
            *is_long = 1;
            return 0;
        }
    for (int i = 0; i < 7; i++)
        if (strncmp(*p, day_names[i], 3) == 0) {
            *p += 3;
            *is_long = 0;
            return 0;
        }
    return -1;
}

static int clock_time(const char **p, int *hh, int *mm, int *ss)
{
    return digits(p, 2, 2, hh) || lit(p, ":") || digits(p, 2, 2, mm) || lit(p, ":") ||
                   digits(p, 2, 2, ss) || *hh > 23 || *mm > 59 || *ss > 60
               ? -1
               : 0;
}

/* RFC 9110: a two-digit year more than 50 years ahead is in the past century. */
static int full_year(int yy, int64_t now)
{
    time_t t = (time_t)now;
    struct tm tm;
    int this_year = gmtime_r(&t, &tm) ? tm.tm_year + 1900 : 1970;
    int y = this_year - this_year % 100 + yy;
    return y > this_year + 50 ? y - 100 : y;
}

/* An HTTP-date in any of the three forms RFC 9110 makes recipients accept:
 *   IMF-fixdate  Sun, 06 Nov 1994 08:49:37 GMT
 *   RFC 850      Sunday, 06-Nov-94 08:49:37 GMT
 *   asctime      Sun Nov  6 08:49:37 1994 */
static int parse_http_date(const char *s, int64_t now, int64_t *out)
{
    int is_long, y, mo, d, hh, mm, ss;
    if (day_name(&s, &is_long) != 0)
        return -1;
    if (!is_long && *s == ',') {
        if (lit(&s, ", ") || digits(&s, 2, 2, &d) || lit(&s, " ") || month(&s, &mo) ||
            lit(&s, " ") || digits(&s, 4, 4, &y) || lit(&s, " ") || clock_time(&s, &hh, &mm, &ss) ||
            lit(&s, " GMT"))
            return -1;
    } else if (is_long && *s == ',') {
        if (lit(&s, ", ") || digits(&s, 2, 2, &d) || lit(&s, "-") || month(&s, &mo) ||
            lit(&s, "-") || digits(&s, 2, 2, &y) || lit(&s, " ") || clock_time(&s, &hh, &mm, &ss) ||
            lit(&s, " GMT"))
            return -1;
        y = full_year(y, now);
    } else if (!is_long) {
        if (lit(&s, " ") || month(&s, &mo) || lit(&s, " "))
            return -1;
        if (*s == ' ')   /* asctime pads a one-digit day with a space */
            s++;
        if (digits(&s, 1, 2, &d) || lit(&s, " ") || clock_time(&s, &hh, &mm, &ss) ||
            lit(&s, " ") || digits(&s, 4, 4, &y))
            return -1;
    } else {
        return -1;
    }
    if (*s || d < 1 || d > 31)
        return -1;
    *out = days_from_civil(y, mo, d) * 86400 + hh * 3600 + mm * 60 + ss;
    return 0;
}

/* Retry-After in ms: delta-seconds or an HTTP-date; -1 when invalid. */
static int64_t retry_after_value(const char *v, int64_t now)
{
    int64_t n;
    if (parse_count(v, &n) == 0)
        return n > INT64_MAX / 1000 ? INT64_MAX : n * 1000;
    if (parse_http_date(v, now, &n) == 0)
        return n <= now ? 0 : (n - now) * 1000;
    return -1;
}

/* The largest valid delay the response asks for, and the header that gave it. */
static int64_t retry_after(const pktcap__http_response *resp, int64_t now, const char **which)
{
    int64_t best = -1;
    *which = NULL;
    for (size_t i = 0; resp && i < resp->nheaders; i++) {
        const pktcap__http_header *hd = &resp->headers[i];
        int64_t ms = -1;
        const char *name = NULL;
        if (strcasecmp(hd->name, "Retry-After") == 0) {
            ms = retry_after_value(hd->value, now);
            name = "Retry-After";
        } else if (strcasecmp(hd->name, "retry-after-ms") == 0 ||
                   strcasecmp(hd->name, "x-ms-retry-after-ms") == 0) {
            name = strcasecmp(hd->name, "retry-after-ms") == 0 ? "retry-after-ms"
                                                                : "x-ms-retry-after-ms";
            if (parse_count(hd->value, &ms) != 0)
                ms = -1;
        }
        if (ms > best) {
            best = ms;
            *which = name;
        }
    }
    return best;
}

int64_t pktcap__http_retry_after_ms(const pktcap__http_response *resp, int64_t now)
{
    const char *which;
    return retry_after(resp, now, &which);
}

/* ---- helpers for the backends ------------------------------------------------------- */

void pktcap__http_uuid(char out[37])
{
    unsigned char b[16];
    random_bytes(b, sizeof b);
    b[6] = (unsigned char)((b[6] & 0x0F) | 0x40);   /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3F) | 0x80);   /* RFC 4122 variant */
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
             b[13], b[14], b[15]);
}

int pktcap__http_escape(char **out, const char *s)
{
    pktcap__strbuf b = PKTCAP__STRBUF_INIT;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '.' || *p == '_' || *p == '~')
            pktcap__strbuf_add(&b, (const char *)p, 1);
        else
            pktcap__strbuf_printf(&b, "%%%02X", *p);
    }
    return pktcap__strbuf_finish(out, &b);
}

int pktcap__http_status_error(const pktcap__http_response *resp, const char *what,
                              const char *provider_code, const char *provider_message, int code)
{
    static const struct { long status; int code; } codes[] = {
        { 400, PKTCAP_E_INVAL }, { 401, PKTCAP_E_AUTH }, { 403, PKTCAP_E_PERM },
        { 404, PKTCAP_E_NOTFOUND }, { 405, PKTCAP_E_NOTSUP }, { 408, PKTCAP_E_TIMEOUT },
        { 409, PKTCAP_E_CONFLICT }, { 412, PKTCAP_E_CONFLICT }, { 413, PKTCAP_E_LIMIT },
        { 415, PKTCAP_E_INVAL }, { 429, PKTCAP_E_THROTTLED },
    };
    const char *reason = reason_phrase(resp->status);
    const char *location = pktcap__http_header_get(resp, "Location");
    int has_code = provider_code && *provider_code;
    int has_message = provider_message && *provider_message;
    int redirect = location && (resp->status == 301 || resp->status == 302 ||
                                resp->status == 303 || resp->status == 307 || resp->status == 308);
    pktcap__strbuf where = PKTCAP__STRBUF_INIT;
    char attempts[48] = "";
    int rc;
    if (code == 0) {
        code = PKTCAP_E_REMOTE;
        for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
            if (codes[i].status == resp->status)
                code = codes[i].code;
    }
    if (resp->attempts > 1)
        snprintf(attempts, sizeof attempts, " after %d attempts", resp->attempts);
    /* Redirects are never followed (credentials must not go to another
     * host): a redirect that reaches a caller says so, and where it led. */
    if (redirect)
        pktcap__redact_url(&where, location);
    rc = pktcap__error_remote(code, (int)resp->status, provider_code, provider_message,
                              "%s: HTTP %ld%s%s%s%s%s%s%s%s%s%s%s%s%s%s",
                              what ? what : "HTTP request", resp->status, reason ? " " : "", reason ? reason : "",
                              has_code ? ": " : "", has_code ? provider_code : "",
                              has_message ? ": " : "", has_message ? provider_message : "",
                              redirect ? " (a redirect" : "", where.p ? " to " : "",
                              where.p ? where.p : "", redirect ? ": not followed)" : "",
                              resp->request_id[0] ? " (request id " : "", resp->request_id,
                              resp->request_id[0] ? ")" : "", attempts);
    pktcap__strbuf_free(&where);
    return rc;
}

/* ---- one attempt: what the callbacks do ------------------------------------------------ */

/* Records why a callback stops the transfer; libcurl then returns
 * CURLE_WRITE_ERROR, and finish reports this code instead. */
static int stop(struct call *c, int rc)
{
    c->rc = rc;
    return rc;
}

static int body_too_large(struct call *c)
{
    return stop(c, pktcap__error_set(PKTCAP_E_LIMIT,
                                     "response to %s is larger than %llu bytes (max_response_bytes)",
                                     c->what, (unsigned long long)c->body_max));
}

/* The capture format a file starting with these bytes has, or AUTO (none). */
static int capture_format(const unsigned char b[4])
{
    static const struct { uint32_t magic; int format; } magics[] = {
        { 0xa1b2c3d4, PKTCAP_FORMAT_PCAP },
        { 0xa1b23c4d, PKTCAP_FORMAT_PCAP_NSEC },
        { 0xa1b2cd34, PKTCAP_FORMAT_PCAP_MODIFIED },
        { 0x0a0d0d0a, PKTCAP_FORMAT_PCAPNG },   /* the SHB block type reads the same both ways */
    };
    uint32_t be = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    uint32_t le = (uint32_t)b[3] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[1] << 8 | b[0];
    for (size_t i = 0; i < sizeof magics / sizeof magics[0]; i++)
        if (magics[i].magic == be || magics[i].magic == le)
            return magics[i].format;
    return PKTCAP_FORMAT_AUTO;
}

/* The first four bytes of a capture_file download are held until they show
 * a capture magic, so a wrong file never reaches the storage at all. */
static int check_magic(struct call *c, const char **data, size_t *len)
{
    struct download *d = c->d;
    size_t take = 4 - (size_t)d->received < *len ? 4 - (size_t)d->received : *len;
    memcpy(d->head + d->received, *data, take);
    d->received += take;
    *data += take;
    *len -= take;
    if (d->received < 4)
        return 0;
    d->dl->format = capture_format(d->head);
    if (d->dl->format == PKTCAP_FORMAT_AUTO)
        return stop(c, pktcap__error_set(PKTCAP_E_FORMAT,
                                         "%s: the downloaded file is not a capture file "
                                         "(begins with %02x %02x %02x %02x)", c->what,
                                         d->head[0], d->head[1], d->head[2], d->head[3]));
    return pktcap__storage_write(d->st, d->head, 4);
}

static int download_chunk(struct call *c, const char *data, size_t len)
{
    struct download *d = c->d;
    int rc = 0;
    if (len > d->max - d->received)
        return stop(c, pktcap__error_set(PKTCAP_E_LIMIT, "%s: the file is larger than %llu bytes (%s)",
                                         c->what, (unsigned long long)d->max,
                                         d->dl->max_bytes ? "max_bytes" : "max_download_bytes"));
    if (d->dl->capture_file && d->received < 4)
        rc = check_magic(c, &data, &len);
    if (rc == 0 && len > 0) {
        rc = pktcap__storage_write(d->st, data, len);
        d->received += len;
    }
    if (rc != 0)
        return stop(c, rc);
    if (d->dl->progress && d->dl->progress(d->received, d->total, d->dl->userdata) != 0)
        return stop(c, pktcap__error_set(PKTCAP_E_CANCELED, "%s: canceled by the progress callback",
                                         c->what));
    return 0;
}

static int canceled(struct call *c)
{
    return stop(c, pktcap__error_set(PKTCAP_E_CANCELED, "%s: canceled", c->what));
}

/* libcurl's progress callback, installed for requests with a cancel flag. */
static int on_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    struct call *c = userdata;
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    if (!is_canceled(c->req->cancel))
        return 0;
    canceled(c);
    return 1;
}

static size_t on_body(char *data, size_t size, size_t n, void *userdata)
{
    struct call *c = userdata;
    size_t len = size * n;
    if (c->d && c->d->to_storage)
        return download_chunk(c, data, len) == 0 ? len : 0;
    if (len > c->body_max - c->body.n) {
        if (!c->d) {
            body_too_large(c);
            return 0;
        }
        /* a download's error body only feeds the caller's message: keep its start */
        len = c->body_max - c->body.n;
    }
    pktcap__strbuf_add(&c->body, data, len);
    if (c->body.failed) {
        stop(c, PKTCAP_E_NOMEM);
        return 0;
    }
    return size * n;
}

/* Digits without sign into a uint64_t, advancing *p; -1 when none or overflow. */
static int read_u64(const char **p, uint64_t *out)
{
    uint64_t v = 0;
    const char *s = *p;
    if (*s < '0' || *s > '9')
        return -1;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *p = s;
    *out = v;
    return 0;
}

/* "bytes START-END/TOTAL" (TOTAL may be "*": *total = 0). */
static int parse_content_range(const char *v, uint64_t *start, uint64_t *total)
{
    uint64_t end;
    if (!v || strncasecmp(v, "bytes ", 6) != 0)
        return -1;
    v += 6;
    if (read_u64(&v, start) || *v++ != '-' || read_u64(&v, &end) || end < *start || *v++ != '/')
        return -1;
    if (strcmp(v, "*") == 0) {
        *total = 0;
        return 0;
    }
    return read_u64(&v, total) || *v || *total <= end ? -1 : 0;
}

/* A 206: the rest of the file from where we asked, and of the same file. */
static int continue_unit(struct call *c, uint64_t len, int has_len, uint64_t *total)
{
    struct download *d = c->d;
    const char *range = pktcap__http_header_get(c->resp, "content-range");
    uint64_t start;
    if (parse_content_range(range, &start, total) != 0 || start != d->offset)
        return stop(c, pktcap__error_remote(PKTCAP_E_REMOTE, 206, NULL, NULL,
                                            "%s: asked for the file from byte %llu, the server "
                                            "sent Content-Range: %s", c->what,
                                            (unsigned long long)d->offset, range ? range : "(none)"));
    if (*total == 0 && has_len)
        *total = start + len;
    /* Without a validator for If-Range, a changed size is how a replaced
     * file shows: its pieces must not be joined. */
    if (d->offset > 0 && d->total && *total && *total != d->total)
        return stop(c, pktcap__error_remote(PKTCAP_E_REMOTE, 206, NULL, NULL,
                                            "%s: the file changed size while it was downloaded "
                                            "(%llu bytes, now %llu)", c->what,
                                            (unsigned long long)d->total, (unsigned long long)*total));
    if (d->offset > 0)
        d->dl->resumes++;
    return 0;
}

/* Any other 2xx: the whole file, from its first byte. Its strong validator
 * (RFC 9110 13.1.5: only those may go in If-Range) guards a later resume. */
static int restart_unit(struct call *c)
{
    struct download *d = c->d;
    const char *etag = pktcap__http_header_get(c->resp, "etag");
    if (d->offset > 0)
        pktcap__log(c->h->log, PKTCAP_LOG_INFO, "%s: the server sent the whole file again "
                    "(HTTP %ld to a Range request), starting over", c->what, c->status);
    if (d->begun)
        pktcap__storage_abort(d->st);
    d->begun = 0;
    d->received = 0;
    pktcap__free(d->etag);
    d->etag = NULL;
    if (etag && strncmp(etag, "W/", 2) != 0 && !(d->etag = pktcap__strdup(etag)))
        return stop(c, PKTCAP_E_NOMEM);
    return 0;
}

/* A 2xx arrived for a download: check its size against the limit before a
 * byte is written, and open the unit its body goes to. */
static int download_started(struct call *c)
{
    struct download *d = c->d;
    uint64_t len = 0, total = 0;
    int has_len = header_u64(c->resp, "content-length", &len) == 0;
    int rc = c->status == 206 ? continue_unit(c, len, has_len, &total) : restart_unit(c);
    if (rc != 0)
        return rc;
    if (c->status != 206)
        total = has_len ? len : 0;
    if (total > d->max)
        return stop(c, pktcap__error_set(PKTCAP_E_LIMIT, "%s: the file is %llu bytes, more than %llu (%s)",
                                         c->what, (unsigned long long)total, (unsigned long long)d->max,
                                         d->dl->max_bytes ? "max_bytes" : "max_download_bytes"));
    d->total = total;
    if (!d->begun) {
        if ((rc = pktcap__storage_begin(d->st)) != 0)
            return stop(c, rc);
        d->begun = 1;
    }
    d->to_storage = 1;
    return 0;
}

/* The headers of a final response are complete: refuse a body announced
 * over the limit before any of it arrives. */
static int response_started(struct call *c)
{
    uint64_t len;
    if (c->d && c->status >= 200 && c->status < 300)
        return download_started(c);
    if (!c->d && strcmp(c->req->method, "HEAD") != 0 &&
        header_u64(c->resp, "content-length", &len) == 0 && len > c->body_max)
        return body_too_large(c);
    return 0;
}

static void log_line(const struct call *c, const char *prefix, const char *line, size_t len)
{
    pktcap__strbuf raw = PKTCAP__STRBUF_INIT, clean = PKTCAP__STRBUF_INIT;
    if (!pktcap__log_enabled(c->h->log, PKTCAP_LOG_DEBUG))
        return;
    pktcap__strbuf_add(&raw, line, len);
    if (!raw.failed)
        pktcap__redact_header(&clean, raw.p);
    if (!clean.failed && clean.p)
        pktcap__log(c->h->log, PKTCAP_LOG_DEBUG, "%s %s", prefix, clean.p);
    pktcap__strbuf_free(&raw);
    pktcap__strbuf_free(&clean);
}

/* "HTTP/1.1 200 OK", "HTTP/2 200": the status, or 0. */
static long parse_status_line(const char *s, size_t len)
{
    size_t i = 5;
    long v = 0;
    int n = 0;
    while (i < len && s[i] != ' ')
        i++;
    while (i < len && s[i] == ' ')
        i++;
    for (; i < len && n < 3 && s[i] >= '0' && s[i] <= '9'; i++, n++)
        v = v * 10 + (s[i] - '0');
    return n == 3 ? v : 0;
}

/* libcurl hands over every header block: interim 1xx responses too, so each
 * status line starts the response afresh and only the final one remains. */
static size_t on_header(char *data, size_t size, size_t n, void *userdata)
{
    struct call *c = userdata;
    size_t len = size * n, line = len;
    while (line > 0 && (data[line - 1] == '\n' || data[line - 1] == '\r'))
        line--;
    if (line >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        free_headers(c->resp);
        c->header_alloc = 0;
        c->status = parse_status_line(data, line);
        c->started = 0;
        return len;
    }
    if (c->started)
        return len;   /* trailers after the body: not part of the response kept */
    if (line == 0) {
        if (c->status >= 200) {
            c->started = 1;
            if (response_started(c) != 0)
                return 0;
        }
        return len;
    }
    log_line(c, "<", data, line);
    if (add_header(c->resp, &c->header_alloc, data, line) != 0) {
        stop(c, PKTCAP_E_NOMEM);
        return 0;
    }
    return len;
}

/* ---- one attempt: prepare ---------------------------------------------------------------- */

static int append(struct call *c, const char *line)
{
    struct curl_slist *grown = curl_slist_append(c->headers, line);
    if (!grown)
        return pktcap__error_set(PKTCAP_E_NOMEM, "%s: libcurl could not add a request header", c->what);
    c->headers = grown;
    return 0;
}

PKTCAP__PRINTF(2, 3)
static int append_fmt(struct call *c, const char *fmt, ...)
{
    pktcap__strbuf b = PKTCAP__STRBUF_INIT;
    char *line;
    va_list ap;
    int rc;
    va_start(ap, fmt);
    pktcap__strbuf_vprintf(&b, fmt, ap);
    va_end(ap);
    if ((rc = pktcap__strbuf_finish(&line, &b)) != 0)
        return rc;
    rc = append(c, line);
    pktcap__free(line);
    return rc;
}

static int has_header(const char *const *lines, const char *name)
{
    size_t n = strlen(name);
    for (; lines && *lines; lines++)
        if (strncasecmp(*lines, name, n) == 0 && (*lines)[n] == ':')
            return 1;
    return 0;
}

/* Whether the request goes out with a body (and so a Content-Length). */
static int sends_body(const struct call *c)
{
    return !c->d && (c->req->body || strcmp(c->method, "POST") == 0 ||
                     strcmp(c->method, "PUT") == 0 || strcmp(c->method, "PATCH") == 0);
}

static int build_headers(struct call *c)
{
    const pktcap__http_request *req = c->req;
    struct download *d = c->d;
    int rc = append(c, USER_AGENT);
    if (rc == 0 && !has_header(req->headers, "Accept"))
        /* a download's body is the file, whatever its error bodies are */
        rc = append(c, d ? "Accept: */*" : "Accept: application/json");
    if (rc == 0 && sends_body(c))
        rc = req->body ? append_fmt(c, "Content-Type: %s",
                                    req->content_type ? req->content_type : "application/json")
                       : append(c, "Content-Type:");   /* not libcurl's form type on an empty body */
    if (rc == 0)
        rc = append_fmt(c, "%s: %s", c->h->request_id_header, c->resp->client_request_id);
    for (const char *const *line = req->headers; rc == 0 && line && *line; line++)
        rc = append(c, *line);
    if (rc == 0)
        rc = append(c, "Expect:");   /* no 100-continue round trip before a body */
    if (rc == 0 && d && d->offset > 0)
        rc = append_fmt(c, "Range: bytes=%llu-", (unsigned long long)d->offset);
    if (rc == 0 && d && d->offset > 0 && d->etag)
        rc = append_fmt(c, "If-Range: %s", d->etag);
    if (rc == 0 && req->auth)
        rc = pktcap__auth_apply_cancel(req->auth, req->scope, req->cancel, &c->headers);
    return rc;
}

static int set_options(struct call *c)
{
    pktcap__http *h = c->h;
    const pktcap__http_request *req = c->req;
    CURL *e = c->easy;
    CURLcode cc = CURLE_OK;
#define SET(opt, val) (cc = cc != CURLE_OK ? cc : curl_easy_setopt(e, opt, val))
    SET(CURLOPT_URL, req->url);
    SET(CURLOPT_SHARE, h->share);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_FOLLOWLOCATION, 0L);   /* a 3xx is the caller's to read */
    /* libcurl silently sends a request again when the kept-alive connection
     * it reused dies before the first response byte: never for a request
     * that must not be repeated, so those get a connection of their own. */
    SET(CURLOPT_FRESH_CONNECT, c->idempotent ? 0L : 1L);
    SET(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
    SET(CURLOPT_ERRORBUFFER, c->errbuf);
    SET(CURLOPT_HTTPHEADER, c->headers);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, c);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, c);
    SET(CURLOPT_CONNECTTIMEOUT_MS, (long)h->connect_timeout_ms);
    if (c->d) {
        /* A big file takes as long as it takes: only a stalled one fails. */
        SET(CURLOPT_LOW_SPEED_LIMIT, 1L);
        SET(CURLOPT_LOW_SPEED_TIME, (long)((h->timeout_ms + 999) / 1000));
    } else {
        SET(CURLOPT_TIMEOUT_MS, (long)(req->timeout_ms ? req->timeout_ms : h->timeout_ms));
    }
    if (h->cookies)
        SET(CURLOPT_COOKIEFILE, "");   /* the engine on, reading no file: the share's jar */
    if (req->cancel) {
        SET(CURLOPT_XFERINFOFUNCTION, on_progress);
        SET(CURLOPT_XFERINFODATA, c);
        SET(CURLOPT_NOPROGRESS, 0L);
    }
    SET(CURLOPT_SSL_VERIFYPEER, h->tls_verify ? 1L : 0L);
    SET(CURLOPT_SSL_VERIFYHOST, h->tls_verify ? 2L : 0L);
    if (h->ca_file)
        SET(CURLOPT_CAINFO, h->ca_file);
    if (h->ca_path)
        SET(CURLOPT_CAPATH, h->ca_path);
    if (strcmp(c->method, "GET") == 0)
        SET(CURLOPT_HTTPGET, 1L);
    else if (strcmp(c->method, "HEAD") == 0)
        SET(CURLOPT_NOBODY, 1L);
    else if (strcmp(c->method, "POST") != 0)
        SET(CURLOPT_CUSTOMREQUEST, c->method);
    if (sends_body(c)) {
        SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        SET(CURLOPT_POSTFIELDS, req->body ? (const char *)req->body : "");
    }
#undef SET
    if (cc != CURLE_OK)
        return pktcap__error_set(cc == CURLE_OUT_OF_MEMORY ? PKTCAP_E_NOMEM : PKTCAP_E_INVAL,
                                 "%s: libcurl refused a setting: %s", c->what, curl_easy_strerror(cc));
    return 0;
}

static void log_request(const struct call *c)
{
    pktcap__log(c->h->log, PKTCAP_LOG_INFO, "> %s %s", c->method, c->url);
    for (const struct curl_slist *l = c->headers; l; l = l->next) {
        size_t len = strlen(l->data);
        if (len > 0 && l->data[len - 1] != ':')   /* "Name:" only removes a libcurl default */
            log_line(c, ">", l->data, len);
    }
}

static int prepare(struct call *c)
{
    int rc;
    pktcap__strbuf_free(&c->body);
    free_headers(c->resp);
    c->header_alloc = 0;
    c->status = 0;
    c->started = 0;
    c->rc = 0;
    c->errbuf[0] = '\0';
    c->test_bytes = 0;
    if (c->d) {
        c->d->to_storage = 0;
        c->d->offset = c->d->begun ? c->d->received : 0;
    }
    if (is_canceled(c->req->cancel))
        return canceled(c);
    if ((rc = build_headers(c)) != 0)
        return rc;
    reset_easy(c->h, c->easy);
    if ((rc = set_options(c)) != 0)
        return rc;
    c->resp->attempts++;
    log_request(c);
    c->start_ms = now_ms();
    return 0;
}

/* ---- one attempt: finish --------------------------------------------------------------------- */

static int64_t backoff_ms(const pktcap__http *h, int n)
{
    uint64_t d = h->retry_base_ms, r;
    for (int i = 0; i < n && d < h->retry_max_ms; i++)
        d *= 2;
    if (d > h->retry_max_ms)
        d = h->retry_max_ms;
    random_bytes(&r, sizeof r);
    return (int64_t)(d / 2 + r % (d - d / 2 + 1));   /* jitter: somewhere in [d/2, d] */
}

/* Whether to try again, and after how long: the server's delay (`server_ms`,
 * named by `which`) when it gave one, else exponential backoff; never past
 * the retry count or the retry budget. */
static int plan_retry(struct call *c, const char *reason, int64_t server_ms, const char *which,
                      int64_t *delay)
{
    const pktcap__http *h = c->h;
    int64_t d, left = (int64_t)h->retry_budget_ms - c->waited_ms;
    if ((uint64_t)c->retries_used >= h->retries)
        return DONE;
    d = server_ms >= 0 ? server_ms : backoff_ms(h, c->retries_used);
    which = server_ms >= 0 ? which : "backoff";
    if (d > left) {
        pktcap__log(h->log, PKTCAP_LOG_WARN,
                    "%s: %s, giving up: waiting %lld ms (%s) would exceed the retry budget "
                    "(%lld of retry_budget_ms=%llu left)", c->what, reason, (long long)d, which,
                    (long long)left, (unsigned long long)h->retry_budget_ms);
        return DONE;
    }
    c->retries_used++;
    c->waited_ms += d;
    *delay = d;
    pktcap__log(h->log, PKTCAP_LOG_WARN, "%s: %s, retrying in %lld ms (%s), attempt %d of %d",
                c->what, reason, (long long)d, which, c->retries_used + 1, (int)h->retries + 1);
    return RETRY;
}

static int transport_code(CURLcode cc)
{
    switch (cc) {
    case CURLE_OPERATION_TIMEDOUT:
        return PKTCAP_E_TIMEOUT;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CLIENTCERT:
    case CURLE_USE_SSL_FAILED:
        return PKTCAP_E_TLS;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        return PKTCAP_E_INVAL;
    case CURLE_OUT_OF_MEMORY:
        return PKTCAP_E_NOMEM;
    default:
        return PKTCAP_E_NET;
    }
}

/* Failures worth another attempt: for any request those where nothing was
 * sent; for idempotent ones also a connection that broke or stalled. */
static int transport_retryable(CURLcode cc, int idempotent)
{
    switch (cc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
        return 1;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_OPERATION_TIMEDOUT:
        return idempotent;
    default:
        return 0;
    }
}

/* doc/errors.md: a certificate that was not verified is reported with the way out. */
#define VERIFY_HINT "; if this host does not trust the server's certificate or the CA that " \
                    "signed it, give that certificate as the ca_file option"

static int transport_failed(struct call *c, CURLcode cc, int64_t *delay)
{
    const char *text = c->errbuf[0] ? c->errbuf : curl_easy_strerror(cc);
    char attempts[48] = "";
    int rc;
    if (transport_retryable(cc, c->idempotent) && plan_retry(c, text, -1, NULL, delay) == RETRY)
        return RETRY;
    if (c->resp->attempts > 1)
        snprintf(attempts, sizeof attempts, " after %d attempts", c->resp->attempts);
    rc = pktcap__error_set(transport_code(cc), "%s: %s%s (%s)%s", c->what, text,
                           cc == CURLE_PEER_FAILED_VERIFICATION ? VERIFY_HINT : "", c->url,
                           attempts);
    pktcap__log(c->h->log, PKTCAP_LOG_ERROR, "%s", pktcap_error_message(pktcap_error_last()));
    return rc;
}

/* 429 and a 4xx/5xx with a Retry-After are the server asking to come back;
 * the other transient statuses are retried only when repeating is safe.
 * A 2xx or 3xx is final even with Retry-After (Azure puts one on its 202s
 * to pace polling). */
static int status_retryable(const struct call *c, long status)
{
    if (status == 429 || (status >= 400 && c->resp->retry_after_ms >= 0))
        return 1;
    return c->idempotent &&
           (status == 408 || status == 500 || status == 502 || status == 503 || status == 504);
}

static void log_response(const struct call *c)
{
    const pktcap__http_response *resp = c->resp;
    const char *reason = reason_phrase(resp->status);
    curl_off_t bytes = (curl_off_t)c->test_bytes;
    if (!c->test_fn)
        curl_easy_getinfo(c->easy, CURLINFO_SIZE_DOWNLOAD_T, &bytes);
    pktcap__log(c->h->log, PKTCAP_LOG_INFO, "< %ld%s%s (%lld bytes, %lld ms%s%s)", resp->status,
                reason ? " " : "", reason ? reason : "", (long long)bytes,
                (long long)(now_ms() - c->start_ms), resp->request_id[0] ? ", request id " : "",
                resp->request_id);
}

static int response_arrived(struct call *c, int64_t *delay)
{
    pktcap__http_response *resp = c->resp;
    const char *which;
    char reason[200];
    long status = c->status;   /* a test transport's: the last status line fed */
    if (!c->test_fn)
        curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
    resp->status = status;
    copy_request_id(resp);
    resp->retry_after_ms = retry_after(resp, (int64_t)time(NULL), &which);
    if (resp->retry_after_ms > RETRY_AFTER_MAX_MS)
        resp->retry_after_ms = RETRY_AFTER_MAX_MS;
    log_response(c);
    /* A rejected token gets one fresh fetch, outside the retry count: it is
     * the normal end of a token's life, not a failure of the service. */
    if (status == 401 && c->req->auth && !c->refreshed) {
        c->refreshed = 1;
        if (pktcap__auth_invalidate(c->req->auth, c->req->scope) == 1) {
            pktcap__log(c->h->log, PKTCAP_LOG_INFO, "%s: HTTP 401, trying again %s", c->what,
                        strcmp(pktcap__auth_kind(c->req->auth), "login session") == 0
                            ? "after logging in again" : "with a new token");
            return RETRY;
        }
    }
    if (!status_retryable(c, status))
        return DONE;
    snprintf(reason, sizeof reason, "HTTP %ld%s%s%s", status,
             resp->request_id[0] ? " (request id " : "", resp->request_id,
             resp->request_id[0] ? ")" : "");
    return plan_retry(c, reason, resp->retry_after_ms, which, delay);
}

static int finish(struct call *c, CURLcode cc, int64_t *delay)
{
    *delay = 0;
    if (c->rc != 0)
        return c->rc;
    if (cc != CURLE_OK)
        return transport_failed(c, cc, delay);
    return response_arrived(c, delay);
}

/* ---- one attempt: transfer through a test transport ------------------------------------------- */

static pthread_mutex_t test_lock = PTHREAD_MUTEX_INITIALIZER;
static pktcap__http_test_fn test_fn;
static void *test_userdata;

void pktcap__http_set_test_transport(pktcap__http_test_fn fn, void *userdata)
{
    pthread_mutex_lock(&test_lock);
    test_fn = fn;
    test_userdata = userdata;
    pthread_mutex_unlock(&test_lock);
}

static CURLcode test_failure(int failure)
{
    switch (failure) {
    case PKTCAP__HTTP_TEST_REFUSED:
        return CURLE_COULDNT_CONNECT;
    case PKTCAP__HTTP_TEST_TIMEOUT:
        return CURLE_OPERATION_TIMEDOUT;
    case PKTCAP__HTTP_TEST_TLS:
        return CURLE_PEER_FAILED_VERIFICATION;
    default:
        return CURLE_RECV_ERROR;
    }
}

/* One header line handed to on_header as libcurl hands it: with its CRLF. */
static CURLcode feed_header(struct call *c, const char *line, size_t len)
{
    pktcap__strbuf b = PKTCAP__STRBUF_INIT;
    CURLcode cc = CURLE_OUT_OF_MEMORY;
    pktcap__strbuf_add(&b, line, len);
    pktcap__strbuf_add(&b, "\r\n", 2);
    if (!b.failed)
        cc = on_header(b.p, 1, b.n, c) == b.n ? CURLE_OK : CURLE_WRITE_ERROR;
    pktcap__strbuf_free(&b);
    return cc;
}

/* The response, through the callbacks libcurl would call. */
static CURLcode feed_response(struct call *c, const pktcap__http_test_response *tr)
{
    const char *h = tr->headers ? tr->headers : "", *end = h + (tr->headers ? tr->headers_len : 0);
    const char *body = tr->body;
    char status[32];
    uint64_t len = tr->body && tr->body_len ? tr->body_len : 0, announced;
    CURLcode cc;
    int cut = 0;
    if (tr->status < 200 || tr->status > 999)
        return CURLE_WEIRD_SERVER_REPLY;   /* libcurl reads no other final status */
    snprintf(status, sizeof status, "HTTP/1.1 %ld", tr->status);
    cc = feed_header(c, status, strlen(status));
    while (cc == CURLE_OK && h < end) {
        const char *nl = memchr(h, '\n', (size_t)(end - h));
        size_t n = nl ? (size_t)(nl - h) : (size_t)(end - h);
        size_t line = n;
        while (line > 0 && h[line - 1] == '\r')
            line--;
        if (line > 0 && !(line >= 5 && strncmp(h, "HTTP/", 5) == 0))
            cc = feed_header(c, h, line);
        h += n + (nl != NULL);
    }
    if (cc == CURLE_OK)
        cc = feed_header(c, "", 0);
    if (cc != CURLE_OK)
        return cc;
    if (strcmp(c->method, "HEAD") == 0 || tr->status == 204 || tr->status == 304)
        return CURLE_OK;
    if (header_u64(c->resp, "content-length", &announced) == 0) {
        cut = announced > len;
        if (announced < len)
            len = announced;
    }
    while (len > 0) {
        size_t chunk = len < CURL_MAX_WRITE_SIZE ? (size_t)len : CURL_MAX_WRITE_SIZE;
        if (on_body((char *)body, 1, chunk, c) != chunk)
            return CURLE_WRITE_ERROR;
        c->test_bytes += chunk;
        body += chunk;
        len -= chunk;
    }
    return cut ? CURLE_PARTIAL_FILE : CURLE_OK;
}

/* In place of curl_easy_perform: the request as it would go out, to the
 * test transport; its answer to the callbacks. */
static CURLcode test_transfer(struct call *c)
{
    pktcap__http_test_request tq;
    pktcap__http_test_response tr;
    const char **lines;
    size_t n = 0;
    int failure;
    CURLcode cc = CURLE_OK;
    for (const struct curl_slist *l = c->headers; l; l = l->next)
        n++;
    if (!(lines = pktcap__calloc(n + 1, sizeof *lines)))
        return CURLE_OUT_OF_MEMORY;
    n = 0;
    for (const struct curl_slist *l = c->headers; l; l = l->next)
        lines[n++] = l->data;
    memset(&tq, 0, sizeof tq);
    tq.method = c->method;
    tq.url = c->req->url;
    tq.headers = lines;
    if (sends_body(c)) {
        tq.body = c->req->body ? c->req->body : "";
        tq.body_len = c->req->body ? c->req->body_len : 0;
    }
    tq.download = c->d != NULL;
    memset(&tr, 0, sizeof tr);
    failure = c->test_fn(&tq, &tr, c->test_userdata);
    pktcap__free(lines);
    if (tr.status != 0)
        cc = feed_response(c, &tr);
    if (cc == CURLE_OK && failure != PKTCAP__HTTP_TEST_OK)
        cc = test_failure(failure);
    else if (cc == CURLE_OK && tr.status == 0)
        cc = CURLE_GOT_NOTHING;
    if (cc != CURLE_OK && !c->errbuf[0])
        snprintf(c->errbuf, sizeof c->errbuf, "%s (test transport)", curl_easy_strerror(cc));
    return cc;
}

/* ---- a call ------------------------------------------------------------------------------------ */

int pktcap__http_is_loopback(const char *host)
{
    struct in_addr a4;
    struct in6_addr a6;
    char inner[64];
    size_t len = host ? strlen(host) : 0;
    if (!host)
        return 0;
    if (strcasecmp(host, "localhost") == 0)
        return 1;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (len < 2 || len - 2 >= sizeof inner || host[0] != '[' || host[len - 1] != ']')
        return 0;
    memcpy(inner, host + 1, len - 2);
    inner[len - 2] = '\0';
    return inet_pton(AF_INET6, inner, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

/* Parses the URL (libcurl's parser, the one the transfer uses) and refuses
 * what must not be sent: other schemes, and credentials in clear text over
 * the network. Warns when an https host will not be verified. */
static int check_url(struct call *c)
{
    const pktcap__http_request *req = c->req;
    char *scheme = NULL, *host = NULL, *password = NULL;
    CURLU *u = curl_url();
    CURLUcode uc;
    int rc = 0;
    if (!u)
        return pktcap__error_set(PKTCAP_E_NOMEM, "%s: libcurl could not parse the URL", c->what);
    uc = curl_url_set(u, CURLUPART_URL, req->url, 0);
    if (uc == CURLUE_OK)
        uc = curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
    if (uc == CURLUE_OK)
        uc = curl_url_get(u, CURLUPART_HOST, &host, 0);
    if (uc == CURLUE_OK && curl_url_get(u, CURLUPART_PASSWORD, &password, 0) != CURLUE_OK)
        password = NULL;
    if (uc != CURLUE_OK) {
        rc = pktcap__error_set(PKTCAP_E_INVAL, "%s: malformed URL %s: %s", c->what, c->url,
                               curl_url_strerror(uc));
    } else if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
        rc = pktcap__error_set(PKTCAP_E_INVAL, "%s: %s: only http and https URLs are supported",
                               c->what, c->url);
    } else if (strcmp(scheme, "http") == 0 && (req->auth || req->sensitive_body || password) &&
               !c->h->allow_http && !pktcap__http_is_loopback(host)) {
        rc = pktcap__error_set(PKTCAP_E_INVAL,
                               "%s: refusing to send credentials over plain http to %s "
                               "(use https, or set allow_http=true)", c->what, host);
    } else if (strcmp(scheme, "https") == 0 && !c->h->tls_verify) {
        rc = warn_unverified(c->h, host);
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(password);
    curl_url_cleanup(u);
    return rc;
}

static int is_idempotent(const pktcap__http_request *req, const char *method)
{
    if (req->retry != PKTCAP__HTTP_RETRY_AUTO)
        return req->retry == PKTCAP__HTTP_RETRY_SAFE;
    return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 ||
           strcmp(method, "PUT") == 0 || strcmp(method, "DELETE") == 0;
}

static int call_init(struct call *c, pktcap__http *h, const pktcap__http_request *req,
                     pktcap__http_response *resp, struct download *d)
{
    pktcap__strbuf url = PKTCAP__STRBUF_INIT;
    int rc;
    memset(c, 0, sizeof *c);
    memset(resp, 0, sizeof *resp);
    resp->retry_after_ms = -1;
    c->h = h;
    c->req = req;
    c->resp = resp;
    c->d = d;
    c->what = req->what ? req->what : "HTTP request";
    c->method = d ? "GET" : req->method;
    c->body_max = d ? ERROR_BODY_MAX : (size_t)h->max_response_bytes;
    if (!c->method || !req->url)
        return pktcap__error_set(PKTCAP_E_INVAL, "%s: the request has no %s", c->what,
                                 req->url ? "method" : "URL");
    c->idempotent = is_idempotent(req, c->method);
    pktcap__redact_url(&url, req->url);
    if ((rc = pktcap__strbuf_finish(&c->url, &url)) != 0 || (rc = check_url(c)) != 0)
        return rc;
    if (req->client_request_id && (strlen(req->client_request_id) >= sizeof resp->client_request_id ||
                                   strpbrk(req->client_request_id, "\r\n")))
        return pktcap__error_set(PKTCAP_E_INVAL, "%s: the client request id must be one line of "
                                 "at most %zu characters", c->what, sizeof resp->client_request_id - 1);
    if (req->client_request_id)
        snprintf(resp->client_request_id, sizeof resp->client_request_id, "%s", req->client_request_id);
    else
        pktcap__http_uuid(resp->client_request_id);
    c->easy = take_easy(h);
    if (!c->easy)
        return pktcap__error_set(PKTCAP_E_NOMEM, "%s: libcurl could not make a handle", c->what);
    pthread_mutex_lock(&test_lock);
    c->test_fn = test_fn;
    c->test_userdata = test_userdata;
    pthread_mutex_unlock(&test_lock);
    return 0;
}

static void call_end(struct call *c)
{
    if (c->easy) {
        reset_easy(c->h, c->easy);   /* drops pointers into *c; keeps the connections */
        give_back_easy(c->h, c->easy);
    }
    curl_slist_free_all(c->headers);
    pktcap__strbuf_free(&c->body);
    pktcap__free(c->url);
}

/* Before each attempt: waits while rate_limit's window holds N requests,
 * then takes a place in it (*slot of a ring of *ring_size; -1 without a
 * limit). 0, or
 * PKTCAP_E_CANCELED. */
static int rate_wait(struct call *c, long *slot, uint64_t *ring_size)
{
    pktcap__http *h = c->h;
    *slot = -1;
    *ring_size = 0;
    for (;;) {
        int64_t now = now_ms(), wait = 0;
        pthread_mutex_lock(&h->lock);
        if (h->rate_count) {
            int64_t oldest = h->rate_sent[h->rate_next];
            if (oldest && now - oldest < (int64_t)h->rate_window_ms) {
                wait = (int64_t)h->rate_window_ms - (now - oldest);
            } else {
                *slot = (long)h->rate_next;
                *ring_size = h->rate_count;
                h->rate_sent[h->rate_next] = now ? now : 1;
                h->rate_next = (h->rate_next + 1) % h->rate_count;
            }
        }
        int first = wait > 0 && !h->rate_warned;
        if (first)
            h->rate_warned = 1;
        uint64_t count = h->rate_count, window = h->rate_window_ms / 1000;
        pthread_mutex_unlock(&h->lock);
        if (wait == 0)
            return 0;
        pktcap__log(h->log, first ? PKTCAP_LOG_INFO : PKTCAP_LOG_DEBUG, "%s: rate_limit "
                    "%llu/%llu reached: waiting %lld ms", c->what, (unsigned long long)count,
                    (unsigned long long)window, (long long)wait);
        if (pktcap__fiber_sleep(wait, c->req->cancel) < 0)
            return canceled(c);
    }
}

/* After an attempt: its place in the window counts from when it ended. The
 * server counted it when it arrived, somewhere in between: so the window the
 * server sees is never shorter than ours. */
static void rate_done(pktcap__http *h, long slot, uint64_t count)
{
    if (slot < 0)
        return;
    pthread_mutex_lock(&h->lock);
    if (h->rate_count == count && (uint64_t)slot < h->rate_count)   /* not reset meanwhile */
        h->rate_sent[slot] = now_ms() + 1;   /* + 1: the clock is read in whole ms */
    pthread_mutex_unlock(&h->lock);
}

/* One attempt's transfer: a test transport's answer, the group's multi
 * handle when the call runs on a fiber (lib/core/fiber.h), else
 * curl_easy_perform. A fiber its group abandons ends as canceled. */
static CURLcode transfer(struct call *c)
{
    int cc;
    if (c->test_fn)
        return test_transfer(c);
    if (!pktcap__fiber_active())
        return curl_easy_perform(c->easy);
    if (pktcap__fiber_transfer(c->easy, &cc) < 0) {
        canceled(c);
        return CURLE_ABORTED_BY_CALLBACK;
    }
    return (CURLcode)cc;
}

static int run_call(struct call *c)
{
    int64_t delay;
    long slot = -1;
    uint64_t ring_size = 0;
    int rc;
    for (;;) {
        /* A test transport answers at once: no place in the window to wait for. */
        if (!c->test_fn && (rc = rate_wait(c, &slot, &ring_size)) != 0)
            return rc;
        rc = prepare(c);
        if (rc == 0)
            rc = finish(c, transfer(c), &delay);
        if (!c->test_fn)
            rate_done(c->h, slot, ring_size);
        curl_slist_free_all(c->headers);
        c->headers = NULL;
        if (rc != RETRY)
            return rc;
        /* a test transport's delays are counted, not slept */
        if (delay > 0 && !c->test_fn && pktcap__fiber_sleep(delay, c->req->cancel) < 0)
            return canceled(c);
    }
}

/* The body gathered by the last attempt becomes resp->body ("" when none). */
static int keep_body(struct call *c)
{
    size_t len = c->body.n;
    int rc = pktcap__strbuf_finish(&c->resp->body, &c->body);
    if (rc == 0)
        c->resp->body_len = len;
    return rc;
}

int pktcap__http_send(pktcap__http *h, const pktcap__http_request *req, pktcap__http_response *resp)
{
    struct call c;
    int rc;
    if (!h || !req || !resp)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap__http_send: %s is NULL",
                                 !h ? "client" : !req ? "request" : "response");
    rc = call_init(&c, h, req, resp, NULL);
    if (rc == 0)
        rc = run_call(&c);
    if (rc == 0)
        rc = keep_body(&c);
    call_end(&c);
    if (rc != 0)
        pktcap__http_response_clear(resp);
    return rc;
}

/* The whole file arrived: check what the magic check could not see yet,
 * and give the unit its final name. */
static int commit_download(struct call *c)
{
    struct download *d = c->d;
    int rc;
    if (d->dl->capture_file && d->received < 4)
        return pktcap__error_set(PKTCAP_E_FORMAT, "%s: the downloaded file is not a capture file "
                                 "(it has only %llu bytes)", c->what,
                                 (unsigned long long)d->received);
    rc = pktcap__storage_commit(d->st);   /* aborts the unit itself when it fails */
    d->begun = 0;
    if (rc == 0)
        d->dl->bytes = d->received;
    return rc;
}

int pktcap__http_download(pktcap__http *h, const pktcap__http_request *req, pktcap_storage *st,
                          pktcap__http_dl *dl, pktcap__http_response *resp)
{
    struct download d;
    struct call c;
    int rc, claimed = 0;
    if (!h || !req || !st || !dl || !resp)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap__http_download: %s is NULL",
                                 !h ? "client" : !req ? "request" : !st ? "storage" :
                                 !dl ? "download" : "response");
    memset(&d, 0, sizeof d);
    d.st = st;
    d.dl = dl;
    d.max = dl->max_bytes ? dl->max_bytes : h->max_download_bytes;
    dl->bytes = 0;
    dl->format = PKTCAP_FORMAT_AUTO;
    dl->resumes = 0;
    rc = call_init(&c, h, req, resp, &d);
    if (rc == 0 && (rc = pktcap__storage_claim(st)) == 0)
        claimed = 1;
    if (rc == 0)
        rc = run_call(&c);
    /* A non-2xx: the error body, for the caller's message. Kept before the
     * commit: nothing may fail once the file has its final name. */
    if (rc == 0)
        rc = keep_body(&c);
    if (rc == 0 && resp->status >= 200 && resp->status < 300)
        rc = commit_download(&c);
    if (d.begun)
        pktcap__storage_abort(st);
    if (claimed)
        pktcap__storage_release(st);
    call_end(&c);
    pktcap__free(d.etag);
    if (rc != 0)
        pktcap__http_response_clear(resp);
    return rc;
}
