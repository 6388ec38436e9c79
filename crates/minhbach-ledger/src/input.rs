//! Turning what an officer wrote into what the ledger stores.
//!
//! Input lines are JSON objects with `kind`. Every string is normalised to
//! NFC; private fields are replaced by keyed commitments; photo files are
//! read, type-checked by their first bytes and named by their SHA-256. No file
//! is written here: the media bytes travel with the entry until the whole
//! batch has been validated.

use super::entry::{Body, Household, Input, MAX_LINE_BYTES, Photo, Progress};
use super::privacy::{Secret, hex};
use super::validate::EntryError;
use super::validate::MEDIA_EXTENSIONS;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};

/// An entry body ready to append, with any media it brings.
#[derive(Clone, Debug)]
pub struct Pending {
    pub body: Body,
    pub media: Vec<PendingMedia>,
    /// The last four digits of the citizen ID this entry commits (a
    /// household, or a correction giving one a new ID). Never part of the
    /// entry: the caller keeps them in the portal's private side store, and
    /// only if the portal shows them.
    pub citizen_id_last4: Option<String>,
}

/// A media file to store as `ledger/media/<name>`.
#[derive(Clone, Debug)]
pub struct PendingMedia {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// What preparing an input needs from outside the ledger.
pub struct InputContext<'a> {
    /// The portal secret; only household entries need it.
    pub secret: Option<&'a Secret>,
    /// Relative photo paths are resolved against this directory (the input
    /// file's directory, or the current one for standard input).
    pub base_dir: PathBuf,
    /// `ledger/media/`, to check references to media already stored.
    pub media_dir: PathBuf,
    /// Decodes a photo as the site will, so that a file that only starts
    /// like one is refused at append instead of stopping every build until a
    /// correction voids it. The ledger stores bytes and knows no image
    /// format: the application supplies its decoder (`media::check_photo`).
    pub check_media: CheckMedia,
}

/// See [`InputContext::check_media`]: `Err` carries the reason, in words.
pub type CheckMedia = fn(&[u8]) -> Result<(), String>;

/// The longest input line read, in bytes. A stored entry is at most
/// [`MAX_LINE_BYTES`]; an input line may be longer (escapes such as `\u00e9`,
/// spaces), but not by this much. Refusing before parsing keeps a 100 MB line
/// from becoming several 100 MB copies (the JSON value, its NFC form).
pub const MAX_INPUT_LINE_BYTES: usize = 1 << 20;

/// The largest photo or document a progress entry may bring, in bytes. Phone
/// photos are a few MB; the limit keeps a wrong path (a video, a disk image)
/// from being read whole into memory and then into `ledger/media/`.
pub const MAX_MEDIA_BYTES: u64 = 50 << 20;

/// Parses one input line into a pending entry. Errors name the field.
pub fn parse_input(line: &str, context: &InputContext) -> Result<Pending, EntryError> {
    if line.len() > MAX_INPUT_LINE_BYTES {
        return Err(EntryError::entry(format!(
            "the line is {} bytes, over the {MAX_INPUT_LINE_BYTES}-byte limit of an input line (a stored entry is at most {MAX_LINE_BYTES} bytes)",
            line.len()
        )));
    }
    let mut value: serde_json::Value = serde_json::from_str(line)
        .map_err(|e| EntryError::entry(format!("not a JSON object: {e}")))?;
    if !value.is_object() {
        return Err(EntryError::entry("not a JSON object"));
    }
    normalise_strings(&mut value);
    prepare(typed_input(value)?, context)
}

/// Deserialises by `kind` first, then the kind's own struct, so an error
/// names the field path (serde loses it inside internally tagged enums).
fn typed_input(mut value: serde_json::Value) -> Result<Input, EntryError> {
    let object = value.as_object_mut().expect("checked to be an object");
    let kind = match object.remove("kind") {
        Some(serde_json::Value::String(kind)) => kind,
        Some(_) => return Err(EntryError::field("kind", "must be a string")),
        None => return Err(EntryError::field("kind", "is missing")),
    };
    Ok(match kind.as_str() {
        "key" => Input::Key(typed(value)?),
        "fund" => Input::Fund(typed(value)?),
        "donation" => Input::Donation(typed(value)?),
        "household" => Input::Household(typed(value)?),
        "disbursement" => Input::Disbursement(typed(value)?),
        "progress" => Input::Progress(typed(value)?),
        "correction" => Input::Correction(typed(value)?),
        other => {
            return Err(EntryError::field(
                "kind",
                format!(
                    "unknown kind `{other}` (kinds: fund, donation, household, disbursement, progress, correction, key)"
                ),
            ));
        }
    })
}

fn typed<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, EntryError> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        let message = error.into_inner().to_string();
        if path == "." {
            EntryError::entry(message)
        } else {
            EntryError::field(&path, message)
        }
    })
}

fn normalise_strings(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(text) => *text = super::entry::nfc(text),
        serde_json::Value::Array(items) => items.iter_mut().for_each(normalise_strings),
        serde_json::Value::Object(map) => {
            let entries = std::mem::take(map);
            for (key, mut item) in entries {
                normalise_strings(&mut item);
                map.insert(super::entry::nfc(&key), item);
            }
        }
        _ => {}
    }
}

/// Converts a typed input into a stored body.
pub fn prepare(input: Input, context: &InputContext) -> Result<Pending, EntryError> {
    let mut media = Vec::new();
    let mut last4 = None;
    let body = match input {
        Input::Key(key) => Body::Key(key),
        Input::Fund(fund) => Body::Fund(Box::new(fund)),
        Input::Donation(donation) => Body::Donation(donation),
        Input::Disbursement(disbursement) => Body::Disbursement(disbursement),
        Input::Household(household) => {
            let secret = require_secret(context)?;
            let citizen_id = normalise_citizen_id(&household.citizen_id)?;
            last4 = Some(citizen_id[citizen_id.len() - 4..].to_string());
            let phone_hmac = match &household.phone {
                Some(phone) => Some(secret.commit("phone", &normalise_phone(phone)?)),
                None => None,
            };
            Body::Household(Box::new(Household {
                id: household.id,
                head: household.head,
                province: household.province,
                district: household.district,
                commune: household.commune,
                village: household.village,
                circumstances: household.circumstances,
                support: household.support,
                planned: household.planned,
                photo_consent: household.photo_consent,
                citizen_id_hmac: secret.commit("citizen_id", &citizen_id),
                citizen_id_last4: None,
                phone_hmac,
            }))
        }
        Input::Progress(progress) => {
            let mut photos = Vec::with_capacity(progress.photos.len());
            for (index, photo) in progress.photos.into_iter().enumerate() {
                let field = format!("photos[{index}]");
                let name = match (photo.file, photo.media) {
                    (Some(file), None) => {
                        let path = photo_path(&context.base_dir, &file, &field)?;
                        let stored = read_media(&path, &field, context.check_media)?;
                        let name = stored.name.clone();
                        media.push(stored);
                        name
                    }
                    (None, Some(name)) => {
                        super::validate::media_name(&format!("{field}.media"), &name)?;
                        if !context.media_dir.join(&name).is_file() {
                            return Err(EntryError::field(
                                &format!("{field}.media"),
                                format!("`{name}` is not in `ledger/media/`"),
                            ));
                        }
                        name
                    }
                    _ => {
                        return Err(EntryError::field(
                            &field,
                            "give exactly one of `file` (a local photo) or `media` (a stored one)",
                        ));
                    }
                };
                photos.push(Photo {
                    media: name,
                    caption: photo.caption,
                });
            }
            Body::Progress(Progress {
                household: progress.household,
                date: progress.date,
                stage: progress.stage,
                photos,
                note: progress.note,
            })
        }
        Input::Correction(mut correction) => {
            if let Some(amend) = &mut correction.amend {
                last4 = commit_private_amendments(amend, context)?;
            }
            Body::Correction(correction)
        }
    };
    Ok(Pending {
        body,
        media,
        citizen_id_last4: last4,
    })
}

fn require_secret<'a>(context: &InputContext<'a>) -> Result<&'a Secret, EntryError> {
    context
        .secret
        .ok_or_else(|| EntryError::entry("household entries need the portal secret (config.toml ledger.secret), which was not found"))
}

/// A correction of a household may give a new citizen ID or phone; they are
/// committed like the originals and never stored. A new citizen ID also
/// removes the last four digits an old entry may carry (`null`), so no
/// stale digits stay current; its own last four are returned, for the side
/// store. Digits given as `citizen_id_last4` are refused: the ledger holds
/// no digit of an ID.
fn commit_private_amendments(
    amend: &mut serde_json::Map<String, serde_json::Value>,
    context: &InputContext,
) -> Result<Option<String>, EntryError> {
    if amend
        .get("citizen_id_last4")
        .is_some_and(|value| !value.is_null())
    {
        return Err(EntryError::field(
            "amend.citizen_id_last4",
            "the ledger keeps no digit of a citizen ID; amend `citizen_id` instead",
        ));
    }
    let mut last4 = None;
    if let Some(value) = amend.remove("citizen_id") {
        let secret = require_secret(context)?;
        let text = value
            .as_str()
            .ok_or_else(|| EntryError::field("amend.citizen_id", "must be a string"))?;
        let citizen_id = normalise_citizen_id(text)
            .map_err(|e| EntryError::field("amend.citizen_id", e.message))?;
        amend.insert(
            "citizen_id_hmac".into(),
            secret.commit("citizen_id", &citizen_id).into(),
        );
        amend.insert("citizen_id_last4".into(), serde_json::Value::Null);
        last4 = Some(citizen_id[citizen_id.len() - 4..].to_string());
    }
    if let Some(value) = amend.remove("phone") {
        let secret = require_secret(context)?;
        let text = value
            .as_str()
            .ok_or_else(|| EntryError::field("amend.phone", "must be a string"))?;
        let phone =
            normalise_phone(text).map_err(|e| EntryError::field("amend.phone", e.message))?;
        amend.insert("phone_hmac".into(), secret.commit("phone", &phone).into());
    }
    Ok(last4)
}

/// A citizen ID is a 12-digit CCCD or a 9-digit older CMND; spaces and dots
/// are ignored so the same ID always gives the same commitment.
fn normalise_citizen_id(raw: &str) -> Result<String, EntryError> {
    let digits: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-'))
        .collect();
    if (digits.len() == 12 || digits.len() == 9) && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(digits)
    } else {
        Err(EntryError::field(
            "citizen_id",
            "must be a 12-digit citizen ID (CCCD) or a 9-digit ID card number (CMND)",
        ))
    }
}

/// Phone numbers are compared in their national form: `+84 912 345 678` and
/// `0912345678` are the same number.
fn normalise_phone(raw: &str) -> Result<String, EntryError> {
    let mut digits: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')'))
        .collect();
    if let Some(rest) = digits.strip_prefix("+84") {
        digits = format!("0{rest}");
    }
    if (9..=11).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(digits)
    } else {
        Err(EntryError::field(
            "phone",
            "must be a Vietnamese phone number such as 0912345678 or +84912345678",
        ))
    }
}

/// Where a photo named in the input is: a relative path inside the input
/// file's folder (the working folder for standard input), reached through
/// no symbolic link. An input file may come from someone else (a commune's
/// officer); confined so, it can only publish the photos that travel with
/// it, never `/home/…/anh-rieng.jpg` or a key beside the portal.
fn photo_path(base_dir: &Path, file: &str, field: &str) -> Result<PathBuf, EntryError> {
    use std::path::Component;
    let field = format!("{field}.file");
    let relative = Path::new(file);
    let confined = !file.is_empty()
        && relative
            .components()
            .all(|part| matches!(part, Component::Normal(_) | Component::CurDir));
    if !confined {
        return Err(EntryError::field(
            &field,
            format!(
                "`{file}` must be a path relative to the input file's folder, without `..` (put the photo beside the input file)"
            ),
        ));
    }
    let mut path = base_dir.to_path_buf();
    for part in relative.components() {
        path.push(part);
        if std::fs::symlink_metadata(&path).is_ok_and(|meta| meta.file_type().is_symlink()) {
            return Err(EntryError::field(
                &field,
                format!(
                    "`{}` is a symbolic link: put the photo itself beside the input file",
                    path.display()
                ),
            ));
        }
    }
    Ok(path)
}

/// Reads a photo or document, checks its type by its first bytes (so an HTML
/// or SVG file cannot pose as a photo), decodes a photo as the build will
/// (`media::check`) and names it by its SHA-256. Only a
/// regular file of at most [`MAX_MEDIA_BYTES`] is read: a device such as
/// `/dev/zero` or a FIFO would otherwise be read without end.
fn read_media(
    path: &Path,
    field: &str,
    check_media: CheckMedia,
) -> Result<PendingMedia, EntryError> {
    let field = format!("{field}.file");
    let refuse = |why: String| EntryError::field(&field, why);
    let cannot_read = |e: std::io::Error| refuse(format!("cannot read `{}`: {e}", path.display()));
    let not_regular = || refuse(format!("`{}` is not a regular file", path.display()));
    // Checked before opening too: opening a FIFO would wait for a writer.
    if !std::fs::metadata(path).map_err(cannot_read)?.is_file() {
        return Err(not_regular());
    }
    let file = std::fs::File::open(path).map_err(cannot_read)?;
    let metadata = file.metadata().map_err(cannot_read)?;
    if !metadata.is_file() {
        return Err(not_regular());
    }
    if metadata.len() > MAX_MEDIA_BYTES {
        return Err(refuse(format!(
            "`{}` is {} bytes, over the {MAX_MEDIA_BYTES}-byte limit of a photo or document",
            path.display(),
            metadata.len()
        )));
    }
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    // `take`: the file may grow between the check and the read.
    file.take(MAX_MEDIA_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot_read)?;
    if bytes.len() as u64 > MAX_MEDIA_BYTES {
        return Err(refuse(format!(
            "`{}` is over the {MAX_MEDIA_BYTES}-byte limit of a photo or document",
            path.display()
        )));
    }
    let ext = sniff_media_type(&bytes).ok_or_else(|| {
        refuse(format!(
            "`{}` is not a JPEG, PNG, WebP, GIF or PDF file",
            path.display()
        ))
    })?;
    debug_assert!(MEDIA_EXTENSIONS.contains(&ext));
    // Decoded now, with the build's decoder and limits: a file that only
    // starts like a photo would otherwise be stored and stop every build
    // until a correction voided it.
    check_media(&bytes)
        .map_err(|e| refuse(format!("`{}` cannot be published: {e}", path.display())))?;
    let name = format!("{}.{ext}", hex(&Sha256::digest(&bytes)));
    Ok(PendingMedia { name, bytes })
}

fn sniff_media_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("jpg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("png")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("gif")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("webp")
    } else if bytes.starts_with(b"%PDF-") {
        Some("pdf")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(secret: Option<&Secret>) -> InputContext<'_> {
        InputContext {
            secret,
            base_dir: PathBuf::from("."),
            media_dir: PathBuf::from("/nonexistent"),
            check_media: |_| Ok(()),
        }
    }

    #[test]
    fn private_fields_become_commitments() {
        let secret = Secret::from_bytes([7; 32]);
        let line = r#"{"kind":"household","id":"qt-1","head":"Lê Thị Hoa","province":"Quảng Trị","commune":"Vĩnh Linh","circumstances":"","support":"new","planned":60000000,"citizen_id":"045 190 001 234","phone":"+84 912 345 678"}"#;
        let pending = parse_input(line, &context(Some(&secret))).unwrap();
        let Body::Household(household) = &pending.body else {
            panic!("not a household")
        };
        // No digit of the ID in the entry: the last four travel beside it,
        // for the portal's private side store.
        assert_eq!(household.citizen_id_last4, None);
        assert!(
            !serde_json::to_string(&pending.body)
                .unwrap()
                .contains("1234")
        );
        assert_eq!(pending.citizen_id_last4.as_deref(), Some("1234"));
        assert_eq!(
            household.citizen_id_hmac,
            secret.commit("citizen_id", "045190001234")
        );
        assert_eq!(
            household.phone_hmac.as_deref(),
            Some(secret.commit("phone", "0912345678").as_str())
        );
        let stored = serde_json::to_string(&pending.body).unwrap();
        assert!(
            !stored.contains("045190001234") && !stored.contains("912345678"),
            "{stored}"
        );
    }

    #[test]
    fn errors_name_the_field() {
        let error = parse_input(r#"{"kind":"donation","fund":"f","donor":"","amount":"nhiều","date":"2025-01-01","channel":"bank"}"#, &context(None)).unwrap_err();
        assert_eq!(error.field.as_deref(), Some("amount"), "{error}");
        let error = parse_input(r#"{"kind":"donation","fund":"f","donor":"","amount":1,"date":"2025-01-01","channel":"bank","colour":"red"}"#, &context(None)).unwrap_err();
        assert!(
            error.to_string().contains("unknown field `colour`"),
            "{error}"
        );
        let error = parse_input(r#"{"kind":"household","id":"x"}"#, &context(None)).unwrap_err();
        assert!(error.to_string().contains("missing field"), "{error}");
        let error = parse_input("[1]", &context(None)).unwrap_err();
        assert!(error.to_string().contains("not a JSON object"), "{error}");
    }

    #[test]
    fn strings_are_normalised_to_nfc() {
        let line = "{\"kind\":\"donation\",\"fund\":\"f\",\"donor\":\"Nguye\u{302}\u{303}n\",\"amount\":1,\"date\":\"2025-01-01\",\"channel\":\"cash\"}";
        let pending = parse_input(line, &context(None)).unwrap();
        let Body::Donation(donation) = pending.body else {
            panic!("not a donation")
        };
        assert_eq!(donation.donor, "Nguyễn");
    }

    #[test]
    fn media_types_are_sniffed() {
        assert_eq!(sniff_media_type(b"\xFF\xD8\xFF\xE0rest"), Some("jpg"));
        assert_eq!(sniff_media_type(b"<svg onload=alert(1)>"), None);
        assert_eq!(sniff_media_type(b"<html>"), None);
    }

    #[test]
    fn oversized_lines_are_refused_before_parsing() {
        let line = format!(
            r#"{{"kind":"donation","fund":"f","donor":"{}","amount":1,"date":"2025-01-01","channel":"cash"}}"#,
            "a".repeat(MAX_INPUT_LINE_BYTES)
        );
        let error = parse_input(&line, &context(None)).unwrap_err();
        assert!(
            error.to_string().contains("over the 1048576-byte limit"),
            "{error}"
        );
    }

    #[test]
    fn deep_nesting_stops_at_the_recursion_limit() {
        let amend = format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000));
        let line = format!(r#"{{"kind":"correction","target":1,"reason":"x","amend":{amend}}}"#);
        let error = parse_input(&line, &context(None)).unwrap_err();
        assert!(
            error.to_string().contains("recursion limit exceeded"),
            "{error}"
        );
    }

    /// Found by reasoning while writing the append fuzz target: a photo path
    /// naming a device was read until memory ran out.
    #[test]
    fn photos_must_be_small_regular_files() {
        let dir = tempfile::tempdir().unwrap();
        let in_dir = InputContext {
            base_dir: dir.path().to_path_buf(),
            ..context(None)
        };
        let line = |file: &str| {
            format!(
                r#"{{"kind":"progress","household":"h","date":"2025-01-01","stage":"started","photos":[{{"file":"{file}"}}]}}"#
            )
        };
        std::fs::create_dir(dir.path().join("dev")).unwrap();
        std::os::unix::fs::symlink("/dev/zero", dir.path().join("dev/zero.jpg")).unwrap();
        let error = parse_input(&line("dev/zero.jpg"), &in_dir).unwrap_err();
        assert_eq!(error.field.as_deref(), Some("photos[0].file"), "{error}");
        assert!(error.to_string().contains("is a symbolic link"), "{error}");
        let fifo = dir.path().join("fifo.jpg");
        let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
        let error = parse_input(&line("fifo.jpg"), &in_dir).unwrap_err();
        assert!(error.to_string().contains("not a regular file"), "{error}");
        let big = dir.path().join("big.jpg");
        let file = std::fs::File::create(&big).unwrap();
        file.set_len(MAX_MEDIA_BYTES + 1).unwrap();
        let error = parse_input(&line("big.jpg"), &in_dir).unwrap_err();
        assert!(
            error.to_string().contains("over the 52428800-byte limit"),
            "{error}"
        );
    }

    /// Issue 7: an input file can only publish photos inside its own folder.
    #[test]
    fn photo_paths_stay_in_the_input_folder() {
        let outside = tempfile::tempdir().unwrap();
        let private = outside.path().join("anh-rieng.png");
        std::fs::write(&private, b"\x89PNG\r\n\x1a\n").unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("anh")).unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("anh/ngoai")).unwrap();
        let in_dir = InputContext {
            base_dir: dir.path().to_path_buf(),
            ..context(None)
        };
        let relative = pathdiff(&private, dir.path());
        for (file, why) in [
            (
                private.to_str().unwrap().to_string(),
                "must be a path relative",
            ),
            (relative, "without `..`"),
            ("anh/../../x.png".to_string(), "without `..`"),
            (String::new(), "must be a path relative"),
            ("anh/ngoai/anh-rieng.png".to_string(), "is a symbolic link"),
        ] {
            let line = format!(
                r#"{{"kind":"progress","household":"h","date":"2025-01-01","stage":"started","photos":[{{"file":{}}}]}}"#,
                serde_json::to_string(&file).unwrap()
            );
            let error = parse_input(&line, &in_dir).unwrap_err();
            assert_eq!(
                error.field.as_deref(),
                Some("photos[0].file"),
                "{file}: {error}"
            );
            assert!(error.to_string().contains(why), "{file}: {error}");
        }
    }

    /// `../../…/file` from `base` to `file`.
    fn pathdiff(file: &Path, base: &Path) -> String {
        let depth = base.components().count() - 1;
        format!(
            "{}{}",
            "../".repeat(depth),
            file.strip_prefix("/").unwrap().display()
        )
    }
}
