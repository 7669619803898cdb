/* One experiment of a suite, as parsed from the suite file (suites/README.md documents every
 * field), and the data it trains on. */
#ifndef SPECBIAS_HARNESS_EXPERIMENT_H
#define SPECBIAS_HARNESS_EXPERIMENT_H

#include "harness/train/model.h"

#define SB_PATH_MAX 4096
#include <stddef.h>
#include <stdint.h>

#define SB_MAX_FREQS 256
#define SB_NAME_MAX 128

enum sb_target_kind { SB_TARGET_SINES1D, SB_TARGET_IMAGE, SB_TARGET_ZONEPLATE };

enum sb_encoding_name {
    SB_ENCODING_NONE,
    SB_ENCODING_POSENC,        /* NeRF octaves l0..l1 */
    SB_ENCODING_BASIC,         /* sin/cos(2 pi x) */
    SB_ENCODING_TANCIK_POSENC, /* b_j = 2^(linspace(0, scale, count)) - 1 per axis */
    SB_ENCODING_GAUSS          /* B ~ N(0, sigma^2), features x d */
};

enum sb_optimizer { SB_OPT_ADAM, SB_OPT_SGD };
enum sb_confusion_when { SB_CONFUSION_OFF, SB_CONFUSION_END, SB_CONFUSION_CHECKPOINTS };

struct sb_experiment {
    char name[SB_NAME_MAX];
    uint64_t seed; /* the suite's seed for this experiment; --seed is added to it */

    enum sb_target_kind target;
    /* sines1d */
    size_t n;
    double domain[2]; /* x_i = domain[0] + (domain[1] - domain[0]) * i / n */
    size_t nk;
    int freq[SB_MAX_FREQS];
    double amp[SB_MAX_FREQS];
    /* image / zoneplate */
    char image_path[SB_PATH_MAX]; /* resolved against the suite file's folder */
    size_t image_size;         /* crop the centre to size x size; 0 = whole image */
    size_t channels;           /* 1 or 3; 0 = as the image is */

    enum sb_encoding_name encoding;
    int octaves[2];       /* posenc */
    double scale;         /* tancik_posenc */
    size_t count;         /* tancik_posenc frequencies per axis, gauss features */
    double sigma;         /* gauss */

    size_t depth, width;
    enum sb_output output;

    enum sb_optimizer optimizer;
    double lr, beta1, beta2, eps;
    size_t batch; /* 0 = full batch */
    uint64_t steps;

    size_t checkpoints;   /* number of log-spaced checkpoints (step 0 and the last included) */
    double target_loss;   /* 1D: time to target = first training loss <= this */
    double target_psnr;   /* 2D: first test PSNR >= this (dB) */
    size_t radial_bands;  /* 2D spectral error bands */
    enum sb_confusion_when confusion;
    size_t confusion_bins;
};

struct sb_suite {
    char name[SB_NAME_MAX];
    char path[SB_PATH_MAX];
    char content_hash[17]; /* FNV-1a 64 of the file's bytes: results name what they ran */
    size_t n;
    struct sb_experiment *exp;
    char *text; /* the file's bytes, NUL-terminated; text_len of them */
    size_t text_len;
};

/* Finds and parses a suite: `name_or_file` is a path when it contains '/' or ends in .json,
 * otherwise <suites dir>/<name>.json with the suites dir from $SPECBIAS_SUITES or the one
 * this build was made from. Returns 0, or -1 with a message naming the file and the
 * offending line or field in err. */
int sb_suite_load(const char *name_or_file, struct sb_suite *suite, char *err, size_t errlen);
/* The same from n bytes of suite JSON in memory (a results file's embedded copy, or a fuzz
 * input); `path` names it in messages and image paths are resolved against its folder (no
 * file is opened). */
int sb_suite_parse(const char *path, const char *text, size_t n, struct sb_suite *suite,
                   char *err, size_t errlen);
void sb_suite_free(struct sb_suite *suite);

/* The data an experiment trains and is evaluated on. 1D: train = eval = all n points.
 * 2D (Tancik): train on pixels (2i, 2j), evaluate on (2i+1, 2j+1); inputs (x, y) =
 * (column / width, row / height), so coordinates lie in [0, 1). */
struct sb_data {
    size_t d, out;
    size_t n_train, n_eval;
    float *x_train, *t_train; /* [n_train][d], [n_train][out] */
    float *x_eval, *t_eval;   /* may alias the train arrays (1D) */
    size_t eval_h, eval_w;    /* 2D: the eval grid; 1D: 1 x n */
    double t_range;           /* max - min of the target, the 1D PSNR peak */
};

/* Builds the target and the encoding's matrix (seeded from exp->seed + seed_offset). Returns
 * 0, 2 on bad input (a PNG that cannot be read or is too small, message in err) or 3 on
 * allocation failure. */
int sb_data_make(const struct sb_experiment *exp, uint64_t seed, struct sb_data *data,
                 struct sb_encoding *enc, char *err, size_t errlen);
void sb_data_free(struct sb_data *data);

#endif
