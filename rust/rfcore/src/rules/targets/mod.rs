// SPDX-License-Identifier: GPL-2.0

//! Targets. The standard ones (ACCEPT, DROP, RETURN, QUEUE, jump, goto) are
//! control flow that the walker handles itself, as `XT_STANDARD_TARGET` in
//! `ip_tables.c`; the others are one file each implementing [`TargetOps`],
//! registered in the one list below.
//!
//! A target is sent as a `RULE_TARGET` nest holding `TARGET_KIND` (a
//! `proto::TG_*` value) and `TARGET_OPTS`, a nest of the kind's own
//! attributes; jump and goto carry `JUMP_CHAIN`, the chain's name.

use super::error::Reason;
use super::eval::{self, Context, PacketInfo, Verdict};
use super::matches::{hooks, CheckCtx};
use super::nat::NatRange;
use super::nla::{Attrs, NlaError, Writer};
use super::table::TableKind;
use super::{name, nfqueue, nla, packet, proto};

pub mod connmark;
pub mod ct;
pub mod dscp;
pub mod log;
pub mod mark;
pub mod nat;
pub mod queue;
pub mod reject;
pub mod tos;

/// A target kind other than the standard ones.
pub trait TargetOps: Sized + Copy {
    /// Its `proto::TG_*` number.
    const KIND: u32;
    /// Its iptables name (`-j NAME`).
    const NAME: &'static str;

    /// Decode from the attributes of `TARGET_OPTS`.
    ///
    /// # Errors
    ///
    /// An unknown option or a bad value.
    fn decode(opts: Attrs<'_>) -> Result<Self, Reason>;

    /// Write the attributes of `TARGET_OPTS`.
    ///
    /// # Errors
    ///
    /// [`NlaError::NoSpace`] if the writer is full.
    fn encode(&self, w: &mut Writer<'_>) -> Result<(), NlaError>;

    /// Check against the rest of the ruleset.
    ///
    /// # Errors
    ///
    /// Why the target cannot be used here.
    fn check(&self, _cx: &CheckCtx) -> Result<(), Reason> {
        Ok(())
    }

    /// Act on the packet: `Some` verdict to stop, `None` to continue with
    /// the next rule (`XT_CONTINUE`). Changes to the mark or TOS are made
    /// in `pkt` too, so later rules see them.
    fn run<C: Context>(&self, pkt: &mut PacketInfo, ctx: &mut C) -> Option<Verdict>;
}

/// The registry: one line per target kind beyond the standard ones.
macro_rules! registry {
    ($($variant:ident($ty:ty),)*) => {
        /// A rule's target.
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        pub enum Target {
            /// No target: count and continue.
            #[default]
            None,
            /// ACCEPT.
            Accept,
            /// DROP.
            Drop,
            /// RETURN.
            Return,
            /// QUEUE: netlink queue 0, no bypass (`NF_QUEUE`).
            Queue,
            /// `-j chain`: the index of the chain.
            Jump(u16),
            /// `-g chain`: the index of the chain.
            Goto(u16),
            $(
                #[doc = concat!("`-j ", stringify!($variant), "`.")]
                $variant($ty),
            )*
        }

        impl Target {
            /// Decode an extension target of kind `kind`.
            fn decode_ext(kind: u32, opts: Attrs<'_>) -> Result<Target, Reason> {
                $(
                    if kind == <$ty as TargetOps>::KIND {
                        return <$ty as TargetOps>::decode(opts).map(Target::$variant);
                    }
                )*
                Err(Reason::UnknownTarget)
            }

            /// Its `proto::TG_*` number (0 for none).
            pub fn kind(&self) -> u32 {
                match self {
                    Target::None => 0,
                    Target::Accept => proto::TG_ACCEPT,
                    Target::Drop => proto::TG_DROP,
                    Target::Return => proto::TG_RETURN,
                    Target::Queue => proto::TG_QUEUE,
                    Target::Jump(_) => proto::TG_JUMP,
                    Target::Goto(_) => proto::TG_GOTO,
                    $(Target::$variant(_) => <$ty as TargetOps>::KIND,)*
                }
            }

            /// Its iptables name; empty for none, jump and goto (whose
            /// name is the chain's).
            pub fn name(&self) -> &'static str {
                match self {
                    Target::None | Target::Jump(_) | Target::Goto(_) => "",
                    Target::Accept => "ACCEPT",
                    Target::Drop => "DROP",
                    Target::Return => "RETURN",
                    Target::Queue => "QUEUE",
                    $(Target::$variant(_) => <$ty as TargetOps>::NAME,)*
                }
            }

            fn encode_ext(&self, w: &mut Writer<'_>) -> Result<(), NlaError> {
                match self {
                    $(Target::$variant(t) => t.encode(w),)*
                    _ => Ok(()),
                }
            }

            /// Check against the rest of the ruleset.
            ///
            /// # Errors
            ///
            /// Why it cannot be used here.
            pub fn check(&self, cx: &CheckCtx) -> Result<(), Reason> {
                match self {
                    Target::Queue => queue::check_not_nat(cx),
                    $(Target::$variant(t) => t.check(cx),)*
                    _ => Ok(()),
                }
            }

            /// Run an extension target; `None` for the standard ones.
            pub fn run_ext<C: Context>(
                &self,
                pkt: &mut PacketInfo,
                ctx: &mut C,
            ) -> Option<Verdict> {
                match self {
                    $(Target::$variant(t) => t.run(pkt, ctx),)*
                    _ => None,
                }
            }
        }
    };
}

registry! {
    Reject(reject::Reject),
    Log(log::Log),
    Mark(mark::SetMark),
    Tos(tos::SetTos),
    Dscp(dscp::SetDscp),
    Ct(ct::Ct),
    ConnMark(connmark::SetConnMark),
    Snat(nat::Snat),
    Dnat(nat::Dnat),
    Masquerade(nat::Masquerade),
    Redirect(nat::Redirect),
    NfQueue(queue::NfQueue),
}

impl Target {
    /// Decode the contents of a `RULE_TARGET` nest. A jump or goto comes
    /// back with chain index 0 and the chain's name, for the caller to
    /// resolve.
    ///
    /// # Errors
    ///
    /// A missing or unknown kind, an unknown attribute, or the options'
    /// problem.
    pub fn decode_nest(attrs: Attrs<'_>) -> Result<(Target, Option<&str>), Reason> {
        let mut kind = None;
        let mut opts = Attrs::empty();
        for a in attrs {
            let a = a?;
            match a.kind() {
                proto::TARGET_KIND => kind = Some(a.get_u32()?),
                proto::TARGET_OPTS => opts = a.nested(),
                _ => return Err(Reason::UnknownAttribute),
            }
        }
        let kind = kind.ok_or(Reason::MissingKind)?;
        let simple = |t: Target| -> Result<(Target, Option<&str>), Reason> {
            match opts.clone().next() {
                None => Ok((t, None)),
                Some(a) => {
                    a?;
                    Err(Reason::UnknownOption)
                }
            }
        };
        match kind {
            proto::TG_ACCEPT => simple(Target::Accept),
            proto::TG_DROP => simple(Target::Drop),
            proto::TG_RETURN => simple(Target::Return),
            proto::TG_QUEUE => simple(Target::Queue),
            proto::TG_JUMP | proto::TG_GOTO => {
                let mut chain = None;
                for a in opts {
                    let a = a?;
                    match a.kind() {
                        proto::JUMP_CHAIN => chain = Some(a.get_str()?),
                        _ => return Err(Reason::UnknownOption),
                    }
                }
                let chain = chain.ok_or(Reason::MissingJumpChain)?;
                let t = if kind == proto::TG_JUMP {
                    Target::Jump(0)
                } else {
                    Target::Goto(0)
                };
                Ok((t, Some(chain)))
            }
            _ => Target::decode_ext(kind, opts).map(|t| (t, None)),
        }
    }

    /// Write the contents of a `RULE_TARGET` nest; `jump` is the chain
    /// name of a jump or goto. [`Target::None`] writes nothing: a rule
    /// without a target has no `RULE_TARGET`.
    ///
    /// # Errors
    ///
    /// [`NlaError::NoSpace`] if the writer is full.
    pub fn encode(&self, w: &mut Writer<'_>, jump: &str) -> Result<(), NlaError> {
        if *self == Target::None {
            return Ok(());
        }
        w.put_u32(proto::TARGET_KIND, self.kind())?;
        match self {
            Target::Accept | Target::Drop | Target::Return | Target::Queue => Ok(()),
            Target::Jump(_) | Target::Goto(_) => {
                let n = w.begin_nest(proto::TARGET_OPTS)?;
                w.put_str(proto::JUMP_CHAIN, jump)?;
                w.end_nest(n)
            }
            _ => {
                let n = w.begin_nest(proto::TARGET_OPTS)?;
                self.encode_ext(w)?;
                w.end_nest(n)
            }
        }
    }

    /// The chain a jump or goto leads to.
    pub fn chain(&self) -> Option<u16> {
        match *self {
            Target::Jump(c) | Target::Goto(c) => Some(c),
            _ => None,
        }
    }
}

/// The attributes of an options nest, as in the matches.
fn each<'a>(
    opts: Attrs<'a>,
    mut f: impl FnMut(&nla::Attr<'a>) -> Result<bool, Reason>,
) -> Result<(), Reason> {
    for a in opts {
        let a = a?;
        if !f(&a)? {
            return Err(Reason::UnknownOption);
        }
    }
    Ok(())
}
