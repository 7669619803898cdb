/* Where the trainer's memory lands on a NUMA machine (harness/train/model.c, sb_floats_alloc):
 * one OpenMP thread bound to each NUMA node that has cores, then every thread's share of a
 * buffer, of a model's parameters and of its activations must sit on that thread's node, which
 * only a first write by that thread gives (Linux places a page where it is first written).
 * Allocated by the main thread alone, every share would sit on the main thread's node.
 * A machine with one such node cannot show who wrote a page first: the test skips there, with
 * the reason; so does one whose memory policy is not first touch (numactl --interleave), or
 * whose kernel does not say where a page is. */
#include "harness/train/model.h"

#include <errno.h>
#include <hwloc.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#define MAX_NODES 8
#define SKIP 77

static hwloc_topology_t topo;
static hwloc_obj_t nodes[MAX_NODES];
static int n_nodes, failures;

static int skip(const char *why)
{
    printf("SKIP: %s\n", why);
    return SKIP;
}

/* Returns -1 where the kernel cannot say where the page of p is (the caller skips), else 0,
 * counting a failure where the page is not on the node of the thread that owns it. */
static int check_page(const char *what, const float *p, int thread)
{
    hwloc_nodeset_t where = hwloc_bitmap_alloc();
    const int rc = hwloc_get_area_memlocation(topo, p, sizeof *p, where, HWLOC_MEMBIND_BYNODESET);
    if (rc == 0 && !hwloc_bitmap_isequal(where, nodes[thread]->nodeset)) {
        char got[64], want[64];
        hwloc_bitmap_list_snprintf(got, sizeof got, where);
        hwloc_bitmap_list_snprintf(want, sizeof want, nodes[thread]->nodeset);
        printf("FAIL: %s: thread %d's share (bound to NUMA node %s) is on node %s\n", what,
               thread, want, got);
        failures++;
    }
    hwloc_bitmap_free(where);
    return rc == 0 ? 0 : -1;
}

/* The middle of every thread's sb_share of n floats at p: a share spans many pages, so its
 * middle page is written by its thread alone. */
static int check_shares(const char *what, const float *p, size_t n)
{
    for (int t = 0; t < n_nodes; t++) {
        size_t c0, c1;
        sb_share((n + 15) / 16 * 16, (size_t)t, (size_t)n_nodes, &c0, &c1);
        if (c1 - c0 < 3 * 4096 / sizeof *p) {
            printf("FAIL: %s: thread %d's share is %zu floats, too short to check\n", what, t,
                   c1 - c0);
            failures++;
            continue;
        }
        if (check_page(what, p + (c0 + c1) / 2, t)) return -1;
    }
    return 0;
}

int main(void)
{
    /* With transparent huge pages a 2 MB page holding the middle of one thread's share can
     * reach into the next thread's, and whichever writes it first places all of it. */
    prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
    if (hwloc_topology_init(&topo) || hwloc_topology_load(topo))
        return skip("hwloc cannot load the topology");
    if (!hwloc_topology_is_thissystem(topo))
        return skip("hwloc's topology is not this machine's (HWLOC_XMLFILE or HWLOC_SYNTHETIC)");
    const int all = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_NUMANODE);
    for (int i = 0; i < all && n_nodes < MAX_NODES; i++) {
        hwloc_obj_t node = hwloc_get_obj_by_type(topo, HWLOC_OBJ_NUMANODE, i);
        if (node->cpuset && !hwloc_bitmap_iszero(node->cpuset)) nodes[n_nodes++] = node;
    }
    if (n_nodes < 2) {
        printf("SKIP: %d NUMA node(s) with cores here (%d in all): where a page lands cannot "
               "show which thread wrote it first\n", n_nodes, all);
        return SKIP;
    }
    hwloc_membind_policy_t policy;
    hwloc_nodeset_t policy_nodes = hwloc_bitmap_alloc();
    if (hwloc_get_membind(topo, policy_nodes, &policy, HWLOC_MEMBIND_BYNODESET) == 0 &&
        policy != HWLOC_MEMBIND_DEFAULT && policy != HWLOC_MEMBIND_FIRSTTOUCH)
        return skip("the process's memory policy is not first touch (numactl?)");
    hwloc_bitmap_free(policy_nodes);

    /* one thread bound to each node's cores, as sb_bind_threads binds a training spanning them */
    omp_set_num_threads(n_nodes);
    int unbound = 0, team = 0;
#pragma omp parallel reduction(+ : unbound)
    {
        const int t = omp_get_thread_num();
#pragma omp single
        team = omp_get_num_threads();
        if (hwloc_set_cpubind(topo, nodes[t]->cpuset, HWLOC_CPUBIND_THREAD)) unbound++;
    }
    if (team != n_nodes) return skip("OpenMP gave fewer threads than NUMA nodes (OMP_DYNAMIC?)");
    if (unbound) return skip("threads cannot be bound to each NUMA node's cores here");
    printf("%d threads, one on each of %d NUMA nodes\n", n_nodes, n_nodes);

    const size_t n = (size_t)n_nodes << 20; /* 4 MiB a thread */
    float *buf = sb_floats_alloc(n);
    struct sb_model m;
    struct sb_activations a;
    const struct sb_model_spec spec = {1, 2, 256, 1, SB_OUT_LINEAR};
    struct sb_encoding enc = {.kind = SB_ENC_NONE};
    const size_t rows = 2048 * (size_t)n_nodes;
    if (!buf || sb_model_init(&m, &spec, &enc, 1) || sb_activations_alloc(&a, &m, rows)) {
        printf("FAIL: out of memory\n");
        return 1;
    }
    if (check_shares("sb_floats_alloc", buf, n) ||
        check_shares("the parameters", m.params, m.n_params) ||
        check_shares("a layer's activations", a.act[0], rows * a.ld_act))
        return failures ? 1
                        : skip("the kernel does not say where a page is "
                               "(hwloc_get_area_memlocation)");
    sb_activations_free(&a);
    sb_model_free(&m);
    free(buf);
    hwloc_topology_destroy(topo);
    if (failures) return 1;
    printf("every thread's share is on its own node\n");
    return 0;
}
