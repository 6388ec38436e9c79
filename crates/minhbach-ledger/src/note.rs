//! Keys, C2SP signed notes and tlog checkpoints.
//!
//! Formats:
//!
//! * Keys are encoded as in Go's `golang.org/x/mod/sumdb/note`: a verifier key
//!   is `<name>+<8 hex key id>+<base64(0x01 ‖ Ed25519 public key)>`, a private
//!   key is `PRIVATE+KEY+<name>+<8 hex key id>+<base64(0x01 ‖ 32-byte seed)>`,
//!   and the key id is the first four bytes (big-endian) of
//!   `SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key)`.
//! * A signed note (<https://c2sp.org/signed-note>) is the text (ending in a
//!   newline), a blank line, and one line per signature:
//!   `— <name> <base64(4-byte key id ‖ 64-byte signature)>`.
//! * A checkpoint (<https://c2sp.org/tlog-checkpoint>) is a note whose text is
//!   `<origin>\n<tree size>\n<base64 root hash>\n`, optionally followed by
//!   extension lines.
//!
//! # What is ours and what is borrowed
//!
//! The `signed_note` crate parses notes ([`SignedNote::parse`] accepts exactly
//! what `signed_note::Note::from_bytes` accepts), assembles signed notes
//! ([`SigningKey::sign_note`] goes through `Note::add_sigs`), checks signature
//! bookkeeping in [`SignedNote::verify`] (`Note::verify`) and computes key ids.
//! We write ourselves:
//!
//! * the cryptographic check: `signed_note`'s `StandardVerifier` uses
//!   ed25519-dalek's lax `verify`; ours implements its `Verifier` trait with
//!   [`ed25519_dalek::VerifyingKey::verify_strict`], and key parsing rejects
//!   weak (small-order) and non-canonically encoded public keys;
//! * key parsing and encoding, because `signed_note`'s errors are a bare
//!   "malformed verifier key" and it accepts weak keys;
//! * diagnosis of malformed notes (run only after `signed_note` rejects one),
//!   so errors say which line is wrong;
//! * checkpoint parsing, with errors that name the bad line.
//!
//! Key names are slightly stricter than C2SP: besides being non-empty with no
//! whitespace and no `+`, they may not contain control characters (a note with
//! one in a signature line could not be parsed anyway).

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use rand_core::{OsRng, RngCore};

use crate::merkle::Hash;

/// The algorithm byte of Ed25519 keys in note key encodings.
const ALG_ED25519: u8 = 0x01;

/// The largest note we parse or produce (as in Go and `signed_note`).
const MAX_NOTE_SIZE: usize = 1_000_000;

/// The most signatures a note may carry (as in Go and `signed_note`).
const MAX_NOTE_SIGNATURES: usize = 100;

/// Errors in key names and key encodings.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    /// The key name is empty or contains whitespace, a `+` or a control character.
    #[error("{what} name {name:?} {problem}")]
    BadName {
        /// "verifier key" or "private key".
        what: &'static str,
        /// The offending name.
        name: String,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// The text does not have the parts of a key.
    #[error("{what} is not of the form {form}")]
    Format {
        /// "verifier key" or "private key".
        what: &'static str,
        /// The expected form.
        form: &'static str,
    },
    /// The key id part is not 8 hex digits.
    #[error("{what} key id {id:?} is not 8 hex digits")]
    BadKeyId {
        /// "verifier key" or "private key".
        what: &'static str,
        /// The offending text.
        id: String,
    },
    /// The key material is not base64.
    #[error("{what} material is not valid base64")]
    Base64 {
        /// "verifier key" or "private key".
        what: &'static str,
    },
    /// The algorithm byte is not Ed25519.
    #[error("{what} algorithm byte is {alg:#04x}; only Ed25519 (0x01) is supported")]
    Algorithm {
        /// "verifier key" or "private key".
        what: &'static str,
        /// The algorithm byte found (0 if the material was empty).
        alg: u8,
    },
    /// The key material has the wrong length.
    #[error("{what} has {got} bytes of key after the algorithm byte; Ed25519 needs 32")]
    Length {
        /// "verifier key" or "private key".
        what: &'static str,
        /// Bytes found.
        got: usize,
    },
    /// The stated key id is not the one computed from the name and key.
    #[error("{what} id {stated:08x} does not match its name and key (expected {computed:08x})")]
    KeyIdMismatch {
        /// "verifier key" or "private key".
        what: &'static str,
        /// The key id in the text.
        stated: u32,
        /// The key id computed from the name and public key.
        computed: u32,
    },
    /// The public key does not decode to a curve point.
    #[error("verifier key is not a valid Ed25519 public key")]
    InvalidPoint,
    /// The public key is encoded non-canonically.
    #[error("verifier key is not canonically encoded")]
    NonCanonical,
    /// The public key is a small-order point, for which signatures prove nothing.
    #[error("verifier key is a weak (small-order) Ed25519 point and is refused")]
    WeakKey,
    /// The operating system did not provide randomness.
    #[error("could not get randomness from the operating system: {0}")]
    Random(String),
}

/// Errors in notes, their signatures and checkpoints.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NoteError {
    /// The signed note is not in the signed-note format.
    #[error("malformed signed note: {0}")]
    Malformed(String),
    /// A text to be signed is not a valid note text.
    #[error("cannot sign: {0}")]
    BadText(String),
    /// The note text is not a checkpoint.
    #[error("malformed checkpoint: {0}")]
    MalformedCheckpoint(String),
    /// The note carries no signature by the key (name and key id).
    #[error("no signature by key `{name}` (key id {key_id:08x})")]
    NoSignature {
        /// The key's name.
        name: String,
        /// The key's id.
        key_id: u32,
    },
    /// A signature by the key is there but does not verify.
    #[error("signature by `{name}` does not verify")]
    BadSignature {
        /// The key's name.
        name: String,
    },
}

/// Reports whether `name` is a valid key name: non-empty, with no Unicode
/// whitespace, no `+` and no control characters.
pub fn is_valid_key_name(name: &str) -> bool {
    name_problem(name).is_none()
}

fn name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("is empty")
    } else if name.contains('+') {
        Some("contains a '+'")
    } else if name.chars().any(char::is_whitespace) {
        Some("contains whitespace")
    } else if name.chars().any(char::is_control) {
        Some("contains a control character")
    } else {
        None
    }
}

fn check_name(what: &'static str, name: &str) -> Result<(), KeyError> {
    match name_problem(name) {
        Some(problem) => Err(KeyError::BadName {
            what,
            name: name.to_owned(),
            problem,
        }),
        None => Ok(()),
    }
}

/// `0x01 ‖ public key`, the encoded form hashed into key ids.
fn encoded_public_key(public_key: &[u8; 32]) -> [u8; 33] {
    let mut out = [0u8; 33];
    out[0] = ALG_ED25519;
    out[1..].copy_from_slice(public_key);
    out
}

/// The key id of an Ed25519 key: the first 4 bytes (big-endian) of
/// `SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key)`.
fn compute_key_id(name: &str, public_key: &[u8; 32]) -> u32 {
    signed_note::key_id(name, &encoded_public_key(public_key))
}

fn parse_key_id(what: &'static str, id: &str) -> Result<u32, KeyError> {
    if id.len() != 8 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(KeyError::BadKeyId {
            what,
            id: id.to_owned(),
        });
    }
    u32::from_str_radix(id, 16).map_err(|_| KeyError::BadKeyId {
        what,
        id: id.to_owned(),
    })
}

/// Decodes `base64(0x01 ‖ 32 bytes)`.
fn parse_key_material(what: &'static str, b64: &str) -> Result<[u8; 32], KeyError> {
    let bytes = B64.decode(b64).map_err(|_| KeyError::Base64 { what })?;
    let Some((&alg, key)) = bytes.split_first() else {
        return Err(KeyError::Algorithm { what, alg: 0 });
    };
    if alg != ALG_ED25519 {
        return Err(KeyError::Algorithm { what, alg });
    }
    key.try_into().map_err(|_| KeyError::Length {
        what,
        got: key.len(),
    })
}

/// An Ed25519 public key with its note key name: what verifies checkpoints.
///
/// Encoded (see [`fmt::Display`]) as `<name>+<8 hex key id>+<base64(0x01 ‖
/// 32-byte public key)>`. Weak and non-canonical public keys are refused.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct VerifierKey {
    name: String,
    key_id: u32,
    key: ed25519_dalek::VerifyingKey,
}

impl VerifierKey {
    /// Parses an encoded verifier key. Trailing whitespace (the newline of a
    /// `.pub` file) is ignored; anything else out of place is an error.
    pub fn parse(s: &str) -> Result<Self, KeyError> {
        const WHAT: &str = "verifier key";
        const FORM: &str = "<name>+<8 hex key id>+<base64 key>";
        let s = s.trim_end();
        let mut parts = s.splitn(3, '+');
        let (Some(name), Some(id), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(KeyError::Format {
                what: WHAT,
                form: FORM,
            });
        };
        check_name(WHAT, name)?;
        let stated = parse_key_id(WHAT, id)?;
        let public_key = parse_key_material(WHAT, b64)?;
        let key = Self::from_public_key(name, public_key)?;
        if key.key_id != stated {
            return Err(KeyError::KeyIdMismatch {
                what: WHAT,
                stated,
                computed: key.key_id,
            });
        }
        Ok(key)
    }

    /// A verifier key from a name and a raw Ed25519 public key.
    pub fn from_public_key(name: &str, public_key: [u8; 32]) -> Result<Self, KeyError> {
        check_name("verifier key", name)?;
        let key = ed25519_dalek::VerifyingKey::from_bytes(&public_key)
            .map_err(|_| KeyError::InvalidPoint)?;
        if key.to_edwards().compress().to_bytes() != public_key {
            return Err(KeyError::NonCanonical);
        }
        if key.is_weak() {
            return Err(KeyError::WeakKey);
        }
        Ok(Self {
            name: name.to_owned(),
            key_id: compute_key_id(name, &public_key),
            key,
        })
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key id (the 8 hex digits of the encoding).
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The raw 32-byte Ed25519 public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// Reports whether `signature` is a valid Ed25519 signature of `msg` by
    /// this key, checked strictly (`verify_strict`: canonical `s`, no
    /// small-order `R`).
    pub fn verify_signature(&self, msg: &[u8], signature: &[u8]) -> bool {
        let Ok(bytes) = <[u8; 64]>::try_from(signature) else {
            return false;
        };
        let signature = ed25519_dalek::Signature::from_bytes(&bytes);
        self.key.verify_strict(msg, &signature).is_ok()
    }
}

impl fmt::Display for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}+{:08x}+{}",
            self.name,
            self.key_id,
            B64.encode(encoded_public_key(&self.public_key()))
        )
    }
}

impl FromStr for VerifierKey {
    type Err = KeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// `signed_note`'s verifier interface, answered strictly.
struct StrictVerifier(VerifierKey);

impl signed_note::Verifier for StrictVerifier {
    fn name(&self) -> &str {
        &self.0.name
    }

    fn key_id(&self) -> u32 {
        self.0.key_id
    }

    fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        self.0.verify_signature(msg, sig)
    }
}

/// An Ed25519 signing key with its note key name. File form (Go note private key):
/// `PRIVATE+KEY+<name>+<8 hex key id>+<base64(0x01 ‖ 32-byte seed)>\n`.
///
/// `Debug` does not print the secret.
#[derive(Clone)]
pub struct SigningKey {
    key: ed25519_dalek::SigningKey,
    verifier: VerifierKey,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("name", &self.verifier.name)
            .field("key_id", &format_args!("{:08x}", self.verifier.key_id))
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A new random key (from the operating system's generator).
    pub fn generate(name: &str) -> Result<Self, KeyError> {
        check_name("private key", name)?;
        let mut seed = [0u8; 32];
        OsRng
            .try_fill_bytes(&mut seed)
            .map_err(|e| KeyError::Random(e.to_string()))?;
        Self::from_seed(name, seed)
    }

    /// The key with the given 32-byte Ed25519 seed (deterministic; for tests
    /// and demos).
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<Self, KeyError> {
        check_name("private key", name)?;
        let key = ed25519_dalek::SigningKey::from_bytes(&seed);
        let verifier = VerifierKey::from_public_key(name, key.verifying_key().to_bytes())?;
        Ok(Self { key, verifier })
    }

    /// Parses the file form. Trailing whitespace (the final newline) is ignored.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        const WHAT: &str = "private key";
        const FORM: &str = "PRIVATE+KEY+<name>+<8 hex key id>+<base64 key>";
        let text = text.trim_end();
        let Some(rest) = text.strip_prefix("PRIVATE+KEY+") else {
            return Err(KeyError::Format {
                what: WHAT,
                form: FORM,
            });
        };
        let mut parts = rest.splitn(3, '+');
        let (Some(name), Some(id), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(KeyError::Format {
                what: WHAT,
                form: FORM,
            });
        };
        check_name(WHAT, name)?;
        let stated = parse_key_id(WHAT, id)?;
        let seed = parse_key_material(WHAT, b64)?;
        let key = Self::from_seed(name, seed)?;
        if key.verifier.key_id != stated {
            return Err(KeyError::KeyIdMismatch {
                what: WHAT,
                stated,
                computed: key.verifier.key_id,
            });
        }
        Ok(key)
    }

    /// The file form, ending in a newline. Secret: keep it out of the ledger
    /// and the site.
    pub fn to_file_text(&self) -> String {
        let mut material = [0u8; 33];
        material[0] = ALG_ED25519;
        material[1..].copy_from_slice(self.key.as_bytes());
        format!(
            "PRIVATE+KEY+{}+{:08x}+{}\n",
            self.verifier.name,
            self.verifier.key_id,
            B64.encode(material)
        )
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.verifier.name
    }

    /// The matching verifier key.
    pub fn verifier_key(&self) -> VerifierKey {
        self.verifier.clone()
    }

    /// Signs `text` and returns the full signed note.
    ///
    /// # Panics
    ///
    /// If `text` is not a valid note text (see [`SigningKey::try_sign_note`]).
    pub fn sign_note(&self, text: &str) -> String {
        match self.try_sign_note(text) {
            Ok(note) => note,
            Err(e) => panic!("{e}"),
        }
    }

    /// Signs `text` and returns the full signed note, or an error if `text`
    /// is not a valid note text: it must end in a newline, contain no control
    /// characters other than newlines, and be at most 1 MB.
    pub fn try_sign_note(&self, text: &str) -> Result<String, NoteError> {
        check_note_text(text).map_err(NoteError::BadText)?;
        let mut note = signed_note::Note::new(text.as_bytes(), &[])
            .map_err(|e| NoteError::BadText(e.to_string()))?;
        note.add_sigs(&[&NoteSigner(self)])
            .map_err(|e| NoteError::BadText(e.to_string()))?;
        let signed = String::from_utf8(note.to_bytes()).expect("a note of UTF-8 text is UTF-8");
        if signed.len() > MAX_NOTE_SIZE {
            return Err(NoteError::BadText(
                "the signed note is larger than 1 MB".into(),
            ));
        }
        Ok(signed)
    }
}

/// `signed_note`'s signer interface over our key.
struct NoteSigner<'a>(&'a SigningKey);

impl signed_note::Signer for NoteSigner<'_> {
    fn name(&self) -> &str {
        &self.0.verifier.name
    }

    fn key_id(&self) -> u32 {
        self.0.verifier.key_id
    }

    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, ed25519_dalek::SignatureError> {
        use ed25519_dalek::Signer as _;
        Ok(self.0.key.sign(msg).to_bytes().to_vec())
    }
}

/// Checks a note text; the error says what is wrong.
fn check_note_text(text: &str) -> Result<(), String> {
    if text.len() > MAX_NOTE_SIZE {
        return Err("the text is larger than 1 MB".into());
    }
    if !text.ends_with('\n') {
        return Err("the text does not end in a newline".into());
    }
    check_control_chars(text)
}

fn check_control_chars(text: &str) -> Result<(), String> {
    for (i, line) in text.split('\n').enumerate() {
        if let Some(c) = line.chars().find(|&c| c < ' ') {
            return Err(format!(
                "line {} contains the control character U+{:04X}",
                i + 1,
                c as u32
            ));
        }
    }
    Ok(())
}

/// One signature line of a note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteSignature {
    /// The key name.
    pub name: String,
    /// The key id.
    pub key_id: u32,
    /// The signature bytes (64 for Ed25519).
    pub signature: Vec<u8>,
}

/// A parsed (not yet verified) signed note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedNote {
    /// The signed text, ending in a newline.
    pub text: String,
    /// The signatures, in order.
    pub signatures: Vec<NoteSignature>,
}

impl SignedNote {
    /// Parses a signed note (<https://c2sp.org/signed-note>). Signatures are
    /// not checked: see [`SignedNote::verify`].
    pub fn parse(note: &str) -> Result<Self, NoteError> {
        let parsed = signed_note::Note::from_bytes(note.as_bytes())
            .map_err(|_| NoteError::Malformed(diagnose_note(note)))?;
        let text = String::from_utf8(parsed.text().to_vec())
            .map_err(|_| NoteError::Malformed("the text is not UTF-8".into()))?;
        // Re-read the signature lines (they parsed above) to keep them all,
        // in order, without relying on accessors signed_note does not offer.
        let (_, block) = note
            .rsplit_once("\n\n")
            .ok_or_else(|| NoteError::Malformed(diagnose_note(note)))?;
        let signatures = block
            .strip_suffix('\n')
            .unwrap_or(block)
            .split('\n')
            .map(|line| {
                let sig = signed_note::Signature::from_bytes(line.as_bytes())
                    .map_err(|_| NoteError::Malformed(diagnose_note(note)))?;
                Ok(NoteSignature {
                    name: sig.name().to_owned(),
                    key_id: sig.id(),
                    signature: sig.signature().to_vec(),
                })
            })
            .collect::<Result<Vec<_>, NoteError>>()?;
        Ok(Self { text, signatures })
    }

    /// Ok if a signature by `key` (matching name and key id) verifies
    /// strictly over the text. Signatures by other keys are ignored.
    pub fn verify(&self, key: &VerifierKey) -> Result<(), NoteError> {
        let no_signature = || NoteError::NoSignature {
            name: key.name.clone(),
            key_id: key.key_id,
        };
        if !self
            .signatures
            .iter()
            .any(|s| s.name == key.name && s.key_id == key.key_id)
        {
            return Err(no_signature());
        }
        let sigs = self
            .signatures
            .iter()
            .map(|s| signed_note::Signature::new(s.name.clone(), s.key_id, s.signature.clone()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| NoteError::Malformed("a signature has an invalid key name".into()))?;
        let note = signed_note::Note::new(self.text.as_bytes(), &sigs)
            .map_err(|_| NoteError::Malformed(diagnose_text(&self.text)))?;
        let known = signed_note::VerifierList::new(vec![Box::new(StrictVerifier(key.clone()))]);
        match note.verify(&known) {
            Ok((verified, _)) if !verified.is_empty() => Ok(()),
            Ok(_) | Err(signed_note::NoteError::UnverifiedNote) => Err(no_signature()),
            Err(_) => Err(NoteError::BadSignature {
                name: key.name.clone(),
            }),
        }
    }

    /// The checkpoint in the text.
    pub fn checkpoint(&self) -> Result<Checkpoint, NoteError> {
        Checkpoint::parse_text(&self.text)
    }
}

fn diagnose_text(text: &str) -> String {
    match check_note_text(text) {
        Err(e) => e,
        Ok(()) => "the text is not a valid note text".into(),
    }
}

/// Says why `signed_note` refused a note.
fn diagnose_note(note: &str) -> String {
    if note.len() > MAX_NOTE_SIZE {
        return "the note is larger than 1 MB".into();
    }
    if let Err(e) = check_control_chars(note) {
        return e;
    }
    if !note.ends_with('\n') {
        return "the note does not end in a newline".into();
    }
    let Some((text, block)) = note.rsplit_once("\n\n") else {
        return "there is no blank line between the text and the signatures".into();
    };
    if text.is_empty() && block.is_empty() {
        return "the note is empty".into();
    }
    let block = block.strip_suffix('\n').unwrap_or(block);
    if block.is_empty() {
        return "there are no signature lines after the blank line".into();
    }
    // Text lines, then the blank line, then the signature lines.
    let first_signature_line = text.split('\n').count() + 2;
    let lines: Vec<&str> = block.split('\n').collect();
    if lines.len() > MAX_NOTE_SIGNATURES {
        return format!("more than {MAX_NOTE_SIGNATURES} signatures");
    }
    for (i, line) in lines.iter().enumerate() {
        let n = first_signature_line + i;
        let Some(rest) = line.strip_prefix("— ") else {
            return format!("line {n} is not a signature line (\"— <name> <signature>\")");
        };
        let Some((name, b64)) = rest.split_once(' ') else {
            return format!("signature line {n} has no signature after the key name");
        };
        if let Some(problem) = name_problem(name) {
            return format!("signature line {n}: key name {name:?} {problem}");
        }
        match B64.decode(b64) {
            Err(_) => return format!("signature line {n}: the signature is not valid base64"),
            Ok(bytes) if bytes.len() < 5 => {
                return format!("signature line {n}: the signature is too short");
            }
            Ok(_) => {}
        }
    }
    "the note is not in the signed-note format".into()
}

/// The checkpoint body: `<origin>\n<size>\n<base64 root>\n`.
///
/// [`Checkpoint::to_text`] produces no extension lines; [`Checkpoint::parse_text`]
/// accepts extension lines (non-empty lines after the root) but does not keep
/// them: signatures are always checked over the note text itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's origin line (e.g. `example.org/relief`).
    pub origin: String,
    /// The tree size.
    pub size: u64,
    /// The root hash of the tree of `size` entries.
    pub root: Hash,
}

/// Reports whether `origin` can be a checkpoint's origin line: non-empty,
/// with no control characters (so no newline).
pub fn is_valid_origin(origin: &str) -> bool {
    !origin.is_empty() && !origin.chars().any(char::is_control)
}

impl Checkpoint {
    /// The note text of the checkpoint.
    pub fn to_text(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.root)
        )
    }

    /// Parses a checkpoint note text (<https://c2sp.org/tlog-checkpoint>).
    pub fn parse_text(s: &str) -> Result<Self, NoteError> {
        let bad = |msg: String| NoteError::MalformedCheckpoint(msg);
        let Some(body) = s.strip_suffix('\n') else {
            return Err(bad("the text does not end in a newline".into()));
        };
        let lines: Vec<&str> = body.split('\n').collect();
        if lines.len() < 3 {
            return Err(bad(format!(
                "it has {} line{}, at least 3 are needed (origin, tree size, root hash)",
                lines.len(),
                if lines.len() == 1 { "" } else { "s" }
            )));
        }
        let origin = lines[0];
        if origin.is_empty() {
            return Err(bad("line 1 (the origin) is empty".into()));
        }
        if !is_valid_origin(origin) {
            return Err(bad(
                "line 1 (the origin) contains a control character".into()
            ));
        }
        let size_text = lines[1];
        let canonical_number = !size_text.is_empty()
            && size_text.bytes().all(|b| b.is_ascii_digit())
            && (size_text == "0" || !size_text.starts_with('0'));
        let size = match size_text.parse::<u64>() {
            Ok(n) if canonical_number => n,
            _ => return Err(bad(format!("line 2 is not a tree size: {size_text:?}"))),
        };
        let root: Hash = B64
            .decode(lines[2])
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| {
                bad(format!(
                    "line 3 is not a base64 SHA-256 root hash: {:?}",
                    lines[2]
                ))
            })?;
        for (i, line) in lines.iter().enumerate().skip(3) {
            if line.is_empty() {
                return Err(bad(format!("line {} (an extension line) is empty", i + 1)));
            }
            if line.chars().any(char::is_control) {
                return Err(bad(format!("line {} contains a control character", i + 1)));
            }
        }
        Ok(Self {
            origin: origin.to_owned(),
            size,
            root,
        })
    }
}

/// Signs `checkpoint` with `key` and returns the signed note.
///
/// # Panics
///
/// If the origin is not valid (see [`is_valid_origin`]); use
/// [`try_sign_checkpoint`] for origins that were not checked.
pub fn sign_checkpoint(checkpoint: &Checkpoint, key: &SigningKey) -> String {
    match try_sign_checkpoint(checkpoint, key) {
        Ok(note) => note,
        Err(e) => panic!("{e}"),
    }
}

/// Signs `checkpoint` with `key`, or says why its origin cannot be signed.
pub fn try_sign_checkpoint(checkpoint: &Checkpoint, key: &SigningKey) -> Result<String, NoteError> {
    if !is_valid_origin(&checkpoint.origin) {
        return Err(NoteError::BadText(format!(
            "checkpoint origin {:?} is empty or contains a control character",
            checkpoint.origin
        )));
    }
    key.try_sign_note(&checkpoint.to_text())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::Value;

    // golang.org/x/mod/sumdb/note note_test.go (TestNewVerifier, TestNewSigner,
    // TestSign, TestOpen).
    const GO_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    const GO_SKEY: &str =
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    const GO_ENOCH_VKEY: &str = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
    const GO_TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                           then you don't know what your problem is.\n";
    const GO_PETER_SIG: &str = "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
    const GO_ENOCH_SIG: &str = "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

    fn go_note() -> String {
        format!("{GO_TEXT}\n{GO_PETER_SIG}")
    }

    fn vkey_with_raw_key(name: &str, raw: [u8; 32]) -> String {
        let id = compute_key_id(name, &raw);
        format!("{name}+{id:08x}+{}", B64.encode(encoded_public_key(&raw)))
    }

    #[test]
    fn go_signer_key_gives_go_verifier_key() {
        let sk = SigningKey::parse(GO_SKEY).unwrap();
        assert_eq!(sk.name(), "PeterNeumann");
        assert_eq!(sk.verifier_key().to_string(), GO_VKEY);
        assert_eq!(sk.verifier_key(), VerifierKey::parse(GO_VKEY).unwrap());
        assert_eq!(sk.verifier_key().key_id(), 0xc74f20a3);
        assert_eq!(sk.to_file_text(), format!("{GO_SKEY}\n"));
        assert_eq!(
            SigningKey::parse(&sk.to_file_text())
                .unwrap()
                .verifier_key(),
            sk.verifier_key()
        );
        // Debug hides the secret.
        let debug = format!("{sk:?}");
        assert!(
            debug.contains("PeterNeumann") && !debug.contains("AYEKF"),
            "{debug}"
        );
    }

    #[test]
    fn go_sign_is_byte_for_byte() {
        let sk = SigningKey::parse(GO_SKEY).unwrap();
        assert_eq!(sk.sign_note(GO_TEXT), go_note());
    }

    #[test]
    fn go_open() {
        let peter = VerifierKey::parse(GO_VKEY).unwrap();
        let enoch: VerifierKey = GO_ENOCH_VKEY.parse().unwrap();
        assert_eq!(enoch.to_string(), GO_ENOCH_VKEY);
        let note = SignedNote::parse(&format!("{GO_TEXT}\n{GO_PETER_SIG}{GO_ENOCH_SIG}")).unwrap();
        assert_eq!(note.text, GO_TEXT);
        assert_eq!(note.signatures.len(), 2);
        assert_eq!(note.signatures[0].name, "PeterNeumann");
        assert_eq!(note.signatures[0].key_id, 0xc74f20a3);
        assert_eq!(note.signatures[1].key_id, 0xaf0cfe78);
        note.verify(&peter).unwrap();
        note.verify(&enoch).unwrap();

        // Go's malformed messages.
        let bad = [
            GO_TEXT.to_owned(),
            format!("{GO_TEXT}\n"),
            format!("{GO_TEXT}\n{}", &GO_PETER_SIG[..GO_PETER_SIG.len() - 1]),
            format!("\x01{GO_TEXT}\n{GO_PETER_SIG}"),
            format!(
                "{GO_TEXT}\n— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
            ),
            format!("{GO_TEXT}\n{GO_PETER_SIG}Unexpected line.\n"),
            format!("{GO_TEXT}\n{}", GO_PETER_SIG.repeat(101)),
        ];
        for msg in &bad {
            let err = SignedNote::parse(msg).unwrap_err();
            assert!(matches!(err, NoteError::Malformed(_)), "{msg:?}: {err}");
        }
        assert_eq!(
            SignedNote::parse(GO_TEXT).unwrap_err().to_string(),
            "malformed signed note: there is no blank line between the text and the signatures"
        );
        assert_eq!(
            SignedNote::parse(&format!("{GO_TEXT}\n{GO_PETER_SIG}Unexpected line.\n"))
                .unwrap_err()
                .to_string(),
            "malformed signed note: line 5 is not a signature line (\"— <name> <signature>\")"
        );

        // Invalid signature (Go inserts "ABCD" in the base64).
        let tampered = format!(
            "{GO_TEXT}\n{}ABCD{}",
            &GO_PETER_SIG[..60],
            &GO_PETER_SIG[60..]
        );
        let note = SignedNote::parse(&tampered).unwrap();
        assert_eq!(
            note.verify(&peter),
            Err(NoteError::BadSignature {
                name: "PeterNeumann".into()
            })
        );
    }

    #[test]
    fn go_key_manglings_are_refused() {
        for (key, parse) in [
            (
                GO_VKEY,
                (|s: &str| VerifierKey::parse(s).is_ok()) as fn(&str) -> bool,
            ),
            (GO_SKEY, |s: &str| SigningKey::parse(s).is_ok()),
        ] {
            assert!(parse(key));
            let b = key.as_bytes();
            for i in 0..=b.len() {
                for j in i + 1..=b.len() {
                    if i != 0 || j != b.len() {
                        let s = std::str::from_utf8(&b[i..j]).unwrap();
                        assert!(!parse(s), "accepted {s:?}");
                    }
                }
            }
            for i in 0..b.len() {
                let mut m = b.to_vec();
                m[i] += 1;
                let s = String::from_utf8(m).unwrap();
                assert!(!parse(&s), "accepted {s:?}");
            }
        }
        // Wrong length and unknown algorithm, with adjusted key ids (Go).
        assert!(
            VerifierKey::parse(
                "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=="
            )
            .is_err()
        );
        let long = B64.encode([[1u8; 1].as_slice(), &[9u8; 33]].concat());
        assert_eq!(
            VerifierKey::parse(&format!("x+{:08x}+{long}", 0)),
            Err(KeyError::Length {
                what: "verifier key",
                got: 33
            })
        );
        assert!(matches!(
            VerifierKey::parse(
                "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
            ),
            Err(KeyError::Algorithm { alg: 0x65, .. })
        ));
    }

    #[test]
    fn c2sp_example_verifies() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/vectors/signed-note/c2sp-example.json"
        );
        let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let vkey = VerifierKey::parse(v["vkey"].as_str().unwrap()).unwrap();
        assert_eq!(vkey.name(), "example.com/foo");
        assert_eq!(vkey.key_id(), 0x530d903a);
        let raw = B64.decode(v["note_base64"].as_str().unwrap()).unwrap();
        let text = String::from_utf8(raw).unwrap();
        let note = SignedNote::parse(&text).unwrap();
        assert_eq!(note.text, v["text"].as_str().unwrap());
        note.verify(&vkey).unwrap();

        // One byte of the text flipped.
        let mut flipped = note.clone();
        flipped.text = flipped.text.replacen("example", "exbmple", 1);
        assert_eq!(
            flipped.verify(&vkey),
            Err(NoteError::BadSignature {
                name: "example.com/foo".into()
            })
        );
        // One byte of the signature flipped.
        for i in [0, 31, 32, 63] {
            let mut flipped = note.clone();
            flipped.signatures[0].signature[i] ^= 0x01;
            assert!(
                matches!(flipped.verify(&vkey), Err(NoteError::BadSignature { .. })),
                "byte {i}"
            );
        }
        // An unknown key.
        let other = VerifierKey::parse(GO_VKEY).unwrap();
        assert_eq!(
            note.verify(&other).unwrap_err().to_string(),
            "no signature by key `PeterNeumann` (key id c74f20a3)"
        );
        // Same name, different key.
        let impostor = SigningKey::from_seed("example.com/foo", [7; 32]).unwrap();
        assert!(matches!(
            note.verify(&impostor.verifier_key()),
            Err(NoteError::NoSignature { .. })
        ));
    }

    #[test]
    fn weak_and_invalid_keys_are_refused() {
        let identity = {
            let mut k = [0u8; 32];
            k[0] = 1;
            k
        };
        let zero = [0u8; 32];
        for raw in [identity, zero] {
            assert_eq!(
                VerifierKey::parse(&vkey_with_raw_key("weak", raw)),
                Err(KeyError::WeakKey)
            );
            assert_eq!(
                VerifierKey::from_public_key("weak", raw),
                Err(KeyError::WeakKey)
            );
        }
        // Non-canonical encoding of the identity point: y = p + 1.
        let mut non_canonical = [0xffu8; 32];
        non_canonical[0] = 0xee;
        non_canonical[31] = 0x7f;
        assert_eq!(
            VerifierKey::from_public_key("x", non_canonical),
            Err(KeyError::NonCanonical)
        );
        // A y with no point on the curve.
        let mut off_curve = [0u8; 32];
        off_curve[0] = 2;
        assert_eq!(
            VerifierKey::from_public_key("x", off_curve),
            Err(KeyError::InvalidPoint)
        );
    }

    #[test]
    fn key_errors_say_what_is_wrong() {
        assert_eq!(
            SigningKey::from_seed("a+b", [1; 32])
                .unwrap_err()
                .to_string(),
            "private key name \"a+b\" contains a '+'"
        );
        assert_eq!(
            VerifierKey::from_public_key("a+b", [1; 32])
                .unwrap_err()
                .to_string(),
            "verifier key name \"a+b\" contains a '+'"
        );
        assert!(matches!(
            SigningKey::generate("two words"),
            Err(KeyError::BadName {
                problem: "contains whitespace",
                ..
            })
        ));
        assert!(matches!(
            SigningKey::generate(""),
            Err(KeyError::BadName { .. })
        ));
        assert_eq!(
            VerifierKey::parse(
                "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
            )
            .unwrap_err()
            .to_string(),
            "verifier key id c74f20a4 does not match its name and key (expected c74f20a3)"
        );
        assert!(matches!(
            VerifierKey::parse("PeterNeumann+c74f20a3"),
            Err(KeyError::Format { .. })
        ));
        assert!(matches!(
            VerifierKey::parse("PeterNeumann+c74f20g3+ARpc"),
            Err(KeyError::BadKeyId { .. })
        ));
        assert!(matches!(
            SigningKey::parse(GO_VKEY),
            Err(KeyError::Format {
                what: "private key",
                ..
            })
        ));
        // A verifier key with the trailing newline of a .pub file parses.
        assert!(VerifierKey::parse(&format!("{GO_VKEY}\n")).is_ok());
        assert!(is_valid_key_name("example.com/foo"));
        assert!(is_valid_key_name("Bộ_Tài_chính"));
        for bad in ["", "a b", "a+b", "a\u{00a0}b", "a\u{3000}b", "a\u{1}b"] {
            assert!(!is_valid_key_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn generated_keys_work() {
        let a = SigningKey::generate("officer-a").unwrap();
        let b = SigningKey::generate("officer-a").unwrap();
        assert_ne!(a.verifier_key(), b.verifier_key());
        let note = SignedNote::parse(&a.sign_note("hello\n")).unwrap();
        note.verify(&a.verifier_key()).unwrap();
        assert!(note.verify(&b.verifier_key()).is_err());
        let reparsed = SigningKey::parse(&a.to_file_text()).unwrap();
        assert_eq!(reparsed.verifier_key(), a.verifier_key());
    }

    #[test]
    fn sign_refuses_bad_text() {
        let sk = SigningKey::from_seed("k", [3; 32]).unwrap();
        assert_eq!(
            sk.try_sign_note("no newline").unwrap_err().to_string(),
            "cannot sign: the text does not end in a newline"
        );
        assert_eq!(
            sk.try_sign_note("ok\nbell\u{7}\n").unwrap_err().to_string(),
            "cannot sign: line 2 contains the control character U+0007"
        );
        let cp = Checkpoint {
            origin: "bad\norigin".into(),
            size: 1,
            root: [0; 32],
        };
        assert!(matches!(
            try_sign_checkpoint(&cp, &sk),
            Err(NoteError::BadText(_))
        ));
    }

    /// L, the order of the Ed25519 base point, little-endian.
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];

    #[test]
    fn non_canonical_s_is_refused() {
        let sk = SigningKey::from_seed("strict", [9; 32]).unwrap();
        let vk = sk.verifier_key();
        let mut note = SignedNote::parse(&sk.sign_note("strictness\n")).unwrap();
        note.verify(&vk).unwrap();
        // s' = s + L: the same signature modulo L, but not canonical.
        let sig = &mut note.signatures[0].signature;
        let mut carry = 0u16;
        for i in 0..32 {
            let sum = u16::from(sig[32 + i]) + u16::from(L[i]) + carry;
            sig[32 + i] = sum as u8;
            carry = sum >> 8;
        }
        assert_eq!(carry, 0);
        assert_eq!(
            note.verify(&vk),
            Err(NoteError::BadSignature {
                name: "strict".into()
            })
        );
        // And the re-encoded note is refused too.
        let sig_line = {
            let s = &note.signatures[0];
            let mut blob = s.key_id.to_be_bytes().to_vec();
            blob.extend_from_slice(&s.signature);
            format!("— {} {}\n", s.name, B64.encode(blob))
        };
        let reparsed = SignedNote::parse(&format!("{}\n{sig_line}", note.text)).unwrap();
        assert!(reparsed.verify(&vk).is_err());
    }

    #[test]
    fn checkpoint_round_trip() {
        let sk = SigningKey::from_seed("minhbach.example/officer", [5; 32]).unwrap();
        let cp = Checkpoint {
            origin: "minhbach.example/ledger".into(),
            size: 123_456,
            root: crate::merkle::leaf_hash(b"x"),
        };
        let text = cp.to_text();
        assert_eq!(Checkpoint::parse_text(&text), Ok(cp.clone()));
        // Cross-check with tlog_tiles's parser.
        let theirs = tlog_tiles::Checkpoint::from_bytes(text.as_bytes()).unwrap();
        assert_eq!(theirs.origin(), cp.origin);
        assert_eq!(theirs.size(), cp.size);
        assert_eq!(theirs.hash().0, cp.root);

        let signed = sign_checkpoint(&cp, &sk);
        assert!(signed.starts_with(&text));
        let note = SignedNote::parse(&signed).unwrap();
        note.verify(&sk.verifier_key()).unwrap();
        assert_eq!(note.checkpoint(), Ok(cp.clone()));

        // Extension lines are accepted.
        assert_eq!(
            Checkpoint::parse_text(&format!("{text}ext one\n")),
            Ok(cp.clone())
        );
        assert_eq!(
            Checkpoint::parse_text(&EMPTY_CP.replace("\n0\n", "\n1\n"))
                .unwrap()
                .size,
            1
        );
    }

    const EMPTY_CP: &str = "o\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n";

    #[test]
    fn malformed_checkpoints() {
        assert_eq!(
            Checkpoint::parse_text(EMPTY_CP).unwrap().root,
            crate::merkle::EMPTY_ROOT
        );
        let cases = [
            (
                "o\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
                "does not end in a newline",
            ),
            ("o\n0\n", "it has 2 lines"),
            (
                "\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
                "line 1 (the origin) is empty",
            ),
            (
                "o\nx\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
                "line 2 is not a tree size",
            ),
            (
                "o\n01\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
                "line 2 is not a tree size",
            ),
            (
                "o\n+1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
                "line 2 is not a tree size",
            ),
            (
                "o\n-1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
                "line 2 is not a tree size",
            ),
            (
                "o\n18446744073709551616\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
                "line 2 is not a tree size",
            ),
            (
                "o\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU\n",
                "line 3 is not a base64",
            ),
            ("o\n1\nZG9uJ3QgY2FyZSAx\n", "line 3 is not a base64"),
            (
                "o\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n",
                "line 4 (an extension line) is empty",
            ),
        ];
        for (text, want) in cases {
            let err = Checkpoint::parse_text(text).unwrap_err();
            assert!(matches!(err, NoteError::MalformedCheckpoint(_)));
            let msg = err.to_string();
            assert!(msg.starts_with("malformed checkpoint: "), "{msg}");
            assert!(msg.contains(want), "{text:?}: {msg}");
        }
        assert_eq!(
            Checkpoint::parse_text("o\nx\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n")
                .unwrap_err()
                .to_string(),
            "malformed checkpoint: line 2 is not a tree size: \"x\""
        );
    }

    fn name_strategy() -> impl Strategy<Value = String> {
        "[A-Za-z0-9./:_\\-ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệịỉĩọỏốồổỗộớờởỡợụủũứừửữựỳỷỹý]{1,24}"
    }

    fn text_strategy() -> impl Strategy<Value = String> {
        proptest::collection::vec("[^\\p{Cc}]{0,30}", 1..6)
            .prop_map(|lines| lines.iter().map(|l| format!("{l}\n")).collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn sign_parse_verify_round_trips(
            name in name_strategy(),
            text in text_strategy(),
            seed in any::<[u8; 32]>(),
            other_seed in any::<[u8; 32]>(),
        ) {
            let sk = SigningKey::from_seed(&name, seed).unwrap();
            let vk = sk.verifier_key();
            prop_assert_eq!(VerifierKey::parse(&vk.to_string()), Ok(vk.clone()));
            prop_assert_eq!(SigningKey::parse(&sk.to_file_text()).unwrap().verifier_key(), vk.clone());

            let signed = sk.sign_note(&text);
            let note = SignedNote::parse(&signed).unwrap();
            prop_assert_eq!(&note.text, &text);
            prop_assert_eq!(note.signatures.len(), 1);
            prop_assert_eq!(&note.signatures[0].name, &name);
            prop_assert_eq!(note.signatures[0].key_id, vk.key_id());
            prop_assert_eq!(note.verify(&vk), Ok(()));

            if other_seed != seed {
                let other = SigningKey::from_seed(&name, other_seed).unwrap().verifier_key();
                prop_assert!(note.verify(&other).is_err());
            }
            let mut tampered = note.clone();
            tampered.text.insert(0, 'x');
            prop_assert_eq!(
                tampered.verify(&vk),
                Err(NoteError::BadSignature { name: name.clone() })
            );
        }

        #[test]
        fn checkpoint_text_round_trips(size in any::<u64>(), root in any::<[u8; 32]>(), origin in name_strategy()) {
            let cp = Checkpoint { origin, size, root };
            prop_assert_eq!(Checkpoint::parse_text(&cp.to_text()), Ok(cp));
        }
    }
}
