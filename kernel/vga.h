// The VGA text screen (80x25 at 0xB8000).
#ifndef KERNEL_VGA_H
#define KERNEL_VGA_H

void vga_init(void);
void vga_putc(char c);

#endif
