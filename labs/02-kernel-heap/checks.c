// Lab 2 checks: the kernel heap. Every check reads the page tables and the
// PMM's counters itself; a warm-up allocation first lets the heap set up
// whatever it needs (its page tables), so later counts are exact.
#include "harness.h"
#include "kprintf.h"
#include "paging.h"
#include "pmm.h"
#include "probe.h"
#include "ptwalk.h"

#define MAX_PAGES 2048

static uint32_t pages[MAX_PAGES];

// One allocation and free, so the heap's one-time set-up is done.
static void warm_up(void) {
    void *p = paging_alloc_page();
    harness_check(p != NULL, "paging_alloc_page() returned NULL on a fresh kernel");
    paging_free_page(p);
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

// Allocates `n` pages into pages[], writing a pattern into each.
static void allocate(uint32_t n) {
    harness_check(n <= MAX_PAGES, "test parameter pages=%u is too large", n);
    for (uint32_t i = 0; i < n; i++) {
        pages[i] = (uint32_t)paging_alloc_page();
        harness_check(pages[i] != 0, "paging_alloc_page() returned NULL after %u pages, with %u frames free", i,
                      pmm_free_count());
        check_heap_page(pages[i]);
        *(volatile uint32_t *)pages[i] = pattern(i);
    }
}

// Every page still holds its own pattern: no two pages share a frame.
static void check_patterns(uint32_t n) {
    for (uint32_t i = 0; i < n; i++)
        harness_check(*(volatile uint32_t *)pages[i] == pattern(i),
                      "heap page 0x%08x lost its contents: another allocation shares its frame", pages[i]);
}

// Pages come from KHEAP_BASE upward, each on its own frame, writable and
// kernel-only; n pages cost exactly n frames.
HARNESS_TEST(heap_alloc, "pages") {
    uint32_t n = harness_param_u32("pages", 64);
    warm_up();
    uint32_t before = pmm_free_count();
    allocate(n);
    harness_check(pages[0] == KHEAP_BASE, "the first page of a fresh heap is 0x%08x, expected KHEAP_BASE 0x%08x",
                  pages[0], KHEAP_BASE);
    for (uint32_t i = 1; i < n; i++)
        harness_check(pages[i] == pages[i - 1] + PAGE_SIZE, "page %u is 0x%08x: expected the lowest free heap page "
                      "0x%08x", i, pages[i], pages[i - 1] + PAGE_SIZE);
    check_patterns(n);
    harness_check(before - pmm_free_count() == n, "%u pages took %u frames from the PMM, expected %u", n,
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
    allocate(n);
    uint32_t v = pages[victim], unused;
    paging_free_page((void *)v);
    harness_check(ptwalk(read_cr3(), v).status != PTWALK_MAPPED, "freed heap page 0x%08x is still mapped", v);
    harness_check(probe_read32(v, &unused) < 0, "reading freed heap page 0x%08x did not fault (TLB?)", v);
    harness_check(pmm_free_count() == before - n + 1, "freeing one page returned %d frames to the PMM, expected 1",
                  (int)(pmm_free_count() - (before - n)));
    uint32_t again = (uint32_t)paging_alloc_page();
    harness_check(again == v, "after freeing 0x%08x, paging_alloc_page() returned 0x%08x: expected the lowest free "
                  "page 0x%08x", v, again, v);
    // Each page is read just before it is freed, so its translation is in
    // the TLB: a free without invlpg leaves it readable. (One page's entry
    // may be evicted by chance; n pages never all are.)
    for (uint32_t i = 0; i < n; i++) {
        harness_check(probe_read32(pages[i], &unused) == 0, "heap page 0x%08x is not readable", pages[i]);
        paging_free_page((void *)pages[i]);
        harness_check(probe_read32(pages[i], &unused) < 0, "reading freed heap page 0x%08x did not fault: it is still "
                      "mapped, or the TLB kept it (invlpg)", pages[i]);
    }
    harness_check(pmm_free_count() == before, "after freeing every page, %u frames are free; before: %u (leak)",
                  pmm_free_count(), before);
    kprintf("heap: freed page 0x%08x was reused; all %u frames came back\n", v, n);
    harness_pass();
}

// Allocating until the PMM is empty gives NULL, not a crash; freeing every
// page brings every frame back.
HARNESS_TEST(heap_exhaust, "") {
    warm_up();
    uint32_t before = pmm_free_count(), n = 0;
    void *p;
    while ((p = paging_alloc_page()) != NULL) {
        harness_check((uint32_t)p == KHEAP_BASE + n * PAGE_SIZE, "allocation %u returned 0x%08x, expected the "
                      "lowest free page 0x%08x", n, (uint32_t)p, KHEAP_BASE + n * PAGE_SIZE);
        n++;
    }
    harness_check(n > 0 && n <= before, "%u pages from %u free frames", n, before);
    kprintf("heap: exhausted after %u pages, paging_alloc_page() returned NULL\n", n);
    for (uint32_t i = 0; i < n; i++)
        paging_free_page((void *)(KHEAP_BASE + i * PAGE_SIZE));
    harness_check(pmm_free_count() == before, "after freeing all %u pages, %u frames are free, expected %u", n,
                  pmm_free_count(), before);
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
    allocate(n);
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
