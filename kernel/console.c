// The console: serial and VGA output, one input ring buffer.
#include <stdbool.h>
#include <stdint.h>
#include "console.h"
#include "serial.h"
#include "vga.h"

#define INPUT_SIZE 256

// Input ring: written by interrupt handlers, read by system calls. Interrupts
// are off whenever the kernel runs, so no lock is needed. Indexes only grow:
//   head <= line <= tail: [head, line) complete lines, ready to read;
//                         [line, tail) the line being typed (backspace edits it)
//   echoed: input before it was echoed.
// Input is echoed when it arrives only while a reader waits; input typed
// ahead is echoed when a reader takes it, so that it never lands in the
// middle of a program's output.
static char input[INPUT_SIZE];
static uint32_t input_head, input_line, input_tail, input_echoed;
static bool echo_now;
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

static void echo_up_to(uint32_t end) {
    for (; input_echoed < end; input_echoed++)
        console_putc(input[input_echoed % INPUT_SIZE]);
}

static void erase(void) {
    if (input_tail == input_line)
        return;
    input_tail--;
    if (input_echoed > input_tail) {
        input_echoed = input_tail;
        console_write("\b \b", 3);
    }
}

// A line is complete at its newline, or when it fills the ring (so that a
// reader can always make progress).
void console_input(char c) {
    if (c == '\r')
        c = '\n';
    if (c == '\b' || c == 0x7F) { // backspace, or DEL from a terminal
        erase();
        return;
    }
    if (input_tail - input_head == INPUT_SIZE)
        return; // full: drop the byte
    input[input_tail++ % INPUT_SIZE] = c;
    if (echo_now)
        echo_up_to(input_tail);
    if (c == '\n' || input_tail - input_head == INPUT_SIZE) {
        input_line = input_tail;
        if (input_hook)
            input_hook();
    }
}

size_t console_read(char *buf, size_t n) {
    size_t got = 0;
    while (got < n && input_head != input_line)
        if ((buf[got++] = input[input_head++ % INPUT_SIZE]) == '\n')
            break;
    if (got) {
        echo_up_to(input_head);
        echo_now = false;
    }
    return got;
}

void console_wait_input(void) {
    echo_up_to(input_tail);
    echo_now = true;
}

void console_set_input_hook(void (*hook)(void)) { input_hook = hook; }
