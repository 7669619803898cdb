/* The trainer end to end: the same trajectory on every ISA and thread count, divergence
 * reported as a failure with its step, the analyses on networks whose answers are known, the
 * shipped suites, checkpoint spacing and the encodings' conventions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "harness/train/analysis.h"
#include "harness/data/detmath.h"
#include "harness/train/experiment.h"
#include "harness/results/results.h"
#include "harness/train/train.h"
#include "harness/util/util.h"

#include <malloc.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef SB_HAVE_AVX512_EMU
extern const struct sb_kernels sb_kernels__avx512emu;
#endif

static struct sb_experiment small_1d(const char *name, enum sb_encoding_name enc)
{
    struct sb_experiment e;
    memset(&e, 0, sizeof e);
    snprintf(e.name, sizeof e.name, "%s", name);
    e.target = SB_TARGET_SINES1D;
    e.n = 600; /* 3 tiles, the last one partial */
    e.domain[1] = 1.0;
    e.nk = 4;
    for (size_t i = 0; i < e.nk; i++) {
        e.freq[i] = 3 + 5 * (int)i;
        e.amp[i] = 1.0;
    }
    e.encoding = enc;
    e.octaves[0] = 0;
    e.octaves[1] = 4;
    e.depth = 2;
    e.width = 70; /* two mask words, a partial vector */
    e.output = SB_OUT_LINEAR;
    e.optimizer = SB_OPT_ADAM;
    e.lr = 1e-3;
    e.beta1 = 0.9;
    e.beta2 = 0.999;
    e.eps = 1e-8;
    e.steps = 25;
    e.checkpoints = 5;
    e.target_loss = 0.5;
    e.confusion = SB_CONFUSION_END;
    e.confusion_bins = 10;
    e.radial_bands = 4;
    return e;
}

static struct sb_experiment small_2d(void)
{
    struct sb_experiment e = small_1d("zone/gauss", SB_ENCODING_GAUSS);
    e.target = SB_TARGET_ZONEPLATE;
    e.image_size = 40;
    e.channels = 3;
    e.count = 24;
    e.sigma = 4.0;
    e.output = SB_OUT_SIGMOID;
    e.target_psnr = 10.0;
    e.batch = 150; /* fixed minibatches */
    return e;
}

/* e trained with --seed `seed`, --seeds `seeds` and --repetitions `reps`, as results.json's
 * entry. */
static json_t *run_seeds(const struct sb_experiment *e, const struct sb_kernels *k, int threads,
                         uint64_t seed, size_t seeds, size_t reps, int *status, char *err,
                         size_t errlen)
{
    omp_set_num_threads(threads);
    struct sb_run_options o = {k, seed, 0, reps, threads, 0.0, NULL, 0, NULL, seeds};
    struct sb_experiment_result x;
    *status = sb_train_experiment(e, &o, 0, 1, &x, err, errlen);
    json_t *je = sb_results_experiment(&x);
    sb_experiment_result_free(&x);
    return je;
}

static json_t *run(const struct sb_experiment *e, const struct sb_kernels *k, int threads,
                   int *status, char *err, size_t errlen)
{
    return run_seeds(e, k, threads, 0, 1, 1, status, err, errlen);
}

static const char *hash_of(json_t *je)
{
    return json_string_value(
        json_object_get(json_array_get(json_object_get(je, "repetitions"), 0), "trajectory_hash"));
}

static void test_trajectory_same_everywhere(void **state)
{
    (void)state;
    const struct sb_kernels *tables[SB_ISA_COUNT + 1];
    const char *labels[SB_ISA_COUNT + 1];
    size_t nt = 0;
    for (int i = 0; i < SB_ISA_COUNT; i++)
        if (sb_isa_supported((enum sb_isa)i, NULL)) {
            tables[nt] = sb_kernels_for((enum sb_isa)i);
            labels[nt++] = sb_isa_name((enum sb_isa)i);
        }
#ifdef SB_HAVE_AVX512_EMU
    tables[nt] = &sb_kernels__avx512emu; /* the AVX-512 sources on SIMDe */
    labels[nt++] = "avx512emu";
#endif
    const struct sb_experiment exps[] = {small_1d("1d/raw", SB_ENCODING_NONE),
                                         small_1d("1d/posenc", SB_ENCODING_POSENC), small_2d()};
    for (size_t x = 0; x < sizeof exps / sizeof *exps; x++) {
        char ref[17] = "";
        for (size_t t = 0; t < nt; t++)
            /* the 1D batches (3 tiles) take the tile path on up to 3 threads and the layer
             * path on 4; the 2D minibatch (1 tile) the layer path from 2 threads */
            for (int threads = 1; threads <= 4; threads++) {
                int status;
                char err[512];
                json_t *je = run(&exps[x], tables[t], threads, &status, err, sizeof err);
                if (status) fail_msg("%s on %s: %s", exps[x].name, labels[t], err);
                const char *h = hash_of(je);
                assert_non_null(h);
                if (!ref[0]) snprintf(ref, sizeof ref, "%s", h);
                printf("  %-10s %-9s %d thread%s %s\n", exps[x].name, labels[t], threads,
                       threads == 1 ? " " : "s", h);
                if (strcmp(ref, h))
                    fail_msg("%s: trajectory %s on %s with %d threads, %s on the first",
                             exps[x].name, h, labels[t], threads, ref);
                json_decref(je);
            }
    }
}

static void test_confusion_off_is_null(void **state)
{
    (void)state;
    struct sb_experiment e = small_2d();
    e.confusion = SB_CONFUSION_OFF;
    e.steps = 3;
    int status;
    char err[512];
    json_t *je = run(&e, sb_kernels_for(SB_ISA_SCALAR), 1, &status, err, sizeof err);
    assert_int_equal(status, 0);
    json_t *an = json_object_get(json_array_get(json_object_get(je, "repetitions"), 0), "analysis");
    assert_true(json_is_null(json_object_get(an, "confusion_local")));
    assert_true(json_is_null(json_object_get(an, "confusion_global")));
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(je, "summary"), "repetitions")), 1);
    json_decref(je);
}

static void test_divergence_fails_with_step(void **state)
{
    (void)state;
    struct sb_experiment e = small_1d("diverge", SB_ENCODING_POSENC);
    e.optimizer = SB_OPT_SGD;
    e.lr = 1e5;
    int status;
    char err[512] = "";
    json_t *je = run(&e, sb_kernels_for(SB_ISA_SCALAR), 1, &status, err, sizeof err);
    assert_int_equal(status, 3);
    assert_non_null(strstr(err, "diverged"));
    assert_non_null(strstr(err, "at step"));
    assert_string_equal(json_string_value(json_object_get(je, "status")), "failed");
    json_t *r = json_array_get(json_object_get(je, "repetitions"), 0);
    assert_string_equal(json_string_value(json_object_get(r, "status")), "failed");
    json_decref(je);
}

static void test_results_fields(void **state)
{
    (void)state;
    struct sb_experiment e = small_1d("fields", SB_ENCODING_POSENC);
    int status;
    char err[512];
    json_t *je = run(&e, sb_kernels_for(sb_isa_auto()), 2, &status, err, sizeof err);
    assert_int_equal(status, 0);
    json_t *r = json_array_get(json_object_get(je, "repetitions"), 0);
    static const char *const fields[] = {"steps", "train_seconds", "steps_per_second", "gflops",
                                         "peak_fraction", "final_loss", "final_psnr_db",
                                         "time_to_target_s", "convergence_per_second",
                                         "trajectory_hash", "curve", "frequencies", "analysis"};
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
        if (!json_object_get(r, fields[i])) fail_msg("repetition lacks '%s'", fields[i]);
    json_t *curve = json_object_get(r, "curve");
    assert_int_equal(json_array_size(curve), 5);
    json_t *last = json_array_get(curve, 4);
    assert_int_equal(json_integer_value(json_object_get(last, "step")), 25);
    assert_int_equal(json_array_size(json_object_get(last, "spectral_error")), 4);
    assert_int_equal(json_array_size(json_object_get(last, "spectral_magnitude")), 4);
    /* final_loss is the training loss after the last step, the curve's last point */
    assert_true(json_number_value(json_object_get(r, "final_loss")) ==
                json_number_value(json_object_get(last, "loss")));
    json_t *an = json_object_get(r, "analysis");
    static const char *const af[] = {"regions", "dead_units", "hamming_local_mean",
                                     "hamming_global_mean", "confusion_local", "confusion_global"};
    for (size_t i = 0; i < sizeof af / sizeof *af; i++)
        if (!json_object_get(an, af[i])) fail_msg("analysis lacks '%s'", af[i]);
    json_t *cl = json_object_get(an, "confusion_local");
    assert_int_equal(json_array_size(json_object_get(cl, "histogram")), 10);
    size_t total = 0, i;
    json_t *v;
    json_array_foreach(json_object_get(cl, "histogram"), i, v) total +=
        (size_t)json_integer_value(v);
    assert_int_equal(total, (size_t)json_integer_value(json_object_get(cl, "pairs")));
    assert_true(total > 0);
    /* train time excludes evaluation; both are recorded */
    assert_true(json_number_value(json_object_get(r, "eval_seconds")) > 0);
    /* the threads' share of the step in work: thread time is never more than threads x wall */
    assert_int_equal(json_integer_value(json_object_get(r, "threads")), 2);
    const double work = json_number_value(json_object_get(r, "work_fraction"));
    if (!(work > 0 && work <= 1.0 + 1e-9)) fail_msg("work_fraction %g is not in (0, 1]", work);
    json_t *sp = json_object_get(je, "parallel_split");
    assert_int_equal(json_integer_value(json_object_get(sp, "threads")), 2);
    assert_non_null(json_object_get(json_object_get(je, "summary"), "work_fraction"));
    json_decref(je);
}

/* How a step is shared among threads, for the paper's lazzari1d network (2048 rows, 14
 * features, 4 x 128 units, 1 output): 8 tiles; the tile path while there are as many tiles as
 * threads, then layer by layer, where the widest layer's weight gradient has 16 items (2
 * blocks of 64 outputs x 8 blocks of 16 inputs) and caps the threads with work. */
static void test_split(void **state)
{
    (void)state;
    const struct sb_model_spec s = {1, 4, 128, 1, SB_OUT_LINEAR};
    struct sb_split sp = sb_model_split(&s, 14, 2048, 1);
    assert_int_equal(sp.tiles, 8);
    assert_true(sp.backward_by_tiles);
    assert_int_equal(sp.tiles_per_thread, 8);
    assert_int_equal(sp.threads_with_work, 1);
    sp = sb_model_split(&s, 14, 2048, 3);
    assert_true(sp.backward_by_tiles);
    assert_int_equal(sp.tiles_per_thread, 3);
    assert_int_equal(sp.row_blocks, 8);
    assert_int_equal(sp.threads_with_work, 3);
    sp = sb_model_split(&s, 14, 2048, 64);
    assert_false(sp.backward_by_tiles);
    assert_int_equal(sp.row_blocks, 64); /* 32 rows each */
    assert_int_equal(sp.weight_grad_items, 16);
    assert_int_equal(sp.threads_with_work, 16);
    /* rahaman1d: 200 rows, one tile; on 2 threads the rows split in two blocks of 104 and 96 */
    sp = sb_model_split(&s, 1, 200, 2);
    assert_int_equal(sp.tiles, 1);
    assert_false(sp.backward_by_tiles);
    assert_int_equal(sp.row_blocks, 2);
    assert_int_equal(sp.threads_with_work, 2);

    /* the note for an experiment that cannot use its threads, from its results entry */
    char note[512];
    json_t *e = json_pack("{s:s, s:{s:i, s:i, s:i}, s:{s:{s:f}}}", "name", "lazzari1d/pe0-6",
                          "parallel_split", "threads", 64, "tiles", 8, "threads_with_work", 16,
                          "summary", "work_fraction", "median", 0.21);
    assert_true(sb_threads_note(e, note, sizeof note));
    assert_string_equal(note, "lazzari1d/pe0-6: 8 tiles on 64 threads, 16 with work, threads "
                              "working 21 % of the step");
    json_object_set_new(json_object_get(e, "parallel_split"), "threads_with_work",
                        json_integer(64));
    json_object_set_new(json_object_get(json_object_get(e, "summary"), "work_fraction"), "median",
                        json_real(0.9));
    assert_false(sb_threads_note(e, note, sizeof note)); /* every thread busy most of the time */
    json_object_set_new(json_object_get(json_object_get(e, "summary"), "work_fraction"), "median",
                        json_real(0.5));
    assert_true(sb_threads_note(e, note, sizeof note));
    assert_string_equal(note, "lazzari1d/pe0-6: 8 tiles on 64 threads, threads working 50 % of "
                              "the step");
    json_object_set_new(json_object_get(e, "parallel_split"), "threads", json_integer(1));
    assert_false(sb_threads_note(e, note, sizeof note)); /* one thread: nothing to share */
    json_decref(e);
}

static int cmp_dbl(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* --seeds: seed i is the plain run with --seed offset + i, bit for bit (so seed 0 keeps
 * today's trajectory hash), the first seed's repetitions stay in `repetitions`, and the
 * summary's trimmed mean is the mean of the per-seed times without the fastest and slowest. */
static void test_seeds(void **state)
{
    (void)state;
    struct sb_experiment e = small_1d("seeds", SB_ENCODING_POSENC);
    e.seed = 11;
    e.target_loss = 1e-30; /* never met: this run finds each seed's final loss */
    const struct sb_kernels *k = sb_kernels_for(sb_isa_auto());
    int status;
    char err[512];
    json_t *je = run_seeds(&e, k, 2, 3, 4, 1, &status, err, sizeof err);
    if (status) fail_msg("%s", err);
    double worst = 0.0;
    for (size_t i = 0; i < 4; i++) {
        const double l = json_number_value(
            json_object_get(json_array_get(json_object_get(je, "seeds"), i), "final_loss"));
        worst = l > worst ? l : worst;
    }
    json_decref(je);
    /* Every seed reaches this target by its last step, each at its own step, so the seeds'
     * times differ (the trajectories do not depend on the target). */
    e.target_loss = worst * (1 + 1e-6);
    je = run_seeds(&e, k, 2, 3, 4, 2, &status, err, sizeof err);
    if (status) fail_msg("%s", err);
    json_t *seeds = json_object_get(je, "seeds");
    assert_int_equal(json_array_size(seeds), 4);
    assert_int_equal(json_array_size(json_object_get(je, "repetitions")), 2);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(je, "config"), "seed")),
                     14);
    double t[4];
    for (size_t i = 0; i < 4; i++) {
        json_t *sd = json_array_get(seeds, i);
        assert_int_equal(json_integer_value(json_object_get(sd, "seed")), 14 + (json_int_t)i);
        assert_string_equal(json_string_value(json_object_get(sd, "status")), "ok");
        json_t *own = i ? json_object_get(sd, "repetitions") : json_object_get(je, "repetitions");
        assert_int_equal(json_array_size(own), 2);
        if (i == 0) assert_null(json_object_get(sd, "repetitions"));
        /* the oracle: a plain run with --seed 3 + i */
        json_t *plain = run_seeds(&e, k, 1, 3 + i, 1, 1, &status, err, sizeof err);
        assert_null(json_object_get(plain, "seeds"));
        const char *h = json_string_value(json_object_get(sd, "trajectory_hash"));
        assert_string_equal(h, hash_of(plain));
        for (size_t r = 0; r < 2; r++)
            assert_string_equal(h, json_string_value(json_object_get(json_array_get(own, r),
                                                                     "trajectory_hash")));
        json_decref(plain);
        /* the seed's time: the median of its two repetitions' */
        const double a =
            json_number_value(json_object_get(json_array_get(own, 0), "time_to_target_s"));
        const double b =
            json_number_value(json_object_get(json_array_get(own, 1), "time_to_target_s"));
        t[i] = json_number_value(json_object_get(sd, "time_to_target_s"));
        assert_true(t[i] == 0.5 * (a + b));
    }
    qsort(t, 4, sizeof *t, cmp_dbl);
    json_t *ss = json_object_get(json_object_get(je, "summary"), "seeds");
    json_t *tt = json_object_get(ss, "time_to_target_s");
    assert_int_equal(json_integer_value(json_object_get(ss, "requested")), 4);
    assert_int_equal(json_integer_value(json_object_get(ss, "reached")), 4);
    assert_int_equal(json_integer_value(json_object_get(tt, "dropped")), 2);
    assert_true(fabs(json_number_value(json_object_get(tt, "trimmed_mean")) - (t[1] + t[2]) / 2) <=
                1e-12 * t[3]);
    assert_true(json_number_value(json_object_get(tt, "min")) == t[0]);
    assert_true(json_number_value(json_object_get(tt, "max")) == t[3]);
    json_decref(je);
}

/* A seed that fails does not stop the next ones: every seed is tried, each records its own
 * failure, the experiment fails (exit 3) with the first failure's message naming its seed,
 * and no seed counts as having reached the target. */
static void test_seeds_failing(void **state)
{
    (void)state;
    struct sb_experiment e = small_1d("diverge", SB_ENCODING_POSENC);
    e.optimizer = SB_OPT_SGD;
    e.lr = 1e5;
    int status;
    char err[512] = "";
    json_t *je = run_seeds(&e, sb_kernels_for(SB_ISA_SCALAR), 1, 0, 3, 2, &status, err, sizeof err);
    assert_int_equal(status, 3);
    assert_non_null(strstr(err, "diverged"));
    assert_non_null(strstr(err, "(seed 0, 1 of 3)"));
    assert_string_equal(json_string_value(json_object_get(je, "status")), "failed");
    json_t *seeds = json_object_get(je, "seeds");
    assert_int_equal(json_array_size(seeds), 3);
    for (size_t i = 0; i < 3; i++) {
        json_t *sd = json_array_get(seeds, i);
        assert_string_equal(json_string_value(json_object_get(sd, "status")), "failed");
        assert_non_null(strstr(json_string_value(json_object_get(sd, "error")), "diverged"));
        /* the failed repetition ends its seed: its trajectory would fail again */
        assert_int_equal(json_integer_value(json_object_get(sd, "repetitions_run")), 1);
    }
    json_t *ss = json_object_get(json_object_get(je, "summary"), "seeds");
    assert_int_equal(json_integer_value(json_object_get(ss, "finished")), 3);
    assert_int_equal(json_integer_value(json_object_get(ss, "reached")), 0);
    json_decref(je);
}

/* The summary over given per-seed values: seeds {status, time_to_target_s}. */
static json_t *summary_of(const char *seeds_json, size_t requested)
{
    json_error_t je;
    json_t *seeds = json_loads(seeds_json, 0, &je);
    assert_non_null(seeds);
    json_t *s = sb_seeds_summary(seeds, requested);
    json_decref(seeds);
    assert_non_null(json_object_get(s, "time_to_target_s"));
    return s;
}

static double tt_field(json_t *s, const char *f)
{
    const json_t *v = json_object_get(json_object_get(s, "time_to_target_s"), f);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* MLPerf's rule on known values: the fastest and slowest dropped from 3 seeds on; a seed that
 * never reached the target, or failed, counted as the slowest; two such seeds leave no mean;
 * interrupted seeds left out; the spread over the seeds that reached the target. */
static void test_seeds_summary_rule(void **state)
{
    (void)state;
    json_t *s = summary_of("[{\"status\": \"ok\", \"time_to_target_s\": 5},"
                           " {\"status\": \"ok\", \"time_to_target_s\": 1},"
                           " {\"status\": \"ok\", \"time_to_target_s\": 3},"
                           " {\"status\": \"ok\", \"time_to_target_s\": 9},"
                           " {\"status\": \"ok\", \"time_to_target_s\": 4}]", 5);
    assert_true(tt_field(s, "trimmed_mean") == 4.0); /* (3 + 4 + 5) / 3 */
    assert_true(tt_field(s, "min") == 1.0 && tt_field(s, "max") == 9.0);
    assert_true(tt_field(s, "q1") == 3.0 && tt_field(s, "median") == 4.0 &&
                tt_field(s, "q3") == 5.0);
    json_decref(s);
    s = summary_of("[{\"status\": \"ok\", \"time_to_target_s\": 2},"
                   " {\"status\": \"ok\", \"time_to_target_s\": null},"
                   " {\"status\": \"ok\", \"time_to_target_s\": 6},"
                   " {\"status\": \"interrupted\", \"time_to_target_s\": 1}]", 5);
    assert_true(tt_field(s, "trimmed_mean") == 6.0); /* 2 dropped, never dropped as slowest */
    assert_int_equal(json_integer_value(json_object_get(s, "finished")), 3);
    assert_int_equal(json_integer_value(json_object_get(s, "reached")), 2);
    assert_int_equal(json_integer_value(json_object_get(s, "requested")), 5);
    json_decref(s);
    s = summary_of("[{\"status\": \"ok\", \"time_to_target_s\": 2},"
                   " {\"status\": \"failed\", \"time_to_target_s\": null},"
                   " {\"status\": \"ok\", \"time_to_target_s\": null},"
                   " {\"status\": \"ok\", \"time_to_target_s\": 6}]", 4);
    assert_true(isnan(tt_field(s, "trimmed_mean"))); /* two never reached: invalid */
    assert_true(tt_field(s, "max") == 6.0);
    json_decref(s);
    s = summary_of("[{\"status\": \"ok\", \"time_to_target_s\": 2},"
                   " {\"status\": \"ok\", \"time_to_target_s\": 3}]", 2);
    assert_true(tt_field(s, "trimmed_mean") == 2.5); /* below 3 seeds: nothing dropped */
    assert_int_equal(json_integer_value(json_object_get(json_object_get(s, "time_to_target_s"),
                                                        "dropped")), 0);
    json_decref(s);
}

/* A seed that never reaches the target counts as the slowest (MLPerf): from 3 seeds one is
 * dropped as the slowest, two make the mean null; below 3 seeds nothing is dropped. */
static void test_seeds_never_reached(void **state)
{
    (void)state;
    struct sb_experiment e = small_1d("never", SB_ENCODING_NONE);
    e.target_loss = 1e-30; /* never met */
    e.steps = 3;
    int status;
    char err[512];
    json_t *je = run_seeds(&e, sb_kernels_for(SB_ISA_SCALAR), 1, 0, 3, 1, &status, err, sizeof err);
    assert_int_equal(status, 0);
    json_t *ss = json_object_get(json_object_get(je, "summary"), "seeds");
    json_t *tt = json_object_get(ss, "time_to_target_s");
    assert_int_equal(json_integer_value(json_object_get(ss, "reached")), 0);
    assert_int_equal(json_integer_value(json_object_get(ss, "finished")), 3);
    assert_true(json_is_null(json_object_get(tt, "trimmed_mean")));
    assert_true(json_is_null(json_object_get(tt, "min")));
    assert_true(json_is_null(json_object_get(json_array_get(json_object_get(je, "seeds"), 1),
                                             "time_to_target_s")));
    json_decref(je);
    je = run_seeds(&e, sb_kernels_for(SB_ISA_SCALAR), 1, 0, 2, 1, &status, err, sizeof err);
    tt = json_object_get(json_object_get(json_object_get(je, "summary"), "seeds"),
                         "time_to_target_s");
    assert_int_equal(json_integer_value(json_object_get(tt, "dropped")), 0);
    json_decref(je);
}

/* sb_model_forward_fixed encodes its input at the first call and not again while the input
 * is the same and no other pass came between; the outputs are sb_model_forward's bits. The
 * proof that it skips: a scribbled encoding survives the second call. */
static void test_forward_fixed_encodes_once(void **state)
{
    (void)state;
    const size_t N = 300; /* two row blocks */
    struct sb_model_spec spec = {1, 2, 16, 1, SB_OUT_LINEAR};
    struct sb_encoding enc = {SB_ENC_POSENC, 0, 3, 0, NULL};
    struct sb_model m;
    assert_int_equal(sb_model_init(&m, &spec, &enc, 7), 0);
    float *x = malloc(N * sizeof *x), *x2 = malloc(N * sizeof *x2), *y = malloc(N * sizeof *y);
    for (size_t i = 0; i < N; i++) x[i] = (float)i / (float)N, x2[i] = 1.0f - x[i];
    struct sb_activations a;
    assert_int_equal(sb_activations_alloc(&a, &m, N), 0);
    const struct sb_kernels *k = sb_kernels_for(SB_ISA_SCALAR);
    const size_t F = m.features;
    float *encoded = malloc(N * F * sizeof *encoded);
    sb_model_forward(k, &m, N, x, &a);
    memcpy(y, a.y, N * sizeof *y);
    memcpy(encoded, a.enc, N * F * sizeof *encoded);
    assert_null(a.enc_of);

    sb_model_forward_fixed(k, &m, N, x, &a); /* encodes: the plain pass left no claim */
    assert_memory_equal(a.y, y, N * sizeof *y);
    assert_ptr_equal(a.enc_of, x);
    memset(a.enc, 0, N * F * sizeof *a.enc);
    sb_model_forward_fixed(k, &m, N, x, &a); /* skips: the zeros stay */
    for (size_t i = 0; i < N * F; i++) assert_true(a.enc[i] == 0.0f);
    sb_model_forward_fixed(k, &m, N - 1, x, &a); /* other rows: encodes */
    assert_memory_equal(a.enc, encoded, (N - 1) * F * sizeof *a.enc);
    assert_memory_equal(a.y, y, (N - 1) * sizeof *y);
    sb_model_forward_fixed(k, &m, N, x, &a);
    sb_model_forward(k, &m, N, x2, &a); /* another input's pass overwrites enc */
    assert_null(a.enc_of);
    sb_model_forward_fixed(k, &m, N, x, &a); /* and the next fixed pass encodes again */
    assert_memory_equal(a.enc, encoded, N * F * sizeof *a.enc);
    assert_memory_equal(a.y, y, N * sizeof *y);

    /* A step's declared cost counts the encoding only where the step encodes. */
    const struct sb_cost with = sb_model_step_cost(&m, N, 1), without = sb_model_step_cost(&m, N, 0);
    const struct sb_cost posenc = sb_kernel_cost(SB_K_posenc_fwd, (struct sb_shape){256, 1, 4});
    const struct sb_cost posenc_tail = sb_kernel_cost(SB_K_posenc_fwd, (struct sb_shape){N - 256, 1, 4});
    assert_true(with.flops - without.flops == posenc.flops + posenc_tail.flops);
    free(encoded);
    free(x);
    free(x2);
    free(y);
    sb_activations_free(&a);
    sb_model_free(&m);
}

/* A network whose patterns are known: one hidden layer, weights w_j = 1 and biases -c_j
 * with distinct c_j in (0, 1), on inputs x in [0, 1): unit j is on iff x > c_j, so the units
 * split [0, 1) into width + 1 regions, and two inputs differ in the units between them. */
static void test_analysis_known_network(void **state)
{
    (void)state;
    const size_t W = 10, N = 1000;
    struct sb_model_spec spec = {1, 1, W, 1, SB_OUT_LINEAR};
    struct sb_encoding enc = {SB_ENC_NONE, 0, 0, 0, NULL};
    struct sb_model m;
    assert_int_equal(sb_model_init(&m, &spec, &enc, 1), 0);
    for (size_t j = 0; j < W; j++) {
        m.params[m.layers[0].w_off + j] = 1.0f;
        m.params[m.layers[0].b_off + j] = -(float)(j + 0.5) / (float)W;
    }
    /* two extra always-dead units would need width 12; instead kill unit 9 with a large bias */
    m.params[m.layers[0].b_off + 9] = -5.0f;
    sb_model_pack(&m);
    float *x = malloc(N * sizeof *x), *t = calloc(N, sizeof *t);
    for (size_t i = 0; i < N; i++) x[i] = (float)i / (float)N;
    struct sb_activations a;
    assert_int_equal(sb_activations_alloc(&a, &m, N), 0);
    const struct sb_kernels *k = sb_kernels_for(SB_ISA_SCALAR);
    sb_model_forward(k, &m, N, x, &a);
    struct sb_pairs local = {0}, global = {0};
    assert_int_equal(sb_pairs_local(1, N, 250, 3, &local), 0);
    assert_int_equal(sb_pairs_global(1, N, 5000, 3, &global), 0);
    assert_int_equal(local.n, 25 * 250);
    struct sb_pattern_stats st;
    assert_int_equal(sb_pattern_stats(k, &m, &a, N, &local, &global, &st), 0);
    assert_int_equal(st.regions, W); /* 9 live thresholds -> 10 regions */
    assert_int_equal(st.dead_units, 1);
    /* Hamming of a pair = number of thresholds (j + 0.5) / 10, j < 9, between them. */
    double expect_local = 0, expect_global = 0;
    for (size_t q = 0; q < local.n; q++) {
        assert_true(local.i[q] != local.j[q]);
        assert_true(labs((long)local.i[q] - (long)local.j[q]) < 50);
        const size_t lo = local.i[q] < local.j[q] ? local.i[q] : local.j[q];
        const size_t hi = local.i[q] ^ local.j[q] ^ lo;
        for (size_t j = 0; j < 9; j++)
            expect_local += lo <= (j * 2 + 1) * 50 && (j * 2 + 1) * 50 < hi;
    }
    for (size_t q = 0; q < global.n; q++) {
        assert_true(global.i[q] < N * 800 / 2048 && global.j[q] >= (N * 1200 + 2047) / 2048);
        for (size_t j = 0; j < 9; j++)
            expect_global += global.i[q] <= (j * 2 + 1) * 50 && (j * 2 + 1) * 50 < global.j[q];
    }
    assert_true(fabs(st.hamming_local_mean - expect_local / (double)local.n) < 1e-12);
    assert_true(fabs(st.hamming_global_mean - expect_global / (double)global.n) < 1e-12);

    /* Confusion: a pair of identical inputs has cosine 1; an input and itself, negated
     * residual, has cosine -1 (every gradient is the residual times the same factors). */
    struct sb_pairs same = {0};
    assert_int_equal(sb_pairs_global(1, N, 1, 3, &same), 0);
    same.i[0] = 700;
    same.j[0] = 701;
    for (size_t i = 0; i < N; i++) t[i] = 100.0f;
    t[701] = -100.0f;
    x[701] = x[700];
    sb_model_forward(k, &m, N, x, &a);
    struct sb_confusion cl, cg;
    assert_int_equal(sb_confusion(k, &m, &a, N, t, &same, &same, 4, &cl, &cg), 0);
    assert_int_equal(cl.pairs, 1);
    assert_true(fabs(cl.mean + 1.0) < 1e-9);
    assert_int_equal(cl.histogram[0], 1);
    assert_true(cl.negative_fraction == 1.0);
    sb_confusion_free(&cl);
    sb_confusion_free(&cg);
    t[701] = 100.0f;
    assert_int_equal(sb_confusion(k, &m, &a, N, t, &same, &same, 4, &cl, &cg), 0);
    assert_true(fabs(cl.mean - 1.0) < 1e-9);
    assert_int_equal(cl.histogram[3], 1);
    sb_confusion_free(&cl);
    sb_confusion_free(&cg);
    sb_pairs_free(&same);
    sb_pairs_free(&local);
    sb_pairs_free(&global);
    sb_activations_free(&a);
    sb_model_free(&m);
    free(x);
    free(t);
}

static void test_checkpoint_steps(void **state)
{
    (void)state;
    uint64_t s[64];
    size_t n = sb_checkpoint_steps(500, 16, s, 64);
    assert_true(n >= 10 && n <= 16);
    assert_int_equal(s[0], 0);
    assert_int_equal(s[n - 1], 500);
    for (size_t i = 1; i < n; i++) assert_true(s[i] > s[i - 1]);
    /* log spacing: the middle checkpoint is near sqrt(501) */
    n = sb_checkpoint_steps(10000, 3, s, 64);
    assert_int_equal(n, 3);
    assert_int_equal(s[1], 99);
    n = sb_checkpoint_steps(1, 16, s, 64);
    assert_int_equal(n, 2);
}

static void test_encodings_follow_the_conventions(void **state)
{
    (void)state;
    /* NeRF posenc, l = 0..6 of 1 coordinate: 14 features, sin(2^l pi x) then cos. */
    struct sb_experiment e = small_1d("pe", SB_ENCODING_POSENC);
    e.octaves[1] = 6;
    struct sb_data d;
    struct sb_encoding enc;
    char err[256];
    assert_int_equal(sb_data_make(&e, 0, &d, &enc, err, sizeof err), 0);
    assert_int_equal(sb_encoding_features(&enc, 1), 14);
    /* the target: sum of A sin(2 pi k t + 2 pi phi) on t = i/n; its mean over a period is 0 */
    double mean = 0;
    for (size_t i = 0; i < d.n_train; i++) mean += d.t_train[i];
    assert_true(fabs(mean / (double)d.n_train) < 1e-6);
    assert_true(d.x_train[0] == 0.0f && fabs(d.x_train[300] - 0.5f) < 1e-7);
    sb_data_free(&d);
    /* raw11: i/1024 - 1 for n = 2048 */
    e.n = 2048;
    e.domain[0] = -1;
    e.domain[1] = 1;
    e.encoding = SB_ENCODING_NONE;
    assert_int_equal(sb_data_make(&e, 0, &d, &enc, err, sizeof err), 0);
    for (size_t i = 0; i < 2048; i += 97) assert_true(d.x_train[i] == (float)i / 1024.0f - 1.0f);
    sb_data_free(&d);
    /* Tancik positional: 128 frequencies per axis, b_j = 2^(6 j / 127) - 1, 512 features */
    struct sb_experiment t = small_2d();
    t.encoding = SB_ENCODING_TANCIK_POSENC;
    t.scale = 6;
    t.count = 128;
    assert_int_equal(sb_data_make(&t, 0, &d, &enc, err, sizeof err), 0);
    assert_int_equal(enc.m, 256);
    assert_int_equal(sb_encoding_features(&enc, 2), 512);
    assert_true(enc.B[0] == 0.0f && enc.B[1] == 0.0f);                /* b_0 = 0 */
    assert_true(fabs(enc.B[127 * 2] - 63.0f) < 1e-5 && enc.B[127 * 2 + 1] == 0.0f); /* x axis */
    assert_true(enc.B[(128 + 127) * 2] == 0.0f && fabs(enc.B[(128 + 127) * 2 + 1] - 63.0f) < 1e-5);
    assert_true(fabs(enc.B[64 * 2] - (pow(2.0, 6.0 * 64 / 127) - 1)) < 1e-5);
    free(enc.B);
    /* Tancik's split: 40 x 40 -> 20 x 20 train and test, coordinates (col, row) / 40 */
    assert_int_equal(d.n_train, 400);
    assert_true(d.x_train[2 * 21] == 2.0f / 40 && d.x_train[2 * 21 + 1] == 2.0f / 40);
    assert_true(d.x_eval[0] == 1.0f / 40 && d.x_eval[1] == 1.0f / 40);
    sb_data_free(&d);
    /* Gaussian: m x d entries with standard deviation sigma */
    t = small_2d();
    t.count = 4096;
    t.sigma = 10;
    assert_int_equal(sb_data_make(&t, 0, &d, &enc, err, sizeof err), 0);
    double s2 = 0;
    for (size_t i = 0; i < 2 * 4096; i++) s2 += (double)enc.B[i] * enc.B[i];
    assert_true(fabs(sqrt(s2 / 8192) - 10.0) < 0.3);
    free(enc.B);
    sb_data_free(&d);
}

/* Bytes the allocator has handed out and not taken back: the main arena's, and every mapping
 * (which, with the threshold below, is every buffer of 64 KiB or more, whichever thread
 * allocated it). */
static double heap_bytes(void)
{
    const struct mallinfo2 mi = mallinfo2();
    return (double)mi.uordblks + (double)mi.hblkhd;
}

/* `run` refuses an experiment whose buffers would not fit, from sb_experiment_bytes, before
 * allocating anything: the estimate must cover what the trainer then allocates for the
 * model, its activations (with each thread's tile scratch and partial gradients), the
 * gradient and Adam's state, on 1 to 3 threads. 512 units and 600 rows: the per-thread
 * buffers are most of it; 50 units: rows padded to 80 floats (sb_padded_ld), not 66. */
static void test_memory_estimate(void **state)
{
    (void)state;
    mallopt(M_MMAP_THRESHOLD, 64 * 1024); /* fixed: no dynamic threshold */
    struct sb_experiment e = small_1d("memory", SB_ENCODING_POSENC);
    const int saved = omp_get_max_threads();
    for (int c = 0; c < 6; c++) {
        const int threads = c % 3 + 1;
        e.width = c < 3 ? 512 : 50;
        omp_set_num_threads(threads);
        const double before = heap_bytes();
        struct sb_data d;
        struct sb_encoding enc;
        char err[256];
        assert_int_equal(sb_data_make(&e, 0, &d, &enc, err, sizeof err), 0);
        const double estimate = sb_experiment_bytes(&e, &d, &enc, (size_t)threads);
        const struct sb_model_spec spec = {d.d, e.depth, e.width, d.out, e.output};
        struct sb_model m;
        assert_int_equal(sb_model_init(&m, &spec, &enc, 1), 0);
        struct sb_activations a;
        assert_int_equal(sb_activations_alloc(&a, &m, d.n_train > d.n_eval ? d.n_train : d.n_eval),
                         0);
        float *grad = sb_floats_alloc(m.n_params), *am = sb_floats_alloc(m.n_params),
              *av = sb_floats_alloc(m.n_params);
        assert_true(grad && am && av);
        const double used = heap_bytes() - before;
        printf("  memory estimate: %zu units, %d thread(s), %.2f MiB estimated, %.2f MiB "
               "allocated\n",
               e.width, threads, estimate / 1048576.0, used / 1048576.0);
        /* 1 % and 64 KiB: the estimate leaves out the rounding of each mapping up to whole
         * pages and the small buffers (counters, per-tile sums), a few dozen in all */
        if (estimate < 0.99 * used - 65536.0)
            fail_msg("%zu units, %d thread(s): sb_experiment_bytes says %.0f bytes, the trainer "
                     "allocated %.0f",
                     e.width, threads, estimate, used);
        free(grad);
        free(am);
        free(av);
        sb_activations_free(&a);
        sb_model_free(&m);
        free(enc.B);
        sb_data_free(&d);
    }
    omp_set_num_threads(saved);
}

static void test_shipped_suites(void **state)
{
    (void)state;
    struct sb_suite s;
    char err[1024];
    if (sb_suite_load(SB_SOURCE_DIR "/suites/paper.json", &s, err, sizeof err)) fail_msg("%s", err);
    static const char *const names[] = {
        "lazzari1d/raw01", "lazzari1d/raw11", "lazzari1d/pe0-3", "lazzari1d/pe0-6",
        "rahaman1d/equal", "rahaman1d/rising", "tancik2d/none", "tancik2d/basic",
        "tancik2d/posenc", "tancik2d/gauss", "tancik2d/zoneplate-gauss"};
    assert_int_equal(s.n, sizeof names / sizeof *names);
    for (size_t i = 0; i < s.n; i++) assert_string_equal(s.exp[i].name, names[i]);
    /* spot checks against docs/experiments.md */
    assert_int_equal(s.exp[3].octaves[1], 6);
    assert_int_equal(s.exp[3].n, 2048);
    assert_int_equal(s.exp[3].nk, 14);
    assert_int_equal(s.exp[3].steps, 500);
    assert_true(s.exp[5].amp[0] == 0.1 && s.exp[5].amp[9] == 1.0);
    assert_int_equal(s.exp[4].steps, 60000);
    assert_int_equal(s.exp[9].image_size, 512);
    assert_int_equal(s.exp[9].count, 256);
    assert_true(s.exp[6].lr == 1e-2 && s.exp[9].lr == 1e-3);
    sb_suite_free(&s);
    if (sb_suite_load(SB_SOURCE_DIR "/suites/quick.json", &s, err, sizeof err)) fail_msg("%s", err);
    assert_true(s.n >= 5);
    sb_suite_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checkpoint_steps),
        cmocka_unit_test(test_memory_estimate),
        cmocka_unit_test(test_encodings_follow_the_conventions),
        cmocka_unit_test(test_shipped_suites),
        cmocka_unit_test(test_analysis_known_network),
        cmocka_unit_test(test_results_fields),
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_divergence_fails_with_step),
        cmocka_unit_test(test_confusion_off_is_null),
        cmocka_unit_test(test_seeds),
        cmocka_unit_test(test_seeds_summary_rule),
        cmocka_unit_test(test_seeds_failing),
        cmocka_unit_test(test_seeds_never_reached),
        cmocka_unit_test(test_trajectory_same_everywhere),
        cmocka_unit_test(test_forward_fixed_encodes_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
