// Processes: the table, the states of a process, and the helpers the lab
// functions of process.c (fork, exit, waitpid) are written with.
//
//            process_alloc        process_make_ready      dispatch
//   UNUSED -------------> EMBRYO -----------------> READY <--------> RUNNING
//     ^                                               ^   preempt/yield  |
//     |                                  process_wake |                  |
//     |                                            BLOCKED <-------------+ process_block
//     |                process_free                                      |
//     +------------------------------------------ ZOMBIE <--------------+ process_exit
//                     (waitpid reaps)
//
// Rules, relied on everywhere:
// - Interrupts are off whenever the kernel runs, so nothing changes the table
//   behind a function's back and no locks are needed.
// - Exactly one process is RUNNING while user code runs: process_current().
// - `regs` is a process's user frame, saved when it stopped running; it is
//   meaningless while the process is RUNNING (the live frame is on the
//   kernel stack, the one system calls receive).
// - A process owns its address space (`pd_phys`) until process_exit frees
//   it; a ZOMBIE keeps only its slot, pid and exit status.
#ifndef KERNEL_PROCESS_H
#define KERNEL_PROCESS_H

#include <abi.h>
#include <stdint.h>
#include "regs.h"

#define NPROC 32         // slots in the process table
#define PROC_NAME_MAX 16 // program name, terminator included

// What a system call returns when it switched to another process: the
// system-call dispatcher then leaves the (new) frame's EAX alone. No call
// returns this value otherwise (it is above every user address).
#define SYSCALL_SWITCHED ((int)0xC0000000)

enum proc_state { PROC_UNUSED, PROC_EMBRYO, PROC_READY, PROC_RUNNING, PROC_BLOCKED, PROC_ZOMBIE };

// What a BLOCKED process waits for.
enum block_reason {
    BLOCK_NONE,
    BLOCK_WAITPID, // a child's exit (sys_waitpid re-runs when woken)
    BLOCK_READ,    // console input (read re-runs when woken)
    BLOCK_SLEEP,   // the timer tick `wake_tick`
};

struct process {
    int pid;                      // > 0, never reused while the kernel runs
    enum proc_state state;
    struct process *parent;       // NULL: started by the kernel (init, tests)
    uint32_t pd_phys;             // page directory; 0 once it is freed
    registers_t regs;             // user frame, saved while not RUNNING
    int exit_status;              // ZOMBIE: what waitpid reports (abi.h)
    enum block_reason blocked_on; // BLOCKED: why
    uint32_t wake_tick;           // BLOCK_SLEEP: when
    uint32_t heap_start;          // end of the program image (set by exec)
    uint32_t brk;                 // end of the heap: heap_start <= brk
    uint32_t runs;                // times the scheduler dispatched it
    char name[PROC_NAME_MAX];     // program name, for messages
};

// The table; slot order is the round-robin order.
extern struct process process_table[NPROC];

// for (each slot p of the table, UNUSED ones included) — PROCESS_FOREACH(p) { ... }
#define PROCESS_FOREACH(p) for (struct process *p = process_table; p < process_table + NPROC; p++)

// The RUNNING process: the one whose system call or fault the kernel is
// handling. NULL only before the first process runs.
struct process *process_current(void);

// Takes an UNUSED slot, zeroes it and gives it a fresh pid, in state EMBRYO
// (the scheduler ignores it until process_make_ready). NULL when the table
// is full.
struct process *process_alloc(void);

// Returns slot `p` to UNUSED. Does not touch its address space: free that
// first (paging_free_directory) unless it is already freed.
void process_free(struct process *p);

// EMBRYO (or BLOCKED) -> READY: the scheduler will run `p`.
void process_make_ready(struct process *p);

// Wakes `p` (READY) if it is BLOCKED on `reason`; does nothing otherwise,
// nor when `p` is NULL.
void process_wake(struct process *p, enum block_reason reason);

// Blocks the current process on `reason` so that the system call in
// progress runs again from the start once process_wake wakes it, then
// switches to another process. Return its result from the system call:
// it is SYSCALL_SWITCHED.
int process_block(enum block_reason reason);

// Saves the current process's frame (unless it is a ZOMBIE or UNUSED: it
// will never run again), then loads the frame and address space of the next
// READY process, idling until one is ready. A current process still RUNNING
// becomes READY (a yield). Returns to the caller, whose system call must
// then return SYSCALL_SWITCHED. Only from a trap from user mode.
void scheduler_switch(void);

// The init process (pid 1) while it is alive (not a ZOMBIE), else NULL:
// orphans are handed to it.
struct process *process_init_proc(void);

// Copy n bytes to / from the user address `uaddr` of the CURRENT process.
// Every byte must be in user space, present and user-accessible (and
// writable, for copy_to_user) in the current process's own page tables.
// Return 0, or -1 without copying anything when a byte is not: a bad user
// pointer is an error, never a kernel fault.
int copy_to_user(void *uaddr, const void *src, uint32_t n);
int copy_from_user(void *dst, const void *uaddr, uint32_t n);

// The lab functions (process.c).
int process_fork(registers_t *regs);                // lab 4
void process_exit(int code);                        // lab 5
int sys_waitpid(int pid, int *status, int options); // lab 5

#endif
