// Lab 1 checks, run by the trusted harness after init_paging: the identity
// map, translation, fresh mappings, remapping and unmapping. They read the
// page tables themselves (ptwalk) and never trust what lab code prints.
#include "harness.h"
#include "kprintf.h"
#include "memmap.h"
#include "paging.h"
#include "pmm.h"
#include "probe.h"
#include "ptwalk.h"

#define PATTERN_A 0xA11CE001u
#define PATTERN_B 0xB0B0B002u

// The memory map first (the report draws it, the wrong entries marked),
// then the failure.
#define fail_with_map(cr3, ...) (memmap_report_directory(cr3), harness_fail(__VA_ARGS__))

// Fails the test when frame `addr` is not mapped to itself, present,
// writable and kernel-only in the directory at `cr3`.
static void check_identity_frame(uint32_t cr3, uint32_t addr) {
    struct ptwalk w = ptwalk(cr3, addr);
    if (w.status == PTWALK_UNREADABLE)
        fail_with_map(cr3, "frame 0x%08x: its page table could not be read (directory entry %u = 0x%08x)", addr,
                      PD_INDEX(addr), w.pde);
    if (w.status == PTWALK_NO_TABLE)
        fail_with_map(cr3, "frame 0x%08x is not mapped: directory entry %u is not present (RAM ends at 0x%08x)",
                      addr, PD_INDEX(addr), pmm_ram_end());
    if (w.status == PTWALK_NO_PAGE)
        fail_with_map(cr3, "frame 0x%08x is not mapped: entry %u of its page table is not present (RAM ends at "
                      "0x%08x)", addr, PT_INDEX(addr), pmm_ram_end());
    if ((w.pte & PAGE_MASK) != addr)
        fail_with_map(cr3, "page 0x%08x maps to frame 0x%08x, not to itself", addr, w.pte & PAGE_MASK);
    if (!(w.pte & PAGE_WRITE) || !(w.pde & PAGE_WRITE))
        fail_with_map(cr3, "page 0x%08x is read-only (pde 0x%08x, pte 0x%08x): the kernel writes everywhere", addr,
                      w.pde, w.pte);
    if ((w.pte & PAGE_USER) || (w.pde & PAGE_USER))
        fail_with_map(cr3, "page 0x%08x is user-accessible (pde 0x%08x, pte 0x%08x): kernel memory must not be",
                      addr, w.pde, w.pte);
}

// Paging is on, and every frame of RAM but page 0 (which the kernel unmaps
// after init_paging) maps to itself, kernel-only.
HARNESS_TEST(identity_map, "") {
    uint32_t cr3 = read_cr3(), end = pmm_ram_end();
    harness_check(read_cr0() & CR0_PG, "paging is off after init_paging (CR0.PG is clear)");
    harness_check(cr3 % PAGE_SIZE == 0 && cr3 < end, "CR3 = 0x%08x is not a page-aligned frame of RAM", cr3);
    for (uint32_t addr = PAGE_SIZE; addr < end; addr += PAGE_SIZE)
        check_identity_frame(cr3, addr);
    kprintf("identity map: %u frames map to themselves, RAM ends at 0x%08x\n", end / PAGE_SIZE - 1, end);
    harness_pass();
}

// paging_get_physical keeps the offset within the page, and says 0 for
// what is not mapped.
HARNESS_TEST(translate, "count unmapped") {
    uint32_t count = harness_param_u32("count", 100), end = pmm_ram_end();
    for (uint32_t i = 0; i < count; i++) {
        uint32_t addr = PAGE_SIZE + harness_random() % (end - PAGE_SIZE);
        uint32_t got = paging_get_physical(addr);
        harness_check(got == addr, "paging_get_physical(0x%08x) = 0x%08x, expected 0x%08x", addr, got, addr);
    }
    uint32_t unmapped = harness_param_u32("unmapped", 0xC0000123);
    uint32_t got = paging_get_physical(unmapped);
    harness_check(got == 0, "paging_get_physical(0x%08x) = 0x%08x for an unmapped address, expected 0", unmapped,
                  got);
    got = paging_get_physical(0x10);
    harness_check(got == 0, "paging_get_physical(0x10) = 0x%08x, but page 0 is unmapped: expected 0", got);
    kprintf("translate: %u addresses keep their offset; unmapped 0x%08x gives 0\n", count, unmapped);
    harness_pass();
}

static uint32_t fresh_frame(void) {
    uint32_t frame = pmm_alloc_page(PMM_ZONE_NORMAL);
    harness_check(frame != 0, "out of memory in the harness");
    return frame;
}

// A new mapping of a free virtual page: translation, flags, and memory seen
// through both addresses.
HARNESS_TEST(map_fresh, "vaddr offset") {
    uint32_t vaddr = harness_param_u32("vaddr", 0xC0400000), offset = harness_param_u32("offset", 0x123);
    uint32_t frame = fresh_frame();
    paging_map_page(vaddr, frame, PAGE_WRITE);
    struct ptwalk w = ptwalk(read_cr3(), vaddr);
    harness_check(w.status == PTWALK_MAPPED, "after paging_map_page(0x%08x, 0x%08x, PAGE_WRITE) the page is not "
                  "present in the directory CR3 points to", vaddr, frame);
    harness_check((w.pte & PAGE_MASK) == frame, "page 0x%08x maps to 0x%08x, expected 0x%08x", vaddr,
                  w.pte & PAGE_MASK, frame);
    harness_check((w.pte & PAGE_WRITE) && !(w.pte & PAGE_USER), "page 0x%08x has flags 0x%03x, expected "
                  "present|write, not user", vaddr, w.pte & PAGE_FLAGS_MASK);
    uint32_t got = paging_get_physical(vaddr + offset);
    harness_check(got == frame + offset, "paging_get_physical(0x%08x) = 0x%08x, expected 0x%08x", vaddr + offset,
                  got, frame + offset);
    *(volatile uint32_t *)(vaddr + (offset & ~3u)) = PATTERN_A;
    harness_check(*(volatile uint32_t *)(frame + (offset & ~3u)) == PATTERN_A,
                  "a write through 0x%08x did not reach frame 0x%08x", vaddr, frame);
    kprintf("map: 0x%08x -> frame 0x%08x, writes go through\n", vaddr, frame);
    harness_pass();
}

// A TLB (QEMU's too) may drop an entry at any time, to make room for
// another address; a missing invalidation shows only while the stale entry
// survives. So the TLB checks run on TLB_PAGES consecutive pages, which sit
// in different TLB sets: one surviving entry is enough to catch the bug.
#define TLB_PAGES 8

// Remapping a page that was just used must be seen at once: paging_map_page
// has to drop the old translation from the TLB (the harness does not).
HARNESS_TEST(remap, "vaddr") {
    uint32_t vaddr = harness_param_u32("vaddr", 0xC0800000);
    for (uint32_t i = 0; i < TLB_PAGES; i++) {
        uint32_t v = vaddr + i * PAGE_SIZE, first = fresh_frame(), second = fresh_frame();
        *(volatile uint32_t *)first = PATTERN_A;
        *(volatile uint32_t *)second = PATTERN_B;
        paging_map_page(v, first, PAGE_WRITE);
        harness_check(*(volatile uint32_t *)v == PATTERN_A, "0x%08x does not show the first frame", v);
        paging_map_page(v, second, PAGE_WRITE);
        uint32_t seen = *(volatile uint32_t *)v;
        harness_check(seen != PATTERN_A, "after remapping 0x%08x to another frame, reads still see the old frame: "
                      "the TLB kept the old translation (invalidate it with invlpg)", v);
        harness_check(seen == PATTERN_B, "after remapping, 0x%08x reads 0x%08x, not the new frame's 0x%08x", v, seen,
                      PATTERN_B);
    }
    kprintf("remap: 0x%08x now shows the new frame\n", vaddr);
    harness_pass();
}

// Unmapping a page that was just used: a touch faults at that address (the
// harness catches the fault) and translation says 0.
HARNESS_TEST(unmap, "vaddr") {
    uint32_t vaddr = harness_param_u32("vaddr", 0xC0C00000), value;
    for (uint32_t i = 0; i < TLB_PAGES; i++) {
        uint32_t v = vaddr + i * PAGE_SIZE;
        paging_map_page(v, fresh_frame(), PAGE_WRITE);
        harness_check(probe_read32(v, &value) == 0, "0x%08x faulted right after paging_map_page", v);
        paging_unmap_page(v);
        harness_check(probe_read32(v, &value) < 0, "reading 0x%08x after paging_unmap_page did not fault: the page "
                      "is still mapped, or the TLB kept it (invlpg)", v);
        harness_check(probe_last_fault().addr == v, "the fault was at 0x%08x, not 0x%08x", probe_last_fault().addr,
                      v);
        uint32_t got = paging_get_physical(v);
        harness_check(got == 0, "paging_get_physical(0x%08x) = 0x%08x after unmapping, expected 0", v, got);
    }
    kprintf("unmap: touching 0x%08x faulted with CR2=0x%08x\n", vaddr, vaddr);
    harness_pass();
}
