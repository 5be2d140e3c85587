// Paging at boot (see vm.h).
#include "kprintf.h"
#include "paging.h"
#include "vm.h"

static uint32_t kernel_directory; // GDB's memmap reads it too

void vm_boot(void) {
    init_paging();
    if (!(read_cr0() & CR0_PG))
        panic("init_paging returned with paging off (CR0.PG clear)");
    kernel_directory = read_cr3() & PAGE_MASK;
    paging_unmap_page(0);
    write_cr0(read_cr0() | CR0_WP);
}

uint32_t vm_kernel_directory(void) { return kernel_directory; }
