// size_t, NULL and offsetof for the kernel.
#ifndef KERNEL_STDDEF_H
#define KERNEL_STDDEF_H

typedef unsigned int size_t;
typedef int ptrdiff_t;

#define NULL ((void *)0)
#define offsetof(type, member) __builtin_offsetof(type, member)

#endif
