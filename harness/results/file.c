/* results.json on disk: the whole document, written to a temporary file in the same folder,
 * flushed and renamed over DIR/results.json, so a reader (or a crash) sees the old file or the
 * new one, never a mix; and an earlier results.json kept under a dated name before a new run
 * first writes, so no run destroys another's results. */
#define _POSIX_C_SOURCE 200809L
#include "harness/results/results.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
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
    return sb_json_file_write(root, dir, "results", err, errlen);
}

int sb_json_file_write(json_t *root, const char *dir, const char *stem, char *err, size_t errlen)
{
    char *tmp = tmp_path, path[4200];
    snprintf(path, sizeof path, "%s/%s.json", dir, stem);
    snprintf(tmp, sizeof tmp_path, "%s/.%s.json.%ld.tmp", dir, stem, (long)getpid());
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
        snprintf(err, errlen, "%s: cannot write %s (%s its temporary file): %s", path, stem,
                 ok ? "renaming" : "writing", strerror(ok ? errno : saved));
        unlink(tmp);
        tmp_live = 0;
        return -1;
    }
    tmp_live = 0;
    return 0;
}

/* The earlier file's stamp for its kept name: its context.date (when the run started), made
 * safe for file names, else its modification time; and whether it is complete. */
static void earlier_stamp(const char *path, const struct stat *st, char *stamp, size_t len,
                          int *complete)
{
    json_t *root = json_load_file(path, 0, NULL);
    const char *date = json_string_value(json_object_get(json_object_get(root, "context"), "date"));
    /* results.json says complete: true; scaling.json status: "complete" */
    const char *status = json_string_value(json_object_get(root, "status"));
    *complete = json_is_true(json_object_get(root, "complete")) ||
                (status && !strcmp(status, "complete"));
    if (date && *date) {
        snprintf(stamp, len, "%.40s", date);
    } else {
        struct tm tm;
        gmtime_r(&st->st_mtime, &tm);
        strftime(stamp, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
    json_decref(root);
    /* ':' is refused by some file systems and tools (scp, make); '/' would be a folder */
    for (char *p = stamp; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.' && *p != '_') *p = '-';
}

/* Copies src to a new file dst (O_EXCL: never over an existing one), for file systems
 * without hard links. Returns 0, or -1 with errno set (EEXIST: dst exists). */
static int copy_new(const char *src, const char *dst)
{
    int in = open(src, O_RDONLY), out = -1, ok = 0;
    if (in >= 0) out = open(dst, O_WRONLY | O_CREAT | O_EXCL, 0666);
    if (in >= 0 && out >= 0) {
        char buf[65536];
        ssize_t n;
        ok = 1;
        while (ok && (n = read(in, buf, sizeof buf)) != 0) {
            if (n < 0 && errno == EINTR) continue;
            for (ssize_t done = 0, w; ok && n > 0 && done < n; done += w)
                if ((w = write(out, buf + done, (size_t)(n - done))) <= 0) ok = 0;
            if (n < 0) ok = 0;
        }
        ok = ok && fsync(out) == 0;
    }
    const int saved = errno;
    if (out >= 0 && close(out) != 0) ok = 0;
    if (out >= 0 && !ok) unlink(dst);
    if (in >= 0) close(in);
    errno = saved;
    return ok ? 0 : -1;
}

int sb_results_keep_earlier(const char *dir, char *kept, size_t keptlen, int *complete,
                            char *err, size_t errlen)
{
    return sb_json_file_keep_earlier(dir, "results", kept, keptlen, complete, err, errlen);
}

int sb_json_file_keep_earlier(const char *dir, const char *stem, char *kept, size_t keptlen,
                              int *complete, char *err, size_t errlen)
{
    char path[4200], stamp[64], name[4300];
    struct stat st, other;
    kept[0] = 0;
    snprintf(path, sizeof path, "%s/%s.json", dir, stem);
    if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode)) return 0;
    earlier_stamp(path, &st, stamp, sizeof stamp, complete);
    int k = 1;
    for (; k < 1000; k++) {
        char suffix[16] = "";
        if (k > 1) snprintf(suffix, sizeof suffix, "-%d", k);
        snprintf(name, sizeof name, "%s/%s-%s%s%s.json", dir, stem, stamp,
                 *complete ? "" : "-incomplete", suffix);
        /* Kept already (a run stopped before it wrote over results.json): the same file. */
        if (stat(name, &other) == 0 && other.st_ino == st.st_ino && other.st_dev == st.st_dev)
            break;
        /* A second name for the same file: results.json is then replaced by rename, and this
         * name goes on holding the earlier bytes. Never over an existing name (EEXIST). */
        if (link(path, name) == 0) break;
        if (errno == EEXIST) continue;
        if ((errno == EPERM || errno == EXDEV || errno == ENOTSUP || errno == EMLINK) &&
            copy_new(path, name) == 0)
            break;
        if (errno == EEXIST) continue;
        snprintf(err, errlen, "%s: cannot keep the earlier %s as %s before writing new ones: %s",
                 path, stem, name, strerror(errno));
        return -1;
    }
    if (k == 1000) {
        snprintf(err, errlen, "%s: cannot keep the earlier %s: 999 kept files of %s", path,
                 stem, stamp);
        return -1;
    }
    snprintf(kept, keptlen, "%s", name);
    return 1;
}
