#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Unloading under load (issue 8), second half: as rustfilter_stress.sh
# (see stress_reload.sh), another 25 unloads and loads, the module loaded
# with nf_conntrack_max=128 (checked in the router's statistics) and the
# table kept full by bursts of 200 unanswered UDP flows, so that each
# unload comes with early drops and evictions going on.

source lib.sh

RELOADS=${RELOADS:-25}
CT_MAX=128
LOAD_PARAMS="nf_conntrack_max=$CT_MAX"

source stress_reload.sh
