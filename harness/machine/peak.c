#define _GNU_SOURCE
#include "harness/machine/peak.h"

#include "harness/util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <hwloc.h>
#include <math.h>
#include <omp.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#elif defined(__aarch64__)
#include <arm_neon.h>
#endif

const char sb_peak_method[] =
    "fma-chains/3: 12 independent FMA chains per thread, the whole team timed together in "
    "~4 ms trials, best of k (k >= 8, over >= 0.1 s) until the best three agree within 2 % "
    "(at most 0.4 s), one thread per core";

/* ---- the probes: independent multiply-add chains, 12 vectors wide (more than the latency x
 * throughput product of any current core). Each returns the FLOPs done. ------------------ */

#define CHAINS 12
#define PROBE_ITERS 1024

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

typedef double probe_fn(float *sink);

static probe_fn *probe_for(enum sb_isa isa)
{
    if (!sb_isa_supported(isa, NULL)) return NULL;
    switch (isa) {
    case SB_ISA_SCALAR:
#if defined(__x86_64__)
        if (__builtin_cpu_supports("fma")) return probe_scalar_fma;
#endif
        return probe_scalar;
#if defined(__x86_64__)
    case SB_ISA_AVX2: return probe_avx2;
    case SB_ISA_AVX512: return probe_avx512;
#elif defined(__aarch64__)
    case SB_ISA_NEON: return probe_neon;
#endif
    default: return NULL;
    }
}

/* ---- CPUs and cores -------------------------------------------------------------------- */

/* Both are read once, at the first call: `specbias run` binds its main thread to one core
 * later, after which the thread's own mask is no longer the process's. */
int sb_cpus_allowed(void)
{
    static int n;
    if (n) return n;
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) n = CPU_COUNT(&set);
    if (n <= 0) {
        const long online = sysconf(_SC_NPROCESSORS_ONLN);
        n = online > 0 ? (int)online : 1;
    }
    return n;
}

/* hwloc's topology of this system, or NULL when it cannot load or describes another machine
 * (HWLOC_XMLFILE, HWLOC_SYNTHETIC): then nothing is bound and cores are CPUs. */
static hwloc_topology_t this_system(void)
{
    hwloc_topology_t topo;
    if (hwloc_topology_init(&topo)) return NULL;
    if (hwloc_topology_load(topo) || !hwloc_topology_is_thissystem(topo)) {
        hwloc_topology_destroy(topo);
        return NULL;
    }
    return topo;
}

/* The cores (their first PU's cpuset) this process may run on, in hwloc's order; returns how
 * many were written to out (at most max). */
static int allowed_cores(hwloc_topology_t topo, hwloc_cpuset_t *out, int max)
{
    hwloc_cpuset_t mine = hwloc_bitmap_alloc();
    int n = 0;
    if (hwloc_get_cpubind(topo, mine, HWLOC_CPUBIND_PROCESS) != 0)
        hwloc_bitmap_copy(mine, hwloc_topology_get_allowed_cpuset(topo));
    const int ncores = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
    for (int i = 0; i < ncores && n < max; i++) {
        hwloc_obj_t core = hwloc_get_obj_by_type(topo, HWLOC_OBJ_CORE, (unsigned)i);
        if (!core || !hwloc_bitmap_intersects(core->cpuset, mine)) continue;
        hwloc_cpuset_t pu = hwloc_bitmap_dup(core->cpuset);
        hwloc_bitmap_and(pu, pu, mine);
        hwloc_bitmap_singlify(pu);
        out[n++] = pu;
    }
    hwloc_bitmap_free(mine);
    return n;
}

int sb_cores_allowed(void)
{
    static int n;
    if (n) return n;
    hwloc_topology_t topo = this_system();
    if (topo) {
        hwloc_cpuset_t cores[1024];
        n = allowed_cores(topo, cores, 1024);
        for (int i = 0; i < n; i++) hwloc_bitmap_free(cores[i]);
        hwloc_topology_destroy(topo);
    }
    if (n <= 0) n = sb_cpus_allowed();
    return n;
}

const char *sb_cpu_signature(void)
{
    static char sig[96];
    if (sig[0]) return sig;
    snprintf(sig, sizeof sig, "unknown");
#if defined(__x86_64__)
    unsigned a, b, c, d;
    if (__get_cpuid(0, &a, &b, &c, &d)) {
        char vendor[13];
        memcpy(vendor, &b, 4);
        memcpy(vendor + 4, &d, 4);
        memcpy(vendor + 8, &c, 4);
        vendor[12] = 0;
        __get_cpuid(1, &a, &b, &c, &d);
        unsigned family = (a >> 8) & 0xf, model = (a >> 4) & 0xf;
        if (family == 0xf) family += (a >> 20) & 0xff;
        if (family == 0x6 || family >= 0xf) model += ((a >> 16) & 0xf) << 4;
        snprintf(sig, sizeof sig, "%s family %u model %u stepping %u", vendor, family, model,
                 a & 0xf);
    }
#else
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[256], impl[32] = "?", part[32] = "?", var[32] = "?", rev[32] = "?";
        while (fgets(line, sizeof line, f)) {
            char *v = strchr(line, ':');
            if (!v) continue;
            v++;
            v += strspn(v, " \t");
            v[strcspn(v, "\n")] = 0;
            if (!strncmp(line, "CPU implementer", 15)) snprintf(impl, sizeof impl, "%s", v);
            else if (!strncmp(line, "CPU part", 8)) snprintf(part, sizeof part, "%s", v);
            else if (!strncmp(line, "CPU variant", 11)) snprintf(var, sizeof var, "%s", v);
            else if (!strncmp(line, "CPU revision", 12)) {
                snprintf(rev, sizeof rev, "%s", v);
                break; /* the first CPU's */
            }
        }
        fclose(f);
        snprintf(sig, sizeof sig, "implementer %s part %s variant %s revision %s", impl, part,
                 var, rev);
    }
#endif
    return sig;
}

/* ---- the measurement ------------------------------------------------------------------- */

int sb_peak_stable(const double *rates, int n, int min_trials, double tolerance, double *best,
                   double *spread)
{
    double top[3] = {0, 0, 0};
    for (int i = 0; i < n; i++) {
        double r = rates[i];
        for (int j = 0; j < 3; j++)
            if (r > top[j]) {
                const double t = top[j];
                top[j] = r;
                r = t;
            }
    }
    *best = top[0];
    *spread = n >= 3 && top[0] > 0 ? (top[0] - top[2]) / top[0] : 1.0;
    return n >= min_trials && n >= 3 && *spread <= tolerance;
}

#define MAX_TRIALS 512

/* Trials of the whole team until the best three agree within 2 %, after at least `span`
 * seconds (a slow stretch of a few trials, another process or the hypervisor taking a CPU,
 * must not pass for the machine's peak) and at most `budget`. */
static void measure(probe_fn *probe, int n, double span, double budget, int min_trials,
                    struct sb_peak *p)
{
    hwloc_topology_t topo = this_system();
    hwloc_cpuset_t cores[1024];
    const int ncores = topo ? allowed_cores(topo, cores, 1024) : 0;
    static double rates[MAX_TRIALS];
    int nt = 0, stop = 0, stable = 0;
    long calls = 1;
    double t0 = 0.0, start = sb_now(), best = 0.0, spread = 1.0, flops_per_call = 0.0;
    volatile float keep = 0.0f;
#pragma omp parallel num_threads(n)
    {
        const int t = omp_get_thread_num();
        hwloc_cpuset_t old = NULL;
        /* One thread per core, as training binds them; the thread's binding is restored. */
        if (topo && t < ncores) {
            old = hwloc_bitmap_alloc();
            if (hwloc_get_cpubind(topo, old, HWLOC_CPUBIND_THREAD) != 0 ||
                hwloc_set_cpubind(topo, cores[t], HWLOC_CPUBIND_THREAD) != 0) {
                hwloc_bitmap_free(old);
                old = NULL;
            }
        }
        float sink = 0.0f;
        /* Warm up (clock ramp, and on some cores the wide-vector power licence), and size a
         * trial at about 4 ms from this thread's rate. */
        long warm = 0;
        double fpc = 0.0;
        const double w0 = sb_now();
        while (sb_now() - w0 < 0.02) fpc = probe(&sink), warm++;
#pragma omp master
        {
            calls = warm / 5 > 1 ? warm / 5 : 1;
            flops_per_call = fpc;
        }
        for (;;) {
#pragma omp barrier
#pragma omp master
            t0 = sb_now();
            for (long i = 0; i < calls; i++) probe(&sink);
#pragma omp barrier
#pragma omp master
            {
                const double t1 = sb_now();
                rates[nt++] = (double)n * (double)calls * flops_per_call / (t1 - t0) / 1e9;
                stable = sb_peak_stable(rates, nt, min_trials, 0.02, &best, &spread);
                stop = (stable && t1 - start >= span) || nt == MAX_TRIALS || t1 - start > budget;
            }
#pragma omp barrier
            if (stop) break;
        }
        if (old) {
            hwloc_set_cpubind(topo, old, HWLOC_CPUBIND_THREAD);
            hwloc_bitmap_free(old);
        }
#pragma omp atomic
        keep += sink;
    }
    (void)keep;
    for (int i = 0; i < ncores; i++) hwloc_bitmap_free(cores[i]);
    if (topo) hwloc_topology_destroy(topo);
    p->gflops = best;
    p->spread = spread;
    p->trials = nt;
    p->stable = stable;
    p->seconds = sb_now() - start;
    snprintf(p->source, sizeof p->source, "measured");
    time_t now = time(NULL);
    strftime(p->measured_at, sizeof p->measured_at, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    if (gethostname(p->host, sizeof p->host - 1)) snprintf(p->host, sizeof p->host, "unknown");
}

/* ---- the cache ------------------------------------------------------------------------- */

const char *sb_peak_cache_path(char *why, size_t whylen)
{
    static char path[4096];
    const char *env = getenv("SPECBIAS_PEAK_CACHE");
    if (env && *env) {
        if (!strcmp(env, "off")) {
            snprintf(why, whylen, "SPECBIAS_PEAK_CACHE=off");
            return NULL;
        }
        snprintf(path, sizeof path, "%s", env);
        return path;
    }
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    /* The XDG base directory specification ignores a relative XDG_CACHE_HOME. */
    if (xdg && xdg[0] == '/') snprintf(path, sizeof path, "%s/specbias/peaks.json", xdg);
    else if (home && home[0] == '/') snprintf(path, sizeof path, "%s/.cache/specbias/peaks.json", home);
    else {
        snprintf(why, whylen, "neither XDG_CACHE_HOME nor HOME is an absolute path");
        return NULL;
    }
    return path;
}

static int mkdirs_for(const char *file)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", file);
    char *slash = strrchr(buf, '/');
    if (!slash || slash == buf) return 0;
    *slash = 0;
    for (char *q = buf + 1; *q; q++)
        if (*q == '/') {
            *q = 0;
            if (mkdir(buf, 0777) && errno != EEXIST) return -1;
            *q = '/';
        }
    return mkdir(buf, 0777) && errno != EEXIST ? -1 : 0;
}

static int entry_matches(const json_t *e, enum sb_isa isa, int threads)
{
    const char *model = json_string_value(json_object_get(e, "cpu_model"));
    const char *sig = json_string_value(json_object_get(e, "cpu_signature"));
    const char *is = json_string_value(json_object_get(e, "isa"));
    const char *method = json_string_value(json_object_get(e, "method"));
    return model && sig && is && method && !strcmp(model, sb_cpu_model()) &&
           !strcmp(sig, sb_cpu_signature()) && !strcmp(is, sb_isa_name(isa)) &&
           !strcmp(method, sb_peak_method) &&
           json_integer_value(json_object_get(e, "threads")) == threads;
}

/* The cache's entries (an array), or a new empty one; `bad` set when the file exists but is
 * not a cache (then it is rewritten). */
static json_t *cache_load(const char *path, char *bad, size_t badlen)
{
    bad[0] = 0;
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        if (access(path, F_OK) == 0)
            snprintf(bad, badlen, "%s:%d:%d: %s", path, je.line, je.column, je.text);
        return json_array();
    }
    json_t *peaks = json_object_get(root, "peaks");
    const char *schema = json_string_value(json_object_get(root, "schema"));
    if (!schema || strcmp(schema, "specbias-peaks/1") || !json_is_array(peaks)) {
        snprintf(bad, badlen, "%s: not a specbias peak cache (schema specbias-peaks/1)", path);
        json_decref(root);
        return json_array();
    }
    json_incref(peaks);
    json_decref(root);
    return peaks;
}

static int cache_write(const char *path, json_t *peaks, char *why, size_t whylen)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    json_t *root = json_pack("{s:s, s:O}", "schema", "specbias-peaks/1", "peaks", peaks);
    const int rc = root ? json_dump_file(root, tmp, JSON_INDENT(1)) : -1;
    json_decref(root);
    if (rc != 0 || rename(tmp, path) != 0) {
        snprintf(why, whylen, "cannot write the peak cache %s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

static void from_entry(const json_t *e, struct sb_peak *p)
{
    p->gflops = json_number_value(json_object_get(e, "gflops"));
    p->spread = json_number_value(json_object_get(e, "spread"));
    p->trials = (int)json_integer_value(json_object_get(e, "trials"));
    p->stable = json_is_true(json_object_get(e, "stable"));
    p->seconds = json_number_value(json_object_get(e, "seconds"));
    snprintf(p->measured_at, sizeof p->measured_at, "%s",
             json_string_value(json_object_get(e, "measured_at")) ?: "");
    snprintf(p->host, sizeof p->host, "%s", json_string_value(json_object_get(e, "host")) ?: "");
    snprintf(p->source, sizeof p->source, "cache");
}

static json_t *to_entry(const struct sb_peak *p)
{
    return json_pack("{s:s, s:s, s:s, s:i, s:s, s:f, s:f, s:i, s:b, s:f, s:s, s:s}", "cpu_model",
                     sb_cpu_model(), "cpu_signature", sb_cpu_signature(), "isa",
                     sb_isa_name(p->isa), "threads", p->threads_measured, "method",
                     sb_peak_method, "gflops", p->gflops, "spread", p->spread, "trials", p->trials,
                     "stable", p->stable, "seconds", p->seconds, "measured_at", p->measured_at,
                     "host", p->host);
}

/* Looks up, or measures and stores, under the cache's lock: two processes starting together
 * do not measure at once (each would halve the other's figure). */
static void get_locked(enum sb_isa isa, probe_fn *probe, int remeasure, double span,
                       double budget, int min_trials, FILE *warn, const char *who,
                       struct sb_peak *p)
{
    char why[600] = "";
    const char *path = sb_peak_cache_path(why, sizeof why);
    if (!path) {
        snprintf(p->note, sizeof p->note, "not cached: %s", why);
        measure(probe, p->threads_measured, span, budget, min_trials, p);
        return;
    }
    snprintf(p->cache, sizeof p->cache, "%s", path);
    int lock = -1;
    char lockpath[4200];
    snprintf(lockpath, sizeof lockpath, "%s.lock", path);
    if (mkdirs_for(path) == 0 && (lock = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0666)) >= 0)
        while (flock(lock, LOCK_EX) != 0 && errno == EINTR) {
        }
    char bad[600];
    json_t *peaks = cache_load(path, bad, sizeof bad);
    if (bad[0] && warn)
        fprintf(warn, "%s: warning: %s; measuring the peak again and rewriting it\n", who, bad);
    size_t i, found = (size_t)-1;
    json_t *e;
    json_array_foreach(peaks, i, e) if (entry_matches(e, isa, p->threads_measured)) found = i;
    if (found != (size_t)-1 && !remeasure) {
        from_entry(json_array_get(peaks, found), p);
    } else {
        measure(probe, p->threads_measured, span, budget, min_trials, p);
        if (found != (size_t)-1) json_array_remove(peaks, found);
        json_array_append_new(peaks, to_entry(p));
        if (cache_write(path, peaks, why, sizeof why)) {
            snprintf(p->note, sizeof p->note, "%s", why);
            if (warn) fprintf(warn, "%s: warning: %s\n", who, why);
        }
    }
    json_decref(peaks);
    if (lock >= 0) close(lock); /* releases the lock */
}

void sb_peak_get(enum sb_isa isa, int threads, int remeasure, FILE *warn, const char *who,
                 struct sb_peak *out)
{
    memset(out, 0, sizeof *out);
    out->isa = isa;
    out->threads_requested = threads;
    const int cores = sb_cores_allowed();
    out->threads_measured = threads < cores ? threads : cores;
    if (out->threads_measured < 1) out->threads_measured = 1;
    probe_fn *probe = probe_for(isa);
    if (!probe) {
        snprintf(out->note, sizeof out->note, "the ISA cannot run here");
        return;
    }
    get_locked(isa, probe, remeasure, 0.1, 0.4, 8, warn, who, out);
    if (threads > cores) {
        char more[256];
        snprintf(more, sizeof more,
                 "%s%d threads on %d cores: the peak is that of the %d cores they share",
                 out->note[0] ? "; " : "", threads, cores, cores);
        strncat(out->note, more, sizeof out->note - strlen(out->note) - 1);
    }
}

int sb_peak_recheck(struct sb_peak *p, double observed_gflops, FILE *warn, const char *who)
{
    probe_fn *probe = probe_for(p->isa);
    if (!probe || p->gflops <= 0 || observed_gflops <= p->gflops) return 0;
    const double old = p->gflops;
    /* Longer and stricter than the first time: it was wrong once. */
    get_locked(p->isa, probe, 1, 0.5, 2.0, 16, warn, who, p);
    char more[256];
    snprintf(more, sizeof more,
             "%sre-measured: %.1f GFLOP/s was measured against the peak of %.1f; now %.1f",
             p->note[0] ? "; " : "", observed_gflops, old, p->gflops);
    strncat(p->note, more, sizeof p->note - strlen(p->note) - 1);
    if (warn)
        fprintf(warn,
                "%s: warning: %.1f GFLOP/s measured above the %s peak of %.1f GFLOP/s at %d "
                "thread%s; the peak was re-measured: %.1f GFLOP/s\n",
                who, observed_gflops, sb_isa_name(p->isa), old, p->threads_measured,
                p->threads_measured == 1 ? "" : "s", p->gflops);
    return 1;
}

json_t *sb_peak_json(const struct sb_peak *p)
{
    json_t *j = json_pack("{s:o, s:i, s:i, s:f, s:i, s:b, s:f, s:s, s:s, s:s, s:o, s:s}",
                          "gflops", p->gflops > 0 ? json_real(p->gflops) : json_null(),
                          "threads_requested", p->threads_requested, "threads_measured",
                          p->threads_measured, "spread", p->spread, "trials", p->trials,
                          "stable", p->stable, "seconds", p->seconds, "source", p->source,
                          "measured_at", p->measured_at, "host", p->host, "cache",
                          p->cache[0] ? json_string(p->cache) : json_null(), "method",
                          sb_peak_method);
    if (j && p->note[0]) json_object_set_new(j, "note", json_string(p->note));
    return j;
}
