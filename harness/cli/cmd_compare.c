/* specbias compare BASE NEW [MORE...]: the statistical regression gate (two files) and the
 * machine comparison table (more than two), over results files (specbias-results/1) and
 * Google Benchmark JSON from `specbias kernels`. The parts are in harness/compare/: inputs.c
 * and gbench.c load the files, gate.c and machines.c compare them, audit.c warns about the
 * machines, output.c prints. */
#define _POSIX_C_SOURCE 200809L
#include "harness/cli/cli.h"
#include "harness/compare/compare.h"
#include "harness/util/errmsg.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- options ------------------------------------------------------------------------------- */

static void compare_usage(FILE *f)
{
    fprintf(
        f,
        "usage: specbias compare BASE NEW [MORE...] [--threshold PCT] [--alpha A]\n"
        "                        [--psnr-tolerance DB] [--accept-numerics]\n"
        "                        [--format text|markdown|json]\n"
        "\n"
        "Inputs are results files (specbias run) or Google Benchmark JSON (specbias kernels\n"
        "--benchmark_format=json); two files must be of one kind.\n"
        "\n"
        "Two files: a regression gate, NEW against BASE, per experiment (or benchmark) in both:\n"
        "  speed     seconds per training step and time to target (kernels: real time per\n"
        "            iteration): median ratio NEW/BASE and a one-sided Mann-Whitney U test\n"
        "            over the repetitions; a regression is a slowdown beyond --threshold that\n"
        "            is significant (p <= --alpha). With fewer than 3 repetitions a side (or\n"
        "            too few for any p to reach alpha) the test has no power: the threshold\n"
        "            alone decides, with a warning. Speedups are reported, never a failure.\n"
        "  quality   final test PSNR falling by more than --psnr-tolerance; a frequency learned\n"
        "            in BASE (median final spectral error <= 0.1) and not in NEW; the target\n"
        "            reached in BASE and never in NEW; status ok in BASE, failed in NEW.\n"
        "  numerics  trajectory_hash changed while the experiment's config (seed included) is\n"
        "            the same: \"numerics changed\", a failure unless --accept-numerics. Hashes\n"
        "            are compared across ISAs too, stricter than \"same ISA\": specbias promises\n"
        "            the same trajectory on every ISA and thread count.\n"
        "  Exit 1 when anything regressed, else 0.\n"
        "More files: a table, rows experiments and kernels, columns files, values relative to\n"
        "the first file, the best marked (* in text, bold in markdown; none on a tie). Exit 0.\n"
        "\n"
        "The machine audit of results files (context.audit) is shown per file and warned\n"
        "about, never a failure: a run its audit calls disturbed (its reasons quoted), a file\n"
        "without an audit, and a file against BASE (the first) with another governor, boost\n"
        "or SMT setting, a measured clock over 5 %% or a nominal clock over 1 %% apart, or the\n"
        "FMA peak of the same ISA on as many threads over 10 %% apart.\n"
        "\n"
        "  --threshold PCT       slowdown that counts, in percent (default 5)\n"
        "  --alpha A             significance level of the test, in (0, 1] (default 0.05)\n"
        "  --psnr-tolerance DB   allowed drop of final test PSNR in dB (default 0.5)\n"
        "  --accept-numerics     a changed trajectory_hash passes (verdict \"accepted\")\n"
        "  --format FORMAT       text (default), markdown (a pull-request comment) or json\n"
        "                        (schema specbias-compare/1)\n"
        "\n"
        "exit codes: 0 pass, 1 regression, 2 bad usage or bad input, 3 out of memory or I/O\n");
}

static int parse_number(const char *opt, const char *s, double lo, int lo_open, double hi,
                        double *out)
{
    char *end;
    errno = 0;
    const double v = s && *s ? strtod(s, &end) : NAN;
    if (!s || !*s || errno || *end || !isfinite(v) || (lo_open ? v <= lo : v < lo) || v > hi) {
        fprintf(stderr, "specbias compare: %s needs a number in %s%g, %g], got '%s'\n", opt,
                lo_open ? "(" : "[", lo, hi, s ? s : "");
        return -1;
    }
    *out = v;
    return 0;
}

/* Returns 0, 1 (help printed) or -1 (message printed). */
static int parse_args(int argc, char **argv, struct compare_options *o)
{
    *o = (struct compare_options){5.0, 0.05, 0.5, 0, FORMAT_TEXT, NULL, 0};
    o->paths = calloc((size_t)argc, sizeof *o->paths);
    if (!o->paths) {
        fprintf(stderr, "specbias compare: out of memory\n");
        return -1;
    }
    int options_done = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (options_done || arg[0] != '-' || arg[1] == '\0') {
            o->paths[o->npaths++] = arg;
            continue;
        }
        if (!strcmp(arg, "--")) {
            options_done = 1;
            continue;
        }
        if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            compare_usage(stdout);
            return 1;
        }
        if (!strcmp(arg, "--accept-numerics")) {
            o->accept_numerics = 1;
            continue;
        }
        static const char *const valued[] = {"--threshold", "--alpha", "--psnr-tolerance",
                                             "--format"};
        const char *val = NULL;
        size_t which = sizeof valued / sizeof *valued;
        for (size_t v = 0; v < sizeof valued / sizeof *valued; v++) {
            const size_t len = strlen(valued[v]);
            if (!strcmp(arg, valued[v])) {
                if (i + 1 >= argc) {
                    fprintf(stderr, "specbias compare: %s needs a value\n", arg);
                    return -1;
                }
                val = argv[++i];
            } else if (!strncmp(arg, valued[v], len) && arg[len] == '=') {
                val = arg + len + 1;
            } else {
                continue;
            }
            which = v;
            break;
        }
        int bad = 0;
        switch (which) {
        case 0: bad = parse_number("--threshold", val, 0.0, 0, 1e6, &o->threshold_pct); break;
        case 1: bad = parse_number("--alpha", val, 0.0, 1, 1.0, &o->alpha); break;
        case 2:
            bad = parse_number("--psnr-tolerance", val, 0.0, 0, 1e6, &o->psnr_tolerance_db);
            break;
        case 3:
            if (!strcmp(val, "text"))
                o->format = FORMAT_TEXT;
            else if (!strcmp(val, "markdown"))
                o->format = FORMAT_MARKDOWN;
            else if (!strcmp(val, "json"))
                o->format = FORMAT_JSON;
            else {
                fprintf(stderr, "specbias compare: --format is text, markdown or json, got '%s'\n",
                        val);
                bad = 1;
            }
            break;
        default:
            fprintf(stderr, "specbias compare: unknown option '%s'\n", arg);
            compare_usage(stderr);
            bad = 1;
        }
        if (bad) return -1;
    }
    if (o->npaths < 2) {
        fprintf(stderr, "specbias compare: need BASE and NEW (two files for the gate, more for "
                        "a table)\n");
        compare_usage(stderr);
        return -1;
    }
    return 0;
}

/* ---- the command --------------------------------------------------------------------------- */

int sb_compare_parse_only(int argc, char **argv)
{
    struct compare_options o;
    const int rc = parse_args(argc, argv, &o);
    free(o.paths);
    return rc;
}

int sb_compare_check_buffer(const void *data, size_t len)
{
    struct compare_options o = {5.0, 0.05, 0.5, 0, FORMAT_TEXT, NULL, 0};
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
        sb_compare_audit_checks(&warnings, in, 2);
        char line[512];
        for (size_t i = 0; i < 2; i++) sb_compare_audit_line(line, sizeof line, &in[i]);
        json_decref(sb_files_json(in, 2));
    }
    for (size_t i = 0; i < loaded; i++) sb_input_free(&in[i]);
    sb_strlist_free(&warnings);
    return rc == 0 ? 0 : rc == NO_MEMORY ? 3 : 2;
}

int sb_cmd_compare(int argc, char **argv)
{
    struct compare_options o;
    const int prc = parse_args(argc, argv, &o);
    if (prc) {
        free(o.paths);
        return prc > 0 ? SB_EXIT_OK : SB_EXIT_USAGE;
    }
    int exit_code = SB_EXIT_OK;
    char err[1024] = "";
    struct strlist warnings = {0}, audit_warnings = {0};
    struct gate g = {0};
    struct table t = {0};
    struct input *in = calloc(o.npaths, sizeof *in);
    size_t loaded = 0;
    if (!in) goto no_memory;
    for (; loaded < o.npaths; loaded++) {
        const int rc = sb_input_load(&in[loaded], o.paths[loaded], &warnings, err, sizeof err);
        if (rc == NO_MEMORY) {
            loaded++;
            goto no_memory;
        }
        if (rc) {
            loaded++;
            goto bad_input;
        }
    }

    /* The machine audit's warnings come first, before those of the loaders and the gate. */
    sb_compare_audit_checks(&audit_warnings, in, o.npaths);
    {
        struct strlist all = {0};
        sb_strlist_add_all(&all, &audit_warnings);
        sb_strlist_add_all(&all, &warnings);
        sb_strlist_free(&warnings);
        warnings = all;
        if (warnings.oom) goto no_memory;
    }

    if (o.npaths == 2) {
        if (in[0].kind != in[1].kind) {
            sb_errorf(err, sizeof err,
                      "%s is %s and %s is %s: a gate compares files of one kind (results with "
                      "results, Google Benchmark JSON with Google Benchmark JSON)",
                      in[0].path,
                      in[0].kind == KIND_RESULTS ? "a results file" : "Google Benchmark JSON",
                      in[1].path,
                      in[1].kind == KIND_RESULTS ? "a results file" : "Google Benchmark JSON");
            goto bad_input;
        }
        g = (struct gate){.o = &o, .base = &in[0], .new_ = &in[1], .warnings = warnings};
        warnings = (struct strlist){0};
        const long common = sb_gate_run(&g);
        if (common == NO_MEMORY || g.warnings.oom) goto no_memory;
        if (common == 0) {
            sb_errorf(err, sizeof err, "%s and %s have no %s in common", in[0].path, in[1].path,
                      in[0].kind == KIND_RESULTS ? "experiment" : "benchmark");
            goto bad_input;
        }
        const struct counts c = sb_gate_counts(&g);
        if (o.format == FORMAT_JSON) {
            if (sb_print_compare_json(&o, in, 2, &g, NULL, &g.warnings, &audit_warnings))
                goto io_error;
        } else if (o.format == FORMAT_MARKDOWN) {
            sb_print_gate_markdown(&g, &c);
        } else {
            sb_print_gate_text(&g, &c);
        }
        exit_code = c.failed ? SB_EXIT_REGRESSION : SB_EXIT_OK;
    } else {
        if (sb_table_build(&t, in, o.npaths) || warnings.oom) goto no_memory;
        if (o.format == FORMAT_JSON) {
            if (sb_print_compare_json(&o, in, o.npaths, NULL, &t, &warnings, &audit_warnings))
                goto io_error;
        } else {
            sb_print_table(&t, in, &warnings, o.format == FORMAT_MARKDOWN);
        }
    }
    if (fflush(stdout) || ferror(stdout)) goto io_error;
    goto done;

no_memory:
    fprintf(stderr, "specbias compare: out of memory\n");
    exit_code = SB_EXIT_FAILED;
    goto done;
io_error:
    fprintf(stderr, "specbias compare: cannot write the output: %s\n", strerror(errno));
    exit_code = SB_EXIT_FAILED;
    goto done;
bad_input:
    fprintf(stderr, "specbias compare: %s\n", err);
    exit_code = SB_EXIT_USAGE;
done:
    for (size_t i = 0; i < loaded; i++) sb_input_free(&in[i]);
    free(in);
    free(g.rows);
    sb_strlist_free(&g.warnings);
    sb_strlist_free(&warnings);
    sb_strlist_free(&audit_warnings);
    sb_table_free(&t);
    free(o.paths);
    return exit_code;
}
