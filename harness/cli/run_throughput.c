/* specbias run --throughput GROUPS: independent trainings (one per seed) at once on disjoint
 * groups of cores, each a child run (run_child.h) bound to its group with --cpus, at most one
 * on a group at a time, a queue of seeds taking the first free group; then
 * DIR/throughput.json (docs/results.md) and a table of trainings per hour. Why processes and
 * one group a training: docs/design.md, Throughput mode. */
#define _POSIX_C_SOURCE 200809L
#include "harness/cli/cli.h"
#include "harness/cli/run.h"
#include "harness/cli/run_child.h"
#include "harness/machine/placement.h"
#include "harness/results/results.h"
#include "harness/util/util.h"

#include <hwloc.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One training: seed index i of the run, in DIR/seed-i. */
struct training {
    int group;        /* the group it ran on; -1 until it starts */
    pid_t pid;        /* while it runs, else 0 */
    int rc;           /* its exit code (-1: could not start) */
    double start, end;
    const char *status;
    json_t *results;  /* its results.json, NULL when it wrote none */
    struct sb_child_results mark;
    char dir[4300];
};

struct throughput {
    struct run *r;
    struct sb_groups g;
    int *threads;    /* per group: its children's --threads */
    int *busy;       /* per group: the seed index running there, -1 when free */
    struct training *t;
    int k;           /* trainings (seeds) */
    double t0;       /* the first start (sb_now), 0 before it */
    struct sb_children policy;
};

/* "0,2,4" */
static void cpulist(const struct sb_cpu_group *g, char *out, size_t len)
{
    size_t used = 0;
    out[0] = 0;
    for (int i = 0; i < g->n && used + 12 < len; i++)
        used += (size_t)snprintf(out + used, len - used, "%s%u", i ? "," : "", g->cpus[i]);
}

/* The groups of GROUPS over the CPUs this process may use (--cpus LIST's when given), and
 * each group's thread count. Returns RUN_CONTINUE or the exit code, with the message printed:
 * a topology that is another machine's, a level it lacks and --threads above a group's cores
 * are bad input. */
static int make_groups(struct throughput *tp)
{
    struct run *r = tp->r;
    const char *spec_text = r->a.throughput;
    struct sb_group_spec spec;
    char err[512];
    if (sb_group_spec_parse(spec_text, &spec, err, sizeof err)) {
        fprintf(stderr, "specbias run: --throughput %s\n", err);
        return SB_EXIT_USAGE;
    }
    const char *bind = getenv("OMP_PROC_BIND"), *gomp = getenv("GOMP_CPU_AFFINITY");
    if ((bind && *bind) || (gomp && *gomp)) {
        fprintf(stderr,
                "specbias run: --throughput %s binds each training to its group with --cpus, "
                "but OMP_PROC_BIND or GOMP_CPU_AFFINITY is set and places the threads itself; "
                "unset it\n",
                spec_text);
        return SB_EXIT_USAGE;
    }
    if (r->a.cpus) {
        /* the parent confined as its children will be: the groups are cut from LIST */
        const int rc = sb_restrict_cpus(r->a.cpus, r->err, sizeof r->err);
        if (rc) {
            fprintf(stderr, "specbias run: %s\n", r->err);
            return rc == -2 ? SB_EXIT_USAGE : SB_EXIT_FAILED;
        }
    }
    hwloc_topology_t topo;
    if (hwloc_topology_init(&topo) || hwloc_topology_load(topo)) {
        fprintf(stderr, "specbias run: --throughput %s: hwloc could not load the topology\n",
                spec_text);
        return SB_EXIT_FAILED;
    }
    if (!hwloc_topology_is_thissystem(topo)) {
        const char *xml = getenv("HWLOC_XMLFILE"), *synth = getenv("HWLOC_SYNTHETIC");
        fprintf(stderr,
                "specbias run: --throughput %s: hwloc's topology is not this machine's (%s is "
                "set): trainings cannot be placed on it; `specbias info --groups %s` shows its "
                "groups\n",
                spec_text,
                synth && *synth ? "HWLOC_SYNTHETIC" : xml && *xml ? "HWLOC_XMLFILE" : "HWLOC_*",
                spec_text);
        hwloc_topology_destroy(topo);
        return SB_EXIT_USAGE;
    }
    hwloc_bitmap_t allowed = sb_process_cpus(topo);
    const int bad = sb_groups_make(topo, allowed, &spec, &tp->g, err, sizeof err);
    hwloc_bitmap_free(allowed);
    hwloc_topology_destroy(topo);
    if (bad) {
        fprintf(stderr, "specbias run: --throughput '%s': %s\n", spec_text, err);
        return SB_EXIT_USAGE;
    }
    tp->threads = calloc((size_t)tp->g.n, sizeof *tp->threads);
    tp->busy = calloc((size_t)tp->g.n, sizeof *tp->busy);
    if (!tp->threads || !tp->busy) {
        fprintf(stderr, "specbias run: out of memory\n");
        return SB_EXIT_FAILED;
    }
    for (int i = 0; i < tp->g.n; i++) {
        const struct sb_cpu_group *grp = &tp->g.group[i];
        tp->busy[i] = -1;
        tp->threads[i] = r->a.threads ? r->a.threads : grp->n;
        if (r->a.threads > grp->n) {
            fprintf(stderr,
                    "specbias run: --threads %d is more than the %d core%s of group %d (%s) of "
                    "--throughput %s: a training's threads stay on its group's cores\n",
                    r->a.threads, grp->n, grp->n == 1 ? "" : "s", i, grp->domain, spec_text);
            return SB_EXIT_USAGE;
        }
    }
    return RUN_CONTINUE;
}

/* The peak of every ISA this machine runs at each thread count the children use, from the
 * cache or measured now, once: concurrent children then read it from the cache instead of
 * measuring it at once on cores their neighbours are training on. */
static void peaks_before(struct throughput *tp)
{
    for (int i = 0; i < tp->g.n; i++) {
        int seen = 0;
        for (int j = 0; j < i; j++) seen |= tp->threads[j] == tp->threads[i];
        for (int isa = 0; isa < SB_ISA_COUNT && !seen; isa++) {
            if (!sb_isa_supported((enum sb_isa)isa, NULL)) continue;
            struct sb_peak pk;
            sb_peak_get((enum sb_isa)isa, tp->threads[i], tp->r->a.remeasure_peak, stderr,
                        "specbias run", &pk);
        }
    }
}

static double since(const struct throughput *tp, double t)
{
    return tp->t0 > 0 ? t - tp->t0 : 0;
}

/* Seed index i on group gi: its child started. Returns 0, or -1 when it could not start. */
static int start(struct throughput *tp, const struct sb_argv *base, int i, int gi)
{
    struct run *r = tp->r;
    struct training *t = &tp->t[i];
    const struct sb_cpu_group *grp = &tp->g.group[gi];
    char cpus[4096];
    cpulist(grp, cpus, sizeof cpus);
    snprintf(t->dir, sizeof t->dir, "%s/seed-%d", r->a.out, i);
    struct sb_argv args = {0};
    int bad = 0;
    for (size_t a = 0; a < base->n; a++) bad |= sb_argv_addf(&args, "%s", base->v[a]);
    bad |= sb_argv_addf(&args, "--cpus") || sb_argv_addf(&args, "%s", cpus) ||
           sb_argv_addf(&args, "--threads") || sb_argv_addf(&args, "%d", tp->threads[gi]) ||
           sb_argv_addf(&args, "--seed") ||
           sb_argv_addf(&args, "%llu", (unsigned long long)(r->a.seed + (uint64_t)i)) ||
           sb_argv_addf(&args, "--seeds") || sb_argv_addf(&args, "1") ||
           sb_argv_addf(&args, "--quiet") || sb_argv_addf(&args, "--out") ||
           sb_argv_addf(&args, "%s", t->dir);
    sb_child_results_mark(&t->mark, t->dir);
    const double now = sb_now();
    if (tp->t0 == 0) tp->t0 = now;
    t->group = gi;
    t->start = t->end = now;
    t->pid = bad ? -1 : sb_child_spawn(&args, SB_CHILD_STDOUT_DISCARD, r->err, sizeof r->err);
    sb_argv_free(&args);
    if (t->pid < 0) {
        fprintf(stderr, "specbias run: seed %d: %s\n", i, bad ? "out of memory" : r->err);
        t->pid = 0;
        t->rc = -1;
        t->status = "failed";
        sb_children_note(&tp->policy, -1);
        return -1;
    }
    tp->busy[gi] = i;
    if (!r->a.quiet)
        fprintf(stderr, "specbias run: %8.1f s  seed %d started on group %d (%s, CPUs %s, %d "
                        "thread%s) -> %s\n",
                since(tp, now), i, gi, grp->domain, cpus, tp->threads[gi],
                tp->threads[gi] == 1 ? "" : "s", t->dir);
    return 0;
}

/* SIGTERM to every running child: each stops between steps and keeps what finished. */
static void stop_all(struct throughput *tp)
{
    tp->policy.stopping = 1;
    for (int i = 0; i < tp->k; i++)
        if (tp->t[i].pid > 0) kill(tp->t[i].pid, SIGTERM);
}

/* The child pid ended with rc: its training recorded, its group freed. Returns 1 when the run
 * stops (no new child). */
static int ended(struct throughput *tp, pid_t pid, int rc)
{
    int i = 0;
    while (i < tp->k && tp->t[i].pid != pid) i++;
    if (i == tp->k) return 0; /* not one of ours */
    struct training *t = &tp->t[i];
    t->pid = 0;
    t->rc = rc;
    t->end = sb_now();
    tp->busy[t->group] = -1;
    t->results = sb_child_results_load(&t->mark);
    int stop = 0;
    switch (sb_children_note(&tp->policy, rc)) {
    case SB_CHILD_OK: t->status = "ok"; break;
    case SB_CHILD_REFUSED:
        t->status = "refused";
        fprintf(stderr, "specbias run: seed %d refused its input (exit 2): the throughput run "
                        "stops\n",
                i);
        stop = 1;
        break;
    case SB_CHILD_SIGNALLED:
        t->status = "interrupted";
        stop = tp->policy.child_signal != 0; /* a signal sent to that child alone */
        break;
    case SB_CHILD_FAILED:
    case SB_CHILD_NOT_STARTED:
        t->status = "failed";
        fprintf(stderr, "specbias run: seed %d on group %d failed (exit %d); the others go on\n",
                i, t->group, rc);
        break;
    }
    if (!tp->r->a.quiet)
        fprintf(stderr, "specbias run: %8.1f s  seed %d ended on group %d: %s (exit %d) in %.1f "
                        "s\n",
                since(tp, t->end), i, t->group, t->status, rc, t->end - t->start);
    return stop;
}

/* The queue: seed i starts on the first free group, until every seed ran or the run stops. */
static void run_queue(struct throughput *tp, const struct sb_argv *base)
{
    int next = 0, running = 0, stop = 0;
    for (;;) {
        for (int gi = 0; gi < tp->g.n && !stop && !sb_child_signal && next < tp->k; gi++) {
            if (tp->busy[gi] >= 0) continue;
            if (start(tp, base, next++, gi)) stop = 1;
            else running++;
        }
        if (stop && !tp->policy.stopping && running) stop_all(tp);
        if (!running) break;
        pid_t pid;
        const int rc = sb_child_wait_any(&pid);
        if (rc < 0) break; /* no child left to wait for */
        running--;
        if (ended(tp, pid, rc) && !stop) {
            stop = 1;
            stop_all(tp);
        }
    }
}

/* experiments[] entry of throughput.json for one experiment, over the seeds in order. */
static json_t *experiment_entry(struct throughput *tp, const char *name, int *trainings)
{
    const int k = tp->k;
    double *train = calloc((size_t)k * (size_t)tp->r->a.repetitions + 1, sizeof *train);
    double *work = calloc((size_t)k * (size_t)tp->r->a.repetitions + 1, sizeof *work);
    double *ttt = calloc((size_t)k + 1, sizeof *ttt);
    if (!train || !work || !ttt) {
        free(train), free(work), free(ttt);
        return NULL;
    }
    size_t ntrain = 0, nwork = 0, nttt = 0;
    int ok = 0;
    json_t *per_seed = json_array(), *hashes = json_array();
    for (int i = 0; i < k; i++) {
        json_t *e = sb_run_find_experiment(tp->t[i].results, name);
        const char *st = json_string_value(json_object_get(e, "status"));
        if (!st || strcmp(st, "ok")) {
            json_array_append_new(per_seed, json_null());
            json_array_append_new(hashes, json_null());
            continue;
        }
        ok++;
        /* with --repetitions R the seed's R trainings follow one trajectory: its time to target
         * is their median */
        double mine[1000];
        size_t nmine = 0, j;
        json_t *rep, *v;
        json_array_foreach(json_object_get(e, "repetitions"), j, rep) {
            if (json_is_number(v = json_object_get(rep, "train_seconds")) &&
                ntrain < (size_t)k * (size_t)tp->r->a.repetitions)
                train[ntrain++] = json_number_value(v);
            if (json_is_number(v = json_object_get(rep, "work_fraction")) &&
                nwork < (size_t)k * (size_t)tp->r->a.repetitions)
                work[nwork++] = json_number_value(v);
            if (json_is_number(v = json_object_get(rep, "time_to_target_s")) && nmine < 1000)
                mine[nmine++] = json_number_value(v);
        }
        const double m = sb_run_median(mine, nmine);
        json_array_append_new(per_seed, isfinite(m) ? json_real(m) : json_null());
        if (isfinite(m)) ttt[nttt++] = m;
        const char *h = json_string_value(
            json_object_get(json_array_get(json_object_get(e, "repetitions"), 0), "trajectory_hash"));
        json_array_append_new(hashes, h ? json_string(h) : json_null());
    }
    *trainings += ok;
    const double mt = sb_run_median(train, ntrain), mw = sb_run_median(work, nwork),
                 mttt = sb_run_median(ttt, nttt);
#define NUM(x) (isfinite(x) ? json_real(x) : json_null())
    json_t *out = json_pack("{s:s, s:i, s:o, s:{s:o, s:o}, s:o, s:o}", "name", name, "trainings",
                            ok, "train_seconds_median", NUM(mt), "time_to_target_s", "median",
                            NUM(mttt), "per_seed", per_seed, "trajectory_hashes", hashes,
                            "work_fraction_median", NUM(mw));
#undef NUM
    free(train), free(work), free(ttt);
    return out;
}

/* The table on stdout. */
static void print_table(const struct throughput *tp, json_t *root, FILE *f)
{
    const double wall = json_number_value(json_object_get(root, "wall_seconds"));
    json_t *tph = json_object_get(root, "trainings_per_hour");
    json_t *per = json_object_get(root, "threads_per_training");
    char threads[32];
    if (json_is_integer(per))
        snprintf(threads, sizeof threads, "%lld", (long long)json_integer_value(per));
    else
        snprintf(threads, sizeof threads, "its group's cores");
    const char *by = tp->r->a.throughput;
    fprintf(f, "\nthroughput: %d group%s by %s%s, %lld training%s at a time, %s thread%s each; %d "
               "seed%s x %zu experiment%s\n",
            tp->g.n, tp->g.n == 1 ? "" : "s", by, by[0] >= '0' && by[0] <= '9' ? " cores" : "",
            (long long)json_integer_value(json_object_get(root, "concurrent")),
            json_integer_value(json_object_get(root, "concurrent")) == 1 ? "" : "s", threads,
            json_is_integer(per) && json_integer_value(per) == 1 ? "" : "s", tp->k,
            tp->k == 1 ? "" : "s", tp->r->nsel, tp->r->nsel == 1 ? "" : "s");
    fprintf(f, "wall %.3f s, %lld trainings finished ok, ", wall,
            (long long)json_integer_value(json_object_get(root, "trainings")));
    if (json_is_number(tph)) fprintf(f, "%.1f trainings per hour\n", json_number_value(tph));
    else fprintf(f, "trainings per hour: -\n");
    fprintf(f, "%-24s %9s %16s %20s\n", "experiment", "trainings", "median train s",
            "median to target s");
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(root, "experiments"), i, e) {
        char ts[32] = "-", tt[32] = "-";
        json_t *v;
        if (json_is_number(v = json_object_get(e, "train_seconds_median")))
            snprintf(ts, sizeof ts, "%.3f", json_number_value(v));
        if (json_is_number(v = json_object_get(json_object_get(e, "time_to_target_s"), "median")))
            snprintf(tt, sizeof tt, "%.3f", json_number_value(v));
        char n[32];
        snprintf(n, sizeof n, "%lld/%d", (long long)json_integer_value(json_object_get(e, "trainings")),
                 tp->k);
        fprintf(f, "%-24s %9s %16s %20s\n", json_string_value(json_object_get(e, "name")), n, ts,
                tt);
    }
}

/* throughput.json from what the children left, and the table. Returns 0, or -1 with the
 * message printed. */
static int write_throughput(struct throughput *tp)
{
    struct run *r = tp->r;
    json_t *runs = json_array(), *exps = json_array();
    double first = 0, last = 0;
    int used = 0, same = 1;
    for (int gi = 0; gi < tp->g.n; gi++) {
        int on = 0;
        for (int i = 0; i < tp->k; i++) on |= tp->t[i].group == gi;
        used += on;
        same &= tp->threads[gi] == tp->threads[0];
    }
    for (int i = 0; i < tp->k; i++) {
        const struct training *t = &tp->t[i];
        if (t->group < 0) continue;
        char cpus[4096];
        cpulist(&tp->g.group[t->group], cpus, sizeof cpus);
        if (!json_array_size(runs) || t->start < first) first = t->start;
        if (!json_array_size(runs) || t->end > last) last = t->end;
        json_array_append_new(
            runs, json_pack("{s:i, s:I, s:i, s:s, s:i, s:s, s:o, s:f, s:f, s:s}", "seed_index", i,
                            "seed", (json_int_t)(r->a.seed + (uint64_t)i), "group", t->group, "cpus", cpus,
                            "threads", tp->threads[t->group], "folder",
                            t->dir + strlen(r->a.out) + 1, "exit",
                            t->rc >= 0 ? json_integer(t->rc) : json_null(), "start_seconds",
                            t->start - tp->t0, "end_seconds", t->end - tp->t0, "status",
                            t->status));
    }
    int trainings = 0;
    for (size_t i = 0; i < r->nsel; i++) {
        json_t *e = experiment_entry(tp, r->suite.exp[r->sel[i]].name, &trainings);
        if (!e) {
            fprintf(stderr, "specbias run: out of memory\n");
            json_decref(runs), json_decref(exps);
            return -1;
        }
        json_array_append_new(exps, e);
    }
    json_t *threads;
    if (same) {
        threads = json_integer(tp->threads[0]);
    } else {
        threads = json_array();
        for (int gi = 0; gi < tp->g.n; gi++) json_array_append_new(threads, json_integer(tp->threads[gi]));
    }
    const double wall = last - first;
    json_t *root = json_pack(
        "{s:s, s:s, s:s, s:o, s:o, s:i, s:i, s:f, s:i, s:o, s:o, s:o}", "schema",
        "specbias-throughput/1", "status", sb_children_status(&tp->policy), "groups_by",
        r->a.throughput, "groups", sb_groups_json(&tp->g), "threads_per_training", threads,
        "seeds", tp->k, "concurrent", used, "wall_seconds", wall, "trainings", trainings,
        "trainings_per_hour", wall > 0 ? json_real(trainings / wall * 3600.0) : json_null(),
        "runs", runs, "experiments", exps);
    if (!root) {
        fprintf(stderr, "specbias run: out of memory\n");
        return -1;
    }
    print_table(tp, root, stdout);
    const int rc = sb_run_children_write(r, root, "throughput", "throughput");
    json_decref(root);
    return rc;
}

int sb_run_throughput(struct run *r, int argc, char **argv)
{
    struct throughput tp = {.r = r};
    struct sb_argv base = {0};
    int rc = make_groups(&tp);
    /* K: --seeds K, else one training a group, so that every group has one */
    tp.k = r->a.seeds_given ? r->a.seeds : tp.g.n;
    if (rc == RUN_CONTINUE && r->a.seed + (uint64_t)tp.k - 1 > UINT32_MAX) {
        fprintf(stderr, "specbias run: --seed %llu with %d seeds: the last seed, %llu, is above "
                        "%lu\n",
                (unsigned long long)r->a.seed, tp.k,
                (unsigned long long)(r->a.seed + (uint64_t)tp.k - 1), (unsigned long)UINT32_MAX);
        rc = SB_EXIT_USAGE;
    }
    int most = 0;
    for (int gi = 0; rc == RUN_CONTINUE && gi < tp.g.n; gi++)
        if (tp.threads[gi] > most) most = tp.threads[gi];
    if (rc == RUN_CONTINUE) rc = sb_run_children_check(r, most, "throughput");
    /* what each child gets its own value of */
    static const char *const own[] = {"--throughput", "--threads", "--seed",  "--seeds",
                                      "--cpus",       "--out",     "--quiet", "--remeasure-peak",
                                      NULL};
    if (rc == RUN_CONTINUE &&
        (!(tp.t = calloc((size_t)tp.k, sizeof *tp.t)) || sb_run_child_options(argc, argv, own, &base))) {
        fprintf(stderr, "specbias run: out of memory\n");
        rc = SB_EXIT_FAILED;
    }
    if (rc == RUN_CONTINUE) {
        for (int i = 0; i < tp.k; i++) tp.t[i].group = -1;
        if (!r->a.quiet)
            fprintf(stderr, "specbias run: throughput run of suite %s, %zu experiment%s, %d seed%s "
                            "on %d group%s by %s -> %s/throughput.json\n",
                    r->suite.name, r->nsel, r->nsel == 1 ? "" : "s", tp.k, tp.k == 1 ? "" : "s",
                    tp.g.n, tp.g.n == 1 ? "" : "s", r->a.throughput, r->a.out);
        peaks_before(&tp);
        sb_child_signals_install();
        run_queue(&tp, &base);
        const int wrc = write_throughput(&tp);
        if (sb_children_interrupted(&tp.policy))
            fprintf(stderr, "specbias run: throughput run interrupted; the trainings that "
                            "finished are in %s/seed-I\n",
                    r->a.out);
        rc = sb_children_exit(&tp.policy, wrc != 0);
    }
    for (int i = 0; tp.t && i < tp.k; i++) json_decref(tp.t[i].results);
    free(tp.t);
    free(tp.threads);
    free(tp.busy);
    if (tp.g.group) sb_groups_free(&tp.g);
    sb_argv_free(&base);
    return rc;
}
