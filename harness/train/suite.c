/* Suite files: JSON parsed by jansson. The format is documented in suites/README.md. */
#include "harness/train/experiment.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef SB_SUITES_DIR
#define SB_SUITES_DIR "suites"
#endif

/* Limits that keep a typo from asking for terabytes. */
#define MAX_N (1u << 24)
#define MAX_WIDTH 8192
#define MAX_DEPTH 64
#define MAX_STEPS 100000000ull
#define MAX_FEATURES 8192

struct ctx {
    const char *file;
    char where[SB_NAME_MAX + 64];
    char *err;
    size_t errlen;
    int failed;
};

static int fail(struct ctx *c, const char *fmt, ...)
{
    if (c->failed) return -1;
    c->failed = 1;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(c->err, c->errlen, "%s: %s%s", c->file, c->where, msg);
    return -1;
}

/* Checks that obj has only the listed keys (NULL-terminated), naming the first stranger. */
static int only_keys(struct ctx *c, json_t *obj, const char *path, const char *const *keys)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        int ok = 0;
        for (const char *const *k = keys; *k; k++) ok |= strcmp(*k, key) == 0;
        if (!ok) {
            char list[256] = "";
            for (const char *const *k = keys; *k; k++) {
                strncat(list, *k, sizeof list - strlen(list) - 1);
                if (k[1]) strncat(list, ", ", sizeof list - strlen(list) - 1);
            }
            return fail(c, "unknown field '%s%s%s' (expected one of: %s)", path, *path ? "." : "",
                        key, list);
        }
    }
    return 0;
}

/* "train.lr", or "target_loss" for a top-level key (path ""). */
static const char *dotted(char *buf, size_t len, const char *path, const char *key)
{
    snprintf(buf, len, "%s%s%s", path, *path ? "." : "", key);
    return buf;
}

static json_t *object(struct ctx *c, json_t *parent, const char *key, int required)
{
    json_t *v = json_object_get(parent, key);
    if (!v) {
        if (required) fail(c, "missing field '%s'", key);
        return NULL;
    }
    if (!json_is_object(v)) {
        fail(c, "'%s' must be an object", key);
        return NULL;
    }
    return v;
}

static double number(struct ctx *c, json_t *obj, const char *path, const char *key, double def,
                     int required, double lo, double hi)
{
    char full[128];
    json_t *v = json_object_get(obj, key);
    if (!v) {
        if (required) fail(c, "missing field '%s'", dotted(full, sizeof full, path, key));
        return def;
    }
    if (!json_is_number(v)) {
        fail(c, "'%s' must be a number", dotted(full, sizeof full, path, key));
        return def;
    }
    double x = json_number_value(v);
    if (!(x >= lo && x <= hi)) {
        fail(c, "'%s' = %g is out of range [%g, %g]", dotted(full, sizeof full, path, key), x, lo,
             hi);
        return def;
    }
    return x;
}

static uint64_t integer(struct ctx *c, json_t *obj, const char *path, const char *key,
                       uint64_t def, int required, uint64_t lo, uint64_t hi)
{
    char full[128];
    json_t *v = json_object_get(obj, key);
    if (!v) {
        if (required) fail(c, "missing field '%s'", dotted(full, sizeof full, path, key));
        return def;
    }
    if (!json_is_integer(v)) {
        fail(c, "'%s' must be an integer", dotted(full, sizeof full, path, key));
        return def;
    }
    json_int_t x = json_integer_value(v);
    if (x < 0 || (uint64_t)x < lo || (uint64_t)x > hi) {
        fail(c, "'%s' = %lld is out of range [%llu, %llu]", dotted(full, sizeof full, path, key),
             (long long)x,
             (unsigned long long)lo, (unsigned long long)hi);
        return def;
    }
    return (uint64_t)x;
}

static const char *string(struct ctx *c, json_t *obj, const char *path, const char *key,
                          const char *def, int required)
{
    char full[128];
    json_t *v = json_object_get(obj, key);
    if (!v) {
        if (required) fail(c, "missing field '%s'", dotted(full, sizeof full, path, key));
        return def;
    }
    if (!json_is_string(v)) {
        fail(c, "'%s' must be a string", dotted(full, sizeof full, path, key));
        return def;
    }
    return json_string_value(v);
}

static int choose(struct ctx *c, const char *path, const char *value, const char *const *names)
{
    for (int i = 0; names[i]; i++)
        if (strcmp(value, names[i]) == 0) return i;
    char list[256] = "";
    for (int i = 0; names[i]; i++) {
        strncat(list, names[i], sizeof list - strlen(list) - 1);
        if (names[i + 1]) strncat(list, ", ", sizeof list - strlen(list) - 1);
    }
    fail(c, "'%s' = \"%s\" is not one of: %s", path, value, list);
    return 0;
}

/* A list of numbers, or {"from", "to", "step"} (inclusive). Returns the count. */
static size_t series(struct ctx *c, json_t *v, const char *path, double *out, size_t max)
{
    if (json_is_array(v)) {
        size_t n = json_array_size(v), i;
        json_t *e;
        if (n == 0 || n > max) return fail(c, "'%s' must list 1 to %zu values", path, max), 0;
        json_array_foreach(v, i, e) {
            if (!json_is_number(e)) return fail(c, "'%s[%zu]' must be a number", path, i), 0;
            out[i] = json_number_value(e);
        }
        return n;
    }
    if (json_is_object(v)) {
        static const char *const keys[] = {"from", "to", "step", NULL};
        if (only_keys(c, v, path, keys)) return 0;
        double from = number(c, v, path, "from", 0, 1, -1e9, 1e9);
        double to = number(c, v, path, "to", 0, 1, -1e9, 1e9);
        double step = number(c, v, path, "step", 0, 1, 1e-9, 1e9);
        if (c->failed) return 0;
        if (to < from) return fail(c, "'%s': \"to\" is below \"from\"", path), 0;
        /* Values from + i * step, so no error accumulates over a long series. */
        const double count = floor((to - from) / step + 1e-9) + 1.0;
        if (count > (double)max) return fail(c, "'%s' gives more than %zu values", path, max), 0;
        size_t n = (size_t)count;
        for (size_t i = 0; i < n; i++) out[i] = from + (double)i * step;
        if (n == 0 || n > max) return fail(c, "'%s' must give 1 to %zu values", path, max), 0;
        return n;
    }
    return fail(c, "'%s' must be a list of numbers or {\"from\", \"to\", \"step\"}", path), 0;
}

/* Objects merge key by key, recursively; anything else in `over` replaces `base`. An object
 * whose "kind" differs from the default's replaces it whole (a posenc default's "octaves"
 * must not follow an experiment that says "kind": "none"). */
static json_t *merge(json_t *base, json_t *over)
{
    if (!json_is_object(base) || !json_is_object(over)) return json_deep_copy(over);
    json_t *kb = json_object_get(base, "kind"), *ko = json_object_get(over, "kind");
    if (kb && ko && !json_equal(kb, ko)) return json_deep_copy(over);
    json_t *r = json_deep_copy(base);
    const char *key;
    json_t *v;
    json_object_foreach(over, key, v) {
        json_t *b = json_object_get(r, key);
        json_object_set_new(r, key, b ? merge(b, v) : json_deep_copy(v));
    }
    return r;
}

static void dirname_of(const char *path, char *dir, size_t len)
{
    const char *slash = strrchr(path, '/');
    if (!slash) snprintf(dir, len, ".");
    else snprintf(dir, len, "%.*s", (int)(slash - path), path);
    if (!*dir) snprintf(dir, len, "/");
}

static int parse_target(struct ctx *c, json_t *e, struct sb_experiment *x, const char *dir)
{
    json_t *t = object(c, e, "target", 1);
    if (!t) return -1;
    static const char *const kinds[] = {"sines1d", "image", "zoneplate", NULL};
    x->target = choose(c, "target.kind", string(c, t, "target", "kind", "", 1), kinds);
    if (c->failed) return -1;
    if (x->target == SB_TARGET_SINES1D) {
        static const char *const keys[] = {"kind",        "n",          "domain",
                                           "frequencies", "amplitudes", NULL};
        if (only_keys(c, t, "target", keys)) return -1;
        x->n = integer(c, t, "target", "n", 0, 1, 4, MAX_N);
        x->domain[0] = 0.0;
        x->domain[1] = 1.0;
        json_t *d = json_object_get(t, "domain");
        if (d) {
            if (!json_is_array(d) || json_array_size(d) != 2 ||
                !json_is_number(json_array_get(d, 0)) || !json_is_number(json_array_get(d, 1)))
                return fail(c, "'target.domain' must be [low, high]");
            x->domain[0] = json_number_value(json_array_get(d, 0));
            x->domain[1] = json_number_value(json_array_get(d, 1));
            if (!(x->domain[1] > x->domain[0]) || fabs(x->domain[0]) > 1e6 ||
                fabs(x->domain[1]) > 1e6)
                return fail(c,
                            "'target.domain' must be [low, high] with low < high, |value| <= 1e6");
        }
        json_t *f = json_object_get(t, "frequencies");
        if (!f) return fail(c, "missing field 'target.frequencies'");
        double fv[SB_MAX_FREQS];
        x->nk = series(c, f, "target.frequencies", fv, SB_MAX_FREQS);
        if (c->failed) return -1;
        for (size_t i = 0; i < x->nk; i++) {
            if (fv[i] != floor(fv[i]) || fv[i] < 1 || fv[i] >= (double)x->n / 2)
                return fail(
                    c,
                    "'target.frequencies' value %g must be a whole number in [1, n/2) = [1, %zu)",
                    fv[i], x->n / 2);
            x->freq[i] = (int)fv[i];
            for (size_t j = 0; j < i; j++)
                if (x->freq[j] == x->freq[i])
                    return fail(c, "'target.frequencies' lists %d twice", x->freq[i]);
        }
        json_t *a = json_object_get(t, "amplitudes");
        if (!a || json_is_number(a)) {
            double v = a ? json_number_value(a) : 1.0;
            for (size_t i = 0; i < x->nk; i++) x->amp[i] = v;
        } else {
            double av[SB_MAX_FREQS];
            size_t na = series(c, a, "target.amplitudes", av, SB_MAX_FREQS);
            if (c->failed) return -1;
            if (na != x->nk)
                return fail(c, "'target.amplitudes' has %zu values for %zu frequencies", na, x->nk);
            memcpy(x->amp, av, na * sizeof *av);
        }
        for (size_t i = 0; i < x->nk; i++)
            if (!(x->amp[i] > 0) || x->amp[i] > 1e6)
                return fail(c, "'target.amplitudes' value %g must be in (0, 1e6]", x->amp[i]);
        return 0;
    }
    static const char *const keys[] = {"kind", "path", "size", "channels", NULL};
    if (only_keys(c, t, "target", keys)) return -1;
    if (x->target == SB_TARGET_IMAGE) {
        const char *p = string(c, t, "target", "path", "", 1);
        if (c->failed) return -1;
        if (!*p) return fail(c, "'target.path' is empty");
        int n = p[0] == '/' ? snprintf(x->image_path, sizeof x->image_path, "%s", p)
                            : snprintf(x->image_path, sizeof x->image_path, "%s/%s", dir, p);
        if (n < 0 || (size_t)n >= sizeof x->image_path) return fail(c, "'target.path' is too long");
        x->image_size = integer(c, t, "target", "size", 0, 0, 2, 16384);
    } else {
        x->image_size = integer(c, t, "target", "size", 0, 1, 2, 16384);
    }
    x->channels = integer(c, t, "target", "channels", 0, 0, 1, 3);
    if (x->channels == 2) return fail(c, "'target.channels' must be 1 or 3");
    return c->failed ? -1 : 0;
}

static int parse_encoding(struct ctx *c, json_t *e, struct sb_experiment *x)
{
    json_t *t = object(c, e, "encoding", 0);
    if (c->failed) return -1;
    x->encoding = SB_ENCODING_NONE;
    if (!t) return 0;
    static const char *const kinds[] = {"none", "posenc", "basic", "tancik_posenc", "gauss", NULL};
    x->encoding = choose(c, "encoding.kind", string(c, t, "encoding", "kind", "", 1), kinds);
    if (c->failed) return -1;
    static const char *const keys_none[] = {"kind", NULL};
    static const char *const keys_pe[] = {"kind", "octaves", NULL};
    static const char *const keys_tp[] = {"kind", "scale", "count", NULL};
    static const char *const keys_g[] = {"kind", "features", "sigma", NULL};
    switch (x->encoding) {
    case SB_ENCODING_NONE:
    case SB_ENCODING_BASIC: return only_keys(c, t, "encoding", keys_none);
    case SB_ENCODING_POSENC: {
        if (only_keys(c, t, "encoding", keys_pe)) return -1;
        json_t *o = json_object_get(t, "octaves");
        if (!o || !json_is_array(o) || json_array_size(o) != 2 ||
            !json_is_integer(json_array_get(o, 0)) || !json_is_integer(json_array_get(o, 1)))
            return fail(c, "'encoding.octaves' must be [first, last], e.g. [0, 6] for l = 0..6");
        json_int_t l0 = json_integer_value(json_array_get(o, 0));
        json_int_t l1 = json_integer_value(json_array_get(o, 1));
        if (l0 < -20 || l1 > 30 || l0 > l1)
            return fail(c, "'encoding.octaves' = [%lld, %lld]: need -20 <= first <= last <= 30",
                        (long long)l0, (long long)l1);
        x->octaves[0] = (int)l0;
        x->octaves[1] = (int)l1;
        return 0;
    }
    case SB_ENCODING_TANCIK_POSENC:
        if (only_keys(c, t, "encoding", keys_tp)) return -1;
        x->scale = number(c, t, "encoding", "scale", 6.0, 0, 0.0, 20.0);
        x->count = integer(c, t, "encoding", "count", 128, 0, 1, MAX_FEATURES / 4);
        return c->failed ? -1 : 0; /* x 2 axes x sin, cos <= MAX_FEATURES */
    case SB_ENCODING_GAUSS:
        if (only_keys(c, t, "encoding", keys_g)) return -1;
        x->count = integer(c, t, "encoding", "features", 256, 0, 1, MAX_FEATURES / 2);
        x->sigma = number(c, t, "encoding", "sigma", 10.0, 0, 0.0, 1e4);
        return c->failed ? -1 : 0;
    }
    return 0;
}

static int parse_experiment(struct ctx *c, json_t *e, struct sb_experiment *x, const char *dir)
{
    static const char *const keys[] = {"name", "seed", "target", "encoding", "model", "train",
                                       "checkpoints", "target_loss", "target_psnr", "analysis",
                                       "description", NULL};
    if (only_keys(c, e, "", keys)) return -1;
    if (parse_target(c, e, x, dir) || parse_encoding(c, e, x)) return -1;
    x->seed = integer(c, e, "", "seed", 0, 0, 0, UINT32_MAX);

    json_t *m = object(c, e, "model", 1);
    if (!m) return -1;
    static const char *const mkeys[] = {"depth", "width", "output", NULL};
    if (only_keys(c, m, "model", mkeys)) return -1;
    x->depth = integer(c, m, "model", "depth", 0, 1, 1, MAX_DEPTH);
    x->width = integer(c, m, "model", "width", 0, 1, 1, MAX_WIDTH);
    static const char *const outs[] = {"linear", "sigmoid", NULL};
    x->output = choose(c, "model.output", string(c, m, "model", "output", "linear", 0), outs);

    json_t *t = object(c, e, "train", 1);
    if (!t) return -1;
    static const char *const tkeys[] = {"optimizer", "lr", "betas", "eps", "batch", "steps", NULL};
    if (only_keys(c, t, "train", tkeys)) return -1;
    static const char *const opts[] = {"adam", "sgd", NULL};
    x->optimizer =
        choose(c, "train.optimizer", string(c, t, "train", "optimizer", "adam", 0), opts);
    x->lr = number(c, t, "train", "lr", 0, 1, 1e-12, 1e6);
    x->beta1 = 0.9;
    x->beta2 = 0.999;
    json_t *b = json_object_get(t, "betas");
    if (b) {
        if (!json_is_array(b) || json_array_size(b) != 2 || !json_is_number(json_array_get(b, 0)) ||
            !json_is_number(json_array_get(b, 1)))
            return fail(c, "'train.betas' must be [beta1, beta2]");
        x->beta1 = json_number_value(json_array_get(b, 0));
        x->beta2 = json_number_value(json_array_get(b, 1));
        if (!(x->beta1 >= 0 && x->beta1 < 1 && x->beta2 >= 0 && x->beta2 < 1))
            return fail(c, "'train.betas' must lie in [0, 1)");
    }
    x->eps = number(c, t, "train", "eps", 1e-8, 0, 0.0, 1.0);
    json_t *bt = json_object_get(t, "batch");
    x->batch = 0;
    if (bt && !(json_is_string(bt) && strcmp(json_string_value(bt), "full") == 0)) {
        if (!json_is_integer(bt) || json_integer_value(bt) < 1)
            return fail(c, "'train.batch' must be \"full\" or a positive integer");
        /* No target has more samples than this (a 16384^2 image has MAX_N training pixels). */
        if (json_integer_value(bt) > (json_int_t)MAX_N)
            return fail(c, "'train.batch' = %lld is out of range [1, %u]",
                        (long long)json_integer_value(bt), MAX_N);
        x->batch = (size_t)json_integer_value(bt);
    }
    x->steps = integer(c, t, "train", "steps", 0, 1, 1, MAX_STEPS);

    x->checkpoints = integer(c, e, "", "checkpoints", 16, 0, 2, 1000);
    x->target_loss = number(c, e, "", "target_loss", 0.0, 0, 0.0, 1e12);
    x->target_psnr = number(c, e, "", "target_psnr", 0.0, 0, 0.0, 1000.0);

    json_t *an = object(c, e, "analysis", 0);
    x->confusion = SB_CONFUSION_END;
    x->confusion_bins = 20;
    x->radial_bands = 8;
    if (an) {
        static const char *const akeys[] = {"confusion", "confusion_bins", "radial_bands", NULL};
        if (only_keys(c, an, "analysis", akeys)) return -1;
        static const char *const whens[] = {"off", "end", "checkpoints", NULL};
        x->confusion = choose(c, "analysis.confusion",
                              string(c, an, "analysis", "confusion", "end", 0), whens);
        x->confusion_bins = integer(c, an, "analysis", "confusion_bins", 20, 0, 2, 1000);
        x->radial_bands = integer(c, an, "analysis", "radial_bands", 8, 0, 1, 64);
    }
    if (c->failed) return -1;
    if (x->target == SB_TARGET_SINES1D && json_object_get(e, "target_psnr"))
        return fail(c, "'target_psnr' is for 2D targets; a 1D target takes 'target_loss'");
    if (x->target != SB_TARGET_SINES1D && json_object_get(e, "target_loss"))
        return fail(c, "'target_loss' is for 1D targets; a 2D target takes 'target_psnr' (dB)");
    if (x->target == SB_TARGET_SINES1D && x->batch > x->n)
        return fail(c, "'train.batch' = %zu is larger than the %zu samples", x->batch, x->n);
    return 0;
}

static uint64_t fnv1a64(const unsigned char *p, size_t n)
{
    uint64_t h = 0xCBF29CE484222325ull;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001B3ull;
    return h;
}

int sb_suite_load(const char *name_or_file, struct sb_suite *suite, char *err, size_t errlen)
{
    memset(suite, 0, sizeof *suite);
    size_t len = strlen(name_or_file);
    if (strchr(name_or_file, '/') || (len > 5 && strcmp(name_or_file + len - 5, ".json") == 0)) {
        snprintf(suite->path, sizeof suite->path, "%s", name_or_file);
    } else {
        const char *dir = getenv("SPECBIAS_SUITES");
        if (!dir || !*dir) dir = SB_SUITES_DIR;
        snprintf(suite->path, sizeof suite->path, "%s/%s.json", dir, name_or_file);
    }
    FILE *f = fopen(suite->path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open suite: %s", suite->path, strerror(errno));
        return -1;
    }
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            if (cap > (64u << 20)) {
                fclose(f);
                free(buf);
                snprintf(err, errlen, "%s: larger than 64 MiB, not a suite file", suite->path);
                return -1;
            }
            cap = cap ? 2 * cap : 65536;
            char *nb = realloc(buf, cap);
            if (!nb) {
                fclose(f);
                free(buf);
                snprintf(err, errlen, "%s: out of memory", suite->path);
                return -1;
            }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    int rerr = ferror(f);
    fclose(f);
    if (rerr) {
        free(buf);
        snprintf(err, errlen, "%s: read error", suite->path);
        return -1;
    }
    char path[SB_PATH_MAX];
    memcpy(path, suite->path, sizeof path);
    const int rc = sb_suite_parse(path, buf, n, suite, err, errlen);
    free(buf);
    return rc;
}

/* The top level: schema, name, defaults and the experiments list. Returns 0, or -1 with the
 * message in c. */
static int parse_top(struct ctx *c, json_t *root, struct sb_suite *suite, json_t **defaults,
                     json_t **list)
{
    static const char *const keys[] = {"schema",   "name",        "description",
                                       "defaults", "experiments", NULL};
    if (!json_is_object(root)) return fail(c, "the top level must be an object");
    if (only_keys(c, root, "", keys)) return -1;
    const char *schema = string(c, root, "", "schema", "", 1);
    if (c->failed) return -1;
    if (strcmp(schema, "specbias-suite/1") != 0)
        return fail(c, "schema is \"%s\", expected \"specbias-suite/1\"", schema);
    snprintf(suite->name, sizeof suite->name, "%s", string(c, root, "", "name", "", 1));
    if (c->failed) return -1;
    *defaults = json_object_get(root, "defaults");
    if (*defaults && !json_is_object(*defaults))
        return fail(c, "'defaults' must be an object");
    *list = json_object_get(root, "experiments");
    if (!json_is_array(*list) || json_array_size(*list) == 0)
        return fail(c, "'experiments' must be a non-empty list");
    return 0;
}

/* Experiment i of the list, with the defaults under it, into suite->exp[i]. Returns 0, or -1
 * with the message in c (or c->err). */
static int parse_one(struct ctx *c, json_t *raw, json_t *defaults, struct sb_suite *suite,
                     size_t i, const char *dir)
{
    if (!json_is_object(raw)) return fail(c, "experiment %zu must be an object", i + 1);
    json_t *e = defaults ? merge(defaults, raw) : json_incref(raw);
    const char *name = string(c, e, "", "name", "", 1);
    int rc = -1;
    struct sb_experiment *x = &suite->exp[i];
    if (c->failed) {
        snprintf(c->err, c->errlen, "%s: experiment %zu has no \"name\"", suite->path, i + 1);
        goto out;
    }
    snprintf(c->where, sizeof c->where, "experiment '%s': ", name);
    if (strlen(name) == 0 || strlen(name) >= sizeof x->name) {
        fail(c, "the name must have 1 to %zu characters", sizeof x->name - 1);
        goto out;
    }
    snprintf(x->name, sizeof x->name, "%s", name);
    for (size_t j = 0; j < i; j++)
        if (strcmp(suite->exp[j].name, x->name) == 0) {
            fail(c, "the name is used twice");
            goto out;
        }
    rc = parse_experiment(c, e, x, dir);
out:
    json_decref(e);
    return rc;
}

int sb_suite_parse(const char *path, const char *buf, size_t n, struct sb_suite *suite, char *err,
                   size_t errlen)
{
    memset(suite, 0, sizeof *suite);
    snprintf(suite->path, sizeof suite->path, "%s", path);
    snprintf(suite->content_hash, sizeof suite->content_hash, "%016llx",
             (unsigned long long)fnv1a64((const unsigned char *)buf, n));
    /* Kept, so results files can embed what they ran (specbias run --rerun). */
    suite->text = malloc(n + 1);
    if (!suite->text) {
        snprintf(err, errlen, "%s: out of memory", suite->path);
        return -1;
    }
    memcpy(suite->text, buf, n);
    suite->text[n] = 0;
    suite->text_len = n;

    json_error_t jerr;
    json_t *root = json_loadb(buf, n, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        sb_suite_free(suite);
        snprintf(err, errlen, "%s:%d:%d: %s", suite->path, jerr.line, jerr.column, jerr.text);
        return -1;
    }
    struct ctx c = {suite->path, "", err, errlen, 0};
    char dir[SB_PATH_MAX];
    dirname_of(suite->path, dir, sizeof dir);
    json_t *defaults = NULL, *list = NULL;
    int rc = parse_top(&c, root, suite, &defaults, &list);
    if (!rc) {
        suite->n = json_array_size(list);
        suite->exp = calloc(suite->n, sizeof *suite->exp);
        if (!suite->exp) rc = fail(&c, "out of memory");
    }
    for (size_t i = 0; !rc && i < suite->n; i++)
        rc = parse_one(&c, json_array_get(list, i), defaults, suite, i, dir);
    json_decref(root);
    if (rc) sb_suite_free(suite);
    return rc;
}

void sb_suite_free(struct sb_suite *suite)
{
    free(suite->exp);
    free(suite->text);
    suite->exp = NULL;
    suite->text = NULL;
    suite->n = suite->text_len = 0;
}
