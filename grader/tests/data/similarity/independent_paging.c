// Paging: identity map (lab 1), kernel heap (lab 2), address spaces (lab 3).
//
// Every page table and directory lives in identity-mapped RAM, so its
// physical address is also a pointer to it, before and after paging is on.
#include <stdbool.h>
#include <string.h>
#include "kprintf.h"
#include "memlayout.h"
#include "paging.h"
#include "pmm.h"

// Lab 1: your private helpers (static functions and data) go here.
static uint32_t kdir[1024] __attribute__((aligned(4096)));
static uint32_t first_tables[4][1024] __attribute__((aligned(4096)));

static uint32_t *table_of(uint32_t va, int make)
{
    uint32_t entry = kdir[va >> 22];
    if ((entry & 1) == 0) {
        if (make == 0)
            return 0;
        uint32_t fresh = pmm_alloc_page(PMM_ZONE_NORMAL);
        if (fresh == 0)
            panic("out of frames for a table");
        uint8_t *bytes = (uint8_t *)fresh;
        for (int n = 0; n < 4096; n++)
            bytes[n] = 0;
        kdir[va >> 22] = fresh | 3;
        entry = kdir[va >> 22];
    }
    return (uint32_t *)(entry & 0xFFFFF000);
}

// Lab 1. Builds the master page directory, identity-maps every frame of RAM
// (0 to pmm_ram_end()) as present, writable and kernel-only, loads CR3 and
// turns paging on (CR0.PG). The tables for the first 16 MiB are static; the
// others come from the PMM.
void init_paging(void)
{
    int t = 0;
    while (t < 4) {
        kdir[t] = ((uint32_t)&first_tables[t][0]) | 3;
        t++;
    }
    uint32_t top = pmm_ram_end();
    uint32_t page = 0;
    while (page < top) {
        uint32_t *tab = table_of(page, 1);
        tab[(page >> 12) & 1023] = page | 3;
        page = page + 4096;
    }
    asm volatile("mov %0, %%cr3" :: "r"(kdir));
    uint32_t cr0;
    asm volatile("mov %%cr0, %0" : "=r"(cr0));
    cr0 = cr0 | 0x80000000;
    asm volatile("mov %0, %%cr0" :: "r"(cr0));
}

// Lab 1. Maps the page at `vaddr` to the frame at `paddr` in the master
// directory, with `flags` (PAGE_WRITE, PAGE_USER) plus PAGE_PRESENT, replacing
// any earlier mapping; the TLB never keeps the old one. Creates the page table
// when missing and panics when no frame is left for it.
void paging_map_page(uint32_t vaddr, uint32_t paddr, uint32_t flags)
{
    uint32_t *tab = table_of(vaddr, 1);
    if (flags & PAGE_USER)
        kdir[vaddr >> 22] = kdir[vaddr >> 22] | PAGE_USER;
    tab[(vaddr >> 12) & 1023] = (paddr & 0xFFFFF000) | (flags & 0xFFF) | 1;
    asm volatile("invlpg (%0)" :: "r"(vaddr) : "memory");
}

// Lab 1. Removes the mapping of the page at `vaddr` in the master directory,
// if any, and drops it from the TLB. The frame is not freed.
void paging_unmap_page(uint32_t vaddr)
{
    uint32_t *tab = table_of(vaddr, 0);
    if (tab == 0)
        return;
    tab[(vaddr >> 12) & 1023] = 0;
    asm volatile("invlpg (%0)" :: "r"(vaddr) : "memory");
}

// Lab 1. The physical address `vaddr` translates to in the master directory
// (frame plus the offset within the page), or 0 when it is not mapped.
uint32_t paging_get_physical(uint32_t vaddr)
{
    uint32_t *tab = table_of(vaddr, 0);
    if (tab == 0)
        return 0;
    uint32_t e = tab[(vaddr >> 12) & 1023];
    if ((e & 1) == 0)
        return 0;
    return (e & 0xFFFFF000) + (vaddr & 0xFFF);
}

// Lab 2: your private helpers (static functions and data) go here.

// Lab 2. Maps a fresh frame at the lowest free page of the kernel heap
// (KHEAP_BASE to KHEAP_TOP), writable and kernel-only, and returns the page's
// virtual address; NULL when the PMM or the heap range is exhausted. Heap
// pages are visible in every address space, including ones cloned before
// the page was allocated.
void *paging_alloc_page(void)
{
    // Lab 2: your code here.
    gap_not_implemented(__func__, 2, "02-kernel-heap.md");
}

// Lab 2. Unmaps the heap page at `vaddr` (from paging_alloc_page) and returns
// its frame to the PMM. Panics on an address that is not an allocated heap
// page.
void paging_free_page(void *vaddr)
{
    // Lab 2: your code here.
    gap_not_implemented(__func__, 2, "02-kernel-heap.md");
}

// Lab 3: your private helpers (static functions and data) go here.

// Lab 3. The physical address of the master directory (the kernel's own,
// built by init_paging).
uint32_t paging_get_directory_phys(void)
{
    // Lab 3: your code here.
    gap_not_implemented(__func__, 3, "03-clone-directory.md");
}

// Lab 3. A new directory whose kernel entries (everything outside USER_BASE
// to USER_TOP) are those of the master directory, so it shares the master's
// page tables; its user part is empty. Returns its physical address, 0 when
// out of memory.
uint32_t paging_clone_directory(void)
{
    // Lab 3: your code here.
    gap_not_implemented(__func__, 3, "03-clone-directory.md");
}

// Lab 3. Like paging_clone_directory, plus a deep copy of every user page of
// directory `src_pd_phys`: each gets a new frame with the same contents and
// flags. On any failure, frees everything it allocated and returns 0.
uint32_t paging_clone_directory_from(uint32_t src_pd_phys)
{
    // Lab 3: your code here.
    gap_not_implemented(__func__, 3, "03-clone-directory.md");
}

// Lab 3. Maps `vaddr` to `paddr` with `flags` | PAGE_PRESENT in directory
// `pd` (a pointer to it: directories are identity-mapped), creating the page
// table when missing (user-accessible for user addresses). Panics when no
// frame is left for the table.
void paging_map_page_in(uint32_t *pd, uint32_t vaddr, uint32_t paddr, uint32_t flags)
{
    // Lab 3: your code here.
    gap_not_implemented(__func__, 3, "03-clone-directory.md");
}

// Lab 3. Makes the directory at `phys` the current one (CR3).
void paging_switch_directory(uint32_t phys)
{
    // Lab 3: your code here.
    gap_not_implemented(__func__, 3, "03-clone-directory.md");
}

// Lab 3. Frees directory `pd_phys`: every frame mapped in its user part, its
// user page tables and the directory itself; never the kernel's shared
// tables. Panics when asked to free the loaded directory or the master.
void paging_free_directory(uint32_t pd_phys)
{
    // Lab 3: your code here.
    gap_not_implemented(__func__, 3, "03-clone-directory.md");
}
