/* specbias compare BASE NEW [MORE...]: the statistical regression gate (two files) and the
 * machine comparison table (more than two), over results files (specbias-results/1) and
 * Google Benchmark JSON from `specbias kernels` (DESIGN.md, Command line; issue 6).
 *
 * Every field read from an input is type-checked before use: these parsers take files from
 * other machines and other versions, and will be fuzzed. A file that is not what it claims
 * to be is exit 2 with a message naming the file, never a crash. */
#define _POSIX_C_SOURCE 200809L
#include "harness/cli/cli.h"
#include "harness/util/errmsg.h"
#include "harness/compare/stats.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A frequency counts as learned when the residual at it is at most 10 % of the target's. */
#define LEARNED_MAX_ERROR 0.1
/* Below 3 repetitions a side the one-sided test cannot reach 0.05 (1 vs 1 gives at best 0.5,
 * 2 vs 2 gives 1/6, 3 vs 3 gives 1/20), so the verdict falls back to the threshold. */
#define MIN_REPS_FOR_TEST 3
/* Significant means p <= alpha: rejecting then keeps the false-alarm rate at most alpha, and
 * 3 vs 3 completely separated repetitions give exactly p = 1/20 = 0.05 (with p < alpha the
 * default gate could never flag 3 repetitions). The slack absorbs the few ulps by which the
 * exact distribution's sums can miss 1/20. */
#define P_SLACK (1.0 + 1e-9)

/* ---- growable lists ---------------------------------------------------------------------- */

struct vec {
    double *v;
    size_t n, cap;
};

static int vec_push(struct vec *a, double x)
{
    if (a->n == a->cap) {
        const size_t cap = a->cap ? 2 * a->cap : 8;
        double *v = realloc(a->v, cap * sizeof *v);
        if (!v) return -1;
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n++] = x;
    return 0;
}

static void vec_free(struct vec *a)
{
    free(a->v);
    *a = (struct vec){0};
}

struct strlist {
    char **s;
    size_t n, cap;
    int oom; /* a message could not be stored; the command ends with exit 3 */
};

__attribute__((format(printf, 2, 3))) static void strlist_addf(struct strlist *l, const char *fmt,
                                                               ...)
{
    char buf[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (l->n == l->cap) {
        const size_t cap = l->cap ? 2 * l->cap : 16;
        char **s = realloc(l->s, cap * sizeof *s);
        if (!s) {
            l->oom = 1;
            return;
        }
        l->s = s;
        l->cap = cap;
    }
    char *copy = strdup(buf);
    if (!copy) {
        l->oom = 1;
        return;
    }
    l->s[l->n++] = copy;
}

static void strlist_free(struct strlist *l)
{
    for (size_t i = 0; i < l->n; i++) free(l->s[i]);
    free(l->s);
    *l = (struct strlist){0};
}

/* Appends copies of src's messages to dst. */
static void strlist_add_all(struct strlist *dst, const struct strlist *src)
{
    for (size_t i = 0; i < src->n; i++) strlist_addf(dst, "%s", src->s[i]);
    dst->oom |= src->oom;
}

/* ---- inputs -------------------------------------------------------------------------------- */

enum file_kind { KIND_RESULTS, KIND_GBENCH };
static const char *const kind_names[] = {"results", "gbench"};

struct experiment {
    const char *name;     /* strings are borrowed from the file's JSON, which outlives them */
    const char *status;   /* "ok" when the field is absent */
    const json_t *config; /* NULL when absent */
    size_t reps, ok_reps;
    struct vec sec_per_step, time_to_target, psnr;
    const char *hash; /* of the first finished repetition; NULL when none */
    int hash_varies;  /* finished repetitions disagree on trajectory_hash */
    size_t nfreq;
    double *freq;         /* the frequencies spectral_error[] refers to */
    struct vec *freq_err; /* per frequency: the last curve point's error, one per repetition */
    size_t spectra;       /* repetitions that had a spectrum */
};

struct kernel {
    const char *name;
    struct vec real_ns, gflops;
};

/* The machine audit of a results file (context.audit, written by specbias run;
 * harness/machine/audit.h) and the FMA peak of the ISA it used. Older files have none; a field
 * of the wrong type counts as absent (the audit only labels and warns, it never refuses a
 * file). */
struct audit_info {
    int present;                            /* context.audit is an object */
    double measured_mhz, nominal_mhz;       /* NAN: unknown */
    const char *governor;                   /* NULL: unknown (no cpufreq driver) */
    int boost;                              /* 1 on, 0 off, -1 unknown */
    const char *smt_control;                /* NULL: unknown */
    int smt_active;                         /* 1, 0, -1 unknown */
    json_int_t smt_per_core;                /* 0: unknown */
    double steal_fraction, others_fraction; /* NAN: unknown */
    int disturbed;                          /* the audit says so */
    const json_t *warnings;                 /* the audit's own reasons (an array), or NULL */
    double peak_gflops;                     /* context.peak_gflops[isa_used]; NAN: unknown */
};

struct input {
    const char *path;
    enum file_kind kind;
    json_t *root;
    json_t *index; /* name -> position in exps or kerns: matching is linear in the file size */
    const char *host, *cpu_model, *isa_used, *git_commit, *date;
    json_int_t threads;
    int has_threads;
    char isa_buf[160], label[320];
    struct experiment *exps;
    size_t nexp;
    struct kernel *kerns;
    size_t nkern;
    struct audit_info audit;
};

static void input_free(struct input *in)
{
    for (size_t i = 0; i < in->nexp; i++) {
        struct experiment *e = &in->exps[i];
        vec_free(&e->sec_per_step);
        vec_free(&e->time_to_target);
        vec_free(&e->psnr);
        for (size_t k = 0; k < e->nfreq; k++) vec_free(&e->freq_err[k]);
        free(e->freq_err);
        free(e->freq);
    }
    free(in->exps);
    for (size_t i = 0; i < in->nkern; i++) {
        vec_free(&in->kerns[i].real_ns);
        vec_free(&in->kerns[i].gflops);
    }
    free(in->kerns);
    json_decref(in->index);
    json_decref(in->root);
    memset(in, 0, sizeof *in);
}

static long input_find(const struct input *in, const char *name)
{
    const json_t *i = json_object_get(in->index, name);
    return json_is_integer(i) ? (long)json_integer_value(i) : -1;
}

/* Loader results: 0 ok, BAD_INPUT (exit 2), NO_MEMORY (exit 3). */
enum { BAD_INPUT = -1, NO_MEMORY = -2 };

static const char *type_name(const json_t *v)
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

/* Where in a file a field sits, for messages: "experiment 'x' repetition 2". */
struct where {
    const char *path;
    char at[320];
};

/* A number field. Returns 1 and sets *out when it is a finite number >= lo; 0 when it is
 * absent or null and `optional`; BAD_INPUT (with the message) otherwise. */
static int number_field(const json_t *obj, const char *key, int optional, double lo,
                        const struct where *w, double *out, char *err, size_t errlen)
{
    const json_t *v = json_object_get(obj, key);
    if (optional && (!v || json_is_null(v))) return 0;
    if (!json_is_number(v)) {
        sb_errorf(err, errlen, "%s: %s: '%s' is %s, want a number", w->path, w->at, key,
                  type_name(v));
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
static int string_field(const json_t *obj, const char *key, const struct where *w, const char **out,
                        char *err, size_t errlen)
{
    const json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v)) return 0;
    if (!json_is_string(v)) {
        sb_errorf(err, errlen, "%s: %s: '%s' is %s, want a string", w->path, w->at, key,
                  type_name(v));
        return BAD_INPUT;
    }
    *out = json_string_value(v);
    return 0;
}

/* Context fields only label columns: one of an unexpected type is shown as unknown rather than
 * refusing the whole file. */
static const char *context_string(const json_t *ctx, const char *key)
{
    return json_string_value(json_object_get(ctx, key));
}

/* Google Benchmark writes non-finite doubles as bare NaN, Infinity and -Infinity (as in
 * JavaScript, not JSON): a counter of 0 FLOPs gives "FLOP/s": NaN in the cv aggregate. Outside
 * strings, after ':', ',' or '[', those tokens become null (padded with spaces where the token
 * is longer, so that columns in later syntax errors stay right; NaN is one character short).
 * Returns a new buffer, *len updated, or NULL when memory runs out. */
static char *nonfinite_to_null(const char *text, size_t *len)
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

static int parse_json(const char *path, const char *text, size_t len, json_t **out, char *err,
                      size_t errlen);

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
    rc = parse_json(path, text, len, out, err, errlen);
    free(text);
    return rc;
}

/* Parses len bytes of results or Google Benchmark JSON; `path` names them in messages. */
static int parse_json(const char *path, const char *text, size_t len, json_t **out, char *err,
                      size_t errlen)
{
    char *clean = nonfinite_to_null(text, &len);
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
                  type_name(json_is_array(freqs) ? curve : freqs));
        return BAD_INPUT;
    }
    const size_t nf = json_array_size(freqs), nc = json_array_size(curve);
    if (nf == 0 || nc == 0) return 0;
    const json_t *last = json_array_get(curve, nc - 1);
    if (!json_is_object(last)) {
        sb_errorf(err, errlen, "%s: %s: curve[%zu] is %s, want an object", w->path, w->at, nc - 1,
                  type_name(last));
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
                      w->path, w->at, nc - 1, type_name(se));
        return BAD_INPUT;
    }
    for (size_t k = 0; k < nf; k++) {
        const json_t *f = json_array_get(freqs, k);
        if (!json_is_number(f) || !isfinite(json_number_value(f))) {
            sb_errorf(err, errlen, "%s: %s: frequencies[%zu] is %s, want a number", w->path, w->at,
                      k, type_name(f));
            return BAD_INPUT;
        }
        const json_t *x = json_array_get(se, k);
        /* null: no target power at that frequency (a NaN error), so nothing to learn there */
        if (!json_is_null(x) && (!json_is_number(x) || !isfinite(json_number_value(x)))) {
            sb_errorf(err, errlen, "%s: %s: curve[%zu].spectral_error[%zu] is %s, want a number",
                      w->path, w->at, nc - 1, k, type_name(x));
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
        if (json_is_number(x) && vec_push(&e->freq_err[k], json_number_value(x))) return NO_MEMORY;
    }
    e->spectra++;
    return 0;
}

static int read_repetition(struct experiment *e, const json_t *rep, const struct where *w,
                           char *err, size_t errlen)
{
    if (!json_is_object(rep)) {
        sb_errorf(err, errlen, "%s: %s is %s, want an object", w->path, w->at, type_name(rep));
        return BAD_INPUT;
    }
    const char *status;
    if (string_field(rep, "status", w, &status, err, errlen)) return BAD_INPUT;
    /* a failed or interrupted repetition has no timings worth comparing; the experiment's
     * status says it failed */
    if (status && strcmp(status, "ok") != 0) return 0;
    double steps, seconds, x;
    int rc;
    if (number_field(rep, "steps", 0, 1.0, w, &steps, err, errlen) < 0 ||
        number_field(rep, "train_seconds", 0, 0.0, w, &seconds, err, errlen) < 0)
        return BAD_INPUT;
    e->ok_reps++;
    if (vec_push(&e->sec_per_step, seconds / steps)) return NO_MEMORY;
    if ((rc = number_field(rep, "final_psnr_db", 1, -INFINITY, w, &x, err, errlen)) < 0)
        return BAD_INPUT;
    if (rc == 1 && vec_push(&e->psnr, x)) return NO_MEMORY;
    if ((rc = number_field(rep, "time_to_target_s", 1, 0.0, w, &x, err, errlen)) < 0)
        return BAD_INPUT;
    if (rc == 1 && vec_push(&e->time_to_target, x)) return NO_MEMORY;
    const char *hash;
    if (string_field(rep, "trajectory_hash", w, &hash, err, errlen)) return BAD_INPUT;
    if (hash && !e->hash)
        e->hash = hash;
    else if (hash && strcmp(hash, e->hash) != 0)
        e->hash_varies = 1;
    return read_spectrum(e, rep, w, err, errlen);
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
    a->measured_mhz = a->nominal_mhz = a->steal_fraction = a->others_fraction = NAN;
    a->boost = a->smt_active = -1;
    const json_t *audit = json_object_get(ctx, "audit");
    if (!json_is_object(audit)) return;
    a->present = 1;
    const json_t *clock = json_object_get(audit, "clock");
    const double measured = audit_number(clock, "measured_mhz");
    const double nominal = audit_number(clock, "nominal_mhz");
    a->measured_mhz = measured > 0 ? measured : NAN;
    a->nominal_mhz = nominal > 0 ? nominal : NAN;
    a->governor = context_string(audit, "governor");
    a->boost = audit_bool(audit, "boost");
    const json_t *smt = json_object_get(audit, "smt");
    a->smt_control = context_string(smt, "control");
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
        sb_errorf(err, errlen, "%s: 'context' is %s, want an object", in->path, type_name(ctx));
        return BAD_INPUT;
    }
    in->host = context_string(ctx, "host");
    in->cpu_model = context_string(ctx, "cpu_model");
    in->isa_used = context_string(ctx, "isa_used");
    in->git_commit = context_string(ctx, "git_commit");
    in->date = context_string(ctx, "date");
    const json_t *threads = json_object_get(ctx, "threads");
    if (json_is_integer(threads)) {
        in->threads = json_integer_value(threads);
        in->has_threads = 1;
    }
    read_audit(in, ctx);

    const json_t *exps = json_object_get(in->root, "experiments");
    if (!json_is_array(exps)) {
        sb_errorf(err, errlen, "%s: 'experiments' is %s, want an array", in->path, type_name(exps));
        return BAD_INPUT;
    }
    const size_t n = json_array_size(exps);
    in->exps = calloc(n ? n : 1, sizeof *in->exps);
    if (!in->exps) return NO_MEMORY;
    for (size_t i = 0; i < n; i++) {
        const json_t *je = json_array_get(exps, i);
        snprintf(w.at, sizeof w.at, "experiments[%zu]", i);
        if (!json_is_object(je)) {
            sb_errorf(err, errlen, "%s: %s is %s, want an object", in->path, w.at, type_name(je));
            return BAD_INPUT;
        }
        struct experiment *e = &in->exps[in->nexp++];
        if (string_field(je, "name", &w, &e->name, err, errlen)) return BAD_INPUT;
        if (!e->name) {
            sb_errorf(err, errlen, "%s: %s has no 'name'", in->path, w.at);
            return BAD_INPUT;
        }
        snprintf(w.at, sizeof w.at, "experiment '%s'", e->name);
        if (input_find(in, e->name) >= 0) {
            sb_errorf(err, errlen, "%s: %s appears twice", in->path, w.at);
            return BAD_INPUT;
        }
        if (json_object_set_new(in->index, e->name, json_integer((json_int_t)i))) return NO_MEMORY;
        if (string_field(je, "status", &w, &e->status, err, errlen)) return BAD_INPUT;
        if (!e->status) e->status = "ok";
        e->config = json_object_get(je, "config");
        if (e->config && json_is_null(e->config)) e->config = NULL;
        if (e->config && !json_is_object(e->config)) {
            sb_errorf(err, errlen, "%s: %s: 'config' is %s, want an object", in->path, w.at,
                      type_name(e->config));
            return BAD_INPUT;
        }
        const json_t *reps = json_object_get(je, "repetitions");
        if (!json_is_array(reps)) {
            sb_errorf(err, errlen, "%s: %s: 'repetitions' is %s, want an array", in->path, w.at,
                      type_name(reps));
            return BAD_INPUT;
        }
        e->reps = json_array_size(reps);
        for (size_t r = 0; r < e->reps; r++) {
            struct where wr = {in->path, ""};
            snprintf(wr.at, sizeof wr.at, "experiment '%s' repetitions[%zu]", e->name, r);
            const int rc = read_repetition(e, json_array_get(reps, r), &wr, err, errlen);
            if (rc) return rc;
        }
    }
    return 0;
}

/* Google Benchmark JSON: iteration entries are the samples (several per name with
 * --benchmark_repetitions); mean/median/stddev aggregates are derived from them and skipped. */
static int read_gbench(struct input *in, struct strlist *warnings, char *err, size_t errlen)
{
    struct where w = {in->path, ""};
    const json_t *ctx = json_object_get(in->root, "context");
    in->host = context_string(ctx, "host_name");
    in->date = context_string(ctx, "date");
    in->git_commit = context_string(ctx, "specbias_git_commit");
    in->cpu_model = context_string(ctx, "specbias_cpu_model");
    in->isa_used = context_string(ctx, "specbias_isa");
    if (!in->isa_used) {
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

    const json_t *benches = json_object_get(in->root, "benchmarks");
    const size_t n = json_array_size(benches);
    in->kerns = calloc(n ? n : 1, sizeof *in->kerns);
    if (!in->kerns) return NO_MEMORY;
    for (size_t i = 0; i < n; i++) {
        const json_t *b = json_array_get(benches, i);
        snprintf(w.at, sizeof w.at, "benchmarks[%zu]", i);
        if (!json_is_object(b)) {
            sb_errorf(err, errlen, "%s: %s is %s, want an object", in->path, w.at, type_name(b));
            return BAD_INPUT;
        }
        const char *name, *run_type, *unit, *aggregate;
        if (string_field(b, "name", &w, &name, err, errlen) ||
            string_field(b, "run_type", &w, &run_type, err, errlen) ||
            string_field(b, "aggregate_name", &w, &aggregate, err, errlen) ||
            string_field(b, "time_unit", &w, &unit, err, errlen))
            return BAD_INPUT;
        if (!name) {
            sb_errorf(err, errlen, "%s: %s has no 'name'", in->path, w.at);
            return BAD_INPUT;
        }
        /* older Google Benchmark versions have no run_type; their aggregates are named */
        if (run_type ? strcmp(run_type, "iteration") != 0 : aggregate != NULL) continue;
        snprintf(w.at, sizeof w.at, "benchmark '%s'", name);
        const json_t *failed = json_object_get(b, "error_occurred");
        if (json_is_true(failed)) {
            strlist_addf(warnings, "%s: %s reported an error (%s); that run is skipped", in->path,
                         w.at,
                         json_string_value(json_object_get(b, "error_message"))
                             ? json_string_value(json_object_get(b, "error_message"))
                             : "no message");
            continue;
        }
        double scale = 1.0; /* to nanoseconds */
        if (unit) {
            if (!strcmp(unit, "ns"))
                scale = 1.0;
            else if (!strcmp(unit, "us"))
                scale = 1e3;
            else if (!strcmp(unit, "ms"))
                scale = 1e6;
            else if (!strcmp(unit, "s"))
                scale = 1e9;
            else {
                sb_errorf(err, errlen, "%s: %s: time_unit '%s' is not ns, us, ms or s", in->path,
                          w.at, unit);
                return BAD_INPUT;
            }
        }
        double real_time, flops = 0.0;
        int rc = 0;
        if (number_field(b, "real_time", 0, 0.0, &w, &real_time, err, errlen) < 0 ||
            (rc = number_field(b, "FLOP/s", 1, 0.0, &w, &flops, err, errlen)) < 0)
            return BAD_INPUT;
        if (!isfinite(real_time * scale)) {
            sb_errorf(err, errlen, "%s: %s: real_time %g %s is out of range", in->path, w.at,
                      real_time, unit ? unit : "ns");
            return BAD_INPUT;
        }
        long at = input_find(in, name);
        if (at < 0) {
            at = (long)in->nkern++;
            in->kerns[at].name = name;
            if (json_object_set_new(in->index, name, json_integer(at))) return NO_MEMORY;
        }
        struct kernel *k = &in->kerns[at];
        if (vec_push(&k->real_ns, real_time * scale)) return NO_MEMORY;
        if (rc == 1 && vec_push(&k->gflops, flops / 1e9)) return NO_MEMORY;
    }
    return 0;
}

static void make_label(struct input *in)
{
    size_t len = 0;
    const char *parts[5] = {in->host, in->cpu_model, in->kind == KIND_GBENCH ? "kernels" : NULL,
                            in->isa_used, NULL};
    in->label[0] = '\0';
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

static int input_read(struct input *in, struct strlist *warnings, char *err, size_t errlen);

static int input_load(struct input *in, const char *path, struct strlist *warnings, char *err,
                      size_t errlen)
{
    memset(in, 0, sizeof *in);
    in->path = path;
    int rc = load_json(path, &in->root, err, errlen);
    if (rc) return rc;
    return input_read(in, warnings, err, errlen);
}

/* in->path and in->root set: what kind of file, and its experiments or benchmarks. */
static int input_read(struct input *in, struct strlist *warnings, char *err, size_t errlen)
{
    const char *path = in->path;
    int rc;
    in->index = json_object();
    if (!in->index) return NO_MEMORY;
    if (!json_is_object(in->root)) {
        sb_errorf(err, errlen,
                  "%s: the top level is %s; want a specbias results file or Google Benchmark "
                  "JSON (an object)",
                  path, type_name(in->root));
        return BAD_INPUT;
    }
    const json_t *schema = json_object_get(in->root, "schema");
    if (schema) {
        if (!json_is_string(schema) || strcmp(json_string_value(schema), "specbias-results/1")) {
            sb_errorf(err, errlen,
                      "%s: schema is %s%s%s, want \"specbias-results/1\" (or Google Benchmark "
                      "JSON)",
                      path, json_is_string(schema) ? "\"" : "",
                      json_is_string(schema) ? json_string_value(schema) : type_name(schema),
                      json_is_string(schema) ? "\"" : "");
            return BAD_INPUT;
        }
        in->kind = KIND_RESULTS;
        rc = read_results(in, err, errlen);
    } else if (json_is_object(json_object_get(in->root, "context")) &&
               json_is_array(json_object_get(in->root, "benchmarks"))) {
        in->kind = KIND_GBENCH;
        rc = read_gbench(in, warnings, err, errlen);
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

/* ---- options ------------------------------------------------------------------------------- */

enum format { FORMAT_TEXT, FORMAT_MARKDOWN, FORMAT_JSON };

struct compare_options {
    double threshold_pct, alpha, psnr_tolerance_db;
    int accept_numerics;
    enum format format;
    const char **paths;
    size_t npaths;
};

static void compare_usage(FILE *f)
{
    fprintf(
        f,
        "usage: specbias compare BASE NEW [MORE...] [--threshold PCT] [--alpha A]\n"
        "                        [--psnr-tolerance DB] [--accept-numerics]\n"
        "                        [--format text|markdown|json]\n"
        "\n"
        "Inputs are results files (specbias run) or Google Benchmark JSON (specbias kernels\n"
        "--benchmark_format=json); two files must be of one kind.\n"
        "\n"
        "Two files: a regression gate, NEW against BASE, per experiment (or benchmark) in both:\n"
        "  speed     seconds per training step and time to target (kernels: real time per\n"
        "            iteration): median ratio NEW/BASE and a one-sided Mann-Whitney U test\n"
        "            over the repetitions; a regression is a slowdown beyond --threshold that\n"
        "            is significant (p <= --alpha). With fewer than 3 repetitions a side (or\n"
        "            too few for any p to reach alpha) the test has no power: the threshold\n"
        "            alone decides, with a warning. Speedups are reported, never a failure.\n"
        "  quality   final test PSNR falling by more than --psnr-tolerance; a frequency learned\n"
        "            in BASE (median final spectral error <= 0.1) and not in NEW; the target\n"
        "            reached in BASE and never in NEW; status ok in BASE, failed in NEW.\n"
        "  numerics  trajectory_hash changed while the experiment's config (seed included) is\n"
        "            the same: \"numerics changed\", a failure unless --accept-numerics. Hashes\n"
        "            are compared across ISAs too, stricter than \"same ISA\": specbias promises\n"
        "            the same trajectory on every ISA and thread count.\n"
        "  Exit 1 when anything regressed, else 0.\n"
        "More files: a table, rows experiments and kernels, columns files, values relative to\n"
        "the first file, the best marked (* in text, bold in markdown; none on a tie). Exit 0.\n"
        "\n"
        "The machine audit of results files (context.audit) is shown per file and warned\n"
        "about, never a failure: a run its audit calls disturbed (its reasons quoted), a file\n"
        "without an audit, and a file against BASE (the first) with another governor, boost\n"
        "or SMT setting, a measured clock over 5 %% or a nominal clock over 1 %% apart, or the\n"
        "FMA peak of the same ISA on as many threads over 10 %% apart.\n"
        "\n"
        "  --threshold PCT       slowdown that counts, in percent (default 5)\n"
        "  --alpha A             significance level of the test, in (0, 1] (default 0.05)\n"
        "  --psnr-tolerance DB   allowed drop of final test PSNR in dB (default 0.5)\n"
        "  --accept-numerics     a changed trajectory_hash passes (verdict \"accepted\")\n"
        "  --format FORMAT       text (default), markdown (a pull-request comment) or json\n"
        "                        (schema specbias-compare/1)\n"
        "\n"
        "exit codes: 0 pass, 1 regression, 2 bad usage or bad input, 3 out of memory or I/O\n");
}

static int parse_number(const char *opt, const char *s, double lo, int lo_open, double hi,
                        double *out)
{
    char *end;
    errno = 0;
    const double v = s && *s ? strtod(s, &end) : NAN;
    if (!s || !*s || errno || *end || !isfinite(v) || (lo_open ? v <= lo : v < lo) || v > hi) {
        fprintf(stderr, "specbias compare: %s needs a number in %s%g, %g], got '%s'\n", opt,
                lo_open ? "(" : "[", lo, hi, s ? s : "");
        return -1;
    }
    *out = v;
    return 0;
}

/* Returns 0, 1 (help printed) or -1 (message printed). */
static int parse_args(int argc, char **argv, struct compare_options *o)
{
    *o = (struct compare_options){5.0, 0.05, 0.5, 0, FORMAT_TEXT, NULL, 0};
    o->paths = calloc((size_t)argc, sizeof *o->paths);
    if (!o->paths) {
        fprintf(stderr, "specbias compare: out of memory\n");
        return -1;
    }
    int options_done = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (options_done || arg[0] != '-' || arg[1] == '\0') {
            o->paths[o->npaths++] = arg;
            continue;
        }
        if (!strcmp(arg, "--")) {
            options_done = 1;
            continue;
        }
        if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            compare_usage(stdout);
            return 1;
        }
        if (!strcmp(arg, "--accept-numerics")) {
            o->accept_numerics = 1;
            continue;
        }
        static const char *const valued[] = {"--threshold", "--alpha", "--psnr-tolerance",
                                             "--format"};
        const char *val = NULL;
        size_t which = sizeof valued / sizeof *valued;
        for (size_t v = 0; v < sizeof valued / sizeof *valued; v++) {
            const size_t len = strlen(valued[v]);
            if (!strcmp(arg, valued[v])) {
                if (i + 1 >= argc) {
                    fprintf(stderr, "specbias compare: %s needs a value\n", arg);
                    return -1;
                }
                val = argv[++i];
            } else if (!strncmp(arg, valued[v], len) && arg[len] == '=') {
                val = arg + len + 1;
            } else {
                continue;
            }
            which = v;
            break;
        }
        int bad = 0;
        switch (which) {
        case 0: bad = parse_number("--threshold", val, 0.0, 0, 1e6, &o->threshold_pct); break;
        case 1: bad = parse_number("--alpha", val, 0.0, 1, 1.0, &o->alpha); break;
        case 2:
            bad = parse_number("--psnr-tolerance", val, 0.0, 0, 1e6, &o->psnr_tolerance_db);
            break;
        case 3:
            if (!strcmp(val, "text"))
                o->format = FORMAT_TEXT;
            else if (!strcmp(val, "markdown"))
                o->format = FORMAT_MARKDOWN;
            else if (!strcmp(val, "json"))
                o->format = FORMAT_JSON;
            else {
                fprintf(stderr, "specbias compare: --format is text, markdown or json, got '%s'\n",
                        val);
                bad = 1;
            }
            break;
        default:
            fprintf(stderr, "specbias compare: unknown option '%s'\n", arg);
            compare_usage(stderr);
            bad = 1;
        }
        if (bad) return -1;
    }
    if (o->npaths < 2) {
        fprintf(stderr, "specbias compare: need BASE and NEW (two files for the gate, more for "
                        "a table)\n");
        compare_usage(stderr);
        return -1;
    }
    return 0;
}

/* ---- the gate ------------------------------------------------------------------------------ */

enum verdict {
    V_OK,
    V_REGRESSION,
    V_IMPROVEMENT,
    V_NUMERICS_CHANGED,
    V_ACCEPTED,
    V_NOT_SIGNIFICANT,
    V_WARNING
};
static const char *const verdict_names[] = {
    "ok",       "regression",      "improvement", "numerics_changed",
    "accepted", "not_significant", "warning"};

struct row {
    const char *kind, *name, *metric;
    int numeric;       /* base and new (medians over n samples) are meaningful */
    double base, new_; /* NAN: no value */
    size_t base_n, new_n;
    const char *base_text, *new_text; /* shown instead of the numbers (hashes, statuses) */
    char base_buf[32], new_buf[32];
    double ratio, change_pct, p; /* NAN: null */
    enum verdict verdict;
    char note[512];
};

struct gate {
    const struct compare_options *o;
    const struct input *base, *new_;
    struct row *rows;
    size_t n, cap;
    struct strlist warnings;
};

static struct row *add_row(struct gate *g, const char *kind, const char *name, const char *metric)
{
    if (g->n == g->cap) {
        const size_t cap = g->cap ? 2 * g->cap : 32;
        struct row *r = realloc(g->rows, cap * sizeof *r);
        if (!r) return NULL;
        g->rows = r;
        g->cap = cap;
    }
    struct row *r = &g->rows[g->n++];
    memset(r, 0, sizeof *r);
    r->kind = kind;
    r->name = name;
    r->metric = metric;
    r->base = r->new_ = r->ratio = r->change_pct = r->p = NAN;
    return r;
}

/* Append to a row's note; text that does not fit is cut, never overflows. */
__attribute__((format(printf, 2, 3))) static void note_addf(struct row *r, const char *fmt, ...)
{
    const size_t len = strlen(r->note);
    if (len + 1 >= sizeof r->note) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->note + len, sizeof r->note - len, fmt, ap);
    va_end(ap);
}

/* A lower-is-better timing: median ratio, and the one-sided test in the direction of the
 * change when both sides have enough repetitions. */
static int timing_row(struct gate *g, const char *kind, const char *name, const char *metric,
                      const struct vec *b, const struct vec *n)
{
    struct row *r = add_row(g, kind, name, metric);
    if (!r) return NO_MEMORY;
    r->numeric = 1;
    r->base = sb_stats_median(b->v, b->n);
    r->new_ = sb_stats_median(n->v, n->n);
    r->base_n = b->n;
    r->new_n = n->n;
    if (b->n == 0 || n->n == 0 || isnan(r->base) || isnan(r->new_)) {
        r->verdict = V_WARNING;
        note_addf(r, "no samples in %s", b->n == 0 ? "BASE" : "NEW");
        strlist_addf(&g->warnings, "%s %s: no samples in %s", name, metric,
                     b->n == 0 ? "BASE" : "NEW");
        return 0;
    }
    if (!(r->base > 0.0)) {
        r->verdict = V_WARNING;
        note_addf(r, "BASE median is 0: no ratio");
        strlist_addf(&g->warnings, "%s %s: BASE median is 0, so no ratio", name, metric);
        return 0;
    }
    r->ratio = r->new_ / r->base;
    r->change_pct = 100.0 * (r->ratio - 1.0);
    const double t = g->o->threshold_pct;
    const int slower = r->change_pct > t, faster = r->change_pct < -t;
    /* Without power the test would veto every slowdown; the threshold decides alone, said
     * loudly. Under 3 repetitions a side that is always so; with more it is so when even
     * complete separation cannot reach alpha (3 vs 3 at --alpha 0.01, say). */
    const double best_p = sb_stats_mwu_min_p(n->n, b->n);
    const int few = b->n < MIN_REPS_FOR_TEST || n->n < MIN_REPS_FOR_TEST;
    if (few || !(best_p <= g->o->alpha * P_SLACK)) {
        if (few)
            strlist_addf(&g->warnings,
                         "%s %s: fewer than %d repetitions (BASE %zu, NEW %zu): verdict by "
                         "threshold alone, no significance test",
                         name, metric, MIN_REPS_FOR_TEST, b->n, n->n);
        else
            strlist_addf(&g->warnings,
                         "%s %s: with %zu (BASE) and %zu (NEW) repetitions no p-value can reach "
                         "alpha %g (the smallest is %.3g): verdict by threshold alone, no "
                         "significance test",
                         name, metric, b->n, n->n, g->o->alpha, best_p);
        r->verdict = slower ? V_REGRESSION : faster ? V_IMPROVEMENT : V_OK;
        if (slower || faster)
            note_addf(r, "%.1f%% %s (threshold %g%%)", fabs(r->change_pct),
                      slower ? "slower" : "faster", t);
        else
            note_addf(r, "within %g%%", t);
        note_addf(r, "; too few repetitions for a significance test");
        return 0;
    }
    struct sb_stats_mwu test;
    /* NEW's samples as x: GREATER asks "is NEW slower?" */
    if (sb_stats_mann_whitney(n->v, n->n, b->v, b->n,
                              r->change_pct >= 0 ? SB_STATS_GREATER : SB_STATS_LESS,
                              SB_STATS_MWU_AUTO, &test))
        return NO_MEMORY; /* inputs are finite and non-empty here: only memory can fail */
    r->p = test.p;
    const int significant = test.p <= g->o->alpha * P_SLACK;
    if (slower || faster) {
        r->verdict = !significant ? V_NOT_SIGNIFICANT : slower ? V_REGRESSION : V_IMPROVEMENT;
        note_addf(r, "%.1f%% %s (threshold %g%%), p = %.3g %s alpha %g", fabs(r->change_pct),
                  slower ? "slower" : "faster", t, test.p, significant ? "<=" : ">", g->o->alpha);
    } else {
        r->verdict = V_OK;
        note_addf(r, "within %g%%", t);
    }
    return 0;
}

static int gate_status(struct gate *g, const struct experiment *b, const struct experiment *n)
{
    const int bok = !strcmp(b->status, "ok"), nok = !strcmp(n->status, "ok");
    if (bok && nok) return 0;
    struct row *r = add_row(g, "experiment", b->name, "status");
    if (!r) return NO_MEMORY;
    r->base_text = b->status;
    r->new_text = n->status;
    if (bok) {
        r->verdict = V_REGRESSION;
        note_addf(r, "ok in BASE, %s in NEW", n->status);
    } else if (nok) {
        r->verdict = V_IMPROVEMENT;
        note_addf(r, "%s in BASE, ok in NEW", b->status);
    } else {
        r->verdict = V_WARNING;
        note_addf(r, "%s in BASE, %s in NEW", b->status, n->status);
        strlist_addf(&g->warnings, "%s: not ok on either side (BASE %s, NEW %s)", b->name,
                     b->status, n->status);
    }
    return 0;
}

static int gate_time_to_target(struct gate *g, const struct experiment *b,
                               const struct experiment *n)
{
    const size_t bt = b->time_to_target.n, nt = n->time_to_target.n;
    if (b->ok_reps == 0 || n->ok_reps == 0 || (bt == 0 && nt == 0)) return 0;
    if (bt > 0 && nt > 0) {
        const int rc = timing_row(g, "experiment", b->name, "time_to_target_s", &b->time_to_target,
                                  &n->time_to_target);
        if (rc) return rc;
        if (bt < b->ok_reps || nt < n->ok_reps)
            note_addf(&g->rows[g->n - 1], "; reached in %zu of %zu (BASE), %zu of %zu (NEW)", bt,
                      b->ok_reps, nt, n->ok_reps);
        return 0;
    }
    struct row *r = add_row(g, "experiment", b->name, "time_to_target_s");
    if (!r) return NO_MEMORY;
    r->numeric = 1;
    r->base = sb_stats_median(b->time_to_target.v, bt);
    r->new_ = sb_stats_median(n->time_to_target.v, nt);
    r->base_n = bt;
    r->new_n = nt;
    if (bt > 0) {
        r->verdict = V_REGRESSION;
        note_addf(r, "target reached in BASE (%zu of %zu repetitions), never in NEW (%zu)", bt,
                  b->ok_reps, n->ok_reps);
    } else {
        r->verdict = V_IMPROVEMENT;
        note_addf(r, "target reached in NEW (%zu of %zu repetitions), never in BASE (%zu)", nt,
                  n->ok_reps, b->ok_reps);
    }
    return 0;
}

static int gate_psnr(struct gate *g, const struct experiment *b, const struct experiment *n)
{
    if (b->psnr.n == 0 || n->psnr.n == 0) return 0;
    struct row *r = add_row(g, "experiment", b->name, "final_psnr_db");
    if (!r) return NO_MEMORY;
    r->numeric = 1;
    r->base = sb_stats_median(b->psnr.v, b->psnr.n);
    r->new_ = sb_stats_median(n->psnr.v, n->psnr.n);
    r->base_n = b->psnr.n;
    r->new_n = n->psnr.n;
    if (isnan(r->base) || isnan(r->new_)) return NO_MEMORY;
    if (r->base != 0.0) {
        r->ratio = r->new_ / r->base;
        r->change_pct = 100.0 * (r->ratio - 1.0);
    }
    const double drop = r->base - r->new_, tol = g->o->psnr_tolerance_db;
    r->verdict = drop > tol ? V_REGRESSION : -drop > tol ? V_IMPROVEMENT : V_OK;
    if (r->verdict == V_OK)
        note_addf(r, "within %g dB", tol);
    else
        note_addf(r, "test PSNR %s by %.2f dB (tolerance %g dB)", drop > 0 ? "fell" : "rose",
                  fabs(drop), tol);
    return 0;
}

static int gate_frequencies(struct gate *g, const struct experiment *b, const struct experiment *n)
{
    if (b->nfreq == 0 || n->nfreq == 0) return 0;
    struct row *r = add_row(g, "experiment", b->name, "frequencies_learned");
    if (!r) return NO_MEMORY;
    size_t compared = 0, learned_b = 0, learned_n = 0, lost = 0, gained = 0;
    char lost_text[320] = "", gained_text[320] = "";
    size_t lost_len = 0, gained_len = 0;
    for (size_t k = 0; k < b->nfreq; k++) {
        size_t m = 0;
        while (m < n->nfreq && n->freq[m] != b->freq[k]) m++;
        if (m == n->nfreq || b->freq_err[k].n == 0 || n->freq_err[m].n == 0) continue;
        const double eb = sb_stats_median(b->freq_err[k].v, b->freq_err[k].n);
        const double en = sb_stats_median(n->freq_err[m].v, n->freq_err[m].n);
        if (isnan(eb) || isnan(en)) return NO_MEMORY;
        const int lb = eb <= LEARNED_MAX_ERROR, ln = en <= LEARNED_MAX_ERROR;
        compared++;
        learned_b += (size_t)lb;
        learned_n += (size_t)ln;
        if (lb == ln) continue;
        lost += (size_t)lb;
        gained += (size_t)ln;
        char *text = lb ? lost_text : gained_text;
        size_t *len = lb ? &lost_len : &gained_len;
        if (*len + 1 >= sizeof lost_text) continue; /* the count still says how many */
        const int w = snprintf(text + *len, sizeof lost_text - *len, "%s%g (error %.3g -> %.3g)",
                               *len ? ", " : "", b->freq[k], eb, en);
        if (w > 0) *len += (size_t)w;
        if (*len >= sizeof lost_text) *len = sizeof lost_text - 1;
    }
    if (compared == 0) {
        g->n--; /* nothing in common to say */
        return 0;
    }
    r->numeric = 1;
    r->base = (double)learned_b;
    r->new_ = (double)learned_n;
    r->base_n = b->spectra;
    r->new_n = n->spectra;
    snprintf(r->base_buf, sizeof r->base_buf, "%zu of %zu", learned_b, compared);
    snprintf(r->new_buf, sizeof r->new_buf, "%zu of %zu", learned_n, compared);
    r->base_text = r->base_buf;
    r->new_text = r->new_buf;
    if (lost) {
        r->verdict = V_REGRESSION;
        note_addf(r, "learned in BASE, not in NEW: frequency %s", lost_text);
    } else if (gained) {
        r->verdict = V_IMPROVEMENT;
        note_addf(r, "learned in NEW, not in BASE: frequency %s", gained_text);
    } else {
        r->verdict = V_OK;
        note_addf(r, "same frequencies learned (final spectral error <= %g)", LEARNED_MAX_ERROR);
    }
    return 0;
}


/* Equal experiment configurations. An image target's path differs between checkouts, so when
 * both sides carry the hash of the pixels they trained on (target.data_hash), the path is
 * left out of the comparison. */
static int configs_equal(const json_t *a, const json_t *b)
{
    if (!a || !b) return 0;
    const json_t *ta = json_object_get(a, "target"), *tb = json_object_get(b, "target");
    if (!json_is_string(json_object_get(ta, "data_hash")) ||
        !json_is_string(json_object_get(tb, "data_hash")))
        return json_equal(a, b);
    json_t *ca = json_deep_copy(a), *cb = json_deep_copy(b);
    int eq = 0;
    if (ca && cb) {
        json_object_del(json_object_get(ca, "target"), "path");
        json_object_del(json_object_get(cb, "target"), "path");
        eq = json_equal(ca, cb);
    }
    json_decref(ca);
    json_decref(cb);
    return eq;
}

static int gate_hash(struct gate *g, const struct experiment *b, const struct experiment *n)
{
    if (b->hash_varies)
        strlist_addf(&g->warnings, "%s: the repetitions in %s (BASE) disagree on trajectory_hash",
                     b->name, g->base->path);
    if (n->hash_varies)
        strlist_addf(&g->warnings, "%s: the repetitions in %s (NEW) disagree on trajectory_hash",
                     n->name, g->new_->path);
    if (!b->hash || !n->hash) return 0;
    struct row *r = add_row(g, "experiment", b->name, "trajectory_hash");
    if (!r) return NO_MEMORY;
    r->base_text = b->hash;
    r->new_text = n->hash;
    /* The seed is part of config, so equal configs mean equal seeds. The ISA is deliberately
     * not required to match (the issue says "same ISA"): the determinism promise is one
     * trajectory on every ISA and thread count, so a hash that moves with the ISA is itself
     * the bug this gate is for. */
    const int same_config = configs_equal(b->config, n->config);
    if (!strcmp(b->hash, n->hash)) {
        r->verdict = V_OK;
        note_addf(r, "identical");
    } else if (!same_config) {
        r->verdict = V_OK;
        note_addf(r, b->config && n->config ? "configurations differ: hashes not comparable"
                                            : "no configuration to compare: hashes not compared");
    } else {
        r->verdict = g->o->accept_numerics ? V_ACCEPTED : V_NUMERICS_CHANGED;
        note_addf(r, "numerics changed: same configuration and seed, different trajectory");
        const char *ib = g->base->isa_used, *in = g->new_->isa_used;
        if (ib && in && strcmp(ib, in) != 0)
            note_addf(r, "; ISA %s in BASE, %s in NEW (the hash must not depend on the ISA)", ib,
                      in);
        note_addf(r, g->o->accept_numerics ? "; accepted (--accept-numerics)"
                                           : "; accept with --accept-numerics");
    }
    return 0;
}

/* Returns the number of names in common, or NO_MEMORY. */
static long gate_run(struct gate *g)
{
    const struct input *B = g->base, *N = g->new_;
    long common = 0;
    int rc = 0;
    if (B->kind == KIND_RESULTS) {
        for (size_t i = 0; i < B->nexp && !rc; i++) {
            const struct experiment *b = &B->exps[i];
            const long j = input_find(N, b->name);
            if (j < 0) {
                strlist_addf(&g->warnings, "experiment %s is only in BASE (%s)", b->name, B->path);
                continue;
            }
            const struct experiment *n = &N->exps[j];
            common++;
            rc = gate_status(g, b, n);
            if (!rc && b->sec_per_step.n && n->sec_per_step.n)
                rc = timing_row(g, "experiment", b->name, "seconds_per_step", &b->sec_per_step,
                                &n->sec_per_step);
            if (!rc) rc = gate_time_to_target(g, b, n);
            if (!rc) rc = gate_psnr(g, b, n);
            if (!rc) rc = gate_frequencies(g, b, n);
            if (!rc) rc = gate_hash(g, b, n);
        }
        for (size_t j = 0; j < N->nexp; j++)
            if (input_find(B, N->exps[j].name) < 0)
                strlist_addf(&g->warnings, "experiment %s is only in NEW (%s)", N->exps[j].name,
                             N->path);
    } else {
        for (size_t i = 0; i < B->nkern && !rc; i++) {
            const struct kernel *b = &B->kerns[i];
            const long j = input_find(N, b->name);
            if (j < 0) {
                strlist_addf(&g->warnings, "benchmark %s is only in BASE (%s)", b->name, B->path);
                continue;
            }
            common++;
            rc =
                timing_row(g, "kernel", b->name, "real_time_ns", &b->real_ns, &N->kerns[j].real_ns);
        }
        for (size_t j = 0; j < N->nkern; j++)
            if (input_find(B, N->kerns[j].name) < 0)
                strlist_addf(&g->warnings, "benchmark %s is only in NEW (%s)", N->kerns[j].name,
                             N->path);
    }
    return rc ? rc : common;
}

/* ---- the machines table -------------------------------------------------------------------- */

struct mrow {
    const char *kind, *name, *metric;
    int lower_better;
    double *values; /* one per file; NAN: none */
    long winner;    /* -1: fewer than two values */
};

struct table {
    struct mrow *rows;
    size_t n, cap;
    size_t nfiles;
    json_t *index; /* "kind metric name" -> row */
};

static struct mrow *table_row(struct table *t, const char *kind, const char *name,
                              const char *metric, int lower_better)
{
    char *key = NULL;
    const size_t klen = strlen(kind) + strlen(metric) + strlen(name) + 3;
    if (!(key = malloc(klen))) return NULL;
    snprintf(key, klen, "%s %s %s", kind, metric, name);
    const json_t *at = json_object_get(t->index, key);
    if (json_is_integer(at)) {
        free(key);
        return &t->rows[json_integer_value(at)];
    }
    if (t->n == t->cap) {
        const size_t cap = t->cap ? 2 * t->cap : 32;
        struct mrow *r = realloc(t->rows, cap * sizeof *r);
        if (!r) {
            free(key);
            return NULL;
        }
        t->rows = r;
        t->cap = cap;
    }
    struct mrow *r = &t->rows[t->n];
    *r = (struct mrow){kind, name, metric, lower_better, NULL, -1};
    r->values = malloc(t->nfiles * sizeof *r->values);
    if (!r->values || json_object_set_new(t->index, key, json_integer((json_int_t)t->n))) {
        free(r->values);
        free(key);
        return NULL;
    }
    for (size_t f = 0; f < t->nfiles; f++) r->values[f] = NAN;
    t->n++;
    free(key);
    return r;
}

static int table_set(struct table *t, const char *kind, const char *name, const char *metric,
                     int lower_better, size_t file, const struct vec *v)
{
    if (v->n == 0) return 0;
    struct mrow *r = table_row(t, kind, name, metric, lower_better);
    if (!r) return NO_MEMORY;
    r->values[file] = sb_stats_median(v->v, v->n);
    return isnan(r->values[file]) ? NO_MEMORY : 0;
}

static int table_build(struct table *t, const struct input *in, size_t nin)
{
    t->nfiles = nin;
    t->index = json_object();
    if (!t->index) return NO_MEMORY;
    for (size_t f = 0; f < nin; f++) {
        for (size_t i = 0; i < in[f].nexp; i++) {
            const struct experiment *e = &in[f].exps[i];
            if (table_set(t, "experiment", e->name, "seconds_per_step", 1, f, &e->sec_per_step) ||
                table_set(t, "experiment", e->name, "time_to_target_s", 1, f, &e->time_to_target) ||
                table_set(t, "experiment", e->name, "final_psnr_db", 0, f, &e->psnr))
                return NO_MEMORY;
        }
        for (size_t i = 0; i < in[f].nkern; i++) {
            const struct kernel *k = &in[f].kerns[i];
            if (table_set(t, "kernel", k->name, "real_time_ns", 1, f, &k->real_ns) ||
                table_set(t, "kernel", k->name, "gflops", 0, f, &k->gflops))
                return NO_MEMORY;
        }
    }
    /* The winner is the one best value; with fewer than two values, or the best shared (a
     * deterministic PSNR is the same on every machine), there is none to mark. */
    for (size_t i = 0; i < t->n; i++) {
        struct mrow *r = &t->rows[i];
        size_t have = 0, best_count = 0;
        for (size_t f = 0; f < nin; f++) {
            if (isnan(r->values[f])) continue;
            have++;
            if (r->winner < 0 || (r->lower_better ? r->values[f] < r->values[r->winner]
                                                  : r->values[f] > r->values[r->winner])) {
                r->winner = (long)f;
                best_count = 1;
            } else if (r->values[f] == r->values[r->winner]) {
                best_count++;
            }
        }
        if (have < 2 || best_count > 1) r->winner = -1;
    }
    return 0;
}

static void table_free(struct table *t)
{
    for (size_t i = 0; i < t->n; i++) free(t->rows[i].values);
    free(t->rows);
    json_decref(t->index);
}

static double relative(const struct mrow *r, size_t f)
{
    const double v0 = r->values[0], v = r->values[f];
    return isfinite(v0) && isfinite(v) && v0 != 0.0 ? v / v0 : NAN;
}

/* ---- the machine audit ---------------------------------------------------------------------- */

/* What may make two results files' timings differ besides the code: a run the audit found
 * disturbed (its own verdict and reasons, recomputed by nobody), a file without an audit, and
 * machines that differ in governor, boost, SMT, clock (measured over 5 %, nominal over 1 %) or
 * the FMA peak of the ISA used (over 10 %). Only warnings: they never change the exit code. */
#define AUDIT_MEASURED_LIMIT 0.05
#define AUDIT_NOMINAL_LIMIT  0.01
#define AUDIT_PEAK_LIMIT     0.10

/* "path (BASE)" in a gate, "path ([2])" in a table. */
static void audit_name(char *buf, size_t len, const struct input *in, size_t i, size_t nin)
{
    if (nin == 2)
        snprintf(buf, len, "%s (%s)", in[i].path, i == 0 ? "BASE" : "NEW");
    else
        snprintf(buf, len, "%s ([%zu])", in[i].path, i);
}

static const char *on_off(int b) { return b < 0 ? "unknown" : b ? "on" : "off"; }

static void smt_text(char *buf, size_t len, const struct audit_info *a)
{
    snprintf(buf, len, "%s%s%s%s",
             a->smt_active < 0 ? "?"
             : a->smt_active   ? "on"
                               : "off",
             a->smt_control ? " (control " : "", a->smt_control ? a->smt_control : "",
             a->smt_control ? ")" : "");
}

static void audit_pair(struct strlist *w, const struct input *in, size_t r, size_t i, size_t nin)
{
    const struct audit_info *a = &in[r].audit, *b = &in[i].audit;
    char na[400], nb[400];
    audit_name(na, sizeof na, in, r, nin);
    audit_name(nb, sizeof nb, in, i, nin);
    if (a->governor && b->governor && strcmp(a->governor, b->governor))
        strlist_addf(w, "the frequency governor differs: %s in %s, %s in %s", a->governor, na,
                     b->governor, nb);
    if (a->boost >= 0 && b->boost >= 0 && a->boost != b->boost)
        strlist_addf(w, "boost (turbo) differs: %s in %s, %s in %s", on_off(a->boost), na,
                     on_off(b->boost), nb);
    if ((a->smt_control && b->smt_control && strcmp(a->smt_control, b->smt_control)) ||
        (a->smt_active >= 0 && b->smt_active >= 0 && a->smt_active != b->smt_active)) {
        char sa[64], sb[64];
        smt_text(sa, sizeof sa, a);
        smt_text(sb, sizeof sb, b);
        strlist_addf(w, "SMT differs: %s in %s, %s in %s", sa, na, sb, nb);
    }
    const double mr = b->measured_mhz / a->measured_mhz;
    if (isfinite(mr) && fabs(mr - 1.0) > AUDIT_MEASURED_LIMIT)
        strlist_addf(w,
                     "the measured clock differs by %+.1f %% (above %.0f %%): %.0f MHz in %s, "
                     "%.0f MHz in %s: the timings compare clocks as well as code",
                     100.0 * (mr - 1.0), 100.0 * AUDIT_MEASURED_LIMIT, a->measured_mhz, na,
                     b->measured_mhz, nb);
    const double nr = b->nominal_mhz / a->nominal_mhz;
    if (isfinite(nr) && fabs(nr - 1.0) > AUDIT_NOMINAL_LIMIT)
        strlist_addf(w,
                     "the nominal clock differs by %+.1f %% (above %.0f %%): %.0f MHz in %s, "
                     "%.0f MHz in %s",
                     100.0 * (nr - 1.0), 100.0 * AUDIT_NOMINAL_LIMIT, a->nominal_mhz, na,
                     b->nominal_mhz, nb);
    /* The peak is over all the run's threads: only the same ISA on as many threads is the
     * same peak. */
    const double pr = b->peak_gflops / a->peak_gflops;
    if (in[r].isa_used && in[i].isa_used && !strcmp(in[r].isa_used, in[i].isa_used) &&
        !(in[r].has_threads && in[i].has_threads && in[r].threads != in[i].threads) &&
        isfinite(pr) && fabs(pr - 1.0) > AUDIT_PEAK_LIMIT)
        strlist_addf(w,
                     "the %s FMA peak differs by %+.1f %% (above %.0f %%): %.1f GFLOP/s in %s, "
                     "%.1f GFLOP/s in %s: the shares of peak are not comparable",
                     in[r].isa_used, 100.0 * (pr - 1.0), 100.0 * AUDIT_PEAK_LIMIT, a->peak_gflops,
                     na, b->peak_gflops, nb);
}

/* The audit warnings of nin files into w: per results file, disturbed or no audit; then each
 * results file against the first with an audit (BASE in a gate). */
static void audit_checks(struct strlist *w, const struct input *in, size_t nin)
{
    char name[400], reasons[640];
    long ref = -1;
    for (size_t i = 0; i < nin; i++) {
        if (in[i].kind != KIND_RESULTS) continue;
        int repeated = 0; /* the same file twice says it once */
        for (size_t j = 0; j < i && !repeated; j++)
            repeated = in[j].kind == KIND_RESULTS && !strcmp(in[j].path, in[i].path);
        const struct audit_info *a = &in[i].audit;
        if (a->present && ref < 0) ref = (long)i;
        if (repeated) continue;
        audit_name(name, sizeof name, in, i, nin);
        if (!a->present) {
            strlist_addf(w,
                         "%s has no machine audit (written before specbias recorded one): its "
                         "clock, governor, boost, SMT and disturbance are unknown",
                         name);
            continue;
        }
        if (!a->disturbed) continue;
        size_t len = 0;
        reasons[0] = '\0';
        for (size_t k = 0; a->warnings && k < json_array_size(a->warnings); k++) {
            const char *text = json_string_value(json_array_get(a->warnings, k));
            if (!text || len + 1 >= sizeof reasons) continue;
            const int wrote =
                snprintf(reasons + len, sizeof reasons - len, "%s%s", len ? "; " : "", text);
            if (wrote > 0) len += (size_t)wrote;
            if (len >= sizeof reasons) len = sizeof reasons - 1;
        }
        strlist_addf(w, "%s was disturbed while it ran: %s", name,
                     len ? reasons : "its audit gives no reason");
    }
    for (size_t i = 0; ref >= 0 && i < nin; i++)
        if ((long)i != ref && in[i].kind == KIND_RESULTS && in[i].audit.present)
            audit_pair(w, in, (size_t)ref, i, nin);
}

/* One line of a file's audit for the header: clock, governor, boost, SMT, steal, others. */
static void audit_line(char *buf, size_t len, const struct input *in)
{
    const struct audit_info *a = &in->audit;
    if (!a->present) {
        snprintf(buf, len, "none (written before specbias recorded a machine audit)");
        return;
    }
    char measured[32] = "?", nominal[32] = "?", steal[32] = "?", others[32] = "?", smt[64];
    if (isfinite(a->measured_mhz)) snprintf(measured, sizeof measured, "%.0f MHz", a->measured_mhz);
    if (isfinite(a->nominal_mhz)) snprintf(nominal, sizeof nominal, "%.0f MHz", a->nominal_mhz);
    if (isfinite(a->steal_fraction))
        snprintf(steal, sizeof steal, "%.1f %%", 100.0 * a->steal_fraction);
    if (isfinite(a->others_fraction))
        snprintf(others, sizeof others, "%.1f %%", 100.0 * a->others_fraction);
    smt_text(smt, sizeof smt, a);
    snprintf(buf, len,
             "clock %s measured, %s nominal; governor %s; boost %s; SMT %s; steal %s, others "
             "%s%s",
             measured, nominal, a->governor ? a->governor : "?",
             a->boost < 0 ? "?" : on_off(a->boost), smt, steal, others,
             a->disturbed ? "; DISTURBED" : "");
}

/* ---- output -------------------------------------------------------------------------------- */

/* Names and notes come from input files: control characters would garble a terminal, and
 * Markdown's special characters would turn kernel names like a__avx2 into emphasis. */
static void put_text(FILE *f, const char *s, int markdown)
{
    for (; *s; s++) {
        const unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f) {
            fputc('?', f);
            continue;
        }
        if (markdown && strchr("\\`*_[]<>|#", c)) fputc('\\', f);
        fputc(c, f);
    }
}

static void fmt_number(char *buf, size_t len, double x)
{
    if (isfinite(x))
        snprintf(buf, len, "%.4g", x);
    else
        snprintf(buf, len, "-");
}

static json_t *real_or_null(double x) { return isfinite(x) ? json_real(x) : json_null(); }

/* json_string refuses invalid UTF-8, and paths from the command line (and so labels and
 * warnings that quote them) may be Latin-1: such bytes become '?'. */
static json_t *text_json(const char *s)
{
    json_t *j = json_string(s);
    if (j) return j;
    char *copy = strdup(s);
    if (!copy) return NULL;
    for (char *c = copy; *c; c++)
        if ((unsigned char)*c >= 0x80) *c = '?';
    j = json_string(copy);
    free(copy);
    return j;
}

static json_t *string_or_null(const char *s) { return s ? text_json(s) : json_null(); }

struct counts {
    size_t regressions, improvements, numerics, warnings;
    int failed;
};

static struct counts count_rows(const struct gate *g)
{
    struct counts c = {0, 0, 0, g->warnings.n, 0};
    for (size_t i = 0; i < g->n; i++) {
        const enum verdict v = g->rows[i].verdict;
        c.regressions += v == V_REGRESSION;
        c.improvements += v == V_IMPROVEMENT;
        c.numerics += v == V_NUMERICS_CHANGED || v == V_ACCEPTED;
        c.failed |= v == V_REGRESSION || v == V_NUMERICS_CHANGED;
    }
    return c;
}

/* The cells of one gate row as text, for the text and Markdown tables. */
enum { COL_KIND, COL_NAME, COL_METRIC, COL_BASE, COL_NEW, COL_CHANGE, COL_P, COL_VERDICT, NCOL };
static const char *const gate_headers[NCOL] = {"kind", "name",   "metric", "base",
                                               "new",  "change", "p",      "verdict"};

static void gate_cells(const struct row *r, char cells[NCOL][96])
{
    snprintf(cells[COL_KIND], 96, "%s", r->kind);
    snprintf(cells[COL_NAME], 96, "%s", r->name);
    snprintf(cells[COL_METRIC], 96, "%s", r->metric);
    if (r->base_text)
        snprintf(cells[COL_BASE], 96, "%s", r->base_text);
    else
        fmt_number(cells[COL_BASE], 96, r->base);
    if (r->new_text)
        snprintf(cells[COL_NEW], 96, "%s", r->new_text);
    else
        fmt_number(cells[COL_NEW], 96, r->new_);
    if (isfinite(r->change_pct))
        snprintf(cells[COL_CHANGE], 96, "%+.1f%%", r->change_pct);
    else
        snprintf(cells[COL_CHANGE], 96, "-");
    if (isfinite(r->p))
        snprintf(cells[COL_P], 96, "%.3g", r->p);
    else
        snprintf(cells[COL_P], 96, "-");
    snprintf(cells[COL_VERDICT], 96, "%s", verdict_names[r->verdict]);
}

static void print_verdict_line(FILE *f, const struct counts *c, int markdown)
{
    fprintf(f,
            "%sverdict: %s%s: %zu regression%s, %zu improvement%s, %zu numerics change%s, %zu "
            "warning%s\n",
            markdown ? "**specbias compare " : "", c->failed ? "REGRESSION" : "PASS",
            markdown ? "**" : "", c->regressions, c->regressions == 1 ? "" : "s", c->improvements,
            c->improvements == 1 ? "" : "s", c->numerics, c->numerics == 1 ? "" : "s", c->warnings,
            c->warnings == 1 ? "" : "s");
}

static void print_files(FILE *f, const struct input *in, size_t nin, int gate, int markdown)
{
    for (size_t i = 0; i < nin; i++) {
        if (gate)
            fprintf(f, "%s%-5s ", markdown ? "- " : "", i == 0 ? "BASE:" : "NEW:");
        else
            fprintf(f, "%s[%zu] ", markdown ? "- " : "", i);
        put_text(f, in[i].path, markdown);
        fputs(" (", f);
        put_text(f, in[i].label, markdown);
        fputs(")\n", f);
        if (in[i].kind != KIND_RESULTS) continue;
        char line[512];
        audit_line(line, sizeof line, &in[i]);
        fputs(markdown ? "  - audit: " : gate ? "      audit: " : "    audit: ", f);
        put_text(f, line, markdown);
        fputc('\n', f);
    }
}

static void print_warnings(FILE *f, const struct strlist *w, int markdown)
{
    if (w->n == 0) return;
    fprintf(f, "\n%s\n", markdown ? "**Warnings**\n" : "warnings:");
    for (size_t i = 0; i < w->n; i++) {
        fputs(markdown ? "- " : "  - ", f);
        put_text(f, w->s[i], markdown);
        fputc('\n', f);
    }
}

static void print_gate_text(const struct gate *g, const struct counts *c)
{
    const struct compare_options *o = g->o;
    const struct input both[2] = {*g->base, *g->new_};
    print_files(stdout, both, 2, 1, 0);
    printf("threshold %g%%, alpha %g, PSNR tolerance %g dB%s\n\n", o->threshold_pct, o->alpha,
           o->psnr_tolerance_db, o->accept_numerics ? ", numerics changes accepted" : "");
    size_t width[NCOL];
    char cells[NCOL][96];
    for (int k = 0; k < NCOL; k++) width[k] = strlen(gate_headers[k]);
    for (size_t i = 0; i < g->n; i++) {
        gate_cells(&g->rows[i], cells);
        for (int k = 0; k < NCOL; k++)
            if (strlen(cells[k]) > width[k]) width[k] = strlen(cells[k]);
    }
    for (int k = 0; k < NCOL; k++) printf("%-*s  ", (int)width[k], gate_headers[k]);
    printf("note\n");
    for (size_t i = 0; i < g->n; i++) {
        gate_cells(&g->rows[i], cells);
        for (int k = 0; k < NCOL; k++) {
            put_text(stdout, cells[k], 0);
            printf("%*s  ", (int)(width[k] - strlen(cells[k])), "");
        }
        put_text(stdout, g->rows[i].note, 0);
        putchar('\n');
    }
    putchar('\n');
    print_verdict_line(stdout, c, 0);
    print_warnings(stdout, &g->warnings, 0);
}

static void print_gate_markdown(const struct gate *g, const struct counts *c)
{
    const struct compare_options *o = g->o;
    print_verdict_line(stdout, c, 1);
    putchar('\n');
    const struct input both[2] = {*g->base, *g->new_};
    print_files(stdout, both, 2, 1, 1);
    printf("- threshold %g%%, alpha %g, PSNR tolerance %g dB%s\n\n", o->threshold_pct, o->alpha,
           o->psnr_tolerance_db, o->accept_numerics ? ", numerics changes accepted" : "");
    for (int k = 0; k < NCOL; k++) printf("| %s ", gate_headers[k]);
    printf("| note |\n");
    for (int k = 0; k <= NCOL; k++) printf("|%s", k >= COL_BASE && k <= COL_P ? " ---: " : " --- ");
    printf("|\n");
    char cells[NCOL][96];
    for (size_t i = 0; i < g->n; i++) {
        const struct row *r = &g->rows[i];
        gate_cells(r, cells);
        const int bold = r->verdict == V_REGRESSION || r->verdict == V_NUMERICS_CHANGED;
        for (int k = 0; k < NCOL; k++) {
            fputs("| ", stdout);
            if (k == COL_VERDICT && bold) fputs("**", stdout);
            put_text(stdout, cells[k], 1);
            if (k == COL_VERDICT && bold) fputs("**", stdout);
            fputc(' ', stdout);
        }
        fputs("| ", stdout);
        put_text(stdout, r->note, 1);
        fputs(" |\n", stdout);
    }
    print_warnings(stdout, &g->warnings, 1);
}

static void table_cell(const struct mrow *r, size_t f, char *buf, size_t len)
{
    if (isnan(r->values[f])) {
        snprintf(buf, len, "-");
        return;
    }
    const double rel = relative(r, f);
    if (f > 0 && isfinite(rel))
        snprintf(buf, len, "%.4g (x%.2f)", r->values[f], rel);
    else
        snprintf(buf, len, "%.4g", r->values[f]);
}

static void print_table(const struct table *t, const struct input *in,
                        const struct strlist *warnings, int markdown)
{
    if (markdown)
        printf("**specbias compare: %zu files**, values relative to [0], best in bold\n\n",
               t->nfiles);
    else
        printf("specbias compare: %zu files, values relative to [0], best marked *\n", t->nfiles);
    print_files(stdout, in, t->nfiles, 0, markdown);
    putchar('\n');
    const size_t ncol = 4 + t->nfiles;
    size_t *width = calloc(ncol, sizeof *width);
    char cell[128];
    if (!width) return;
    static const char *const heads[4] = {"kind", "name", "metric", "better"};
    for (size_t k = 0; k < 4; k++) width[k] = strlen(heads[k]);
    for (size_t f = 0; f < t->nfiles; f++)
        width[4 + f] = (size_t)snprintf(cell, sizeof cell, "[%zu]", f);
    for (size_t i = 0; i < t->n; i++) {
        const struct mrow *r = &t->rows[i];
        const char *fixed[4] = {r->kind, r->name, r->metric, r->lower_better ? "lower" : "higher"};
        for (size_t k = 0; k < 4; k++)
            if (strlen(fixed[k]) > width[k]) width[k] = strlen(fixed[k]);
        for (size_t f = 0; f < t->nfiles; f++) {
            table_cell(r, f, cell, sizeof cell);
            const size_t l = strlen(cell) + ((long)f == r->winner);
            if (l > width[4 + f]) width[4 + f] = l;
        }
    }
    if (markdown) {
        for (size_t k = 0; k < 4; k++) printf("| %s ", heads[k]);
        for (size_t f = 0; f < t->nfiles; f++) printf("| [%zu] ", f);
        printf("|\n");
        for (size_t k = 0; k < ncol; k++) printf("|%s", k >= 4 ? " ---: " : " --- ");
        printf("|\n");
    } else {
        for (size_t k = 0; k < 4; k++) printf("%-*s  ", (int)width[k], heads[k]);
        for (size_t f = 0; f < t->nfiles; f++) {
            snprintf(cell, sizeof cell, "[%zu]", f);
            printf("%-*s%s", f + 1 < t->nfiles ? (int)width[4 + f] : 0, cell,
                   f + 1 < t->nfiles ? "  " : "");
        }
        putchar('\n');
    }
    for (size_t i = 0; i < t->n; i++) {
        const struct mrow *r = &t->rows[i];
        const char *fixed[4] = {r->kind, r->name, r->metric, r->lower_better ? "lower" : "higher"};
        for (size_t k = 0; k < 4; k++) {
            if (markdown) fputs("| ", stdout);
            put_text(stdout, fixed[k], markdown);
            if (markdown)
                fputc(' ', stdout);
            else
                printf("%*s  ", (int)(width[k] - strlen(fixed[k])), "");
        }
        for (size_t f = 0; f < t->nfiles; f++) {
            table_cell(r, f, cell, sizeof cell);
            const int win = (long)f == r->winner;
            if (markdown)
                printf("| %s%s%s ", win ? "**" : "", cell, win ? "**" : "");
            else if (f + 1 < t->nfiles)
                printf("%s%s%*s  ", cell, win ? "*" : "",
                       (int)(width[4 + f] - strlen(cell) - (size_t)win), "");
            else
                printf("%s%s", cell, win ? "*" : "");
        }
        if (markdown) fputc('|', stdout);
        putchar('\n');
    }
    free(width);
    print_warnings(stdout, warnings, markdown);
}

static json_t *bool_or_null(int b) { return b < 0 ? json_null() : json_boolean(b); }

/* The audit's summary for a file of the JSON output; null without one. */
static json_t *audit_json(const struct input *in)
{
    const struct audit_info *a = &in->audit;
    if (!a->present) return json_null();
    json_t *o = json_object(), *w = json_array();
    json_object_set_new(o, "measured_mhz", real_or_null(a->measured_mhz));
    json_object_set_new(o, "nominal_mhz", real_or_null(a->nominal_mhz));
    json_object_set_new(o, "governor", string_or_null(a->governor));
    json_object_set_new(o, "boost", bool_or_null(a->boost));
    json_object_set_new(o, "smt",
                        json_pack("{s:o, s:o, s:o}", "active", bool_or_null(a->smt_active),
                                  "control", string_or_null(a->smt_control), "threads_per_core",
                                  a->smt_per_core ? json_integer(a->smt_per_core) : json_null()));
    json_object_set_new(o, "steal_fraction", real_or_null(a->steal_fraction));
    json_object_set_new(o, "others_fraction", real_or_null(a->others_fraction));
    json_object_set_new(o, "disturbed", json_boolean(a->disturbed));
    for (size_t k = 0; a->warnings && k < json_array_size(a->warnings); k++) {
        const char *text = json_string_value(json_array_get(a->warnings, k));
        if (text) json_array_append_new(w, text_json(text));
    }
    json_object_set_new(o, "warnings", w);
    json_object_set_new(o, "peak_gflops", real_or_null(a->peak_gflops));
    return o;
}

static json_t *files_json(const struct input *in, size_t nin)
{
    json_t *a = json_array();
    for (size_t i = 0; i < nin; i++) {
        json_t *f = json_object();
        json_object_set_new(f, "path", text_json(in[i].path));
        json_object_set_new(f, "kind", json_string(kind_names[in[i].kind]));
        json_object_set_new(f, "label", text_json(in[i].label));
        json_object_set_new(f, "host", string_or_null(in[i].host));
        json_object_set_new(f, "cpu_model", string_or_null(in[i].cpu_model));
        json_object_set_new(f, "isa_used", string_or_null(in[i].isa_used));
        json_object_set_new(f, "threads",
                            in[i].has_threads ? json_integer(in[i].threads) : json_null());
        json_object_set_new(f, "git_commit", string_or_null(in[i].git_commit));
        json_object_set_new(f, "date", string_or_null(in[i].date));
        json_object_set_new(f, "audit", audit_json(&in[i]));
        json_array_append_new(a, f);
    }
    return a;
}

static json_t *sample_json(int numeric, double median, size_t n)
{
    return numeric ? json_pack("{s:o, s:I}", "median", real_or_null(median), "n", (json_int_t)n)
                   : json_null();
}

static int print_json(const struct compare_options *o, const struct input *in, size_t nin,
                      const struct gate *g, const struct table *t, const struct strlist *warnings,
                      const struct strlist *audit_warnings)
{
    json_t *root = json_object();
    const int gate = g != NULL;
    const struct counts c = gate ? count_rows(g) : (struct counts){0, 0, 0, warnings->n, 0};
    json_object_set_new(root, "schema", json_string("specbias-compare/1"));
    json_object_set_new(root, "mode", json_string(gate ? "gate" : "machines"));
    json_object_set_new(root, "threshold_pct", json_real(o->threshold_pct));
    json_object_set_new(root, "alpha", json_real(o->alpha));
    json_object_set_new(root, "psnr_tolerance_db", json_real(o->psnr_tolerance_db));
    json_object_set_new(root, "accept_numerics", json_boolean(o->accept_numerics));
    json_object_set_new(root, "files", files_json(in, nin));
    json_object_set_new(root, "verdict", json_string(c.failed ? "regression" : "pass"));
    json_object_set_new(root, "counts",
                        json_pack("{s:I, s:I, s:I, s:I}", "regressions", (json_int_t)c.regressions,
                                  "improvements", (json_int_t)c.improvements, "numerics_changed",
                                  (json_int_t)c.numerics, "warnings", (json_int_t)c.warnings));
    json_t *jw = json_array();
    for (size_t i = 0; i < warnings->n; i++) json_array_append_new(jw, text_json(warnings->s[i]));
    json_object_set_new(root, "warnings", jw);
    /* the machine audit's share of warnings, for readers that show them apart (the report) */
    json_t *ja = json_array();
    for (size_t i = 0; i < audit_warnings->n; i++)
        json_array_append_new(ja, text_json(audit_warnings->s[i]));
    json_object_set_new(root, "audit_warnings", ja);
    json_t *rows = json_array();
    for (size_t i = 0; gate && i < g->n; i++) {
        const struct row *r = &g->rows[i];
        json_t *jr = json_object();
        json_object_set_new(jr, "kind", json_string(r->kind));
        json_object_set_new(jr, "name", json_string(r->name));
        json_object_set_new(jr, "metric", json_string(r->metric));
        json_object_set_new(jr, "base", sample_json(r->numeric, r->base, r->base_n));
        json_object_set_new(jr, "new", sample_json(r->numeric, r->new_, r->new_n));
        json_object_set_new(jr, "ratio", real_or_null(r->ratio));
        json_object_set_new(jr, "change_pct", real_or_null(r->change_pct));
        json_object_set_new(jr, "p_value", real_or_null(r->p));
        json_object_set_new(jr, "verdict", json_string(verdict_names[r->verdict]));
        json_object_set_new(jr, "note", text_json(r->note));
        if (r->base_text && !r->numeric) {
            json_object_set_new(jr, "base_value", json_string(r->base_text));
            json_object_set_new(jr, "new_value", json_string(r->new_text));
        }
        json_array_append_new(rows, jr);
    }
    json_object_set_new(root, "rows", rows);
    if (t) {
        json_t *cols = json_array(), *trows = json_array();
        for (size_t f = 0; f < nin; f++) json_array_append_new(cols, text_json(in[f].label));
        for (size_t i = 0; i < t->n; i++) {
            const struct mrow *r = &t->rows[i];
            json_t *vals = json_array(), *rel = json_array();
            for (size_t f = 0; f < nin; f++) {
                json_array_append_new(vals, real_or_null(r->values[f]));
                json_array_append_new(rel, real_or_null(relative(r, f)));
            }
            json_array_append_new(
                trows,
                json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o}", "kind", r->kind, "name", r->name,
                          "metric", r->metric, "better", r->lower_better ? "lower" : "higher",
                          "values", vals, "relative", rel, "winner",
                          r->winner >= 0 ? json_integer(r->winner) : json_null()));
        }
        json_object_set_new(root, "table", json_pack("{s:o, s:o}", "columns", cols, "rows", trows));
    } else {
        json_object_set_new(root, "table", json_null());
    }
    const int rc = json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (rc) return -1;
    putchar('\n');
    return 0;
}

/* ---- the command --------------------------------------------------------------------------- */

int sb_compare_parse_only(int argc, char **argv)
{
    struct compare_options o;
    const int rc = parse_args(argc, argv, &o);
    free(o.paths);
    return rc;
}

int sb_compare_check_buffer(const void *data, size_t len)
{
    struct compare_options o = {5.0, 0.05, 0.5, 0, FORMAT_TEXT, NULL, 0};
    struct input in[2];
    struct strlist warnings = {0};
    char err[1024];
    size_t loaded = 0;
    int rc = 0;
    for (; loaded < 2 && rc == 0; loaded++) {
        memset(&in[loaded], 0, sizeof in[loaded]);
        in[loaded].path = loaded ? "new" : "base";
        rc = parse_json(in[loaded].path, data, len, &in[loaded].root, err, sizeof err);
        if (rc == 0) rc = input_read(&in[loaded], &warnings, err, sizeof err);
    }
    if (rc == 0) {
        /* the file against itself, as a gate and as a table: every reader of what was loaded */
        struct gate g = {.o = &o, .base = &in[0], .new_ = &in[1]};
        if (gate_run(&g) == NO_MEMORY) rc = NO_MEMORY;
        free(g.rows);
        strlist_free(&g.warnings);
        struct table t = {0};
        if (table_build(&t, in, 2)) rc = NO_MEMORY;
        table_free(&t);
        /* the machine audit: its warnings, header lines and JSON summary */
        audit_checks(&warnings, in, 2);
        char line[512];
        for (size_t i = 0; i < 2; i++) audit_line(line, sizeof line, &in[i]);
        json_decref(files_json(in, 2));
    }
    for (size_t i = 0; i < loaded; i++) input_free(&in[i]);
    strlist_free(&warnings);
    return rc == 0 ? 0 : rc == NO_MEMORY ? 3 : 2;
}

int sb_cmd_compare(int argc, char **argv)
{
    struct compare_options o;
    const int prc = parse_args(argc, argv, &o);
    if (prc) {
        free(o.paths);
        return prc > 0 ? SB_EXIT_OK : SB_EXIT_USAGE;
    }
    int exit_code = SB_EXIT_OK;
    char err[1024] = "";
    struct strlist warnings = {0}, audit_warnings = {0};
    struct gate g = {0};
    struct table t = {0};
    struct input *in = calloc(o.npaths, sizeof *in);
    size_t loaded = 0;
    if (!in) goto no_memory;
    for (; loaded < o.npaths; loaded++) {
        const int rc = input_load(&in[loaded], o.paths[loaded], &warnings, err, sizeof err);
        if (rc == NO_MEMORY) {
            loaded++;
            goto no_memory;
        }
        if (rc) {
            loaded++;
            goto bad_input;
        }
    }

    /* The machine audit's warnings come first, before those of the loaders and the gate. */
    audit_checks(&audit_warnings, in, o.npaths);
    {
        struct strlist all = {0};
        strlist_add_all(&all, &audit_warnings);
        strlist_add_all(&all, &warnings);
        strlist_free(&warnings);
        warnings = all;
        if (warnings.oom) goto no_memory;
    }

    if (o.npaths == 2) {
        if (in[0].kind != in[1].kind) {
            sb_errorf(err, sizeof err,
                      "%s is %s and %s is %s: a gate compares files of one kind (results with "
                      "results, Google Benchmark JSON with Google Benchmark JSON)",
                      in[0].path,
                      in[0].kind == KIND_RESULTS ? "a results file" : "Google Benchmark JSON",
                      in[1].path,
                      in[1].kind == KIND_RESULTS ? "a results file" : "Google Benchmark JSON");
            goto bad_input;
        }
        g = (struct gate){.o = &o, .base = &in[0], .new_ = &in[1], .warnings = warnings};
        warnings = (struct strlist){0};
        const long common = gate_run(&g);
        if (common == NO_MEMORY || g.warnings.oom) goto no_memory;
        if (common == 0) {
            sb_errorf(err, sizeof err, "%s and %s have no %s in common", in[0].path, in[1].path,
                      in[0].kind == KIND_RESULTS ? "experiment" : "benchmark");
            goto bad_input;
        }
        const struct counts c = count_rows(&g);
        if (o.format == FORMAT_JSON) {
            if (print_json(&o, in, 2, &g, NULL, &g.warnings, &audit_warnings)) goto io_error;
        } else if (o.format == FORMAT_MARKDOWN) {
            print_gate_markdown(&g, &c);
        } else {
            print_gate_text(&g, &c);
        }
        exit_code = c.failed ? SB_EXIT_REGRESSION : SB_EXIT_OK;
    } else {
        if (table_build(&t, in, o.npaths) || warnings.oom) goto no_memory;
        if (o.format == FORMAT_JSON) {
            if (print_json(&o, in, o.npaths, NULL, &t, &warnings, &audit_warnings)) goto io_error;
        } else {
            print_table(&t, in, &warnings, o.format == FORMAT_MARKDOWN);
        }
    }
    if (fflush(stdout) || ferror(stdout)) goto io_error;
    goto done;

no_memory:
    fprintf(stderr, "specbias compare: out of memory\n");
    exit_code = SB_EXIT_FAILED;
    goto done;
io_error:
    fprintf(stderr, "specbias compare: cannot write the output: %s\n", strerror(errno));
    exit_code = SB_EXIT_FAILED;
    goto done;
bad_input:
    fprintf(stderr, "specbias compare: %s\n", err);
    exit_code = SB_EXIT_USAGE;
done:
    for (size_t i = 0; i < loaded; i++) input_free(&in[i]);
    free(in);
    free(g.rows);
    strlist_free(&g.warnings);
    strlist_free(&warnings);
    strlist_free(&audit_warnings);
    table_free(&t);
    free(o.paths);
    return exit_code;
}
