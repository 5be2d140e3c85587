// kmalloc: small kernel objects carved out of kernel heap pages
// (paging_alloc_page). An object never spans two pages: heap pages are not
// assumed to be adjacent.
#ifndef KERNEL_KMALLOC_H
#define KERNEL_KMALLOC_H

#include <stddef.h>

#define KMALLOC_MAX 2048 // the largest object kmalloc hands out

// A block of at least n bytes (1 <= n <= KMALLOC_MAX), 16-byte aligned, with
// undefined contents; NULL when n is out of range or the heap is exhausted.
void *kmalloc(size_t n);

// Returns a block from kmalloc. A heap page whose blocks are all free goes
// back to paging_free_page, so freeing everything frees every frame.
void kfree(void *block);

#endif
