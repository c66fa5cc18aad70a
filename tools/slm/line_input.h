/*
 * line_input.h — lines typed at `slm chat`: with line editing and history
 * (Debian's libedit) when stdin is a terminal, plain getline otherwise (a
 * pipe or file, as the tests feed it).
 */
#ifndef SLM_CLI_LINE_INPUT_H
#define SLM_CLI_LINE_INPUT_H

#include <stdbool.h>
#include <stddef.h>

typedef struct cli_line_input cli_line_input;

typedef enum {
    CLI_LINE_INTERRUPTED = -2, /* Ctrl-C while waiting for the line */
    CLI_LINE_ERROR = -1,       /* printed already */
    CLI_LINE_EOF = 0,          /* Ctrl-D on an empty line, or the end of the input */
    CLI_LINE_OK = 1,
} cli_line_status;

/* NULL after printing why (`verb` names the command in messages). */
cli_line_input *cli_line_input_new(const char *verb);
void cli_line_input_free(cli_line_input *in);

/* True when lines come from a terminal (prompts shown, editing on). */
bool cli_line_input_is_tty(const cli_line_input *in);

/* Reads one line, without its line break, into a buffer the reader owns
 * (valid until the next read); `prompt` is shown on a terminal only. */
cli_line_status cli_line_input_read(cli_line_input *in, const char *prompt, const char **line,
                                    size_t *len);

/* Adds an entry to the history (up/down arrows); nothing off a terminal. */
void cli_line_input_remember(cli_line_input *in, const char *entry);

#endif
