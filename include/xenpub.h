/* SPDX-License-Identifier: MIT */
/*
 * Xen's public interface, from Xen's own headers (libxen-dev), with the
 * interface version the stub speaks.  Built with -m32, these give the
 * 32-bit (compat) layouts Xen expects from a guest in 32-bit mode.
 */
#ifndef PVHSTUB_XENPUB_H
#define PVHSTUB_XENPUB_H

#define __XEN_INTERFACE_VERSION__ 0x00040400
#include <xen/xen.h>
#include <xen/memory.h>
#include <xen/sched.h>

#endif
