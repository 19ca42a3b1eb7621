import CKernels

/// The `CKernels` variant this process runs (the widest the CPU has, `GLIMPSE_SIMD=baseline` to
/// force the baseline): `glimpse_kernel_default_variant()`, read once and shared by every
/// caller, so the sparse products, the vector `exp`/`log` and the direct convolutions agree.
enum KernelVariant {
  /// The variant, read once per process.
  static let current = glimpse_kernel_default_variant()
}
