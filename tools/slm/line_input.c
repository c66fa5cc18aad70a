/* line_input.c — libedit on a terminal, getline otherwise (see line_input.h). */
#define _POSIX_C_SOURCE 200809L
#include "line_input.h"

#include <errno.h>
#include <histedit.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

#include "cli.h"
#include "interrupt.h"

#define HISTORY_SIZE 1000

struct cli_line_input {
    const char *verb;
    EditLine *el; /* NULL off a terminal */
    History *hist;
    const char *prompt; /* what prompt_text shows */
    char *buf;          /* getline's buffer, or a copy of libedit's line */
    size_t cap;
    long line_no;
};

static char *prompt_text(EditLine *el)
{
    cli_line_input *in = NULL;
    el_get(el, EL_CLIENTDATA, &in);
    return (char *)(in && in->prompt ? in->prompt : "");
}

/* libedit's character reader, with the SIGINT flag checked before each
   wait and at least every 100 ms during it. With libedit's own reader a
   Ctrl-C that landed after the prompt was drawn but before its read()
   began set the flag and was then never seen: read() blocked until the
   next key (test_cli_tty caught it now and then). Bytes become characters
   with mbrtowc, as libedit does, which also drops a byte that starts no
   character in the locale. */
static int read_char(EditLine *el, wchar_t *wc)
{
    (void)el;
    mbstate_t state;
    memset(&state, 0, sizeof state);
    for (;;) {
        if (cli_interrupted()) {
            errno = EINTR;
            return -1;
        }
        struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
        int r = poll(&p, 1, 100);
        if (r < 0 && errno != EINTR)
            return -1;
        if (r <= 0)
            continue;
        char byte;
        ssize_t got = read(STDIN_FILENO, &byte, 1);
        if (got == 0)
            return 0; /* end of input */
        if (got < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return -1;
        }
        size_t n = mbrtowc(wc, &byte, 1, &state);
        if (n == (size_t)-2)
            continue; /* more bytes of this character to come */
        if (n == (size_t)-1) { /* dropped, as libedit's reader drops it */
            memset(&state, 0, sizeof state);
            continue;
        }
        return 1;
    }
}

/* Editing as in a shell: emacs keys, ~/.editrc honoured, prompt and echo on
   stderr so stdout carries only the replies. libedit's own signal handling
   stays off: Ctrl-C reaches interrupt.c's handler and ends the read (see
   read_char). */
static bool start_editline(cli_line_input *in)
{
    HistEvent ev;
    in->el = el_init("slm", stdin, stderr, stderr);
    in->hist = history_init();
    if (!in->el || !in->hist)
        return false;
    history(in->hist, &ev, H_SETSIZE, HISTORY_SIZE);
    history(in->hist, &ev, H_SETUNIQUE, 1);
    el_set(in->el, EL_CLIENTDATA, in);
    el_set(in->el, EL_PROMPT, prompt_text);
    el_set(in->el, EL_EDITOR, "emacs");
    el_set(in->el, EL_HIST, history, in->hist);
    el_set(in->el, EL_GETCFN, read_char);
    el_source(in->el, NULL);
    return true;
}

cli_line_input *cli_line_input_new(const char *verb)
{
    cli_line_input *in = calloc(1, sizeof *in);
    if (!in) {
        fprintf(stderr, "slm %s: out of memory\n", verb);
        return NULL;
    }
    in->verb = verb;
    if (isatty(STDIN_FILENO) && !start_editline(in)) {
        fprintf(stderr, "slm %s: cannot start line editing on this terminal\n", verb);
        cli_line_input_free(in);
        return NULL;
    }
    return in;
}

void cli_line_input_free(cli_line_input *in)
{
    if (!in)
        return;
    if (in->el)
        el_end(in->el);
    if (in->hist)
        history_end(in->hist);
    free(in->buf);
    free(in);
}

bool cli_line_input_is_tty(const cli_line_input *in) { return in->el != NULL; }

static bool keep_copy(cli_line_input *in, const char *s, size_t n)
{
    if (n + 1 > in->cap) {
        char *b = realloc(in->buf, n + 1);
        if (!b)
            return false;
        in->buf = b;
        in->cap = n + 1;
    }
    memcpy(in->buf, s, n);
    in->buf[n] = '\0';
    return true;
}

static cli_line_status read_edited(cli_line_input *in, const char *prompt, size_t *len)
{
    int count = 0;
    in->prompt = prompt;
    errno = 0;
    const char *s = el_gets(in->el, &count);
    if (cli_interrupted())
        return CLI_LINE_INTERRUPTED;
    if (!s || count <= 0) {
        if (count < 0 && errno != EINTR) {
            fprintf(stderr, "slm %s: cannot read the terminal: %s\n", in->verb, strerror(errno));
            return CLI_LINE_ERROR;
        }
        return CLI_LINE_EOF;
    }
    size_t n = (size_t)count;
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        n--;
    if (!keep_copy(in, s, n)) {
        fprintf(stderr, "slm %s: out of memory\n", in->verb);
        return CLI_LINE_ERROR;
    }
    *len = n;
    return CLI_LINE_OK;
}

cli_line_status cli_line_input_read(cli_line_input *in, const char *prompt, const char **line,
                                    size_t *len)
{
    cli_line_status st;
    if (in->el) {
        st = read_edited(in, prompt, len);
    } else {
        int r = cli_read_line(stdin, in->verb, "stdin", ++in->line_no, &in->buf, &in->cap, len);
        st = r > 0 ? CLI_LINE_OK : r == 0 ? CLI_LINE_EOF : CLI_LINE_ERROR;
        if (st != CLI_LINE_OK && cli_interrupted())
            st = CLI_LINE_INTERRUPTED;
    }
    *line = in->buf;
    return st;
}

void cli_line_input_remember(cli_line_input *in, const char *entry)
{
    HistEvent ev;
    if (in->hist && entry[0])
        history(in->hist, &ev, H_ENTER, entry);
}
