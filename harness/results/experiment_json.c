/* An experiment's entry of results.json from struct sb_experiment_result (results.h). */
#include "harness/results/results.h"
#include "harness/util/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *real_or_null(double x) { return isfinite(x) ? json_real(x) : json_null(); }

static json_t *doubles(const double *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(a, real_or_null(v[i]));
    return a;
}

static const char *status_name(int status)
{
    return !status ? "ok" : status == SB_STATUS_INTERRUPTED ? "interrupted" : "failed";
}

static json_t *error_json(const struct sb_experiment_result *x)
{
    return sb_json_string(x->error ? x->error : "out of memory");
}

/* A repetition's own message when it has one (a later seed can fail otherwise than the
 * first), else the experiment's. */
static json_t *rep_error_json(const struct sb_experiment_result *x,
                              const struct sb_repetition_result *r)
{
    return r->error ? sb_json_string(r->error) : error_json(x);
}

static json_t *counters_json(const struct sb_counter_values *v)
{
    json_t *o = json_object();
    for (size_t i = 0; i < v->n; i++)
        json_object_set_new(o, v->names[i], json_integer(v->counts[i]));
    return o;
}

static json_t *confusion_json(const struct sb_confusion *c)
{
    json_t *h = json_array();
    for (size_t b = 0; b < c->bins; b++)
        json_array_append_new(h, json_integer((json_int_t)c->histogram[b]));
    return json_pack("{s:I, s:o, s:o, s:o, s:o}", "pairs", (json_int_t)c->pairs, "mean",
                     real_or_null(c->mean), "mean_abs", real_or_null(c->mean_abs),
                     "negative_fraction", real_or_null(c->negative_fraction), "histogram", h);
}

/* 1D {values}, 2D {png_base64, width, height, channels}; then step and seconds, but for the
 * target's snapshot. */
static json_t *snapshot_json(const struct sb_snapshot *s, int at_step)
{
    json_t *o;
    if (s->values) {
        json_t *a = json_array();
        for (size_t i = 0; a && i < s->n; i++) json_array_append_new(a, json_real(s->values[i]));
        o = json_pack("{s:o}", "values", a);
    } else {
        o = json_pack("{s:s, s:I, s:I, s:I}", "png_base64", s->png_base64, "width",
                      (json_int_t)s->width, "height", (json_int_t)s->height, "channels",
                      (json_int_t)s->channels);
    }
    if (at_step) {
        json_object_set_new(o, "step", json_integer((json_int_t)s->step));
        json_object_set_new(o, "seconds", json_real(s->seconds));
    }
    return o;
}

static json_t *point_json(const struct sb_experiment *e, const struct sb_curve_point *pt)
{
    json_t *o = json_object();
    json_object_set_new(o, "step", json_integer((json_int_t)pt->step));
    json_object_set_new(o, "seconds", json_real(pt->seconds));
    json_object_set_new(o, "loss", real_or_null(pt->loss));
    if (e->target == SB_TARGET_SINES1D) {
        json_object_set_new(o, "psnr_db", real_or_null(pt->psnr_db));
        json_object_set_new(o, "spectral_error", doubles(pt->spectral_error, e->nk));
        json_object_set_new(o, "spectral_magnitude", doubles(pt->spectral_magnitude, e->nk));
    } else {
        json_object_set_new(o, "psnr_db", real_or_null(pt->psnr_db));
        json_object_set_new(o, "test_psnr_db", real_or_null(pt->test_psnr_db));
        json_object_set_new(o, "spectral_error", doubles(pt->spectral_error, e->radial_bands));
    }
    json_object_set_new(o, "regions", json_integer((json_int_t)pt->patterns.regions));
    json_object_set_new(o, "dead_units", json_integer((json_int_t)pt->patterns.dead_units));
    json_object_set_new(o, "hamming_local_mean", real_or_null(pt->patterns.hamming_local_mean));
    json_object_set_new(o, "hamming_global_mean", real_or_null(pt->patterns.hamming_global_mean));
    if (pt->has_confusion) {
        json_object_set_new(o, "confusion_local", confusion_json(&pt->confusion_local));
        json_object_set_new(o, "confusion_global", confusion_json(&pt->confusion_global));
    }
    return o;
}

static json_t *curve_json(const struct sb_experiment *e, const struct sb_repetition_result *r)
{
    json_t *a = json_array();
    for (size_t i = 0; i < r->ncurve; i++) json_array_append_new(a, point_json(e, &r->curve[i]));
    return a;
}

static json_t *snapshots_json(const struct sb_repetition_result *r)
{
    json_t *a = json_array();
    for (size_t i = 0; i < r->nsnapshots; i++)
        json_array_append_new(a, snapshot_json(&r->snapshots[i], 1));
    return a;
}

/* The final parameters' activation patterns and gradient confusion. */
static json_t *analysis_json(const struct sb_repetition_result *r)
{
    const struct sb_pattern_stats *st = &r->patterns;
    json_t *o = json_pack("{s:I, s:I, s:o, s:o}", "regions", (json_int_t)st->regions, "dead_units",
                          (json_int_t)st->dead_units, "hamming_local_mean",
                          real_or_null(st->hamming_local_mean), "hamming_global_mean",
                          real_or_null(st->hamming_global_mean));
    /* present and null when turned off, so readers find every field docs/results.md lists */
    json_object_set_new(o, "confusion_local",
                        r->has_confusion ? confusion_json(&r->confusion_local) : json_null());
    json_object_set_new(o, "confusion_global",
                        r->has_confusion ? confusion_json(&r->confusion_global) : json_null());
    return o;
}

/* frequencies and frequency_unit: what spectral_error[] and spectral_magnitude[] refer to. */
static void frequencies_json(json_t *o, const struct sb_experiment *e)
{
    json_t *f = json_array();
    if (e->target == SB_TARGET_SINES1D) {
        for (size_t i = 0; i < e->nk; i++) json_array_append_new(f, json_integer(e->freq[i]));
        json_object_set_new(o, "frequencies", f);
        json_object_set_new(o, "frequency_unit", json_string("cycles over the signal"));
    } else {
        for (size_t b = 0; b < e->radial_bands; b++)
            json_array_append_new(f, json_real((b + 0.5) / (double)e->radial_bands));
        json_object_set_new(o, "frequencies", f);
        json_object_set_new(o, "frequency_unit",
                            json_string("radial band centre, fraction of Nyquist"));
    }
}

/* The timings, rates and final values of a trained repetition, up to its curve. */
static void trained_json(json_t *o, const struct sb_experiment_result *x,
                         const struct sb_repetition_result *r)
{
    const double sps = r->train_seconds > 0 ? (double)r->steps / r->train_seconds : 0.0;
    const double gflops = sb_repetition_gflops(r);
    json_object_set_new(o, "status", json_string(status_name(r->status)));
    json_object_set_new(o, "steps", json_integer((json_int_t)r->steps));
    json_object_set_new(o, "train_seconds", json_real(r->train_seconds));
    json_object_set_new(o, "eval_seconds", json_real(r->eval_seconds));
    json_object_set_new(o, "steps_per_second", json_real(sps));
    json_object_set_new(o, "gflops", json_real(gflops));
    json_object_set_new(o, "flops_per_step", json_real(r->flops_per_step));
    json_object_set_new(o, "bytes_per_step", json_real(r->bytes_per_step));
    /* the share of threads x step time spent in work; the rest was serial or waiting */
    json_object_set_new(o, "threads", json_integer((json_int_t)r->threads));
    json_object_set_new(o, "work_fraction",
                        r->train_seconds > 0 && r->threads
                            ? json_real(r->work_seconds / ((double)r->threads * r->train_seconds))
                            : json_null());
    json_object_set_new(o, "peak_fraction",
                        x->peak_gflops > 0 ? json_real(gflops / x->peak_gflops) : json_null());
    json_object_set_new(o, "final_loss", real_or_null(r->final_loss));
    json_object_set_new(o, "final_psnr_db", real_or_null(r->final_psnr_db));
    json_object_set_new(o, "time_to_target_s",
                        r->time_to_target >= 0 ? json_real(r->time_to_target) : json_null());
    /* 1 / time to target, 0 if never reached; null if the initial parameters already met it
     * (no training time to divide by). */
    json_object_set_new(o, "convergence_per_second",
                        r->time_to_target > 0   ? json_real(1.0 / r->time_to_target)
                        : r->time_to_target < 0 ? json_real(0.0)
                                                : json_null());
    json_object_set_new(o, "trajectory_hash", json_string(r->trajectory_hash));
    frequencies_json(o, x->e);
    json_object_set_new(o, "curve", curve_json(x->e, r));
}

/* One repetition. What it holds depends on how far it got (enum sb_rep_stage); a repetition
 * that failed also has the error. */
static json_t *repetition_json(const struct sb_experiment_result *x,
                               const struct sb_repetition_result *r)
{
    json_t *o = json_object();
    if (r->counted) json_object_set_new(o, "counters", counters_json(&r->counters));
    if (r->stage == SB_REP_STARTED) {
        json_object_set_new(o, "status", json_string(status_name(r->status)));
        json_object_set_new(o, "error", rep_error_json(x, r));
        json_object_set_new(o, "train_seconds", json_real(r->train_seconds));
        json_object_set_new(o, "curve", curve_json(x->e, r));
        json_object_set_new(o, "snapshots", snapshots_json(r));
        return o;
    }
    trained_json(o, x, r);
    if (r->stage == SB_REP_TRAINED) { /* out of memory making the target's snapshot */
        json_object_set_new(o, "error", rep_error_json(x, r));
        json_object_set_new(o, "snapshots", snapshots_json(r));
        return o;
    }
    json_object_set_new(o, "snapshots", snapshots_json(r));
    json_object_set_new(o, "snapshot_target", snapshot_json(&r->target, 0));
    json_object_set_new(o, "analysis", analysis_json(r));
    if (r->status) json_object_set_new(o, "error", rep_error_json(x, r));
    return o;
}

static json_t *target_json(const struct sb_experiment_result *x)
{
    static const char *const targets[] = {"sines1d", "image", "zoneplate"};
    const struct sb_experiment *e = x->e;
    const struct sb_run_config *c = &x->config;
    json_t *t = json_pack("{s:s}", "kind", targets[e->target]);
    if (e->target == SB_TARGET_SINES1D) {
        json_t *f = json_array(), *a = json_array();
        for (size_t i = 0; i < e->nk; i++) {
            json_array_append_new(f, json_integer(e->freq[i]));
            json_array_append_new(a, json_real(e->amp[i]));
        }
        json_object_set_new(t, "n", json_integer((json_int_t)e->n));
        json_object_set_new(t, "domain", json_pack("[f,f]", e->domain[0], e->domain[1]));
        json_object_set_new(t, "frequencies", f);
        json_object_set_new(t, "amplitudes", a);
        return t;
    }
    if (e->target == SB_TARGET_IMAGE) json_object_set_new(t, "path", json_string(e->image_path));
    json_object_set_new(t, "data_hash", json_string(c->data_hash));
    json_object_set_new(t, "size", json_integer((json_int_t)e->image_size));
    json_object_set_new(t, "channels", json_integer((json_int_t)c->channels));
    json_object_set_new(t, "train_pixels", json_integer((json_int_t)c->train_pixels));
    json_object_set_new(t, "test_pixels", json_integer((json_int_t)c->test_pixels));
    return t;
}

static json_t *encoding_json(const struct sb_experiment *e)
{
    static const char *const encs[] = {"none", "posenc", "basic", "tancik_posenc", "gauss"};
    json_t *enc = json_pack("{s:s}", "kind", encs[e->encoding]);
    if (e->encoding == SB_ENCODING_POSENC)
        json_object_set_new(enc, "octaves", json_pack("[i,i]", e->octaves[0], e->octaves[1]));
    if (e->encoding == SB_ENCODING_TANCIK_POSENC) {
        json_object_set_new(enc, "scale", json_real(e->scale));
        json_object_set_new(enc, "count", json_integer((json_int_t)e->count));
    }
    if (e->encoding == SB_ENCODING_GAUSS) {
        json_object_set_new(enc, "features", json_integer((json_int_t)e->count));
        json_object_set_new(enc, "sigma", json_real(e->sigma));
    }
    return enc;
}

static json_t *config_json(const struct sb_experiment_result *x)
{
    static const char *const conf[] = {"off", "end", "checkpoints"};
    const struct sb_experiment *e = x->e;
    const struct sb_run_config *c = &x->config;
    json_t *train = json_pack("{s:s, s:f, s:[f,f], s:f, s:I, s:I}", "optimizer",
                              e->optimizer == SB_OPT_ADAM ? "adam" : "sgd", "lr", e->lr, "betas",
                              e->beta1, e->beta2, "eps", e->eps, "batch", (json_int_t)c->batch,
                              "steps", (json_int_t)c->steps);
    if (c->steps_overridden)
        json_object_set_new(train, "steps_overridden_from", json_integer((json_int_t)e->steps));
    json_t *ck = json_array();
    for (size_t i = 0; i < c->ncheckpoints; i++)
        json_array_append_new(ck, json_integer((json_int_t)c->checkpoints[i]));
    return json_pack(
        "{s:o, s:o, s:{s:I, s:I, s:s}, s:o, s:o, s:o, s:o, s:I, s:I, s:{s:s, s:I, s:I}}", "target",
        target_json(x), "encoding", encoding_json(e), "model", "depth", (json_int_t)e->depth,
        "width", (json_int_t)e->width, "output", e->output == SB_OUT_SIGMOID ? "sigmoid" : "linear",
        "train", train, "checkpoints", ck, "target_loss",
        e->target_loss > 0 ? json_real(e->target_loss) : json_null(), "target_psnr",
        e->target_psnr > 0 ? json_real(e->target_psnr) : json_null(), "seed", (json_int_t)c->seed,
        "features", (json_int_t)c->features, "analysis", "confusion", conf[e->confusion],
        "confusion_bins", (json_int_t)e->confusion_bins, "radial_bands",
        (json_int_t)e->radial_bands);
}

/* The kernels an experiment calls, by their full names (dense_relu_fwd__avx2, ...). */
static json_t *kernels_json(const struct sb_experiment_result *x)
{
    const struct sb_experiment *e = x->e;
    json_t *kn = json_object();
    const char *used[] = {"dense_relu_fwd",
                          e->output == SB_OUT_SIGMOID ? "dense_sigmoid_fwd" : "dense_linear_fwd",
                          "dense_bwd_data",
                          "dense_bwd_weights",
                          "mse_loss_grad",
                          e->optimizer == SB_OPT_ADAM ? "adam_update" : NULL,
                          e->output == SB_OUT_SIGMOID ? "sigmoid_bwd" : NULL,
                          e->encoding == SB_ENCODING_POSENC ? "posenc_fwd"
                          : e->encoding == SB_ENCODING_NONE ? NULL
                                                            : "fourier_fwd",
                          "pattern_hash",
                          "pattern_hamming"};
    for (size_t i = 0; i < sizeof used / sizeof *used; i++) {
        if (!used[i]) continue;
        char full[96];
        snprintf(full, sizeof full, "%s__%s", used[i], x->isa_name);
        json_object_set_new(kn, used[i], json_string(full));
    }
    return kn;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* median, min, max and coefficient of variation of one field over the finished repetitions */
json_t *sb_field_summary(json_t *reps, const char *field)
{
    double v[1024];
    size_t n = 0, i;
    json_t *r;
    json_array_foreach(reps, i, r)
    {
        json_t *x = json_object_get(r, field);
        if (n < 1024 && json_is_number(x) &&
            !strcmp(json_string_value(json_object_get(r, "status")), "ok"))
            v[n++] = json_number_value(x);
    }
    if (n == 0) return json_null();
    qsort(v, n, sizeof *v, cmp_double);
    const double med = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    double mean = 0.0, var = 0.0;
    for (size_t q = 0; q < n; q++) mean += v[q];
    mean /= (double)n;
    for (size_t q = 0; q < n; q++) var += (v[q] - mean) * (v[q] - mean);
    var = n > 1 ? var / (double)(n - 1) : 0.0;
    return json_pack("{s:f, s:f, s:f, s:o, s:I}", "median", med, "min", v[0], "max", v[n - 1], "cv",
                     mean != 0.0 ? json_real(sqrt(var) / fabs(mean)) : json_null(), "n",
                     (json_int_t)n);
}

/* n in each field's summary counts the repetitions that have a value (for time to target:
 * those that reached it), out of summary.repetitions. */
static json_t *summary_json(json_t *reps)
{
    static const char *const fields[] = {
        "train_seconds",    "steps_per_second",       "gflops",     "peak_fraction",
        "time_to_target_s", "convergence_per_second", "final_loss", "final_psnr_db",
        "work_fraction"};
    json_t *sum = json_pack("{s:I}", "repetitions", (json_int_t)json_array_size(reps));
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
        json_object_set_new(sum, fields[i], sb_field_summary(reps, fields[i]));
    return sum;
}

/* ---- --seeds: one entry per seed, and time to target across them ------------------------- */

/* Seed s's repetitions, reps[first..first + n). */
struct seed_span {
    size_t first, n;
};

static struct seed_span seed_span(const struct sb_experiment_result *x, size_t s)
{
    struct seed_span sp = {0, 0};
    while (sp.first < x->nreps && x->reps[sp.first].seed_index < s) sp.first++;
    while (sp.first + sp.n < x->nreps && x->reps[sp.first + sp.n].seed_index == s) sp.n++;
    return sp;
}

/* The median of v[0..n), sorted in place; NAN for n = 0. */
static double median_sorted(double *v, size_t n)
{
    if (n == 0) return NAN;
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* What one seed gave: its status (interrupted over failed over ok), its trajectory, final
 * values (one trajectory, so those of its first finished repetition) and its time to target,
 * the median over its finished repetitions (they differ only by timing noise); null when it
 * never reached the target. The first seed's repetitions are the experiment's `repetitions`;
 * the others' are in their entry. */
static json_t *seed_json(const struct sb_experiment_result *x, size_t s, json_t **reps_out)
{
    const struct seed_span sp = seed_span(x, s);
    const struct sb_repetition_result *ok = NULL;
    int status = sp.n ? 0 : 3; /* none: its data could not be built (out of memory) */
    double t[1024];
    size_t nt = 0;
    json_t *reps = json_array();
    for (size_t i = sp.first; i < sp.first + sp.n; i++) {
        const struct sb_repetition_result *r = &x->reps[i];
        json_array_append_new(reps, repetition_json(x, r));
        if (r->status == SB_STATUS_INTERRUPTED || (r->status && !status)) status = r->status;
        if (r->status || r->stage < SB_REP_TRAINED) continue;
        if (!ok) ok = r;
        if (r->time_to_target >= 0 && nt < 1024) t[nt++] = r->time_to_target;
    }
    json_t *o = json_pack("{s:I, s:s}", "seed", (json_int_t)(x->config.seed + s), "status",
                          status_name(status));
    if (!sp.n) json_object_set_new(o, "error", error_json(x));
    for (size_t i = sp.first; i < sp.first + sp.n; i++)
        if (x->reps[i].status) {
            json_object_set_new(o, "error", rep_error_json(x, &x->reps[i]));
            break;
        }
    json_object_set_new(o, "trajectory_hash", ok ? json_string(ok->trajectory_hash) : json_null());
    json_object_set_new(o, "final_loss", ok ? real_or_null(ok->final_loss) : json_null());
    json_object_set_new(o, "final_psnr_db", ok ? real_or_null(ok->final_psnr_db) : json_null());
    json_object_set_new(o, "time_to_target_s", real_or_null(median_sorted(t, nt)));
    json_object_set_new(o, "repetitions_run", json_integer((json_int_t)sp.n));
    if (s == 0) {
        *reps_out = reps;
    } else {
        json_object_set_new(o, "repetitions", reps);
    }
    return o;
}

/* The q-quantile of sorted v[0..n) with linear interpolation (numpy's default). */
static double quantile(const double *v, size_t n, double q)
{
    const double pos = q * (double)(n - 1);
    const size_t lo = (size_t)pos;
    return lo + 1 < n ? v[lo] + (pos - (double)lo) * (v[lo + 1] - v[lo]) : v[lo];
}

/* Time to target across the seeds that ran to their end (ok or failed), MLPerf's way: sorted,
 * a seed that never reached the target (or failed) counted as the slowest, the fastest and
 * the slowest dropped when there are 3 or more, the rest averaged. The mean is null when a
 * seed it keeps never reached the target (so one such seed is tolerated from 3 seeds on, as
 * MLPerf tolerates one non-converging run). The spread is over the seeds that reached it. */
json_t *sb_seeds_summary(json_t *seeds, size_t requested)
{
    double t[128], reached[128];
    size_t n = 0, nr = 0, i;
    json_t *sd;
    json_array_foreach(seeds, i, sd)
    {
        if (n == 128 || !strcmp(json_string_value(json_object_get(sd, "status")), "interrupted"))
            continue;
        const json_t *v = json_object_get(sd, "time_to_target_s");
        const int ok = !strcmp(json_string_value(json_object_get(sd, "status")), "ok");
        t[n++] = ok && json_is_number(v) ? json_number_value(v) : INFINITY;
        if (ok && json_is_number(v)) reached[nr++] = json_number_value(v);
    }
    qsort(t, n, sizeof *t, cmp_double);
    qsort(reached, nr, sizeof *reached, cmp_double);
    const size_t drop = n >= 3 ? 1 : 0;
    double sum = 0.0;
    for (size_t q = drop; q + drop < n; q++) sum += t[q];
    const double mean = n > 0 ? sum / (double)(n - 2 * drop) : NAN;
    json_t *tt = json_pack("{s:o, s:I}", "trimmed_mean", real_or_null(mean), "dropped",
                           (json_int_t)(2 * drop));
    json_object_set_new(tt, "min", nr ? json_real(reached[0]) : json_null());
    json_object_set_new(tt, "q1", nr ? json_real(quantile(reached, nr, 0.25)) : json_null());
    json_object_set_new(tt, "median", nr ? json_real(quantile(reached, nr, 0.5)) : json_null());
    json_object_set_new(tt, "q3", nr ? json_real(quantile(reached, nr, 0.75)) : json_null());
    json_object_set_new(tt, "max", nr ? json_real(reached[nr - 1]) : json_null());
    return json_pack("{s:I, s:I, s:I, s:o}", "requested", (json_int_t)requested, "finished",
                     (json_int_t)n, "reached", (json_int_t)nr, "time_to_target_s", tt);
}

/* experiments[].repetitions (the first seed's), and with --seeds K > 1 experiments[].seeds */
static void repetitions_and_seeds(json_t *je, const struct sb_experiment_result *x)
{
    if (x->seeds <= 1) {
        json_t *reps = json_array();
        for (size_t i = 0; i < x->nreps; i++)
            json_array_append_new(reps, repetition_json(x, &x->reps[i]));
        json_object_set_new(je, "repetitions", reps);
        return;
    }
    json_t *seeds = json_array(), *first = json_array();
    for (size_t s = 0; s < x->seeds_started; s++) {
        json_t *reps = NULL;
        json_array_append_new(seeds, seed_json(x, s, &reps));
        if (reps) {
            json_decref(first);
            first = reps;
        }
    }
    json_object_set_new(je, "repetitions", first);
    json_object_set_new(je, "seeds", seeds);
}

static json_t *split_json(const struct sb_split *sp)
{
    json_t *o = json_pack("{s:I, s:I, s:s, s:I, s:I}", "threads", (json_int_t)sp->threads, "tiles",
                          (json_int_t)sp->tiles, "backward",
                          sp->backward_by_tiles ? "tiles" : "layers", "row_blocks",
                          (json_int_t)sp->row_blocks, "threads_with_work",
                          (json_int_t)sp->threads_with_work);
    if (sp->backward_by_tiles)
        json_object_set_new(o, "tiles_per_thread", json_integer((json_int_t)sp->tiles_per_thread));
    else
        json_object_set_new(o, "weight_grad_items",
                            json_integer((json_int_t)sp->weight_grad_items));
    return o;
}

json_t *sb_results_experiment(const struct sb_experiment_result *x)
{
    json_t *je = json_pack("{s:s}", "name", x->e->name);
    if (!x->prepared) {
        json_object_set_new(je, "status", json_string("failed"));
        json_object_set_new(je, "error", error_json(x));
        json_object_set_new(je, "repetitions", json_array());
        json_object_set_new(je, "summary", json_object());
        return je;
    }
    json_object_set_new(je, "config", config_json(x));
    json_object_set_new(je, "kernels", kernels_json(x));
    json_object_set_new(je, "parameters", json_integer((json_int_t)x->parameters));
    json_object_set_new(je, "parallel_split", split_json(&x->split));
    repetitions_and_seeds(je, x);
    json_object_set_new(je, "flops_per_step", json_real(x->flops_per_step));
    json_object_set_new(je, "status", json_string(status_name(x->status)));
    if (x->status) json_object_set_new(je, "error", error_json(x));
    json_t *sum = summary_json(json_object_get(je, "repetitions"));
    json_t *seeds = json_object_get(je, "seeds");
    if (seeds) json_object_set_new(sum, "seeds", sb_seeds_summary(seeds, x->seeds));
    json_object_set_new(je, "summary", sum);
    return je;
}

/* Every repetition's peak_fraction under `peak`, and the summary of those in reps. */
static int apply_peak_reps(json_t *reps, double peak)
{
    size_t j;
    json_t *r;
    int any = 0;
    json_array_foreach(reps, j, r)
    {
        const json_t *g = json_object_get(r, "gflops");
        if (!json_is_number(g)) continue;
        any = 1;
        const double v = json_number_value(g);
        json_object_set_new(r, "peak_fraction",
                            peak > 0 && v <= peak ? json_real(v / peak) : json_null());
    }
    return any;
}

void sb_results_apply_peak(json_t *experiments, double peak)
{
    size_t i, s;
    json_t *e, *sd;
    json_array_foreach(experiments, i, e)
    {
        json_t *reps = json_object_get(e, "repetitions");
        /* the other seeds' repetitions too; the summary stays the first seed's */
        json_array_foreach(json_object_get(e, "seeds"), s, sd)
            apply_peak_reps(json_object_get(sd, "repetitions"), peak);
        if (apply_peak_reps(reps, peak))
            json_object_set_new(json_object_get(e, "summary"), "peak_fraction",
                                sb_field_summary(reps, "peak_fraction"));
    }
}
