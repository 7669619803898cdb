/* results.json on disk: the whole document, written to a temporary file in the same folder,
 * flushed and renamed over DIR/results.json, so a reader (or a crash) sees the old file or the
 * new one, never a mix. */
#define _POSIX_C_SOURCE 200809L
#include "harness/results/results.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The temporary results file being written, so a second signal can remove it. */
static char tmp_path[4200];
static volatile sig_atomic_t tmp_live = 0;

json_t *sb_results_new(json_t *context)
{
    return json_pack("{s:s, s:o, s:b, s:b, s:[]}", "schema", "specbias-results/1", "context",
                     context, "complete", 0, "interrupted", 0, "experiments");
}

void sb_results_remove_partial(void)
{
    if (tmp_live) unlink(tmp_path);
}

int sb_results_write(json_t *root, const char *dir, char *err, size_t errlen)
{
    char *tmp = tmp_path, path[4200];
    snprintf(path, sizeof path, "%s/results.json", dir);
    snprintf(tmp, sizeof tmp_path, "%s/.results.json.%ld.tmp", dir, (long)getpid());
    char *text = json_dumps(root, JSON_INDENT(1) | JSON_REAL_PRECISION(10));
    if (!text) {
        snprintf(err, errlen, "%s: out of memory serialising the results", path);
        return -1;
    }
    const size_t len = strlen(text);
    tmp_live = 1;
    int fd;
    do fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    while (fd < 0 && errno == EINTR);
    int ok = fd >= 0;
    size_t done = 0;
    while (ok && done < len) {
        ssize_t w = write(fd, text + done, len - done);
        if (w < 0 && errno == EINTR) continue;
        ok = w > 0;
        if (ok) done += (size_t)w;
    }
    ok = ok && write(fd, "\n", 1) == 1 && fsync(fd) == 0;
    const int saved = errno;
    if (fd >= 0 && close(fd) != 0) ok = 0;
    free(text);
    if (!ok || rename(tmp, path) != 0) {
        /* The earlier results.json, if any, is untouched: only the temporary file is lost. */
        snprintf(err, errlen, "%s: cannot write results (%s its temporary file): %s", path,
                 ok ? "renaming" : "writing", strerror(ok ? errno : saved));
        unlink(tmp);
        tmp_live = 0;
        return -1;
    }
    tmp_live = 0;
    return 0;
}
