// hello: the first program to try from the shell.
#include "user.h"

int main(void) {
    printf("hello, world from pid %d (parent %d)\n", getpid(), getppid());
    return 0;
}
