/* The status codes, their texts, and the per-thread error detail. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <pktcap/pktcap.h>
#include "core/error.h"
#include "core/log.h"

static void every_code_has_a_distinct_name_and_text(void **state)
{
    (void)state;
    for (int code = PKTCAP_OK; code >= PKTCAP_E_EXISTS; code--) {
        const char *name = pktcap_error_name(code);
        assert_string_not_equal(name, "PKTCAP_E_UNKNOWN");
        assert_string_not_equal(pktcap_strerror(code), "unknown error code");
        for (int other = code - 1; other >= PKTCAP_E_EXISTS; other--) {
            assert_string_not_equal(name, pktcap_error_name(other));
            assert_string_not_equal(pktcap_strerror(code), pktcap_strerror(other));
        }
    }
}

static void known_codes_have_their_documented_names(void **state)
{
    (void)state;
    assert_string_equal(pktcap_error_name(PKTCAP_OK), "PKTCAP_OK");
    assert_string_equal(pktcap_error_name(PKTCAP_E_INVAL), "PKTCAP_E_INVAL");
    assert_string_equal(pktcap_error_name(PKTCAP_E_TRUNCATED), "PKTCAP_E_TRUNCATED");
    assert_string_equal(pktcap_strerror(PKTCAP_E_NOMEM), "out of memory");
    assert_string_equal(pktcap_strerror(PKTCAP_OK), "success");
}

static void codes_outside_the_enum_are_unknown(void **state)
{
    (void)state;
    assert_string_equal(pktcap_strerror(1), "unknown error code");
    assert_string_equal(pktcap_strerror(PKTCAP_E_EXISTS - 1), "unknown error code");
    assert_string_equal(pktcap_strerror(INT32_MIN), "unknown error code");
    assert_string_equal(pktcap_error_name(12345), "PKTCAP_E_UNKNOWN");
}

static void setting_an_error_records_code_and_message(void **state)
{
    (void)state;
    int rc = pktcap__error_set(PKTCAP_E_FORMAT, "bad magic 0x%08x at offset %d", 0xdeadbeefu, 0);
    assert_int_equal(rc, PKTCAP_E_FORMAT);
    const pktcap_error *e = pktcap_error_last();
    assert_non_null(e);
    assert_int_equal(pktcap_error_code(e), PKTCAP_E_FORMAT);
    assert_string_equal(pktcap_error_message(e), "bad magic 0xdeadbeef at offset 0");
    assert_int_equal(pktcap_error_http_status(e), 0);
    assert_string_equal(pktcap_error_provider_code(e), "");
    assert_string_equal(pktcap_error_provider_message(e), "");
}

static void remote_errors_keep_http_status_and_provider_detail(void **state)
{
    (void)state;
    pktcap__error_remote(PKTCAP_E_THROTTLED, 429, "TooManyRequests", "Slow down.",
                         "GET %s: throttled", "/captures");
    const pktcap_error *e = pktcap_error_last();
    assert_int_equal(pktcap_error_code(e), PKTCAP_E_THROTTLED);
    assert_int_equal(pktcap_error_http_status(e), 429);
    assert_string_equal(pktcap_error_provider_code(e), "TooManyRequests");
    assert_string_equal(pktcap_error_provider_message(e), "Slow down.");
    assert_string_equal(pktcap_error_message(e), "GET /captures: throttled");

    /* A later local error must not inherit the remote fields. */
    pktcap__error_set(PKTCAP_E_INVAL, "x");
    assert_int_equal(pktcap_error_http_status(e), 0);
    assert_string_equal(pktcap_error_provider_code(e), "");
}

static void errno_errors_append_the_system_text(void **state)
{
    (void)state;
    pktcap__error_errno(PKTCAP_E_IO, ENOSPC, "writing %s", "out.pcap");
    assert_string_equal(pktcap_error_message(pktcap_error_last()),
                        "writing out.pcap: No space left on device");
}

static void errno_values_map_onto_codes(void **state)
{
    (void)state;
    assert_int_equal(pktcap__error_from_errno(ENOENT), PKTCAP_E_NOTFOUND);
    assert_int_equal(pktcap__error_from_errno(EACCES), PKTCAP_E_PERM);
    assert_int_equal(pktcap__error_from_errno(ENOSPC), PKTCAP_E_IO);
    assert_int_equal(pktcap__error_from_errno(EEXIST), PKTCAP_E_EXISTS);
    assert_int_equal(pktcap__error_from_errno(ENOMEM), PKTCAP_E_NOMEM);
}

static void long_messages_are_cut_with_an_ellipsis_on_a_character_boundary(void **state)
{
    (void)state;
    char text[3000];
    /* "é" is two bytes: a cut must never split it. */
    for (size_t i = 0; i + 2 < sizeof(text); i += 2)
        memcpy(text + i, "\xc3\xa9", 2);
    text[sizeof(text) - 2] = '\0';
    pktcap__error_set(PKTCAP_E_INVAL, "%s", text);
    const char *m = pktcap_error_message(pktcap_error_last());
    size_t len = strlen(m);
    assert_true(len <= 1023);
    assert_true(len >= 1018);
    assert_string_equal(m + len - 3, "...");
    assert_int_equal((len - 3) % 2, 0);
}

static void clear_forgets_the_error(void **state)
{
    (void)state;
    pktcap__error_set(PKTCAP_E_IO, "boom");
    pktcap_error_clear();
    const pktcap_error *e = pktcap_error_last();
    assert_int_equal(pktcap_error_code(e), PKTCAP_OK);
    assert_string_equal(pktcap_error_message(e), "");
}

static void an_empty_message_falls_back_to_the_code_text(void **state)
{
    (void)state;
    pktcap__error_set(PKTCAP_E_TIMEOUT, "%s", "");
    assert_string_equal(pktcap_error_message(pktcap_error_last()), "timed out");
}

static void accessors_accept_null(void **state)
{
    (void)state;
    assert_int_equal(pktcap_error_code(NULL), PKTCAP_OK);
    assert_string_equal(pktcap_error_message(NULL), "");
    assert_int_equal(pktcap_error_http_status(NULL), 0);
    assert_string_equal(pktcap_error_provider_code(NULL), "");
    assert_string_equal(pktcap_error_provider_message(NULL), "");
}

static void *set_error_in_thread(void *arg)
{
    (void)arg;
    pktcap__error_set(PKTCAP_E_NET, "from the other thread");
    const pktcap_error *e = pktcap_error_last();
    return (void *)(intptr_t)(pktcap_error_code(e) == PKTCAP_E_NET &&
                              strcmp(pktcap_error_message(e), "from the other thread") == 0);
}

static void each_thread_has_its_own_last_error(void **state)
{
    (void)state;
    pktcap__error_set(PKTCAP_E_STATE, "main thread");
    pthread_t t;
    void *ok = NULL;
    assert_int_equal(pthread_create(&t, NULL, set_error_in_thread, NULL), 0);
    assert_int_equal(pthread_join(t, &ok), 0);
    assert_int_equal((intptr_t)ok, 1);
    assert_int_equal(pktcap_error_code(pktcap_error_last()), PKTCAP_E_STATE);
    assert_string_equal(pktcap_error_message(pktcap_error_last()), "main thread");
}

static char logged[4096];

static void keep_line(int level, const char *message, void *userdata)
{
    (void)level;
    (void)userdata;
    snprintf(logged, sizeof logged, "%s", message);
}

/* A hostile server's text with line breaks, escapes and DEL: the message, the
 * provider's code and message, and a log line quoting it stay one line. */
static void server_text_cannot_break_a_message_or_a_log_line(void **state)
{
    const char *evil = "no\nagent\r\n[error] forged\t\x1b[31m\x7f!";
    (void)state;
    assert_int_equal(pktcap__error_remote(PKTCAP_E_REMOTE, 400, "Bad\nCode", evil,
                                          "create: %s", evil), PKTCAP_E_REMOTE);
    const pktcap_error *e = pktcap_error_last();
    assert_string_equal(pktcap_error_message(e), "create: no agent  [error] forged  [31m !");
    assert_string_equal(pktcap_error_provider_message(e), "no agent  [error] forged  [31m !");
    assert_string_equal(pktcap_error_provider_code(e), "Bad Code");
    pktcap__logger lg = { keep_line, NULL, PKTCAP_LOG_DEBUG };
    pktcap__log(&lg, PKTCAP_LOG_WARN, "azure: %s", evil);
    assert_string_equal(logged, "azure: no agent  [error] forged  [31m !");
    /* UTF-8 is text, not control: kept as it is. */
    pktcap__log(&lg, PKTCAP_LOG_INFO, "caf\xc3\xa9 \xe2\x80\xa6");
    assert_string_equal(logged, "caf\xc3\xa9 \xe2\x80\xa6");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_code_has_a_distinct_name_and_text),
        cmocka_unit_test(known_codes_have_their_documented_names),
        cmocka_unit_test(codes_outside_the_enum_are_unknown),
        cmocka_unit_test(setting_an_error_records_code_and_message),
        cmocka_unit_test(remote_errors_keep_http_status_and_provider_detail),
        cmocka_unit_test(errno_errors_append_the_system_text),
        cmocka_unit_test(errno_values_map_onto_codes),
        cmocka_unit_test(long_messages_are_cut_with_an_ellipsis_on_a_character_boundary),
        cmocka_unit_test(clear_forgets_the_error),
        cmocka_unit_test(an_empty_message_falls_back_to_the_code_text),
        cmocka_unit_test(accessors_accept_null),
        cmocka_unit_test(each_thread_has_its_own_last_error),
        cmocka_unit_test(server_text_cannot_break_a_message_or_a_log_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
