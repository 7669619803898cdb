/* specbias compare: Google Benchmark JSON from `specbias kernels --benchmark_format=json`. */
#define _POSIX_C_SOURCE 200809L
#include "harness/compare/compare.h"
#include "harness/util/errmsg.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Google Benchmark writes non-finite doubles as bare NaN, Infinity and -Infinity (as in
 * JavaScript, not JSON): a counter of 0 FLOPs gives "FLOP/s": NaN in the cv aggregate. Outside
 * strings, after ':', ',' or '[', those tokens become null (padded with spaces where the token
 * is longer, so that columns in later syntax errors stay right; NaN is one character short).
 * Returns a new buffer, *len updated, or NULL when memory runs out. */
char *sb_gbench_nonfinite_to_null(const char *text, size_t *len)
{
    static const char *const tokens[] = {"-Infinity", "Infinity", "NaN"};
    const size_t n = *len;
    char *out = malloc(n + n / 3 + 2); /* "NaN" -> "null" grows by a third at most */
    if (!out) return NULL;
    size_t o = 0;
    int in_string = 0;
    char last = '\0'; /* the last character outside strings that is not white space */
    for (size_t i = 0; i < n;) {
        const char c = text[i];
        if (in_string) {
            out[o++] = c;
            if (c == '\\' && i + 1 < n)
                out[o++] = text[++i];
            else if (c == '"')
                in_string = 0;
            i++;
            continue;
        }
        if (c == '"') {
            in_string = 1;
            last = c;
            out[o++] = text[i++];
            continue;
        }
        size_t t = 0, tl = 0;
        if (last == ':' || last == ',' || last == '[') {
            for (t = 0; t < sizeof tokens / sizeof *tokens; t++) {
                tl = strlen(tokens[t]);
                if (i + tl <= n && !memcmp(text + i, tokens[t], tl) &&
                    (i + tl == n || strchr(" \t\r\n,]}", text[i + tl])))
                    break;
            }
        }
        if (t < sizeof tokens / sizeof *tokens && (last == ':' || last == ',' || last == '[')) {
            memcpy(out + o, "null", 4);
            o += 4;
            for (size_t pad = 4; pad < tl; pad++) out[o++] = ' ';
            i += tl;
            last = 'l';
            continue;
        }
        if (!strchr(" \t\r\n", c)) last = c;
        out[o++] = text[i++];
    }
    *len = o;
    return out;
}

/* Google Benchmark JSON: iteration entries are the samples (several per name with
 * --benchmark_repetitions); mean/median/stddev aggregates are derived from them and skipped. */
/* The labels of a Google Benchmark file, from its context. */
static void read_gbench_context(struct input *in)
{
    const json_t *ctx = json_object_get(in->root, "context");
    in->host = sb_context_string(ctx, "host_name");
    in->date = sb_context_string(ctx, "date");
    in->git_commit = sb_context_string(ctx, "specbias_git_commit");
    in->cpu_model = sb_context_string(ctx, "specbias_cpu_model");
    in->isa_used = sb_context_string(ctx, "specbias_isa");
    if (in->isa_used) return;
    /* `specbias kernels` measures a peak for every ISA it benchmarks: those name the ISAs */
    static const char prefix[] = "peak_gflops_1thread_";
    const char *key;
    const json_t *v;
    size_t len = 0;
    json_object_foreach((json_t *)ctx, key, v)
    {
        if (strncmp(key, prefix, sizeof prefix - 1) != 0) continue;
        const int wrote = snprintf(in->isa_buf + len, sizeof in->isa_buf - len, "%s%s",
                                   len ? "," : "", key + sizeof prefix - 1);
        if (wrote < 0 || (size_t)wrote >= sizeof in->isa_buf - len) break;
        len += (size_t)wrote;
    }
    if (len) in->isa_used = in->isa_buf;
}

/* time_unit to nanoseconds: *scale, or BAD_INPUT with the message. */
static int time_scale(const char *unit, const struct where *w, double *scale, char *err,
                      size_t errlen)
{
    static const struct {
        const char *unit;
        double ns;
    } units[] = {{"ns", 1.0}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}};
    *scale = 1.0;
    if (!unit) return 0;
    for (size_t i = 0; i < sizeof units / sizeof *units; i++)
        if (!strcmp(unit, units[i].unit)) {
            *scale = units[i].ns;
            return 0;
        }
    sb_errorf(err, errlen, "%s: %s: time_unit '%s' is not ns, us, ms or s", w->path, w->at, unit);
    return BAD_INPUT;
}

/* One timed iteration entry of benchmark `name` (b), as a sample of its kernel. */
static int read_sample(struct input *in, const json_t *b, const char *name, const char *unit,
                       const struct where *w, char *err, size_t errlen)
{
    double scale, real_time, flops = 0.0;
    int rc = 0;
    if (time_scale(unit, w, &scale, err, errlen)) return BAD_INPUT;
    if (sb_number_field(b, "real_time", 0, 0.0, w, &real_time, err, errlen) < 0 ||
        (rc = sb_number_field(b, "FLOP/s", 1, 0.0, w, &flops, err, errlen)) < 0)
        return BAD_INPUT;
    if (!isfinite(real_time * scale)) {
        sb_errorf(err, errlen, "%s: %s: real_time %g %s is out of range", in->path, w->at,
                  real_time, unit ? unit : "ns");
        return BAD_INPUT;
    }
    long at = sb_input_find(in, name);
    if (at < 0) {
        at = (long)in->nkern++;
        in->kerns[at].name = name;
        if (json_object_set_new(in->index, name, json_integer(at))) return NO_MEMORY;
    }
    struct kernel *k = &in->kerns[at];
    if (sb_vec_push(&k->real_ns, real_time * scale)) return NO_MEMORY;
    if (rc == 1 && sb_vec_push(&k->gflops, flops / 1e9)) return NO_MEMORY;
    return 0;
}

/* benchmarks[i]: a sample, or skipped (an aggregate, or a run that reported an error). */
static int read_benchmark(struct input *in, const json_t *b, size_t i, struct strlist *warnings,
                          char *err, size_t errlen)
{
    struct where w = {in->path, ""};
    snprintf(w.at, sizeof w.at, "benchmarks[%zu]", i);
    if (!json_is_object(b)) {
        sb_errorf(err, errlen, "%s: %s is %s, want an object", in->path, w.at,
                  sb_json_type_name(b));
        return BAD_INPUT;
    }
    const char *name, *run_type, *unit, *aggregate;
    if (sb_string_field(b, "name", &w, &name, err, errlen) ||
        sb_string_field(b, "run_type", &w, &run_type, err, errlen) ||
        sb_string_field(b, "aggregate_name", &w, &aggregate, err, errlen) ||
        sb_string_field(b, "time_unit", &w, &unit, err, errlen))
        return BAD_INPUT;
    if (!name) {
        sb_errorf(err, errlen, "%s: %s has no 'name'", in->path, w.at);
        return BAD_INPUT;
    }
    /* older Google Benchmark versions have no run_type; their aggregates are named */
    if (run_type ? strcmp(run_type, "iteration") != 0 : aggregate != NULL) return 0;
    snprintf(w.at, sizeof w.at, "benchmark '%s'", name);
    const json_t *failed = json_object_get(b, "error_occurred");
    if (json_is_true(failed)) {
        sb_strlist_addf(warnings, "%s: %s reported an error (%s); that run is skipped", in->path,
                        w.at,
                        json_string_value(json_object_get(b, "error_message"))
                            ? json_string_value(json_object_get(b, "error_message"))
                            : "no message");
        return 0;
    }
    return read_sample(in, b, name, unit, &w, err, errlen);
}

int sb_read_gbench(struct input *in, struct strlist *warnings, char *err, size_t errlen)
{
    read_gbench_context(in);
    const json_t *benches = json_object_get(in->root, "benchmarks");
    const size_t n = json_array_size(benches);
    in->kerns = calloc(n ? n : 1, sizeof *in->kerns);
    if (!in->kerns) return NO_MEMORY;
    for (size_t i = 0; i < n; i++) {
        const int rc = read_benchmark(in, json_array_get(benches, i), i, warnings, err, errlen);
        if (rc) return rc;
    }
    return 0;
}
