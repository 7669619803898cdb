/* specbias fleet task DIR: one task of a fleet's job array, run by DIR/task.sh on its node.
 * It runs `specbias run` for its machine kind into DIR/tasks/MACHINE/JOB-TASK and records how
 * that went in DIR/state/JOB-TASK.json. */
#define _GNU_SOURCE
#include "harness/cli/cli.h"
#include "harness/cli/fleet.h"
#include "harness/cli/run.h"
#include "harness/cli/run_child.h"
#include "harness/results/results.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t got_signal = 0;

/* Slurm signals every process of the job (scancel, the time limit): the run child has its own
 * SIGTERM and stops between steps, keeping what finished. This process only notes it: passing
 * it on would be a second signal, which makes a run leave at once. */
static void on_signal(int sig)
{
    if (!got_signal) got_signal = sig;
}

static const char *str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* The last line of the task's own stderr (Slurm's log file) that a specbias command wrote:
 * why the run failed, in its own words. */
static void last_message(const char *log, char *buf, size_t len)
{
    buf[0] = 0;
    FILE *f = fopen(log, "r");
    if (!f) return;
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        if (!strncmp(line, "specbias ", 9) && !strstr(line, "warning:") &&
            strncmp(line, "specbias fleet task:", 20))
            snprintf(buf, len, "%s", line);
    }
    fclose(f);
}

/* Microseconds since the epoch: when tasks overlapped, for a log or a test (an integer: the
 * JSON writer rounds reals to fewer digits than that needs). */
static double wall_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (double)t.tv_sec * 1e6 + (double)(t.tv_nsec / 1000);
}

/* DIR/state/STEM.json. ended: 0 while the run goes on. */
static int write_state(const char *dir, const char *stem, const char *state, const char *node,
                       const char *reason, int exit_code, const char *results, double started,
                       double ended)
{
    char sdir[PATH_MAX + 16], err[4400], date[32], start[32];
    snprintf(sdir, sizeof sdir, "%s/state", dir);
    const time_t now = time(NULL), st = (time_t)(started / 1e6);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    strftime(start, sizeof start, "%Y-%m-%dT%H:%M:%SZ", gmtime(&st));
    json_t *doc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:I, s:o}", "state", state,
                            "node", node, "reason", reason, "started", start, "date", date,
                            "exit_code", exit_code >= 0 ? json_integer(exit_code) : json_null(),
                            "results", results ? json_string(results) : json_null(),
                            "started_us", (json_int_t)started,
                            "ended_us", ended > 0 ? json_integer((json_int_t)ended) : json_null());
    const int rc = doc ? sb_json_file_write(doc, sdir, stem, err, sizeof err) : -1;
    if (rc) fprintf(stderr, "specbias fleet task: cannot record its state: %s\n", doc ? err : "out of memory");
    json_decref(doc);
    return rc;
}

int sb_fleet_task(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: specbias fleet task DIR (run by DIR/task.sh inside a Slurm array "
                        "task; `specbias fleet submit` writes both)\n");
        return SB_EXIT_USAGE;
    }
    /* first: a scancel from here on must not kill this process before it says so */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    const char *dir = argv[1];
    const char *job = getenv("SLURM_ARRAY_JOB_ID"), *task = getenv("SLURM_ARRAY_TASK_ID");
    if (!job || !task) {
        fprintf(stderr, "specbias fleet task: not inside a Slurm array task "
                        "(SLURM_ARRAY_JOB_ID and SLURM_ARRAY_TASK_ID are not set)\n");
        return SB_EXIT_USAGE;
    }
    char err[4400];
    json_t *fleet = sb_fleet_load(dir, err, sizeof err);
    if (!fleet) {
        fprintf(stderr, "specbias fleet task: %s\n", err);
        return SB_EXIT_USAGE;
    }
    char *end;
    const long i = strtol(task, &end, 10);
    const json_t *t = json_array_get(json_object_get(fleet, "tasks"), (size_t)(i < 0 ? 0 : i));
    if (*end || i < 0 || !t) {
        fprintf(stderr, "specbias fleet task: array task %s is not a task of %s/fleet.json\n",
                task, dir);
        json_decref(fleet);
        return SB_EXIT_USAGE;
    }
    const char *machine = str(t, "machine");
    const json_t *m = NULL, *mj;
    size_t k;
    json_array_foreach(json_object_get(fleet, "machines"), k, mj)
        if (str(mj, "name") && !strcmp(str(mj, "name"), machine)) m = mj;
    char node[256] = "unknown", stem[160], out[PATH_MAX], results[PATH_MAX + 16], log[PATH_MAX];
    gethostname(node, sizeof node - 1);
    const char *slurm_node = getenv("SLURMD_NODENAME");
    if (slurm_node && *slurm_node) snprintf(node, sizeof node, "%s", slurm_node);
    snprintf(stem, sizeof stem, "%s-%ld", job, i);
    snprintf(out, sizeof out, "%s/tasks/%s/%s", dir, machine, stem);
    snprintf(results, sizeof results, "tasks/%s/%s/results.json", machine, stem);
    snprintf(log, sizeof log, "%s/logs/%s.err", dir, stem);
    const double started = wall_now();

    /* What the run records of where it ran (context.slurm), beside Slurm's own variables. */
    char set[32];
    snprintf(set, sizeof set, "%lld", (long long)json_integer_value(json_object_get(t, "set")));
    setenv("SPECBIAS_FLEET_MACHINE", machine, 1);
    setenv("SPECBIAS_FLEET_SET", set, 1);
    setenv("SPECBIAS_FLEET_DIR", dir, 1);
    if (m && str(m, "constraint"))
        setenv("SPECBIAS_FLEET_CONSTRAINT", str(m, "constraint"), 1);
    else
        unsetenv("SPECBIAS_FLEET_CONSTRAINT");

    struct sb_argv a = {0};
    const json_t *ro = json_object_get(fleet, "run_options");
    int oom = sb_argv_addf(&a, "specbias") || sb_argv_addf(&a, "run") ||
              sb_argv_addf(&a, "--suite") || sb_argv_addf(&a, "%s", str(fleet, "suite")) ||
              sb_argv_addf(&a, "--out") || sb_argv_addf(&a, "%s", out);
    static const char *const pass[] = {"filter", "seed", "seeds", "steps", "repetitions", "threads",
                                       NULL};
    for (const char *const *p = pass; *p && !oom; p++)
        if (str(ro, *p)) oom = sb_argv_addf(&a, "--%s", *p) || sb_argv_addf(&a, "%s", str(ro, *p));
    if (!oom && m && str(m, "isa")) oom = sb_argv_addf(&a, "--isa") || sb_argv_addf(&a, "%s", str(m, "isa"));
    if (oom || !str(fleet, "suite")) {
        fprintf(stderr, "specbias fleet task: %s\n", oom ? "out of memory" : "fleet.json has no suite");
        sb_argv_free(&a);
        json_decref(fleet);
        return SB_EXIT_FAILED;
    }
    fprintf(stderr, "specbias fleet task: task %ld of job %s, machine %s set %s, on %s\n", i, job,
            machine, set, node);
    write_state(dir, stem, "running", node, "", -1, NULL, started, 0);
    char why[600];
    /* a signal before the run started: it is not started at all */
    const int rc = got_signal ? 128 + (int)got_signal
                              : sb_child_run(&a, SB_CHILD_STDOUT_KEEP, why, sizeof why);
    fflush(stderr);
    const int kept = access(out, F_OK) == 0;
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/results.json", out);
    const int have_results = kept && access(path, R_OK) == 0;
    const char *state;
    char reason[1400];
    if (rc == 0) {
        state = "done";
        reason[0] = 0;
    } else if (got_signal || rc == 128 + SIGTERM || rc == 128 + SIGINT) {
        state = "interrupted";
        snprintf(reason, sizeof reason, "stopped by signal %d (scancel or the time limit)%s",
                 got_signal ? (int)got_signal : rc - 128,
                 have_results ? "; the experiments it finished are kept" : "");
    } else {
        state = "failed";
        char msg[1024];
        last_message(log, msg, sizeof msg);
        if (rc < 0)
            snprintf(reason, sizeof reason, "%s", why);
        else
            snprintf(reason, sizeof reason, "specbias run exited %d%s%s", rc, *msg ? ": " : "",
                     msg);
    }
    write_state(dir, stem, state, node, reason, rc, have_results ? results : NULL, started,
                wall_now());
    sb_argv_free(&a);
    json_decref(fleet);
    return rc == 0 ? SB_EXIT_OK : rc > 0 && rc < 128 ? rc : SB_EXIT_FAILED;
}
