// SPDX-License-Identifier: GPL-2.0

#include <linux/jiffies.h>
#include <linux/workqueue.h>

void rust_helper_init_delayed_work(struct delayed_work *dwork, work_func_t func)
{
	INIT_DELAYED_WORK(dwork, func);
}

bool rust_helper_schedule_delayed_work_ms(struct delayed_work *dwork, unsigned int ms)
{
	return schedule_delayed_work(dwork, msecs_to_jiffies(ms));
}
