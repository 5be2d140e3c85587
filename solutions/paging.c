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

//@ lab 1 private
#define LOW_TABLES (DMA_LIMIT / (PAGE_SIZE * PAGE_ENTRIES)) // 4 tables map 16 MiB
#define TABLE_FLAGS (PAGE_PRESENT | PAGE_WRITE)

// The master directory and the tables of the first 16 MiB are static: they
// must exist whatever the PMM can give.
static uint32_t master_dir[PAGE_ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static uint32_t low_tables[LOW_TABLES][PAGE_ENTRIES] __attribute__((aligned(PAGE_SIZE)));

// Returns the entry for `vaddr` in directory `pd`. A missing table is created
// (zeroed) when `create`; otherwise, or when no frame is left for it, returns
// NULL. The directory entry gets `pde_flags`, a table that existed included:
// a user page needs PAGE_USER at both levels.
static uint32_t *walk(uint32_t *pd, uint32_t vaddr, bool create, uint32_t pde_flags) {
    uint32_t *pde = &pd[PD_INDEX(vaddr)];
    if (!(*pde & PAGE_PRESENT)) {
        if (!create)
            return NULL;
        phys_addr_t table = pmm_alloc_page(PMM_ZONE_NORMAL);
        if (!table)
            return NULL;
        memset((void *)table, 0, PAGE_SIZE);
        *pde = table;
    }
    *pde |= pde_flags;
    uint32_t *table = (uint32_t *)(*pde & PAGE_MASK);
    return &table[PT_INDEX(vaddr)];
}

// Maps [0, end) to itself, kernel-only, filling one table at a time.
static void identity_map(uint32_t end) {
    for (uint32_t addr = 0; addr < end; addr += PAGE_SIZE) {
        uint32_t *pte = walk(master_dir, addr, true, TABLE_FLAGS);
        if (!pte)
            panic("init_paging: out of memory for the page tables of 0x%08x", addr);
        *pte = addr | PAGE_PRESENT | PAGE_WRITE;
    }
}
//@ end

// Lab 1. Builds the master page directory, identity-maps every frame of RAM
// (0 to pmm_ram_end()) as present, writable and kernel-only, loads CR3 and
// turns paging on (CR0.PG). The tables for the first 16 MiB are static; the
// others come from the PMM.
void init_paging(void)
//@ lab 1 body
{
    for (int i = 0; i < (int)LOW_TABLES; i++)
        master_dir[i] = (uint32_t)low_tables[i] | TABLE_FLAGS;
    identity_map(pmm_ram_end());
    write_cr3((uint32_t)master_dir);
    write_cr0(read_cr0() | CR0_PG);
}
//@ end

// Lab 1. Maps the page at `vaddr` to the frame at `paddr` in the master
// directory, with `flags` (PAGE_WRITE, PAGE_USER) plus PAGE_PRESENT, replacing
// any earlier mapping; the TLB never keeps the old one. Creates the page table
// when missing and panics when no frame is left for it. The CPU checks both
// levels: the directory entry of the page's table is present and writable,
// and gets PAGE_USER whenever `flags` has it (a new table or one that
// exists); a table made for kernel pages only stays kernel-only.
void paging_map_page(uint32_t vaddr, uint32_t paddr, uint32_t flags)
//@ lab 1 body
{
    uint32_t *pte = walk(master_dir, vaddr, true, TABLE_FLAGS | (flags & PAGE_USER));
    if (!pte)
        panic("paging_map_page: out of memory for a page table");
    *pte = (paddr & PAGE_MASK) | (flags & PAGE_FLAGS_MASK) | PAGE_PRESENT;
    invlpg(vaddr);
}
//@ end

// Lab 1. Removes the mapping of the page at `vaddr` in the master directory,
// if any, and drops it from the TLB. The frame is not freed.
void paging_unmap_page(uint32_t vaddr)
//@ lab 1 body
{
    uint32_t *pte = walk(master_dir, vaddr, false, 0);
    if (pte) {
        *pte = 0;
        invlpg(vaddr);
    }
}
//@ end

// Lab 1. The physical address `vaddr` translates to in the master directory
// (frame plus the offset within the page), or 0 when it is not mapped.
uint32_t paging_get_physical(uint32_t vaddr)
//@ lab 1 body
{
    uint32_t *pte = walk(master_dir, vaddr, false, 0);
    if (!pte || !(*pte & PAGE_PRESENT))
        return 0;
    return (*pte & PAGE_MASK) | (vaddr & ~PAGE_MASK);
}
//@ end

//@ lab 2 private
static uint32_t heap_hint = KHEAP_BASE; // no free heap page lies below it

// Creates every page table of the heap range in the master directory, once:
// directories cloned afterwards copy these entries, so heap pages mapped
// later show up in every address space.
static bool create_heap_tables(void) {
    for (uint32_t v = KHEAP_BASE; v < KHEAP_TOP; v += PAGE_SIZE * PAGE_ENTRIES)
        if (!walk(master_dir, v, true, TABLE_FLAGS))
            return false;
    return true;
}
//@ end

// Lab 2. Maps a fresh frame at the lowest free page of the kernel heap
// (KHEAP_BASE to KHEAP_TOP), writable and kernel-only, and returns the page's
// virtual address; NULL when the PMM or the heap range is exhausted. Heap
// pages are visible in every address space, including ones cloned before
// the page was allocated.
void *paging_alloc_page(void)
//@ lab 2 body
{
    if (!create_heap_tables())
        return NULL;
    for (uint32_t v = heap_hint; v < KHEAP_TOP; v += PAGE_SIZE) {
        uint32_t *pte = walk(master_dir, v, false, 0);
        if (*pte & PAGE_PRESENT)
            continue;
        phys_addr_t frame = pmm_alloc_page(PMM_ZONE_NORMAL);
        if (!frame)
            return NULL;
        *pte = frame | PAGE_PRESENT | PAGE_WRITE;
        heap_hint = v + PAGE_SIZE;
        return (void *)v;
    }
    return NULL;
}
//@ end

// Lab 2. Unmaps the heap page at `vaddr` (from paging_alloc_page) and returns
// its frame to the PMM. Panics on an address that is not an allocated heap
// page.
void paging_free_page(void *vaddr)
//@ lab 2 body
{
    uint32_t v = (uint32_t)vaddr;
    uint32_t *pte = walk(master_dir, v, false, 0);
    if (v < KHEAP_BASE || v >= KHEAP_TOP || v % PAGE_SIZE || !pte || !(*pte & PAGE_PRESENT))
        panic("paging_free_page: 0x%08x is not an allocated heap page", v);
    phys_addr_t frame = *pte & PAGE_MASK;
    *pte = 0;
    invlpg(v);
    pmm_free_page(frame);
    if (v < heap_hint)
        heap_hint = v;
}
//@ end

//@ lab 3 private
#define USER_PDE_FIRST PD_INDEX(USER_BASE)
#define USER_PDE_END PD_INDEX(USER_TOP) // one past the last user entry

// Copies one present user page of `src_pte` into `dst` at `vaddr`: a new
// frame, the same contents, the same flags (without Accessed and Dirty).
static bool copy_user_page(uint32_t *dst, uint32_t vaddr, uint32_t src_pte) {
    uint32_t *pte = walk(dst, vaddr, true, TABLE_FLAGS | PAGE_USER);
    if (!pte)
        return false;
    phys_addr_t frame = pmm_alloc_page(PMM_ZONE_NORMAL);
    if (!frame)
        return false;
    memcpy((void *)frame, (void *)(src_pte & PAGE_MASK), PAGE_SIZE);
    *pte = frame | (src_pte & PAGE_FLAGS_MASK & ~(PAGE_ACCESSED | PAGE_DIRTY));
    return true;
}
//@ end

// Lab 3. The physical address of the master directory (the kernel's own,
// built by init_paging).
uint32_t paging_get_directory_phys(void)
//@ lab 3 body
{
    return (uint32_t)master_dir;
}
//@ end

// Lab 3. A new directory whose kernel entries (everything outside USER_BASE
// to USER_TOP) are those of the master directory, so it shares the master's
// page tables; its user part is empty. Returns its physical address, 0 when
// out of memory.
uint32_t paging_clone_directory(void)
//@ lab 3 body
{
    phys_addr_t pd = pmm_alloc_page(PMM_ZONE_NORMAL);
    if (!pd)
        return 0;
    uint32_t *dir = (uint32_t *)pd;
    for (uint32_t i = 0; i < PAGE_ENTRIES; i++)
        dir[i] = i >= USER_PDE_FIRST && i < USER_PDE_END ? 0 : master_dir[i];
    return pd;
}
//@ end

// Lab 3. Like paging_clone_directory, plus a deep copy of every user page of
// directory `src_pd_phys`: each gets a new frame with the same contents and
// flags. On any failure, frees everything it allocated and returns 0.
uint32_t paging_clone_directory_from(uint32_t src_pd_phys)
//@ lab 3 body
{
    uint32_t pd = paging_clone_directory();
    if (!pd)
        return 0;
    uint32_t *src = (uint32_t *)src_pd_phys;
    for (uint32_t i = USER_PDE_FIRST; i < USER_PDE_END; i++) {
        if (!(src[i] & PAGE_PRESENT))
            continue;
        uint32_t *table = (uint32_t *)(src[i] & PAGE_MASK);
        for (uint32_t j = 0; j < PAGE_ENTRIES; j++) {
            if (!(table[j] & PAGE_PRESENT))
                continue;
            if (!copy_user_page((uint32_t *)pd, i << 22 | j << 12, table[j])) {
                paging_free_directory(pd);
                return 0;
            }
        }
    }
    return pd;
}
//@ end

// Lab 3. Maps `vaddr` to `paddr` with `flags` | PAGE_PRESENT in directory
// `pd` (a pointer to it: directories are identity-mapped), creating the page
// table when missing (user-accessible for user addresses). Panics when no
// frame is left for the table.
void paging_map_page_in(uint32_t *pd, uint32_t vaddr, uint32_t paddr, uint32_t flags)
//@ lab 3 body
{
    uint32_t *pte = walk(pd, vaddr, true, TABLE_FLAGS | (flags & PAGE_USER));
    if (!pte)
        panic("paging_map_page_in: out of memory for a page table");
    *pte = (paddr & PAGE_MASK) | (flags & PAGE_FLAGS_MASK) | PAGE_PRESENT;
    if ((uint32_t)pd == read_cr3())
        invlpg(vaddr);
}
//@ end

// Lab 3. Makes the directory at `phys` the current one (CR3).
void paging_switch_directory(uint32_t phys)
//@ lab 3 body
{
    write_cr3(phys);
}
//@ end

// Lab 3. Frees directory `pd_phys`: every frame mapped in its user part, its
// user page tables and the directory itself; never the kernel's shared
// tables. Panics when asked to free the loaded directory or the master.
void paging_free_directory(uint32_t pd_phys)
//@ lab 3 body
{
    if (pd_phys == read_cr3() || pd_phys == (uint32_t)master_dir)
        panic("paging_free_directory: 0x%08x is in use", pd_phys);
    uint32_t *pd = (uint32_t *)pd_phys;
    for (uint32_t i = USER_PDE_FIRST; i < USER_PDE_END; i++) {
        if (!(pd[i] & PAGE_PRESENT))
            continue;
        uint32_t *table = (uint32_t *)(pd[i] & PAGE_MASK);
        for (uint32_t j = 0; j < PAGE_ENTRIES; j++)
            if (table[j] & PAGE_PRESENT)
                pmm_free_page(table[j] & PAGE_MASK);
        pmm_free_page(pd[i] & PAGE_MASK);
    }
    pmm_free_page(pd_phys);
}
//@ end
