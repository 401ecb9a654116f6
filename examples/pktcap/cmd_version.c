/* pktcap version: the tool's and the loaded library's versions. */
#include "cli.h"

#include <pktcap/pktcap.h>

#include <string.h>

static int run_version(int argc, char **argv)
{
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else
            return cli_usage_error("version", "unexpected argument '%s' (only --json)", argv[i]);
    }
    if (json)
        printf("{\"pktcap\": \"%s\", \"libpktcap\": \"%s\"}\n", PKTCAP_VERSION_STRING,
               pktcap_version());
    else
        printf("pktcap %s (libpktcap %s)\n", PKTCAP_VERSION_STRING, pktcap_version());
    return CLI_OK;
}

const struct cli_command cli_cmd_version = {
    .name = "version",
    .summary = "print the versions of pktcap and of the libpktcap it runs with",
    .usage = "usage: pktcap version [--json]\n"
             "       pktcap --version\n"
             "\n"
             "Prints the version pktcap was built with and the version of the\n"
             "libpktcap shared library it loaded; they differ when the library\n"
             "was upgraded without rebuilding pktcap.\n"
             "\n"
             "  --json             print {\"pktcap\": VERSION, \"libpktcap\": VERSION}\n"
             "\n"
             "Exit status: 0 printed; 2 usage error.\n"
             "\n"
             "Examples:\n"
             "  pktcap --version\n"
             "  pktcap version --json\n",
    .run = run_version,
};
