/* The pktcap command-line tool: shared declarations of its commands. */
#ifndef PKTCAP_CLI_H
#define PKTCAP_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit statuses, documented in doc/pktcap.1.md. */
enum {
    CLI_OK = 0,      /* the command did what was asked */
    CLI_FAILED = 1,  /* a libpktcap call failed; the message says why */
    CLI_USAGE = 2,   /* the command line is wrong; nothing was done */
};

struct cli_command {
    const char *name;
    const char *summary; /* one line for `pktcap help` */
    const char *usage;   /* full help text for `pktcap help NAME` and `NAME --help` */
    int (*run)(int argc, char **argv);
};

/* Prints "pktcap: <message>" and returns CLI_USAGE. */
int cli_usage_error(const char *command, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints the library's last error for a failed call and returns CLI_FAILED. */
int cli_library_error(const char *what, int rc);

/* True when argv[1] asks for help; prints the command's usage then. */
int cli_wants_help(const struct cli_command *cmd, int argc, char **argv);

struct pktcap_filter;

/* Makes a filter from the one-line syntax `rules`, or from the raw BPF
 * expression `bpf` when that is not NULL; on failure prints the library's
 * message and returns CLI_FAILED (cmd_filter.c). */
int cli_make_filter(struct pktcap_filter **out, const char *rules, const char *bpf);

/* ---- providers and sessions (session_util.c) ---- */

/* The capture settings `capture` and `fleet` share: --filter, --bpf,
 * --duration, --packets, --bytes, --snaplen and --option, with getopt codes
 * of their own (above any command's) and CLI_SETTINGS_OPTIONS for the table. */
enum {
    CLI_OPT_FILTER = 1000, CLI_OPT_BPF, CLI_OPT_DURATION, CLI_OPT_PACKETS, CLI_OPT_BYTES,
    CLI_OPT_SNAPLEN, CLI_OPT_OPTION,
};
#define CLI_SETTINGS_OPTIONS                                          \
    { "filter", required_argument, NULL, CLI_OPT_FILTER },            \
    { "bpf", required_argument, NULL, CLI_OPT_BPF },                  \
    { "duration", required_argument, NULL, CLI_OPT_DURATION },        \
    { "packets", required_argument, NULL, CLI_OPT_PACKETS },          \
    { "bytes", required_argument, NULL, CLI_OPT_BYTES },              \
    { "snaplen", required_argument, NULL, CLI_OPT_SNAPLEN },          \
    { "option", required_argument, NULL, CLI_OPT_OPTION }

struct cli_settings {
    const char *rules, *bpf;              /* --filter, --bpf */
    uint64_t duration_ms, packets, bytes, snaplen;   /* 0: not given */
    char **options;                       /* KEY=VALUE, in order (room for argc) */
    int noptions;
};

/* Takes getopt's code `c` with `arg` when it is one of the settings: 1, or
 * CLI_USAGE (message printed) for a bad value; 0 when `c` is another option. */
int cli_settings_option(const char *command, struct cli_settings *cs, int c, const char *arg);

struct pktcap_session;

/* Applies a target and the settings to a NEW session (filter `f` made from
 * them, or NULL): 0, or the failed call's code with `what` naming the
 * option ("--target", "--filter", "--option KEY", ...). Values of --option
 * may be secrets: only their keys are logged. */
int cli_configure_session(struct pktcap_session *s, const char *target,
                          const struct pktcap_filter *f, const struct cli_settings *cs,
                          char *what, size_t what_size);

struct pktcap_provider;
struct pktcap_storage;

/* The provider commands use when --provider is not given. */
#define CLI_DEFAULT_PROVIDER "local:"

/* Set by --verbose (1; -vv: 2): every library call of the provider and
 * session commands is logged to stderr (cli_trace), URIs with their secrets
 * redacted, and the library's own log (INFO; -vv: DEBUG) goes there too. */
extern int cli_verbose;

/* Microseconds of the monotonic clock. */
int64_t cli_now_us(void);

/* Writes `uri` into buf with every query value, and a password in the
 * authority, replaced by "***" (always NUL-terminated). */
void cli_redact_uri(char *buf, size_t size, const char *uri);

/* With --verbose: logs "pktcap: CALL -> 0 (1.2 ms)" or the error code and
 * the library's message, for a call made at `start_us`. Returns rc. */
int cli_trace(int rc, int64_t start_us, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* With --verbose: logs "pktcap: MESSAGE". */
void cli_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Runs `call` (an int-returning library call) into rc, logging it. */
#define CLI_CALL(rc, call, ...)                                                    \
    do {                                                                           \
        int64_t cli_t0_ = cli_now_us();                                            \
        (rc) = (call);                                                             \
        cli_trace((rc), cli_t0_, __VA_ARGS__);                                     \
    } while (0)

/* Opens a provider (logged); on failure prints the library's message and
 * returns CLI_FAILED. */
int cli_open_provider(struct pktcap_provider **out, const char *uri);

/* Opens a storage target (a path or a URI; logged); on failure prints the
 * library's message and returns CLI_FAILED. */
int cli_open_storage(struct pktcap_storage **out, const char *uri);

struct pktcap_session;

/* Fetches a session's result into `uri` (a path or storage URI), with a
 * progress bar when stderr is a terminal, and reports where it went;
 * `what` names the step in an error message. With `fetched`, the storage
 * target is handed over on success (the caller lists its files, then frees
 * it). Returns a CLI_* status. */
int cli_fetch(struct pktcap_session *s, const char *uri, const char *what,
              struct pktcap_storage **fetched);

/* How often the status line of a wait is redrawn. */
#define CLI_STATUS_INTERVAL_MS 250

/* A statistic as text: its value, or "unknown" when the provider does not
 * report it (pktcap_session_stat_known()). */
void cli_stat_text(char *buf, size_t size, const struct pktcap_session *s, int stat);

/* The one-line status of a session followed on a terminal: "T: STATE
 * (native status), N packets, N bytes, N dropped, N if-dropped, S s" with
 * only the statistics the provider reports, and "waiting S s" (from
 * `waited_us`) while it has not been seen running. */
void cli_status_line(char *buf, size_t size, const struct pktcap_session *s, const char *target,
                     int64_t waited_us);

/* Waits until the session has ended, with the status line on stderr when it
 * is a terminal. Returns pktcap_session_wait()'s 0 or error code. */
int cli_wait_session(struct pktcap_session *s, const char *target);

/* --json: writes pktcap_session_details() (no newline); CLI_* status. */
int cli_print_session_json(FILE *out, const struct pktcap_session *s);

/* --json: writes a JSON array of the files of `st` (NULL: none), or of `uri`
 * redacted when the target names no local file. */
void cli_print_files_json(FILE *out, const struct pktcap_storage *st, const char *uri);

/* A count with an optional unit: k, M, G, T (powers of 1000) or Ki, Mi,
 * Gi, Ti (powers of 1024), at least `min`, at most `max`. 0 or -1. */
int cli_parse_count(const char *text, uint64_t min, uint64_t max, uint64_t *out);

/* A duration: seconds with an optional fraction ("0.5"), or a number with
 * a unit ms, s, m or h; rounded to milliseconds, at least 1 ms. 0 or -1. */
int cli_parse_duration(const char *text, uint64_t *ms);

extern const struct cli_command cli_cmd_version;
extern const struct cli_command cli_cmd_info;
extern const struct cli_command cli_cmd_convert;
extern const struct cli_command cli_cmd_summary;
extern const struct cli_command cli_cmd_filter;
extern const struct cli_command cli_cmd_capture;
extern const struct cli_command cli_cmd_sessions;
extern const struct cli_command cli_cmd_status;
extern const struct cli_command cli_cmd_stop;
extern const struct cli_command cli_cmd_delete;
extern const struct cli_command cli_cmd_fetch;
extern const struct cli_command cli_cmd_interfaces;
extern const struct cli_command cli_cmd_cloudflare;
extern const struct cli_command cli_cmd_fleet;

#endif
