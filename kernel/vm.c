// Paging at boot (see vm.h).
#include "kprintf.h"
#include "paging.h"
#include "vm.h"

void vm_boot(void) {
    init_paging();
    if (!(read_cr0() & CR0_PG))
        panic("init_paging returned with paging off (CR0.PG clear)");
    paging_unmap_page(0);
    write_cr0(read_cr0() | CR0_WP);
}
