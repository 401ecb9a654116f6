/* Redaction of URLs and header lines (lib/net/redact.h): each rule of the
 * list, in the spellings a server or a caller may use. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <pktcap/pktcap.h>
#include "core/alloc.h"
#include "core/strbuf.h"
#include "net/redact.h"

struct pair {
    const char *in, *out;
};

static void check_url(const char *in, const char *expected)
{
    pktcap__strbuf b = PKTCAP__STRBUF_INIT;
    pktcap__redact_url(&b, in);
    assert_false(b.failed);
    assert_non_null(b.p);
    if (strcmp(b.p, expected) != 0)
        fail_msg("redact_url(%s)\n  got      %s\n  expected %s", in, b.p, expected);
    pktcap__strbuf_free(&b);
}

static void check_header(const char *in, const char *expected)
{
    pktcap__strbuf b = PKTCAP__STRBUF_INIT;
    pktcap__redact_header(&b, in);
    assert_false(b.failed);
    if (strcmp(b.p ? b.p : "", expected) != 0)
        fail_msg("redact_header(%s)\n  got      %s\n  expected %s", in, b.p, expected);
    pktcap__strbuf_free(&b);
}

static void secret_names_are_the_listed_ones_and_those_containing_a_secret_word(void **state)
{
    static const char *const secret[] = {
        "sig", "SIG", "Signature", "code", "client_secret", "access_token", "token", "key",
        "api_key", "APIKEY", "password", "passwd", "secret", "sas", "skoid", "sktid",
        "refresh_token", "Authorization", "proxy-authorization", "Cookie", "SET-COOKIE",
        "X-Auth-Key", "x-auth-token", "X-Api-Key", "Ocp-Apim-Subscription-Key",
        "my_secret_thing", "idTOKEN", "db-password-hash", "monkey", "X-Custom-Key",
    };
    static const char *const plain[] = {
        "api-version", "comp", "restype", "sv", "se", "sp", "sr", "st", "spr", "skt", "ske",
        "sks", "skv", "x", "", "Content-Type", "Accept", "User-Agent", "X-Request-ID",
        "codes", "sigs", "tok", "pass", "Location",
    };
    (void)state;
    for (size_t i = 0; i < sizeof secret / sizeof secret[0]; i++)
        if (!pktcap__redact_is_secret_name(secret[i], strlen(secret[i])))
            fail_msg("'%s' should be secret", secret[i]);
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
        if (pktcap__redact_is_secret_name(plain[i], strlen(plain[i])))
            fail_msg("'%s' should not be secret", plain[i]);
    /* The length bounds the name: "sig" inside "signature" is not the whole name. */
    assert_true(pktcap__redact_is_secret_name("sigXYZ", 3));
    assert_false(pktcap__redact_is_secret_name("sigXYZ", 2));
}

static void url_query_values_of_secret_names_become_stars_and_names_stay(void **state)
{
    static const struct pair cases[] = {
        { "https://acct.blob.core.windows.net/c/cap.pcap?sv=2022-11-02&se=2030-01-01&sr=b&sp=r&sig=abc%2Bdef%3D",
          "https://acct.blob.core.windows.net/c/cap.pcap?sv=2022-11-02&se=2030-01-01&sr=b&sp=r&sig=***" },
        { "https://h/p?SIG=x&Signature=y&CODE=z", "https://h/p?SIG=***&Signature=***&CODE=***" },
        { "https://h/cb?code=0.AbC&state=42", "https://h/cb?code=***&state=42" },
        { "https://h/t?client_secret=s3cr3t&client_id=app", "https://h/t?client_secret=***&client_id=app" },
        { "https://h/t?Client_Secret=s3cr3t", "https://h/t?Client_Secret=***" },
        { "https://h/?password=hunter2&user=bob&PassWD=x", "https://h/?password=***&user=bob&PassWD=***" },
        { "https://h/?access_token=a&refresh_token=b&token=c&id_token=d",
          "https://h/?access_token=***&refresh_token=***&token=***&id_token=***" },
        { "https://h/?key=a&api_key=b&apikey=c&subscription-key=d",
          "https://h/?key=***&api_key=***&apikey=***&subscription-key=***" },
        { "https://h/?sas=a&skoid=b&sktid=c&skt=d", "https://h/?sas=***&skoid=***&sktid=***&skt=d" },
        { "https://h/?mysecretvalue=1", "https://h/?mysecretvalue=***" },
        /* empty values, bare names, empty items and a fragment */
        { "https://h/?sig=&flag&&x=1#frag", "https://h/?sig=***&flag&&x=1#frag" },
        { "https://h/?sig", "https://h/?sig" },
        { "https://h/p?", "https://h/p?" },
        /* a value that is itself a URL keeps its own shape; only secret names change */
        { "https://h/?next=https://x/y&sig=1", "https://h/?next=https://x/y&sig=***" },
        /* no query: untouched */
        { "https://management.azure.com/subscriptions/s/providers/x?api-version=2023-09-01",
          "https://management.azure.com/subscriptions/s/providers/x?api-version=2023-09-01" },
        { "http://127.0.0.1:8080/path", "http://127.0.0.1:8080/path" },
        /* a '?' in the fragment is not a query */
        { "https://h/p#a?sig=1", "https://h/p#a?sig=1" },
        /* relative and scheme-less text is still treated */
        { "/p?sig=1", "/p?sig=***" },
        { "", "" },
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_url(cases[i].in, cases[i].out);
}

static void url_userinfo_loses_its_password(void **state)
{
    static const struct pair cases[] = {
        { "https://user:pa55@host/p", "https://user:***@host/p" },
        { "https://user:@host/", "https://user:***@host/" },
        { "https://user@host/", "https://user@host/" },
        { "http://u:p@127.0.0.1:80/?sig=1", "http://u:***@127.0.0.1:80/?sig=***" },
        /* the last '@' ends the userinfo: a password may hold one */
        { "https://u:p@ss@host/x", "https://u:***@host/x" },
        /* an '@' after the authority is not userinfo */
        { "https://host/a:b@c", "https://host/a:b@c" },
        { "https://host?x=a:b@c", "https://host?x=a:b@c" },
        { "https://[::1]:8443/", "https://[::1]:8443/" },
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_url(cases[i].in, cases[i].out);
}

static void secret_header_lines_become_name_and_stars(void **state)
{
    static const struct pair cases[] = {
        { "Authorization: Bearer xyz", "Authorization: ***" },
        { "authorization:Bearer xyz", "authorization: ***" },
        { "AUTHORIZATION : Basic dXNlcjpwYXNz", "AUTHORIZATION: ***" },
        { "Proxy-Authorization: Basic abc", "Proxy-Authorization: ***" },
        { "Cookie: a=1; b=2", "Cookie: ***" },
        { "Set-Cookie: session=abc; HttpOnly", "Set-Cookie: ***" },
        { "X-Auth-Key: 0123456789abcdef", "X-Auth-Key: ***" },
        { "X-Auth-Email: me@example.com", "X-Auth-Email: me@example.com" },
        { "X-Auth-Token: t", "X-Auth-Token: ***" },
        { "x-api-key: k", "x-api-key: ***" },
        { "Ocp-Apim-Subscription-Key: k", "Ocp-Apim-Subscription-Key: ***" },
        { "X-Client-Secret: s", "X-Client-Secret: ***" },
        { "X-Refresh-Token: t", "X-Refresh-Token: ***" },
        { "X-Password: p", "X-Password: ***" },
        { "Authorization:", "Authorization: ***" },
        /* ordinary headers are kept as they are */
        { "Content-Type: application/json", "Content-Type: application/json" },
        { "User-Agent: libpktcap/1.2.0", "User-Agent: libpktcap/1.2.0" },
        { "x-ms-request-id: 1234", "x-ms-request-id: 1234" },
        { "Expect:", "Expect:" },
        { "not a header line", "not a header line" },
        { "", "" },
        /* a URL in another header gets the URL rules */
        { "Location: https://acct.blob.core.windows.net/c/x?sv=1&sig=abc",
          "Location: https://acct.blob.core.windows.net/c/x?sv=1&sig=***" },
        { "Azure-AsyncOperation:  HTTPS://u:p@h/op?code=1", "Azure-AsyncOperation:  HTTPS://u:***@h/op?code=***" },
        { "Link: </x?sig=1>; rel=next", "Link: </x?sig=1>; rel=next" },
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_header(cases[i].in, cases[i].out);
}

static void redaction_appends_to_what_the_buffer_holds(void **state)
{
    pktcap__strbuf b = PKTCAP__STRBUF_INIT;
    (void)state;
    pktcap__strbuf_puts(&b, "> GET ");
    pktcap__redact_url(&b, "https://h/?sig=1");
    pktcap__strbuf_puts(&b, " | ");
    pktcap__redact_header(&b, "Cookie: x");
    assert_string_equal(b.p, "> GET https://h/?sig=*** | Cookie: ***");
    pktcap__strbuf_free(&b);
}

static void an_allocation_failure_marks_the_buffer_failed(void **state)
{
    pktcap__strbuf b = PKTCAP__STRBUF_INIT;
    char *out = NULL;
    (void)state;
    pktcap__alloc_fail_at(1);
    pktcap__redact_url(&b, "https://u:p@h/?sig=1");
    pktcap__alloc_fail_at(0);
    assert_true(b.failed);
    assert_int_equal(pktcap__strbuf_finish(&out, &b), PKTCAP_E_NOMEM);
    assert_null(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(secret_names_are_the_listed_ones_and_those_containing_a_secret_word),
        cmocka_unit_test(url_query_values_of_secret_names_become_stars_and_names_stay),
        cmocka_unit_test(url_userinfo_loses_its_password),
        cmocka_unit_test(secret_header_lines_become_name_and_stars),
        cmocka_unit_test(redaction_appends_to_what_the_buffer_holds),
        cmocka_unit_test(an_allocation_failure_marks_the_buffer_failed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
