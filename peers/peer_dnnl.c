/* specbias-peer-dnnl: the oneDNN backend of peers/peer_main.c.
 *
 * Each layer is oneDNN inner products, as a oneDNN user writes a dense layer: forward with the
 * bias (and, on hidden layers, ReLU as an eltwise post-op), backward data, and backward
 * weights with the bias gradient; the rest of the step is peer_main.c's plain loops, as for
 * OpenBLAS. Every tensor is plain row-major (tag ab, the trainer's layouts), so no reorder runs
 * inside the timed calls. A primitive is created once per pass and shape and kept (creating one
 * costs far more than running a small one); its memory objects are re-pointed at each call's
 * buffers. Threads: oneDNN's OpenMP runtime, omp_set_num_threads.
 *
 * --gemm ops (gflops = 2 rows in out / seconds for each):
 *   ip_fwd            Y[rows][out] = X[rows][in] W[out][in]^T (no bias)
 *   ip_fwd_bias_relu  the same with the bias and ReLU fused by oneDNN (post-op), then the same
 *                     mask-bits pass as sgemm_fwd_bias_relu's
 *   ip_bwd_data       dX[rows][in] = G[rows][out] W[out][in]
 *   ip_bwd_weights    dW[out][in] = G^T X and the bias gradient; oneDNN overwrites dW (no
 *                     beta), where dense_bwd_weights and sgemm_bwd_weights add into it
 *   ip_fwd_bias_relu_any, ip_bwd_data_any, ip_bwd_weights_any
 *                     the same with W (dW) in the layout oneDNN prefers (format_tag_any),
 *                     reordered before timing, as a oneDNN user who keeps the weights in that
 *                     layout has them: oneDNN at its best; dW is reordered back, untimed, only
 *                     for the first call's check
 * Each op's JSON adds "impl" (the implementation oneDNN chose, dnnl_query_impl_info_str), "isa"
 * (dnnl_get_effective_cpu_isa) and "weights_layout" (oneDNN's naming, "ab" plain); the
 * trainer's adds "omp_threads", "omp_wait_policy", "isa" and "impl" per pass and shape. */
#include <omp.h>
#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl_debug.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peer_backend.h"

enum pass { FWD, BWD_DATA, BWD_WEIGHTS };
static const char *const pass_name[] = {"fwd", "bwd_data", "bwd_weights"};

/* One primitive and the memory objects of its arguments. Slots by role: fwd src, weights,
 * bias, dst; bwd_data diff_src, weights, -, diff_dst; bwd_weights src, diff_weights,
 * diff_bias, diff_dst. */
struct ip {
    enum pass pass;
    int bias, relu, any; /* any: (diff_)weights in the layout oneDNN prefers, not plain */
    dnnl_dim_t rows, in, out;
    dnnl_primitive_t prim;
    dnnl_memory_t mem[4];
    dnnl_memory_desc_t wmd; /* the (diff_)weights layout the primitive takes */
    char impl[64];
};

/* A trainer has a few layer shapes and --gemm four ops: a small table searched linearly. */
#define MAX_IPS 64
static struct ip ips[MAX_IPS];
static size_t n_ips;
static dnnl_engine_t engine;
static dnnl_stream_t stream;

static void check(dnnl_status_t st, const char *what)
{
    if (st != dnnl_success) peer_die(3, "oneDNN: %s failed: %s", what, dnnl_status2str(st));
}

static void set_threads(int threads) { omp_set_num_threads(threads); }

static const char *version(void)
{
    static char text[160];
    const dnnl_version_t *v = dnnl_version();
    /* Debian's build has no commit hash: it says "N/A". */
    const int hash = v->hash && *v->hash && strcmp(v->hash, "N/A");
    snprintf(text, sizeof text, "oneDNN %d.%d.%d%s%s%s, CPU runtime %s", v->major, v->minor,
             v->patch, hash ? " (commit " : "", hash ? v->hash : "", hash ? ")" : "",
             v->cpu_runtime == DNNL_RUNTIME_OMP ? "OpenMP" : "not OpenMP");
    return text;
}

/* The instruction set oneDNN dispatches to on this CPU (it has no name function for it). */
static const char *isa_name(void)
{
    switch (dnnl_get_effective_cpu_isa()) {
    case dnnl_cpu_isa_sse41: return "sse41";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    case dnnl_cpu_isa_avx512_mic: return "avx512_mic";
    case dnnl_cpu_isa_avx512_mic_4ops: return "avx512_mic_4ops";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    default: return "other";
    }
}

static void plain_md(dnnl_memory_desc_t *md, int ndims, dnnl_dim_t d0, dnnl_dim_t d1)
{
    const dnnl_dims_t dims = {d0, d1};
    check(dnnl_memory_desc_init_by_tag(md, ndims, dims, dnnl_f32, ndims == 1 ? dnnl_a : dnnl_ab),
          "dnnl_memory_desc_init_by_tag");
}

/* The primitive for a pass and shape: from the table, or created and added to it. */
static struct ip *get_ip(enum pass pass, size_t rows, size_t in, size_t out, int bias, int relu,
                         int any)
{
    for (size_t k = 0; k < n_ips; k++) {
        struct ip *p = &ips[k];
        if (p->pass == pass && p->rows == (dnnl_dim_t)rows && p->in == (dnnl_dim_t)in &&
            p->out == (dnnl_dim_t)out && p->bias == bias && p->relu == relu && p->any == any)
            return p;
    }
    if (n_ips == MAX_IPS) peer_die(3, "more than %d oneDNN primitives", MAX_IPS);
    if (!engine) {
        check(dnnl_engine_create(&engine, dnnl_cpu, 0), "dnnl_engine_create");
        check(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags), "dnnl_stream_create");
    }
    struct ip *p = &ips[n_ips];
    memset(p, 0, sizeof *p);
    p->pass = pass, p->rows = (dnnl_dim_t)rows, p->in = (dnnl_dim_t)in;
    p->out = (dnnl_dim_t)out, p->bias = bias, p->relu = relu, p->any = any;
    dnnl_memory_desc_t src, wei, bia, dst;
    plain_md(&src, 2, p->rows, p->in);
    plain_md(&wei, 2, p->out, p->in);
    if (any) {
        const dnnl_dims_t dims = {p->out, p->in};
        check(dnnl_memory_desc_init_by_tag(&wei, 2, dims, dnnl_f32, dnnl_format_tag_any),
              "dnnl_memory_desc_init_by_tag (any)");
    }
    plain_md(&bia, 1, p->out, 0);
    plain_md(&dst, 2, p->rows, p->out);

    /* The forward descriptor: the forward pass itself, or the hint the backward passes need. */
    dnnl_inner_product_desc_t fwd_d, d;
    check(dnnl_inner_product_forward_desc_init(&fwd_d, dnnl_forward_training, &src, &wei,
                                               bias || pass != FWD ? &bia : NULL, &dst),
          "dnnl_inner_product_forward_desc_init");
    dnnl_primitive_attr_t attr = NULL;
    if (relu) {
        dnnl_post_ops_t po;
        check(dnnl_primitive_attr_create(&attr), "dnnl_primitive_attr_create");
        check(dnnl_post_ops_create(&po), "dnnl_post_ops_create");
        check(dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_relu, 0.0f, 0.0f),
              "dnnl_post_ops_append_eltwise");
        check(dnnl_primitive_attr_set_post_ops(attr, po), "dnnl_primitive_attr_set_post_ops");
        dnnl_post_ops_destroy(po);
    }
    dnnl_primitive_desc_t fwd_pd, pd;
    check(dnnl_primitive_desc_create(&fwd_pd, &fwd_d, pass == FWD ? attr : NULL, engine, NULL),
          "dnnl_primitive_desc_create (inner product forward)");
    if (pass == FWD) {
        pd = fwd_pd;
        fwd_pd = NULL;
    } else {
        if (pass == BWD_DATA)
            check(dnnl_inner_product_backward_data_desc_init(&d, &src, &wei, &dst),
                  "dnnl_inner_product_backward_data_desc_init");
        else
            check(dnnl_inner_product_backward_weights_desc_init(&d, &src, &wei, &bia, &dst),
                  "dnnl_inner_product_backward_weights_desc_init");
        check(dnnl_primitive_desc_create(&pd, &d, NULL, engine, fwd_pd),
              "dnnl_primitive_desc_create (inner product backward)");
        dnnl_primitive_desc_destroy(fwd_pd);
    }
    if (attr) dnnl_primitive_attr_destroy(attr);
    const char *impl = NULL;
    check(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, (void *)&impl),
          "dnnl_primitive_desc_query (impl_info_str)");
    snprintf(p->impl, sizeof p->impl, "%s", impl ? impl : "unknown");
    p->wmd = *dnnl_primitive_desc_query_md(
        pd, pass == BWD_WEIGHTS ? dnnl_query_diff_weights_md : dnnl_query_weights_md, 0);
    check(dnnl_primitive_create(&p->prim, pd), "dnnl_primitive_create");
    dnnl_primitive_desc_destroy(pd);
    const dnnl_memory_desc_t *mds[4] = {&src, &p->wmd, &bia, &dst};
    for (int k = 0; k < 4; k++)
        if (k != 2 || pass == BWD_WEIGHTS || bias)
            check(dnnl_memory_create(&p->mem[k], mds[k], engine, DNNL_MEMORY_NONE),
                  "dnnl_memory_create");
    n_ips++;
    return p;
}

/* Runs p on these buffers (in slot order; NULL for an unused slot) and waits for it. */
static void run_ip(struct ip *p, const float *a0, const float *a1, const float *a2, const float *a3)
{
    static const int roles[3][4] = {
        {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_BIAS, DNNL_ARG_DST},
        {DNNL_ARG_DIFF_SRC, DNNL_ARG_WEIGHTS, 0, DNNL_ARG_DIFF_DST},
        {DNNL_ARG_SRC, DNNL_ARG_DIFF_WEIGHTS, DNNL_ARG_DIFF_BIAS, DNNL_ARG_DIFF_DST},
    };
    const float *buf[4] = {a0, a1, a2, a3};
    dnnl_exec_arg_t args[4];
    int n = 0;
    for (int k = 0; k < 4; k++) {
        if (!p->mem[k]) continue;
        /* oneDNN takes non-const handles for inputs too; it does not write them. */
        check(dnnl_memory_set_data_handle(p->mem[k], (void *)buf[k]),
              "dnnl_memory_set_data_handle");
        args[n].arg = roles[p->pass][k];
        args[n].memory = p->mem[k];
        n++;
    }
    check(dnnl_primitive_execute(p->prim, stream, n, args), "dnnl_primitive_execute");
    check(dnnl_stream_wait(stream), "dnnl_stream_wait");
}

static void forward(size_t B, size_t in, size_t out, const float *x, const float *w, const float *b,
                    float *y, int relu)
{
    run_ip(get_ip(FWD, B, in, out, 1, relu, 0), x, w, b, y);
}

static void backward_weights(size_t B, size_t in, size_t out, const float *g, const float *x,
                             float *dw, float *db)
{
    run_ip(get_ip(BWD_WEIGHTS, B, in, out, 1, 0, 0), x, dw, db, g);
}

static void backward_data(size_t B, size_t in, size_t out, const float *g, const float *w,
                          float *dx)
{
    run_ip(get_ip(BWD_DATA, B, in, out, 0, 0, 0), dx, w, NULL, g);
}

static json_t *impl_list(void)
{
    json_t *list = json_array();
    for (size_t k = 0; list && k < n_ips; k++) {
        const struct ip *p = &ips[k];
        char shape[96];
        snprintf(shape, sizeof shape, "%ldx%ldx%ld", (long)p->rows, (long)p->in, (long)p->out);
        json_array_append_new(list, json_pack("{s:s, s:s, s:b, s:b, s:s}", "pass",
                                              pass_name[p->pass], "shape", shape, "bias", p->bias,
                                              "relu", p->relu, "impl", p->impl));
    }
    return list;
}

/* OMP_WAIT_POLICY too: with OpenMP's default (spinning) wait, 2 threads on a machine whose
 * other work takes a core run ~100x slower than 1 (measured here), so a reader of a slow
 * 2-thread figure must know which it was. */
static json_t *train_info(void)
{
    const char *wait = getenv("OMP_WAIT_POLICY");
    return json_pack("{s:i, s:s, s:s, s:o}", "omp_threads", omp_get_max_threads(),
                     "omp_wait_policy", wait ? wait : "default", "isa", isa_name(), "impl",
                     impl_list());
}

/* --gemm. Each op's primitive, made before timing; the *_any ops take the weights (and give
 * the weight gradient) in the layout oneDNN prefers (format_tag_any), reordered before timing:
 * oneDNN at its best, where its user keeps the weights in that layout. */
enum {
    IP_FWD,
    IP_FWD_BIAS_RELU,
    IP_BWD_DATA,
    IP_BWD_WEIGHTS,
    IP_FWD_BIAS_RELU_ANY,
    IP_BWD_DATA_ANY,
    IP_BWD_WEIGHTS_ANY,
    N_GEMM_OPS
};
static struct ip *gemm_ip[N_GEMM_OPS];
static float *gemm_db;      /* the bias gradient ip_bwd_weights writes */
static void *w_fwd, *w_bwd; /* W in the layouts of ip_fwd_bias_relu_any and ip_bwd_data_any */
static void *dw_any;        /* what ip_bwd_weights_any writes */
static dnnl_memory_desc_t plain_w; /* W and dW in the trainer's layout */

/* Copies a tensor between layouts, untimed (a reorder primitive made and dropped here). */
static void reorder(const dnnl_memory_desc_t *from_md, void *from, const dnnl_memory_desc_t *to_md,
                    void *to)
{
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t prim;
    dnnl_memory_t m_from, m_to;
    check(dnnl_reorder_primitive_desc_create(&pd, from_md, engine, to_md, engine, NULL),
          "dnnl_reorder_primitive_desc_create");
    check(dnnl_primitive_create(&prim, pd), "dnnl_primitive_create (reorder)");
    dnnl_primitive_desc_destroy(pd);
    check(dnnl_memory_create(&m_from, from_md, engine, from), "dnnl_memory_create");
    check(dnnl_memory_create(&m_to, to_md, engine, to), "dnnl_memory_create");
    const dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, m_from}, {DNNL_ARG_TO, m_to}};
    check(dnnl_primitive_execute(prim, stream, 2, args), "dnnl_primitive_execute (reorder)");
    check(dnnl_stream_wait(stream), "dnnl_stream_wait");
    dnnl_memory_destroy(m_from), dnnl_memory_destroy(m_to), dnnl_primitive_destroy(prim);
}

static void *alloc_like(const dnnl_memory_desc_t *md)
{
    return peer_calloc(dnnl_memory_desc_get_size(md), 1);
}

static void gemm_prepare(const struct peer_gemm *g)
{
    const size_t R = (size_t)g->rows, I = (size_t)g->in, O = (size_t)g->out;
    gemm_db = peer_calloc(O, sizeof(float));
    gemm_ip[IP_FWD] = get_ip(FWD, R, I, O, 0, 0, 0);
    gemm_ip[IP_FWD_BIAS_RELU] = get_ip(FWD, R, I, O, 1, 1, 0);
    gemm_ip[IP_BWD_DATA] = get_ip(BWD_DATA, R, I, O, 0, 0, 0);
    gemm_ip[IP_BWD_WEIGHTS] = get_ip(BWD_WEIGHTS, R, I, O, 1, 0, 0);
    gemm_ip[IP_FWD_BIAS_RELU_ANY] = get_ip(FWD, R, I, O, 1, 1, 1);
    gemm_ip[IP_BWD_DATA_ANY] = get_ip(BWD_DATA, R, I, O, 0, 0, 1);
    gemm_ip[IP_BWD_WEIGHTS_ANY] = get_ip(BWD_WEIGHTS, R, I, O, 1, 0, 1);
    plain_md(&plain_w, 2, (dnnl_dim_t)O, (dnnl_dim_t)I);
    w_fwd = alloc_like(&gemm_ip[IP_FWD_BIAS_RELU_ANY]->wmd);
    reorder(&plain_w, g->w, &gemm_ip[IP_FWD_BIAS_RELU_ANY]->wmd, w_fwd);
    w_bwd = alloc_like(&gemm_ip[IP_BWD_DATA_ANY]->wmd);
    reorder(&plain_w, g->w, &gemm_ip[IP_BWD_DATA_ANY]->wmd, w_bwd);
    dw_any = alloc_like(&gemm_ip[IP_BWD_WEIGHTS_ANY]->wmd);
}

static void op_fwd(const struct peer_gemm *g) { run_ip(gemm_ip[IP_FWD], g->x, g->w, NULL, g->y); }

static void mask_rows(const struct peer_gemm *g)
{
    const size_t out = (size_t)g->out;
    for (size_t i = 0; i < (size_t)g->rows; i++)
        peer_row_mask(g->y + i * out, out, g->mask + i * g->mask_words);
}

static void op_fwd_bias_relu(const struct peer_gemm *g)
{
    run_ip(gemm_ip[IP_FWD_BIAS_RELU], g->x, g->w, g->b, g->y);
    mask_rows(g);
}

static void op_fwd_bias_relu_any(const struct peer_gemm *g)
{
    run_ip(gemm_ip[IP_FWD_BIAS_RELU_ANY], g->x, w_fwd, g->b, g->y);
    mask_rows(g);
}

static void op_bwd_data(const struct peer_gemm *g)
{
    run_ip(gemm_ip[IP_BWD_DATA], g->dx, g->w, NULL, g->g);
}

static void op_bwd_data_any(const struct peer_gemm *g)
{
    run_ip(gemm_ip[IP_BWD_DATA_ANY], g->dx, w_bwd, NULL, g->g);
}

static void op_bwd_weights(const struct peer_gemm *g)
{
    run_ip(gemm_ip[IP_BWD_WEIGHTS], g->x, g->dw, gemm_db, g->g);
}

static void op_bwd_weights_any(const struct peer_gemm *g)
{
    run_ip(gemm_ip[IP_BWD_WEIGHTS_ANY], g->x, dw_any, gemm_db, g->g);
}

/* dW back in the trainer's layout for the check. */
static void finish_bwd_weights_any(const struct peer_gemm *g)
{
    reorder(&gemm_ip[IP_BWD_WEIGHTS_ANY]->wmd, dw_any, &plain_w, g->dw);
}

/* In the order of the enum above. */
static const struct peer_op ops[] = {
    {"ip_fwd", PEER_FWD, 0, op_fwd, NULL},
    {"ip_fwd_bias_relu", PEER_FWD_BIAS_RELU, 0, op_fwd_bias_relu, NULL},
    {"ip_bwd_data", PEER_BWD_DATA, 0, op_bwd_data, NULL},
    {"ip_bwd_weights", PEER_BWD_WEIGHTS, 0, op_bwd_weights, NULL},
    {"ip_fwd_bias_relu_any", PEER_FWD_BIAS_RELU, 0, op_fwd_bias_relu_any, NULL},
    {"ip_bwd_data_any", PEER_BWD_DATA, 0, op_bwd_data_any, NULL},
    {"ip_bwd_weights_any", PEER_BWD_WEIGHTS, 0, op_bwd_weights_any, finish_bwd_weights_any},
};

/* A layout in oneDNN's naming: the dimensions (a = out, b = in) from the outermost stride in,
 * capitals for the blocked ones, then the inner blocks; "ab" is the plain row-major one. */
static void layout_name(const dnnl_memory_desc_t *md, char *text, size_t size)
{
    if (md->format_kind != dnnl_blocked) {
        snprintf(text, size, "%s", dnnl_fmt_kind2str(md->format_kind));
        return;
    }
    const dnnl_blocking_desc_t *b = &md->format_desc.blocking;
    int order[DNNL_MAX_NDIMS], blocked[DNNL_MAX_NDIMS] = {0};
    for (int d = 0; d < md->ndims; d++) order[d] = d;
    for (int i = 0; i < md->ndims; i++) /* stable sort by stride, outermost first */
        for (int j = i + 1; j < md->ndims; j++)
            if (b->strides[order[j]] > b->strides[order[i]]) {
                const int t = order[i];
                order[i] = order[j], order[j] = t;
            }
    for (int k = 0; k < b->inner_nblks; k++) blocked[b->inner_idxs[k]] = 1;
    size_t n = 0;
    for (int i = 0; i < md->ndims && n + 1 < size; i++)
        text[n++] = (char)((blocked[order[i]] ? 'A' : 'a') + order[i]);
    text[n] = '\0';
    for (int k = 0; k < b->inner_nblks && n < size; k++)
        n += (size_t)snprintf(text + n, size - n, "%ld%c", (long)b->inner_blks[k],
                              (char)('a' + b->inner_idxs[k]));
}

static json_t *op_info(const struct peer_op *op, const struct peer_gemm *g)
{
    (void)g;
    const struct ip *p = gemm_ip[op - ops];
    char layout[64];
    layout_name(&p->wmd, layout, sizeof layout);
    return json_pack("{s:s, s:s, s:s}", "impl", p->impl, "isa", isa_name(), "weights_layout",
                     layout);
}

static void cleanup(void)
{
    for (size_t k = 0; k < n_ips; k++) {
        for (int j = 0; j < 4; j++)
            if (ips[k].mem[j]) dnnl_memory_destroy(ips[k].mem[j]);
        dnnl_primitive_destroy(ips[k].prim);
    }
    n_ips = 0;
    if (stream) dnnl_stream_destroy(stream);
    if (engine) dnnl_engine_destroy(engine);
    stream = NULL, engine = NULL;
    free(gemm_db), free(w_fwd), free(w_bwd), free(dw_any);
    gemm_db = NULL, w_fwd = w_bwd = dw_any = NULL;
}

/* What this backend gives peer_main.c (peer_backend.h says what each is). */
static const struct peer_train_mode train = {forward, backward_weights, backward_data, train_info};
static const struct peer_gemm_mode gemm = {ops, sizeof ops / sizeof ops[0], gemm_prepare, op_info};
const struct peer_backend peer_backend = {"dnnl", set_threads, version, &train, &gemm, cleanup};
