// Guest-side costs for `make bench` (tools/bench.py). Run under QEMU with
// -icount shift=0, where the TSC counts executed instructions: the numbers
// are exact and the same on every machine, a baseline for later labs (a
// copy-on-write fork, say).
#include "harness.h"
#include "kprintf.h"
#include "paging.h"
#include "pmm.h"
#include "userprog.h"

// init_paging() alone, before the kernel turns paging on itself.
HARNESS_TEST_EARLY(bench_init_paging, "") {
    uint64_t start = rdtsc();
    init_paging();
    uint64_t cost = rdtsc() - start;
    kprintf("bench: init_paging %u instructions for RAM up to 0x%08x\n", (uint32_t)cost, pmm_ram_end());
    harness_pass();
}

static int bench_pid;

static HARNESS_PASSES void fork_done(enum sched_stop why) {
    harness_check(why == SCHED_ALL_EXITED, "the scheduler stopped with a deadlock");
    userprog_check_test_exit(bench_pid, 0);
    harness_pass();
}

// One fork of a process with `kib` KiB of user heap, and one fork/exit/
// waitpid round trip, measured by the program itself (user/b_fork.c).
HARNESS_TEST(bench_fork, "kib") {
    char kib[12];
    ksnprintf(kib, sizeof kib, "%u", harness_param_u32("kib", 1024));
    userprog_begin();
    bench_pid = userprog_spawn((char *[]){"b_fork", kib, NULL});
    userprog_run(fork_done);
}
