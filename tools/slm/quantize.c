/*
 * quantize.c — `slm quantize`: writes a copy of a model folder with its
 * weights converted (f16/bf16) or quantized (q8_0/q4_0), loadable directly.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cmd_quantize(int argc, char **argv)
{
    const char *src = NULL, *dst = NULL, *fmt = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = !strcmp(a, "-m") || !strcmp(a, "--model") ? &src
                            : !strcmp(a, "-o") || !strcmp(a, "--output") ? &dst
                            : !strcmp(a, "--weights")                     ? &fmt
                                                                          : NULL;
        if (cli_is_help(a)) {
            printf("usage: slm quantize -m DIR -o OUT --weights FMT\n"
                   "Writes OUT/ with DIR's weight matrices converted; OUT loads with no\n"
                   "re-quantization (slm run -m OUT). Quantized tensors are stored as U8 with\n"
                   "\"slm.quant.<name>\" metadata (see engine/quantize.c).\n"
                   "  -m, --model DIR      the model folder to convert\n"
                   "  -o, --output OUT     the folder to write (created)\n"
                   "  --weights FMT        f32|f16|bf16|q8_0|q4_0\n");
            return CLI_OK;
        }
        if (!slot)
            return cli_unknown("quantize", a);
        if (!(*slot = cli_value("quantize", argc, argv, &i)))
            return CLI_USAGE;
    }
    slm_weights_format f;
    if (!src || !dst || !fmt) {
        fprintf(stderr, "slm quantize: -m, -o and --weights are required (see --help)\n");
        return CLI_USAGE;
    }
    if (!slm_weights_format_parse(fmt, &f) || f == SLM_WEIGHTS_AUTO) {
        fprintf(stderr, "slm quantize: --weights expects f32|f16|bf16|q8_0|q4_0, got '%s'\n", fmt);
        return CLI_USAGE;
    }
    slm_error err = {0};
    if (slm_quantize_folder(src, dst, f, cli_progress_bar, "quantizing", &err) != SLM_OK)
        return cli_report_model(src, &err);
    fprintf(stderr, "slm quantize: wrote %s (%s)\n", dst, fmt);
    return CLI_OK;
}
