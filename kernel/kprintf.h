// Printing and stopping: what every part of the kernel, gap files included,
// uses to talk to the console (serial port and VGA screen).
#ifndef KERNEL_KPRINTF_H
#define KERNEL_KPRINTF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

// printf for the kernel: %d %i %u %x %X %p %s %c %%, with an optional '0'
// flag, a width, and an 'l' length modifier (ignored: long is 32 bits).
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kvprintf(const char *fmt, va_list ap);
// Formats into buf (always terminated when size > 0); returns the length the
// whole output would have had.
int ksnprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

// The two debug helpers of the original labs: a string as is, and a value as
// 0x%08x. Both print exactly what they are given, no newline added.
void offset_print(const char *s);
void print_hex(uint32_t value);

// Prints "PANIC: <message>", the registers and a backtrace, then stops QEMU.
void panic(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

// What a gap stub calls: names the function, its lab and handout, then stops
// QEMU with the "not implemented" exit code. Never returns.
void gap_not_implemented(const char *function, int lab, const char *handout) __attribute__((noreturn));

#endif
