/*
 * cli.h — the `slm` command-line tool: one file per verb (run.c, tokenize.c,
 * ...), dispatched from main.c, sharing the small option helpers below.
 * Only the CLI prints to the terminal or chooses an exit code.
 */
#ifndef SLM_CLI_H
#define SLM_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "slm.h"

/* Each verb gets argv starting at the verb name; returns the exit code. */
int cmd_run(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_detokenize(int argc, char **argv);
int cmd_logits(int argc, char **argv);
int cmd_classify(int argc, char **argv);
int cmd_chat(int argc, char **argv);
int cmd_inspect(int argc, char **argv);

/* Exit codes: 0 success, 1 runtime failure (bad file, model error), 2 usage. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

int cmd_bench(int argc, char **argv);
int cmd_perplexity(int argc, char **argv);
int cmd_quantize(int argc, char **argv);

/* Online CPUs, the default thread count. */
int cli_default_threads(void);

/* The model folder used when -m is not given. */
const char *cli_default_model_dir(void);

/* Option parsing. `verb` names the command in messages ("slm run: ...").
 * cli_value returns argv[++*i] or prints "option X needs a value" and NULL. */
const char *cli_value(const char *verb, int argc, char **argv, int *i);
bool cli_int(const char *verb, const char *opt, const char *s, long lo, long hi, long *out);
bool cli_float(const char *verb, const char *opt, const char *s, double lo, double hi,
               double *out);
bool cli_u64(const char *verb, const char *opt, const char *s, uint64_t *out);
int cli_unknown(const char *verb, const char *arg); /* prints, returns CLI_USAGE */
bool cli_is_help(const char *arg);

/* Sampling and stop-string options of run and chat. */
#include "sampling.h"

/* Model-loading options, in groups: each verb takes (and its --help lists)
 * only the groups it uses, e.g. a classifier has no KV cache. Same contract
 * as cli_sampling_option; cli_load_option takes every group. */
enum {
    CLI_LOAD_THREADS = 1,       /* -t, --threads */
    CLI_LOAD_THREADS_BATCH = 2, /* --threads-batch */
    CLI_LOAD_WEIGHTS = 4,       /* --weights */
    CLI_LOAD_KV = 8,            /* --kv */
    CLI_LOAD_MMAP = 16,         /* --mmap, --no-mmap */
    CLI_LOAD_ALL = 31
};
int cli_load_option_in(unsigned groups, const char *verb, int argc, char **argv, int *i,
                       slm_load_options *lo);
int cli_load_option(const char *verb, int argc, char **argv, int *i, slm_load_options *lo);
#define CLI_THREADS_HELP "  -t, --threads N      decode threads (default: all cores)\n"
#define CLI_THREADS_BATCH_HELP "  --threads-batch N    prompt-processing threads (default: --threads)\n"
#define CLI_WEIGHTS_HELP                                                                       \
    "  --weights FMT        auto|f32|f16|bf16|q8_0|q4_0: convert/quantize at load (default auto)\n"
#define CLI_KV_HELP "  --kv FMT             KV cache f32|f16|q8 (default f32)\n"
#define CLI_MMAP_HELP                                                                          \
    "  --mmap / --no-mmap   map weights instead of reading them in (default: --no-mmap)\n"
#define CLI_LOAD_HELP                                                                          \
    CLI_THREADS_HELP CLI_THREADS_BATCH_HELP CLI_WEIGHTS_HELP CLI_KV_HELP CLI_MMAP_HELP

/* A progress bar on stderr when it is a terminal (user: a label or NULL);
 * nothing when output is redirected. */
void cli_progress_bar(void *user, size_t done, size_t total);
/* slm_load_options_default() plus the terminal progress bar. */
slm_load_options cli_load_defaults(void);

/* Reads one line of `what` ("stdin") into *line (getline's buffer), without
 * its line break; *len its length. Returns 1, 0 at end of input, or -1 after
 * printing an error: a read error, or a NUL byte in line `line_no` (1-based),
 * which would otherwise silently truncate the text. A read interrupted by a
 * signal (EINTR) returns 0 without a message. */
int cli_read_line(FILE *f, const char *verb, const char *what, long line_no, char **line,
                  size_t *cap, size_t *len);

/* The context a session gets for -c `requested` (0: the model's maximum):
 * above the model's positions it is clamped, with a warning saying so. */
int cli_context_size(const char *verb, const slm_model *m, long requested);

/* SLM_ISA: false after printing an error naming the valid values when it is
 * set to an unknown name; a warning when the CPU lacks the one named. */
bool cli_check_isa_env(void);

/* "slm VERSION (commit HASH, TYPE build)" (version.c), and `slm --version`:
 * that line and the kernel tables compiled in; returns CLI_OK. */
const char *cli_build_line(void);
int cli_print_version(void);

/* Prints "slm: <message>" from an slm_error to stderr and returns CLI_FAIL. */
int cli_report(const slm_error *err);

/* cli_report_model: the same, plus a hint when a -m path is a GGUF file, a
 * hub repo id or a hub cache entry. */
#include "model_hint.h"

#endif
