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

static void report_usage(FILE *f)
{
    fprintf(f,
            "usage: specbias report RESULTS... [--out DIR] [--history DIR]\n"
            "\n"
            "  RESULTS      results.json files of `specbias run` and/or Google Benchmark JSON\n"
            "               of `specbias kernels`; two or more results files are compared\n"
            "               (`specbias compare`)\n"
            "  --out DIR    where index.html, report.md and figures/ go (default out/report)\n"
            "  --history DIR\n"
            "               also plot every results file in DIR (*.json, */results.json) over\n"
            "               time per machine, with change points marked\n"
            "\n"
            "environment: SPECBIAS_PYTHON (default " DEFAULT_PYTHON "; needs matplotlib),\n"
            "             SPECBIAS_REPORTS_DIR (default the source tree's reports/)\n");
}

/* An option's value: "--opt VALUE" or "--opt=VALUE"; NULL when argv[*i] is not that option. */
static const char *opt_value(int argc, char **argv, int *i, const char *name, int *missing)
{
    const size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0) return NULL;
    if (argv[*i][n] == '=') return argv[*i] + n + 1;
    if (argv[*i][n] != '\0') return NULL;
    if (*i + 1 >= argc) {
        *missing = 1;
        return NULL;
    }
    return argv[++*i];
}

/* Runs the report's Python on the checked arguments; its exit status (0, 2 or 3), or 3. */
static int launch(const char *const *files, int nfiles, const char *out, const char *history)
{
    const char *dir = getenv("SPECBIAS_REPORTS_DIR");
    if (!dir || !*dir) dir = SB_REPORTS_DIR;
    char script[PATH_MAX];
    if (snprintf(script, sizeof script, "%s/report.py", dir) >= (int)sizeof script ||
        access(script, R_OK) != 0) {
        fprintf(stderr,
                "specbias report: cannot find the report code %s/report.py (set "
                "SPECBIAS_REPORTS_DIR to the source tree's reports/ folder)\n",
                dir);
        return SB_EXIT_FAILED;
    }
    const char *python = getenv("SPECBIAS_PYTHON");
    if (!python || !*python) python = DEFAULT_PYTHON;
    if (access(python, X_OK) != 0) {
        fprintf(stderr,
                "specbias report: no Python interpreter at %s (%s): install python3-matplotlib "
                "(Debian), or set SPECBIAS_PYTHON to a python3 that has matplotlib\n",
                python, strerror(errno));
        return SB_EXIT_FAILED;
    }
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

    fflush(stdout);
    fflush(stderr);
    const pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "specbias report: cannot start %s: %s\n", python, strerror(errno));
        free(args);
        return SB_EXIT_FAILED;
    }
    if (pid == 0) {
        execv(python, (char *const *)args);
        fprintf(stderr, "specbias report: cannot run %s: %s\n", python, strerror(errno));
        _exit(127);
    }
    free(args);
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

/* files has room for argc + 1. Returns 0, 1 (help printed) or -1 (message printed). */
static int parse_args(int argc, char **argv, const char **files, int *nfiles, const char **out,
                      const char **history)
{
    *out = *history = NULL;
    *nfiles = 0;
    int only_files = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        int missing = 0;
        if (!only_files && strcmp(a, "--") == 0) {
            only_files = 1;
        } else if (!only_files && (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)) {
            report_usage(stdout);
            return 1;
        } else if (!only_files && ((v = opt_value(argc, argv, &i, "--out", &missing)) || missing)) {
            if (missing || !*v) {
                fprintf(stderr, "specbias report: --out needs a value (a folder)\n");
                return -1;
            }
            *out = v;
        } else if (!only_files &&
                   ((v = opt_value(argc, argv, &i, "--history", &missing)) || missing)) {
            if (missing || !*v) {
                fprintf(stderr, "specbias report: --history needs a value (a folder)\n");
                return -1;
            }
            *history = v;
        } else if (!only_files && a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "specbias report: unknown option '%s'\n", a);
            report_usage(stderr);
            return -1;
        } else {
            files[(*nfiles)++] = a;
        }
    }
    if (*nfiles == 0 && !*history) {
        fprintf(stderr, "specbias report: no results files given (and no --history DIR)\n");
        report_usage(stderr);
        return -1;
    }
    return 0;
}

int sb_report_parse_only(int argc, char **argv)
{
    const char *out, *history;
    const char **files = calloc((size_t)argc + 1, sizeof *files);
    if (!files) return -1;
    int nfiles;
    const int rc = parse_args(argc, argv, files, &nfiles, &out, &history);
    free(files);
    return rc;
}

int sb_cmd_report(int argc, char **argv)
{
    const char *out, *history;
    const char **files = calloc((size_t)argc + 1, sizeof *files);
    if (!files) {
        fprintf(stderr, "specbias report: out of memory\n");
        return SB_EXIT_FAILED;
    }
    int nfiles, rc = SB_EXIT_USAGE;
    const int prc = parse_args(argc, argv, files, &nfiles, &out, &history);
    if (prc) {
        free(files);
        return prc > 0 ? SB_EXIT_OK : SB_EXIT_USAGE;
    }
    struct stat st;
    for (int i = 0; i < nfiles; i++) {
        if (stat(files[i], &st) != 0) {
            fprintf(stderr, "specbias report: %s: cannot open: %s\n", files[i], strerror(errno));
            goto done;
        }
        if (!S_ISREG(st.st_mode)) {
            fprintf(stderr, "specbias report: %s: not a file\n", files[i]);
            goto done;
        }
    }
    if (history && (stat(history, &st) != 0 || !S_ISDIR(st.st_mode))) {
        fprintf(stderr, "specbias report: --history %s: not a folder\n", history);
        goto done;
    }

    rc = launch(files, nfiles, out, history);
done:
    free(files);
    return rc;
}
