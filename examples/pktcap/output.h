/* pktcap: helpers for printing text and JSON. */
#ifndef PKTCAP_CLI_OUTPUT_H
#define PKTCAP_CLI_OUTPUT_H

#include <stdint.h>
#include <stdio.h>

/* Writes s as a JSON string literal (quotes included); NULL as null. */
void out_json_string(FILE *out, const char *s);

/* Writes "YYYY-MM-DD hh:mm:ss.fraction" in UTC with `digits` fraction digits
 * (0-9), or "YYYY-MM-DDThh:mm:ss.fractionZ" when `iso` is set. */
void out_time(FILE *out, int64_t sec, uint32_t nsec, int digits, int iso);

/* Writes sec.nsec with `digits` fraction digits, e.g. "12.500000". */
void out_seconds(FILE *out, int64_t sec, uint32_t nsec, int digits);

/* Fraction digits that show a resolution of `units_per_second`: n for 10^n
 * (1000000 -> 6), and every nanosecond (9) for any other resolution (such as
 * 1024) or one finer than 10^9. */
int out_resolution_digits(uint64_t units_per_second);

#endif
