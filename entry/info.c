// SPDX-License-Identifier: MIT
/*
 * The info block that opens the image.  Its magic stays zero (no payload)
 * until the wrap tool fills it in; flags carry the Kconfig handoff, which
 * the tool uses as its default.  It is not const, so that the compiler
 * cannot fold its fields.
 */
#include "kconfig.h"
#include "handoff.h"

struct pvhstub_info pvhstub_info __attribute__((section(".pvhinfo"), used)) = {
	.flags = IS_ENABLED(CONFIG_HANDOFF_64) ? PI_HANDOFF_64 : PI_HANDOFF_32,
};
