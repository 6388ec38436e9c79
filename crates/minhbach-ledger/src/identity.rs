//! Which recorded donation a bank transfer is: the transaction identity.
//!
//! Banks re-issue statements for overlapping periods and write the copies
//! differently (account numbers masked, text appended to the description,
//! `0:54:04` for `00:54:04`, row numbers restarting), and some number their
//! transfers only within a day. A transfer is therefore recognised by what
//! every copy agrees on: the fund, the account, the booking date and time,
//! the amount and, where it is a real one, the bank's reference. Never by the
//! description, never by one column alone. Equal transfers (two identical
//! gifts on one day) are paired one to one in order, so both count.
//!
//! Keys are kept as hashes, so a national ledger's millions of donations
//! cost 16 bytes each: SipHash-1-3 with fixed keys (a specified function,
//! so every build judges a ledger the same way), 128 bits where the ledger
//! refuses on a match and 64 bits where an import only pairs rows.

use super::entry::{Body, Channel, Donation, Entry};
use siphasher::sip128::{Hash128, Hasher128, SipHasher13};
use std::hash::Hasher;

/// What identifies a transfer, borrowed from a donation or a statement row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransferKey<'a> {
    pub fund: &'a str,
    pub account: Option<&'a str>,
    pub date: &'a str,
    pub time: Option<&'a str>,
    pub amount: u64,
    /// The bank's reference, only where it is a real one (unique, or unique
    /// within a day); a row number never is.
    pub reference: Option<&'a str>,
}

impl<'a> TransferKey<'a> {
    pub fn of(donation: &'a Donation) -> TransferKey<'a> {
        TransferKey {
            fund: &donation.fund,
            account: donation.account.as_deref(),
            date: &donation.date,
            time: donation.booking_time.as_deref(),
            amount: donation.amount.get(),
            reference: donation.reference.as_deref(),
        }
    }

    /// The key of the whole identity, for pairing rows with entries.
    pub fn identity(&self) -> u64 {
        let mut fields = start(b'i', self.fund, self.account, self.date);
        fields.field(self.time);
        fields.write(&self.amount.to_le_bytes());
        fields.field(self.reference);
        fields.finish128().h1
    }

    /// The key of (fund, account, date, reference): a bank reference is
    /// recorded once per account and booking day. `None` without one.
    pub fn reference_day(&self) -> Option<u128> {
        let reference = self.reference?;
        let mut fields = start(b'r', self.fund, self.account, self.date);
        fields.field(Some(reference));
        Some(fields.finish128().into())
    }
}

/// A donation's keys, hashed once: `verify` hashes them where it decodes
/// the entry (in parallel) and the in-order judge only looks them up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransferHashes {
    /// `TransferKey::reference_day`.
    pub reference_day: Option<u128>,
    /// `TransferKey::identity`, for a bank transfer (the only channel with
    /// a statement to pair).
    pub identity: Option<u64>,
}

impl TransferHashes {
    pub fn of(donation: &Donation) -> TransferHashes {
        let key = TransferKey::of(donation);
        TransferHashes {
            reference_day: key.reference_day(),
            identity: (donation.channel == Channel::Bank).then(|| key.identity()),
        }
    }

    /// The keys of a donation entry; `None` for any other entry.
    pub fn of_entry(entry: &Entry) -> Option<TransferHashes> {
        match &entry.body {
            Body::Donation(donation) => Some(TransferHashes::of(donation)),
            _ => None,
        }
    }
}

const KEYS: (u64, u64) = (0x6d69_6e68_6261_6368, 0x7472_616e_7366_6572);

fn start(domain: u8, fund: &str, account: Option<&str>, date: &str) -> Fields {
    let mut fields = Fields {
        hasher: SipHasher13::new_with_keys(KEYS.0, KEYS.1),
        buffer: [0; 128],
        length: 0,
    };
    fields.write(&[domain]);
    fields.field(Some(fund));
    fields.field(account);
    fields.field(Some(date));
    fields
}

/// The bytes of a key's fields, gathered and handed to SipHash in one
/// `write` (or one per 128 bytes): the hash of their concatenation, as a
/// `write` per field would give, but a `write` costs about as much for one
/// byte as for a word, and `verify` hashes two keys per donation.
struct Fields {
    hasher: SipHasher13,
    buffer: [u8; 128],
    length: usize,
}

impl Fields {
    /// A field, length-prefixed so no two field lists hash the same bytes.
    fn field(&mut self, value: Option<&str>) {
        match value {
            None => self.write(&[0]),
            Some(text) => {
                self.write(&[1]);
                self.write(&(text.len() as u64).to_le_bytes());
                self.write(text.as_bytes());
            }
        }
    }

    fn write(&mut self, bytes: &[u8]) {
        if self.length + bytes.len() > self.buffer.len() {
            self.flush();
            if bytes.len() > self.buffer.len() {
                self.hasher.write(bytes);
                return;
            }
        }
        self.buffer[self.length..self.length + bytes.len()].copy_from_slice(bytes);
        self.length += bytes.len();
    }

    fn flush(&mut self) {
        self.hasher.write(&self.buffer[..self.length]);
        self.length = 0;
    }

    fn finish128(mut self) -> Hash128 {
        self.flush();
        self.hasher.finish128()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(time: Option<&'static str>, reference: Option<&'static str>) -> TransferKey<'static> {
        TransferKey {
            fund: "bao-yagi",
            account: Some("0011001932418"),
            date: "2024-09-10",
            time,
            amount: 500_000,
            reference,
        }
    }

    #[test]
    fn every_part_of_the_identity_counts() {
        let base = key(Some("00:54:04"), Some("5213"));
        assert_eq!(
            base.identity(),
            key(Some("00:54:04"), Some("5213")).identity()
        );
        assert_ne!(
            base.identity(),
            key(Some("00:54:05"), Some("5213")).identity()
        );
        assert_ne!(base.identity(), key(None, Some("5213")).identity());
        assert_ne!(base.identity(), key(Some("00:54:04"), None).identity());
        assert_ne!(
            base.identity(),
            TransferKey {
                amount: 500_001,
                ..base
            }
            .identity()
        );
        assert_ne!(
            base.identity(),
            TransferKey {
                account: None,
                ..base
            }
            .identity()
        );
        assert_ne!(
            base.identity(),
            TransferKey {
                date: "2024-09-11",
                ..base
            }
            .identity()
        );
        // Fields cannot bleed into each other.
        assert_ne!(
            TransferKey {
                fund: "a",
                account: Some("bc"),
                ..base
            }
            .identity(),
            TransferKey {
                fund: "ab",
                account: Some("c"),
                ..base
            }
            .identity()
        );
    }

    /// The keys are SipHash-1-3 of the length-prefixed fields' bytes, one
    /// after the other, however they are handed to it: a field longer than
    /// the gathering buffer included.
    #[test]
    fn a_key_is_siphash_of_its_fields_bytes() {
        fn expected(parts: &[&[u8]]) -> Hash128 {
            let mut hasher = SipHasher13::new_with_keys(KEYS.0, KEYS.1);
            hasher.write(&parts.concat());
            hasher.finish128()
        }
        fn text(value: &str) -> Vec<u8> {
            [
                &[1],
                &(value.len() as u64).to_le_bytes()[..],
                value.as_bytes(),
            ]
            .concat()
        }
        let long = "FT".repeat(100);
        for reference in ["5213", long.as_str()] {
            let key = key(None, None);
            let key = TransferKey {
                reference: Some(reference),
                ..key
            };
            let head = |domain: u8| {
                [
                    vec![domain],
                    text("bao-yagi"),
                    text("0011001932418"),
                    text("2024-09-10"),
                ]
                .concat()
            };
            let identity = expected(&[
                &head(b'i'),
                &[0],
                &500_000u64.to_le_bytes(),
                &text(reference),
            ]);
            assert_eq!(key.identity(), identity.h1);
            let day = expected(&[&head(b'r'), &text(reference)]);
            assert_eq!(key.reference_day(), Some(day.into()));
        }
    }

    #[test]
    fn a_reference_is_once_per_account_and_day() {
        let base = key(Some("00:54:04"), Some("5213"));
        let other_time = TransferKey {
            time: None,
            amount: 1,
            ..base
        };
        assert_eq!(base.reference_day(), other_time.reference_day());
        let other_day = TransferKey {
            date: "2024-09-11",
            ..base
        };
        assert_ne!(base.reference_day(), other_day.reference_day());
        assert_eq!(key(None, None).reference_day(), None);
    }
}
