// COM1 driver: 115200 baud, 8 data bits, no parity, one stop bit.
#include "console.h"
#include "port_io.h"
#include "serial.h"
#include "trap.h"

#define COM1 0x3F8
#define REG_DATA 0         // read: received byte; write: byte to send
#define REG_IER 1          // interrupt enable
#define REG_FCR 2          // FIFO control
#define REG_LCR 3          // line control
#define REG_MCR 4          // modem control
#define REG_LSR 5          // line status
#define LCR_DLAB 0x80      // registers 0-1 become the baud-rate divisor
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY 0x20

void serial_init(void) {
    outb(COM1 + REG_IER, 0x00);
    outb(COM1 + REG_LCR, LCR_DLAB);
    outb(COM1 + REG_DATA, 1); // divisor 1: 115200 baud
    outb(COM1 + 1, 0);
    outb(COM1 + REG_LCR, 0x03); // 8N1
    // FIFOs stay off: turning them on empties them, and QEMU, which feeds
    // its stdin from the start, may already have delivered a byte. Without
    // them QEMU holds back input until the one received byte is read.
    outb(COM1 + REG_FCR, 0x00);
    outb(COM1 + REG_MCR, 0x0B); // DTR, RTS, OUT2 (OUT2 gates the IRQ line)
}

void serial_putc(char c) {
    while (!(inb(COM1 + REG_LSR) & LSR_THR_EMPTY))
        ;
    outb(COM1 + REG_DATA, (uint8_t)c);
}

static void serial_interrupt(registers_t *regs) {
    (void)regs;
    while (inb(COM1 + REG_LSR) & LSR_DATA_READY)
        console_input((char)inb(COM1 + REG_DATA));
}

void serial_enable_input(void) {
    trap_set_irq_handler(IRQ_COM1, serial_interrupt);
    outb(COM1 + REG_IER, 0x01); // interrupt when data arrives
}
