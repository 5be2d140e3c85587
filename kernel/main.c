// kmain: brings the kernel up in dependency order, then runs the selected
// test or, without one, the normal boot: init, which starts the shell.
#include <stddef.h>
#include "bootinfo.h"
#include "console.h"
#include "exec.h"
#include "gdt.h"
#include "harness.h"
#include "keyboard.h"
#include "kprintf.h"
#include "pmm.h"
#include "sched.h"
#include "serial.h"
#include "timer.h"
#include "trap.h"
#include "vm.h"

static void report_memory(void) {
    kprintf("memory: %u KiB above 1 MiB, RAM ends at 0x%08x, %u frames free\n", pmm_get_memory_size(), pmm_ram_end(),
            pmm_free_count());
}

// Runs init (user/init.c) as pid 1. The process subsystem starts here, not
// earlier: nothing before this point may need labs 2-5.
static void start_init(void) {
    char *argv[] = {"init", NULL};
    if (!process_spawn("init", argv))
        panic("cannot start init");
    kprintf("Kestrel: starting init.\n");
    sched_start();
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
    start_init();
}
