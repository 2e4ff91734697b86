/* Fuzz target for the IDX reader (hwnas_idx_parse): any bytes must give
 * either a valid array whose every element can be read, or an error with a
 * message; never a crash or a leak. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <hwnas/hwnas.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hwnas_context *ctx = NULL;
    if (hwnas_context_new(&ctx, "threads=1") != HWNAS_OK)
        return 0;
    hwnas_idx *idx = NULL;
    if (hwnas_idx_parse(&idx, ctx, data, size, "fuzz") == HWNAS_OK) {
        size_t n = hwnas_idx_size(idx), items = hwnas_idx_dim(idx, 0);
        size_t prod = 1;
        for (size_t i = 0; i < hwnas_idx_rank(idx); i++)
            prod *= hwnas_idx_dim(idx, i);
        if (prod != n || (n > 0 && !hwnas_idx_data(idx)))
            __builtin_trap();
        double buf[64];
        size_t first = n > 64 ? n - 64 : 0;
        if (hwnas_idx_get_double(buf, idx, first, n - first) != HWNAS_OK)
            __builtin_trap();
        /* Small labelled sets also go through the dataset path. */
        if (hwnas_idx_rank(idx) >= 2 && items > 0 && n / items > 0 && n <= 4096) {
            float img[4096];
            int32_t lab[4096];
            size_t per = n / items;
            for (size_t i = 0; i < n; i++) {
                double v;
                hwnas_idx_get_double(&v, idx, i, 1);
                img[i] = v == v && v < 1e30 && v > -1e30 ? (float)v : 0.0f;
            }
            for (size_t i = 0; i < items; i++)
                lab[i] = (int32_t)(i % 3);
            hwnas_dataset *ds = NULL, *tr = NULL, *va = NULL;
            if (hwnas_dataset_from_float(&ds, ctx, img, lab, items, 1, 1, per, 0) == HWNAS_OK) {
                if (hwnas_dataset_split(&tr, &va, ds, 0.5, HWNAS_DATASET_STRATIFIED, size) ==
                    HWNAS_OK) {
                    size_t p = 0;
                    hwnas_dataset_batch_augment(img, lab, va, &p, 1, per > 2 ? 2 : 0, 0.5, 1, 2);
                }
            }
            hwnas_dataset_free(va);
            hwnas_dataset_free(tr);
            hwnas_dataset_free(ds);
        }
    }
    if (!idx && hwnas_error_last()[0] == '\0')
        __builtin_trap(); /* every failure explains itself */
    hwnas_idx_free(idx);
    hwnas_context_free(ctx);
    return 0;
}
