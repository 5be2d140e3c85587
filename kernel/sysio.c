// Console system calls (sysio.h).
#include "console.h"
#include "sysio.h"
#include "uvm.h"

// Interrupts are off in the kernel, so one call at a time uses the buffer.
static char buffer[IO_MAX];
static void (*write_tap)(struct process *p, const char *buf, uint32_t n);

static uint32_t io_size(int n) { return (uint32_t)n < IO_MAX ? (uint32_t)n : IO_MAX; }

int sys_write(int fd, const void *ubuf, int n) {
    if ((fd != 1 && fd != 2) || n < 0)
        return -1;
    uint32_t len = io_size(n);
    if (copy_from_user(buffer, ubuf, len) < 0)
        return -1;
    console_write(buffer, len);
    if (write_tap)
        write_tap(process_current(), buffer, len);
    return (int)len;
}

int sys_read(int fd, void *ubuf, int n) {
    if (fd != 0 || n < 0)
        return -1;
    uint32_t max = io_size(n);
    if (!uvm_range_ok(process_current()->pd_phys, (uint32_t)ubuf, max, true))
        return -1;
    if (max == 0)
        return 0;
    uint32_t got = console_read(buffer, max);
    if (got == 0) {
        console_wait_input();
        return process_block(BLOCK_READ);
    }
    copy_to_user(ubuf, buffer, got);
    return (int)got;
}

static void wake_readers(void) {
    PROCESS_FOREACH(p) {
        process_wake(p, BLOCK_READ);
    }
}

void sysio_init(void) { console_set_input_hook(wake_readers); }

void sysio_set_write_tap(void (*tap)(struct process *p, const char *buf, uint32_t n)) { write_tap = tap; }
