/* specbias compare: are two experiments the same experiment? Their `config` objects (the
 * experiment as run: target, encoding, model, train, checkpoints, seed, ...; docs/results.md)
 * are walked together, so a field added to the config later is checked without a change
 * here, and a difference is named by its path ("train.steps") with both values. Timings or
 * quality of different experiments are not a regression, so such an experiment is "not
 * comparable" and takes no part in the verdicts. */
#define _POSIX_C_SOURCE 200809L
#include "harness/compare/compare.h"

#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

/* Differences listed in a row's note; the count says how many there were in all. */
#define LISTED_DIFFERENCES 3

struct walk {
    struct config_diff *d;
    int skip_target_path; /* both sides identify their image by the pixels' hash */
    size_t note_len, one_sided_len;
};

/* A value as the messages show it: strings bare, numbers short, anything else as compact
 * JSON, cut to fit. */
static void value_text(char *buf, size_t len, const json_t *v)
{
    if (!v) {
        snprintf(buf, len, "absent");
    } else if (json_is_string(v)) {
        snprintf(buf, len, "%s", json_string_value(v));
    } else if (json_is_integer(v)) {
        snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    } else if (json_is_real(v)) {
        snprintf(buf, len, "%.10g", json_real_value(v));
    } else if (json_is_array(v) || json_is_object(v)) {
        char *dump = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        snprintf(buf, len, "%s", dump ? dump : "?");
        if (dump && strlen(dump) >= len && len > 4) memcpy(buf + len - 4, "...", 4);
        free(dump);
    } else {
        snprintf(buf, len, "%s", json_is_true(v) ? "true" : json_is_false(v) ? "false" : "null");
    }
}

static void append(char *buf, size_t cap, size_t *len, const char *text)
{
    if (*len + 1 >= cap) return;
    const int w = snprintf(buf + *len, cap - *len, "%s%s", *len ? "; " : "", text);
    if (w > 0) *len += (size_t)w;
    if (*len >= cap) *len = cap - 1;
}

static void differs(struct walk *w, const char *path, const json_t *b, const json_t *n)
{
    struct config_diff *d = w->d;
    char tb[48], tn[48], line[160];
    value_text(tb, sizeof tb, b);
    value_text(tn, sizeof tn, n);
    if (d->n++ == 0) {
        snprintf(d->field, sizeof d->field, "%s", path);
        snprintf(d->base_text, sizeof d->base_text, "%s", tb);
        snprintf(d->new_text, sizeof d->new_text, "%s", tn);
    }
    if (d->n > LISTED_DIFFERENCES) return;
    snprintf(line, sizeof line, "%s: %s in BASE, %s in NEW", path, tb, tn);
    append(d->note, sizeof d->note, &w->note_len, line);
}

/* Fields that describe the run rather than define the experiment. */
static int ignored(const struct walk *w, const char *path)
{
    /* the steps as run are train.steps; what the suite said before --steps is a label */
    if (!strcmp(path, "train.steps_overridden_from")) return 1;
    /* another checkout finds the same image elsewhere; its pixels' hash is compared */
    return w->skip_target_path && !strcmp(path, "target.path");
}

static void walk_value(struct walk *w, const char *path, const json_t *b, const json_t *n);

static void walk_object(struct walk *w, const char *path, const json_t *b, const json_t *n)
{
    char sub[256];
    const char *key;
    const json_t *vb, *vn;
    json_object_foreach ((json_t *)b, key, vb) {
        snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", key);
        if (ignored(w, sub)) continue;
        vn = json_object_get(n, key);
        if (vn)
            walk_value(w, sub, vb, vn);
        else
            append(w->d->one_sided, sizeof w->d->one_sided, &w->one_sided_len, sub);
    }
    json_object_foreach ((json_t *)n, key, vn) {
        snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", key);
        if (!json_object_get(b, key) && !ignored(w, sub))
            append(w->d->one_sided, sizeof w->d->one_sided, &w->one_sided_len, sub);
    }
}

static void walk_value(struct walk *w, const char *path, const json_t *b, const json_t *n)
{
    if (json_is_object(b) && json_is_object(n)) {
        walk_object(w, path, b, n);
    } else if (json_is_array(b) && json_is_array(n)) {
        const size_t nb = json_array_size(b), nn = json_array_size(n);
        if (nb != nn) {
            differs(w, path, b, n);
            return;
        }
        char sub[256];
        for (size_t i = 0; i < nb; i++) {
            snprintf(sub, sizeof sub, "%s[%zu]", path, i);
            walk_value(w, sub, json_array_get(b, i), json_array_get(n, i));
        }
    } else if (json_is_number(b) && json_is_number(n)) {
        /* 1 and 1.0 are one number, whichever way a writer spelled it */
        if (json_number_value(b) != json_number_value(n)) differs(w, path, b, n);
    } else if (!json_equal((json_t *)b, (json_t *)n)) {
        differs(w, path, b, n);
    }
}

int sb_config_compare(const json_t *base, const json_t *new_, struct config_diff *d)
{
    memset(d, 0, sizeof *d);
    struct walk w = {d, 0, 0, 0};
    const json_t *tb = json_object_get(base, "target"), *tn = json_object_get(new_, "target");
    w.skip_target_path = json_is_string(json_object_get(tb, "data_hash")) &&
                         json_is_string(json_object_get(tn, "data_hash"));
    walk_value(&w, "", base, new_);
    if (d->n > LISTED_DIFFERENCES) {
        char more[64];
        snprintf(more, sizeof more, "and %zu more", d->n - LISTED_DIFFERENCES);
        append(d->note, sizeof d->note, &w.note_len, more);
    }
    return d->n == 0;
}
