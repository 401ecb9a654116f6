/* Helpers shared by the writer and storage tests. */
#include "util.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *make_scratch_dir(void)
{
    char *dir = strdup("/tmp/pktcap-writer-test-XXXXXX");
    assert_non_null(dir);
    assert_non_null(mkdtemp(dir));
    return dir;
}

const char *path_in(const char *dir, const char *name)
{
    static char buf[4096];
    snprintf(buf, sizeof(buf), "%s/%s", dir, name);
    return buf;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char **list_dir(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0, cap = 16;
    char **names = calloc(cap + 1, sizeof(*names));
    assert_non_null(names);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (n == cap) {
            cap *= 2;
            names = realloc(names, (cap + 1) * sizeof(*names));
            assert_non_null(names);
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    names[n] = NULL;
    qsort(names, n, sizeof(*names), by_name);
    return names;
}

size_t count_names(char **names)
{
    size_t n = 0;
    while (names[n])
        n++;
    return n;
}

void free_names(char **names)
{
    for (size_t i = 0; names[i]; i++)
        free(names[i]);
    free(names);
}

size_t count_suffix(const char *dir, const char *suffix)
{
    char **names = list_dir(dir);
    size_t n = 0, slen = strlen(suffix);
    for (size_t i = 0; names[i]; i++) {
        size_t len = strlen(names[i]);
        if (len >= slen && strcmp(names[i] + len - slen, suffix) == 0)
            n++;
    }
    free_names(names);
    return n;
}

void remove_tree(char *dir)
{
    char **names = list_dir(dir);
    for (size_t i = 0; names[i]; i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        assert_int_equal(unlink(path), 0);
    }
    free_names(names);
    assert_int_equal(rmdir(dir), 0);
    free(dir);
}

uint8_t *read_whole(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    struct stat sb;
    assert_int_equal(fstat(fileno(f), &sb), 0);
    uint8_t *data = malloc((size_t)sb.st_size + 1);
    assert_non_null(data);
    assert_int_equal(fread(data, 1, (size_t)sb.st_size, f), (size_t)sb.st_size);
    fclose(f);
    *size = (size_t)sb.st_size;
    return data;
}

void write_whole(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, size, f), size);
    assert_int_equal(fclose(f), 0);
}

#define POOL_SIZE (4u << 20)

const uint8_t *pattern_bytes(uint8_t fill, size_t size)
{
    /* Twice the largest packet, so any fill can start a full run. */
    static uint8_t pool[POOL_SIZE + 256];
    static int ready;
    assert_true(size <= POOL_SIZE);
    if (!ready) {
        for (size_t i = 0; i < sizeof(pool); i++)
            pool[i] = (uint8_t)i;
        ready = 1;
    }
    return pool + fill;
}

pktcap_packet packet_of(uint32_t interface, int64_t sec, uint32_t nsec, uint32_t caplen, uint32_t len,
                        uint8_t fill)
{
    pktcap_packet p;
    memset(&p, 0, sizeof(p));
    p.struct_size = sizeof(p);
    p.interface = interface;
    p.ts_sec = sec;
    p.ts_nsec = nsec;
    p.caplen = caplen;
    p.len = len;
    p.data = pattern_bytes(fill, caplen);
    return p;
}

static void read_pcap(struct read_file *out, pcap_t *pc, const char *what, const char *errbuf)
{
    if (!pc)
        fail_msg("libpcap cannot open %s: %s", what, errbuf);
    memset(out, 0, sizeof(*out));
    out->linktype = pcap_datalink(pc);
    out->snaplen = pcap_snapshot(pc);
    size_t cap = 0;
    struct pcap_pkthdr *h;
    const u_char *data;
    int rc;
    while ((rc = pcap_next_ex(pc, &h, &data)) == 1) {
        if (out->count == cap) {
            cap = cap ? cap * 2 : 16;
            out->packets = realloc(out->packets, cap * sizeof(*out->packets));
            assert_non_null(out->packets);
        }
        struct read_packet *p = &out->packets[out->count++];
        p->sec = (int64_t)h->ts.tv_sec;
        p->nsec = (uint32_t)h->ts.tv_usec;
        p->caplen = h->caplen;
        p->len = h->len;
        p->data = malloc(h->caplen + 1);
        assert_non_null(p->data);
        memcpy(p->data, data, h->caplen);
    }
    if (rc != PCAP_ERROR_BREAK)
        fail_msg("libpcap failed reading %s after %zu packets: %s", what, out->count, pcap_geterr(pc));
    pcap_close(pc);
}

void read_with_libpcap(struct read_file *out, const char *path)
{
    char errbuf[PCAP_ERRBUF_SIZE] = "";
    pcap_t *pc = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, errbuf);
    read_pcap(out, pc, path, errbuf);
}

void read_bytes_with_libpcap(struct read_file *out, const void *data, size_t size)
{
    char errbuf[PCAP_ERRBUF_SIZE] = "";
    FILE *f = fmemopen((void *)data, size, "rb");
    assert_non_null(f);
    pcap_t *pc = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, errbuf);
    if (!pc)
        fclose(f);
    read_pcap(out, pc, "memory", errbuf);
}

void free_read_file(struct read_file *f)
{
    for (size_t i = 0; i < f->count; i++)
        free(f->packets[i].data);
    free(f->packets);
    memset(f, 0, sizeof(*f));
}

void assert_packets(const struct read_file *f, const pktcap_packet *expected, size_t count,
                    uint32_t ns_unit, uint32_t snaplen)
{
    assert_int_equal(f->count, count);
    for (size_t i = 0; i < count; i++) {
        const pktcap_packet *e = &expected[i];
        const struct read_packet *r = &f->packets[i];
        uint32_t caplen = snaplen && e->caplen > snaplen ? snaplen : e->caplen;
        assert_int_equal(r->sec, e->ts_sec);
        assert_int_equal(r->nsec, e->ts_nsec / ns_unit * ns_unit);
        assert_int_equal(r->caplen, caplen);
        assert_int_equal(r->len, e->len);
        assert_memory_equal(r->data, e->data, caplen);
    }
}

int next_block(struct block *b, const uint8_t *data, size_t size, size_t *offset)
{
    if (*offset == size)
        return 0;
    assert_true(size - *offset >= 12);
    const uint8_t *p = data + *offset;
    memcpy(&b->type, p, 4);
    memcpy(&b->length, p + 4, 4);
    assert_true(b->length >= 12);
    assert_int_equal(b->length % 4, 0);
    assert_true(b->length <= size - *offset);
    uint32_t trailer;
    memcpy(&trailer, p + b->length - 4, 4);
    assert_int_equal(trailer, b->length);
    b->body = p + 8;
    b->body_len = b->length - 12;
    *offset += b->length;
    return 1;
}

const uint8_t *find_option(const uint8_t *options, size_t size, uint16_t code, uint16_t *len)
{
    size_t off = 0;
    while (off + 4 <= size) {
        uint16_t c, l;
        memcpy(&c, options + off, 2);
        memcpy(&l, options + off + 2, 2);
        if (c == 0)
            return NULL;
        assert_true(off + 4 + l <= size);
        if (c == code) {
            *len = l;
            return options + off + 4;
        }
        off += 4 + ((l + 3u) & ~3u);
    }
    return NULL;
}

void golden_bytes(struct golden *g, const void *data, size_t size)
{
    assert_true(g->len + size <= sizeof(g->data));
    if (size)
        memcpy(g->data + g->len, data, size);
    g->len += size;
}

void golden_u16(struct golden *g, uint16_t v)
{
    golden_bytes(g, &v, sizeof(v));
}

void golden_u32(struct golden *g, uint32_t v)
{
    golden_bytes(g, &v, sizeof(v));
}

void golden_u64(struct golden *g, uint64_t v)
{
    golden_bytes(g, &v, sizeof(v));
}

void golden_option(struct golden *g, uint16_t code, const void *value, uint16_t size)
{
    static const uint8_t zeros[4];
    golden_u16(g, code);
    golden_u16(g, size);
    golden_bytes(g, value, size);
    golden_bytes(g, zeros, (4 - size % 4) % 4);
}

const char *last_message(void)
{
    return pktcap_error_message(pktcap_error_last());
}
