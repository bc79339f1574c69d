/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Forced into a third-party client's build (gcc -include, by
 * scripts/queue-clients.sh) so that its stdout is line-buffered: the
 * selftests read what it printed while it runs and then kill it, and a
 * full stdio buffer would be lost. The client's source stays as it is.
 */
#include <stdio.h>

__attribute__((constructor)) static void rf_linebuf_stdout(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
}
