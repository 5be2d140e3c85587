// The kernel/user interface, shared by the kernel and the user library:
// system-call numbers, waitpid's options and status word, signal numbers.
//
// A system call is `int $0x80` with the number in EAX and up to five
// arguments in EBX, ECX, EDX, ESI, EDI; the result comes back in EAX.
// Every call returns -1 on error (a bad pointer included).
#ifndef KERNEL_ABI_H
#define KERNEL_ABI_H

#define SYS_exit 1      // void exit(int code)
#define SYS_write 2     // int write(int fd, const void *buf, int n): fd 1 or 2
#define SYS_read 3      // int read(int fd, void *buf, int n): fd 0; blocks
#define SYS_fork 4      // int fork(void)
#define SYS_waitpid 5   // int waitpid(int pid, int *status, int options)
#define SYS_getpid 6    // int getpid(void)
#define SYS_getppid 7   // int getppid(void): 0 without a parent
#define SYS_yield 8     // int yield(void)
#define SYS_exec 9      // int exec(const char *name, char *const argv[])
#define SYS_sleep 10    // int sleep(int ticks)
#define SYS_sbrk 11     // void *sbrk(int increment)
#define SYS_uptime 12   // int uptime(void): timer ticks since boot
#define SYS_programs 13 // int programs(char *buf, int size): program names
#define SYS_test_exit 14 // test-only: ends the caller without exit() (labs 4-5)
#define SYS_shutdown 15 // void shutdown(void): ends QEMU (exit status 107)
#define SYS_memmap 16   // int memmap(int pid): draws the memory map; pid 0: the caller's
#define SYS_COUNT 17

// waitpid options.
#define WNOHANG 1 // return 0 instead of blocking when no child has exited

// The status word waitpid reports, as POSIX systems encode it: the exit code
// in bits 8-15 for a normal exit, the signal number in bits 0-6 when the
// process was killed.
#define W_EXITCODE(code) (((code) & 0xFF) << 8)
#define W_SIGNALED(sig) ((sig) & 0x7F)
#define WIFEXITED(status) (((status) & 0x7F) == 0)
#define WEXITSTATUS(status) (((status) >> 8) & 0xFF)
#define WIFSIGNALED(status) (((status) & 0x7F) != 0)
#define WTERMSIG(status) ((status) & 0x7F)

// The signals the kernel kills a faulting process with (Linux numbers).
#define SIGILL 4  // invalid opcode
#define SIGTRAP 5 // breakpoint or debug trap
#define SIGBUS 7  // alignment check
#define SIGFPE 8  // divide error, floating-point error
#define SIGSEGV 11 // page fault, general protection fault, anything else

#endif
