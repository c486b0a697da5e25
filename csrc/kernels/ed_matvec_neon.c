/*
 * ed_matvec_neon.c - int8 matvec kernels for Arm: NEON (aarch64, or armv7 built with NEON)
 * and the dot-product extension (aarch64 udot, chosen at run time from getauxval(AT_HWCAP)).
 *
 * Contract (as ed_matvec_s8, the portable reference): out[r] = sum_i w[r][i] * x[i]
 *   w:   int8  [n_rows][n_in], row-major;  x: uint8 [n_in];  out: int32 [n_rows]
 *
 * NEON has no u8 x s8 multiply, so the weights are made unsigned by flipping their top bit:
 * w ^ 0x80 = w + 128 as a uint8 in [0, 255], and then
 *   sum_i (w[i] + 128) * x[i] = sum_i w[i] * x[i] + 128 * sum_i x[i].
 * The unsigned sum is below 4096 * 255 * 255 < 2^28, so nothing wraps, and subtracting
 * 128 * sum(x) (computed once per call, shared by all rows) gives the exact result.
 * Rows go in groups of four that share every load of x.
 */
#include "../ed_internal.h"

#ifdef ED_HAVE_NEON

#include <arm_neon.h>

#ifdef ED_HAVE_NEON_DOT
#include <sys/auxv.h>
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1UL << 20) /* Linux arch/arm64/include/uapi/asm/hwcap.h */
#endif
#if defined(__clang__)
#define ED_TARGET_DOT __attribute__((target("dotprod")))
#else
#define ED_TARGET_DOT __attribute__((target("arch=armv8.2-a+dotprod")))
#endif
#endif

/* NEON is part of aarch64; on armv7 this file is compiled only when the build targets NEON. */
int ed_cpu_has_neon(void)
{
    return 1;
}

static uint32_t ed_hsum_u32(uint32x4_t a)
{
#if defined(__aarch64__)
    return vaddvq_u32(a);
#else
    uint32x2_t s = vadd_u32(vget_low_u32(a), vget_high_u32(a));
    return vget_lane_u32(vpadd_u32(s, s), 0);
#endif
}

/* 128 * sum of x[0..n_vec), n_vec a multiple of 16 (< 2^21, fits int32). */
static int32_t ed_x_offset(const uint8_t *x, uint32_t n_vec)
{
    uint32x4_t s = vdupq_n_u32(0);
    uint32_t i;
    for (i = 0; i < n_vec; i += 16u) {
        s = vpadalq_u16(s, vpaddlq_u8(vld1q_u8(x + i)));
    }
    return (int32_t)(ed_hsum_u32(s) * 128u);
}

/* w ^ 0x80, 16 weights as unsigned bytes */
#define ED_FLIP(wp) veorq_u8(vreinterpretq_u8_s8(vld1q_s8(wp)), flip)

/* Finish row k of a group: unsigned vector sum minus the offset, plus the scalar tail. */
#define ED_FINISH(k, acc)                                                                          \
    out[k] = (int32_t)ed_hsum_u32(acc) - offset + ed_dot_tail(w##k, x, n_vec, n_in)

/* --- NEON: vmull_u8 (u8 x u8 -> u16, <= 65025, exact) and pairwise widening adds into u32.
 * Per 16 weights and row: 1 eor, 2 umull, 2 uadalp. */
#define ED_NEON_STEP(acc, wp)                                                                      \
    do {                                                                                           \
        const uint8x16_t wv_ = ED_FLIP(wp);                                                        \
        acc = vpadalq_u16(acc, vmull_u8(vget_low_u8(wv_), xlo));                                   \
        acc = vpadalq_u16(acc, vmull_u8(vget_high_u8(wv_), xhi));                                  \
    } while (0)

void ed_matvec_s8_neon(const int8_t *w, const uint8_t *x, uint32_t n_in, uint32_t n_rows,
                       int32_t *out)
{
    const uint8x16_t flip = vdupq_n_u8(0x80);
    const uint32_t n_vec = n_in & ~15u;
    const int32_t offset = ed_x_offset(x, n_vec);
    uint32_t r = 0, i;
    for (; r + 4u <= n_rows; r += 4u, out += 4) {
        const int8_t *w0 = w + (size_t)r * n_in, *w1 = w0 + n_in, *w2 = w1 + n_in, *w3 = w2 + n_in;
        uint32x4_t a0 = vdupq_n_u32(0), a1 = a0, a2 = a0, a3 = a0;
        for (i = 0; i < n_vec; i += 16u) {
            const uint8x16_t xv = vld1q_u8(x + i);
            const uint8x8_t xlo = vget_low_u8(xv), xhi = vget_high_u8(xv);
            ED_NEON_STEP(a0, w0 + i);
            ED_NEON_STEP(a1, w1 + i);
            ED_NEON_STEP(a2, w2 + i);
            ED_NEON_STEP(a3, w3 + i);
        }
        ED_FINISH(0, a0);
        ED_FINISH(1, a1);
        ED_FINISH(2, a2);
        ED_FINISH(3, a3);
    }
    for (; r < n_rows; r++, out++) {
        const int8_t *w0 = w + (size_t)r * n_in;
        uint32x4_t a0 = vdupq_n_u32(0);
        for (i = 0; i < n_vec; i += 16u) {
            const uint8x16_t xv = vld1q_u8(x + i);
            const uint8x8_t xlo = vget_low_u8(xv), xhi = vget_high_u8(xv);
            ED_NEON_STEP(a0, w0 + i);
        }
        ED_FINISH(0, a0);
    }
}

/* Batched forms: four rows x ED_BATCH_LANES (4) images per pass over the weights; out[j * n_out
 * + r]. Each image has its own offset 128 * sum(x_j). Sixteen accumulators need aarch64's 32
 * vector registers; on armv7 (16) images go one by one. */
typedef char ed_assert_four_lanes[ED_BATCH_LANES == 4u ? 1 : -1];
#define ED_LANES4(F, k) F(k, 0) F(k, 1) F(k, 2) F(k, 3)
#define ED_LANE_OUT(k, j)                                                                          \
    out[(size_t)(j) * n_out + (k)] = (int32_t)ed_hsum_u32(a##k##j) - offset[j] +                   \
                                     ed_dot_tail(w##k, x##j, n_vec, n_in);

/* The shared driver: offsets, groups of four rows, leftover rows one image at a time. */
#define ED_MATMAT_BODY(rows4, matvec)                                                              \
    const uint32_t n_vec = n_in & ~15u;                                                            \
    int32_t offset[ED_BATCH_LANES];                                                                \
    uint32_t r = 0, j;                                                                             \
    for (j = 0; j < ED_BATCH_LANES; j++) {                                                         \
        offset[j] = ed_x_offset(x + j * x_stride, n_vec);                                          \
    }                                                                                              \
    for (; r + 4u <= n_rows; r += 4u) {                                                            \
        rows4(w + (size_t)r * n_in, x, x_stride, n_in, offset, out + r, n_rows);                   \
    }                                                                                              \
    for (; r < n_rows; r++) {                                                                      \
        for (j = 0; j < ED_BATCH_LANES; j++) {                                                     \
            matvec(w + (size_t)r * n_in, x + j * x_stride, n_in, 1u, out + (size_t)j * n_rows + r); \
        }                                                                                          \
    }

#if defined(__aarch64__)
static void ed_neon_rows4_lanes4(const int8_t *w, const uint8_t *x, size_t xs, uint32_t n_in,
                                 const int32_t *offset, int32_t *out, uint32_t n_out)
{
    const uint8x16_t flip = vdupq_n_u8(0x80);
    const uint32_t n_vec = n_in & ~15u;
    const int8_t *w0 = w, *w1 = w0 + n_in, *w2 = w1 + n_in, *w3 = w2 + n_in;
    const uint8_t *x0 = x, *x1 = x0 + xs, *x2 = x1 + xs, *x3 = x2 + xs;
    const uint32x4_t z = vdupq_n_u32(0);
    uint32x4_t a00 = z, a01 = z, a02 = z, a03 = z, a10 = z, a11 = z, a12 = z, a13 = z;
    uint32x4_t a20 = z, a21 = z, a22 = z, a23 = z, a30 = z, a31 = z, a32 = z, a33 = z;
    uint32_t i;
    for (i = 0; i < n_vec; i += 16u) {
        const uint8x16_t v0 = vld1q_u8(x0 + i), v1 = vld1q_u8(x1 + i), v2 = vld1q_u8(x2 + i),
                         v3 = vld1q_u8(x3 + i);
        uint8x16_t wv;
#define ED_LANE_MUL(k, j)                                                                          \
    a##k##j = vpadalq_u16(a##k##j, vmull_u8(vget_low_u8(wv), vget_low_u8(v##j)));                 \
    a##k##j = vpadalq_u16(a##k##j, vmull_high_u8(wv, v##j));
        wv = ED_FLIP(w0 + i);
        ED_LANES4(ED_LANE_MUL, 0)
        wv = ED_FLIP(w1 + i);
        ED_LANES4(ED_LANE_MUL, 1)
        wv = ED_FLIP(w2 + i);
        ED_LANES4(ED_LANE_MUL, 2)
        wv = ED_FLIP(w3 + i);
        ED_LANES4(ED_LANE_MUL, 3)
#undef ED_LANE_MUL
    }
    ED_LANES4(ED_LANE_OUT, 0)
    ED_LANES4(ED_LANE_OUT, 1)
    ED_LANES4(ED_LANE_OUT, 2)
    ED_LANES4(ED_LANE_OUT, 3)
}

void ed_matmat_s8_neon(const int8_t *w, const uint8_t *x, size_t x_stride, uint32_t n_in,
                       uint32_t n_rows, int32_t *out)
{
    ED_MATMAT_BODY(ed_neon_rows4_lanes4, ed_matvec_s8_neon)
}
#endif /* __aarch64__ */

#ifdef ED_HAVE_NEON_DOT
int ed_cpu_has_neon_dot(void)
{
    return (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
}

/* --- dot product: udot adds four u8 x u8 products into each u32 lane (exact).
 * Per 16 weights and row: 1 eor, 1 udot. */
ED_TARGET_DOT void ed_matvec_s8_neon_dot(const int8_t *w, const uint8_t *x, uint32_t n_in,
                                         uint32_t n_rows, int32_t *out)
{
    const uint8x16_t flip = vdupq_n_u8(0x80);
    const uint32_t n_vec = n_in & ~15u;
    const int32_t offset = ed_x_offset(x, n_vec);
    uint32_t r = 0, i;
    for (; r + 4u <= n_rows; r += 4u, out += 4) {
        const int8_t *w0 = w + (size_t)r * n_in, *w1 = w0 + n_in, *w2 = w1 + n_in, *w3 = w2 + n_in;
        uint32x4_t a0 = vdupq_n_u32(0), a1 = a0, a2 = a0, a3 = a0;
        for (i = 0; i < n_vec; i += 16u) {
            const uint8x16_t xv = vld1q_u8(x + i);
            a0 = vdotq_u32(a0, ED_FLIP(w0 + i), xv);
            a1 = vdotq_u32(a1, ED_FLIP(w1 + i), xv);
            a2 = vdotq_u32(a2, ED_FLIP(w2 + i), xv);
            a3 = vdotq_u32(a3, ED_FLIP(w3 + i), xv);
        }
        ED_FINISH(0, a0);
        ED_FINISH(1, a1);
        ED_FINISH(2, a2);
        ED_FINISH(3, a3);
    }
    for (; r < n_rows; r++, out++) {
        const int8_t *w0 = w + (size_t)r * n_in;
        uint32x4_t a0 = vdupq_n_u32(0);
        for (i = 0; i < n_vec; i += 16u) {
            a0 = vdotq_u32(a0, ED_FLIP(w0 + i), vld1q_u8(x + i));
        }
        ED_FINISH(0, a0);
    }
}
/* Batched: each weight load feeds four udot, one per image. */
ED_TARGET_DOT static void ed_dot_rows4_lanes4(const int8_t *w, const uint8_t *x, size_t xs,
                                              uint32_t n_in, const int32_t *offset, int32_t *out,
                                              uint32_t n_out)
{
    const uint8x16_t flip = vdupq_n_u8(0x80);
    const uint32_t n_vec = n_in & ~15u;
    const int8_t *w0 = w, *w1 = w0 + n_in, *w2 = w1 + n_in, *w3 = w2 + n_in;
    const uint8_t *x0 = x, *x1 = x0 + xs, *x2 = x1 + xs, *x3 = x2 + xs;
    const uint32x4_t z = vdupq_n_u32(0);
    uint32x4_t a00 = z, a01 = z, a02 = z, a03 = z, a10 = z, a11 = z, a12 = z, a13 = z;
    uint32x4_t a20 = z, a21 = z, a22 = z, a23 = z, a30 = z, a31 = z, a32 = z, a33 = z;
    uint32_t i;
    for (i = 0; i < n_vec; i += 16u) {
        const uint8x16_t v0 = vld1q_u8(x0 + i), v1 = vld1q_u8(x1 + i), v2 = vld1q_u8(x2 + i),
                         v3 = vld1q_u8(x3 + i);
        uint8x16_t wv;
#define ED_LANE_DOT(k, j) a##k##j = vdotq_u32(a##k##j, wv, v##j);
        wv = ED_FLIP(w0 + i);
        ED_LANES4(ED_LANE_DOT, 0)
        wv = ED_FLIP(w1 + i);
        ED_LANES4(ED_LANE_DOT, 1)
        wv = ED_FLIP(w2 + i);
        ED_LANES4(ED_LANE_DOT, 2)
        wv = ED_FLIP(w3 + i);
        ED_LANES4(ED_LANE_DOT, 3)
#undef ED_LANE_DOT
    }
    ED_LANES4(ED_LANE_OUT, 0)
    ED_LANES4(ED_LANE_OUT, 1)
    ED_LANES4(ED_LANE_OUT, 2)
    ED_LANES4(ED_LANE_OUT, 3)
}

ED_TARGET_DOT void ed_matmat_s8_neon_dot(const int8_t *w, const uint8_t *x, size_t x_stride,
                                         uint32_t n_in, uint32_t n_rows, int32_t *out)
{
    ED_MATMAT_BODY(ed_dot_rows4_lanes4, ed_matvec_s8_neon_dot)
}
#endif /* ED_HAVE_NEON_DOT */

/* The NEON convolution (ed_conv_fn; see ed_conv_run): the kernels are widened once per call to
 * int16, prep[t * ch + c], and each tap's pixel multiplies 8 channels' weights into two int32x4
 * sums with vmlal_n_s16 (int16 x int16 products, exact in int32). */
static void ed_conv_chunk_neon(const int16_t *prep, const uint16_t *off, uint32_t n_off, uint32_t ch,
                               const uint8_t *win, uint32_t c0, uint32_t ng, int first, int32_t *best)
{
    int32x4_t s[2u * ED_CONV_GROUPS];
    uint32_t t, g;
    for (g = 0; g < 2u * ng; g++) {
        s[g] = vdupq_n_s32(0);
    }
    for (t = 0; t < n_off; t++) {
        const int16_t v = (int16_t)win[off[t]];
        const int16_t *w = prep + (size_t)t * ch + c0;
        for (g = 0; g < ng; g++) {
            const int16x8_t wg = vld1q_s16(w + 8u * g);
            s[2u * g] = vmlal_n_s16(s[2u * g], vget_low_s16(wg), v);
            s[2u * g + 1u] = vmlal_n_s16(s[2u * g + 1u], vget_high_s16(wg), v);
        }
    }
    for (g = 0; g < 2u * ng; g++) {
        vst1q_s32(best + 4u * g, first ? s[g] : vmaxq_s32(s[g], vld1q_s32(best + 4u * g)));
    }
}

void ed_conv_sigmoid_u8_neon(const ed_layer *layer, const uint8_t *x, int32_t *acc, uint8_t *h)
{
    const uint32_t ch = layer->channels, taps = layer->kernel * layer->kernel;
    int16_t prep[ED_CONV_PREP_WORDS];
    uint16_t off[ED_CONV_PREP_WORDS / 8u];
    uint32_t i;
    if (ch % 8u != 0u || (uint64_t)taps * ch > ED_CONV_PREP_WORDS) {
        ed_conv_sigmoid_u8(layer, x, acc, h);
        return;
    }
    ed_conv_offsets(layer->kernel, taps, off); /* ch >= 8: taps <= ED_CONV_PREP_WORDS / 8 */
    for (i = 0; i < taps * ch; i++) {
        prep[i] = layer->weights[i];
    }
    ed_conv_run(layer, ed_conv_chunk_neon, ed_conv_finish, prep, off, taps, x, acc, h);
}

#else
/* ISO C forbids an empty translation unit. */
typedef int ed_matvec_neon_unused;
#endif /* ED_HAVE_NEON */
