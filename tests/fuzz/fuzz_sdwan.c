/* libFuzzer target: the Citrix SD-WAN provider's handling of NITRO
 * responses, every one of them taken from the fuzz input.
 *
 * The first byte configures the run: bits 0-1 the HTTP retries (0-3), bit 2
 * a second capture after the first (the first's fetch is then refused
 * without a request), bit 3 a packet limit (max_packets 1000, else MAX),
 * bit 4 a rule filter, bit 5 a raw-BPF filter (bit 4 wins), bit 6
 * scheme=http. The rest is the harness's script (harness.h): the responses,
 * in order, to the login (v2, v1 after a 404), the capture request (sent
 * from the session's capture thread), the download, and the logout at
 * close — through the HTTP layer's real code (retries without their
 * delays, the 401 → log in again → repeat path, size caps, downloads), the
 * backend's two response shapes and its parsing of summary rows. (Cookies
 * are libcurl's: a test transport's Set-Cookie headers reach no jar.)
 *
 * Checked (harness.c): 0 or the recorded PKTCAP_E_* code with a message;
 * the state is a pktcap_state_t and the capture thread always ends the
 * session (COMPLETE or FAILED); summaries can be read back; the password
 * never in a message or a log line; the operations the appliance lacks
 * (stop, delete, list, open) send nothing.
 *
 * Run with ./dev fuzz sdwan [SECONDS]; seeds in corpus/sdwan/ follow the
 * emulator's answers (tests/emulators/sdwan.py). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pktcap/pktcap.h>

#include "harness.h"


#define PASSWORD "fz-sdwan-pw-S3CR3T"

enum {
    CFG_RETRIES = 3, CFG_SECOND = 1 << 2, CFG_PACKETS = 1 << 3, CFG_FILTER = 1 << 4,
    CFG_BPF = 1 << 5, CFG_HTTP = 1 << 6,
};

static int auth_ok(const char *url)
{
    (void)url;   /* the credential is the password in the login body and the cookies */
    return 0;
}

static pktcap_provider *open_provider(int config)
{
    static const char *const retries[] = { "0", "1", "2", "3" };
    pktcap_provider *p;
    harness_check(pktcap_provider_open(&p, config & CFG_HTTP
                                               ? "sdwan://sdwan.example:8080?scheme=http"
                                               : "sdwan://sdwan.example") == 0,
                  "the provider opens");
    harness_check(pktcap_provider_set(p, "username", "admin") == 0 &&
                      pktcap_provider_set(p, "password", PASSWORD) == 0 &&
                      pktcap_provider_set(p, "retry_base_ms", "1") == 0 &&
                      pktcap_provider_set(p, "retry_max_ms", "8") == 0 &&
                      pktcap_provider_set(p, "retry_budget_ms", "1000") == 0 &&
                      pktcap_provider_set(p, "retries", retries[config & CFG_RETRIES]) == 0,
                  "the options are taken");
    harness_check(pktcap_provider_set_log_callback(p, PKTCAP_LOG_DEBUG, harness_log, NULL) == 0,
                  "the log callback is taken");
    return p;
}

/* A new session, started and waited for: the capture thread ends it. */
static pktcap_session *capture(pktcap_provider *p, const char *name, int config)
{
    pktcap_session *s;
    pktcap_filter *f = NULL;
    int rc, state;
    harness_check(pktcap_session_new(&s, p, name) == 0, "a session is made");
    harness_check(pktcap_session_set_target(s, "MGMT--1/2") == 0 &&
                      pktcap_session_set_time_limit(s, 5000) == 0,
                  "the target and duration are taken");
    if (config & CFG_PACKETS)
        harness_check(pktcap_session_set_packet_limit(s, 1000) == 0, "the packet limit");
    if (config & (CFG_FILTER | CFG_BPF)) {
        harness_check((config & CFG_FILTER
                           ? pktcap_filter_parse(&f, "proto=udp remote_port=53")
                           : pktcap_filter_new_bpf(&f, "udp port 53 and host 192.0.2.1")) == 0,
                      "a filter");
        harness_check(pktcap_session_set_filter(s, f) == 0, "the filter is taken");
        pktcap_filter_free(f);
    }
    pktcap_error_clear();
    rc = harness_status(pktcap_session_start(s), "pktcap_session_start");
    harness_session(s);
    if (rc < 0) {
        harness_check(pktcap_session_state(s) == PKTCAP_STATE_FAILED, "a failed start is FAILED");
        return s;
    }
    pktcap_error_clear();
    rc = harness_status(pktcap_session_wait(s, 10000), "pktcap_session_wait");
    harness_check(rc == 0, "the capture thread ends the session");
    harness_session(s);
    state = pktcap_session_state(s);
    harness_check(state == PKTCAP_STATE_COMPLETE || state == PKTCAP_STATE_FAILED,
                  "a capture ends COMPLETE or FAILED");
    for (size_t i = 0; i <= pktcap_session_summary_count(s); i++) {
        pktcap_summary sum;
        memset(&sum, 0, sizeof sum);
        sum.struct_size = sizeof sum;
        pktcap_error_clear();
        rc = harness_status(pktcap_session_summary(&sum, s, i), "pktcap_session_summary");
        harness_check(i < pktcap_session_summary_count(s) ? rc == 0 : rc == PKTCAP_E_END,
                      "every summary can be read, none past the end");
        harness_check(rc < 0 || (sum.struct_size == sizeof sum && sum.reserved == 0 &&
                                 memchr(sum.protocol, '\0', sizeof sum.protocol) &&
                                 sum.time_digits <= 9 && sum.ts_nsec < 1000000000u &&
                                 (sum.ip_version == 0 || sum.ip_version == 4 ||
                                  sum.ip_version == 6)),
                      "a summary keeps the promises of summary.h");
    }
    return s;
}

/* What the appliance has no request for is refused without one. */
static void refused(pktcap_provider *p, pktcap_session *s)
{
    unsigned before = harness_requests();
    pktcap_session_list *l = NULL;
    pktcap_session *o = NULL;
    pktcap_error_clear();
    harness_check(harness_status(pktcap_session_delete(s), "pktcap_session_delete") < 0 &&
                      harness_status(pktcap_provider_list_sessions(&l, p),
                                     "pktcap_provider_list_sessions") == PKTCAP_E_NOTSUP &&
                      harness_status(pktcap_session_open(&o, p, "x"), "pktcap_session_open") ==
                          PKTCAP_E_NOTSUP,
                  "delete, list and open are refused");
    harness_check(harness_requests() == before, "a refused operation sends nothing");
}

static void run(int config)
{
    pktcap_provider *p = open_provider(config);
    pktcap_session *first, *second;

    first = capture(p, "fz-capture", config);
    harness_fetch(first);
    refused(p, first);
    if (config & CFG_SECOND) {
        unsigned before;
        second = capture(p, "fz-second", config);
        if (pktcap_session_state(second) == PKTCAP_STATE_COMPLETE &&
            pktcap_session_state(first) == PKTCAP_STATE_COMPLETE) {
            pktcap_storage *st;
            harness_check(pktcap_storage_open(&st, "mem:") == 0, "a mem: target opens");
            before = harness_requests();
            pktcap_error_clear();
            harness_check(harness_status(pktcap_session_fetch(first, st),
                                         "pktcap_session_fetch") == PKTCAP_E_NOTFOUND &&
                              harness_requests() == before,
                          "a replaced capture is not fetched");
            pktcap_storage_free(st);
        }
        harness_fetch(second);
        pktcap_session_free(second);
    }
    pktcap_session_free(first);
    pktcap_provider_close(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    harness_init("fuzz_sdwan");
    harness_secret(PASSWORD, 0);
    return harness_input(data, size, auth_ok, run);
}
