// Lab 2 checks: the kernel heap. Every check reads the page tables and the
// PMM's counters itself; a warm-up allocation (freed at once) first lets the
// heap set up whatever it needs (its page tables), so later counts are
// exact. Failure messages say what the test did, warm-up included.
#include <stdbool.h>
#include "harness.h"
#include "kprintf.h"
#include "paging.h"
#include "pmm.h"
#include "probe.h"
#include "ptwalk.h"

#define MAX_PAGES 2048

static uint32_t pages[MAX_PAGES];
static uint32_t warm_page; // what the warm-up allocation returned

// One allocation and free, so the heap's one-time set-up is done.
static void warm_up(void) {
    void *p = paging_alloc_page();
    harness_check(p != NULL, "the test's first paging_alloc_page(), on a fresh heap, returned NULL");
    warm_page = (uint32_t)p;
    paging_free_page(p);
}

// The lowest heap page from `v` up that is not mapped (KHEAP_TOP if none).
static uint32_t lowest_free_from(uint32_t v) {
    while (v < KHEAP_TOP && ptwalk(read_cr3(), v).status == PTWALK_MAPPED)
        v += PAGE_SIZE;
    return v;
}

// Allocation `i` since the warm-up returned `got` when `lowest` was the
// lowest free heap page.
static void check_lowest(uint32_t i, uint32_t got, uint32_t lowest) {
    if (got == lowest)
        return;
    if (lowest == warm_page)
        harness_fail("the test allocated 0x%08x (a warm-up) and freed it; then allocation %u returned 0x%08x, but "
                     "the lowest free heap page was 0x%08x: paging_alloc_page hands out the lowest free page, one "
                     "freed included", warm_page, i, got, lowest);
    harness_fail("after the warm-up (0x%08x, allocated and freed), allocation %u returned 0x%08x, but the lowest "
                 "free heap page was 0x%08x: paging_alloc_page hands out the lowest free page", warm_page, i, got,
                 lowest);
}

static uint32_t pattern(uint32_t i) { return 0x5EED0000u ^ (i * 2654435761u); }

// Checks that heap page `v` is mapped writable and kernel-only to a frame.
static uint32_t check_heap_page(uint32_t v) {
    harness_check(v >= KHEAP_BASE && v < KHEAP_TOP && v % PAGE_SIZE == 0,
                  "paging_alloc_page() returned 0x%08x: not a page of the heap (0x%08x-0x%08x)", v, KHEAP_BASE,
                  KHEAP_TOP);
    struct ptwalk w = ptwalk(read_cr3(), v);
    harness_check(w.status == PTWALK_MAPPED, "heap page 0x%08x is not mapped in the master directory", v);
    harness_check((w.pte & PAGE_WRITE) && (w.pde & PAGE_WRITE), "heap page 0x%08x is read-only", v);
    harness_check(!(w.pte & PAGE_USER) && !(w.pde & PAGE_USER),
                  "heap page 0x%08x is user-accessible (pde 0x%08x, pte 0x%08x): heap pages are kernel-only", v, w.pde,
                  w.pte);
    return w.pte & PAGE_MASK;
}

// Allocates `n` pages into pages[], writing a pattern into each; when
// `lowest_first`, each must be the lowest free heap page.
static void allocate(uint32_t n, bool lowest_first) {
    harness_check(n <= MAX_PAGES, "test parameter pages=%u is too large", n);
    uint32_t lowest = lowest_free_from(KHEAP_BASE);
    for (uint32_t i = 0; i < n; i++) {
        pages[i] = (uint32_t)paging_alloc_page();
        harness_check(pages[i] != 0, "after the warm-up, allocation %u of %u returned NULL, with %u frames free", i,
                      n, pmm_free_count());
        check_heap_page(pages[i]);
        if (lowest_first)
            check_lowest(i, pages[i], lowest);
        lowest = lowest_free_from(lowest);
        *(volatile uint32_t *)pages[i] = pattern(i);
    }
}

// Every page still holds its own pattern: no two pages share a frame.
static void check_patterns(uint32_t n) {
    for (uint32_t i = 0; i < n; i++)
        harness_check(*(volatile uint32_t *)pages[i] == pattern(i), "heap page 0x%08x no longer holds what the "
                      "test wrote there: a later allocation shares its frame", pages[i]);
}

// Pages come from KHEAP_BASE upward, each on its own frame, writable and
// kernel-only; n pages cost exactly n frames.
HARNESS_TEST(heap_alloc, "pages") {
    uint32_t n = harness_param_u32("pages", 64);
    warm_up();
    harness_check(warm_page == KHEAP_BASE, "the test's first paging_alloc_page(), on a fresh heap, returned "
                  "0x%08x: expected KHEAP_BASE 0x%08x, the lowest heap page", warm_page, KHEAP_BASE);
    uint32_t before = pmm_free_count();
    allocate(n, true);
    check_patterns(n);
    harness_check(before - pmm_free_count() == n, "after the warm-up, %u allocations took %u frames from the PMM, "
                  "expected %u: one frame a page (the warm-up made the heap's page tables already)", n,
                  before - pmm_free_count(), n);
    kprintf("heap: %u pages from 0x%08x up, one frame each, kernel-only\n", n, pages[0]);
    harness_pass();
}

// Freed pages are unmapped, their frames go back to the PMM, and the lowest
// freed page is handed out again.
HARNESS_TEST(heap_free, "pages victim") {
    uint32_t n = harness_param_u32("pages", 64), victim = harness_param_u32("victim", 3) % n;
    warm_up();
    uint32_t before = pmm_free_count();
    allocate(n, false);
    uint32_t v = pages[victim], unused;
    paging_free_page((void *)v);
    harness_check(ptwalk(read_cr3(), v).status != PTWALK_MAPPED, "after paging_free_page(0x%08x) the page is still "
                  "mapped", v);
    harness_check(probe_read32(v, &unused) < 0, "the test wrote to heap page 0x%08x, then freed it: its entry is "
                  "cleared, but reading it did not fault, so the TLB kept the translation (invlpg)", v);
    harness_check(pmm_free_count() == before - n + 1, "paging_free_page(0x%08x) returned %d frames to the PMM, "
                  "expected 1", v, (int)(pmm_free_count() - (before - n)));
    uint32_t lowest = lowest_free_from(KHEAP_BASE), again = (uint32_t)paging_alloc_page();
    harness_check(again == lowest, "after a warm-up (0x%08x, allocated and freed), the test allocated %u pages "
                  "(0x%08x to 0x%08x) and freed 0x%08x; then paging_alloc_page() returned 0x%08x: expected 0x%08x, "
                  "the lowest free heap page", warm_page, n, pages[0], pages[n - 1], v, again, lowest);
    // Each page is read just before it is freed, so its translation is in
    // the TLB: a free without invlpg leaves it readable. (One page's entry
    // may be evicted by chance; n pages never all are.)
    for (uint32_t i = 0; i < n; i++) {
        harness_check(probe_read32(pages[i], &unused) == 0, "heap page 0x%08x is not readable", pages[i]);
        paging_free_page((void *)pages[i]);
        harness_check(probe_read32(pages[i], &unused) < 0, "the test read heap page 0x%08x, then freed it: reading "
                      "it again did not fault, so it is still mapped, or the TLB kept it (invlpg)", pages[i]);
    }
    harness_check(pmm_free_count() == before, "after freeing all %u pages it allocated, %u frames are free, %u "
                  "before: %d leaked", n, pmm_free_count(), before, (int)(before - pmm_free_count()));
    kprintf("heap: freed page 0x%08x was reused; all %u frames came back\n", v, n);
    harness_pass();
}

// Allocating until the PMM is empty gives NULL, not a crash; freeing every
// page brings every frame back.
HARNESS_TEST(heap_exhaust, "") {
    warm_up();
    uint32_t before = pmm_free_count(), n = 0, lowest = lowest_free_from(KHEAP_BASE);
    void *p;
    while ((p = paging_alloc_page()) != NULL) {
        harness_check(n < before, "paging_alloc_page() handed out %u pages with %u frames free before the first: "
                      "when pmm_alloc_page returns 0, it must return NULL", n + 1, before);
        check_lowest(n++, (uint32_t)p, lowest);
        lowest = lowest_free_from(lowest);
    }
    harness_check(n > 0, "after the warm-up, the first paging_alloc_page() returned NULL with %u frames free",
                  before);
    kprintf("heap: exhausted after %u pages, paging_alloc_page() returned NULL\n", n);
    for (uint32_t i = 0; i < n; i++)
        paging_free_page((void *)(KHEAP_BASE + i * PAGE_SIZE));
    harness_check(pmm_free_count() == before, "after allocating %u pages until NULL and freeing them all, %u "
                  "frames are free, %u before: %d leaked", n, pmm_free_count(), before,
                  (int)(before - pmm_free_count()));
    harness_pass();
}

// A second address space the way the kernel makes one (trusted code, not
// lab 3's): a directory with the master's kernel entries.
static uint32_t second_directory(void) {
    uint32_t pd = pmm_alloc_page(PMM_ZONE_NORMAL);
    harness_check(pd != 0, "out of memory in the harness");
    uint32_t *dst = (uint32_t *)pd, *master = (uint32_t *)read_cr3();
    for (uint32_t i = 0; i < PAGE_ENTRIES; i++)
        dst[i] = i >= PD_INDEX(USER_BASE) && i < PD_INDEX(USER_TOP) ? 0 : master[i];
    return pd;
}

// Heap pages allocated after a second address space was made, past the
// first 4 MiB of the heap, are visible in it too: the heap's page tables
// must be shared, not made per address space when first needed.
HARNESS_TEST(heap_shared, "pages") {
    uint32_t n = harness_param_u32("pages", 1100);
    warm_up();
    uint32_t master = read_cr3(), other = second_directory();
    allocate(n, false);
    write_cr3(other);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t value;
        if (probe_read32(pages[i], &value) < 0) {
            write_cr3(master);
            harness_fail("heap page 0x%08x, allocated after the second address space was made, is not mapped there "
                         "(its page table is not shared)", pages[i]);
        }
        if (value != pattern(i)) {
            write_cr3(master);
            harness_fail("heap page 0x%08x shows other contents in the second address space", pages[i]);
        }
    }
    write_cr3(master);
    kprintf("heap: %u pages up to 0x%08x are visible in a second address space\n", n, pages[n - 1]);
    harness_pass();
}
