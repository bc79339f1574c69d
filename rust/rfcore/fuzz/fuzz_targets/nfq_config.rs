// SPDX-License-Identifier: GPL-2.0

//! Fuzz the queue's `NFQNL_MSG_CONFIG` handling:
//! `rfcore::nfqueue::msg::parse_request`, `config::parse_config` and
//! `config::apply` on arbitrary messages and queue states. Nothing may
//! panic; what `apply` decides must be consistent with the state and the
//! request (the errno order is checked by the host tests); and a decoded
//! request must survive `encode_config` and decoding again.
//!
//! Run with `cargo +nightly fuzz run nfq_config` in `rust/rfcore/fuzz`.
//!
//! Input:
//!
//! ```text
//! 0      control: bit 0 a queue is bound, bit 1 by another socket,
//!        bit 2 conntrack supported, bit 3 secctx supported, bit 4 the
//!        rest is a bare attribute run (else a whole netlink message)
//! 1      the bound queue's copy mode (any value: set_mode checks it)
//! 2..6   its flags
//! 6..    the message
//! ```

#![no_main]

use libfuzzer_sys::fuzz_target;
use rfcore::nfqueue::config::{
    apply, encode_config, parse_config, Action, ConfigRequest, CopyMode, QueueConfig, Support,
};
use rfcore::nfqueue::consts::{
    NFQA_CFG_F_MAX, NFQNL_CFG_CMD_BIND, NFQNL_CFG_CMD_PF_BIND, NFQNL_CFG_CMD_PF_UNBIND,
    NFQNL_CFG_CMD_UNBIND, NFQNL_MAX_COPY_RANGE, NFQNL_MSG_CONFIG,
};
use rfcore::nfqueue::msg::parse_request;
use rfcore::nfqueue::Errno;

/// The listener sending the requests.
const ME: u32 = 1000;

/// The copy mode and range of `c`, made from `before` by `req`, are
/// what `nfqnl_set_mode` gives.
fn check_mode(req: &ConfigRequest, c: &QueueConfig, before: &QueueConfig) {
    assert!(c.copy_range <= NFQNL_MAX_COPY_RANGE);
    let Some(params) = req.params else {
        assert_eq!(
            (c.copy_mode, c.copy_range),
            (before.copy_mode, before.copy_range)
        );
        return;
    };
    match CopyMode::from_u8(params.copy_mode) {
        Some(CopyMode::Packet) => {
            assert_eq!(c.copy_mode, CopyMode::Packet);
            assert!(c.copy_range != 0);
            assert!(c.copy_range == params.copy_range || c.copy_range == NFQNL_MAX_COPY_RANGE);
        }
        Some(mode) => assert_eq!((c.copy_mode, c.copy_range), (mode, 0)),
        None => assert_eq!(
            (c.copy_mode, c.copy_range),
            (before.copy_mode, before.copy_range)
        ),
    }
}

fuzz_target!(|input: &[u8]| {
    let Some((head, data)) = input.split_first_chunk::<6>() else {
        return;
    };
    let control = head[0];
    let attrs = if control & 16 != 0 {
        data
    } else {
        match parse_request(data) {
            Ok(Some(r)) if r.msg == NFQNL_MSG_CONFIG => r.attrs,
            _ => return,
        }
    };
    let existing = (control & 1 != 0).then(|| {
        let mut q = QueueConfig::new(if control & 2 != 0 { ME + 1 } else { ME });
        let _ = q.set_mode(head[1], u32::from(head[1]) << 8);
        q.flags = u32::from_be_bytes([head[2], head[3], head[4], head[5]]);
        q
    });
    let support = Support {
        conntrack: control & 4 != 0,
        secctx: control & 8 != 0,
    };
    let req = match parse_config(attrs) {
        Ok(req) => req,
        Err(e) => {
            assert_eq!(e, Errno::Range);
            return;
        }
    };

    let pf_cmd = req
        .cmd
        .is_some_and(|c| matches!(c.command, NFQNL_CFG_CMD_PF_BIND | NFQNL_CFG_CMD_PF_UNBIND));
    match apply(existing.as_ref(), ME, &req, support) {
        Ok(Action::Nothing) => assert!(pf_cmd),
        Ok(Action::Create(c)) => {
            assert!(existing.is_none());
            assert_eq!(req.cmd.map(|c| c.command), Some(NFQNL_CFG_CMD_BIND));
            assert_eq!(c.portid, ME);
            assert!(c.flags < NFQA_CFG_F_MAX);
            check_mode(&req, &c, &QueueConfig::new(ME));
        }
        Ok(Action::Update(c)) => {
            let q = existing.expect("update without a queue");
            assert_eq!(q.portid, ME);
            assert_eq!(c.portid, ME);
            assert!(req.cmd.is_none());
            if req.maxlen.is_none() {
                assert_eq!(c.maxlen, q.maxlen);
            }
            check_mode(&req, &c, &q);
            // Flags outside the mask are kept.
            let mask = req.mask.unwrap_or(0);
            if req.flags.is_some() {
                assert_eq!(c.flags & !mask, q.flags & !mask);
            } else {
                assert_eq!(c.flags, q.flags);
            }
        }
        Ok(Action::Destroy) => {
            assert_eq!(existing.map(|q| q.portid), Some(ME));
            assert_eq!(req.cmd.map(|c| c.command), Some(NFQNL_CFG_CMD_UNBIND));
        }
        Err(e) => {
            assert!(!pf_cmd);
            assert!(matches!(
                e,
                Errno::Inval | Errno::OpNotSupp | Errno::Perm | Errno::Busy | Errno::NoDev
            ));
            if e == Errno::Perm {
                assert!(existing.is_some_and(|q| q.portid != ME));
            }
        }
    }

    // Encode and decode again: the same request.
    let mut buf = [0u8; 128];
    let n = encode_config(&mut buf, 1, 2, 0, &req, true).expect("a config request fits");
    let r = parse_request(&buf[..n]).unwrap().unwrap();
    assert_eq!(parse_config(r.attrs), Ok(req));
});
