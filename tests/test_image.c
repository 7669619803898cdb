/* Images: PNG round trips and every colour type libspng hands us, clear messages (naming the
 * file) for every bad file and no crash on truncated or corrupted ones, centre crop, channel
 * conversion, the zone plate (exact, symmetric, the same bits on every machine) and PSNR.
 * Fixture PNGs are written at run time with libspng's encoder into a temporary directory. */
#define _POSIX_C_SOURCE 200809L
#include "harness/data/detmath.h"
#include "harness/data/image.h"

#include <math.h>
#include <setjmp.h>
#include <spng.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

static char tmpdir[64];

static const char *tmp_path(const char *name)
{
    static char path[4][256];
    static int slot;
    slot = (slot + 1) % 4;
    snprintf(path[slot], sizeof path[slot], "%s/%s", tmpdir, name);
    return path[slot];
}

static int setup_dir(void **state)
{
    (void)state;
    strcpy(tmpdir, "/tmp/sb_test_image_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_dir(void **state)
{
    (void)state;
    static const char *names[] = {"gray.png",    "rgb.png",   "clamp.png",     "palette.png",
                                  "rgba.png",    "ga.png",    "gray4.png",     "missing.png",
                                  "text.png",    "empty.png", "short.png",     "trunc.png",
                                  "g16.png",     "rgb16.png", "huge.png",      "fuzz.png",
                                  "rgb_src.png", "dir.png",   "interlaced.png"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        remove(tmp_path(names[i]));
    rmdir(tmp_path("dir.png"));
    rmdir(tmpdir);
    return 0;
}

/* ---- helpers ------------------------------------------------------------------------- */

/* Encodes raw PNG-layout samples (SPNG_FMT_PNG: as stored, 16-bit host-endian), Adam7
 * interlaced when asked. */
static void encode_png_il(const char *path, uint32_t w, uint32_t h, uint8_t color_type,
                          uint8_t depth, const void *data, size_t len, struct spng_plte *plte,
                          uint8_t interlace)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    spng_ctx *ctx = spng_ctx_new(SPNG_CTX_ENCODER);
    assert_non_null(ctx);
    struct spng_ihdr ihdr = {.width = w,
                             .height = h,
                             .bit_depth = depth,
                             .color_type = color_type,
                             .interlace_method = interlace};
    assert_int_equal(spng_set_png_file(ctx, f), 0);
    assert_int_equal(spng_set_ihdr(ctx, &ihdr), 0);
    if (plte) assert_int_equal(spng_set_plte(ctx, plte), 0);
    const int e = spng_encode_image(ctx, data, len, SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE);
    if (e) fail_msg("spng_encode_image: %s", spng_strerror(e));
    spng_ctx_free(ctx);
    assert_int_equal(fclose(f), 0);
}

static void encode_png(const char *path, uint32_t w, uint32_t h, uint8_t color_type, uint8_t depth,
                       const void *data, size_t len, struct spng_plte *plte)
{
    encode_png_il(path, w, h, color_type, depth, data, len, plte, 0);
}

static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    const long n = ftell(f);
    assert_true(n > 0);
    rewind(f);
    uint8_t *buf = malloc((size_t)n);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void write_all(const char *path, const void *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (len) assert_int_equal(fwrite(buf, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* Loading must fail with a message that names the file and contains `what`. */
static void expect_load_error(const char *path, const char *what)
{
    struct sb_image img = {0};
    char err[512] = "";
    assert_int_equal(sb_image_load_png(path, &img, err, sizeof err), -1);
    assert_null(img.pixels);
    if (!strstr(err, path)) fail_msg("message does not name %s: \"%s\"", path, err);
    if (what && !strstr(err, what)) fail_msg("message lacks \"%s\": \"%s\"", what, err);
    printf("  %s\n", err);
}

static uint32_t crc32_png(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return c ^ 0xFFFFFFFFu;
}

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* A gray image of k/255 values that covers all 256 levels. */
static struct sb_image make_levels(size_t w, size_t h, size_t channels)
{
    struct sb_image img = {w, h, channels, malloc(w * h * channels * sizeof(float))};
    assert_non_null(img.pixels);
    for (size_t i = 0; i < w * h * channels; i++)
        img.pixels[i] = (float)((i * 37 + 11) % 256) / 255.0f;
    return img;
}

/* ---- PNG ----------------------------------------------------------------------------- */

static void roundtrip(size_t channels, const char *name)
{
    struct sb_image img = make_levels(23, 17, channels), back = {0};
    char err[512] = "";
    const char *path = tmp_path(name);
    assert_int_equal(sb_image_write_png(path, &img, err, sizeof err), 0);
    assert_int_equal(sb_image_load_png(path, &back, err, sizeof err), 0);
    assert_int_equal(back.width, 23);
    assert_int_equal(back.height, 17);
    assert_int_equal(back.channels, channels);
    assert_memory_equal(back.pixels, img.pixels, 23 * 17 * channels * sizeof(float));
    sb_image_free(&img);
    sb_image_free(&back);
    assert_null(back.pixels);
    assert_int_equal(back.width, 0);
}

static void test_roundtrip_gray(void **state)
{
    (void)state;
    roundtrip(1, "gray.png");
}

static void test_roundtrip_rgb(void **state)
{
    (void)state;
    roundtrip(3, "rgb.png");
}

static void test_write_clamps_and_rounds(void **state)
{
    (void)state;
    float px[8] = {-0.5f, 1.5f, NAN, 0.0f, 1.0f, 0.5f, 0.499f / 255.0f, 0.501f / 255.0f};
    struct sb_image img = {8, 1, 1, px}, back = {0};
    char err[512] = "";
    const char *path = tmp_path("clamp.png");
    assert_int_equal(sb_image_write_png(path, &img, err, sizeof err), 0);
    assert_int_equal(sb_image_load_png(path, &back, err, sizeof err), 0);
    const float want[8] = {0.0f, 1.0f, 0.0f, 0.0f, 1.0f, 128.0f / 255.0f, 0.0f, 1.0f / 255.0f};
    assert_memory_equal(back.pixels, want, sizeof want);
    sb_image_free(&back);
}

static void test_write_errors(void **state)
{
    (void)state;
    float px[6] = {0};
    struct sb_image two = {3, 1, 2, px}, ok = {3, 2, 1, px};
    char err[512] = "";
    assert_int_equal(sb_image_write_png(tmp_path("rgb.png"), &two, err, sizeof err), -1);
    assert_non_null(strstr(err, "2 channels"));
    const char *bad = "/nonexistent-dir-for-specbias/out.png";
    assert_int_equal(sb_image_write_png(bad, &ok, err, sizeof err), -1);
    assert_non_null(strstr(err, bad));
    printf("  %s\n", err);
}

/* The in-memory encoder (results files embed PNGs) gives the bytes write_png puts in a file. */
static void test_encode_png_matches_file(void **state)
{
    (void)state;
    struct sb_image img = make_levels(19, 7, 3);
    char err[512] = "";
    const char *path = tmp_path("encoded.png");
    assert_int_equal(sb_image_write_png(path, &img, err, sizeof err), 0);
    void *png = NULL;
    size_t len = 0;
    assert_int_equal(sb_image_encode_png(&img, "mem", &png, &len, err, sizeof err), 0);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    uint8_t *file = malloc(len + 1);
    assert_non_null(file);
    assert_int_equal(fread(file, 1, len + 1, f), len);
    fclose(f);
    assert_memory_equal(file, png, len);
    free(file);
    free(png);
    struct sb_image two = {3, 1, 2, img.pixels};
    assert_int_equal(sb_image_encode_png(&two, "snapshot", &png, &len, err, sizeof err), -1);
    assert_non_null(strstr(err, "snapshot"));
    assert_null(png);
    sb_image_free(&img);
}

/* RFC 4648, section 10, plus bytes that use the last two symbols of the alphabet. */
static void test_base64_vectors(void **state)
{
    (void)state;
    static const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar", "\xfb\xff\xbf"};
    static const char *want[] = {"",         "Zg==",     "Zm8=",     "Zm9v",
                                 "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy", "+/+/"};
    for (size_t i = 0; i < sizeof in / sizeof *in; i++) {
        char *b = sb_base64_encode(in[i], strlen(in[i]));
        assert_non_null(b);
        assert_string_equal(b, want[i]);
        free(b);
    }
}

static void test_load_palette(void **state)
{
    (void)state;
    struct spng_plte plte = {.n_entries = 4};
    const uint8_t rgb[4][3] = {{255, 0, 0}, {0, 128, 7}, {1, 2, 3}, {250, 251, 252}};
    for (int i = 0; i < 4; i++) {
        plte.entries[i].red = rgb[i][0];
        plte.entries[i].green = rgb[i][1];
        plte.entries[i].blue = rgb[i][2];
    }
    const uint8_t idx[6] = {0, 1, 2, 3, 2, 1}; /* 3 x 2, 8-bit indices */
    const char *path = tmp_path("palette.png");
    encode_png(path, 3, 2, SPNG_COLOR_TYPE_INDEXED, 8, idx, sizeof idx, &plte);
    struct sb_image img = {0};
    char err[512] = "";
    assert_int_equal(sb_image_load_png(path, &img, err, sizeof err), 0);
    assert_int_equal(img.channels, 3);
    assert_int_equal(img.width, 3);
    assert_int_equal(img.height, 2);
    for (int i = 0; i < 6; i++)
        for (int c = 0; c < 3; c++)
            assert_true(img.pixels[i * 3 + c] == (float)rgb[idx[i]][c] / 255.0f);
    sb_image_free(&img);
}

static void test_load_rgba_drops_alpha(void **state)
{
    (void)state;
    uint8_t px[4 * 5 * 4];
    for (int i = 0; i < 20; i++) {
        px[i * 4 + 0] = (uint8_t)(i * 13);
        px[i * 4 + 1] = (uint8_t)(255 - i * 7);
        px[i * 4 + 2] = (uint8_t)(i * i);
        px[i * 4 + 3] = (uint8_t)(i * 12); /* alpha varies, down to 0: colour must not change */
    }
    const char *path = tmp_path("rgba.png");
    encode_png(path, 4, 5, SPNG_COLOR_TYPE_TRUECOLOR_ALPHA, 8, px, sizeof px, NULL);
    struct sb_image img = {0};
    char err[512] = "";
    assert_int_equal(sb_image_load_png(path, &img, err, sizeof err), 0);
    assert_int_equal(img.channels, 3);
    for (int i = 0; i < 20; i++)
        for (int c = 0; c < 3; c++)
            assert_true(img.pixels[i * 3 + c] == (float)px[i * 4 + c] / 255.0f);
    sb_image_free(&img);
}

static void test_load_gray_alpha_and_low_depth(void **state)
{
    (void)state;
    uint8_t ga[3 * 2 * 2];
    for (int i = 0; i < 6; i++)
        ga[2 * i] = (uint8_t)(40 * i + 3), ga[2 * i + 1] = (uint8_t)(i * 50);
    const char *path = tmp_path("ga.png");
    encode_png(path, 3, 2, SPNG_COLOR_TYPE_GRAYSCALE_ALPHA, 8, ga, sizeof ga, NULL);
    struct sb_image img = {0};
    char err[512] = "";
    assert_int_equal(sb_image_load_png(path, &img, err, sizeof err), 0);
    assert_int_equal(img.channels, 1);
    for (int i = 0; i < 6; i++)
        assert_true(img.pixels[i] == (float)ga[2 * i] / 255.0f);
    sb_image_free(&img);

    /* 4-bit gray, 4 x 2: samples 0, 5, 10, 15 / 15, 10, 5, 0 -> 17 * sample in 8 bits */
    const uint8_t g4[4] = {0x05, 0xAF, 0xFA, 0x50};
    const uint8_t want[8] = {0, 5, 10, 15, 15, 10, 5, 0};
    path = tmp_path("gray4.png");
    encode_png(path, 4, 2, SPNG_COLOR_TYPE_GRAYSCALE, 4, g4, sizeof g4, NULL);
    assert_int_equal(sb_image_load_png(path, &img, err, sizeof err), 0);
    assert_int_equal(img.channels, 1);
    for (int i = 0; i < 8; i++)
        assert_true(img.pixels[i] == (float)(want[i] * 17) / 255.0f);
    sb_image_free(&img);
}

/* Adam7-interlaced gray and RGB come back in plain row order. */
static void test_load_interlaced(void **state)
{
    (void)state;
    enum { W = 13, H = 11 };
    uint8_t px[W * H * 3];
    for (int i = 0; i < W * H * 3; i++)
        px[i] = (uint8_t)(i * 7 + i / 5);
    for (int ch = 1; ch <= 3; ch += 2) {
        const char *path = tmp_path("interlaced.png");
        encode_png_il(path, W, H, ch == 1 ? SPNG_COLOR_TYPE_GRAYSCALE : SPNG_COLOR_TYPE_TRUECOLOR,
                      8, px, (size_t)W * H * ch, NULL, SPNG_INTERLACE_ADAM7);
        struct sb_image img = {0};
        char err[512] = "";
        assert_int_equal(sb_image_load_png(path, &img, err, sizeof err), 0);
        assert_int_equal(img.channels, ch);
        for (int i = 0; i < W * H * ch; i++)
            assert_true(img.pixels[i] == (float)px[i] / 255.0f);
        sb_image_free(&img);
    }
}

static void test_load_bad_files(void **state)
{
    (void)state;
    expect_load_error(tmp_path("missing.png"), "No such file");

    const char text[] = "this is not an image\n";
    write_all(tmp_path("text.png"), text, sizeof text - 1);
    expect_load_error(tmp_path("text.png"), "not a PNG file");
    write_all(tmp_path("empty.png"), "", 0);
    expect_load_error(tmp_path("empty.png"), "not a PNG file");
    write_all(tmp_path("short.png"), "\x89PNG", 4);
    expect_load_error(tmp_path("short.png"), "not a PNG file");

    assert_int_equal(mkdir(tmp_path("dir.png"), 0700), 0);
    expect_load_error(tmp_path("dir.png"), NULL);

    /* the first half of a valid file */
    struct sb_image img = make_levels(64, 64, 3);
    char err[512] = "";
    assert_int_equal(sb_image_write_png(tmp_path("rgb_src.png"), &img, err, sizeof err), 0);
    sb_image_free(&img);
    size_t len;
    uint8_t *png = read_all(tmp_path("rgb_src.png"), &len);
    write_all(tmp_path("trunc.png"), png, len / 2);
    expect_load_error(tmp_path("trunc.png"), "truncated");
    free(png);

    /* 16-bit gray and RGB */
    uint16_t g16[6] = {0, 1000, 65535, 7, 8, 9};
    encode_png(tmp_path("g16.png"), 3, 2, SPNG_COLOR_TYPE_GRAYSCALE, 16, g16, sizeof g16, NULL);
    expect_load_error(tmp_path("g16.png"),
                      "16-bit samples are not supported (8-bit gray or RGB only)");
    uint16_t rgb16[2 * 2 * 3] = {0};
    encode_png(tmp_path("rgb16.png"), 2, 2, SPNG_COLOR_TYPE_TRUECOLOR, 16, rgb16, sizeof rgb16,
               NULL);
    expect_load_error(tmp_path("rgb16.png"), "16-bit samples are not supported");
}

/* A valid header announcing 10000 x 10000 pixels, and no data: refused before allocating. */
static void test_load_too_large(void **state)
{
    (void)state;
    uint8_t png[8 + 25] = {137, 80, 78, 71, 13, 10, 26, 10};
    uint8_t *c = png + 8;
    put_u32(c, 13);
    memcpy(c + 4, "IHDR", 4);
    put_u32(c + 8, 10000);
    put_u32(c + 12, 10000);
    c[16] = 8, c[17] = SPNG_COLOR_TYPE_TRUECOLOR, c[18] = c[19] = c[20] = 0;
    put_u32(c + 21, crc32_png(c + 4, 17));
    write_all(tmp_path("huge.png"), png, sizeof png);
    expect_load_error(tmp_path("huge.png"), "10000 x 10000 pixels, more than the 67108864");
}

/* Every truncation and a few hundred single-byte corruptions of a valid file: each load
 * returns 0 or -1 with the file named, never crashes (run it under ASan). */
static void test_load_truncated_and_corrupt_never_crash(void **state)
{
    (void)state;
    struct sb_image img = make_levels(13, 11, 3);
    char err[512] = "";
    assert_int_equal(sb_image_write_png(tmp_path("rgb_src.png"), &img, err, sizeof err), 0);
    sb_image_free(&img);
    size_t len;
    uint8_t *png = read_all(tmp_path("rgb_src.png"), &len);
    const char *path = tmp_path("fuzz.png");
    for (size_t cut = 0; cut < len; cut++) {
        write_all(path, png, cut);
        struct sb_image t = {0};
        err[0] = 0;
        const int rc = sb_image_load_png(path, &t, err, sizeof err);
        /* libspng stops at IEND's type and never reads IEND's CRC, so only a file cut in
         * those last 4 bytes, with every pixel intact, may load */
        if (rc != -1 && cut < len - 4)
            fail_msg("truncated at %zu of %zu bytes but loaded", cut, len);
        if (rc == -1) assert_non_null(strstr(err, path));
        sb_image_free(&t);
    }
    struct sb_rng rng;
    sb_rng_seed(&rng, 1234, 99);
    int failed = 0;
    uint8_t *bad = malloc(len);
    assert_non_null(bad);
    for (int trial = 0; trial < 400; trial++) {
        memcpy(bad, png, len);
        const size_t at = (size_t)sb_rng_below(&rng, len);
        bad[at] ^= (uint8_t)(1 + sb_rng_below(&rng, 255));
        write_all(path, bad, len);
        struct sb_image t = {0};
        const int rc = sb_image_load_png(path, &t, err, sizeof err);
        assert_true(rc == 0 || rc == -1);
        if (rc == 0) {
            assert_non_null(t.pixels);
        } else {
            failed++;
            assert_non_null(strstr(err, path));
        }
        sb_image_free(&t);
    }
    printf("  %d of 400 corrupted files refused\n", failed);
    assert_true(failed > 300); /* CRCs catch nearly all */
    free(bad);
    free(png);
}

/* ---- crop and channels ----------------------------------------------------------------- */

static void test_crop_too_small(void **state)
{
    (void)state;
    struct sb_image img = make_levels(300, 200, 3);
    char err[512] = "";
    assert_int_equal(sb_image_crop_center(&img, 512, 512, "photo.png", err, sizeof err), -1);
    assert_string_equal(
        err, "photo.png: 300 x 200 pixels, smaller than the 512 x 512 the experiment needs");
    assert_int_equal(sb_image_crop_center(&img, 300, 201, "photo.png", err, sizeof err), -1);
    assert_int_equal(sb_image_crop_center(&img, 301, 200, "photo.png", err, sizeof err), -1);
    assert_int_equal(img.width, 300); /* untouched */
    assert_int_equal(sb_image_crop_center(&img, 300, 200, "photo.png", err, sizeof err), 0);
    assert_int_equal(img.width, 300);
    sb_image_free(&img);
}

static void test_crop_center_pixels(void **state)
{
    (void)state;
    for (size_t ch = 1; ch <= 3; ch += 2) {
        const size_t W = 7, H = 6;
        struct sb_image img = {W, H, ch, malloc(W * H * ch * sizeof(float))};
        for (size_t y = 0; y < H; y++)
            for (size_t x = 0; x < W; x++)
                for (size_t c = 0; c < ch; c++)
                    img.pixels[(y * W + x) * ch + c] = (float)(100 * y + 10 * x + c);
        char err[512] = "";
        /* 7 - 4 = 3 spare columns: 1 left, 2 right; 6 - 3 = 3 spare rows: 1 above, 2 below */
        assert_int_equal(sb_image_crop_center(&img, 4, 3, "t", err, sizeof err), 0);
        assert_int_equal(img.width, 4);
        assert_int_equal(img.height, 3);
        assert_int_equal(img.channels, ch);
        for (size_t y = 0; y < 3; y++)
            for (size_t x = 0; x < 4; x++)
                for (size_t c = 0; c < ch; c++)
                    assert_true(img.pixels[(y * 4 + x) * ch + c] ==
                                (float)(100 * (y + 1) + 10 * (x + 1) + c));
        sb_image_free(&img);
    }
}

static void test_set_channels(void **state)
{
    (void)state;
    struct sb_image img = make_levels(5, 4, 1);
    float orig[20];
    memcpy(orig, img.pixels, sizeof orig);
    char err[512] = "";
    assert_int_equal(sb_image_set_channels(&img, 1, err, sizeof err), 0);
    assert_int_equal(img.channels, 1);
    assert_int_equal(sb_image_set_channels(&img, 3, err, sizeof err), 0);
    assert_int_equal(img.channels, 3);
    for (int i = 0; i < 20; i++)
        for (int c = 0; c < 3; c++)
            assert_true(img.pixels[i * 3 + c] == orig[i]);
    assert_int_equal(sb_image_set_channels(&img, 3, err, sizeof err), 0);
    assert_int_equal(sb_image_set_channels(&img, 1, err, sizeof err), -1);
    assert_non_null(strstr(err, "3-channel"));
    assert_int_equal(img.channels, 3);
    assert_int_equal(sb_image_set_channels(&img, 2, err, sizeof err), -1);
    sb_image_free(&img);
}

/* ---- zone plate ------------------------------------------------------------------------ */

static void test_zone_plate(void **state)
{
    (void)state;
    const size_t sizes[] = {1, 2, 9, 64, 65, 512};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        const size_t n = sizes[s];
        struct sb_image a = {0}, b = {0};
        assert_int_equal(sb_image_zone_plate(n, &a), 0);
        assert_int_equal(sb_image_zone_plate(n, &b), 0);
        assert_int_equal(a.width, n);
        assert_int_equal(a.height, n);
        assert_int_equal(a.channels, 1);
        assert_memory_equal(a.pixels, b.pixels, n * n * sizeof(float)); /* same bits */
        if (n % 2) assert_true(a.pixels[(n / 2) * n + n / 2] == 1.0f);
        double maxdev = 0.0;
        for (size_t y = 0; y < n; y++)
            for (size_t x = 0; x < n; x++) {
                const float v = a.pixels[y * n + x];
                assert_true(v >= 0.0f && v <= 1.0f);
                /* symmetric under both mirrors and the transpose */
                assert_true(v == a.pixels[y * n + (n - 1 - x)]);
                assert_true(v == a.pixels[(n - 1 - y) * n + x]);
                assert_true(v == a.pixels[x * n + y]);
                /* against libm, as an independent oracle */
                const double dx = x - (n - 1) / 2.0, dy = y - (n - 1) / 2.0;
                const double ref =
                    0.5 + 0.5 * cos(3.14159265358979323846 * (dx * dx + dy * dy) / n);
                const double dev = fabs(v - ref);
                if (dev > maxdev) maxdev = dev;
            }
        assert_true(maxdev < 1e-6);
        sb_image_free(&a);
        sb_image_free(&b);
    }
    struct sb_image z = {0};
    assert_int_equal(sb_image_zone_plate(0, &z), -1);
    assert_null(z.pixels);
}

#define SB_ZONE_PLATE_512_HASH 0xbc94d7d559d288cdull

/* The 512 x 512 zone plate's bits, hashed (FNV-1a 64): fixed on x86-64, and any other
 * machine must match it. */
static void test_zone_plate_golden(void **state)
{
    (void)state;
    struct sb_image z = {0};
    assert_int_equal(sb_image_zone_plate(512, &z), 0);
    uint64_t h = 0xCBF29CE484222325ull;
    for (size_t i = 0; i < 512 * 512; i++) {
        uint32_t u;
        memcpy(&u, &z.pixels[i], 4);
        for (int k = 0; k < 4; k++) {
            h ^= (u >> (8 * k)) & 0xFF;
            h *= 0x100000001B3ull;
        }
    }
    printf("  zone plate 512 hash %016llx\n", (unsigned long long)h);
    assert_true(h == SB_ZONE_PLATE_512_HASH);
    sb_image_free(&z);
}

/* cmocka's assert_float_equal works in float; these tolerances need double. */
#define assert_near(a, b, tol) assert_near_at((a), (b), (tol), #a, __LINE__)
static void assert_near_at(double a, double b, double tol, const char *what, int line)
{
    if (!(fabs(a - b) <= tol))
        fail_msg("line %d: %s = %.17g, want %.17g within %g", line, what, a, b, tol);
}

/* ---- PSNR ------------------------------------------------------------------------------ */

static void test_psnr(void **state)
{
    (void)state;
    enum { N = 100 };
    float a[N], b[N];
    for (int i = 0; i < N; i++)
        a[i] = b[i] = (float)i / N;
    assert_true(isinf(sb_psnr(N, a, b)) && sb_psnr(N, a, b) > 0);

    /* all differences 0.1: 20 dB, up to 0.1's rounding to float (which the PSNR sees) */
    for (int i = 0; i < N; i++)
        a[i] = 0.1f, b[i] = 0.0f;
    const double d = (double)0.1f;
    assert_near(sb_psnr(N, a, b), -10.0 * log10(d * d), 1e-9);
    assert_near(sb_psnr(N, a, b), 20.0, 1e-6);
    for (int i = 0; i < N; i++)
        a[i] = 0.75f, b[i] = 0.625f; /* exactly 1/8 apart */
    assert_near(sb_psnr(N, a, b), 20.0 * log10(8.0), 1e-9);

    /* a mix: one value of 100 off by 1, the rest equal -> MSE 0.01 -> 20 dB */
    for (int i = 0; i < N; i++)
        a[i] = b[i] = 0.5f;
    a[37] = 1.0f, b[37] = 0.0f;
    assert_near(sb_psnr(N, a, b), 20.0, 1e-9);
    /* half off by 0.5 (either sign), half equal -> MSE 1/8 -> 10 log10 8 */
    for (int i = 0; i < N; i++)
        a[i] = 0.25f, b[i] = i % 2 ? 0.25f : (i % 4 ? 0.75f : -0.25f);
    assert_near(sb_psnr(N, a, b), 10.0 * log10(8.0), 1e-9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_gray),
        cmocka_unit_test(test_roundtrip_rgb),
        cmocka_unit_test(test_write_clamps_and_rounds),
        cmocka_unit_test(test_write_errors),
        cmocka_unit_test(test_encode_png_matches_file),
        cmocka_unit_test(test_base64_vectors),
        cmocka_unit_test(test_load_palette),
        cmocka_unit_test(test_load_rgba_drops_alpha),
        cmocka_unit_test(test_load_gray_alpha_and_low_depth),
        cmocka_unit_test(test_load_interlaced),
        cmocka_unit_test(test_load_bad_files),
        cmocka_unit_test(test_load_too_large),
        cmocka_unit_test(test_load_truncated_and_corrupt_never_crash),
        cmocka_unit_test(test_crop_too_small),
        cmocka_unit_test(test_crop_center_pixels),
        cmocka_unit_test(test_set_channels),
        cmocka_unit_test(test_zone_plate),
        cmocka_unit_test(test_zone_plate_golden),
        cmocka_unit_test(test_psnr),
    };
    return cmocka_run_group_tests(tests, setup_dir, remove_dir);
}
