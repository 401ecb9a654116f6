/* pktcap info: what a capture file holds, like capinfos. */
#include "cli.h"
#include "output.h"

#include <pktcap/pktcap.h>

#include <getopt.h>
#include <string.h>

struct file_info {
    const char *path;
    int format;
    uint64_t packets;
    uint64_t captured_bytes;
    uint64_t wire_bytes;
    int64_t first_sec, last_sec;
    uint32_t first_nsec, last_nsec;
    int in_order;
    int digits;    /* fraction digits of the finest interface resolution */
    int rc;        /* PKTCAP_E_END when the file was read to its end */
    char error[1024];
};

static const char *format_name(int format)
{
    switch (format) {
    case PKTCAP_FORMAT_PCAP: return "pcap";
    case PKTCAP_FORMAT_PCAP_NSEC: return "pcap-nsec";
    case PKTCAP_FORMAT_PCAPNG: return "pcapng";
    case PKTCAP_FORMAT_PCAP_MODIFIED: return "pcap-modified";
    default: return "unknown";
    }
}

static int later(int64_t s1, uint32_t n1, int64_t s2, uint32_t n2)
{
    return s1 > s2 || (s1 == s2 && n1 > n2);
}

static void scan(struct file_info *fi, pktcap_reader *r)
{
    const pktcap_packet *p;
    fi->in_order = 1;
    while ((fi->rc = pktcap_reader_next(&p, r)) == 0) {
        if (fi->packets == 0) {
            fi->first_sec = fi->last_sec = p->ts_sec;
            fi->first_nsec = fi->last_nsec = p->ts_nsec;
        } else {
            if (later(fi->last_sec, fi->last_nsec, p->ts_sec, p->ts_nsec))
                fi->in_order = 0;
            if (later(fi->first_sec, fi->first_nsec, p->ts_sec, p->ts_nsec)) {
                fi->first_sec = p->ts_sec;
                fi->first_nsec = p->ts_nsec;
            }
            if (later(p->ts_sec, p->ts_nsec, fi->last_sec, fi->last_nsec)) {
                fi->last_sec = p->ts_sec;
                fi->last_nsec = p->ts_nsec;
            }
        }
        fi->packets++;
        fi->captured_bytes += p->caplen;
        fi->wire_bytes += p->len;
    }
    if (fi->rc != PKTCAP_E_END)
        snprintf(fi->error, sizeof(fi->error), "%s", pktcap_error_message(pktcap_error_last()));
    /* Times print with the digits the finest interface needs. */
    fi->digits = 0;
    for (uint32_t i = 0; i < pktcap_reader_interface_count(r); i++) {
        int d = out_resolution_digits(pktcap_reader_interface_tsresol(r, i));
        if (d > fi->digits)
            fi->digits = d;
    }
}

/* What follows from the scan: the span of the capture and its rates. */
struct span {
    int64_t sec;   /* last - first, exactly */
    uint32_t nsec;
    double seconds; /* the same as a double, for rates; 0 when all times are equal */
};

static struct span span_of(const struct file_info *fi)
{
    struct span s = { fi->last_sec - fi->first_sec, 0, 0 };
    if (fi->last_nsec >= fi->first_nsec) {
        s.nsec = fi->last_nsec - fi->first_nsec;
    } else {
        s.sec -= 1;
        s.nsec = 1000000000u + fi->last_nsec - fi->first_nsec;
    }
    s.seconds = (double)s.sec + s.nsec / 1e9;
    return s;
}

static void print_text(FILE *out, const struct file_info *fi, pktcap_reader *r)
{
    uint32_t n = pktcap_reader_interface_count(r);
    fprintf(out, "File name:           %s\n", fi->path);
    fprintf(out, "File format:         %s\n", format_name(fi->format));
    fprintf(out, "Interfaces:          %u\n", n);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t lt = pktcap_reader_interface_linktype(r, i);
        const char *name = pktcap_reader_interface_option(r, i, "if_name");
        const char *lt_name = pktcap_linktype_name(lt);
        const char *lt_desc = pktcap_linktype_description(lt);
        fprintf(out, "  #%u:%s%s %s (%s, %u), snaplen %u, resolution 1/%llu s\n", i,
                name ? " " : "", name ? name : "", lt_desc ? lt_desc : "unknown link type",
                lt_name ? lt_name : "?", lt, pktcap_reader_interface_snaplen(r, i),
                (unsigned long long)pktcap_reader_interface_tsresol(r, i));
    }
    fprintf(out, "Packets:             %llu\n", (unsigned long long)fi->packets);
    fprintf(out, "Data size:           %llu bytes captured, %llu bytes on the wire\n",
            (unsigned long long)fi->captured_bytes, (unsigned long long)fi->wire_bytes);
    if (fi->packets > 0) {
        struct span d = span_of(fi);
        fputs("First packet time:   ", out);
        out_time(out, fi->first_sec, fi->first_nsec, fi->digits, 0);
        fputs("\nLast packet time:    ", out);
        out_time(out, fi->last_sec, fi->last_nsec, fi->digits, 0);
        fputs("\nDuration:            ", out);
        out_seconds(out, d.sec, d.nsec, fi->digits);
        fputs(" seconds\n", out);
        if (d.seconds > 0) {
            fprintf(out, "Average packet rate: %.2f packets/s\n", (double)fi->packets / d.seconds);
            fprintf(out, "Average data rate:   %.2f bytes/s\n",
                    (double)fi->captured_bytes / d.seconds);
        } else {
            fputs("Average packet rate: n/a (zero duration)\n", out);
            fputs("Average data rate:   n/a (zero duration)\n", out);
        }
        fprintf(out, "Average packet size: %.2f bytes\n",
                (double)fi->captured_bytes / (double)fi->packets);
        fprintf(out, "Strict time order:   %s\n", fi->in_order ? "yes" : "no");
    }
    if (fi->rc != PKTCAP_E_END)
        fprintf(out, "Error:               %s (%s)\n", fi->error, pktcap_error_name(fi->rc));
}

static void print_json(FILE *out, const struct file_info *fi, pktcap_reader *r)
{
    uint32_t n = pktcap_reader_interface_count(r);
    fputs("{\"file\": ", out);
    out_json_string(out, fi->path);
    fprintf(out, ", \"format\": \"%s\", \"interfaces\": [", format_name(fi->format));
    for (uint32_t i = 0; i < n; i++) {
        uint32_t lt = pktcap_reader_interface_linktype(r, i);
        fprintf(out, "%s{\"index\": %u, \"name\": ", i ? ", " : "", i);
        out_json_string(out, pktcap_reader_interface_option(r, i, "if_name"));
        fputs(", \"description\": ", out);
        out_json_string(out, pktcap_reader_interface_option(r, i, "if_description"));
        fprintf(out, ", \"linktype\": %u, \"linktype_name\": ", lt);
        out_json_string(out, pktcap_linktype_name(lt));
        fprintf(out, ", \"snaplen\": %u, \"tsresol\": %llu}", pktcap_reader_interface_snaplen(r, i),
                (unsigned long long)pktcap_reader_interface_tsresol(r, i));
    }
    fprintf(out, "], \"packets\": %llu, \"captured_bytes\": %llu, \"wire_bytes\": %llu",
            (unsigned long long)fi->packets, (unsigned long long)fi->captured_bytes,
            (unsigned long long)fi->wire_bytes);
    if (fi->packets > 0) {
        struct span d = span_of(fi);
        /* Times as strings keep every digit of the file's resolution. */
        fputs(", \"first_time\": \"", out);
        out_time(out, fi->first_sec, fi->first_nsec, fi->digits, 1);
        fputs("\", \"last_time\": \"", out);
        out_time(out, fi->last_sec, fi->last_nsec, fi->digits, 1);
        fputs("\", \"first_epoch\": \"", out);
        out_seconds(out, fi->first_sec, fi->first_nsec, fi->digits);
        fputs("\", \"last_epoch\": \"", out);
        out_seconds(out, fi->last_sec, fi->last_nsec, fi->digits);
        fputs("\", \"duration\": ", out);
        out_seconds(out, d.sec, d.nsec, fi->digits);
        if (d.seconds > 0)
            fprintf(out, ", \"packet_rate\": %.3f, \"data_rate\": %.3f",
                    (double)fi->packets / d.seconds, (double)fi->captured_bytes / d.seconds);
        else
            fputs(", \"packet_rate\": null, \"data_rate\": null", out);
        fprintf(out, ", \"average_packet_size\": %.3f, \"strict_time_order\": %s",
                (double)fi->captured_bytes / (double)fi->packets, fi->in_order ? "true" : "false");
    }
    if (fi->rc != PKTCAP_E_END) {
        fprintf(out, ", \"error\": {\"code\": \"%s\", \"message\": ", pktcap_error_name(fi->rc));
        out_json_string(out, fi->error);
        fputs("}", out);
    } else {
        fputs(", \"error\": null", out);
    }
    fputs("}", out);
}

static int run_info(int argc, char **argv)
{
    static const struct option options[] = {
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int json = 0, c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":jh", options, NULL)) != -1) {
        switch (c) {
        case 'j': json = 1; break;
        case 'h': fputs(cli_cmd_info.usage, stdout); return CLI_OK;
        default: return cli_usage_error("info", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return cli_usage_error("info", "expected at least one FILE");

    int status = CLI_OK;
    if (json)
        fputs("[", stdout);
    for (int i = optind; i < argc; i++) {
        struct file_info fi;
        memset(&fi, 0, sizeof(fi));
        fi.path = argv[i];
        pktcap_reader *r = NULL;
        int rc = pktcap_reader_open(&r, fi.path);
        if (rc < 0) {
            status = cli_library_error(fi.path, rc);
            continue;
        }
        fi.format = pktcap_reader_format(r);
        scan(&fi, r);
        if (json) {
            fputs(i > optind ? ",\n " : "", stdout);
            print_json(stdout, &fi, r);
        } else {
            if (i > optind)
                putchar('\n');
            print_text(stdout, &fi, r);
        }
        if (fi.rc != PKTCAP_E_END) {
            fprintf(stderr, "pktcap: %s: %s (%s)\n", fi.path, fi.error, pktcap_error_name(fi.rc));
            status = CLI_FAILED;
        }
        pktcap_reader_close(r);
    }
    if (json)
        fputs("]\n", stdout);
    return status;
}

const struct cli_command cli_cmd_info = {
    .name = "info",
    .summary = "show what capture files hold: format, interfaces, packets, times, rates",
    .usage = "usage: pktcap info [--json] FILE...\n"
             "\n"
             "Reads each pcap or pcapng FILE ('-' for standard input) to its end and\n"
             "prints its format, interfaces (name, link type, snaplen, timestamp\n"
             "resolution), packet count, captured and on-the-wire bytes, first and last\n"
             "packet times (UTC, at the file's resolution), duration, average rates and\n"
             "whether timestamps are in order.\n"
             "\n"
             "  -j, --json   print a JSON array with one object per file\n"
             "\n"
             "A file that is malformed or cut short is reported up to the error, which\n"
             "is printed (with its byte offset); the exit status is then 1.\n"
             "\n"
             "Exit status: 0 every file read to its end; 1 a file could not be opened or\n"
             "is malformed; 2 usage error.\n"
             "\n"
             "Examples:\n"
             "  pktcap info capture.pcapng\n"
             "  pktcap info --json *.pcap | jq '.[].packets'\n"
             "  tcpdump -w - -c 10 | pktcap info -\n",
    .run = run_info,
};
