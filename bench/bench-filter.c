/* bench-filter — pktcap_filter_match against libpcap's BPF interpreter
 * (pcap_offline_filter) running the same filter's BPF rendering, on IMIX
 * packets held in memory.
 *
 * usage: bench-filter [--quick] [-n PACKETS] [--passes N] [--runs N] [--results FILE]
 *                     [-v] [--only FILTER|ours]
 *
 * Method: PACKETS IMIX frames (default 3 000, 1.06 MB: about what a reader's
 * 1 MiB buffer holds, so the bytes come from the caches as they do right
 * after reading, and what is timed is the filter, not DRAM; bench-summary's
 * decode.hot row reasons the same way) are generated in process
 * (bench/imix.h) into one array, with a pktcap_packet and a pcap_pkthdr for
 * each prepared beforehand. Each filter is compiled once (pcap_compile of
 * pktcap_filter_to_bpf(f, 1), optimizer on, on a pcap_open_dead Ethernet
 * handle). A measurement is PASSES passes over all packets (default 333:
 * a million evaluations) with one engine; each engine counts its matches,
 * and every measurement of every
 * round must find the same count for both engines, or the benchmark fails
 * (this also keeps the compiler from dropping the calls). One warm-up round,
 * then RUNS measured rounds (default 5), the two engines alternating in an
 * order that flips from round to round; the best and the median are printed,
 * and the verdict (target: ours at least 2x faster) uses the best-of-RUNS
 * ratio, with the median's shown beside it.
 *
 * Exit status: 0 when everything ran and the engines agreed; 1 on a failure
 * or a disagreement; 2 on a usage error. Timing never affects it.
 */
#include <pktcap/pktcap.h>

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench-util.h"
#include "imix.h"

#define MAX_RUNS BENCH_MAX_RUNS
#define TARGET 2.0
#define LINKTYPE_ETHERNET 1

/* ---- the packets ------------------------------------------------------------ */

static uint8_t *arena;
static size_t arena_size;
static pktcap_packet *packets;
static struct pcap_pkthdr *headers;
static size_t packet_count;

static void generate(size_t n)
{
    static imix_state g;
    uint8_t frame[IMIX_MAX_FRAME];
    uint32_t len;
    uint64_t ts;
    size_t used = 0;
    arena = xmalloc(n * IMIX_MAX_FRAME);
    packets = xmalloc(n * sizeof *packets);
    headers = xmalloc(n * sizeof *headers);
    imix_init(&g, IMIX_DEFAULT_SEED);
    for (size_t i = 0; i < n; i++) {
        imix_next(&g, frame, &len, &ts);
        memcpy(arena + used, frame, len);
        memset(&packets[i], 0, sizeof packets[i]);
        packets[i].struct_size = sizeof packets[i];
        packets[i].linktype = LINKTYPE_ETHERNET;
        packets[i].caplen = packets[i].len = len;
        packets[i].data = arena + used;
        memset(&headers[i], 0, sizeof headers[i]);
        headers[i].caplen = headers[i].len = len;
        used += len;
    }
    arena_size = used;
    packet_count = n;
}

/* ---- the filters ------------------------------------------------------------ */

/* IMIX draws hosts from fixed pools: clients 10.1.0.10-73 and
 * 2001:db8:1::a-49, servers 203.0.113.10-25 and 2001:db8:ff::a-19; server
 * ports 443/80/22/8080/993 (TCP) and 53/443/123/514 (UDP). */
struct bench_filter {
    const char *key;
    const char *what;
    const char *text; /* pktcap_filter_parse syntax */
    pktcap_filter *f;
    struct bpf_program prog;
    char *bpf;
    double ours[MAX_RUNS], theirs[MAX_RUNS];
    int n;
    unsigned long count;
};

static struct bench_filter filters[] = {
    { "1-rule", "one rule: TCP from a /24 to port 443",
      "proto=tcp local=10.1.0.0/24 remote_port=443", NULL, { 0, NULL }, NULL, { 0 }, { 0 }, 0, 0 },
    { "5-rule", "five rules: web servers, DNS, SSH over IPv6, a client range, IMAPS",
      "proto=tcp remote=203.0.113.10-203.0.113.13 remote_port=80;8080 "
      "or proto=udp remote_port=53 "
      "or proto=tcp local=2001:db8:1::/112 remote_port=22 "
      "or local=10.1.0.40-10.1.0.47 "
      "or proto=tcp remote=203.0.113.20 remote_port=993",
      NULL, { 0, NULL }, NULL, { 0 }, { 0 }, 0, 0 },
    { "20-item-list", "one rule, a list of 20 hosts (16 IPv4, 4 IPv6)",
      "local=10.1.0.10;10.1.0.13;10.1.0.16;10.1.0.19;10.1.0.22;10.1.0.25;10.1.0.28;"
      "10.1.0.31;10.1.0.34;10.1.0.37;10.1.0.40;10.1.0.43;10.1.0.46;10.1.0.49;10.1.0.52;"
      "10.1.0.55;2001:db8:1::a;2001:db8:1::10;2001:db8:1::20;2001:db8:1::30",
      NULL, { 0, NULL }, NULL, { 0 }, { 0 }, 0, 0 },
    /* The issue's `tcp and dst port 443 or (udp and src net 10.0.0.0/8)` has
     * directions, which rules do not: this is its direction-free counterpart
     * (see the info line printed with it). */
    { "reference", "the issue's filter made direction-free: TCP port 443, or UDP with 10/8",
      "proto=tcp remote_port=443 or proto=udp local=10.0.0.0/8",
      NULL, { 0, NULL }, NULL, { 0 }, { 0 }, 0, 0 },
};
#define NFILTERS (sizeof filters / sizeof filters[0])

static const char *const reference_bpf = "tcp and dst port 443 or (udp and src net 10.0.0.0/8)";

static void compile(struct bpf_program *prog, const char *expression)
{
    pcap_t *dead = pcap_open_dead(DLT_EN10MB, 262144);
    if (!dead)
        die("pcap_open_dead failed");
    if (pcap_compile(dead, prog, expression, 1, PCAP_NETMASK_UNKNOWN) != 0)
        die("pcap_compile(\"%s\"): %s", expression, pcap_geterr(dead));
    pcap_close(dead);
}

static void prepare(struct bench_filter *b)
{
    int rc = pktcap_filter_parse(&b->f, b->text);
    if (rc == 0)
        rc = pktcap_filter_to_bpf(&b->bpf, b->f, LINKTYPE_ETHERNET);
    if (rc != 0)
        die("%s: %s", b->text, pktcap_error_message(pktcap_error_last()));
    compile(&b->prog, b->bpf);
}

/* ---- the two engines -------------------------------------------------------- */

static unsigned long run_ours(const pktcap_filter *f, int passes)
{
    unsigned long matches = 0;
    for (int p = 0; p < passes; p++) {
        for (size_t i = 0; i < packet_count; i++) {
            int rc = pktcap_filter_match(f, &packets[i]);
            if (rc < 0)
                die("pktcap_filter_match: %s", pktcap_error_message(pktcap_error_last()));
            matches += (unsigned long)rc;
        }
    }
    return matches;
}

static unsigned long run_libpcap(const struct bpf_program *prog, int passes)
{
    unsigned long matches = 0;
    for (int p = 0; p < passes; p++)
        for (size_t i = 0; i < packet_count; i++)
            matches += pcap_offline_filter(prog, &headers[i], packets[i].data) != 0;
    return matches;
}

/* ---- output ----------------------------------------------------------------- */

static void usage(FILE *to)
{
    fputs("usage: bench-filter [--quick] [-n PACKETS] [--passes N] [--runs N] [--results FILE] "
          "[-v]\n"
          "  --quick         one round of one pass, no warm-up (smoke test; timing meaningless)\n"
          "  -n PACKETS      IMIX packets held in memory (default 3000, about 1 MiB)\n"
          "  --passes N      passes over the packets per measurement (default 333)\n"
          "  --runs N        measured rounds after one warm-up round (default 5)\n"
          "  --results FILE  append the comparisons as tab-separated lines\n"
          "  -v, --verbose   also print every round's times and the BPF of each filter\n"
          "  --only NAME     time one filter (both engines), or 'ours': our engine alone on\n"
          "                  every filter, e.g. under perf record\n",
          to);
}

static void print_header(int runs, int passes, int quick)
{
    struct bench_host h;
    bench_host(&h);
    printf("bench-filter: pktcap_filter_match vs pcap_offline_filter (libpcap %s)\n",
           pcap_lib_version());
    printf("  %zu IMIX packets in memory (%.1f MB), %d passes per measurement; %s; libpktcap %s; "
           "load average at start: %s\n", packet_count, (double)arena_size / 1e6, passes, h.date,
           pktcap_version(), h.load);
    printf("  %s\n", quick ? "quick mode: 1 round, no warm-up (timing not meaningful)"
                           : "1 warm-up round, then best and median of the rounds, engines "
                             "alternating");
    bench_warn_busy(&h);
    (void)runs;
}

int main(int argc, char **argv)
{
    int runs = 5, passes = 333, quick = 0, verbose = 0, first_round;
    const char *only = NULL;
    size_t n = 3000;
    const char *results_path = NULL;
    FILE *results = NULL;
    struct bpf_program reference;
    unsigned long reference_count;
    double evaluations;

    bench_init("bench-filter", NULL);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            quick = 1;
        } else if (strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "--verbose") == 0) {
            verbose = 1;
        } else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) {
            n = strtoul(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--passes") == 0 && i + 1 < argc) {
            passes = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            runs = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
            only = argv[++i];
        } else if (strcmp(argv[i], "--results") == 0 && i + 1 < argc) {
            results_path = argv[++i];
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (n == 0 || passes < 1 || runs < 1 || runs > MAX_RUNS) {
        usage(stderr);
        return 2;
    }
    if (quick) {
        runs = 1;
        passes = 1;
    }
    first_round = quick ? 0 : -1; /* round -1 is the warm-up */

    generate(n);
    for (size_t k = 0; k < NFILTERS; k++)
        prepare(&filters[k]);
    compile(&reference, reference_bpf);
    print_header(runs, passes, quick);
    fflush(stdout);

    for (int round = first_round; round < runs; round++) {
        for (size_t k = 0; k < NFILTERS; k++) {
            struct bench_filter *b = &filters[k];
            double t0, t_ours, t_theirs;
            unsigned long ours, theirs;
            int ours_first = (round + (int)k) % 2 == 0;
            if (only && strcmp(only, b->key) != 0 && strcmp(only, "ours") != 0)
                continue;
            if (only && strcmp(only, "ours") == 0) {
                b->count = run_ours(b->f, passes) / (unsigned long)passes;
                continue;
            }
            if (ours_first) {
                t0 = now();
                ours = run_ours(b->f, passes);
                t_ours = now() - t0;
                t0 = now();
                theirs = run_libpcap(&b->prog, passes);
                t_theirs = now() - t0;
            } else {
                t0 = now();
                theirs = run_libpcap(&b->prog, passes);
                t_theirs = now() - t0;
                t0 = now();
                ours = run_ours(b->f, passes);
                t_ours = now() - t0;
            }
            if (ours != theirs)
                die("%s: pktcap_filter_match matched %lu packets, libpcap %lu (round %d)",
                    b->key, ours, theirs, round);
            if (round == first_round)
                b->count = ours / (unsigned long)passes;
            else if (ours != b->count * (unsigned long)passes)
                die("%s: round %d matched %lu, the first round %lu", b->key, round, ours,
                    b->count * (unsigned long)passes);
            if (round >= 0) {
                b->ours[b->n] = t_ours;
                b->theirs[b->n++] = t_theirs;
            }
        }
    }
    reference_count = run_libpcap(&reference, 1);

    evaluations = (double)packet_count * passes;
    printf("\n%-24s %9s %9s %9s %9s %8s %8s %9s  %s\n", "filter", "ours", "libpcap", "ours",
           "libpcap", "ratio", "ratio", "matches", "what");
    printf("%-24s %9s %9s %9s %9s %8s %8s\n", "", "ns (min)", "ns (min)", "ns (med)",
           "ns (med)", "(best)", "(median)");
    for (size_t k = 0; k < NFILTERS; k++) {
        struct bench_filter *b = &filters[k];
        if (b->n == 0)
            continue;
        double om = bench_min(b->ours, b->n) / evaluations * 1e9;
        double lm = bench_min(b->theirs, b->n) / evaluations * 1e9;
        double od = bench_median(b->ours, b->n) / evaluations * 1e9;
        double ld = bench_median(b->theirs, b->n) / evaluations * 1e9;
        printf("filter.%-17s %9.1f %9.1f %9.1f %9.1f %7.2fx %7.2fx %9lu  %s\n", b->key, om, lm,
               od, ld, lm / om, ld / od, b->count, b->what);
        if (verbose) {
            printf("  filter: %s\n  bpf:    %s\n  rounds, ns/packet (ours / libpcap):", b->text,
                   b->bpf);
            for (int r = 0; r < b->n; r++)
                printf(" %.1f/%.1f", b->ours[r] / evaluations * 1e9,
                       b->theirs[r] / evaluations * 1e9);
            printf("\n");
        }
    }
    printf("check: in every round both engines counted the same matches\n");
    printf("info: the issue's literal BPF \"%s\" (directional) matches %lu packets of %zu;\n"
           "      its direction-free rule counterpart (row 'reference') matches %lu\n",
           reference_bpf, reference_count, packet_count, filters[NFILTERS - 1].count);

    results = bench_open_results(results_path);
    bench_comparison_header();
    for (size_t k = 0; k < NFILTERS; k++) {
        struct bench_filter *b = &filters[k];
        if (b->n == 0)
            continue;
        double rb = bench_min(b->theirs, b->n) / bench_min(b->ours, b->n);
        double rm = bench_median(b->theirs, b->n) / bench_median(b->ours, b->n);
        char key[64], definition[256], target[16], verdict[64];
        snprintf(key, sizeof key, "filter-%s", b->key);
        snprintf(definition, sizeof definition,
                 "filter %s: pcap_offline_filter of the BPF rendering / pktcap_filter_match, "
                 "ns per IMIX packet, best times (%s)", b->key, b->what);
        snprintf(target, sizeof target, ">=%.2f", TARGET);
        bench_verdict(verdict, sizeof verdict, quick, rb >= TARGET, rm >= TARGET);
        bench_comparison(results, key, definition, rb, rm, target, verdict);
    }
    bench_close_results(results, results_path);
    bench_verdict_note(runs);

    for (size_t k = 0; k < NFILTERS; k++) {
        pcap_freecode(&filters[k].prog);
        pktcap_free(filters[k].bpf);
        pktcap_filter_free(filters[k].f);
    }
    pcap_freecode(&reference);
    free(arena);
    free(packets);
    free(headers);
    return 0;
}
