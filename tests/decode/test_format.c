/* pktcap_summary_format and pktcap_summary_header: the exact text, JSON and
 * CSV of hand-filled summaries (doc/summary.md is the specification), IPv6
 * and IPv4 text against inet_ntop, dates against gmtime_r, and the buffer
 * contract (exact length, LIMIT, INVAL) for every buffer size. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pktcap/pktcap.h>
#include <pktcap/summary.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define T PKTCAP_SUMMARY_TEXT
#define J PKTCAP_SUMMARY_JSON
#define C PKTCAP_SUMMARY_CSV

/* 2024-01-01 12:00:00.123456789 UTC */
#define NOON_2024 INT64_C(1704110400)

/* xorshift64*: deterministic random numbers for the bulk comparisons. */
static uint64_t rng_state = UINT64_C(0x9e3779b97f4a7c15);

static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * UINT64_C(0x2545f4914f6cdd1d);
}

static pktcap_summary blank(void)
{
    pktcap_summary s;
    memset(&s, 0, sizeof s);
    s.struct_size = sizeof s;
    s.number = 1;
    s.ts_sec = NOON_2024;
    s.ts_nsec = 123456789;
    s.time_digits = 6;
    s.linktype = 1;
    s.wire_len = 74;
    s.cap_len = 74;
    return s;
}

static void set_mac(uint8_t mac[6], uint8_t last)
{
    const uint8_t m[6] = { 0x02, 0x00, 0x5e, 0x10, 0xab, last };
    memcpy(mac, m, 6);
}

static void set_ipv4(uint8_t ip[16], uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    memset(ip, 0, 16);
    ip[0] = a, ip[1] = b, ip[2] = c, ip[3] = d;
}

static void set_ipv6(uint8_t ip[16], const char *text)
{
    assert_int_equal(inet_pton(AF_INET6, text, ip), 1);
}

/* An Ethernet IPv4 TCP SYN-ACK: 10.1.0.10:51000 > 203.0.113.10:443. */
static pktcap_summary ipv4_tcp(void)
{
    pktcap_summary s = blank();
    s.flags = PKTCAP_SUMMARY_HAS_MAC | PKTCAP_SUMMARY_HAS_IP | PKTCAP_SUMMARY_HAS_PORTS;
    set_mac(s.src_mac, 1);
    set_mac(s.dst_mac, 2);
    s.ethertype = 0x0800;
    s.ip_version = 4;
    s.ip_proto = 6;
    set_ipv4(s.src_ip, 10, 1, 0, 10);
    set_ipv4(s.dst_ip, 203, 0, 113, 10);
    s.src_port = 51000;
    s.dst_port = 443;
    s.tcp_flags = 0x12;
    strcpy(s.protocol, "TCP");
    return s;
}

/* An Ethernet IPv6 UDP datagram in VLAN 100. */
static pktcap_summary ipv6_udp(void)
{
    pktcap_summary s = blank();
    s.flags = PKTCAP_SUMMARY_HAS_MAC | PKTCAP_SUMMARY_HAS_IP | PKTCAP_SUMMARY_HAS_PORTS;
    set_mac(s.src_mac, 0x0a);
    set_mac(s.dst_mac, 0x0b);
    s.ethertype = 0x86dd;
    s.vlan[0] = 100;
    s.vlan_count = 1;
    s.ip_version = 6;
    s.ip_proto = 17;
    set_ipv6(s.src_ip, "2001:db8:1::a");
    set_ipv6(s.dst_ip, "2001:db8:ff::19");
    s.src_port = 53;
    s.dst_port = 40000;
    s.wire_len = s.cap_len = 110;
    strcpy(s.protocol, "UDP");
    return s;
}

static pktcap_summary arp(void)
{
    pktcap_summary s = blank();
    s.flags = PKTCAP_SUMMARY_HAS_MAC | PKTCAP_SUMMARY_HAS_IP | PKTCAP_SUMMARY_ARP;
    set_mac(s.src_mac, 1);
    memset(s.dst_mac, 0xff, 6);
    s.ethertype = 0x0806;
    s.ip_version = 4;
    set_ipv4(s.src_ip, 10, 0, 0, 2);
    set_ipv4(s.dst_ip, 10, 0, 0, 1);
    s.wire_len = s.cap_len = 60;
    strcpy(s.protocol, "ARP");
    return s;
}

/* LLDP: Ethernet, no IP. */
static pktcap_summary lldp(void)
{
    pktcap_summary s = blank();
    s.flags = PKTCAP_SUMMARY_HAS_MAC;
    set_mac(s.src_mac, 7);
    const uint8_t nearest_bridge[6] = { 0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e };
    memcpy(s.dst_mac, nearest_bridge, 6);
    s.ethertype = 0x88cc;
    s.wire_len = s.cap_len = 60;
    strcpy(s.protocol, "0x88cc");
    return s;
}

static pktcap_summary unknown_linktype(void)
{
    pktcap_summary s = blank();
    s.flags = PKTCAP_SUMMARY_UNKNOWN_LINKTYPE;
    s.linktype = 147;
    s.wire_len = s.cap_len = 100;
    return s;
}

/* Formats into a large buffer; checks the status and the length. */
static const char *fmt(int format, const pktcap_summary *s)
{
    static char buf[4096];
    size_t n = 12345;
    int rc = pktcap_summary_format(&n, buf, sizeof buf, format, s);
    assert_int_equal(rc, 0);
    assert_int_equal(n, strlen(buf));
    return buf;
}

/* --- text ---------------------------------------------------------------- */

static void text_ipv4_tcp_is_a_tcpdump_like_line(void **state)
{
    (void)state;
    pktcap_summary s = ipv4_tcp();
    assert_string_equal(fmt(T, &s), "1 12:00:00.123456 IP 10.1.0.10.51000 > 203.0.113.10.443: TCP [S.] len 74");
}

/* A provider's summary without TCP flags: every format leaves them out. */
static void unknown_tcp_flags_are_left_out(void **state)
{
    (void)state;
    pktcap_summary s = ipv4_tcp();
    s.flags |= PKTCAP_SUMMARY_NO_TCP_FLAGS;
    assert_string_equal(fmt(T, &s), "1 12:00:00.123456 IP 10.1.0.10.51000 > 203.0.113.10.443: TCP len 74");
    assert_non_null(strstr(fmt(PKTCAP_SUMMARY_JSON, &s), "\"tcp_flags\":null,\"flags\":[]"));
    const char *csv = fmt(PKTCAP_SUMMARY_CSV, &s);
    size_t n = strlen(csv);
    assert_true(n > 3);
    assert_string_equal(csv + n - 3, ",,,");   /* icmp_code, tcp_flags, flags: all empty */
}

static void text_ipv6_udp_shows_the_vlan(void **state)
{
    (void)state;
    pktcap_summary s = ipv6_udp();
    s.number = 18446744073709551615u;
    assert_string_equal(fmt(T, &s),
                        "18446744073709551615 12:00:00.123456 vlan 100 IP6 2001:db8:1::a.53 > "
                        "2001:db8:ff::19.40000: UDP len 110");
}

static void text_icmp_shows_type_and_code(void **state)
{
    (void)state;
    pktcap_summary s = ipv4_tcp();
    s.flags = PKTCAP_SUMMARY_HAS_MAC | PKTCAP_SUMMARY_HAS_IP | PKTCAP_SUMMARY_HAS_ICMP;
    s.ip_proto = 1;
    s.src_port = s.dst_port = 0;
    s.tcp_flags = 0;
    s.icmp_type = 8;
    s.icmp_code = 0;
    strcpy(s.protocol, "ICMP");
    s.wire_len = s.cap_len = 98;
    assert_string_equal(fmt(T, &s), "1 12:00:00.123456 IP 10.1.0.10 > 203.0.113.10: ICMP type 8 code 0 len 98");
}

static void text_arp_shows_sender_and_target(void **state)
{
    (void)state;
    pktcap_summary s = arp();
    assert_string_equal(fmt(T, &s), "1 12:00:00.123456 ARP 10.0.0.2 > 10.0.0.1 len 60");
}

static void text_non_ip_ethernet_shows_macs_and_ethertype(void **state)
{
    (void)state;
    pktcap_summary s = lldp();
    assert_string_equal(fmt(T, &s),
                        "1 12:00:00.123456 ether 02:00:5e:10:ab:07 > 01:80:c2:00:00:0e: 0x88cc len 60");
}

static void text_linux_cooked_has_no_destination_mac(void **state)
{
    (void)state;
    pktcap_summary s = lldp();
    s.linktype = 113;
    memset(s.dst_mac, 0, 6);
    assert_string_equal(fmt(T, &s), "1 12:00:00.123456 ether 02:00:5e:10:ab:07 > -: 0x88cc len 60");
}

static void text_unknown_linktype_names_it(void **state)
{
    (void)state;
    pktcap_summary s = unknown_linktype();
    assert_string_equal(fmt(T, &s), "1 12:00:00.123456 linktype 147 len 100 [unknown_linktype]");
}

static void text_nothing_decoded_prints_the_protocol_or_a_dash(void **state)
{
    (void)state;
    pktcap_summary s = blank();
    s.flags = PKTCAP_SUMMARY_TRUNCATED;
    s.wire_len = 60;
    s.cap_len = 10;
    assert_string_equal(fmt(T, &s), "1 12:00:00.123456 - len 60 cap 10 [truncated]");
    s.linktype = 101;
    strcpy(s.protocol, "IPv4");
    assert_string_equal(fmt(T, &s), "1 12:00:00.123456 IPv4 len 60 cap 10 [truncated]");
}

static void text_qinq_and_mpls_come_before_the_addresses(void **state)
{
    (void)state;
    pktcap_summary s = ipv4_tcp();
    s.vlan[0] = 10;
    s.vlan[1] = 4094;
    s.vlan_count = 2;
    s.mpls_count = 3;
    s.tcp_flags = 0x18;
    assert_string_equal(fmt(T, &s), "1 12:00:00.123456 vlan 10,4094 mpls 3 IP 10.1.0.10.51000 > "
                                    "203.0.113.10.443: TCP [P.] len 74");
}

static void text_flags_and_captured_length_end_the_line(void **state)
{
    (void)state;
    pktcap_summary s = ipv4_tcp();
    s.flags |= PKTCAP_SUMMARY_TRUNCATED | PKTCAP_SUMMARY_MALFORMED | PKTCAP_SUMMARY_FRAGMENT;
    s.wire_len = 1514;
    s.cap_len = 96;
    assert_string_equal(fmt(T, &s), "1 12:00:00.123456 IP 10.1.0.10.51000 > 203.0.113.10.443: TCP [S.] "
                                    "len 1514 cap 96 [truncated,malformed,fragment]");
}

static void text_fragment_without_ports(void **state)
{
    (void)state;
    pktcap_summary s = ipv4_tcp();
    s.flags = PKTCAP_SUMMARY_HAS_MAC | PKTCAP_SUMMARY_HAS_IP | PKTCAP_SUMMARY_FRAGMENT;
    s.src_port = s.dst_port = 0;
    s.tcp_flags = 0;
    s.ip_proto = 17;
    strcpy(s.protocol, "UDP");
    assert_string_equal(fmt(T, &s), "1 12:00:00.123456 IP 10.1.0.10 > 203.0.113.10: UDP len 74 [fragment]");
}

static void text_unknown_ip_protocol_prints_its_number(void **state)
{
    (void)state;
    pktcap_summary s = ipv4_tcp();
    s.flags = PKTCAP_SUMMARY_HAS_MAC | PKTCAP_SUMMARY_HAS_IP;
    s.ip_proto = 89;
    strcpy(s.protocol, "IPv4");
    assert_string_equal(fmt(T, &s), "1 12:00:00.123456 IP 10.1.0.10 > 203.0.113.10: ip-proto-89 len 74");
    s.ip_version = 6;
    set_ipv6(s.src_ip, "fe80::1");
    set_ipv6(s.dst_ip, "ff02::5");
    strcpy(s.protocol, "IPv6");
    assert_string_equal(fmt(T, &s), "1 12:00:00.123456 IP6 fe80::1 > ff02::5: ip-proto-89 len 74");
    strcpy(s.protocol, "GRE");
    s.ip_proto = 47;
    assert_string_equal(fmt(T, &s), "1 12:00:00.123456 IP6 fe80::1 > ff02::5: GRE len 74");
}

static void text_tcp_flags_follow_tcpdump(void **state)
{
    (void)state;
    static const struct {
        uint8_t flags;
        const char *text;
    } cases[] = {
        { 0x00, "[none]" }, { 0x02, "[S]" }, { 0x12, "[S.]" }, { 0x10, "[.]" },
        { 0x11, "[F.]" }, { 0x04, "[R]" }, { 0x14, "[R.]" }, { 0x18, "[P.]" },
        { 0x19, "[FP.]" }, { 0xc2, "[SEW]" }, { 0xff, "[FSRP.UEW]" }, { 0x30, "[.U]" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pktcap_summary s = ipv4_tcp();
        char want[200];
        s.tcp_flags = cases[i].flags;
        snprintf(want, sizeof want, "1 12:00:00.123456 IP 10.1.0.10.51000 > 203.0.113.10.443: TCP %s len 74",
                 cases[i].text);
        assert_string_equal(fmt(T, &s), want);
    }
}

static void tcp_flags_follow_the_protocol_not_ip_proto(void **state)
{
    (void)state;
    /* IPv4 with AH: ip_proto is 51, the decoder still reaches TCP. */
    pktcap_summary s = ipv4_tcp();
    s.ip_proto = 51;
    assert_string_equal(fmt(T, &s), "1 12:00:00.123456 IP 10.1.0.10.51000 > 203.0.113.10.443: TCP [S.] len 74");
    assert_non_null(strstr(fmt(J, &s), ",\"ip_proto\":51,\"icmp_type\":null,\"icmp_code\":null,\"tcp_flags\":18,"));
    /* UDP has no TCP flags, whatever the byte holds. */
    s = ipv6_udp();
    s.tcp_flags = 0x12;
    assert_non_null(strstr(fmt(J, &s), ",\"tcp_flags\":null,"));
    assert_null(strchr(fmt(T, &s), '['));
}

static void text_replaces_unprintable_protocol_bytes(void **state)
{
    (void)state;
    pktcap_summary s = lldp();
    memcpy(s.protocol, "a b\tc\x80\x7f", 8);
    assert_string_equal(fmt(T, &s),
                        "1 12:00:00.123456 ether 02:00:5e:10:ab:07 > 01:80:c2:00:00:0e: a?b?c?? len 60");
    /* Sixteen bytes without a NUL: all sixteen, nothing after. */
    memcpy(s.protocol, "ABCDEFGHIJKLMNOP", 16);
    assert_non_null(strstr(fmt(T, &s), ": ABCDEFGHIJKLMNOP len 60"));
}

/* --- JSON ---------------------------------------------------------------- */

static void json_ipv4_tcp_has_sdwan_keys_then_ours(void **state)
{
    (void)state;
    pktcap_summary s = ipv4_tcp();
    assert_string_equal(fmt(J, &s),
        "{\"number\":1,\"time\":\"2024-01-01T12:00:00.123456Z\","
        "\"src_mac\":\"02:00:5e:10:ab:01\",\"dst_mac\":\"02:00:5e:10:ab:02\","
        "\"src_ip\":\"10.1.0.10\",\"dst_ip\":\"203.0.113.10\",\"src_port\":51000,\"dst_port\":443,"
        "\"protocol\":\"TCP\",\"length\":74,"
        "\"ts_sec\":1704110400,\"ts_nsec\":123456789,\"linktype\":1,\"cap_len\":74,"
        "\"ethertype\":\"0x0800\",\"vlan\":[],\"mpls_count\":0,\"ip_version\":4,\"ip_proto\":6,"
        "\"icmp_type\":null,\"icmp_code\":null,\"tcp_flags\":18,\"flags\":[]}");
}

static void json_ipv6_udp_vlan(void **state)
{
    (void)state;
    pktcap_summary s = ipv6_udp();
    s.time_digits = 9;
    s.vlan[1] = 7;
    s.vlan_count = 2;
    assert_string_equal(fmt(J, &s),
        "{\"number\":1,\"time\":\"2024-01-01T12:00:00.123456789Z\","
        "\"src_mac\":\"02:00:5e:10:ab:0a\",\"dst_mac\":\"02:00:5e:10:ab:0b\","
        "\"src_ip\":\"2001:db8:1::a\",\"dst_ip\":\"2001:db8:ff::19\",\"src_port\":53,\"dst_port\":40000,"
        "\"protocol\":\"UDP\",\"length\":110,"
        "\"ts_sec\":1704110400,\"ts_nsec\":123456789,\"linktype\":1,\"cap_len\":110,"
        "\"ethertype\":\"0x86dd\",\"vlan\":[100,7],\"mpls_count\":0,\"ip_version\":6,\"ip_proto\":17,"
        "\"icmp_type\":null,\"icmp_code\":null,\"tcp_flags\":null,\"flags\":[]}");
}

static void json_arp_has_addresses_but_no_ip_proto(void **state)
{
    (void)state;
    pktcap_summary s = arp();
    assert_string_equal(fmt(J, &s),
        "{\"number\":1,\"time\":\"2024-01-01T12:00:00.123456Z\","
        "\"src_mac\":\"02:00:5e:10:ab:01\",\"dst_mac\":\"ff:ff:ff:ff:ff:ff\","
        "\"src_ip\":\"10.0.0.2\",\"dst_ip\":\"10.0.0.1\",\"src_port\":null,\"dst_port\":null,"
        "\"protocol\":\"ARP\",\"length\":60,"
        "\"ts_sec\":1704110400,\"ts_nsec\":123456789,\"linktype\":1,\"cap_len\":60,"
        "\"ethertype\":\"0x0806\",\"vlan\":[],\"mpls_count\":0,\"ip_version\":4,\"ip_proto\":null,"
        "\"icmp_type\":null,\"icmp_code\":null,\"tcp_flags\":null,\"flags\":[]}");
}

static void json_icmpv6_with_flags(void **state)
{
    (void)state;
    pktcap_summary s = ipv6_udp();
    s.flags = PKTCAP_SUMMARY_HAS_MAC | PKTCAP_SUMMARY_HAS_IP | PKTCAP_SUMMARY_HAS_ICMP |
              PKTCAP_SUMMARY_TRUNCATED | PKTCAP_SUMMARY_MALFORMED;
    s.vlan_count = 0;
    s.mpls_count = 2;
    s.ip_proto = 58;
    s.icmp_type = 135;
    s.icmp_code = 255;
    s.src_port = s.dst_port = 0;
    s.cap_len = 80;
    s.time_digits = 0;
    strcpy(s.protocol, "ICMPv6");
    assert_string_equal(fmt(J, &s),
        "{\"number\":1,\"time\":\"2024-01-01T12:00:00Z\","
        "\"src_mac\":\"02:00:5e:10:ab:0a\",\"dst_mac\":\"02:00:5e:10:ab:0b\","
        "\"src_ip\":\"2001:db8:1::a\",\"dst_ip\":\"2001:db8:ff::19\",\"src_port\":null,\"dst_port\":null,"
        "\"protocol\":\"ICMPv6\",\"length\":110,"
        "\"ts_sec\":1704110400,\"ts_nsec\":123456789,\"linktype\":1,\"cap_len\":80,"
        "\"ethertype\":\"0x86dd\",\"vlan\":[],\"mpls_count\":2,\"ip_version\":6,\"ip_proto\":58,"
        "\"icmp_type\":135,\"icmp_code\":255,\"tcp_flags\":null,\"flags\":[\"truncated\",\"malformed\"]}");
}

static void json_unknown_linktype_is_all_null(void **state)
{
    (void)state;
    pktcap_summary s = unknown_linktype();
    s.ts_sec = -1;
    s.ts_nsec = 500000000;
    s.time_digits = 3;
    s.flags |= PKTCAP_SUMMARY_FRAGMENT;
    assert_string_equal(fmt(J, &s),
        "{\"number\":1,\"time\":\"1969-12-31T23:59:59.500Z\","
        "\"src_mac\":null,\"dst_mac\":null,\"src_ip\":null,\"dst_ip\":null,\"src_port\":null,\"dst_port\":null,"
        "\"protocol\":null,\"length\":100,"
        "\"ts_sec\":-1,\"ts_nsec\":500000000,\"linktype\":147,\"cap_len\":100,"
        "\"ethertype\":null,\"vlan\":[],\"mpls_count\":0,\"ip_version\":null,\"ip_proto\":null,"
        "\"icmp_type\":null,\"icmp_code\":null,\"tcp_flags\":null,"
        "\"flags\":[\"fragment\",\"unknown_linktype\"]}");
}

static void json_linux_cooked_has_a_null_destination_mac(void **state)
{
    (void)state;
    pktcap_summary s = ipv4_tcp();
    s.linktype = 276;
    memset(s.dst_mac, 0, 6);
    assert_non_null(strstr(fmt(J, &s), "\"src_mac\":\"02:00:5e:10:ab:01\",\"dst_mac\":null,"));
}

static void json_escapes_every_unusual_protocol_byte(void **state)
{
    (void)state;
    pktcap_summary s = lldp();
    memcpy(s.protocol, "a\"b\\c\n\x01\x7f\xc3\xa9/", 12);
    assert_non_null(strstr(fmt(J, &s),
                           ",\"protocol\":\"a\\\"b\\\\c\\u000a\\u0001\\u007f\\u00c3\\u00a9/\","));
    memcpy(s.protocol, "ABCDEFGHIJKLMNOP", 16);
    assert_non_null(strstr(fmt(J, &s), ",\"protocol\":\"ABCDEFGHIJKLMNOP\",\"length\":60,"));
}

/* --- CSV ----------------------------------------------------------------- */

static void csv_header_names_the_columns(void **state)
{
    (void)state;
    assert_string_equal(pktcap_summary_header(C),
                        "number,time,src_mac,dst_mac,src_ip,dst_ip,src_port,dst_port,protocol,length,"
                        "ts_sec,ts_nsec,linktype,cap_len,ethertype,vlan,mpls_count,ip_version,ip_proto,"
                        "icmp_type,icmp_code,tcp_flags,flags");
    assert_string_equal(pktcap_summary_header(T), "");
    assert_string_equal(pktcap_summary_header(J), "");
    assert_null(pktcap_summary_header(3));
    assert_null(pktcap_summary_header(-1));
}

static void csv_ipv4_tcp_row(void **state)
{
    (void)state;
    pktcap_summary s = ipv4_tcp();
    assert_string_equal(fmt(C, &s),
                        "1,2024-01-01T12:00:00.123456Z,02:00:5e:10:ab:01,02:00:5e:10:ab:02,10.1.0.10,"
                        "203.0.113.10,51000,443,TCP,74,1704110400,123456789,1,74,0x0800,,0,4,6,,,18,");
}

static void csv_lists_use_semicolons_and_absent_fields_are_empty(void **state)
{
    (void)state;
    pktcap_summary s = ipv6_udp();
    s.flags |= PKTCAP_SUMMARY_TRUNCATED | PKTCAP_SUMMARY_FRAGMENT;
    s.vlan[1] = 200;
    s.vlan_count = 2;
    s.mpls_count = 1;
    assert_string_equal(fmt(C, &s),
                        "1,2024-01-01T12:00:00.123456Z,02:00:5e:10:ab:0a,02:00:5e:10:ab:0b,2001:db8:1::a,"
                        "2001:db8:ff::19,53,40000,UDP,110,1704110400,123456789,1,110,0x86dd,100;200,1,6,17,"
                        ",,,truncated;fragment");
    s = unknown_linktype();
    assert_string_equal(fmt(C, &s),
                        "1,2024-01-01T12:00:00.123456Z,,,,,,,,100,1704110400,123456789,147,100,,,0,,,,,,"
                        "unknown_linktype");
    s = arp();
    assert_string_equal(fmt(C, &s),
                        "1,2024-01-01T12:00:00.123456Z,02:00:5e:10:ab:01,ff:ff:ff:ff:ff:ff,10.0.0.2,10.0.0.1,"
                        ",,ARP,60,1704110400,123456789,1,60,0x0806,,0,4,,,,,");
}

static void csv_quotes_fields_with_commas_quotes_and_line_breaks(void **state)
{
    (void)state;
    static const struct {
        const char *protocol;
        const char *field;
    } cases[] = {
        { "plain", ",plain," },
        { "a,b", ",\"a,b\"," },
        { "say \"hi\"", ",\"say \"\"hi\"\"\"," },
        { "\"", ",\"\"\"\"," },
        { "line\nbreak", ",\"line\nbreak\"," },
        { "cr\r", ",\"cr\r\"," },
        { "semi;colon", ",semi;colon," },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pktcap_summary s = lldp();
        char want[100];
        memset(s.protocol, 0, sizeof s.protocol);
        strcpy(s.protocol, cases[i].protocol);
        snprintf(want, sizeof want, ",,%s60,", cases[i].field);
        assert_non_null(strstr(fmt(C, &s), want));
    }
}

static void csv_rows_have_as_many_fields_as_the_header(void **state)
{
    (void)state;
    pktcap_summary all[5] = { ipv4_tcp(), ipv6_udp(), arp(), lldp(), unknown_linktype() };
    size_t columns = 1;
    for (const char *h = pktcap_summary_header(C); *h; h++)
        columns += *h == ',';
    assert_int_equal(columns, 23);
    for (size_t i = 0; i < 5; i++) {
        size_t fields = 1;
        for (const char *p = fmt(C, &all[i]); *p; p++)
            fields += *p == ',';
        assert_int_equal(fields, columns);
    }
}

/* --- addresses against inet_ntop ------------------------------------------ */

/* The src_ip column of a CSV row. */
static void csv_src_ip(const pktcap_summary *s, char *out, size_t size)
{
    const char *p = fmt(C, s);
    for (int comma = 0; comma < 4; p++)
        comma += *p == ',';
    size_t n = strcspn(p, ",");
    assert_true(n < size);
    memcpy(out, p, n);
    out[n] = '\0';
}

static void check_ipv6(const uint8_t addr[16])
{
    pktcap_summary s = ipv6_udp();
    char want[INET6_ADDRSTRLEN], got[64];
    memcpy(s.src_ip, addr, 16);
    assert_non_null(inet_ntop(AF_INET6, addr, want, sizeof want));
    csv_src_ip(&s, got, sizeof got);
    if (strcmp(got, want) != 0)
        fail_msg("IPv6: got %s, inet_ntop says %s", got, want);
}

static void ipv6_text_matches_inet_ntop_on_edge_cases(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "::", "::1", "1::", "::2", "1::1", "::ffff:1.2.3.4", "::ffff:0.0.0.0", "::1.2.3.4",
        "::0.0.0.2", "::ffff:0:0", "::fffe:1.2.3.4", "0:0:0:0:1:ffff:1.2.3.4",
        "::ffff:0:1.2.3.4", "64:ff9b::1.2.3.4", "1:0:0:1::", "1:0:0:1:0:0:1:0",
        "1:0:1:0:1:0:1:0", "0:1:0:1:0:1:0:1", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7::",
        "::2:3:4:5:6:7:8", "1::3:0:0:0:7:8", "1:0:0:4:0:0:0:8", "1:0:0:0:5:0:0:8",
        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "::ffff:255.255.255.255", "fe80::1",
        "2001:db8::", "2001:db8:0:0:1:0:0:1", "0:0:1::", "::1:0:0", "abcd:ef01:2345:6789::",
        "::a:b", "::0:a:b", "0:0:0:0:0:1:0:0", "::100", "::1000:0", "::ffff",
        "::ffff:1", "::1:ffff:1.2.3.4", "0:0:0:0:0:ffff:ffff:ffff",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        uint8_t addr[16];
        assert_int_equal(inet_pton(AF_INET6, texts[i], addr), 1);
        check_ipv6(addr);
    }
}

static void ipv6_text_matches_inet_ntop_on_random_addresses(void **state)
{
    (void)state;
    /* Every pattern of zero and non-zero groups, with random values... */
    for (unsigned mask = 0; mask < 256; mask++) {
        for (int k = 0; k < 20; k++) {
            uint8_t addr[16];
            for (int g = 0; g < 8; g++) {
                uint64_t r = rnd();
                unsigned w = (mask >> g & 1) ? 0 : (unsigned)(r >> 20 & 0xffff);
                if (!(mask >> g & 1) && w == 0)
                    w = 1;
                /* ...and small or ffff groups, where the IPv4 forms live. */
                if (!(mask >> g & 1) && (r & 7) == 0)
                    w = (r & 8) ? 0xffff : (unsigned)(r >> 40 & 0xf) + 1;
                addr[2 * g] = (uint8_t)(w >> 8);
                addr[2 * g + 1] = (uint8_t)w;
            }
            check_ipv6(addr);
        }
    }
    /* Uniformly random bytes. */
    for (int k = 0; k < 5000; k++) {
        uint8_t addr[16];
        for (int b = 0; b < 16; b++)
            addr[b] = (uint8_t)(rnd() >> 32);
        check_ipv6(addr);
    }
}

static void ipv4_text_matches_inet_ntop(void **state)
{
    (void)state;
    pktcap_summary s = ipv4_tcp();
    for (int k = 0; k < 5000; k++) {
        char want[INET_ADDRSTRLEN], got[32];
        uint64_t r = rnd();
        for (int b = 0; b < 4; b++) {
            unsigned v = (unsigned)(r >> (8 * b) & 0xff);
            /* Plenty of one- and two-digit octets too. */
            s.src_ip[b] = (uint8_t)((r >> (40 + b * 2) & 3) == 0 ? v % 10 : (r >> (48 + b * 2) & 3) == 0 ? v % 100 : v);
        }
        if (k == 0)
            memset(s.src_ip, 0, 4);
        if (k == 1)
            memset(s.src_ip, 255, 4);
        assert_non_null(inet_ntop(AF_INET, s.src_ip, want, sizeof want));
        csv_src_ip(&s, got, sizeof got);
        assert_string_equal(got, want);
    }
}

/* --- time ---------------------------------------------------------------- */

static void time_digits_0_to_9_cut_the_fraction(void **state)
{
    (void)state;
    static const char *const text[] = {
        "12:00:00", "12:00:00.1", "12:00:00.12", "12:00:00.123", "12:00:00.1234",
        "12:00:00.12345", "12:00:00.123456", "12:00:00.1234567", "12:00:00.12345678",
        "12:00:00.123456789",
    };
    pktcap_summary s = ipv4_tcp();
    s.ts_nsec = 123456789;
    for (unsigned d = 0; d <= 9; d++) {
        char want[200];
        s.time_digits = d;
        snprintf(want, sizeof want, "1 %s IP ", text[d]);
        assert_memory_equal(fmt(T, &s), want, strlen(want));
        snprintf(want, sizeof want, "{\"number\":1,\"time\":\"2024-01-01T%sZ\",", text[d]);
        assert_memory_equal(fmt(J, &s), want, strlen(want));
        snprintf(want, sizeof want, "1,2024-01-01T%sZ,", text[d]);
        assert_memory_equal(fmt(C, &s), want, strlen(want));
    }
    /* Leading zeros of the fraction are kept; digits above 9 print 9. */
    s.ts_nsec = 1002;
    s.time_digits = 9;
    assert_memory_equal(fmt(T, &s), "1 12:00:00.000001002 ", 21);
    s.time_digits = 6;
    assert_memory_equal(fmt(T, &s), "1 12:00:00.000001 ", 18);
    s.time_digits = 100;
    assert_memory_equal(fmt(T, &s), "1 12:00:00.000001002 ", 21);
}

static void time_dates_are_utc_rfc3339(void **state)
{
    (void)state;
    static const struct {
        int64_t sec;
        uint32_t nsec;
        const char *time;
    } cases[] = {
        { 0, 0, "1970-01-01T00:00:00.000000Z" },
        { -1, 999999000, "1969-12-31T23:59:59.999999Z" },
        { 951782400, 0, "2000-02-29T00:00:00.000000Z" },
        { 1709164799, 0, "2024-02-28T23:59:59.000000Z" },
        { 1709251199, 0, "2024-02-29T23:59:59.000000Z" },
        { 2147483647, 0, "2038-01-19T03:14:07.000000Z" },
        { 4294967295, 0, "2106-02-07T06:28:15.000000Z" },
        { 253402300799, 0, "9999-12-31T23:59:59.000000Z" },
        { 253402300800, 0, "+10000-01-01T00:00:00.000000Z" },
        { -62167219200, 0, "0000-01-01T00:00:00.000000Z" },
        { -62167219201, 0, "-0001-12-31T23:59:59.000000Z" },
        /* Nanoseconds past a second (not from the decoder) carry over. */
        { 0, 2500000000u, "1970-01-01T00:00:02.500000Z" },
        { INT64_MAX, 0, "+292277026596-12-04T15:30:07.000000Z" },
        { INT64_MIN, 0, "-292277022657-01-27T08:29:52.000000Z" },
        { INT64_MAX, 4000000000u, "+292277026596-12-04T15:30:07.999999Z" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pktcap_summary s = unknown_linktype();
        char want[100];
        s.ts_sec = cases[i].sec;
        s.ts_nsec = cases[i].nsec;
        snprintf(want, sizeof want, "1,%s,", cases[i].time);
        const char *got = fmt(C, &s);
        if (strncmp(got, want, strlen(want)) != 0)
            fail_msg("ts_sec %lld: got %s, want %s", (long long)cases[i].sec, got, want);
    }
}

static void time_matches_gmtime_for_random_seconds(void **state)
{
    (void)state;
    pktcap_summary s = unknown_linktype();
    s.time_digits = 0;
    for (int k = 0; k < 20000; k++) {
        /* Years 1 to 9999. */
        int64_t sec = (int64_t)(rnd() % UINT64_C(315537897600)) - INT64_C(62135596800);
        time_t t = (time_t)sec;
        struct tm tm;
        char want[100], date[64];
        assert_non_null(gmtime_r(&t, &tm));
        strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm);
        snprintf(want, sizeof want, "1,%04d%s,", tm.tm_year + 1900, date + strcspn(date, "-"));
        s.ts_sec = sec;
        const char *got = fmt(C, &s);
        if (strncmp(got, want, strlen(want)) != 0)
            fail_msg("ts_sec %lld: got %s, want %s", (long long)sec, got, want);
        /* Text: the time of day alone. */
        snprintf(want, sizeof want, "1 %02d:%02d:%02d ", tm.tm_hour, tm.tm_min, tm.tm_sec);
        assert_memory_equal(fmt(T, &s), want, strlen(want));
    }
}

/* --- the buffer contract ------------------------------------------------- */

static void every_buffer_size_gets_the_exact_length(void **state)
{
    (void)state;
    pktcap_summary all[5] = { ipv4_tcp(), ipv6_udp(), arp(), lldp(), unknown_linktype() };
    for (size_t i = 0; i < 5; i++) {
        for (int format = 0; format <= 2; format++) {
            char full[2048];
            size_t len;
            assert_int_equal(pktcap_summary_format(&len, full, sizeof full, format, &all[i]), 0);
            assert_int_equal(len, strlen(full));
            /* NULL with size 0: a length query. */
            size_t n = 0;
            assert_int_equal(pktcap_summary_format(&n, NULL, 0, format, &all[i]), PKTCAP_E_LIMIT);
            assert_int_equal(n, len);
            assert_int_equal(pktcap_error_code(pktcap_error_last()), PKTCAP_E_LIMIT);
            for (size_t size = 0; size <= len + 1; size++) {
                /* The buffer sits on the heap at its exact size, so ASan sees any overrun. */
                char *buf = malloc(size ? size : 1);
                assert_non_null(buf);
                memset(buf, 'x', size ? size : 1);
                n = 0;
                int rc = pktcap_summary_format(&n, size ? buf : NULL, size, format, &all[i]);
                assert_int_equal(n, len);
                if (size <= len) {
                    assert_int_equal(rc, PKTCAP_E_LIMIT);
                    if (size > 0) {
                        assert_int_equal(buf[0], '\0');
                        for (size_t b = 1; b < size; b++)
                            assert_int_equal(buf[b], 'x');
                    }
                } else {
                    assert_int_equal(rc, 0);
                    assert_string_equal(buf, full);
                }
                free(buf);
            }
        }
    }
}

static void wrong_arguments_are_invalid(void **state)
{
    (void)state;
    pktcap_summary s = ipv4_tcp();
    char buf[512] = "untouched";
    size_t n = 777;
    assert_int_equal(pktcap_summary_format(NULL, buf, sizeof buf, T, &s), PKTCAP_E_INVAL);
    assert_int_equal(pktcap_summary_format(&n, buf, sizeof buf, T, NULL), PKTCAP_E_INVAL);
    assert_int_equal(pktcap_summary_format(&n, NULL, 10, T, &s), PKTCAP_E_INVAL);
    assert_int_equal(pktcap_summary_format(&n, buf, sizeof buf, 3, &s), PKTCAP_E_INVAL);
    assert_int_equal(pktcap_summary_format(&n, buf, sizeof buf, -1, &s), PKTCAP_E_INVAL);
    assert_int_equal(pktcap_error_code(pktcap_error_last()), PKTCAP_E_INVAL);
    assert_non_null(strstr(pktcap_error_message(pktcap_error_last()), "unknown format -1"));
    /* The first version ends with `protocol` (sizeof may add tail padding). */
    s.struct_size = offsetof(pktcap_summary, protocol) + sizeof s.protocol - 1;
    assert_int_equal(pktcap_summary_format(&n, buf, sizeof buf, T, &s), PKTCAP_E_INVAL);
    s.struct_size = 0;
    assert_int_equal(pktcap_summary_format(&n, buf, sizeof buf, J, &s), PKTCAP_E_INVAL);
    /* Nothing was written. */
    assert_int_equal(n, 777);
    assert_string_equal(buf, "untouched");
    /* Without tail padding, and a later, longer struct, are fine. */
    s.struct_size = offsetof(pktcap_summary, protocol) + sizeof s.protocol;
    assert_int_equal(pktcap_summary_format(&n, buf, sizeof buf, T, &s), 0);
    s.struct_size = sizeof s + 64;
    assert_int_equal(pktcap_summary_format(&n, buf, sizeof buf, T, &s), 0);
}

/* Any bytes at all in a summary (flags, counts, protocol without NUL, times
 * at the extremes) stay within bounds and give ASCII without control bytes,
 * except a CSV's quoted protocol. */
static void garbage_summaries_stay_in_bounds(void **state)
{
    (void)state;
    size_t longest = 0;
    for (int k = 0; k < 20000; k++) {
        pktcap_summary s;
        uint8_t *raw = (uint8_t *)&s;
        for (size_t b = 0; b < sizeof s; b++)
            raw[b] = (uint8_t)(rnd() >> 24);
        s.struct_size = sizeof s;
        if (k % 4 == 0) {
            /* Every field at its longest. */
            s.flags = UINT32_MAX;
            s.number = UINT64_MAX;
            s.ts_sec = (k & 8) ? INT64_MIN : INT64_MAX;
            s.ts_nsec = UINT32_MAX;
            s.time_digits = 9;
            s.linktype = 4000000000u;
            s.wire_len = s.cap_len - 1;
            s.ip_version = 6;
            s.ip_proto = 255;
            memset(s.src_ip, 0xff, 10);
            memset(s.dst_ip, 0x00, 10);
            s.dst_ip[10] = s.dst_ip[11] = 0xff;
            memset(s.protocol, (k & 16) ? '"' : 0x01, sizeof s.protocol);
            s.vlan_count = 255;
            s.vlan[0] = s.vlan[1] = 65535;
        }
        for (int format = 0; format <= 2; format++) {
            char buf[2048];
            size_t n;
            assert_int_equal(pktcap_summary_format(&n, buf, sizeof buf, format, &s), 0);
            assert_int_equal(n, strlen(buf));
            if (n > longest)
                longest = n;
            for (size_t b = 0; b < n && format != C; b++)
                assert_true(buf[b] >= 0x20 && buf[b] < 0x7f);
        }
    }
    /* Well below the formatter's 1024-byte work area. */
    assert_true(longest < 900);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(text_ipv4_tcp_is_a_tcpdump_like_line),
        cmocka_unit_test(unknown_tcp_flags_are_left_out),
        cmocka_unit_test(text_ipv6_udp_shows_the_vlan),
        cmocka_unit_test(text_icmp_shows_type_and_code),
        cmocka_unit_test(text_arp_shows_sender_and_target),
        cmocka_unit_test(text_non_ip_ethernet_shows_macs_and_ethertype),
        cmocka_unit_test(text_linux_cooked_has_no_destination_mac),
        cmocka_unit_test(text_unknown_linktype_names_it),
        cmocka_unit_test(text_nothing_decoded_prints_the_protocol_or_a_dash),
        cmocka_unit_test(text_qinq_and_mpls_come_before_the_addresses),
        cmocka_unit_test(text_flags_and_captured_length_end_the_line),
        cmocka_unit_test(text_fragment_without_ports),
        cmocka_unit_test(text_unknown_ip_protocol_prints_its_number),
        cmocka_unit_test(text_tcp_flags_follow_tcpdump),
        cmocka_unit_test(tcp_flags_follow_the_protocol_not_ip_proto),
        cmocka_unit_test(text_replaces_unprintable_protocol_bytes),
        cmocka_unit_test(json_ipv4_tcp_has_sdwan_keys_then_ours),
        cmocka_unit_test(json_ipv6_udp_vlan),
        cmocka_unit_test(json_arp_has_addresses_but_no_ip_proto),
        cmocka_unit_test(json_icmpv6_with_flags),
        cmocka_unit_test(json_unknown_linktype_is_all_null),
        cmocka_unit_test(json_linux_cooked_has_a_null_destination_mac),
        cmocka_unit_test(json_escapes_every_unusual_protocol_byte),
        cmocka_unit_test(csv_header_names_the_columns),
        cmocka_unit_test(csv_ipv4_tcp_row),
        cmocka_unit_test(csv_lists_use_semicolons_and_absent_fields_are_empty),
        cmocka_unit_test(csv_quotes_fields_with_commas_quotes_and_line_breaks),
        cmocka_unit_test(csv_rows_have_as_many_fields_as_the_header),
        cmocka_unit_test(ipv6_text_matches_inet_ntop_on_edge_cases),
        cmocka_unit_test(ipv6_text_matches_inet_ntop_on_random_addresses),
        cmocka_unit_test(ipv4_text_matches_inet_ntop),
        cmocka_unit_test(time_digits_0_to_9_cut_the_fraction),
        cmocka_unit_test(time_dates_are_utc_rfc3339),
        cmocka_unit_test(time_matches_gmtime_for_random_seconds),
        cmocka_unit_test(every_buffer_size_gets_the_exact_length),
        cmocka_unit_test(wrong_arguments_are_invalid),
        cmocka_unit_test(garbage_summaries_stay_in_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
