// The user programs embedded in the kernel image (the build links every
// user/*.c and labs/*/user/*.c and appends the ELF files; tools/mkprograms.sh
// writes the table, sorted by name).
#ifndef KERNEL_PROGRAMS_H
#define KERNEL_PROGRAMS_H

#include <stdint.h>

struct program {
    const char *name;     // the file name without .c
    const uint8_t *image; // a static ELF32 executable
    uint32_t size;
};

// The program called `name`, or NULL.
const struct program *program_find(const char *name);
// The i-th program in name order (i >= 0), or NULL past the last.
const struct program *program_at(int i);

#endif
