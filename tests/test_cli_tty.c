/*
 * test_cli_tty.c — `slm chat` on a terminal, driven through a pseudo-terminal
 * (forkpty) as a user types at it:
 *   - Ctrl-C during a reply stops the reply (the stats say "interrupted"),
 *     the prompt comes back, and Ctrl-C at the prompt exits with status 130,
 *     the terminal cooked and echoing again;
 *   - Ctrl-C during `slm run` ends generation with the stats line, status 130;
 *   - Ctrl-D at the prompt exits with status 0 after a newline;
 *   - line editing (Ctrl-A, the arrow keys) and history (up arrow) work:
 *     "/xit" edited into "/exit" ends the chat, a recalled "/clear" runs again.
 * Every step waits for what the program prints (with a deadline), so the
 * tests do not depend on timing; the pty fixture model is the tiny phi3.
 */
#define _DEFAULT_SOURCE /* forkpty */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "test_util.h"

#define PHI3 "tests/fixtures/models/phi3"
#define DEADLINE_S 60.0

/* One `slm` running on the slave side of a pty; everything it printed. */
typedef struct {
    pid_t pid;
    int fd;
    char out[1 << 17];
    size_t len;
    size_t mark; /* the next wait looks for text after this offset */
    bool eof;
    tcflag_t lflag_at_exit; /* the terminal's modes the program left */
} tty_proc;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Starts `slm VERB -m phi3 <args>` with TERM=xterm on an 80x24 terminal. */
static void tty_start_verb(tty_proc *p, const char *verb, const char *args)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "exec %s %s -m %s %s", SLM_CLI_PATH, verb, test_source_path(PHI3),
             args);
    struct winsize ws = {.ws_row = 24, .ws_col = 80};
    memset(p, 0, sizeof *p);
    p->pid = forkpty(&p->fd, NULL, NULL, &ws);
    assert_true(p->pid >= 0);
    if (p->pid == 0) {
        setenv("TERM", "xterm", 1);
        setenv("OPENBLAS_CORETYPE", "Haswell", 1);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
}

static void tty_start(tty_proc *p, const char *args) { tty_start_verb(p, "chat", args); }

/* Reads what is there within `timeout_s`; false once the program is gone. */
static bool tty_pump(tty_proc *p, double timeout_s)
{
    struct pollfd pfd = {.fd = p->fd, .events = POLLIN};
    if (p->eof || poll(&pfd, 1, (int)(timeout_s * 1000)) <= 0)
        return !p->eof;
    ssize_t n = read(p->fd, p->out + p->len, sizeof p->out - 1 - p->len);
    if (n <= 0) { /* EIO: the slave side closed */
        p->eof = true;
        return false;
    }
    p->len += (size_t)n;
    p->out[p->len] = '\0';
    return true;
}

/* Waits until `needle` appears after the mark; moves the mark past it. */
static void tty_expect(tty_proc *p, const char *needle)
{
    double end = now_s() + DEADLINE_S;
    char *at;
    while (!(at = strstr(p->out + p->mark, needle))) {
        if (now_s() > end || (!tty_pump(p, 0.2) && !strstr(p->out + p->mark, needle)))
            fail_msg("waited for '%s'; the terminal shows:\n%s", needle, p->out);
    }
    p->mark = (size_t)(at - p->out) + strlen(needle);
}

/* Waits until at least n more bytes came after the mark. */
static void tty_expect_bytes(tty_proc *p, size_t n)
{
    double end = now_s() + DEADLINE_S;
    while (p->len < p->mark + n)
        if (now_s() > end || !tty_pump(p, 0.2))
            fail_msg("waited for %zu bytes after offset %zu; the terminal shows:\n%s", n, p->mark,
                     p->out);
}

/* Waits for the prompt and for libedit to have put the terminal in raw
   mode: keys typed before that go through the cooked line discipline
   (where Ctrl-D on an empty line is lost once the mode changes). The pty's
   modes are shared by both sides, so the master sees them. */
static void tty_expect_prompt(tty_proc *p)
{
    tty_expect(p, "> ");
    double end = now_s() + DEADLINE_S;
    struct termios t;
    while (tcgetattr(p->fd, &t) == 0 && (t.c_lflag & ICANON)) {
        if (now_s() > end)
            fail_msg("the terminal stayed in canonical mode at the prompt:\n%s", p->out);
        usleep(2000);
    }
}

static void tty_send(tty_proc *p, const char *keys)
{
    size_t n = strlen(keys);
    assert_int_equal(write(p->fd, keys, n), (ssize_t)n);
}

/* Reads to the end and returns the exit status (-1: killed by a signal). */
static int tty_finish(tty_proc *p)
{
    double end = now_s() + DEADLINE_S;
    while (tty_pump(p, 0.2) && now_s() < end)
        ;
    int status;
    pid_t r;
    while ((r = waitpid(p->pid, &status, WNOHANG)) == 0 && now_s() < end)
        usleep(10000);
    if (r == 0) {
        kill(p->pid, SIGKILL);
        waitpid(p->pid, &status, 0);
        fail_msg("slm chat did not exit; the terminal shows:\n%s", p->out);
    }
    struct termios t;
    p->lflag_at_exit = tcgetattr(p->fd, &t) == 0 ? t.c_lflag : 0;
    close(p->fd);
    if (WIFSIGNALED(status))
        fail_msg("slm chat was killed by signal %d; the terminal shows:\n%s", WTERMSIG(status),
                 p->out);
    return WEXITSTATUS(status);
}

/* ============================================================ Ctrl-C */

/* A reply that would run to the context end (--ignore-eos, -n -1) stops at
   Ctrl-C: the stats say so and count far fewer tokens than the context; the
   prompt comes back; Ctrl-C there ends the program with status 130. */
static void test_ctrl_c_stops_the_reply_then_exits(void **state)
{
    tty_proc *p = malloc(sizeof *p);
    tty_start(p, "-n -1 --ignore-eos --temp 0 --stats");
    tty_expect_prompt(p);
    tty_send(p, "Hello!\r");
    tty_expect(p, "Hello!\r\n"); /* the echo; the reply follows */
    tty_expect_bytes(p, 1);
    tty_send(p, "\x03");
    tty_expect(p, "[slm] prompt ");
    const char *stats = p->out + p->mark;
    tty_expect(p, "stop: interrupted");
    int generated = 0;
    const char *g = strstr(stats, "generated ");
    assert_non_null(g);
    assert_int_equal(sscanf(g, "generated %d tokens", &generated), 1);
    assert_true(generated >= 1 && generated < 3000); /* the context holds 4096 */
    tty_expect_prompt(p); /* back at the prompt */
    tty_send(p, "\x03");
    assert_int_equal(tty_finish(p), 130);
    /* libedit's raw mode is undone: the shell gets a cooked, echoing terminal */
    assert_true((p->lflag_at_exit & (ICANON | ECHO)) == (ICANON | ECHO));
    free(p);
}

/* slm run: Ctrl-C ends generation, the stats line says so, status 130. */
static void test_ctrl_c_stops_run(void **state)
{
    tty_proc *p = malloc(sizeof *p);
    tty_start_verb(p, "run", "-p Hello -n -1 --ignore-eos --temp 0");
    tty_expect(p, "Hello"); /* the echoed prompt; generation follows */
    tty_expect_bytes(p, 1);
    tty_send(p, "\x03");
    tty_expect(p, "stop: interrupted");
    assert_int_equal(tty_finish(p), 130);
    free(p);
}

/* ============================================================ Ctrl-D */

static void test_ctrl_d_exits_after_a_newline(void **state)
{
    tty_proc *p = malloc(sizeof *p);
    tty_start(p, "-n 4 --temp 0");
    tty_expect_prompt(p);
    tty_send(p, "\x04");
    assert_int_equal(tty_finish(p), 0);
    /* the shell's prompt then starts on a line of its own */
    const char *rest = p->out + p->mark;
    if (!strstr(rest, "\n"))
        fail_msg("no newline after Ctrl-D: '%s'", rest);
    free(p);
}

/* ============================================================ editing */

/* "/xit", Ctrl-A, right arrow, "e" is "/exit" only with line editing (plain
   reads would send the control bytes on as a message and wait for more). The
   up arrow recalls "/clear", which runs again. */
static void test_line_editing_and_history(void **state)
{
    tty_proc *p = malloc(sizeof *p);
    tty_start(p, "-n 4 --temp 0 --system 'Be brief.'");
    tty_expect_prompt(p);
    tty_send(p, "/clear\r");
    tty_expect(p, "[slm] conversation cleared (the system prompt is kept)");
    tty_expect_prompt(p);
    tty_send(p, "\x1b[A\r");
    tty_expect(p, "[slm] conversation cleared");
    tty_expect_prompt(p);
    tty_send(p, "/xit\x01\x1b[Ce\r");
    assert_int_equal(tty_finish(p), 0);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ctrl_c_stops_the_reply_then_exits),
        cmocka_unit_test(test_ctrl_c_stops_run),
        cmocka_unit_test(test_ctrl_d_exits_after_a_newline),
        cmocka_unit_test(test_line_editing_and_history),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
