/*
 * ed_internal.h - declarations shared by the core's .c files; not part of the public API.
 */
#ifndef ED_INTERNAL_H
#define ED_INTERNAL_H

#include "edgedigits.h"

/* Little-endian loads; the blob has no alignment guarantee and the host any byte order. */
static inline uint32_t ed_rd_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline uint16_t ed_rd_u16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] | ((unsigned)p[1] << 8));
}

static inline int32_t ed_rd_i32(const uint8_t *p)
{
    uint32_t u = ed_rd_u32(p);
    /* two's complement reinterpretation without implementation-defined conversion */
    return (u & 0x80000000u) ? -(int32_t)(~u) - 1 : (int32_t)u;
}

/* ed_requantize (edgedigits.h), inlined into the forward pass's loops. */
static inline int64_t ed_requantize_step(int32_t acc, int32_t multiplier, int32_t shift)
{
    /* |acc| < 2^31 and 0 <= multiplier < 2^31, so the product fits in int64 with room for
     * the rounding term. Right-shifting a negative int64 is implementation-defined in C99:
     * where it is the arithmetic shift (GCC and clang document so; the test below folds to a
     * constant) it is the floor division, else floor division is written out for y < 0. */
    int64_t y = (int64_t)acc * (int64_t)multiplier + ((int64_t)1 << (shift - 1));
    if (((int64_t)-1 >> 1) == -1 || y >= 0) {
        return y >> shift;
    }
    return -(int64_t)(((uint64_t)(-(y + 1)) >> shift) + 1u);
}

/* sum_{i0 <= i < n_in} w[i] * x[i] in int32: the portable dot product, also the scalar tail of
 * the SIMD kernels past their last full vector. |sum| <= 4096 * 128 * 255 < 2^31. */
static inline int32_t ed_dot_tail(const int8_t *w, const uint8_t *x, uint32_t i0, uint32_t n_in)
{
    int32_t sum = 0;
    uint32_t i;
    for (i = i0; i < n_in; i++) {
        sum += (int32_t)w[i] * (int32_t)x[i];
    }
    return sum;
}

/* Rows processed per block by the forward pass: accumulators live on the stack in blocks
 * of this many, so no caller buffer needs int32 alignment. */
#define ED_ROW_BLOCK 64u

/* Channels a convolution accumulates at once (ed_conv_sigmoid_u8): a fixed-length inner loop. */
#define ED_CONV_BLOCK 16u

/* out[r] = sum_i w[r * n_in + i] * x[i] for r < n_rows.
 * w: int8 [n_rows][n_in] row-major; x: uint8 [n_in]; out: int32 [n_rows].
 * ed_matvec_s8 is the portable reference loop; the SIMD kernels below have the same contract
 * and give the same results bit for bit (n_in <= ED_MAX_WIDTH). */
typedef void (*ed_matvec_fn)(const int8_t *w, const uint8_t *x, uint32_t n_in, uint32_t n_rows,
                             int32_t *out);
void ed_matvec_s8(const int8_t *w, const uint8_t *x, uint32_t n_in, uint32_t n_rows, int32_t *out);

/* Which SIMD kernels this build compiles. Define ED_NO_SIMD to build the portable loop only.
 * x86: per-function target attributes (GCC >= 8, clang >= 7), so no -m flags are needed.
 * aarch64: NEON is baseline; sdot behind a target attribute, detected with getauxval (Linux).
 * armv7: NEON only when the whole build targets it (-mfpu=neon), as Android armeabi-v7a does. */
#if !defined(ED_NO_SIMD) && (defined(__x86_64__) || defined(__i386__)) &&                      \
    ((defined(__clang__) && __clang_major__ >= 7) || (!defined(__clang__) && defined(__GNUC__) && __GNUC__ >= 8))
#define ED_HAVE_X86 1
#endif
#if !defined(ED_NO_SIMD) && (defined(__aarch64__) || (defined(__arm__) && defined(__ARM_NEON)))
#define ED_HAVE_NEON 1
#if defined(__aarch64__) && defined(__linux__) &&                                               \
    (defined(__ARM_FEATURE_DOTPROD) || (defined(__clang__) && __clang_major__ >= 16) ||           \
     (!defined(__clang__) && defined(__GNUC__) && __GNUC__ >= 10))
#define ED_HAVE_NEON_DOT 1
#endif
#endif

#ifdef ED_HAVE_X86
void ed_matvec_s8_avx2(const int8_t *w, const uint8_t *x, uint32_t n_in, uint32_t n_rows,
                       int32_t *out);
void ed_matvec_s8_vnni(const int8_t *w, const uint8_t *x, uint32_t n_in, uint32_t n_rows,
                       int32_t *out);
int ed_cpu_has_avx2(void);
int ed_cpu_has_vnni(void);
#endif
#ifdef ED_HAVE_NEON
void ed_matvec_s8_neon(const int8_t *w, const uint8_t *x, uint32_t n_in, uint32_t n_rows,
                       int32_t *out);
int ed_cpu_has_neon(void);
#endif
#ifdef ED_HAVE_NEON_DOT
void ed_matvec_s8_neon_dot(const int8_t *w, const uint8_t *x, uint32_t n_in, uint32_t n_rows,
                           int32_t *out);
int ed_cpu_has_neon_dot(void);
#endif

/* A convolution layer's forward step (the contract of ed_conv_sigmoid_u8, the portable loop). */
typedef void (*ed_conv_fn)(const ed_layer *layer, const uint8_t *x, int32_t *acc, uint8_t *h);
/* The SIMD forms of a convolution: they rearrange the kernels once per call into `prep` (at most
 * ED_CONV_PREP_WORDS int16), then a chunk function computes, for one window, the sums of 8 * ng
 * channels from c0 (ng <= ED_CONV_GROUPS) into best[0 .. 8 * ng) (first window of a pooling
 * block), or their max with what best holds (the others). ed_conv_run drives it over the
 * windows and the pooling blocks, and finishes like the portable loop. Layers whose channels are
 * not a multiple of 8, or whose rearranged kernels do not fit, take the portable loop. */
#define ED_CONV_PREP_WORDS 4096u
#define ED_CONV_GROUPS 4u
typedef void (*ed_conv_chunk_fn)(const int16_t *prep, const uint16_t *off, uint32_t n_off, uint32_t ch,
                                 const uint8_t *win, uint32_t c0, uint32_t ng, int first, int32_t *best);
/* ed_conv_run finishes blocks of nb = 8 * ng channels with `finish` (ed_conv_finish, or its
 * AVX-512 form). */
struct ed_conv_params_s;
typedef void (*ed_conv_finish_fn)(const ed_layer *layer, const struct ed_conv_params_s *prm, uint32_t p,
                                  uint32_t c0, uint32_t nb, const int32_t *best, int32_t *acc, uint8_t *h);
void ed_conv_run(const ed_layer *layer, ed_conv_chunk_fn chunk, ed_conv_finish_fn finish, const int16_t *prep,
                 const uint16_t *off, uint32_t n_off, const uint8_t *x, int32_t *acc, uint8_t *h);
/* off[t] = offset in a window of tap t's pixel ((t / kernel) * 28 + t % kernel), 0 past the last tap. */
void ed_conv_offsets(uint32_t kernel, uint32_t n, uint16_t *off);
#ifdef ED_HAVE_X86
void ed_conv_sigmoid_u8_avx2(const ed_layer *layer, const uint8_t *x, int32_t *acc, uint8_t *h);
void ed_conv_sigmoid_u8_vnni(const ed_layer *layer, const uint8_t *x, int32_t *acc, uint8_t *h);
#endif
#ifdef ED_HAVE_NEON
void ed_conv_sigmoid_u8_neon(const ed_layer *layer, const uint8_t *x, int32_t *acc, uint8_t *h);
#endif
/* The convolution of a model's kernel (AVX2 for avx2, AVX-512 VNNI for vnni, NEON for neon and neon_dot,
 * else portable). */
ed_conv_fn ed_kernel_conv_fn(uint32_t kernel);
/* Channels whose bias, multiplier and shift ed_conv_read_params reads at once: at least
 * ED_CONV_BLOCK and 8 * ED_CONV_GROUPS, the blocks ed_conv_sigmoid_u8 and ed_conv_run finish. */
#define ED_CONV_PARAM_BLOCK 32u
typedef struct ed_conv_params_s {
    int32_t bias[ED_CONV_PARAM_BLOCK], mult[ED_CONV_PARAM_BLOCK], shift[ED_CONV_PARAM_BLOCK];
} ed_conv_params;
/* The parameters of channels c0 .. c0+nb-1 (nb <= ED_CONV_PARAM_BLOCK), read from the blob once
 * per block of channels rather than once per window. */
void ed_conv_read_params(const ed_layer *layer, uint32_t c0, uint32_t nb, ed_conv_params *prm);
/* Bias, requantisation and sigmoid for channels c0 .. c0+nb-1 of convolution output p, from
 * their sums best[0..nb) (the max over the pooling block; bias not yet added) and the
 * channels' parameters prm (from ed_conv_read_params(layer, c0, nb, prm)). */
void ed_conv_finish(const ed_layer *layer, const ed_conv_params *prm, uint32_t p, uint32_t c0,
                    uint32_t nb, const int32_t *best, int32_t *acc, uint8_t *h);
#ifdef ED_HAVE_X86
/* The same, eight channels at a time in AVX-512 (with the vnni kernel); nb a multiple of 8. */
void ed_conv_finish_avx512(const ed_layer *layer, const ed_conv_params *prm, uint32_t p, uint32_t c0,
                           uint32_t nb, const int32_t *best, int32_t *acc, uint8_t *h);
#endif

/* The kernel function for a model's ed_kernel; the portable loop for anything unknown. */
ed_matvec_fn ed_kernel_fn(uint32_t kernel);

/* Batched form: ED_BATCH_LANES input vectors, x_j = x + j * x_stride, one pass over w:
 * out[j * n_rows + r] = sum_i w[r][i] * x_j[i]. */
typedef void (*ed_matmat_fn)(const int8_t *w, const uint8_t *x, size_t x_stride, uint32_t n_in,
                             uint32_t n_rows, int32_t *out);
#ifdef ED_HAVE_X86
void ed_matmat_s8_avx2(const int8_t *w, const uint8_t *x, size_t x_stride, uint32_t n_in,
                       uint32_t n_rows, int32_t *out);
void ed_matmat_s8_vnni(const int8_t *w, const uint8_t *x, size_t x_stride, uint32_t n_in,
                       uint32_t n_rows, int32_t *out);
#endif
#if defined(ED_HAVE_NEON) && defined(__aarch64__)
void ed_matmat_s8_neon(const int8_t *w, const uint8_t *x, size_t x_stride, uint32_t n_in,
                       uint32_t n_rows, int32_t *out);
#endif
#ifdef ED_HAVE_NEON_DOT
void ed_matmat_s8_neon_dot(const int8_t *w, const uint8_t *x, size_t x_stride, uint32_t n_in,
                           uint32_t n_rows, int32_t *out);
#endif
/* The batched form of a model's kernel, or NULL where it has none (then images go one by one). */
ed_matmat_fn ed_kernel_batch_fn(uint32_t kernel);

/* Requantise rows r0 .. r0+nb-1 of a layer from their int32 sums acc[0..nb) (bias not yet
 * added): into h[r0..] (uint8 sigmoid outputs, hidden layer) if h != NULL, else into
 * logits[r0..] (int32 Q16). ed_finish_rows is the portable reference (ed_forward.c). */
typedef void (*ed_finish_fn)(const ed_layer *layer, const int32_t *acc, uint32_t r0, uint32_t nb,
                             uint8_t *h, int32_t *logits);
void ed_finish_rows(const ed_layer *layer, const int32_t *acc, uint32_t r0, uint32_t nb,
                    uint8_t *h, int32_t *logits);
#ifdef ED_HAVE_X86
void ed_finish_rows_avx512(const ed_layer *layer, const int32_t *acc, uint32_t r0, uint32_t nb,
                           uint8_t *h, int32_t *logits);
#endif
ed_finish_fn ed_kernel_finish_fn(uint32_t kernel);

#endif /* ED_INTERNAL_H */
