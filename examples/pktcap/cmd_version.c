/* pktcap version: the tool's and the loaded library's versions. */
#include "cli.h"

#include <pktcap/pktcap.h>

static int run_version(int argc, char **argv)
{
    (void)argv;
    if (argc > 1)
        return cli_usage_error("version", "takes no arguments");
    printf("pktcap %s (libpktcap %s)\n", PKTCAP_VERSION_STRING, pktcap_version());
    return CLI_OK;
}

const struct cli_command cli_cmd_version = {
    .name = "version",
    .summary = "print the versions of pktcap and of the libpktcap it runs with",
    .usage = "usage: pktcap version\n"
             "       pktcap --version\n"
             "\n"
             "Prints the version pktcap was built with and the version of the\n"
             "libpktcap shared library it loaded; they differ when the library\n"
             "was upgraded without rebuilding pktcap.\n",
    .run = run_version,
};
