/* What the fleet commands share (fleet.h): running Slurm's clients, reading DIR/fleet.json,
 * and each task's state from its state file and Slurm's queue. */
#define _GNU_SOURCE
#include "harness/cli/fleet.h"
#include "harness/util/errmsg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- running a client ---------------------------------------------------------------------- */

/* The whole of an open file from its start, malloc'd and NUL-terminated; NULL out of memory. */
static char *slurp_fd(int fd)
{
    if (fd < 0 || lseek(fd, 0, SEEK_SET) < 0) return strdup("");
    size_t n = 0, cap = 4096;
    char *buf = malloc(cap);
    for (ssize_t got; buf; n += (size_t)got) {
        if (n + 1 >= cap) {
            char *b = realloc(buf, cap *= 2);
            if (!b) {
                free(buf);
                return NULL;
            }
            buf = b;
        }
        got = read(fd, buf + n, cap - n - 1);
        if (got <= 0) break;
    }
    if (buf) buf[n] = 0;
    return buf;
}

/* An unlinked temporary file for a child's output: its descriptor, or -1. */
static int scratch(void)
{
    const char *tmp = getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/specbias-fleet.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    const int fd = mkstemp(path);
    if (fd >= 0) unlink(path);
    return fd;
}

int sb_fleet_exec(const char *const *argv, char **out, char **err)
{
    if (out) *out = NULL;
    if (err) *err = NULL;
    /* Files rather than pipes: a client that writes much to both cannot block on either. */
    const int fo = scratch(), fe = scratch();
    if (fo < 0 || fe < 0) {
        if (err) asprintf(err, "cannot make a temporary file: %s", strerror(errno));
        if (fo >= 0) close(fo);
        if (fe >= 0) close(fe);
        return -1;
    }
    fflush(NULL);
    const pid_t pid = fork();
    if (pid == 0) {
        const int null = open("/dev/null", O_RDONLY);
        if (null >= 0) dup2(null, STDIN_FILENO);
        dup2(fo, STDOUT_FILENO);
        dup2(fe, STDERR_FILENO);
        execvp(argv[0], (char *const *)argv);
        fprintf(stderr, "cannot run %s: %s", argv[0], strerror(errno));
        _exit(127);
    }
    int status = 0, rc = -1;
    if (pid > 0) {
        pid_t got;
        while ((got = waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
        }
        if (got == pid) rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (out) *out = slurp_fd(fo);
    if (err) *err = pid < 0 ? NULL : slurp_fd(fe);
    if (err && pid < 0) asprintf(err, "cannot start %s: %s", argv[0], strerror(errno));
    close(fo);
    close(fe);
    return rc;
}

void sb_fleet_first_line(const char *text, char *buf, size_t len)
{
    if (!len) return;
    buf[0] = 0;
    if (!text) return;
    while (*text == '\n' || *text == ' ') text++;
    const size_t n = strcspn(text, "\n");
    snprintf(buf, len, "%.*s", (int)(n < len ? n : len - 1), text);
}

/* ---- fleet.json ---------------------------------------------------------------------------- */

json_t *sb_fleet_load(const char *dir, char *err, size_t errlen)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/fleet.json", dir);
    json_error_t je;
    json_t *f = json_load_file(path, 0, &je);
    if (!f) {
        struct stat st;
        if (stat(path, &st))
            sb_errorf(err, errlen,
                      "%s: %s (is %s a fleet folder, made by `specbias fleet "
                      "submit --out %s`?)",
                      path, strerror(errno), dir, dir);
        else
            sb_errorf(err, errlen, "%s: line %d: %s", path, je.line, je.text);
        return NULL;
    }
    const char *schema = json_string_value(json_object_get(f, "schema"));
    const json_t *tasks = json_object_get(f, "tasks"), *machines = json_object_get(f, "machines");
    if (!schema || strcmp(schema, "specbias-fleet/1")) {
        sb_errorf(err, errlen, "%s: schema is not \"specbias-fleet/1\"", path);
    } else if (!json_is_array(tasks) || !json_array_size(tasks)) {
        sb_errorf(err, errlen, "%s: 'tasks' is not a non-empty array", path);
    } else if (!json_is_array(machines) || !json_array_size(machines)) {
        sb_errorf(err, errlen, "%s: 'machines' is not a non-empty array", path);
    } else {
        /* names become folder names, and each task's machine is one of them, once */
        size_t i, j;
        const json_t *t, *m;
        json_array_foreach(machines, i, m)
        {
            const char *name = json_string_value(json_object_get(m, "name"));
            if (!name || !*name || strchr(name, '/') || name[0] == '.') {
                sb_errorf(err, errlen, "%s: machines[%zu] has no usable name", path, i);
                json_decref(f);
                return NULL;
            }
            for (j = 0; j < i; j++)
                if (!strcmp(name, json_string_value(
                                      json_object_get(json_array_get(machines, j), "name")))) {
                    sb_errorf(err, errlen, "%s: machine '%s' is listed twice", path, name);
                    json_decref(f);
                    return NULL;
                }
        }
        json_array_foreach(tasks, i, t)
        {
            const char *name = json_string_value(json_object_get(t, "machine"));
            int known = 0;
            json_array_foreach(machines, j, m) known |=
                name && !strcmp(name, json_string_value(json_object_get(m, "name")));
            if (!known || !json_is_integer(json_object_get(t, "set"))) {
                sb_errorf(err, errlen, "%s: tasks[%zu] lacks a set or a machine of 'machines'",
                          path, i);
                json_decref(f);
                return NULL;
            }
        }
        return f;
    }
    json_decref(f);
    return NULL;
}

/* ---- states -------------------------------------------------------------------------------- */

/* What squeue says of one array task. */
struct queued {
    char state[32], reason[128], node[128];
    int known;
};

/* squeue's view of the array job's tasks, into q[0..n). Returns 1 when squeue answered. */
static int ask_squeue(const char *job, struct queued *q, size_t n, char *note, size_t notelen)
{
    /* -r: one line per array task, pending ones included; -t all: ended ones too, as long as
     * the controller keeps them (MinJobAge; there is no accounting to ask after that). */
    const char *argv[] = {"squeue", "-h", "-r", "-t", "all", "-j", job, "-o", "%K|%T|%r|%N", NULL};
    char *out = NULL, *err = NULL;
    const int rc = sb_fleet_exec(argv, &out, &err);
    int ok = rc == 0 && out;
    if (!ok) {
        char line[256];
        sb_fleet_first_line(err, line, sizeof line);
        /* a job the controller has forgotten is not an error of squeue's */
        if (strstr(line, "Invalid job id")) {
            ok = 1;
        } else {
            snprintf(note, notelen, "squeue: %s", *line ? line : "failed");
        }
    }
    for (char *l = ok ? out : NULL, *next; l && *l; l = next) {
        next = strchr(l, '\n');
        if (next) *next++ = 0;
        char *f[4] = {l, NULL, NULL, NULL};
        for (int k = 1; k < 4 && f[k - 1]; k++) {
            char *bar = strchr(f[k - 1], '|');
            if (bar) *bar = 0;
            f[k] = bar ? bar + 1 : NULL;
        }
        char *end;
        const long t = strtol(f[0], &end, 10);
        if (end == f[0] || t < 0 || (size_t)t >= n || !f[3]) continue;
        struct queued *x = &q[t];
        x->known = 1;
        snprintf(x->state, sizeof x->state, "%s", f[1]);
        snprintf(x->reason, sizeof x->reason, "%s", strcmp(f[2], "None") ? f[2] : "");
        snprintf(x->node, sizeof x->node, "%s", strcmp(f[3], "(null)") ? f[3] : "");
    }
    free(out);
    free(err);
    return ok;
}

const char *sb_fleet_str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static int is(const char *a, const char *b) { return strcmp(a, b) == 0; }

/* Slurm states that end a job for a reason of the machine or the scheduler. */
static int slurm_failure(const char *s)
{
    static const char *const bad[] = {"NODE_FAIL", "OUT_OF_MEMORY", "BOOT_FAIL", "DEADLINE",
                                      "PREEMPTED", "SPECIAL_EXIT",  "REVOKED",   NULL};
    for (const char *const *b = bad; *b; b++)
        if (is(s, *b)) return 1;
    return 0;
}

/* One task's state from its state file (file, may be NULL) and squeue's line (q). */
static void decide(const json_t *file, const struct queued *q, const char **state, char *reason,
                   size_t len)
{
    const char *fs = file ? sb_fleet_str(file, "state") : "";
    const char *fr = file ? sb_fleet_str(file, "reason") : "";
    const char *qs = q->known ? q->state : "";
    reason[0] = 0;
    if (is(qs, "PENDING") || is(qs, "CONFIGURING") || is(qs, "REQUEUED") ||
        is(qs, "RESV_DEL_HOLD") || is(qs, "REQUEUE_HOLD")) {
        *state = "pending";
        snprintf(reason, len, "%s", q->reason);
    } else if (is(qs, "CANCELLED")) {
        *state = "cancelled";
        snprintf(reason, len, "cancelled in Slurm%s%s", *fr ? "; " : "", fr);
    } else if (is(qs, "TIMEOUT")) {
        *state = "timeout";
        snprintf(reason, len, "hit its time limit%s%s", *fr ? "; " : "", fr);
    } else if (slurm_failure(qs)) {
        *state = "failed";
        snprintf(reason, len, "Slurm: %s%s%s%s", qs, *q->reason ? " (" : "", q->reason,
                 *q->reason ? ")" : "");
    } else if (*fs && !is(fs, "running")) {
        *state = is(fs, "done")          ? "done"
                 : is(fs, "no-binary")   ? "no-binary"
                 : is(fs, "interrupted") ? "interrupted"
                                         : "failed";
        snprintf(reason, len, "%s", fr);
    } else if (is(qs, "RUNNING") || is(qs, "COMPLETING") || is(qs, "SUSPENDED") ||
               is(qs, "STOPPED") || is(qs, "SIGNALING") || is(qs, "STAGE_OUT") ||
               is(qs, "RESIZING")) {
        *state = "running";
    } else if (*qs) {
        /* ended (COMPLETED, FAILED) without a final word from the task: it was killed */
        *state = "failed";
        snprintf(reason, len, "Slurm says %s%s%s, and the task wrote no final state (killed?)", qs,
                 *q->reason ? ": " : "", q->reason);
    } else if (is(fs, "running")) {
        *state = "failed";
        snprintf(reason, len,
                 "started on %s but wrote no final state, and Slurm no longer "
                 "lists it (killed, or its node failed)",
                 file ? sb_fleet_str(file, "node") : "?");
    } else {
        *state = "unknown";
        snprintf(reason, len,
                 "no state file, and Slurm does not list it (ended over MinJobAge "
                 "ago, or never started)");
    }
}

json_t *sb_fleet_states(const json_t *fleet, const char *dir, int *slurm_ok, char *slurm_note,
                        size_t notelen)
{
    const json_t *tasks = json_object_get(fleet, "tasks");
    const size_t n = json_array_size(tasks);
    const char *job = sb_fleet_str(fleet, "array_job_id");
    struct queued *q = calloc(n, sizeof *q);
    json_t *states = json_array();
    if (!q || !states) {
        free(q);
        json_decref(states);
        return NULL;
    }
    slurm_note[0] = 0;
    *slurm_ok = *job ? ask_squeue(job, q, n, slurm_note, notelen) : 0;
    if (!*job) snprintf(slurm_note, notelen, "fleet.json has no array job id");
    for (size_t i = 0; i < n; i++) {
        const json_t *t = json_array_get(tasks, i);
        char path[4400], results[4400], reason[600];
        snprintf(path, sizeof path, "%s/state/%s-%zu.json", dir, job, i);
        json_t *file = json_load_file(path, 0, NULL);
        snprintf(results, sizeof results, "tasks/%s/%s-%zu/results.json",
                 sb_fleet_str(t, "machine"), job, i);
        char full[8900];
        snprintf(full, sizeof full, "%s/%s", dir, results);
        const char *state;
        decide(file, &q[i], &state, reason, sizeof reason);
        const char *node = *q[i].node ? q[i].node : file ? sb_fleet_str(file, "node") : "";
        json_array_append_new(
            states,
            json_pack("{s:I, s:s, s:O, s:s, s:s, s:s, s:o, s:s, s:o}", "index", (json_int_t)i,
                      "machine", sb_fleet_str(t, "machine"), "set", json_object_get(t, "set"),
                      "job", job, "node", node, "state", state, "slurm_state",
                      q[i].known ? json_string(q[i].state) : json_null(), "reason", reason,
                      "results", access(full, R_OK) == 0 ? json_string(results) : json_null()));
        json_decref(file);
    }
    free(q);
    return states;
}

void sb_fleet_print_states(const json_t *states, FILE *f)
{
    int wm = 7, wn = 4;
    size_t i;
    const json_t *s;
    json_array_foreach(states, i, s)
    {
        const int m = (int)strlen(sb_fleet_str(s, "machine")),
                  nd = (int)strlen(sb_fleet_str(s, "node"));
        if (m > wm) wm = m;
        if (nd > wn) wn = nd;
    }
    fprintf(f, "%-5s %-*s %-4s %-*s %-12s %s\n", "task", wm, "machine", "set", wn, "node", "state",
            "reason");
    json_array_foreach(states, i, s)
    {
        fprintf(f, "%-5lld %-*s %-4lld %-*s %-12s %s\n",
                (long long)json_integer_value(json_object_get(s, "index")), wm,
                sb_fleet_str(s, "machine"),
                (long long)json_integer_value(json_object_get(s, "set")), wn,
                *sb_fleet_str(s, "node") ? sb_fleet_str(s, "node") : "-", sb_fleet_str(s, "state"),
                sb_fleet_str(s, "reason"));
    }
}

void sb_fleet_counts(const json_t *states, char *buf, size_t len)
{
    static const char *const order[] = {"done",      "running", "pending",     "failed",
                                        "cancelled", "timeout", "interrupted", "no-binary",
                                        "unknown",   NULL};
    size_t used = 0;
    buf[0] = 0;
    for (const char *const *o = order; *o; o++) {
        size_t i, n = 0;
        const json_t *s;
        json_array_foreach(states, i, s) n += is(sb_fleet_str(s, "state"), *o);
        if (n && used < len)
            used += (size_t)snprintf(buf + used, len - used, "%s%zu %s", used ? ", " : "", n, *o);
    }
}
