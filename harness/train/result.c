/* The result structs' own functions (result.h). */
#include "harness/train/result.h"

#include <stdlib.h>
#include <string.h>

static void snapshot_free(struct sb_snapshot *s)
{
    free(s->values);
    free(s->png_base64);
    memset(s, 0, sizeof *s);
}

static void repetition_free(struct sb_repetition_result *r)
{
    for (size_t i = 0; i < r->ncurve; i++) {
        sb_confusion_free(&r->curve[i].confusion_local);
        sb_confusion_free(&r->curve[i].confusion_global);
    }
    free(r->curve);
    free(r->spectra);
    for (size_t i = 0; i < r->nsnapshots; i++) snapshot_free(&r->snapshots[i]);
    snapshot_free(&r->target);
    sb_confusion_free(&r->confusion_local);
    sb_confusion_free(&r->confusion_global);
    free(r->error);
}

void sb_experiment_result_free(struct sb_experiment_result *x)
{
    for (size_t i = 0; i < x->nreps; i++) repetition_free(&x->reps[i]);
    free(x->reps);
    free(x->error);
    memset(x, 0, sizeof *x);
}

double sb_repetition_gflops(const struct sb_repetition_result *r)
{
    return r->train_seconds > 0
               ? r->flops_per_step * (double)r->steps / r->train_seconds / 1e9
               : 0.0;
}
