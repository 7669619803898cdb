/* `specbias run` inside the cli library: the command and its loop over experiments
 * (cmd_run.c), what it checks and records before training (run_setup.c) and --rerun
 * (run_rerun.c). */
#ifndef SPECBIAS_HARNESS_RUN_H
#define SPECBIAS_HARNESS_RUN_H

#include "harness/machine/audit.h"
#include "harness/machine/counters.h"
#include "harness/machine/peak.h"
#include "harness/train/experiment.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* The most threads --threads takes. */
#define SB_RUN_MAX_THREADS 1024

/* A step that went well returns RUN_CONTINUE; any other value is the exit code to stop with. */
#define RUN_CONTINUE (-1)

struct run_args {
    const char *suite, *filter, *isa, *out, *dump, *counters;
    const char *rerun; /* --rerun FILE */
    const char *cpus;  /* --cpus LIST (a Linux cpulist), NULL: every CPU the process may use */
    const char *throughput; /* --throughput GROUPS: a throughput run (run_throughput.c) */
    int isa_index;     /* --isa among sb_isa_choices("auto") */
    const char *threads_text; /* --threads as written: N or a list */
    int threads;              /* 0 = OMP_NUM_THREADS or all cores */
    /* --threads LIST with more than one count: a scaling run over these, ascending */
    int thread_counts[SB_RUN_MAX_THREADS];
    int nthread_counts;
    int repetitions;
    int seeds; /* --seeds K */
    int seeds_given; /* --seeds was on the command line (a throughput run's K) */
    uint64_t seed, steps;
    int list, quiet, no_bind, remeasure_peak;
};

/* Everything one `specbias run` holds. */
struct run {
    struct run_args a;
    struct sb_suite suite;
    int have_suite;
    json_t *rerun;     /* --rerun: the results file repeated (a's strings point into it) */
    size_t *sel, nsel; /* the experiments to run, as indices into suite.exp */
    const struct sb_kernels *k;
    int threads;
    struct sb_counters counters;
    int have_counters;
    struct sb_peak peaks[SB_ISA_COUNT];
    struct sb_audit audit;
    json_t *root, *context, *exps; /* results.json as written so far */
    char kept[4400];               /* where the earlier results.json was kept, or "" */
    char err[8192];
};

/* --rerun FILE: the suite (from the copy embedded in FILE, so the suite file may have changed
 * or gone), filter, seed, seeds, steps, repetitions, ISA and threads of the run FILE records, into a
 * and suite. Returns the parsed file (a's strings point into it), or NULL with a message
 * naming FILE and what it lacks. Warns when this binary is not the build that wrote FILE. */
json_t *sb_run_load_rerun(struct run_args *a, struct sb_suite *suite, char *err, size_t errlen);

/* Builds every selected experiment's data once, before the first step, so that bad input
 * (an image), data an earlier run did not train on (--rerun) and buffers that cannot fit
 * are refused before anything is written. */
int sb_run_check_inputs(struct run *r);

/* results.json as the run starts: its context (the machine, the build, the peaks, the audit,
 * the suite and the options that shaped the run), with the threads bound first so that the
 * probes measure them as training will use them. argc and argv are the command's. */
void sb_run_document(struct run *r, int argc, char **argv);

/* mkdir -p, then checks path is a folder. Returns 0; -2 when path, or a folder on the way to
 * it, is a file (bad input: exit 2); or -1 when a folder cannot be made (exit 3); with the
 * reason in err. */
int sb_make_dirs(const char *path, char *err, size_t errlen);

/* Before the first write: an earlier DIR/results.json is kept under a dated name
 * (sb_results_keep_earlier), and the run says so; --rerun of that very file then records the
 * kept name in rerun_of. Returns RUN_CONTINUE or the exit code, with the message printed. */
int sb_run_keep_earlier(struct run *r);

/* The summary table after a run (run_summary.c): per experiment the step time (ms/step),
 * GFLOP/s, share of peak, final loss and PSNR, time to target (s) and the frequencies learned
 * (harness/util/learned.h), medians over the repetitions. */
void sb_run_print_summary(json_t *root, FILE *f);

/* The step time of an experiment's repetitions in ms: the median of 1000 / steps_per_second;
 * NAN when none has one. */
double sb_run_ms_per_step(json_t *reps);

/* --list: the selected experiments with their steps, FLOPs per step and an estimated
 * training time at this machine's FMA peak for r's ISA and threads (a lower bound). */
void sb_run_print_list(const struct run *r, FILE *f);

/* "available suites: paper, quick" from the folder of suite_path, after a suite name that was
 * not found. */
void sb_run_list_suites(const char *suite_path, FILE *f);

struct sb_argv;
/* The options of run's argv (argv[0] "run") the children of a command made of child runs are
 * given too, after "specbias run": all but those in own (NULL-terminated: --threads, --out,
 * ...), which the parent gives each child itself. Returns 0, or -1 out of memory. */
int sb_run_child_options(int argc, char **argv, const char *const *own, struct sb_argv *out);

/* What the commands made of child runs (a scaling run, a throughput run) share
 * (run_children.c). */

/* Before the first child: the ISA, the experiments' inputs at `threads` (the most a child
 * runs), the out folder made and writable, and an earlier DIR/STEM.json kept. Returns
 * RUN_CONTINUE or the exit code, with the message printed. */
int sb_run_children_check(struct run *r, int threads, const char *stem);

/* A child's DIR/results.json, marked before the child starts and loaded after it ended only
 * when the child wrote it (not one an earlier run left there). */
struct sb_child_results {
    char path[4400];
    int had;
    dev_t dev;
    ino_t ino;
};
void sb_child_results_mark(struct sb_child_results *m, const char *dir);
json_t *sb_child_results_load(const struct sb_child_results *m); /* NULL: none of its */

/* The exit-code policy of a command made of child runs: a child's 2 (it refused its input)
 * stops everything and the command exits 2; a child's 3 is recorded, the others go on, and
 * the command exits 3; a signal to the parent is passed on, no child starts after it, and the
 * command exits 128 + the signal; a child ended by a signal sent to it alone stops the
 * command, which exits as that child did. */
enum sb_child_outcome {
    SB_CHILD_OK,
    SB_CHILD_FAILED,     /* exit 3 or another failure */
    SB_CHILD_REFUSED,    /* exit 2: stop */
    SB_CHILD_SIGNALLED,  /* ended by a signal; stop */
    SB_CHILD_NOT_STARTED /* could not start (rc -1): stop */
};
struct sb_children {
    int failed, usage;
    int child_signal; /* 128 + the signal that ended a child when it was sent to it alone */
    int stopping;     /* set by the caller once it has sent its own children SIGTERM to stop */
};
/* Records a child's exit code (sb_child_wait's) and says what it was. */
enum sb_child_outcome sb_children_note(struct sb_children *c, int rc);
int sb_children_interrupted(const struct sb_children *c);
/* "complete", "interrupted" or "failed" */
const char *sb_children_status(const struct sb_children *c);
/* The command's exit code; failed: a failure of the command's own (a file not written). */
int sb_children_exit(const struct sb_children *c, int failed);

/* DIR/STEM.json written (tmp + rename) and said ("scaling results in DIR/scaling.json").
 * Returns 0, or -1 with the message printed. */
int sb_run_children_write(struct run *r, json_t *root, const char *stem, const char *what);

/* The median of v[0..n) (sorted in place); NAN when n is 0. */
double sb_run_median(double *v, size_t n);
/* The experiment called name in a child's results.json, or NULL. */
json_t *sb_run_find_experiment(json_t *results, const char *name);

/* `specbias run --threads LIST` with more than one count (run_scaling.c): the children, in
 * interleaved rounds, then DIR/scaling.json and the table. r holds the parsed options and the
 * selected experiments (bad input is refused before the first child). Returns the exit code. */
int sb_run_scaling(struct run *r, int argc, char **argv);

/* `specbias run --throughput GROUPS` (run_throughput.c): independent trainings (one per seed)
 * in child runs, at most one on each group of cores at a time, then DIR/throughput.json and
 * its table. Returns the exit code. */
int sb_run_throughput(struct run *r, int argc, char **argv);

#endif
