// The system-call wrappers: `int $0x80` with the number in EAX and the
// arguments in EBX, ECX, EDX (abi.h).
#include "user.h"

static int syscall(int number, uint32_t a, uint32_t b, uint32_t c) {
    int result;
    __asm__ volatile("int $0x80" : "=a"(result) : "a"(number), "b"(a), "c"(b), "d"(c) : "memory");
    return result;
}

void exit(int code) {
    flush();
    syscall(SYS_exit, (uint32_t)code, 0, 0);
    __builtin_unreachable();
}

void test_exit(int code) {
    flush();
    syscall(SYS_test_exit, (uint32_t)code, 0, 0);
    __builtin_unreachable();
}

void shutdown(void) {
    flush();
    syscall(SYS_shutdown, 0, 0, 0);
    __builtin_unreachable();
}

int write(int fd, const void *buf, int n) { return syscall(SYS_write, (uint32_t)fd, (uint32_t)buf, (uint32_t)n); }

int read(int fd, void *buf, int n) {
    flush(); // a prompt must show before the program waits for its answer
    return syscall(SYS_read, (uint32_t)fd, (uint32_t)buf, (uint32_t)n);
}

int fork(void) {
    flush(); // or the child would print the parent's pending output again
    return syscall(SYS_fork, 0, 0, 0);
}

int exec(const char *name, char *const argv[]) {
    flush();
    return syscall(SYS_exec, (uint32_t)name, (uint32_t)argv, 0);
}

int waitpid(int pid, int *status, int options) {
    return syscall(SYS_waitpid, (uint32_t)pid, (uint32_t)status, (uint32_t)options);
}

int getpid(void) { return syscall(SYS_getpid, 0, 0, 0); }
int getppid(void) { return syscall(SYS_getppid, 0, 0, 0); }
int yield(void) { return syscall(SYS_yield, 0, 0, 0); }
int sleep(int ticks) { return syscall(SYS_sleep, (uint32_t)ticks, 0, 0); }
void *sbrk(int increment) { return (void *)syscall(SYS_sbrk, (uint32_t)increment, 0, 0); }
int uptime(void) { return syscall(SYS_uptime, 0, 0, 0); }
int programs(char *buf, int size) { return syscall(SYS_programs, (uint32_t)buf, (uint32_t)size, 0); }

int memmap(int pid) {
    flush(); // the map comes after what the program printed before
    return syscall(SYS_memmap, (uint32_t)pid, 0, 0);
}
