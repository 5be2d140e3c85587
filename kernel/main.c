// kmain: brings the kernel up in dependency order, then runs the selected
// test or, without one, the normal boot.
#include "bootinfo.h"
#include "console.h"
#include "gdt.h"
#include "harness.h"
#include "keyboard.h"
#include "kprintf.h"
#include "pmm.h"
#include "qemu.h"
#include "serial.h"
#include "timer.h"
#include "trap.h"
#include "vm.h"

static void report_memory(void) {
    kprintf("memory: %u KiB above 1 MiB, RAM ends at 0x%08x, %u frames free\n", pmm_get_memory_size(), pmm_ram_end(),
            pmm_free_count());
}

void kmain(uint32_t magic, uint32_t mbi) {
    console_init();
    bootinfo_init(magic, mbi);
    harness_init();
    gdt_init();
    trap_init();
    pmm_init();
    harness_run_stage(HARNESS_EARLY);

    vm_boot();
    timer_init();
    keyboard_init();
    serial_enable_input();
    harness_run_stage(HARNESS_BOOTED);

    kprintf("Kestrel: paging on.\n");
    report_memory();
    kprintf("No init program yet: the kernel stops here.\n");
    qemu_exit(QEMU_EXIT_SHUTDOWN);
}
