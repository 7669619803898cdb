/* specbias fleet submit: checks everything it can before Slurm sees anything, writes the fleet
 * folder (fleet.h), then submits one held job array, gives each task its machine, submits the
 * gather job after it, and releases the array. */
#define _GNU_SOURCE
#include "harness/cli/cli.h"
#include "harness/cli/fleet.h"
#include "harness/cli/options.h"
#include "harness/cli/run.h"
#include "harness/results/results.h"
#include "harness/train/experiment.h"
#include "harness/util/util.h"

#include <errno.h>
#include <limits.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define MAX_MACHINES 64
#define MAX_BINARIES 16
#define MAX_TASKS 10000
#define MAX_VALUE 400 /* bytes of a --machine value: the sbatch and scontrol arguments hold it */

struct machine {
    char name[65];
    const char *partition, *constraint, *nodelist, *isa; /* into spec; NULL: not given */
    int sets;
    char *spec; /* the writable copy the fields point into */
};

struct binary {
    char arch[33];
    char path[PATH_MAX];
};

struct submit {
    const char *suite, *out, *time, *gather_partition;
    const char *filter, *seed, *seeds, *steps, *repetitions, *threads, *isa;
    int sets, max_running, share, cpus_per_task;
    struct machine m[MAX_MACHINES];
    size_t nm;
    struct binary b[MAX_BINARIES];
    size_t nb;
    char dir[PATH_MAX], suite_path[PATH_MAX];
    size_t ntasks;
    /* task t of the array: machine task_machine[t], set task_set[t]. Set-major (set 0 of every
     * machine, then set 1, ...): Slurm's scheduler stops at the first task of a partition that
     * cannot start, so tasks of one kind in a row would keep the other kinds' idle nodes idle
     * until the backfill pass. */
    size_t *task_machine;
    int *task_set;
};

static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("specbias fleet submit: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return SB_EXIT_USAGE;
}

static int name_ok(const char *s, size_t max)
{
    if (!*s || strlen(s) > max || *s == '.' || *s == '-') return 0;
    for (; *s; s++)
        if (!(('a' <= *s && *s <= 'z') || ('A' <= *s && *s <= 'Z') || ('0' <= *s && *s <= '9') ||
              *s == '.' || *s == '_' || *s == '-'))
            return 0;
    return 1;
}

/* --machine NAME[:KEY=VALUE...], KEY one of partition, constraint, nodelist, isa, sets. */
static int parse_machine(const char *text, int default_sets, struct machine *m)
{
    memset(m, 0, sizeof *m);
    m->sets = default_sets;
    if (!(m->spec = strdup(text))) return bad("out of memory");
    char *save = NULL, *part = strtok_r(m->spec, ":", &save);
    if (!part || !name_ok(part, 64))
        return bad("--machine '%s': the name before the first ':' must be 1 to 64 letters, "
                   "digits, '.', '_' or '-' (it names the machine kind's folder)",
                   text);
    snprintf(m->name, sizeof m->name, "%s", part);
    while ((part = strtok_r(NULL, ":", &save))) {
        char *eq = strchr(part, '=');
        if (!eq || eq == part || !eq[1])
            return bad("--machine '%s': '%s' is not KEY=VALUE (keys: partition, constraint, "
                       "nodelist, isa, sets)",
                       text, part);
        *eq = 0;
        const char *v = eq + 1;
        if (strlen(v) > MAX_VALUE)
            return bad("--machine %s: %s is %zu bytes long, at most %d", m->name, part, strlen(v),
                       MAX_VALUE);
        if (!strcmp(part, "partition"))
            m->partition = v;
        else if (!strcmp(part, "constraint"))
            m->constraint = v;
        else if (!strcmp(part, "nodelist"))
            m->nodelist = v;
        else if (!strcmp(part, "isa")) {
            int known = 0;
            for (const char *const *c = sb_isa_choices("auto"); *c; c++) known |= !strcmp(*c, v);
            if (!known) return bad("--machine '%s': isa=%s is not an ISA of specbias", text, v);
            m->isa = v;
        } else if (!strcmp(part, "sets")) {
            char *end;
            const long s = strtol(v, &end, 10);
            if (*end || s < 1 || s > 1000)
                return bad("--machine '%s': sets=%s is not a whole number in [1, 1000]", text, v);
            m->sets = (int)s;
        } else {
            return bad("--machine '%s': unknown key '%s' (keys: partition, constraint, "
                       "nodelist, isa, sets)",
                       text, part);
        }
    }
    return 0;
}

/* --binary ARCH=PATH: an executable file, kept by its absolute path. */
static int parse_binary(const char *text, struct binary *b)
{
    const char *eq = strchr(text, '=');
    if (!eq || eq == text || (size_t)(eq - text) >= sizeof b->arch || !eq[1])
        return bad("--binary '%s': want ARCH=PATH, ARCH as `uname -m` prints it (x86_64, "
                   "aarch64)",
                   text);
    snprintf(b->arch, sizeof b->arch, "%.*s", (int)(eq - text), text);
    if (!name_ok(b->arch, 32)) return bad("--binary '%s': '%s' is not an architecture name", text, b->arch);
    struct stat st;
    if (!realpath(eq + 1, b->path) || stat(b->path, &st) || access(b->path, X_OK))
        return bad("--binary %s: %s is not an executable file (%s)", b->arch, eq + 1,
                   strerror(errno));
    if (!S_ISREG(st.st_mode))
        return bad("--binary %s: %s is not an executable file (not a regular file)", b->arch,
                   eq + 1);
    return 0;
}

static const char *own_arch(void)
{
    static struct utsname u;
    return uname(&u) == 0 ? u.machine : "unknown";
}

static int has_arch(const struct submit *s, const char *arch)
{
    for (size_t i = 0; i < s->nb; i++)
        if (!strcmp(s->b[i].arch, arch)) return 1;
    return 0;
}

/* ---- checks against Slurm ---------------------------------------------------------------- */

static int on_path(const char *prog)
{
    const char *path = getenv("PATH");
    if (!path) return 0;
    char *copy = strdup(path), *save = NULL;
    int found = 0;
    for (char *d = strtok_r(copy, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/%s", *d ? d : ".", prog);
        found = access(p, X_OK) == 0;
    }
    free(copy);
    return found;
}

/* The sbatch options that put a job on machine m (and the shared ones), appended to v. */
static size_t machine_args(const struct submit *s, const struct machine *m, const char **v,
                           size_t n, char (*buf)[512])
{
    if (m && m->partition) snprintf(buf[0], 512, "--partition=%s", m->partition), v[n++] = buf[0];
    if (m && m->constraint) snprintf(buf[1], 512, "--constraint=%s", m->constraint), v[n++] = buf[1];
    if (m && m->nodelist) snprintf(buf[2], 512, "--nodelist=%s", m->nodelist), v[n++] = buf[2];
    if (s->time) snprintf(buf[3], 512, "--time=%s", s->time), v[n++] = buf[3];
    if (!s->share) {
        v[n++] = "--exclusive";
    } else {
        snprintf(buf[4], 512, "--cpus-per-task=%d", s->cpus_per_task);
        v[n++] = buf[4];
    }
    return n;
}

/* sbatch --test-only for each machine: Slurm's own verdict on its partition, features and
 * node list, with nothing submitted. */
static int check_with_slurm(const struct submit *s)
{
    /* i == nm: the array's own request (the shared options, Slurm's default partition), which
     * sbatch must accept before any task is placed */
    for (size_t i = 0; i <= s->nm; i++) {
        const struct machine *m = i < s->nm ? &s->m[i] : NULL;
        const char *v[16] = {"sbatch", "--test-only", "--job-name=specbias-fleet-check"};
        char buf[5][512];
        size_t n = machine_args(s, m, v, 3, buf);
        v[n++] = "--wrap=true";
        v[n] = NULL;
        char *err = NULL;
        const int rc = sb_fleet_exec(v, NULL, &err);
        if (rc != 0) {
            char line[400];
            /* sbatch --test-only reports success on stderr too; its failure is the exit code */
            sb_fleet_first_line(err, line, sizeof line);
            if (!m) {
                fprintf(stderr,
                        "specbias fleet submit: Slurm refuses the job array's own request (its "
                        "default partition%s%s, %s): %s\n",
                        s->time ? ", --time " : "", s->time ? s->time : "",
                        s->share ? "--share" : "--exclusive",
                        *line ? line : "sbatch --test-only failed");
                free(err);
                return SB_EXIT_USAGE;
            }
            fprintf(stderr,
                    "specbias fleet submit: --machine %s: Slurm refuses it%s%s%s%s%s%s: %s\n",
                    m->name, m->partition ? " (partition=" : "", m->partition ? m->partition : "",
                    m->constraint ? ", constraint=" : "", m->constraint ? m->constraint : "",
                    m->nodelist ? ", nodelist=" : "", m->nodelist ? m->nodelist : "",
                    *line ? line : "sbatch --test-only failed");
            free(err);
            return SB_EXIT_USAGE;
        }
        free(err);
    }
    return 0;
}

/* Every node a machine can land on has a binary for its architecture. Nodes are matched by
 * partition, node list and plain features ("a&b"); a constraint with other operators is not
 * matched here (the task says so at run time when its node has no binary). */
static int node_matches(const struct machine *m, const char *partition, const char *line)
{
    char field[4096];
    const char *p;
    if (partition) {
        p = strstr(line, " Partitions=");
        if (!p) return 0;
        sscanf(p + 12, "%4095s", field);
        int found = 0;
        char *save = NULL;
        for (char *t = strtok_r(field, ",", &save); t; t = strtok_r(NULL, ",", &save))
            found |= !strcmp(t, partition);
        if (!found) return 0;
    }
    if (m->constraint) {
        if (strpbrk(m->constraint, "|[]*()")) return 1;
        p = strstr(line, " AvailableFeatures=");
        char feats[4096] = "";
        if (p) sscanf(p + 19, "%4095s", feats);
        char want[MAX_VALUE + 1];
        snprintf(want, sizeof want, "%s", m->constraint);
        char *save = NULL;
        for (char *w = strtok_r(want, "&,", &save); w; w = strtok_r(NULL, "&,", &save)) {
            char f[4096], *s2 = NULL;
            snprintf(f, sizeof f, "%s", feats);
            int found = 0;
            for (char *t = strtok_r(f, ",", &s2); t; t = strtok_r(NULL, ",", &s2))
                found |= !strcmp(t, w);
            if (!found) return 0;
        }
    }
    return 1;
}

/* The name of Slurm's default partition (Default=YES), into buf; "" when there is none. */
static void default_partition(char *buf, size_t len)
{
    const char *v[] = {"scontrol", "-o", "show", "partition", NULL};
    char *out = NULL;
    buf[0] = 0;
    if (sb_fleet_exec(v, &out, NULL) == 0 && out) {
        char *save = NULL;
        for (char *l = strtok_r(out, "\n", &save); l && !*buf; l = strtok_r(NULL, "\n", &save)) {
            char name[256];
            if (strstr(l, " Default=YES") && sscanf(l, "PartitionName=%255s", name) == 1)
                snprintf(buf, len, "%s", name);
        }
    }
    free(out);
}

/* Whether name is in the newline-separated list. */
static int listed(const char *list, const char *name)
{
    const size_t n = strlen(name);
    for (const char *p = list; p && *p;) {
        const size_t l = strcspn(p, "\n");
        if (l == n && !strncmp(p, name, n)) return 1;
        p += l + (p[l] == '\n');
    }
    return 0;
}

static int check_architectures(const struct submit *s)
{
    char def[256];
    default_partition(def, sizeof def);
    const char *v[] = {"scontrol", "-o", "show", "node", NULL};
    char *out = NULL, *err = NULL;
    if (sb_fleet_exec(v, &out, &err) != 0 || !out) {
        /* not fatal: each task still checks its own node */
        char line[300];
        sb_fleet_first_line(err, line, sizeof line);
        fprintf(stderr, "specbias fleet submit: warning: cannot list the nodes (%s); their "
                        "architectures are checked by each task instead\n",
                line);
        free(out);
        free(err);
        return 0;
    }
    int rc = 0;
    for (size_t i = 0; i < s->nm && !rc; i++) {
        const struct machine *m = &s->m[i];
        /* a machine without a partition goes to the default one, not to every node */
        const char *partition = m->partition ? m->partition : *def ? def : NULL;
        char *names = NULL;
        if (m->nodelist) {
            /* the node list in Slurm's hostlist syntax: Slurm expands it, once */
            const char *hv[] = {"scontrol", "show", "hostnames", m->nodelist, NULL};
            sb_fleet_exec(hv, &names, NULL);
        }
        char *copy = strdup(out), *save = NULL;
        for (char *l = copy ? strtok_r(copy, "\n", &save) : NULL; l && !rc;
             l = strtok_r(NULL, "\n", &save)) {
            char node[256] = "?", arch[64] = "";
            sscanf(l, "NodeName=%255s", node);
            const char *a = strstr(l, " Arch=");
            if (a) sscanf(a + 6, "%63s", arch);
            if (!*arch || !strcmp(arch, "(null)") || !node_matches(m, partition, l)) continue;
            if (m->nodelist && !listed(names, node)) continue;
            if (!has_arch(s, arch)) {
                fprintf(stderr,
                        "specbias fleet submit: --machine %s: node %s is %s, and no --binary "
                        "%s=PATH was given (binaries for:",
                        m->name, node, arch, arch);
                for (size_t b = 0; b < s->nb; b++) fprintf(stderr, " %s", s->b[b].arch);
                fprintf(stderr, ")\n");
                rc = SB_EXIT_USAGE;
            }
        }
        free(copy);
        free(names);
    }
    free(out);
    free(err);
    return rc;
}

/* ---- the fleet folder --------------------------------------------------------------------- */

/* s as a single-quoted shell word. */
static void sh_quote(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++)
        if (*s == '\'')
            fputs("'\\''", f);
        else
            fputc(*s, f);
    fputc('\'', f);
}

/* DIR/NAME: a batch script that runs `BINARY fleet COMMAND DIR` with the binary for its node's
 * architecture, or records that there is none (a task: in its state file) and exits 3. */
static int write_script(const struct submit *s, const char *name, const char *command)
{
    char path[PATH_MAX + 64], tmp[PATH_MAX + 80];
    snprintf(path, sizeof path, "%s/%s", s->dir, name);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return -1;
    fprintf(f, "#!/bin/sh\n# Written by `specbias fleet submit`: Slurm runs it. It hands over "
               "to the specbias binary\n# built for this node's architecture.\ndir=");
    sh_quote(f, s->dir);
    fprintf(f, "\narch=$(uname -m)\nnode=${SLURMD_NODENAME:-$(hostname)}\nbin=\ncase $arch in\n");
    for (size_t i = 0; i < s->nb; i++) {
        fprintf(f, "  %s) bin=", s->b[i].arch);
        sh_quote(f, s->b[i].path);
        fprintf(f, " ;;\n");
    }
    fprintf(f, "esac\n"
               "if [ -n \"$bin\" ] && [ -x \"$bin\" ]; then exec \"$bin\" fleet %s \"$dir\"; fi\n"
               "if [ -n \"$bin\" ]; then\n"
               "  why=\"the specbias binary for $arch, $bin, is not on $node (not a path every "
               "node shares?)\"\n"
               "else\n"
               "  why=\"no specbias binary for $arch on $node (fleet submit was given binaries "
               "for:",
            command);
    for (size_t i = 0; i < s->nb; i++) fprintf(f, " %s", s->b[i].arch);
    fprintf(f, ")\"\nfi\necho \"specbias fleet: $why\" >&2\n");
    if (!strcmp(command, "task"))
        fprintf(f, "json() { printf '%%s' \"$1\" | sed 's/[\\\\\"]/\\\\&/g'; }\n"
                   "mkdir -p \"$dir/state\" &&\nprintf '{\"state\": \"no-binary\", \"node\": "
                   "\"%%s\", \"arch\": \"%%s\", \"reason\": \"%%s\"}\\n' \"$(json \"$node\")\" "
                   "\"$(json \"$arch\")\" \"$(json \"$why\")\" >\"$dir/state/$SLURM_ARRAY_JOB_ID-$SLURM_ARRAY_TASK_ID.json.tmp\" "
                   "&&\nmv \"$dir/state/$SLURM_ARRAY_JOB_ID-$SLURM_ARRAY_TASK_ID.json.tmp\" "
                   "\"$dir/state/$SLURM_ARRAY_JOB_ID-$SLURM_ARRAY_TASK_ID.json\"\n");
    fprintf(f, "exit 3\n");
    const int bad_write = ferror(f);
    if (fclose(f) || bad_write || chmod(tmp, 0755) || rename(tmp, path)) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

static json_t *opt(const char *v) { return v ? json_string(v) : json_null(); }

static json_t *fleet_json(const struct submit *s)
{
    json_t *machines = json_array(), *binaries = json_object(), *tasks = json_array();
    for (size_t i = 0; i < s->nm; i++) {
        const struct machine *m = &s->m[i];
        json_array_append_new(
            machines, json_pack("{s:s, s:o, s:o, s:o, s:o, s:i}", "name", m->name, "partition",
                                opt(m->partition), "constraint", opt(m->constraint), "nodelist",
                                opt(m->nodelist), "isa", opt(m->isa ? m->isa : s->isa), "sets",
                                m->sets));
    }
    for (size_t t = 0; t < s->ntasks; t++)
        json_array_append_new(tasks, json_pack("{s:s, s:i}", "machine",
                                               s->m[s->task_machine[t]].name, "set",
                                               s->task_set[t]));
    for (size_t i = 0; i < s->nb; i++)
        json_object_set_new(binaries, s->b[i].arch, json_string(s->b[i].path));
    char date[32];
    time_t now = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    return json_pack(
        "{s:s, s:s, s:s, s:s, s:{s:o, s:o, s:o, s:o, s:o, s:o}, s:o, s:o, s:o, s:b, s:o, s:o, "
        "s:o, s:o, s:n, s:n, s:o}",
        "schema", "specbias-fleet/1", "created", date, "dir", s->dir, "suite", s->suite_path,
        "run_options", "filter", opt(s->filter), "seed", opt(s->seed), "seeds", opt(s->seeds),
        "steps", opt(s->steps), "repetitions", opt(s->repetitions), "threads", opt(s->threads),
        "machines", machines, "binaries", binaries, "time_limit", opt(s->time), "exclusive",
        !s->share, "cpus_per_task", s->share ? json_integer(s->cpus_per_task) : json_null(),
        "max_running", s->max_running ? json_integer(s->max_running) : json_null(),
        "gather_partition", opt(s->gather_partition), "tasks", tasks, "array_job_id",
        "gather_job_id", "submitted", json_false());
}

/* The run command line a task will use, checked now by run's own parser. */
static int check_run_options(const struct submit *s)
{
    /* the suite's path is not known yet: run's parser sees a stand-in */
    const char *suite = *s->suite_path ? s->suite_path : "suite.json";
    if (s->threads && strchr(s->threads, ','))
        return bad("--threads %s: a fleet task runs one thread count (N or max); a scaling "
                   "curve is `specbias run --threads LIST` on one node",
                   s->threads);
    for (size_t i = 0; i < s->nm; i++) {
        const char *isa = s->m[i].isa ? s->m[i].isa : s->isa;
        const char *v[32] = {"run", "--suite", suite, "--out", "/nonexistent/x"};
        int n = 5;
#define ADD(flag, val)                                                                             \
    if (val) v[n++] = flag, v[n++] = val
        ADD("--filter", s->filter);
        ADD("--seed", s->seed);
        ADD("--seeds", s->seeds);
        ADD("--steps", s->steps);
        ADD("--repetitions", s->repetitions);
        ADD("--threads", s->threads);
        ADD("--isa", isa);
#undef ADD
        v[n] = NULL;
        if (sb_run_parse_only(n, (char **)v) != 0) return SB_EXIT_USAGE;
    }
    if (s->filter) {
        regex_t re;
        if (regcomp(&re, s->filter, REG_EXTENDED | REG_NOSUB))
            return bad("--filter '%s' is not an extended regular expression", s->filter);
        regfree(&re);
    }
    return 0;
}

/* The suite parses, and --filter selects something of it; its absolute path into s. */
static int check_suite(struct submit *s)
{
    struct sb_suite suite;
    char err[4096];
    if (sb_suite_load(s->suite, &suite, err, sizeof err))
        return bad("%s", err);
    if (!realpath(suite.path, s->suite_path)) snprintf(s->suite_path, sizeof s->suite_path, "%s", suite.path);
    int any = !s->filter;
    regex_t re;
    if (s->filter && regcomp(&re, s->filter, REG_EXTENDED | REG_NOSUB) == 0) {
        for (size_t i = 0; i < suite.n && !any; i++)
            any = regexec(&re, suite.exp[i].name, 0, NULL, 0) == 0;
        regfree(&re);
    }
    sb_suite_free(&suite);
    if (!any)
        return bad("no experiment of %s matches --filter '%s'", s->suite_path, s->filter);
    return 0;
}

/* The output folder: made, writable, not already a fleet's. */
static int check_out(struct submit *s)
{
    char err[4400];
    const int rc = sb_make_dirs(s->out, err, sizeof err);
    if (rc) return bad("--out %s: %s", s->out, err);
    if (!realpath(s->out, s->dir)) return bad("--out %s: %s", s->out, strerror(errno));
    char probe[PATH_MAX + 32];
    snprintf(probe, sizeof probe, "%s/fleet.json", s->dir);
    if (access(probe, F_OK) == 0)
        return bad("--out %s already holds a fleet (fleet.json); give a new folder, so that "
                   "its results stay as they are",
                   s->out);
    snprintf(probe, sizeof probe, "%s/.specbias-write-check", s->dir);
    FILE *f = fopen(probe, "w");
    if (!f || fclose(f)) return bad("--out %s: cannot write there: %s", s->out, strerror(errno));
    unlink(probe);
    static const char *const sub[] = {"logs", "state", "tasks"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(probe, sizeof probe, "%s/%s", s->dir, sub[i]);
        if (mkdir(probe, 0777) && errno != EEXIST)
            return bad("--out %s: cannot make %s: %s", s->out, probe, strerror(errno));
    }
    return 0;
}

/* ---- submitting -------------------------------------------------------------------------- */

/* scancel JOB, and says when Slurm would not. */
static void cancel(const char *job)
{
    const char *v[] = {"scancel", job, NULL};
    char *err = NULL;
    if (sb_fleet_exec(v, NULL, &err)) {
        char line[400];
        sb_fleet_first_line(err, line, sizeof line);
        fprintf(stderr, "specbias fleet submit: scancel %s failed (%s): cancel it yourself\n", job,
                *line ? line : "no message");
    }
    free(err);
}

/* sbatch's --parsable answer "JOBID[;CLUSTER]": the job id, or "" with the reason printed. */
static int sbatch(const char *const *v, char *job, size_t len, const char *what)
{
    char *out = NULL, *err = NULL;
    const int rc = sb_fleet_exec(v, &out, &err);
    char line[400];
    job[0] = 0;
    if (rc == 0 && out) {
        sb_fleet_first_line(out, line, sizeof line);
        snprintf(job, len, "%.*s", (int)strcspn(line, ";"), line);
    }
    if (!*job || strspn(job, "0123456789") != strlen(job)) {
        sb_fleet_first_line(err, line, sizeof line);
        fprintf(stderr, "specbias fleet submit: Slurm refused the %s: %s\n", what,
                *line ? line : "sbatch gave no job id");
        job[0] = 0;
    }
    free(out);
    free(err);
    return *job ? 0 : -1;
}

/* Every task of machine mi gets its partition, features and nodes while the array is held: one
 * `scontrol update JobId=J_[i,j,...]` per machine, whatever its number of tasks. */
static int place_machine(const struct submit *s, const char *job, size_t mi)
{
    const struct machine *m = &s->m[mi];
    if (!m->partition && !m->constraint && !m->nodelist) return 0;
    char *id = NULL, p[MAX_VALUE + 16], c[MAX_VALUE + 16], n[MAX_VALUE + 16];
    size_t len = 0;
    FILE *f = open_memstream(&id, &len);
    if (!f) return -1;
    fprintf(f, "JobId=%s_[", job);
    for (size_t t = 0, k = 0; t < s->ntasks; t++)
        if (s->task_machine[t] == mi) fprintf(f, "%s%zu", k++ ? "," : "", t);
    fprintf(f, "]");
    if (fclose(f)) return -1;
    const char *v[8] = {"scontrol", "update", id};
    size_t k = 3;
    if (m->partition) snprintf(p, sizeof p, "Partition=%s", m->partition), v[k++] = p;
    if (m->constraint) snprintf(c, sizeof c, "Features=%s", m->constraint), v[k++] = c;
    if (m->nodelist) snprintf(n, sizeof n, "ReqNodeList=%s", m->nodelist), v[k++] = n;
    v[k] = NULL;
    char *err = NULL;
    const int rc = sb_fleet_exec(v, NULL, &err);
    if (rc) {
        char line[400];
        sb_fleet_first_line(err, line, sizeof line);
        fprintf(stderr, "specbias fleet submit: Slurm refused to place the tasks of machine %s: %s\n",
                m->name, *line ? line : "scontrol update failed");
    }
    free(err);
    free(id);
    return rc ? -1 : 0;
}

static int submit(struct submit *s, json_t *fleet)
{
    char array[64], range[64], out[PATH_MAX + 32], err[PATH_MAX + 32], script[PATH_MAX + 16];
    char buf[5][512];
    if (s->max_running)
        snprintf(range, sizeof range, "--array=0-%zu%%%d", s->ntasks - 1, s->max_running);
    else
        snprintf(range, sizeof range, "--array=0-%zu", s->ntasks - 1);
    snprintf(out, sizeof out, "--output=%s/logs/%%A-%%a.out", s->dir);
    snprintf(err, sizeof err, "--error=%s/logs/%%A-%%a.err", s->dir);
    snprintf(script, sizeof script, "%s/task.sh", s->dir);
    /* Held, and placed per task before anything runs: one array, whatever each task needs.
     * The array's own request is the shared options alone (Slurm's default partition), which
     * check_with_slurm tried with --test-only. */
    const char *v[24] = {"sbatch", "--parsable", "--hold", "--job-name=specbias-fleet", range, out,
                         err};
    size_t n = machine_args(s, NULL, v, 7, buf);
    v[n++] = script;
    v[n] = NULL;
    if (sbatch(v, array, sizeof array, "job array")) return SB_EXIT_FAILED;
    for (size_t i = 0; i < s->nm; i++)
        if (place_machine(s, array, i)) {
            cancel(array);
            fprintf(stderr, "specbias fleet submit: job array %s cancelled; nothing runs\n",
                    array);
            return SB_EXIT_FAILED;
        }
    char gather[64], dep[96], gout[PATH_MAX + 32], gerr[PATH_MAX + 32], gscript[PATH_MAX + 16],
        gpart[560];
    snprintf(dep, sizeof dep, "--dependency=afterany:%s", array);
    snprintf(gout, sizeof gout, "--output=%s/logs/gather-%%j.out", s->dir);
    snprintf(gerr, sizeof gerr, "--error=%s/logs/gather-%%j.err", s->dir);
    snprintf(gscript, sizeof gscript, "%s/gather.sh", s->dir);
    const char *g[12] = {"sbatch", "--parsable", "--job-name=specbias-fleet-gather", dep,
                         "--kill-on-invalid-dep=no", gout, gerr};
    n = 7;
    if (s->gather_partition)
        snprintf(gpart, sizeof gpart, "--partition=%s", s->gather_partition), g[n++] = gpart;
    g[n++] = gscript;
    g[n] = NULL;
    if (sbatch(g, gather, sizeof gather, "gather job")) {
        cancel(array);
        fprintf(stderr, "specbias fleet submit: job array %s cancelled; nothing runs\n", array);
        return SB_EXIT_FAILED;
    }
    json_object_set_new(fleet, "array_job_id", json_string(array));
    json_object_set_new(fleet, "gather_job_id", json_string(gather));
    json_object_set_new(fleet, "submitted", json_true());
    char msg[4400];
    if (sb_json_file_write(fleet, s->dir, "fleet", msg, sizeof msg)) {
        cancel(array);
        cancel(gather);
        fprintf(stderr, "specbias fleet submit: %s; jobs %s and %s cancelled\n", msg, array,
                gather);
        return SB_EXIT_FAILED;
    }
    const char *r[] = {"scontrol", "release", array, NULL};
    char *rerr = NULL;
    if (sb_fleet_exec(r, NULL, &rerr)) {
        char line[400];
        sb_fleet_first_line(rerr, line, sizeof line);
        fprintf(stderr, "specbias fleet submit: Slurm refused to release job array %s: %s; it "
                        "and gather job %s are cancelled, nothing runs\n",
                array, *line ? line : "scontrol release failed", gather);
        free(rerr);
        cancel(array);
        cancel(gather);
        return SB_EXIT_FAILED;
    }
    free(rerr);
    printf("specbias fleet: job array %s: %zu task%s (", array, s->ntasks,
           s->ntasks == 1 ? "" : "s");
    for (size_t i = 0; i < s->nm; i++)
        printf("%s%s x %d", i ? ", " : "", s->m[i].name, s->m[i].sets);
    printf(")%s", s->share ? "" : ", each on a node of its own");
    if (s->max_running) printf(", at most %d at once", s->max_running);
    printf("\nspecbias fleet: gather job %s runs after every task has ended\n", gather);
    printf("  follow it:   specbias fleet status %s\n", s->dir);
    printf("  comparison:  %s/comparison.md (and .txt, .json)\n", s->dir);
    printf("  report:      %s/report/index.html\n", s->dir);
    printf("  cancel:      scancel %s %s\n", array, gather);
    return SB_EXIT_OK;
}

int sb_fleet_submit(int argc, char **argv)
{
    struct submit *s = calloc(1, sizeof *s);
    const char **mv = calloc((size_t)argc + 1, sizeof *mv), **bv = calloc((size_t)argc + 1, sizeof *bv);
    if (!s || !mv || !bv) {
        free(s), free(mv), free(bv);
        fprintf(stderr, "specbias fleet submit: out of memory\n");
        return SB_EXIT_FAILED;
    }
    struct sb_option_list machines = {mv, 0}, binaries = {bv, 0};
    s->sets = 1;
    s->cpus_per_task = 1;
    int isa_index = 0;
    struct sb_option options[] = {
        {SB_STRING("--suite", &s->suite, "NAME|FILE", "the suite every task runs (required)"),
         .nonempty = 1},
        {SB_LIST("--machine", &machines, "NAME[:KEY=VALUE...]",
                 "one kind of machine to compare (repeat it): KEY partition, constraint (node "
                 "features, as sbatch --constraint), nodelist, isa (run --isa on it), sets "
                 "(its tasks, default --sets); e.g. zen4:constraint=zen4 or "
                 "big:partition=large:nodelist=n[01-04]")},
        {SB_LIST("--binary", &binaries, "ARCH=PATH",
                 "the specbias binary for nodes of architecture ARCH (`uname -m`), repeat per "
                 "architecture; on a shared path every node sees (default: this executable for "
                 "this machine's architecture)")},
        {SB_STRING("--out", &s->out, "DIR",
                   "the fleet folder, on a filesystem every node shares (required; a new "
                   "folder)"),
         .nonempty = 1},
        {SB_INT("--sets", &s->sets, "K", 1, 1000,
                "tasks per machine kind: K separate runs of the suite, on K nodes when there "
                "are (default 1)")},
        {SB_INT("--max-running", &s->max_running, "N", 1, 100000,
                "at most N tasks at once (the array's %N; default: no limit)")},
        {SB_FLAG("--share", &s->share,
                 "do not ask for whole nodes (--exclusive is the default: another job beside a "
                 "benchmark is noise)")},
        {SB_INT("--cpus-per-task", &s->cpus_per_task, "N", 1, 100000,
                "with --share: the CPUs each task asks for (default 1)")},
        {SB_STRING("--time", &s->time, "LIMIT",
                   "each task's time limit, as sbatch --time (a task that hits it keeps the "
                   "experiments it finished)"),
         .nonempty = 1},
        {SB_STRING("--gather-partition", &s->gather_partition, "P",
                   "the partition of the gather job (default: Slurm's default)"),
         .nonempty = 1},
        {SB_STRING("--filter", &s->filter, "REGEX", "run --filter: the experiments to run")},
        {SB_STRING("--seed", &s->seed, "S", "run --seed")},
        {SB_STRING("--seeds", &s->seeds, "K", "run --seeds")},
        {SB_STRING("--steps", &s->steps, "N", "run --steps")},
        {SB_STRING("--repetitions", &s->repetitions, "R", "run --repetitions")},
        {SB_STRING("--threads", &s->threads, "N|max", "run --threads (default: every core of the "
                                                       "node)")},
        {SB_ENUM("--isa", &isa_index, "ISA", sb_isa_choices("auto"),
                 "run --isa, for the machines that give none ({choices})")},
    };
    struct sb_command_spec cmd = {
        .name = "fleet submit",
        .description =
            "Runs a suite on several kinds of machine of a Slurm cluster and compares them:\n"
            "one job array (a task per machine kind x set, each `specbias run` on its node),\n"
            "and a gather job after it that writes the comparison and the report into DIR.\n"
            "Everything is checked before anything is submitted: the suite, the run options,\n"
            "each machine against Slurm (sbatch --test-only), a binary for the architecture\n"
            "of every node a machine may land on, and that DIR can be written.\n",
        .options = options,
        .noptions = sizeof options / sizeof *options,
        .epilogue = "exit codes: 0 submitted, 2 bad usage or input (nothing submitted), 3 Slurm "
                    "refused a\nsubmission (what it had taken is cancelled)\n"};
    int rc = sb_options_parse(&cmd, argc, argv);
    if (rc) {
        rc = rc > 0 ? SB_EXIT_OK : SB_EXIT_USAGE;
        goto done;
    }
    rc = SB_EXIT_USAGE;
    if (isa_index > 0) s->isa = sb_isa_choices("auto")[isa_index];
    if (!s->suite) {
        bad("--suite is required");
        goto done;
    }
    if (!s->out) {
        bad("--out is required (the fleet folder, on a filesystem every node shares)");
        goto done;
    }
    if (!machines.n) {
        bad("give at least one --machine NAME[:KEY=VALUE...]");
        goto done;
    }
    if (machines.n > MAX_MACHINES) {
        bad("at most %d --machine", MAX_MACHINES);
        goto done;
    }
    if (s->cpus_per_task != 1 && !s->share) {
        bad("--cpus-per-task goes with --share (without it each task has a whole node)");
        goto done;
    }
    for (size_t i = 0; i < machines.n; i++) {
        if (parse_machine(machines.v[i], s->sets, &s->m[s->nm++])) goto done;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(s->m[j].name, s->m[i].name)) {
                bad("--machine %s is given twice (each machine kind once; use sets=K for more "
                    "tasks)",
                    s->m[i].name);
                goto done;
            }
        s->ntasks += (size_t)s->m[i].sets;
    }
    if (s->ntasks > MAX_TASKS) {
        bad("%zu tasks: at most %d in one fleet", s->ntasks, MAX_TASKS);
        goto done;
    }
    s->task_machine = calloc(s->ntasks, sizeof *s->task_machine);
    s->task_set = calloc(s->ntasks, sizeof *s->task_set);
    if (!s->task_machine || !s->task_set) {
        rc = SB_EXIT_FAILED;
        fprintf(stderr, "specbias fleet submit: out of memory\n");
        goto done;
    }
    for (size_t t = 0, k = 0; t < s->ntasks; k++)
        for (size_t i = 0; i < s->nm; i++)
            if ((int)k < s->m[i].sets) s->task_machine[t] = i, s->task_set[t++] = (int)k;
    if (binaries.n > MAX_BINARIES) {
        bad("at most %d --binary", MAX_BINARIES);
        goto done;
    }
    for (size_t i = 0; i < binaries.n; i++) {
        if (parse_binary(binaries.v[i], &s->b[s->nb])) goto done;
        if (has_arch(s, s->b[s->nb].arch)) {
            bad("--binary %s is given twice", s->b[s->nb].arch);
            goto done;
        }
        s->nb++;
    }
    if (!s->nb) {
        snprintf(s->b[0].arch, sizeof s->b[0].arch, "%.32s", own_arch());
        if (!realpath("/proc/self/exe", s->b[0].path)) {
            bad("cannot find this executable (/proc/self/exe); give --binary ARCH=PATH");
            goto done;
        }
        s->nb = 1;
    }
    static const char *const clients[] = {"sbatch", "squeue", "scontrol", "scancel", NULL};
    for (const char *const *c = clients; *c; c++)
        if (!on_path(*c)) {
            bad("no Slurm client on PATH: %s not found (install Slurm's clients, Debian "
                "slurm-client, or run where they are)",
                *c);
            goto done;
        }
    /* the run options (--filter's syntax) before the suite (what --filter selects); the
     * folder last, so that a refusal leaves nothing behind */
    if ((rc = check_run_options(s)) || (rc = check_suite(s)) || (rc = check_with_slurm(s)) ||
        (rc = check_architectures(s)) || (rc = check_out(s)))
        goto done;
    json_t *fleet = fleet_json(s);
    char msg[4400];
    if (!fleet) {
        /* jansson refuses what is not UTF-8 */
        rc = bad("a path or --machine value is not UTF-8 text");
        goto done;
    }
    if (sb_json_file_write(fleet, s->dir, "fleet", msg, sizeof msg) ||
        write_script(s, "task.sh", "task") || write_script(s, "gather.sh", "gather")) {
        fprintf(stderr, "specbias fleet submit: cannot write the fleet folder %s: %s\n", s->dir,
                strerror(errno));
        json_decref(fleet);
        rc = SB_EXIT_FAILED;
        goto done;
    }
    rc = submit(s, fleet);
    json_decref(fleet);
    if (rc) {
        /* nothing runs: the folder may be given again */
        char path[PATH_MAX + 32];
        snprintf(path, sizeof path, "%s/fleet.json", s->dir);
        unlink(path);
    }
done:
    for (size_t i = 0; i < s->nm; i++) free(s->m[i].spec);
    free(s->task_machine);
    free(s->task_set);
    free(s);
    free(mv);
    free(bv);
    return rc;
}
