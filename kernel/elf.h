// The ELF32 loader: static i386 executables, as the user build links them.
#ifndef KERNEL_ELF_H
#define KERNEL_ELF_H

#include <stdint.h>

// Loads the program `image` (size bytes) into the user part of directory
// `pd_phys`, which must have nothing mapped where the program goes: every
// PT_LOAD segment gets fresh frames, user-accessible, writable only if the
// segment is. Returns 0 and sets *entry and *end (one past the highest byte
// of the image), or -1 for a malformed image or when out of memory; the
// pages it mapped then stay in the directory, for the caller to free.
int elf_load(uint32_t pd_phys, const uint8_t *image, uint32_t size, uint32_t *entry, uint32_t *end);

#endif
