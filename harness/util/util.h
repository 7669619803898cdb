/* Helpers every part of the harness uses: a monotonic clock, FNV-1a hashing, and JSON strings
 * that never fail on bytes that are not UTF-8. */
#ifndef SPECBIAS_HARNESS_UTIL_H
#define SPECBIAS_HARNESS_UTIL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Monotonic seconds. */
double sb_now(void);

/* FNV-1a 64 over bytes, continued from h (start with SB_FNV_OFFSET). */
#define SB_FNV_OFFSET 0xCBF29CE484222325ull
uint64_t sb_fnv1a64(uint64_t h, const void *p, size_t n);

/* A JSON string of s; bytes that are not UTF-8 (a Latin-1 file name) become '?', since
 * jansson refuses them and a results file must never lose a field over it. */
json_t *sb_json_string(const char *s);

/* Levenshtein distance between a and b, ignoring ASCII case; 99 for names over 63 bytes. For
 * "did you mean" suggestions. */
size_t sb_edit_distance(const char *a, const char *b);

#endif
