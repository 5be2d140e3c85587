// Helpers for tests that run user programs (userprog.h).
#include "harness.h"
#include "exec.h"
#include "kprintf.h"
#include "pmm.h"
#include "proc.h"
#include "systest.h"
#include "userprog.h"

static uint32_t free_frames;

void userprog_begin(void) {
    proc_init();
    free_frames = pmm_free_count();
}

int userprog_spawn(char *const argv[]) {
    struct process *p = process_spawn(argv[0], argv);
    harness_check(p != NULL, "cannot spawn %s", argv[0]);
    kprintf("[test] spawned pid %d:", p->pid);
    for (int i = 0; argv[i]; i++)
        kprintf(" %s", argv[i]);
    kprintf("\n");
    return p->pid;
}

void userprog_run(void (*done)(enum sched_stop why)) {
    sched_set_done_hook(done);
    sched_start();
}

void userprog_check_test_exit(int pid, int code) {
    const struct test_exit *r = test_exit_find(pid);
    harness_check(r != NULL, "pid %d did not end through test_exit", pid);
    harness_check(r->code == code, "pid %d (%s) ended with test_exit(%d), expected %d", pid, r->name, r->code, code);
}

void userprog_check_zombie(int pid, int status) {
    struct process *p = process_find(pid);
    harness_check(p && p->state == PROC_ZOMBIE, "pid %d is not a zombie (%s)", pid,
                  p ? process_state_name(p->state) : "gone");
    harness_check(p->exit_status == status, "pid %d (%s) has exit status 0x%x, expected 0x%x", pid, p->name,
                  p->exit_status, status);
    harness_check(p->pd_phys == 0, "zombie %d still has an address space", pid);
}

void userprog_check_no_leak(void) {
    uint32_t now = pmm_free_count();
    harness_check(now == free_frames, "%u frames free before the programs ran, %u after: %d leaked", free_frames,
                  now, (int)(free_frames - now));
}
