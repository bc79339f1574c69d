// SPDX-License-Identifier: GPL-2.0

//! Servers and clients against each other on the loopback.

use std::fs;
use std::io::{BufReader, Write};
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, TcpStream, UdpSocket};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::Duration;

use crate::ftp_client::{self, Mode, Transfer};
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

fn job(server: SocketAddrV4, mode: Mode, file: &str, transfer: Transfer) -> ftp_client::Job {
    ftp_client::Job {
        server,
        mode,
        file: file.to_string(),
        transfer,
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
