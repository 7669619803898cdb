/* The progress bar's line (progress.h). */
#define _POSIX_C_SOURCE 200809L
#include "harness/train/progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int sb_progress_columns(void)
{
    struct winsize ws;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
    const char *c = getenv("COLUMNS");
    char *end;
    const long n = c ? strtol(c, &end, 10) : 0;
    if (c && *c && !*end && n > 0 && n < 100000) return (int)n;
    return 80;
}

/* Appends to buf (of len, holding *at characters). */
#define ADD(...)                                                                                   \
    do {                                                                                           \
        if (*at < len) *at += (size_t)snprintf(buf + *at, len - *at, __VA_ARGS__);                 \
    } while (0)

/* The line at shortening `level` (0: everything). */
static void build(const struct sb_progress *p, int level, char *buf, size_t len, size_t *at)
{
    const int bar = level < 2 ? 24 : level < 7 ? 10 : 0;
    const int name = level < 3 ? 22 : level < 5 ? 16 : 12;
    *at = 0;
    buf[0] = 0;
    ADD("[%zu/%zu] %-*.*s", p->index + 1, p->count, name, name, p->name);
    if (bar) {
        char b[32];
        const int fill = (int)((double)bar * p->done);
        for (int i = 0; i < bar; i++) b[i] = i < fill ? '#' : '.';
        b[bar] = 0;
        ADD(" [%s]", b);
    }
    if (p->reps > 1) ADD(" rep %zu/%zu", p->rep + 1, p->reps);
    if (level < 6)
        ADD(" step %llu/%llu", (unsigned long long)p->step, (unsigned long long)p->steps);
    else
        ADD(" %3.0f%%", 100.0 * p->done);
    if (level < 4) ADD(" loss %.3e", (double)p->loss);
    if (level < 1) ADD(" %5.1fs", p->elapsed);
    if (level < 8) ADD(" ETA %.0fs", p->eta);
}

void sb_progress_format(const struct sb_progress *p, int cols, char *buf, size_t len)
{
    const size_t fit = cols > 1 ? (size_t)cols - 1 : 1;
    size_t at = 0;
    for (int level = 0; level <= 8; level++) {
        build(p, level, buf, len, &at);
        if (at <= fit) return;
    }
    /* Narrower than the shortest form: cut it. */
    if (fit < len) buf[fit] = 0;
}
