// The GDT and the TSS (Intel SDM vol. 3, sections 3.4.5 and 7.2).
#include <string.h>
#include "gdt.h"
#include "harness.h"

struct gdt_entry {
    uint16_t limit_low;
    uint16_t base_low;
    uint8_t base_mid;
    uint8_t access;
    uint8_t limit_high_flags; // limit bits 16-19, then G, D/B, L, AVL
    uint8_t base_high;
} __attribute__((packed));

struct gdt_pointer {
    uint16_t limit;
    uint32_t base;
} __attribute__((packed));

// Only ss0/esp0 matter: the stack the CPU switches to on a trap from ring 3.
struct tss {
    uint32_t prev, esp0, ss0, unused[22];
    uint16_t trap, iomap_base;
} __attribute__((packed));

#define ACCESS_KCODE 0x9A // present, ring 0, code, readable
#define ACCESS_KDATA 0x92 // present, ring 0, data, writable
#define ACCESS_UCODE 0xFA // same, ring 3
#define ACCESS_UDATA 0xF2
#define ACCESS_TSS 0x89 // present, 32-bit TSS, available
#define FLAGS_4K_32BIT 0xC0

extern char kernel_stack_top[];

static struct gdt_entry gdt[6];
static HARNESS_SETTLED struct tss tss;

static void set_entry(int i, uint32_t base, uint32_t limit, uint8_t access, uint8_t flags) {
    gdt[i] = (struct gdt_entry){
        .limit_low = limit & 0xFFFF,
        .base_low = base & 0xFFFF,
        .base_mid = (base >> 16) & 0xFF,
        .access = access,
        .limit_high_flags = ((limit >> 16) & 0x0F) | flags,
        .base_high = base >> 24,
    };
}

void gdt_init(void) {
    set_entry(1, 0, 0xFFFFF, ACCESS_KCODE, FLAGS_4K_32BIT);
    set_entry(2, 0, 0xFFFFF, ACCESS_KDATA, FLAGS_4K_32BIT);
    set_entry(3, 0, 0xFFFFF, ACCESS_UCODE, FLAGS_4K_32BIT);
    set_entry(4, 0, 0xFFFFF, ACCESS_UDATA, FLAGS_4K_32BIT);
    memset(&tss, 0, sizeof tss);
    tss.ss0 = SEG_KDATA;
    tss.esp0 = (uint32_t)kernel_stack_top;
    tss.iomap_base = sizeof tss; // no I/O bitmap: ring 3 gets no ports
    set_entry(5, (uint32_t)&tss, sizeof tss - 1, ACCESS_TSS, 0);

    struct gdt_pointer ptr = {sizeof gdt - 1, (uint32_t)gdt};
    __asm__ volatile("lgdt %0\n"
                     "ljmp %1, $1f\n"
                     "1: mov %2, %%ax\n"
                     "mov %%ax, %%ds\n mov %%ax, %%es\n mov %%ax, %%fs\n"
                     "mov %%ax, %%gs\n mov %%ax, %%ss\n"
                     "mov %3, %%ax\n ltr %%ax"
                     :
                     : "m"(ptr), "i"(SEG_KCODE), "i"(SEG_KDATA), "i"(SEG_TSS)
                     : "eax", "memory");
}
