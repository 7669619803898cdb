/* specbias run --rerun FILE: the run FILE records, repeated (run.h). */
#include "harness/cli/cli.h"
#include "harness/cli/run.h"

#include <stdio.h>
#include <string.h>

/* What --rerun reads from a results file. */
struct recorded {
    json_t *ctx, *text, *threads, *seed, *seeds, *steps, *reps, *filter;
    const char *schema, *path, *hash, *isa;
};

/* Fills f from root; returns the first field --rerun needs that root lacks, or NULL. */
static const char *read_recorded(json_t *root, struct recorded *f)
{
    json_t *ctx = f->ctx = json_object_get(root, "context"), *st = json_object_get(ctx, "suite");
    json_t *o = json_object_get(ctx, "run_options");
    f->text = json_object_get(st, "content");
    f->threads = json_object_get(ctx, "threads");
    f->seed = json_object_get(o, "seed");
    f->seeds = json_object_get(o, "seeds"); /* absent before --seeds existed: one seed */
    f->steps = json_object_get(o, "steps");
    f->reps = json_object_get(o, "repetitions");
    f->filter = json_object_get(o, "filter");
    f->schema = json_string_value(json_object_get(root, "schema"));
    f->path = json_string_value(json_object_get(st, "path"));
    f->hash = json_string_value(json_object_get(st, "content_hash"));
    f->isa = json_string_value(json_object_get(ctx, "isa_used"));
    return !json_is_string(f->text)                            ? "context.suite.content"
           : !f->path                                          ? "context.suite.path"
           : !f->hash                                          ? "context.suite.content_hash"
           : !f->isa                                           ? "context.isa_used"
           : !json_is_integer(f->threads)                      ? "context.threads"
           : !json_is_integer(f->seed)                         ? "context.run_options.seed"
           : !(json_is_integer(f->seeds) || !f->seeds)         ? "context.run_options.seeds"
           : !json_is_integer(f->reps)                         ? "context.run_options.repetitions"
           : !(json_is_integer(f->steps) || json_is_null(f->steps)) ? "context.run_options.steps"
           : !(json_is_string(f->filter) || json_is_null(f->filter))
               ? "context.run_options.filter"
               : NULL;
}

/* The recorded options in range, and the embedded suite parsed and unedited, into a and suite.
 * Returns 0, or -1 with the message in err. */
static int apply_recorded(const struct recorded *f, struct run_args *a, struct sb_suite *suite,
                          char *err, size_t errlen)
{
    const json_int_t t = json_integer_value(f->threads), sd = json_integer_value(f->seed),
                     r = json_integer_value(f->reps), sp = json_integer_value(f->steps),
                     k = f->seeds ? json_integer_value(f->seeds) : 1;
    if (t < 1 || t > 1024 || sd < 0 || sd > (json_int_t)UINT32_MAX || r < 1 || r > 1000 ||
        (json_is_integer(f->steps) && (sp < 1 || sp > 100000000))) {
        snprintf(err, errlen,
                 "%s: cannot rerun: threads %lld, seed %lld, repetitions %lld or steps %lld is "
                 "out of range",
                 a->rerun, (long long)t, (long long)sd, (long long)r, (long long)sp);
        return -1;
    }
    if (k < 1 || k > 100) {
        snprintf(err, errlen,
                 "%s: cannot rerun: context.run_options.seeds %lld is out of range (1..100)",
                 a->rerun, (long long)k);
        return -1;
    }
    if (sb_suite_parse(f->path, json_string_value(f->text), json_string_length(f->text), suite,
                       err, errlen)) {
        char inner[4096];
        snprintf(inner, sizeof inner, "%.4000s", err);
        snprintf(err, errlen, "%.4000s: its embedded suite: %s", a->rerun, inner);
        return -1;
    }
    if (strcmp(suite->content_hash, f->hash)) {
        snprintf(err, errlen,
                 "%s: the embedded suite does not match context.suite.content_hash (%s there, %s "
                 "computed): the file was edited",
                 a->rerun, f->hash, suite->content_hash);
        sb_suite_free(suite);
        return -1;
    }
    a->filter = json_string_value(f->filter);
    a->seed = (uint64_t)sd;
    a->steps = json_is_integer(f->steps) ? (uint64_t)sp : 0;
    a->repetitions = (int)r;
    a->seeds = (int)k;
    a->isa = f->isa;
    a->threads = (int)t;
    return 0;
}

/* A warning for each build fact of ctx that is not this binary's. */
static void warn_other_build(const char *file, json_t *ctx)
{
    const struct sb_build_info *b = sb_build_info();
    static const char *const fields[] = {"git_commit", "build_flags", "compiler"};
    const char *mine[] = {b->git_commit, b->flags, b->compiler};
    for (size_t i = 0; i < 3; i++) {
        const char *theirs = json_string_value(json_object_get(ctx, fields[i]));
        if (!theirs || strcmp(theirs, mine[i]))
            fprintf(stderr,
                    "specbias run: warning: %s was written by a build with %s \"%s\", this one "
                    "has \"%s\"; trajectory hashes may differ\n",
                    file, fields[i], theirs ? theirs : "(none)", mine[i]);
    }
}

json_t *sb_run_load_rerun(struct run_args *a, struct sb_suite *suite, char *err, size_t errlen)
{
    json_error_t je;
    json_t *root = json_load_file(a->rerun, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        snprintf(err, errlen, "%s:%d:%d: %s", a->rerun, je.line, je.column, je.text);
        return NULL;
    }
    struct recorded f;
    const char *missing = read_recorded(root, &f);
    if (!f.schema || strcmp(f.schema, "specbias-results/1")) {
        snprintf(err, errlen, "%s: not a specbias results file (schema \"%s\")", a->rerun,
                 f.schema ? f.schema : "");
    } else if (missing) {
        snprintf(err, errlen,
                 "%s: cannot rerun: it lacks %s (written before --rerun existed, or edited)",
                 a->rerun, missing);
    } else if (apply_recorded(&f, a, suite, err, errlen) == 0) {
        warn_other_build(a->rerun, f.ctx);
        return root;
    }
    json_decref(root);
    return NULL;
}
