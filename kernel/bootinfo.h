// What the boot loader told the kernel, copied into kernel memory first
// thing: QEMU puts the multiboot data right after the kernel image, in
// frames the PMM would otherwise hand out.
#ifndef KERNEL_BOOTINFO_H
#define KERNEL_BOOTINFO_H

#include <stddef.h>
#include <stdint.h>

#define BOOTINFO_MAX_REGIONS 32
#define BOOTINFO_CMDLINE_MAX 1024

struct mem_region {
    uint64_t base;
    uint64_t len;
    uint32_t type; // MULTIBOOT_MEMORY_AVAILABLE or reserved
};

struct boot_info {
    uint32_t mem_lower; // KiB, as multiboot reports it
    uint32_t mem_upper;
    char cmdline[BOOTINFO_CMDLINE_MAX];
    struct mem_region regions[BOOTINFO_MAX_REGIONS];
    uint32_t region_count;
};

// Checks the magic and copies what `mbi` points to. Panics when the kernel
// was not started by a multiboot loader.
void bootinfo_init(uint32_t magic, uint32_t mbi_phys);

// The copy. Read-only after bootinfo_init.
const struct boot_info *bootinfo(void);

#endif
