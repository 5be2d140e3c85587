// The console: serial and VGA output, one input ring buffer.
#include <stdint.h>
#include "console.h"
#include "serial.h"
#include "vga.h"

#define INPUT_SIZE 256

// Input ring: written by interrupt handlers, read by system calls. Interrupts
// are off whenever the kernel runs, so no lock is needed.
static char input[INPUT_SIZE];
static uint32_t input_head, input_tail; // head: next read; tail: next write
static void (*input_hook)(void);

void console_init(void) {
    serial_init();
    vga_init();
}

void console_putc(char c) {
    if (c == '\n')
        serial_putc('\r'); // terminals need CR LF; the grader drops the CR
    serial_putc(c);
    vga_putc(c);
}

void console_write(const char *s, size_t n) {
    while (n--)
        console_putc(*s++);
}

void console_input(char c) {
    if (c == '\r')
        c = '\n';
    if (input_tail - input_head == INPUT_SIZE)
        return; // full: drop the byte
    input[input_tail++ % INPUT_SIZE] = c;
    if (input_hook)
        input_hook();
}

size_t console_read(char *buf, size_t n) {
    size_t got = 0;
    while (got < n && input_head != input_tail)
        buf[got++] = input[input_head++ % INPUT_SIZE];
    return got;
}

void console_set_input_hook(void (*hook)(void)) { input_hook = hook; }
