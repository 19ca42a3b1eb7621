// libjpeg(-turbo) behind two C entry points. libjpeg reports fatal errors through error_exit,
// which by default calls exit(); here it longjmps back into the entry point, which Swift cannot
// do itself. Corrupt data is only a warning in libjpeg: a premature end of data (JWRN_JPEG_EOF)
// pads the image with grey, a bad Huffman code or extraneous bytes are skipped over. The decoder
// turns every such warning into an error at once, so a truncated or damaged file is reported
// instead of silently accepted (and a tiny file claiming a huge image is not decoded for
// seconds into grey). The header's size is checked against a pixel limit before anything is
// allocated for the image.
#include <stdio.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>

typedef struct {
  struct jpeg_error_mgr base;
  jmp_buf jump;
  int truncated;
  char message[JMSG_LENGTH_MAX];
} cshim_jpeg_error;

static inline void cshim_jpeg_error_exit(j_common_ptr cinfo) {
  cshim_jpeg_error *error = (cshim_jpeg_error *)cinfo->err;
  (*cinfo->err->format_message)(cinfo, error->message);
  longjmp(error->jump, 1);
}

static inline void cshim_jpeg_emit(j_common_ptr cinfo, int level) {
  cshim_jpeg_error *error = (cshim_jpeg_error *)cinfo->err;
  if (level < 0) {
    int code = cinfo->err->msg_code;
    cinfo->err->num_warnings++;
    // Warnings about metadata leave the pixels intact; every other one means corrupt data.
    if (code == JWRN_JFIF_MAJOR || code == JWRN_ADOBE_XFORM || code == JWRN_BOGUS_ICC) return;
    if (code == JWRN_JPEG_EOF) {
      error->truncated = 1;
      strcpy(error->message, "truncated file (premature end of JPEG data)");
    } else {
      (*cinfo->err->format_message)(cinfo, error->message);
    }
    longjmp(error->jump, 1);
  }
}

typedef struct {
  unsigned int width;
  unsigned int height;
  unsigned int channels;   // 1 grey or 3 RGB
  unsigned char *pixels;   // malloc'd, rows packed
  char message[JMSG_LENGTH_MAX];
} cshim_jpeg_image;

/// Decodes a baseline or progressive JPEG held in memory to grey or RGB. Returns 1 on success
/// (free `out->pixels` with free()), 0 on failure with `out->message` set.
/// Images with more than `maxPixels` pixels (width × height, as the header claims) are refused
/// before decoding starts.
static inline int cshim_jpeg_decode(const unsigned char *data, size_t size,
                                    unsigned long long maxPixels, cshim_jpeg_image *out) {
  memset(out, 0, sizeof(*out));
  struct jpeg_decompress_struct cinfo;
  cshim_jpeg_error error;
  memset(&error, 0, sizeof(error));
  cinfo.err = jpeg_std_error(&error.base);
  error.base.error_exit = cshim_jpeg_error_exit;
  error.base.emit_message = cshim_jpeg_emit;
  unsigned char *volatile pixels = NULL;
  if (setjmp(error.jump)) {
    strncpy(out->message, error.message[0] ? error.message : "corrupt JPEG data",
            sizeof(out->message) - 1);
    jpeg_destroy_decompress(&cinfo);
    free(pixels);
    return 0;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data, (unsigned long)size);
  jpeg_read_header(&cinfo, TRUE);
  if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
    strcpy(error.message, "CMYK JPEGs are not supported; convert the file to RGB");
    longjmp(error.jump, 1);
  }
  unsigned long long claimed = (unsigned long long)cinfo.image_width * cinfo.image_height;
  if (claimed > maxPixels) {
    snprintf(error.message, sizeof(error.message),
             "header claims %u×%u = %llu pixels, over the limit of %llu (--max-pixels)",
             cinfo.image_width, cinfo.image_height, claimed, maxPixels);
    longjmp(error.jump, 1);
  }
  cinfo.out_color_space = cinfo.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_start_decompress(&cinfo);
  size_t rowBytes = (size_t)cinfo.output_width * cinfo.output_components;
  if ((double)rowBytes * (double)cinfo.output_height > 2147483647.0) {
    strcpy(error.message, "image too large (over 2 GiB of pixels)");
    longjmp(error.jump, 1);
  }
  pixels = (unsigned char *)malloc(rowBytes * cinfo.output_height);
  if (pixels == NULL) {
    strcpy(error.message, "out of memory");
    longjmp(error.jump, 1);
  }
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = pixels + (size_t)cinfo.output_scanline * rowBytes;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  if (error.truncated) {
    strcpy(error.message, "truncated file (premature end of JPEG data)");
    longjmp(error.jump, 1);
  }
  out->width = cinfo.output_width;
  out->height = cinfo.output_height;
  out->channels = (unsigned int)cinfo.output_components;
  out->pixels = pixels;
  jpeg_destroy_decompress(&cinfo);
  return 1;
}

/// Encodes 8-bit grey (1) or RGB (3) samples as a baseline JPEG of the given quality (1-100).
/// Returns 1 on success (free `*jpeg` with free()), 0 on failure with `message` set.
static inline int cshim_jpeg_encode(const unsigned char *pixels, unsigned int width,
                                    unsigned int height, unsigned int channels, int quality,
                                    unsigned char **jpeg, size_t *jpegSize, char *message,
                                    size_t messageSize) {
  struct jpeg_compress_struct cinfo;
  cshim_jpeg_error error;
  memset(&error, 0, sizeof(error));
  cinfo.err = jpeg_std_error(&error.base);
  error.base.error_exit = cshim_jpeg_error_exit;
  error.base.emit_message = cshim_jpeg_emit;
  unsigned char *volatile buffer = NULL;
  unsigned long volatile bufferSize = 0;
  if (setjmp(error.jump)) {
    strncpy(message, error.message, messageSize - 1);
    jpeg_destroy_compress(&cinfo);
    free(buffer);
    return 0;
  }
  jpeg_create_compress(&cinfo);
  jpeg_mem_dest(&cinfo, (unsigned char **)&buffer, (unsigned long *)&bufferSize);
  cinfo.image_width = width;
  cinfo.image_height = height;
  cinfo.input_components = (int)channels;
  cinfo.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  size_t rowBytes = (size_t)width * channels;
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = (JSAMPROW)(pixels + (size_t)cinfo.next_scanline * rowBytes);
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  *jpeg = buffer;
  *jpegSize = bufferSize;
  return 1;
}
