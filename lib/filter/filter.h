/* filter.h — the filter model shared by the lib/filter sources (internal).
 *
 * A filter is either a list of rules or a raw BPF expression. A rule holds a
 * protocol and four fields; a field is a sorted-as-written list of items, each
 * an inclusive range (a single value is a range with lo == hi). An unset field
 * (n == 0) matches anything.
 *
 * Addresses are kept in network byte order: IPv4 in the first 4 bytes of
 * lo/hi, IPv6 in all 16. A range never mixes families (the parser refuses).
 */
#ifndef PKTCAP_LIB_FILTER_FILTER_H
#define PKTCAP_LIB_FILTER_FILTER_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <pktcap/filter.h>

#define PF_FIELDS 4

typedef struct pf_addr {
    uint8_t family;   /* 4 or 6 */
    uint8_t lo[16];
    uint8_t hi[16];
} pf_addr;

typedef struct pf_port {
    uint16_t lo, hi;
} pf_port;

typedef struct pf_field {
    size_t n;        /* items; 0 = any */
    size_t cap;
    union {
        pf_addr *addr;   /* PKTCAP_FILTER_LOCAL_ADDRESS / REMOTE_ADDRESS */
        pf_port *port;   /* PKTCAP_FILTER_LOCAL_PORT / REMOTE_PORT */
        void *any;
    } u;
} pf_field;

typedef struct pf_rule {
    int proto;                 /* PKTCAP_FILTER_ANY, _TCP, _UDP */
    pf_field field[PF_FIELDS]; /* indexed by pktcap_filter_field_t */
} pf_rule;

/* One compiled BPF program per link type (two for BSD loopback NULL: one per
 * byte order of the capture file), for matching raw-BPF filters. */
typedef struct pf_compiled {
    uint32_t linktype;
    int swapped;      /* NULL only: compiled for a file in the other byte order */
    int ok;           /* 1 compiled, 0 compile failed for this link type */
    void *program;    /* struct bpf_program * (lib/filter/match.c owns it) */
    char *error;      /* when !ok: libpcap's message (match.c owns it) */
} pf_compiled;

struct pktcap_filter {
    size_t nrules, cap;
    pf_rule *rules;
    char *bpf;        /* raw expression, or NULL for a rule filter */

    /* Raw-BPF filters only: compiled programs, filled lazily under the lock. */
    pthread_mutex_t lock;
    size_t ncompiled;
    pf_compiled compiled[8];
};

static inline int pf_field_is_addr(int field)
{
    return field == PKTCAP_FILTER_LOCAL_ADDRESS || field == PKTCAP_FILTER_REMOTE_ADDRESS;
}

/* A rule whose every field is unset and whose protocol is ANY matches all packets. */
static inline int pf_rule_is_all(const pf_rule *r)
{
    int i;
    if (r->proto != PKTCAP_FILTER_ANY)
        return 0;
    for (i = 0; i < PF_FIELDS; i++)
        if (r->field[i].n)
            return 0;
    return 1;
}

/* Does the filter match every packet (no rules, or one all-matching rule)? */
int pktcap__filter_matches_all(const pktcap_filter *f);

/* Format one address (family 4/6, network order) into buf (INET6_ADDRSTRLEN). */
void pktcap__filter_addr_str(char *buf, size_t size, int family, const uint8_t *a);

/* Is the range [lo, hi] exactly one CIDR block? Sets *prefix. */
int pktcap__filter_range_is_cidr(const pf_addr *a, unsigned *prefix);

/* Split [lo, hi] into CIDR blocks: calls emit(net, prefix) for each, lowest first. */
typedef int (*pf_cidr_cb)(void *ctx, int family, const uint8_t *net, unsigned prefix);
int pktcap__filter_range_to_cidrs(const pf_addr *a, pf_cidr_cb emit, void *ctx);

/* filter.c */
const char *pktcap__filter_field_name(int field);   /* "local", "remote_port", ... */
int pktcap__filter_check_protocol(int protocol);
int pktcap__filter_append_rule(pktcap_filter *f, int protocol);
int pktcap__field_push(pf_field *fl, int field, const void *item);
void pktcap__field_free_items(pf_field *fl);

/* parse.c: parse a field's notation (text[0..len)) into *out (zeroed first).
 * `rule_label` (e.g. "rule 2"), when not NULL, prefixes error messages. */
int pktcap__filter_parse_field(pf_field *out, int field, const char *text, size_t len,
                               const char *rule_label);
/* One address item: first is an address or CIDR (last NULL), or first-last. */
int pktcap__filter_parse_address_item(pf_addr *out, int field, const char *first,
                                      const char *last);

/* bpf.c: the rules alone, for live captures and people (see bpf.c, 6.). */
int pktcap__filter_to_bpf_live(char **out, const pktcap_filter *f, uint32_t linktype);

/* Compiled-program cache (match.c). */
void pktcap__filter_release_compiled(pktcap_filter *f);

/* Validate a BPF expression with pcap_compile on LINKTYPE_ETHERNET (bpf.c). */
int pktcap__filter_check_bpf(const char *expression);

/* bpf.c: every pcap_compile call in the library holds this lock. */
void pktcap__pcap_lock(void);
void pktcap__pcap_unlock(void);

/* The DLT_ value pcap_open_dead wants for a LINKTYPE_ value (libpcap's
 * linktype_to_dlt: 101 is DLT_RAW, 12 on Linux, and a few more). */
int pktcap__filter_linktype_to_dlt(uint32_t linktype);

/* pcap_compile (optimizer on, netmask unknown) of `expression` for `linktype`
 * under the lock, on a pcap_open_dead handle, or for BSD loopback (NULL, LOOP)
 * on the handle of a capture file of that link type (as tcpdump -r compiles),
 * a file in this machine's byte order, or in the other one when `swapped`
 * (which only NULL's programs depend on). On failure errbuf holds libpcap's
 * message and the result is PKTCAP_E_INVAL (PKTCAP_E_NOMEM if no pcap handle).
 * Records no error. */
struct bpf_program;
int pktcap__filter_compile(struct bpf_program *prog, const char *expression, uint32_t linktype,
                           int swapped, char *errbuf, size_t errsize);

/* What the rules of a filter read beyond the fixed IP headers, and which
 * families they can match: the BPF rendering's guard (bpf.c) is built from
 * this, and pktcap_filter_match applies the same guard. */
typedef struct pf_reads {
    int tcp_ports;             /* a TCP or "any" rule has ports */
    int udp_ports;             /* a UDP or "any" rule has ports */
    int fragment_lookthrough;  /* a TCP or UDP rule has no ports (IPv6 `tcp` looks
                                * through a Fragment header) */
    int ipv4, ipv6;            /* some rule can match a packet of that family */
} pf_reads;
void pktcap__filter_reads(const pktcap_filter *f, pf_reads *out);

#endif
