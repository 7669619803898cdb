/* The progress bar `specbias run` redraws on a terminal (stderr): one line that fits the
 * terminal's width, redrawn in place ("\r", then erase to the end of the line), so it never
 * wraps and never scrolls. */
#ifndef SPECBIAS_HARNESS_PROGRESS_H
#define SPECBIAS_HARNESS_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

struct sb_progress {
    size_t index, count; /* experiment index (from 0) of count */
    const char *name;
    size_t rep, reps;    /* repetition (from 0) of reps */
    uint64_t step, steps;
    double done;         /* fraction of the experiment's steps done, in [0, 1] */
    float loss;
    double elapsed, eta; /* seconds */
};

/* Columns of the terminal on stderr: TIOCGWINSZ, else $COLUMNS, else 80. */
int sb_progress_columns(void);

/* The bar's text for `cols` columns: at most cols - 1 characters (the last column is left
 * free, where some terminals wrap early), fields shortened or dropped as the width shrinks:
 * the elapsed time first, then the bar narrower, the name shorter, the loss, the name shorter
 * still, the step count as a percentage, the bar, the ETA. */
void sb_progress_format(const struct sb_progress *p, int cols, char *buf, size_t len);

#endif
