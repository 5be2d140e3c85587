// Fixed-width integer types for the i386 kernel (ILP32).
#ifndef KERNEL_STDINT_H
#define KERNEL_STDINT_H

typedef signed char int8_t;
typedef unsigned char uint8_t;
typedef short int16_t;
typedef unsigned short uint16_t;
typedef int int32_t;
typedef unsigned int uint32_t;
typedef long long int64_t;
typedef unsigned long long uint64_t;
typedef unsigned int uintptr_t;
typedef int intptr_t;

#define UINT32_MAX 0xFFFFFFFFu
#define INT32_MAX 0x7FFFFFFF

#endif
