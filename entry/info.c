// SPDX-License-Identifier: MIT
/*
 * The info block that opens the image.  It stays zero (no payload) until
 * the wrap tool fills it in; it is not const, so that the compiler cannot
 * fold its fields.
 */
#include "stub.h"

struct pvhstub_info pvhstub_info __attribute__((section(".pvhinfo"), used));
