// libpng behind two C entry points, so Swift never meets setjmp/longjmp: libpng reports errors by
// longjmp, which Swift cannot catch. The decoder uses libpng's full reading API (not the simplified
// one) because the simplified API treats 16-bit data as linear light and premultiplies alpha in
// that mode; we want the stored samples untouched: palette and low-bit grey expanded to 8 bits,
// tRNS turned into an alpha channel, 16-bit samples kept at 16 bits.
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  unsigned int width;
  unsigned int height;
  unsigned int channels;   // 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA
  unsigned int bitDepth;   // 8 or 16; 16-bit samples are in host byte order
  unsigned char *pixels;   // malloc'd, rows packed, width * channels * bitDepth/8 bytes per row
  char message[256];       // why decoding failed
} cshim_png_image;

typedef struct {
  const unsigned char *data;
  size_t size;
  size_t offset;
} cshim_png_source;

static inline void cshim_png_read_bytes(png_structp png, png_bytep out, png_size_t count) {
  cshim_png_source *source = (cshim_png_source *)png_get_io_ptr(png);
  if (count > source->size - source->offset) {
    png_error(png, "truncated file (unexpected end of data)");
  }
  memcpy(out, source->data + source->offset, count);
  source->offset += count;
}

static inline void cshim_png_fail(png_structp png, png_const_charp message) {
  cshim_png_image *image = (cshim_png_image *)png_get_error_ptr(png);
  strncpy(image->message, message, sizeof(image->message) - 1);
  png_longjmp(png, 1);
}

static inline void cshim_png_ignore_warning(png_structp png, png_const_charp message) {
  (void)png;
  (void)message;
}

/// Decodes a PNG held in memory. Returns 1 on success (free `out->pixels` with free()), 0 on
/// failure with `out->message` set.
/// Images with more than `maxPixels` pixels (width × height, as the IHDR chunk claims) are
/// refused before any pixel memory is allocated or any image data inflated.
static inline int cshim_png_decode(const unsigned char *data, size_t size,
                                   unsigned long long maxPixels, cshim_png_image *out) {
  memset(out, 0, sizeof(*out));
  if (size < 8 || png_sig_cmp(data, 0, 8) != 0) {
    strcpy(out->message, "not a PNG file (bad signature)");
    return 0;
  }
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, out, cshim_png_fail,
                                           cshim_png_ignore_warning);
  if (png == NULL) {
    strcpy(out->message, "libpng could not allocate a reader");
    return 0;
  }
  png_infop info = png_create_info_struct(png);
  if (info == NULL) {
    png_destroy_read_struct(&png, NULL, NULL);
    strcpy(out->message, "libpng could not allocate an info struct");
    return 0;
  }
  cshim_png_source source = {data, size, 0};
  unsigned char *volatile pixels = NULL;
  png_bytep *volatile rows = NULL;
  if (setjmp(png_jmpbuf(png))) {
    free(pixels);
    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    return 0;
  }
  png_set_read_fn(png, &source, cshim_png_read_bytes);
  png_read_info(png, info);
  {
    png_uint_32 claimedWidth = png_get_image_width(png, info);
    png_uint_32 claimedHeight = png_get_image_height(png, info);
    unsigned long long claimed = (unsigned long long)claimedWidth * claimedHeight;
    if (claimed > maxPixels) {
      char reason[200];
      snprintf(reason, sizeof(reason),
               "header claims %u×%u = %llu pixels, over the limit of %llu (--max-pixels)",
               (unsigned)claimedWidth, (unsigned)claimedHeight, claimed, maxPixels);
      png_error(png, reason);
    }
  }
  int colorType = png_get_color_type(png, info);
  int depth = png_get_bit_depth(png, info);
  if (colorType == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (colorType == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
  if (depth == 16) png_set_swap(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  png_uint_32 width = png_get_image_width(png, info);
  png_uint_32 height = png_get_image_height(png, info);
  size_t rowBytes = png_get_rowbytes(png, info);
  if ((double)rowBytes * (double)height > 2147483647.0) {
    png_error(png, "image too large (over 2 GiB of pixels)");
  }
  pixels = (unsigned char *)malloc(rowBytes * height);
  rows = (png_bytep *)malloc(sizeof(png_bytep) * height);
  if (pixels == NULL || rows == NULL) png_error(png, "out of memory");
  for (png_uint_32 y = 0; y < height; y++) rows[y] = pixels + (size_t)y * rowBytes;
  png_read_image(png, rows);
  png_read_end(png, NULL);
  out->width = width;
  out->height = height;
  out->channels = png_get_channels(png, info);
  out->bitDepth = png_get_bit_depth(png, info);
  out->pixels = pixels;
  free(rows);
  png_destroy_read_struct(&png, &info, NULL);
  return 1;
}

/// Encodes 8-bit grey (1), grey+alpha (2), RGB (3) or RGBA (4) samples as PNG in memory with
/// libpng's simplified API. Returns 1 on success (free `*png` with free()), 0 on failure.
static inline int cshim_png_encode(const unsigned char *pixels, unsigned int width,
                                   unsigned int height, unsigned int channels,
                                   unsigned char **png, size_t *pngSize, char *message,
                                   size_t messageSize) {
  png_image image;
  memset(&image, 0, sizeof(image));
  image.version = PNG_IMAGE_VERSION;
  image.width = width;
  image.height = height;
  switch (channels) {
    case 1: image.format = PNG_FORMAT_GRAY; break;
    case 2: image.format = PNG_FORMAT_GA; break;
    case 3: image.format = PNG_FORMAT_RGB; break;
    case 4: image.format = PNG_FORMAT_RGBA; break;
    default: strncpy(message, "PNG needs 1 to 4 channels", messageSize - 1); return 0;
  }
  png_alloc_size_t size = 0;
  if (!png_image_write_to_memory(&image, NULL, &size, 0, pixels, 0, NULL)) {
    strncpy(message, image.message, messageSize - 1);
    png_image_free(&image);
    return 0;
  }
  unsigned char *buffer = (unsigned char *)malloc(size);
  if (buffer == NULL) {
    strncpy(message, "out of memory", messageSize - 1);
    return 0;
  }
  if (!png_image_write_to_memory(&image, buffer, &size, 0, pixels, 0, NULL)) {
    strncpy(message, image.message, messageSize - 1);
    png_image_free(&image);
    free(buffer);
    return 0;
  }
  *png = buffer;
  *pngSize = size;
  return 1;
}
