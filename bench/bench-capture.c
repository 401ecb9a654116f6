/* bench-capture — live capture on loopback: a libpktcap local session
 * writing a file against `tcpdump -w`, on the same bursts of UDP datagrams,
 * in the same run.
 *
 * usage: bench-capture [--packets N] [--rates R1,R2,...] [--size BYTES]
 *                      [--buffer BYTES] [--runs N] [--warmup N] [--settle MS]
 *                      [--results FILE] [--expect-all] [-v]
 *        bench-capture --send PORT N RATE SIZE     (the sender alone)
 *
 * For each rate (datagrams per second; 0 = as fast as one sender can go) and
 * each round, each capturer runs as a process of its own, started fresh:
 *
 *   pktcap   this program re-executed as `bench-capture --child PORT FILE
 *            BUFFER`: a `local:` session on lo with the raw BPF filter
 *            `udp port PORT` (tcpdump's very expression), `buffer_size`
 *            BUFFER, writing FILE (classic pcap, as tcpdump writes), default
 *            session settings otherwise; stopped by SIGINT;
 *   tcpdump  `tcpdump -i lo -n -s 0 -B BUFFER/1024 -Z root -w FILE udp port PORT`;
 *            stopped by SIGINT.
 *
 * Once the capturer says it is ready (our child prints "ready"; tcpdump
 * prints "listening on"), this process sends N datagrams of BYTES bytes to
 * 127.0.0.1:PORT (a bound socket swallows them), waits SETTLE ms (tcpdump
 * hands packets over in blocks closed at the latest after its 1 s timeout),
 * then sends SIGINT and collects the capturer with wait4(): its CPU time is
 * user + system time of the whole process, start-up and exit included.
 * Captured = packets in the file (read back with pktcap_reader; it must
 * equal what the capturer reports, or the benchmark fails); lost = sent −
 * captured; kernel drops as each reports them (pcap_stats ps_drop: tcpdump's
 * "dropped by kernel", our PKTCAP_STAT_DROPPED).
 *
 * One unrecorded warm-up run of each comes first; then rounds alternate
 * which capturer goes first; the table shows medians.
 * Environment, for experiments: PKTCAP_BENCH_SESSION_OPTIONS="key=value,..."
 * adds session settings to our capturer; PKTCAP_BENCH_RULE_FILTER=1 gives
 * it the rule filter `proto=udp local_port=PORT` instead of the BPF one.
 * Targets: at every rate no more lost packets than tcpdump, and less CPU
 * per captured packet. Exit status: 0 when everything ran and the counts
 * agreed (with --expect-all: and nothing was lost); 1 otherwise; timing
 * never changes it.
 */
#define _GNU_SOURCE 1
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <pktcap/pktcap.h>
#include <pktcap/session.h>

#include "bench-util.h"

#define MAX_RATES 8
#define MAX_RUNS 15
#define BATCH 64

static int verbose;

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* ---- the child: one local session until SIGINT ------------------------------ */

static int child_main(int argc, char **argv)
{
    pktcap_provider *p;
    pktcap_session *s;
    pktcap_storage *st;
    pktcap_filter *f;
    char filter[64];
    sigset_t set;
    int sig, rc;
    if (argc != 5)
        die("usage: bench-capture --child PORT FILE BUFFER");
    /* SIGINT is taken with sigwait; the capture thread blocks every signal. */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, NULL);
    /* The very expression tcpdump gets, so both run the same BPF program;
     * PKTCAP_BENCH_RULE_FILTER=1 uses the equivalent rule filter instead (its
     * rendering also matches VLAN-tagged frames: a longer program, run by
     * the kernel in the sender's context). */
    if (getenv("PKTCAP_BENCH_RULE_FILTER"))
        snprintf(filter, sizeof filter, "proto=udp local_port=%s", argv[2]);
    else
        snprintf(filter, sizeof filter, "bpf:udp port %s", argv[2]);
#define CHECK(call)                                                                      \
    do {                                                                                 \
        if ((rc = (call)) != 0)                                                          \
            die("%s: %s", #call, pktcap_error_message(pktcap_error_last()));             \
    } while (0)
    CHECK(pktcap_provider_open(&p, "local:"));
    CHECK(pktcap_session_new(&s, p, "bench"));
    CHECK(pktcap_session_set_target(s, "lo"));
    CHECK(pktcap_filter_parse(&f, filter));
    CHECK(pktcap_session_set_filter(s, f));
    CHECK(pktcap_session_set(s, "buffer_size", argv[4]));
    if (getenv("PKTCAP_BENCH_SESSION_OPTIONS")) {   /* "key=value,key=value": experiments */
        char *opts = strdup(getenv("PKTCAP_BENCH_SESSION_OPTIONS")), *tok, *save = NULL;
        for (tok = strtok_r(opts, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            char *eq = strchr(tok, '=');
            if (!eq)
                die("PKTCAP_BENCH_SESSION_OPTIONS: no '=' in \"%s\"", tok);
            *eq = '\0';
            CHECK(pktcap_session_set(s, tok, eq + 1));
        }
        free(opts);
    }
    CHECK(pktcap_storage_open(&st, argv[3]));
    CHECK(pktcap_session_set_storage(s, st));
    CHECK(pktcap_session_start(s));
    printf("ready\n");
    fflush(stdout);
    sigwait(&set, &sig);
    CHECK(pktcap_session_stop(s));
    if (pktcap_session_state(s) != PKTCAP_STATE_STOPPED)
        die("capture ended %s: %s", pktcap_state_name(pktcap_session_state(s)),
            pktcap_session_error_text(s));
    printf("captured %" PRIu64 " dropped %" PRIu64 " ifdropped %" PRIu64 "\n",
           pktcap_session_stat(s, PKTCAP_STAT_PACKETS),
           pktcap_session_stat(s, PKTCAP_STAT_DROPPED),
           pktcap_session_stat(s, PKTCAP_STAT_IF_DROPPED));
    fflush(stdout);
    pktcap_session_free(s);
    pktcap_storage_free(st);
    pktcap_filter_free(f);
    pktcap_provider_close(p);
    return 0;
#undef CHECK
}

/* ---- sending -------------------------------------------------------------------- */

/* Sends n datagrams to 127.0.0.1:port, `rate` per second (0 = unpaced) in
 * batches of sendmmsg: paced sending is one batch every millisecond, so the
 * sender sleeps between batches instead of spinning. Returns the seconds. */
static double send_burst(uint16_t port, long n, long rate, size_t size)
{
    static char payload[65536];
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    struct sockaddr_in a;
    struct timespec next;
    long sent = 0, per_tick;
    double t0;
    int fd = socket(AF_INET, SOCK_DGRAM, 0), i, sndbuf = 4 << 20;
    if (fd < 0)
        die("socket: %s", strerror(errno));
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    memset(payload, 'b', sizeof payload);
    memset(msgs, 0, sizeof msgs);
    for (i = 0; i < BATCH; i++) {
        iov[i].iov_base = payload;
        iov[i].iov_len = size;
        msgs[i].msg_hdr.msg_name = &a;
        msgs[i].msg_hdr.msg_namelen = sizeof a;
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    per_tick = rate > 0 ? (rate + 999) / 1000 : BATCH;
    clock_gettime(CLOCK_MONOTONIC, &next);
    t0 = now();
    while (sent < n) {
        long want = n - sent < per_tick ? n - sent : per_tick;
        while (want > 0) {
            int k = sendmmsg(fd, msgs, (unsigned)(want < BATCH ? want : BATCH), 0);
            if (k < 0) {
                if (errno == EINTR || errno == ENOBUFS || errno == EAGAIN)
                    continue;
                die("sendmmsg: %s", strerror(errno));
            }
            want -= k;
            sent += k;
        }
        if (rate > 0) {
            /* per_tick datagrams every 1 ms, on an absolute schedule */
            next.tv_nsec += (long)(1e9 * (double)per_tick / (double)rate);
            while (next.tv_nsec >= 1000000000L) {
                next.tv_nsec -= 1000000000L;
                next.tv_sec++;
            }
            while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
                ;
        }
    }
    close(fd);
    return now() - t0;
}

/* ---- running one capturer ----------------------------------------------------- */

typedef struct result {
    long sent;
    double send_s;
    uint64_t reported;      /* what the capturer says it captured */
    uint64_t captured;      /* packets in its file */
    uint64_t kernel_drops;
    double cpu_s;
} result;

static uint64_t count_file(const char *path)
{
    pktcap_reader *r;
    const pktcap_packet *p;
    uint64_t n = 0;
    int rc;
    if (pktcap_reader_open(&r, path) != 0)
        die("reading %s: %s", path, pktcap_error_message(pktcap_error_last()));
    while ((rc = pktcap_reader_next(&p, r)) == 0)
        n++;
    if (rc != PKTCAP_E_END)
        die("reading %s: %s", path, pktcap_error_message(pktcap_error_last()));
    pktcap_reader_close(r);
    return n;
}

/* Reads the child's output until `marker` appears (or EOF); appends to buf. */
static int read_until(int fd, char *buf, size_t size, const char *marker)
{
    size_t used = strlen(buf);
    while (!strstr(buf, marker)) {
        ssize_t n;
        if (used + 1 >= size)
            return -1;
        n = read(fd, buf + used, size - used - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        used += (size_t)n;
        buf[used] = '\0';
    }
    return 0;
}

static uint64_t number_before(const char *text, const char *label)
{
    const char *at = strstr(text, label);
    const char *p;
    if (!at)
        die("no \"%s\" in:\n%s", label, text);
    p = at;
    while (p > text && p[-1] == ' ')
        p--;
    while (p > text && p[-1] >= '0' && p[-1] <= '9')
        p--;
    return strtoull(p, NULL, 10);
}

static void run_one(result *res, int tcpdump, uint16_t port, long n, long rate, size_t size,
                    uint64_t buffer, long settle_ms, const char *file, const char *self)
{
    char portbuf[16], bufbuf[32], kib[32], filter[64], out[8192] = "";
    int pipefd[2], status, sink, rcvbuf = 16 << 20;
    struct sockaddr_in a;
    struct rusage ru;
    pid_t pid;

    unlink(file);
    snprintf(portbuf, sizeof portbuf, "%u", port);
    snprintf(bufbuf, sizeof bufbuf, "%" PRIu64, buffer);
    snprintf(kib, sizeof kib, "%" PRIu64, buffer / 1024);
    snprintf(filter, sizeof filter, "udp port %u", port);

    /* A socket that swallows the datagrams: no ICMP port unreachable. */
    sink = socket(AF_INET, SOCK_DGRAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(sink, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    if (sink < 0 || bind(sink, (struct sockaddr *)&a, sizeof a) != 0)
        die("binding 127.0.0.1:%u: %s", port, strerror(errno));

    if (pipe(pipefd) != 0)
        die("pipe: %s", strerror(errno));
    fflush(NULL);
    pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        close(pipefd[0]);
        close(sink);
        if (tcpdump) {
            dup2(pipefd[1], 2);
            execlp("tcpdump", "tcpdump", "-i", "lo", "-n", "-s", "0", "-B", kib, "-Z", "root",
                   "-w", file, filter, (char *)NULL);
        } else {
            dup2(pipefd[1], 1);
            execl(self, self, "--child", portbuf, file, bufbuf, (char *)NULL);
        }
        fprintf(stderr, "bench-capture: exec: %s\n", strerror(errno));
        _exit(127);
    }
    close(pipefd[1]);
    if (read_until(pipefd[0], out, sizeof out, tcpdump ? "listening on" : "ready\n") != 0) {
        waitpid(pid, NULL, 0);
        die("%s did not start:\n%s", tcpdump ? "tcpdump" : "the pktcap child", out);
    }

    memset(res, 0, sizeof *res);
    res->sent = n;
    res->send_s = send_burst(port, n, rate, size);
    sleep_ms(settle_ms);
    kill(pid, SIGINT);
    /* tcpdump prints its counts at exit; our child prints one line. */
    read_until(pipefd[0], out, sizeof out, tcpdump ? "dropped by kernel" : "ifdropped");
    if (wait4(pid, &status, 0, &ru) != pid)
        die("wait4: %s", strerror(errno));
    close(pipefd[0]);
    close(sink);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        die("%s failed (status 0x%x):\n%s", tcpdump ? "tcpdump" : "the pktcap child", status,
            out);
    res->cpu_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
                 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
    if (tcpdump) {
        res->reported = number_before(out, "packets captured");
        res->kernel_drops = number_before(out, "packets dropped by kernel");
    } else {
        res->reported = number_before(out, " dropped");
        {
            const char *d = strstr(out, "dropped ");
            res->kernel_drops = d ? strtoull(d + 8, NULL, 10) : 0;
        }
    }
    res->captured = count_file(file);
    if (res->captured != res->reported)
        die("%s reports %" PRIu64 " packets captured, its file holds %" PRIu64,
            tcpdump ? "tcpdump" : "pktcap", res->reported, res->captured);
    if (verbose)
        fprintf(stderr, "  %-7s rate %ld: sent %ld in %.3f s, captured %" PRIu64
                        ", kernel drops %" PRIu64 ", cpu %.1f ms\n",
                tcpdump ? "tcpdump" : "pktcap", rate, n, res->send_s, res->captured,
                res->kernel_drops, res->cpu_s * 1e3);
    /* The file stays until just before this capturer's next run: the page
     * cache pages it frees then are reused at once (see README, "first touch"). */
}

/* ---- the table ------------------------------------------------------------------ */

typedef struct summary {
    double captured, lost, kernel_drops, cpu_ms, us_per_packet, send_rate;
} summary;

static void summarize(summary *out, const result *r, int runs)
{
    double v[MAX_RUNS];
    int i;
#define MED(expr, field)                                                                 \
    do {                                                                                 \
        for (i = 0; i < runs; i++)                                                       \
            v[i] = (expr);                                                               \
        out->field = bench_median(v, runs);                                              \
    } while (0)
    MED((double)r[i].captured, captured);
    MED((double)r[i].sent - (double)r[i].captured, lost);
    MED((double)r[i].kernel_drops, kernel_drops);
    MED(r[i].cpu_s * 1e3, cpu_ms);
    MED(r[i].captured ? r[i].cpu_s * 1e6 / (double)r[i].captured : 0, us_per_packet);
    MED((double)r[i].sent / r[i].send_s, send_rate);
#undef MED
}

static void rate_name(char *buf, size_t size, long rate)
{
    if (rate == 0)
        snprintf(buf, size, "unpaced");
    else if (rate % 1000 == 0)
        snprintf(buf, size, "%ldk", rate / 1000);
    else
        snprintf(buf, size, "%ld", rate);
}

static uint16_t random_port(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint16_t)(20000 + (unsigned)(ts.tv_nsec / 1000 + getpid()) % 10000);
}

int main(int argc, char **argv)
{
    long n = 100000, settle_ms = 1500, rates[MAX_RATES] = {0, 100000, 20000};
    int nrates = 3, runs = 5, warmup = 1, expect_all = 0, i, k, failures = 0;
    uint64_t buffer = 4u << 20;
    size_t size = 64;
    const char *results_path = NULL;
    char self[4096], dir[4096], file[4200];
    const char *tmp = getenv("TMPDIR");
    static result res[MAX_RATES][2][MAX_RUNS];
    summary sum[MAX_RATES][2];
    FILE *results = NULL;
    ssize_t len;

    bench_init("bench-capture", NULL);
    if (argc > 1 && strcmp(argv[1], "--child") == 0)
        return child_main(argc, argv);
    if (argc == 6 && strcmp(argv[1], "--send") == 0) {   /* --send PORT N RATE SIZE */
        double t = send_burst((uint16_t)atoi(argv[2]), atol(argv[3]), atol(argv[4]),
                              (size_t)atol(argv[5]));
        printf("sent %ld in %.3f s\n", atol(argv[3]), t);
        return 0;
    }
    for (i = 1; i < argc; i++) {
        const char *arg = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(arg, "-v") == 0) {
            verbose = 1;
            continue;
        }
        if (strcmp(arg, "--expect-all") == 0) {
            expect_all = 1;
            continue;
        }
        if (!val)
            die("%s needs a value", arg);
        i++;
        if (strcmp(arg, "--packets") == 0)
            n = atol(val);
        else if (strcmp(arg, "--size") == 0)
            size = (size_t)atol(val);
        else if (strcmp(arg, "--buffer") == 0)
            buffer = strtoull(val, NULL, 10);
        else if (strcmp(arg, "--runs") == 0)
            runs = atoi(val);
        else if (strcmp(arg, "--warmup") == 0)
            warmup = atoi(val);
        else if (strcmp(arg, "--settle") == 0)
            settle_ms = atol(val);
        else if (strcmp(arg, "--results") == 0)
            results_path = val;
        else if (strcmp(arg, "--rates") == 0) {
            char *copy = strdup(val), *tok, *save = NULL;
            nrates = 0;
            for (tok = strtok_r(copy, ",", &save); tok && nrates < MAX_RATES;
                 tok = strtok_r(NULL, ",", &save))
                rates[nrates++] = atol(tok);
            free(copy);
        } else
            die("unknown option %s", arg);
    }
    if (n <= 0 || runs <= 0 || runs > MAX_RUNS || nrates == 0 || size < 1 || size > 1400 ||
        buffer < 65536)
        die("bad options");
    if (geteuid() != 0)
        die("live capture needs root (or CAP_NET_RAW)");
    len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0)
        die("readlink /proc/self/exe: %s", strerror(errno));
    self[len] = '\0';
    snprintf(dir, sizeof dir, "%s/pktcap-bench-capture.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        die("mkdtemp: %s", strerror(errno));
    /* Warm-up: one unrecorded run of each capturer at the first rate (the
     * first files written on this VM touch fresh memory: see README). */
    for (i = 0; i < warmup; i++) {
        result scratch;
        int tool;
        for (tool = 0; tool < 2; tool++) {
            snprintf(file, sizeof file, "%s/%s.pcap", dir, tool ? "tcpdump" : "pktcap");
            run_one(&scratch, tool, random_port(), n, rates[0], size, buffer, settle_ms, file,
                    self);
        }
    }

    for (k = 0; k < nrates; k++)
        for (i = 0; i < runs; i++) {
            int order;
            for (order = 0; order < 2; order++) {
                int tool = (order + i) % 2;   /* 0 = pktcap, 1 = tcpdump; alternate first */
                snprintf(file, sizeof file, "%s/%s.pcap", dir, tool ? "tcpdump" : "pktcap");
                run_one(&res[k][tool][i], tool, random_port(), n, rates[k], size, buffer,
                        settle_ms, file, self);
            }
        }
    snprintf(file, sizeof file, "%s/pktcap.pcap", dir);
    unlink(file);
    snprintf(file, sizeof file, "%s/tcpdump.pcap", dir);
    unlink(file);
    rmdir(dir);

    printf("\nlive capture on lo: %ld UDP datagrams of %zu bytes per burst, buffer %" PRIu64
           " bytes, filter udp port P, medians of %d runs\n",
           n, size, buffer, runs);
    printf("%-8s %-8s %10s %9s %9s %8s %9s %9s %10s\n", "rate", "capturer", "sent/s",
           "captured", "lost", "k-drops", "cpu ms", "us/pkt", "lost %");
    for (k = 0; k < nrates; k++) {
        char name[32];
        rate_name(name, sizeof name, rates[k]);
        for (i = 0; i < 2; i++) {
            summary *s = &sum[k][i];
            summarize(s, res[k][i], runs);
            printf("%-8s %-8s %10.0f %9.0f %9.0f %8.0f %9.1f %9.3f %9.2f%%\n", name,
                   i ? "tcpdump" : "pktcap", s->send_rate, s->captured, s->lost,
                   s->kernel_drops, s->cpu_ms, s->us_per_packet, 100.0 * s->lost / (double)n);
            if (expect_all) {
                int r;
                for (r = 0; r < runs; r++)
                    if (res[k][i][r].captured != (uint64_t)n) {
                        fprintf(stderr, "bench-capture: %s at %s captured %" PRIu64 " of %ld\n",
                                i ? "tcpdump" : "pktcap", name, res[k][i][r].captured, n);
                        failures++;
                    }
            }
        }
    }

    results = bench_open_results(results_path);
    printf("\n");
    for (k = 0; k < nrates; k++) {
        char name[32];
        const summary *ours = &sum[k][0], *theirs = &sum[k][1];
        double ratio = ours->us_per_packet > 0 ? theirs->us_per_packet / ours->us_per_packet : 0;
        double lost_ratio = (theirs->lost + 1) / (ours->lost + 1);
        rate_name(name, sizeof name, rates[k]);
        printf("capture-cpu-%s: tcpdump/pktcap CPU per captured packet %.2fx  target >=1.00  "
               "%s\n", name, ratio, ratio >= 1.0 ? "MET" : "MISSED");
        printf("capture-lost-%s: pktcap lost %.0f, tcpdump lost %.0f (medians): (tcpdump+1)/"
               "(pktcap+1) %.2fx  target >=1.00  %s\n", name, ours->lost, theirs->lost,
               lost_ratio, lost_ratio >= 1.0 ? "MET" : "MISSED");
        if (results) {
            fprintf(results, "capture-cpu-%s\tlive capture on lo at %s, %ld datagrams: tcpdump -w "
                             "CPU per captured packet / pktcap local session's (medians of %d)"
                             "\t%.3f\t>=1.00\t%s\n",
                    name, name, n, runs, ratio, ratio >= 1.0 ? "MET" : "MISSED");
            fprintf(results, "capture-lost-%s\tlive capture on lo at %s, %ld datagrams: "
                             "(packets tcpdump lost + 1) / (packets pktcap lost + 1); pktcap "
                             "%.0f, tcpdump %.0f (medians of %d)\t%.3f\t>=1.00\t%s\n",
                    name, name, n, ours->lost, theirs->lost, runs, lost_ratio,
                    lost_ratio >= 1.0 ? "MET" : "MISSED");
        }
    }
    if (results)
        fclose(results);
    return failures ? 1 : 0;
}
