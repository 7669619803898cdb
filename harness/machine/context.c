#define _GNU_SOURCE
#include "harness/machine/context.h"
#include "harness/machine/placement.h"

#include "harness/util/util.h"

#include <errno.h>
#include <hwloc.h>
#include <omp.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

static json_t *bytes_or_null(hwloc_uint64_t v) { return v ? json_integer((json_int_t)v) : json_null(); }

/* Where the topology came from, and how many cores, PUs, packages and NUMA nodes it has. */
static void topology_counts(json_t *t, hwloc_topology_t topo, hwloc_const_bitmap_t mine)
{
    const char *xml = getenv("HWLOC_XMLFILE"), *synth = getenv("HWLOC_SYNTHETIC");
    json_object_set_new(t, "source", json_string("hwloc " HWLOC_VERSION));
    json_object_set_new(t, "this_system", json_boolean(hwloc_topology_is_thissystem(topo)));
    if (!hwloc_topology_is_thissystem(topo))
        json_object_set_new(t, "loaded_from",
                            json_string(synth && *synth ? "HWLOC_SYNTHETIC"
                                        : xml && *xml   ? "HWLOC_XMLFILE"
                                                        : "another system"));
    static const struct {
        hwloc_obj_type_t type;
        const char *name;
    } counts[] = {{HWLOC_OBJ_CORE, "cores"},
                  {HWLOC_OBJ_PU, "pus"},
                  {HWLOC_OBJ_PACKAGE, "packages"},
                  {HWLOC_OBJ_NUMANODE, "numa_nodes"}};
    for (size_t i = 0; i < sizeof counts / sizeof *counts; i++) {
        const int n = hwloc_get_nbobjs_by_type(topo, counts[i].type);
        json_object_set_new(t, counts[i].name, n > 0 ? json_integer(n) : json_null());
    }
    json_object_set_new(t, "pus_allowed", json_integer(hwloc_bitmap_weight(mine)));
}

/* Per cache level: the smallest instance over the process's CPUs and the cores sharing it, the
 * smallest share per core (hybrid parts have several sizes, and a cluster of small cores
 * shares one L2; blocking must fit the smallest share), and the sum over instances (the last
 * level's total is what STREAM sizes against). */
static void topology_caches(json_t *t, hwloc_topology_t topo, hwloc_const_bitmap_t mine)
{
    static const struct {
        hwloc_obj_type_t type;
        const char *name;
    } caches[] = {{HWLOC_OBJ_L1CACHE, "l1d"}, {HWLOC_OBJ_L2CACHE, "l2"}, {HWLOC_OBJ_L3CACHE, "l3"}};
    char missing[128] = "";
    json_t *levels = json_object();
    for (size_t i = 0; i < 3; i++) {
        hwloc_uint64_t smallest = 0, total = 0, per_core = 0;
        int sharing = 0, instances = 0, ways = 0; /* ways: of the smallest; -1 fully associative */
        const int n = hwloc_get_nbobjs_by_type(topo, caches[i].type);
        for (int j = 0; j < n; j++) {
            hwloc_obj_t o = hwloc_get_obj_by_type(topo, caches[i].type, (unsigned)j);
            if (!o || o->attr->cache.type == HWLOC_OBJ_CACHE_INSTRUCTION) continue;
            if (!hwloc_bitmap_intersects(o->cpuset, mine) || !o->attr->cache.size) continue;
            int cores = hwloc_get_nbobjs_inside_cpuset_by_type(topo, o->cpuset, HWLOC_OBJ_CORE);
            if (cores < 1) cores = 1;
            instances++;
            total += o->attr->cache.size;
            if (!smallest || o->attr->cache.size < smallest) {
                smallest = o->attr->cache.size;
                sharing = cores;
                ways = o->attr->cache.associativity;
            }
            const hwloc_uint64_t share = o->attr->cache.size / (hwloc_uint64_t)cores;
            if (!per_core || share < per_core) per_core = share;
        }
        char key[32];
        snprintf(key, sizeof key, "%s_bytes", caches[i].name);
        json_object_set_new(t, key, bytes_or_null(smallest));
        if (smallest) {
            json_t *level = json_pack("{s:I, s:i, s:I, s:i, s:I}", "bytes", (json_int_t)smallest,
                                      "cores_sharing", sharing, "per_core_bytes",
                                      (json_int_t)per_core, "instances", instances,
                                      "total_bytes", (json_int_t)total);
            if (ways) json_object_set_new(level, "ways", json_integer(ways));
            json_object_set_new(levels, caches[i].name, level);
        } else {
            strncat(missing, missing[0] ? ", " : "", sizeof missing - strlen(missing) - 1);
            strncat(missing, key, sizeof missing - strlen(missing) - 1);
        }
    }
    json_object_set_new(t, "caches", levels);
    if (missing[0]) {
        char why[192];
        snprintf(why, sizeof why, "hwloc reports no size for %s", missing);
        json_object_set_new(t, "reason", json_string(why));
    }
}

/* Hybrid parts: hwloc ranks the kinds by efficiency (0 = the least power-hungry). */
static void topology_cpu_kinds(json_t *t, hwloc_topology_t topo)
{
    const int nkinds = hwloc_cpukinds_get_nr(topo, 0);
    if (nkinds > 1) {
        json_t *kinds = json_array();
        hwloc_bitmap_t set = hwloc_bitmap_alloc();
        for (int k = 0; k < nkinds; k++) {
            int efficiency = -1;
            unsigned ninfos = 0;
            struct hwloc_info_s *infos = NULL;
            if (hwloc_cpukinds_get_info(topo, (unsigned)k, set, &efficiency, &ninfos, &infos, 0))
                continue;
            const char *type = NULL;
            for (unsigned x = 0; x < ninfos; x++)
                if (!strcmp(infos[x].name, "CoreType")) type = infos[x].value;
            const int cores = hwloc_get_nbobjs_inside_cpuset_by_type(topo, set, HWLOC_OBJ_CORE);
            json_array_append_new(kinds, json_pack("{s:i, s:i, s:i, s:o}", "efficiency", efficiency,
                                                   "cores", cores, "pus", hwloc_bitmap_weight(set),
                                                   "core_type",
                                                   type ? json_string(type) : json_null()));
        }
        hwloc_bitmap_free(set);
        json_object_set_new(t, "cpu_kinds", kinds);
    }
}

json_t *sb_topology_json(void)
{
    json_t *t = json_object();
    hwloc_topology_t topo;
    if (hwloc_topology_init(&topo) || hwloc_topology_load(topo)) {
        json_object_set_new(t, "source", json_string("none"));
        json_object_set_new(t, "reason", json_string("hwloc could not load the topology"));
        return t;
    }
    hwloc_bitmap_t mine = sb_process_cpus(topo);
    topology_counts(t, topo, mine);
    topology_caches(t, topo, mine);
    topology_cpu_kinds(t, topo);
    hwloc_bitmap_free(mine);
    hwloc_topology_destroy(topo);

    struct sb_cache_estimate e;
    sb_cache_estimate(t, &e);
    json_t *est = json_pack("{s:o, s:o, s:o, s:o, s:o}", "l1d_bytes", bytes_or_null(e.l1d),
                            "l1d_ways",
                            e.l1d && e.l1d_ways ? json_integer((json_int_t)e.l1d_ways) : json_null(), "l2_bytes",
                            bytes_or_null(e.l2), "l3_bytes", bytes_or_null(e.l3), "llc_total_bytes",
                            bytes_or_null(e.llc_total));
    if (e.ignored[0]) json_object_set_new(est, "ignored", json_string(e.ignored));
    json_object_set_new(t, "cache_estimate", est);
    return t;
}

static void fmt_size(char *buf, size_t n, double bytes)
{
    if (bytes >= 1048576.0) snprintf(buf, n, "%.0f MiB", bytes / 1048576.0);
    else snprintf(buf, n, "%.0f KiB", bytes / 1024.0);
}

void sb_cache_estimate(const json_t *topology, struct sb_cache_estimate *e)
{
    memset(e, 0, sizeof *e);
    static const struct {
        const char *name, *label;
        double lo, hi, per_core;
    } bounds[] = {
        {"l1d", "L1d", 4096.0, 2097152.0, 2097152.0},
        {"l2", "L2", 65536.0, 67108864.0, 16777216.0},
        {"l3", "L3", 262144.0, 4294967296.0, 67108864.0},
    };
    const json_t *levels = json_object_get(topology, "caches");
    for (size_t i = 0; i < 3; i++) {
        const json_t *c = json_object_get(levels, bounds[i].name);
        if (!c) continue;
        const double bytes = (double)json_integer_value(json_object_get(c, "bytes"));
        json_int_t sharing = json_integer_value(json_object_get(c, "cores_sharing"));
        if (sharing < 1) sharing = 1;
        const double share = bytes / (double)sharing;
        char why[200] = "", size[32], each[32];
        fmt_size(size, sizeof size, bytes);
        fmt_size(each, sizeof each, share);
        if (bytes < bounds[i].lo || bytes > bounds[i].hi)
            snprintf(why, sizeof why, "%s of %s is outside physical bounds", bounds[i].label, size);
        else if (share > bounds[i].per_core)
            snprintf(why, sizeof why,
                     "%s of %s shared by %lld core%s (%s each) is implausible, a VM passing on "
                     "the host's figure",
                     bounds[i].label, size, (long long)sharing, sharing == 1 ? "" : "s", each);
        if (why[0]) {
            if (e->ignored[0]) strncat(e->ignored, "; ", sizeof e->ignored - strlen(e->ignored) - 1);
            strncat(e->ignored, why, sizeof e->ignored - strlen(e->ignored) - 1);
            continue;
        }
        /* L1d and L2 feed per-thread blocking: the smallest share a core gets. L3 is shared by
         * design: its instance size, and the total over instances for STREAM. */
        if (i == 0) {
            e->l1d = (size_t)json_integer_value(json_object_get(c, "per_core_bytes"));
            /* hwloc: -1 fully associative, 0 (absent here) unknown; sb_set_l1d_ways clamps */
            const json_int_t ways = json_integer_value(json_object_get(c, "ways"));
            e->l1d_ways = ways < 0 ? 64 : (size_t)ways;
        }
        if (i == 1) e->l2 = (size_t)json_integer_value(json_object_get(c, "per_core_bytes"));
        if (i == 2) {
            e->l3 = (size_t)bytes;
            e->llc_total = (size_t)json_integer_value(json_object_get(c, "total_bytes"));
        }
    }
    if (e->ignored[0]) strncat(e->ignored, ": ignored", sizeof e->ignored - strlen(e->ignored) - 1);
}

json_t *sb_apply_cache_blocking(const json_t *topology)
{
    struct sb_cache_estimate e;
    sb_cache_estimate(topology, &e);
    sb_set_cache_sizes(e.l1d, e.l2);
    /* Where hwloc gives no ways, 64 sets, as on every x86 L1d (32 KiB 8-way, 48 KiB 12-way):
     * the kernels' 8 would take a 48 KiB L1 for 96 sets and pack panels it holds. */
    if (e.l1d) sb_set_l1d_ways(e.l1d_ways ? e.l1d_ways : e.l1d / 4096); /* l1d >= 4 KiB */
    size_t use_l1, use_l2;
    sb_get_cache_sizes(&use_l1, &use_l2);
    json_t *b = json_pack("{s:I, s:I, s:I, s:s}", "l1d_bytes", (json_int_t)use_l1, "l1d_ways",
                          (json_int_t)sb_get_l1d_ways(), "l2_bytes", (json_int_t)use_l2, "source",
                          e.l1d && e.l2 ? "hwloc" : "default");
    if (!e.l1d || !e.l2) {
        char why[700];
        snprintf(why, sizeof why,
                 "no usable L1d or L2 size%s%s; the kernels' defaults (32 KiB, 512 KiB) are used "
                 "where there was none",
                 e.ignored[0] ? ": " : " from hwloc", e.ignored);
        json_object_set_new(b, "reason", json_string(why));
    }
    return b;
}

/* The OS indices of the CPUs in the process's affinity mask. */
static json_t *allowed_cpus_json(void)
{
    json_t *a = json_array();
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        for (int c = 0; c < CPU_SETSIZE; c++)
            if (CPU_ISSET(c, &set)) json_array_append_new(a, json_integer(c));
    return a;
}

/* Not binding, but --cpus given: every thread of the pool (and those it makes later) runs
 * within the list, unbound inside it. */
static void confine_threads(int threads, hwloc_const_bitmap_t allowed)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    unsigned c;
    hwloc_bitmap_foreach_begin(c, allowed) if (c < CPU_SETSIZE) CPU_SET(c, &set);
    hwloc_bitmap_foreach_end();
#pragma omp parallel num_threads(threads)
    sched_setaffinity(0, sizeof set, &set);
}

json_t *sb_bind_threads(int threads, int enable, const char *cpus)
{
    json_t *b = json_pack("{s:b}", "enabled", 0);
    const char *env = getenv("OMP_PROC_BIND");
    const char *gomp = getenv("GOMP_CPU_AFFINITY");
    const char *why_not = NULL;
    hwloc_topology_t topo = NULL;
    hwloc_bitmap_t allowed = hwloc_bitmap_alloc();
    char why[200] = "";
    int cores = 0;
    if (cpus && sb_cpulist_parse(cpus, allowed, why, sizeof why)) why_not = why;
    else if (!enable) why_not = "--no-bind";
    else if ((env && *env) || (gomp && *gomp)) why_not = "left to OMP_PROC_BIND / GOMP_CPU_AFFINITY";
    else if (hwloc_topology_init(&topo) || hwloc_topology_load(topo))
        why_not = "hwloc could not load the topology";
    else if (!hwloc_topology_is_thissystem(topo))
        why_not = "hwloc's topology is not this machine's (HWLOC_XMLFILE or HWLOC_SYNTHETIC): "
                  "threads left unbound";
    else if ((cores = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE)) <= 0)
        why_not = "hwloc reports no cores";
    struct sb_thread_placement place = {0};
    if (!why_not) {
        if (!cpus) {
            hwloc_bitmap_free(allowed);
            allowed = sb_process_cpus(topo);
        }
        if (sb_threads_place(topo, allowed, threads, &place, why, sizeof why)) why_not = why;
    }
    if (why_not) {
        if (topo) hwloc_topology_destroy(topo);
        /* OMP_PROC_BIND places the threads itself; --cpus is refused with it before this */
        if (cpus && why_not != why) confine_threads(threads, allowed);
        hwloc_bitmap_free(allowed);
        json_object_set_new(b, "reason", json_string(why_not));
        json_object_set_new(b, "cpus", allowed_cpus_json());
        return b;
    }
    hwloc_bitmap_free(allowed);
    int failed = 0;
    hwloc_bitmap_t used = hwloc_bitmap_alloc();
#pragma omp parallel num_threads(threads) reduction(+ : failed)
    {
        const int t = omp_get_thread_num();
        hwloc_bitmap_t pu = hwloc_bitmap_alloc();
        hwloc_bitmap_only(pu, place.cpus[t]);
        if (hwloc_set_cpubind(topo, pu, HWLOC_CPUBIND_THREAD) != 0) {
            failed++;
#pragma omp critical
            if (!why[0])
                snprintf(why, sizeof why, "hwloc_set_cpubind failed for thread %d: %s", t,
                         strerror(errno));
        } else {
#pragma omp critical
            hwloc_bitmap_or(used, used, pu);
        }
        hwloc_bitmap_free(pu);
    }
    hwloc_topology_destroy(topo);
    if (failed) {
        hwloc_bitmap_free(used);
        sb_thread_placement_free(&place);
        json_object_set_new(b, "reason", json_string(why));
        json_object_set_new(b, "threads_unbound", json_integer(failed));
        json_object_set_new(b, "cpus", allowed_cpus_json());
        return b;
    }
    json_t *used_json = json_array();
    unsigned c;
    hwloc_bitmap_foreach_begin(c, used) json_array_append_new(used_json, json_integer(c));
    hwloc_bitmap_foreach_end();
    hwloc_bitmap_free(used);
    json_t *placed = sb_thread_placement_json(&place);
    sb_thread_placement_free(&place);
    json_object_set_new(b, "enabled", json_true());
    json_object_set_new(b, "policy",
                        json_string("OpenMP thread i on PU cpus_by_thread[i] (hwloc): one PU "
                                    "a core, in the smallest cache domain holding the threads, "
                                    "fastest cores first; past the cores, thread i on core i "
                                    "mod cores"));
    json_object_set_new(b, "cores", json_integer(cores));
    json_object_set_new(b, "cpus", used_json);
    json_object_set(b, "domain", json_object_get(placed, "domain"));
    json_object_set(b, "cpus_by_thread", json_object_get(placed, "cpus_by_thread"));
    if (json_object_get(placed, "kind")) json_object_set(b, "kind", json_object_get(placed, "kind"));
    json_decref(placed);
    return b;
}

/* Best triad rate of `threads` over a, b, c of n floats: 5 passes, the first a warm-up. */
static double triad(float *a, const float *b, const float *c, size_t n, int threads)
{
    double best = 0.0;
    const float scale = 3.0f;
    for (int pass = 0; pass < 5; pass++) {
        const double t0 = sb_now();
#pragma omp parallel for schedule(static) num_threads(threads)
        for (size_t i = 0; i < n; i++) a[i] = b[i] + scale * c[i];
        const double dt = sb_now() - t0;
        const double gbs = 12.0 * (double)n / dt / 1e9;
        if (pass > 0 && gbs > best) best = gbs;
    }
    /* Keep the stores: a result nobody reads could be optimised away. */
    volatile float sink = a[n / 2];
    (void)sink;
    return best;
}

json_t *sb_bandwidth_json(int threads, const json_t *topology)
{
    struct sb_cache_estimate e;
    sb_cache_estimate(topology, &e);
    size_t bytes = e.llc_total ? 4 * e.llc_total : SB_BANDWIDTH_MAX_ARRAY;
    if (bytes < ((size_t)16 << 20)) bytes = (size_t)16 << 20;
    if (bytes > SB_BANDWIDTH_MAX_ARRAY) bytes = SB_BANDWIDTH_MAX_ARRAY;
    float *a = NULL, *b = NULL, *c = NULL;
    char failed[200] = "";
    /* Under an address-space limit, smaller arrays before none. */
    for (; bytes >= ((size_t)4 << 20); bytes /= 2) {
        a = aligned_alloc(64, bytes), b = aligned_alloc(64, bytes), c = aligned_alloc(64, bytes);
        if (a && b && c) break;
        char size[32];
        fmt_size(size, sizeof size, (double)bytes);
        if (!failed[0])
            snprintf(failed, sizeof failed, "cannot allocate 3 x %s: %s", size, strerror(errno));
        free(a), free(b), free(c);
        a = b = c = NULL;
    }
    json_t *j = json_pack("{s:i, s:s}", "threads", threads, "method",
                          "STREAM triad on floats, 12 bytes per element, three arrays of 4 x the "
                          "last-level cache within [16, 48] MiB, best of 4 passes");
    json_object_set_new(j, "llc_bytes", bytes_or_null(e.llc_total));
    if (!a) {
        json_object_set_new(j, "status", json_string("unavailable"));
        json_object_set_new(j, "reason", json_string(failed));
        json_object_set_new(j, "one_thread", json_null());
        json_object_set_new(j, "all_threads", json_null());
        json_object_set_new(j, "array_bytes", json_null());
        return j;
    }
    const size_t n = bytes / sizeof(float);
    /* First touch by the threads that will stream the pages. */
#pragma omp parallel for schedule(static) num_threads(threads)
    for (size_t i = 0; i < n; i++) {
        a[i] = 0.0f;
        b[i] = 1.0f;
        c[i] = 2.0f;
    }
    const double one = triad(a, b, c, n, 1), all = threads > 1 ? triad(a, b, c, n, threads) : one;
    free(a), free(b), free(c);
    json_object_set_new(j, "status", json_string("measured"));
    json_object_set_new(j, "one_thread", json_real(one));
    json_object_set_new(j, "all_threads", json_real(all));
    json_object_set_new(j, "array_bytes", json_integer((json_int_t)bytes));
    char note[400] = "";
    if (failed[0]) snprintf(note, sizeof note, "%s; smaller arrays used", failed);
    if (e.llc_total && 3 * bytes < 4 * e.llc_total) {
        char ws[32], llc[32];
        fmt_size(ws, sizeof ws, 3.0 * (double)bytes);
        fmt_size(llc, sizeof llc, (double)e.llc_total);
        snprintf(note + strlen(note), sizeof note - strlen(note),
                 "%sthe working set (%s) is under 4 x the last-level cache (%s): part of it may "
                 "be cache bandwidth",
                 note[0] ? "; " : "", ws, llc);
    } else if (!e.llc_total) {
        snprintf(note + strlen(note), sizeof note - strlen(note),
                 "%sno usable L3 size (unreported, or implausible): arrays of the largest size",
                 note[0] ? "; " : "");
    }
    if (note[0]) json_object_set_new(j, "note", json_string(note));
    return j;
}
