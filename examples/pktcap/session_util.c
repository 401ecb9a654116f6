/* pktcap: what the provider and session commands share — opening providers
 * and storage targets, --verbose tracing with secrets redacted, and the
 * parsers of counts and durations. */
#include "cli.h"
#include "output.h"

#include <pktcap/pktcap.h>
#include <pktcap/session.h>

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int cli_verbose;

int64_t cli_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Appends n bytes of s to buf (size `size`, `*used` so far), always leaving
 * it NUL-terminated. */
static void append(char *buf, size_t size, size_t *used, const char *s, size_t n)
{
    if (*used + 1 >= size)
        return;
    if (n > size - 1 - *used)
        n = size - 1 - *used;
    memcpy(buf + *used, s, n);
    *used += n;
    buf[*used] = '\0';
}

void cli_redact_uri(char *buf, size_t size, const char *uri)
{
    size_t used = 0;
    const char *p = uri, *query, *authority, *end;
    if (size == 0)
        return;
    buf[0] = '\0';
    /* A password in "scheme://user:password@host". */
    authority = strstr(uri, "://");
    query = strchr(uri, '?');
    if (authority && (!query || authority < query)) {
        const char *start = authority + 3;
        const char *stop = start + strcspn(start, "/?#");
        const char *at = memchr(start, '@', (size_t)(stop - start));
        const char *colon = at ? memchr(start, ':', (size_t)(at - start)) : NULL;
        if (colon) {
            append(buf, size, &used, uri, (size_t)(colon + 1 - uri));
            append(buf, size, &used, "***", 3);
            p = at;
        }
    }
    if (!query) {
        append(buf, size, &used, p, strlen(p));
        return;
    }
    /* Every query value: "?key=***&flag&key2=***#fragment". */
    append(buf, size, &used, p, (size_t)(query + 1 - p));
    p = query + 1;
    end = p + strcspn(p, "#");
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *item_end = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(item_end - p));
        if (eq) {
            append(buf, size, &used, p, (size_t)(eq + 1 - p));
            append(buf, size, &used, "***", 3);
        } else {
            append(buf, size, &used, p, (size_t)(item_end - p));
        }
        if (amp)
            append(buf, size, &used, "&", 1);
        p = amp ? amp + 1 : end;
    }
    append(buf, size, &used, end, strlen(end));
}

static void vnote(const char *fmt, va_list ap)
{
    char line[1024];
    vsnprintf(line, sizeof line, fmt, ap);
    fprintf(stderr, "pktcap: %s\n", line);
}

void cli_note(const char *fmt, ...)
{
    va_list ap;
    if (!cli_verbose)
        return;
    va_start(ap, fmt);
    vnote(fmt, ap);
    va_end(ap);
}

int cli_trace(int rc, int64_t start_us, const char *fmt, ...)
{
    char call[768];
    va_list ap;
    if (!cli_verbose)
        return rc;
    double ms = (double)(cli_now_us() - start_us) / 1000.0;
    va_start(ap, fmt);
    vsnprintf(call, sizeof call, fmt, ap);
    va_end(ap);
    if (rc >= 0)
        fprintf(stderr, "pktcap: %s -> %d (%.1f ms)\n", call, rc, ms);
    else
        fprintf(stderr, "pktcap: %s -> %s: %s (%.1f ms)\n", call, pktcap_error_name(rc),
                pktcap_error_message(pktcap_error_last()), ms);
    return rc;
}

/* --verbose: the library's own log (HTTP requests, retries, polling; it
 * never holds secrets). */
static void on_log(int level, const char *message, void *userdata)
{
    static const char *const names[] = { "error", "warn", "info", "debug" };
    (void)userdata;
    fprintf(stderr, "pktcap: [%s] %s\n", level >= 0 && level <= 3 ? names[level] : "?", message);
}

int cli_open_provider(pktcap_provider **out, const char *uri)
{
    char shown[512];
    int rc;
    cli_redact_uri(shown, sizeof shown, uri);
    CLI_CALL(rc, pktcap_provider_open(out, uri), "pktcap_provider_open(\"%s\")", shown);
    if (rc < 0) {
        char what[600];
        snprintf(what, sizeof what, "provider \"%s\"", shown);
        return cli_library_error(what, rc);
    }
    if (cli_verbose) {
        cli_note("provider kind \"%s\", capabilities 0x%x", pktcap_provider_kind(*out),
                 (unsigned)pktcap_provider_caps(*out));
        pktcap_provider_set_log_callback(*out, cli_verbose > 1 ? PKTCAP_LOG_DEBUG : PKTCAP_LOG_INFO,
                                         on_log, NULL);
    }
    return CLI_OK;
}

/* ---- fetch with a progress bar ----------------------------------------------- */

struct progress {
    int64_t t0_us, last_us;
    int drawn;
};

static void human_bytes(char *buf, size_t size, double bytes)
{
    static const char *const units[] = { "B", "kB", "MB", "GB", "TB" };
    int u = 0;
    while (bytes >= 1000.0 && u < 4) {
        bytes /= 1000.0;
        u++;
    }
    snprintf(buf, size, u ? "%.1f %s" : "%.0f %s", bytes, units[u]);
}

/* Redraws "fetch [#####     ] 45%  12.3 MB of 27.0 MB  4.1 MB/s  ETA 4 s" at
 * most every 100 ms, on a terminal only. */
static int on_progress(uint64_t done, uint64_t total, void *userdata)
{
    struct progress *pg = userdata;
    int64_t now = cli_now_us();
    char have[32], all[32], rate[32], bar[33];
    double seconds, per_s;
    if (pg->drawn && now - pg->last_us < 100000 && (total == 0 || done < total))
        return 0;
    pg->last_us = now;
    pg->drawn = 1;
    seconds = (double)(now - pg->t0_us) / 1e6;
    per_s = seconds > 0 ? (double)done / seconds : 0;
    human_bytes(have, sizeof have, (double)done);
    human_bytes(rate, sizeof rate, per_s);
    if (total) {
        int filled = (int)((double)done * 32 / (double)total), i;
        for (i = 0; i < 32; i++)
            bar[i] = i < filled ? '#' : ' ';
        bar[32] = '\0';
        human_bytes(all, sizeof all, (double)total);
        fprintf(stderr, "\r\033[Kfetch [%s] %3d%%  %s of %s  %s/s", bar,
                (int)((double)done * 100 / (double)total), have, all, rate);
        if (per_s > 0 && done < total)
            fprintf(stderr, "  ETA %.0f s", (double)(total - done) / per_s);
    } else {
        fprintf(stderr, "\r\033[Kfetch %s  %s/s", have, rate);
    }
    fflush(stderr);
    return 0;
}

void cli_stat_text(char *buf, size_t size, const pktcap_session *s, int stat)
{
    if (pktcap_session_stat_known(s, stat) == 1)
        snprintf(buf, size, "%llu", (unsigned long long)pktcap_session_stat(s, stat));
    else
        snprintf(buf, size, "unknown");
}

void cli_status_line(char *buf, size_t size, const pktcap_session *s, const char *target,
                     int64_t waited_us)
{
    static const struct {
        int stat;
        const char *unit;
    } counts[] = {
        { PKTCAP_STAT_PACKETS, "packets" },
        { PKTCAP_STAT_BYTES, "bytes" },
        { PKTCAP_STAT_DROPPED, "dropped" },
        { PKTCAP_STAT_IF_DROPPED, "if-dropped" },
    };
    const char *native = pktcap_session_native_status(s);
    size_t used;
    int n = snprintf(buf, size, "%s: %s", target, pktcap_state_name(pktcap_session_state(s)));
    used = n < 0 ? 0 : (size_t)n;
    if (native && *native && used < size)
        used += (size_t)snprintf(buf + used, size - used, " (%s)", native);
    for (size_t i = 0; i < sizeof counts / sizeof counts[0] && used < size; i++)
        if (pktcap_session_stat_known(s, counts[i].stat) == 1)
            used += (size_t)snprintf(buf + used, size - used, ", %llu %s",
                                     (unsigned long long)pktcap_session_stat(s, counts[i].stat),
                                     counts[i].unit);
    if (used >= size)
        return;
    if (pktcap_session_stat_known(s, PKTCAP_STAT_ELAPSED_MS) == 1) {
        uint64_t ms = pktcap_session_stat(s, PKTCAP_STAT_ELAPSED_MS);
        snprintf(buf + used, size - used, ", %llu.%llu s", (unsigned long long)(ms / 1000),
                 (unsigned long long)(ms % 1000 / 100));
    } else {
        snprintf(buf + used, size - used, ", waiting %lld s", (long long)(waited_us / 1000000));
    }
}

int cli_wait_session(pktcap_session *s, const char *target)
{
    int tty = isatty(STDERR_FILENO), drawn = 0, rc;
    int64_t t0 = cli_now_us();
    char line[256];
    while ((rc = pktcap_session_wait(s, CLI_STATUS_INTERVAL_MS)) == PKTCAP_E_TIMEOUT) {
        if (!tty)
            continue;
        cli_status_line(line, sizeof line, s, target, cli_now_us() - t0);
        fprintf(stderr, "\r%s\033[K", line);
        fflush(stderr);
        drawn = 1;
    }
    if (drawn)
        fputs("\r\033[K", stderr);
    return rc;
}

int cli_print_session_json(FILE *out, const pktcap_session *s)
{
    char *details = NULL;
    int rc = pktcap_session_details(&details, s);
    if (rc < 0)
        return cli_library_error("--json", rc);
    fputs(details, out);
    pktcap_free(details);
    return CLI_OK;
}

void cli_print_files_json(FILE *out, const pktcap_storage *st, const char *uri)
{
    size_t n = st ? pktcap_storage_file_count(st) : 0;
    char shown[512];
    fputc('[', out);
    for (size_t i = 0; i < n; i++) {
        if (i)
            fputs(", ", out);
        out_json_string(out, pktcap_storage_file_path(st, i));
    }
    if (n == 0 && uri) {
        /* A target that names no local file (a bucket object): its URI, redacted. */
        cli_redact_uri(shown, sizeof shown, uri);
        out_json_string(out, shown);
    }
    fputc(']', out);
}

int cli_fetch(pktcap_session *s, const char *uri, const char *what, pktcap_storage **fetched)
{
    pktcap_storage *st = NULL;
    struct progress pg = { cli_now_us(), 0, 0 };
    char shown[512];
    int rc, status = cli_open_storage(&st, uri);
    if (status != CLI_OK)
        return status;
    cli_redact_uri(shown, sizeof shown, uri);
    if (isatty(STDERR_FILENO))
        pktcap_session_set_progress_callback(s, on_progress, &pg);
    CLI_CALL(rc, pktcap_session_fetch(s, st), "pktcap_session_fetch(\"%s\", \"%s\")",
             pktcap_session_name(s), shown);
    pktcap_session_set_progress_callback(s, NULL, NULL);
    if (pg.drawn)
        fputs("\r\033[K", stderr);
    if (rc < 0) {
        status = cli_library_error(what, rc);
    } else {
        for (size_t i = 0; i < pktcap_storage_file_count(st); i++)
            fprintf(stderr, "  fetched to   %s\n", pktcap_storage_file_path(st, i));
        if (pktcap_storage_file_count(st) == 0)
            fprintf(stderr, "  fetched to   %s\n", shown);
        if (fetched) {
            *fetched = st;   /* the caller lists the files */
            st = NULL;
        }
    }
    pktcap_storage_free(st);
    return status;
}

int cli_open_storage(pktcap_storage **out, const char *uri)
{
    char shown[512];
    int rc;
    cli_redact_uri(shown, sizeof shown, uri);
    CLI_CALL(rc, pktcap_storage_open(out, uri), "pktcap_storage_open(\"%s\")", shown);
    if (rc < 0)
        return cli_library_error(shown, rc);
    return CLI_OK;
}

int cli_parse_count(const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
    static const struct {
        const char *suffix;
        uint64_t factor;
    } units[] = {
        { "", 1 },
        { "k", 1000ULL }, { "M", 1000000ULL }, { "G", 1000000000ULL },
        { "T", 1000000000000ULL },
        { "Ki", 1ULL << 10 }, { "Mi", 1ULL << 20 }, { "Gi", 1ULL << 30 }, { "Ti", 1ULL << 40 },
    };
    uint64_t value = 0;
    const char *p = text;
    if (*p < '0' || *p > '9')
        return -1;
    for (; *p >= '0' && *p <= '9'; p++) {
        uint64_t digit = (uint64_t)(*p - '0');
        if (value > (UINT64_MAX - digit) / 10)
            return -1;
        value = value * 10 + digit;
    }
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(p, units[i].suffix) != 0)
            continue;
        if (value > UINT64_MAX / units[i].factor)
            return -1;
        value *= units[i].factor;
        if (value < min || value > max)
            return -1;
        *out = value;
        return 0;
    }
    return -1;
}

int cli_parse_duration(const char *text, uint64_t *ms)
{
    static const struct {
        const char *suffix;
        double factor; /* milliseconds per unit */
    } units[] = {
        { "", 1000.0 }, { "s", 1000.0 }, { "ms", 1.0 }, { "m", 60000.0 }, { "h", 3600000.0 },
    };
    const char *p = text;
    int digits = 0, dots = 0;
    for (; (*p >= '0' && *p <= '9') || *p == '.'; p++) {
        if (*p == '.')
            dots++;
        else
            digits++;
    }
    if (digits == 0 || dots > 1)
        return -1;
    errno = 0;
    double value = strtod(text, NULL);  /* only digits and one dot: no exponent, hex, inf */
    if (errno != 0)
        return -1;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(p, units[i].suffix) != 0)
            continue;
        double total = value * units[i].factor + 0.5;  /* rounded below */
        if (total < 1.0 || total > 9.0e15)
            return -1;
        *ms = (uint64_t)total;  /* truncation of x + 0.5: rounding */
        return 0;
    }
    return -1;
}

/* ---- the capture settings of `capture` and `fleet` ---------------------------- */

int cli_settings_option(const char *command, struct cli_settings *cs, int c, const char *arg)
{
    switch (c) {
    case CLI_OPT_FILTER:
        cs->rules = arg;
        return 1;
    case CLI_OPT_BPF:
        cs->bpf = arg;
        return 1;
    case CLI_OPT_DURATION:
        if (cli_parse_duration(arg, &cs->duration_ms) < 0)
            return cli_usage_error(command, "--duration takes seconds (e.g. 10, 0.5) or a "
                                   "number with ms, s, m or h, at least 1 ms; not '%s'", arg);
        return 1;
    case CLI_OPT_PACKETS:
    case CLI_OPT_BYTES:
        if (cli_parse_count(arg, 1, UINT64_MAX, c == CLI_OPT_PACKETS ? &cs->packets
                                                                     : &cs->bytes) < 0)
            return cli_usage_error(command, "%s takes a positive number, optionally with "
                                   "k, M, G, T, Ki, Mi, Gi or Ti; not '%s'",
                                   c == CLI_OPT_PACKETS ? "--packets" : "--bytes", arg);
        return 1;
    case CLI_OPT_SNAPLEN:
        if (cli_parse_count(arg, 1, UINT32_MAX, &cs->snaplen) < 0)
            return cli_usage_error(command, "--snaplen takes a number of bytes from 1 to "
                                   "4294967295; not '%s'", arg);
        return 1;
    case CLI_OPT_OPTION:
        if (!strchr(arg, '=') || arg[0] == '=')
            return cli_usage_error(command, "--option takes KEY=VALUE, not '%s'", arg);
        cs->options[cs->noptions++] = (char *)arg;
        return 1;
    default:
        return 0;
    }
}

/* pktcap_session_set_snaplen with the others' signature (the value was
 * checked to fit 32 bits). */
static int set_snaplen(pktcap_session *s, uint64_t bytes)
{
    return pktcap_session_set_snaplen(s, (uint32_t)bytes);
}

int cli_configure_session(pktcap_session *s, const char *target, const pktcap_filter *f,
                          const struct cli_settings *cs, char *what, size_t what_size)
{
    const char *name = pktcap_session_name(s);
    int rc;
    snprintf(what, what_size, "--target");
    CLI_CALL(rc, pktcap_session_set_target(s, target), "pktcap_session_set_target(\"%s\", \"%s\")",
             name, target);
    if (rc < 0)
        return rc;
    if (f) {
        snprintf(what, what_size, "%s", cs->bpf ? "--bpf" : "--filter");
        CLI_CALL(rc, pktcap_session_set_filter(s, f), "pktcap_session_set_filter(\"%s\", %s%s)",
                 name, cs->bpf ? "bpf:" : "", cs->bpf ? cs->bpf : cs->rules);
        if (rc < 0)
            return rc;
    }
    const struct {
        uint64_t value;   /* 0: not given */
        int (*set)(pktcap_session *, uint64_t);
        const char *call, *option;
    } numbers[] = {
        { cs->snaplen, set_snaplen, "pktcap_session_set_snaplen", "--snaplen" },
        { cs->packets, pktcap_session_set_packet_limit, "pktcap_session_set_packet_limit",
          "--packets" },
        { cs->bytes, pktcap_session_set_byte_limit, "pktcap_session_set_byte_limit", "--bytes" },
        { cs->duration_ms, pktcap_session_set_time_limit, "pktcap_session_set_time_limit",
          "--duration" },
    };
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
        if (!numbers[i].value)
            continue;
        snprintf(what, what_size, "%s", numbers[i].option);
        CLI_CALL(rc, numbers[i].set(s, numbers[i].value), "%s(\"%s\", %llu)", numbers[i].call,
                 name, (unsigned long long)numbers[i].value);
        if (rc < 0)
            return rc;
    }
    for (int i = 0; i < cs->noptions; i++) {
        char key[128];
        const char *eq = strchr(cs->options[i], '=');
        size_t n = (size_t)(eq - cs->options[i]);
        if (n >= sizeof key)
            n = sizeof key - 1;
        memcpy(key, cs->options[i], n);
        key[n] = '\0';
        snprintf(what, what_size, "--option %s", key);
        CLI_CALL(rc, pktcap_session_set(s, key, eq + 1), "pktcap_session_set(\"%s\", \"%s\", ***)",
                 name, key);
        if (rc < 0)
            return rc;
    }
    return 0;
}
