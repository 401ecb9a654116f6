/* bpf.c — a rule filter as a libpcap (tcpdump) filter expression
 * (pktcap_filter_to_bpf), the pcap_compile check of raw expressions, and the
 * one lock around libpcap's compiler.
 *
 * What the rendering means. pktcap_filter_match() (match.c) computes exactly
 * what libpcap computes when it runs this expression, compiled with the
 * optimizer on as tcpdump -r compiles it for a capture file (pcap_compile on
 * the file's handle, then pcap_offline_filter), packet for packet;
 * tests/filter/test_differential.c checks that. Only BSD loopback compiles
 * differently for a capture file than for pcap_open_dead or a live capture
 * (2. below); the test checks that the other link types compile the same
 * programs on either handle. Every construct below is written the way it is
 * so that this can be stated simply.
 *
 * 1. Shape. F is the rules joined by `or` (each rule in parentheses when it
 *    is compound and there is more than one), preceded by a guard G:
 *
 *        F = G and (R1 or R2 or ...)
 *
 *    On Ethernet (LINKTYPE 1), the only supported link type where libpcap
 *    has a `vlan` keyword, the expression is
 *
 *        F or (vlan and (F or (vlan and F)))
 *
 *    libpcap's `vlan` tests the EtherType for 0x8100, 0x88a8 or 0x9100 and
 *    then moves every later offset 4 bytes on, for the rest of the
 *    expression. Nested like this, the second F looks behind one tag and the
 *    third behind two (the second `vlan` tests the EtherType behind the first
 *    tag). The flat `F or (vlan and F) or (vlan and F)` would not mean two
 *    tags: its last `vlan` would test bytes 16-17 of any frame, tagged or not.
 *    Frames with three or more tags never match. Other link types get F alone.
 *
 * 2. What counts as IPv4 and IPv6: libpcap's `ip` and `ip6` on each link type.
 *    Ethernet: EtherType 0x0800 / 0x86dd (no version check); Linux cooked v1:
 *    the protocol field at byte 14, v2: at byte 0; raw IP (101): the version
 *    nibble; LINKTYPE_IPV4 / IPV6: everything is that family, nothing is the
 *    other. BSD loopback, NULL (0) and LOOP (108): the 4-byte address family
 *    at the start; IPv4 is AF_INET (2), IPv6 is AF_INET6 as the BSDs (24),
 *    FreeBSD (28) and Darwin (30) number it — what libpcap's `ip6` tests
 *    when it compiles for a capture file (gencode.c, gen_linktype), and
 *    these link types only ever come from files (Linux captures loopback as
 *    Ethernet). (For pcap_open_dead or a live capture libpcap tests this
 *    platform's AF_INET6 alone, 10 on Linux, which no BSD writes: that
 *    compilation would find no IPv6 in a macOS capture.) LOOP's family is in
 *    network byte order. NULL's is in the byte order of the machine that
 *    wrote the file, and libpcap compares it in the file's order
 *    (gen_loopback_linktype swaps the constant when the file is
 *    byte-swapped); the evaluator, which sees packets without their file,
 *    takes it in either order. As a file's packets all come from one writer,
 *    this agrees with libpcap on every real file; it differs only on a NULL
 *    packet whose family is written in the other byte order than its own
 *    file's (02 00 00 00 in a big-endian file: IPv4 to the evaluator, not to
 *    libpcap). A raw BPF filter (pktcap_filter_new_bpf) on NULL is compiled
 *    for a file in the byte order the packet's family is in — the one in
 *    which it reads below 65536, as tcpdump's printer decides — so it too
 *    agrees with tcpdump -r on every real file, with the same exception.
 *    The IP header starts after the link header: 14 (+4 per VLAN tag), 16,
 *    20, 0 or 4 bytes.
 *
 * 3. Rules. A rule's protocol and set fields are ANDed. The fields pair up in
 *    two directions, and a rule matches either:
 *        (src in local and dst in remote and sport in local_port and dport in remote_port)
 *     or (dst in local and src in remote and dport in local_port and sport in remote_port)
 *    with unset fields left out. With one field set, the two directions
 *    collapse to libpcap's undirected primitive (`ip host A` is `ip src host
 *    A or ip dst host A`). A field is the `or` of its items:
 *    - an address is `ip host A` / `ip6 host A`; a range is the `or` of its
 *      CIDR blocks (`ip net A/n`, a /32 or /128 block written as a host), so
 *      an item matches exactly the addresses from its first to its last;
 *      IPv4 items never match IPv6 packets and the reverse;
 *    - a port is `tcp port N`, a range `tcp portrange A-B` (with `src`/`dst`
 *      when directed), for the rule's protocol; a rule of protocol "any"
 *      that has ports tests TCP or UDP (`(tcp port N or udp port N)`) —
 *      libpcap's bare `port` would also take SCTP. libpcap reads IPv4 ports
 *      only in packets whose fragment offset is 0, at 4 × IHL bytes into the
 *      IP header (IHL taken as it is, even below 5), and IPv6 ports only when
 *      TCP/UDP is the fixed header's next header (no extension header
 *      between). Ports therefore imply the protocol: a TCP rule with ports has
 *      no separate `tcp` test.
 *    - A TCP or UDP rule without ports tests `tcp` / `udp`: the IPv4 protocol
 *      field, or IPv6's next header, which libpcap also accepts behind one
 *      Fragment header (`ip6[6] == 44 and ip6[40] == 6`). A rule of protocol
 *      "any" without ports has no protocol test: any IPv4/IPv6 packet whose
 *      addresses fit. A rule with nothing set matches every packet, and then
 *      so does the filter: its rendering is "".
 *
 * 4. The guard G, and why it exists. Classic BPF rejects the whole packet
 *    when an instruction loads a byte beyond the captured length, and
 *    libpcap's optimizer reorders tests (it groups tests of the same field,
 *    e.g. `ip host A or ip host B` loads the source address for both before
 *    loading the destination), so which load runs first, and thus whether a
 *    packet cut short is rejected or matched, would depend on the optimizer's
 *    choices. G loads, before any rule, the last byte any rule may read:
 *        G4 = ip[19] >= 0 [and ((ip[9] != 6 and ip[9] != 17) or ip[6:2] & 0x1fff != 0
 *                               or tcp[3] >= 0 or udp[3] >= 0)]
 *        G6 = ip6[39] >= 0 [and ((ip6[6] != 6 and ip6[6] != 17 and ip6[6] != 44)
 *                                or ip6[43] >= 0)]
 *        G  = G4 or G6      (each only when some rule can match that family)
 *    `X >= 0` is always true: it is there for its load. The bracketed parts
 *    name only what the filter reads: TCP (6) when a TCP rule or an "any"
 *    rule has ports, UDP (17) likewise, and the Fragment header (44, IPv6)
 *    when a TCP or UDP rule has no ports. So, whatever the rules:
 *    - an IPv4 packet whose 20-byte header is cut short, or an IPv6 packet
 *      whose 40-byte header is, never matches;
 *    - when the filter reads TCP (UDP) ports, a TCP (UDP) packet with
 *      readable ports (IPv4 fragment offset 0; IPv6 next header TCP/UDP)
 *      whose 4 port bytes are cut short never matches; when it has TCP/UDP
 *      rules without ports, an IPv6 packet with a Fragment header cut within
 *      4 bytes of the fixed header never matches;
 *    - otherwise every byte the rules read is there, and the rules are plain
 *      boolean conditions on the packet, in any order.
 *    "Never matches" is the whole filter's answer, whichever rule would have
 *    matched. A packet the link layer does not make IPv4/IPv6 never matches
 *    either. (A filter that matches everything has no guard: "" accepts any
 *    packet, even an empty one.)
 *
 * 5. A filter no packet of the link type can match — its rules each need an
 *    address family the link type does not carry (IPv6 on LINKTYPE_IPV4),
 *    or ask for IPv4 and IPv6 addresses at once — is rendered `len < 0`:
 *    libpcap refuses an expression that its optimizer finds always false
 *    ("expression rejects all packets"), and compiles this one, which never
 *    matches. G likewise leaves out a family the link type cannot carry.
 *
 * 6. For live captures (the local engine, an SD-WAN appliance's tcpdump) and
 *    for people, pktcap__filter_to_bpf_live renders the rules alone: no guard
 *    (a kernel filter sees every byte of the packet, whatever the snapshot
 *    length, so no load falls short) and no VLAN alternatives (Linux hands
 *    the outer tag to libpcap as metadata, and a live handle's `vlan`
 *    tests that metadata, so the plain rules already see tagged frames'
 *    payload). On whole packets it means the same as the exact rendering,
 *    in far fewer instructions: `proto=udp local_port=5353` compiles to 20
 *    BPF instructions plain, 119 exact on Ethernet.
 *
 * Not covered: libpcap on a live Linux socket compiles `vlan` to tests of
 * the kernel's VLAN metadata instead of the packet bytes; the equivalence
 * is for offline filtering (pcap_offline_filter on a capture file's
 * packets). Nor can it hold where libpcap's optimizer miscompiles an
 * expression (its optimized and unoptimized programs then disagree on a
 * packet; the evaluator gives the unoptimized, logical answer): a few of
 * the differential test's random seeds meet such expressions, long rules
 * with many items, on Ethernet, NULL and LOOP alike.
 */
#include "filter/filter.h"

#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/linktypes.h"
#include "core/strbuf.h"

/* The snapshot length libpcap's own tools use; the compiled program returns
 * it on a match. */
#define PCAP_SNAPLEN 262144

/* An expression no packet matches that libpcap still compiles: it refuses
 * one its optimizer proves always false ("expression rejects all packets"),
 * but does not know that the unsigned wire length is never below 0. */
#define NEVER "len < 0"

/* ---- libpcap's compiler: one lock, LINKTYPE to DLT ------------------------ */

/* pcap_compile keeps global state in older libpcap versions (and is not
 * documented as thread-safe in any): every call in the library holds this. */
static pthread_mutex_t pcap_lock = PTHREAD_MUTEX_INITIALIZER;

void pktcap__pcap_lock(void)
{
    pthread_mutex_lock(&pcap_lock);
}

void pktcap__pcap_unlock(void)
{
    pthread_mutex_unlock(&pcap_lock);
}

/* pcap_open_dead takes a DLT_ value; capture files hold LINKTYPE_ values.
 * They are equal except for those libpcap's linktype_to_dlt() maps
 * (pcap-common.c): the ones whose DLT differs between systems. */
int pktcap__filter_linktype_to_dlt(uint32_t linktype)
{
    switch (linktype) {
    case 100: return DLT_ATM_RFC1483;
    case 101: return DLT_RAW;
    case 102: return DLT_SLIP_BSDOS;
    case 103: return DLT_PPP_BSDOS;
#ifdef DLT_ATM_CLIP
    case 106: return DLT_ATM_CLIP;
#endif
#ifdef DLT_PFSYNC
    case 246: return DLT_PFSYNC;
#endif
#ifdef DLT_PKTAP
    case 258: return DLT_PKTAP;
#endif
    case 50: return DLT_PPP_SERIAL;
    case 51: return DLT_PPP_ETHER;
    case 108: return DLT_LOOP;
    default: return (int)linktype;
    }
}

/* Bytes of a pcap file header field, big-endian or little-endian. */
static void put_field_bytes(unsigned char *d, uint32_t v, size_t width, int big)
{
    size_t i;
    for (i = 0; i < width; i++)
        d[big ? width - 1 - i : i] = (unsigned char)(v >> (8 * i));
}

/* A pcap handle that compiles as libpcap compiles for a capture file of
 * `linktype` (see 2. above): pcap_fopen_offline on a pcap file header alone,
 * written in this machine's byte order, or in the opposite one when `swapped`
 * (libpcap then takes the file for one written on a machine of the other
 * byte order). NULL, with errbuf set, on failure. */
static pcap_t *open_savefile(uint32_t linktype, int swapped, char *errbuf, size_t errsize)
{
    const uint16_t one = 1;
    int big = (*(const unsigned char *)&one == 0) != (swapped != 0);
    unsigned char header[24];
    char err[PCAP_ERRBUF_SIZE];
    FILE *fp;
    pcap_t *p;
    put_field_bytes(header, 0xa1b2c3d4, 4, big);       /* magic: microseconds */
    put_field_bytes(header + 4, 2, 2, big);            /* version 2.4 */
    put_field_bytes(header + 6, 4, 2, big);
    put_field_bytes(header + 8, 0, 4, big);            /* thiszone */
    put_field_bytes(header + 12, 0, 4, big);           /* sigfigs */
    put_field_bytes(header + 16, PCAP_SNAPLEN, 4, big);
    put_field_bytes(header + 20, linktype, 4, big);
    fp = fmemopen(header, sizeof header, "rb");
    if (!fp) {
        snprintf(errbuf, errsize, "fmemopen failed");
        return NULL;
    }
    p = pcap_fopen_offline(fp, err);
    if (!p) {
        fclose(fp);
        snprintf(errbuf, errsize, "pcap_fopen_offline failed: %s", err);
    }
    return p;
}

int pktcap__filter_compile(struct bpf_program *prog, const char *expression, uint32_t linktype,
                           int swapped, char *errbuf, size_t errsize)
{
    pcap_t *p;
    int rc;
    pktcap__pcap_lock();
    if (linktype == LINKTYPE_NULL || linktype == LINKTYPE_LOOP) {
        p = open_savefile(linktype, swapped, errbuf, errsize);
    } else {
        p = pcap_open_dead(pktcap__filter_linktype_to_dlt(linktype), PCAP_SNAPLEN);
        if (!p)
            snprintf(errbuf, errsize, "pcap_open_dead failed");
    }
    if (!p) {
        pktcap__pcap_unlock();
        return PKTCAP_E_NOMEM;
    }
    rc = pcap_compile(p, prog, expression, 1, PCAP_NETMASK_UNKNOWN);
    if (rc != 0)
        snprintf(errbuf, errsize, "%s", pcap_geterr(p));
    pcap_close(p);
    pktcap__pcap_unlock();
    return rc == 0 ? 0 : PKTCAP_E_INVAL;
}

int pktcap__filter_check_bpf(const char *expression)
{
    struct bpf_program prog;
    char err[PCAP_ERRBUF_SIZE + 64];
    int rc = pktcap__filter_compile(&prog, expression, LINKTYPE_ETHERNET, 0, err, sizeof err);
    if (rc == PKTCAP_E_NOMEM)
        return pktcap__error_set(rc, "%s", err);
    if (rc < 0)
        return pktcap__error_set(rc, "invalid BPF expression \"%s\": %s", expression, err);
    pcap_freecode(&prog);
    return 0;
}

/* ---- what a rule filter reads (shared with match.c) ----------------------- */

static int rule_has_ports(const pf_rule *r)
{
    return r->field[PKTCAP_FILTER_LOCAL_PORT].n || r->field[PKTCAP_FILTER_REMOTE_PORT].n;
}

/* Can some packet of `family` satisfy every address field of the rule? */
static int rule_allows_family(const pf_rule *r, int family)
{
    int k;
    for (k = PKTCAP_FILTER_LOCAL_ADDRESS; k <= PKTCAP_FILTER_REMOTE_ADDRESS; k++) {
        const pf_field *fl = &r->field[k];
        size_t i;
        int found = fl->n == 0;
        for (i = 0; i < fl->n && !found; i++)
            found = fl->u.addr[i].family == family;
        if (!found)
            return 0;
    }
    return 1;
}

void pktcap__filter_reads(const pktcap_filter *f, pf_reads *out)
{
    size_t i;
    memset(out, 0, sizeof *out);
    for (i = 0; i < f->nrules; i++) {
        const pf_rule *r = &f->rules[i];
        if (rule_has_ports(r)) {
            if (r->proto != PKTCAP_FILTER_UDP)
                out->tcp_ports = 1;
            if (r->proto != PKTCAP_FILTER_TCP)
                out->udp_ports = 1;
        } else if (r->proto != PKTCAP_FILTER_ANY) {
            out->fragment_lookthrough = 1;
        }
        out->ipv4 |= rule_allows_family(r, 4);
        out->ipv6 |= rule_allows_family(r, 6);
    }
}

/* ---- expressions ---------------------------------------------------------
 * libpcap's `and` and `or` have the same precedence and group from the
 * left, so an operand that is itself a list joined by the other word must be
 * parenthesized. An expr is a primitive (op 0) or a list joined by op. */

enum { OP_ATOM = 0, OP_AND = '&', OP_OR = '|' };

typedef struct expr {
    pktcap__strbuf t;
    int op;
} expr;

#define NO_EXPR { PKTCAP__STRBUF_INIT, OP_ATOM }

static expr atom(const char *fmt, ...) PKTCAP__PRINTF(1, 2);

static expr atom(const char *fmt, ...)
{
    expr e = NO_EXPR;
    va_list ap;
    va_start(ap, fmt);
    pktcap__strbuf_vprintf(&e.t, fmt, ap);
    va_end(ap);
    return e;
}

static void expr_free(expr *e)
{
    pktcap__strbuf_free(&e->t);
    e->op = OP_ATOM;
}

static int expr_empty(const expr *e)
{
    return e->t.n == 0 && !e->t.failed;
}

static expr expr_copy(const expr *e)
{
    expr c = { PKTCAP__STRBUF_INIT, e->op };
    c.t.failed = e->t.failed;
    if (e->t.p)
        pktcap__strbuf_add(&c.t, e->t.p, e->t.n);
    return c;
}

static void put_operand(pktcap__strbuf *t, const expr *e, int wrap)
{
    if (wrap)
        pktcap__strbuf_puts(t, "(");
    if (e->t.p)
        pktcap__strbuf_add(t, e->t.p, e->t.n);
    if (wrap)
        pktcap__strbuf_puts(t, ")");
    t->failed |= e->t.failed;
}

/* Append `e` (consumed) to the list `l` joined by `op`. With `group`, a
 * compound operand is parenthesized even when joined by its own word (rules
 * in a filter, to show where each begins). */
static void join(expr *l, int op, expr *e, int group)
{
    if (expr_empty(e)) {
        expr_free(e);
        return;
    }
    if (expr_empty(l)) {
        *l = *e;
        memset(e, 0, sizeof *e);
        if (group && l->op != OP_ATOM) {
            expr first = *l;
            memset(l, 0, sizeof *l);
            put_operand(&l->t, &first, 1);
            expr_free(&first);
        }
        return;
    }
    if (l->op != OP_ATOM && l->op != op) {
        expr left = *l;
        memset(l, 0, sizeof *l);
        put_operand(&l->t, &left, 1);
        expr_free(&left);
    }
    pktcap__strbuf_puts(&l->t, op == OP_AND ? " and " : " or ");
    put_operand(&l->t, e, e->op != OP_ATOM && (e->op != op || group));
    l->op = op;
    expr_free(e);
}

/* ---- rules ---------------------------------------------------------------- */

enum dir { DIR_SRC, DIR_DST, DIR_EITHER };
static const char *const dir_word[] = { "src ", "dst ", "" };

struct addr_list {
    expr *list;
    enum dir dir;
};

/* One CIDR block of an address item: `ip src host 10.0.0.1`, `ip6 net 2001:db8::/32`. */
static int put_block(void *ctx, int family, const uint8_t *net, unsigned prefix)
{
    struct addr_list *c = ctx;
    const char *qual = family == 4 ? "ip" : "ip6";
    char a[64];
    expr e;
    pktcap__filter_addr_str(a, sizeof a, family, net);
    if (prefix == (family == 4 ? 32u : 128u))
        e = atom("%s %shost %s", qual, dir_word[c->dir], a);
    else
        e = atom("%s %snet %s/%u", qual, dir_word[c->dir], a, prefix);
    join(c->list, OP_OR, &e, 0);
    return 0;
}

static expr address_field(const pf_field *fl, enum dir dir)
{
    expr l = NO_EXPR;
    struct addr_list c = { &l, dir };
    size_t i;
    for (i = 0; i < fl->n; i++)
        pktcap__filter_range_to_cidrs(&fl->u.addr[i], put_block, &c);
    return l;
}

static expr port_field(const pf_field *fl, enum dir dir, int proto)
{
    static const char *const names[] = { "tcp", "udp" };
    expr l = NO_EXPR;
    size_t i;
    int p;
    for (i = 0; i < fl->n; i++) {
        const pf_port *pt = &fl->u.port[i];
        for (p = 0; p < 2; p++) {
            expr e;
            if ((p == 0 && proto == PKTCAP_FILTER_UDP) || (p == 1 && proto == PKTCAP_FILTER_TCP))
                continue;
            if (pt->lo == pt->hi)
                e = atom("%s %sport %u", names[p], dir_word[dir], (unsigned)pt->lo);
            else
                e = atom("%s %sportrange %u-%u", names[p], dir_word[dir], (unsigned)pt->lo,
                         (unsigned)pt->hi);
            join(&l, OP_OR, &e, 0);
        }
    }
    return l;
}

static expr field_expr(const pf_rule *r, int field, enum dir dir)
{
    return pf_field_is_addr(field) ? address_field(&r->field[field], dir)
                                   : port_field(&r->field[field], dir, r->proto);
}

/* Direction `d` (0: local is the source, 1: local is the destination) of a field. */
static enum dir field_dir(int field, int d)
{
    int remote = field == PKTCAP_FILTER_REMOTE_ADDRESS || field == PKTCAP_FILTER_REMOTE_PORT;
    return (remote ^ d) ? DIR_DST : DIR_SRC;
}

static expr rule_expr(const pf_rule *r)
{
    expr rule = NO_EXPR;
    int k, set = 0, only = -1;
    for (k = 0; k < PF_FIELDS; k++) {
        if (r->field[k].n) {
            set++;
            only = k;
        }
    }
    if (r->proto != PKTCAP_FILTER_ANY && !rule_has_ports(r)) {
        expr e = atom("%s", r->proto == PKTCAP_FILTER_TCP ? "tcp" : "udp");
        join(&rule, OP_AND, &e, 0);
    }
    if (set == 1) {
        expr e = field_expr(r, only, DIR_EITHER);
        join(&rule, OP_AND, &e, 0);
    } else if (set > 1) {
        expr dirs = NO_EXPR;
        int d;
        for (d = 0; d < 2; d++) {
            expr one = NO_EXPR;
            for (k = 0; k < PF_FIELDS; k++) {
                if (r->field[k].n) {
                    expr e = field_expr(r, k, field_dir(k, d));
                    join(&one, OP_AND, &e, 0);
                }
            }
            join(&dirs, OP_OR, &one, 0);
        }
        join(&rule, OP_AND, &dirs, 0);
    }
    return rule;
}

/* ---- the guard (see 4. above) --------------------------------------------- */

/* `field != v1 and field != v2 ...` */
static expr none_of(const char *field, const int *values, size_t n)
{
    expr l = NO_EXPR;
    size_t i;
    for (i = 0; i < n; i++) {
        expr e = atom("%s != %d", field, values[i]);
        join(&l, OP_AND, &e, 0);
    }
    return l;
}

/* ip[19] >= 0 [and ((ip[9] != 6 and ip[9] != 17) or ip[6:2] & 0x1fff != 0
 *                   or tcp[3] >= 0 or udp[3] >= 0)] */
static expr guard_ipv4(const pf_reads *rd)
{
    expr g = atom("ip[19] >= 0");
    int protos[2];
    size_t n = 0, i;
    if (rd->tcp_ports)
        protos[n++] = 6;
    if (rd->udp_ports)
        protos[n++] = 17;
    if (n) {
        expr any = none_of("ip[9]", protos, n), e = atom("ip[6:2] & 0x1fff != 0");
        join(&any, OP_OR, &e, 0);
        for (i = 0; i < n; i++) {
            e = atom("%s[3] >= 0", protos[i] == 6 ? "tcp" : "udp");
            join(&any, OP_OR, &e, 0);
        }
        join(&g, OP_AND, &any, 0);
    }
    return g;
}

/* ip6[39] >= 0 [and ((ip6[6] != 6 and ip6[6] != 17 and ip6[6] != 44) or ip6[43] >= 0)] */
static expr guard_ipv6(const pf_reads *rd)
{
    expr g = atom("ip6[39] >= 0");
    int next[3];
    size_t n = 0;
    if (rd->tcp_ports)
        next[n++] = 6;
    if (rd->udp_ports)
        next[n++] = 17;
    if (rd->fragment_lookthrough)
        next[n++] = 44;
    if (n) {
        expr any = none_of("ip6[6]", next, n), e = atom("ip6[43] >= 0");
        join(&any, OP_OR, &e, 0);
        join(&g, OP_AND, &any, 0);
    }
    return g;
}

/* F = G and (R1 or R2 ...); G has the families the rules and the link type
 * allow (without G when !guarded). When there are none, the filter matches
 * nothing: NEVER. */
static expr filter_expr(const pktcap_filter *f, uint32_t linktype, int guarded)
{
    expr rules = NO_EXPR, guard = NO_EXPR;
    pf_reads rd;
    size_t i;
    pktcap__filter_reads(f, &rd);
    rd.ipv4 &= linktype != LINKTYPE_IPV6;
    rd.ipv6 &= linktype != LINKTYPE_IPV4;
    if (!rd.ipv4 && !rd.ipv6)
        return atom("%s", NEVER);
    if (rd.ipv4 && guarded) {
        expr g = guard_ipv4(&rd);
        join(&guard, OP_OR, &g, 0);
    }
    if (rd.ipv6 && guarded) {
        expr g = guard_ipv6(&rd);
        join(&guard, OP_OR, &g, 0);
    }
    for (i = 0; i < f->nrules; i++) {
        expr r = rule_expr(&f->rules[i]);
        join(&rules, OP_OR, &r, f->nrules > 1);
    }
    join(&guard, OP_AND, &rules, 0);
    return guard;
}

/* F or (vlan and (F or (vlan and F))), built from the inside out. */
static expr with_vlans(expr *f)
{
    expr inner = expr_copy(f), v;
    int depth;
    for (depth = 0; depth < 2; depth++) {
        expr outer = depth == 1 ? *f : expr_copy(f);
        v = atom("vlan");
        join(&v, OP_AND, &inner, 0);
        join(&outer, OP_OR, &v, 0);
        inner = outer;
    }
    memset(f, 0, sizeof *f);
    return inner;
}

static int finish(char **out, expr *e)
{
    return pktcap__strbuf_finish(out, &e->t);
}

static int copy_out(char **out, const char *s)
{
    char *copy = pktcap__strdup(s);
    if (!copy)
        return PKTCAP_E_NOMEM;
    *out = copy;
    return 0;
}

/* exact: the guard and the VLAN alternatives, so that pktcap_filter_match
 * agrees with libpcap offline; otherwise the plain rules (see
 * pktcap__filter_to_bpf_live). */
static int render(char **out, const pktcap_filter *f, uint32_t linktype, int exact)
{
    expr e;
    if (!out || !f)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_filter_to_bpf: %s is NULL",
                                 out ? "filter" : "out");
    if (f->bpf)
        return copy_out(out, f->bpf);
    if (pktcap__filter_matches_all(f))
        return copy_out(out, "");
    e = filter_expr(f, linktype, exact);
    if (exact && linktype == LINKTYPE_ETHERNET && strcmp(e.t.p ? e.t.p : "", NEVER) != 0)
        e = with_vlans(&e);
    return finish(out, &e);
}

PKTCAP_API int pktcap_filter_to_bpf(char **out, const pktcap_filter *f, uint32_t linktype)
{
    return render(out, f, linktype, 1);
}

int pktcap__filter_to_bpf_live(char **out, const pktcap_filter *f, uint32_t linktype)
{
    return render(out, f, linktype, 0);
}
