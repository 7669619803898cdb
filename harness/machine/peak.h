/* The FMA peak of an ISA at a thread count: the figure every share of peak is taken against.
 *
 * Measured until it is stable (short trials of the whole thread team, best of k, until the
 * best three agree within 2 %, bounded in time), over the cores the threads actually use
 * (never more threads than this process's cores: FMA units belong to cores, so oversubscribed
 * threads add nothing), and kept per machine in a cache file keyed by CPU model and
 * signature, ISA and thread count, so that every run on one machine shares one peak.
 * `--remeasure-peak` refreshes it; a measured rate above it (a kernel faster than the peak)
 * also re-measures it (sb_peak_recheck). */
#ifndef SPECBIAS_HARNESS_PEAK_H
#define SPECBIAS_HARNESS_PEAK_H

#include "specbias/kernels.h"

#include <jansson.h>
#include <stdio.h>

struct sb_peak {
    enum sb_isa isa;
    double gflops;         /* 0: the ISA cannot run here */
    int threads_requested; /* the run's threads */
    int threads_measured;  /* the cores they use: min(requested, cores of this process) */
    double spread;         /* (best - third best) / best over the trials */
    int trials, stable;    /* stable: the best three agreed within 2 % before the budget ran out */
    double seconds;        /* spent measuring */
    char source[16];       /* "cache" or "measured" */
    char measured_at[32];  /* UTC, ISO 8601 */
    char host[64];         /* the host that measured it */
    char cache[512];       /* the cache file, or "" */
    char note[512];        /* why there is no cache, why it was re-measured, ... */
};

/* The peak of `isa` at `threads`: from the cache when it holds it and `remeasure` is 0, else
 * measured now and written to the cache. Warnings (an unreadable cache) go to `warn` (may be
 * NULL) prefixed by `who`. */
void sb_peak_get(enum sb_isa isa, int threads, int remeasure, FILE *warn, const char *who,
                 struct sb_peak *out);

/* A rate of `observed_gflops` was measured against p: if it exceeds p->gflops, the peak was
 * wrong, so it is measured again (longer) and the cache updated; p->note says so. Returns 1
 * when p changed. */
int sb_peak_recheck(struct sb_peak *p, double observed_gflops, FILE *warn, const char *who);

/* {gflops, threads_requested, threads_measured, spread, trials, stable, seconds, source,
 * measured_at, host, cache, note?, method} */
json_t *sb_peak_json(const struct sb_peak *p);

/* What the peak method is, for results files (also part of the cache key). */
extern const char sb_peak_method[];

/* The logical CPUs this process may run on (its affinity mask; containers and taskset
 * included), and the cores they belong to (hwloc; the CPU count where hwloc cannot tell). */
int sb_cpus_allowed(void);
int sb_cores_allowed(void);

/* Vendor and family/model/stepping (x86 CPUID) or implementer/part/revision (Arm MIDR): with
 * the model name, the key of the peak cache ("AMD EPYC" names several generations). */
const char *sb_cpu_signature(void);

/* The cache file's path, or NULL with why (no HOME and no XDG_CACHE_HOME); $SPECBIAS_PEAK_CACHE
 * overrides it ("off" disables the cache). */
const char *sb_peak_cache_path(char *why, size_t whylen);

/* The stability rule, apart for its test: rates[0..n) of the trials so far; 1 when at least
 * `min_trials` ran and the best three agree within `tolerance` (relative to the best). *best
 * and *spread describe the best three. */
int sb_peak_stable(const double *rates, int n, int min_trials, double tolerance, double *best,
                   double *spread);

#endif
