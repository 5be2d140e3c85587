// The memory map: who owns each frame of RAM, and what one address space
// maps. Trusted code finds it from the PMM's bitmaps and the page
// directories themselves, never from what lab code says; it reads them with
// paging off, so no table a lab built can make it fault, and it reads only
// below the end of RAM. It works before paging too (no directory to walk).
//
// One data form, drawn three ways: the serial block (memmap_print.c, the
// format grader/memmap.py parses), the VGA screen (memmap_vga.c), and on
// the host GDB's `memmap` and the failure reports (grader/memmap.py).
//
// Physical memory is cut into cells of `per_cell` frames (a power of two:
// 32 MiB to 1 GiB fit in MEMMAP_PHYS_CELLS cells). Each cell shows one key:
//   '!' wrong     a frame in it has a problem (see the marks)
//   'L' lost      a frame in use that nothing owns: a leak
//   'a'..'z'      user pages of a process, keys in pid order ('*' after 'z'):
//                 the process with the most pages in the cell
//   then the one with the most frames in it of:
//   'K' kernel    the kernel image and pages the kernel mapped for itself
//   'T' tables    page directories and page tables
//   'H' heap      kernel heap pages
//   then '#' reserved (memory the PMM never hands out), then '.' free.
// The virtual view covers 4 GiB of one directory in MEMMAP_VIRT_CELLS cells
// of 16 MiB: '!' wrong, else the most pages of 'I' identity map, the
// process's key (user pages), 'H' heap, 'K' other kernel mappings; '.' none.
#ifndef KERNEL_MEMMAP_H
#define KERNEL_MEMMAP_H

#include <stdbool.h>
#include <stdint.h>
#include "process.h"

#define MEMMAP_COLS 64          // cells in a row, physical and virtual
#define MEMMAP_PHYS_CELLS 1024  // at most 16 rows
#define MEMMAP_VIRT_CELLS 256   // 4 rows of 1 GiB
#define MEMMAP_VIRT_CELL_PDES 4 // 16 MiB a virtual cell
#define MEMMAP_MARKS 8          // wrong entries listed (the rest are counted)
#define MEMMAP_NONE 0xFFFFFFFFu // a mark field that does not apply

// The legend of physical memory: frames (pages, for K and H mappings) each
// fixed owner has.
enum memmap_owner { MM_KERNEL, MM_TABLES, MM_HEAP, MM_LOST, MM_WRONG, MM_RESERVED, MM_FREE, MM_OWNERS };
// The legend of the virtual view: pages of each kind (wrong: entries).
enum memmap_kind { MV_IDENTITY, MV_USER, MV_HEAP, MV_KERNEL, MV_WRONG, MV_KINDS };

// What walks a mark names as the owner of a page or table, besides an
// address space (an index into `spaces`, >= 0).
#define MEMMAP_BY_HEAP (-1)   // the kernel heap (the master directory's)
#define MEMMAP_BY_KERNEL (-2) // another mapping of the master directory

enum memmap_mark_kind {
    MARK_SHARED,  // a frame mapped by two pages (fork must copy): phys, virt, by; first_*
    MARK_FREED,   // a mapped page or table whose frame is free: phys, virt (NONE: a table), by
    MARK_KERNEL,  // a user page on a frame the kernel owns: phys, virt, by
    MARK_BEYOND,  // an entry pointing beyond the end of RAM: phys (target), virt, by
    MARK_LOST,    // `count` frames from phys in use, owned by nothing
    MARK_HOLE,    // view: `count` pages of RAM from virt not mapped
    MARK_MOVED,   // view: identity page virt mapped to frame phys
    MARK_EXPOSED, // view: `count` kernel pages from virt user-accessible
};

struct memmap_mark {
    enum memmap_mark_kind kind;
    uint32_t phys, virt, count;
    int by;                    // the owner that maps it (space index or MEMMAP_BY_*)
    int first_by;              // MARK_SHARED: who mapped the frame first, and where
    uint32_t first_virt;
};

struct memmap_space {
    int pid;                 // 0: a directory no process owns (the view)
    char key;
    char name[PROC_NAME_MAX]; // printable, no blanks
    uint32_t pd_phys;
    uint32_t pages;          // user pages it maps
};

struct memmap {
    uint32_t ram_end;  // the map covers [0, ram_end)
    uint32_t frames, per_cell, cells;
    bool paging;
    uint32_t master;   // the kernel's directory; 0 when paging is off
    struct memmap_space spaces[NPROC + 1]; // processes by pid, then a bare view
    int space_count;
    uint32_t owners[MM_OWNERS];
    char phys[MEMMAP_PHYS_CELLS];
    // The view: one directory's 4 GiB, or none (view_pd 0).
    uint32_t view_pd;
    int view_space; // its space, or -1 for the master directory
    char view_key;  // what its user pages show as
    uint32_t kinds[MV_KINDS];
    char virt[MEMMAP_VIRT_CELLS];
    struct memmap_mark marks[MEMMAP_MARKS];
    uint32_t mark_total; // marks found, listed or not
};

// Builds the map, with the view of process `pid` (0: the master directory)
// or, when `view_pd` is not 0, of that directory. Reads only; safe from
// an interrupt handler while user code or the idle loop ran. The result
// stays valid until the next call.
const struct memmap *memmap_build(int pid, uint32_t view_pd);

// For the builders (memmap.c, memmap_view.c). Records a mark: merges it
// with the previous one when it continues its range.
void memmap_mark(struct memmap *m, struct memmap_mark mark);
// Physical memory, for code running with paging off (inside memmap_build),
// where a physical address is a pointer: the words at `addr`, which must be
// below m->ram_end (the callers check, and skip what is not).
static inline const uint32_t *memmap_phys(uint32_t addr) { return (const uint32_t *)addr; }
// Fills the view (memmap_view.c); paging is off.
void memmap_build_view(struct memmap *m);
// True when the physical walk found `frame` (in RAM) wrong: the view marks
// the pages that map it too.
bool memmap_frame_wrong(uint32_t frame);

// The serial block (memmap_print.c), and its text for a mark.
void memmap_print(const struct memmap *m);
int memmap_mark_text(const struct memmap *m, const struct memmap_mark *mark, char *buf, int size);
// The VGA screen (memmap_vga.c): the map on rows 0-23, the console's text
// going on from row 24; `status` for the last row instead, when not NULL.
void memmap_draw(const struct memmap *m, const char *status);

// Where students and checks see it (memmap_show.c).
// The memmap system call: draws the map with the view of process `pid`
// (0: the caller) and prints its block. 0, or -1 when no such process.
int sys_memmap(int pid);
// For trusted checks, before they fail: prints the block with the view of
// process `pid` (0: none, the master directory) or of directory `pd_phys`,
// so that the failure report draws it with the wrong entries marked.
void memmap_report(int pid);
void memmap_report_directory(uint32_t pd_phys);
// The keyboard's toggle (F1): a live view refreshed on the timer.
void memmap_live_toggle(void);

#endif
