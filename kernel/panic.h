// Stopping the kernel: panic() (declared in kprintf.h for gap files), the
// register dump and the symbolized backtrace it prints.
#ifndef KERNEL_PANIC_H
#define KERNEL_PANIC_H

#include "regs.h"

// Prints an unhandled trap (exception name, page-fault details, registers,
// backtrace) and stops QEMU with the panic exit code.
void panic_trap(const registers_t *regs) __attribute__((noreturn));

// Prints "  #i 0x........ function+0xoff" lines following the frame-pointer
// chain that starts at `ebp` (at most 16 frames).
void print_backtrace(uint32_t eip, uint32_t ebp);

#endif
