// Test program (wait_blocks): the parent forks a child that keeps the CPU
// for TICKS timer ticks, printing a line at each tick, then exits with
// CODE; meanwhile the parent waits for it in waitpid. The harness checks at
// each of the child's lines that the parent is blocked and has not run.
// Ends through test_exit(number of failed checks). Usage:
// wait_block TICKS CODE
#include "user.h"

static void child(int ticks, int code) {
    yield(); // the parent gets to its waitpid first
    int me = getpid(), start = uptime(), last = start;
    printf("wait_block: child %d works for %d ticks\n", me, ticks);
    while (last - start < ticks) {
        int now = uptime();
        if (now != last)
            printf("wait_block: child %d: tick %d\n", me, now - start);
        last = now;
    }
    printf("wait_block: child %d exits with %d\n", me, code);
    exit(code);
}

int main(int argc, char **argv) {
    int ticks = argc > 1 ? atoi(argv[1]) : 10, code = argc > 2 ? atoi(argv[2]) : 7;
    int me = getpid(), pid = fork();
    if (pid == 0)
        child(ticks, code);
    printf("wait_block: parent %d waits for child %d\n", me, pid);
    int status = -1, got = waitpid(pid, &status, 0);
    if (got != pid || !WIFEXITED(status) || WEXITSTATUS(status) != code) {
        printf("wait_block: FAIL: waitpid(%d) returned %d, status 0x%x; expected %d and exit code %d\n", pid, got,
               status, pid, code);
        test_exit(1);
    }
    printf("wait_block: parent %d: waitpid returned %d, child exited with %d\n", me, got, WEXITSTATUS(status));
    test_exit(0);
}
