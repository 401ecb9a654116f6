/* convert_rotate IN OUTPATTERN BYTES: rewrite a pcap or pcapng capture as
 * pcapng through a storage target that starts a new file whenever the
 * current one holds BYTES bytes, then list the files it made.
 *
 *   cc -o convert_rotate convert_rotate.c $(pkg-config --cflags --libs libpktcap)
 *   ./convert_rotate big.pcap /tmp/part.pcapng 10M
 *   -> /tmp/part_00001_20240101120000.pcapng, /tmp/part_00002_....pcapng, ...
 *
 * OUTPATTERN is a path or a storage URI (file:///tmp/part.pcapng?rotate_files=5);
 * BYTES takes the suffixes k, M, G (x1000) and Ki, Mi, Gi (x1024). Each file
 * appears under its name only once it is complete (doc/storage.md). */
#include <pktcap/pktcap.h>

#include <stdint.h>
#include <stdio.h>

/* Report a failed call: the calling thread's last error message (it names
 * the file, option or request involved) and the code's name. */
static int fail(int rc)
{
    fprintf(stderr, "convert_rotate: %s (%s)\n", pktcap_error_message(pktcap_error_last()),
            pktcap_error_name(rc));
    return 1;
}

/* pcapng declares interfaces as it goes: give the writer every interface
 * the reader has seen and the writer does not have yet, in the same order,
 * so packet->interface means the same in both files. */
static int add_interfaces(pktcap_writer *writer, const pktcap_reader *reader, uint32_t *declared)
{
    for (; *declared < pktcap_reader_interface_count(reader); (*declared)++) {
        uint32_t i = *declared;
        int rc = pktcap_writer_add_interface(
            NULL, writer, pktcap_reader_interface_linktype(reader, i),
            pktcap_reader_interface_snaplen(reader, i),
            pktcap_reader_interface_option(reader, i, "if_name"),
            pktcap_reader_interface_option(reader, i, "if_description"));
        if (rc < 0)
            return rc;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: convert_rotate IN OUTPATTERN BYTES\n");
        return 1;
    }
    const char *in = argv[1], *out = argv[2], *bytes = argv[3];
    pktcap_reader *reader = NULL;
    pktcap_storage *storage = NULL;
    pktcap_writer *writer = NULL;
    const pktcap_packet *packet;
    uint64_t packets = 0;
    uint32_t declared = 0;
    int rc, status = 1;

    if ((rc = pktcap_reader_open(&reader, in)) < 0) {
        fail(rc);
        goto done;
    }
    /* The storage target decides where bytes go and when a new file starts. */
    if ((rc = pktcap_storage_open(&storage, out)) < 0 ||
        (rc = pktcap_storage_set(storage, "rotate_bytes", bytes)) < 0 ||
        (rc = pktcap_writer_open(&writer, storage, PKTCAP_FORMAT_PCAPNG)) < 0) {
        fail(rc);
        goto done;
    }
    while ((rc = pktcap_reader_next(&packet, reader)) == 0) {
        if ((rc = add_interfaces(writer, reader, &declared)) < 0 ||
            (rc = pktcap_writer_write(writer, packet)) < 0) {
            fail(rc);
            goto done;
        }
        packets++;
    }
    if (rc != PKTCAP_E_END) {
        fail(rc);
        goto done;
    }
    /* Interfaces without packets are kept too. Closing completes the last
     * file: only now does it take its final name. */
    rc = add_interfaces(writer, reader, &declared);
    if (rc == 0) {
        rc = pktcap_writer_close(writer);
        writer = NULL;
    }
    if (rc < 0) {
        fail(rc);
        goto done;
    }

    /* The files completed, in order. */
    size_t files = pktcap_storage_file_count(storage);
    for (size_t i = 0; i < files; i++)
        printf("%s\n", pktcap_storage_file_path(storage, i));
    printf("%llu packets in %zu files\n", (unsigned long long)packets, files);
    status = 0;

done:
    pktcap_writer_abort(writer); /* after a failure: the unfinished file is removed */
    pktcap_storage_free(storage);
    pktcap_reader_close(reader);
    return status;
}
