/* specbias info [--json] [--isa ISA]: what this machine and this build can run. */
#include "harness/cli/cli.h"
#include "harness/cli/options.h"
#include "harness/machine/audit.h"
#include "harness/machine/context.h"
#include "harness/machine/counters.h"
#include "harness/machine/peak.h"
#include "harness/machine/placement.h"
#include "specbias/kernels.h"

#include <omp.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct info_args {
    int as_json, remeasure, threads, isa_index;
    const char *isa;    /* NULL: $SPECBIAS_ISA, else auto */
    const char *groups; /* --groups SPEC: the placement only */
};

/* Returns 0, 1 (help printed) or -1 (message printed). */
static int parse_args(int argc, char **argv, struct info_args *a)
{
    memset(a, 0, sizeof *a);
    struct sb_option options[] = {
        {SB_FLAG("--json", &a->as_json, "machine-readable (schema specbias-info/1)")},
        {SB_ENUM("--isa", &a->isa_index, "ISA", sb_isa_choices("auto"),
                 "the ISA to mark as chosen: {choices} (default $SPECBIAS_ISA or auto)"),
         .what = "ISA", .text = &a->isa},
        {SB_INT("--threads", &a->threads, "N", 1, 1024,
                "the thread count of the all-threads peak and bandwidth (default "
                "$OMP_NUM_THREADS or every CPU)")},
        {SB_FLAG("--remeasure-peak", &a->remeasure,
                 "measure the FMA peaks again and update the peak cache")},
        {SB_STRING("--groups", &a->groups, "SPEC",
                   "print only the placement: the groups of cores for concurrent trainings, "
                   "one per core, l2, l3, numa or package, or N cores a group (never "
                   "straddling the smallest domain holding N), and where the --threads of one "
                   "training go; under any topology (HWLOC_XMLFILE, HWLOC_SYNTHETIC), nothing "
                   "bound"),
         .nonempty = 1},
    };
    struct sb_command_spec cmd = {
        .name = "info", .options = options, .noptions = sizeof options / sizeof *options};
    return sb_options_parse(&cmd, argc, argv);
}

int sb_info_parse_only(int argc, char **argv)
{
    struct info_args a;
    return parse_args(argc, argv, &a);
}

/* What info reports, measured or read once. */
struct facts {
    const struct sb_kernels *k;
    int threads, cpus;
    json_t *peaks, *counters, *topology, *bandwidth, *audit;
};

/* The FMA peak of each ISA at one thread and at all, from the peak cache or measured now;
 * which counters can count (one of each kind); the bandwidth; the machine audit's facts. */
static void gather(struct facts *f, const struct info_args *a)
{
    f->peaks = json_object();
    for (int i = 0; i < SB_ISA_COUNT; i++) {
        if (!sb_isa_supported((enum sb_isa)i, NULL)) continue;
        struct sb_peak one, all;
        sb_peak_get((enum sb_isa)i, 1, a->remeasure, stderr, "specbias info", &one);
        sb_peak_get((enum sb_isa)i, f->threads, a->remeasure, stderr, "specbias info", &all);
        json_object_set_new(f->peaks, sb_isa_name((enum sb_isa)i),
                            json_pack("{s:f, s:f, s:i, s:{s:o, s:o}}", "one_thread", one.gflops,
                                      "all_threads", all.gflops, "threads", f->threads, "detail",
                                      "one_thread", sb_peak_json(&one), "all_threads",
                                      sb_peak_json(&all)));
    }
    struct sb_counters probe;
    char cerr[256];
    if (sb_counters_open(&probe, sb_counters_probe_list, NULL, NULL, cerr, sizeof cerr) == 0) {
        f->counters = json_incref(probe.status);
        sb_counters_close(&probe);
    } else {
        f->counters = json_pack("{s:s, s:s}", "status", "unavailable", "reason", cerr);
    }
    f->topology = sb_topology_json();
    f->bandwidth = sb_bandwidth_json(f->threads, f->topology);
    json_t *binding = sb_bind_threads(1, 0, NULL);
    struct sb_audit audit_state;
    f->audit = sb_audit_start(&audit_state, json_object_get(binding, "cpus"), f->threads);
    json_decref(binding);
    json_object_del(f->audit, "run");
    json_object_del(f->audit, "disturbed");
}

static void facts_free(struct facts *f)
{
    json_decref(f->audit);
    json_decref(f->topology);
    json_decref(f->peaks);
    json_decref(f->bandwidth);
    json_decref(f->counters);
}

static int print_json(const struct facts *f)
{
    const struct sb_build_info *b = sb_build_info();
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
        snprintf(name, sizeof name, "%s__%s", sb_kernel_name((enum sb_kernel_id)i), f->k->isa_name);
        json_array_append_new(kernels, json_string(name));
    }
    json_t *root = json_pack(
        "{s:s, s:s, s:o, s:o, s:s, s:s, s:o, s:{s:s, s:s, s:s, s:s, s:s}}", "schema",
        "specbias-info/1", "cpu_model", sb_cpu_model(), "isa_available", avail, "isa_unavailable",
        unavail, "isa_auto", sb_isa_name(sb_isa_auto()), "isa_chosen", f->k->isa_name, "kernels",
        kernels, "build", "version", b->version, "git_commit", b->git_commit, "compiler",
        b->compiler, "build_type", b->build_type, "flags", b->flags);
    if (root) {
        json_object_set_new(root, "threads", json_integer(f->threads));
        json_object_set_new(root, "logical_cpus", json_integer(f->cpus));
        json_object_set_new(root, "peak_method", json_string(sb_peak_method));
        json_object_set(root, "audit", f->audit);
        json_object_set(root, "topology", f->topology);
        json_object_set(root, "peak_gflops", f->peaks);
        json_object_set(root, "bandwidth_gbs", f->bandwidth);
        json_object_set(root, "counters", f->counters);
    }
    if (!root || json_dumpf(root, stdout, JSON_INDENT(2)) != 0) {
        fprintf(stderr, "specbias info: could not write JSON\n");
        json_decref(root);
        return SB_EXIT_FAILED;
    }
    putchar('\n');
    json_decref(root);
    return SB_EXIT_OK;
}

/* CPU, ISAs, kernels, build. */
static void print_build(const struct facts *f)
{
    const struct sb_kernels *k = f->k;
    const struct sb_build_info *b = sb_build_info();
    printf("cpu:        %s\n", sb_cpu_model());
    printf("isa:\n");
    for (int i = 0; i < SB_ISA_COUNT; i++) {
        const char *why = NULL;
        const int ok = sb_isa_supported((enum sb_isa)i, &why);
        printf("  %-8s %s%s%s\n", sb_isa_name((enum sb_isa)i),
               ok ? "available" : "unavailable: ", ok ? "" : why,
               (enum sb_isa)i == k->isa ? "  <- chosen" : "");
    }
    printf("auto picks: %s\n", sb_isa_name(sb_isa_auto()));
    printf("kernels:   ");
    for (int i = 0; i < SB_KERNEL_COUNT; i++)
        printf(" %s__%s", sb_kernel_name((enum sb_kernel_id)i), k->isa_name);
    printf("\nbuild:      specbias %s, commit %s, %s, %s\n", b->version, b->git_commit, b->compiler,
           b->build_type);
    printf("flags:      %s\n", b->flags);
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

/* Topology, peaks, bandwidth. */
static void print_machine(const struct facts *f)
{
    const json_t *topology = f->topology, *bandwidth = f->bandwidth;
    const int cpus = f->cpus, threads = f->threads;
    json_t *cores = json_object_get(topology, "cores");
    if (json_is_integer(cores))
        printf("topology:   %lld cores", json_integer_value(cores));
    else
        printf("topology:   cores unknown");
    printf(", %d logical CPUs for this process", cpus);
    static const char *const caches[] = {"l1d_bytes", "l2_bytes", "l3_bytes"};
    static const char *const labels[] = {"L1d", "L2", "L3"};
    for (int i = 0; i < 3; i++) {
        json_t *v = json_object_get(topology, caches[i]);
        if (json_is_integer(v))
            printf(", %s %lld KiB", labels[i], json_integer_value(v) / 1024);
        else
            printf(", %s unknown", labels[i]);
    }
    const json_t *ignored = json_object_get(json_object_get(topology, "cache_estimate"), "ignored");
    if (ignored) printf("\n            (%s)", json_string_value(ignored));
    printf("\npeak:       FMA throughput, per ISA (cached per machine; --remeasure-peak)\n");
    const char *isa;
    json_t *pk;
    json_object_foreach(f->peaks, isa, pk) print_peak(isa, pk);
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
}

/* The machine audit's facts and the counters. */
static void print_audit(const struct facts *f)
{
    const json_t *audit = f->audit;
    const json_t *clock = json_object_get(audit, "clock");
    printf("\nclock:      ");
    if (json_is_number(json_object_get(clock, "nominal_mhz")))
        printf("nominal %.0f MHz (%s), ", json_number_value(json_object_get(clock, "nominal_mhz")),
               json_string_value(json_object_get(clock, "nominal_source")));
    if (json_is_number(json_object_get(clock, "measured_mhz")))
        printf("measured %.0f MHz", json_number_value(json_object_get(clock, "measured_mhz")));
    else
        printf("not measured: %s", json_string_value(json_object_get(clock, "reason")));
    const json_t *c2c = json_object_get(audit, "core_to_core");
    printf("\ncore to core: ");
    if (json_is_number(json_object_get(c2c, "round_trip_ns")))
        printf("%.0f ns a round trip of a cache line between CPUs %lld and %lld (best %.0f)",
               json_number_value(json_object_get(c2c, "round_trip_ns")),
               json_integer_value(json_array_get(json_object_get(c2c, "cpus"), 0)),
               json_integer_value(json_array_get(json_object_get(c2c, "cpus"), 1)),
               json_number_value(json_object_get(c2c, "round_trip_ns_min")));
    else
        printf("not measured: %s", json_string_value(json_object_get(c2c, "reason")));
    const json_t *gov = json_object_get(audit, "governor"),
                 *boost = json_object_get(audit, "boost");
    const json_t *smt = json_object_get(audit, "smt");
    printf("\ngovernor:   %s", json_is_string(gov)
                                   ? json_string_value(gov)
                                   : json_string_value(json_object_get(audit, "governor_reason")));
    printf("\nboost:      %s", json_is_boolean(boost)
                                   ? (json_is_true(boost) ? "on" : "off")
                                   : json_string_value(json_object_get(audit, "boost_reason")));
    printf("\nSMT:        %s", json_is_string(json_object_get(smt, "control"))
                                   ? json_string_value(json_object_get(smt, "control"))
                                   : "unknown");
    const json_t *load = json_object_get(audit, "load_average_start");
    if (json_is_array(load))
        printf("\nload:       %.2f %.2f %.2f", json_number_value(json_array_get(load, 0)),
               json_number_value(json_array_get(load, 1)),
               json_number_value(json_array_get(load, 2)));
    printf("\ncounters:\n");
    size_t i;
    json_t *ev;
    json_array_foreach(json_object_get(f->counters, "events"), i, ev)
    {
        json_t *why = json_object_get(ev, "reason"), *src = json_object_get(ev, "source");
        printf("  %-18s %s%s%s%s%s\n", json_string_value(json_object_get(ev, "name")),
               json_string_value(json_object_get(ev, "status")), src ? " by " : "",
               src ? json_string_value(src) : "", why ? ": " : "",
               why ? json_string_value(why) : "");
    }
}

/* "0,2,4" (order kept) */
static void print_cpus(const json_t *cpus)
{
    size_t i;
    json_t *c;
    json_array_foreach(cpus, i, c) printf("%s%lld", i ? "," : "", json_integer_value(c));
}

/* --groups SPEC: the groups and one training's threads, from hwloc's topology (this machine's,
 * or HWLOC_XMLFILE's / HWLOC_SYNTHETIC's) among the CPUs this process may use. Nothing is
 * measured or bound. */
static int print_placement(const struct info_args *a, int threads)
{
    struct sb_group_spec spec;
    char err[256];
    if (sb_group_spec_parse(a->groups, &spec, err, sizeof err)) {
        fprintf(stderr, "specbias info: --groups %s\n", err);
        return SB_EXIT_USAGE;
    }
    hwloc_topology_t topo;
    if (hwloc_topology_init(&topo) || hwloc_topology_load(topo)) {
        fprintf(stderr, "specbias info: hwloc could not load the topology\n");
        return SB_EXIT_FAILED;
    }
    hwloc_bitmap_t allowed = sb_process_cpus(topo);
    struct sb_groups g;
    struct sb_thread_placement p;
    int rc = SB_EXIT_OK;
    if (sb_groups_make(topo, allowed, &spec, &g, err, sizeof err)) {
        /* a level the machine lacks, more cores a group than it has: the value does not fit */
        fprintf(stderr, "specbias info: --groups '%s': %s\n", a->groups, err);
        rc = SB_EXIT_USAGE;
    } else if (sb_threads_place(topo, allowed, threads, &p, err, sizeof err)) {
        fprintf(stderr, "specbias info: --threads %d: %s\n", threads, err);
        sb_groups_free(&g);
        rc = SB_EXIT_FAILED;
    }
    const int this_system = hwloc_topology_is_thissystem(topo);
    char mine[256];
    hwloc_bitmap_list_snprintf(mine, sizeof mine, allowed);
    hwloc_bitmap_free(allowed);
    hwloc_topology_destroy(topo);
    if (rc) return rc;
    json_t *j = sb_groups_json(&g), *t = sb_thread_placement_json(&p);
    sb_groups_free(&g);
    sb_thread_placement_free(&p);
    const char *xml = getenv("HWLOC_XMLFILE"), *synth = getenv("HWLOC_SYNTHETIC");
    const char *from = this_system ? "this machine"
                       : synth && *synth ? "HWLOC_SYNTHETIC"
                       : xml && *xml     ? "HWLOC_XMLFILE"
                                         : "another system";
    if (a->as_json) {
        json_t *root = json_pack("{s:s, s:s, s:b, s:s, s:s}", "schema", "specbias-placement/1",
                                 "topology", from, "this_system", this_system, "cpus_allowed", mine,
                                 "groups_by", a->groups);
        json_object_update(root, j);
        json_object_set(root, "threads", t);
        if (json_dumpf(root, stdout, JSON_INDENT(2)) != 0) rc = SB_EXIT_FAILED;
        else putchar('\n');
        json_decref(root);
    } else {
        const json_t *groups = json_object_get(j, "groups");
        printf("placement:  %zu group%s by %s, over CPUs %s of %s (nothing bound)\n",
               json_array_size(groups), json_array_size(groups) == 1 ? "" : "s", a->groups, mine,
               from);
        size_t i;
        json_t *x;
        json_array_foreach(groups, i, x) {
            printf("  %4zu  %-12s %3lld core%s  CPUs ", i,
                   json_string_value(json_object_get(x, "domain")),
                   json_integer_value(json_object_get(x, "cores")),
                   json_integer_value(json_object_get(x, "cores")) == 1 ? " " : "s");
            print_cpus(json_object_get(x, "cpus"));
            if (json_object_get(x, "kind"))
                printf("  (%s)", json_string_value(json_object_get(x, "kind")));
            putchar('\n');
        }
        if (json_array_size(json_object_get(j, "unused"))) {
            printf("unused:     CPUs ");
            print_cpus(json_object_get(j, "unused"));
            printf("\n            (%s)\n", json_string_value(json_object_get(j, "note")));
        }
        printf("threads:    %d in %s", threads, json_string_value(json_object_get(t, "domain")));
        if (json_object_get(t, "kind")) printf(" (%s)", json_string_value(json_object_get(t, "kind")));
        printf(": thread i on CPU ");
        print_cpus(json_object_get(t, "cpus_by_thread"));
        putchar('\n');
    }
    json_decref(j);
    json_decref(t);
    return rc;
}

int sb_cmd_info(int argc, char **argv)
{
    struct info_args a;
    const int prc = parse_args(argc, argv, &a);
    if (prc) return prc > 0 ? SB_EXIT_OK : SB_EXIT_USAGE;

    char err[256];
    struct facts f = {0};
    f.k = sb_select(a.isa, err, sizeof err);
    if (!f.k) {
        fprintf(stderr, "specbias info: %s\n", err);
        return SB_EXIT_USAGE;
    }
    if (a.threads) omp_set_num_threads(a.threads);
    f.threads = omp_get_max_threads();
    /* The placement is the topology's (maybe another machine's): this one's CPUs do not count */
    if (a.groups) return print_placement(&a, f.threads);
    f.cpus = sb_cpus_allowed();
    if (f.threads > f.cpus)
        fprintf(stderr,
                "specbias info: warning: %d threads but this process may use %d logical CPU%s: "
                "the all-threads figures are those of the %d core%s they share\n",
                f.threads, f.cpus, f.cpus == 1 ? "" : "s", sb_cores_allowed(),
                sb_cores_allowed() == 1 ? "" : "s");
    gather(&f, &a);
    int rc = SB_EXIT_OK;
    if (a.as_json) {
        rc = print_json(&f);
    } else {
        print_build(&f);
        print_machine(&f);
        print_audit(&f);
    }
    facts_free(&f);
    return rc;
}
