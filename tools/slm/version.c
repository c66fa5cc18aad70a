/*
 * version.c — `slm --version`: what this binary is, for bug reports and
 * benchmark tables: version, git commit, build type and the kernel tables
 * it holds (CMake passes the SLM_BUILD_* strings to this file only).
 */
#include <stdio.h>

#include "cli.h"
#include "dispatch.h"

#ifndef SLM_BUILD_VERSION
#define SLM_BUILD_VERSION "unknown"
#endif
#ifndef SLM_BUILD_COMMIT
#define SLM_BUILD_COMMIT "unknown"
#endif
#ifndef SLM_BUILD_TYPE
#define SLM_BUILD_TYPE "unknown"
#endif

const char *cli_build_line(void)
{
    return "slm " SLM_BUILD_VERSION " (commit " SLM_BUILD_COMMIT ", " SLM_BUILD_TYPE ")";
}

int cli_print_version(void)
{
    printf("%s\n", cli_build_line());
    printf("kernel tables compiled:");
    for (int i = 0; i < SLM_ISA_COUNT; i++)
        if (slm_isa_compiled((slm_isa)i))
            printf(" %s", slm_isa_name((slm_isa)i));
    printf("\nthis CPU runs:          %s (best supported; SLM_ISA overrides)\n",
           slm_isa_name(slm_isa_best()));
    return CLI_OK;
}
