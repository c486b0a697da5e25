/*
 * ed_forward.c - the int8 forward pass.
 *
 * Arithmetic (docs/model-format.md has the derivation):
 *   layer input  x: uint8, real value x / 255 (pixels; or sigmoid outputs, 255 == 1.0)
 *   weights      w: int8, real value w * scale[o]  (per output row)
 *   accumulator  acc[o] = bias[o] + sum_i w[o][i] * x[i]   (int32, real value acc * scale[o] / 255)
 *   hidden       idx = requantize(acc, M, S) + 512  = round(z * 64) + 512, clamped to [0, 1023];
 *                h = sigmoid_lut[idx]
 *   output       logit = requantize(acc, M, S) = round(z * 2^16), saturated to int32
 * where requantize(acc, M, S) = floor((acc * M + 2^(S-1)) / 2^S), i.e. round half up, and
 * M * 2^-S approximates scale[o] / 255 * 64 (hidden) or scale[o] / 255 * 2^16 (output).
 */
#include "ed_internal.h"
#include "ed_sigmoid_lut.h"

#include <math.h>

const uint8_t *ed_sigmoid_lut(void)
{
    return ed_sigmoid_lut_data;
}

/* Portable reference kernel. |sum| <= 4096 * 128 * 255 < 2^31: no overflow. */
void ed_matvec_s8(const int8_t *w, const uint8_t *x, uint32_t n_in, uint32_t n_rows, int32_t *out)
{
    uint32_t r, i;
    for (r = 0; r < n_rows; r++) {
        const int8_t *row = w + (size_t)r * n_in;
        int32_t sum = 0;
        for (i = 0; i < n_in; i++) {
            sum += (int32_t)row[i] * (int32_t)x[i];
        }
        out[r] = sum;
    }
}

int64_t ed_requantize(int32_t acc, int32_t multiplier, int32_t shift)
{
    return ed_requantize_step(acc, multiplier, shift);
}

static int32_t ed_sigmoid_index(int64_t q)
{
    /* clamp without branches: q is data-dependent and saturates often */
    q += ED_SIGMOID_LUT_SIZE / 2;
    q = q < 0 ? 0 : q;
    q = q > ED_SIGMOID_LUT_SIZE - 1 ? ED_SIGMOID_LUT_SIZE - 1 : q;
    return (int32_t)q;
}

static int32_t ed_saturate_i32(int64_t v)
{
    if (v > INT32_MAX) {
        return INT32_MAX;
    }
    if (v < INT32_MIN) {
        return INT32_MIN;
    }
    return (int32_t)v;
}

void ed_dense_acc_s8(const ed_layer *layer, const uint8_t *x, int32_t *acc)
{
    uint32_t o;
    ed_matvec_s8(layer->weights, x, layer->n_in, layer->n_out, acc);
    for (o = 0; o < layer->n_out; o++) {
        acc[o] += ed_rd_i32(layer->bias + 4u * o);
    }
}

void ed_sigmoid_u8(const ed_layer *layer, const int32_t *acc, uint8_t *h)
{
    uint32_t o;
    for (o = 0; o < layer->n_out; o++) {
        int64_t q = ed_requantize_step(acc[o], ed_rd_i32(layer->multiplier + 4u * o),
                                       ed_rd_i32(layer->shift + 4u * o));
        h[o] = ed_sigmoid_lut_data[ed_sigmoid_index(q)];
    }
}

/* One window of the convolution, tap-major: each pixel of the window scales one contiguous row of
 * weights (one per channel, weights[tap][channels]) into the nb <= ED_CONV_BLOCK int32
 * accumulators of channels c0.. ; fixed-length loops (a block, or half of one) that compilers
 * vectorise at -O2. Zero pixels (most of a digit patch) are skipped. |sum| <= 784 * 128 * 255 < 2^31. */
static void ed_conv_window(const ed_layer *layer, const uint8_t *win, uint32_t c0, uint32_t nb,
                           int32_t *sum)
{
    const uint32_t ch = layer->channels, k = layer->kernel;
    uint32_t c, i, j;
    for (c = 0; c < ED_CONV_BLOCK; c++) {
        sum[c] = 0;
    }
    for (i = 0; i < k; i++) {
        for (j = 0; j < k; j++) {
            const int32_t v = win[i * ED_IMAGE_SIDE + j];
            const int8_t *w = layer->weights + (size_t)(i * k + j) * ch + c0;
            if (v == 0) {
                continue; /* most of a digit's pixels are background: nothing to add */
            }
            if (nb == ED_CONV_BLOCK) {
                for (c = 0; c < ED_CONV_BLOCK; c++) {
                    sum[c] += (int32_t)w[c] * v;
                }
            } else if (nb == ED_CONV_BLOCK / 2u) {
                for (c = 0; c < ED_CONV_BLOCK / 2u; c++) {
                    sum[c] += (int32_t)w[c] * v;
                }
            } else {
                for (c = 0; c < nb; c++) {
                    sum[c] += (int32_t)w[c] * v;
                }
            }
        }
    }
}

void ed_conv_read_params(const ed_layer *layer, uint32_t c0, uint32_t nb, ed_conv_params *prm)
{
    uint32_t c;
    for (c = 0; c < nb; c++) {
        const uint32_t at = 4u * (c0 + c);
        prm->bias[c] = ed_rd_i32(layer->bias + at);
        prm->mult[c] = ed_rd_i32(layer->multiplier + at);
        prm->shift[c] = ed_rd_i32(layer->shift + at);
    }
}

void ed_conv_finish(const ed_layer *layer, const ed_conv_params *prm, uint32_t p, uint32_t c0,
                    uint32_t nb, const int32_t *best, int32_t *acc, uint8_t *h)
{
    const size_t at = (size_t)p * layer->channels + c0;
    uint32_t c;
    for (c = 0; c < nb; c++) {
        /* |best + bias| <= 784 * 128 * 255 + 2^30 < 2^31 */
        const int32_t v = best[c] + prm->bias[c];
        const int64_t q = ed_requantize_step(v, prm->mult[c], prm->shift[c]);
        if (acc != NULL) {
            acc[at + c] = v;
        }
        h[at + c] = ed_sigmoid_lut_data[ed_sigmoid_index(q)];
    }
}

/* The convolution, then the max over each pool x pool block of windows (pool 1: none), then
 * bias, requantisation and the sigmoid. Pooling the accumulators is pooling the outputs: the
 * requantisation (multiplier >= 0) and the sigmoid table never decrease. */
void ed_conv_sigmoid_u8(const ed_layer *layer, const uint8_t *x, int32_t *acc, uint8_t *h)
{
    const uint32_t ch = layer->channels, stride = layer->stride, pool = layer->pool;
    const uint32_t side = layer->side;
    int32_t sum[ED_CONV_BLOCK], best[ED_CONV_BLOCK];
    ed_conv_params prm;
    uint32_t p, c0, nb, c, a, b;
    for (c0 = 0; c0 < ch; c0 += nb) { /* channel blocks outside: their parameters read once */
        nb = ch - c0 < ED_CONV_BLOCK ? ch - c0 : ED_CONV_BLOCK;
        ed_conv_read_params(layer, c0, nb, &prm);
        for (p = 0; p < side * side; p++) {
            const uint32_t row = p / side * pool, col = p % side * pool;
            for (a = 0; a < pool; a++) {
                for (b = 0; b < pool; b++) {
                    const uint8_t *win = x + (size_t)((row + a) * stride) * ED_IMAGE_SIDE + (col + b) * stride;
                    ed_conv_window(layer, win, c0, nb, a == 0u && b == 0u ? best : sum);
                    if (a != 0u || b != 0u) {
                        for (c = 0; c < nb; c++) {
                            best[c] = sum[c] > best[c] ? sum[c] : best[c];
                        }
                    }
                }
            }
            ed_conv_finish(layer, &prm, p, c0, nb, best, acc, h);
        }
    }
}

void ed_conv_offsets(uint32_t kernel, uint32_t n, uint16_t *off)
{
    uint32_t t;
    for (t = 0; t < n; t++) {
        off[t] = (uint16_t)(t < kernel * kernel ? t / kernel * ED_IMAGE_SIDE + t % kernel : 0u);
    }
}

void ed_conv_run(const ed_layer *layer, ed_conv_chunk_fn chunk, ed_conv_finish_fn finish, const int16_t *prep,
                 const uint16_t *off, uint32_t n_off, const uint8_t *x, int32_t *acc, uint8_t *h)
{
    const uint32_t ch = layer->channels, stride = layer->stride, pool = layer->pool;
    const uint32_t side = layer->side;
    const uint32_t k = layer->kernel;
    int32_t best[8u * ED_CONV_GROUPS];
    ed_conv_params prm;
    /* ink[r][c]: nonzero pixels above and left of (r, c), so that a window without ink (its
     * sums are 0) costs four lookups instead of its taps; a digit patch has many. */
    uint16_t ink[ED_IMAGE_SIDE + 1u][ED_IMAGE_SIDE + 1u];
    uint32_t p, c0, ng, a, b, c, r, q;
    for (r = 0; r <= ED_IMAGE_SIDE; r++) {
        for (q = 0; q <= ED_IMAGE_SIDE; q++) {
            ink[r][q] = (uint16_t)(r == 0u || q == 0u ? 0 : ink[r - 1u][q] + ink[r][q - 1u] - ink[r - 1u][q - 1u] +
                                                          (x[(r - 1u) * ED_IMAGE_SIDE + q - 1u] != 0));
        }
    }
    for (c0 = 0; c0 < ch; c0 += 8u * ng) { /* channel blocks outside: their parameters read once */
        ng = (ch - c0) / 8u < ED_CONV_GROUPS ? (ch - c0) / 8u : ED_CONV_GROUPS;
        ed_conv_read_params(layer, c0, 8u * ng, &prm);
        for (p = 0; p < side * side; p++) {
            const uint32_t row = p / side * pool, col = p % side * pool;
            for (a = 0; a < pool; a++) {
                for (b = 0; b < pool; b++) {
                    const uint32_t r0 = (row + a) * stride, q0 = (col + b) * stride;
                    const int first = a == 0u && b == 0u;
                    if (ink[r0 + k][q0 + k] - ink[r0][q0 + k] - ink[r0 + k][q0] + ink[r0][q0] == 0) {
                        for (c = 0; c < 8u * ng; c++) {
                            best[c] = first || best[c] < 0 ? 0 : best[c];
                        }
                        continue;
                    }
                    chunk(prep, off, n_off, ch, x + (size_t)r0 * ED_IMAGE_SIDE + q0, c0, ng, first, best);
                }
            }
            finish(layer, &prm, p, c0, 8u * ng, best, acc, h);
        }
    }
}

void ed_logits_q16(const ed_layer *layer, const int32_t *acc, int32_t *logits)
{
    uint32_t o;
    for (o = 0; o < layer->n_out; o++) {
        logits[o] = ed_saturate_i32(ed_requantize_step(acc[o], ed_rd_i32(layer->multiplier + 4u * o),
                                                       ed_rd_i32(layer->shift + 4u * o)));
    }
}

void ed_log_softmax_q16(const int32_t *logits, uint32_t n, float *log_proba)
{
    const float unit = 1.0f / 65536.0f;
    int32_t max = logits[0];
    float sum = 0.0f, log_sum;
    uint32_t k;
    for (k = 1; k < n; k++) {
        if (logits[k] > max) {
            max = logits[k];
        }
    }
    /* log-sum-exp: subtract the max so the largest term is exp(0) = 1 and nothing overflows.
     * Differences are taken in int64 (exact) before conversion to float. */
    for (k = 0; k < n; k++) {
        sum += expf((float)((int64_t)logits[k] - max) * unit);
    }
    log_sum = logf(sum); /* sum >= 1: the max term contributes exp(0) */
    for (k = 0; k < n; k++) {
        log_proba[k] = (float)((int64_t)logits[k] - max) * unit - log_sum;
    }
}

/* Requantise rows r0 .. r0+nb-1 of a layer from their int32 sums (bias not yet added):
 * h != NULL: hidden layer, uint8 sigmoid outputs; else output layer, int32 Q16 logits.
 * The layer's fields are copied into locals: stores to h (uint8_t) may alias anything, and
 * would force reloads. */
void ed_finish_rows(const ed_layer *layer, const int32_t *acc, uint32_t r0, uint32_t nb,
                    uint8_t *h, int32_t *logits)
{
    const uint8_t *bias = layer->bias, *mult = layer->multiplier, *shift = layer->shift;
    uint32_t o;
    for (o = 0; o < nb; o++) {
        const uint32_t at = 4u * (r0 + o);
        const int64_t q = ed_requantize_step(acc[o] + ed_rd_i32(bias + at), ed_rd_i32(mult + at),
                                             ed_rd_i32(shift + at));
        if (h != NULL) {
            h[r0 + o] = ed_sigmoid_lut_data[ed_sigmoid_index(q)];
        } else {
            logits[r0 + o] = ed_saturate_i32(q);
        }
    }
}

/* One dense layer for one image, ED_ROW_BLOCK rows at a time with accumulators on the stack;
 * matvec and finish are the model's kernel (ed_kernel.c), bit-exact with ed_matvec_s8 and
 * ed_finish_rows. */
static void ed_layer_forward(ed_matvec_fn matvec, ed_finish_fn finish, const ed_layer *layer,
                             const uint8_t *x, uint8_t *h, int32_t *logits)
{
    const uint32_t n_in = layer->n_in, n_out = layer->n_out;
    int32_t acc[ED_ROW_BLOCK];
    uint32_t r0, nb;
    for (r0 = 0; r0 < n_out; r0 += nb) {
        nb = n_out - r0 < ED_ROW_BLOCK ? n_out - r0 : ED_ROW_BLOCK;
        matvec(layer->weights + (size_t)r0 * n_in, x, n_in, nb, acc);
        finish(layer, acc, r0, nb, h, logits);
    }
}

/* The same for ED_BATCH_LANES images at once, one pass over the weights: image j's input at
 * x + j * x_stride, its outputs at h + j * h_stride or logits + j * logits_stride. */
static void ed_layer_forward_lanes(ed_matmat_fn matmat, ed_finish_fn finish,
                                   const ed_layer *layer, const uint8_t *x, size_t x_stride,
                                   uint8_t *h, size_t h_stride, int32_t *logits,
                                   size_t logits_stride)
{
    const uint32_t n_in = layer->n_in, n_out = layer->n_out;
    int32_t acc[ED_BATCH_LANES * ED_ROW_BLOCK]; /* [lane][row in block] */
    uint32_t r0, nb, j;
    for (r0 = 0; r0 < n_out; r0 += nb) {
        nb = n_out - r0 < ED_ROW_BLOCK ? n_out - r0 : ED_ROW_BLOCK;
        matmat(layer->weights + (size_t)r0 * n_in, x, x_stride, n_in, nb, acc);
        for (j = 0; j < ED_BATCH_LANES; j++) {
            finish(layer, acc + j * nb, r0, nb, h != NULL ? h + j * h_stride : NULL,
                   h != NULL ? NULL : logits + j * logits_stride);
        }
    }
}

/* log-probabilities and argmax (lowest index on ties) from the Q16 logits */
static void ed_outputs(const int32_t *logits, uint32_t n_classes, float *log_proba, int32_t *pred)
{
    uint32_t k;
    if (log_proba != NULL) {
        ed_log_softmax_q16(logits, n_classes, log_proba);
    }
    if (pred != NULL) {
        int32_t best = 0;
        for (k = 1; k < n_classes; k++) {
            if (logits[k] > logits[best]) {
                best = (int32_t)k;
            }
        }
        *pred = best;
    }
}

static void ed_forward_one(const ed_model *model, const uint8_t *x, int32_t *logits,
                           float *log_proba, int32_t *pred, uint8_t *scratch)
{
    int32_t local_logits[ED_MAX_CLASSES];
    int32_t *out = logits != NULL ? logits : local_logits;
    const ed_matvec_fn matvec = ed_kernel_fn(model->kernel);
    const ed_finish_fn finish = ed_kernel_finish_fn(model->kernel);
    const ed_conv_fn conv = ed_kernel_conv_fn(model->kernel);
    const uint8_t *in = x;
    uint8_t *bufs[2];
    uint32_t i;

    bufs[0] = scratch;
    bufs[1] = scratch + model->max_hidden;
    for (i = 0; i + 1u < model->n_layers; i++) {
        if (model->layers[i].activation == ED_ACT_CONV_SIGMOID) {
            conv(&model->layers[i], in, NULL, bufs[i & 1u]);
        } else {
            ed_layer_forward(matvec, finish, &model->layers[i], in, bufs[i & 1u], NULL);
        }
        in = bufs[i & 1u];
    }
    ed_layer_forward(matvec, finish, &model->layers[model->n_layers - 1u], in, NULL, out);
    ed_outputs(out, model->n_classes, log_proba, pred);
}

/* ED_BATCH_LANES images, x + j * x_stride; outputs dense as in ed_forward_batch_u8.
 * scratch: ED_BATCH_LANES * ed_scratch_size(model) bytes, two [lane][max_hidden] buffers. */
static void ed_forward_lanes(const ed_model *model, ed_matmat_fn matmat, const uint8_t *x,
                             size_t x_stride, int32_t *logits, float *log_proba, int32_t *pred,
                             uint8_t *scratch)
{
    int32_t local_logits[ED_BATCH_LANES * ED_MAX_CLASSES];
    int32_t *out = logits != NULL ? logits : local_logits;
    const size_t nc = model->n_classes, mh = model->max_hidden;
    const ed_finish_fn finish = ed_kernel_finish_fn(model->kernel);
    const ed_conv_fn conv = ed_kernel_conv_fn(model->kernel);
    const uint8_t *in = x;
    size_t in_stride = x_stride, j;
    uint8_t *bufs[2];
    uint32_t i;

    bufs[0] = scratch;
    bufs[1] = scratch + ED_BATCH_LANES * mh;
    for (i = 0; i + 1u < model->n_layers; i++) {
        if (model->layers[i].activation == ED_ACT_CONV_SIGMOID) {
            for (j = 0; j < ED_BATCH_LANES; j++) {
                conv(&model->layers[i], in + j * in_stride, NULL, bufs[i & 1u] + j * mh);
            }
        } else {
            ed_layer_forward_lanes(matmat, finish, &model->layers[i], in, in_stride, bufs[i & 1u],
                                   mh, NULL, 0u);
        }
        in = bufs[i & 1u];
        in_stride = mh;
    }
    ed_layer_forward_lanes(matmat, finish, &model->layers[model->n_layers - 1u], in, in_stride,
                           NULL, 0u, out, nc);
    for (j = 0; j < ED_BATCH_LANES; j++) {
        ed_outputs(out + j * nc, model->n_classes, log_proba != NULL ? log_proba + j * nc : NULL,
                   pred != NULL ? pred + j : NULL);
    }
}

size_t ed_batch_scratch_size(const ed_model *model)
{
    return ED_BATCH_LANES * ed_scratch_size(model);
}

ed_status ed_forward_u8(const ed_model *model, const uint8_t *x, int32_t *logits,
                        float *log_proba, int32_t *pred, uint8_t *scratch, size_t scratch_len)
{
    return ed_forward_batch_u8(model, x, 1u, 0u, logits, log_proba, pred, scratch, scratch_len);
}

ed_status ed_forward_batch_u8(const ed_model *model, const uint8_t *x, size_t n, size_t x_stride,
                              int32_t *logits, float *log_proba, int32_t *pred,
                              uint8_t *scratch, size_t scratch_len)
{
    size_t j = 0;
    const size_t nc = model != NULL ? model->n_classes : 0u;
    ed_matmat_fn matmat;
    if (model == NULL || (x == NULL && n > 0u) || model->n_layers == 0u) {
        return ED_ERR_NULL;
    }
    if (scratch_len < ed_scratch_size(model) || (scratch == NULL && model->max_hidden > 0u)) {
        return ED_ERR_BUFFER;
    }
    /* Full groups of ED_BATCH_LANES images share each pass over the weights when the kernel
     * has a batched form and the scratch allows; the rest go one by one. Same results. */
    matmat = ed_kernel_batch_fn(model->kernel);
    if (matmat != NULL && scratch_len >= ed_batch_scratch_size(model)) {
        for (; j + ED_BATCH_LANES <= n; j += ED_BATCH_LANES) {
            ed_forward_lanes(model, matmat, x + j * x_stride, x_stride,
                             logits != NULL ? logits + j * nc : NULL,
                             log_proba != NULL ? log_proba + j * nc : NULL,
                             pred != NULL ? pred + j : NULL, scratch);
        }
    }
    for (; j < n; j++) {
        ed_forward_one(model, x + j * x_stride, logits != NULL ? logits + j * nc : NULL,
                       log_proba != NULL ? log_proba + j * nc : NULL,
                       pred != NULL ? pred + j : NULL, scratch);
    }
    return ED_OK;
}
