// The PS/2 keyboard: key presses become console input.
#ifndef KERNEL_KEYBOARD_H
#define KERNEL_KEYBOARD_H

void keyboard_init(void);

#endif
