/*
 * prompt_input.h — a text given on the command line, from a file (-f FILE)
 * or from stdin ("-"), for `slm run` and `slm tokenize`.
 */
#ifndef SLM_CLI_PROMPT_INPUT_H
#define SLM_CLI_PROMPT_INPUT_H

#include <stddef.h>

/* The text of `path` (a file, or stdin for "-") as a malloc'd string, with
 * one trailing line break removed (the one an editor or `echo` adds, as
 * llama-cli's -f does). NULL after printing why: the file cannot be read or
 * the text holds a NUL byte (it would silently end there). `verb` names the
 * command in messages. */
char *cli_read_text(const char *verb, const char *path, size_t *len);

#endif
