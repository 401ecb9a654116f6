/* Link-type names follow libpcap's, keyed by the values written in files. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pktcap/pktcap.h>

static void common_link_types_have_libpcap_names(void **state)
{
    (void)state;
    assert_string_equal(pktcap_linktype_name(0), "NULL");
    assert_string_equal(pktcap_linktype_name(1), "EN10MB");
    assert_string_equal(pktcap_linktype_description(1), "Ethernet");
    assert_string_equal(pktcap_linktype_name(108), "LOOP");
    assert_string_equal(pktcap_linktype_name(113), "LINUX_SLL");
    assert_string_equal(pktcap_linktype_name(276), "LINUX_SLL2");
    assert_string_equal(pktcap_linktype_name(228), "IPV4");
    assert_string_equal(pktcap_linktype_name(229), "IPV6");
}

static void file_values_that_differ_from_dlt_values_use_the_file_value(void **state)
{
    (void)state;
    /* LINKTYPE_RAW is 101 in files, though DLT_RAW is 12 on Linux. */
    assert_string_equal(pktcap_linktype_name(101), "RAW");
    assert_string_equal(pktcap_linktype_description(101), "Raw IP");
    assert_string_equal(pktcap_linktype_name(100), "ATM_RFC1483");
    assert_null(pktcap_linktype_name(12));
}

static void unknown_values_have_no_name(void **state)
{
    (void)state;
    assert_null(pktcap_linktype_name(9999));
    assert_null(pktcap_linktype_description(UINT32_MAX));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(common_link_types_have_libpcap_names),
        cmocka_unit_test(file_values_that_differ_from_dlt_values_use_the_file_value),
        cmocka_unit_test(unknown_values_have_no_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
