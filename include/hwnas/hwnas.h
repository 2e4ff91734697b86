/*
 * libhwnas - hardware-aware neural architecture search in C.
 *
 * The umbrella header: includes every public header. See README.md and
 * doc/ for the architecture; each header is the manual of its part.
 */
#ifndef HWNAS_H
#define HWNAS_H

#include "export.h"
#include "version.h"
#include "error.h"
#include "options.h"
#include "context.h"
#include "rng.h"
#include "net.h"
#include "axmul.h"
#include "accel.h"
#include "data.h"
#include "model.h"
#include "quant.h"
#include "supernet.h"
#include "dsearch.h"
#include "pareto.h"
#include "space.h"
#include "strategy.h"
#include "estimator.h"
#include "latency_lut.h"
#include "plugin.h"
#include "predict.h"
#include "search.h"
#include "onnx.h"

#endif /* HWNAS_H */
