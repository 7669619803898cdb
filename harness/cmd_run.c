/* specbias run: runs a suite and writes DIR/results.json (DESIGN.md, Command line). */
#define _POSIX_C_SOURCE 200809L
#include "harness/cli.h"
#include "harness/context.h"
#include "harness/train.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <omp.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct run_args {
    const char *suite, *filter, *isa, *out, *dump, *counters;
    int threads; /* 0 = OMP_NUM_THREADS or all cores */
    size_t repetitions;
    uint64_t seed, steps;
    int list, quiet, no_bind;
};

static void run_usage(FILE *f)
{
    fprintf(
        f, "usage: specbias run [--suite NAME|FILE] [--filter REGEX] [--isa ISA] [--threads N]\n"
           "                    [--repetitions R] [--seed S] [--steps N] [--out DIR] [--no-bind]\n"
           "                    [--counters EVENT,...]\n"
           "                    [--list]\n"
           "\n"
           "  --suite NAME|FILE  suite to run: a name in suites/ (quick, paper) or a JSON file\n"
           "                     (default quick)\n"
           "  --filter REGEX     only experiments whose name matches (POSIX extended regex)\n"
           "  --isa ISA          auto, scalar, avx2, avx512, neon (default $SPECBIAS_ISA or auto)\n"
           "  --threads N        OpenMP threads (default $OMP_NUM_THREADS or every core)\n"
           "  --repetitions R    train each experiment R times (default 1); timings get a summary\n"
           "  --seed S           added to every experiment's seed (default 0)\n"
           "  --steps N          override every experiment's step count (smoke runs)\n"
           "  --out DIR          where results.json goes (default out)\n"
           "  --counters LIST    PAPI events to count over the training steps, by PAPI name\n"
           "                     (e.g. perf::TASK-CLOCK,PAPI_TOT_CYC); unavailable ones are\n"
           "                     recorded with PAPI's reason and skipped\n"
           "  --no-bind          leave OpenMP threads unbound (default: thread i on core i; not\n"
           "                     done either when OMP_PROC_BIND or GOMP_CPU_AFFINITY is set)\n"
           "  --list             print the selected experiments and exit\n"
           "  --dump DIR         also write each experiment's data, initial weights and per-step\n"
           "                     losses there (for tests/torch_agreement.py)\n"
           "  --quiet            no progress output\n");
}

static int parse_u64(const char *opt, const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!s || !*s || *s == '-') goto bad;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < lo || v > hi) goto bad;
    *out = v;
    return 0;
bad:
    fprintf(stderr, "specbias run: %s needs a whole number in [%llu, %llu], got '%s'\n", opt,
            (unsigned long long)lo, (unsigned long long)hi, s ? s : "");
    return -1;
}

/* Returns 0, 1 (help printed) or -1 (message printed). */
static int parse_args(int argc, char **argv, struct run_args *a)
{
    memset(a, 0, sizeof *a);
    a->suite = "quick";
    a->out = "out";
    a->repetitions = 1;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *val = NULL;
        char name[32];
        const char *eq = strchr(arg, '=');
        if (strncmp(arg, "--", 2) == 0 && eq && (size_t)(eq - arg) < sizeof name) {
            snprintf(name, sizeof name, "%.*s", (int)(eq - arg), arg);
            val = eq + 1;
            arg = name;
        }
#define TAKE()                                                                                    \
    do {                                                                                          \
        if (!val) {                                                                               \
            if (i + 1 >= argc) {                                                                  \
                fprintf(stderr, "specbias run: %s needs a value\n", arg);                         \
                return -1;                                                                        \
            }                                                                                     \
            val = argv[++i];                                                                      \
        }                                                                                         \
    } while (0)
        uint64_t u;
        if (!strcmp(arg, "--suite")) { TAKE(); a->suite = val; }
        else if (!strcmp(arg, "--filter")) { TAKE(); a->filter = val; }
        else if (!strcmp(arg, "--isa")) { TAKE(); a->isa = val; }
        else if (!strcmp(arg, "--out")) { TAKE(); a->out = val; }
        else if (!strcmp(arg, "--dump")) { TAKE(); a->dump = val; }
        else if (!strcmp(arg, "--counters")) { TAKE(); a->counters = val; }
        else if (!strcmp(arg, "--threads")) {
            TAKE();
            if (parse_u64(arg, val, 1, 1024, &u)) return -1;
            a->threads = (int)u;
        } else if (!strcmp(arg, "--repetitions")) {
            TAKE();
            if (parse_u64(arg, val, 1, 1000, &u)) return -1;
            a->repetitions = (size_t)u;
        } else if (!strcmp(arg, "--seed")) {
            TAKE();
            if (parse_u64(arg, val, 0, UINT32_MAX, &a->seed)) return -1;
        } else if (!strcmp(arg, "--steps")) {
            TAKE();
            if (parse_u64(arg, val, 1, 100000000, &a->steps)) return -1;
        } else if (!strcmp(arg, "--list") && !val) a->list = 1;
        else if (!strcmp(arg, "--quiet") && !val) a->quiet = 1;
        else if (!strcmp(arg, "--no-bind") && !val) a->no_bind = 1;
        else if ((!strcmp(arg, "-h") || !strcmp(arg, "--help")) && !val) {
            run_usage(stdout);
            return 1;
        } else {
            fprintf(stderr, "specbias run: unknown option '%s'\n\n", argv[i]);
            run_usage(stderr);
            return -1;
        }
        if (!*a->suite || !*a->out || (a->dump && !*a->dump)) {
            fprintf(stderr, "specbias run: %s needs a non-empty value\n", arg);
            return -1;
        }
#undef TAKE
    }
    return 0;
}

/* mkdir -p */
static int make_dirs(const char *path, char *err, size_t errlen)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
        snprintf(err, errlen, "%s: path too long", path);
        return -1;
    }
    for (char *p = buf + 1;; p++) {
        const int end = *p == 0;
        if (*p == '/' || end) {
            *p = 0;
            if (mkdir(buf, 0777) && errno != EEXIST) {
                snprintf(err, errlen, "%s: cannot create folder: %s", buf, strerror(errno));
                return -1;
            }
            if (end) break;
            *p = '/';
        }
    }
    struct stat st;
    if (stat(path, &st) || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: not a folder", path);
        return -1;
    }
    return 0;
}

/* The temporary results file being written, so a second signal can remove it. */
static char tmp_path[4200];
static volatile sig_atomic_t tmp_live = 0;

/* First SIGINT/SIGTERM: ask the trainer to stop between steps; the run then writes what it
 * has, marked interrupted, and exits 128 + signal. Second: leave at once, removing a
 * half-written temporary file (results.json itself is only ever replaced by rename). */
static void on_signal(int sig)
{
    if (sb_interrupted) {
        if (tmp_live) unlink(tmp_path);
        _exit(128 + sig);
    }
    sb_interrupted = sig;
}

static void install_signal_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* Writes the results to a temporary file in the same folder, flushes it to disk and renames it
 * over DIR/results.json, so a reader sees the old file or the new one, never a mix. */
static int write_results(json_t *root, const char *dir, char *err, size_t errlen)
{
    char *tmp = tmp_path, path[4200];
    snprintf(path, sizeof path, "%s/results.json", dir);
    snprintf(tmp, sizeof tmp_path, "%s/.results.json.%ld.tmp", dir, (long)getpid());
    char *text = json_dumps(root, JSON_INDENT(1) | JSON_REAL_PRECISION(10));
    if (!text) {
        snprintf(err, errlen, "%s: out of memory serialising the results", path);
        return -1;
    }
    const size_t len = strlen(text);
    tmp_live = 1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    int ok = fd >= 0;
    size_t done = 0;
    while (ok && done < len) {
        ssize_t w = write(fd, text + done, len - done);
        if (w < 0 && errno == EINTR) continue;
        ok = w > 0;
        if (ok) done += (size_t)w;
    }
    ok = ok && write(fd, "\n", 1) == 1 && fsync(fd) == 0;
    const int saved = errno;
    if (fd >= 0 && close(fd) != 0) ok = 0;
    free(text);
    if (!ok || rename(tmp, path) != 0) {
        snprintf(err, errlen, "%s: cannot write results: %s", ok ? path : tmp,
                 strerror(ok ? errno : saved));
        unlink(tmp);
        tmp_live = 0;
        return -1;
    }
    tmp_live = 0;
    return 0;
}

static json_t *context_json(const struct sb_kernels *k, int threads, const struct sb_suite *suite,
                            int argc, char **argv)
{
    const struct sb_build_info *b = sb_build_info();
    char host[256] = "unknown";
    gethostname(host, sizeof host - 1);
    char date[32];
    time_t now = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    json_t *avail = json_array(), *peak = json_object();
    for (int i = 0; i < SB_ISA_COUNT; i++) {
        if (!sb_isa_supported((enum sb_isa)i, NULL)) continue;
        json_array_append_new(avail, json_string(sb_isa_name((enum sb_isa)i)));
        const double g = sb_peak_gflops((enum sb_isa)i, threads);
        json_object_set_new(peak, sb_isa_name((enum sb_isa)i), g > 0 ? json_real(g) : json_null());
    }
    json_t *cmd = json_array();
    for (int i = 0; i < argc; i++) json_array_append_new(cmd, sb_json_string(argv[i]));
    return json_pack(
        "{s:o, s:s, s:o, s:o, s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:s, "
        "s:{s:s, s:s, s:[]}, s:{s:o, s:o, s:s}, s:o}",
        "host", sb_json_string(host), "date", date, "cpu_model", sb_json_string(sb_cpu_model()),
        "isa_available", avail, "isa_used", k->isa_name, "threads", threads, "compiler",
        b->compiler, "build_type", b->build_type, "build_flags", b->flags, "git_commit",
        b->git_commit, "version", b->version, "topology", sb_topology_json(), "peak_gflops", peak,
        "peak_method", "FMA chains per thread, all threads at once, best of 3 x 20 ms", "counters",
        "status", "not_requested", "reason", "no --counters given", "events", "suite", "name",
        sb_json_string(suite->name), "path", sb_json_string(suite->path), "content_hash",
        suite->content_hash, "command_line", cmd);
}

static void fmt_seconds(char *buf, size_t n, json_t *v)
{
    if (json_is_number(v)) snprintf(buf, n, "%.2f s", json_number_value(v));
    else snprintf(buf, n, "never");
}

/* One line per experiment: the README's summary table. */
static void print_summary(json_t *root, FILE *f)
{
    fprintf(f, "\n%-24s %9s %9s %6s %11s %8s %10s %11s\n", "experiment", "steps/s", "GFLOP/s",
            "%peak", "final loss", "PSNR dB", "to target", "learned");
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(root, "experiments"), i, e) {
        const char *name = json_string_value(json_object_get(e, "name"));
        json_t *reps = json_object_get(e, "repetitions");
        json_t *r = json_array_get(reps, 0);
        if (!r || strcmp(json_string_value(json_object_get(e, "status")), "ok")) {
            fprintf(f, "%-24s failed: %s\n", name,
                    json_string_value(json_object_get(e, "error")));
            continue;
        }
        json_t *sum = json_object_get(e, "summary");
#define MED(field) json_number_value(json_object_get(json_object_get(sum, field), "median"))
        char ttt[32], learned[48] = "-", peak[32] = "-";
        fmt_seconds(ttt, sizeof ttt,
                    json_object_get(json_object_get(sum, "time_to_target_s"), "median"));
        if (json_is_number(json_object_get(json_object_get(sum, "peak_fraction"), "median")))
            snprintf(peak, sizeof peak, "%.1f", 100.0 * MED("peak_fraction"));
        json_t *curve = json_object_get(r, "curve");
        json_t *last = json_array_get(curve, json_array_size(curve) - 1);
        json_t *errs = json_object_get(last, "spectral_error");
        size_t n = json_array_size(errs), ok = 0, j;
        json_t *x;
        json_array_foreach(errs, j, x) ok += json_is_number(x) && json_number_value(x) < 0.1;
        if (n) snprintf(learned, sizeof learned, "%zu/%zu%s", ok, n,
                        json_object_get(last, "test_psnr_db") ? " bands" : "");
        fprintf(f, "%-24s %9.1f %9.2f %6s %11.3e %8.2f %10s %11s\n", name, MED("steps_per_second"),
                MED("gflops"), peak, MED("final_loss"), MED("final_psnr_db"), ttt, learned);
#undef MED
    }
    fprintf(f, "(learned: spectral error below 0.1 at the last step; 2D: radial bands; PSNR: test "
               "pixels for 2D, the fitted signal for 1D)\n");
}

int sb_run_parse_only(int argc, char **argv)
{
    struct run_args a;
    return parse_args(argc, argv, &a);
}

int sb_cmd_run(int argc, char **argv)
{
    struct run_args a;
    const int prc = parse_args(argc, argv, &a);
    if (prc) return prc > 0 ? SB_EXIT_OK : SB_EXIT_USAGE;
    char err[8192];
    struct sb_suite suite;
    if (sb_suite_load(a.suite, &suite, err, sizeof err)) {
        fprintf(stderr, "specbias run: %s\n", err);
        return SB_EXIT_USAGE;
    }
    int rc = SB_EXIT_USAGE, have_counters = 0;
    struct sb_counters counters;
    size_t *sel = calloc(suite.n, sizeof *sel), nsel = 0;
    json_t *root = NULL;
    if (!sel) goto out;
    regex_t re;
    if (a.filter) {
        int e = regcomp(&re, a.filter, REG_EXTENDED | REG_NOSUB);
        if (e) {
            regerror(e, &re, err, sizeof err);
            fprintf(stderr, "specbias run: --filter '%s': %s\n", a.filter, err);
            goto out;
        }
    }
    for (size_t i = 0; i < suite.n; i++)
        if (!a.filter || regexec(&re, suite.exp[i].name, 0, NULL, 0) == 0) sel[nsel++] = i;
    if (a.filter) regfree(&re);
    if (nsel == 0) {
        fprintf(stderr, "specbias run: no experiment of %s matches --filter '%s'\n", suite.path,
                a.filter);
        goto out;
    }
    if (a.list) {
        for (size_t i = 0; i < nsel; i++) printf("%s\n", suite.exp[sel[i]].name);
        rc = SB_EXIT_OK;
        goto out;
    }
    const struct sb_kernels *k = sb_select(a.isa, err, sizeof err);
    if (!k) {
        fprintf(stderr, "specbias run: %s\n", err);
        goto out;
    }
    if (a.threads) omp_set_num_threads(a.threads);
    const int threads = omp_get_max_threads();

    /* Bad input shows up before any training: every selected experiment's data is built once
     * (images read and checked) before the first step. */
    for (size_t i = 0; i < nsel; i++) {
        struct sb_data d;
        struct sb_encoding enc;
        const int r = sb_data_make(&suite.exp[sel[i]], a.seed + suite.exp[sel[i]].seed, &d, &enc,
                                   err, sizeof err);
        if (r) {
            fprintf(stderr, "specbias run: %s\n", err);
            rc = r == 2 ? SB_EXIT_USAGE : SB_EXIT_FAILED;
            goto out;
        }
        /* Refuse what cannot fit before allocating it, with the size it needed. */
        const double need = sb_experiment_bytes(&suite.exp[sel[i]], &d, &enc);
        const double have = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGE_SIZE);
        sb_data_free(&d);
        free(enc.B);
        if (have > 0 && need > 0.9 * have) {
            fprintf(stderr,
                    "specbias run: %s: experiment '%s' needs about %.1f GiB of buffers; this "
                    "machine has %.1f GiB of memory\n",
                    suite.path, suite.exp[sel[i]].name, need / 1073741824.0, have / 1073741824.0);
            goto out;
        }
    }
    /* The counter list is input too: refused before anything is written. */
    if (a.counters) {
        if (sb_counters_open(&counters, a.counters, err, sizeof err)) {
            fprintf(stderr, "specbias run: %s\n", err);
            goto out;
        }
        have_counters = 1;
    }
    if (make_dirs(a.out, err, sizeof err)) {
        fprintf(stderr, "specbias run: %s\n", err);
        rc = SB_EXIT_FAILED;
        goto out;
    }

    /* Bind first, so the peak probe measures the threads as training will use them. */
    json_t *binding = sb_bind_threads(threads, !a.no_bind);
    root = json_pack("{s:s, s:o, s:b, s:b, s:[]}", "schema", "specbias-results/1", "context",
                     context_json(k, threads, &suite, argc + 1, argv - 1), "complete", 0,
                     "interrupted", 0, "experiments");
    json_t *context = json_object_get(root, "context");
    json_object_set_new(context, "binding", binding);
    json_object_set_new(context, "blocking",
                        sb_apply_cache_blocking(json_object_get(context, "topology")));
    if (have_counters)
        json_object_set(json_object_get(root, "context"), "counters", counters.status);
    json_t *exps = json_object_get(root, "experiments");
    /* An unwritable folder fails now, not after an hour of training. */
    if (write_results(root, a.out, err, sizeof err)) {
        fprintf(stderr, "specbias run: %s\n", err);
        rc = SB_EXIT_FAILED;
        goto out;
    }
    const struct sb_run_options o = {
        k,
        a.seed,
        a.steps,
        a.repetitions,
        threads,
        json_number_value(json_object_get(
            json_object_get(json_object_get(root, "context"), "peak_gflops"), k->isa_name)),
        a.dump,
        !a.quiet && isatty(STDERR_FILENO),
        have_counters ? &counters : NULL};
    if (!a.quiet)
        fprintf(
            stderr,
            "specbias run: suite %s, %zu experiment%s, ISA %s, %d thread%s -> %s/results.json\n",
            suite.name, nsel, nsel == 1 ? "" : "s", k->isa_name, threads, threads == 1 ? "" : "s",
            a.out);
    int failed = 0;
    install_signal_handlers();
    for (size_t i = 0; i < nsel && !sb_interrupted; i++) {
        const struct sb_experiment *e = &suite.exp[sel[i]];
        int status;
        const double t0 = sb_now();
        json_t *je = sb_run_experiment(e, &o, i, nsel, &status, err, sizeof err);
        json_array_append_new(exps, je);
        if (status == SB_STATUS_INTERRUPTED) {
            fprintf(stderr, "\nspecbias run: [%zu/%zu] %s\n", i + 1, nsel, err);
        } else if (status) {
            failed = 1;
            fprintf(stderr, "specbias run: [%zu/%zu] %s failed: %s\n", i + 1, nsel, e->name, err);
        } else if (!a.quiet) {
            json_t *s = json_object_get(je, "summary");
#define MED(f) json_number_value(json_object_get(json_object_get(s, f), "median"))
            fprintf(stderr,
                    "[%zu/%zu] %s: %zu x %llu steps in %.1f s, %.1f steps/s, %.2f GFLOP/s, final "
                    "loss %.3e\n",
                    i + 1, nsel, e->name, a.repetitions,
                    (unsigned long long)json_integer_value(json_object_get(
                        json_array_get(json_object_get(je, "repetitions"), 0), "steps")),
                    sb_now() - t0, MED("steps_per_second"), MED("gflops"), MED("final_loss"));
#undef MED
        }
        if (i + 1 == nsel && !sb_interrupted) json_object_set_new(root, "complete", json_true());
        if (sb_interrupted) json_object_set_new(root, "interrupted", json_true());
        if (write_results(root, a.out, err, sizeof err)) {
            fprintf(stderr, "specbias run: %s\n", err);
            rc = SB_EXIT_FAILED;
            goto out;
        }
    }
    if (sb_interrupted) {
        /* A signal between experiments: the results written after the last one stand. */
        if (!json_is_true(json_object_get(root, "interrupted"))) {
            json_object_set_new(root, "interrupted", json_true());
            if (write_results(root, a.out, err, sizeof err))
                fprintf(stderr, "specbias run: %s\n", err);
        }
        fprintf(stderr, "specbias run: interrupted; the experiments finished so far are in "
                        "%s/results.json\n",
                a.out);
        rc = 128 + (int)sb_interrupted;
        goto out;
    }
    if (!a.quiet) print_summary(root, stdout);
    fprintf(stderr, "specbias run: results in %s/results.json\n", a.out);
    rc = failed ? SB_EXIT_FAILED : SB_EXIT_OK;
out:
    if (have_counters) sb_counters_close(&counters);
    json_decref(root);
    free(sel);
    sb_suite_free(&suite);
    return rc;
}
