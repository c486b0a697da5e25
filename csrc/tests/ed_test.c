/*
 * ed_test.c - the C core's test runner; no Python needed to run it.
 *
 *   ed_test [GOLDEN.edg ...]
 *
 * Self-contained checks: status and kernel names; every kernel this build and CPU support
 * against the portable loop and an int64 loop on random and extreme matrices; requantisation
 * against an independent floor division; EDGEDIGITS_KERNEL handling; argument errors.
 * Golden files (tools/make_golden.py, from the NumPy reference): for each kernel, every int32
 * accumulator, uint8 hidden activation, int32 logit and prediction bit-exact, log-probabilities
 * within 1e-5; then hostile variants of the file's model (every truncation, bit flips, random
 * bytes with a valid CRC) must fail to load or run cleanly. Exit status 1 on any failure.
 */
#define _POSIX_C_SOURCE 200112L
#include "ed_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GOLDEN_MAGIC "EDGT"
#define GOLDEN_VERSION 1u
#define GOLDEN_HINT "regenerate with `python tools/make_golden.py DIR` (csrc/Makefile: make golden)"

static unsigned long g_checks, g_failures;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        g_checks++;                                                                                \
        if (!(cond)) {                                                                             \
            g_failures++;                                                                          \
            if (g_failures <= 20u) {                                                               \
                printf("FAIL %s:%d: ", __FILE__, __LINE__);                                        \
                printf(__VA_ARGS__);                                                               \
                printf("\n");                                                                      \
            }                                                                                      \
        }                                                                                          \
    } while (0)

/* xorshift64*: a seeded generator for the random cases (no global state). */
static uint32_t rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return (uint32_t)((*s * 0x2545F4914F6CDD1DULL) >> 32);
}

/* A kernel case's inputs: extreme == NULL, random weights w_lo..127 and inputs 0..255; else
 * every weight extreme[0] and every input extreme[1]. */
static void fill_case(int8_t *w, size_t nw, uint8_t *x, size_t nx, const int *extreme, int w_lo,
                      uint64_t *seed)
{
    size_t i;
    for (i = 0; i < nw; i++) {
        w[i] = extreme == NULL ? (int8_t)(w_lo + (int)(rnd(seed) % (uint32_t)(128 - w_lo)))
                               : (int8_t)extreme[0];
    }
    for (i = 0; i < nx; i++) {
        x[i] = extreme == NULL ? (uint8_t)rnd(seed) : (uint8_t)extreme[1];
    }
}

/* The int64 reference a kernel's row sum is checked against. */
static int64_t ref_dot(const int8_t *w, const uint8_t *x, uint32_t n)
{
    int64_t sum = 0;
    uint32_t i;
    for (i = 0; i < n; i++) {
        sum += (int64_t)w[i] * (int64_t)x[i];
    }
    return sum;
}

static void check_names(void)
{
    int s, t;
    for (s = 0; s < (int)ED_STATUS_COUNT; s++) {
        const char *a = ed_status_str((ed_status)s);
        CHECK(a != NULL && a[0] != '\0' && strcmp(a, "unknown status") != 0, "status %d has no string", s);
        for (t = 0; t < s; t++) {
            CHECK(strcmp(a, ed_status_str((ed_status)t)) != 0, "statuses %d and %d share a string", s, t);
        }
    }
    CHECK(strcmp(ed_status_str(ED_STATUS_COUNT), "unknown status") == 0, "out-of-range status");
    for (s = 0; s < (int)ED_KERNEL_COUNT; s++) {
        CHECK(strcmp(ed_kernel_name((ed_kernel)s), "unknown") != 0, "kernel %d has no name", s);
    }
    CHECK(strcmp(ed_kernel_name(ED_KERNEL_COUNT), "unknown") == 0, "out-of-range kernel name");
    CHECK(ed_kernel_supported(ED_KERNEL_PORTABLE), "portable kernel must always be supported");
    CHECK(ed_kernel_supported(ed_kernel_best()), "best kernel %s unsupported",
          ed_kernel_name(ed_kernel_best()));
}

/* Every batched kernel (ED_BATCH_LANES images per pass over the weights) against an int64
 * loop: random weights and inputs, each image at its own stride-apart place, and the extremes
 * (every weight -128 or 127 with every input 255). w: 65 x 4096 bytes. */
static void check_batch_kernels(int8_t *w, uint64_t *seed)
{
    static const uint32_t widths[] = {1, 15, 16, 17, 33, 200, 784, 800, 3456, 4096};
    static const uint32_t rows[] = {1, 2, 3, 4, 5, 10, 19, 65};
    static const int extremes[][2] = {{0, 0}, {-128, 255}, {127, 255}};
    const size_t stride = 4096u + 7u;
    uint8_t *xb = malloc(ED_BATCH_LANES * stride);
    int32_t *out = malloc(ED_BATCH_LANES * 65u * sizeof(int32_t));
    size_t a, b, e, j;
    unsigned k;
    if (xb == NULL || out == NULL) {
        CHECK(0, "out of memory");
        free(xb);
        free(out);
        return;
    }
    for (a = 0; a < sizeof widths / sizeof widths[0]; a++) {
        for (b = 0; b < sizeof rows / sizeof rows[0]; b++) {
            for (e = 0; e < sizeof extremes / sizeof extremes[0]; e++) {
                const uint32_t n_in = widths[a], n_rows = rows[b];
                uint32_t r;
                if ((size_t)n_in * n_rows > 65u * 4096u) {
                    continue;
                }
                fill_case(w, (size_t)n_in * n_rows, xb, ED_BATCH_LANES * stride,
                          e == 0 ? NULL : extremes[e], -128, seed);
                for (k = 0; k < (unsigned)ED_KERNEL_COUNT; k++) {
                    const ed_matmat_fn matmat = ed_kernel_supported((ed_kernel)k) ? ed_kernel_batch_fn(k) : NULL;
                    if (matmat == NULL) {
                        continue;
                    }
                    matmat(w, xb, stride, n_in, n_rows, out);
                    for (j = 0; j < ED_BATCH_LANES; j++) {
                        for (r = 0; r < n_rows; r++) {
                            const int64_t ref = ref_dot(w + (size_t)r * n_in, xb + j * stride, n_in);
                            CHECK(out[j * n_rows + r] == ref,
                                  "batched kernel %s n_in=%u n_rows=%u case %u image %u row %u: %ld != %ld",
                                  ed_kernel_name((ed_kernel)k), (unsigned)n_in, (unsigned)n_rows,
                                  (unsigned)e, (unsigned)j, (unsigned)r, (long)out[j * n_rows + r], (long)ref);
                        }
                    }
                }
            }
        }
    }
    free(xb);
    free(out);
}

/* Every supported kernel against an int64 loop, on random and on extreme values. */
static void check_kernels(void)
{
    static const uint32_t widths[] = {1, 2, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129,
                                      784, 800, 4096};
    static const uint32_t rows[] = {1, 3, 4, 5, 7, 8, 9, 16, 17, 64, 65};
    static const int extremes[][2] = {{0, 0}, {-128, 255}, {127, 255}, {-127, 255}};
    const size_t max_w = 65u * 4096u;
    int8_t *w = malloc(max_w);
    uint8_t *x = malloc(4096);
    int32_t *out = malloc(65 * sizeof(int32_t));
    int64_t *ref = malloc(65 * sizeof(int64_t));
    uint64_t seed = 0x9E3779B97F4A7C15ULL;
    size_t a, b, e;
    unsigned k;
    if (w == NULL || x == NULL || out == NULL || ref == NULL) {
        CHECK(0, "out of memory");
        return;
    }
    for (a = 0; a < sizeof widths / sizeof widths[0]; a++) {
        for (b = 0; b < sizeof rows / sizeof rows[0]; b++) {
            for (e = 0; e < sizeof extremes / sizeof extremes[0]; e++) {
                const uint32_t n_in = widths[a], n_rows = rows[b];
                uint32_t r;
                if ((size_t)n_in * n_rows > max_w || (e > 0 && n_rows > 9u)) {
                    continue;
                }
                fill_case(w, (size_t)n_in * n_rows, x, n_in, e == 0 ? NULL : extremes[e], -127, &seed);
                for (r = 0; r < n_rows; r++) {
                    ref[r] = ref_dot(w + (size_t)r * n_in, x, n_in);
                }
                for (k = 0; k < (unsigned)ED_KERNEL_COUNT; k++) {
                    ed_status st;
                    if (!ed_kernel_supported((ed_kernel)k)) {
                        CHECK(ed_matvec_s8_kernel((ed_kernel)k, w, x, n_in, n_rows, out) == ED_ERR_KERNEL,
                              "unsupported kernel %s must be refused", ed_kernel_name((ed_kernel)k));
                        continue;
                    }
                    st = ed_matvec_s8_kernel((ed_kernel)k, w, x, n_in, n_rows, out);
                    CHECK(st == ED_OK, "kernel %s: %s", ed_kernel_name((ed_kernel)k), ed_status_str(st));
                    for (r = 0; r < n_rows; r++) {
                        CHECK(out[r] == ref[r], "kernel %s n_in=%u n_rows=%u case %u row %u: %ld != %ld",
                              ed_kernel_name((ed_kernel)k), (unsigned)n_in, (unsigned)n_rows,
                              (unsigned)e, (unsigned)r, (long)out[r], (long)ref[r]);
                    }
                }
            }
        }
    }
    check_batch_kernels(w, &seed);
    CHECK(ed_matvec_s8_kernel(ED_KERNEL_PORTABLE, w, x, ED_MAX_WIDTH + 1u, 1, out) == ED_ERR_DIMS,
          "n_in > ED_MAX_WIDTH must be refused");
    CHECK(ed_matvec_s8_kernel(ED_KERNEL_PORTABLE, NULL, x, 4, 1, out) == ED_ERR_NULL, "NULL w");
    CHECK(ed_matvec_s8_kernel(ED_KERNEL_COUNT, w, x, 4, 1, out) == ED_ERR_KERNEL, "bad kernel id");
    free(w);
    free(x);
    free(out);
    free(ref);
}

/* floor((acc * M + 2^(S-1)) / 2^S) by C division (truncating) corrected to floor. */
static int64_t requantize_by_division(int32_t acc, int32_t mult, int32_t shift)
{
    const int64_t y = (int64_t)acc * mult + ((int64_t)1 << (shift - 1));
    const int64_t d = (int64_t)1 << shift;
    int64_t q = y / d;
    if (y % d != 0 && y < 0) {
        q -= 1;
    }
    return q;
}

static void check_requantize(void)
{
    uint64_t seed = 12345u;
    int n;
    for (n = 0; n < 200000; n++) {
        const int32_t acc = (int32_t)(rnd(&seed) ^ (rnd(&seed) << 16)) / (int32_t)(1 + rnd(&seed) % 64u);
        const int32_t mult = (int32_t)(rnd(&seed) & 0x7FFFFFFFu);
        const int32_t shift = (int32_t)(1u + rnd(&seed) % 62u);
        const int64_t got = ed_requantize(acc, mult, shift), want = requantize_by_division(acc, mult, shift);
        CHECK(got == want, "requantize(%ld, %ld, %ld) = %lld, expected %lld", (long)acc, (long)mult,
              (long)shift, (long long)got, (long long)want);
    }
    /* ties round up: -0.5 -> 0, 0.5 -> 1, -1.5 -> -1 */
    CHECK(ed_requantize(-1, 1, 1) == 0 && ed_requantize(1, 1, 1) == 1 && ed_requantize(-3, 1, 1) == -1,
          "round half up");
}

/* --- golden files --- */

typedef struct {
    const uint8_t *p, *end;
    int ok;
} cursor;

static const uint8_t *take(cursor *c, size_t n)
{
    const uint8_t *at = c->p;
    if (!c->ok || (size_t)(c->end - c->p) < n) {
        c->ok = 0;
        return NULL;
    }
    c->p += n;
    return at;
}

static uint32_t take_u32(cursor *c)
{
    const uint8_t *p = take(c, 4);
    return p != NULL ? ed_rd_u32(p) : 0u;
}

static size_t pad4(size_t n)
{
    return (n + 3u) & ~(size_t)3u;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    long n;
    *len = 0;
    if (f == NULL) {
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)n + 1u);
        if (buf != NULL && fread(buf, 1, (size_t)n, f) == (size_t)n) {
            *len = (size_t)n;
        } else {
            free(buf);
            buf = NULL;
        }
    }
    fclose(f);
    return buf;
}

static float rd_f32(const uint8_t *p)
{
    uint32_t u = ed_rd_u32(p);
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* Loads must fail (or, if the bytes still make a valid model, run without fault) on hostile
 * variants of a real model blob. Each variant lives in its own malloc block of exactly its
 * length, so AddressSanitizer and valgrind see any read past the end. */
static void check_hostile(const uint8_t *blob, size_t len, uint64_t seed)
{
    uint8_t *copy = malloc(len + 1u);
    uint8_t *scratch = malloc(2u * ED_MAX_WIDTH);
    uint8_t x[ED_INPUT_SIZE];
    ed_model m;
    size_t n, step = len > 20000u ? len / 2000u : 1u;
    /* each load of a full-length blob runs the bitwise CRC: bound the bytes hashed */
    const int tries = len > 0u && 2000000u / len < 300u ? (int)(2000000u / len) + 4 : 300;
    int t;
    if (copy == NULL || scratch == NULL) {
        CHECK(0, "out of memory");
        free(copy);
        free(scratch);
        return;
    }
    for (n = 0; n < len; n += (n < 4096u ? 1u : step)) {
        uint8_t *cut = malloc(n + 1u);
        if (cut == NULL) {
            break;
        }
        memcpy(cut, blob, n);
        CHECK(ed_model_load(&m, n > 0u ? cut : NULL, n) != ED_OK, "truncated to %lu bytes loads",
              (unsigned long)n);
        free(cut);
    }
    for (t = 0; t < tries; t++) { /* one flipped bit: the CRC must catch it */
        const size_t bit = rnd(&seed) % (len * 8u);
        memcpy(copy, blob, len);
        copy[bit / 8u] ^= (uint8_t)(1u << (bit % 8u));
        CHECK(ed_model_load(&m, copy, len) != ED_OK, "bit %lu flipped loads", (unsigned long)bit);
    }
    memset(x, 0x80, sizeof x);
    for (t = 0; t < tries; t++) { /* random header/table/param bytes with a fixed-up CRC */
        int j;
        memcpy(copy, blob, len);
        for (j = 0; j < 4; j++) {
            const size_t at = (t & 1) ? rnd(&seed) % (len < 256u ? len : 256u) : rnd(&seed) % len;
            copy[at] = (uint8_t)rnd(&seed);
        }
        if (len >= 4u) {
            const uint32_t crc = ed_crc32(copy, len - 4u);
            copy[len - 4u] = (uint8_t)crc;
            copy[len - 3u] = (uint8_t)(crc >> 8);
            copy[len - 2u] = (uint8_t)(crc >> 16);
            copy[len - 1u] = (uint8_t)(crc >> 24);
        }
        if (ed_model_load(&m, copy, len) == ED_OK) {
            int32_t pred = -1;
            float logp[ED_MAX_CLASSES];
            CHECK(ed_scratch_size(&m) <= 2u * ED_MAX_WIDTH, "scratch size %lu",
                  (unsigned long)ed_scratch_size(&m));
            CHECK(ed_forward_u8(&m, x, NULL, logp, &pred, scratch, ed_scratch_size(&m)) == ED_OK &&
                      pred >= 0 && (uint32_t)pred < m.n_classes,
                  "mutated model that loads must run");
        }
    }
    free(copy);
    free(scratch);
}

static void check_env_kernel(const uint8_t *blob, size_t len)
{
    ed_model m;
    unsigned k;
    const char *old = getenv(ED_KERNEL_ENV);
    char saved[64] = "";
    if (old != NULL) {
        strncpy(saved, old, sizeof saved - 1u);
    }
    setenv(ED_KERNEL_ENV, "no-such-kernel", 1);
    CHECK(ed_model_load(&m, blob, len) == ED_ERR_KERNEL, "unknown EDGEDIGITS_KERNEL must fail");
    for (k = 0; k < (unsigned)ED_KERNEL_COUNT; k++) {
        setenv(ED_KERNEL_ENV, ed_kernel_name((ed_kernel)k), 1);
        if (ed_kernel_supported((ed_kernel)k)) {
            CHECK(ed_model_load(&m, blob, len) == ED_OK && m.kernel == k, "EDGEDIGITS_KERNEL=%s",
                  ed_kernel_name((ed_kernel)k));
        } else {
            CHECK(ed_model_load(&m, blob, len) == ED_ERR_KERNEL, "EDGEDIGITS_KERNEL=%s unsupported",
                  ed_kernel_name((ed_kernel)k));
        }
    }
    setenv(ED_KERNEL_ENV, "", 1);
    CHECK(ed_model_load(&m, blob, len) == ED_OK && m.kernel == (uint32_t)ed_kernel_best(),
          "empty EDGEDIGITS_KERNEL means the best kernel");
    if (old != NULL) {
        setenv(ED_KERNEL_ENV, saved, 1);
    } else {
        unsetenv(ED_KERNEL_ENV);
    }
}

/* Check one golden file; returns 0 if it could not be read (counted as a failure). */
static int check_golden(const char *path, int first)
{
    size_t len, i;
    uint8_t *file = read_file(path, &len);
    cursor c;
    const uint8_t *name, *blob, *images, *acc[ED_MAX_LAYERS], *hid[ED_MAX_LAYERS], *logits,
        *logp, *pred;
    uint32_t version, fmt, lut_crc, name_len, blob_len, n, n_layers, n_out[ED_MAX_LAYERS], l, k;
    ed_model model;
    ed_status st;
    uint8_t *scratch;
    int pass;
    unsigned long before = g_failures;

    if (file == NULL) {
        CHECK(0, "cannot read golden file %s; make it with `python tools/make_golden.py DIR`", path);
        return 0;
    }
    c.p = file;
    c.end = file + len;
    c.ok = 1;
    if (len < 8u || memcmp(file, GOLDEN_MAGIC, 4) != 0) {
        CHECK(0, "%s is not a golden file (magic \"%s\"); " GOLDEN_HINT, path, GOLDEN_MAGIC);
        free(file);
        return 0;
    }
    take(&c, 4);
    version = take_u32(&c);
    fmt = take_u32(&c);
    lut_crc = take_u32(&c);
    if (version != GOLDEN_VERSION || fmt != ED_FORMAT_VERSION ||
        lut_crc != ed_crc32(ed_sigmoid_lut(), ED_SIGMOID_LUT_SIZE)) {
        CHECK(0, "%s is stale (golden version %u, model format %u, sigmoid table CRC 0x%08x; this "
                 "runner reads %u, %u, 0x%08x): " GOLDEN_HINT,
              path, (unsigned)version, (unsigned)fmt, (unsigned)lut_crc, GOLDEN_VERSION,
              ED_FORMAT_VERSION, (unsigned)ed_crc32(ed_sigmoid_lut(), ED_SIGMOID_LUT_SIZE));
        free(file);
        return 0;
    }
    if (ed_crc32(file, len - 4u) != ed_rd_u32(file + len - 4u)) {
        CHECK(0, "%s: CRC mismatch, the file is corrupted: " GOLDEN_HINT, path);
        free(file);
        return 0;
    }
    name_len = take_u32(&c);
    name = take(&c, pad4(name_len));
    blob_len = take_u32(&c);
    blob = take(&c, pad4(blob_len));
    n = take_u32(&c);
    n_layers = take_u32(&c);
    if (!c.ok || n_layers == 0u || n_layers > ED_MAX_LAYERS || n > 100000u) {
        CHECK(0, "%s: malformed header: " GOLDEN_HINT, path);
        free(file);
        return 0;
    }
    for (l = 0; l < n_layers; l++) {
        n_out[l] = take_u32(&c);
        if (n_out[l] > ED_MAX_WIDTH) {
            c.ok = 0;
        }
    }
    images = take(&c, (size_t)n * ED_INPUT_SIZE);
    for (l = 0; l < n_layers; l++) {
        acc[l] = take(&c, (size_t)n * n_out[l] * 4u);
    }
    for (l = 0; l + 1u < n_layers; l++) {
        hid[l] = take(&c, pad4((size_t)n * n_out[l]));
    }
    logits = take(&c, (size_t)n * n_out[n_layers - 1u] * 4u);
    logp = take(&c, (size_t)n * n_out[n_layers - 1u] * 4u);
    pred = take(&c, (size_t)n * 4u);
    if (!c.ok || (size_t)(c.end - c.p) != 4u) {
        CHECK(0, "%s: sections do not match the header: " GOLDEN_HINT, path);
        free(file);
        return 0;
    }

    if (first) {
        check_env_kernel(blob, blob_len);
    }
    st = ed_model_load(&model, blob, blob_len);
    CHECK(st == ED_OK, "%s: model does not load: %s", path, ed_status_str(st));
    if (st != ED_OK || model.n_layers != n_layers) {
        free(file);
        return 0;
    }
    scratch = malloc(ed_batch_scratch_size(&model) + 1u);
    CHECK(ed_forward_u8(&model, images, NULL, NULL, NULL, scratch,
                        ed_scratch_size(&model) == 0u ? 0u : ed_scratch_size(&model) - 1u) ==
              (model.max_hidden > 0u ? ED_ERR_BUFFER : ED_OK),
          "scratch one byte too small");
    for (k = 0; k < (unsigned)ED_KERNEL_COUNT; k++) {
        unsigned long kfail = g_failures;
        int32_t *out_logits, *out_pred;
        float *out_logp;
        if (ed_model_set_kernel(&model, (ed_kernel)k) != ED_OK) {
            continue;
        }
        /* layer by layer: accumulators and hidden activations */
        for (i = 0; i < n; i++) {
            uint8_t hbuf[2][ED_MAX_WIDTH];
            int32_t a[ED_MAX_WIDTH];
            const uint8_t *in = images + i * ED_INPUT_SIZE;
            for (l = 0; l < n_layers; l++) {
                const ed_layer *layer = &model.layers[l];
                const int conv = layer->activation == ED_ACT_CONV_SIGMOID;
                uint32_t o;
                if (conv) { /* accumulators with the bias, and the sigmoid, in one call */
                    ed_conv_sigmoid_u8(layer, in, a, hbuf[l & 1u]);
                } else {
                    ed_matvec_s8_kernel((ed_kernel)k, layer->weights, in, layer->n_in, layer->n_out, a);
                }
                for (o = 0; o < layer->n_out; o++) {
                    const int32_t want = ed_rd_i32(acc[l] + 4u * ((size_t)i * n_out[l] + o));
                    a[o] += conv ? 0 : ed_rd_i32(layer->bias + 4u * o);
                    CHECK(a[o] == want, "%s kernel %s image %lu layer %u acc[%u] = %ld, expected %ld",
                          path, ed_kernel_name((ed_kernel)k), (unsigned long)i, (unsigned)l,
                          (unsigned)o, (long)a[o], (long)want);
                }
                if (l + 1u < n_layers) {
                    if (!conv) {
                        ed_sigmoid_u8(layer, a, hbuf[l & 1u]);
                    }
                    CHECK(memcmp(hbuf[l & 1u], hid[l] + (size_t)i * n_out[l], n_out[l]) == 0,
                          "%s kernel %s image %lu layer %u: hidden activations differ", path,
                          ed_kernel_name((ed_kernel)k), (unsigned long)i, (unsigned)l);
                    in = hbuf[l & 1u];
                }
            }
        }
        /* the whole forward pass, as a batch: with the single-image scratch (one image at a
         * time) and with the batch scratch (ED_BATCH_LANES images per pass where the kernel
         * has a batched form); n is not a multiple of the lanes, so both paths run. */
        out_logits = malloc((size_t)n * model.n_classes * sizeof(int32_t) + 1u);
        out_logp = malloc((size_t)n * model.n_classes * sizeof(float) + 1u);
        out_pred = malloc((size_t)n * sizeof(int32_t) + 1u);
        for (pass = 0; pass < 2; pass++) {
            const size_t slen = pass == 0 ? ed_scratch_size(&model) : ed_batch_scratch_size(&model);
            st = ed_forward_batch_u8(&model, images, n, ED_INPUT_SIZE, out_logits, out_logp,
                                     out_pred, scratch, slen);
            CHECK(st == ED_OK, "%s: forward pass: %s", path, ed_status_str(st));
            for (i = 0; st == ED_OK && i < (size_t)n * model.n_classes; i++) {
                const float want = rd_f32(logp + 4u * i);
                const double diff = fabs((double)out_logp[i] - (double)want);
                CHECK(out_logits[i] == ed_rd_i32(logits + 4u * i),
                      "%s kernel %s scratch %lu logit %lu: %ld != %ld", path,
                      ed_kernel_name((ed_kernel)k), (unsigned long)slen, (unsigned long)i,
                      (long)out_logits[i], (long)ed_rd_i32(logits + 4u * i));
                CHECK(diff <= 1e-5 * (fabs((double)want) > 1.0 ? fabs((double)want) : 1.0),
                      "%s kernel %s log_proba %lu: %g != %g", path, ed_kernel_name((ed_kernel)k),
                      (unsigned long)i, (double)out_logp[i], (double)want);
            }
            for (i = 0; st == ED_OK && i < n; i++) {
                CHECK(out_pred[i] == ed_rd_i32(pred + 4u * i), "%s kernel %s pred %lu", path,
                      ed_kernel_name((ed_kernel)k), (unsigned long)i);
            }
        }
        free(out_logits);
        free(out_logp);
        free(out_pred);
        printf("  %-28.*s kernel %-9s %4u images: %s\n", (int)name_len, (const char *)name,
               ed_kernel_name((ed_kernel)k), (unsigned)n, g_failures == kfail ? "bit-exact" : "MISMATCH");
    }
    free(scratch);
    check_hostile(blob, blob_len, 0x51u + blob_len);
    free(file);
    return g_failures == before;
}

int main(int argc, char **argv)
{
    int i;
    unsigned k;
    printf("ed_test: kernels supported here:");
    for (k = 0; k < (unsigned)ED_KERNEL_COUNT; k++) {
        if (ed_kernel_supported((ed_kernel)k)) {
            printf(" %s", ed_kernel_name((ed_kernel)k));
        }
    }
    printf(" (best: %s)\n", ed_kernel_name(ed_kernel_best()));
    check_names();
    check_kernels();
    check_requantize();
    for (i = 1; i < argc; i++) {
        check_golden(argv[i], i == 1);
    }
    printf("ed_test: %lu checks, %lu failures, %d golden files\n", g_checks, g_failures, argc - 1);
    return g_failures == 0u ? 0 : 1;
}
