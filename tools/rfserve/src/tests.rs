// SPDX-License-Identifier: GPL-2.0

//! Servers and clients against each other on the loopback.

use std::fs;
use std::io::{BufReader, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, TcpStream, UdpSocket};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::Duration;

use crate::echo::{self, Outcome};
use crate::ftp_client::{self, Mode, Step, Transfer};
use crate::{ftp, proto, sock, tftp};

/// A new empty directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "rfserve-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// `n` bytes that are not all alike.
fn content(n: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

fn ftp_server(root: &TempDir) -> SocketAddrV4 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let a = sock::v4(l.local_addr().unwrap()).unwrap();
    let config = ftp::Config {
        root: root.0.clone(),
        data_port: 0,
        timeout: Duration::from_secs(2),
        verbose: false,
    };
    thread::spawn(move || ftp::serve(l, config));
    a
}

fn step(mode: Mode, file: &str, transfer: Transfer) -> ftp_client::Step {
    ftp_client::Step {
        mode,
        file: file.to_string(),
        transfer,
    }
}

fn job(server: SocketAddrV4, mode: Mode, file: &str, transfer: Transfer) -> ftp_client::Job {
    ftp_client::Job {
        server,
        steps: vec![step(mode, file, transfer)],
        announce: None,
        timeout: Duration::from_secs(3),
        verbose: false,
    }
}

const MODES: [Mode; 4] = [Mode::Active, Mode::Eprt, Mode::Passive, Mode::Epsv];

#[test]
fn ftp_get_and_put_in_every_mode() {
    let root = TempDir::new();
    let local = TempDir::new();
    let server = ftp_server(&root);
    let data = content(300_007, 1);
    fs::write(root.0.join("big"), &data).unwrap();
    fs::write(root.0.join("empty"), b"").unwrap();
    for mode in MODES {
        let out = local.0.join(format!("{mode:?}"));
        let n = ftp_client::run(&job(server, mode, "big", Transfer::Get(out.clone()))).unwrap();
        assert_eq!(n, data.len() as u64, "{mode:?}");
        assert_eq!(fs::read(&out).unwrap(), data, "{mode:?}");
        ftp_client::run(&job(server, mode, "/empty", Transfer::Get(out.clone()))).unwrap();
        assert_eq!(fs::read(&out).unwrap(), b"", "{mode:?}");

        let up = content(70_001, mode as u32 + 7);
        let src = local.0.join("up");
        fs::write(&src, &up).unwrap();
        let name = format!("up-{mode:?}");
        ftp_client::run(&job(server, mode, &name, Transfer::Put(src))).unwrap();
        assert_eq!(fs::read(root.0.join(&name)).unwrap(), up, "{mode:?}");
    }
}

#[test]
fn ftp_missing_file_and_announce() {
    let root = TempDir::new();
    let local = TempDir::new();
    let server = ftp_server(&root);
    fs::write(root.0.join("f"), b"hello").unwrap();
    let out = local.0.join("out");
    for mode in MODES {
        let e =
            ftp_client::run(&job(server, mode, "nope", Transfer::Get(out.clone()))).unwrap_err();
        assert!(e.contains("550"), "{mode:?}: {e}");
    }
    // Announcing another local address: the server connects there.
    for mode in [Mode::Active, Mode::Eprt] {
        let mut j = job(server, mode, "f", Transfer::Get(out.clone()));
        j.announce = Some(Ipv4Addr::new(127, 0, 0, 2));
        ftp_client::run(&j).unwrap();
        assert_eq!(fs::read(&out).unwrap(), b"hello");
    }
    // Nobody at the server's address.
    let dead = TcpListener::bind("127.0.0.1:0").unwrap();
    let a = sock::v4(dead.local_addr().unwrap()).unwrap();
    drop(dead);
    let e = ftp_client::run(&job(a, Mode::Passive, "f", Transfer::Get(out))).unwrap_err();
    assert!(e.contains("connecting"), "{e}");
}

#[test]
fn ftp_several_transfers_in_one_session() {
    let root = TempDir::new();
    let local = TempDir::new();
    let server = ftp_server(&root);
    let a = content(100_001, 11);
    let b = content(5_003, 12);
    fs::write(root.0.join("a"), &a).unwrap();
    fs::write(root.0.join("b"), &b).unwrap();
    // Every mode, twice, files alternating, over one control connection.
    let mut j = job(server, Mode::Active, "a", Transfer::Get(local.0.join("0")));
    j.steps.clear();
    for (i, mode) in MODES.iter().chain(MODES.iter()).enumerate() {
        let f = if i % 2 == 0 { "a" } else { "b" };
        let spec = format!(
            "{}:{f}:{}",
            mode.command(),
            local.0.join(i.to_string()).display()
        );
        let s = Step::parse_get(&spec.to_ascii_lowercase()).unwrap();
        assert_eq!((s.mode, s.file.as_str()), (*mode, f), "{spec}");
        j.steps.push(s);
    }
    let n = ftp_client::run(&j).unwrap();
    assert_eq!(n, 4 * (a.len() + b.len()) as u64);
    for i in 0..8 {
        let want = if i % 2 == 0 { &a } else { &b };
        assert_eq!(&fs::read(local.0.join(i.to_string())).unwrap(), want, "{i}");
    }

    // A failure names its transfer; the ones before it were done.
    j.steps = vec![
        step(Mode::Eprt, "b", Transfer::Get(local.0.join("x"))),
        step(Mode::Epsv, "nope", Transfer::Get(local.0.join("y"))),
    ];
    let e = ftp_client::run(&j).unwrap_err();
    assert!(e.starts_with("transfer 2 of 2 (EPSV nope): "), "{e}");
    assert!(e.contains("550"), "{e}");
    assert_eq!(fs::read(local.0.join("x")).unwrap(), b);
    j.steps.clear();
    assert!(ftp_client::run(&j).is_err());
}

#[test]
fn ftp_get_steps_parse() {
    let s = Step::parse_get("port:dir/f:/tmp/a:b").unwrap();
    assert_eq!(s.mode, Mode::Active);
    assert_eq!(s.file, "dir/f");
    assert!(matches!(s.transfer, Transfer::Get(ref p) if p == &PathBuf::from("/tmp/a:b")));
    assert_eq!(Step::parse_get("epsv:f:o").unwrap().mode, Mode::Epsv);
    for bad in [
        "",
        "active",
        "active:f",
        "active::o",
        "active:f:",
        "bogus:f:o",
    ] {
        assert!(Step::parse_get(bad).is_err(), "{bad:?}");
    }
}

/// A session whose server never answers QUIT fails, the transfer done.
#[test]
fn ftp_quit_must_be_answered() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let server = sock::v4(l.local_addr().unwrap()).unwrap();
    thread::spawn(move || {
        let (s, _) = l.accept().unwrap();
        let mut w = s.try_clone().unwrap();
        let mut r = BufReader::new(s);
        w.write_all(b"220 hi\r\n").unwrap();
        let mut data = None;
        while let Some(line) = proto::read_line(&mut r).unwrap() {
            let verb = line.split(' ').next().unwrap_or("").to_ascii_uppercase();
            match verb.as_str() {
                "USER" => w.write_all(b"230 in\r\n").unwrap(),
                "TYPE" => w.write_all(b"200 ok\r\n").unwrap(),
                "EPSV" => {
                    let d = TcpListener::bind("127.0.0.1:0").unwrap();
                    let p = d.local_addr().unwrap().port();
                    data = Some(d);
                    w.write_all(format!("229 ok (|||{p}|)\r\n").as_bytes())
                        .unwrap();
                }
                "RETR" => {
                    let (mut d, _) = data.take().unwrap().accept().unwrap();
                    w.write_all(b"150 here\r\n").unwrap();
                    d.write_all(b"data").unwrap();
                    drop(d);
                    w.write_all(b"226 done\r\n").unwrap();
                }
                // QUIT: closed without an answer.
                _ => return,
            }
        }
    });
    let local = TempDir::new();
    let out = local.0.join("out");
    let e = ftp_client::run(&job(server, Mode::Epsv, "f", Transfer::Get(out.clone()))).unwrap_err();
    assert!(e.contains("QUIT"), "{e}");
    assert_eq!(fs::read(&out).unwrap(), b"data");
}

/// A raw control connection.
struct Raw {
    r: BufReader<TcpStream>,
    w: TcpStream,
}

impl Raw {
    fn new(server: SocketAddrV4) -> Raw {
        let s = TcpStream::connect(server).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut raw = Raw {
            r: BufReader::new(s.try_clone().unwrap()),
            w: s,
        };
        assert_eq!(raw.reply().0, 220);
        raw
    }

    fn reply(&mut self) -> (u16, String) {
        proto::read_reply(&mut self.r).unwrap()
    }

    fn cmd(&mut self, line: &str) -> (u16, String) {
        self.w.write_all(format!("{line}\r\n").as_bytes()).unwrap();
        self.reply()
    }
}

#[test]
fn ftp_commands() {
    let root = TempDir::new();
    let server = ftp_server(&root);
    fs::create_dir(root.0.join("pub")).unwrap();
    fs::write(root.0.join("pub/a"), b"12345").unwrap();
    fs::write(root.0.join("b"), b"").unwrap();
    let mut c = Raw::new(server);
    assert_eq!(c.cmd("user me").0, 331);
    assert_eq!(c.cmd("PASS secret").0, 230);
    assert_eq!(c.cmd("SYST").0, 215);
    assert_eq!(c.cmd("TYPE I").0, 200);
    assert_eq!(c.cmd("TYPE X").0, 504);
    assert_eq!(c.cmd("FEAT").0, 211);
    assert_eq!(c.cmd("PWD"), (257, "\"/\" is the current directory".into()));
    assert_eq!(c.cmd("CWD nope").0, 550);
    assert_eq!(c.cmd("CWD b").0, 550);
    assert_eq!(c.cmd("CWD pub").0, 250);
    assert_eq!(c.cmd("PWD").1, "\"/pub\" is the current directory");
    assert_eq!(c.cmd("SIZE a"), (213, "5".into()));
    assert_eq!(c.cmd("SIZE ../b"), (213, "0".into()));
    assert_eq!(c.cmd("SIZE /pub"), (550, "Could not get file size".into()));
    assert_eq!(c.cmd("CDUP").0, 250);
    assert_eq!(c.cmd("CDUP").0, 250);
    assert_eq!(c.cmd("PWD").1, "\"/\" is the current directory");
    assert_eq!(c.cmd("PORT 1,2,3").0, 501);
    assert_eq!(c.cmd("PORT 127,0,0,1,0,0").0, 501);
    assert_eq!(c.cmd("EPRT |2|::1|5000|").0, 522);
    assert_eq!(c.cmd("EPRT |1|127.0.0.1|0|").0, 501);
    assert_eq!(c.cmd("EPSV 2").0, 522);
    // No data connection asked for.
    assert_eq!(c.cmd("RETR b").0, 425);
    assert_eq!(c.cmd("BOGUS").0, 502);

    // LIST and NLST through PASV.
    let (code, text) = c.cmd("PASV");
    assert_eq!(code, 227);
    let a = proto::parse_pasv_reply(&text).unwrap();
    let mut d = TcpStream::connect(a).unwrap();
    assert_eq!(c.cmd("LIST -l").0, 150);
    let mut listing = String::new();
    std::io::Read::read_to_string(&mut d, &mut listing).unwrap();
    assert_eq!(c.reply().0, 226);
    let lines: Vec<&str> = listing.lines().collect();
    assert_eq!(lines.len(), 2, "{listing}");
    assert!(
        lines[0].starts_with("-rw-r--r-- ") && lines[0].ends_with(" b"),
        "{listing}"
    );
    assert!(
        lines[1].starts_with("drwxr-xr-x ") && lines[1].ends_with(" pub"),
        "{listing}"
    );
    let (code, text) = c.cmd("EPSV");
    assert_eq!(code, 229);
    let port = proto::parse_epsv_reply(&text).unwrap();
    let mut d = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap();
    assert_eq!(c.cmd("NLST pub").0, 150);
    let mut names = String::new();
    std::io::Read::read_to_string(&mut d, &mut names).unwrap();
    assert_eq!(c.reply().0, 226);
    assert_eq!(names, "a\r\n");

    // PORT to where nobody listens: 425, the session goes on.
    let dead = TcpListener::bind("127.0.0.1:0").unwrap();
    let a = sock::v4(dead.local_addr().unwrap()).unwrap();
    drop(dead);
    assert_eq!(c.cmd(&format!("PORT {}", proto::format_hostport(a))).0, 200);
    assert_eq!(c.cmd("RETR b").0, 425);
    assert_eq!(c.cmd("NOOP").0, 200);
    assert_eq!(c.cmd("QUIT").0, 221);
}

fn tftp_server(root: &TempDir) -> SocketAddrV4 {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    let a = sock::v4(s.local_addr().unwrap()).unwrap();
    let config = tftp::Config {
        root: root.0.clone(),
        bind: Ipv4Addr::LOCALHOST,
        retry: Duration::from_millis(300),
        verbose: false,
    };
    thread::spawn(move || tftp::serve(s, config));
    a
}

fn tftp_job(server: SocketAddrV4, file: &str, put: bool, local: PathBuf) -> tftp::Job {
    tftp::Job {
        server,
        file: file.to_string(),
        put,
        local,
        retry: Duration::from_millis(300),
    }
}

#[test]
fn tftp_get_and_put() {
    let root = TempDir::new();
    let local = TempDir::new();
    let server = tftp_server(&root);
    for (i, n) in [0, 1, 511, 512, 513, 1024, 300_007].into_iter().enumerate() {
        let data = content(n, i as u32);
        let name = format!("f{n}");
        fs::write(root.0.join(&name), &data).unwrap();
        let out = local.0.join(&name);
        let got = tftp::client(&tftp_job(server, &name, false, out.clone())).unwrap();
        assert_eq!(got, n as u64);
        assert_eq!(fs::read(&out).unwrap(), data, "{n}");

        let up = content(n, i as u32 + 100);
        let src = local.0.join("up");
        fs::write(&src, &up).unwrap();
        let put = format!("up{n}");
        assert_eq!(
            tftp::client(&tftp_job(server, &put, true, src)).unwrap(),
            n as u64
        );
        // The server writes the last block after its ACK: wait for it.
        let mut ok = false;
        for _ in 0..100 {
            if fs::read(root.0.join(&put)).is_ok_and(|b| b == up) {
                ok = true;
                break;
            }
            thread::sleep(Duration::from_millis(10));
        }
        assert!(ok, "{n}");
    }
    let e = tftp::client(&tftp_job(server, "missing", false, local.0.join("x"))).unwrap_err();
    assert!(e.to_string().contains("error 1"), "{e}");
    // Nobody there: the client gives up.
    let dead = UdpSocket::bind("127.0.0.1:0").unwrap();
    let a = sock::v4(dead.local_addr().unwrap()).unwrap();
    drop(dead);
    assert!(tftp::client(&tftp_job(a, "f1", false, local.0.join("x"))).is_err());
}

#[test]
fn tftp_answers_from_a_new_port() {
    let root = TempDir::new();
    let server = tftp_server(&root);
    fs::write(root.0.join("f"), b"abc").unwrap();
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    s.send_to(&tftp::request(false, "f"), server).unwrap();
    let mut buf = [0u8; 600];
    let (n, from) = s.recv_from(&mut buf).unwrap();
    assert_ne!(from.port(), server.port());
    assert_eq!(
        tftp::Packet::parse(&buf[..n]),
        Some(tftp::Packet::Data {
            block: 1,
            data: b"abc"
        })
    );
    s.send_to(&tftp::ack(1), from).unwrap();
    // Above the root is the root.
    s.send_to(&tftp::request(false, "../../f"), server).unwrap();
    let (n, _) = s.recv_from(&mut buf).unwrap();
    assert_eq!(
        tftp::Packet::parse(&buf[..n]),
        Some(tftp::Packet::Data {
            block: 1,
            data: b"abc"
        })
    );
}

#[test]
fn tftp_packets() {
    use tftp::Packet;
    assert_eq!(
        Packet::parse(b"\0\x01file\0octet\0blksize\x001024\0"),
        Some(Packet::Request {
            write: false,
            file: "file".into(),
            mode: "octet".into()
        })
    );
    assert_eq!(
        Packet::parse(&tftp::request(true, "a/b")),
        Some(Packet::Request {
            write: true,
            file: "a/b".into(),
            mode: "octet".into()
        })
    );
    assert_eq!(Packet::parse(b"\0\x01file"), None);
    assert_eq!(Packet::parse(b"\0\x01file\0octet"), None);
    assert_eq!(Packet::parse(&tftp::ack(7)), Some(Packet::Ack { block: 7 }));
    assert_eq!(
        Packet::parse(&tftp::data(9, b"xy")),
        Some(Packet::Data {
            block: 9,
            data: b"xy"
        })
    );
    assert_eq!(
        Packet::parse(&tftp::error(1, "nf")),
        Some(Packet::Error {
            code: 1,
            message: "nf".into()
        })
    );
    assert_eq!(
        Packet::parse(b"\0\x05\0\x01"),
        Some(Packet::Error {
            code: 1,
            message: String::new()
        })
    );
    for bad in [
        &b""[..],
        b"\0",
        b"\0\x03\0",
        b"\0\x04",
        b"\0\x06abc",
        b"\x01\x01",
    ] {
        assert_eq!(Packet::parse(bad), None, "{bad:?}");
    }
}

/// Echo servers (UDP on 0.0.0.0, TCP on 127.0.0.1) with `config`: their
/// ports.
fn echo_servers(config: echo::Config) -> (u16, SocketAddrV4) {
    let u = UdpSocket::bind("0.0.0.0:0").unwrap();
    let uport = u.local_addr().unwrap().port();
    let t = TcpListener::bind("127.0.0.1:0").unwrap();
    let ta = sock::v4(t.local_addr().unwrap()).unwrap();
    let c = config.clone();
    thread::spawn(move || echo::serve_udp(u, &c));
    thread::spawn(move || echo::serve_tcp(t, &config));
    (uport, ta)
}

fn echo_job(server: SocketAddrV4, tcp: bool, data: &[u8]) -> echo::Job {
    echo::Job {
        server,
        tcp,
        local: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0),
        data: data.to_vec(),
        connect: false,
        timeout: Duration::from_secs(2),
    }
}

fn tagged() -> echo::Config {
    echo::Config {
        tag: Some("srv".into()),
        peer: true,
        verbose: false,
        sink: false,
    }
}

#[test]
fn echo_names_tag_and_peer() {
    let (uport, tcp) = echo_servers(tagged());
    let udp = SocketAddrV4::new(Ipv4Addr::LOCALHOST, uport);
    let a = echo::exchange(&echo_job(udp, false, b"hi there")).unwrap();
    assert_eq!(a.from, udp);
    assert_eq!(
        a.data,
        format!("srv 127.0.0.1:{} hi there", a.local.port()).into_bytes()
    );
    assert_eq!(
        a.line(),
        format!(
            "from={udp} local=0.0.0.0:{p} reply=srv 127.0.0.1:{p} hi there",
            p = a.local.port()
        )
    );
    // TCP: everything sent comes back, after the prefix.
    let big = content(50_000, 3);
    let a = echo::exchange(&echo_job(tcp, true, &big)).unwrap();
    assert_eq!(a.from, tcp);
    let prefix = format!("srv {} ", a.local);
    assert_eq!(&a.data[..prefix.len()], prefix.as_bytes());
    assert_eq!(&a.data[prefix.len()..], &big[..]);
    // Nothing asked for: a plain echo.
    let (uport, tcp) = echo_servers(echo::Config::default());
    let udp = SocketAddrV4::new(Ipv4Addr::LOCALHOST, uport);
    assert_eq!(
        echo::exchange(&echo_job(udp, false, b"x")).unwrap().data,
        b"x"
    );
    assert_eq!(echo::exchange(&echo_job(tcp, true, b"")).unwrap().data, b"");
}

#[test]
fn echo_answers_from_the_address_asked() {
    let (uport, _) = echo_servers(tagged());
    // The server is bound to 0.0.0.0; asked at 127.0.0.2 it answers from
    // there (routing alone would pick 127.0.0.1).
    let to = SocketAddrV4::new(Ipv4Addr::new(127, 0, 0, 2), uport);
    let a = echo::exchange(&echo_job(to, false, b"q")).unwrap();
    assert_eq!(a.from, to);
    let mut j = echo_job(to, false, b"q");
    j.connect = true;
    assert_eq!(echo::exchange(&j).unwrap().from, to);
}

#[test]
fn echo_client_source_port_and_failures() {
    let (uport, tcp) = echo_servers(tagged());
    let udp = SocketAddrV4::new(Ipv4Addr::LOCALHOST, uport);
    let free = UdpSocket::bind("127.0.0.1:0").unwrap();
    let sport = free.local_addr().unwrap().port();
    drop(free);
    let mut j = echo_job(udp, false, b"s");
    j.local = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, sport);
    let a = echo::exchange(&j).unwrap();
    assert_eq!(a.local.port(), sport);
    assert_eq!(a.data, format!("srv 127.0.0.1:{sport} s").into_bytes());
    let free = TcpListener::bind("127.0.0.1:0").unwrap();
    let sport = free.local_addr().unwrap().port();
    drop(free);
    let mut j = echo_job(tcp, true, b"t");
    j.local = SocketAddrV4::new(Ipv4Addr::LOCALHOST, sport);
    assert_eq!(echo::exchange(&j).unwrap().local.port(), sport);

    // Nobody there: a connected UDP socket hears of the port unreachable,
    // an unconnected one times out, TCP is refused.
    let dead = UdpSocket::bind("127.0.0.1:0").unwrap();
    let to = sock::v4(dead.local_addr().unwrap()).unwrap();
    drop(dead);
    let mut j = echo_job(to, false, b"x");
    j.connect = true;
    let e = echo::exchange(&j).unwrap_err();
    assert!(e.contains("connection refused"), "{e}");
    j.connect = false;
    j.timeout = Duration::from_millis(300);
    let e = echo::exchange(&j).unwrap_err();
    assert!(e.contains("timed out"), "{e}");
    let dead = TcpListener::bind("127.0.0.1:0").unwrap();
    let to = sock::v4(dead.local_addr().unwrap()).unwrap();
    drop(dead);
    let e = echo::exchange(&echo_job(to, true, b"x")).unwrap_err();
    assert!(e.contains("connection refused"), "{e}");
}

fn many_job(server: SocketAddrV4, count: usize) -> echo::ManyJob {
    echo::ManyJob {
        server,
        count,
        timeout: Duration::from_secs(5),
        resend: Duration::from_millis(200),
    }
}

#[test]
fn many_sockets_each_get_their_own_answer() {
    let (uport, _) = echo_servers(tagged());
    let server = SocketAddrV4::new(Ipv4Addr::LOCALHOST, uport);
    let r = echo::many(&many_job(server, 300)).unwrap();
    assert_eq!(r.right(), 300, "{}", r.summary());
    assert_eq!(
        r.problems(Some(Ipv4Addr::LOCALHOST), 10),
        Vec::<String>::new()
    );
    assert!(
        r.summary()
            .contains("300 answered right, 0 wrong, 0 unanswered"),
        "{}",
        r.summary()
    );
    assert!(
        r.summary().contains("300 distinct peers for 300 named"),
        "{}",
        r.summary()
    );
    // Every peer the server named is the socket's own port.
    for (port, o) in &r.sockets {
        assert_eq!(
            *o,
            Outcome::Right(Some(SocketAddrV4::new(Ipv4Addr::LOCALHOST, *port)))
        );
    }
    // Expecting another address: each answer is a problem (ten shown).
    let p = r.problems(Some(Ipv4Addr::new(10, 0, 2, 1)), 10);
    assert_eq!(p.len(), 11, "{p:?}");
    assert!(p[0].contains("the server saw it from 127.0.0.1:"), "{p:?}");
    assert_eq!(p[10], "... and 290 more from elsewhere");

    // A server that does not name the peer: the answers are right, the
    // peers cannot be checked.
    let (uport, _) = echo_servers(echo::Config::default());
    let server = SocketAddrV4::new(Ipv4Addr::LOCALHOST, uport);
    let r = echo::many(&many_job(server, 20)).unwrap();
    assert_eq!(r.right(), 20);
    assert!(r.problems(None, 10).is_empty());
    let p = r.problems(Some(Ipv4Addr::LOCALHOST), 10);
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(p[0].contains("only 0 of 20"), "{p:?}");
    assert!(r.summary().contains("did not name the peers"));
}

/// A UDP server on the loopback doing `answer(datagram, peer, n)` for the
/// n-th datagram: what to send, and to whom.
fn odd_server(
    answer: impl Fn(&[u8], SocketAddr, usize) -> Option<(Vec<u8>, SocketAddr)> + Send + 'static,
) -> SocketAddrV4 {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    let a = sock::v4(s.local_addr().unwrap()).unwrap();
    thread::spawn(move || {
        let mut buf = [0u8; 1500];
        for n in 0.. {
            let Ok((len, peer)) = s.recv_from(&mut buf) else {
                return;
            };
            if let Some((data, to)) = answer(&buf[..len], peer, n) {
                let _ = s.send_to(&data, to);
            }
        }
    });
    a
}

#[test]
fn many_finds_lost_crossed_and_shared_answers() {
    // Every third socket's datagrams are dropped.
    let server = odd_server(|d, peer, _| {
        let i: usize = String::from_utf8_lossy(d).split(' ').nth(1)?.parse().ok()?;
        (!i.is_multiple_of(3)).then(|| (d.to_vec(), peer))
    });
    let mut j = many_job(server, 30);
    j.timeout = Duration::from_millis(700);
    let r = echo::many(&j).unwrap();
    assert_eq!(r.right(), 20, "{}", r.summary());
    assert!(r.rounds >= 2, "{}", r.summary());
    assert!(r.sent >= 40, "{}", r.summary());
    let p = r.problems(None, 4);
    assert_eq!(p.len(), 5, "{p:?}");
    assert!(p[0].ends_with(": no answer"), "{p:?}");
    assert_eq!(p[4], "... and 6 more unanswered");

    // Answers to the wrong socket: each gets another's data.
    let last = std::sync::Mutex::new(None::<SocketAddr>);
    let server = odd_server(move |d, peer, _| {
        let mut l = last.lock().unwrap();
        let to = l.replace(peer)?;
        Some((d.to_vec(), to))
    });
    let mut j = many_job(server, 10);
    j.timeout = Duration::from_millis(500);
    let r = echo::many(&j).unwrap();
    // (The last one of a round is answered by its own resend.)
    assert!(r.right() <= 1, "{}", r.summary());
    let crossed = r
        .sockets
        .iter()
        .filter(|(_, o)| matches!(o, Outcome::Wrong(w) if w.contains("many ")))
        .count();
    assert!(crossed >= 9, "{:?}", r.sockets);
    assert!(r.summary().contains(" wrong,"), "{}", r.summary());
    assert!(!r.problems(None, 10).is_empty());

    // A server that says it saw the same peer every time (a NAT mapping
    // everyone to one port).
    let server = odd_server(|d, peer, _| Some(([&b"10.0.2.1:9999 "[..], d].concat(), peer)));
    let r = echo::many(&many_job(server, 5)).unwrap();
    assert_eq!(r.right(), 5);
    let p = r.problems(Some(Ipv4Addr::new(10, 0, 2, 1)), 10);
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(
        p[0].starts_with("the server saw 10.0.2.1:9999 for sockets ["),
        "{p:?}"
    );
    assert!(
        r.summary().contains("1 distinct peers for 5 named"),
        "{}",
        r.summary()
    );
}

#[test]
fn many_judges_answers() {
    let server = SocketAddrV4::new(Ipv4Addr::new(10, 0, 2, 2), 7);
    let from = SocketAddr::V4(server);
    let sent = echo::many_payload(4, 99);
    assert_eq!(sent, b"many 4 99");
    assert_eq!(
        echo::judge(server, &sent, from, b"many 4 99"),
        Outcome::Right(None)
    );
    assert_eq!(
        echo::judge(server, &sent, from, b"tag 10.0.2.1:4000 many 4 99"),
        Outcome::Right(Some("10.0.2.1:4000".parse().unwrap()))
    );
    assert_eq!(
        echo::judge(server, &sent, from, b"tag many 4 99"),
        Outcome::Right(None)
    );
    assert!(matches!(
        echo::judge(server, &sent, from, b"many 14 99"),
        Outcome::Wrong(_)
    ));
    assert!(matches!(
        echo::judge(server, &sent, from, b"xmany 4 99"),
        Outcome::Wrong(_)
    ));
    assert_eq!(
        echo::judge(server, &sent, "10.0.2.2:8".parse().unwrap(), b"many 4 99"),
        Outcome::Wrong("an answer from 10.0.2.2:8".into())
    );
}

#[test]
fn flow_to_a_sink() {
    // The sink answers nothing.
    let sink = echo::Config {
        sink: true,
        ..tagged()
    };
    let (uport, _) = echo_servers(sink);
    let to = SocketAddrV4::new(Ipv4Addr::LOCALHOST, uport);
    let mut j = echo_job(to, false, b"anyone?");
    j.timeout = Duration::from_millis(300);
    let e = echo::exchange(&j).unwrap_err();
    assert!(e.contains("timed out"), "{e}");

    // The flow: numbered datagrams from one port, paced.
    let r = UdpSocket::bind("127.0.0.1:0").unwrap();
    r.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let free = UdpSocket::bind("127.0.0.1:0").unwrap();
    let sport = free.local_addr().unwrap().port();
    drop(free);
    let job = echo::FlowJob {
        server: sock::v4(r.local_addr().unwrap()).unwrap(),
        local: SocketAddrV4::new(Ipv4Addr::LOCALHOST, sport),
        count: 10,
        interval: Duration::from_millis(30),
        data: "f".into(),
    };
    let rep = echo::flow(&job).unwrap();
    assert_eq!((rep.sent, rep.failed.len()), (10, 0));
    assert_eq!(rep.local, SocketAddrV4::new(Ipv4Addr::LOCALHOST, sport));
    assert!(
        rep.elapsed >= Duration::from_millis(270),
        "{:?}",
        rep.elapsed
    );
    let mut buf = [0u8; 64];
    for i in 0..10 {
        let (n, from) = r.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], format!("f {i}").as_bytes());
        assert_eq!(from.port(), sport);
    }
    assert!(rep
        .summary(&job)
        .contains(": 10 datagrams every 0.030 s: 10 sent, 0 not sent, "));
}

fn args(s: &str) -> Vec<String> {
    s.split_whitespace().map(String::from).collect()
}

#[test]
fn options_repeated_and_checked() {
    let o = crate::options(
        &args("--get a --port=1 --get=b -v --get c --port 2"),
        &["get", "port"],
        &["verbose"],
    )
    .unwrap();
    assert_eq!(o.all("get"), ["a", "b", "c"]);
    assert_eq!(o.0.get("port").map(String::as_str), Some("2"));
    assert!(o.flag("verbose"));
    assert!(o.all("nope").is_empty());
    // ftp-get: --get is for downloads, and instead of --mode, --file, --out.
    for (cmd, want) in [
        (
            "ftp-get --server 127.0.0.1 --get active:f:o --mode active",
            "--mode does not go with --get",
        ),
        (
            "ftp-get --server 127.0.0.1 --get active:f:o --out o",
            "--out does not go with --get",
        ),
        ("ftp-get --server 127.0.0.1 --get act:f:o", "unknown mode"),
        ("ftp-get --get active:f:o", "--server is required"),
        (
            "ftp-put --server 127.0.0.1 --get active:f:o",
            "unknown option --get",
        ),
        ("echo --sink", "--sink is for --proto udp"),
        ("udp-flow --server 127.0.0.1 --count 0", "--count"),
    ] {
        let e = crate::run(&args(cmd)).unwrap_err();
        assert!(e.contains(want), "{cmd}: {e}");
    }
}
