// Ending QEMU from inside: the isa-debug-exit device (iobase 0xf4). Writing
// value v makes QEMU exit with status (v << 1) | 1. QEMU's own errors exit
// with 1 and a triple fault (with -no-reboot) with 0, so every code below
// is odd and above 1; the grader (grader/protocol.py) knows the same table.
#ifndef KERNEL_QEMU_H
#define KERNEL_QEMU_H

#define QEMU_EXIT_PASS 0x31            // exit status 99: a test passed
#define QEMU_EXIT_FAIL 0x32            // 101: a trusted check failed
#define QEMU_EXIT_PANIC 0x33           // 103: panic or unhandled exception
#define QEMU_EXIT_NOT_IMPLEMENTED 0x34 // 105: a gap stub was called
#define QEMU_EXIT_SHUTDOWN 0x35        // 107: normal end of a boot without a test

// Ends QEMU with `code`. On a machine without the device, halts forever.
void qemu_exit(int code) __attribute__((noreturn));

#endif
