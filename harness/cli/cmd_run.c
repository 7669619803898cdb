/* specbias run: runs a suite and writes DIR/results.json (DESIGN.md, Command line). */
#define _POSIX_C_SOURCE 200809L
#include "harness/cli/cli.h"
#include "harness/machine/audit.h"
#include "harness/machine/context.h"
#include "harness/machine/peak.h"
#include "harness/results/results.h"
#include "harness/train/train.h"
#include "harness/util/util.h"

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
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct run_args {
    const char *suite, *filter, *isa, *out, *dump, *counters;
    const char *rerun;      /* --rerun FILE */
    const char *run_option; /* the first option --rerun cannot be combined with */
    int threads; /* 0 = OMP_NUM_THREADS or all cores */
    size_t repetitions;
    uint64_t seed, steps;
    int list, quiet, no_bind, remeasure_peak;
};

static void run_usage(FILE *f)
{
    fprintf(
        f, "usage: specbias run [--suite NAME|FILE] [--filter REGEX] [--isa ISA] [--threads N]\n"
           "                    [--repetitions R] [--seed S] [--steps N] [--out DIR] [--no-bind]\n"
           "                    [--counters EVENT,...] [--remeasure-peak]\n"
           "                    [--list]\n"
           "       specbias run --rerun RESULTS [--out DIR] [--quiet] [--no-bind] [--remeasure-peak]\n"
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
           "  --counters LIST    events to count over the training steps: perf's generic names\n"
           "                     (task-clock, page-faults, cycles, instructions, ...) or PAPI's\n"
           "                     (PAPI_TOT_CYC, perf::TASK-CLOCK, native events); PAPI first,\n"
           "                     else perf_event_open; unavailable ones are recorded with the\n"
           "                     reason, warned about and skipped\n"
           "  --remeasure-peak   measure the FMA peak again instead of taking it from the\n"
           "                     peak cache, and update the cache\n"
           "  --no-bind          leave OpenMP threads unbound (default: thread i on core i; not\n"
           "                     done either when OMP_PROC_BIND or GOMP_CPU_AFFINITY is set)\n"
           "  --list             print the selected experiments and exit\n"
           "  --dump DIR         also write each experiment's data, initial weights and per-step\n"
           "                     losses there (for tests/torch_agreement.py)\n"
           "  --quiet            no progress output\n"
           "  --rerun RESULTS    run again what RESULTS (a results.json) ran: its embedded suite,\n"
           "                     filter, seed, steps, repetitions, ISA and threads\n");
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
        static const char *const run_options[] = {"--suite", "--filter",      "--isa",
                                                  "--seed",  "--repetitions", "--steps",
                                                  "--threads", "--counters", NULL};
        for (const char *const *o = run_options; *o && !a->run_option; o++)
            if (!strcmp(arg, *o)) a->run_option = *o;
        if (!strcmp(arg, "--suite")) { TAKE(); a->suite = val; }
        else if (!strcmp(arg, "--rerun")) { TAKE(); a->rerun = val; }
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
        else if (!strcmp(arg, "--remeasure-peak") && !val) a->remeasure_peak = 1;
        else if ((!strcmp(arg, "-h") || !strcmp(arg, "--help")) && !val) {
            run_usage(stdout);
            return 1;
        } else {
            fprintf(stderr, "specbias run: unknown option '%s'\n\n", argv[i]);
            run_usage(stderr);
            return -1;
        }
        if (!*a->suite || !*a->out || (a->dump && !*a->dump) || (a->rerun && !*a->rerun)) {
            fprintf(stderr, "specbias run: %s needs a non-empty value\n", arg);
            return -1;
        }
#undef TAKE
    }
    if (a->rerun && a->run_option) {
        fprintf(stderr,
                "specbias run: --rerun repeats the run recorded in %s; %s cannot be combined "
                "with it\n",
                a->rerun, a->run_option);
        return -1;
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
    /* Restarted system calls: a first signal must not fail a write in progress with EINTR. */
    sa.sa_flags = SA_RESTART;
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
    int fd;
    do fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    while (fd < 0 && errno == EINTR);
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
        /* The earlier results.json, if any, is untouched: only the temporary file is lost. */
        snprintf(err, errlen, "%s: cannot write results (%s its temporary file): %s", path,
                 ok ? "renaming" : "writing", strerror(ok ? errno : saved));
        unlink(tmp);
        tmp_live = 0;
        return -1;
    }
    tmp_live = 0;
    return 0;
}

static void fmt_bytes(char *buf, size_t n, double bytes)
{
    if (bytes >= 1073741824.0) snprintf(buf, n, "%.1f GiB", bytes / 1073741824.0);
    else snprintf(buf, n, "%.0f MiB", bytes / 1048576.0);
}

/* What the process may still allocate: 90 % of physical memory, or less where ulimit -v
 * (RLIMIT_AS) or ulimit -d (RLIMIT_DATA) is set; `why` says which bound it is. Under a limit,
 * what is mapped already and each OpenMP thread's stack and malloc arena (64 MiB of address
 * space on 64-bit glibc) are taken off first, since they count against it too. */
static double memory_left(int threads, char *why, size_t whylen)
{
    char size[32];
    double have = 0.9 * (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGE_SIZE);
    fmt_bytes(size, sizeof size, have / 0.9);
    snprintf(why, whylen, "this machine has %s of memory", size);
    const double page = (double)sysconf(_SC_PAGE_SIZE);
    unsigned long vm_pages = 0, rss, shared, text, lib, data_pages = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%lu %lu %lu %lu %lu %lu", &vm_pages, &rss, &shared, &text, &lib,
                   &data_pages) != 6)
            vm_pages = data_pages = 0;
        fclose(f);
    }
    const double per_thread = 72.0 * 1048576.0;
    static const struct {
        int resource;
        const char *name;
    } limits[] = {{RLIMIT_AS, "the address-space limit (ulimit -v)"},
                  {RLIMIT_DATA, "the data-segment limit (ulimit -d)"}};
    for (size_t i = 0; i < sizeof limits / sizeof *limits; i++) {
        struct rlimit rl;
        if (getrlimit(limits[i].resource, &rl) || rl.rlim_cur == RLIM_INFINITY) continue;
        const double used = page * (double)(limits[i].resource == RLIMIT_AS ? vm_pages : data_pages);
        double left = (double)rl.rlim_cur - used - per_thread * threads;
        if (left < 0) left = 0;
        if (left < have) {
            have = left;
            char lim[32], l[32];
            fmt_bytes(lim, sizeof lim, (double)rl.rlim_cur);
            fmt_bytes(l, sizeof l, left);
            snprintf(why, whylen, "%s of %s leaves %s", limits[i].name, lim, l);
        }
    }
    return have;
}

/* The FMA peak of each ISA this machine runs, at the run's threads (from the peak cache, or
 * measured); peaks[isa] is filled for the record and the chosen ISA's share of peak. */
static json_t *context_json(const struct sb_kernels *k, int threads, const struct sb_suite *suite,
                            int argc, char **argv, int remeasure, struct sb_peak *peaks)
{
    const struct sb_build_info *b = sb_build_info();
    char host[256] = "unknown";
    gethostname(host, sizeof host - 1);
    char date[32];
    time_t now = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    json_t *avail = json_array(), *peak = json_object(), *detail = json_object();
    for (int i = 0; i < SB_ISA_COUNT; i++) {
        if (!sb_isa_supported((enum sb_isa)i, NULL)) continue;
        json_array_append_new(avail, json_string(sb_isa_name((enum sb_isa)i)));
        sb_peak_get((enum sb_isa)i, threads, remeasure, stderr, "specbias run", &peaks[i]);
        const double g = peaks[i].gflops;
        json_object_set_new(peak, sb_isa_name((enum sb_isa)i), g > 0 ? json_real(g) : json_null());
        json_object_set_new(detail, sb_isa_name((enum sb_isa)i), sb_peak_json(&peaks[i]));
    }
    json_t *cmd = json_array();
    for (int i = 0; i < argc; i++) json_array_append_new(cmd, sb_json_string(argv[i]));
    return json_pack(
        "{s:o, s:s, s:o, s:s, s:o, s:s, s:i, s:i, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:s, "
        "s:{s:s, s:s, s:[]}, s:{s:o, s:o, s:s}, s:o}",
        "host", sb_json_string(host), "date", date, "cpu_model", sb_json_string(sb_cpu_model()),
        "cpu_signature", sb_cpu_signature(), "isa_available", avail, "isa_used", k->isa_name,
        "threads", threads, "logical_cpus", sb_cpus_allowed(), "compiler", b->compiler,
        "build_type", b->build_type, "build_flags", b->flags, "git_commit", b->git_commit,
        "version", b->version, "topology", sb_topology_json(), "peak_gflops", peak, "peak", detail,
        "peak_method", sb_peak_method, "counters", "status", "not_requested", "reason",
        "no --counters given", "events", "suite", "name", sb_json_string(suite->name), "path",
        sb_json_string(suite->path), "content_hash", suite->content_hash, "command_line", cmd);
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

/* --rerun FILE: the suite (from the copy embedded in FILE, so the suite file may have changed
 * or gone), filter, seed, steps, repetitions, ISA and threads of the run FILE records. Returns
 * the parsed file (the options point into it), or NULL with a message naming FILE and what it
 * lacks. Warns when this binary is not the build that wrote FILE. */
static json_t *load_rerun(struct run_args *a, struct sb_suite *suite, char *err, size_t errlen)
{
    json_error_t je;
    json_t *root = json_load_file(a->rerun, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        snprintf(err, errlen, "%s:%d:%d: %s", a->rerun, je.line, je.column, je.text);
        return NULL;
    }
    json_t *ctx = json_object_get(root, "context"), *st = json_object_get(ctx, "suite");
    json_t *o = json_object_get(ctx, "run_options");
    json_t *text = json_object_get(st, "content"), *threads = json_object_get(ctx, "threads");
    json_t *seed = json_object_get(o, "seed"), *steps = json_object_get(o, "steps");
    json_t *reps = json_object_get(o, "repetitions"), *filter = json_object_get(o, "filter");
    const char *schema = json_string_value(json_object_get(root, "schema"));
    const char *path = json_string_value(json_object_get(st, "path"));
    const char *hash = json_string_value(json_object_get(st, "content_hash"));
    const char *isa = json_string_value(json_object_get(ctx, "isa_used"));
    const char *missing = !json_is_string(text)           ? "context.suite.content"
                          : !path                         ? "context.suite.path"
                          : !hash                         ? "context.suite.content_hash"
                          : !isa                          ? "context.isa_used"
                          : !json_is_integer(threads)     ? "context.threads"
                          : !json_is_integer(seed)        ? "context.run_options.seed"
                          : !json_is_integer(reps)        ? "context.run_options.repetitions"
                          : !(json_is_integer(steps) || json_is_null(steps))
                              ? "context.run_options.steps"
                          : !(json_is_string(filter) || json_is_null(filter))
                              ? "context.run_options.filter"
                              : NULL;
    if (!schema || strcmp(schema, "specbias-results/1")) {
        snprintf(err, errlen, "%s: not a specbias results file (schema \"%s\")", a->rerun,
                 schema ? schema : "");
        goto bad;
    }
    if (missing) {
        snprintf(err, errlen,
                 "%s: cannot rerun: it lacks %s (written before --rerun existed, or edited)",
                 a->rerun, missing);
        goto bad;
    }
    const json_int_t t = json_integer_value(threads), sd = json_integer_value(seed),
                     r = json_integer_value(reps), sp = json_integer_value(steps);
    if (t < 1 || t > 1024 || sd < 0 || sd > (json_int_t)UINT32_MAX || r < 1 || r > 1000 ||
        (json_is_integer(steps) && (sp < 1 || sp > 100000000))) {
        snprintf(err, errlen,
                 "%s: cannot rerun: threads %lld, seed %lld, repetitions %lld or steps %lld is "
                 "out of range",
                 a->rerun, (long long)t, (long long)sd, (long long)r, (long long)sp);
        goto bad;
    }
    if (sb_suite_parse(path, json_string_value(text), json_string_length(text), suite, err,
                       errlen)) {
        char inner[4096];
        snprintf(inner, sizeof inner, "%.4000s", err);
        snprintf(err, errlen, "%.4000s: its embedded suite: %s", a->rerun, inner);
        goto bad;
    }
    if (strcmp(suite->content_hash, hash)) {
        snprintf(err, errlen,
                 "%s: the embedded suite does not match context.suite.content_hash (%s there, %s "
                 "computed): the file was edited",
                 a->rerun, hash, suite->content_hash);
        sb_suite_free(suite);
        goto bad;
    }
    a->filter = json_string_value(filter);
    a->seed = (uint64_t)sd;
    a->steps = json_is_integer(steps) ? (uint64_t)sp : 0;
    a->repetitions = (size_t)r;
    a->isa = isa;
    a->threads = (int)t;
    const struct sb_build_info *b = sb_build_info();
    static const char *const fields[] = {"git_commit", "build_flags", "compiler"};
    const char *mine[] = {b->git_commit, b->flags, b->compiler};
    for (size_t i = 0; i < 3; i++) {
        const char *theirs = json_string_value(json_object_get(ctx, fields[i]));
        if (!theirs || strcmp(theirs, mine[i]))
            fprintf(stderr,
                    "specbias run: warning: %s was written by a build with %s \"%s\", this one "
                    "has \"%s\"; trajectory hashes may differ\n",
                    a->rerun, fields[i], theirs ? theirs : "(none)", mine[i]);
    }
    return root;
bad:
    json_decref(root);
    return NULL;
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
    json_t *rerun = NULL;
    if (a.rerun) {
        rerun = load_rerun(&a, &suite, err, sizeof err);
        if (!rerun) {
            fprintf(stderr, "specbias run: %s\n", err);
            return SB_EXIT_USAGE;
        }
    } else if (sb_suite_load(a.suite, &suite, err, sizeof err)) {
        fprintf(stderr, "specbias run: %s\n", err);
        return SB_EXIT_USAGE;
    }
    int rc = SB_EXIT_USAGE, have_counters = 0;
    struct sb_counters counters;
    static struct sb_peak peaks[SB_ISA_COUNT];
    static struct sb_audit audit;
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
    const int cpus = sb_cpus_allowed();
    sb_cores_allowed(); /* read both now, before the main thread is bound to one core */
    if (threads > cpus)
        fprintf(stderr,
                "specbias run: warning: %d threads%s, but this process may use %d logical CPU%s: "
                "threads will share cores, and shares of peak are against the %d core%s used\n",
                threads, a.threads ? "" : " (OMP_NUM_THREADS)", cpus, cpus == 1 ? "" : "s",
                sb_cores_allowed(), sb_cores_allowed() == 1 ? "" : "s");

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
        char why[160], size[32];
        const double have = memory_left(threads, why, sizeof why);
        /* --rerun: an image must still hold the pixels the run being repeated trained on. */
        const char *old_hash = NULL;
        if (rerun && suite.exp[sel[i]].target != SB_TARGET_SINES1D) {
            size_t j;
            json_t *x;
            json_array_foreach(json_object_get(rerun, "experiments"), j, x) {
                if (json_is_string(json_object_get(x, "name")) &&
                    !strcmp(json_string_value(json_object_get(x, "name")), suite.exp[sel[i]].name))
                    old_hash = json_string_value(json_object_get(
                        json_object_get(json_object_get(x, "config"), "target"), "data_hash"));
            }
        }
        char now_hash[17];
        sb_data_hash(&d, now_hash);
        sb_data_free(&d);
        free(enc.B);
        if (old_hash && strcmp(old_hash, now_hash)) {
            fprintf(stderr,
                    "specbias run: %s: experiment '%s': the pixels of %s are not the ones the run "
                    "in %s trained on (data_hash %s there, %s now)\n",
                    suite.path, suite.exp[sel[i]].name,
                    suite.exp[sel[i]].target == SB_TARGET_IMAGE ? suite.exp[sel[i]].image_path
                                                                : "the zone plate",
                    a.rerun, old_hash, now_hash);
            goto out;
        }
        fmt_bytes(size, sizeof size, need);
        if (have > 0 && need > have) {
            fprintf(stderr, "specbias run: %s: experiment '%s' needs about %s of buffers; %s\n",
                    suite.path, suite.exp[sel[i]].name, size, why);
            goto out;
        }
    }
    /* The counter list is input too: refused before anything is written. */
    if (a.counters) {
        if (sb_counters_open(&counters, a.counters, a.quiet ? NULL : stderr, "specbias run", err,
                             sizeof err)) {
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

    /* Bind first, so the probes measure the threads as training will use them. */
    json_t *binding = sb_bind_threads(threads, !a.no_bind);
    root = json_pack("{s:s, s:o, s:b, s:b, s:[]}", "schema", "specbias-results/1", "context",
                     context_json(k, threads, &suite, argc + 1, argv - 1, a.remeasure_peak, peaks),
                     "complete", 0, "interrupted", 0, "experiments");
    json_t *context = json_object_get(root, "context");
    json_object_set_new(context, "audit",
                        sb_audit_start(&audit, json_object_get(binding, "cpus"), threads));
    /* Everything --rerun needs: the suite's own text (its content_hash is of these bytes) and
     * the options that chose and shaped the experiments. */
    json_t *text = json_stringn(suite.text, suite.text_len);
    json_object_set_new(json_object_get(context, "suite"), "content", text ? text : json_null());
    json_object_set_new(
        context, "run_options",
        json_pack("{s:o, s:I, s:o, s:I, s:o, s:o, s:b}", "filter",
                  a.filter ? sb_json_string(a.filter) : json_null(), "seed", (json_int_t)a.seed,
                  "steps", a.steps ? json_integer((json_int_t)a.steps) : json_null(),
                  "repetitions", (json_int_t)a.repetitions, "isa",
                  a.isa ? json_string(a.isa) : json_null(), "threads",
                  a.threads ? json_integer(a.threads) : json_null(), "no_bind", a.no_bind));
    if (a.rerun) json_object_set_new(context, "rerun_of", sb_json_string(a.rerun));
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
        const double t0 = sb_now();
        struct sb_experiment_result x;
        const int status = sb_train_experiment(e, &o, i, nsel, &x, err, sizeof err);
        json_t *je = sb_results_experiment(&x);
        json_array_append_new(exps, je);
        /* A repetition faster than the peak means the peak was wrong: measure it again. */
        struct sb_peak *pk = &peaks[k->isa];
        int changed = 0;
        for (size_t r = 0; r < x.nreps; r++)
            if (x.reps[r].stage >= SB_REP_TRAINED)
                changed |= sb_peak_recheck(pk, sb_repetition_gflops(&x.reps[r]), stderr,
                                           "specbias run");
        sb_experiment_result_free(&x);
        if (changed) {
            json_object_set_new(json_object_get(context, "peak_gflops"), k->isa_name,
                                json_real(pk->gflops));
            json_object_set_new(json_object_get(context, "peak"), k->isa_name, sb_peak_json(pk));
        }
        sb_results_apply_peak(exps, pk->gflops);
        sb_audit_update(json_object_get(context, "audit"), &audit);
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
        /* complete: every experiment ran to its end (ok or failed), even if a signal came
         * after the last step; interrupted: one was stopped or never started. */
        if (status == SB_STATUS_INTERRUPTED)
            json_object_set_new(root, "interrupted", json_true());
        else if (i + 1 == nsel)
            json_object_set_new(root, "complete", json_true());
        if (write_results(root, a.out, err, sizeof err)) {
            fprintf(stderr, "specbias run: %s\n", err);
            rc = SB_EXIT_FAILED;
            goto out;
        }
    }
    if (sb_interrupted) {
        if (json_is_true(json_object_get(root, "complete"))) {
            /* The signal came after the last experiment's last step (during its analysis or
             * the final write): nothing was cut short, so the file says complete. */
            fprintf(stderr,
                    "specbias run: signal %d after the last experiment had finished; the "
                    "results in %s/results.json are complete\n",
                    (int)sb_interrupted, a.out);
        } else {
            /* A signal between experiments: the results written after the last one stand. */
            if (!json_is_true(json_object_get(root, "interrupted"))) {
                json_object_set_new(root, "interrupted", json_true());
                if (write_results(root, a.out, err, sizeof err))
                    fprintf(stderr, "specbias run: %s\n", err);
            }
            fprintf(stderr, "specbias run: interrupted; the experiments finished so far are in "
                            "%s/results.json\n",
                    a.out);
        }
        rc = 128 + (int)sb_interrupted;
        goto out;
    }
    /* The audit as of the last experiment, already in the file. */
    size_t w;
    json_t *wj;
    json_array_foreach(json_object_get(json_object_get(context, "audit"), "warnings"), w, wj)
        fprintf(stderr, "specbias run: warning: this run was disturbed: %s\n", json_string_value(wj));
    if (!a.quiet) print_summary(root, stdout);
    fprintf(stderr, "specbias run: results in %s/results.json\n", a.out);
    rc = failed ? SB_EXIT_FAILED : SB_EXIT_OK;
out:
    if (have_counters) sb_counters_close(&counters);
    json_decref(root);
    json_decref(rerun);
    free(sel);
    sb_suite_free(&suite);
    return rc;
}
