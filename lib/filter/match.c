/* match.c — pktcap_filter_match: does a packet match a filter?
 *
 * A raw-BPF filter is compiled with libpcap, once per link type (cached in the
 * filter under its lock), and run with pcap_offline_filter. On BSD loopback it
 * is compiled as tcpdump -r compiles it, for a capture file (bpf.c, 2.); for
 * NULL, whose address family is written in the byte order of the machine that
 * wrote the file, a packet gets the program compiled for a file in the byte
 * order its own family word is in (see loopback_swapped).
 *
 * A rule filter is evaluated here, without libpcap, and answers exactly what
 * libpcap answers running the BPF rendering (bpf.c, whose opening comment
 * states the semantics) on the same link type. The rendering was designed
 * for this: its guard makes libpcap reject, before any rule runs, every
 * packet in which some rule could read a byte beyond the capture, so the
 * rules are plain conditions evaluated here in whatever order is fastest.
 * What remains to mirror is the guard and libpcap's primitives themselves:
 * which link-layer value makes a packet IPv4 or IPv6, where ports are read,
 * IHL taken as it is, the IPv6 Fragment header look-through of `tcp`/`udp`.
 *
 * The per-packet path: find the IP header (link_layer), read the fields the
 * rules compare into a view (read_ipv4/read_ipv6), then test the rules
 * straight from the filter's model: no allocation, and nothing prepared per
 * filter, because a filter may be changed between two calls by setters that
 * do not tell us, and a stale cache would be wrong. Reading the model costs
 * about a nanosecond per list item; single addresses are compared in network
 * order as stored, and the loops stay scalar (vectorized, the usual 1-3 item
 * loops ran slower). Anything unusual — a header cut short, a link type we
 * do not know, not IP at all — takes the slow path, which consults the whole
 * filter (does it match everything? does its guard read what is missing?).
 */
#include "filter/filter.h"

#include <pcap/pcap.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/linktypes.h"

#define SUPPORTED_LINKTYPES \
    "EN10MB (1), LINUX_SLL (113), LINUX_SLL2 (276), RAW (101), IPV4 (228), IPV6 (229), " \
    "NULL (0), LOOP (108)"

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd

#define PROTO_TCP 6
#define PROTO_UDP 17
#define PROTO_FRAGMENT 44

/* BSD loopback address families, as libpcap compiles `ip`/`ip6` for a
 * capture file: AF_INET, and AF_INET6 on the BSDs (and Npcap), FreeBSD and
 * Darwin (macOS, iOS). */
#define BSD_AF_INET 2
#define BSD_AF_INET6_BSD 24
#define BSD_AF_INET6_FREEBSD 28
#define BSD_AF_INET6_DARWIN 30

static inline uint16_t be16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static inline uint64_t be64(const uint8_t *p)
{
    return (uint64_t)be32(p) << 32 | be32(p + 4);
}

/* Is a BSD loopback NULL packet's family word (4 bytes at d, caplen of them
 * captured) in the byte order opposite to this machine's? As tcpdump decides
 * (print-null.c): read in this machine's order, its upper 16 bits are not
 * all 0. Every address family is below 65536, so the writer's order leaves
 * them 0. */
static int loopback_swapped(const uint8_t *d, uint32_t caplen)
{
    uint32_t word;
    if (caplen < 4)
        return 0;
    memcpy(&word, d, 4);
    return (word & 0xffff0000u) != 0;
}

/* ---- raw BPF filters ------------------------------------------------------ */

/* Raw-BPF filters cannot be changed (the setters refuse them), so what is
 * compiled for them stays valid until the filter is freed. */

static void release_one(pf_compiled *c)
{
    if (c->program) {
        pcap_freecode(c->program);
        pktcap__free(c->program);
    }
    pktcap__free(c->error);
    memset(c, 0, sizeof *c);
}

void pktcap__filter_release_compiled(pktcap_filter *f)
{
    size_t i;
    for (i = 0; i < f->ncompiled; i++)
        release_one(&f->compiled[i]);
    f->ncompiled = 0;
}

/* Compile the filter's expression for `linktype` (and, for NULL, a file in
 * the other byte order when `swapped`) into *c. */
static int compile_for(pf_compiled *c, const char *expression, uint32_t linktype, int swapped)
{
    char err[PCAP_ERRBUF_SIZE + 64];
    struct bpf_program *prog = pktcap__malloc(sizeof *prog);
    int rc;
    memset(c, 0, sizeof *c);
    c->linktype = linktype;
    c->swapped = swapped;
    if (!prog)
        return PKTCAP_E_NOMEM;
    rc = pktcap__filter_compile(prog, expression, linktype, swapped, err, sizeof err);
    if (rc == PKTCAP_E_NOMEM) {
        pktcap__free(prog);
        return pktcap__error_set(rc, "%s", err);
    }
    if (rc < 0) {
        pktcap__free(prog);
        c->error = pktcap__strdup(err);
        return c->error ? 0 : PKTCAP_E_NOMEM;
    }
    c->ok = 1;
    c->program = prog;
    return 0;
}

static int match_bpf(const pktcap_filter *cf, const pktcap_packet *pkt)
{
    /* The cache is not part of what the filter means: a const filter may
     * fill it, under its lock. Programs stay until the filter is freed, so
     * one found here can run after the lock is released. */
    pktcap_filter *f = (pktcap_filter *)cf;
    pf_compiled own, *c = NULL;
    struct pcap_pkthdr h;
    size_t i;
    int rc = 0, temporary = 0;
    int swapped = pkt->linktype == LINKTYPE_NULL && loopback_swapped(pkt->data, pkt->caplen);

    pthread_mutex_lock(&f->lock);
    for (i = 0; i < f->ncompiled && !c; i++)
        if (f->compiled[i].linktype == pkt->linktype && f->compiled[i].swapped == swapped)
            c = &f->compiled[i];
    if (!c) {
        temporary = f->ncompiled == sizeof f->compiled / sizeof f->compiled[0];
        c = temporary ? &own : &f->compiled[f->ncompiled];
        rc = compile_for(c, f->bpf, pkt->linktype, swapped);
        if (rc == 0 && !temporary)
            f->ncompiled++;
    }
    pthread_mutex_unlock(&f->lock);
    if (rc < 0)
        return rc;

    if (!c->ok) {
        const char *name = pktcap_linktype_name(pkt->linktype);
        rc = pktcap__error_set(PKTCAP_E_NOTSUP, "the BPF expression \"%.200s\" does not compile "
                               "for link type %s (%u): %s", f->bpf, name ? name : "unknown",
                               (unsigned)pkt->linktype, c->error);
    } else {
        memset(&h, 0, sizeof h);
        h.caplen = pkt->caplen;
        h.len = pkt->len;
        rc = pcap_offline_filter(c->program, &h, pkt->data) != 0;
    }
    if (temporary)
        release_one(c);
    return rc;
}

/* ---- rule filters: the packet ------------------------------------------- */

/* The fields the rules compare, read once per packet. */
typedef struct view {
    uint32_t src4, dst4;        /* IPv4 addresses */
    uint32_t src4_raw, dst4_raw; /* the same in network order, as stored in items */
    uint64_t src6[2], dst6[2];  /* IPv6 addresses, most significant half first */
    const uint8_t *src6_raw, *dst6_raw; /* the same in the packet */
    int l4;                     /* 6 or 17 when the ports are readable, else 0 */
    uint16_t sport, dport;
    uint8_t tcp, udp;           /* libpcap's `tcp` / `udp` primitives */
    int cut;                    /* 6, 17 or 44: those bytes are missing; the guard decides */
} view;

/* Where the link layer puts the IP header and which family it says it is,
 * as libpcap's `ip` and `ip6` test on each link type (bpf.c, 2.): 4 or 6 and
 * *nh; 0 when neither (or when the link header is cut short: libpcap's first
 * load fails and rejects the packet, which is no match either);
 * PKTCAP_E_NOTSUP for a link type the evaluator does not know. */
static int link_layer(const uint8_t *d, uint32_t caplen, uint32_t linktype, uint32_t *nh)
{
    uint32_t off, af;
    uint16_t type;
    int tags;

    switch (linktype) {
    case LINKTYPE_ETHERNET:
        /* The EtherType, behind at most two VLAN tags (the nested `vlan`s). */
        for (off = 12, tags = 0;; off += 4, tags++) {
            if (caplen < off + 2)
                return 0;
            type = be16(d + off);
            if (type != 0x8100 && type != 0x88a8 && type != 0x9100)
                break;
            if (tags == 2)
                return 0;
        }
        *nh = off + 2;
        goto ethertype;
    case LINKTYPE_LINUX_SLL:
        if (caplen < 16)
            return 0;
        type = be16(d + 14);
        *nh = 16;
        goto ethertype;
    case LINKTYPE_LINUX_SLL2:
        if (caplen < 2)
            return 0;
        type = be16(d);
        *nh = 20;
        goto ethertype;
    case LINKTYPE_RAW:
        if (caplen < 1)
            return 0;
        *nh = 0;
        return d[0] >> 4 == 4 ? 4 : d[0] >> 4 == 6 ? 6 : 0;
    case LINKTYPE_IPV4:
        *nh = 0;
        return 4;
    case LINKTYPE_IPV6:
        *nh = 0;
        return 6;
    case LINKTYPE_NULL:
    case LINKTYPE_LOOP:
        /* The address family: LOOP's in network byte order, NULL's in the
         * writer's, which may be either (bpf.c, 2.). */
        if (caplen < 4)
            return 0;
        *nh = 4;
        af = be32(d);
        if (linktype == LINKTYPE_NULL && (af & 0xffff0000u))
            af = le32(d);
        if (af == BSD_AF_INET)
            return 4;
        return af == BSD_AF_INET6_BSD || af == BSD_AF_INET6_FREEBSD || af == BSD_AF_INET6_DARWIN
                   ? 6 : 0;
    default:
        return PKTCAP_E_NOTSUP;
    }
ethertype:
    return type == ETHERTYPE_IPV4 ? 4 : type == ETHERTYPE_IPV6 ? 6 : 0;
}

/* IPv4 at ip, avail bytes captured from there, the 20-byte header among them. */
static inline void read_ipv4(view *v, const uint8_t *ip, uint32_t avail)
{
    unsigned proto = ip[9];
    memcpy(&v->src4_raw, ip + 12, 4);
    memcpy(&v->dst4_raw, ip + 16, 4);
    v->src4 = be32(ip + 12);
    v->dst4 = be32(ip + 16);
    v->tcp = proto == PROTO_TCP;
    v->udp = proto == PROTO_UDP;
    /* libpcap reads ports at 4 × IHL, IHL as it is, when the fragment offset is 0. */
    if ((proto == PROTO_TCP || proto == PROTO_UDP) && (be16(ip + 6) & 0x1fff) == 0) {
        uint32_t x = 4u * (ip[0] & 0xf);
        if (avail >= x + 4) {
            v->l4 = (int)proto;
            v->sport = be16(ip + x);
            v->dport = be16(ip + x + 2);
        } else {
            v->cut = (int)proto;
        }
    }
}

/* IPv6, the 40-byte header captured: ports only right behind the fixed
 * header; `tcp`/`udp` also behind one Fragment header. */
static inline void read_ipv6(view *v, const uint8_t *ip, uint32_t avail)
{
    unsigned next = ip[6];
    v->src6_raw = ip + 8;
    v->dst6_raw = ip + 24;
    v->src6[0] = be64(ip + 8);
    v->src6[1] = be64(ip + 16);
    v->dst6[0] = be64(ip + 24);
    v->dst6[1] = be64(ip + 32);
    v->tcp = next == PROTO_TCP;
    v->udp = next == PROTO_UDP;
    if (next == PROTO_TCP || next == PROTO_UDP || next == PROTO_FRAGMENT) {
        if (avail < 44) {
            v->cut = (int)next;
        } else if (next == PROTO_FRAGMENT) {
            v->tcp = ip[40] == PROTO_TCP;
            v->udp = ip[40] == PROTO_UDP;
        } else {
            v->l4 = (int)next;
            v->sport = be16(ip + 40);
            v->dport = be16(ip + 42);
        }
    }
}

/* Does the guard reject a packet missing the bytes behind protocol `cut`? */
static int guard_rejects(const pktcap_filter *f, int cut)
{
    pf_reads rd;
    pktcap__filter_reads(f, &rd);
    return cut == PROTO_TCP ? rd.tcp_ports
         : cut == PROTO_UDP ? rd.udp_ports
                               : rd.fragment_lookthrough;
}

/* ---- rule filters: the rules ---------------------------------------------- *
 * A field is tested against both ends of the packet in one pass over its
 * items, giving two bits: SRC, the source is in it; DST, the destination.
 * A rule keeps two bits too, one per direction: LOCAL_IS_SRC (local is the
 * source, remote the destination) and LOCAL_IS_DST. A local field narrows
 * them by its bits as they are, a remote field by its bits swapped. */

enum { SRC = 1, DST = 2, BOTH = 3 };

static inline unsigned swap_sides(unsigned sides)
{
    return (sides & SRC) << 1 | (sides & DST) >> 1;
}

/* Lists of hosts are long and rarely match: a single address is compared
 * as it is stored, in network order, without byte swaps. */
static inline unsigned ipv4_sides(const pf_field *fl, const view *v)
{
    unsigned sides = 0;
    size_t i;
    for (i = 0; i < fl->n; i++) {
        const pf_addr *x = &fl->u.addr[i];
        uint32_t lo, hi;
        if (x->family != 4)
            continue;
        memcpy(&lo, x->lo, 4);
        memcpy(&hi, x->hi, 4);
        if (lo == hi) {
            sides |= (unsigned)(v->src4_raw == lo) | (unsigned)(v->dst4_raw == lo) << 1;
        } else {
            uint32_t first = be32(x->lo), span = be32(x->hi) - first;
            sides |= (unsigned)(v->src4 - first <= span) | (unsigned)(v->dst4 - first <= span) << 1;
        }
    }
    return sides;
}

/* a ≤ b for 128-bit numbers, most significant half first. */
static inline int le128(const uint64_t a[2], const uint64_t b[2])
{
    return a[0] < b[0] || (a[0] == b[0] && a[1] <= b[1]);
}

static inline int in_range6(const uint64_t a[2], const uint64_t lo[2], const uint64_t hi[2])
{
    return le128(lo, a) && le128(a, hi);
}

static inline unsigned ipv6_sides(const pf_field *fl, const view *v)
{
    unsigned sides = 0;
    size_t i;
    for (i = 0; i < fl->n; i++) {
        const pf_addr *x = &fl->u.addr[i];
        if (x->family != 6)
            continue;
        if (memcmp(x->lo, x->hi, 16) == 0) {
            sides |= (unsigned)(memcmp(v->src6_raw, x->lo, 16) == 0) |
                     (unsigned)(memcmp(v->dst6_raw, x->lo, 16) == 0) << 1;
        } else {
            uint64_t lo[2], hi[2];
            lo[0] = be64(x->lo);
            lo[1] = be64(x->lo + 8);
            hi[0] = be64(x->hi);
            hi[1] = be64(x->hi + 8);
            sides |= (unsigned)in_range6(v->src6, lo, hi) | (unsigned)in_range6(v->dst6, lo, hi) << 1;
        }
    }
    return sides;
}

static inline unsigned address_sides(const pf_field *fl, const view *v, int family)
{
    return family == 4 ? ipv4_sides(fl, v) : ipv6_sides(fl, v);
}

static inline unsigned port_sides(const pf_field *fl, unsigned sport, unsigned dport)
{
    unsigned sides = 0;
    size_t i;
    for (i = 0; i < fl->n && sides != BOTH; i++) {
        unsigned lo = fl->u.port[i].lo, span = fl->u.port[i].hi - lo;
        sides |= (unsigned)(sport - lo <= span) | (unsigned)(dport - lo <= span) << 1;
    }
    return sides;
}

static inline int rule_matches(const pf_rule *r, const view *v, int family)
{
    const pf_field *fl = r->field;
    const pf_field *lp = &fl[PKTCAP_FILTER_LOCAL_PORT], *rp = &fl[PKTCAP_FILTER_REMOTE_PORT];
    unsigned dirs = BOTH; /* LOCAL_IS_SRC = SRC, LOCAL_IS_DST = DST */
    if (lp->n || rp->n) {
        /* Port primitives: the rule's protocol (TCP or UDP for "any"), ports readable. */
        if (r->proto == PKTCAP_FILTER_ANY ? v->l4 == 0 : v->l4 != r->proto)
            return 0;
        if (lp->n)
            dirs &= port_sides(lp, v->sport, v->dport);
        if (rp->n)
            dirs &= swap_sides(port_sides(rp, v->sport, v->dport));
        if (!dirs)
            return 0;
    } else if (r->proto != PKTCAP_FILTER_ANY &&
               !(r->proto == PKTCAP_FILTER_TCP ? v->tcp : v->udp)) {
        return 0;
    }
    if (fl[PKTCAP_FILTER_LOCAL_ADDRESS].n) {
        dirs &= address_sides(&fl[PKTCAP_FILTER_LOCAL_ADDRESS], v, family);
        if (!dirs)
            return 0;
    }
    if (fl[PKTCAP_FILTER_REMOTE_ADDRESS].n)
        dirs &= swap_sides(address_sides(&fl[PKTCAP_FILTER_REMOTE_ADDRESS], v, family));
    return dirs != 0;
}

/* The rules, in one copy per family (`family` is a constant at each call). */
static inline int any_rule_matches(const pktcap_filter *f, const view *v, int family)
{
    size_t i;
    for (i = 0; i < f->nrules; i++)
        if (rule_matches(&f->rules[i], v, family))
            return 1;
    return 0;
}

/* Every path that is not "an IP packet with all its headers": the filter
 * matches only if it matches everything. */
static int slow_path(const pktcap_filter *f, const pktcap_packet *pkt, int family)
{
    const char *name;
    if (pktcap__filter_matches_all(f))
        return 1;
    if (family != PKTCAP_E_NOTSUP)
        return 0;
    name = pktcap_linktype_name(pkt->linktype);
    return pktcap__error_set(PKTCAP_E_NOTSUP, "the filter evaluator does not support link type "
                             "%s (%u) (supported: " SUPPORTED_LINKTYPES ")",
                             name ? name : "unknown", (unsigned)pkt->linktype);
}

PKTCAP_API int pktcap_filter_match(const pktcap_filter *f, const pktcap_packet *pkt)
{
    const uint8_t *d;
    uint32_t nh = 0;
    view v;
    int family;

    if (!f || !pkt)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_filter_match: %s is NULL",
                                 f ? "packet" : "filter");
    if (pkt->caplen && !pkt->data)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_filter_match: the packet has %u "
                                 "bytes but no data", (unsigned)pkt->caplen);
    if (f->bpf)
        return match_bpf(f, pkt);
    if (f->nrules == 0)
        return 1;

    d = pkt->data;
    family = link_layer(d, pkt->caplen, pkt->linktype, &nh);
    if (family != 4 && family != 6)
        return slow_path(f, pkt, family);
    /* The guard's first part: no rule sees an IP header cut short. */
    if (pkt->caplen < nh || pkt->caplen - nh < (family == 4 ? 20u : 40u))
        return slow_path(f, pkt, 0);
    v.l4 = 0;
    v.cut = 0;
    v.sport = v.dport = 0;
    /* One copy of the rule loop per family, each reading only its fields. */
    if (family == 4) {
        read_ipv4(&v, d + nh, pkt->caplen - nh);
        if (v.cut && guard_rejects(f, v.cut))
            return slow_path(f, pkt, 0);
        return any_rule_matches(f, &v, 4);
    }
    read_ipv6(&v, d + nh, pkt->caplen - nh);
    if (v.cut && guard_rejects(f, v.cut))
        return slow_path(f, pkt, 0);
    return any_rule_matches(f, &v, 6);
}
