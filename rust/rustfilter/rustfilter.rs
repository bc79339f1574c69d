// SPDX-License-Identifier: GPL-2.0

//! rustfilter: netfilter's IPv4 packet filtering framework, in Rust.
//!
//! The module keeps state in every network namespace ([`hooks::NetState`]),
//! sees every IPv4 packet at the five netfilter hooks of its namespace and
//! answers the "rustfilter" generic netlink family ([`netlink::Control`]).
//!
//! This crate holds no `unsafe`: the kernel crate's abstractions in
//! `kernel::net` do. Pure logic lives in `rust/rfcore`, compiled here with
//! `#[path]` and tested on the host.

use kernel::net::{genetlink, namespace};
use kernel::prelude::*;
use kernel::sync::Arc;

// The pure core. Its items are `pub` for the host crate; here they are
// private modules, and not every parser is used by the module yet.
#[allow(dead_code, unreachable_pub, unused_imports)]
#[path = "../rfcore/src/conntrack/mod.rs"]
mod ct;
#[allow(dead_code, unreachable_pub, unused_imports)]
#[path = "../rfcore/src/nat/mod.rs"]
mod nat;
#[allow(dead_code, unreachable_pub, unused_imports)]
#[path = "../rfcore/src/nfqueue/mod.rs"]
mod nfqueue;
#[allow(dead_code, unreachable_pub)]
#[path = "../rfcore/src/nla.rs"]
mod nla;
#[allow(dead_code, unreachable_pub)]
#[path = "../rfcore/src/packet.rs"]
mod packet;
#[allow(dead_code, unreachable_pub)]
#[path = "../rfcore/src/proto.rs"]
mod proto;
#[allow(dead_code, unreachable_pub, unused_imports)]
#[path = "../rfcore/src/rules/mod.rs"]
mod rules;

mod conntrack;
mod counters;
mod ct_netlink;
mod hooks;
mod napt;
mod netlink;
mod queue;
mod tables;

module! {
    type: RustFilter,
    name: "rustfilter",
    author: "The rustfilter authors",
    description: "IPv4 packet filtering framework written in Rust",
    license: "GPL",
}

kernel::module_param_uint!(
    CT_MAX,
    "nf_conntrack_max",
    65536,
    "most connections per network namespace (default 65536; 0: the default)"
);

kernel::module_param_uint!(
    HOOK_STATS,
    "hook_stats",
    0,
    "count packets, bytes and malformed IPv4 headers at each hook for rfctl stats (0: off, the default; 1: on)"
);

struct RustFilter {
    /// The queue handler: gone first, its queued packets dropped, while
    /// the hooks and connections they refer to still exist.
    _queue: queue::Queue,
    /// Ends the transactions of closed sockets.
    _txn_watch: Pin<KBox<kernel::net::netlink::ReleaseNotifier<netlink::TxnWatch>>>,
    /// The netlink family; with `_txn_watch` it owns the per-namespace
    /// state, so dropping both unregisters the family, then the hooks and
    /// the state of every namespace.
    _control: Pin<KBox<genetlink::Registration<netlink::Control>>>,
    /// The connection tracker: removed last, once no namespace state and
    /// no packet holds a connection.
    _tracker: Arc<conntrack::Tracker>,
}

impl kernel::Module for RustFilter {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let hook_stats = match HOOK_STATS.get() {
            0 => false,
            1 => true,
            n => {
                pr_err!("hook_stats={} is neither 0 nor 1\n", n);
                return Err(EINVAL);
            }
        };
        let tracker = conntrack::Tracker::register()?;
        let events = genetlink::Multicaster::new()?;
        let ct_max = match CT_MAX.get() {
            0 => conntrack::DEFAULT_MAX,
            n => n as usize,
        };
        let shared = hooks::Shared {
            tracker: tracker.clone(),
            events: events.clone(),
            ct_max,
            hook_stats,
        };
        let pernet = Arc::new(
            netlink::Pernet(namespace::Registration::<hooks::NetState>::new(shared)?),
            GFP_KERNEL,
        )?;
        let txn_watch = kernel::net::netlink::ReleaseNotifier::new(
            kernel::net::netlink::protocol::GENERIC,
            netlink::TxnWatch {
                pernet: pernet.clone(),
            },
        )?;
        let control =
            genetlink::Registration::new(netlink::Control { pernet }, module, Some(events))?;
        let queue = queue::Queue::register(module, tracker.clone())?;
        pr_info!(
            "loaded: hooks at PREROUTING, INPUT, FORWARD, OUTPUT, POSTROUTING as tables need them; per-hook statistics {}; queue handler\n",
            if hook_stats { "on" } else { "off" }
        );
        Ok(Self {
            _queue: queue,
            _txn_watch: txn_watch,
            _control: control,
            _tracker: tracker,
        })
    }
}

impl Drop for RustFilter {
    fn drop(&mut self) {
        pr_info!("unloading\n");
    }
}
