/* The pktcap command-line tool: shared declarations of its commands. */
#ifndef PKTCAP_CLI_H
#define PKTCAP_CLI_H

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

extern const struct cli_command cli_cmd_version;
extern const struct cli_command cli_cmd_info;
extern const struct cli_command cli_cmd_convert;
extern const struct cli_command cli_cmd_summary;

#endif
