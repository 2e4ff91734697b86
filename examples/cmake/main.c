/*
 * What this libhwnas is: its version, ABI and optional features, then a
 * network from the installed model zoo and its cost. Built by CMake
 * through pkg-config (see CMakeLists.txt).
 * Usage: features [NET.net]
 */
#include <stdio.h>

#include <hwnas/hwnas.h>

int main(int argc, char **argv)
{
    printf("libhwnas %s, ABI %u (libhwnas.so.%u), headers %s\n", hwnas_version_string(),
           hwnas_abi_version(), hwnas_abi_version(), HWNAS_VERSION_STRING);
    printf("features: %s\n", hwnas_build_features());
    if (argc < 2)
        return 0;
    hwnas_context *ctx;
    hwnas_net *net;
    int rc = hwnas_context_new(&ctx, "threads=1");
    if (rc != HWNAS_OK) {
        fprintf(stderr, "features: %s\n", hwnas_error_last());
        return 1;
    }
    rc = hwnas_net_load(&net, ctx, argv[1]);
    if (rc != HWNAS_OK) {
        fprintf(stderr, "features: %s\n", hwnas_error_last());
        hwnas_context_free(ctx);
        return 1;
    }
    printf("%s: %llu MACs, %llu parameters\n", argv[1], (unsigned long long)hwnas_net_macs(net),
           (unsigned long long)hwnas_net_params(net));
    hwnas_net_free(net);
    hwnas_context_free(ctx);
    return 0;
}
