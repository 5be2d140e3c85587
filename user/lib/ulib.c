// Program start-up and the small helpers of a C library that programs need.
#include "user.h"

const char *progname;

int main(int argc, char **argv);

// Called by crt0.S: runs main, then exits with its result.
void start(int argc, char **argv) {
    progname = argv[0];
    exit(main(argc, argv));
}

int atoi(const char *s) {
    int sign = *s == '-' ? -1 : 1;
    if (*s == '-')
        s++;
    int n = 0;
    while (*s >= '0' && *s <= '9')
        n = n * 10 + (*s++ - '0');
    return sign * n;
}

int expect(const char *what, int got, int want) {
    printf("%s: %s = %d %s\n", progname, what, got, got == want ? "ok" : "FAIL");
    return got != want;
}
