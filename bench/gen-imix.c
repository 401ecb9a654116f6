/* gen-imix — write a deterministic IMIX capture file (see imix.h).
 *
 * usage: gen-imix [-n PACKETS] [-s SEED] [-F pcap|pcap-nsec|pcapng] [-q] -o FILE
 *
 * The same options always give the same bytes. FILE may be '-' for standard
 * output. A summary of what was generated goes to standard error.
 */
#include "imix.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *to)
{
    fputs("usage: gen-imix [-n PACKETS] [-s SEED] [-F pcap|pcap-nsec|pcapng] [-q] -o FILE\n"
          "  -n PACKETS  how many packets (default 1000000)\n"
          "  -s SEED     PRNG seed (default 0x5eed0f1e11c0ffee); same seed, same bytes\n"
          "  -F FORMAT   pcap (microseconds, default), pcap-nsec or pcapng\n"
          "  -q          no summary on standard error\n"
          "  -o FILE     output file, '-' for standard output\n",
          to);
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;
    errno = 0;
    v = strtoull(s, &end, 0);
    if (errno || end == s || *end || s[0] == '-')
        return -1;
    *out = v;
    return 0;
}

static double pct(uint64_t part, uint64_t whole)
{
    return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

int main(int argc, char **argv)
{
    uint64_t count = 1000000, seed = IMIX_DEFAULT_SEED;
    enum imix_format format = IMIX_FORMAT_PCAP;
    const char *path = NULL;
    int quiet = 0, opt;
    static char buffer[1 << 20];
    imix_stats st;
    FILE *out;

    while ((opt = getopt(argc, argv, "n:s:F:o:qh")) != -1) {
        switch (opt) {
        case 'n':
            if (parse_u64(optarg, &count) != 0) {
                fprintf(stderr, "gen-imix: bad packet count '%s'\n", optarg);
                return 2;
            }
            break;
        case 's':
            if (parse_u64(optarg, &seed) != 0) {
                fprintf(stderr, "gen-imix: bad seed '%s'\n", optarg);
                return 2;
            }
            break;
        case 'F':
            if (strcmp(optarg, "pcap") == 0)
                format = IMIX_FORMAT_PCAP;
            else if (strcmp(optarg, "pcap-nsec") == 0)
                format = IMIX_FORMAT_PCAP_NSEC;
            else if (strcmp(optarg, "pcapng") == 0)
                format = IMIX_FORMAT_PCAPNG;
            else {
                fprintf(stderr, "gen-imix: unknown format '%s' (pcap, pcap-nsec, pcapng)\n",
                        optarg);
                return 2;
            }
            break;
        case 'o':
            path = optarg;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!path || optind != argc) {
        usage(stderr);
        return 2;
    }

    out = strcmp(path, "-") == 0 ? stdout : fopen(path, "wb");
    if (!out) {
        fprintf(stderr, "gen-imix: %s: %s\n", path, strerror(errno));
        return 1;
    }
    setvbuf(out, buffer, _IOFBF, sizeof buffer);
    if (imix_write_file(out, format, count, seed, &st) != 0 ||
        (out != stdout && fclose(out) != 0)) {
        fprintf(stderr, "gen-imix: writing %s: %s\n", path, strerror(errno));
        if (out != stdout)
            remove(path);
        return 1;
    }
    if (!quiet) {
        fprintf(stderr,
                "gen-imix: %" PRIu64 " packets, %" PRIu64 " frame bytes (%.1f per packet)\n"
                "  sizes 64/576/1500: %.1f / %.1f / %.1f %%\n"
                "  IPv4 %.1f %%, IPv6 %.1f %%, 802.1Q %.1f %%\n"
                "  TCP %.1f %%, UDP %.1f %%, ICMP %.1f %%; %" PRIu64 " SYN, %" PRIu64
                " FIN; %" PRIu64 " flows\n",
                st.packets, st.bytes, st.packets ? (double)st.bytes / (double)st.packets : 0.0,
                pct(st.size_class[0], st.packets), pct(st.size_class[1], st.packets),
                pct(st.size_class[2], st.packets), pct(st.ipv4, st.packets),
                pct(st.ipv6, st.packets), pct(st.vlan, st.packets), pct(st.tcp, st.packets),
                pct(st.udp, st.packets), pct(st.icmp, st.packets), st.tcp_syn, st.tcp_fin,
                st.flows_started);
    }
    return 0;
}
