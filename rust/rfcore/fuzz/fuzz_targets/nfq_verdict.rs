// SPDX-License-Identifier: GPL-2.0

//! Fuzz the queue's verdicts: `rfcore::nfqueue::verdict::parse_verdict`
//! and `parse_batch` on arbitrary messages, and the reinjection
//! decisions on what they accept. Nothing may panic; an accepted verdict
//! is one userspace may give; a decoded request must survive
//! `encode_verdict`/`encode_batch` and decoding again.
//!
//! Run with `cargo +nightly fuzz run nfq_verdict` in `rust/rfcore/fuzz`.
//!
//! Input: byte 0 bit 0 says the rest is a bare attribute run (byte 0 bit
//! 1 then picks batch over single), else a whole netlink message whose
//! type picks.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rfcore::nfqueue::consts::{
    NFQNL_MSG_VERDICT, NFQNL_MSG_VERDICT_BATCH, NF_ACCEPT, NF_REPEAT, NF_STOLEN, NF_VERDICT_MASK,
};
use rfcore::nfqueue::msg::parse_request;
use rfcore::nfqueue::verdict::{
    after_hook, check_verdict, encode_batch, encode_verdict, finish, parse_batch, parse_verdict,
    reinject, Reinject, Step,
};
use rfcore::nfqueue::Errno;

/// The decisions on `v` hold together.
fn check_plan(v: u32) {
    assert!(check_verdict(v).is_ok());
    assert_ne!(v & NF_VERDICT_MASK, NF_STOLEN);
    match reinject(v) {
        Reinject::Repeat => assert_eq!(v, NF_REPEAT),
        Reinject::Then(Step::Continue) => assert_eq!(v, NF_ACCEPT),
        Reinject::Then(s) => {
            assert_ne!(s, Step::Stolen);
            assert_eq!(s, finish(v));
            assert_eq!(s, after_hook(v));
        }
    }
}

fuzz_target!(|input: &[u8]| {
    let Some((&control, data)) = input.split_first() else {
        return;
    };
    let (msg, attrs, queue) = if control & 1 != 0 {
        let msg = if control & 2 != 0 {
            NFQNL_MSG_VERDICT_BATCH
        } else {
            NFQNL_MSG_VERDICT
        };
        (msg, data, 0)
    } else {
        match parse_request(data) {
            Ok(Some(r)) => (r.msg, r.attrs, r.nfgen.res_id),
            _ => return,
        }
    };
    let mut buf = vec![0u8; 70_000];
    match msg {
        NFQNL_MSG_VERDICT => match parse_verdict(attrs) {
            Ok(req) => {
                check_plan(req.verdict);
                if let Some(p) = req.payload {
                    assert!(p.len() <= 65531);
                }
                let n = encode_verdict(&mut buf, 3, queue, &req).expect("a verdict fits");
                let r = parse_request(&buf[..n]).unwrap().unwrap();
                assert_eq!(r.nfgen.res_id, queue);
                assert_eq!(parse_verdict(r.attrs), Ok(req));
            }
            Err(e) => assert!(matches!(e, Errno::Inval | Errno::Range)),
        },
        NFQNL_MSG_VERDICT_BATCH => match parse_batch(attrs) {
            Ok(req) => {
                check_plan(req.verdict);
                let n = encode_batch(&mut buf, 3, queue, &req).expect("a batch fits");
                let r = parse_request(&buf[..n]).unwrap().unwrap();
                assert_eq!(parse_batch(r.attrs), Ok(req));
            }
            Err(e) => assert!(matches!(e, Errno::Inval | Errno::Range)),
        },
        _ => {}
    }
});
