// Benchmark program (make bench): the cost of fork with argv[1] KiB of heap,
// and of a fork/exit/waitpid round trip, in TSC ticks (instructions under
// QEMU's -icount shift=0). Ends through test_exit(0).
#include "user.h"

static unsigned ticks(void) {
    unsigned lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return lo;
}

int main(int argc, char **argv) {
    int kib = argc > 1 ? atoi(argv[1]) : 1024;
    char *heap = sbrk(kib * 1024);
    if (heap == (char *)-1)
        test_exit(1);
    for (int i = 0; i < kib * 1024; i += 4096)
        heap[i] = (char)i;
    unsigned start = ticks();
    int pid = fork();
    if (pid == 0)
        exit(0);
    unsigned fork_cost = ticks() - start;
    waitpid(pid, 0, 0);
    start = ticks();
    pid = fork();
    if (pid == 0)
        exit(0);
    waitpid(pid, 0, 0);
    unsigned round_trip = ticks() - start;
    printf("bench: fork with %d KiB %u instructions, fork+exit+waitpid %u instructions\n", kib, fork_cost,
           round_trip);
    test_exit(0);
}
