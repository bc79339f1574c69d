// SPDX-License-Identifier: GPL-2.0

//! The constants, struct sizes and policies against the C headers and
//! sources.
//!
//! The headers come from the kernel tree (`build/linux`, present in CI
//! after `make kernel`) or else from linux-libc-dev (`/usr/include`); a
//! test that finds neither prints a note and passes. The policies and the
//! defaults of `nfnetlink_queue.c` and `nf_conntrack_netlink.c` need the
//! kernel tree.

extern crate std;

use std::collections::HashMap;
use std::path::PathBuf;
use std::string::{String, ToString};
use std::vec::Vec;
use std::{format, println};

use super::super::attrs::{Policy, BATCH_POLICY, CONFIG_POLICY, CT_POLICY, VERDICT_POLICY};
use super::super::consts::*;
use super::super::Errno;

/// The kernel tree, if it is there.
fn kernel_tree() -> Option<PathBuf> {
    let tree = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../build/linux");
    tree.join("include/uapi/linux").is_dir().then_some(tree)
}

/// A uapi header's text, and whether it comes from the kernel tree
/// (else from linux-libc-dev, which may be older).
struct Header {
    text: String,
    tree: bool,
}

/// The uapi header `rel` (below `include/uapi/`, e.g.
/// `linux/netfilter.h`): from the kernel tree, else from `/usr/include`.
fn uapi(rel: &str) -> Option<Header> {
    if let Some(tree) = kernel_tree() {
        if let Ok(text) = std::fs::read_to_string(tree.join("include/uapi").join(rel)) {
            return Some(Header { text, tree: true });
        }
    }
    if let Ok(text) = std::fs::read_to_string(PathBuf::from("/usr/include").join(rel)) {
        return Some(Header { text, tree: false });
    }
    println!("note: {rel} not found in build/linux or /usr/include: not checked");
    None
}

/// The text of kernel source `rel` (from the tree's root), if the tree is
/// there.
fn source(rel: &str) -> Option<String> {
    let text = kernel_tree().and_then(|t| std::fs::read_to_string(t.join(rel)).ok());
    if text.is_none() {
        println!("note: build/linux/{rel} not found: not checked");
    }
    text
}

/// `text` without C comments.
fn strip_comments(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    loop {
        let block = rest.find("/*");
        let line = rest.find("//");
        match (block, line) {
            (Some(b), l) if l.is_none_or(|l| b < l) => {
                out.push_str(&rest[..b]);
                let close = rest[b..].find("*/").expect("unclosed comment");
                rest = &rest[b + close + 2..];
            }
            (_, Some(l)) => {
                out.push_str(&rest[..l]);
                rest = rest[l..].find('\n').map_or("", |n| &rest[l + n..]);
            }
            (None, None) => {
                out.push_str(rest);
                return out;
            }
            (Some(_), None) => unreachable!(),
        }
    }
}

/// A number in C: decimal, hex, `(1 << n)`, a sum or difference, or a
/// name of `known`.
fn c_value(expr: &str, known: &HashMap<String, u64>) -> Option<u64> {
    let e = expr.trim();
    if let Some(inner) = e.strip_prefix('(').and_then(|e| e.strip_suffix(')')) {
        return c_value(inner, known);
    }
    if let Some((a, b)) = e.split_once("<<") {
        return Some(c_value(a, known)? << c_value(b, known)?);
    }
    if let Some((a, b)) = e.rsplit_once('-') {
        if !a.trim().is_empty() {
            return c_value(a, known)?.checked_sub(c_value(b, known)?);
        }
    }
    if let Some((a, b)) = e.split_once('+') {
        return Some(c_value(a, known)? + c_value(b, known)?);
    }
    if let Some(hex) = e.strip_prefix("0x").or_else(|| e.strip_prefix("0X")) {
        return u64::from_str_radix(hex, 16).ok();
    }
    if let Ok(v) = e.parse() {
        return Some(v);
    }
    known.get(e).copied()
}

/// Every `#define NAME value` of `text` with a value [`c_value`] can
/// read, and every enumerator of every enum, by name.
fn c_names(text: &str) -> HashMap<String, u64> {
    let text = strip_comments(text);
    let mut known = HashMap::new();
    // Enums: `enum name { A, B = 3, C = B, ... };`, with `#` lines inside.
    let mut rest = text.as_str();
    while let Some(at) = rest.find("enum") {
        rest = &rest[at + 4..];
        let (Some(open), Some(close)) = (rest.find('{'), rest.find("};")) else {
            break;
        };
        if open > close || rest[..open].contains(';') {
            continue;
        }
        let body: String = rest[open + 1..close]
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n");
        let mut next = 0u64;
        for item in body.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (name, v) = match item.split_once('=') {
                Some((n, v)) => (n.trim(), c_value(v, &known).expect(item)),
                None => (item, next),
            };
            known.insert(name.to_string(), v);
            next = v + 1;
        }
        rest = &rest[close..];
    }
    c_defines(&text, known)
}

/// `known` and every `#define NAME value` of `text` with a value
/// [`c_value`] can read.
fn c_defines(text: &str, mut known: HashMap<String, u64>) -> HashMap<String, u64> {
    let text = strip_comments(text);
    for line in text.lines() {
        let mut words = line.split_whitespace();
        if words.next() != Some("#define") {
            continue;
        }
        let (Some(name), value) = (words.next(), words.collect::<Vec<_>>().join(" ")) else {
            continue;
        };
        if name.contains('(') {
            continue;
        }
        if let Some(v) = c_value(&value, &known) {
            known.insert(name.to_string(), v);
        }
    }
    known
}

/// Check `pairs` (C name, Rust value) against the names of `h`. A
/// header older than the kernel tree (linux-libc-dev) may lack newer
/// names and have smaller `*_MAX` values: those are noted, not failed.
fn check(h: &Header, pairs: &[(&str, u64)]) {
    let names = c_names(&h.text);
    for (name, v) in pairs {
        match names.get(*name) {
            Some(c) if c == v => {}
            Some(c) if !h.tree && name.ends_with("_MAX") && c < v => {
                println!("note: {name} is {c} in /usr/include, older than the tree");
            }
            None if !h.tree => println!("note: {name} not in /usr/include, older than the tree"),
            other => panic!("{name}: header {other:?}, ours {v}"),
        }
    }
}

#[test]
fn queue_header() {
    let Some(h) = uapi("linux/netfilter/nfnetlink_queue.h") else {
        return;
    };
    check(
        &h,
        &[
            ("NFQNL_MSG_PACKET", NFQNL_MSG_PACKET.into()),
            ("NFQNL_MSG_VERDICT", NFQNL_MSG_VERDICT.into()),
            ("NFQNL_MSG_CONFIG", NFQNL_MSG_CONFIG.into()),
            ("NFQNL_MSG_VERDICT_BATCH", NFQNL_MSG_VERDICT_BATCH.into()),
            ("NFQNL_MSG_MAX", NFQNL_MSG_MAX.into()),
            ("NFQA_PACKET_HDR", NFQA_PACKET_HDR.into()),
            ("NFQA_VERDICT_HDR", NFQA_VERDICT_HDR.into()),
            ("NFQA_MARK", NFQA_MARK.into()),
            ("NFQA_TIMESTAMP", NFQA_TIMESTAMP.into()),
            ("NFQA_IFINDEX_INDEV", NFQA_IFINDEX_INDEV.into()),
            ("NFQA_IFINDEX_OUTDEV", NFQA_IFINDEX_OUTDEV.into()),
            ("NFQA_IFINDEX_PHYSINDEV", NFQA_IFINDEX_PHYSINDEV.into()),
            ("NFQA_IFINDEX_PHYSOUTDEV", NFQA_IFINDEX_PHYSOUTDEV.into()),
            ("NFQA_HWADDR", NFQA_HWADDR.into()),
            ("NFQA_PAYLOAD", NFQA_PAYLOAD.into()),
            ("NFQA_CT", NFQA_CT.into()),
            ("NFQA_CT_INFO", NFQA_CT_INFO.into()),
            ("NFQA_CAP_LEN", NFQA_CAP_LEN.into()),
            ("NFQA_SKB_INFO", NFQA_SKB_INFO.into()),
            ("NFQA_EXP", NFQA_EXP.into()),
            ("NFQA_UID", NFQA_UID.into()),
            ("NFQA_GID", NFQA_GID.into()),
            ("NFQA_SECCTX", NFQA_SECCTX.into()),
            ("NFQA_VLAN", NFQA_VLAN.into()),
            ("NFQA_L2HDR", NFQA_L2HDR.into()),
            ("NFQA_PRIORITY", NFQA_PRIORITY.into()),
            ("NFQA_CGROUP_CLASSID", NFQA_CGROUP_CLASSID.into()),
            ("NFQA_MAX", NFQA_MAX.into()),
            ("NFQA_VLAN_PROTO", NFQA_VLAN_PROTO.into()),
            ("NFQA_VLAN_TCI", NFQA_VLAN_TCI.into()),
            ("NFQA_VLAN_MAX", NFQA_VLAN_MAX.into()),
            ("NFQNL_CFG_CMD_NONE", NFQNL_CFG_CMD_NONE.into()),
            ("NFQNL_CFG_CMD_BIND", NFQNL_CFG_CMD_BIND.into()),
            ("NFQNL_CFG_CMD_UNBIND", NFQNL_CFG_CMD_UNBIND.into()),
            ("NFQNL_CFG_CMD_PF_BIND", NFQNL_CFG_CMD_PF_BIND.into()),
            ("NFQNL_CFG_CMD_PF_UNBIND", NFQNL_CFG_CMD_PF_UNBIND.into()),
            ("NFQNL_COPY_NONE", NFQNL_COPY_NONE.into()),
            ("NFQNL_COPY_META", NFQNL_COPY_META.into()),
            ("NFQNL_COPY_PACKET", NFQNL_COPY_PACKET.into()),
            ("NFQA_CFG_CMD", NFQA_CFG_CMD.into()),
            ("NFQA_CFG_PARAMS", NFQA_CFG_PARAMS.into()),
            ("NFQA_CFG_QUEUE_MAXLEN", NFQA_CFG_QUEUE_MAXLEN.into()),
            ("NFQA_CFG_MASK", NFQA_CFG_MASK.into()),
            ("NFQA_CFG_FLAGS", NFQA_CFG_FLAGS.into()),
            ("NFQA_CFG_MAX", NFQA_CFG_MAX.into()),
            ("NFQA_CFG_F_FAIL_OPEN", NFQA_CFG_F_FAIL_OPEN.into()),
            ("NFQA_CFG_F_CONNTRACK", NFQA_CFG_F_CONNTRACK.into()),
            ("NFQA_CFG_F_GSO", NFQA_CFG_F_GSO.into()),
            ("NFQA_CFG_F_UID_GID", NFQA_CFG_F_UID_GID.into()),
            ("NFQA_CFG_F_SECCTX", NFQA_CFG_F_SECCTX.into()),
            ("NFQA_CFG_F_MAX", NFQA_CFG_F_MAX.into()),
            ("NFQA_SKB_CSUMNOTREADY", NFQA_SKB_CSUMNOTREADY.into()),
            ("NFQA_SKB_GSO", NFQA_SKB_GSO.into()),
            (
                "NFQA_SKB_CSUM_NOTVERIFIED",
                NFQA_SKB_CSUM_NOTVERIFIED.into(),
            ),
        ],
    );
    // Struct sizes: the sum of the fields, which the packed attribute or
    // natural alignment leaves without padding.
    for (name, len) in [
        ("nfqnl_msg_packet_hdr", PACKET_HDR_LEN),
        ("nfqnl_msg_packet_hw", PACKET_HW_LEN),
        ("nfqnl_msg_packet_timestamp", TIMESTAMP_LEN),
        ("nfqnl_msg_verdict_hdr", VERDICT_HDR_LEN),
        ("nfqnl_msg_config_cmd", CONFIG_CMD_LEN),
        ("nfqnl_msg_config_params", CONFIG_PARAMS_LEN),
    ] {
        assert_eq!(struct_size(&h.text, name), len, "{name}");
    }
}

/// The size of `struct name` in `text`: the sum of its fields' sizes,
/// checked to need no padding (or to be packed).
fn struct_size(text: &str, name: &str) -> usize {
    let text = strip_comments(text);
    let start = text.find(&format!("struct {name} {{")).expect(name);
    let body = &text[start..];
    let open = body.find('{').expect(name);
    let close = body.find('}').expect(name);
    let end = body[close..].find(';').expect(name);
    let packed = body[close..close + end].contains("packed");
    let fields = &body[open + 1..close];
    let (mut size, mut align) = (0, 1);
    for field in fields.split(';').map(str::trim).filter(|f| !f.is_empty()) {
        let mut words = field.split_whitespace();
        let ty = words.next().unwrap();
        let decl = words.next().unwrap();
        let one = match ty {
            "__u8" => 1,
            "__u16" | "__be16" => 2,
            "__u32" | "__be32" => 4,
            "__aligned_be64" | "__be64" | "__u64" => 8,
            _ => panic!("{name}: type {ty}"),
        };
        let count = decl
            .split_once('[')
            .map_or(1, |(_, n)| n.trim_end_matches(']').parse().unwrap());
        if !packed {
            assert_eq!(size % one, 0, "{name}: padding before {decl}");
        }
        align = align.max(one);
        size += one * count;
    }
    if !packed {
        assert_eq!(size % align, 0, "{name}: trailing padding");
    }
    size
}

#[test]
fn netfilter_header() {
    let Some(h) = uapi("linux/netfilter.h") else {
        return;
    };
    check(
        &h,
        &[
            ("NF_DROP", NF_DROP.into()),
            ("NF_ACCEPT", NF_ACCEPT.into()),
            ("NF_STOLEN", NF_STOLEN.into()),
            ("NF_QUEUE", NF_QUEUE.into()),
            ("NF_REPEAT", NF_REPEAT.into()),
            ("NF_STOP", NF_STOP.into()),
            ("NF_MAX_VERDICT", NF_MAX_VERDICT.into()),
            ("NF_VERDICT_MASK", NF_VERDICT_MASK.into()),
            (
                "NF_VERDICT_FLAG_QUEUE_BYPASS",
                NF_VERDICT_FLAG_QUEUE_BYPASS.into(),
            ),
            ("NF_VERDICT_QMASK", NF_VERDICT_QMASK.into()),
            ("NF_VERDICT_QBITS", NF_VERDICT_QBITS.into()),
            ("NF_INET_PRE_ROUTING", NF_INET_PRE_ROUTING.into()),
            ("NF_INET_LOCAL_IN", NF_INET_LOCAL_IN.into()),
            ("NF_INET_FORWARD", NF_INET_FORWARD.into()),
            ("NF_INET_LOCAL_OUT", NF_INET_LOCAL_OUT.into()),
            ("NF_INET_POST_ROUTING", NF_INET_POST_ROUTING.into()),
            ("NFPROTO_UNSPEC", NFPROTO_UNSPEC.into()),
            ("NFPROTO_IPV4", NFPROTO_IPV4.into()),
            ("NFPROTO_IPV6", NFPROTO_IPV6.into()),
        ],
    );
    // NF_QUEUE_NR(x) = ((x << 16) & NF_VERDICT_QMASK) | NF_QUEUE.
    assert!(h
        .text
        .contains("#define NF_QUEUE_NR(x) ((((x) << 16) & NF_VERDICT_QMASK) | NF_QUEUE)"));
    for n in [0u16, 1, 7, 0x1234, 0xffff] {
        assert_eq!(
            nf_queue_nr(n),
            ((u32::from(n) << 16) & NF_VERDICT_QMASK) | NF_QUEUE
        );
    }
}

#[test]
fn nfnetlink_and_netlink_headers() {
    if let Some(h) = uapi("linux/netfilter/nfnetlink.h") {
        check(
            &h,
            &[
                ("NFNL_SUBSYS_QUEUE", NFNL_SUBSYS_QUEUE.into()),
                ("NFNETLINK_V0", NFNETLINK_V0.into()),
            ],
        );
        // struct nfgenmsg: u8, u8, be16.
        assert_eq!(struct_size(&h.text, "nfgenmsg"), NFGENMSG_LEN);
    }
    if let Some(h) = uapi("linux/netlink.h") {
        check(
            &h,
            &[
                ("NLM_F_REQUEST", NLM_F_REQUEST.into()),
                ("NLM_F_ACK", NLM_F_ACK.into()),
                ("NLMSG_ERROR", NLMSG_ERROR.into()),
                ("NLMSG_DONE", NLMSG_DONE.into()),
                ("NLMSG_MIN_TYPE", NLMSG_MIN_TYPE.into()),
            ],
        );
    }
    if let Some(h) = uapi("linux/if_ether.h") {
        check(
            &h,
            &[
                ("ETH_P_IP", ETH_P_IP.into()),
                ("ETH_P_IPV6", ETH_P_IPV6.into()),
            ],
        );
    }
    if let Some(h) = uapi("linux/netfilter/nfnetlink_conntrack.h") {
        check(
            &h,
            &[
                ("CTA_MARK", CTA_MARK.into()),
                ("CTA_MARK_MASK", CTA_MARK_MASK.into()),
                ("CTA_MAX", CTA_MAX.into()),
            ],
        );
    }
}

#[test]
fn errno_values() {
    let Some(base) = uapi("asm-generic/errno-base.h") else {
        return;
    };
    let Some(more) = uapi("asm-generic/errno.h") else {
        return;
    };
    let names = c_names(&std::format!("{}\n{}", base.text, more.text));
    for e in [
        Errno::Perm,
        Errno::NoEnt,
        Errno::Again,
        Errno::NoMem,
        Errno::Busy,
        Errno::NoDev,
        Errno::Inval,
        Errno::Range,
        Errno::OpNotSupp,
    ] {
        assert_eq!(names.get(e.name()), Some(&(e.value() as u64)), "{e}");
        assert_eq!(e.to_errno(), -e.value());
    }
    // ENOTSUPP is the kernel's own (include/linux/errno.h).
    if let Some(k) = source("include/linux/errno.h") {
        assert_eq!(
            c_names(&k).get("ENOTSUPP"),
            Some(&(Errno::NotSupp.value() as u64))
        );
    }
}

/// The policy entries `[NAME] = { ... }` of array `array` in `text`, as
/// [`Policy`] values by attribute number.
fn c_policy(text: &str, array: &str, names: &HashMap<String, u64>) -> HashMap<u64, Policy> {
    let text = strip_comments(text);
    let start = text.find(&format!("{array}[")).expect(array);
    let body = &text[start..];
    let body = &body[body.find("= {").unwrap() + 3..body.find("};").unwrap()];
    let mut out = HashMap::new();
    for entry in body
        .split("},")
        .map(str::trim)
        .filter(|e| e.starts_with('['))
    {
        let name = &entry[1..entry.find(']').unwrap()];
        let kind = *names.get(name).expect(name);
        let spec = &entry[entry.find('{').unwrap() + 1..];
        let field = |f: &str| {
            spec.split(',')
                .map(str::trim)
                .find_map(|p| {
                    p.strip_prefix(f)
                        .map(|v| v.trim_start_matches([' ', '=']).trim())
                })
                .map(|v| v.trim_end_matches('}').trim().to_string())
        };
        let len = field(".len").map(|l| match l.strip_prefix("sizeof(struct ") {
            Some(s) => format!("struct:{}", s.trim_end_matches(')')),
            None => l,
        });
        let policy = match (field(".type").as_deref(), len) {
            (Some("NLA_U32"), None) => Policy::U32,
            (Some("NLA_U16"), None) => Policy::U16,
            (Some("NLA_NESTED"), None) => Policy::Nested,
            (Some("NLA_UNSPEC") | None, None) => Policy::Any,
            (None, Some(l)) => Policy::MinLen(struct_len(&l)),
            (Some("NLA_BINARY"), Some(l)) => {
                // .len = NF_CT_LABELS_MAX_SIZE: (127 + 1) / 8 bytes.
                assert_eq!(l, "NF_CT_LABELS_MAX_SIZE");
                Policy::MaxLen(16)
            }
            other => panic!("{array}[{name}]: {other:?}"),
        };
        out.insert(kind, policy);
    }
    out
}

/// The size in a policy's `.len`: `struct:NAME` is a queue struct.
fn struct_len(len: &str) -> u16 {
    match len {
        "struct:nfqnl_msg_verdict_hdr" => VERDICT_HDR_LEN as u16,
        "struct:nfqnl_msg_config_cmd" => CONFIG_CMD_LEN as u16,
        "struct:nfqnl_msg_config_params" => CONFIG_PARAMS_LEN as u16,
        other => panic!("len {other}"),
    }
}

/// `ours` has exactly the entries of `theirs`, [`Policy::Any`] elsewhere.
fn same_policy(ours: &[Policy], theirs: &HashMap<u64, Policy>, what: &str) {
    for (t, p) in ours.iter().enumerate() {
        let c = theirs.get(&(t as u64)).copied().unwrap_or(Policy::Any);
        assert_eq!(*p, c, "{what}[{t}]");
    }
    assert!(theirs.keys().all(|&t| (t as usize) < ours.len()), "{what}");
}

#[test]
fn policies_match_the_c_sources() {
    let (Some(q), Some(h)) = (
        source("net/netfilter/nfnetlink_queue.c"),
        uapi("linux/netfilter/nfnetlink_queue.h"),
    ) else {
        return;
    };
    let names = c_names(&h.text);
    same_policy(
        &CONFIG_POLICY,
        &c_policy(&q, "nfqa_cfg_policy", &names),
        "config",
    );
    same_policy(
        &VERDICT_POLICY,
        &c_policy(&q, "nfqa_verdict_policy", &names),
        "verdict",
    );
    same_policy(
        &BATCH_POLICY,
        &c_policy(&q, "nfqa_verdict_batch_policy", &names),
        "batch",
    );
    // The defaults.
    let defs = c_defines(&q, HashMap::from([("NLA_HDRLEN".to_string(), 4)]));
    assert_eq!(
        defs.get("NFQNL_QMAX_DEFAULT"),
        Some(&NFQNL_QMAX_DEFAULT.into())
    );
    assert_eq!(
        defs.get("NFQNL_MAX_COPY_RANGE"),
        Some(&NFQNL_MAX_COPY_RANGE.into())
    );

    let (Some(ct), Some(cth)) = (
        source("net/netfilter/nf_conntrack_netlink.c"),
        uapi("linux/netfilter/nfnetlink_conntrack.h"),
    ) else {
        return;
    };
    same_policy(
        &CT_POLICY,
        &c_policy(&ct, "ct_nla_policy", &c_names(&cth.text)),
        "ct",
    );
}

#[test]
fn helpers() {
    assert_eq!(msg_type(NFQNL_MSG_CONFIG), 0x0302);
    assert_eq!(NFNL_ATTRS_OFFSET, 20);
    assert_eq!(Errno::Inval.to_string(), "EINVAL");
}
