/*
 * ed_matvec_x86.c - int8 matvec kernels for x86: AVX2 and AVX-512 VNNI.
 *
 * Built without any -m flag: each kernel carries its own target attribute, so one binary runs
 * on every x86-64 CPU, and ed_cpu_has_*() (cpuid through __builtin_cpu_supports, which also
 * checks that the OS saves the wide registers) say whether the running CPU may call it.
 *
 * Contract (as ed_matvec_s8, the portable reference): out[r] = sum_i w[r][i] * x[i]
 *   w:   int8  [n_rows][n_in], row-major (weights are -127..127; -128 would be exact too)
 *   x:   uint8 [n_in]
 *   out: int32 [n_rows]; n_in <= ED_MAX_WIDTH = 4096, so |sum| <= 4096 * 128 * 255 < 2^31.
 * Integer sums are exact in any order, so each kernel is bit-exact with the portable loop.
 * Rows go in groups (eight for AVX2 and VNNI) that share every load of x; the sums of a
 * group are reduced together.
 */
#include "../ed_internal.h"

#ifdef ED_HAVE_X86

#include <immintrin.h>

#define ED_TARGET_AVX2 __attribute__((target("avx2")))
#define ED_TARGET_VNNI __attribute__((target("avx2,avx512f,avx512bw,avx512vnni")))

int ed_cpu_has_avx2(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0;
}

int ed_cpu_has_vnni(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0 && __builtin_cpu_supports("avx512f") != 0 &&
           __builtin_cpu_supports("avx512bw") != 0 && __builtin_cpu_supports("avx512vnni") != 0;
}

/* Lane k of the result is the sum of the eight int32 lanes of the k-th argument. */
static inline ED_TARGET_AVX2 __m128i ed_hsum4_avx2(__m256i a, __m256i b, __m256i c, __m256i d)
{
    __m256i ab = _mm256_hadd_epi32(a, b);     /* per 128-bit half: a01 a23 b01 b23 */
    __m256i cd = _mm256_hadd_epi32(c, d);     /* c01 c23 d01 d23 */
    __m256i abcd = _mm256_hadd_epi32(ab, cd); /* a0123 b0123 c0123 d0123 */
    return _mm_add_epi32(_mm256_castsi256_si128(abcd), _mm256_extracti128_si256(abcd, 1));
}

/* --- AVX2 ---
 * Inputs and weights are widened to int16 (vpmovzxbw, vpmovsxbw) and multiplied by vpmaddwd,
 * which adds each pair of products into an int32 lane: |255 * 128 * 2| = 65280 fits, so
 * nothing saturates (vpmaddubsw, the u8 x s8 form, would: 255 * 127 * 2 > 32767), and the
 * int32 sums are exact. One widened input vector feeds eight rows (eight independent chains).
 * Per 16 weights and row: 1 weight widening, 1 vpmaddwd, 1 vpaddd. */
static inline __attribute__((always_inline)) ED_TARGET_AVX2 __m256i ed_avx2_u8x16(const uint8_t *p)
{
    return _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(const void *)p));
}

static inline __attribute__((always_inline)) ED_TARGET_AVX2 __m256i ed_avx2_s8x16(const int8_t *p)
{
    return _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)p));
}

#define ED_AVX2_MAC(acc, v, wp) acc = _mm256_add_epi32(acc, _mm256_madd_epi16(v, ed_avx2_s8x16(wp)))

static ED_TARGET_AVX2 void ed_avx2_rows8(const int8_t *w, const uint8_t *x, uint32_t n_in,
                                         int32_t *out)
{
    const int8_t *w0 = w, *w1 = w0 + n_in, *w2 = w1 + n_in, *w3 = w2 + n_in, *w4 = w3 + n_in,
                 *w5 = w4 + n_in, *w6 = w5 + n_in, *w7 = w6 + n_in;
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0,
            a7 = a0;
    uint32_t i, r;
    for (i = 0; i + 16u <= n_in; i += 16u) {
        const __m256i v = ed_avx2_u8x16(x + i);
        ED_AVX2_MAC(a0, v, w0 + i);
        ED_AVX2_MAC(a1, v, w1 + i);
        ED_AVX2_MAC(a2, v, w2 + i);
        ED_AVX2_MAC(a3, v, w3 + i);
        ED_AVX2_MAC(a4, v, w4 + i);
        ED_AVX2_MAC(a5, v, w5 + i);
        ED_AVX2_MAC(a6, v, w6 + i);
        ED_AVX2_MAC(a7, v, w7 + i);
    }
    _mm_storeu_si128((__m128i *)(void *)out, ed_hsum4_avx2(a0, a1, a2, a3));
    _mm_storeu_si128((__m128i *)(void *)(out + 4), ed_hsum4_avx2(a4, a5, a6, a7));
    if (i < n_in) {
        for (r = 0; r < 8u; r++) {
            out[r] += ed_dot_tail(w + (size_t)r * n_in, x, i, n_in);
        }
    }
}

static ED_TARGET_AVX2 int32_t ed_avx2_row(const int8_t *w, const uint8_t *x, uint32_t n_in)
{
    const __m256i zero = _mm256_setzero_si256();
    __m256i a = zero;
    uint32_t i;
    for (i = 0; i + 16u <= n_in; i += 16u) {
        ED_AVX2_MAC(a, ed_avx2_u8x16(x + i), w + i);
    }
    return _mm_cvtsi128_si32(ed_hsum4_avx2(a, zero, zero, zero)) + ed_dot_tail(w, x, i, n_in);
}

ED_TARGET_AVX2 void ed_matvec_s8_avx2(const int8_t *w, const uint8_t *x, uint32_t n_in,
                                      uint32_t n_rows, int32_t *out)
{
    uint32_t r = 0;
    for (; r + 8u <= n_rows; r += 8u) {
        ed_avx2_rows8(w + (size_t)r * n_in, x, n_in, out + r);
    }
    for (; r < n_rows; r++) {
        out[r] = ed_avx2_row(w + (size_t)r * n_in, x, n_in);
    }
}

/* Batched AVX2: two rows x ED_BATCH_LANES (4) images, eight int32 accumulators; each widened
 * weight vector feeds four images. Per 16 weights: 2 weight and 4 input widenings for 8
 * vpmaddwd. out[j * n_out + r], n_out the caller's row count. */
typedef char ed_assert_four_lanes[ED_BATCH_LANES == 4u ? 1 : -1];

static ED_TARGET_AVX2 void ed_avx2_rows2_lanes4(const int8_t *w, const uint8_t *x, size_t xs,
                                                uint32_t n_in, int32_t *out, uint32_t n_out)
{
    const int8_t *w0 = w, *w1 = w + n_in;
    const uint8_t *x0 = x, *x1 = x0 + xs, *x2 = x1 + xs, *x3 = x2 + xs;
    const __m256i z = _mm256_setzero_si256();
    __m256i a00 = z, a01 = z, a02 = z, a03 = z, a10 = z, a11 = z, a12 = z, a13 = z;
    __m128i s0, s1;
    uint32_t i;
    for (i = 0; i + 16u <= n_in; i += 16u) {
        const __m256i v0 = ed_avx2_u8x16(x0 + i), v1 = ed_avx2_u8x16(x1 + i);
        const __m256i v2 = ed_avx2_u8x16(x2 + i), v3 = ed_avx2_u8x16(x3 + i);
        __m256i wv = ed_avx2_s8x16(w0 + i);
        a00 = _mm256_add_epi32(a00, _mm256_madd_epi16(v0, wv));
        a01 = _mm256_add_epi32(a01, _mm256_madd_epi16(v1, wv));
        a02 = _mm256_add_epi32(a02, _mm256_madd_epi16(v2, wv));
        a03 = _mm256_add_epi32(a03, _mm256_madd_epi16(v3, wv));
        wv = ed_avx2_s8x16(w1 + i);
        a10 = _mm256_add_epi32(a10, _mm256_madd_epi16(v0, wv));
        a11 = _mm256_add_epi32(a11, _mm256_madd_epi16(v1, wv));
        a12 = _mm256_add_epi32(a12, _mm256_madd_epi16(v2, wv));
        a13 = _mm256_add_epi32(a13, _mm256_madd_epi16(v3, wv));
    }
    /* lanes: image 0..3 of row 0, then of row 1 */
    s0 = ed_hsum4_avx2(a00, a01, a02, a03);
    s1 = ed_hsum4_avx2(a10, a11, a12, a13);
    out[0] = _mm_extract_epi32(s0, 0) + ed_dot_tail(w0, x0, i, n_in);
    out[n_out] = _mm_extract_epi32(s0, 1) + ed_dot_tail(w0, x1, i, n_in);
    out[2u * (size_t)n_out] = _mm_extract_epi32(s0, 2) + ed_dot_tail(w0, x2, i, n_in);
    out[3u * (size_t)n_out] = _mm_extract_epi32(s0, 3) + ed_dot_tail(w0, x3, i, n_in);
    out[1] = _mm_extract_epi32(s1, 0) + ed_dot_tail(w1, x0, i, n_in);
    out[n_out + 1u] = _mm_extract_epi32(s1, 1) + ed_dot_tail(w1, x1, i, n_in);
    out[2u * (size_t)n_out + 1u] = _mm_extract_epi32(s1, 2) + ed_dot_tail(w1, x2, i, n_in);
    out[3u * (size_t)n_out + 1u] = _mm_extract_epi32(s1, 3) + ed_dot_tail(w1, x3, i, n_in);
}

ED_TARGET_AVX2 void ed_matmat_s8_avx2(const int8_t *w, const uint8_t *x, size_t x_stride,
                                      uint32_t n_in, uint32_t n_rows, int32_t *out)
{
    uint32_t r = 0, j;
    for (; r + 2u <= n_rows; r += 2u) {
        ed_avx2_rows2_lanes4(w + (size_t)r * n_in, x, x_stride, n_in, out + r, n_rows);
    }
    if (r < n_rows) { /* an odd last row: each image through the one-row kernel */
        for (j = 0; j < ED_BATCH_LANES; j++) {
            out[j * (size_t)n_rows + r] = ed_avx2_row(w + (size_t)r * n_in, x + j * x_stride, n_in);
        }
    }
}

/* --- AVX-512 VNNI ---
 * vpdpbusd adds four u8 x s8 products into each int32 lane, without saturation (that is
 * vpdpbusds), so it is exact. The last partial vector uses masked loads (zeros past n_in,
 * and no read past the end of a row). Per 64 weights and row: 1 vpdpbusd. */
static ED_TARGET_VNNI __m512i ed_vnni_tail_x(const uint8_t *x, uint32_t i, uint32_t n_in,
                                             __mmask64 *mask)
{
    *mask = (~(__mmask64)0) >> (64u - (n_in - i));
    return _mm512_maskz_loadu_epi8(*mask, x + i);
}

static ED_TARGET_VNNI __m256i ed_fold512(__m512i a)
{
    return _mm256_add_epi32(_mm512_castsi512_si256(a), _mm512_extracti64x4_epi64(a, 1));
}

/* Eight rows at once: one load of x feeds eight vpdpbusd (eight independent chains hide the
 * instruction's latency), and the eight sums are reduced together and stored as one vector. */
#define ED_VNNI_ROWS(F)                                                                            \
    F(0) F(1) F(2) F(3) F(4) F(5) F(6) F(7)
static ED_TARGET_VNNI void ed_vnni_rows8(const int8_t *w, const uint8_t *x, uint32_t n_in,
                                         int32_t *out)
{
    const int8_t *w0 = w, *w1 = w0 + n_in, *w2 = w1 + n_in, *w3 = w2 + n_in, *w4 = w3 + n_in,
                 *w5 = w4 + n_in, *w6 = w5 + n_in, *w7 = w6 + n_in;
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0,
            a7 = a0;
    __m256i lo, hi;
    uint32_t i;
    for (i = 0; i + 64u <= n_in; i += 64u) {
        const __m512i xv = _mm512_loadu_si512(x + i);
#define ED_VNNI_FULL(k) a##k = _mm512_dpbusd_epi32(a##k, xv, _mm512_loadu_si512(w##k + i));
        ED_VNNI_ROWS(ED_VNNI_FULL)
#undef ED_VNNI_FULL
    }
    if (i < n_in) {
        __mmask64 m;
        const __m512i xv = ed_vnni_tail_x(x, i, n_in, &m);
#define ED_VNNI_PART(k) a##k = _mm512_dpbusd_epi32(a##k, xv, _mm512_maskz_loadu_epi8(m, w##k + i));
        ED_VNNI_ROWS(ED_VNNI_PART)
#undef ED_VNNI_PART
    }
    {
        /* 8 x 16 lanes -> 8 sums: fold 512 to 256 bits, three rounds of hadd, then the two
         * 128-bit halves (rows 0-3 | 4-7 in each) are swapped together and added. */
        const __m256i ab = _mm256_hadd_epi32(ed_fold512(a0), ed_fold512(a1));
        const __m256i cd = _mm256_hadd_epi32(ed_fold512(a2), ed_fold512(a3));
        const __m256i ef = _mm256_hadd_epi32(ed_fold512(a4), ed_fold512(a5));
        const __m256i gh = _mm256_hadd_epi32(ed_fold512(a6), ed_fold512(a7));
        const __m256i abcd = _mm256_hadd_epi32(ab, cd), efgh = _mm256_hadd_epi32(ef, gh);
        lo = _mm256_permute2x128_si256(abcd, efgh, 0x20);
        hi = _mm256_permute2x128_si256(abcd, efgh, 0x31);
    }
    _mm256_storeu_si256((__m256i *)(void *)out, _mm256_add_epi32(lo, hi));
}

static ED_TARGET_VNNI int32_t ed_vnni_row(const int8_t *w, const uint8_t *x, uint32_t n_in)
{
    __m512i a = _mm512_setzero_si512();
    uint32_t i;
    for (i = 0; i + 64u <= n_in; i += 64u) {
        a = _mm512_dpbusd_epi32(a, _mm512_loadu_si512(x + i), _mm512_loadu_si512(w + i));
    }
    if (i < n_in) {
        __mmask64 m;
        const __m512i xv = ed_vnni_tail_x(x, i, n_in, &m);
        a = _mm512_dpbusd_epi32(a, xv, _mm512_maskz_loadu_epi8(m, w + i));
    }
    return _mm512_reduce_add_epi32(a);
}

ED_TARGET_VNNI void ed_matvec_s8_vnni(const int8_t *w, const uint8_t *x, uint32_t n_in,
                                      uint32_t n_rows, int32_t *out)
{
    uint32_t r = 0;
    for (; r + 8u <= n_rows; r += 8u) {
        ed_vnni_rows8(w + (size_t)r * n_in, x, n_in, out + r);
    }
    for (; r < n_rows; r++) {
        out[r] = ed_vnni_row(w + (size_t)r * n_in, x, n_in);
    }
}

/* Batched: four rows x ED_BATCH_LANES (4) images, sixteen accumulators. Each weight load
 * feeds four vpdpbusd (one per image), so a pass over the weights serves four digits: per 64
 * weights, 4 weight loads + 4 input loads for 16 vpdpbusd. out[j * n_out + r], n_out the
 * caller's row count. */

#define ED_LANES4(F, k) F(k, 0) F(k, 1) F(k, 2) F(k, 3)
static ED_TARGET_VNNI void ed_vnni_rows4_lanes4(const int8_t *w, const uint8_t *x, size_t xs,
                                                uint32_t n_in, int32_t *out, uint32_t n_out)
{
    const int8_t *w0 = w, *w1 = w0 + n_in, *w2 = w1 + n_in, *w3 = w2 + n_in;
    const uint8_t *x0 = x, *x1 = x0 + xs, *x2 = x1 + xs, *x3 = x2 + xs;
    const __m512i z = _mm512_setzero_si512();
    __m512i a00 = z, a01 = z, a02 = z, a03 = z, a10 = z, a11 = z, a12 = z, a13 = z;
    __m512i a20 = z, a21 = z, a22 = z, a23 = z, a30 = z, a31 = z, a32 = z, a33 = z;
    __m512i v0, v1, v2, v3, wv;
    uint32_t i;
#define ED_LANE_DOT(k, j) a##k##j = _mm512_dpbusd_epi32(a##k##j, v##j, wv);
#define ED_LANE_STEP(LOAD)                                                                         \
    v0 = LOAD(x0 + i);                                                                             \
    v1 = LOAD(x1 + i);                                                                             \
    v2 = LOAD(x2 + i);                                                                             \
    v3 = LOAD(x3 + i);                                                                             \
    wv = LOAD(w0 + i);                                                                             \
    ED_LANES4(ED_LANE_DOT, 0)                                                                      \
    wv = LOAD(w1 + i);                                                                             \
    ED_LANES4(ED_LANE_DOT, 1)                                                                      \
    wv = LOAD(w2 + i);                                                                             \
    ED_LANES4(ED_LANE_DOT, 2)                                                                      \
    wv = LOAD(w3 + i);                                                                             \
    ED_LANES4(ED_LANE_DOT, 3)
#define ED_LOAD_FULL(p) _mm512_loadu_si512(p)
#define ED_LOAD_TAIL(p) _mm512_maskz_loadu_epi8(m, p)
    for (i = 0; i + 64u <= n_in; i += 64u) {
        ED_LANE_STEP(ED_LOAD_FULL)
    }
    if (i < n_in) { /* the tail: masked loads, zeros past n_in */
        const __mmask64 m = (~(__mmask64)0) >> (64u - (n_in - i));
        ED_LANE_STEP(ED_LOAD_TAIL)
    }
#undef ED_LOAD_FULL
#undef ED_LOAD_TAIL
#undef ED_LANE_STEP
#undef ED_LANE_DOT
#define ED_LANE_STORE(j)                                                                           \
    _mm_storeu_si128((__m128i *)(void *)(out + (size_t)(j) * n_out),                              \
                     ed_hsum4_avx2(ed_fold512(a0##j), ed_fold512(a1##j), ed_fold512(a2##j),       \
                                   ed_fold512(a3##j)));
    ED_LANE_STORE(0)
    ED_LANE_STORE(1)
    ED_LANE_STORE(2)
    ED_LANE_STORE(3)
#undef ED_LANE_STORE
}

static ED_TARGET_VNNI void ed_vnni_row_lanes4(const int8_t *w, const uint8_t *x, size_t xs,
                                              uint32_t n_in, int32_t *out, uint32_t n_out)
{
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, wv;
    __mmask64 m = ~(__mmask64)0;
    uint32_t i;
    for (i = 0; i < n_in; i += 64u) {
        if (n_in - i < 64u) {
            m = (~(__mmask64)0) >> (64u - (n_in - i));
        }
        wv = _mm512_maskz_loadu_epi8(m, w + i);
        a0 = _mm512_dpbusd_epi32(a0, _mm512_maskz_loadu_epi8(m, x + i), wv);
        a1 = _mm512_dpbusd_epi32(a1, _mm512_maskz_loadu_epi8(m, x + xs + i), wv);
        a2 = _mm512_dpbusd_epi32(a2, _mm512_maskz_loadu_epi8(m, x + 2u * xs + i), wv);
        a3 = _mm512_dpbusd_epi32(a3, _mm512_maskz_loadu_epi8(m, x + 3u * xs + i), wv);
    }
    out[0] = _mm512_reduce_add_epi32(a0);
    out[n_out] = _mm512_reduce_add_epi32(a1);
    out[2u * (size_t)n_out] = _mm512_reduce_add_epi32(a2);
    out[3u * (size_t)n_out] = _mm512_reduce_add_epi32(a3);
}

ED_TARGET_VNNI void ed_matmat_s8_vnni(const int8_t *w, const uint8_t *x, size_t x_stride,
                                      uint32_t n_in, uint32_t n_rows, int32_t *out)
{
    uint32_t r = 0;
    for (; r + 4u <= n_rows; r += 4u) {
        ed_vnni_rows4_lanes4(w + (size_t)r * n_in, x, x_stride, n_in, out + r, n_rows);
    }
    for (; r < n_rows; r++) {
        ed_vnni_row_lanes4(w + (size_t)r * n_in, x, x_stride, n_in, out + r, n_rows);
    }
}

/* --- AVX-512 requantisation, eight rows at a time (used with the vnni kernel) ---
 * The same integer steps as ed_finish_rows and ed_requantize, lane by lane in int64:
 *   q = (int64(acc + bias) * multiplier + 2^(shift-1)) >> shift   (vpmuldq, vpsllvq, vpsravq:
 *   the arithmetic shift is the floor division), then the sigmoid index clamp(q + 512, 0, 1023)
 *   and a table lookup, or the int32 saturation (vpmovsqd) for logits. x86 is little-endian,
 *   so the blob's int32 arrays load directly (unaligned loads).
 * ed_requantize8_avx512: q for eight int32 lanes v (bias added), the eight int32 multipliers
 * and shifts at mult and shift. */
static inline __attribute__((always_inline)) ED_TARGET_VNNI __m512i
ed_requantize8_avx512(__m256i v, const void *mult, const void *shift)
{
    const __m512i one = _mm512_set1_epi64(1);
    const __m512i m = _mm512_cvtepi32_epi64(_mm256_loadu_si256((const __m256i *)mult));
    const __m512i sh = _mm512_cvtepi32_epi64(_mm256_loadu_si256((const __m256i *)shift));
    const __m512i y = _mm512_add_epi64(_mm512_mul_epi32(_mm512_cvtepi32_epi64(v), m),
                                       _mm512_sllv_epi64(one, _mm512_sub_epi64(sh, one)));
    return _mm512_srav_epi64(y, sh);
}

/* out[0..8) = the sigmoid table at clamp(q + 512, 0, 1023) of the eight int64 lanes q. */
static inline __attribute__((always_inline)) ED_TARGET_VNNI void
ed_sigmoid8_avx512(__m512i q, const uint8_t *lut, uint8_t *out)
{
    const __m512i half_lut = _mm512_set1_epi64(ED_SIGMOID_LUT_SIZE / 2);
    const __m512i lut_max = _mm512_set1_epi64(ED_SIGMOID_LUT_SIZE - 1);
    const __m512i k = _mm512_min_epi64(_mm512_max_epi64(_mm512_add_epi64(q, half_lut), _mm512_setzero_si512()),
                                       lut_max);
    int32_t idx[8];
    int j;
    _mm256_storeu_si256((__m256i *)(void *)idx, _mm512_cvtepi64_epi32(k));
    for (j = 0; j < 8; j++) {
        out[j] = lut[idx[j]];
    }
}

ED_TARGET_VNNI void ed_finish_rows_avx512(const ed_layer *layer, const int32_t *acc, uint32_t r0,
                                          uint32_t nb, uint8_t *h, int32_t *logits)
{
    const uint8_t *lut = ed_sigmoid_lut();
    uint32_t o;
    for (o = 0; o + 8u <= nb; o += 8u) {
        const size_t at = 4u * ((size_t)r0 + o);
        const __m256i a = _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(const void *)(acc + o)),
                                           _mm256_loadu_si256((const __m256i *)(const void *)(layer->bias + at)));
        const __m512i q = ed_requantize8_avx512(a, layer->multiplier + at, layer->shift + at);
        if (h != NULL) {
            ed_sigmoid8_avx512(q, lut, h + r0 + o);
        } else {
            _mm256_storeu_si256((__m256i *)(void *)(logits + r0 + o), _mm512_cvtsepi64_epi32(q));
        }
    }
    if (o < nb) {
        ed_finish_rows(layer, acc + o, r0 + o, nb - o, h, logits);
    }
}

/* ed_conv_finish in AVX-512, eight channels at a time (nb is a multiple of 8, as ed_conv_run's
 * blocks are): the steps of ed_finish_rows_avx512 on the block's parameters (prm), the outputs
 * at h[p * channels + c0 ..]. */
ED_TARGET_VNNI void ed_conv_finish_avx512(const ed_layer *layer, const ed_conv_params *prm, uint32_t p,
                                          uint32_t c0, uint32_t nb, const int32_t *best, int32_t *acc,
                                          uint8_t *h)
{
    const uint8_t *lut = ed_sigmoid_lut();
    const size_t at = (size_t)p * layer->channels + c0;
    uint32_t c;
    for (c = 0; c < nb; c += 8u) {
        /* |best + bias| < 2^31 (ed_conv_finish) */
        const __m256i v = _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(const void *)(best + c)),
                                           _mm256_loadu_si256((const __m256i *)(const void *)(prm->bias + c)));
        if (acc != NULL) {
            _mm256_storeu_si256((__m256i *)(void *)(acc + at + c), v);
        }
        ed_sigmoid8_avx512(ed_requantize8_avx512(v, prm->mult + c, prm->shift + c), lut, h + at + c);
    }
}

/* The AVX2 convolution (ed_conv_fn; see ed_conv_run). Taps go in pairs: the kernels are
 * rearranged once per call to int16 pairs prep[(q * ch + c) * 2 + 0/1] = the weights of channel c
 * at taps 2q and 2q+1 (0 past the last tap), so that one vpmaddwd with the pixel pair (v0, v1)
 * broadcast gives w0 * v0 + w1 * v1 in the int32 lane of each of 8 channels. |w| <= 128 and
 * v <= 255, so each product fits int16 and nothing saturates; the sums are exact. */
static inline __attribute__((always_inline)) ED_TARGET_AVX2 void
ed_conv_groups_avx2(const int16_t *prep, const uint16_t *off, uint32_t pairs, uint32_t ch,
                    const uint8_t *win, uint32_t c0, const uint32_t ng, int first, int32_t *best)
{
    __m256i s[ED_CONV_GROUPS];
    uint32_t q, g;
    for (g = 0; g < ng; g++) {
        s[g] = _mm256_setzero_si256();
    }
    for (q = 0; q < pairs; q++) {
        const __m256i vv = _mm256_set1_epi32((int32_t)((uint32_t)win[off[2u * q]] |
                                                       ((uint32_t)win[off[2u * q + 1u]] << 16)));
        const int16_t *w = prep + ((size_t)q * ch + c0) * 2u;
        for (g = 0; g < ng; g++) {
            s[g] = _mm256_add_epi32(s[g], _mm256_madd_epi16(
                _mm256_loadu_si256((const __m256i *)(const void *)(w + 16u * g)), vv));
        }
    }
    for (g = 0; g < ng; g++) {
        __m256i *out = (__m256i *)(void *)(best + 8u * g);
        _mm256_storeu_si256(out, first ? s[g] : _mm256_max_epi32(s[g], _mm256_loadu_si256(out)));
    }
}

/* ed_conv_chunk_fn; n_off = 2 * pairs. Constant group counts keep the sums in registers. */
static ED_TARGET_AVX2 void ed_conv_chunk_avx2(const int16_t *prep, const uint16_t *off, uint32_t n_off,
                                              uint32_t ch, const uint8_t *win, uint32_t c0, uint32_t ng,
                                              int first, int32_t *best)
{
    switch (ng) {
    case 4:
        ed_conv_groups_avx2(prep, off, n_off / 2u, ch, win, c0, 4u, first, best);
        break;
    case 3:
        ed_conv_groups_avx2(prep, off, n_off / 2u, ch, win, c0, 3u, first, best);
        break;
    case 2:
        ed_conv_groups_avx2(prep, off, n_off / 2u, ch, win, c0, 2u, first, best);
        break;
    default:
        ed_conv_groups_avx2(prep, off, n_off / 2u, ch, win, c0, 1u, first, best);
        break;
    }
}

void ed_conv_sigmoid_u8_avx2(const ed_layer *layer, const uint8_t *x, int32_t *acc, uint8_t *h)
{
    const uint32_t ch = layer->channels, taps = layer->kernel * layer->kernel, pairs = (taps + 1u) / 2u;
    int16_t prep[ED_CONV_PREP_WORDS];
    uint16_t off[ED_CONV_PREP_WORDS / 8u];
    uint32_t q, c;
    if (ch % 8u != 0u || (uint64_t)pairs * ch * 2u > ED_CONV_PREP_WORDS) {
        ed_conv_sigmoid_u8(layer, x, acc, h);
        return;
    }
    ed_conv_offsets(layer->kernel, 2u * pairs, off); /* ch >= 8: 2 * pairs <= ED_CONV_PREP_WORDS / 8 */
    for (q = 0; q < pairs; q++) {
        for (c = 0; c < ch; c++) {
            prep[((size_t)q * ch + c) * 2u] = layer->weights[(size_t)2u * q * ch + c];
            prep[((size_t)q * ch + c) * 2u + 1u] =
                2u * q + 1u < taps ? layer->weights[(size_t)(2u * q + 1u) * ch + c] : 0;
        }
    }
    ed_conv_run(layer, ed_conv_chunk_avx2, ed_conv_finish, prep, off, 2u * pairs, x, acc, h);
}

/* The AVX-512 VNNI convolution: as the AVX2 one, but taps go in quads and one vpdpbusd adds the
 * four products u8 pixel x s8 weight of 16 channels at once (ceil(taps / 4) instructions per
 * 16 channels instead of ceil(taps / 2) vpmaddwd per 8). The kernels are rearranged once per
 * call to prep[(q * ch + c) * 4 + t] = the weight of channel c at tap 4q + t (0 past the last
 * tap); vpdpbusd does not saturate, so the sums are exact and equal the AVX2 and portable ones.
 * A block of 8 * ng channels is one or two 512-bit groups, the second masked to 8 lanes when
 * 8 * ng is not a multiple of 16 (masked loads read nothing past the block). */
static inline __attribute__((always_inline)) ED_TARGET_VNNI void
ed_conv_groups_vnni(const int8_t *prep, const uint16_t *off, uint32_t quads, uint32_t ch,
                    const uint8_t *win, uint32_t c0, const uint32_t n16, const __mmask16 last,
                    int first, int32_t *best)
{
    __m512i s[2];
    uint32_t q, g;
    for (g = 0; g < n16; g++) {
        s[g] = _mm512_setzero_si512();
    }
    for (q = 0; q < quads; q++) {
        const __m512i vv = _mm512_set1_epi32((int32_t)((uint32_t)win[off[4u * q]] |
                                                       ((uint32_t)win[off[4u * q + 1u]] << 8) |
                                                       ((uint32_t)win[off[4u * q + 2u]] << 16) |
                                                       ((uint32_t)win[off[4u * q + 3u]] << 24)));
        const int8_t *w = prep + ((size_t)q * ch + c0) * 4u;
        for (g = 0; g < n16; g++) {
            const __mmask16 m = g + 1u == n16 ? last : (__mmask16)0xFFFF;
            s[g] = _mm512_dpbusd_epi32(s[g], vv, _mm512_maskz_loadu_epi32(m, w + 64u * g));
        }
    }
    for (g = 0; g < n16; g++) {
        const __mmask16 m = g + 1u == n16 ? last : (__mmask16)0xFFFF;
        int32_t *out = best + 16u * g;
        _mm512_mask_storeu_epi32(out, m, first ? s[g] : _mm512_max_epi32(s[g], _mm512_maskz_loadu_epi32(m, out)));
    }
}

/* ed_conv_chunk_fn; prep holds int8 quads (see above), n_off = 4 * quads. */
static ED_TARGET_VNNI void ed_conv_chunk_vnni(const int16_t *prep, const uint16_t *off, uint32_t n_off,
                                              uint32_t ch, const uint8_t *win, uint32_t c0, uint32_t ng,
                                              int first, int32_t *best)
{
    const int8_t *p8 = (const int8_t *)(const void *)prep;
    switch (ng) {
    case 4:
        ed_conv_groups_vnni(p8, off, n_off / 4u, ch, win, c0, 2u, (__mmask16)0xFFFF, first, best);
        break;
    case 3:
        ed_conv_groups_vnni(p8, off, n_off / 4u, ch, win, c0, 2u, (__mmask16)0x00FF, first, best);
        break;
    case 2:
        ed_conv_groups_vnni(p8, off, n_off / 4u, ch, win, c0, 1u, (__mmask16)0xFFFF, first, best);
        break;
    default:
        ed_conv_groups_vnni(p8, off, n_off / 4u, ch, win, c0, 1u, (__mmask16)0x00FF, first, best);
        break;
    }
}

void ed_conv_sigmoid_u8_vnni(const ed_layer *layer, const uint8_t *x, int32_t *acc, uint8_t *h)
{
    const uint32_t ch = layer->channels, taps = layer->kernel * layer->kernel, quads = (taps + 3u) / 4u;
    int16_t prep[ED_CONV_PREP_WORDS]; /* used as 2 * ED_CONV_PREP_WORDS int8 */
    int8_t *p8 = (int8_t *)(void *)prep;
    uint16_t off[ED_CONV_PREP_WORDS / 8u];
    uint32_t q, c, t;
    if (ch % 8u != 0u || (uint64_t)quads * ch * 4u > 2u * ED_CONV_PREP_WORDS ||
        4u * quads > ED_CONV_PREP_WORDS / 8u) {
        ed_conv_sigmoid_u8_avx2(layer, x, acc, h);
        return;
    }
    ed_conv_offsets(layer->kernel, 4u * quads, off);
    for (q = 0; q < quads; q++) {
        for (c = 0; c < ch; c++) {
            for (t = 0; t < 4u; t++) {
                p8[((size_t)q * ch + c) * 4u + t] =
                    4u * q + t < taps ? layer->weights[(size_t)(4u * q + t) * ch + c] : 0;
            }
        }
    }
    ed_conv_run(layer, ed_conv_chunk_vnni, ed_conv_finish_avx512, prep, off, 4u * quads, x, acc, h);
}

#else
/* ISO C forbids an empty translation unit. */
typedef int ed_matvec_x86_unused;
#endif
