// Faults in user mode: the faulting process is killed, never the kernel.
#ifndef KERNEL_SIGNAL_H
#define KERNEL_SIGNAL_H

// Routes user-mode exceptions to the killer (exception_set_user_handler).
// proc_init calls it.
void signal_init(void);

#endif
