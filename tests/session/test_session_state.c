/* The provider and session lifecycle without capturing: opening providers,
 * names, settings, lists, and the state machine's refusals. None of this
 * needs root (a start on an unknown interface fails the same way with or
 * without it). The refusals of running and finished sessions are in
 * test_session_live.c. */
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <pktcap/pktcap.h>
#include <pktcap/session.h>

static const char *msg(void)
{
    return pktcap_error_message(pktcap_error_last());
}

#define assert_message(expected) assert_string_equal(msg(), (expected))
#define assert_message_has(part)                                                          \
    do {                                                                                  \
        if (!strstr(msg(), (part)))                                                       \
            fail_msg("message \"%s\" lacks \"%s\"", msg(), (part));                       \
    } while (0)

static pktcap_provider *open_local(void)
{
    pktcap_provider *p = NULL;
    assert_int_equal(pktcap_provider_open(&p, "local:"), 0);
    assert_non_null(p);
    return p;
}

static void test_unknown_scheme(void **state)
{
    pktcap_provider *p = NULL;
    (void)state;
    assert_int_equal(pktcap_provider_open(&p, "gcp://project/zone"), PKTCAP_E_NOTSUP);
    assert_null(p);
    assert_message_has("\"gcp:\"");
    assert_message_has("supported: local:, azure:, cloudflare:, sdwan:)");
    assert_int_equal(pktcap_provider_open(&p, "eth0"), PKTCAP_E_NOTSUP);
    assert_message_has("local:");
    assert_int_equal(pktcap_provider_open(&p, NULL), PKTCAP_E_INVAL);
    assert_int_equal(pktcap_provider_open(NULL, "local:"), PKTCAP_E_INVAL);
}

static void test_local_provider(void **state)
{
    pktcap_provider *p;
    const uint32_t caps = PKTCAP_CAP_RULE_FILTER | PKTCAP_CAP_BPF_FILTER | PKTCAP_CAP_SNAPLEN |
                          PKTCAP_CAP_BYTE_LIMIT | PKTCAP_CAP_PACKET_LIMIT |
                          PKTCAP_CAP_TIME_LIMIT | PKTCAP_CAP_STOP | PKTCAP_CAP_DELETE |
                          PKTCAP_CAP_LIST | PKTCAP_CAP_FETCH | PKTCAP_CAP_PACKET_CALLBACK |
                          PKTCAP_CAP_MULTI_TARGET;
    (void)state;
    p = open_local();
    assert_string_equal(pktcap_provider_kind(p), "local");
    assert_int_equal(pktcap_provider_caps(p), caps);
    assert_int_equal(pktcap_provider_caps(p) & PKTCAP_CAP_OPEN, 0);
    assert_int_equal(pktcap_provider_set(p, "buffer_size", "8Mi"), 0);
    assert_int_equal(pktcap_provider_set(p, "promisc", "true"), 0);
    assert_int_equal(pktcap_provider_set(p, "immediate", "false"), 0);
    assert_int_equal(pktcap_provider_set(p, "timeout_ms", "20"), 0);
    assert_int_equal(pktcap_provider_set(p, "buffer_size", "12"), PKTCAP_E_INVAL);
    assert_message_has("buffer_size");
    assert_int_equal(pktcap_provider_set(p, "nosuch", "1"), PKTCAP_E_INVAL);
    assert_message_has("nosuch");
    assert_int_equal(pktcap_provider_set(p, "promisc", "maybe"), PKTCAP_E_INVAL);
    {
        /* No provider-specific operations, no provider summaries. */
        char *result = (char *)0x1;
        pktcap_session *s;
        pktcap_summary sum;
        assert_int_equal(pktcap_provider_call(&result, p, "ownership_list", NULL), PKTCAP_E_NOTSUP);
        assert_string_equal(pktcap_error_message(pktcap_error_last()),
                            "the local provider has no operation \"ownership_list\" (it has none)");
        assert_ptr_equal(result, (char *)0x1);
        assert_int_equal(pktcap_provider_call(&result, p, NULL, NULL), PKTCAP_E_INVAL);
        assert_int_equal(pktcap_session_new(&s, p, "sum"), 0);
        assert_int_equal(pktcap_session_summary_count(s), 0);
        assert_int_equal(pktcap_session_summary_count(NULL), 0);
        memset(&sum, 0, sizeof sum);
        sum.struct_size = sizeof sum;
        assert_int_equal(pktcap_session_summary(&sum, s, 0), PKTCAP_E_END);
        sum.struct_size = 8;
        assert_int_equal(pktcap_session_summary(&sum, s, 0), PKTCAP_E_INVAL);
        assert_message_has("struct_size 8 is smaller than");
        assert_string_equal(pktcap_session_target(s), "");
        assert_int_equal(pktcap_session_set_target(s, "lo"), 0);
        assert_string_equal(pktcap_session_target(s), "lo");
        assert_null(pktcap_session_target(NULL));
        pktcap_session_free(s);
    }
    pktcap_provider_close(p);
    pktcap_provider_close(NULL);

    /* Query parameters are provider options. */
    assert_int_equal(pktcap_provider_open(&p, "local:?buffer_size=16M&promisc=false"), 0);
    pktcap_provider_close(p);
    p = NULL;
    assert_int_equal(pktcap_provider_open(&p, "local:?bogus=1"), PKTCAP_E_INVAL);
    assert_null(p);
    assert_int_equal(pktcap_provider_open(&p, "local:eth0"), PKTCAP_E_INVAL);
    assert_null(p);
    assert_int_equal(pktcap_provider_caps(NULL), 0);
    assert_null(pktcap_provider_kind(NULL));
}

static void test_session_names(void **state)
{
    pktcap_provider *p = open_local();
    pktcap_session *s = NULL, *t = NULL;
    char long_name[90];
    regex_t re;
    (void)state;

    assert_int_equal(pktcap_session_new(&s, p, "web-1_a.b"), 0);
    assert_string_equal(pktcap_session_name(s), "web-1_a.b");
    assert_string_equal(pktcap_session_id(s), "");
    assert_int_equal(pktcap_session_state(s), PKTCAP_STATE_NEW);
    assert_string_equal(pktcap_session_native_status(s), "");
    assert_string_equal(pktcap_session_stop_reason(s), "");
    assert_string_equal(pktcap_session_error_text(s), "");
    pktcap_session_free(s);

    memset(long_name, 'a', 80);
    long_name[80] = '\0';
    assert_int_equal(pktcap_session_new(&s, p, long_name), 0);
    pktcap_session_free(s);
    long_name[80] = 'a';
    long_name[81] = '\0';
    s = NULL;
    assert_int_equal(pktcap_session_new(&s, p, long_name), PKTCAP_E_INVAL);
    assert_null(s);
    assert_message_has("1-80 characters");
    assert_int_equal(pktcap_session_new(&s, p, ""), PKTCAP_E_INVAL);
    assert_int_equal(pktcap_session_new(&s, p, "a b"), PKTCAP_E_INVAL);
    assert_message_has("character 2 (' ') is not allowed");
    assert_int_equal(pktcap_session_new(&s, p, "-lead"), PKTCAP_E_INVAL);
    assert_int_equal(pktcap_session_new(&s, p, "a/b"), PKTCAP_E_INVAL);
    assert_int_equal(pktcap_session_new(&s, p, "caf\xc3\xa9"), PKTCAP_E_INVAL);
    assert_null(s);

    /* Generated names: pktcap-YYYYMMDD-hhmmss-N, unique. */
    assert_int_equal(pktcap_session_new(&s, p, NULL), 0);
    assert_int_equal(pktcap_session_new(&t, p, NULL), 0);
    assert_int_equal(regcomp(&re, "^pktcap-[0-9]{8}-[0-9]{6}-[0-9]+$", REG_EXTENDED | REG_NOSUB),
                     0);
    assert_int_equal(regexec(&re, pktcap_session_name(s), 0, NULL, 0), 0);
    assert_int_equal(regexec(&re, pktcap_session_name(t), 0, NULL, 0), 0);
    regfree(&re);
    assert_string_not_equal(pktcap_session_name(s), pktcap_session_name(t));
    pktcap_session_free(s);
    pktcap_session_free(t);
    pktcap_session_free(NULL);

    assert_int_equal(pktcap_session_new(NULL, p, "x"), PKTCAP_E_INVAL);
    assert_int_equal(pktcap_session_new(&s, NULL, "x"), PKTCAP_E_INVAL);
    /* The local provider cannot open sessions made elsewhere. */
    assert_int_equal(pktcap_session_open(&s, p, "x"), PKTCAP_E_NOTSUP);
    pktcap_provider_close(p);
}

static void test_list_sessions(void **state)
{
    pktcap_provider *p = open_local();
    pktcap_session *a, *b;
    pktcap_session_list *l;
    int seen_a = 0, seen_b = 0;
    size_t i;
    (void)state;

    assert_int_equal(pktcap_provider_list_sessions(&l, p), 0);
    assert_int_equal(pktcap_session_list_count(l), 0);
    pktcap_session_list_free(l);

    assert_int_equal(pktcap_session_new(&a, p, "alpha"), 0);
    assert_int_equal(pktcap_session_new(&b, p, "beta"), 0);
    assert_int_equal(pktcap_provider_list_sessions(&l, p), 0);
    assert_int_equal(pktcap_session_list_count(l), 2);
    for (i = 0; i < 2; i++) {
        const char *name = pktcap_session_list_name(l, i);
        seen_a += strcmp(name, "alpha") == 0;
        seen_b += strcmp(name, "beta") == 0;
        assert_int_equal(pktcap_session_list_state(l, i), PKTCAP_STATE_NEW);
        assert_string_equal(pktcap_session_list_id(l, i), "");
        assert_string_equal(pktcap_session_list_native_status(l, i), "");
    }
    assert_int_equal(seen_a, 1);
    assert_int_equal(seen_b, 1);
    assert_null(pktcap_session_list_name(l, 2));
    assert_int_equal(pktcap_session_list_state(l, 2), PKTCAP_E_INVAL);
    pktcap_session_list_free(l);

    pktcap_session_free(a);
    assert_int_equal(pktcap_provider_list_sessions(&l, p), 0);
    assert_int_equal(pktcap_session_list_count(l), 1);
    assert_string_equal(pktcap_session_list_name(l, 0), "beta");
    pktcap_session_list_free(l);
    pktcap_session_list_free(NULL);
    pktcap_session_free(b);
    pktcap_provider_close(p);
}

static void test_list_targets(void **state)
{
    pktcap_provider *p = open_local();
    pktcap_target_list *l;
    size_t i, n;
    int lo = -1, any = -1;
    (void)state;
    assert_int_equal(pktcap_provider_list_targets(&l, p), 0);
    n = pktcap_target_list_count(l);
    assert_true(n >= 1);
    for (i = 0; i < n; i++) {
        assert_non_null(pktcap_target_list_name(l, i));
        assert_non_null(pktcap_target_list_description(l, i));
        if (strcmp(pktcap_target_list_name(l, i), "lo") == 0)
            lo = (int)i;
        if (strcmp(pktcap_target_list_name(l, i), "any") == 0)
            any = (int)i;
    }
    if (lo < 0)
        fail_msg("\"lo\" is not among the %zu targets", n);
    assert_true(pktcap_target_list_flags(l, (size_t)lo) & PKTCAP_TARGET_LOOPBACK);
    assert_true(pktcap_target_list_flags(l, (size_t)lo) & PKTCAP_TARGET_UP);
    assert_true(any >= 0);   /* libpcap lists "any" on Linux */
    assert_null(pktcap_target_list_name(l, n));
    assert_int_equal(pktcap_target_list_flags(l, n), 0);
    pktcap_target_list_free(l);
    pktcap_target_list_free(NULL);
    pktcap_provider_close(p);
}

static void test_state_names(void **state)
{
    static const char *const names[] = {"NEW", "PENDING", "RUNNING", "STOPPING", "PROCESSING",
                                        "COMPLETE", "STOPPED", "FAILED"};
    int i;
    (void)state;
    for (i = 0; i < 8; i++)
        assert_string_equal(pktcap_state_name(i), names[i]);
    assert_string_equal(pktcap_state_name(8), "UNKNOWN");
    assert_string_equal(pktcap_state_name(-1), "UNKNOWN");
    assert_int_equal(pktcap_session_state(NULL), PKTCAP_E_INVAL);
}

/* What a NEW session refuses: everything that needs a started capture. */
static void test_new_refusals(void **state)
{
    pktcap_provider *p = open_local();
    pktcap_storage *mem;
    pktcap_session *s;
    (void)state;
    assert_int_equal(pktcap_storage_open(&mem, "mem:"), 0);
    assert_int_equal(pktcap_session_new(&s, p, "fresh"), 0);

    assert_int_equal(pktcap_session_wait(s, 0), PKTCAP_E_STATE);
    assert_message("cannot wait for session \"fresh\" in state NEW (allowed in any state "
                   "but NEW)");
    assert_int_equal(pktcap_session_stop(s), PKTCAP_E_STATE);
    assert_message("cannot stop session \"fresh\" in state NEW (allowed in PENDING or RUNNING)");
    assert_int_equal(pktcap_session_fetch(s, mem), PKTCAP_E_STATE);
    assert_message("cannot fetch session \"fresh\" in state NEW (allowed in COMPLETE or "
                   "STOPPED)");
    assert_int_equal(pktcap_session_refresh(s), PKTCAP_E_STATE);
    assert_message("cannot refresh session \"fresh\" in state NEW (allowed in any state "
                   "but NEW)");
    /* No target yet. */
    assert_int_equal(pktcap_session_start(s), PKTCAP_E_INVAL);
    assert_message("cannot start session \"fresh\": no target (pktcap_session_set_target)");
    assert_int_equal(pktcap_session_state(s), PKTCAP_STATE_NEW);
    /* Deleting a NEW session is fine (nothing to delete). */
    assert_int_equal(pktcap_session_delete(s), 0);
    assert_int_equal(pktcap_session_state(s), PKTCAP_STATE_NEW);
    /* Nothing happened: statistics are zero. */
    assert_int_equal(pktcap_session_stat(s, PKTCAP_STAT_PACKETS), 0);
    assert_int_equal(pktcap_session_stat(s, PKTCAP_STAT_ELAPSED_MS), 0);
    assert_int_equal(pktcap_session_stat(s, 99), 0);
    assert_int_equal(pktcap_session_cancel(s), 0);
    assert_int_equal(pktcap_session_cancel(NULL), PKTCAP_E_INVAL);

    pktcap_session_free(s);
    pktcap_storage_free(mem);
    pktcap_provider_close(p);
}

static void test_settings(void **state)
{
    pktcap_provider *p = open_local();
    pktcap_session *s;
    pktcap_filter *f, *bpf;
    pktcap_storage *mem;
    (void)state;
    assert_int_equal(pktcap_session_new(&s, p, "cfg"), 0);
    assert_int_equal(pktcap_filter_parse(&f, "proto=udp local_port=53"), 0);
    assert_int_equal(pktcap_filter_new_bpf(&bpf, "udp port 53"), 0);
    assert_int_equal(pktcap_storage_open(&mem, "mem:"), 0);

    assert_int_equal(pktcap_session_set_target(s, "lo"), 0);
    assert_int_equal(pktcap_session_set_target(s, ""), PKTCAP_E_INVAL);
    assert_int_equal(pktcap_session_set_target(s, NULL), PKTCAP_E_INVAL);
    assert_int_equal(pktcap_session_set_snaplen(s, 96), 0);
    assert_int_equal(pktcap_session_set_byte_limit(s, 1000000), 0);
    assert_int_equal(pktcap_session_set_time_limit(s, 5000), 0);
    assert_int_equal(pktcap_session_set_packet_limit(s, 10), 0);
    assert_int_equal(pktcap_session_set_filter(s, f), 0);
    assert_int_equal(pktcap_session_set_filter(s, bpf), 0);
    assert_int_equal(pktcap_session_set_filter(s, NULL), 0);
    assert_int_equal(pktcap_session_set_storage(s, mem), 0);
    assert_int_equal(pktcap_session_set_storage(s, NULL), 0);

    assert_int_equal(pktcap_session_set(s, "buffer_size", "32Mi"), 0);
    assert_int_equal(pktcap_session_set(s, "buffer_size", "1"), PKTCAP_E_INVAL);
    assert_message_has("buffer_size");
    assert_int_equal(pktcap_session_set(s, "buffer_size", "lots"), PKTCAP_E_INVAL);
    assert_int_equal(pktcap_session_set(s, "promisc", "yes"), 0);
    assert_int_equal(pktcap_session_set(s, "promisc", "perhaps"), PKTCAP_E_INVAL);
    assert_int_equal(pktcap_session_set(s, "immediate", "true"), 0);
    assert_int_equal(pktcap_session_set(s, "timeout_ms", "0"), PKTCAP_E_INVAL);
    assert_int_equal(pktcap_session_set(s, "timeout_ms", "50"), 0);
    assert_int_equal(pktcap_session_set(s, "colour", "blue"), PKTCAP_E_INVAL);
    assert_message_has("\"colour\"");
    assert_int_equal(pktcap_session_set(s, NULL, "x"), PKTCAP_E_INVAL);

    pktcap_session_free(s);
    pktcap_filter_free(f);
    pktcap_filter_free(bpf);
    pktcap_storage_free(mem);
    pktcap_provider_close(p);
}

/* A start that fails leaves the session FAILED with the error as its text;
 * a FAILED session refuses everything but wait (at once), delete and free. */
static void test_failed_start(void **state)
{
    pktcap_provider *p = open_local();
    pktcap_storage *mem;
    pktcap_session *s;
    int st = -1;
    (void)state;
    assert_int_equal(pktcap_storage_open(&mem, "mem:"), 0);
    assert_int_equal(pktcap_session_new(&s, p, "ghost"), 0);
    assert_int_equal(pktcap_session_set_target(s, "pktcap-nosuch0"), 0);
    assert_int_equal(pktcap_session_start(s), PKTCAP_E_NOTFOUND);
    assert_message_has("no interface \"pktcap-nosuch0\" (available: ");
    assert_message_has("lo");
    assert_int_equal(pktcap_session_state(s), PKTCAP_STATE_FAILED);
    assert_string_equal(pktcap_session_error_text(s), msg());

    assert_int_equal(pktcap_session_set_target(s, "lo"), PKTCAP_E_STATE);
    assert_message("cannot configure session \"ghost\" in state FAILED (allowed in NEW)");
    assert_int_equal(pktcap_session_set_packet_limit(s, 1), PKTCAP_E_STATE);
    assert_int_equal(pktcap_session_set(s, "promisc", "1"), PKTCAP_E_STATE);
    assert_int_equal(pktcap_session_start(s), PKTCAP_E_STATE);
    assert_message("cannot start session \"ghost\" in state FAILED (allowed in NEW)");
    assert_int_equal(pktcap_session_stop(s), PKTCAP_E_STATE);
    assert_message("cannot stop session \"ghost\" in state FAILED (allowed in PENDING or "
                   "RUNNING)");
    assert_int_equal(pktcap_session_fetch(s, mem), PKTCAP_E_STATE);
    assert_message("cannot fetch session \"ghost\" in state FAILED (allowed in COMPLETE or "
                   "STOPPED)");
    assert_int_equal(pktcap_session_wait(s, 0), 0);     /* terminal: returns at once */
    assert_int_equal(pktcap_session_refresh(s), 0);
    st = pktcap_session_state(s);
    assert_int_equal(st, PKTCAP_STATE_FAILED);
    assert_int_equal(pktcap_session_delete(s), 0);
    pktcap_session_free(s);

    /* Bad target lists fail the start the same way. */
    assert_int_equal(pktcap_session_new(&s, p, "twice"), 0);
    assert_int_equal(pktcap_session_set_target(s, "lo,lo"), 0);
    assert_int_equal(pktcap_session_start(s), PKTCAP_E_INVAL);
    assert_message_has("listed twice");
    assert_int_equal(pktcap_session_state(s), PKTCAP_STATE_FAILED);
    pktcap_session_free(s);
    assert_int_equal(pktcap_session_new(&s, p, "empty"), 0);
    assert_int_equal(pktcap_session_set_target(s, "lo,,any"), 0);
    assert_int_equal(pktcap_session_start(s), PKTCAP_E_INVAL);
    assert_message_has("empty interface name");
    pktcap_session_free(s);
    /* One unknown name in a list names that one. */
    assert_int_equal(pktcap_session_new(&s, p, "partly"), 0);
    assert_int_equal(pktcap_session_set_target(s, "lo,pktcap-nosuch1"), 0);
    assert_int_equal(pktcap_session_start(s), geteuid() == 0 ? PKTCAP_E_NOTFOUND
                                                              : PKTCAP_E_PERM);
    if (geteuid() == 0)
        assert_message_has("no interface \"pktcap-nosuch1\"");
    else
        assert_message_has("CAP_NET_RAW");
    pktcap_session_free(s);

    pktcap_storage_free(mem);
    pktcap_provider_close(p);
}

/* The state callback hears the failed start. */
static int seen_states[8];
static void on_state(pktcap_session *s, int st, void *userdata)
{
    (void)s;
    (void)userdata;
    if (st >= 0 && st < 8)
        seen_states[st]++;
}

static void test_stats_unknown_before_start(void **state)
{
    pktcap_provider *p = open_local();
    pktcap_session *s = NULL;
    (void)state;
    assert_int_equal(pktcap_session_new(&s, p, "counting"), 0);
    /* Nothing is counted before the capture starts: known is 0, value 0. */
    for (int stat = PKTCAP_STAT_PACKETS; stat <= PKTCAP_STAT_ELAPSED_MS; stat++) {
        assert_int_equal(pktcap_session_stat_known(s, stat), 0);
        assert_int_equal(pktcap_session_stat(s, stat), 0);
    }
    assert_int_equal(pktcap_session_stat_known(s, -1), PKTCAP_E_INVAL);
    assert_message("pktcap_session_stat_known: unknown statistic -1 (0 to 5)");
    assert_int_equal(pktcap_session_stat_known(s, PKTCAP_STAT_ELAPSED_MS + 1), PKTCAP_E_INVAL);
    assert_message("pktcap_session_stat_known: unknown statistic 6 (0 to 5)");
    assert_int_equal(pktcap_session_stat_known(NULL, PKTCAP_STAT_PACKETS), PKTCAP_E_INVAL);
    assert_message("pktcap_session_stat_known: session is NULL");
    /* The details say so with null. */
    char *details = NULL;
    assert_int_equal(pktcap_session_details(&details, s), 0);
    static const char *const nulls[] = {
        "\"packets\": null,", "\"bytes\": null,", "\"wire_bytes\": null,",
        "\"dropped\": null,", "\"if_dropped\": null,", "\"elapsed_ms\": null\n",
    };
    for (size_t i = 0; i < sizeof nulls / sizeof nulls[0]; i++)
        if (!strstr(details, nulls[i]))
            fail_msg("details lack %s:\n%s", nulls[i], details);
    pktcap_free(details);
    pktcap_session_free(s);
    pktcap_provider_close(p);
}

static void test_state_callback_on_failure(void **state)
{
    pktcap_provider *p = open_local();
    pktcap_session *s;
    (void)state;
    memset(seen_states, 0, sizeof seen_states);
    assert_int_equal(pktcap_session_new(&s, p, "cb"), 0);
    assert_int_equal(pktcap_session_set_state_callback(s, on_state, NULL), 0);
    assert_int_equal(pktcap_session_set_target(s, "pktcap-nosuch2"), 0);
    assert_int_equal(pktcap_session_start(s), PKTCAP_E_NOTFOUND);
    assert_int_equal(seen_states[PKTCAP_STATE_FAILED], 1);
    assert_int_equal(seen_states[PKTCAP_STATE_RUNNING], 0);
    assert_int_equal(pktcap_session_set_state_callback(s, NULL, NULL), PKTCAP_E_STATE);
    pktcap_session_free(s);
    pktcap_provider_close(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unknown_scheme),
        cmocka_unit_test(test_local_provider),
        cmocka_unit_test(test_session_names),
        cmocka_unit_test(test_list_sessions),
        cmocka_unit_test(test_list_targets),
        cmocka_unit_test(test_state_names),
        cmocka_unit_test(test_new_refusals),
        cmocka_unit_test(test_settings),
        cmocka_unit_test(test_failed_start),
        cmocka_unit_test(test_stats_unknown_before_start),
        cmocka_unit_test(test_state_callback_on_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
