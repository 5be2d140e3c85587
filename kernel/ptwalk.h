// Trusted page-table lookups for checks: reads a directory the way the MMU
// would, through probes, so a broken table (say, one pointing past RAM) is
// reported instead of crashing the checker.
#ifndef KERNEL_PTWALK_H
#define KERNEL_PTWALK_H

#include <stdint.h>

enum ptwalk_status {
    PTWALK_MAPPED,     // pde and pte are present
    PTWALK_NO_TABLE,   // the directory entry is not present
    PTWALK_NO_PAGE,    // the table entry is not present
    PTWALK_UNREADABLE, // an entry could not be read (faulted)
};

struct ptwalk {
    enum ptwalk_status status;
    uint32_t pde, pte; // the raw entries read (pte is 0 unless a table exists)
};

// Looks `vaddr` up in the directory at physical address `pd_phys`.
struct ptwalk ptwalk(uint32_t pd_phys, uint32_t vaddr);

// The physical address `vaddr` translates to in `pd_phys` (frame + offset),
// or 0 when it does not translate.
uint32_t ptwalk_translate(uint32_t pd_phys, uint32_t vaddr);

#endif
