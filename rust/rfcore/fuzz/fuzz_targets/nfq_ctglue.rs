// SPDX-License-Identifier: GPL-2.0

//! Fuzz `rfcore::nfqueue::ctglue::decode_ct`, the client side's reading of
//! `NFQA_CT`, on arbitrary nests: nothing may panic. Inputs that describe
//! a whole connection are written again with `encode_ct` and must read
//! back the same.
//!
//! Run with `cargo +nightly fuzz run nfq_ctglue` in `rust/rfcore/fuzz`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rfcore::conntrack::tuple::Tuple;
use rfcore::nfqueue::ctglue::{decode_ct, encode_ct, CtGlue, CT_GLUE_MAX};

fuzz_target!(|input: &[u8]| {
    let view = decode_ct(input);
    let (Some(orig), Some(status)) = (view.orig, view.status) else {
        return;
    };
    let reply = Tuple {
        saddr: orig.daddr,
        daddr: orig.saddr,
        ..orig
    };
    let glue = CtGlue {
        orig,
        reply,
        id: 1,
        status,
        timeout: 30,
        mark: view.mark,
        tcp_state: view.tcp_state,
        helper: None,
    };
    let mut buf = [0u8; CT_GLUE_MAX];
    let n = encode_ct(&mut buf, &glue).expect("a connection fits");
    let again = decode_ct(&buf[..n]);
    assert_eq!(again.orig, Some(orig));
    assert_eq!(again.status, Some(status));
    assert_eq!(again.mark, view.mark);
    assert_eq!(again.tcp_state, view.tcp_state);
});
