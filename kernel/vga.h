// The VGA text screen (80x25 at 0xB8000).
#ifndef KERNEL_VGA_H
#define KERNEL_VGA_H

#include <stdbool.h>
#include <stdint.h>

#define VGA_COLS 80
#define VGA_ROWS 25

void vga_init(void);
void vga_putc(char c);

// Shows a whole screen drawn by other code (the memory map): VGA_ROWS *
// VGA_COLS cells of (attribute << 8 | character), the attribute's top four
// bits a background colour (0-15: blinking is turned off). Unless the
// screen is held, the console's text then goes on from the last row.
void vga_draw(const uint16_t *screen);
// While held, the console's text goes to a saved copy of the screen, shown
// again when released: a live picture on top of the console.
void vga_hold(bool held);

#endif
