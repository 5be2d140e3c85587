// The PIT: a periodic interrupt on IRQ 0, the scheduler's clock.
#ifndef KERNEL_TIMER_H
#define KERNEL_TIMER_H

#include <stdint.h>
#include "regs.h"

#define TIMER_HZ 100

void timer_init(void);
// Ticks since timer_init.
uint32_t timer_ticks(void);
// Called on every tick with the interrupted frame (the scheduler's hook).
void timer_set_tick_hook(void (*hook)(registers_t *regs));
// Called on every tick while set: the memory map's live view (NULL: none).
void timer_set_screen_hook(void (*hook)(void));

#endif
