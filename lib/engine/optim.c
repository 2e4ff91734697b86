/* SGD with momentum, Nesterov and weight decay; learning-rate schedules. */
#include <math.h>

#include "engine_internal.h"

void hwnas__sgd_step(float *w, float *v, const float *grad, size_t n, double lr,
                     double momentum, double weight_decay, int nesterov)
{
    float flr = (float)lr, mo = (float)momentum, wd = (float)weight_decay;
    for (size_t k = 0; k < n; k++) {
        float g = grad[k] + wd * w[k];
        if (mo != 0.0f) {
            v[k] = mo * v[k] + g;
            g = nesterov ? g + mo * v[k] : v[k];
        }
        w[k] -= flr * g;
    }
}

double hwnas__lr_at(double lr, int schedule, uint64_t t, uint64_t total, uint64_t warmup,
                    uint64_t step_every, double gamma)
{
    if (t < warmup)
        return lr * (double)(t + 1) / (double)warmup;
    switch (schedule) {
    case 1: { /* cosine from lr at the end of warm-up to 0 at the last step */
        double span = total > warmup ? (double)(total - warmup) : 1.0;
        double f = (double)(t - warmup) / span;
        return lr * 0.5 * (1.0 + cos(3.14159265358979323846 * (f < 1 ? f : 1)));
    }
    case 2:
        return step_every ? lr * pow(gamma, (double)((t - warmup) / step_every)) : lr;
    default:
        return lr;
    }
}
