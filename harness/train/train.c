#define _POSIX_C_SOURCE 200809L
#include "harness/train/train.h"
#include "harness/util/util.h"

#include "harness/train/analysis.h"
#include "harness/data/detmath.h"
#include "harness/data/image.h"
#include "harness/data/spectral.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define LOCAL_HAMMING_PAIRS 250  /* per window (Lazzari) */
#define LOCAL_CONFUSION_PAIRS 100
#define GLOBAL_PAIRS 5000
#define SB_SNAPSHOTS 4           /* checkpoints whose outputs the results file keeps */

volatile sig_atomic_t sb_interrupted = 0;

double sb_experiment_bytes(const struct sb_experiment *e, const struct sb_data *d,
                           const struct sb_encoding *enc)
{
    const double rows = (double)(d->n_train > d->n_eval ? d->n_train : d->n_eval);
    const double F = (double)sb_encoding_features(enc, d->d), W = (double)e->width;
    const double depth = (double)e->depth, out = (double)d->out;
    const double wmax = W > F ? W : F;
    const struct sb_model_spec spec = {d->d, e->depth, e->width, d->out, e->output};
    const double params = (double)sb_model_param_count(&spec, sb_encoding_features(enc, d->d));
    /* activations: encoded input, hidden outputs, masks, y/dy/dz, two gradient buffers;
     * parameters: weights, padded copies Wt and W, gradient, Adam m and v; plus the data */
    const double act = rows * (F + depth * (W + 16) + 3 * out + 2 * (wmax + 16)) * 4 +
                       rows * depth * (double)sb_mask_words(e->width) * 8;
    const double data = (double)(d->n_train + d->n_eval) * (double)(d->d + d->out) * 4;
    return act + params * 6 * 4 + data;
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

void sb_data_hash(const struct sb_data *d, char hex[17])
{
    uint64_t h = sb_fnv1a64(SB_FNV_OFFSET, d->t_train, d->n_train * d->out * sizeof(float));
    h = sb_fnv1a64(h, d->t_eval, d->n_eval * d->out * sizeof(float));
    snprintf(hex, 17, "%016llx", (unsigned long long)h);
}

/* Everything an experiment's repetitions share. */
struct prepared {
    const struct sb_experiment *e;
    struct sb_data data;
    struct sb_encoding enc; /* template: each repetition's model gets a copy of B */
    uint64_t seed, steps;
    size_t batch;           /* rows per step */
    struct sb_spectrum1d *spec1d;
    struct sb_radial2d *radial;
    struct sb_pairs ham_local, ham_global, conf_local, conf_global;
    uint64_t ck[1024];
    size_t nck;
    unsigned char snapshot[1024]; /* 1: this checkpoint also records the model's output */
};

static void prepared_free(struct prepared *p)
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

static int prepare(struct prepared *p, const struct sb_experiment *e,
                   const struct sb_run_options *o, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    p->e = e;
    p->seed = e->seed + o->seed;
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
    p->nck = sb_checkpoint_steps(p->steps, e->checkpoints, p->ck, 1024);
    /* Reports show the reconstruction at a few checkpoints: the first, the last and two
     * between them (checkpoints are log-spaced, so these are early, middle and late). */
    for (size_t i = 0; i < SB_SNAPSHOTS; i++)
        p->snapshot[(p->nck - 1) * i / (SB_SNAPSHOTS - 1)] = 1;
    return 0;
}

static json_t *real_or_null(double x) { return isfinite(x) ? json_real(x) : json_null(); }

static json_t *doubles(const double *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(a, real_or_null(v[i]));
    return a;
}

/* The evaluation outputs (or targets) v[n_eval][out] as JSON: 1D a list of values, 2D an 8-bit
 * PNG of the evaluation grid in base64 (what the reports embed). NULL when out of memory. */
static json_t *snapshot_values(const struct sb_data *d, const float *v, int image)
{
    const size_t n = d->n_eval * d->out;
    if (!image) {
        json_t *a = json_array();
        for (size_t i = 0; a && i < n; i++)
            if (json_array_append_new(a, json_real(v[i]))) {
                json_decref(a);
                return NULL;
            }
        return a == NULL ? NULL : json_pack("{s:o}", "values", a);
    }
    struct sb_image img = {d->eval_w, d->eval_h, d->out, (float *)v};
    void *png;
    size_t len;
    char err[128];
    if (sb_image_encode_png(&img, "snapshot", &png, &len, err, sizeof err)) return NULL;
    char *b64 = sb_base64_encode(png, len);
    free(png);
    if (!b64) return NULL;
    json_t *o = json_pack("{s:s, s:I, s:I, s:I}", "png_base64", b64, "width",
                          (json_int_t)d->eval_w, "height", (json_int_t)d->eval_h, "channels",
                          (json_int_t)d->out);
    free(b64);
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

static json_t *counters_json(const struct sb_counter_values *v)
{
    json_t *o = json_object();
    for (size_t i = 0; i < v->n; i++) json_object_set_new(o, v->names[i], json_integer(v->counts[i]));
    return o;
}

/* The state of one repetition. */
struct rep {
    struct sb_model model;
    struct sb_activations act;
    float *grad, *m, *v;
    float *xb, *tb;          /* minibatch rows */
    uint32_t *order;         /* minibatch order */
    size_t order_pos;
    struct sb_rng batch_rng;
    float *losses;           /* per step: the loss before that step's update */
    double train_seconds, eval_seconds;
    double time_to_target;   /* < 0: not reached */
    json_t *curve;
    json_t *snapshots;
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
    json_decref(r->curve);
    json_decref(r->snapshots);
}

static void progress(const struct sb_run_options *o, const struct prepared *p, size_t index,
                     size_t count, size_t rep, uint64_t step, float loss, double elapsed)
{
    if (!o->progress_bar) return;
    const uint64_t total = p->steps * o->repetitions, done = p->steps * rep + step;
    const double eta = done ? elapsed / (double)done * (double)(total - done) : 0.0;
    const int width = 24, fill = (int)((double)width * (double)done / (double)(total ? total : 1));
    char bar[32];
    for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
    bar[width] = 0;
    fprintf(
        stderr,
        "\r\033[K[%zu/%zu] %-22.22s [%s] rep %zu/%zu step %llu/%llu loss %.3e %5.1fs ETA %4.0fs",
        index + 1, count, p->e->name, bar, rep + 1, o->repetitions, (unsigned long long)step,
        (unsigned long long)p->steps, (double)loss, elapsed, eta);
    fflush(stderr);
}

/* Evaluates the current parameters; appends the curve point. Sets *eval_loss. */
static int checkpoint(const struct sb_run_options *o, struct prepared *p, struct rep *r,
                      uint64_t step, float *eval_loss, double *test_psnr, int last,
                      int snapshot, struct sb_pattern_stats *stats_out)
{
    const struct sb_kernels *k = o->k;
    const struct sb_experiment *e = p->e;
    const struct sb_data *d = &p->data;
    json_t *pt = json_object();
    json_object_set_new(pt, "step", json_integer((json_int_t)step));
    json_object_set_new(pt, "seconds", json_real(r->train_seconds));

    /* Training loss over the whole training set, then the evaluation inputs. */
    sb_model_forward(k, &r->model, d->n_train, d->x_train, &r->act);
    const float loss = sb_model_loss(k, &r->model, d->n_train, d->t_train, &r->act, 0);
    *eval_loss = loss;
    json_object_set_new(pt, "loss", real_or_null(loss));
    if (d->x_eval != d->x_train) sb_model_forward(k, &r->model, d->n_eval, d->x_eval, &r->act);
    const size_t ne = d->n_eval * d->out;
    if (e->target == SB_TARGET_SINES1D) {
        double mse = 0.0;
        for (size_t i = 0; i < ne; i++) {
            const double q = (double)r->act.y[i] - d->t_eval[i];
            mse += q * q;
        }
        mse /= (double)ne;
        *test_psnr = 10.0 * log10(d->t_range * d->t_range / mse);
        json_object_set_new(pt, "psnr_db", real_or_null(*test_psnr));
        double mag[SB_MAX_FREQS], errv[SB_MAX_FREQS];
        sb_spectrum1d_eval(p->spec1d, r->act.y, mag, errv);
        json_object_set_new(pt, "spectral_error", doubles(errv, e->nk));
        json_object_set_new(pt, "spectral_magnitude", doubles(mag, e->nk));
    } else {
        const double train_psnr = -10.0 * log10((double)loss);
        *test_psnr = sb_psnr(ne, r->act.y, d->t_eval);
        json_object_set_new(pt, "psnr_db", real_or_null(train_psnr));
        json_object_set_new(pt, "test_psnr_db", real_or_null(*test_psnr));
        double band[64];
        sb_radial2d_eval(p->radial, r->act.y, band);
        json_object_set_new(pt, "spectral_error", doubles(band, e->radial_bands));
    }
    if (snapshot) {
        json_t *s = snapshot_values(d, r->act.y, e->target != SB_TARGET_SINES1D);
        if (!s) {
            json_decref(pt);
            return -1;
        }
        json_object_set_new(s, "step", json_integer((json_int_t)step));
        json_object_set_new(s, "seconds", json_real(r->train_seconds));
        json_array_append_new(r->snapshots, s);
    }
    struct sb_pattern_stats st;
    if (sb_pattern_stats(k, &r->model, &r->act, d->n_eval, &p->ham_local, &p->ham_global, &st)) {
        json_decref(pt);
        return -1;
    }
    json_object_set_new(pt, "regions", json_integer((json_int_t)st.regions));
    json_object_set_new(pt, "dead_units", json_integer((json_int_t)st.dead_units));
    json_object_set_new(pt, "hamming_local_mean", real_or_null(st.hamming_local_mean));
    json_object_set_new(pt, "hamming_global_mean", real_or_null(st.hamming_global_mean));
    if (stats_out) *stats_out = st;
    if (e->confusion == SB_CONFUSION_CHECKPOINTS && !last) {
        struct sb_confusion cl, cg;
        if (sb_confusion(k, &r->model, &r->act, d->n_eval, d->t_eval, &p->conf_local,
                         &p->conf_global, e->confusion_bins, &cl, &cg)) {
            json_decref(pt);
            return -1;
        }
        json_object_set_new(pt, "confusion_local", confusion_json(&cl));
        json_object_set_new(pt, "confusion_global", confusion_json(&cg));
        sb_confusion_free(&cl);
        sb_confusion_free(&cg);
    }
    json_array_append_new(r->curve, pt);
    return 0;
}

static void next_batch(struct prepared *p, struct rep *r)
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

/* Writes what an independent implementation needs to replay the run (tests/torch_agreement.py). */
static int dump_initial(const struct sb_run_options *o, struct prepared *p, struct rep *r,
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

/* One repetition. Returns 0, or 3 with err set (its curve so far is kept in the object). */
static int run_repetition(const struct sb_run_options *o, struct prepared *p, size_t index,
                          size_t count, size_t rep, json_t **out, double t_start, char *err,
                          size_t errlen)
{
    const struct sb_kernels *k = o->k;
    const struct sb_experiment *e = p->e;
    const struct sb_data *d = &p->data;
    struct rep r;
    memset(&r, 0, sizeof r);
    r.time_to_target = -1.0;
    r.curve = json_array();
    r.snapshots = json_array();
    int rc = 3, counting = 0;
    json_t *jr = json_object();
    *out = jr;

    struct sb_model_spec spec = {d->d, e->depth, e->width, d->out, e->output};
    struct sb_encoding enc = p->enc;
    enc.B = NULL;
    if (p->enc.B) {
        const size_t bytes = p->enc.m * d->d * sizeof(float);
        enc.B = malloc(bytes);
        if (!enc.B) goto oom;
        memcpy(enc.B, p->enc.B, bytes);
    }
    if (sb_model_init(&r.model, &spec, &enc, p->seed)) goto oom;
    const size_t P = r.model.n_params;
    size_t cap = d->n_train > d->n_eval ? d->n_train : d->n_eval;
    if (sb_activations_alloc(&r.act, &r.model, cap)) goto oom;
    r.grad = calloc(P, sizeof(float));
    r.m = calloc(P, sizeof(float));
    r.v = calloc(P, sizeof(float));
    /* Per-step losses are kept only for --dump (tests/torch_agreement.py). */
    r.losses = o->dump_dir && rep == 0 ? calloc(p->steps, sizeof(float)) : NULL;
    if (!r.grad || !r.m || !r.v || (o->dump_dir && rep == 0 && !r.losses)) goto oom;
    const int minibatch = p->batch < d->n_train;
    if (minibatch) {
        r.xb = malloc(p->batch * d->d * sizeof(float));
        r.tb = malloc(p->batch * d->out * sizeof(float));
        r.order = malloc(d->n_train * sizeof(uint32_t));
        if (!r.xb || !r.tb || !r.order) goto oom;
        for (size_t i = 0; i < d->n_train; i++) r.order[i] = (uint32_t)i;
        r.order_pos = d->n_train; /* shuffle before the first batch */
        sb_rng_seed(&r.batch_rng, p->seed, SB_STREAM_BATCH);
    }
    char dump_dir[SB_PATH_MAX + SB_NAME_MAX + 2] = "";
    if (o->dump_dir && rep == 0 &&
        dump_initial(o, p, &r, dump_dir, sizeof dump_dir, err, errlen))
        goto fail;

    const struct sb_cost cost = sb_model_step_cost(&r.model, p->batch);
    size_t next_ck = 0;
    float loss = NAN, eval_loss = NAN;
    double test_psnr = NAN;
    struct sb_pattern_stats stats = {0};
    double last_draw = 0.0;
    if (o->counters) {
        sb_counters_start(o->counters);
        counting = 1;
    }
    for (uint64_t step = 0;; step++) {
        if (next_ck < p->nck && p->ck[next_ck] == step) {
            const double t0 = sb_now();
            const int last = step == p->steps;
            if (counting) sb_counters_pause(o->counters);
            if (checkpoint(o, p, &r, step, &eval_loss, &test_psnr, last,
                           p->snapshot[next_ck], &stats))
                goto oom;
            if (counting) sb_counters_resume(o->counters);
            r.eval_seconds += sb_now() - t0;
            next_ck++;
            if (!isfinite(eval_loss)) {
                snprintf(err, errlen, "%s: the loss is %s at step %llu (diverged)", e->name,
                         isnan(eval_loss) ? "NaN" : "infinite", (unsigned long long)step);
                goto fail;
            }
            if (r.time_to_target < 0) {
                const int hit = e->target == SB_TARGET_SINES1D
                                    ? e->target_loss > 0 && eval_loss <= e->target_loss
                                    : e->target_psnr > 0 && test_psnr >= e->target_psnr;
                if (hit) r.time_to_target = r.train_seconds;
            }
        }
        if (step == p->steps) break;
        if (sb_interrupted) {
            snprintf(err, errlen, "%s: interrupted by signal %d before step %llu of %llu", e->name,
                     (int)sb_interrupted, (unsigned long long)step + 1,
                     (unsigned long long)p->steps);
            rc = SB_STATUS_INTERRUPTED;
            goto fail;
        }

        const double t0 = sb_now();
        const float *x = d->x_train, *t = d->t_train;
        if (minibatch) {
            next_batch(p, &r);
            x = r.xb;
            t = r.tb;
        }
        sb_model_forward(k, &r.model, p->batch, x, &r.act);
        loss = sb_model_loss(k, &r.model, p->batch, t, &r.act, 1);
        if (!isfinite(loss)) {
            r.train_seconds += sb_now() - t0;
            snprintf(err, errlen, "%s: the loss is %s at step %llu (diverged)", e->name,
                     isnan(loss) ? "NaN" : "infinite", (unsigned long long)step);
            goto fail;
        }
        sb_model_backward(k, &r.model, p->batch, &r.act, r.grad);
        /* A gradient can overflow while the loss is still finite (a sigmoid output bounds the
         * loss, not the weights): checked on each chunk just before the optimiser reads it,
         * while it is in cache. The update itself is left as it was, so no trajectory moves. */
        uint32_t nonfinite = 0;
        if (e->optimizer == SB_OPT_ADAM) {
            const struct sb_adam_step st =
                sb_adam_step_make(e->lr, e->beta1, e->beta2, e->eps, step + 1);
            const size_t chunk = 16384;
#pragma omp parallel for schedule(static) reduction(| : nonfinite)
            for (size_t c0 = 0; c0 < P; c0 += chunk) {
                const size_t len = P - c0 < chunk ? P - c0 : chunk;
                nonfinite |= nonfinite_bits(r.grad + c0, len);
                k->adam_update(len, r.model.params + c0, r.grad + c0, r.m + c0, r.v + c0, &st);
            }
        } else {
            nonfinite = nonfinite_bits(r.grad, P);
            /* SGD: one rounding each for the product and the sum, as torch.optim.SGD. */
            const float neg_lr = (float)-e->lr;
            for (size_t i = 0; i < P; i++)
                r.model.params[i] = r.model.params[i] + neg_lr * r.grad[i];
        }
        if (nonfinite & 0x80000000u) {
            r.train_seconds += sb_now() - t0;
            size_t i = 0;
            while (i < P && isfinite(r.grad[i])) i++;
            snprintf(err, errlen,
                     "%s: the gradient is %s (parameter %zu of %zu) at step %llu (diverged)",
                     e->name, i < P && isnan(r.grad[i]) ? "NaN" : "infinite", i, P,
                     (unsigned long long)step);
            goto fail;
        }
        sb_model_pack(&r.model);
        const double dt = sb_now() - t0;
        r.train_seconds += dt;
        if (r.losses) r.losses[step] = loss;
        /* The loss of the parameters after `step` updates, which existed at the end of the
         * previous step: the earliest moment the target was met (1D, full batch). */
        if (r.time_to_target < 0 && e->target == SB_TARGET_SINES1D && !minibatch &&
            e->target_loss > 0 && loss <= e->target_loss)
            r.time_to_target = r.train_seconds - dt;
        const double now = sb_now();
        if (now - last_draw > 0.1) {
            progress(o, p, index, count, rep, step + 1, loss, now - t_start);
            last_draw = now;
        }
    }
    if (r.time_to_target > r.train_seconds) r.time_to_target = r.train_seconds;
    if (counting) {
        struct sb_counter_values v;
        sb_counters_stop(o->counters, &v);
        json_object_set_new(jr, "counters", counters_json(&v));
        counting = 0;
    }

    /* The trajectory: final parameters and the final outputs on the evaluation inputs. */
    uint64_t h = sb_fnv1a64(SB_FNV_OFFSET, r.model.params, P * sizeof(float));
    h = sb_fnv1a64(h, r.act.y, d->n_eval * d->out * sizeof(float));
    char hash[17];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)h);

    json_t *analysis = json_pack("{s:I, s:I, s:o, s:o}", "regions", (json_int_t)stats.regions,
                                 "dead_units", (json_int_t)stats.dead_units, "hamming_local_mean",
                                 real_or_null(stats.hamming_local_mean), "hamming_global_mean",
                                 real_or_null(stats.hamming_global_mean));
    if (e->confusion == SB_CONFUSION_OFF) {
        /* present and null, so readers find every field DESIGN.md lists */
        json_object_set_new(analysis, "confusion_local", json_null());
        json_object_set_new(analysis, "confusion_global", json_null());
    } else {
        const double t0 = sb_now();
        struct sb_confusion cl, cg;
        if (sb_confusion(k, &r.model, &r.act, d->n_eval, d->t_eval, &p->conf_local,
                         &p->conf_global, e->confusion_bins, &cl, &cg)) {
            json_decref(analysis);
            goto oom;
        }
        json_object_set_new(analysis, "confusion_local", confusion_json(&cl));
        json_object_set_new(analysis, "confusion_global", confusion_json(&cg));
        sb_confusion_free(&cl);
        sb_confusion_free(&cg);
        r.eval_seconds += sb_now() - t0;
    }

    const double sps = r.train_seconds > 0 ? (double)p->steps / r.train_seconds : 0.0;
    const double gflops =
        r.train_seconds > 0 ? cost.flops * (double)p->steps / r.train_seconds / 1e9 : 0.0;
    json_object_set_new(jr, "status", json_string("ok"));
    json_object_set_new(jr, "steps", json_integer((json_int_t)p->steps));
    json_object_set_new(jr, "train_seconds", json_real(r.train_seconds));
    json_object_set_new(jr, "eval_seconds", json_real(r.eval_seconds));
    json_object_set_new(jr, "steps_per_second", json_real(sps));
    json_object_set_new(jr, "gflops", json_real(gflops));
    json_object_set_new(jr, "flops_per_step", json_real(cost.flops));
    json_object_set_new(jr, "bytes_per_step", json_real(cost.bytes));
    json_object_set_new(jr, "peak_fraction",
                        o->peak_gflops > 0 ? json_real(gflops / o->peak_gflops) : json_null());
    json_object_set_new(jr, "final_loss", real_or_null(eval_loss));
    json_object_set_new(jr, "final_psnr_db", real_or_null(test_psnr));
    json_object_set_new(jr, "time_to_target_s",
                        r.time_to_target >= 0 ? json_real(r.time_to_target) : json_null());
    /* 1 / time to target, 0 if never reached; null if the initial parameters already met it
     * (no training time to divide by). */
    json_object_set_new(jr, "convergence_per_second",
                        r.time_to_target > 0   ? json_real(1.0 / r.time_to_target)
                        : r.time_to_target < 0 ? json_real(0.0)
                                               : json_null());
    json_object_set_new(jr, "trajectory_hash", json_string(hash));
    if (e->target == SB_TARGET_SINES1D) {
        json_t *f = json_array();
        for (size_t i = 0; i < e->nk; i++) json_array_append_new(f, json_integer(e->freq[i]));
        json_object_set_new(jr, "frequencies", f);
        json_object_set_new(jr, "frequency_unit", json_string("cycles over the signal"));
    } else {
        json_t *f = json_array();
        for (size_t b = 0; b < e->radial_bands; b++)
            json_array_append_new(f, json_real((b + 0.5) / (double)e->radial_bands));
        json_object_set_new(jr, "frequencies", f);
        json_object_set_new(jr, "frequency_unit",
                            json_string("radial band centre, fraction of Nyquist"));
    }
    json_object_set_new(jr, "curve", r.curve);
    r.curve = NULL;
    json_t *target = snapshot_values(d, d->t_eval, e->target != SB_TARGET_SINES1D);
    if (!target) goto oom;
    json_object_set_new(jr, "snapshots", r.snapshots);
    r.snapshots = NULL;
    json_object_set_new(jr, "snapshot_target", target);
    json_object_set_new(jr, "analysis", analysis);
    if (*dump_dir) {
        if (write_file(dump_dir, "losses.f32", r.losses, p->steps * sizeof(float), err, errlen) ||
            write_file(dump_dir, "final.f32", r.model.params, P * sizeof(float), err, errlen))
            goto fail;
    }
    rc = 0;
    goto done;
oom:
    snprintf(err, errlen, "%s: out of memory", e->name);
fail:
    if (counting) {
        struct sb_counter_values v;
        sb_counters_stop(o->counters, &v);
        json_object_set_new(jr, "counters", counters_json(&v));
    }
    json_object_set_new(jr, "status",
                        json_string(rc == SB_STATUS_INTERRUPTED ? "interrupted" : "failed"));
    json_object_set_new(jr, "error", sb_json_string(err));
    json_object_set_new(jr, "train_seconds", json_real(r.train_seconds));
    if (r.curve) json_object_set_new(jr, "curve", json_incref(r.curve));
    if (r.snapshots) json_object_set_new(jr, "snapshots", json_incref(r.snapshots));
done:
    rep_free(&r);
    return rc;
}

static json_t *config_json(const struct sb_experiment *e, const struct prepared *p,
                           const struct sb_run_options *o)
{
    static const char *const targets[] = {"sines1d", "image", "zoneplate"};
    static const char *const encs[] = {"none", "posenc", "basic", "tancik_posenc", "gauss"};
    static const char *const conf[] = {"off", "end", "checkpoints"};
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
    } else {
        if (e->target == SB_TARGET_IMAGE)
            json_object_set_new(t, "path", json_string(e->image_path));
        /* The pixels trained on, whatever path they came from: compare matches runs from
         * different checkouts by it. */
        char hex[17];
        sb_data_hash(&p->data, hex);
        json_object_set_new(t, "data_hash", json_string(hex));
        json_object_set_new(t, "size", json_integer((json_int_t)e->image_size));
        json_object_set_new(t, "channels", json_integer((json_int_t)p->data.out));
        json_object_set_new(t, "train_pixels", json_integer((json_int_t)p->data.n_train));
        json_object_set_new(t, "test_pixels", json_integer((json_int_t)p->data.n_eval));
    }
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
    json_t *train = json_pack("{s:s, s:f, s:[f,f], s:f, s:I, s:I}", "optimizer",
                              e->optimizer == SB_OPT_ADAM ? "adam" : "sgd", "lr", e->lr, "betas",
                              e->beta1, e->beta2, "eps", e->eps, "batch", (json_int_t)p->batch,
                              "steps", (json_int_t)p->steps);
    if (o->steps)
        json_object_set_new(train, "steps_overridden_from", json_integer((json_int_t)e->steps));
    json_t *ck = json_array();
    for (size_t i = 0; i < p->nck; i++)
        json_array_append_new(ck, json_integer((json_int_t)p->ck[i]));
    return json_pack(
        "{s:o, s:o, s:{s:I, s:I, s:s}, s:o, s:o, s:o, s:o, s:I, s:I, s:{s:s, s:I, s:I}}", "target",
        t, "encoding", enc, "model", "depth", (json_int_t)e->depth, "width", (json_int_t)e->width,
        "output", e->output == SB_OUT_SIGMOID ? "sigmoid" : "linear", "train", train, "checkpoints",
        ck, "target_loss", e->target_loss > 0 ? json_real(e->target_loss) : json_null(),
        "target_psnr", e->target_psnr > 0 ? json_real(e->target_psnr) : json_null(), "seed",
        (json_int_t)p->seed, "features", (json_int_t)sb_encoding_features(&p->enc, p->data.d),
        "analysis", "confusion", conf[e->confusion], "confusion_bins",
        (json_int_t)e->confusion_bins, "radial_bands", (json_int_t)e->radial_bands);
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
    json_array_foreach(reps, i, r) {
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
    return json_pack("{s:f, s:f, s:f, s:o, s:I}", "median", med, "min", v[0], "max", v[n - 1],
                     "cv", mean != 0.0 ? json_real(sqrt(var) / fabs(mean)) : json_null(), "n",
                     (json_int_t)n);
}

json_t *sb_run_experiment(const struct sb_experiment *e, const struct sb_run_options *o,
                          size_t index, size_t count, int *status, char *err, size_t errlen)
{
    const double t_start = sb_now();
    json_t *je = json_pack("{s:s}", "name", e->name);
    struct prepared p;
    *status = prepare(&p, e, o, err, errlen);
    if (*status) {
        json_object_set_new(je, "status", json_string("failed"));
        json_object_set_new(je, "error", sb_json_string(err));
        json_object_set_new(je, "repetitions", json_array());
        json_object_set_new(je, "summary", json_object());
        prepared_free(&p);
        return je;
    }
    json_object_set_new(je, "config", config_json(e, &p, o));
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
        snprintf(full, sizeof full, "%s__%s", used[i], o->k->isa_name);
        json_object_set_new(kn, used[i], json_string(full));
    }
    json_object_set_new(je, "kernels", kn);
    const struct sb_model_spec spec = {p.data.d, e->depth, e->width, p.data.out, e->output};
    json_object_set_new(je, "parameters",
                        json_integer((json_int_t)sb_model_param_count(
                            &spec, sb_encoding_features(&p.enc, p.data.d))));
    json_t *reps = json_array();
    json_object_set_new(je, "repetitions", reps);
    double flops_per_step = 0.0;
    for (size_t rep = 0; rep < o->repetitions; rep++) {
        if (rep > 0 && sb_interrupted) {
            snprintf(err, errlen, "%s: interrupted by signal %d after %zu of %zu repetitions",
                     e->name, (int)sb_interrupted, rep, o->repetitions);
            *status = SB_STATUS_INTERRUPTED;
            break;
        }
        json_t *jr = NULL;
        *status = run_repetition(o, &p, index, count, rep, &jr, t_start, err, errlen);
        json_array_append_new(reps, jr);
        if (*status) break;
        if (rep == 0) flops_per_step = json_number_value(json_object_get(jr, "flops_per_step"));
    }
    json_object_set_new(je, "flops_per_step", json_real(flops_per_step));
    json_object_set_new(je, "status", json_string(!*status                          ? "ok"
                                                  : *status == SB_STATUS_INTERRUPTED ? "interrupted"
                                                                                     : "failed"));
    if (*status) json_object_set_new(je, "error", sb_json_string(err));
    static const char *const fields[] = {"train_seconds", "steps_per_second", "gflops",
                                         "peak_fraction", "time_to_target_s",
                                         "convergence_per_second", "final_loss", "final_psnr_db"};
    /* n in each field's summary counts the repetitions that have a value (for time to target:
     * those that reached it), out of summary.repetitions. */
    json_t *sum = json_pack("{s:I}", "repetitions", (json_int_t)json_array_size(reps));
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
        json_object_set_new(sum, fields[i], sb_field_summary(reps, fields[i]));
    json_object_set_new(je, "summary", sum);
    if (o->progress_bar) fprintf(stderr, "\r\033[K");
    prepared_free(&p);
    return je;
}
