// forktest: forks children until fork fails (the process table is full),
// each child exiting with its own code, then checks that waitpid returns
// every child, in any order asked, with that code.
#include "user.h"

#define MAX_CHILDREN 64

int main(void) {
    int pids[MAX_CHILDREN];
    int n = 0;
    for (; n < MAX_CHILDREN; n++) {
        int pid = fork();
        if (pid < 0)
            break;
        if (pid == 0) {
            printf("forktest: child %d (pid %d) exits with %d\n", n, getpid(), n + 1);
            exit(n + 1);
        }
        pids[n] = pid;
    }
    printf("forktest: forked %d children%s\n", n, n < MAX_CHILDREN ? ", then fork failed (table full)" : "");
    int failures = 0;
    for (int i = n - 1; i >= 0; i--) { // the reverse order of their birth
        int status;
        if (waitpid(pids[i], &status, 0) != pids[i] || !WIFEXITED(status) || WEXITSTATUS(status) != i + 1) {
            printf("forktest: child %d (pid %d) came back wrong (status 0x%x)\n", i, pids[i], status);
            failures++;
        }
    }
    failures += EXPECT(waitpid(-1, NULL, 0), -1);
    printf("forktest: %s\n", failures ? "FAILED" : "OK");
    return failures != 0;
}
