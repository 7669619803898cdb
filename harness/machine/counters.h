/* Event counters (`specbias run --counters`, `specbias kernels --counters`) from two sources:
 * PAPI (presets and native names) and, where PAPI cannot count an event, Linux's generic
 * events opened directly with perf_event_open(2). PAPI cannot count anything on a CPU that
 * its libpfm4 does not know (its perf_event component is disabled, "no default PMU"), while
 * the kernel still counts its software events there, and its hardware events wherever it
 * exposes a PMU.
 *
 * Names: PAPI's (PAPI_TOT_INS, perf::TASK-CLOCK, any native event) or perf's generic ones
 * (task-clock, page-faults, context-switches, cpu-migrations, cpu-clock, minor-faults,
 * major-faults, cycles, instructions, cache-references, cache-misses, branches,
 * branch-misses). A generic name, or a PAPI name with a generic equivalent, is tried with
 * PAPI first and then with perf_event_open. Each event is first tried alone (started and
 * stopped): "component enabled" is not trusted. One that neither source can count is
 * recorded as unavailable with both reasons (PAPI's component state, the kernel's errno) and
 * the run goes on without it; an unknown name also gets a warning on stderr.
 *
 * Counts are of the calling thread (the main thread; OpenMP workers are not included), in
 * user mode (exclude_kernel, PAPI's default domain), which results.json states. */
#ifndef SPECBIAS_HARNESS_COUNTERS_H
#define SPECBIAS_HARNESS_COUNTERS_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#define SB_MAX_COUNTERS 16

/* Which sources may be used, from $SPECBIAS_COUNTER_SOURCES ("papi,perf_event" by default;
 * "perf_event" or "papi" restricts to one, e.g. to compare them). */
enum { SB_SOURCE_PAPI = 1, SB_SOURCE_PERF = 2 };

struct sb_counters {
    size_t n;                         /* events that count */
    char names[SB_MAX_COUNTERS][128]; /* as the user wrote them */
    int source[SB_MAX_COUNTERS];      /* SB_SOURCE_PAPI or SB_SOURCE_PERF */
    int fd[SB_MAX_COUNTERS];          /* perf_event file descriptor, -1 for PAPI events */
    int papi_set;                     /* the PAPI events together (one set per thread) */
    size_t n_papi;
    long long eval[SB_MAX_COUNTERS];  /* counts during evaluation, subtracted */
    long long mark[SB_MAX_COUNTERS];
    json_t *status;                   /* context.counters */
};

/* Parses the comma-separated list and probes each event; `warn` (NULL for none) gets a
 * "warning: ..." line per event that cannot count, prefixed by `who`. Returns 0 (even when
 * no event can count: that is recorded, not an error), or -1 with a message for a list that
 * cannot be parsed (empty names, more than SB_MAX_COUNTERS). */
int sb_counters_open(struct sb_counters *c, const char *list, FILE *warn, const char *who,
                     char *err, size_t errlen);
void sb_counters_start(struct sb_counters *c);
/* Around work that must not count (evaluation at checkpoints). */
void sb_counters_pause(struct sb_counters *c);
void sb_counters_resume(struct sb_counters *c);
/* The counts of one measurement: event names[i] (pointing into the struct sb_counters, in
 * list order) counted counts[i]. */
struct sb_counter_values {
    size_t n;
    const char *names[SB_MAX_COUNTERS];
    long long counts[SB_MAX_COUNTERS];
};
/* Stops and fills out with the counts since sb_counters_start, evaluation excluded. */
void sb_counters_stop(struct sb_counters *c, struct sb_counter_values *out);
void sb_counters_close(struct sb_counters *c);

/* The events `specbias info` probes: every generic event and PAPI's SP FLOP preset. */
extern const char sb_counters_probe_list[];

#endif
