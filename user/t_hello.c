// Test program (user_hello, user_fault, user_exec): prints one line and ends
// through test_exit with the code given as argv[1] (default 0).
#include "user.h"

int main(int argc, char **argv) {
    int code = argc > 1 ? atoi(argv[1]) : 0;
    printf("t_hello: hello from pid %d, argc %d, code %d\n", getpid(), argc, code);
    test_exit(code);
}
