// The memory map as a block of text on the serial console (memmap.h): a
// student reads it in `make qemu-nox`, and grader/memmap.py parses it into
// the data every host-side picture is drawn from. The format:
//
//   memmap: RAM 0x07fe0000, 32736 frames, 32 frames a cell, paging on
//     owners: K kernel 186 | T page tables 40 | H kernel heap 3 | L lost 0 | ...
//     processes: a pid 1 init 20 | b pid 2 sh 24          (or: none)
//         0M ####KKKKTT..aabb....     one line of 64 cells per row
//     view: pid 2 (sh), directory 0x0033f000, 16 MiB a cell
//     pages: I identity 32735 | b user 24 | H kernel heap 3 | K kernel 0 | ! wrong 0
//         0G IIIII...                 4 rows, 1 GiB each
//     ! shared 0x0012a000 0x40001000 frame 0x0012a000 is page ... (a mark: kind, frame, page, why)
//     ! 3 more
//   memmap: end
//
// It goes to the serial port only: the screen gets the picture instead.
#include "kprintf.h"
#include "memmap.h"
#include "serial.h"

static const char *const owner_names[MM_OWNERS] = {"kernel", "page tables", "kernel heap", "lost", "wrong",
                                                   "reserved", "free"};
static const char owner_keys[MM_OWNERS] = {'K', 'T', 'H', 'L', '!', '#', '.'};
static const char *const mark_kinds[] = {"shared", "freed", "kernel", "beyond", "lost", "hole", "moved", "exposed"};

static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out(const char *fmt, ...) {
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    for (const char *c = line; *c; c++) {
        if (*c == '\n')
            serial_putc('\r'); // as the console does
        serial_putc(*c);
    }
}

// Who `by` is, in a mark's text.
static int owner_name(const struct memmap *m, int by, char *buf, int size) {
    if (by == MEMMAP_BY_HEAP)
        return ksnprintf(buf, size, "the kernel heap");
    if (by == MEMMAP_BY_KERNEL)
        return ksnprintf(buf, size, "the kernel");
    const struct memmap_space *s = &m->spaces[by];
    if (s->pid)
        return ksnprintf(buf, size, "pid %d (%s)", s->pid, s->name);
    return ksnprintf(buf, size, "directory 0x%08x", s->pd_phys);
}

static const char *plural(uint32_t n) { return n == 1 ? "" : "s"; }

int memmap_mark_text(const struct memmap *m, const struct memmap_mark *k, char *buf, int size) {
    char by[48], first[48];
    owner_name(m, k->by, by, sizeof by);
    switch (k->kind) {
    case MARK_SHARED:
        owner_name(m, k->first_by, first, sizeof first);
        return ksnprintf(buf, size, "frame 0x%08x is page 0x%08x of %s and page 0x%08x of %s: one frame, two owners "
                         "(a copy needs frames of its own)", k->phys, k->first_virt, first, k->virt, by);
    case MARK_FREED:
        if (k->virt == MEMMAP_NONE)
            return ksnprintf(buf, size, "frame 0x%08x is free in the PMM, yet a page table of %s", k->phys, by);
        return ksnprintf(buf, size, "frame 0x%08x is free in the PMM, yet page 0x%08x of %s", k->phys, k->virt, by);
    case MARK_KERNEL:
        return ksnprintf(buf, size, "page 0x%08x of %s maps frame 0x%08x, which the kernel owns (its image, a page "
                         "table or reserved memory)", k->virt, by, k->phys);
    case MARK_BEYOND:
        if (k->virt == MEMMAP_NONE)
            return ksnprintf(buf, size, "the directory of %s is at 0x%08x, beyond the end of RAM", by, k->phys);
        return ksnprintf(buf, size, "the entry of %s for 0x%08x points to 0x%08x, beyond the end of RAM", by, k->virt,
                         k->phys);
    case MARK_LOST:
        return ksnprintf(buf, size, "%u frame%s from 0x%08x in use, owned by no table, heap or process: leaked",
                         k->count, plural(k->count), k->phys);
    case MARK_HOLE:
        return ksnprintf(buf, size, "%u page%s of RAM from 0x%08x not mapped: a hole in the identity map", k->count,
                         plural(k->count), k->virt);
    case MARK_MOVED:
        return ksnprintf(buf, size, "identity page 0x%08x maps frame 0x%08x, not itself", k->virt, k->phys);
    case MARK_EXPOSED:
        return ksnprintf(buf, size, "%u kernel page%s from 0x%08x user-accessible", k->count, plural(k->count),
                         k->virt);
    }
    return ksnprintf(buf, size, "?");
}

static void print_legend(const struct memmap *m) {
    out("  owners:");
    for (int o = 0; o < MM_OWNERS; o++)
        out("%s %c %s %u", o ? " |" : "", owner_keys[o], owner_names[o], m->owners[o]);
    out("\n  processes:%s", m->space_count ? "" : " none");
    for (int i = 0; i < m->space_count; i++) {
        const struct memmap_space *s = &m->spaces[i];
        if (s->pid)
            out("%s %c pid %d %s %u", i ? " |" : "", s->key, s->pid, s->name, s->pages);
        else
            out("%s %c dir 0x%08x %u", i ? " |" : "", s->key, s->pd_phys, s->pages);
    }
    out("\n");
}

// Rows of MEMMAP_COLS cells, each labelled with where it starts.
static void print_rows(const char *cells, uint32_t count, uint32_t per_row, char unit) {
    for (uint32_t at = 0; at < count; at += MEMMAP_COLS) {
        char row[MEMMAP_COLS + 1];
        uint32_t n = count - at < MEMMAP_COLS ? count - at : MEMMAP_COLS;
        for (uint32_t i = 0; i < n; i++)
            row[i] = cells[at + i];
        row[n] = 0;
        out("  %5u%c %s\n", at / MEMMAP_COLS * per_row, unit, row);
    }
}

static void print_view(const struct memmap *m) {
    if (!m->view_pd) {
        out("  view: none, paging is off\n");
        return;
    }
    if (m->view_space < 0)
        out("  view: the kernel, directory 0x%08x, 16 MiB a cell\n", m->view_pd);
    else if (m->spaces[m->view_space].pid)
        out("  view: pid %d (%s), directory 0x%08x, 16 MiB a cell\n", m->spaces[m->view_space].pid,
            m->spaces[m->view_space].name, m->view_pd);
    else
        out("  view: directory 0x%08x, 16 MiB a cell\n", m->view_pd);
    out("  pages: I identity %u | %c user %u | H kernel heap %u | K kernel %u | ! wrong %u\n", m->kinds[MV_IDENTITY],
        m->view_key, m->kinds[MV_USER], m->kinds[MV_HEAP], m->kinds[MV_KERNEL], m->kinds[MV_WRONG]);
    print_rows(m->virt, MEMMAP_VIRT_CELLS, 1, 'G');
}

static void print_address(uint32_t a) {
    if (a == MEMMAP_NONE)
        out(" -");
    else
        out(" 0x%08x", a);
}

static void print_marks(const struct memmap *m) {
    for (uint32_t i = 0; i < m->mark_total && i < MEMMAP_MARKS; i++) {
        char text[200];
        memmap_mark_text(m, &m->marks[i], text, sizeof text);
        out("  ! %s", mark_kinds[m->marks[i].kind]);
        print_address(m->marks[i].phys);
        print_address(m->marks[i].virt);
        out(" %s\n", text);
    }
    if (m->mark_total > MEMMAP_MARKS)
        out("  ! %u more\n", m->mark_total - MEMMAP_MARKS);
}

void memmap_print(const struct memmap *m) {
    out("memmap: RAM 0x%08x, %u frames, %u frames a cell, paging %s\n", m->ram_end, m->frames, m->per_cell,
        m->paging ? "on" : "off");
    print_legend(m);
    print_rows(m->phys, m->cells, MEMMAP_COLS * m->per_cell / 256, 'M');
    print_view(m);
    print_marks(m);
    out("memmap: end\n");
}
