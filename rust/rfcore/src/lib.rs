// SPDX-License-Identifier: GPL-2.0

//! rustfilter's pure core.
//!
//! Everything here is plain `core` Rust with no kernel types, so the same
//! files are compiled into the kernel module (included with `#[path]`) and
//! tested on the host with `cargo test`. Each file must stand alone: it may
//! use `core` and its sibling files through `super::`, nothing else.

#![no_std]

pub mod conntrack;
pub mod nat;
pub mod nfqueue;
pub mod nla;
pub mod packet;
pub mod proto;
pub mod rules;

// The name under which the kernel module includes `conntrack`: files that
// use it say `super::ct`.
use conntrack as ct;
