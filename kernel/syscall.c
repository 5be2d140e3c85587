// The system-call dispatcher. The ABI (abi.h): `int $0x80`, the number in
// EAX, arguments in EBX, ECX, EDX, ESI, EDI, the result in EAX. A call that
// switched to another process returns SYSCALL_SWITCHED: the frame then
// belongs to that process, and its EAX is left alone.
#include <abi.h>
#include "exec.h"
#include "kprintf.h"
#include "memmap.h"
#include "sched.h"
#include "syscall.h"
#include "sysio.h"
#include "systest.h"
#include "timer.h"
#include "trap.h"

// One adapter per call: from the registers to the C arguments.
static int call_exit(registers_t *r) { return sys_exit((int)r->ebx); }
static int call_write(registers_t *r) { return sys_write((int)r->ebx, (const void *)r->ecx, (int)r->edx); }
static int call_read(registers_t *r) { return sys_read((int)r->ebx, (void *)r->ecx, (int)r->edx); }
static int call_fork(registers_t *r) { return process_fork(r); }
static int call_waitpid(registers_t *r) { return sys_waitpid((int)r->ebx, (int *)r->ecx, (int)r->edx); }
static int call_getpid(registers_t *r) { return (void)r, process_current()->pid; }
static int call_getppid(registers_t *r) { return (void)r, sys_getppid(); }
static int call_yield(registers_t *r) { return (void)r, sched_yield(); }
static int call_exec(registers_t *r) { return sys_exec(r, (const char *)r->ebx, (char *const *)r->ecx); }
static int call_sleep(registers_t *r) { return sched_sleep((int)r->ebx); }
static int call_sbrk(registers_t *r) { return sys_sbrk((int)r->ebx); }
static int call_uptime(registers_t *r) { return (void)r, (int)timer_ticks(); }
static int call_programs(registers_t *r) { return sys_programs((char *)r->ebx, (int)r->ecx); }
static int call_test_exit(registers_t *r) { return sys_test_exit((int)r->ebx); }
static int call_shutdown(registers_t *r) { (void)r, sys_shutdown(); } // never returns
static int call_memmap(registers_t *r) { return sys_memmap((int)r->ebx); }

static int (*const calls[SYS_COUNT])(registers_t *r) = {
    [SYS_exit] = call_exit,       [SYS_write] = call_write,       [SYS_read] = call_read,
    [SYS_fork] = call_fork,       [SYS_waitpid] = call_waitpid,   [SYS_getpid] = call_getpid,
    [SYS_getppid] = call_getppid, [SYS_yield] = call_yield,       [SYS_exec] = call_exec,
    [SYS_sleep] = call_sleep,     [SYS_sbrk] = call_sbrk,         [SYS_uptime] = call_uptime,
    [SYS_programs] = call_programs, [SYS_test_exit] = call_test_exit, [SYS_shutdown] = call_shutdown,
    [SYS_memmap] = call_memmap,
};

// Also checks the SYSCALL_SWITCHED rule, which lab code must follow: a
// broken rule would corrupt another process's registers.
static void syscall_trap(registers_t *regs) {
    struct process *caller = process_current();
    uint32_t n = regs->eax;
    int result = n < SYS_COUNT && calls[n] ? calls[n](regs) : -1;
    if (result != SYSCALL_SWITCHED && process_current() != caller)
        panic("system call %u switched processes but returned %d, not SYSCALL_SWITCHED", n, result);
    if (result == SYSCALL_SWITCHED && process_current()->state != PROC_RUNNING)
        panic("system call %u returned SYSCALL_SWITCHED but did not switch (no scheduler_switch?)", n);
    if (result != SYSCALL_SWITCHED)
        regs->eax = (uint32_t)result;
}

void syscall_init(void) { trap_set_handler(T_SYSCALL, syscall_trap); }
