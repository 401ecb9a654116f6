/* test_differential — pktcap_filter_match against libpcap, packet for packet.
 *
 * For each of 500 random rule filters (built with the typed setters) plus a
 * hand-written list of targeted ones, and every packet of
 *   (a) 20 000 IMIX packets generated in process (bench/imix.h),
 *   (b) every capture file under $PKTCAP_CORPUS (tests/corpus/), and
 *   (c) variants of IP datagrams taken from (a) and (b): put behind every
 *       supported link layer (Ethernet with 0-3 VLAN tags, Linux cooked v1
 *       and v2, raw IP, IPv4, IPv6, BSD loopback in both byte orders),
 *       with mangled headers (IHL, fragments, IPv6 Fragment and hop-by-hop
 *       headers) and cut at random lengths or at every length,
 * pktcap_filter_match must answer what pcap_offline_filter answers with
 * pcap_compile(pktcap_filter_to_bpf(filter, linktype)). The reference is the
 * program compiled with the optimizer off, which evaluates the expression as
 * written; the optimized program (what tcpdump runs) is compared too, and
 * where libpcap's optimizer changes an answer — a libpcap 1.10 bug on some
 * long expressions: `tcpdump -O` and `tcpdump` then disagree — the pair is
 * counted and the first few are shown, but it is not our disagreement. The
 * handle is the one tcpdump -r would compile with: on BSD loopback (NULL,
 * LOOP) that of a capture file in the byte order the packet came in — the
 * corpus file's own (pcap_is_swapped), or for a variant the order its family
 * word was written in — made by pcap_fopen_offline on a bare pcap file
 * header; on the other link types a pcap_open_dead handle, after checking
 * that a capture file's handle compiles every rendering to the same program.
 * On link types the evaluator does not support, it must answer
 * PKTCAP_E_NOTSUP. A few raw-BPF filters are run the same way over every
 * link type (libpcap on both sides: this checks the cache).
 *
 * The seed is printed; PKTCAP_FILTER_SEED overrides it (decimal or 0x...),
 * PKTCAP_FILTER_COUNT the number of random filters. The first 20
 * disagreements are printed in full (filter, BPF, packet source and hex,
 * both answers) and the test fails.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <pktcap/pktcap.h>
#include <pktcap/summary.h>

#include "imix.h"
#include "packets.h"

#define DEFAULT_SEED UINT64_C(0x5eedf17e12345678)
#define DEFAULT_FILTERS 500
#define IMIX_PACKETS 20000
#define MAX_REPORTS 20
#define SNAPLEN 262144

/* ---- helpers ---------------------------------------------------------------- */

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

static void die(const char *fmt, ...)
{
    va_list ap;
    fputs("test_differential: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        die("out of memory");
    return p;
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        die("out of memory");
    return p;
}

static char *xstrdup(const char *s)
{
    char *c = xmalloc(strlen(s) + 1);
    strcpy(c, s);
    return c;
}

static void check(int rc, const char *what)
{
    if (rc < 0)
        die("%s: %s (%s)", what, pktcap_error_message(pktcap_error_last()), pktcap_error_name(rc));
}

/* xoshiro-free splitmix64: plenty for test data, and one line. */
static uint64_t rng_state;

static uint64_t rnd64(void)
{
    uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* 0 … n-1 */
static unsigned rnd(unsigned n)
{
    return n ? (unsigned)(rnd64() % n) : 0;
}

/* true with probability percent/100 */
static int chance(unsigned percent)
{
    return rnd(100) < percent;
}

/* ---- link types ------------------------------------------------------------- */

#define LT_NULL 0
#define LT_ETHERNET 1
#define LT_RAW 101
#define LT_LOOP 108
#define LT_SLL 113
#define LT_IPV4 228
#define LT_IPV6 229
#define LT_SLL2 276

static const uint32_t supported[] = { LT_NULL, LT_ETHERNET, LT_RAW, LT_LOOP, LT_SLL,
                                      LT_IPV4, LT_IPV6, LT_SLL2 };
#define NSUPPORTED (sizeof supported / sizeof supported[0])

static int supported_index(uint32_t linktype)
{
    for (size_t i = 0; i < NSUPPORTED; i++)
        if (supported[i] == linktype)
            return (int)i;
    return -1;
}

/* pcap_open_dead takes a DLT; only raw IP differs among the supported ones. */
static int dlt_of(uint32_t linktype)
{
    return linktype == LT_RAW ? DLT_RAW : (int)linktype;
}

static int is_loopback(uint32_t linktype)
{
    return linktype == LT_NULL || linktype == LT_LOOP;
}

static int host_little_endian(void)
{
    uint16_t one = 1;
    return *(const uint8_t *)&one == 1;
}

/* A capture file's pcap handle: pcap_fopen_offline on a bare pcap file header
 * for `linktype`, in this machine's byte order, or in the other one when
 * `swapped` (libpcap then takes the file for one written on a machine of the
 * other byte order). The handle reads from `header` until it is closed. */
typedef struct savefile {
    pcap_t *h;
    uint8_t header[24];
} savefile;

static void open_savefile(savefile *sf, uint32_t linktype, int swapped)
{
    static const uint32_t fields[7] = { 0xa1b2c3d4, 2, 4, 0, 0, SNAPLEN, 0 };
    static const int widths[7] = { 4, 2, 2, 4, 4, 4, 4 };
    uint8_t *f = sf->header;
    int big = host_little_endian() == swapped;
    char err[PCAP_ERRBUF_SIZE];
    FILE *fp;
    for (int i = 0; i < 7; f += widths[i++]) {
        uint32_t v = i == 6 ? linktype : fields[i];
        for (int k = 0; k < widths[i]; k++)
            f[big ? widths[i] - 1 - k : k] = (uint8_t)(v >> (8 * k));
    }
    fp = fmemopen(sf->header, sizeof sf->header, "rb");
    if (!fp)
        die("fmemopen failed");
    sf->h = pcap_fopen_offline(fp, err);
    if (!sf->h)
        die("pcap_fopen_offline(link type %u, %s): %s", linktype,
            swapped ? "swapped" : "this machine's byte order", err);
    if (pcap_is_swapped(sf->h) != swapped)
        die("pcap_fopen_offline: pcap_is_swapped is %d, expected %d", pcap_is_swapped(sf->h),
            swapped);
}

/* Capture-file handles for every supported link type, in both byte orders. */
static savefile savefiles[NSUPPORTED][2];

static void open_savefiles(void)
{
    for (size_t i = 0; i < NSUPPORTED; i++)
        for (int swapped = 0; swapped < 2; swapped++)
            open_savefile(&savefiles[i][swapped], supported[i], swapped);
}

static void close_savefiles(void)
{
    for (size_t i = 0; i < NSUPPORTED; i++)
        for (int swapped = 0; swapped < 2; swapped++)
            pcap_close(savefiles[i][swapped].h);
}

/* ---- the packets ------------------------------------------------------------ */

typedef struct packet {
    uint32_t linktype, caplen, len;
    int swapped;          /* from a capture file in the other byte order than this machine's */
    uint8_t *data;
    const char *source;   /* file, "imix" or a variant's description */
    unsigned long number; /* 1-based within the source */
} packet;

static packet *packets;
static size_t npackets, packets_cap;

static void add_packet(uint32_t linktype, int swapped, const uint8_t *data, uint32_t caplen,
                       uint32_t len, const char *source, unsigned long number)
{
    packet *p;
    if (npackets == packets_cap) {
        packets_cap = packets_cap ? 2 * packets_cap : 4096;
        packets = xrealloc(packets, packets_cap * sizeof *packets);
    }
    p = &packets[npackets++];
    p->linktype = linktype;
    p->swapped = swapped;
    p->caplen = caplen;
    p->len = len < caplen ? caplen : len;
    p->data = xmalloc(caplen);
    if (caplen)
        memcpy(p->data, data, caplen);
    p->source = source;
    p->number = number;
}

/* Addresses and ports seen in the packets, for filters that match them. */
typedef struct addr {
    int family;
    uint8_t a[16];
} addr;

typedef struct pool {
    addr *addrs;
    size_t naddrs, cap;
    uint16_t *ports;
    size_t nports, pcap;
} pool;

static pool imix_pool, all_pool;

static void pool_add(pool *pl, const pktcap_summary *s)
{
    if (s->flags & PKTCAP_SUMMARY_HAS_IP && !(s->flags & PKTCAP_SUMMARY_ARP) &&
        (s->ip_version == 4 || s->ip_version == 6)) {
        for (int k = 0; k < 2; k++) {
            addr *a;
            if (pl->naddrs == pl->cap) {
                pl->cap = pl->cap ? 2 * pl->cap : 256;
                pl->addrs = xrealloc(pl->addrs, pl->cap * sizeof *pl->addrs);
            }
            a = &pl->addrs[pl->naddrs++];
            memset(a, 0, sizeof *a);
            a->family = s->ip_version;
            memcpy(a->a, k ? s->dst_ip : s->src_ip, s->ip_version == 4 ? 4 : 16);
        }
    }
    if (s->flags & PKTCAP_SUMMARY_HAS_PORTS) {
        if (pl->nports + 2 > pl->pcap) {
            pl->pcap = pl->pcap ? 2 * pl->pcap : 256;
            pl->ports = xrealloc(pl->ports, pl->pcap * sizeof *pl->ports);
        }
        pl->ports[pl->nports++] = s->src_port;
        pl->ports[pl->nports++] = s->dst_port;
    }
}

static int addr_cmp(const void *x, const void *y)
{
    const addr *a = x, *b = y;
    if (a->family != b->family)
        return a->family - b->family;
    return memcmp(a->a, b->a, 16);
}

static int port_cmp(const void *x, const void *y)
{
    return (int)*(const uint16_t *)x - (int)*(const uint16_t *)y;
}

/* Sort and keep one of each. */
static void pool_finish(pool *pl)
{
    size_t i, n = 0;
    qsort(pl->addrs, pl->naddrs, sizeof *pl->addrs, addr_cmp);
    for (i = 0; i < pl->naddrs; i++)
        if (n == 0 || addr_cmp(&pl->addrs[n - 1], &pl->addrs[i]) != 0)
            pl->addrs[n++] = pl->addrs[i];
    pl->naddrs = n;
    qsort(pl->ports, pl->nports, sizeof *pl->ports, port_cmp);
    for (i = 0, n = 0; i < pl->nports; i++)
        if (n == 0 || pl->ports[n - 1] != pl->ports[i])
            pl->ports[n++] = pl->ports[i];
    pl->nports = n;
}

static void harvest(pool *pl, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        pktcap_summary s = { .struct_size = sizeof s };
        pktcap_packet p = { .struct_size = sizeof p };
        p.linktype = packets[i].linktype;
        p.caplen = packets[i].caplen;
        p.len = packets[i].len;
        p.data = packets[i].data;
        pktcap_summarize(&s, &p);
        pool_add(pl, &s);
    }
}

static void load_imix(void)
{
    static imix_state g;
    uint8_t frame[IMIX_MAX_FRAME];
    uint32_t len;
    uint64_t ts;
    imix_init(&g, IMIX_DEFAULT_SEED);
    for (unsigned long i = 0; i < IMIX_PACKETS; i++) {
        imix_next(&g, frame, &len, &ts);
        add_packet(LT_ETHERNET, 0, frame, len, len, "imix", i + 1);
    }
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static size_t corpus_files, loopback_files;

/* Is the capture file in the other byte order than this machine's, as libpcap
 * sees it (tcpdump -r compiles BSD loopback NULL filters for that order)? -1
 * when libpcap cannot open it. */
static int file_swapped(const char *path)
{
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *h = pcap_open_offline(path, err);
    int swapped;
    if (!h)
        return -1;
    swapped = pcap_is_swapped(h);
    pcap_close(h);
    return swapped;
}

/* Every file under dir, in name order; a file the reader refuses is skipped,
 * one that fails midway keeps the packets read before the failure. */
static void load_corpus(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    size_t n = 0, cap = 0;
    if (!d)
        die("%s: cannot open the corpus directory", dir);
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            names = xrealloc(names, cap * sizeof *names);
        }
        names[n] = xmalloc(strlen(dir) + strlen(e->d_name) + 2);
        sprintf(names[n++], "%s/%s", dir, e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, name_cmp);
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        pktcap_reader *r;
        const pktcap_packet *p;
        unsigned long number = 0;
        if (stat(names[i], &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            load_corpus(names[i]);
            free(names[i]);
            continue;
        }
        if (pktcap_reader_open(&r, names[i]) != 0) {
            free(names[i]);
            continue;
        }
        corpus_files++;
        int swapped = -2; /* not asked yet */
        while (pktcap_reader_next(&p, r) == 0) {
            ++number;
            if (is_loopback(p->linktype)) {
                if (swapped == -2 && (swapped = file_swapped(names[i])) >= 0)
                    loopback_files++;
                if (swapped < 0) {
                    printf("%s: libpcap cannot open it; its BSD loopback packets are left out\n",
                           names[i]);
                    continue;
                }
            }
            add_packet(p->linktype, swapped > 0, p->data, p->caplen, p->len, names[i], number);
        }
        pktcap_reader_close(r);
        if (number == 0) /* else names[i] stays: the packets' source */
            free(names[i]);
    }
    free(names);
}

/* ---- (c) variants: datagrams behind other link layers, mangled, cut ---------- */

/* Where the IP datagram starts in an Ethernet frame (behind up to 2 tags), or -1. */
static long ethernet_ip(const packet *p)
{
    uint32_t off = 12;
    for (int tags = 0; tags <= 2; tags++, off += 4) {
        unsigned type;
        if (p->caplen < off + 2)
            return -1;
        type = (unsigned)p->data[off] << 8 | p->data[off + 1];
        if (type == 0x0800 || type == 0x86dd)
            return off + 2;
        if (type != 0x8100 && type != 0x88a8 && type != 0x9100)
            return -1;
    }
    return -1;
}

enum variant {
    V_ETH, V_ETH_TAG, V_ETH_2TAGS, V_ETH_3TAGS, V_ETH_NOT_A_TAG, V_SLL, V_SLL2, V_RAW,
    V_IPV4, V_IPV6, V_NULL, V_NULL_SWAPPED, V_LOOP, V_LOOP_SWAPPED, V_COUNT
};

static const char *const variant_names[V_COUNT] = {
    "ethernet", "ethernet+1 tag", "ethernet+2 tags", "ethernet+3 tags",
    "ethernet+MPLS-typed tag", "linux-sll", "linux-sll2", "raw", "ipv4", "ipv6",
    "null", "null-swapped", "loop", "loop-swapped-file"
};

static const unsigned tpids[] = { 0x8100, 0x88a8, 0x9100 };

/* The link header of a variant for a datagram of `family` into b; the link
 * type, and in *swapped whether the packet is from a capture file in the
 * other byte order than this machine's. BSD loopback: IPv6 is one of the BSD
 * AF_INET6 values 24, 28, 30, now and then Linux's 10 (not IPv6 there); NULL
 * writes it in the file's byte order, LOOP in network order in either file. */
static uint32_t link_header(pkt *b, enum variant v, int family, int *swapped)
{
    static const uint32_t inet6[] = { 24, 28, 30, 10 };
    unsigned type = family == 6 ? 0x86dd : 0x0800;
    uint32_t af = family == 6 ? inet6[chance(12) ? 3 : rnd(3)] : 2;
    int tags = v == V_ETH_TAG ? 1 : v == V_ETH_2TAGS ? 2 : v == V_ETH_3TAGS ? 3 : 0;
    int little = host_little_endian();
    *swapped = v == V_NULL_SWAPPED || v == V_LOOP_SWAPPED;
    switch (v) {
    case V_ETH:
    case V_ETH_TAG:
    case V_ETH_2TAGS:
    case V_ETH_3TAGS:
        pkt_ethernet(b, MAC_B, MAC_A, tags ? tpids[rnd(3)] : type);
        for (int t = 1; t <= tags; t++)
            pkt_vlan_tag(b, rnd(4096), t == tags ? type : tpids[rnd(3)]);
        return LT_ETHERNET;
    case V_ETH_NOT_A_TAG:
        pkt_ethernet(b, MAC_B, MAC_A, 0x8847);
        pkt_vlan_tag(b, rnd(4096), type);
        return LT_ETHERNET;
    case V_SLL:
        pkt_linux_sll(b, 1, MAC_A, 6, type);
        return LT_SLL;
    case V_SLL2:
        pkt_linux_sll2(b, type, 1, MAC_A, 6);
        return LT_SLL2;
    case V_RAW:
        return LT_RAW;
    case V_IPV4:
        return LT_IPV4;
    case V_IPV6:
        return LT_IPV6;
    case V_NULL:
        pkt_bsd_family(b, af, little);
        return LT_NULL;
    case V_NULL_SWAPPED:
        pkt_bsd_family(b, af, !little);
        return LT_NULL;
    default: /* V_LOOP, V_LOOP_SWAPPED */
        pkt_bsd_family(b, af, 0);
        return LT_LOOP;
    }
}

/* Mangle a datagram (in place, room for 8 more bytes): IHL, fragment fields,
 * protocols, an IPv6 Fragment or hop-by-hop header inserted. */
static size_t mangle(uint8_t *ip, size_t n)
{
    static const uint8_t protos[] = { 6, 17, 1, 58, 132, 44, 0 };
    /* flags and fragment offset: MF, DF, the reserved bit, offsets 1 and 8191 */
    static const uint16_t fragments[] = { 0x2000, 0x4000, 0x8000, 0x0001, 0x2001, 0x1fff,
                                          0x3fff, 0x0100, 0xe000 };
    if (n < 1)
        return n;
    if (ip[0] >> 4 == 4 && n >= 20) {
        for (unsigned k = 1 + rnd(2); k > 0; k--) {
            uint16_t frag = fragments[rnd(sizeof fragments / sizeof fragments[0])];
            switch (rnd(4)) {
            case 0: ip[0] = (uint8_t)(0x40 | rnd(16)); break;      /* IHL 0-15 */
            case 1: ip[6] = (uint8_t)(frag >> 8); ip[7] = (uint8_t)frag; break;
            case 2: ip[6] = (uint8_t)rnd(256); ip[7] = (uint8_t)rnd(256); break;
            default: ip[9] = protos[rnd(sizeof protos)]; break;
            }
        }
    } else if (ip[0] >> 4 == 6 && n >= 40) {
        unsigned kind = rnd(3);
        if (kind == 2) {
            ip[6] = protos[rnd(sizeof protos)];
        } else {
            /* insert an 8-byte extension header after the fixed header */
            memmove(ip + 48, ip + 40, n - 40);
            ip[40] = ip[6];
            ip[41] = 0;
            if (kind == 0) { /* Fragment: offset 0 or not */
                ip[6] = 44;
                ip[42] = chance(50) ? 0 : (uint8_t)rnd(256);
                ip[43] = (uint8_t)rnd(256);
            } else {         /* hop-by-hop, PadN */
                ip[6] = 0;
                ip[42] = 1;
                ip[43] = 4;
            }
            memset(ip + 44, 0, 4);
            n += 8;
        }
    }
    return n;
}

static const char *variant_source(enum variant v, int mangled, int swept)
{
    /* one static string per combination, for the reports */
    static char names[V_COUNT][2][2][64];
    char *s = names[v][mangled][swept];
    if (!s[0])
        snprintf(s, sizeof names[0][0][0], "variant %s%s%s", variant_names[v],
                 mangled ? ", mangled" : "", swept ? ", cut at every length" : "");
    return s;
}

/* One variant of a datagram, at its full length and cut at a random length,
 * or (sweep) cut at every length up to 72 bytes past the link header. */
static void add_variants(const uint8_t *ip, size_t n, int mangled, enum variant v, int sweep)
{
    pkt b;
    uint32_t lt, full, cut;
    int family = ip[0] >> 4 == 6 ? 6 : 4, swapped;
    if (chance(8))
        family = 10 - family; /* a link header that contradicts the version nibble */
    pkt_init(&b);
    lt = link_header(&b, v, family, &swapped);
    if (n > PKT_MAX - b.len)
        n = PKT_MAX - b.len;
    pkt_bytes(&b, ip, n);
    full = (uint32_t)b.len;
    if (sweep) {
        uint32_t last = full < b.len - n + 72 ? full : (uint32_t)(b.len - n + 72);
        for (cut = 0; cut <= last; cut++)
            add_packet(lt, swapped, b.data, cut, full, variant_source(v, mangled, 1), cut);
        return;
    }
    add_packet(lt, swapped, b.data, full, full, variant_source(v, mangled, 0), full);
    cut = (uint32_t)(b.len - n) + rnd((unsigned)(n < 70 ? n : 70) + 1);
    if (cut > 4 && chance(20))
        cut = rnd(cut);
    add_packet(lt, swapped, b.data, cut, full, variant_source(v, mangled, 0), cut);
}

static void make_variants(size_t from, size_t to)
{
    size_t bases = 0, swept = 0;
    for (size_t i = from; i < to; i++) {
        const packet *p = &packets[i];
        uint8_t ip[PKT_MAX + 8];
        long off;
        size_t n;
        int mangled = 0;
        if (p->linktype != LT_ETHERNET || !chance(p->source[0] == 'i' ? 5 : 25))
            continue;
        if ((off = ethernet_ip(p)) < 0 || (uint32_t)off >= p->caplen)
            continue;
        n = p->caplen - (size_t)off;
        if (n > 160)
            n = 160;
        memcpy(ip, p->data + off, n);
        if (chance(35)) {
            n = mangle(ip, n);
            mangled = 1;
        }
        bases++;
        for (int k = 0; k < 3; k++)
            add_variants(ip, n, mangled, (enum variant)rnd(V_COUNT), 0);
        if (swept < 60 && chance(20)) {
            static const enum variant sweep_variants[] = { V_ETH_TAG, V_RAW, V_SLL2, V_NULL };
            swept++;
            for (size_t k = 0; k < 4; k++)
                add_variants(ip, n, mangled, sweep_variants[k] == V_NULL && chance(50)
                                                 ? V_NULL_SWAPPED : sweep_variants[k], 1);
        }
    }
    printf("variants: %zu datagrams, %zu swept through every length, %zu packets\n", bases,
           swept, npackets - to);
}

/* ---- the filters ------------------------------------------------------------ */

static void addr_text(char *buf, size_t size, int family, const uint8_t *a)
{
    inet_ntop(family == 4 ? AF_INET : AF_INET6, a, buf, (socklen_t)size);
}

/* a + delta (may be negative), clamped to the family's range. */
static void addr_add(uint8_t *out, const uint8_t *a, int family, long delta)
{
    int nbytes = family == 4 ? 4 : 16;
    int carry = 0, i;
    uint8_t d[16] = { 0 };
    unsigned long m = (unsigned long)(delta < 0 ? -delta : delta);
    for (i = nbytes - 1; i >= 0 && m; i--, m >>= 8)
        d[i] = (uint8_t)m;
    for (i = nbytes - 1; i >= 0; i--) {
        int v = delta < 0 ? a[i] - d[i] - carry : a[i] + d[i] + carry;
        carry = delta < 0 ? v < 0 : v > 255;
        out[i] = (uint8_t)v;
    }
    if (carry) /* wrapped: clamp to the end */
        memset(out, delta < 0 ? 0 : 0xff, (size_t)nbytes);
}

static int addr_less(const uint8_t *a, const uint8_t *b, int family)
{
    return memcmp(a, b, family == 4 ? 4 : 16) < 0;
}

static const addr *pick_addr(void)
{
    static addr random_one;
    unsigned r = rnd(100);
    if (r < 55 && imix_pool.naddrs)
        return &imix_pool.addrs[rnd((unsigned)imix_pool.naddrs)];
    if (r < 92 && all_pool.naddrs)
        return &all_pool.addrs[rnd((unsigned)all_pool.naddrs)];
    random_one.family = chance(60) ? 4 : 6;
    for (int i = 0; i < 16; i++)
        random_one.a[i] = (uint8_t)rnd(256);
    if (random_one.family == 4)
        memset(random_one.a + 4, 0, 12);
    return &random_one;
}

static void add_random_address(pktcap_filter *f, size_t rule, int field)
{
    const addr *base = pick_addr();
    int family = base->family, bits = family == 4 ? 32 : 128;
    uint8_t lo[16] = { 0 }, hi[16] = { 0 };
    char a[64], b[80];
    unsigned kind = rnd(100);
    if (kind < 55) {
        addr_text(a, sizeof a, family, base->a);
        check(pktcap_filter_add_address(f, rule, field, a, NULL), "add_address");
    } else if (kind < 75) {
        /* a CIDR block around it: more often a long prefix */
        int prefix = bits - (int)rnd((unsigned)(chance(70) ? 16 : bits + 1));
        memcpy(lo, base->a, 16);
        for (int i = prefix; i < bits; i++)
            lo[i / 8] &= (uint8_t)~(0x80u >> (i % 8));
        addr_text(a, sizeof a, family, lo);
        snprintf(b, sizeof b, "%s/%d", a, prefix);
        check(pktcap_filter_add_address(f, rule, field, b, NULL), b);
    } else if (kind < 95) {
        /* a range straddling it, or starting or ending on it */
        long below = chance(25) ? 0 : (long)rnd(chance(80) ? 40 : 5000);
        long above = chance(25) ? 0 : (long)rnd(chance(80) ? 40 : 5000);
        addr_add(lo, base->a, family, -below);
        addr_add(hi, base->a, family, above);
        addr_text(a, sizeof a, family, lo);
        addr_text(b, sizeof b, family, hi);
        check(pktcap_filter_add_address(f, rule, field, a, b), "add_address range");
    } else {
        /* a wide random range of the family */
        for (int i = 0; i < bits / 8; i++) {
            lo[i] = (uint8_t)rnd(256);
            hi[i] = (uint8_t)rnd(256);
        }
        if (addr_less(hi, lo, family)) {
            uint8_t t[16];
            memcpy(t, lo, 16);
            memcpy(lo, hi, 16);
            memcpy(hi, t, 16);
        }
        addr_text(a, sizeof a, family, lo);
        addr_text(b, sizeof b, family, hi);
        check(pktcap_filter_add_address(f, rule, field, a, b), "add_address wide");
    }
}

static uint16_t pick_port(void)
{
    static const uint16_t common[] = { 80, 443, 22, 53, 123, 8080, 993, 514, 0, 65535 };
    unsigned r = rnd(100);
    if (r < 45 && imix_pool.nports)
        return imix_pool.ports[rnd((unsigned)imix_pool.nports)];
    if (r < 75 && all_pool.nports)
        return all_pool.ports[rnd((unsigned)all_pool.nports)];
    if (r < 92)
        return common[rnd(sizeof common / sizeof common[0])];
    return (uint16_t)rnd(65536);
}

static void add_random_port(pktcap_filter *f, size_t rule, int field)
{
    uint32_t p = pick_port(), lo = p, hi = p;
    unsigned kind = rnd(100);
    if (kind >= 60 && kind < 85) {
        uint32_t below = rnd(chance(70) ? 20 : 3000), above = rnd(chance(70) ? 20 : 3000);
        lo = p > below ? p - below : 0;
        hi = p + above > 65535 ? 65535 : p + above;
    } else if (kind >= 85 && kind < 96) {
        lo = rnd(65536);
        hi = rnd(65536);
        if (hi < lo) {
            uint32_t t = lo;
            lo = hi;
            hi = t;
        }
    } else if (kind >= 96) {
        lo = 0;
        hi = 65535;
    }
    check(pktcap_filter_add_port(f, rule, field, lo, hi), "add_port");
}

/* How many items a field gets: mostly 1-3, now and then a long list. */
static unsigned item_count(void)
{
    return chance(8) ? 4 + rnd(17) : 1 + rnd(3);
}

static pktcap_filter *random_filter(void)
{
    static const int protos[] = { PKTCAP_FILTER_ANY, PKTCAP_FILTER_ANY, PKTCAP_FILTER_TCP,
                                  PKTCAP_FILTER_TCP, PKTCAP_FILTER_UDP };
    pktcap_filter *f;
    unsigned rules = 1 + rnd(5);
    check(pktcap_filter_new(&f), "pktcap_filter_new");
    for (size_t r = 0; r < rules; r++) {
        int proto = protos[rnd(5)], any_field = 0;
        check(pktcap_filter_add_rule(f, proto), "add_rule");
        for (int k = 0; k < 4; k++) {
            if (!chance(k < 2 ? 45 : 35))
                continue;
            any_field = 1;
            for (unsigned n = item_count(); n > 0; n--) {
                if (k < 2)
                    add_random_address(f, r, k);
                else
                    add_random_port(f, r, k);
            }
        }
        /* An empty "any" rule would make the whole filter match everything:
         * keep that rare. */
        if (!any_field && proto == PKTCAP_FILTER_ANY && !chance(3))
            check(pktcap_filter_set_protocol(f, r, chance(50) ? PKTCAP_FILTER_TCP
                                                              : PKTCAP_FILTER_UDP), "set_protocol");
    }
    return f;
}

/* The targeted filters: each aims at one corner of libpcap's semantics. */
static const char *const targeted[] = {
    "proto=tcp remote_port=80",                       /* ports vs IPv4 fragments, IHL */
    "proto=udp local_port=53 or proto=tcp local_port=53",
    "proto=tcp",                                      /* IPv6 Fragment look-through */
    "proto=udp",
    "proto=tcp or proto=udp",
    "proto=any remote_port=443",                      /* TCP or UDP, not SCTP */
    "proto=any local_port=0-65535",
    "proto=tcp local_port=1024-65535 remote_port=443;80;22",
    "local=10.1.0.10-10.1.0.20",                      /* ranges straddling the IMIX pool */
    "remote=203.0.113.0-203.0.113.17 proto=tcp",
    "local=10.1.0.9-10.1.0.74 remote=203.0.113.9-203.0.113.26",
    "local=2001:db8:1::-2001:db8:1::20 remote=2001:db8:ff::/120",
    "remote=0.0.0.0/0",
    "remote=::/0",
    "local=0.0.0.0-255.255.255.255 proto=udp",
    "local=10.1.0.10;2001:db8:1::a;203.0.113.12 local_port=443",
    "proto=tcp local=10.1.0.10 remote_port=443 or proto=udp remote=2001:db8:ff::/64",
    "proto=tcp local_port=80 or local=10.1.0.0/24 or proto=udp remote_port=53-123",
    "proto=udp local=192.0.2.1 or remote=198.51.100.2 remote_port=1-1000",
    "local=127.0.0.1 or local=::1 or proto=tcp remote_port=0",
    "proto=tcp local=10.1.0.20 remote=203.0.113.10 local_port=30000-65535 remote_port=443",
};

/* ---- comparing -------------------------------------------------------------- */

typedef struct prog {
    int ok;
    struct bpf_program bpf;        /* optimized, as tcpdump runs it */
    struct bpf_program plain;      /* unoptimized: the reference */
    char *text;
} prog;

/* Compile on handle h, with and without the optimizer; the message in err on failure. */
static int compile_on(prog *p, pcap_t *h, const char *expression, char *err, size_t size)
{
    p->ok = pcap_compile(h, &p->bpf, expression, 1, PCAP_NETMASK_UNKNOWN) == 0;
    if (p->ok && pcap_compile(h, &p->plain, expression, 0, PCAP_NETMASK_UNKNOWN) != 0) {
        pcap_freecode(&p->bpf);
        p->ok = 0;
    }
    if (!p->ok)
        snprintf(err, size, "%s", pcap_geterr(h));
    return p->ok;
}

static void prog_free(prog *p)
{
    if (p->ok) {
        pcap_freecode(&p->bpf);
        pcap_freecode(&p->plain);
    }
    p->ok = 0;
}

/* libpcap's answer: the unoptimized program's; counts the optimizer's slips. */
static unsigned long optimizer_slips;

static int libpcap_answer(const prog *pr, const struct pcap_pkthdr *h, const uint8_t *data,
                          const char *source, unsigned long number)
{
    int plain = pcap_offline_filter(&pr->plain, h, data) != 0;
    int optimized = pcap_offline_filter(&pr->bpf, h, data) != 0;
    if (plain != optimized && ++optimizer_slips <= 5)
        printf("libpcap's optimizer changes the answer (%d unoptimized, %d optimized) for %s "
               "#%lu with: %s\n", plain, optimized, source, number, pr->text);
    return plain;
}

/* Compile as tcpdump -r does for a file of `linktype` in the byte order
 * `swapped` says: on BSD loopback with that file's handle, on the other link
 * types with pcap_open_dead (which compiles the same: see same_as_savefile). */
static int compile(prog *p, const char *expression, uint32_t linktype, int swapped, char *err,
                   size_t size)
{
    int s = supported_index(linktype);
    pcap_t *h;
    if (s >= 0 && is_loopback(linktype))
        return compile_on(p, savefiles[s][swapped].h, expression, err, size);
    h = pcap_open_dead(dlt_of(linktype), SNAPLEN);
    if (!h)
        die("pcap_open_dead(%u) failed", linktype);
    compile_on(p, h, expression, err, size);
    pcap_close(h);
    return p->ok;
}

static int same_program(const struct bpf_program *a, const struct bpf_program *b)
{
    return a->bf_len == b->bf_len &&
           memcmp(a->bf_insns, b->bf_insns, a->bf_len * sizeof *a->bf_insns) == 0;
}

/* Does a capture file's handle, in either byte order, compile `expression`
 * for supported[s] exactly as `dead` (compiled on pcap_open_dead) is? For the
 * link types other than BSD loopback, the differential test compiles with
 * pcap_open_dead only because this holds. */
static int same_as_savefile(const prog *dead, size_t s, const char *expression)
{
    char err[PCAP_ERRBUF_SIZE + 64];
    int same = 1;
    for (int swapped = 0; swapped < 2; swapped++) {
        prog other;
        if (!compile_on(&other, savefiles[s][swapped].h, expression, err, sizeof err))
            return 0;
        same &= same_program(&dead->bpf, &other.bpf) && same_program(&dead->plain, &other.plain);
        prog_free(&other);
    }
    return same;
}

static unsigned long compared, matched, notsup_checked, disagreements;

static void print_hex(const packet *p)
{
    for (uint32_t i = 0; i < p->caplen && i < 256; i++)
        printf("%s%02x", i % 32 == 0 ? "\n      " : i % 4 == 0 ? " " : "", p->data[i]);
    printf("%s\n", p->caplen > 256 ? " ..." : "");
}

static void report(pktcap_filter *f, const char *bpf, const packet *p, int want, int got)
{
    char *text = NULL;
    if (++disagreements > MAX_REPORTS)
        return;
    pktcap_filter_to_string(&text, f);
    printf("\nDISAGREEMENT %lu\n  filter:  %s\n  bpf:     %s\n  packet:  %s #%lu, link type %u%s, "
           "caplen %u, len %u\n  libpcap: %d\n  ours:    %d%s%s\n  bytes:", disagreements,
           text ? text : "?", bpf, p->source, p->number, p->linktype,
           p->swapped ? " (file in the other byte order)" : "", p->caplen, p->len, want,
           got, got < 0 ? " " : "", got < 0 ? pktcap_error_message(pktcap_error_last()) : "");
    print_hex(p);
    pktcap_free(text);
}

/* Check same_as_savefile for this filter (it triples the compiling: the
 * targeted filters and every 10th random one). */
static int check_savefile;
static unsigned long savefile_checked;

static void run_filter(pktcap_filter *f)
{
    prog progs[NSUPPORTED][2]; /* [link type][file byte order]: [1] for BSD loopback only */
    char err[PCAP_ERRBUF_SIZE + 64];
    char *all, *text;
    int matches_all;
    check(pktcap_filter_to_bpf(&all, f, LT_ETHERNET), "to_bpf");
    matches_all = all[0] == '\0';
    pktcap_free(all);
    memset(progs, 0, sizeof progs);
    for (size_t i = 0; i < NSUPPORTED; i++) {
        check(pktcap_filter_to_bpf(&text, f, supported[i]), "to_bpf");
        savefile_checked += check_savefile && !is_loopback(supported[i]);
        for (int swapped = 0; swapped < 1 + is_loopback(supported[i]); swapped++) {
            prog *pr = &progs[i][swapped];
            const char *problem = NULL;
            pr->text = text;
            if (!compile(pr, text, supported[i], swapped, err, sizeof err))
                problem = "does not compile";
            else if (check_savefile && !is_loopback(supported[i]) &&
                     !same_as_savefile(pr, i, text))
                problem = "compiles differently for a capture file and pcap_open_dead";
            if (problem) {
                char *canonical = NULL;
                pktcap_filter_to_string(&canonical, f);
                printf("\nFAILURE: the rendering of \"%s\" for link type %u %s: %s\n  bpf: %s\n",
                       canonical ? canonical : "?", supported[i], problem,
                       pr->ok ? "" : err, text);
                pktcap_free(canonical);
                disagreements++;
            }
        }
    }
    for (size_t i = 0; i < npackets; i++) {
        const packet *p = &packets[i];
        pktcap_packet pk = { .struct_size = sizeof pk };
        int s = supported_index(p->linktype), got, want;
        const prog *pr;
        pk.linktype = p->linktype;
        pk.caplen = p->caplen;
        pk.len = p->len;
        pk.data = p->data;
        got = pktcap_filter_match(f, &pk);
        if (s < 0) {
            notsup_checked++;
            want = matches_all ? 1 : PKTCAP_E_NOTSUP;
            if (got != want)
                report(f, "(link type not supported by the evaluator)", p, want, got);
            continue;
        }
        pr = &progs[s][is_loopback(p->linktype) && p->swapped];
        if (!pr->ok)
            continue;
        struct pcap_pkthdr h = { .caplen = p->caplen, .len = p->len };
        want = libpcap_answer(pr, &h, p->data, p->source, p->number);
        compared++;
        matched += want == 1;
        if (got != want)
            report(f, pr->text, p, want, got);
    }
    for (size_t i = 0; i < NSUPPORTED; i++) {
        for (int swapped = 0; swapped < 2; swapped++)
            prog_free(&progs[i][swapped]);
        pktcap_free(progs[i][0].text);
    }
}

/* Raw-BPF filters: our match runs libpcap too; this checks the per-link-type
 * cache (more link types than it has slots) and NOTSUP where it must be. */
static void run_raw(const char *expression)
{
    pktcap_filter *f;
    static prog progs[512][2]; /* [link type][file byte order] */
    char err[PCAP_ERRBUF_SIZE + 64];
    check(pktcap_filter_new_bpf(&f, expression), expression);
    memset(progs, 0, sizeof progs);
    for (size_t i = 0; i < npackets; i++) {
        const packet *p = &packets[i];
        pktcap_packet pk = { .struct_size = sizeof pk };
        prog *pr;
        int got, want;
        if (p->linktype >= 512)
            continue;
        pr = &progs[p->linktype][is_loopback(p->linktype) && p->swapped];
        if (!pr->text) {
            pr->text = xstrdup(expression);
            compile(pr, expression, p->linktype, p->swapped, err, sizeof err);
        }
        pk.linktype = p->linktype;
        pk.caplen = p->caplen;
        pk.len = p->len;
        pk.data = p->data;
        got = pktcap_filter_match(f, &pk);
        if (pr->ok) {
            struct pcap_pkthdr h = { .caplen = p->caplen, .len = p->len };
            /* Our match runs the optimized program: compare with that. */
            want = pcap_offline_filter(&pr->bpf, &h, p->data) != 0;
        } else {
            want = PKTCAP_E_NOTSUP;
        }
        if (got != want)
            report(f, expression, p, want, got);
    }
    for (size_t i = 0; i < 512; i++) {
        for (int swapped = 0; swapped < 2; swapped++) {
            prog_free(&progs[i][swapped]);
            free(progs[i][swapped].text);
        }
    }
    pktcap_filter_free(f);
}

int main(void)
{
    const char *corpus = getenv("PKTCAP_CORPUS");
    const char *seed_text = getenv("PKTCAP_FILTER_SEED");
    const char *count_text = getenv("PKTCAP_FILTER_COUNT");
    uint64_t seed = seed_text ? strtoull(seed_text, NULL, 0) : DEFAULT_SEED;
    unsigned long nfilters = count_text ? strtoul(count_text, NULL, 0) : DEFAULT_FILTERS;
    size_t imix_end, corpus_end;
    unsigned long nrandom = 0;

    if (!corpus)
        die("PKTCAP_CORPUS is not set (meson test sets it to tests/corpus)");
    rng_state = seed;
    open_savefiles();
    printf("seed 0x%016" PRIx64 " (PKTCAP_FILTER_SEED), %lu random filters "
           "(PKTCAP_FILTER_COUNT) and %zu targeted ones\n", seed, nfilters,
           sizeof targeted / sizeof targeted[0]);

    load_imix();
    imix_end = npackets;
    load_corpus(corpus);
    corpus_end = npackets;
    printf("packets: %zu IMIX, %zu from %zu corpus files (%zu of them BSD loopback)\n", imix_end,
           corpus_end - imix_end, corpus_files, loopback_files);
    make_variants(0, corpus_end);
    {
        size_t loopback = 0, swapped = 0;
        for (size_t i = 0; i < npackets; i++) {
            loopback += is_loopback(packets[i].linktype);
            swapped += is_loopback(packets[i].linktype) && packets[i].swapped;
        }
        printf("BSD loopback packets: %zu, %zu of them from files in the other byte order\n",
               loopback, swapped);
    }
    harvest(&imix_pool, 0, imix_end);
    harvest(&all_pool, 0, npackets);
    pool_finish(&imix_pool);
    pool_finish(&all_pool);
    printf("address pools: %zu IMIX addresses, %zu in all; %zu IMIX ports, %zu in all\n",
           imix_pool.naddrs, all_pool.naddrs, imix_pool.nports, all_pool.nports);
    fflush(stdout);

    check_savefile = 1;
    for (size_t i = 0; i < sizeof targeted / sizeof targeted[0]; i++) {
        pktcap_filter *f;
        check(pktcap_filter_parse(&f, targeted[i]), targeted[i]);
        run_filter(f);
        pktcap_filter_free(f);
    }
    for (; nrandom < nfilters; nrandom++) {
        pktcap_filter *f = random_filter();
        check_savefile = nrandom % 10 == 0;
        run_filter(f);
        pktcap_filter_free(f);
    }
    run_raw("tcp port 80 or udp");
    run_raw("ip6 or arp");
    run_raw("vlan and ip");
    run_raw("not ip6 and not udp");   /* BSD loopback NULL: each file byte order's program */
    close_savefiles();

    printf("\ncompared %lu (filter, packet) pairs with libpcap: %lu matched (%.2f %%), %lu did "
           "not; %lu answers on unsupported link types checked\n", compared, matched,
           compared ? 100.0 * (double)matched / (double)compared : 0.0, compared - matched,
           notsup_checked);
    printf("%lu answers where libpcap's optimizer changed the unoptimized program's answer "
           "(libpcap's slip, not a disagreement)\n", optimizer_slips);
    printf("%lu renderings for link types other than BSD loopback compiled the same for a "
           "capture file (both byte orders) as for pcap_open_dead\n", savefile_checked);
    if (disagreements) {
        printf("FAILED: %lu disagreements (the first %d shown above)\n", disagreements,
               MAX_REPORTS);
        return 1;
    }
    if (compared == 0 || matched * 100 < compared || (compared - matched) * 100 < compared) {
        printf("FAILED: fewer than 1 %% of the pairs matched, or fewer than 1 %% did not: the "
               "test does not exercise both answers\n");
        return 1;
    }
    printf("OK: no disagreement\n");
    return 0;
}
