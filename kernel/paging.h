// Paging: the lab API of kernel/paging.c (labs 1-3).
//
// A 32-bit virtual address splits into a page-directory index, a page-table
// index and an offset (handouts/figures/translation.svg):
//
//   31          22 21          12 11           0
//  +--------------+--------------+--------------+
//  |   PD_INDEX   |   PT_INDEX   |    offset    |
//  +--------------+--------------+--------------+
//
// Directory and table entries hold a frame address (top 20 bits) and flags.
// The functions below that take no directory work on the kernel's master
// directory (paging_get_directory_phys()).
#ifndef KERNEL_PAGING_H
#define KERNEL_PAGING_H

#include <stdint.h>
#include "memlayout.h"
#include "x86.h"

#define PAGE_ENTRIES 1024
#define PD_INDEX(v) (((uint32_t)(v) >> 22) & 0x3FF)
#define PT_INDEX(v) (((uint32_t)(v) >> 12) & 0x3FF)

#define PAGE_PRESENT 0x001u
#define PAGE_WRITE 0x002u
#define PAGE_USER 0x004u
#define PAGE_ACCESSED 0x020u // set by the CPU on any access
#define PAGE_DIRTY 0x040u    // set by the CPU on a write (tables only)
#define PAGE_FLAGS_MASK 0xFFFu

// Lab 1: identity map.
void init_paging(void);
void paging_map_page(uint32_t vaddr, uint32_t paddr, uint32_t flags);
void paging_unmap_page(uint32_t vaddr);
uint32_t paging_get_physical(uint32_t vaddr);

// Lab 2: kernel heap.
void *paging_alloc_page(void);
void paging_free_page(void *vaddr);

// Lab 3: address spaces.
uint32_t paging_get_directory_phys(void);
uint32_t paging_clone_directory(void);
uint32_t paging_clone_directory_from(uint32_t src_pd_phys);
void paging_map_page_in(uint32_t *pd, uint32_t vaddr, uint32_t paddr, uint32_t flags);
void paging_switch_directory(uint32_t phys);
void paging_free_directory(uint32_t pd_phys);

#endif
