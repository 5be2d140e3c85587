// Accesses from ring 3 for tests that run before any process exists (lab 1):
// a few instructions, copied into a user page the test has mapped, entered
// with iret; each access comes back through int $0x80 or a fault. The test's
// own stack is left behind (as when a process starts), so the test goes on
// in `done`.
#ifndef KERNEL_SELFTEST_RING3_H
#define KERNEL_SELFTEST_RING3_H

#include <stdbool.h>
#include <stdint.h>

struct ring3_access {
    uint32_t addr;  // the word ring 3 reads, or writes `value` to
    bool write;
    uint32_t value; // written; or what was read
    bool faulted;   // then: the fault's vector, CR2 and error code
    uint32_t vector, cr2, err;
};

// Copies the access code into `code_frame`, the frame the test mapped at
// user address `code_vaddr` (user-accessible: ring 3 runs it there), then
// makes accesses[0..n) from ring 3, in order, and calls `done`. When ring 3
// cannot run the code at all, `done` is called at once with that fault in
// *code_fault (else code_fault->faulted is false). Never returns.
void ring3_run(uint32_t code_vaddr, uint32_t code_frame, struct ring3_access *accesses, int n,
               void (*done)(const struct ring3_access *code_fault)) __attribute__((noreturn));

#endif
