// The process subsystem for trusted code: what the kernel and the tests use
// beyond process.h (the lab API).
#ifndef KERNEL_PROC_H
#define KERNEL_PROC_H

#include "process.h"

// Starts the process subsystem: system calls, fault handling, the
// scheduler's clock, console readers. Idempotent; process_spawn calls it.
// Nothing in the boot path before the first process may need labs 2-5.
void proc_init(void);

// The process with `pid` in any state but UNUSED, or NULL.
struct process *process_find(int pid);

// "zombie", "blocked" ...: for messages.
const char *process_state_name(enum proc_state state);

#endif
