/* pktcap filter: check a capture filter and print it for each target (libpcap,
 * Azure Network Watcher, Cloudflare Magic Transit, Citrix SD-WAN). The
 * one-line syntax is described in doc/filters.md. */
#include "cli.h"

#include <pktcap/pktcap.h>

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Joins words with single blanks into an allocated string ("" for none). */
static char *join_words(int count, char **words)
{
    size_t size = 1;
    for (int i = 0; i < count; i++)
        size += strlen(words[i]) + 1;
    char *text = malloc(size), *p = text;
    if (!text)
        return NULL;
    for (int i = 0; i < count; i++) {
        size_t n = strlen(words[i]);
        if (i > 0)
            *p++ = ' ';
        memcpy(p, words[i], n);
        p += n;
    }
    *p = '\0';
    return text;
}

int cli_make_filter(pktcap_filter **out, const char *rules, const char *bpf)
{
    int rc = bpf ? pktcap_filter_new_bpf(out, bpf) : pktcap_filter_parse(out, rules);
    if (rc < 0)
        return cli_library_error(bpf ? "--bpf" : "filter", rc);
    return CLI_OK;
}

static int same_name(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
            return 0;
    return *a == *b;
}

/* A LINKTYPE_* number, libpcap's name of one (EN10MB, RAW, LINUX_SLL, any
 * case), or "ethernet". */
static int parse_linktype(const char *text, uint32_t *linktype)
{
    if (text[0] >= '0' && text[0] <= '9') {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(text, &end, 10);
        if (errno != 0 || *end != '\0' || v > UINT32_MAX)
            return -1;
        *linktype = (uint32_t)v;
        return 0;
    }
    if (same_name(text, "ethernet")) {
        *linktype = 1;
        return 0;
    }
    for (uint32_t v = 0; v <= 0xffff; v++) {
        const char *name = pktcap_linktype_name(v);
        if (name && same_name(text, name)) {
            *linktype = v;
            return 0;
        }
    }
    return -1;
}

enum { SHOW_CHECK, SHOW_STRING, SHOW_BPF, SHOW_AZURE, SHOW_CLOUDFLARE, SHOW_SDWAN };

static const struct {
    const char *name;
    int what;
} subcommands[] = {
    { "check", SHOW_CHECK },
    { "string", SHOW_STRING },
    { "bpf", SHOW_BPF },
    { "azure", SHOW_AZURE },
    { "cloudflare", SHOW_CLOUDFLARE },
    { "sdwan", SHOW_SDWAN },
};

/* Renders the filter as asked and prints it on a line of its own. */
static int show(const pktcap_filter *f, int what, uint32_t linktype)
{
    char *text = NULL;
    int rc;
    const char *target = "filter";
    switch (what) {
    case SHOW_CHECK:
    case SHOW_STRING:
        rc = pktcap_filter_to_string(&text, f);
        break;
    case SHOW_BPF:
        rc = pktcap_filter_to_bpf(&text, f, linktype);
        target = "bpf";
        break;
    case SHOW_AZURE:
        rc = pktcap_filter_to_azure(&text, f);
        target = "azure";
        break;
    case SHOW_CLOUDFLARE:
        rc = pktcap_filter_to_cloudflare(&text, f);
        target = "cloudflare";
        break;
    default:
        rc = pktcap_filter_to_sdwan(&text, f);
        target = "sdwan";
        break;
    }
    if (rc < 0)
        return cli_library_error(target, rc);
    if (what == SHOW_CHECK)
        fputs("ok\n", stdout);
    fputs(text, stdout);
    fputc('\n', stdout);
    pktcap_free(text);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "pktcap filter: writing the output failed: %s\n", strerror(errno));
        return CLI_FAILED;
    }
    return CLI_OK;
}

/* The value of option `name` at argv[*i] ("--name VALUE" or "--name=VALUE"):
 * 1 and *value set, 0 when argv[*i] is another option, -1 when the value is missing. */
static int option_value(const char *name, int argc, char **argv, int *i, const char **value)
{
    size_t n = strlen(name);
    const char *arg = argv[*i];
    if (strncmp(arg, name, n) != 0)
        return 0;
    if (arg[n] == '=') {
        *value = arg + n + 1;
        return 1;
    }
    if (arg[n] != '\0')
        return 0;
    if (*i + 1 >= argc)
        return -1;
    *value = argv[++*i];
    return 1;
}

static int run_filter(int argc, char **argv)
{
    const char *bpf = NULL, *linktype_text = NULL, *sub = NULL;
    uint32_t linktype = 1;
    int nwords = 0, rc;
    /* Rule words never begin with '-', so options may come anywhere; after
     * "--" every argument is a word. Words are collected in place. */
    char **words = argv + 1;
    for (int i = 1, options_done = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (options_done || arg[0] != '-' || arg[1] == '\0') {
            if (!sub)
                sub = arg;
            else
                words[nwords++] = argv[i];
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            options_done = 1;
        } else if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            fputs(cli_cmd_filter.usage, stdout);
            return CLI_OK;
        } else if ((rc = option_value("--bpf", argc, argv, &i, &bpf)) != 0 ||
                   (rc = option_value("--linktype", argc, argv, &i, &linktype_text)) != 0) {
            if (rc < 0)
                return cli_usage_error("filter", "option '%s' needs a value", arg);
        } else {
            return cli_usage_error("filter", "unknown option '%s'", arg);
        }
    }
    if (!sub)
        return cli_usage_error("filter", "expected a subcommand (check, string, bpf, azure, "
                                         "cloudflare, sdwan)");
    int what = -1;
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
        if (strcmp(sub, subcommands[i].name) == 0)
            what = subcommands[i].what;
    if (what < 0)
        return cli_usage_error("filter", "unknown subcommand '%s' (check, string, bpf, azure, "
                                         "cloudflare, sdwan)", sub);
    if (linktype_text) {
        if (what != SHOW_BPF)
            return cli_usage_error("filter", "--linktype applies to 'bpf' only");
        if (parse_linktype(linktype_text, &linktype) < 0)
            return cli_usage_error("filter", "unknown link type '%s' (a LINKTYPE_ number or "
                                             "name such as EN10MB, RAW, LINUX_SLL)",
                                   linktype_text);
    }
    if (bpf && nwords > 0)
        return cli_usage_error("filter", "give RULES or --bpf EXPR, not both");
    if (!bpf && nwords == 0)
        return cli_usage_error("filter", "expected RULES or --bpf EXPR ('' is the empty filter)");

    char *rules = NULL;
    if (!bpf && !(rules = join_words(nwords, words))) {
        fputs("pktcap filter: out of memory\n", stderr);
        return CLI_FAILED;
    }
    pktcap_filter *f = NULL;
    int status = cli_make_filter(&f, rules, bpf);
    free(rules);
    if (status != CLI_OK)
        return status;
    status = show(f, what, linktype);
    pktcap_filter_free(f);
    return status;
}

const struct cli_command cli_cmd_filter = {
    .name = "filter",
    .summary = "check a capture filter, print it for libpcap, Azure, Cloudflare, SD-WAN",
    .usage = "usage: pktcap filter check|string|bpf|azure|cloudflare|sdwan [OPTIONS] RULES...\n"
             "       pktcap filter SUBCOMMAND [OPTIONS] --bpf EXPR\n"
             "\n"
             "Parses a capture filter written once in pktcap's one-line syntax and\n"
             "prints it for each place a capture can run. Rules are separated by the\n"
             "word 'or'; a rule is blank-separated key=value terms (doc/filters.md):\n"
             "  proto=tcp|udp|any\n"
             "  local=ADDRESSES  remote=ADDRESSES   10.0.0.1, 10.0.0.1-10.0.0.9,\n"
             "                                      10.0.0.0/8, 2001:db8::/64, a;b;\n"
             "  local_port=PORTS remote_port=PORTS  80, 8000-8080, 80;443;\n"
             "Local and remote are direction-free: a packet matches going either way.\n"
             "The words of RULES are joined with blanks, so quoting is optional; ''\n"
             "is the empty filter, which matches every packet.\n"
             "\n"
             "Subcommands:\n"
             "  check        print 'ok' and then the filter's canonical form\n"
             "  string       print the canonical form alone\n"
             "  bpf          print the libpcap (tcpdump) expression\n"
             "  azure        print Azure Network Watcher's 'filters' array (JSON)\n"
             "  cloudflare   print Cloudflare Magic Transit's filter_v1 object (JSON);\n"
             "               one rule without ranges or lists only\n"
             "  sdwan        print the Citrix SD-WAN filter_str\n"
             "\n"
             "  --bpf EXPR         a raw libpcap expression instead of RULES (checked\n"
             "                     with pcap_compile for Ethernet); only bpf, sdwan,\n"
             "                     check and string can show it\n"
             "  --linktype LT      bpf only: the link type the expression is for, a\n"
             "                     LINKTYPE_ number or name (default 1, EN10MB or\n"
             "                     'ethernet'; e.g. RAW, LINUX_SLL, 113)\n"
             "\n"
             "A filter the library refuses (bad address, reversed range, port above\n"
             "65535, unknown key or protocol...) or one a target cannot express is\n"
             "reported on stderr as 'pktcap: WHAT: MESSAGE (PKTCAP_E_CODE)' with exit\n"
             "status 1.\n"
             "\n"
             "Exit status: 0 printed; 1 the filter was refused; 2 usage error.\n"
             "\n"
             "Examples:\n"
             "  pktcap filter check proto=tcp 'remote_port=80;443'\n"
             "  pktcap filter bpf proto=tcp local_port=80 or proto=udp\n"
             "  pktcap filter bpf --linktype RAW 'remote=10.0.0.0/8'\n"
             "  pktcap filter azure 'proto=tcp local=10.0.0.1 remote_port=443'\n"
             "  pktcap filter sdwan --bpf 'icmp or arp'\n"
             "  pktcap summary --filter 'proto=udp remote_port=53' capture.pcap\n",
    .run = run_filter,
};
