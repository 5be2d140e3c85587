// Test program (wait_nohang): the parent forks a child that keeps the CPU
// for TICKS ticks and exits with CODE. waitpid(child, WNOHANG) must return 0
// at once while the child runs; the parent then polls, sleeping a tick
// between calls, until it returns the child's pid with its status; after
// that it returns -1. Ends through test_exit(number of failed checks).
// Usage: wait_nohang TICKS CODE
#include "user.h"

int main(int argc, char **argv) {
    int ticks = argc > 1 ? atoi(argv[1]) : 5, code = argc > 2 ? atoi(argv[2]) : 9;
    int me = getpid(), pid = fork(), status = -1, failures = 0;
    if (pid == 0) {
        int start = uptime();
        while (uptime() - start < ticks)
            ;
        printf("wait_nohang: child %d exits with %d\n", getpid(), code);
        exit(code);
    }
    int got = waitpid(pid, &status, WNOHANG);
    if (got != 0) {
        printf("wait_nohang: FAIL: waitpid(%d, WNOHANG) returned %d while the child runs, expected 0\n", pid, got);
        test_exit(1);
    }
    printf("wait_nohang: parent %d: waitpid(WNOHANG) returned 0 while child %d runs\n", me, pid);
    int polls = 1;
    while ((got = waitpid(pid, &status, WNOHANG)) == 0 && polls < 10000) {
        polls++;
        sleep(1);
    }
    if (got != pid || !WIFEXITED(status) || WEXITSTATUS(status) != code) {
        printf("wait_nohang: FAIL: waitpid(%d, WNOHANG) returned %d, status 0x%x; expected exit code %d\n", pid, got,
               status, code);
        failures++;
    } else {
        printf("wait_nohang: parent %d: after %d polls waitpid(WNOHANG) returned %d, exit code %d\n", me, polls, got,
               WEXITSTATUS(status));
    }
    got = waitpid(pid, &status, WNOHANG);
    if (got != -1) {
        printf("wait_nohang: FAIL: waitpid(%d, WNOHANG) returned %d once reaped, expected -1\n", pid, got);
        failures++;
    }
    test_exit(failures);
}
