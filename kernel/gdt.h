// Segments: flat 4 GiB code and data for ring 0 and ring 3, and the TSS
// that tells the CPU which stack to use when user code is interrupted.
#ifndef KERNEL_GDT_H
#define KERNEL_GDT_H

#include <stdint.h>

#define SEG_KCODE 0x08
#define SEG_KDATA 0x10
#define SEG_UCODE (0x18 | 3) // ring 3 selectors carry RPL 3
#define SEG_UDATA (0x20 | 3)
#define SEG_TSS 0x28

void gdt_init(void);

#endif
