// Lab 3 checks: address spaces. A source address space is built with the
// lab's own paging_clone_directory and paging_map_page_in, then cloned;
// every check walks both directories with trusted code (ptwalk).
#include <stdbool.h>
#include "harness.h"
#include "kprintf.h"
#include "paging.h"
#include "pmm.h"
#include "ptwalk.h"

#define MAX_PAGES 256
#define USER_PDE_FIRST PD_INDEX(USER_BASE)
#define USER_PDE_END PD_INDEX(USER_TOP)

struct user_page {
    uint32_t vaddr;
    uint32_t flags; // PAGE_USER, maybe PAGE_WRITE
};

static struct user_page layout[MAX_PAGES];
static uint32_t layout_count;

static uint32_t fill(uint32_t page, uint32_t word) { return page ^ (word * 0x9E3779B9u) ^ 0xC10E0000u; }

static uint32_t new_directory(void) {
    uint32_t pd = paging_clone_directory();
    harness_check(pd != 0, "paging_clone_directory() returned 0 with %u frames free", pmm_free_count());
    harness_check(pd % PAGE_SIZE == 0, "paging_clone_directory() returned 0x%08x: not page-aligned", pd);
    return pd;
}

// Picks `n` distinct user pages: clusters in a few random 4 MiB regions (as
// a program's code, heap and stack are), some read-only.
static void choose_layout(uint32_t n) {
    harness_check(n <= MAX_PAGES, "test parameter pages=%u is too large", n);
    layout_count = 0;
    while (layout_count < n) {
        uint32_t region = USER_BASE + (harness_random() % (USER_PDE_END - USER_PDE_FIRST)) * 0x400000u;
        uint32_t run = 1 + harness_random() % 16;
        uint32_t first = region + (harness_random() % (1024 - run)) * PAGE_SIZE;
        for (uint32_t i = 0; i < run && layout_count < n; i++) {
            uint32_t v = first + i * PAGE_SIZE;
            bool taken = false;
            for (uint32_t j = 0; j < layout_count; j++)
                taken |= layout[j].vaddr == v;
            if (!taken)
                layout[layout_count++] = (struct user_page){v, PAGE_USER | (harness_random() % 3 ? PAGE_WRITE : 0)};
        }
    }
}

// A source address space holding layout[], each page filled with fill().
static uint32_t build_source(void) {
    uint32_t pd = new_directory();
    for (uint32_t i = 0; i < layout_count; i++) {
        uint32_t frame = pmm_alloc_page(PMM_ZONE_NORMAL);
        harness_check(frame != 0, "out of memory in the harness");
        for (uint32_t w = 0; w < PAGE_SIZE / 4; w++)
            ((uint32_t *)frame)[w] = fill(layout[i].vaddr, w);
        paging_map_page_in((uint32_t *)pd, layout[i].vaddr, frame, layout[i].flags);
        struct ptwalk pw = ptwalk(pd, layout[i].vaddr);
        harness_check(pw.status == PTWALK_MAPPED && (pw.pte & PAGE_MASK) == frame,
                      "paging_map_page_in(0x%08x, 0x%08x, 0x%08x, ...) did not map the page", pd, layout[i].vaddr,
                      frame);
        harness_check((pw.pde & PAGE_USER) && (pw.pte & PAGE_USER), "user page 0x%08x mapped by paging_map_page_in "
                      "is not user-accessible (pde 0x%08x, pte 0x%08x)", layout[i].vaddr, pw.pde, pw.pte);
    }
    return pd;
}

// Number of present pages in the user part of directory `pd`.
static uint32_t count_user_pages(uint32_t pd) {
    uint32_t n = 0;
    for (uint32_t i = USER_PDE_FIRST; i < USER_PDE_END; i++) {
        uint32_t pde = ((uint32_t *)pd)[i];
        if (!(pde & PAGE_PRESENT))
            continue;
        for (uint32_t j = 0; j < PAGE_ENTRIES; j++)
            n += ((uint32_t *)(pde & PAGE_MASK))[j] & PAGE_PRESENT;
    }
    return n;
}

// A new directory shares every kernel entry of the master and has no user
// pages; freeing it returns its frame.
HARNESS_TEST(clone_kernel, "") {
    uint32_t master = read_cr3(), before = pmm_free_count();
    harness_check(paging_get_directory_phys() == master,
                  "paging_get_directory_phys() = 0x%08x, but CR3 holds the master directory 0x%08x",
                  paging_get_directory_phys(), master);
    uint32_t pd = new_directory();
    harness_check(pd != master, "paging_clone_directory() returned the master directory itself");
    for (uint32_t i = 0; i < PAGE_ENTRIES; i++) {
        uint32_t got = ((uint32_t *)pd)[i], want = ((uint32_t *)master)[i];
        bool user = i >= USER_PDE_FIRST && i < USER_PDE_END;
        harness_check(user ? !(got & PAGE_PRESENT) : got == want, "directory entry %u of the clone is 0x%08x, expected "
                      "0x%08x (%s)", i, got, user ? 0 : want, user ? "user space starts empty" : "the master's entry");
    }
    paging_switch_directory(pd);
    harness_check(read_cr3() == pd, "paging_switch_directory(0x%08x) left CR3 = 0x%08x", pd, read_cr3());
    paging_switch_directory(master);
    paging_free_directory(pd);
    harness_check(pmm_free_count() == before, "clone + free changed the free frames from %u to %u", before,
                  pmm_free_count());
    kprintf("clone: kernel entries shared, user space empty, freed\n");
    harness_pass();
}

// paging_clone_directory_from copies every user page into a new frame with
// the same contents and flags; the two copies are independent.
HARNESS_TEST(clone_deep_copy, "pages") {
    choose_layout(harness_param_u32("pages", 40));
    uint32_t before = pmm_free_count();
    uint32_t src = build_source();
    uint32_t dst = paging_clone_directory_from(src);
    harness_check(dst != 0 && dst != src, "paging_clone_directory_from(0x%08x) returned 0x%08x", src, dst);
    harness_check(count_user_pages(dst) == layout_count, "the clone has %u user pages, the source %u",
                  count_user_pages(dst), layout_count);
    for (uint32_t i = 0; i < layout_count; i++) {
        uint32_t v = layout[i].vaddr;
        struct ptwalk s = ptwalk(src, v), d = ptwalk(dst, v);
        harness_check(d.status == PTWALK_MAPPED, "user page 0x%08x is missing from the clone", v);
        uint32_t sf = s.pte & PAGE_MASK, df = d.pte & PAGE_MASK, mask = PAGE_FLAGS_MASK & ~(PAGE_ACCESSED | PAGE_DIRTY);
        harness_check(sf != df, "user page 0x%08x shares frame 0x%08x with the source: it must be copied", v, sf);
        harness_check((d.pte & mask) == (s.pte & mask), "user page 0x%08x has flags 0x%03x in the clone, 0x%03x in the "
                      "source", v, d.pte & mask, s.pte & mask);
        harness_check((d.pde & PAGE_USER) != 0, "the page table of user page 0x%08x is not user-accessible in the "
                      "clone (pde 0x%08x)", v, d.pde);
        for (uint32_t w = 0; w < PAGE_SIZE / 4; w += 97)
            harness_check(((uint32_t *)df)[w] == fill(v, w), "user page 0x%08x has other contents in the clone", v);
        ((uint32_t *)df)[0] = ~fill(v, 0);
        harness_check(((uint32_t *)sf)[0] == fill(v, 0), "writing the clone's page 0x%08x changed the source", v);
        ((uint32_t *)sf)[1] = 0;
        harness_check(((uint32_t *)df)[1] == fill(v, 1), "writing the source's page 0x%08x changed the clone", v);
    }
    paging_free_directory(dst);
    paging_free_directory(src);
    harness_check(pmm_free_count() == before, "after freeing both directories %u frames are free, expected %u",
                  pmm_free_count(), before);
    kprintf("clone: %u user pages copied with their flags, independent both ways, all frames freed\n", layout_count);
    harness_pass();
}

// A failure at any allocation of a clone returns 0 and leaks nothing; the
// first allocation count that succeeds gives a complete clone.
HARNESS_TEST(clone_out_of_memory, "pages") {
    choose_layout(harness_param_u32("pages", 24));
    uint32_t src = build_source(), dst, k;
    uint32_t baseline = pmm_free_count();
    for (k = 1;; k++) {
        uint32_t failures = pmm_injected_failures();
        pmm_fail_nth_alloc(k);
        dst = paging_clone_directory_from(src);
        bool hit = pmm_injected_failures() > failures;
        pmm_fail_nth_alloc(0);
        if (!hit)
            break; // the clone needed fewer than k allocations
        harness_check(dst == 0, "allocation %u of the clone failed, yet it returned 0x%08x", k, dst);
        harness_check(pmm_free_count() == baseline, "allocation %u of the clone failed: it returned 0 but kept %d "
                      "frames (it must free all it took)", k, (int)(baseline - pmm_free_count()));
    }
    harness_check(dst != 0, "paging_clone_directory_from(0x%08x) returned 0 with no allocation failing", src);
    harness_check(count_user_pages(dst) == layout_count, "the clone made after %u failures has %u user pages, expected "
                  "%u", k - 1, count_user_pages(dst), layout_count);
    paging_free_directory(dst);
    paging_free_directory(src);
    kprintf("clone: failed cleanly at each of its %u allocations, then succeeded\n", k - 1);
    harness_pass();
}
