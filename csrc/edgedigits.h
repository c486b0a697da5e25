/*
 * edgedigits.h - the one public header of the edgedigits C core.
 *
 * A portable C99 int8 forward pass for small MLPs on 28x28 digit images:
 *   uint8 pixels -> [int8 convolution -> sigmoid -> uint8]? -> [int8 dense -> sigmoid -> uint8]*
 *   -> int8 dense -> int32 Q16 logits -> float log-softmax (log-sum-exp).
 *
 * No malloc, no mutable globals, no I/O: a model is a read-only view over one caller-owned
 * byte blob (the model file, docs/model-format.md), and every buffer belongs to the caller.
 * All functions are reentrant; two threads may run forward passes on one model at once, each
 * with its own scratch buffer.
 */
#ifndef EDGEDIGITS_H
#define EDGEDIGITS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ED_FORMAT_VERSION 2u   /* the newest version read; version 1 files (no convolution) load too */
#define ED_MAGIC "EDGD"
#define ED_HEADER_SIZE 24u       /* bytes before the layer table */
#define ED_LAYER_ENTRY_SIZE 16u  /* bytes per layer table entry */
#define ED_MAX_LAYERS 8u         /* dense layers, output layer included */
#define ED_MAX_WIDTH 4096u       /* n_in and n_out of any layer; keeps |acc| < 2^31 */
#define ED_MAX_BIAS (1L << 30)   /* |bias| bound, so that bias + sum(w*x) fits in int32 */
#define ED_INPUT_SIZE 784u       /* 28 x 28 pixels, row-major */
#define ED_IMAGE_SIDE 28u
#define ED_CONV_HEADER_SIZE 16u  /* u32 channels, kernel, stride, pool before a convolution's data */
#define ED_MAX_CLASSES 256u

/* Activations stored per layer in the model file. */
#define ED_ACT_LINEAR 0u  /* output layer: int32 Q16 logits */
#define ED_ACT_SIGMOID 1u /* hidden layer: uint8 activations, 255 == 1.0 */
/* First layer only, format version 2: `channels` kernels of kernel x kernel pixels applied at
 * `stride` over the image without padding, optionally max-pooled over pool x pool blocks of
 * windows, then the sigmoid. Output p * channels + c is channel c at output position p
 * (row-major, side x side of them); requantisation is per channel. */
#define ED_ACT_CONV_SIGMOID 2u

/* Sigmoid lookup table: index = round(z * ED_SIGMOID_STEPS_PER_UNIT) + ED_SIGMOID_LUT_SIZE/2,
 * clamped to [0, ED_SIGMOID_LUT_SIZE - 1]; value = round(255 * sigmoid(z)). */
#define ED_SIGMOID_LUT_SIZE 1024
#define ED_SIGMOID_STEPS_PER_UNIT 64
#define ED_LOGIT_FRAC_BITS 16 /* output logits are int32 with 16 fractional bits */

typedef enum {
    ED_OK = 0,
    ED_ERR_NULL,        /* a required pointer was NULL */
    ED_ERR_TOO_SMALL,   /* blob shorter than a header, a table or a section it declares */
    ED_ERR_MAGIC,       /* blob does not start with "EDGD" */
    ED_ERR_VERSION,     /* format version not supported by this build */
    ED_ERR_LENGTH,      /* declared total length differs from the blob's length */
    ED_ERR_CRC,         /* CRC-32 mismatch: corrupted file */
    ED_ERR_LAYERS,      /* layer count outside 1..ED_MAX_LAYERS */
    ED_ERR_DIMS,        /* a layer size is 0, too large, or does not chain */
    ED_ERR_ACTIVATION,  /* unknown activation, or not sigmoid-hidden / linear-output */
    ED_ERR_LAYOUT,      /* a section is misaligned, overlaps, or lies outside the blob */
    ED_ERR_PARAM,       /* a requantisation multiplier, shift or bias is out of range */
    ED_ERR_BUFFER,      /* scratch or output buffer too small */
    ED_ERR_KERNEL,      /* EDGEDIGITS_KERNEL or a requested kernel is unknown or unsupported here */
    ED_STATUS_COUNT     /* number of status codes; not a status */
} ed_status;

/* A short English description of a status; never NULL. */
const char *ed_status_str(ed_status status);

/* One layer, pointing into the blob. Arrays of int32 are little-endian in the blob and
 * are read byte-wise, so the blob needs no alignment and the host may be of either endianness.
 * A dense layer has one row per output; a convolution (ED_ACT_CONV_SIGMOID) one row per channel,
 * shared by all its windows: its arrays are [channels] and its weights tap-major,
 * [kernel^2][channels] (weight of channel c at tap t = i * kernel + j: weights[t * channels + c]). */
typedef struct {
    uint32_t n_in;
    uint32_t n_out;
    uint32_t activation;       /* ED_ACT_* */
    const uint8_t *bias;       /* int32 [rows], accumulator units */
    const uint8_t *multiplier; /* int32 [rows], in [0, 2^31) */
    const uint8_t *shift;      /* int32 [rows], in [1, 62] */
    const uint8_t *scale;      /* float32 [rows], weight scale per row (informative) */
    const int8_t *weights;     /* int8 [rows][row length], row-major; the quantiser writes
                                  -127..127, and every kernel is also exact for -128 (tested) */
    uint32_t channels;         /* convolution only (else 0): rows, kernels */
    uint32_t kernel;           /* convolution only: kernel side in pixels, 1..28 */
    uint32_t stride;           /* convolution only: 1..28 */
    uint32_t side;             /* convolution only: outputs per row, windows per row / pool, with
                                  windows per row = (28 - kernel) / stride + 1 */
    uint32_t pool;             /* convolution only: max over pool x pool windows; 1 = no pooling */
} ed_layer;

typedef struct {
    uint32_t n_layers;
    uint32_t n_input;   /* always ED_INPUT_SIZE in format version 1 */
    uint32_t n_classes; /* n_out of the last layer. The shipped default model has 19: 0-9 the
                           digits, 10-17 the separators - . , / ( ) + =, 18 not a character
                           (edgedigits/classes.py); a digits-only model has 10. For a digit,
                           take the largest of the first 10 log-probabilities (pred is over
                           every class) */
    uint32_t max_hidden; /* widest hidden layer (0 for logistic regression) */
    uint32_t crc32;
    const uint8_t *meta; /* UTF-8 JSON metadata, not NUL-terminated */
    uint32_t meta_len;
    ed_layer layers[ED_MAX_LAYERS];
    uint32_t kernel; /* ed_kernel used by the forward pass; set by ed_model_load */
} ed_model;

/* CRC-32 (IEEE 802.3, reflected, as zlib's crc32) of len bytes. */
uint32_t ed_crc32(const uint8_t *data, size_t len);

/* Validate a model blob and fill *model with a view into it. The blob must outlive the model.
 * Every offset and size is checked against len before it is used; never reads outside blob. */
ed_status ed_model_load(ed_model *model, const uint8_t *blob, size_t len);

/* Bytes of scratch that ed_forward_u8 / ed_forward_batch_u8 need for this model. */
size_t ed_scratch_size(const ed_model *model);

/* Images that ed_forward_batch_u8 runs through one pass over the weights, when given
 * ed_batch_scratch_size(model) bytes of scratch and the model's kernel has a batched form
 * (vnni, neon_dot, and neon on aarch64). The results are the same as one image at a time, bit for bit; only faster, since a
 * single image's forward pass is bound by reading the weights (docs/benchmarks.md). */
#define ED_BATCH_LANES 4u
size_t ed_batch_scratch_size(const ed_model *model);

/* Forward pass for one image.
 *   x:         uint8 [ED_INPUT_SIZE] pixels, ink bright on dark (MNIST convention)
 *   logits:    int32 [n_classes] Q16 logits (may be NULL)
 *   log_proba: float [n_classes] log-probabilities (may be NULL)
 *   scratch:   at least ed_scratch_size(model) bytes, any alignment
 *   *pred:     argmax of the logits, lowest index on ties (may be NULL) */
ed_status ed_forward_u8(const ed_model *model, const uint8_t *x, int32_t *logits,
                        float *log_proba, int32_t *pred, uint8_t *scratch, size_t scratch_len);

/* Forward pass for n images; image i starts at x + i * x_stride bytes. Outputs are dense:
 * logits [n][n_classes], log_proba [n][n_classes], pred [n]; each may be NULL. */
ed_status ed_forward_batch_u8(const ed_model *model, const uint8_t *x, size_t n, size_t x_stride,
                              int32_t *logits, float *log_proba, int32_t *pred,
                              uint8_t *scratch, size_t scratch_len);

/* --- The kernels, public so that tests can compare every integer intermediate. --- */

/* acc[o] = bias[o] + sum_i weights[o][i] * x[i]  (int32; cannot overflow for a loaded model) */
void ed_dense_acc_s8(const ed_layer *layer, const uint8_t *x, int32_t *acc);

/* Round-half-up fixed-point rescale: floor((acc * multiplier + 2^(shift-1)) / 2^shift). */
int64_t ed_requantize(int32_t acc, int32_t multiplier, int32_t shift);

/* Convolution layer (ED_ACT_CONV_SIGMOID): for output p and channel c, o = p * channels + c,
 * acc[o] = bias[c] + max over a, b < pool of
 *          sum_{i,j < kernel} w[i * kernel + j][c] * x[(R * stride + i) * 28 + Q * stride + j]
 * with R = (p / side) * pool + a, Q = (p % side) * pool + b (no pooling: pool 1),
 * and h[o] = sigmoid_lut[clamp(requantize_c(acc[o]) + 512)].
 * acc may be NULL (the forward pass keeps no accumulators); h is uint8 [n_out]. */
void ed_conv_sigmoid_u8(const ed_layer *layer, const uint8_t *x, int32_t *acc, uint8_t *h);

/* Hidden layer: h[o] = sigmoid_lut[clamp(requantize(acc[o]) + LUT_SIZE/2)]. */
void ed_sigmoid_u8(const ed_layer *layer, const int32_t *acc, uint8_t *h);

/* Output layer: logits[o] = saturate_int32(requantize(acc[o])), Q16. */
void ed_logits_q16(const ed_layer *layer, const int32_t *acc, int32_t *logits);

/* log_proba[k] = l_k - (m + log(sum_j exp(l_j - m))), l = logits / 2^16, m = max l. */
void ed_log_softmax_q16(const int32_t *logits, uint32_t n, float *log_proba);

/* The sigmoid table, ED_SIGMOID_LUT_SIZE entries (read-only). */
const uint8_t *ed_sigmoid_lut(void);

/* --- int8 matvec kernels and their run-time dispatch (csrc/ed_kernel.c) ---
 *
 * One build holds every kernel its target can have; ed_model_load picks one per model: the
 * fastest the CPU supports, or the one named by the environment variable EDGEDIGITS_KERNEL
 * (portable|avx2|vnni|neon|neon_dot), which is an error (ED_ERR_KERNEL) if this build or CPU
 * lacks it. No state is cached: the choice lives in ed_model.kernel. Every kernel gives the
 * same int32 results as the portable loop, bit for bit. */
typedef enum {
    ED_KERNEL_PORTABLE = 0, /* plain C99 loop: the reference and the fallback */
    ED_KERNEL_AVX2,         /* x86: AVX2 (vpmaddubsw on split inputs, nothing saturates) */
    ED_KERNEL_VNNI,         /* x86: AVX-512 VNNI (vpdpbusd, int32 accumulate) */
    ED_KERNEL_NEON,         /* aarch64, or armv7 built with NEON: 16-bit products */
    ED_KERNEL_NEON_DOT,     /* aarch64 with the dot-product extension (sdot) */
    ED_KERNEL_COUNT         /* number of kernels; not a kernel */
} ed_kernel;

#define ED_KERNEL_ENV "EDGEDIGITS_KERNEL"

/* "portable", "avx2", "vnni", "neon", "neon_dot"; "unknown" outside the enum. Never NULL. */
const char *ed_kernel_name(ed_kernel kernel);

/* Non-zero when the kernel is compiled into this build and the running CPU can execute it. */
int ed_kernel_supported(ed_kernel kernel);

/* The fastest supported kernel. */
ed_kernel ed_kernel_best(void);

/* The kernel ed_model_load will choose: EDGEDIGITS_KERNEL if set and non-empty, else the
 * best. ED_ERR_KERNEL if the variable names an unknown or unsupported kernel. */
ed_status ed_kernel_select(ed_kernel *kernel);

/* Make a loaded model use `kernel`; ED_ERR_KERNEL (model unchanged) if it is not supported. */
ed_status ed_model_set_kernel(ed_model *model, ed_kernel kernel);

/* out[r] = sum_i w[r * n_in + i] * x[i] for r < n_rows, with the given kernel.
 * w: int8 [n_rows][n_in] row-major; x: uint8 [n_in]; out: int32 [n_rows]; n_in <= ED_MAX_WIDTH.
 * ED_ERR_KERNEL if the kernel is not supported, ED_ERR_DIMS if n_in is too large. */
ed_status ed_matvec_s8_kernel(ed_kernel kernel, const int8_t *w, const uint8_t *x, uint32_t n_in,
                              uint32_t n_rows, int32_t *out);

#ifdef __cplusplus
}
#endif

#endif /* EDGEDIGITS_H */
