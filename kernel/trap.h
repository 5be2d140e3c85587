// Interrupts, exceptions and system-call traps: every gate is an interrupt
// gate, so the kernel always runs with interrupts off (the CPU clears IF on
// entry; only the idle loop turns them on).
#ifndef KERNEL_TRAP_H
#define KERNEL_TRAP_H

#include "regs.h"

#define T_DIVIDE 0
#define T_DEBUG 1
#define T_BREAKPOINT 3
#define T_INVALID_OPCODE 6
#define T_DOUBLE_FAULT 8
#define T_GPF 13
#define T_PAGE_FAULT 14
#define T_SYSCALL 0x80
#define IRQ_BASE 32 // the PIC is remapped to vectors 32-47
#define IRQ_TIMER 0
#define IRQ_KEYBOARD 1
#define IRQ_COM1 4

typedef void (*trap_handler_t)(registers_t *regs);

// Loads the IDT and remaps the PIC. Interrupts stay off.
void trap_init(void);
// Handlers for an exception or the system-call vector, and for an IRQ line.
void trap_set_handler(int vector, trap_handler_t handler);
void trap_set_irq_handler(int irq, trap_handler_t handler);

// The frame of the trap that entered the kernel from user mode, or NULL when
// the kernel was not entered from user mode.
registers_t *trap_user_frame(void);

// Leaves the kernel through `frame` (trap_entry.S). Never returns.
void trap_resume(registers_t *frame) __attribute__((noreturn));

#endif
