/* libFuzzer target: the one-line filter syntax and everything built on it.
 *
 * The input, NUL-terminated, is handed to pktcap_filter_parse(). When it
 * parses, the canonical text (pktcap_filter_to_string) must parse again into
 * an equal filter and render to the same text, a copy must be equal, and every
 * rendering (BPF for several link types, Azure, Cloudflare, SD-WAN) and the
 * field accessors must either succeed with a NUL-terminated string or fail
 * with a documented status and a message. The filter is then matched against
 * a few fixed packets, on each link type the evaluator knows and one it does
 * not, and a matching result must be 0 or 1 (or PKTCAP_E_NOTSUP for a rule
 * filter on the unknown link type). Everything is freed: LeakSanitizer checks.
 *
 * Inputs longer than 4 KiB are skipped: raw-BPF filters go to pcap_compile,
 * whose cost on huge expressions would only slow the search down.
 *
 * Run with ./dev fuzz filter [SECONDS]; seeds are in corpus/filter/. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pktcap/pktcap.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUT 4096

static void check(int ok, const char *what, const char *input)
{
    if (!ok) {
        fprintf(stderr, "fuzz_filter: broken promise: %s\ninput: \"%s\"\n", what, input);
        abort();
    }
}

/* A failed call left a documented status and a message. */
static void check_failure(int rc, const char *what, const char *input)
{
    check(rc == PKTCAP_E_INVAL || rc == PKTCAP_E_NOTSUP || rc == PKTCAP_E_LIMIT ||
              rc == PKTCAP_E_NOMEM || rc == PKTCAP_E_STATE,
          what, input);
    const char *msg = pktcap_error_message(pktcap_error_last());
    check(msg != NULL && msg[0] != '\0', "a failure has a message", input);
}

/* Ethernet / IPv4 / TCP 10.0.0.1:50000 -> 10.0.0.2:80 */
static const uint8_t eth_tcp4[] = {
    0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x28, 0x00, 0x01, 0x00, 0x00, 0x40, 0x06, 0x00, 0x00,
    10, 0, 0, 1, 10, 0, 0, 2,
    0xc3, 0x50, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0,
};

/* Ethernet / 802.1Q 100 / IPv6 / UDP [2001:db8::1]:53 -> [2001:db8::2]:5353 */
static const uint8_t eth_vlan_udp6[] = {
    0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x81, 0x00, 0x00, 0x64, 0x86, 0xdd,
    0x60, 0, 0, 0, 0x00, 0x08, 17, 64,
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
    0x00, 0x35, 0x14, 0xe9, 0x00, 0x08, 0x00, 0x00,
};

/* Raw IPv4 / UDP 192.168.1.1:1234 -> 10.1.2.3:443, and an IPv4 fragment. */
static const uint8_t raw_udp4[] = {
    0x45, 0x00, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x40, 17, 0x00, 0x00,
    192, 168, 1, 1, 10, 1, 2, 3,
    0x04, 0xd2, 0x01, 0xbb, 0x00, 0x08, 0x00, 0x00,
};
static const uint8_t raw_frag4[] = {
    0x45, 0x00, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x10, 0x40, 6, 0x00, 0x00,
    10, 0, 0, 1, 10, 0, 0, 2,
    0x04, 0xd2, 0x01, 0xbb, 0x00, 0x08, 0x00, 0x00,
};

static const struct {
    uint32_t linktype;
    const uint8_t *data;
    uint32_t caplen;
} packets[] = {
    { 1, eth_tcp4, sizeof eth_tcp4 },
    { 1, eth_tcp4, 20 },   /* cut inside the IPv4 header */
    { 1, eth_vlan_udp6, sizeof eth_vlan_udp6 },
    { 101, raw_udp4, sizeof raw_udp4 },
    { 228, raw_frag4, sizeof raw_frag4 },
    { 147, raw_udp4, sizeof raw_udp4 },   /* a link type the evaluator does not know */
};

static const uint32_t bpf_linktypes[] = { 1, 0, 101, 113, 228, 229, 276, 147 };

static void check_string(int rc, char *s, const char *what, const char *input)
{
    if (rc == 0) {
        check(s != NULL, what, input);
        check(strlen(s) < (1u << 24), what, input);
        pktcap_free(s);
    } else {
        check_failure(rc, what, input);
    }
}

static void exercise(const pktcap_filter *f, const char *input)
{
    char *s = NULL, *t = NULL;
    pktcap_filter *g = NULL, *h = NULL;
    int rc;

    /* The canonical text parses back into an equal filter, which renders alike. */
    rc = pktcap_filter_to_string(&s, f);
    check(rc == 0 && s != NULL, "to_string succeeds", input);
    rc = pktcap_filter_parse(&g, s);
    if (rc < 0)
        fprintf(stderr, "fuzz_filter: canonical text \"%s\" refused: %s\n", s,
                pktcap_error_message(pktcap_error_last()));
    check(rc == 0, "the canonical text parses", input);
    if (!pktcap_filter_equal(f, g))
        fprintf(stderr, "fuzz_filter: canonical text \"%s\" parses into another filter\n", s);
    check(pktcap_filter_equal(f, g) == 1, "parse(to_string(f)) == f", input);
    check(pktcap_filter_to_string(&t, g) == 0 && strcmp(s, t) == 0,
          "the canonical text is stable", input);
    pktcap_free(t);
    t = NULL;
    pktcap_filter_free(g);

    /* A copy is equal; equality is symmetric. */
    check(pktcap_filter_dup(&h, f) == 0, "dup succeeds", input);
    check(pktcap_filter_equal(h, f) == 1 && pktcap_filter_equal(f, h) == 1, "dup is equal",
          input);
    check(pktcap_filter_equal(f, NULL) == 0, "nothing equals NULL", input);

    size_t nrules = pktcap_filter_rule_count(f);
    const char *bpf = pktcap_filter_bpf_expression(f);
    check(!bpf || nrules == 0, "a raw-BPF filter has no rules", input);
    check(!bpf || strncmp(s, "bpf:", 4) == 0, "a raw-BPF filter prints as bpf:", input);
    for (size_t i = 0; i < nrules; i++) {
        int proto = pktcap_filter_rule_protocol(f, i);
        check(proto == PKTCAP_FILTER_ANY || proto == PKTCAP_FILTER_TCP ||
                  proto == PKTCAP_FILTER_UDP,
              "rule_protocol is ANY, TCP or UDP", input);
        for (int k = 0; k < 4; k++) {
            /* The field's notation sets an equal field on the copy. */
            check(pktcap_filter_field(&t, f, i, k) == 0, "field succeeds", input);
            check(pktcap_filter_set_field(h, i, k, t) == 0, "field notation is accepted",
                  input);
            pktcap_free(t);
            t = NULL;
        }
    }
    check(pktcap_filter_rule_protocol(f, nrules) < 0, "no rule past the end", input);
    check(pktcap_filter_equal(h, f) == 1, "fields set from their notation are equal", input);
    pktcap_filter_free(h);
    pktcap_free(s);
    s = NULL;

    for (size_t i = 0; i < sizeof bpf_linktypes / sizeof bpf_linktypes[0]; i++) {
        rc = pktcap_filter_to_bpf(&s, f, bpf_linktypes[i]);
        check_string(rc, s, "to_bpf", input);
        s = NULL;
    }
    rc = pktcap_filter_to_azure(&s, f);
    check(rc == 0 || rc == PKTCAP_E_NOTSUP || rc == PKTCAP_E_NOMEM, "to_azure status", input);
    check(rc != 0 || (s && s[0] == '['), "Azure's filters are an array", input);
    check_string(rc, s, "to_azure", input);
    s = NULL;
    rc = pktcap_filter_to_cloudflare(&s, f);
    check(rc == 0 || rc == PKTCAP_E_NOTSUP || rc == PKTCAP_E_NOMEM, "to_cloudflare status",
          input);
    check(rc != 0 || (s && s[0] == '{'), "Cloudflare's filter_v1 is an object", input);
    check_string(rc, s, "to_cloudflare", input);
    s = NULL;
    rc = pktcap_filter_to_sdwan(&s, f);
    check(rc == 0 || rc == PKTCAP_E_NOMEM, "to_sdwan succeeds", input);
    check_string(rc, s, "to_sdwan", input);
    s = NULL;

    for (size_t i = 0; i < sizeof packets / sizeof packets[0]; i++) {
        pktcap_packet p;
        memset(&p, 0, sizeof p);
        p.struct_size = sizeof p;
        p.linktype = packets[i].linktype;
        p.caplen = packets[i].caplen;
        p.len = (uint32_t)sizeof eth_vlan_udp6;
        if (p.len < p.caplen)
            p.len = p.caplen;
        p.ts_sec = 1700000000;
        /* A copy of exactly caplen bytes: the sanitizers see any read past it. */
        uint8_t *copy = malloc(p.caplen);
        check(copy != NULL, "malloc", input);
        memcpy(copy, packets[i].data, p.caplen);
        p.data = copy;
        rc = pktcap_filter_match(f, &p);
        int again = pktcap_filter_match(f, &p);
        free(copy);
        if (rc < 0)
            check_failure(rc, "match status", input);
        else
            check(rc == 0 || rc == 1, "match is 0 or 1", input);
        check(again == rc, "matching twice gives the same answer", input);
        if (p.linktype != 147 && !bpf)
            check(rc >= 0, "rule filters match every known link type", input);
        if (nrules == 0 && !bpf)
            check(rc == 1, "the empty filter matches everything", input);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_INPUT)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';

    pktcap_filter *f = NULL;
    int rc = pktcap_filter_parse(&f, text);
    if (rc < 0) {
        check_failure(rc, "parse fails with INVAL, LIMIT or NOMEM", text);
        check(f == NULL, "out untouched on failure", text);
    } else {
        check(f != NULL, "parse gives a filter", text);
        exercise(f, text);
        pktcap_filter_free(f);
    }
    free(text);
    return 0;
}
