// The scheduler (sched.h). Switching never changes stacks: the frame of the
// trap that entered the kernel from user mode (on the one kernel stack) is
// overwritten with the next process's saved frame, and the trap returns
// through it with iret.
#include <stdbool.h>
#include "harness.h"
#include "kprintf.h"
#include "paging.h"
#include "proc.h"
#include "sched.h"
#include "timer.h"
#include "trap.h"

#define SYSCALL_INSN_SIZE 2 // `int $0x80`: what process_block rewinds

static struct process *current;
static uint32_t dispatches;
static void (*done_hook)(enum sched_stop why);
static void (*idle_hook)(void);
static void (*switch_hook)(struct process *prev);

struct process *process_current(void) { return current; }
uint32_t sched_dispatch_count(void) { return dispatches; }
void sched_set_done_hook(void (*hook)(enum sched_stop why)) { done_hook = hook; }
void sched_set_idle_hook(void (*hook)(void)) { idle_hook = hook; }
void sched_set_switch_hook(void (*hook)(struct process *prev)) { switch_hook = hook; }

// The first READY process after `prev` in table order, wrapping around to
// `prev` itself last; NULL when none is READY.
static struct process *next_ready(struct process *prev) {
    int start = prev ? (int)(prev - process_table) + 1 : 0;
    for (int i = 0; i < NPROC; i++) {
        struct process *p = &process_table[(start + i) % NPROC];
        if (p->state == PROC_READY)
            return p;
    }
    return NULL;
}

static void report_deadlock(void) {
    kprintf("[kernel] deadlock: every process waits in waitpid, so none can ever wake:\n");
    PROCESS_FOREACH(p) {
        if (p->state != PROC_BLOCKED)
            continue;
        kprintf("[kernel]   pid %d (%s) waits for a child; its children:", p->pid, p->name);
        PROCESS_FOREACH(c) {
            if (c->state != PROC_UNUSED && c->parent == p)
                kprintf(" %d (%s)", c->pid, process_state_name(c->state));
        }
        kprintf("\n");
    }
}

// Called when nothing is READY: if nothing ever can be again (no process
// alive, or all blocked in waitpid: sleepers wake on the timer, readers on
// input), hands over to the test's hook or panics.
static void check_stuck(void) {
    bool alive = false, wakeable = false;
    PROCESS_FOREACH(p) {
        if (p->state == PROC_UNUSED || p->state == PROC_ZOMBIE)
            continue;
        alive = true;
        wakeable |= !(p->state == PROC_BLOCKED && p->blocked_on == BLOCK_WAITPID);
    }
    if (alive && wakeable)
        return;
    enum sched_stop why = alive ? SCHED_DEADLOCK : SCHED_ALL_EXITED;
    if (why == SCHED_DEADLOCK)
        report_deadlock();
    if (!done_hook && why == SCHED_DEADLOCK)
        panic("deadlock: no process can ever run again");
    if (!done_hook)
        panic("no process left to run (init must never exit)");
    harness_call_hook((uintptr_t)done_hook, why);
    if (!next_ready(NULL))
        panic("sched: the done hook returned with nothing to run");
}

// The next process to run, idling until one is READY. Interrupts come on
// only inside the hlt window: a nested interrupt never switches (its frame
// is not from user mode), it only wakes processes.
static struct process *wait_for_ready(struct process *prev) {
    struct process *p;
    while (!(p = next_ready(prev))) {
        check_stuck();
        // One statement: an interrupt that arrives after sti still finds
        // the CPU about to halt (sti delays interrupts by one instruction).
        __asm__ volatile("sti; hlt; cli" ::: "memory");
        if (idle_hook)
            idle_hook();
    }
    return p;
}

// Makes `p` the running process in its own address space.
static void make_current(struct process *p) {
    if (!p->pd_phys)
        panic("sched: pid %d (%s) is READY without an address space", p->pid, p->name);
    p->state = PROC_RUNNING;
    p->runs++;
    dispatches++;
    current = p;
    paging_switch_directory(p->pd_phys);
}

void scheduler_switch(void) {
    registers_t *frame = trap_user_frame();
    if (!frame)
        panic("scheduler_switch: not in a trap from user mode");
    struct process *prev = current;
    current = NULL; // while idle, no process runs
    if (prev && prev->state != PROC_ZOMBIE && prev->state != PROC_UNUSED) {
        prev->regs = *frame;
        if (prev->state == PROC_RUNNING)
            prev->state = PROC_READY;
    }
    if (prev && switch_hook)
        switch_hook(prev);
    struct process *next = wait_for_ready(prev);
    *frame = next->regs;
    make_current(next);
}

void sched_start(void) {
    if (current)
        panic("sched_start: a process is already running");
    struct process *p = wait_for_ready(NULL);
    make_current(p);
    trap_resume(&p->regs);
}

int process_block(enum block_reason reason) {
    registers_t *frame = trap_user_frame();
    if (!frame || frame->int_no != T_SYSCALL)
        panic("process_block: not in a system call");
    frame->eip -= SYSCALL_INSN_SIZE;
    current->state = PROC_BLOCKED;
    current->blocked_on = reason;
    scheduler_switch();
    return SYSCALL_SWITCHED;
}

// Switches away from the current process, which gets `result` once it runs
// again (the frame that scheduler_switch saves already holds it).
static int switch_with_result(int result) {
    trap_user_frame()->eax = (uint32_t)result;
    scheduler_switch();
    return SYSCALL_SWITCHED;
}

int sched_yield(void) { return switch_with_result(0); }

int sched_sleep(int ticks) {
    if (ticks < 0)
        return -1;
    current->state = PROC_BLOCKED;
    current->blocked_on = BLOCK_SLEEP;
    current->wake_tick = timer_ticks() + (uint32_t)ticks;
    return switch_with_result(0);
}

// Every tick: wake the sleepers that are due; if user code was interrupted
// and another process is READY, switch to it.
static void tick(registers_t *regs) {
    uint32_t now = timer_ticks();
    PROCESS_FOREACH(p) {
        if ((int32_t)(now - p->wake_tick) >= 0) // process_wake checks it sleeps
            process_wake(p, BLOCK_SLEEP);
    }
    if (regs_from_user(regs) && current && next_ready(current))
        scheduler_switch();
}

void sched_init(void) { timer_set_tick_hook(tick); }
