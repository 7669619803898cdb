/* specbias info [--json] [--isa ISA]: what this machine and this build can run. */
#include "harness/cli/cli.h"
#include "harness/machine/context.h"
#include "harness/machine/audit.h"
#include "harness/machine/counters.h"
#include "harness/machine/peak.h"
#include "specbias/kernels.h"

#include <omp.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void info_usage(FILE *f)
{
    fprintf(f, "usage: specbias info [--json] [--isa ISA] [--threads N] [--remeasure-peak]\n"
               "  --json            machine-readable (schema specbias-info/1)\n"
               "  --isa ISA         the ISA to mark as chosen (default $SPECBIAS_ISA or auto)\n"
               "  --threads N       the thread count of the all-threads peak and bandwidth\n"
               "                    (default $OMP_NUM_THREADS or every CPU)\n"
               "  --remeasure-peak  measure the FMA peaks again and update the peak cache\n");
}

struct info_args {
    int as_json, remeasure, threads;
    const char *isa; /* NULL: $SPECBIAS_ISA, else auto */
};

/* Returns 0, 1 (help printed) or -1 (message printed). */
static int parse_args(int argc, char **argv, struct info_args *a)
{
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        const char *val = NULL;
        if (strcmp(argv[i], "--json") == 0) {
            a->as_json = 1;
        } else if (strcmp(argv[i], "--remeasure-peak") == 0) {
            a->remeasure = 1;
        } else if (strcmp(argv[i], "--isa") == 0 && i + 1 < argc) {
            a->isa = argv[++i];
        } else if (strncmp(argv[i], "--isa=", 6) == 0) {
            a->isa = argv[i] + 6;
        } else if ((strcmp(argv[i], "--threads") == 0 && i + 1 < argc && (val = argv[++i])) ||
                   (strncmp(argv[i], "--threads=", 10) == 0 && (val = argv[i] + 10))) {
            char *end;
            const long t = strtol(val, &end, 10);
            if (!*val || *end || t < 1 || t > 1024) {
                fprintf(stderr, "specbias info: --threads needs a whole number in [1, 1024], got '%s'\n",
                        val);
                return -1;
            }
            a->threads = (int)t;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            info_usage(stdout);
            return 1;
        } else {
            fprintf(stderr, "specbias info: unknown or incomplete option '%s'\n", argv[i]);
            info_usage(stderr);
            return -1;
        }
    }
    return 0;
}

int sb_info_parse_only(int argc, char **argv)
{
    struct info_args a;
    return parse_args(argc, argv, &a);
}

static void print_peak(const char *isa, const json_t *pk)
{
    const json_t *d1 = json_object_get(json_object_get(pk, "detail"), "one_thread");
    const json_t *dn = json_object_get(json_object_get(pk, "detail"), "all_threads");
    printf("  %-8s %7.1f GFLOP/s (1 thread), %7.1f (%lld thread%s)   spread %.1f %%, %s\n", isa,
           json_number_value(json_object_get(pk, "one_thread")),
           json_number_value(json_object_get(pk, "all_threads")),
           json_integer_value(json_object_get(dn, "threads_measured")),
           json_integer_value(json_object_get(dn, "threads_measured")) == 1 ? "" : "s",
           100.0 * json_number_value(json_object_get(dn, "spread")),
           json_string_value(json_object_get(d1, "source")));
}

int sb_cmd_info(int argc, char **argv)
{
    struct info_args a;
    const int prc = parse_args(argc, argv, &a);
    if (prc) return prc > 0 ? SB_EXIT_OK : SB_EXIT_USAGE;

    char err[256];
    const struct sb_kernels *k = sb_select(a.isa, err, sizeof err);
    if (!k) {
        fprintf(stderr, "specbias info: %s\n", err);
        return SB_EXIT_USAGE;
    }
    if (a.threads) omp_set_num_threads(a.threads);
    const int threads = omp_get_max_threads();
    const int cpus = sb_cpus_allowed();
    if (threads > cpus)
        fprintf(stderr,
                "specbias info: warning: %d threads but this process may use %d logical CPU%s: "
                "the all-threads figures are those of the %d core%s they share\n",
                threads, cpus, cpus == 1 ? "" : "s", sb_cores_allowed(),
                sb_cores_allowed() == 1 ? "" : "s");

    /* The FMA peak of each ISA at one thread and at all, from the peak cache or measured now;
     * which counters can count (one of each kind); the bandwidth; the machine audit's facts. */
    json_t *peaks = json_object();
    for (int i = 0; i < SB_ISA_COUNT; i++) {
        if (!sb_isa_supported((enum sb_isa)i, NULL)) continue;
        struct sb_peak one, all;
        sb_peak_get((enum sb_isa)i, 1, a.remeasure, stderr, "specbias info", &one);
        sb_peak_get((enum sb_isa)i, threads, a.remeasure, stderr, "specbias info", &all);
        json_object_set_new(peaks, sb_isa_name((enum sb_isa)i),
                            json_pack("{s:f, s:f, s:i, s:{s:o, s:o}}", "one_thread", one.gflops,
                                      "all_threads", all.gflops, "threads", threads, "detail",
                                      "one_thread", sb_peak_json(&one), "all_threads",
                                      sb_peak_json(&all)));
    }
    struct sb_counters probe;
    char cerr[256];
    json_t *counters = NULL;
    if (sb_counters_open(&probe, sb_counters_probe_list, NULL, NULL, cerr, sizeof cerr) == 0) {
        counters = json_incref(probe.status);
        sb_counters_close(&probe);
    } else {
        counters = json_pack("{s:s, s:s}", "status", "unavailable", "reason", cerr);
    }
    json_t *topology = sb_topology_json();
    json_t *bandwidth = sb_bandwidth_json(threads, topology);
    json_t *binding = sb_bind_threads(1, 0);
    struct sb_audit audit_state;
    json_t *audit = sb_audit_start(&audit_state, json_object_get(binding, "cpus"), threads);
    json_decref(binding);
    json_object_del(audit, "run");
    json_object_del(audit, "disturbed");

    const struct sb_build_info *b = sb_build_info();
    if (a.as_json) {
        json_t *avail = json_array(), *unavail = json_object(), *kernels = json_array();
        for (int i = 0; i < SB_ISA_COUNT; i++) {
            const char *why = NULL;
            if (sb_isa_supported((enum sb_isa)i, &why))
                json_array_append_new(avail, json_string(sb_isa_name((enum sb_isa)i)));
            else
                json_object_set_new(unavail, sb_isa_name((enum sb_isa)i), json_string(why));
        }
        for (int i = 0; i < SB_KERNEL_COUNT; i++) {
            char name[128];
            snprintf(name, sizeof name, "%s__%s", sb_kernel_name((enum sb_kernel_id)i), k->isa_name);
            json_array_append_new(kernels, json_string(name));
        }
        json_t *root = json_pack("{s:s, s:s, s:o, s:o, s:s, s:s, s:o, s:{s:s, s:s, s:s, s:s, s:s}}",
                                 "schema", "specbias-info/1", "cpu_model", sb_cpu_model(),
                                 "isa_available", avail, "isa_unavailable", unavail,
                                 "isa_auto", sb_isa_name(sb_isa_auto()), "isa_chosen",
                                 k->isa_name, "kernels", kernels, "build", "version",
                                 b->version, "git_commit", b->git_commit, "compiler",
                                 b->compiler, "build_type", b->build_type, "flags", b->flags);
        if (root) {
            json_object_set_new(root, "threads", json_integer(threads));
            json_object_set_new(root, "logical_cpus", json_integer(cpus));
            json_object_set_new(root, "peak_method", json_string(sb_peak_method));
            json_object_set(root, "audit", audit);
            json_object_set(root, "topology", topology);
            json_object_set(root, "peak_gflops", peaks);
            json_object_set(root, "bandwidth_gbs", bandwidth);
            json_object_set(root, "counters", counters);
        }
        json_decref(topology);
        json_decref(peaks);
        json_decref(bandwidth);
        json_decref(counters);
        json_decref(audit);
        if (!root || json_dumpf(root, stdout, JSON_INDENT(2)) != 0) {
            fprintf(stderr, "specbias info: could not write JSON\n");
            json_decref(root);
            return SB_EXIT_FAILED;
        }
        putchar('\n');
        json_decref(root);
        return SB_EXIT_OK;
    }

    printf("cpu:        %s\n", sb_cpu_model());
    printf("isa:\n");
    for (int i = 0; i < SB_ISA_COUNT; i++) {
        const char *why = NULL;
        const int ok = sb_isa_supported((enum sb_isa)i, &why);
        printf("  %-8s %s%s%s\n", sb_isa_name((enum sb_isa)i), ok ? "available" : "unavailable: ",
               ok ? "" : why, (enum sb_isa)i == k->isa ? "  <- chosen" : "");
    }
    printf("auto picks: %s\n", sb_isa_name(sb_isa_auto()));
    printf("kernels:   ");
    for (int i = 0; i < SB_KERNEL_COUNT; i++)
        printf(" %s__%s", sb_kernel_name((enum sb_kernel_id)i), k->isa_name);
    printf("\nbuild:      specbias %s, commit %s, %s, %s\n", b->version, b->git_commit,
           b->compiler, b->build_type);
    printf("flags:      %s\n", b->flags);
    json_t *cores = json_object_get(topology, "cores");
    if (json_is_integer(cores)) printf("topology:   %lld cores", json_integer_value(cores));
    else printf("topology:   cores unknown");
    printf(", %d logical CPUs for this process", cpus);
    static const char *const caches[] = {"l1d_bytes", "l2_bytes", "l3_bytes"};
    static const char *const labels[] = {"L1d", "L2", "L3"};
    for (int i = 0; i < 3; i++) {
        json_t *v = json_object_get(topology, caches[i]);
        if (json_is_integer(v)) printf(", %s %lld KiB", labels[i], json_integer_value(v) / 1024);
        else printf(", %s unknown", labels[i]);
    }
    const json_t *ignored = json_object_get(json_object_get(topology, "cache_estimate"), "ignored");
    if (ignored) printf("\n            (%s)", json_string_value(ignored));
    printf("\npeak:       FMA throughput, per ISA (cached per machine; --remeasure-peak)\n");
    const char *isa;
    json_t *pk;
    json_object_foreach(peaks, isa, pk) print_peak(isa, pk);
    if (json_is_number(json_object_get(bandwidth, "one_thread")))
        printf("bandwidth:  %.1f GB/s (1 thread), %.1f (%d threads), STREAM triad on 3 x %lld MiB",
               json_number_value(json_object_get(bandwidth, "one_thread")),
               json_number_value(json_object_get(bandwidth, "all_threads")), threads,
               json_integer_value(json_object_get(bandwidth, "array_bytes")) >> 20);
    else
        printf("bandwidth:  unavailable: %s",
               json_string_value(json_object_get(bandwidth, "reason")));
    if (json_object_get(bandwidth, "note"))
        printf("\n            (%s)", json_string_value(json_object_get(bandwidth, "note")));
    const json_t *clock = json_object_get(audit, "clock");
    printf("\nclock:      ");
    if (json_is_number(json_object_get(clock, "nominal_mhz")))
        printf("nominal %.0f MHz (%s), ", json_number_value(json_object_get(clock, "nominal_mhz")),
               json_string_value(json_object_get(clock, "nominal_source")));
    if (json_is_number(json_object_get(clock, "measured_mhz")))
        printf("measured %.0f MHz", json_number_value(json_object_get(clock, "measured_mhz")));
    else
        printf("not measured: %s", json_string_value(json_object_get(clock, "reason")));
    const json_t *gov = json_object_get(audit, "governor"), *boost = json_object_get(audit, "boost");
    const json_t *smt = json_object_get(audit, "smt");
    printf("\ngovernor:   %s", json_is_string(gov) ? json_string_value(gov)
                                  : json_string_value(json_object_get(audit, "governor_reason")));
    printf("\nboost:      %s", json_is_boolean(boost) ? (json_is_true(boost) ? "on" : "off")
                                  : json_string_value(json_object_get(audit, "boost_reason")));
    printf("\nSMT:        %s", json_is_string(json_object_get(smt, "control"))
                                  ? json_string_value(json_object_get(smt, "control"))
                                  : "unknown");
    const json_t *load = json_object_get(audit, "load_average_start");
    if (json_is_array(load))
        printf("\nload:       %.2f %.2f %.2f", json_number_value(json_array_get(load, 0)),
               json_number_value(json_array_get(load, 1)), json_number_value(json_array_get(load, 2)));
    printf("\ncounters:\n");
    size_t i;
    json_t *ev;
    json_array_foreach(json_object_get(counters, "events"), i, ev) {
        json_t *why = json_object_get(ev, "reason"), *src = json_object_get(ev, "source");
        printf("  %-18s %s%s%s%s%s\n", json_string_value(json_object_get(ev, "name")),
               json_string_value(json_object_get(ev, "status")), src ? " by " : "",
               src ? json_string_value(src) : "", why ? ": " : "", why ? json_string_value(why) : "");
    }
    json_decref(audit);
    json_decref(topology);
    json_decref(peaks);
    json_decref(bandwidth);
    json_decref(counters);
    return SB_EXIT_OK;
}
