/* libFuzzer target: the packet-summary decoder on arbitrary bytes.
 *
 * The first byte chooses how the rest is handed over: its low 7 bits, modulo
 * 9, pick the link type (NULL, Ethernet, RAW, LOOP, Linux SLL, IPV4, IPV6,
 * Linux SLL2, or one the decoder does not know), its top bit says whether
 * the capture was cut short (len > caplen). The packet is the rest of the
 * input, in place: libFuzzer's buffer ends exactly where it does, so the
 * sanitizers see any read past caplen. Each summary is checked against the
 * promises of summary.h, and decoding twice must give the same bytes.
 *
 * Run with ./dev fuzz summary [SECONDS]; the seeds in corpus/summary/ are
 * packets of tests/corpus with that first byte prepended. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pktcap/pktcap.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint32_t linktypes[] = { 0, 1, 101, 108, 113, 228, 229, 276, 147 };

#define V1_END (offsetof(pktcap_summary, protocol) + sizeof(((pktcap_summary *)0)->protocol))

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_summary: broken promise: %s\n", what);
        abort();
    }
}

static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

static int is_hex_name(const char *p)
{
    if (p[0] != '0' || p[1] != 'x' || p[6] != '\0')
        return 0;
    for (int i = 2; i < 6; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
            return 0;
    return 1;
}

static int is_known_name(const char *p)
{
    static const char *const names[] = { "", "ARP", "IPv4", "IPv6", "ICMP", "ICMPv6", "IGMP",
                                         "TCP", "UDP", "SCTP", "GRE", "ESP", "AH" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(p, names[i]) == 0)
            return 1;
    return is_hex_name(p);
}

static void check_summary(const pktcap_summary *s, const pktcap_packet *p)
{
    const uint32_t known = PKTCAP_SUMMARY_TRUNCATED | PKTCAP_SUMMARY_MALFORMED |
                           PKTCAP_SUMMARY_FRAGMENT | PKTCAP_SUMMARY_UNKNOWN_LINKTYPE |
                           PKTCAP_SUMMARY_HAS_MAC | PKTCAP_SUMMARY_HAS_IP |
                           PKTCAP_SUMMARY_HAS_PORTS | PKTCAP_SUMMARY_HAS_ICMP |
                           PKTCAP_SUMMARY_ARP;
    uint32_t f = s->flags;
    check((f & ~known) == 0, "only documented flags");
    check(s->number == 0 && s->time_digits == 9, "number 0, time_digits 9");
    check(s->ts_sec == p->ts_sec && s->ts_nsec == p->ts_nsec, "time copied");
    check(s->linktype == p->linktype && s->wire_len == p->len && s->cap_len == p->caplen,
          "link type and lengths copied");
    check(!(f & PKTCAP_SUMMARY_TRUNCATED) || p->caplen < p->len, "truncated only when cut");
    check(s->reserved == 0, "reserved is 0");

    /* protocol: NUL-terminated, zero-padded, one of the documented names. */
    const char *nul = memchr(s->protocol, 0, sizeof s->protocol);
    check(nul != NULL, "protocol NUL-terminated");
    check(all_zero((const uint8_t *)nul, sizeof s->protocol - (size_t)(nul - s->protocol)),
          "protocol zero-padded");
    check(is_known_name(s->protocol), "protocol is a documented name or an EtherType");

    if (f & PKTCAP_SUMMARY_UNKNOWN_LINKTYPE) {
        check(f == PKTCAP_SUMMARY_UNKNOWN_LINKTYPE, "unknown link type: no other flag");
        check(all_zero((const uint8_t *)&s->ethertype,
                       V1_END - offsetof(pktcap_summary, ethertype)),
              "unknown link type: only lengths and time");
        return;
    }

    if (!(f & PKTCAP_SUMMARY_HAS_MAC))
        check(all_zero(s->src_mac, 6) && all_zero(s->dst_mac, 6), "no MAC, zero MACs");
    else if (p->linktype == 113 || p->linktype == 276)
        check(all_zero(s->dst_mac, 6), "cooked captures have no destination MAC");
    if (f & PKTCAP_SUMMARY_HAS_MAC)
        check(p->linktype == 1 || p->linktype == 113 || p->linktype == 276,
              "MACs need a MAC layer");

    if (f & PKTCAP_SUMMARY_HAS_IP) {
        check(s->ip_version == 4 || s->ip_version == 6, "ip_version 4 or 6 with addresses");
        if (s->ip_version == 4)
            check(all_zero(s->src_ip + 4, 12) && all_zero(s->dst_ip + 4, 12),
                  "IPv4 addresses in the first 4 bytes");
    } else {
        check(s->ip_version == 0 && s->ip_proto == 0, "no addresses, no version or protocol");
        check(all_zero(s->src_ip, 16) && all_zero(s->dst_ip, 16), "no addresses, zero addresses");
    }
    if (f & PKTCAP_SUMMARY_ARP) {
        check(strcmp(s->protocol, "ARP") == 0, "ARP is named ARP");
        check(s->ip_proto == 0, "ARP has no IP protocol");
        check(!(f & PKTCAP_SUMMARY_HAS_IP) || s->ip_version == 4, "ARP addresses are IPv4");
    }
    if (!(f & PKTCAP_SUMMARY_HAS_PORTS))
        check(s->src_port == 0 && s->dst_port == 0, "no ports, zero ports");
    else
        check(f & PKTCAP_SUMMARY_HAS_IP, "ports need addresses");
    if (!(f & PKTCAP_SUMMARY_HAS_ICMP))
        check(s->icmp_type == 0 && s->icmp_code == 0, "no ICMP, zero type and code");
    else
        check(!(f & PKTCAP_SUMMARY_HAS_PORTS), "ICMP or ports, not both");
    if (s->tcp_flags)
        check((f & PKTCAP_SUMMARY_HAS_PORTS) && strcmp(s->protocol, "TCP") == 0,
              "TCP flags only with TCP ports");

    check(s->vlan_count <= 2, "at most 2 VLAN ids");
    for (unsigned i = 0; i < 2; i++)
        check(i < s->vlan_count ? s->vlan[i] <= 0x0fff : s->vlan[i] == 0, "VLAN ids");
    if (p->linktype != 1 && p->linktype != 113 && p->linktype != 276)
        check(s->ethertype == 0 && s->vlan_count == 0 && s->mpls_count == 0,
              "no EtherType layer, no EtherType, tags or labels");
    if (s->ethertype != 0)
        check(s->ethertype >= 0x0600, "an EtherType, not a length");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size - 1 > UINT32_MAX - 1000)
        return 0;
    pktcap_packet p;
    memset(&p, 0, sizeof p);
    p.struct_size = sizeof p;
    p.linktype = linktypes[(data[0] & 0x7f) % (sizeof linktypes / sizeof linktypes[0])];
    p.caplen = (uint32_t)(size - 1);
    p.len = p.caplen + ((data[0] & 0x80) ? 1 + data[0] % 251u : 0);
    p.ts_sec = 1700000000;
    p.ts_nsec = 999999999;
    p.data = size > 1 ? data + 1 : NULL;

    pktcap_summary a, b;
    memset(&a, 0x5a, sizeof a);
    memset(&b, 0xa5, sizeof b);
    a.struct_size = b.struct_size = sizeof a;
    check(pktcap_summarize(&a, &p) == 0, "packet contents never fail");
    check(a.struct_size == sizeof a, "struct_size kept");
    check_summary(&a, &p);
    check(pktcap_summarize(&b, &p) == 0, "a second time");
    check(memcmp(&a, &b, V1_END) == 0, "the same packet, the same summary");
    return 0;
}
