//! Keys and secrets: private keys and the portal secret are never
//! printed, never copied into the site, refused inside published folders and
//! warned about when other users can read them; and a ledger forged with a
//! revoked key, with a key admitted by an officer, or with a checkpoint whose
//! valid signature covers the wrong root is rejected by `verify` with a
//! message that says exactly that.
//!
//! The forgeries are written straight into `ledger/` with the library's own
//! encoding and signing, as someone holding a key but bypassing `append`'s
//! checks would write them.

use crate::common;

use common::{SAMPLE, TestPortal, minhbach, page_file};
use minhbach::ledger::entry::{Body, Entry};
use minhbach::ledger::merkle;
use minhbach::ledger::note::{Checkpoint, SigningKey, sign_checkpoint};
use minhbach::site::routes;
use predicates::prelude::*;
use predicates::str::contains;
use std::path::Path;

const ORIGIN: &str = "test.minhbach.example/ledger";

/// Appends `bodies` to the ledger as one batch signed by `key` (read from
/// its file), with a checkpoint over `root` if given, else over the true root.
fn forge_batch(portal: &TestPortal, key_file: &Path, bodies: &[&str], root: Option<[u8; 32]>) {
    let key = SigningKey::parse(&std::fs::read_to_string(key_file).unwrap()).unwrap();
    let segment = portal.segment();
    let mut text = std::fs::read_to_string(&segment).unwrap();
    let mut size = text.lines().count() as u64;
    for body in bodies {
        let entry = Entry {
            seq: size,
            time: "2025-09-20T00:00:00Z".into(),
            signer: key.name().to_string(),
            body: serde_json::from_str::<Body>(body).unwrap(),
        };
        text.push_str(&entry.to_line());
        text.push('\n');
        size += 1;
    }
    let leaves: Vec<merkle::Hash> = text
        .lines()
        .map(|line| merkle::leaf_hash(line.as_bytes()))
        .collect();
    let checkpoint = Checkpoint {
        origin: ORIGIN.into(),
        size,
        root: root.unwrap_or_else(|| merkle::root(&leaves)),
    };
    let note = sign_checkpoint(&checkpoint, &key);
    std::fs::write(&segment, text).unwrap();
    std::fs::write(
        portal.ledger().join(format!("checkpoints/{size:012}")),
        &note,
    )
    .unwrap();
    std::fs::write(portal.ledger().join("checkpoint"), &note).unwrap();
}

const DONATION: &str = r#"{"kind":"donation","fund":"bao-so-5","donor":"Kẻ giả mạo","amount":900000000,"date":"2025-09-20","channel":"cash"}"#;

/// A portal with the sample entries; the officer `canbo` signed entries 2–7.
fn sample_portal() -> TestPortal {
    let portal = TestPortal::new();
    portal.append(SAMPLE).assert().success();
    portal
}

fn verify_fails_with(portal: &TestPortal, messages: &[&str]) {
    let mut assert = portal.run(&["verify"]).assert().code(1);
    for message in messages {
        assert = assert.stderr(contains(*message));
    }
}

#[test]
fn verify_rejects_a_batch_signed_by_a_revoked_key() {
    let portal = sample_portal();
    portal
        .run(&[
            "key",
            "revoke",
            "--key",
            portal.admin_key.to_str().unwrap(),
            "--reason",
            "Mất máy tính",
            "canbo",
        ])
        .assert()
        .success();
    // The revocation is entry 8; whoever holds the lost laptop signs entry 9.
    forge_batch(&portal, &portal.officer_key, &[DONATION], None);
    verify_fails_with(
        &portal,
        &["entry 9", "line 10", "key `canbo` was revoked at entry 8"],
    );
    // Nothing unverified is published.
    portal
        .run(&[
            "build",
            "-o",
            portal.dir.path().join("out").to_str().unwrap(),
        ])
        .assert()
        .code(1)
        .stderr(contains("key `canbo` was revoked at entry 8"));
    assert!(!portal.dir.path().join("out").exists());
}

#[test]
fn verify_rejects_a_key_admitted_by_an_officer() {
    let portal = sample_portal();
    let stranger = SigningKey::from_seed("stranger", [7; 32]).unwrap();
    let admit = format!(
        r#"{{"kind":"key","action":"admit","name":"stranger","unit":"x","role":"admin","vkey":"{}"}}"#,
        stranger.verifier_key()
    );
    forge_batch(&portal, &portal.officer_key, &[&admit], None);
    verify_fails_with(
        &portal,
        &[
            "entry 8",
            "only an administrator may admit or revoke keys; `canbo` is an officer",
        ],
    );
}

#[test]
fn verify_rejects_a_key_never_admitted() {
    let portal = sample_portal();
    let stranger = portal.dir.path().join("keys/stranger.key");
    std::fs::write(
        &stranger,
        SigningKey::from_seed("stranger", [7; 32])
            .unwrap()
            .to_file_text(),
    )
    .unwrap();
    forge_batch(&portal, &stranger, &[DONATION], None);
    verify_fails_with(
        &portal,
        &["entry 8", "key `stranger` has not been admitted"],
    );
}

#[test]
fn verify_rejects_a_valid_signature_over_the_wrong_root() {
    // The newest checkpoint: the entries are honest, the signed root is not.
    let portal = sample_portal();
    forge_batch(&portal, &portal.officer_key, &[DONATION], Some([7; 32]));
    verify_fails_with(
        &portal,
        &[
            "checkpoints/000000000009",
            "the root hash signed for tree size 9 does not match the entries",
            "the checkpoint is validly signed by `canbo`, but over another root",
        ],
    );
    // An older checkpoint of the history, re-signed by its own signer over
    // another root: caught although the newest one is right.
    let portal = sample_portal();
    let admin = SigningKey::parse(&std::fs::read_to_string(&portal.admin_key).unwrap()).unwrap();
    forge_history_checkpoint(&portal, &admin);
    verify_fails_with(
        &portal,
        &[
            "checkpoints/000000000002",
            "the root hash signed for tree size 2 does not match the entries",
            "validly signed by `admin`, but over another root",
        ],
    );
    // The same forgery signed by a key that is not the batch's signer: the
    // message says the file was replaced, not that the signer erred.
    let portal = sample_portal();
    forge_history_checkpoint(&portal, &SigningKey::generate("admin").unwrap());
    verify_fails_with(
        &portal,
        &[
            "checkpoints/000000000002",
            "the checkpoint was replaced: its root does not match entries",
            "not validly signed by `admin`",
        ],
    );
}

/// Replaces the history's checkpoint of size 2 with one signed by `key`
/// over a wrong root.
fn forge_history_checkpoint(portal: &TestPortal, key: &SigningKey) {
    let checkpoint = Checkpoint {
        origin: ORIGIN.into(),
        size: 2,
        root: [7; 32],
    };
    let forged = sign_checkpoint(&checkpoint, key);
    std::fs::write(portal.ledger().join("checkpoints/000000000002"), forged).unwrap();
}

/// The base64 key material of a key file `PRIVATE+KEY+<name>+<id>+<base64>`
/// (the base64 may itself hold `+`).
fn key_material(text: &str) -> String {
    text.trim().splitn(5, '+').nth(4).unwrap().to_string()
}

/// What must never be printed or published: each private key file's text
/// and its base64 key material, and the portal secret.
fn private_strings(portal: &TestPortal) -> Vec<String> {
    let mut strings = Vec::new();
    for key in [&portal.admin_key, &portal.officer_key] {
        let text = std::fs::read_to_string(key).unwrap();
        let text = text.trim().to_string();
        strings.push(key_material(&text));
        strings.push(text);
    }
    let secret = std::fs::read_to_string(portal.root().join(".minhbach/secret")).unwrap();
    strings.push(secret.trim().to_string());
    strings.push("PRIVATE+KEY".to_string());
    strings
}

#[test]
fn private_keys_and_the_secret_are_never_printed_or_published() {
    let portal = TestPortal::new();
    let officer = portal.officer_key.to_str().unwrap();
    let roster = portal.dir.path().join("danh-sach.csv");
    std::fs::write(
        &roster,
        "id,head,province,commune,circumstances,support,planned,citizen_id\nqt-0002,Lê Văn Ba,Quảng Trị,xã Cồn Tiên,Nhà dột,repair,30000000,045190009999\n",
    )
    .unwrap();
    let public = portal.dir.path().join("public");
    let mut outputs = Vec::new();
    let mut run = |args: &[&str], stdin: Option<&str>| {
        let mut command = portal.run(args);
        if let Some(stdin) = stdin {
            command.write_stdin(stdin.to_string());
        }
        let output = command.output().unwrap();
        assert!(
            output.status.success(),
            "`{}`: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        );
        outputs.push((args.join(" "), output.stdout));
        outputs.push((args.join(" "), output.stderr));
    };
    run(&["append", "--key", officer, "-"], Some(SAMPLE));
    run(
        &[
            "import",
            "households",
            roster.to_str().unwrap(),
            "--key",
            officer,
        ],
        None,
    );
    for args in [
        &["log"][..],
        &["show", "3"],
        &["balance"],
        &["key", "list"],
        &["verify"],
        &["prove", "3"],
        &["check"],
        &["build", "-v", "-o", public.to_str().unwrap()],
    ] {
        run(args, None);
    }
    assert!(
        public.join(page_file(routes::HOME)).is_file(),
        "the site was built"
    );
    let secrets = private_strings(&portal);
    for (command, bytes) in &outputs {
        let text = String::from_utf8_lossy(bytes);
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "`{command}` printed {secret:?}"
            );
        }
    }
    for (path, bytes) in common::snapshot(&public)
        .into_iter()
        .chain(common::snapshot(&portal.ledger()))
    {
        let text = String::from_utf8_lossy(&bytes);
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "`{}` holds {secret:?}",
                path.display()
            );
        }
        for private in ["045190001234", "045190009999", "0912345678"] {
            assert!(
                !text.contains(private),
                "`{}` holds {private}",
                path.display()
            );
        }
    }
    // `init` keeps the secret in `.minhbach/`, which git ignores.
    let ignored = std::fs::read_to_string(portal.root().join(".gitignore")).unwrap();
    assert!(
        ignored.lines().any(|line| line == "/.minhbach/"),
        "{ignored}"
    );
    // And what a build leaves beside `public/` (its manifest and the state
    // files of what a rebuild may extend).
    portal.run(&["build"]).assert().success();
    let beside: Vec<String> = std::fs::read_dir(portal.root())
        .unwrap()
        .map(|item| item.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".public."))
        .collect();
    assert!(beside.len() >= 3, "{beside:?}");
    assert!(
        ignored.lines().any(|line| line == "/.public.*"),
        "{ignored}"
    );
}

#[test]
fn malformed_private_files_are_reported_without_their_contents() {
    let portal = TestPortal::new();
    // A key file with its key id changed, and one cut short.
    let text = std::fs::read_to_string(&portal.officer_key).unwrap();
    let material = key_material(&text);
    let key_id = text.trim().split('+').nth(3).unwrap();
    let wrong_id = text.replacen(&format!("+{key_id}+"), "+00000000+", 1);
    for broken in [wrong_id, text[..text.len() - 6].to_string()] {
        let file = portal.dir.path().join("keys/broken.key");
        let _ = std::fs::remove_file(&file);
        std::fs::write(&file, &broken).unwrap();
        let output = portal
            .run(&["append", "--key", file.to_str().unwrap(), "-"])
            .write_stdin(SAMPLE)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("is not a minhbach private key"), "{stderr}");
        assert!(!stderr.contains(&material[..20]), "{stderr}");
    }
    // A secret with one digit changed into a letter.
    let secret_path = portal.root().join(".minhbach/secret");
    let secret = std::fs::read_to_string(&secret_path).unwrap();
    std::fs::write(&secret_path, format!("z{}", &secret[1..])).unwrap();
    let output = portal.append(SAMPLE).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("must be 64 hexadecimal digits"), "{stderr}");
    assert!(!stderr.contains(&secret.trim()[1..20]), "{stderr}");
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[cfg(unix)]
#[test]
fn private_files_readable_by_others_are_warned_about() {
    let portal = TestPortal::new();
    let officer = portal.officer_key.to_str().unwrap().to_string();
    let warning = "can be read by other users; run `chmod 600";
    // The officer's key: warned at 0644 and 0640, silent at 0600.
    for (mode, warned) in [(0o644, true), (0o640, true), (0o604, true), (0o600, false)] {
        set_mode(&portal.officer_key, mode);
        let assert = portal
            .run(&["append", "--key", &officer, "-"])
            .write_stdin(format!(
                r#"{{"kind":"fund","id":"f{mode:o}","name":"Quỹ","description":""}}"#
            ))
            .assert()
            .success();
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
        assert_eq!(
            stderr.contains(&format!("warning: the private key `{officer}` {warning}")),
            warned,
            "mode {mode:o}: {stderr}"
        );
    }
    // The administrator's key, read by `key add` and by `init`.
    set_mode(&portal.admin_key, 0o644);
    let vkey = SigningKey::from_seed("thu-ky", [3; 32])
        .unwrap()
        .verifier_key()
        .to_string();
    let admin = portal.admin_key.to_str().unwrap();
    portal
        .run(&[
            "key", "add", "--key", admin, "--name", "thu-ky", "--unit", "x", &vkey,
        ])
        .assert()
        .success()
        .stderr(contains(format!(
            "warning: the private key `{admin}` {warning}"
        )));
    minhbach()
        .arg("init")
        .arg(portal.dir.path().join("second"))
        .args(["--key", admin])
        .assert()
        .success()
        .stderr(contains(warning));
    // The portal secret, read by `append` and `import` for private fields.
    let secret = portal.root().join(".minhbach/secret");
    set_mode(&secret, 0o644);
    portal
        .append(SAMPLE)
        .assert()
        .success()
        .stderr(contains("warning: the portal secret"))
        .stderr(contains(warning));
    set_mode(&secret, 0o600);
    portal
        .append(r#"{"kind":"fund","id":"g","name":"Quỹ","description":""}"#)
        .assert()
        .success()
        .stderr(contains("warning").not());
}

#[test]
fn private_files_inside_published_folders_are_refused_on_use() {
    let portal = TestPortal::new();
    let before = portal.snapshot();
    // A key copied by hand into `static/` would be published by the next build.
    let copied = portal.root().join("static/canbo.key");
    std::fs::copy(&portal.officer_key, &copied).unwrap();
    portal
        .run(&["append", "--key", "static/canbo.key", "-"])
        .write_stdin(SAMPLE)
        .assert()
        .code(2)
        .stderr(contains(
            "refusing to use the private key `static/canbo.key`",
        ))
        .stderr(contains("the portal's `static/` directory"));
    std::fs::remove_file(&copied).unwrap();
    // `ledger.secret` pointed into `content/`.
    let config = portal.root().join("config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace(
            "secret = \".minhbach/secret\"",
            "secret = \"content/secret\"",
        ),
    )
    .unwrap();
    std::fs::copy(
        portal.root().join(".minhbach/secret"),
        portal.root().join("content/secret"),
    )
    .unwrap();
    portal
        .append(SAMPLE)
        .assert()
        .code(2)
        .stderr(contains("refusing to use the portal secret"))
        .stderr(contains("the portal's `content/` directory"));
    assert_eq!(portal.snapshot(), before, "nothing was appended");
}
