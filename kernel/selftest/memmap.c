// The memory map (kernel/memmap.h) checked against the PMM and the page
// tables, before paging and with processes alive, and drawn from a
// directory broken in every way the map knows, which it must survive.
// grader/tests/test_memmap.py reads the blocks these tests print.
#include "harness.h"
#include "kprintf.h"
#include "memmap.h"
#include "paging.h"
#include "pmm.h"
#include "proc.h"
#include "ptwalk.h"
#include "userprog.h"
#include "vm.h"

#define USER_PDE PD_INDEX(USER_BASE)
#define BEYOND_RAM 0xFFFFF000u
#define USER_RW (PAGE_PRESENT | PAGE_WRITE | PAGE_USER)

// Every frame is in exactly one legend count when nothing is wrong.
static void check_total(const struct memmap *m) {
    uint32_t total = 0;
    for (int o = 0; o < MM_OWNERS; o++)
        total += m->owners[o];
    for (int i = 0; i < m->space_count; i++)
        total += m->spaces[i].pages;
    harness_check(total == m->frames, "the legend counts %u frames, RAM has %u", total, m->frames);
    harness_check(m->owners[MM_FREE] == pmm_free_count(), "the map has %u free frames, the PMM %u",
                  m->owners[MM_FREE], pmm_free_count());
    harness_check(m->cells * m->per_cell >= m->frames && (m->cells - 1) * m->per_cell < m->frames &&
                  m->cells <= MEMMAP_PHYS_CELLS, "%u cells of %u frames for %u frames", m->cells, m->per_cell,
                  m->frames);
}

// Before paging: no directory, no table, no heap; the kernel, free and
// reserved memory only.
HARNESS_TEST_EARLY(memmap_early, "") {
    const struct memmap *m = memmap_build(0, 0);
    harness_check(!m->paging && !m->view_pd && !m->space_count, "paging is off, yet the map has a view or spaces");
    harness_check(m->owners[MM_TABLES] == 0 && m->owners[MM_HEAP] == 0 && m->owners[MM_LOST] == 0,
                  "tables, heap or lost frames before paging");
    check_total(m);
    memmap_print(m);
    kprintf("[test] memmap_early: %u frames, %u free\n", m->frames, pmm_free_count());
    harness_pass();
}

// ---- memmap_legend: with two processes asleep -----------------------------

static int pids[2];

// Present user pages of `pd`, counted with ptwalk.
static uint32_t user_pages(uint32_t pd) {
    uint32_t n = 0;
    for (uint32_t va = USER_BASE; va < USER_TOP; va += PAGE_SIZE) {
        struct ptwalk w = ptwalk(pd, va);
        if (w.status == PTWALK_NO_TABLE)
            va += (PAGE_ENTRIES - 1) * PAGE_SIZE;
        n += w.status == PTWALK_MAPPED;
    }
    return n;
}

// Directories and page tables: the master's, then each process's own.
static uint32_t table_frames(void) {
    const uint32_t *master = (const uint32_t *)vm_kernel_directory();
    uint32_t n = 1;
    for (int i = 0; i < PAGE_ENTRIES; i++)
        n += master[i] & PAGE_PRESENT;
    PROCESS_FOREACH(p) {
        if (p->state == PROC_UNUSED || !p->pd_phys)
            continue;
        const uint32_t *pd = (const uint32_t *)p->pd_phys;
        n++;
        for (int i = 0; i < PAGE_ENTRIES; i++)
            n += (pd[i] & PAGE_PRESENT) && pd[i] != master[i];
    }
    return n;
}

// True once every process sleeps: then nothing changes while a map is made.
static bool all_asleep(void) {
    PROCESS_FOREACH(p) {
        if (p->state != PROC_UNUSED && p->state != PROC_BLOCKED)
            return false;
    }
    return true;
}

static HARNESS_PASSES void check_legend(void) {
    if (!all_asleep())
        return;
    const struct memmap *m = memmap_build(pids[1], 0);
    check_total(m);
    harness_check(m->space_count == 2 && m->spaces[0].pid == pids[0] && m->spaces[1].pid == pids[1],
                  "the map has %d processes, expected pids %d and %d", m->space_count, pids[0], pids[1]);
    for (int i = 0; i < 2; i++) {
        uint32_t n = user_pages(m->spaces[i].pd_phys);
        harness_check(m->spaces[i].pages == n, "pid %d: the map counts %u user pages, its tables map %u",
                      m->spaces[i].pid, m->spaces[i].pages, n);
    }
    harness_check(m->owners[MM_TABLES] == table_frames(), "the map counts %u table frames, the directories have %u",
                  m->owners[MM_TABLES], table_frames());
    harness_check(!m->owners[MM_LOST] && !m->owners[MM_WRONG] && !m->mark_total, "%u lost, %u wrong, %u marks on a "
                  "healthy kernel", m->owners[MM_LOST], m->owners[MM_WRONG], m->mark_total);
    harness_check(m->kinds[MV_IDENTITY] == m->ram_end / PAGE_SIZE - 1 && m->kinds[MV_USER] == m->spaces[1].pages,
                  "the view has %u identity and %u user pages", m->kinds[MV_IDENTITY], m->kinds[MV_USER]);
    kprintf("[test] memmap_legend: pmm_free_count %u, tables %u, pid %d %u pages, pid %d %u pages\n",
            pmm_free_count(), table_frames(), pids[0], m->spaces[0].pages, pids[1], m->spaces[1].pages);
    memmap_print(m);
    harness_pass();
}

static void never_both_asleep(enum sched_stop why) {
    (void)why;
    harness_fail("the processes ended before both slept at once");
}

// Runs two sleeping processes; `at_idle` runs each time the kernel idles.
static void run_sleepers(void (*at_idle)(void)) {
    userprog_begin();
    pids[0] = userprog_spawn((char *[]){"t_sleep", "20", NULL});
    pids[1] = userprog_spawn((char *[]){"t_sleep", "30", NULL});
    sched_set_idle_hook(at_idle);
    userprog_run(never_both_asleep);
}

HARNESS_TEST(memmap_legend, "") { run_sleepers(check_legend); }

// ---- memmap_broken: a directory wrong in every way -------------------------

static uint32_t frame(void) {
    uint32_t f = pmm_alloc_page(PMM_ZONE_NORMAL);
    harness_check(f != 0, "out of memory in the harness");
    for (uint32_t i = 0; i < PAGE_ENTRIES; i++)
        ((uint32_t *)f)[i] = 0;
    return f;
}

// Marks, in the order the map finds them: a table beyond RAM (pass 1); a
// shared frame, a freed one, the kernel's, one beyond RAM (pass 2); in the
// view, a hole, a moved page, an exposed one, and a second hole (9 marks:
// one more than the block lists).
HARNESS_TEST(memmap_broken, "") {
    const uint32_t *master = (const uint32_t *)read_cr3();
    uint32_t pd = frame(), user = frame(), low = frame(), shared = frame(), freed = frame();
    pmm_free_page(freed);
    uint32_t *dir = (uint32_t *)pd, *u = (uint32_t *)user, *l = (uint32_t *)low;
    for (int i = 0; i < PAGE_ENTRIES; i++)
        dir[i] = master[i];
    dir[USER_PDE] = user | USER_RW;
    dir[USER_PDE + 1] = BEYOND_RAM | USER_RW;
    u[0] = shared | USER_RW, u[1] = shared | USER_RW, u[2] = freed | USER_RW;
    u[3] = KERNEL_LOAD | USER_RW, u[4] = BEYOND_RAM | USER_RW;
    dir[1] = 0; // 0x00400000-0x007fffff: a hole
    for (uint32_t i = 0; i < PAGE_ENTRIES; i++)
        l[i] = (0x00800000 + i * PAGE_SIZE) | PAGE_PRESENT | PAGE_WRITE;
    l[0] = 0x00C00000 | PAGE_PRESENT | PAGE_WRITE; // moved
    l[1] |= PAGE_USER;                              // exposed (the directory entry allows it)
    dir[2] = low | USER_RW;
    dir[3] = 0; // 0x00c00000-0x00ffffff: another hole
    const struct memmap *m = memmap_build(0, pd);
    memmap_print(m);
    harness_check(m->mark_total == MEMMAP_MARKS + 1, "the map found %u marks, expected %u", m->mark_total,
                  MEMMAP_MARKS + 1);
    kprintf("[test] memmap_broken: directory 0x%08x, shared 0x%08x, freed 0x%08x, user table 0x%08x\n", pd, shared,
            freed, user);
    harness_pass();
}

// ---- bench_memmap: what one map costs (tools/bench.py, under -icount) ------

static void bench_point(const char *what, uint64_t start) {
    kprintf("bench: memmap %s %u instructions\n", what, (uint32_t)(rdtsc() - start));
}

// The map of a kernel running two processes: built, printed, drawn.
static HARNESS_PASSES void bench_map(void) {
    if (!all_asleep())
        return;
    uint64_t start = rdtsc();
    const struct memmap *m = memmap_build(pids[1], 0);
    bench_point("build", start);
    start = rdtsc();
    memmap_draw(m, NULL);
    bench_point("draw", start);
    start = rdtsc();
    memmap_print(m);
    bench_point("print", start);
    harness_pass();
}

HARNESS_TEST(bench_memmap, "") { run_sleepers(bench_map); }
