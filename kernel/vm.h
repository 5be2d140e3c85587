// Trusted paging code around the lab API: turning paging on at boot and
// hardening the result.
#ifndef KERNEL_VM_H
#define KERNEL_VM_H

// Calls init_paging(), then unmaps page 0 (so NULL dereferences fault) and
// sets CR0.WP (so the kernel honours read-only pages too).
void vm_boot(void);

// The kernel's master directory: what CR3 held when init_paging returned
// (0 before), found without calling lab code.
uint32_t vm_kernel_directory(void);

#endif
