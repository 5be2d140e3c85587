// Page-table lookups through probes (see ptwalk.h).
#include "paging.h"
#include "probe.h"
#include "ptwalk.h"

struct ptwalk ptwalk(uint32_t pd_phys, uint32_t vaddr) {
    struct ptwalk w = {PTWALK_UNREADABLE, 0, 0};
    if (probe_read32((pd_phys & PAGE_MASK) + PD_INDEX(vaddr) * 4, &w.pde) < 0)
        return w;
    if (!(w.pde & PAGE_PRESENT)) {
        w.status = PTWALK_NO_TABLE;
        return w;
    }
    if (probe_read32((w.pde & PAGE_MASK) + PT_INDEX(vaddr) * 4, &w.pte) < 0)
        return w;
    w.status = w.pte & PAGE_PRESENT ? PTWALK_MAPPED : PTWALK_NO_PAGE;
    return w;
}

uint32_t ptwalk_translate(uint32_t pd_phys, uint32_t vaddr) {
    struct ptwalk w = ptwalk(pd_phys, vaddr);
    if (w.status != PTWALK_MAPPED)
        return 0;
    return (w.pte & PAGE_MASK) | (vaddr & ~PAGE_MASK);
}
