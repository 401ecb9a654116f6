/* pktcap convert: rewrite a capture in another format, or into a rotating
 * storage target. */
#include "cli.h"

#include <pktcap/pktcap.h>

#include <getopt.h>
#include <string.h>

static int parse_format(const char *text, int *format)
{
    static const struct {
        const char *name;
        int format;
    } names[] = {
        { "pcap", PKTCAP_FORMAT_PCAP },
        { "pcap-nsec", PKTCAP_FORMAT_PCAP_NSEC },
        { "pcapng", PKTCAP_FORMAT_PCAPNG },
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(text, names[i].name) == 0) {
            *format = names[i].format;
            return 0;
        }
    }
    return -1;
}

/* Declares to the writer every interface the reader has seen that the
 * writer does not have yet (pcapng files may declare interfaces late). */
static int sync_interfaces(pktcap_writer *w, pktcap_reader *r, uint32_t *declared)
{
    uint32_t n = pktcap_reader_interface_count(r);
    for (; *declared < n; (*declared)++) {
        uint32_t i = *declared;
        int rc = pktcap_writer_add_interface(NULL, w, pktcap_reader_interface_linktype(r, i),
                                             pktcap_reader_interface_snaplen(r, i),
                                             pktcap_reader_interface_option(r, i, "if_name"),
                                             pktcap_reader_interface_option(r, i, "if_description"));
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int copy_section_options(pktcap_writer *w, pktcap_reader *r)
{
    static const char *const keys[] = { "shb_userappl", "shb_os", "shb_hardware", "shb_comment" };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const char *value = pktcap_reader_section_option(r, keys[i]);
        if (value) {
            int rc = pktcap_writer_set_option(w, keys[i], value);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

static int convert(pktcap_reader *r, pktcap_writer *w, const char *in, const char *out)
{
    uint32_t declared = 0;
    const pktcap_packet *p;
    int rc = copy_section_options(w, r);
    if (rc < 0)
        return cli_library_error(out, rc);
    while ((rc = pktcap_reader_next(&p, r)) == 0) {
        if (p->interface >= declared && (rc = sync_interfaces(w, r, &declared)) < 0)
            return cli_library_error(out, rc);
        if ((rc = pktcap_writer_write(w, p)) < 0)
            return cli_library_error(out, rc);
    }
    if (rc != PKTCAP_E_END)
        return cli_library_error(in, rc);
    /* Interfaces without packets are kept too. */
    if ((rc = sync_interfaces(w, r, &declared)) < 0)
        return cli_library_error(out, rc);
    return CLI_OK;
}

static int run_convert(int argc, char **argv)
{
    static const struct option options[] = {
        { "format", required_argument, NULL, 'F' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int format = PKTCAP_FORMAT_AUTO, c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":F:h", options, NULL)) != -1) {
        switch (c) {
        case 'F':
            if (parse_format(optarg, &format) < 0)
                return cli_usage_error("convert", "unknown format '%s' (pcap, pcap-nsec, pcapng)",
                                       optarg);
            break;
        case 'h':
            fputs(cli_cmd_convert.usage, stdout);
            return CLI_OK;
        case ':':
            return cli_usage_error("convert", "option '%s' needs a value", argv[optind - 1]);
        default:
            return cli_usage_error("convert", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind != 2)
        return cli_usage_error("convert", "expected IN and OUT, got %d argument%s", argc - optind,
                               argc - optind == 1 ? "" : "s");
    const char *in = argv[optind], *out = argv[optind + 1];

    pktcap_reader *r = NULL;
    pktcap_storage *st = NULL;
    pktcap_writer *w = NULL;
    int rc, status;
    if ((rc = pktcap_reader_open(&r, in)) < 0)
        return cli_library_error(in, rc);
    if ((rc = pktcap_storage_open(&st, out)) < 0) {
        status = cli_library_error(out, rc);
        goto done;
    }
    if ((rc = pktcap_writer_open(&w, st, format)) < 0) {
        status = cli_library_error(out, rc);
        goto done;
    }
    status = convert(r, w, in, out);
    if (status == CLI_OK) {
        rc = pktcap_writer_close(w);
        w = NULL;
        if (rc < 0)
            status = cli_library_error(out, rc);
    }
done:
    pktcap_writer_abort(w); /* after a failure: nothing is left under OUT's name */
    pktcap_storage_free(st);
    pktcap_reader_close(r);
    return status;
}

const struct cli_command cli_cmd_convert = {
    .name = "convert",
    .summary = "rewrite a capture file as pcap or pcapng, optionally rotating",
    .usage = "usage: pktcap convert [--format pcap|pcap-nsec|pcapng] IN OUT\n"
             "\n"
             "Reads IN (pcap or pcapng, '-' for standard input) and writes every packet,\n"
             "with its timestamp, lengths, interface, comment and direction flags, to OUT.\n"
             "OUT is a path, '-' for standard output, or a storage URI such as\n"
             "  'file:///dir/cap.pcapng?rotate_bytes=100M&rotate_files=10'\n"
             "(see doc/storage.md). OUT appears only once it is complete: a failure\n"
             "leaves nothing under its name.\n"
             "\n"
             "  -F, --format FMT   pcap (microseconds), pcap-nsec or pcapng; default: from\n"
             "                     OUT's format option or extension (.pcap -> pcap,\n"
             "                     anything else, and '-', -> pcapng)\n"
             "\n"
             "Classic pcap holds one link type: converting a pcapng file with several\n"
             "link types to pcap fails with a message naming them.\n"
             "\n"
             "Exit status: 0 converted; 1 the input is malformed or the output could\n"
             "not be written (no file is left under the output name); 2 usage error.\n"
             "\n"
             "Examples:\n"
             "  pktcap convert old.pcap new.pcapng\n"
             "  pktcap convert --format pcap-nsec in.pcapng out.pcap\n"
             "  pktcap convert big.pcapng 'file:///tmp/part.pcapng?rotate_bytes=10M'\n"
             "  cat in.pcap | pktcap convert - - > out.pcapng\n",
    .run = run_convert,
};
