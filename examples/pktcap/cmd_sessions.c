/* pktcap sessions, status, stop, delete, fetch, interfaces: the commands that
 * look at a provider and at sessions it already has. They serve providers
 * whose sessions outlive the process that made them (remote APIs); the
 * local provider's sessions live only inside one `pktcap capture`, so there
 * `sessions` lists nothing and the others report PKTCAP_E_NOTSUP. */
#include "cli.h"
#include "output.h"

#include <pktcap/pktcap.h>
#include <pktcap/session.h>

#include <getopt.h>
#include <string.h>

enum { OPT_PROVIDER = 256, OPT_JSON, OPT_VERBOSE, OPT_STORAGE, OPT_WAIT };

struct session_args {
    const char *provider;
    const char *name;      /* the session NAME (or id) argument */
    const char *output;    /* fetch: -w FILE or --storage URI */
    int json, wait;
};

/* Parses the options a command accepts (`flags`: which of --json, -w /
 * --storage, --wait) and its NAME argument when `wants_name`. Returns
 * CLI_OK, CLI_USAGE, or -1 after printing --help. */
enum { ACCEPT_JSON = 1, ACCEPT_OUTPUT = 2, ACCEPT_WAIT = 4 };

static int parse_args(struct session_args *a, const struct cli_command *cmd, int accept,
                      int wants_name, int argc, char **argv)
{
    static const struct option options[] = {
        { "provider", required_argument, NULL, OPT_PROVIDER },
        { "json", no_argument, NULL, OPT_JSON },
        { "verbose", no_argument, NULL, OPT_VERBOSE },
        { "write", required_argument, NULL, 'w' },
        { "storage", required_argument, NULL, OPT_STORAGE },
        { "wait", no_argument, NULL, OPT_WAIT },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *name = cmd->name;
    int c;
    memset(a, 0, sizeof *a);
    a->provider = CLI_DEFAULT_PROVIDER;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":w:hv", options, NULL)) != -1) {
        switch (c) {
        case OPT_PROVIDER:
            a->provider = optarg;
            break;
        case 'v':
        case OPT_VERBOSE:
            cli_verbose++;
            break;
        case OPT_JSON:
            if (!(accept & ACCEPT_JSON))
                return cli_usage_error(name, "unknown option '--json'");
            a->json = 1;
            break;
        case OPT_WAIT:
            if (!(accept & ACCEPT_WAIT))
                return cli_usage_error(name, "unknown option '--wait'");
            a->wait = 1;
            break;
        case 'w':
        case OPT_STORAGE:
            if (!(accept & ACCEPT_OUTPUT))
                return cli_usage_error(name, "unknown option '%s'",
                                       c == 'w' ? "-w" : "--storage");
            if (a->output)
                return cli_usage_error(name, "give one of -w FILE and --storage URI");
            a->output = optarg;
            break;
        case 'h':
            fputs(cmd->usage, stdout);
            return -1;
        case ':':
            return cli_usage_error(name, "option '%s' needs a value", argv[optind - 1]);
        default:
            return cli_usage_error(name, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (wants_name) {
        if (optind >= argc)
            return cli_usage_error(name, "expected the session NAME (as 'pktcap sessions' "
                                   "lists it)");
        a->name = argv[optind++];
    }
    if (optind < argc)
        return cli_usage_error(name, "unexpected argument '%s'", argv[optind]);
    if ((accept & ACCEPT_OUTPUT) && !a->output)
        return cli_usage_error(name, "expected -w FILE or --storage URI");
    if (a->json && a->output && strcmp(a->output, "-") == 0)
        return cli_usage_error(name, "--json and a capture on standard output ('-w -') both "
                               "write to standard output");
    return CLI_OK;
}

/* Opens the provider and the session NAME on it. */
static int open_session(pktcap_provider **p, pktcap_session **s, const struct session_args *a)
{
    int rc, status = cli_open_provider(p, a->provider);
    if (status != CLI_OK)
        return status;
    CLI_CALL(rc, pktcap_session_open(s, *p, a->name), "pktcap_session_open(\"%s\")", a->name);
    if (rc < 0) {
        char what[200];
        snprintf(what, sizeof what, "session \"%.150s\"", a->name);
        return cli_library_error(what, rc);
    }
    return CLI_OK;
}

/* What a listing command does with its open provider; returns a CLI_* status. */
typedef int (*provider_action)(pktcap_provider *p, const struct session_args *a);

/* Runs a listing command (--json accepted, no NAME): parses its arguments,
 * opens the provider, runs `action` on it and closes it. */
static int run_on_provider(const struct cli_command *cmd, provider_action action, int argc,
                           char **argv)
{
    struct session_args a;
    pktcap_provider *p = NULL;
    int status = parse_args(&a, cmd, ACCEPT_JSON, 0, argc, argv);
    if (status != CLI_OK)
        return status < 0 ? CLI_OK : status;
    if ((status = cli_open_provider(&p, a.provider)) != CLI_OK)
        return status;
    status = action(p, &a);
    pktcap_provider_close(p);
    return status;
}

/* What a command does with the session NAME; returns a CLI_* status. */
typedef int (*session_action)(pktcap_session *s, const struct session_args *a);

/* Runs a command on the session NAME: parses its arguments (`accept`: the
 * options it takes beyond --provider and --verbose), opens the provider and
 * the session, runs `action` on it and closes both. */
static int run_on_session(const struct cli_command *cmd, int accept, session_action action,
                          int argc, char **argv)
{
    struct session_args a;
    pktcap_provider *p = NULL;
    pktcap_session *s = NULL;
    int status = parse_args(&a, cmd, accept, 1, argc, argv);
    if (status != CLI_OK)
        return status < 0 ? CLI_OK : status;
    if ((status = open_session(&p, &s, &a)) == CLI_OK)
        status = action(s, &a);
    pktcap_session_free(s);
    pktcap_provider_close(p);
    return status;
}

/* ---- sessions ------------------------------------------------------------- */

static int list_sessions(pktcap_provider *p, const struct session_args *a)
{
    pktcap_session_list *list = NULL;
    int rc;
    CLI_CALL(rc, pktcap_provider_list_sessions(&list, p), "pktcap_provider_list_sessions()");
    if (rc < 0)
        return cli_library_error("sessions", rc);
    size_t n = pktcap_session_list_count(list);
    if (a->json) {
        fputc('[', stdout);
        for (size_t i = 0; i < n; i++) {
            fputs(i ? ",\n {\"name\": " : "\n {\"name\": ", stdout);
            out_json_string(stdout, pktcap_session_list_name(list, i));
            fputs(", \"id\": ", stdout);
            out_json_string(stdout, pktcap_session_list_id(list, i));
            fputs(", \"state\": ", stdout);
            out_json_string(stdout, pktcap_state_name(pktcap_session_list_state(list, i)));
            fputs(", \"native_status\": ", stdout);
            out_json_string(stdout, pktcap_session_list_native_status(list, i));
            fputc('}', stdout);
        }
        fputs(n ? "\n]\n" : "]\n", stdout);
    } else {
        printf("%-30s %-30s %-10s %s\n", "NAME", "ID", "STATE", "STATUS");
        for (size_t i = 0; i < n; i++)
            printf("%-30s %-30s %-10s %s\n", pktcap_session_list_name(list, i),
                   pktcap_session_list_id(list, i),
                   pktcap_state_name(pktcap_session_list_state(list, i)),
                   pktcap_session_list_native_status(list, i));
    }
    pktcap_session_list_free(list);
    return CLI_OK;
}

static int run_sessions(int argc, char **argv)
{
    return run_on_provider(&cli_cmd_sessions, list_sessions, argc, argv);
}

/* ---- status --------------------------------------------------------------- */

static const struct {
    int stat;
    const char *label;
} stats[] = {
    { PKTCAP_STAT_PACKETS, "packets" },
    { PKTCAP_STAT_BYTES, "bytes" },
    { PKTCAP_STAT_WIRE_BYTES, "wire bytes" },
    { PKTCAP_STAT_DROPPED, "dropped" },
    { PKTCAP_STAT_IF_DROPPED, "if-dropped" },
    { PKTCAP_STAT_ELAPSED_MS, "elapsed ms" },
};

static int print_status(const pktcap_session *s, int json)
{
    const struct {
        const char *label, *value;
    } texts[] = {
        { "name", pktcap_session_name(s) },
        { "id", pktcap_session_id(s) },
        { "state", pktcap_state_name(pktcap_session_state(s)) },
        { "native status", pktcap_session_native_status(s) },
        { "stop reason", pktcap_session_stop_reason(s) },
        { "error", pktcap_session_error_text(s) },
    };
    size_t i;
    if (json) {
        /* Everything the library knows, the provider's own view included. */
        int status = cli_print_session_json(stdout, s);
        if (status == CLI_OK)
            fputc('\n', stdout);
        return status;
    }
    for (i = 0; i < sizeof texts / sizeof texts[0]; i++)
        printf("%-14s %s\n", texts[i].label, texts[i].value ? texts[i].value : "");
    for (i = 0; i < sizeof stats / sizeof stats[0]; i++) {
        char value[32];
        cli_stat_text(value, sizeof value, s, stats[i].stat);
        printf("%-14s %s\n", stats[i].label, value);
    }
    return CLI_OK;
}

static int show_status(pktcap_session *s, const struct session_args *a)
{
    int rc;
    if (pktcap_session_state(s) != PKTCAP_STATE_NEW) {
        CLI_CALL(rc, pktcap_session_refresh(s), "pktcap_session_refresh(\"%s\")", a->name);
        if (rc < 0)
            return cli_library_error("status", rc);
    }
    return print_status(s, a->json);
}

static int run_status(int argc, char **argv)
{
    return run_on_session(&cli_cmd_status, ACCEPT_JSON, show_status, argc, argv);
}

/* ---- stop, delete, fetch -------------------------------------------------- */

/* --json of delete and fetch: `{"name": ..., "id": ..., ` then `rest`. */
static void print_identity_json(const pktcap_session *s, const char *rest)
{
    fputs("{\"name\": ", stdout);
    out_json_string(stdout, pktcap_session_name(s));
    fputs(", \"id\": ", stdout);
    out_json_string(stdout, pktcap_session_id(s));
    fputs(", ", stdout);
    fputs(rest, stdout);
}

static int stop_session(pktcap_session *s, const struct session_args *a)
{
    int rc;
    CLI_CALL(rc, pktcap_session_stop(s), "pktcap_session_stop(\"%s\")", a->name);
    if (rc == 0 && a->wait)
        CLI_CALL(rc, cli_wait_session(s, a->name), "pktcap_session_wait(\"%s\") until it ends",
                 a->name);
    if (rc < 0)
        return cli_library_error("stop", rc);
    fprintf(stderr, "pktcap: session \"%s\" is %s\n", pktcap_session_name(s),
            pktcap_state_name(pktcap_session_state(s)));
    if (a->json) {
        int status = cli_print_session_json(stdout, s);
        if (status == CLI_OK)
            fputc('\n', stdout);
        return status;
    }
    return CLI_OK;
}

static int run_stop(int argc, char **argv)
{
    return run_on_session(&cli_cmd_stop, ACCEPT_WAIT | ACCEPT_JSON, stop_session, argc, argv);
}

static int delete_session(pktcap_session *s, const struct session_args *a)
{
    int rc;
    CLI_CALL(rc, pktcap_session_delete(s), "pktcap_session_delete(\"%s\")", a->name);
    if (rc < 0)
        return cli_library_error("delete", rc);
    fprintf(stderr, "pktcap: session \"%s\" deleted\n", pktcap_session_name(s));
    if (a->json)
        print_identity_json(s, "\"deleted\": true}\n");
    return CLI_OK;
}

static int run_delete(int argc, char **argv)
{
    return run_on_session(&cli_cmd_delete, ACCEPT_JSON, delete_session, argc, argv);
}

static int fetch_session(pktcap_session *s, const struct session_args *a)
{
    pktcap_storage *fetched = NULL;
    int status = cli_fetch(s, a->output, "fetch", a->json ? &fetched : NULL);
    if (status == CLI_OK && a->json) {
        print_identity_json(s, "\"files\": ");
        cli_print_files_json(stdout, fetched, a->output);
        fputs("}\n", stdout);
    }
    pktcap_storage_free(fetched);
    return status;
}

static int run_fetch(int argc, char **argv)
{
    return run_on_session(&cli_cmd_fetch, ACCEPT_OUTPUT | ACCEPT_JSON, fetch_session, argc,
                          argv);
}

/* ---- interfaces ----------------------------------------------------------- */

static int list_targets(pktcap_provider *p, const struct session_args *a)
{
    static const struct {
        uint32_t bit;
        const char *name;
    } flag_names[] = {
        { PKTCAP_TARGET_UP, "up" },
        { PKTCAP_TARGET_RUNNING, "running" },
        { PKTCAP_TARGET_LOOPBACK, "loopback" },
    };
    pktcap_target_list *list = NULL;
    int rc;
    CLI_CALL(rc, pktcap_provider_list_targets(&list, p), "pktcap_provider_list_targets()");
    if (rc < 0)
        return cli_library_error("interfaces", rc);
    size_t n = pktcap_target_list_count(list), width = 4;
    for (size_t i = 0; i < n; i++)
        if (strlen(pktcap_target_list_name(list, i)) > width)
            width = strlen(pktcap_target_list_name(list, i));
    if (a->json)
        fputc('[', stdout);
    else
        printf("%-*s %-21s %s\n", (int)width, "NAME", "FLAGS", "DESCRIPTION");
    for (size_t i = 0; i < n; i++) {
        uint32_t flags = pktcap_target_list_flags(list, i);
        const char *name = pktcap_target_list_name(list, i);
        const char *description = pktcap_target_list_description(list, i);
        if (a->json) {
            fputs(i ? ",\n {\"name\": " : "\n {\"name\": ", stdout);
            out_json_string(stdout, name);
            fputs(", \"description\": ", stdout);
            out_json_string(stdout, description);
            fputs(", \"flags\": [", stdout);
            int first = 1;
            for (size_t k = 0; k < sizeof flag_names / sizeof flag_names[0]; k++)
                if (flags & flag_names[k].bit) {
                    printf("%s\"%s\"", first ? "" : ", ", flag_names[k].name);
                    first = 0;
                }
            fputs("]}", stdout);
            continue;
        }
        char text[64] = "";
        for (size_t k = 0; k < sizeof flag_names / sizeof flag_names[0]; k++)
            if (flags & flag_names[k].bit) {
                if (*text)
                    strcat(text, ",");
                strcat(text, flag_names[k].name);
            }
        printf("%-*s %-21s %s\n", (int)width, name, *text ? text : "-", description);
    }
    if (a->json)
        fputs(n ? "\n]\n" : "]\n", stdout);
    pktcap_target_list_free(list);
    return CLI_OK;
}

static int run_interfaces(int argc, char **argv)
{
    return run_on_provider(&cli_cmd_interfaces, list_targets, argc, argv);
}

/* ---- the command table entries --------------------------------------------- */

#define PROVIDER_HELP                                                                    \
    "  --provider URI     the provider (default local:, whose sessions live only\n"      \
    "                     inside the 'pktcap capture' that made them)\n"                 \
    "  -v, --verbose      log every library call on stderr, URI secrets redacted\n"

#define LOCAL_NOTE                                                                       \
    "The local provider cannot open a session made by another process: for\n"           \
    "local: this command prints the library's PKTCAP_E_NOTSUP message and exits\n"       \
    "with status 1. It serves providers whose sessions outlive pktcap.\n"

const struct cli_command cli_cmd_sessions = {
    .name = "sessions",
    .summary = "list a provider's capture sessions",
    .usage = "usage: pktcap sessions [--provider URI] [--json] [--verbose]\n"
             "\n"
             "Lists the provider's sessions: name, id, state (NEW, PENDING, RUNNING,\n"
             "STOPPING, PROCESSING, COMPLETE, STOPPED, FAILED) and the provider's own\n"
             "status. --json prints an array of objects with name, id, state and\n"
             "native_status. The local provider's sessions live only inside the\n"
             "'pktcap capture' that runs them, so for local: the list is empty (the\n"
             "header line, or [] with --json).\n"
             "\n" PROVIDER_HELP
             "  --json             print a JSON array instead of the table\n"
             "\n"
             "Exit status: 0 listed; 1 the provider failed; 2 usage error.\n"
             "\n"
             "Examples:\n"
             "  pktcap sessions --provider 'azure:///subscriptions/SUB/resourceGroups/RG/\\\n"
             "      providers/Microsoft.Network/networkWatchers/NW?cloud=public'\n"
             "  pktcap sessions --provider cloudflare://accounts/ACCOUNT_ID --json\n"
             "  pktcap sessions --provider sdwan://10.1.1.1 --json | jq -r '.[].name'\n",
    .run = run_sessions,
};

const struct cli_command cli_cmd_status = {
    .name = "status",
    .summary = "show a session's state and statistics",
    .usage = "usage: pktcap status [--provider URI] [--json] [--verbose] NAME\n"
             "\n"
             "Opens the session NAME (its name or id as 'pktcap sessions' lists it),\n"
             "asks the provider for its state and prints name, id, state, native\n"
             "status, stop reason, error and the statistics (packets, bytes, wire bytes,\n"
             "dropped, if-dropped, elapsed ms); --json prints them as one object.\n"
             "A statistic the provider does not report (Azure counts no packets)\n"
             "reads 'unknown', and null with --json.\n"
             "\n" LOCAL_NOTE "\n" PROVIDER_HELP
             "  --json             print pktcap_session_details(): the fields above, the\n"
             "                     statistics and the provider's own description\n"
             "\n"
             "Exit status: 0 printed; 1 the session could not be opened or refreshed;\n"
             "2 usage error.\n"
             "\n"
             "Examples:\n"
             "  pktcap status --provider cloudflare://accounts/ACCOUNT_ID 3f9a2c...\n"
             "  pktcap status --provider \"$AZURE_WATCHER_URI\" web1-capture --json\n",
    .run = run_status,
};

const struct cli_command cli_cmd_stop = {
    .name = "stop",
    .summary = "stop a running session",
    .usage = "usage: pktcap stop [--provider URI] [--wait] [--json] [--verbose] NAME\n"
             "\n"
             "Stops the running session NAME; with --wait, waits until it has ended\n"
             "(STOPPED, or FAILED), with a status line on stderr when it is a terminal.\n"
             "The state it reached is reported on stderr.\n"
             "\n" LOCAL_NOTE "\n" PROVIDER_HELP
             "  --wait             wait until the session has ended\n"
             "  --json             then print the session as 'pktcap status --json' does\n"
             "\n"
             "Exit status: 0 stopped; 1 the session could not be opened or stopped\n"
             "(PKTCAP_E_STATE when it is not running); 2 usage error.\n"
             "\n"
             "Examples:\n"
             "  pktcap stop --provider sdwan://10.1.1.1 wan-capture\n"
             "  pktcap stop --provider \"$AZURE_WATCHER_URI\" web1-capture --wait --json\n",
    .run = run_stop,
};

const struct cli_command cli_cmd_delete = {
    .name = "delete",
    .summary = "delete a session and its result at the provider",
    .usage = "usage: pktcap delete [--provider URI] [--json] [--verbose] NAME\n"
             "\n"
             "Deletes the session NAME at the provider, with the result it stores\n"
             "(Azure keeps the blob in the storage account). A running session must be\n"
             "stopped first (PKTCAP_E_STATE). Cloudflare cannot delete captures\n"
             "(PKTCAP_E_NOTSUP).\n"
             "\n" LOCAL_NOTE "\n" PROVIDER_HELP
             "  --json             print {\"name\", \"id\", \"deleted\": true} on stdout\n"
             "\n"
             "Exit status: 0 deleted; 1 the session could not be opened or deleted;\n"
             "2 usage error.\n"
             "\n"
             "Examples:\n"
             "  pktcap delete --provider \"$AZURE_WATCHER_URI\" web1-capture\n"
             "  pktcap delete --provider sdwan://10.1.1.1 wan-capture --json\n",
    .run = run_delete,
};

const struct cli_command cli_cmd_fetch = {
    .name = "fetch",
    .summary = "download a finished session's capture",
    .usage = "usage: pktcap fetch [--provider URI] [--json] [--verbose] NAME\n"
             "                    -w FILE | --storage URI\n"
             "\n"
             "Copies the capture of the finished (COMPLETE or STOPPED) session NAME into\n"
             "FILE, or a storage URI (doc/storage.md); it appears complete, or not at all.\n"
             "On a terminal, stderr shows a progress bar (bytes, rate, ETA); a cut\n"
             "download is resumed where the provider allows it.\n"
             "\n" LOCAL_NOTE "\n" PROVIDER_HELP
             "  -w FILE            where the capture goes ('-' for standard output)\n"
             "  --storage URI      a storage URI instead\n"
             "  --json             print {\"name\", \"id\", \"files\": [...]} on stdout\n"
             "\n"
             "Exit status: 0 fetched; 1 the session could not be opened or fetched\n"
             "(PKTCAP_E_STATE while it runs); 2 usage error.\n"
             "\n"
             "Examples:\n"
             "  pktcap fetch --provider cloudflare://accounts/ACCOUNT_ID 3f9a2c... -w edge.pcap\n"
             "  pktcap fetch --provider sdwan://10.1.1.1 wan-capture -w - | tshark -r - -c 5\n"
             "  pktcap fetch --provider \"$AZURE_WATCHER_URI\" web1-capture \\\n"
             "      --storage 'file:///var/tmp/web1.pcap' --json\n",
    .run = run_fetch,
};

const struct cli_command cli_cmd_interfaces = {
    .name = "interfaces",
    .summary = "list what a provider can capture on (local: network interfaces)",
    .usage = "usage: pktcap interfaces [--provider URI] [--json] [--verbose]\n"
             "\n"
             "Lists the targets 'pktcap capture --target' accepts: for local:, the\n"
             "network interfaces libpcap sees, plus any. Columns: NAME, FLAGS (up,\n"
             "running, loopback; '-' for none) and DESCRIPTION. --json prints an\n"
             "array of objects with name, description and flags (a list of those\n"
             "words).\n"
             "\n" PROVIDER_HELP
             "  --json             print a JSON array instead of the table\n"
             "\n"
             "Exit status: 0 listed; 1 the provider failed; 2 usage error.\n"
             "\n"
             "Examples:\n"
             "  pktcap interfaces\n"
             "  pktcap interfaces --json\n"
             "  pktcap interfaces --json | jq -r '.[] | select(.flags | index(\"up\")) | .name'\n",
    .run = run_interfaces,
};
