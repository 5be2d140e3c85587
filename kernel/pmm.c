// The physical memory manager: two bitmaps over the frames below 1 GiB.
//
// Invariants: a frame is `managed` when the memory map calls it available
// and it lies above the kernel image; a managed frame is either free
// (its `used` bit clear) or handed out. Unmanaged frames always have their
// `used` bit set, so the allocator never looks at them twice.
#include <stdbool.h>
#include <string.h>
#include "bootinfo.h"
#include "kprintf.h"
#include "memlayout.h"
#include "multiboot.h"
#include "pmm.h"

#define MAX_FRAMES (IDENTITY_LIMIT / PAGE_SIZE)
#define WORDS (MAX_FRAMES / 32)
#define DMA_FRAMES (DMA_LIMIT / PAGE_SIZE)

static uint32_t used[WORDS];
static uint32_t managed[WORDS];
static uint32_t free_in_zone[2];
static uint32_t search_from[2]; // first word that may hold a free frame
static uint32_t ram_end;
static uint32_t fail_countdown; // 0: fault injection disarmed
static uint32_t injected;

static bool test_bit(const uint32_t *map, uint32_t frame) { return map[frame / 32] & (1u << (frame % 32)); }
static void set_bit(uint32_t *map, uint32_t frame) { map[frame / 32] |= 1u << (frame % 32); }
static void clear_bit(uint32_t *map, uint32_t frame) { map[frame / 32] &= ~(1u << (frame % 32)); }
static int zone_of(uint32_t frame) { return frame < DMA_FRAMES ? PMM_ZONE_DMA : PMM_ZONE_NORMAL; }

static void add_region(uint64_t base, uint64_t len) {
    uint64_t end = base + len;
    if (end > IDENTITY_LIMIT)
        end = IDENTITY_LIMIT;
    uint32_t first = (uint32_t)((base + PAGE_SIZE - 1) / PAGE_SIZE);
    uint32_t first_free = (uint32_t)PAGE_ALIGN_UP(_kernel_end) / PAGE_SIZE;
    if (first < first_free)
        first = first_free; // frame 0, low memory and the kernel stay out
    uint32_t last = (uint32_t)(end / PAGE_SIZE); // one past
    for (uint32_t f = first; f < last; f++) {
        if (test_bit(managed, f))
            continue; // overlapping map entries
        set_bit(managed, f);
        clear_bit(used, f);
        free_in_zone[zone_of(f)]++;
    }
    if (end > ram_end && first < last)
        ram_end = (uint32_t)PAGE_ALIGN_DOWN(end);
}

void pmm_init(void) {
    memset(used, 0xFF, sizeof used);
    const struct boot_info *info = bootinfo();
    for (uint32_t i = 0; i < info->region_count; i++) {
        const struct mem_region *r = &info->regions[i];
        if (r->type == MULTIBOOT_MEMORY_AVAILABLE && r->base < IDENTITY_LIMIT)
            add_region(r->base, r->len);
    }
    search_from[PMM_ZONE_DMA] = 0;
    search_from[PMM_ZONE_NORMAL] = DMA_FRAMES / 32;
    if (pmm_free_count() == 0)
        panic("pmm: no usable memory above the kernel");
}

// Takes the first free frame of `zone`; 0 when the zone is empty.
static phys_addr_t take_from(int zone) {
    uint32_t end = zone == PMM_ZONE_DMA ? DMA_FRAMES / 32 : WORDS;
    for (uint32_t w = search_from[zone]; w < end; w++) {
        if (used[w] == 0xFFFFFFFFu)
            continue;
        uint32_t bit = (uint32_t)__builtin_ctz(~used[w]);
        uint32_t frame = w * 32 + bit;
        set_bit(used, frame);
        free_in_zone[zone]--;
        search_from[zone] = w;
        return frame * PAGE_SIZE;
    }
    search_from[zone] = end;
    return 0;
}

phys_addr_t pmm_alloc_page(int zone) {
    if (zone != PMM_ZONE_DMA && zone != PMM_ZONE_NORMAL)
        panic("pmm_alloc_page: no zone %d", zone);
    if (fail_countdown && --fail_countdown == 0) {
        injected++;
        return 0;
    }
    phys_addr_t frame = take_from(zone);
    if (!frame && zone == PMM_ZONE_NORMAL)
        frame = take_from(PMM_ZONE_DMA);
    return frame;
}

void pmm_free_page(phys_addr_t frame) {
    uint32_t f = frame / PAGE_SIZE;
    if (frame % PAGE_SIZE || frame >= IDENTITY_LIMIT || !test_bit(managed, f))
        panic("pmm_free_page: 0x%08x is not a frame the PMM hands out", frame);
    if (!test_bit(used, f))
        panic("pmm_free_page: frame 0x%08x is already free (double free)", frame);
    clear_bit(used, f);
    int zone = zone_of(f);
    free_in_zone[zone]++;
    if (f / 32 < search_from[zone])
        search_from[zone] = f / 32;
}

uint32_t pmm_get_memory_size(void) {
    uint32_t cap = (IDENTITY_LIMIT - KERNEL_LOAD) / 1024;
    uint32_t kib = bootinfo()->mem_upper;
    return kib < cap ? kib : cap;
}

uint32_t pmm_ram_end(void) { return ram_end; }
uint32_t pmm_free_count(void) { return free_in_zone[PMM_ZONE_DMA] + free_in_zone[PMM_ZONE_NORMAL]; }
uint32_t pmm_zone_free_count(int zone) { return free_in_zone[zone]; }

int pmm_is_managed(phys_addr_t frame) {
    return frame < IDENTITY_LIMIT && test_bit(managed, frame / PAGE_SIZE);
}

const uint32_t *pmm_managed_bits(void) { return managed; }
const uint32_t *pmm_used_bits(void) { return used; }
int pmm_is_free(phys_addr_t frame) { return pmm_is_managed(frame) && !test_bit(used, frame / PAGE_SIZE); }

void pmm_fail_nth_alloc(uint32_t n) { fail_countdown = n; }
uint32_t pmm_injected_failures(void) { return injected; }
