// Copies the multiboot information into kernel memory (see bootinfo.h).
#include <string.h>
#include "bootinfo.h"
#include "kprintf.h"
#include "multiboot.h"

static struct boot_info info;

static void copy_cmdline(const struct multiboot_info *mbi) {
    if (!(mbi->flags & MULTIBOOT_INFO_CMDLINE) || mbi->cmdline == 0)
        return;
    if (strlcpy(info.cmdline, (const char *)mbi->cmdline, sizeof info.cmdline) >= sizeof info.cmdline)
        kprintf("bootinfo: command line longer than %u bytes, cut\n", sizeof info.cmdline - 1);
}

static void copy_memory_map(const struct multiboot_info *mbi) {
    if (!(mbi->flags & MULTIBOOT_INFO_MMAP))
        panic("bootinfo: the boot loader gave no memory map");
    uint32_t at = mbi->mmap_addr;
    uint32_t end = mbi->mmap_addr + mbi->mmap_length;
    while (at < end && info.region_count < BOOTINFO_MAX_REGIONS) {
        const struct multiboot_mmap_entry *e = (const void *)at;
        struct mem_region *r = &info.regions[info.region_count++];
        r->base = e->addr;
        r->len = e->len;
        r->type = e->type;
        at += e->size + sizeof e->size;
    }
}

void bootinfo_init(uint32_t magic, uint32_t mbi_phys) {
    if (magic != MULTIBOOT_BOOTLOADER_MAGIC)
        panic("bootinfo: not started by a multiboot loader (magic 0x%08x)", magic);
    const struct multiboot_info *mbi = (const void *)mbi_phys;
    if (mbi->flags & MULTIBOOT_INFO_MEMORY) {
        info.mem_lower = mbi->mem_lower;
        info.mem_upper = mbi->mem_upper;
    }
    copy_cmdline(mbi);
    copy_memory_map(mbi);
}

const struct boot_info *bootinfo(void) { return &info; }
