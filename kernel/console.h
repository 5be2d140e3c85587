// The console: output goes to the serial port (COM1) and the VGA screen;
// input comes from the serial port and the PS/2 keyboard into one buffer.
#ifndef KERNEL_CONSOLE_H
#define KERNEL_CONSOLE_H

#include <stddef.h>

void console_init(void);
void console_putc(char c);
void console_write(const char *s, size_t n);

// Input side, a line at a time. Drivers call console_input() from their
// interrupt handlers; backspace edits the line being typed.
void console_input(char c);
// Copies complete input into buf, up to and including a newline, at most n
// bytes; returns how many (0: no complete line yet). Echoes what it takes,
// unless that was echoed already.
size_t console_read(char *buf, size_t n);
// A reader is about to wait: echoes the input typed ahead, and echoes
// input as it arrives until the next console_read takes some.
void console_wait_input(void);
// Called when a line is complete (the process layer wakes readers with it).
void console_set_input_hook(void (*hook)(void));

#endif
