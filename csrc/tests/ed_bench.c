/*
 * ed_bench.c - single-digit forward-pass timing per kernel, and the machine's int8 peak.
 *
 *   ed_bench MODEL.edm [REPEATS]
 *   ed_bench MODEL.edm --count N    (exactly N forward passes with the kernel ed_model_load
 *                                    chose, e.g. EDGEDIGITS_KERNEL=avx2; for valgrind/qemu
 *                                    instruction counts of ed_forward_u8)
 *   ed_bench MODEL.edm --count-batch N   (one ed_forward_batch_u8 call on N digits with the
 *                                    batch scratch: instructions per digit of the batch path)
 *
 * For every kernel this build and CPU support: ns per digit (clock_gettime, CLOCK_MONOTONIC;
 * best and median of 41 runs of REPEATS forward passes of one digit each; the best is the
 * figure least disturbed by other processes on a shared machine), and on x86 the same in TSC
 * cycles (rdtsc; the TSC ticks at the nominal frequency, measured here against the clock).
 * On x86 with AVX-512 VNNI it also measures the int8 peak: independent vpdpbusd in registers,
 * giving int8 MACs per TSC cycle, the compute limit the forward pass is compared with.
 * This is a benchmark, not a test: nothing here fails on a slow result.
 */
#define _POSIX_C_SOURCE 199309L
#include "edgedigits.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#include <x86intrin.h>
#define ED_BENCH_X86 1
#endif

#define BATCH 64
#define RUNS 41 /* short runs, best kept: a shared machine preempts long ones */

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static unsigned long long ticks(void)
{
#ifdef ED_BENCH_X86
    return __rdtsc();
#else
    return 0;
#endif
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static unsigned char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf;
    long n;
    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        if (f != NULL) {
            fclose(f);
        }
        return NULL;
    }
    buf = malloc((size_t)n + 1u);
    if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Multiply-accumulates of one layer (a convolution: each kernel at each window it computes). */
static double layer_macs(const ed_layer *l)
{
    if (l->activation == ED_ACT_CONV_SIGMOID) {
        const double windows = (double)l->side * l->pool;
        return windows * windows * l->kernel * l->kernel * l->channels;
    }
    return (double)l->n_in * (double)l->n_out;
}

/* Weight bytes a layer stores (a convolution's kernels once). */
static size_t layer_weight_bytes(const ed_layer *l)
{
    if (l->activation == ED_ACT_CONV_SIGMOID) {
        return (size_t)l->channels * l->kernel * l->kernel;
    }
    return (size_t)l->n_in * l->n_out;
}

#ifdef ED_BENCH_X86
/* 8 independent vpdpbusd chains (latency hidden), 64 MACs each per instruction. */
__attribute__((target("avx512f,avx512bw,avx512vnni"))) static double vnni_peak_macs_per_tick(void)
{
    const long iters = 200000L;
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0,
            a7 = a0;
    const __m512i x = _mm512_set1_epi8(3), w = _mm512_set1_epi8(-2);
    unsigned long long t0, t1, best = ~0ULL;
    long i;
    int r;
    int32_t sink[16];
    for (r = 0; r < RUNS; r++) {
    t0 = ticks();
    for (i = 0; i < iters; i++) {
        a0 = _mm512_dpbusd_epi32(a0, x, w);
        a1 = _mm512_dpbusd_epi32(a1, x, w);
        a2 = _mm512_dpbusd_epi32(a2, x, w);
        a3 = _mm512_dpbusd_epi32(a3, x, w);
        a4 = _mm512_dpbusd_epi32(a4, x, w);
        a5 = _mm512_dpbusd_epi32(a5, x, w);
        a6 = _mm512_dpbusd_epi32(a6, x, w);
        a7 = _mm512_dpbusd_epi32(a7, x, w);
        __asm__ volatile("" : "+v"(a0), "+v"(a1), "+v"(a2), "+v"(a3), "+v"(a4), "+v"(a5),
                         "+v"(a6), "+v"(a7));
    }
    t1 = ticks();
    best = t1 - t0 < best ? t1 - t0 : best;
    }
    a0 = _mm512_add_epi32(_mm512_add_epi32(_mm512_add_epi32(a0, a1), _mm512_add_epi32(a2, a3)),
                          _mm512_add_epi32(_mm512_add_epi32(a4, a5), _mm512_add_epi32(a6, a7)));
    _mm512_storeu_si512(sink, a0);
    if (sink[0] == 42) {
        puts("");
    }
    return (double)iters * 8.0 * 64.0 / (double)best;
}

/* The memory floor: stream every weight byte of the model once with 512-bit loads (what any
 * single-digit forward pass must at least do), best of RUNS, in TSC ticks per pass. */
__attribute__((target("avx512f,avx512bw"))) static double stream_weights_ticks(const ed_model *m,
                                                                              long repeats)
{
    double best = 1e30;
    int r;
    int32_t sink[16];
    __m512i acc = _mm512_setzero_si512();
    for (r = 0; r < RUNS; r++) {
        unsigned long long t0 = ticks();
        long j;
        for (j = 0; j < repeats; j++) {
            uint32_t l;
            for (l = 0; l < m->n_layers; l++) {
                const int8_t *w = m->layers[l].weights;
                const size_t n = layer_weight_bytes(&m->layers[l]);
                size_t i;
                for (i = 0; i + 64u <= n; i += 64u) {
                    acc = _mm512_or_si512(acc, _mm512_loadu_si512(w + i));
                }
            }
        }
        {
            const double t = (double)(ticks() - t0) / (double)repeats;
            best = t < best ? t : best;
        }
    }
    _mm512_storeu_si512(sink, acc);
    if (sink[0] == 42 && sink[1] == 42) {
        puts("");
    }
    return best;
}
#endif

int main(int argc, char **argv)
{
    size_t len = 0, scratch_len, batch_len;
    static uint8_t xs[BATCH * ED_INPUT_SIZE];
    static int32_t preds[BATCH];
    unsigned char *blob, *scratch;
    uint8_t x[ED_INPUT_SIZE];
    ed_model model;
    ed_status st;
    const int count_batch = argc > 3 && strcmp(argv[2], "--count-batch") == 0;
    const int count_only = count_batch || (argc > 3 && strcmp(argv[2], "--count") == 0);
    long repeats = count_only ? atol(argv[3]) : argc > 2 ? atol(argv[2]) : 0;
    double macs = 0.0, weight_bytes = 0.0, tick_per_ns = 0.0;
    unsigned k, i;

    if (argc < 2 || repeats < 0) {
        fprintf(stderr, "usage: %s MODEL.edm [REPEATS]\n", argv[0]);
        return 2;
    }
    blob = read_file(argv[1], &len);
    if (blob == NULL) {
        fprintf(stderr, "cannot read %s\n", argv[1]);
        return 2;
    }
    st = ed_model_load(&model, blob, len);
    if (st != ED_OK) {
        fprintf(stderr, "cannot load %s: %s\n", argv[1], ed_status_str(st));
        return 2;
    }
    for (i = 0; i < model.n_layers; i++) {
        macs += layer_macs(&model.layers[i]);
        weight_bytes += (double)layer_weight_bytes(&model.layers[i]);
    }
    if (repeats == 0) { /* default: runs of ~1 ms at the portable loop's speed or faster */
        repeats = macs > 2e5 ? 2 : (long)(4e5 / macs) + 1;
    }
    scratch_len = ed_scratch_size(&model);
    batch_len = ed_batch_scratch_size(&model);
    scratch = malloc(batch_len + 1u);
    /* a digit-like input: a bright ring on dark (timing depends on the values only where a
     * convolution skips zero pixels or windows without ink) */
    for (i = 0; i < ED_INPUT_SIZE; i++) {
        int r = (int)(i / 28u) - 14, c = (int)(i % 28u) - 14, d2 = r * r + c * c;
        x[i] = (uint8_t)(d2 > 25 && d2 < 64 ? 255 : 0);
    }
    if (count_only) {
        int32_t pred = 0;
        long j;
        if (count_batch) {
            for (j = 0; j < repeats && j < BATCH; j++) {
                memcpy(xs + (size_t)j * ED_INPUT_SIZE, x, ED_INPUT_SIZE);
            }
            repeats = repeats < BATCH ? repeats : BATCH;
            ed_forward_batch_u8(&model, xs, (size_t)repeats, ED_INPUT_SIZE, NULL, NULL, preds,
                                scratch, batch_len);
            pred = preds[0];
        }
        for (j = 0; !count_batch && j < repeats; j++) {
            ed_forward_u8(&model, x, NULL, NULL, &pred, scratch, scratch_len);
        }
        printf("kernel %s: %ld forward passes, %.0f MACs each, pred %d\n",
               ed_kernel_name((ed_kernel)model.kernel), repeats, macs, (int)pred);
        free(scratch);
        free(blob);
        return 0;
    }
    for (i = 0; i < BATCH * ED_INPUT_SIZE; i++) {
        xs[i] = x[i % ED_INPUT_SIZE];
    }
    printf("model %s: layers", argv[1]);
    for (i = 0; i < model.n_layers; i++) {
        printf(" %ux%u", (unsigned)model.layers[i].n_out, (unsigned)model.layers[i].n_in);
    }
    printf(", %.0f MACs per digit\n", macs);
    {
        /* TSC rate against the monotonic clock over ~0.2 s */
        double t0 = now_ns(), t1;
        unsigned long long c0 = ticks(), c1;
        do {
            t1 = now_ns();
        } while (t1 - t0 < 2e8);
        c1 = ticks();
        tick_per_ns = (double)(c1 - c0) / (t1 - t0);
        if (tick_per_ns > 0.0) {
            printf("TSC: %.3f GHz (nominal frequency; cycles below are TSC ticks)\n", tick_per_ns);
        }
    }
    for (k = 0; k < (unsigned)ED_KERNEL_COUNT; k++) {
        double ns[RUNS];
        long j;
        int32_t pred = 0;
        int r;
        if (ed_model_set_kernel(&model, (ed_kernel)k) != ED_OK) {
            continue;
        }
        for (j = 0; j < repeats / 10 + 1; j++) { /* warm caches */
            ed_forward_u8(&model, x, NULL, NULL, &pred, scratch, scratch_len);
        }
        for (r = 0; r < RUNS; r++) {
            double t0 = now_ns();
            for (j = 0; j < repeats; j++) {
                ed_forward_u8(&model, x, NULL, NULL, &pred, scratch, scratch_len);
            }
            ns[r] = (now_ns() - t0) / (double)repeats;
        }
        qsort(ns, RUNS, sizeof ns[0], cmp_double);
        printf("kernel %-9s best %9.1f ns/digit (median %9.1f)", ed_kernel_name((ed_kernel)k),
               ns[0], ns[RUNS / 2]);
        if (tick_per_ns > 0.0) {
            double cyc = ns[0] * tick_per_ns;
            printf("  %10.0f cycles/digit  %6.2f MACs/cycle", cyc, macs / cyc);
        }
        printf("  (pred %d)\n", (int)pred);
        { /* a batch of BATCH copies of the digit, with the batch scratch */
            double bns[RUNS];
            for (r = 0; r < RUNS; r++) {
                double t0 = now_ns();
                ed_forward_batch_u8(&model, xs, BATCH, ED_INPUT_SIZE, NULL, NULL, preds, scratch,
                                    batch_len);
                bns[r] = (now_ns() - t0) / (double)BATCH;
            }
            qsort(bns, RUNS, sizeof bns[0], cmp_double);
            printf("  batch of %d: best %9.1f ns/digit (median %9.1f)", BATCH, bns[0], bns[RUNS / 2]);
            if (tick_per_ns > 0.0) {
                printf("  %10.0f cycles/digit  %6.2f MACs/cycle", bns[0] * tick_per_ns,
                       macs / (bns[0] * tick_per_ns));
            }
            printf("\n");
        }
    }
#ifdef ED_BENCH_X86
    if (ed_kernel_supported(ED_KERNEL_VNNI)) {
        double peak = vnni_peak_macs_per_tick();
        printf("vnni peak: %.1f int8 MACs per TSC cycle (independent vpdpbusd zmm in registers)\n",
               peak);
        printf("compute limit for this model: %.0f cycles = %.1f ns per digit\n", macs / peak,
               macs / peak / tick_per_ns);
        {
            const double t = stream_weights_ticks(&model, repeats);
            printf("memory floor: streaming the %.0f weight bytes once takes %.0f cycles = %.1f ns "
                   "(%.1f bytes per TSC cycle)\n", weight_bytes, t, t / tick_per_ns, weight_bytes / t);
        }
    }
#endif
    free(scratch);
    free(blob);
    return 0;
}
