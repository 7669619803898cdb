#define _GNU_SOURCE
#include "harness/machine/counters.h"
#include "harness/util/util.h"

#include <dirent.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <papi.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Linux's generic events, by perf's names, and the PAPI names that count the same thing (the
 * first is the one tried for the generic name). */
static const struct generic_event {
    const char *name;
    uint32_t type;
    uint64_t config;
    const char *papi[3];
} generic[] = {
    {"task-clock", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK, {"perf::TASK-CLOCK"}},
    {"cpu-clock", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK, {"perf::CPU-CLOCK"}},
    {"page-faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS, {"perf::PAGE-FAULTS", "perf::FAULTS"}},
    {"minor-faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS_MIN, {"perf::MINOR-FAULTS"}},
    {"major-faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS_MAJ, {"perf::MAJOR-FAULTS"}},
    {"context-switches", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES,
     {"perf::CONTEXT-SWITCHES", "perf::CS"}},
    {"cpu-migrations", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_MIGRATIONS,
     {"perf::CPU-MIGRATIONS", "perf::MIGRATIONS"}},
    {"cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES, {"PAPI_TOT_CYC", "perf::CYCLES", "perf::CPU-CYCLES"}},
    {"instructions", PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS, {"PAPI_TOT_INS", "perf::INSTRUCTIONS"}},
    {"cache-references", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_REFERENCES, {"perf::CACHE-REFERENCES"}},
    {"cache-misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_MISSES, {"perf::CACHE-MISSES"}},
    {"branches", PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_INSTRUCTIONS,
     {"PAPI_BR_INS", "perf::BRANCHES", "perf::BRANCH-INSTRUCTIONS"}},
    {"branch-misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_MISSES, {"PAPI_BR_MSP", "perf::BRANCH-MISSES"}},
};
#define N_GENERIC (sizeof generic / sizeof generic[0])

const char sb_counters_probe_list[] =
    "task-clock,page-faults,context-switches,cpu-migrations,cycles,instructions,"
    "cache-references,cache-misses,branch-misses,PAPI_SP_OPS";

/* The generic event `name` is, or has as a PAPI equivalent (PAPI's names are case-blind). */
static const struct generic_event *find_generic(const char *name, int *is_generic_name)
{
    *is_generic_name = 0;
    for (size_t i = 0; i < N_GENERIC; i++) {
        if (!strcmp(name, generic[i].name)) {
            *is_generic_name = 1;
            return &generic[i];
        }
        for (size_t j = 0; j < 3 && generic[i].papi[j]; j++)
            if (!strcasecmp(name, generic[i].papi[j])) return &generic[i];
    }
    return NULL;
}

/* ---- PAPI ------------------------------------------------------------------------------ */

static int papi_state; /* 0 not tried, 1 ready, -1 failed (papi_why says why) */
static char papi_why[256];

static int papi_ready(void)
{
    if (papi_state) return papi_state > 0;
    const int ver = PAPI_library_init(PAPI_VER_CURRENT);
    if (ver == PAPI_VER_CURRENT) {
        papi_state = 1;
    } else {
        papi_state = -1;
        snprintf(papi_why, sizeof papi_why, "PAPI_library_init failed: %s",
                 ver > 0 ? "library version mismatch" : PAPI_strerror(ver));
    }
    return papi_state > 0;
}

/* Why PAPI cannot look up or count CPU events at all here: its perf_event component disabled
 * (libpfm4 does not know the CPU), with PAPI's reason; NULL when it is enabled. */
static const char *papi_perf_component_disabled(void)
{
    static char why[320];
    const int cidx = PAPI_get_component_index("perf_event");
    const PAPI_component_info_t *ci = cidx >= 0 ? PAPI_get_component_info(cidx) : NULL;
    if (cidx < 0 || !ci) return "PAPI was built without its perf_event component";
    if (!ci->disabled) return NULL;
    snprintf(why, sizeof why, "PAPI's perf_event component is disabled: %.200s",
             ci->disabled_reason[0] ? ci->disabled_reason : PAPI_strerror(ci->disabled));
    return why;
}

/* Tries `name` alone in a PAPI event set of its own. Returns 0 with *code, or -1 with why. */
static int papi_try(const char *name, int *code, char *why, size_t whylen)
{
    if (!papi_ready()) {
        snprintf(why, whylen, "%s", papi_why);
        return -1;
    }
    int set = PAPI_NULL, rc;
    const char *step = "PAPI_event_name_to_code";
    rc = PAPI_event_name_to_code(name, code);
    if (rc == PAPI_OK) step = "PAPI_create_eventset", rc = PAPI_create_eventset(&set);
    if (rc == PAPI_OK) step = "PAPI_add_event", rc = PAPI_add_event(set, *code);
    if (rc == PAPI_OK) step = "PAPI_start", rc = PAPI_start(set);
    long long v;
    if (rc == PAPI_OK) step = "PAPI_stop", rc = PAPI_stop(set, &v);
    if (set != PAPI_NULL) {
        PAPI_cleanup_eventset(set);
        PAPI_destroy_eventset(&set);
    }
    if (rc == PAPI_OK) return 0;
    /* "Event does not exist" misleads when the component that would know it is disabled. */
    const char *disabled = papi_perf_component_disabled();
    if (disabled && (rc == PAPI_ENOEVNT || rc == PAPI_ECMP || rc == PAPI_ENOCMP ||
                     rc == PAPI_ECMP_DISABLED))
        snprintf(why, whylen, "%s", disabled);
    else
        snprintf(why, whylen, "PAPI: %s (%s)", PAPI_strerror(rc), step);
    return -1;
}

/* ---- perf_event_open ------------------------------------------------------------------- */

struct perf_read {
    uint64_t value, enabled, running;
};

static int perf_open(const struct generic_event *g)
{
    struct perf_event_attr a;
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    a.type = g->type;
    a.config = g->config;
    a.disabled = 1;
    /* User mode only, as PAPI counts by default; it also needs no privilege at
     * perf_event_paranoid 2, Debian's default. */
    a.exclude_kernel = 1;
    a.exclude_hv = 1;
    a.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
    return (int)syscall(SYS_perf_event_open, &a, 0 /* this thread */, -1, -1, 0);
}

/* Whether the kernel registered a CPU PMU (x86 "cpu", hybrid "cpu_core"/"cpu_atom", Arm
 * "armv8_pmuv3*"...) in /sys/bus/event_source/devices; -1 when that folder cannot be read. */
static int have_cpu_pmu(void)
{
    static const char *const prefixes[] = {"cpu", "armv8", "armv7", "arm_cortex", "apple_", NULL};
    DIR *d = opendir("/sys/bus/event_source/devices");
    if (!d) return -1;
    int found = 0;
    struct dirent *e;
    while (!found && (e = readdir(d)))
        for (const char *const *p = prefixes; *p && !found; p++)
            found = !strncmp(e->d_name, *p, strlen(*p));
    closedir(d);
    return found;
}

/* Tries `g` alone with perf_event_open. Returns the descriptor, or -1 with the kernel's
 * answer and what it means. */
static int perf_try(const struct generic_event *g, char *why, size_t whylen)
{
    const int fd = perf_open(g);
    const int e = errno;
    struct perf_read r;
    if (fd >= 0 && ioctl(fd, PERF_EVENT_IOC_ENABLE, 0) == 0 &&
        ioctl(fd, PERF_EVENT_IOC_DISABLE, 0) == 0 && read(fd, &r, sizeof r) == (ssize_t)sizeof r)
        return fd;
    if (fd >= 0) {
        snprintf(why, whylen, "perf_event_open: %s opens but cannot be read: %s", g->name,
                 strerror(errno));
        close(fd);
        return -1;
    }
    const char *hw = g->type == PERF_TYPE_HARDWARE ? "hardware" : "software";
    if (e == EACCES || e == EPERM) {
        int paranoid = -99;
        FILE *f = fopen("/proc/sys/kernel/perf_event_paranoid", "r");
        if (f) {
            if (fscanf(f, "%d", &paranoid) != 1) paranoid = -99;
            fclose(f);
        }
        snprintf(why, whylen,
                 "perf_event_open(%s %s): %s: kernel.perf_event_paranoid is %d (run as root, or "
                 "set it to 2 or lower)",
                 hw, g->name, strerror(e), paranoid);
    } else if (e == ENOSYS) {
        snprintf(why, whylen, "perf_event_open: this kernel has no perf events (%s)", strerror(e));
    } else if (g->type == PERF_TYPE_HARDWARE && (e == ENOENT || e == EOPNOTSUPP || e == ENODEV)) {
        snprintf(why, whylen,
                 "perf_event_open(hardware %s): %s: the kernel exposes no hardware counter for "
                 "it%s",
                 g->name, strerror(e),
                 have_cpu_pmu() == 0 ? " (no CPU PMU in /sys/bus/event_source/devices: a VM "
                                       "without a virtual PMU)"
                                     : "");
    } else {
        snprintf(why, whylen, "perf_event_open(%s %s): %s", hw, g->name, strerror(e));
    }
    return -1;
}

static long long perf_value(int fd)
{
    struct perf_read r;
    if (read(fd, &r, sizeof r) != (ssize_t)sizeof r) return 0;
    /* Multiplexed (more hardware events than counters): scale to the time enabled, as perf. */
    if (r.running > 0 && r.running < r.enabled)
        return (long long)((double)r.value * (double)r.enabled / (double)r.running);
    return (long long)r.value;
}

/* ---- the list -------------------------------------------------------------------------- */

static int sources_allowed(void)
{
    const char *s = getenv("SPECBIAS_COUNTER_SOURCES");
    if (!s || !*s) return SB_SOURCE_PAPI | SB_SOURCE_PERF;
    int m = 0;
    if (strstr(s, "papi")) m |= SB_SOURCE_PAPI;
    if (strstr(s, "perf_event")) m |= SB_SOURCE_PERF;
    return m ? m : SB_SOURCE_PAPI | SB_SOURCE_PERF;
}

/* The known name closest to `name`, or NULL when none is close. */
static const char *suggest(const char *name)
{
    const char *best = NULL;
    size_t bd = 4;
    for (size_t i = 0; i < N_GENERIC; i++) {
        const char *cands[4] = {generic[i].name, generic[i].papi[0], generic[i].papi[1],
                                generic[i].papi[2]};
        for (size_t j = 0; j < 4; j++) {
            if (!cands[j]) continue;
            const size_t d = sb_edit_distance(name, cands[j]);
            if (d < bd) bd = d, best = cands[j];
        }
    }
    return best;
}

static json_t *event_json(const char *name, const char *status, const char *source,
                          const char *via, const char *reason)
{
    json_t *e = json_pack("{s:s, s:s}", "name", name, "status", status);
    if (source) json_object_set_new(e, "source", json_string(source));
    if (via) json_object_set_new(e, "counted_as", json_string(via));
    if (reason) json_object_set_new(e, "reason", json_string(reason));
    return e;
}

/* One event of the list: counted by PAPI (preferred) or perf_event_open, into c, or recorded
 * as unavailable with both reasons (and warned about, when warn is not NULL). */
static void open_event(struct sb_counters *c, const char *name, int allowed, json_t *events,
                       FILE *warn, const char *who)
{
    int is_generic;
    const struct generic_event *g = find_generic(name, &is_generic);
    const char *papi_name = is_generic ? g->papi[0] : name;
    char why_papi[400] = "", why_perf[400] = "", why[900];
    int code = 0, counted = 0;
    /* PAPI first: it knows native events and presets; then the kernel's generic event. */
    if (allowed & SB_SOURCE_PAPI) {
        if (papi_try(papi_name, &code, why_papi, sizeof why_papi) == 0) {
            if (c->n_papi == 0 && PAPI_create_eventset(&c->papi_set) != PAPI_OK)
                snprintf(why_papi, sizeof why_papi, "PAPI: cannot create an event set");
            else if (PAPI_add_event(c->papi_set, code) != PAPI_OK)
                snprintf(why_papi, sizeof why_papi,
                         "PAPI: cannot be counted together with the PAPI events before it");
            else
                counted = SB_SOURCE_PAPI;
        }
    } else {
        snprintf(why_papi, sizeof why_papi, "PAPI not used (SPECBIAS_COUNTER_SOURCES)");
    }
    if (!counted && g && (allowed & SB_SOURCE_PERF)) {
        const int fd = perf_try(g, why_perf, sizeof why_perf);
        if (fd >= 0) {
            c->fd[c->n] = fd;
            counted = SB_SOURCE_PERF;
        }
    } else if (!counted && g) {
        snprintf(why_perf, sizeof why_perf, "perf_event not used (SPECBIAS_COUNTER_SOURCES)");
    }
    if (counted) {
        c->source[c->n] = counted;
        if (counted == SB_SOURCE_PAPI) c->n_papi++;
        snprintf(c->names[c->n++], sizeof c->names[0], "%s", name);
        json_array_append_new(
            events, event_json(name, "counted", counted == SB_SOURCE_PAPI ? "papi" : "perf_event",
                               counted == SB_SOURCE_PAPI ? papi_name : g->name, NULL));
        return;
    }
    int unknown = 0;
    if (g) {
        snprintf(why, sizeof why, "%s; %s", why_papi, why_perf);
    } else {
        /* Neither a generic name nor one PAPI could use: a typo, or a native event of a
         * PMU PAPI cannot see here. */
        unknown = strstr(why_papi, "PAPI_event_name_to_code") || strstr(why_papi, "is disabled");
        const char *close = suggest(name);
        snprintf(why, sizeof why, "%s; not one of perf's generic events either (%s%s%s)",
                 why_papi, close ? "did you mean " : "task-clock, instructions, ...",
                 close ? close : "", close ? "?" : "");
    }
    json_array_append_new(events, event_json(name, "unavailable", NULL, NULL, why));
    if (warn)
        fprintf(warn, "%s: warning: counter '%s' %s: %s\n", who, name,
                unknown ? "is unknown here" : "cannot be counted", why);
}

int sb_counters_open(struct sb_counters *c, const char *list, FILE *warn, const char *who,
                     char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    c->papi_set = PAPI_NULL;
    for (size_t i = 0; i < SB_MAX_COUNTERS; i++) c->fd[i] = -1;
    json_t *events = json_array();
    c->status = json_pack("{s:s, s:s, s:o}", "status", "unavailable", "scope",
                          "main thread, user mode, training steps only (evaluation excluded)",
                          "events", events);
    const int allowed = sources_allowed();
    char buf[1024];
    if (snprintf(buf, sizeof buf, "%s", list) >= (int)sizeof buf) {
        snprintf(err, errlen, "--counters: the list is longer than %zu characters", sizeof buf - 1);
        sb_counters_close(c);
        return -1;
    }
    size_t wanted = 0;
    /* Split by hand: strtok would skip an empty name ("a,,b"), which is a typo to report. */
    for (char *name = buf, *next; name; name = next) {
        next = strchr(name, ',');
        if (next) *next++ = 0;
        if (!*name || strlen(name) >= sizeof c->names[0]) {
            snprintf(err, errlen, "--counters: bad event name in '%s'", list);
            sb_counters_close(c);
            return -1;
        }
        if (++wanted > SB_MAX_COUNTERS) {
            snprintf(err, errlen, "--counters: at most %d events", SB_MAX_COUNTERS);
            sb_counters_close(c);
            return -1;
        }
        for (size_t k = 0; k < c->n; k++)
            if (!strcmp(c->names[k], name)) {
                snprintf(err, errlen, "--counters: '%s' is named twice", name);
                sb_counters_close(c);
                return -1;
            }
        open_event(c, name, allowed, events, warn, who);
    }
    if (wanted == 0) {
        snprintf(err, errlen, "--counters: no event named in '%s'", list);
        sb_counters_close(c);
        return -1;
    }
    const char *overall = c->n == wanted ? "counted" : c->n ? "partial" : "unavailable";
    json_object_set_new(c->status, "status", json_string(overall));
    if (c->n < wanted)
        json_object_set_new(c->status, "reason",
                            json_string("some events cannot be counted here; see events[].reason"));
    return 0;
}

/* Reads every event into v[] in list order. */
static void read_all(struct sb_counters *c, long long *v)
{
    long long papi[SB_MAX_COUNTERS] = {0};
    if (c->n_papi) PAPI_read(c->papi_set, papi);
    for (size_t i = 0, p = 0; i < c->n; i++)
        v[i] = c->source[i] == SB_SOURCE_PAPI ? papi[p++] : perf_value(c->fd[i]);
}

void sb_counters_start(struct sb_counters *c)
{
    memset(c->eval, 0, sizeof c->eval);
    if (c->n_papi) PAPI_start(c->papi_set);
    for (size_t i = 0; i < c->n; i++)
        if (c->fd[i] >= 0) {
            ioctl(c->fd[i], PERF_EVENT_IOC_RESET, 0);
            ioctl(c->fd[i], PERF_EVENT_IOC_ENABLE, 0);
        }
}

void sb_counters_pause(struct sb_counters *c)
{
    if (c->n) read_all(c, c->mark);
}

void sb_counters_resume(struct sb_counters *c)
{
    long long now[SB_MAX_COUNTERS] = {0};
    if (!c->n) return;
    read_all(c, now);
    for (size_t i = 0; i < c->n; i++) c->eval[i] += now[i] - c->mark[i];
}

void sb_counters_stop(struct sb_counters *c, struct sb_counter_values *out)
{
    long long total[SB_MAX_COUNTERS] = {0}, papi[SB_MAX_COUNTERS] = {0};
    out->n = 0;
    if (!c->n) return;
    if (c->n_papi) PAPI_stop(c->papi_set, papi);
    for (size_t i = 0, p = 0; i < c->n; i++) {
        if (c->source[i] == SB_SOURCE_PAPI) {
            total[i] = papi[p++];
        } else {
            ioctl(c->fd[i], PERF_EVENT_IOC_DISABLE, 0);
            total[i] = perf_value(c->fd[i]);
        }
        out->names[out->n] = c->names[i];
        out->counts[out->n++] = total[i] - c->eval[i];
    }
}

void sb_counters_close(struct sb_counters *c)
{
    if (c->n_papi) {
        PAPI_cleanup_eventset(c->papi_set);
        PAPI_destroy_eventset(&c->papi_set);
    }
    for (size_t i = 0; i < SB_MAX_COUNTERS; i++)
        if (c->fd[i] >= 0) close(c->fd[i]), c->fd[i] = -1;
    json_decref(c->status);
    c->n = c->n_papi = 0;
    c->status = NULL;
}
