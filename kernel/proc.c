// The process table and the life cycle of a slot (process.h).
#include <stdbool.h>
#include <string.h>
#include "kmalloc.h"
#include "kprintf.h"
#include "proc.h"
#include "sched.h"
#include "signal.h"
#include "syscall.h"
#include "sysio.h"

struct process process_table[NPROC];
static int next_pid = 1;
static void (*exit_hook)(struct process *p, int status);

void proc_init(void) {
    static bool started;
    if (started)
        return;
    started = true;
    // The kernel heap's page tables appear with its first page (lab 2), and
    // a directory cloned before that would never see the heap: allocate
    // once, before the first address space exists.
    void *first = kmalloc(1);
    if (!first)
        panic("proc_init: the kernel heap gives no memory");
    kfree(first);
    syscall_init();
    signal_init();
    sched_init();
    sysio_init();
}

struct process *process_alloc(void) {
    PROCESS_FOREACH(p) {
        if (p->state != PROC_UNUSED)
            continue;
        memset(p, 0, sizeof *p);
        p->pid = next_pid++;
        p->state = PROC_EMBRYO;
        return p;
    }
    return NULL;
}

void process_free(struct process *p) {
    memset(p, 0, sizeof *p);
    p->state = PROC_UNUSED;
}

void process_make_ready(struct process *p) {
    p->state = PROC_READY;
    p->blocked_on = BLOCK_NONE;
}

void process_wake(struct process *p, enum block_reason reason) {
    if (p && p->state == PROC_BLOCKED && p->blocked_on == reason)
        process_make_ready(p);
}

void proc_set_exit_hook(void (*hook)(struct process *p, int status)) { exit_hook = hook; }

void proc_exit(int status) {
    if (exit_hook)
        exit_hook(process_current(), status);
    process_exit(status);
}

struct process *process_init_proc(void) {
    struct process *p = process_find(1);
    return p && p->state != PROC_ZOMBIE ? p : NULL;
}

struct process *process_find(int pid) {
    PROCESS_FOREACH(p) {
        if (p->state != PROC_UNUSED && p->pid == pid)
            return p;
    }
    return NULL;
}

const char *process_state_name(enum proc_state state) {
    static const char *const names[] = {"unused", "embryo", "ready", "running", "blocked", "zombie"};
    return names[state];
}
