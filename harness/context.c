#define _POSIX_C_SOURCE 200809L
#include "harness/context.h"

#include "harness/train.h"

#include <hwloc.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <omp.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#elif defined(__aarch64__)
#include <arm_neon.h>
#endif

json_t *sb_topology_json(void)
{
    json_t *t = json_object();
    hwloc_topology_t topo;
    if (hwloc_topology_init(&topo) || hwloc_topology_load(topo)) {
        json_object_set_new(t, "source", json_string("none"));
        json_object_set_new(t, "reason", json_string("hwloc could not load the topology"));
        return t;
    }
    json_object_set_new(t, "source", json_string("hwloc " HWLOC_VERSION));
    const int cores = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
    const int pus = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU);
    const int packages = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PACKAGE);
    json_object_set_new(t, "cores", cores > 0 ? json_integer(cores) : json_null());
    json_object_set_new(t, "pus", pus > 0 ? json_integer(pus) : json_null());
    json_object_set_new(t, "packages", packages > 0 ? json_integer(packages) : json_null());
    static const struct {
        hwloc_obj_type_t type;
        const char *name;
    } caches[] = {{HWLOC_OBJ_L1CACHE, "l1d_bytes"}, {HWLOC_OBJ_L2CACHE, "l2_bytes"},
                  {HWLOC_OBJ_L3CACHE, "l3_bytes"}};
    char missing[128] = "";
    for (size_t i = 0; i < 3; i++) {
        hwloc_obj_t o = hwloc_get_obj_by_type(topo, caches[i].type, 0);
        /* L1 objects may be instruction caches; take the first data or unified one. */
        for (int j = 1; o && o->attr->cache.type == HWLOC_OBJ_CACHE_INSTRUCTION; j++)
            o = hwloc_get_obj_by_type(topo, caches[i].type, (unsigned)j);
        if (o && o->attr->cache.size) {
            json_object_set_new(t, caches[i].name, json_integer((json_int_t)o->attr->cache.size));
        } else {
            json_object_set_new(t, caches[i].name, json_null());
            strncat(missing, missing[0] ? ", " : "", sizeof missing - strlen(missing) - 1);
            strncat(missing, caches[i].name, sizeof missing - strlen(missing) - 1);
        }
    }
    if (missing[0]) {
        char why[192];
        snprintf(why, sizeof why, "hwloc reports no size for %s", missing);
        json_object_set_new(t, "reason", json_string(why));
    }
    hwloc_topology_destroy(topo);
    return t;
}

json_t *sb_apply_cache_blocking(const json_t *topology)
{
    const json_t *l1 = json_object_get(topology, "l1d_bytes"), *l2 = json_object_get(topology, "l2_bytes");
    const size_t l1d = json_is_integer(l1) ? (size_t)json_integer_value(l1) : 0;
    const size_t l2b = json_is_integer(l2) ? (size_t)json_integer_value(l2) : 0;
    sb_set_cache_sizes(l1d, l2b);
    size_t use_l1, use_l2;
    sb_get_cache_sizes(&use_l1, &use_l2);
    json_t *b = json_pack("{s:I, s:I, s:s}", "l1d_bytes", (json_int_t)use_l1, "l2_bytes",
                          (json_int_t)use_l2, "source", l1d && l2b ? "hwloc" : "default");
    if (!l1d || !l2b)
        json_object_set_new(b, "reason",
                            json_string("hwloc gave no L1d or L2 size; the kernels' defaults "
                                        "(32 KiB, 512 KiB) are used where it did not"));
    return b;
}

json_t *sb_bind_threads(int threads, int enable)
{
    json_t *b = json_pack("{s:b}", "enabled", 0);
    const char *env = getenv("OMP_PROC_BIND");
    const char *gomp = getenv("GOMP_CPU_AFFINITY");
    if (!enable) {
        json_object_set_new(b, "reason", json_string("--no-bind"));
        return b;
    }
    if ((env && *env) || (gomp && *gomp)) {
        json_object_set_new(b, "reason", json_string("left to OMP_PROC_BIND / GOMP_CPU_AFFINITY"));
        return b;
    }
    hwloc_topology_t topo;
    if (hwloc_topology_init(&topo) || hwloc_topology_load(topo)) {
        json_object_set_new(b, "reason", json_string("hwloc could not load the topology"));
        return b;
    }
    const int cores = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
    if (cores <= 0) {
        hwloc_topology_destroy(topo);
        json_object_set_new(b, "reason", json_string("hwloc reports no cores"));
        return b;
    }
    int failed = 0;
    char why[160] = "";
#pragma omp parallel num_threads(threads) reduction(+ : failed)
    {
        const int t = omp_get_thread_num();
        hwloc_obj_t core = hwloc_get_obj_by_type(topo, HWLOC_OBJ_CORE, (unsigned)(t % cores));
        if (!core || hwloc_set_cpubind(topo, core->cpuset, HWLOC_CPUBIND_THREAD) != 0) {
            failed++;
#pragma omp critical
            if (!why[0])
                snprintf(why, sizeof why, "hwloc_set_cpubind failed for thread %d: %s", t,
                         strerror(errno));
        }
    }
    hwloc_topology_destroy(topo);
    if (failed) {
        json_object_set_new(b, "reason", json_string(why));
        json_object_set_new(b, "threads_unbound", json_integer(failed));
        return b;
    }
    json_object_set_new(b, "enabled", json_true());
    json_object_set_new(b, "policy", json_string("OpenMP thread i on core i mod cores (hwloc)"));
    json_object_set_new(b, "cores", json_integer(cores));
    return b;
}

#define CHAINS 12
#define PROBE_ITERS 4096

/* Each returns the FLOPs done; the result is kept alive through *sink. */
#if defined(__x86_64__)
/* The scalar peak is the core's scalar FMA throughput (vfmadd231ss: one lane of an FMA); the
 * scalar reference, built for the baseline, calls libm's fmaf instead. */
__attribute__((target("fma"))) static double probe_scalar_fma(float *sink)
{
    __m128 acc[CHAINS];
    for (int i = 0; i < CHAINS; i++) acc[i] = _mm_set_ss((float)i);
    const __m128 b = _mm_set_ss(0.999999f), c = _mm_set_ss(1e-7f);
    for (int it = 0; it < PROBE_ITERS; it++)
        for (int i = 0; i < CHAINS; i++) acc[i] = _mm_fmadd_ss(acc[i], b, c);
    __m128 s = acc[0];
    for (int i = 1; i < CHAINS; i++) s = _mm_add_ss(s, acc[i]);
    *sink += _mm_cvtss_f32(s);
    return 2.0 * CHAINS * PROBE_ITERS;
}
#endif

static double probe_scalar(float *sink)
{
    float acc[CHAINS];
    for (int i = 0; i < CHAINS; i++) acc[i] = (float)i;
    const float b = 0.999999f, c = 1e-7f;
    for (int it = 0; it < PROBE_ITERS; it++)
        for (int i = 0; i < CHAINS; i++) acc[i] = fmaf(acc[i], b, c);
    float s = 0;
    for (int i = 0; i < CHAINS; i++) s += acc[i];
    *sink += s;
    return 2.0 * CHAINS * PROBE_ITERS;
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) static double probe_avx2(float *sink)
{
    __m256 acc[CHAINS];
    for (int i = 0; i < CHAINS; i++) acc[i] = _mm256_set1_ps((float)i);
    const __m256 b = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
    for (int it = 0; it < PROBE_ITERS; it++)
        for (int i = 0; i < CHAINS; i++) acc[i] = _mm256_fmadd_ps(acc[i], b, c);
    __m256 s = acc[0];
    for (int i = 1; i < CHAINS; i++) s = _mm256_add_ps(s, acc[i]);
    *sink += _mm256_cvtss_f32(s);
    return 2.0 * 8 * CHAINS * PROBE_ITERS;
}

__attribute__((target("avx512f"))) static double probe_avx512(float *sink)
{
    __m512 acc[CHAINS];
    for (int i = 0; i < CHAINS; i++) acc[i] = _mm512_set1_ps((float)i);
    const __m512 b = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
    for (int it = 0; it < PROBE_ITERS; it++)
        for (int i = 0; i < CHAINS; i++) acc[i] = _mm512_fmadd_ps(acc[i], b, c);
    __m512 s = acc[0];
    for (int i = 1; i < CHAINS; i++) s = _mm512_add_ps(s, acc[i]);
    *sink += _mm512_reduce_add_ps(s);
    return 2.0 * 16 * CHAINS * PROBE_ITERS;
}
#elif defined(__aarch64__)
static double probe_neon(float *sink)
{
    float32x4_t acc[CHAINS];
    for (int i = 0; i < CHAINS; i++) acc[i] = vdupq_n_f32((float)i);
    const float32x4_t b = vdupq_n_f32(0.999999f), c = vdupq_n_f32(1e-7f);
    for (int it = 0; it < PROBE_ITERS; it++)
        for (int i = 0; i < CHAINS; i++) acc[i] = vfmaq_f32(c, acc[i], b);
    float32x4_t s = acc[0];
    for (int i = 1; i < CHAINS; i++) s = vaddq_f32(s, acc[i]);
    *sink += vaddvq_f32(s);
    return 2.0 * 4 * CHAINS * PROBE_ITERS;
}
#endif

double sb_peak_gflops(enum sb_isa isa, int threads)
{
    if (!sb_isa_supported(isa, NULL)) return 0.0;
    double (*probe)(float *) = NULL;
    switch (isa) {
    case SB_ISA_SCALAR:
        probe = probe_scalar;
#if defined(__x86_64__)
        if (__builtin_cpu_supports("fma")) probe = probe_scalar_fma;
#endif
        break;
#if defined(__x86_64__)
    case SB_ISA_AVX2: probe = probe_avx2; break;
    case SB_ISA_AVX512: probe = probe_avx512; break;
#elif defined(__aarch64__)
    case SB_ISA_NEON: probe = probe_neon; break;
#endif
    default: return 0.0;
    }
    double total = 0.0;
    volatile float keep = 0.0f;
#pragma omp parallel num_threads(threads) reduction(+ : total)
    {
        float sink = 0.0f;
        double best = 0.0;
        probe(&sink); /* warm up: clocks and caches */
        for (int round = 0; round < 3; round++) {
            double flops = 0.0;
            const double t0 = sb_now();
            double t1;
            do {
                flops += probe(&sink);
                t1 = sb_now();
            } while (t1 - t0 < 0.02);
            const double rate = flops / (t1 - t0) / 1e9;
            if (rate > best) best = rate;
        }
        total += best;
#pragma omp critical
        keep += sink;
    }
    (void)keep;
    return total;
}

double sb_stream_bandwidth(int threads, size_t l3_bytes)
{
    size_t bytes = 2 * l3_bytes;
    if (bytes < ((size_t)32 << 20)) bytes = (size_t)32 << 20;
    const size_t n = bytes / sizeof(float);
    float *a = aligned_alloc(64, n * sizeof(float)), *b = aligned_alloc(64, n * sizeof(float)),
          *c = aligned_alloc(64, n * sizeof(float));
    double best = 0.0;
    if (a && b && c) {
        const float scale = 3.0f;
        /* First touch by the threads that will stream the pages. */
#pragma omp parallel for schedule(static) num_threads(threads)
        for (size_t i = 0; i < n; i++) {
            a[i] = 0.0f;
            b[i] = 1.0f;
            c[i] = 2.0f;
        }
        for (int pass = 0; pass < 5; pass++) {
            const double t0 = sb_now();
#pragma omp parallel for schedule(static) num_threads(threads)
            for (size_t i = 0; i < n; i++) a[i] = b[i] + scale * c[i];
            const double dt = sb_now() - t0;
            const double gbs = 12.0 * (double)n / dt / 1e9;
            if (pass > 0 && gbs > best) best = gbs; /* pass 0 warms up */
        }
        /* Keep the stores: a result nobody reads could be optimised away. */
        volatile float sink = a[n / 2];
        (void)sink;
    }
    free(a);
    free(b);
    free(c);
    return best;
}
