// The memory map on the VGA text screen, in its 16 colours (memmap.h):
//
//   row  0      title: RAM and the scale (rounded to MiB)
//   rows 1-16   physical memory, 64 cells a row,     | right: the owners'
//               each row labelled with its MiB       | names and counts
//   rows 17-18  the processes: key, pid, name, pages
//   row  19     the view: whose directory            | right: its counts
//   rows 20-23  its 4 GiB, 1 GiB a row               |
//   row  24     the console's text (or the live view's status)
//
// The colours are the ones grader/memmap.py uses for ANSI and SVG; the
// tests compare them through QEMU's screendump.
#include <string.h>
#include "kprintf.h"
#include "memmap.h"
#include "vga.h"

#define LABEL 5            // " 128 " before the cells
#define RIGHT (LABEL + MEMMAP_COLS + 1) // the right column: 10 wide
#define TITLE 0x1F         // white on blue
#define PLAIN 0x07         // light grey on black

static uint16_t screen[VGA_ROWS * VGA_COLS];

// The processes' backgrounds, by key: blue, green, cyan, magenta, then the
// bright ones; the foreground that reads on each.
static const uint8_t process_colours[] = {0x1F, 0x2F, 0x30, 0x5F, 0x90, 0xA0, 0xB0, 0xD0};

static uint8_t attribute(char key) {
    switch (key) {
    case '.': return 0x08; // dark grey dot on black
    case '#': return 0x87; // light grey on dark grey
    case 'K': return 0x70; // black on light grey
    case 'T': return 0x6F; // white on brown
    case 'H': return 0xE0; // black on yellow
    case 'L': return 0xCF; // white on light red
    case '!': return 0x4E; // yellow on red
    case 'I': return 0x8F; // white on dark grey
    case 'U': return 0x1F; // white on blue
    case '*': return 0x7F; // white on light grey
    default: return key >= 'a' && key <= 'z' ? process_colours[(key - 'a') % sizeof process_colours] : PLAIN;
    }
}

static void put(int r, int c, char ch, uint8_t attr) {
    if (r < VGA_ROWS && c < VGA_COLS)
        screen[r * VGA_COLS + c] = (uint16_t)(attr << 8 | (uint8_t)ch);
}

// Writes `s` from (r, c) in `attr`; returns the column after it.
static int text(int r, int c, const char *s, uint8_t attr) {
    for (; *s && c < VGA_COLS; s++)
        put(r, c++, *s, attr);
    return c;
}

// A legend item: the key in its colour, then the words; the column after.
static int item(int r, int c, char key, const char *words) {
    put(r, c, key, attribute(key));
    put(r, c + 1, ' ', PLAIN);
    return text(r, c + 2, words, PLAIN) + 2;
}

static void cells(int r, const char *keys, uint32_t n, const char *label_fmt, uint32_t label) {
    char s[12];
    ksnprintf(s, sizeof s, label_fmt, label);
    text(r, 0, s, PLAIN);
    for (uint32_t i = 0; i < n; i++)
        put(r, LABEL + (int)i, keys[i], attribute(keys[i]));
}

static void draw_title(const struct memmap *m) {
    char s[VGA_COLS + 1];
    for (int c = 0; c < VGA_COLS; c++)
        put(0, c, ' ', TITLE);
    ksnprintf(s, sizeof s, " memmap: RAM %u MiB, %u frames (%u KiB) a cell, rows in MiB",
              (m->ram_end + (1 << 19)) >> 20, m->per_cell, m->per_cell * 4);
    text(0, 0, s, TITLE);
    text(0, VGA_COLS - 9, "F1: live", TITLE);
}

static void draw_physical(const struct memmap *m) {
    static const char keys[] = {'K', 'T', 'H', 'L', '!', '#', '.'};
    static const char *const names[] = {"kernel", "tables", "heap", "lost", "wrong", "reserved", "free"};
    for (uint32_t at = 0, r = 1; at < m->cells; at += MEMMAP_COLS, r++)
        cells((int)r, m->phys + at, m->cells - at < MEMMAP_COLS ? m->cells - at : MEMMAP_COLS, "%4u",
              at / MEMMAP_COLS * m->per_cell / 4);
    for (int o = 0; o < MM_OWNERS; o++) {
        char count[12];
        ksnprintf(count, sizeof count, "%10u", m->owners[o]);
        item(1 + 2 * o, RIGHT, keys[o], names[o]);
        text(2 + 2 * o, RIGHT, count, PLAIN);
    }
}

// Rows 17 and 18: as many processes as fit, then how many more there are.
static void draw_processes(const struct memmap *m) {
    int r = 17, c = 1;
    if (!m->space_count)
        text(r, c, "no process", PLAIN);
    for (int i = 0; i < m->space_count; i++) {
        const struct memmap_space *s = &m->spaces[i];
        char words[40];
        if (s->pid)
            ksnprintf(words, sizeof words, "pid %d %s %u", s->pid, s->name, s->pages);
        else
            ksnprintf(words, sizeof words, "dir 0x%08x %u", s->pd_phys, s->pages);
        int end = c + (int)strlen(words) + 2, room = r == 17 ? VGA_COLS : VGA_COLS - 9;
        if (end > room && r == 18) {
            ksnprintf(words, sizeof words, "+%d more", m->space_count - i);
            text(r, VGA_COLS - 8, words, PLAIN);
            return;
        }
        if (end > room)
            r = 18, c = 1;
        c = item(r, c, s->key, words);
    }
}

static void draw_view(const struct memmap *m) {
    char s[VGA_COLS + 1];
    if (!m->view_pd) {
        text(19, 1, "virtual: none, paging is off (no page directory yet)", PLAIN);
        return;
    }
    const struct memmap_space *v = m->view_space >= 0 ? &m->spaces[m->view_space] : NULL;
    if (v && v->pid)
        ksnprintf(s, sizeof s, "virtual: pid %d (%s), 16 MiB/cell:", v->pid, v->name);
    else
        ksnprintf(s, sizeof s, "virtual: %s 0x%08x, 16 MiB/cell:", v ? "directory" : "kernel", m->view_pd);
    int c = text(19, 1, s, PLAIN) + 1;
    // The view's own keys, in short after a long heading: the counts
    // column starts at RIGHT (a 15-letter name and a 3-digit pid fit).
    bool roomy = c + 30 <= RIGHT;
    c = item(19, c, 'I', roomy ? "identity map" : "identity");
    item(19, c, m->view_key, roomy ? "user pages" : "user");
    const char keys[] = {'I', m->view_key, 'H', 'K', '!'};
    for (int k = 0; k < MV_KINDS; k++) {
        ksnprintf(s, sizeof s, "%8u", m->kinds[k]);
        item(19 + k, RIGHT, keys[k], s);
    }
    for (int r = 0; r < 4; r++)
        cells(20 + r, m->virt + r * MEMMAP_COLS, MEMMAP_COLS, "%3uG", (uint32_t)r);
}

void memmap_draw(const struct memmap *m, const char *status) {
    for (int i = 0; i < VGA_ROWS * VGA_COLS; i++)
        screen[i] = PLAIN << 8 | ' ';
    draw_title(m);
    draw_physical(m);
    draw_processes(m);
    draw_view(m);
    if (status)
        text(VGA_ROWS - 1, 0, status, PLAIN);
    vga_draw(screen);
}
