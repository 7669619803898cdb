/* Placement (harness/machine/placement.c) under machines nobody here has: hwloc synthetic
 * topologies and the XML files of tests/topologies. Every group's PUs and every thread's PU
 * are asserted exactly; the CLI over the same code is tests/cli_machine.sh. */
#include "harness/machine/placement.h"

#include <hwloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define SERVER "pack:2 [numa] l3:8(size=32MiB) l2:8(size=1MiB) l1d:1(size=48KiB) core:1 pu:2"
#define ONE_CORE "pack:1 l3:1(size=8MiB) l2:1(size=512KiB) l1d:1(size=32KiB) core:1 pu:1"
#define NO_L3 "pack:1 l2:4(size=1MiB) l1d:1(size=32KiB) core:1 pu:1"

static hwloc_topology_t synthetic(const char *desc)
{
    hwloc_topology_t t;
    assert_int_equal(hwloc_topology_init(&t), 0);
    assert_int_equal(hwloc_topology_set_synthetic(t, desc), 0);
    assert_int_equal(hwloc_topology_load(t), 0);
    return t;
}

static hwloc_topology_t xml(const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/topologies/%s", SB_SOURCE_DIR, name);
    hwloc_topology_t t;
    assert_int_equal(hwloc_topology_init(&t), 0);
    assert_int_equal(hwloc_topology_set_xml(t, path), 0);
    assert_int_equal(hwloc_topology_load(t), 0);
    return t;
}

static void groups(hwloc_topology_t t, hwloc_const_cpuset_t allowed, const char *spec_text,
                   struct sb_groups *g)
{
    struct sb_group_spec spec;
    char err[256] = "";
    assert_int_equal(sb_group_spec_parse(spec_text, &spec, err, sizeof err), 0);
    if (sb_groups_make(t, allowed, &spec, g, err, sizeof err)) fail_msg("%s: %s", spec_text, err);
}

static void place(hwloc_topology_t t, hwloc_const_cpuset_t allowed, int threads,
                  struct sb_thread_placement *p)
{
    char err[256] = "";
    if (sb_threads_place(t, allowed, threads, p, err, sizeof err)) fail_msg("%d threads: %s", threads, err);
    assert_int_equal(p->threads, threads);
}

/* The group's PUs are first, first + step, ... (n of them). */
static void assert_run(const unsigned *cpus, int n, unsigned first, unsigned step)
{
    for (int i = 0; i < n; i++) assert_int_equal(cpus[i], first + step * (unsigned)i);
}

/* ---- specs --------------------------------------------------------------------------------- */

static void test_specs(void **state)
{
    (void)state;
    struct sb_group_spec s;
    char err[256];
    assert_int_equal(sb_group_spec_parse("l3", &s, err, sizeof err), 0);
    assert_int_equal(s.by, SB_GROUP_L3);
    assert_int_equal(sb_group_spec_parse("package", &s, err, sizeof err), 0);
    assert_int_equal(s.by, SB_GROUP_PACKAGE);
    assert_int_equal(sb_group_spec_parse("12", &s, err, sizeof err), 0);
    assert_true(s.by == SB_GROUP_N && s.n == 12);
    static const char *const bad[] = {"0", "l5", "x", "", "-4", "4x", "L3"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = 0;
        assert_int_equal(sb_group_spec_parse(bad[i], &s, err, sizeof err), -1);
        char quoted[32];
        snprintf(quoted, sizeof quoted, "'%s'", bad[i]);
        assert_non_null(strstr(err, quoted));
    }
}

static void test_cpulist(void **state)
{
    (void)state;
    hwloc_bitmap_t set = hwloc_bitmap_alloc();
    char err[256], text[64];
    assert_int_equal(sb_cpulist_parse("0-3,8", set, err, sizeof err), 0);
    hwloc_bitmap_list_snprintf(text, sizeof text, set);
    assert_string_equal(text, "0-3,8");
    assert_int_equal(sb_cpulist_parse("5", set, err, sizeof err), 0);
    assert_int_equal(hwloc_bitmap_first(set), 5);
    assert_int_equal(hwloc_bitmap_weight(set), 1);
    static const char *const bad[] = {"", "3-1", "a", "1,,2", "1-", "-1", "0x1", "1 ", "99999999"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = 0;
        assert_int_equal(sb_cpulist_parse(bad[i], set, err, sizeof err), -1);
        char quoted[32];
        snprintf(quoted, sizeof quoted, "'%s'", bad[i]);
        assert_non_null(strstr(err, quoted));
    }
    hwloc_bitmap_free(set);
}

/* ---- the 2 x 64-core server, 8 L3 domains of 8 cores a socket, 2 PUs a core ------------- */

static void test_server_groups(void **state)
{
    (void)state;
    hwloc_topology_t t = synthetic(SERVER);
    struct sb_groups g;
    /* one group per L3: its 8 cores' first PUs */
    groups(t, NULL, "l3", &g);
    assert_int_equal(g.n, 16);
    for (int i = 0; i < 16; i++) {
        char name[16];
        snprintf(name, sizeof name, "L3 #%d", i);
        assert_string_equal(g.group[i].domain, name);
        assert_int_equal(g.group[i].n, 8);
        assert_run(g.group[i].cpus, 8, 16u * (unsigned)i, 2);
        assert_string_equal(g.group[i].kind, "");
    }
    assert_int_equal(g.nunused, 0);
    sb_groups_free(&g);
    groups(t, NULL, "numa", &g);
    assert_int_equal(g.n, 2);
    assert_run(g.group[0].cpus, 64, 0, 2);
    assert_run(g.group[1].cpus, 64, 128, 2);
    assert_string_equal(g.group[1].domain, "NUMA #1");
    sb_groups_free(&g);
    groups(t, NULL, "package", &g);
    assert_int_equal(g.n, 2);
    assert_string_equal(g.group[0].domain, "package #0");
    sb_groups_free(&g);
    groups(t, NULL, "core", &g);
    assert_int_equal(g.n, 128);
    for (int i = 0; i < 128; i++) assert_true(g.group[i].n == 1 && g.group[i].cpus[0] == 2u * (unsigned)i);
    sb_groups_free(&g);
    /* 4 cores a group: two a L3, none straddling one */
    groups(t, NULL, "4", &g);
    assert_int_equal(g.n, 32);
    for (int i = 0; i < 32; i++) {
        char name[16];
        snprintf(name, sizeof name, "L3 #%d", i / 2);
        assert_string_equal(g.group[i].domain, name);
        assert_run(g.group[i].cpus, 4, 8u * (unsigned)i, 2);
    }
    assert_int_equal(g.nunused, 0);
    assert_string_equal(g.note, "");
    sb_groups_free(&g);
    /* 3 a group: two a L3, 2 cores of each L3 left over, noted */
    groups(t, NULL, "3", &g);
    assert_int_equal(g.n, 32);
    assert_run(g.group[1].cpus, 3, 6, 2);
    assert_run(g.group[2].cpus, 3, 16, 2);
    assert_int_equal(g.nunused, 32);
    assert_true(g.unused[0] == 12 && g.unused[1] == 14 && g.unused[2] == 28);
    sb_groups_free(&g);
    /* 12 a group: more than an L3, within a NUMA node (= package); 4 cores of each left */
    groups(t, NULL, "12", &g);
    assert_int_equal(g.n, 10);
    for (int i = 0; i < 10; i++) {
        const unsigned first = i < 5 ? 24u * (unsigned)i : 128u + 24u * (unsigned)(i - 5);
        assert_run(g.group[i].cpus, 12, first, 2);
        assert_string_equal(g.group[i].domain, i < 5 ? "NUMA #0" : "NUMA #1");
    }
    assert_int_equal(g.nunused, 8);
    assert_run(g.unused, 4, 120, 2);
    assert_run(g.unused + 4, 4, 248, 2);
    assert_non_null(strstr(g.note, "8 allowed cores in no group"));
    /* JSON: the same */
    json_t *j = sb_groups_json(&g);
    assert_int_equal(json_array_size(json_object_get(j, "groups")), 10);
    assert_int_equal(json_array_size(json_object_get(j, "unused")), 8);
    json_t *g9 = json_array_get(json_object_get(j, "groups"), 9);
    assert_int_equal(json_integer_value(json_array_get(json_object_get(g9, "cpus"), 0)), 224);
    assert_string_equal(json_string_value(json_object_get(g9, "domain")), "NUMA #1");
    assert_non_null(json_object_get(j, "note"));
    json_decref(j);
    sb_groups_free(&g);
    /* more than the machine */
    struct sb_group_spec spec = {SB_GROUP_N, 129};
    char err[256] = "";
    assert_int_equal(sb_groups_make(t, NULL, &spec, &g, err, sizeof err), -1);
    assert_non_null(strstr(err, "only 128 allowed cores"));
    hwloc_topology_destroy(t);
}

static void test_server_threads(void **state)
{
    (void)state;
    hwloc_topology_t t = synthetic(SERVER);
    struct sb_thread_placement p;
    place(t, NULL, 1, &p);
    assert_true(p.cpus[0] == 0 && !strcmp(p.domain, "L2 #0") && p.cores == 1);
    sb_thread_placement_free(&p);
    place(t, NULL, 8, &p); /* one L3 */
    assert_run(p.cpus, 8, 0, 2);
    assert_string_equal(p.domain, "L3 #0");
    json_t *j = sb_thread_placement_json(&p);
    assert_string_equal(json_string_value(json_object_get(j, "domain")), "L3 #0, 8 cores");
    assert_int_equal(json_array_size(json_object_get(j, "cpus_by_thread")), 8);
    json_decref(j);
    sb_thread_placement_free(&p);
    place(t, NULL, 12, &p); /* more than an L3: one NUMA node */
    assert_run(p.cpus, 12, 0, 2);
    assert_true(!strcmp(p.domain, "NUMA #0") && p.cores == 64);
    sb_thread_placement_free(&p);
    place(t, NULL, 64, &p);
    assert_run(p.cpus, 64, 0, 2);
    assert_string_equal(p.domain, "NUMA #0");
    sb_thread_placement_free(&p);
    place(t, NULL, 200, &p); /* more than the cores: wraps, SMT siblings never used */
    assert_true(!strcmp(p.domain, "machine") && p.cores == 128);
    for (int i = 0; i < 200; i++) assert_int_equal(p.cpus[i], 2u * (unsigned)(i % 128));
    sb_thread_placement_free(&p);
    /* allowed: the second L3 (both PUs of its cores) and the odd PUs of the third */
    hwloc_bitmap_t allowed = hwloc_bitmap_alloc();
    hwloc_bitmap_set_range(allowed, 16, 31);
    for (unsigned c = 33; c < 48; c += 2) hwloc_bitmap_set(allowed, c);
    place(t, allowed, 8, &p);
    assert_run(p.cpus, 8, 16, 2);
    assert_string_equal(p.domain, "L3 #1");
    sb_thread_placement_free(&p);
    place(t, allowed, 12, &p); /* 16 cores across two L3s of NUMA #0 */
    assert_run(p.cpus, 8, 16, 2);
    assert_run(p.cpus + 8, 4, 33, 2);
    assert_true(!strcmp(p.domain, "NUMA #0") && p.cores == 16);
    sb_thread_placement_free(&p);
    struct sb_groups g;
    groups(t, allowed, "l3", &g);
    assert_int_equal(g.n, 2);
    assert_run(g.group[1].cpus, 8, 33, 2);
    sb_groups_free(&g);
    hwloc_bitmap_free(allowed);
    hwloc_topology_destroy(t);
}

/* ---- one core, a Zen 5 VM, no L3 ----------------------------------------------------------- */

static void test_one_core(void **state)
{
    (void)state;
    hwloc_topology_t t = synthetic(ONE_CORE);
    struct sb_groups g;
    groups(t, NULL, "l3", &g);
    assert_true(g.n == 1 && g.group[0].n == 1 && g.group[0].cpus[0] == 0);
    sb_groups_free(&g);
    groups(t, NULL, "core", &g);
    assert_true(g.n == 1 && g.group[0].cpus[0] == 0);
    sb_groups_free(&g);
    struct sb_group_spec spec = {SB_GROUP_N, 2};
    char err[256];
    assert_int_equal(sb_groups_make(t, NULL, &spec, &g, err, sizeof err), -1);
    struct sb_thread_placement p;
    place(t, NULL, 1, &p);
    assert_true(p.cpus[0] == 0 && p.cores == 1);
    sb_thread_placement_free(&p);
    place(t, NULL, 8, &p);
    for (int i = 0; i < 8; i++) assert_int_equal(p.cpus[i], 0);
    assert_string_equal(p.domain, "machine");
    sb_thread_placement_free(&p);
    hwloc_topology_destroy(t);
}

static void test_zen5_vm(void **state)
{
    (void)state;
    hwloc_topology_t t = xml("zen5-vm.xml");
    struct sb_thread_placement p;
    /* today's binding: thread 0 on core 0, thread 1 on core 1 */
    place(t, NULL, 2, &p);
    assert_true(p.cpus[0] == 0 && p.cpus[1] == 1 && p.cores == 2);
    sb_thread_placement_free(&p);
    place(t, NULL, 3, &p);
    assert_true(p.cpus[0] == 0 && p.cpus[1] == 1 && p.cpus[2] == 0);
    sb_thread_placement_free(&p);
    struct sb_groups g;
    groups(t, NULL, "core", &g);
    assert_true(g.n == 2 && g.group[0].cpus[0] == 0 && g.group[1].cpus[0] == 1);
    sb_groups_free(&g);
    groups(t, NULL, "numa", &g);
    assert_true(g.n == 1 && g.group[0].n == 2);
    sb_groups_free(&g);
    hwloc_topology_destroy(t);
}

static void test_no_l3(void **state)
{
    (void)state;
    hwloc_topology_t t = synthetic(NO_L3);
    struct sb_group_spec spec;
    struct sb_groups g;
    char err[256] = "";
    assert_int_equal(sb_group_spec_parse("l3", &spec, err, sizeof err), 0);
    assert_int_equal(sb_groups_make(t, NULL, &spec, &g, err, sizeof err), -1);
    assert_non_null(strstr(err, "no L3"));
    groups(t, NULL, "2", &g); /* no L2 holds 2 cores: the NUMA node does */
    assert_int_equal(g.n, 2);
    assert_string_equal(g.group[0].domain, "NUMA #0");
    assert_true(g.group[1].cpus[0] == 2 && g.group[1].cpus[1] == 3);
    sb_groups_free(&g);
    struct sb_thread_placement p;
    place(t, NULL, 3, &p);
    assert_true(p.cpus[2] == 2 && !strcmp(p.domain, "NUMA #0"));
    sb_thread_placement_free(&p);
    hwloc_topology_destroy(t);
}

/* ---- the hybrid client: 6 P-cores (PUs 0-11, 2 a core) and 8 E-cores (PUs 12-19, L2 a 4) -- */

static void test_hybrid(void **state)
{
    (void)state;
    hwloc_topology_t t = xml("hybrid-client.xml");
    struct sb_thread_placement p;
    place(t, NULL, 4, &p); /* on P-cores, one PU each */
    assert_run(p.cpus, 4, 0, 2);
    assert_string_equal(p.kind, "IntelCore");
    assert_true(!strcmp(p.domain, "L3 #0") && p.cores == 6);
    sb_thread_placement_free(&p);
    place(t, NULL, 8, &p); /* more than the P-cores: they first, then E-cores */
    assert_run(p.cpus, 6, 0, 2);
    assert_true(p.cpus[6] == 12 && p.cpus[7] == 13);
    assert_string_equal(p.kind, "mixed");
    sb_thread_placement_free(&p);
    struct sb_groups g;
    groups(t, NULL, "core", &g); /* P-cores first */
    assert_int_equal(g.n, 14);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(g.group[i].cpus[0], 2u * (unsigned)i);
        assert_string_equal(g.group[i].kind, "IntelCore");
    }
    for (int i = 6; i < 14; i++) {
        assert_int_equal(g.group[i].cpus[0], 12u + (unsigned)(i - 6));
        assert_string_equal(g.group[i].kind, "IntelAtom");
    }
    sb_groups_free(&g);
    groups(t, NULL, "l2", &g); /* each P-core's own, then the E-core clusters */
    assert_int_equal(g.n, 8);
    for (int i = 0; i < 6; i++) assert_true(g.group[i].n == 1 && g.group[i].cpus[0] == 2u * (unsigned)i);
    assert_true(g.group[6].n == 4 && g.group[7].n == 4);
    assert_run(g.group[6].cpus, 4, 12, 1);
    assert_run(g.group[7].cpus, 4, 16, 1);
    assert_string_equal(g.group[7].kind, "IntelAtom");
    sb_groups_free(&g);
    groups(t, NULL, "4", &g); /* 4 P-cores under the L3; each E cluster */
    assert_int_equal(g.n, 3);
    assert_run(g.group[0].cpus, 4, 0, 2);
    assert_string_equal(g.group[0].domain, "L3 #0");
    assert_run(g.group[1].cpus, 4, 12, 1);
    assert_run(g.group[2].cpus, 4, 16, 1);
    assert_true(g.nunused == 2 && g.unused[0] == 8 && g.unused[1] == 10);
    json_t *j = sb_groups_json(&g);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(j, "groups"), 0), "kind")),
                        "IntelCore");
    json_decref(j);
    sb_groups_free(&g);
    hwloc_topology_destroy(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_specs),        cmocka_unit_test(test_cpulist),
        cmocka_unit_test(test_server_groups), cmocka_unit_test(test_server_threads),
        cmocka_unit_test(test_one_core),     cmocka_unit_test(test_zen5_vm),
        cmocka_unit_test(test_no_l3),        cmocka_unit_test(test_hybrid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
