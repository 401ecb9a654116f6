/* Printing packet summaries: text, JSON and CSV (doc/summary.md has each
 * layout).
 *
 * A summary is printed by small appenders (digits, hex MACs, IPv4, IPv6 in
 * inet_ntop's RFC 5952 form, dates) that move a pointer through a buffer of
 * FORMAT_MAX bytes, which no summary can outgrow. snprintf, inet_ntop and
 * gmtime_r make the same JSON line 20 times slower (bench-summary: 1.3 us
 * against 61 ns), and formatting is what a `pktcap summary` run spends most
 * of its time on, so none of them is called here. The caller's buffer is written
 * directly when it holds FORMAT_MAX bytes; otherwise the line is made on the
 * stack and copied, which is what gives the exact length even when it does
 * not fit. */
#include <pktcap/summary.h>

#include "core/error.h"
#include "core/linktypes.h"

#include <stddef.h>
#include <string.h>

/* No summary prints longer than this: the JSON object of a summary with
 * every field at its longest stays below 900 bytes (test_format checks it).
 * The slack matters: some appenders store a few bytes past the end they
 * return (an octet's 4-byte copy, all nine fraction digits), which later
 * output overwrites or which lie past the final length. */
#define FORMAT_MAX 1024

/* The digit and address appenders are small and called a dozen times a
 * line: inlined, their calls and spills go away (-10 % on a text line). */
#if defined(__GNUC__)
#  define APPENDER static inline __attribute__((always_inline))
#else
#  define APPENDER static inline
#endif

#define PUT_LITERAL(p, s) (memcpy((p), (s), sizeof(s) - 1), (p) + sizeof(s) - 1)

/* The first version of pktcap_summary ends with `protocol`; sizeof may be
 * larger by tail padding, which differs between ABIs, so the end of the last
 * field is what a caller must at least pass (as pktcap_summarize checks). */
#define SUMMARY_V1_END (offsetof(pktcap_summary, protocol) + sizeof(((pktcap_summary *)0)->protocol))

#define NSEC_PER_SEC 1000000000u
#define SEC_PER_DAY 86400

static const char hex_digits[] = "0123456789abcdef";

static const char digit_pairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

/* --- numbers ------------------------------------------------------------ */

/* Every number is cut into groups of two to four digits that are computed
 * independently (multiplications by constants), instead of a digit loop
 * whose divisions wait on each other. */

/* v < 100, always two digits. */
APPENDER char *put_2digits(char *p, unsigned v)
{
    memcpy(p, digit_pairs + 2 * v, 2);
    return p + 2;
}

/* v < 10000, always four digits. */
APPENDER char *put_4digits(char *p, uint32_t v)
{
    memcpy(p, digit_pairs + 2 * (v / 100), 2);
    memcpy(p + 2, digit_pairs + 2 * (v % 100), 2);
    return p + 4;
}

/* v < 10^9, always nine digits. */
APPENDER char *put_9digits(char *p, uint32_t v)
{
    uint32_t a = v / 1000000, b = v / 1000 % 1000, c = v % 1000;
    p[0] = (char)('0' + a / 100);
    memcpy(p + 1, digit_pairs + 2 * (a % 100), 2);
    p[3] = (char)('0' + b / 100);
    memcpy(p + 4, digit_pairs + 2 * (b % 100), 2);
    p[6] = (char)('0' + c / 100);
    memcpy(p + 7, digit_pairs + 2 * (c % 100), 2);
    return p + 9;
}

/* v < 10000, without leading zeros. */
APPENDER char *put_small(char *p, uint32_t v)
{
    if (v < 10) {
        *p = (char)('0' + v);
        return p + 1;
    }
    if (v < 100)
        return put_2digits(p, v);
    if (v < 1000) {
        *p = (char)('0' + v / 100);
        return put_2digits(p + 1, v % 100);
    }
    return put_4digits(p, v);
}

APPENDER char *put_u32(char *p, uint32_t v)
{
    if (v < 10000)
        return put_small(p, v);
    if (v < 100000000) {
        p = put_small(p, v / 10000);
        return put_4digits(p, v % 10000);
    }
    p = put_small(p, v / 100000000);
    v %= 100000000;
    p = put_4digits(p, v / 10000);
    return put_4digits(p, v % 10000);
}

static char *put_u64(char *p, uint64_t v)
{
    if (v <= UINT32_MAX)
        return put_u32(p, (uint32_t)v);
    /* Up to 20 digits: the part above 10^9, then nine digits. */
    p = put_u64(p, v / 1000000000u);
    return put_9digits(p, (uint32_t)(v % 1000000000u));
}

static char *put_i64(char *p, int64_t v)
{
    if (v >= 0)
        return put_u64(p, (uint64_t)v);
    *p++ = '-';
    return put_u64(p, (uint64_t)0 - (uint64_t)v);
}

/* "0x0800": always four hex digits. */
APPENDER char *put_hex4(char *p, unsigned v)
{
    p[0] = '0';
    p[1] = 'x';
    p[2] = hex_digits[(v >> 12) & 15];
    p[3] = hex_digits[(v >> 8) & 15];
    p[4] = hex_digits[(v >> 4) & 15];
    p[5] = hex_digits[v & 15];
    return p + 6;
}

/* --- addresses ----------------------------------------------------------- */

APPENDER char *put_mac(char *p, const uint8_t mac[6])
{
    for (int i = 0; i < 6; i++) {
        p[0] = hex_digits[mac[i] >> 4];
        p[1] = hex_digits[mac[i] & 15];
        p[2] = ':';
        p += 3;
    }
    return p - 1;
}

/* The text of every byte value, then its length in the fourth byte: an
 * octet is one 4-byte copy (the bytes after its text are overwritten by what
 * follows, or lie past the end). */
static const char octet_text[256][4] = {
    "0\0\0\1", "1\0\0\1", "2\0\0\1", "3\0\0\1", "4\0\0\1", "5\0\0\1", "6\0\0\1", "7\0\0\1",
    "8\0\0\1", "9\0\0\1", "10\0\2", "11\0\2", "12\0\2", "13\0\2", "14\0\2", "15\0\2", "16\0\2",
    "17\0\2", "18\0\2", "19\0\2", "20\0\2", "21\0\2", "22\0\2", "23\0\2", "24\0\2", "25\0\2",
    "26\0\2", "27\0\2", "28\0\2", "29\0\2", "30\0\2", "31\0\2", "32\0\2", "33\0\2", "34\0\2",
    "35\0\2", "36\0\2", "37\0\2", "38\0\2", "39\0\2", "40\0\2", "41\0\2", "42\0\2", "43\0\2",
    "44\0\2", "45\0\2", "46\0\2", "47\0\2", "48\0\2", "49\0\2", "50\0\2", "51\0\2", "52\0\2",
    "53\0\2", "54\0\2", "55\0\2", "56\0\2", "57\0\2", "58\0\2", "59\0\2", "60\0\2", "61\0\2",
    "62\0\2", "63\0\2", "64\0\2", "65\0\2", "66\0\2", "67\0\2", "68\0\2", "69\0\2", "70\0\2",
    "71\0\2", "72\0\2", "73\0\2", "74\0\2", "75\0\2", "76\0\2", "77\0\2", "78\0\2", "79\0\2",
    "80\0\2", "81\0\2", "82\0\2", "83\0\2", "84\0\2", "85\0\2", "86\0\2", "87\0\2", "88\0\2",
    "89\0\2", "90\0\2", "91\0\2", "92\0\2", "93\0\2", "94\0\2", "95\0\2", "96\0\2", "97\0\2",
    "98\0\2", "99\0\2", "100\3", "101\3", "102\3", "103\3", "104\3", "105\3", "106\3", "107\3",
    "108\3", "109\3", "110\3", "111\3", "112\3", "113\3", "114\3", "115\3", "116\3", "117\3",
    "118\3", "119\3", "120\3", "121\3", "122\3", "123\3", "124\3", "125\3", "126\3", "127\3",
    "128\3", "129\3", "130\3", "131\3", "132\3", "133\3", "134\3", "135\3", "136\3", "137\3",
    "138\3", "139\3", "140\3", "141\3", "142\3", "143\3", "144\3", "145\3", "146\3", "147\3",
    "148\3", "149\3", "150\3", "151\3", "152\3", "153\3", "154\3", "155\3", "156\3", "157\3",
    "158\3", "159\3", "160\3", "161\3", "162\3", "163\3", "164\3", "165\3", "166\3", "167\3",
    "168\3", "169\3", "170\3", "171\3", "172\3", "173\3", "174\3", "175\3", "176\3", "177\3",
    "178\3", "179\3", "180\3", "181\3", "182\3", "183\3", "184\3", "185\3", "186\3", "187\3",
    "188\3", "189\3", "190\3", "191\3", "192\3", "193\3", "194\3", "195\3", "196\3", "197\3",
    "198\3", "199\3", "200\3", "201\3", "202\3", "203\3", "204\3", "205\3", "206\3", "207\3",
    "208\3", "209\3", "210\3", "211\3", "212\3", "213\3", "214\3", "215\3", "216\3", "217\3",
    "218\3", "219\3", "220\3", "221\3", "222\3", "223\3", "224\3", "225\3", "226\3", "227\3",
    "228\3", "229\3", "230\3", "231\3", "232\3", "233\3", "234\3", "235\3", "236\3", "237\3",
    "238\3", "239\3", "240\3", "241\3", "242\3", "243\3", "244\3", "245\3", "246\3", "247\3",
    "248\3", "249\3", "250\3", "251\3", "252\3", "253\3", "254\3", "255\3"
};

APPENDER char *put_octet(char *p, unsigned v)
{
    memcpy(p, octet_text[v], 4);
    return p + octet_text[v][3];
}

APPENDER char *put_ipv4(char *p, const uint8_t a[4])
{
    p = put_octet(p, a[0]);
    *p++ = '.';
    p = put_octet(p, a[1]);
    *p++ = '.';
    p = put_octet(p, a[2]);
    *p++ = '.';
    return put_octet(p, a[3]);
}

/* A 16-bit group without leading zeros. */
static char *put_group(char *p, unsigned w)
{
    if (w >= 0x1000)
        *p++ = hex_digits[w >> 12];
    if (w >= 0x100)
        *p++ = hex_digits[(w >> 8) & 15];
    if (w >= 0x10)
        *p++ = hex_digits[(w >> 4) & 15];
    *p = hex_digits[w & 15];
    return p + 1;
}

/* RFC 5952 text, exactly as glibc's inet_ntop prints it: the longest run of
 * two or more zero groups (the first of equal runs) becomes "::"; an address
 * whose first 96 bits are zero (::a.b.c.d, not ::1 style short ones) or that
 * is IPv4-mapped (::ffff:a.b.c.d) ends in dotted IPv4. */
static char *put_ipv6(char *p, const uint8_t a[16])
{
    unsigned w[8];
    int best = -1, best_len = 0, run = -1, run_len = 0;
    for (int i = 0; i < 8; i++) {
        w[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
        if (w[i] == 0) {
            if (run < 0)
                run = i, run_len = 0;
            run_len++;
        } else if (run >= 0) {
            if (run_len > best_len)
                best = run, best_len = run_len;
            run = -1;
        }
    }
    if (run >= 0 && run_len > best_len)
        best = run, best_len = run_len;
    if (best_len < 2)
        best = -1;

    for (int i = 0; i < 8; i++) {
        if (best >= 0 && i >= best && i < best + best_len) {
            if (i == best)
                *p++ = ':';
            continue;
        }
        if (i != 0)
            *p++ = ':';
        if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && w[5] == 0xffff)))
            return put_ipv4(p, a + 12);
        p = put_group(p, w[i]);
    }
    if (best >= 0 && best + best_len == 8)
        *p++ = ':';
    return p;
}

/* LINKTYPE_LINUX_SLL and LINUX_SLL2 record only the source address. */
static int has_dst_mac(const pktcap_summary *s)
{
    return s->linktype != LINKTYPE_LINUX_SLL && s->linktype != LINKTYPE_LINUX_SLL2;
}

static char *put_ip(char *p, const pktcap_summary *s, const uint8_t addr[16])
{
    return s->ip_version == 6 ? put_ipv6(p, addr) : put_ipv4(p, addr);
}

/* --- time ---------------------------------------------------------------- */

struct moment {
    int64_t days;     /* since 1970-01-01 */
    uint32_t second;  /* of the day */
    uint32_t nsec;
};

static struct moment moment_of(const pktcap_summary *s)
{
    struct moment m;
    int64_t sec = s->ts_sec;
    uint32_t nsec = s->ts_nsec;
    if (nsec >= NSEC_PER_SEC) {
        /* Not from the decoder; carry the whole seconds over if they fit. */
        uint32_t carry = nsec / NSEC_PER_SEC;
        nsec %= NSEC_PER_SEC;
        if (sec <= INT64_MAX - carry)
            sec += carry;
        else
            nsec = NSEC_PER_SEC - 1;
    }
    if (sec >= 0) {
        /* Unsigned division by a constant: a multiplication, no sign fix-up. */
        m.days = (int64_t)((uint64_t)sec / SEC_PER_DAY);
        m.second = (uint32_t)((uint64_t)sec % SEC_PER_DAY);
    } else {
        m.days = sec / SEC_PER_DAY;
        int64_t rem = sec % SEC_PER_DAY;
        if (rem < 0) {
            rem += SEC_PER_DAY;
            m.days--;
        }
        m.second = (uint32_t)rem;
    }
    m.nsec = nsec;
    return m;
}

static unsigned digits_of(const pktcap_summary *s)
{
    return s->time_digits > 9 ? 9 : s->time_digits;
}

/* hh:mm:ss[.fraction]: the fraction is the first `digits` of the nine
 * nanosecond digits, cut, not rounded. All nine are written (and the end
 * moved back over those not wanted): building them aside and copying would
 * stall on store forwarding, and the work buffer has room, since the time
 * is never near the end of FORMAT_MAX. */
static char *put_time_of_day(char *p, const struct moment *m, unsigned digits)
{
    uint32_t hours = m->second / 3600, rest = m->second % 3600;
    p = put_2digits(p, hours);
    *p++ = ':';
    p = put_2digits(p, rest / 60);
    *p++ = ':';
    p = put_2digits(p, rest % 60);
    if (digits > 0) {
        *p++ = '.';
        put_9digits(p, m->nsec);
        p += digits;
    }
    return p;
}

/* The proleptic Gregorian date of a day number (days since 1970-01-01).
 * Days of years -32 800 to +2.9 million (any capture) take C. Neri and
 * L. Schneider's 32-bit algorithm ("Euclidean affine functions and their
 * application to calendar algorithms", 2022: multiplications and shifts
 * only); the rest of the int64_t range takes H. Hinnant's civil_from_days. */
static void civil_from_days(int64_t z, int64_t *year, unsigned *month, unsigned *day)
{
    /* Shifting by 82 eras of 400 years keeps N positive. */
    const int64_t shift = 719468 + INT64_C(146097) * 82;
    if (z >= -shift && z < (INT64_C(1) << 30) - shift) {
        uint32_t n = (uint32_t)(z + shift);
        uint32_t n1 = 4 * n + 3;
        uint32_t century = n1 / 146097;
        uint32_t n2 = (n1 % 146097) | 3; /* 4 * (day of the century) + 3 */
        uint64_t p2 = (uint64_t)2939745 * n2;
        uint32_t year_of_century = (uint32_t)(p2 >> 32);
        uint32_t day_of_year = (uint32_t)p2 / 2939745 / 4;
        uint32_t n3 = 2141 * day_of_year + 197913;
        uint32_t january_or_february = day_of_year >= 306;
        *year = (int64_t)(100 * century + year_of_century) - 400 * 82 + january_or_february;
        *month = january_or_february ? (n3 >> 16) - 12 : n3 >> 16;
        *day = (n3 & 0xffff) / 2141 + 1;
        return;
    }
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *day = doy - (153 * mp + 2) / 5 + 1;
    *month = mp < 10 ? mp + 3 : mp - 9;
    *year = (int64_t)yoe + era * 400 + (*month <= 2);
}

/* RFC 3339 in UTC: YYYY-MM-DDThh:mm:ss[.fraction]Z. Years outside
 * 0000-9999 (not from any real capture) get a sign, as ISO 8601's expanded
 * form: -0001, +10000. */
static char *put_rfc3339(char *p, const pktcap_summary *s)
{
    struct moment m = moment_of(s);
    int64_t year;
    unsigned month, day;
    civil_from_days(m.days, &year, &month, &day);
    if (year >= 0 && year <= 9999) {
        p = put_4digits(p, (uint32_t)year);
    } else {
        uint64_t abs_year = year < 0 ? (uint64_t)0 - (uint64_t)year : (uint64_t)year;
        *p++ = year < 0 ? '-' : '+';
        p = abs_year < 10000 ? put_4digits(p, (uint32_t)abs_year) : put_u64(p, abs_year);
    }
    *p++ = '-';
    p = put_2digits(p, month);
    *p++ = '-';
    p = put_2digits(p, day);
    *p++ = 'T';
    p = put_time_of_day(p, &m, digits_of(s));
    *p++ = 'Z';
    return p;
}

/* --- flags and protocol -------------------------------------------------- */

/* The flags that describe the packet's condition; the HAS_* bits show as
 * present or absent fields instead. */
static const struct {
    uint32_t bit;
    const char *name;
    size_t len;
} condition_flags[] = {
    { PKTCAP_SUMMARY_TRUNCATED, "truncated", 9 },
    { PKTCAP_SUMMARY_MALFORMED, "malformed", 9 },
    { PKTCAP_SUMMARY_FRAGMENT, "fragment", 8 },
    { PKTCAP_SUMMARY_UNKNOWN_LINKTYPE, "unknown_linktype", 16 },
};

#define CONDITION_FLAG_COUNT (sizeof condition_flags / sizeof condition_flags[0])
#define CONDITION_MASK                                                                     \
    (PKTCAP_SUMMARY_TRUNCATED | PKTCAP_SUMMARY_MALFORMED | PKTCAP_SUMMARY_FRAGMENT |     \
     PKTCAP_SUMMARY_UNKNOWN_LINKTYPE)

/* The names of the set condition flags, `quote`d, separated by `sep`. */
static char *put_flag_names(char *p, uint32_t flags, char sep, int quote)
{
    int first = 1;
    for (size_t i = 0; i < CONDITION_FLAG_COUNT; i++) {
        if (!(flags & condition_flags[i].bit))
            continue;
        if (!first)
            *p++ = sep;
        first = 0;
        if (quote)
            *p++ = '"';
        memcpy(p, condition_flags[i].name, condition_flags[i].len);
        p += condition_flags[i].len;
        if (quote)
            *p++ = '"';
    }
    return p;
}

/* (A loop, not memchr: names are a few bytes, a libc call costs more.) */
static size_t protocol_length(const pktcap_summary *s)
{
    size_t n = 0;
    while (n < sizeof s->protocol && s->protocol[n])
        n++;
    return n;
}

/* Whether the protocol is `name` (a literal): its bytes and the NUL, one
 * fixed-size compare. */
#define PROTOCOL_IS(s, name) (memcmp((s)->protocol, name, sizeof(name)) == 0)

/* TCP flags mean something: TCP was reached and its ports read. (Not
 * ip_proto == 6: IPv4 with AH keeps ip_proto 51 and still reaches TCP.) */
static int is_tcp(const pktcap_summary *s)
{
    return (s->flags & PKTCAP_SUMMARY_HAS_PORTS) && PROTOCOL_IS(s, "TCP");
}

/* Whether the TCP flags byte means something (a provider may not say). */
static int has_tcp_flags(const pktcap_summary *s)
{
    return is_tcp(s) && !(s->flags & PKTCAP_SUMMARY_NO_TCP_FLAGS);
}

/* Whether ip_proto means anything: an IP packet, not ARP. */
static int has_ip_proto(const pktcap_summary *s)
{
    return (s->flags & (PKTCAP_SUMMARY_HAS_IP | PKTCAP_SUMMARY_ARP)) == PKTCAP_SUMMARY_HAS_IP;
}

/* TCP flags as tcpdump prints them: FSRP.UEW in that order, "none" for 0. */
static char *put_tcp_flags(char *p, uint8_t flags)
{
    static const char letters[8] = { 'F', 'S', 'R', 'P', '.', 'U', 'E', 'W' };
    if (flags == 0)
        return PUT_LITERAL(p, "none");
    for (int i = 0; i < 8; i++)
        if (flags & (1u << i))
            *p++ = letters[i];
    return p;
}

/* --- text ---------------------------------------------------------------- */

/* The protocol name with anything but printable ASCII as '?', so a line stays
 * one line of space-separated words. */
static char *put_protocol_text(char *p, const pktcap_summary *s)
{
    size_t n = protocol_length(s);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s->protocol[i];
        *p++ = c > 0x20 && c < 0x7f ? (char)c : '?';
    }
    return p;
}

static char *put_endpoint_text(char *p, const pktcap_summary *s, const uint8_t addr[16],
                               uint16_t port)
{
    p = put_ip(p, s, addr);
    if (s->flags & PKTCAP_SUMMARY_HAS_PORTS) {
        *p++ = '.';
        p = put_u32(p, port);
    }
    return p;
}

/* After "IP a > b: ": the transport, with its details. */
static char *put_transport_text(char *p, const pktcap_summary *s)
{
    if (PROTOCOL_IS(s, "IPv4") || PROTOCOL_IS(s, "IPv6")) {
        /* Nothing above IP was decoded: name the protocol number, as tcpdump. */
        p = PUT_LITERAL(p, "ip-proto-");
        return put_u32(p, s->ip_proto);
    }
    p = put_protocol_text(p, s);
    if (has_tcp_flags(s)) {
        p = PUT_LITERAL(p, " [");
        p = put_tcp_flags(p, s->tcp_flags);
        *p++ = ']';
    }
    if (s->flags & PKTCAP_SUMMARY_HAS_ICMP) {
        p = PUT_LITERAL(p, " type ");
        p = put_u32(p, s->icmp_type);
        p = PUT_LITERAL(p, " code ");
        p = put_u32(p, s->icmp_code);
    }
    return p;
}

static char *format_text(char *p, const pktcap_summary *s)
{
    struct moment m = moment_of(s);
    uint32_t f = s->flags;

    p = put_u64(p, s->number);
    *p++ = ' ';
    p = put_time_of_day(p, &m, digits_of(s));
    *p++ = ' ';
    if (s->vlan_count > 0) {
        p = PUT_LITERAL(p, "vlan ");
        p = put_u32(p, s->vlan[0]);
        if (s->vlan_count > 1) {
            *p++ = ',';
            p = put_u32(p, s->vlan[1]);
        }
        *p++ = ' ';
    }
    if (s->mpls_count > 0) {
        p = PUT_LITERAL(p, "mpls ");
        p = put_u32(p, s->mpls_count);
        *p++ = ' ';
    }

    if (f & PKTCAP_SUMMARY_UNKNOWN_LINKTYPE) {
        p = PUT_LITERAL(p, "linktype ");
        p = put_u32(p, s->linktype);
    } else if ((f & PKTCAP_SUMMARY_HAS_IP) && (f & PKTCAP_SUMMARY_ARP)) {
        p = PUT_LITERAL(p, "ARP ");
        p = put_ipv4(p, s->src_ip);
        p = PUT_LITERAL(p, " > ");
        p = put_ipv4(p, s->dst_ip);
    } else if (f & PKTCAP_SUMMARY_HAS_IP) {
        p = s->ip_version == 6 ? PUT_LITERAL(p, "IP6 ") : PUT_LITERAL(p, "IP ");
        p = put_endpoint_text(p, s, s->src_ip, s->src_port);
        p = PUT_LITERAL(p, " > ");
        p = put_endpoint_text(p, s, s->dst_ip, s->dst_port);
        p = PUT_LITERAL(p, ": ");
        p = put_transport_text(p, s);
    } else if (f & PKTCAP_SUMMARY_HAS_MAC) {
        p = PUT_LITERAL(p, "ether ");
        p = put_mac(p, s->src_mac);
        p = PUT_LITERAL(p, " > ");
        if (has_dst_mac(s))
            p = put_mac(p, s->dst_mac);
        else
            *p++ = '-';
        p = PUT_LITERAL(p, ": ");
        p = protocol_length(s) ? put_protocol_text(p, s) : PUT_LITERAL(p, "-");
    } else {
        p = protocol_length(s) ? put_protocol_text(p, s) : PUT_LITERAL(p, "-");
    }

    p = PUT_LITERAL(p, " len ");
    p = put_u32(p, s->wire_len);
    if (s->cap_len != s->wire_len) {
        p = PUT_LITERAL(p, " cap ");
        p = put_u32(p, s->cap_len);
    }
    if (f & CONDITION_MASK) {
        p = PUT_LITERAL(p, " [");
        p = put_flag_names(p, f, ',', 0);
        *p++ = ']';
    }
    return p;
}

/* --- JSON ---------------------------------------------------------------- */

/* A JSON string of the protocol. Every byte outside printable ASCII is
 * escaped as \u00XX, so the output is ASCII, hence valid UTF-8, whatever a
 * hand-filled summary holds. */
static char *put_protocol_json(char *p, const pktcap_summary *s)
{
    size_t n = protocol_length(s);
    *p++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s->protocol[i];
        if (c == '"' || c == '\\') {
            *p++ = '\\';
            *p++ = (char)c;
        } else if (c < 0x20 || c >= 0x7f) {
            p = PUT_LITERAL(p, "\\u00");
            *p++ = hex_digits[c >> 4];
            *p++ = hex_digits[c & 15];
        } else {
            *p++ = (char)c;
        }
    }
    *p++ = '"';
    return p;
}

#define PUT_NULL(p) PUT_LITERAL(p, "null")

static char *format_json(char *p, const pktcap_summary *s)
{
    uint32_t f = s->flags;

    p = PUT_LITERAL(p, "{\"number\":");
    p = put_u64(p, s->number);
    p = PUT_LITERAL(p, ",\"time\":\"");
    p = put_rfc3339(p, s);

    p = PUT_LITERAL(p, "\",\"src_mac\":");
    if (f & PKTCAP_SUMMARY_HAS_MAC) {
        *p++ = '"';
        p = put_mac(p, s->src_mac);
        *p++ = '"';
    } else {
        p = PUT_NULL(p);
    }
    p = PUT_LITERAL(p, ",\"dst_mac\":");
    if ((f & PKTCAP_SUMMARY_HAS_MAC) && has_dst_mac(s)) {
        *p++ = '"';
        p = put_mac(p, s->dst_mac);
        *p++ = '"';
    } else {
        p = PUT_NULL(p);
    }

    p = PUT_LITERAL(p, ",\"src_ip\":");
    if (f & PKTCAP_SUMMARY_HAS_IP) {
        *p++ = '"';
        p = put_ip(p, s, s->src_ip);
        p = PUT_LITERAL(p, "\",\"dst_ip\":\"");
        p = put_ip(p, s, s->dst_ip);
        *p++ = '"';
    } else {
        p = PUT_LITERAL(p, "null,\"dst_ip\":null");
    }

    p = PUT_LITERAL(p, ",\"src_port\":");
    if (f & PKTCAP_SUMMARY_HAS_PORTS) {
        p = put_u32(p, s->src_port);
        p = PUT_LITERAL(p, ",\"dst_port\":");
        p = put_u32(p, s->dst_port);
    } else {
        p = PUT_LITERAL(p, "null,\"dst_port\":null");
    }

    p = PUT_LITERAL(p, ",\"protocol\":");
    p = protocol_length(s) ? put_protocol_json(p, s) : PUT_NULL(p);
    p = PUT_LITERAL(p, ",\"length\":");
    p = put_u32(p, s->wire_len);

    /* Ours. */
    p = PUT_LITERAL(p, ",\"ts_sec\":");
    p = put_i64(p, s->ts_sec);
    p = PUT_LITERAL(p, ",\"ts_nsec\":");
    p = put_u32(p, s->ts_nsec);
    p = PUT_LITERAL(p, ",\"linktype\":");
    p = put_u32(p, s->linktype);
    p = PUT_LITERAL(p, ",\"cap_len\":");
    p = put_u32(p, s->cap_len);
    p = PUT_LITERAL(p, ",\"ethertype\":");
    if (s->ethertype) {
        *p++ = '"';
        p = put_hex4(p, s->ethertype);
        *p++ = '"';
    } else {
        p = PUT_NULL(p);
    }
    p = PUT_LITERAL(p, ",\"vlan\":[");
    for (unsigned i = 0; i < s->vlan_count && i < 2; i++) {
        if (i)
            *p++ = ',';
        p = put_u32(p, s->vlan[i]);
    }
    p = PUT_LITERAL(p, "],\"mpls_count\":");
    p = put_u32(p, s->mpls_count);
    p = PUT_LITERAL(p, ",\"ip_version\":");
    if ((f & PKTCAP_SUMMARY_HAS_IP) && s->ip_version)
        p = put_u32(p, s->ip_version);
    else
        p = PUT_NULL(p);
    p = PUT_LITERAL(p, ",\"ip_proto\":");
    p = has_ip_proto(s) ? put_u32(p, s->ip_proto) : PUT_NULL(p);
    p = PUT_LITERAL(p, ",\"icmp_type\":");
    if (f & PKTCAP_SUMMARY_HAS_ICMP) {
        p = put_u32(p, s->icmp_type);
        p = PUT_LITERAL(p, ",\"icmp_code\":");
        p = put_u32(p, s->icmp_code);
    } else {
        p = PUT_LITERAL(p, "null,\"icmp_code\":null");
    }
    p = PUT_LITERAL(p, ",\"tcp_flags\":");
    p = has_tcp_flags(s) ? put_u32(p, s->tcp_flags) : PUT_NULL(p);
    p = PUT_LITERAL(p, ",\"flags\":[");
    p = put_flag_names(p, f, ',', 1);
    p = PUT_LITERAL(p, "]}");
    return p;
}

/* --- CSV ----------------------------------------------------------------- */

static const char csv_header[] =
    "number,time,src_mac,dst_mac,src_ip,dst_ip,src_port,dst_port,protocol,length,"
    "ts_sec,ts_nsec,linktype,cap_len,ethertype,vlan,mpls_count,ip_version,ip_proto,"
    "icmp_type,icmp_code,tcp_flags,flags";

/* RFC 4180: a field holding a comma, a quote, CR or LF is quoted, its quotes
 * doubled. Only the protocol can hold such bytes (every other field is
 * digits, hex, dots, colons and ';'). */
static char *put_protocol_csv(char *p, const pktcap_summary *s)
{
    size_t n = protocol_length(s), i = 0;
    while (i < n && s->protocol[i] != ',' && s->protocol[i] != '"' && s->protocol[i] != '\r' &&
           s->protocol[i] != '\n')
        i++;
    if (i == n) {
        memcpy(p, s->protocol, n);
        return p + n;
    }
    *p++ = '"';
    for (i = 0; i < n; i++) {
        if (s->protocol[i] == '"')
            *p++ = '"';
        *p++ = s->protocol[i];
    }
    *p++ = '"';
    return p;
}

static char *format_csv(char *p, const pktcap_summary *s)
{
    uint32_t f = s->flags;

    p = put_u64(p, s->number);
    *p++ = ',';
    p = put_rfc3339(p, s);
    *p++ = ',';
    if (f & PKTCAP_SUMMARY_HAS_MAC)
        p = put_mac(p, s->src_mac);
    *p++ = ',';
    if ((f & PKTCAP_SUMMARY_HAS_MAC) && has_dst_mac(s))
        p = put_mac(p, s->dst_mac);
    *p++ = ',';
    if (f & PKTCAP_SUMMARY_HAS_IP) {
        p = put_ip(p, s, s->src_ip);
        *p++ = ',';
        p = put_ip(p, s, s->dst_ip);
    } else {
        *p++ = ',';
    }
    *p++ = ',';
    if (f & PKTCAP_SUMMARY_HAS_PORTS) {
        p = put_u32(p, s->src_port);
        *p++ = ',';
        p = put_u32(p, s->dst_port);
    } else {
        *p++ = ',';
    }
    *p++ = ',';
    p = put_protocol_csv(p, s);
    *p++ = ',';
    p = put_u32(p, s->wire_len);

    *p++ = ',';
    p = put_i64(p, s->ts_sec);
    *p++ = ',';
    p = put_u32(p, s->ts_nsec);
    *p++ = ',';
    p = put_u32(p, s->linktype);
    *p++ = ',';
    p = put_u32(p, s->cap_len);
    *p++ = ',';
    if (s->ethertype)
        p = put_hex4(p, s->ethertype);
    *p++ = ',';
    for (unsigned i = 0; i < s->vlan_count && i < 2; i++) {
        if (i)
            *p++ = ';';
        p = put_u32(p, s->vlan[i]);
    }
    *p++ = ',';
    p = put_u32(p, s->mpls_count);
    *p++ = ',';
    if ((f & PKTCAP_SUMMARY_HAS_IP) && s->ip_version)
        p = put_u32(p, s->ip_version);
    *p++ = ',';
    if (has_ip_proto(s))
        p = put_u32(p, s->ip_proto);
    *p++ = ',';
    if (f & PKTCAP_SUMMARY_HAS_ICMP) {
        p = put_u32(p, s->icmp_type);
        *p++ = ',';
        p = put_u32(p, s->icmp_code);
    } else {
        *p++ = ',';
    }
    *p++ = ',';
    if (has_tcp_flags(s))
        p = put_u32(p, s->tcp_flags);
    *p++ = ',';
    return put_flag_names(p, f, ';', 0);
}

/* --- the public functions ------------------------------------------------ */

int pktcap_summary_format(size_t *length, char *buf, size_t size, int format,
                          const pktcap_summary *summary)
{
    char local[FORMAT_MAX];
    char *out, *end;

    if (!length || !summary || (!buf && size > 0))
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_summary_format: NULL argument");
    if (summary->struct_size < SUMMARY_V1_END)
        return pktcap__error_set(PKTCAP_E_INVAL,
                                 "pktcap_summary_format: summary struct_size %u is smaller than "
                                 "pktcap_summary (%zu bytes)",
                                 (unsigned)summary->struct_size, (size_t)SUMMARY_V1_END);

    out = size >= FORMAT_MAX ? buf : local;
    switch (format) {
    case PKTCAP_SUMMARY_TEXT: end = format_text(out, summary); break;
    case PKTCAP_SUMMARY_JSON: end = format_json(out, summary); break;
    case PKTCAP_SUMMARY_CSV: end = format_csv(out, summary); break;
    default:
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_summary_format: unknown format %d",
                                 format);
    }

    size_t n = (size_t)(end - out);
    *length = n;
    if (n >= size) {
        if (size > 0)
            buf[0] = '\0';
        return pktcap__error_set(PKTCAP_E_LIMIT,
                                 "pktcap_summary_format: the summary needs %zu bytes and its "
                                 "NUL, the buffer has %zu", n, size);
    }
    if (out != buf)
        memcpy(buf, out, n);
    buf[n] = '\0';
    return 0;
}

const char *pktcap_summary_header(int format)
{
    switch (format) {
    case PKTCAP_SUMMARY_TEXT:
    case PKTCAP_SUMMARY_JSON: return "";
    case PKTCAP_SUMMARY_CSV: return csv_header;
    default:
        pktcap__error_set(PKTCAP_E_INVAL, "pktcap_summary_header: unknown format %d", format);
        return NULL;
    }
}
