/* summarize FILE: print one line per packet of a pcap or pcapng file, like
 * `pktcap summary FILE`, then how many packets there were.
 *
 *   cc -o summarize summarize.c $(pkg-config --cflags --libs libpktcap)
 *   ./summarize capture.pcapng
 *
 * Every libpktcap call returns 0 or a negative PKTCAP_E_* code; the detail
 * of the last failure is kept per thread (pktcap_error_last()). */
#include <pktcap/pktcap.h>

#include <stdint.h>
#include <stdio.h>

/* Fraction digits for an interface's timestamp resolution: 6 for
 * microseconds, 9 for nanoseconds (and for anything not a power of 10). */
static uint32_t resolution_digits(uint64_t units_per_second)
{
    uint32_t digits = 0;
    uint64_t scale = 1;
    while (digits < 9 && scale < units_per_second) {
        scale *= 10;
        digits++;
    }
    return scale == units_per_second ? digits : 9;
}

/* Report a failed call: the calling thread's last error message (it names
 * the file, option or request involved) and the code's name. */
static int fail(int rc)
{
    fprintf(stderr, "summarize: %s (%s)\n", pktcap_error_message(pktcap_error_last()),
            pktcap_error_name(rc));
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: summarize FILE\n");
        return 1;
    }
    const char *path = argv[1];

    /* The reader recognises pcap and pcapng by their magic ("-": stdin). */
    pktcap_reader *reader = NULL;
    int rc = pktcap_reader_open(&reader, path);
    if (rc < 0)
        return fail(rc);

    /* struct_size tells the library which version of the struct we know. */
    pktcap_summary summary = { .struct_size = sizeof summary };
    const pktcap_packet *packet;
    uint64_t count = 0;
    char line[2048]; /* longer than any summary line (doc/summary.md) */
    size_t length;

    /* pktcap_reader_next() returns 0 with a packet, PKTCAP_E_END at the end. */
    while ((rc = pktcap_reader_next(&packet, reader)) == 0) {
        rc = pktcap_summarize(&summary, packet);
        if (rc < 0)
            break;
        summary.number = ++count; /* the caller numbers the packets */
        /* Print times with the precision the packet's interface recorded. */
        summary.time_digits = resolution_digits(
            pktcap_reader_interface_tsresol(reader, packet->interface));
        rc = pktcap_summary_format(&length, line, sizeof line, PKTCAP_SUMMARY_TEXT, &summary);
        if (rc < 0)
            break;
        puts(line);
    }
    /* Anything but PKTCAP_E_END is a failure: a damaged file is summarised up
     * to the damage, and the message gives its byte offset. */
    int status = 0;
    if (rc != PKTCAP_E_END) {
        fflush(stdout); /* the lines read so far come first */
        status = fail(rc);
    } else {
        printf("%llu packets\n", (unsigned long long)count);
    }
    pktcap_reader_close(reader);
    return status;
}
