/* pktcap capture: run one capture session on any provider — configure it,
 * start it, follow it until it ends (with a live status line on a terminal
 * and, with --summary, a line per packet: live for providers that see
 * packets (local:), at the end for those that return summaries with the
 * finished session (sdwan:)), then report its statistics and optionally
 * fetch the result. Ctrl-C and SIGTERM stop the capture cleanly:
 * the handlers only set a flag, which the main loop (waiting on the session
 * in slices of STATUS_INTERVAL_MS) turns into pktcap_session_stop(). */
#include "cli.h"
#include "output.h"

#include <pktcap/pktcap.h>
#include <pktcap/session.h>
#include <pktcap/summary.h>

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STATUS_INTERVAL_MS CLI_STATUS_INTERVAL_MS   /* the status line's redraws */
#define LINE_MAX_BYTES 2048      /* more than any summary line (doc/summary.md: 1 023) */

static volatile sig_atomic_t stop_signal;   /* the signal that asked to stop, 0 if none */

static void on_stop_signal(int sig)
{
    stop_signal = sig;
}

/* What the callbacks (on the library's capture thread) share with the main
 * thread. `lock` serialises every write to stdout and stderr while the
 * capture runs. */
struct capture_run {
    pthread_mutex_t lock;
    int format;            /* summary format, or -1 without --summary */
    int stdout_tty;
    int status_tty;        /* stderr is a terminal: draw the live status line */
    int status_shown;      /* the status line is on screen now */
    int output_errno;      /* the first error writing stdout, 0 if none */
};

/* Erases the status line; lock held. */
static void clear_status(struct capture_run *run)
{
    if (run->status_shown) {
        fputs("\r\033[K", stderr);
        run->status_shown = 0;
    }
}

static void draw_status(struct capture_run *run, const pktcap_session *s, const char *target,
                        int64_t waited_us)
{
    char line[256];
    cli_status_line(line, sizeof line, s, target, waited_us);
    pthread_mutex_lock(&run->lock);
    fprintf(stderr, "\r%s\033[K", line);
    fflush(stderr);
    run->status_shown = 1;
    pthread_mutex_unlock(&run->lock);
}

/* The per-packet callback: one summary line on stdout. */
static void on_packet(pktcap_session *s, const pktcap_packet *packet,
                      const pktcap_summary *summary, void *userdata)
{
    struct capture_run *run = userdata;
    char line[LINE_MAX_BYTES];
    size_t n = 0;
    (void)s;
    (void)packet;
    if (pktcap_summary_format(&n, line, sizeof line - 1, run->format, summary) < 0)
        return;
    line[n++] = '\n';
    pthread_mutex_lock(&run->lock);
    if (!run->output_errno) {
        if (run->stdout_tty)
            clear_status(run);
        errno = 0;
        if (fwrite(line, 1, n, stdout) != n || (run->stdout_tty && fflush(stdout) != 0))
            run->output_errno = errno ? errno : EIO;
    }
    pthread_mutex_unlock(&run->lock);
}

/* --summary for a provider that returns the summaries with the finished
 * session (PKTCAP_CAP_SUMMARIES, no live packets): all of them, header
 * first. Returns a CLI_* status; a write error is left in run->output_errno. */
static int print_summaries(const pktcap_session *s, struct capture_run *run)
{
    const char *header = pktcap_summary_header(run->format);
    size_t count = pktcap_session_summary_count(s);
    char line[LINE_MAX_BYTES];
    int rc;
    cli_note("pktcap_session_summary(\"%s\", 0..%zu)", pktcap_session_name(s), count);
    if (header && *header && printf("%s\n", header) < 0)
        run->output_errno = errno ? errno : EIO;
    for (size_t i = 0; i < count && !run->output_errno; i++) {
        pktcap_summary sum = { .struct_size = sizeof sum };
        size_t n = 0;
        if ((rc = pktcap_session_summary(&sum, s, i)) < 0)
            return cli_library_error("--summary", rc);
        if (pktcap_summary_format(&n, line, sizeof line - 1, run->format, &sum) < 0)
            continue;
        line[n++] = '\n';
        errno = 0;
        if (fwrite(line, 1, n, stdout) != n)
            run->output_errno = errno ? errno : EIO;
    }
    if (!run->output_errno && fflush(stdout) != 0)
        run->output_errno = errno ? errno : EIO;
    return CLI_OK;
}

/* The state callback: logged with --verbose. */
static void on_state(pktcap_session *s, int state, void *userdata)
{
    struct capture_run *run = userdata;
    (void)s;
    if (!cli_verbose)
        return;
    pthread_mutex_lock(&run->lock);
    clear_status(run);
    cli_note("session state -> %s", pktcap_state_name(state));
    pthread_mutex_unlock(&run->lock);
}

/* A storage target that keeps nothing: a local capture nobody asked to keep. */
static int discard_bytes(const void *data, size_t size, void *userdata)
{
    (void)data;
    (void)size;
    (void)userdata;
    return 0;
}

static int parse_format(const char *text, int *format)
{
    if (strcmp(text, "text") == 0)
        *format = PKTCAP_SUMMARY_TEXT;
    else if (strcmp(text, "json") == 0)
        *format = PKTCAP_SUMMARY_JSON;
    else if (strcmp(text, "csv") == 0)
        *format = PKTCAP_SUMMARY_CSV;
    else
        return -1;
    return 0;
}

static void install_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;   /* no SA_RESTART: nothing of ours blocks in a syscall */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    /* A closed stdout (`| head`) is an error to report, not a reason to die
     * with the capture file unfinished. */
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
}

/* The final report, on stderr. A statistic the provider does not report
 * (Azure counts no packets) reads "unknown", never 0. */
static void report(const pktcap_session *s, const char *target, const pktcap_storage *out)
{
    int state = pktcap_session_state(s);
    const char *reason = pktcap_session_stop_reason(s);
    char packets[32], bytes[32], wire[32], dropped[32], if_dropped[32], elapsed[32] = "unknown";
    fprintf(stderr, "pktcap: capture \"%s\" on %s ended: %s", pktcap_session_name(s), target,
            pktcap_state_name(state));
    if (state == PKTCAP_STATE_FAILED)
        fprintf(stderr, ": %s", pktcap_session_error_text(s));
    else if (reason && *reason)
        fprintf(stderr, " (%s)", reason);
    cli_stat_text(packets, sizeof packets, s, PKTCAP_STAT_PACKETS);
    cli_stat_text(bytes, sizeof bytes, s, PKTCAP_STAT_BYTES);
    cli_stat_text(wire, sizeof wire, s, PKTCAP_STAT_WIRE_BYTES);
    cli_stat_text(dropped, sizeof dropped, s, PKTCAP_STAT_DROPPED);
    cli_stat_text(if_dropped, sizeof if_dropped, s, PKTCAP_STAT_IF_DROPPED);
    if (pktcap_session_stat_known(s, PKTCAP_STAT_ELAPSED_MS) == 1) {
        uint64_t ms = pktcap_session_stat(s, PKTCAP_STAT_ELAPSED_MS);
        snprintf(elapsed, sizeof elapsed, "%llu.%03llu s", (unsigned long long)(ms / 1000),
                 (unsigned long long)(ms % 1000));
    }
    fprintf(stderr, "\n  packets      %s\n", packets);
    if (strcmp(bytes, wire) == 0)
        fprintf(stderr, "  bytes        %s\n", bytes);
    else
        fprintf(stderr, "  bytes        %s (%s on the wire)\n", bytes, wire);
    fprintf(stderr, "  dropped      %s\n"
            "  if-dropped   %s\n"
            "  elapsed      %s\n", dropped, if_dropped, elapsed);
    if (out)
        for (size_t i = 0; i < pktcap_storage_file_count(out); i++)
            fprintf(stderr, "  file         %s\n", pktcap_storage_file_path(out, i));
}

enum {
    OPT_PROVIDER = 256, OPT_NAME, OPT_TARGET, OPT_STORAGE, OPT_WAIT, OPT_FETCH, OPT_SUMMARY,
    OPT_FORMAT, OPT_VERBOSE, OPT_JSON,
};

struct capture_args {
    const char *provider, *name, *target, *write, *storage, *fetch;
    struct cli_settings set;   /* filter, limits, --option (shared with `fleet`) */
    int wait, summary, format, json;
};

static int parse_args(struct capture_args *a, int argc, char **argv)
{
    static const struct option options[] = {
        { "provider", required_argument, NULL, OPT_PROVIDER },
        { "name", required_argument, NULL, OPT_NAME },
        { "target", required_argument, NULL, OPT_TARGET },
        CLI_SETTINGS_OPTIONS,
        { "write", required_argument, NULL, 'w' },
        { "storage", required_argument, NULL, OPT_STORAGE },
        { "wait", no_argument, NULL, OPT_WAIT },
        { "fetch", required_argument, NULL, OPT_FETCH },
        { "summary", no_argument, NULL, OPT_SUMMARY },
        { "format", required_argument, NULL, OPT_FORMAT },
        { "verbose", no_argument, NULL, OPT_VERBOSE },
        { "json", no_argument, NULL, OPT_JSON },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *format = NULL;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":w:hv", options, NULL)) != -1) {
        int taken = cli_settings_option("capture", &a->set, c, optarg);
        if (taken == 1)
            continue;
        if (taken)
            return taken;
        switch (c) {
        case OPT_PROVIDER: a->provider = optarg; break;
        case OPT_NAME: a->name = optarg; break;
        case OPT_TARGET: a->target = optarg; break;
        case 'w': a->write = optarg; break;
        case OPT_STORAGE: a->storage = optarg; break;
        case OPT_FETCH: a->fetch = optarg; break;
        case OPT_WAIT: a->wait = 1; break;
        case OPT_SUMMARY: a->summary = 1; break;
        case OPT_JSON: a->json = 1; break;
        case OPT_FORMAT: format = optarg; break;
        case 'v':
        case OPT_VERBOSE: cli_verbose++; break;
        case 'h':
            fputs(cli_cmd_capture.usage, stdout);
            return -1;
        case ':':
            return cli_usage_error("capture", "option '%s' needs a value", argv[optind - 1]);
        default:
            return cli_usage_error("capture", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("capture", "unexpected argument '%s'", argv[optind]);
    if (!a->target)
        return cli_usage_error("capture", "--target is required (for local: an interface such "
                               "as lo, a list eth0,eth1, or any; 'pktcap interfaces' lists them)");
    if (a->set.rules && a->set.bpf)
        return cli_usage_error("capture", "--filter and --bpf exclude each other");
    if (a->write && a->storage)
        return cli_usage_error("capture", "-w and --storage exclude each other");
    if (format && !a->summary)
        return cli_usage_error("capture", "--format applies to --summary only");
    if (format && parse_format(format, &a->format) < 0)
        return cli_usage_error("capture", "unknown format '%s' (text, json, csv)", format);
    if (a->summary && ((a->write && strcmp(a->write, "-") == 0) ||
                       (a->fetch && strcmp(a->fetch, "-") == 0)))
        return cli_usage_error("capture", "--summary and a capture file on standard output "
                               "('-') both write to standard output");
    if (a->json && (a->summary || (a->write && strcmp(a->write, "-") == 0) ||
                    (a->fetch && strcmp(a->fetch, "-") == 0)))
        return cli_usage_error("capture", "--json and %s both write to standard output",
                               a->summary ? "--summary" : "a capture file on standard output "
                               "('-')");
    return CLI_OK;
}

/* Applies the settings to a new session; returns a CLI_* status. */
static int configure(pktcap_session *s, const struct capture_args *a, const pktcap_filter *f,
                     pktcap_storage *out)
{
    char what[160];
    int rc = cli_configure_session(s, a->target, f, &a->set, what, sizeof what);
    if (rc < 0)
        return cli_library_error(what, rc);
    if (out) {
        CLI_CALL(rc, pktcap_session_set_storage(s, out), "pktcap_session_set_storage(\"%s\")",
                 pktcap_session_name(s));
        if (rc < 0)
            return cli_library_error(a->write ? "-w" : "--storage", rc);
    }
    return CLI_OK;
}

static int output_failed(struct capture_run *run)
{
    pthread_mutex_lock(&run->lock);
    int failed = run->output_errno != 0;
    pthread_mutex_unlock(&run->lock);
    return failed;
}

/* Follows a started session to its end; returns a CLI_* status. */
static int follow(pktcap_session *s, struct capture_run *run, const char *target)
{
    const char *name = pktcap_session_name(s);
    int announced = 0, stopping = 0, rc;
    int64_t t0 = cli_now_us();
    cli_note("pktcap_session_wait(\"%s\", %d) repeated until the session ends", name,
             STATUS_INTERVAL_MS);
    for (;;) {
        if (!announced && pktcap_session_state(s) == PKTCAP_STATE_RUNNING) {
            announced = 1;
            pthread_mutex_lock(&run->lock);
            fprintf(stderr, "pktcap: capturing on %s (session \"%s\")%s\n", target, name,
                    run->status_tty ? "; Ctrl-C stops" : "");
            pthread_mutex_unlock(&run->lock);
        }
        if (!stopping && (stop_signal || output_failed(run))) {
            stopping = 1;
            pthread_mutex_lock(&run->lock);
            clear_status(run);
            if (stop_signal)
                cli_note("signal %d: stopping the capture", (int)stop_signal);
            pthread_mutex_unlock(&run->lock);
            CLI_CALL(rc, pktcap_session_stop(s), "pktcap_session_stop(\"%s\")", name);
            /* PKTCAP_E_STATE: it ended on its own meanwhile. */
            if (rc < 0 && rc != PKTCAP_E_STATE)
                return cli_library_error("stopping the capture", rc);
        }
        rc = pktcap_session_wait(s, STATUS_INTERVAL_MS);
        if (rc == 0)
            break;
        if (rc != PKTCAP_E_TIMEOUT) {
            cli_trace(rc, t0, "pktcap_session_wait(\"%s\")", name);
            return cli_library_error("waiting for the capture", rc);
        }
        pthread_mutex_lock(&run->lock);
        if (!run->output_errno && fflush(stdout) != 0)
            run->output_errno = errno ? errno : EIO;
        pthread_mutex_unlock(&run->lock);
        /* Before RUNNING too: a remote capture may stay PENDING for a while. */
        if (run->status_tty && !stopping)
            draw_status(run, s, target, cli_now_us() - t0);
    }
    cli_trace(0, t0, "pktcap_session_wait(\"%s\", ...) until %s", name,
              pktcap_state_name(pktcap_session_state(s)));
    pthread_mutex_lock(&run->lock);
    clear_status(run);
    if (!run->output_errno && fflush(stdout) != 0)
        run->output_errno = errno ? errno : EIO;
    pthread_mutex_unlock(&run->lock);
    return CLI_OK;
}

static int run_capture(int argc, char **argv)
{
    struct capture_args a;
    memset(&a, 0, sizeof a);
    a.provider = CLI_DEFAULT_PROVIDER;
    a.format = PKTCAP_SUMMARY_TEXT;
    a.set.options = calloc((size_t)argc + 1, sizeof *a.set.options);
    if (!a.set.options) {
        fputs("pktcap capture: out of memory\n", stderr);
        return CLI_FAILED;
    }
    int status = parse_args(&a, argc, argv);
    if (status != CLI_OK) {
        free(a.set.options);
        return status < 0 ? CLI_OK : status;   /* -1: --help was printed */
    }

    struct capture_run run;
    memset(&run, 0, sizeof run);
    pthread_mutex_init(&run.lock, NULL);
    run.format = a.summary ? a.format : -1;
    run.stdout_tty = isatty(STDOUT_FILENO);
    run.status_tty = isatty(STDERR_FILENO);

    pktcap_provider *p = NULL;
    pktcap_session *s = NULL;
    pktcap_filter *f = NULL;
    pktcap_storage *out = NULL;
    int rc;
    const char *output = a.write ? a.write : a.storage;
    if ((status = cli_open_provider(&p, a.provider)) != CLI_OK)
        goto done;
    uint32_t caps = pktcap_provider_caps(p);
    /* A session that cannot be opened again from elsewhere lives only in
     * this process (local:): it is always followed to its end. */
    int wait = a.wait || a.fetch || a.summary || !(caps & PKTCAP_CAP_OPEN);
    /* --summary: live lines from the packet callback, or (sdwan:) the
     * provider's summaries once the session has ended. */
    int summaries_after = a.summary && !(caps & PKTCAP_CAP_PACKET_CALLBACK) &&
                          (caps & PKTCAP_CAP_SUMMARIES);
    if ((a.set.rules || a.set.bpf) &&
        (status = cli_make_filter(&f, a.set.rules, a.set.bpf)) != CLI_OK)
        goto done;
    if (output && (status = cli_open_storage(&out, output)) != CLI_OK)
        goto done;
    if (!output && !a.fetch && !(caps & PKTCAP_CAP_OPEN) && (caps & PKTCAP_CAP_PACKET_CALLBACK)) {
        /* A local capture nobody asked to keep, and nobody can fetch later. */
        CLI_CALL(rc, pktcap_storage_new_callback(&out, discard_bytes, NULL),
                 "pktcap_storage_new_callback(discard)");
        if (rc < 0) {
            status = cli_library_error("storage", rc);
            goto done;
        }
    }
    if (a.name)
        CLI_CALL(rc, pktcap_session_new(&s, p, a.name), "pktcap_session_new(\"%s\")", a.name);
    else
        CLI_CALL(rc, pktcap_session_new(&s, p, NULL), "pktcap_session_new(NULL)");
    if (rc < 0) {
        status = cli_library_error("--name", rc);
        goto done;
    }
    if ((status = configure(s, &a, f, out)) != CLI_OK)
        goto done;
    const char *name = pktcap_session_name(s);
    CLI_CALL(rc, pktcap_session_set_state_callback(s, on_state, &run),
             "pktcap_session_set_state_callback(\"%s\")", name);
    if (rc < 0) {
        status = cli_library_error("capture", rc);
        goto done;
    }
    if (a.summary && !summaries_after) {
        CLI_CALL(rc, pktcap_session_set_packet_callback(s, on_packet, &run),
                 "pktcap_session_set_packet_callback(\"%s\")", name);
        if (rc < 0) {
            status = cli_library_error("--summary", rc);
            goto done;
        }
        const char *header = pktcap_summary_header(a.format);
        if (header && *header)
            printf("%s\n", header);
    }
    if (wait)
        install_handlers();

    CLI_CALL(rc, pktcap_session_start(s), "pktcap_session_start(\"%s\")", name);
    if (rc < 0) {
        char what[300];
        snprintf(what, sizeof what, "capture on %s", a.target);
        status = cli_library_error(what, rc);
        goto done;
    }
    if (!wait) {
        /* The provider keeps it running: say how to find it again. */
        const char *id = pktcap_session_id(s);
        if (a.json) {
            fputs("{\"session\": ", stdout);
            if ((status = cli_print_session_json(stdout, s)) != CLI_OK)
                goto done;
            fputs("}\n", stdout);
        } else {
            printf("%s\n", *id ? id : name);
        }
        fprintf(stderr, "pktcap: session \"%s\" is %s; 'pktcap status NAME' follows it, "
                "'pktcap fetch NAME -w FILE' brings the result\n", name,
                pktcap_state_name(pktcap_session_state(s)));
        status = CLI_OK;
        goto done;
    }
    if ((status = follow(s, &run, a.target)) != CLI_OK)
        goto done;
    int state = pktcap_session_state(s);
    if (summaries_after && state != PKTCAP_STATE_FAILED &&
        (status = print_summaries(s, &run)) != CLI_OK)
        goto done;
    report(s, a.target, output ? out : NULL);
    pktcap_storage *fetched = NULL;
    if (state == PKTCAP_STATE_FAILED) {
        status = CLI_FAILED;
    } else if (a.fetch) {
        status = cli_fetch(s, a.fetch, "--fetch", a.json ? &fetched : NULL);
    }
    if (a.json && !run.output_errno) {
        /* The outcome for programs: the session as status --json shows it,
         * the files written (-w, --storage) and fetched (--fetch). */
        fputs("{\"session\": ", stdout);
        int json_status = cli_print_session_json(stdout, s);
        if (json_status == CLI_OK) {
            fputs(", \"files\": ", stdout);
            if (output)
                cli_print_files_json(stdout, out, output);
            else
                fputs("[]", stdout);
            fputs(", \"fetched\": ", stdout);
            if (fetched)
                cli_print_files_json(stdout, fetched, a.fetch);
            else
                fputs("null", stdout);
            fputs("}\n", stdout);
        } else if (status == CLI_OK) {
            status = json_status;
        }
    }
    pktcap_storage_free(fetched);
    if (run.output_errno) {
        fprintf(stderr, "pktcap capture: writing the summaries failed: %s\n",
                strerror(run.output_errno));
        status = CLI_FAILED;
    }

done:
    if (s) {
        cli_note("pktcap_session_free(\"%s\")", pktcap_session_name(s));
        pktcap_session_free(s);   /* stops a capture still running (after an error) */
    }
    pktcap_storage_free(out);
    pktcap_filter_free(f);
    pktcap_provider_close(p);
    fflush(stdout);
    pthread_mutex_destroy(&run.lock);
    free(a.set.options);
    return status;
}

const struct cli_command cli_cmd_capture = {
    .name = "capture",
    .summary = "capture packets on any provider (this host: local:), live or to a file",
    .usage =
        "usage: pktcap capture [--provider URI] [--name NAME] --target T\n"
        "                      [--filter RULES | --bpf EXPR] [--duration S] [--packets N]\n"
        "                      [--bytes N] [--snaplen N] [-w FILE | --storage URI]\n"
        "                      [--option KEY=VALUE]... [--wait] [--fetch FILE]\n"
        "                      [--summary [--format text|json|csv]] [--json] [--verbose]\n"
        "\n"
        "Runs one capture session: makes it on the provider, starts it, follows it\n"
        "until it ends, and prints its statistics on stderr. The same options serve\n"
        "every provider; what a provider cannot do is refused with its reason.\n"
        "\n"
        "  --provider URI     where to capture (default local:, this host, with\n"
        "                     libpcap; options as local:?buffer_size=8M)\n"
        "  --name NAME        the session's name: letters, digits, '-', '_', '.'\n"
        "                     (default pktcap-DATE-TIME-N)\n"
        "  --target T         what to capture on: for local, an interface (lo, eth0),\n"
        "                     a list (eth0,eth1) or any; 'pktcap interfaces' lists them;\n"
        "                     for azure, a VM or scale set resource id; for\n"
        "                     cloudflare, the system (magic-transit); for sdwan,\n"
        "                     interface names joined by -- (MGMT--1--2)\n"
        "  --filter RULES     a filter in pktcap's one-line syntax (one argument:\n"
        "                     quote it), e.g. 'proto=tcp remote_port=443 or proto=udp'\n"
        "  --bpf EXPR         a raw libpcap expression instead\n"
        "  --duration S       end after S seconds (decimals allowed: 0.5), or a number\n"
        "                     with a unit: 500ms, 30s, 5m, 1h\n"
        "  --packets N        end after N packets; --bytes N after N captured bytes\n"
        "                     (k, M, G, T = powers of 1000; Ki, Mi, Gi, Ti of 1024)\n"
        "  --snaplen N        keep at most N bytes of each packet\n"
        "  -w FILE            write the capture to FILE (pcapng unless it ends in .pcap;\n"
        "                     '-' is standard output); it appears complete, or not at all\n"
        "  --storage URI      a storage URI instead (doc/storage.md), e.g. rotation:\n"
        "                     'file:///tmp/cap.pcapng?rotate_bytes=100M&rotate_files=10'\n"
        "  --option KEY=VALUE a provider setting; for local: buffer_size, promisc,\n"
        "                     immediate, timeout_ms. Repeatable\n"
        "  --wait             follow the session until it ends (always so for local:)\n"
        "  --fetch FILE       when it ends, copy the result into FILE (path or URI)\n"
        "  --summary          print a line per packet on stdout: as it is captured\n"
        "                     (local:), or when the session has ended for providers\n"
        "                     that return packet summaries (sdwan:)\n"
        "  --format FMT       the summary lines: text (default), json or csv, as\n"
        "                     'pktcap summary' prints them\n"
        "  --json             print the outcome on stdout as one JSON object:\n"
        "                     {\"session\": what 'pktcap status --json' prints,\n"
        "                     \"files\": [written], \"fetched\": [files] or null}; for a\n"
        "                     remote capture not followed (no --wait), {\"session\"}\n"
        "  -v, --verbose      log every library call on stderr, URI secrets redacted\n"
        "\n"
        "When the session is RUNNING, 'pktcap: capturing on T (session \"NAME\")' is\n"
        "printed on stderr. On a terminal a status line shows the state (with the\n"
        "provider's own status) from the start, then the packets, bytes, drops and\n"
        "time so far that the provider reports. Ctrl-C (SIGINT) or SIGTERM stops the capture\n"
        "cleanly: the file is complete and valid, and the exit status is 0. At the\n"
        "end stderr gets the state, why it ended (packet limit, byte limit, time\n"
        "limit, stopped) and the statistics (packets, bytes, dropped, if-dropped,\n"
        "elapsed, files written; 'unknown' for one the provider does not report,\n"
        "such as Azure's packet count). A local capture without -w, --storage or --fetch\n"
        "keeps no file (the summaries and statistics only).\n"
        "\n"
        "Exit status: 0 the capture ended COMPLETE or STOPPED (Ctrl-C included); 1 it\n"
        "FAILED or could not start (no such interface, no permission, unknown\n"
        "provider...: the library's message says why); 2 usage error.\n"
        "\n"
        "Examples:\n"
        "  pktcap capture --target eth0 --duration 30 -w web.pcapng \\\n"
        "      --filter 'proto=tcp remote_port=80;443'\n"
        "  pktcap capture --target lo --packets 10 --summary --format json\n"
        "  pktcap capture --target any --bpf 'icmp or arp' --summary\n"
        "  PKTCAP_SDWAN_USER=admin PKTCAP_SDWAN_PASSWORD=... pktcap capture \\\n"
        "      --provider 'sdwan://10.1.1.1?ca_file=appliance.pem' --target MGMT--1 \\\n"
        "      --duration 10 --packets 1000 --summary --format csv --fetch wan.pcapng\n"
        "  pktcap capture --target eth0 --storage \\\n"
        "      'file:///var/tmp/cap.pcapng?rotate_bytes=100M&rotate_files=10'\n"
        "  pktcap capture --provider \"$AZURE_WATCHER_URI\" --target \"$VM_ID\" \\\n"
        "      --storage \"$STORAGE_ACCOUNT_ID\" --duration 60 --fetch web1.pcap --json\n",
    .run = run_capture,
};
