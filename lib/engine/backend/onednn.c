/* The oneDNN backend (meson feature onednn). */
#include "backend.h"

#ifndef HWNAS_HAVE_ONEDNN

const hwnas__backend_ops *hwnas__backend_onednn(void)
{
    return NULL;
}

#endif
