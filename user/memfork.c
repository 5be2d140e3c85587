// memfork: watch fork copy pages and exit give them back. Grows its heap by
// a few pages (so that the copy shows) and draws the memory map; forks, and
// the child draws it with both processes alive; the child exits, and the
// parent, once waitpid returned, draws it again: the child's frames are
// free. Usage: memfork [pages]   (16 by default)
#include "user.h"

#define PAGE 4096

int main(int argc, char **argv) {
    int pages = argc > 1 ? atoi(argv[1]) : 16;
    char *heap = sbrk(pages * PAGE);
    if (pages < 0 || heap == (char *)-1) {
        printf("memfork: cannot grow the heap by %d pages\n", pages);
        return 1;
    }
    for (int i = 0; i < pages; i++)
        heap[i * PAGE] = (char)i;
    printf("memfork: pid %d with %d heap pages, before fork:\n", getpid(), pages);
    memmap(0);
    int pid = fork();
    if (pid < 0) {
        printf("memfork: fork failed\n");
        return 1;
    }
    if (pid == 0) {
        printf("memfork: child pid %d, its pages copied from pid %d:\n", getpid(), getppid());
        memmap(0);
        exit(0);
    }
    if (waitpid(pid, NULL, 0) != pid)
        printf("memfork: waitpid %d failed\n", pid);
    printf("memfork: child %d exited and was reaped:\n", pid);
    memmap(0);
    return 0;
}
