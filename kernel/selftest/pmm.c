// The frame allocator (kernel/pmm.c), checked before paging: zones, counts,
// what is never handed out, exhaustion, and the fault-injection hook
// (grader/tests/test_pmm.py boots it with several RAM sizes).
#include "bootinfo.h"
#include "harness.h"
#include "kprintf.h"
#include "memlayout.h"
#include "pmm.h"

// Takes every frame `zone` gives, checking each; returns how many.
static uint32_t drain(int zone) {
    uint32_t n = 0;
    for (phys_addr_t f; (f = pmm_alloc_page(zone)) != 0; n++) {
        harness_check(f % PAGE_SIZE == 0, "pmm_alloc_page returned 0x%08x: not page-aligned", f);
        harness_check(f >= (uint32_t)_kernel_end, "pmm_alloc_page handed out 0x%08x, inside the kernel image or "
                      "low memory (the kernel ends at 0x%08x)", f, (uint32_t)_kernel_end);
        harness_check(f < pmm_ram_end(), "pmm_alloc_page handed out 0x%08x, past the end of RAM", f);
        harness_check(zone != PMM_ZONE_DMA || f < DMA_LIMIT, "a DMA frame at 0x%08x, above 16 MiB", f);
    }
    return n;
}

// Gives back every managed frame: right after drain(), all are taken.
static void refill(void) {
    for (uint32_t f = PAGE_ALIGN_UP(_kernel_end); f < pmm_ram_end(); f += PAGE_SIZE)
        if (pmm_is_managed(f))
            pmm_free_page(f);
}

static void check_fault_injection(void) {
    uint32_t before = pmm_injected_failures();
    pmm_fail_nth_alloc(3);
    phys_addr_t a = pmm_alloc_page(PMM_ZONE_NORMAL), b = pmm_alloc_page(PMM_ZONE_NORMAL);
    phys_addr_t c = pmm_alloc_page(PMM_ZONE_NORMAL), d = pmm_alloc_page(PMM_ZONE_NORMAL);
    harness_check(a && b && !c && d, "armed for the 3rd allocation, the allocations gave 0x%08x 0x%08x 0x%08x "
                  "0x%08x (only the 3rd should be 0)", a, b, c, d);
    harness_check(pmm_injected_failures() == before + 1, "one injected failure, counted %u",
                  pmm_injected_failures() - before);
    pmm_free_page(a), pmm_free_page(b), pmm_free_page(d);
    pmm_fail_nth_alloc(1);
    pmm_fail_nth_alloc(0); // disarmed before any allocation: nothing fails
    a = pmm_alloc_page(PMM_ZONE_DMA);
    harness_check(a != 0, "an allocation failed after the hook was disarmed");
    pmm_free_page(a);
}

HARNESS_TEST_EARLY(pmm_zones, "") {
    uint32_t dma = pmm_zone_free_count(PMM_ZONE_DMA), normal = pmm_zone_free_count(PMM_ZONE_NORMAL);
    uint32_t total = pmm_free_count(), upper = bootinfo()->mem_upper;
    uint32_t cap = (IDENTITY_LIMIT - KERNEL_LOAD) / 1024;
    harness_check(total == dma + normal, "free count %u is not DMA %u + NORMAL %u", total, dma, normal);
    harness_check(pmm_get_memory_size() == (upper < cap ? upper : cap), "pmm_get_memory_size() = %u KiB, the "
                  "boot loader says %u KiB (capped at %u)", pmm_get_memory_size(), upper, cap);
    harness_check(drain(PMM_ZONE_DMA) == dma, "the DMA zone did not give exactly its %u free frames", dma);
    harness_check(pmm_alloc_page(PMM_ZONE_DMA) == 0, "an empty DMA zone still gave a frame");
    harness_check(drain(PMM_ZONE_NORMAL) == normal, "the NORMAL zone did not give exactly its %u frames", normal);
    harness_check(pmm_free_count() == 0, "%u frames still free after draining", pmm_free_count());
    refill();
    harness_check(pmm_free_count() == total, "after freeing everything, %u frames free, expected %u",
                  pmm_free_count(), total);
    harness_check(drain(PMM_ZONE_NORMAL) == total, "NORMAL did not fall back to DMA frames when empty");
    refill();
    check_fault_injection();
    harness_check(pmm_free_count() == total, "the checks leaked %d frames", (int)(total - pmm_free_count()));
    kprintf("pmm: %u KiB above 1 MiB, RAM ends at 0x%08x, %u frames free: %u DMA, %u NORMAL\n",
            pmm_get_memory_size(), pmm_ram_end(), total, dma, normal);
    harness_pass();
}
