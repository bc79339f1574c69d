// SPDX-License-Identifier: GPL-2.0

#include <linux/cpumask.h>
#include <linux/percpu.h>

void __percpu *rust_helper___alloc_percpu_gfp(size_t size, size_t align, gfp_t gfp)
{
	return __alloc_percpu_gfp(size, align, gfp);
}

void *rust_helper_per_cpu_ptr(void __percpu *ptr, unsigned int cpu)
{
	return per_cpu_ptr(ptr, cpu);
}

/* Safe against preemption and interrupts on the local CPU. */
void rust_helper_this_cpu_add_u64(u64 __percpu *ptr, u64 val)
{
	this_cpu_add(*ptr, val);
}

/* A packet and its bytes: two adjacent counters, in one call. */
void rust_helper_this_cpu_add_pair_u64(u64 __percpu *ptr, u64 a, u64 b)
{
	this_cpu_add(ptr[0], a);
	this_cpu_add(ptr[1], b);
}

/* The possible CPU after @cpu (-1 to start), or -1 after the last one. */
int rust_helper_cpumask_next_possible(int cpu)
{
	unsigned int next = cpumask_next(cpu, cpu_possible_mask);

	return next < nr_cpu_ids ? next : -1;
}
