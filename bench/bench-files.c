/* bench-files — the capture-file benchmark: libpktcap's reader and writer
 * against libpcap and against the ceilings (read()/write() in 1 MiB chunks,
 * memcpy), all in one process on the same classic pcap file.
 *
 * usage: bench-files [--quick] [--runs N] [--results FILE] [-v] [--only GROUP] FILE.pcap
 *        bench-files --check [--expect N] FILE
 *
 * Method: the input file is first read into memory (which also warms the page
 * cache) and walked once to learn its packet count, caplen sum and a sum of
 * one byte per packet; every read benchmark must reproduce these exactly.
 * Each group (read, write) then runs one warm-up round and N measured rounds,
 * the implementations interleaved, in an order rotated from round to round,
 * so that drift and noise from other processes hit them alike; we report the
 * best (min) and the median.
 * Writes go to a fresh temporary directory under /tmp (or $TMPDIR) and land
 * in the page cache: nothing is fsync'ed. Each output is removed outside the
 * timed region, just before the next write (see drop_previous_output()), and
 * the directory is removed at exit.
 *
 * --quick: one round without warm-up, for the smoke test; timing is printed but
 * means little. --check: only count the packets of FILE (pcap or pcapng) with
 * our reader and with libpcap; fail unless they agree (and equal N).
 * Exit status: 0 when every run completed and every count/sum agreed; 1 on a
 * failure or disagreement; 2 on a usage error. Timing never affects it.
 */
#include <pktcap/pktcap.h>
#include <pcap/pcap.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "bench-util.h"

#define CHUNK (1u << 20)
#define MAX_RUNS BENCH_MAX_RUNS
#define MAX_RECORD (16u + 262144u)

/* ---- small helpers ------------------------------------------------------- */

static char tmpdir[256];

static void remove_tmpdir(void)
{
    DIR *d;
    struct dirent *e;
    char path[600];
    if (!tmpdir[0])
        return;
    d = opendir(tmpdir);
    if (d) {
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(path, sizeof path, "%s/%s", tmpdir, e->d_name);
            unlink(path);
        }
        closedir(d);
    }
    rmdir(tmpdir);
    tmpdir[0] = 0;
}

static void on_signal(int sig)
{
    remove_tmpdir();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void die_pktcap(const char *what, int rc)
{
    die("%s: %s (%s)", what, pktcap_error_message(pktcap_error_last()), pktcap_error_name(rc));
}

static uint32_t rd32(const uint8_t *p, int swap)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return swap ? __builtin_bswap32(v) : v;
}

/* What a pass over all packets saw; every reader must see the same. */
struct tally {
    uint64_t packets;
    uint64_t caplen;  /* sum of caplen */
    uint64_t touch;   /* sum of the first byte of each packet */
};

static int tally_equal(const struct tally *a, const struct tally *b)
{
    return a->packets == b->packets && a->caplen == b->caplen && a->touch == b->touch;
}

static void check_tally(const char *who, const struct tally *got, const struct tally *want)
{
    if (!tally_equal(got, want))
        die("%s saw %" PRIu64 " packets, caplen sum %" PRIu64 ", byte sum %" PRIu64
            "; expected %" PRIu64 ", %" PRIu64 ", %" PRIu64,
            who, got->packets, got->caplen, got->touch, want->packets, want->caplen, want->touch);
}

/* ---- the input, in memory ------------------------------------------------ */

static const uint8_t *file_data;
static size_t file_size;
static int file_swapped;     /* byte order differs from ours */
static int file_nsec;        /* nanosecond magic */
static pktcap_packet *packets;
struct pcap_rec {
    struct pcap_pkthdr h;
    const u_char *data;
};
static struct pcap_rec *pcap_recs;
static size_t packet_count;
static struct tally expected;

static void load_file(const char *path)
{
    int fd = open(path, O_RDONLY);
    struct stat st;
    uint8_t *buf;
    size_t got = 0, pos, n = 0, cap = 1024;
    uint32_t magic;

    if (fd < 0 || fstat(fd, &st) != 0)
        die("%s: %s", path, strerror(errno));
    file_size = (size_t)st.st_size;
    buf = xmalloc(file_size);
    while (got < file_size) {
        ssize_t r = read(fd, buf + got, file_size - got > CHUNK ? CHUNK : file_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            die("%s: read: %s", path, r < 0 ? strerror(errno) : "unexpected end of file");
        got += (size_t)r;
    }
    close(fd);
    file_data = buf;

    if (file_size < 24)
        die("%s: not a classic pcap file (too short)", path);
    memcpy(&magic, buf, 4);
    if (magic == 0xa1b2c3d4 || magic == 0xa1b23c4d) {
        file_swapped = 0;
    } else if (magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1) {
        file_swapped = 1;
        magic = __builtin_bswap32(magic);
    } else {
        die("%s: the benchmark needs a classic pcap file (gen-imix's default output); "
            "magic %08x", path, (unsigned)magic);
    }
    file_nsec = magic == 0xa1b23c4d;

    packets = xmalloc(cap * sizeof *packets);
    for (pos = 24; pos < file_size;) {
        uint32_t caplen, len, sec, frac;
        if (file_size - pos < 16)
            die("%s: truncated record header at offset %zu", path, pos);
        sec = rd32(buf + pos, file_swapped);
        frac = rd32(buf + pos + 4, file_swapped);
        caplen = rd32(buf + pos + 8, file_swapped);
        len = rd32(buf + pos + 12, file_swapped);
        if (caplen > 262144 || file_size - pos - 16 < caplen)
            die("%s: bad or truncated record at offset %zu", path, pos);
        if (n == cap) {
            cap *= 2;
            packets = realloc(packets, cap * sizeof *packets);
            if (!packets)
                die("out of memory");
        }
        memset(&packets[n], 0, sizeof packets[n]);
        packets[n].struct_size = sizeof(pktcap_packet);
        packets[n].ts_sec = sec;
        packets[n].ts_nsec = file_nsec ? frac : frac * 1000u;
        packets[n].caplen = caplen;
        packets[n].len = len;
        packets[n].linktype = 1;
        packets[n].data = buf + pos + 16;
        expected.packets++;
        expected.caplen += caplen;
        expected.touch += caplen ? buf[pos + 16] : 0;
        n++;
        pos += 16 + caplen;
    }
    packet_count = n;
    pcap_recs = xmalloc((n ? n : 1) * sizeof *pcap_recs);
    for (size_t i = 0; i < n; i++) {
        pcap_recs[i].h.ts.tv_sec = (time_t)packets[i].ts_sec;
        pcap_recs[i].h.ts.tv_usec = (suseconds_t)(packets[i].ts_nsec / 1000u);
        pcap_recs[i].h.caplen = packets[i].caplen;
        pcap_recs[i].h.len = packets[i].len;
        pcap_recs[i].data = packets[i].data;
    }
}

/* ---- readers ------------------------------------------------------------- */

static void read_pktcap(const char *path, struct tally *t)
{
    pktcap_reader *r;
    const pktcap_packet *p;
    uint64_t n = 0, caplen = 0, touch = 0;
    int rc = pktcap_reader_open(&r, path);
    if (rc != 0)
        die_pktcap("pktcap_reader_open", rc);
    while ((rc = pktcap_reader_next(&p, r)) == 0) {
        n++;
        caplen += p->caplen;
        touch += p->caplen ? p->data[0] : 0;
    }
    if (rc != PKTCAP_E_END)
        die_pktcap("pktcap_reader_next", rc);
    pktcap_reader_close(r);
    t->packets = n;
    t->caplen = caplen;
    t->touch = touch;
}

static void read_libpcap(const char *path, struct tally *t)
{
    char err[PCAP_ERRBUF_SIZE];
    struct pcap_pkthdr *h;
    const u_char *d;
    uint64_t n = 0, caplen = 0, touch = 0;
    int rc;
    pcap_t *p = pcap_open_offline(path, err);
    if (!p)
        die("pcap_open_offline: %s", err);
    while ((rc = pcap_next_ex(p, &h, &d)) == 1) {
        n++;
        caplen += h->caplen;
        touch += h->caplen ? d[0] : 0;
    }
    if (rc != PCAP_ERROR_BREAK)
        die("pcap_next_ex: %s", pcap_geterr(p));
    pcap_close(p);
    t->packets = n;
    t->caplen = caplen;
    t->touch = touch;
}

/* The ceiling for a reader: read() in 1 MiB chunks into one buffer, walk the
 * record headers, carry a record that spans two chunks over to the next. */
static void read_ceiling(const char *path, struct tally *t)
{
    uint8_t *buf = xmalloc(CHUNK + MAX_RECORD);
    uint64_t n = 0, caplen = 0, touch = 0;
    size_t have = 0, pos = 24;
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        die("%s: %s", path, strerror(errno));
    for (;;) {
        ssize_t r = read(fd, buf + have, CHUNK);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            die("%s: read: %s", path, strerror(errno));
        }
        if (r == 0)
            break;
        have += (size_t)r;
        if (pos > have) /* only the file header can be longer than what we have */
            continue;
        while (have - pos >= 16) {
            uint32_t cl = rd32(buf + pos + 8, file_swapped);
            if (cl > 262144)
                die("%s: bad record at %zu", path, pos);
            if (have - pos - 16 < cl)
                break;
            n++;
            caplen += cl;
            touch += cl ? buf[pos + 16] : 0;
            pos += 16 + cl;
        }
        memmove(buf, buf + pos, have - pos);
        have -= pos;
        pos = 0;
    }
    close(fd);
    free(buf);
    if (have != pos)
        die("%s: truncated at the end", path);
    t->packets = n;
    t->caplen = caplen;
    t->touch = touch;
}

/* ---- writers ------------------------------------------------------------- */

/* Read a file we wrote back with libpcap and with our reader; both must see
 * exactly the packets we wrote. */
static void verify_output(const char *what, const char *path)
{
    struct tally a, b;
    read_libpcap(path, &a);
    check_tally(what, &a, &expected);
    read_pktcap(path, &b);
    check_tally(what, &b, &expected);
}

/* A finished output stays until just before the next timed write and is
 * removed then (outside the timed region). This keeps the memory it occupies
 * from sitting free: on this kind of VM the balloon driver's free-page
 * reporting hands free memory back to the host within seconds, and the next
 * first touch of such a page costs microseconds, which would swamp what we
 * measure (up to 10x on a 370 MB write). */
static char previous_output[300];

static void drop_previous_output(void)
{
    if (previous_output[0] && unlink(previous_output) != 0)
        die("%s: %s", previous_output, strerror(errno));
    previous_output[0] = 0;
}

static uint64_t finish_output(const char *what, const char *path, int verify)
{
    struct stat st;
    if (stat(path, &st) != 0)
        die("%s: output %s missing: %s", what, path, strerror(errno));
    if (verify)
        verify_output(what, path);
    snprintf(previous_output, sizeof previous_output, "%s", path);
    return (uint64_t)st.st_size;
}

static void write_pktcap(int format, const char *path)
{
    pktcap_storage *st;
    pktcap_writer *w;
    int rc = pktcap_storage_open(&st, path);
    if (rc != 0)
        die_pktcap("pktcap_storage_open", rc);
    if ((rc = pktcap_writer_open(&w, st, format)) != 0)
        die_pktcap("pktcap_writer_open", rc);
    if ((rc = pktcap_writer_add_interface(NULL, w, 1, 0, NULL, NULL)) != 0)
        die_pktcap("pktcap_writer_add_interface", rc);
    for (size_t i = 0; i < packet_count; i++)
        if ((rc = pktcap_writer_write(w, &packets[i])) != 0)
            die_pktcap("pktcap_writer_write", rc);
    if ((rc = pktcap_writer_close(w)) != 0)
        die_pktcap("pktcap_writer_close", rc);
    pktcap_storage_free(st);
}

static void write_libpcap(const char *path, size_t bufsize)
{
    pcap_t *p = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 262144,
                                                     PCAP_TSTAMP_PRECISION_MICRO);
    pcap_dumper_t *d;
    char *vbuf = NULL;
    if (!p)
        die("pcap_open_dead failed");
    if (bufsize == 0) {
        d = pcap_dump_open(p, path); /* as users get it: stdio's default buffer */
    } else {
        FILE *f = fopen(path, "wb");
        if (!f)
            die("%s: %s", path, strerror(errno));
        vbuf = xmalloc(bufsize);
        setvbuf(f, vbuf, _IOFBF, bufsize);
        d = pcap_dump_fopen(p, f);
    }
    if (!d)
        die("pcap_dump_open: %s", pcap_geterr(p));
    for (size_t i = 0; i < packet_count; i++)
        pcap_dump((u_char *)d, &pcap_recs[i].h, pcap_recs[i].data);
    if (pcap_dump_flush(d) != 0)
        die("pcap_dump_flush failed");
    pcap_dump_close(d);
    pcap_close(p);
    free(vbuf);
}

static void write_ceiling(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    size_t off = 0;
    if (fd < 0)
        die("%s: %s", path, strerror(errno));
    while (off < file_size) {
        size_t n = file_size - off > CHUNK ? CHUNK : file_size - off;
        ssize_t w = write(fd, file_data + off, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            die("%s: write: %s", path, w < 0 ? strerror(errno) : "no progress");
        off += (size_t)w;
    }
    if (close(fd) != 0)
        die("%s: close: %s", path, strerror(errno));
}

/* ---- rows, statistics, output ------------------------------------------- */

enum bench_id {
    B_READ_PKTCAP,
    B_READ_LIBPCAP,
    B_READ_CEILING,
    B_WRITE_PKTCAP_PCAP,
    B_WRITE_LIBPCAP,
    B_WRITE_LIBPCAP_1M,
    B_WRITE_PKTCAP_PCAPNG,
    B_WRITE_CEILING,
    B_MEMCPY,
    B_COUNT
};

struct row {
    const char *key;
    const char *what;
    double t[MAX_RUNS];
    int n;
    uint64_t bytes; /* bytes read or written per run */
};

static struct row rows[B_COUNT] = {
    [B_READ_PKTCAP] = {"read.pktcap", "pktcap_reader_open + pktcap_reader_next", {0}, 0, 0},
    [B_READ_LIBPCAP] = {"read.libpcap", "pcap_open_offline + pcap_next_ex", {0}, 0, 0},
    [B_READ_CEILING] = {"read.ceiling", "read() 1 MiB chunks + walk record headers", {0}, 0, 0},
    [B_WRITE_PKTCAP_PCAP] = {"write.pktcap-pcap",
                             "pktcap_storage_open + pktcap_writer (pcap) + close", {0}, 0, 0},
    [B_WRITE_LIBPCAP] = {"write.libpcap-dump",
                         "pcap_dump_open + pcap_dump + close (default 4 KiB stdio buffer)",
                         {0}, 0, 0},
    [B_WRITE_LIBPCAP_1M] = {"write.libpcap-dump-1M",
                            "same with a 1 MiB setvbuf buffer (tuned; for reference)", {0}, 0, 0},
    [B_WRITE_PKTCAP_PCAPNG] = {"write.pktcap-pcapng",
                               "pktcap_storage_open + pktcap_writer (pcapng) + close", {0}, 0, 0},
    [B_WRITE_CEILING] = {"write.ceiling", "write() 1 MiB chunks of the file bytes + close",
                         {0}, 0, 0},
    [B_MEMCPY] = {"memcpy.ceiling", "memcpy of the whole file into a touched buffer", {0}, 0, 0},
};

static double row_min(const struct row *r)
{
    return bench_min(r->t, r->n);
}

static double row_median(const struct row *r)
{
    return bench_median(r->t, r->n);
}

static void record(enum bench_id id, int round, double t, uint64_t bytes)
{
    if (round < 0)
        return; /* warm-up */
    rows[id].t[rows[id].n++] = t;
    rows[id].bytes = bytes;
}

static int verbose;

static void print_rows(void)
{
    double pk = (double)packet_count;
    printf("\n%-22s %8s %8s %8s %8s  %s\n", "row", "Mpkt/s", "MB/s", "ns/pkt", "ns/pkt", "what");
    printf("%-22s %8s %8s %8s %8s\n", "", "(best)", "(best)", "(min)", "(median)");
    for (int i = 0; i < B_COUNT; i++) {
        const struct row *r = &rows[i];
        double mn, md;
        if (r->n == 0)
            continue;
        mn = row_min(r);
        md = row_median(r);
        printf("%-22s %8.2f %8.0f %8.1f %8.1f  %s\n", r->key, pk / mn / 1e6,
               (double)r->bytes / mn / 1e6, mn / pk * 1e9, md / pk * 1e9, r->what);
        if (verbose) {
            printf("%-22s", "  rounds, ns/pkt:");
            for (int j = 0; j < r->n; j++)
                printf(" %.1f", r->t[j] / pk * 1e9);
            printf("\n");
        }
    }
}

struct comparison {
    const char *key;
    const char *what;
    enum bench_id num, den; /* ratio = time(num) / time(den) */
    int at_least;           /* 1: target is ratio >= target; 0: ratio <= target */
    double target;
};

static const struct comparison comparisons[] = {
    {"read-vs-libpcap", "read: pcap_next_ex / pktcap_reader_next, best times (speed-up)",
     B_READ_LIBPCAP, B_READ_PKTCAP, 1, 1.5},
    {"read-vs-ceiling", "read: pktcap_reader_next / read() ceiling, best times",
     B_READ_PKTCAP, B_READ_CEILING, 0, 1.15},
    {"write-vs-pcap_dump", "write pcap: pcap_dump / pktcap writer, best times (speed-up)",
     B_WRITE_LIBPCAP, B_WRITE_PKTCAP_PCAP, 1, 2.0},
    {"pcapng-vs-pcap", "write: pktcap pcapng / pktcap pcap, best times",
     B_WRITE_PKTCAP_PCAPNG, B_WRITE_PKTCAP_PCAP, 0, 1.25},
    {"write-vs-ceiling", "write pcap: pktcap writer / write() ceiling, best times",
     B_WRITE_PKTCAP_PCAP, B_WRITE_CEILING, 0, 0},
    {"write-vs-pcap_dump-1M", "write pcap: pcap_dump with 1 MiB buffer / pktcap writer, best times",
     B_WRITE_LIBPCAP_1M, B_WRITE_PKTCAP_PCAP, 1, 0},
};

static int target_met(const struct comparison *c, double ratio)
{
    return c->at_least ? ratio >= c->target : ratio <= c->target;
}

/* Verdicts use the best-of-N ratio (the noise on this VM only ever adds
 * time); when the median ratio disagrees, the verdict says so. */
static int quick_mode;

static void print_comparisons(FILE *results)
{
    bench_comparison_header();
    for (size_t i = 0; i < sizeof comparisons / sizeof comparisons[0]; i++) {
        const struct comparison *c = &comparisons[i];
        const struct row *a = &rows[c->num], *b = &rows[c->den];
        double rmed, rmin;
        char target[32], verdict[64];
        if (a->n == 0 || b->n == 0)
            continue;
        rmed = row_median(a) / row_median(b);
        rmin = row_min(a) / row_min(b);
        if (c->target == 0) {
            snprintf(target, sizeof target, "-");
            snprintf(verdict, sizeof verdict, "info");
        } else {
            snprintf(target, sizeof target, "%s%.2f", c->at_least ? ">=" : "<=", c->target);
            bench_verdict(verdict, sizeof verdict, quick_mode, target_met(c, rmin),
                          target_met(c, rmed));
        }
        bench_comparison(results, c->key, c->what, rmin, rmed, target, verdict);
    }
}

/* ---- main ---------------------------------------------------------------- */

/* --only GROUP: run one group (for profiling with perf). */
static int want_group(const char *only, const char *group)
{
    return !only || strcmp(only, group) == 0;
}

static void usage(FILE *to)
{
    fputs("usage: bench-files [--quick] [--runs N] [--results FILE] [-v] [--only GROUP] FILE.pcap\n"
          "       bench-files --check [--expect N] FILE\n"
          "  --quick         one round, no warm-up (smoke test; timing meaningless)\n"
          "  --runs N        measured rounds after one warm-up round (default 5)\n"
          "  --results FILE  append the comparisons as tab-separated lines\n"
          "  -v, --verbose   also print every round's time\n"
          "  --only GROUP    run only read, write or memcpy (e.g. under perf record)\n"
          "  --check         only compare packet counts of our reader and libpcap\n"
          "  --expect N      with --check: the count both must report\n",
          to);
}

static int check_only(const char *path, long long expect)
{
    struct tally a, b;
    read_pktcap(path, &a);
    read_libpcap(path, &b);
    printf("check: %s: pktcap %" PRIu64 " packets, libpcap %" PRIu64 " packets", path, a.packets,
           b.packets);
    if (!tally_equal(&a, &b)) {
        printf(": DISAGREE\n");
        return 1;
    }
    if (expect >= 0 && a.packets != (uint64_t)expect) {
        printf(": expected %lld\n", expect);
        return 1;
    }
    printf(": OK\n");
    return 0;
}

int main(int argc, char **argv)
{
    int quick = 0, runs = 5, check = 0, rounds_start;
    long long expect = -1;
    const char *path = NULL, *results_path = NULL, *only = NULL;
    FILE *results = NULL;
    char out_pcap[300], out_pcapng[300], out_dump[300], out_raw[300];
    struct tally t;

    bench_init("bench-files", remove_tmpdir);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            quick = 1;
        } else if (strcmp(argv[i], "--verbose") == 0 || strcmp(argv[i], "-v") == 0) {
            verbose = 1;
        } else if (strcmp(argv[i], "--check") == 0) {
            check = 1;
        } else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            runs = atoi(argv[++i]);
            if (runs < 1 || runs > MAX_RUNS) {
                fprintf(stderr, "bench-files: --runs must be 1..%d\n", MAX_RUNS);
                return 2;
            }
        } else if (strcmp(argv[i], "--expect") == 0 && i + 1 < argc) {
            expect = atoll(argv[++i]);
        } else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
            only = argv[++i];
            if (!want_group(only, "read") && !want_group(only, "write") &&
                !want_group(only, "memcpy")) {
                fprintf(stderr, "bench-files: --only takes read, write or memcpy\n");
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
    if (check)
        return check_only(path, expect);
    if (quick)
        runs = 1;
    quick_mode = quick;
    rounds_start = quick ? 0 : -1; /* round -1 is the warm-up */

    load_file(path);
    if (packet_count == 0)
        die("%s holds no packets", path);

    {
        const char *base = getenv("TMPDIR");
        snprintf(tmpdir, sizeof tmpdir, "%s/pktcap-bench.XXXXXX", base && *base ? base : "/tmp");
        if (!mkdtemp(tmpdir)) {
            tmpdir[0] = 0;
            die("mkdtemp: %s", strerror(errno));
        }
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        signal(SIGHUP, on_signal);
        snprintf(out_pcap, sizeof out_pcap, "%s/pktcap.pcap", tmpdir);
        snprintf(out_pcapng, sizeof out_pcapng, "%s/pktcap.pcapng", tmpdir);
        snprintf(out_dump, sizeof out_dump, "%s/libpcap.pcap", tmpdir);
        snprintf(out_raw, sizeof out_raw, "%s/raw.pcap", tmpdir);
    }

    {
        struct bench_host h;
        bench_host(&h);
        printf("bench-files: %s\n", path);
        printf("  %zu packets, %zu bytes (%.1f MB), %s timestamps, %s\n", packet_count, file_size,
               (double)file_size / 1e6, file_nsec ? "ns" : "µs",
               file_swapped ? "byte-swapped" : "native byte order");
        printf("  %s; libpktcap %s; %s\n", h.date, pktcap_version(), pcap_lib_version());
        printf("  %s; load average at start: %s\n",
               quick ? "quick mode: 1 round, no warm-up (timing not meaningful)"
                     : "warm page cache; 1 warm-up round, then best and median of the rounds",
               h.load);
        if (!quick)
            printf("  rounds: %d, implementations interleaved within each round\n", runs);
        if (bench_host_busy(&h))
            printf("  WARNING: load average %.2f on %ld CPUs: other processes compete for the\n"
                   "  CPUs and the memory bus; expect noisy numbers (rerun when idle)\n",
                   h.load1, h.cpus);
        printf("  writes go to %s and land in the page cache (no fsync); each output is\n"
               "  removed outside the timed regions (just before the next write)\n",
               tmpdir);
        fflush(stdout);
    }

    /* ---- read ---- */
    for (int round = rounds_start; round < runs && want_group(only, "read"); round++) {
        for (int k = 0; k < 3; k++) {
            int which = (k + round + 1) % 3; /* rotate the order from round to round */
            double t0 = now();
            switch (which) {
            case 0:
                read_pktcap(path, &t);
                record(B_READ_PKTCAP, round, now() - t0, file_size);
                check_tally("pktcap_reader_next", &t, &expected);
                break;
            case 1:
                read_libpcap(path, &t);
                record(B_READ_LIBPCAP, round, now() - t0, file_size);
                check_tally("pcap_next_ex", &t, &expected);
                break;
            default:
                read_ceiling(path, &t);
                record(B_READ_CEILING, round, now() - t0, file_size);
                check_tally("read() ceiling", &t, &expected);
                break;
            }
        }
    }
    if (want_group(only, "read"))
        printf("check: pktcap_reader_next, pcap_next_ex and the read() walk all saw %zu packets "
               "(caplen and byte sums agree)\n", packet_count);

    /* ---- write ---- */
    for (int round = rounds_start; round < runs && want_group(only, "write"); round++) {
        int verify = round == rounds_start;
        for (int k = 0; k < 5; k++) {
            int which = (k + round + 1) % 5; /* rotate the order from round to round */
            double t0, dt;
            drop_previous_output(); /* frees page-cache pages the next write reuses */
            t0 = now();
            switch (which) {
            case 0:
                write_pktcap(PKTCAP_FORMAT_PCAP, out_pcap);
                dt = now() - t0;
                record(B_WRITE_PKTCAP_PCAP, round, dt,
                       finish_output("pktcap pcap writer", out_pcap, verify));
                break;
            case 1:
                write_libpcap(out_dump, 0);
                dt = now() - t0;
                record(B_WRITE_LIBPCAP, round, dt, finish_output("pcap_dump", out_dump, verify));
                break;
            case 2:
                write_pktcap(PKTCAP_FORMAT_PCAPNG, out_pcapng);
                dt = now() - t0;
                record(B_WRITE_PKTCAP_PCAPNG, round, dt,
                       finish_output("pktcap pcapng writer", out_pcapng, verify));
                break;
            case 3:
                write_libpcap(out_dump, CHUNK);
                dt = now() - t0;
                record(B_WRITE_LIBPCAP_1M, round, dt,
                       finish_output("pcap_dump 1 MiB", out_dump, verify));
                break;
            default:
                write_ceiling(out_raw);
                dt = now() - t0;
                record(B_WRITE_CEILING, round, dt, finish_output("write() ceiling", out_raw, 0));
                break;
            }
        }
    }
    drop_previous_output();
    if (want_group(only, "write"))
        printf("check: files written by pktcap (pcap, pcapng) and pcap_dump read back with "
               "libpcap and pktcap: %zu packets each\n", packet_count);

    /* ---- memcpy ---- */
    if (want_group(only, "memcpy")) {
        uint8_t *copy = xmalloc(file_size);
        memset(copy, 1, file_size); /* first touch outside the timed region */
        for (int round = rounds_start; round < runs; round++) {
            double t0 = now();
            memcpy(copy, file_data, file_size);
            __asm__ __volatile__("" : : "r"(copy) : "memory");
            record(B_MEMCPY, round, now() - t0, file_size);
        }
        if (memcmp(copy, file_data, file_size) != 0)
            die("memcpy mismatch");
        free(copy);
    }

    remove_tmpdir();

    print_rows();
    results = bench_open_results(results_path);
    print_comparisons(results);
    bench_close_results(results, results_path);
    bench_verdict_note(runs);

    free(pcap_recs);
    free(packets);
    free((void *)file_data);
    return 0;
}
