/* What `specbias run` prints for people (run.h): the summary table after the run, and --list
 * with each experiment's steps and an estimate of its training time. Step time is in ms/step
 * and time to target in s, the units compare and report use too. */
#define _POSIX_C_SOURCE 200809L
#include "harness/cli/cli.h"
#include "harness/cli/run.h"
#include "harness/machine/peak.h"
#include "harness/util/util.h"
#include "harness/train/train.h"
#include "harness/util/learned.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Median over the repetitions of 1000 / steps_per_second: the step time in ms. */
double sb_run_ms_per_step(json_t *reps)
{
    double v[1024];
    size_t n = 0, i;
    json_t *r;
    json_array_foreach(reps, i, r) {
        const double sps = json_number_value(json_object_get(r, "steps_per_second"));
        if (sps > 0 && n < 1024) v[n++] = 1000.0 / sps;
    }
    return sb_run_median(v, n);
}

/* "k/n": the frequencies (bands) whose median final spectral error over the repetitions is
 * learned (harness/util/learned.h); "-" without spectra. */
static void learned_count(json_t *reps, char *buf, size_t len)
{
    json_t *first = json_array_get(reps, 0);
    json_t *curve = json_object_get(first, "curve");
    json_t *last = json_array_get(curve, json_array_size(curve) - 1);
    const size_t nf = json_array_size(json_object_get(last, "spectral_error"));
    size_t learned = 0;
    double v[1024];
    for (size_t j = 0; j < nf; j++) {
        size_t n = 0, i;
        json_t *r;
        json_array_foreach(reps, i, r) {
            json_t *c = json_object_get(r, "curve");
            json_t *e = json_array_get(
                json_object_get(json_array_get(c, json_array_size(c) - 1), "spectral_error"), j);
            if (json_is_number(e) && n < 1024) v[n++] = json_number_value(e);
        }
        learned += n && sb_is_learned(sb_run_median(v, n));
    }
    if (nf)
        snprintf(buf, len, "%zu/%zu%s", learned, nf,
                 json_object_get(last, "test_psnr_db") ? " bands" : "");
    else
        snprintf(buf, len, "-");
}

void sb_run_print_summary(json_t *root, FILE *f)
{
    fprintf(f, "\n%-24s %9s %9s %6s %11s %8s %10s %11s\n", "experiment", "ms/step", "GFLOP/s",
            "%peak", "final loss", "PSNR dB", "to target", "learned");
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(root, "experiments"), i, e) {
        const char *name = json_string_value(json_object_get(e, "name"));
        json_t *reps = json_object_get(e, "repetitions");
        const char *status = json_string_value(json_object_get(e, "status"));
        if (!json_array_size(reps) || !status || strcmp(status, "ok")) {
            fprintf(f, "%-24s %s: %s\n", name, status ? status : "failed",
                    json_string_value(json_object_get(e, "error")));
            continue;
        }
        json_t *sum = json_object_get(e, "summary");
#define MED(field) json_object_get(json_object_get(sum, field), "median")
        char ttt[32] = "never", learned[48], peak[32] = "-";
        if (json_is_number(MED("time_to_target_s")))
            snprintf(ttt, sizeof ttt, "%.2f s", json_number_value(MED("time_to_target_s")));
        if (json_is_number(MED("peak_fraction")))
            snprintf(peak, sizeof peak, "%.1f", 100.0 * json_number_value(MED("peak_fraction")));
        learned_count(reps, learned, sizeof learned);
        fprintf(f, "%-24s %9.3f %9.2f %6s %11.3e %8.2f %10s %11s\n", name, sb_run_ms_per_step(reps),
                json_number_value(MED("gflops")), peak, json_number_value(MED("final_loss")),
                json_number_value(MED("final_psnr_db")), ttt, learned);
#undef MED
    }
    char note[512];
    int any = 0;
    json_array_foreach(json_object_get(root, "experiments"), i, e) {
        if (!sb_threads_note(e, note, sizeof note)) continue;
        if (!any++)
            fprintf(f, "threads not fully used (fewer work items than threads, or threads "
                       "working under %.0f %% of the step):\n",
                    100.0 * SB_WORK_FRACTION_LOW);
        fprintf(f, "  %s\n", note);
    }
    fprintf(f, "(ms/step: median over repetitions; learned: " SB_LEARNED_DEFINITION
               ", median over repetitions; 2D: radial bands; PSNR: test pixels for 2D, the "
               "fitted signal for 1D)\n");
}

/* FLOPs of one training step of e, from the kernels' declared costs as run counts them
 * (sb_model_step_cost over the model and batch it would train); 0 when its data cannot be
 * built (run itself then names the problem). The model is only its shape (as sb_model_init
 * lays it out), no parameters: --list must not allocate what an absurd suite asks for. */
static double step_flops(const struct sb_experiment *e, uint64_t seed)
{
    struct sb_data d;
    struct sb_encoding enc;
    char err[512];
    if (sb_data_make(e, seed + e->seed, &d, &enc, err, sizeof err)) return 0.0;
    struct sb_model m = {.spec = {d.d, e->depth, e->width, d.out, e->output}, .enc = enc};
    m.features = sb_encoding_features(&enc, d.d);
    m.n_layers = e->depth + 1;
    m.n_params = sb_model_param_count(&m.spec, m.features);
    double flops = 0.0;
    if ((m.layers = calloc(m.n_layers, sizeof *m.layers))) {
        for (size_t l = 0; l < m.n_layers; l++) {
            m.layers[l].in = l == 0 ? m.features : e->width;
            m.layers[l].out = l == e->depth ? d.out : e->width;
        }
        flops = sb_model_step_cost(&m, e->batch ? e->batch : d.n_train,
                                   e->batch && e->batch < d.n_train).flops;
    }
    free(m.layers);
    free(enc.B);
    sb_data_free(&d);
    return flops;
}

static void fmt_duration(char *buf, size_t len, double s)
{
    if (!(s > 0)) snprintf(buf, len, "?");
    else if (s < 0.1) snprintf(buf, len, "<0.1 s");
    else if (s < 120) snprintf(buf, len, "%.1f s", s);
    else if (s < 7200) snprintf(buf, len, "%.0f min", s / 60);
    else snprintf(buf, len, "%.1f h", s / 3600);
}

void sb_run_print_list(const struct run *r, FILE *f)
{
    struct sb_peak pk;
    /* The peak of the ISA and threads the run would use, from the peak cache (measured and
     * cached when absent, as run does). */
    sb_peak_get(r->k->isa, r->threads, r->a.remeasure_peak, stderr, "specbias run", &pk);
    fprintf(f, "%-32s %10s %11s %12s\n", "experiment", "steps", "MFLOP/step", "at peak");
    double total = 0.0;
    for (size_t i = 0; i < r->nsel; i++) {
        const struct sb_experiment *e = &r->suite.exp[r->sel[i]];
        const uint64_t steps = r->a.steps ? r->a.steps : e->steps;
        const double flops = step_flops(e, r->a.seed);
        const double s = pk.gflops > 0 ? (double)steps * flops / (pk.gflops * 1e9) : 0.0;
        char t[32];
        fmt_duration(t, sizeof t, s * r->a.repetitions);
        total += s * r->a.repetitions;
        fprintf(f, "%-32s %10llu %11.3f %12s\n", e->name, (unsigned long long)steps, flops / 1e6,
                t);
    }
    char t[32];
    fmt_duration(t, sizeof t, total);
    fprintf(f, "%-32s %10s %11s %12s\n", "total", "", "", t);
    fprintf(f,
            "(at peak: steps x repetitions x FLOPs per step, from the kernels' declared costs, "
            "at this machine's FMA peak of %.1f GFLOP/s (%s, %d thread%s): a lower bound, since "
            "training reaches only a share of the peak (run's %%peak column) and checkpoints "
            "add evaluation time)\n",
            pk.gflops, r->k->isa_name, r->threads, r->threads == 1 ? "" : "s");
}

static int cmp_string(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void sb_run_list_suites(const char *suite_path, FILE *f)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s", suite_path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    else snprintf(dir, sizeof dir, ".");
    DIR *d = opendir(dir);
    if (!d) return;
    char *names[256];
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < 256) {
        const size_t len = strlen(de->d_name);
        if (len > 5 && de->d_name[0] != '.' && !strcmp(de->d_name + len - 5, ".json") &&
            (names[n] = strndup(de->d_name, len - 5)))
            n++;
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_string);
    fprintf(f, "specbias run: %s in %s%s", n ? "the suites" : "no suite files (*.json)", dir,
            n ? ":" : "; --suite also takes a suite file's path");
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "%s%s", i ? ", " : " ", names[i]);
        free(names[i]);
    }
    fprintf(f, "%s\n", n ? " (or --suite FILE.json)" : "");
}
