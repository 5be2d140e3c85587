// The memory map, drawn once. Every address constant of the kernel is here.
//
//   virtual address          what lives there                    access
//   ------------------------ ----------------------------------- -----------
//   0xFFFFFFFF +-----------+
//              |  unused   |                                     none
//   0xF0000000 +-----------+ KHEAP_TOP
//              |  kernel   | paging_alloc_page() hands out pages kernel RW
//              |   heap    | upward from KHEAP_BASE; its page
//              |           | tables are shared by every address
//              |           | space                              
//   0xD0000000 +-----------+ KHEAP_BASE
//              |  unused   | (guard between user and kernel)    none
//   0xC0000000 +-----------+ USER_TOP = USER_STACK_TOP
//              |user stack | grows down                          user RW
//              |    ...    |
//              | user heap | sbrk() grows it up from the program
//              | user code | ELF programs are linked at USER_BASE user R/RW
//   0x40000000 +-----------+ USER_BASE = IDENTITY_LIMIT
//              |           | identity map: virtual == physical   kernel RW
//              |  all RAM  | for every frame of RAM (capped at
//              |           | 1 GiB); never user-accessible
//   0x00100000 +-----------+ KERNEL_LOAD: the kernel image, then
//              |  BIOS,VGA | its .bss; the frame allocator owns
//   0x00001000 +-----------+ what follows
//              |  page 0   | unmapped after init_paging() so NULL faults
//   0x00000000 +-----------+
//
// Physical memory: QEMU gives the kernel 32 MiB to 1 GiB. Frames below
// DMA_LIMIT form the DMA zone, the rest the NORMAL zone.
#ifndef KERNEL_MEMLAYOUT_H
#define KERNEL_MEMLAYOUT_H

#include <stdint.h>

#define PAGE_SIZE 4096u
#define PAGE_SHIFT 12
#define PAGE_MASK 0xFFFFF000u // keeps the frame/page part of an address
#define PAGE_ALIGN_DOWN(a) ((uint32_t)(a) & PAGE_MASK)
#define PAGE_ALIGN_UP(a) (((uint32_t)(a) + PAGE_SIZE - 1) & PAGE_MASK)

#define KERNEL_LOAD 0x00100000u    // GRUB and QEMU load the kernel here
#define DMA_LIMIT 0x01000000u      // 16 MiB: end of PMM_ZONE_DMA
#define IDENTITY_LIMIT 0x40000000u // 1 GiB: RAM above this is ignored

#define USER_BASE 0x40000000u // lowest user virtual address
#define USER_TOP 0xC0000000u  // one past the highest user address
#define USER_STACK_TOP USER_TOP
#define USER_STACK_PAGES 16u // 64 KiB of user stack, mapped at exec
// Where a program and its heap must end: below the stack and a guard page.
#define USER_IMAGE_LIMIT (USER_STACK_TOP - (USER_STACK_PAGES + 1) * PAGE_SIZE)

#define KHEAP_BASE 0xD0000000u // first kernel heap page
#define KHEAP_TOP 0xF0000000u  // one past the last kernel heap page

// The kernel image, from the linker script.
extern char _kernel_start[], _kernel_end[];

#endif
