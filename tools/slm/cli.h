/*
 * cli.h — the `slm` command-line tool: one file per verb (run.c, tokenize.c,
 * ...), dispatched from main.c, sharing the small option helpers below.
 * Only the CLI prints to the terminal or chooses an exit code.
 */
#ifndef SLM_CLI_H
#define SLM_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "slm.h"

/* Each verb gets argv starting at the verb name; returns the exit code. */
int cmd_run(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_detokenize(int argc, char **argv);
int cmd_logits(int argc, char **argv);
int cmd_inspect(int argc, char **argv);

/* Exit codes: 0 success, 1 runtime failure (bad file, model error), 2 usage. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

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

/* Prints "slm: <message>" from an slm_error to stderr and returns CLI_FAIL. */
int cli_report(const slm_error *err);

#endif
