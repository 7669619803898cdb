/* What the commands made of child runs (a scaling run, run_scaling.c; a throughput run,
 * run_throughput.c) share: the checks before the first child, a child's results.json counted
 * only when that child wrote it, and the exit-code policy (run.h). */
#define _POSIX_C_SOURCE 200809L
#include "harness/cli/cli.h"
#include "harness/cli/run.h"
#include "harness/cli/run_child.h"
#include "harness/results/results.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int sb_run_children_check(struct run *r, int threads, const char *stem)
{
    if (!sb_select(r->a.isa, r->err, sizeof r->err)) {
        fprintf(stderr, "specbias run: %s\n", r->err);
        return SB_EXIT_USAGE;
    }
    /* the data of every experiment (an image that is missing), and the memory the most
     * threads a child runs need */
    r->threads = threads;
    const int rc = sb_run_check_inputs(r);
    if (rc != RUN_CONTINUE) return rc;
    const int made = sb_make_dirs(r->a.out, r->err, sizeof r->err);
    if (made) {
        fprintf(stderr, "specbias run: %s\n", r->err);
        return made == -2 ? SB_EXIT_USAGE : SB_EXIT_FAILED;
    }
    char probe[4200];
    snprintf(probe, sizeof probe, "%s/.%s-probe.%ld.tmp", r->a.out, stem, (long)getpid());
    const int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0666);
    if (fd < 0) {
        fprintf(stderr, "specbias run: %s: cannot write in the output folder: %s\n", r->a.out,
                strerror(errno));
        return SB_EXIT_FAILED;
    }
    close(fd);
    unlink(probe);
    int complete = 0;
    const int kept = sb_json_file_keep_earlier(r->a.out, stem, r->kept, sizeof r->kept,
                                               &complete, r->err, sizeof r->err);
    if (kept < 0) {
        fprintf(stderr, "specbias run: %s\n", r->err);
        return SB_EXIT_FAILED;
    }
    if (kept > 0)
        fprintf(stderr, "specbias run: the earlier %s/%s.json%s is kept as %s\n", r->a.out, stem,
                complete ? "" : " (incomplete: interrupted or failed)", r->kept);
    return RUN_CONTINUE;
}

void sb_child_results_mark(struct sb_child_results *m, const char *dir)
{
    struct stat st;
    snprintf(m->path, sizeof m->path, "%s/results.json", dir);
    m->had = stat(m->path, &st) == 0;
    m->dev = m->had ? st.st_dev : 0;
    m->ino = m->had ? st.st_ino : 0;
}

json_t *sb_child_results_load(const struct sb_child_results *m)
{
    /* The child's first write renames a new file over an earlier one: a file with the
     * earlier one's inode is not the child's. */
    struct stat st;
    if (stat(m->path, &st) != 0) return NULL;
    if (m->had && st.st_ino == m->ino && st.st_dev == m->dev) return NULL;
    return json_load_file(m->path, 0, NULL);
}

enum sb_child_outcome sb_children_note(struct sb_children *c, int rc)
{
    if (rc < 0) {
        c->failed = 1;
        return SB_CHILD_NOT_STARTED;
    }
    if (rc == SB_EXIT_OK) return SB_CHILD_OK;
    if (rc == SB_EXIT_USAGE) {
        c->usage = 1;
        return SB_CHILD_REFUSED;
    }
    if (rc > 128) {
        /* passed on from the parent's signal, or sent by the parent itself to stop: expected;
         * sent to the child alone (kill, the OOM killer): the parent stops too */
        if (!sb_child_signal && !c->stopping) c->child_signal = rc;
        return SB_CHILD_SIGNALLED;
    }
    c->failed = 1;
    return SB_CHILD_FAILED;
}

int sb_children_interrupted(const struct sb_children *c)
{
    return sb_child_signal || c->child_signal;
}

const char *sb_children_status(const struct sb_children *c)
{
    return sb_children_interrupted(c) ? "interrupted"
           : c->failed || c->usage    ? "failed"
                                      : "complete";
}

int sb_children_exit(const struct sb_children *c, int failed)
{
    if (c->usage) return SB_EXIT_USAGE;
    if (sb_child_signal) return 128 + (int)sb_child_signal;
    if (c->child_signal) return c->child_signal;
    return c->failed || failed ? SB_EXIT_FAILED : SB_EXIT_OK;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double sb_run_median(double *v, size_t n)
{
    if (n == 0) return NAN;
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

json_t *sb_run_find_experiment(json_t *results, const char *name)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(results, "experiments"), i, e) {
        const char *n = json_string_value(json_object_get(e, "name"));
        if (n && !strcmp(n, name)) return e;
    }
    return NULL;
}

int sb_run_children_write(struct run *r, json_t *root, const char *stem, const char *what)
{
    const int rc = sb_json_file_write(root, r->a.out, stem, r->err, sizeof r->err);
    if (rc) fprintf(stderr, "specbias run: %s\n", r->err);
    else fprintf(stderr, "specbias run: %s results in %s/%s.json\n", what, r->a.out, stem);
    return rc;
}
