// The test harness: runs the test named on the command line and tells the
// grader how it went (protocol in grader/PROTOCOL.md).
//
// A test is a function registered with HARNESS_TEST. It checks the kernel
// with trusted code, prints the lines its expected trace names, and ends
// with harness_pass() or a failed check. Lab folders (labs/*/) hold tests;
// the build links every one of them into the kernel.
#ifndef KERNEL_HARNESS_H
#define KERNEL_HARNESS_H

#include <stdint.h>

// When a test runs: before paging (only the PMM and traps are up), or once
// the kernel is fully up with paging on (the normal case).
enum harness_stage { HARNESS_EARLY, HARNESS_BOOTED };

struct harness_test {
    const char *name;
    const char *params; // space-separated names of the parameters it reads
    enum harness_stage stage;
    void (*run)(void);
};

// Marks a function other than a test's own that calls harness_pass() (a
// scheduler hook, say). The grader keeps a breakpoint at its entry until it
// runs, and QEMU runs a page holding a breakpoint one instruction at a time:
// these functions get pages of their own (kernel/linker.ld).
// grader/kernelmap.py refuses a kernel where such a function lacks the mark.
#define HARNESS_PASSES __attribute__((section(".text.harness_passes")))

// Marks a table trusted code sets up before any lab code runs and nothing
// writes afterwards (the IDT, the TSS, the harness's selection): the grader
// watches writes to them and flags any. QEMU checks every write to a page
// holding a watchpoint, so these tables share their pages with nothing
// else (kernel/linker.ld): a counter written all through a test next to
// them would make the whole test slower.
#define HARNESS_SETTLED __attribute__((section(".bss.settled")))

// Calls hook `fn` (a function's address) with one argument. Trusted code
// calls the hooks a test hands it through this: the grader then sees the
// hook start at a stop that costs QEMU less than the hook's breakpoint.
void harness_call_hook(uintptr_t fn, uint32_t arg);

#define HARNESS_DEFINE(fn, param_names, when)                                                           \
    static void fn(void);                                                                               \
    static const struct harness_test fn##_entry __attribute__((used, section(".harness_tests"),       \
                                                               aligned(4))) = {#fn, param_names, when, \
                                                                               fn};                   \
    static void fn(void)

// HARNESS_TEST(name, "param1 param2") { ... }: a test run once the kernel is up.
#define HARNESS_TEST(fn, param_names) HARNESS_DEFINE(fn, param_names, HARNESS_BOOTED)
// A test run before paging is turned on.
#define HARNESS_TEST_EARLY(fn, param_names) HARNESS_DEFINE(fn, param_names, HARNESS_EARLY)

// Parses the command line (bootinfo) and checks that the parameters fit the
// selected test.
void harness_init(void);
// Runs the selected test if it belongs to `stage`; a test never returns.
// kmain calls it for HARNESS_EARLY before any lab code runs.
void harness_run_stage(enum harness_stage stage);
// Prints the registered tests (for a boot without test=).
void harness_list_tests(void);

// A parameter's value, or NULL when not given.
const char *harness_param(const char *name);
// A numeric parameter (decimal or 0x hex); `fallback` when not given. A
// value that is not a number fails the test.
uint32_t harness_param_u32(const char *name, uint32_t fallback);
// The next number of the test's pseudo-random sequence (seeded by seed=).
uint32_t harness_random(void);

// Fails the test with a message unless `ok`.
void harness_check(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void harness_fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
// Ends the test: the end marker, then exit. A pass counts only when the
// grader stops the guest here itself (grader/PROTOCOL.md), called from the
// test's own function or from a function it hands to the kernel (a
// scheduler hook, say), in the activation the grader saw start: call it
// from a function that runs once per test, with a plain call.
void harness_pass(void) __attribute__((noreturn));

#endif
