// The physical memory manager: hands out 4 KiB frames of RAM.
//
// Frames come from the multiboot memory map, capped at IDENTITY_LIMIT (1 GiB).
// Never handed out: frame 0, the first MiB (BIOS, VGA), the kernel image and
// anything the memory map does not call available.
#ifndef KERNEL_PMM_H
#define KERNEL_PMM_H

#include <stdint.h>

typedef uint32_t phys_addr_t;

#define PMM_ZONE_DMA 0    // frames below 16 MiB (DMA_LIMIT)
#define PMM_ZONE_NORMAL 1 // frames from 16 MiB up

// Builds the free-frame bitmap from the (copied) multiboot memory map.
void pmm_init(void);

// Returns the physical address of a free frame from `zone`, or 0 when none is
// left. PMM_ZONE_NORMAL falls back to DMA frames when NORMAL is empty. The
// frame's contents are undefined.
phys_addr_t pmm_alloc_page(int zone);

// Returns `frame` (page-aligned, handed out by pmm_alloc_page) to the pool.
// Freeing a frame twice or a frame the PMM does not own panics.
void pmm_free_page(phys_addr_t frame);

// KiB of memory above 1 MiB, capped at 1 GiB: the multiboot mem_upper value.
uint32_t pmm_get_memory_size(void);

// One past the highest address of usable RAM (page-aligned, at most 1 GiB).
uint32_t pmm_ram_end(void);

// Number of frames currently free, in all zones or in one zone.
uint32_t pmm_free_count(void);
uint32_t pmm_zone_free_count(int zone);

// True when `frame` is usable RAM that the PMM manages (free or not).
int pmm_is_managed(phys_addr_t frame);
// True when `frame` is managed and free (tests: what a freed address space
// gave back).
int pmm_is_free(phys_addr_t frame);

// The two bitmaps, read-only, for the memory map (memmap.c): bit f % 32 of
// word f / 32 is frame f; `managed` as above, `used` set when not free.
const uint32_t *pmm_managed_bits(void);
const uint32_t *pmm_used_bits(void);

// Test hook: the `n`-th call to pmm_alloc_page from now (n >= 1) fails and
// returns 0, once; only calls made while armed count. n == 0 disarms.
void pmm_fail_nth_alloc(uint32_t n);
// Allocations that failed by injection since boot.
uint32_t pmm_injected_failures(void);

#endif
