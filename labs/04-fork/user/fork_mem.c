// Test program (fork_memory): memory after fork. Fills four regions with
// values (an initialized global array, a .bss array, an array on the stack
// and PAGES pages of heap from sbrk), forks, and checks in both processes
// that each one sees the values of fork time, then only its own writes.
// The parent writes its values and waits in read until the harness types a
// line, which it does once the child has written its own; the child waits
// until the parent has ended (getppid() becomes 0) before its last check.
// Both end through test_exit(number of failed checks). The child knows it
// is the child by its pid: this test does not depend on what fork returns
// (fork_return tests that). Usage: fork_mem PAGES SEED
#include "user.h"

#define WORDS 1024 // 4 KiB

enum writer { AT_FORK, PARENT, CHILD };
static const char *const writer_names[] = {"its value at fork", "the parent's value", "the child's value"};

struct region {
    const char *name;
    uint32_t *words;
    uint32_t count;
};

static uint32_t data_words[WORDS] = {1}; // initialized: in .data
static uint32_t bss_words[3 * WORDS];   // in .bss
static struct region regions[4];
static uint32_t seed;
static const char *me = "parent";

static uint32_t value(enum writer w, int region, uint32_t i) {
    return (seed ^ ((uint32_t)w * 0x9E3779B9u) ^ ((uint32_t)region << 28)) + i * 2654435761u;
}

static void fill(enum writer w) {
    for (int r = 0; r < 4; r++)
        for (uint32_t i = 0; i < regions[r].count; i++)
            regions[r].words[i] = value(w, r, i);
}

// Which writer's value `got` is, for the message; -1 for none.
static int writer_of(int r, uint32_t i, uint32_t got) {
    for (int w = AT_FORK; w <= CHILD; w++)
        if (got == value(w, r, i))
            return w;
    return -1;
}

// Checks every word against writer w's values; one line per bad region.
static int check(enum writer w) {
    int failures = 0;
    for (int r = 0; r < 4; r++) {
        for (uint32_t i = 0; i < regions[r].count; i++) {
            uint32_t got = regions[r].words[i];
            if (got == value(w, r, i))
                continue;
            int other = writer_of(r, i, got);
            printf("fork_mem: FAIL in the %s: %s word %u at %p holds %s, expected %s\n", me, regions[r].name, i,
                   (void *)&regions[r].words[i], other >= 0 ? writer_names[other] : "garbage", writer_names[w]);
            failures++;
            break;
        }
    }
    return failures;
}

static void child(int pages) {
    me = "child";
    int failures = check(AT_FORK);
    if (!failures)
        printf("fork_mem: child %d: saw the parent's globals, stack and heap as they were at fork\n", getpid());
    fill(CHILD);
    char *end = sbrk(0), *more = sbrk(2 * 4096); // the heap keeps growing from where it was
    if (more == (char *)-1 || more != end || end != (char *)regions[3].words + pages * 4096) {
        printf("fork_mem: FAIL in the child: sbrk(0) = %p, sbrk(8192) = %p, expected %p\n", end, more,
               (char *)regions[3].words + pages * 4096);
        failures++;
    } else {
        more[0] = more[8191] = 1;
    }
    printf("fork_mem: child %d: wrote its own values, heap grown to %d pages\n", getpid(), pages + 2);
    while (getppid() != 0) // the parent has checked and ended
        yield();
    failures += check(CHILD);
    if (!failures)
        printf("fork_mem: child %d: the parent's writes did not reach it\n", getpid());
    test_exit(failures);
}

int main(int argc, char **argv) {
    int pages = argc > 1 ? atoi(argv[1]) : 8;
    seed = argc > 2 ? (uint32_t)atoi(argv[2]) : 1;
    uint32_t stack_words[WORDS];
    uint32_t *heap = sbrk(pages * 4096);
    if (heap == (uint32_t *)-1) {
        printf("fork_mem: sbrk(%d pages) failed\n", pages);
        test_exit(100);
    }
    regions[0] = (struct region){"global (.data)", data_words, WORDS};
    regions[1] = (struct region){"global (.bss)", bss_words, 3 * WORDS};
    regions[2] = (struct region){"stack", stack_words, WORDS};
    regions[3] = (struct region){"heap", heap, (uint32_t)pages * WORDS};
    fill(AT_FORK);
    int me = getpid();
    fork();
    if (getpid() != me)
        child(pages);
    printf("fork_mem: parent %d: %d heap pages, forked\n", me, pages);
    fill(PARENT);
    char line[16];
    read(0, line, sizeof line); // typed by the harness once the child has written
    int failures = check(PARENT);
    if (!failures)
        printf("fork_mem: parent %d: the child's writes did not reach it\n", me);
    test_exit(failures);
}
