/* specbias-peer-NAME: the library-composed baselines of scripts/peers, all but the library.
 *
 * Trains the network of one `specbias run --dump` folder the way a straightforward
 * implementation would: the library's products for each layer (forward Y = X W^T + b, data
 * gradient dX = G W, weight gradient dW = G^T X with the bias gradient) and separate plain C
 * loops for everything else (sigmoid, MSE gradient, ReLU backward mask, Adam with
 * torch.optim.Adam's formulas). No hand vectorisation and no fusion beyond what the library's
 * own API offers: this is what specbias's fused kernels are measured against. The loops run on
 * one thread; only the library threads. The backend (peer_backend.h) is the library part:
 * peer_openblas.c (cblas_sgemm, and the bias, ReLU and bias-gradient loops a BLAS user writes),
 * peer_dnnl.c (oneDNN inner products) and peer_xsmm.c (libxsmm GEMMs, --gemm only).
 *
 * Usage: specbias-peer-NAME DUMP_DIR [--steps N] [--threads T]
 * Prints one JSON line {"peer": NAME, "seconds", "steps", "threads", "final_loss", "batch",
 * backend fields, "version"} like peers/peer_torch.py: seconds = wall time of the step loop,
 * final_loss = training loss of the last step before its update (the dump's losses.f32[N-1]).
 * A minibatch experiment takes its rows in a fixed cyclic order (same cost per step as
 * specbias's shuffled order, losses not comparable).
 *
 * Usage: specbias-peer-NAME --gemm ROWSxINxOUT [--threads T] [--repetitions N]
 *                           [--min-time SECONDS]
 * The kernel-level peer of `specbias kernels`' dense_* benchmarks (scripts/peers --kernels):
 * the products of one dense layer of that shape, each checked once against a double-precision
 * sum on sampled elements, then timed as N repetitions (default 5) of a loop of calls lasting
 * at least SECONDS (default 0.2) after that first call. Prints one JSON line per op,
 * {"peer", "op", "shape", "threads", "seconds_median", "gflops", "repetitions", "version",
 * backend fields}, gflops = 2 rows in out / seconds_median for every op. The ops are the
 * backend's (its file says what each computes).
 *
 * Exit status: 0; 2 bad options, a bad shape or a bad dump (the message names the file); 3 I/O
 * failure, out of memory, a library failure or an op whose result is wrong. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "peer_backend.h"

/* Steps run on a throwaway copy of the parameters before the timed loop, so OpenBLAS's
 * thread start-up (and oneDNN's primitive creation) is not charged to the timed steps
 * (peers/peer_torch.py does the same). */
#define WARMUP_STEPS 2

struct layer {
    size_t in, out, w_off, b_off; /* W [out][in] at w_off, b [out] at b_off in params */
};

struct net {
    size_t n, features, outs, batch, n_layers, n_params, steps, width_max;
    struct layer *layers;
    int sigmoid, adam;
    double lr, beta1, beta2, eps;
    float *enc, *target, *init;
};

void peer_die(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "specbias-peer-%s: ", peer_backend.name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(code);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void *peer_calloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size);
    if (!p) peer_die(3, "out of memory");
    return p;
}

/* Reads exactly `count` floats; a file of another size is a bad dump. */
static float *read_floats(const char *dir, const char *name, size_t count)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) peer_die(errno == ENOENT ? 2 : 3, "%s: cannot open: %s", path, strerror(errno));
    float *p = peer_calloc(count, sizeof *p);
    const size_t got = fread(p, sizeof *p, count, f);
    if (ferror(f)) peer_die(3, "%s: read error: %s", path, strerror(errno));
    const int extra = fgetc(f) != EOF;
    fclose(f);
    if (got != count || extra)
        peer_die(2, "%s: wrong size, meta.json implies %zu floats", path, count);
    return p;
}

static size_t get_size(json_t *obj, const char *key, const char *path)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        peer_die(2, "%s: missing or bad '%s' (a non-negative integer)", path, key);
    return (size_t)json_integer_value(v);
}

static double get_real(json_t *v, const char *key, const char *path)
{
    if (!json_is_number(v)) peer_die(2, "%s: missing or bad '%s' (a number)", path, key);
    return json_number_value(v);
}

static void load(const char *dir, struct net *m)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/meta.json", dir);
    json_error_t jerr;
    json_t *meta = json_load_file(path, 0, &jerr);
    if (!meta) peer_die(2, "%s: %s", path, jerr.text);
    memset(m, 0, sizeof *m);
    m->n = get_size(meta, "n", path);
    m->features = get_size(meta, "features", path);
    m->outs = get_size(meta, "out", path);
    m->steps = get_size(meta, "steps", path);
    m->batch = get_size(meta, "batch", path);
    if (m->batch == 0 || m->batch > m->n) m->batch = m->n;
    const char *output = json_string_value(json_object_get(meta, "output"));
    const char *opt = json_string_value(json_object_get(meta, "optimizer"));
    if (!output || (strcmp(output, "linear") && strcmp(output, "sigmoid")))
        peer_die(2, "%s: 'output' must be \"linear\" or \"sigmoid\"", path);
    if (!opt || (strcmp(opt, "adam") && strcmp(opt, "sgd")))
        peer_die(2, "%s: 'optimizer' must be \"adam\" or \"sgd\"", path);
    m->sigmoid = !strcmp(output, "sigmoid");
    m->adam = !strcmp(opt, "adam");
    m->lr = get_real(json_object_get(meta, "lr"), "lr", path);
    if (m->adam) {
        json_t *betas = json_object_get(meta, "betas");
        if (!json_is_array(betas) || json_array_size(betas) != 2)
            peer_die(2, "%s: 'betas' must be an array of two numbers", path);
        m->beta1 = get_real(json_array_get(betas, 0), "betas", path);
        m->beta2 = get_real(json_array_get(betas, 1), "betas", path);
        m->eps = get_real(json_object_get(meta, "eps"), "eps", path);
    }
    json_t *layers = json_object_get(meta, "layers");
    if (!json_is_array(layers) || json_array_size(layers) == 0)
        peer_die(2, "%s: 'layers' must be a non-empty array", path);
    m->n_layers = json_array_size(layers);
    m->layers = peer_calloc(m->n_layers, sizeof *m->layers);
    size_t off = 0, prev = m->features;
    for (size_t l = 0; l < m->n_layers; l++) {
        struct layer *L = &m->layers[l];
        L->in = get_size(json_array_get(layers, l), "in", path);
        L->out = get_size(json_array_get(layers, l), "out", path);
        if (L->in != prev || L->in == 0 || L->out == 0)
            peer_die(2, "%s: 'layers' do not chain from 'features' to 'out'", path);
        prev = L->out;
        L->w_off = off;
        off += L->in * L->out;
        L->b_off = off;
        off += L->out;
        if (L->out > m->width_max) m->width_max = L->out;
    }
    if (prev != m->outs) peer_die(2, "%s: the last layer's 'out' is not 'out'", path);
    m->n_params = off;
    json_decref(meta);
    m->enc = read_floats(dir, "enc.f32", m->n * m->features);
    m->target = read_floats(dir, "target.f32", m->n * m->outs);
    m->init = read_floats(dir, "init.f32", m->n_params);
}

/* Training state: parameters, gradients, Adam moments and per-layer activations. */
struct state {
    float *params, *grad, *m, *v;
    float **act;    /* act[l]: output of layer l, batch x out (after ReLU / sigmoid) */
    float *g, *dx;  /* gradient w.r.t. the current layer's output, and its input */
    float *xb, *tb; /* minibatch rows */
};

static void state_alloc(const struct net *m, struct state *s)
{
    const size_t B = m->batch;
    s->params = peer_calloc(m->n_params, sizeof(float));
    s->grad = peer_calloc(m->n_params, sizeof(float));
    s->m = peer_calloc(m->n_params, sizeof(float));
    s->v = peer_calloc(m->n_params, sizeof(float));
    s->act = peer_calloc(m->n_layers, sizeof *s->act);
    for (size_t l = 0; l < m->n_layers; l++)
        s->act[l] = peer_calloc(B * m->layers[l].out, sizeof(float));
    s->g = peer_calloc(B * m->width_max, sizeof(float));
    s->dx = peer_calloc(B * m->width_max, sizeof(float));
    s->xb = peer_calloc(B * m->features, sizeof(float));
    s->tb = peer_calloc(B * m->outs, sizeof(float));
}

/* Everything load() and state_alloc() allocated, so that LeakSanitizer (scripts/test's
 * sanitizer stage) sees a clean exit. */
static void free_all(struct net *m, struct state *s)
{
    for (size_t l = 0; l < m->n_layers; l++) free(s->act[l]);
    free(s->act), free(s->params), free(s->grad), free(s->m), free(s->v);
    free(s->g), free(s->dx), free(s->xb), free(s->tb);
    free(m->layers), free(m->enc), free(m->target), free(m->init);
}

static void state_reset(const struct net *m, struct state *s)
{
    memcpy(s->params, m->init, m->n_params * sizeof(float));
    memset(s->m, 0, m->n_params * sizeof(float));
    memset(s->v, 0, m->n_params * sizeof(float));
}

/* One optimiser step (step = 1, 2, ...). Returns the loss before the update. */
static float train_step(const struct net *m, struct state *s, size_t step)
{
    const struct peer_backend *be = &peer_backend;
    const size_t B = m->batch, C = m->outs, last = m->n_layers - 1;
    const float *x = m->enc, *t = m->target;
    if (B < m->n) {
        for (size_t b = 0; b < B; b++) {
            const size_t row = ((step - 1) * B + b) % m->n;
            memcpy(s->xb + b * m->features, m->enc + row * m->features,
                   m->features * sizeof(float));
            memcpy(s->tb + b * C, m->target + row * C, C * sizeof(float));
        }
        x = s->xb;
        t = s->tb;
    }

    /* Forward: Y = X W^T + b, ReLU on hidden layers (the backend's), sigmoid on the last. */
    for (size_t l = 0; l < m->n_layers; l++) {
        const struct layer *L = &m->layers[l];
        float *y = s->act[l];
        be->train->forward(B, L->in, L->out, l ? s->act[l - 1] : x, s->params + L->w_off,
                           s->params + L->b_off, y, l < last);
        if (l == last && m->sigmoid)
            for (size_t i = 0; i < B * L->out; i++) y[i] = 1.0f / (1.0f + expf(-y[i]));
    }

    /* MSE over every output element, and its gradient. */
    const float *y = s->act[last];
    double sum = 0.0;
    for (size_t i = 0; i < B * C; i++) {
        const double e = (double)y[i] - (double)t[i];
        sum += e * e;
    }
    const float scale = (float)(2.0 / ((double)B * (double)C));
    for (size_t i = 0; i < B * C; i++) s->g[i] = (y[i] - t[i]) * scale;
    if (m->sigmoid)
        for (size_t i = 0; i < B * C; i++) s->g[i] *= y[i] * (1.0f - y[i]);

    /* Backward, last layer first; g holds dL/d(pre-activation) of layer l. */
    for (size_t l = m->n_layers; l-- > 0;) {
        const struct layer *L = &m->layers[l];
        be->train->backward_weights(B, L->in, L->out, s->g, l ? s->act[l - 1] : x,
                                    s->grad + L->w_off, s->grad + L->b_off);
        /* The encoded inputs are data, not parameters: no gradient into layer 0's input (torch
         * and specbias skip it too). */
        if (l == 0) break;
        be->train->backward_data(B, L->in, L->out, s->g, s->params + L->w_off, s->dx);
        const float *a = s->act[l - 1];
        for (size_t i = 0; i < B * L->in; i++)
            if (!(a[i] > 0.0f)) s->dx[i] = 0.0f;
        float *tmp = s->g;
        s->g = s->dx;
        s->dx = tmp;
    }

    const size_t P = m->n_params;
    if (m->adam) {
        /* torch.optim.Adam (1.13, single-tensor path): bias corrections in double. */
        const double bc1 = 1.0 - pow(m->beta1, (double)step);
        const double bc2 = 1.0 - pow(m->beta2, (double)step);
        const float b1 = (float)m->beta1, b2 = (float)m->beta2;
        const float omb1 = (float)(1.0 - m->beta1), omb2 = (float)(1.0 - m->beta2);
        const float step_size = (float)(m->lr / bc1), bc2_sqrt = (float)sqrt(bc2);
        const float eps = (float)m->eps;
        for (size_t i = 0; i < P; i++) {
            const float gi = s->grad[i];
            s->m[i] = s->m[i] * b1 + gi * omb1;
            s->v[i] = s->v[i] * b2 + gi * gi * omb2;
            const float denom = sqrtf(s->v[i]) / bc2_sqrt + eps;
            s->params[i] -= step_size * (s->m[i] / denom);
        }
    } else {
        const float lr = (float)m->lr;
        for (size_t i = 0; i < P; i++) s->params[i] -= lr * s->grad[i];
    }
    return (float)(sum / ((double)B * (double)C));
}

/* Prints one JSON object as a line; a failed write is a failed run. */
static void print_json(json_t *out)
{
    char *text = out ? json_dumps(out, JSON_COMPACT) : NULL;
    if (!text) peer_die(3, "out of memory");
    if (puts(text) == EOF || fflush(stdout))
        peer_die(3, "cannot write the result: %s", strerror(errno));
    free(text);
    json_decref(out);
}

/* Adds a backend's extra fields (a new reference, or NULL) to a result line. */
static void add_fields(json_t *out, json_t *extra)
{
    if (!extra) return;
    if (!out || json_object_update(out, extra)) peer_die(3, "out of memory");
    json_decref(extra);
}

static int train(const char *dir, long steps, int threads)
{
    const struct peer_backend *be = &peer_backend;
    if (!be->train)
        peer_die(2, "the %s peer times GEMMs only: use --gemm ROWSxINxOUT (see --help)", be->name);
    struct net m;
    load(dir, &m);
    if (steps >= 0) m.steps = (size_t)steps;
    be->set_threads(threads);

    struct state s;
    state_alloc(&m, &s);
    state_reset(&m, &s);
    for (size_t k = 1; k <= WARMUP_STEPS && k <= m.steps; k++) train_step(&m, &s, k);
    state_reset(&m, &s);

    float loss = NAN;
    const double t0 = now();
    for (size_t k = 1; k <= m.steps; k++) loss = train_step(&m, &s, k);
    const double seconds = now() - t0;

    json_t *out =
        json_pack("{s:s, s:f, s:I, s:i, s:o, s:I}", "peer", be->name, "seconds", seconds, "steps",
                  (json_int_t)m.steps, "threads", threads, "final_loss",
                  isfinite(loss) ? json_real(loss) : json_null(), "batch", (json_int_t)m.batch);
    add_fields(out, be->train->info ? be->train->info() : NULL);
    if (!out || json_object_set_new(out, "version", json_string(be->version())))
        peer_die(3, "out of memory");
    print_json(out);
    free_all(&m, &s);
    if (be->cleanup) be->cleanup();
    return 0;
}

/* ---- --gemm: the products of one dense layer, timed alone -------------------------------- */

/* "ROWSxINxOUT", each a positive int (the libraries take int dimensions). */
static void parse_shape(const char *text, struct peer_gemm *g)
{
    int dim[3];
    const char *p = text;
    for (int k = 0; k < 3; k++) {
        char *end;
        errno = 0;
        const long v = p[0] >= '0' && p[0] <= '9' ? strtol(p, &end, 10) : 0;
        if (v < 1 || v > INT_MAX || errno || *end != (k < 2 ? 'x' : '\0'))
            peer_die(2, "bad shape '%s' (want ROWSxINxOUT of positive integers, e.g. 4096x256x256)",
                     text);
        dim[k] = (int)v;
        p = end + 1;
    }
    g->rows = dim[0];
    g->in = dim[1];
    g->out = dim[2];
    /* Every operand is at most 2^32 floats: no size_t overflow below, and far more than fits. */
    const double big = (double)(1ull << 32), r = dim[0], i = dim[1], o = dim[2];
    if (r * i > big || r * o > big || i * o > big)
        peer_die(2, "bad shape '%s': an operand would exceed 2^32 floats", text);
}

/* Uniform in [lo, hi) from a 64-bit LCG (Knuth's MMIX constants): deterministic, no libm. */
static float *lcg_floats(size_t n, float lo, float hi, uint64_t seed)
{
    float *p = peer_calloc(n, sizeof *p);
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t k = 0; k < n; k++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        p[k] = lo + (hi - lo) * (float)((double)(s >> 40) / 16777216.0);
    }
    return p;
}

/* The operands at the ranges `specbias kernels` uses: inputs in [-1, 1), weights in
 * +-1/in, biases in +-0.1, output gradients in [-1, 1). */
static void gemm_alloc(struct peer_gemm *g)
{
    const size_t r = (size_t)g->rows, in = (size_t)g->in, out = (size_t)g->out;
    const float ws = 1.0f / (float)in;
    g->x = lcg_floats(r * in, -1.0f, 1.0f, 1);
    g->w = lcg_floats(out * in, -ws, ws, 2);
    g->b = lcg_floats(out, -0.1f, 0.1f, 3);
    g->g = lcg_floats(r * out, -1.0f, 1.0f, 4);
    g->y = peer_calloc(r * out, sizeof(float));
    g->dx = peer_calloc(r * in, sizeof(float));
    g->dw = peer_calloc(out * in, sizeof(float));
    g->mask_words = (out + 63) / 64;
    g->mask = peer_calloc(r * g->mask_words, sizeof(uint64_t));
}

/* Per row, written into a register a byte at a time: or-ing each bit into m[] itself would
 * chain every element through a store and a load (~2x slower), and the baselines should not
 * be slower than they need be. */
void peer_row_mask(const float *y, size_t out, uint64_t *m)
{
    for (size_t w = 0; w < (out + 63) / 64; w++) {
        const float *yw = y + 64 * w;
        const size_t n = out - 64 * w < 64 ? out - 64 * w : 64;
        uint64_t bits = 0;
        size_t j = 0;
        for (; j + 8 <= n; j += 8) {
            unsigned byte = 0;
            for (unsigned t = 0; t < 8; t++) byte |= (unsigned)(yw[j + t] > 0.0f) << t;
            bits |= (uint64_t)byte << j;
        }
        for (; j < n; j++) bits |= (uint64_t)(yw[j] > 0.0f) << j;
        m[w] = bits;
    }
}

/* Checks the first call's output on 64 sampled elements against a double-precision sum: a
 * backend that mixed up a layout or a transpose would be timed computing something else.
 * The tolerance is relative to the sum of the terms' magnitudes, far above float32's rounding
 * of a few thousand terms and far below any wrong operand. */
static void check_op(const struct peer_op *op, const struct peer_gemm *g)
{
    const size_t R = (size_t)g->rows, I = (size_t)g->in, O = (size_t)g->out;
    uint64_t s = 12345;
    for (int k = 0; k < 64; k++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        const size_t u = (size_t)(s >> 33);
        double ref = 0.0, mag = 0.0, got;
        size_t i, j;
        if (op->kind == PEER_BWD_WEIGHTS) { /* dw[i][j], i < out, j < in: sum over rows */
            i = u % O, j = (u / O) % I;
            for (size_t r = 0; r < R; r++) {
                const double v = (double)g->g[r * O + i] * (double)g->x[r * I + j];
                ref += v, mag += fabs(v);
            }
            got = g->dw[i * I + j];
        } else if (op->kind == PEER_BWD_DATA) { /* dx[i][j], i < rows, j < in: sum over out */
            i = u % R, j = (u / R) % I;
            for (size_t o = 0; o < O; o++) {
                const double v = (double)g->g[i * O + o] * (double)g->w[o * I + j];
                ref += v, mag += fabs(v);
            }
            got = g->dx[i * I + j];
        } else { /* y[i][j], i < rows, j < out: sum over in */
            i = u % R, j = (u / R) % O;
            for (size_t c = 0; c < I; c++) {
                const double v = (double)g->x[i * I + c] * (double)g->w[j * I + c];
                ref += v, mag += fabs(v);
            }
            if (op->kind == PEER_FWD_BIAS_RELU) {
                ref += g->b[j], mag += fabs(g->b[j]);
                ref = ref > 0.0 ? ref : 0.0;
                const int bit = (int)(g->mask[i * g->mask_words + j / 64] >> (j % 64) & 1);
                if (bit != (g->y[i * O + j] > 0.0f))
                    peer_die(3, "%s gives a wrong mask bit at row %zu, column %zu", op->name, i, j);
            }
            got = g->y[i * O + j];
        }
        if (!(fabs(got - ref) <= 1e-4 * mag + 1e-6))
            peer_die(3, "%s gives a wrong result at [%zu][%zu]: %.9g, want %.9g", op->name, i, j,
                     got, ref);
    }
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median over `reps` repetitions of the seconds per call of a loop lasting >= min_time. The
 * first call, checked, also readies the library's buffers, threads and JIT code and the
 * operands' pages. Outputs start as NaN (all bits set) so a result not written fails the
 * check, except an accumulated dw, which starts at zero. */
static double time_op(const struct peer_op *op, const struct peer_gemm *g, int reps,
                      double min_time)
{
    const size_t R = (size_t)g->rows, I = (size_t)g->in, O = (size_t)g->out;
    memset(g->y, 0xff, R * O * sizeof(float));
    memset(g->dx, 0xff, R * I * sizeof(float));
    memset(g->dw, op->accumulates ? 0 : 0xff, O * I * sizeof(float));
    op->fn(g);
    if (op->finish) op->finish(g);
    check_op(op, g);
    double *s = peer_calloc((size_t)reps, sizeof *s);
    for (int r = 0; r < reps; r++) {
        long calls = 0;
        double t;
        const double t0 = now();
        do {
            op->fn(g);
            calls++;
        } while ((t = now() - t0) < min_time);
        s[r] = t / (double)calls;
    }
    qsort(s, (size_t)reps, sizeof *s, cmp_double);
    const double med = reps % 2 ? s[reps / 2] : 0.5 * (s[reps / 2 - 1] + s[reps / 2]);
    free(s);
    return med;
}

static int run_gemm(const char *shape, int threads, int reps, double min_time)
{
    const struct peer_backend *be = &peer_backend;
    struct peer_gemm g;
    memset(&g, 0, sizeof g);
    parse_shape(shape, &g);
    be->set_threads(threads);
    gemm_alloc(&g);
    if (be->gemm->prepare) be->gemm->prepare(&g);
    const double flops = 2.0 * g.rows * (double)g.in * (double)g.out;
    char canon[64];
    snprintf(canon, sizeof canon, "%dx%dx%d", g.rows, g.in, g.out);
    for (size_t k = 0; k < be->gemm->n_ops; k++) {
        const struct peer_op *op = &be->gemm->ops[k];
        const double sec = time_op(op, &g, reps, min_time);
        json_t *out =
            json_pack("{s:s, s:s, s:s, s:i, s:f, s:f, s:i, s:s}", "peer", be->name, "op", op->name,
                      "shape", canon, "threads", threads, "seconds_median", sec, "gflops",
                      flops / sec / 1e9, "repetitions", reps, "version", be->version());
        add_fields(out, be->gemm->info ? be->gemm->info(op, &g) : NULL);
        print_json(out);
    }
    if (be->cleanup) be->cleanup();
    free(g.x), free(g.w), free(g.b), free(g.g), free(g.y), free(g.dx), free(g.dw), free(g.mask);
    return 0;
}

static int parse_count(const char *opt, const char *val, long min)
{
    char *end;
    errno = 0;
    const long v = val ? strtol(val, &end, 10) : 0;
    if (!val || errno || *end || end == val || v < min || v > 1000000000L)
        peer_die(2, "%s needs an integer >= %ld", opt, min);
    return (int)v;
}

/* A time in seconds, > 0 and at most an hour (a typo, not a benchmark, beyond that). */
static double parse_seconds(const char *opt, const char *val)
{
    char *end;
    errno = 0;
    const double v = val ? strtod(val, &end) : 0.0;
    if (!val || errno || *end || end == val || !(v > 0.0 && v <= 3600.0))
        peer_die(2, "%s needs seconds > 0 (at most 3600)", opt);
    return v;
}

int main(int argc, char **argv)
{
    const char *dir = NULL, *shape = NULL, *name = peer_backend.name;
    long steps = -1;
    int threads = 1, reps = 5, gemm_only = 0;
    double min_time = 0.2;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--steps")) {
            steps = parse_count("--steps", i + 1 < argc ? argv[++i] : NULL, 0);
        } else if (!strcmp(argv[i], "--threads")) {
            threads = parse_count("--threads", i + 1 < argc ? argv[++i] : NULL, 1);
        } else if (!strcmp(argv[i], "--gemm")) {
            if (i + 1 >= argc) peer_die(2, "--gemm needs a shape ROWSxINxOUT");
            shape = argv[++i];
        } else if (!strcmp(argv[i], "--repetitions")) {
            reps = parse_count("--repetitions", i + 1 < argc ? argv[++i] : NULL, 1);
            gemm_only = 1;
        } else if (!strcmp(argv[i], "--min-time")) {
            min_time = parse_seconds("--min-time", i + 1 < argc ? argv[++i] : NULL);
            gemm_only = 1;
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            if (peer_backend.train)
                printf("usage: specbias-peer-%s DUMP_DIR [--steps N] [--threads T]\n       ", name);
            else
                fputs("usage: ", stdout);
            printf("specbias-peer-%s --gemm ROWSxINxOUT [--threads T] [--repetitions N] "
                   "[--min-time SECONDS]\n",
                   name);
            return 0;
        } else if (argv[i][0] == '-' || dir) {
            peer_die(2, "unknown or extra argument '%s' (see --help)", argv[i]);
        } else {
            dir = argv[i];
        }
    }
    if (shape) {
        if (dir || steps >= 0)
            peer_die(2, "--gemm takes neither DUMP_DIR nor --steps (see --help)");
        return run_gemm(shape, threads, reps, min_time);
    }
    if (gemm_only) peer_die(2, "--repetitions and --min-time go with --gemm (see --help)");
    if (!dir) peer_die(2, "missing DUMP_DIR or --gemm (see --help)");
    return train(dir, steps, threads);
}
