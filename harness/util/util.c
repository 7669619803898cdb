#define _POSIX_C_SOURCE 200809L
#include "harness/util/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double sb_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

uint64_t sb_fnv1a64(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001B3ull;
    return h;
}

json_t *sb_json_string(const char *s)
{
    json_t *j = json_string(s);
    if (j) return j;
    char *copy = strdup(s);
    if (!copy) return json_string("?");
    /* Keep ASCII, replace every other byte: crude, but always valid. */
    for (char *c = copy; *c; c++)
        if ((unsigned char)*c >= 0x80) *c = '?';
    j = json_string(copy);
    free(copy);
    return j ? j : json_string("?");
}

size_t sb_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), prev[64], cur[64];
    if (la > 63 || lb > 63) return 99;
    for (size_t j = 0; j <= lb; j++) prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            const size_t sub = prev[j - 1] + ((a[i - 1] | 32) != (b[j - 1] | 32));
            const size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, (lb + 1) * sizeof *prev);
    }
    return prev[lb];
}

int sb_threads_note(const json_t *experiment, char *buf, size_t len)
{
    const json_t *sp = json_object_get(experiment, "parallel_split");
    const json_t *wf = json_object_get(json_object_get(json_object_get(experiment, "summary"),
                                                       "work_fraction"),
                                       "median");
    const json_int_t threads = json_integer_value(json_object_get(sp, "threads"));
    const json_int_t busy = json_integer_value(json_object_get(sp, "threads_with_work"));
    const double work = json_is_number(wf) ? json_number_value(wf) : NAN;
    if (threads < 2 || (busy >= threads && !(work < SB_WORK_FRACTION_LOW))) return 0;
    const char *name = json_string_value(json_object_get(experiment, "name"));
    int n = snprintf(buf, len, "%s: %lld tile%s on %lld threads", name ? name : "?",
                     (long long)json_integer_value(json_object_get(sp, "tiles")),
                     json_integer_value(json_object_get(sp, "tiles")) == 1 ? "" : "s",
                     (long long)threads);
    if (n >= 0 && (size_t)n < len && busy < threads)
        n += snprintf(buf + n, len - (size_t)n, ", %lld with work", (long long)busy);
    if (n >= 0 && (size_t)n < len && isfinite(work))
        snprintf(buf + n, len - (size_t)n, ", threads working %.0f %% of the step", 100.0 * work);
    return 1;
}
