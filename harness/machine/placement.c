#define _GNU_SOURCE
#include "harness/machine/placement.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the allowed cores --------------------------------------------------------------------- */

/* One allowed core as placement sees it. */
struct core {
    unsigned pu;      /* its first allowed PU (OS index) */
    int order;        /* its place in topology order */
    int efficiency;   /* of its kind; -1 on a machine with one kind */
    const char *kind; /* "" on a machine with one kind */
};

struct cores {
    struct core *c;
    int n;
    /* hwloc cpukinds: names and cpusets, owned here */
    int nkinds;
    char kind_name[8][32];
    hwloc_bitmap_t kind_set[8];
    int kind_eff[8];
};

static void cores_free(struct cores *cs)
{
    free(cs->c);
    for (int k = 0; k < cs->nkinds; k++) hwloc_bitmap_free(cs->kind_set[k]);
    memset(cs, 0, sizeof *cs);
}

/* The kinds of a hybrid part. hwloc sorts them from the most power-efficient (rank 0) to the
 * fastest; where it knows no rank, that order stands in for it. One kind: none kept. */
static void load_kinds(hwloc_topology_t topo, struct cores *cs)
{
    const int nr = hwloc_cpukinds_get_nr(topo, 0);
    if (nr <= 1) return;
    for (int k = 0; k < nr && cs->nkinds < 8; k++) {
        hwloc_bitmap_t set = hwloc_bitmap_alloc();
        int eff = -1;
        unsigned ninfos = 0;
        struct hwloc_info_s *infos = NULL;
        if (hwloc_cpukinds_get_info(topo, (unsigned)k, set, &eff, &ninfos, &infos, 0)) {
            hwloc_bitmap_free(set);
            continue;
        }
        const int i = cs->nkinds++;
        cs->kind_set[i] = set;
        cs->kind_eff[i] = eff >= 0 ? eff : k;
        snprintf(cs->kind_name[i], sizeof cs->kind_name[i], "kind %d", k);
        for (unsigned x = 0; x < ninfos; x++)
            if (!strcmp(infos[x].name, "CoreType"))
                snprintf(cs->kind_name[i], sizeof cs->kind_name[i], "%s", infos[x].value);
    }
}

/* Every core with an allowed PU, in topology order. A topology without core objects (some
 * synthetic ones) has PUs only: each is a core. */
static int load_cores(hwloc_topology_t topo, hwloc_const_cpuset_t allowed, struct cores *cs)
{
    memset(cs, 0, sizeof *cs);
    if (!allowed) allowed = hwloc_topology_get_allowed_cpuset(topo);
    load_kinds(topo, cs);
    hwloc_obj_type_t type = HWLOC_OBJ_CORE;
    int n = hwloc_get_nbobjs_by_type(topo, type);
    if (n <= 0) type = HWLOC_OBJ_PU, n = hwloc_get_nbobjs_by_type(topo, type);
    if (n <= 0 || !(cs->c = calloc((size_t)n, sizeof *cs->c))) return -1;
    hwloc_bitmap_t mine = hwloc_bitmap_alloc();
    for (int i = 0; i < n; i++) {
        hwloc_obj_t o = hwloc_get_obj_by_type(topo, type, (unsigned)i);
        if (!o || !o->cpuset) continue;
        hwloc_bitmap_and(mine, o->cpuset, allowed);
        if (hwloc_bitmap_iszero(mine)) continue;
        struct core *c = &cs->c[cs->n];
        c->pu = (unsigned)hwloc_bitmap_first(mine);
        c->order = cs->n++;
        c->efficiency = -1;
        c->kind = "";
        for (int k = 0; k < cs->nkinds; k++)
            if (hwloc_bitmap_isset(cs->kind_set[k], c->pu)) {
                c->efficiency = cs->kind_eff[k];
                c->kind = cs->kind_name[k];
            }
    }
    hwloc_bitmap_free(mine);
    return 0;
}

/* Most efficient kind first (the highest rank: the fastest cores), then topology order. */
static int by_kind_then_order(const void *pa, const void *pb)
{
    const struct core *a = *(const struct core *const *)pa, *b = *(const struct core *const *)pb;
    if (a->efficiency != b->efficiency) return a->efficiency > b->efficiency ? -1 : 1;
    return (a->order > b->order) - (a->order < b->order);
}

/* The cores of cs inside set (and with efficiency >= min_eff), in placement order, into out
 * (room for cs->n). Returns how many. */
static int cores_in(const struct cores *cs, hwloc_const_cpuset_t set, int min_eff,
                    const struct core **out)
{
    int n = 0;
    for (int i = 0; i < cs->n; i++)
        if ((!set || hwloc_bitmap_isset(set, cs->c[i].pu)) && cs->c[i].efficiency >= min_eff)
            out[n++] = &cs->c[i];
    qsort(out, (size_t)n, sizeof *out, by_kind_then_order);
    return n;
}

/* The domains placement knows, from the smallest. */
static const struct {
    hwloc_obj_type_t type;
    const char *name;
} levels[] = {{HWLOC_OBJ_L2CACHE, "L2"},
              {HWLOC_OBJ_L3CACHE, "L3"},
              {HWLOC_OBJ_NUMANODE, "NUMA"},
              {HWLOC_OBJ_PACKAGE, "package"}};
#define NLEVELS ((int)(sizeof levels / sizeof *levels))

static void domain_name(char *buf, size_t n, int level, hwloc_obj_t o)
{
    if (level < 0) snprintf(buf, n, "machine");
    else snprintf(buf, n, "%s #%u", levels[level].name, o->logical_index);
}

/* ---- groups -------------------------------------------------------------------------------- */

int sb_group_spec_parse(const char *text, struct sb_group_spec *spec, char *err, size_t errlen)
{
    static const struct {
        const char *name;
        enum sb_group_by by;
    } names[] = {{"core", SB_GROUP_CORE}, {"l2", SB_GROUP_L2}, {"l3", SB_GROUP_L3},
                 {"numa", SB_GROUP_NUMA}, {"package", SB_GROUP_PACKAGE}};
    memset(spec, 0, sizeof *spec);
    for (size_t i = 0; text && i < sizeof names / sizeof *names; i++)
        if (!strcmp(text, names[i].name)) {
            spec->by = names[i].by;
            return 0;
        }
    char *end = NULL;
    errno = 0;
    const long n = text && *text >= '0' && *text <= '9' ? strtol(text, &end, 10) : 0;
    if (end && !*end && !errno && n >= 1 && n <= 1 << 20) {
        spec->by = SB_GROUP_N;
        spec->n = (int)n;
        return 0;
    }
    snprintf(err, errlen,
             "'%s': not core, l2, l3, numa, package or a whole number of cores >= 1",
             text ? text : "");
    return -1;
}

/* Groups as they are made, before sorting. */
struct builder {
    struct sb_groups *g;
    int cap;
    const struct cores *cs;
    hwloc_topology_t topo;
    int n;           /* SB_GROUP_N */
    const struct core **scratch;
    char *used;      /* by core order: in a group */
    int failed;
};

static void add_group(struct builder *b, const struct core *const *cores, int n, const char *domain)
{
    if (b->failed || n <= 0) return;
    if (b->g->n == b->cap) {
        const int cap = b->cap ? 2 * b->cap : 16;
        struct sb_cpu_group *grown = realloc(b->g->group, (size_t)cap * sizeof *grown);
        if (!grown) {
            b->failed = 1;
            return;
        }
        b->g->group = grown;
        b->cap = cap;
    }
    struct sb_cpu_group *x = &b->g->group[b->g->n];
    memset(x, 0, sizeof *x);
    if (!(x->cpus = malloc((size_t)n * sizeof *x->cpus))) {
        b->failed = 1;
        return;
    }
    b->g->n++;
    x->n = n;
    snprintf(x->domain, sizeof x->domain, "%s", domain);
    x->efficiency = cores[0]->efficiency;
    snprintf(x->kind, sizeof x->kind, "%s", cores[0]->kind);
    for (int i = 0; i < n; i++) {
        x->cpus[i] = cores[i]->pu;
        b->used[cores[i]->order] = 1;
        if (cores[i]->efficiency > x->efficiency) x->efficiency = cores[i]->efficiency;
        if (strcmp(cores[i]->kind, x->kind)) snprintf(x->kind, sizeof x->kind, "mixed");
    }
}

/* Groups of N inside the domain `set`: children (domains of a smaller level inside it) that
 * hold N cores make their own groups; the cores of those too small are pooled and cut here, in
 * topology order, so that no group straddles the smallest domain holding N of its cores. What
 * is left over stays unused. */
static void fill(struct builder *b, hwloc_const_cpuset_t set, const char *name, int below)
{
    hwloc_bitmap_t pool = hwloc_bitmap_dup(set);
    for (int lv = below - 1; lv >= 0; lv--) {
        const int nobj = hwloc_get_nbobjs_by_type(b->topo, levels[lv].type);
        int found = 0;
        for (int i = 0; i < nobj; i++) {
            hwloc_obj_t o = hwloc_get_obj_by_type(b->topo, levels[lv].type, (unsigned)i);
            if (!o || !o->cpuset || !hwloc_bitmap_isincluded(o->cpuset, set)) continue;
            found = 1;
            if (cores_in(b->cs, o->cpuset, -1, b->scratch) < b->n) continue;
            char child[48];
            domain_name(child, sizeof child, lv, o);
            fill(b, o->cpuset, child, lv);
            hwloc_bitmap_andnot(pool, pool, o->cpuset);
        }
        if (found) break; /* the next smaller domains are the children's business */
    }
    /* The pool in topology order: groups straddle small children, never this domain. */
    int n = 0;
    for (int i = 0; i < b->cs->n; i++)
        if (hwloc_bitmap_isset(pool, b->cs->c[i].pu)) b->scratch[n++] = &b->cs->c[i];
    hwloc_bitmap_free(pool);
    const struct core **mine = malloc((size_t)(n ? n : 1) * sizeof *mine);
    if (!mine) {
        b->failed = 1;
        return;
    }
    memcpy(mine, b->scratch, (size_t)n * sizeof *mine);
    for (int i = 0; i + b->n <= n; i += b->n) add_group(b, mine + i, b->n, name);
    free(mine);
}

/* Groups made in topology order: the most efficient kind's first, keeping that order. */
static void sort_groups(struct sb_groups *g)
{
    for (int i = 1; i < g->n; i++) {
        struct sb_cpu_group x = g->group[i];
        int j = i;
        for (; j > 0 && g->group[j - 1].efficiency < x.efficiency; j--) g->group[j] = g->group[j - 1];
        g->group[j] = x;
    }
}

int sb_groups_make(hwloc_topology_t topo, hwloc_const_cpuset_t allowed,
                   const struct sb_group_spec *spec, struct sb_groups *g, char *err, size_t errlen)
{
    memset(g, 0, sizeof *g);
    struct cores cs;
    if (load_cores(topo, allowed, &cs) || cs.n == 0) {
        snprintf(err, errlen, "no allowed core in the topology");
        cores_free(&cs);
        return -1;
    }
    struct builder b = {.g = g, .cs = &cs, .topo = topo, .n = spec->n};
    b.scratch = calloc((size_t)cs.n, sizeof *b.scratch);
    b.used = calloc((size_t)cs.n, 1);
    int rc = 0;
    if (!b.scratch || !b.used) {
        snprintf(err, errlen, "out of memory");
        rc = -1;
    } else if (spec->by == SB_GROUP_CORE) {
        for (int i = 0; i < cs.n; i++) {
            const struct core *c = &cs.c[i];
            char name[48];
            hwloc_obj_t o = hwloc_get_pu_obj_by_os_index(topo, c->pu);
            hwloc_obj_t core = o ? hwloc_get_ancestor_obj_by_type(topo, HWLOC_OBJ_CORE, o) : NULL;
            snprintf(name, sizeof name, "core #%u", core ? core->logical_index : (unsigned)i);
            add_group(&b, &c, 1, name);
        }
    } else if (spec->by == SB_GROUP_N) {
        if (cs.n < spec->n) {
            snprintf(err, errlen, "groups of %d cores: only %d allowed core%s", spec->n, cs.n,
                     cs.n == 1 ? "" : "s");
            rc = -1;
        } else {
            fill(&b, hwloc_get_root_obj(topo)->cpuset, "machine", NLEVELS);
        }
    } else {
        const int lv = spec->by == SB_GROUP_L2 ? 0 : spec->by == SB_GROUP_L3 ? 1
                       : spec->by == SB_GROUP_NUMA ? 2 : 3;
        const int nobj = hwloc_get_nbobjs_by_type(topo, levels[lv].type);
        if (nobj <= 0) {
            snprintf(err, errlen, "the topology has no %s level", levels[lv].name);
            rc = -1;
        }
        for (int i = 0; rc == 0 && i < nobj; i++) {
            hwloc_obj_t o = hwloc_get_obj_by_type(topo, levels[lv].type, (unsigned)i);
            if (!o || !o->cpuset) continue;
            char name[48];
            domain_name(name, sizeof name, lv, o);
            add_group(&b, b.scratch, cores_in(&cs, o->cpuset, -1, b.scratch), name);
        }
    }
    if (rc == 0 && b.failed) {
        snprintf(err, errlen, "out of memory");
        rc = -1;
    }
    if (rc == 0) {
        sort_groups(g);
        int unused = 0;
        for (int i = 0; i < cs.n; i++) unused += !b.used[i];
        if (unused && (g->unused = malloc((size_t)unused * sizeof *g->unused)))
            for (int i = 0; i < cs.n; i++)
                if (!b.used[i]) g->unused[g->nunused++] = cs.c[i].pu;
        if (g->nunused && spec->by == SB_GROUP_N)
            snprintf(g->note, sizeof g->note,
                     "%d allowed core%s in no group: a group of %d never straddles the smallest "
                     "domain holding %d cores, and what is left over in a domain stays unused",
                     g->nunused, g->nunused == 1 ? "" : "s", spec->n, spec->n);
        else if (g->nunused)
            snprintf(g->note, sizeof g->note, "%d allowed core%s in no domain of that level",
                     g->nunused, g->nunused == 1 ? "" : "s");
        if (g->n == 0 && rc == 0) {
            snprintf(err, errlen, "no group: no allowed core in any domain");
            rc = -1;
        }
    }
    free(b.scratch);
    free(b.used);
    cores_free(&cs);
    if (rc) sb_groups_free(g);
    return rc;
}

void sb_groups_free(struct sb_groups *g)
{
    for (int i = 0; i < g->n; i++) free(g->group[i].cpus);
    free(g->group);
    free(g->unused);
    memset(g, 0, sizeof *g);
}

/* ---- one training's threads ---------------------------------------------------------------- */

int sb_threads_place(hwloc_topology_t topo, hwloc_const_cpuset_t allowed, int threads,
                     struct sb_thread_placement *p, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    struct cores cs;
    if (threads < 1 || load_cores(topo, allowed, &cs) || cs.n == 0) {
        snprintf(err, errlen, threads < 1 ? "no threads to place" : "no allowed core in the topology");
        if (threads >= 1) cores_free(&cs);
        return -1;
    }
    const struct core **pick = calloc((size_t)cs.n, sizeof *pick);
    if (!pick || !(p->cpus = malloc((size_t)threads * sizeof *p->cpus))) {
        free(pick);
        cores_free(&cs);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* The fastest kind alone while its cores hold the threads, then it and the next slower
     * kind, and so on; all kinds when none does. */
    int min_eff = -1;
    for (int above = 1 << 30;;) {
        int e = -2, have = 0;
        for (int i = 0; i < cs.n; i++)
            if (cs.c[i].efficiency < above && cs.c[i].efficiency > e) e = cs.c[i].efficiency;
        if (e < -1) break;
        for (int i = 0; i < cs.n; i++) have += cs.c[i].efficiency >= e;
        if (have >= threads) {
            min_eff = e;
            break;
        }
        above = e;
    }
    int n = 0;
    char name[48] = "machine";
    if (threads <= cs.n) {
        for (int lv = 0; lv < NLEVELS && !n; lv++) {
            const int nobj = hwloc_get_nbobjs_by_type(topo, levels[lv].type);
            for (int i = 0; i < nobj; i++) {
                hwloc_obj_t o = hwloc_get_obj_by_type(topo, levels[lv].type, (unsigned)i);
                if (!o || !o->cpuset || cores_in(&cs, o->cpuset, min_eff, pick) < threads) continue;
                n = cores_in(&cs, o->cpuset, min_eff, pick);
                domain_name(name, sizeof name, lv, o);
                break;
            }
        }
    }
    if (!n) n = cores_in(&cs, NULL, min_eff, pick);
    p->threads = threads;
    p->cores = n;
    snprintf(p->domain, sizeof p->domain, "%s", name);
    snprintf(p->kind, sizeof p->kind, "%s", pick[0]->kind);
    for (int t = 0; t < threads; t++) {
        const struct core *c = pick[t % n];
        p->cpus[t] = c->pu;
        if (t < n && strcmp(c->kind, p->kind)) snprintf(p->kind, sizeof p->kind, "mixed");
    }
    free(pick);
    cores_free(&cs);
    return 0;
}

void sb_thread_placement_free(struct sb_thread_placement *p)
{
    free(p->cpus);
    memset(p, 0, sizeof *p);
}

/* ---- JSON ---------------------------------------------------------------------------------- */

static json_t *cpu_array(const unsigned *cpus, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++) json_array_append_new(a, json_integer(cpus[i]));
    return a;
}

json_t *sb_groups_json(const struct sb_groups *g)
{
    json_t *groups = json_array();
    for (int i = 0; i < g->n; i++) {
        const struct sb_cpu_group *x = &g->group[i];
        json_t *o = json_pack("{s:o, s:i, s:s}", "cpus", cpu_array(x->cpus, x->n), "cores", x->n,
                              "domain", x->domain);
        if (x->kind[0]) json_object_set_new(o, "kind", json_string(x->kind));
        json_array_append_new(groups, o);
    }
    json_t *j = json_pack("{s:o, s:o}", "groups", groups, "unused", cpu_array(g->unused, g->nunused));
    if (g->note[0]) json_object_set_new(j, "note", json_string(g->note));
    return j;
}

json_t *sb_thread_placement_json(const struct sb_thread_placement *p)
{
    char domain[96];
    snprintf(domain, sizeof domain, "%s, %d core%s", p->domain, p->cores, p->cores == 1 ? "" : "s");
    json_t *j = json_pack("{s:i, s:o, s:s}", "threads", p->threads, "cpus_by_thread",
                          cpu_array(p->cpus, p->threads), "domain", domain);
    if (p->kind[0]) json_object_set_new(j, "kind", json_string(p->kind));
    return j;
}

/* ---- CPU lists ----------------------------------------------------------------------------- */

/* A CPU number: digits only, below 2^20. */
static int cpu_number(const char *s, const char *end, unsigned *v)
{
    if (s == end) return -1;
    unsigned long x = 0;
    for (; s < end; s++) {
        if (*s < '0' || *s > '9') return -1;
        x = x * 10 + (unsigned long)(*s - '0');
        if (x >= 1ul << 20) return -1;
    }
    *v = (unsigned)x;
    return 0;
}

int sb_cpulist_parse(const char *text, hwloc_bitmap_t set, char *err, size_t errlen)
{
    hwloc_bitmap_zero(set);
    const char *s = text ? text : "";
    if (!*s) {
        snprintf(err, errlen, "'%s': an empty CPU list", s);
        return -1;
    }
    for (;;) {
        const char *end = strchr(s, ',');
        if (!end) end = s + strlen(s);
        const char *dash = memchr(s, '-', (size_t)(end - s));
        unsigned lo, hi;
        if (dash ? cpu_number(s, dash, &lo) || cpu_number(dash + 1, end, &hi) || lo > hi
                 : cpu_number(s, end, &lo)) {
            snprintf(err, errlen, "'%s': '%.*s' is not a CPU number or a range A-B with A <= B",
                     text, (int)(end - s), s);
            return -1;
        }
        hwloc_bitmap_set_range(set, lo, dash ? (int)hi : (int)lo);
        if (!*end) return 0;
        s = end + 1;
    }
}

hwloc_bitmap_t sb_process_cpus(hwloc_topology_t topo)
{
    hwloc_bitmap_t set = hwloc_bitmap_alloc();
    if (!hwloc_topology_is_thissystem(topo) ||
        hwloc_get_cpubind(topo, set, HWLOC_CPUBIND_PROCESS) != 0 || hwloc_bitmap_iszero(set))
        hwloc_bitmap_copy(set, hwloc_topology_get_allowed_cpuset(topo));
    return set;
}

int sb_cpulist_cores(const char *list)
{
    hwloc_topology_t topo;
    if (hwloc_topology_init(&topo)) return 0;
    if (hwloc_topology_load(topo)) {
        hwloc_topology_destroy(topo);
        return 0;
    }
    hwloc_bitmap_t set = hwloc_bitmap_alloc(), may = sb_process_cpus(topo);
    char err[256];
    int n = 0;
    if (set && may && !sb_cpulist_parse(list, set, err, sizeof err)) {
        hwloc_bitmap_and(set, set, may);
        hwloc_obj_t core = NULL;
        while ((core = hwloc_get_next_obj_by_type(topo, HWLOC_OBJ_CORE, core)))
            n += hwloc_bitmap_intersects(core->cpuset, set);
    }
    hwloc_bitmap_free(set);
    hwloc_bitmap_free(may);
    hwloc_topology_destroy(topo);
    return n;
}

int sb_restrict_cpus(const char *list, char *err, size_t errlen)
{
    hwloc_bitmap_t want = hwloc_bitmap_alloc(), may = hwloc_bitmap_alloc();
    int rc = 0;
    cpu_set_t set;
    char detail[200];
    if (sb_cpulist_parse(list, want, detail, sizeof detail)) {
        snprintf(err, errlen, "--cpus %s", detail);
        rc = -2;
    } else if (sched_getaffinity(0, sizeof set, &set) != 0) {
        snprintf(err, errlen, "--cpus '%s': cannot read this process's CPUs: %s", list,
                 strerror(errno));
        rc = -1;
    } else {
        for (int c = 0; c < CPU_SETSIZE; c++)
            if (CPU_ISSET(c, &set)) hwloc_bitmap_set(may, (unsigned)c);
        if (!hwloc_bitmap_isincluded(want, may)) {
            char bad[96], mine[96];
            hwloc_bitmap_t outside = hwloc_bitmap_alloc();
            hwloc_bitmap_andnot(outside, want, may);
            hwloc_bitmap_list_snprintf(bad, sizeof bad, outside);
            hwloc_bitmap_list_snprintf(mine, sizeof mine, may);
            hwloc_bitmap_free(outside);
            snprintf(err, errlen, "--cpus '%s': CPU %s not available to this process (it may use %s)",
                     list, bad, mine);
            rc = -2;
        } else {
            CPU_ZERO(&set);
            unsigned c;
            hwloc_bitmap_foreach_begin(c, want) CPU_SET(c, &set);
            hwloc_bitmap_foreach_end();
            if (sched_setaffinity(0, sizeof set, &set) != 0) {
                snprintf(err, errlen, "--cpus '%s': sched_setaffinity: %s", list, strerror(errno));
                rc = -1;
            }
        }
    }
    hwloc_bitmap_free(want);
    hwloc_bitmap_free(may);
    return rc;
}
