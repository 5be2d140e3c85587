// Process system calls that need no subsystem of their own (syscall.h).
#include <string.h>
#include "kmalloc.h"
#include "kprintf.h"
#include "paging.h"
#include "pmm.h"
#include "proc.h"
#include "programs.h"
#include "qemu.h"
#include "syscall.h"
#include "uvm.h"

int sys_exit(int code) {
    proc_exit(W_EXITCODE(code));
    return SYSCALL_SWITCHED;
}

int sys_getppid(void) {
    struct process *parent = process_current()->parent;
    return parent ? parent->pid : 0;
}

// Moves the end of the heap by `increment` bytes. Heap pages are the whole
// pages above the program image: [PAGE_ALIGN_UP(heap_start), PAGE_ALIGN_UP(brk)).
int sys_sbrk(int increment) {
    struct process *p = process_current();
    uint32_t old = p->brk;
    if (p->heap_start < USER_BASE || old < p->heap_start) // exec sets them, fork copies them
        panic("sbrk: pid %d has a broken heap: heap_start 0x%08x, brk 0x%08x", p->pid, p->heap_start, old);
    uint32_t size = increment < 0 ? 0u - (uint32_t)increment : (uint32_t)increment;
    if (increment < 0 ? size > old - p->heap_start : size > USER_IMAGE_LIMIT - old)
        return -1;
    uint32_t brk = increment < 0 ? old - size : old + size;
    uint32_t first = PAGE_ALIGN_UP(old), end = PAGE_ALIGN_UP(brk);
    if (increment < 0) {
        uvm_dealloc(p->pd_phys, end, first);
    } else if ((end - first) / PAGE_SIZE > pmm_free_count() || // fail fast, without zeroing all RAM first
               uvm_alloc(p->pd_phys, first, end, PAGE_USER | PAGE_WRITE) < 0) {
        return -1;
    }
    p->brk = brk;
    return (int)old;
}

int sys_programs(char *ubuf, int size) {
    char *list = kmalloc(KMALLOC_MAX);
    if (!list)
        return -1;
    uint32_t len = 0;
    int count = 0;
    for (const struct program *p; (p = program_at(count)) && len + strlen(p->name) + 2 <= KMALLOC_MAX; count++)
        len += ksnprintf(list + len, KMALLOC_MAX - len, "%s%s", count ? " " : "", p->name);
    int result = size >= 0 && (uint32_t)size > len && copy_to_user(ubuf, list, len + 1) == 0 ? count : -1;
    kfree(list);
    return result;
}

static void (*shutdown_hook)(void);

void sys_set_shutdown_hook(void (*hook)(void)) { shutdown_hook = hook; }

void sys_shutdown(void) {
    if (shutdown_hook)
        shutdown_hook(); // a test that drives the shell ends here
    kprintf("Kestrel: shutting down.\n");
    qemu_exit(QEMU_EXIT_SHUTDOWN);
}
