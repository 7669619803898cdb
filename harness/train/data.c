/* The targets an experiment trains on (docs/experiments.md, Conventions) and its encoding
 * matrix. */
#include "harness/data/detmath.h"
#include "harness/train/experiment.h"
#include "harness/data/image.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static float *floats(size_t n) { return calloc(n ? n : 1, sizeof(float)); }

static int make_sines(const struct sb_experiment *e, uint64_t seed, struct sb_data *d)
{
    const size_t n = e->n;
    d->d = 1;
    d->out = 1;
    d->n_train = d->n_eval = n;
    d->eval_h = 1;
    d->eval_w = n;
    d->x_train = floats(n);
    d->t_train = floats(n);
    if (!d->x_train || !d->t_train) return 3;
    double phase[SB_MAX_FREQS];
    struct sb_rng rng;
    sb_rng_seed(&rng, seed, SB_STREAM_TARGET);
    for (size_t k = 0; k < e->nk; k++) phase[k] = sb_rng_uniform(&rng);
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        const double t = (double)i / (double)n;
        double y = 0.0;
        /* sin(2 pi k t + 2 pi phi) = sinpi(2 (k t + phi)); k t + phi is computed from the
         * exact product k * i first so that every machine rounds the same way. */
        for (size_t k = 0; k < e->nk; k++) {
            const double kt = (double)((uint64_t)e->freq[k] * i % n) / (double)n;
            y += e->amp[k] * sb_det_sinpi(2.0 * (kt + phase[k]));
        }
        d->t_train[i] = (float)y;
        d->x_train[i] = (float)(e->domain[0] + (e->domain[1] - e->domain[0]) * t);
        if (d->t_train[i] < lo) lo = d->t_train[i];
        if (d->t_train[i] > hi) hi = d->t_train[i];
    }
    d->t_range = hi - lo;
    d->x_eval = d->x_train;
    d->t_eval = d->t_train;
    return 0;
}

static int make_image(const struct sb_experiment *e, struct sb_data *d, char *err, size_t errlen)
{
    struct sb_image img = {0};
    if (e->target == SB_TARGET_ZONEPLATE) {
        if (sb_image_zone_plate(e->image_size, &img)) return 3;
    } else {
        if (sb_image_load_png(e->image_path, &img, err, errlen)) return 2;
        if (e->image_size &&
            sb_image_crop_center(&img, e->image_size, e->image_size, e->image_path, err, errlen)) {
            sb_image_free(&img);
            return 2;
        }
    }
    if (e->channels && sb_image_set_channels(&img, e->channels, err, errlen)) {
        sb_image_free(&img);
        return 2;
    }
    const size_t H = img.height, W = img.width, C = img.channels;
    const size_t h2 = H / 2, w2 = W / 2;
    if (h2 == 0 || w2 == 0) {
        snprintf(err, errlen, "%s: %zu x %zu pixels is too small to split into train and test",
                 e->image_path, W, H);
        sb_image_free(&img);
        return 2;
    }
    d->d = 2;
    d->out = C;
    d->n_train = d->n_eval = h2 * w2;
    d->eval_h = h2;
    d->eval_w = w2;
    d->x_train = floats(h2 * w2 * 2);
    d->t_train = floats(h2 * w2 * C);
    d->x_eval = floats(h2 * w2 * 2);
    d->t_eval = floats(h2 * w2 * C);
    if (!d->x_train || !d->t_train || !d->x_eval || !d->t_eval) {
        sb_image_free(&img);
        return 3;
    }
    /* Tancik's split: train on the even pixels (2i, 2j), test on (2i+1, 2j+1). */
    for (size_t i = 0; i < h2; i++)
        for (size_t j = 0; j < w2; j++) {
            const size_t r = i * w2 + j;
            for (int s = 0; s < 2; s++) {
                const size_t row = 2 * i + (size_t)s, col = 2 * j + (size_t)s;
                float *x = s ? d->x_eval : d->x_train, *t = s ? d->t_eval : d->t_train;
                x[2 * r] = (float)((double)col / (double)W);
                x[2 * r + 1] = (float)((double)row / (double)H);
                memcpy(t + r * C, img.pixels + (row * W + col) * C, C * sizeof(float));
            }
        }
    d->t_range = 1.0;
    sb_image_free(&img);
    return 0;
}

static int make_encoding(const struct sb_experiment *e, uint64_t seed, size_t dim,
                         struct sb_encoding *enc)
{
    memset(enc, 0, sizeof *enc);
    switch (e->encoding) {
    case SB_ENCODING_NONE: enc->kind = SB_ENC_NONE; return 0;
    case SB_ENCODING_POSENC:
        enc->kind = SB_ENC_POSENC;
        enc->l0 = e->octaves[0];
        enc->l1 = e->octaves[1];
        return 0;
    case SB_ENCODING_BASIC: enc->m = dim; break;
    case SB_ENCODING_TANCIK_POSENC: enc->m = e->count * dim; break;
    case SB_ENCODING_GAUSS: enc->m = e->count; break;
    }
    enc->kind = SB_ENC_FOURIER;
    enc->B = floats(enc->m * dim);
    if (!enc->B) return 3;
    if (e->encoding == SB_ENCODING_BASIC) {
        for (size_t c = 0; c < dim; c++) enc->B[c * dim + c] = 1.0f;
    } else if (e->encoding == SB_ENCODING_TANCIK_POSENC) {
        /* b_j = 2^(linspace(0, scale, count)[j]) - 1 along each axis separately. */
        for (size_t c = 0; c < dim; c++)
            for (size_t j = 0; j < e->count; j++) {
                const double f = e->count > 1 ? e->scale * (double)j / (double)(e->count - 1) : 0.0;
                enc->B[(c * e->count + j) * dim + c] = (float)(sb_det_exp2(f) - 1.0);
            }
    } else {
        struct sb_rng rng;
        sb_rng_seed(&rng, seed, SB_STREAM_FOURIER);
        for (size_t i = 0; i < enc->m * dim; i++)
            enc->B[i] = (float)(e->sigma * sb_rng_normal(&rng));
    }
    return 0;
}

int sb_data_make(const struct sb_experiment *exp, uint64_t seed, struct sb_data *data,
                 struct sb_encoding *enc, char *err, size_t errlen)
{
    memset(data, 0, sizeof *data);
    memset(enc, 0, sizeof *enc);
    int rc = exp->target == SB_TARGET_SINES1D ? make_sines(exp, seed, data)
                                              : make_image(exp, data, err, errlen);
    if (rc == 3) snprintf(err, errlen, "%s: out of memory building the target", exp->name);
    if (!rc && exp->batch > data->n_train) {
        snprintf(err, errlen, "%s: train.batch = %zu is larger than the %zu training samples",
                 exp->name, exp->batch, data->n_train);
        rc = 2;
    }
    if (!rc) {
        rc = make_encoding(exp, seed, data->d, enc);
        if (rc) snprintf(err, errlen, "%s: out of memory building the encoding", exp->name);
    }
    if (rc) {
        sb_data_free(data);
        free(enc->B);
        enc->B = NULL;
    }
    return rc;
}

void sb_data_free(struct sb_data *d)
{
    if (d->x_eval != d->x_train) free(d->x_eval);
    if (d->t_eval != d->t_train) free(d->t_eval);
    free(d->x_train);
    free(d->t_train);
    memset(d, 0, sizeof *d);
}
