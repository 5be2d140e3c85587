// panic(), the not-implemented stop, and the register and backtrace dumps.
#include "exception.h"
#include "kprintf.h"
#include "ksyms.h"
#include "panic.h"
#include "qemu.h"
#include "trap.h"
#include "x86.h"

#define MAX_FRAMES 16

extern char kernel_stack_bottom[], kernel_stack_top[];

static int panicking;

// A second panic while printing the first (a fault in the backtrace, say)
// would loop: stop at once instead.
static void enter_panic(void) {
    cli();
    if (panicking++)
        qemu_exit(QEMU_EXIT_PANIC);
}

// Names the function holding `eip`. A return address may point just past
// the end of a function that ends in a call, so callers look up ret - 1.
static void print_location(uint32_t eip) {
    uint32_t offset;
    const char *name = ksym_lookup(eip, &offset);
    if (name)
        kprintf("%s+0x%x", name, offset);
    else
        kprintf("?");
}

void print_backtrace(uint32_t eip, uint32_t ebp) {
    kprintf("backtrace:\n");
    kprintf("  #0 0x%08x ", eip);
    print_location(eip);
    kprintf("\n");
    // Each frame starts with the caller's EBP, then the return address. Only
    // follow frames on the kernel stack: a broken EBP must not fault here.
    for (int i = 1; i < MAX_FRAMES && ebp; i++) {
        if (ebp < (uint32_t)kernel_stack_bottom || ebp + 8 > (uint32_t)kernel_stack_top || ebp % 4)
            break;
        uint32_t *frame = (uint32_t *)ebp;
        uint32_t ret = frame[1];
        if (ret == 0)
            break;
        kprintf("  #%d 0x%08x ", i, ret);
        print_location(ret - 1);
        kprintf("\n");
        ebp = frame[0];
    }
}

void panic(const char *fmt, ...) {
    enter_panic();
    va_list ap;
    va_start(ap, fmt);
    kprintf("\nPANIC: ");
    kvprintf(fmt, ap);
    va_end(ap);
    kprintf("\n");
    // Start at panic's caller: its return address and its frame.
    print_backtrace((uint32_t)__builtin_return_address(0) - 1, *(uint32_t *)read_ebp());
    qemu_exit(QEMU_EXIT_PANIC);
}

static void print_registers(const registers_t *r) {
    kprintf("  EAX=0x%08x EBX=0x%08x ECX=0x%08x EDX=0x%08x\n", r->eax, r->ebx, r->ecx, r->edx);
    kprintf("  ESI=0x%08x EDI=0x%08x EBP=0x%08x ESP=0x%08x\n", r->esi, r->edi, r->ebp,
            regs_from_user(r) ? r->user_esp : r->esp_at_trap + 20);
    kprintf("  EIP=0x%08x CS=0x%x EFLAGS=0x%08x CR0=0x%08x CR2=0x%08x CR3=0x%08x\n", r->eip, r->cs, r->eflags, read_cr0(),
            read_cr2(), read_cr3());
}

void panic_trap(const registers_t *regs) {
    enter_panic();
    kprintf("\nPANIC: unhandled %s (vector %u) at EIP 0x%08x (", exception_name(regs->int_no), regs->int_no,
            regs->eip);
    print_location(regs->eip);
    kprintf(")\n");
    if (regs->int_no == T_PAGE_FAULT) {
        char cause[96];
        exception_decode_page_fault(regs->err_code, cause, sizeof cause);
        kprintf("  page fault at CR2=0x%08x: %s (error code 0x%x)\n", read_cr2(), cause, regs->err_code);
    } else if (regs->err_code) {
        kprintf("  error code 0x%x\n", regs->err_code);
    }
    print_registers(regs);
    print_backtrace(regs->eip, regs->ebp);
    qemu_exit(QEMU_EXIT_PANIC);
}

void gap_not_implemented(const char *function, int lab, const char *handout) {
    enter_panic();
    kprintf("\nNOT IMPLEMENTED: %s() (lab %d): write it, see handouts/%s\n", function, lab, handout);
    qemu_exit(QEMU_EXIT_NOT_IMPLEMENTED);
}
