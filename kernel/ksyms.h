// The kernel's own symbol table, filled in by the second link pass
// (tools/mksyms.sh), so that panics can name functions.
#ifndef KERNEL_KSYMS_H
#define KERNEL_KSYMS_H

#include <stdint.h>

// Name of the function containing `addr` and the offset into it, or NULL
// when `addr` is outside every known function.
const char *ksym_lookup(uint32_t addr, uint32_t *offset);

#endif
