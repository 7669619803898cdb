/* specbias compare BASE NEW [MORE...]: the statistical regression gate (two files) and the
 * machine comparison table (more than two), over results files (specbias-results/1) and
 * Google Benchmark JSON from `specbias kernels`. The parts are in harness/compare/: inputs.c
 * and gbench.c load the files, gate.c and machines.c compare them, audit.c warns about the
 * machines, output.c prints. */
#define _POSIX_C_SOURCE 200809L
#include "harness/cli/cli.h"
#include "harness/cli/options.h"
#include "harness/compare/compare.h"
#include "harness/util/errmsg.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- options ------------------------------------------------------------------------------- */

static const char description[] =
    "Inputs are results files (specbias run) or Google Benchmark JSON (specbias kernels\n"
    "--benchmark_format=json); two files must be of one kind. A run folder (run --out DIR)\n"
    "stands for its results.json. A folder of run folders (DIR/RUN/results.json, as\n"
    "scripts/gate writes them) is one input made of separate runs of one build: its timing\n"
    "samples are one per run (the median of the run's repetitions), since repetitions of one\n"
    "run share its conditions and miss the run-to-run variation.\n"
    "\n"
    "Two files: a regression gate, NEW against BASE, per experiment (or benchmark):\n"
    "  missing   an experiment of BASE missing, failed or interrupted in NEW fails the\n"
    "            gate, unless --allow-missing (then a warning).\n"
    "  config    an experiment whose config differs (steps, width, depth, encoding,\n"
    "            optimiser, batch, seed, the target's data, ...) is \"not comparable\": one\n"
    "            row names the field and both values, and it is not judged at all.\n"
    "  speed     time per training step and time to target (kernels: real time per\n"
    "            iteration): median NEW/BASE and a one-sided Mann-Whitney U test over the\n"
    "            repetitions (for folders of runs: over the runs). A regression is a\n"
    "            slowdown beyond --threshold that is also significant (p <= --alpha).\n"
    "            When the samples are too few for any p to reach alpha (at 0.01: fewer\n"
    "            than 5 a side), the row is inconclusive and says how many are needed.\n"
    "            Speedups are reported, never a failure.\n"
    "  quality   identical trajectory hashes make every quality row \"same\". Otherwise:\n"
    "            final loss rising by more than --loss-tolerance percent; final PSNR\n"
    "            falling by more than --psnr-tolerance dB; a frequency (2D: a radial band)\n"
    "            learned in BASE (final spectral error <= 0.1) and not in NEW; the target\n"
    "            reached in BASE and never in NEW.\n"
    "  numerics  trajectory_hash changed while the config (seed included) is the same:\n"
    "            \"numerics changed\", a failure unless --accept-numerics. Compared across\n"
    "            ISAs too: specbias promises one trajectory on every ISA and thread count.\n"
    "  The verdict is REGRESSION (exit 1) when a row regressed, else INCONCLUSIVE (exit 4)\n"
    "  when a row is inconclusive or not comparable, else PASS (exit 0). Another ISA or\n"
    "  thread count is allowed, with a warning; runs the machine audit calls disturbed\n"
    "  are named beside the verdict.\n"
    "More files (or --table): a table, rows experiments and kernels, columns files, values\n"
    "relative to the first column, the best marked (* in text, bold in markdown; none on a\n"
    "tie). Exit 0. Files from a fleet (context.slurm.machine_kind) are grouped by machine\n"
    "kind: the kind names the column, and the columns of one kind sit together, in the\n"
    "order the kinds first appear.\n"
    "\n"
    "The machine audit of results files (context.audit) is shown per file and warned\n"
    "about, never a failure: a run its audit calls disturbed (its reasons quoted), a file\n"
    "without an audit, and a file against BASE (the first) with another governor, boost\n"
    "or SMT setting, a measured clock over 5 % or a nominal clock over 1 % apart, or the\n"
    "FMA peak of the same ISA on as many threads over 10 % apart.\n";

static const char *const formats[] = {"text", "markdown", "json", NULL};

/* Returns 0, 1 (help printed) or -1 (message printed). o->paths has room for argc. */
static int parse_args(int argc, char **argv, struct compare_options *o)
{
    int format = FORMAT_TEXT;
    struct sb_option_list paths = {o->paths, 0};
    struct sb_option options[] = {
        {SB_DOUBLE("--threshold", &o->threshold_pct, "PCT", 0.0, 1e6,
                   "slowdown that counts, in percent (default 5)")},
        {SB_DOUBLE("--alpha", &o->alpha, "A", 0.0, 1.0,
                   "significance level of the test, in (0, 1] (default 0.01)"),
         .min_open = 1},
        {SB_DOUBLE("--psnr-tolerance", &o->psnr_tolerance_db, "DB", 0.0, 1e6,
                   "allowed drop of final test PSNR in dB (default 0.5)")},
        {SB_DOUBLE("--loss-tolerance", &o->loss_tolerance_pct, "PCT", 0.0, 1e6,
                   "allowed rise of the final training loss, in percent (default 5)")},
        {SB_FLAG("--accept-numerics", &o->accept_numerics,
                 "a changed trajectory_hash passes (verdict \"accepted\")")},
        {SB_FLAG("--allow-missing", &o->allow_missing,
                 "an experiment missing or failed in NEW is a warning, not a regression")},
        {SB_FLAG("--table", &o->table,
                 "the machine table even for one or two inputs (no gate; `specbias fleet "
                 "gather` uses it)")},
        {SB_ENUM("--format", &format, "FORMAT", formats,
                 "text (default), markdown (a pull-request comment) or json (schema "
                 "specbias-compare/1)")},
    };
    struct sb_command_spec cmd = {
        .name = "compare",
        .synopsis = "BASE NEW [MORE...]",
        .description = description,
        .options = options,
        .noptions = sizeof options / sizeof *options,
        .epilogue =
            "exit codes: 0 pass, 1 regression, 2 bad usage or bad input, 3 out of memory or I/O,\n"
            "4 inconclusive (no regression found, but not every row could be judged)\n",
        .positionals = &paths};
    const int rc = sb_options_parse(&cmd, argc, argv);
    o->format = (enum format)format;
    o->npaths = paths.n;
    if (rc) return rc;
    if (o->npaths < 2 && !(o->table && o->npaths == 1)) {
        fprintf(stderr, "specbias compare: need BASE and NEW (two files for the gate, more for "
                        "a table)\n");
        sb_options_help(&cmd, stderr);
        return -1;
    }
    return 0;
}

static const struct compare_options default_options = {
    .threshold_pct = 5.0,
    .alpha = 0.01,
    .psnr_tolerance_db = 0.5,
    .loss_tolerance_pct = 5.0,
    .format = FORMAT_TEXT,
};

/* The defaults, and room for the paths. Returns 0, or -1 (out of memory, message printed). */
static int options_init(struct compare_options *o, int argc)
{
    *o = default_options;
    o->paths = calloc((size_t)argc, sizeof *o->paths);
    if (o->paths) return 0;
    fprintf(stderr, "specbias compare: out of memory\n");
    return -1;
}

/* ---- the command --------------------------------------------------------------------------- */

int sb_compare_parse_only(int argc, char **argv)
{
    struct compare_options o;
    if (options_init(&o, argc)) return -1;
    const int rc = parse_args(argc, argv, &o);
    free(o.paths);
    return rc;
}

int sb_compare_check_buffer(const void *data, size_t len)
{
    struct compare_options o = default_options;
    struct input in[2];
    struct strlist warnings = {0};
    char err[1024];
    size_t loaded = 0;
    int rc = 0;
    for (; loaded < 2 && rc == 0; loaded++) {
        memset(&in[loaded], 0, sizeof in[loaded]);
        in[loaded].path = loaded ? "new" : "base";
        rc = sb_input_parse_json(in[loaded].path, data, len, &in[loaded].root, err, sizeof err);
        if (rc == 0) rc = sb_input_read(&in[loaded], &warnings, err, sizeof err);
    }
    if (rc == 0) {
        /* the file against itself, as a gate and as a table: every reader of what was loaded */
        struct gate g = {.o = &o, .base = &in[0], .new_ = &in[1]};
        if (sb_gate_run(&g) == NO_MEMORY) rc = NO_MEMORY;
        free(g.rows);
        sb_strlist_free(&g.warnings);
        struct table t = {0};
        if (sb_table_build(&t, in, 2)) rc = NO_MEMORY;
        sb_table_free(&t);
        /* the machine audit: its warnings, header lines and JSON summary */
        sb_compare_audit_checks(&warnings, in, 2, 1);
        char line[512];
        for (size_t i = 0; i < 2; i++) sb_compare_audit_line(line, sizeof line, &in[i]);
        json_decref(sb_files_json(in, 2));
    }
    for (size_t i = 0; i < loaded; i++) sb_input_free(&in[i]);
    sb_strlist_free(&warnings);
    return rc == 0 ? 0 : rc == NO_MEMORY ? 3 : 2;
}

/* Outcomes of the steps below, besides 0, BAD_INPUT and NO_MEMORY: writing stdout failed. */
enum { IO_ERROR = -3 };

/* Loads every file into in[] (*loaded of them, to free), then the machine audit's warnings,
 * which come first, before those of the loaders. */
static int load_inputs(const struct compare_options *o, struct input *in, size_t *loaded,
                       struct strlist *warnings, struct strlist *audit_warnings, char *err,
                       size_t errlen)
{
    for (; *loaded < o->npaths; ++*loaded) {
        const int rc = sb_input_load_side(&in[*loaded], o->paths[*loaded], warnings, err, errlen);
        if (rc) {
            ++*loaded;
            return rc;
        }
    }
    sb_compare_audit_checks(audit_warnings, in, o->npaths, o->npaths == 2 && !o->table);
    struct strlist all = {0};
    sb_strlist_add_all(&all, audit_warnings);
    sb_strlist_add_all(&all, warnings);
    sb_strlist_free(warnings);
    *warnings = all;
    return warnings->oom ? NO_MEMORY : 0;
}

/* Two files: the gate, printed; *exit_code by the verdict. The warnings move into it. */
static int gate(const struct compare_options *o, const struct input *in, struct strlist *warnings,
                const struct strlist *audit_warnings, int *exit_code, char *err, size_t errlen)
{
    if (in[0].kind != in[1].kind) {
        sb_errorf(
            err, errlen,
            "%s is %s and %s is %s: a gate compares files of one kind (results with "
            "results, Google Benchmark JSON with Google Benchmark JSON)",
            in[0].path, in[0].kind == KIND_RESULTS ? "a results file" : "Google Benchmark JSON",
            in[1].path, in[1].kind == KIND_RESULTS ? "a results file" : "Google Benchmark JSON");
        return BAD_INPUT;
    }
    struct gate g = {.o = o, .base = &in[0], .new_ = &in[1], .warnings = *warnings};
    *warnings = (struct strlist){0};
    const long common = sb_gate_run(&g);
    int rc = 0;
    if (common == NO_MEMORY || g.warnings.oom) {
        rc = NO_MEMORY;
    } else if (common == 0) {
        sb_errorf(err, errlen, "%s and %s have no %s in common", in[0].path, in[1].path,
                  in[0].kind == KIND_RESULTS ? "experiment" : "benchmark");
        rc = BAD_INPUT;
    } else {
        const struct counts c = sb_gate_counts(&g);
        if (o->format == FORMAT_JSON) {
            if (sb_print_compare_json(o, in, 2, &g, NULL, &g.warnings, audit_warnings))
                rc = IO_ERROR;
        } else if (o->format == FORMAT_MARKDOWN) {
            sb_print_gate_markdown(&g, &c);
        } else {
            sb_print_gate_text(&g, &c);
        }
        *exit_code = c.verdict == O_REGRESSION     ? SB_EXIT_REGRESSION
                     : c.verdict == O_INCONCLUSIVE ? SB_EXIT_INCONCLUSIVE
                                                   : SB_EXIT_OK;
    }
    free(g.rows);
    sb_strlist_free(&g.warnings);
    return rc;
}

/* Three files or more: the machines table, printed. */
static int machines(const struct compare_options *o, const struct input *in,
                    const struct strlist *warnings, const struct strlist *audit_warnings)
{
    struct table t = {0};
    int rc = 0;
    if (sb_table_build(&t, in, o->npaths) || warnings->oom)
        rc = NO_MEMORY;
    else if (o->format == FORMAT_JSON)
        rc = sb_print_compare_json(o, in, o->npaths, NULL, &t, warnings, audit_warnings) ? IO_ERROR
                                                                                         : 0;
    else
        sb_print_table(&t, in, warnings, o->format == FORMAT_MARKDOWN);
    sb_table_free(&t);
    return rc;
}

/* The machine table's columns grouped by machine kind (a fleet's, context.slurm), stable, in
 * the order the kinds first appear: o->paths reordered. Returns 1 when the order changed. */
static int group_by_kind(struct compare_options *o, const struct input *in)
{
    const size_t n = o->npaths;
    const char **paths = calloc(n, sizeof *paths);
    char *taken = calloc(n, 1);
    int changed = 0;
    if (paths && taken) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            if (taken[i]) continue;
            for (size_t j = i; j < n; j++) {
                const char *a = in[i].machine_kind ? in[i].machine_kind : "";
                const char *b = in[j].machine_kind ? in[j].machine_kind : "";
                if (taken[j] || strcmp(a, b)) continue;
                taken[j] = 1;
                changed |= j != k;
                paths[k++] = o->paths[j];
            }
        }
        if (changed) memcpy(o->paths, paths, n * sizeof *paths);
    }
    free(paths);
    free(taken);
    return changed;
}

int sb_cmd_compare(int argc, char **argv)
{
    struct compare_options o;
    if (options_init(&o, argc)) return SB_EXIT_USAGE;
    const int prc = parse_args(argc, argv, &o);
    if (prc) {
        free(o.paths);
        return prc > 0 ? SB_EXIT_OK : SB_EXIT_USAGE;
    }
    int exit_code = SB_EXIT_OK, rc = NO_MEMORY;
    char err[1024] = "";
    struct strlist warnings = {0}, audit_warnings = {0};
    struct input *in = calloc(o.npaths, sizeof *in);
    size_t loaded = 0;
    if (in) rc = load_inputs(&o, in, &loaded, &warnings, &audit_warnings, err, sizeof err);
    if (!rc && (o.table || o.npaths > 2) && group_by_kind(&o, in)) {
        /* the files again in the grouped order (an input cannot be moved: it points into
         * itself) */
        for (size_t i = 0; i < loaded; i++) sb_input_free(&in[i]);
        loaded = 0;
        sb_strlist_free(&warnings);
        sb_strlist_free(&audit_warnings);
        rc = load_inputs(&o, in, &loaded, &warnings, &audit_warnings, err, sizeof err);
    }
    if (!rc && o.npaths == 2 && !o.table)
        rc = gate(&o, in, &warnings, &audit_warnings, &exit_code, err, sizeof err);
    else if (!rc)
        rc = machines(&o, in, &warnings, &audit_warnings);
    if (!rc && (fflush(stdout) || ferror(stdout))) rc = IO_ERROR;
    if (rc == NO_MEMORY) fprintf(stderr, "specbias compare: out of memory\n");
    if (rc == IO_ERROR)
        fprintf(stderr, "specbias compare: cannot write the output: %s\n", strerror(errno));
    if (rc == BAD_INPUT) fprintf(stderr, "specbias compare: %s\n", err);
    if (rc) exit_code = rc == BAD_INPUT ? SB_EXIT_USAGE : SB_EXIT_FAILED;
    for (size_t i = 0; i < loaded; i++) sb_input_free(&in[i]);
    free(in);
    sb_strlist_free(&warnings);
    sb_strlist_free(&audit_warnings);
    free(o.paths);
    return exit_code;
}
