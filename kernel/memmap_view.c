// The memory map's virtual side: what one directory maps (memmap.h).
// Runs inside memmap_build, with paging off. Marks what the kernel's rules
// forbid in it: RAM missing from the identity map (a hole), identity pages
// mapped elsewhere, kernel pages user-accessible. Entries beyond RAM, and
// pages on frames the physical walk found wrong (shared, freed...), were
// marked by that walk; here they only count as wrong.
#include "memmap.h"
#include "paging.h"

enum region { IDENTITY, USER, HEAP, KERNEL };

static enum region region_of(uint32_t va) {
    if (va < IDENTITY_LIMIT)
        return IDENTITY;
    if (va >= USER_BASE && va < USER_TOP)
        return USER;
    return va >= KHEAP_BASE && va < KHEAP_TOP ? HEAP : KERNEL;
}

static void mark(struct memmap *m, enum memmap_mark_kind kind, uint32_t phys, uint32_t virt, uint32_t count) {
    memmap_mark(m, (struct memmap_mark){kind, phys, virt, count, 0, 0, MEMMAP_NONE}); // the view names the owner
}

// The RAM pages of [va, va + pages * PAGE_SIZE) the identity map must
// cover (all of RAM but page 0) are missing.
static void hole(struct memmap *m, uint32_t va, uint32_t pages, uint32_t n[MV_KINDS]) {
    uint32_t start = va < PAGE_SIZE ? PAGE_SIZE : va, end = va + pages * PAGE_SIZE;
    if (end > m->ram_end)
        end = m->ram_end;
    if (region_of(va) != IDENTITY || start >= end)
        return;
    mark(m, MARK_HOLE, MEMMAP_NONE, start, (end - start) / PAGE_SIZE);
    n[MV_WRONG] += (end - start) / PAGE_SIZE;
}

// One present page: what kind it is, or why it is wrong.
static void page(struct memmap *m, uint32_t va, uint32_t pde, uint32_t pte, uint32_t n[MV_KINDS]) {
    uint32_t frame = pte & PAGE_MASK;
    bool user = pde & pte & PAGE_USER, wrong = frame >= m->ram_end || memmap_frame_wrong(frame);
    switch (region_of(va)) {
    case IDENTITY:
        if (frame != va)
            mark(m, MARK_MOVED, frame, va, 1), n[MV_WRONG]++;
        else if (user)
            mark(m, MARK_EXPOSED, MEMMAP_NONE, va, 1), n[MV_WRONG]++;
        else
            n[MV_IDENTITY]++;
        return;
    case USER:
        n[wrong ? MV_WRONG : MV_USER]++;
        return;
    case HEAP:
    case KERNEL:
        if (user)
            mark(m, MARK_EXPOSED, MEMMAP_NONE, va, 1), n[MV_WRONG]++;
        else if (wrong && region_of(va) == HEAP)
            n[MV_WRONG]++;
        else
            n[region_of(va) == HEAP ? MV_HEAP : MV_KERNEL]++;
        return;
    }
}

// Directory entry i of the view.
// Directory entry i of the view. The common cases are counted inline: a
// kernel-only identity page, an empty entry outside the identity map.
static void entry(struct memmap *m, uint32_t i, uint32_t n[MV_KINDS]) {
    uint32_t pde = memmap_phys(m->view_pd)[i], va = i << 22;
    bool identity = region_of(va) == IDENTITY, kernel_only = !(pde & PAGE_USER);
    if (!(pde & PAGE_PRESENT)) {
        hole(m, va, PAGE_ENTRIES, n);
        return;
    }
    if ((pde & PAGE_MASK) >= m->ram_end) {
        n[MV_WRONG]++;
        return;
    }
    const uint32_t *table = memmap_phys(pde & PAGE_MASK);
    for (uint32_t j = 0; j < PAGE_ENTRIES; j++) {
        uint32_t pte = table[j], at = va | j << 12;
        if (identity && kernel_only && (pte & (PAGE_MASK | PAGE_PRESENT | PAGE_USER)) == (at | PAGE_PRESENT))
            n[MV_IDENTITY]++;
        else if (pte & PAGE_PRESENT)
            page(m, at, pde, pte, n);
        else if (identity)
            hole(m, at, 1, n);
    }
}

static char cell_key(const struct memmap *m, const uint32_t n[MV_KINDS]) {
    if (n[MV_WRONG])
        return '!';
    const enum memmap_kind order[] = {MV_IDENTITY, MV_USER, MV_HEAP, MV_KERNEL};
    const char keys[] = {'I', m->view_key, 'H', 'K'};
    int best = 0;
    for (int i = 1; i < 4; i++)
        if (n[order[i]] > n[order[best]])
            best = i;
    return n[order[best]] ? keys[best] : '.';
}

void memmap_build_view(struct memmap *m) {
    if (!m->view_pd)
        return;
    for (uint32_t c = 0; c < MEMMAP_VIRT_CELLS; c++) {
        uint32_t n[MV_KINDS] = {0};
        if (m->view_pd >= m->ram_end)
            n[MV_WRONG] = c == 0; // the directory itself is beyond RAM (marked)
        else
            for (uint32_t i = c * MEMMAP_VIRT_CELL_PDES; i < (c + 1) * MEMMAP_VIRT_CELL_PDES; i++)
                entry(m, i, n);
        for (int k = 0; k < MV_KINDS; k++)
            m->kinds[k] += n[k];
        m->virt[c] = m->view_pd >= m->ram_end ? '!' : cell_key(m, n);
    }
}
