/* The machine-facing code in isolation: the peak's stability rule and its cache
 * (harness/machine/peak.c), the cache-size sanity check (sb_cache_estimate), the bandwidth probe
 * when memory is refused, and /proc/stat's accounting for the audit (harness/machine/audit.c).
 * The same code under whole machines (hwloc XML and synthetic topologies, taskset, a competing process) is
 * tests/cli_machine.sh. */
#define _GNU_SOURCE
#include "harness/machine/audit.h"
#include "harness/machine/context.h"
#include "harness/machine/peak.h"

#include <jansson.h>
#include <sched.h>
#include <omp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <cmocka.h>

#if defined(__SANITIZE_ADDRESS__)
#define SB_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SB_UNDER_ASAN 1
#endif
#endif

static char tmpdir[256];

static int setup_tmp(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/specbias-test-machine.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_tmp(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- the stability rule ---------------------------------------------------------------- */

static void test_peak_stable(void **state)
{
    (void)state;
    double best, spread;
    /* too few trials: never stable, whatever they say */
    const double same[] = {100, 100, 100, 100};
    assert_false(sb_peak_stable(same, 4, 5, 0.02, &best, &spread));
    assert_true(best == 100 && spread == 0);
    /* the best three within 2 %, noise below them does not matter */
    const double ok[] = {60, 99, 40, 100, 98.5, 70};
    assert_true(sb_peak_stable(ok, 6, 5, 0.02, &best, &spread));
    assert_true(best == 100 && spread == 0.015);
    /* the third best 3 % down: not yet */
    const double far[] = {100, 97, 99.5, 50, 60};
    assert_false(sb_peak_stable(far, 5, 5, 0.02, &best, &spread));
    assert_true(best == 100 && spread > 0.029 && spread < 0.031);
    /* one lucky outlier far above the rest keeps it unstable (no claim from one trial) */
    const double lucky[] = {100, 150, 100, 100, 100};
    assert_false(sb_peak_stable(lucky, 5, 5, 0.02, &best, &spread));
    assert_true(best == 150);
    /* fewer than three trials: spread 1, never stable */
    assert_false(sb_peak_stable(same, 2, 1, 0.02, &best, &spread));
    assert_true(spread == 1.0);
}

/* ---- the peak cache -------------------------------------------------------------------- */

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    char *buf = calloc(1, 1 << 20);
    fread(buf, 1, (1 << 20) - 1, f);
    fclose(f);
    return buf;
}

static void test_peak_cache(void **state)
{
    (void)state;
    char path[512], text[512];
    snprintf(path, sizeof path, "%s/cache/peaks.json", tmpdir);
    setenv("SPECBIAS_PEAK_CACHE", path, 1);
    char why[256];
    assert_string_equal(sb_peak_cache_path(why, sizeof why), path);

    struct sb_peak a, b, c;
    sb_peak_get(SB_ISA_SCALAR, 1, 0, NULL, "t", &a);
    assert_string_equal(a.source, "measured");
    assert_true(a.gflops > 0 && a.trials >= 3 && a.threads_measured == 1);
    assert_true(a.seconds < 1.0); /* bounded: 0.25 s of trials plus the warm-up */
    assert_string_equal(a.cache, path);
    /* a second process would find it: here, a second call */
    sb_peak_get(SB_ISA_SCALAR, 1, 0, NULL, "t", &b);
    assert_string_equal(b.source, "cache");
    assert_true(b.gflops == a.gflops && b.spread == a.spread && b.trials == a.trials);
    assert_string_equal(b.measured_at, a.measured_at);
    /* --remeasure-peak measures and replaces it */
    sb_peak_get(SB_ISA_SCALAR, 1, 1, NULL, "t", &c);
    assert_string_equal(c.source, "measured");
    char *s = slurp(path);
    assert_non_null(s);
    json_t *root = json_loads(s, 0, NULL);
    free(s);
    assert_non_null(root);
    assert_string_equal(json_string_value(json_object_get(root, "schema")), "specbias-peaks/1");
    size_t i, scalar1 = 0;
    json_t *e;
    json_array_foreach(json_object_get(root, "peaks"), i, e) {
        if (!strcmp(json_string_value(json_object_get(e, "isa")), "scalar") &&
            json_integer_value(json_object_get(e, "threads")) == 1) {
            scalar1++;
            assert_true(json_number_value(json_object_get(e, "gflops")) == c.gflops);
            assert_string_equal(json_string_value(json_object_get(e, "cpu_signature")),
                                sb_cpu_signature());
        }
    }
    json_decref(root);
    assert_int_equal(scalar1, 1); /* replaced, not added */

    /* a corrupt cache: a warning naming the file, measured again, rewritten valid */
    FILE *f = fopen(path, "w");
    fputs("{\"schema\": \"specbias-peaks/1\", \"peaks\": [", f);
    fclose(f);
    char warned[4096] = "";
    FILE *w = fmemopen(warned, sizeof warned, "w");
    sb_peak_get(SB_ISA_SCALAR, 1, 0, w, "t", &a);
    fclose(w);
    assert_string_equal(a.source, "measured");
    assert_non_null(strstr(warned, path));
    assert_non_null(strstr(warned, "measuring the peak again"));
    s = slurp(path);
    root = json_loads(s, 0, NULL);
    free(s);
    assert_non_null(root);
    json_decref(root);

    /* a cache that cannot be written: measured, and the note says why */
    snprintf(text, sizeof text, "%s/a-file", tmpdir);
    f = fopen(text, "w");
    fclose(f);
    snprintf(path, sizeof path, "%s/a-file/peaks.json", tmpdir);
    setenv("SPECBIAS_PEAK_CACHE", path, 1);
    sb_peak_get(SB_ISA_SCALAR, 1, 0, NULL, "t", &a);
    assert_string_equal(a.source, "measured");
    assert_non_null(strstr(a.note, "cannot write the peak cache"));
    /* off: no cache at all */
    setenv("SPECBIAS_PEAK_CACHE", "off", 1);
    assert_null(sb_peak_cache_path(why, sizeof why));
    sb_peak_get(SB_ISA_SCALAR, 1, 0, NULL, "t", &a);
    assert_non_null(strstr(a.note, "not cached"));
    /* the XDG rule: an absolute XDG_CACHE_HOME, else HOME/.cache, a relative one ignored */
    unsetenv("SPECBIAS_PEAK_CACHE");
    setenv("XDG_CACHE_HOME", "/x/y", 1);
    assert_string_equal(sb_peak_cache_path(why, sizeof why), "/x/y/specbias/peaks.json");
    setenv("XDG_CACHE_HOME", "rel", 1);
    setenv("HOME", "/h", 1);
    assert_string_equal(sb_peak_cache_path(why, sizeof why), "/h/.cache/specbias/peaks.json");
    setenv("HOME", "", 1);
    assert_null(sb_peak_cache_path(why, sizeof why));
    setenv("SPECBIAS_PEAK_CACHE", "off", 1);
}

/* More threads than cores: the peak is that of the cores, and the note says so. */
static void test_peak_oversubscribed(void **state)
{
    (void)state;
    struct sb_peak p;
    const int cores = sb_cores_allowed();
    sb_peak_get(SB_ISA_SCALAR, cores + 5, 0, NULL, "t", &p);
    assert_int_equal(p.threads_requested, cores + 5);
    assert_int_equal(p.threads_measured, cores);
    assert_non_null(strstr(p.note, "cores they share"));
    assert_true(cores <= sb_cpus_allowed());
}

/* A rate above the peak re-measures it; one at or below does not. */
static void test_peak_recheck(void **state)
{
    (void)state;
    struct sb_peak p;
    sb_peak_get(SB_ISA_SCALAR, 1, 0, NULL, "t", &p);
    const double g = p.gflops;
    assert_int_equal(sb_peak_recheck(&p, g, NULL, "t"), 0);
    assert_true(p.gflops == g);
    char warned[2048] = "";
    FILE *w = fmemopen(warned, sizeof warned, "w");
    assert_int_equal(sb_peak_recheck(&p, g * 1.5, w, "t"), 1);
    fclose(w);
    assert_non_null(strstr(p.note, "re-measured"));
    assert_non_null(strstr(warned, "the peak was re-measured"));
    assert_string_equal(p.source, "measured");
}

/* ---- cache sizes ----------------------------------------------------------------------- */

static json_t *topo_json(const char *caches)
{
    char text[1024];
    snprintf(text, sizeof text, "{\"caches\": %s}", caches);
    json_t *t = json_loads(text, 0, NULL);
    assert_non_null(t);
    return t;
}

static void test_cache_estimate(void **state)
{
    (void)state;
    struct sb_cache_estimate e;
    /* a plain desktop part: everything kept */
    json_t *t = topo_json("{\"l1d\": {\"bytes\": 32768, \"cores_sharing\": 1, \"per_core_bytes\": 32768, "
                          "\"total_bytes\": 262144}, \"l2\": {\"bytes\": 524288, \"cores_sharing\": 1, "
                          "\"per_core_bytes\": 524288, \"total_bytes\": 4194304}, \"l3\": {\"bytes\": "
                          "33554432, \"cores_sharing\": 8, \"per_core_bytes\": 4194304, \"total_bytes\": "
                          "33554432}}");
    sb_cache_estimate(t, &e);
    json_decref(t);
    assert_int_equal(e.l1d, 32768);
    assert_int_equal(e.l1d_ways, 0); /* hwloc gave no associativity */
    assert_int_equal(e.l2, 524288);
    assert_int_equal(e.l3, 33554432);
    assert_int_equal(e.llc_total, 33554432);
    assert_string_equal(e.ignored, "");
    /* the Zen 5 VM: 508 MiB of L3 for each single core is dropped; L1d and L2 stay */
    t = topo_json("{\"l1d\": {\"bytes\": 49152, \"cores_sharing\": 1, \"per_core_bytes\": 49152, "
                  "\"ways\": 12}, "
                  "\"l2\": {\"bytes\": 1048576, \"cores_sharing\": 1, \"per_core_bytes\": 1048576}, "
                  "\"l3\": {\"bytes\": 532676608, \"cores_sharing\": 1, \"per_core_bytes\": "
                  "532676608, \"total_bytes\": 1065353216}}");
    sb_cache_estimate(t, &e);
    json_decref(t);
    assert_int_equal(e.l1d, 49152);
    assert_int_equal(e.l1d_ways, 12);
    assert_int_equal(e.l2, 1048576);
    assert_int_equal(e.l3, 0);
    assert_int_equal(e.llc_total, 0);
    assert_non_null(strstr(e.ignored, "L3 of 508 MiB shared by 1 core"));
    /* a real 768 MiB L3 over 16 cores (48 MiB a core, EPYC 9184X) is kept */
    t = topo_json("{\"l3\": {\"bytes\": 805306368, \"cores_sharing\": 16, \"per_core_bytes\": "
                  "50331648, \"total_bytes\": 805306368}}");
    sb_cache_estimate(t, &e);
    json_decref(t);
    assert_int_equal(e.l3, 805306368);
    /* a cluster of small cores sharing an L2: blocking gets the share of one core */
    t = topo_json("{\"l2\": {\"bytes\": 1310720, \"cores_sharing\": 1, \"per_core_bytes\": 524288}}");
    sb_cache_estimate(t, &e);
    json_decref(t);
    assert_int_equal(e.l2, 524288);
    /* out of bounds: an L1d of 1 KiB, an L2 of 128 MiB */
    t = topo_json("{\"l1d\": {\"bytes\": 1024, \"cores_sharing\": 1, \"per_core_bytes\": 1024}, "
                  "\"l2\": {\"bytes\": 134217728, \"cores_sharing\": 1, \"per_core_bytes\": 134217728}}");
    sb_cache_estimate(t, &e);
    json_decref(t);
    assert_int_equal(e.l1d, 0);
    assert_int_equal(e.l2, 0);
    assert_non_null(strstr(e.ignored, "L1d of 1 KiB is outside physical bounds"));
    assert_non_null(strstr(e.ignored, "L2 of 128 MiB is outside physical bounds"));
    /* hwloc's -1, fully associative, is 64 ways; an L1d dropped out of bounds keeps no ways */
    static const struct {
        const char *caches;
        size_t ways;
    } ways[] = {
        {"{\"l1d\": {\"bytes\": 32768, \"cores_sharing\": 1, \"per_core_bytes\": 32768, \"ways\": -1}}", 64},
        {"{\"l1d\": {\"bytes\": 1024, \"cores_sharing\": 1, \"per_core_bytes\": 1024, \"ways\": 4}}", 0},
    };
    for (size_t i = 0; i < sizeof ways / sizeof ways[0]; i++) {
        t = topo_json(ways[i].caches);
        sb_cache_estimate(t, &e);
        json_decref(t);
        assert_int_equal(e.l1d_ways, ways[i].ways);
    }
    /* the kernels' setter: 0 keeps the ways, more than 64 is 64 */
    const size_t kept = sb_get_l1d_ways();
    sb_set_l1d_ways(12);
    sb_set_l1d_ways(0);
    assert_int_equal(sb_get_l1d_ways(), 12);
    sb_set_l1d_ways(100);
    assert_int_equal(sb_get_l1d_ways(), 64);
    sb_set_l1d_ways(kept);
    /* nothing reported */
    t = json_object();
    sb_cache_estimate(t, &e);
    json_decref(t);
    assert_true(e.l1d == 0 && e.l2 == 0 && e.l3 == 0 && e.llc_total == 0 && !e.ignored[0]);
}

/* The bandwidth probe when memory is refused: smaller arrays, then "unavailable" with the
 * reason, never 0.0. The address-space limit is set just above what the process maps. */
static void test_bandwidth_refused(void **state)
{
    (void)state;
#ifdef SB_UNDER_ASAN
    skip(); /* ASan's shadow memory cannot live under an address-space limit */
#else
    json_t *topo = json_object();
#pragma omp parallel num_threads(2)
    { /* the OpenMP pool exists before the limit */
    }
    unsigned long pages = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    assert_non_null(f);
    assert_int_equal(fscanf(f, "%lu", &pages), 1);
    fclose(f);
    struct rlimit old, lim;
    getrlimit(RLIMIT_AS, &old);
    const rlim_t mapped = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGE_SIZE);
    /* Room for nothing first (after big blocks were freed, malloc could serve small ones
     * from its own heap without asking for address space) ... */
    lim.rlim_cur = mapped + ((rlim_t)1 << 20);
    lim.rlim_max = old.rlim_max;
    assert_int_equal(setrlimit(RLIMIT_AS, &lim), 0);
    json_t *none = sb_bandwidth_json(1, topo);
    /* ... then room for 3 x 8 MiB: the largest arrays (48 MiB) are refused, 8 MiB ones fit */
    lim.rlim_cur = mapped + ((rlim_t)40 << 20);
    setrlimit(RLIMIT_AS, &lim);
    json_t *bw = sb_bandwidth_json(1, topo);
    setrlimit(RLIMIT_AS, &old);
    json_decref(topo);
    assert_string_equal(json_string_value(json_object_get(bw, "status")), "measured");
    assert_true(json_integer_value(json_object_get(bw, "array_bytes")) < (48 << 20));
    assert_true(json_number_value(json_object_get(bw, "one_thread")) > 0);
    assert_non_null(strstr(json_string_value(json_object_get(bw, "note")), "cannot allocate 3 x 48 MiB"));
    assert_string_equal(json_string_value(json_object_get(none, "status")), "unavailable");
    assert_true(json_is_null(json_object_get(none, "one_thread")));
    assert_non_null(strstr(json_string_value(json_object_get(none, "reason")), "cannot allocate"));
    json_decref(bw);
    json_decref(none);
#endif
}

/* ---- /proc/stat ------------------------------------------------------------------------ */

static void test_parse_stat(void **state)
{
    (void)state;
    const char *text = "cpu  100 1 20 1000 5 2 3 40 0 0\n"
                       "cpu0 10 0 2 100 1 0 0 4 7 0\n"
                       "cpu1 20 1 3 200 0 1 1 10 0 0\n"
                       "cpu2 30 0 5 300 2 0 1 6 0 0\n"
                       "cpu3 40 0 10 400 2 1 1 20 0 0\n"
                       "intr 12345\nctxt 999\n";
    const int want[] = {1, 3, 9};
    struct sb_cpu_times t;
    sb_audit_parse_stat(text, want, 3, &t);
    assert_int_equal(t.ncpus, 2); /* cpu9 is not there */
    /* busy: user nice system irq softirq; steal apart; total without guest */
    assert_int_equal(t.busy, (20 + 1 + 3 + 1 + 1) + (40 + 0 + 10 + 1 + 1));
    assert_int_equal(t.steal, 10 + 20);
    assert_int_equal(t.total, (20 + 1 + 3 + 200 + 0 + 1 + 1 + 10) + (40 + 10 + 400 + 2 + 1 + 1 + 20));
    /* the aggregate "cpu" line never counts as a CPU */
    const int zero[] = {0};
    sb_audit_parse_stat(text, zero, 1, &t);
    assert_int_equal(t.ncpus, 1);
    assert_int_equal(t.busy, 10 + 0 + 2 + 0 + 0);
    sb_audit_parse_stat("", want, 3, &t);
    assert_int_equal(t.ncpus, 0);
}

/* Loaded at the start: a load average above the CPUs counts only while other processes'
 * tasks are runnable, so a run right after another (the load average remembers a minute) is
 * not called disturbed; where the runnable count is unknown the load average alone decides. */
static void test_loaded_at_start(void **state)
{
    (void)state;
    assert_false(sb_audit_loaded_at_start(2.05, 0, 2)); /* the previous run of a loop */
    assert_true(sb_audit_loaded_at_start(3.10, 2, 2));  /* a build still running */
    assert_true(sb_audit_loaded_at_start(3.10, -1, 2)); /* unknown: the load average decides */
    assert_false(sb_audit_loaded_at_start(1.50, 3, 2)); /* a burst, the minute was calm */
    assert_false(sb_audit_loaded_at_start(2.00, 5, 2)); /* at, not above, the CPUs */
    /* /proc/loadavg: "l1 l5 l15 runnable/total lastpid"; this process's running threads
     * are not others' */
    assert_int_equal(sb_audit_others_runnable("2.05 1.90 1.50 3/160 4242\n", 1), 2);
    assert_int_equal(sb_audit_others_runnable("2.05 1.90 1.50 1/160 4242\n", 1), 0);
    assert_int_equal(sb_audit_others_runnable("2.05 1.90 1.50 1/160 4242\n", 2), 0);
    assert_int_equal(sb_audit_others_runnable("2.05 1.90 1.50\n", 1), -1);
    assert_int_equal(sb_audit_others_runnable(NULL, 1), -1);
    assert_int_equal(sb_audit_others_runnable("2.05 1.90 1.50 3/160 4242\n", -1), -1);
}

/* The core-to-core probe: between two CPUs this process may use, every trial a round trip
 * (where there are two, and unless the other CPU is too busy to answer three times: a loaded
 * or CPU-quota-limited machine, said and not failed); a CPU it may not use is refused with the
 * reason; one CPU against itself cannot answer within 50 ms (1000 round trips would take a
 * time slice each, 1 ms and more), which is the path of a CPU busy with something else. The
 * calling thread's affinity is the same after each call. */
static int is_timeout(const char *why)
{
    return strstr(why, "did not answer within 50 ms") || strstr(why, "did not start within 50 ms");
}

static void test_core_to_core(void **state)
{
    (void)state;
    cpu_set_t set, after;
    assert_int_equal(sched_getaffinity(0, sizeof set, &set), 0);
    int cpu[2], n = 0;
    for (int c = 0; c < CPU_SETSIZE && n < 2; c++)
        if (CPU_ISSET(c, &set)) cpu[n++] = c;
    double ns[SB_AUDIT_C2C_TRIALS];
    char why[160];
    if (n == 2) {
        int got = -1;
        for (int attempt = 0; attempt < 3 && got < 0; attempt++) {
            got = sb_audit_core_to_core(cpu[0], cpu[1], SB_AUDIT_C2C_TRIALS, ns, why, sizeof why);
            if (got < 0) assert_true(is_timeout(why));
        }
        if (got < 0) {
            fprintf(stderr, "  (CPU %d too busy to answer three times: %s)\n", cpu[1], why);
        } else {
            assert_int_equal(got, SB_AUDIT_C2C_TRIALS);
            for (int t = 0; t < SB_AUDIT_C2C_TRIALS; t++) assert_true(ns[t] > 0.0);
        }
    } else {
        fprintf(stderr, "  (one CPU here: no pair to measure; the refusals only)\n");
    }
    int absent = CPU_SETSIZE - 1;
    while (absent > 0 && CPU_ISSET(absent, &set)) absent--;
    assert_int_equal(sb_audit_core_to_core(cpu[0], absent, 3, ns, why, sizeof why), -1);
    assert_non_null(strstr(why, "could not bind a thread to CPU"));
    assert_int_equal(sb_audit_core_to_core(absent, cpu[0], 3, ns, why, sizeof why), -1);
    assert_non_null(strstr(why, "could not bind a thread to CPU"));
    assert_int_equal(sb_audit_core_to_core(cpu[0], cpu[0], 3, ns, why, sizeof why), -1);
    assert_true(is_timeout(why));
    assert_int_equal(sb_audit_core_to_core(cpu[0], cpu[0], 0, ns, why, sizeof why), -1);
    assert_int_equal(sched_getaffinity(0, sizeof after, &after), 0);
    assert_true(CPU_EQUAL(&set, &after));
}

/* The clock probe answers something a clock could be: 100 MHz to 10 GHz. */
static void test_clock(void **state)
{
    (void)state;
    double mhz[2] = {0, 0};
#if defined(__x86_64__) || defined(__aarch64__)
    assert_int_equal(sb_audit_clock(2, mhz), 0);
    for (int i = 0; i < 2; i++) assert_true(sb_audit_clock_plausible(mhz[i]));
#else
    assert_int_equal(sb_audit_clock(2, mhz), -1);
#endif
    /* what a rename-folded chain would report (24 GHz was seen) is not a clock */
    assert_false(sb_audit_clock_plausible(24000.0));
    assert_false(sb_audit_clock_plausible(50.0));
    assert_true(sb_audit_clock_plausible(2600.0));
}

int main(void)
{
    setenv("SPECBIAS_PEAK_CACHE", "off", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_peak_stable),     cmocka_unit_test(test_peak_cache),
        cmocka_unit_test(test_peak_oversubscribed), cmocka_unit_test(test_peak_recheck),
        cmocka_unit_test(test_cache_estimate), cmocka_unit_test(test_bandwidth_refused),
        cmocka_unit_test(test_parse_stat),      cmocka_unit_test(test_clock),
        cmocka_unit_test(test_core_to_core),
        cmocka_unit_test(test_loaded_at_start),
    };
    return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
