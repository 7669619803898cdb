/* 2D targets: PNG load and write (libspng), crop, channels, zone plate, PSNR. */
#define _POSIX_C_SOURCE 200809L
#include "harness/data/image.h"
#include "harness/util/errmsg.h"

#include "harness/data/detmath.h"

#include <errno.h>
#include <math.h>
#include <spng.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The largest image loaded: 2^26 pixels is 8192 x 8192, 768 MiB as 3-channel floats. Checked
 * against the header before anything is allocated, so a corrupt or hostile IHDR cannot ask
 * for gigabytes. */
#define SB_PNG_MAX_PIXELS ((uint64_t)1 << 26)
/* Memory spng may spend on ancillary chunks (text, ICC profiles, ...), the limit libspng's own
 * example recommends for untrusted files. */
#define SB_PNG_CHUNK_LIMIT ((size_t)64 * 1024 * 1024)


static void image_clear(struct sb_image *img)
{
    img->width = img->height = img->channels = 0;
    img->pixels = NULL;
}

void sb_image_free(struct sb_image *img)
{
    if (!img) return;
    free(img->pixels);
    image_clear(img);
}

/* What went wrong inside libspng, in words a user can act on. */
static void spng_err(char *err, size_t errlen, const char *path, int e)
{
    switch (e) {
    case SPNG_IO_EOF:
    case SPNG_EOF:
        sb_errorf(err, errlen, "%s: truncated PNG file (it ends before the image data does)", path);
        break;
    case SPNG_IO_ERROR:
    case SPNG_EIO: sb_errorf(err, errlen, "%s: read error", path); break;
    case SPNG_ESIGNATURE: sb_errorf(err, errlen, "%s: not a PNG file", path); break;
    case SPNG_EMEM: sb_errorf(err, errlen, "%s: out of memory while decoding", path); break;
    case SPNG_ECHUNK_LIMITS:
        sb_errorf(err, errlen, "%s: a chunk exceeds the %zu MiB limit", path,
                SB_PNG_CHUNK_LIMIT >> 20);
        break;
    default:
        sb_errorf(err, errlen, "%s: corrupt or unsupported PNG (libspng: %s)", path,
                spng_strerror(e));
        break;
    }
}

static const uint8_t png_signature[8] = {137, 80, 78, 71, 13, 10, 26, 10};

/* Decodes the PNG that ctx was given; `path` names it in messages. */
static int decode_png(spng_ctx *ctx, const char *path, struct sb_image *img, char *err,
                      size_t errlen)
{
    int rc = -1;
    uint8_t *buf = NULL;
    spng_set_chunk_limits(ctx, SB_PNG_CHUNK_LIMIT, SB_PNG_CHUNK_LIMIT);
    struct spng_ihdr ihdr;
    int e = spng_get_ihdr(ctx, &ihdr);
    if (e) {
        spng_err(err, errlen, path, e);
        goto done;
    }
    if (ihdr.bit_depth > 8) {
        sb_errorf(err, errlen, "%s: %u-bit samples are not supported (8-bit gray or RGB only)",
                  path, (unsigned)ihdr.bit_depth);
        goto done;
    }
    const uint64_t npix = (uint64_t)ihdr.width * ihdr.height;
    if (npix > SB_PNG_MAX_PIXELS) {
        sb_errorf(err, errlen, "%s: %u x %u pixels, more than the %llu this program loads", path,
                (unsigned)ihdr.width, (unsigned)ihdr.height, (unsigned long long)SB_PNG_MAX_PIXELS);
        goto done;
    }

    /* Gray stays one channel: G8 expands 1/2/4-bit gray to 0..255; gray+alpha is decoded as
     * stored (8-bit G, A pairs) and the alpha dropped. Everything else (RGB, RGBA, palette)
     * goes through RGB8, which expands the palette and drops alpha without touching the
     * colour. No gamma or transparency is applied: the samples are the file's. */
    int fmt;
    size_t channels, stride;
    switch (ihdr.color_type) {
    case SPNG_COLOR_TYPE_GRAYSCALE: fmt = SPNG_FMT_G8, channels = 1, stride = 1; break;
    case SPNG_COLOR_TYPE_GRAYSCALE_ALPHA: fmt = SPNG_FMT_PNG, channels = 1, stride = 2; break;
    default: fmt = SPNG_FMT_RGB8, channels = 3, stride = 3; break;
    }
    size_t len;
    e = spng_decoded_image_size(ctx, fmt, &len);
    if (e) {
        spng_err(err, errlen, path, e);
        goto done;
    }
    if (len != (size_t)npix * stride) { /* libspng and this switch disagree on the layout */
        sb_errorf(err, errlen, "%s: unexpected decoded size %zu for %u x %u pixels", path, len,
                (unsigned)ihdr.width, (unsigned)ihdr.height);
        goto done;
    }
    /* libspng rejects zero width or height, so neither size is 0 */
    buf = malloc(len);
    float *px = malloc((size_t)npix * channels * sizeof *px);
    if (!buf || !px) {
        free(px);
        sb_errorf(err, errlen, "%s: out of memory for %u x %u pixels", path, (unsigned)ihdr.width,
                (unsigned)ihdr.height);
        goto done;
    }
    e = spng_decode_image(ctx, buf, len, fmt, 0);
    /* decode_image stops once it has the pixels, before the last IDAT's CRC; reading on to
     * IEND is what notices a file cut off in its last bytes. */
    if (!e) e = spng_decode_chunks(ctx);
    if (e) {
        free(px);
        spng_err(err, errlen, path, e);
        goto done;
    }
    for (size_t i = 0; i < (size_t)npix; i++)
        for (size_t c = 0; c < channels; c++)
            px[i * channels + c] = (float)buf[i * stride + c] / 255.0f;
    img->width = ihdr.width;
    img->height = ihdr.height;
    img->channels = channels;
    img->pixels = px;
    rc = 0;

done:
    free(buf);
    return rc;
}


/* The signature is checked first so that empty, short and non-PNG input all get the same
 * plain answer instead of libspng's end-of-stream error. */
static int check_signature(const uint8_t *sig, size_t got, const char *path, char *err,
                           size_t errlen)
{
    if (got < sizeof png_signature || memcmp(sig, png_signature, sizeof png_signature) != 0) {
        sb_errorf(err, errlen, got == 0 ? "%s: empty file, not a PNG file" : "%s: not a PNG file",
                  path);
        return -1;
    }
    return 0;
}

int sb_image_load_png(const char *path, struct sb_image *img, char *err, size_t errlen)
{
    image_clear(img);
    FILE *f = fopen(path, "rb");
    if (!f) {
        sb_errorf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    uint8_t sig[8];
    const size_t got = fread(sig, 1, sizeof sig, f);
    if (got < sizeof sig && ferror(f)) {
        sb_errorf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        fclose(f);
        return -1;
    }
    if (check_signature(sig, got, path, err, errlen)) {
        fclose(f);
        return -1;
    }
    if (fseek(f, 0, SEEK_SET) != 0) {
        sb_errorf(err, errlen, "%s: cannot seek: %s", path, strerror(errno));
        fclose(f);
        return -1;
    }
    int rc = -1;
    spng_ctx *ctx = spng_ctx_new(0);
    if (!ctx) {
        sb_errorf(err, errlen, "%s: out of memory", path);
    } else {
        const int e = spng_set_png_file(ctx, f);
        if (e)
            spng_err(err, errlen, path, e);
        else
            rc = decode_png(ctx, path, img, err, errlen);
    }
    spng_ctx_free(ctx);
    fclose(f);
    return rc;
}

int sb_image_load_png_buffer(const void *data, size_t len, const char *what,
                             struct sb_image *img, char *err, size_t errlen)
{
    image_clear(img);
    if (check_signature(data, len, what, err, errlen)) return -1;
    int rc = -1;
    spng_ctx *ctx = spng_ctx_new(0);
    if (!ctx) {
        sb_errorf(err, errlen, "%s: out of memory", what);
    } else {
        const int e = spng_set_png_buffer(ctx, data, len);
        if (e)
            spng_err(err, errlen, what, e);
        else
            rc = decode_png(ctx, what, img, err, errlen);
    }
    spng_ctx_free(ctx);
    return rc;
}

static uint8_t to_u8(float v)
{
    if (!(v > 0.0f)) return 0; /* also NaN */
    if (v >= 1.0f) return 255;
    return (uint8_t)((double)v * 255.0 + 0.5);
}

int sb_image_encode_png(const struct sb_image *img, const char *what, void **png, size_t *len,
                        char *err, size_t errlen)
{
    *png = NULL;
    *len = 0;
    if (img->channels != 1 && img->channels != 3) {
        sb_errorf(err, errlen, "%s: cannot write %zu channels (1 or 3 only)", what, img->channels);
        return -1;
    }
    if (img->width == 0 || img->height == 0 || img->width > INT32_MAX || img->height > INT32_MAX ||
        !img->pixels) {
        sb_errorf(err, errlen, "%s: cannot write a %zu x %zu image", what, img->width, img->height);
        return -1;
    }
    const size_t n = img->width * img->height * img->channels;
    if (n / img->channels / img->width != img->height) {
        sb_errorf(err, errlen, "%s: image too large to write", what);
        return -1;
    }
    uint8_t *buf = malloc(n);
    spng_ctx *ctx = spng_ctx_new(SPNG_CTX_ENCODER);
    if (!buf || !ctx) {
        sb_errorf(err, errlen, "%s: out of memory", what);
        free(buf);
        spng_ctx_free(ctx);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        buf[i] = to_u8(img->pixels[i]);
    struct spng_ihdr ihdr = {
        .width = (uint32_t)img->width,
        .height = (uint32_t)img->height,
        .bit_depth = 8,
        .color_type = img->channels == 1 ? SPNG_COLOR_TYPE_GRAYSCALE : SPNG_COLOR_TYPE_TRUECOLOR,
    };
    int e = spng_set_option(ctx, SPNG_ENCODE_TO_BUFFER, 1);
    if (!e) e = spng_set_ihdr(ctx, &ihdr);
    if (!e) e = spng_encode_image(ctx, buf, n, SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE);
    if (!e) {
        /* the buffer now belongs to the caller (free()) */
        *png = spng_get_png_buffer(ctx, len, &e);
        if (!*png && !e) e = SPNG_EINTERNAL;
    }
    spng_ctx_free(ctx);
    free(buf);
    if (e) {
        sb_errorf(err, errlen, "%s: cannot encode PNG (libspng: %s)", what, spng_strerror(e));
        return -1;
    }
    return 0;
}

int sb_image_write_png(const char *path, const struct sb_image *img, char *err, size_t errlen)
{
    void *png;
    size_t len;
    if (sb_image_encode_png(img, path, &png, &len, err, errlen)) return -1;
    FILE *f = fopen(path, "wb");
    if (!f) {
        sb_errorf(err, errlen, "%s: cannot create: %s", path, strerror(errno));
        free(png);
        return -1;
    }
    int rc = 0;
    if (fwrite(png, 1, len, f) != len) {
        sb_errorf(err, errlen, "%s: write error: %s", path, strerror(errno));
        rc = -1;
    }
    free(png);
    if (fclose(f) != 0 && rc == 0) {
        sb_errorf(err, errlen, "%s: write error: %s", path, strerror(errno));
        rc = -1;
    }
    if (rc != 0) remove(path); /* no half-written file left behind */
    return rc;
}

char *sb_base64_encode(const void *data, size_t len)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (len > (SIZE_MAX - 1) / 4 * 3 - 3) return NULL;
    const uint8_t *p = data;
    char *out = malloc((len + 2) / 3 * 4 + 1), *o = out;
    if (!out) return NULL;
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        const uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        *o++ = alphabet[v >> 18];
        *o++ = alphabet[v >> 12 & 63];
        *o++ = alphabet[v >> 6 & 63];
        *o++ = alphabet[v & 63];
    }
    if (i < len) {
        const uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < len ? (uint32_t)p[i + 1] << 8 : 0);
        *o++ = alphabet[v >> 18];
        *o++ = alphabet[v >> 12 & 63];
        *o++ = i + 1 < len ? alphabet[v >> 6 & 63] : '=';
        *o++ = '=';
    }
    *o = 0;
    return out;
}

int sb_image_crop_center(struct sb_image *img, size_t width, size_t height, const char *what,
                         char *err, size_t errlen)
{
    if (!what) what = "image";
    if (width == 0 || height == 0) {
        sb_errorf(err, errlen, "%s: cannot crop to an empty %zu x %zu window", what, width, height);
        return -1;
    }
    if (img->width < width || img->height < height) {
        sb_errorf(err, errlen,
                "%s: %zu x %zu pixels, smaller than the %zu x %zu the experiment needs", what,
                img->width, img->height, width, height);
        return -1;
    }
    if (img->width == width && img->height == height) return 0;
    /* An odd surplus leaves the extra pixel on the right / bottom. */
    const size_t x0 = (img->width - width) / 2, y0 = (img->height - height) / 2;
    const size_t c = img->channels;
    /* Row r moves from (y0 + r, x0) to (r, 0): never forward, so rows are moved in order. */
    for (size_t r = 0; r < height; r++)
        memmove(img->pixels + r * width * c, img->pixels + ((y0 + r) * img->width + x0) * c,
                width * c * sizeof *img->pixels);
    float *shrunk = realloc(img->pixels, width * height * c * sizeof *img->pixels);
    if (shrunk) img->pixels = shrunk; /* else keep the larger block */
    img->width = width;
    img->height = height;
    return 0;
}

int sb_image_set_channels(struct sb_image *img, size_t channels, char *err, size_t errlen)
{
    if (channels != 1 && channels != 3) {
        sb_errorf(err, errlen, "cannot convert an image to %zu channels (1 or 3 only)", channels);
        return -1;
    }
    if (img->channels == channels) return 0;
    if (img->channels != 1) {
        sb_errorf(err, errlen, "cannot convert a %zu-channel image to %zu channel%s", img->channels,
                channels, channels == 1 ? "" : "s");
        return -1;
    }
    const size_t n = img->width * img->height;
    float *px = malloc(n * channels * sizeof *px);
    if (!px) {
        sb_errorf(err, errlen, "out of memory converting a %zu x %zu image to %zu channels",
                img->width, img->height, channels);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < channels; c++)
            px[i * channels + c] = img->pixels[i];
    free(img->pixels);
    img->pixels = px;
    img->channels = channels;
    return 0;
}

int sb_image_zone_plate(size_t size, struct sb_image *img)
{
    image_clear(img);
    /* Doubled offsets d = 2x - (size - 1) are integers, so 4 r^2 = dx^2 + dy^2 is an exact
     * integer below 2^53 for every size allowed here, and the argument r^2 / size =
     * (dx^2 + dy^2) / (4 size) is one correctly rounded division: the same double everywhere. */
    if (size == 0 || size > ((size_t)1 << 24)) return -1;
    if (size > SIZE_MAX / size / sizeof(float)) return -1;
    float *px = malloc(size * size * sizeof *px);
    if (!px) return -1;
    const double denom = 4.0 * (double)size;
    for (size_t y = 0; y < size; y++) {
        const int64_t dy = 2 * (int64_t)y - (int64_t)(size - 1);
        for (size_t x = 0; x < size; x++) {
            const int64_t dx = 2 * (int64_t)x - (int64_t)(size - 1);
            const double r2 = (double)(dx * dx + dy * dy) / denom;
            px[y * size + x] = (float)(0.5 + 0.5 * sb_det_cospi(r2));
        }
    }
    img->width = img->height = size;
    img->channels = 1;
    img->pixels = px;
    return 0;
}

double sb_psnr(size_t n, const float *a, const float *b)
{
    if (n == 0) return NAN;
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        const double d = (double)a[i] - (double)b[i];
        sum = sum + d * d;
    }
    if (sum == 0.0) return INFINITY;
    const double mse = sum / (double)n;
    if (isnan(mse)) return NAN;
    if (isinf(mse)) return -INFINITY;
    /* -10 log10(mse) through detmath rather than libm's log10, so a results file reads the
     * same digits on every machine. */
    return -10.0 / 2.30258509299404568402 * sb_det_log(mse);
}
