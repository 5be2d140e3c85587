// Test program (user_exec): exec calls that must fail leave the caller
// running; then it execs t_hello, which ends through test_exit(7), or
// test_exit(100 + failures) if a check failed.
#include "user.h"

static char long_arg[1100];

int main(void) {
    char *args[] = {"t_hello", NULL};
    char *too_many[18] = {"t_hello"};
    for (int i = 1; i < 17; i++)
        too_many[i] = "x";
    memset(long_arg, 'a', sizeof long_arg - 1);
    char *too_long[] = {"t_hello", long_arg, NULL};
    int failures = 0;
    failures += EXPECT(exec("no_such_program", args), -1);
    failures += EXPECT(exec("", args), -1);
    failures += EXPECT(exec("t_hello_with_a_very_long_name", args), -1);
    failures += EXPECT(exec("t_hello", too_many), -1);
    failures += EXPECT(exec("t_hello", too_long), -1);
    printf("t_exec: pid %d still here; now exec t_hello\n", getpid());
    char code[8];
    snprintf(code, sizeof code, "%d", failures ? 100 + failures : 7);
    char *hello[] = {"t_hello", code, NULL};
    exec("t_hello", hello);
    printf("t_exec: exec t_hello failed\n");
    test_exit(99);
}
