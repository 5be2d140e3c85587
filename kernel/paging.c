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

// Lab 1. Builds the master page directory, identity-maps every frame of RAM
// (0 to pmm_ram_end()) as present, writable and kernel-only, loads CR3 and
// turns paging on (CR0.PG). The tables for the first 16 MiB are static; the
// others come from the PMM.
void init_paging(void)
{
    // Lab 1: your code here.
    gap_not_implemented(__func__, 1, "01-identity-map.md");
}

// Lab 1. Maps the page at `vaddr` to the frame at `paddr` in the master
// directory, with `flags` (PAGE_WRITE, PAGE_USER) plus PAGE_PRESENT, replacing
// any earlier mapping; the TLB never keeps the old one. Creates the page table
// when missing and panics when no frame is left for it. The CPU checks both
// levels: the directory entry of the page's table is present and writable,
// and gets PAGE_USER whenever `flags` has it (a new table or one that
// exists); a table made for kernel pages only stays kernel-only.
void paging_map_page(uint32_t vaddr, uint32_t paddr, uint32_t flags)
{
    // Lab 1: your code here.
    gap_not_implemented(__func__, 1, "01-identity-map.md");
}

// Lab 1. Removes the mapping of the page at `vaddr` in the master directory,
// if any, and drops it from the TLB. The frame is not freed.
void paging_unmap_page(uint32_t vaddr)
{
    // Lab 1: your code here.
    gap_not_implemented(__func__, 1, "01-identity-map.md");
}

// Lab 1. The physical address `vaddr` translates to in the master directory
// (frame plus the offset within the page), or 0 when it is not mapped.
uint32_t paging_get_physical(uint32_t vaddr)
{
    // Lab 1: your code here.
    gap_not_implemented(__func__, 1, "01-identity-map.md");
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
