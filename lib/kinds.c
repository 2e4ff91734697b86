/* The registry of built-in kinds: every part's kinds, listed in one place
 * at the top of the library so that core depends on no part above it.
 * Add a new space, strategy or estimator here. */
#include "core/core_internal.h"

extern const hwnas__kind hwnas__context_kind;
extern const hwnas__kind hwnas__space_cell_kind;
extern const hwnas__kind hwnas__estimator_cost_kind;
extern const hwnas__kind hwnas__estimator_table_kind;
extern const hwnas__kind hwnas__dataset_fashion_mnist_kind, hwnas__dataset_idx_kind;

const hwnas__kind *const hwnas__builtin_kinds[] = {
    &hwnas__context_kind,
    &hwnas__space_cell_kind,
    &hwnas__estimator_cost_kind,
    &hwnas__estimator_table_kind,
    &hwnas__dataset_fashion_mnist_kind,
    &hwnas__dataset_idx_kind,
};

const size_t hwnas__builtin_kind_count = HWNAS_ARRAY_SIZE(hwnas__builtin_kinds);
