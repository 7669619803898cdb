/* libFuzzer target: PNG images (harness/data/image.c, libspng) from memory, then the crop and the
 * channel conversion an image experiment applies. */
#include "harness/data/image.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sb_image img;
    char err[1024];
    if (sb_image_load_png_buffer(data, size, "fuzz.png", &img, err, sizeof err) != 0) return 0;
    const size_t side = img.width < img.height ? img.width : img.height;
    if (sb_image_crop_center(&img, side, side, "fuzz.png", err, sizeof err) == 0)
        sb_image_set_channels(&img, 3, err, sizeof err);
    sb_image_free(&img);
    return 0;
}
