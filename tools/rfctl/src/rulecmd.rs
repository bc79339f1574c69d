// SPDX-License-Identifier: GPL-2.0

//! Running one iptables command line against the kernel: reads use
//! `TABLE_GET` (with `A_ZERO` for an atomic list-and-zero), changes are
//! read-modify-commit ([`txn::edit`]).

use crate::error::Error;
use crate::ops;
use crate::parse::{CmdLine, Command};
use crate::txn::{self, Kernel};

/// Carry out `c` (not [`Command::Help`]) and return what to print.
pub fn run<K: Kernel>(k: &mut K, c: &CmdLine) -> Result<String, Error> {
    match &c.cmd {
        Command::List {
            chain: None,
            num: None,
            zero: true,
        } => {
            // One snapshot, zeroed at the same instant: no packet is
            // counted in neither or both listings.
            let mut t = txn::read(k, c.table, true)?;
            let mut list = c.clone();
            list.cmd = Command::List {
                chain: None,
                num: None,
                zero: false,
            };
            Ok(ops::apply(&mut t, &list)?.output)
        }
        Command::Zero(None, None) => {
            txn::read(k, c.table, true)?;
            Ok(String::new())
        }
        cmd if cmd.read_only() => {
            let mut t = txn::read(k, c.table, false)?;
            Ok(ops::apply(&mut t, c)?.output)
        }
        _ => txn::edit(k, c.table, false, |t| ops::apply(t, c)),
    }
}
