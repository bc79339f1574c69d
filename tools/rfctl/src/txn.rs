// SPDX-License-Identifier: GPL-2.0

//! Table transactions (`Documentation/protocol.rst`, "Replacing a table"
//! and "Reading a table"): read a table, replace one whole, or edit one
//! by read-modify-commit with a generation check.

use rfcore::nla::Attrs;
use rfcore::proto;
use rfcore::rules::table::TableKind;

use crate::error::{Error, EAGAIN, EOPNOTSUPP};
use crate::model::TableSpec;
use crate::netlink::{Client, Transport};
use crate::ops::Outcome;
use crate::wire::{self, CHUNK_BYTES};

/// How often a read-modify-commit is tried when another editor commits
/// in between.
pub const ATTEMPTS: usize = 5;

/// The table commands of the module.
pub trait Kernel {
    /// `TABLE_GET`, with `A_ZERO` if `zero`.
    fn get(&mut self, table: TableKind, zero: bool) -> Result<TableSpec, Error>;
    /// `TABLE_BEGIN`; returns the table's current generation.
    fn begin(&mut self, table: TableKind, generation: Option<u32>) -> Result<u32, Error>;
    /// `TABLE_CHUNK`.
    fn chunk(&mut self, bytes: &[u8]) -> Result<(), Error>;
    /// `TABLE_COMMIT`; returns the new generation. `counters`: take
    /// counters from the ruleset; `carry`: rules and chains with an origin
    /// continue counting from the bound generation.
    fn commit(&mut self, test: bool, counters: bool, carry: bool) -> Result<u32, Error>;
    /// `TABLE_ABORT`.
    fn abort(&mut self) -> Result<(), Error>;
}

/// The module over generic netlink.
pub struct Netlink<T> {
    client: Client<T>,
    family: u16,
    /// Whether `TABLE_GET` is answered as a dump (found out on first use).
    get_as_dump: bool,
}

impl<T: Transport> Netlink<T> {
    /// Resolve the family and wrap the client.
    pub fn new(mut client: Client<T>) -> Result<Self, Error> {
        let family = client.resolve_family(proto::GENL_NAME)?;
        Ok(Netlink {
            client,
            family,
            get_as_dump: false,
        })
    }

    /// The client, for tests.
    #[cfg(test)]
    pub fn client(&self) -> &Client<T> {
        &self.client
    }

    fn send(&mut self, cmd: u8, payload: &[u8], dump: bool) -> Result<Vec<Vec<u8>>, Error> {
        self.client
            .request_raw(self.family, cmd, proto::GENL_VERSION, payload, dump)
    }
}

fn put_attr(out: &mut Vec<u8>, kind: u16, payload: &[u8]) {
    out.extend_from_slice(&((4 + payload.len()) as u16).to_ne_bytes());
    out.extend_from_slice(&kind.to_ne_bytes());
    out.extend_from_slice(payload);
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
}

fn table_attr(t: TableKind) -> Vec<u8> {
    let mut v = Vec::new();
    let mut name = t.name().as_bytes().to_vec();
    name.push(0);
    put_attr(&mut v, proto::A_TABLE, &name);
    v
}

/// The attributes of a reply (after the generic netlink header).
fn body(reply: &[u8]) -> &[u8] {
    reply.get(4..).unwrap_or(&[])
}

/// `A_GENERATION` in the replies.
fn generation(replies: &[Vec<u8>]) -> Result<u32, Error> {
    for r in replies {
        for a in Attrs::new(body(r)) {
            let a = a.map_err(|e| Error::protocol(format!("table reply: {e}")))?;
            if a.kind() == proto::A_GENERATION {
                return a
                    .get_u32()
                    .map_err(|e| Error::protocol(format!("generation: {e}")));
            }
        }
    }
    Err(Error::protocol("no generation in the reply"))
}

impl<T: Transport> Kernel for Netlink<T> {
    fn get(&mut self, table: TableKind, zero: bool) -> Result<TableSpec, Error> {
        let mut req = table_attr(table);
        if zero {
            put_attr(&mut req, proto::A_ZERO, &[]);
        }
        let replies = match self.send(proto::CMD_TABLE_GET, &req, self.get_as_dump) {
            // A module that implements the read as a dump refuses a
            // plain request; ask again as a dump.
            Err(Error::Kernel {
                errno: EOPNOTSUPP, ..
            }) if !self.get_as_dump => {
                self.get_as_dump = true;
                self.send(proto::CMD_TABLE_GET, &req, true)?
            }
            other => other?,
        };
        let mut bytes = Vec::new();
        for r in &replies {
            bytes.extend_from_slice(body(r));
        }
        wire::decode_table(&bytes).map_err(|e| Error::protocol(format!("table dump: {e}")))
    }

    fn begin(&mut self, table: TableKind, gen: Option<u32>) -> Result<u32, Error> {
        let mut req = table_attr(table);
        if let Some(g) = gen {
            put_attr(&mut req, proto::A_GENERATION, &g.to_ne_bytes());
        }
        let replies = self.send(proto::CMD_TABLE_BEGIN, &req, false)?;
        generation(&replies)
    }

    fn chunk(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.send(proto::CMD_TABLE_CHUNK, bytes, false).map(|_| ())
    }

    fn commit(&mut self, test: bool, counters: bool, carry: bool) -> Result<u32, Error> {
        let mut req = Vec::new();
        if test {
            put_attr(&mut req, proto::A_TEST, &[]);
        }
        if counters {
            put_attr(&mut req, proto::A_COUNTERS, &[]);
        }
        if carry {
            put_attr(&mut req, proto::A_CARRY, &[]);
        }
        // No acknowledgement: the commit's reply (the new generation) is
        // made before the table is published, an acknowledgement after,
        // and one that cannot be allocated must not report a commit that
        // happened as failed.
        let reply = self.client.request_one(
            self.family,
            proto::CMD_TABLE_COMMIT,
            proto::GENL_VERSION,
            &req,
        )?;
        // A test commit need not report a generation.
        match generation(std::slice::from_ref(&reply)) {
            Ok(g) => Ok(g),
            Err(_) if test => Ok(0),
            Err(e) => Err(e),
        }
    }

    fn abort(&mut self) -> Result<(), Error> {
        self.send(proto::CMD_TABLE_ABORT, &[], false).map(|_| ())
    }
}

/// A refused commit: the kernel's explanation alone
/// (`table filter, chain INPUT, rule 3: ...`), as iptables prints the
/// kernel's reason.
fn commit_error(e: Error) -> Error {
    match e {
        Error::Kernel {
            errno,
            extack: Some(msg),
        } if errno != crate::error::EPERM && errno != EAGAIN => Error::Other(msg),
        e => e,
    }
}

/// Send `table` in chunks and commit it; the transaction is open.
fn send_and_commit<K: Kernel>(
    k: &mut K,
    table: &TableSpec,
    test: bool,
    counters: bool,
    carry: bool,
) -> Result<u32, Error> {
    let chunks = wire::encode_chunks(table, CHUNK_BYTES)
        .map_err(|e| Error::Other(format!("table {}, {e}", table.kind.name())))?;
    for c in &chunks {
        if let Err(e) = k.chunk(c) {
            let _ = k.abort();
            return Err(commit_error(e));
        }
    }
    k.commit(test, counters, carry).map_err(commit_error)
}

/// Replace a whole table (restore without `--noflush`).
pub fn replace<K: Kernel>(
    k: &mut K,
    table: &TableSpec,
    test: bool,
    counters: bool,
) -> Result<(), Error> {
    k.begin(table.kind, None)?;
    send_and_commit(k, table, test, counters, false).map(|_| ())
}

/// Read table `kind`, let `edit` change it, and commit the result if it
/// changed, unless another editor committed in between: then start over,
/// up to [`ATTEMPTS`] times. The kernel carries the counters of the rules
/// and policies that were read over to the new ruleset (`A_CARRY`), so no
/// packet counted between the read and the commit is lost; new rules and
/// zeroed ones start from their counters in the edited table.
pub fn edit<K: Kernel>(
    k: &mut K,
    kind: TableKind,
    test: bool,
    mut edit: impl FnMut(&mut TableSpec) -> Result<Outcome, Error>,
) -> Result<String, Error> {
    for _ in 0..ATTEMPTS {
        // The generation before the read: if the table changes after it,
        // the commit fails with EAGAIN and the edit is redone.
        let gen = k.begin(kind, None)?;
        let mut table = k.get(kind, false)?;
        let outcome = match edit(&mut table) {
            Ok(o) => o,
            Err(e) => {
                let _ = k.abort();
                return Err(e);
            }
        };
        if !outcome.changed {
            let _ = k.abort();
            return Ok(outcome.output);
        }
        // Reopen the transaction bound to the generation that was read.
        k.begin(kind, Some(gen))?;
        match send_and_commit(k, &table, test, true, true) {
            Ok(_) => return Ok(outcome.output),
            Err(Error::Kernel { errno: EAGAIN, .. }) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(Error::Other(format!(
        "table {}: changed by another program during each of {ATTEMPTS} attempts; nothing changed",
        kind.name()
    )))
}

/// Read a table, zeroing its counters at the same instant if `zero`.
pub fn read<K: Kernel>(k: &mut K, kind: TableKind, zero: bool) -> Result<TableSpec, Error> {
    k.get(kind, zero)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netlink::testutil::*;
    use crate::parse;
    use crate::restore;
    use crate::rulecmd;

    const FAMILY: u16 = 0x2a;

    fn family_reply(req: &[u8]) -> Vec<Vec<u8>> {
        rustfilter_family(req, FAMILY)
    }

    fn gen_reply(g: u32) -> Answer {
        Box::new(move |req| {
            vec![
                genlmsg(
                    FAMILY,
                    seq_of(req),
                    req[16],
                    &[
                        attr(proto::A_TABLE, b"filter\0"),
                        attr(proto::A_GENERATION, &g.to_ne_bytes()),
                    ],
                ),
                ack(req),
            ]
        })
    }

    fn ok() -> Answer {
        Box::new(|req| vec![ack(req)])
    }

    /// The kernel's dump of `t`, split over two messages.
    fn dump(t: TableSpec) -> Answer {
        Box::new(move |req| {
            let bytes = wire::encode_chunks(&t, 1024).unwrap().concat();
            // Any split between attributes would do; messages carry the
            // concatenation.
            let cut = bytes.len() / 2 / 4 * 4;
            let cut = rfcore::nla::Attrs::new(&bytes)
                .map(|a| a.unwrap().payload().len())
                .next()
                .map_or(cut, |l| 4 + l.div_ceil(4) * 4);
            vec![
                genlmsg(
                    FAMILY,
                    seq_of(req),
                    proto::CMD_TABLE_GET,
                    &[bytes[..cut].to_vec()],
                ),
                genlmsg(
                    FAMILY,
                    seq_of(req),
                    proto::CMD_TABLE_GET,
                    &[bytes[cut..].to_vec()],
                ),
                ack(req),
            ]
        })
    }

    fn kernel(mut answers: Vec<Answer>) -> Netlink<Script> {
        answers.insert(0, Box::new(family_reply));
        Netlink::new(Client::new(Script::new(answers))).unwrap()
    }

    fn cmd(s: &str) -> parse::CmdLine {
        parse::parse_command(&parse::split_line(s).unwrap(), None).unwrap()
    }

    /// The top-level attributes of a sent request: (type, payload).
    fn attrs_of(msg: &[u8]) -> Vec<(u16, Vec<u8>)> {
        rfcore::nla::Attrs::new(&msg[20..])
            .map(|a| {
                let a = a.unwrap();
                (a.kind(), a.payload().to_vec())
            })
            .collect()
    }

    fn cmds(k: &Netlink<Script>) -> Vec<u8> {
        k.client()
            .transport()
            .sent
            .iter()
            .skip(1)
            .map(|m| m[16])
            .collect()
    }

    #[test]
    fn single_rule_edit_is_read_modify_commit() {
        let mut k = kernel(vec![
            gen_reply(7),
            dump(TableSpec::empty(TableKind::Filter)),
            gen_reply(7),
            ok(),
            gen_reply(8),
        ]);
        rulecmd::run(&mut k, &cmd("-A INPUT -p tcp --dport 22 -j ACCEPT")).unwrap();
        assert_eq!(
            cmds(&k),
            [
                proto::CMD_TABLE_BEGIN,
                proto::CMD_TABLE_GET,
                proto::CMD_TABLE_BEGIN,
                proto::CMD_TABLE_CHUNK,
                proto::CMD_TABLE_COMMIT
            ]
        );
        let sent = &k.client().transport().sent;
        assert_eq!(attrs_of(&sent[1]), [(proto::A_TABLE, b"filter\0".to_vec())]);
        assert_eq!(attrs_of(&sent[2]), [(proto::A_TABLE, b"filter\0".to_vec())]);
        assert_eq!(
            attrs_of(&sent[3]),
            [
                (proto::A_TABLE, b"filter\0".to_vec()),
                (proto::A_GENERATION, 7u32.to_ne_bytes().to_vec())
            ]
        );
        let t = wire::decode_table(&sent[4][20..]).unwrap();
        assert_eq!(
            crate::format::list_rules(&t, Some("INPUT"), None, false),
            "-P INPUT ACCEPT\n-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\n"
        );
        // Counters of the rules read are carried over by the kernel.
        assert_eq!(
            attrs_of(&sent[5]),
            [(proto::A_COUNTERS, vec![]), (proto::A_CARRY, vec![])]
        );
        // The commit asks for no acknowledgement (NLM_F_REQUEST only): its
        // reply says it happened; the other requests are acknowledged.
        let flags = |m: &[u8]| u16::from_ne_bytes([m[6], m[7]]);
        assert_eq!(flags(&sent[5]), 0x1);
        assert_eq!(flags(&sent[4]), 0x5);
    }

    /// The rule and chain origins of a sent ruleset (the first chunk):
    /// `[(chain origin, [rule origins])]`.
    fn origins(chunk: &[u8]) -> Vec<(Option<u32>, Vec<Option<u32>>)> {
        use rfcore::rules::{decode, measure, Chain, Match, Rule, Storage};
        let bytes = &chunk[20..];
        let sizes = measure(bytes).unwrap();
        let mut chains = vec![Chain::default(); sizes.chains];
        let mut rules = vec![Rule::default(); sizes.rules];
        let mut matches = vec![Match::default(); sizes.matches];
        let t = decode(
            bytes,
            Storage {
                chains: &mut chains,
                rules: &mut rules,
                matches: &mut matches,
            },
        )
        .unwrap();
        t.chains()
            .iter()
            .map(|c| {
                let rules = c.rules().map(|i| t.rules()[i as usize].origin()).collect();
                (c.origin(), rules)
            })
            .collect()
    }

    /// The filter table with two INPUT rules and one OUTPUT rule.
    fn three_rules() -> TableSpec {
        let mut t = TableSpec::empty(TableKind::Filter);
        for c in [
            "-A INPUT -p udp -j DROP",
            "-A INPUT -p icmp -j DROP",
            "-A OUTPUT -j ACCEPT",
        ] {
            crate::ops::apply(&mut t, &cmd(c)).unwrap();
        }
        t
    }

    #[test]
    fn edits_name_the_origin_of_what_they_keep() {
        // An insert: the rules read keep their dump positions, the new
        // one has none; built-in chains keep theirs.
        let mut k = kernel(vec![
            gen_reply(3),
            dump(three_rules()),
            gen_reply(3),
            ok(),
            gen_reply(4),
        ]);
        rulecmd::run(&mut k, &cmd("-I INPUT 2 -p tcp -j ACCEPT")).unwrap();
        assert_eq!(
            origins(&k.client().transport().sent[4]),
            [
                (Some(0), vec![Some(0), None, Some(1)]),
                (Some(1), vec![]),
                (Some(2), vec![Some(2)])
            ]
        );
        // Zeroing a chain: its rules and policy start again from zero,
        // the rest keeps counting.
        let mut k = kernel(vec![
            gen_reply(3),
            dump(three_rules()),
            gen_reply(3),
            ok(),
            gen_reply(4),
        ]);
        rulecmd::run(&mut k, &cmd("-Z INPUT")).unwrap();
        assert_eq!(
            origins(&k.client().transport().sent[4]),
            [
                (None, vec![None, None]),
                (Some(1), vec![]),
                (Some(2), vec![Some(2)])
            ]
        );
        // Deleting: the later rules keep their origins.
        let mut k = kernel(vec![
            gen_reply(3),
            dump(three_rules()),
            gen_reply(3),
            ok(),
            gen_reply(4),
        ]);
        rulecmd::run(&mut k, &cmd("-D INPUT 1")).unwrap();
        assert_eq!(
            origins(&k.client().transport().sent[4]),
            [
                (Some(0), vec![Some(1)]),
                (Some(1), vec![]),
                (Some(2), vec![Some(2)])
            ]
        );
    }

    #[test]
    fn concurrent_commit_is_retried() {
        let eagain: Answer = Box::new(|req| vec![error(req, EAGAIN, Some("table changed"))]);
        let mut k = kernel(vec![
            gen_reply(7),
            dump(TableSpec::empty(TableKind::Filter)),
            gen_reply(7),
            ok(),
            eagain,
            gen_reply(8),
            dump(TableSpec::empty(TableKind::Filter)),
            gen_reply(8),
            ok(),
            gen_reply(9),
        ]);
        rulecmd::run(&mut k, &cmd("-N X")).unwrap();
        assert_eq!(cmds(&k).len(), 10);
    }

    #[test]
    fn endless_concurrency_gives_up() {
        let mut answers = Vec::new();
        for _ in 0..ATTEMPTS {
            answers.push(gen_reply(7));
            answers.push(dump(TableSpec::empty(TableKind::Filter)));
            answers.push(gen_reply(7));
            answers.push(ok());
            answers.push(Box::new(|req: &[u8]| vec![error(req, EAGAIN, None)]) as Answer);
        }
        let mut k = kernel(answers);
        let e = rulecmd::run(&mut k, &cmd("-N X")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "table filter: changed by another program during each of 5 attempts; nothing changed"
        );
    }

    #[test]
    fn refused_commit_shows_the_kernel_reason() {
        let einval: Answer = Box::new(|req| {
            vec![error(
                req,
                22,
                Some("table filter, chain INPUT, rule 3: jump to a chain that does not exist"),
            )]
        });
        let mut k = kernel(vec![
            gen_reply(1),
            dump(TableSpec::empty(TableKind::Filter)),
            gen_reply(1),
            ok(),
            einval,
        ]);
        let e = rulecmd::run(&mut k, &cmd("-P INPUT DROP")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "table filter, chain INPUT, rule 3: jump to a chain that does not exist"
        );
        assert_eq!(e.exit_code(), 1);
    }

    #[test]
    fn failed_edit_aborts_and_reads_send_no_commit() {
        let mut k = kernel(vec![
            gen_reply(1),
            dump(TableSpec::empty(TableKind::Filter)),
            ok(),
        ]);
        let e = rulecmd::run(&mut k, &cmd("-D INPUT 1")).unwrap_err();
        assert_eq!(e.to_string(), "Index of deletion too big.");
        assert_eq!(
            cmds(&k),
            [
                proto::CMD_TABLE_BEGIN,
                proto::CMD_TABLE_GET,
                proto::CMD_TABLE_ABORT
            ]
        );
        let mut k = kernel(vec![dump(TableSpec::empty(TableKind::Filter))]);
        let out = rulecmd::run(&mut k, &cmd("-S")).unwrap();
        assert_eq!(
            out,
            "-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT\n"
        );
        assert_eq!(cmds(&k), [proto::CMD_TABLE_GET]);
    }

    #[test]
    fn list_and_zero_is_one_get_with_zero() {
        let mut k = kernel(vec![dump(TableSpec::empty(TableKind::Mangle))]);
        let out = rulecmd::run(&mut k, &cmd("-t mangle -L -Z -n")).unwrap();
        assert!(out.starts_with("Chain PREROUTING (policy ACCEPT)\n"));
        let sent = &k.client().transport().sent;
        assert_eq!(
            attrs_of(&sent[1]),
            [
                (proto::A_TABLE, b"mangle\0".to_vec()),
                (proto::A_ZERO, vec![])
            ]
        );
        assert_eq!(cmds(&k), [proto::CMD_TABLE_GET]);
    }

    #[test]
    fn get_falls_back_to_a_dump() {
        let eopnotsupp: Answer = Box::new(|req| vec![error(req, EOPNOTSUPP, None)]);
        let mut k = kernel(vec![eopnotsupp, dump(TableSpec::empty(TableKind::Filter))]);
        rulecmd::run(&mut k, &cmd("-L")).unwrap();
        let sent = &k.client().transport().sent;
        let flags = |m: &[u8]| u16::from_ne_bytes([m[6], m[7]]);
        assert_eq!(flags(&sent[1]) & 0x300, 0);
        assert_eq!(flags(&sent[2]) & 0x300, 0x300);
    }

    #[test]
    fn restore_replaces_each_table_in_one_transaction() {
        let text = "*mangle\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n\
                    :OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -j DSCP --set-dscp 1\nCOMMIT\n\
                    *filter\n:INPUT DROP [1:2]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n";
        let mut k = kernel(vec![
            gen_reply(1),
            ok(),
            gen_reply(2),
            gen_reply(4),
            ok(),
            gen_reply(5),
        ]);
        let o = restore::RestoreOpts {
            test: true,
            counters: true,
            ..Default::default()
        };
        restore::restore(&mut k, &o, text).unwrap();
        let sent = &k.client().transport().sent;
        assert_eq!(cmds(&k), [3, 4, 5, 3, 4, 5]);
        // No generation: a restore replaces whatever is there.
        assert_eq!(attrs_of(&sent[1]), [(proto::A_TABLE, b"mangle\0".to_vec())]);
        assert_eq!(
            attrs_of(&sent[3]),
            [(proto::A_TEST, vec![]), (proto::A_COUNTERS, vec![])]
        );
        let f = wire::decode_table(&sent[5][20..]).unwrap();
        assert_eq!(f.chain("INPUT").unwrap().counters.bytes, 2);
    }

    #[test]
    fn restore_of_many_rules_sends_many_chunks() {
        let mut text = String::from(
            "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n",
        );
        for i in 0..3000 {
            text.push_str(&format!("-A INPUT -p udp --dport {} -j DROP\n", i + 1));
        }
        text.push_str("COMMIT\n");
        let table =
            restore::build_tables(&restore::parse_input(&text, false).unwrap(), None).unwrap();
        let n = wire::encode_chunks(&table[0], CHUNK_BYTES).unwrap().len();
        assert!(n > 2);
        let mut answers = vec![gen_reply(1)];
        for _ in 0..n {
            answers.push(ok());
        }
        answers.push(gen_reply(2));
        let mut k = kernel(answers);
        restore::restore(&mut k, &restore::RestoreOpts::default(), &text).unwrap();
        let sent = &k.client().transport().sent;
        let mut all = Vec::new();
        for m in &sent[2..2 + n] {
            assert_eq!(m[16], proto::CMD_TABLE_CHUNK);
            assert!(m.len() < 64 * 1024);
            all.extend_from_slice(&m[20..]);
        }
        assert_eq!(wire::decode_table(&all).unwrap().rule_count(), 3000);
        // Without --test and --counters the commit has no attributes.
        assert!(attrs_of(sent.last().unwrap()).is_empty());
    }

    #[test]
    fn noflush_restore_edits_with_a_generation() {
        let mut cur = TableSpec::empty(TableKind::Filter);
        crate::ops::apply(&mut cur, &cmd("-A INPUT -j ACCEPT")).unwrap();
        let mut k = kernel(vec![
            gen_reply(3),
            dump(cur),
            gen_reply(3),
            ok(),
            gen_reply(4),
        ]);
        let text = "*filter\n:NEW - [0:0]\n-A INPUT -j NEW\nCOMMIT\n";
        let o = restore::RestoreOpts {
            noflush: true,
            ..Default::default()
        };
        restore::restore(&mut k, &o, text).unwrap();
        let sent = &k.client().transport().sent;
        let t = wire::decode_table(&sent[4][20..]).unwrap();
        assert_eq!(
            crate::format::list_rules(&t, None, None, false),
            "-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT\n-N NEW\n-A INPUT -j ACCEPT\n-A INPUT -j NEW\n"
        );
    }

    #[test]
    fn save_reads_each_table() {
        let mut k = kernel(vec![
            dump(TableSpec::empty(TableKind::Raw)),
            dump(TableSpec::empty(TableKind::Mangle)),
            dump(TableSpec::empty(TableKind::Nat)),
            dump(TableSpec::empty(TableKind::Filter)),
        ]);
        let out = restore::save(&mut k, &restore::SaveOpts::default()).unwrap();
        let tables: Vec<&str> = out.lines().filter(|l| l.starts_with('*')).collect();
        assert_eq!(tables, ["*raw", "*mangle", "*nat", "*filter"]);
        // What save writes, restore reads.
        let s = restore::parse_input(&out, false).unwrap();
        assert_eq!(s.len(), 4);
    }

    #[test]
    fn save_skips_a_table_the_module_lacks() {
        let no_table: Answer = Box::new(|req| {
            vec![error(
                req,
                crate::error::ENOENT,
                Some("rustfilter: no such table"),
            )]
        });
        let mut k = kernel(vec![
            dump(TableSpec::empty(TableKind::Raw)),
            dump(TableSpec::empty(TableKind::Mangle)),
            no_table,
            dump(TableSpec::empty(TableKind::Filter)),
        ]);
        let out = restore::save(&mut k, &restore::SaveOpts::default()).unwrap();
        let tables: Vec<&str> = out.lines().filter(|l| l.starts_with('*')).collect();
        assert_eq!(tables, ["*raw", "*mangle", "*filter"]);
        // Named, it is an error.
        let no_table: Answer = Box::new(|req| {
            vec![error(
                req,
                crate::error::ENOENT,
                Some("rustfilter: no such table"),
            )]
        });
        let mut k = kernel(vec![no_table]);
        let o = restore::SaveOpts {
            table: Some(TableKind::Nat),
            counters: false,
        };
        let e = restore::save(&mut k, &o).unwrap_err();
        assert_eq!(
            e.to_string(),
            "No such file or directory: rustfilter: no such table"
        );
    }
}
