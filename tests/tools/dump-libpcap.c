/* dump-libpcap FILE: the packets of a capture file as libpcap reads them, one
 * line each, "SEC.NSEC CAPLEN LEN IFACE LINKTYPE", then "END" or "ERROR".
 * The reference for tests/reader/test_corpus.py, which runs dump-reader on the
 * same file.
 *
 * libpcap does not tell which interface a pcapng packet came on, so IFACE is
 * printed as "-"; the test checks that column against tshark instead. */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>

/* pcap_datalink() answers with a DLT_ value; the files (and our reader) hold
 * LINKTYPE_ values. This undoes libpcap's linktype_to_dlt() for the values
 * that differ on Linux (libpcap's pcap-common.c). */
static int dlt_to_linktype(int dlt)
{
    switch (dlt) {
    case DLT_ATM_RFC1483: return 100;
    case DLT_RAW: return 101;
    case DLT_SLIP_BSDOS: return 102;
    case DLT_PPP_BSDOS: return 103;
    case DLT_ATM_CLIP: return 106;
    default: return dlt;
    }
}

/* Nanoseconds of 10^9 or more (a classic pcap file with a bad fraction field)
 * are carried into the seconds, so both tools print one spelling of each
 * instant. */
static void print_packet(const struct pcap_pkthdr *h, int linktype)
{
    int64_t sec = (int64_t)h->ts.tv_sec;
    int64_t nsec = (int64_t)h->ts.tv_usec;
    sec += nsec / 1000000000;
    nsec %= 1000000000;
    if (nsec < 0) {
        nsec += 1000000000;
        sec -= 1;
    }
    printf("%lld.%09lld %u %u - %d\n", (long long)sec, (long long)nsec,
           h->caplen, h->len, linktype);
}

int main(int argc, char **argv)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    struct pcap_pkthdr *hdr;
    const u_char *data;
    pcap_t *p;
    int rc;

    if (argc != 2) {
        fprintf(stderr, "usage: dump-libpcap FILE\n");
        return 2;
    }
    p = pcap_open_offline_with_tstamp_precision(argv[1], PCAP_TSTAMP_PRECISION_NANO, errbuf);
    if (!p) {
        printf("ERROR\n");
        fprintf(stderr, "dump-libpcap: %s\n", errbuf);
        return 0;
    }
    while ((rc = pcap_next_ex(p, &hdr, &data)) == 1)
        print_packet(hdr, dlt_to_linktype(pcap_datalink(p)));
    if (rc == PCAP_ERROR_BREAK) {
        printf("END\n");
    } else {
        printf("ERROR\n");
        fprintf(stderr, "dump-libpcap: %s\n", pcap_geterr(p));
    }
    pcap_close(p);
    return 0;
}
