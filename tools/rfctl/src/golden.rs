// SPDX-License-Identifier: GPL-2.0

//! Output compared with iptables 1.8.9 (legacy): `tests/data/*` were
//! written by `iptables-legacy` and `iptables-legacy-save` in a scratch
//! network namespace after `iptables-legacy-restore` of
//! `tests/data/{a,b,c,d,e}_input.rules` (`a`, `d` and `e` with
//! `--counters`; `c` holds the connection-tracking matches and targets, in
//! filter, mangle and raw; `d` the nat table with SNAT, DNAT, MASQUERADE
//! and REDIRECT; `e` NFQUEUE and QUEUE in filter and mangle).

use rfcore::rules::table::TableKind;

use crate::format::{self, ListFormat};
use crate::model::TableSpec;
use crate::restore;

fn data(name: &str) -> String {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn tables(input: &str, counters: bool) -> Vec<TableSpec> {
    let s = restore::parse_input(&data(input), counters).unwrap();
    restore::build_tables(&s, None).unwrap()
}

fn filter(input: &str, counters: bool) -> TableSpec {
    tables(input, counters)
        .into_iter()
        .find(|t| t.kind == TableKind::Filter)
        .unwrap()
}

fn table(kind: TableKind, input: &str) -> TableSpec {
    tables(input, false)
        .into_iter()
        .find(|t| t.kind == kind)
        .unwrap()
}

#[track_caller]
fn same(got: &str, want: &str) {
    if got != want {
        for (k, (g, w)) in got.lines().zip(want.lines()).enumerate() {
            if g != w {
                panic!("line {}:\n got: {g:?}\nwant: {w:?}", k + 1);
            }
        }
        panic!(
            "lengths differ: got {} lines, want {}",
            got.lines().count(),
            want.lines().count()
        );
    }
}

fn lf(numeric: bool, verbose: bool, exact: bool, line_numbers: bool) -> ListFormat {
    ListFormat {
        numeric,
        verbose,
        exact,
        line_numbers,
    }
}

fn have_services() -> bool {
    std::path::Path::new("/etc/services").exists()
}

#[test]
fn list_rules_as_iptables() {
    for set in ["a", "b"] {
        let t = filter(&format!("{set}_input.rules"), true);
        same(
            &format::list_rules(&t, None, None, false),
            &data(&format!("{set}_S.txt")),
        );
        same(
            &format::list_rules(&t, None, None, true),
            &data(&format!("{set}_Sv.txt")),
        );
    }
    let m = table(TableKind::Mangle, "b_input.rules");
    same(
        &format::list_rules(&m, None, None, false),
        &data("b_mangle_S.txt"),
    );
}

#[test]
fn list_as_iptables() {
    for set in ["a", "b"] {
        let t = filter(&format!("{set}_input.rules"), true);
        same(
            &format::list(&t, None, None, lf(true, false, false, false)),
            &data(&format!("{set}_Ln.txt")),
        );
        same(
            &format::list(&t, None, None, lf(true, true, true, true)),
            &data(&format!("{set}_Lvxn.txt")),
        );
        if have_services() {
            same(
                &format::list(&t, None, None, lf(false, false, false, false)),
                &data(&format!("{set}_L.txt")),
            );
            same(
                &format::list(&t, None, None, lf(false, true, false, false)),
                &data(&format!("{set}_Lv.txt")),
            );
        }
    }
    let m = table(TableKind::Mangle, "b_input.rules");
    same(
        &format::list(&m, None, None, lf(false, false, false, false)),
        &data("b_mangle_L.txt"),
    );
}

#[test]
fn save_as_iptables_save() {
    let strip = |s: String| -> String {
        s.lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| format!("{l}\n"))
            .collect()
    };
    let t = filter("a_input.rules", true);
    same(&format::save_table(&t, true), &strip(data("a_save_c.txt")));
    same(&format::save_table(&t, false), &strip(data("a_save.txt")));
    // b: iptables-save wrote mangle before filter.
    let tb = tables("b_input.rules", false);
    let mangle = tb.iter().find(|t| t.kind == TableKind::Mangle).unwrap();
    let filt = tb.iter().find(|t| t.kind == TableKind::Filter).unwrap();
    let got = format::save_table(mangle, false) + &format::save_table(filt, false);
    same(&got, &strip(data("b_save.txt")));
}

#[test]
fn conntrack_rules_as_iptables() {
    let f = table(TableKind::Filter, "c_input.rules");
    let m = table(TableKind::Mangle, "c_input.rules");
    let r = table(TableKind::Raw, "c_input.rules");
    for (t, name) in [(&f, "c"), (&m, "c_mangle"), (&r, "c_raw")] {
        same(
            &format::list_rules(t, None, None, false),
            &data(&format!("{name}_S.txt")),
        );
        same(
            &format::list(t, None, None, lf(true, true, true, true)),
            &data(&format!("{name}_Lvxn.txt")),
        );
        // The tcp/udp ports of the raw table print as service names.
        if have_services() || name != "c_raw" {
            same(
                &format::list(t, None, None, lf(false, false, false, false)),
                &data(&format!("{name}_L.txt")),
            );
        }
    }
    same(
        &format::list(&f, None, None, lf(true, false, false, false)),
        &data("c_Ln.txt"),
    );
    if have_services() {
        same(
            &format::list(&f, None, None, lf(false, true, false, false)),
            &data("c_Lv.txt"),
        );
    }
    // iptables-save wrote raw, mangle, filter.
    let strip = |s: String| -> String {
        s.lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| format!("{l}\n"))
            .collect()
    };
    let got = format::save_table(&r, false)
        + &format::save_table(&m, false)
        + &format::save_table(&f, false);
    same(&got, &strip(data("c_save.txt")));
    // What iptables printed reads back to the same rules.
    let again = restore::parse_input(&data("c_save.txt"), false).unwrap();
    let again = restore::build_tables(&again, None).unwrap();
    for t in [&f, &m, &r] {
        let back = again.iter().find(|b| b.kind == t.kind).unwrap();
        same(
            &format::list_rules(back, None, None, false),
            &format::list_rules(t, None, None, false),
        );
    }
}

#[test]
fn nat_rules_as_iptables() {
    let d = tables("d_input.rules", true);
    assert_eq!(d.len(), 1);
    let t = &d[0];
    assert_eq!(t.kind, TableKind::Nat);
    let names: Vec<&str> = t.chains.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        ["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING", "masq_out"]
    );
    same(&format::list_rules(t, None, None, false), &data("d_S.txt"));
    same(&format::list_rules(t, None, None, true), &data("d_Sv.txt"));
    same(
        &format::list(t, None, None, lf(true, false, false, false)),
        &data("d_Ln.txt"),
    );
    same(
        &format::list(t, None, None, lf(true, true, true, true)),
        &data("d_Lvxn.txt"),
    );
    if have_services() {
        same(
            &format::list(t, None, None, lf(false, false, false, false)),
            &data("d_L.txt"),
        );
        same(
            &format::list(t, None, None, lf(false, true, false, false)),
            &data("d_Lv.txt"),
        );
    }
    let strip = |s: String| -> String {
        s.lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| format!("{l}\n"))
            .collect()
    };
    same(&format::save_table(t, true), &strip(data("d_save_c.txt")));
    same(&format::save_table(t, false), &strip(data("d_save.txt")));
    // What iptables-save wrote restores, and saves back identically.
    // (`--counters`: the chain counters are in both files.)
    for (file, counters) in [("d_save.txt", false), ("d_save_c.txt", true)] {
        let s = restore::parse_input(&data(file), true).unwrap();
        let back = restore::build_tables(&s, None).unwrap();
        same(&format::save_table(&back[0], counters), &strip(data(file)));
    }
    // The core takes the table (hooks, protocols, ranges) and gives it
    // back unchanged.
    let chunks = crate::wire::encode_chunks(t, crate::wire::CHUNK_BYTES).unwrap();
    let back = crate::wire::decode_table(&chunks.concat()).unwrap();
    same(
        &format::save_table(&back, true),
        &format::save_table(t, true),
    );
}

#[test]
fn nfqueue_rules_as_iptables() {
    let f = table(TableKind::Filter, "e_input.rules");
    let m = table(TableKind::Mangle, "e_input.rules");
    let f_c = filter("e_input.rules", true);
    same(
        &format::list_rules(&f_c, None, None, false),
        &data("e_S.txt"),
    );
    same(
        &format::list_rules(&f_c, None, None, true),
        &data("e_Sv.txt"),
    );
    same(
        &format::list(&f, None, None, lf(true, false, false, false)),
        &data("e_Ln.txt"),
    );
    same(
        &format::list(&f_c, None, None, lf(true, true, true, true)),
        &data("e_Lvxn.txt"),
    );
    let m_c = tables("e_input.rules", true)
        .into_iter()
        .find(|t| t.kind == TableKind::Mangle)
        .unwrap();
    same(
        &format::list_rules(&m, None, None, false),
        &data("e_mangle_S.txt"),
    );
    same(
        &format::list(&m_c, None, None, lf(true, true, true, true)),
        &data("e_mangle_Lvxn.txt"),
    );
    if have_services() {
        same(
            &format::list(&f, None, None, lf(false, false, false, false)),
            &data("e_L.txt"),
        );
        same(
            &format::list(&f_c, None, None, lf(false, true, false, false)),
            &data("e_Lv.txt"),
        );
        same(
            &format::list(&m, None, None, lf(false, false, false, false)),
            &data("e_mangle_L.txt"),
        );
    }
    // iptables-save wrote filter, then mangle; rfctl writes each table
    // the same way.
    let strip = |s: String| -> String {
        s.lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| format!("{l}\n"))
            .collect()
    };
    for (file, counters) in [("e_save.txt", false), ("e_save_c.txt", true)] {
        let ts = tables("e_input.rules", true);
        let fc = ts.iter().find(|t| t.kind == TableKind::Filter).unwrap();
        let mc = ts.iter().find(|t| t.kind == TableKind::Mangle).unwrap();
        let got = format::save_table(fc, counters) + &format::save_table(mc, counters);
        same(&got, &strip(data(file)));
        // What iptables-save wrote restores, and saves back identically.
        let s = restore::parse_input(&data(file), true).unwrap();
        let back = restore::build_tables(&s, None).unwrap();
        let bf = back.iter().find(|t| t.kind == TableKind::Filter).unwrap();
        let bm = back.iter().find(|t| t.kind == TableKind::Mangle).unwrap();
        same(
            &(format::save_table(bf, counters) + &format::save_table(bm, counters)),
            &strip(data(file)),
        );
    }
    // The core takes both tables and gives them back unchanged.
    for t in [&f_c, &m_c] {
        let chunks = crate::wire::encode_chunks(t, crate::wire::CHUNK_BYTES).unwrap();
        let back = crate::wire::decode_table(&chunks.concat()).unwrap();
        same(
            &format::save_table(&back, true),
            &format::save_table(t, true),
        );
    }
}
