// exec: running an embedded program in a process, from the kernel (spawn)
// or from user mode (the exec system call).
#ifndef KERNEL_EXEC_H
#define KERNEL_EXEC_H

#include "process.h"

#define EXEC_MAXARG 16      // arguments, argv[0] included
#define EXEC_ARGBYTES 1024 // all argument strings, terminators included

// Replaces the program of `p` by the embedded program `name` with arguments
// argv (kernel strings, NULL-terminated): builds a fresh address space (the
// program, then USER_STACK_PAGES of stack holding argc and argv), then frees
// p's old one (loading the new one if the old was loaded), and sets `frame`
// to start the program. -1 for an unknown program, too many or too long
// arguments or no memory; p, its address space and `frame` are then untouched.
int exec_program(struct process *p, registers_t *frame, const char *name, char *const argv[]);

// A new process running program `name` with argv, READY, without a parent:
// how the kernel starts init and tests start their programs. Starts the
// process subsystem on first use. NULL when exec_program fails or the table
// is full.
struct process *process_spawn(const char *name, char *const argv[]);

// The exec system call: name and argv are user pointers of the current
// process, `frame` its trap frame. 0, or -1 (bad pointer, or as
// exec_program) with the caller unchanged.
int sys_exec(registers_t *frame, const char *uname, char *const *uargv);

#endif
