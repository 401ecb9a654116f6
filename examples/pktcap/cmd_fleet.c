/* pktcap fleet: one capture session per target of a file, all on one
 * provider and all driven together from this thread by libpktcap's group
 * API (pktcap_group_*): started, followed until they end, fetched into a
 * directory. A target the provider refuses is reported and the others go on.
 *
 * The group is driven with pktcap_group_step() and poll() on its descriptor,
 * so that the live table (a terminal only) can be redrawn between steps.
 * The signal handlers only count and write a byte to a pipe that is polled
 * beside the group: the loop turns the first Ctrl-C into pktcap_group_stop()
 * and the second into giving up. */
#include "cli.h"
#include "output.h"

#include <pktcap/group.h>
#include <pktcap/pktcap.h>
#include <pktcap/session.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define REDRAW_MS CLI_STATUS_INTERVAL_MS   /* the live table: at most 4 redraws a second */
#define TARGET_SHOWN 32          /* characters of a target in the live table */
#define STATUS_SHOWN 16          /* characters of a provider status in the live table */
#define PREFIX_MAX 64            /* a session name is at most 80 characters */
#define CLI_INTERRUPTED 130      /* a second Ctrl-C: 128 + SIGINT, as a shell reports it */
#define DEFAULT_PREFIX "fleet"

static volatile sig_atomic_t interrupts;   /* SIGINT and SIGTERM received */
static int signal_pipe[2] = { -1, -1 };    /* the handler's wake-up for poll() */
static struct sigaction saved_int, saved_term; /* the dispositions before ours */

static void on_signal(int sig)
{
    int saved = errno;
    char byte = 1;
    (void)sig;
    interrupts++;   /* both signals are blocked while the handler runs */
    if (write(signal_pipe[1], &byte, 1) < 0) {
        /* full pipe: poll() is already woken */
    }
    errno = saved;
}

/* The pipe the handler writes to, both ends non-blocking, then the handlers.
 * Returns 0 or -1 (errno). */
static int install_handlers(void)
{
    struct sigaction sa;
    if (pipe(signal_pipe) < 0)
        return -1;
    for (int i = 0; i < 2; i++) {
        fcntl(signal_pipe[i], F_SETFL, O_NONBLOCK);
        fcntl(signal_pipe[i], F_SETFD, FD_CLOEXEC);
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGINT);
    sigaddset(&sa.sa_mask, SIGTERM);
    sigaction(SIGINT, &sa, &saved_int);
    sigaction(SIGTERM, &sa, &saved_term);
    /* A closed stdout (`| head`) is an error to report, not a reason to die
     * with captures running and the report unwritten. */
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    return 0;
}

/* Back to the dispositions before install_handlers(), the pipe closed. */
static void remove_handlers(void)
{
    if (signal_pipe[0] < 0)
        return;
    sigaction(SIGINT, &saved_int, NULL);
    sigaction(SIGTERM, &saved_term, NULL);
    for (int i = 0; i < 2; i++) {
        close(signal_pipe[i]);
        signal_pipe[i] = -1;
    }
}

static void drain_signal_pipe(void)
{
    char buf[64];
    while (read(signal_pipe[0], buf, sizeof buf) > 0)
        ;
}

/* One target of the targets file, and what became of it. */
struct target {
    char *text;
    unsigned line;
    char name[96];
    char *path;              /* --fetch-dir: DIR/NAME.EXT */
    pktcap_session *s;
    pktcap_storage *out;     /* the fetch target, or a local session's discard target */
    long index;              /* in the group; -1: not added (configure failed) */
    /* A configuration failure: the option it came from, its code and message. */
    char what[160];
    int code;
    char message[512];
    uint64_t changed;        /* sequence number of its latest event (table order) */
};

enum {
    OPT_PROVIDER = 256, OPT_TARGETS, OPT_FETCH_DIR, OPT_MAX_REQUESTS, OPT_MAX_DOWNLOADS,
    OPT_POLL_MIN, OPT_POLL_MAX, OPT_NAME_PREFIX, OPT_JSON, OPT_REPORT, OPT_TIMEOUT, OPT_VERBOSE,
};

struct fleet_args {
    const char *provider, *targets, *fetch_dir, *prefix, *report;
    const char *max_requests, *max_downloads, *poll_min, *poll_max;
    struct cli_settings set;  /* filter, limits, --option: as `capture` */
    uint64_t timeout_ms;
    int json;
};

struct fleet {
    struct fleet_args a;
    struct target *t;
    size_t n;
    struct target **by_index;  /* group index -> target */
    size_t in_group;           /* sessions added to the group */
    pktcap_provider *p;
    pktcap_filter *f;
    pktcap_group *g;
    uint64_t seq;              /* events seen */
    int table;                 /* draw the live table (stderr is a terminal) */
    int lines;                 /* lines of the table on screen now */
};

/* A name prefix as pktcap_session_new() takes names: letters, digits, '-',
 * '_', '.'; short enough for "-N" to follow. */
static int prefix_ok(const char *p)
{
    size_t n = strlen(p);
    if (n == 0 || n > PREFIX_MAX)
        return 0;
    return strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == n;
}

static int parse_args(struct fleet_args *a, int argc, char **argv)
{
    static const struct option options[] = {
        { "provider", required_argument, NULL, OPT_PROVIDER },
        { "targets", required_argument, NULL, OPT_TARGETS },
        CLI_SETTINGS_OPTIONS,
        { "fetch-dir", required_argument, NULL, OPT_FETCH_DIR },
        { "max-requests", required_argument, NULL, OPT_MAX_REQUESTS },
        { "max-downloads", required_argument, NULL, OPT_MAX_DOWNLOADS },
        { "poll-min-ms", required_argument, NULL, OPT_POLL_MIN },
        { "poll-max-ms", required_argument, NULL, OPT_POLL_MAX },
        { "name-prefix", required_argument, NULL, OPT_NAME_PREFIX },
        { "json", no_argument, NULL, OPT_JSON },
        { "report", required_argument, NULL, OPT_REPORT },
        { "timeout", required_argument, NULL, OPT_TIMEOUT },
        { "verbose", no_argument, NULL, OPT_VERBOSE },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":hv", options, NULL)) != -1) {
        int taken = cli_settings_option("fleet", &a->set, c, optarg);
        if (taken == 1)
            continue;
        if (taken)
            return taken;
        switch (c) {
        case OPT_PROVIDER: a->provider = optarg; break;
        case OPT_TARGETS: a->targets = optarg; break;
        case OPT_FETCH_DIR: a->fetch_dir = optarg; break;
        case OPT_NAME_PREFIX: a->prefix = optarg; break;
        case OPT_REPORT: a->report = optarg; break;
        case OPT_JSON: a->json = 1; break;
        /* The group judges its settings (pktcap_group_set names the range). */
        case OPT_MAX_REQUESTS: a->max_requests = optarg; break;
        case OPT_MAX_DOWNLOADS: a->max_downloads = optarg; break;
        case OPT_POLL_MIN: a->poll_min = optarg; break;
        case OPT_POLL_MAX: a->poll_max = optarg; break;
        case 'v':
        case OPT_VERBOSE: cli_verbose++; break;
        case OPT_TIMEOUT:
            if (cli_parse_duration(optarg, &a->timeout_ms) < 0)
                return cli_usage_error("fleet", "--timeout takes seconds (e.g. 10, 0.5) or a "
                                       "number with ms, s, m or h, at least 1 ms; not '%s'",
                                       optarg);
            break;
        case 'h':
            fputs(cli_cmd_fleet.usage, stdout);
            return -1;
        case ':':
            return cli_usage_error("fleet", "option '%s' needs a value", argv[optind - 1]);
        default:
            return cli_usage_error("fleet", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("fleet", "unexpected argument '%s'", argv[optind]);
    if (!a->provider)
        return cli_usage_error("fleet", "--provider is required (the provider every target "
                               "is captured on)");
    if (!a->targets)
        return cli_usage_error("fleet", "--targets FILE is required (one target per line; "
                               "'-' reads standard input)");
    if (a->set.rules && a->set.bpf)
        return cli_usage_error("fleet", "--filter and --bpf exclude each other");
    if ((a->fetch_dir && !*a->fetch_dir) || (a->report && !*a->report))
        return cli_usage_error("fleet", "%s takes a path, not ''",
                               a->fetch_dir && !*a->fetch_dir ? "--fetch-dir" : "--report");
    if (a->prefix && !prefix_ok(a->prefix))
        return cli_usage_error("fleet", "--name-prefix takes 1 to %d letters, digits, '-', '_' "
                               "or '.'; not '%s'", PREFIX_MAX, a->prefix);
    if (!a->prefix)
        a->prefix = DEFAULT_PREFIX;
    return CLI_OK;
}

/* ---- the targets file ------------------------------------------------------- */

static int by_text_then_line(const void *x, const void *y)
{
    const struct target *a = *(const struct target *const *)x;
    const struct target *b = *(const struct target *const *)y;
    int c = strcmp(a->text, b->text);
    return c ? c : (a->line > b->line) - (a->line < b->line);
}

/* A target given twice: the one whose second line comes first in the file
 * is reported. Returns CLI_OK, CLI_USAGE or CLI_FAILED (no memory). */
static int check_duplicates(const struct fleet *fl, const char *shown)
{
    struct target **sorted = malloc(fl->n * sizeof *sorted);
    const struct target *first = NULL, *again = NULL;
    if (!sorted) {
        fputs("pktcap fleet: out of memory\n", stderr);
        return CLI_FAILED;
    }
    for (size_t i = 0; i < fl->n; i++)
        sorted[i] = &fl->t[i];
    qsort(sorted, fl->n, sizeof *sorted, by_text_then_line);
    for (size_t i = 1; i < fl->n; i++)
        if (strcmp(sorted[i]->text, sorted[i - 1]->text) == 0 &&
            (!again || sorted[i]->line < again->line)) {
            size_t k = i - 1;
            while (k > 0 && strcmp(sorted[k - 1]->text, sorted[i]->text) == 0)
                k--;
            first = sorted[k];
            again = sorted[i];
        }
    free(sorted);
    if (again)
        return cli_usage_error("fleet", "%s:%u: target '%s' is already on line %u", shown,
                               again->line, again->text, first->line);
    return CLI_OK;
}

/* Appends one target; CLI_OK or CLI_FAILED (no memory). */
static int add_target(struct fleet *fl, size_t *cap, const char *text, size_t len,
                      unsigned line)
{
    if (fl->n == *cap) {
        size_t more = *cap ? *cap * 2 : 64;
        struct target *grown = realloc(fl->t, more * sizeof *grown);
        if (!grown)
            goto nomem;
        fl->t = grown;
        *cap = more;
    }
    struct target *t = &fl->t[fl->n];
    memset(t, 0, sizeof *t);
    t->index = -1;
    t->line = line;
    if (!(t->text = malloc(len + 1)))
        goto nomem;
    memcpy(t->text, text, len);
    t->text[len] = '\0';
    fl->n++;
    return CLI_OK;
nomem:
    fputs("pktcap fleet: out of memory\n", stderr);
    return CLI_FAILED;
}

/* Reads the targets: one a line, blanks around it trimmed, blank lines and
 * lines starting with '#' skipped. Unreadable, empty or with a target twice:
 * a usage error naming the file (and the line). */
static int read_targets(struct fleet *fl, const char *file)
{
    int from_stdin = strcmp(file, "-") == 0;
    const char *shown = from_stdin ? "standard input" : file;
    FILE *in = from_stdin ? stdin : fopen(file, "r");
    char *line = NULL;
    size_t size = 0, cap = 0;
    ssize_t got;
    unsigned number = 0;
    int status = CLI_OK;
    if (!in)
        return cli_usage_error("fleet", "cannot read the targets file '%s': %s", file,
                               strerror(errno));
    errno = 0;
    while (status == CLI_OK && (got = getline(&line, &size, in)) >= 0) {
        const char *start = line, *end = line + got;
        number++;
        while (start < end && strchr(" \t\r\n\v\f", *start))
            start++;
        while (end > start && strchr(" \t\r\n\v\f", end[-1]))
            end--;
        if (start == end || *start == '#')
            continue;
        if (memchr(start, '\0', (size_t)(end - start))) {
            status = cli_usage_error("fleet", "%s:%u: a target holds a NUL byte", shown, number);
            break;
        }
        status = add_target(fl, &cap, start, (size_t)(end - start), number);
    }
    if (status == CLI_OK && ferror(in))
        status = cli_usage_error("fleet", "cannot read the targets file '%s': %s", file,
                                 strerror(errno ? errno : EIO));
    free(line);
    if (!from_stdin)
        fclose(in);
    if (status != CLI_OK)
        return status;
    if (fl->n == 0)
        return cli_usage_error("fleet", "the targets file '%s' has no target (one per line; "
                               "blank lines and lines starting with '#' are ignored)", shown);
    return check_duplicates(fl, shown);
}

/* ---- the sessions ---------------------------------------------------------- */

/* The extension of the files a provider delivers: Azure Network Watcher
 * writes .cap blobs (pcap), Cloudflare serves pcap, an SD-WAN appliance and
 * the local engine pcapng. The file is fetched as the provider made it. */
static const char *file_extension(const pktcap_provider *p)
{
    static const struct {
        const char *kind, *ext;
    } exts[] = {
        { "azure", ".cap" },
        { "cloudflare", ".pcap" },
    };
    const char *kind = pktcap_provider_kind(p);
    for (size_t i = 0; kind && i < sizeof exts / sizeof exts[0]; i++)
        if (strcmp(kind, exts[i].kind) == 0)
            return exts[i].ext;
    return ".pcapng";
}

/* mkdir -p; 0 or an errno value. */
static int make_dirs(const char *dir)
{
    char *path = strdup(dir);
    struct stat st;
    int err = 0;
    if (!path)
        return ENOMEM;
    for (char *p = path + 1; *p && !err; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0777) < 0 && errno != EEXIST)
            err = errno;
        *p = '/';
    }
    if (!err && mkdir(path, 0777) < 0 && errno != EEXIST)
        err = errno;
    if (!err && (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)))
        err = errno ? errno : ENOTDIR;
    free(path);
    return err;
}

/* A target that could not be made into a session: kept for the report. */
static void config_failed(struct target *t, const char *what, int rc)
{
    snprintf(t->what, sizeof t->what, "%s", what);
    t->code = rc;
    snprintf(t->message, sizeof t->message, "%s", pktcap_error_message(pktcap_error_last()));
    pktcap_session_free(t->s);
    pktcap_storage_free(t->out);
    t->s = NULL;
    t->out = NULL;
}

/* A storage target that keeps nothing: a local capture nobody asked to keep. */
static int discard_bytes(const void *data, size_t size, void *userdata)
{
    (void)data;
    (void)size;
    (void)userdata;
    return 0;
}

/* Makes the session of target number `n` (from 1) and adds it to the
 * group. A failure is the target's own (kept in it); only running out of
 * memory stops the command (CLI_FAILED). */
static int make_session(struct fleet *fl, struct target *t, size_t n, const char *ext)
{
    const struct fleet_args *a = &fl->a;
    uint32_t caps = pktcap_provider_caps(fl->p);
    char what[160] = "--name-prefix";
    int rc;
    snprintf(t->name, sizeof t->name, "%s-%zu", a->prefix, n);
    CLI_CALL(rc, pktcap_session_new(&t->s, fl->p, t->name), "pktcap_session_new(\"%s\")",
             t->name);
    if (rc < 0)
        goto failed;
    if ((rc = cli_configure_session(t->s, t->text, fl->f, &a->set, what, sizeof what)) < 0)
        goto failed;
    snprintf(what, sizeof what, "--fetch-dir");
    if (a->fetch_dir) {
        size_t size = strlen(a->fetch_dir) + strlen(t->name) + strlen(ext) + 2;
        if (!(t->path = malloc(size)))
            goto nomem;
        snprintf(t->path, size, "%s/%s%s", a->fetch_dir, t->name, ext);
        CLI_CALL(rc, pktcap_storage_open(&t->out, t->path), "pktcap_storage_open(\"%s\")",
                 t->path);
        if (rc < 0)
            goto failed;
    } else if (!(caps & PKTCAP_CAP_OPEN) && (caps & PKTCAP_CAP_PACKET_CALLBACK)) {
        /* A local capture nobody asked to keep, and nobody can fetch later. */
        snprintf(what, sizeof what, "storage");
        CLI_CALL(rc, pktcap_storage_new_callback(&t->out, discard_bytes, NULL),
                 "pktcap_storage_new_callback(discard)");
        if (rc == 0)
            CLI_CALL(rc, pktcap_session_set_storage(t->s, t->out),
                     "pktcap_session_set_storage(\"%s\")", t->name);
        if (rc < 0)
            goto failed;
    }
    snprintf(what, sizeof what, "%s", a->fetch_dir ? "--fetch-dir" : "fleet");
    CLI_CALL(rc, pktcap_group_add(fl->g, t->s, a->fetch_dir ? t->out : NULL),
             "pktcap_group_add(\"%s\")", t->name);
    if (rc < 0)
        goto failed;
    t->index = (long)pktcap_group_count(fl->g) - 1;
    return CLI_OK;
failed:
    if (rc == PKTCAP_E_NOMEM)
        goto nomem;
    config_failed(t, what, rc);
    return CLI_OK;
nomem:
    fputs("pktcap fleet: out of memory\n", stderr);
    return CLI_FAILED;
}

/* The group settings; a value the group refuses is a usage error (so is a
 * minimum poll interval above the maximum, which pktcap_group_start refuses). */
static int set_group(pktcap_group *g, const struct fleet_args *a)
{
    const struct {
        const char *key, *value, *option;
    } settings[] = {
        { "max_requests", a->max_requests, "--max-requests" },
        { "max_downloads", a->max_downloads, "--max-downloads" },
        { "poll_min_ms", a->poll_min, "--poll-min-ms" },
        { "poll_max_ms", a->poll_max, "--poll-max-ms" },
    };
    int rc;
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
        if (!settings[i].value)
            continue;
        CLI_CALL(rc, pktcap_group_set(g, settings[i].key, settings[i].value),
                 "pktcap_group_set(\"%s\", \"%s\")", settings[i].key, settings[i].value);
        if (rc < 0)
            return cli_usage_error("fleet", "%s: %s", settings[i].option,
                                   pktcap_error_message(pktcap_error_last()));
    }
    return CLI_OK;
}

/* ---- events and the live table ----------------------------------------------- */

static const char *op_name(int op)
{
    static const char *const names[] = { "none", "start", "poll", "stop", "fetch" };
    return op >= 0 && op <= PKTCAP_GROUP_OP_FETCH ? names[op] : "?";
}

/* Event callback (inside pktcap_group_step()): the order of the table, and
 * each event logged with --verbose. */
static void on_event(const pktcap_group_event *ev, void *userdata)
{
    struct fleet *fl = userdata;
    struct target *t = ev->index < fl->in_group ? fl->by_index[ev->index] : NULL;
    if (!t)
        return;
    t->changed = ++fl->seq;
    if (ev->type == PKTCAP_GROUP_EVENT_STATE)
        cli_note("%s: %s", t->name, pktcap_state_name(ev->state));
    else if (ev->type == PKTCAP_GROUP_EVENT_ERROR)
        cli_note("%s: %s failed: %s (%s)", t->name, op_name(ev->op), ev->message,
                 pktcap_error_name(ev->code));
    else if (ev->type == PKTCAP_GROUP_EVENT_DONE)
        cli_note("%s: done (%s)", t->name, ev->code ? pktcap_error_name(ev->code) : "ok");
}

static void get_result(const struct fleet *fl, const struct target *t, pktcap_group_result *r)
{
    memset(r, 0, sizeof *r);
    r->struct_size = sizeof *r;
    if (t->index >= 0)
        pktcap_group_get_result(fl->g, (size_t)t->index, r);
}

/* "12 PENDING, 980 RUNNING, 8 COMPLETE; 3 failed; 40 fetched": the states of
 * the sessions in the group; the failed count includes targets refused
 * before the group ran. */
static void header_line(const struct fleet *fl, char *buf, size_t size)
{
    size_t states[PKTCAP_STATE_FAILED + 1] = { 0 }, failed = 0, fetched = 0, used = 0;
    for (size_t i = 0; i < fl->n; i++) {
        const struct target *t = &fl->t[i];
        pktcap_group_result r;
        if (t->index < 0) {
            failed++;
            continue;
        }
        get_result(fl, t, &r);
        if (r.state >= 0 && r.state <= PKTCAP_STATE_FAILED)
            states[r.state]++;
        failed += r.code != 0;
        fetched += (size_t)r.fetched;
    }
    buf[0] = '\0';
    for (int s = 0; s <= PKTCAP_STATE_FAILED && used < size; s++)
        if (states[s])
            used += (size_t)snprintf(buf + used, size - used, "%s%zu %s", used ? ", " : "",
                                     states[s], pktcap_state_name(s));
    if (used < size)
        snprintf(buf + used, size - used, "%s%zu failed; %zu fetched", used ? "; " : "", failed,
                 fetched);
}

/* `text` shortened to `width` characters, its end kept ("...ines/vm12"):
 * the end of a resource id is what tells targets apart. */
static void shorten(char *buf, size_t size, const char *text, size_t width)
{
    size_t n = strlen(text);
    if (n <= width)
        snprintf(buf, size, "%s", text);
    else
        snprintf(buf, size, "...%s", text + n - (width - 3));
}

/* What a session has to show: bytes fetched, or its error. */
static void result_text(char *buf, size_t size, const struct target *t,
                        const pktcap_group_result *r)
{
    if (t->index < 0)
        snprintf(buf, size, "configure: %.100s %.400s", t->what, t->message);
    else if (r->code)
        snprintf(buf, size, "%s: %s", op_name(r->op), r->message);
    else if (r->fetched || r->bytes)
        snprintf(buf, size, "%llu bytes%s", (unsigned long long)r->bytes,
                 r->fetched ? " fetched" : "");
    else
        buf[0] = '\0';
}

/* One line on the terminal: cut to its width, never inside a UTF-8 character. */
static void put_line(const char *line, int cols)
{
    size_t n = strlen(line);
    if (cols > 1 && n > (size_t)cols - 1) {
        n = (size_t)cols - 1;
        while (n > 0 && ((unsigned char)line[n] & 0xC0) == 0x80)
            n--;
    }
    fwrite(line, 1, n, stderr);
    fputs("\033[K\n", stderr);
}

static int latest_first(const void *x, const void *y)
{
    const struct target *a = *(const struct target *const *)x;
    const struct target *b = *(const struct target *const *)y;
    if (a->changed != b->changed)
        return a->changed > b->changed ? -1 : 1;
    return (a > b) - (a < b);
}

/* Erases the table (the cursor is on the line below it). */
static void clear_table(struct fleet *fl)
{
    if (fl->lines) {
        fprintf(stderr, "\r\033[%dA\033[J", fl->lines);
        fflush(stderr);
        fl->lines = 0;
    }
}

/* Redraws the table in place: the header, then the sessions that changed
 * most recently, as many as fit the terminal without scrolling. */
static void draw_table(struct fleet *fl)
{
    struct winsize ws;
    int rows = 24, cols = 80, shown = 0;
    char line[1024], head[256], target[TARGET_SHOWN + 1], status[STATUS_SHOWN + 1], result[600];
    struct target **order = malloc(fl->n * sizeof *order);
    size_t width = 4;
    if (!order)
        return;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0) {
        rows = ws.ws_row;
        cols = ws.ws_col;
    }
    for (size_t i = 0; i < fl->n; i++) {
        order[i] = &fl->t[i];
        if (strlen(fl->t[i].name) > width)
            width = strlen(fl->t[i].name);
    }
    qsort(order, fl->n, sizeof *order, latest_first);
    if (fl->lines)
        fprintf(stderr, "\r\033[%dA", fl->lines);
    header_line(fl, head, sizeof head);
    put_line(head, cols);
    shown = 1;
    for (size_t i = 0; i < fl->n && shown < rows - 1; i++, shown++) {
        const struct target *t = order[i];
        pktcap_group_result r;
        get_result(fl, t, &r);
        shorten(target, sizeof target, t->text, TARGET_SHOWN);
        shorten(status, sizeof status, t->s ? pktcap_session_native_status(t->s) : "",
                STATUS_SHOWN);
        result_text(result, sizeof result, t, &r);
        snprintf(line, sizeof line, "%-*s %-*s %-10s %-*s %s", (int)width, t->name,
                 TARGET_SHOWN, target, t->index < 0 ? "-" : pktcap_state_name(r.state),
                 STATUS_SHOWN, status, result);
        put_line(line, cols);
    }
    fputs("\033[J", stderr);
    fflush(stderr);
    fl->lines = shown;
    free(order);
}

/* ---- driving the group ------------------------------------------------------- */

enum { RUN_DONE, RUN_TIMEOUT, RUN_INTERRUPTED };

/* Steps the group until every session is done, the --timeout passes or a
 * second signal comes; returns a RUN_* outcome, or -1 after printing the
 * library's error. */
static int drive(struct fleet *fl)
{
    int64_t t0 = cli_now_us(), drawn = 0;
    int64_t deadline = fl->a.timeout_ms ? t0 + (int64_t)fl->a.timeout_ms * 1000 : INT64_MAX;
    int stopping = 0, rc, fd = pktcap_group_fd(fl->g);
    cli_note("pktcap_group_step() and poll() repeated until every session is done");
    for (;;) {
        int64_t wait_ms, now;
        if (interrupts >= 2) {
            clear_table(fl);
            pktcap_group_cancel(fl->g);
            fprintf(stderr, "pktcap fleet: interrupted again: abandoning the fleet (captures "
                    "still running at the provider go on)\n");
            return RUN_INTERRUPTED;
        }
        if (interrupts == 1 && !stopping) {
            stopping = 1;
            clear_table(fl);
            fprintf(stderr, "pktcap fleet: stopping every capture; they are still fetched "
                    "(Ctrl-C again abandons them)\n");
            CLI_CALL(rc, pktcap_group_stop(fl->g), "pktcap_group_stop()");
            if (rc < 0) {
                cli_library_error("stopping the fleet", rc);
                return -1;
            }
        }
        rc = pktcap_group_step(fl->g, &wait_ms);
        if (rc < 0) {
            clear_table(fl);
            cli_library_error("fleet", rc);
            return -1;
        }
        if (rc == 0)
            break;
        now = cli_now_us();
        if (now >= deadline) {
            clear_table(fl);
            fprintf(stderr, "pktcap fleet: --timeout: gave up after %.1f s; what runs at the "
                    "provider goes on\n", (double)(now - t0) / 1e6);
            return RUN_TIMEOUT;
        }
        if (fl->table && now - drawn >= (int64_t)REDRAW_MS * 1000) {
            draw_table(fl);
            drawn = now;
        }
        /* Woken by the group, a signal, the next redraw or the deadline. */
        if (wait_ms < 0 || wait_ms > REDRAW_MS)
            wait_ms = REDRAW_MS;
        if ((deadline - now) / 1000 < wait_ms)
            wait_ms = (deadline - now) / 1000;
        struct pollfd fds[2] = { { fd, POLLIN, 0 }, { signal_pipe[0], POLLIN, 0 } };
        if (poll(fds, 2, (int)wait_ms) > 0 && (fds[1].revents & POLLIN))
            drain_signal_pipe();
    }
    clear_table(fl);
    cli_trace(0, t0, "pktcap_group_step() until every session is done");
    return RUN_DONE;
}

/* ---- the outcome ------------------------------------------------------------- */

/* A target refused before the group ran, in the shape of the group
 * report's sessions ("index": null, "failed_op": "configure"). */
static json_t *refused_json(const struct fleet *fl, const struct target *t)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    if (json_object_set_new(o, "index", json_null()) ||
        json_object_set_new(o, "name", json_string(t->name)) ||
        json_object_set_new(o, "provider", json_string(pktcap_provider_kind(fl->p))) ||
        json_object_set_new(o, "target", json_string(t->text)) ||
        json_object_set_new(o, "id", json_string("")) ||
        json_object_set_new(o, "state", json_string(pktcap_state_name(PKTCAP_STATE_NEW))) ||
        json_object_set_new(o, "native_status", json_string("")) ||
        json_object_set_new(o, "done", json_true()) ||
        json_object_set_new(o, "failed_op", json_string("configure")) ||
        json_object_set_new(o, "error", json_string(pktcap_error_name(t->code))) ||
        json_object_set_new(o, "message", json_string(t->message)) ||
        json_object_set_new(o, "fetched", json_false()) ||
        json_object_set_new(o, "bytes", json_integer(0)) ||
        json_object_set_new(o, "requests", json_integer(0))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static int add_to(json_t *object, const char *key, json_int_t n)
{
    json_t *v = json_object_get(object, key);
    return v ? json_integer_set(v, json_integer_value(v) + n) : -1;
}

/* The report: pktcap_group_report(), with the targets refused before the
 * group ran put in their place (file order) and counted (state NEW, done,
 * failed). Allocated text (free()), or NULL after printing why. */
static char *fleet_report(const struct fleet *fl)
{
    char *text = NULL, *out = NULL;
    json_t *root = NULL, *sessions, *all = NULL;
    json_error_t err;
    size_t refused = 0;
    int rc;
    CLI_CALL(rc, pktcap_group_report(&text, fl->g), "pktcap_group_report()");
    if (rc < 0) {
        cli_library_error("report", rc);
        return NULL;
    }
    for (size_t i = 0; i < fl->n; i++)
        refused += fl->t[i].index < 0;
    if (!refused) {
        out = strdup(text);
        goto done;
    }
    if (!(root = json_loads(text, 0, &err)) || !(sessions = json_object_get(root, "sessions")) ||
        !(all = json_array()))
        goto done;
    for (size_t i = 0; i < fl->n; i++) {
        const struct target *t = &fl->t[i];
        json_t *o = t->index < 0 ? refused_json(fl, t)
                                 : json_incref(json_array_get(sessions, (size_t)t->index));
        if (!o || json_array_append_new(all, o))
            goto done;
    }
    if (json_object_set(root, "sessions", all) ||
        add_to(root, "sessions_total", (json_int_t)refused) ||
        add_to(root, "done", (json_int_t)refused) || add_to(root, "failed", (json_int_t)refused) ||
        add_to(json_object_get(root, "states"), pktcap_state_name(PKTCAP_STATE_NEW),
               (json_int_t)refused))
        goto done;
    out = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
done:
    if (!out)
        fputs("pktcap fleet: out of memory writing the report\n", stderr);
    json_decref(all);
    json_decref(root);
    pktcap_free(text);
    return out;
}

/* Writes the report to `path`: a temporary file beside it, renamed over it
 * once complete. CLI_* status. */
static int write_report(const char *path, const char *json)
{
    size_t n = strlen(path), len = strlen(json);
    char *tmp = malloc(n + sizeof ".XXXXXX");
    int fd = -1, err = 0;
    mode_t mask;
    if (!tmp) {
        err = ENOMEM;
        goto failed;
    }
    memcpy(tmp, path, n);
    memcpy(tmp + n, ".XXXXXX", sizeof ".XXXXXX");
    if ((fd = mkstemp(tmp)) < 0) {
        err = errno;
        free(tmp);
        tmp = NULL;
        goto failed;
    }
    mask = umask(0);   /* mkstemp makes 0600: give the file what any new file gets */
    umask(mask);
    for (size_t done = 0; done < len + 1 && !err;) {
        const char *p = done < len ? json + done : "\n";
        size_t left = done < len ? len - done : 1;
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno != EINTR)
            err = errno;
        else if (w > 0)
            done += (size_t)w;
    }
    if (!err && (fchmod(fd, 0666 & ~mask) < 0 || fsync(fd) < 0))
        err = errno;
    if (close(fd) < 0 && !err)
        err = errno;
    if (!err && rename(tmp, path) < 0)
        err = errno;
    if (!err) {
        free(tmp);
        return CLI_OK;
    }
failed:
    if (tmp) {
        unlink(tmp);
        free(tmp);
    }
    fprintf(stderr, "pktcap fleet: --report %s: %s\n", path, strerror(err));
    return CLI_FAILED;
}

/* The result word of the text summary. */
static const char *result_word(const struct target *t, const pktcap_group_result *r)
{
    if (t->index < 0 || r->code)
        return "failed";
    if (!r->done)
        return "unfinished";
    return r->fetched ? "fetched" : "ended";
}

/* Whether a session did all it should: ended COMPLETE or STOPPED and, with
 * --fetch-dir, fetched. */
static int succeeded(const struct fleet *fl, const struct target *t, const pktcap_group_result *r)
{
    if (t->index < 0 || r->code || !r->done)
        return 0;
    if (r->state != PKTCAP_STATE_COMPLETE && r->state != PKTCAP_STATE_STOPPED)
        return 0;
    return !fl->a.fetch_dir || r->fetched;
}

/* The text summary on stdout (a line per target), the failures on stderr.
 * Returns whether every session succeeded. */
static int summarize(const struct fleet *fl)
{
    size_t wname = 4, wtarget = 6, wstate = 5;
    int all_ok = 1;
    char head[256];
    for (size_t i = 0; i < fl->n; i++) {
        const struct target *t = &fl->t[i];
        pktcap_group_result r;
        get_result(fl, t, &r);
        if (strlen(t->name) > wname)
            wname = strlen(t->name);
        if (strlen(t->text) > wtarget)
            wtarget = strlen(t->text);
        if (strlen(pktcap_state_name(r.state)) > wstate)
            wstate = strlen(pktcap_state_name(r.state));
    }
    if (!fl->a.json)
        printf("%-*s %-*s %-*s %-10s %s\n", (int)wname, "NAME", (int)wtarget, "TARGET",
               (int)wstate, "STATE", "RESULT", "FILE");
    for (size_t i = 0; i < fl->n; i++) {
        const struct target *t = &fl->t[i];
        pktcap_group_result r;
        get_result(fl, t, &r);
        if (!fl->a.json)
            printf("%-*s %-*s %-*s %-10s %s\n", (int)wname, t->name, (int)wtarget, t->text,
                   (int)wstate, t->index < 0 ? "NEW" : pktcap_state_name(r.state),
                   result_word(t, &r), r.fetched ? t->path : "-");
        if (t->index < 0)
            fprintf(stderr, "pktcap fleet: %s on %s: %s: %s (%s)\n", t->name, t->text, t->what,
                    t->message, pktcap_error_name(t->code));
        else if (r.code)
            fprintf(stderr, "pktcap fleet: %s on %s: %s: %s (%s)\n", t->name, t->text,
                    op_name(r.op), r.message, pktcap_error_name(r.code));
        if (!succeeded(fl, t, &r))
            all_ok = 0;
    }
    header_line(fl, head, sizeof head);
    fprintf(stderr, "pktcap fleet: %zu sessions: %s\n", fl->n, head);
    return all_ok;
}

static void fleet_free(struct fleet *fl)
{
    if (fl->g) {
        cli_note("pktcap_group_free()");
        pktcap_group_free(fl->g);   /* first: it borrows the sessions and storages */
    }
    for (size_t i = 0; i < fl->n; i++) {
        pktcap_session_free(fl->t[i].s);
        pktcap_storage_free(fl->t[i].out);
        free(fl->t[i].text);
        free(fl->t[i].path);
    }
    free(fl->t);
    free(fl->by_index);
    pktcap_filter_free(fl->f);
    pktcap_provider_close(fl->p);
    free(fl->a.set.options);
    remove_handlers();
}

static int run_fleet(int argc, char **argv)
{
    struct fleet fl;
    int status, rc, outcome;
    memset(&fl, 0, sizeof fl);
    fl.a.set.options = calloc((size_t)argc + 1, sizeof *fl.a.set.options);
    if (!fl.a.set.options) {
        fputs("pktcap fleet: out of memory\n", stderr);
        return CLI_FAILED;
    }
    status = parse_args(&fl.a, argc, argv);
    if (status != CLI_OK) {
        free(fl.a.set.options);
        return status < 0 ? CLI_OK : status;   /* -1: --help was printed */
    }
    const struct fleet_args *a = &fl.a;
    /* Everything that can be a usage error comes before any request. */
    if ((status = read_targets(&fl, a->targets)) != CLI_OK)
        goto done;
    CLI_CALL(rc, pktcap_group_new(&fl.g), "pktcap_group_new()");
    if (rc < 0) {
        status = cli_library_error("fleet", rc);
        goto done;
    }
    if ((status = set_group(fl.g, a)) != CLI_OK)
        goto done;
    if ((status = cli_open_provider(&fl.p, a->provider)) != CLI_OK)
        goto done;
    if ((a->set.rules || a->set.bpf) &&
        (status = cli_make_filter(&fl.f, a->set.rules, a->set.bpf)) != CLI_OK)
        goto done;
    if (a->fetch_dir && (rc = make_dirs(a->fetch_dir)) != 0) {
        fprintf(stderr, "pktcap fleet: --fetch-dir %s: %s\n", a->fetch_dir, strerror(rc));
        status = CLI_FAILED;
        goto done;
    }
    const char *ext = file_extension(fl.p);
    for (size_t i = 0; i < fl.n; i++)
        if ((status = make_session(&fl, &fl.t[i], i + 1, ext)) != CLI_OK)
            goto done;
    if (!(fl.by_index = calloc(fl.n, sizeof *fl.by_index))) {
        fputs("pktcap fleet: out of memory\n", stderr);
        status = CLI_FAILED;
        goto done;
    }
    for (size_t i = 0; i < fl.n; i++)
        if (fl.t[i].index >= 0)
            fl.by_index[fl.t[i].index] = &fl.t[i];
    fl.in_group = pktcap_group_count(fl.g);
    pktcap_group_set_event_callback(fl.g, on_event, &fl);
    /* --verbose writes its log where the table would be. */
    fl.table = isatty(STDERR_FILENO) && !cli_verbose;
    if (install_handlers() < 0) {
        fprintf(stderr, "pktcap fleet: signal pipe: %s\n", strerror(errno));
        status = CLI_FAILED;
        goto done;
    }
    CLI_CALL(rc, pktcap_group_start(fl.g), "pktcap_group_start() of %zu sessions",
             pktcap_group_count(fl.g));
    if (rc == PKTCAP_E_INVAL) {   /* the settings as a pair: poll_min_ms above poll_max_ms */
        status = cli_usage_error("fleet", "--poll-min-ms/--poll-max-ms: %s",
                                 pktcap_error_message(pktcap_error_last()));
        goto done;
    }
    if (rc < 0) {
        status = cli_library_error("fleet", rc);
        goto done;
    }
    if ((outcome = drive(&fl)) < 0) {
        status = CLI_FAILED;
        goto done;
    }

    /* The outcome: what is known, whatever ended the run. */
    char *report = a->json || a->report ? fleet_report(&fl) : NULL;
    int all_ok = summarize(&fl);
    status = all_ok && outcome == RUN_DONE ? CLI_OK : CLI_FAILED;
    if ((a->json || a->report) && !report)
        status = CLI_FAILED;
    if (report && a->json)
        printf("%s\n", report);
    if (report && a->report && write_report(a->report, report) != CLI_OK)
        status = CLI_FAILED;
    free(report);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "pktcap fleet: writing standard output failed: %s\n",
                strerror(errno ? errno : EIO));
        status = CLI_FAILED;
    }
    if (outcome == RUN_INTERRUPTED)
        status = CLI_INTERRUPTED;

done:
    fleet_free(&fl);
    return status;
}

const struct cli_command cli_cmd_fleet = {
    .name = "fleet",
    .summary = "capture on many targets of one provider at once, and fetch every result",
    .usage =
        "usage: pktcap fleet --provider URI --targets FILE [--filter RULES | --bpf EXPR]\n"
        "                    [--duration S] [--packets N] [--bytes N] [--snaplen N]\n"
        "                    [--option KEY=VALUE]... [--fetch-dir DIR] [--name-prefix P]\n"
        "                    [--max-requests N] [--max-downloads N] [--poll-min-ms N]\n"
        "                    [--poll-max-ms N] [--timeout S] [--json] [--report FILE]\n"
        "                    [--verbose]\n"
        "\n"
        "Runs one capture session per target of FILE on one provider, all at once\n"
        "from one thread: starts them, follows them until they end and, with\n"
        "--fetch-dir, fetches every capture. A target that fails never stops the\n"
        "others.\n"
        "\n"
        "  --provider URI     where to capture, as for 'pktcap capture' (options in\n"
        "                     the URI's query); its connections serve every session\n"
        "  --targets FILE     one target per line, as 'capture --target' takes it;\n"
        "                     blanks around it are trimmed, blank lines and lines\n"
        "                     starting with '#' ignored; '-' is standard input. A\n"
        "                     target given twice is an error\n"
        "  --filter RULES     every session's filter, in pktcap's one-line syntax\n"
        "  --bpf EXPR         a raw libpcap expression instead\n"
        "  --duration S       end each capture after S seconds (decimals allowed), or\n"
        "                     a number with a unit: 500ms, 30s, 5m, 1h\n"
        "  --packets N        end each after N packets; --bytes N after N bytes;\n"
        "                     --snaplen N keeps at most N bytes of each packet\n"
        "  --option KEY=VALUE a provider session setting for every session, e.g.\n"
        "                     Azure's storage_id=STORAGE_ACCOUNT_ID. Repeatable\n"
        "  --fetch-dir DIR    fetch each capture to DIR/NAME.EXT, EXT being what the\n"
        "                     provider delivers: .cap (azure), .pcap (cloudflare),\n"
        "                     .pcapng (sdwan, local); DIR is made if missing.\n"
        "                     Without it nothing is fetched\n"
        "  --name-prefix P    name the sessions P-1, P-2, ... in the order of FILE\n"
        "                     (default fleet)\n"
        "  --max-requests N   requests in flight at once, 1-4096 (default 64)\n"
        "  --max-downloads N  fetches at once, 1-1024 (default 4)\n"
        "  --poll-min-ms N    once a capture may have ended, poll it after N ms\n"
        "                     (default 1000), doubling while nothing changes up to\n"
        "  --poll-max-ms N    N ms (default 30000); a provider's advice always wins\n"
        "  --timeout S        give up after S: sessions not done are left as they are\n"
        "  --json             print the report (below) on stdout instead of the table\n"
        "  --report FILE      also write the report to FILE (complete, or not at all)\n"
        "  -v, --verbose      log every library call and each session's events on\n"
        "                     stderr, URI secrets redacted\n"
        "\n"
        "On a terminal, stderr shows a live table, redrawn at most four times a\n"
        "second: a header with the sessions by state and the failed and fetched\n"
        "counts ('2 PENDING, 5 RUNNING, 1 COMPLETE; 1 failed; 1 fetched'), then a\n"
        "line per session (name, target, state, provider status, bytes fetched or\n"
        "error), the latest to change first, as many as fit (not with --verbose).\n"
        "Ctrl-C (SIGINT) or SIGTERM stops the captures started, which are still\n"
        "fetched, and starts no other; a second one abandons the fleet: the\n"
        "report of what is known is printed and the exit status is 130.\n"
        "\n"
        "At the end stdout gets a line per target: NAME TARGET STATE RESULT FILE\n"
        "(RESULT: fetched, ended, failed or unfinished; FILE '-' when none), and\n"
        "stderr a line per failure, 'pktcap fleet: NAME on TARGET: STEP: MESSAGE\n"
        "(PKTCAP_E_CODE)', then the totals. --json prints the group's report\n"
        "instead: {\"sessions_total\", \"states\": {STATE: count}, \"done\", \"failed\",\n"
        "\"fetched\", \"requests\", \"throttled\", \"wall_ms\", \"sessions\": [{\"index\",\n"
        "\"name\", \"provider\", \"target\", \"id\", \"state\", \"native_status\", \"done\",\n"
        "\"failed_op\", \"error\", \"message\", \"fetched\", \"bytes\", \"requests\"}]}; a\n"
        "target refused before the group ran has \"index\": null and \"failed_op\":\n"
        "\"configure\".\n"
        "\n"
        "Exit status: 0 every session ended COMPLETE or STOPPED (and was fetched,\n"
        "with --fetch-dir); 1 a session failed (a target refused, a capture that\n"
        "FAILED, a failed fetch) or was not done (--timeout), or the provider\n"
        "could not be opened; 2 usage error (including a targets file unreadable,\n"
        "empty or with a target twice); 130 a second Ctrl-C abandoned the fleet.\n"
        "\n"
        "Examples:\n"
        "  pktcap fleet --provider \"$AZURE_WATCHER_URI\" --targets vms.txt \\\n"
        "      --option storage_id=\"$STORAGE_ACCOUNT_ID\" --duration 60 --fetch-dir caps\n"
        "  pktcap fleet --provider 'sdwan://10.1.1.1?ca_file=appliance.pem' \\\n"
        "      --targets interfaces.txt --duration 10 --fetch-dir wan --json\n"
        "  az vm list --query '[].id' -o tsv | pktcap fleet --provider \"$W\" \\\n"
        "      --targets - --option storage_id=\"$ACCT\" --report fleet.json\n",
    .run = run_fleet,
};
