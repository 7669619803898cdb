#define _GNU_SOURCE
#include "harness/machine/audit.h"

#include "harness/machine/peak.h"
#include "harness/util/util.h"
#include "specbias/kernels.h"

#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static const char *sysfs_root(void)
{
    const char *r = getenv("SPECBIAS_SYSFS_ROOT");
    return r && *r ? r : "/sys";
}

/* The first line of a sysfs file under the root, without its newline; 0 when it exists. */
static int read_sys(const char *rel, char *buf, size_t n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", sysfs_root(), rel);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    const int ok = fgets(buf, (int)n, f) != NULL;
    fclose(f);
    if (!ok) return -1;
    buf[strcspn(buf, "\n")] = 0;
    return 0;
}

static char *read_whole(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        const size_t got = fread(buf + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0) break;
        if (len + 1 == cap) {
            char *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf) buf[len] = 0;
    return buf;
}

void sb_audit_parse_stat(const char *text, const int *cpus, int ncpus, struct sb_cpu_times *t)
{
    memset(t, 0, sizeof *t);
    for (const char *line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
        int cpu;
        unsigned long long v[10] = {0};
        if (strncmp(line, "cpu", 3) != 0 || line[3] < '0' || line[3] > '9') continue;
        const int got = sscanf(line + 3, "%d %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &cpu,
                               &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]);
        if (got < 5) continue;
        int wanted = 0;
        for (int i = 0; i < ncpus && !wanted; i++) wanted = cpus[i] == cpu;
        if (!wanted) continue;
        /* user nice system idle iowait irq softirq steal guest guest_nice; guest time is
         * already inside user and nice. */
        t->busy += v[0] + v[1] + v[2] + v[5] + v[6];
        t->steal += v[7];
        t->total += v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
        t->ncpus++;
    }
}

static void cpu_times(const struct sb_audit *a, struct sb_cpu_times *t)
{
    char *text = read_whole("/proc/stat");
    if (text) sb_audit_parse_stat(text, a->cpus, a->ncpus, t);
    else memset(t, 0, sizeof *t);
    free(text);
}

/* CPU seconds of this process (every thread), and its involuntary context switches. */
static double own_cpu_seconds(long *nivcsw)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru)) {
        *nivcsw = 0;
        return 0.0;
    }
    *nivcsw = ru.ru_nivcsw;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

/* ---- the clock ------------------------------------------------------------------------- */

#define CHAIN 200

/* reps x CHAIN dependent adds: CHAIN cycles a rep on any core that adds in one cycle. The
 * addend is a register, not an immediate: Intel cores since Golden Cove fold chains of
 * add-immediate at rename, several a cycle (a 2.6 GHz Xeon with AMX ran `addq $1` chains at
 * 24 GHz and `addq %reg` chains at 4.0 GHz, as fast as 3-cycle imul chains showed). */
static uint64_t add_chain(uint64_t x, uint64_t one, long reps)
{
    for (long i = 0; i < reps; i++) {
#if defined(__x86_64__)
        __asm__ volatile(".rept 200\n\taddq %1, %0\n\t.endr" : "+r"(x) : "r"(one));
#elif defined(__aarch64__)
        __asm__ volatile(".rept 200\n\tadd %0, %0, %1\n\t.endr" : "+r"(x) : "r"(one));
#else
        (void)one;
#endif
    }
    return x;
}

int sb_audit_clock(int threads, double *mhz)
{
#if !defined(__x86_64__) && !defined(__aarch64__)
    (void)threads, (void)mhz;
    return -1;
#else
    volatile uint64_t keep = 0, opaque_one = 1;
#pragma omp parallel num_threads(threads)
    {
        uint64_t x = (uint64_t)omp_get_thread_num();
        const uint64_t one = opaque_one;
        /* Warm up 5 ms (clock ramp), sizing a trial at about 1 ms. */
        long reps = 0;
        const double w0 = sb_now();
        while (sb_now() - w0 < 0.005) x = add_chain(x, one, 100), reps += 100;
        reps /= 5;
        if (reps < 1) reps = 1;
        double best = 0.0;
        for (int trial = 0; trial < 5; trial++) {
            const double t0 = sb_now();
            x = add_chain(x, one, reps);
            const double dt = sb_now() - t0;
            const double m = (double)reps * CHAIN / dt / 1e6;
            if (m > best) best = m;
        }
        mhz[omp_get_thread_num()] = best;
#pragma omp atomic
        keep += x;
    }
    (void)keep;
    return 0;
#endif
}

int sb_audit_clock_plausible(double mhz)
{
    return mhz > 100.0 && mhz < 10000.0;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static json_t *clock_json(int threads)
{
    json_t *c = json_object();
    /* Nominal: the base frequency the driver reports, the model name's "@ x GHz", or, with
     * no frequency driver, the rate /proc/cpuinfo shows (what the kernel calibrated; the
     * TSC's rate in a VM). */
    char buf[256];
    double nominal = 0.0;
    const char *source = NULL;
    if (read_sys("devices/system/cpu/cpu0/cpufreq/base_frequency", buf, sizeof buf) == 0 &&
        atof(buf) > 0)
        nominal = atof(buf) / 1000.0, source = "cpufreq base_frequency";
    const char *at = strstr(sb_cpu_model(), "@ ");
    if (!nominal && at && atof(at + 2) > 0 && strstr(at, "GHz"))
        nominal = atof(at + 2) * 1000.0, source = "the CPU model name";
    if (!nominal) {
        FILE *f = fopen("/proc/cpuinfo", "r");
        char line[256];
        while (f && fgets(line, sizeof line, f))
            if (!strncmp(line, "cpu MHz", 7) && strchr(line, ':')) {
                nominal = atof(strchr(line, ':') + 1);
                source = "/proc/cpuinfo cpu MHz: no driver or model name gives a base clock; "
                         "the kernel's calibrated rate, in a VM the TSC's";
                break;
            }
        if (f) fclose(f);
    }
    json_object_set_new(c, "nominal_mhz", nominal > 0 ? json_real(nominal) : json_null());
    json_object_set_new(c, "nominal_source", source ? json_string(source) : json_null());
    json_object_set_new(c, "max_mhz",
                        read_sys("devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq", buf,
                                 sizeof buf) == 0 && atof(buf) > 0
                            ? json_real(atof(buf) / 1000.0)
                            : json_null());
    double mhz[SB_AUDIT_MAX_CPUS];
    if (threads > SB_AUDIT_MAX_CPUS) threads = SB_AUDIT_MAX_CPUS;
    const int probed = sb_audit_clock(threads, mhz) == 0;
    if (probed) qsort(mhz, (size_t)threads, sizeof *mhz, cmp_double);
    if (probed && !sb_audit_clock_plausible(mhz[threads / 2])) {
        /* A core that runs the chain faster than one add a cycle would otherwise put a
         * false clock into every comparison of runs. */
        char why[160];
        snprintf(why, sizeof why,
                 "the add chain ran at %.0f MHz, outside the 100 MHz to 10 GHz a clock can be",
                 mhz[threads / 2]);
        json_object_set_new(c, "measured_mhz", json_null());
        json_object_set_new(c, "reason", json_string(why));
    } else if (probed) {
        json_object_set_new(c, "measured_mhz", json_real(mhz[threads / 2]));
        json_object_set_new(c, "measured_mhz_min", json_real(mhz[0]));
        json_object_set_new(c, "measured_mhz_max", json_real(mhz[threads - 1]));
        json_object_set_new(c, "measured_threads", json_integer(threads));
        json_object_set_new(c, "measured_method",
                            json_string("a chain of dependent register-to-register integer adds "
                                        "(1 cycle each), best "
                                        "of 5 x ~1 ms per thread, all threads at once; the "
                                        "median thread"));
    } else {
        json_object_set_new(c, "measured_mhz", json_null());
        json_object_set_new(c, "reason", json_string("no clock probe for this architecture"));
    }
    return c;
}

/* ---- core to core --------------------------------------------------------------------- */

/* Two threads, each bound to one CPU, hand a cache line back and forth: the ping thread writes
 * an odd count, the pong thread answers with the next even one. A round trip moves the line
 * from one core's cache to the other's and back: the least a thread pays to see another's
 * write, and so what a barrier or a reduction's turn costs at the least. */
#define C2C_TRIPS     1000 /* round trips a trial */
#define C2C_TIMEOUT_S 0.05 /* a trial this long: the other CPU is not answering (busy) */

struct c2c {
    _Alignas(64) uint64_t ball;
    _Alignas(64) int stop; /* the ping thread is done: the pong thread returns */
    int cpu[2];            /* ping, pong */
    int pong_bound;        /* 0 not yet, 1 bound, -1 could not be bound */
    int trials, done;
    double *ns;
    char *why;
    size_t whylen;
};

static int bind_self(int cpu)
{
    if (cpu < 0 || cpu >= CPU_SETSIZE) return -1;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static void *c2c_pong(void *p)
{
    struct c2c *c = p;
    __atomic_store_n(&c->pong_bound, bind_self(c->cpu[1]) == 0 ? 1 : -1, __ATOMIC_RELEASE);
    for (;;) {
        const uint64_t b = __atomic_load_n(&c->ball, __ATOMIC_ACQUIRE);
        if (b & 1)
            __atomic_store_n(&c->ball, b + 1, __ATOMIC_RELEASE);
        else if (__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE))
            return NULL;
        /* no pause: it would add its own latency (up to 140 cycles) to every answer */
    }
}

/* One trial of n round trips; its seconds, or a negative number when the pong thread did not
 * answer within C2C_TIMEOUT_S. */
static double c2c_trial(struct c2c *c, int n)
{
    const double t0 = sb_now();
    for (int i = 0; i < n; i++) {
        const uint64_t sent = __atomic_load_n(&c->ball, __ATOMIC_RELAXED) + 1;
        __atomic_store_n(&c->ball, sent, __ATOMIC_RELEASE);
        for (unsigned spins = 1; __atomic_load_n(&c->ball, __ATOMIC_ACQUIRE) == sent; spins++)
            if (spins % 4096 == 0 && sb_now() - t0 > C2C_TIMEOUT_S) return -1.0;
    }
    return sb_now() - t0;
}

static void *c2c_ping(void *p)
{
    struct c2c *c = p;
    if (bind_self(c->cpu[0])) {
        snprintf(c->why, c->whylen, "could not bind a thread to CPU %d", c->cpu[0]);
        return NULL;
    }
    int pong;
    const double t0 = sb_now();
    while (!(pong = __atomic_load_n(&c->pong_bound, __ATOMIC_ACQUIRE)))
        if (sb_now() - t0 > C2C_TIMEOUT_S) {
            snprintf(c->why, c->whylen, "the thread for CPU %d did not start within %.0f ms",
                     c->cpu[1], 1e3 * C2C_TIMEOUT_S);
            return NULL;
        } else {
            sb_spin_pause();
        }
    if (pong < 0) {
        snprintf(c->why, c->whylen, "could not bind a thread to CPU %d", c->cpu[1]);
        return NULL;
    }
    /* the first trial warms both cores up and is not kept */
    for (int t = -1; t < c->trials; t++) {
        const double s = c2c_trial(c, C2C_TRIPS);
        if (s < 0) {
            snprintf(c->why, c->whylen,
                     "CPU %d did not answer within %.0f ms: something else runs there", c->cpu[1],
                     1e3 * C2C_TIMEOUT_S);
            return NULL;
        }
        if (t >= 0) c->ns[c->done++] = s / C2C_TRIPS * 1e9;
    }
    return NULL;
}

int sb_audit_core_to_core(int cpu_a, int cpu_b, int trials, double *ns, char *why, size_t whylen)
{
    if (!why || whylen == 0 || trials < 1 || !ns) {
        if (why && whylen) snprintf(why, whylen, "no trials asked for, or nowhere to put them");
        return -1;
    }
    struct c2c *c = aligned_alloc(64, sizeof *c);
    if (!c) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    *c = (struct c2c){.cpu = {cpu_a, cpu_b}, .trials = trials, .ns = ns, .why = why,
                      .whylen = whylen};
    why[0] = '\0';
    pthread_t ping, pong;
    if (pthread_create(&pong, NULL, c2c_pong, c)) {
        snprintf(why, whylen, "could not start a thread");
        free(c);
        return -1;
    }
    if (pthread_create(&ping, NULL, c2c_ping, c)) {
        snprintf(why, whylen, "could not start a thread");
        __atomic_store_n(&c->stop, 1, __ATOMIC_RELEASE);
        pthread_join(pong, NULL);
        free(c);
        return -1;
    }
    pthread_join(ping, NULL);
    __atomic_store_n(&c->stop, 1, __ATOMIC_RELEASE);
    /* a pong thread still waiting to answer a timed-out trial answers, then sees stop */
    pthread_join(pong, NULL);
    const int done = c->done == trials ? trials : -1;
    free(c);
    return done;
}

static json_t *core_to_core_json(const struct sb_audit *a)
{
    json_t *c = json_object();
    char why[160] = "the run has one CPU: no pair of cores to measure";
    double ns[SB_AUDIT_C2C_TRIALS];
    /* a CPU quota's throttle or a burst of other work can stall a trial past the timeout:
     * three tries before the figure is given up */
    int got = -1;
    for (int attempt = 0; a->ncpus >= 2 && attempt < 3 && got < 0; attempt++)
        got = sb_audit_core_to_core(a->cpus[0], a->cpus[1], SB_AUDIT_C2C_TRIALS, ns, why,
                                    sizeof why);
    if (got < 0) {
        json_object_set_new(c, "round_trip_ns", json_null());
        json_object_set_new(c, "reason", json_string(why));
        return c;
    }
    qsort(ns, SB_AUDIT_C2C_TRIALS, sizeof *ns, cmp_double);
    json_object_set_new(c, "round_trip_ns", json_real(ns[SB_AUDIT_C2C_TRIALS / 2]));
    json_object_set_new(c, "round_trip_ns_min", json_real(ns[0]));
    json_object_set_new(c, "cpus", json_pack("[i, i]", a->cpus[0], a->cpus[1]));
    char method[200];
    snprintf(method, sizeof method,
             "a cache line handed back and forth by two threads bound to the run's first two "
             "CPUs, %d round trips a trial; the median of %d trials after one not kept",
             C2C_TRIPS, SB_AUDIT_C2C_TRIALS);
    json_object_set_new(c, "method", json_string(method));
    return c;
}

/* ---- the facts at the start ------------------------------------------------------------ */

static void governor_json(json_t *audit, const struct sb_audit *a)
{
    char govs[256] = "", buf[64], rel[128];
    int missing = 0;
    for (int i = 0; i < a->ncpus; i++) {
        snprintf(rel, sizeof rel, "devices/system/cpu/cpu%d/cpufreq/scaling_governor", a->cpus[i]);
        if (read_sys(rel, buf, sizeof buf)) {
            missing++;
            continue;
        }
        if (!strstr(govs, buf)) {
            if (govs[0]) strncat(govs, ",", sizeof govs - strlen(govs) - 1);
            strncat(govs, buf, sizeof govs - strlen(govs) - 1);
        }
    }
    json_object_set_new(audit, "governor", govs[0] ? json_string(govs) : json_null());
    if (!govs[0])
        json_object_set_new(audit, "governor_reason",
                            json_string("no cpufreq driver in /sys/devices/system/cpu/cpuN/cpufreq "
                                        "(usual in a VM: the host sets the clock)"));
    else if (missing)
        json_object_set_new(audit, "governor_reason",
                            json_string("some of the run's CPUs have no cpufreq folder"));
}

static void boost_json(json_t *audit)
{
    char buf[64];
    static const struct {
        const char *rel;
        int inverted;
    } files[] = {{"devices/system/cpu/cpufreq/boost", 0},
                 {"devices/system/cpu/cpu0/cpufreq/boost", 0},
                 {"devices/system/cpu/intel_pstate/no_turbo", 1}};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        if (read_sys(files[i].rel, buf, sizeof buf)) continue;
        const int on = (atoi(buf) != 0) != files[i].inverted;
        char src[160];
        snprintf(src, sizeof src, "/sys/%s", files[i].rel);
        json_object_set_new(audit, "boost", json_boolean(on));
        json_object_set_new(audit, "boost_source", json_string(src));
        return;
    }
    json_object_set_new(audit, "boost", json_null());
    json_object_set_new(audit, "boost_reason",
                        json_string("no boost or no_turbo switch in /sys/devices/system/cpu "
                                    "(no cpufreq driver, or one without it)"));
}

/* How many CPUs a kernel CPU list ("0-3,8,10-11") names. */
static int count_cpu_list(const char *s)
{
    int n = 0;
    while (*s) {
        char *end;
        const long lo = strtol(s, &end, 10);
        if (end == s) break;
        long hi = lo;
        if (*end == '-') hi = strtol(end + 1, &end, 10);
        if (hi >= lo) n += (int)(hi - lo + 1);
        s = *end == ',' ? end + 1 : end;
        if (*s && *s != ',' && (*s < '0' || *s > '9')) break;
    }
    return n;
}

static void smt_json(json_t *audit)
{
    char active[16], control[32];
    const int have_a = read_sys("devices/system/cpu/smt/active", active, sizeof active) == 0;
    const int have_c = read_sys("devices/system/cpu/smt/control", control, sizeof control) == 0;
    /* Threads per core from the kernel's topology of CPU 0 ("0,64" or "0-1"). */
    char sib[256];
    int per_core = 0;
    if (read_sys("devices/system/cpu/cpu0/topology/thread_siblings_list", sib, sizeof sib) == 0)
        per_core = count_cpu_list(sib);
    json_object_set_new(audit, "smt",
                        json_pack("{s:o, s:o, s:o}", "active",
                                  have_a ? json_boolean(atoi(active) != 0) : json_null(), "control",
                                  have_c ? json_string(control) : json_null(), "threads_per_core",
                                  per_core ? json_integer(per_core) : json_null()));
}

int sb_audit_loaded_at_start(double load1, int others_runnable, int logical_cpus)
{
    return load1 > logical_cpus && others_runnable != 0;
}

int sb_audit_others_runnable(const char *text, int own_running)
{
    double l1, l5, l15;
    int running, total;
    if (!text || own_running < 0 ||
        sscanf(text, "%lf %lf %lf %d/%d", &l1, &l5, &l15, &running, &total) != 5 || running < 0)
        return -1;
    return running > own_running ? running - own_running : 0;
}

/* This process's threads in state R (running or runnable), from /proc/self/task; -1 when
 * unknown. */
static int own_running_threads(void)
{
    DIR *d = opendir("/proc/self/task");
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[64];
        snprintf(path, sizeof path, "/proc/self/task/%.20s/stat", e->d_name);
        char *text = read_whole(path);
        /* "tid (comm) S ...": comm may hold spaces and parentheses; the state follows the
         * last ')' */
        const char *close = text ? strrchr(text, ')') : NULL;
        if (close && close[1] == ' ' && close[2] == 'R') n++;
        free(text);
    }
    closedir(d);
    return n;
}

json_t *sb_audit_start(struct sb_audit *a, const json_t *cpus, int threads)
{
    memset(a, 0, sizeof *a);
    size_t i;
    json_t *v;
    json_array_foreach(cpus, i, v) if (a->ncpus < SB_AUDIT_MAX_CPUS && json_is_integer(v))
        a->cpus[a->ncpus++] = (int)json_integer_value(v);
    a->logical_cpus = sb_cpus_allowed();
    json_t *audit = json_object();
    json_object_set_new(audit, "logical_cpus", json_integer(a->logical_cpus));
    json_object_set_new(audit, "cpus_used", json_deep_copy(cpus));
    double load[3] = {0, 0, 0};
    char *loadavg = read_whole("/proc/loadavg");
    const int have_load =
        loadavg && sscanf(loadavg, "%lf %lf %lf", &load[0], &load[1], &load[2]) == 3;
    const int others = sb_audit_others_runnable(loadavg, own_running_threads());
    free(loadavg);
    json_object_set_new(audit, "load_average_start",
                        have_load ? json_pack("[f, f, f]", load[0], load[1], load[2]) : json_null());
    json_object_set_new(audit, "others_runnable_start",
                        others >= 0 ? json_integer(others) : json_null());
    const int cores = sb_cores_allowed();
    /* before the clock's parallel region, whose OpenMP workers spin on the run's CPUs for a
     * while after it and would share them with the probe's threads */
    json_t *c2c = core_to_core_json(a);
    json_object_set_new(audit, "clock", clock_json(threads < cores ? threads : cores));
    json_object_set_new(audit, "core_to_core", c2c);
    governor_json(audit, a);
    boost_json(audit);
    smt_json(audit);
    a->wall0 = sb_now();
    a->own0 = own_cpu_seconds(&a->nivcsw0);
    cpu_times(a, &a->t0);
    json_object_set_new(audit, "run", json_null());
    sb_audit_update(audit, a);
    return audit;
}

void sb_audit_update(json_t *audit, const struct sb_audit *a)
{
    struct sb_cpu_times t;
    cpu_times(a, &t);
    long nivcsw;
    const double own = own_cpu_seconds(&nivcsw) - a->own0, wall = sb_now() - a->wall0;
    const double hz = (double)sysconf(_SC_CLK_TCK);
    const double total = (double)(t.total - a->t0.total), steal = (double)(t.steal - a->t0.steal);
    const double busy = (double)(t.busy - a->t0.busy) / hz;
    double others = busy - own;
    if (others < 0) others = 0;
    const double cpu_time = total / hz;
    json_t *run = json_pack("{s:f, s:f, s:f, s:f, s:I}", "seconds", wall, "own_cpu_seconds", own,
                            "steal_seconds", steal / hz, "others_cpu_seconds", others,
                            "involuntary_context_switches", (json_int_t)(nivcsw - a->nivcsw0));
    json_object_set_new(run, "steal_fraction", total > 0 ? json_real(steal / total) : json_null());
    json_object_set_new(run, "others_fraction",
                        cpu_time > 0 ? json_real(others / cpu_time) : json_null());
    if (t.ncpus < a->ncpus)
        json_object_set_new(run, "reason",
                            json_string("/proc/stat lacks some of the run's CPUs: steal and other "
                                        "processes' time are over those it has"));
    json_object_set_new(audit, "run", run);

    json_t *warnings = json_array();
    char w[256];
    /* /proc/stat counts in ticks (10 ms): below SB_AUDIT_FLOOR_S a share means nothing. */
    if (total > 0 && steal / total > SB_AUDIT_STEAL_LIMIT && steal / hz >= SB_AUDIT_FLOOR_S) {
        snprintf(w, sizeof w, "steal time was %.1f %% of the run's CPU time (above %.0f %%): the "
                              "hypervisor ran something else on these CPUs",
                 100.0 * steal / total, 100.0 * SB_AUDIT_STEAL_LIMIT);
        json_array_append_new(warnings, json_string(w));
    }
    if (cpu_time > 0 && others / cpu_time > SB_AUDIT_OTHERS_LIMIT && others >= SB_AUDIT_FLOOR_S) {
        snprintf(w, sizeof w, "other processes took %.1f %% of the run's CPU time on its CPUs "
                              "(above %.0f %%)",
                 100.0 * others / cpu_time, 100.0 * SB_AUDIT_OTHERS_LIMIT);
        json_array_append_new(warnings, json_string(w));
    }
    const json_t *load = json_object_get(audit, "load_average_start");
    const json_t *runnable = json_object_get(audit, "others_runnable_start");
    const int others_runnable = json_is_integer(runnable) ? (int)json_integer_value(runnable) : -1;
    if (json_is_array(load) &&
        sb_audit_loaded_at_start(json_number_value(json_array_get(load, 0)), others_runnable,
                                 a->logical_cpus)) {
        if (others_runnable > 0)
            snprintf(w, sizeof w,
                     "the load average at the start (%.2f) was above the %d logical CPUs, with "
                     "%d task%s of other processes runnable",
                     json_number_value(json_array_get(load, 0)), a->logical_cpus,
                     others_runnable, others_runnable == 1 ? "" : "s");
        else
            snprintf(w, sizeof w,
                     "the load average at the start (%.2f) was above the %d logical CPUs",
                     json_number_value(json_array_get(load, 0)), a->logical_cpus);
        json_array_append_new(warnings, json_string(w));
    }
    json_object_set_new(audit, "disturbed", json_boolean(json_array_size(warnings) > 0));
    json_object_set_new(audit, "warnings", warnings);
}
