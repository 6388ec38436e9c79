//! Shared helpers for the integration tests: a fresh portal in a temporary
//! directory, driven through the real binary.
#![allow(dead_code)]

pub mod browser;
pub mod nginx;

use assert_cmd::Command;
use minhbach::site::routes;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A fixed clock for reproducible entry times.
pub const TIME: &str = "2025-09-12T08:00:00Z";

/// Stops a server the way a user's `kill`, a service manager or a shutdown
/// does (SIGTERM), so it removes what it made; kills it if it has not
/// stopped within 10 s (then `None`). A child already waited for is left.
pub fn stop(child: &mut std::process::Child) -> Option<std::process::ExitStatus> {
    if let Ok(Some(status)) = child.try_wait() {
        return Some(status);
    }
    let pid = i32::try_from(child.id()).expect("a pid fits");
    // SAFETY: signals our own child, not yet waited for, so its pid is ours.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::time::Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// The binary, with a fixed clock.
pub fn minhbach() -> Command {
    let mut command = Command::cargo_bin("minhbach").expect("binary built");
    command.env("MINHBACH_TIME", TIME);
    command
}

/// A portal made with `minhbach init`, plus an admitted officer key.
pub struct TestPortal {
    pub dir: tempfile::TempDir,
    pub admin_key: PathBuf,
    pub officer_key: PathBuf,
}

impl TestPortal {
    /// `init` + `key new` + `key add` for an officer named `canbo`.
    pub fn new() -> TestPortal {
        let dir = tempfile::tempdir().expect("temp dir");
        let keys = dir.path().join("keys");
        let admin_key = keys.join("admin.key");
        let officer_key = keys.join("canbo.key");
        minhbach()
            .arg("init")
            .arg(dir.path().join("portal"))
            .arg("--key")
            .arg(&admin_key)
            .args(["--origin", "test.minhbach.example/ledger"])
            .assert()
            .success();
        let portal = TestPortal {
            dir,
            admin_key,
            officer_key,
        };
        minhbach()
            .args(["key", "new", "--name", "canbo", "--out"])
            .arg(&portal.officer_key)
            .assert()
            .success();
        let vkey =
            std::fs::read_to_string(portal.officer_key.with_extension("key.pub")).expect("pub key");
        portal
            .run(&[
                "key",
                "add",
                "--key",
                portal.admin_key.to_str().unwrap(),
                "--name",
                "canbo",
                "--unit",
                "MTTQ xã Vĩnh Linh",
                vkey.trim(),
            ])
            .assert()
            .success();
        portal
    }

    pub fn root(&self) -> PathBuf {
        self.dir.path().join("portal")
    }

    pub fn ledger(&self) -> PathBuf {
        self.root().join("ledger")
    }

    /// The binary run inside the portal.
    pub fn run(&self, args: &[&str]) -> Command {
        let mut command = minhbach();
        command.current_dir(self.root()).args(args);
        command
    }

    /// `minhbach append --key <officer> -` with `lines` on standard input.
    pub fn append(&self, lines: &str) -> Command {
        let mut command = self.run(&["append", "--key", self.officer_key.to_str().unwrap(), "-"]);
        command.write_stdin(lines.to_string());
        command
    }

    /// Imports `csv` (a bank statement) into fund `bao-so-5` with the
    /// officer's key; asserts it succeeds.
    pub fn import_statement(&self, csv: &str) {
        let statement = self.dir.path().join("statement.csv");
        std::fs::write(&statement, csv).unwrap();
        let key = self.officer_key.to_str().unwrap();
        let statement = statement.to_str().unwrap();
        self.run(&[
            "import",
            "donations",
            statement,
            "--fund",
            "bao-so-5",
            "--key",
            key,
        ])
        .assert()
        .success();
    }

    /// Every file under `ledger/` with its bytes.
    pub fn snapshot(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        snapshot(&self.ledger())
    }

    /// The first segment file.
    pub fn segment(&self) -> PathBuf {
        self.ledger().join("entries/000000.jsonl")
    }
}

/// A page path (`routes::…`) as published in `language`: the Vietnamese
/// site at the root, the others below `/<language>` (`/en/quy/x/`).
pub fn page_in(language: &str, path: &str) -> String {
    if language == "vi" {
        path.to_string()
    } else {
        format!("/{language}{path}")
    }
}

/// The output file of a page path: `/ung-ho/` → `ung-ho/index.html`,
/// `/` → `index.html`.
pub fn page_file(path: &str) -> String {
    format!("{}index.html", routes::file_of(path))
}

/// The output folder that holds a group of pages, from a page path or the
/// path of one of its pages with an empty id (`routes::fund("")` → `quy`).
pub fn folder_of(path: &str) -> &str {
    path.trim_matches('/')
}

/// A file of the public log, relative to the output folder
/// (`checkpoint` → `ledger/checkpoint`).
pub fn log_file(name: &str) -> String {
    format!("{}{name}", routes::file_of(routes::LEDGER_DIR))
}

/// Part `number` (from 1) of the ledger download split into parts
/// (`du-lieu/so-cai.jsonl` → `du-lieu/so-cai.part-002.jsonl`).
pub fn download_part(number: usize) -> String {
    let stem = routes::DOWNLOAD_FILE
        .strip_suffix(".jsonl")
        .expect("the download is JSON lines");
    format!("{stem}.part-{number:03}.jsonl")
}

pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .map(|e| e.expect("walk"))
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            (
                e.path().strip_prefix(dir).unwrap().to_path_buf(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

/// A fund, a donation, a household, a disbursement and a progress entry.
pub const SAMPLE: &str = r#"{"kind":"fund","id":"bao-so-5","name":"Ủng hộ đồng bào bị thiệt hại do bão số 5","description":"Quỹ cứu trợ","account":{"bank_bin":"970415","number":"113000006100","holder":"UBMTTQ TINH QUANG TRI"}}
{"kind":"donation","fund":"bao-so-5","donor":"Nguyễn Văn An","amount":500000,"date":"2025-09-12","channel":"bank","ref":"FT25255001"}
{"kind":"donation","fund":"bao-so-5","donor":"","amount":2000000,"date":"2025-09-12","channel":"cash"}
{"kind":"household","id":"qt-0001","head":"Lê Thị Hoa","province":"Quảng Trị","commune":"xã Vĩnh Linh","circumstances":"Nhà sập do lũ","support":"repair","planned":30000000,"photo_consent":true,"citizen_id":"045190001234","phone":"0912345678"}
{"kind":"disbursement","fund":"bao-so-5","amount":1500000,"date":"2025-09-13","household":"qt-0001","purpose":"Tạm ứng sửa nhà"}
{"kind":"progress","household":"qt-0001","date":"2025-09-14","stage":"approved"}
"#;
