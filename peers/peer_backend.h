/* What a library backend gives peers/peer_main.c, and what peer_main.c gives it back.
 *
 * peer_main.c is the whole peer but the library calls: the command line, the dump loading,
 * the training loop (the plain C loops for sigmoid, MSE, ReLU backward mask and Adam) and the
 * --gemm timing harness. A backend (peer_openblas.c, peer_dnnl.c, peer_xsmm.c) is linked
 * with it into one binary (specbias-peer-NAME) and supplies the layer products in its
 * library's terms, so every peer trains and times exactly the same way and only the library
 * differs. */
#ifndef SPECBIAS_PEER_BACKEND_H
#define SPECBIAS_PEER_BACKEND_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* The operands of one dense layer for --gemm, in the trainer's row-major layouts:
 * x [rows][in], w [out][in], b [out], y [rows][out], g [rows][out] (gradient of y),
 * dx [rows][in], dw [out][in], mask [rows][mask_words] (bit j % 64 of word j / 64: y > 0). */
struct peer_gemm {
    int rows, in, out;
    float *x, *w, *b, *y, *g, *dx, *dw;
    uint64_t *mask;
    size_t mask_words;
};

/* What an op computes, so that the harness can check its result the same way for every
 * backend: the output it writes, in the layouts above. */
enum peer_op_kind {
    PEER_FWD,           /* y = x w^T */
    PEER_FWD_BIAS_RELU, /* y = max(x w^T + b, 0), and mask */
    PEER_BWD_DATA,      /* dx = g w */
    PEER_BWD_WEIGHTS,   /* dw = g^T x, or dw += g^T x where `accumulates` */
};

struct peer_op {
    const char *name; /* the JSON's "op" */
    enum peer_op_kind kind;
    int accumulates; /* 1: adds into dw (beta = 1), 0: overwrites it */
    void (*fn)(const struct peer_gemm *);
    /* For an op whose output is in a layout of the library's own: puts the first call's result
     * into the layouts above, untimed, for the check; NULL otherwise. */
    void (*finish)(const struct peer_gemm *);
};

/* Trainer mode: the products of one dense layer, in the trainer's row-major layouts.
 * forward: y[B][out] = x[B][in] w^T + b, then ReLU where relu (hidden layers).
 * backward_weights: dw[out][in] = g^T x (overwritten), db[out] = column sums of g.
 * backward_data: dx[B][in] = g w.
 * info: fields the trainer's JSON line adds after "batch" (a new reference), or NULL. */
struct peer_train_mode {
    void (*forward)(size_t B, size_t in, size_t out, const float *x, const float *w, const float *b,
                    float *y, int relu);
    void (*backward_weights)(size_t B, size_t in, size_t out, const float *g, const float *x,
                             float *dw, float *db);
    void (*backward_data)(size_t B, size_t in, size_t out, const float *g, const float *w,
                          float *dx);
    json_t *(*info)(void);
};

/* --gemm: the ops, timed in this order. prepare (may be NULL) is called once with the
 * operands before the first op: a backend sets up what it needs per shape there, so the timed
 * calls do not pay for it. info: fields an op's JSON line adds after "version" (a new
 * reference), or NULL. */
struct peer_gemm_mode {
    const struct peer_op *ops;
    size_t n_ops;
    void (*prepare)(const struct peer_gemm *g);
    json_t *(*info)(const struct peer_op *op, const struct peer_gemm *g);
};

struct peer_backend {
    const char *name; /* "openblas": the JSON's "peer", the binary's name after specbias-peer- */
    /* Library threads for what follows (the plain C loops always run on one thread). */
    void (*set_threads)(int threads);
    /* The library's version and build, for the JSON's "version". */
    const char *(*version)(void);
    /* NULL for a backend that only times GEMMs (then DUMP_DIR exits 2). */
    const struct peer_train_mode *train;
    const struct peer_gemm_mode *gemm;
    /* Frees what the backend made (may be NULL), so LeakSanitizer sees a clean exit. */
    void (*cleanup)(void);
};

extern const struct peer_backend peer_backend;

/* From peer_main.c. */
__attribute__((format(printf, 2, 3), noreturn)) void peer_die(int code, const char *fmt, ...);
void *peer_calloc(size_t count, size_t size);
/* The activation bits of one row of y (after ReLU): bit j % 64 of m[j / 64] is y[j] > 0. */
void peer_row_mask(const float *y, size_t out, uint64_t *m);

#endif
