/* pktcap: helpers for printing text and JSON. */
#include "output.h"

#include <time.h>

void out_json_string(FILE *out, const char *s)
{
    if (!s) {
        fputs("null", out);
        return;
    }
    putc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        default:
            if (*p < 0x20)
                fprintf(out, "\\u%04x", *p);
            else
                putc(*p, out);
        }
    }
    putc('"', out);
}

static void out_fraction(FILE *out, uint32_t nsec, int digits)
{
    if (digits <= 0)
        return;
    uint32_t v = nsec;
    for (int i = digits; i < 9; i++)
        v /= 10;
    fprintf(out, ".%0*u", digits, v);
}

void out_time(FILE *out, int64_t sec, uint32_t nsec, int digits, int iso)
{
    time_t t = (time_t)sec;
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        fprintf(out, "%lld", (long long)sec);
        out_fraction(out, nsec, digits);
        return;
    }
    fprintf(out, "%04d-%02d-%02d%c%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
            iso ? 'T' : ' ', tm.tm_hour, tm.tm_min, tm.tm_sec);
    out_fraction(out, nsec, digits);
    fputs(iso ? "Z" : " UTC", out);
}

void out_seconds(FILE *out, int64_t sec, uint32_t nsec, int digits)
{
    if (sec < 0 && nsec > 0) {
        /* -0.25 s is stored as sec = -1, nsec = 750000000. */
        sec += 1;
        nsec = 1000000000u - nsec;
        fputs(sec == 0 ? "-" : "", out);
    }
    fprintf(out, "%lld", (long long)sec);
    out_fraction(out, nsec, digits);
}

int out_resolution_digits(uint64_t units_per_second)
{
    int digits = 0;
    uint64_t scale = 1;
    while (digits < 9 && scale < units_per_second) {
        scale *= 10;
        digits++;
    }
    return scale == units_per_second ? digits : 9;
}
