// PIT channel 0 in rate-generator mode at TIMER_HZ.
#include "port_io.h"
#include "timer.h"
#include "trap.h"

#define PIT_CHANNEL0 0x40
#define PIT_COMMAND 0x43
#define PIT_RATE_GENERATOR 0x34 // channel 0, low then high byte, mode 2
#define PIT_FREQUENCY 1193182

static volatile uint32_t ticks;
static void (*tick_hook)(registers_t *regs);
static void (*screen_hook)(void);

static void timer_interrupt(registers_t *regs) {
    ticks++;
    if (screen_hook)
        screen_hook(); // before the scheduler's hook, which may switch away
    if (tick_hook)
        tick_hook(regs);
}

void timer_init(void) {
    uint32_t divisor = PIT_FREQUENCY / TIMER_HZ;
    outb(PIT_COMMAND, PIT_RATE_GENERATOR);
    outb(PIT_CHANNEL0, divisor & 0xFF);
    outb(PIT_CHANNEL0, divisor >> 8);
    trap_set_irq_handler(IRQ_TIMER, timer_interrupt);
}

uint32_t timer_ticks(void) { return ticks; }

void timer_set_tick_hook(void (*hook)(registers_t *regs)) { tick_hook = hook; }

void timer_set_screen_hook(void (*hook)(void)) { screen_hook = hook; }
