/* `specbias kernels`: Google Benchmark's flags checked before they reach the library
 * (kernels.h). Google Benchmark 1.7 prints its usage and exits 0 on a bad --benchmark_format,
 * and runs nothing, successfully, for a filter that matches nothing: a CI job with a typo
 * would pass. Here every flag it documents is checked by name and value, and the filter
 * against the benchmarks' names, each failure a message naming the flag and the value. */
#define _POSIX_C_SOURCE 200809L
#include "harness/cli/kernels.h"
#include "harness/util/util.h"

#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum kind { BOOL, STRING, NONEMPTY, DOUBLE, INT, CHOICE, CONTEXT };

static const char *const formats[] = {"console", "json", "csv", NULL};
static const char *const colors[] = {"auto", "true", "false", "yes", "no", NULL};
static const char *const units[] = {"ns", "us", "ms", "s", NULL};

/* Google Benchmark 1.7's flags (its --help), without the "--benchmark_" prefix. */
static const struct {
    const char *name;
    enum kind kind;
    const char *const *choices;
} flags[] = {
    {"list_tests", BOOL, NULL},
    {"filter", STRING, NULL},
    {"min_time", DOUBLE, NULL},
    {"min_warmup_time", DOUBLE, NULL},
    {"repetitions", INT, NULL},
    {"enable_random_interleaving", BOOL, NULL},
    {"report_aggregates_only", BOOL, NULL},
    {"display_aggregates_only", BOOL, NULL},
    {"format", CHOICE, formats},
    {"out", NONEMPTY, NULL},
    {"out_format", CHOICE, formats},
    {"color", CHOICE, colors},
    {"counters_tabular", BOOL, NULL},
    {"perf_counters", STRING, NULL},
    {"context", CONTEXT, NULL},
    {"time_unit", CHOICE, units},
};
#define NFLAGS (sizeof flags / sizeof *flags)

/* Google Benchmark reads any word but false/no/off (and 0, f, n) as true; a typo there is
 * a mistake too, so only these are taken. */
static int is_bool(const char *v)
{
    static const char *const ok[] = {"true", "false", "yes", "no", "on", "off", "1", "0",
                                     "t",    "f",     "y",   "n"};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        if (!strcasecmp(v, ok[i])) return 1;
    return 0;
}

static void suggest(const char *got, const char *const *cands, size_t n, const char *prefix)
{
    size_t best_d = 3, best = n;
    for (size_t i = 0; i < n; i++) {
        const size_t d = sb_edit_distance(got, cands[i]);
        if (d < best_d && d < strlen(got)) best_d = d, best = i;
    }
    if (best < n) fprintf(stderr, "; did you mean '%s%s'?", prefix, cands[best]);
}

/* value checked against its flag's kind. Returns 0, or -1 with the message printed. */
static int check_value(size_t f, const char *arg, const char *v)
{
    char *end;
    errno = 0;
    switch (flags[f].kind) {
    case BOOL:
        if (!v || is_bool(v)) return 0;
        fprintf(stderr, "specbias kernels: %s: '%s' is not true or false\n", arg, v);
        return -1;
    case STRING:
    case NONEMPTY:
        if (v && (*v || flags[f].kind == STRING)) return 0;
        break;
    case DOUBLE: {
        const double d = v && *v ? strtod(v, &end) : NAN;
        if (v && *v && !*end && !errno && isfinite(d) && d >= 0) return 0;
        break;
    }
    case INT: {
        const long n = v && *v ? strtol(v, &end, 10) : 0;
        if (v && *v && !*end && !errno && n >= 1 && n <= 1000000) return 0;
        break;
    }
    case CHOICE: {
        size_t n = 0;
        for (; flags[f].choices[n]; n++)
            if (v && !strcmp(v, flags[f].choices[n])) return 0;
        fprintf(stderr, "specbias kernels: --benchmark_%s is", flags[f].name);
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, "%s%s", i == 0 ? " " : i + 1 == n ? " or " : ", ",
                    flags[f].choices[i]);
        fprintf(stderr, ", got '%s'", v ? v : "");
        if (v) suggest(v, (const char *const *)flags[f].choices, n, "");
        fputc('\n', stderr);
        return -1;
    }
    case CONTEXT:
        if (v && *v && strchr(v, '=')) return 0;
        break;
    }
    static const char *const want[] = {"", "a value (--benchmark_NAME=VALUE)", "a non-empty value",
                                       "a number of seconds >= 0", "a whole number >= 1", "",
                                       "KEY=VALUE[,KEY=VALUE...]"};
    fprintf(stderr, "specbias kernels: --benchmark_%s needs %s, got %s%s%s\n", flags[f].name,
            want[flags[f].kind], v ? "'" : "no value", v ? v : "", v ? "'" : "");
    return -1;
}

/* One argument Google Benchmark is to get. Returns 0, or -1 with the message printed. */
static int check_flag(const char *arg)
{
    if (!strncmp(arg, "--v=", 4)) {
        char *end;
        errno = 0;
        (void)strtol(arg + 4, &end, 10);
        if (arg[4] && !*end && !errno) return 0;
        fprintf(stderr, "specbias kernels: --v needs a whole number (verbosity), got '%s'\n",
                arg + 4);
        return -1;
    }
    if (!strcmp(arg, "--help")) return 0;
    const char *name = arg + strlen("--benchmark_"), *eq = strchr(name, '=');
    const size_t len = eq ? (size_t)(eq - name) : strlen(name);
    for (size_t f = 0; f < NFLAGS; f++)
        if (strlen(flags[f].name) == len && !strncmp(flags[f].name, name, len))
            return check_value(f, arg, eq ? eq + 1 : NULL);
    char got[64];
    const char *names[NFLAGS];
    for (size_t f = 0; f < NFLAGS; f++) names[f] = flags[f].name;
    snprintf(got, sizeof got, "%.*s", (int)len, name);
    fprintf(stderr, "specbias kernels: unknown Google Benchmark flag '%s'", arg);
    suggest(got, names, NFLAGS, "--benchmark_");
    fprintf(stderr, " (`specbias kernels --help` lists them)\n");
    return -1;
}

int sb_kernels_check_flags(const char *const *argv, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (check_flag(argv[i])) return -1;
    return 0;
}

const char *sb_kernels_filter(const char *const *argv, size_t n)
{
    const char *filter = NULL;
    for (size_t i = 1; i < n; i++)
        if (!strncmp(argv[i], "--benchmark_filter=", 19)) filter = argv[i] + 19;
    return filter;
}

int sb_kernels_filter_check(const char *filter, const char *const *names, size_t n)
{
    /* Google Benchmark's rules: "" and "all" select everything, a leading '-' negates, and
     * the pattern is a POSIX extended regex searched in the name. */
    if (!filter || !*filter || !strcmp(filter, "all")) return 0;
    const int negative = filter[0] == '-';
    regex_t re;
    const int e = regcomp(&re, filter + negative, REG_EXTENDED | REG_NOSUB);
    if (e) {
        char why[256];
        regerror(e, &re, why, sizeof why);
        fprintf(stderr, "specbias kernels: --benchmark_filter='%s': %s\n", filter, why);
        return -1;
    }
    size_t matched = 0;
    for (size_t i = 0; i < n; i++)
        matched += (regexec(&re, names[i], 0, NULL, 0) == 0) != negative;
    regfree(&re);
    if (matched) return 0;
    fprintf(stderr,
            "specbias kernels: --benchmark_filter='%s' matches none of the %zu benchmarks "
            "(names are <kernel>__<isa>/<shape>; --benchmark_list_tests lists them)\n",
            filter, n);
    return -1;
}
