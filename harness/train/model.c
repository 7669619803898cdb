#include "harness/train/model.h"

#include "harness/data/detmath.h"
#include "harness/util/util.h"

#include <math.h>
#include <omp.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

size_t sb_encoding_features(const struct sb_encoding *enc, size_t d)
{
    switch (enc->kind) {
    case SB_ENC_POSENC: return 2 * (size_t)(enc->l1 - enc->l0 + 1) * d;
    case SB_ENC_FOURIER: return 2 * enc->m;
    case SB_ENC_NONE: break;
    }
    return d;
}

void sb_share(size_t n, size_t part, size_t parts, size_t *c0, size_t *c1)
{
    const size_t share = ((n + parts - 1) / parts + 15) / 16 * 16;
    *c0 = part * share < n ? part * share : n;
    *c1 = n - *c0 < share ? n : *c0 + share;
}

int sb_item_take(size_t *taken, size_t stride, size_t team, size_t me, size_t n, size_t *item)
{
    for (size_t i = 0; i < team; i++) {
        const size_t h = (me + i) % team, h0 = h * n / team, len = (h + 1) * n / team - h0;
        size_t *const c = &taken[h * stride];
        /* a range already empty costs a read, not a write to another thread's line */
        if (__atomic_load_n(c, __ATOMIC_RELAXED) >= len) continue;
        const size_t got = __atomic_fetch_add(c, 1, __ATOMIC_RELAXED);
        if (got < len) {
            *item = h0 + got;
            return 1;
        }
    }
    return 0;
}

float *sb_floats_alloc(size_t n)
{
    /* 64-byte aligned rows make the kernels' loads cheaper; nothing depends on it. */
    const size_t lines = (n + 15) / 16 ? (n + 15) / 16 : 1, len = lines * 16;
    float *p = aligned_alloc(64, len * sizeof *p);
    if (!p) return NULL;
    /* Each share zeroed by its thread: the first write places a page (Linux's first-touch
     * policy), so a training whose threads span NUMA nodes has each share on the node of the
     * thread that owns it, not all on the allocating thread's. */
#pragma omp parallel if (!omp_in_parallel() && omp_get_max_threads() > 1)
    {
        size_t c0, c1;
        sb_share(len, (size_t)omp_get_thread_num(), (size_t)omp_get_num_threads(), &c0, &c1);
        if (c1 > c0) memset(p + c0, 0, (c1 - c0) * sizeof *p);
    }
    return p;
}

size_t sb_padded_ld(size_t n)
{
    if (n < 16) return n;
    const size_t ld = (n + 15) / 16 * 16;
    return ld % 64 == 0 ? ld + 16 : ld;
}

size_t sb_model_param_count(const struct sb_model_spec *spec, size_t features)
{
    size_t n = 0, in = features;
    for (size_t l = 0; l <= spec->depth; l++) {
        const size_t out = l == spec->depth ? spec->out : spec->width;
        n += (in + 1) * out;
        in = out;
    }
    return n;
}

int sb_model_init(struct sb_model *m, const struct sb_model_spec *spec, struct sb_encoding *enc,
                  uint64_t seed)
{
    memset(m, 0, sizeof *m);
    m->spec = *spec;
    m->enc = *enc;
    enc->B = NULL;
    m->features = sb_encoding_features(&m->enc, spec->d);
    m->n_layers = spec->depth + 1;
    m->layers = calloc(m->n_layers, sizeof *m->layers);
    if (!m->layers) return -1;
    size_t off = 0;
    for (size_t l = 0; l < m->n_layers; l++) {
        struct sb_layer *L = &m->layers[l];
        L->in = l == 0 ? m->features : spec->width;
        L->out = l == spec->depth ? spec->out : spec->width;
        L->w_off = off;
        off += L->in * L->out;
        L->b_off = off;
        off += L->out;
        L->ldwt = sb_padded_ld(L->out);
        L->ldw = sb_padded_ld(L->in);
        L->wt = sb_floats_alloc(L->in * L->ldwt);
        L->w = sb_floats_alloc(L->out * L->ldw);
        if (!L->wt || !L->w) return -1;
    }
    m->n_params = off;
    m->params = sb_floats_alloc(off);
    if (!m->params) return -1;

    struct sb_rng rng;
    sb_rng_seed(&rng, seed, SB_STREAM_INIT);
    for (size_t l = 0; l < m->n_layers; l++) {
        const struct sb_layer *L = &m->layers[l];
        const double bound = 1.0 / sqrt((double)L->in);
        for (size_t i = 0; i < L->in * L->out; i++)
            m->params[L->w_off + i] = (float)((2.0 * sb_rng_uniform(&rng) - 1.0) * bound);
        for (size_t i = 0; i < L->out; i++)
            m->params[L->b_off + i] = (float)((2.0 * sb_rng_uniform(&rng) - 1.0) * bound);
    }
    sb_model_pack(m);
    return 0;
}

/* Rows of W packed at a time: within a block, k outside, each Wt row gets 64 contiguous bytes
 * at a time. */
#define PACK_ROWS 16

/* Rows j0..j0+jn, inputs k0..k0+kn, of layer L's W from the parameters into its packed copies
 * (Wt and the padded W), in blocks of PACK_ROWS rows. */
static void pack_block(const struct sb_model *m, const struct sb_layer *L, size_t j0, size_t jn,
                       size_t k0, size_t kn)
{
    const float *w = m->params + L->w_off;
    for (size_t b = j0; b < j0 + jn; b += PACK_ROWS) {
        const size_t bn = j0 + jn - b < PACK_ROWS ? j0 + jn - b : PACK_ROWS;
        for (size_t k = k0; k < k0 + kn; k++)
            for (size_t j = b; j < b + bn; j++) L->wt[k * L->ldwt + j] = w[j * L->in + k];
    }
    for (size_t j = j0; j < j0 + jn; j++)
        memcpy(L->w + j * L->ldw + k0, w + j * L->in + k0, kn * sizeof *w);
}

/* Every layer, its blocks of rows shared among the threads (a training step packs the rows it
 * updates itself: update_item, update_and_pack_share). */
void sb_model_pack(struct sb_model *m)
{
#pragma omp parallel
    for (size_t l = 0; l < m->n_layers; l++) {
        const struct sb_layer *L = &m->layers[l];
#pragma omp for schedule(static) nowait
        for (size_t j0 = 0; j0 < L->out; j0 += PACK_ROWS)
            pack_block(m, L, j0, L->out - j0 < PACK_ROWS ? L->out - j0 : PACK_ROWS, 0, L->in);
    }
}

void sb_model_free(struct sb_model *m)
{
    if (m->layers)
        for (size_t l = 0; l < m->n_layers; l++) {
            free(m->layers[l].wt);
            free(m->layers[l].w);
        }
    free(m->layers);
    free(m->params);
    free(m->enc.B);
    memset(m, 0, sizeof *m);
}

/* The tile path's reduction (backward_by_tiles) hands grad on from one tile to the next in
 * chunks of this many floats (16 KiB): small enough that a tile's adds follow the tile before
 * closely, large enough that the hand-overs (an atomic load and store a chunk) cost nothing
 * beside the adds. Each turn counter has a 64-byte line of its own. */
#define REDUCE_CHUNK 4096
#define TURN_STRIDE (64 / sizeof(size_t))

/* Partial buffers per thread on the tile path: a thread whose finished tile cannot be added
 * yet (the tile before it is still being computed by a slower thread) keeps it and takes the
 * next tile into its second buffer instead of waiting (backward_by_tiles). */
#define PARTIALS_PER_THREAD 2

/* Mask words for `rows` rows of `words` words, 64-byte aligned, not zeroed (the forward pass
 * writes every word it reads later). */
static uint64_t *alloc_masks(size_t rows, size_t words)
{
    return aligned_alloc(64, (rows * words * sizeof(uint64_t) + 63) / 64 * 64);
}

static size_t reduce_chunks(size_t params) { return (params + REDUCE_CHUNK - 1) / REDUCE_CHUNK; }

int sb_activations_alloc(struct sb_activations *a, const struct sb_model *m, size_t rows)
{
    memset(a, 0, sizeof *a);
    const struct sb_model_spec *s = &m->spec;
    size_t wmax = s->width > m->features ? s->width : m->features;
    a->cap = rows;
    a->mask_words = sb_mask_words(s->width);
    a->enc = sb_floats_alloc(rows * m->features);
    a->y = sb_floats_alloc(rows * s->out);
    a->dy = sb_floats_alloc(rows * s->out);
    a->dz = sb_floats_alloc(rows * s->out);
    a->ld_act = sb_padded_ld(s->width);
    a->dact[0] = sb_floats_alloc(rows * (a->ld_act > wmax ? a->ld_act : wmax));
    a->dact[1] = sb_floats_alloc(rows * (a->ld_act > wmax ? a->ld_act : wmax));
    a->act = calloc(s->depth ? s->depth : 1, sizeof *a->act);
    a->mask = calloc(s->depth ? s->depth : 1, sizeof *a->mask);
    if (!a->enc || !a->y || !a->dy || !a->dz || !a->dact[0] || !a->dact[1] || !a->act || !a->mask)
        return -1;
    /* PARTIALS_PER_THREAD partial buffers per thread of the pool; none for one thread, whose
     * tiles add straight into the gradient (backward_by_tiles) */
    const size_t pool = (size_t)omp_get_max_threads();
    a->n_partials = pool > 1 ? pool : 0;
    a->partial_len = m->n_params;
    const size_t n_bufs = a->n_partials * PARTIALS_PER_THREAD;
    /* not sb_floats_alloc: each thread's buffers are first written below, by that thread */
    const size_t partial_bytes = (n_bufs * a->partial_len * sizeof(float) + 63) / 64 * 64;
    a->partials = n_bufs ? aligned_alloc(64, partial_bytes) : NULL;
    if (n_bufs && !a->partials) return -1;
    a->turns = aligned_alloc(64, (reduce_chunks(m->n_params) + 1) * 64);
    a->tile_sum = malloc((rows / SB_TILE_ROWS + 1) * sizeof *a->tile_sum); /* n_tiles(rows) */
    if (!a->turns || !a->tile_sum) return -1;
    /* -0, which backward_by_tiles restores after each use; each by the thread that will
     * write it, so that its pages sit on that thread's NUMA node. */
    /* (slot i to thread i in a full team; a smaller team, OMP_DYNAMIC or a thread limit,
     * still fills every slot) */
#pragma omp parallel for schedule(static, 1)
    for (size_t me = 0; me < a->n_partials; me++) {
        float *p = a->partials + me * PARTIALS_PER_THREAD * a->partial_len;
        for (size_t i = 0; i < PARTIALS_PER_THREAD * a->partial_len; i++) p[i] = -0.0f;
    }
    a->n_scratch = pool;
    a->scratch = calloc(pool, sizeof *a->scratch);
    if (!a->scratch) return -1;
    for (size_t i = 0; i < pool; i++) {
        struct sb_tile_scratch *sc = &a->scratch[i];
        sc->act = calloc(s->depth ? s->depth : 1, sizeof *sc->act);
        sc->mask = calloc(s->depth ? s->depth : 1, sizeof *sc->mask);
        if (!sc->act || !sc->mask) return -1;
        sc->depth = s->depth;
    }
    /* each thread's scratch first written by that thread (NUMA), every slot filled whatever
     * the team's size */
    int failed = 0;
#pragma omp parallel for schedule(static, 1) reduction(+ : failed)
    for (size_t me = 0; me < pool; me++) {
        struct sb_tile_scratch *sc = &a->scratch[me];
        for (size_t l = 0; l < s->depth; l++) {
            sc->act[l] = sb_floats_alloc(SB_TILE_ROWS * a->ld_act);
            sc->mask[l] = alloc_masks(SB_TILE_ROWS, a->mask_words);
            if (!sc->act[l] || !sc->mask[l]) failed++;
        }
        for (int i = 0; i < 2; i++)
            if (!(sc->dact[i] = sb_floats_alloc(SB_TILE_ROWS * a->ld_act))) failed++;
    }
    if (failed) return -1;
    a->depth = s->depth; /* before the loop: a partial failure frees what it got */
    for (size_t l = 0; l < s->depth; l++) {
        a->act[l] = sb_floats_alloc(rows * a->ld_act);
        a->mask[l] = alloc_masks(rows, a->mask_words);
        if (!a->act[l] || !a->mask[l]) return -1;
    }
    return 0;
}

void sb_activations_free(struct sb_activations *a)
{
    for (size_t l = 0; l < a->depth; l++) {
        free(a->act[l]);
        free(a->mask[l]);
    }
    free(a->act);
    free(a->mask);
    free(a->enc);
    free(a->y);
    free(a->dy);
    free(a->dz);
    free(a->dact[0]);
    free(a->dact[1]);
    free(a->dg);
    free(a->items_taken);
    free(a->partials);
    free(a->turns);
    free(a->tile_sum);
    for (size_t i = 0; a->scratch && i < a->n_scratch; i++) {
        struct sb_tile_scratch *sc = &a->scratch[i];
        for (size_t l = 0; l < sc->depth; l++) {
            free(sc->act[l]);
            free(sc->mask[l]);
        }
        free(sc->act);
        free(sc->mask);
        free(sc->dact[0]);
        free(sc->dact[1]);
    }
    free(a->scratch);
    memset(a, 0, sizeof *a);
}

/* A tile's weight gradient is one chunk of the kernel (kernels.h): one sum per element, which
 * backward_by_tiles relies on to add tiles straight into the gradient on one thread. */
_Static_assert(SB_TILE_ROWS <= SB_WGRAD_ROWS, "a tile must be one weight-gradient chunk");

static size_t n_tiles(size_t rows) { return (rows + SB_TILE_ROWS - 1) / SB_TILE_ROWS; }

static size_t tile_rows(size_t rows, size_t t)
{
    size_t r0 = t * SB_TILE_ROWS;
    return rows - r0 < SB_TILE_ROWS ? rows - r0 : SB_TILE_ROWS;
}

/* Rows per block for the work that has no reduction across rows (forward, data gradient,
 * sigmoid): any split gives the same bits, so a batch with fewer tiles than threads (a
 * 200-row batch is one tile) is cut into one block per thread instead. The loss and the
 * weight gradients keep the fixed tiles. */
static size_t row_block_for(size_t rows, size_t threads)
{
    if (threads <= 1 || n_tiles(rows) >= threads) return SB_TILE_ROWS;
    const size_t rb = ((rows + threads - 1) / threads + 7) / 8 * 8;
    return rb ? rb : 8;
}

static size_t row_block(size_t rows) { return row_block_for(rows, (size_t)omp_get_max_threads()); }

static size_t n_blocks(size_t rows, size_t rb) { return (rows + rb - 1) / rb; }

/* One cache line per thread, so that the threads' additions do not share a line. --threads
 * allows up to 1024; a thread beyond the slots is not counted. */
#define WORK_SLOTS 1024
static struct {
    _Alignas(64) double seconds;
} work[WORK_SLOTS];

void sb_work_reset(void)
{
    const size_t n = (size_t)omp_get_max_threads();
    for (size_t i = 0; i < n && i < WORK_SLOTS; i++) work[i].seconds = 0;
}

double sb_work_seconds(void)
{
    const size_t n = (size_t)omp_get_max_threads();
    double sum = 0;
    for (size_t i = 0; i < n && i < WORK_SLOTS; i++) sum += work[i].seconds;
    return sum;
}

double sb_work_begin(void) { return sb_now(); }

void sb_work_end(double begin)
{
    const double dt = sb_now() - begin;
    const int t = omp_get_thread_num();
    if (t >= 0 && t < WORK_SLOTS) work[t].seconds += dt;
}

/* Where the hidden activations, masks and data gradients of a tile's rows live: the batch's
 * buffers at the rows' own index, or (the fused step) a thread's scratch from row 0. The
 * encoding, y, dy and dz stay in the batch's buffers. */
struct rows_at {
    float *const *act;
    uint64_t *const *mask;
    float *const *dact;
    size_t row; /* the first row's index in them */
};

static struct rows_at batch_rows(const struct sb_activations *a, size_t r0)
{
    return (struct rows_at){a->act, a->mask, a->dact, r0};
}

/* Input of layer l for the rows from r0 (at v), and its leading dimension. */
static const float *rows_input(const struct sb_model *m, const struct sb_activations *a,
                               const struct rows_at *v, size_t l, size_t r0, size_t *ld)
{
    if (l == 0) {
        *ld = m->features;
        return a->enc + r0 * m->features;
    }
    *ld = a->ld_act;
    return v->act[l - 1] + v->row * a->ld_act;
}

/* Input of layer l for rows starting at r0 in the batch's buffers, and its leading
 * dimension. */
static const float *layer_input(const struct sb_model *m, const struct sb_activations *a,
                                size_t l, size_t r0, size_t *ld)
{
    const struct rows_at v = batch_rows(a, r0);
    return rows_input(m, a, &v, l, r0, ld);
}

/* Encoding (unless `encoded`: enc holds it already) and every layer of the T rows from r0,
 * their activations and masks at v. */
static void forward_rows(const struct sb_kernels *k, const struct sb_model *m, const float *x,
                         struct sb_activations *a, const struct rows_at *v, size_t r0, size_t T,
                         int encoded)
{
    const struct sb_model_spec *s = &m->spec;
    const size_t F = m->features, mw = a->mask_words;
    const float *xt = x + r0 * s->d;
    float *enc = a->enc + r0 * F;
    if (!encoded) switch (m->enc.kind) {
    case SB_ENC_NONE: memcpy(enc, xt, T * s->d * sizeof *enc); break;
    case SB_ENC_POSENC: k->posenc_fwd(T, s->d, m->enc.l0, m->enc.l1, xt, s->d, enc, F); break;
    case SB_ENC_FOURIER: k->fourier_fwd(T, s->d, m->enc.m, xt, s->d, m->enc.B, enc, F); break;
    }
    for (size_t l = 0; l < m->n_layers; l++) {
        const struct sb_layer *L = &m->layers[l];
        size_t ldin;
        const float *in = rows_input(m, a, v, l, r0, &ldin);
        const float *b = m->params + L->b_off;
        if (l < s->depth)
            k->dense_relu_fwd(T, L->in, L->out, in, ldin, L->wt, L->ldwt, b,
                              v->act[l] + v->row * a->ld_act, a->ld_act,
                              v->mask[l] + v->row * mw, mw);
        else if (s->output == SB_OUT_SIGMOID)
            k->dense_sigmoid_fwd(T, L->in, L->out, in, ldin, L->wt, L->ldwt, b,
                                 a->y + r0 * s->out, s->out);
        else
            k->dense_linear_fwd(T, L->in, L->out, in, ldin, L->wt, L->ldwt, b,
                                a->y + r0 * s->out, s->out);
    }
}

/* forward_rows over block t of rb-row blocks, its time counted as work. */
static void forward_block(const struct sb_kernels *k, const struct sb_model *m, const float *x,
                          struct sb_activations *a, size_t rb, size_t t, int encoded)
{
    const double w0 = sb_work_begin();
    const size_t r0 = t * rb, T = a->rows - r0 < rb ? a->rows - r0 : rb;
    const struct rows_at v = batch_rows(a, r0);
    forward_rows(k, m, x, a, &v, r0, T, encoded);
    sb_work_end(w0);
}

static void forward(const struct sb_kernels *k, const struct sb_model *m, size_t rows,
                    const float *x, struct sb_activations *a, int encoded)
{
    a->rows = rows;
    const size_t rb = row_block(rows), nb = n_blocks(rows, rb);
    /* Blocks go to whichever thread is free, from the last, so that the faster core of a
     * pair takes more of them (the barrier at the end waits only for the last block) and, where
     * sb_model_backward follows, the first tiles it hands out are those the threads touched
     * last. Any split gives the same bits. */
#pragma omp parallel for schedule(dynamic)
    for (size_t i = 0; i < nb; i++) forward_block(k, m, x, a, rb, nb - 1 - i, encoded);
}

/* Whether a->enc holds x's encoding already: only an input that does not change between
 * calls (`fixed`) keeps it (sb_model_forward_fixed). */
static int encoding_kept(const struct sb_activations *a, const float *x, size_t rows, int fixed)
{
    return fixed && a->enc_of == x && a->enc_rows == rows;
}

/* Records what a->enc holds once x[rows] has been encoded. */
static void encoding_done(struct sb_activations *a, const float *x, size_t rows, int fixed)
{
    a->enc_of = fixed ? x : NULL;
    a->enc_rows = rows;
}

static void forward_input(const struct sb_kernels *k, const struct sb_model *m, size_t rows,
                          const float *x, struct sb_activations *a, int fixed)
{
    forward(k, m, rows, x, a, encoding_kept(a, x, rows, fixed));
    encoding_done(a, x, rows, fixed);
}

void sb_model_forward(const struct sb_kernels *k, const struct sb_model *m, size_t rows,
                      const float *x, struct sb_activations *a)
{
    forward_input(k, m, rows, x, a, 0);
}

void sb_model_forward_fixed(const struct sb_kernels *k, const struct sb_model *m, size_t rows,
                            const float *x, struct sb_activations *a)
{
    forward_input(k, m, rows, x, a, 1);
}

/* The loss's scale for dL/dy, and its mean from the tiles' sums added in tile order: the
 * same float operations whether the tiles' sums come from sb_model_loss or from the fused
 * step (sb_model_train_step). */
static float loss_scale(size_t rows, size_t out)
{
    return (float)(2.0 / ((double)rows * (double)out));
}

static float loss_mean(const float *tile_sum, size_t nt, size_t rows, size_t out)
{
    float sum = 0.0f;
    for (size_t i = 0; i < nt; i++) sum += tile_sum[i];
    return (float)((double)sum / ((double)rows * (double)out));
}

/* Tile t's squared errors, summed, and with grad its dL/dy into a->dy. */
static float tile_loss(const struct sb_kernels *k, const struct sb_model *m, size_t rows,
                       const float *t, struct sb_activations *a, int grad, size_t i)
{
    const size_t out = m->spec.out, r0 = i * SB_TILE_ROWS, T = tile_rows(rows, i);
    return k->mse_loss_grad(T * out, a->y + r0 * out, t + r0 * out, loss_scale(rows, out),
                            grad ? a->dy + r0 * out : NULL);
}

float sb_model_loss(const struct sb_kernels *k, const struct sb_model *m, size_t rows,
                    const float *t, struct sb_activations *a, int grad)
{
    const size_t nt = n_tiles(rows);
    float partial_stack[64], *partial = nt <= 64 ? partial_stack : malloc(nt * sizeof *partial);
    if (!partial) return NAN;
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < nt; i++) {
        const double w0 = sb_work_begin();
        partial[i] = tile_loss(k, m, rows, t, a, grad, i);
        sb_work_end(w0);
    }
    /* Tiles are added in order, so the sum does not depend on the thread count. */
    const float loss = loss_mean(partial, nt, rows, m->spec.out);
    if (partial != partial_stack) free(partial);
    return loss;
}

/* dW and db of one layer over all tiles. Each work item owns a block of dW (outputs j0..j1,
 * inputs k0..k1) and walks the tiles in order, so every element is the same sum of the same
 * per-tile partials in the same order whatever the number of threads or the block sizes.
 * Blocks span all inputs (each call streams its tile's gradient once, so wider calls
 * amortise it) and 64 outputs; inputs are split further only when there are fewer blocks
 * than threads. g arrives masked (through dense_bwd_data's fused mask), so the kernel gets
 * no mask. */
#define SB_BLOCK_J 64

/* The work items of one layer's weight gradient: nj blocks of outputs by nk blocks of bk
 * inputs. */
static void weight_grad_blocks(size_t in, size_t out, size_t threads, size_t *nj_out,
                               size_t *nk_out, size_t *bk_out)
{
    const size_t nj = (out + SB_BLOCK_J - 1) / SB_BLOCK_J;
    size_t nk = nj >= threads ? 1 : (threads + nj - 1) / nj;
    size_t bk = ((in + nk - 1) / nk + 15) / 16 * 16; /* whole vector panels */
    if (bk == 0) bk = 16;
    nk = (in + bk - 1) / bk;
    if (nk == 0) nk = 1;
    *nj_out = nj;
    *nk_out = nk;
    *bk_out = bk;
}

/* The block of work item `item` of layer L's weight gradient (nk blocks of bk inputs a block
 * of outputs): its outputs j0..j0+jn and inputs k0..k0+kn. */
struct wgrad_block {
    size_t j0, jn, k0, kn;
};

static struct wgrad_block wgrad_block(const struct sb_layer *L, size_t nk, size_t bk,
                                      size_t item)
{
    const size_t j0 = item / nk * SB_BLOCK_J, k0 = item % nk * bk;
    return (struct wgrad_block){j0, L->out - j0 < SB_BLOCK_J ? L->out - j0 : SB_BLOCK_J, k0,
                                L->in - k0 < bk ? L->in - k0 : bk};
}

/* Work item `item` of layer L's weight gradient: its block of dW and, at inputs from 0, its
 * biases. */
static void weight_grad_item(const struct sb_kernels *k, const struct sb_layer *L, size_t rows,
                             const float *g, size_t ldg, const float *x, size_t ldx, float *grad,
                             size_t nk, size_t bk, size_t item)
{
    const double w0 = sb_work_begin();
    const size_t in = L->in;
    const struct wgrad_block B = wgrad_block(L, nk, bk, item);
    float *dw = grad + L->w_off, *db = grad + L->b_off;
    for (size_t j = B.j0; j < B.j0 + B.jn; j++) memset(dw + j * in + B.k0, 0, B.kn * sizeof *dw);
    if (B.k0 == 0) memset(db + B.j0, 0, B.jn * sizeof *db);
    for (size_t t = 0; t < n_tiles(rows); t++) {
        const size_t r0 = t * SB_TILE_ROWS, T = tile_rows(rows, t);
        k->dense_bwd_weights(T, B.kn, B.jn, g + r0 * ldg + B.j0, ldg, NULL, 0,
                             x + r0 * ldx + B.k0, ldx, dw + B.j0 * in + B.k0, in,
                             B.k0 == 0 ? db + B.j0 : NULL);
    }
    sb_work_end(w0);
}

/* The parameters of work item `item` of layer L (its block of W and, at inputs from 0, its
 * biases) through the update u, once the item's gradient is final, and its block of W into
 * the packed copies. */
static void update_item(const struct sb_model *m, const struct sb_layer *L,
                        const struct sb_update *u, size_t nk, size_t bk, size_t item)
{
    const double w0 = sb_work_begin();
    const size_t in = L->in;
    const struct wgrad_block B = wgrad_block(L, nk, bk, item);
    for (size_t j = B.j0; j < B.j0 + B.jn; j++) u->apply(u->ctx, L->w_off + j * in + B.k0, B.kn);
    if (B.k0 == 0) u->apply(u->ctx, L->b_off + B.j0, B.jn);
    pack_block(m, L, B.j0, B.jn, B.k0, B.kn);
    sb_work_end(w0);
}

/* dx = (g W) masked by xmask: the gradient at the ReLU outputs of the layer below, already
 * through that ReLU (the kernel fuses the mask into its store). */
static void layer_data_grad(const struct sb_kernels *k, size_t rows, size_t in, size_t out,
                            const float *g, size_t ldg, const float *w, size_t ldw,
                            const uint64_t *xmask, size_t ldxm, float *dx, size_t lddx)
{
    const size_t rb = row_block(rows);
#pragma omp parallel for schedule(static)
    for (size_t t = 0; t < n_blocks(rows, rb); t++) {
        const double w0 = sb_work_begin();
        const size_t r0 = t * rb, T = rows - r0 < rb ? rows - r0 : rb;
        k->dense_bwd_data(T, in, out, g + r0 * ldg, ldg, NULL, 0, w, ldw, xmask + r0 * ldxm, ldxm,
                          dx + r0 * lddx, lddx);
        sb_work_end(w0);
    }
}

void sb_model_backprop(const struct sb_kernels *k, const struct sb_model *m, size_t rows,
                       struct sb_activations *a, sb_layer_visit_fn *visit, void *ctx)
{
    const struct sb_model_spec *s = &m->spec;
    const size_t out = s->out, W = a->ld_act, mw = a->mask_words;
    const float *g = a->dy;
    if (s->output == SB_OUT_SIGMOID) {
        const size_t rb = row_block(rows);
#pragma omp parallel for schedule(static)
        for (size_t t = 0; t < n_blocks(rows, rb); t++) {
            const double w0 = sb_work_begin();
            const size_t r0 = t * rb, T = rows - r0 < rb ? rows - r0 : rb;
            k->sigmoid_bwd(T * out, a->y + r0 * out, a->dy + r0 * out, a->dz + r0 * out);
            sb_work_end(w0);
        }
        g = a->dz;
    }
    size_t ldg = out;
    int cur = 0;
    for (size_t l = m->n_layers; l-- > 0;) {
        const struct sb_layer *L = &m->layers[l];
        size_t ldx;
        const float *x = layer_input(m, a, l, 0, &ldx);
        /* g is the gradient at layer l's pre-activations, already masked by its ReLU */
        visit(ctx, l, g, ldg, x, ldx);
        if (l == 0) break;
        /* ... and for layer l-1: through W, then through layer l-1's ReLU in the same kernel */
        layer_data_grad(k, rows, L->in, L->out, g, ldg, L->w, L->ldw, a->mask[l - 1], mw,
                        a->dact[cur], W);
        g = a->dact[cur];
        ldg = W;
        cur ^= 1;
    }
}

/* One tile's backward pass through every layer, its weight and bias gradients added into
 * p: a partial buffer holding -0 (-0 + acc is acc exactly, sign of zero included, so p ends
 * up with the tile's partial sums bit for bit), or on one thread the gradient itself. The
 * hidden activations and masks are read, and the data gradients written, at v. */
static void tile_backward(const struct sb_kernels *k, const struct sb_model *m,
                          struct sb_activations *a, const struct rows_at *v, size_t r0, size_t T,
                          float *p)
{
    const struct sb_model_spec *s = &m->spec;
    const size_t out = s->out, W = a->ld_act, mw = a->mask_words;
    const float *g = a->dy + r0 * out;
    if (s->output == SB_OUT_SIGMOID) {
        k->sigmoid_bwd(T * out, a->y + r0 * out, a->dy + r0 * out, a->dz + r0 * out);
        g = a->dz + r0 * out;
    }
    size_t ldg = out;
    int cur = 0;
    for (size_t l = m->n_layers; l-- > 0;) {
        const struct sb_layer *L = &m->layers[l];
        size_t ldx;
        const float *x = rows_input(m, a, v, l, r0, &ldx);
        k->dense_bwd_weights(T, L->in, L->out, g, ldg, NULL, 0, x, ldx, p + L->w_off, L->in,
                             p + L->b_off);
        if (l == 0) break;
        float *dx = v->dact[cur] + v->row * W;
        k->dense_bwd_data(T, L->in, L->out, g, ldg, NULL, 0, L->w, L->ldw,
                          v->mask[l - 1] + v->row * mw, mw, dx, W);
        g = dx;
        ldg = W;
        cur ^= 1;
    }
}

/* [*c0, *c1): the calling thread's equal share of n elements, in whole 64-byte lines. */
static void thread_share(size_t n, size_t *c0, size_t *c1)
{
    sb_share(n, (size_t)omp_get_thread_num(), (size_t)omp_get_num_threads(), c0, c1);
}

/* Parameter index c moved on to the start of the next row of W where it falls inside a row. */
static size_t row_start(const struct sb_model *m, size_t c)
{
    for (size_t l = 0; l < m->n_layers; l++) {
        const struct sb_layer *L = &m->layers[l];
        if (c > L->w_off && c < L->b_off)
            return L->w_off + (c - L->w_off + L->in - 1) / L->in * L->in;
    }
    return c;
}

/* The calling thread's equal share of the parameters, its ends moved on to whole rows of W,
 * through the update, and its rows of W into the packed copies, PACK_ROWS rows at a time while
 * they are still in the core's caches: no thread packs a row that another updates, so no
 * barrier between the two. */
static void update_and_pack_share(const struct sb_model *m, const struct sb_update *u)
{
    const double w0 = sb_work_begin();
    size_t c0, c1;
    thread_share(m->n_params, &c0, &c1);
    c0 = row_start(m, c0);
    c1 = row_start(m, c1);
    for (size_t l = 0; l < m->n_layers && c1 > c0; l++) {
        const struct sb_layer *L = &m->layers[l];
        const size_t in = L->in, w1 = L->b_off, b1 = L->b_off + L->out;
        const size_t j0 = c0 > L->w_off ? (c0 - L->w_off) / in : 0;
        const size_t j1 = c1 <= L->w_off ? 0 : c1 < w1 ? (c1 - L->w_off) / in : L->out;
        for (size_t j = j0; j < j1; j += PACK_ROWS) {
            const size_t jn = j1 - j < PACK_ROWS ? j1 - j : PACK_ROWS;
            u->apply(u->ctx, L->w_off + j * in, jn * in);
            pack_block(m, L, j, jn, 0, in);
        }
        const size_t b0 = c0 > w1 ? c0 : w1, bn = c1 < b1 ? c1 : b1;
        if (bn > b0) u->apply(u->ctx, b0, bn - b0);
    }
    sb_work_end(w0);
}

/* Waits until *turn holds `want`, then returns the seconds it waited (0 without a wait). A
 * thread waits only on tiles before its own, which threads already hold and finish without
 * waiting on any later one, so the wait ends; it yields the core after a short spin, in case
 * the thread it waits on shares the core (more threads than cores). */
static double wait_turn(const size_t *turn, size_t want)
{
    if (__atomic_load_n(turn, __ATOMIC_ACQUIRE) == want) return 0.0;
    const double t0 = sb_now();
    for (unsigned spins = 0; __atomic_load_n(turn, __ATOMIC_ACQUIRE) != want; spins++) {
        if (spins < 4096)
            sb_spin_pause();
        else
            sched_yield();
    }
    return sb_now() - t0;
}

/* Adds tile t's partial p into grad[P] chunk by chunk, each chunk once the tile before t has
 * been added to it, and puts p back to -0 as it reads it. Returns the seconds it waited. */
static double add_partial(float *grad, float *p, size_t P, size_t *added, size_t t)
{
    double waited = 0.0;
    for (size_t c = 0; c < reduce_chunks(P); c++) {
        waited += wait_turn(&added[c * TURN_STRIDE], t);
        const size_t i1 = (c + 1) * REDUCE_CHUNK < P ? (c + 1) * REDUCE_CHUNK : P;
        for (size_t i = c * REDUCE_CHUNK; i < i1; i++) {
            grad[i] = grad[i] + p[i];
            p[i] = -0.0f;
        }
        __atomic_store_n(&added[c * TURN_STRIDE], t + 1, __ATOMIC_RELEASE);
    }
    return waited;
}

/* What the fused step (sb_model_train_step) does to each tile before its backward pass:
 * the tile's forward pass and its loss, so that the tile's activations are still in the
 * core's caches when its backward pass reads them. */
struct tile_forward {
    const float *x, *t;
    int encoded;     /* a->enc holds x's encoding already */
    float *tile_sum; /* [tiles]: each tile's squared errors */
    float loss;      /* out: their mean, as sb_model_loss */
};

/* The tile path. Each thread takes the next tile in order that no thread has taken, through
 * every layer, its weight gradient into one of the thread's own partial buffers (holding -0),
 * then adds that partial into grad chunk by chunk (add_partial), each chunk once the tile
 * before has been added to it, puts the partial back to -0 as it reads it, and takes the next
 * tile. So grad gets every tile's sum in tile order, element by element, as on one thread, and
 * a faster core simply takes more tiles: no barrier between tiles, and the step waits only for
 * the last tile (a barrier after each group of `threads` tiles had the faster vCPU of the
 * Zen 5 VM idle for the slower's 13 %). Where the tile before is still being computed by a
 * slower thread, the thread keeps its finished tile and takes the next into its other buffer
 * instead of waiting; it waits only with every buffer held, or for its last tiles.
 * Deadlock-free: a thread waits only on earlier tiles, and the earliest tile not yet added is
 * held by a thread that adds it, with no wait, at the latest after the tile it is computing.
 * On one thread each tile adds straight into grad: the kernel adds its one chunk's sum,
 * dw = dw + acc, the very addition a reduction would make from a partial holding
 * -0 + acc = acc (a tile is one kernel chunk: SB_TILE_ROWS <= SB_WGRAD_ROWS).
 * With f, each tile is first taken forward and through the loss by the same thread, and the
 * update waits for the loss: a step whose loss is not finite updates nothing. */
static void backward_by_tiles(const struct sb_kernels *k, struct sb_model *m, size_t rows,
                              struct sb_activations *a, float *grad, const struct sb_update *u,
                              struct tile_forward *f)
{
    const size_t nt = n_tiles(rows), P = m->n_params, nc = reduce_chunks(P);
    size_t *const next = a->turns, *const added = a->turns + TURN_STRIDE;
    memset(grad, 0, P * sizeof *grad);
    *next = 0;
    for (size_t c = 0; c < nc; c++) added[c * TURN_STRIDE] = 0;
#pragma omp parallel
    {
        const size_t me = (size_t)omp_get_thread_num();
        const int alone = omp_get_num_threads() == 1;
        float *const bufs = alone ? NULL : a->partials + me * PARTIALS_PER_THREAD * a->partial_len;
        /* the thread's finished tiles not yet added, oldest first, and their buffers */
        size_t held[PARTIALS_PER_THREAD], held_buf[PARTIALS_PER_THREAD], n_held = 0;
        for (int no_tiles_left = 0;;) {
            /* Add the oldest held tile once the tile before it has reached the first chunk
             * (the rest follow behind that tile's adder), when every buffer is held, or, with
             * no tile left to take, each in turn. */
            while (n_held && (no_tiles_left || n_held == PARTIALS_PER_THREAD ||
                              __atomic_load_n(&added[0], __ATOMIC_ACQUIRE) == held[0])) {
                const double w0 = sb_work_begin();
                const double waited = add_partial(grad, bufs + held_buf[0] * a->partial_len, P,
                                                  added, held[0]);
                sb_work_end(w0 + waited);
                n_held--;
                for (size_t i = 0; i < n_held; i++) {
                    held[i] = held[i + 1];
                    held_buf[i] = held_buf[i + 1];
                }
            }
            if (no_tiles_left) break;
            const size_t t = __atomic_fetch_add(next, 1, __ATOMIC_RELAXED);
            if (t >= nt) {
                no_tiles_left = 1;
                continue;
            }
            const double w0 = sb_work_begin();
            const size_t r0 = t * SB_TILE_ROWS, T = tile_rows(rows, t);
            /* the fused step keeps the tile in the thread's scratch, which stays in its caches */
            const struct sb_tile_scratch *sc = &a->scratch[me];
            const struct rows_at v =
                f ? (struct rows_at){sc->act, sc->mask, sc->dact, 0} : batch_rows(a, r0);
            if (f) {
                forward_rows(k, m, f->x, a, &v, r0, T, f->encoded);
                f->tile_sum[t] = tile_loss(k, m, rows, f->t, a, 1, t);
            }
            unsigned in_use = 0;
            for (size_t i = 0; i < n_held; i++) in_use |= 1u << held_buf[i];
            const size_t b = (size_t)__builtin_ctz(~in_use); /* a buffer no held tile uses */
            tile_backward(k, m, a, &v, r0, T, alone ? grad : bufs + b * a->partial_len);
            sb_work_end(w0);
            if (!alone) {
                held[n_held] = t;
                held_buf[n_held++] = b;
            }
        }
        int update = u != NULL;
        if (f || update) {
#pragma omp barrier
        }
        if (f) {
            /* every thread the same sum of the same tiles' sums: the same loss, no second
             * barrier for one thread to hand it out */
            const float loss = loss_mean(f->tile_sum, nt, rows, m->spec.out);
            if (me == 0) f->loss = loss;
            update = update && isfinite(loss);
        }
        if (update) update_and_pack_share(m, u);
    }
}

/* Fewer tiles than threads (a small batch): one parallel region in two phases. First each
 * thread takes its row blocks down through every layer's data gradient, which has no
 * reduction across rows and so needs no barrier between layers, keeping every hidden layer's
 * gradient in a->dg. Then the weight-gradient items of all layers, from the top, are handed
 * out home first (sb_item_take; each item walks the tiles in order, so the bits do not depend
 * on who takes it): a thread takes its own items of a layer, then any the other threads have
 * not reached, and starts on the next layer instead of waiting at a barrier. A thread that
 * has taken its last item then takes each of its items' blocks through the update and into
 * the weight copies (update_item), with no barrier: nothing in the weight-gradient phase reads
 * the parameters or their copies. Home first, so that step after step the same core writes
 * the same block's gradient, parameters and optimiser state: handed to whichever thread was
 * free, the blocks moved between the cores from one step to the next, and on the Zen 5 VM,
 * where a line the other vCPU wrote is slow to reach, rahaman1d's steps on 2 threads took
 * about 4 % longer (design.md). */
static void backward_by_layers(const struct sb_kernels *k, struct sb_model *m, size_t rows,
                               struct sb_activations *a, float *grad, const struct sb_update *u)
{
    const struct sb_model_spec *s = &m->spec;
    const size_t out = s->out, W = a->ld_act, mw = a->mask_words, nl = m->n_layers;
    const size_t rb = row_block(rows), nb = n_blocks(rows, rb);
    const size_t threads = (size_t)omp_get_max_threads(), layer_stride = a->dg_rows * W;
    const float *top = s->output == SB_OUT_SIGMOID ? a->dz : a->dy;
    size_t *const taken = a->items_taken;
    const size_t stride = a->item_stride;
    size_t items = 0; /* of the weight gradients of every layer */
    for (size_t l = 0; l < nl; l++) {
        size_t nj, nk, bk;
        weight_grad_blocks(m->layers[l].in, m->layers[l].out, threads, &nj, &nk, &bk);
        items += nj * nk;
    }
#pragma omp parallel
    {
        /* the weight-gradient items this thread took, updated once it has taken the last */
        struct item_ref {
            uint32_t l, item;
        } mine[items];
        size_t n_mine = 0;
        const size_t team = (size_t)omp_get_num_threads(), me = (size_t)omp_get_thread_num();
        /* each thread zeroes its own counters, in its own core's cache; the barrier of the
         * data-gradient loop below orders this before any take */
        memset(taken + me * stride, 0, stride * sizeof *taken);
#pragma omp for schedule(static)
        for (size_t b = 0; b < nb; b++) {
            const double w0 = sb_work_begin();
            const size_t r0 = b * rb, T = rows - r0 < rb ? rows - r0 : rb;
            if (s->output == SB_OUT_SIGMOID)
                k->sigmoid_bwd(T * out, a->y + r0 * out, a->dy + r0 * out, a->dz + r0 * out);
            const float *g = top + r0 * out;
            size_t ldg = out;
            for (size_t l = nl - 1; l > 0; l--) {
                const struct sb_layer *L = &m->layers[l];
                float *dx = a->dg + (l - 1) * layer_stride + r0 * W;
                k->dense_bwd_data(T, L->in, L->out, g, ldg, NULL, 0, L->w, L->ldw,
                                  a->mask[l - 1] + r0 * mw, mw, dx, W);
                g = dx;
                ldg = W;
            }
            sb_work_end(w0);
        }
        /* the implicit barrier above: every layer's gradient is complete */
        for (size_t l = nl; l-- > 0;) {
            const struct sb_layer *L = &m->layers[l];
            const float *g = l + 1 == nl ? top : a->dg + l * layer_stride;
            const size_t ldg = l + 1 == nl ? out : W;
            size_t ldx, nj, nk, bk;
            const float *x = layer_input(m, a, l, 0, &ldx);
            weight_grad_blocks(L->in, L->out, threads, &nj, &nk, &bk);
            size_t item;
            while (sb_item_take(taken + l, stride, team, me, nj * nk, &item)) {
                weight_grad_item(k, L, rows, g, ldg, x, ldx, grad, nk, bk, item);
                if (u) mine[n_mine++] = (struct item_ref){l, item};
            }
        }
        for (size_t i = 0; i < n_mine; i++) {
            const struct sb_layer *L = &m->layers[mine[i].l];
            size_t nj, nk, bk;
            weight_grad_blocks(L->in, L->out, threads, &nj, &nk, &bk);
            update_item(m, L, u, nk, bk, mine[i].item);
        }
    }
}

/* The tile path needs a tile for every thread, and a partial buffer for every thread unless
 * there is only one (sb_activations_alloc gives a pool of one none). */
static int takes_tile_path(const struct sb_activations *a, size_t rows)
{
    const size_t threads = (size_t)omp_get_max_threads();
    return n_tiles(rows) >= threads && (threads == 1 || threads <= a->n_partials);
}

int sb_model_backward(const struct sb_kernels *k, struct sb_model *m, size_t rows,
                      struct sb_activations *a, float *grad, const struct sb_update *u)
{
    if (takes_tile_path(a, rows)) {
        backward_by_tiles(k, m, rows, a, grad, u, NULL);
        return 0;
    }
    if (a->dg_rows < rows) {
        free(a->dg);
        a->dg_rows = 0;
        if (!(a->dg = sb_floats_alloc(m->spec.depth * rows * a->ld_act))) return -1;
        a->dg_rows = rows;
    }
    const size_t threads = (size_t)omp_get_max_threads();
    const size_t stride = (m->n_layers + TURN_STRIDE - 1) / TURN_STRIDE * TURN_STRIDE;
    if (a->items_taken_cap < threads * stride) {
        free(a->items_taken);
        a->items_taken_cap = 0;
        if (!(a->items_taken = aligned_alloc(64, threads * stride * sizeof *a->items_taken)))
            return -1;
        a->items_taken_cap = threads * stride;
    }
    a->item_stride = stride;
    /* every dW block and db is zeroed by the work item that owns it (weight_grad_item) */
    backward_by_layers(k, m, rows, a, grad, u);
    return 0;
}

int sb_model_train_step(const struct sb_kernels *k, struct sb_model *m, size_t rows,
                        const float *x, int fixed, const float *t, struct sb_activations *a,
                        float *grad, const struct sb_update *u, float *loss)
{
    if (takes_tile_path(a, rows)) {
        struct tile_forward f = {x, t, encoding_kept(a, x, rows, fixed), a->tile_sum, NAN};
        a->rows = rows;
        backward_by_tiles(k, m, rows, a, grad, u, &f);
        a->fused_steps++;
        encoding_done(a, x, rows, fixed);
        *loss = f.loss;
        return 0;
    }
    forward_input(k, m, rows, x, a, fixed);
    *loss = sb_model_loss(k, m, rows, t, a, 1);
    if (!isfinite(*loss)) return 0;
    return sb_model_backward(k, m, rows, a, grad, u);
}

static size_t min_size(size_t a, size_t b) { return a < b ? a : b; }

struct sb_split sb_model_split(const struct sb_model_spec *s, size_t features, size_t rows,
                               size_t threads)
{
    struct sb_split sp = {0};
    if (threads == 0) threads = 1;
    sp.threads = threads;
    sp.tiles = n_tiles(rows);
    sp.row_blocks = n_blocks(rows, row_block_for(rows, threads));
    /* sb_model_backward's and sb_model_train_step's choice, given partial buffers for every
     * thread (for the pool's threads when the activations were allocated; none for a pool of
     * one) */
    sp.backward_by_tiles = sp.tiles >= threads;
    /* The heavy phases: the forward pass and the data gradient over row blocks; the weight
     * gradient over tiles, or over the widest layer's items on the layer path. */
    size_t fewest = sp.row_blocks;
    if (sp.backward_by_tiles) {
        sp.tiles_per_thread = (sp.tiles + threads - 1) / threads;
    } else {
        for (size_t l = 0; l <= s->depth; l++) {
            const size_t in = l == 0 ? features : s->width, out = l < s->depth ? s->width : s->out;
            size_t nj, nk, bk;
            weight_grad_blocks(in, out, threads, &nj, &nk, &bk);
            if (nj * nk > sp.weight_grad_items) sp.weight_grad_items = nj * nk;
        }
        fewest = min_size(fewest, sp.weight_grad_items);
    }
    sp.threads_with_work = min_size(threads, fewest);
    return sp;
}

struct sb_cost sb_model_step_cost(const struct sb_model *m, size_t rows, int encodes)
{
    const struct sb_model_spec *s = &m->spec;
    struct sb_cost total = {0, 0};
#define ADD(id, r, i, o)                                                                       \
    do {                                                                                       \
        struct sb_cost c_ = sb_kernel_cost(id, (struct sb_shape){(r), (i), (o)});             \
        total.flops += c_.flops;                                                               \
        total.bytes += c_.bytes;                                                               \
    } while (0)
    for (size_t t = 0; t < n_tiles(rows); t++) {
        const size_t T = tile_rows(rows, t);
        if (!encodes)
            ; /* encoded once, before the steps */
        else if (m->enc.kind == SB_ENC_POSENC)
            ADD(SB_K_posenc_fwd, T, s->d, (size_t)(m->enc.l1 - m->enc.l0 + 1) * s->d);
        else if (m->enc.kind == SB_ENC_FOURIER)
            ADD(SB_K_fourier_fwd, T, s->d, m->enc.m);
        for (size_t l = 0; l < m->n_layers; l++) {
            const struct sb_layer *L = &m->layers[l];
            ADD(l < s->depth ? SB_K_dense_relu_fwd
                             : s->output == SB_OUT_SIGMOID ? SB_K_dense_sigmoid_fwd
                                                           : SB_K_dense_linear_fwd,
                T, L->in, L->out);
            if (l > 0) ADD(SB_K_dense_bwd_data, T, L->in, L->out);
        }
        ADD(SB_K_mse_loss_grad, T * s->out, 0, 0);
        if (s->output == SB_OUT_SIGMOID) ADD(SB_K_sigmoid_bwd, T * s->out, 0, 0);
    }
    /* Weight gradients are called per (block, tile); their cost is additive in the block
     * sizes, so the whole layer's cost per tile is the same. */
    for (size_t t = 0; t < n_tiles(rows); t++)
        for (size_t l = 0; l < m->n_layers; l++)
            ADD(SB_K_dense_bwd_weights, tile_rows(rows, t), m->layers[l].in, m->layers[l].out);
    ADD(SB_K_adam_update, m->n_params, 0, 0);
#undef ADD
    return total;
}
