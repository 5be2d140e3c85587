// Looks addresses up in the .ksyms section (layout written by tools/mksyms.sh:
// a count, then sorted (address, name) pairs).
#include <stddef.h>
#include "ksyms.h"
#include "memlayout.h"

struct ksym {
    uint32_t addr;
    const char *name;
};

struct ksym_table {
    uint32_t count;
    struct ksym syms[];
};

extern const struct ksym_table ksym_table;

const char *ksym_lookup(uint32_t addr, uint32_t *offset) {
    const struct ksym_table *t = &ksym_table;
    if (t->count == 0 || addr < t->syms[0].addr || addr >= (uint32_t)_kernel_end)
        return NULL;
    uint32_t lo = 0, hi = t->count; // invariant: syms[lo].addr <= addr
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (t->syms[mid].addr <= addr)
            lo = mid;
        else
            hi = mid;
    }
    *offset = addr - t->syms[lo].addr;
    return t->syms[lo].name;
}
