/* specbias compare: one side of a comparison given as a folder. A run folder (`run --out DIR`,
 * holding DIR/results.json) is that file. A folder of run folders (DIR/RUN/results.json, as
 * scripts/gate writes them) is one side made of several separate runs, merged here into one
 * input whose timing samples are one per run: the median of the run's repetitions.
 *
 * Why one sample per run: repetitions inside one run share that run's conditions (the
 * machine's state, the memory it got, a neighbour's load) and agree far more closely than
 * separate runs do. Counted as independent samples, 5 + 5 repetitions of two separate runs
 * test the run-to-run drift as well as the code, and an A/A gate then fails often (measured:
 * README, "In CI"). Separate runs of the two builds, interleaved, are the samples that share
 * nothing but the build, which is what the test must compare. */
#define _POSIX_C_SOURCE 200809L
#include "harness/compare/compare.h"
#include "harness/compare/stats.h"
#include "harness/util/errmsg.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define RESULTS_NAME "results.json"

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* "dir/name/results.json" (name NULL: "dir/results.json"), malloc'd; NULL: out of memory. */
static char *results_path(const char *dir, const char *name)
{
    const size_t len = strlen(dir) + (name ? strlen(name) + 1 : 0) + sizeof RESULTS_NAME + 1;
    char *p = malloc(len);
    if (p) snprintf(p, len, "%s/%s%s%s", dir, name ? name : "", name ? "/" : "", RESULTS_NAME);
    return p;
}

struct paths {
    char **p;
    size_t n;
};

static void paths_free(struct paths *l)
{
    for (size_t i = 0; i < l->n; i++) free(l->p[i]);
    free(l->p);
    memset(l, 0, sizeof *l);
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

/* The results files of the run folders inside dir (dir/RUN/results.json), in name order. */
static int list_runs(const char *dir, struct paths *out, char *err, size_t errlen)
{
    struct dirent **names = NULL;
    const int n = scandir(dir, &names, NULL, by_name);
    if (n < 0) {
        sb_errorf(err, errlen, "%s: cannot read the folder: %s", dir, strerror(errno));
        return BAD_INPUT;
    }
    int rc = 0;
    out->p = calloc((size_t)n + 1, sizeof *out->p);
    if (!out->p) rc = NO_MEMORY;
    for (int i = 0; i < n; i++) {
        if (!rc && names[i]->d_name[0] != '.') {
            char *p = results_path(dir, names[i]->d_name);
            if (!p)
                rc = NO_MEMORY;
            else if (is_file(p))
                out->p[out->n++] = p;
            else
                free(p);
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

/* ---- merging the runs of one side ------------------------------------------------------------ */

/* The median of v, pushed onto out when v has samples. */
static int push_median(struct vec *out, const struct vec *v)
{
    return v->n ? sb_vec_push(out, sb_stats_median(v->v, v->n)) : 0;
}

static int append(struct vec *out, const struct vec *v)
{
    for (size_t i = 0; i < v->n; i++)
        if (sb_vec_push(out, v->v[i])) return NO_MEMORY;
    return 0;
}

/* The worst status of an experiment over the runs: a failed run fails the side. */
static const char *worse_status(const char *a, const char *b)
{
    return strcmp(a, "ok") != 0 ? a : b;
}

/* A side's runs are one build on one ISA and thread count: samples of one measurement. */
static int check_same(const struct input *first, const struct input *run, const char *dir,
                      char *err, size_t errlen)
{
    if (run->kind != first->kind) {
        sb_errorf(err, errlen, "%s: %s is %s and %s is %s: the runs of one side are of one kind",
                  dir, first->path, sb_kind_names[first->kind], run->path,
                  sb_kind_names[run->kind]);
        return BAD_INPUT;
    }
    const char *fi = first->isa_used ? first->isa_used : "unknown";
    const char *ri = run->isa_used ? run->isa_used : "unknown";
    if (strcmp(fi, ri) != 0 || first->has_threads != run->has_threads ||
        first->threads != run->threads) {
        sb_errorf(err, errlen,
                  "%s: %s ran %s on %lld threads and %s %s on %lld: the runs of one side are "
                  "one build on one ISA and thread count",
                  dir, first->path, fi, (long long)first->threads, run->path, ri,
                  (long long)run->threads);
        return BAD_INPUT;
    }
    return 0;
}

/* The same experiment in two runs of one side ran the same configuration. */
static int check_config(const struct experiment *a, const char *apath, const struct experiment *b,
                        const char *bpath, const char *dir, char *err, size_t errlen)
{
    struct config_diff d;
    if (sb_config_compare(a->config, b->config, &d)) return 0;
    sb_errorf(err, errlen, "%s: experiment '%s': %s is %s in %s and %s in %s: the runs of one "
                           "side ran the same configuration",
              dir, a->name, d.field, d.base_text, apath, d.new_text, bpath);
    return BAD_INPUT;
}

/* Experiment e of the side from the runs that have it (at[r] >= 0): timings one median per
 * run, quality values all. The first such run gives the name, config and frequencies. */
static int merge_experiment(struct experiment *m, const struct input *runs, size_t nruns,
                            const long *at)
{
    const struct experiment *first = NULL;
    for (size_t r = 0; r < nruns && !first; r++)
        if (at[r] >= 0) first = &runs[r].exps[at[r]];
    m->name = first->name;
    m->status = first->status;
    m->config = first->config;
    m->hash = first->hash;
    m->nfreq = first->nfreq;
    m->bands = first->bands;
    if (m->nfreq) {
        m->freq = calloc(m->nfreq, sizeof *m->freq);
        m->freq_err = calloc(m->nfreq, sizeof *m->freq_err);
        if (!m->freq || !m->freq_err) return NO_MEMORY;
        memcpy(m->freq, first->freq, m->nfreq * sizeof *m->freq);
    }
    for (size_t r = 0; r < nruns; r++) {
        if (at[r] < 0) continue;
        const struct experiment *x = &runs[r].exps[at[r]];
        m->status = worse_status(m->status, x->status);
        m->reps++;
        m->ok_reps += x->ok_reps > 0;
        m->seeds_finished += x->seeds_finished > 0;
        if (x->seeds > m->seeds) m->seeds = x->seeds;
        if (x->hash_varies || (x->hash && m->hash && strcmp(x->hash, m->hash) != 0))
            m->hash_varies = 1;
        if (!m->hash) m->hash = x->hash;
        if (push_median(&m->sec_per_step, &x->sec_per_step) ||
            push_median(&m->time_to_target, &x->time_to_target) ||
            push_median(&m->seed_ttt, &x->seed_ttt) || append(&m->psnr, &x->psnr) ||
            append(&m->loss, &x->loss))
            return NO_MEMORY;
        /* the same frequencies in every run: the configurations matched */
        if (x->nfreq != m->nfreq) continue;
        m->spectra += x->spectra;
        for (size_t k = 0; k < m->nfreq; k++)
            if (append(&m->freq_err[k], &x->freq_err[k])) return NO_MEMORY;
    }
    return 0;
}

static int merge_kernel(struct kernel *m, const struct input *runs, size_t nruns, const long *at)
{
    for (size_t r = 0; r < nruns; r++) {
        if (at[r] < 0) continue;
        const struct kernel *x = &runs[r].kerns[at[r]];
        if (!m->name) m->name = x->name;
        if (push_median(&m->real_ns, &x->real_ns) || push_median(&m->gflops, &x->gflops))
            return NO_MEMORY;
    }
    return 0;
}

static size_t entries(const struct input *in)
{
    return in->kind == KIND_RESULTS ? in->nexp : in->nkern;
}

static const char *entry_name(const struct input *in, size_t i)
{
    return in->kind == KIND_RESULTS ? in->exps[i].name : in->kerns[i].name;
}

/* Entry u of the side (named `name`): where each run has it, its configurations checked. */
static int locate(const struct input *runs, size_t nruns, const char *name, long *at,
                  const char *dir, char *err, size_t errlen)
{
    long first = -1;
    for (size_t r = 0; r < nruns; r++) {
        at[r] = sb_input_find(&runs[r], name);
        if (at[r] < 0 || runs[r].kind != KIND_RESULTS) continue;
        if (first < 0) {
            first = (long)r;
            continue;
        }
        const int rc = check_config(&runs[first].exps[at[first]], runs[first].path,
                                    &runs[r].exps[at[r]], runs[r].path, dir, err, errlen);
        if (rc) return rc;
    }
    return 0;
}

/* The side: runs[0]'s context and label, and every experiment (or benchmark) any run has, in
 * the order first seen, each from the runs that have it. One run may hold every experiment
 * or just one (scripts/gate runs one experiment at a time). The runs' JSON stays alive in
 * side->run_roots, since the merged entries borrow its strings. */
static int merge_runs(struct input *side, const struct input *runs, size_t nruns, const char *dir,
                      char *err, size_t errlen)
{
    for (size_t r = 1; r < nruns; r++) {
        const int rc = check_same(&runs[0], &runs[r], dir, err, errlen);
        if (rc) return rc;
    }
    size_t total = 0;
    for (size_t r = 0; r < nruns; r++) total += entries(&runs[r]);
    const int results = runs[0].kind == KIND_RESULTS;
    long *at = calloc(nruns, sizeof *at);
    side->run_roots = json_array();
    side->index = json_object();
    if (results)
        side->exps = calloc(total ? total : 1, sizeof *side->exps);
    else
        side->kerns = calloc(total ? total : 1, sizeof *side->kerns);
    int rc = !at || !side->run_roots || !side->index || !(side->exps || side->kerns) ? NO_MEMORY : 0;
    size_t n = 0;
    for (size_t r = 0; r < nruns && !rc; r++) {
        for (size_t i = 0; i < entries(&runs[r]) && !rc; i++) {
            const char *name = entry_name(&runs[r], i);
            if (sb_input_find(side, name) >= 0) continue;
            if (json_object_set_new(side->index, name, json_integer((json_int_t)n))) {
                rc = NO_MEMORY;
                break;
            }
            /* counted before the merge, so that sb_input_free frees a half-merged entry */
            n++;
            if (results) side->nexp = n;
            else side->nkern = n;
            rc = locate(runs, nruns, name, at, dir, err, errlen);
            if (!rc)
                rc = results ? merge_experiment(&side->exps[n - 1], runs, nruns, at)
                             : merge_kernel(&side->kerns[n - 1], runs, nruns, at);
        }
        if (!rc && json_array_append(side->run_roots, runs[r].root)) rc = NO_MEMORY;
        /* disturbed if any run was; its reasons are the first such run's */
        if (runs[r].audit.disturbed && !side->audit.disturbed) {
            side->audit.disturbed = 1;
            side->audit.warnings = runs[r].audit.warnings;
        }
    }
    free(at);
    /* runs of the experiment run most often: scripts/gate runs each experiment alone */
    side->merged = 1;
    for (size_t i = 0; i < n; i++) {
        const size_t k = results ? side->exps[i].reps : side->kerns[i].real_ns.n;
        if (k > side->runs) side->runs = k;
    }
    side->path = dir;
    const size_t len = strlen(side->label);
    snprintf(side->label + len, sizeof side->label - len, "%s%zu runs", len ? ", " : "",
             side->runs);
    return rc;
}

/* side: runs[0]'s context, labels and audit (strings borrowed from its JSON, kept in
 * run_roots), no entries yet. */
static void side_from_first(struct input *side, const struct input *first)
{
    *side = *first;
    side->root = NULL;
    side->index = NULL;
    side->exps = NULL;
    side->nexp = 0;
    side->kerns = NULL;
    side->nkern = 0;
    side->owned_path = NULL;
    side->run_roots = NULL;
}

const char *sb_input_sample_unit(const struct input *in)
{
    return in->merged ? "runs" : "repetitions";
}

/* ---- the loader ---------------------------------------------------------------------------- */

int sb_input_load_side(struct input *in, const char *path, struct strlist *warnings, char *err,
                       size_t errlen)
{
    if (!is_dir(path)) return sb_input_load(in, path, warnings, err, errlen);
    memset(in, 0, sizeof *in);
    char *own = results_path(path, NULL);
    if (!own) return NO_MEMORY;
    if (is_file(own)) {
        const int rc = sb_input_load(in, own, warnings, err, errlen);
        in->owned_path = own;
        return rc;
    }
    free(own);
    struct paths files = {0};
    int rc = list_runs(path, &files, err, errlen);
    if (!rc && files.n == 0) {
        sb_errorf(err, errlen,
                  "%s: is a folder without %s, and no folder in it holds one: want a results "
                  "file, a run folder (run --out) or a folder of run folders (scripts/gate)",
                  path, RESULTS_NAME);
        rc = BAD_INPUT;
    }
    struct input *runs = rc ? NULL : calloc(files.n, sizeof *runs);
    if (!rc && !runs) rc = NO_MEMORY;
    size_t loaded = 0;
    for (; !rc && loaded < files.n; loaded++)
        rc = sb_input_load(&runs[loaded], files.p[loaded], warnings, err, errlen);
    if (!rc && files.n == 1) {
        *in = runs[0];
        in->owned_path = files.p[0];
        files.p[0] = NULL;
        loaded = 0;
    } else if (!rc) {
        side_from_first(in, &runs[0]);
        rc = merge_runs(in, runs, files.n, path, err, errlen);
    }
    for (size_t i = 0; i < loaded; i++) sb_input_free(&runs[i]);
    free(runs);
    paths_free(&files);
    return rc;
}
