// sleep: sleeps for the given number of timer ticks (100 a second).
#include "user.h"

int main(int argc, char **argv) {
    int ticks = argc > 1 ? atoi(argv[1]) : 100;
    int from = uptime();
    sleep(ticks);
    printf("sleep: asked for %d ticks, slept %d\n", ticks, uptime() - from);
    return 0;
}
