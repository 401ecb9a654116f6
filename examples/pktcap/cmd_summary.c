/* pktcap summary: one line per packet, as text like `tcpdump -nn`, JSON
 * Lines or CSV (the layouts are in doc/summary.md). */
#include "cli.h"
#include "output.h"

#include <pktcap/pktcap.h>
#include <pktcap/summary.h>

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Lines are formatted straight into one 1 MiB output buffer, written with
 * write() when it is nearly full: a write() per line would cost more than
 * decoding and formatting the packet, and even stdio's fwrite (lock and
 * copy, with a 1 MiB setvbuf buffer) took an eighth of the run. To a
 * terminal, every line is written at once, so lines appear as they come. */
#define OUTPUT_BUFFER_SIZE (1u << 20)
#define LINE_MAX_BYTES 2048 /* more than any summary (doc/summary.md: 1 023) */

static char output_buffer[OUTPUT_BUFFER_SIZE];

struct summary_run {
    int format;
    uint64_t left;         /* packets still to print */
    size_t used;           /* bytes waiting in output_buffer */
    int line_by_line;      /* standard output is a terminal */
    int output_errno;      /* the first write error, 0 if none */
    const pktcap_filter *filter; /* only matching packets are printed; NULL: all */
};

/* Writes out what the buffer holds; after an error, nothing more is written. */
static void flush_output(struct summary_run *run)
{
    size_t done = 0;
    while (done < run->used && !run->output_errno) {
        ssize_t n = write(STDOUT_FILENO, output_buffer + done, run->used - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            run->output_errno = n < 0 ? errno : EIO;
        else
            done += (size_t)n;
    }
    run->used = 0;
}

static void print_text(struct summary_run *run, const char *text)
{
    size_t n = strlen(text);
    while (n > 0 && !run->output_errno) {
        size_t room = OUTPUT_BUFFER_SIZE - run->used, k = n < room ? n : room;
        memcpy(output_buffer + run->used, text, k);
        run->used += k;
        text += k;
        n -= k;
        if (run->used == OUTPUT_BUFFER_SIZE)
            flush_output(run);
    }
}

static int parse_format(const char *text, int *format)
{
    static const struct {
        const char *name;
        int format;
    } names[] = {
        { "text", PKTCAP_SUMMARY_TEXT },
        { "json", PKTCAP_SUMMARY_JSON },
        { "csv", PKTCAP_SUMMARY_CSV },
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(text, names[i].name) == 0) {
            *format = names[i].format;
            return 0;
        }
    }
    return -1;
}

/* A positive decimal count. */
static int parse_count(const char *text, uint64_t *count)
{
    char *end;
    if (text[0] < '0' || text[0] > '9')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0' || v == 0)
        return -1;
    *count = v;
    return 0;
}

/* Fraction digits for packets of an interface: as many as its resolution
 * has (6 for microseconds, 9 for nanoseconds and anything else). */
static uint32_t interface_digits(const pktcap_reader *r, uint32_t interface)
{
    return (uint32_t)out_resolution_digits(pktcap_reader_interface_tsresol(r, interface));
}

static int print_line(struct summary_run *run, const pktcap_summary *s)
{
    size_t n;
    if (OUTPUT_BUFFER_SIZE - run->used < LINE_MAX_BYTES)
        flush_output(run);
    /* One byte is kept for the newline that replaces the NUL. */
    int rc = pktcap_summary_format(&n, output_buffer + run->used, LINE_MAX_BYTES - 1, run->format,
                                   s);
    if (rc < 0)
        return rc;
    output_buffer[run->used + n] = '\n';
    run->used += n + 1;
    if (run->line_by_line)
        flush_output(run);
    return 0;
}

/* Prints the summaries of one file; returns a CLI_* status. */
static int summarize_file(struct summary_run *run, const char *path)
{
    pktcap_reader *r = NULL;
    const pktcap_packet *p;
    pktcap_summary s = { .struct_size = sizeof s };
    uint64_t number = 0;
    uint32_t interface = UINT32_MAX, digits = 9;
    int status = CLI_OK;
    int rc = pktcap_reader_open(&r, path);
    if (rc < 0) {
        flush_output(run);
        return cli_library_error(path, rc);
    }
    while (run->left > 0 && !run->output_errno && (rc = pktcap_reader_next(&p, r)) == 0) {
        if (p->interface != interface) {
            interface = p->interface;
            digits = interface_digits(r, interface);
        }
        ++number; /* packets keep their number in the file, filtered or not */
        if (run->filter && (rc = pktcap_filter_match(run->filter, p)) <= 0) {
            if (rc == 0)
                continue;
            flush_output(run);
            char what[4096];
            snprintf(what, sizeof what, "%s: packet %llu", path, (unsigned long long)number);
            status = cli_library_error(what, rc);
            rc = PKTCAP_E_END; /* reported: the file is not read further */
            break;
        }
        pktcap_summarize(&s, p);
        s.number = number;
        s.time_digits = digits;
        if ((rc = print_line(run, &s)) < 0)
            break;
        run->left--;
    }
    if (rc < 0 && rc != PKTCAP_E_END) {
        /* What was read is printed first, then the error (with its offset). */
        flush_output(run);
        status = cli_library_error(path, rc);
    }
    pktcap_reader_close(r);
    return status;
}

static int run_summary(int argc, char **argv)
{
    static const struct option options[] = {
        { "format", required_argument, NULL, 'F' },
        { "count", required_argument, NULL, 'c' },
        { "filter", required_argument, NULL, 'f' },
        { "bpf", required_argument, NULL, 'b' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct summary_run run = { PKTCAP_SUMMARY_TEXT, UINT64_MAX, 0, 0, 0, NULL };
    const char *rules = NULL, *bpf = NULL;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":F:c:h", options, NULL)) != -1) {
        switch (c) {
        case 'F':
            if (parse_format(optarg, &run.format) < 0)
                return cli_usage_error("summary", "unknown format '%s' (text, json, csv)", optarg);
            break;
        case 'c':
            if (parse_count(optarg, &run.left) < 0)
                return cli_usage_error("summary", "COUNT must be a positive number, not '%s'",
                                       optarg);
            break;
        case 'f':
            rules = optarg;
            break;
        case 'b':
            bpf = optarg;
            break;
        case 'h':
            fputs(cli_cmd_summary.usage, stdout);
            return CLI_OK;
        case ':':
            return cli_usage_error("summary", "option '%s' needs a value", argv[optind - 1]);
        default:
            return cli_usage_error("summary", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return cli_usage_error("summary", "expected at least one FILE");
    if (rules && bpf)
        return cli_usage_error("summary", "--filter and --bpf exclude each other");
    pktcap_filter *filter = NULL;
    if (rules || bpf) {
        int made = cli_make_filter(&filter, rules, bpf);
        if (made != CLI_OK)
            return made;
        run.filter = filter;
    }

    run.line_by_line = isatty(STDOUT_FILENO);
    int status = CLI_OK;
    const char *header = pktcap_summary_header(run.format);
    if (header && header[0]) {
        print_text(&run, header);
        print_text(&run, "\n");
    }
    for (int i = optind; i < argc && run.left > 0 && !run.output_errno; i++)
        if (summarize_file(&run, argv[i]) != CLI_OK)
            status = CLI_FAILED;
    flush_output(&run);
    if (run.output_errno) {
        fprintf(stderr, "pktcap summary: writing the output failed: %s\n",
                strerror(run.output_errno));
        status = CLI_FAILED;
    }
    pktcap_filter_free(filter);
    return status;
}

const struct cli_command cli_cmd_summary = {
    .name = "summary",
    .summary = "print one line per packet: addresses, ports, protocol (text, JSON, CSV)",
    .usage = "usage: pktcap summary [--format text|json|csv] [-c COUNT]\n"
             "                      [--filter RULES | --bpf EXPR] FILE...\n"
             "\n"
             "Decodes every packet of each pcap or pcapng FILE ('-' for standard input)\n"
             "and prints one line per packet: its number, time, MAC and IP addresses,\n"
             "ports, protocol, length and what could not be decoded (truncated,\n"
             "malformed, fragment). Packets are numbered from 1 in each file; times\n"
             "are UTC, with as many fraction digits as the packet's interface\n"
             "resolution has (6 for microseconds, 9 for nanoseconds).\n"
             "\n"
             "  -F, --format FMT   text (default): like tcpdump -nn, e.g.\n"
             "                       1 12:00:00.123456 IP 10.1.0.10.51000 > 203.0.113.10.443: TCP [S.] len 74\n"
             "                     json: one JSON object per line (JSON Lines) with the\n"
             "                       SD-WAN API's fields (number, time, src_mac, dst_mac,\n"
             "                       src_ip, dst_ip, src_port, dst_port, protocol, length)\n"
             "                       and then ours; absent fields are null\n"
             "                     csv: the same columns, after one header line\n"
             "  -c, --count N      stop after N packets (counted over all files)\n"
             "  --filter RULES     print only the packets that match a filter in pktcap's\n"
             "                     one-line syntax (see 'pktcap help filter'), e.g.\n"
             "                     'proto=tcp remote_port=80;443 or proto=udp'\n"
             "  --bpf EXPR         print only the packets that match a libpcap expression\n"
             "\n"
             "With a filter, packets keep their number in the file and -c counts the\n"
             "packets printed. --filter evaluates Ethernet (up to two VLAN tags), Linux\n"
             "cooked, raw IP, IPv4, IPv6 and BSD loopback captures; a packet of another\n"
             "link type stops that file with an error (PKTCAP_E_NOTSUP) naming it,\n"
             "where --bpf can be used instead.\n"
             "\n"
             "doc/summary.md describes each format exactly. A file that is malformed or\n"
             "cut short is summarised up to the error, which is printed with its byte\n"
             "offset; the exit status is then 1.\n"
             "\n"
             "Exit status: 0 every packet summarised; 1 a file could not be read, is\n"
             "malformed, or the filter was refused; 2 usage error.\n"
             "\n"
             "Examples:\n"
             "  pktcap summary capture.pcapng\n"
             "  pktcap summary -c 10 --format json capture.pcap | jq .dst_port\n"
             "  pktcap summary --format csv capture.pcapng > packets.csv\n"
             "  pktcap summary --filter 'proto=udp remote_port=53' capture.pcap\n"
             "  pktcap summary --bpf 'icmp or arp' capture.pcap\n"
             "  tcpdump -w - -c 100 | pktcap summary -\n",
    .run = run_summary,
};
