/* libFuzzer target: the Azure provider's handling of ARM and Storage
 * responses, every one of them taken from the fuzz input.
 *
 * The first byte configures the run: bits 0-1 the HTTP retries (0-3), bit 2
 * list the sessions first, bit 3 open a capture by id afterwards (bit 7: by
 * its full resource id, else by name), bit 4 an azblob:// storage target
 * (else a .cap path on the VM), bit 5 a SAS for the fetch (else the storage
 * bearer token), bit 6 a filter. The rest is the harness's script
 * (harness.h): the responses, in order, to every request the lifecycle
 * sends — list (+ nextLink pages, a queryStatus per capture), create (PUT),
 * refreshes (the create operation, GET, queryStatus and its Location), stop
 * (+ the operation it starts, a queryStatus), fetch (the blob download),
 * delete (+ its operation), open (GET, queryStatus) — through the HTTP
 * layer's real code: retries (without their delays), status mapping, size
 * caps, JSON parsing and the backend's state mapping.
 *
 * Checked after every call (harness.c): 0 or the recorded PKTCAP_E_* code
 * with a message; the state is a pktcap_state_t; no token or SAS in a
 * message or a log line; the ARM token goes only to https://management.
 * azure.com and the storage token only to https://ACCOUNT.blob.core.windows.
 * net, as libcurl's own URL parser reads the URLs the backend checked.
 *
 * The provider follows an operation for at most 5 ms (lro_timeout_ms), so
 * an input that keeps answering "InProgress" costs milliseconds, not
 * minutes; a step (refresh) never waits.
 *
 * Run with ./dev fuzz azure [SECONDS]; seeds in corpus/azure/ follow the
 * emulator's answers (tests/emulators/azure.py). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <pktcap/pktcap.h>

#include "harness.h"


#define SUB "00000000-0000-0000-0000-000000000001"
#define WATCHER "/subscriptions/" SUB "/resourceGroups/rg/providers/Microsoft.Network/" \
                "networkWatchers/nw"
#define VM "/subscriptions/" SUB "/resourceGroups/rg/providers/Microsoft.Compute/" \
           "virtualMachines/web1"
#define ACCOUNT_ID "/subscriptions/" SUB "/resourceGroups/rg/providers/Microsoft.Storage/" \
                   "storageAccounts/fzstore"
#define ARM_TOKEN "fz-arm-token-S3CR3T"
#define STORAGE_TOKEN "fz-storage-token-S3CR3T"
#define SAS_SECRET "fz-sas-S3CR3T"

enum {
    CFG_RETRIES = 3, CFG_LIST = 1 << 2, CFG_OPEN = 1 << 3, CFG_BLOB = 1 << 4,
    CFG_SAS = 1 << 5, CFG_FILTER = 1 << 6, CFG_OPEN_ID = 1 << 7,
};

/* scheme and host as libcurl reads the URL (what the transfer would use). */
static int url_host(const char *url, char *scheme, size_t ssize, char *host, size_t hsize,
                    long *port)
{
    CURLU *u = curl_url();
    char *s = NULL, *h = NULL, *p = NULL;
    int ok = u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
             curl_url_get(u, CURLUPART_SCHEME, &s, 0) == CURLUE_OK &&
             curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK &&
             curl_url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT) == CURLUE_OK;
    if (ok) {
        snprintf(scheme, ssize, "%s", s);
        snprintf(host, hsize, "%s", h);
        *port = strtol(p, NULL, 10);
    }
    curl_free(s);
    curl_free(h);
    curl_free(p);
    curl_url_cleanup(u);
    return ok;
}

static int auth_ok(const char *url)
{
    char scheme[16], host[512];
    long port;
    size_t n;
    if (!url_host(url, scheme, sizeof scheme, host, sizeof host, &port) ||
        strcmp(scheme, "https") != 0 || port != 443)
        return 0;
    for (n = 0; host[n]; n++)   /* host names are case-insensitive */
        host[n] = (char)tolower((unsigned char)host[n]);
    if (strcmp(host, "management.azure.com") == 0)
        return 1;
    return n > 22 && strcmp(host + n - 22, ".blob.core.windows.net") == 0 &&
           strspn(host, "abcdefghijklmnopqrstuvwxyz0123456789") == n - 22;
}

static pktcap_provider *open_provider(int config)
{
    static const char *const options[][2] = {
        { "auth", "bearer" }, { "bearer_token", ARM_TOKEN },
        { "storage_bearer_token", STORAGE_TOKEN }, { "poll_interval_ms", "10" },
        { "lro_timeout_ms", "5" }, { "retry_base_ms", "1" }, { "retry_max_ms", "8" },
        { "retry_budget_ms", "1000" },
    };
    static const char *const retries[] = { "0", "1", "2", "3" };
    pktcap_provider *p;
    harness_check(pktcap_provider_open(&p, "azure://" WATCHER) == 0, "the provider opens");
    for (size_t i = 0; i < sizeof options / sizeof options[0]; i++)
        harness_check(pktcap_provider_set(p, options[i][0], options[i][1]) == 0,
                      "a provider option is taken");
    harness_check(pktcap_provider_set(p, "retries", retries[config & CFG_RETRIES]) == 0,
                  "retries is taken");
    harness_check(pktcap_provider_set_log_callback(p, PKTCAP_LOG_DEBUG, harness_log, NULL) == 0,
                  "the log callback is taken");
    return p;
}

static void configure(pktcap_session *s, int config)
{
    pktcap_filter *f = NULL;
    harness_check(pktcap_session_set_target(s, VM) == 0, "the target is taken");
    harness_check(pktcap_session_set_time_limit(s, 60000) == 0, "the time limit is taken");
    harness_check(pktcap_session_set_byte_limit(s, 1 << 20) == 0, "the byte limit is taken");
    if (config & CFG_FILTER) {
        harness_check(pktcap_filter_parse(&f, "proto=tcp remote_port=443") == 0, "a filter");
        harness_check(pktcap_session_set_filter(s, f) == 0, "the filter is taken");
        pktcap_filter_free(f);
    }
    if (config & CFG_SAS)
        harness_check(pktcap_session_set(s, "sas", "sv=2022-11-02&sr=b&sp=r&sig=" SAS_SECRET) ==
                          0,
                      "the sas setting is taken");
}

/* Whatever the session is in: stop it if it runs, fetch it if it ended,
 * delete it if it may be. */
static void finish(pktcap_session *s)
{
    int state;
    harness_stop_and_fetch(s);
    state = pktcap_session_state(s);
    if (state == PKTCAP_STATE_COMPLETE || state == PKTCAP_STATE_STOPPED ||
        state == PKTCAP_STATE_FAILED) {
        pktcap_error_clear();
        harness_status(pktcap_session_delete(s), "pktcap_session_delete");
        harness_session(s);
    }
}

static void run(int config)
{
    pktcap_provider *p = open_provider(config);
    pktcap_storage *st;
    pktcap_session *s;
    int rc;

    if (config & CFG_LIST)
        harness_list(p);

    harness_check(pktcap_session_new(&s, p, "fz-capture") == 0, "a session is made");
    configure(s, config);
    harness_check(pktcap_storage_open(&st, config & CFG_BLOB
                                               ? "azblob://fzstore/captures/web1.cap?storage_id="
                                                 ACCOUNT_ID
                                               : "/var/captures/web1.cap") == 0,
                  "the storage target opens");
    harness_check(pktcap_session_set_storage(s, st) == 0, "the storage target is taken");
    pktcap_error_clear();
    rc = harness_status(pktcap_session_start(s), "pktcap_session_start");
    harness_session(s);
    harness_check(rc < 0 ? pktcap_session_state(s) == PKTCAP_STATE_FAILED
                         : pktcap_session_state(s) != PKTCAP_STATE_NEW,
                  "a start leaves NEW (FAILED when it fails)");
    harness_refresh(s, 6);
    finish(s);
    pktcap_session_free(s);
    pktcap_storage_free(st);

    if (config & CFG_OPEN)
        harness_open(p, config & CFG_OPEN_ID ? WATCHER "/packetCaptures/fz-other" : "fz-other",
                     finish);
    pktcap_provider_close(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    harness_init("fuzz_azure");
    harness_secret(ARM_TOKEN, 0);
    harness_secret(STORAGE_TOKEN, 0);
    harness_secret(SAS_SECRET, 0);
    return harness_input(data, size, auth_ok, run);
}
