// Where the memory map shows (memmap.h): the memmap system call (the
// shell's builtin), the reports trusted checks print before they fail, and
// the live view that F1 toggles, redrawn on the timer. Nothing here runs
// unless asked: the timer calls the live view only while it is on.
#include <stddef.h>
#include "memmap.h"
#include "proc.h"
#include "timer.h"
#include "vga.h"

#define LIVE_TICKS 10 // the live view is redrawn every LIVE_TICKS timer ticks

static int named_pid; // the process the last memmap call named (0: none)

int sys_memmap(int pid) {
    struct process *p = pid ? process_find(pid) : process_current();
    if (!p || !p->pd_phys)
        return -1;
    named_pid = pid;
    const struct memmap *m = memmap_build(p->pid, 0);
    memmap_draw(m, NULL); // first: once the block is out, the screen shows it
    memmap_print(m);
    return 0;
}

void memmap_report(int pid) { memmap_print(memmap_build(pid, 0)); }

void memmap_report_directory(uint32_t pd_phys) { memmap_print(memmap_build(0, pd_phys)); }

// The live view shows the process the last memmap call named while it
// lives, else the newest one: the program just started, the child just forked.
static int live_pid(void) {
    struct process *named = named_pid ? process_find(named_pid) : NULL;
    if (named && named->pd_phys)
        return named_pid;
    int newest = 0;
    PROCESS_FOREACH(p) {
        if (p->state != PROC_UNUSED && p->pd_phys && p->pid > newest)
            newest = p->pid;
    }
    return newest;
}

static void live_draw(void) {
    const struct memmap *m = memmap_build(live_pid(), 0);
    char status[VGA_COLS + 1] = "live view, F1: back to the console. No wrong entry.";
    if (m->mark_total) {
        status[0] = '!', status[1] = ' ';
        memmap_mark_text(m, &m->marks[0], status + 2, sizeof status - 2);
    }
    memmap_draw(m, status);
}

static void live_tick(void) {
    static uint32_t ticks;
    if (++ticks % LIVE_TICKS == 0)
        live_draw();
}

void memmap_live_toggle(void) {
    static bool live;
    live = !live;
    vga_hold(live);
    timer_set_screen_hook(live ? live_tick : NULL);
    if (live)
        live_draw();
}
