// User address spaces, for trusted code: mapping and unmapping user pages in
// any directory, and reaching user memory through a directory's page tables
// (which is how copy_to_user and copy_from_user, process.h, work).
//
// Directories and page tables live in identity-mapped RAM, so these work on
// any directory, loaded or not; user addresses are [USER_BASE, USER_TOP).
#ifndef KERNEL_UVM_H
#define KERNEL_UVM_H

#include <stdbool.h>
#include <stdint.h>

// The page-table entry of `vaddr` in directory `pd_phys`, or NULL when no
// page table covers it. The entry itself may be empty.
uint32_t *uvm_pte(uint32_t pd_phys, uint32_t vaddr);

// Maps `frame` at `vaddr` with `flags` through paging_map_page_in, having
// made sure the page table exists: 0, or -1 when no frame is left for it
// (never the panic paging_map_page_in gives then).
int uvm_map(uint32_t pd_phys, uint32_t vaddr, uint32_t frame, uint32_t flags);

// Maps fresh zeroed frames at every page of [start, end) (page-aligned),
// with `flags`. 0, or -1 when out of memory, having freed what it mapped.
int uvm_alloc(uint32_t pd_phys, uint32_t start, uint32_t end, uint32_t flags);

// Unmaps every page of [start, end) (page-aligned) and frees its frame.
void uvm_dealloc(uint32_t pd_phys, uint32_t start, uint32_t end);

// True when every byte of [uaddr, uaddr + n) is in user space, present and
// user-accessible (and writable, when `write`) in directory `pd_phys`.
bool uvm_range_ok(uint32_t pd_phys, uint32_t uaddr, uint32_t n, bool write);

// Copies n bytes into user memory of `pd_phys` at `uaddr` (which must be
// writable): 0, or -1 with nothing copied.
int uvm_copyout(uint32_t pd_phys, uint32_t uaddr, const void *src, uint32_t n);

// Copies the string at `uaddr` into dst, terminator included: its length,
// or -1 on a bad pointer or when it does not fit in `size` bytes.
int uvm_copyinstr(uint32_t pd_phys, char *dst, uint32_t uaddr, uint32_t size);

#endif
