// kprintf and friends: one formatter, two sinks (the console, a buffer).
#include <stdbool.h>
#include "console.h"
#include "kprintf.h"

struct sink {
    char *buf; // NULL: write to the console
    size_t size;
    size_t len; // characters produced so far
};

static void put(struct sink *s, char c) {
    if (!s->buf)
        console_putc(c);
    else if (s->len + 1 < s->size)
        s->buf[s->len] = c;
    s->len++;
}

static void put_padded(struct sink *s, const char *text, int len, int width, char pad) {
    for (; width > len; width--)
        put(s, pad);
    while (len--)
        put(s, *text++);
}

static void put_number(struct sink *s, uint32_t value, unsigned base, bool negative, bool upper, int width,
                       char pad) {
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[12];
    int n = 0;
    do {
        tmp[n++] = digits[value % base];
        value /= base;
    } while (value);
    if (negative && pad == '0') {
        put(s, '-');
        width--;
    } else if (negative) {
        tmp[n++] = '-';
    }
    char out[12];
    for (int i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    put_padded(s, out, n, width, pad);
}

static void format(struct sink *s, const char *fmt, va_list ap) {
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            put(s, *fmt);
            continue;
        }
        fmt++;
        char pad = ' ';
        int width = 0;
        if (*fmt == '0')
            pad = '0', fmt++;
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l')
            fmt++;
        switch (*fmt) {
        case 'd':
        case 'i': {
            int v = va_arg(ap, int);
            put_number(s, v < 0 ? -(uint32_t)v : (uint32_t)v, 10, v < 0, false, width, pad);
            break;
        }
        case 'u':
            put_number(s, va_arg(ap, uint32_t), 10, false, false, width, pad);
            break;
        case 'x':
        case 'X':
            put_number(s, va_arg(ap, uint32_t), 16, false, *fmt == 'X', width, pad);
            break;
        case 'p':
            put(s, '0');
            put(s, 'x');
            put_number(s, va_arg(ap, uint32_t), 16, false, false, 8, '0');
            break;
        case 's': {
            const char *str = va_arg(ap, const char *);
            if (!str)
                str = "(null)";
            int len = 0;
            while (str[len])
                len++;
            put_padded(s, str, len, width, ' ');
            break;
        }
        case 'c':
            put(s, (char)va_arg(ap, int));
            break;
        case '%':
            put(s, '%');
            break;
        case 0:
            return;
        default: // unknown conversion: show it as written
            put(s, '%');
            put(s, *fmt);
        }
    }
}

void kvprintf(const char *fmt, va_list ap) {
    struct sink s = {0};
    format(&s, fmt, ap);
}

void kprintf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    kvprintf(fmt, ap);
    va_end(ap);
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap) {
    struct sink s = {.buf = buf, .size = size};
    format(&s, fmt, ap);
    if (size)
        buf[s.len < size ? s.len : size - 1] = 0;
    return (int)s.len;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = kvsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

void offset_print(const char *s) { kprintf("%s", s); }

void print_hex(uint32_t value) { kprintf("0x%08x", value); }
