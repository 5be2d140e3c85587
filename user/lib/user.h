// The user library: what every program includes. System calls (abi.h has
// their numbers and contracts), buffered output, and the kernel's string
// functions (<string.h>, compiled into the library too).
#ifndef USER_USER_H
#define USER_USER_H

#include <abi.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

// System calls. Each returns -1 on error; a bad pointer is an error.
void exit(int code) __attribute__((noreturn));
int write(int fd, const void *buf, int n);
int read(int fd, void *buf, int n); // a line at most; blocks until there is one
int fork(void);
int waitpid(int pid, int *status, int options);
int getpid(void);
int getppid(void);
int yield(void);
int exec(const char *name, char *const argv[]); // returns only on failure
int sleep(int ticks);                           // TIMER_HZ (100) ticks a second
void *sbrk(int increment);                      // (void *)-1 on failure
int uptime(void);
int programs(char *buf, int size);
// Draws the memory map on the screen and prints it on the serial console,
// with the address space of process `pid` (0: the caller's) beside it.
int memmap(int pid);
void shutdown(void) __attribute__((noreturn)); // ends QEMU
// Test-only: ends the process without exit(), through trusted kernel code.
void test_exit(int code) __attribute__((noreturn));

// Standard output (fd 1) is line-buffered: a line goes to the kernel in one
// write, so lines of different processes never mix. The buffer is flushed
// at a newline, when full, and before read, fork, exec and exit.
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int puts(const char *s); // s and a newline
// Formats into buf, always terminated (size > 0); returns the full length.
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void flush(void);

// The program's name: argv[0].
extern const char *progname;

// The decimal number at the start of s, with an optional '-'; 0 if none.
int atoi(const char *s);

// For test programs: prints "<progname>: <what> = <got> ok" (or FAIL when
// got != want) and returns 1 on failure, else 0. EXPECT(call, want) names
// the call by its source text.
int expect(const char *what, int got, int want);
#define EXPECT(call, want) expect(#call, (int)(call), (want))

#endif
