// A user-mode fault kills the process: one line says why, then
// process_exit(W_SIGNALED(sig)) with the signal a POSIX system would send,
// so its parent's waitpid sees WIFSIGNALED.
#include <abi.h>
#include "exception.h"
#include "kprintf.h"
#include "proc.h"
#include "signal.h"
#include "trap.h"
#include "x86.h"

#define T_X87_FPU 16
#define T_ALIGNMENT 17
#define T_SIMD_FPU 19

static int signal_for(uint32_t vector) {
    switch (vector) {
    case T_DIVIDE:
    case T_X87_FPU:
    case T_SIMD_FPU:
        return SIGFPE;
    case T_INVALID_OPCODE:
        return SIGILL;
    case T_DEBUG:
    case T_BREAKPOINT:
        return SIGTRAP;
    case T_ALIGNMENT:
        return SIGBUS;
    default:
        return SIGSEGV;
    }
}

// E.g. "[kernel] pid 5 (crash) killed: page fault at 0x00000000 (read from
// a non-present page in user mode), eip 0x40000123".
static void kill_faulting(registers_t *regs) {
    struct process *p = process_current();
    char detail[128] = "";
    if (regs->int_no == T_PAGE_FAULT) {
        char cause[96];
        exception_decode_page_fault(regs->err_code, cause, sizeof cause);
        ksnprintf(detail, sizeof detail, " at 0x%08x (%s)", read_cr2(), cause);
    }
    kprintf("[kernel] pid %d (%s) killed: %s%s, eip 0x%08x\n", p->pid, p->name, exception_name(regs->int_no), detail,
            regs->eip);
    proc_exit(W_SIGNALED(signal_for(regs->int_no)));
    if (process_current() == p)
        panic("process_exit returned into the process it ended (no scheduler_switch?)");
}

void signal_init(void) { exception_set_user_handler(kill_faulting); }
