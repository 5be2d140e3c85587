// VGA text mode: a grid of (character, colour) cells and a hardware cursor.
#include <stdint.h>
#include <string.h>
#include "port_io.h"
#include "vga.h"

#define VGA_TEXT ((volatile uint16_t *)0xB8000)
#define COLS 80
#define ROWS 25
#define COLOUR 0x0700 // light grey on black
#define CRTC_INDEX 0x3D4
#define CRTC_DATA 0x3D5

static int row, col;

static void move_cursor(void) {
    uint16_t at = (uint16_t)(row * COLS + col);
    outb(CRTC_INDEX, 14);
    outb(CRTC_DATA, at >> 8);
    outb(CRTC_INDEX, 15);
    outb(CRTC_DATA, at & 0xFF);
}

static void scroll(void) {
    for (int i = 0; i < (ROWS - 1) * COLS; i++)
        VGA_TEXT[i] = VGA_TEXT[i + COLS];
    for (int i = (ROWS - 1) * COLS; i < ROWS * COLS; i++)
        VGA_TEXT[i] = COLOUR | ' ';
    row = ROWS - 1;
}

void vga_init(void) {
    for (int i = 0; i < ROWS * COLS; i++)
        VGA_TEXT[i] = COLOUR | ' ';
    row = col = 0;
    move_cursor();
}

void vga_putc(char c) {
    if (c == '\n') {
        col = 0, row++;
    } else if (c == '\b') {
        if (col > 0)
            VGA_TEXT[row * COLS + --col] = COLOUR | ' ';
    } else if (c == '\r') {
        col = 0;
    } else {
        VGA_TEXT[row * COLS + col] = COLOUR | (uint8_t)c;
        if (++col == COLS)
            col = 0, row++;
    }
    if (row == ROWS)
        scroll();
    move_cursor();
}
