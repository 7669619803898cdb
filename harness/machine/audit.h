/* The machine audit of a run (results.json's context.audit): what could make its timings
 * differ from another run's on paper-identical hardware. Facts at the start (nominal and
 * measured clock, the core-to-core round trip, frequency governor, boost/turbo, SMT, load
 * average) and over the run (steal
 * time of the run's CPUs, CPU time other processes took on them, involuntary context
 * switches), with "disturbed" and the warnings that say why.
 *
 * sysfs is read under $SPECBIAS_SYSFS_ROOT (default /sys), so tests can present a machine
 * with a cpufreq driver, boost and SMT to code running on one without. */
#ifndef SPECBIAS_HARNESS_AUDIT_H
#define SPECBIAS_HARNESS_AUDIT_H

#include <jansson.h>
#include <stddef.h>

#define SB_AUDIT_MAX_CPUS 1024

/* Jiffies of some CPUs from /proc/stat. */
struct sb_cpu_times {
    unsigned long long busy, steal, total; /* busy: user+nice+system+irq+softirq */
    int ncpus;                             /* of the wanted ones found */
};

struct sb_audit {
    int cpus[SB_AUDIT_MAX_CPUS], ncpus; /* OS indices of the run's CPUs */
    int logical_cpus;
    double wall0, own0; /* start: monotonic seconds; the process's CPU seconds */
    long nivcsw0;
    struct sb_cpu_times t0;
};

/* The audit's start: `cpus` (a JSON array of OS CPU indices, context.binding.cpus) are the
 * CPUs the run's `threads` threads use; the clock is measured on min(threads, cores) threads
 * at once. Returns the object for context.audit. */
json_t *sb_audit_start(struct sb_audit *a, const json_t *cpus, int threads);

/* Fills the over-the-run part of `audit` (steal, others, context switches) from the start up
 * to now, and "disturbed" and "warnings". Called after every experiment, so that an
 * interrupted run has it too. */
void sb_audit_update(json_t *audit, const struct sb_audit *a);

/* The measured clock alone: dependent register-to-register integer adds (one cycle each on
 * every current core; add-immediate chains are folded at rename on newer Intel cores),
 * best of 5 short trials per thread on `threads` threads at once; MHz per thread into mhz[].
 * Returns 0, or -1 when this architecture has no such probe here. */
int sb_audit_clock(int threads, double *mhz);
/* The round trip of a cache line between two CPUs: two threads, bound one to each, hand it
 * back and forth, `trials` trials of 1000 round trips (after one not kept) into ns[] (ns a
 * round trip each). Returns `trials`, or -1 with the reason in `why` (a thread could not be
 * started or bound, or the other CPU's thread did not start or answer within 50 ms: something
 * else runs there). The calling thread's affinity is not touched. The audit records the median
 * of SB_AUDIT_C2C_TRIALS between the run's first two CPUs, trying three times
 * (context.audit.core_to_core): what a thread pays at the least to see another's write, at a
 * barrier or a reduction's turn, and so part of how a training on several threads scales. */
#define SB_AUDIT_C2C_TRIALS 7
int sb_audit_core_to_core(int cpu_a, int cpu_b, int trials, double *ns, char *why, size_t whylen);

/* Whether a probed clock could be a clock (100 MHz to 10 GHz); the audit records an
 * implausible one as unknown, with the figure in its reason. */
int sb_audit_clock_plausible(double mhz);

/* Whether other work loaded the machine at the start: the 1-minute load average above the
 * logical CPUs, and (when known, >= 0) other processes' tasks runnable at that moment. The
 * load average alone remembers the last minute, so a run that starts right after another (a
 * loop of runs, scripts/gate) would count its predecessor. For tests too. */
int sb_audit_loaded_at_start(double load1, int others_runnable, int logical_cpus);
/* Runnable tasks of other processes now: /proc/loadavg's count of runnable tasks (`text`, its
 * content) less this process's threads in state R (`own_running`); -1 when unknown. */
int sb_audit_others_runnable(const char *text, int own_running);

/* Sums /proc/stat's lines "cpuN ..." of the wanted CPUs in `text`. For tests too. */
void sb_audit_parse_stat(const char *text, const int *cpus, int ncpus, struct sb_cpu_times *t);

/* The thresholds behind "disturbed" (compare and report use the same). */
#define SB_AUDIT_STEAL_LIMIT 0.05  /* of the run's CPU time */
#define SB_AUDIT_OTHERS_LIMIT 0.05 /* of the run's CPU time, taken by other processes */
#define SB_AUDIT_FLOOR_S 0.2       /* seconds of steal or others' time below which neither counts */

#endif
