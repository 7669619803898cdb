/* `specbias kernels [--isa ISA|all] [Google Benchmark flags]`: every kernel of the kernel list
 * x every selected ISA x the shapes of its function type, timed by Google Benchmark through
 * harness/cli/bench_shim.h. Rates come from the kernels' declared costs (sb_kernel_cost()).
 *
 * Registration expands kernel_list.inc: each kernel's function type picks, by _Generic, the
 * adapter that knows its shapes, buffers and call, so a new kernel of an existing type, or a
 * new ISA, is benchmarked with no new code here (a new function type fails to compile until
 * it has an adapter). */
#include "harness/cli/bench_shim.h"
#include "harness/cli/cli.h"
#include "harness/cli/kernels.h"
#include "harness/cli/options.h"
#include "harness/machine/context.h"
#include "harness/machine/counters.h"
#include "harness/machine/peak.h"
#include "harness/train/model.h"
#include "specbias/kernels.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void sb_any_fn(void);

/* One benchmark: a kernel of one ISA at one shape, and its buffers (made by setup). */
struct kbench {
    const struct adapter *ad;
    sb_any_fn *fn; /* the kernel, cast back to its type by the adapter */
    struct sb_shape shape;
    int l0, l1;   /* posenc octaves */
    size_t calls; /* kernel calls per iteration (pattern kernels: one per pattern) */
    size_t ldin, ldout; /* dense: the row strides of inputs and of outputs, in floats */
    float *f[6];
    uint64_t *u[2];
    struct sb_adam_step step;
};

/* A shape of a function type: the sb_shape for the declared cost, and its name. */
struct kshape {
    struct sb_shape shape;
    int l0, l1;
    size_t calls;
    const char *label;
    int trainer_ld; /* dense: rows padded as the trainer's (sb_padded_ld), else packed */
};

struct adapter {
    const struct kshape *shapes;
    size_t nshapes;
    int (*setup)(struct kbench *b);
    void (*call)(const struct kbench *b);
};

static volatile float sink_f;
static volatile uint64_t sink_u;

/* ---- deterministic buffers ------------------------------------------------------------ */

static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

static void *alloc64(size_t bytes)
{
    const size_t rounded = (bytes + 63) / 64 * 64;
    return aligned_alloc(64, rounded ? rounded : 64);
}

/* n floats uniform in [lo, hi). */
static float *fbuf(size_t n, float lo, float hi, uint64_t seed)
{
    float *p = alloc64(n * sizeof *p);
    if (!p) return NULL;
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < n; i++)
        p[i] = lo + (hi - lo) * (float)((double)(rng_next(&s) >> 40) / 16777216.0);
    return p;
}

static uint64_t *ubuf(size_t n, uint64_t seed)
{
    uint64_t *p = alloc64(n * sizeof *p);
    if (!p) return NULL;
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < n; i++) p[i] = rng_next(&s);
    return p;
}

static void kb_free(void *ctx)
{
    struct kbench *b = ctx;
    for (size_t i = 0; i < sizeof b->f / sizeof b->f[0]; i++) free(b->f[i]), b->f[i] = NULL;
    for (size_t i = 0; i < sizeof b->u / sizeof b->u[0]; i++) free(b->u[i]), b->u[i] = NULL;
}

static int kb_check(struct kbench *b, size_t nf, size_t nu)
{
    for (size_t i = 0; i < nf; i++)
        if (!b->f[i]) goto fail;
    for (size_t i = 0; i < nu; i++)
        if (!b->u[i]) goto fail;
    return 0;
fail:
    kb_free(b);
    return -1;
}

/* ---- adapters, one per function type --------------------------------------------------- */

/* Dense shapes from the suites: input layer of a 14-feature encoding, hidden layers of 128 and
 * 256 units, and a large batch through a wide layer, with packed rows; then calls the trainer
 * makes in its hidden layers, with its padded rows (named with an -ld<stride> suffix, the
 * stride from sb_padded_ld when registered): a 256-row tile of lazzari1d (128 units) and of
 * tancik2d (256), and one thread's row block of rahaman1d's 200-row batch on 2 threads (104
 * rows; its forward pass and data gradient are called so, its weight gradient as 200-row items
 * of 64 units). The gap between the two kinds is what the batch size and the trainer's layout
 * cost the kernels; the gap between the trainer's shapes and a whole step is the step's own. */
static const struct kshape dense_shapes[] = {
    {{2048, 14, 128}, 0, 0, 1, "2048x14x128", 0},
    {{2048, 128, 128}, 0, 0, 1, "2048x128x128", 0},
    {{4096, 256, 256}, 0, 0, 1, "4096x256x256", 0},
    {{65536, 512, 256}, 0, 0, 1, "65536x512x256", 0},
    {{256, 128, 128}, 0, 0, 1, "256x128x128", 1},
    {{256, 256, 256}, 0, 0, 1, "256x256x256", 1},
    {{104, 256, 256}, 0, 0, 1, "104x256x256", 1},
};

/* f0 x[rows][ldin], f1 wt[in][ldout] (or w[out][ldin]), f2 b[out], f3 y[rows][ldout]; u0
 * mask */
static int setup_dense(struct kbench *b)
{
    const size_t r = b->shape.rows, in = b->shape.in, out = b->shape.out;
    const size_t ldin = b->ldin, ldout = b->ldout;
    const size_t nw = in * ldout > out * ldin ? in * ldout : out * ldin;
    const float ws = 1.0f / (float)in;
    b->f[0] = fbuf(r * ldin, -1.0f, 1.0f, 1);
    b->f[1] = fbuf(nw, -ws, ws, 2);
    b->f[2] = fbuf(out, -0.1f, 0.1f, 3);
    b->f[3] = fbuf(r * ldout, -1.0f, 1.0f, 4);
    b->u[0] = ubuf(r * sb_mask_words(out), 5);
    b->u[1] = ubuf(r * sb_mask_words(in), 6);
    return kb_check(b, 4, 2);
}

static void call_dense_relu_fwd(const struct kbench *b)
{
    const size_t r = b->shape.rows, in = b->shape.in, out = b->shape.out;
    const size_t ldi = b->ldin, ldo = b->ldout;
    ((sb_dense_relu_fwd_fn *)b->fn)(r, in, out, b->f[0], ldi, b->f[1], ldo, b->f[2], b->f[3], ldo,
                                    b->u[0], sb_mask_words(out));
}

static void call_dense_fwd(const struct kbench *b)
{
    const size_t r = b->shape.rows, in = b->shape.in, out = b->shape.out;
    const size_t ldi = b->ldin, ldo = b->ldout;
    ((sb_dense_fwd_fn *)b->fn)(r, in, out, b->f[0], ldi, b->f[1], ldo, b->f[2], b->f[3], ldo);
}

/* The backward kernels are timed as the trainer calls them: the gradient arrives masked
 * (dense_bwd_data fuses the next layer's ReLU mask into its store), so mask = NULL, and
 * dense_bwd_data applies the input mask u1 [rows][words(in)].
 * dy = f3 [rows][out], w = f1 [out][in], dx = f0 [rows][in] */
static void call_dense_bwd_data(const struct kbench *b)
{
    const size_t r = b->shape.rows, in = b->shape.in, out = b->shape.out;
    const size_t ldi = b->ldin, ldo = b->ldout;
    ((sb_dense_bwd_data_fn *)b->fn)(r, in, out, b->f[3], ldo, NULL, 0, b->f[1], ldi, b->u[1],
                                    sb_mask_words(in), b->f[0], ldi);
}

/* dy = f3, x = f0, dw = f1 [out][in] (the trainer's gradient is unpadded), db = f2 */
static void call_dense_bwd_weights(const struct kbench *b)
{
    const size_t r = b->shape.rows, in = b->shape.in, out = b->shape.out;
    ((sb_dense_bwd_weights_fn *)b->fn)(r, in, out, b->f[3], b->ldout, NULL, 0, b->f[0], b->ldin,
                                       b->f[1], in, b->f[2]);
}

/* Element-wise kernels over the outputs of a 65536-pixel RGB batch. */
static const struct kshape elem_shapes[] = {{{65536 * 3, 0, 0}, 0, 0, 1, "196608", 0}};

static int setup_elem(struct kbench *b)
{
    const size_t n = b->shape.rows;
    b->f[0] = fbuf(n, 0.001f, 0.999f, 11); /* y: a sigmoid output, or the sincospi argument */
    b->f[1] = fbuf(n, -1.0f, 1.0f, 12);
    b->f[2] = fbuf(n, 0.0f, 1.0f, 13);
    b->f[3] = fbuf(n, 0.0f, 1.0f, 14);
    return kb_check(b, 4, 0);
}

static void call_sigmoid_bwd(const struct kbench *b)
{
    ((sb_sigmoid_bwd_fn *)b->fn)(b->shape.rows, b->f[0], b->f[1], b->f[2]);
}

static void call_sincospi(const struct kbench *b)
{
    ((sb_sincospi_fn *)b->fn)(b->shape.rows, b->f[1], b->f[2], b->f[3]);
}

static void call_mse(const struct kbench *b)
{
    const size_t n = b->shape.rows;
    sink_f = ((sb_mse_loss_grad_fn *)b->fn)(n, b->f[0], b->f[2], 2.0f / (float)n, b->f[3]);
}

/* NeRF positional encoding of a 1-D signal, octaves 0..6 (F = 7 sin features). */
static const struct kshape posenc_shapes[] = {{{2048, 1, 7}, 0, 6, 1, "2048x1xoct0-6", 0}};

static int setup_posenc(struct kbench *b)
{
    b->f[0] = fbuf(b->shape.rows * b->shape.in, -1.0f, 1.0f, 21);
    b->f[1] = fbuf(b->shape.rows * 2 * b->shape.out, 0.0f, 1.0f, 22);
    return kb_check(b, 2, 0);
}

static void call_posenc(const struct kbench *b)
{
    const size_t r = b->shape.rows, d = b->shape.in, F = b->shape.out;
    ((sb_posenc_fwd_fn *)b->fn)(r, d, b->l0, b->l1, b->f[0], d, b->f[1], 2 * F);
}

/* Gaussian Fourier features of a 256x256 image's coordinates, m = 256. */
static const struct kshape fourier_shapes[] = {{{65536, 2, 256}, 0, 0, 1, "65536x2xm256", 0}};

static int setup_fourier(struct kbench *b)
{
    const size_t r = b->shape.rows, d = b->shape.in, m = b->shape.out;
    b->f[0] = fbuf(r * d, 0.0f, 1.0f, 31);
    b->f[1] = fbuf(m * d, -10.0f, 10.0f, 32);
    b->f[2] = fbuf(r * 2 * m, 0.0f, 1.0f, 33);
    return kb_check(b, 3, 0);
}

static void call_fourier(const struct kbench *b)
{
    const size_t r = b->shape.rows, d = b->shape.in, m = b->shape.out;
    ((sb_fourier_fwd_fn *)b->fn)(r, d, m, b->f[0], d, b->f[1], b->f[2], 2 * m);
}

/* Adam over the parameter counts of the suites' models. */
static const struct kshape adam_shapes[] = {
    {{51585, 0, 0}, 0, 0, 1, "51585", 0},
    {{263937, 0, 0}, 0, 0, 1, "263937", 0},
};

static int setup_adam(struct kbench *b)
{
    const size_t n = b->shape.rows;
    b->f[0] = fbuf(n, -0.1f, 0.1f, 41);   /* p */
    b->f[1] = fbuf(n, -1e-2f, 1e-2f, 42); /* g */
    b->f[2] = fbuf(n, -1e-3f, 1e-3f, 43); /* m */
    b->f[3] = fbuf(n, 0.0f, 1e-5f, 44);   /* v >= 0 */
    b->step = sb_adam_step_make(1e-3, 0.9, 0.999, 1e-8, 100);
    return kb_check(b, 4, 0);
}

static void call_adam(const struct kbench *b)
{
    ((sb_adam_update_fn *)b->fn)(b->shape.rows, b->f[0], b->f[1], b->f[2], b->f[3], &b->step);
}

/* Activation patterns of 4 layers x 128 units (8 words), for 2048 points per iteration. */
static const struct kshape pattern_shapes[] = {{{8, 0, 0}, 0, 0, 2048, "8wx2048", 0}};

static int setup_pattern(struct kbench *b)
{
    b->u[0] = ubuf(b->shape.rows * b->calls, 51);
    b->u[1] = ubuf(b->shape.rows * b->calls, 52);
    return kb_check(b, 0, 2);
}

static void call_hamming(const struct kbench *b)
{
    const size_t w = b->shape.rows;
    uint64_t acc = 0;
    for (size_t i = 0; i < b->calls; i++)
        acc += ((sb_pattern_hamming_fn *)b->fn)(w, b->u[0] + i * w, b->u[1] + i * w);
    sink_u = acc;
}

static void call_hash(const struct kbench *b)
{
    const size_t w = b->shape.rows;
    uint64_t acc = 0;
    for (size_t i = 0; i < b->calls; i++) acc ^= ((sb_pattern_hash_fn *)b->fn)(w, b->u[0] + i * w);
    sink_u = acc;
}

#define ADAPTER(shapes, setup, call)                                                               \
    {                                                                                              \
        shapes, sizeof shapes / sizeof shapes[0], setup, call                                      \
    }
static const struct adapter ad_dense_relu_fwd =
    ADAPTER(dense_shapes, setup_dense, call_dense_relu_fwd);
static const struct adapter ad_dense_fwd = ADAPTER(dense_shapes, setup_dense, call_dense_fwd);
static const struct adapter ad_dense_bwd_data =
    ADAPTER(dense_shapes, setup_dense, call_dense_bwd_data);
static const struct adapter ad_dense_bwd_weights =
    ADAPTER(dense_shapes, setup_dense, call_dense_bwd_weights);
static const struct adapter ad_sigmoid_bwd = ADAPTER(elem_shapes, setup_elem, call_sigmoid_bwd);
static const struct adapter ad_sincospi = ADAPTER(elem_shapes, setup_elem, call_sincospi);
static const struct adapter ad_mse = ADAPTER(elem_shapes, setup_elem, call_mse);
static const struct adapter ad_posenc = ADAPTER(posenc_shapes, setup_posenc, call_posenc);
static const struct adapter ad_fourier = ADAPTER(fourier_shapes, setup_fourier, call_fourier);
static const struct adapter ad_adam = ADAPTER(adam_shapes, setup_adam, call_adam);
static const struct adapter ad_hamming = ADAPTER(pattern_shapes, setup_pattern, call_hamming);
static const struct adapter ad_hash = ADAPTER(pattern_shapes, setup_pattern, call_hash);

/* The adapter of a function type. */
// clang-format off
#define ADAPTER_OF(type)                                  \
    _Generic((type *)0,                                   \
        sb_dense_relu_fwd_fn *: &ad_dense_relu_fwd,       \
        sb_dense_fwd_fn *: &ad_dense_fwd,                 \
        sb_dense_bwd_data_fn *: &ad_dense_bwd_data,       \
        sb_dense_bwd_weights_fn *: &ad_dense_bwd_weights, \
        sb_sigmoid_bwd_fn *: &ad_sigmoid_bwd,             \
        sb_sincospi_fn *: &ad_sincospi,                   \
        sb_mse_loss_grad_fn *: &ad_mse,                   \
        sb_posenc_fwd_fn *: &ad_posenc,                   \
        sb_fourier_fwd_fn *: &ad_fourier,                 \
        sb_adam_update_fn *: &ad_adam,                    \
        sb_pattern_hamming_fn *: &ad_hamming,             \
        sb_pattern_hash_fn *: &ad_hash)
// clang-format on

/* Kernel `id` of table k: its function (as sb_any_fn) and its adapter. */
static const struct adapter *resolve(enum sb_kernel_id id, const struct sb_kernels *k,
                                     sb_any_fn **fn)
{
    switch (id) {
#define SB_KERNEL(name, type)                                                                      \
    case SB_K_##name:                                                                              \
        *fn = (sb_any_fn *)k->name;                                                                \
        return ADAPTER_OF(type);
#include "specbias/kernel_list.inc"
#undef SB_KERNEL
    case SB_KERNEL_COUNT: break;
    }
    return NULL;
}

/* ---- the shim callbacks ----------------------------------------------------------------- */

static int kb_setup(void *ctx)
{
    struct kbench *b = ctx;
    return b->ad->setup(b);
}

static void kb_body(void *ctx)
{
    const struct kbench *b = ctx;
    b->ad->call(b);
}

/* ---- the command ---------------------------------------------------------------------- */

/* The ISA's 1-thread peak for a benchmark that ran at `observed` GFLOP/s: re-measured first
 * when it ran faster (a peak below a real rate was measured wrong). */
static struct sb_peak peaks[SB_ISA_COUNT];

static double peak_of(void *ctx, double observed)
{
    struct sb_peak *p = ctx;
    sb_peak_recheck(p, observed, stderr, "specbias kernels");
    return p->gflops;
}

/* Event counters around one benchmark's timed loop (its values per call come from Google
 * Benchmark's per-iteration average). */
static void counters_begin(void *c) { sb_counters_start(c); }

static void counters_end(void *cv, double *values)
{
    struct sb_counter_values v;
    sb_counters_stop(cv, &v);
    for (size_t i = 0; i < v.n; i++) values[i] = (double)v.counts[i];
}

/* Google Benchmark's own flags, passed through. */
static const char *const gbench_prefixes[] = {"--benchmark_", "--v=", NULL};

struct kernels_args {
    int isa; /* 0: all, else the ISA isa - 1 */
    const char *isa_text, *counters;
    int remeasure;
    struct sb_option_list gb; /* Google Benchmark's argv: ours minus our options */
};

/* Our options out of argv; the rest (Google Benchmark's) into a->gb, which has room for
 * argc + 1. Returns 0, 1 (help printed) or -1 (message printed). */
static int parse_args(int argc, char **argv, struct kernels_args *a)
{
    a->isa = 0;
    a->isa_text = "all";
    a->counters = NULL;
    a->remeasure = 0;
    a->gb.v[0] = argv[0];
    a->gb.n = 1;
    struct sb_option options[] = {
        {SB_ENUM("--isa", &a->isa, "ISA|all", sb_isa_choices("all"),
                 "one ISA, or every one this CPU runs: {choices} (default all)"),
         .what = "ISA", .text = &a->isa_text},
        {SB_STRING("--counters", &a->counters, "LIST",
                   "events to count per call (perf's generic names such as task-clock or "
                   "instructions, or PAPI's), counted on the benchmark's thread around its timed "
                   "loop; each event's status (counted by papi or perf_event, or unavailable "
                   "with the reason) is in the context as \"counter EVENT\"")},
        {SB_FLAG("--remeasure-peak", &a->remeasure,
                 "measure the FMA peaks again and update the peak cache")},
    };
    struct sb_command_spec cmd = {
        .name = "kernels",
        .synopsis_tail = "[Google Benchmark flags]",
        .description =
            "Every kernel x ISA x shape, timed by Google Benchmark; names are\n"
            "<kernel>__<isa>/<shape>. Google Benchmark's flags pass through unchanged:\n"
            "--benchmark_filter=REGEX, --benchmark_repetitions=N, --benchmark_min_time=SECONDS,\n"
            "--benchmark_format=console|json|csv, --benchmark_out=FILE, --benchmark_list_tests\n"
            "(--help lists them all, after these).\n"
            "Counters: FLOP/s, bytes/s (from the declared costs), intensity (FLOP/byte),\n"
            "peak_fraction (of the ISA's 1-thread FMA peak, from the peak cache; never above 1:\n"
            "a faster kernel re-measures the peak), roofline_fraction (of min(peak, intensity x\n"
            "the 1-thread STREAM bandwidth)), flops_per_iter.\n",
        .options = options,
        .noptions = sizeof options / sizeof *options,
        .pass_prefixes = gbench_prefixes,
        .pass_help = 1,
        .passed = &a->gb};
    const int rc = sb_options_parse(&cmd, argc, argv);
    a->gb.v[a->gb.n] = NULL;
    /* Google Benchmark's flags are checked here: the library would take a bad one quietly */
    if (rc == 0 && sb_kernels_check_flags(a->gb.v, a->gb.n)) return -1;
    return rc;
}

int sb_kernels_parse_only(int argc, char **argv)
{
    struct kernels_args a;
    a.gb.v = calloc((size_t)argc + 1, sizeof *a.gb.v);
    if (!a.gb.v) return -1;
    const int rc = parse_args(argc, argv, &a);
    free(a.gb.v);
    return rc;
}

/* The ISAs --isa selects, in selected[]. Returns 0, or -1 with the message printed. */
static int select_isas(const struct kernels_args *a, int selected[SB_ISA_COUNT])
{
    memset(selected, 0, SB_ISA_COUNT * sizeof *selected);
    if (a->isa == 0) {
        for (int i = 0; i < SB_ISA_COUNT; i++) selected[i] = sb_isa_supported((enum sb_isa)i, NULL);
        return 0;
    }
    const enum sb_isa isa = (enum sb_isa)(a->isa - 1);
    const char *why = NULL;
    if (!sb_isa_supported(isa, &why)) {
        fprintf(stderr, "specbias kernels: ISA '%s' cannot run here: %s\n", a->isa_text,
                why ? why : "unsupported");
        return -1;
    }
    selected[isa] = 1;
    return 0;
}

/* The ISA's 1-thread FMA peak (cached or measured), in the context. */
static void peak_context(int i, int remeasure)
{
    const struct sb_kernels *k = sb_kernels_for((enum sb_isa)i);
    sb_peak_get((enum sb_isa)i, 1, remeasure, stderr, "specbias kernels", &peaks[i]);
    char key[64], val[600];
    snprintf(key, sizeof key, "peak_gflops_1thread_%s", k->isa_name);
    snprintf(val, sizeof val, "%.2f", peaks[i].gflops);
    sb_bench_add_context(key, val);
    snprintf(key, sizeof key, "peak_1thread_%s", k->isa_name);
    snprintf(val, sizeof val, "%s, spread %.1f %% over %d trials%s%s%s", peaks[i].source,
             100.0 * peaks[i].spread, peaks[i].trials,
             peaks[i].stable ? "" : ", not stable within its time bound",
             peaks[i].note[0] ? "; " : "", peaks[i].note);
    sb_bench_add_context(key, val);
}

/* What every benchmark of a run shares. */
struct registry {
    struct kbench *benches;
    size_t n;
    int listing;
    double bandwidth;
    struct sb_counters *counters; /* NULL: no --counters */
    const char *counter_names[SB_MAX_COUNTERS];
    char **names; /* non-NULL: only collect the benchmarks' names here, register nothing */
};

/* Another revision's kernels, built in with the CMake option SPECBIAS_BASE_KERNELS
 * (scripts/kernel-ab): benchmarked again as <kernel>__<isa>_base/<shape>, in the same process
 * and on the same buffers' recipe, so that both revisions are timed interleaved. */
#if defined(SB_BASE_AVX2)
extern const struct sb_kernels sb_kernels__avx2_base;
#endif
#if defined(SB_BASE_AVX512)
extern const struct sb_kernels sb_kernels__avx512_base;
#endif
static const struct sb_kernels *base_kernels_for(int isa)
{
#if defined(SB_BASE_AVX2)
    if (isa == SB_ISA_AVX2) return &sb_kernels__avx2_base;
#endif
#if defined(SB_BASE_AVX512)
    if (isa == SB_ISA_AVX512) return &sb_kernels__avx512_base;
#endif
    (void)isa;
    return NULL;
}

/* Registers every kernel x shape of table k (of ISA i), named <kernel>__<isa><suffix>/<shape>. */
static void register_table(struct registry *g, int i, const struct sb_kernels *k,
                           const char *suffix)
{
    for (int id = 0; id < SB_KERNEL_COUNT; id++) {
        sb_any_fn *fn = NULL;
        const struct adapter *ad = resolve((enum sb_kernel_id)id, k, &fn);
        for (size_t s = 0; ad && s < ad->nshapes; s++) {
            const struct kshape *ks = &ad->shapes[s];
            const struct sb_cost c = sb_kernel_cost((enum sb_kernel_id)id, ks->shape);
            /* The scalar reference is the truth, not a contender: at 0.3-0.6 GFLOP/s one
             * iteration of the largest dense shape (17 GFLOP) would take up to a minute. */
            if (i == SB_ISA_SCALAR && c.flops * (double)ks->calls > 1e10) continue;
            char name[160], ld[48] = "";
            if (ks->trainer_ld) {
                const size_t ldi = sb_padded_ld(ks->shape.in), ldo = sb_padded_ld(ks->shape.out);
                if (ldi == ldo)
                    snprintf(ld, sizeof ld, "-ld%zu", ldi);
                else
                    snprintf(ld, sizeof ld, "-ld%zux%zu", ldi, ldo);
            }
            snprintf(name, sizeof name, "%s__%s%s/%s%s", sb_kernel_name((enum sb_kernel_id)id),
                     k->isa_name, suffix, ks->label, ld);
            if (g->names) {
                /* as Google Benchmark names it (and filters it): UseRealTime adds /real_time */
                const size_t len = strlen(name) + sizeof "/real_time";
                if ((g->names[g->n] = malloc(len)))
                    snprintf(g->names[g->n++], len, "%s/real_time", name);
                continue;
            }
            struct kbench *b = &g->benches[g->n++];
            *b = (struct kbench){.ad = ad,
                                 .fn = fn,
                                 .shape = ks->shape,
                                 .l0 = ks->l0,
                                 .l1 = ks->l1,
                                 .calls = ks->calls,
                                 .ldin = ks->trainer_ld ? sb_padded_ld(ks->shape.in)
                                                        : ks->shape.in,
                                 .ldout = ks->trainer_ld ? sb_padded_ld(ks->shape.out)
                                                         : ks->shape.out};
            const struct sb_bench_spec spec = {name,
                                               kb_setup,
                                               kb_body,
                                               kb_free,
                                               b,
                                               c.flops * (double)ks->calls,
                                               c.bytes * (double)ks->calls,
                                               g->listing ? NULL : peak_of,
                                               &peaks[i],
                                               g->bandwidth,
                                               g->counters,
                                               g->counters ? counters_begin : NULL,
                                               g->counters ? counters_end : NULL,
                                               g->counters ? g->counters->n : 0,
                                               g->counter_names};
            sb_bench_register(&spec);
        }
    }
}

/* Registers every kernel x shape of ISA i with Google Benchmark, and of the base revision's
 * ISA i where it is built in. */
static void register_isa(struct registry *g, int i)
{
    register_table(g, i, sb_kernels_for((enum sb_isa)i), "");
    if (base_kernels_for(i)) register_table(g, i, base_kernels_for(i), "_base");
}

/* Benchmarks of the selected ISAs, at most. */
static size_t bench_count(const int selected[SB_ISA_COUNT])
{
    size_t cap = 0;
    for (int i = 0; i < SB_ISA_COUNT; i++) {
        if (!selected[i]) continue;
        for (int id = 0; id < SB_KERNEL_COUNT; id++) {
            sb_any_fn *fn = NULL;
            const struct adapter *ad =
                resolve((enum sb_kernel_id)id, sb_kernels_for(SB_ISA_SCALAR), &fn);
            cap += ad ? ad->nshapes * (base_kernels_for(i) ? 2 : 1) : 0;
        }
    }
    return cap;
}

/* Registers the selected ISAs' benchmarks and runs them. */
static int run_benchmarks(const struct kernels_args *a, const int selected[SB_ISA_COUNT],
                          int listing)
{
    static struct sb_counters counters;
    struct registry g = {.listing = listing};
    const size_t cap = bench_count(selected);
    g.benches = calloc(cap ? cap : 1, sizeof *g.benches);
    if (!g.benches) return SB_EXIT_FAILED;
    g.bandwidth = sb_kernels_machine_context(listing);
    /* PAPI events around every benchmark's timed loop (counts of this thread, per call). */
    if (a->counters) {
        if (sb_kernels_open_counters(&counters, a->counters, listing)) {
            free(g.benches);
            return SB_EXIT_USAGE;
        }
        g.counters = &counters;
        for (size_t n = 0; n < counters.n; n++) g.counter_names[n] = counters.names[n];
    }
    for (int i = 0; i < SB_ISA_COUNT; i++) {
        if (!selected[i]) continue;
        if (!listing) peak_context(i, a->remeasure);
        register_isa(&g, i);
    }
    /* None ran: the filter matched nothing after all (filter_matches_nothing reads it as
     * Google Benchmark should; this is its own count). */
    const int none = sb_bench_run() == 0;
    if (g.counters) sb_counters_close(&counters);
    free(g.benches);
    return none ? SB_EXIT_USAGE : SB_EXIT_OK;
}

/* Whether --benchmark_filter selects none of the selected ISAs' benchmarks (message
 * printed). */
static int filter_matches_nothing(const struct kernels_args *a, const int selected[SB_ISA_COUNT])
{
    const char *filter = sb_kernels_filter(a->gb.v, a->gb.n);
    if (!filter) return 0;
    struct registry g = {.listing = 1};
    g.names = calloc(bench_count(selected) + 1, sizeof *g.names);
    if (!g.names) return 0; /* Google Benchmark then says it, with exit 0 */
    for (int i = 0; i < SB_ISA_COUNT; i++)
        if (selected[i]) register_isa(&g, i);
    const int bad = sb_kernels_filter_check(filter, (const char *const *)g.names, g.n) != 0;
    for (size_t i = 0; i < g.n; i++) free(g.names[i]);
    free(g.names);
    return bad;
}

int sb_cmd_kernels(int argc, char **argv)
{
    struct kernels_args a;
    a.gb.v = calloc((size_t)argc + 1, sizeof *a.gb.v);
    if (!a.gb.v) return SB_EXIT_FAILED;
    int selected[SB_ISA_COUNT], rc = parse_args(argc, argv, &a);
    if (rc) {
        free(a.gb.v);
        return rc > 0 ? SB_EXIT_OK : SB_EXIT_USAGE;
    }
    if (select_isas(&a, selected)) {
        free(a.gb.v);
        return SB_EXIT_USAGE;
    }
    /* --benchmark_list_tests needs no peaks or bandwidth: no probes there. */
    int listing = 0;
    for (size_t i = 1; i < a.gb.n; i++)
        if (strncmp(a.gb.v[i], "--benchmark_list_tests", 22) == 0 &&
            strcmp(a.gb.v[i], "--benchmark_list_tests=false") != 0)
            listing = 1;
    /* The filter and Google Benchmark's flags are checked before any probe or allocation (the
     * filter first: Initialize takes the flags it knows out of argv). */
    if (filter_matches_nothing(&a, selected) || sb_bench_init((int)a.gb.n, (char **)a.gb.v))
        rc = SB_EXIT_USAGE;
    else
        rc = run_benchmarks(&a, selected, listing);
    free(a.gb.v);
    return rc;
}
