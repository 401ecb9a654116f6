/* The HTTP layer's pure parts (lib/net/http.h): Retry-After in all its
 * forms, request ids, escaping, the status → error mapping and the client
 * options. No network. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pktcap/pktcap.h>
#include "core/alloc.h"
#include "net/http.h"

#define RFC_EXAMPLE 784111777   /* Sun, 06 Nov 1994 08:49:37 GMT */
#define Y2026 1767225600        /* Thu, 01 Jan 2026 00:00:00 GMT */

static const char *last_message(void)
{
    return pktcap_error_message(pktcap_error_last());
}

/* A response holding the given "name", "value" pairs (NULL-terminated). */
static pktcap__http_response make_response(pktcap__http_header *slots, ...)
{
    pktcap__http_response r;
    va_list ap;
    const char *name;
    memset(&r, 0, sizeof r);
    r.headers = slots;
    va_start(ap, slots);
    while ((name = va_arg(ap, const char *)) != NULL) {
        slots[r.nheaders].name = (char *)name;
        slots[r.nheaders].value = va_arg(ap, char *);
        r.nheaders++;
    }
    va_end(ap);
    return r;
}

static int64_t one(const char *name, const char *value, int64_t now)
{
    pktcap__http_header slots[1];
    pktcap__http_response r = make_response(slots, name, value, NULL);
    return pktcap__http_retry_after_ms(&r, now);
}

static void retry_after_takes_seconds_and_the_three_date_forms(void **state)
{
    (void)state;
    assert_int_equal(one("Retry-After", "120", 0), 120000);
    assert_int_equal(one("retry-after", "0", 0), 0);
    assert_int_equal(one("RETRY-AFTER", "7", 0), 7000);
    /* 10 s after `now`, in each form */
    assert_int_equal(one("Retry-After", "Sun, 06 Nov 1994 08:49:37 GMT", RFC_EXAMPLE - 10), 10000);
    assert_int_equal(one("Retry-After", "Sunday, 06-Nov-94 08:49:37 GMT", RFC_EXAMPLE - 10), 10000);
    assert_int_equal(one("Retry-After", "Sun Nov  6 08:49:37 1994", RFC_EXAMPLE - 10), 10000);
    assert_int_equal(one("Retry-After", "Sun Nov 16 08:49:37 1994", RFC_EXAMPLE), 10 * 86400000LL);
    /* leap day, and the same instant as now */
    assert_int_equal(one("Retry-After", "Tue, 29 Feb 2000 12:00:00 GMT", 951825600 - 1), 1000);
    assert_int_equal(one("Retry-After", "Sun, 06 Nov 1994 08:49:37 GMT", RFC_EXAMPLE), 0);
}

static void retry_after_dates_in_the_past_mean_now(void **state)
{
    (void)state;
    assert_int_equal(one("Retry-After", "Sun, 06 Nov 1994 08:49:37 GMT", RFC_EXAMPLE + 100), 0);
    assert_int_equal(one("Retry-After", "Sunday, 06-Nov-94 08:49:37 GMT", Y2026), 0);
    assert_int_equal(one("Retry-After", "Sun Nov  6 08:49:37 1994", Y2026), 0);
}

static void rfc850_two_digit_years_are_at_most_50_years_ahead(void **state)
{
    (void)state;
    assert_int_equal(one("Retry-After", "Friday, 01-Jan-27 00:00:00 GMT", Y2026), 31536000000LL);
    /* 2076 is exactly 50 years ahead: still the future */
    assert_int_equal(one("Retry-After", "Wednesday, 01-Jan-76 00:00:00 GMT", Y2026), 1577836800000LL);
    /* 2077 would be 51: it is 1977, the past */
    assert_int_equal(one("Retry-After", "Saturday, 01-Jan-77 00:00:00 GMT", Y2026), 0);
    assert_int_equal(one("Retry-After", "Saturday, 01-Jan-00 00:00:00 GMT", Y2026), 0);
}

static void retry_after_ms_headers_are_milliseconds(void **state)
{
    (void)state;
    assert_int_equal(one("retry-after-ms", "250", 0), 250);
    assert_int_equal(one("Retry-After-Ms", "0", 0), 0);
    assert_int_equal(one("x-ms-retry-after-ms", "1500", 0), 1500);
    assert_int_equal(one("X-MS-Retry-After-MS", "3", 0), 3);
}

static void garbage_is_ignored(void **state)
{
    static const char *const bad[] = {
        "", "soon", "-5", "+5", "1.5", "12 s", " 12", "0x10", "1e3",
        "Sun, 06 Nov 1994 08:49:37 UTC",     /* IMF-fixdate is GMT only */
        "Sun, 6 Nov 1994 08:49:37 GMT",      /* two-digit day */
        "Sun, 32 Nov 1994 08:49:37 GMT",
        "Sun, 00 Nov 1994 08:49:37 GMT",
        "Sun, 06 Foo 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 24:00:00 GMT",
        "Sun, 06 Nov 1994 08:60:00 GMT",
        "Sun, 06 Nov 94 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 GMT x",
        "Sun, 06 Nov 1994 08:49 GMT",
        "Sunday, 06 Nov 1994 08:49:37 GMT",   /* long day name with the IMF layout */
        "Sun, 06-Nov-94 08:49:37 GMT",        /* short day name with the RFC 850 layout */
        "Sunday Nov  6 08:49:37 1994",
        "Sun Nov  6 08:49:37 94",
        "Sun Nov  6 08:49:37 1994 GMT",
        "Xyz, 06 Nov 1994 08:49:37 GMT",
    };
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (one("Retry-After", bad[i], 0) != -1)
            fail_msg("Retry-After: '%s' should be ignored", bad[i]);
    assert_int_equal(one("retry-after-ms", "1.5", 0), -1);
    assert_int_equal(one("x-ms-retry-after-ms", "-1", 0), -1);
    assert_int_equal(one("x-ms-retry-after-ms", "", 0), -1);
    assert_int_equal(one("Retry-After-Seconds", "5", 0), -1);   /* not one of ours */
}

static void huge_values_are_clamped_not_overflowed(void **state)
{
    (void)state;
    assert_true(one("Retry-After", "99999999999999999999999", 0) == INT64_MAX);
    assert_true(one("Retry-After", "9223372036854775", 0) == 9223372036854775000LL);
    assert_true(one("Retry-After", "9223372036854776", 0) == INT64_MAX);
    assert_true(one("retry-after-ms", "99999999999999999999", 0) == INT64_MAX);
    assert_true(one("x-ms-retry-after-ms", "9223372036854775807", 0) == INT64_MAX);
    assert_true(one("Retry-After", "Fri, 31 Dec 9999 23:59:59 GMT", 0) == 253402300799000LL);
}

static void the_largest_valid_value_wins(void **state)
{
    pktcap__http_header slots[8];
    pktcap__http_response r;
    (void)state;
    r = make_response(slots, "Retry-After", "1", "retry-after-ms", "1500", NULL);
    assert_int_equal(pktcap__http_retry_after_ms(&r, 0), 1500);
    r = make_response(slots, "x-ms-retry-after-ms", "1500", "Retry-After", "2", NULL);
    assert_int_equal(pktcap__http_retry_after_ms(&r, 0), 2000);
    r = make_response(slots, "Retry-After", "soon", "x-ms-retry-after-ms", "40", "Content-Type",
                      "text/plain", NULL);
    assert_int_equal(pktcap__http_retry_after_ms(&r, 0), 40);
    r = make_response(slots, "Retry-After", "3", "Retry-After", "5", "Retry-After", "4", NULL);
    assert_int_equal(pktcap__http_retry_after_ms(&r, 0), 5000);
    r = make_response(slots, "Retry-After", "Sun, 06 Nov 1994 08:49:37 GMT", "retry-after-ms", "20000",
                      NULL);
    assert_int_equal(pktcap__http_retry_after_ms(&r, RFC_EXAMPLE - 10), 20000);
    r = make_response(slots, "Content-Type", "text/plain", NULL);
    assert_int_equal(pktcap__http_retry_after_ms(&r, 0), -1);
    r = make_response(slots, NULL);
    assert_int_equal(pktcap__http_retry_after_ms(&r, 0), -1);
}

static void header_lookup_ignores_case_and_returns_the_first(void **state)
{
    pktcap__http_header slots[4];
    pktcap__http_response r = make_response(slots, "Content-Type", "application/json", "X-Dup", "one",
                                            "x-dup", "two", NULL);
    (void)state;
    assert_string_equal(pktcap__http_header_get(&r, "content-type"), "application/json");
    assert_string_equal(pktcap__http_header_get(&r, "CONTENT-TYPE"), "application/json");
    assert_string_equal(pktcap__http_header_get(&r, "x-dup"), "one");
    assert_null(pktcap__http_header_get(&r, "content"));
    assert_null(pktcap__http_header_get(&r, "x-missing"));
}

static void is_uuid_v4(const char *s)
{
    assert_int_equal(strlen(s), 36);
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            assert_int_equal(s[i], '-');
            continue;
        }
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            fail_msg("'%s': character %d is not lowercase hex", s, i);
    }
    assert_int_equal(s[14], '4');
    assert_non_null(strchr("89ab", s[19]));
}

static void uuids_are_random_version_4(void **state)
{
    char a[37], b[37];
    (void)state;
    memset(a, 'x', sizeof a);
    pktcap__http_uuid(a);
    pktcap__http_uuid(b);
    is_uuid_v4(a);
    is_uuid_v4(b);
    assert_string_not_equal(a, b);
}

static void escape_keeps_unreserved_and_encodes_the_rest(void **state)
{
    static const struct { const char *in, *out; } cases[] = {
        { "", "" },
        { "AZaz09-._~", "AZaz09-._~" },
        { "a b/c?d=e&f", "a%20b%2Fc%3Fd%3De%26f" },
        { "https://management.azure.com/", "https%3A%2F%2Fmanagement.azure.com%2F" },
        { "100%+#!*'()", "100%25%2B%23%21%2A%27%28%29" },
        { "\xc3\xa9\x7f\x01", "%C3%A9%7F%01" },
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out = NULL;
        assert_int_equal(pktcap__http_escape(&out, cases[i].in), 0);
        assert_string_equal(out, cases[i].out);
        pktcap__free(out);
    }
}

static void escape_reports_allocation_failure(void **state)
{
    char *out = NULL;
    (void)state;
    pktcap__alloc_fail_at(1);
    assert_int_equal(pktcap__http_escape(&out, "a b"), PKTCAP_E_NOMEM);
    pktcap__alloc_fail_at(0);
    assert_null(out);
}

static pktcap__http_response status_response(long status, const char *request_id, int attempts)
{
    pktcap__http_response r;
    memset(&r, 0, sizeof r);
    r.status = status;
    r.attempts = attempts;
    snprintf(r.request_id, sizeof r.request_id, "%s", request_id);
    return r;
}

static void statuses_map_onto_codes(void **state)
{
    static const struct { long status; int code; const char *reason; } table[] = {
        { 400, PKTCAP_E_INVAL, " Bad Request" },         { 401, PKTCAP_E_AUTH, " Unauthorized" },
        { 403, PKTCAP_E_PERM, " Forbidden" },            { 404, PKTCAP_E_NOTFOUND, " Not Found" },
        { 405, PKTCAP_E_NOTSUP, " Method Not Allowed" }, { 408, PKTCAP_E_TIMEOUT, " Request Timeout" },
        { 409, PKTCAP_E_CONFLICT, " Conflict" },         { 412, PKTCAP_E_CONFLICT, " Precondition Failed" },
        { 413, PKTCAP_E_LIMIT, " Content Too Large" },   { 415, PKTCAP_E_INVAL, " Unsupported Media Type" },
        { 429, PKTCAP_E_THROTTLED, " Too Many Requests" },
        { 500, PKTCAP_E_REMOTE, " Internal Server Error" }, { 501, PKTCAP_E_REMOTE, " Not Implemented" },
        { 502, PKTCAP_E_REMOTE, " Bad Gateway" },        { 503, PKTCAP_E_REMOTE, " Service Unavailable" },
        { 504, PKTCAP_E_REMOTE, " Gateway Timeout" },    { 599, PKTCAP_E_REMOTE, "" },
        { 410, PKTCAP_E_REMOTE, " Gone" },               { 418, PKTCAP_E_REMOTE, "" },
        { 302, PKTCAP_E_REMOTE, " Found" },              { 200, PKTCAP_E_REMOTE, " OK" },
    };
    (void)state;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        pktcap__http_response r = status_response(table[i].status, "", 1);
        char expected[128];
        const pktcap_error *e;
        assert_int_equal(pktcap__http_status_error(&r, "get thing", NULL, NULL, 0), table[i].code);
        e = pktcap_error_last();
        assert_int_equal(pktcap_error_code(e), table[i].code);
        assert_int_equal(pktcap_error_http_status(e), table[i].status);
        snprintf(expected, sizeof expected, "get thing: HTTP %ld%s", table[i].status, table[i].reason);
        assert_string_equal(pktcap_error_message(e), expected);
        assert_string_equal(pktcap_error_provider_code(e), "");
        assert_string_equal(pktcap_error_provider_message(e), "");
    }
}

static void status_messages_carry_provider_text_request_id_and_attempts(void **state)
{
    pktcap__http_response r = status_response(404, "0f1e-2d3c", 1);
    const pktcap_error *e;
    (void)state;
    assert_int_equal(pktcap__http_status_error(&r, "get packet capture \"c1\"", "ResourceNotFound",
                                               "The Resource 'c1' was not found.", 0),
                     PKTCAP_E_NOTFOUND);
    e = pktcap_error_last();
    assert_string_equal(pktcap_error_message(e),
                        "get packet capture \"c1\": HTTP 404 Not Found: ResourceNotFound: "
                        "The Resource 'c1' was not found. (request id 0f1e-2d3c)");
    assert_int_equal(pktcap_error_http_status(e), 404);
    assert_string_equal(pktcap_error_provider_code(e), "ResourceNotFound");
    assert_string_equal(pktcap_error_provider_message(e), "The Resource 'c1' was not found.");

    r = status_response(429, "rid", 5);
    assert_int_equal(pktcap__http_status_error(&r, "list", NULL, NULL, 0), PKTCAP_E_THROTTLED);
    assert_string_equal(last_message(), "list: HTTP 429 Too Many Requests (request id rid) after 5 attempts");

    r = status_response(400, "", 2);
    assert_int_equal(pktcap__http_status_error(&r, "create", NULL, "bad filter", 0), PKTCAP_E_INVAL);
    assert_string_equal(last_message(), "create: HTTP 400 Bad Request: bad filter after 2 attempts");
    assert_int_equal(pktcap__http_status_error(&r, "create", "InvalidFilter", "", 0), PKTCAP_E_INVAL);
    assert_string_equal(last_message(), "create: HTTP 400 Bad Request: InvalidFilter after 2 attempts");
    assert_string_equal(pktcap_error_provider_message(pktcap_error_last()), "");
}

static void a_given_code_overrides_the_mapping(void **state)
{
    pktcap__http_response r = status_response(409, "r", 1);
    (void)state;
    assert_int_equal(pktcap__http_status_error(&r, "start", "AnotherOperationInProgress", "busy",
                                               PKTCAP_E_STATE),
                     PKTCAP_E_STATE);
    assert_int_equal(pktcap_error_code(pktcap_error_last()), PKTCAP_E_STATE);
    assert_int_equal(pktcap_error_http_status(pktcap_error_last()), 409);
    assert_string_equal(last_message(), "start: HTTP 409 Conflict: AnotherOperationInProgress: busy (request id r)");
}

static void client_options_are_checked_and_unknown_keys_passed_on(void **state)
{
    pktcap__http *h = NULL;
    char dir[] = "/tmp/pktcap-http-XXXXXX", file[64];
    FILE *f;
    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(file, sizeof file, "%s/ca.pem", dir);
    f = fopen(file, "w");
    assert_non_null(f);
    fclose(f);

    assert_int_equal(pktcap__http_new(&h, NULL), 0);
    assert_int_equal(pktcap__http_set(h, "retries", "100"), 0);
    assert_int_equal(pktcap__http_set(h, "retries", "101"), PKTCAP_E_INVAL);
    assert_string_equal(last_message(), "HTTP option 'retries': 101 is out of range (0 to 100)");
    assert_int_equal(pktcap__http_set(h, "timeout_ms", "soon"), PKTCAP_E_INVAL);
    assert_non_null(strstr(last_message(), "HTTP option 'timeout_ms': 'soon' is not a number"));
    assert_int_equal(pktcap__http_set(h, "timeout_ms", "0"), PKTCAP_E_INVAL);
    assert_int_equal(pktcap__http_set(h, "connect_timeout_ms", "2500"), 0);
    assert_int_equal(pktcap__http_set(h, "retry_base_ms", "0"), 0);
    assert_int_equal(pktcap__http_set(h, "retry_max_ms", "1000"), 0);
    assert_int_equal(pktcap__http_set(h, "retry_budget_ms", "60000"), 0);
    assert_int_equal(pktcap__http_set(h, "max_response_bytes", "1Mi"), 0);
    assert_int_equal(pktcap__http_set(h, "max_download_bytes", "10G"), 0);
    assert_int_equal(pktcap__http_set(h, "max_response_bytes", "0"), PKTCAP_E_INVAL);
    assert_int_equal(pktcap__http_set(h, "tls_verify", "false"), 0);
    assert_int_equal(pktcap__http_set(h, "allow_http", "yes"), 0);
    assert_int_equal(pktcap__http_set(h, "tls_verify", "maybe"), PKTCAP_E_INVAL);
    assert_string_equal(last_message(), "HTTP option 'tls_verify': 'maybe' is not a boolean "
                                        "(true/false, yes/no, on/off, 1/0)");
    assert_int_equal(pktcap__http_set(h, "rate_limit", "1200/300"), 0);
    assert_int_equal(pktcap__http_set(h, "rate_limit", "none"), 0);
    assert_int_equal(pktcap__http_set(h, "rate_limit", "12"), PKTCAP_E_INVAL);
    assert_string_equal(last_message(), "HTTP option 'rate_limit': '12' is not N/SECONDS (such as "
                                        "1200/300) nor none");
    assert_int_equal(pktcap__http_set(h, "rate_limit", "/5"), PKTCAP_E_INVAL);
    assert_int_equal(pktcap__http_set(h, "rate_limit", "0/5"), PKTCAP_E_INVAL);
    assert_string_equal(last_message(), "HTTP option 'rate_limit': 0 is out of range (1 to 100000)");
    assert_int_equal(pktcap__http_set(h, "rate_limit", "5/0"), PKTCAP_E_INVAL);
    assert_string_equal(last_message(), "HTTP option 'rate_limit': 0 is out of range (1 to 86400)");
    assert_int_equal(pktcap__http_set(h, "rate_limit", "5/x"), PKTCAP_E_INVAL);
    assert_int_equal(pktcap__http_set(h, "subscription", "x"), 1);
    assert_int_equal(pktcap__http_set(h, "api_version", "2023"), 1);

    assert_int_equal(pktcap__http_set(h, "ca_file", "/nonexistent/ca.pem"), PKTCAP_E_INVAL);
    assert_string_equal(last_message(), "HTTP option ca_file: '/nonexistent/ca.pem': No such file or directory");
    assert_int_equal(pktcap__http_set(h, "ca_file", dir), PKTCAP_E_INVAL);
    assert_non_null(strstr(last_message(), "is a directory, not a file"));
    assert_int_equal(pktcap__http_set(h, "ca_file", file), 0);
    assert_int_equal(pktcap__http_set(h, "ca_path", file), PKTCAP_E_INVAL);
    assert_non_null(strstr(last_message(), "HTTP option ca_path: '"));
    assert_non_null(strstr(last_message(), "is not a directory"));
    assert_int_equal(pktcap__http_set(h, "ca_path", dir), 0);
    assert_int_equal(pktcap__http_set(h, "ca_path", "/nonexistent-dir"), PKTCAP_E_INVAL);

    assert_int_equal(pktcap__http_set_request_id_header(h, "x-ms-client-request-id"), 0);
    assert_int_equal(pktcap__http_set_request_id_header(h, "bad: name"), PKTCAP_E_INVAL);
    assert_int_equal(pktcap__http_set_request_id_header(h, ""), PKTCAP_E_INVAL);
    pktcap__http_free(h);
    pktcap__http_free(NULL);
    unlink(file);
    rmdir(dir);
}

static void loopback_hosts_are_recognised(void **state)
{
    (void)state;
    assert_true(pktcap__http_is_loopback("127.0.0.1"));
    assert_true(pktcap__http_is_loopback("127.1.2.3"));
    assert_true(pktcap__http_is_loopback("localhost"));
    assert_true(pktcap__http_is_loopback("LOCALHOST"));
    assert_true(pktcap__http_is_loopback("[::1]"));
    assert_false(pktcap__http_is_loopback("::1"));            /* libcurl gives IPv6 hosts bracketed */
    assert_false(pktcap__http_is_loopback("10.0.0.1"));
    assert_false(pktcap__http_is_loopback("128.0.0.1"));
    assert_false(pktcap__http_is_loopback("localhost.example.com"));
    assert_false(pktcap__http_is_loopback("[::2]"));
    assert_false(pktcap__http_is_loopback(""));
    assert_false(pktcap__http_is_loopback(NULL));
}

static void cookies_can_be_enabled_and_cleared_without_a_request(void **state)
{
    pktcap__http *h = NULL;
    (void)state;
    assert_int_equal(pktcap__http_new(&h, NULL), 0);
    assert_int_equal(pktcap__http_clear_cookies(h), 0);   /* nothing to clear */
    assert_int_equal(pktcap__http_enable_cookies(h), 0);
    assert_int_equal(pktcap__http_clear_cookies(h), 0);
    pktcap__http_free(h);
    assert_int_equal(pktcap__http_enable_cookies(NULL), PKTCAP_E_INVAL);
    assert_int_equal(pktcap__http_clear_cookies(NULL), PKTCAP_E_INVAL);
}

static void every_allocation_failure_in_making_a_client_is_reported(void **state)
{
    pktcap__http *h = NULL;
    unsigned long needed;
    (void)state;
    pktcap__alloc_fail_at(0);
    assert_int_equal(pktcap__http_new(&h, NULL), 0);
    assert_int_equal(pktcap__http_set(h, "ca_path", "/"), 0);
    pktcap__http_free(h);
    needed = pktcap__alloc_fail_at(0);
    assert_true(needed >= 3);
    for (unsigned long n = 1; n <= needed; n++) {
        int rc;
        h = NULL;
        pktcap__alloc_fail_at(n);
        rc = pktcap__http_new(&h, NULL);
        if (rc == 0)
            rc = pktcap__http_set(h, "ca_path", "/");
        pktcap__alloc_fail_at(0);
        assert_int_equal(rc, PKTCAP_E_NOMEM);
        pktcap__http_free(h);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(retry_after_takes_seconds_and_the_three_date_forms),
        cmocka_unit_test(retry_after_dates_in_the_past_mean_now),
        cmocka_unit_test(rfc850_two_digit_years_are_at_most_50_years_ahead),
        cmocka_unit_test(retry_after_ms_headers_are_milliseconds),
        cmocka_unit_test(garbage_is_ignored),
        cmocka_unit_test(huge_values_are_clamped_not_overflowed),
        cmocka_unit_test(the_largest_valid_value_wins),
        cmocka_unit_test(header_lookup_ignores_case_and_returns_the_first),
        cmocka_unit_test(uuids_are_random_version_4),
        cmocka_unit_test(escape_keeps_unreserved_and_encodes_the_rest),
        cmocka_unit_test(escape_reports_allocation_failure),
        cmocka_unit_test(statuses_map_onto_codes),
        cmocka_unit_test(status_messages_carry_provider_text_request_id_and_attempts),
        cmocka_unit_test(a_given_code_overrides_the_mapping),
        cmocka_unit_test(client_options_are_checked_and_unknown_keys_passed_on),
        cmocka_unit_test(loopback_hosts_are_recognised),
        cmocka_unit_test(cookies_can_be_enabled_and_cleared_without_a_request),
        cmocka_unit_test(every_allocation_failure_in_making_a_client_is_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
