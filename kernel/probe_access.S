// The probe accessors (probe.h). Each has exactly one instruction that may
// fault; probe.c moves a faulting EIP from it to probe_failed.

// int probe_read32(uint32_t addr, uint32_t *out)
.global probe_read32, probe_read_insn
probe_read32:
    mov 4(%esp), %ecx
probe_read_insn:
    mov (%ecx), %eax
    mov 8(%esp), %edx
    mov %eax, (%edx)
    xor %eax, %eax
    ret

// int probe_write32(uint32_t addr, uint32_t value)
.global probe_write32, probe_write_insn
probe_write32:
    mov 4(%esp), %ecx
    mov 8(%esp), %edx
probe_write_insn:
    mov %edx, (%ecx)
    xor %eax, %eax
    ret

.global probe_failed
probe_failed:
    mov $-1, %eax
    ret
