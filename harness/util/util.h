/* Helpers every part of the harness uses: a monotonic clock, FNV-1a hashing, and JSON strings
 * that never fail on bytes that are not UTF-8. */
#ifndef SPECBIAS_HARNESS_UTIL_H
#define SPECBIAS_HARNESS_UTIL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Monotonic seconds. */
double sb_now(void);

/* One step of a spin-wait: the CPU's hint that it is spinning (x86 pause, Arm yield), which
 * frees the core's resources for an SMT sibling; nothing elsewhere. */
static inline void sb_spin_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* FNV-1a 64 over bytes, continued from h (start with SB_FNV_OFFSET). */
#define SB_FNV_OFFSET 0xCBF29CE484222325ull
uint64_t sb_fnv1a64(uint64_t h, const void *p, size_t n);

/* A JSON string of s; bytes that are not UTF-8 (a Latin-1 file name) become '?', since
 * jansson refuses them and a results file must never lose a field over it. */
json_t *sb_json_string(const char *s);

/* Levenshtein distance between a and b, ignoring ASCII case; 99 for names over 63 bytes. For
 * "did you mean" suggestions. */
size_t sb_edit_distance(const char *a, const char *b);

/* An experiment (results.json's entry) that could not use the threads it was given: fewer
 * work items than threads (parallel_split.threads_with_work), or threads that worked less
 * than SB_WORK_FRACTION_LOW of the step (summary.work_fraction, the median). Writes one line,
 * e.g. "lazzari1d/pe0-6: 8 tiles on 64 threads, 16 threads with work, threads working 21 %
 * of the step", and returns 1; else 0. Files written before these fields existed give 0. */
#define SB_WORK_FRACTION_LOW 0.75
int sb_threads_note(const json_t *experiment, char *buf, size_t len);

#endif
