/*
 * ed_fuzz_model.c - libFuzzer target: arbitrary bytes as a model file, then a forward pass.
 *
 *   clang -fsanitize=fuzzer,address,undefined -Icsrc csrc/fuzz/ed_fuzz_model.c <core sources>
 *   (csrc/Makefile: make fuzz CC=clang; tools/sanitize.sh runs it time-bounded)
 *
 * Input: one mode byte, then the blob. Mutated blobs almost never keep a valid CRC-32 or total
 * length, which would stop the fuzzer at the first checks; so mode bit 0 rewrites the length
 * field and bit 1 recomputes the CRC before loading, letting it reach the layer and parameter
 * validation and the forward pass. When a blob loads, the forward pass runs on an image taken
 * from the input with every kernel this CPU supports, and all kernels must agree bit for bit
 * (differential check) and give a prediction in range; then a batch of BATCH images through
 * ed_forward_batch_u8 with the batch scratch (4 digits per pass over the weights where the
 * kernel has a batched form) must give, image by image, the single-image logits; anything else
 * aborts.
 */
#include "../ed_internal.h"

#include <stdlib.h>
#include <string.h>

#define BATCH 5 /* one group of ED_BATCH_LANES and one image alone */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *blob, *scratch;
    static uint8_t xb[BATCH * ED_INPUT_SIZE];
    static int32_t single[BATCH * ED_MAX_CLASSES], batch[BATCH * ED_MAX_CLASSES];
    uint8_t *x = xb;
    int32_t logits[ED_MAX_CLASSES], first[ED_MAX_CLASSES], pred;
    ed_model model;
    size_t len, i, need;
    unsigned k;
    int have_first = 0;
    uint8_t mode;

    if (size < 1u) {
        return 0;
    }
    mode = data[0];
    len = size - 1u;
    blob = malloc(len + 1u); /* exactly len bytes are valid: ASan sees reads past them */
    if (blob == NULL) {
        return 0;
    }
    memcpy(blob, data + 1, len);
    if ((mode & 1u) && len >= 12u) {
        put_u32(blob + 8, (uint32_t)len);
    }
    if ((mode & 2u) && len >= 4u) {
        put_u32(blob + len - 4u, ed_crc32(blob, len - 4u));
    }
    if (ed_model_load(&model, len > 0u ? blob : NULL, len) != ED_OK) {
        free(blob);
        return 0;
    }
    /* the images: bytes of the input, taken with different strides */
    for (i = 0; i < BATCH * ED_INPUT_SIZE; i++) {
        xb[i] = data[(i * (7u + 2u * (i / ED_INPUT_SIZE))) % size];
    }
    need = ed_scratch_size(&model);
    if (need > 2u * ED_MAX_WIDTH || model.n_classes == 0u || model.n_classes > ED_MAX_CLASSES) {
        abort();
    }
    scratch = malloc(ed_batch_scratch_size(&model) + 1u);
    if (scratch == NULL) {
        free(blob);
        return 0;
    }
    for (k = 0; k < (unsigned)ED_KERNEL_COUNT; k++) {
        float logp[ED_MAX_CLASSES];
        if (ed_model_set_kernel(&model, (ed_kernel)k) != ED_OK) {
            continue;
        }
        if (ed_forward_u8(&model, x, logits, logp, &pred, scratch, need) != ED_OK ||
            pred < 0 || (uint32_t)pred >= model.n_classes) {
            abort();
        }
        if (!have_first) {
            memcpy(first, logits, model.n_classes * sizeof logits[0]);
            have_first = 1;
        } else if (memcmp(first, logits, model.n_classes * sizeof logits[0]) != 0) {
            abort(); /* a kernel disagrees with the portable loop */
        }
        for (i = 0; i < BATCH; i++) {
            if (ed_forward_u8(&model, xb + i * ED_INPUT_SIZE, single + i * model.n_classes, NULL,
                              NULL, scratch, need) != ED_OK) {
                abort();
            }
        }
        if (ed_forward_batch_u8(&model, xb, BATCH, ED_INPUT_SIZE, batch, NULL, NULL, scratch,
                                ed_batch_scratch_size(&model)) != ED_OK ||
            memcmp(single, batch, BATCH * model.n_classes * sizeof batch[0]) != 0) {
            abort(); /* the batch path disagrees with one image at a time */
        }
    }
    free(scratch);
    free(blob);
    return 0;
}
