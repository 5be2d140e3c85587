// System calls: the int 0x80 dispatcher, and the calls of sysproc.c. The
// others live with their subsystem: sysio.h (read, write), exec.h, sched.h
// (yield, sleep), systest.h (test_exit), process.h (fork, waitpid).
#ifndef KERNEL_SYSCALL_H
#define KERNEL_SYSCALL_H

// Installs the dispatcher on vector 0x80. proc_init calls it.
void syscall_init(void);

// sysproc.c. User pointers are checked; -1 on any error.
int sys_exit(int code);                // ends the caller: SYSCALL_SWITCHED
int sys_getppid(void);                 // 0 without a parent
int sys_sbrk(int increment);           // the old end of the heap
int sys_programs(char *ubuf, int size); // names, space-separated (2 KiB at most): how many
void sys_shutdown(void) __attribute__((noreturn)); // ends QEMU: a normal end
// Tests: `hook` runs first when a process calls shutdown (a test that drives
// the shell ends there, with its verdict, instead of a normal end).
void sys_set_shutdown_hook(void (*hook)(void));

#endif
