/* What `specbias run` checks and records before the first step (run.h). */
#define _POSIX_C_SOURCE 200809L
#include "harness/cli/cli.h"
#include "harness/cli/run.h"
#include "harness/results/results.h"
#include "harness/machine/context.h"
#include "harness/train/train.h"
#include "harness/util/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int sb_make_dirs(const char *path, char *err, size_t errlen)
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
                const int e = errno;
                snprintf(err, errlen, "%s: cannot create folder: %s%s", buf, strerror(e),
                         e == ENOTDIR ? " (a file is on the way to it)" : "");
                return e == ENOTDIR ? -2 : -1;
            }
            if (end) break;
            *p = '/';
        }
    }
    struct stat st;
    if (stat(path, &st)) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "--out %s: that is a file, not a folder (--out names the folder "
                 "results.json goes in)", path);
        return -2;
    }
    return 0;
}

int sb_run_keep_earlier(struct run *r)
{
    char path[4200];
    struct stat earlier, rerun;
    snprintf(path, sizeof path, "%s/results.json", r->a.out);
    const int same = r->a.rerun && stat(path, &earlier) == 0 && stat(r->a.rerun, &rerun) == 0 &&
                     earlier.st_ino == rerun.st_ino && earlier.st_dev == rerun.st_dev;
    int complete = 0;
    const int rc = sb_results_keep_earlier(r->a.out, r->kept, sizeof r->kept, &complete, r->err,
                                           sizeof r->err);
    if (rc < 0) {
        fprintf(stderr, "specbias run: %s\n", r->err);
        return SB_EXIT_FAILED;
    }
    if (rc > 0)
        fprintf(stderr, "specbias run: the earlier %s%s is kept as %s\n", path,
                complete ? "" : " (incomplete: interrupted or still being written)", r->kept);
    if (rc > 0 && same)
        json_object_set_new(r->context, "rerun_of", sb_json_string(r->kept));
    return RUN_CONTINUE;
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

/* The data_hash the run being repeated recorded for experiment `name`, or NULL. */
static const char *rerun_data_hash(json_t *rerun, const char *name)
{
    const char *old_hash = NULL;
    size_t j;
    json_t *x;
    json_array_foreach(json_object_get(rerun, "experiments"), j, x) {
        if (json_is_string(json_object_get(x, "name")) &&
            !strcmp(json_string_value(json_object_get(x, "name")), name))
            old_hash = json_string_value(
                json_object_get(json_object_get(json_object_get(x, "config"), "target"), "data_hash"));
    }
    return old_hash;
}

/* One experiment's data: built, hashed against --rerun's, and its buffers against the memory
 * left. Returns RUN_CONTINUE or the exit code, with the message printed. */
static int check_experiment(struct run *r, const struct sb_experiment *e)
{
    struct sb_data d;
    struct sb_encoding enc;
    const int rc = sb_data_make(e, r->a.seed + e->seed, &d, &enc, r->err, sizeof r->err);
    if (rc) {
        fprintf(stderr, "specbias run: %s\n", r->err);
        return rc == 2 ? SB_EXIT_USAGE : SB_EXIT_FAILED;
    }
    /* Refuse what cannot fit before allocating it, with the size it needed. */
    const double need = sb_experiment_bytes(e, &d, &enc, r->threads > 0 ? (size_t)r->threads : 0);
    char why[160], size[32];
    const double have = memory_left(r->threads, why, sizeof why);
    /* --rerun: an image must still hold the pixels the run being repeated trained on. */
    const char *old_hash =
        r->rerun && e->target != SB_TARGET_SINES1D ? rerun_data_hash(r->rerun, e->name) : NULL;
    char now_hash[17];
    sb_data_hash(&d, now_hash);
    sb_data_free(&d);
    free(enc.B);
    if (old_hash && strcmp(old_hash, now_hash)) {
        fprintf(stderr,
                "specbias run: %s: experiment '%s': the pixels of %s are not the ones the run "
                "in %s trained on (data_hash %s there, %s now)\n",
                r->suite.path, e->name,
                e->target == SB_TARGET_IMAGE ? e->image_path : "the zone plate", r->a.rerun,
                old_hash, now_hash);
        return SB_EXIT_USAGE;
    }
    fmt_bytes(size, sizeof size, need);
    if (have > 0 && need > have) {
        fprintf(stderr, "specbias run: %s: experiment '%s' needs about %s of buffers; %s\n",
                r->suite.path, e->name, size, why);
        return SB_EXIT_USAGE;
    }
    return RUN_CONTINUE;
}

int sb_run_check_inputs(struct run *r)
{
    for (size_t i = 0; i < r->nsel; i++) {
        const int rc = check_experiment(r, &r->suite.exp[r->sel[i]]);
        if (rc != RUN_CONTINUE) return rc;
    }
    return RUN_CONTINUE;
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

/* Where a run under Slurm ran (docs/results.md, context.slurm): the job, array task, node and
 * partition from Slurm's variables, and from a fleet task (fleet_task.c) the machine kind and
 * the features it asked for. null outside Slurm. */
static json_t *slurm_json(void)
{
    const char *job = getenv("SLURM_JOB_ID");
    if (!job || !*job) return json_null();
    static const char *const fields[][2] = {
        {"job_id", "SLURM_JOB_ID"},
        {"array_job_id", "SLURM_ARRAY_JOB_ID"},
        {"array_task_id", "SLURM_ARRAY_TASK_ID"},
        {"node", "SLURMD_NODENAME"},
        {"partition", "SLURM_JOB_PARTITION"},
        {"cluster", "SLURM_CLUSTER_NAME"},
        {"features_requested", "SPECBIAS_FLEET_CONSTRAINT"},
        {"machine_kind", "SPECBIAS_FLEET_MACHINE"},
        {"fleet_set", "SPECBIAS_FLEET_SET"},
        {"fleet_dir", "SPECBIAS_FLEET_DIR"},
    };
    json_t *o = json_object();
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
        const char *v = getenv(fields[i][1]);
        json_object_set_new(o, fields[i][0], v && *v ? sb_json_string(v) : json_null());
    }
    return o;
}

void sb_run_document(struct run *r, int argc, char **argv)
{
    const struct run_args *a = &r->a;
    /* Bind first, so the probes measure the threads as training will use them. */
    json_t *binding = sb_bind_threads(r->threads, !a->no_bind, a->cpus);
    r->root = sb_results_new(context_json(r->k, r->threads, &r->suite, argc + 1, argv - 1,
                                          a->remeasure_peak, r->peaks));
    json_t *context = r->context = json_object_get(r->root, "context");
    json_object_set_new(context, "audit",
                        sb_audit_start(&r->audit, json_object_get(binding, "cpus"), r->threads));
    /* Everything --rerun needs: the suite's own text (its content_hash is of these bytes) and
     * the options that chose and shaped the experiments. */
    json_t *text = json_stringn(r->suite.text, r->suite.text_len);
    json_object_set_new(json_object_get(context, "suite"), "content", text ? text : json_null());
    json_object_set_new(
        context, "run_options",
        json_pack("{s:o, s:I, s:I, s:o, s:I, s:o, s:o, s:b, s:o}", "filter",
                  a->filter ? sb_json_string(a->filter) : json_null(), "seed", (json_int_t)a->seed,
                  "seeds", (json_int_t)a->seeds, "steps",
                  a->steps ? json_integer((json_int_t)a->steps) : json_null(),
                  "repetitions", (json_int_t)a->repetitions, "isa",
                  a->isa ? json_string(a->isa) : json_null(), "threads",
                  a->threads ? json_integer(a->threads) : json_null(), "no_bind", a->no_bind,
                  "cpus", a->cpus ? sb_json_string(a->cpus) : json_null()));
    if (a->rerun) json_object_set_new(context, "rerun_of", sb_json_string(a->rerun));
    json_object_set_new(context, "binding", binding);
    json_object_set_new(context, "slurm", slurm_json());
    json_object_set_new(context, "blocking",
                        sb_apply_cache_blocking(json_object_get(context, "topology")));
    if (r->have_counters)
        json_object_set(json_object_get(r->root, "context"), "counters", r->counters.status);
    r->exps = json_object_get(r->root, "experiments");
}
