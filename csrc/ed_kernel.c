/*
 * ed_kernel.c - run-time choice of the int8 matvec kernel.
 *
 * Nothing is cached in globals: ed_model_load resolves the kernel once per model into
 * ed_model.kernel, and the forward pass maps that id to a function through a switch. CPU
 * feature queries (cpuid via __builtin_cpu_supports, getauxval) are read-only and cheap.
 */
#include "ed_internal.h"

#include <stdlib.h>
#include <string.h>

static const char *const ed_kernel_names[ED_KERNEL_COUNT] = {
    "portable", "avx2", "vnni", "neon", "neon_dot",
};

const char *ed_kernel_name(ed_kernel kernel)
{
    if ((unsigned)kernel >= (unsigned)ED_KERNEL_COUNT) {
        return "unknown";
    }
    return ed_kernel_names[kernel];
}

ed_matvec_fn ed_kernel_fn(uint32_t kernel)
{
    switch (kernel) {
#ifdef ED_HAVE_X86
    case ED_KERNEL_AVX2:
        return ed_matvec_s8_avx2;
    case ED_KERNEL_VNNI:
        return ed_matvec_s8_vnni;
#endif
#ifdef ED_HAVE_NEON
    case ED_KERNEL_NEON:
        return ed_matvec_s8_neon;
#endif
#ifdef ED_HAVE_NEON_DOT
    case ED_KERNEL_NEON_DOT:
        return ed_matvec_s8_neon_dot;
#endif
    default:
        return ed_matvec_s8;
    }
}

ed_matmat_fn ed_kernel_batch_fn(uint32_t kernel)
{
#ifdef ED_HAVE_X86
    if (kernel == ED_KERNEL_AVX2) {
        return ed_matmat_s8_avx2;
    }
    if (kernel == ED_KERNEL_VNNI) {
        return ed_matmat_s8_vnni;
    }
#endif
#if defined(ED_HAVE_NEON) && defined(__aarch64__)
    if (kernel == ED_KERNEL_NEON) {
        return ed_matmat_s8_neon;
    }
#endif
#ifdef ED_HAVE_NEON_DOT
    if (kernel == ED_KERNEL_NEON_DOT) {
        return ed_matmat_s8_neon_dot;
    }
#endif
    (void)kernel;
    return NULL;
}

ed_conv_fn ed_kernel_conv_fn(uint32_t kernel)
{
#ifdef ED_HAVE_X86
    if (kernel == ED_KERNEL_AVX2) {
        return ed_conv_sigmoid_u8_avx2;
    }
    if (kernel == ED_KERNEL_VNNI) {
        return ed_conv_sigmoid_u8_vnni;
    }
#endif
#ifdef ED_HAVE_NEON
    if (kernel == ED_KERNEL_NEON || kernel == ED_KERNEL_NEON_DOT) {
        return ed_conv_sigmoid_u8_neon;
    }
#endif
    (void)kernel;
    return ed_conv_sigmoid_u8;
}

ed_finish_fn ed_kernel_finish_fn(uint32_t kernel)
{
#ifdef ED_HAVE_X86
    if (kernel == ED_KERNEL_VNNI) { /* the vnni CPU check includes AVX-512F */
        return ed_finish_rows_avx512;
    }
#endif
    (void)kernel;
    return ed_finish_rows;
}

int ed_kernel_supported(ed_kernel kernel)
{
    switch (kernel) {
    case ED_KERNEL_PORTABLE:
        return 1;
#ifdef ED_HAVE_X86
    case ED_KERNEL_AVX2:
        return ed_cpu_has_avx2();
    case ED_KERNEL_VNNI:
        return ed_cpu_has_vnni();
#endif
#ifdef ED_HAVE_NEON
    case ED_KERNEL_NEON:
        return ed_cpu_has_neon();
#endif
#ifdef ED_HAVE_NEON_DOT
    case ED_KERNEL_NEON_DOT:
        return ed_cpu_has_neon_dot();
#endif
    default:
        return 0;
    }
}

ed_kernel ed_kernel_best(void)
{
    /* fastest first */
    static const ed_kernel order[] = {ED_KERNEL_VNNI, ED_KERNEL_AVX2, ED_KERNEL_NEON_DOT,
                                      ED_KERNEL_NEON};
    size_t i;
    for (i = 0; i < sizeof order / sizeof order[0]; i++) {
        if (ed_kernel_supported(order[i])) {
            return order[i];
        }
    }
    return ED_KERNEL_PORTABLE;
}

ed_status ed_kernel_select(ed_kernel *kernel)
{
    const char *name;
    unsigned k;
    if (kernel == NULL) {
        return ED_ERR_NULL;
    }
    *kernel = ed_kernel_best();
#ifndef ED_NO_GETENV
    name = getenv(ED_KERNEL_ENV);
#else
    name = NULL;
#endif
    if (name == NULL || name[0] == '\0') {
        return ED_OK;
    }
    for (k = 0; k < (unsigned)ED_KERNEL_COUNT; k++) {
        if (strcmp(name, ed_kernel_names[k]) == 0) {
            if (!ed_kernel_supported((ed_kernel)k)) {
                return ED_ERR_KERNEL;
            }
            *kernel = (ed_kernel)k;
            return ED_OK;
        }
    }
    return ED_ERR_KERNEL;
}

ed_status ed_model_set_kernel(ed_model *model, ed_kernel kernel)
{
    if (model == NULL) {
        return ED_ERR_NULL;
    }
    if (!ed_kernel_supported(kernel)) {
        return ED_ERR_KERNEL;
    }
    model->kernel = (uint32_t)kernel;
    return ED_OK;
}

ed_status ed_matvec_s8_kernel(ed_kernel kernel, const int8_t *w, const uint8_t *x, uint32_t n_in,
                              uint32_t n_rows, int32_t *out)
{
    if (n_rows > 0u && (w == NULL || x == NULL || out == NULL)) {
        return ED_ERR_NULL;
    }
    if (n_in > ED_MAX_WIDTH) {
        return ED_ERR_DIMS;
    }
    if (!ed_kernel_supported(kernel)) {
        return ED_ERR_KERNEL;
    }
    if (n_rows > 0u) {
        ed_kernel_fn((uint32_t)kernel)(w, x, n_in, n_rows, out);
    }
    return ED_OK;
}
