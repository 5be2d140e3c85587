// Lab 1 checks, run by the trusted harness after init_paging: the identity
// map, translation, fresh mappings, remapping, unmapping, and user pages
// seen from ring 3. They read the page tables themselves (ptwalk), or touch
// the pages, and never trust what lab code prints.
#include <stdbool.h>
#include "exception.h"
#include "harness.h"
#include "kprintf.h"
#include "memmap.h"
#include "paging.h"
#include "pmm.h"
#include "probe.h"
#include "ptwalk.h"
#include "selftest/ring3.h"

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

// ---- map_user: PAGE_USER reaches ring 3, through new and existing tables -----

#define REGION (PAGE_SIZE * PAGE_ENTRIES) // what one page table maps: 4 MiB

// The pages map_user maps, in three 4 MiB regions of user space that have no
// page table yet: the code ring 3 runs (user, read-only) in the first; a user
// page, then a kernel page in the second (a new table, made for the user
// page); a kernel page, then a user page in the third (a new table, made
// for the kernel page).
enum { CODE, USER_NEW, KERNEL_SAME, KERNEL_NEW, USER_OLD, PAGES };
static const struct {
    const char *what;
    uint32_t flags;
} user_layout[PAGES] = {
    {"a read-only user page in a new page table", PAGE_USER},
    {"a user page in a new page table", PAGE_USER | PAGE_WRITE},
    {"a kernel page in the same table as a user page", PAGE_WRITE},
    {"a kernel page in a new page table", PAGE_WRITE},
    {"a user page in a table made for a kernel page", PAGE_USER},
};
static uint32_t user_vaddr[PAGES], user_frame[PAGES];

// What ring 3 does, in order: each access must fault or not.
enum { READ_USER_NEW, WRITE_USER_NEW, READ_KERNEL_SAME, READ_KERNEL_NEW, READ_USER_OLD, WRITE_USER_OLD,
       READ_KERNEL_IMAGE, ACCESSES };
static struct ring3_access accesses[ACCESSES];
static const struct {
    int page; // in user_layout; PAGES: the kernel image
    bool write, faults;
} access_plan[ACCESSES] = {
    {USER_NEW, false, false},   {USER_NEW, true, false},   {KERNEL_SAME, false, true}, {KERNEL_NEW, false, true},
    {USER_OLD, false, false},   {USER_OLD, true, true},    {PAGES, false, true},
};

// "paging_map_page(0x40c03000, 0x01234000, PAGE_USER | PAGE_WRITE)"
static const char *map_call(int page) {
    static char text[96];
    uint32_t f = user_layout[page].flags;
    ksnprintf(text, sizeof text, "paging_map_page(0x%08x, 0x%08x, %s%s%s)", user_vaddr[page], user_frame[page],
              f & PAGE_USER ? "PAGE_USER" : "", f == (PAGE_USER | PAGE_WRITE) ? " | " : "",
              f & PAGE_WRITE ? "PAGE_WRITE" : "");
    return text;
}

// Why ring 3 could not reach `page`, from its entries.
static const char *missing_user_flag(int page) {
    struct ptwalk w = ptwalk(read_cr3(), user_vaddr[page]);
    static char text[192];
    if (w.status != PTWALK_MAPPED)
        ksnprintf(text, sizeof text, "it is not mapped (directory entry 0x%08x, page entry 0x%08x)", w.pde, w.pte);
    else if (!(w.pte & PAGE_USER))
        ksnprintf(text, sizeof text, "its page entry 0x%08x lacks PAGE_USER: the entry gets `flags`", w.pte);
    else if (!(w.pde & PAGE_USER))
        ksnprintf(text, sizeof text, "its directory entry 0x%08x lacks PAGE_USER: when `flags` has PAGE_USER, the "
                  "directory entry of the page's table must have it too, %s", w.pde,
                  page == USER_OLD ? "also for a table that already exists" : "starting with a table it creates");
    else
        ksnprintf(text, sizeof text, "directory entry 0x%08x, page entry 0x%08x", w.pde, w.pte);
    return text;
}

static void check_access(int i) {
    const struct ring3_access *a = &accesses[i];
    int page = access_plan[i].page;
    const char *verb = a->write ? "write" : "read";
    if (page == PAGES) {
        harness_check(a->faulted, "ring 3 could read the kernel at 0x%08x: kernel memory must never be "
                      "user-accessible", a->addr);
        return;
    }
    if (access_plan[i].faults) {
        harness_check(a->faulted, "ring 3 could %s 0x%08x, %s, mapped with %s: %s", verb, a->addr,
                      user_layout[page].what, map_call(page),
                      a->write ? "a user page without PAGE_WRITE is read-only in ring 3" : "a page without "
                      "PAGE_USER is kernel-only");
        return;
    }
    char fault[96] = "";
    if (a->faulted)
        exception_decode_page_fault(a->err, fault, sizeof fault);
    harness_check(!a->faulted, "ring 3 could not %s 0x%08x, %s, mapped with %s (%s): %s", verb, a->addr,
                  user_layout[page].what, map_call(page), fault, missing_user_flag(page));
    uint32_t seen = *(volatile uint32_t *)(user_frame[page] + (a->addr & ~PAGE_MASK));
    harness_check(seen == a->value, "ring 3 %s 0x%08x at 0x%08x, but the frame 0x%08x holds 0x%08x: the page maps "
                  "another frame", a->write ? "wrote" : "read", a->value, a->addr, user_frame[page], seen);
}

static HARNESS_PASSES void user_done(const struct ring3_access *code_fault) {
    if (code_fault->faulted) {
        char fault[96];
        exception_decode_page_fault(code_fault->err, fault, sizeof fault);
        harness_fail("ring 3 could not run code from 0x%08x, %s, mapped with %s (%s): %s", code_fault->addr,
                     user_layout[CODE].what, map_call(CODE), fault, missing_user_flag(CODE));
    }
    for (int i = 0; i < ACCESSES; i++)
        check_access(i);
    kprintf("map user: ring 3 reached user pages 0x%08x and 0x%08x; kernel pages 0x%08x, 0x%08x and 0x%08x faulted\n",
            user_vaddr[USER_NEW], user_vaddr[USER_OLD], user_vaddr[KERNEL_SAME], user_vaddr[KERNEL_NEW],
            accesses[READ_KERNEL_IMAGE].addr);
    harness_pass();
}

// Maps the pages of user_layout, checking the directory entry of the
// kernel page's new table before a user page joins it.
static void map_user_pages(void) {
    uint32_t first = PD_INDEX(USER_BASE) + harness_random() % (PD_INDEX(USER_TOP) - PD_INDEX(USER_BASE) - 3);
    uint32_t region[PAGES] = {first, first + 1, first + 1, first + 2, first + 2};
    for (int page = 0; page < PAGES; page++) {
        do
            user_vaddr[page] = region[page] * REGION + harness_random() % PAGE_ENTRIES * PAGE_SIZE;
        while (page > 0 && user_vaddr[page] == user_vaddr[page - 1]);
        user_frame[page] = fresh_frame();
        *(volatile uint32_t *)user_frame[page] = PATTERN_A ^ user_vaddr[page];
        paging_map_page(user_vaddr[page], user_frame[page], user_layout[page].flags);
        struct ptwalk w = ptwalk(read_cr3(), user_vaddr[page]);
        harness_check(w.status == PTWALK_MAPPED, "after %s the page is not present", map_call(page));
        if (page == KERNEL_NEW)
            harness_check(!(w.pde & PAGE_USER), "%s created a page table whose directory entry 0x%08x has "
                          "PAGE_USER: a table made for a kernel page is kernel-only (PAGE_USER goes into a "
                          "directory entry with a user page)", map_call(page), w.pde);
    }
}

HARNESS_TEST(map_user, "") {
    for (uint32_t v = USER_BASE; v < USER_TOP; v += REGION)
        harness_check(ptwalk(read_cr3(), v).status == PTWALK_NO_TABLE, "user space already has a page table at "
                      "0x%08x", v);
    map_user_pages();
    for (int i = 0; i < ACCESSES; i++) {
        int page = access_plan[i].page;
        uint32_t base = page == PAGES ? KERNEL_LOAD : user_vaddr[page];
        accesses[i] = (struct ring3_access){.addr = base + (harness_random() % PAGE_SIZE & ~3u),
                                            .write = access_plan[i].write, .value = PATTERN_B ^ i};
    }
    ring3_run(user_vaddr[CODE], user_frame[CODE], accesses, ACCESSES, user_done);
}
