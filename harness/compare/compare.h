/* The parts of `specbias compare` (harness/cli/cmd_compare.c), one file each in harness/compare/:
 *   lists.c     growable lists of samples and of messages
 *   inputs.c    results files into struct input (gbench.c: Google Benchmark JSON)
 *   gate.c      two files: the regression gate, per experiment: missing, status, comparable
 *               (config.c), then its rows; the counts and the overall verdict
 *   config.c    whether two experiments' configurations match, naming the first difference
 *   speed.c     the gate's timing rows: threshold, Mann-Whitney U, too few repetitions
 *   quality.c   the gate's quality rows (loss, PSNR, learned frequencies) and the hash row
 *   machines.c  three or more files: the machines table
 *   audit.c     the machine audit of results files: header lines and warnings
 *   output.c    text, Markdown and JSON
 * Strings in these structs are borrowed from the inputs' JSON, which outlives them. */
#ifndef SPECBIAS_HARNESS_COMPARE_H
#define SPECBIAS_HARNESS_COMPARE_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

/* ---- options ------------------------------------------------------------------------------- */

enum format { FORMAT_TEXT, FORMAT_MARKDOWN, FORMAT_JSON };

struct compare_options {
    double threshold_pct, alpha, psnr_tolerance_db, loss_tolerance_pct;
    int accept_numerics, allow_missing;
    int table; /* --table: the machine table even for one or two inputs */
    enum format format;
    const char **paths;
    size_t npaths;
};

/* ---- growable lists (lists.c) ---------------------------------------------------------------- */

struct vec {
    double *v;
    size_t n, cap;
};

int sb_vec_push(struct vec *a, double x);
void sb_vec_free(struct vec *a);

struct strlist {
    char **s;
    size_t n, cap;
    int oom; /* a message could not be stored; the command ends with exit 3 */
};

__attribute__((format(printf, 2, 3))) void sb_strlist_addf(struct strlist *l, const char *fmt, ...);
void sb_strlist_free(struct strlist *l);
/* Appends copies of src's messages to dst. */
void sb_strlist_add_all(struct strlist *dst, const struct strlist *src);

/* ---- inputs (inputs.c, gbench.c) ------------------------------------------------------------ */

enum file_kind { KIND_RESULTS, KIND_GBENCH };
extern const char *const sb_kind_names[]; /* "results", "gbench" */

struct experiment {
    const char *name;     /* strings are borrowed from the file's JSON, which outlives them */
    const char *status;   /* "ok" when the field is absent */
    const json_t *config; /* NULL when absent */
    size_t reps, ok_reps;
    struct vec sec_per_step, time_to_target, psnr, loss;
    const char *hash; /* of the first finished repetition; NULL when none */
    int hash_varies;  /* finished repetitions disagree on trajectory_hash */
    size_t nfreq;
    double *freq;         /* the frequencies spectral_error[] refers to */
    struct vec *freq_err; /* per frequency: the last curve point's error, one per repetition */
    size_t spectra;       /* repetitions that had a spectrum */
    int bands;            /* 2D: the spectrum is per radial band, not per frequency */
    /* `run --seeds K` (K >= 2): one time to target per seed that finished ok and reached it,
     * the samples of the time-to-target gate when both sides have seeds */
    size_t seeds, seeds_finished;
    struct vec seed_ttt;
};

struct kernel {
    const char *name;
    struct vec real_ns, gflops;
};

/* The machine audit of a results file (context.audit, written by specbias run;
 * harness/machine/audit.h) and the FMA peak of the ISA it used. Older files have none; a field
 * of the wrong type counts as absent (the audit only labels and warns, it never refuses a
 * file). */
struct audit_info {
    int present;                            /* context.audit is an object */
    double measured_mhz, nominal_mhz;       /* NAN: unknown */
    double c2c_ns;                          /* core-to-core round trip; NAN: unknown */
    const char *governor;                   /* NULL: unknown (no cpufreq driver) */
    int boost;                              /* 1 on, 0 off, -1 unknown */
    const char *smt_control;                /* NULL: unknown */
    int smt_active;                         /* 1, 0, -1 unknown */
    json_int_t smt_per_core;                /* 0: unknown */
    double steal_fraction, others_fraction; /* NAN: unknown */
    int disturbed;                          /* the audit says so */
    const json_t *warnings;                 /* the audit's own reasons (an array), or NULL */
    double peak_gflops;                     /* context.peak_gflops[isa_used]; NAN: unknown */
};

struct input {
    const char *path;
    enum file_kind kind;
    json_t *root;
    json_t *index; /* name -> position in exps or kerns: matching is linear in the file size */
    const char *host, *cpu_model, *isa_used, *git_commit, *date;
    const char *suite_hash; /* context.suite.content_hash; NULL: unknown */
    const char *machine_kind; /* context.slurm.machine_kind (a fleet's machine); NULL: none */
    json_int_t threads;
    int has_threads;
    char isa_buf[160], label[320];
    struct experiment *exps;
    size_t nexp;
    struct kernel *kerns;
    size_t nkern;
    struct audit_info audit;
    /* a side merged from several run folders (runs.c): merged is 1, runs the most runs any of
     * its experiments had (each run may hold one experiment only); the runs' JSON, which the
     * merged side borrows from; a path this input owns */
    int merged;
    size_t runs;
    json_t *run_roots;
    char *owned_path;
};

/* Loader results: 0 ok, BAD_INPUT (exit 2), NO_MEMORY (exit 3). */
enum { BAD_INPUT = -1, NO_MEMORY = -2 };

/* Where in a file a field sits, for messages: "experiment 'x' repetition 2". */
struct where {
    const char *path;
    char at[320];
};

/* Reads the file at path into in: its kind, experiments or benchmarks, context and audit.
 * Loader warnings (a benchmark that reported an error) go to warnings. */
int sb_input_load(struct input *in, const char *path, struct strlist *warnings, char *err,
                  size_t errlen);
/* One side of a comparison (runs.c): a results or Google Benchmark file; a run folder (its
 * results.json); or a folder of run folders, merged into one input with one timing sample per
 * run (the median of its repetitions) and every run's quality values. */
int sb_input_load_side(struct input *in, const char *path, struct strlist *warnings, char *err,
                       size_t errlen);
/* What a side's timing samples are: "runs" (several runs merged) or "repetitions". */
const char *sb_input_sample_unit(const struct input *in);
/* Parses len bytes of results or Google Benchmark JSON; `path` names them in messages. */
int sb_input_parse_json(const char *path, const char *text, size_t len, json_t **out, char *err,
                        size_t errlen);
/* in->path and in->root set: what kind of file, and its experiments or benchmarks. */
int sb_input_read(struct input *in, struct strlist *warnings, char *err, size_t errlen);
void sb_input_free(struct input *in);
/* The position of an experiment or benchmark in in->exps or in->kerns, or -1. */
long sb_input_find(const struct input *in, const char *name);

/* For the readers: "an object", "a number", ..., "missing". */
const char *sb_json_type_name(const json_t *v);
/* A number field. Returns 1 and sets *out when it is a finite number >= lo; 0 when it is
 * absent or null and `optional`; BAD_INPUT (with the message) otherwise. */
int sb_number_field(const json_t *obj, const char *key, int optional, double lo,
                    const struct where *w, double *out, char *err, size_t errlen);
/* An optional string field: the string, NULL when absent or null, BAD (with the message) when
 * of another type. */
int sb_string_field(const json_t *obj, const char *key, const struct where *w, const char **out,
                    char *err, size_t errlen);
/* Context fields only label columns: one of an unexpected type is shown as unknown rather than
 * refusing the whole file. */
const char *sb_context_string(const json_t *ctx, const char *key);

/* Google Benchmark's bare NaN, Infinity and -Infinity as null (gbench.c). */
char *sb_gbench_nonfinite_to_null(const char *text, size_t *len);
/* Google Benchmark JSON: iteration entries are the samples. */
int sb_read_gbench(struct input *in, struct strlist *warnings, char *err, size_t errlen);

/* ---- the gate (gate.c) ---------------------------------------------------------------------- */

/* A row's verdict. Only regression and numerics_changed fail the gate; inconclusive and
 * not_comparable make it inconclusive (sb_gate_counts). */
enum verdict {
    V_OK,
    V_REGRESSION,
    V_IMPROVEMENT,
    V_NUMERICS_CHANGED,
    V_ACCEPTED,
    V_NOT_SIGNIFICANT,
    V_WARNING,
    V_INCONCLUSIVE,   /* too few repetitions for the test to reach alpha, or no samples */
    V_NOT_COMPARABLE, /* the experiment's configuration differs: not judged at all */
    V_SAME            /* a quality row of an identical trajectory: same by construction */
};
extern const char *const sb_verdict_names[];

struct row {
    const char *kind, *name, *metric;
    const char *unit;  /* of base, new_ and diff in the JSON ("s", "ns", "dB"); NULL: none */
    int numeric;       /* base and new (medians over n samples) are meaningful */
    int missing;       /* the experiment is missing or failed in NEW */
    double base, new_; /* NAN: no value */
    size_t base_n, new_n;
    const char *base_text, *new_text; /* shown instead of the numbers (hashes, statuses) */
    char base_buf[48], new_buf[48];
    char field[128]; /* not_comparable: the first differing config field ("train.steps") */
    double diff, ratio, change_pct, p; /* NAN: null. diff = new - base, in unit */
    enum verdict verdict;
    char note[512];
};

struct gate {
    const struct compare_options *o;
    const struct input *base, *new_;
    struct row *rows;
    size_t n, cap;
    struct strlist warnings;
    /* timing rows with too few repetitions, and the last such pair of counts (speed.c) */
    size_t too_few, too_few_base, too_few_new;
};

/* Fills g->rows and g->warnings from g->base against g->new_; returns the number of names in
 * common, or NO_MEMORY. */
long sb_gate_run(struct gate *g);

/* A new row of g (NULL: out of memory), its numbers NAN. */
struct row *sb_gate_add_row(struct gate *g, const char *kind, const char *name,
                            const char *metric);
/* What the timing samples of g are: "runs" (both sides folders of runs, runs.c),
 * "repetitions" (both single files) or "samples" (one of each). */
const char *sb_gate_sample_unit(const struct gate *g);
/* Appends to a row's note; text that does not fit is cut. */
__attribute__((format(printf, 2, 3))) void sb_row_notef(struct row *r, const char *fmt, ...);

/* The gate's timing row (speed.c): NEW's samples n against BASE's b, lower is better. */
int sb_gate_timing(struct gate *g, const char *kind, const char *name, const char *metric,
                   const char *unit, const struct vec *b, const struct vec *n);
/* Time to target (speed.c): a timing row when both sides reached it; else whether it was
 * reached is quality: reached in BASE only is a regression. */
int sb_gate_time_to_target(struct gate *g, const struct experiment *b, const struct experiment *n);
/* The smallest number of repetitions a side for which the one-sided exact test can reach
 * alpha (5 at 0.01, 3 at 0.05); 0 when even 1000 cannot. */
size_t sb_gate_reps_needed(double alpha);

/* The quality rows (quality.c): final loss, final PSNR, learned frequencies. same: identical
 * trajectories, so every row is "same". Then the trajectory_hash row. */
int sb_gate_quality(struct gate *g, const struct experiment *b, const struct experiment *n,
                    int same);
int sb_gate_hash(struct gate *g, const struct experiment *b, const struct experiment *n);

/* Whether two experiments' configurations match (config.c): 1 comparable, 0 not (the first
 * difference in field, its values in base_text/new_text, up to three in note).
 * Fields only one side has (written by another version) are listed in *one_sided, not a
 * difference. */
struct config_diff {
    char field[128], base_text[48], new_text[48], note[400];
    size_t n;
    char one_sided[256];
};
int sb_config_compare(const json_t *base, const json_t *new_, struct config_diff *d);

enum overall { O_PASS, O_REGRESSION, O_INCONCLUSIVE };
extern const char *const sb_overall_names[]; /* "pass", "regression", "inconclusive" */

struct counts {
    size_t regressions, improvements, numerics, inconclusive, not_comparable, missing, warnings;
    enum overall verdict;
};
struct counts sb_gate_counts(const struct gate *g);

/* ---- the machines table (machines.c) -------------------------------------------------------- */

struct mrow {
    const char *kind, *name, *metric;
    int lower_better;
    double *values; /* one per file; NAN: none */
    long winner;    /* -1: fewer than two values */
};

struct table {
    struct mrow *rows;
    size_t n, cap;
    size_t nfiles;
    json_t *index; /* "kind metric name" -> row */
};

int sb_table_build(struct table *t, const struct input *in, size_t nin);
void sb_table_free(struct table *t);
/* Row r's value of file f relative to the first file's; NAN when either is missing. */
double sb_table_relative(const struct mrow *r, size_t f);

/* ---- the machine audit (audit.c) ------------------------------------------------------------ */

/* The audit warnings of nin files into w: per results file, disturbed or no audit; then each
 * results file against the first with an audit. gate: the files are named BASE and NEW, else
 * by their column, [i]. */
void sb_compare_audit_checks(struct strlist *w, const struct input *in, size_t nin, int gate);
/* One line of a file's audit for the header: clock, governor, boost, SMT, steal, others. */
void sb_compare_audit_line(char *buf, size_t len, const struct input *in);

/* ---- output (output.c) ---------------------------------------------------------------------- */

void sb_print_gate_text(const struct gate *g, const struct counts *c);
void sb_print_gate_markdown(const struct gate *g, const struct counts *c);
void sb_print_table(const struct table *t, const struct input *in, const struct strlist *warnings,
                    int markdown);
/* The files' labels, contexts and audits as the JSON output lists them. */
json_t *sb_files_json(const struct input *in, size_t nin);
/* The whole output as JSON on stdout: a gate (g) or a table (t). Returns 0 or -1 (I/O). */
int sb_print_compare_json(const struct compare_options *o, const struct input *in, size_t nin,
                          const struct gate *g, const struct table *t,
                          const struct strlist *warnings, const struct strlist *audit_warnings);

#endif
