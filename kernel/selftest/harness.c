// Self-tests of the harness and of the grader's crash handling: each ends
// the kernel in one distinct way (grader/tests/test_runner.py).
#include "harness.h"
#include "kprintf.h"
#include "paging.h"
#include "x86.h"

// Passes without touching any lab code.
HARNESS_TEST_EARLY(selftest_pass, "") {
    harness_check(1 + 1 == 2, "arithmetic");
    harness_pass();
}

// A trusted check that fails.
HARNESS_TEST_EARLY(selftest_fail, "") { harness_check(0, "this check fails on purpose"); }

HARNESS_TEST_EARLY(selftest_panic, "") { panic("deliberate panic from selftest_panic"); }

// A kernel page fault with a backtrace: writes to an address far above RAM
// with paging on.
HARNESS_TEST(selftest_page_fault, "") {
    *(volatile uint32_t *)0xE0000000 = 1;
    harness_fail("the write to 0xE0000000 did not fault");
}

// Loads an empty IDT, then traps: no handler for the fault, nor for the
// double fault it becomes, so the CPU resets (QEMU with -no-reboot exits 0).
HARNESS_TEST_EARLY(selftest_triple_fault, "") {
    struct {
        uint16_t limit;
        uint32_t base;
    } __attribute__((packed)) empty = {0, 0};
    __asm__ volatile("lidt %0; int $3" : : "m"(empty));
}

// Never ends: the grader's timeout must.
HARNESS_TEST_EARLY(selftest_hang, "") {
    for (;;)
        hlt();
}

// Prints `lines` lines (default: forever) as fast as the UART takes them.
HARNESS_TEST_EARLY(selftest_flood, "lines") {
    uint32_t lines = harness_param_u32("lines", 0);
    for (uint32_t i = 0; lines == 0 || i < lines; i++)
        kprintf("flood line %u: the quick brown fox jumps over the lazy dog\n", i);
    harness_pass();
}
