// 8259A programming (ICW1-ICW4), masks and end of interrupt.
#include "pic.h"
#include "port_io.h"
#include "x86.h"

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xA0
#define PIC2_DATA 0xA1
#define ICW1_INIT_ICW4 0x11
#define ICW4_8086 0x01
#define OCW3_READ_ISR 0x0B
#define EOI 0x20
#define CASCADE_IRQ 2

// The local APIC sits between the 8259 and the CPU. Most firmware leaves it
// in "virtual wire" mode, passing the 8259's interrupts through; a minimal
// firmware such as qboot does not, and then no IRQ ever arrives. Set it up
// ourselves (Intel SDM vol. 3, 10.5.1 and 10.9). Paging must still be off:
// the APIC's registers are not in the identity map.
#define LAPIC_BASE 0xFEE00000u
#define LAPIC_SPURIOUS 0x0F0 // bit 8: APIC software enable
#define LAPIC_LINT0 0x350
#define LAPIC_LINT1 0x360
#define LVT_EXTINT 0x700
#define LVT_NMI 0x400
#define CPUID_APIC (1u << 9)

static void lapic_write(uint32_t reg, uint32_t value) { *(volatile uint32_t *)(LAPIC_BASE + reg) = value; }

static void lapic_virtual_wire(void) {
    uint32_t eax = 1, ebx, ecx, edx;
    __asm__ volatile("cpuid" : "+a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx));
    if (!(edx & CPUID_APIC) || (read_cr0() & CR0_PG))
        return;
    lapic_write(LAPIC_SPURIOUS, 0x100 | 0xFF);
    lapic_write(LAPIC_LINT0, LVT_EXTINT);
    lapic_write(LAPIC_LINT1, LVT_NMI);
}

void pic_remap(uint8_t base) {
    lapic_virtual_wire();
    outb(PIC1_CMD, ICW1_INIT_ICW4), io_wait();
    outb(PIC2_CMD, ICW1_INIT_ICW4), io_wait();
    outb(PIC1_DATA, base), io_wait();
    outb(PIC2_DATA, base + 8), io_wait();
    outb(PIC1_DATA, 1 << CASCADE_IRQ), io_wait(); // slave on IRQ 2
    outb(PIC2_DATA, CASCADE_IRQ), io_wait();
    outb(PIC1_DATA, ICW4_8086), io_wait();
    outb(PIC2_DATA, ICW4_8086), io_wait();
    outb(PIC1_DATA, 0xFF & ~(1 << CASCADE_IRQ));
    outb(PIC2_DATA, 0xFF);
}

void pic_unmask(int irq) {
    uint16_t port = irq < 8 ? PIC1_DATA : PIC2_DATA;
    outb(port, inb(port) & ~(1 << (irq % 8)));
}

void pic_send_eoi(int irq) {
    if (irq >= 8)
        outb(PIC2_CMD, EOI);
    outb(PIC1_CMD, EOI);
}

int pic_is_spurious(int irq) {
    if (irq != 7 && irq != 15)
        return 0;
    uint16_t cmd = irq == 7 ? PIC1_CMD : PIC2_CMD;
    outb(cmd, OCW3_READ_ISR);
    if (inb(cmd) & 0x80)
        return 0;
    if (irq == 15)
        outb(PIC1_CMD, EOI); // the master did see the cascade interrupt
    return 1;
}
