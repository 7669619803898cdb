/* One repetition of an experiment: the model and its buffers, the step loop with the
 * checkpoints among the steps, and what is measured after the last step, into struct
 * sb_repetition_result (result.h). */
#define _POSIX_C_SOURCE 200809L
#include "harness/train/repetition.h"
#include "harness/train/progress.h"

#include "harness/data/detmath.h"
#include "harness/data/image.h"
#include "harness/util/util.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Bit 31 of the result is set when some v[i] is NaN or infinite (exponent all ones): adding
 * one exponent step to such an exponent carries into bit 31, to no other. Integer operations
 * only, so the compiler vectorises it without reordering any float arithmetic. */
static uint32_t nonfinite_bits(const float *v, size_t n)
{
    uint32_t acc = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t b;
        memcpy(&b, v + i, sizeof b);
        acc |= (b & 0x7f800000u) + 0x00800000u;
    }
    return acc;
}

static void progress(const struct sb_run_options *o, const struct sb_prepared *p, size_t index,
                     size_t count, size_t rep, uint64_t step, float loss, double elapsed)
{
    if (!o->progress_bar) return;
    const uint64_t total = p->steps * o->repetitions, done = p->steps * rep + step;
    const struct sb_progress pr = {
        index,         count, p->e->name, rep, o->repetitions, step, p->steps,
        (double)done / (double)(total ? total : 1),
        loss,          elapsed,
        done ? elapsed / (double)done * (double)(total - done) : 0.0};
    char line[512];
    sb_progress_format(&pr, sb_progress_columns(), line, sizeof line);
    /* in place: back to the line's start, erase it, draw */
    fprintf(stderr, "\r\033[K%s", line);
    fflush(stderr);
}

static int write_file(const char *dir, const char *name, const void *p, size_t bytes, char *err,
                      size_t errlen)
{
    char path[SB_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, bytes, f) != bytes || fclose(f) != 0) {
        snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
        if (f) fclose(f);
        return -1;
    }
    return 0;
}

/* The model's outputs v[n_eval][out] (or the target's values) as the results keep them: 1D the
 * values, 2D an 8-bit PNG of the evaluation grid in base64 (what the reports embed). Returns 0,
 * or -1 when out of memory, or for a 1D value that is not finite: JSON cannot hold one, and
 * such a snapshot has always failed its repetition as out of memory. */
static int snapshot_take(const struct sb_data *d, const float *v, int image, struct sb_snapshot *s)
{
    const size_t n = d->n_eval * d->out;
    memset(s, 0, sizeof *s);
    if (!image) {
        for (size_t i = 0; i < n; i++)
            if (!isfinite(v[i])) return -1;
        s->values = malloc(n * sizeof *s->values);
        if (!s->values) return -1;
        memcpy(s->values, v, n * sizeof *s->values);
        s->n = n;
        return 0;
    }
    struct sb_image img = {d->eval_w, d->eval_h, d->out, (float *)v};
    void *png;
    size_t len;
    char err[128];
    if (sb_image_encode_png(&img, "snapshot", &png, &len, err, sizeof err)) return -1;
    s->png_base64 = sb_base64_encode(png, len);
    free(png);
    if (!s->png_base64) return -1;
    s->width = d->eval_w;
    s->height = d->eval_h;
    s->channels = d->out;
    return 0;
}

/* The state of one repetition; what the results keep goes to *out. */
struct rep {
    struct sb_model model;
    struct sb_activations act;
    float *grad, *m, *v;
    float *xb, *tb;          /* minibatch rows */
    uint32_t *order;         /* minibatch order */
    size_t order_pos;
    struct sb_rng batch_rng;
    int minibatch;
    int counting;            /* the counters (--counters) are running */
    float *losses;           /* per step: the loss before that step's update */
    float eval_loss;         /* at the last checkpoint: the training loss ... */
    double test_psnr;        /* ... and the PSNR of the evaluation outputs */
    struct sb_pattern_stats stats; /* ... and the activation patterns */
    struct sb_repetition_result *out;
};

static void rep_free(struct rep *r)
{
    sb_model_free(&r->model);
    sb_activations_free(&r->act);
    free(r->grad);
    free(r->m);
    free(r->v);
    free(r->xb);
    free(r->tb);
    free(r->order);
    free(r->losses);
}

/* The model, its buffers and the curve's storage for repetition `rep`. Returns 0, or -1 when
 * out of memory. */
static int rep_alloc(const struct sb_run_options *o, const struct sb_prepared *p, size_t rep,
                     struct rep *r)
{
    const struct sb_experiment *e = p->e;
    const struct sb_data *d = &p->data;
    struct sb_model_spec spec = {d->d, e->depth, e->width, d->out, e->output};
    struct sb_encoding enc = p->enc;
    enc.B = NULL;
    if (p->enc.B) {
        const size_t bytes = p->enc.m * d->d * sizeof(float);
        enc.B = malloc(bytes);
        if (!enc.B) return -1;
        memcpy(enc.B, p->enc.B, bytes);
    }
    if (sb_model_init(&r->model, &spec, &enc, p->seed)) return -1;
    const size_t P = r->model.n_params;
    size_t cap = d->n_train > d->n_eval ? d->n_train : d->n_eval;
    if (sb_activations_alloc(&r->act, &r->model, cap)) return -1;
    r->grad = sb_floats_alloc(P);
    r->m = sb_floats_alloc(P);
    r->v = sb_floats_alloc(P);
    /* Per-step losses are kept only for --dump (tests/torch_agreement.py). */
    r->losses = o->dump_dir && rep == 0 ? calloc(p->steps, sizeof(float)) : NULL;
    if (!r->grad || !r->m || !r->v || (o->dump_dir && rep == 0 && !r->losses)) return -1;
    r->minibatch = p->batch < d->n_train;
    if (r->minibatch) {
        r->xb = malloc(p->batch * d->d * sizeof(float));
        r->tb = malloc(p->batch * d->out * sizeof(float));
        r->order = malloc(d->n_train * sizeof(uint32_t));
        if (!r->xb || !r->tb || !r->order) return -1;
        for (size_t i = 0; i < d->n_train; i++) r->order[i] = (uint32_t)i;
        r->order_pos = d->n_train; /* shuffle before the first batch */
        sb_rng_seed(&r->batch_rng, p->seed, SB_STREAM_BATCH);
    }
    r->out->curve = calloc(p->nck, sizeof *r->out->curve);
    r->out->spectra = calloc(p->nck * 2 * p->nspec + 1, sizeof *r->out->spectra);
    return r->out->curve && r->out->spectra ? 0 : -1;
}

static void next_batch(struct sb_prepared *p, struct rep *r)
{
    const struct sb_data *d = &p->data;
    const size_t B = p->batch, n = d->n_train;
    if (r->order_pos + B > n) {
        /* A new epoch: Fisher-Yates from the experiment's batch stream. */
        for (size_t i = n - 1; i > 0; i--) {
            const size_t j = sb_rng_below(&r->batch_rng, i + 1);
            const uint32_t t = r->order[i];
            r->order[i] = r->order[j];
            r->order[j] = t;
        }
        r->order_pos = 0;
    }
    for (size_t b = 0; b < B; b++) {
        const size_t row = r->order[r->order_pos + b];
        memcpy(r->xb + b * d->d, d->x_train + row * d->d, d->d * sizeof(float));
        memcpy(r->tb + b * d->out, d->t_train + row * d->out, d->out * sizeof(float));
    }
    r->order_pos += B;
}

/* Writes what an independent implementation needs to replay the run (tests/torch_agreement.py). */
static int dump_initial(const struct sb_run_options *o, struct sb_prepared *p, struct rep *r,
                        char *dir, size_t dirlen, char *err, size_t errlen)
{
    char slug[SB_NAME_MAX];
    snprintf(slug, sizeof slug, "%s", p->e->name);
    for (char *c = slug; *c; c++)
        if (*c == '/' || *c == ' ') *c = '_';
    snprintf(dir, dirlen, "%s/%s", o->dump_dir, slug);
    if (mkdir(o->dump_dir, 0777) && errno != EEXIST) {
        snprintf(err, errlen, "%s: cannot create: %s", o->dump_dir, strerror(errno));
        return -1;
    }
    if (mkdir(dir, 0777) && errno != EEXIST) {
        snprintf(err, errlen, "%s: cannot create: %s", dir, strerror(errno));
        return -1;
    }
    const struct sb_data *d = &p->data;
    const struct sb_model *m = &r->model;
    sb_model_forward(o->k, m, d->n_train, d->x_train, &r->act);
    json_t *layers = json_array();
    for (size_t l = 0; l < m->n_layers; l++)
        json_array_append_new(layers, json_pack("{s:I, s:I}", "in", (json_int_t)m->layers[l].in,
                                                "out", (json_int_t)m->layers[l].out));
    json_t *meta =
        json_pack("{s:s, s:I, s:I, s:I, s:I, s:o, s:s, s:s, s:f, s:[f,f], s:f, s:I, s:I}", "name",
                  p->e->name, "n", (json_int_t)d->n_train, "d", (json_int_t)d->d, "features",
                  (json_int_t)m->features, "out", (json_int_t)d->out, "layers", layers, "output",
                  m->spec.output == SB_OUT_SIGMOID ? "sigmoid" : "linear", "optimizer",
                  p->e->optimizer == SB_OPT_ADAM ? "adam" : "sgd", "lr", p->e->lr, "betas",
                  p->e->beta1, p->e->beta2, "eps", p->e->eps, "steps", (json_int_t)p->steps,
                  "batch", (json_int_t)p->batch);
    const char *kind = m->enc.kind == SB_ENC_POSENC    ? "posenc"
                       : m->enc.kind == SB_ENC_FOURIER ? "fourier"
                                                       : "none";
    json_object_set_new(meta, "encoding",
                        json_pack("{s:s, s:i, s:i, s:I}", "kind", kind, "l0", m->enc.l0, "l1",
                                  m->enc.l1, "m", (json_int_t)m->enc.m));
    char path[SB_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/meta.json", dir);
    int rc = json_dump_file(meta, path, JSON_INDENT(1));
    json_decref(meta);
    if (rc) {
        snprintf(err, errlen, "%s: cannot write", path);
        return -1;
    }
    if (write_file(dir, "x.f32", d->x_train, d->n_train * d->d * 4, err, errlen) ||
        write_file(dir, "enc.f32", r->act.enc, d->n_train * m->features * 4, err, errlen) ||
        write_file(dir, "target.f32", d->t_train, d->n_train * d->out * 4, err, errlen) ||
        write_file(dir, "init.f32", m->params, m->n_params * 4, err, errlen) ||
        (m->enc.B && write_file(dir, "B.f32", m->enc.B, m->enc.m * d->d * 4, err, errlen)))
        return -1;
    return 0;
}

/* Evaluates the current parameters at a checkpoint and appends the curve point: losses and
 * PSNR, the spectrum, the model's outputs at a snapshot checkpoint, activation patterns, and
 * gradient confusion when the experiment asks for it at checkpoints. Returns 0, or -1 when
 * out of memory. */
static int checkpoint(const struct sb_run_options *o, struct sb_prepared *p, struct rep *r,
                      uint64_t step, int last, int snapshot)
{
    const struct sb_kernels *k = o->k;
    const struct sb_experiment *e = p->e;
    const struct sb_data *d = &p->data;
    struct sb_repetition_result *out = r->out;
    struct sb_curve_point *pt = &out->curve[out->ncurve];
    memset(pt, 0, sizeof *pt);
    pt->step = step;
    pt->seconds = out->train_seconds;
    pt->spectral_error = out->spectra + out->ncurve * 2 * p->nspec;
    pt->spectral_magnitude = pt->spectral_error + p->nspec;

    /* Training loss over the whole training set, then the evaluation inputs. */
    sb_model_forward_fixed(k, &r->model, d->n_train, d->x_train, &r->act);
    const float loss = sb_model_loss(k, &r->model, d->n_train, d->t_train, &r->act, 0);
    r->eval_loss = loss;
    pt->loss = loss;
    if (d->x_eval != d->x_train) sb_model_forward(k, &r->model, d->n_eval, d->x_eval, &r->act);
    const size_t ne = d->n_eval * d->out;
    if (e->target == SB_TARGET_SINES1D) {
        double mse = 0.0;
        for (size_t i = 0; i < ne; i++) {
            const double q = (double)r->act.y[i] - d->t_eval[i];
            mse += q * q;
        }
        mse /= (double)ne;
        r->test_psnr = 10.0 * log10(d->t_range * d->t_range / mse);
        pt->psnr_db = r->test_psnr;
        sb_spectrum1d_eval(p->spec1d, r->act.y, pt->spectral_magnitude, pt->spectral_error);
    } else {
        pt->psnr_db = -10.0 * log10((double)loss);
        r->test_psnr = sb_psnr(ne, r->act.y, d->t_eval);
        pt->test_psnr_db = r->test_psnr;
        sb_radial2d_eval(p->radial, r->act.y, pt->spectral_error);
    }
    if (snapshot) {
        struct sb_snapshot *s = &out->snapshots[out->nsnapshots];
        if (snapshot_take(d, r->act.y, e->target != SB_TARGET_SINES1D, s)) return -1;
        s->step = step;
        s->seconds = out->train_seconds;
        out->nsnapshots++;
    }
    if (sb_pattern_stats(k, &r->model, &r->act, d->n_eval, &p->ham_local, &p->ham_global,
                         &pt->patterns))
        return -1;
    r->stats = pt->patterns;
    if (e->confusion == SB_CONFUSION_CHECKPOINTS && !last) {
        if (sb_confusion(k, &r->model, &r->act, d->n_eval, d->t_eval, &p->conf_local,
                         &p->conf_global, e->confusion_bins, &pt->confusion_local,
                         &pt->confusion_global))
            return -1;
        pt->has_confusion = 1;
    }
    out->ncurve++;
    return 0;
}

/* The checkpoint at `step`, if one falls there (the counters paused around it): the curve
 * point, the check for divergence, and time to target. Returns 0, -1 when out of memory, or 3
 * with err set when the loss is not finite. */
static int at_checkpoint(const struct sb_run_options *o, struct sb_prepared *p, struct rep *r,
                         uint64_t step, size_t *next_ck, char *err, size_t errlen)
{
    const struct sb_experiment *e = p->e;
    struct sb_repetition_result *out = r->out;
    if (*next_ck >= p->nck || p->ck[*next_ck] != step) return 0;
    const double t0 = sb_now();
    const int last = step == p->steps;
    if (r->counting) sb_counters_pause(o->counters);
    if (checkpoint(o, p, r, step, last, p->snapshot[*next_ck])) return -1;
    if (r->counting) sb_counters_resume(o->counters);
    out->eval_seconds += sb_now() - t0;
    (*next_ck)++;
    if (!isfinite(r->eval_loss)) {
        snprintf(err, errlen, "%s: the loss is %s at step %llu (diverged)", e->name,
                 isnan(r->eval_loss) ? "NaN" : "infinite", (unsigned long long)step);
        return 3;
    }
    if (out->time_to_target < 0) {
        const int hit = e->target == SB_TARGET_SINES1D
                            ? e->target_loss > 0 && r->eval_loss <= e->target_loss
                            : e->target_psnr > 0 && r->test_psnr >= e->target_psnr;
        if (hit) out->time_to_target = out->train_seconds;
    }
    return 0;
}

/* The optimiser's update of parameters [off, off + n) from r->grad, applied by
 * sb_model_backward once the gradient of [off, off + n) is final, from several threads at once
 * on disjoint ranges (struct sb_update).
 * A gradient can overflow while the loss is still finite (a sigmoid output bounds the loss,
 * not the weights): each range is checked just before the optimiser reads it, and bit 31 of
 * `nonfinite` says whether some gradient was not finite. The update itself is left as it
 * was, so no trajectory moves. */
struct optimiser {
    const struct sb_kernels *k;
    const struct sb_experiment *e;
    struct rep *r;
    struct sb_adam_step st;
    uint32_t nonfinite; /* OR of every range's bits, from any thread */
};

static void optimiser_apply(void *ctx, size_t off, size_t n)
{
    struct optimiser *o = ctx;
    struct rep *r = o->r;
    const uint32_t bits = nonfinite_bits(r->grad + off, n);
    if (bits & 0x80000000u) __atomic_fetch_or(&o->nonfinite, bits, __ATOMIC_RELAXED);
    if (o->e->optimizer == SB_OPT_ADAM) {
        o->k->adam_update(n, r->model.params + off, r->grad + off, r->m + off, r->v + off,
                          &o->st);
    } else {
        /* SGD: one rounding each for the product and the sum, as torch.optim.SGD. */
        const float neg_lr = (float)-o->e->lr;
        float *p = r->model.params + off;
        const float *g = r->grad + off;
        for (size_t i = 0; i < n; i++) p[i] = p[i] + neg_lr * g[i];
    }
}

/* One training step: a (mini)batch forward, the loss, backward and the update. Returns 0 and
 * the loss before the update, 3 with err set when the loss or a gradient is not finite, or -1
 * when out of memory (the backward pass's buffer for small batches). */
static int train_step(const struct sb_run_options *o, struct sb_prepared *p, struct rep *r,
                      uint64_t step, float *loss_out, char *err, size_t errlen)
{
    const struct sb_kernels *k = o->k;
    const struct sb_experiment *e = p->e;
    const struct sb_data *d = &p->data;
    struct sb_repetition_result *out = r->out;
    const size_t P = r->model.n_params;
    sb_work_reset();
    const double t0 = sb_now();
    const float *x = d->x_train, *t = d->t_train;
    if (r->minibatch) {
        next_batch(p, r);
        x = r->xb;
        t = r->tb;
    }
    struct optimiser opt = {.k = k, .e = e, .r = r};
    if (e->optimizer == SB_OPT_ADAM)
        opt.st = sb_adam_step_make(e->lr, e->beta1, e->beta2, e->eps, step + 1);
    const struct sb_update update = {optimiser_apply, &opt};
    float loss;
    /* a full batch is the training set, the same every step: encoded once */
    if (sb_model_train_step(k, &r->model, p->batch, x, !r->minibatch, t, &r->act, r->grad,
                            &update, &loss)) {
        out->train_seconds += sb_now() - t0;
        return -1;
    }
    if (!isfinite(loss)) { /* nothing was updated */
        out->train_seconds += sb_now() - t0;
        snprintf(err, errlen, "%s: the loss is %s at step %llu (diverged)", e->name,
                 isnan(loss) ? "NaN" : "infinite", (unsigned long long)step);
        return 3;
    }
    if (opt.nonfinite & 0x80000000u) {
        out->train_seconds += sb_now() - t0;
        size_t i = 0;
        while (i < P && isfinite(r->grad[i])) i++;
        snprintf(err, errlen,
                 "%s: the gradient is %s (parameter %zu of %zu) at step %llu (diverged)", e->name,
                 i < P && isnan(r->grad[i]) ? "NaN" : "infinite", i, P, (unsigned long long)step);
        return 3;
    }
    const double dt = sb_now() - t0;
    out->train_seconds += dt;
    out->work_seconds += sb_work_seconds();
    if (r->losses) r->losses[step] = loss;
    /* The loss of the parameters after `step` updates, which existed at the end of the
     * previous step: the earliest moment the target was met (1D, full batch). */
    if (out->time_to_target < 0 && e->target == SB_TARGET_SINES1D && !r->minibatch &&
        e->target_loss > 0 && loss <= e->target_loss)
        out->time_to_target = out->train_seconds - dt;
    *loss_out = loss;
    return 0;
}

/* Steps 0 to p->steps with the checkpoints among them. Returns 0, -1 when out of memory, 3
 * (diverged) or SB_STATUS_INTERRUPTED, with err set. */
static int train_loop(const struct sb_run_options *o, struct sb_prepared *p, struct rep *r,
                      size_t index, size_t count, size_t rep, double t_start, char *err,
                      size_t errlen)
{
    size_t next_ck = 0;
    float loss = NAN;
    double last_draw = 0.0;
    for (uint64_t step = 0;; step++) {
        const int rc = at_checkpoint(o, p, r, step, &next_ck, err, errlen);
        if (rc) return rc;
        if (step == p->steps) return 0;
        if (sb_interrupted) {
            snprintf(err, errlen, "%s: interrupted by signal %d before step %llu of %llu",
                     p->e->name, (int)sb_interrupted, (unsigned long long)step + 1,
                     (unsigned long long)p->steps);
            return SB_STATUS_INTERRUPTED;
        }
        const int rc_step = train_step(o, p, r, step, &loss, err, errlen);
        if (rc_step) return rc_step;
        const double now = sb_now();
        if (now - last_draw > 0.1) {
            progress(o, p, index, count, rep, step + 1, loss, now - t_start);
            last_draw = now;
        }
    }
}

/* After the last step, in the order the results have always been built: the counts, the
 * trajectory hash, the analysis of the final parameters, then the target's snapshot. Returns
 * 0, or -1 when out of memory (out->stage says how far it got). */
static int finish(const struct sb_run_options *o, struct sb_prepared *p, struct rep *r)
{
    const struct sb_experiment *e = p->e;
    const struct sb_data *d = &p->data;
    struct sb_repetition_result *out = r->out;
    if (out->time_to_target > out->train_seconds) out->time_to_target = out->train_seconds;
    if (r->counting) {
        sb_counters_stop(o->counters, &out->counters);
        out->counted = 1;
        r->counting = 0;
    }
    /* The trajectory: final parameters and the final outputs on the evaluation inputs. */
    uint64_t h = sb_fnv1a64(SB_FNV_OFFSET, r->model.params, r->model.n_params * sizeof(float));
    h = sb_fnv1a64(h, r->act.y, d->n_eval * d->out * sizeof(float));
    snprintf(out->trajectory_hash, sizeof out->trajectory_hash, "%016llx", (unsigned long long)h);
    out->patterns = r->stats;
    if (e->confusion != SB_CONFUSION_OFF) {
        const double t0 = sb_now();
        if (sb_confusion(o->k, &r->model, &r->act, d->n_eval, d->t_eval, &p->conf_local,
                         &p->conf_global, e->confusion_bins, &out->confusion_local,
                         &out->confusion_global))
            return -1;
        out->has_confusion = 1;
        out->eval_seconds += sb_now() - t0;
    }
    const struct sb_cost cost = sb_model_step_cost(&r->model, p->batch, r->minibatch);
    out->flops_per_step = cost.flops;
    out->bytes_per_step = cost.bytes;
    out->final_loss = r->eval_loss;
    out->final_psnr_db = r->test_psnr;
    out->stage = SB_REP_TRAINED;
    if (snapshot_take(d, d->t_eval, e->target != SB_TARGET_SINES1D, &out->target)) return -1;
    out->stage = SB_REP_DONE;
    return 0;
}

int sb_run_repetition(const struct sb_run_options *o, struct sb_prepared *p, size_t index,
                      size_t count, size_t rep, struct sb_repetition_result *out, double t_start,
                      char *err, size_t errlen)
{
    struct rep r;
    memset(&r, 0, sizeof r);
    memset(out, 0, sizeof *out);
    r.out = out;
    out->time_to_target = -1.0;
    out->steps = p->steps;
    out->threads = (size_t)omp_get_max_threads();
    int rc = 3;
    char dump_dir[SB_PATH_MAX + SB_NAME_MAX + 2] = "";
    if (rep_alloc(o, p, rep, &r)) goto oom;
    if (o->dump_dir && rep == 0 &&
        dump_initial(o, p, &r, dump_dir, sizeof dump_dir, err, errlen))
        goto fail;
    if (o->counters) {
        sb_counters_start(o->counters);
        r.counting = 1;
    }
    rc = train_loop(o, p, &r, index, count, rep, t_start, err, errlen);
    if (rc < 0) {
        rc = 3;
        goto oom;
    }
    if (rc) goto fail;
    rc = 3;
    if (finish(o, p, &r)) goto oom;
    if (*dump_dir) {
        if (write_file(dump_dir, "losses.f32", r.losses, p->steps * sizeof(float), err, errlen) ||
            write_file(dump_dir, "final.f32", r.model.params, r.model.n_params * sizeof(float),
                       err, errlen))
            goto fail;
    }
    rc = 0;
    goto done;
oom:
    snprintf(err, errlen, "%s: out of memory", p->e->name);
fail:
    if (r.counting) {
        sb_counters_stop(o->counters, &out->counters);
        out->counted = 1;
    }
done:
    out->status = rc;
    rep_free(&r);
    return rc;
}
