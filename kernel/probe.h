// Probes: memory accesses that may fault without stopping the kernel. Trusted
// checks use them to prove that an address is (or is not) mapped: a page
// fault on a probe's one access instruction resumes at its failure path.
#ifndef KERNEL_PROBE_H
#define KERNEL_PROBE_H

#include <stdint.h>
#include "regs.h"

struct probe_fault {
    uint32_t addr;     // CR2 of the fault
    uint32_t err_code; // page-fault error code
};

// 0 and *out = the word at addr, or -1 when reading it faulted.
int probe_read32(uint32_t addr, uint32_t *out);
// 0 when the write went through, -1 when it faulted.
int probe_write32(uint32_t addr, uint32_t value);
// The last fault a probe caught.
struct probe_fault probe_last_fault(void);

// For the page-fault path: when `regs` faulted inside a probe, records the
// fault, redirects the probe to its failure path and returns 1; else 0.
int probe_fixup(registers_t *regs);

#endif
