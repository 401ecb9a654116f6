/* Filters: the one-line syntax and Azure notation (every notation case and
 * every validation message), the typed setters, round trips, and the text,
 * Azure, Cloudflare and SD-WAN renderings. Evaluation and the BPF rendering are
 * tested in tests/filter/. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pktcap/pktcap.h>
#include "core/alloc.h"

static const char *last_message(void)
{
    return pktcap_error_message(pktcap_error_last());
}

/* parse(text) then to_string must give `canonical`; parse(canonical) is equal. */
static void check_canonical(const char *text, const char *canonical)
{
    pktcap_filter *f = NULL, *g = NULL;
    char *s = NULL;
    if (pktcap_filter_parse(&f, text) != 0)
        fail_msg("parse(\"%s\") failed: %s", text, last_message());
    assert_int_equal(pktcap_filter_to_string(&s, f), 0);
    if (strcmp(s, canonical) != 0)
        fail_msg("parse(\"%s\") renders \"%s\", expected \"%s\"", text, s, canonical);
    assert_int_equal(pktcap_filter_parse(&g, s), 0);
    assert_int_equal(pktcap_filter_equal(f, g), 1);
    pktcap_free(s);
    pktcap_filter_free(f);
    pktcap_filter_free(g);
}

static void notation_cases_parse_and_render_canonically(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        /* empty filter */
        { "", "" },
        { "  \t ", "" },
        /* protocols, any case */
        { "proto=tcp", "proto=tcp" },
        { "proto=UDP", "proto=udp" },
        { "proto=Any", "proto=any" },
        { "protocol=TCP", "proto=tcp" },
        /* single, range, list (trailing ';' optional) — Azure's examples */
        { "local=127.0.0.1", "local=127.0.0.1" },
        { "local=127.0.0.1-127.0.0.255", "local=127.0.0.1-127.0.0.255" },
        { "local=127.0.0.1;127.0.0.5;", "local=127.0.0.1;127.0.0.5" },
        { "local=127.0.0.1;127.0.0.5", "local=127.0.0.1;127.0.0.5" },
        { "local_port=80", "local_port=80" },
        { "local_port=80-85", "local_port=80-85" },
        { "remote_port=80;443;", "remote_port=80;443" },
        { "remote_port=0;65535", "remote_port=0;65535" },
        { "remote_port=0-65535", "remote_port=0-65535" },
        { "remote_port=080", "remote_port=80" },
        /* CIDR expands to a range and renders back as CIDR when exact */
        { "remote=10.0.0.0/8", "remote=10.0.0.0/8" },
        { "remote=10.0.0.0-10.255.255.255", "remote=10.0.0.0/8" },
        { "remote=10.0.0.7/32", "remote=10.0.0.7" },
        { "remote=0.0.0.0/0", "remote=0.0.0.0/0" },
        { "remote=192.168.1.0/24;10.1.2.3;172.16.0.0-172.16.0.9",
          "remote=192.168.1.0/24;10.1.2.3;172.16.0.0-172.16.0.9" },
        /* IPv6 */
        { "remote=2001:db8::/64", "remote=2001:db8::/64" },
        { "remote=2001:DB8:0:0::1", "remote=2001:db8::1" },
        { "local=2001:db8::1-2001:db8::ff", "local=2001:db8::1-2001:db8::ff" },
        { "local=::/0", "local=::/0" },
        { "local=::ffff:10.0.0.1", "local=::ffff:10.0.0.1" },
        { "local=10.0.0.1;2001:db8::1;", "local=10.0.0.1;2001:db8::1" },
        /* all fields, canonical order, Azure's key names */
        { "remote_port=443 local_port=80 remote=20.147.11.23 local=10.100.1.10 proto=tcp",
          "proto=tcp local=10.100.1.10 remote=20.147.11.23 local_port=80 remote_port=443" },
        { "protocol=Any localIPAddress=10.100.1.10 localPort=80 remoteIPAddress=20.147.11.23 "
          "remotePort=100-120",
          "local=10.100.1.10 remote=20.147.11.23 local_port=80 remote_port=100-120" },
        /* rules */
        { "proto=tcp local=10.0.0.1-10.0.0.9 remote_port=80;443 or proto=udp remote=2001:db8::/64",
          "proto=tcp local=10.0.0.1-10.0.0.9 remote_port=80;443 or proto=udp remote=2001:db8::/64" },
        { "  proto=tcp\tOR  proto=udp \n", "proto=tcp or proto=udp" },
        { "proto=any or proto=tcp", "proto=any or proto=tcp" },
        /* a raw BPF filter */
        { "bpf:tcp port 80", "bpf:tcp port 80" },
    };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_canonical(cases[i][0], cases[i][1]);
}

/* Every validation error: the code and the exact message. */
static void validation_errors_name_the_field_and_the_text(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int code;
        const char *message;
    } cases[] = {
        { "local=10.0.0.300", PKTCAP_E_INVAL,
          "rule 1, local: not an IPv4 or IPv6 address: \"10.0.0.300\"" },
        { "remote=2001:db8::g", PKTCAP_E_INVAL,
          "rule 1, remote: not an IPv4 or IPv6 address: \"2001:db8::g\"" },
        { "remote=fe80::1%eth0", PKTCAP_E_INVAL,
          "rule 1, remote: not an IPv4 or IPv6 address: \"fe80::1%eth0\"" },
        { "local=10.0.0.9-10.0.0.1", PKTCAP_E_INVAL,
          "rule 1, local: reversed range (the first address exceeds the last): "
          "\"10.0.0.9-10.0.0.1\"" },
        { "local=2001:db8::9-2001:db8::1", PKTCAP_E_INVAL,
          "rule 1, local: reversed range (the first address exceeds the last): "
          "\"2001:db8::9-2001:db8::1\"" },
        { "local_port=443-80", PKTCAP_E_INVAL,
          "rule 1, local_port: reversed range (the first port exceeds the last): \"443-80\"" },
        { "remote_port=65536", PKTCAP_E_INVAL,
          "rule 1, remote_port: port outside 0-65535: \"65536\"" },
        { "remote_port=80-70000", PKTCAP_E_INVAL,
          "rule 1, remote_port: port outside 0-65535: \"70000\"" },
        { "remote_port=99999999999999999999", PKTCAP_E_INVAL,
          "rule 1, remote_port: port outside 0-65535: \"99999999999999999999\"" },
        { "remote_port=http", PKTCAP_E_INVAL,
          "rule 1, remote_port: not a port number (0-65535): \"http\"" },
        { "remote_port=-1", PKTCAP_E_INVAL,
          "rule 1, remote_port: incomplete range: \"-1\"" },
        { "remote_port=80-", PKTCAP_E_INVAL,
          "rule 1, remote_port: incomplete range: \"80-\"" },
        { "local=-10.0.0.1", PKTCAP_E_INVAL,
          "rule 1, local: incomplete range: \"-10.0.0.1\"" },
        { "local=10.0.0.0/", PKTCAP_E_INVAL,
          "rule 1, local: prefix length \"\" is outside 0-32" },
        { "local=10.0.0.1-2001:db8::1", PKTCAP_E_INVAL,
          "rule 1, local: range mixes IPv4 and IPv6: \"10.0.0.1-2001:db8::1\"" },
        { "local=10.0.0.0/33", PKTCAP_E_INVAL,
          "rule 1, local: prefix length \"33\" is outside 0-32" },
        { "local=2001:db8::/129", PKTCAP_E_INVAL,
          "rule 1, local: prefix length \"129\" is outside 0-128" },
        { "local=10.0.0.1/8", PKTCAP_E_INVAL,
          "rule 1, local: CIDR block has bits set after the prefix length: \"10.0.0.1/8\"" },
        { "local=10.0.0.0/8-10.0.0.9", PKTCAP_E_INVAL,
          "rule 1, local: an item is an address, a range or a CIDR block, not both: "
          "\"10.0.0.0/8-10.0.0.9\"" },
        { "proto=icmp", PKTCAP_E_INVAL,
          "rule 1, proto: unknown protocol \"icmp\" (expected tcp, udp or any)" },
        { "proto=tcp or proto=sctp", PKTCAP_E_INVAL,
          "rule 2, proto: unknown protocol \"sctp\" (expected tcp, udp or any)" },
        { "local_port=80;;443", PKTCAP_E_INVAL,
          "rule 1, local_port: empty list item (only a trailing ';' may end a list) in "
          "\"80;;443\"" },
        { "local_port=;80", PKTCAP_E_INVAL,
          "rule 1, local_port: empty list item (only a trailing ';' may end a list) in \";80\"" },
        { "local=10.0.0.1;;", PKTCAP_E_INVAL,
          "rule 1, local: empty list item (only a trailing ';' may end a list) in "
          "\"10.0.0.1;;\"" },
        { "local=", PKTCAP_E_INVAL, "rule 1, local: empty value \"\"" },
        { "tcp", PKTCAP_E_INVAL,
          "rule 1, expected key=value, got \"tcp\" (keys: proto, local, remote, local_port, "
          "remote_port)" },
        { "port=80", PKTCAP_E_INVAL,
          "rule 1, unknown key \"port\" (keys: proto, local, remote, local_port, remote_port)" },
        { "local=10.0.0.1 local=10.0.0.2", PKTCAP_E_INVAL, "rule 1, local given twice" },
        { "proto=tcp proto=udp", PKTCAP_E_INVAL, "rule 1, proto given twice" },
        { "or proto=tcp", PKTCAP_E_INVAL, "empty rule before \"or\" (rule 1)" },
        { "proto=tcp or or proto=udp", PKTCAP_E_INVAL, "empty rule before \"or\" (rule 2)" },
        { "proto=tcp or", PKTCAP_E_INVAL, "empty rule after \"or\" (rule 2)" },
        { "bpf:", PKTCAP_E_INVAL,
          "empty BPF expression (an empty filter matches everything: use pktcap_filter_new)" },
    };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pktcap_filter *f = NULL;
        int rc = pktcap_filter_parse(&f, cases[i].text);
        if (rc != cases[i].code || strcmp(last_message(), cases[i].message) != 0)
            fail_msg("parse(\"%s\"): %d \"%s\", expected %d \"%s\"", cases[i].text, rc,
                     last_message(), cases[i].code, cases[i].message);
        assert_null(f);
    }
}

static void long_offending_text_is_quoted_cut(void **state)
{
    (void)state;
    char text[400];
    pktcap_filter *f = NULL;
    memset(text, 'x', sizeof text);
    memcpy(text, "local=", 6);
    text[sizeof text - 1] = '\0';
    assert_int_equal(pktcap_filter_parse(&f, text), PKTCAP_E_INVAL);
    assert_non_null(strstr(last_message(), "\"xxxxxxxx"));
    assert_non_null(strstr(last_message(), "...\""));
    assert_true(strlen(last_message()) < 200);
}

static void limits_are_enforced_with_e_limit(void **state)
{
    (void)state;
    char *text = malloc(64 * 1024);
    size_t i, n = 0;
    pktcap_filter *f = NULL;
    assert_non_null(text);

    /* PKTCAP_FILTER_MAX_RULES rules are fine, one more is not. */
    for (i = 0; i < PKTCAP_FILTER_MAX_RULES; i++)
        n += (size_t)sprintf(text + n, "%sproto=tcp", i ? " or " : "");
    assert_int_equal(pktcap_filter_parse(&f, text), 0);
    assert_int_equal(pktcap_filter_rule_count(f), PKTCAP_FILTER_MAX_RULES);
    assert_int_equal(pktcap_filter_add_rule(f, PKTCAP_FILTER_UDP), PKTCAP_E_LIMIT);
    pktcap_filter_free(f);
    f = NULL;
    sprintf(text + n, " or proto=udp");
    assert_int_equal(pktcap_filter_parse(&f, text), PKTCAP_E_LIMIT);
    assert_string_equal(last_message(), "a filter holds at most 100 rules");
    assert_null(f);

    /* PKTCAP_FILTER_MAX_ITEMS items in a field are fine, one more is not. */
    n = (size_t)sprintf(text, "local_port=");
    for (i = 0; i < PKTCAP_FILTER_MAX_ITEMS; i++)
        n += (size_t)sprintf(text + n, "%zu;", i);
    assert_int_equal(pktcap_filter_parse(&f, text), 0);
    pktcap_filter_free(f);
    f = NULL;
    sprintf(text + n, "9999");
    assert_int_equal(pktcap_filter_parse(&f, text), PKTCAP_E_LIMIT);
    assert_string_equal(last_message(), "rule 1, local_port: more than 256 items in a field");
    assert_null(f);
    free(text);
}

static void typed_setters_build_what_the_parser_builds(void **state)
{
    (void)state;
    pktcap_filter *built, *parsed;
    char *s;
    assert_int_equal(pktcap_filter_new(&built), 0);
    assert_int_equal(pktcap_filter_rule_count(built), 0);
    assert_int_equal(pktcap_filter_add_rule(built, PKTCAP_FILTER_TCP), 0);
    assert_int_equal(pktcap_filter_add_address(built, 0, PKTCAP_FILTER_LOCAL_ADDRESS,
                                               "10.0.0.1", "10.0.0.9"), 0);
    assert_int_equal(pktcap_filter_add_port(built, 0, PKTCAP_FILTER_REMOTE_PORT, 80, 80), 0);
    assert_int_equal(pktcap_filter_add_port(built, 0, PKTCAP_FILTER_REMOTE_PORT, 443, 443), 0);
    assert_int_equal(pktcap_filter_add_rule(built, PKTCAP_FILTER_ANY), 0);
    assert_int_equal(pktcap_filter_set_protocol(built, 1, PKTCAP_FILTER_UDP), 0);
    assert_int_equal(pktcap_filter_add_address(built, 1, PKTCAP_FILTER_REMOTE_ADDRESS,
                                               "2001:db8::/64", NULL), 0);
    assert_int_equal(pktcap_filter_set_field(built, 1, PKTCAP_FILTER_LOCAL_PORT, "53;5353;"), 0);
    assert_int_equal(pktcap_filter_rule_count(built), 2);
    assert_int_equal(pktcap_filter_rule_protocol(built, 0), PKTCAP_FILTER_TCP);
    assert_int_equal(pktcap_filter_rule_protocol(built, 1), PKTCAP_FILTER_UDP);

    assert_int_equal(pktcap_filter_parse(&parsed,
                         "proto=tcp local=10.0.0.1-10.0.0.9 remote_port=80;443 "
                         "or proto=udp remote=2001:db8::/64 local_port=53;5353"), 0);
    assert_int_equal(pktcap_filter_equal(built, parsed), 1);

    assert_int_equal(pktcap_filter_field(&s, built, 0, PKTCAP_FILTER_REMOTE_PORT), 0);
    assert_string_equal(s, "80;443");
    pktcap_free(s);
    assert_int_equal(pktcap_filter_field(&s, built, 0, PKTCAP_FILTER_REMOTE_ADDRESS), 0);
    assert_string_equal(s, "");
    pktcap_free(s);

    /* Clearing a field; a different filter is not equal. */
    assert_int_equal(pktcap_filter_set_field(built, 1, PKTCAP_FILTER_LOCAL_PORT, NULL), 0);
    assert_int_equal(pktcap_filter_equal(built, parsed), 0);
    assert_int_equal(pktcap_filter_to_string(&s, built), 0);
    assert_string_equal(s, "proto=tcp local=10.0.0.1-10.0.0.9 remote_port=80;443 "
                           "or proto=udp remote=2001:db8::/64");
    pktcap_free(s);
    pktcap_filter_free(built);
    pktcap_filter_free(parsed);
}

static void setter_errors(void **state)
{
    (void)state;
    pktcap_filter *f, *b;
    assert_int_equal(pktcap_filter_new(&f), 0);
    assert_int_equal(pktcap_filter_add_rule(f, 1), PKTCAP_E_INVAL);
    assert_string_equal(last_message(), "unknown protocol 1 (expected PKTCAP_FILTER_ANY (0), "
                                        "PKTCAP_FILTER_TCP (6) or PKTCAP_FILTER_UDP (17))");
    assert_int_equal(pktcap_filter_set_protocol(f, 0, PKTCAP_FILTER_TCP), PKTCAP_E_INVAL);
    assert_string_equal(last_message(), "pktcap_filter_set_protocol: no rule 0 (the filter has 0)");
    assert_int_equal(pktcap_filter_add_rule(f, PKTCAP_FILTER_ANY), 0);
    assert_int_equal(pktcap_filter_add_port(f, 0, PKTCAP_FILTER_LOCAL_PORT, 70000, 70000),
                     PKTCAP_E_INVAL);
    assert_string_equal(last_message(), "local_port: port 70000 is outside 0-65535");
    assert_int_equal(pktcap_filter_add_port(f, 0, PKTCAP_FILTER_LOCAL_PORT, 90, 80),
                     PKTCAP_E_INVAL);
    assert_string_equal(last_message(),
                        "local_port: reversed range 90-80 (the first port must not exceed the last)");
    assert_int_equal(pktcap_filter_add_port(f, 0, PKTCAP_FILTER_LOCAL_ADDRESS, 80, 80),
                     PKTCAP_E_INVAL);
    assert_string_equal(last_message(), "pktcap_filter_add_port: local is an address field "
                                        "(use pktcap_filter_add_address)");
    assert_int_equal(pktcap_filter_add_address(f, 0, PKTCAP_FILTER_REMOTE_PORT, "10.0.0.1", NULL),
                     PKTCAP_E_INVAL);
    assert_int_equal(pktcap_filter_add_address(f, 0, PKTCAP_FILTER_REMOTE_ADDRESS,
                                               "10.0.0.2", "10.0.0.1"), PKTCAP_E_INVAL);
    assert_string_equal(last_message(), "remote: reversed range (the first address exceeds the "
                                        "last): \"10.0.0.2-10.0.0.1\"");
    assert_int_equal(pktcap_filter_add_address(f, 0, PKTCAP_FILTER_REMOTE_ADDRESS,
                                               "10.0.0.1", "::1"), PKTCAP_E_INVAL);
    assert_string_equal(last_message(), "remote: range mixes IPv4 and IPv6: \"10.0.0.1-::1\"");
    assert_int_equal(pktcap_filter_add_address(f, 0, PKTCAP_FILTER_REMOTE_ADDRESS,
                                               "10.0.0.0/8", "10.0.0.9"), PKTCAP_E_INVAL);
    assert_int_equal(pktcap_filter_set_field(f, 0, 4, "80"), PKTCAP_E_INVAL);
    assert_string_equal(last_message(), "pktcap_filter_set_field: unknown field 4 (expected 0 … 3)");
    /* A failed set_field leaves the field as it was. */
    assert_int_equal(pktcap_filter_set_field(f, 0, PKTCAP_FILTER_LOCAL_PORT, "80"), 0);
    assert_int_equal(pktcap_filter_set_field(f, 0, PKTCAP_FILTER_LOCAL_PORT, "81;x"),
                     PKTCAP_E_INVAL);
    assert_string_equal(last_message(), "local_port: not a port number (0-65535): \"x\"");
    {
        char *s;
        assert_int_equal(pktcap_filter_field(&s, f, 0, PKTCAP_FILTER_LOCAL_PORT), 0);
        assert_string_equal(s, "80");
        pktcap_free(s);
    }
    /* Raw-BPF filters have no rules to change. */
    assert_int_equal(pktcap_filter_new_bpf(&b, "udp and port 53"), 0);
    assert_string_equal(pktcap_filter_bpf_expression(b), "udp and port 53");
    assert_null(pktcap_filter_bpf_expression(f));
    assert_int_equal(pktcap_filter_add_rule(b, PKTCAP_FILTER_TCP), PKTCAP_E_STATE);
    assert_int_equal(pktcap_filter_rule_count(b), 0);
    assert_int_equal(pktcap_filter_new_bpf(&b, "tcp port"), PKTCAP_E_INVAL);
    assert_non_null(strstr(last_message(), "invalid BPF expression \"tcp port\": "));
    /* NULLs */
    assert_int_equal(pktcap_filter_new(NULL), PKTCAP_E_INVAL);
    assert_int_equal(pktcap_filter_parse(&b, NULL), PKTCAP_E_INVAL);
    assert_int_equal(pktcap_filter_equal(NULL, f), 0);
    pktcap_filter_free(NULL);
    pktcap_free(NULL);
    pktcap_filter_free(f);
    pktcap_filter_free(b);
}

static void dup_copies_everything(void **state)
{
    (void)state;
    pktcap_filter *f, *g, *b, *c;
    assert_int_equal(pktcap_filter_parse(&f, "proto=udp remote=10.0.0.0/8;::1 local_port=1-2 "
                                             "or proto=tcp"), 0);
    assert_int_equal(pktcap_filter_dup(&g, f), 0);
    assert_int_equal(pktcap_filter_equal(f, g), 1);
    pktcap_filter_free(f);   /* the copy owns its memory */
    assert_int_equal(pktcap_filter_rule_count(g), 2);
    assert_int_equal(pktcap_filter_parse(&b, "bpf:icmp"), 0);
    assert_int_equal(pktcap_filter_dup(&c, b), 0);
    assert_int_equal(pktcap_filter_equal(b, c), 1);
    assert_int_equal(pktcap_filter_equal(g, c), 0);
    pktcap_filter_free(b);
    pktcap_filter_free(c);
    pktcap_filter_free(g);
}

/* ---- renderings ---------------------------------------------------------- */

static char *render(int (*fn)(char **, const pktcap_filter *), const char *text, int expect_rc)
{
    pktcap_filter *f;
    char *s = NULL;
    int rc;
    if (pktcap_filter_parse(&f, text) != 0)
        fail_msg("parse(\"%s\"): %s", text, last_message());
    rc = fn(&s, f);
    pktcap_filter_free(f);
    if (rc != expect_rc)
        fail_msg("rendering \"%s\": %d (%s), expected %d", text, rc, last_message(), expect_rc);
    return s;
}

static void expect_rendering(int (*fn)(char **, const pktcap_filter *), const char *text,
                             const char *expected)
{
    char *s = render(fn, text, 0);
    if (strcmp(s, expected) != 0)
        fail_msg("rendering \"%s\":\n  got      %s\n  expected %s", text, s, expected);
    pktcap_free(s);
}

static void expect_refusal(int (*fn)(char **, const pktcap_filter *), const char *text,
                           const char *message)
{
    char *s = render(fn, text, PKTCAP_E_NOTSUP);
    assert_null(s);
    if (strcmp(last_message(), message) != 0)
        fail_msg("refusing \"%s\":\n  got      %s\n  expected %s", text, last_message(), message);
}

/* The request example of specs/002 ("Create and start a packet capture"), as
 * the documentation prints it (its missing comma restored). */
static const char azure_request_example[] =
    "{ \"filters\": [ { \"protocol\": \"Any\", \"localIPAddress\": \"10.100.1.10\", "
    "\"localPort\": \"80\", \"remoteIPAddress\" : \"20.147.11.23\", "
    "\"remotePort\": \"100-120\" } ] }";

static void azure_rendering_is_the_request_shape(void **state)
{
    (void)state;
    json_error_t err;
    json_t *example = json_loads(azure_request_example, 0, &err), *ours;
    char *s = render(pktcap_filter_to_azure,
                     "local=10.100.1.10 local_port=80 remote=20.147.11.23 remote_port=100-120", 0);
    assert_non_null(example);
    ours = json_loads(s, 0, &err);
    assert_non_null(ours);
    assert_true(json_equal(ours, json_object_get(example, "filters")));
    assert_string_equal(s, "[{\"protocol\":\"Any\",\"localIPAddress\":\"10.100.1.10\","
                           "\"localPort\":\"80\",\"remoteIPAddress\":\"20.147.11.23\","
                           "\"remotePort\":\"100-120\"}]");
    json_decref(example);
    json_decref(ours);
    pktcap_free(s);

    /* Azure's notation examples come back as written. */
    expect_rendering(pktcap_filter_to_azure,
                     "proto=tcp local=127.0.0.1;127.0.0.5; remote=127.0.0.1-127.0.0.255 "
                     "local_port=80;443; remote_port=80-85 or proto=udp",
                     "[{\"protocol\":\"TCP\",\"localIPAddress\":\"127.0.0.1;127.0.0.5;\","
                     "\"localPort\":\"80;443;\",\"remoteIPAddress\":\"127.0.0.1-127.0.0.255\","
                     "\"remotePort\":\"80-85\"},{\"protocol\":\"UDP\"}]");
    /* CIDR is spelled as a range; IPv6 as text. */
    expect_rendering(pktcap_filter_to_azure, "remote=10.0.0.0/8 or local=2001:db8::/126",
                     "[{\"protocol\":\"Any\",\"remoteIPAddress\":\"10.0.0.0-10.255.255.255\"},"
                     "{\"protocol\":\"Any\",\"localIPAddress\":\"2001:db8::-2001:db8::3\"}]");
    /* Everything: no filters at all. */
    expect_rendering(pktcap_filter_to_azure, "", "[]");
    expect_rendering(pktcap_filter_to_azure, "proto=tcp or proto=any", "[]");
    /* What Azure's notation cannot say. */
    expect_refusal(pktcap_filter_to_azure, "proto=tcp local_port=80-90;443",
                   "Azure accepts one range or a list of single values per field; rule 1 "
                   "local_port has 2 items, 1 of them ranges");
    expect_refusal(pktcap_filter_to_azure, "proto=tcp or remote=10.0.0.0/8;10.1.0.0/16",
                   "Azure accepts one range or a list of single values per field; rule 2 "
                   "remote has 2 items, 2 of them ranges");
    expect_refusal(pktcap_filter_to_azure, "bpf:tcp",
                   "Azure Network Watcher cannot run a raw BPF expression (\"tcp\"); "
                   "write the filter as rules");
}

static void cloudflare_rendering_and_what_it_cannot_express(void **state)
{
    (void)state;
    expect_rendering(pktcap_filter_to_cloudflare,
                     "proto=tcp local=1.2.3.4 local_port=80 remote=5.6.7.8 remote_port=123",
                     "{\"destination_address\":\"1.2.3.4\",\"destination_port\":80,"
                     "\"protocol\":6,\"source_address\":\"5.6.7.8\",\"source_port\":123}");
    expect_rendering(pktcap_filter_to_cloudflare, "proto=udp remote=2001:db8::1",
                     "{\"protocol\":17,\"source_address\":\"2001:db8::1\"}");
    expect_rendering(pktcap_filter_to_cloudflare, "local_port=53",
                     "{\"destination_port\":53}");
    expect_rendering(pktcap_filter_to_cloudflare, "", "{}");
    expect_rendering(pktcap_filter_to_cloudflare, "proto=any", "{}");
    expect_refusal(pktcap_filter_to_cloudflare, "proto=tcp or proto=udp",
                   "Cloudflare filter_v1 holds one rule; this filter has 2");
    expect_refusal(pktcap_filter_to_cloudflare, "remote_port=80;443",
                   "Cloudflare filter_v1 holds one value per field; remote_port has 2 (80;443)");
    expect_refusal(pktcap_filter_to_cloudflare, "local=10.0.0.0/8",
                   "Cloudflare filter_v1 holds single addresses; local is a range (10.0.0.0/8)");
    expect_refusal(pktcap_filter_to_cloudflare, "local_port=1-1023",
                   "Cloudflare filter_v1 holds single ports; local_port is a range (1-1023)");
    expect_refusal(pktcap_filter_to_cloudflare, "bpf:tcp",
                   "Cloudflare Magic Transit cannot run a raw BPF expression (\"tcp\"); "
                   "write the filter as rules");
}

static void sdwan_rendering_is_bpf_style(void **state)
{
    (void)state;
    /* The plain rules: no guard, no VLAN alternatives. */
    expect_rendering(pktcap_filter_to_sdwan, "proto=udp remote_port=53", "udp port 53");
    expect_rendering(pktcap_filter_to_sdwan, "proto=tcp local=10.0.0.1 remote_port=443",
                     "(ip src host 10.0.0.1 and tcp dst port 443) or "
                     "(ip dst host 10.0.0.1 and tcp src port 443)");
    expect_rendering(pktcap_filter_to_sdwan, "proto=udp or remote=2001:db8::/64",
                     "udp or ip6 net 2001:db8::/64");
    expect_rendering(pktcap_filter_to_sdwan, "bpf:host 10.0.0.1 and not port 22",
                     "host 10.0.0.1 and not port 22");
    expect_rendering(pktcap_filter_to_sdwan, "", "");
}

/* Every allocation failure is reported as PKTCAP_E_NOMEM and leaks nothing. */
static void allocation_failures_are_clean(void **state)
{
    (void)state;
    const char *text = "proto=tcp local=10.0.0.1-10.0.0.9;10.1.0.0/16 remote_port=80;443 "
                       "or proto=udp remote=2001:db8::/64";
    unsigned long n;
    for (n = 1; n < 200; n++) {
        pktcap_filter *f = NULL, *g = NULL;
        char *s = NULL;
        int rc;
        pktcap__alloc_fail_at(n);
        rc = pktcap_filter_parse(&f, text);
        if (rc == 0) {
            rc = pktcap_filter_dup(&g, f);
            if (rc == 0)
                rc = pktcap_filter_to_string(&s, g);
        }
        pktcap__alloc_fail_at(0);
        pktcap_free(s);
        pktcap_filter_free(g);
        pktcap_filter_free(f);
        if (rc == 0)
            return;   /* n is past the last allocation */
        assert_int_equal(rc, PKTCAP_E_NOMEM);
    }
    fail_msg("more than 200 allocations");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(notation_cases_parse_and_render_canonically),
        cmocka_unit_test(validation_errors_name_the_field_and_the_text),
        cmocka_unit_test(long_offending_text_is_quoted_cut),
        cmocka_unit_test(limits_are_enforced_with_e_limit),
        cmocka_unit_test(typed_setters_build_what_the_parser_builds),
        cmocka_unit_test(setter_errors),
        cmocka_unit_test(dup_copies_everything),
        cmocka_unit_test(azure_rendering_is_the_request_shape),
        cmocka_unit_test(cloudflare_rendering_and_what_it_cannot_express),
        cmocka_unit_test(sdwan_rendering_is_bpf_style),
        cmocka_unit_test(allocation_failures_are_clean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
