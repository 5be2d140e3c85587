// Buffered standard output. The formatting is the kernel's own
// (kernel/kprintf.c, compiled into this library too): kvprintf prints
// through console_putc, which here appends to the line buffer.
#include "console.h"
#include "kprintf.h"
#include "user.h"

#define LINE_MAX 256

static char line[LINE_MAX];
static int length;
static int printed; // characters printf produced

void flush(void) {
    if (length)
        write(1, line, length);
    length = 0;
}

void console_putc(char c) {
    line[length++] = c;
    printed++;
    if (c == '\n' || length == LINE_MAX)
        flush();
}

int printf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    printed = 0;
    kvprintf(fmt, ap);
    va_end(ap);
    return printed;
}

int puts(const char *s) { return printf("%s\n", s); }

int snprintf(char *buf, size_t size, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = kvsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
