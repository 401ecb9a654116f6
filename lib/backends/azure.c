/* azure.c — the `azure:` provider: Azure Network Watcher packet captures
 * through the Azure Resource Manager (ARM) REST API.
 *
 * Provider URI:
 *   azure:///subscriptions/SUB/resourceGroups/RG/providers/Microsoft.Network/networkWatchers/NW
 * (options as ?key=value or pktcap_provider_set; literal segments are matched
 * case-insensitively). One session = one resource P/packetCaptures/NAME of
 * that network watcher (P = the path above); every request carries
 * ?api-version= (default 2024-05-01).
 *
 * Operations:
 *   start   PUT P/packetCaptures/NAME {"properties":{…}} → PENDING ("Updating"),
 *           s->id = the resource id; the Azure-AsyncOperation (else Location)
 *           URL is remembered with the x-ms-client-request-id sent.
 *   step    one network round: while the create operation runs, GET its URL;
 *           once it succeeded, GET the resource and then POST …/queryStatus
 *           (200 with the body, or 202 + Location polled on later steps).
 *           The next step is due after Retry-After, else poll_interval_ms;
 *           while a Retry-After holds, a step (refresh) sends nothing.
 *   stop    POST …/stop; a 202 is followed (Location / Azure-AsyncOperation)
 *           until done, within lro_timeout_ms; then one queryStatus.
 *   delete  DELETE P/packetCaptures/NAME (202 followed the same way). The
 *           .cap blob stays: Azure never deletes it.
 *   fetch   GET properties.storageLocation.storagePath (the .cap blob,
 *           written once the capture ended) with a Storage token or a SAS.
 *   list    GET P/packetCaptures (+ nextLink) and a queryStatus per capture.
 *   open    GET P/packetCaptures/NAME, then queryStatus.
 *
 * Settings → request properties (checked locally, before any request):
 *   target        → target (VM or VMSS resource id) + targetType AzureVM /
 *                   AzureVMSS (api_version ≥ 2023-04-01 only)
 *   snaplen       → bytesToCapturePerPacket (0: omitted, whole packets)
 *   byte_limit    → totalBytesPerSession (≤ 4294967295; unset: Azure's 1 GiB)
 *   time limit    → timeLimitInSeconds, rounded up (≤ 18000; unset: Azure's 18000)
 *   filter        → filters (pktcap_filter_to_azure)
 *   storage       → storageLocation: azblob://ACCOUNT/CONTAINER[/PATH] →
 *                   storagePath (+ storageId from ?storage_id= or the session
 *                   option storage_id); a file target whose path is a storage
 *                   account resource id → storageId; a path ending in .cap →
 *                   filePath (on the VM)
 *   session options storage_id, storage_path, file_path, local_path,
 *                   target_type, scope_include, scope_exclude,
 *                   continuous_capture, file_count, file_size_bytes,
 *                   session_time_limit_s (the last four: api ≥ 2023-11-01),
 *                   sas (for fetch)
 *
 * States (native status = packetCaptureStatus; provisioningState while the
 * resource is being created):
 *   provisioningState Updating         → PENDING
 *   provisioningState Failed, or the create operation Failed/Canceled → FAILED
 *   NotStarted → PENDING, Running → RUNNING (STOPPING stays STOPPING)
 *   Stopped    → STOPPED when this handle stopped it (unless Azure names
 *                another stopReason than Manual: then COMPLETE); sessions
 *                opened or listed: STOPPED for stopReason Manual; otherwise
 *                COMPLETE. Stop reason = Azure's stopReason as given.
 *   Error      → FAILED: the packetCaptureError values, and the hint that the
 *                VM needs the AzureNetworkWatcherExtension agent when Azure
 *                says AgentStopped/InternalError before the capture started
 *   Unknown    → unchanged (PENDING for a session being opened)
 *   a 404 for a capture that existed → FAILED "deleted at the provider"
 * A transport or HTTP error in step() is returned (wait() returns it) and
 * the session keeps its state: the caller may try again.
 *
 * Security: credentials for ARM are only sent to the ARM endpoint's own
 * scheme://host:port (polling URLs and nextLink are checked), and Storage
 * credentials only to https://ACCOUNT.blob.SUFFIX of the cloud or under
 * blob_endpoint. No secret (client secret, tokens, SAS) is ever put in a
 * message or a log line.
 */
#include "backends/backend.h"
#include "backends/remote.h"

#include <errno.h>
#include <stddef.h>
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

#define DEFAULT_API_VERSION "2024-05-01"
#define DEFAULT_STORAGE_API_VERSION "2021-08-06"
#define DEFAULT_IMDS_ENDPOINT "http://169.254.169.254"
#define STORAGE_SCOPE "https://storage.azure.com/"
#define DEFAULT_POLL_INTERVAL_MS 10000u
#define MIN_POLL_INTERVAL_MS 10u
#define MAX_POLL_INTERVAL_MS 3600000u
#define DEFAULT_LRO_TIMEOUT_MS 600000u
#define DEFAULT_ARM_RESERVE 50u
#define DEFAULT_ARM_PACE_MS 1000u
#define MAX_LRO_TIMEOUT_MS 86400000u
#define MAX_LIST_PAGES 1000
#define AZURE_U32_MAX 4294967295u
#define MAX_TIME_LIMIT_S 18000u
#define MAX_FILE_COUNT 10000u
#define MAX_SESSION_TIME_LIMIT_S 604800u
/* api-version from which Azure knows these properties. */
#define API_TARGET_TYPE "2023-04-01"
#define API_CONTINUOUS "2023-11-01"

#define WATCHER_FORM "azure:///subscriptions/{sub}/resourceGroups/{rg}/providers/" \
                     "Microsoft.Network/networkWatchers/{nw}"

/* ---- clouds -------------------------------------------------------------------- */

typedef struct azure_cloud {
    const char *name;
    const char *arm;          /* ARM endpoint, no trailing slash */
    const char *arm_scope;    /* token audience for ARM */
    const char *authority;    /* Entra ID */
    const char *blob_suffix;  /* ACCOUNT.blob.SUFFIX */
} azure_cloud;

static const azure_cloud clouds[] = {
    { "public", "https://management.azure.com", "https://management.azure.com/",
      "https://login.microsoftonline.com/", "core.windows.net" },
    { "usgov", "https://management.usgovcloudapi.net", "https://management.usgovcloudapi.net/",
      "https://login.microsoftonline.us/", "core.usgovcloudapi.net" },
    { "china", "https://management.chinacloudapi.cn", "https://management.chinacloudapi.cn/",
      "https://login.chinacloudapi.cn/", "core.chinacloudapi.cn" },
};
#define NCLOUDS (sizeof clouds / sizeof clouds[0])

/* ---- provider state ------------------------------------------------------------ */

enum { AUTH_AUTO = 0, AUTH_SECRET, AUTH_MI, AUTH_BEARER };
static const char *const auth_names[] = { "auto", "client_secret", "managed_identity", "bearer" };

typedef struct azure_provider {
    pktcap_provider *p;
    pktcap__http *http;
    pktcap__auth *auth;           /* ARM and Storage tokens; made at the first request */
    pktcap__auth *storage_auth;   /* auth=bearer: storage_bearer_token */
    int auth_resolved;            /* AUTH_* the credentials came from */
    int auth_probe;               /* auto chose IMDS: check it once, with a clear message */

    char *sub, *rg, *nw;          /* the watcher's names, as given (decoded) */
    char *watcher_path;           /* /subscriptions/…/networkWatchers/NW, escaped */

    const azure_cloud *cloud;
    char *endpoint;               /* ARM base override (no trailing slash) or NULL */
    char *authority;
    char api_version[32];
    int auth_mode;
    char *tenant_id, *client_id, *client_secret;
    char *bearer_token, *storage_bearer_token;
    char *imds_endpoint, *mi_client_id, *mi_resource_id;
    uint64_t poll_interval_ms, lro_timeout_ms;
    char storage_api_version[32];
    char *blob_endpoint;          /* ends in '/', or NULL */
    /* ARM's quota, from x-ms-ratelimit-remaining-subscription-{reads,writes,
     * deletes}: under quota_lock, by QUOTA_* kind. At or below arm_reserve
     * left, requests of that kind go out at most one per arm_pace_ms. */
    pthread_mutex_t quota_lock;
    int64_t quota_left[3];        /* the last count seen; -1 unknown */
    int64_t quota_sent_ms[3];     /* monotonic: the last request of that kind */
    int quota_pacing[3];          /* pacing was logged (until the count rises again) */
    uint64_t arm_reserve, arm_pace_ms;
} azure_provider;

enum { QUOTA_READS, QUOTA_WRITES, QUOTA_DELETES };

/* ---- session state ------------------------------------------------------------- */

/* An operation Azure runs after answering 201/202: the URL to poll and the
 * client request id to send with every poll. */
typedef struct azure_op {
    char *url;
    int async;                    /* 1: Azure-AsyncOperation (status JSON), 0: Location */
    char request_id[40];
} azure_op;

typedef struct azure_session {
    json_t *resource;             /* last PacketCaptureResult, or NULL */
    json_t *status;               /* last queryStatus body, or NULL */
    azure_op create_op;           /* the create operation while it runs */
    azure_op query_op;            /* a queryStatus that answered 202 */
    int64_t not_before_ms;        /* monotonic: a Retry-After holds step() until then */
    int64_t server_delay_ms;      /* Retry-After of the last response, -1 */
    int created;                  /* 1 exists at Azure, 0 never created, -1 unknown */
    int existed;                  /* seen provisioned: a 404 now means deleted */
    int stop_called;
    int ever_ran;                 /* Azure said Running at least once */
    int opened;                   /* pktcap_session_open: not started by this handle */
    int deleted;
    int reported;                 /* the state last reported */
    char native[64];
    char *storage_path;           /* the blob URL once known */
    char *file_path;              /* on the VM, for messages */
} azure_session;

/* ---- small helpers ------------------------------------------------------------- */

static int is_terminal(int state)
{
    return state == PKTCAP_STATE_COMPLETE || state == PKTCAP_STATE_STOPPED ||
           state == PKTCAP_STATE_FAILED;
}

static const char *arm_base(const azure_provider *ap)
{
    return ap->endpoint ? ap->endpoint : ap->cloud->arm;
}

/* api-version comparison: the date part decides (YYYY-MM-DD sorts as text). */
static int api_at_least(const azure_provider *ap, const char *version)
{
    return strncmp(ap->api_version, version, 10) >= 0;
}

static int check_date_version(const char *what, const char *value, int preview_ok)
{
    size_t i, n = strlen(value);
    int ok = n == 10 || (preview_ok && n == 18 && strcmp(value + 10, "-preview") == 0);
    for (i = 0; ok && i < 10; i++)
        ok = (i == 4 || i == 7) ? value[i] == '-' : (value[i] >= '0' && value[i] <= '9');
    if (!ok)
        return pktcap__error_set(PKTCAP_E_INVAL, "%s \"%.40s\" is not of the form YYYY-MM-DD%s "
                                 "(e.g. %s)", what, value, preview_ok ? "[-preview]" : "",
                                 preview_ok ? DEFAULT_API_VERSION : DEFAULT_STORAGE_API_VERSION);
    return 0;
}

/* The characters a name segment of a resource id may hold here. */
static int name_char_ok(char c)
{
    return (unsigned char)c > 0x20 && c != 0x7f && c != '?' && c != '#' && c != '%' &&
           c != '/' && c != '\\';
}

/* Matches a resource id against a pattern of literal segments (case-
 * insensitive) and NULL where a non-empty name goes; the names are returned
 * in order (pointer and length into `id`). 1 on a match, else 0. */
static int match_id(const char *id, const char *const *pat, size_t npat, const char **names,
                    size_t *lens, size_t maxnames)
{
    const char *p = id;
    size_t i, k = 0, j;
    for (i = 0; i < npat; i++) {
        const char *seg;
        size_t n;
        if (*p != '/')
            return 0;
        seg = ++p;
        n = strcspn(seg, "/");
        if (n == 0)
            return 0;
        if (pat[i]) {
            if (strlen(pat[i]) != n || strncasecmp(seg, pat[i], n) != 0)
                return 0;
        } else {
            for (j = 0; j < n; j++)
                if (!name_char_ok(seg[j]))
                    return 0;
            if (k < maxnames) {
                names[k] = seg;
                lens[k] = n;
            }
            k++;
        }
        p = seg + n;
    }
    return *p == '\0';
}

#define NPAT(a) (sizeof a / sizeof a[0])
static const char *const watcher_pat[] = {
    "subscriptions", NULL, "resourceGroups", NULL, "providers", "Microsoft.Network",
    "networkWatchers", NULL
};
static const char *const capture_pat[] = {
    "subscriptions", NULL, "resourceGroups", NULL, "providers", "Microsoft.Network",
    "networkWatchers", NULL, "packetCaptures", NULL
};
static const char *const vm_pat[] = {
    "subscriptions", NULL, "resourceGroups", NULL, "providers", "Microsoft.Compute",
    "virtualMachines", NULL
};
static const char *const vmss_pat[] = {
    "subscriptions", NULL, "resourceGroups", NULL, "providers", "Microsoft.Compute",
    "virtualMachineScaleSets", NULL
};
static const char *const storage_pat[] = {
    "subscriptions", NULL, "resourceGroups", NULL, "providers", "Microsoft.Storage",
    "storageAccounts", NULL
};

static int is_storage_account_id(const char *s)
{
    const char *names[3];
    size_t lens[3];
    return match_id(s, storage_pat, NPAT(storage_pat), names, lens, 3);
}

/* Whether a capture name is one we can put in a URL path as is. */
static int capture_name_ok(const char *name)
{
    size_t i, n = strlen(name);
    if (n == 0 || n > 80)
        return 0;
    for (i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return 0;
    }
    return 1;
}

/* Appends `s` percent-encoded except unreserved characters (and '/' when
 * keep_slash): for blob paths and resource names. */
static void put_escaped(pktcap__strbuf *b, const char *s, size_t n, int keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~' || (keep_slash && c == '/')) {
            pktcap__strbuf_add(b, (const char *)&s[i], 1);
        } else {
            char e[3] = { '%', hex[c >> 4], hex[c & 15] };
            pktcap__strbuf_add(b, e, 3);
        }
    }
}

/* The scheme, host (lowercased) and port of an absolute http(s) URL.
 * 0, or -1 when it is not one (or carries user:password@). */
static int url_origin(const char *url, char *scheme, size_t scheme_size, char *host,
                      size_t host_size, unsigned *port)
{
    const char *p = strstr(url, "://"), *auth, *end, *colon = NULL;
    size_t n, i;
    unsigned long v = 0;
    if (!p || (size_t)(p - url) >= scheme_size)
        return -1;
    n = (size_t)(p - url);
    for (i = 0; i < n; i++)
        scheme[i] = (char)((url[i] >= 'A' && url[i] <= 'Z') ? url[i] + 32 : url[i]);
    scheme[n] = '\0';
    if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)
        return -1;
    auth = p + 3;
    end = auth + strcspn(auth, "/?#");
    if (memchr(auth, '@', (size_t)(end - auth)) || end == auth)
        return -1;
    if (*auth == '[') {
        const char *rb = memchr(auth, ']', (size_t)(end - auth));
        if (!rb)
            return -1;
        if (rb + 1 < end) {
            if (rb[1] != ':')
                return -1;
            colon = rb + 1;
        }
        n = (size_t)(rb + 1 - auth);
    } else {
        colon = memchr(auth, ':', (size_t)(end - auth));
        n = (size_t)((colon ? colon : end) - auth);
    }
    if (n == 0 || n >= host_size)
        return -1;
    for (i = 0; i < n; i++)
        host[i] = (char)((auth[i] >= 'A' && auth[i] <= 'Z') ? auth[i] + 32 : auth[i]);
    host[n] = '\0';
    if (colon && colon + 1 < end) {
        const char *q;
        for (q = colon + 1; q < end; q++) {
            if (*q < '0' || *q > '9' || v > 65535)
                return -1;
            v = v * 10 + (unsigned long)(*q - '0');
        }
        if (v == 0 || v > 65535)
            return -1;
        *port = (unsigned)v;
    } else {
        *port = strcmp(scheme, "https") == 0 ? 443 : 80;
    }
    return 0;
}

/* The host part of a URL for a message (never the path or query). */
static void url_host_for_message(const char *url, char *out, size_t size)
{
    const char *p = strstr(url, "://");
    size_t n, i;
    p = p ? p + 3 : url;
    if (strchr(p, '@') && strchr(p, '@') < p + strcspn(p, "/?#"))
        p = strchr(p, '@') + 1;
    n = strcspn(p, "/?#");
    if (n >= size)
        n = size - 1;
    for (i = 0; i < n; i++)
        out[i] = ((unsigned char)p[i] > 0x20 && p[i] != 0x7f) ? p[i] : '?';
    out[n] = '\0';
}

static int same_origin(const char *url, const char *base)
{
    char s1[8], s2[8], h1[256], h2[256];
    unsigned p1, p2;
    if (url_origin(url, s1, sizeof s1, h1, sizeof h1, &p1) < 0 ||
        url_origin(base, s2, sizeof s2, h2, sizeof h2, &p2) < 0)
        return 0;
    return strcmp(s1, s2) == 0 && strcmp(h1, h2) == 0 && p1 == p2;
}

/* A URL Azure handed us (polling, nextLink) that the ARM token may go to. */
static int check_arm_url(const azure_provider *ap, const char *url, const char *what,
                         const char *header)
{
    char host[256];
    if (same_origin(url, arm_base(ap)))
        return 0;
    url_host_for_message(url, host, sizeof host);
    return pktcap__error_set(PKTCAP_E_REMOTE, "%s: refusing to send the ARM token to \"%s\" "
                             "(%s is not on the ARM endpoint %s)", what, host, header,
                             arm_base(ap));
}

/* A blob URL that Storage credentials may go to: https://ACCOUNT.blob.SUFFIX/…
 * of the provider's cloud, or anything under blob_endpoint. */
static int check_blob_url(const azure_provider *ap, const char *url, const char *what)
{
    char scheme[8], host[256], shown[256];
    unsigned port;
    if (ap->blob_endpoint && strncasecmp(url, ap->blob_endpoint, strlen(ap->blob_endpoint)) == 0)
        return 0;
    if (url_origin(url, scheme, sizeof scheme, host, sizeof host, &port) == 0 &&
        strcmp(scheme, "https") == 0 && port == 443) {
        char suffix[64];
        size_t n = strlen(host), sl, i;
        snprintf(suffix, sizeof suffix, ".blob.%s", ap->cloud->blob_suffix);
        sl = strlen(suffix);
        if (n > sl && n - sl >= 3 && n - sl <= 24 && strcmp(host + n - sl, suffix) == 0) {
            for (i = 0; i < n - sl; i++)
                if (!((host[i] >= 'a' && host[i] <= 'z') || (host[i] >= '0' && host[i] <= '9')))
                    break;
            if (i == n - sl)
                return 0;
        }
    }
    url_host_for_message(url, shown, sizeof shown);
    return pktcap__error_set(PKTCAP_E_REMOTE, "%s: refusing to send Storage credentials to "
                             "\"%s\" (a blob URL must be https://ACCOUNT.blob.%s/… or lie "
                             "under the blob_endpoint option)", what, shown,
                             ap->cloud->blob_suffix);
}

/* http(s)://host[:port][/path] without query, fragment or user:password@. */
static int check_base_url(const char *what, const char *value)
{
    char scheme[8], host[256];
    unsigned port;
    size_t i;
    for (i = 0; value[i]; i++)
        if ((unsigned char)value[i] <= 0x20 || value[i] == '?' || value[i] == '#')
            break;
    if (value[i] || url_origin(value, scheme, sizeof scheme, host, sizeof host, &port) < 0)
        return pktcap__error_set(PKTCAP_E_INVAL, "%s \"%.200s\" is not an http:// or https:// "
                                 "URL without query or credentials", what, value);
    return 0;
}

/* RFC 1123 date in GMT for x-ms-date (locale-independent). */
static void http_date(char *out, size_t size)
{
    static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
    static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    snprintf(out, size, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday % 7], tm.tm_mday,
             months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static int two_digits(const char *s, int *out)
{
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
        return -1;
    *out = (s[0] - '0') * 10 + (s[1] - '0');
    return 0;
}

/* ISO 8601 as Azure writes it (up to 7 fractional digits, Z or an offset, or
 * none = UTC), leniently: milliseconds since the epoch, or -1. */
static int64_t parse_iso8601(const char *s)
{
    struct tm tm;
    int y1, y2, mo, d, h, mi, sec, ms = 0, scale = 100, offset = 0;
    time_t t;
    if (!s || strlen(s) < 19 || two_digits(s, &y1) || two_digits(s + 2, &y2) || s[4] != '-' ||
        two_digits(s + 5, &mo) || s[7] != '-' || two_digits(s + 8, &d) ||
        (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || two_digits(s + 11, &h) ||
        s[13] != ':' || two_digits(s + 14, &mi) || s[16] != ':' || two_digits(s + 17, &sec))
        return -1;
    s += 19;
    if (*s == '.' || *s == ',') {
        for (s++; *s >= '0' && *s <= '9'; s++) {
            ms += (*s - '0') * scale;
            scale /= 10;
        }
    }
    if (*s == '+' || *s == '-') {
        int oh, om = 0, sign = *s == '-' ? -1 : 1;
        if (two_digits(s + 1, &oh))
            return -1;
        s += 3;
        if (*s == ':')
            s++;
        if (*s && two_digits(s, &om))
            return -1;
        offset = sign * (oh * 60 + om) * 60;
    }
    memset(&tm, 0, sizeof tm);
    tm.tm_year = y1 * 100 + y2 - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    t = timegm(&tm);
    if (t == (time_t)-1)
        return -1;
    return ((int64_t)t - offset) * 1000 + ms;
}

static int64_t realtime_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- credentials --------------------------------------------------------------- */

static void forget_auth(azure_provider *ap)
{
    pktcap__auth_free(ap->auth);
    pktcap__auth_free(ap->storage_auth);
    ap->auth = NULL;
    ap->storage_auth = NULL;
    ap->auth_probe = 0;
}

static int missing_credentials(const char *missing)
{
    return pktcap__error_set(PKTCAP_E_AUTH, "azure: auth=client_secret needs tenant_id, "
                             "client_id and client_secret (provider options, or the "
                             "environment variables AZURE_TENANT_ID, AZURE_CLIENT_ID, "
                             "AZURE_CLIENT_SECRET); missing: %s", missing);
}

/* Makes the credentials at the first request, from the options and the
 * environment as they are then. */
static int ensure_auth(azure_provider *ap)
{
    const char *tenant, *client, *secret;
    int mode = ap->auth_mode, rc;
    if (ap->auth)
        return 0;
    tenant = ap->tenant_id ? ap->tenant_id : pktcap__env("AZURE_TENANT_ID");
    client = ap->client_id ? ap->client_id : pktcap__env("AZURE_CLIENT_ID");
    secret = ap->client_secret ? ap->client_secret : pktcap__env("AZURE_CLIENT_SECRET");
    if (mode == AUTH_AUTO)
        mode = ap->bearer_token ? AUTH_BEARER
               : (tenant && client && secret) ? AUTH_SECRET
                                              : AUTH_MI;
    switch (mode) {
    case AUTH_BEARER:
        if (!ap->bearer_token)
            return pktcap__error_set(PKTCAP_E_AUTH, "azure: auth=bearer needs the bearer_token "
                                     "option (an access token for %s)", ap->cloud->arm_scope);
        rc = pktcap__auth_new_bearer(&ap->auth, ap->bearer_token);
        break;
    case AUTH_SECRET: {
        char missing[64] = "";
        const char *authority;
        if (!tenant || !client || !secret) {
            snprintf(missing, sizeof missing, "%s%s%s%s%s", !tenant ? "tenant_id" : "",
                     !tenant && (!client || !secret) ? ", " : "", !client ? "client_id" : "",
                     !client && !secret ? ", " : "", !secret ? "client_secret" : "");
            return missing_credentials(missing);
        }
        authority = ap->authority ? ap->authority
                    : pktcap__env("AZURE_AUTHORITY_HOST") ? pktcap__env("AZURE_AUTHORITY_HOST")
                                                  : ap->cloud->authority;
        rc = pktcap__auth_new_entra(&ap->auth, ap->http, authority, tenant, client, secret);
        break;
    }
    default: {
        const char *ep = ap->imds_endpoint ? ap->imds_endpoint
                         : pktcap__env("IMDS_ENDPOINT") ? pktcap__env("IMDS_ENDPOINT")
                                                : DEFAULT_IMDS_ENDPOINT;
        rc = pktcap__auth_new_imds(&ap->auth, ap->http, ep, ap->mi_client_id,
                                   ap->mi_resource_id);
        ap->auth_probe = ap->auth_mode == AUTH_AUTO;
        break;
    }
    }
    if (rc < 0)
        return rc;
    ap->auth_resolved = mode;
    pktcap__log(&ap->p->log, PKTCAP_LOG_DEBUG, "azure: credentials: %s (auth=%s)",
                pktcap__auth_kind(ap->auth), auth_names[ap->auth_mode]);
    return 0;
}

/* auth=auto fell back to a managed identity: the first token is fetched
 * here, so that a host without one gets a message saying what to set
 * rather than a connection error from 169.254.169.254. */
static int probe_auth(azure_provider *ap, const char *scope)
{
    struct curl_slist *lines = NULL;
    char cause[384], partial[96] = "";
    const char *ep;
    int rc, tenant, client, secret;
    if (!ap->auth_probe)
        return 0;
    rc = pktcap__auth_apply(ap->auth, scope, &lines);
    curl_slist_free_all(lines);
    if (rc == 0) {
        ap->auth_probe = 0;
        return 0;
    }
    if (rc == PKTCAP_E_NOMEM || rc == PKTCAP_E_CANCELED)
        return rc;
    snprintf(cause, sizeof cause, "%s", pktcap_error_message(pktcap_error_last()));
    ep = ap->imds_endpoint ? ap->imds_endpoint
         : pktcap__env("IMDS_ENDPOINT") ? pktcap__env("IMDS_ENDPOINT")
                                : DEFAULT_IMDS_ENDPOINT;
    tenant = ap->tenant_id || pktcap__env("AZURE_TENANT_ID");
    client = ap->client_id || pktcap__env("AZURE_CLIENT_ID");
    secret = ap->client_secret || pktcap__env("AZURE_CLIENT_SECRET");
    if (tenant || client || secret)
        snprintf(partial, sizeof partial, " (client credentials incomplete: no %s%s%s%s%s)",
                 !tenant ? "tenant_id" : "", !tenant && (!client || !secret) ? ", " : "",
                 !client ? "client_id" : "", !client && !secret ? ", " : "",
                 !secret ? "client_secret" : "");
    return pktcap__error_set(PKTCAP_E_AUTH, "azure: no credentials: set bearer_token, or "
                             "tenant_id, client_id and client_secret (or AZURE_TENANT_ID, "
                             "AZURE_CLIENT_ID, AZURE_CLIENT_SECRET)%s, or run where a managed "
                             "identity answers (IMDS at %.100s: %s)", partial, ep, cause);
}

/* ---- ARM requests -------------------------------------------------------------- */

static const char *const quota_names[] = { "reads", "writes", "deletes" };

static int quota_kind(const char *method)
{
    if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
        return QUOTA_READS;
    return strcmp(method, "DELETE") == 0 ? QUOTA_DELETES : QUOTA_WRITES;
}

/* ARM's remaining quota, as each answer reports it. */
static void note_quota(azure_provider *ap, const pktcap__http_response *resp)
{
    int k;
    for (k = 0; k < 3; k++) {
        char name[64];
        const char *v;
        snprintf(name, sizeof name, "x-ms-ratelimit-remaining-subscription-%s", quota_names[k]);
        v = pktcap__http_header_get(resp, name);
        if (!v || *v < '0' || *v > '9')
            continue;
        pthread_mutex_lock(&ap->quota_lock);
        ap->quota_left[k] = (int64_t)strtoull(v, NULL, 10);
        if (ap->quota_left[k] > (int64_t)ap->arm_reserve)
            ap->quota_pacing[k] = 0;
        pthread_mutex_unlock(&ap->quota_lock);
    }
}

/* After an ARM request: its kind's pace counts from when it ended. ARM
 * counted it when it arrived, somewhere in between: so the next one arrives
 * at least arm_pace_ms after it. */
static void quota_sent(azure_provider *ap, const char *method)
{
    int64_t now = pktcap__now_ms();
    pthread_mutex_lock(&ap->quota_lock);
    ap->quota_sent_ms[quota_kind(method)] = now ? now : 1;
    pthread_mutex_unlock(&ap->quota_lock);
}

/* Before an ARM request: while ARM reports arm_reserve or fewer requests of
 * its kind left, wait for arm_pace_ms since the last one (a fiber's wait in
 * a pktcap_group). 0, or PKTCAP_E_CANCELED when the group abandons it. */
static int quota_wait(azure_provider *ap, const char *method, const char *what)
{
    int k = quota_kind(method);
    for (;;) {
        int64_t now = pktcap__now_ms(), wait = 0, left;
        int first = 0;
        pthread_mutex_lock(&ap->quota_lock);
        left = ap->quota_left[k];
        if (ap->arm_reserve && left >= 0 && left <= (int64_t)ap->arm_reserve &&
            ap->quota_sent_ms[k] && now - ap->quota_sent_ms[k] < (int64_t)ap->arm_pace_ms) {
            wait = (int64_t)ap->arm_pace_ms - (now - ap->quota_sent_ms[k]);
            first = !ap->quota_pacing[k];
            ap->quota_pacing[k] = 1;
        } else {
            ap->quota_sent_ms[k] = now ? now : 1;
        }
        pthread_mutex_unlock(&ap->quota_lock);
        if (!wait)
            return 0;
        pktcap__log(&ap->p->log, first ? PKTCAP_LOG_INFO : PKTCAP_LOG_DEBUG,
                    "azure: %lld ARM %s left for this subscription "
                    "(x-ms-ratelimit-remaining-subscription-%s): sending one per %llu ms",
                    (long long)left, quota_names[k], quota_names[k],
                    (unsigned long long)ap->arm_pace_ms);
        if (pktcap__fiber_sleep(wait, NULL) < 0)
            return pktcap__error_set(PKTCAP_E_CANCELED, "%s: canceled while pacing requests "
                                     "to ARM's quota", what);
    }
}

/* One ARM request (the retry policy runs inside). 0 with resp filled for any
 * final status, or a negative code with the error detail set. */
static int arm_send(azure_provider *ap, const char *method, const char *url, const char *body,
                    int retry, const char *what, const char *request_id,
                    pktcap__http_response *resp)
{
    pktcap__http_request req;
    int rc;
    memset(resp, 0, sizeof *resp);
    resp->retry_after_ms = -1;
    if ((rc = ensure_auth(ap)) < 0 || (rc = probe_auth(ap, ap->cloud->arm_scope)) < 0 ||
        (rc = quota_wait(ap, method, what)) < 0)
        return rc;
    memset(&req, 0, sizeof req);
    req.method = method;
    req.url = url;
    req.body = body;
    req.body_len = body ? strlen(body) : 0;
    req.content_type = body ? "application/json" : NULL;
    req.auth = ap->auth;
    req.scope = ap->cloud->arm_scope;
    req.client_request_id = request_id && *request_id ? request_id : NULL;
    req.retry = retry;
    req.what = what;
    rc = pktcap__http_send(ap->http, &req, resp);
    quota_sent(ap, method);
    if (rc == 0)
        note_quota(ap, resp);
    return rc;
}

/* A response the caller does not accept: the CloudError's code and message
 * kept, 412 and 429 as PKTCAP_E_THROTTLED. `code` overrides when non-zero. */
static int arm_error(const pktcap__http_response *resp, const char *what, int code)
{
    json_t *root = pktcap__body_json(resp);
    const char *ecode = NULL, *emsg = NULL;
    int rc;
    if (root) {
        ecode = pktcap__json_str(root, "error.code");
        emsg = pktcap__json_str(root, "error.message");
        if (!ecode && !emsg) {
            ecode = pktcap__json_str(root, "code");
            emsg = pktcap__json_str(root, "message");
        }
    }
    if (!code && (resp->status == 412 || resp->status == 429))
        code = PKTCAP_E_THROTTLED;
    rc = pktcap__http_status_error(resp, what, ecode, emsg, code);
    json_decref(root);
    return rc;
}

/* A response that must be 200 with a JSON object: the object into *out, or
 * the mapped error (CloudError kept), or PKTCAP_E_FORMAT naming `kind`.
 * The response is cleared either way. */
static int object_answer(pktcap__http_response *resp, const char *what, const char *kind,
                         json_t **out)
{
    json_t *v;
    int rc;
    if (resp->status != 200) {
        rc = arm_error(resp, what, 0);
        pktcap__http_response_clear(resp);
        return rc;
    }
    v = pktcap__body_json(resp);
    pktcap__http_response_clear(resp);
    if (!json_is_object(v)) {
        json_decref(v);
        return pktcap__error_set(PKTCAP_E_FORMAT, "%s: the answer is not %s", what, kind);
    }
    *out = v;
    return 0;
}

static char *capture_url(const azure_provider *ap, const char *name, const char *action)
{
    pktcap__strbuf b = PKTCAP__STRBUF_INIT;
    char *out = NULL;
    pktcap__strbuf_puts(&b, arm_base(ap));
    pktcap__strbuf_puts(&b, ap->watcher_path);
    pktcap__strbuf_puts(&b, "/packetCaptures");
    if (name) {
        pktcap__strbuf_puts(&b, "/");
        put_escaped(&b, name, strlen(name), 0);
    }
    if (action) {
        pktcap__strbuf_puts(&b, "/");
        pktcap__strbuf_puts(&b, action);
    }
    pktcap__strbuf_printf(&b, "?api-version=%s", ap->api_version);
    if (pktcap__strbuf_finish(&out, &b) < 0)
        return NULL;
    return out;
}

/* ---- operations (Azure-AsyncOperation / Location) ------------------------------ */

static void op_clear(azure_op *op)
{
    pktcap__free(op->url);
    op->url = NULL;
    op->async = 0;
    op->request_id[0] = '\0';
}

/* Takes the operation to follow from a 201/202: Azure-AsyncOperation if
 * given, else Location (`location_only`: Location only). 0 with op->url NULL
 * when there is none; PKTCAP_E_REMOTE when it is not on the ARM endpoint. */
static int op_from_response(azure_provider *ap, azure_op *op, const pktcap__http_response *resp,
                            int location_only, const char *what)
{
    const char *url = location_only ? NULL : pktcap__http_header_get(resp, "Azure-AsyncOperation");
    const char *header = "Azure-AsyncOperation";
    int rc;
    op_clear(op);
    if (!url || !*url) {
        url = pktcap__http_header_get(resp, "Location");
        header = "Location";
    }
    if (!url || !*url)
        return 0;
    if ((rc = check_arm_url(ap, url, what, header)) < 0)
        return rc;
    if (!(op->url = pktcap__strdup(url)))
        return PKTCAP_E_NOMEM;
    op->async = header[0] == 'A';
    snprintf(op->request_id, sizeof op->request_id, "%s", resp->client_request_id);
    return 0;
}

enum { OP_RUNNING = 0, OP_DONE = 1, OP_FAILED = 2 };

/* One GET of an operation's URL. OP_RUNNING (resp kept: its Retry-After),
 * OP_DONE (resp kept: a Location's final body), OP_FAILED (the operation
 * failed: error detail set), or a negative code for a failed request. */
static int op_poll(azure_provider *ap, const azure_op *op, const char *what,
                   pktcap__http_response *resp)
{
    json_t *root;
    const char *status;
    int rc = arm_send(ap, "GET", op->url, NULL, PKTCAP__HTTP_RETRY_AUTO, what, op->request_id,
                      resp);
    if (rc < 0)
        return rc;
    if (!op->async) {
        if (resp->status == 202)
            return OP_RUNNING;
        if (resp->status == 200 || resp->status == 201 || resp->status == 204)
            return OP_DONE;
        return arm_error(resp, what, 0);
    }
    if (resp->status == 202)
        return OP_RUNNING;
    if (resp->status != 200)
        return arm_error(resp, what, 0);
    root = pktcap__body_json(resp);
    status = pktcap__json_str(root, "status");
    if (!status) {
        json_decref(root);
        return pktcap__error_set(PKTCAP_E_FORMAT, "%s: the operation status has no \"status\"",
                                 what);
    }
    if (strcasecmp(status, "Succeeded") == 0) {
        rc = OP_DONE;
    } else if (strcasecmp(status, "Failed") == 0 || strcasecmp(status, "Canceled") == 0 ||
               strcasecmp(status, "Cancelled") == 0) {
        const char *ecode = pktcap__json_str(root, "error.code");
        const char *emsg = pktcap__json_str(root, "error.message");
        pktcap__error_remote(PKTCAP_E_REMOTE, (int)resp->status, ecode, emsg,
                             "%s: the operation %s%s%s%s%s", what, status,
                             ecode || emsg ? ": " : "", ecode ? ecode : "",
                             ecode && emsg ? ": " : "", emsg ? emsg : "");
        rc = OP_FAILED;
    } else {
        rc = OP_RUNNING;   /* InProgress, and whatever else Azure may add */
    }
    json_decref(root);
    return rc;
}

/* Sleeps, waking early for pktcap_session_cancel() (session may be NULL). */
static int nap(pktcap_session *s, int64_t ms, const char *what)
{
    int canceled = 0;
    if (ms <= 0)
        return 0;
    if (!s) {
        pktcap__fiber_sleep(ms, NULL);
        return 0;
    }
    if (pktcap__fiber_active()) {
        /* In a pktcap_group: suspend the fiber, looking at the cancel flag
         * every 100 ms (pktcap_session_cancel only signals a condition). */
        int64_t until = pktcap__now_ms() + ms, left;
        while ((left = until - pktcap__now_ms()) > 0 && !canceled) {
            if (pktcap__fiber_sleep(left < 100 ? left : 100, NULL) < 0)
                return pktcap__error_set(PKTCAP_E_CANCELED, "%s: abandoned while waiting for "
                                         "Azure (the request was accepted and goes on there)",
                                         what);
            pthread_mutex_lock(&s->lock);
            canceled = s->canceled;
            s->canceled = 0;
            pthread_mutex_unlock(&s->lock);
        }
    } else {
        int64_t until = pktcap__now_ms() + ms;
        struct timespec ts;
        ts.tv_sec = (time_t)(until / 1000);
        ts.tv_nsec = (long)(until % 1000) * 1000000L;
        pthread_mutex_lock(&s->lock);
        while (!s->canceled && pktcap__now_ms() < until)
            if (pthread_cond_timedwait(&s->changed, &s->lock, &ts) == ETIMEDOUT)
                break;
        canceled = s->canceled;
        s->canceled = 0;
        pthread_mutex_unlock(&s->lock);
    }
    if (canceled)
        return pktcap__error_set(PKTCAP_E_CANCELED, "%s: canceled while waiting for Azure "
                                 "(the request was accepted and goes on there)", what);
    return 0;
}

static int64_t delay_after(const azure_provider *ap, const pktcap__http_response *resp)
{
    /* "Retry-After: 0" gives no pace: the poll interval does, or a server
     * could make the client spin. */
    return resp && resp->retry_after_ms > 0 ? resp->retry_after_ms
                                            : (int64_t)ap->poll_interval_ms;
}

/* Follows an operation until it is done, sleeping per Retry-After or the
 * poll interval, within lro_timeout_ms. 0 with `final` holding the last
 * response (or cleared when there was nothing to follow), or a code. */
static int op_wait(azure_provider *ap, pktcap_session *s, azure_op *op, int64_t first_delay,
                   const char *what, pktcap__http_response *final)
{
    int64_t deadline = pktcap__now_ms() + (int64_t)ap->lro_timeout_ms, delay = first_delay;
    memset(final, 0, sizeof *final);
    final->retry_after_ms = -1;
    if (!op->url)
        return 0;
    for (;;) {
        int64_t left = deadline - pktcap__now_ms();
        int rc;
        if (left <= 0)
            return pktcap__error_set(PKTCAP_E_TIMEOUT, "%s: Azure had not finished after %llu ms "
                                     "(lro_timeout_ms); the request was accepted and may still "
                                     "complete", what, (unsigned long long)ap->lro_timeout_ms);
        if (delay > left)
            delay = left;
        pktcap__log(&ap->p->log, PKTCAP_LOG_DEBUG, "azure: %s: polling the operation in %lld ms",
                    what, (long long)delay);
        if ((rc = nap(s, delay, what)) < 0)
            return rc;
        rc = op_poll(ap, op, what, final);
        if (rc == OP_DONE)
            return 0;
        if (rc == OP_FAILED || rc < 0) {
            pktcap__http_response_clear(final);
            return rc < 0 ? rc : PKTCAP_E_REMOTE;
        }
        delay = delay_after(ap, final);
        pktcap__http_response_clear(final);
    }
}

/* POST queryStatus and wait for its answer (a 202's Location followed). */
static int query_status_now(azure_provider *ap, pktcap_session *s, const char *name,
                            json_t **out)
{
    pktcap__http_response resp;
    char what[160], *url = capture_url(ap, name, "queryStatus");
    int64_t deadline = pktcap__now_ms() + (int64_t)ap->lro_timeout_ms;
    int rc;
    *out = NULL;
    if (!url)
        return PKTCAP_E_NOMEM;
    snprintf(what, sizeof what, "query status of packet capture \"%s\"", name);
    for (;;) {
        azure_op op = { NULL, 0, "" };
        int64_t delay;
        rc = arm_send(ap, "POST", url, NULL, PKTCAP__HTTP_RETRY_SAFE, what, NULL, &resp);
        if (rc < 0)
            break;
        if (resp.status == 200) {
            *out = pktcap__body_json(&resp);
            pktcap__http_response_clear(&resp);
            rc = *out ? 0 : pktcap__error_set(PKTCAP_E_FORMAT, "%s: the answer is not JSON",
                                              what);
            break;
        }
        if (resp.status != 202) {
            rc = arm_error(&resp, what, 0);
            pktcap__http_response_clear(&resp);
            break;
        }
        delay = delay_after(ap, &resp);
        rc = op_from_response(ap, &op, &resp, 1, what);
        pktcap__http_response_clear(&resp);
        if (rc < 0)
            break;
        if (op.url) {
            rc = op_wait(ap, s, &op, delay, what, &resp);
            op_clear(&op);
            if (rc < 0)
                break;
            *out = pktcap__body_json(&resp);
            pktcap__http_response_clear(&resp);
            if (*out)
                break;
            /* done without a body: ask again */
            delay = 0;
        }
        if (pktcap__now_ms() + delay >= deadline) {
            rc = pktcap__error_set(PKTCAP_E_TIMEOUT, "%s: no answer after %llu ms "
                                   "(lro_timeout_ms)", what,
                                   (unsigned long long)ap->lro_timeout_ms);
            break;
        }
        if ((rc = nap(s, delay, what)) < 0)
            break;
    }
    pktcap__free(url);
    return rc;
}

/* ---- reporting ----------------------------------------------------------------- */

static void publish_details(pktcap_session *s, const azure_session *as)
{
    json_t *o = json_object();
    char *text;
    if (!o)
        return;
    if (json_object_set(o, "resource", as->resource ? as->resource : json_null()) < 0 ||
        json_object_set(o, "status", as->status ? as->status : json_null()) < 0) {
        json_decref(o);
        return;
    }
    text = pktcap__json_dump(o);
    json_decref(o);
    if (text)
        pktcap__session_set_details(s, text);
    pktcap__free(text);
}

/* Sets the state (and native status, and stop reason or error text) and logs
 * the change. */
static void report(pktcap_session *s, azure_session *as, int state, const char *native,
                   const char *text)
{
    const pktcap__logger *lg = &s->provider->log;
    int old = pktcap_session_state(s);
    int native_changed = native && strcmp(native, as->native) != 0;
    if (is_terminal(old))
        return;
    pktcap__session_set_state(s, state, native, text);
    if (native)
        snprintf(as->native, sizeof as->native, "%s", native);
    as->reported = state;
    if (state != old || native_changed)
        pktcap__log(lg, state == PKTCAP_STATE_FAILED ? PKTCAP_LOG_WARN : PKTCAP_LOG_INFO,
                    "azure: %s: %s (%s)%s%s", s->name, pktcap_state_name(state),
                    as->native[0] ? as->native : "-", text && *text ? ": " : "",
                    text ? text : "");
}

/* FAILED with the thread's error message. */
static void report_failure(pktcap_session *s, azure_session *as, const char *native)
{
    report(s, as, PKTCAP_STATE_FAILED, native, pktcap_error_message(pktcap_error_last()));
}

/* Takes a PacketCaptureResult: keeps it, its id and its storage location. */
static int take_resource(pktcap_session *s, azure_session *as, json_t *res)
{
    const char *id = pktcap__json_str(res, "id");
    const char *path = pktcap__json_str(res, "properties.storageLocation.storagePath");
    const char *file = pktcap__json_str(res, "properties.storageLocation.filePath");
    json_decref(as->resource);
    as->resource = res;
    if (id && *id && strcmp(id, s->id) != 0) {
        char *copy = pktcap__strdup(id);
        if (!copy)
            return PKTCAP_E_NOMEM;
        pktcap__free(s->id);
        s->id = copy;
    }
    if (path && *path && pktcap__set_string(&as->storage_path, path) < 0)
        return PKTCAP_E_NOMEM;
    if (file && *file && pktcap__set_string(&as->file_path, file) < 0)
        return PKTCAP_E_NOMEM;
    publish_details(s, as);
    return 0;
}

static int has_error(json_t *errors, const char *name)
{
    size_t i;
    json_t *v;
    json_array_foreach (errors, i, v)
        if (json_is_string(v) && strcasecmp(json_string_value(v), name) == 0)
            return 1;
    return 0;
}

/* The error text of a capture whose packetCaptureStatus is Error. */
static void capture_error_text(const pktcap_session *s, json_t *qs, int ever_ran, char *out,
                               size_t size)
{
    json_t *errors = pktcap__json_path(qs, "packetCaptureError"), *v;
    const char *reason = pktcap__json_str(qs, "stopReason");
    int64_t started = parse_iso8601(pktcap__json_str(qs, "captureStartTime"));
    pktcap__strbuf b = PKTCAP__STRBUF_INIT;
    char *text = NULL;
    size_t i;
    pktcap__strbuf_printf(&b, "packet capture \"%s\" failed: packetCaptureStatus Error", s->name);
    if (json_is_array(errors) && json_array_size(errors)) {
        pktcap__strbuf_puts(&b, ", packetCaptureError ");
        json_array_foreach (errors, i, v)
            pktcap__strbuf_printf(&b, "%s%s", i ? ", " : "",
                                  json_is_string(v) ? json_string_value(v) : "?");
    }
    if (reason && *reason)
        pktcap__strbuf_printf(&b, ", stopReason %s", reason);
    /* AgentStopped: the agent is not running. InternalError before the
     * capture ever ran (no captureStartTime, or never seen Running) is
     * almost always the same cause. */
    if (has_error(errors, "AgentStopped") ||
        (has_error(errors, "InternalError") && (started < 946684800000LL || !ever_ran)))
        pktcap__strbuf_puts(&b, ". The VM needs the Network Watcher agent (VM extension "
                                "AzureNetworkWatcherExtension) installed and running; creating "
                                "a capture through the REST API does not install it");
    if (pktcap__strbuf_finish(&text, &b) == 0) {
        snprintf(out, size, "%s", text);
        pktcap__free(text);
    } else {
        snprintf(out, size, "packet capture \"%s\" failed: packetCaptureStatus Error", s->name);
    }
}

/* The portable state of a listed or opened capture (no handle stopped it). */
static int listed_state(const char *prov, json_t *qs)
{
    const char *st = pktcap__json_str(qs, "packetCaptureStatus");
    const char *reason = pktcap__json_str(qs, "stopReason");
    if (prov && strcasecmp(prov, "Failed") == 0)
        return PKTCAP_STATE_FAILED;
    if (!st)
        return PKTCAP_STATE_PENDING;
    if (strcasecmp(st, "Running") == 0)
        return PKTCAP_STATE_RUNNING;
    if (strcasecmp(st, "Stopped") == 0)
        return reason && strcasecmp(reason, "Manual") == 0 ? PKTCAP_STATE_STOPPED
                                                           : PKTCAP_STATE_COMPLETE;
    if (strcasecmp(st, "Error") == 0)
        return PKTCAP_STATE_FAILED;
    return PKTCAP_STATE_PENDING;   /* NotStarted, Unknown, anything new */
}

/* Moves the session to what the last queryStatus says. */
static void apply_status(pktcap_session *s, azure_session *as)
{
    json_t *qs = as->status;
    const char *st = pktcap__json_str(qs, "packetCaptureStatus");
    const char *reason = pktcap__json_str(qs, "stopReason");
    int cur = pktcap_session_state(s), state = cur;
    const char *text = NULL;
    char error_text[512];
    int64_t start_ms;

    as->existed = 1;
    if (!st || !*st) {
        st = "Unknown";
    }
    if (strcasecmp(st, "NotStarted") == 0) {
        state = cur == PKTCAP_STATE_STOPPING ? cur : PKTCAP_STATE_PENDING;
    } else if (strcasecmp(st, "Running") == 0) {
        state = cur == PKTCAP_STATE_STOPPING ? cur : PKTCAP_STATE_RUNNING;
        as->ever_ran = 1;
    } else if (strcasecmp(st, "Stopped") == 0) {
        int manual = !reason || !*reason || strcasecmp(reason, "Manual") == 0;
        if (as->stop_called)
            state = manual ? PKTCAP_STATE_STOPPED : PKTCAP_STATE_COMPLETE;
        else if (as->opened)
            state = reason && strcasecmp(reason, "Manual") == 0 ? PKTCAP_STATE_STOPPED
                                                                 : PKTCAP_STATE_COMPLETE;
        else
            state = PKTCAP_STATE_COMPLETE;
        text = reason && *reason ? reason : state == PKTCAP_STATE_STOPPED ? "stopped" : NULL;
    } else if (strcasecmp(st, "Error") == 0) {
        capture_error_text(s, qs, as->ever_ran, error_text, sizeof error_text);
        state = PKTCAP_STATE_FAILED;
        text = error_text;
    } else {
        /* Unknown, or a status this code does not know: no change. */
        if (strcasecmp(st, "Unknown") != 0)
            pktcap__log(&s->provider->log, PKTCAP_LOG_DEBUG, "azure: %s: packetCaptureStatus "
                        "\"%s\" not known here; state unchanged", s->name, st);
        if (cur == PKTCAP_STATE_NEW)
            state = PKTCAP_STATE_PENDING;
    }
    report(s, as, state, st, text);

    /* The elapsed time counts from Azure's captureStartTime. */
    start_ms = parse_iso8601(pktcap__json_str(qs, "captureStartTime"));
    if (start_ms >= 946684800000LL) {
        int64_t now_real = realtime_ms(), mono = pktcap__now_ms() - (now_real - start_ms);
        pthread_mutex_lock(&s->lock);
        if (start_ms <= now_real && mono > 0 && s->started_ms &&
            (s->state == PKTCAP_STATE_RUNNING || s->state == PKTCAP_STATE_STOPPING ||
             is_terminal(s->state)) && mono < s->started_ms)
            s->started_ms = mono;
        pthread_mutex_unlock(&s->lock);
    }
}

/* ---- provider ------------------------------------------------------------------ */

static const char provider_keys[] =
    "cloud, endpoint, authority, api_version, auth, tenant_id, client_id, client_secret, "
    "bearer_token, storage_bearer_token, imds_endpoint, managed_identity_client_id, "
    "managed_identity_resource_id, poll_interval_ms, lro_timeout_ms, arm_reserve, arm_pace_ms, "
    "storage_api_version, "
    "blob_endpoint; and the HTTP options ca_file, ca_path, tls_verify, connect_timeout_ms, "
    "timeout_ms, retries, retry_base_ms, retry_max_ms, retry_budget_ms, max_response_bytes, "
    "max_download_bytes, allow_http, rate_limit";

static int set_url_option(char **field, const char *key, const char *value, int slash)
{
    char what[64];
    char *copy;
    size_t n;
    snprintf(what, sizeof what, "azure provider option '%s'", key);
    if (!*value)
        return pktcap__set_string(field, NULL);
    if (check_base_url(what, value) < 0)
        return PKTCAP_E_INVAL;
    n = strlen(value);
    if (slash < 0)   /* no trailing slash */
        while (n > 0 && value[n - 1] == '/')
            n--;
    if (!(copy = pktcap__malloc(n + 2)))
        return PKTCAP_E_NOMEM;
    memcpy(copy, value, n);
    copy[n] = '\0';
    if (slash > 0 && (n == 0 || copy[n - 1] != '/')) {
        copy[n] = '/';
        copy[n + 1] = '\0';
    }
    pktcap__free(*field);
    *field = copy;
    return 0;
}

static int azure_provider_set(pktcap_provider *p, const char *key, const char *value)
{
    azure_provider *ap = p->impl;
    char what[64];
    size_t i;
    int rc = pktcap__http_set(ap->http, key, value);
    if (rc <= 0)
        return rc;
    snprintf(what, sizeof what, "azure provider option '%s'", key);

    if (strcmp(key, "cloud") == 0) {
        for (i = 0; i < NCLOUDS; i++)
            if (strcasecmp(value, clouds[i].name) == 0) {
                ap->cloud = &clouds[i];
                forget_auth(ap);
                return 0;
            }
        return pktcap__error_set(PKTCAP_E_INVAL, "%s: \"%.40s\" is not one of public, usgov, "
                                 "china", what, value);
    }
    if (strcmp(key, "endpoint") == 0)
        return set_url_option(&ap->endpoint, key, value, -1);
    if (strcmp(key, "blob_endpoint") == 0)
        return set_url_option(&ap->blob_endpoint, key, value, 1);
    if (strcmp(key, "authority") == 0 || strcmp(key, "imds_endpoint") == 0) {
        rc = set_url_option(key[0] == 'a' ? &ap->authority : &ap->imds_endpoint, key, value, 0);
        if (rc == 0)
            forget_auth(ap);
        return rc;
    }
    if (strcmp(key, "api_version") == 0) {
        if ((rc = check_date_version(what, value, 1)) < 0)
            return rc;
        snprintf(ap->api_version, sizeof ap->api_version, "%s", value);
        return 0;
    }
    if (strcmp(key, "storage_api_version") == 0) {
        if ((rc = check_date_version(what, value, 0)) < 0)
            return rc;
        snprintf(ap->storage_api_version, sizeof ap->storage_api_version, "%s", value);
        return 0;
    }
    if (strcmp(key, "auth") == 0) {
        for (i = 0; i < sizeof auth_names / sizeof auth_names[0]; i++)
            if (strcmp(value, auth_names[i]) == 0) {
                ap->auth_mode = (int)i;
                forget_auth(ap);
                return 0;
            }
        return pktcap__error_set(PKTCAP_E_INVAL, "%s: \"%.40s\" is not one of auto, "
                                 "client_secret, managed_identity, bearer", what, value);
    }
    if (strcmp(key, "poll_interval_ms") == 0)
        return pktcap__parse_u64(&ap->poll_interval_ms, what, value, MIN_POLL_INTERVAL_MS,
                                 MAX_POLL_INTERVAL_MS);
    if (strcmp(key, "lro_timeout_ms") == 0)
        return pktcap__parse_u64(&ap->lro_timeout_ms, what, value, 1, MAX_LRO_TIMEOUT_MS);
    if (strcmp(key, "arm_reserve") == 0)
        return pktcap__parse_u64(&ap->arm_reserve, what, value, 0, 1000000);
    if (strcmp(key, "arm_pace_ms") == 0)
        return pktcap__parse_u64(&ap->arm_pace_ms, what, value, 1, MAX_POLL_INTERVAL_MS);

    /* Credentials: any change makes them again at the next request. Values
     * are secrets or identifiers; neither is echoed in a message. */
    {
        static const pktcap__credential_option creds[] = {
            { "tenant_id", offsetof(azure_provider, tenant_id) },
            { "client_id", offsetof(azure_provider, client_id) },
            { "client_secret", offsetof(azure_provider, client_secret) },
            { "bearer_token", offsetof(azure_provider, bearer_token) },
            { "storage_bearer_token", offsetof(azure_provider, storage_bearer_token) },
            { "managed_identity_client_id", offsetof(azure_provider, mi_client_id) },
            { "managed_identity_resource_id", offsetof(azure_provider, mi_resource_id) },
        };
        rc = pktcap__set_credential_option(ap, creds, sizeof creds / sizeof creds[0], key,
                                           value, what);
        if (rc > 0)
            forget_auth(ap);
        if (rc != 0)
            return rc < 0 ? rc : 0;
    }
    return pktcap__error_set(PKTCAP_E_INVAL, "unknown azure provider option \"%.60s\" "
                             "(known: %s)", key, provider_keys);
}

static void azure_provider_close(pktcap_provider *p)
{
    azure_provider *ap = p->impl;
    if (!ap)
        return;
    forget_auth(ap);
    pktcap__http_free(ap->http);
    pktcap__free(ap->sub);
    pktcap__free(ap->rg);
    pktcap__free(ap->nw);
    pktcap__free(ap->watcher_path);
    pktcap__free(ap->endpoint);
    pktcap__free(ap->authority);
    pktcap__free(ap->tenant_id);
    pktcap__free(ap->client_id);
    pktcap__free(ap->client_secret);
    pktcap__free(ap->bearer_token);
    pktcap__free(ap->storage_bearer_token);
    pktcap__free(ap->imds_endpoint);
    pktcap__free(ap->mi_client_id);
    pktcap__free(ap->mi_resource_id);
    pktcap__free(ap->blob_endpoint);
    pthread_mutex_destroy(&ap->quota_lock);
    pktcap__free(ap);
    p->impl = NULL;
}

static int azure_provider_open(pktcap_provider *p, const pktcap__uri *uri)
{
    azure_provider *ap;
    const char *names[3];
    size_t lens[3], n;
    char *path;
    pktcap__strbuf b = PKTCAP__STRBUF_INIT;
    int ok, rc;

    if (uri->authority && *uri->authority)
        return pktcap__error_set(PKTCAP_E_INVAL, "the azure provider URI has no host (\"%.60s\" "
                                 "given): %s", uri->authority, WATCHER_FORM);
    n = strlen(uri->path);
    if (!(path = pktcap__strndup(uri->path, n > 1 && uri->path[n - 1] == '/' ? n - 1 : n)))
        return PKTCAP_E_NOMEM;
    ok = match_id(path, watcher_pat, NPAT(watcher_pat), names, lens, 3);
    if (!ok) {
        rc = pktcap__error_set(PKTCAP_E_INVAL, "the azure provider URI names a network watcher: "
                               "%s (got \"azure://%.200s\")", WATCHER_FORM, uri->path);
        pktcap__free(path);
        return rc;
    }
    ap = pktcap__calloc(1, sizeof *ap);
    if (!ap) {
        pktcap__free(path);
        return PKTCAP_E_NOMEM;
    }
    p->impl = ap;   /* from here provider_close frees it */
    ap->p = p;
    pthread_mutex_init(&ap->quota_lock, NULL);
    for (int k = 0; k < 3; k++)
        ap->quota_left[k] = -1;
    ap->arm_reserve = DEFAULT_ARM_RESERVE;
    ap->arm_pace_ms = DEFAULT_ARM_PACE_MS;
    ap->cloud = &clouds[0];
    ap->auth_mode = AUTH_AUTO;
    ap->poll_interval_ms = DEFAULT_POLL_INTERVAL_MS;
    ap->lro_timeout_ms = DEFAULT_LRO_TIMEOUT_MS;
    snprintf(ap->api_version, sizeof ap->api_version, "%s", DEFAULT_API_VERSION);
    snprintf(ap->storage_api_version, sizeof ap->storage_api_version, "%s",
             DEFAULT_STORAGE_API_VERSION);
    ap->sub = pktcap__strndup(names[0], lens[0]);
    ap->rg = pktcap__strndup(names[1], lens[1]);
    ap->nw = pktcap__strndup(names[2], lens[2]);
    pktcap__free(path);
    if (!ap->sub || !ap->rg || !ap->nw)
        return PKTCAP_E_NOMEM;
    pktcap__strbuf_puts(&b, "/subscriptions/");
    put_escaped(&b, ap->sub, strlen(ap->sub), 0);
    pktcap__strbuf_puts(&b, "/resourceGroups/");
    put_escaped(&b, ap->rg, strlen(ap->rg), 0);
    pktcap__strbuf_puts(&b, "/providers/Microsoft.Network/networkWatchers/");
    put_escaped(&b, ap->nw, strlen(ap->nw), 0);
    if ((rc = pktcap__strbuf_finish(&ap->watcher_path, &b)) < 0)
        return rc;
    if ((rc = pktcap__http_new(&ap->http, &p->log)) < 0)
        return rc;
    return pktcap__http_set_request_id_header(ap->http, "x-ms-client-request-id");
}

static int azure_check_filter(pktcap_provider *p, const pktcap_filter *f)
{
    char *text = NULL;
    int rc = pktcap_filter_to_azure(&text, f);
    (void)p;
    pktcap_free(text);
    return rc;
}

/* ---- session options ----------------------------------------------------------- */

static const char session_keys[] =
    "storage_id, storage_path, file_path, local_path, target_type, scope_include, "
    "scope_exclude, continuous_capture, file_count, file_size_bytes, session_time_limit_s, sas";

/* A comma-separated list of VMSS instance ids: non-empty items, no blanks inside. */
static int check_id_list(const char *what, const char *value)
{
    const char *p = value;
    while (*p) {
        size_t n;
        while (*p == ' ')
            p++;
        n = strcspn(p, ",");
        while (n > 0 && p[n - 1] == ' ')
            n--;
        if (n == 0)
            return pktcap__error_set(PKTCAP_E_INVAL, "%s \"%.200s\": an empty instance id "
                                     "(a comma-separated list of scale set instance ids, "
                                     "e.g. \"0,1\")", what, value);
        {
            size_t i;
            for (i = 0; i < n; i++)
                if (!name_char_ok(p[i]) || p[i] == ',' || p[i] == '"')
                    return pktcap__error_set(PKTCAP_E_INVAL, "%s \"%.200s\": character '%c' "
                                             "is not allowed in an instance id", what, value,
                                             ((unsigned char)p[i] >= 32 &&
                                              (unsigned char)p[i] < 127) ? p[i] : '?');
        }
        p += strcspn(p, ",");
        if (*p == ',') {
            p++;
            if (!*p)
                return pktcap__error_set(PKTCAP_E_INVAL, "%s \"%.200s\" ends with a comma",
                                         what, value);
        }
    }
    if (!*value)
        return pktcap__error_set(PKTCAP_E_INVAL, "%s is empty", what);
    return 0;
}

static int check_session_option(const char *key, const char *value)
{
    char what[80];
    uint64_t n;
    int flag;
    snprintf(what, sizeof what, "azure session setting '%s'", key);
    if (strcmp(key, "storage_id") == 0) {
        if (!is_storage_account_id(value))
            return pktcap__error_set(PKTCAP_E_INVAL, "%s (storageLocation.storageId) must be a "
                                     "storage account resource id: /subscriptions/SUB/"
                                     "resourceGroups/RG/providers/Microsoft.Storage/"
                                     "storageAccounts/NAME (got \"%.200s\")", what, value);
        return 0;
    }
    if (strcmp(key, "storage_path") == 0) {
        if (strncasecmp(value, "https://", 8) != 0 && strncasecmp(value, "http://", 7) != 0)
            return pktcap__error_set(PKTCAP_E_INVAL, "%s (storageLocation.storagePath) must be "
                                     "a blob URL (https://ACCOUNT.blob.core.windows.net/"
                                     "CONTAINER/…), got \"%.200s\"", what, value);
        return 0;
    }
    if (strcmp(key, "file_path") == 0) {
        size_t len = strlen(value);
        if (len < 5 || strcasecmp(value + len - 4, ".cap") != 0)
            return pktcap__error_set(PKTCAP_E_INVAL, "%s (storageLocation.filePath) must end in "
                                     ".cap (on Linux VMs under /var/captures), got \"%.200s\"",
                                     what, value);
        return 0;
    }
    if (strcmp(key, "local_path") == 0) {
        if (!*value)
            return pktcap__error_set(PKTCAP_E_INVAL, "%s (storageLocation.localPath) is empty",
                                     what);
        return 0;
    }
    if (strcmp(key, "target_type") == 0) {
        if (strcasecmp(value, "AzureVM") != 0 && strcasecmp(value, "AzureVMSS") != 0)
            return pktcap__error_set(PKTCAP_E_INVAL, "%s (targetType): \"%.40s\" is not AzureVM "
                                     "or AzureVMSS", what, value);
        return 0;
    }
    if (strcmp(key, "scope_include") == 0 || strcmp(key, "scope_exclude") == 0)
        return check_id_list(what, value);
    if (strcmp(key, "continuous_capture") == 0)
        return pktcap__parse_bool(&flag, what, value);
    if (strcmp(key, "file_count") == 0)
        return pktcap__parse_u64(&n, what, value, 0, MAX_FILE_COUNT);
    if (strcmp(key, "file_size_bytes") == 0)
        return pktcap__parse_u64(&n, what, value, 0, AZURE_U32_MAX);
    if (strcmp(key, "session_time_limit_s") == 0)
        return pktcap__parse_u64(&n, what, value, 0, MAX_SESSION_TIME_LIMIT_S);
    if (strcmp(key, "sas") == 0) {
        size_t i;
        const char *q = value[0] == '?' ? value + 1 : value;
        for (i = 0; q[i]; i++)
            if ((unsigned char)q[i] <= 0x20 || q[i] == '#' || q[i] == 0x7f)
                return pktcap__error_set(PKTCAP_E_INVAL, "%s: a SAS is a URL query string "
                                         "without blanks or '#'", what);
        if (!strstr(q, "sig="))
            return pktcap__error_set(PKTCAP_E_INVAL, "%s: a SAS query string has a sig= "
                                     "parameter (e.g. \"sv=…&sr=b&sp=r&sig=…\")", what);
        return 0;
    }
    return pktcap__error_set(PKTCAP_E_INVAL, "unknown azure session setting \"%.60s\" "
                             "(known: %s)", key, session_keys);
}

static int azure_session_set(pktcap_session *s, const char *key, const char *value)
{
    (void)s;
    return check_session_option(key, value);
}

/* ---- the create request -------------------------------------------------------- */

static int jset(json_t *o, const char *key, json_t *v)
{
    if (!v)
        return pktcap__error_set(PKTCAP_E_NOMEM, "out of memory building the request");
    if (json_object_set_new(o, key, v) < 0)
        return pktcap__error_set(PKTCAP_E_NOMEM, "out of memory building the request");
    return 0;
}

static int put_id_list(json_t *o, const char *key, const char *list)
{
    json_t *arr = json_array();
    const char *p = list;
    if (!arr)
        return jset(o, key, NULL);
    while (*p) {
        size_t n;
        char *item;
        while (*p == ' ')
            p++;
        n = strcspn(p, ",");
        while (n > 0 && p[n - 1] == ' ')
            n--;
        if (!(item = pktcap__strndup(p, n)) || json_array_append_new(arr, json_string(item)) < 0) {
            pktcap__free(item);
            json_decref(arr);
            return PKTCAP_E_NOMEM;
        }
        pktcap__free(item);
        p += strcspn(p, ",");
        if (*p == ',')
            p++;
    }
    return jset(o, key, arr);
}

/* A storage target's name for a message: without its query (which could
 * hold a signature). */
static void storage_shown(const pktcap_storage *st, char *out, size_t size)
{
    const char *name = pktcap__storage_name(st);
    size_t n = strcspn(name, "?");
    snprintf(out, size, "%.*s", (int)(n < 200 ? n : 200), name);
}

/* storageLocation from the session's storage target and options. */
static int build_storage(pktcap_session *s, azure_provider *ap, azure_session *as, json_t *loc)
{
    const char *sid = pktcap__session_option(s, "storage_id");
    const char *spath = pktcap__session_option(s, "storage_path");
    const char *fpath = pktcap__session_option(s, "file_path");
    const char *lpath = pktcap__session_option(s, "local_path");
    char *built = NULL, shown[256];
    int rc;

    if (s->storage) {
        const pktcap__uri *u = pktcap__storage_remote(s->storage);
        const char *local = pktcap__storage_path(s->storage);
        storage_shown(s->storage, shown, sizeof shown);
        if (u) {
            pktcap__strbuf b = PKTCAP__STRBUF_INIT;
            const char *acct = u->authority ? u->authority : "", *q;
            size_t i;
            if (strcmp(u->scheme, "azblob") != 0)
                return pktcap__error_set(PKTCAP_E_INVAL, "session \"%s\": Azure Network Watcher "
                                         "writes only to Azure blob storage: give an "
                                         "azblob://ACCOUNT/CONTAINER[/PATH] target, not %s://",
                                         s->name, u->scheme);
            for (i = 0; i < u->param_count; i++)
                if (strcmp(u->params[i].key, "storage_id") != 0)
                    return pktcap__error_set(PKTCAP_E_INVAL, "storage '%s': unknown azblob "
                                             "parameter \"%.60s\" (known: storage_id)", shown,
                                             u->params[i].key);
            for (q = acct; *q; q++)
                if (!((*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9')))
                    break;
            if (*q || q - acct < 3 || q - acct > 24)
                return pktcap__error_set(PKTCAP_E_INVAL, "storage '%s': \"%.60s\" is not a "
                                         "storage account name (3-24 lowercase letters and "
                                         "digits)", shown, acct);
            if (pktcap__uri_param(u, "storage_id"))
                sid = pktcap__uri_param(u, "storage_id");
            if (ap->blob_endpoint)
                pktcap__strbuf_printf(&b, "%s%s", ap->blob_endpoint, acct);
            else
                pktcap__strbuf_printf(&b, "https://%s.blob.%s", acct, ap->cloud->blob_suffix);
            put_escaped(&b, u->path, strlen(u->path), 1);
            if ((rc = pktcap__strbuf_finish(&built, &b)) < 0)
                return rc;
            if (!spath)
                spath = built;
            if (!sid) {
                pktcap__free(built);
                return pktcap__error_set(PKTCAP_E_INVAL, "session \"%s\": storageLocation."
                                         "storageId is required with a blob target: add "
                                         "?storage_id=/subscriptions/SUB/resourceGroups/RG/"
                                         "providers/Microsoft.Storage/storageAccounts/%.24s to "
                                         "the azblob:// target, or set the session setting "
                                         "storage_id", s->name, acct);
            }
            if (!is_storage_account_id(sid)) {
                pktcap__free(built);
                return pktcap__error_set(PKTCAP_E_INVAL, "session \"%s\": storage_id (storage"
                                         "Location.storageId) \"%.200s\" is not a storage "
                                         "account resource id (/subscriptions/SUB/resource"
                                         "Groups/RG/providers/Microsoft.Storage/storageAccounts/"
                                         "NAME)", s->name, sid);
            }
        } else if (local && is_storage_account_id(local)) {
            sid = local;
        } else if (local && strlen(local) > 4 &&
                   strcasecmp(local + strlen(local) - 4, ".cap") == 0) {
            if (!fpath)
                fpath = local;
        } else {
            return pktcap__error_set(PKTCAP_E_INVAL, "session \"%s\": the storage target "
                                     "\"%.200s\" means nothing to Azure Network Watcher; give "
                                     "azblob://ACCOUNT/CONTAINER[/PATH]?storage_id=ID (a blob, "
                                     "storagePath), a storage account resource id /subscriptions"
                                     "/…/providers/Microsoft.Storage/storageAccounts/NAME "
                                     "(storageId), or a path on the VM ending in .cap "
                                     "(filePath)", s->name, shown);
        }
    }
    if (spath && !sid) {
        pktcap__free(built);
        return pktcap__error_set(PKTCAP_E_INVAL, "session \"%s\": storageLocation.storagePath "
                                 "needs storageId (the storage account's resource id): set the "
                                 "session setting storage_id", s->name);
    }
    if (!sid && !fpath) {
        pktcap__free(built);
        if (!spath && !lpath)
            return pktcap__error_set(PKTCAP_E_INVAL, "session \"%s\": storageLocation is "
                                     "required: set a storage target (azblob://ACCOUNT/CONTAINER"
                                     "[/PATH]?storage_id=ID, a storage account resource id, or a "
                                     ".cap path on the VM) or the session settings storage_id / "
                                     "file_path", s->name);
        return pktcap__error_set(PKTCAP_E_INVAL, "session \"%s\": storageLocation needs a "
                                 "storage account (storageId: session setting storage_id) or a "
                                 "file on the VM (filePath: session setting file_path)", s->name);
    }
    rc = 0;
    if (sid)
        rc = jset(loc, "storageId", json_string(sid));
    if (rc == 0 && spath)
        rc = jset(loc, "storagePath", json_string(spath));
    if (rc == 0 && fpath)
        rc = jset(loc, "filePath", json_string(fpath));
    if (rc == 0 && lpath)
        rc = jset(loc, "localPath", json_string(lpath));
    if (rc == 0 && spath)
        rc = pktcap__set_string(&as->storage_path, spath);
    if (rc == 0 && fpath)
        rc = pktcap__set_string(&as->file_path, fpath);
    pktcap__free(built);
    return rc;
}

static int need_api(const azure_provider *ap, const pktcap_session *s, const char *setting,
                    const char *property, const char *version)
{
    if (api_at_least(ap, version))
        return 0;
    return pktcap__error_set(PKTCAP_E_INVAL, "session \"%s\": %s (%s) needs api_version %s or "
                             "later; the provider uses %s", s->name, setting, property, version,
                             ap->api_version);
}

/* What a target is: 0 a VM, 1 a scale set, or PKTCAP_E_INVAL naming the
 * forms. */
static int target_kind(const char *target)
{
    const char *names[4];
    size_t lens[4];
    if (match_id(target, vm_pat, NPAT(vm_pat), names, lens, 4))
        return 0;
    if (match_id(target, vmss_pat, NPAT(vmss_pat), names, lens, 4))
        return 1;
    return pktcap__error_set(PKTCAP_E_INVAL, "an Azure target (target) is a VM or scale set "
                             "resource id: /subscriptions/{sub}/resourceGroups/{rg}/providers/"
                             "Microsoft.Compute/virtualMachines/{name} or …/"
                             "virtualMachineScaleSets/{name} (got \"%.200s\")", target);
}

/* pktcap_session_set_target(): refused at once when it is no VM or scale set. */
static int azure_check_target(pktcap_provider *p, const char *target)
{
    int rc = target_kind(target);
    (void)p;
    return rc < 0 ? rc : 0;
}

/* The PUT body: {"properties":{…}}, every setting checked first. */
static int build_body(pktcap_session *s, azure_provider *ap, azure_session *as, char **out)
{
    const char *type_opt = pktcap__session_option(s, "target_type");
    const char *inc = pktcap__session_option(s, "scope_include");
    const char *exc = pktcap__session_option(s, "scope_exclude");
    const char *cont = pktcap__session_option(s, "continuous_capture");
    const char *fcount = pktcap__session_option(s, "file_count");
    const char *fsize = pktcap__session_option(s, "file_size_bytes");
    const char *stl = pktcap__session_option(s, "session_time_limit_s");
    const char *type;
    json_t *body = NULL, *props, *loc;
    int vmss, rc;

    if ((vmss = target_kind(s->target)) < 0)
        return vmss;
    type = vmss ? "AzureVMSS" : "AzureVM";
    if (type_opt) {
        if (strcasecmp(type_opt, type) != 0)
            return pktcap__error_set(PKTCAP_E_INVAL, "session \"%s\": target_type (targetType) "
                                     "%s does not match the target, a %s (%s)", s->name,
                                     type_opt, vmss ? "scale set" : "virtual machine", type);
        if ((rc = need_api(ap, s, "target_type", "targetType", API_TARGET_TYPE)) < 0)
            return rc;
    }
    if (strcmp(type, "AzureVMSS") == 0 &&
        (rc = need_api(ap, s, "a scale set target", "targetType AzureVMSS", API_TARGET_TYPE)) < 0)
        return rc;
    if ((inc || exc) && strcmp(type, "AzureVMSS") != 0)
        return pktcap__error_set(PKTCAP_E_INVAL, "session \"%s\": %s (scope.%s) applies only to "
                                 "a scale set target (targetType AzureVMSS)", s->name,
                                 inc ? "scope_include" : "scope_exclude",
                                 inc ? "include" : "exclude");
    if (s->byte_limit > AZURE_U32_MAX)
        return pktcap__error_set(PKTCAP_E_INVAL, "session \"%s\": byte limit %llu is above "
                                 "Azure's maximum for totalBytesPerSession (4294967295)",
                                 s->name, (unsigned long long)s->byte_limit);
    if (s->time_limit_ms > (uint64_t)MAX_TIME_LIMIT_S * 1000u)
        return pktcap__error_set(PKTCAP_E_INVAL, "session \"%s\": time limit %llu ms is above "
                                 "Azure's maximum for timeLimitInSeconds (18000 s = 5 hours)",
                                 s->name, (unsigned long long)s->time_limit_ms);
    if (cont && (rc = need_api(ap, s, "continuous_capture", "continuousCapture",
                               API_CONTINUOUS)) < 0)
        return rc;
    if ((fcount || fsize || stl) &&
        (rc = need_api(ap, s, fcount ? "file_count" : fsize ? "file_size_bytes"
                                                            : "session_time_limit_s",
                       "captureSettings", API_CONTINUOUS)) < 0)
        return rc;

    body = json_object();
    props = json_object();
    loc = json_object();
    if (!body || !props || !loc) {
        json_decref(body);
        json_decref(props);
        json_decref(loc);
        return pktcap__error_set(PKTCAP_E_NOMEM, "out of memory building the request");
    }
    if ((rc = jset(body, "properties", props)) < 0) {
        json_decref(body);
        json_decref(loc);
        return rc;
    }
    rc = jset(props, "target", json_string(s->target));
    if (rc == 0 && api_at_least(ap, API_TARGET_TYPE))
        rc = jset(props, "targetType", json_string(type));
    if (rc == 0 && (inc || exc)) {
        json_t *scope = json_object();
        rc = jset(props, "scope", scope);
        if (rc == 0 && inc)
            rc = put_id_list(scope, "include", inc);
        if (rc == 0 && exc)
            rc = put_id_list(scope, "exclude", exc);
    }
    if (rc == 0 && s->snaplen)
        rc = jset(props, "bytesToCapturePerPacket", json_integer((json_int_t)s->snaplen));
    if (rc == 0 && s->byte_limit)
        rc = jset(props, "totalBytesPerSession", json_integer((json_int_t)s->byte_limit));
    if (rc == 0 && s->time_limit_ms)
        rc = jset(props, "timeLimitInSeconds",
                  json_integer((json_int_t)((s->time_limit_ms + 999) / 1000)));
    if (rc == 0)
        rc = build_storage(s, ap, as, loc);
    if (rc == 0)
        rc = jset(props, "storageLocation", loc);   /* takes loc, also on failure */
    else
        json_decref(loc);
    if (rc == 0 && s->filter) {
        char *text = NULL;
        json_t *filters;
        if ((rc = pktcap_filter_to_azure(&text, s->filter)) == 0) {
            filters = json_loads(text, 0, NULL);
            pktcap_free(text);
            if (!filters)
                rc = pktcap__error_set(PKTCAP_E_NOMEM, "out of memory building the request");
            else if (json_array_size(filters) == 0)
                json_decref(filters);   /* matches everything: no filters */
            else
                rc = jset(props, "filters", filters);
        }
    }
    if (rc == 0 && cont) {
        int flag = 0;
        pktcap__parse_bool(&flag, "continuous_capture", cont);
        rc = jset(props, "continuousCapture", json_boolean(flag));
    }
    if (rc == 0 && (fcount || fsize || stl)) {
        json_t *cs = json_object();
        uint64_t n = 0;
        rc = jset(props, "captureSettings", cs);
        if (rc == 0 && fcount && pktcap__parse_u64(&n, "file_count", fcount, 0,
                                                   MAX_FILE_COUNT) == 0)
            rc = jset(cs, "fileCount", json_integer((json_int_t)n));
        if (rc == 0 && fsize && pktcap__parse_u64(&n, "file_size_bytes", fsize, 0,
                                                  AZURE_U32_MAX) == 0)
            rc = jset(cs, "fileSizeInBytes", json_integer((json_int_t)n));
        if (rc == 0 && stl && pktcap__parse_u64(&n, "session_time_limit_s", stl, 0,
                                                MAX_SESSION_TIME_LIMIT_S) == 0)
            rc = jset(cs, "sessionTimeLimitInSeconds", json_integer((json_int_t)n));
    }
    if (rc == 0 && !(*out = pktcap__json_dump(body)))
        rc = PKTCAP_E_NOMEM;
    json_decref(body);
    return rc;
}

/* ---- lifecycle ----------------------------------------------------------------- */

static azure_session *session_impl(pktcap_session *s)
{
    azure_session *as = s->impl;
    if (!as) {
        as = pktcap__calloc(1, sizeof *as);
        if (!as)
            return NULL;
        as->created = 0;
        as->server_delay_ms = -1;
        as->reported = PKTCAP_STATE_NEW;
        s->impl = as;
    }
    return as;
}

static void azure_session_free(pktcap_session *s)
{
    azure_session *as = s->impl;
    if (!as)
        return;
    json_decref(as->resource);
    json_decref(as->status);
    op_clear(&as->create_op);
    op_clear(&as->query_op);
    pktcap__free(as->storage_path);
    pktcap__free(as->file_path);
    pktcap__free(as);
    s->impl = NULL;
}

/* GET the capture resource (a PacketCaptureResult object) into *out. */
static int read_resource(azure_provider *ap, pktcap_session *s, azure_session *as, json_t **out)
{
    pktcap__http_response resp;
    char what[160], *url = capture_url(ap, s->name, NULL);
    int rc;
    *out = NULL;
    if (!url)
        return PKTCAP_E_NOMEM;
    snprintf(what, sizeof what, "get packet capture \"%s\"", s->name);
    rc = arm_send(ap, "GET", url, NULL, PKTCAP__HTTP_RETRY_AUTO, what, NULL, &resp);
    pktcap__free(url);
    if (rc < 0)
        return rc;
    as->server_delay_ms = resp.retry_after_ms;
    return object_answer(&resp, what, "a PacketCaptureResult", out);
}

/* GET the capture resource into as->resource (id, storage location). */
static int get_resource(azure_provider *ap, pktcap_session *s, azure_session *as)
{
    json_t *res;
    int rc = read_resource(ap, s, as, &res);
    return rc < 0 ? rc : take_resource(s, as, res);
}

/* A PUT retried after a lost answer meets its own first attempt: 409
 * PacketCaptureAlreadyExists. The capture is ours when it has our target;
 * then the session goes on with it. 1 when adopted. */
static int adopt_after_retry(azure_provider *ap, pktcap_session *s, azure_session *as)
{
    const char *target, *prov;
    json_t *res;
    if (read_resource(ap, s, as, &res) < 0)
        return 0;
    target = pktcap__json_str(res, "properties.target");
    if (!target || strcasecmp(target, s->target) != 0 || take_resource(s, as, res) < 0) {
        if (!target || strcasecmp(target, s->target) != 0)
            json_decref(res);
        return 0;
    }
    as->created = 1;
    prov = pktcap__json_str(as->resource, "properties.provisioningState");
    pktcap__log(&s->provider->log, PKTCAP_LOG_WARN, "azure: %s: the create request was retried "
                "and Azure says the capture exists, with our target: taking it as ours",
                s->name);
    report(s, as, PKTCAP_STATE_PENDING, prov ? prov : "Updating", NULL);
    return 1;
}

static int azure_start(pktcap_session *s)
{
    azure_provider *ap = s->provider->impl;
    azure_session *as = session_impl(s);
    pktcap__http_response resp;
    char what[160], *body = NULL, *url;
    const char *prov;
    json_t *res;
    int64_t first_delay;
    int rc;

    if (!as)
        return PKTCAP_E_NOMEM;
    snprintf(what, sizeof what, "create packet capture \"%s\"", s->name);
    if ((rc = build_body(s, ap, as, &body)) < 0)
        return rc;
    if (!(url = capture_url(ap, s->name, NULL))) {
        pktcap__free(body);
        return PKTCAP_E_NOMEM;
    }
    rc = arm_send(ap, "PUT", url, body, PKTCAP__HTTP_RETRY_AUTO, what, NULL, &resp);
    pktcap__free(body);
    pktcap__free(url);
    if (rc < 0) {
        /* Nothing was sent for these; after the others the capture may exist. */
        as->created = (rc == PKTCAP_E_AUTH || rc == PKTCAP_E_INVAL || rc == PKTCAP_E_NOMEM ||
                       rc == PKTCAP_E_TLS) ? 0 : -1;
        return rc;
    }
    if (resp.status == 409 && resp.attempts > 1 && adopt_after_retry(ap, s, as)) {
        pktcap__http_response_clear(&resp);
        return 0;
    }
    if (resp.status != 200 && resp.status != 201) {
        as->created = resp.status >= 500 ? -1 : 0;
        rc = arm_error(&resp, what, 0);
        pktcap__http_response_clear(&resp);
        return rc;
    }
    as->created = 1;
    res = pktcap__body_json(&resp);
    if (json_is_object(res)) {
        if ((rc = take_resource(s, as, res)) < 0) {
            pktcap__http_response_clear(&resp);
            return rc;
        }
    } else {
        json_decref(res);
    }
    if (!s->id[0]) {
        /* No body: the id is the watcher's path plus the name. */
        pktcap__strbuf b = PKTCAP__STRBUF_INIT;
        char *id = NULL;
        pktcap__strbuf_printf(&b, "/subscriptions/%s/resourceGroups/%s/providers/"
                              "Microsoft.Network/networkWatchers/%s/packetCaptures/%s",
                              ap->sub, ap->rg, ap->nw, s->name);
        if (pktcap__strbuf_finish(&id, &b) == 0) {
            pktcap__free(s->id);
            s->id = id;
        }
    }
    rc = op_from_response(ap, &as->create_op, &resp, 0, what);
    if (rc == PKTCAP_E_REMOTE) {
        /* The capture exists: follow its status instead of that URL. */
        pktcap__log(&s->provider->log, PKTCAP_LOG_WARN, "azure: %s: %s; following the "
                    "capture's status instead", s->name, pktcap_error_message(pktcap_error_last()));
        rc = 0;
    }
    first_delay = delay_after(ap, &resp);
    as->not_before_ms = resp.retry_after_ms > 0 ? pktcap__now_ms() + resp.retry_after_ms : 0;
    pktcap__http_response_clear(&resp);
    if (rc < 0)
        return rc;
    prov = pktcap__json_str(as->resource, "properties.provisioningState");
    if (prov && strcasecmp(prov, "Failed") == 0) {
        pktcap__error_set(PKTCAP_E_REMOTE, "%s: provisioningState Failed", what);
        report_failure(s, as, prov);
        return 0;
    }
    if (prov && strcasecmp(prov, "Succeeded") == 0 && !as->create_op.url)
        as->existed = 1;
    report(s, as, PKTCAP_STATE_PENDING, prov ? prov : "Updating", NULL);
    pktcap__log(&s->provider->log, PKTCAP_LOG_DEBUG, "azure: %s: created (%s); first poll in "
                "%lld ms", s->name, as->create_op.url ? (as->create_op.async
                                                             ? "following Azure-AsyncOperation"
                                                             : "following Location")
                                                      : "no operation to follow",
                (long long)first_delay);
    return 0;
}

/* The capture is gone at Azure (404 after it existed). */
static void report_deleted(pktcap_session *s, azure_session *as)
{
    char text[256];
    snprintf(text, sizeof text, "packet capture \"%s\" was deleted at the provider", s->name);
    report(s, as, PKTCAP_STATE_FAILED, "Deleted", text);
}

/* queryStatus for step(): POST (200 → body; 202 → its Location polled on
 * the next steps), or one poll of that Location. 1 when as->status is new,
 * 0 when the answer comes later, or a negative code. */
static int step_query(azure_provider *ap, pktcap_session *s, azure_session *as)
{
    pktcap__http_response resp;
    char what[160];
    json_t *qs = NULL;
    int rc;
    snprintf(what, sizeof what, "query status of packet capture \"%s\"", s->name);
    if (as->query_op.url) {
        rc = op_poll(ap, &as->query_op, what, &resp);
        as->server_delay_ms = resp.retry_after_ms;
        if (rc < 0 || rc == OP_FAILED)
            pktcap__http_response_clear(&resp);
        if (rc == PKTCAP_E_NOTFOUND) {
            /* The operation is gone (or the capture): ask afresh. */
            op_clear(&as->query_op);
            return step_query(ap, s, as);
        }
        if (rc < 0)
            return rc;
        if (rc == OP_FAILED) {
            op_clear(&as->query_op);
            return PKTCAP_E_REMOTE;
        }
        if (rc == OP_RUNNING) {
            pktcap__http_response_clear(&resp);
            pktcap__log(&s->provider->log, PKTCAP_LOG_DEBUG, "azure: %s: queryStatus still "
                        "running", s->name);
            return 0;
        }
        op_clear(&as->query_op);
        qs = pktcap__body_json(&resp);
        pktcap__http_response_clear(&resp);
        if (!json_is_object(qs)) {
            json_decref(qs);
            return 0;   /* done without a body: POST again next time */
        }
    } else {
        char *url = capture_url(ap, s->name, "queryStatus");
        if (!url)
            return PKTCAP_E_NOMEM;
        rc = arm_send(ap, "POST", url, NULL, PKTCAP__HTTP_RETRY_SAFE, what, NULL, &resp);
        pktcap__free(url);
        if (rc < 0)
            return rc;
        as->server_delay_ms = resp.retry_after_ms;
        if (resp.status == 202) {
            rc = op_from_response(ap, &as->query_op, &resp, 1, what);
            pktcap__http_response_clear(&resp);
            pktcap__log(&s->provider->log, PKTCAP_LOG_DEBUG, "azure: %s: queryStatus accepted "
                        "(202)%s", s->name, as->query_op.url ? "; following Location" : "");
            return rc < 0 ? rc : 0;
        }
        if (resp.status == 404 && as->existed) {
            pktcap__http_response_clear(&resp);
            report_deleted(s, as);
            return 0;
        }
        if ((rc = object_answer(&resp, what, "a JSON object", &qs)) < 0)
            return rc;
    }
    json_decref(as->status);
    as->status = qs;
    publish_details(s, as);
    return 1;
}

/* One round of step(): the create operation, then the status. */
static int step_once(azure_provider *ap, pktcap_session *s, azure_session *as)
{
    pktcap__http_response resp;
    char what[160];
    const char *prov;
    int rc;

    if (as->create_op.url) {
        snprintf(what, sizeof what, "create packet capture \"%s\"", s->name);
        rc = op_poll(ap, &as->create_op, what, &resp);
        as->server_delay_ms = resp.retry_after_ms;
        pktcap__http_response_clear(&resp);
        if (rc < 0)
            return rc;
        if (rc == OP_RUNNING) {
            pktcap__log(&s->provider->log, PKTCAP_LOG_DEBUG, "azure: %s: create operation in "
                        "progress", s->name);
            return 0;
        }
        op_clear(&as->create_op);
        if (rc == OP_FAILED) {
            report_failure(s, as, "Failed");
            return 0;
        }
        /* Succeeded: the resource as it now is, then its status. */
        rc = get_resource(ap, s, as);
        if (rc == PKTCAP_E_NOTFOUND) {
            report_deleted(s, as);
            return 0;
        }
        if (rc < 0)
            return rc;
        prov = pktcap__json_str(as->resource, "properties.provisioningState");
        if (prov && strcasecmp(prov, "Failed") == 0) {
            pktcap__error_set(PKTCAP_E_REMOTE, "packet capture \"%s\": provisioningState Failed",
                              s->name);
            report_failure(s, as, prov);
            return 0;
        }
        as->existed = 1;
    }
    rc = step_query(ap, s, as);
    if (rc <= 0)
        return rc;
    apply_status(s, as);
    return 0;
}

static int azure_step(pktcap_session *s, int64_t *next_ms)
{
    azure_provider *ap = s->provider->impl;
    azure_session *as = s->impl;
    int64_t now = pktcap__now_ms(), delay;
    int rc;
    *next_ms = -1;
    if (!as || is_terminal(pktcap_session_state(s)))
        return 0;
    if (now < as->not_before_ms) {
        *next_ms = as->not_before_ms - now;
        return 0;
    }
    as->server_delay_ms = -1;
    rc = step_once(ap, s, as);
    if (rc < 0) {
        /* Transient or not, the session keeps its state; a Retry-After holds. */
        if (as->server_delay_ms >= 0)
            as->not_before_ms = pktcap__now_ms() + as->server_delay_ms;
        return rc;
    }
    if (is_terminal(pktcap_session_state(s)))
        return 0;
    delay = as->server_delay_ms > 0 ? as->server_delay_ms : (int64_t)ap->poll_interval_ms;
    as->not_before_ms = as->server_delay_ms > 0 ? pktcap__now_ms() + as->server_delay_ms : 0;
    *next_ms = delay;
    pktcap__log(&s->provider->log, PKTCAP_LOG_DEBUG, "azure: %s: %s (%s); next poll in %lld ms%s",
                s->name, pktcap_state_name(pktcap_session_state(s)),
                as->native[0] ? as->native : "-", (long long)delay,
                as->server_delay_ms > 0 ? " (Retry-After)" : "");
    return 0;
}

/* A DELETE or stop answered 202: follow it to the end. */
static int follow(azure_provider *ap, pktcap_session *s, const pktcap__http_response *accepted,
                  const char *what)
{
    pktcap__http_response final;
    azure_op op = { NULL, 0, "" };
    int rc = op_from_response(ap, &op, accepted, 0, what);
    if (rc < 0)
        return rc;
    if (!op.url) {
        pktcap__log(&ap->p->log, PKTCAP_LOG_DEBUG, "azure: %s: 202 without a URL to follow",
                    what);
        return 0;
    }
    rc = op_wait(ap, s, &op, delay_after(ap, accepted), what, &final);
    op_clear(&op);
    pktcap__http_response_clear(&final);
    return rc;
}

static int azure_stop(pktcap_session *s)
{
    azure_provider *ap = s->provider->impl;
    azure_session *as = s->impl;
    pktcap__http_response resp;
    char what[160], *url;
    json_t *qs = NULL;
    int prev, rc;

    if (!as)
        return 0;
    prev = as->reported == PKTCAP_STATE_RUNNING ? PKTCAP_STATE_RUNNING : PKTCAP_STATE_PENDING;
    snprintf(what, sizeof what, "stop packet capture \"%s\"", s->name);
    if (!(url = capture_url(ap, s->name, "stop")))
        return PKTCAP_E_NOMEM;
    as->stop_called = 1;
    pktcap__log(&s->provider->log, PKTCAP_LOG_INFO, "azure: %s: STOPPING", s->name);
    rc = arm_send(ap, "POST", url, NULL, PKTCAP__HTTP_RETRY_SAFE, what, NULL, &resp);
    pktcap__free(url);
    if (rc == 0 && resp.status != 200 && resp.status != 202 && resp.status != 204) {
        rc = arm_error(&resp, what, 0);
        pktcap__http_response_clear(&resp);
    }
    if (rc < 0) {
        /* Azure did not take the stop: the capture goes on as it was. */
        char keep[512];
        snprintf(keep, sizeof keep, "%s", pktcap_error_message(pktcap_error_last()));
        as->stop_called = 0;
        report(s, as, prev, NULL, NULL);
        pktcap__error_set(rc, "%s", keep);
        return rc;
    }
    if (resp.status == 202)
        rc = follow(ap, s, &resp, what);
    pktcap__http_response_clear(&resp);
    if (rc < 0)
        return rc;   /* accepted: the session stays STOPPING; wait() steps on */

    /* One status now, so that a finished stop shows at once. */
    op_clear(&as->query_op);
    if (query_status_now(ap, s, s->name, &qs) == 0 && json_is_object(qs)) {
        json_decref(as->status);
        as->status = qs;
        publish_details(s, as);
        apply_status(s, as);
    } else {
        json_decref(qs);
        pktcap__log(&s->provider->log, PKTCAP_LOG_DEBUG, "azure: %s: status after stop: %s",
                    s->name, pktcap_error_message(pktcap_error_last()));
    }
    return 0;
}

static int azure_remove(pktcap_session *s)
{
    azure_provider *ap = s->provider->impl;
    azure_session *as = s->impl;
    pktcap__http_response resp;
    char what[160], *url;
    int rc;

    if (!as || as->created == 0)
        return 0;   /* never created at Azure: nothing to delete */
    snprintf(what, sizeof what, "delete packet capture \"%s\"", s->name);
    if (!(url = capture_url(ap, s->name, NULL)))
        return PKTCAP_E_NOMEM;
    rc = arm_send(ap, "DELETE", url, NULL, PKTCAP__HTTP_RETRY_AUTO, what, NULL, &resp);
    pktcap__free(url);
    if (rc < 0)
        return rc;
    if (resp.status == 404) {
        if (as->created < 0) {
            /* the create never arrived */
            pktcap__http_response_clear(&resp);
            as->deleted = 1;
            return 0;
        }
        rc = arm_error(&resp, what, PKTCAP_E_NOTFOUND);
    } else if (resp.status == 202) {
        rc = follow(ap, s, &resp, what);
    } else if (resp.status != 200 && resp.status != 204) {
        rc = arm_error(&resp, what, 0);
    }
    pktcap__http_response_clear(&resp);
    if (rc < 0)
        return rc;
    as->deleted = 1;
    pktcap__log(&s->provider->log, PKTCAP_LOG_INFO, "azure: %s: deleted%s%s%s", s->name,
                as->storage_path ? " (the blob " : "",
                as->storage_path ? as->storage_path : "",
                as->storage_path ? " stays: Azure does not delete it)" : "");
    return 0;
}

/* <Code> and <Message> of a Storage error body. */
static void xml_value(const char *body, const char *tag, char *out, size_t size)
{
    char open[32], close[32];
    const char *a, *b;
    size_t n;
    out[0] = '\0';
    if (!body)
        return;
    snprintf(open, sizeof open, "<%s>", tag);
    snprintf(close, sizeof close, "</%s>", tag);
    if (!(a = strstr(body, open)))
        return;
    a += strlen(open);
    if (!(b = strstr(a, close)))
        return;
    n = strcspn(a, "\r\n");   /* Azure appends RequestId and Time on new lines */
    if (a + n > b)
        n = (size_t)(b - a);
    if (n >= size)
        n = size - 1;
    memcpy(out, a, n);
    out[n] = '\0';
}

static int blob_error(const pktcap__http_response *resp, const char *what, int sas)
{
    char code[128], message[384], keep[768];
    const char *hint = NULL;
    int rc, override = 0;
    xml_value(resp->body, "Code", code, sizeof code);
    xml_value(resp->body, "Message", message, sizeof message);
    switch (resp->status) {
    case 404:
        override = PKTCAP_E_NOTFOUND;
        hint = "Azure writes the blob only after the capture ends; if it just ended, try again "
               "shortly";
        break;
    case 403:
        override = PKTCAP_E_PERM;
        hint = sas ? "the SAS was refused: check its permissions (sp=r), expiry and signature"
                   : "the identity needs a Storage Blob Data Reader role on the account, or give "
                     "a SAS with the session setting sas";
        break;
    case 401:
        override = PKTCAP_E_AUTH;
        break;
    default:
        break;
    }
    rc = pktcap__http_status_error(resp, what, code[0] ? code : NULL,
                                   message[0] ? message : NULL, override);
    if (!hint)
        return rc;
    snprintf(keep, sizeof keep, "%s", pktcap_error_message(pktcap_error_last()));
    return pktcap__error_remote(rc, (int)resp->status, code[0] ? code : NULL,
                                message[0] ? message : NULL, "%s (%s)", keep, hint);
}

static int azure_fetch(pktcap_session *s, pktcap_storage *st)
{
    azure_provider *ap = s->provider->impl;
    azure_session *as = s->impl;
    const char *sas = pktcap__session_option(s, "sas");
    pktcap__http_request req;
    pktcap__http_dl dl;
    pktcap__http_response resp;
    pktcap__auth *auth = NULL;
    char what[160], version[64], date[64], *url = NULL;
    const char *headers[3];
    int rc;

    if (!as)
        return pktcap__error_set(PKTCAP_E_NOTFOUND, "session \"%s\" has no capture", s->name);
    snprintf(what, sizeof what, "download packet capture \"%s\"", s->name);
    if (!as->storage_path && !as->deleted && (rc = get_resource(ap, s, as)) < 0)
        return rc;
    if (!as->storage_path)
        return pktcap__error_set(PKTCAP_E_NOTSUP, "%s: Azure saved it only on the VM%s%s%s, "
                                 "where no API can read it; copy it from the VM, or give the "
                                 "session an azblob:// storage target (storagePath) next time",
                                 what, as->file_path ? " (filePath " : "",
                                 as->file_path ? as->file_path : "",
                                 as->file_path ? ")" : "");
    if ((rc = check_blob_url(ap, as->storage_path, what)) < 0)
        return rc;

    if (sas) {
        pktcap__strbuf b = PKTCAP__STRBUF_INIT;
        pktcap__strbuf_printf(&b, "%s%c%s", as->storage_path,
                              strchr(as->storage_path, '?') ? '&' : '?',
                              sas[0] == '?' ? sas + 1 : sas);
        if ((rc = pktcap__strbuf_finish(&url, &b)) < 0)
            return rc;
    } else {
        if ((rc = ensure_auth(ap)) < 0)
            return rc;
        if (ap->auth_resolved == AUTH_BEARER) {
            if (!ap->storage_bearer_token)
                return pktcap__error_set(PKTCAP_E_AUTH, "%s: with auth=bearer the blob needs "
                                         "the storage_bearer_token option (a token for %s) or "
                                         "the session setting sas", what, STORAGE_SCOPE);
            if (!ap->storage_auth &&
                (rc = pktcap__auth_new_bearer(&ap->storage_auth, ap->storage_bearer_token)) < 0)
                return rc;
            auth = ap->storage_auth;
        } else {
            if ((rc = probe_auth(ap, STORAGE_SCOPE)) < 0)
                return rc;
            auth = ap->auth;
        }
        if (!(url = pktcap__strdup(as->storage_path)))
            return PKTCAP_E_NOMEM;
    }
    snprintf(version, sizeof version, "x-ms-version: %s", ap->storage_api_version);
    memcpy(date, "x-ms-date: ", 11);
    http_date(date + 11, sizeof date - 11);
    headers[0] = version;
    headers[1] = date;
    headers[2] = NULL;

    memset(&req, 0, sizeof req);
    req.method = "GET";
    req.url = url;
    req.headers = headers;
    req.auth = auth;
    req.scope = auth ? STORAGE_SCOPE : NULL;
    req.retry = PKTCAP__HTTP_RETRY_AUTO;
    req.what = what;
    memset(&dl, 0, sizeof dl);
    dl.capture_file = 1;
    dl.progress = s->progress_cb;
    dl.userdata = s->progress_userdata;
    memset(&resp, 0, sizeof resp);
    rc = pktcap__http_download(ap->http, &req, st, &dl, &resp);
    pktcap__free(url);
    if (rc < 0)
        return rc;
    if (resp.status != 200 && resp.status != 206) {
        rc = blob_error(&resp, what, sas != NULL);
        pktcap__http_response_clear(&resp);
        return rc;
    }
    pktcap__http_response_clear(&resp);
    /* The blob's URL without its query: printed with a precision, so that
     * nothing is allocated once the file has its final name. */
    pktcap__log(&s->provider->log, PKTCAP_LOG_INFO, "azure: %s: fetched %llu bytes (%s) from %.*s%s",
                s->name, (unsigned long long)dl.bytes, pktcap__format_name(dl.format),
                (int)strcspn(as->storage_path, "?"), as->storage_path, sas ? " with a SAS" : "");
    return 0;
}

/* ---- listing and opening ------------------------------------------------------- */

static int add_listed(azure_provider *ap, pktcap_session_list *list, json_t *item)
{
    const char *name = pktcap__json_str(item, "name");
    const char *id = pktcap__json_str(item, "id");
    const char *prov = pktcap__json_str(item, "properties.provisioningState");
    json_t *qs = NULL;
    int state, rc;
    if (!name || !capture_name_ok(name)) {
        pktcap__log(&ap->p->log, PKTCAP_LOG_DEBUG, "azure: list: skipping an entry without a "
                    "usable name");
        return 0;
    }
    if (prov && strcasecmp(prov, "Failed") == 0)
        return pktcap__session_list_add(list, name, id, PKTCAP_STATE_FAILED, prov);
    if (prov && strcasecmp(prov, "Updating") == 0)
        return pktcap__session_list_add(list, name, id, PKTCAP_STATE_PENDING, prov);
    rc = query_status_now(ap, NULL, name, &qs);
    if (rc < 0) {
        /* Transport trouble ends the listing; a capture Azure will not describe does not. */
        if (rc == PKTCAP_E_NET || rc == PKTCAP_E_TLS || rc == PKTCAP_E_TIMEOUT ||
            rc == PKTCAP_E_AUTH || rc == PKTCAP_E_NOMEM || rc == PKTCAP_E_THROTTLED ||
            rc == PKTCAP_E_CANCELED)
            return rc;
        pktcap__log(&ap->p->log, PKTCAP_LOG_WARN, "azure: list: %s",
                    pktcap_error_message(pktcap_error_last()));
        return pktcap__session_list_add(list, name, id, PKTCAP_STATE_PENDING,
                                        prov ? prov : "");
    }
    state = listed_state(prov, qs);
    {
        const char *st = pktcap__json_str(qs, "packetCaptureStatus");
        rc = pktcap__session_list_add(list, name, id, state, st ? st : "Unknown");
    }
    json_decref(qs);
    return rc;
}

static int azure_list_sessions(pktcap_provider *p, pktcap_session_list *list)
{
    azure_provider *ap = p->impl;
    pktcap__http_response resp;
    char what[200], *url = capture_url(ap, NULL, NULL);
    int pages = 0, rc = 0;

    if (!url)
        return PKTCAP_E_NOMEM;
    snprintf(what, sizeof what, "list packet captures of network watcher \"%.80s\"", ap->nw);
    while (url && rc == 0) {
        json_t *root, *values, *item;
        const char *next;
        size_t i;
        if (pages++ == MAX_LIST_PAGES) {
            pktcap__log(&p->log, PKTCAP_LOG_WARN, "azure: %s: stopped after %d pages", what,
                        MAX_LIST_PAGES);
            break;
        }
        rc = arm_send(ap, "GET", url, NULL, PKTCAP__HTTP_RETRY_AUTO, what, NULL, &resp);
        pktcap__free(url);
        url = NULL;
        if (rc < 0)
            break;
        if (resp.status != 200) {
            rc = arm_error(&resp, what, 0);
            pktcap__http_response_clear(&resp);
            break;
        }
        /* Strictly: an answer that is not JSON at all (an HTML page, a body
         * cut short) is reported as such, not as a missing "value". */
        rc = pktcap__json_parse(&root, resp.body, resp.body_len, what);
        pktcap__http_response_clear(&resp);
        if (rc < 0)
            break;
        values = pktcap__json_path(root, "value");
        if (!json_is_array(values)) {
            json_decref(root);
            rc = pktcap__error_set(PKTCAP_E_FORMAT, "%s: the answer has no \"value\" array",
                                   what);
            break;
        }
        json_array_foreach (values, i, item)
            if (rc == 0)
                rc = add_listed(ap, list, item);
        next = pktcap__json_str(root, "nextLink");
        if (rc == 0 && next && *next) {
            if ((rc = check_arm_url(ap, next, what, "nextLink")) == 0 &&
                !(url = pktcap__strdup(next)))
                rc = PKTCAP_E_NOMEM;
        }
        json_decref(root);
    }
    pktcap__free(url);
    return rc;
}

static int azure_session_open(pktcap_session *s, const char *id)
{
    azure_provider *ap = s->provider->impl;
    azure_session *as;
    const char *names[4], *prov;
    size_t lens[4];
    char *name;
    json_t *qs = NULL;
    int64_t v;
    int rc;

    if (id[0] == '/') {
        if (!match_id(id, capture_pat, NPAT(capture_pat), names, lens, 4))
            return pktcap__error_set(PKTCAP_E_INVAL, "\"%.200s\" is not a packet capture "
                                     "resource id (/subscriptions/SUB/resourceGroups/RG/"
                                     "providers/Microsoft.Network/networkWatchers/NW/"
                                     "packetCaptures/NAME) nor a capture name", id);
        if (lens[0] != strlen(ap->sub) || strncasecmp(names[0], ap->sub, lens[0]) != 0 ||
            lens[1] != strlen(ap->rg) || strncasecmp(names[1], ap->rg, lens[1]) != 0 ||
            lens[2] != strlen(ap->nw) || strncasecmp(names[2], ap->nw, lens[2]) != 0)
            return pktcap__error_set(PKTCAP_E_INVAL, "packet capture \"%.200s\" is not under "
                                     "this provider's network watcher \"%s\" (resource group "
                                     "\"%s\", subscription %s)", id, ap->nw, ap->rg, ap->sub);
        name = pktcap__strndup(names[3], lens[3]);
    } else {
        name = pktcap__strdup(id);
    }
    if (!name)
        return PKTCAP_E_NOMEM;
    if (!capture_name_ok(name)) {
        rc = pktcap__error_set(PKTCAP_E_INVAL, "\"%.100s\" is not a packet capture name "
                               "(letters, digits, '-', '_', '.'; at most 80)", name);
        pktcap__free(name);
        return rc;
    }
    pktcap__free(s->name);
    s->name = name;
    if (!(as = session_impl(s)))
        return PKTCAP_E_NOMEM;
    as->opened = 1;
    as->created = 1;
    pktcap__free(s->id);
    if (!(s->id = pktcap__strdup("")))
        return PKTCAP_E_NOMEM;

    rc = get_resource(ap, s, as);
    if (rc == PKTCAP_E_NOTFOUND) {
        /* A clearer message, keeping the response's status and CloudError. */
        const pktcap_error *e = pktcap_error_last();
        char code[128], text[512];
        snprintf(code, sizeof code, "%s", pktcap_error_provider_code(e));
        snprintf(text, sizeof text, "%s", pktcap_error_provider_message(e));
        return pktcap__error_remote(PKTCAP_E_NOTFOUND, pktcap_error_http_status(e),
                                    code[0] ? code : NULL, text[0] ? text : NULL,
                                    "no packet capture \"%s\" in network watcher \"%s\" "
                                    "(resource group \"%s\")", s->name, ap->nw, ap->rg);
    }
    if (rc < 0)
        return rc;
    if (!s->id[0]) {
        pktcap__free(s->id);
        if (!(s->id = pktcap__strdup(id)))
            return PKTCAP_E_NOMEM;
    }
    /* The settings it was made with. */
    {
        const char *target = pktcap__json_str(as->resource, "properties.target");
        if (target) {
            char *copy = pktcap__strdup(target);
            if (!copy)
                return PKTCAP_E_NOMEM;
            pktcap__free(s->target);
            s->target = copy;
        }
    }
    if (pktcap__json_int(as->resource, "properties.bytesToCapturePerPacket", &v) == 0 && v >= 0 &&
        v <= (int64_t)AZURE_U32_MAX)
        s->snaplen = (uint32_t)v;
    if (pktcap__json_int(as->resource, "properties.totalBytesPerSession", &v) == 0 && v >= 0)
        s->byte_limit = (uint64_t)v;
    if (pktcap__json_int(as->resource, "properties.timeLimitInSeconds", &v) == 0 && v >= 0)
        s->time_limit_ms = (uint64_t)v * 1000u;

    prov = pktcap__json_str(as->resource, "properties.provisioningState");
    if (prov && strcasecmp(prov, "Failed") == 0) {
        pktcap__error_set(PKTCAP_E_REMOTE, "packet capture \"%s\": provisioningState Failed",
                          s->name);
        report_failure(s, as, prov);
        return 0;
    }
    if (prov && strcasecmp(prov, "Updating") == 0) {
        report(s, as, PKTCAP_STATE_PENDING, prov, NULL);
            return 0;
    }
    as->existed = 1;
    if ((rc = query_status_now(ap, s, s->name, &qs)) < 0)
        return rc;
    if (!json_is_object(qs)) {
        json_decref(qs);
        return pktcap__error_set(PKTCAP_E_FORMAT, "query status of packet capture \"%s\": the "
                                 "answer is not a JSON object", s->name);
    }
    as->status = qs;
    publish_details(s, as);
    apply_status(s, as);
    if (pktcap_session_state(s) == PKTCAP_STATE_NEW)
        report(s, as, PKTCAP_STATE_PENDING, NULL, NULL);
    return 0;
}

const pktcap__backend pktcap__backend_azure = {
    .kind = "azure",
    .caps = PKTCAP_CAP_RULE_FILTER | PKTCAP_CAP_SNAPLEN | PKTCAP_CAP_BYTE_LIMIT |
            PKTCAP_CAP_TIME_LIMIT | PKTCAP_CAP_STOP | PKTCAP_CAP_DELETE | PKTCAP_CAP_LIST |
            PKTCAP_CAP_OPEN | PKTCAP_CAP_FETCH,
    .provider_open = azure_provider_open,
    .provider_set = azure_provider_set,
    .provider_close = azure_provider_close,
    .list_sessions = azure_list_sessions,
    .list_targets = NULL,
    .check_filter = azure_check_filter,
    .check_target = azure_check_target,
    .session_set = azure_session_set,
    .session_open = azure_session_open,
    .start = azure_start,
    .step = azure_step,
    .stop = azure_stop,
    .remove = azure_remove,
    .fetch = azure_fetch,
    .session_free = azure_session_free,
};
