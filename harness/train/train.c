/* The trainer: an experiment's data, R repetitions of training on the selected kernels
 * (repetition.c), and the measurements at checkpoints, into the plain structs of result.h.
 * Nothing here writes JSON for results.json: harness/results/ does, from those structs. */
#define _POSIX_C_SOURCE 200809L
#include "harness/train/train.h"
#include "harness/train/repetition.h"

#include "harness/data/detmath.h"
#include "harness/util/util.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOCAL_HAMMING_PAIRS 250  /* per window (Lazzari) */
#define LOCAL_CONFUSION_PAIRS 100
#define GLOBAL_PAIRS 5000

volatile sig_atomic_t sb_interrupted = 0;

double sb_experiment_bytes(const struct sb_experiment *e, const struct sb_data *d,
                           const struct sb_encoding *enc, size_t threads)
{
    const double rows = (double)(d->n_train > d->n_eval ? d->n_train : d->n_eval);
    const double F = (double)sb_encoding_features(enc, d->d), W = (double)e->width;
    const double depth = (double)e->depth, out = (double)d->out;
    const double wmax = W > F ? W : F;
    const double ld = (double)sb_padded_ld(e->width); /* a hidden row's floats */
    const double ld_dact = ld > wmax ? ld : wmax;
    const struct sb_model_spec spec = {d->d, e->depth, e->width, d->out, e->output};
    const double params = (double)sb_model_param_count(&spec, sb_encoding_features(enc, d->d));
    /* activations: encoded input, hidden outputs, masks, y/dy/dz, two gradient buffers, and
     * on the small-batch backward path every hidden layer's gradient for the batch's rows;
     * per thread (sb_activations_alloc): a tile scratch of hidden outputs, masks and two
     * gradient tiles, and with more than one thread two partial gradients; parameters:
     * weights, padded copies Wt and W, gradient, Adam m and v; plus the data */
    const size_t batch = e->batch ? e->batch : d->n_train;
    if (threads == 0) threads = (size_t)omp_get_max_threads();
    const double small = (batch + SB_TILE_ROWS - 1) / SB_TILE_ROWS < threads ? 1.0 : 0.0;
    const double mask_bytes = (double)sb_mask_words(e->width) * 8;
    const double act = rows * (F + depth * ld + 3 * out + 2 * ld_dact) * 4 +
                       rows * depth * mask_bytes + small * (double)batch * depth * ld * 4;
    const double per_thread = SB_TILE_ROWS * ((depth + 2) * ld * 4 + depth * mask_bytes) +
                              (threads > 1 ? 2 * params * 4 : 0);
    const double data = (double)(d->n_train + d->n_eval) * (double)(d->d + d->out) * 4;
    double copies = 0; /* Wt and W, their rows padded (sb_padded_ld) */
    for (size_t l = 0; l <= e->depth; l++) {
        const size_t in = l ? e->width : sb_encoding_features(enc, d->d);
        const size_t o = l < e->depth ? e->width : d->out;
        copies += (double)(in * sb_padded_ld(o) + o * sb_padded_ld(in)) * 4;
    }
    return act + (double)threads * per_thread + params * 4 * 4 + copies + data;
}

size_t sb_checkpoint_steps(uint64_t steps, size_t count, uint64_t *out, size_t max)
{
    size_t n = 0;
    if (max == 0) return 0;
    out[n++] = 0;
    /* s_i = round((steps + 1)^(i / (count - 1))) - 1, computed reproducibly. */
    const double span = sb_det_log((double)steps + 1.0);
    for (size_t i = 1; i + 1 < count && n < max; i++) {
        const double e = span * (double)i / (double)(count - 1) / 0.69314718055994530942;
        const uint64_t s = (uint64_t)nearbyint(sb_det_exp2(e)) - 1;
        if (s > out[n - 1] && s < steps) out[n++] = s;
    }
    if (steps > out[n - 1] && n < max) out[n++] = steps;
    return n;
}

void sb_data_hash(const struct sb_data *d, char hex[17])
{
    uint64_t h = sb_fnv1a64(SB_FNV_OFFSET, d->t_train, d->n_train * d->out * sizeof(float));
    h = sb_fnv1a64(h, d->t_eval, d->n_eval * d->out * sizeof(float));
    snprintf(hex, 17, "%016llx", (unsigned long long)h);
}

static void prepared_free(struct sb_prepared *p)
{
    sb_data_free(&p->data);
    free(p->enc.B);
    if (p->spec1d) sb_spectrum1d_free(p->spec1d);
    if (p->radial) sb_radial2d_free(p->radial);
    sb_pairs_free(&p->ham_local);
    sb_pairs_free(&p->ham_global);
    sb_pairs_free(&p->conf_local);
    sb_pairs_free(&p->conf_global);
}

/* Seed `s` of the experiment's seeds (--seeds): its data, spectra and pairs, all drawn from
 * e->seed + o->seed + s, so seed 0 is exactly the run without --seeds. */
static int prepare(struct sb_prepared *p, const struct sb_experiment *e,
                   const struct sb_run_options *o, size_t s, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    p->e = e;
    p->seed = e->seed + o->seed + s;
    p->steps = o->steps ? o->steps : e->steps;
    int rc = sb_data_make(e, p->seed, &p->data, &p->enc, err, errlen);
    if (rc) return rc;
    const struct sb_data *d = &p->data;
    p->batch = e->batch ? e->batch : d->n_train;
    if (e->target == SB_TARGET_SINES1D) {
        int k[SB_MAX_FREQS];
        for (size_t i = 0; i < e->nk; i++) k[i] = e->freq[i];
        p->spec1d = sb_spectrum1d_new(d->n_eval, e->nk, k, e->amp, d->t_eval, err, errlen);
        if (!p->spec1d) return 2;
    } else {
        p->radial = sb_radial2d_new(d->eval_h, d->eval_w, d->out, e->radial_bands, d->t_eval, err,
                                    errlen);
        if (!p->radial) return 2;
    }
    if (sb_pairs_local(d->eval_h, d->eval_w, LOCAL_HAMMING_PAIRS, p->seed, &p->ham_local) ||
        sb_pairs_global(d->eval_h, d->eval_w, GLOBAL_PAIRS, p->seed, &p->ham_global) ||
        sb_pairs_local(d->eval_h, d->eval_w, LOCAL_CONFUSION_PAIRS, p->seed + 1, &p->conf_local) ||
        sb_pairs_global(d->eval_h, d->eval_w, GLOBAL_PAIRS, p->seed + 1, &p->conf_global)) {
        snprintf(err, errlen, "%s: out of memory", e->name);
        return 3;
    }
    p->nspec = e->target == SB_TARGET_SINES1D ? e->nk : e->radial_bands;
    p->nck = sb_checkpoint_steps(p->steps, e->checkpoints, p->ck, 1024);
    /* Reports show the reconstruction at a few checkpoints: the first, the last and two
     * between them (checkpoints are log-spaced, so these are early, middle and late). */
    for (size_t i = 0; i < SB_SNAPSHOTS; i++)
        p->snapshot[(p->nck - 1) * i / (SB_SNAPSHOTS - 1)] = 1;
    return 0;
}

/* What the experiment runs with, once its data is built (results.json's config). */
static void describe(const struct sb_prepared *p, const struct sb_run_options *o,
                     struct sb_experiment_result *x)
{
    const struct sb_experiment *e = p->e;
    struct sb_run_config *c = &x->config;
    c->seed = p->seed;
    c->steps = p->steps;
    c->steps_overridden = o->steps != 0;
    c->batch = p->batch;
    c->features = sb_encoding_features(&p->enc, p->data.d);
    c->channels = p->data.out;
    c->train_pixels = p->data.n_train;
    c->test_pixels = p->data.n_eval;
    /* The pixels trained on, whatever path they came from: compare matches runs from
     * different checkouts by it. */
    if (e->target != SB_TARGET_SINES1D) sb_data_hash(&p->data, c->data_hash);
    memcpy(c->checkpoints, p->ck, p->nck * sizeof *p->ck);
    c->ncheckpoints = p->nck;
    const struct sb_model_spec spec = {p->data.d, e->depth, e->width, p->data.out, e->output};
    x->parameters = sb_model_param_count(&spec, c->features);
    x->split = sb_model_split(&spec, c->features, p->batch,
                              o->threads > 0 ? (size_t)o->threads : (size_t)omp_get_max_threads());
    x->prepared = 1;
}

/* x->status and x->error from status and err. */
static int conclude(struct sb_experiment_result *x, int status, const char *err)
{
    x->status = status;
    if (status) x->error = strdup(err);
    return status;
}

static size_t seeds_of(const struct sb_run_options *o) { return o->seeds ? o->seeds : 1; }

/* Seed s's repetitions, appended to x->reps. The progress bar and --dump see one sequence of
 * runs over all seeds (run s * R + rep), so the bar's total covers every seed and only the
 * first seed's first repetition is dumped. Returns 0, 2 (bad input), 3 or
 * SB_STATUS_INTERRUPTED, with err set. */
static int train_seed(const struct sb_experiment *e, const struct sb_run_options *o, size_t s,
                      size_t index, size_t count, struct sb_experiment_result *x, double t_start,
                      char *err, size_t errlen)
{
    struct sb_prepared p;
    int status = prepare(&p, e, o, s, err, errlen);
    if (status) {
        prepared_free(&p);
        return status;
    }
    if (s == 0) describe(&p, o, x);
    struct sb_run_options all = *o;
    all.repetitions = o->repetitions * seeds_of(o);
    for (size_t rep = 0; rep < o->repetitions; rep++) {
        if (rep > 0 && sb_interrupted) {
            snprintf(err, errlen, "%s: interrupted by signal %d after %zu of %zu repetitions",
                     e->name, (int)sb_interrupted, rep, o->repetitions);
            status = SB_STATUS_INTERRUPTED;
            break;
        }
        struct sb_repetition_result *r = &x->reps[x->nreps];
        status = sb_run_repetition(&all, &p, index, count, s * o->repetitions + rep, r, t_start,
                                   err, errlen);
        r->seed_index = s;
        r->seed = p.seed;
        if (status) r->error = strdup(err); /* later seeds may fail with other messages */
        x->nreps++;
        if (status) break;
        if (x->nreps == 1) x->flops_per_step = r->flops_per_step;
    }
    prepared_free(&p);
    return status;
}

/* Appends which seed a message is about, with --seeds K > 1. */
static void name_seed(char *msg, size_t len, const struct sb_experiment *e,
                      const struct sb_run_options *o, size_t s)
{
    const size_t n = strlen(msg);
    if (seeds_of(o) > 1 && n < len)
        snprintf(msg + n, len - n, " (seed %llu, %zu of %zu)",
                 (unsigned long long)(e->seed + o->seed + s), s + 1, seeds_of(o));
}

/* The seeds one after the other. A seed that fails (diverged, out of memory) does not stop
 * the others: like MLPerf's non-converging run, it counts as a seed that never reached the
 * target, and the experiment is failed with the first failure's message. Bad input and a
 * signal stop at once. */
static int train_seeds(const struct sb_experiment *e, const struct sb_run_options *o, size_t index,
                       size_t count, struct sb_experiment_result *x, double t_start, char *err,
                       size_t errlen)
{
    const size_t K = seeds_of(o);
    int failed = 0;
    char first[2048] = "";
    for (size_t s = 0; s < K; s++) {
        if (s > 0 && sb_interrupted) {
            snprintf(err, errlen, "%s: interrupted by signal %d after %zu of %zu seeds", e->name,
                     (int)sb_interrupted, s, K);
            return SB_STATUS_INTERRUPTED;
        }
        x->seeds_started = s + 1;
        const int status = train_seed(e, o, s, index, count, x, t_start, err, errlen);
        if (status) name_seed(err, errlen, e, o, s);
        /* !x->prepared: the first seed's data could not be built, so nothing ran */
        if (status == 2 || status == SB_STATUS_INTERRUPTED || (status && !x->prepared))
            return status;
        if (status && !failed) {
            failed = 1;
            snprintf(first, sizeof first, "%s", err);
        }
    }
    if (failed) snprintf(err, errlen, "%s", first);
    return failed ? 3 : 0;
}

int sb_train_experiment(const struct sb_experiment *e, const struct sb_run_options *o,
                        size_t index, size_t count, struct sb_experiment_result *x, char *err,
                        size_t errlen)
{
    const double t_start = sb_now();
    memset(x, 0, sizeof *x);
    x->e = e;
    x->isa_name = o->k->isa_name;
    x->peak_gflops = o->peak_gflops;
    x->seeds = seeds_of(o);
    int status = 0;
    if (!(x->reps = calloc(o->repetitions * x->seeds, sizeof *x->reps))) {
        snprintf(err, errlen, "%s: out of memory", e->name);
        status = 3;
    }
    if (!status) status = train_seeds(e, o, index, count, x, t_start, err, errlen);
    if (o->progress_bar) fprintf(stderr, "\r\033[K");
    return conclude(x, status, err);
}
