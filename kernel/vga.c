// VGA text mode: a grid of (character, colour) cells and a hardware cursor.
#include <stdint.h>
#include <string.h>
#include "port_io.h"
#include "vga.h"

#define VGA_TEXT ((volatile uint16_t *)0xB8000)
#define COLS VGA_COLS
#define ROWS VGA_ROWS
#define COLOUR 0x0700 // light grey on black
#define CRTC_INDEX 0x3D4
#define CRTC_DATA 0x3D5
#define INPUT_STATUS 0x3DA // reading it makes port ATTR the next index
#define ATTR 0x3C0         // attribute controller: index, then data
#define ATTR_READ 0x3C1
#define ATTR_MODE 0x30     // the mode control register, display kept on
#define ATTR_BLINK 0x08    // in ATTR_MODE: attribute bit 7 blinks

static int row, col;
static volatile uint16_t *text = VGA_TEXT; // where the console writes
static uint16_t saved[ROWS * COLS];       // the console's screen while held

static void move_cursor(void) {
    if (text != VGA_TEXT)
        return; // held: the cursor stays out of the picture
    uint16_t at = (uint16_t)(row * COLS + col);
    outb(CRTC_INDEX, 14);
    outb(CRTC_DATA, at >> 8);
    outb(CRTC_INDEX, 15);
    outb(CRTC_DATA, at & 0xFF);
}

static void scroll(void) {
    for (int i = 0; i < (ROWS - 1) * COLS; i++)
        text[i] = text[i + COLS];
    for (int i = (ROWS - 1) * COLS; i < ROWS * COLS; i++)
        text[i] = COLOUR | ' ';
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
            text[row * COLS + --col] = COLOUR | ' ';
    } else if (c == '\r') {
        col = 0;
    } else {
        text[row * COLS + col] = COLOUR | (uint8_t)c;
        if (++col == COLS)
            col = 0, row++;
    }
    if (row == ROWS)
        scroll();
    move_cursor();
}

static void no_blinking(void) {
    inb(INPUT_STATUS);
    outb(ATTR, ATTR_MODE);
    uint8_t mode = inb(ATTR_READ);
    outb(ATTR, mode & ~ATTR_BLINK); // written as data; the next write is an index again
}

void vga_draw(const uint16_t *screen) {
    no_blinking();
    for (int i = 0; i < ROWS * COLS; i++)
        VGA_TEXT[i] = screen[i];
    if (text != VGA_TEXT)
        return;
    row = ROWS - 1, col = 0;
    move_cursor();
}

void vga_hold(bool held) {
    if (held == (text != VGA_TEXT))
        return;
    for (int i = 0; i < ROWS * COLS; i++) {
        if (held)
            saved[i] = VGA_TEXT[i];
        else
            VGA_TEXT[i] = saved[i];
    }
    text = held ? saved : VGA_TEXT;
    if (held) {
        outb(CRTC_INDEX, 14); // the cursor off the screen
        outb(CRTC_DATA, 0xFF);
    }
    move_cursor();
}
