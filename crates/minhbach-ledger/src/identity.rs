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
use siphasher::sip128::{Hasher128, SipHasher13};
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
        let mut hasher = start(b'i', self.fund, self.account, self.date);
        field(&mut hasher, self.time);
        hasher.write(&self.amount.to_le_bytes());
        field(&mut hasher, self.reference);
        hasher.finish128().h1
    }

    /// The key of (fund, account, date, reference): a bank reference is
    /// recorded once per account and booking day. `None` without one.
    pub fn reference_day(&self) -> Option<u128> {
        let reference = self.reference?;
        let mut hasher = start(b'r', self.fund, self.account, self.date);
        field(&mut hasher, Some(reference));
        Some(hasher.finish128().into())
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

fn start(domain: u8, fund: &str, account: Option<&str>, date: &str) -> SipHasher13 {
    let mut hasher = SipHasher13::new_with_keys(0x6d69_6e68_6261_6368, 0x7472_616e_7366_6572);
    hasher.write(&[domain]);
    field(&mut hasher, Some(fund));
    field(&mut hasher, account);
    field(&mut hasher, Some(date));
    hasher
}

/// A field, length-prefixed so no two field lists hash the same bytes.
fn field(hasher: &mut SipHasher13, value: Option<&str>) {
    match value {
        None => hasher.write(&[0]),
        Some(text) => {
            hasher.write(&[1]);
            hasher.write(&(text.len() as u64).to_le_bytes());
            hasher.write(text.as_bytes());
        }
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
