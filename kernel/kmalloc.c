// kmalloc: power-of-two size classes from 32 to KMALLOC_MAX bytes. Each heap
// page holds blocks of one class, after a header that says which class and
// how many blocks are in use; free blocks of a class form a list.
#include <stdint.h>
#include "kmalloc.h"
#include "kprintf.h"
#include "memlayout.h"
#include "paging.h"

#define MIN_SHIFT 5 // 32-byte blocks
#define CLASSES 7   // 32 .. 2048
#define HEADER 32   // bytes of a page before its first block (keeps alignment)

struct page_header {
    uint32_t shift; // block size is 1 << shift
    uint32_t used;  // blocks handed out
};

struct free_block {
    struct free_block *next;
};

static struct free_block *free_lists[CLASSES];

static int class_of(size_t n) {
    int c = 0;
    while ((1u << (c + MIN_SHIFT)) < n)
        c++;
    return c;
}

static struct page_header *header_of(void *block) { return (struct page_header *)PAGE_ALIGN_DOWN(block); }

// Takes a heap page for class c and puts all its blocks on the free list.
static int refill(int c) {
    struct page_header *page = paging_alloc_page();
    if (!page)
        return -1;
    uint32_t size = 1u << (c + MIN_SHIFT);
    *page = (struct page_header){c + MIN_SHIFT, 0};
    for (uint32_t at = HEADER; at + size <= PAGE_SIZE; at += size) {
        struct free_block *b = (struct free_block *)((char *)page + at);
        b->next = free_lists[c];
        free_lists[c] = b;
    }
    return 0;
}

void *kmalloc(size_t n) {
    if (n == 0 || n > KMALLOC_MAX)
        return NULL;
    int c = class_of(n);
    if (!free_lists[c] && refill(c) < 0)
        return NULL;
    struct free_block *b = free_lists[c];
    free_lists[c] = b->next;
    header_of(b)->used++;
    return b;
}

// Unlinks every block of `page` from its class's list, then frees the page.
static void release(struct page_header *page) {
    struct free_block **link = &free_lists[page->shift - MIN_SHIFT];
    while (*link) {
        if (header_of(*link) == page)
            *link = (*link)->next;
        else
            link = &(*link)->next;
    }
    paging_free_page(page);
}

void kfree(void *block) {
    uint32_t addr = (uint32_t)block;
    struct page_header *page = header_of(block);
    if (addr < KHEAP_BASE || addr >= KHEAP_TOP || (addr & ~PAGE_MASK) < HEADER || page->used == 0)
        panic("kfree: 0x%08x is not a kmalloc block", addr);
    struct free_block *b = block;
    b->next = free_lists[page->shift - MIN_SHIFT];
    free_lists[page->shift - MIN_SHIFT] = b;
    if (--page->used == 0)
        release(page);
}
