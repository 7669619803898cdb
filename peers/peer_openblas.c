/* specbias-peer-openblas: the OpenBLAS-composed baseline for scripts/peers.
 *
 * Trains the network of one `specbias run --dump` folder the way a straightforward
 * implementation would: cblas_sgemm for the GEMMs of each layer (forward Y = X W^T, data
 * gradient dX = G W, weight gradient dW = G^T X) and separate plain C loops for everything
 * else (bias add, ReLU, MSE gradient, ReLU backward mask, bias gradient, sigmoid, Adam with
 * torch.optim.Adam's formulas). No hand vectorisation and no fusion: this is what specbias's
 * fused kernels are measured against. The loops run on one thread; only OpenBLAS threads.
 *
 * Usage: specbias-peer-openblas DUMP_DIR [--steps N] [--threads T]
 * Prints one JSON line {"peer": "openblas", "seconds", "steps", "threads", "final_loss", ...}
 * like peers/peer_torch.py: seconds = wall time of the step loop, final_loss = training
 * loss of the last step before its update (the dump's losses.f32[N-1]).
 * A minibatch experiment takes its rows in a fixed cyclic order (same cost per step as
 * specbias's shuffled order, losses not comparable).
 *
 * Usage: specbias-peer-openblas --gemm ROWSxINxOUT [--threads T] [--repetitions N]
 *                               [--min-time SECONDS]
 * The kernel-level peer of `specbias kernels`' dense_* benchmarks (scripts/peers --kernels):
 * the GEMMs of one dense layer of that shape, each timed as N repetitions (default 5) of a
 * loop of calls lasting at least SECONDS (default 0.2) after one warm-up call. Prints one JSON
 * line per op, {"peer": "openblas", "op", "shape", "threads", "seconds_median", "gflops",
 * "repetitions", "version"}, gflops = 2 rows in out / seconds_median for every op:
 *   sgemm_fwd            Y[rows][out] = X[rows][in] W[out][in]^T
 *   sgemm_fwd_bias_relu  the same, then one plain C pass: bias, ReLU, activation mask words
 *   sgemm_bwd_data       dX[rows][in] = G[rows][out] W[out][in]
 *   sgemm_bwd_weights    dW[out][in] += G^T X (beta = 1, accumulating like dense_bwd_weights)
 *
 * Exit status: 0; 2 bad options, a bad shape or a bad dump (the message names the file); 3 I/O
 * failure or out of memory. */
#define _POSIX_C_SOURCE 200809L

#include <cblas.h>
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

/* Steps run on a throwaway copy of the parameters before the timed loop, so OpenBLAS's
 * thread start-up is not charged to the timed steps (peers/peer_torch.py does the same). */
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

__attribute__((format(printf, 2, 3), noreturn)) static void die(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "specbias-peer-openblas: ");
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

static void *xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size);
    if (!p) die(3, "out of memory");
    return p;
}

/* Reads exactly `count` floats; a file of another size is a bad dump. */
static float *read_floats(const char *dir, const char *name, size_t count)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) die(errno == ENOENT ? 2 : 3, "%s: cannot open: %s", path, strerror(errno));
    float *p = xcalloc(count, sizeof *p);
    const size_t got = fread(p, sizeof *p, count, f);
    if (ferror(f)) die(3, "%s: read error: %s", path, strerror(errno));
    const int extra = fgetc(f) != EOF;
    fclose(f);
    if (got != count || extra)
        die(2, "%s: wrong size, meta.json implies %zu floats", path, count);
    return p;
}

static size_t get_size(json_t *obj, const char *key, const char *path)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        die(2, "%s: missing or bad '%s' (a non-negative integer)", path, key);
    return (size_t)json_integer_value(v);
}

static double get_real(json_t *v, const char *key, const char *path)
{
    if (!json_is_number(v)) die(2, "%s: missing or bad '%s' (a number)", path, key);
    return json_number_value(v);
}

static void load(const char *dir, struct net *m)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/meta.json", dir);
    json_error_t jerr;
    json_t *meta = json_load_file(path, 0, &jerr);
    if (!meta) die(2, "%s: %s", path, jerr.text);
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
        die(2, "%s: 'output' must be \"linear\" or \"sigmoid\"", path);
    if (!opt || (strcmp(opt, "adam") && strcmp(opt, "sgd")))
        die(2, "%s: 'optimizer' must be \"adam\" or \"sgd\"", path);
    m->sigmoid = !strcmp(output, "sigmoid");
    m->adam = !strcmp(opt, "adam");
    m->lr = get_real(json_object_get(meta, "lr"), "lr", path);
    if (m->adam) {
        json_t *betas = json_object_get(meta, "betas");
        if (!json_is_array(betas) || json_array_size(betas) != 2)
            die(2, "%s: 'betas' must be an array of two numbers", path);
        m->beta1 = get_real(json_array_get(betas, 0), "betas", path);
        m->beta2 = get_real(json_array_get(betas, 1), "betas", path);
        m->eps = get_real(json_object_get(meta, "eps"), "eps", path);
    }
    json_t *layers = json_object_get(meta, "layers");
    if (!json_is_array(layers) || json_array_size(layers) == 0)
        die(2, "%s: 'layers' must be a non-empty array", path);
    m->n_layers = json_array_size(layers);
    m->layers = xcalloc(m->n_layers, sizeof *m->layers);
    size_t off = 0, prev = m->features;
    for (size_t l = 0; l < m->n_layers; l++) {
        struct layer *L = &m->layers[l];
        L->in = get_size(json_array_get(layers, l), "in", path);
        L->out = get_size(json_array_get(layers, l), "out", path);
        if (L->in != prev || L->in == 0 || L->out == 0)
            die(2, "%s: 'layers' do not chain from 'features' to 'out'", path);
        prev = L->out;
        L->w_off = off;
        off += L->in * L->out;
        L->b_off = off;
        off += L->out;
        if (L->out > m->width_max) m->width_max = L->out;
    }
    if (prev != m->outs) die(2, "%s: the last layer's 'out' is not 'out'", path);
    m->n_params = off;
    json_decref(meta);
    m->enc = read_floats(dir, "enc.f32", m->n * m->features);
    m->target = read_floats(dir, "target.f32", m->n * m->outs);
    m->init = read_floats(dir, "init.f32", m->n_params);
}

/* Training state: parameters, gradients, Adam moments and per-layer activations. */
struct state {
    float *params, *grad, *m, *v;
    float **act; /* act[l]: output of layer l, batch x out (after ReLU / sigmoid) */
    float *g, *dx; /* gradient w.r.t. the current layer's output, and its input */
    float *xb, *tb; /* minibatch rows */
};

static void state_alloc(const struct net *m, struct state *s)
{
    const size_t B = m->batch;
    s->params = xcalloc(m->n_params, sizeof(float));
    s->grad = xcalloc(m->n_params, sizeof(float));
    s->m = xcalloc(m->n_params, sizeof(float));
    s->v = xcalloc(m->n_params, sizeof(float));
    s->act = xcalloc(m->n_layers, sizeof *s->act);
    for (size_t l = 0; l < m->n_layers; l++)
        s->act[l] = xcalloc(B * m->layers[l].out, sizeof(float));
    s->g = xcalloc(B * m->width_max, sizeof(float));
    s->dx = xcalloc(B * m->width_max, sizeof(float));
    s->xb = xcalloc(B * m->features, sizeof(float));
    s->tb = xcalloc(B * m->outs, sizeof(float));
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

    /* Forward: Y = X W^T, then bias, then ReLU (or sigmoid on the last layer). */
    for (size_t l = 0; l < m->n_layers; l++) {
        const struct layer *L = &m->layers[l];
        const float *in = l ? s->act[l - 1] : x;
        float *y = s->act[l];
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)B, (int)L->out, (int)L->in,
                    1.0f, in, (int)L->in, s->params + L->w_off, (int)L->in, 0.0f, y,
                    (int)L->out);
        const float *bias = s->params + L->b_off;
        for (size_t i = 0; i < B; i++)
            for (size_t j = 0; j < L->out; j++) y[i * L->out + j] += bias[j];
        if (l < last) {
            for (size_t i = 0; i < B * L->out; i++) y[i] = y[i] > 0.0f ? y[i] : 0.0f;
        } else if (m->sigmoid) {
            for (size_t i = 0; i < B * L->out; i++) y[i] = 1.0f / (1.0f + expf(-y[i]));
        }
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
        const float *in = l ? s->act[l - 1] : x;
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)L->out, (int)L->in, (int)B,
                    1.0f, s->g, (int)L->out, in, (int)L->in, 0.0f, s->grad + L->w_off,
                    (int)L->in);
        float *db = s->grad + L->b_off;
        memset(db, 0, L->out * sizeof(float));
        for (size_t i = 0; i < B; i++)
            for (size_t j = 0; j < L->out; j++) db[j] += s->g[i * L->out + j];
        /* The encoded inputs are data, not parameters: no gradient into layer 0's input (torch
         * and specbias skip it too). */
        if (l == 0) break;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)B, (int)L->in, (int)L->out,
                    1.0f, s->g, (int)L->out, s->params + L->w_off, (int)L->in, 0.0f, s->dx,
                    (int)L->in);
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

/* ---- --gemm: the GEMMs of one dense layer, timed alone ----------------------------------- */

struct gemm {
    int rows, in, out;
    float *x, *w, *b, *y, *g, *dx, *dw;
    uint64_t *mask;
    size_t mask_words; /* per row, as sb_mask_words(out) */
};

/* "ROWSxINxOUT", each a positive int (cblas takes int dimensions). */
static void parse_shape(const char *text, struct gemm *g)
{
    int dim[3];
    const char *p = text;
    for (int k = 0; k < 3; k++) {
        char *end;
        errno = 0;
        const long v = p[0] >= '0' && p[0] <= '9' ? strtol(p, &end, 10) : 0;
        if (v < 1 || v > INT_MAX || errno || *end != (k < 2 ? 'x' : '\0'))
            die(2, "bad shape '%s' (want ROWSxINxOUT of positive integers, e.g. 4096x256x256)",
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
        die(2, "bad shape '%s': an operand would exceed 2^32 floats", text);
}

/* Uniform in [lo, hi) from a 64-bit LCG (Knuth's MMIX constants): deterministic, no libm. */
static float *lcg_floats(size_t n, float lo, float hi, uint64_t seed)
{
    float *p = xcalloc(n, sizeof *p);
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t k = 0; k < n; k++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        p[k] = lo + (hi - lo) * (float)((double)(s >> 40) / 16777216.0);
    }
    return p;
}

/* The operands at the ranges `specbias kernels` uses: inputs in [-1, 1), weights in
 * +-1/in, biases in +-0.1, output gradients in [-1, 1). */
static void gemm_alloc(struct gemm *g)
{
    const size_t r = (size_t)g->rows, in = (size_t)g->in, out = (size_t)g->out;
    const float ws = 1.0f / (float)in;
    g->x = lcg_floats(r * in, -1.0f, 1.0f, 1);
    g->w = lcg_floats(out * in, -ws, ws, 2);
    g->b = lcg_floats(out, -0.1f, 0.1f, 3);
    g->g = lcg_floats(r * out, -1.0f, 1.0f, 4);
    g->y = xcalloc(r * out, sizeof(float));
    g->dx = xcalloc(r * in, sizeof(float));
    g->dw = xcalloc(out * in, sizeof(float));
    g->mask_words = (out + 63) / 64;
    g->mask = xcalloc(r * g->mask_words, sizeof(uint64_t));
}

static void op_fwd(const struct gemm *g)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, g->rows, g->out, g->in, 1.0f, g->x,
                g->in, g->w, g->in, 0.0f, g->y, g->out);
}

/* What dense_relu_fwd fuses, done unfused: the GEMM, then one plain C pass over the rows adding
 * the bias, applying ReLU and writing the activation bits (bit j % 64 of word j / 64, as
 * specbias's mask), so both sides produce the same outputs. The training baseline above does
 * bias and ReLU as two whole-matrix loops and keeps no mask. Per row (still in L1 between the
 * two loops): bias and ReLU in a loop the compiler vectorises, then the bits a byte at a time
 * into a register; or-ing each bit into m[] itself would chain every element through a store
 * and a load (~2x slower here), and the baseline should not be slower than it need be. */
static void op_fwd_bias_relu(const struct gemm *g)
{
    op_fwd(g);
    const size_t out = (size_t)g->out, mw = g->mask_words;
    for (size_t i = 0; i < (size_t)g->rows; i++) {
        float *y = g->y + i * out;
        uint64_t *m = g->mask + i * mw;
        for (size_t j = 0; j < out; j++) {
            const float v = y[j] + g->b[j];
            y[j] = v > 0.0f ? v : 0.0f; /* y > 0 exactly where v > 0: the bits read y */
        }
        for (size_t w = 0; w < mw; w++) {
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
}

static void op_bwd_data(const struct gemm *g)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g->rows, g->in, g->out, 1.0f, g->g,
                g->out, g->w, g->in, 0.0f, g->dx, g->in);
}

/* beta = 1: dense_bwd_weights adds into dW (the trainer sums batch tiles), so the peer pays
 * for reading dW as well. */
static void op_bwd_weights(const struct gemm *g)
{
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, g->out, g->in, g->rows, 1.0f, g->g,
                g->out, g->x, g->in, 1.0f, g->dw, g->in);
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median over `reps` repetitions of the seconds per call of a loop lasting >= min_time; one
 * warm-up call first, so OpenBLAS's buffers and threads and the operands' pages are ready. */
static double time_op(void (*op)(const struct gemm *), const struct gemm *g, int reps,
                      double min_time)
{
    double *s = xcalloc((size_t)reps, sizeof *s);
    op(g);
    for (int r = 0; r < reps; r++) {
        long calls = 0;
        double t;
        const double t0 = now();
        do {
            op(g);
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
    static const struct {
        const char *name;
        void (*fn)(const struct gemm *);
    } ops[] = {{"sgemm_fwd", op_fwd},
               {"sgemm_fwd_bias_relu", op_fwd_bias_relu},
               {"sgemm_bwd_data", op_bwd_data},
               {"sgemm_bwd_weights", op_bwd_weights}};
    struct gemm g;
    memset(&g, 0, sizeof g);
    parse_shape(shape, &g);
    openblas_set_num_threads(threads);
    gemm_alloc(&g);
    const double flops = 2.0 * g.rows * (double)g.in * (double)g.out;
    char canon[64];
    snprintf(canon, sizeof canon, "%dx%dx%d", g.rows, g.in, g.out);
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
        const double sec = time_op(ops[k].fn, &g, reps, min_time);
        json_t *out = json_pack("{s:s, s:s, s:s, s:i, s:f, s:f, s:i, s:s}", "peer", "openblas",
                                "op", ops[k].name, "shape", canon, "threads", threads,
                                "seconds_median", sec, "gflops", flops / sec / 1e9,
                                "repetitions", reps, "version", openblas_get_config());
        char *text = out ? json_dumps(out, JSON_COMPACT) : NULL;
        if (!text) die(3, "out of memory");
        if (puts(text) == EOF || fflush(stdout))
            die(3, "cannot write the result: %s", strerror(errno));
        free(text);
        json_decref(out);
    }
    free(g.x), free(g.w), free(g.b), free(g.g), free(g.y), free(g.dx), free(g.dw), free(g.mask);
    return 0;
}

static int parse_count(const char *opt, const char *val, long min)
{
    char *end;
    errno = 0;
    const long v = val ? strtol(val, &end, 10) : 0;
    if (!val || errno || *end || end == val || v < min || v > 1000000000L)
        die(2, "%s needs an integer >= %ld", opt, min);
    return (int)v;
}

/* A time in seconds, > 0 and at most an hour (a typo, not a benchmark, beyond that). */
static double parse_seconds(const char *opt, const char *val)
{
    char *end;
    errno = 0;
    const double v = val ? strtod(val, &end) : 0.0;
    if (!val || errno || *end || end == val || !(v > 0.0 && v <= 3600.0))
        die(2, "%s needs seconds > 0 (at most 3600)", opt);
    return v;
}

#define USAGE                                                                                      \
    "usage: specbias-peer-openblas DUMP_DIR [--steps N] [--threads T]\n"                           \
    "       specbias-peer-openblas --gemm ROWSxINxOUT [--threads T] [--repetitions N] "            \
    "[--min-time SECONDS]\n"

int main(int argc, char **argv)
{
    const char *dir = NULL, *shape = NULL;
    long steps = -1;
    int threads = 1, reps = 5, gemm_only = 0;
    double min_time = 0.2;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--steps")) {
            steps = parse_count("--steps", i + 1 < argc ? argv[++i] : NULL, 0);
        } else if (!strcmp(argv[i], "--threads")) {
            threads = parse_count("--threads", i + 1 < argc ? argv[++i] : NULL, 1);
        } else if (!strcmp(argv[i], "--gemm")) {
            if (i + 1 >= argc) die(2, "--gemm needs a shape ROWSxINxOUT");
            shape = argv[++i];
        } else if (!strcmp(argv[i], "--repetitions")) {
            reps = parse_count("--repetitions", i + 1 < argc ? argv[++i] : NULL, 1);
            gemm_only = 1;
        } else if (!strcmp(argv[i], "--min-time")) {
            min_time = parse_seconds("--min-time", i + 1 < argc ? argv[++i] : NULL);
            gemm_only = 1;
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(USAGE, stdout);
            return 0;
        } else if (argv[i][0] == '-' || dir) {
            die(2, "unknown or extra argument '%s' (see --help)", argv[i]);
        } else {
            dir = argv[i];
        }
    }
    if (shape) {
        if (dir || steps >= 0) die(2, "--gemm takes neither DUMP_DIR nor --steps (see --help)");
        return run_gemm(shape, threads, reps, min_time);
    }
    if (gemm_only) die(2, "--repetitions and --min-time go with --gemm (see --help)");
    if (!dir) die(2, "missing DUMP_DIR or --gemm (see --help)");

    struct net m;
    load(dir, &m);
    if (steps >= 0) m.steps = (size_t)steps;
    openblas_set_num_threads(threads);

    struct state s;
    state_alloc(&m, &s);
    state_reset(&m, &s);
    for (size_t k = 1; k <= WARMUP_STEPS && k <= m.steps; k++) train_step(&m, &s, k);
    state_reset(&m, &s);

    float loss = NAN;
    const double t0 = now();
    for (size_t k = 1; k <= m.steps; k++) loss = train_step(&m, &s, k);
    const double seconds = now() - t0;

    json_t *out = json_pack("{s:s, s:f, s:I, s:i, s:o, s:I, s:i, s:s}", "peer", "openblas",
                            "seconds", seconds, "steps", (json_int_t)m.steps, "threads", threads,
                            "final_loss", isfinite(loss) ? json_real(loss) : json_null(),
                            "batch", (json_int_t)m.batch, "openblas_threads",
                            openblas_get_num_threads(), "version", openblas_get_config());
    char *text = out ? json_dumps(out, JSON_COMPACT) : NULL;
    if (!text) die(3, "out of memory");
    if (puts(text) == EOF || fflush(stdout)) die(3, "cannot write the result: %s", strerror(errno));
    free(text);
    json_decref(out);
    free_all(&m, &s);
    return 0;
}
