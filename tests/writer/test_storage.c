/* Storage targets: every URI form and option, every refusal, atomic files,
 * memory and callback targets. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pktcap/pktcap.h>
#include "util.h"

#define MAGIC_USEC 0xa1b2c3d4u
#define MAGIC_NSEC 0xa1b23c4du
#define MAGIC_PCAPNG 0x0A0D0D0Au

static pktcap_storage *open_ok(const char *uri)
{
    pktcap_storage *st = NULL;
    int rc = pktcap_storage_open(&st, uri);
    if (rc != 0)
        fail_msg("pktcap_storage_open(%s): %s", uri, last_message());
    return st;
}

/* Writes the same three packets on one Ethernet interface, with fixed
 * section options so bytes compare across targets. */
static int write_sample(pktcap_storage *st, int format)
{
    pktcap_writer *w;
    int rc = pktcap_writer_open(&w, st, format);
    if (rc != 0)
        return rc;
    assert_int_equal(pktcap_writer_set_option(w, "shb_os", "os"), 0);
    assert_int_equal(pktcap_writer_set_option(w, "shb_hardware", "hw"), 0);
    assert_int_equal(pktcap_writer_add_interface(NULL, w, 1, 0, "eth0", NULL), 0);
    for (int i = 0; i < 3; i++) {
        pktcap_packet p = packet_of(0, 1000 + i, (uint32_t)i * 1000, 60 + (uint32_t)i, 60 + (uint32_t)i,
                                    (uint8_t)i);
        rc = pktcap_writer_write(w, &p);
        if (rc != 0) {
            assert_int_equal(pktcap_writer_close(w), rc);
            return rc;
        }
    }
    return pktcap_writer_close(w);
}

static uint32_t magic_of(const char *path)
{
    size_t size;
    uint8_t *data = read_whole(path, &size);
    uint32_t magic = 0;
    assert_true(size >= 4);
    memcpy(&magic, data, 4);
    free(data);
    return magic;
}

static void assert_file_equals(const char *path, const void *data, size_t size)
{
    size_t got;
    uint8_t *bytes = read_whole(path, &got);
    assert_int_equal(got, size);
    assert_memory_equal(bytes, data, size);
    free(bytes);
}

static void a_plain_path_becomes_a_file_of_that_name(void **state)
{
    (void)state;
    char *dir = make_scratch_dir();
    char *path = strdup(path_in(dir, "cap.pcapng"));
    pktcap_storage *st = open_ok(path);
    assert_int_equal(write_sample(st, PKTCAP_FORMAT_AUTO), 0);
    char **names = list_dir(dir);
    assert_int_equal(count_names(names), 1);
    assert_string_equal(names[0], "cap.pcapng");
    free_names(names);
    assert_int_equal(pktcap_storage_file_count(st), 1);
    assert_string_equal(pktcap_storage_file_path(st, 0), path);
    assert_null(pktcap_storage_file_path(st, 1));
    assert_int_equal(magic_of(path), MAGIC_PCAPNG);
    pktcap_storage_free(st);
    free(path);
    remove_tree(dir);
}

static void a_relative_path_is_written_beside_itself(void **state)
{
    (void)state;
    char *dir = make_scratch_dir();
    char cwd[4096];
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir(dir), 0);
    pktcap_storage *st = open_ok("rel.pcap");
    assert_int_equal(write_sample(st, PKTCAP_FORMAT_AUTO), 0);
    assert_string_equal(pktcap_storage_file_path(st, 0), "rel.pcap");
    assert_int_equal(magic_of("rel.pcap"), MAGIC_USEC);
    pktcap_storage_free(st);
    assert_int_equal(chdir(cwd), 0);
    char **names = list_dir(dir);
    assert_int_equal(count_names(names), 1);
    free_names(names);
    remove_tree(dir);
}

static void nothing_is_created_before_the_first_write(void **state)
{
    (void)state;
    char *dir = make_scratch_dir();
    pktcap_storage *st = open_ok(path_in(dir, "later.pcap"));
    pktcap_writer *w;
    assert_int_equal(pktcap_writer_open(&w, st, PKTCAP_FORMAT_AUTO), 0);
    assert_int_equal(pktcap_writer_add_interface(NULL, w, 1, 0, NULL, NULL), 0);
    char **names = list_dir(dir);
    assert_int_equal(count_names(names), 0);
    free_names(names);
    pktcap_writer_abort(w);
    names = list_dir(dir);
    assert_int_equal(count_names(names), 0);
    free_names(names);
    assert_int_equal(pktcap_storage_file_count(st), 0);
    pktcap_storage_free(st);
    remove_tree(dir);
}

static void a_file_uri_is_percent_decoded_and_takes_options(void **state)
{
    (void)state;
    char *dir = make_scratch_dir();
    char uri[4200];
    snprintf(uri, sizeof(uri), "file://%s/a%%20b%%3Fc.pcapng?format=pcap", dir);
    pktcap_storage *st = open_ok(uri);
    assert_int_equal(write_sample(st, PKTCAP_FORMAT_AUTO), 0);
    const char *file = path_in(dir, "a b?c.pcapng");
    assert_string_equal(pktcap_storage_file_path(st, 0), file);
    assert_int_equal(magic_of(file), MAGIC_USEC);
    pktcap_storage_free(st);

    snprintf(uri, sizeof(uri), "file://localhost%s/local.pcap?format=pcap-nsec", dir);
    st = open_ok(uri);
    assert_int_equal(write_sample(st, PKTCAP_FORMAT_AUTO), 0);
    assert_int_equal(magic_of(path_in(dir, "local.pcap")), MAGIC_NSEC);
    pktcap_storage_free(st);

    snprintf(uri, sizeof(uri), "file:%s/single-slash.pcap", dir);
    st = open_ok(uri);
    assert_int_equal(write_sample(st, PKTCAP_FORMAT_AUTO), 0);
    assert_int_equal(magic_of(path_in(dir, "single-slash.pcap")), MAGIC_USEC);
    pktcap_storage_free(st);
    remove_tree(dir);
}

static void expect_open_refused(const char *uri, int code, const char *message)
{
    pktcap_storage *st = (pktcap_storage *)0x1;
    assert_int_equal(pktcap_storage_open(&st, uri), code);
    assert_ptr_equal(st, (pktcap_storage *)0x1);
    if (message)
        assert_string_equal(last_message(), message);
}

static void malformed_names_are_refused(void **state)
{
    (void)state;
    expect_open_refused("file://server/share/x.pcap", PKTCAP_E_INVAL,
                        "storage 'file://server/share/x.pcap': file URIs name a local file; host "
                        "'server' is not empty or localhost");
    expect_open_refused("file:relative.pcap", PKTCAP_E_INVAL,
                        "storage 'file:relative.pcap': a file URI needs an absolute path "
                        "(file:///dir/name)");
    expect_open_refused("/tmp/", PKTCAP_E_INVAL,
                        "storage '/tmp/': '/tmp/' names a directory, not a file");
    expect_open_refused("file:///tmp/..", PKTCAP_E_INVAL,
                        "storage 'file:///tmp/..': '/tmp/..' names a directory, not a file");
    expect_open_refused("", PKTCAP_E_INVAL, "empty URI");
    expect_open_refused("mem:extra", PKTCAP_E_INVAL,
                        "storage 'mem:extra': write mem: with nothing after the colon");
    expect_open_refused("fd:abc", PKTCAP_E_INVAL,
                        "storage 'fd:abc': write fd:N with N a descriptor number");
    expect_open_refused("fd:1k", PKTCAP_E_INVAL, "storage 'fd:1k': write fd:N with N a descriptor number");
    expect_open_refused("fd:", PKTCAP_E_INVAL,
                        "storage 'fd:' descriptor: '' is not a number (digits, optionally followed by "
                        "k, M, G, T, Ki, Mi, Gi or Ti)");
    expect_open_refused("fd:2147483648", PKTCAP_E_INVAL,
                        "storage 'fd:2147483648' descriptor: 2147483648 is out of range (0 to 2147483647)");
    expect_open_refused("fd://3", PKTCAP_E_INVAL, "storage 'fd://3': write fd:N with N a descriptor number");
    expect_open_refused("fd:99999", PKTCAP_E_INVAL,
                        "storage 'fd:99999': descriptor 99999: Bad file descriptor");
    expect_open_refused("file:///tmp/x%zz.pcap", PKTCAP_E_INVAL, NULL);
    pktcap_storage *st = (pktcap_storage *)0x1;
    assert_int_equal(pktcap_storage_open(NULL, "mem:"), PKTCAP_E_INVAL);
    assert_int_equal(pktcap_storage_open(&st, NULL), PKTCAP_E_INVAL);
    assert_string_equal(last_message(), "pktcap_storage_open: uri is NULL");
    assert_int_equal(pktcap_storage_new_callback(&st, NULL, NULL), PKTCAP_E_INVAL);
    assert_string_equal(last_message(), "pktcap_storage_new_callback: write is NULL");
    assert_ptr_equal(st, (pktcap_storage *)0x1);
}

static void unknown_schemes_are_not_supported(void **state)
{
    (void)state;
    expect_open_refused("http://x", PKTCAP_E_NOTSUP,
                        "storage 'http://x': unsupported scheme 'http' (supported: file path, file://, "
                        "-, fd:N, mem:, azblob://, s3://, gs://, r2://)");
    expect_open_refused("smb://server/share/x.pcap", PKTCAP_E_NOTSUP, NULL);
}

static void remote_targets_keep_their_uri_and_refuse_writers(void **state)
{
    (void)state;
    static const char *const uris[] = {
        "azblob://account/container/cap.pcap?storage_id=/subscriptions/s/x",
        "S3://bucket/dir?region=eu-west-1",
        "gs://bucket/x",
        "r2://bucket/x",
    };
    for (size_t i = 0; i < sizeof uris / sizeof uris[0]; i++) {
        pktcap_storage *st = open_ok(uris[i]);
        pktcap_writer *w = (pktcap_writer *)0x1;
        /* Any key is kept for the provider, an existing one replaced. */
        assert_int_equal(pktcap_storage_set(st, "storage_id", "/subscriptions/other"), 0);
        assert_int_equal(pktcap_storage_set(st, "anything", "goes"), 0);
        assert_int_equal(pktcap_writer_open(&w, st, PKTCAP_FORMAT_PCAPNG), PKTCAP_E_NOTSUP);
        char expected[256];
        snprintf(expected, sizeof expected, "storage '%s' is a remote target that a provider "
                 "writes to; write or fetch into a local target instead", uris[i]);
        assert_string_equal(last_message(), expected);
        assert_ptr_equal(w, (pktcap_writer *)0x1);
        assert_int_equal(pktcap_storage_file_count(st), 0);
        pktcap_storage_free(st);
    }
    expect_open_refused("azblob:///container/x", PKTCAP_E_INVAL,
                        "storage 'azblob:///container/x': name the storage account after the "
                        "slashes (azblob://NAME/…)");
    expect_open_refused("s3:bucket", PKTCAP_E_INVAL,
                        "storage 's3:bucket': name the bucket after the slashes (s3://NAME/…)");
    expect_open_refused("azblob://account", PKTCAP_E_INVAL,
                        "storage 'azblob://account': an azblob target names a container: "
                        "azblob://ACCOUNT/CONTAINER[/PATH]");
    expect_open_refused("azblob://account/", PKTCAP_E_INVAL, NULL);
}

static void a_descriptor_target_writes_to_it_and_leaves_it_open(void **state)
{
    (void)state;
    char *dir = make_scratch_dir();
    char *file = strdup(path_in(dir, "by-fd.bin"));
    int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    char uri[32];
    snprintf(uri, sizeof(uri), "fd:%d?format=pcap&fsync=true", fd);
    pktcap_storage *st = open_ok(uri);
    assert_int_equal(write_sample(st, PKTCAP_FORMAT_AUTO), 0);
    assert_int_equal(pktcap_storage_file_count(st), 0);
    pktcap_storage_free(st);
    assert_true(fcntl(fd, F_GETFD) >= 0);
    assert_int_equal(close(fd), 0);

    pktcap_storage *mem = open_ok("mem:");
    assert_int_equal(write_sample(mem, PKTCAP_FORMAT_PCAP), 0);
    const void *data;
    size_t size;
    assert_int_equal(pktcap_storage_memory(&data, &size, mem), 0);
    assert_file_equals(file, data, size);
    pktcap_storage_free(mem);

    int ro = open(file, O_RDONLY);
    assert_true(ro >= 0);
    snprintf(uri, sizeof(uri), "fd:%d", ro);
    char message[128];
    snprintf(message, sizeof(message), "storage 'fd:%d': descriptor %d is open read-only", ro, ro);
    expect_open_refused(uri, PKTCAP_E_INVAL, message);
    close(ro);
    free(file);
    remove_tree(dir);
}

static void dash_is_standard_output(void **state)
{
    (void)state;
    char *dir = make_scratch_dir();
    char *file = strdup(path_in(dir, "stdout.bin"));
    fflush(stdout);
    int saved = dup(1);
    int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(saved >= 0 && fd >= 0);
    assert_int_equal(dup2(fd, 1), 1);
    close(fd);
    pktcap_storage *st = open_ok("-");
    int rc = write_sample(st, PKTCAP_FORMAT_AUTO);
    pktcap_storage_free(st);
    assert_int_equal(dup2(saved, 1), 1);
    close(saved);
    assert_int_equal(rc, 0);

    pktcap_storage *mem = open_ok("mem:");
    assert_int_equal(write_sample(mem, PKTCAP_FORMAT_AUTO), 0);
    const void *data;
    size_t size;
    assert_int_equal(pktcap_storage_memory(&data, &size, mem), 0);
    assert_file_equals(file, data, size); /* pcapng: no extension to go by */
    pktcap_storage_free(mem);
    free(file);
    remove_tree(dir);
}

static void the_format_defaults_to_the_extension(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        uint32_t magic;
    } cases[] = {
        { "a.pcap", MAGIC_USEC }, { "b.PCAP", MAGIC_USEC },     { "c.pcapng", MAGIC_PCAPNG },
        { "d.cap", MAGIC_PCAPNG }, { "noext", MAGIC_PCAPNG },   { "e.pcap.gz", MAGIC_PCAPNG },
        { ".pcap", MAGIC_PCAPNG }, { "f.ntar", MAGIC_PCAPNG },
    };
    char *dir = make_scratch_dir();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *path = strdup(path_in(dir, cases[i].name));
        pktcap_storage *st = open_ok(path);
        assert_int_equal(write_sample(st, PKTCAP_FORMAT_AUTO), 0);
        assert_int_equal(magic_of(path), cases[i].magic);
        pktcap_storage_free(st);
        free(path);
    }
    /* An explicit format wins over both the extension and the option. */
    char *path = strdup(path_in(dir, "explicit.pcap"));
    pktcap_storage *st = open_ok(path);
    assert_int_equal(write_sample(st, PKTCAP_FORMAT_PCAPNG), 0);
    assert_int_equal(magic_of(path), MAGIC_PCAPNG);
    pktcap_storage_free(st);
    free(path);
    remove_tree(dir);
}

static void the_format_option_chooses_for_auto(void **state)
{
    (void)state;
    static const struct {
        const char *value;
        uint32_t magic;
    } cases[] = { { "pcap", MAGIC_USEC }, { "pcap-nsec", MAGIC_NSEC }, { "pcapng", MAGIC_PCAPNG } };
    for (size_t i = 0; i < 3; i++) {
        pktcap_storage *st = open_ok("mem:");
        assert_int_equal(pktcap_storage_set(st, "format", cases[i].value), 0);
        assert_int_equal(write_sample(st, PKTCAP_FORMAT_AUTO), 0);
        const void *data;
        size_t size;
        assert_int_equal(pktcap_storage_memory(&data, &size, st), 0);
        uint32_t magic;
        memcpy(&magic, data, 4);
        assert_int_equal(magic, cases[i].magic);
        pktcap_storage_free(st);
    }
    pktcap_storage *st = open_ok("mem:?format=pcap");
    assert_int_equal(write_sample(st, PKTCAP_FORMAT_AUTO), 0);
    const void *data;
    size_t size;
    assert_int_equal(pktcap_storage_memory(&data, &size, st), 0);
    uint32_t magic;
    memcpy(&magic, data, 4);
    assert_int_equal(magic, MAGIC_USEC);
    pktcap_storage_free(st);
}

static void options_are_checked_by_key_target_and_value(void **state)
{
    (void)state;
    pktcap_storage *st = open_ok("mem:");
    assert_int_equal(pktcap_storage_set(st, "colour", "red"), PKTCAP_E_INVAL);
    assert_string_equal(last_message(),
                        "storage 'mem:': unknown option 'colour' (known: format, rotate_bytes, "
                        "rotate_seconds, rotate_files, overwrite, fsync)");
    assert_int_equal(pktcap_storage_set(st, "format", "pcapx"), PKTCAP_E_INVAL);
    assert_string_equal(last_message(),
                        "storage 'mem:' option 'format': 'pcapx' is not one of pcap, pcap-nsec, pcapng");
    static const char *const not_for_memory[] = { "rotate_bytes", "rotate_seconds", "rotate_files",
                                                  "overwrite", "fsync" };
    for (size_t i = 0; i < 5; i++) {
        char expect[200];
        assert_int_equal(pktcap_storage_set(st, not_for_memory[i], "1"), PKTCAP_E_NOTSUP);
        snprintf(expect, sizeof(expect), "storage 'mem:': option '%s' does not apply to a memory target",
                 not_for_memory[i]);
        assert_string_equal(last_message(), expect);
    }
    assert_int_equal(pktcap_storage_set(st, "format", NULL), PKTCAP_E_INVAL);
    assert_int_equal(pktcap_storage_set(NULL, "format", "pcap"), PKTCAP_E_INVAL);
    assert_string_equal(last_message(), "pktcap_storage_set: storage is NULL");
    pktcap_storage_free(st);

    st = open_ok("fd:1");
    assert_int_equal(pktcap_storage_set(st, "rotate_bytes", "1M"), PKTCAP_E_NOTSUP);
    assert_string_equal(last_message(),
                        "storage 'fd:1': option 'rotate_bytes' does not apply to a descriptor target");
    assert_int_equal(pktcap_storage_set(st, "overwrite", "false"), PKTCAP_E_NOTSUP);
    assert_int_equal(pktcap_storage_set(st, "fsync", "true"), 0);
    pktcap_storage_free(st);
}

static void option_values_are_checked_and_a_refused_one_changes_nothing(void **state)
{
    (void)state;
    pktcap_storage *st = open_ok("/tmp/x.pcap");
    assert_int_equal(pktcap_storage_set(st, "rotate_bytes", "0"), PKTCAP_E_INVAL);
    assert_string_equal(last_message(), "storage '/tmp/x.pcap' option 'rotate_bytes': 0 is out of "
                                        "range (1 to 18446744073709551615)");
    assert_int_equal(pktcap_storage_set(st, "rotate_seconds", "soon"), PKTCAP_E_INVAL);
    assert_string_equal(last_message(), "storage '/tmp/x.pcap' option 'rotate_seconds': 'soon' is not "
                                        "a number (digits, optionally followed by k, M, G, T, Ki, "
                                        "Mi, Gi or Ti)");
    assert_int_equal(pktcap_storage_set(st, "rotate_files", "0"), PKTCAP_E_INVAL);
    assert_int_equal(pktcap_storage_set(st, "rotate_files", "4294967296"), PKTCAP_E_INVAL);
    assert_int_equal(pktcap_storage_set(st, "overwrite", "maybe"), PKTCAP_E_INVAL);
    assert_string_equal(last_message(), "storage '/tmp/x.pcap' option 'overwrite': 'maybe' is not a "
                                        "boolean (true/false, yes/no, on/off, 1/0)");
    assert_int_equal(pktcap_storage_set(st, "fsync", ""), PKTCAP_E_INVAL);
    assert_int_equal(pktcap_storage_set(st, "format", "pcapng"), 0);
    assert_int_equal(pktcap_storage_set(st, "format", "ng"), PKTCAP_E_INVAL);
    pktcap_storage_free(st);

    /* The refused values left no rotation behind and the format as set. */
    char *dir = make_scratch_dir();
    char *path = strdup(path_in(dir, "kept.pcap"));
    st = open_ok(path);
    assert_int_equal(pktcap_storage_set(st, "format", "pcapng"), 0);
    assert_int_equal(pktcap_storage_set(st, "rotate_bytes", "-1"), PKTCAP_E_INVAL);
    assert_int_equal(pktcap_storage_set(st, "format", "ng"), PKTCAP_E_INVAL);
    assert_int_equal(write_sample(st, PKTCAP_FORMAT_AUTO), 0);
    assert_string_equal(pktcap_storage_file_path(st, 0), path);
    assert_int_equal(magic_of(path), MAGIC_PCAPNG);
    pktcap_storage_free(st);
    free(path);
    remove_tree(dir);
}

static void an_unknown_option_in_the_uri_refuses_the_open(void **state)
{
    (void)state;
    expect_open_refused("file:///tmp/x.pcap?rotate_byte=10", PKTCAP_E_INVAL,
                        "storage 'file:///tmp/x.pcap?rotate_byte=10': unknown option 'rotate_byte' "
                        "(known: format, rotate_bytes, rotate_seconds, rotate_files, overwrite, fsync)");
    expect_open_refused("mem:?rotate_files=3", PKTCAP_E_NOTSUP,
                        "storage 'mem:?rotate_files=3': option 'rotate_files' does not apply to a "
                        "memory target");
    expect_open_refused("file:///tmp/x.pcap?rotate_bytes=1x", PKTCAP_E_INVAL, NULL);
}

static void options_are_frozen_once_a_writer_used_the_target(void **state)
{
    (void)state;
    pktcap_storage *st = open_ok("mem:");
    pktcap_writer *w;
    assert_int_equal(pktcap_writer_open(&w, st, PKTCAP_FORMAT_AUTO), 0);
    assert_int_equal(pktcap_storage_set(st, "format", "pcap"), PKTCAP_E_STATE);
    assert_string_equal(last_message(), "storage 'mem:': option 'format' cannot change once writing began");
    assert_int_equal(pktcap_writer_close(w), 0);
    assert_int_equal(pktcap_storage_set(st, "format", "pcap"), PKTCAP_E_STATE);
    pktcap_storage_free(st);
}

static void overwrite_defaults_to_replacing_the_file(void **state)
{
    (void)state;
    char *dir = make_scratch_dir();
    char *path = strdup(path_in(dir, "old.pcap"));
    write_whole(path, "old bytes", 9);
    pktcap_storage *st = open_ok(path);
    assert_int_equal(write_sample(st, PKTCAP_FORMAT_AUTO), 0);
    assert_int_equal(magic_of(path), MAGIC_USEC);
    pktcap_storage_free(st);
    char **names = list_dir(dir);
    assert_int_equal(count_names(names), 1);
    free_names(names);
    free(path);
    remove_tree(dir);
}

static void overwrite_false_leaves_an_existing_file_untouched(void **state)
{
    (void)state;
    char *dir = make_scratch_dir();
    char *path = strdup(path_in(dir, "keep.pcap"));
    write_whole(path, "precious", 8);
    char uri[4200];
    snprintf(uri, sizeof(uri), "file://%s?overwrite=false", path);
    pktcap_storage *st = open_ok(uri);
    assert_int_equal(write_sample(st, PKTCAP_FORMAT_AUTO), PKTCAP_E_EXISTS);
    char expect[4400];
    snprintf(expect, sizeof(expect), "storage '%s': %s already exists (overwrite=false)", uri, path);
    assert_string_equal(last_message(), expect);
    assert_file_equals(path, "precious", 8);
    assert_int_equal(pktcap_storage_file_count(st), 0);
    char **names = list_dir(dir);
    assert_int_equal(count_names(names), 1);
    free_names(names);
    pktcap_storage_free(st);

    /* A name that is free is written as usual. */
    char *other = strdup(path_in(dir, "new.pcap"));
    st = open_ok(other);
    assert_int_equal(pktcap_storage_set(st, "overwrite", "false"), 0);
    assert_int_equal(write_sample(st, PKTCAP_FORMAT_AUTO), 0);
    assert_int_equal(magic_of(other), MAGIC_USEC);
    pktcap_storage_free(st);
    free(other);
    free(path);
    remove_tree(dir);
}

static void overwrite_false_refuses_a_file_that_appears_while_writing(void **state)
{
    (void)state;
    char *dir = make_scratch_dir();
    char *path = strdup(path_in(dir, "race.pcap"));
    pktcap_storage *st = open_ok(path);
    assert_int_equal(pktcap_storage_set(st, "overwrite", "false"), 0);
    pktcap_writer *w;
    assert_int_equal(pktcap_writer_open(&w, st, PKTCAP_FORMAT_AUTO), 0);
    assert_int_equal(pktcap_writer_add_interface(NULL, w, 1, 0, NULL, NULL), 0);
    pktcap_packet p = packet_of(0, 1, 0, 10, 10, 0);
    assert_int_equal(pktcap_writer_write(w, &p), 0);
    assert_int_equal(pktcap_writer_flush(w), 0);
    write_whole(path, "intruder", 8);
    assert_int_equal(pktcap_writer_close(w), PKTCAP_E_EXISTS);
    char expect[4400];
    snprintf(expect, sizeof(expect), "storage '%s': %s already exists (overwrite=false)", path, path);
    assert_string_equal(last_message(), expect);
    assert_file_equals(path, "intruder", 8);
    assert_int_equal(count_suffix(dir, ".part"), 0);
    assert_int_equal(pktcap_storage_file_count(st), 0);
    pktcap_storage_free(st);
    free(path);
    remove_tree(dir);
}

static void memory_holds_the_same_bytes_as_a_file(void **state)
{
    (void)state;
    static const int formats[] = { PKTCAP_FORMAT_PCAP, PKTCAP_FORMAT_PCAP_NSEC, PKTCAP_FORMAT_PCAPNG };
    char *dir = make_scratch_dir();
    char *path = strdup(path_in(dir, "same.bin"));
    for (int i = 0; i < 3; i++) {
        pktcap_storage *file = open_ok(path);
        pktcap_storage *mem = open_ok("mem:");
        assert_int_equal(write_sample(file, formats[i]), 0);
        assert_int_equal(write_sample(mem, formats[i]), 0);
        const void *data;
        size_t size;
        assert_int_equal(pktcap_storage_memory(&data, &size, mem), 0);
        assert_true(size > 24);
        assert_file_equals(path, data, size);
        pktcap_storage_free(file);
        pktcap_storage_free(mem);
    }
    free(path);
    remove_tree(dir);
}

static void memory_keeps_one_capture_and_drops_an_abandoned_one(void **state)
{
    (void)state;
    pktcap_storage *st = open_ok("mem:");
    const void *data = (const void *)0x1;
    size_t size = 99;
    assert_int_equal(pktcap_storage_memory(&data, &size, st), 0);
    assert_null(data);
    assert_int_equal(size, 0);
    assert_int_equal(write_sample(st, PKTCAP_FORMAT_PCAP), 0);
    assert_int_equal(pktcap_storage_memory(&data, &size, st), 0);
    assert_int_equal(size, 24 + 3 * 16 + 60 + 61 + 62);
    /* A second capture replaces the first rather than following it. */
    assert_int_equal(write_sample(st, PKTCAP_FORMAT_PCAP), 0);
    assert_int_equal(pktcap_storage_memory(&data, &size, st), 0);
    assert_int_equal(size, 24 + 3 * 16 + 60 + 61 + 62);

    pktcap_writer *w;
    assert_int_equal(pktcap_writer_open(&w, st, PKTCAP_FORMAT_PCAP), 0);
    assert_int_equal(pktcap_writer_flush(w), 0);
    assert_int_equal(pktcap_storage_memory(&data, &size, st), 0);
    assert_int_equal(size, 24);
    pktcap_writer_abort(w);
    assert_int_equal(pktcap_storage_memory(&data, &size, st), 0);
    assert_null(data);
    assert_int_equal(size, 0);

    pktcap_storage *file = open_ok("/tmp/x.pcap");
    assert_int_equal(pktcap_storage_memory(&data, &size, file), PKTCAP_E_INVAL);
    assert_string_equal(last_message(), "storage '/tmp/x.pcap' is not a memory target (mem:)");
    assert_int_equal(pktcap_storage_memory(NULL, &size, st), PKTCAP_E_INVAL);
    pktcap_storage_free(file);
    pktcap_storage_free(st);
}

struct sink {
    uint8_t *bytes;
    size_t size;
    int calls;
    int final_calls;
    int fail_at_call;   /* 1-based; 0 = never */
    int fail_with;
    int fail_at_final;
};

static int collect(const void *data, size_t size, void *userdata)
{
    struct sink *s = userdata;
    s->calls++;
    if (!data) {
        assert_int_equal(size, 0);
        s->final_calls++;
        return s->fail_at_final ? s->fail_with : 0;
    }
    assert_int_equal(s->final_calls, 0);
    if (s->fail_at_call == s->calls)
        return s->fail_with;
    s->bytes = realloc(s->bytes, s->size + size);
    assert_non_null(s->bytes);
    memcpy(s->bytes + s->size, data, size);
    s->size += size;
    return 0;
}

static void a_callback_gets_the_same_bytes_then_one_final_call(void **state)
{
    (void)state;
    struct sink sink = { .bytes = NULL };
    pktcap_storage *cb;
    assert_int_equal(pktcap_storage_new_callback(&cb, collect, &sink), 0);
    assert_int_equal(pktcap_storage_set(cb, "rotate_bytes", "10"), PKTCAP_E_NOTSUP);
    assert_string_equal(last_message(),
                        "storage 'callback': option 'rotate_bytes' does not apply to a callback target");
    pktcap_storage *mem = open_ok("mem:");
    assert_int_equal(write_sample(cb, PKTCAP_FORMAT_AUTO), 0);
    assert_int_equal(write_sample(mem, PKTCAP_FORMAT_AUTO), 0);
    const void *data;
    size_t size;
    assert_int_equal(pktcap_storage_memory(&data, &size, mem), 0);
    assert_int_equal(sink.size, size);
    assert_memory_equal(sink.bytes, data, size);
    assert_int_equal(sink.final_calls, 1);
    assert_int_equal(pktcap_storage_file_count(cb), 0);
    assert_null(pktcap_storage_file_path(cb, 0));
    pktcap_storage_free(cb);
    pktcap_storage_free(mem);
    free(sink.bytes);
}

static void a_callback_error_poisons_the_writer_with_its_code(void **state)
{
    (void)state;
    struct sink sink = { .fail_at_call = 2, .fail_with = PKTCAP_E_CANCELED };
    pktcap_storage *cb;
    assert_int_equal(pktcap_storage_new_callback(&cb, collect, &sink), 0);
    pktcap_writer *w;
    assert_int_equal(pktcap_writer_open(&w, cb, PKTCAP_FORMAT_PCAP), 0);
    assert_int_equal(pktcap_writer_add_interface(NULL, w, 1, 0, NULL, NULL), 0);
    pktcap_packet p = packet_of(0, 1, 0, 100, 100, 0);
    assert_int_equal(pktcap_writer_write(w, &p), 0);
    assert_int_equal(pktcap_writer_flush(w), 0);
    assert_int_equal(pktcap_writer_write(w, &p), 0);
    assert_int_equal(pktcap_writer_flush(w), PKTCAP_E_CANCELED);
    assert_string_equal(last_message(), "storage callback failed with PKTCAP_E_CANCELED (-17)");
    assert_int_equal(pktcap_writer_write(w, &p), PKTCAP_E_CANCELED);
    assert_string_equal(last_message(), "storage callback failed with PKTCAP_E_CANCELED (-17)");
    assert_int_equal(pktcap_writer_close(w), PKTCAP_E_CANCELED);
    assert_int_equal(sink.calls, 2);
    assert_int_equal(sink.final_calls, 0);
    pktcap_storage_free(cb);
    free(sink.bytes);

    struct sink odd = { .fail_at_call = 1, .fail_with = 5 };
    assert_int_equal(pktcap_storage_new_callback(&cb, collect, &odd), 0);
    assert_int_equal(write_sample(cb, PKTCAP_FORMAT_PCAP), PKTCAP_E_INVAL);
    assert_string_equal(last_message(),
                        "storage callback returned 5; it must return 0 or a negative PKTCAP_E_* code");
    pktcap_storage_free(cb);
    free(odd.bytes);

    struct sink last = { .fail_at_final = 1, .fail_with = PKTCAP_E_IO };
    assert_int_equal(pktcap_storage_new_callback(&cb, collect, &last), 0);
    assert_int_equal(write_sample(cb, PKTCAP_FORMAT_PCAP), PKTCAP_E_IO);
    assert_string_equal(last_message(), "storage callback failed with PKTCAP_E_IO (-3)");
    assert_int_equal(last.final_calls, 1);
    pktcap_storage_free(cb);
    free(last.bytes);
}

static void an_abandoned_stream_gets_no_final_call(void **state)
{
    (void)state;
    struct sink sink = { .bytes = NULL };
    pktcap_storage *cb;
    assert_int_equal(pktcap_storage_new_callback(&cb, collect, &sink), 0);
    pktcap_writer *w;
    assert_int_equal(pktcap_writer_open(&w, cb, PKTCAP_FORMAT_PCAP), 0);
    assert_int_equal(pktcap_writer_flush(w), 0);
    pktcap_writer_abort(w);
    assert_int_equal(sink.size, 24);
    assert_int_equal(sink.final_calls, 0);
    pktcap_storage_free(cb);
    free(sink.bytes);
}

static void files_get_the_mode_a_plain_open_would_give(void **state)
{
    (void)state;
    static const struct {
        mode_t umask;
        mode_t mode;
    } cases[] = { { 022, 0644 }, { 077, 0600 }, { 002, 0664 } };
    char *dir = make_scratch_dir();
    char *path = strdup(path_in(dir, "mode.pcap"));
    for (int i = 0; i < 3; i++) {
        mode_t old = umask(cases[i].umask);
        pktcap_storage *st = open_ok(path);
        int rc = write_sample(st, PKTCAP_FORMAT_AUTO);
        umask(old);
        assert_int_equal(rc, 0);
        struct stat sb;
        assert_int_equal(stat(path, &sb), 0);
        assert_int_equal(sb.st_mode & 07777, cases[i].mode);
        pktcap_storage_free(st);
    }
    free(path);
    remove_tree(dir);
}

static void a_missing_directory_is_reported_at_the_first_write(void **state)
{
    (void)state;
    pktcap_storage *st = open_ok("/nonexistent-pktcap-dir/x.pcap");
    assert_int_equal(write_sample(st, PKTCAP_FORMAT_AUTO), PKTCAP_E_NOTFOUND);
    const char *m = last_message();
    assert_non_null(strstr(m, "storage '/nonexistent-pktcap-dir/x.pcap': creating "
                              "/nonexistent-pktcap-dir/.x.pcap."));
    assert_non_null(strstr(m, ".part: No such file or directory"));
    pktcap_storage_free(st);
}

static void fsync_true_still_writes_the_file(void **state)
{
    (void)state;
    char *dir = make_scratch_dir();
    char uri[4200];
    snprintf(uri, sizeof(uri), "file://%s/synced.pcap?fsync=true&overwrite=false", dir);
    pktcap_storage *st = open_ok(uri);
    assert_int_equal(write_sample(st, PKTCAP_FORMAT_AUTO), 0);
    struct read_file f;
    read_with_libpcap(&f, path_in(dir, "synced.pcap"));
    assert_int_equal(f.count, 3);
    free_read_file(&f);
    pktcap_storage_free(st);
    remove_tree(dir);
}

static void counts_and_paths_of_other_targets_are_empty(void **state)
{
    (void)state;
    assert_int_equal(pktcap_storage_file_count(NULL), 0);
    assert_null(pktcap_storage_file_path(NULL, 0));
    pktcap_storage *st = open_ok("mem:");
    assert_int_equal(write_sample(st, PKTCAP_FORMAT_AUTO), 0);
    assert_int_equal(pktcap_storage_file_count(st), 0);
    assert_null(pktcap_storage_file_path(st, 0));
    pktcap_storage_free(st);
    pktcap_storage_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_plain_path_becomes_a_file_of_that_name),
        cmocka_unit_test(a_relative_path_is_written_beside_itself),
        cmocka_unit_test(nothing_is_created_before_the_first_write),
        cmocka_unit_test(a_file_uri_is_percent_decoded_and_takes_options),
        cmocka_unit_test(malformed_names_are_refused),
        cmocka_unit_test(unknown_schemes_are_not_supported),
        cmocka_unit_test(remote_targets_keep_their_uri_and_refuse_writers),
        cmocka_unit_test(a_descriptor_target_writes_to_it_and_leaves_it_open),
        cmocka_unit_test(dash_is_standard_output),
        cmocka_unit_test(the_format_defaults_to_the_extension),
        cmocka_unit_test(the_format_option_chooses_for_auto),
        cmocka_unit_test(options_are_checked_by_key_target_and_value),
        cmocka_unit_test(option_values_are_checked_and_a_refused_one_changes_nothing),
        cmocka_unit_test(an_unknown_option_in_the_uri_refuses_the_open),
        cmocka_unit_test(options_are_frozen_once_a_writer_used_the_target),
        cmocka_unit_test(overwrite_defaults_to_replacing_the_file),
        cmocka_unit_test(overwrite_false_leaves_an_existing_file_untouched),
        cmocka_unit_test(overwrite_false_refuses_a_file_that_appears_while_writing),
        cmocka_unit_test(memory_holds_the_same_bytes_as_a_file),
        cmocka_unit_test(memory_keeps_one_capture_and_drops_an_abandoned_one),
        cmocka_unit_test(a_callback_gets_the_same_bytes_then_one_final_call),
        cmocka_unit_test(a_callback_error_poisons_the_writer_with_its_code),
        cmocka_unit_test(an_abandoned_stream_gets_no_final_call),
        cmocka_unit_test(files_get_the_mode_a_plain_open_would_give),
        cmocka_unit_test(a_missing_directory_is_reported_at_the_first_write),
        cmocka_unit_test(fsync_true_still_writes_the_file),
        cmocka_unit_test(counts_and_paths_of_other_targets_are_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
