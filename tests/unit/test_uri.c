/* URI and option-value parsing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <pktcap/pktcap.h>
#include "core/alloc.h"
#include "core/uri.h"

static const char *last_message(void)
{
    return pktcap_error_message(pktcap_error_last());
}

static void a_plain_path_has_no_scheme_and_is_taken_literally(void **state)
{
    (void)state;
    pktcap__uri u;
    assert_int_equal(pktcap__uri_parse(&u, "captures/a%20b?.pcap"), 0);
    assert_null(u.scheme);
    assert_null(u.authority);
    assert_string_equal(u.path, "captures/a%20b?.pcap");
    assert_int_equal(u.param_count, 0);
    pktcap__uri_clear(&u);

    /* One letter before ':' is not a scheme. */
    assert_int_equal(pktcap__uri_parse(&u, "C:x.pcap"), 0);
    assert_null(u.scheme);
    pktcap__uri_clear(&u);
    assert_int_equal(pktcap__uri_parse(&u, "-"), 0);
    assert_null(u.scheme);
    assert_string_equal(u.path, "-");
    pktcap__uri_clear(&u);
}

static void a_file_uri_splits_into_parts_and_decodes_them(void **state)
{
    (void)state;
    pktcap__uri u;
    assert_int_equal(
        pktcap__uri_parse(&u, "FILE:///tmp/my%20cap.pcapng?format=pcapng&rotate_bytes=1M&x=a+b%26c&flag"),
        0);
    assert_string_equal(u.scheme, "file");
    assert_string_equal(u.authority, "");
    assert_string_equal(u.path, "/tmp/my cap.pcapng");
    assert_int_equal(u.param_count, 4);
    assert_string_equal(pktcap__uri_param(&u, "format"), "pcapng");
    assert_string_equal(pktcap__uri_param(&u, "rotate_bytes"), "1M");
    assert_string_equal(pktcap__uri_param(&u, "x"), "a b&c");
    assert_string_equal(pktcap__uri_param(&u, "flag"), "");
    assert_null(pktcap__uri_param(&u, "missing"));
    pktcap__uri_clear(&u);
}

static void authority_and_path_of_provider_uris(void **state)
{
    (void)state;
    pktcap__uri u;
    assert_int_equal(pktcap__uri_parse(&u, "sdwan://10.1.2.3:8443"), 0);
    assert_string_equal(u.scheme, "sdwan");
    assert_string_equal(u.authority, "10.1.2.3:8443");
    assert_string_equal(u.path, "");
    pktcap__uri_clear(&u);

    assert_int_equal(pktcap__uri_parse(&u, "cloudflare://accounts/abc?endpoint=http://127.0.0.1:9/x"), 0);
    assert_string_equal(u.authority, "accounts");
    assert_string_equal(u.path, "/abc");
    assert_string_equal(pktcap__uri_param(&u, "endpoint"), "http://127.0.0.1:9/x");
    pktcap__uri_clear(&u);

    assert_int_equal(pktcap__uri_parse(&u, "local:"), 0);
    assert_string_equal(u.scheme, "local");
    assert_null(u.authority);
    assert_string_equal(u.path, "");
    pktcap__uri_clear(&u);

    assert_int_equal(pktcap__uri_parse(&u, "fd:3"), 0);
    assert_string_equal(u.scheme, "fd");
    assert_string_equal(u.path, "3");
    pktcap__uri_clear(&u);
}

static void the_last_repeated_parameter_wins_and_empty_items_are_ignored(void **state)
{
    (void)state;
    pktcap__uri u;
    assert_int_equal(pktcap__uri_parse(&u, "mem:?a=1&&a=2&"), 0);
    assert_int_equal(u.param_count, 2);
    assert_string_equal(pktcap__uri_param(&u, "a"), "2");
    pktcap__uri_clear(&u);
}

static void malformed_uris_are_refused_with_a_message_that_hides_the_query(void **state)
{
    (void)state;
    pktcap__uri u;
    assert_int_equal(pktcap__uri_parse(&u, ""), PKTCAP_E_INVAL);
    assert_string_equal(last_message(), "empty URI");
    assert_int_equal(pktcap__uri_parse(&u, NULL), PKTCAP_E_INVAL);

    assert_int_equal(pktcap__uri_parse(&u, "file:///a%zzb"), PKTCAP_E_INVAL);
    assert_string_equal(last_message(),
                        "URI 'file:///a%zzb': '%' must be followed by two hex digits at position 9");
    assert_int_equal(pktcap__uri_parse(&u, "file:///a%2"), PKTCAP_E_INVAL);
    assert_int_equal(pktcap__uri_parse(&u, "file:///a%00"), PKTCAP_E_INVAL);
    assert_string_equal(last_message(), "URI 'file:///a%00': %00 is not allowed at position 9");

    assert_int_equal(pktcap__uri_parse(&u, "azblob://acct/c/p?sig=SECRET%zz"), PKTCAP_E_INVAL);
    assert_null(strstr(last_message(), "SECRET"));
    assert_string_equal(last_message(),
                        "URI 'azblob://acct/c/p?...': '%' must be followed by two hex digits at position 28");

    assert_int_equal(pktcap__uri_parse(&u, "mem:?=x"), PKTCAP_E_INVAL);
    assert_string_equal(last_message(), "URI 'mem:?...': query parameter with an empty name");
    assert_int_equal(pktcap__uri_parse(&u, "file:///x#frag"), PKTCAP_E_INVAL);
    assert_string_equal(last_message(), "URI 'file:///x#frag': fragments ('#') are not supported");
    /* Failure leaves nothing to free. */
    assert_null(u.scheme);
    assert_null(u.path);
}

static void every_allocation_failure_is_reported_and_leaks_nothing(void **state)
{
    (void)state;
    const char *text = "file:///tmp/x.pcap?format=pcap&rotate_files=3";
    pktcap__uri u;
    pktcap__alloc_fail_at(0);
    assert_int_equal(pktcap__uri_parse(&u, text), 0);
    pktcap__uri_clear(&u);
    unsigned long needed = pktcap__alloc_fail_at(0);
    assert_true(needed >= 5);
    for (unsigned long n = 1; n <= needed; n++) {
        pktcap__alloc_fail_at(n);
        assert_int_equal(pktcap__uri_parse(&u, text), PKTCAP_E_NOMEM);
    }
    pktcap__alloc_fail_at(0);
}

static void booleans_accept_the_usual_spellings_only(void **state)
{
    (void)state;
    int v = -1;
    assert_int_equal(pktcap__parse_bool(&v, "opt", "yes"), 0);
    assert_int_equal(v, 1);
    assert_int_equal(pktcap__parse_bool(&v, "opt", "0"), 0);
    assert_int_equal(v, 0);
    assert_int_equal(pktcap__parse_bool(&v, "storage option 'fsync'", "maybe"), PKTCAP_E_INVAL);
    assert_string_equal(last_message(), "storage option 'fsync': 'maybe' is not a boolean "
                                        "(true/false, yes/no, on/off, 1/0)");
}

static void numbers_take_decimal_and_binary_suffixes_and_never_overflow(void **state)
{
    (void)state;
    uint64_t v = 0;
    assert_int_equal(pktcap__parse_u64(&v, "n", "1500", 0, UINT64_MAX), 0);
    assert_int_equal(v, 1500);
    assert_int_equal(pktcap__parse_u64(&v, "n", "2k", 0, UINT64_MAX), 0);
    assert_int_equal(v, 2000);
    assert_int_equal(pktcap__parse_u64(&v, "n", "3Mi", 0, UINT64_MAX), 0);
    assert_int_equal(v, 3u << 20);
    assert_int_equal(pktcap__parse_u64(&v, "n", "18446744073709551615", 0, UINT64_MAX), 0);
    assert_true(v == UINT64_MAX);
    assert_int_equal(pktcap__parse_u64(&v, "n", "18446744073709551616", 0, UINT64_MAX),
                     PKTCAP_E_INVAL);
    assert_string_equal(last_message(), "n: 18446744073709551616 is too large");
    assert_int_equal(pktcap__parse_u64(&v, "n", "20000000T", 0, UINT64_MAX), PKTCAP_E_INVAL);
    assert_int_equal(pktcap__parse_u64(&v, "n", "-1", 0, UINT64_MAX), PKTCAP_E_INVAL);
    assert_int_equal(pktcap__parse_u64(&v, "n", "", 0, UINT64_MAX), PKTCAP_E_INVAL);
    assert_int_equal(pktcap__parse_u64(&v, "n", "12x", 0, UINT64_MAX), PKTCAP_E_INVAL);
    assert_string_equal(last_message(), "n: '12x' is not a number (digits, optionally followed "
                                        "by k, M, G, T, Ki, Mi, Gi or Ti)");
    assert_int_equal(pktcap__parse_u64(&v, "rotate_files", "0", 1, 100000), PKTCAP_E_INVAL);
    assert_string_equal(last_message(), "rotate_files: 0 is out of range (1 to 100000)");
    assert_int_equal(v, UINT64_MAX); /* untouched on failure */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_plain_path_has_no_scheme_and_is_taken_literally),
        cmocka_unit_test(a_file_uri_splits_into_parts_and_decodes_them),
        cmocka_unit_test(authority_and_path_of_provider_uris),
        cmocka_unit_test(the_last_repeated_parameter_wins_and_empty_items_are_ignored),
        cmocka_unit_test(malformed_uris_are_refused_with_a_message_that_hides_the_query),
        cmocka_unit_test(every_allocation_failure_is_reported_and_leaks_nothing),
        cmocka_unit_test(booleans_accept_the_usual_spellings_only),
        cmocka_unit_test(numbers_take_decimal_and_binary_suffixes_and_never_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
