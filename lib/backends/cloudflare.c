/* cloudflare.c — the `cloudflare:` provider: Cloudflare Magic Transit packet
 * captures (the PCAPs API of the Cloudflare API v4).
 *
 * Provider URI:
 *   cloudflare://accounts/ACCOUNT_ID      (1-32 letters and digits; options as
 *                                          ?key=value or pktcap_provider_set)
 * Base URL: the `endpoint` option (default https://api.cloudflare.com/client/v4);
 * every path below is under {endpoint}/accounts/ACCOUNT_ID. Credentials:
 * Authorization: Bearer API_TOKEN, or X-Auth-Email + X-Auth-Key (the global
 * API key), made at the first request from the options or the environment
 * (CLOUDFLARE_API_TOKEN; CLOUDFLARE_EMAIL + CLOUDFLARE_API_KEY).
 *
 * Operations:
 *   start   POST /pcaps {type, system, time_limit, packet_limit, byte_limit,
 *           colo_name, destination_conf, filter_v1, offset_time} → the PCAP
 *           object: s->id = result.id, state from result.status. The POST is
 *           not repeated after a lost answer (only 429 and Retry-After are
 *           retried): a repeat could make a second capture.
 *   step    GET /pcaps/ID: one request; the next is due after Retry-After,
 *           else poll_interval_ms; while a Retry-After holds a step sends
 *           nothing.
 *   stop    PUT /pcaps/ID/stop (204), then one GET. The session stays
 *           STOPPING until Cloudflare reports a terminal status.
 *   fetch   simple captures: GET /pcaps/ID/download (the pcap, recognised
 *           by its magic, streamed into the storage target, resumed with
 *           Range, atomic). Full captures are written by Cloudflare to the
 *           bucket as pcap_ID.pcap: NOTSUP saying so.
 *   list    GET /pcaps (no pagination: Cloudflare returns up to 50).
 *   open    GET /pcaps/ID.
 *   delete  none: Cloudflare has no delete call (no PKTCAP_CAP_DELETE).
 *   call    ownership_list  GET    /pcaps/ownership
 *           ownership_add   POST   /pcaps/ownership {"destination_conf"}
 *           ownership_validate POST /pcaps/ownership/validate
 *                                  {"destination_conf", "ownership_challenge"}
 *           ownership_delete DELETE /pcaps/ownership/ID (204) → null
 *
 * Settings → the create body (all checked before any request):
 *   target / session option system → system (a system name; magic-transit;
 *                   the provider option system when neither is given)
 *   session option type   → type: simple (default) or full
 *   time limit            → time_limit, in seconds rounded up: simple 1-300
 *                           (unset: 300, the most Cloudflare allows), full
 *                           1-86400 (required: a day-long capture to a bucket
 *                           is never started by default)
 *   packet limit          → packet_limit 1-10000 (simple, unset: 10000;
 *                           full: optional)
 *   byte limit            → byte_limit 1-1000000000 (full only)
 *   filter                → filter_v1 (pktcap_filter_to_cloudflare; an empty
 *                           filter sends none)
 *   session option colo_name → colo_name (full only, required)
 *   session option offset_time → offset_time (simple only; RFC 3339, within
 *                           the last 24 hours)
 *   storage target        → destination_conf (full only, required): an s3://
 *                           (with ?region=), gs:// or r2:// target, its URI
 *                           rebuilt with its path and query; a simple capture
 *                           refuses a storage target (fetch it instead)
 *
 * States (native status = result.status):
 *   pending, unknown                → PENDING (STOPPING stays STOPPING)
 *   running                         → RUNNING (STOPPING stays STOPPING)
 *   conversion_pending/_running     → PROCESSING (STOPPING stays STOPPING)
 *   success (simple), complete (full) → STOPPED ("stopped") when this handle
 *                                     stopped it or the object has
 *                                     stop_requested; otherwise COMPLETE, the
 *                                     stop reason inferred ("packet limit"
 *                                     when packets_captured reached the
 *                                     limit this handle set, "time limit"
 *                                     when no other limit was set, else
 *                                     "time or packet limit" etc.: Cloudflare
 *                                     does not say)
 *   failed                          → FAILED with error_message
 *   anything else                   → unchanged (PENDING for a new session)
 *   a 404 for a capture that existed → FAILED "gone at Cloudflare"
 * packets_captured → PKTCAP_STAT_PACKETS; the whole object is the session's
 * details ({"result": …}). A transport or HTTP error in step() is returned
 * (wait() returns it) and the session keeps its state.
 *
 * Errors: every JSON answer is an envelope {"success", "errors": [{"code",
 * "message", "error_chain"?}], "messages", "result"}. A non-2xx status or
 * success:false takes the first error's code (as text) and message into the
 * error detail (pktcap__http_status_error), with the error_chain after it.
 * Codes by HTTP status, except: 403/401 whose first error is 10000
 * "Authentication error", and 400 with 6003 and a 61xx chain (malformed
 * credential headers) → PKTCAP_E_AUTH; success:false with a 2xx status →
 * PKTCAP_E_REMOTE; a 2xx body that is not an envelope → PKTCAP_E_FORMAT.
 * 429 is retried by the HTTP layer honouring Retry-After-Ms and
 * Retry-After; when retries run out it is PKTCAP_E_THROTTLED with
 * Cloudflare's message.
 *
 * Security: requests only ever go to the endpoint (no URL from a response is
 * followed; libcurl follows no redirect), credentials only over https or to
 * loopback (the HTTP layer). The token, the API key and the e-mail never
 * appear in a message or a log line (the HTTP layer shows Authorization and
 * X-Auth-Key as ***; the provider URI is never quoted with its query).
 */
#include "backends/backend.h"
#include "backends/remote.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/log.h"
#include "core/strbuf.h"
#include "core/uri.h"
#include "net/auth.h"
#include "net/http.h"
#include "net/json.h"
#include "storage/storage.h"

#define DEFAULT_ENDPOINT "https://api.cloudflare.com/client/v4"
#define DEFAULT_SYSTEM "magic-transit"
#define DEFAULT_POLL_INTERVAL_MS 5000u
#define MIN_POLL_INTERVAL_MS 10u
#define MAX_POLL_INTERVAL_MS 3600000u
#define SIMPLE_MAX_TIME_S 300u
#define FULL_MAX_TIME_S 86400u
#define MAX_PACKETS 10000u
#define MAX_BYTES 1000000000u
#define OFFSET_WINDOW_S 86400
#define OFFSET_FUTURE_S 5          /* clock skew tolerated for an offset_time "now" */
#define MAX_ACCOUNT_LEN 32
#define MAX_ID_LEN 64
#define MAX_NAME_LEN 64            /* system and colo names */

#define ACCOUNT_FORM "cloudflare://accounts/{account_id}"
#define BUCKET_FORMS "s3://BUCKET[/DIR]?region=REGION, gs://BUCKET[/DIR] or r2://BUCKET[/DIR]"

/* ---- provider and session state ---------------------------------------------- */

enum { AUTH_AUTO = 0, AUTH_TOKEN, AUTH_KEY };
static const char *const auth_names[] = { "auto", "token", "key" };

typedef struct cf_provider {
    pktcap_provider *p;
    pktcap__http *http;
    pktcap__auth *auth;           /* made at the first request */
    char account[MAX_ACCOUNT_LEN + 1];
    char *endpoint;               /* no trailing slash, or NULL: the default */
    char *api_token, *email, *api_key;
    int auth_mode;
    uint64_t poll_interval_ms;
    char system[MAX_NAME_LEN + 1];
} cf_provider;

typedef struct cf_session {
    json_t *result;               /* the last PCAP object, or NULL */
    int64_t not_before_ms;        /* monotonic: a Retry-After holds step() until then */
    int64_t server_delay_ms;      /* Retry-After of the last response, -1 */
    int stop_called;              /* this handle stopped it */
    int opened;                   /* pktcap_session_open: not started by this handle */
    int existed;                  /* seen at Cloudflare: a 404 now means it is gone */
    char native[64];
} cf_session;

/* ---- small helpers ------------------------------------------------------------- */

static int is_terminal(int state)
{
    return state == PKTCAP_STATE_COMPLETE || state == PKTCAP_STATE_STOPPED ||
           state == PKTCAP_STATE_FAILED;
}

static const char *endpoint(const cf_provider *cp)
{
    return cp->endpoint ? cp->endpoint : DEFAULT_ENDPOINT;
}

static int alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* 1..max characters of letters, digits and the characters of `extra`. */
static int word_ok(const char *s, size_t max, const char *extra)
{
    size_t i, n = strlen(s);
    if (n == 0 || n > max)
        return 0;
    for (i = 0; i < n; i++)
        if (!alnum(s[i]) && !strchr(extra, s[i]))
            return 0;
    return 1;
}

/* A capture or ownership id Cloudflare gave (or a user typed): safe in a URL path. */
static int id_ok(const char *id)
{
    return word_ok(id, MAX_ID_LEN, "-_");
}

/* The systems Cloudflare captures on (the API's `system` enum). A name is
 * checked here so that a target meant for another provider ("eth0") is
 * refused at once rather than by Cloudflare after the request. */
static const char *const systems[] = { "magic-transit" };
#define SYSTEM_NAMES "magic-transit"

static int system_ok(const char *s)
{
    size_t i;
    for (i = 0; i < sizeof systems / sizeof systems[0]; i++)
        if (strcmp(s, systems[i]) == 0)
            return 1;
    return 0;
}

static int jset(json_t *o, const char *key, json_t *v)
{
    if (!v || json_object_set_new(o, key, v) < 0)
        return pktcap__error_set(PKTCAP_E_NOMEM, "out of memory building the request");
    return 0;
}

static int64_t realtime_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec;
}

static int digits(const char *s, int n, int *out)
{
    int i, v = 0;
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* A strict RFC 3339 date-time (YYYY-MM-DDThh:mm:ss[.frac](Z|±hh:mm)) as Unix
 * seconds; -1 when it is not one. */
static int parse_rfc3339(const char *s, int64_t *out)
{
    static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
    struct tm tm;
    time_t t;
    if (strlen(s) < 20 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) ||
        s[7] != '-' || digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
        digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' ||
        digits(s + 17, 2, &sec))
        return -1;
    s += 19;
    if (*s == '.') {
        if (s[1] < '0' || s[1] > '9')
            return -1;
        for (s++; *s >= '0' && *s <= '9'; s++)
            ;
    }
    if ((*s == 'Z' || *s == 'z') && s[1] == '\0') {
        sign = 0;
    } else if ((*s == '+' || *s == '-') && strlen(s) == 6 && !digits(s + 1, 2, &oh) &&
               s[3] == ':' && !digits(s + 4, 2, &om) && oh < 24 && om < 60) {
        sign = *s == '-' ? -1 : 1;
    } else {
        return -1;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
        (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))) || h > 23 ||
        mi > 59 || sec > 60)
        return -1;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    if ((t = timegm(&tm)) == (time_t)-1)
        return -1;
    *out = (int64_t)t - sign * (int64_t)(oh * 3600 + om * 60);
    return 0;
}

/* offset_time: an RFC 3339 time within the last 24 hours. */
static int check_offset_time(const char *what, const char *value)
{
    int64_t t, now = realtime_s();
    if (parse_rfc3339(value, &t) < 0)
        return pktcap__error_set(PKTCAP_E_INVAL, "%s \"%.80s\" is not an RFC 3339 time "
                                 "(e.g. 2024-05-01T12:00:00Z or 2024-05-01T14:00:00+02:00)",
                                 what, value);
    if (t > now + OFFSET_FUTURE_S)
        return pktcap__error_set(PKTCAP_E_INVAL, "%s \"%.80s\" is in the future: Cloudflare "
                                 "captures from a time within the last 24 hours", what, value);
    if (t < now - OFFSET_WINDOW_S)
        return pktcap__error_set(PKTCAP_E_INVAL, "%s \"%.80s\" is more than 24 hours ago: "
                                 "Cloudflare keeps the packets of the last 24 hours only",
                                 what, value);
    return 0;
}

/* http(s)://host[:port][/path]: no query, fragment, credentials or blanks. */
static int check_endpoint(const char *what, const char *value)
{
    CURLU *u;
    char *scheme = NULL, *part = NULL;
    int ok;
    if (pktcap__has_control(value) || strchr(value, ' '))
        return pktcap__error_set(PKTCAP_E_INVAL, "%s holds a blank or control character", what);
    if (!(u = curl_url()))
        return pktcap__error_set(PKTCAP_E_NOMEM, "%s: out of memory", what);
    ok = curl_url_set(u, CURLUPART_URL, value, 0) == CURLUE_OK &&
         curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
         (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0) &&
         strncasecmp(value, scheme, strlen(scheme)) == 0;
    if (ok) {
        static const CURLUPart absent[] = { CURLUPART_USER, CURLUPART_PASSWORD, CURLUPART_QUERY,
                                            CURLUPART_FRAGMENT };
        size_t i;
        for (i = 0; ok && i < sizeof absent / sizeof absent[0]; i++) {
            if (curl_url_get(u, absent[i], &part, 0) == CURLUE_OK)
                ok = 0;
            curl_free(part);
            part = NULL;
        }
    }
    curl_free(scheme);
    curl_url_cleanup(u);
    if (!ok)
        return pktcap__error_set(PKTCAP_E_INVAL, "%s \"%.200s\" is not an http:// or https:// "
                                 "URL without query, fragment or credentials (default %s)",
                                 what, value, DEFAULT_ENDPOINT);
    return 0;
}

/* Appends s percent-encoded except unreserved characters and those of `keep`. */
static void put_escaped(pktcap__strbuf *b, const char *s, const char *keep)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (alnum((char)c) || c == '-' || c == '.' || c == '_' || c == '~' ||
            (c && strchr(keep, c))) {
            pktcap__strbuf_add(b, s, 1);
        } else {
            char e[3] = { '%', hex[c >> 4], hex[c & 15] };
            pktcap__strbuf_add(b, e, 3);
        }
    }
}

/* ---- buckets (destination_conf) ------------------------------------------------ */

/* Whether a parsed URI is a bucket Cloudflare writes to; PKTCAP_E_INVAL
 * naming `what` and the forms otherwise. */
static int check_bucket(const char *what, const pktcap__uri *u, const char *shown)
{
    const char *b = u->authority ? u->authority : "";
    size_t n = strlen(b), i;
    int ok = n >= 3 && n <= 63 && alnum(b[0]) && alnum(b[n - 1]);
    if (!u->scheme || (strcmp(u->scheme, "s3") != 0 && strcmp(u->scheme, "gs") != 0 &&
                       strcmp(u->scheme, "r2") != 0))
        return pktcap__error_set(PKTCAP_E_INVAL, "%s \"%.200s\": Cloudflare writes full captures "
                                 "to a bucket: %s", what, shown, BUCKET_FORMS);
    for (i = 0; ok && i < n; i++)
        ok = (alnum(b[i]) && !(b[i] >= 'A' && b[i] <= 'Z')) || b[i] == '-' || b[i] == '.' ||
             b[i] == '_';
    if (!ok)
        return pktcap__error_set(PKTCAP_E_INVAL, "%s \"%.200s\": \"%.80s\" is not a bucket name "
                                 "(3-63 lowercase letters, digits, '.', '-', '_')", what, shown, b);
    if (strcmp(u->scheme, "s3") == 0) {
        const char *region = pktcap__uri_param(u, "region");
        if (!region || !*region)
            return pktcap__error_set(PKTCAP_E_INVAL, "%s \"%.200s\": an s3 bucket needs its "
                                     "region: s3://BUCKET[/DIR]?region=REGION", what, shown);
    }
    return 0;
}

/* destination_conf from a remote storage target: scheme://bucket/path?query,
 * path and query re-encoded from the parsed URI. */
static int bucket_text(const pktcap__uri *u, char **out)
{
    pktcap__strbuf b = PKTCAP__STRBUF_INIT;
    size_t i;
    pktcap__strbuf_printf(&b, "%s://%s", u->scheme, u->authority);
    put_escaped(&b, u->path, "/");
    for (i = 0; i < u->param_count; i++) {
        pktcap__strbuf_puts(&b, i ? "&" : "?");
        put_escaped(&b, u->params[i].key, "");
        pktcap__strbuf_puts(&b, "=");
        put_escaped(&b, u->params[i].value, "");
    }
    return pktcap__strbuf_finish(out, &b);
}

/* ---- credentials --------------------------------------------------------------- */

static void forget_auth(cf_provider *cp)
{
    pktcap__auth_free(cp->auth);
    cp->auth = NULL;
}

/* Makes the credentials at the first request, from the options and the
 * environment as they are then. */
static int ensure_auth(cf_provider *cp)
{
    const char *token, *email, *key;
    int mode = cp->auth_mode, rc;
    if (cp->auth)
        return 0;
    token = cp->api_token ? cp->api_token : pktcap__env("CLOUDFLARE_API_TOKEN");
    email = cp->email ? cp->email : pktcap__env("CLOUDFLARE_EMAIL");
    key = cp->api_key ? cp->api_key : pktcap__env("CLOUDFLARE_API_KEY");
    if (mode == AUTH_AUTO) {
        if (token)
            mode = AUTH_TOKEN;
        else if (email && key)
            mode = AUTH_KEY;
        else
            return pktcap__error_set(PKTCAP_E_AUTH, "cloudflare: no credentials: set the "
                                     "api_token option (or CLOUDFLARE_API_TOKEN), or email and "
                                     "api_key (or CLOUDFLARE_EMAIL and CLOUDFLARE_API_KEY)%s",
                                     email ? "; api_key is missing"
                                     : key ? "; email is missing" : "");
    }
    if (mode == AUTH_TOKEN) {
        if (!token)
            return pktcap__error_set(PKTCAP_E_AUTH, "cloudflare: auth=token needs the api_token "
                                     "option or CLOUDFLARE_API_TOKEN");
        if (pktcap__has_control(token) || strchr(token, ' '))
            return pktcap__error_set(PKTCAP_E_AUTH, "cloudflare: the API token holds a blank or "
                                     "control character");
        rc = pktcap__auth_new_bearer(&cp->auth, token);
    } else {
        char *lines[3] = { NULL, NULL, NULL };
        if (!email || !key)
            return pktcap__error_set(PKTCAP_E_AUTH, "cloudflare: auth=key needs email and "
                                     "api_key (options, or CLOUDFLARE_EMAIL and "
                                     "CLOUDFLARE_API_KEY); missing: %s%s%s", !email ? "email" : "",
                                     !email && !key ? ", " : "", !key ? "api_key" : "");
        if (pktcap__has_control(email) || pktcap__has_control(key))
            return pktcap__error_set(PKTCAP_E_AUTH, "cloudflare: the e-mail or API key holds a "
                                     "control character");
        {
            pktcap__strbuf b1 = PKTCAP__STRBUF_INIT, b2 = PKTCAP__STRBUF_INIT;
            pktcap__strbuf_printf(&b1, "X-Auth-Email: %s", email);
            pktcap__strbuf_printf(&b2, "X-Auth-Key: %s", key);
            if (pktcap__strbuf_finish(&lines[0], &b1) < 0 ||
                pktcap__strbuf_finish(&lines[1], &b2) < 0) {
                pktcap__free(lines[0]);
                pktcap__free(lines[1]);
                return PKTCAP_E_NOMEM;
            }
        }
        rc = pktcap__auth_new_headers(&cp->auth, (const char *const *)lines);
        pktcap__free(lines[0]);
        pktcap__free(lines[1]);
    }
    if (rc < 0)
        return rc;
    pktcap__log(&cp->p->log, PKTCAP_LOG_DEBUG, "cloudflare: credentials: %s (auth=%s)",
                mode == AUTH_TOKEN ? "API token" : "e-mail and global API key",
                auth_names[cp->auth_mode]);
    return 0;
}

/* ---- requests and the envelope ------------------------------------------------- */

/* {endpoint}/accounts/ACCOUNT/pcaps[/a][/b] */
static char *api_url(const cf_provider *cp, const char *a, const char *b)
{
    pktcap__strbuf buf = PKTCAP__STRBUF_INIT;
    char *out = NULL;
    pktcap__strbuf_printf(&buf, "%s/accounts/%s/pcaps", endpoint(cp), cp->account);
    if (a)
        pktcap__strbuf_printf(&buf, "/%s", a);
    if (b)
        pktcap__strbuf_printf(&buf, "/%s", b);
    if (pktcap__strbuf_finish(&out, &buf) < 0)
        return NULL;
    return out;
}

/* One request (the retry policy runs inside). 0 with resp filled for any
 * final status, or a negative code with the error detail set. */
static int cf_send(cf_provider *cp, const char *method, const char *url, const char *body,
                   int retry, const char *what, pktcap__http_response *resp)
{
    pktcap__http_request req;
    int rc;
    memset(resp, 0, sizeof *resp);
    resp->retry_after_ms = -1;
    if ((rc = ensure_auth(cp)) < 0)
        return rc;
    memset(&req, 0, sizeof req);
    req.method = method;
    req.url = url;
    req.body = body;
    req.body_len = body ? strlen(body) : 0;
    req.content_type = body ? "application/json" : NULL;
    req.auth = cp->auth;
    req.retry = retry;
    req.what = what;
    return pktcap__http_send(cp->http, &req, resp);
}

/* Whether a value is Cloudflare's envelope: an object with a boolean success. */
static int is_envelope(json_t *root)
{
    return json_is_object(root) && json_is_boolean(json_object_get(root, "success"));
}

/* An error's code as text ("10000"), from an integer or a string. */
static void error_code_text(json_t *error, char *out, size_t size)
{
    json_t *c = json_object_get(error, "code");
    out[0] = '\0';
    if (json_is_integer(c))
        snprintf(out, size, "%lld", (long long)json_integer_value(c));
    else if (json_is_string(c))
        snprintf(out, size, "%s", json_string_value(c));
}

static long long error_code(json_t *error)
{
    json_t *c = json_object_get(error, "code");
    if (json_is_integer(c))
        return (long long)json_integer_value(c);
    if (json_is_string(c))
        return strtoll(json_string_value(c), NULL, 10);
    return 0;
}

/* Records the error of a response the caller does not accept (non-2xx, or
 * success:false) and returns its code. */
static int envelope_error(cf_provider *cp, const pktcap__http_response *resp, json_t *root,
                          const char *what)
{
    json_t *errors = is_envelope(root) ? json_object_get(root, "errors") : NULL;
    json_t *first = json_array_get(errors, 0), *chain, *item;
    const char *message = pktcap__json_str(first, "message");
    char code[32], keep[640];
    pktcap__strbuf extra = PKTCAP__STRBUF_INIT;
    long long num = error_code(first);
    int override = 0, auth_chain = 0, rc;
    size_t i;

    error_code_text(first, code, sizeof code);
    chain = json_object_get(first, "error_chain");
    json_array_foreach (chain, i, item) {
        long long c = error_code(item);
        const char *m = pktcap__json_str(item, "message");
        if (c >= 6100 && c < 6200)
            auth_chain = 1;
        pktcap__strbuf_printf(&extra, "%s%lld: %s", i ? "; " : "", c, m ? m : "?");
    }
    json_array_foreach (errors, i, item) {
        const char *m = pktcap__json_str(item, "message");
        if (i == 0)
            continue;
        pktcap__strbuf_printf(&extra, "%s%lld: %s", extra.n ? "; " : "", error_code(item),
                              m ? m : "?");
    }
    if ((resp->status == 401 || resp->status == 403) &&
        (num == 10000 || (message && strcasecmp(message, "Authentication error") == 0)))
        override = PKTCAP_E_AUTH;   /* no, unknown or wrong credentials */
    else if (resp->status == 400 && ((num >= 6100 && num < 6200) || (num == 6003 && auth_chain)))
        override = PKTCAP_E_AUTH;   /* malformed credential headers */
    else if (resp->status >= 200 && resp->status < 300)
        override = PKTCAP_E_REMOTE; /* success:false with a 2xx */
    rc = pktcap__http_status_error(resp, what, code[0] ? code : NULL, message, override);
    if (extra.n || override == PKTCAP_E_AUTH) {
        snprintf(keep, sizeof keep, "%s", pktcap_error_message(pktcap_error_last()));
        if (override == PKTCAP_E_AUTH)
            pktcap__strbuf_printf(&extra, "%scheck the API token (or e-mail and API key) and "
                                  "that it may use account %s", extra.n ? "; " : "",
                                  cp->account);
        rc = pktcap__error_remote(rc, (int)resp->status, code[0] ? code : NULL, message,
                                  "%s (%s)", keep, extra.p ? extra.p : "");
    }
    pktcap__strbuf_free(&extra);
    return rc;
}

/* A response whose result the caller wants: 2xx with an envelope whose
 * success is true. *result gets a new reference to result (NULL for a 204
 * or a null result). The response is cleared either way. */
static int envelope_result(cf_provider *cp, pktcap__http_response *resp, const char *what,
                           json_t **result)
{
    json_t *root;
    int rc;
    *result = NULL;
    if (resp->status == 204) {
        pktcap__http_response_clear(resp);
        return 0;
    }
    root = pktcap__body_json(resp);
    if (resp->status < 200 || resp->status >= 300 ||
        (is_envelope(root) && !json_is_true(json_object_get(root, "success")))) {
        rc = envelope_error(cp, resp, root, what);
    } else if (!is_envelope(root)) {
        rc = pktcap__error_remote(PKTCAP_E_FORMAT, (int)resp->status, NULL, NULL,
                                  "%s: HTTP %ld, but the answer is not a Cloudflare API "
                                  "envelope ({\"success\", \"errors\", \"result\"})%s%s%s", what,
                                  resp->status, resp->request_id[0] ? " (request id " : "",
                                  resp->request_id, resp->request_id[0] ? ")" : "");
    } else {
        json_t *r = json_object_get(root, "result");
        if (r && !json_is_null(r))
            *result = json_incref(r);
        rc = 0;
    }
    json_decref(root);
    pktcap__http_response_clear(resp);
    return rc;
}

/* ---- reporting ----------------------------------------------------------------- */

static void publish_details(pktcap_session *s, const cf_session *cs)
{
    json_t *o = json_object();
    char *text;
    if (!o)
        return;
    if (json_object_set(o, "result", cs->result ? cs->result : json_null()) < 0) {
        json_decref(o);
        return;
    }
    text = pktcap__json_dump(o);
    json_decref(o);
    if (text)
        pktcap__session_set_details(s, text);
    pktcap__free(text);
}

static void report(pktcap_session *s, cf_session *cs, int state, const char *native,
                   const char *text)
{
    int old = pktcap_session_state(s);
    int native_changed = native && strcmp(native, cs->native) != 0;
    if (is_terminal(old))
        return;
    pktcap__session_set_state(s, state, native, text);
    if (native)
        snprintf(cs->native, sizeof cs->native, "%s", native);
    if (state != old || native_changed)
        pktcap__log(&s->provider->log,
                    state == PKTCAP_STATE_FAILED ? PKTCAP_LOG_WARN : PKTCAP_LOG_INFO,
                    "cloudflare: %s: %s (%s)%s%s", s->name, pktcap_state_name(state),
                    cs->native[0] ? cs->native : "-", text && *text ? ": " : "",
                    text ? text : "");
}

static int is_full(json_t *result)
{
    const char *type = pktcap__json_str(result, "type");
    return type && strcmp(type, "full") == 0;
}

/* The portable state of a PCAP object. `cur` is the session's state (NEW
 * for a listed one); `stopped` whether it counts as stopped by the user. */
static int state_of(json_t *result, int cur, int stopped)
{
    const char *st = pktcap__json_str(result, "status");
    int stopping = cur == PKTCAP_STATE_STOPPING;
    if (!st)
        return cur == PKTCAP_STATE_NEW ? PKTCAP_STATE_PENDING : cur;
    if (strcmp(st, "pending") == 0 || strcmp(st, "unknown") == 0)
        return stopping ? cur : PKTCAP_STATE_PENDING;
    if (strcmp(st, "running") == 0)
        return stopping ? cur : PKTCAP_STATE_RUNNING;
    if (strcmp(st, "conversion_pending") == 0 || strcmp(st, "conversion_running") == 0)
        return stopping ? cur : PKTCAP_STATE_PROCESSING;
    if (strcmp(st, "success") == 0 || strcmp(st, "complete") == 0)
        return stopped ? PKTCAP_STATE_STOPPED : PKTCAP_STATE_COMPLETE;
    if (strcmp(st, "failed") == 0)
        return PKTCAP_STATE_FAILED;
    return cur == PKTCAP_STATE_NEW ? PKTCAP_STATE_PENDING : cur;
}

/* Whether a capture counts as stopped by the user: this handle stopped it,
 * or the object says a stop was requested (from anywhere). */
static int stopped_by_user(const cf_session *cs, json_t *result)
{
    json_t *when = pktcap__json_path(result, "stop_requested");
    return (cs && cs->stop_called) || (when && !json_is_null(when));
}

/* Why a capture that ended on its own ended, as far as Cloudflare lets us
 * know: it gives no reason, but a full capture counts its packets, and the
 * limits are known when this handle made the capture. */
static void complete_reason(const pktcap_session *s, const cf_session *cs, json_t *result,
                            char *out, size_t size)
{
    int64_t packets;
    if (pktcap__json_int(result, "packets_captured", &packets) < 0)
        snprintf(out, size, "time or packet limit");
    else if (cs->opened)
        snprintf(out, size, s->byte_limit ? "time, packet or byte limit"
                                          : "time or packet limit");
    else if (s->packet_limit && (uint64_t)packets >= s->packet_limit)
        snprintf(out, size, "packet limit");
    else if (s->byte_limit)
        snprintf(out, size, "time or byte limit");
    else
        snprintf(out, size, "time limit");
}

/* Moves the session to what the last PCAP object says. */
static void apply_result(pktcap_session *s, cf_session *cs)
{
    json_t *r = cs->result;
    const char *st = pktcap__json_str(r, "status");
    int cur = pktcap_session_state(s), state;
    int64_t packets;
    char text[512];
    const char *shown = text;

    cs->existed = 1;
    if (pktcap__json_int(r, "packets_captured", &packets) == 0 && packets >= 0)
        pktcap__session_stat_set(s, PKTCAP_STAT_PACKETS, (uint64_t)packets);
    state = state_of(r, cur, stopped_by_user(cs, r));
    text[0] = '\0';
    if (state == PKTCAP_STATE_FAILED) {
        const char *why = pktcap__json_str(r, "error_message");
        snprintf(text, sizeof text, "packet capture %s failed: %s", s->id,
                 why && *why ? why : "Cloudflare gives no error_message");
    } else if (state == PKTCAP_STATE_STOPPED) {
        snprintf(text, sizeof text, "stopped");
    } else if (state == PKTCAP_STATE_COMPLETE) {
        complete_reason(s, cs, r, text, sizeof text);
    } else {
        shown = NULL;
    }
    if (st && strcmp(st, "pending") != 0 && strcmp(st, "unknown") != 0 &&
        strcmp(st, "running") != 0 && strcmp(st, "conversion_pending") != 0 &&
        strcmp(st, "conversion_running") != 0 && strcmp(st, "success") != 0 &&
        strcmp(st, "complete") != 0 && strcmp(st, "failed") != 0)
        pktcap__log(&s->provider->log, PKTCAP_LOG_DEBUG, "cloudflare: %s: status \"%s\" not "
                    "known here; state unchanged", s->name, st);
    report(s, cs, state, st ? st : "unknown", shown);
}

/* Takes a PCAP object (the reference): its id checked, kept, published. */
static int take_result(pktcap_session *s, cf_session *cs, json_t *r, const char *what)
{
    const char *id = pktcap__json_str(r, "id");
    if (!json_is_object(r) || !id || !id_ok(id) || !pktcap__json_str(r, "status")) {
        json_decref(r);
        return pktcap__error_set(PKTCAP_E_FORMAT, "%s: the result is not a PCAP object with an "
                                 "\"id\" and a \"status\"", what);
    }
    if (strcmp(id, s->id) != 0) {
        char *copy = pktcap__strdup(id);
        if (!copy) {
            json_decref(r);
            return PKTCAP_E_NOMEM;
        }
        pktcap__free(s->id);
        s->id = copy;
    }
    json_decref(cs->result);
    cs->result = r;
    publish_details(s, cs);
    return 0;
}

/* ---- provider ------------------------------------------------------------------ */

static const char provider_keys[] =
    "endpoint, api_token, email, api_key, auth, poll_interval_ms, system; and the HTTP "
    "options ca_file, ca_path, tls_verify, connect_timeout_ms, timeout_ms, retries, "
    "retry_base_ms, retry_max_ms, retry_budget_ms, max_response_bytes, max_download_bytes, "
    "allow_http, rate_limit";

static int cf_provider_set(pktcap_provider *p, const char *key, const char *value)
{
    cf_provider *cp = p->impl;
    char what[64];
    size_t i;
    int rc = pktcap__http_set(cp->http, key, value);
    if (rc <= 0)
        return rc;
    snprintf(what, sizeof what, "cloudflare provider option '%s'", key);

    if (strcmp(key, "endpoint") == 0) {
        size_t n = strlen(value);
        char *copy;
        if (!*value) {
            pktcap__free(cp->endpoint);
            cp->endpoint = NULL;
            return 0;
        }
        if ((rc = check_endpoint(what, value)) < 0)
            return rc;
        while (n > 0 && value[n - 1] == '/')
            n--;
        if (!(copy = pktcap__strndup(value, n)))
            return PKTCAP_E_NOMEM;
        pktcap__free(cp->endpoint);
        cp->endpoint = copy;
        return 0;
    }
    if (strcmp(key, "auth") == 0) {
        for (i = 0; i < sizeof auth_names / sizeof auth_names[0]; i++)
            if (strcmp(value, auth_names[i]) == 0) {
                cp->auth_mode = (int)i;
                forget_auth(cp);
                return 0;
            }
        return pktcap__error_set(PKTCAP_E_INVAL, "%s: \"%.40s\" is not one of auto, token, key",
                                 what, value);
    }
    if (strcmp(key, "poll_interval_ms") == 0)
        return pktcap__parse_u64(&cp->poll_interval_ms, what, value, MIN_POLL_INTERVAL_MS,
                                 MAX_POLL_INTERVAL_MS);
    if (strcmp(key, "system") == 0) {
        if (!system_ok(value))
            return pktcap__error_set(PKTCAP_E_INVAL, "%s: \"%.80s\" is not a system Cloudflare "
                                     "captures on (%s)", what, value, SYSTEM_NAMES);
        snprintf(cp->system, sizeof cp->system, "%s", value);
        return 0;
    }
    {
        static const pktcap__credential_option creds[] = {
            { "api_token", offsetof(cf_provider, api_token) },
            { "email", offsetof(cf_provider, email) },
            { "api_key", offsetof(cf_provider, api_key) },
        };
        rc = pktcap__set_credential_option(cp, creds, sizeof creds / sizeof creds[0], key,
                                           value, what);
        if (rc > 0)
            forget_auth(cp);
        if (rc != 0)
            return rc < 0 ? rc : 0;
    }
    return pktcap__error_set(PKTCAP_E_INVAL, "unknown cloudflare provider option \"%.60s\" "
                             "(known: %s)", key, provider_keys);
}

static void cf_provider_close(pktcap_provider *p)
{
    cf_provider *cp = p->impl;
    if (!cp)
        return;
    forget_auth(cp);
    pktcap__http_free(cp->http);
    pktcap__free(cp->endpoint);
    pktcap__free(cp->api_token);
    pktcap__free(cp->email);
    pktcap__free(cp->api_key);
    pktcap__free(cp);
    p->impl = NULL;
}

static int cf_provider_open(pktcap_provider *p, const pktcap__uri *uri)
{
    cf_provider *cp;
    const char *auth = uri->authority ? uri->authority : "";
    const char *id = uri->path[0] == '/' ? uri->path + 1 : uri->path;
    size_t n = strlen(id);
    int rc;

    if (n > 0 && id[n - 1] == '/')
        n--;
    if (strcmp(auth, "accounts") != 0 || uri->path[0] != '/' || n == 0 ||
        n > MAX_ACCOUNT_LEN || strspn(id, "abcdefghijklmnopqrstuvwxyz"
                                          "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != n)
        return pktcap__error_set(PKTCAP_E_INVAL, "the cloudflare provider URI names an account: "
                                 ACCOUNT_FORM " (the account id: up to %d letters and digits, "
                                 "32 hex digits as the dashboard shows it); got "
                                 "\"cloudflare://%.60s%.100s\"", MAX_ACCOUNT_LEN, auth,
                                 uri->path);
    if (!(cp = pktcap__calloc(1, sizeof *cp)))
        return PKTCAP_E_NOMEM;
    p->impl = cp;   /* from here provider_close frees it */
    cp->p = p;
    memcpy(cp->account, id, n);
    cp->account[n] = '\0';
    cp->auth_mode = AUTH_AUTO;
    cp->poll_interval_ms = DEFAULT_POLL_INTERVAL_MS;
    snprintf(cp->system, sizeof cp->system, "%s", DEFAULT_SYSTEM);
    if ((rc = pktcap__http_new(&cp->http, &p->log)) < 0)
        return rc;
    /* Cloudflare's global API limit: 1200 requests per five minutes per user.
     * Keeping under it is politer (and quicker) than meeting its 429s. */
    return pktcap__http_set(cp->http, "rate_limit", "1200/300");
}

static int cf_check_filter(pktcap_provider *p, const pktcap_filter *f)
{
    char *text = NULL;
    int rc = pktcap_filter_to_cloudflare(&text, f);
    (void)p;
    pktcap_free(text);
    return rc;
}

/* The target is the capture's system: "magic-transit". */
static int cf_check_target(pktcap_provider *p, const char *target)
{
    (void)p;
    if (!system_ok(target))
        return pktcap__error_set(PKTCAP_E_INVAL, "a Cloudflare target is the system that "
                                 "captures: %s (got \"%.80s\")", SYSTEM_NAMES, target);
    return 0;
}

/* ---- session settings ---------------------------------------------------------- */

static const char session_keys[] = "type, system, colo_name, offset_time";

static int cf_session_set(pktcap_session *s, const char *key, const char *value)
{
    char what[80];
    (void)s;
    snprintf(what, sizeof what, "cloudflare session setting '%s'", key);
    if (strcmp(key, "type") == 0) {
        if (strcmp(value, "simple") != 0 && strcmp(value, "full") != 0)
            return pktcap__error_set(PKTCAP_E_INVAL, "%s (type): \"%.40s\" is not simple or "
                                     "full", what, value);
        return 0;
    }
    if (strcmp(key, "system") == 0) {
        if (!system_ok(value))
            return pktcap__error_set(PKTCAP_E_INVAL, "%s (system): \"%.80s\" is not a system "
                                     "Cloudflare captures on (%s)", what, value, SYSTEM_NAMES);
        return 0;
    }
    if (strcmp(key, "colo_name") == 0) {
        if (!word_ok(value, MAX_NAME_LEN, "-_"))
            return pktcap__error_set(PKTCAP_E_INVAL, "%s (colo_name): \"%.80s\" is not a "
                                     "Cloudflare data center name (letters, digits, '-', '_'; "
                                     "e.g. ord02)", what, value);
        return 0;
    }
    if (strcmp(key, "offset_time") == 0)
        return check_offset_time(what, value);
    return pktcap__error_set(PKTCAP_E_INVAL, "unknown cloudflare session setting \"%.60s\" "
                             "(known: %s)", key, session_keys);
}

/* ---- the create request -------------------------------------------------------- */

/* destination_conf of a full capture from the storage target. */
static int build_destination(pktcap_session *s, char **out)
{
    const pktcap__uri *u;
    char shown[256], what[160];
    const char *name;
    size_t n;
    int rc;
    *out = NULL;
    if (!s->storage)
        return pktcap__error_set(PKTCAP_E_INVAL, "session \"%s\": a full capture needs a bucket "
                                 "(destination_conf) whose ownership was validated: a storage "
                                 "target %s (pktcap_session_set_storage, pktcap capture "
                                 "--storage)", s->name, BUCKET_FORMS);
    name = pktcap__storage_name(s->storage);
    n = strcspn(name, "?");
    snprintf(shown, sizeof shown, "%.*s", (int)(n < 200 ? n : 200), name);
    snprintf(what, sizeof what, "session \"%s\": storage target", s->name);
    if (!(u = pktcap__storage_remote(s->storage)))
        return pktcap__error_set(PKTCAP_E_INVAL, "%s \"%s\" is not a bucket: Cloudflare writes "
                                 "full captures to %s", what, shown, BUCKET_FORMS);
    if ((rc = check_bucket(what, u, shown)) < 0)
        return rc;
    return bucket_text(u, out);
}

/* The POST body, every setting checked first. */
static int build_body(pktcap_session *s, cf_provider *cp, char **out)
{
    const char *type = pktcap__session_option(s, "type");
    const char *sys_opt = pktcap__session_option(s, "system");
    const char *colo = pktcap__session_option(s, "colo_name");
    const char *offset = pktcap__session_option(s, "offset_time");
    const char *system;
    char *dest = NULL;
    uint64_t time_s, max_time, packets = s->packet_limit;
    json_t *body;
    int full, rc;

    full = type && strcmp(type, "full") == 0;
    if (sys_opt && s->target && strcmp(sys_opt, s->target) != 0)
        return pktcap__error_set(PKTCAP_E_INVAL, "session \"%s\": the session setting system "
                                 "(\"%s\") and the target (\"%s\") differ: the target is the "
                                 "system", s->name, sys_opt, s->target);
    system = sys_opt ? sys_opt : s->target ? s->target : cp->system;
    max_time = full ? FULL_MAX_TIME_S : SIMPLE_MAX_TIME_S;
    time_s = (s->time_limit_ms + 999) / 1000;
    if (!s->time_limit_ms) {
        if (full)
            return pktcap__error_set(PKTCAP_E_INVAL, "session \"%s\": a full capture needs a "
                                     "time limit (time_limit, 1-%u s): "
                                     "pktcap_session_set_time_limit(), pktcap capture "
                                     "--duration", s->name, FULL_MAX_TIME_S);
        time_s = SIMPLE_MAX_TIME_S;
        pktcap__log(&s->provider->log, PKTCAP_LOG_INFO, "cloudflare: %s: no time limit given: "
                    "time_limit %u s, the most a simple capture may run", s->name,
                    SIMPLE_MAX_TIME_S);
    }
    if (time_s > max_time)
        return pktcap__error_set(PKTCAP_E_INVAL, "session \"%s\": time limit %llu ms (%llu s) is "
                                 "above Cloudflare's maximum for time_limit of a %s capture "
                                 "(%llu s%s)", s->name, (unsigned long long)s->time_limit_ms,
                                 (unsigned long long)time_s, full ? "full" : "simple",
                                 (unsigned long long)max_time,
                                 full ? "" : "; full captures: up to 86400 s");
    if (packets > MAX_PACKETS)
        return pktcap__error_set(PKTCAP_E_INVAL, "session \"%s\": packet limit %llu is above "
                                 "Cloudflare's maximum for packet_limit (%u)", s->name,
                                 (unsigned long long)packets, MAX_PACKETS);
    if (!packets && !full) {
        packets = MAX_PACKETS;
        pktcap__log(&s->provider->log, PKTCAP_LOG_INFO, "cloudflare: %s: no packet limit given: "
                    "packet_limit %u, the most a simple capture may take", s->name, MAX_PACKETS);
    }
    if (s->byte_limit && !full)
        return pktcap__error_set(PKTCAP_E_INVAL, "session \"%s\": a byte limit (byte_limit) "
                                 "applies to full captures only (session setting type=full); a "
                                 "simple capture ends by time_limit or packet_limit", s->name);
    if (s->byte_limit > MAX_BYTES)
        return pktcap__error_set(PKTCAP_E_INVAL, "session \"%s\": byte limit %llu is above "
                                 "Cloudflare's maximum for byte_limit (%u)", s->name,
                                 (unsigned long long)s->byte_limit, MAX_BYTES);
    if (!full) {
        if (colo)
            return pktcap__error_set(PKTCAP_E_INVAL, "session \"%s\": colo_name applies to full "
                                     "captures only (session setting type=full)", s->name);
        if (s->storage)
            return pktcap__error_set(PKTCAP_E_INVAL, "session \"%s\": a simple capture has no "
                                     "storage target: Cloudflare keeps it and "
                                     "pktcap_session_fetch() (pktcap capture --fetch) downloads "
                                     "it; to write to a bucket, make it type=full", s->name);
        if (offset) {
            char what[120];
            snprintf(what, sizeof what, "session \"%s\": offset_time", s->name);
            if ((rc = check_offset_time(what, offset)) < 0)
                return rc;
        }
    } else {
        if (offset)
            return pktcap__error_set(PKTCAP_E_INVAL, "session \"%s\": offset_time applies to "
                                     "simple captures only", s->name);
        if (!colo)
            return pktcap__error_set(PKTCAP_E_INVAL, "session \"%s\": a full capture needs "
                                     "colo_name, the Cloudflare data center to capture in (e.g. "
                                     "ord02): session setting colo_name", s->name);
        if ((rc = build_destination(s, &dest)) < 0)
            return rc;
    }

    if (!(body = json_object())) {
        pktcap__free(dest);
        return pktcap__error_set(PKTCAP_E_NOMEM, "out of memory building the request");
    }
    rc = jset(body, "type", json_string(full ? "full" : "simple"));
    if (rc == 0)
        rc = jset(body, "system", json_string(system));
    if (rc == 0)
        rc = jset(body, "time_limit", json_integer((json_int_t)time_s));
    if (rc == 0 && packets)
        rc = jset(body, "packet_limit", json_integer((json_int_t)packets));
    if (rc == 0 && s->byte_limit)
        rc = jset(body, "byte_limit", json_integer((json_int_t)s->byte_limit));
    if (rc == 0 && colo)
        rc = jset(body, "colo_name", json_string(colo));
    if (rc == 0 && dest)
        rc = jset(body, "destination_conf", json_string(dest));
    if (rc == 0 && s->filter) {
        char *text = NULL;
        if ((rc = pktcap_filter_to_cloudflare(&text, s->filter)) == 0) {
            json_t *f = json_loads(text, 0, NULL);
            pktcap_free(text);
            if (!f)
                rc = pktcap__error_set(PKTCAP_E_NOMEM, "out of memory building the request");
            else if (json_object_size(f) == 0)
                json_decref(f);   /* matches everything: no filter_v1 */
            else
                rc = jset(body, "filter_v1", f);
        }
    }
    if (rc == 0 && offset && !full)
        rc = jset(body, "offset_time", json_string(offset));
    if (rc == 0 && !(*out = pktcap__json_dump(body)))
        rc = PKTCAP_E_NOMEM;
    if (rc == 0) {
        /* The limits Cloudflare is given: what the session reports from now on. */
        s->time_limit_ms = time_s * 1000u;
        s->packet_limit = packets;
    }
    json_decref(body);
    pktcap__free(dest);
    return rc;
}

/* ---- lifecycle ----------------------------------------------------------------- */

static cf_session *session_impl(pktcap_session *s)
{
    cf_session *cs = s->impl;
    if (!cs) {
        if (!(cs = pktcap__calloc(1, sizeof *cs)))
            return NULL;
        cs->server_delay_ms = -1;
        s->impl = cs;
    }
    return cs;
}

static void cf_session_free(pktcap_session *s)
{
    cf_session *cs = s->impl;
    if (!cs)
        return;
    json_decref(cs->result);
    pktcap__free(cs);
    s->impl = NULL;
}

/* "packet capture ID" or, before there is one, "packet capture of session NAME". */
static void describe(const pktcap_session *s, const char *verb, char *out, size_t size)
{
    if (s->id && s->id[0] && strcmp(s->id, s->name) != 0)
        snprintf(out, size, "%s packet capture %s (session \"%s\")", verb, s->id, s->name);
    else if (s->id && s->id[0])
        snprintf(out, size, "%s packet capture %s", verb, s->id);
    else
        snprintf(out, size, "%s packet capture for session \"%s\"", verb, s->name);
}

/* GET the PCAP object into *out. */
static int read_result(cf_provider *cp, pktcap_session *s, cf_session *cs, json_t **out)
{
    pktcap__http_response resp;
    char what[200], *url = api_url(cp, s->id, NULL);
    int rc;
    *out = NULL;
    if (!url)
        return PKTCAP_E_NOMEM;
    describe(s, "get", what, sizeof what);
    rc = cf_send(cp, "GET", url, NULL, PKTCAP__HTTP_RETRY_AUTO, what, &resp);
    pktcap__free(url);
    if (rc < 0)
        return rc;
    cs->server_delay_ms = resp.retry_after_ms;
    return envelope_result(cp, &resp, what, out);
}

static int get_result(cf_provider *cp, pktcap_session *s, cf_session *cs)
{
    char what[200];
    json_t *r;
    int rc = read_result(cp, s, cs, &r);
    if (rc < 0)
        return rc;
    describe(s, "get", what, sizeof what);
    return take_result(s, cs, r, what);
}

static int cf_start(pktcap_session *s)
{
    cf_provider *cp = s->provider->impl;
    cf_session *cs = session_impl(s);
    pktcap__http_response resp;
    char what[200], *body = NULL, *url;
    json_t *r;
    int rc;

    if (!cs)
        return PKTCAP_E_NOMEM;
    describe(s, "create", what, sizeof what);
    if ((rc = build_body(s, cp, &body)) < 0)
        return rc;
    if (!(url = api_url(cp, NULL, NULL))) {
        pktcap__free(body);
        return PKTCAP_E_NOMEM;
    }
    rc = cf_send(cp, "POST", url, body, PKTCAP__HTTP_RETRY_AUTO, what, &resp);
    pktcap__free(url);
    pktcap__free(body);
    if (rc < 0)
        return rc;
    cs->server_delay_ms = resp.retry_after_ms;
    if ((rc = envelope_result(cp, &resp, what, &r)) < 0)
        return rc;
    if ((rc = take_result(s, cs, r, what)) < 0)
        return rc;
    pktcap__log(&s->provider->log, PKTCAP_LOG_INFO, "cloudflare: %s: created packet capture %s "
                "(%s, %s)", s->name, s->id, is_full(cs->result) ? "full" : "simple",
                pktcap__json_str(cs->result, "system") ? pktcap__json_str(cs->result, "system")
                                                      : "-");
    if (!s->target) {
        const char *sys = pktcap__json_str(cs->result, "system");
        if (sys && !(s->target = pktcap__strdup(sys)))
            return PKTCAP_E_NOMEM;
    }
    apply_result(s, cs);
    if (pktcap_session_state(s) == PKTCAP_STATE_NEW)
        report(s, cs, PKTCAP_STATE_PENDING, NULL, NULL);
    return 0;
}

/* The capture is gone at Cloudflare (404 after it existed). */
static void report_gone(pktcap_session *s, cf_session *cs)
{
    char text[300];
    snprintf(text, sizeof text, "packet capture %s is gone at Cloudflare (%s)", s->id,
             pktcap_error_message(pktcap_error_last()));
    report(s, cs, PKTCAP_STATE_FAILED, "gone", text);
}

static int cf_step(pktcap_session *s, int64_t *next_ms)
{
    cf_provider *cp = s->provider->impl;
    cf_session *cs = s->impl;
    int64_t now = pktcap__now_ms(), delay;
    int rc;
    *next_ms = -1;
    if (!cs || is_terminal(pktcap_session_state(s)))
        return 0;
    if (now < cs->not_before_ms) {
        *next_ms = cs->not_before_ms - now;
        return 0;
    }
    cs->server_delay_ms = -1;
    rc = get_result(cp, s, cs);
    if (rc == PKTCAP_E_NOTFOUND && cs->existed) {
        report_gone(s, cs);
        return 0;
    }
    if (rc < 0) {
        if (cs->server_delay_ms >= 0)
            cs->not_before_ms = pktcap__now_ms() + cs->server_delay_ms;
        return rc;
    }
    apply_result(s, cs);
    if (is_terminal(pktcap_session_state(s)))
        return 0;
    /* "Retry-After: 0" gives no pace: the poll interval does. */
    delay = cs->server_delay_ms > 0 ? cs->server_delay_ms : (int64_t)cp->poll_interval_ms;
    cs->not_before_ms = cs->server_delay_ms > 0 ? pktcap__now_ms() + cs->server_delay_ms : 0;
    *next_ms = delay;
    pktcap__log(&s->provider->log, PKTCAP_LOG_DEBUG, "cloudflare: %s: %s (%s); next poll in "
                "%lld ms%s", s->name, pktcap_state_name(pktcap_session_state(s)),
                cs->native[0] ? cs->native : "-", (long long)delay,
                cs->server_delay_ms > 0 ? " (Retry-After)" : "");
    return 0;
}

static int cf_stop(pktcap_session *s)
{
    cf_provider *cp = s->provider->impl;
    cf_session *cs = s->impl;
    pktcap__http_response resp;
    json_t *ignored = NULL;
    char what[200], *url;
    int prev, rc;

    if (!cs)
        return 0;
    prev = state_of(cs->result, PKTCAP_STATE_NEW, 0);
    if (prev != PKTCAP_STATE_RUNNING)
        prev = PKTCAP_STATE_PENDING;
    describe(s, "stop", what, sizeof what);
    if (!(url = api_url(cp, s->id, "stop")))
        return PKTCAP_E_NOMEM;
    cs->stop_called = 1;
    pktcap__log(&s->provider->log, PKTCAP_LOG_INFO, "cloudflare: %s: STOPPING", s->name);
    rc = cf_send(cp, "PUT", url, NULL, PKTCAP__HTTP_RETRY_AUTO, what, &resp);
    pktcap__free(url);
    if (rc == 0)
        rc = envelope_result(cp, &resp, what, &ignored);
    json_decref(ignored);
    if (rc < 0) {
        /* Cloudflare did not take the stop: the capture goes on as it was. */
        const pktcap_error *e = pktcap_error_last();
        char keep[640], code[64], message[512];
        int status = pktcap_error_http_status(e);
        snprintf(keep, sizeof keep, "%s", pktcap_error_message(e));
        snprintf(code, sizeof code, "%s", pktcap_error_provider_code(e));
        snprintf(message, sizeof message, "%s", pktcap_error_provider_message(e));
        cs->stop_called = 0;
        report(s, cs, prev, NULL, NULL);
        return pktcap__error_remote(rc, status, code[0] ? code : NULL,
                                    message[0] ? message : NULL, "%s", keep);
    }
    /* One status now, so that a stop that is already done shows at once. */
    if (get_result(cp, s, cs) == 0)
        apply_result(s, cs);
    else
        pktcap__log(&s->provider->log, PKTCAP_LOG_DEBUG, "cloudflare: %s: status after stop: %s",
                    s->name, pktcap_error_message(pktcap_error_last()));
    return 0;
}

static int cf_fetch(pktcap_session *s, pktcap_storage *st)
{
    cf_provider *cp = s->provider->impl;
    cf_session *cs = s->impl;
    pktcap__http_request req;
    pktcap__http_dl dl;
    pktcap__http_response resp;
    char what[200], *url;
    int rc;

    if (!cs)
        return pktcap__error_set(PKTCAP_E_NOTFOUND, "session \"%s\" has no capture", s->name);
    describe(s, "download", what, sizeof what);
    if (!cs->result && (rc = get_result(cp, s, cs)) < 0)
        return rc;
    if (is_full(cs->result)) {
        const char *dest = pktcap__json_str(cs->result, "destination_conf");
        return pktcap__error_set(PKTCAP_E_NOTSUP, "%s: a full capture is not downloaded through "
                                 "the API: Cloudflare writes it to the bucket %s as pcap_%s.pcap; "
                                 "read it from there", what, dest ? dest : "(destination_conf)",
                                 s->id);
    }
    if ((rc = ensure_auth(cp)) < 0)
        return rc;
    if (!(url = api_url(cp, s->id, "download")))
        return PKTCAP_E_NOMEM;
    memset(&req, 0, sizeof req);
    req.method = "GET";
    req.url = url;
    req.auth = cp->auth;
    req.retry = PKTCAP__HTTP_RETRY_AUTO;
    req.what = what;
    memset(&dl, 0, sizeof dl);
    dl.capture_file = 1;
    dl.progress = s->progress_cb;
    dl.userdata = s->progress_userdata;
    memset(&resp, 0, sizeof resp);
    rc = pktcap__http_download(cp->http, &req, st, &dl, &resp);
    pktcap__free(url);
    if (rc < 0)
        return rc;
    if (resp.status != 200 && resp.status != 206) {
        json_t *root = pktcap__body_json(&resp);
        rc = envelope_error(cp, &resp, root, what);
        json_decref(root);
        pktcap__http_response_clear(&resp);
        return rc;
    }
    pktcap__http_response_clear(&resp);
    pktcap__log(&s->provider->log, PKTCAP_LOG_INFO, "cloudflare: %s: fetched %llu bytes (%s)%s",
                s->name, (unsigned long long)dl.bytes, pktcap__format_name(dl.format),
                dl.resumes ? " (resumed)" : "");
    return 0;
}

/* ---- listing and opening ------------------------------------------------------- */

static int cf_list_sessions(pktcap_provider *p, pktcap_session_list *list)
{
    cf_provider *cp = p->impl;
    pktcap__http_response resp;
    char what[120], *url = api_url(cp, NULL, NULL);
    json_t *r, *item;
    size_t i;
    int rc;

    if (!url)
        return PKTCAP_E_NOMEM;
    snprintf(what, sizeof what, "list packet captures of account %s", cp->account);
    rc = cf_send(cp, "GET", url, NULL, PKTCAP__HTTP_RETRY_AUTO, what, &resp);
    pktcap__free(url);
    if (rc < 0 || (rc = envelope_result(cp, &resp, what, &r)) < 0)
        return rc;
    if (r && !json_is_array(r)) {
        json_decref(r);
        return pktcap__error_set(PKTCAP_E_FORMAT, "%s: the result is not an array", what);
    }
    json_array_foreach (r, i, item) {
        const char *id = pktcap__json_str(item, "id");
        const char *st = pktcap__json_str(item, "status");
        if (!id || !id_ok(id)) {
            pktcap__log(&p->log, PKTCAP_LOG_DEBUG, "cloudflare: list: skipping an entry without "
                        "a usable id");
            continue;
        }
        if ((rc = pktcap__session_list_add(list, id, id,
                                           state_of(item, PKTCAP_STATE_NEW,
                                                    stopped_by_user(NULL, item)),
                                           st ? st : "unknown")) < 0)
            break;
    }
    json_decref(r);
    return rc;
}

static int cf_session_open(pktcap_session *s, const char *id)
{
    cf_provider *cp = s->provider->impl;
    cf_session *cs;
    const char *sys;
    int64_t v;
    int rc;

    if (!id_ok(id))
        return pktcap__error_set(PKTCAP_E_INVAL, "\"%.100s\" is not a Cloudflare packet capture "
                                 "id (letters, digits, '-', '_'; 32 hex digits as 'pktcap "
                                 "sessions' lists them)", id);
    if (!(cs = session_impl(s)))
        return PKTCAP_E_NOMEM;
    cs->opened = 1;
    rc = get_result(cp, s, cs);
    if (rc == PKTCAP_E_NOTFOUND) {
        const pktcap_error *e = pktcap_error_last();
        char code[64], text[512];
        snprintf(code, sizeof code, "%s", pktcap_error_provider_code(e));
        snprintf(text, sizeof text, "%s", pktcap_error_provider_message(e));
        return pktcap__error_remote(PKTCAP_E_NOTFOUND, pktcap_error_http_status(e),
                                    code[0] ? code : NULL, text[0] ? text : NULL,
                                    "no packet capture %s in Cloudflare account %s%s%s", id,
                                    cp->account, text[0] ? ": " : "", text);
    }
    if (rc < 0)
        return rc;
    /* The settings it was made with. */
    if ((sys = pktcap__json_str(cs->result, "system"))) {
        char *copy = pktcap__strdup(sys);
        if (!copy)
            return PKTCAP_E_NOMEM;
        pktcap__free(s->target);
        s->target = copy;
    }
    if (pktcap__json_int(cs->result, "time_limit", &v) == 0 && v > 0)
        s->time_limit_ms = (uint64_t)v * 1000u;
    if (pktcap__json_int(cs->result, "packet_limit", &v) == 0 && v > 0)
        s->packet_limit = (uint64_t)v;
    if (pktcap__json_int(cs->result, "byte_limit", &v) == 0 && v > 0)
        s->byte_limit = (uint64_t)v;
    apply_result(s, cs);
    if (pktcap_session_state(s) == PKTCAP_STATE_NEW)
        report(s, cs, PKTCAP_STATE_PENDING, NULL, NULL);
    return 0;
}

/* ---- provider operations (pktcap_provider_call) -------------------------------- */

static const char operations[] =
    "ownership_list, ownership_add, ownership_validate, ownership_delete";

/* The string member `key` of the arguments: INVAL when absent or not a string. */
static int arg_string(json_t *args, const char *op, const char *key, const char **out)
{
    json_t *v = json_object_get(args, key);
    if (!v)
        return pktcap__error_set(PKTCAP_E_INVAL, "cloudflare %s: the argument \"%s\" is "
                                 "missing", op, key);
    if (!json_is_string(v) || !*json_string_value(v))
        return pktcap__error_set(PKTCAP_E_INVAL, "cloudflare %s: the argument \"%s\" must be a "
                                 "non-empty string", op, key);
    *out = json_string_value(v);
    return 0;
}

/* Refuses members other than those named (NULL-terminated). */
static int only_args(json_t *args, const char *op, const char *const *known, const char *list)
{
    const char *key;
    json_t *v;
    json_object_foreach (args, key, v) {
        size_t i;
        int found = 0;
        for (i = 0; known[i]; i++)
            found |= strcmp(key, known[i]) == 0;
        if (!found)
            return pktcap__error_set(PKTCAP_E_INVAL, "cloudflare %s: unknown argument \"%.60s\" "
                                     "(%s)", op, key, list);
    }
    return 0;
}

static int check_destination_arg(const char *op, const char *dest)
{
    pktcap__uri u;
    char what[80];
    int rc;
    snprintf(what, sizeof what, "cloudflare %s: destination_conf", op);
    if (pktcap__has_control(dest) || strchr(dest, ' '))
        return pktcap__error_set(PKTCAP_E_INVAL, "%s holds a blank or control character", what);
    if ((rc = pktcap__uri_parse(&u, dest)) < 0)
        return rc;
    rc = check_bucket(what, &u, dest);
    pktcap__uri_clear(&u);
    return rc;
}

static int cf_call(pktcap_provider *p, const char *op, const char *args_text, char **result)
{
    static const char *const none[] = { NULL };
    static const char *const dest_only[] = { "destination_conf", NULL };
    static const char *const dest_challenge[] = { "destination_conf", "ownership_challenge",
                                                   NULL };
    static const char *const id_only[] = { "id", NULL };
    cf_provider *cp = p->impl;
    pktcap__http_response resp;
    json_error_t jerr;
    json_t *args, *body = NULL, *r = NULL;
    const char *method, *dest = NULL, *challenge = NULL, *id = NULL, *sub = NULL;
    char what[200], *url = NULL, *text = NULL;
    int retry = PKTCAP__HTTP_RETRY_AUTO, rc;

    if (strcmp(op, "ownership_list") != 0 && strcmp(op, "ownership_add") != 0 &&
        strcmp(op, "ownership_validate") != 0 && strcmp(op, "ownership_delete") != 0)
        return pktcap__error_set(PKTCAP_E_NOTSUP, "the cloudflare provider has no operation "
                                 "\"%.60s\" (it has %s)", op, operations);
    if (!(args = json_loads(args_text, 0, &jerr)) || !json_is_object(args)) {
        json_decref(args);
        return pktcap__error_set(PKTCAP_E_INVAL, "cloudflare %s: the arguments are not a JSON "
                                 "object", op);
    }
    if (strcmp(op, "ownership_list") == 0) {
        rc = only_args(args, op, none, "it takes none");
        method = "GET";
        snprintf(what, sizeof what, "list bucket ownerships of account %s", cp->account);
    } else if (strcmp(op, "ownership_add") == 0) {
        if ((rc = only_args(args, op, dest_only, "it takes destination_conf")) == 0 &&
            (rc = arg_string(args, op, "destination_conf", &dest)) == 0)
            rc = check_destination_arg(op, dest);
        method = "POST";
        snprintf(what, sizeof what, "add bucket ownership for %.150s", dest ? dest : "");
    } else if (strcmp(op, "ownership_validate") == 0) {
        if ((rc = only_args(args, op, dest_challenge, "it takes destination_conf and "
                            "ownership_challenge")) == 0 &&
            (rc = arg_string(args, op, "destination_conf", &dest)) == 0 &&
            (rc = arg_string(args, op, "ownership_challenge", &challenge)) == 0)
            rc = check_destination_arg(op, dest);
        method = "POST";
        sub = "validate";
        retry = PKTCAP__HTTP_RETRY_SAFE;   /* validating twice changes nothing */
        snprintf(what, sizeof what, "validate bucket ownership of %.150s", dest ? dest : "");
    } else {
        if ((rc = only_args(args, op, id_only, "it takes id")) == 0 &&
            (rc = arg_string(args, op, "id", &id)) == 0 && !id_ok(id))
            rc = pktcap__error_set(PKTCAP_E_INVAL, "cloudflare %s: \"%.80s\" is not an "
                                   "ownership id (letters, digits, '-', '_')", op, id);
        method = "DELETE";
        sub = id;
        snprintf(what, sizeof what, "delete bucket ownership %.80s", id ? id : "");
    }
    if (rc == 0 && dest) {
        if (!(body = json_object()) || jset(body, "destination_conf", json_string(dest)) < 0 ||
            (challenge && jset(body, "ownership_challenge", json_string(challenge)) < 0) ||
            !(text = pktcap__json_dump(body)))
            rc = PKTCAP_E_NOMEM;
    }
    if (rc == 0 && !(url = api_url(cp, "ownership", sub)))
        rc = PKTCAP_E_NOMEM;
    if (rc == 0)
        rc = cf_send(cp, method, url, text, retry, what, &resp);
    if (rc == 0)
        rc = envelope_result(cp, &resp, what, &r);
    if (rc == 0) {
        if (!r)
            *result = pktcap__strdup(strcmp(op, "ownership_list") == 0 ? "[]" : "null");
        else
            *result = pktcap__json_dump(r);
        if (!*result)
            rc = PKTCAP_E_NOMEM;
        else
            pktcap__log(&p->log, PKTCAP_LOG_INFO, "cloudflare: %s: done", what);
    }
    json_decref(r);
    json_decref(body);
    json_decref(args);
    pktcap__free(text);
    pktcap__free(url);
    return rc;
}

const pktcap__backend pktcap__backend_cloudflare = {
    .kind = "cloudflare",
    .caps = PKTCAP_CAP_RULE_FILTER | PKTCAP_CAP_PACKET_LIMIT | PKTCAP_CAP_TIME_LIMIT |
            PKTCAP_CAP_BYTE_LIMIT | PKTCAP_CAP_STOP | PKTCAP_CAP_LIST | PKTCAP_CAP_OPEN |
            PKTCAP_CAP_FETCH,
    .provider_open = cf_provider_open,
    .provider_set = cf_provider_set,
    .provider_close = cf_provider_close,
    .list_sessions = cf_list_sessions,
    .list_targets = NULL,
    .call = cf_call,
    .check_filter = cf_check_filter,
    .check_target = cf_check_target,
    .session_set = cf_session_set,
    .session_open = cf_session_open,
    .start = cf_start,
    .step = cf_step,
    .stop = cf_stop,
    .remove = NULL,
    .fetch = cf_fetch,
    .session_free = cf_session_free,
};
