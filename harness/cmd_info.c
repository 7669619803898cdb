/* specbias info [--json] [--isa ISA]: what this machine and this build can run. */
#include "harness/cli.h"
#include "harness/context.h"
#include "harness/counters.h"
#include "specbias/kernels.h"

#include <omp.h>

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static void info_usage(FILE *f) { fprintf(f, "usage: specbias info [--json] [--isa ISA]\n"); }

/* Returns 0, 1 (help printed) or -1 (message printed). */
static int parse_args(int argc, char **argv, int *as_json, const char **isa_request)
{
    *as_json = 0;
    *isa_request = NULL; /* NULL: $SPECBIAS_ISA, else auto */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            *as_json = 1;
        } else if (strcmp(argv[i], "--isa") == 0 && i + 1 < argc) {
            *isa_request = argv[++i];
        } else if (strncmp(argv[i], "--isa=", 6) == 0) {
            *isa_request = argv[i] + 6;
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
    int as_json;
    const char *isa_request;
    return parse_args(argc, argv, &as_json, &isa_request);
}

int sb_cmd_info(int argc, char **argv)
{
    int as_json;
    const char *isa_request;
    const int prc = parse_args(argc, argv, &as_json, &isa_request);
    if (prc) return prc > 0 ? SB_EXIT_OK : SB_EXIT_USAGE;

    char err[256];
    const struct sb_kernels *k = sb_select(isa_request, err, sizeof err);
    if (!k) {
        fprintf(stderr, "specbias info: %s\n", err);
        return SB_EXIT_USAGE;
    }

    /* Measured here and now: the FMA peak of each ISA (one thread and all), and which counter
     * families PAPI can actually count (one representative event each). */
    const int threads = omp_get_max_threads();
    json_t *peaks = json_object();
    for (int i = 0; i < SB_ISA_COUNT; i++) {
        if (!sb_isa_supported((enum sb_isa)i, NULL)) continue;
        json_object_set_new(peaks, sb_isa_name((enum sb_isa)i),
                            json_pack("{s:f, s:f, s:i}", "one_thread",
                                      sb_peak_gflops((enum sb_isa)i, 1), "all_threads",
                                      sb_peak_gflops((enum sb_isa)i, threads), "threads", threads));
    }
    struct sb_counters probe;
    char cerr[256];
    json_t *counters = NULL;
    if (sb_counters_open(&probe, "perf::TASK-CLOCK,perf::PAGE-FAULTS,PAPI_TOT_CYC,PAPI_TOT_INS,"
                                 "PAPI_SP_OPS",
                         cerr, sizeof cerr) == 0) {
        counters = json_incref(probe.status);
        sb_counters_close(&probe);
    } else {
        counters = json_pack("{s:s, s:s}", "status", "unavailable", "reason", cerr);
    }
    json_t *topology = sb_topology_json();
    const json_t *l3 = json_object_get(topology, "l3_bytes");
    const size_t l3b = json_is_integer(l3) ? (size_t)json_integer_value(l3) : 0;
    json_t *bandwidth = json_pack("{s:f, s:f, s:i, s:s}", "one_thread", sb_stream_bandwidth(1, l3b),
                                  "all_threads", sb_stream_bandwidth(threads, l3b), "threads",
                                  threads, "method",
                                  "STREAM triad on floats, 12 bytes per element, arrays of "
                                  "max(2 x L3, 32 MiB), best of 4 passes");

    const struct sb_build_info *b = sb_build_info();
    if (as_json) {
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
            json_object_set(root, "topology", topology);
            json_object_set(root, "peak_gflops", peaks);
            json_object_set(root, "bandwidth_gbs", bandwidth);
            json_object_set(root, "counters", counters);
        }
        json_decref(topology);
        json_decref(peaks);
        json_decref(bandwidth);
        json_decref(counters);
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
    static const char *const caches[] = {"l1d_bytes", "l2_bytes", "l3_bytes"};
    static const char *const labels[] = {"L1d", "L2", "L3"};
    for (int i = 0; i < 3; i++) {
        json_t *v = json_object_get(topology, caches[i]);
        if (json_is_integer(v)) printf(", %s %lld KiB", labels[i], json_integer_value(v) / 1024);
        else printf(", %s unknown", labels[i]);
    }
    printf("\npeak:      ");
    const char *isa;
    json_t *pk;
    json_object_foreach(peaks, isa, pk)
        printf(" %s %.1f GFLOP/s (1 thread), %.1f (%d threads) ", isa,
               json_number_value(json_object_get(pk, "one_thread")),
               json_number_value(json_object_get(pk, "all_threads")), threads);
    printf("\nbandwidth: %.1f GB/s (1 thread), %.1f (%d threads), STREAM triad",
           json_number_value(json_object_get(bandwidth, "one_thread")),
           json_number_value(json_object_get(bandwidth, "all_threads")), threads);
    printf("\ncounters:\n");
    size_t i;
    json_t *ev;
    json_array_foreach(json_object_get(counters, "events"), i, ev) {
        json_t *why = json_object_get(ev, "reason");
        printf("  %-18s %s%s%s\n", json_string_value(json_object_get(ev, "name")),
               json_string_value(json_object_get(ev, "status")), why ? ": " : "",
               why ? json_string_value(why) : "");
    }
    json_decref(topology);
    json_decref(peaks);
    json_decref(bandwidth);
    json_decref(counters);
    return SB_EXIT_OK;
}
