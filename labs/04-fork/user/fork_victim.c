// Test program (fork_registers): the victim. Makes COUNT yield calls with
// chosen values in EBX, ECX, EDX, ESI, EDI and EBP, and checks after each
// one that yield returned 0 and every register kept its value. It runs next
// to fork_regs: a fork that switches to another process and then writes its
// result into the frame it was given (the next process's, not honouring
// SYSCALL_SWITCHED) changes EAX here. Ends through test_exit(number of bad
// calls). Usage: fork_victim COUNT SEED
#include "regcall.h"

int main(int argc, char **argv) {
    int count = argc > 1 ? atoi(argv[1]) : 100;
    uint32_t seed = argc > 2 ? (uint32_t)atoi(argv[2]) : 1;
    int bad = 0;
    for (int i = 0; i < count; i++) {
        uint32_t in[REGCALL_REGS], out[REGCALL_REGS];
        regcall_values(seed ^ 0x5A5A5A5Au, (uint32_t)i, in);
        int result = regcall(SYS_yield, in, out);
        int changed = regcall_changed("fork_victim", "yield", in, out);
        if (result != 0)
            printf("fork_victim: FAIL: yield %d returned %d, not 0: another process's system call wrote its "
                   "result into this process's registers\n", i, result);
        bad += changed || result != 0;
    }
    if (!bad)
        printf("fork_regs: victim %d: %d yields returned 0, registers kept\n", getpid(), count);
    test_exit(bad);
}
