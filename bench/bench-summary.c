/* bench-summary — the packet-summary benchmark: pktcap_summarize (decode
 * only) and pktcap_summary_format (text, JSON, CSV), all in one process on the
 * same capture, with snprintf + inet_ntop + gmtime_r formatting of the very
 * same JSON as the reference a hand-written formatter has to beat.
 *
 * usage: bench-summary [--quick] [--runs N] [--results FILE] [-v] [--only ROW] FILE
 *
 * Method: the file is read into memory (warming the page cache) and walked
 * once with pktcap_reader_open_memory into an array of packets pointing into
 * that memory; every packet is decoded once into an array of summaries (each
 * numbered, with the file's fraction digits, as `pktcap summary` does). Each
 * row then runs one warm-up round and N measured rounds, rows interleaved in
 * an order rotated from round to round; we report the best and the median.
 * Formatting rows format every summary into one 1 KiB line buffer (it stays
 * in L1, as in the CLI before fwrite) and sum the lengths and one byte of
 * each line, which must come out the same in every round.
 * In the warm-up round the snprintf reference must produce exactly our JSON
 * for every packet, or the benchmark fails.
 *
 * Exit status: 0 when everything ran and agreed; 1 on a failure or a
 * disagreement; 2 on a usage error. Timing never affects it.
 */
#include <pktcap/pktcap.h>
#include <pktcap/summary.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench-util.h"

#define MAX_RUNS BENCH_MAX_RUNS
#define LINE_SIZE 1024
/* The decode goal: 30 M packets/s, the rate of a hand-written L2-L4 decode
 * into a struct on this kind of machine. */
#define DECODE_GOAL 30e6

static void die_pktcap(const char *what, int rc)
{
    die("%s: %s (%s)", what, pktcap_error_message(pktcap_error_last()), pktcap_error_name(rc));
}

/* ---- the input, in memory ------------------------------------------------ */

static uint8_t *file_data;
static size_t file_size;
static pktcap_packet *packets;
static pktcap_summary *summaries;
static size_t packet_count;
static int file_digits;

static void load_file(const char *path)
{
    int fd = open(path, O_RDONLY);
    struct stat st;
    size_t got = 0, cap = 1024;
    pktcap_reader *r;
    const pktcap_packet *p;
    int rc;

    if (fd < 0 || fstat(fd, &st) != 0)
        die("%s: %s", path, strerror(errno));
    file_size = (size_t)st.st_size;
    file_data = xmalloc(file_size);
    while (got < file_size) {
        ssize_t n = read(fd, file_data + got, file_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            die("%s: read: %s", path, n < 0 ? strerror(errno) : "unexpected end of file");
        got += (size_t)n;
    }
    close(fd);

    if ((rc = pktcap_reader_open_memory(&r, file_data, file_size)) != 0)
        die_pktcap(path, rc);
    packets = xmalloc(cap * sizeof *packets);
    while ((rc = pktcap_reader_next(&p, r)) == 0) {
        if (p->data < file_data || p->data + p->caplen > file_data + file_size)
            die("the memory reader copied a packet: the benchmark needs pointers into the file");
        if (packet_count == cap) {
            cap *= 2;
            packets = realloc(packets, cap * sizeof *packets);
            if (!packets)
                die("out of memory");
        }
        packets[packet_count++] = *p;
    }
    if (rc != PKTCAP_E_END)
        die_pktcap(path, rc);
    uint64_t resolution = pktcap_reader_interface_tsresol(r, 0);
    for (file_digits = 0; file_digits < 9 && resolution > 1; resolution /= 10)
        file_digits++;
    pktcap_reader_close(r);
}

/* ---- what each row computes --------------------------------------------- */

/* Every round of a row must reproduce its sums exactly. */
struct tally {
    uint64_t a, b;
};

static struct tally decode_all(void)
{
    pktcap_summary s = { .struct_size = sizeof s };
    struct tally t = { 0, 0 };
    for (size_t i = 0; i < packet_count; i++) {
        pktcap_summarize(&s, &packets[i]);
        t.a += s.flags + s.src_port + s.dst_port + s.ip_proto;
        t.b += s.src_ip[3] + s.dst_mac[5] + s.protocol[0];
    }
    return t;
}

/* The first packets whose bytes fit in 1 MiB, as many as the reader's
 * buffer holds at once. */
static size_t hot_count;

static void pick_hot_window(void)
{
    size_t bytes = 0;
    while (hot_count < packet_count && bytes + packets[hot_count].caplen + 16 <= (1u << 20))
        bytes += packets[hot_count++].caplen + 16;
    if (hot_count == 0)
        hot_count = 1;
}

/* The same number of decodes, cycling through the hot window: packet bytes
 * come from the cache, as in `pktcap summary`, where the reader has just
 * copied them into its 1 MiB buffer. */
static struct tally decode_hot(void)
{
    pktcap_summary s = { .struct_size = sizeof s };
    struct tally t = { 0, 0 };
    for (size_t i = 0, k = 0; i < packet_count; i++) {
        pktcap_summarize(&s, &packets[k]);
        if (++k == hot_count)
            k = 0;
        t.a += s.flags + s.src_port + s.dst_port + s.ip_proto;
        t.b += s.src_ip[3] + s.dst_mac[5] + s.protocol[0];
    }
    return t;
}

/* The reader over the file (page cache), alone and with the decoder: the
 * pipeline of `pktcap summary` up to formatting. */
static const char *input_path;

static struct tally read_file(int decode)
{
    pktcap_reader *r;
    const pktcap_packet *p;
    pktcap_summary s = { .struct_size = sizeof s };
    struct tally t = { 0, 0 };
    int rc = pktcap_reader_open(&r, input_path);
    if (rc != 0)
        die_pktcap(input_path, rc);
    while ((rc = pktcap_reader_next(&p, r)) == 0) {
        if (decode) {
            pktcap_summarize(&s, p);
            t.a += s.flags + s.src_port + s.dst_port + s.ip_proto;
            t.b += s.src_ip[3] + s.dst_mac[5] + s.protocol[0];
        } else {
            t.a += p->caplen;
            t.b += p->caplen ? p->data[0] : 0;
        }
    }
    if (rc != PKTCAP_E_END)
        die_pktcap(input_path, rc);
    pktcap_reader_close(r);
    return t;
}

static void fill_summaries(void)
{
    summaries = xmalloc(packet_count * sizeof *summaries);
    for (size_t i = 0; i < packet_count; i++) {
        summaries[i].struct_size = sizeof summaries[i];
        pktcap_summarize(&summaries[i], &packets[i]);
        summaries[i].number = i + 1;
        summaries[i].time_digits = (uint32_t)file_digits;
    }
}

static struct tally format_all(int format)
{
    char line[LINE_SIZE];
    struct tally t = { 0, 0 };
    size_t n;
    for (size_t i = 0; i < packet_count; i++) {
        int rc = pktcap_summary_format(&n, line, sizeof line, format, &summaries[i]);
        if (rc != 0)
            die_pktcap("pktcap_summary_format", rc);
        t.a += n;
        t.b += (unsigned char)line[n / 2];
    }
    return t;
}

static struct tally decode_and_format_json(void)
{
    pktcap_summary s = { .struct_size = sizeof s };
    char line[LINE_SIZE];
    struct tally t = { 0, 0 };
    size_t n;
    for (size_t i = 0; i < packet_count; i++) {
        pktcap_summarize(&s, &packets[i]);
        s.number = i + 1;
        s.time_digits = (uint32_t)file_digits;
        if (pktcap_summary_format(&n, line, sizeof line, PKTCAP_SUMMARY_JSON, &s) != 0)
            die("pktcap_summary_format failed");
        t.a += n;
        t.b += (unsigned char)line[n / 2];
    }
    return t;
}

/* ---- the reference: the same JSON with snprintf, inet_ntop, gmtime_r ------ */

static const char *json_flag_names(uint32_t flags, char *buf, size_t size)
{
    static const struct {
        uint32_t bit;
        const char *name;
    } names[] = {
        { PKTCAP_SUMMARY_TRUNCATED, "truncated" },
        { PKTCAP_SUMMARY_MALFORMED, "malformed" },
        { PKTCAP_SUMMARY_FRAGMENT, "fragment" },
        { PKTCAP_SUMMARY_UNKNOWN_LINKTYPE, "unknown_linktype" },
    };
    size_t used = 0;
    buf[0] = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (flags & names[i].bit)
            used += (size_t)snprintf(buf + used, size - used, "%s\"%s\"", used ? "," : "",
                                     names[i].name);
    return buf;
}

/* As "%u" or "null". */
static const char *num_or_null(int present, unsigned v, char *buf, size_t size)
{
    if (!present)
        return "null";
    snprintf(buf, size, "%u", v);
    return buf;
}

static size_t json_snprintf(char *out, size_t size, const pktcap_summary *s)
{
    char src_mac[24] = "null", dst_mac[24] = "null", src_ip[64] = "null", dst_ip[64] = "null";
    char ip[INET6_ADDRSTRLEN], date[40], frac[16] = "", vlan[16] = "", etype[12] = "null";
    char sp[8], dp[8], ver[8], proto[8], it[8], ic[8], tf[8], flags[80], protocol[24];
    uint32_t f = s->flags;
    int has_ip = (f & PKTCAP_SUMMARY_HAS_IP) != 0, has_ports = (f & PKTCAP_SUMMARY_HAS_PORTS) != 0;
    int has_icmp = (f & PKTCAP_SUMMARY_HAS_ICMP) != 0;
    time_t t = (time_t)s->ts_sec;
    struct tm tm;

    if (f & PKTCAP_SUMMARY_HAS_MAC) {
        const uint8_t *m = s->src_mac;
        snprintf(src_mac, sizeof src_mac, "\"%02x:%02x:%02x:%02x:%02x:%02x\"", m[0], m[1], m[2],
                 m[3], m[4], m[5]);
        m = s->dst_mac;
        if (s->linktype != 113 && s->linktype != 276)
            snprintf(dst_mac, sizeof dst_mac, "\"%02x:%02x:%02x:%02x:%02x:%02x\"", m[0], m[1],
                     m[2], m[3], m[4], m[5]);
    }
    if (has_ip) {
        int af = s->ip_version == 6 ? AF_INET6 : AF_INET;
        snprintf(src_ip, sizeof src_ip, "\"%s\"", inet_ntop(af, s->src_ip, ip, sizeof ip));
        snprintf(dst_ip, sizeof dst_ip, "\"%s\"", inet_ntop(af, s->dst_ip, ip, sizeof ip));
    }
    gmtime_r(&t, &tm);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    if (s->time_digits > 0) {
        uint32_t v = s->ts_nsec;
        for (uint32_t i = s->time_digits; i < 9; i++)
            v /= 10;
        snprintf(frac, sizeof frac, ".%0*u", (int)s->time_digits, v);
    }
    for (unsigned i = 0; i < s->vlan_count && i < 2; i++)
        snprintf(vlan + strlen(vlan), sizeof vlan - strlen(vlan), "%s%u", i ? "," : "", s->vlan[i]);
    if (s->ethertype)
        snprintf(etype, sizeof etype, "\"0x%04x\"", s->ethertype);
    if (s->protocol[0])
        snprintf(protocol, sizeof protocol, "\"%.16s\"", s->protocol);
    else
        strcpy(protocol, "null");
    int is_tcp = has_ports && s->ip_proto == 6;
    int has_proto = has_ip && !(f & PKTCAP_SUMMARY_ARP);

    return (size_t)snprintf(
        out, size,
        "{\"number\":%" PRIu64 ",\"time\":\"%s%sZ\",\"src_mac\":%s,\"dst_mac\":%s,\"src_ip\":%s,"
        "\"dst_ip\":%s,\"src_port\":%s,\"dst_port\":%s,\"protocol\":%s,\"length\":%u,"
        "\"ts_sec\":%" PRId64 ",\"ts_nsec\":%u,\"linktype\":%u,\"cap_len\":%u,\"ethertype\":%s,"
        "\"vlan\":[%s],\"mpls_count\":%u,\"ip_version\":%s,\"ip_proto\":%s,\"icmp_type\":%s,"
        "\"icmp_code\":%s,\"tcp_flags\":%s,\"flags\":[%s]}",
        s->number, date, frac, src_mac, dst_mac, src_ip, dst_ip,
        num_or_null(has_ports, s->src_port, sp, sizeof sp),
        num_or_null(has_ports, s->dst_port, dp, sizeof dp), protocol, s->wire_len, s->ts_sec,
        s->ts_nsec, s->linktype, s->cap_len, etype, vlan, s->mpls_count,
        num_or_null(has_ip && s->ip_version, s->ip_version, ver, sizeof ver),
        num_or_null(has_proto, s->ip_proto, proto, sizeof proto),
        num_or_null(has_icmp, s->icmp_type, it, sizeof it),
        num_or_null(has_icmp, s->icmp_code, ic, sizeof ic),
        num_or_null(is_tcp, s->tcp_flags, tf, sizeof tf), json_flag_names(f, flags, sizeof flags));
}

static struct tally format_all_snprintf(void)
{
    char line[LINE_SIZE];
    struct tally t = { 0, 0 };
    for (size_t i = 0; i < packet_count; i++) {
        size_t n = json_snprintf(line, sizeof line, &summaries[i]);
        t.a += n;
        t.b += (unsigned char)line[n / 2];
    }
    return t;
}

/* Outside the timing: the reference must print exactly our JSON. */
static void check_reference(void)
{
    char ours[LINE_SIZE], theirs[LINE_SIZE];
    size_t n;
    for (size_t i = 0; i < packet_count; i++) {
        if (pktcap_summary_format(&n, ours, sizeof ours, PKTCAP_SUMMARY_JSON, &summaries[i]) != 0)
            die("pktcap_summary_format failed on packet %zu", i + 1);
        json_snprintf(theirs, sizeof theirs, &summaries[i]);
        if (strcmp(ours, theirs) != 0)
            die("packet %zu: the JSON differs from the snprintf reference:\n  ours: %s\n  ref:  %s",
                i + 1, ours, theirs);
    }
}

/* ---- rows, statistics, output ------------------------------------------- */

enum bench_id {
    B_DECODE,
    B_DECODE_HOT,
    B_READ,
    B_READ_DECODE,
    B_FORMAT_JSON,
    B_FORMAT_TEXT,
    B_FORMAT_CSV,
    B_FORMAT_JSON_SNPRINTF,
    B_DECODE_JSON,
    B_COUNT
};

struct row {
    const char *key;
    const char *what;
    double t[MAX_RUNS];
    int n;
    uint64_t bytes; /* bytes produced per run (formatting rows) */
    struct tally want;
};

static struct row rows[B_COUNT] = {
    [B_DECODE] = {"decode", "pktcap_summarize of every packet, bytes streamed from the whole "
                            "file in memory (DRAM)", {0}, 0, 0, {0, 0}},
    [B_DECODE_HOT] = {"decode.hot", "pktcap_summarize as many times, cycling through the "
                                    "packets of the first 1 MiB (cache-hot bytes)",
                      {0}, 0, 0, {0, 0}},
    [B_READ] = {"read", "pktcap_reader_next over the file (page cache), for the next row",
                {0}, 0, 0, {0, 0}},
    [B_READ_DECODE] = {"read+decode", "pktcap_reader_next + pktcap_summarize: the CLI's "
                                      "pipeline before formatting", {0}, 0, 0, {0, 0}},
    [B_FORMAT_JSON] = {"format.json", "pktcap_summary_format JSON of decoded summaries",
                       {0}, 0, 0, {0, 0}},
    [B_FORMAT_TEXT] = {"format.text", "pktcap_summary_format text", {0}, 0, 0, {0, 0}},
    [B_FORMAT_CSV] = {"format.csv", "pktcap_summary_format CSV", {0}, 0, 0, {0, 0}},
    [B_FORMAT_JSON_SNPRINTF] = {"format.json-snprintf",
                                "the same JSON with snprintf + inet_ntop + gmtime_r (reference)",
                                {0}, 0, 0, {0, 0}},
    [B_DECODE_JSON] = {"decode+json", "pktcap_summarize + pktcap_summary_format JSON per packet",
                       {0}, 0, 0, {0, 0}},
};

static double row_min(const struct row *r)
{
    return bench_min(r->t, r->n);
}

static double row_median(const struct row *r)
{
    return bench_median(r->t, r->n);
}

static const char *only; /* --only ROW: that row alone (for perf record) */

static void run_row(enum bench_id id, int round, int first_round)
{
    struct tally got;
    if (only && strcmp(only, rows[id].key) != 0)
        return;
    double t0 = now();
    switch (id) {
    case B_DECODE: got = decode_all(); break;
    case B_DECODE_HOT: got = decode_hot(); break;
    case B_READ: got = read_file(0); break;
    case B_READ_DECODE: got = read_file(1); break;
    case B_FORMAT_JSON: got = format_all(PKTCAP_SUMMARY_JSON); break;
    case B_FORMAT_TEXT: got = format_all(PKTCAP_SUMMARY_TEXT); break;
    case B_FORMAT_CSV: got = format_all(PKTCAP_SUMMARY_CSV); break;
    case B_FORMAT_JSON_SNPRINTF: got = format_all_snprintf(); break;
    default: got = decode_and_format_json(); break;
    }
    double dt = now() - t0;
    struct row *r = &rows[id];
    if (round == first_round) {
        r->want = got;
    } else if (got.a != r->want.a || got.b != r->want.b) {
        die("%s: round %d computed %" PRIu64 "/%" PRIu64 ", the first round %" PRIu64 "/%" PRIu64,
            r->key, round, got.a, got.b, r->want.a, r->want.b);
    }
    if (id >= B_FORMAT_JSON && id != B_DECODE_JSON)
        r->bytes = got.a;
    if (round >= 0)
        r->t[r->n++] = dt;
}

static int verbose, quick_mode;

static void print_rows(void)
{
    double pk = (double)packet_count;
    printf("\n%-22s %8s %8s %8s %8s %8s  %s\n", "row", "Mpkt/s", "MB/s", "ns/pkt", "ns/pkt",
           "B/line", "what");
    printf("%-22s %8s %8s %8s %8s\n", "", "(best)", "(best)", "(min)", "(median)");
    for (int i = 0; i < B_COUNT; i++) {
        const struct row *r = &rows[i];
        double mn, md;
        char mbs[16] = "", per_line[16] = "";
        if (r->n == 0)
            continue;
        mn = row_min(r);
        md = row_median(r);
        if (r->bytes) {
            snprintf(mbs, sizeof mbs, "%.0f", (double)r->bytes / mn / 1e6);
            snprintf(per_line, sizeof per_line, "%.0f", (double)r->bytes / pk);
        }
        printf("%-22s %8.2f %8s %8.1f %8.1f %8s  %s\n", r->key, pk / mn / 1e6, mbs, mn / pk * 1e9,
               md / pk * 1e9, per_line, r->what);
        if (verbose) {
            printf("%-22s", "  rounds, ns/pkt:");
            for (int j = 0; j < r->n; j++)
                printf(" %.1f", r->t[j] / pk * 1e9);
            printf("\n");
        }
    }
}

/* One line of the comparison table (and of RESULTS_TSV). */
static void comparison(FILE *results, const char *key, const char *definition, double r_min,
                       double r_med, double target)
{
    char verdict[64], target_text[16];
    if (target == 0) {
        snprintf(target_text, sizeof target_text, "-");
        snprintf(verdict, sizeof verdict, "info");
    } else {
        snprintf(target_text, sizeof target_text, ">=%.2f", target);
        bench_verdict(verdict, sizeof verdict, quick_mode, r_min >= target, r_med >= target);
    }
    bench_comparison(results, key, definition, r_min, r_med, target_text, verdict);
}

static void print_comparisons(FILE *results)
{
    const struct row *hot = &rows[B_DECODE_HOT], *dram = &rows[B_DECODE], *rd = &rows[B_READ],
                     *rdd = &rows[B_READ_DECODE],
                     *ours = &rows[B_FORMAT_JSON], *ref = &rows[B_FORMAT_JSON_SNPRINTF];
    double pk = (double)packet_count;
    char definition[200];

    bench_comparison_header();
    if (hot->n && dram->n) {
        snprintf(definition, sizeof definition,
                 "decode: pktcap_summarize %.1f M packets/s on cache-hot bytes (best) / the "
                 "30 M/s goal", pk / row_min(hot) / 1e6);
        comparison(results, "decode-rate", definition, pk / row_min(hot) / DECODE_GOAL,
                   pk / row_median(hot) / DECODE_GOAL, 1.0);
        snprintf(definition, sizeof definition,
                 "decode: pktcap_summarize %.1f M packets/s with bytes from DRAM (best) / 30 M/s",
                 pk / row_min(dram) / 1e6);
        comparison(results, "decode-rate-dram", definition, pk / row_min(dram) / DECODE_GOAL,
                   pk / row_median(dram) / DECODE_GOAL, 0);
    }
    if (rd->n && rdd->n) {
        double d_min = row_min(rdd) - row_min(rd), d_med = row_median(rdd) - row_median(rd);
        snprintf(definition, sizeof definition,
                 "decode: (read+decode) - read = %.1f ns/packet, %.1f M packets/s (best) / 30 M/s",
                 d_min / pk * 1e9, d_min > 0 ? pk / d_min / 1e6 : 0);
        comparison(results, "decode-in-pipeline", definition,
                   d_min > 0 ? pk / d_min / DECODE_GOAL : 0, d_med > 0 ? pk / d_med / DECODE_GOAL : 0,
                   0);
    }
    if (ours->n && ref->n) {
        snprintf(definition, sizeof definition,
                 "JSON formatting: snprintf+inet_ntop / pktcap_summary_format (%.0f MB/s), "
                 "best times", (double)ours->bytes / row_min(ours) / 1e6);
        comparison(results, "json-vs-snprintf", definition, row_min(ref) / row_min(ours),
                   row_median(ref) / row_median(ours), 0);
    }
}

static void usage(FILE *to)
{
    fputs("usage: bench-summary [--quick] [--runs N] [--results FILE] [-v] [--only ROW] FILE\n"
          "  --quick         one round, no warm-up (smoke test; timing meaningless)\n"
          "  --runs N        measured rounds after one warm-up round (default 5)\n"
          "  --results FILE  append the comparisons as tab-separated lines\n"
          "  -v, --verbose   also print every round's time\n"
          "  --only ROW      run one row (decode, format.json, ...), e.g. under perf record\n",
          to);
}

int main(int argc, char **argv)
{
    int runs = 5, first_round;
    const char *path = NULL, *results_path = NULL;
    FILE *results = NULL;

    bench_init("bench-summary", NULL);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            quick_mode = 1;
        } else if (strcmp(argv[i], "--verbose") == 0 || strcmp(argv[i], "-v") == 0) {
            verbose = 1;
        } else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            runs = atoi(argv[++i]);
            if (runs < 1 || runs > MAX_RUNS) {
                fprintf(stderr, "bench-summary: --runs must be 1..%d\n", MAX_RUNS);
                return 2;
            }
        } else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
            only = argv[++i];
            int known = 0;
            for (int k = 0; k < B_COUNT; k++)
                known |= strcmp(only, rows[k].key) == 0;
            if (!known) {
                fprintf(stderr, "bench-summary: --only takes a row name: decode, decode.hot, "
                                "read, read+decode, format.json, format.text, format.csv, format.json-snprintf, "
                                "decode+json\n");
                return 2;
            }
        } else if (strcmp(argv[i], "--results") == 0 && i + 1 < argc) {
            results_path = argv[++i];
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (argv[i][0] == '-' || path) {
            usage(stderr);
            return 2;
        } else {
            path = argv[i];
        }
    }
    if (!path) {
        usage(stderr);
        return 2;
    }
    if (quick_mode)
        runs = 1;
    first_round = quick_mode ? 0 : -1; /* round -1 is the warm-up */

    input_path = path;
    load_file(path);
    if (packet_count == 0)
        die("%s holds no packets", path);
    fill_summaries();
    pick_hot_window();
    if (!only)
        check_reference(); /* not under --only: a profile should show the row alone */

    {
        struct bench_host h;
        bench_host(&h);
        printf("bench-summary: %s\n", path);
        printf("  %zu packets, %zu bytes (%.1f MB), %d fraction digits; hot window: the first "
               "%zu packets\n", packet_count, file_size, (double)file_size / 1e6, file_digits,
               hot_count);
        printf("  %s; libpktcap %s; load average at start: %s\n", h.date, pktcap_version(), h.load);
        printf("  %s\n", quick_mode ? "quick mode: 1 round, no warm-up (timing not meaningful)"
                                    : "in memory; 1 warm-up round, then best and median of the "
                                      "rounds, rows interleaved");
        bench_warn_busy(&h);
        if (!only)
            printf("check: the snprintf reference prints exactly our JSON for all %zu packets\n",
                   packet_count);
        fflush(stdout);
    }

    for (int round = first_round; round < runs; round++)
        for (int k = 0; k < B_COUNT; k++)
            run_row((enum bench_id)((k + round + 1 + B_COUNT) % B_COUNT), round, first_round);

    print_rows();
    results = bench_open_results(results_path);
    print_comparisons(results);
    bench_close_results(results, results_path);
    bench_verdict_note(runs);

    free(summaries);
    free(packets);
    free(file_data);
    return 0;
}
