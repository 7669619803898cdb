/* `specbias run` in child processes (run_child.h). */
#define _GNU_SOURCE
#include "harness/cli/run_child.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

volatile sig_atomic_t sb_child_signal = 0;

/* The running children, for the signal handler: a fixed table, since the handler may neither
 * allocate nor lock. 0 marks a free slot. */
#define MAX_CHILDREN 1024
static volatile pid_t running[MAX_CHILDREN];

int sb_argv_addf(struct sb_argv *a, const char *fmt, ...)
{
    if (a->n + 2 > a->cap) {
        const size_t cap = a->cap ? 2 * a->cap : 16;
        char **v = realloc(a->v, cap * sizeof *v);
        if (!v) return -1;
        a->v = v;
        a->cap = cap;
    }
    va_list ap;
    va_start(ap, fmt);
    const int rc = vasprintf(&a->v[a->n], fmt, ap);
    va_end(ap);
    if (rc < 0) return -1;
    a->v[++a->n] = NULL;
    return 0;
}

void sb_argv_free(struct sb_argv *a)
{
    for (size_t i = 0; i < a->n; i++) free(a->v[i]);
    free(a->v);
    memset(a, 0, sizeof *a);
}

static void on_signal(int sig, siginfo_t *info, void *context)
{
    (void)context;
    if (!sb_child_signal) sb_child_signal = sig;
    /* A Ctrl-C at the terminal is the kernel's, sent to the whole foreground process group:
     * the children, in the parent's group, have it already, and a second copy could make
     * them leave at once instead of stopping between steps. */
    if (info && info->si_code == SI_KERNEL) return;
    for (int i = 0; i < MAX_CHILDREN; i++)
        if (running[i] > 0) kill(running[i], sig);
}

void sb_child_signals_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_RESTART | SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static void track(pid_t old, pid_t now)
{
    for (int i = 0; i < MAX_CHILDREN; i++)
        if (running[i] == old) {
            running[i] = now;
            return;
        }
}

pid_t sb_child_spawn(const struct sb_argv *args, enum sb_child_stdout out, char *err,
                     size_t errlen)
{
    /* Signals stay blocked from before fork until the child is in the table (parent) or back
     * to the default action (child): a signal in between is then neither lost in a child that
     * has not reached exec yet nor left unforwarded. */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, &old);
    fflush(NULL);
    const pid_t pid = fork();
    if (pid == 0) {
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
#ifdef __linux__
        /* a parent killed outright (SIGKILL) takes its child with it, as one run would go */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
        if (out == SB_CHILD_STDOUT_TO_STDERR) dup2(STDERR_FILENO, STDOUT_FILENO);
        if (out == SB_CHILD_STDOUT_DISCARD) {
            const int null = open("/dev/null", O_WRONLY);
            if (null >= 0) dup2(null, STDOUT_FILENO);
        }
        sigprocmask(SIG_SETMASK, &old, NULL);
        execv("/proc/self/exe", args->v);
        fprintf(stderr, "specbias run: cannot start /proc/self/exe: %s\n", strerror(errno));
        _exit(127);
    }
    const int e = errno;
    if (pid > 0) track(0, pid);
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (pid < 0) {
        snprintf(err, errlen, "cannot start a child run: %s", strerror(e));
        return -1;
    }
    /* A signal that came while blocked is handled now, after the unblock, with this child in
     * the table: it reaches the child. */
    return pid;
}

static int exit_code(int status)
{
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 3;
}

int sb_child_wait(pid_t pid)
{
    int status;
    pid_t got;
    while ((got = waitpid(pid, &status, 0)) < 0 && errno == EINTR) {}
    if (got < 0) return -1;
    track(got, 0);
    return exit_code(status);
}

int sb_child_wait_any(pid_t *pid)
{
    int status;
    pid_t got;
    while ((got = waitpid(-1, &status, 0)) < 0 && errno == EINTR) {}
    if (got < 0) return -1;
    track(got, 0);
    if (pid) *pid = got;
    return exit_code(status);
}

int sb_child_run(const struct sb_argv *args, enum sb_child_stdout out, char *err,
                 size_t errlen)
{
    const pid_t pid = sb_child_spawn(args, out, err, errlen);
    return pid < 0 ? -1 : sb_child_wait(pid);
}
