// Default handling of CPU exceptions.
#include "exception.h"
#include "kprintf.h"
#include "panic.h"
#include "probe.h"
#include "trap.h"
#include "x86.h"

#define PF_PRESENT 0x1  // 0: page not present; 1: protection violation
#define PF_WRITE 0x2    // 0: read; 1: write
#define PF_USER 0x4     // 0: kernel mode; 1: user mode
#define PF_RESERVED 0x8 // a reserved bit was set in an entry
#define PF_FETCH 0x10   // instruction fetch

static const char *const names[32] = {
    "divide error", "debug", "non-maskable interrupt", "breakpoint", "overflow",
    "bound range exceeded", "invalid opcode", "device not available", "double fault",
    "coprocessor segment overrun", "invalid TSS", "segment not present", "stack-segment fault",
    "general protection fault", "page fault", "reserved", "x87 floating-point error",
    "alignment check", "machine check", "SIMD floating-point error", "virtualization exception",
    "control protection exception"};

static void (*user_handler)(registers_t *regs);

const char *exception_name(uint32_t vector) {
    if (vector < 32 && names[vector])
        return names[vector];
    return "unknown exception";
}

void exception_decode_page_fault(uint32_t err, char *buf, size_t size) {
    const char *access = err & PF_FETCH ? "instruction fetch from" : err & PF_WRITE ? "write to" : "read from";
    const char *page = err & PF_RESERVED  ? "a page with reserved bits set"
                       : err & PF_PRESENT ? "a present page (protection violation)"
                                          : "a non-present page";
    ksnprintf(buf, size, "%s %s in %s mode", access, page, err & PF_USER ? "user" : "kernel");
}

void exception_set_user_handler(void (*handler)(registers_t *regs)) { user_handler = handler; }

void exception_unhandled(registers_t *regs) {
    if (regs_from_user(regs) && user_handler) {
        user_handler(regs);
        return;
    }
    if (regs->int_no == T_PAGE_FAULT && probe_fixup(regs))
        return;
    panic_trap(regs);
}
