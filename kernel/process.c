// Processes: fork (lab 4), exit and waitpid (lab 5).
//
// The process table, the scheduler and the system calls are given: process.h
// lists the helpers, and its diagram the states. Interrupts are off while
// this code runs, so nothing changes behind your back; a function that
// switches to another process returns only to let the system call finish.
#include <stdbool.h>
#include <string.h>
#include "kprintf.h"
#include "paging.h"
#include "process.h"

// Lab 4. The fork system call: makes a child of the current process that is
// a copy of it: a deep copy of its user address space, the same name and
// heap (heap_start, brk), the caller as parent. The child becomes READY and
// resumes where the parent called fork, from the same registers, except
// that its fork returns 0 (EAX). `regs` is the caller's live trap frame.
// Returns the child's pid (to the parent); -1 when the process table is
// full or memory runs out, after giving back everything taken so far.
// Corner case: the parent's saved `regs` field is stale while it runs; only
// the frame passed in is current.
// Worth calling: process_current, process_alloc, paging_clone_directory_from,
// process_free, process_make_ready, strlcpy.
int process_fork(registers_t *regs)
{
    // Lab 4: your code here.
    gap_not_implemented(__func__, 4, "04-fork.md");
}

// Lab 5: your private helpers (static functions and data) go here.

// Lab 5. Ends the current process. `code` is the status word its parent's
// waitpid will report (abi.h): W_EXITCODE(n) from exit(n), W_SIGNALED(sig)
// when the kernel kills it for a fault. The process leaves its address space
// (the master directory is loaded instead) and frees it, becomes a ZOMBIE
// that keeps `code`, hands its children to init (waking init when one of
// them is already a zombie), wakes its parent if the parent is blocked in
// waitpid, and lets another process run. Returns (into the system call or
// fault handler, which then returns into the next process); the exited
// process never runs again.
// Corner case: when init itself exits, process_init_proc() is NULL once init
// is a zombie, and its children are left without a parent.
// Worth calling: paging_switch_directory, paging_get_directory_phys,
// paging_free_directory, process_init_proc, process_wake, scheduler_switch.
void process_exit(int code)
{
    // Lab 5: your code here.
    gap_not_implemented(__func__, 5, "05-waitpid.md");
}

// Lab 5. The waitpid system call. pid > 0 waits for that child of the
// caller, pid == -1 for any child. When a matching child is a ZOMBIE: stores
// its exit status at the user address `status` (unless `status` is NULL),
// frees its slot and returns its pid. When matching children exist but none
// has exited: returns 0 if `options` has WNOHANG, else blocks until a child
// exits and then runs again (process_block arranges that: return what it
// returns). Returns -1 when nothing matches (pid is not a child of the
// caller, the caller has no children, pid is 0 or below -1) or when `status`
// is a bad pointer; the child then stays a zombie for a later call.
// Corner case: `status` points into user memory; never write through it.
// Worth calling: process_current, PROCESS_FOREACH, copy_to_user,
// process_free, process_block.
int sys_waitpid(int pid, int *status, int options)
{
    // Lab 5: your code here.
    gap_not_implemented(__func__, 5, "05-waitpid.md");
}
