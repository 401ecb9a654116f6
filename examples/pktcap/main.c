/* pktcap: the libpktcap command-line tool. This file dispatches to the
 * commands; each command lives in a cmd_*.c file of its own. */
#include "cli.h"

#include <pktcap/pktcap.h>

#include <stdarg.h>
#include <string.h>

static const struct cli_command *const commands[] = {
    &cli_cmd_info,
    &cli_cmd_convert,
    &cli_cmd_summary,
    &cli_cmd_filter,
    &cli_cmd_capture,
    &cli_cmd_fleet,
    &cli_cmd_interfaces,
    &cli_cmd_sessions,
    &cli_cmd_status,
    &cli_cmd_stop,
    &cli_cmd_delete,
    &cli_cmd_fetch,
    &cli_cmd_cloudflare,
    &cli_cmd_version,
};

#define COMMAND_COUNT (sizeof(commands) / sizeof(commands[0]))

static const char overview[] =
    "usage: pktcap [--version] [--help] COMMAND [ARGS...]\n"
    "\n"
    "Run packet captures wherever the packets are and bring back standard\n"
    "capture files.\n"
    "\n"
    "Commands:\n";

static const char exit_statuses[] =
    "\n"
    "Exit status: 0 success, 1 a libpktcap operation failed, 2 usage error.\n"
    "Run 'pktcap help COMMAND' for a command's options and examples.\n";

int cli_usage_error(const char *command, const char *fmt, ...)
{
    va_list ap;
    fputs(command ? "pktcap " : "pktcap", stderr);
    if (command)
        fputs(command, stderr);
    fputs(": ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nRun 'pktcap help%s%s' for usage.\n", command ? " " : "",
            command ? command : "");
    return CLI_USAGE;
}

int cli_library_error(const char *what, int rc)
{
    const pktcap_error *e = pktcap_error_last();
    fprintf(stderr, "pktcap: %s: %s (%s)\n", what, pktcap_error_message(e),
            pktcap_error_name(rc));
    return CLI_FAILED;
}

int cli_wants_help(const struct cli_command *cmd, int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(cmd->usage, stdout);
        return 1;
    }
    return 0;
}

static const struct cli_command *find_command(const char *name)
{
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        if (strcmp(commands[i]->name, name) == 0)
            return commands[i];
    return NULL;
}

static void print_overview(FILE *out)
{
    fputs(overview, out);
    fprintf(out, "  %-10s %s\n", "help", "show this overview, or a command's usage");
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        fprintf(out, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
    fputs(exit_statuses, out);
}

static int run_help(int argc, char **argv)
{
    if (argc < 2) {
        print_overview(stdout);
        return CLI_OK;
    }
    if (argc > 2)
        return cli_usage_error("help", "expected at most one command name, got %d", argc - 1);
    const struct cli_command *cmd = find_command(argv[1]);
    if (!cmd)
        return cli_usage_error("help", "unknown command '%s'", argv[1]);
    fputs(cmd->usage, stdout);
    return CLI_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_overview(stderr);
        return CLI_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0)
        return cli_cmd_version.run(1, argv + 1);
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0)
        return run_help(argc - 1, argv + 1);
    if (name[0] == '-')
        return cli_usage_error(NULL, "unknown option '%s'", name);
    const struct cli_command *cmd = find_command(name);
    if (!cmd)
        return cli_usage_error(NULL, "unknown command '%s'", name);
    if (cli_wants_help(cmd, argc - 1, argv + 1))
        return CLI_OK;
    return cmd->run(argc - 1, argv + 1);
}
