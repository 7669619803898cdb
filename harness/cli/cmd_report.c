/* specbias report RESULTS... [--out DIR] [--history DIR]: the HTML and Markdown report.
 *
 * The report is Python (reports/, matplotlib): this command checks its arguments, finds the
 * code and the interpreter, and runs it without a shell. The Python gets this executable's
 * path so that it can run `specbias compare --format json` for the regression verdicts.
 *
 * Where things are: the code is SB_REPORTS_DIR (the source tree's reports/, baked in by
 * CMakeLists.txt) unless $SPECBIAS_REPORTS_DIR says otherwise; the interpreter is
 * $SPECBIAS_PYTHON, else /usr/bin/python3 (Debian's, which python3-matplotlib installs into;
 * a python3 earlier on PATH may be another build without it). */
#define _POSIX_C_SOURCE 200809L
#include "harness/cli/cli.h"
#include "harness/cli/options.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SB_REPORTS_DIR
#define SB_REPORTS_DIR "reports"
#endif

#define DEFAULT_PYTHON "/usr/bin/python3"

/* The report's code (script) and interpreter (*python). Returns 0, or SB_EXIT_FAILED with the
 * message printed. */
static int find_report(char *script, size_t len, const char **python)
{
    const char *dir = getenv("SPECBIAS_REPORTS_DIR");
    if (!dir || !*dir) dir = SB_REPORTS_DIR;
    if (snprintf(script, len, "%s/report.py", dir) >= (int)len || access(script, R_OK) != 0) {
        fprintf(stderr,
                "specbias report: cannot find the report code %s/report.py (set "
                "SPECBIAS_REPORTS_DIR to the source tree's reports/ folder)\n",
                dir);
        return SB_EXIT_FAILED;
    }
    *python = getenv("SPECBIAS_PYTHON");
    if (!*python || !**python) *python = DEFAULT_PYTHON;
    if (access(*python, X_OK) != 0) {
        fprintf(stderr,
                "specbias report: no Python interpreter at %s (%s): install python3-matplotlib "
                "(Debian), or set SPECBIAS_PYTHON to a python3 that has matplotlib\n",
                *python, strerror(errno));
        return SB_EXIT_FAILED;
    }
    return 0;
}

/* Runs args[0] with args and waits: its exit status (0, 2 or 3), or 3. */
static int run_python(const char *const *args)
{
    const char *python = args[0], *script = args[1];
    fflush(stdout);
    fflush(stderr);
    const pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "specbias report: cannot start %s: %s\n", python, strerror(errno));
        return SB_EXIT_FAILED;
    }
    if (pid == 0) {
        execv(python, (char *const *)args);
        fprintf(stderr, "specbias report: cannot run %s: %s\n", python, strerror(errno));
        _exit(127);
    }
    int status, rc = SB_EXIT_FAILED;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            fprintf(stderr, "specbias report: waiting for %s: %s\n", python, strerror(errno));
            return SB_EXIT_FAILED;
        }
    }
    if (WIFEXITED(status)) {
        const int code = WEXITSTATUS(status);
        if (code == SB_EXIT_OK || code == SB_EXIT_USAGE || code == SB_EXIT_FAILED) {
            rc = code;
        } else {
            /* 1 is Python's own exit for an uncaught error (and "regression" here): a failure */
            fprintf(stderr, "specbias report: %s %s exited %d\n", python, script, code);
            rc = SB_EXIT_FAILED;
        }
    } else if (WIFSIGNALED(status)) {
        fprintf(stderr, "specbias report: %s was killed by signal %d\n", python,
                WTERMSIG(status));
        rc = SB_EXIT_FAILED;
    }
    return rc;
}

/* Runs the report's Python on the checked arguments; its exit status (0, 2 or 3), or 3. */
static int launch(const char *const *files, int nfiles, const char *out, const char *history)
{
    char script[PATH_MAX];
    const char *python;
    if (find_report(script, sizeof script, &python)) return SB_EXIT_FAILED;
    char self[PATH_MAX];
    const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        /* Without it the report goes on; it only lacks the compare verdicts, and says so. */
        self[0] = '\0';
    } else {
        self[n] = '\0';
    }

    /* python script [--specbias SELF] --out DIR [--history DIR] -- FILES... NULL */
    const char **args = calloc((size_t)nfiles + 12, sizeof *args);
    if (!args) {
        fprintf(stderr, "specbias report: out of memory\n");
        return SB_EXIT_FAILED;
    }
    int k = 0;
    args[k++] = python;
    args[k++] = script;
    if (self[0]) {
        args[k++] = "--specbias";
        args[k++] = self;
    }
    args[k++] = "--out";
    args[k++] = out ? out : "out/report";
    if (history) {
        args[k++] = "--history";
        args[k++] = history;
    }
    args[k++] = "--";
    for (int i = 0; i < nfiles; i++) args[k++] = files[i];
    args[k] = NULL;
    const int rc = run_python(args);
    free(args);
    return rc;
}

/* The command's options and --help; a, files and its list are the parse's results. */
struct report_args {
    const char *out, *history;
    struct sb_option_list files; /* room for argc */
};

static struct sb_command_spec report_spec(struct report_args *a, struct sb_option *options)
{
    const struct sb_option o[] = {
        {SB_STRING("--out", &a->out, "DIR",
                   "where index.html, report.md and figures/ go (default out/report)"),
         .nonempty = 1},
        {SB_STRING("--history", &a->history, "DIR",
                   "also plot every results file in DIR (*.json, */results.json) over time per "
                   "machine, with change points marked"),
         .nonempty = 1},
    };
    memcpy(options, o, sizeof o);
    return (struct sb_command_spec){
        .name = "report",
        .synopsis = "RESULTS...",
        .description =
            "  RESULTS        results.json files of `specbias run` and/or Google Benchmark JSON\n"
            "                 of `specbias kernels`; two or more results files are compared\n"
            "                 (`specbias compare`); the scaling.json of `specbias run --threads\n"
            "                 LIST`, or its folder, adds a Strong scaling section; the\n"
            "                 throughput.json of `specbias run --throughput GROUPS`, or its\n"
            "                 folder, a Throughput section\n",
        .options = options,
        .noptions = sizeof o / sizeof *o,
        .epilogue = "environment: SPECBIAS_PYTHON (default " DEFAULT_PYTHON "; needs matplotlib),\n"
                    "             SPECBIAS_REPORTS_DIR (default the source tree's reports/)\n",
        .positionals = &a->files};
}

/* a->files.v has room for argc. Returns 0, 1 (help printed) or -1 (message printed). */
static int parse_args(int argc, char **argv, struct report_args *a)
{
    struct sb_option options[2];
    a->out = a->history = NULL;
    a->files.n = 0;
    struct sb_command_spec cmd = report_spec(a, options);
    const int rc = sb_options_parse(&cmd, argc, argv);
    if (rc) return rc;
    if (a->files.n == 0 && !a->history) {
        fprintf(stderr, "specbias report: no results files given (and no --history DIR)\n");
        sb_options_help(&cmd, stderr);
        return -1;
    }
    return 0;
}

int sb_report_parse_only(int argc, char **argv)
{
    struct report_args a;
    a.files.v = calloc((size_t)argc + 1, sizeof *a.files.v);
    if (!a.files.v) return -1;
    const int rc = parse_args(argc, argv, &a);
    free(a.files.v);
    return rc;
}

int sb_cmd_report(int argc, char **argv)
{
    struct report_args a;
    a.files.v = calloc((size_t)argc + 1, sizeof *a.files.v);
    if (!a.files.v) {
        fprintf(stderr, "specbias report: out of memory\n");
        return SB_EXIT_FAILED;
    }
    int rc = SB_EXIT_USAGE;
    const int prc = parse_args(argc, argv, &a);
    if (prc) {
        free(a.files.v);
        return prc > 0 ? SB_EXIT_OK : SB_EXIT_USAGE;
    }
    const char **files = a.files.v;
    const int nfiles = (int)a.files.n;
    struct stat st;
    for (int i = 0; i < nfiles; i++) {
        if (stat(files[i], &st) != 0) {
            fprintf(stderr, "specbias report: %s: cannot open: %s\n", files[i], strerror(errno));
            goto done;
        }
        /* the folder of a scaling run (`specbias run --threads LIST`) stands for its
         * scaling.json, that of a throughput run for its throughput.json; the report reads
         * it there */
        char inner[PATH_MAX + 16];
        struct stat sst;
        int run_folder = 0;
        for (int k = 0; k < 2 && S_ISDIR(st.st_mode); k++) {
            snprintf(inner, sizeof inner, "%s/%s", files[i], k ? "throughput.json" : "scaling.json");
            run_folder |= stat(inner, &sst) == 0 && S_ISREG(sst.st_mode);
        }
        if (run_folder) continue;
        if (!S_ISREG(st.st_mode)) {
            fprintf(stderr, "specbias report: %s: not a file%s\n", files[i],
                    S_ISDIR(st.st_mode) ? " (nor a scaling run's folder: no scaling.json in it; "
                                          "nor a throughput run's: no throughput.json)"
                                        : "");
            goto done;
        }
    }
    if (a.history && (stat(a.history, &st) != 0 || !S_ISDIR(st.st_mode))) {
        fprintf(stderr, "specbias report: --history %s: not a folder\n", a.history);
        goto done;
    }

    rc = launch(files, nfiles, a.out, a.history);
done:
    free(a.files.v);
    return rc;
}
