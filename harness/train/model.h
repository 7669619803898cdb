/* The coordinate MLP of the spectral-bias papers: an input encoding, `depth` hidden ReLU
 * layers of `width` units, and a linear or sigmoid output layer (docs/experiments.md,
 * Model and training).
 *
 * Parameters live in one flat array, layer after layer, each as W[out][in] (PyTorch's
 * nn.Linear layout) followed by b[out], so the optimiser and the trajectory hash see one
 * buffer. The forward kernels read W transposed; `wt` holds that copy, and `w` a copy of W
 * for the data gradient, both at a leading dimension padded off multiples of 256 bytes (a
 * 128-float row is 512 bytes: a kernel walking a column panel would hit only 8 of the 64 L1
 * sets), refreshed after every update (sb_model_pack, or sb_model_backward with its update).
 */
#ifndef SPECBIAS_HARNESS_MODEL_H
#define SPECBIAS_HARNESS_MODEL_H

#include "specbias/kernels.h"

#include <stddef.h>
#include <stdint.h>

enum sb_encoding_kind {
    SB_ENC_NONE,    /* the raw coordinates */
    SB_ENC_POSENC,  /* NeRF: sin/cos(2^l pi x), l = l0..l1, per coordinate (posenc_fwd) */
    SB_ENC_FOURIER  /* sin/cos(2 pi B x) for a matrix B (fourier_fwd): basic, Tancik
                       positional and Gaussian features are all this */
};

struct sb_encoding {
    enum sb_encoding_kind kind;
    int l0, l1;     /* SB_ENC_POSENC */
    size_t m;       /* SB_ENC_FOURIER: rows of B */
    float *B;       /* SB_ENC_FOURIER: B[m][d], owned */
};

enum sb_output { SB_OUT_LINEAR, SB_OUT_SIGMOID };

struct sb_model_spec {
    size_t d;       /* input coordinates */
    size_t depth;   /* hidden ReLU layers */
    size_t width;
    size_t out;     /* output channels */
    enum sb_output output;
};

struct sb_layer {
    size_t in, out;
    size_t w_off, b_off; /* offsets into params[] */
    float *wt;           /* Wt[in][ldwt] */
    float *w;            /* W[out][ldw] */
    size_t ldwt, ldw;
};

struct sb_model {
    struct sb_model_spec spec;
    struct sb_encoding enc; /* owned */
    size_t features;        /* width of the encoded input */
    size_t n_layers;        /* depth + 1 */
    struct sb_layer *layers;
    size_t n_params;
    float *params;
};

/* Features produced by an encoding of d coordinates. */
size_t sb_encoding_features(const struct sb_encoding *enc, size_t d);

/* Weights and biases of a model with `features` encoded inputs (the size of params[]). */
size_t sb_model_param_count(const struct sb_model_spec *spec, size_t features);

/* Builds the model and initialises it like torch.nn.Linear's default: weights and biases
 * uniform in [-1/sqrt(fan_in), 1/sqrt(fan_in)), drawn layer by layer (all of W row by row,
 * then b) from the generator (seed, SB_STREAM_INIT). Takes ownership of enc->B. Returns 0,
 * or -1 on allocation failure. */
int sb_model_init(struct sb_model *m, const struct sb_model_spec *spec, struct sb_encoding *enc,
                  uint64_t seed);
void sb_model_pack(struct sb_model *m); /* refresh every layer's wt and w from params */
void sb_model_free(struct sb_model *m);

/* One thread's tile scratch for the fused step (sb_model_train_step). */
struct sb_tile_scratch {
    float **act;     /* [depth]: [SB_TILE_ROWS][ld_act] */
    uint64_t **mask; /* [depth]: [SB_TILE_ROWS][mask_words] */
    float *dact[2];  /* [SB_TILE_ROWS][ld_act] */
    size_t depth;    /* entries of act and mask */
};

/* Activations of a batch of `rows` inputs, kept for the backward pass and the analyses (after
 * a fused training step on the tile path, act, mask and dact are unspecified: the step keeps
 * them in a->scratch). */
struct sb_activations {
    size_t rows, cap, depth;
    float *enc;          /* [rows][features] (x itself when the encoding is none) */
    float **act;         /* act[l], l < depth: [rows][ld_act], post-ReLU */
    size_t ld_act;       /* width padded off multiples of 256 bytes (see sb_layer) */
    uint64_t **mask;     /* mask[l]: [rows][mask_words] */
    size_t mask_words;
    float *y;            /* [rows][out] */
    /* backward scratch */
    float *dy;           /* [rows][out]: dL/d(output) */
    float *dz;           /* [rows][out]: dL/d(pre-sigmoid), sigmoid output only */
    float *dact[2];      /* [rows][ld_act or features] */
    /* The small-batch path's gradient at every hidden layer's pre-activations,
     * [depth][dg_rows][ld_act], kept until the weight gradients have read them
     * (sb_model_backward); allocated at the first backward pass that takes that path, for its
     * rows (the batch, not the evaluation's cap). */
    float *dg;
    size_t dg_rows;
    /* the small-batch path's weight-gradient items taken so far, per home thread and layer
     * (sb_item_take), [threads][item_stride], item_stride a whole number of 64-byte lines */
    size_t *items_taken;
    size_t items_taken_cap, item_stride;
    /* per-tile weight gradients of the tile-parallel backward pass (sb_model_backward): two
     * buffers per thread of the pool */
    float *partials;     /* [n_partials][2][partial_len], -0 between backward passes */
    size_t n_partials, partial_len;
    /* the tile path's next tile, then per chunk of grad the tiles added to it so far, each in
     * a 64-byte line of its own (backward_by_tiles) */
    size_t *turns;
    /* The fused step's tile scratch (sb_model_train_step), one per thread of the pool: a
     * tile's hidden activations and masks ([depth][SB_TILE_ROWS][ld_act], [depth]
     * [SB_TILE_ROWS][mask_words]) and its two data-gradient buffers, written again by every
     * tile the thread takes, so that they stay in its core's caches (in L2 where they fit:
     * 0.9 MB a thread for lazzari1d, 1.4 MB for tancik2d). */
    struct sb_tile_scratch *scratch;
    size_t n_scratch;
    /* each tile's squared errors in the fused step (sb_model_train_step), [tiles of cap] */
    float *tile_sum;
    size_t fused_steps; /* steps sb_model_train_step took on the fused tile path (for tests) */
    /* The input whose encoding enc holds, for sb_model_forward_fixed; NULL after any other
     * forward pass. */
    const float *enc_of;
    size_t enc_rows;
};

int sb_activations_alloc(struct sb_activations *a, const struct sb_model *m, size_t rows);
void sb_activations_free(struct sb_activations *a);

/* The leading dimension of the trainer's copies of W and Wt and of its activations, for rows
 * of n floats: rows of 16 floats or more get a whole 64-byte line of padding when their length
 * is a multiple of 4 lines, so that a column panel spreads over the L1 sets. */
size_t sb_padded_ld(size_t n);

/* [*c0, *c1): part `part` of `parts` equal shares of n elements, in whole 64-byte lines (the
 * last share may be shorter or empty). sb_floats_alloc places memory so; the tile path's
 * update gives each thread its share of the parameters so, its ends moved on to whole rows of
 * W (the small-batch path updates each weight-gradient item's block on the thread that took
 * the item). */
void sb_share(size_t n, size_t part, size_t parts, size_t *c0, size_t *c1);

/* Work items handed out home first: n items in `team` contiguous home ranges, range h
 * [h n / team, (h + 1) n / team), with taken[h * stride] the items taken from range h so far
 * (all 0 at the start; one counter per home, so a thread's own claims stay in its own cache
 * line). Thread `me` takes the next item of its own range and, once that is empty, of the
 * ranges after it (me + 1, me + 2, ... round the team): each item goes to exactly one caller,
 * a thread that arrives early or runs faster takes the items its neighbours have not reached,
 * and otherwise the same thread takes the same items at every step. Returns 0 when every
 * range is empty. */
int sb_item_take(size_t *taken, size_t stride, size_t team, size_t me, size_t n, size_t *item);

/* n zeroed floats, 64-byte aligned (free with free), each sb_share of the pool's threads first
 * written by its thread: on a NUMA machine a training whose threads span nodes gets each share
 * on its thread's node (the parameters, gradient and optimiser state where the tile path's
 * update reads them, an even spread of the activations' rows), not all on the allocating
 * thread's node.
 * First touch places only pages new to the process (large allocations, which glibc maps
 * afresh; memory reused from the heap stays where it was), by the page (2 MB with transparent
 * huge pages). Called inside a parallel region, the calling thread zeroes it all. NULL when out
 * of memory. */
float *sb_floats_alloc(size_t n);

/* Rows are processed in fixed tiles of SB_TILE_ROWS: the weight-gradient sums are tiled the
 * same way whatever the number of threads, so results never depend on it. */
#define SB_TILE_ROWS 256

/* Forward pass over x[rows][d] (rows <= a->cap), through the kernel table. */
void sb_model_forward(const struct sb_kernels *k, const struct sb_model *m, size_t rows,
                      const float *x, struct sb_activations *a);
/* The same pass over an input that does not change between calls (a full batch of the
 * training set): its encoding is computed at the first call and kept in a->enc until a pass
 * over another input overwrites it, as the papers' code encodes its inputs once before
 * training and the peers train on encoded inputs (enc.f32). The same bits as
 * sb_model_forward; x must not be modified while a->enc_of is x. */
void sb_model_forward_fixed(const struct sb_kernels *k, const struct sb_model *m, size_t rows,
                            const float *x, struct sb_activations *a);

/* MSE of a->y against t[rows][out] as a mean over rows * out, in float, summed over tiles
 * in order. With grad, a->dy receives dL/dy for the mean over `total` = rows * out. */
float sb_model_loss(const struct sb_kernels *k, const struct sb_model *m, size_t rows,
                    const float *t, struct sb_activations *a, int grad);

/* The optimiser's step for the parameters params[off, off + n), called once grad[off, off + n)
 * is final: an update element by element, so that any split of the parameters gives the same
 * bits. Called from several threads at once, on disjoint ranges. */
struct sb_update {
    void (*apply)(void *ctx, size_t off, size_t n);
    void *ctx;
};

/* Backward pass after sb_model_forward and sb_model_loss(grad = 1): overwrites grad[n_params]
 * with dL/dparams and, with an update u, applies it to m->params and refreshes the packed
 * copies of W (as sb_model_pack), in the same parallel region: on the tile path each thread an
 * equal share of whole rows after the last barrier, on the small-batch path each thread the
 * blocks of its own weight-gradient items once it has taken its last. With at least as many
 * tiles as threads, each free thread takes the next tile through every layer (its data
 * gradients stay in its L2), writing that tile's weight gradient into one of its own two
 * partial buffers, which it then adds into grad behind the tile before, so that grad gets the
 * tiles in tile order (a tile that cannot be added yet is kept while the thread takes the
 * next one into its other buffer). Otherwise (small
 * batches) the threads first take the data gradients of every layer down their own rows, then
 * share out the weight-gradient blocks of every layer (units, then inputs). Both give every
 * element the same sum in the same order, so the bits do not depend on the thread count or
 * the path.
 * Returns 0, or -1 when the small-batch path's buffer (a->dg) cannot be allocated, before
 * anything is computed. */
int sb_model_backward(const struct sb_kernels *k, struct sb_model *m, size_t rows,
                      struct sb_activations *a, float *grad, const struct sb_update *u);

/* One training step over x[rows] (rows <= a->cap): sb_model_forward (sb_model_forward_fixed
 * with `fixed`), *loss = sb_model_loss(grad = 1) against t, then, when the loss is finite,
 * sb_model_backward with the update u. When the loss is finite, every output is the same bits
 * as those three calls' (a->y, a->dy, a->enc, grad, the parameters and their packed copies,
 * and on the small-batch path a->act and a->mask); when it is not, nothing is updated and grad
 * is unspecified. On the tile path (at least as many tiles as threads, and partial buffers for
 * every thread or one thread) the three are fused: the thread that takes a tile takes it
 * forward, through the loss and backward, with no barrier between the passes, its hidden
 * activations, masks and data gradients in the thread's scratch (a->scratch), where the next
 * tile writes them again, so that they stay in the core's L2 (a tancik2d batch's are about
 * 490 MB); a->act, a->mask and a->dact are then unspecified. The update waits for the loss.
 * Returns as sb_model_backward. */
int sb_model_train_step(const struct sb_kernels *k, struct sb_model *m, size_t rows,
                        const float *x, int fixed, const float *t, struct sb_activations *a,
                        float *grad, const struct sb_update *u, float *loss);

/* Walks the layers from the output down after sb_model_forward with a->dy holding dL/dy,
 * calling visit(ctx, l, ...) for each layer l with the gradient at its pre-activations
 * g[rows][ldg] (already through its ReLU: dense_bwd_data masks its output with the layer
 * below's activations) and its input x[rows][ldx]; the layer's weight gradient is the sum
 * over rows of g x. The gradient-confusion analysis walks the layers with it. */
typedef void sb_layer_visit_fn(void *ctx, size_t l, const float *g, size_t ldg, const float *x,
                               size_t ldx);
void sb_model_backprop(const struct sb_kernels *k, const struct sb_model *m, size_t rows,
                       struct sb_activations *a, sb_layer_visit_fn *visit, void *ctx);

/* FLOPs and bytes of one training step (forward, loss, backward, update) over `rows` rows,
 * summed from the kernels' declared costs for the calls the step makes; the encoding's only
 * where the step `encodes` (a minibatch: a full batch is encoded once, sb_model_forward_fixed). */
struct sb_cost sb_model_step_cost(const struct sb_model *m, size_t rows, int encodes);

/* How a step over `rows` rows is shared among `threads` threads (results.json's
 * "parallel_split"): the fixed tiles, the path the backward pass takes, and how many threads
 * get any work in each phase. An experiment whose batch has fewer work items than threads
 * cannot use them all, whatever the machine. */
struct sb_split {
    size_t threads, tiles;
    int backward_by_tiles;     /* 1: tiles to whichever thread is free (sb_model_backward);
                                  0: layer by layer */
    size_t tiles_per_thread;   /* tile path: an even share, ceil(tiles / threads) */
    size_t row_blocks;         /* blocks of the forward pass and the data gradient */
    size_t weight_grad_items;  /* layer path: work items of the widest layer's weight gradient */
    size_t threads_with_work;  /* threads the phase with the fewest work items keeps busy */
};
struct sb_split sb_model_split(const struct sb_model_spec *s, size_t features, size_t rows,
                               size_t threads);

/* Thread time spent working inside the step's parallel regions (kernel calls, the partials'
 * reduction, the optimiser's update), per OpenMP thread. Against threads x the step's wall
 * time it gives the share of the step the threads spent serial or waiting (barriers, fork
 * and join, a thread with no tile), which no kernel timing shows. A clock read costs tens of
 * nanoseconds and happens once per work item, so it does not move the step time. */
void sb_work_reset(void);
double sb_work_seconds(void); /* summed over the threads since sb_work_reset */
double sb_work_begin(void);
void sb_work_end(double begin); /* adds now - begin to the calling thread's time */

#endif
