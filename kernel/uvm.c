// User address spaces (see uvm.h) and copy_to_user / copy_from_user.
#include <string.h>
#include "kprintf.h"
#include "paging.h"
#include "pmm.h"
#include "process.h"
#include "uvm.h"

#define USER_TABLE_FLAGS (PAGE_PRESENT | PAGE_WRITE | PAGE_USER)

uint32_t *uvm_pte(uint32_t pd_phys, uint32_t vaddr) {
    uint32_t pde = ((uint32_t *)pd_phys)[PD_INDEX(vaddr)];
    if (!(pde & PAGE_PRESENT))
        return NULL;
    return &((uint32_t *)(pde & PAGE_MASK))[PT_INDEX(vaddr)];
}

// paging_map_page_in panics when no frame is left for a page table; exec
// and sbrk must fail cleanly instead, so the table is made here first.
static bool ensure_table(uint32_t pd_phys, uint32_t vaddr) {
    uint32_t *pde = &((uint32_t *)pd_phys)[PD_INDEX(vaddr)];
    if (*pde & PAGE_PRESENT)
        return true;
    phys_addr_t table = pmm_alloc_page(PMM_ZONE_NORMAL);
    if (!table)
        return false;
    memset((void *)table, 0, PAGE_SIZE);
    *pde = table | USER_TABLE_FLAGS;
    return true;
}

// Kernel page tables are shared by every address space: a user mapping
// there would show up in all of them.
static void check_user_page(const char *function, uint32_t vaddr) {
    if (vaddr < USER_BASE || vaddr >= USER_TOP)
        panic("%s: 0x%08x is not a user address", function, vaddr);
}

int uvm_map(uint32_t pd_phys, uint32_t vaddr, uint32_t frame, uint32_t flags) {
    check_user_page(__func__, vaddr);
    if (!ensure_table(pd_phys, vaddr))
        return -1;
    paging_map_page_in((uint32_t *)pd_phys, vaddr, frame, flags);
    return 0;
}

int uvm_alloc(uint32_t pd_phys, uint32_t start, uint32_t end, uint32_t flags) {
    for (uint32_t va = start; va < end; va += PAGE_SIZE) {
        phys_addr_t frame = pmm_alloc_page(PMM_ZONE_NORMAL);
        if (frame)
            memset((void *)frame, 0, PAGE_SIZE);
        if (!frame || uvm_map(pd_phys, va, frame, flags) < 0) {
            if (frame)
                pmm_free_page(frame);
            uvm_dealloc(pd_phys, start, va);
            return -1;
        }
    }
    return 0;
}

void uvm_dealloc(uint32_t pd_phys, uint32_t start, uint32_t end) {
    for (uint32_t va = start; va < end; va += PAGE_SIZE) {
        check_user_page(__func__, va);
        uint32_t *pte = uvm_pte(pd_phys, va);
        if (!pte || !(*pte & PAGE_PRESENT))
            continue;
        pmm_free_page(*pte & PAGE_MASK);
        *pte = 0;
        if (pd_phys == read_cr3())
            invlpg(va);
    }
}

// The kernel address (identity map) of user byte `uaddr`, or NULL when its
// page is not present and user-accessible (and writable, when `write`).
// The CPU combines directory and table flags, so both must allow it.
static char *user_byte(uint32_t pd_phys, uint32_t uaddr, bool write) {
    uint32_t need = PAGE_PRESENT | PAGE_USER | (write ? PAGE_WRITE : 0);
    if (uaddr < USER_BASE || uaddr >= USER_TOP)
        return NULL;
    if ((((uint32_t *)pd_phys)[PD_INDEX(uaddr)] & need) != need)
        return NULL;
    uint32_t pte = *uvm_pte(pd_phys, uaddr);
    if ((pte & need) != need)
        return NULL;
    return (char *)((pte & PAGE_MASK) | (uaddr & ~PAGE_MASK));
}

bool uvm_range_ok(uint32_t pd_phys, uint32_t uaddr, uint32_t n, bool write) {
    if (n == 0)
        return true;
    if (uaddr < USER_BASE || n > USER_TOP - uaddr)
        return false;
    for (uint32_t page = PAGE_ALIGN_DOWN(uaddr); page < uaddr + n; page += PAGE_SIZE)
        if (!user_byte(pd_phys, page, write))
            return false;
    return true;
}

// Copies between kernel buffer `kbuf` and user range [uaddr, uaddr + n),
// one page piece at a time, once the whole range is known to be good.
static int copy_user(uint32_t pd_phys, uint32_t uaddr, void *kbuf, uint32_t n, bool to_user) {
    if (!uvm_range_ok(pd_phys, uaddr, n, to_user))
        return -1;
    char *k = kbuf;
    while (n) {
        uint32_t piece = PAGE_SIZE - (uaddr & ~PAGE_MASK);
        if (piece > n)
            piece = n;
        char *u = user_byte(pd_phys, uaddr, to_user);
        memcpy(to_user ? u : k, to_user ? k : u, piece);
        uaddr += piece, k += piece, n -= piece;
    }
    return 0;
}

int uvm_copyout(uint32_t pd_phys, uint32_t uaddr, const void *src, uint32_t n) {
    return copy_user(pd_phys, uaddr, (void *)src, n, true);
}

int uvm_copyinstr(uint32_t pd_phys, char *dst, uint32_t uaddr, uint32_t size) {
    for (uint32_t i = 0; i < size; i++) {
        const char *c = user_byte(pd_phys, uaddr + i, false);
        if (!c)
            return -1;
        if ((dst[i] = *c) == 0)
            return (int)i;
    }
    return -1;
}

int copy_to_user(void *uaddr, const void *src, uint32_t n) {
    return uvm_copyout(process_current()->pd_phys, (uint32_t)uaddr, src, n);
}

int copy_from_user(void *dst, const void *uaddr, uint32_t n) {
    return copy_user(process_current()->pd_phys, (uint32_t)uaddr, dst, n, false);
}
