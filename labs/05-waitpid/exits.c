// The exit part of the lab 5 watch (watch.h): what a process owns when it
// calls exit (proc_set_exit_hook), and what is left of it once it has
// switched out, before any other process runs.
#include <string.h>
#include "harness.h"
#include "kprintf.h"
#include "paging.h"
#include "pmm.h"
#include "ptwalk.h"
#include "watch.h"

static struct watch_exit exiting;    // the exit in progress
static struct process *exiting_slot; // its slot; NULL: none

// Appends `frame` to the record, counting it in *kind (tables or pages).
static void note_frame(uint32_t frame, uint32_t *kind) {
    uint32_t i = 1 + exiting.tables + exiting.pages;
    harness_check(i < WATCH_MAX_FRAMES, "pid %d owns more than %d frames", exiting.pid, WATCH_MAX_FRAMES);
    exiting.frames[i] = frame;
    (*kind)++;
}

static void note_exit(struct process *p, int status) {
    exiting_slot = p;
    exiting.pid = p->pid;
    exiting.status = status;
    exiting.frames[0] = p->pd_phys;
    exiting.tables = exiting.pages = 0;
    for (uint32_t t = USER_BASE; t < USER_TOP; t += PAGE_SIZE * PAGE_ENTRIES) { // the tables first
        struct ptwalk w = ptwalk(p->pd_phys, t);
        if (w.status != PTWALK_NO_TABLE && w.status != PTWALK_UNREADABLE)
            note_frame(w.pde & PAGE_MASK, &exiting.tables);
    }
    for (uint32_t v = USER_BASE; v < USER_TOP; v += PAGE_SIZE) {
        struct ptwalk w = ptwalk(p->pd_phys, v);
        if (w.status == PTWALK_NO_TABLE)
            v += (PAGE_ENTRIES - 1) * PAGE_SIZE; // skip the rest of this 4 MiB
        if (w.status == PTWALK_MAPPED)
            note_frame(w.pte & PAGE_MASK, &exiting.pages);
    }
}

void watch_exit_begin(void) { proc_set_exit_hook(note_exit); }

// How many of frames[first, first + n) of `e` are not free.
static uint32_t taken(const struct watch_exit *e, uint32_t first, uint32_t n) {
    uint32_t count = 0;
    for (uint32_t i = first; i < first + n; i++)
        count += !pmm_is_free(e->frames[i]);
    return count;
}

// Fails when some frames of `e` are still taken: all of them, unless
// `partly` (then only when some are free and others are not).
static void check_freed(const struct watch_exit *e, bool partly) {
    uint32_t dir = taken(e, 0, 1), tables = taken(e, 1, e->tables), pages = taken(e, 1 + e->tables, e->pages);
    uint32_t total = 1 + e->tables + e->pages;
    if (dir + tables + pages == 0 || (partly && dir + tables + pages == total))
        return;
    harness_check(dir + tables + pages < total, "pid %d is a zombie that still holds its whole address space "
                  "(directory 0x%08x, %u page tables, %u pages), and its parent has not reaped it yet: exit must "
                  "free the address space (paging_free_directory) before the process becomes a zombie; the zombie "
                  "keeps only its slot and exit status", e->pid, e->frames[0], e->tables, e->pages);
    char kept[128] = "";
    if (dir)
        ksnprintf(kept, sizeof kept, "its directory 0x%08x, ", e->frames[0]);
    if (tables)
        ksnprintf(kept + strlen(kept), sizeof kept - strlen(kept), "%u of its %u page tables, ", tables, e->tables);
    if (pages)
        ksnprintf(kept + strlen(kept), sizeof kept - strlen(kept), "%u of its %u pages, ", pages, e->pages);
    kept[strlen(kept) - 2] = 0;
    harness_fail("pid %d is a zombie that still holds part of its address space (%s): exit must free all of it, "
                 "the directory, every user page table and every user page (paging_free_directory)", e->pid, kept);
}

void watch_check_freed(const struct watch_exit *e) { check_freed(e, false); }

const struct watch_exit *watch_exit_switch(struct process *prev) {
    if (!exiting_slot || prev != exiting_slot)
        return NULL;
    exiting_slot = NULL;
    int pid = exiting.pid;
    harness_check(prev->state != PROC_UNUSED, "pid %d called exit and its slot is already free: exit leaves a "
                  "ZOMBIE that keeps the exit status until the parent's waitpid reaps it; waitpid frees the slot, "
                  "not exit", pid);
    harness_check(prev->state == PROC_ZOMBIE && prev->pid == pid, "pid %d called exit, and its slot is now %s "
                  "(pid %d): exit makes the process a ZOMBIE", pid, process_state_name(prev->state), prev->pid);
    check_freed(&exiting, true);
    watch_check_exit_woke(prev);
    return &exiting;
}
