/* imix.c — the deterministic IMIX generator described in imix.h. */
#include "imix.h"

#include <errno.h>
#include <string.h>

/* ---- PRNG: xoshiro256** seeded through splitmix64 ------------------------ */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rnd(imix_state *g)
{
    uint64_t *s = g->rng;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* A number in [0, n): multiply-shift, deterministic (the tiny bias is irrelevant). */
static uint32_t below(imix_state *g, uint32_t n)
{
    return (uint32_t)(((rnd(g) >> 32) * n) >> 32);
}

/* ---- byte helpers -------------------------------------------------------- */

static void be16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void le16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* One's-complement sum of big-endian 16-bit words (RFC 1071). */
static uint64_t sum16(const uint8_t *p, size_t n, uint64_t acc)
{
    while (n > 1) {
        acc += (uint32_t)p[0] << 8 | p[1];
        p += 2;
        n -= 2;
    }
    if (n)
        acc += (uint32_t)p[0] << 8;
    return acc;
}

static uint16_t fold(uint64_t acc)
{
    while (acc >> 16)
        acc = (acc & 0xffff) + (acc >> 16);
    return (uint16_t)~acc;
}

/* ---- host pools ---------------------------------------------------------- */

static const uint8_t gateway_mac[6] = {0x00, 0x00, 0x5e, 0x00, 0x01, 0x01};

static void client_mac(uint8_t *p, unsigned client)
{
    static const uint8_t base[6] = {0x02, 0x42, 0xac, 0x11, 0x00, 0x00};
    memcpy(p, base, 6);
    p[5] = (uint8_t)(10 + client);
}

/* IPv4: clients 10.1.0.10–73, servers 203.0.113.10–25.
 * IPv6: clients 2001:db8:1::a–49, servers 2001:db8:ff::a–19. */
static void host_addr(uint8_t *p, int ipv6, int server, unsigned index)
{
    if (!ipv6) {
        static const uint8_t c4[3] = {10, 1, 0}, s4[3] = {203, 0, 113};
        memcpy(p, server ? s4 : c4, 3);
        p[3] = (uint8_t)(10 + index);
    } else {
        memset(p, 0, 16);
        p[0] = 0x20;
        p[1] = 0x01;
        p[2] = 0x0d;
        p[3] = 0xb8;
        p[5] = server ? 0xff : 0x01;
        p[15] = (uint8_t)(10 + index);
    }
}

/* ---- flows --------------------------------------------------------------- */

static const uint16_t vlan_ids[4] = {10, 20, 100, 4001};

static uint16_t pick_port(imix_state *g, int proto)
{
    uint32_t r = below(g, 100);
    if (proto == 6) {
        if (r < 60) return 443;
        if (r < 85) return 80;
        if (r < 90) return 22;
        if (r < 95) return 8080;
        return 993;
    }
    if (r < 50) return 53;
    if (r < 80) return 443;
    if (r < 90) return 123;
    return 514;
}

static void new_flow(imix_state *g, imix_flow *f, int initial)
{
    uint32_t r;
    memset(f, 0, sizeof *f);
    f->ipv6 = below(g, 10) == 0;
    f->vlan = below(g, 10) == 0 ? vlan_ids[below(g, 4)] : 0;
    r = below(g, 100);
    f->proto = r < 80 ? 6 : r < 95 ? 17 : (f->ipv6 ? 58 : 1);
    f->client = (uint16_t)below(g, IMIX_CLIENTS);
    f->server = (uint16_t)below(g, IMIX_SERVERS);
    f->cport = (uint16_t)(32768 + below(g, 60999 - 32768 + 1));
    if (f->proto == 6 || f->proto == 17)
        f->sport = pick_port(g, f->proto);
    f->ip_id[0] = (uint16_t)rnd(g);
    f->ip_id[1] = (uint16_t)rnd(g);
    f->flow_label = below(g, 1u << 20);
    f->seq[0] = (uint32_t)rnd(g);
    f->seq[1] = (uint32_t)rnd(g);
    f->left = 64 + below(g, 4000);
    if (initial) {
        /* The capture starts in the middle of things: established flows
         * with their ends spread out. */
        f->state = 2;
        f->left = 1 + below(g, f->left);
    }
    g->stats.flows_started++;
}

void imix_init(imix_state *g, uint64_t seed)
{
    uint64_t x = seed;
    size_t i;
    memset(g, 0, sizeof *g);
    for (i = 0; i < 4; i++)
        g->rng[i] = splitmix64(&x);
    for (i = 0; i < sizeof g->payload; i++)
        g->payload[i] = (uint8_t)(rnd(g) >> 56);
    g->ts_ns = IMIX_START_NS;
    for (i = 0; i < IMIX_FLOWS; i++)
        new_flow(g, &g->flow[i], 1);
}

/* ---- packets ------------------------------------------------------------- */

static const uint32_t class_size[3] = {64, 576, 1500};

void imix_next(imix_state *g, uint8_t *buf, uint32_t *len, uint64_t *ts_ns)
{
    imix_flow *f = &g->flow[below(g, IMIX_FLOWS)];
    uint32_t r = below(g, 12);
    unsigned cls = r < 7 ? 0 : r < 11 ? 1 : 2;
    int dir, control = 0;
    uint8_t tcp_flags = 0;
    uint32_t off = 0, l3, l3len, l4, l4len, hdrs, frame, payload, iplen;

    /* Direction: 0 client → server, 1 server → client. Big frames flow mostly
     * towards the clients, small ones (requests, ACKs) mostly away. */
    if (cls == 0)
        dir = below(g, 10) < 6 ? 0 : 1;
    else
        dir = below(g, 10) < 2 ? 0 : 1;

    if (f->proto == 6) {
        if (f->state == 0) {
            tcp_flags = 0x02; /* SYN */
            dir = 0;
            control = 1;
        } else if (f->state == 1) {
            tcp_flags = 0x12; /* SYN-ACK */
            dir = 1;
            control = 1;
        } else if (f->left == 1) {
            tcp_flags = 0x11; /* FIN-ACK */
            control = 1;
        }
        if (control)
            cls = 0;
    } else if (f->proto == 1 || f->proto == 58) {
        dir = f->icmp_seq & 1; /* echo request, then its reply */
    }

    /* Ethernet, optional 802.1Q tag. */
    if (dir == 0) {
        memcpy(buf, gateway_mac, 6);
        client_mac(buf + 6, f->client);
    } else {
        client_mac(buf, f->client);
        memcpy(buf + 6, gateway_mac, 6);
    }
    off = 12;
    if (f->vlan) {
        be16(buf + off, 0x8100);
        be16(buf + off + 2, f->vlan);
        off += 4;
    }
    be16(buf + off, f->ipv6 ? 0x86dd : 0x0800);
    off += 2;

    l3 = off;
    l3len = f->ipv6 ? 40 : 20;
    l4 = l3 + l3len;
    l4len = f->proto == 6 ? 20 : 8;
    hdrs = l4 + l4len;
    frame = class_size[cls];
    if (frame < hdrs)
        frame = hdrs; /* IPv6 TCP does not fit in 64 bytes */
    payload = control ? 0 : frame - hdrs;
    iplen = l3len + l4len + payload;
    g->stats.size_class[cls]++;

    /* Payload, then the Ethernet padding of control packets. */
    memcpy(buf + hdrs, g->payload + below(g, 2048), payload);
    memset(buf + hdrs + payload, 0, frame - hdrs - payload);

    /* IP header. */
    if (!f->ipv6) {
        uint8_t *ip = buf + l3;
        ip[0] = 0x45;
        ip[1] = 0;
        be16(ip + 2, iplen);
        be16(ip + 4, f->ip_id[dir]++);
        be16(ip + 6, f->proto == 6 ? 0x4000 : 0); /* DF for TCP */
        ip[8] = dir == 0 ? 64 : 52;
        ip[9] = f->proto;
        ip[10] = ip[11] = 0;
        host_addr(ip + 12, 0, dir != 0, dir == 0 ? f->client : f->server);
        host_addr(ip + 16, 0, dir == 0, dir == 0 ? f->server : f->client);
        be16(ip + 10, fold(sum16(ip, 20, 0)));
        g->stats.ipv4++;
    } else {
        uint8_t *ip = buf + l3;
        be32(ip, 0x60000000u | f->flow_label);
        be16(ip + 4, l4len + payload);
        ip[6] = f->proto;
        ip[7] = dir == 0 ? 64 : 52;
        host_addr(ip + 8, 1, dir != 0, dir == 0 ? f->client : f->server);
        host_addr(ip + 24, 1, dir == 0, dir == 0 ? f->server : f->client);
        g->stats.ipv6++;
    }
    if (f->vlan)
        g->stats.vlan++;

    /* Transport header. */
    {
        uint8_t *t = buf + l4;
        uint32_t l4total = l4len + payload;
        uint64_t acc = 0;
        int pseudo = f->proto != 1; /* ICMPv4 has no pseudo-header */
        uint16_t ck;
        if (f->proto == 6) {
            uint32_t ack = f->seq[!dir];
            be16(t, dir == 0 ? f->cport : f->sport);
            be16(t + 2, dir == 0 ? f->sport : f->cport);
            be32(t + 4, f->seq[dir]);
            if (tcp_flags == 0)
                tcp_flags = payload ? 0x18 : 0x10; /* PSH-ACK or ACK */
            be32(t + 8, tcp_flags == 0x02 ? 0 : ack);
            t[12] = 0x50;
            t[13] = tcp_flags;
            be16(t + 14, 64240);
            be16(t + 16, 0);
            be16(t + 18, 0);
            f->seq[dir] += payload + ((tcp_flags & 0x03) ? 1 : 0); /* SYN, FIN count 1 */
            if (f->state < 2)
                f->state++;
            g->stats.tcp++;
            if (tcp_flags == 0x02)
                g->stats.tcp_syn++;
            if (tcp_flags & 0x01)
                g->stats.tcp_fin++;
        } else if (f->proto == 17) {
            be16(t, dir == 0 ? f->cport : f->sport);
            be16(t + 2, dir == 0 ? f->sport : f->cport);
            be16(t + 4, l4total);
            be16(t + 6, 0);
            g->stats.udp++;
        } else {
            int reply = f->icmp_seq & 1;
            if (f->proto == 1)
                t[0] = reply ? 0 : 8;
            else
                t[0] = reply ? 129 : 128;
            t[1] = 0;
            be16(t + 2, 0);
            be16(t + 4, f->cport);
            be16(t + 6, (uint32_t)(f->icmp_seq >> 1));
            f->icmp_seq++;
            g->stats.icmp++;
        }
        if (pseudo) {
            if (!f->ipv6)
                acc = sum16(buf + l3 + 12, 8, 0);
            else
                acc = sum16(buf + l3 + 8, 32, 0);
            acc += f->proto;
            acc += l4total;
        }
        ck = fold(sum16(t, l4total, acc));
        if (f->proto == 17 && ck == 0)
            ck = 0xffff;
        be16(t + (f->proto == 6 ? 16 : f->proto == 17 ? 6 : 2), ck);
    }

    g->ts_ns += 1000 + below(g, 19001);
    g->stats.packets++;
    g->stats.bytes += frame;
    *len = frame;
    *ts_ns = g->ts_ns;

    if (--f->left == 0)
        new_flow(g, f, 0);
}

/* ---- files --------------------------------------------------------------- */

static int put(FILE *out, const void *p, size_t n)
{
    if (fwrite(p, 1, n, out) != n) {
        if (errno == 0)
            errno = EIO;
        return -1;
    }
    return 0;
}

/* A pcapng option: code, length, value, padding to 4 bytes. */
static uint32_t option(uint8_t *p, uint32_t code, const void *value, uint32_t len)
{
    le16(p, code);
    le16(p + 2, len);
    memcpy(p + 4, value, len);
    memset(p + 4 + len, 0, (4 - len % 4) % 4);
    return 4 + len + (4 - len % 4) % 4;
}

static int write_header(FILE *out, enum imix_format format)
{
    uint8_t h[256];
    if (format != IMIX_FORMAT_PCAPNG) {
        le32(h, format == IMIX_FORMAT_PCAP_NSEC ? 0xa1b23c4d : 0xa1b2c3d4);
        le16(h + 4, 2);
        le16(h + 6, 4);
        le32(h + 8, 0);      /* thiszone */
        le32(h + 12, 0);     /* sigfigs */
        le32(h + 16, 262144); /* snaplen */
        le32(h + 20, 1);     /* LINKTYPE_ETHERNET */
        return put(out, h, 24);
    } else {
        static const char appl[] = "libpktcap bench/gen-imix";
        static const char ifname[] = "imix0";
        const uint8_t tsresol = 9;
        uint32_t n;
        /* Section Header Block. */
        le32(h, 0x0a0d0d0a);
        le32(h + 8, 0x1a2b3c4d);
        le16(h + 12, 1);
        le16(h + 14, 0);
        le32(h + 16, 0xffffffff); /* section length: unknown */
        le32(h + 20, 0xffffffff);
        n = 24;
        n += option(h + n, 4, appl, sizeof appl - 1); /* shb_userappl */
        le32(h + n, 0);                               /* opt_endofopt */
        n += 4;
        n += 4;
        le32(h + 4, n);
        le32(h + n - 4, n);
        if (put(out, h, n) != 0)
            return -1;
        /* Interface Description Block. */
        le32(h, 1);
        le16(h + 8, 1);  /* LINKTYPE_ETHERNET */
        le16(h + 10, 0);
        le32(h + 12, 262144);
        n = 16;
        n += option(h + n, 2, ifname, sizeof ifname - 1); /* if_name */
        n += option(h + n, 9, &tsresol, 1);               /* if_tsresol: ns */
        le32(h + n, 0);
        n += 4;
        n += 4;
        le32(h + 4, n);
        le32(h + n - 4, n);
        return put(out, h, n);
    }
}

int imix_write_file(FILE *out, enum imix_format format, uint64_t count, uint64_t seed,
                    imix_stats *stats)
{
    imix_state g; /* about 30 KiB */
    uint8_t rec[28 + IMIX_MAX_FRAME + 8];
    uint64_t i;

    errno = 0;
    imix_init(&g, seed);
    if (write_header(out, format) != 0)
        return -1;
    for (i = 0; i < count; i++) {
        uint32_t len, n;
        uint64_t ts;
        if (format != IMIX_FORMAT_PCAPNG) {
            imix_next(&g, rec + 16, &len, &ts);
            le32(rec, (uint32_t)(ts / 1000000000u));
            le32(rec + 4, (uint32_t)(format == IMIX_FORMAT_PCAP ? ts % 1000000000u / 1000u
                                                                 : ts % 1000000000u));
            le32(rec + 8, len);
            le32(rec + 12, len);
            n = 16 + len;
        } else {
            uint32_t pad;
            imix_next(&g, rec + 28, &len, &ts);
            pad = (4 - len % 4) % 4;
            n = 28 + len + pad + 4;
            le32(rec, 6); /* Enhanced Packet Block */
            le32(rec + 4, n);
            le32(rec + 8, 0); /* interface 0 */
            le32(rec + 12, (uint32_t)(ts >> 32));
            le32(rec + 16, (uint32_t)ts);
            le32(rec + 20, len);
            le32(rec + 24, len);
            memset(rec + 28 + len, 0, pad);
            le32(rec + n - 4, n);
        }
        if (put(out, rec, n) != 0)
            return -1;
    }
    if (fflush(out) != 0)
        return -1;
    if (stats)
        *stats = g.stats;
    return 0;
}
