/* dump-reader [-m] [-c] FILE: the packets of a capture file as libpktcap
 * reads them, one line each, "SEC.NSEC CAPLEN LEN IFACE LINKTYPE", then "END"
 * or "ERROR <code name>" (the message goes to stderr).
 *
 *   FILE  a path, or - for standard input (which may be a pipe)
 *   -m    read the whole file into memory first and use pktcap_reader_open_memory
 *   -c    finish with "COUNTS SECTIONS INTERFACES" (pcapng sections seen,
 *         interfaces declared), for comparison with a file's known block counts
 *
 * tests/reader/test_corpus.py compares this with dump-libpcap and tshark. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pktcap/pktcap.h>

#include "file/reader.h"

static void *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    char *data = NULL;
    size_t used = 0, cap = 0, got;
    if (!f)
        return NULL;
    do {
        if (used == cap) {
            char *grown;
            cap = cap ? cap * 2 : 65536;
            grown = realloc(data, cap);
            if (!grown) {
                free(data);
                fclose(f);
                return NULL;
            }
            data = grown;
        }
        got = fread(data + used, 1, cap - used, f);
        used += got;
    } while (got > 0);
    fclose(f);
    *size = used;
    return data;
}

int main(int argc, char **argv)
{
    int memory = 0, counts = 0, rc, i;
    const char *path = NULL;
    void *data = NULL;
    size_t size = 0;
    pktcap_reader *r = NULL;
    const pktcap_packet *p;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-m") == 0)
            memory = 1;
        else if (strcmp(argv[i], "-c") == 0)
            counts = 1;
        else
            path = argv[i];
    }
    if (!path) {
        fprintf(stderr, "usage: dump-reader [-m] [-c] FILE\n");
        return 2;
    }
    if (memory) {
        data = slurp(path, &size);
        if (!data) {
            perror(path);
            return 2;
        }
        rc = pktcap_reader_open_memory(&r, data, size);
    } else {
        rc = pktcap_reader_open(&r, path);
    }
    while (rc == 0 && (rc = pktcap_reader_next(&p, r)) == 0)
        printf("%lld.%09u %u %u %u %u\n", (long long)p->ts_sec, p->ts_nsec, p->caplen, p->len,
               p->interface, p->linktype);
    if (rc == PKTCAP_E_END) {
        printf("END\n");
    } else {
        printf("ERROR %s\n", pktcap_error_name(rc));
        fprintf(stderr, "dump-reader: %s\n", pktcap_error_message(pktcap_error_last()));
    }
    if (counts)
        printf("COUNTS %u %u\n", pktcap__reader_section_count(r), pktcap_reader_interface_count(r));
    pktcap_reader_close(r);
    free(data);
    return 0;
}
