// Program nprocs: prints how many slots of the process table are in use
// (the nprocs system call, lab 6). `nprocs wait` sleeps instead, for a
// test that needs other processes around.
#include "user.h"

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "wait") == 0) {
        sleep(1000000);
        test_exit(0);
    }
    printf("nprocs: %d processes\n", nprocs());
    exit(0);
}
