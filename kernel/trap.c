// The IDT and the one C entry point of every trap, trap_dispatch().
#include <stddef.h>
#include "exception.h"
#include "gdt.h"
#include "harness.h"
#include "kprintf.h"
#include "pic.h"
#include "trap.h"

struct idt_entry {
    uint16_t offset_low;
    uint16_t selector;
    uint8_t zero;
    uint8_t type_attr;
    uint16_t offset_high;
} __attribute__((packed));

struct idt_pointer {
    uint16_t limit;
    uint32_t base;
} __attribute__((packed));

#define GATE_INTERRUPT 0x8E // present, ring 0, 32-bit interrupt gate
#define GATE_USER 0x60      // DPL 3: `int` allowed from user mode
#define STUB_COUNT 49       // vectors 0-47, then 0x80 (trap_entry.S)
#define IRQ_COUNT 16

extern const uint32_t trap_vectors[STUB_COUNT];

static HARNESS_SETTLED struct idt_entry idt[256];
static trap_handler_t handlers[256];
static trap_handler_t irq_handlers[IRQ_COUNT];
static registers_t *user_frame;

static void set_gate(int vector, uint32_t stub, uint8_t type) {
    idt[vector] = (struct idt_entry){stub & 0xFFFF, SEG_KCODE, 0, type, stub >> 16};
}

void trap_init(void) {
    for (int v = 0; v < 48; v++)
        set_gate(v, trap_vectors[v], GATE_INTERRUPT);
    set_gate(T_SYSCALL, trap_vectors[48], GATE_INTERRUPT | GATE_USER);
    set_gate(T_BREAKPOINT, trap_vectors[T_BREAKPOINT], GATE_INTERRUPT | GATE_USER);
    struct idt_pointer ptr = {sizeof idt - 1, (uint32_t)idt};
    __asm__ volatile("lidt %0" : : "m"(ptr));
    pic_remap(IRQ_BASE);
}

void trap_set_handler(int vector, trap_handler_t handler) { handlers[vector] = handler; }

void trap_set_irq_handler(int irq, trap_handler_t handler) {
    irq_handlers[irq] = handler;
    pic_unmask(irq);
}

registers_t *trap_user_frame(void) { return user_frame; }

static void dispatch_irq(registers_t *regs) {
    int irq = (int)regs->int_no - IRQ_BASE;
    if (pic_is_spurious(irq))
        return;
    pic_send_eoi(irq); // before the handler: it may switch processes
    if (irq_handlers[irq])
        irq_handlers[irq](regs);
}

// Called by trap_common with interrupts off. A handler may rewrite *regs
// (a process switch does): trap_common returns through whatever it holds.
void trap_dispatch(registers_t *regs) {
    registers_t *outer = user_frame;
    user_frame = regs_from_user(regs) ? regs : NULL;
    if (regs->int_no >= IRQ_BASE && regs->int_no < IRQ_BASE + IRQ_COUNT)
        dispatch_irq(regs);
    else if (handlers[regs->int_no])
        handlers[regs->int_no](regs);
    else if (regs->int_no < 32)
        exception_unhandled(regs);
    else
        panic("trap: no handler for vector %u", regs->int_no);
    // A nested trap (an IRQ while the idle loop waits) must not lose the
    // outer frame.
    if (!regs_from_user(regs))
        user_frame = outer;
}
