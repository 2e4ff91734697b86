/* Run-time version of the library. */
#include "hwnas/version.h"

unsigned hwnas_version_number(void) { return HWNAS_VERSION_NUMBER; }

const char *hwnas_version_string(void) { return HWNAS_VERSION_STRING; }
