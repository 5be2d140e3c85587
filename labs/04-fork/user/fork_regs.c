// Test program (fork_registers): forks COUNT times with chosen values in
// EBX, ECX, EDX, ESI, EDI and EBP. After each fork, parent and child check
// that those registers and ESP are what they were, and that fork returned
// 0 in the child and a new pid in the parent. The parent yields after each
// fork, so that the other processes run in between (fork_victim). Ends
// through test_exit(number of failed checks), children too. Usage:
// fork_regs COUNT SEED
#include "regcall.h"

int main(int argc, char **argv) {
    int count = argc > 1 ? atoi(argv[1]) : 5;
    uint32_t seed = argc > 2 ? (uint32_t)atoi(argv[2]) : 1;
    int me = getpid(), failures = 0;
    for (int i = 0; i < count; i++) {
        uint32_t in[REGCALL_REGS], out[REGCALL_REGS];
        regcall_values(seed, (uint32_t)i, in);
        flush(); // what fork() does first: else the child would print the pending output again
        int pid = regcall(SYS_fork, in, out);
        if (pid == 0) {
            int bad = regcall_changed("fork_regs (child)", "fork", in, out);
            if (!bad)
                printf("fork_regs: child %d of %d: fork returned 0, registers kept\n", getpid(), me);
            test_exit(bad);
        }
        failures += regcall_changed("fork_regs (parent)", "fork", in, out);
        if (pid <= 0 || pid == me) {
            printf("fork_regs: FAIL: fork %d returned %d in the parent %d\n", i, pid, me);
            failures++;
        }
        yield();
    }
    if (!failures)
        printf("fork_regs: parent %d: %d forks, each returned a child's pid, registers kept\n", me, count);
    test_exit(failures);
}
