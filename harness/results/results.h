/* The results writer: turns what the trainer produced (harness/train/result.h) into
 * results.json's entries, with the keys, order and number formats docs/results.md describes.
 * The one place that knows the experiments' JSON. */
#ifndef SPECBIAS_HARNESS_RESULTS_H
#define SPECBIAS_HARNESS_RESULTS_H

#include "harness/train/result.h"

#include <jansson.h>

/* The experiment's entry of results.json's experiments array (NULL only when out of memory). */
json_t *sb_results_experiment(const struct sb_experiment_result *x);

/* The summary of one field over an experiment's repetitions: {median, min, max, cv, n}
 * over those that have a number (results.json's experiments[].summary). */
json_t *sb_field_summary(json_t *reps, const char *field);


/* summary.seeds from experiments[].seeds (entries {status, time_to_target_s}) of an experiment
 * run with `requested` seeds: time to target across the seeds, MLPerf's way (the fastest and
 * slowest dropped from 3 seeds on, a seed that never reached the target the slowest), and its
 * spread; docs/results.md. */
json_t *sb_seeds_summary(json_t *seeds, size_t requested);

/* Every repetition's share of `peak` (null where it ran faster than the peak: the peak was
 * re-measured and still too low, so no share is claimed), and their summaries, over the
 * experiments array. */
void sb_results_apply_peak(json_t *experiments, double peak);

/* The document: {schema, context, complete: false, interrupted: false, experiments: []}. */
json_t *sb_results_new(json_t *context);

/* Writes root as DIR/results.json (harness/results/file.c): a temporary file in DIR, flushed,
 * then renamed over results.json. Returns 0, or -1 with the reason in err. */
int sb_results_write(json_t *root, const char *dir, char *err, size_t errlen);

/* Before a run first writes DIR/results.json: an earlier one there, whatever it holds, is kept
 * as DIR/results-STAMP.json (STAMP: its context.date, or else its modification time, with
 * ':' made '-'; "-incomplete" added when it is not marked complete; "-2", "-3", ... added
 * rather than replace a file of that name), as a hard link, or a copy where the file system
 * has none. Returns 0 (no earlier file), 1 (kept: its path in kept, and *complete) or -1
 * with the reason in err (the earlier file is then untouched). */
int sb_results_keep_earlier(const char *dir, char *kept, size_t keptlen, int *complete,
                            char *err, size_t errlen);

/* The same two for another JSON document of a run folder, DIR/STEM.json (scaling.json):
 * written by temporary file and rename, an earlier one kept as DIR/STEM-STAMP.json. A
 * document is complete when it says "complete": true or "status": "complete". */
int sb_json_file_write(json_t *root, const char *dir, const char *stem, char *err, size_t errlen);
int sb_json_file_keep_earlier(const char *dir, const char *stem, char *kept, size_t keptlen,
                              int *complete, char *err, size_t errlen);

/* Removes a temporary file sb_results_write is writing, if any: for a signal handler that
 * leaves at once (async-signal-safe). */
void sb_results_remove_partial(void);

#endif
