// The two 8259A interrupt controllers.
#ifndef KERNEL_PIC_H
#define KERNEL_PIC_H

#include <stdint.h>

// Moves IRQs 0-15 to vectors `base`..`base`+15 (the BIOS puts them on top
// of CPU exceptions) and masks every line.
void pic_remap(uint8_t base);
void pic_unmask(int irq);
void pic_send_eoi(int irq);
// True when `irq` (7 or 15) is a spurious interrupt that must not get an EOI.
int pic_is_spurious(int irq);

#endif
