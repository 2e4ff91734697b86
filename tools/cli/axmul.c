/* hwnas axmul: list, show, import and export approximate multipliers.
 *
 * Imported multipliers live as text files (NAME.axmul) in a store
 * directory: --dir DIR, else $HWNAS_AXMUL_DIR, else
 * $XDG_DATA_HOME/hwnas/axmul, else ~/.local/share/hwnas/axmul. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: hwnas axmul [--dir DIR] list\n"
            "       hwnas axmul [--dir DIR] show NAME|FILE\n"
            "       hwnas axmul [--dir DIR] import FILE [--name NAME] [--format F] [--signed]\n"
            "                   [--power REL] [--area REL] [--power-mw MW] [--area-um2 UM2]\n"
            "                   [--source TEXT]\n"
            "       hwnas axmul [--dir DIR] export NAME FILE [--format F]\n"
            "       hwnas axmul [--dir DIR] evaluate FILE.net [--weights F] [--epochs N]\n"
            "                   [--train-subset N] [--test-subset N] [--quant OPTS] [--csv F]\n"
            "                   [--svg F]\n"
            "NAME: an imported multiplier or a built-in spec (drum:k=4, bam:h=2,v=6, ...).\n"
            "FORMAT: auto, bin, bin-signed, text. --power-mw/--area-um2 are taken relative to\n"
            "the exact 8x8 multiplier of EvoApproxLib (0.391 mW, 709.6 um2).\n");
}

/* The store directory; "" when none can be named. -1 when it does not fit
 * in size bytes (a cut path would name another directory). */
static int store_dir(char *out, size_t size, const char *flag)
{
    const char *env = getenv("HWNAS_AXMUL_DIR"), *xdg = getenv("XDG_DATA_HOME"),
               *home = getenv("HOME");
    int n = 0;
    if (flag)
        n = snprintf(out, size, "%s", flag);
    else if (env && *env)
        n = snprintf(out, size, "%s", env);
    else if (xdg && *xdg)
        n = snprintf(out, size, "%s/hwnas/axmul", xdg);
    else if (home && *home)
        n = snprintf(out, size, "%s/.local/share/hwnas/axmul", home);
    else
        out[0] = 0;
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

static int mkdirs(const char *dir)
{
    char buf[1024];
    if ((size_t)snprintf(buf, sizeof buf, "%s", dir) >= sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(buf, 0755) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return mkdir(buf, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

/* A registry with the store's multipliers (a missing store is empty). */
static int open_registry(hwnas_context *ctx, const char *dir, hwnas_axmul_registry **reg)
{
    int rc = hwnas_axmul_registry_new(reg, ctx);
    if (rc != HWNAS_OK)
        return cli_fail("axmul", rc);
    struct stat st;
    if (dir[0] && stat(dir, &st) == 0) {
        rc = hwnas_axmul_registry_load_dir(*reg, dir, NULL);
        if (rc != HWNAS_OK) {
            hwnas_axmul_registry_free(*reg);
            *reg = NULL;
            return cli_fail("axmul store", rc);
        }
    }
    return CLI_OK;
}

static void print_cost(const char *label, double v)
{
    if (isnan(v))
        printf("%-10s unknown\n", label);
    else
        printf("%-10s %.4f\n", label, v);
}

static void show(const hwnas_axmul *m)
{
    printf("name       %s\n", hwnas_axmul_name(m));
    printf("signed     %d\n", (int)hwnas_axmul_is_signed(m));
    printf("source     %s\n", hwnas_axmul_source(m));
    printf("hash       %016llx\n", (unsigned long long)hwnas_axmul_hash(m));
    print_cost("power", hwnas_axmul_power(m));
    print_cost("area", hwnas_axmul_area(m));
    for (int32_t i = 0; i < HWNAS_AXMUL_METRIC_COUNT; i++)
        printf("%-10s %.6g\n", hwnas_axmul_metric_name(i), hwnas_axmul_metric(m, i));
}

static int cmd_list(hwnas_axmul_registry *reg)
{
    printf("%-24s %-6s %-7s %-7s %-10s %-9s %-8s %s\n", "name", "signed", "power", "area",
           "mae_pct", "wce_pct", "ep_pct", "kind");
    size_t n = hwnas_axmul_registry_count(reg), nb = hwnas_axmul_builtin_count();
    for (size_t i = 0; i < n; i++) {
        const hwnas_axmul *m;
        int rc = hwnas_axmul_registry_get(&m, reg, hwnas_axmul_registry_name(reg, i));
        if (rc != HWNAS_OK)
            return cli_fail("axmul list", rc);
        char pw[16], ar[16];
        snprintf(pw, sizeof pw, isnan(hwnas_axmul_power(m)) ? "-" : "%.4f", hwnas_axmul_power(m));
        snprintf(ar, sizeof ar, isnan(hwnas_axmul_area(m)) ? "-" : "%.4f", hwnas_axmul_area(m));
        printf("%-24s %-6d %-7s %-7s %-10.4g %-9.4g %-8.4g %s\n", hwnas_axmul_name(m),
               (int)hwnas_axmul_is_signed(m), pw, ar,
               hwnas_axmul_metric(m, HWNAS_AXMUL_MAE_PCT),
               hwnas_axmul_metric(m, HWNAS_AXMUL_WCE_PCT),
               hwnas_axmul_metric(m, HWNAS_AXMUL_EP_PCT), i < nb ? "builtin" : "imported");
    }
    printf("\nfamilies (any parameters: NAME:key=value,...):\n");
    for (size_t i = 0; i < hwnas_axmul_family_count(); i++)
        printf("  %-9s %s\n", hwnas_axmul_family_name(i), hwnas_axmul_family_help(i));
    return CLI_OK;
}

static int is_file_arg(const char *s)
{
    struct stat st;
    return strchr(s, '/') || (stat(s, &st) == 0 && S_ISREG(st.st_mode));
}

static int cmd_show(hwnas_context *ctx, hwnas_axmul_registry *reg, const char *name)
{
    if (is_file_arg(name)) {
        hwnas_axmul *m;
        int rc = hwnas_axmul_load(&m, ctx, name, NULL);
        if (rc != HWNAS_OK)
            return cli_fail("axmul show", rc);
        show(m);
        hwnas_axmul_free(m);
        return CLI_OK;
    }
    const hwnas_axmul *m;
    int rc = hwnas_axmul_registry_get(&m, reg, name);
    if (rc != HWNAS_OK)
        return cli_fail("axmul show", rc);
    show(m);
    return CLI_OK;
}

/* Power and area: finite, >= 0, and at most 1e9 (in mW, um^2 or relative
 * to the exact multiplier), so that the conversions below stay finite. */
static int number(const char *flag, const char *s, double *out)
{
    return cli_parse_real("axmul import", flag, s, 0, 1e9, 0, 0, out);
}

static int cmd_import(hwnas_context *ctx, hwnas_axmul_registry *reg, const char *dir, int argc,
                      char **argv)
{
    const char *file = NULL, *name = NULL, *format = NULL, *source = NULL;
    double power = NAN, area = NAN, v;
    int is_signed = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int has = i + 1 < argc;
        if (strcmp(a, "--signed") == 0)
            is_signed = 1;
        else if (strcmp(a, "--name") == 0 && has)
            name = argv[++i];
        else if (strcmp(a, "--format") == 0 && has)
            format = argv[++i];
        else if (strcmp(a, "--source") == 0 && has)
            source = argv[++i];
        else if ((strcmp(a, "--power") == 0 || strcmp(a, "--power-mw") == 0) && has) {
            if (!number(a, argv[++i], &v))
                return CLI_USAGE;
            power = strcmp(a, "--power") == 0 ? v : v / 0.391;
        } else if ((strcmp(a, "--area") == 0 || strcmp(a, "--area-um2") == 0) && has) {
            if (!number(a, argv[++i], &v))
                return CLI_USAGE;
            area = strcmp(a, "--area") == 0 ? v : v / 709.6;
        } else if (a[0] != '-' && !file)
            file = a;
        else {
            fprintf(stderr, "hwnas axmul import: bad argument '%s'\n", a);
            usage(stderr);
            return CLI_USAGE;
        }
    }
    if (!file) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (!dir[0]) {
        fprintf(stderr, "hwnas axmul import: no store directory (give --dir or set HOME)\n");
        return CLI_FAIL;
    }
    if (is_signed && (!format || strcmp(format, "bin") == 0 || strcmp(format, "auto") == 0))
        format = "bin-signed";
    hwnas_axmul *m;
    int rc = hwnas_axmul_load(&m, ctx, file, format);
    if (rc == HWNAS_OK && name)
        rc = hwnas_axmul_set_name(m, name);
    if (rc == HWNAS_OK && source)
        rc = hwnas_axmul_set_source(m, source);
    if (rc == HWNAS_OK && (!isnan(power) || !isnan(area)))
        rc = hwnas_axmul_set_cost(m, isnan(power) ? hwnas_axmul_power(m) : power,
                                  isnan(area) ? hwnas_axmul_area(m) : area);
    if (rc != HWNAS_OK) {
        hwnas_axmul_free(m);
        return cli_fail("axmul import", rc);
    }
    /* Refuse reserved and taken names before writing anything. */
    rc = hwnas_axmul_registry_add(reg, m);
    if (rc != HWNAS_OK) {
        hwnas_axmul_free(m);
        return cli_fail("axmul import", rc);
    }
    char path[2048];
    if ((size_t)snprintf(path, sizeof path, "%s/%s.axmul", dir, hwnas_axmul_name(m)) >=
        sizeof path) {
        fprintf(stderr, "hwnas axmul import: the store directory's path is too long (%zu "
                "bytes)\n", strlen(dir));
        return CLI_FAIL;
    }
    if (mkdirs(dir) != 0) {
        fprintf(stderr, "hwnas axmul import: cannot create '%s': %s\n", dir, strerror(errno));
        return CLI_FAIL;
    }
    rc = hwnas_axmul_save(m, path, "text");
    if (rc != HWNAS_OK)
        return cli_fail("axmul import", rc);
    printf("imported %s as '%s' (%s)\n", file, hwnas_axmul_name(m), path);
    return CLI_OK;
}

static int cmd_export(hwnas_axmul_registry *reg, int argc, char **argv)
{
    const char *format = NULL;
    const char *pos[2] = {NULL, NULL};
    int np = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--format") == 0 && i + 1 < argc)
            format = argv[++i];
        else if (argv[i][0] != '-' && np < 2)
            pos[np++] = argv[i];
        else {
            fprintf(stderr, "hwnas axmul export: bad argument '%s'\n", argv[i]);
            usage(stderr);
            return CLI_USAGE;
        }
    }
    if (np != 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    const hwnas_axmul *m;
    int rc = hwnas_axmul_registry_get(&m, reg, pos[0]);
    if (rc == HWNAS_OK)
        rc = hwnas_axmul_save(m, pos[1], format);
    if (rc != HWNAS_OK)
        return cli_fail("axmul export", rc);
    printf("wrote '%s' to %s\n", hwnas_axmul_name(m), pos[1]);
    return CLI_OK;
}

int cli_axmul(hwnas_context *ctx, int argc, char **argv)
{
    const char *dir_flag = NULL;
    int i = 0;
    while (i < argc && argv[i][0] == '-') {
        if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
            dir_flag = argv[i + 1];
            i += 2;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return CLI_OK;
        } else {
            fprintf(stderr, "hwnas axmul: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return CLI_USAGE;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return CLI_USAGE;
    }
    const char *cmd = argv[i++];
    int known = strcmp(cmd, "list") == 0 || strcmp(cmd, "show") == 0 ||
                strcmp(cmd, "import") == 0 || strcmp(cmd, "export") == 0 ||
                strcmp(cmd, "evaluate") == 0;
    if (!known) {
        fprintf(stderr, "hwnas axmul: unknown command '%s'\n", cmd);
        usage(stderr);
        return CLI_USAGE;
    }
    if ((strcmp(cmd, "list") == 0 && i != argc) || (strcmp(cmd, "show") == 0 && i + 1 != argc)) {
        usage(stderr);
        return CLI_USAGE;
    }
    char dir[1024];
    if (store_dir(dir, sizeof dir, dir_flag) != 0) {
        fprintf(stderr, "hwnas axmul: the store directory's path is longer than %zu bytes\n",
                sizeof dir - 1);
        return CLI_USAGE;
    }
    hwnas_axmul_registry *reg = NULL;
    int status = open_registry(ctx, dir, &reg);
    if (status != CLI_OK)
        return status;
    if (strcmp(cmd, "list") == 0)
        status = cmd_list(reg);
    else if (strcmp(cmd, "show") == 0)
        status = cmd_show(ctx, reg, argv[i]);
    else if (strcmp(cmd, "evaluate") == 0)
        status = cli_axmul_evaluate(ctx, reg, argc - i, argv + i);
    else if (strcmp(cmd, "import") == 0)
        status = cmd_import(ctx, reg, dir, argc - i, argv + i);
    else
        status = cmd_export(reg, argc - i, argv + i);
    hwnas_axmul_registry_free(reg);
    return status;
}

void cli_axmul_usage(FILE *f)
{
    usage(f);
    fputc('\n', f);
    cli_axmul_evaluate_usage(f);
}
