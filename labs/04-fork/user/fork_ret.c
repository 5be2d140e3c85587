// Test program (fork_return): forks one child per argument. Child i prints
// its pid and its parent's, and ends through test_exit(argv[i + 1]); the
// parent prints what each fork returned, waits in read until the harness
// types a line (once every child has printed), and ends through
// test_exit(number of children), or 100 + the number of failed checks.
// Usage: fork_ret CODE...
#include "user.h"

#define MAX_CHILDREN 15

int main(int argc, char **argv) {
    int me = getpid(), n = argc - 1, failures = 0;
    int pids[MAX_CHILDREN];
    for (int i = 0; i < n && i < MAX_CHILDREN; i++) {
        printf("fork_ret: parent %d forks child %d\n", me, i);
        int pid = fork();
        if (pid == 0) {
            printf("fork_ret: child %d is pid %d, parent %d\n", i, getpid(), getppid());
            test_exit(atoi(argv[i + 1]));
        }
        printf("fork_ret: fork %d returned %d\n", i, pid);
        pids[i] = pid;
        failures += pid <= 0 || pid == me;
        for (int j = 0; j < i; j++)
            failures += pids[j] == pid;
    }
    if (!failures)
        printf("fork_ret: parent %d forked %d children with distinct pids\n", me, n);
    char line[16];
    read(0, line, sizeof line); // typed by the harness once every child has printed
    test_exit(failures ? 100 + failures : n);
}
