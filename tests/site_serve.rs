//! `minhbach serve`: localhost only, no path outside the site, live reload.

mod common;

use common::{SAMPLE, TestPortal};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn get(port: u16, path: &str) -> (String, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    (
        head.lines().next().unwrap_or("").to_string(),
        body.to_string(),
    )
}

#[test]
fn serve_previews_with_live_reload_and_stays_inside_the_site() {
    let portal = TestPortal::new();
    portal.append(SAMPLE).assert().success();
    let out = portal.dir.path().join("preview");
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("minhbach"))
        .current_dir(portal.root())
        .args(["serve", "--port", "0", "-o", out.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let port: u16 = line
        .split("127.0.0.1:")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .and_then(|port| port.parse().ok())
        .unwrap_or_else(|| panic!("no port in {line:?}"));

    let (status, body) = get(port, "/");
    assert!(status.contains("200"), "{status}");
    assert!(
        body.contains("/__minhbach/version"),
        "the reload script is injected"
    );
    let (status, _) = get(port, "/quy/bao-so-5/");
    assert!(status.contains("200"), "{status}");
    for outside in [
        "/../config.toml",
        "/%2e%2e/config.toml",
        "/..%2f..%2fconfig.toml",
    ] {
        let (status, _) = get(port, outside);
        assert!(status.contains("404"), "{outside}: {status}");
    }
    let (_, first) = get(port, "/__minhbach/version");

    std::fs::write(
        portal.root().join("content/moi.md"),
        "+++\ntitle = \"Trang mới\"\n+++\nxin chào\n",
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, version) = get(port, "/__minhbach/version");
        if version != first {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no rebuild after a content change"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let (status, body) = get(port, "/moi/");
    assert!(
        status.contains("200") && body.contains("xin chào"),
        "{status}"
    );
    drop(server);
}
