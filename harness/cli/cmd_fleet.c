/* specbias fleet submit|status|gather|task: a suite across the machines of a Slurm cluster
 * (fleet.h). This file: the dispatch, `fleet status` and `fleet gather`. */
#define _GNU_SOURCE
#include "harness/cli/cli.h"
#include "harness/cli/fleet.h"
#include "harness/cli/options.h"
#include "harness/results/results.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

static const char *const formats[] = {"text", "json", NULL};

/* DIR, and --format, of `fleet status|gather`. Returns 0, 1 (help printed) or -1. */
static int parse_dir(const char *name, const char *description, int argc, char **argv,
                     const char **dir, int *format)
{
    const char *pv[4] = {0};
    struct sb_option_list pos = {pv, 0};
    struct sb_option options[] = {
        {SB_ENUM("--format", format, "FORMAT", formats, "text (default) or json")},
    };
    struct sb_command_spec cmd = {.name = name,
                                  .synopsis = "DIR",
                                  .description = description,
                                  .options = options,
                                  .noptions = format ? 1 : 0,
                                  .positionals = &pos};
    if (argc > 4) {
        fprintf(stderr, "specbias %s: give one fleet folder\n", name);
        return -1;
    }
    const int rc = sb_options_parse(&cmd, argc, argv);
    if (rc) return rc;
    if (pos.n != 1) {
        fprintf(stderr, "specbias %s: give one fleet folder (fleet submit --out DIR)\n", name);
        sb_options_help(&cmd, stderr);
        return -1;
    }
    *dir = pos.v[0];
    return 0;
}

/* The gather job's state, from squeue: "pending (Dependency)", "running", "ended", ... */
static void gather_job_state(const json_t *fleet, char *buf, size_t len)
{
    const char *job = sb_fleet_str(fleet, "gather_job_id");
    snprintf(buf, len, "not known to Slurm any more");
    if (!*job) return;
    const char *v[] = {"squeue", "-h", "-t", "all", "-j", job, "-o", "%T|%r", NULL};
    char *out = NULL;
    if (sb_fleet_exec(v, &out, NULL) == 0 && out && *out) {
        char line[256];
        sb_fleet_first_line(out, line, sizeof line);
        char *bar = strchr(line, '|');
        if (bar) *bar++ = 0;
        if (bar && *bar && strcmp(bar, "None"))
            snprintf(buf, len, "%s (%s)", line, bar);
        else
            snprintf(buf, len, "%s", line);
    }
    free(out);
}

int sb_fleet_status(int argc, char **argv)
{
    const char *dir = NULL;
    int format = 0;
    const int prc = parse_dir("fleet status",
                              "Each task of a fleet: pending (with Slurm's reason), "
                              "running, done, failed, interrupted,\ncancelled, "
                              "timeout or no-binary, with its node and reason.\n",
                              argc, argv, &dir, &format);
    if (prc) return prc > 0 ? SB_EXIT_OK : SB_EXIT_USAGE;
    char err[4400], note[300], counts[300], gather[300];
    json_t *fleet = sb_fleet_load(dir, err, sizeof err);
    if (!fleet) {
        fprintf(stderr, "specbias fleet status: %s\n", err);
        return SB_EXIT_USAGE;
    }
    int slurm_ok;
    json_t *states = sb_fleet_states(fleet, dir, &slurm_ok, note, sizeof note);
    if (!states) {
        json_decref(fleet);
        fprintf(stderr, "specbias fleet status: out of memory\n");
        return SB_EXIT_FAILED;
    }
    sb_fleet_counts(states, counts, sizeof counts);
    gather_job_state(fleet, gather, sizeof gather);
    if (format == 1) {
        json_t *doc =
            json_pack("{s:s, s:s, s:s, s:s, s:O, s:o}", "schema", "specbias-fleet-status/1",
                      "array_job_id", sb_fleet_str(fleet, "array_job_id"), "gather_job_id",
                      sb_fleet_str(fleet, "gather_job_id"), "gather_job", gather, "tasks", states,
                      "slurm", slurm_ok ? json_null() : json_string(note));
        json_dumpf(doc, stdout, JSON_INDENT(2));
        putchar('\n');
        json_decref(doc);
    } else {
        printf("fleet %s: job array %s, gather job %s: %s\n", dir,
               sb_fleet_str(fleet, "array_job_id"), sb_fleet_str(fleet, "gather_job_id"), gather);
        if (!slurm_ok)
            printf("warning: Slurm could not be asked (%s); states are the tasks' own\n", note);
        sb_fleet_print_states(states, stdout);
        printf("%s\n", counts);
    }
    json_decref(states);
    json_decref(fleet);
    return SB_EXIT_OK;
}

/* ---- gather ------------------------------------------------------------------------------- */

/* Writes text as DIR/NAME by temporary file and rename. Returns 0 or -1 (errno). */
static int write_text(const char *dir, const char *name, const char *text)
{
    char path[PATH_MAX + 64], tmp[PATH_MAX + 80];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    /* a name of this process's own: another gather's temporary file is never ours */
    snprintf(tmp, sizeof tmp, "%s/.%s.%ld.tmp", dir, name, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) return -1;
    fputs(text, f);
    const int e = ferror(f);
    if (fclose(f) || e || rename(tmp, path)) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* The tasks as a Markdown table. */
static char *tasks_markdown(const json_t *states)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return NULL;
    fprintf(f, "| task | machine | set | node | state | reason |\n|---|---|---|---|---|---|\n");
    size_t i;
    const json_t *s;
    json_array_foreach(states, i, s) fprintf(
        f, "| %lld | %s | %lld | %s | %s | %s |\n",
        (long long)json_integer_value(json_object_get(s, "index")), sb_fleet_str(s, "machine"),
        (long long)json_integer_value(json_object_get(s, "set")),
        *sb_fleet_str(s, "node") ? sb_fleet_str(s, "node") : "-", sb_fleet_str(s, "state"),
        sb_fleet_str(s, "reason"));
    fclose(f);
    return buf;
}

static char *tasks_text(const json_t *states)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return NULL;
    sb_fleet_print_states(states, f);
    fclose(f);
    return buf;
}

/* A growing list of strings the gather owns. */
struct strs {
    char **v;
    size_t n, cap;
};

static const char *strs_add(struct strs *l, char *s) /* takes s; NULL: out of memory */
{
    if (!s) return NULL;
    if (l->n == l->cap) {
        const size_t cap = l->cap ? 2 * l->cap : 16;
        char **v = realloc(l->v, cap * sizeof *v);
        if (!v) {
            free(s);
            return NULL;
        }
        l->v = v;
        l->cap = cap;
    }
    return l->v[l->n++] = s;
}

static void strs_free(struct strs *l)
{
    for (size_t i = 0; i < l->n; i++) free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static char *dup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *dup_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0) s = NULL;
    va_end(ap);
    return s;
}

/* What `compare` and `report` are given: per machine kind, its folder of run folders (one
 * column, a sample per run) when its runs share ISA and thread count, else each run alone
 * (compare refuses to pool runs of another ISA or thread count, and one odd node must not
 * cost the whole table). Unreadable results files are left out with a note. */
static int gather_inputs(const json_t *fleet, const json_t *states, const char *dir,
                         struct strs *columns, struct strs *files, struct strs *notes)
{
    size_t i, j;
    const json_t *m, *s;
    json_array_foreach(json_object_get(fleet, "machines"), i, m)
    {
        const char *name = sb_fleet_str(m, "name");
        char first[96] = "";
        int mixed = 0;
        const size_t before = files->n;
        json_array_foreach(states, j, s)
        {
            if (strcmp(sb_fleet_str(s, "machine"), name) || !*sb_fleet_str(s, "results")) continue;
            char *path = dup_printf("%s/%s", dir, sb_fleet_str(s, "results"));
            if (!path) return -1;
            json_t *r = json_load_file(path, 0, NULL);
            const json_t *c = json_object_get(r, "context");
            const char *schema = json_string_value(json_object_get(r, "schema"));
            if (!schema || strcmp(schema, "specbias-results/1")) {
                const char *n = strs_add(
                    notes, dup_printf("task %lld (%s): %s is not a results "
                                      "file; left out",
                                      (long long)json_integer_value(json_object_get(s, "index")),
                                      name, sb_fleet_str(s, "results")));
                json_decref(r);
                free(path);
                if (!n) return -1;
                continue;
            }
            char key[96];
            snprintf(key, sizeof key, "%s %lldt", sb_fleet_str(c, "isa_used"),
                     (long long)json_integer_value(json_object_get(c, "threads")));
            json_decref(r);
            if (!*first) snprintf(first, sizeof first, "%s", key);
            mixed |= strcmp(first, key) != 0;
            if (!strs_add(files, path)) return -1;
        }
        if (files->n == before) continue;
        if (!mixed) {
            if (!strs_add(columns, dup_printf("%s/tasks/%s", dir, name))) return -1;
            continue;
        }
        if (!strs_add(notes, dup_printf("machine %s: its runs differ in ISA or thread count, so "
                                        "each is a column of its own",
                                        name)))
            return -1;
        for (size_t k = before; k < files->n; k++)
            if (!strs_add(columns, strdup(files->v[k]))) return -1;
    }
    return 0;
}

/* Runs argv (this executable); its stdout in *out, its first stderr line in why. */
static int self(const char **argv, char **out, char *why, size_t len)
{
    char *err = NULL;
    const int rc = sb_fleet_exec(argv, out, &err);
    why[0] = 0;
    /* the last line: a specbias command says why at the end */
    if (err) {
        char *e = err + strlen(err);
        while (e > err && (e[-1] == '\n' || e[-1] == ' ')) *--e = 0;
        char *l = strrchr(err, '\n');
        snprintf(why, len, "%s", l ? l + 1 : err);
    }
    free(err);
    return rc;
}

int sb_fleet_gather(int argc, char **argv)
{
    const char *dir = NULL;
    const int prc =
        parse_dir("fleet gather",
                  "Rebuilds a fleet's comparison from whatever finished: DIR/tasks.json (every\n"
                  "task's state), DIR/comparison.txt, .md and .json (the tasks, then `specbias\n"
                  "compare --table` with a column per machine kind, made of its tasks' runs),\n"
                  "and DIR/report/ (`specbias report` over every results file). The gather job\n"
                  "runs it when the array has ended; run it yourself at any time. Exit 3 when\n"
                  "no task has left a results file or the comparison cannot be made (an earlier\n"
                  "comparison is then kept).\n",
                  argc, argv, &dir, NULL);
    if (prc) return prc > 0 ? SB_EXIT_OK : SB_EXIT_USAGE;
    char err[4400], note[300], counts[300];
    json_t *fleet = sb_fleet_load(dir, err, sizeof err);
    if (!fleet) {
        fprintf(stderr, "specbias fleet gather: %s\n", err);
        return SB_EXIT_USAGE;
    }
    /* one gather at a time in a folder: the gather job and a user's may meet */
    char lock[PATH_MAX + 16];
    snprintf(lock, sizeof lock, "%s/.gather.lock", dir);
    const int lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lfd < 0 || flock(lfd, LOCK_EX)) {
        fprintf(stderr, "specbias fleet gather: %s: %s\n", lock, strerror(errno));
        if (lfd >= 0) close(lfd);
        json_decref(fleet);
        return SB_EXIT_FAILED;
    }
    int slurm_ok, rc = SB_EXIT_OK;
    json_t *states = sb_fleet_states(fleet, dir, &slurm_ok, note, sizeof note);
    struct strs columns = {0}, files = {0}, notes = {0};
    char *tmd = NULL, *ttx = NULL, *out_txt = NULL, *out_md = NULL, *out_json = NULL;
    char *txt = NULL, *md = NULL, *djson = NULL;
    json_t *doc = NULL, *tdoc = NULL;
    if (!states || gather_inputs(fleet, states, dir, &columns, &files, &notes) ||
        !(tmd = tasks_markdown(states)) || !(ttx = tasks_text(states))) {
        fprintf(stderr, "specbias fleet gather: out of memory\n");
        rc = SB_EXIT_FAILED;
        goto done;
    }
    sb_fleet_counts(states, counts, sizeof counts);
    if (!slurm_ok)
        fprintf(stderr,
                "specbias fleet gather: warning: Slurm could not be asked (%s); states "
                "are the tasks' own\n",
                note);
    for (size_t i = 0; i < notes.n; i++)
        fprintf(stderr, "specbias fleet gather: note: %s\n", notes.v[i]);
    char werr[4400];
    tdoc = json_pack("{s:s, s:s, s:s, s:O}", "schema", "specbias-fleet-tasks/1", "array_job_id",
                     sb_fleet_str(fleet, "array_job_id"), "counts", counts, "tasks", states);
    if (!tdoc || sb_json_file_write(tdoc, dir, "tasks", werr, sizeof werr)) {
        fprintf(stderr, "specbias fleet gather: %s\n", tdoc ? werr : "out of memory");
        rc = SB_EXIT_FAILED;
        goto done;
    }
    if (!columns.n) {
        fputs(ttx, stdout);
        fprintf(stderr,
                "specbias fleet gather: no task has left a results file yet (%s); %s/"
                "tasks.json says where each stands\n",
                counts, dir);
        rc = SB_EXIT_FAILED;
        goto done;
    }

    char exe[PATH_MAX], why[1200];
    if (!realpath("/proc/self/exe", exe)) snprintf(exe, sizeof exe, "/proc/self/exe");
    const char **args = calloc(columns.n + files.n + 8, sizeof *args);
    if (!args) {
        rc = SB_EXIT_FAILED;
        goto done;
    }
    size_t n = 0;
    args[n++] = exe, args[n++] = "compare", args[n++] = "--table", args[n++] = "--format";
    const size_t format_at = n++;
    for (size_t i = 0; i < columns.n; i++) args[n++] = columns.v[i];
    args[n] = NULL;
    static const char *const formats_[] = {"text", "markdown", "json"};
    char **outs[] = {&out_txt, &out_md, &out_json};
    for (int f = 0; f < 3 && rc == SB_EXIT_OK; f++) {
        args[format_at] = formats_[f];
        const int crc = self(args, outs[f], why, sizeof why);
        if (crc != 0) {
            fprintf(stderr,
                    "specbias fleet gather: specbias compare exited %d (%s); the earlier "
                    "comparison, if any, is kept\n",
                    crc, why);
            rc = SB_EXIT_FAILED;
        }
    }
    if (rc == SB_EXIT_OK) {
        char *nt = NULL, *nm = NULL;
        size_t ntl = 0, nml = 0;
        FILE *a = open_memstream(&nt, &ntl), *b = open_memstream(&nm, &nml);
        for (size_t i = 0; a && b && i < notes.n; i++) {
            fprintf(a, "note: %s\n", notes.v[i]);
            fprintf(b, "- %s\n", notes.v[i]);
        }
        if (a) fclose(a);
        if (b) fclose(b);
        txt = dup_printf("fleet %s: job array %s: %s\n\n%s\n%s%s%s", dir,
                         sb_fleet_str(fleet, "array_job_id"), counts, ttx, nt ? nt : "",
                         notes.n ? "\n" : "", out_txt);
        md = dup_printf("# Fleet %s\n\nJob array %s: %s.\n\n## Tasks\n\n%s\n%s%s## Machines\n\n%s",
                        dir, sb_fleet_str(fleet, "array_job_id"), counts, tmd, nm ? nm : "",
                        notes.n ? "\n" : "", out_md);
        free(nt);
        free(nm);
        json_t *cj = json_loads(out_json, 0, NULL), *nj = json_array();
        for (size_t i = 0; nj && i < notes.n; i++)
            json_array_append_new(nj, json_string(notes.v[i]));
        doc = json_pack("{s:s, s:s, s:s, s:O, s:o, s:o}", "schema", "specbias-fleet-comparison/1",
                        "array_job_id", sb_fleet_str(fleet, "array_job_id"), "counts", counts,
                        "tasks", states, "notes", nj ? nj : json_array(), "comparison",
                        cj ? cj : json_null());
        djson = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;
        if (!txt || !md || !djson || write_text(dir, "comparison.txt", txt) ||
            write_text(dir, "comparison.md", md) || write_text(dir, "comparison.json", djson)) {
            fprintf(stderr, "specbias fleet gather: cannot write the comparison in %s: %s\n", dir,
                    strerror(errno));
            rc = SB_EXIT_FAILED;
        } else {
            fputs(txt, stdout);
            printf("specbias fleet gather: %s/comparison.md, .txt, .json and tasks.json\n", dir);
        }
    }
    if (rc == SB_EXIT_OK) {
        char rout[PATH_MAX + 16];
        snprintf(rout, sizeof rout, "%s/report", dir);
        n = 0;
        args[n++] = exe, args[n++] = "report";
        for (size_t i = 0; i < files.n; i++) args[n++] = files.v[i];
        args[n++] = "--out";
        args[n++] = rout;
        args[n] = NULL;
        char *rso = NULL;
        const int rr = self(args, &rso, why, sizeof why);
        free(rso);
        if (rr != 0) {
            fprintf(stderr, "specbias fleet gather: specbias report exited %d: %s\n", rr, why);
            rc = SB_EXIT_FAILED;
        } else {
            printf("specbias fleet gather: report in %s/index.html\n", rout);
        }
    }
    free(args);
done:
    json_decref(doc);
    json_decref(tdoc);
    free(djson);
    free(txt);
    free(md);
    free(tmd);
    free(ttx);
    free(out_txt);
    free(out_md);
    free(out_json);
    strs_free(&columns);
    strs_free(&files);
    strs_free(&notes);
    json_decref(states);
    json_decref(fleet);
    close(lfd); /* and the lock with it */
    return rc;
}

/* ---- dispatch ----------------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f, "usage: specbias fleet submit --suite S --machine NAME[:KEY=VALUE...] ... --out DIR "
               "[options]\n"
               "       specbias fleet status DIR\n"
               "       specbias fleet gather DIR\n\n"
               "A suite on several kinds of machine of a Slurm cluster: one job array, then the\n"
               "machine comparison and report in DIR. `specbias fleet submit --help` for the "
               "options.\n");
}

int sb_cmd_fleet(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? SB_EXIT_USAGE : SB_EXIT_OK;
    }
    if (!strcmp(argv[1], "submit")) return sb_fleet_submit(argc - 1, argv + 1);
    if (!strcmp(argv[1], "status")) return sb_fleet_status(argc - 1, argv + 1);
    if (!strcmp(argv[1], "gather")) return sb_fleet_gather(argc - 1, argv + 1);
    if (!strcmp(argv[1], "task")) return sb_fleet_task(argc - 1, argv + 1);
    fprintf(stderr, "specbias fleet: unknown subcommand '%s' (submit, status, gather)\n", argv[1]);
    usage(stderr);
    return SB_EXIT_USAGE;
}
