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

/* tanh, for the saturation curve (mf_tanh_kernel.h): with a = |x|,
 *   a < 1/2: the odd Taylor series to a^15 (the next term is below 5e-9);
 *   else: 1 - 2/(e^2a + 1), e^2a = 2^(2a/ln 2) by the 2^y above, with a
 *     held at 10 (tanh 10 rounds to 1 in float);
 * and the sign of x put back. Coefficients of a^3 ... a^15, highest first. */
#define MF_TANH_SMALL 0.5f
#define MF_TANH_MAX 10.0f
#define MF_APPROX_2_OVER_LN2 2.8853900817779268f
#define MF_TANH_TERMS 7
static const float mf_tanh_poly[MF_TANH_TERMS] = {-1.4558343870513183e-03f, 3.592128036572481e-03f,
                                                  -8.863235529902197e-03f,  2.1869488536155203e-02f,
                                                  -5.396825396825397e-02f,  1.3333333333333333e-01f,
                                                  -3.333333333333333e-01f};

#endif
