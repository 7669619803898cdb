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

/* Every repetition's share of `peak` (null where it ran faster than the peak: the peak was
 * re-measured and still too low, so no share is claimed), and their summaries, over the
 * experiments array. */
void sb_results_apply_peak(json_t *experiments, double peak);

#endif
