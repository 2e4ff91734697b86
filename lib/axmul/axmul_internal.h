/*
 * libhwnas axmul - what the files of the multiplier part share.
 * Not installed; not part of the ABI.
 */
#ifndef HWNAS_AXMUL_INTERNAL_H
#define HWNAS_AXMUL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/core_internal.h"
#include "hwnas/axmul.h"

/* Longest name (bytes, without the NUL) and source of a multiplier. */
#define HWNAS__AXMUL_NAME_MAX 63
#define HWNAS__AXMUL_SOURCE_MAX 1023

struct hwnas_axmul {
    const hwnas_context *ctx;                   /* allocator owner */
    char *name;                                 /* valid name (hwnas__axmul_name_ok) */
    char *source;                               /* one line, never NULL */
    int32_t is_signed;                          /* 0 or 1 */
    uint64_t hash;                              /* hwnas__axmul_hash of the table */
    double power, area;                         /* relative to exact; NaN = unknown */
    double metrics[HWNAS_AXMUL_METRIC_COUNT];   /* computed at creation */
    int32_t *table;                             /* 65,536 products, a*256+b */
    uint16_t *table16;                          /* the same as 16-bit patterns */
    uint16_t *table16_t;                        /* transposed: b*256+a */
};

/* 1 if name is 1..63 characters of [A-Za-z0-9_.+:=,-], else 0. */
int hwnas__axmul_name_ok(const char *name);

/* 1 if source is one line of at most 1023 bytes without control
 * characters (tab allowed). */
int hwnas__axmul_source_ok(const char *source);

/*
 * Create a multiplier from table (65,536 int32 entries, already checked to
 * be in range for is_signed), computing the 16-bit copies, hash and
 * metrics. name and source are copied (source may be NULL: ""). Power and
 * area are NaN. Errors: HWNAS_ENOMEM.
 */
int hwnas__axmul_create(hwnas_axmul **out, const hwnas_context *ctx, const char *name,
                        const int32_t *table, int32_t is_signed, const char *source);

/* Fill metrics[HWNAS_AXMUL_METRIC_COUNT] for table. */
void hwnas__axmul_metrics(double *metrics, const int32_t *table, int32_t is_signed);

/* FNV-1a 64 of the table's 16-bit little-endian bytes, then the signedness. */
uint64_t hwnas__axmul_hash(const uint16_t *table16, int32_t is_signed);

/* 1 if name is a built-in family name or starts with "family:". */
int hwnas__axmul_is_builtin_name(const char *name);

/* The name a binary table gets from its path or origin: the base name
 * without directory and extensions (.bin, .gz, .axmul), characters outside
 * the name alphabet replaced by '_'; "table" if nothing is left. A name
 * longer than 63 characters keeps its first 54 and ends in '-' and 8 hex
 * digits of a hash of the whole base name, so long names stay distinct.
 * out has room for HWNAS__AXMUL_NAME_MAX + 1 bytes. */
void hwnas__axmul_name_from_path(char *out, const char *path);

#endif /* HWNAS_AXMUL_INTERNAL_H */
