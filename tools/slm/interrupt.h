/*
 * interrupt.h — Ctrl-C for the generating verbs: SIGINT only sets a flag
 * (the one piece of global state the CLI keeps, since a signal handler can
 * reach nothing else), which the streaming callback checks to stop the
 * reply and the line reader to leave the prompt.
 */
#ifndef SLM_CLI_INTERRUPT_H
#define SLM_CLI_INTERRUPT_H

#include <stdbool.h>

/* Exit code after an interrupt, as a shell reports death by SIGINT and
 * llama-cli exits: 128 + 2. */
enum { CLI_INTERRUPTED = 130 };

/* Installs the handler (without SA_RESTART, so a blocking read returns
 * EINTR and the caller sees the flag). */
void cli_interrupt_install(void);
/* Restores the default action (a second Ctrl-C then kills at once). */
void cli_interrupt_uninstall(void);
bool cli_interrupted(void);
void cli_interrupt_clear(void);

#endif
