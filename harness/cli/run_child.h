/* Runs of `specbias run` in child processes of this same executable, for the commands that are
 * made of several runs (a scaling run, run_scaling.c): each child an ordinary run into its own
 * folder, its progress on the terminal, a signal to the parent passed on to every child still
 * running, its exit code collected. Several children may run at once (sb_child_wait_any). */
#ifndef SPECBIAS_HARNESS_RUN_CHILD_H
#define SPECBIAS_HARNESS_RUN_CHILD_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

/* A growing argument vector, NULL-terminated (v[n] == NULL) for execv. */
struct sb_argv {
    char **v;
    size_t n, cap;
};
/* Appends a copy of s (printf format). Returns 0, or -1 out of memory. */
int sb_argv_addf(struct sb_argv *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_argv_free(struct sb_argv *a);

/* The first SIGINT or SIGTERM the parent got since sb_child_signals_install, or 0. */
extern volatile sig_atomic_t sb_child_signal;

/* SIGINT and SIGTERM from now on: recorded in sb_child_signal and passed on to every running
 * child (each child stops between steps and keeps what finished, as `specbias run` does; a
 * second signal makes them leave at once). Children stay in the parent's process group, so
 * job control (Ctrl-Z) and a terminal's Ctrl-C reach them directly; the terminal's signals are
 * therefore not passed on, only those sent to the parent alone (kill PID). */
void sb_child_signals_install(void);

/* Where a child's stdout (its summary table) goes. */
enum sb_child_stdout {
    SB_CHILD_STDOUT_KEEP,      /* the parent's stdout */
    SB_CHILD_STDOUT_TO_STDERR, /* the parent's stderr: the parent's stdout holds its own table */
    SB_CHILD_STDOUT_DISCARD    /* /dev/null (--quiet: the table is in results.json anyway) */
};

/* Starts /proc/self/exe with args (args->v[0] is the program name shown, then "run", ...;
 * the caller adds the child's own --out and whatever else it differs by); its stderr is the
 * parent's. Returns the child's pid, or -1 with the reason in err. */
pid_t sb_child_spawn(const struct sb_argv *args, enum sb_child_stdout out, char *err,
                     size_t errlen);

/* Waits for that child (sb_child_wait) or any (sb_child_wait_any, its pid in *pid) to end.
 * Returns its exit code, 128 + the signal when a signal ended it, or -1 when there is no
 * child to wait for. */
int sb_child_wait(pid_t pid);
int sb_child_wait_any(pid_t *pid);

/* spawn, then wait: the child's exit code, or -1 with err set when it could not start. */
int sb_child_run(const struct sb_argv *args, enum sb_child_stdout out, char *err,
                 size_t errlen);

#endif
