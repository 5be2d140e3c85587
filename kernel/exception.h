// CPU exceptions that no subsystem handles: what they are called, how a
// page-fault error code reads, and what happens to the code that caused them.
#ifndef KERNEL_EXCEPTION_H
#define KERNEL_EXCEPTION_H

#include <stddef.h>
#include "regs.h"

const char *exception_name(uint32_t vector);
// Writes e.g. "write to a non-present page in kernel mode" into buf.
void exception_decode_page_fault(uint32_t err, char *buf, size_t size);

// A fault in user mode goes to this handler (the process layer kills the
// process); a fault in kernel mode panics, unless it hit a probe (probe.h).
void exception_set_user_handler(void (*handler)(registers_t *regs));

// The default handler of vectors 0-31 (trap.c calls it).
void exception_unhandled(registers_t *regs);

#endif
