// The COM1 serial port (16550 UART): the console the grader reads.
#ifndef KERNEL_SERIAL_H
#define KERNEL_SERIAL_H

void serial_init(void);
void serial_putc(char c);
// Enables the receive interrupt (IRQ 4); received bytes go to console_input.
void serial_enable_input(void);

#endif
