// The memory map's physical side: who owns each frame (memmap.h).
//
// Three passes, with paging off (physical addresses are pointers, and no
// table a lab built can make a read fault):
//   1. tables: every directory (the master's, each process's) and the
//      tables its entries point to;
//   2. pages: the master's heap and kernel mappings, then each process's
//      user pages; a frame met twice, or met free, is wrong;
//   3. frames: what no walk claimed is the kernel image, free, reserved or
//      lost (in use, owned by nothing), from the PMM's bitmaps.
// grader/memwalk.py does the same from GDB: keep the two in step.
#include <string.h>
#include "memmap.h"
#include "paging.h"
#include "pmm.h"
#include "vm.h"

#define MAX_FRAMES (IDENTITY_LIMIT / PAGE_SIZE)
#define USER_PDE_FIRST PD_INDEX(USER_BASE)
#define USER_PDE_END PD_INDEX(USER_TOP)
#define HEAP_PDE_FIRST PD_INDEX(KHEAP_BASE)
#define HEAP_PDE_END PD_INDEX(KHEAP_TOP)

// What the walks made of each frame, two bits a frame.
enum claim { UNCLAIMED, TABLE, PAGE, CONFLICT };
static uint8_t claims[MAX_FRAMES / 4] __attribute__((aligned(4)));

// Per cell: frames of the kernel, the tables and the heap; the process
// with the most pages there (and of the one being walked); what else is in it.
#define CELL_WRONG 1
#define CELL_LOST 2
#define CELL_RESERVED 4
static uint16_t kernel_n[MEMMAP_PHYS_CELLS], tables_n[MEMMAP_PHYS_CELLS], heap_n[MEMMAP_PHYS_CELLS];
static uint16_t proc_n[MEMMAP_PHYS_CELLS], walk_n[MEMMAP_PHYS_CELLS];
static char proc_key[MEMMAP_PHYS_CELLS];
static uint8_t cell_flags[MEMMAP_PHYS_CELLS];

static struct memmap map;
static struct memmap_mark last_mark; // the mark a following one may extend

static enum claim claim_of(uint32_t f) { return (claims[f / 4] >> (f % 4 * 2)) & 3; }
static void set_claim(uint32_t f, enum claim c) {
    claims[f / 4] = (uint8_t)((claims[f / 4] & ~(3 << (f % 4 * 2))) | c << (f % 4 * 2));
}
bool memmap_frame_wrong(uint32_t frame) { return claim_of(frame / PAGE_SIZE) == CONFLICT; }
static bool bit(const uint32_t *bits, uint32_t f) { return bits[f / 32] >> (f % 32) & 1; }
static bool in_ram(const struct memmap *m, uint32_t frame) { return frame < m->ram_end; }
static bool master_readable(const struct memmap *m) { return m->master && in_ram(m, m->master); }
static bool in_image(uint32_t addr) { return addr >= KERNEL_LOAD && addr < PAGE_ALIGN_UP(_kernel_end); }
static uint32_t cell_of(const struct memmap *m, uint32_t frame) { return frame / PAGE_SIZE / m->per_cell; }

static bool extends(const struct memmap_mark *last, const struct memmap_mark *mark) {
    if (last->kind != mark->kind)
        return false;
    if (mark->kind == MARK_LOST)
        return last->phys + last->count * PAGE_SIZE == mark->phys;
    if (mark->kind == MARK_HOLE || mark->kind == MARK_EXPOSED)
        return last->virt + last->count * PAGE_SIZE == mark->virt;
    return false;
}

void memmap_mark(struct memmap *m, struct memmap_mark mark) {
    if (m->mark_total && extends(&last_mark, &mark)) {
        last_mark.count += mark.count;
        if (m->mark_total <= MEMMAP_MARKS)
            m->marks[m->mark_total - 1].count = last_mark.count;
        return;
    }
    last_mark = mark;
    if (m->mark_total++ < MEMMAP_MARKS)
        m->marks[m->mark_total - 1] = mark;
}

static void mark(struct memmap *m, enum memmap_mark_kind kind, uint32_t phys, uint32_t virt, int by) {
    memmap_mark(m, (struct memmap_mark){kind, phys, virt, 1, by, 0, MEMMAP_NONE});
}

// ---- Address spaces ---------------------------------------------------------

// A process name as the legend prints it: no blanks, never empty.
static void copy_name(char *dst, const char *src) {
    int i = 0;
    for (; i < PROC_NAME_MAX - 1 && src[i]; i++)
        dst[i] = src[i] > ' ' && src[i] < 0x7F && src[i] != '|' ? src[i] : '_';
    dst[i] = 0;
    if (i == 0)
        strlcpy(dst, "?", PROC_NAME_MAX);
}

static void add_space(struct memmap *m, int pid, const char *name, uint32_t pd_phys) {
    struct memmap_space *s = &m->spaces[m->space_count];
    s->pid = pid;
    s->key = m->space_count < 26 ? (char)('a' + m->space_count) : '*';
    copy_name(s->name, name);
    s->pd_phys = pd_phys;
    m->space_count++;
}

// Every process that has an address space, in pid order.
static void find_processes(struct memmap *m) {
    int last = 0;
    for (;;) {
        struct process *next = NULL;
        PROCESS_FOREACH(p) {
            if (p->state != PROC_UNUSED && p->pd_phys && p->pid > last && (!next || p->pid < next->pid))
                next = p;
        }
        if (!next)
            return;
        add_space(m, next->pid, next->name, next->pd_phys & PAGE_MASK);
        last = next->pid;
    }
}

// The view: process `pid`'s directory, else `view_pd`, else the master's.
static void choose_view(struct memmap *m, int pid, uint32_t view_pd) {
    m->view_space = -1;
    m->view_key = 'U';
    m->view_pd = view_pd ? view_pd & PAGE_MASK : m->master;
    for (int i = 0; i < m->space_count; i++) {
        if (pid ? m->spaces[i].pid == pid : view_pd && m->spaces[i].pd_phys == m->view_pd) {
            m->view_space = i;
            m->view_pd = m->spaces[i].pd_phys;
            break;
        }
    }
    if (m->view_space < 0 && view_pd && m->view_pd != m->master) {
        add_space(m, 0, "directory", m->view_pd);
        m->view_space = m->space_count - 1;
    }
    if (m->view_space >= 0)
        m->view_key = m->spaces[m->view_space].key;
}

// ---- Pass 1: tables -----------------------------------------------------------

// A directory or table at `frame`, reached through the entry for `virt`
// (MEMMAP_NONE: the directory itself) of `by`. False when it is not in RAM.
static bool claim_table(struct memmap *m, uint32_t frame, uint32_t virt, int by) {
    if (!in_ram(m, frame)) {
        mark(m, MARK_BEYOND, frame, virt, by);
        return false;
    }
    uint32_t f = frame / PAGE_SIZE;
    enum claim c = claim_of(f);
    if (c == CONFLICT)
        return true;
    if (pmm_is_free(frame)) {
        mark(m, MARK_FREED, frame, MEMMAP_NONE, by);
        set_claim(f, CONFLICT);
        return true;
    }
    set_claim(f, TABLE);
    return true;
}

// The directory `pd` and the tables of its entries: all of them for the
// master, else the user ones and the kernel ones that are not the master's.
static void claim_tables(struct memmap *m, uint32_t pd, int by) {
    if (!claim_table(m, pd, MEMMAP_NONE, by))
        return;
    const uint32_t *dir = memmap_phys(pd), *master = master_readable(m) ? memmap_phys(m->master) : NULL;
    for (uint32_t i = 0; i < PAGE_ENTRIES; i++) {
        bool user = i >= USER_PDE_FIRST && i < USER_PDE_END;
        uint32_t pde = dir[i];
        if (!(pde & PAGE_PRESENT) || (pd != m->master && !user && master && pde == master[i]))
            continue;
        claim_table(m, pde & PAGE_MASK, i << 22, by);
    }
}

// ---- Pass 2: pages ------------------------------------------------------------

typedef bool (*page_fn)(struct memmap *m, uint32_t frame, uint32_t virt, int by);

// Calls fn on each present page of entries [first, end) of `pd` (in RAM),
// in address order, until it returns false; false then.
static bool walk_pages(struct memmap *m, uint32_t pd, uint32_t first, uint32_t end, int by, page_fn fn) {
    for (uint32_t i = first; i < end; i++) {
        uint32_t pde = memmap_phys(pd)[i];
        if (!(pde & PAGE_PRESENT) || !in_ram(m, pde & PAGE_MASK))
            continue; // a table beyond RAM is marked by pass 1
        const uint32_t *table = memmap_phys(pde & PAGE_MASK);
        for (uint32_t j = 0; j < PAGE_ENTRIES; j++)
            if (table[j] & PAGE_PRESENT && !fn(m, table[j] & PAGE_MASK, i << 22 | j << 12, by))
                return false;
    }
    return true;
}

// The master's mappings that own frames: its heap, then its other kernel
// mappings (the identity map owns nothing: it maps all of RAM).
static bool walk_master(struct memmap *m, page_fn fn) {
    return !master_readable(m) || (walk_pages(m, m->master, HEAP_PDE_FIRST, HEAP_PDE_END, MEMMAP_BY_HEAP, fn) &&
                                   walk_pages(m, m->master, USER_PDE_END, HEAP_PDE_FIRST, MEMMAP_BY_KERNEL, fn) &&
                                   walk_pages(m, m->master, HEAP_PDE_END, PAGE_ENTRIES, MEMMAP_BY_KERNEL, fn));
}

static bool walk_space(struct memmap *m, int i, page_fn fn) {
    return !in_ram(m, m->spaces[i].pd_phys) ||
           walk_pages(m, m->spaces[i].pd_phys, USER_PDE_FIRST, USER_PDE_END, i, fn);
}

static void count_page(struct memmap *m, uint32_t frame, int by) {
    uint32_t c = cell_of(m, frame);
    if (by >= 0)
        m->spaces[by].pages++, walk_n[c]++;
    else if (by == MEMMAP_BY_HEAP)
        m->owners[MM_HEAP]++, heap_n[c]++;
    else
        m->owners[MM_KERNEL]++, kernel_n[c]++;
}

// A page of `by` on `frame`: a frame already claimed, free, or the
// kernel's (for a heap or user page) is wrong.
static bool claim_page(struct memmap *m, uint32_t frame, uint32_t virt, int by) {
    if (!in_ram(m, frame)) {
        if (by != MEMMAP_BY_KERNEL) // the kernel may map devices
            mark(m, MARK_BEYOND, frame, virt, by);
        return true;
    }
    uint32_t f = frame / PAGE_SIZE;
    enum claim c = claim_of(f);
    bool managed = pmm_is_managed(frame);
    if (by == MEMMAP_BY_KERNEL && (!managed || c == TABLE))
        return true; // the kernel maps its own memory as it likes
    count_page(m, frame, by);
    if (c == CONFLICT)
        return true;
    enum memmap_mark_kind wrong = c == TABLE || !managed  ? MARK_KERNEL
                                  : pmm_is_free(frame)    ? MARK_FREED
                                  : c == PAGE             ? MARK_SHARED
                                                          : (enum memmap_mark_kind)-1;
    if ((int)wrong < 0) {
        set_claim(f, PAGE);
        return true;
    }
    mark(m, wrong, frame, virt, by);
    set_claim(f, CONFLICT);
    return true;
}

// For a shared frame: the first page that maps it, in pass 2's order.
static uint32_t wanted;
static struct memmap_mark *found;

static bool find_first(struct memmap *m, uint32_t frame, uint32_t virt, int by) {
    (void)m;
    if (frame != wanted)
        return true;
    found->first_by = by;
    found->first_virt = virt;
    return false;
}

static void name_first_owners(struct memmap *m) {
    for (uint32_t i = 0; i < m->mark_total && i < MEMMAP_MARKS; i++) {
        if (m->marks[i].kind != MARK_SHARED)
            continue;
        wanted = m->marks[i].phys;
        found = &m->marks[i];
        bool more = walk_master(m, find_first);
        for (int s = 0; more && s < m->space_count; s++)
            more = walk_space(m, s, find_first);
    }
}

static void claim_pages(struct memmap *m) {
    walk_master(m, claim_page);
    for (int i = 0; i < m->space_count; i++) {
        walk_space(m, i, claim_page);
        for (uint32_t c = 0; c < m->cells; c++) { // keep the process with the most pages
            if (walk_n[c] > proc_n[c])
                proc_n[c] = walk_n[c], proc_key[c] = m->spaces[i].key;
            walk_n[c] = 0;
        }
    }
}

// ---- Pass 3: frames -----------------------------------------------------------

// True when the 32 frames from f (a multiple of 32) are free and no walk
// claimed them: most of RAM, most of the time.
static bool all_free(const struct memmap *m, uint32_t f) {
    const uint32_t *claimed = (const uint32_t *)&claims[f / 4]; // 2 bits a frame: 64 bits
    return f + 32 <= m->frames && !claimed[0] && !claimed[1] && pmm_managed_bits()[f / 32] == 0xFFFFFFFFu &&
           !pmm_used_bits()[f / 32];
}

static void classify_frames(struct memmap *m) {
    const uint32_t *managed = pmm_managed_bits(), *used = pmm_used_bits();
    for (uint32_t f = 0; f < m->frames; f++) {
        if (f % 32 == 0 && all_free(m, f)) {
            m->owners[MM_FREE] += 32;
            f += 31;
            continue;
        }
        uint32_t c = f / m->per_cell, addr = f * PAGE_SIZE;
        enum claim claim = claim_of(f);
        if (claim == TABLE) {
            m->owners[MM_TABLES]++, tables_n[c]++;
        } else if (claim == CONFLICT) {
            m->owners[MM_WRONG]++, cell_flags[c] |= CELL_WRONG;
        } else if (claim == PAGE) {
            continue; // counted with its owner
        } else if (in_image(addr)) {
            m->owners[MM_KERNEL]++, kernel_n[c]++;
        } else if (!bit(managed, f)) {
            m->owners[MM_RESERVED]++, cell_flags[c] |= CELL_RESERVED;
        } else if (bit(used, f)) {
            m->owners[MM_LOST]++, cell_flags[c] |= CELL_LOST;
            mark(m, MARK_LOST, addr, MEMMAP_NONE, 0);
        } else {
            m->owners[MM_FREE]++;
        }
    }
}

static char cell_key(uint32_t c) {
    if (cell_flags[c] & CELL_WRONG)
        return '!';
    if (cell_flags[c] & CELL_LOST)
        return 'L';
    if (proc_n[c])
        return proc_key[c]; // what students watch: above the kernel's own memory
    const uint16_t n[] = {kernel_n[c], tables_n[c], heap_n[c]};
    const char keys[] = {'K', 'T', 'H'};
    int best = 0;
    for (int i = 1; i < 3; i++)
        if (n[i] > n[best])
            best = i;
    if (n[best])
        return keys[best];
    return cell_flags[c] & CELL_RESERVED ? '#' : '.';
}

// ---- The whole map --------------------------------------------------------------

static void start(struct memmap *m) {
    memset(m, 0, sizeof *m);
    m->ram_end = pmm_ram_end();
    m->frames = m->ram_end / PAGE_SIZE;
    m->per_cell = 4; // a row of 64 cells is then at least 1 MiB
    while (m->frames > m->per_cell * MEMMAP_PHYS_CELLS)
        m->per_cell *= 2;
    m->cells = (m->frames + m->per_cell - 1) / m->per_cell;
    m->paging = read_cr0() & CR0_PG;
    m->master = !m->paging ? 0 : vm_kernel_directory() ? vm_kernel_directory() : read_cr3() & PAGE_MASK;
    memset(claims, 0, (m->frames + 3) / 4);
    memset(kernel_n, 0, sizeof kernel_n);
    memset(tables_n, 0, sizeof tables_n);
    memset(heap_n, 0, sizeof heap_n);
    memset(proc_n, 0, sizeof proc_n);
    memset(walk_n, 0, sizeof walk_n);
    memset(cell_flags, 0, sizeof cell_flags);
}

const struct memmap *memmap_build(int pid, uint32_t view_pd) {
    struct memmap *m = &map;
    start(m);
    if (m->paging) {
        find_processes(m);
        choose_view(m, pid, view_pd);
    }
    uint32_t cr0 = read_cr0();
    write_cr0(cr0 & ~CR0_PG); // from here on, addresses are physical
    if (m->master)
        claim_tables(m, m->master, MEMMAP_BY_KERNEL);
    for (int i = 0; i < m->space_count; i++)
        claim_tables(m, m->spaces[i].pd_phys, i);
    claim_pages(m);
    name_first_owners(m);
    classify_frames(m);
    for (uint32_t c = 0; c < m->cells; c++)
        m->phys[c] = cell_key(c);
    memmap_build_view(m);
    write_cr0(cr0);
    return m;
}
