// Test program (wait_cycles): CYCLES times, forks a child that exits at
// once with the cycle's number (mod 256) and reaps it with waitpid. One
// cycle first as a warm-up; then a line every 20 cycles, at which the
// harness compares the free frames and the process table with what they
// were after the warm-up. Ends through test_exit(number of failed checks).
// Usage: wait_cycles CYCLES
#include "user.h"

static int cycle(int i) {
    int pid = fork(), status = -1;
    if (pid == 0)
        exit(i & 0xFF);
    if (pid < 0) {
        printf("wait_cycles: FAIL: fork returned %d in cycle %d\n", pid, i);
        return 1;
    }
    int got = waitpid(pid, &status, 0);
    if (got != pid || !WIFEXITED(status) || WEXITSTATUS(status) != (i & 0xFF)) {
        printf("wait_cycles: FAIL: cycle %d: waitpid(%d) returned %d, status 0x%x\n", i, pid, got, status);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv) {
    int cycles = argc > 1 ? atoi(argv[1]) : 200, failures = cycle(0);
    printf("wait_cycles: warm-up cycle done\n");
    for (int i = 1; i <= cycles && !failures; i++) {
        failures += cycle(i);
        if (i % 20 == 0 || i == cycles)
            printf("wait_cycles: %d cycles\n", i);
    }
    if (!failures)
        printf("wait_cycles: %d fork/exit/waitpid cycles, every status right\n", cycles);
    test_exit(failures);
}
