/* specbias fleet submit|status|gather|task: a suite across the machines of a Slurm cluster
 * (fleet.h). This file: the dispatch, `fleet status` and `fleet gather`. */
#define _GNU_SOURCE
#include "harness/cli/cli.h"
#include "harness/cli/fleet.h"
#include "harness/cli/options.h"
#include "harness/results/results.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

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
    const char *job = str(fleet, "gather_job_id");
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
    const int prc = parse_dir("fleet status", "Each task of a fleet: pending (with Slurm's reason), "
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
        json_t *doc = json_pack("{s:s, s:s, s:s, s:s, s:O, s:o}", "schema", "specbias-fleet-status/1",
                                "array_job_id", str(fleet, "array_job_id"), "gather_job_id",
                                str(fleet, "gather_job_id"), "gather_job", gather, "tasks", states,
                                "slurm", slurm_ok ? json_null() : json_string(note));
        json_dumpf(doc, stdout, JSON_INDENT(2));
        putchar('\n');
        json_decref(doc);
    } else {
        printf("fleet %s: job array %s, gather job %s: %s\n", dir, str(fleet, "array_job_id"),
               str(fleet, "gather_job_id"), gather);
        if (!slurm_ok) printf("warning: Slurm could not be asked (%s); states are the tasks' own\n", note);
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
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
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
    json_array_foreach(states, i, s)
        fprintf(f, "| %lld | %s | %lld | %s | %s | %s |\n",
                (long long)json_integer_value(json_object_get(s, "index")), str(s, "machine"),
                (long long)json_integer_value(json_object_get(s, "set")),
                *str(s, "node") ? str(s, "node") : "-", str(s, "state"), str(s, "reason"));
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

/* Runs this executable with args; its stdout in *out. Returns its exit code (-1: not run). */
static int self(const char *const *args, char **out, char **err)
{
    return sb_fleet_exec(args, out, err);
}

int sb_fleet_gather(int argc, char **argv)
{
    const char *dir = NULL;
    const int prc =
        parse_dir("fleet gather",
                  "Rebuilds a fleet's comparison from whatever finished: DIR/tasks.json (every\n"
                  "task's state), DIR/comparison.txt, .md and .json (the tasks, then `specbias\n"
                  "compare` over the machine kinds, one column per kind made of its tasks' runs),\n"
                  "and DIR/report/ (`specbias report` over every results file). The gather job\n"
                  "runs it when the array has ended; run it yourself at any time.\n",
                  argc, argv, &dir, NULL);
    if (prc) return prc > 0 ? SB_EXIT_OK : SB_EXIT_USAGE;
    char err[4400], note[300], counts[300];
    json_t *fleet = sb_fleet_load(dir, err, sizeof err);
    if (!fleet) {
        fprintf(stderr, "specbias fleet gather: %s\n", err);
        return SB_EXIT_USAGE;
    }
    int slurm_ok, rc = SB_EXIT_OK;
    json_t *states = sb_fleet_states(fleet, dir, &slurm_ok, note, sizeof note);
    if (!states) {
        json_decref(fleet);
        fprintf(stderr, "specbias fleet gather: out of memory\n");
        return SB_EXIT_FAILED;
    }
    sb_fleet_counts(states, counts, sizeof counts);
    if (!slurm_ok)
        fprintf(stderr, "specbias fleet gather: warning: Slurm could not be asked (%s); states "
                        "are the tasks' own\n", note);

    /* One side per machine kind that has a results file: its folder of run folders. */
    char exe[PATH_MAX];
    if (!realpath("/proc/self/exe", exe)) snprintf(exe, sizeof exe, "/proc/self/exe");
    const char **cargs = calloc(json_array_size(states) + 16, sizeof *cargs);
    const char **rargs = calloc(json_array_size(states) + 16, sizeof *rargs);
    char **owned = calloc(2 * json_array_size(states) + 4, sizeof *owned);
    size_t nc = 0, nr = 0, no = 0, kinds = 0;
    if (!cargs || !rargs || !owned) {
        fprintf(stderr, "specbias fleet gather: out of memory\n");
        rc = SB_EXIT_FAILED;
        goto done;
    }
    cargs[nc++] = exe, cargs[nc++] = "compare", cargs[nc++] = "--table", cargs[nc++] = "--format";
    const size_t format_at = nc++;
    rargs[nr++] = exe, rargs[nr++] = "report";
    size_t i, j;
    const json_t *m, *s;
    json_array_foreach(json_object_get(fleet, "machines"), i, m) {
        int has = 0;
        json_array_foreach(states, j, s) {
            if (strcmp(str(s, "machine"), str(m, "name")) || !*str(s, "results")) continue;
            has = 1;
            if (asprintf(&owned[no], "%s/%s", dir, str(s, "results")) < 0) owned[no] = NULL;
            if (owned[no]) rargs[nr++] = owned[no++];
        }
        if (!has) continue;
        if (asprintf(&owned[no], "%s/tasks/%s", dir, str(m, "name")) < 0) owned[no] = NULL;
        if (owned[no]) cargs[nc++] = owned[no++], kinds++;
    }
    char *tmd = tasks_markdown(states), *ttx = tasks_text(states);
    char *out_txt = NULL, *out_md = NULL, *out_json = NULL, *cerr = NULL;
    int crc = -1;
    if (kinds) {
        cargs[format_at] = "text";
        crc = self(cargs, &out_txt, &cerr);
        if (crc == 0) {
            cargs[format_at] = "markdown";
            free(cerr);
            crc = self(cargs, &out_md, &cerr);
        }
        if (crc == 0) {
            cargs[format_at] = "json";
            free(cerr);
            crc = self(cargs, &out_json, &cerr);
        }
        if (crc != 0) fprintf(stderr, "specbias fleet gather: specbias compare exited %d: %s", crc, cerr ? cerr : "");
    }
    char *txt = NULL, *md = NULL;
    const char *why_none = kinds ? "" : "no task has left a results file yet";
    if (asprintf(&txt, "fleet %s: job array %s: %s\n\n%s\n%s%s\n", dir, str(fleet, "array_job_id"),
                 counts, ttx ? ttx : "", crc == 0 ? out_txt : "", why_none) < 0)
        txt = NULL;
    if (asprintf(&md, "# Fleet %s\n\nJob array %s: %s.\n\n## Tasks\n\n%s\n## Machines\n\n%s%s\n",
                 dir, str(fleet, "array_job_id"), counts, tmd ? tmd : "",
                 crc == 0 ? out_md : "", why_none) < 0)
        md = NULL;
    json_t *cj = crc == 0 ? json_loads(out_json, 0, NULL) : NULL;
    json_t *doc = json_pack("{s:s, s:s, s:s, s:O, s:o}", "schema", "specbias-fleet-comparison/1",
                            "array_job_id", str(fleet, "array_job_id"), "counts", counts,
                            "tasks", states, "comparison", cj ? cj : json_null());
    char *djson = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;
    json_t *tdoc = json_pack("{s:s, s:O}", "schema", "specbias-fleet-tasks/1", "tasks", states);
    char werr[4400];
    if (!txt || !md || !djson || !tdoc || write_text(dir, "comparison.txt", txt) ||
        write_text(dir, "comparison.md", md) || write_text(dir, "comparison.json", djson) ||
        sb_json_file_write(tdoc, dir, "tasks", werr, sizeof werr)) {
        fprintf(stderr, "specbias fleet gather: cannot write the comparison in %s: %s\n", dir,
                strerror(errno));
        rc = SB_EXIT_FAILED;
    } else {
        fputs(txt, stdout);
        printf("specbias fleet gather: %s/comparison.md, .txt, .json and tasks.json\n", dir);
    }
    if (kinds && crc != 0) rc = SB_EXIT_FAILED;
    if (kinds && rc == SB_EXIT_OK) {
        char rout[PATH_MAX + 16];
        snprintf(rout, sizeof rout, "%s/report", dir);
        rargs[nr++] = "--out";
        rargs[nr++] = rout;
        char *rerr = NULL, *rso = NULL;
        const int rr = self(rargs, &rso, &rerr);
        if (rr != 0) {
            fprintf(stderr, "specbias fleet gather: specbias report exited %d: %s", rr,
                    rerr ? rerr : "");
            rc = SB_EXIT_FAILED;
        } else {
            printf("specbias fleet gather: report in %s/index.html\n", rout);
        }
        free(rerr);
        free(rso);
    }
    if (!kinds) rc = SB_EXIT_FAILED;
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
    free(cerr);
done:
    for (size_t k = 0; k < no; k++) free(owned[k]);
    free(owned);
    free(cargs);
    free(rargs);
    json_decref(states);
    json_decref(fleet);
    return rc;
}

/* ---- dispatch ----------------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: specbias fleet submit --suite S --machine NAME[:KEY=VALUE...] ... --out DIR "
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
