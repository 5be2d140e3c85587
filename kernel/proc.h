// The process subsystem for trusted code: what the kernel and the tests use
// beyond process.h (the lab API).
#ifndef KERNEL_PROC_H
#define KERNEL_PROC_H

#include "process.h"

// Starts the process subsystem: system calls, fault handling, the
// scheduler's clock, console readers. Idempotent; process_spawn calls it.
// Nothing in the boot path before the first process may need labs 2-5.
void proc_init(void);

// Ends the current process with the lab's process_exit(status): what the
// exit system call and the fault handler call, so that tests see every
// exit begin (proc_set_exit_hook).
void proc_exit(int status);
// Tests: `hook` runs as the current process `p` calls process_exit(status),
// before it does anything.
void proc_set_exit_hook(void (*hook)(struct process *p, int status));

// The process with `pid` in any state but UNUSED, or NULL.
struct process *process_find(int pid);

// "zombie", "blocked" ...: for messages.
const char *process_state_name(enum proc_state state);

#endif
