/* sdwan.c — the `sdwan:` provider: packet captures on a Citrix SD-WAN
 * appliance through its NITRO v2 REST API.
 *
 * Provider URI:
 *   sdwan://HOST[:PORT]   (options as ?key=value or pktcap_provider_set)
 * Requests go to {scheme}://HOST[:PORT]/sdwan/nitro/…, scheme https (the
 * default; appliances use a self-signed certificate: give ca_file) or http
 * (scheme=http). Credentials: the options username and password, else the
 * environment variables PKTCAP_SDWAN_USER and PKTCAP_SDWAN_PASSWORD, read at
 * the first login.
 *
 * Requests:
 *   login    POST v2/config/login {"login":{"username","password"}}, or
 *            v1/config/login when v2 answers 404 (remembered). The appliance
 *            answers with session cookies (names undocumented): the HTTP
 *            client keeps every cookie and sends them all back. Made at the
 *            first start() or fetch(), and once more when a request gets 401
 *            (the session expired): the request is then repeated once; a
 *            second 401 is PKTCAP_E_AUTH. This is the auth layer's "login
 *            session" (lib/net/auth.h).
 *   logout   DELETE on the login resource, at pktcap_provider_close(); a
 *            failure is logged and otherwise ignored.
 *   capture  POST v2/diag/packet_capture {"packet_capture":{"interface",
 *            "duration","filter_str","max_packets"}}: synchronous, it answers
 *            when the capture has ended, with the packet summaries.
 *   download GET v2/download/pcap_download: the appliance's last capture
 *            (pcapng, at most 575 MB). Its Content-Type says JSON: the file
 *            is recognised by its magic.
 *
 * Lifecycle:
 *   start   checks the settings (below, before any request), logs in when
 *           not logged in, moves to RUNNING and starts one thread that sends
 *           the capture request (its timeout: duration + capture_margin_ms).
 *           In a pktcap_group (on a fiber) no thread: the request is sent
 *           by the start itself, which the group runs beside the others;
 *           and an appliance busy with another capture (409, errorcode
 *           1097) is asked again after 1, 2, 4, 8, 10, 10… s for up to 10
 *           minutes, so one appliance's sessions run one after another.
 *   thread  2xx → the summaries (either response shape: a JSON array of
 *           results, or older firmware's {"packet_capture":{…,"summary"}};
 *           every value a string or a number) become pktcap_summary records,
 *           the statistics and details are set, COMPLETE (native status =
 *           the result's message; stop reason "packet limit" when max_packets
 *           rows came back, else "time limit"). Anything else → FAILED with
 *           the error as text (NITRO's errorcode and errormessage kept).
 *   stop, delete, list, open: the appliance has no such requests (the
 *           lifecycle refuses them from the capabilities).
 *   fetch   downloads the last capture into any storage target, refusing a
 *           file announced (or grown) above 575 MiB; refused when a later
 *           capture made through this provider handle replaced it.
 *   free    cancels a capture request still running (libcurl notices within
 *           about a second) and joins the thread.
 *
 * Settings → request (checked in start(), before any request):
 *   target       → interface: names of [A-Za-z0-9/_.-] joined by "--"
 *                  (MGMT, MGMT--1--2, LTE-1--MGMT--1/2), no name twice
 *   time limit   → duration: exactly 5, 10, 15 or 30 s (required)
 *   packet limit → max_packets: 1000, 2000 or 5000; none → "MAX"
 *   filter       → filter_str: pktcap_filter_to_sdwan (rules as a tcpdump
 *                  expression; a raw-BPF filter's expression); none → ""
 *   storage      → refused: the appliance keeps the file; fetch() brings it
 *   snaplen, byte limit: not supported (refused by the lifecycle)
 *
 * Summary rows ({number, time, src_mac, dst_mac, src_ip, dst_ip, src_port,
 * dst_port, protocol, length}) → pktcap_summary: number; ts_sec/ts_nsec and
 * time_digits from `time` (epoch seconds with an optional fraction,
 * "YYYY-MM-DD[ T]HH:MM:SS[.frac][Z|±HH:MM]" — UTC unless an offset is given —
 * or a time of day "HH:MM:SS[.frac]", UTC, on the date nearest the capture's
 * start); MACs (':' or '-' separated, or Cisco's aabb.ccdd.eeff) with
 * HAS_MAC and linktype 1; IPv4/IPv6 addresses with HAS_IP and ip_version;
 * ports with HAS_PORTS; protocol names in the decoder's spelling (TCP, UDP,
 * ICMP, ICMPv6, ARP, …) with ip_proto, other names as given; length →
 * wire_len and cap_len. Empty values, null and "-" are absent; a value that
 * cannot be read is absent too, with one warning per session in the log.
 * The pairs (MACs, addresses, ports) are kept only whole: pktcap_summary has
 * one flag for both halves, and a half shown as 0 would look known.
 *
 * Security: the password goes only into the login request's body (never in
 * a message or a log line); cookie values are never logged; scheme=http to
 * a host other than this machine is allowed (the user asked for it) with a
 * warning that the password and cookies travel in clear.
 */
#include "backends/backend.h"
#include "backends/remote.h"

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/fiber.h"
#include "core/log.h"
#include "core/strbuf.h"
#include "core/uri.h"
#include "net/auth.h"
#include "net/http.h"
#include "net/json.h"
#include "storage/storage.h"

#define NITRO_BUSY 1097            /* "A packet capture is already running" (409) */
#define BUSY_FIRST_MS 1000         /* group: first wait for a busy appliance */
#define BUSY_MAX_DELAY_MS 10000
#define BUSY_WAIT_MS 600000        /* group: longest total wait for a busy appliance */
#define NITRO_PATH "/sdwan/nitro/"
#define CAPTURE_RESOURCE "v2/diag/packet_capture"
#define DOWNLOAD_RESOURCE "v2/download/pcap_download"
#define DEFAULT_CAPTURE_MARGIN_MS 30000u
#define MAX_CAPTURE_MARGIN_MS 3600000u
/* The appliance's cap on a capture file, "575 MB": taken as MiB, so a file
 * within either reading of the unit is accepted. */
#define MAX_CAPTURE_FILE ((uint64_t)575 << 20)
#define MAX_TARGET_LEN 512
#define MAX_INTERFACES 64
#define ENV_USER "PKTCAP_SDWAN_USER"
#define ENV_PASSWORD "PKTCAP_SDWAN_PASSWORD"
#define URI_FORM "sdwan://HOST[:PORT]"
#define TARGET_FORM "interface names (letters, digits, '/', '_', '.', '-') joined by \"--\", " \
                    "e.g. MGMT, MGMT--1--2, LTE-1--MGMT--1/2"

static const unsigned durations_s[] = { 5, 10, 15, 30 };
static const uint64_t packet_counts[] = { 1000, 2000, 5000 };

/* ---- provider state ------------------------------------------------------------ */

typedef struct sdwan_provider {
    pktcap_provider *p;
    pktcap__http *http;
    pktcap__auth *auth;          /* the login session: made at open, logs in on first use */
    char *authority;             /* "host[:port]" as given */
    char *host;                  /* the host part, for messages and the loopback check */
    int https;                   /* scheme */
    char *username, *password;   /* options; NULL: the environment */
    int allow_http_given;        /* the user set allow_http: their choice stands */
    int http_checked;            /* scheme=http: allow_http decided, warned */
    int login_version;           /* 2, or 1 once v2 answered 404; guarded by the auth's lock */
    uint64_t capture_margin_ms;
    uint64_t max_download;       /* MAX_CAPTURE_FILE, or max_download_bytes if lower */
    pthread_mutex_t lock;        /* guards completed_seq */
    unsigned long completed_seq; /* captures completed through this handle */
} sdwan_provider;

/* ---- session state ------------------------------------------------------------- */

typedef struct sdwan_session {
    pktcap_session *s;
    sdwan_provider *sp;
    json_t *request;             /* the packet_capture object sent */
    char *body;                  /* {"packet_capture": request}, compact */
    unsigned duration_s;
    uint64_t max_packets;        /* 0: "MAX" */
    int64_t start_realtime_s;    /* for times of day in the summary */
    pthread_t thread;
    int thread_started, joined;
    int cancel;                  /* set (atomically) by session_free */
    unsigned long seq;           /* completed_seq of this capture; 0: not completed */
    int warned;                  /* a summary value could not be read (logged once) */
} sdwan_session;

/* ---- small helpers ------------------------------------------------------------- */

/* "{scheme}://{authority}/sdwan/nitro/{resource}" (allocated) or NULL (NOMEM). */
static char *nitro_url(const sdwan_provider *sp, const char *resource)
{
    pktcap__strbuf b = PKTCAP__STRBUF_INIT;
    char *out = NULL;
    pktcap__strbuf_printf(&b, "%s://%s" NITRO_PATH "%s", sp->https ? "https" : "http",
                          sp->authority, resource);
    pktcap__strbuf_finish(&out, &b);
    return out;
}

/* A response the caller does not accept: NITRO's {"errorcode": N,
 * "errormessage": "…"} (else "message") kept as the provider code (N as
 * text) and message; the status gives the code unless `code` is non-zero. */
static int nitro_error(const pktcap__http_response *resp, const char *what, int code)
{
    json_t *root = pktcap__body_json(resp), *ecode;
    const char *emsg = NULL;
    char codebuf[32] = "";
    int rc;
    if (json_is_object(root)) {
        ecode = json_object_get(root, "errorcode");
        if (json_is_integer(ecode))
            snprintf(codebuf, sizeof codebuf, "%lld", (long long)json_integer_value(ecode));
        else if (json_is_string(ecode))
            snprintf(codebuf, sizeof codebuf, "%s", json_string_value(ecode));
        emsg = pktcap__json_str(root, "errormessage");
        if (!emsg || !*emsg)
            emsg = pktcap__json_str(root, "message");
    }
    rc = pktcap__http_status_error(resp, what, codebuf[0] ? codebuf : NULL,
                                   emsg && *emsg ? emsg : NULL, code);
    json_decref(root);
    return rc;
}

/* ---- transport and login ------------------------------------------------------- */

/* scheme=http to another machine: the user asked for it, so the HTTP layer's
 * refusal to send credentials in clear is lifted (unless they set allow_http
 * themselves), and the log says what that means. Once per provider. */
static int check_http(sdwan_provider *sp)
{
    int rc = 0;
    if (sp->https || sp->http_checked || pktcap__http_is_loopback(sp->host))
        return 0;
    if (!sp->allow_http_given)
        rc = pktcap__http_set(sp->http, "allow_http", "true");
    if (rc == 0) {
        sp->http_checked = 1;
        pktcap__log(&sp->p->log, PKTCAP_LOG_WARN, "sdwan: scheme=http: the password and the "
                    "session cookies go to %s unencrypted", sp->host);
    }
    return rc;
}

static void login_url_path(char *out, size_t size, int version)
{
    snprintf(out, size, "v%d/config/login", version);
}

/* Appends `s` as a JSON string (quotes included) at out[*n]; out has room
 * for 6 bytes per input byte plus 2. */
static void put_json_string(char *out, size_t *n, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    out[(*n)++] = '"';
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\') {
            out[(*n)++] = '\\';
            out[(*n)++] = (char)*c;
        } else if (*c < 0x20 || *c == 0x7f) {
            memcpy(out + *n, "\\u00", 4);
            out[*n + 4] = hex[*c >> 4];
            out[*n + 5] = hex[*c & 15];
            *n += 6;
        } else {
            out[(*n)++] = (char)*c;
        }
    }
    out[(*n)++] = '"';
}

/* {"login":{"username":…,"password":…}} in one allocation, so that the only
 * copy of the password it makes can be wiped (free_secret). */
static char *login_body(const char *user, const char *password)
{
    size_t n = 0, size = 40 + 6 * (strlen(user) + strlen(password));
    char *out = pktcap__malloc(size);
    if (!out)
        return NULL;
    memcpy(out, "{\"login\":{\"username\":", 21);
    n = 21;
    put_json_string(out, &n, user);
    memcpy(out + n, ",\"password\":", 12);
    n += 12;
    put_json_string(out, &n, password);
    memcpy(out + n, "}}", 3);
    return out;
}

/* The auth layer's login (lib/net/auth.h): runs with the auth's lock held. */
static int sdwan_login(void *ctx, const int *cancel)
{
    sdwan_provider *sp = ctx;
    const char *user = sp->username ? sp->username : pktcap__env(ENV_USER);
    const char *password = sp->password ? sp->password : pktcap__env(ENV_PASSWORD);
    pktcap__http_request req;
    pktcap__http_response resp;
    char *text = NULL, *url = NULL, what[200], path[32];
    int version = sp->login_version, rc;

    snprintf(what, sizeof what, "log in to SD-WAN appliance %s", sp->authority);
    if (!user || !password)
        return pktcap__error_set(PKTCAP_E_AUTH, "%s: no %s: set the provider options username "
                                 "and password, or the environment variables " ENV_USER
                                 " and " ENV_PASSWORD, what,
                                 !user && !password ? "username and password"
                                 : !user            ? "username"
                                                    : "password");
    if ((rc = check_http(sp)) < 0 || (rc = pktcap__http_clear_cookies(sp->http)) < 0)
        return rc;
    if (!(text = login_body(user, password)))
        return pktcap__error_set(PKTCAP_E_NOMEM, "%s: out of memory", what);
    for (;;) {
        login_url_path(path, sizeof path, version);
        pktcap__free(url);
        if (!(url = nitro_url(sp, path))) {
            rc = PKTCAP_E_NOMEM;
            break;
        }
        memset(&req, 0, sizeof req);
        req.method = "POST";
        req.url = url;
        req.body = text;
        req.body_len = strlen(text);
        req.retry = PKTCAP__HTTP_RETRY_SAFE;   /* a second login does no harm */
        req.what = what;
        req.sensitive_body = 1;
        req.cancel = cancel;
        /* A self-signed appliance certificate: the HTTP layer's message says
         * to give it as ca_file. */
        if ((rc = pktcap__http_send(sp->http, &req, &resp)) < 0)
            break;
        if (resp.status == 404 && version == 2) {
            pktcap__log(&sp->p->log, PKTCAP_LOG_INFO, "sdwan: %s has no NITRO v2 login "
                        "(HTTP 404): logging in with v1", sp->authority);
            pktcap__http_response_clear(&resp);
            version = 1;
            continue;
        }
        if (resp.status >= 200 && resp.status < 300) {
            sp->login_version = version;
            pktcap__log(&sp->p->log, PKTCAP_LOG_INFO, "sdwan: logged in to %s as %s (NITRO v%d)",
                        sp->authority, user, version);
        } else {
            rc = nitro_error(&resp, what, 0);   /* 401 AUTH: "Invalid username or password" */
        }
        pktcap__http_response_clear(&resp);
        break;
    }
    pktcap__free_secret(text);
    pktcap__free(url);
    return rc;
}

/* The auth layer's logout, at provider close: failures are logged only. */
static void sdwan_logout(void *ctx)
{
    sdwan_provider *sp = ctx;
    pktcap__http_request req;
    pktcap__http_response resp;
    char path[32], what[200], *url;
    int rc;
    login_url_path(path, sizeof path, sp->login_version);
    snprintf(what, sizeof what, "log out of SD-WAN appliance %s", sp->authority);
    if (!(url = nitro_url(sp, path)))
        return;
    memset(&req, 0, sizeof req);
    req.method = "DELETE";
    req.url = url;
    req.retry = PKTCAP__HTTP_RETRY_NEVER;   /* closing must not linger */
    req.what = what;
    rc = pktcap__http_send(sp->http, &req, &resp);
    if (rc == 0 && resp.status >= 200 && resp.status < 300) {
        pktcap__log(&sp->p->log, PKTCAP_LOG_INFO, "sdwan: logged out of %s", sp->authority);
    } else {
        if (rc == 0)
            nitro_error(&resp, what, 0);
        pktcap__log(&sp->p->log, PKTCAP_LOG_WARN, "sdwan: %s (ignored)",
                    pktcap_error_message(pktcap_error_last()));
    }
    pktcap__http_response_clear(&resp);
    pktcap__free(url);
    pktcap__http_clear_cookies(sp->http);
}

/* Logs in now unless logged in (start and fetch report a refused login at once). */
static int ensure_login(sdwan_provider *sp)
{
    struct curl_slist *none = NULL;
    int rc = pktcap__auth_apply(sp->auth, NULL, &none);
    curl_slist_free_all(none);
    return rc;
}

/* ---- provider ------------------------------------------------------------------ */

static const char provider_keys[] =
    "scheme, username, password, capture_margin_ms; and the HTTP options ca_file, ca_path, "
    "tls_verify, connect_timeout_ms, timeout_ms, retries, retry_base_ms, retry_max_ms, "
    "retry_budget_ms, max_response_bytes, max_download_bytes, allow_http, rate_limit";

static int sdwan_provider_set(pktcap_provider *p, const char *key, const char *value)
{
    sdwan_provider *sp = p->impl;
    char what[64];
    int rc = pktcap__http_set(sp->http, key, value);
    if (rc == 0 && strcmp(key, "allow_http") == 0)
        sp->allow_http_given = 1;
    if (rc == 0 && strcmp(key, "max_download_bytes") == 0) {
        uint64_t n = MAX_CAPTURE_FILE;
        pktcap__parse_u64(&n, "max_download_bytes", value, 1, UINT64_MAX / 2);
        sp->max_download = n < MAX_CAPTURE_FILE ? n : MAX_CAPTURE_FILE;
    }
    if (rc <= 0)
        return rc;
    snprintf(what, sizeof what, "sdwan provider option '%s'", key);
    if (strcmp(key, "scheme") == 0) {
        if (strcmp(value, "https") != 0 && strcmp(value, "http") != 0)
            return pktcap__error_set(PKTCAP_E_INVAL, "%s: \"%.40s\" is not https or http", what,
                                     value);
        sp->https = strcmp(value, "https") == 0;
        sp->http_checked = 0;
        return 0;
    }
    if (strcmp(key, "capture_margin_ms") == 0)
        return pktcap__parse_u64(&sp->capture_margin_ms, what, value, 0, MAX_CAPTURE_MARGIN_MS);
    {
        static const pktcap__credential_option creds[] = {
            { "username", offsetof(sdwan_provider, username) },
            { "password", offsetof(sdwan_provider, password) },
        };
        /* Values are secrets or identifiers: never echoed in a message. */
        if ((strcmp(key, "username") == 0 || strcmp(key, "password") == 0) && !*value)
            return pktcap__error_set(PKTCAP_E_INVAL, "%s is empty", what);
        rc = pktcap__set_credential_option(sp, creds, sizeof creds / sizeof creds[0], key, value,
                                           what);
        if (rc > 0)
            pktcap__auth_invalidate(sp->auth, NULL);   /* log in again, as the new user */
        if (rc != 0)
            return rc < 0 ? rc : 0;
    }
    return pktcap__error_set(PKTCAP_E_INVAL, "unknown sdwan provider option \"%.60s\" "
                             "(known: %s)", key, provider_keys);
}

static void sdwan_provider_close(pktcap_provider *p)
{
    sdwan_provider *sp = p->impl;
    if (!sp)
        return;
    if (sp->auth) {
        pktcap__auth_end_session(sp->auth);   /* logs out when logged in */
        pktcap__auth_free(sp->auth);
    }
    pktcap__http_free(sp->http);
    pktcap__free(sp->authority);
    pktcap__free(sp->host);
    pktcap__free(sp->username);
    pktcap__free_secret(sp->password);
    pthread_mutex_destroy(&sp->lock);
    pktcap__free(sp);
    p->impl = NULL;
}

/* "host", "host:port", "[v6]", "[v6]:port": the host part into *host. */
static int parse_authority(const char *auth, char **host)
{
    const char *end = auth + strlen(auth), *port = NULL, *h_end;
    if (*auth == '[') {
        const char *close = strchr(auth, ']');
        if (!close || close == auth + 1)
            return -1;
        for (const char *c = auth + 1; c < close; c++)
            if (!strchr("0123456789abcdefABCDEF:.", *c))
                return -1;
        h_end = close + 1;
        if (*h_end == ':')
            port = h_end + 1;
        else if (*h_end)
            return -1;
    } else {
        const char *colon = strchr(auth, ':');
        h_end = colon ? colon : end;
        if (h_end == auth)
            return -1;
        for (const char *c = auth; c < h_end; c++)
            if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                  (*c >= '0' && *c <= '9') || *c == '-' || *c == '.' || *c == '_'))
                return -1;
        if (colon)
            port = colon + 1;
    }
    if (port) {
        unsigned long n = 0;
        if (!*port || strlen(port) > 5)
            return -1;
        for (const char *c = port; *c; c++) {
            if (*c < '0' || *c > '9')
                return -1;
            n = n * 10 + (unsigned long)(*c - '0');
        }
        if (n == 0 || n > 65535)
            return -1;
    }
    return (*host = pktcap__strndup(auth, (size_t)(h_end - auth))) ? 0 : PKTCAP_E_NOMEM;
}

static int sdwan_provider_open(pktcap_provider *p, const pktcap__uri *uri)
{
    sdwan_provider *sp;
    char *host = NULL;
    int rc;
    if (!uri->authority || !*uri->authority)
        return pktcap__error_set(PKTCAP_E_INVAL, "the sdwan provider URI names the appliance's "
                                 "management address: " URI_FORM " (got no host)");
    if (strchr(uri->authority, '@'))
        return pktcap__error_set(PKTCAP_E_INVAL, "the sdwan provider URI takes no credentials "
                                 "(" URI_FORM "): give them with the username and password "
                                 "options or the environment variables " ENV_USER " and "
                                 ENV_PASSWORD);
    if (uri->path[0] && strcmp(uri->path, "/") != 0)
        return pktcap__error_set(PKTCAP_E_INVAL, "the sdwan provider URI has no path: " URI_FORM
                                 " (got \"%.100s\")", uri->path);
    if ((rc = parse_authority(uri->authority, &host)) != 0)
        return rc == PKTCAP_E_NOMEM ? rc
                                    : pktcap__error_set(PKTCAP_E_INVAL, "sdwan provider URI: "
                                                        "\"%.100s\" is not HOST[:PORT] (a name, "
                                                        "an IPv4 address or [IPv6], port "
                                                        "1-65535)", uri->authority);
    sp = pktcap__calloc(1, sizeof *sp);
    if (!sp) {
        pktcap__free(host);
        return PKTCAP_E_NOMEM;
    }
    pthread_mutex_init(&sp->lock, NULL);
    p->impl = sp;   /* from here provider_close frees it */
    sp->p = p;
    sp->host = host;
    sp->https = 1;
    sp->login_version = 2;
    sp->capture_margin_ms = DEFAULT_CAPTURE_MARGIN_MS;
    sp->max_download = MAX_CAPTURE_FILE;
    if (!(sp->authority = pktcap__strdup(uri->authority)))
        return PKTCAP_E_NOMEM;
    if ((rc = pktcap__http_new(&sp->http, &p->log)) < 0 ||
        (rc = pktcap__http_enable_cookies(sp->http)) < 0)
        return rc;
    return pktcap__auth_new_session(&sp->auth, sdwan_login, sdwan_logout, sp);
}

/* ---- settings ------------------------------------------------------------------ */

static int name_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '/' || c == '_' || c == '.' || c == '-';
}

/* The interface list: names joined by "--", each from [A-Za-z0-9/_.-],
 * neither starting nor ending with '-' (so the joins are unambiguous), none
 * twice. */
static int sdwan_check_target(pktcap_provider *p, const char *target)
{
    const char *names[MAX_INTERFACES];
    size_t lens[MAX_INTERFACES], n = 0, len = strlen(target);
    const char *c = target;
    (void)p;
    if (len > MAX_TARGET_LEN)
        return pktcap__error_set(PKTCAP_E_INVAL, "sdwan target: longer than %d characters; "
                                 "it is " TARGET_FORM, MAX_TARGET_LEN);
    for (size_t i = 0; i < len; i++)
        if (!name_char_ok(target[i]))
            return pktcap__error_set(PKTCAP_E_INVAL, "sdwan target \"%.100s\": character %zu "
                                     "('%c') cannot appear in it: it is " TARGET_FORM, target,
                                     i + 1, (target[i] >= 32 && target[i] < 127) ? target[i] : '?');
    for (;;) {
        const char *sep = strstr(c, "--");
        size_t k = sep ? (size_t)(sep - c) : strlen(c);
        if (k == 0 || c[0] == '-' || c[k - 1] == '-')
            return pktcap__error_set(PKTCAP_E_INVAL, "sdwan target \"%.100s\": interface %zu is "
                                     "%s: it is " TARGET_FORM, target, n + 1,
                                     k == 0 ? "empty" : "a name starting or ending with '-'");
        if (n == MAX_INTERFACES)
            return pktcap__error_set(PKTCAP_E_INVAL, "sdwan target \"%.100s\": more than %d "
                                     "interfaces", target, MAX_INTERFACES);
        for (size_t j = 0; j < n; j++)
            if (lens[j] == k && memcmp(names[j], c, k) == 0)
                return pktcap__error_set(PKTCAP_E_INVAL, "sdwan target \"%.100s\": interface "
                                         "\"%.*s\" is named twice", target, (int)k, c);
        names[n] = c;
        lens[n++] = k;
        if (!sep)
            return 0;
        c = sep + 2;
    }
}

static int sdwan_check_filter(pktcap_provider *p, const pktcap_filter *f)
{
    char *text = NULL;
    int rc = pktcap_filter_to_sdwan(&text, f);
    (void)p;
    pktcap_free(text);
    return rc;
}

/* The request body from the session's settings; every rule is checked here,
 * before anything is sent. */
static int build_request(pktcap_session *s, sdwan_session *ss)
{
    uint64_t ms = s->time_limit_ms;
    char *filter = NULL;
    json_t *pc, *body;
    size_t i;
    int rc;

    if ((rc = sdwan_check_target(s->provider, s->target)) < 0)
        return rc;
    for (i = 0; i < sizeof durations_s / sizeof durations_s[0]; i++)
        if (ms == (uint64_t)durations_s[i] * 1000)
            ss->duration_s = durations_s[i];
    if (!ss->duration_s) {
        if (!ms)
            return pktcap__error_set(PKTCAP_E_INVAL, "session \"%s\": an SD-WAN capture needs a "
                                     "duration of 5, 10, 15 or 30 s (the time limit, "
                                     "pktcap_session_set_time_limit; pktcap capture --duration)",
                                     s->name);
        return pktcap__error_set(PKTCAP_E_INVAL, "session \"%s\": time limit %llu ms is not an "
                                 "SD-WAN capture duration: 5, 10, 15 or 30 s exactly", s->name,
                                 (unsigned long long)ms);
    }
    ss->max_packets = 0;
    if (s->packet_limit) {
        for (i = 0; i < sizeof packet_counts / sizeof packet_counts[0]; i++)
            if (s->packet_limit == packet_counts[i])
                ss->max_packets = packet_counts[i];
        if (!ss->max_packets)
            return pktcap__error_set(PKTCAP_E_INVAL, "session \"%s\": packet limit %llu is not "
                                     "an SD-WAN max_packets value: 1000, 2000 or 5000 (or no "
                                     "limit, sent as MAX)", s->name,
                                     (unsigned long long)s->packet_limit);
    }
    if (s->storage)
        return pktcap__error_set(PKTCAP_E_NOTSUP, "session \"%s\": the SD-WAN appliance keeps "
                                 "the capture file itself; fetch it when the session has ended "
                                 "(pktcap_session_fetch; pktcap capture --fetch FILE) instead of "
                                 "giving a storage target", s->name);
    if (s->filter && (rc = pktcap_filter_to_sdwan(&filter, s->filter)) < 0)
        return rc;
    pc = json_pack("{s:s,s:I,s:s,s:o}", "interface", s->target, "duration",
                   (json_int_t)ss->duration_s, "filter_str", filter ? filter : "", "max_packets",
                   ss->max_packets ? json_integer((json_int_t)ss->max_packets)
                                   : json_string("MAX"));
    pktcap_free(filter);
    body = pc ? json_pack("{s:O}", "packet_capture", pc) : NULL;
    ss->request = pc;
    ss->body = body ? pktcap__json_dump(body) : NULL;
    json_decref(body);
    if (!ss->body)
        return pktcap__error_set(PKTCAP_E_NOMEM, "session \"%s\": out of memory writing the "
                                 "capture request", s->name);
    return 0;
}

/* ---- summaries ------------------------------------------------------------------- */

/* A row's value as text: strings as they are, numbers printed; NULL when
 * absent, null, "" or "-". */
static const char *value_text(json_t *row, const char *key, char *buf, size_t size)
{
    json_t *v = json_object_get(row, key);
    const char *t;
    if (json_is_string(v)) {
        t = json_string_value(v);
        while (*t == ' ')
            t++;
        return *t && strcmp(t, "-") != 0 ? t : NULL;
    }
    if (json_is_integer(v)) {
        snprintf(buf, size, "%lld", (long long)json_integer_value(v));
        return buf;
    }
    if (json_is_real(v)) {
        snprintf(buf, size, "%.9f", json_real_value(v));
        return buf;
    }
    return NULL;
}

/* Decimal digits (no sign) up to `max`; -1 otherwise. */
static int parse_uint(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == ' ')
        n--;
    if (n == 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9' || v > (max - (uint64_t)(s[i] - '0')) / 10)
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return 0;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* aa:bb:cc:dd:ee:ff, aa-bb-cc-dd-ee-ff or aabb.ccdd.eeff. */
static int parse_mac(const char *s, uint8_t out[6])
{
    size_t n = strlen(s);
    if (n == 17 && (s[2] == ':' || s[2] == '-')) {
        for (int i = 0; i < 6; i++) {
            int hi = hexval(s[3 * i]), lo = hexval(s[3 * i + 1]);
            if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != s[2]))
                return -1;
            out[i] = (uint8_t)(hi << 4 | lo);
        }
        return 0;
    }
    if (n == 14 && s[4] == '.' && s[9] == '.') {
        for (int i = 0, k = 0; i < 6; i++, k += 2) {
            int hi, lo;
            if (s[k] == '.')
                k++;
            hi = hexval(s[k]);
            lo = hexval(s[k + 1]);
            if (hi < 0 || lo < 0)
                return -1;
            out[i] = (uint8_t)(hi << 4 | lo);
        }
        return 0;
    }
    return -1;
}

/* An IPv4 or IPv6 address into out (IPv4 in the first 4 bytes): 4, 6 or -1. */
static int parse_ip(const char *s, uint8_t out[16])
{
    char buf[64];
    size_t n = strlen(s);
    if (n >= sizeof buf)
        return -1;
    memcpy(buf, s, n + 1);
    if (n > 2 && buf[0] == '[' && buf[n - 1] == ']') {   /* [v6] */
        memmove(buf, buf + 1, n - 2);
        buf[n - 2] = '\0';
    }
    memset(out, 0, 16);
    if (inet_pton(AF_INET, buf, out) == 1)
        return 4;
    if (inet_pton(AF_INET6, buf, out) == 1)
        return 6;
    return -1;
}

static const struct {
    const char *name, *canonical;
    uint8_t ip_proto;
} protocols[] = {
    { "tcp", "TCP", 6 }, { "udp", "UDP", 17 }, { "icmp", "ICMP", 1 },
    { "icmpv6", "ICMPv6", 58 }, { "icmp6", "ICMPv6", 58 }, { "ipv6-icmp", "ICMPv6", 58 },
    { "igmp", "IGMP", 2 }, { "gre", "GRE", 47 }, { "esp", "ESP", 50 }, { "ah", "AH", 51 },
    { "sctp", "SCTP", 132 }, { "arp", "ARP", 0 }, { "ipv4", "IPv4", 0 }, { "ip", "IPv4", 0 },
    { "ipv6", "IPv6", 0 }, { "ip6", "IPv6", 0 },
};

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

/* Exactly n digits. */
static int digits_n(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

/* ".ddd…": up to 9 digits kept (more are cut), the count into *ndigits. */
static int fraction(const char **p, uint32_t *nsec, uint32_t *ndigits)
{
    const char *s = *p;
    uint32_t v = 0, n = 0;
    *nsec = 0;
    *ndigits = 0;
    if (*s != '.')
        return 0;
    s++;
    if (*s < '0' || *s > '9')
        return -1;
    for (; *s >= '0' && *s <= '9'; s++)
        if (n < 9) {
            v = v * 10 + (uint32_t)(*s - '0');
            n++;
        }
    for (uint32_t k = n; k < 9; k++)
        v *= 10;
    *nsec = v;
    *ndigits = n;
    *p = s;
    return 0;
}

/* HH:MM:SS[.frac] into seconds of the day. */
static int time_of_day(const char **p, int64_t *secs, uint32_t *nsec, uint32_t *ndigits)
{
    int hh, mm, ss;
    if (digits_n(p, 2, &hh) || *(*p)++ != ':' || digits_n(p, 2, &mm) || *(*p)++ != ':' ||
        digits_n(p, 2, &ss) || hh > 23 || mm > 59 || ss > 60 || fraction(p, nsec, ndigits))
        return -1;
    *secs = hh * 3600 + mm * 60 + ss;
    return 0;
}

/* The formats of doc/sdwan.md; `start_s` (Unix time when the capture
 * started) dates a bare time of day. 0 or -1. */
static int parse_time(const char *s, int64_t start_s, int64_t *sec, uint32_t *nsec,
                      uint32_t *ndigits)
{
    const char *p = s;
    int64_t tod;
    int y, mo, d;
    size_t lead = strspn(s, "0123456789");
    if (lead > 0 && (s[lead] == '\0' || s[lead] == '.')) {          /* epoch seconds */
        uint64_t v = 0;
        if (lead > 12)
            return -1;
        for (size_t i = 0; i < lead; i++)
            v = v * 10 + (uint64_t)(s[i] - '0');
        p = s + lead;
        if (fraction(&p, nsec, ndigits) || *p)
            return -1;
        *sec = (int64_t)v;
        return 0;
    }
    if (lead == 2 && s[2] == ':') {                                /* HH:MM:SS[.frac] */
        int64_t day, best;
        if (time_of_day(&p, &tod, nsec, ndigits) || *p)
            return -1;
        /* On the date that puts it nearest the capture's start. */
        day = start_s >= 0 ? start_s / 86400 : (start_s - 86399) / 86400;
        best = day * 86400 + tod;
        if (best - start_s > 43200)
            best -= 86400;
        else if (start_s - best > 43200)
            best += 86400;
        *sec = best;
        return 0;
    }
    if (lead != 4 || digits_n(&p, 4, &y) || *p++ != '-' || digits_n(&p, 2, &mo) ||
        *p++ != '-' || digits_n(&p, 2, &d) || (*p != ' ' && *p != 'T' && *p != 't') ||
        mo < 1 || mo > 12 || d < 1 || d > 31)
        return -1;
    p++;
    if (time_of_day(&p, &tod, nsec, ndigits))
        return -1;
    *sec = days_from_civil(y, mo, d) * 86400 + tod;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {                          /* ±HH:MM or ±HHMM */
        int sign = *p++ == '-' ? -1 : 1, oh, om;
        if (digits_n(&p, 2, &oh) || (*p == ':' && !p++) || digits_n(&p, 2, &om) || oh > 23 ||
            om > 59)
            return -1;
        *sec -= sign * (oh * 3600 + om * 60);
    }
    return *p ? -1 : 0;
}

/* One value that could not be read: absent, and one warning per session. */
static void unreadable(sdwan_session *ss, size_t row, const char *key, const char *text,
                       const char *accepted)
{
    if (ss->warned)
        return;
    ss->warned = 1;
    pktcap__log(&ss->s->provider->log, PKTCAP_LOG_WARN, "sdwan: session \"%s\": summary row "
                "%zu: %s \"%.60s\" is not %s; left out (further such values are not reported)",
                ss->s->name, row + 1, key, text, accepted);
}

static void parse_row(sdwan_session *ss, json_t *row, size_t index, pktcap_summary *out)
{
    char buf[64], bsrc[64];
    const char *t, *src, *dst;
    uint64_t n;
    memset(out, 0, sizeof *out);
    out->struct_size = sizeof *out;
    out->flags = PKTCAP_SUMMARY_NO_TCP_FLAGS;   /* the appliance's rows have none */
    out->number = index + 1;
    if ((t = value_text(row, "number", buf, sizeof buf))) {
        if (parse_uint(t, UINT64_MAX, &n) == 0)
            out->number = n;
        else
            unreadable(ss, index, "number", t, "a packet number");
    }
    if ((t = value_text(row, "time", buf, sizeof buf))) {
        int64_t sec;
        uint32_t nsec, nd;
        json_t *v = json_object_get(row, "time");
        if (json_is_real(v)) {           /* epoch seconds as a JSON number: µs precision */
            double x = json_real_value(v);
            uint64_t us = x >= 0 && x < 1e12 ? (uint64_t)(x * 1e6 + 0.5) : 0;
            sec = us ? (int64_t)(us / 1000000) : -1;
            nsec = (uint32_t)(us % 1000000) * 1000u;
            nd = 6;
        } else if (parse_time(t, ss->start_realtime_s, &sec, &nsec, &nd) != 0) {
            sec = -1;
        }
        if (sec >= 0) {
            out->ts_sec = sec;
            out->ts_nsec = nsec;
            out->time_digits = nd;
        } else {
            unreadable(ss, index, "time", t, "epoch seconds, YYYY-MM-DD HH:MM:SS[.frac] or "
                                             "HH:MM:SS[.frac]");
        }
    }
    src = value_text(row, "src_mac", bsrc, sizeof bsrc);
    dst = value_text(row, "dst_mac", buf, sizeof buf);
    if (src && parse_mac(src, out->src_mac) != 0) {
        unreadable(ss, index, "src_mac", src, "a MAC address");
        src = NULL;
    }
    if (dst && parse_mac(dst, out->dst_mac) != 0) {
        unreadable(ss, index, "dst_mac", dst, "a MAC address");
        dst = NULL;
    }
    if (src && dst) {
        out->flags |= PKTCAP_SUMMARY_HAS_MAC;
        out->linktype = 1;   /* LINKTYPE_ETHERNET: the appliance's MACs are Ethernet's */
    } else {
        memset(out->src_mac, 0, sizeof out->src_mac);
        memset(out->dst_mac, 0, sizeof out->dst_mac);
    }
    {
        char b1[64], b2[64];
        uint8_t a[16], b[16];
        int va = -1, vb = -1;
        src = value_text(row, "src_ip", b1, sizeof b1);
        dst = value_text(row, "dst_ip", b2, sizeof b2);
        if (src && (va = parse_ip(src, a)) < 0)
            unreadable(ss, index, "src_ip", src, "an IPv4 or IPv6 address");
        if (dst && (vb = parse_ip(dst, b)) < 0)
            unreadable(ss, index, "dst_ip", dst, "an IPv4 or IPv6 address");
        if (va > 0 && vb > 0 && va != vb) {
            unreadable(ss, index, "dst_ip", dst, "of the source's IP version");
            vb = -1;
        }
        if (va > 0 && vb > 0) {
            out->flags |= PKTCAP_SUMMARY_HAS_IP;
            out->ip_version = (uint8_t)va;
            memcpy(out->src_ip, a, 16);
            memcpy(out->dst_ip, b, 16);
        }
    }
    {
        char b1[32], b2[32];
        uint64_t sp = 0, dp = 0;
        int has_s = 0, has_d = 0;
        src = value_text(row, "src_port", b1, sizeof b1);
        dst = value_text(row, "dst_port", b2, sizeof b2);
        if (src && !(has_s = parse_uint(src, 65535, &sp) == 0))
            unreadable(ss, index, "src_port", src, "a port number");
        if (dst && !(has_d = parse_uint(dst, 65535, &dp) == 0))
            unreadable(ss, index, "dst_port", dst, "a port number");
        if (has_s && has_d) {
            out->flags |= PKTCAP_SUMMARY_HAS_PORTS;
            out->src_port = (uint16_t)sp;
            out->dst_port = (uint16_t)dp;
        }
    }
    if ((t = value_text(row, "protocol", buf, sizeof buf))) {
        size_t i, k = 0;
        int known = 0;
        for (i = 0; i < sizeof protocols / sizeof protocols[0]; i++) {
            if (strcasecmp(t, protocols[i].name) == 0) {
                snprintf(out->protocol, sizeof out->protocol, "%s", protocols[i].canonical);
                if (out->flags & PKTCAP_SUMMARY_HAS_IP)
                    out->ip_proto = protocols[i].ip_proto;
                if (strcmp(protocols[i].canonical, "ARP") == 0)
                    out->flags |= PKTCAP_SUMMARY_ARP;
                known = 1;
                break;
            }
        }
        if (!known) {
            /* As given (a protocol number also sets ip_proto). */
            for (; t[k] && k < sizeof out->protocol - 1; k++)
                out->protocol[k] = t[k];
            out->protocol[k] = '\0';
            if ((out->flags & PKTCAP_SUMMARY_HAS_IP) && parse_uint(t, 255, &n) == 0)
                out->ip_proto = (uint8_t)n;
        }
    }
    if ((t = value_text(row, "length", buf, sizeof buf))) {
        if (parse_uint(t, UINT32_MAX, &n) == 0)
            out->wire_len = out->cap_len = (uint32_t)n;
        else
            unreadable(ss, index, "length", t, "a length in bytes");
    }
}

/* ---- the capture thread ------------------------------------------------------------ */

static int is_canceled(const sdwan_session *ss)
{
    return __atomic_load_n(&ss->cancel, __ATOMIC_ACQUIRE) != 0;
}

/* The session's details: {"request": the packet_capture object sent,
 * "http_status": N once answered, then "result" (the result object as the
 * appliance sent it) or "error" (its error body or null), "code" (the
 * PKTCAP_E_* name) and "message"}. */
static void publish(sdwan_session *ss, long status, json_t *result, json_t *error, int code)
{
    json_t *o = json_pack("{s:O}", "request", ss->request);
    char *text;
    if (!o)
        return;
    if (status > 0)
        json_object_set_new(o, "http_status", json_integer((json_int_t)status));
    if (result)
        json_object_set(o, "result", result);
    if (code) {
        json_object_set(o, "error", error ? error : json_null());
        json_object_set_new(o, "code", json_string(pktcap_error_name(code)));
        json_object_set_new(o, "message",
                            json_string(pktcap_error_message(pktcap_error_last())));
    }
    if ((text = pktcap__json_dump(o)) != NULL)
        pktcap__session_set_details(ss->s, text);
    pktcap__free(text);
    json_decref(o);
}

/* The capture failed with `rc` (the thread's error detail set): FAILED. */
static void capture_failed(sdwan_session *ss, int rc, const pktcap__http_response *resp)
{
    json_t *err = resp && resp->status >= 300 ? pktcap__body_json(resp) : NULL;
    const char *emsg = json_is_object(err) ? pktcap__json_str(err, "errormessage") : NULL;
    char native[128];
    snprintf(native, sizeof native, "%s", emsg && *emsg ? emsg : pktcap_error_name(rc));
    publish(ss, resp ? resp->status : 0, NULL, err, rc);
    json_decref(err);
    pktcap__log(&ss->s->provider->log, PKTCAP_LOG_ERROR, "sdwan: session \"%s\": %s",
                ss->s->name, pktcap_error_message(pktcap_error_last()));
    pktcap__session_fail(ss->s, native);
}

/* The result object of a 2xx answer: the first element of the current
 * array shape, or older firmware's {"packet_capture":{…}}. */
static json_t *result_object(json_t *root)
{
    json_t *r;
    if (json_is_array(root))
        return json_is_object(r = json_array_get(root, 0)) ? r : NULL;
    if (!json_is_object(root))
        return NULL;
    if (json_is_object(r = json_object_get(root, "packet_capture")))
        return r;
    return json_object_get(root, "summary") ? root : NULL;
}

/* A 2xx: summaries, statistics, details, COMPLETE. 0, or a code (FORMAT, NOMEM). */
static int capture_done(sdwan_session *ss, const pktcap__http_response *resp, const char *what)
{
    pktcap_session *s = ss->s;
    json_t *root = NULL, *result, *rows;
    const char *message;
    uint64_t bytes = 0;
    size_t i, n;
    int rc;
    if ((rc = pktcap__json_parse(&root, resp->body, resp->body_len, what)) < 0)
        return rc;
    if (!(result = result_object(root))) {
        json_decref(root);
        return pktcap__error_set(PKTCAP_E_FORMAT, "%s: the answer is neither a list of capture "
                                 "results nor {\"packet_capture\":{…}}", what);
    }
    rows = json_object_get(result, "summary");
    if (rows && !json_is_array(rows) && !json_is_null(rows)) {
        json_decref(root);
        return pktcap__error_set(PKTCAP_E_FORMAT, "%s: \"summary\" is not a list", what);
    }
    n = json_array_size(rows);
    pktcap__session_clear_summaries(s);
    for (i = 0; i < n; i++) {
        pktcap_summary sum;
        json_t *row = json_array_get(rows, i);
        if (!json_is_object(row)) {
            json_decref(root);
            return pktcap__error_set(PKTCAP_E_FORMAT, "%s: summary row %zu is not an object",
                                     what, i + 1);
        }
        parse_row(ss, row, i, &sum);
        if ((rc = pktcap__session_add_summary(s, &sum)) < 0) {
            json_decref(root);
            return pktcap__error_set(rc, "%s: out of memory keeping %zu summaries", what, n);
        }
        bytes += sum.wire_len;
    }
    pktcap__session_stat_set(s, PKTCAP_STAT_PACKETS, n);
    pktcap__session_stat_set(s, PKTCAP_STAT_BYTES, bytes);
    pktcap__session_stat_set(s, PKTCAP_STAT_WIRE_BYTES, bytes);
    message = pktcap__json_str(result, "message");
    publish(ss, resp->status, result, NULL, 0);
    pthread_mutex_lock(&ss->sp->lock);
    ss->seq = ++ss->sp->completed_seq;
    pthread_mutex_unlock(&ss->sp->lock);
    pktcap__log(&s->provider->log, PKTCAP_LOG_INFO, "sdwan: session \"%s\": capture ended, %zu "
                "packet summaries", s->name, n);
    {
        char native[128];
        snprintf(native, sizeof native, "%s", message ? message : "");
        json_decref(root);
        /* The last thing this thread does: a state callback may free the session. */
        pktcap__session_set_state(s, PKTCAP_STATE_COMPLETE, native,
                                  ss->max_packets && n >= ss->max_packets ? "packet limit"
                                                                          : "time limit");
    }
    return 0;
}

/* NITRO's answer when a capture already runs: 409 with errorcode 1097. */
static int appliance_busy(const pktcap__http_response *resp)
{
    json_t *root, *code;
    int busy;
    if (resp->status != 409)
        return 0;
    root = pktcap__body_json(resp);
    code = json_is_object(root) ? json_object_get(root, "errorcode") : NULL;
    busy = (json_is_integer(code) && json_integer_value(code) == NITRO_BUSY) ||
           (json_is_string(code) && strcmp(json_string_value(code), "1097") == 0);
    json_decref(root);
    return busy;
}

/* Sends the capture request. In a pktcap_group, an appliance busy with
 * another capture (perhaps the group's own, on another interface) is asked
 * again after 1 s, doubling to 10 s, for up to BUSY_WAIT_MS: the sessions of
 * one appliance then run one after another. A lone session fails at once,
 * as before: its caller decides. */
static int send_when_free(sdwan_session *ss, const pktcap__http_request *req,
                          pktcap__http_response *resp)
{
    pktcap_session *s = ss->s;
    int64_t delay = BUSY_FIRST_MS, waited = 0;
    int rc;
    for (;;) {
        rc = pktcap__http_send(ss->sp->http, req, resp);
        if (rc < 0 || !pktcap__fiber_active() || !appliance_busy(resp) || waited >= BUSY_WAIT_MS)
            return rc;
        pktcap__http_response_clear(resp);
        pktcap__log(&s->provider->log, waited ? PKTCAP_LOG_DEBUG : PKTCAP_LOG_INFO,
                    "sdwan: session \"%s\": the appliance runs another capture; asking again "
                    "in %lld ms", s->name, (long long)delay);
        pktcap__session_set_state(s, PKTCAP_STATE_RUNNING,
                                  "waiting for the appliance's current capture to end", NULL);
        if (pktcap__fiber_sleep(delay, &ss->cancel) < 0)
            return pktcap__error_set(PKTCAP_E_CANCELED, "%s: canceled while the appliance ran "
                                     "another capture", req->what);
        waited += delay;
        delay = delay * 2 < BUSY_MAX_DELAY_MS ? delay * 2 : BUSY_MAX_DELAY_MS;
    }
}

static void *capture_main(void *arg)
{
    sdwan_session *ss = arg;
    pktcap_session *s = ss->s;
    sdwan_provider *sp = ss->sp;
    pktcap__http_request req;
    pktcap__http_response resp;
    char what[256], *url = nitro_url(sp, CAPTURE_RESOURCE);
    int rc;

    snprintf(what, sizeof what, "packet capture \"%s\" on %.100s of %s", s->name, s->target,
             sp->authority);
    memset(&resp, 0, sizeof resp);
    if (!url) {
        capture_failed(ss, pktcap__error_set(PKTCAP_E_NOMEM, "%s: out of memory", what), NULL);
        return NULL;
    }
    memset(&req, 0, sizeof req);
    req.method = "POST";
    req.url = url;
    req.body = ss->body;
    req.body_len = strlen(ss->body);
    req.auth = sp->auth;
    req.retry = PKTCAP__HTTP_RETRY_NEVER;   /* a second POST would capture again */
    req.what = what;
    req.timeout_ms = (uint64_t)ss->duration_s * 1000 + sp->capture_margin_ms;
    req.cancel = &ss->cancel;
    rc = send_when_free(ss, &req, &resp);
    pktcap__free(url);
    if (is_canceled(ss)) {               /* the session is being freed: report nothing */
        pktcap__http_response_clear(&resp);
        return NULL;
    }
    if (rc == 0 && resp.status >= 200 && resp.status < 300)
        rc = capture_done(ss, &resp, what);
    else if (rc == 0)
        rc = nitro_error(&resp, what, 0);   /* a second 401 (after a new login): AUTH */
    if (rc < 0)
        capture_failed(ss, rc, &resp);
    pktcap__http_response_clear(&resp);
    return NULL;
}

/* ---- lifecycle --------------------------------------------------------------------- */

static void session_impl_free(sdwan_session *ss)
{
    json_decref(ss->request);
    pktcap__free(ss->body);
    pktcap__free(ss);
}

static void sdwan_session_free(pktcap_session *s)
{
    sdwan_session *ss = s->impl;
    if (!ss)
        return;
    s->impl = NULL;
    if (ss->thread_started && !ss->joined) {
        __atomic_store_n(&ss->cancel, 1, __ATOMIC_RELEASE);
        if (pthread_equal(pthread_self(), ss->thread)) {
            /* Freed from a state callback on the thread itself: it returns
             * right after the callback, touching nothing. */
            pthread_detach(ss->thread);
        } else {
            pthread_join(ss->thread, NULL);
        }
        ss->joined = 1;
    }
    session_impl_free(ss);
}

static int sdwan_start(pktcap_session *s)
{
    sdwan_provider *sp = s->provider->impl;
    sdwan_session *ss;
    sigset_t all, old;
    char status[128], filter[96] = "", count[24] = "MAX";
    int rc;

    if (!(ss = pktcap__calloc(1, sizeof *ss)))
        return PKTCAP_E_NOMEM;
    ss->s = s;
    ss->sp = sp;
    if ((rc = build_request(s, ss)) < 0 || (rc = ensure_login(sp)) < 0) {
        session_impl_free(ss);
        return rc;
    }
    s->impl = ss;
    ss->start_realtime_s = (int64_t)time(NULL);
    if (s->filter)
        snprintf(filter, sizeof filter, ", filter \"%.60s\"",
                 json_string_value(json_object_get(ss->request, "filter_str")));
    if (ss->max_packets)
        snprintf(count, sizeof count, "%llu", (unsigned long long)ss->max_packets);
    pktcap__log(&s->provider->log, PKTCAP_LOG_INFO, "sdwan: session \"%s\": capturing on %s "
                "for %u s, max_packets %s%s", s->name, s->target, ss->duration_s, count, filter);
    publish(ss, 0, NULL, NULL, 0);
    snprintf(status, sizeof status, "capturing on %.80s for %u s", s->target, ss->duration_s);
    pktcap__session_set_state(s, PKTCAP_STATE_RUNNING, status, NULL);
    if (pktcap__fiber_active()) {
        /* In a pktcap_group: the capture request is one more transfer of the
         * group's multi handle, on the fiber that runs this start, rather
         * than a thread of its own; the start ends with the capture. */
        capture_main(ss);
        return 0;
    }
    /* The capture thread takes no signals: they go to the caller's threads. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&ss->thread, NULL, capture_main, ss);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0)
        return pktcap__error_errno(PKTCAP_E_NOMEM, rc, "session \"%s\": starting the capture "
                                   "thread", s->name);
    ss->thread_started = 1;
    return 0;
}

static int sdwan_fetch(pktcap_session *s, pktcap_storage *st)
{
    sdwan_provider *sp = s->provider->impl;
    sdwan_session *ss = s->impl;
    pktcap__http_request req;
    pktcap__http_response resp;
    pktcap__http_dl dl;
    char what[200], *url;
    unsigned long latest;
    int rc;

    snprintf(what, sizeof what, "download the capture of session \"%s\" from %s", s->name,
             sp->authority);
    if (!ss || !ss->seq)
        return pktcap__error_set(PKTCAP_E_NOTFOUND, "%s: the session has no capture", what);
    pthread_mutex_lock(&sp->lock);
    latest = sp->completed_seq;
    pthread_mutex_unlock(&sp->lock);
    if (latest != ss->seq)
        return pktcap__error_set(PKTCAP_E_NOTFOUND, "%s: the appliance keeps only its last "
                                 "capture, and a later one made through this provider has "
                                 "replaced it", what);
    if (!(url = nitro_url(sp, DOWNLOAD_RESOURCE)))
        return PKTCAP_E_NOMEM;
    memset(&req, 0, sizeof req);
    req.method = "GET";
    req.url = url;
    req.auth = sp->auth;
    req.retry = PKTCAP__HTTP_RETRY_AUTO;
    req.what = what;
    memset(&dl, 0, sizeof dl);
    /* A lower max_download_bytes is the HTTP client's own cap, whose message
     * names that option; the appliance's 575 MiB is this backend's. */
    dl.max_bytes = sp->max_download < MAX_CAPTURE_FILE ? 0 : MAX_CAPTURE_FILE;
    dl.capture_file = 1;   /* the Content-Type says JSON: the magic decides */
    dl.progress = s->progress_cb;
    dl.userdata = s->progress_userdata;
    rc = pktcap__http_download(sp->http, &req, st, &dl, &resp);
    pktcap__free(url);
    if (rc == PKTCAP_E_LIMIT && sp->max_download == MAX_CAPTURE_FILE) {
        char keep[512];
        snprintf(keep, sizeof keep, "%s", pktcap_error_message(pktcap_error_last()));
        return pktcap__error_set(PKTCAP_E_LIMIT, "%s (an SD-WAN capture file is at most 575 MiB)",
                                 keep);
    }
    if (rc < 0)
        return rc;
    if (resp.status < 200 || resp.status >= 300) {
        rc = nitro_error(&resp, what, 0);
        pktcap__http_response_clear(&resp);
        return rc;
    }
    pktcap__http_response_clear(&resp);
    pktcap__log(&s->provider->log, PKTCAP_LOG_INFO, "sdwan: session \"%s\": fetched %llu bytes "
                "(%s)", s->name, (unsigned long long)dl.bytes, pktcap__format_name(dl.format));
    return 0;
}

const pktcap__backend pktcap__backend_sdwan = {
    .kind = "sdwan",
    .caps = PKTCAP_CAP_RULE_FILTER | PKTCAP_CAP_BPF_FILTER | PKTCAP_CAP_TIME_LIMIT |
            PKTCAP_CAP_PACKET_LIMIT | PKTCAP_CAP_FETCH | PKTCAP_CAP_MULTI_TARGET |
            PKTCAP_CAP_SUMMARIES,
    .provider_open = sdwan_provider_open,
    .provider_set = sdwan_provider_set,
    .provider_close = sdwan_provider_close,
    .check_filter = sdwan_check_filter,
    .check_target = sdwan_check_target,
    .start = sdwan_start,
    .fetch = sdwan_fetch,
    .session_free = sdwan_session_free,
};
