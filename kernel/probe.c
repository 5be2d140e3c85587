// Recovery from faults inside probe_read32/probe_write32.
#include "probe.h"
#include "x86.h"

extern char probe_read_insn[], probe_write_insn[], probe_failed[];

static struct probe_fault last;

int probe_fixup(registers_t *regs) {
    if (regs->eip != (uint32_t)probe_read_insn && regs->eip != (uint32_t)probe_write_insn)
        return 0;
    last = (struct probe_fault){read_cr2(), regs->err_code};
    regs->eip = (uint32_t)probe_failed;
    return 1;
}

struct probe_fault probe_last_fault(void) { return last; }
