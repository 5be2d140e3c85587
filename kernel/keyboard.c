// PS/2 keyboard on IRQ 1: scan code set 1 to ASCII, US layout, shift only.
#include <stdbool.h>
#include <stdint.h>
#include "console.h"
#include "keyboard.h"
#include "memmap.h"
#include "port_io.h"
#include "trap.h"

#define KBD_DATA 0x60
#define RELEASED 0x80 // set in the scan code of a key release
#define LSHIFT 0x2A
#define RSHIFT 0x36
#define F1 0x3B // toggles the memory map's live view

static const char normal[58] = {
    0,   27,  '1', '2', '3', '4', '5', '6', '7', '8', '9', '0', '-', '=', '\b', '\t', 'q', 'w', 'e', 'r',
    't', 'y', 'u', 'i', 'o', 'p', '[', ']', '\n', 0,  'a', 's', 'd', 'f', 'g', 'h', 'j', 'k', 'l', ';',
    '\'', '`', 0,  '\\', 'z', 'x', 'c', 'v', 'b', 'n', 'm', ',', '.', '/', 0,  '*', 0,  ' '};
static const char shifted[58] = {
    0,   27,  '!', '@', '#', '$', '%', '^', '&', '*', '(', ')', '_', '+', '\b', '\t', 'Q', 'W', 'E', 'R',
    'T', 'Y', 'U', 'I', 'O', 'P', '{', '}', '\n', 0,  'A', 'S', 'D', 'F', 'G', 'H', 'J', 'K', 'L', ':',
    '"', '~', 0,   '|', 'Z', 'X', 'C', 'V', 'B', 'N', 'M', '<', '>', '?', 0,   '*', 0,   ' '};

static bool shift;

static void keyboard_interrupt(registers_t *regs) {
    (void)regs;
    uint8_t code = inb(KBD_DATA);
    uint8_t key = code & ~RELEASED;
    if (key == LSHIFT || key == RSHIFT) {
        shift = !(code & RELEASED);
        return;
    }
    if (code == F1)
        memmap_live_toggle();
    if (code & RELEASED || key >= sizeof normal)
        return;
    char c = shift ? shifted[key] : normal[key];
    if (c)
        console_input(c);
}

void keyboard_init(void) { trap_set_irq_handler(IRQ_KEYBOARD, keyboard_interrupt); }
