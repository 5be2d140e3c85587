// Console system calls: write to fd 1 and 2, read from fd 0.
#ifndef KERNEL_SYSIO_H
#define KERNEL_SYSIO_H

#include <stdint.h>
#include "process.h"

#define IO_MAX 1024 // bytes one read or write moves at most

// Writes n bytes of user memory to the console, all at once: the output of
// one call is never interleaved with another's. Returns the count written
// (at most IO_MAX), or -1 for a bad fd, n < 0 or a bad pointer.
int sys_write(int fd, const void *ubuf, int n);

// Reads console input up to and including a newline, at most n bytes;
// blocks (re-running when a line arrives) until there is some. Returns the
// count, 0 for n == 0, or -1 for a bad fd, n < 0 or a bad pointer (checked
// before any input is taken).
int sys_read(int fd, void *ubuf, int n);

// Wakes readers when console input arrives. proc_init calls it.
void sysio_init(void);

// Tests: `tap` sees every successful write, with the process that made it.
void sysio_set_write_tap(void (*tap)(struct process *p, const char *buf, uint32_t n));

#endif
