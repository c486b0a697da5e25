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

/* Rows processed per block by the forward pass: accumulators live on the stack in blocks
 * of this many, so no caller buffer needs int32 alignment. */
#define ED_ROW_BLOCK 16u

/* out[r] = sum_i w[r * n_in + i] * x[i] for r < n_rows.
 * w: int8 [n_rows][n_in] row-major; x: uint8 [n_in]; out: int32 [n_rows]. */
void ed_matvec_s8(const int8_t *w, const uint8_t *x, uint32_t n_in, uint32_t n_rows, int32_t *out);

#endif /* ED_INTERNAL_H */
