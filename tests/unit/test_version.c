/* The compile-time and run-time versions agree. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>

#include <pktcap/pktcap.h>

static void runtime_version_matches_the_headers(void **state)
{
    (void)state;
    assert_string_equal(pktcap_version(), PKTCAP_VERSION_STRING);
    assert_int_equal(pktcap_version_num(), PKTCAP_VERSION_NUM);
}

static void version_number_packs_major_minor_patch(void **state)
{
    (void)state;
    char text[32];
    snprintf(text, sizeof(text), "%d.%d.%d", PKTCAP_VERSION_MAJOR, PKTCAP_VERSION_MINOR,
             PKTCAP_VERSION_PATCH);
    assert_string_equal(text, pktcap_version());
    assert_int_equal(PKTCAP_VERSION_NUM >> 16, PKTCAP_VERSION_MAJOR);
    assert_int_equal((PKTCAP_VERSION_NUM >> 8) & 0xff, PKTCAP_VERSION_MINOR);
    assert_int_equal(PKTCAP_VERSION_NUM & 0xff, PKTCAP_VERSION_PATCH);
    assert_int_equal(PKTCAP_VERSION_MAJOR, 1); /* the soname is libpktcap.so.1 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(runtime_version_matches_the_headers),
        cmocka_unit_test(version_number_packs_major_minor_patch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
