/* The registry of built-in kinds: every part's kinds, listed in one place
 * at the top of the library so that core depends on no part above it.
 * Add a new space, strategy or estimator here. */
#include "core/core_internal.h"

extern const hwnas__kind hwnas__context_kind;
extern const hwnas__kind hwnas__space_cell_kind;
extern const hwnas__kind hwnas__space_cgp_kind;
extern const hwnas__kind hwnas__space_macro_kind;
extern const hwnas__kind hwnas__space_accelerator_kind;
extern const hwnas__kind hwnas__space_cell_accel_kind, hwnas__space_cgp_accel_kind,
    hwnas__space_macro_accel_kind;
extern const hwnas__kind hwnas__codesign_kind;
extern const hwnas__kind hwnas__prune_kind;
extern const hwnas__kind hwnas__strategy_random_kind, hwnas__strategy_ea_kind,
    hwnas__strategy_nsga2_kind, hwnas__strategy_reinforce_kind;
extern const hwnas__kind hwnas__search_kind;
extern const hwnas__kind hwnas__predictor_mlp_kind, hwnas__predictor_gbrt_kind,
    hwnas__predictor_gp_kind;
extern const hwnas__kind hwnas__model_kind;
extern const hwnas__kind hwnas__quant_kind, hwnas__quant_finetune_kind;
extern const hwnas__kind hwnas__estimator_cost_kind;
extern const hwnas__kind hwnas__estimator_table_kind;
extern const hwnas__kind hwnas__estimator_accuracy_kind, hwnas__estimator_energy_kind;
extern const hwnas__kind hwnas__estimator_latency_lut_kind;
extern const hwnas__kind hwnas__estimator_latency_model_kind;
extern const hwnas__kind hwnas__estimator_accelerator_kind;
extern const hwnas__kind hwnas__estimator_predictor_kind;
extern const hwnas__kind hwnas__estimator_zero_cost_kind;
extern const hwnas__kind hwnas__estimator_supernet_kind;
extern const hwnas__kind hwnas__supernet_cell_kind, hwnas__supernet_macro_kind,
    hwnas__supernet_cgp_kind,
    hwnas__supernet_train_kind;
extern const hwnas__kind hwnas__dsearch_kind;
extern const hwnas__kind hwnas__accel_kind;
extern const hwnas__kind hwnas__dataset_fashion_mnist_kind, hwnas__dataset_idx_kind;

const hwnas__kind *const hwnas__builtin_kinds[] = {
    &hwnas__context_kind,
    &hwnas__space_cell_kind,
    &hwnas__space_cgp_kind,
    &hwnas__space_macro_kind,
    &hwnas__space_accelerator_kind,
    &hwnas__space_cell_accel_kind,
    &hwnas__space_cgp_accel_kind,
    &hwnas__space_macro_accel_kind,
    &hwnas__strategy_random_kind,
    &hwnas__strategy_ea_kind,
    &hwnas__strategy_nsga2_kind,
    &hwnas__strategy_reinforce_kind,
    &hwnas__search_kind,
    &hwnas__predictor_mlp_kind,
    &hwnas__predictor_gbrt_kind,
    &hwnas__predictor_gp_kind,
    &hwnas__codesign_kind,
    &hwnas__prune_kind,
    &hwnas__model_kind,
    &hwnas__quant_kind,
    &hwnas__quant_finetune_kind,
    &hwnas__estimator_cost_kind,
    &hwnas__estimator_table_kind,
    &hwnas__estimator_accuracy_kind,
    &hwnas__estimator_energy_kind,
    &hwnas__estimator_latency_lut_kind,
    &hwnas__estimator_latency_model_kind,
    &hwnas__estimator_accelerator_kind,
    &hwnas__estimator_predictor_kind,
    &hwnas__estimator_zero_cost_kind,
    &hwnas__estimator_supernet_kind,
    &hwnas__supernet_cell_kind,
    &hwnas__supernet_macro_kind,
    &hwnas__supernet_cgp_kind,
    &hwnas__supernet_train_kind,
    &hwnas__dsearch_kind,
    &hwnas__accel_kind,
    &hwnas__dataset_fashion_mnist_kind,
    &hwnas__dataset_idx_kind,
};

const size_t hwnas__builtin_kind_count = HWNAS_ARRAY_SIZE(hwnas__builtin_kinds);
