// ELF32 loading (the format: System V ABI, "Object Files" and "Program
// Loading"; only what static executables use).
#include <stdbool.h>
#include <string.h>
#include "elf.h"
#include "memlayout.h"
#include "paging.h"
#include "pmm.h"
#include "uvm.h"

#define ELF_MAGIC 0x464C457Fu // "\x7F" "ELF", read as a little-endian word
#define ELFCLASS32 1
#define ELFDATA2LSB 1
#define ET_EXEC 2
#define EM_386 3
#define PT_LOAD 1
#define PF_W 2

struct elf_header {
    uint32_t magic;
    uint8_t class, data, version, abi, pad[8];
    uint16_t type, machine;
    uint32_t version2, entry, phoff, shoff, flags;
    uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf_segment {
    uint32_t type, offset, vaddr, paddr, filesz, memsz, flags, align;
};

static bool header_ok(const struct elf_header *h, uint32_t size) {
    return size >= sizeof *h && h->magic == ELF_MAGIC && h->class == ELFCLASS32 && h->data == ELFDATA2LSB &&
           h->type == ET_EXEC && h->machine == EM_386 && h->phentsize == sizeof(struct elf_segment) &&
           h->phoff <= size && h->phnum <= (size - h->phoff) / sizeof(struct elf_segment) &&
           h->entry >= USER_BASE && h->entry < USER_IMAGE_LIMIT;
}

// Each test is written so that no sum can overflow.
static bool segment_ok(const struct elf_segment *s, uint32_t size) {
    return s->filesz <= s->memsz && s->offset <= size && s->filesz <= size - s->offset && s->vaddr >= USER_BASE &&
           s->vaddr < USER_IMAGE_LIMIT && s->memsz <= USER_IMAGE_LIMIT - s->vaddr;
}

// Maps every page of segment `s`: a fresh frame holding the bytes of the
// file that fall in that page, zeros elsewhere (the .bss part).
static int load_segment(uint32_t pd_phys, const uint8_t *image, const struct elf_segment *s) {
    uint32_t flags = PAGE_USER | (s->flags & PF_W ? PAGE_WRITE : 0);
    uint32_t file_end = s->vaddr + s->filesz;
    for (uint32_t va = PAGE_ALIGN_DOWN(s->vaddr); va < s->vaddr + s->memsz; va += PAGE_SIZE) {
        uint32_t *pte = uvm_pte(pd_phys, va);
        if (pte && (*pte & PAGE_PRESENT))
            return -1; // two segments share a page: not what the user build makes
        phys_addr_t frame = pmm_alloc_page(PMM_ZONE_NORMAL);
        if (!frame)
            return -1;
        memset((void *)frame, 0, PAGE_SIZE);
        uint32_t from = va > s->vaddr ? va : s->vaddr;
        uint32_t to = va + PAGE_SIZE < file_end ? va + PAGE_SIZE : file_end;
        if (from < to)
            memcpy((char *)frame + (from - va), image + s->offset + (from - s->vaddr), to - from);
        if (uvm_map(pd_phys, va, frame, flags) < 0) {
            pmm_free_page(frame);
            return -1;
        }
    }
    return 0;
}

int elf_load(uint32_t pd_phys, const uint8_t *image, uint32_t size, uint32_t *entry, uint32_t *end) {
    const struct elf_header *h = (const struct elf_header *)image;
    if (!header_ok(h, size))
        return -1;
    const struct elf_segment *s = (const struct elf_segment *)(image + h->phoff);
    *end = USER_BASE;
    for (int i = 0; i < h->phnum; i++, s++) {
        if (s->type != PT_LOAD || s->memsz == 0)
            continue;
        if (!segment_ok(s, size) || load_segment(pd_phys, image, s) < 0)
            return -1;
        if (s->vaddr + s->memsz > *end)
            *end = s->vaddr + s->memsz;
    }
    *entry = h->entry;
    return 0;
}
