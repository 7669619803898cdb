/* specbias run: runs a suite and writes DIR/results.json (docs/results.md, every field).
 * What it checks and records before the first step is in run_setup.c, --rerun in
 * run_rerun.c. */
#define _POSIX_C_SOURCE 200809L
#include "harness/cli/cli.h"
#include "harness/cli/options.h"
#include "harness/cli/run.h"
#include "harness/cli/run_child.h"
#include "harness/machine/context.h"
#include "harness/machine/placement.h"
#include "harness/results/results.h"
#include "harness/train/train.h"
#include "harness/util/util.h"

#include <errno.h>
#include <jansson.h>
#include <omp.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* run's options, pointing into a, into out (room for RUN_NOPTIONS); returns how many. One
 * table for the parser and for the options a scaling run passes on to its children. */
#define RUN_NOPTIONS 32
static size_t option_table(struct run_args *a, struct sb_option *out)
{
    struct sb_option options[] = {
        {SB_STRING("--suite", &a->suite, "NAME|FILE",
                   "suite to run: a name in suites/ (quick, paper) or a JSON file (default quick)"),
         .nonempty = 1},
        {SB_STRING("--filter", &a->filter, "REGEX",
                   "only experiments whose name matches (POSIX extended regex)")},
        {SB_ENUM("--isa", &a->isa_index, "ISA", sb_isa_choices("auto"),
                 "{choices} (default $SPECBIAS_ISA or auto)"),
         .what = "ISA", .text = &a->isa},
        {SB_STRING("--threads", &a->threads_text, "N|LIST",
                   "OpenMP threads (default $OMP_NUM_THREADS, else the cores of --cpus, else "
                   "every core); a list of counts and max (the cores this process may use, or "
                   "those of --cpus), e.g. 1,2,max, makes a scaling run: every count trained in "
                   "a child run per round, R rounds (--repetitions) interleaved, into "
                   "DIR/threads-N/round-R, then DIR/scaling.json and a table of speedup and "
                   "efficiency")},
        {SB_STRING("--cpus", &a->cpus, "LIST",
                   "run on these CPUs only: OS indices as Linux writes them (0-3,8); the threads "
                   "are placed within them"),
         .nonempty = 1},
        {SB_STRING("--throughput", &a->throughput, "GROUPS",
                   "a throughput run: independent trainings, one per seed (K of --seeds, else "
                   "one per group), at once on disjoint groups of cores, one training a group "
                   "at a time: GROUPS is core, l2, l3, numa, package or N cores a group; each "
                   "training a child run bound to its group into DIR/seed-I, then "
                   "DIR/throughput.json and a table of trainings per hour"),
         .nonempty = 1},
        {SB_INT("--repetitions", &a->repetitions, "R", 1, 1000,
                "train each experiment R times (default 1); timings get a summary")},
        {SB_UINT64("--seed", &a->seed, "S", 0, UINT32_MAX,
                   "added to every experiment's seed (default 0)")},
        {SB_INT("--seeds", &a->seeds, "K", 1, 100,
                "train each experiment with K seeds, its seed + S + i for i = 0..K-1, each for "
                "R repetitions (default 1); the summary gains time to target across seeds "
                "(mean without the fastest and slowest seed)")},
        {SB_UINT64("--steps", &a->steps, "N", 1, 100000000,
                   "override every experiment's step count (smoke runs)")},
        {SB_STRING("--out", &a->out, "DIR",
                   "where results.json goes (default out); an earlier results.json there is "
                   "kept as results-DATE.json"),
         .nonempty = 1},
        {SB_STRING("--counters", &a->counters, "LIST",
                   "events to count over the training steps: perf's generic names (task-clock, "
                   "page-faults, cycles, instructions, ...) or PAPI's (PAPI_TOT_CYC, "
                   "perf::TASK-CLOCK, native events); PAPI first, else perf_event_open; "
                   "unavailable ones are recorded with the reason, warned about and skipped")},
        {SB_FLAG("--remeasure-peak", &a->remeasure_peak,
                 "measure the FMA peak again instead of taking it from the peak cache, and "
                 "update the cache")},
        {SB_FLAG("--no-bind", &a->no_bind,
                 "leave OpenMP threads unbound (default: thread i on one core of its own, in the "
                 "smallest cache domain that holds the threads; not done either when "
                 "OMP_PROC_BIND or GOMP_CPU_AFFINITY is set)")},
        {SB_FLAG("--list", &a->list,
                 "print the selected experiments, their steps and the time their training "
                 "would take at this machine's FMA peak (a lower bound), and exit")},
        {SB_STRING("--dump", &a->dump, "DIR",
                   "also write each experiment's data, initial weights and per-step losses "
                   "there (for tests/torch_agreement.py)"),
         .nonempty = 1},
        {SB_FLAG("--quiet", &a->quiet, "no progress output (the summary table stays)")},
        {SB_STRING("--rerun", &a->rerun, "RESULTS",
                   "run again what RESULTS (a results.json) ran: its embedded suite, filter, "
                   "seed, seeds, steps, repetitions, ISA and threads"),
         .nonempty = 1},
    };
    _Static_assert(sizeof options / sizeof *options <= RUN_NOPTIONS, "RUN_NOPTIONS too small");
    memcpy(out, options, sizeof options);
    return sizeof options / sizeof *options;
}

/* --threads N|LIST into a->threads (one count) or a->thread_counts (a scaling run: more than
 * one). Returns 0, or -1 with the message printed naming the value. */
static int parse_threads(struct run_args *a)
{
    if (!a->threads_text) return 0;
    unsigned char want[SB_RUN_MAX_THREADS + 1] = {0};
    const char *p = a->threads_text;
    const int list = strchr(p, ',') != NULL;
    for (;;) {
        const size_t len = strcspn(p, ",");
        char item[32];
        snprintf(item, sizeof item, "%.*s", len < sizeof item ? (int)len : (int)sizeof item - 1, p);
        long n = 0;
        char *end = NULL;
        if (!strcmp(item, "max")) {
            /* the cores of --cpus when given (0 when its list is bad: --cpus then says why) */
            n = a->cpus ? sb_cpulist_cores(a->cpus) : sb_cores_allowed();
            if (n == 0 && a->cpus) n = 1;
        } else {
            errno = 0;
            n = item[0] >= '0' && item[0] <= '9' ? strtol(item, &end, 10) : 0;
            if (errno || !end || *end || len >= sizeof item) n = 0;
        }
        if (n < 1 || n > SB_RUN_MAX_THREADS) {
            fprintf(stderr, "specbias run: --threads needs a whole number in [1, %d], got '%.*s'",
                    SB_RUN_MAX_THREADS, (int)len, p);
            if (list) fprintf(stderr, " in the list '%s' (counts and max, comma-separated)",
                              a->threads_text);
            fputc('\n', stderr);
            return -1;
        }
        want[n] = 1;
        if (!p[len]) break;
        p += len + 1;
    }
    a->nthread_counts = 0;
    for (int n = 1; n <= SB_RUN_MAX_THREADS; n++)
        if (want[n]) a->thread_counts[a->nthread_counts++] = n;
    /* one count, even as "2,2" or "max": an ordinary run */
    if (a->nthread_counts == 1) a->threads = a->thread_counts[0];
    return 0;
}

/* -1 with the message printed when one of names was given with what (an option and its
 * value, said), else 0. */
static int refuse_together(const struct sb_command_spec *cmd, const char *what,
                           const char *const *names)
{
    const char *clash = sb_options_first_given(cmd, names);
    if (clash) fprintf(stderr, "specbias run: %s cannot be combined with %s\n", what, clash);
    return clash ? -1 : 0;
}

/* Returns 0, 1 (help printed) or -1 (message printed). */
static int parse_args(int argc, char **argv, struct run_args *a)
{
    memset(a, 0, sizeof *a);
    a->suite = "quick";
    a->out = "out";
    a->repetitions = 1;
    a->seeds = 1;
    struct sb_option options[RUN_NOPTIONS];
    const size_t noptions = option_table(a, options);
    struct sb_command_spec cmd = {
        .name = "run",
        .more_usage = "specbias run --rerun RESULTS [--out DIR] [--quiet] [--no-bind] [--cpus LIST] "
                      "[--remeasure-peak]",
        .options = options,
        .noptions = noptions};
    const int rc = sb_options_parse(&cmd, argc, argv);
    if (rc) return rc;
    if (parse_threads(a)) return -1;
    static const char *const seeds_option[] = {"--seeds", NULL};
    a->seeds_given = sb_options_first_given(&cmd, seeds_option) != NULL;
    /* A scaling run and a throughput run are made of runs: these make no sense across their
     * children. */
    static const char *const not_scaling[] = {"--rerun", "--list", "--dump", "--throughput",
                                              NULL};
    static const char *const not_throughput[] = {"--rerun", "--list", "--dump", NULL};
    char what[128];
    snprintf(what, sizeof what, "--threads %s (a scaling run, one child run per count)",
             a->threads_text ? a->threads_text : "");
    if (a->nthread_counts > 1 && refuse_together(&cmd, what, not_scaling)) return -1;
    snprintf(what, sizeof what, "--throughput %s (independent trainings, one child run each)",
             a->throughput ? a->throughput : "");
    if (a->throughput && refuse_together(&cmd, what, not_throughput)) return -1;
    struct sb_group_spec spec;
    char err[256];
    if (a->throughput && sb_group_spec_parse(a->throughput, &spec, err, sizeof err)) {
        fprintf(stderr, "specbias run: --throughput %s\n", err);
        return -1;
    }
    /* The options that chose and shaped the run --rerun repeats. */
    static const char *const run_options[] = {"--suite",   "--filter",   "--isa",
                                              "--seed",    "--seeds",    "--repetitions",
                                              "--steps",   "--threads",  "--counters",
                                              NULL};
    const char *given = sb_options_first_given(&cmd, run_options);
    if (a->rerun && given) {
        fprintf(stderr,
                "specbias run: --rerun repeats the run recorded in %s; %s cannot be combined "
                "with it\n",
                a->rerun, given);
        return -1;
    }
    return 0;
}

int sb_run_child_options(int argc, char **argv, const char *const *own, struct sb_argv *out)
{
    struct run_args dummy;
    struct sb_option options[RUN_NOPTIONS];
    const size_t noptions = option_table(&dummy, options);
    if (sb_argv_addf(out, "specbias") || sb_argv_addf(out, "run")) return -1;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "--")) break; /* run takes no positionals */
        const size_t len = strcspn(arg, "=");
        int takes_value = 0, drop = 0;
        for (size_t o = 0; o < noptions; o++)
            if (strlen(options[o].name) == len && !strncmp(options[o].name, arg, len))
                takes_value = options[o].type != SB_OPT_FLAG && !arg[len];
        for (size_t o = 0; own[o]; o++)
            if (strlen(own[o]) == len && !strncmp(own[o], arg, len)) drop = 1;
        const int n = takes_value && i + 1 < argc ? 2 : 1;
        for (int k = 0; k < n && !drop; k++)
            if (sb_argv_addf(out, "%s", argv[i + k])) return -1;
        i += n - 1;
    }
    return 0;
}

int sb_run_parse_only(int argc, char **argv)
{
    struct run_args a;
    return parse_args(argc, argv, &a);
}

/* First SIGINT/SIGTERM: ask the trainer to stop between steps; the run then writes what it
 * has, marked interrupted, and exits 128 + signal. Second: leave at once, removing a
 * half-written temporary file (results.json itself is only ever replaced by rename). */
static void on_signal(int sig)
{
    if (sb_interrupted) {
        sb_results_remove_partial();
        _exit(128 + sig);
    }
    sb_interrupted = sig;
}

static void install_signal_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    /* Restarted system calls: a first signal must not fail a write in progress with EINTR. */
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* The suite (or --rerun's) and the experiments --filter selects, into r. */
static int select_experiments(struct run *r)
{
    const struct run_args *a = &r->a;
    if (a->rerun) {
        r->rerun = sb_run_load_rerun(&r->a, &r->suite, r->err, sizeof r->err);
        if (!r->rerun) goto bad;
    } else if (sb_suite_load(a->suite, &r->suite, r->err, sizeof r->err)) {
        fprintf(stderr, "specbias run: %s\n", r->err);
        /* a name (not a path) was looked up in the suites folder: say what is there */
        const size_t len = strlen(a->suite);
        if (!strchr(a->suite, '/') && !(len > 5 && !strcmp(a->suite + len - 5, ".json")))
            sb_run_list_suites(r->suite.path, stderr);
        return SB_EXIT_USAGE;
    }
    r->have_suite = 1;
    if (!(r->sel = calloc(r->suite.n, sizeof *r->sel))) return SB_EXIT_USAGE;
    regex_t re;
    if (a->filter) {
        int e = regcomp(&re, a->filter, REG_EXTENDED | REG_NOSUB);
        if (e) {
            regerror(e, &re, r->err, sizeof r->err);
            fprintf(stderr, "specbias run: --filter '%s': %s\n", a->filter, r->err);
            return SB_EXIT_USAGE;
        }
    }
    for (size_t i = 0; i < r->suite.n; i++)
        if (!a->filter || regexec(&re, r->suite.exp[i].name, 0, NULL, 0) == 0)
            r->sel[r->nsel++] = i;
    if (a->filter) regfree(&re);
    if (r->nsel == 0) {
        fprintf(stderr,
                "specbias run: no experiment of %s matches --filter '%s'; `specbias run --suite "
                "%s --list` lists them\n",
                r->suite.path, a->filter, a->rerun ? r->suite.path : a->suite);
        return SB_EXIT_USAGE;
    }
    return RUN_CONTINUE;
bad:
    fprintf(stderr, "specbias run: %s\n", r->err);
    return SB_EXIT_USAGE;
}

/* The kernels and the threads. */
static int select_machine(struct run *r)
{
    const struct run_args *a = &r->a;
    r->k = sb_select(a->isa, r->err, sizeof r->err);
    if (!r->k) {
        fprintf(stderr, "specbias run: %s\n", r->err);
        return SB_EXIT_USAGE;
    }
    if (a->cpus) {
        const char *env = getenv("OMP_PROC_BIND"), *gomp = getenv("GOMP_CPU_AFFINITY");
        if ((env && *env) || (gomp && *gomp)) {
            fprintf(stderr,
                    "specbias run: --cpus '%s': OMP_PROC_BIND or GOMP_CPU_AFFINITY is set and "
                    "places the threads itself; unset it, or leave out --cpus\n",
                    a->cpus);
            return SB_EXIT_USAGE;
        }
        /* Before anything counts CPUs or cores: from here on, the process has only these. */
        const int rc = sb_restrict_cpus(a->cpus, r->err, sizeof r->err);
        if (rc) {
            fprintf(stderr, "specbias run: %s\n", r->err);
            return rc == -2 ? SB_EXIT_USAGE : SB_EXIT_FAILED;
        }
        const char *omp = getenv("OMP_NUM_THREADS");
        if (!a->threads && !(omp && *omp)) omp_set_num_threads(sb_cores_allowed());
    }
    if (a->threads) omp_set_num_threads(a->threads);
    const int threads = r->threads = omp_get_max_threads();
    const int cpus = sb_cpus_allowed();
    sb_cores_allowed(); /* read both now, before the main thread is bound to one core */
    if (threads > cpus)
        fprintf(stderr,
                "specbias run: warning: %d threads%s, but this process may use %d logical CPU%s: "
                "threads will share cores, and shares of peak are against the %d core%s used\n",
                threads, a->threads ? "" : " (OMP_NUM_THREADS)", cpus, cpus == 1 ? "" : "s",
                sb_cores_allowed(), sb_cores_allowed() == 1 ? "" : "s");
    return RUN_CONTINUE;
}

/* Everything before the first step: the inputs checked, the output folder made and the
 * results file first written (an unwritable folder fails now, not after an hour of
 * training). */
static int prepare(struct run *r, int argc, char **argv)
{
    int rc;
    if ((rc = select_experiments(r)) != RUN_CONTINUE) return rc;
    if (r->a.nthread_counts > 1) return sb_run_scaling(r, argc, argv);
    if (r->a.throughput) return sb_run_throughput(r, argc, argv);
    if ((rc = select_machine(r)) != RUN_CONTINUE) return rc;
    if (r->a.list) {
        sb_run_print_list(r, stdout);
        return SB_EXIT_OK;
    }
    if ((rc = sb_run_check_inputs(r)) != RUN_CONTINUE) return rc;
    /* The counter list is input too: refused before anything is written. */
    if (r->a.counters) {
        if (sb_counters_open(&r->counters, r->a.counters, r->a.quiet ? NULL : stderr,
                             "specbias run", r->err, sizeof r->err)) {
            fprintf(stderr, "specbias run: %s\n", r->err);
            return SB_EXIT_USAGE;
        }
        r->have_counters = 1;
    }
    const int made = sb_make_dirs(r->a.out, r->err, sizeof r->err);
    if (made) {
        fprintf(stderr, "specbias run: %s\n", r->err);
        return made == -2 ? SB_EXIT_USAGE : SB_EXIT_FAILED;
    }
    sb_run_document(r, argc, argv);
    if ((rc = sb_run_keep_earlier(r)) != RUN_CONTINUE) return rc;
    if (sb_results_write(r->root, r->a.out, r->err, sizeof r->err)) {
        fprintf(stderr, "specbias run: %s\n", r->err);
        return SB_EXIT_FAILED;
    }
    return RUN_CONTINUE;
}

/* A repetition faster than the peak means the peak was wrong: it is measured again, and
 * every share of it so far recomputed. */
static void recheck_peak(struct run *r, const struct sb_experiment_result *x)
{
    struct sb_peak *pk = &r->peaks[r->k->isa];
    int changed = 0;
    for (size_t i = 0; i < x->nreps; i++)
        if (x->reps[i].stage >= SB_REP_TRAINED)
            changed |= sb_peak_recheck(pk, sb_repetition_gflops(&x->reps[i]), stderr,
                                       "specbias run");
    if (changed) {
        json_object_set_new(json_object_get(r->context, "peak_gflops"), r->k->isa_name,
                            json_real(pk->gflops));
        json_object_set_new(json_object_get(r->context, "peak"), r->k->isa_name, sb_peak_json(pk));
    }
    sb_results_apply_peak(r->exps, pk->gflops);
}

/* The line an experiment ends with on stderr. */
static void report_experiment(const struct run *r, size_t i, int status, json_t *je, double t0)
{
    const struct sb_experiment *e = &r->suite.exp[r->sel[i]];
    if (status == SB_STATUS_INTERRUPTED) {
        fprintf(stderr, "\nspecbias run: [%zu/%zu] %s\n", i + 1, r->nsel, r->err);
    } else if (status) {
        fprintf(stderr, "specbias run: [%zu/%zu] %s failed: %s\n", i + 1, r->nsel, e->name,
                r->err);
    } else if (!r->a.quiet) {
        json_t *s = json_object_get(je, "summary");
#define MED(f) json_number_value(json_object_get(json_object_get(s, f), "median"))
        fprintf(stderr,
                "[%zu/%zu] %s: %d x %llu steps in %.1f s, %.3f ms/step, %.2f GFLOP/s, final "
                "loss %.3e\n",
                i + 1, r->nsel, e->name, r->a.repetitions,
                (unsigned long long)json_integer_value(json_object_get(
                    json_array_get(json_object_get(je, "repetitions"), 0), "steps")),
                sb_now() - t0, sb_run_ms_per_step(json_object_get(je, "repetitions")),
                MED("gflops"), MED("final_loss"));
#undef MED
    }
}

/* Experiment i of the selection: trained, written into results.json. Returns its status
 * (0, 2, 3 or SB_STATUS_INTERRUPTED), or -1 when results.json could not be written. */
static int run_experiment(struct run *r, const struct sb_run_options *o, size_t i)
{
    const double t0 = sb_now();
    struct sb_experiment_result x;
    const int status =
        sb_train_experiment(&r->suite.exp[r->sel[i]], o, i, r->nsel, &x, r->err, sizeof r->err);
    json_t *je = sb_results_experiment(&x);
    json_array_append_new(r->exps, je);
    recheck_peak(r, &x);
    sb_experiment_result_free(&x);
    sb_audit_update(json_object_get(r->context, "audit"), &r->audit);
    report_experiment(r, i, status, je, t0);
    /* complete: every experiment ran to its end (ok or failed), even if a signal came after
     * the last step; interrupted: one was stopped or never started. */
    if (status == SB_STATUS_INTERRUPTED)
        json_object_set_new(r->root, "interrupted", json_true());
    else if (i + 1 == r->nsel)
        json_object_set_new(r->root, "complete", json_true());
    if (sb_results_write(r->root, r->a.out, r->err, sizeof r->err)) {
        fprintf(stderr, "specbias run: %s\n", r->err);
        return -1;
    }
    return status;
}

/* After a signal between or during experiments: which experiments finished (ran to their
 * end, ok or failed) and are in the file, and which did not. */
static void say_interrupted(const struct run *r)
{
    size_t done = 0, i;
    char names[512] = "";
    json_t *e;
    json_array_foreach(r->exps, i, e) {
        const char *st = json_string_value(json_object_get(e, "status"));
        if (!st || !strcmp(st, "interrupted")) continue;
        const size_t len = strlen(names);
        if (len < sizeof names - 64)
            snprintf(names + len, sizeof names - len, "%s%s", done ? ", " : "",
                     json_string_value(json_object_get(e, "name")));
        else if (len < sizeof names - 4)
            snprintf(names + len, sizeof names - len, ", ...");
        done++;
    }
    if (done == 0)
        fprintf(stderr,
                "specbias run: interrupted before any experiment finished; %s/results.json "
                "holds no finished experiment, only the interrupted one's partial record",
                r->a.out);
    else
        fprintf(stderr,
                "specbias run: interrupted after %zu of %zu experiments finished (%s); they are "
                "in %s/results.json; the other %zu did not finish",
                done, r->nsel, names, r->a.out, r->nsel - done);
    if (r->kept[0]) fprintf(stderr, "; the earlier results are kept in %s", r->kept);
    fputc('\n', stderr);
}

/* After a signal: what the results file holds, said; exit 128 + the signal. */
static int interrupted(struct run *r)
{
    if (json_is_true(json_object_get(r->root, "complete"))) {
        /* The signal came after the last experiment's last step (during its analysis or
         * the final write): nothing was cut short, so the file says complete. */
        fprintf(stderr,
                "specbias run: signal %d after the last experiment had finished; the "
                "results in %s/results.json are complete\n",
                (int)sb_interrupted, r->a.out);
    } else {
        /* A signal between experiments: the results written after the last one stand. */
        if (!json_is_true(json_object_get(r->root, "interrupted"))) {
            json_object_set_new(r->root, "interrupted", json_true());
            if (sb_results_write(r->root, r->a.out, r->err, sizeof r->err))
                fprintf(stderr, "specbias run: %s\n", r->err);
        }
        say_interrupted(r);
    }
    return 128 + (int)sb_interrupted;
}

/* Trains the selected experiments one after the other, results.json rewritten after each. */
static int train_all(struct run *r)
{
    const struct run_args *a = &r->a;
    const struct sb_run_options o = {
        r->k,
        a->seed,
        a->steps,
        (size_t)a->repetitions,
        r->threads,
        json_number_value(json_object_get(json_object_get(r->context, "peak_gflops"),
                                          r->k->isa_name)),
        a->dump,
        !a->quiet && isatty(STDERR_FILENO),
        r->have_counters ? &r->counters : NULL,
        (size_t)a->seeds};
    if (!a->quiet)
        fprintf(stderr,
                "specbias run: suite %s, %zu experiment%s, ISA %s, %d thread%s -> %s/results.json\n",
                r->suite.name, r->nsel, r->nsel == 1 ? "" : "s", r->k->isa_name, r->threads,
                r->threads == 1 ? "" : "s", a->out);
    int failed = 0;
    install_signal_handlers();
    for (size_t i = 0; i < r->nsel && !sb_interrupted; i++) {
        const int status = run_experiment(r, &o, i);
        if (status < 0) return SB_EXIT_FAILED;
        if (status && status != SB_STATUS_INTERRUPTED) failed = 1;
    }
    if (sb_interrupted) return interrupted(r);
    /* The audit as of the last experiment, already in the file. */
    size_t w;
    json_t *wj;
    json_array_foreach(json_object_get(json_object_get(r->context, "audit"), "warnings"), w, wj)
        fprintf(stderr, "specbias run: warning: this run was disturbed: %s\n",
                json_string_value(wj));
    /* --quiet drops the progress, never the table */
    sb_run_print_summary(r->root, stdout);
    fprintf(stderr, "specbias run: results in %s/results.json\n", a->out);
    return failed ? SB_EXIT_FAILED : SB_EXIT_OK;
}

int sb_cmd_run(int argc, char **argv)
{
    struct run *r = calloc(1, sizeof *r);
    if (!r) {
        fprintf(stderr, "specbias run: out of memory\n");
        return SB_EXIT_FAILED;
    }
    const int prc = parse_args(argc, argv, &r->a);
    int rc = prc ? (prc > 0 ? SB_EXIT_OK : SB_EXIT_USAGE) : prepare(r, argc, argv);
    if (rc == RUN_CONTINUE) rc = train_all(r);
    if (r->have_counters) sb_counters_close(&r->counters);
    json_decref(r->root);
    json_decref(r->rerun);
    free(r->sel);
    if (r->have_suite) sb_suite_free(&r->suite);
    free(r);
    return rc;
}
