/* Set-up shared by the engine's tests (fp32 training, int8, fine-tuning):
 * a small synthetic task and the Fashion-MNIST reference CNN. */
#ifndef HWNAS_ENGINE_FIXTURES_H
#define HWNAS_ENGINE_FIXTURES_H

#include <stddef.h>
#include <stdint.h>

#include "hwnas/hwnas.h"

/* xorshift64 of the tests: fx_seed restarts it; fx_rnd draws. */
void fx_seed(uint64_t state);
uint32_t fx_rnd(void);

/* A net with two folded batch-norms (after a conv and a dwconv), a grouped
 * conv with a bias and one without, a linear classifier; 2x9x9 inputs,
 * 4 classes. */
extern const char *const fx_small_net;

/* n samples of fx_small_net's shape: noise plus a class-dependent stripe
 * (learnable in a few epochs), labels s % 4. */
hwnas_dataset *fx_random_set(hwnas_context *ctx, size_t n, uint32_t seed);

/* fx_small_net, initialised with seed 3, trained on ds with options. */
hwnas_model *fx_small_model(hwnas_context *ctx, const hwnas_dataset *ds, const char *options);

/* The first n_train training and n_test test images of Fashion-MNIST
 * (standardised with the training subset's mean and deviation when
 * normalize), or 0 with a "skipped" line when it is not installed: the
 * caller then frees ctx and calls skip(). */
int fx_fashion_mnist(hwnas_context *ctx, size_t n_train, size_t n_test, int normalize,
                     hwnas_dataset **train, hwnas_dataset **test);

/* examples/nets/fmnist_ref.net, found through HWNAS_SOURCE_ROOT. */
hwnas_net *fx_reference_cnn(hwnas_context *ctx);

#endif
