// Test program (user_blocking): sleeps argv[1] ticks and ends through
// test_exit(0) when it slept at least that long, else 1.
#include "user.h"

int main(int argc, char **argv) {
    int ticks = argc > 1 ? atoi(argv[1]) : 20;
    int from = uptime();
    int result = sleep(ticks);
    int slept = uptime() - from;
    printf("t_sleep: sleep(%d) = %d after %d ticks\n", ticks, result, slept);
    test_exit(result == 0 && slept >= ticks ? 0 : 1);
}
