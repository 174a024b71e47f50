/* SPDX-License-Identifier: MIT */
/*
 * A simulated guest memory for host tests: a few regions of host buffers
 * at chosen guest addresses.  map() succeeds only for a range inside one
 * region, so any read the translator did not validate shows up as a NULL
 * (and as an ASan report if it bypassed map()).
 */
#ifndef PVHSTUB_TEST_SIM_H
#define PVHSTUB_TEST_SIM_H

#include <stdlib.h>
#include <string.h>
#include "translate.h"

#define SIM_REGIONS 8

struct sim_region {
	uint64_t paddr, size;
	uint8_t *host;
};

struct sim {
	struct guest_mem mem;
	struct sim_region r[SIM_REGIONS];
	int n;
};

static void *sim_map(const struct guest_mem *mem, uint64_t paddr, uint64_t len)
{
	const struct sim *s = mem->ctx;

	for (int i = 0; i < s->n; i++) {
		const struct sim_region *r = &s->r[i];

		if (paddr >= r->paddr && len <= r->size && paddr - r->paddr <= r->size - len)
			return r->host + (paddr - r->paddr);
	}
	return NULL;
}

static inline void sim_init(struct sim *s)
{
	memset(s, 0, sizeof(*s));
	s->mem.map = sim_map;
	s->mem.ctx = s;
}

/* Add a zeroed region; returns its host pointer. */
static inline void *sim_add(struct sim *s, uint64_t paddr, uint64_t size)
{
	struct sim_region *r = &s->r[s->n++];

	r->paddr = paddr;
	r->size = size;
	r->host = calloc(1, size);
	return r->host;
}

static inline void *sim_ptr(struct sim *s, uint64_t paddr)
{
	return sim_map(&s->mem, paddr, 1);
}

static inline void sim_free(struct sim *s)
{
	for (int i = 0; i < s->n; i++)
		free(s->r[i].host);
	s->n = 0;
}

#endif
