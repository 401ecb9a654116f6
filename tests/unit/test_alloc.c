/* The allocation wrappers and their failure injection. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <pktcap/pktcap.h>
#include "core/alloc.h"

static int disarm(void **state)
{
    (void)state;
    pktcap__alloc_fail_at(0);
    return 0;
}

static void the_nth_allocation_fails_and_records_nomem(void **state)
{
    (void)state;
    pktcap_error_clear();
    pktcap__alloc_fail_at(2);
    void *a = pktcap__malloc(16);
    void *b = pktcap__malloc(32);
    void *c = pktcap__malloc(16);
    assert_non_null(a);
    assert_null(b);
    assert_non_null(c);
    assert_int_equal(pktcap_error_code(pktcap_error_last()), PKTCAP_E_NOMEM);
    assert_string_equal(pktcap_error_message(pktcap_error_last()),
                        "out of memory allocating 32 bytes");
    pktcap__free(a);
    pktcap__free(c);
}

static void arming_reports_allocations_made_since_last_time(void **state)
{
    (void)state;
    pktcap__alloc_fail_at(0);
    char *s = pktcap__strdup("abc");
    void *p = pktcap__calloc(2, 8);
    p = pktcap__realloc(p, 64);
    assert_int_equal(pktcap__alloc_fail_at(0), 3);
    pktcap__free(s);
    pktcap__free(p);
}

static void every_wrapper_honours_injection(void **state)
{
    (void)state;
    pktcap__alloc_fail_at(1);
    assert_null(pktcap__calloc(1, 1));
    pktcap__alloc_fail_at(1);
    assert_null(pktcap__strdup("x"));
    pktcap__alloc_fail_at(1);
    assert_null(pktcap__strndup("xyz", 2));
    void *keep = pktcap__malloc(4);
    assert_non_null(keep);
    pktcap__alloc_fail_at(1);
    assert_null(pktcap__realloc(keep, 1024)); /* keep is still ours on failure */
    pktcap__free(keep);
}

static void overflowing_sizes_fail_instead_of_wrapping(void **state)
{
    (void)state;
    assert_null(pktcap__calloc(SIZE_MAX / 2, 4));
    assert_null(pktcap__reallocarray(NULL, SIZE_MAX / 8 + 1, 16));
    assert_int_equal(pktcap_error_code(pktcap_error_last()), PKTCAP_E_NOMEM);
}

static void strndup_copies_at_most_n_bytes(void **state)
{
    (void)state;
    char *s = pktcap__strndup("abcdef", 3);
    assert_string_equal(s, "abc");
    pktcap__free(s);
    s = pktcap__strndup("ab", 10);
    assert_string_equal(s, "ab");
    pktcap__free(s);
}

static void zero_sized_allocations_return_a_freeable_pointer(void **state)
{
    (void)state;
    void *p = pktcap__malloc(0);
    assert_non_null(p);
    pktcap__free(p);
    pktcap__free(NULL);
}

static void grow_doubles_only_when_full_and_keeps_the_array_on_failure(void **state)
{
    (void)state;
    size_t alloc = 0;
    int *a = pktcap__grow(NULL, &alloc, 0, sizeof(int));
    assert_non_null(a);
    assert_int_equal(alloc, 4);
    for (int i = 0; i < 4; i++)
        a[i] = i;
    assert_ptr_equal(pktcap__grow(a, &alloc, 3, sizeof(int)), a); /* room left */
    pktcap__alloc_fail_at(1);
    assert_null(pktcap__grow(a, &alloc, 4, sizeof(int)));
    assert_int_equal(alloc, 4);
    assert_int_equal(a[3], 3); /* still ours, intact */
    int *b = pktcap__grow(a, &alloc, 4, sizeof(int));
    assert_non_null(b);
    assert_int_equal(alloc, 8);
    assert_int_equal(b[3], 3);
    pktcap__free(b);
    size_t huge = SIZE_MAX / 2 + 1;
    assert_null(pktcap__grow(NULL, &huge, huge, 1));
    assert_int_equal(pktcap_error_code(pktcap_error_last()), PKTCAP_E_NOMEM);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(the_nth_allocation_fails_and_records_nomem, disarm),
        cmocka_unit_test_teardown(arming_reports_allocations_made_since_last_time, disarm),
        cmocka_unit_test_teardown(every_wrapper_honours_injection, disarm),
        cmocka_unit_test_teardown(overflowing_sizes_fail_instead_of_wrapping, disarm),
        cmocka_unit_test_teardown(strndup_copies_at_most_n_bytes, disarm),
        cmocka_unit_test_teardown(zero_sized_allocations_return_a_freeable_pointer, disarm),
        cmocka_unit_test_teardown(grow_doubles_only_when_full_and_keeps_the_array_on_failure, disarm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
