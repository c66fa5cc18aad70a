/*
 * test_assert.c — SLM_ASSERT (engine/error.h), the internal-invariant check:
 * a broken invariant prints "slm: internal error at file:line: cond" to
 * stderr and aborts, in every build type; a holding one does nothing.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "error.h"

static void test_holding_invariant_is_silent(void **state)
{
    (void)state;
    int n = 3;
    SLM_ASSERT(n == 3);
    assert_int_equal(n, 3);
}

static void test_broken_invariant_names_file_line_and_aborts(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    int line = __LINE__ + 6;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], 2);
        int two = 2;
        SLM_ASSERT(two + 2 == 5);
        _exit(0); /* not reached when the assert works */
    }
    close(fds[1]);
    char buf[512] = "";
    size_t got = 0;
    ssize_t r;
    while (got < sizeof buf - 1 && (r = read(fds[0], buf + got, sizeof buf - 1 - got)) > 0)
        got += (size_t)r;
    buf[got] = '\0';
    close(fds[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
    char want[256];
    snprintf(want, sizeof want, "slm: internal error at %s:%d: two + 2 == 5\n", __FILE__, line);
    if (!strstr(buf, want))
        fail_msg("stderr was '%s', expected '%s'", buf, want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_holding_invariant_is_silent),
        cmocka_unit_test(test_broken_invariant_names_file_line_and_aborts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
