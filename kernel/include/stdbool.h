// bool, true and false (C11 _Bool).
#ifndef KERNEL_STDBOOL_H
#define KERNEL_STDBOOL_H

#define bool _Bool
#define true 1
#define false 0

#endif
