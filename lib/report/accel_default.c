/*
 * The accelerator estimator:accelerator prices on when it names no file.
 * Apart from html.c because lib/accel's and lib/search's internal headers
 * both name a hwnas__objective.
 */
#include "accel/accel_internal.h"
#include "hwnas/accel.h"
#include "report_internal.h"

int hwnas__report_default_accel(hwnas_accel **out, hwnas_context *ctx, const char *axmul_dir)
{
    return hwnas_accel_parse(out, ctx, hwnas__accel_builtin("eyeriss-45nm-int8"),
                             "<built-in eyeriss-45nm-int8>", axmul_dir);
}
