// isa-debug-exit, and the halt loop behind it for real hardware.
#include "port_io.h"
#include "qemu.h"
#include "x86.h"

#define DEBUG_EXIT_PORT 0xF4

void qemu_exit(int code) {
    outl(DEBUG_EXIT_PORT, (uint32_t)code);
    for (;;) {
        cli();
        hlt();
    }
}
