// Lab 6 checks: the nprocs system call. The test starts `extra` programs
// that sleep, then one that calls nprocs() and prints the result; when it
// writes that line, trusted code compares the number with the process table.
#include "harness.h"
#include "kprintf.h"
#include "sysio.h"
#include "selftest/userprog.h"

static int caller; // pid of the program that calls nprocs()

static HARNESS_PASSES void nprocs_tap(struct process *p, const char *buf, uint32_t n) {
    struct userprog_line l = userprog_line(buf, n);
    if (p->pid != caller || !userprog_line_starts(&l, "nprocs: ") || l.count != 1)
        return;
    int in_use = userprog_slots_in_use();
    harness_check(l.num[0] == in_use, "nprocs() returned %d, but %d slots of the process table are in use",
                  l.num[0], in_use);
    kprintf("[test] nprocs: %d slots in use\n", in_use);
    harness_pass();
}

static void nprocs_done(enum sched_stop why) {
    (void)why;
    harness_fail("the program that calls nprocs() ended without printing what it returned");
}

HARNESS_TEST(nprocs, "extra") {
    uint32_t extra = harness_param_u32("extra", 3);
    userprog_begin();
    sysio_set_write_tap(nprocs_tap);
    for (uint32_t i = 0; i < extra; i++)
        userprog_spawn_line("nprocs wait");
    caller = userprog_spawn_line("nprocs");
    userprog_run(nprocs_done);
}
