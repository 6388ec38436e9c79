//! Keyed commitments of private fields (citizen ID, phone number).
//!
//! The published ledger must not let anyone recover a citizen ID, yet the
//! portal must refuse one ID registered on two households and an inspector
//! holding the secret must be able to match a record. An HMAC-SHA256 under a
//! portal secret kept outside `ledger/` does all three: without the secret the
//! 10^12 possible IDs cannot be enumerated; with it, equal IDs give equal tags.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The length of the portal secret, in bytes.
pub const SECRET_LEN: usize = 32;

/// The portal secret. Its `Debug` form hides the bytes so it never reaches a
/// log or an error message.
#[derive(Clone)]
pub struct Secret([u8; SECRET_LEN]);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

impl Secret {
    pub fn from_bytes(bytes: [u8; SECRET_LEN]) -> Secret {
        Secret(bytes)
    }

    /// A new random secret from the operating system's generator.
    pub fn generate() -> Secret {
        use rand_core::RngCore;
        let mut bytes = [0u8; SECRET_LEN];
        rand_core::OsRng.fill_bytes(&mut bytes);
        Secret(bytes)
    }

    /// The secret file's text: 64 hex digits and a newline.
    pub fn to_file_text(&self) -> String {
        format!("{}\n", hex(&self.0))
    }

    /// Parses the secret file's text.
    pub fn parse(text: &str) -> Result<Secret, &'static str> {
        let digits = text.trim();
        if digits.len() != SECRET_LEN * 2 {
            return Err("the portal secret must be 64 hexadecimal digits");
        }
        let mut bytes = [0u8; SECRET_LEN];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&digits[i * 2..i * 2 + 2], 16)
                .map_err(|_| "the portal secret must be 64 hexadecimal digits")?;
        }
        Ok(Secret(bytes))
    }

    /// The commitment of a private value under this secret, as hex. `field`
    /// separates domains, so a phone number and an ID with the same digits
    /// give different tags.
    pub fn commit(&self, field: &str, value: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC accepts any key length");
        mac.update(b"minhbach/");
        mac.update(field.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        hex(&mac.finalize().into_bytes())
    }
}

/// Bytes as lowercase hexadecimal: the one spelling of hashes and MACs
/// in files and names.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(DIGITS[(byte >> 4) as usize] as char);
        out.push(DIGITS[(byte & 15) as usize] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commitments_are_keyed_and_domain_separated() {
        let a = Secret::from_bytes([1; 32]);
        let b = Secret::from_bytes([2; 32]);
        let id = "045090001234";
        assert_eq!(a.commit("citizen_id", id), a.commit("citizen_id", id));
        assert_ne!(a.commit("citizen_id", id), b.commit("citizen_id", id));
        assert_ne!(a.commit("citizen_id", id), a.commit("phone", id));
        assert!(!a.commit("citizen_id", id).contains(id));
        assert_eq!(a.commit("citizen_id", id).len(), 64);
    }

    #[test]
    fn secret_file_round_trips_and_debug_hides_it() {
        let secret = Secret::generate();
        let parsed = Secret::parse(&secret.to_file_text()).unwrap();
        assert_eq!(parsed.commit("x", "y"), secret.commit("x", "y"));
        assert_eq!(format!("{secret:?}"), "Secret(…)");
        assert!(Secret::parse("abc").is_err());
    }
}
