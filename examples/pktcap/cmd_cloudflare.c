/* pktcap cloudflare: what Cloudflare has beside the capture lifecycle — the
 * ownership of the buckets full captures are written to. Each subcommand is
 * one pktcap_provider_call() on a cloudflare:// provider; its JSON result is
 * printed as is (--json) or as text. */
#include "cli.h"

#include <pktcap/pktcap.h>
#include <pktcap/session.h>

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

enum { OPT_PROVIDER = 256, OPT_JSON, OPT_VERBOSE };

struct cf_args {
    const char *provider;
    char provider_buf[128];   /* cloudflare://accounts/$CLOUDFLARE_ACCOUNT_ID */
    const char *sub;          /* list, add, validate, delete */
    const char *arg1, *arg2;
    int json;
};

static int parse_args(struct cf_args *a, int argc, char **argv)
{
    static const struct option options[] = {
        { "provider", required_argument, NULL, OPT_PROVIDER },
        { "json", no_argument, NULL, OPT_JSON },
        { "verbose", no_argument, NULL, OPT_VERBOSE },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    static const struct {
        const char *name;
        int nargs;
        const char *args;
    } subs[] = {
        { "list", 0, "" },
        { "add", 1, "DESTINATION" },
        { "validate", 2, "DESTINATION CHALLENGE" },
        { "delete", 1, "ID" },
    };
    const char *rest[4];
    int c, n = 0, k;
    size_t i;
    memset(a, 0, sizeof *a);
    opterr = 0;
    /* Options may come anywhere (getopt permutes): "ownership add --json DEST". */
    while ((c = getopt_long(argc, argv, ":hv", options, NULL)) != -1) {
        switch (c) {
        case OPT_PROVIDER: a->provider = optarg; break;
        case OPT_JSON: a->json = 1; break;
        case 'v':
        case OPT_VERBOSE: cli_verbose++; break;
        case 'h':
            fputs(cli_cmd_cloudflare.usage, stdout);
            return -1;
        case ':':
            return cli_usage_error("cloudflare", "option '%s' needs a value", argv[optind - 1]);
        default:
            return cli_usage_error("cloudflare", "unknown option '%s'", argv[optind - 1]);
        }
    }
    for (k = optind; k < argc; k++) {
        if (n == (int)(sizeof rest / sizeof rest[0]))
            return cli_usage_error("cloudflare", "unexpected argument '%s'", argv[k]);
        rest[n++] = argv[k];
    }
    if (n == 0)
        return cli_usage_error("cloudflare", "expected 'ownership list|add|validate|delete'");
    if (strcmp(rest[0], "ownership") != 0)
        return cli_usage_error("cloudflare", "unknown subcommand '%s' (ownership)", rest[0]);
    if (n == 1)
        return cli_usage_error("cloudflare", "expected 'ownership list|add|validate|delete'");
    for (i = 0; i < sizeof subs / sizeof subs[0]; i++)
        if (strcmp(rest[1], subs[i].name) == 0)
            break;
    if (i == sizeof subs / sizeof subs[0])
        return cli_usage_error("cloudflare", "unknown subcommand 'ownership %s' (list, add, "
                               "validate, delete)", rest[1]);
    if (n - 2 != subs[i].nargs)
        return cli_usage_error("cloudflare", "'ownership %s' takes %s%s", subs[i].name,
                               subs[i].nargs ? subs[i].args : "no argument",
                               n - 2 > subs[i].nargs ? "; too many arguments"
                                                     : "; an argument is missing");
    a->sub = subs[i].name;
    a->arg1 = n > 2 ? rest[2] : NULL;
    a->arg2 = n > 3 ? rest[3] : NULL;
    if (!a->provider) {
        const char *account = getenv("CLOUDFLARE_ACCOUNT_ID");
        if (!account || !*account)
            return cli_usage_error("cloudflare", "--provider cloudflare://accounts/ACCOUNT_ID "
                                   "is required (or set CLOUDFLARE_ACCOUNT_ID)");
        snprintf(a->provider_buf, sizeof a->provider_buf, "cloudflare://accounts/%.80s",
                 account);
        a->provider = a->provider_buf;
    } else if (strncmp(a->provider, "cloudflare:", 11) != 0) {
        return cli_usage_error("cloudflare", "--provider must be a cloudflare:// URI "
                               "(cloudflare://accounts/ACCOUNT_ID), not '%.100s'", a->provider);
    }
    return CLI_OK;
}

static const char *str(json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? v : "";
}

/* One ownership object as "key  value" lines. */
static void print_ownership(json_t *o)
{
    static const struct {
        const char *key, *label;
    } fields[] = {
        { "id", "id" },
        { "destination_conf", "destination" },
        { "status", "status" },
        { "filename", "filename" },
        { "ownership_challenge", "challenge" },
        { "submitted", "submitted" },
        { "validated", "validated" },
    };
    size_t i;
    for (i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (json_is_string(json_object_get(o, fields[i].key)))
            printf("%-12s %s\n", fields[i].label, str(o, fields[i].key));
}

/* Text output of a successful call; `result` is the library's JSON text. */
static int print_text(const struct cf_args *a, const char *text)
{
    json_t *root = json_loads(text, JSON_DECODE_ANY, NULL), *item;
    size_t i;
    if (!root && strcmp(text, "null") != 0) {
        fprintf(stderr, "pktcap cloudflare: the result is not JSON: %.200s\n", text);
        return CLI_FAILED;
    }
    if (strcmp(a->sub, "list") == 0) {
        printf("%-32s %-8s %-30s %s\n", "ID", "STATUS", "SUBMITTED", "DESTINATION");
        json_array_foreach (root, i, item)
            printf("%-32s %-8s %-30s %s\n", str(item, "id"), str(item, "status"),
                   str(item, "submitted"), str(item, "destination_conf"));
    } else if (strcmp(a->sub, "add") == 0) {
        const char *challenge = str(root, "ownership_challenge");
        print_ownership(root);
        fprintf(stderr, "pktcap: Cloudflare wrote the ownership challenge to the bucket as %s;\n"
                        "pktcap: prove the bucket is yours with\n"
                        "pktcap:   pktcap cloudflare ownership validate '%s' %s\n",
                *str(root, "filename") ? str(root, "filename") : "a challenge file",
                str(root, "destination_conf"),
                *challenge ? challenge : "\"$(cat THAT_FILE)\"");
    } else if (strcmp(a->sub, "validate") == 0) {
        print_ownership(root);
    } else {
        printf("deleted ownership %s\n", a->arg1);
    }
    json_decref(root);
    return CLI_OK;
}

static int run_cloudflare(int argc, char **argv)
{
    struct cf_args a;
    pktcap_provider *p = NULL;
    json_t *args = NULL;
    char op[32], *call_args = NULL, *result = NULL;
    int rc, status = parse_args(&a, argc, argv);
    if (status != CLI_OK)
        return status < 0 ? CLI_OK : status;
    snprintf(op, sizeof op, "ownership_%s", a.sub);
    if (!(args = json_object())) {
        fputs("pktcap cloudflare: out of memory\n", stderr);
        return CLI_FAILED;
    }
    if (strcmp(a.sub, "add") == 0 || strcmp(a.sub, "validate") == 0)
        json_object_set_new(args, "destination_conf", json_string(a.arg1));
    if (strcmp(a.sub, "validate") == 0)
        json_object_set_new(args, "ownership_challenge", json_string(a.arg2));
    if (strcmp(a.sub, "delete") == 0)
        json_object_set_new(args, "id", json_string(a.arg1));
    call_args = json_dumps(args, JSON_COMPACT);
    json_decref(args);
    if (!call_args) {
        fputs("pktcap cloudflare: out of memory\n", stderr);
        return CLI_FAILED;
    }
    if ((status = cli_open_provider(&p, a.provider)) == CLI_OK) {
        /* The challenge is a secret of sorts: the arguments are not logged. */
        CLI_CALL(rc, pktcap_provider_call(&result, p, op, call_args),
                 "pktcap_provider_call(\"%s\", ...)", op);
        if (rc < 0) {
            char what[64];
            snprintf(what, sizeof what, "cloudflare ownership %s", a.sub);
            status = cli_library_error(what, rc);
        } else if (a.json) {
            printf("%s\n", result);
        } else {
            status = print_text(&a, result);
        }
    }
    pktcap_free(result);
    free(call_args);
    pktcap_provider_close(p);
    return status;
}

const struct cli_command cli_cmd_cloudflare = {
    .name = "cloudflare",
    .summary = "Cloudflare Magic Transit: the buckets full captures are written to",
    .usage =
        "usage: pktcap cloudflare ownership list [--provider URI] [--json] [--verbose]\n"
        "       pktcap cloudflare ownership add DESTINATION [--provider URI] [--json]\n"
        "       pktcap cloudflare ownership validate DESTINATION CHALLENGE [--provider URI]\n"
        "                                   [--json]\n"
        "       pktcap cloudflare ownership delete ID [--provider URI] [--json]\n"
        "\n"
        "A full Cloudflare packet capture (--option type=full) is written to a bucket\n"
        "whose ownership was proved first: 'add' registers the bucket and Cloudflare\n"
        "writes a challenge file into it; 'validate' sends that file's content back;\n"
        "'list' shows the buckets and their status (pending, success, failed);\n"
        "'delete' removes one. DESTINATION is s3://BUCKET[/DIR]?region=REGION,\n"
        "gs://BUCKET[/DIR] or r2://BUCKET[/DIR], exactly as later given to\n"
        "'pktcap capture --storage'.\n"
        "\n"
        "  --provider URI     cloudflare://accounts/ACCOUNT_ID (default: from\n"
        "                     CLOUDFLARE_ACCOUNT_ID); credentials from\n"
        "                     CLOUDFLARE_API_TOKEN, or CLOUDFLARE_EMAIL and\n"
        "                     CLOUDFLARE_API_KEY (doc/cloudflare.md)\n"
        "  --json             print Cloudflare's result as JSON (an array for list,\n"
        "                     an object for add and validate, null for delete)\n"
        "  -v, --verbose      log every library call and HTTP request on stderr\n"
        "\n"
        "'add' prints the ownership's id, destination, status, the challenge file's\n"
        "name and, when Cloudflare returns it, the challenge, and on stderr the\n"
        "'validate' command to run.\n"
        "\n"
        "Exit status: 0 done; 1 Cloudflare or the library refused (the message says\n"
        "why); 2 usage error.\n"
        "\n"
        "Examples:\n"
        "  export CLOUDFLARE_ACCOUNT_ID=023e105f4ecef8ad9ca31a8372d0c353\n"
        "  export CLOUDFLARE_API_TOKEN=...\n"
        "  pktcap cloudflare ownership add 's3://pcaps/edge?region=us-east-1'\n"
        "  pktcap cloudflare ownership validate 's3://pcaps/edge?region=us-east-1' \\\n"
        "      \"$(aws s3 cp s3://pcaps/edge/ownership-challenge-XXXX.txt -)\"\n"
        "  pktcap cloudflare ownership list --json\n",
    .run = run_cloudflare,
};
