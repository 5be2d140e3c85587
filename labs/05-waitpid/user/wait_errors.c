// Test program (wait_errors): waitpid's errors. With no children, for
// itself, for a process that is not its child (BYSTANDER, alive), for pid 0
// and pids below -1, waitpid must return -1, WNOHANG or not. Then a child
// that sleeps a little and exits: reaped with a NULL status, after which
// waitpid on it, or on -1, returns -1. Ends through test_exit(number of
// failed checks). Usage: wait_errors BYSTANDER
#include "user.h"

static int failures;

static void check(const char *what, int got, int want) {
    if (got == want) {
        printf("wait_errors: %s returned %d\n", what, got);
    } else {
        printf("wait_errors: FAIL: %s returned %d, expected %d\n", what, got, want);
        failures++;
    }
}

int main(int argc, char **argv) {
    int bystander = argc > 1 ? atoi(argv[1]) : 2, status;
    check("waitpid(-1, WNOHANG) with no children", waitpid(-1, &status, WNOHANG), -1);
    check("waitpid(-1) with no children", waitpid(-1, &status, 0), -1);
    check("waitpid(bystander, WNOHANG)", waitpid(bystander, &status, WNOHANG), -1);
    check("waitpid(bystander)", waitpid(bystander, &status, 0), -1);
    check("waitpid(own pid)", waitpid(getpid(), &status, 0), -1);
    int pid = fork();
    if (pid == 0) {
        sleep(2);
        exit(3);
    }
    check("waitpid(bystander, WNOHANG) with a child", waitpid(bystander, &status, WNOHANG), -1);
    check("waitpid(0)", waitpid(0, &status, 0), -1);
    check("waitpid(-2)", waitpid(-2, &status, 0), -1);
    check("waitpid(child + 1000)", waitpid(pid + 1000, &status, 0), -1);
    check("waitpid(child, NULL status)", waitpid(pid, NULL, 0), pid);
    check("waitpid(child) once reaped", waitpid(pid, &status, 0), -1);
    check("waitpid(-1) once reaped", waitpid(-1, NULL, WNOHANG), -1);
    test_exit(failures);
}
