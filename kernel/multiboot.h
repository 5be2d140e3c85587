// The multiboot v1 information structure, as far as the kernel reads it
// (multiboot specification v0.6.96, section 3.3).
#ifndef KERNEL_MULTIBOOT_H
#define KERNEL_MULTIBOOT_H

#include <stdint.h>

#define MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002u

#define MULTIBOOT_INFO_MEMORY 0x001u  // mem_lower and mem_upper are valid
#define MULTIBOOT_INFO_CMDLINE 0x004u // cmdline is valid
#define MULTIBOOT_INFO_MMAP 0x040u    // mmap_addr and mmap_length are valid

#define MULTIBOOT_MEMORY_AVAILABLE 1

struct multiboot_info {
    uint32_t flags;
    uint32_t mem_lower; // KiB below 1 MiB
    uint32_t mem_upper; // KiB from 1 MiB to the first hole
    uint32_t boot_device;
    uint32_t cmdline; // physical address of a NUL-terminated string
    uint32_t mods_count;
    uint32_t mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length;
    uint32_t mmap_addr;
} __attribute__((packed));

// One memory-map entry. `size` does not count itself: the next entry starts
// size + 4 bytes further on.
struct multiboot_mmap_entry {
    uint32_t size;
    uint64_t addr;
    uint64_t len;
    uint32_t type;
} __attribute__((packed));

#endif
