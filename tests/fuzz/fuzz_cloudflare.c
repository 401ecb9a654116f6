/* libFuzzer target: the Cloudflare provider's handling of PCAPs API
 * responses, every one of them taken from the fuzz input.
 *
 * The first byte configures the run: bits 0-1 the HTTP retries (0-3), bit 2
 * list the captures first, bit 3 open a capture by id afterwards, bit 4 a
 * full capture (type=full, colo_name, an s3:// bucket; else a simple one
 * with a packet limit), bit 5 the bucket-ownership operations
 * (pktcap_provider_call: list, add, validate, delete), bit 6 the e-mail and
 * global API key (else an API token), bit 7 a filter. The rest is the
 * harness's script (harness.h): the responses, in order, to every request —
 * list, the ownership calls, create (POST), refreshes (GET), stop (PUT, then
 * a GET), the download, open (GET) — through the HTTP layer's real code
 * (retries without their delays, status mapping, size caps), the envelope
 * parsing and the state mapping of the backend.
 *
 * Checked after every call (harness.c): 0 or the recorded PKTCAP_E_* code
 * with a message; the state is a pktcap_state_t; no token or key in a
 * message or a log line; credentials only to the API endpoint; a provider
 * call's result is JSON.
 *
 * Run with ./dev fuzz cloudflare [SECONDS]; seeds in corpus/cloudflare/
 * follow the emulator's answers (tests/emulators/cloudflare.py). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <pktcap/pktcap.h>

#include "harness.h"


#define ACCOUNT "0123456789abcdef0123456789abcdef"
#define ENDPOINT "https://api.cloudflare.com/client/v4/"
#define API_TOKEN "fz-cf-token-S3CR3T"
#define API_KEY "fz-cf-key-S3CR3T"
#define EMAIL "fz-owner@example.com"
#define BUCKET "s3://pcaps/edge?region=us-east-1"

enum {
    CFG_RETRIES = 3, CFG_LIST = 1 << 2, CFG_OPEN = 1 << 3, CFG_FULL = 1 << 4,
    CFG_OWNERSHIP = 1 << 5, CFG_KEY = 1 << 6, CFG_FILTER = 1 << 7,
};

static int auth_ok(const char *url)
{
    static const char base[] = ENDPOINT "accounts/" ACCOUNT "/pcaps";
    return strncmp(url, base, sizeof base - 1) == 0 &&
           (url[sizeof base - 1] == '\0' || url[sizeof base - 1] == '/');
}

static pktcap_provider *open_provider(int config)
{
    static const char *const retries[] = { "0", "1", "2", "3" };
    pktcap_provider *p;
    harness_check(pktcap_provider_open(&p, "cloudflare://accounts/" ACCOUNT
                                           "?poll_interval_ms=10&retry_base_ms=1"
                                           "&retry_max_ms=8&retry_budget_ms=1000") == 0,
                  "the provider opens");
    if (config & CFG_KEY)
        harness_check(pktcap_provider_set(p, "email", EMAIL) == 0 &&
                          pktcap_provider_set(p, "api_key", API_KEY) == 0,
                      "the e-mail and key are taken");
    else
        harness_check(pktcap_provider_set(p, "api_token", API_TOKEN) == 0,
                      "the token is taken");
    harness_check(pktcap_provider_set(p, "retries", retries[config & CFG_RETRIES]) == 0,
                  "retries is taken");
    harness_check(pktcap_provider_set_log_callback(p, PKTCAP_LOG_DEBUG, harness_log, NULL) == 0,
                  "the log callback is taken");
    return p;
}

static void call(pktcap_provider *p, const char *operation, const char *arguments)
{
    char *result = (char *)&result;
    json_t *v;
    pktcap_error_clear();
    if (harness_status(pktcap_provider_call(&result, p, operation, arguments),
                       "pktcap_provider_call") < 0) {
        harness_check(result == (char *)&result, "a failed call leaves result untouched");
        return;
    }
    v = json_loads(result, JSON_DECODE_ANY, NULL);
    harness_check(v != NULL, "a call's result is JSON");
    json_decref(v);
    pktcap_free(result);
}

static void ownership(pktcap_provider *p)
{
    call(p, "ownership_list", NULL);
    call(p, "ownership_add", "{\"destination_conf\":\"" BUCKET "\"}");
    call(p, "ownership_validate", "{\"destination_conf\":\"" BUCKET "\","
                                  "\"ownership_challenge\":\"challenge-text\"}");
    call(p, "ownership_delete", "{\"id\":\"0123456789abcdef\"}");
}

static void configure(pktcap_session *s, int config, pktcap_storage *bucket)
{
    pktcap_filter *f = NULL;
    harness_check(pktcap_session_set_target(s, "magic-transit") == 0, "the target is taken");
    if (config & CFG_FULL) {
        harness_check(pktcap_session_set(s, "type", "full") == 0 &&
                          pktcap_session_set(s, "colo_name", "ord02") == 0 &&
                          pktcap_session_set_time_limit(s, 60000) == 0 &&
                          pktcap_session_set_byte_limit(s, 1000000) == 0 &&
                          pktcap_session_set_storage(s, bucket) == 0,
                      "the full capture's settings are taken");
    } else {
        harness_check(pktcap_session_set_time_limit(s, 10000) == 0 &&
                          pktcap_session_set_packet_limit(s, 100) == 0,
                      "the simple capture's settings are taken");
    }
    if (config & CFG_FILTER) {
        harness_check(pktcap_filter_parse(&f, "proto=tcp remote_port=443 "
                                              "remote=192.0.2.7") == 0, "a filter");
        harness_check(pktcap_session_set_filter(s, f) == 0, "the filter is taken");
        pktcap_filter_free(f);
    }
}

static void finish(pktcap_session *s)
{
    harness_stop_and_fetch(s);
    pktcap_error_clear();   /* Cloudflare deletes nothing: refused without a request */
    harness_check(harness_status(pktcap_session_delete(s), "pktcap_session_delete") ==
                      (pktcap_session_state(s) == PKTCAP_STATE_NEW ||
                               pktcap_session_state(s) >= PKTCAP_STATE_COMPLETE
                           ? PKTCAP_E_NOTSUP
                           : PKTCAP_E_STATE),
                  "delete is refused");
}

static void run(int config)
{
    pktcap_provider *p = open_provider(config);
    pktcap_storage *bucket;
    pktcap_session *s;
    int rc;

    if (config & CFG_LIST)
        harness_list(p);
    if (config & CFG_OWNERSHIP)
        ownership(p);

    harness_check(pktcap_storage_open(&bucket, BUCKET) == 0, "the bucket target opens");
    harness_check(pktcap_session_new(&s, p, "fz-capture") == 0, "a session is made");
    configure(s, config, bucket);
    pktcap_error_clear();
    rc = harness_status(pktcap_session_start(s), "pktcap_session_start");
    harness_session(s);
    harness_check(rc < 0 ? pktcap_session_state(s) == PKTCAP_STATE_FAILED
                         : pktcap_session_state(s) != PKTCAP_STATE_NEW,
                  "a start leaves NEW (FAILED when it fails)");
    harness_refresh(s, 6);
    finish(s);
    pktcap_session_free(s);
    pktcap_storage_free(bucket);

    if (config & CFG_OPEN)
        harness_open(p, "fedcba9876543210fedcba9876543210", finish);
    pktcap_provider_close(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    harness_init("fuzz_cloudflare");
    harness_secret(API_TOKEN, 0);
    harness_secret(API_KEY, 0);
    harness_secret(EMAIL, 1);
    return harness_input(data, size, auth_ok, run);
}
