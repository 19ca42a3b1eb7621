// Which kernel variant this CPU runs (see CKernels.h).
#include "CKernels.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>

// CPUID leaf 1 gives FMA (ECX bit 12), OSXSAVE (bit 27) and AVX (bit 28); leaf 7 gives AVX2 (EBX
// bit 5). XGETBV(0) bits 1 and 2 say the operating system saves the XMM and YMM state; without
// them AVX instructions fault even on a CPU that has them (Intel SDM vol. 1, 14.3).
static int detect_avx2_fma(void) {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
  if (!((c >> 12) & 1) || !((c >> 27) & 1) || !((c >> 28) & 1)) return 0;
  unsigned low, high;
  __asm__ volatile("xgetbv" : "=a"(low), "=d"(high) : "c"(0));
  if ((low & 6) != 6) return 0;
  if (__get_cpuid_max(0, NULL) < 7) return 0;
  __cpuid_count(7, 0, a, b, c, d);
  return (b >> 5) & 1;
}
#else
static int detect_avx2_fma(void) { return 0; }
#endif

int glimpse_kernel_avx2_fma_supported(void) {
  // Racing threads compute the same answer; the store of an int is atomic on every target here.
  static volatile int cached = -1;
  if (cached < 0) cached = detect_avx2_fma();
  return cached;
}

glimpse_kernel_variant glimpse_kernel_default_variant(void) {
  const char *forced = getenv("GLIMPSE_SIMD");
  if (forced != NULL && strcmp(forced, "baseline") == 0) return glimpse_kernel_baseline;
  return glimpse_kernel_avx2_fma_supported() ? glimpse_kernel_avx2_fma : glimpse_kernel_baseline;
}
