// Test program (user_blocking): reads one line of console input (blocking
// until there is one), prints it and ends through test_exit(its length).
#include "user.h"

int main(void) {
    char line[64];
    int n = read(0, line, sizeof line - 1);
    if (n > 0 && line[n - 1] == '\n')
        line[n - 1] = 0;
    else if (n >= 0)
        line[n] = 0;
    printf("t_read: read %d bytes: '%s'\n", n, n >= 0 ? line : "");
    test_exit(n);
}
