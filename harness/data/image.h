/* 2D targets: PNG images (libspng) and generated test images. */
#ifndef SPECBIAS_HARNESS_IMAGE_H
#define SPECBIAS_HARNESS_IMAGE_H

#include <stddef.h>

/* Pixels row-major, interleaved channels: pixels[(y * width + x) * channels + c], each value
 * an 8-bit sample divided by 255 (so in [0, 1]). channels is 1 (gray) or 3 (RGB). */
struct sb_image {
    size_t width, height, channels;
    float *pixels;
};

/* Loads an 8-bit gray or RGB PNG (also gray+alpha, RGBA and palette images, whose alpha is
 * dropped; 16-bit samples are rejected). Gray stays 1 channel, colour becomes 3. Returns 0,
 * or -1 with a message naming the file and what is wrong in err. */
int sb_image_load_png(const char *path, struct sb_image *img, char *err, size_t errlen);

/* The same from len bytes of PNG in memory; `what` names it in messages. */
int sb_image_load_png_buffer(const void *data, size_t len, const char *what,
                             struct sb_image *img, char *err, size_t errlen);

/* Writes an 8-bit PNG (values clamped to [0, 1] and rounded), for reports and tests.
 * Returns 0, or -1 with a message. */
int sb_image_write_png(const char *path, const struct sb_image *img, char *err, size_t errlen);

/* The same PNG in memory: *png (free() it) of *len bytes. `what` names the image in messages.
 * Returns 0, or -1 with a message. */
int sb_image_encode_png(const struct sb_image *img, const char *what, void **png, size_t *len,
                        char *err, size_t errlen);

/* Standard base64 (RFC 4648, padded) of len bytes, NUL-terminated; free() it. NULL when out
 * of memory. Results files embed images this way, so a report needs nothing beside them. */
char *sb_base64_encode(const void *data, size_t len);

/* Cuts the centred width x height window out of img in place. Returns -1 with a message
 * (naming `what`, e.g. the file) if the image is smaller than that in either direction. */
int sb_image_crop_center(struct sb_image *img, size_t width, size_t height, const char *what,
                         char *err, size_t errlen);

/* Converts a gray image to `channels` = 3 by repeating the channel (1 -> 1 is a no-op).
 * Returns -1 with a message when asked to go from 3 to 1. */
int sb_image_set_channels(struct sb_image *img, size_t channels, char *err, size_t errlen);

/* A zone plate (radial chirp) of size x size, gray: v = 0.5 + 0.5 cos(pi r^2 / size), r the
 * distance to the centre in pixels, so the local frequency rises linearly from 0 at the centre
 * to Nyquist at the edge midpoints. Computed with harness/data/detmath.h, so the same bits on
 * every machine. Returns 0, or -1 on allocation failure. */
int sb_image_zone_plate(size_t size, struct sb_image *img);

void sb_image_free(struct sb_image *img);

/* Peak signal-to-noise ratio for values in [0, 1]: -10 log10(mean((a - b)^2)) over n values,
 * accumulated in double; +INFINITY when equal. */
double sb_psnr(size_t n, const float *a, const float *b);

#endif
