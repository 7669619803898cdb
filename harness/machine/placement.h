/* Where trainings and their threads go on a machine's topology: groups of cores for concurrent
 * trainings, and the CPUs of one training's threads. Pure logic over a loaded hwloc topology
 * and an allowed cpuset, so that it can be tested under any topology (XML, synthetic); the
 * binding itself is sb_bind_threads (context.c). */
#ifndef SPECBIAS_HARNESS_PLACEMENT_H
#define SPECBIAS_HARNESS_PLACEMENT_H

#include <hwloc.h>
#include <jansson.h>
#include <stddef.h>

/* How cores are grouped: one group per core, per L2, L3, NUMA node or package, or N cores a
 * group. */
enum sb_group_by { SB_GROUP_CORE, SB_GROUP_L2, SB_GROUP_L3, SB_GROUP_NUMA, SB_GROUP_PACKAGE, SB_GROUP_N };

struct sb_group_spec {
    enum sb_group_by by;
    int n; /* SB_GROUP_N: cores a group */
};

/* "core", "l2", "l3", "numa", "package" or a whole number N >= 1. Returns 0, or -1 with a
 * message naming the value in err. */
int sb_group_spec_parse(const char *text, struct sb_group_spec *spec, char *err, size_t errlen);

/* A set of CPUs: one PU per core (the core's first allowed PU, so that SMT siblings never go
 * to two threads of one training), in placement order. */
struct sb_cpu_group {
    unsigned *cpus;  /* PU OS indices */
    int n;
    char domain[48]; /* where it lies: "L3 #3", "NUMA #0", "core #5", "machine" */
    char kind[32];   /* hybrid parts: the core type of its cores ("IntelCore"), "mixed" when
                      * they differ; "" on a machine with one kind */
    int efficiency;  /* hwloc's efficiency rank of that kind (higher: faster cores), -1 none */
};

struct sb_groups {
    struct sb_cpu_group *group;
    int n;
    unsigned *unused; /* allowed cores (their first allowed PU) in no group */
    int nunused;
    char note[256];   /* why cores are unused, "" if none */
};

/* Disjoint groups of the allowed cores for concurrent trainings. For a level (L2, L3, NUMA,
 * package): one group per domain with allowed cores. For N: groups of N cores that never
 * straddle the smallest domain holding N of them, in topology order; what is left over in a
 * domain is unused. Groups of the most efficient kind of core (hwloc cpukinds) come first.
 * allowed NULL: the topology's allowed CPUs. Returns 0, or -1 with the reason in err (a level
 * the topology lacks, no allowed core). */
int sb_groups_make(hwloc_topology_t topo, hwloc_const_cpuset_t allowed,
                   const struct sb_group_spec *spec, struct sb_groups *g, char *err, size_t errlen);
void sb_groups_free(struct sb_groups *g);

/* The CPUs of one training's threads: thread i on PU cpus[i]. The threads stay in the smallest
 * cache domain (L2, L3, NUMA node, package, machine) whose allowed cores hold them all, on the
 * most efficient kind of core while its cores hold them; within it, most efficient kind
 * first, then topology order. More threads than allowed cores wrap (thread i on core i mod
 * cores); domain is then the machine. allowed NULL: the topology's allowed CPUs. Returns 0, or
 * -1 with the reason in err (no allowed core). */
struct sb_thread_placement {
    unsigned *cpus; /* one per thread */
    int threads;
    int cores;       /* allowed cores in the domain */
    char domain[48]; /* "L3 #3" */
    char kind[32];   /* as in sb_cpu_group */
};
int sb_threads_place(hwloc_topology_t topo, hwloc_const_cpuset_t allowed, int threads,
                     struct sb_thread_placement *p, char *err, size_t errlen);
void sb_thread_placement_free(struct sb_thread_placement *p);

/* {groups: [{cpus, domain, kind?}], unused: [...], note?} and {threads, cpus_by_thread,
 * domain ("L3 #3, 8 cores"), kind?}. */
json_t *sb_groups_json(const struct sb_groups *g);
json_t *sb_thread_placement_json(const struct sb_thread_placement *p);

/* The CPUs this process may use in topo: its binding where hwloc can read it (this system),
 * else the topology's allowed set. The caller frees it. */
hwloc_bitmap_t sb_process_cpus(hwloc_topology_t topo);

/* A Linux cpulist ("0-3,8"): PU OS indices into set. Returns 0, or -1 with a message naming
 * the value in err. */
int sb_cpulist_parse(const char *text, hwloc_bitmap_t set, char *err, size_t errlen);

/* The cores with a PU in LIST (a cpulist) that this process may use: what `--threads max`
 * means beside `--cpus LIST`. 0 when none or LIST is malformed (--cpus then says why). */
int sb_cpulist_cores(const char *list);

/* --cpus LIST: the process runs on these CPUs only, from now on (threads created later inherit
 * it). Returns 0; -2 when LIST is malformed or holds CPUs this process may not use (bad
 * input), -1 when the kernel refuses; with the reason, naming LIST, in err. */
int sb_restrict_cpus(const char *list, char *err, size_t errlen);

#endif
