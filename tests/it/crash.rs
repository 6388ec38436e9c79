//! Crash injection: `append` and `import` are failed or killed at
//! every file-system operation they make (through the `MINHBACH_FAULT` test
//! hook of `src/ledger/fault.rs`) and at random moments (`kill -9` after a
//! seeded random delay). After each: `verify` passes, or says to run
//! `minhbach recover` and `recover` makes it pass; the ledger is then byte for
//! byte what it was before the command or what the command would have made
//! (so no signed entry was lost or changed); and the next append works.
//!
//! `MINHBACH_CRASH_KILLS` sets the number of `kill -9`s per scenario (40 by
//! default, 160 in all, to keep CI's run short; with 250, RELIABILITY.md
//! records 1,000 kills on top of the 320 injected faults),
//! `MINHBACH_CRASH_SEED` the seed of their delays (7 by default).

use crate::common;

use common::TestPortal;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

type Snapshot = BTreeMap<PathBuf, Vec<u8>>;

/// One command under test: its arguments (run in the portal) and the input
/// files it reads, written into the portal before each run.
struct Scenario {
    name: &'static str,
    args: Vec<String>,
    files: Vec<(&'static str, Vec<u8>)>,
}

/// The four commands the issue names: a plain append, an append bringing a
/// photo, a multi-entry append and an import.
fn scenarios(portal: &TestPortal) -> Vec<Scenario> {
    let key = portal.officer_key.to_str().unwrap().to_string();
    let append = |file: &str| vec!["append".into(), "--key".into(), key.clone(), file.into()];
    let donation = |reference: &str, amount: u64| {
        format!(
            r#"{{"kind":"donation","fund":"bao-so-5","donor":"Trần Thị Bình","amount":{amount},"date":"2025-09-13","channel":"bank","ref":"{reference}"}}"#
        ) + "\n"
    };
    let many: String = (0..40)
        .map(|i| donation(&format!("MULTI{i:03}"), 1000 + i))
        .collect();
    let csv: String = std::iter::once("date,ref,amount,donor\n".to_string())
        .chain((0..20).map(|i| format!("13/09/2025,IMP{i:03},{},Nguyễn Văn An\n", 50_000 + i)))
        .collect();
    let progress = r#"{"kind":"progress","household":"qt-0001","date":"2025-09-15","stage":"started","photos":[{"file":"anh-truoc.jpg","caption":"Trước khi sửa"}]}"#;
    vec![
        Scenario {
            name: "plain append",
            args: append("plain.jsonl"),
            files: vec![("plain.jsonl", donation("PLAIN001", 250_000).into_bytes())],
        },
        Scenario {
            name: "append with a photo",
            args: append("photo.jsonl"),
            files: vec![
                ("photo.jsonl", format!("{progress}\n").into_bytes()),
                ("anh-truoc.jpg", small_jpeg()),
            ],
        },
        Scenario {
            name: "multi-entry append",
            args: append("many.jsonl"),
            files: vec![("many.jsonl", many.into_bytes())],
        },
        Scenario {
            name: "import",
            args: vec![
                "import".into(),
                "donations".into(),
                "sao-ke.csv".into(),
                "--fund".into(),
                "bao-so-5".into(),
                "--key".into(),
                key.clone(),
            ],
            files: vec![("sao-ke.csv", csv.into_bytes())],
        },
    ]
}

/// A small real JPEG: `append` decodes photos as the build will.
fn small_jpeg() -> Vec<u8> {
    let image = image::RgbImage::from_fn(64, 48, |x, y| {
        image::Rgb([(x * 4) as u8, (y * 5) as u8, 90])
    });
    let mut bytes = std::io::Cursor::new(Vec::new());
    image
        .write_to(&mut bytes, image::ImageFormat::Jpeg)
        .unwrap();
    bytes.into_inner()
}

/// A portal with SAMPLE appended: its ledger is put back before each run.
struct Bench {
    portal: TestPortal,
    baseline: Snapshot,
    /// The binary, linked (or copied) once, so a long run keeps testing
    /// the same build even if `target/` is rebuilt meanwhile.
    binary: PathBuf,
}

impl Bench {
    fn new() -> Bench {
        let portal = TestPortal::new();
        portal.append(common::SAMPLE).assert().success();
        let baseline = portal.snapshot();
        let built = assert_cmd::cargo::cargo_bin("minhbach");
        let binary = portal.dir.path().join("minhbach");
        if std::fs::hard_link(&built, &binary).is_err() {
            std::fs::copy(&built, &binary).expect("copy the binary");
        }
        Bench {
            portal,
            baseline,
            binary,
        }
    }

    /// The binary run in the portal, with the fixed clock and no fault.
    fn binary(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.binary);
        command
            .current_dir(self.portal.root())
            .env("MINHBACH_TIME", common::TIME)
            .env_remove("MINHBACH_FAULT")
            .args(args)
            .stdin(Stdio::null());
        command
    }

    /// Puts `ledger/` back to `state`, byte for byte.
    fn restore(&self, state: &Snapshot) {
        let ledger = self.portal.ledger();
        std::fs::remove_dir_all(&ledger).expect("remove ledger");
        for (path, bytes) in state {
            let path = ledger.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, bytes).unwrap();
        }
    }

    /// Restores the baseline and writes the scenario's input files.
    fn prepare(&self, scenario: &Scenario) {
        self.restore(&self.baseline);
        for (name, bytes) in &scenario.files {
            std::fs::write(self.portal.root().join(name), bytes).unwrap();
        }
    }

    fn command(&self, scenario: &Scenario, fault: Option<&str>) -> Command {
        let args: Vec<&str> = scenario.args.iter().map(String::as_str).collect();
        let mut command = self.binary(&args);
        if let Some(fault) = fault {
            command.env("MINHBACH_FAULT", fault);
        }
        command
    }

    /// Runs the scenario without faults, logging its operations: the ledger
    /// it makes, the operations it does, and how long it took.
    fn reference(&self, scenario: &Scenario) -> Reference {
        self.prepare(scenario);
        let log = self.portal.dir.path().join("operations.log");
        let _ = std::fs::remove_file(&log);
        let started = Instant::now();
        let output = self
            .command(scenario, Some(&format!("log={}", log.display())))
            .output()
            .unwrap();
        let took = started.elapsed();
        assert_success(&output, scenario.name);
        let operations: Vec<String> = std::fs::read_to_string(&log)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
        let state = self.portal.snapshot();
        assert_signed_prefix_kept(&self.baseline, &state, scenario.name);
        Reference {
            state,
            operations,
            took,
        }
    }

    /// After an interrupted command: verify, recover if (and only if) verify
    /// says so, check what is left and that the next append works.
    fn check_after(&self, reference: &Reference, what: &str) -> Outcome {
        let verify = self.run(&["verify"]);
        let recovered = !verify.status.success();
        if recovered {
            let stderr = String::from_utf8_lossy(&verify.stderr);
            assert!(
                stderr.contains("run `minhbach recover`"),
                "{what}: verify failed without pointing to `minhbach recover`:\n{stderr}"
            );
            assert_success(&self.run(&["recover"]), &format!("{what}: recover"));
            assert_success(
                &self.run(&["verify"]),
                &format!("{what}: verify after recover"),
            );
        }
        let state = without_temporary(self.portal.snapshot());
        let outcome = if state == reference.state {
            Outcome::Complete
        } else if without_orphans(&state, &self.baseline, &reference.state) == self.baseline {
            Outcome::Unchanged
        } else {
            panic!(
                "{what}: the ledger is neither what it was nor what the command makes:\n{}",
                describe_difference(&state, &self.baseline, &reference.state)
            );
        };
        let next = self.portal.root().join("next.jsonl");
        std::fs::write(
            &next,
            r#"{"kind":"donation","fund":"bao-so-5","donor":"","amount":1000,"date":"2025-09-16","channel":"bank","ref":"NEXT0001"}"#,
        )
        .unwrap();
        let key = self.portal.officer_key.to_str().unwrap();
        let next = self
            .binary(&["append", "--key", key, "next.jsonl"])
            .output()
            .unwrap();
        assert_success(&next, &format!("{what}: the next append"));
        Outcome::record(outcome, recovered)
    }

    fn run(&self, args: &[&str]) -> Output {
        self.binary(args).output().unwrap()
    }
}

struct Reference {
    state: Snapshot,
    operations: Vec<String>,
    took: Duration,
}

/// Where an interrupted command left the ledger (after `recover` if needed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    /// As before the command, verify passing at once.
    Unchanged,
    /// As before, once `recover` removed an unsigned tail.
    RecoveredUnchanged,
    /// The whole batch signed and kept.
    Complete,
    /// The whole batch, once `recover` restored the latest checkpoint copy.
    RecoveredComplete,
}

impl Outcome {
    fn record(outcome: Outcome, recovered: bool) -> Outcome {
        match (outcome, recovered) {
            (Outcome::Unchanged, true) => Outcome::RecoveredUnchanged,
            (Outcome::Complete, true) => Outcome::RecoveredComplete,
            (outcome, _) => outcome,
        }
    }
}

/// Tallies outcomes for the summary printed at the end of a test.
#[derive(Default)]
struct Tally {
    runs: usize,
    outcomes: BTreeMap<Outcome, usize>,
}

impl Tally {
    fn add(&mut self, outcome: Outcome) {
        self.runs += 1;
        *self.outcomes.entry(outcome).or_default() += 1;
    }

    fn print(&self, what: &str) {
        println!("{what}: {} runs, outcomes {:?}", self.runs, self.outcomes);
    }
}

fn assert_success(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Every file of `before` is in `after`: segment files start with the same
/// bytes, every other file is identical (except the latest checkpoint copy).
fn assert_signed_prefix_kept(before: &Snapshot, after: &Snapshot, what: &str) {
    for (path, bytes) in before {
        let now = after
            .get(path)
            .unwrap_or_else(|| panic!("{what}: `{}` disappeared", path.display()));
        if path.starts_with("entries") {
            assert!(
                now.starts_with(bytes),
                "{what}: `{}` lost signed bytes",
                path.display()
            );
        } else if path != Path::new("checkpoint") {
            assert_eq!(now, bytes, "{what}: `{}` changed", path.display());
        }
    }
}

/// Leftover `*.tmp` files of an interrupted atomic write are ignored by
/// `verify` and removed by `recover` or overwritten by the next write.
fn without_temporary(state: Snapshot) -> Snapshot {
    state
        .into_iter()
        .filter(|(path, _)| path.extension().is_none_or(|ext| ext != "tmp"))
        .collect()
}

/// `state` without the media files the command writes before its entries
/// (content-addressed and unreferenced until the entries are signed, so a
/// crash in between may leave them, as `git` would a stray file).
fn without_orphans(state: &Snapshot, baseline: &Snapshot, reference: &Snapshot) -> Snapshot {
    state
        .iter()
        .filter(|(path, bytes)| {
            baseline.contains_key(*path)
                || !path.starts_with("media")
                || reference.get(*path) != Some(*bytes)
        })
        .map(|(path, bytes)| (path.clone(), bytes.clone()))
        .collect()
}

fn describe_difference(state: &Snapshot, baseline: &Snapshot, reference: &Snapshot) -> String {
    let mut lines = Vec::new();
    for path in state.keys().chain(baseline.keys()).chain(reference.keys()) {
        let (now, before, made) = (state.get(path), baseline.get(path), reference.get(path));
        if now != before || now != made {
            lines.push(format!(
                "`{}`: {} bytes now, {} before, {} in the reference run",
                path.display(),
                now.map_or(0, Vec::len),
                before.map_or(0, Vec::len),
                made.map_or(0, Vec::len)
            ));
        }
    }
    lines.dedup();
    lines.join("\n")
}

/// How the fault hook strikes.
#[derive(Clone, Copy, Debug)]
enum Mode {
    /// `fail=N`: one operation fails, the rollback runs.
    Fail,
    /// `fail-from=N`: that one and all after it fail, the rollback too.
    FailFrom,
    /// `crash=N`: the process aborts before the operation (mid-write for a
    /// write), as `kill -9` would.
    Crash,
}

impl Mode {
    fn spec(self, index: usize) -> String {
        match self {
            Mode::Fail => format!("fail={index}"),
            Mode::FailFrom => format!("fail-from={index}"),
            Mode::Crash => format!("crash={index}"),
        }
    }
}

/// Checks what a failing command said: an error naming a ledger file, the
/// truth about what was kept, and `recover` whenever the ledger needs it.
fn check_failure_message(output: &Output, mode: Mode, what: &str) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    match mode {
        Mode::Crash => {
            assert_eq!(
                output.status.signal(),
                Some(libc::SIGABRT),
                "{what}: the process was to abort:\n{stderr}"
            );
        }
        Mode::Fail | Mode::FailFrom => {
            assert_eq!(output.status.code(), Some(1), "{what}:\n{stderr}");
            assert!(
                stderr.contains("/ledger/") && stderr.contains("Input/output error"),
                "{what}: the error does not name the ledger file and the cause:\n{stderr}"
            );
        }
    }
    stderr
}

/// Fails or crashes every operation of every scenario in turn, in each mode.
#[test]
fn every_operation_of_append_and_import_can_fail_or_crash_without_losing_a_signed_entry() {
    let bench = Bench::new();
    let mut tally = Tally::default();
    for scenario in scenarios(&bench.portal) {
        let reference = bench.reference(&scenario);
        let count = reference.operations.len();
        println!(
            "{}: {count} operations: {:?}",
            scenario.name, reference.operations
        );
        assert!(
            count >= 10,
            "{}: only {count} operations logged",
            scenario.name
        );
        for mode in [Mode::Fail, Mode::FailFrom, Mode::Crash] {
            for index in 1..=count {
                let what = format!(
                    "{}, {:?} at operation {index} ({})",
                    scenario.name,
                    mode,
                    reference.operations[index - 1]
                );
                bench.prepare(&scenario);
                let output = bench
                    .command(&scenario, Some(&mode.spec(index)))
                    .output()
                    .unwrap();
                let stderr = check_failure_message(&output, mode, &what);
                let outcome = bench.check_after(&reference, &what);
                let verified = matches!(outcome, Outcome::Unchanged | Outcome::Complete);
                if let Mode::Fail | Mode::FailFrom = mode {
                    check_told_the_truth(&stderr, outcome, verified, &what);
                }
                if let Mode::Fail = mode {
                    assert!(
                        matches!(
                            outcome,
                            Outcome::Unchanged | Outcome::Complete | Outcome::RecoveredComplete
                        ),
                        "{what}: a failed write was not rolled back: {outcome:?}"
                    );
                }
                tally.add(outcome);
            }
        }
    }
    tally.print("operations failed or crashed");
}

/// A failed command says "nothing was appended" only when the ledger is as
/// it was, says the entries were signed only when they were, and names
/// `minhbach recover` whenever verify needs it.
fn check_told_the_truth(stderr: &str, outcome: Outcome, verified: bool, what: &str) {
    let signed = stderr.contains("the entries were appended and signed");
    assert_eq!(
        signed,
        matches!(outcome, Outcome::Complete | Outcome::RecoveredComplete),
        "{what}: the message does not match the outcome {outcome:?}:\n{stderr}"
    );
    if !verified {
        assert!(
            stderr.contains("minhbach recover"),
            "{what}: the ledger needs `recover` but the error did not say so:\n{stderr}"
        );
    }
}

/// `kill -9` at seeded random moments, over the whole life of the command
/// (start-up, verifying, writing, after).
#[test]
fn kill_9_at_random_moments_never_loses_a_signed_entry() {
    let kills: usize = std::env::var("MINHBACH_CRASH_KILLS")
        .ok()
        .map(|v| v.parse().expect("MINHBACH_CRASH_KILLS is a number"))
        .unwrap_or(40);
    let seed: u64 = std::env::var("MINHBACH_CRASH_SEED")
        .ok()
        .map(|v| v.parse().expect("MINHBACH_CRASH_SEED is a number"))
        .unwrap_or(7);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let bench = Bench::new();
    let mut tally = Tally::default();
    for scenario in scenarios(&bench.portal) {
        let reference = bench.reference(&scenario);
        // Kill anywhere from the start to a little after a normal run ends.
        let window = (reference.took.as_micros() as u64 * 3 / 2).max(500);
        for kill in 0..kills {
            let delay = Duration::from_micros(rng.gen_range(0..window));
            let what = format!(
                "{}, kill {kill} after {delay:?} (seed {seed})",
                scenario.name
            );
            bench.prepare(&scenario);
            let mut child = bench
                .command(&scenario, None)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            std::thread::sleep(delay);
            let _ = child.kill();
            let status = child.wait().unwrap();
            assert!(
                status.success() || status.signal() == Some(libc::SIGKILL),
                "{what}: {status}"
            );
            tally.add(bench.check_after(&reference, &what));
        }
    }
    tally.print(&format!("kill -9 (seed {seed})"));
    assert!(tally.runs == kills * 4);
}

/// The errors a full disk, a read-only file system and a missing permission
/// give, with the text the kernel reports.
const DISK_ERRORS: [(&str, &str); 3] = [
    ("enospc", "No space left on device"),
    ("erofs", "Read-only file system"),
    ("eacces", "Permission denied"),
];

/// Injected at every operation of a plain append and of one bringing a
/// photo (root ignores file modes, so the hook gives the errors here; the
/// real ones follow in the next test).
#[test]
fn disk_full_read_only_and_denied_writes_name_the_file_and_change_nothing() {
    let bench = Bench::new();
    let mut runs = 0;
    for scenario in scenarios(&bench.portal).into_iter().take(2) {
        let reference = bench.reference(&scenario);
        for (error, text) in DISK_ERRORS {
            for index in 1..=reference.operations.len() {
                let what = format!(
                    "{}, {error} at operation {index} ({})",
                    scenario.name,
                    reference.operations[index - 1]
                );
                bench.prepare(&scenario);
                let output = bench
                    .command(&scenario, Some(&format!("fail={index},error={error}")))
                    .output()
                    .unwrap();
                let stderr = String::from_utf8_lossy(&output.stderr);
                assert_eq!(output.status.code(), Some(1), "{what}:\n{stderr}");
                assert!(
                    stderr.contains("`./ledger/") && stderr.contains(text),
                    "{what}: the error does not name the ledger file and say `{text}`:\n{stderr}"
                );
                if stderr.contains("the entries were appended and signed") {
                    // The checkpoint was signed before the failure: kept.
                    let outcome = bench.check_after(&reference, &what);
                    assert!(matches!(
                        outcome,
                        Outcome::Complete | Outcome::RecoveredComplete
                    ));
                } else {
                    assert_eq!(
                        bench.portal.snapshot(),
                        bench.baseline,
                        "{what}: the ledger changed"
                    );
                    assert_success(&bench.run(&["verify"]), &what);
                }
                runs += 1;
            }
        }
    }
    println!("{runs} injected disk-full, read-only and permission errors");
}

/// Runs a setup command (mount, chattr); its error says why it failed.
fn setup(program: &str, args: &[&std::ffi::OsStr]) -> Result<(), String> {
    let output = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("`{program}` cannot run: {e}"))?;
    match output.status.success() {
        true => Ok(()),
        false => Err(format!(
            "`{program}` failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )),
    }
}

/// Undoes a mount or a `chattr +i` when the test ends, even in a panic.
struct Cleanup(Vec<(&'static str, Vec<std::ffi::OsString>)>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for (program, args) in self.0.drain(..).rev() {
            let _ = Command::new(program).args(&args).output();
        }
    }
}

/// A real fault a case sets up: the file system state, and the text its
/// error must show.
struct RealCase {
    name: &'static str,
    error: &'static str,
}

/// `n` donations with references unique to `tag`.
fn donations(tag: &str, n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                r#"{{"kind":"donation","fund":"bao-so-5","donor":"Lê Văn Dũng","amount":{},"date":"2025-09-14","channel":"bank","ref":"{tag}{i:04}"}}"#,
                5000 + i
            ) + "\n"
        })
        .collect()
}

/// Appends `lines` to the portal at `root`, expecting the refusal `case`
/// describes with the ledger unchanged; returns the error text.
fn refused_append(
    portal: &TestPortal,
    root: &Path,
    lines: &str,
    case: &RealCase,
    uid: Option<u32>,
) -> String {
    let before = common::snapshot(&root.join("ledger"));
    let key = &portal.officer_key;
    let input = portal
        .dir
        .path()
        .join(format!("{}.jsonl", case.name.replace(' ', "-")));
    std::fs::write(&input, lines).unwrap();
    let mut command = Command::new(assert_cmd::cargo::cargo_bin("minhbach"));
    command
        .current_dir(root)
        .env("MINHBACH_TIME", common::TIME)
        .env_remove("MINHBACH_FAULT")
        .arg("append")
        .arg("--key")
        .arg(key)
        .arg(&input);
    if let Some(uid) = uid {
        std::os::unix::process::CommandExt::uid(&mut command, uid);
        std::os::unix::process::CommandExt::gid(&mut command, uid);
    }
    let output = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert_eq!(output.status.code(), Some(1), "{}:\n{stderr}", case.name);
    assert!(
        stderr.contains("/ledger/") && stderr.contains(case.error),
        "{}: the error does not name the ledger file and say `{}`:\n{stderr}",
        case.name,
        case.error
    );
    assert!(
        !stderr.contains("could not be undone"),
        "{}: nothing was written, yet the error asks for `recover`:\n{stderr}",
        case.name
    );
    assert_eq!(
        common::snapshot(&root.join("ledger")),
        before,
        "{}: the ledger changed",
        case.name
    );
    stderr
}

/// Sets up one real fault on a portal and appends into it: the error text,
/// or why the fault could not be set up.
type RealSetup = fn(&TestPortal) -> Result<String, String>;

/// The real thing, as far as this machine allows: a full tmpfs, a
/// read-only bind mount, `chattr +i` files and directories, and a user
/// without write permission. A case that cannot be set up (no root, no
/// `mount` in the container) is reported and, with
/// `MINHBACH_REAL_FAULTS=required`, fails the test.
#[test]
fn real_full_disk_read_only_mount_immutable_files_and_another_user() {
    let required = std::env::var("MINHBACH_REAL_FAULTS").is_ok_and(|v| v == "required");
    let cases: [(&str, RealSetup); 5] = [
        ("full tmpfs while writing the lines", full_tmpfs),
        ("read-only bind mount", read_only_mount),
        ("immutable segment file", immutable_segment),
        ("immutable checkpoints directory", immutable_checkpoints),
        ("another user without write permission", other_user),
    ];
    let mut skipped = Vec::new();
    for (name, case) in cases {
        let portal = TestPortal::new();
        portal.append(common::SAMPLE).assert().success();
        match case(&portal) {
            Ok(stderr) => println!("{name}: ran; the error was:\n{stderr}"),
            Err(why) => {
                println!("{name}: NOT RUN, {why} (the injected error test covers it)");
                skipped.push(format!("{name}: {why}"));
            }
        }
    }
    assert!(
        !required || skipped.is_empty(),
        "MINHBACH_REAL_FAULTS=required but these could not be set up:\n{}",
        skipped.join("\n")
    );
}

/// The portal copied onto a small tmpfs, filled but for 8 KiB; 200 lines do
/// not fit.
fn full_tmpfs(portal: &TestPortal) -> Result<String, String> {
    let mount = portal.dir.path().join("tmpfs");
    std::fs::create_dir(&mount).unwrap();
    setup(
        "mount",
        &[
            "-t".as_ref(),
            "tmpfs".as_ref(),
            "-o".as_ref(),
            "size=1m".as_ref(),
            "tmpfs".as_ref(),
            mount.as_os_str(),
        ],
    )?;
    let _cleanup = Cleanup(vec![("umount", vec![mount.clone().into()])]);
    let root = mount.join("portal");
    copy_dir(&portal.root(), &root);
    fill(&mount.join("filler"), 8192);
    let case = RealCase {
        name: "full tmpfs",
        error: "No space left on device",
    };
    let stderr = refused_append(portal, &root, &donations("FULL", 200), &case, None);
    std::fs::remove_file(mount.join("filler")).unwrap();
    let after = append_file(portal, &root, &donations("FULL", 200));
    assert!(
        after.status.success(),
        "once space is freed the append works"
    );
    Ok(stderr)
}

/// Fills a file system up, then frees `free` bytes.
fn fill(filler: &Path, free: u64) {
    use std::io::Write;
    let mut file = std::fs::File::create(filler).unwrap();
    let chunk = vec![0u8; 4096];
    while file.write_all(&chunk).is_ok() {}
    let length = file.metadata().unwrap().len();
    file.set_len(length.saturating_sub(free)).unwrap();
}

fn copy_dir(from: &Path, to: &Path) {
    for item in walkdir::WalkDir::new(from) {
        let item = item.unwrap();
        let target = to.join(item.path().strip_prefix(from).unwrap());
        if item.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(item.path(), &target).unwrap();
        }
    }
}

fn append_file(portal: &TestPortal, root: &Path, lines: &str) -> Output {
    let key = &portal.officer_key;
    let input = portal.dir.path().join("next.jsonl");
    std::fs::write(&input, lines).unwrap();
    Command::new(assert_cmd::cargo::cargo_bin("minhbach"))
        .current_dir(root)
        .env("MINHBACH_TIME", common::TIME)
        .env_remove("MINHBACH_FAULT")
        .arg("append")
        .arg("--key")
        .arg(key)
        .arg(&input)
        .output()
        .unwrap()
}

fn read_only_mount(portal: &TestPortal) -> Result<String, String> {
    let ledger = portal.ledger();
    setup(
        "mount",
        &["--bind".as_ref(), ledger.as_os_str(), ledger.as_os_str()],
    )?;
    let _cleanup = Cleanup(vec![("umount", vec![ledger.clone().into()])]);
    setup(
        "mount",
        &[
            "-o".as_ref(),
            "remount,ro,bind".as_ref(),
            ledger.as_os_str(),
        ],
    )?;
    let case = RealCase {
        name: "read-only",
        error: "Read-only file system",
    };
    let stderr = refused_append(portal, &portal.root(), &donations("RO", 3), &case, None);
    portal.run(&["verify"]).assert().success();
    Ok(stderr)
}

fn immutable_segment(portal: &TestPortal) -> Result<String, String> {
    immutable(portal, &portal.segment(), "IMMSEG")
}

/// The lines are written, then the checkpoint cannot be: the rollback must
/// cut them again.
fn immutable_checkpoints(portal: &TestPortal) -> Result<String, String> {
    immutable(portal, &portal.ledger().join("checkpoints"), "IMMCKP")
}

fn immutable(portal: &TestPortal, path: &Path, tag: &str) -> Result<String, String> {
    setup("chattr", &["+i".as_ref(), path.as_os_str()])?;
    let cleanup = Cleanup(vec![("chattr", vec!["-i".into(), path.into()])]);
    let case = RealCase {
        name: "immutable",
        error: "Operation not permitted",
    };
    let stderr = refused_append(portal, &portal.root(), &donations(tag, 3), &case, None);
    drop(cleanup);
    portal.append(&donations(tag, 3)).assert().success();
    Ok(stderr)
}

/// Run as `nobody` (uid 65534) on a ledger owned by root, mode 0644.
fn other_user(portal: &TestPortal) -> Result<String, String> {
    use std::os::unix::fs::PermissionsExt;
    if unsafe_euid() != 0 {
        return Err("not root, so it cannot run the binary as another user".into());
    }
    let open = std::fs::Permissions::from_mode(0o755);
    for dir in [
        portal.dir.path().to_path_buf(),
        portal.root(),
        portal.officer_key.parent().unwrap().to_path_buf(),
    ] {
        std::fs::set_permissions(&dir, open.clone()).unwrap();
    }
    // The officer owns the key and may read the portal secret, but not
    // write the ledger.
    std::fs::set_permissions(portal.root().join(".minhbach"), open.clone()).unwrap();
    for file in [
        portal.officer_key.clone(),
        portal.root().join(".minhbach/secret"),
    ] {
        std::os::unix::fs::chown(&file, Some(65534), Some(65534)).map_err(|e| e.to_string())?;
    }
    let case = RealCase {
        name: "another user",
        error: "Permission denied",
    };
    let stderr = refused_append(
        portal,
        &portal.root(),
        &donations("USER", 3),
        &case,
        Some(65534),
    );
    Ok(stderr)
}

/// The effective user id (root ignores file modes).
fn unsafe_euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// `recover` itself failed or crashed at each of its operations, on the two
/// states a crashed append leaves (an unsigned tail with a temporary
/// checkpoint, and a stale latest copy): run again, it finishes the repair,
/// and the rescued lines are all saved.
#[test]
fn an_interrupted_recover_finishes_when_run_again() {
    let bench = Bench::new();
    let scenario = scenarios(&bench.portal).remove(2);
    let reference = bench.reference(&scenario);
    let at = |wanted: &dyn Fn(&str) -> bool| {
        1 + reference
            .operations
            .iter()
            .position(|op| wanted(op))
            .expect("operation")
    };
    let torn_states = [
        (
            "an unsigned tail",
            at(&|op| op.contains(" rename ") && op.contains("/checkpoints/")),
        ),
        (
            "a stale checkpoint copy",
            at(&|op| op.ends_with(" rename ./ledger/checkpoint")),
        ),
    ];
    let rescue_dir = bench.portal.root().join(".minhbach");
    let mut runs = 0;
    for (torn, index) in torn_states {
        bench.prepare(&scenario);
        let output = bench
            .command(&scenario, Some(&format!("crash={index}")))
            .output()
            .unwrap();
        assert_eq!(output.status.signal(), Some(libc::SIGABRT), "{torn}");
        let torn_state = bench.portal.snapshot();
        let log = bench.portal.dir.path().join("recover.log");
        let _ = std::fs::remove_file(&log);
        let logged = bench
            .binary(&["recover"])
            .env("MINHBACH_FAULT", format!("log={}", log.display()))
            .output()
            .unwrap();
        assert_success(&logged, torn);
        let operations = std::fs::read_to_string(&log).unwrap().lines().count();
        for mode in [Mode::FailFrom, Mode::Crash] {
            for index in 1..=operations {
                let what = format!("recover from {torn}, {mode:?} at operation {index}");
                bench.restore(&torn_state);
                for file in rescue_files(&rescue_dir) {
                    std::fs::remove_file(file).unwrap();
                }
                let output = bench
                    .binary(&["recover"])
                    .env("MINHBACH_FAULT", mode.spec(index))
                    .output()
                    .unwrap();
                assert!(!output.status.success(), "{what}: recover did not fail");
                let outcome = bench.check_after(&reference, &what);
                if torn == "an unsigned tail" {
                    assert!(
                        matches!(outcome, Outcome::Unchanged | Outcome::RecoveredUnchanged),
                        "{what}: {outcome:?}"
                    );
                    assert_rescued(&rescue_dir, &scenario, &what);
                } else {
                    assert!(
                        matches!(outcome, Outcome::Complete | Outcome::RecoveredComplete),
                        "{what}: {outcome:?}"
                    );
                }
                runs += 1;
            }
        }
    }
    println!("{runs} interrupted recovers");
}

/// The `rescued-*` files `recover` wrote beside the portal secret.
fn rescue_files(rescue_dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(rescue_dir)
        .unwrap()
        .map(|item| item.unwrap().path())
        .filter(|path| {
            path.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("rescued-")
        })
        .collect()
}

/// Every line of the scenario's input is in the rescue files, once.
fn assert_rescued(rescue_dir: &Path, scenario: &Scenario, what: &str) {
    let rescued: String = rescue_files(rescue_dir)
        .into_iter()
        .map(|path| std::fs::read_to_string(path).unwrap())
        .collect();
    let input = String::from_utf8(scenario.files[0].1.clone()).unwrap();
    for line in input.lines() {
        let reference = line.split(r#""ref":""#).nth(1).unwrap();
        assert_eq!(
            rescued.matches(reference).count(),
            1,
            "{what}: the rescued lines do not hold `{reference}` once"
        );
    }
}

/// Regression (issue 7): `recover` cut a torn last line and wrote a rescue
/// file before finding that signed entries were missing, then refused; it
/// must refuse without changing anything.
#[test]
fn a_recover_that_refuses_changes_nothing() {
    let portal = TestPortal::new();
    portal.append(common::SAMPLE).assert().success();
    let text = std::fs::read_to_string(portal.segment()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let cut = lines.len() - 2;
    let torn = format!("{}\n{}", lines[..cut].join("\n"), &lines[cut][..20]);
    std::fs::write(portal.segment(), torn).unwrap();
    let before = portal.snapshot();
    portal
        .run(&["recover"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("signed entries were deleted"));
    assert_eq!(
        portal.snapshot(),
        before,
        "recover changed the ledger it refused to repair"
    );
    assert!(
        !portal
            .root()
            .join(".minhbach")
            .read_dir()
            .unwrap()
            .any(|item| {
                item.unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with("rescued-")
            })
    );
}

/// Regression (issue 7): two `recover`s within the same second (one rescue
/// file name) each keep their rescued lines; the second used to overwrite
/// the first.
#[test]
fn two_recovers_in_one_second_keep_both_rescues() {
    let bench = Bench::new();
    let mut all = scenarios(&bench.portal);
    let (plain, many) = (all.remove(0), all.remove(1));
    let rename = |reference: &Reference| {
        1 + reference
            .operations
            .iter()
            .position(|op| op.contains(" rename ") && op.contains("/checkpoints/"))
            .expect("the checkpoint rename")
    };
    for scenario in [&many, &plain] {
        let index = rename(&bench.reference(scenario));
        bench.prepare(scenario);
        let output = bench
            .command(scenario, Some(&format!("crash={index}")))
            .output()
            .unwrap();
        assert_eq!(
            output.status.signal(),
            Some(libc::SIGABRT),
            "{}",
            scenario.name
        );
        assert_success(&bench.run(&["recover"]), scenario.name);
    }
    let rescue_dir = bench.portal.root().join(".minhbach");
    assert_rescued(&rescue_dir, &many, "the first recover");
    assert_rescued(&rescue_dir, &plain, "the second recover");
}
