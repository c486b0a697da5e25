/*
 * ed_model.c - model blob validation (docs/model-format.md), CRC-32, status strings.
 *
 * Every size read from the blob is checked against the blob's length in 64-bit arithmetic
 * before any pointer is formed, so a hostile blob can make loading fail but never read out of
 * bounds.
 */
#include "ed_internal.h"

#include <string.h>

static const char *const ed_status_strings[ED_STATUS_COUNT] = {
    "ok",
    "a required pointer was NULL",
    "model blob is shorter than its header, layer table or a section it declares",
    "not an edgedigits model (bad magic, expected \"EDGD\")",
    "unsupported model format version",
    "declared model length differs from the blob length",
    "CRC-32 mismatch: the model file is corrupted",
    "layer count out of range",
    "layer sizes are zero, too large, or do not chain",
    ("unsupported activation (hidden layers must be sigmoid, the last linear, a convolution only "
     "first, in format version 2, with a valid geometry)"),
    "a section is misaligned, overlapping, or outside the blob",
    "a requantisation multiplier, shift or bias is out of range",
    "scratch or output buffer too small",
    ("EDGEDIGITS_KERNEL names an unknown kernel or one this build or CPU lacks "
     "(expected portable, avx2, vnni, neon or neon_dot)"),
};

const char *ed_status_str(ed_status status)
{
    if ((unsigned)status >= (unsigned)ED_STATUS_COUNT) {
        return "unknown status";
    }
    return ed_status_strings[status];
}

/* Bitwise CRC-32 (poly 0xEDB88320, reflected, init and final xor 0xFFFFFFFF). Loading is rare
 * and a table would cost 1 KB of .rodata on a microcontroller, so no table. */
uint32_t ed_crc32(const uint8_t *data, size_t len)
{
    uint32_t crc = 0xFFFFFFFFu;
    size_t i;
    int k;
    for (i = 0; i < len; i++) {
        crc ^= data[i];
        for (k = 0; k < 8; k++) {
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
        }
    }
    return crc ^ 0xFFFFFFFFu;
}

/* Bytes of one layer's data section: bias, multiplier, shift, scale (4 x int32/float32 per row),
 * then the int8 weights padded to a multiple of 4. */
static uint64_t ed_section_size(uint64_t n_in, uint64_t n_out)
{
    return 16u * n_out + ((n_in * n_out + 3u) & ~(uint64_t)3u);
}

/* Bytes of a convolution's data section: its geometry, then per channel bias, multiplier, shift,
 * scale and the int8 kernel, padded to a multiple of 4. */
static uint64_t ed_conv_section_size(uint64_t channels, uint64_t kernel)
{
    return ED_CONV_HEADER_SIZE + 16u * channels + ((channels * kernel * kernel + 3u) & ~(uint64_t)3u);
}

/* Geometry of a convolution whose section starts at off (ED_CONV_HEADER_SIZE bytes inside the
 * blob, checked by the caller): channels 1..4096, kernel and stride 1..28, pool 0 (none) or
 * 2..windows per row, and n_out == channels * side^2 with side = windows per row / pool. */
static ed_status ed_read_conv(ed_layer *layer, const uint8_t *head, uint32_t n_out)
{
    uint32_t ch = ed_rd_u32(head), k = ed_rd_u32(head + 4), stride = ed_rd_u32(head + 8);
    uint32_t pool = ed_rd_u32(head + 12);
    uint64_t windows, side;
    if (ch == 0u || ch > ED_MAX_WIDTH || k == 0u || k > ED_IMAGE_SIDE || stride == 0u ||
        stride > ED_IMAGE_SIDE) {
        return ED_ERR_ACTIVATION;
    }
    windows = (ED_IMAGE_SIDE - k) / stride + 1u;
    if (pool == 1u || pool > windows) {
        return ED_ERR_ACTIVATION;
    }
    pool = pool == 0u ? 1u : pool;
    side = windows / pool;
    if ((uint64_t)ch * side * side != (uint64_t)n_out) {
        return ED_ERR_DIMS;
    }
    layer->channels = ch;
    layer->kernel = k;
    layer->stride = stride;
    layer->pool = pool;
    layer->side = (uint32_t)side;
    return ED_OK;
}

static ed_status ed_check_params(const ed_layer *layer)
{
    const uint32_t rows = layer->activation == ED_ACT_CONV_SIGMOID ? layer->channels : layer->n_out;
    uint32_t o;
    for (o = 0; o < rows; o++) {
        int32_t mult = ed_rd_i32(layer->multiplier + 4u * o);
        int32_t shift = ed_rd_i32(layer->shift + 4u * o);
        int32_t bias = ed_rd_i32(layer->bias + 4u * o);
        if (mult < 0 || shift < 1 || shift > 62 || bias > ED_MAX_BIAS || bias < -ED_MAX_BIAS) {
            return ED_ERR_PARAM;
        }
    }
    return ED_OK;
}

ed_status ed_model_load(ed_model *model, const uint8_t *blob, size_t len)
{
    uint32_t n_layers, total_len, meta_off, meta_len, version, i;
    uint64_t table_end, prev_end, len64 = (uint64_t)len;
    uint32_t stored_crc;
    ed_status st;
    ed_kernel kernel;

    if (model == NULL || blob == NULL) {
        return ED_ERR_NULL;
    }
    memset(model, 0, sizeof *model);
    if (len < ED_HEADER_SIZE + 4u) {
        return ED_ERR_TOO_SMALL;
    }
    if (memcmp(blob, ED_MAGIC, 4) != 0) {
        return ED_ERR_MAGIC;
    }
    version = ed_rd_u16(blob + 4);
    if (version < 1u || version > ED_FORMAT_VERSION) {
        return ED_ERR_VERSION;
    }
    n_layers = ed_rd_u16(blob + 6);
    total_len = ed_rd_u32(blob + 8);
    meta_off = ed_rd_u32(blob + 12);
    meta_len = ed_rd_u32(blob + 16);
    if ((uint64_t)total_len != len64) {
        return ED_ERR_LENGTH;
    }
    stored_crc = ed_rd_u32(blob + len - 4u);
    if (ed_crc32(blob, len - 4u) != stored_crc) {
        return ED_ERR_CRC;
    }
    if (ed_rd_u32(blob + 20) != 0u) {
        return ED_ERR_LAYOUT; /* reserved field must be zero */
    }
    if (n_layers < 1u || n_layers > ED_MAX_LAYERS) {
        return ED_ERR_LAYERS;
    }
    table_end = (uint64_t)ED_HEADER_SIZE + (uint64_t)ED_LAYER_ENTRY_SIZE * n_layers;
    if (table_end + 4u > len64) {
        return ED_ERR_TOO_SMALL;
    }

    /* Sections follow the table in order, 4-byte aligned, without overlap. */
    prev_end = table_end;
    for (i = 0; i < n_layers; i++) {
        const uint8_t *e = blob + ED_HEADER_SIZE + ED_LAYER_ENTRY_SIZE * i;
        ed_layer *layer = &model->layers[i];
        uint32_t n_in = ed_rd_u32(e), n_out = ed_rd_u32(e + 4);
        uint32_t act = ed_rd_u32(e + 8), off = ed_rd_u32(e + 12);
        uint64_t size, rows;
        const uint8_t *arrays;
        int conv;

        if (n_in == 0u || n_out == 0u || n_in > ED_MAX_WIDTH || n_out > ED_MAX_WIDTH) {
            return ED_ERR_DIMS;
        }
        if (i == 0u ? n_in != ED_INPUT_SIZE : n_in != model->layers[i - 1u].n_out) {
            return ED_ERR_DIMS;
        }
        /* a convolution: the first layer of a version-2 model, not also its output layer */
        conv = act == ED_ACT_CONV_SIGMOID && i == 0u && i + 1u < n_layers && version >= 2u;
        if (act != (i + 1u == n_layers ? ED_ACT_LINEAR : ED_ACT_SIGMOID) && !conv) {
            return ED_ERR_ACTIVATION;
        }
        if ((off & 3u) != 0u || (uint64_t)off < prev_end) {
            return ED_ERR_LAYOUT;
        }
        if (conv) {
            if ((uint64_t)off + ED_CONV_HEADER_SIZE + 4u > len64) {
                return ED_ERR_TOO_SMALL;
            }
            st = ed_read_conv(layer, blob + off, n_out);
            if (st != ED_OK) {
                return st;
            }
            size = ed_conv_section_size(layer->channels, layer->kernel);
            rows = layer->channels;
            arrays = blob + off + ED_CONV_HEADER_SIZE; /* the arrays follow the geometry */
        } else {
            size = ed_section_size(n_in, n_out);
            rows = n_out;
            arrays = blob + off;
        }
        if ((uint64_t)off + size + 4u > len64) {
            return ED_ERR_TOO_SMALL;
        }
        layer->n_in = n_in;
        layer->n_out = n_out;
        layer->activation = act;
        layer->bias = arrays;
        layer->multiplier = arrays + 4u * rows;
        layer->shift = arrays + 8u * rows;
        layer->scale = arrays + 12u * rows;
        layer->weights = (const int8_t *)(const void *)(arrays + 16u * rows);
        st = ed_check_params(layer);
        if (st != ED_OK) {
            return st;
        }
        if (act != ED_ACT_LINEAR && n_out > model->max_hidden) {
            model->max_hidden = n_out;
        }
        prev_end = (uint64_t)off + size;
    }
    if (model->layers[n_layers - 1u].n_out > ED_MAX_CLASSES) {
        return ED_ERR_DIMS;
    }
    if (meta_len > 0u) {
        if ((uint64_t)meta_off < prev_end || (uint64_t)meta_off + meta_len + 4u > len64) {
            return ED_ERR_LAYOUT;
        }
        model->meta = blob + meta_off;
    }
    model->meta_len = meta_len;
    model->n_layers = n_layers;
    model->n_input = ED_INPUT_SIZE;
    model->n_classes = model->layers[n_layers - 1u].n_out;
    model->crc32 = stored_crc;
    st = ed_kernel_select(&kernel);
    if (st != ED_OK) {
        return st;
    }
    model->kernel = (uint32_t)kernel;
    return ED_OK;
}

size_t ed_scratch_size(const ed_model *model)
{
    /* two ping-pong uint8 hidden activation buffers */
    return model == NULL ? 0u : 2u * (size_t)model->max_hidden;
}
