/* Hardware and software counters through PAPI (`specbias run --counters EVENT,...`). Each
 * event is first tried alone (started and stopped in an event set of its own): "component
 * enabled" is not trusted. The events that count then share one event set. An event that fails is recorded as unavailable with PAPI's own
 * reason and the run goes on without it. Counts are for the thread that calls (the main
 * thread; OpenMP workers are not included), which results.json states. */
#ifndef SPECBIAS_HARNESS_COUNTERS_H
#define SPECBIAS_HARNESS_COUNTERS_H

#include <jansson.h>
#include <stddef.h>

#define SB_MAX_COUNTERS 16

struct sb_counters {
    size_t n;                         /* events that count */
    char names[SB_MAX_COUNTERS][128];
    int set;                          /* all counting events together (PAPI runs one set per
                                         thread at a time) */
    long long eval[SB_MAX_COUNTERS];  /* counts during evaluation, subtracted */
    long long mark[SB_MAX_COUNTERS];
    json_t *status;                   /* context.counters */
};

/* Parses the comma-separated list and probes each event. Returns 0 (even when no event can
 * count: that is recorded, not an error), or -1 with a message for a list that cannot be
 * parsed (empty names, more than SB_MAX_COUNTERS). */
int sb_counters_open(struct sb_counters *c, const char *list, char *err, size_t errlen);
void sb_counters_start(struct sb_counters *c);
/* Around work that must not count (evaluation at checkpoints). */
void sb_counters_pause(struct sb_counters *c);
void sb_counters_resume(struct sb_counters *c);
/* Stops and returns {event: count of the training steps} for a repetition. */
json_t *sb_counters_stop(struct sb_counters *c);
void sb_counters_close(struct sb_counters *c);

#endif
