/* interrupt.c — the SIGINT flag (see interrupt.h). */
#define _POSIX_C_SOURCE 200809L
#include "interrupt.h"

#include <signal.h>
#include <string.h>

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

static void set_handler(void (*handler)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
}

void cli_interrupt_install(void) { set_handler(on_sigint); }

void cli_interrupt_uninstall(void) { set_handler(SIG_DFL); }

bool cli_interrupted(void) { return interrupted != 0; }

void cli_interrupt_clear(void) { interrupted = 0; }
