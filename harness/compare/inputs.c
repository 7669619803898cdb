/* specbias compare: its inputs, results files (specbias-results/1) and Google Benchmark JSON
 * (compare/gbench.c), loaded into struct input.
 *
 * Every field read from an input is type-checked before use: these parsers take files from
 * other machines and other versions, and are fuzzed (tests/fuzz). A file that is not what it
 * claims to be is exit 2 with a message naming the file, never a crash. */
#define _POSIX_C_SOURCE 200809L
#include "harness/compare/compare.h"
#include "harness/util/errmsg.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *const sb_kind_names[] = {"results", "gbench"};

void sb_input_free(struct input *in)
{
    for (size_t i = 0; i < in->nexp; i++) {
        struct experiment *e = &in->exps[i];
        sb_vec_free(&e->sec_per_step);
        sb_vec_free(&e->time_to_target);
        sb_vec_free(&e->seed_ttt);
        sb_vec_free(&e->psnr);
        sb_vec_free(&e->loss);
        for (size_t k = 0; k < e->nfreq; k++) sb_vec_free(&e->freq_err[k]);
        free(e->freq_err);
        free(e->freq);
    }
    free(in->exps);
    for (size_t i = 0; i < in->nkern; i++) {
        sb_vec_free(&in->kerns[i].real_ns);
        sb_vec_free(&in->kerns[i].gflops);
    }
    free(in->kerns);
    json_decref(in->index);
    json_decref(in->root);
    json_decref(in->run_roots);
    free(in->owned_path);
    memset(in, 0, sizeof *in);
}

long sb_input_find(const struct input *in, const char *name)
{
    const json_t *i = json_object_get(in->index, name);
    return json_is_integer(i) ? (long)json_integer_value(i) : -1;
}

const char *sb_json_type_name(const json_t *v)
{
    if (!v) return "missing";
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER:
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "of unknown type";
}

/* A number field. Returns 1 and sets *out when it is a finite number >= lo; 0 when it is
 * absent or null and `optional`; BAD_INPUT (with the message) otherwise. */
int sb_number_field(const json_t *obj, const char *key, int optional, double lo,
                    const struct where *w, double *out, char *err, size_t errlen)
{
    const json_t *v = json_object_get(obj, key);
    if (optional && (!v || json_is_null(v))) return 0;
    if (!json_is_number(v)) {
        sb_errorf(err, errlen, "%s: %s: '%s' is %s, want a number", w->path, w->at, key,
                  sb_json_type_name(v));
        return BAD_INPUT;
    }
    const double x = json_number_value(v);
    if (!isfinite(x) || x < lo) {
        sb_errorf(err, errlen, "%s: %s: '%s' = %g is out of range (want >= %g)", w->path, w->at,
                  key, x, lo);
        return BAD_INPUT;
    }
    *out = x;
    return 1;
}

/* An optional string field: the string, NULL when absent or null, BAD (with the message) when
 * of another type. */
int sb_string_field(const json_t *obj, const char *key, const struct where *w, const char **out,
                    char *err, size_t errlen)
{
    const json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v)) return 0;
    if (!json_is_string(v)) {
        sb_errorf(err, errlen, "%s: %s: '%s' is %s, want a string", w->path, w->at, key,
                  sb_json_type_name(v));
        return BAD_INPUT;
    }
    *out = json_string_value(v);
    return 0;
}

/* Context fields only label columns: one of an unexpected type is shown as unknown rather than
 * refusing the whole file. */
const char *sb_context_string(const json_t *ctx, const char *key)
{
    return json_string_value(json_object_get(ctx, key));
}

static int load_json(const char *path, json_t **out, char *err, size_t errlen)
{
    int rc;
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        sb_errorf(err, errlen, "%s: is a folder, want a results file (%s/results.json?)", path,
                  path);
        return BAD_INPUT;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        sb_errorf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return BAD_INPUT;
    }
    size_t len = 0, cap = 1 << 16;
    char *text = malloc(cap);
    while (text) {
        len += fread(text + len, 1, cap - len, f);
        if (len < cap) break;
        char *bigger = cap < SIZE_MAX / 2 ? realloc(text, cap * 2) : NULL;
        if (!bigger) {
            free(text);
            text = NULL;
            break;
        }
        text = bigger;
        cap *= 2;
    }
    const int read_error = ferror(f);
    const int saved_errno = errno;
    fclose(f);
    if (!text) return NO_MEMORY;
    if (read_error) {
        free(text);
        sb_errorf(err, errlen, "%s: cannot read: %s", path, strerror(saved_errno));
        return BAD_INPUT;
    }
    rc = sb_input_parse_json(path, text, len, out, err, errlen);
    free(text);
    return rc;
}

/* Parses len bytes of results or Google Benchmark JSON; `path` names them in messages. */
int sb_input_parse_json(const char *path, const char *text, size_t len, json_t **out, char *err,
                        size_t errlen)
{
    char *clean = sb_gbench_nonfinite_to_null(text, &len);
    if (!clean) return NO_MEMORY;
    json_error_t je;
    /* duplicate keys would make "the" value of a field ambiguous */
    json_t *root = json_loadb(clean, len, JSON_REJECT_DUPLICATES, &je);
    free(clean);
    if (!root) {
        if (je.line > 0)
            sb_errorf(err, errlen, "%s:%d:%d: not valid JSON: %s", path, je.line, je.column,
                      je.text);
        else
            sb_errorf(err, errlen, "%s: not valid JSON: %s", path, je.text);
        return BAD_INPUT;
    }
    *out = root;
    return 0;
}

/* One finished repetition's spectrum: the frequencies and the last curve point's error at each.
 * The first repetition with a spectrum fixes the frequency list; the others must agree. */
static int read_spectrum(struct experiment *e, const json_t *rep, const struct where *w, char *err,
                         size_t errlen)
{
    const json_t *freqs = json_object_get(rep, "frequencies");
    const json_t *curve = json_object_get(rep, "curve");
    if (!freqs || json_is_null(freqs) || !curve || json_is_null(curve)) return 0;
    if (!json_is_array(freqs) || !json_is_array(curve)) {
        sb_errorf(err, errlen, "%s: %s: '%s' is %s, want an array", w->path, w->at,
                  json_is_array(freqs) ? "curve" : "frequencies",
                  sb_json_type_name(json_is_array(freqs) ? curve : freqs));
        return BAD_INPUT;
    }
    const size_t nf = json_array_size(freqs), nc = json_array_size(curve);
    if (nf == 0 || nc == 0) return 0;
    /* 2D spectra are per radial band ("radial band centre, fraction of Nyquist") */
    const char *unit = json_string_value(json_object_get(rep, "frequency_unit"));
    if (unit && strstr(unit, "band")) e->bands = 1;
    const json_t *last = json_array_get(curve, nc - 1);
    if (!json_is_object(last)) {
        sb_errorf(err, errlen, "%s: %s: curve[%zu] is %s, want an object", w->path, w->at, nc - 1,
                  sb_json_type_name(last));
        return BAD_INPUT;
    }
    const json_t *se = json_object_get(last, "spectral_error");
    if (!se || json_is_null(se)) return 0;
    if (!json_is_array(se) || json_array_size(se) != nf) {
        if (json_is_array(se))
            sb_errorf(err, errlen,
                      "%s: %s: the last curve point has %zu spectral_error values for %zu "
                      "frequencies",
                      w->path, w->at, json_array_size(se), nf);
        else
            sb_errorf(err, errlen, "%s: %s: curve[%zu].spectral_error is %s, want an array",
                      w->path, w->at, nc - 1, sb_json_type_name(se));
        return BAD_INPUT;
    }
    for (size_t k = 0; k < nf; k++) {
        const json_t *f = json_array_get(freqs, k);
        if (!json_is_number(f) || !isfinite(json_number_value(f))) {
            sb_errorf(err, errlen, "%s: %s: frequencies[%zu] is %s, want a number", w->path, w->at,
                      k, sb_json_type_name(f));
            return BAD_INPUT;
        }
        const json_t *x = json_array_get(se, k);
        /* null: no target power at that frequency (a NaN error), so nothing to learn there */
        if (!json_is_null(x) && (!json_is_number(x) || !isfinite(json_number_value(x)))) {
            sb_errorf(err, errlen, "%s: %s: curve[%zu].spectral_error[%zu] is %s, want a number",
                      w->path, w->at, nc - 1, k, sb_json_type_name(x));
            return BAD_INPUT;
        }
    }
    if (!e->freq) {
        e->freq = calloc(nf, sizeof *e->freq);
        e->freq_err = calloc(nf, sizeof *e->freq_err);
        if (!e->freq || !e->freq_err) return NO_MEMORY;
        e->nfreq = nf;
        for (size_t k = 0; k < nf; k++) e->freq[k] = json_number_value(json_array_get(freqs, k));
    } else {
        int same = nf == e->nfreq;
        for (size_t k = 0; same && k < nf; k++)
            same = json_number_value(json_array_get(freqs, k)) == e->freq[k];
        if (!same) {
            sb_errorf(err, errlen,
                      "%s: %s: 'frequencies' differ from an earlier repetition's of the same "
                      "experiment",
                      w->path, w->at);
            return BAD_INPUT;
        }
    }
    for (size_t k = 0; k < nf; k++) {
        const json_t *x = json_array_get(se, k);
        if (json_is_number(x) && sb_vec_push(&e->freq_err[k], json_number_value(x)))
            return NO_MEMORY;
    }
    e->spectra++;
    return 0;
}

static int read_repetition(struct experiment *e, const json_t *rep, const struct where *w,
                           char *err, size_t errlen)
{
    if (!json_is_object(rep)) {
        sb_errorf(err, errlen, "%s: %s is %s, want an object", w->path, w->at,
                  sb_json_type_name(rep));
        return BAD_INPUT;
    }
    const char *status;
    if (sb_string_field(rep, "status", w, &status, err, errlen)) return BAD_INPUT;
    /* a failed or interrupted repetition has no timings worth comparing; the experiment's
     * status says it failed */
    if (status && strcmp(status, "ok") != 0) return 0;
    double steps, seconds, x;
    int rc;
    if (sb_number_field(rep, "steps", 0, 1.0, w, &steps, err, errlen) < 0 ||
        sb_number_field(rep, "train_seconds", 0, 0.0, w, &seconds, err, errlen) < 0)
        return BAD_INPUT;
    e->ok_reps++;
    if (sb_vec_push(&e->sec_per_step, seconds / steps)) return NO_MEMORY;
    if ((rc = sb_number_field(rep, "final_psnr_db", 1, -INFINITY, w, &x, err, errlen)) < 0)
        return BAD_INPUT;
    if (rc == 1 && sb_vec_push(&e->psnr, x)) return NO_MEMORY;
    if ((rc = sb_number_field(rep, "final_loss", 1, 0.0, w, &x, err, errlen)) < 0)
        return BAD_INPUT;
    if (rc == 1 && sb_vec_push(&e->loss, x)) return NO_MEMORY;
    if ((rc = sb_number_field(rep, "time_to_target_s", 1, 0.0, w, &x, err, errlen)) < 0)
        return BAD_INPUT;
    if (rc == 1 && sb_vec_push(&e->time_to_target, x)) return NO_MEMORY;
    const char *hash;
    if (sb_string_field(rep, "trajectory_hash", w, &hash, err, errlen)) return BAD_INPUT;
    if (hash && !e->hash)
        e->hash = hash;
    else if (hash && strcmp(hash, e->hash) != 0)
        e->hash_varies = 1;
    return read_spectrum(e, rep, w, err, errlen);
}

/* experiments[].seeds of `run --seeds K` (absent for one seed): each seed's status and time
 * to target, the samples of the time-to-quality gate (docs/results.md). */
static int read_seeds(struct experiment *e, const json_t *seeds, const char *path, char *err,
                      size_t errlen)
{
    if (!seeds || json_is_null(seeds)) return 0;
    if (!json_is_array(seeds)) {
        sb_errorf(err, errlen, "%s: experiment '%s': 'seeds' is %s, want an array", path,
                  e->name, sb_json_type_name(seeds));
        return BAD_INPUT;
    }
    for (size_t i = 0; i < json_array_size(seeds); i++) {
        const json_t *s = json_array_get(seeds, i);
        struct where w = {path, ""};
        snprintf(w.at, sizeof w.at, "experiment '%s' seeds[%zu]", e->name, i);
        const char *status;
        double seed, t;
        int rc;
        if (!json_is_object(s)) {
            sb_errorf(err, errlen, "%s: %s is %s, want an object", path, w.at,
                      sb_json_type_name(s));
            return BAD_INPUT;
        }
        if (sb_number_field(s, "seed", 0, -INFINITY, &w, &seed, err, errlen) < 0 ||
            sb_string_field(s, "status", &w, &status, err, errlen) ||
            (rc = sb_number_field(s, "time_to_target_s", 1, 0.0, &w, &t, err, errlen)) < 0)
            return BAD_INPUT;
        e->seeds++;
        if (!status || strcmp(status, "interrupted") != 0) e->seeds_finished++;
        if (status && strcmp(status, "ok") == 0 && rc == 1 && sb_vec_push(&e->seed_ttt, t))
            return NO_MEMORY;
    }
    return 0;
}

/* A finite number, or NAN (absent, null or another type). */
static double audit_number(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    const double x = json_is_number(v) ? json_number_value(v) : NAN;
    return isfinite(x) ? x : NAN;
}

static int audit_bool(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_boolean(v) ? json_is_true(v) : -1;
}

static void read_audit(struct input *in, const json_t *ctx)
{
    struct audit_info *a = &in->audit;
    const json_t *peaks = json_object_get(ctx, "peak_gflops");
    const double peak = in->isa_used ? audit_number(peaks, in->isa_used) : NAN;
    a->peak_gflops = peak > 0 ? peak : NAN;
    a->measured_mhz = a->nominal_mhz = a->c2c_ns = a->steal_fraction = a->others_fraction = NAN;
    a->boost = a->smt_active = -1;
    const json_t *audit = json_object_get(ctx, "audit");
    if (!json_is_object(audit)) return;
    a->present = 1;
    const json_t *clock = json_object_get(audit, "clock");
    const double measured = audit_number(clock, "measured_mhz");
    const double nominal = audit_number(clock, "nominal_mhz");
    a->measured_mhz = measured > 0 ? measured : NAN;
    a->nominal_mhz = nominal > 0 ? nominal : NAN;
    const double c2c = audit_number(json_object_get(audit, "core_to_core"), "round_trip_ns");
    a->c2c_ns = c2c > 0 ? c2c : NAN;
    a->governor = sb_context_string(audit, "governor");
    a->boost = audit_bool(audit, "boost");
    const json_t *smt = json_object_get(audit, "smt");
    a->smt_control = sb_context_string(smt, "control");
    a->smt_active = audit_bool(smt, "active");
    const json_t *per_core = json_object_get(smt, "threads_per_core");
    if (json_is_integer(per_core) && json_integer_value(per_core) > 0)
        a->smt_per_core = json_integer_value(per_core);
    const json_t *run = json_object_get(audit, "run");
    const double steal = audit_number(run, "steal_fraction");
    const double others = audit_number(run, "others_fraction");
    a->steal_fraction = steal >= 0 ? steal : NAN;
    a->others_fraction = others >= 0 ? others : NAN;
    a->disturbed = json_is_true(json_object_get(audit, "disturbed"));
    const json_t *w = json_object_get(audit, "warnings");
    a->warnings = json_is_array(w) ? w : NULL;
}

static int read_results(struct input *in, char *err, size_t errlen)
{
    struct where w = {in->path, ""};
    const json_t *ctx = json_object_get(in->root, "context");
    if (ctx && !json_is_object(ctx)) {
        sb_errorf(err, errlen, "%s: 'context' is %s, want an object", in->path,
                  sb_json_type_name(ctx));
        return BAD_INPUT;
    }
    in->host = sb_context_string(ctx, "host");
    in->cpu_model = sb_context_string(ctx, "cpu_model");
    in->isa_used = sb_context_string(ctx, "isa_used");
    in->git_commit = sb_context_string(ctx, "git_commit");
    in->date = sb_context_string(ctx, "date");
    in->suite_hash = sb_context_string(json_object_get(ctx, "suite"), "content_hash");
    in->machine_kind = sb_context_string(json_object_get(ctx, "slurm"), "machine_kind");
    const json_t *threads = json_object_get(ctx, "threads");
    if (json_is_integer(threads)) {
        in->threads = json_integer_value(threads);
        in->has_threads = 1;
    }
    read_audit(in, ctx);

    const json_t *exps = json_object_get(in->root, "experiments");
    if (!json_is_array(exps)) {
        sb_errorf(err, errlen, "%s: 'experiments' is %s, want an array", in->path,
                  sb_json_type_name(exps));
        return BAD_INPUT;
    }
    const size_t n = json_array_size(exps);
    in->exps = calloc(n ? n : 1, sizeof *in->exps);
    if (!in->exps) return NO_MEMORY;
    for (size_t i = 0; i < n; i++) {
        const json_t *je = json_array_get(exps, i);
        snprintf(w.at, sizeof w.at, "experiments[%zu]", i);
        if (!json_is_object(je)) {
            sb_errorf(err, errlen, "%s: %s is %s, want an object", in->path, w.at,
                      sb_json_type_name(je));
            return BAD_INPUT;
        }
        struct experiment *e = &in->exps[in->nexp++];
        if (sb_string_field(je, "name", &w, &e->name, err, errlen)) return BAD_INPUT;
        if (!e->name) {
            sb_errorf(err, errlen, "%s: %s has no 'name'", in->path, w.at);
            return BAD_INPUT;
        }
        snprintf(w.at, sizeof w.at, "experiment '%s'", e->name);
        if (sb_input_find(in, e->name) >= 0) {
            sb_errorf(err, errlen, "%s: %s appears twice", in->path, w.at);
            return BAD_INPUT;
        }
        if (json_object_set_new(in->index, e->name, json_integer((json_int_t)i))) return NO_MEMORY;
        if (sb_string_field(je, "status", &w, &e->status, err, errlen)) return BAD_INPUT;
        if (!e->status) e->status = "ok";
        e->config = json_object_get(je, "config");
        if (e->config && json_is_null(e->config)) e->config = NULL;
        if (e->config && !json_is_object(e->config)) {
            sb_errorf(err, errlen, "%s: %s: 'config' is %s, want an object", in->path, w.at,
                      sb_json_type_name(e->config));
            return BAD_INPUT;
        }
        const json_t *reps = json_object_get(je, "repetitions");
        if (!json_is_array(reps)) {
            sb_errorf(err, errlen, "%s: %s: 'repetitions' is %s, want an array", in->path, w.at,
                      sb_json_type_name(reps));
            return BAD_INPUT;
        }
        e->reps = json_array_size(reps);
        for (size_t r = 0; r < e->reps; r++) {
            struct where wr = {in->path, ""};
            snprintf(wr.at, sizeof wr.at, "experiment '%s' repetitions[%zu]", e->name, r);
            const int rc = read_repetition(e, json_array_get(reps, r), &wr, err, errlen);
            if (rc) return rc;
        }
        const int rc = read_seeds(e, json_object_get(je, "seeds"), in->path, err, errlen);
        if (rc) return rc;
    }
    return 0;
}

static void make_label(struct input *in)
{
    size_t len = 0;
    const char *parts[5] = {in->host, in->cpu_model, in->kind == KIND_GBENCH ? "kernels" : NULL,
                            in->isa_used, NULL};
    in->label[0] = '\0';
    /* a fleet's machine kind first: the name the user gave the machines compared */
    if (in->machine_kind && *in->machine_kind) {
        const int w = snprintf(in->label, sizeof in->label, "%s:", in->machine_kind);
        if (w < 0 || (size_t)w >= sizeof in->label) return;
        len = (size_t)w;
    }
    for (size_t i = 0; i < 4; i++) {
        if (!parts[i] || !*parts[i]) continue;
        const int w =
            snprintf(in->label + len, sizeof in->label - len, "%s%s", len ? " " : "", parts[i]);
        if (w < 0 || (size_t)w >= sizeof in->label - len) return;
        len += (size_t)w;
    }
    if (in->has_threads)
        snprintf(in->label + len, sizeof in->label - len, "%s%lldt", len ? " " : "",
                 (long long)in->threads);
    else if (in->kind == KIND_RESULTS && len == 0)
        snprintf(in->label, sizeof in->label, "%s", in->path);
}

int sb_input_load(struct input *in, const char *path, struct strlist *warnings, char *err,
                  size_t errlen)
{
    memset(in, 0, sizeof *in);
    in->path = path;
    int rc = load_json(path, &in->root, err, errlen);
    if (rc) return rc;
    return sb_input_read(in, warnings, err, errlen);
}

/* in->path and in->root set: what kind of file, and its experiments or benchmarks. */
int sb_input_read(struct input *in, struct strlist *warnings, char *err, size_t errlen)
{
    const char *path = in->path;
    int rc;
    in->index = json_object();
    if (!in->index) return NO_MEMORY;
    if (!json_is_object(in->root)) {
        sb_errorf(err, errlen,
                  "%s: the top level is %s; want a specbias results file or Google Benchmark "
                  "JSON (an object)",
                  path, sb_json_type_name(in->root));
        return BAD_INPUT;
    }
    const json_t *schema = json_object_get(in->root, "schema");
    if (schema) {
        if (!json_is_string(schema) || strcmp(json_string_value(schema), "specbias-results/1")) {
            sb_errorf(err, errlen,
                      "%s: schema is %s%s%s, want \"specbias-results/1\" (or Google Benchmark "
                      "JSON)",
                      path, json_is_string(schema) ? "\"" : "",
                      json_is_string(schema) ? json_string_value(schema)
                                             : sb_json_type_name(schema),
                      json_is_string(schema) ? "\"" : "");
            return BAD_INPUT;
        }
        in->kind = KIND_RESULTS;
        rc = read_results(in, err, errlen);
    } else if (json_is_object(json_object_get(in->root, "context")) &&
               json_is_array(json_object_get(in->root, "benchmarks"))) {
        in->kind = KIND_GBENCH;
        rc = sb_read_gbench(in, warnings, err, errlen);
    } else {
        sb_errorf(err, errlen,
                  "%s: neither a specbias results file (no \"schema\": \"specbias-results/1\") "
                  "nor Google Benchmark JSON (no \"context\" object and \"benchmarks\" array)",
                  path);
        return BAD_INPUT;
    }
    if (rc == 0) make_label(in);
    return rc;
}
