// The scheduler: round robin over READY processes in table order. The timer
// preempts user code on every tick; when nothing is READY the kernel idles
// (interrupts on, hlt) until an interrupt makes a process READY. Besides the
// process.h helpers (process_current, process_block, scheduler_switch):
#ifndef KERNEL_SCHED_H
#define KERNEL_SCHED_H

#include <stdint.h>
#include "process.h"

// Why the scheduler has nothing left to run.
enum sched_stop {
    SCHED_ALL_EXITED, // no process is alive (zombies do not count)
    SCHED_DEADLOCK,   // all are blocked in waitpid: none can ever be woken
};

// Hooks the scheduler to the timer (preemption, sleepers). proc_init calls it.
void sched_init(void);

// Runs the first READY process; never returns. From kmain or a test, once
// it has spawned the first process(es).
void sched_start(void) __attribute__((noreturn));

// The yield and sleep system calls: both return SYSCALL_SWITCHED; the
// caller's result (0) is in its saved frame. sleep: -1 for ticks < 0.
int sched_yield(void);
int sched_sleep(int ticks);

// Times the scheduler dispatched a process, since boot.
uint32_t sched_dispatch_count(void);

// Tests: `hook` runs when nothing is left to run, instead of a panic. It may
// end the test, or spawn processes and return to run them.
void sched_set_done_hook(void (*hook)(enum sched_stop why));
// Tests: `hook` runs each time the idle loop is woken by an interrupt.
void sched_set_idle_hook(void (*hook)(void));
// Tests: `hook` runs each time a process stops running, in the state it
// stopped in (READY, BLOCKED with its frame saved, ZOMBIE, or UNUSED when
// its slot was freed), before the next one is chosen: what a system call
// that switched left behind, seen before any other process runs.
void sched_set_switch_hook(void (*hook)(struct process *prev));

#endif
