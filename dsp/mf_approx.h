/* The approximations of log10 and 2^y that every SIMD variant of the gain
 * computer and of dB-to-gain evaluates (mf_kernels_*.c), in one place so
 * that the variants cannot drift apart:
 *   log10 x: x = 2^e m with m in [sqrt(1/2), sqrt(2)); ln m = 2 atanh z,
 *     z = (m - 1)/(m + 1), |z| < 0.172, and atanh z = z (1 + z^2/3 + ... +
 *     z^8/9) (truncation error below 1e-9); log10 x = (e ln 2 + ln m) log10 e.
 *   2^y: y = k + f with k the nearest integer, |f| <= 1/2; 2^f by its
 *     Taylor series to degree 7 (error below 6e-9), 2^k by writing the
 *     exponent.
 * Both polynomials are evaluated by Horner's rule, highest degree first,
 * with separate multiplies and adds (the C reference's operations). */
#ifndef MF_APPROX_H
#define MF_APPROX_H

#define MF_APPROX_SQRT2 1.41421356f
#define MF_APPROX_LN2 0.69314718f
#define MF_APPROX_LOG10E 0.43429448f
#define MF_APPROX_LOG2_10_OVER_20 0.16609640474436813f /* dB to a power of 2 */

/* atanh z / z in powers of z^2. */
#define MF_ATANH_TERMS 5
static const float mf_atanh_poly[MF_ATANH_TERMS] = {1.0f / 9.0f, 1.0f / 7.0f, 1.0f / 5.0f,
                                                    1.0f / 3.0f, 1.0f};

/* 2^f in powers of f. */
#define MF_EXP2_TERMS 8
static const float mf_exp2_poly[MF_EXP2_TERMS] = {1.525273380405984e-05f,  1.5403530393381606e-04f,
                                                  1.3333558146428443e-03f, 9.618129107628477e-03f,
                                                  5.550410866482158e-02f,  2.402265069591007e-01f,
                                                  6.931471805599453e-01f,  1.0f};

#endif
