//! Money: whole Vietnamese đồng, as an integer newtype with checked arithmetic.
//!
//! The ledger never sees floats. Amounts in entries are JSON integers; sums over
//! millions of donations use checked addition so an overflow is an error, not a
//! silently wrong total on a public page.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An amount of money in whole đồng. Zero is representable (a fund that has
/// received nothing yet), negative amounts are not.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Dong(u64);

/// The error returned when a sum or difference of amounts leaves the range of
/// `Dong`: a sum above `u64::MAX` đồng, or a balance below zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("amount overflow: the sum exceeds {} đồng", u64::MAX)]
    Overflow,
    #[error("amount underflow: {have} đồng is less than {take} đồng")]
    Underflow { have: u64, take: u64 },
}

impl Dong {
    pub const ZERO: Dong = Dong(0);

    /// The largest amount one field of an entry may hold (a donation, a
    /// disbursement, a fund's target, a household's planned support): 10^15
    /// đồng, a million billion, some forty times Vietnam's yearly state
    /// budget. No real amount comes near it; it keeps every amount exact as
    /// a JavaScript number (below 2^53) and leaves room for over 18,000 such
    /// entries before a ledger-wide total could leave `u64`, which `State`
    /// checks as well.
    pub const MAX_AMOUNT: Dong = Dong(1_000_000_000_000_000);

    pub const fn new(dong: u64) -> Dong {
        Dong(dong)
    }

    pub const fn get(self) -> u64 {
        self.0
    }

    pub fn checked_add(self, other: Dong) -> Result<Dong, MoneyError> {
        self.0
            .checked_add(other.0)
            .map(Dong)
            .ok_or(MoneyError::Overflow)
    }

    pub fn checked_sub(self, other: Dong) -> Result<Dong, MoneyError> {
        self.0
            .checked_sub(other.0)
            .map(Dong)
            .ok_or(MoneyError::Underflow {
                have: self.0,
                take: other.0,
            })
    }

    /// Sums amounts, failing on overflow rather than wrapping.
    pub fn sum<I: IntoIterator<Item = Dong>>(amounts: I) -> Result<Dong, MoneyError> {
        amounts.into_iter().try_fold(Dong::ZERO, Dong::checked_add)
    }
}

impl fmt::Display for Dong {
    /// Plain digits, as in the ledger; `vn::format_vnd` gives the public
    /// `1.250.000 ₫` form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn overflow_is_an_error() {
        assert_eq!(
            Dong::new(u64::MAX).checked_add(Dong::new(1)),
            Err(MoneyError::Overflow)
        );
        assert!(matches!(
            Dong::new(1).checked_sub(Dong::new(2)),
            Err(MoneyError::Underflow { have: 1, take: 2 })
        ));
    }

    proptest! {
        #[test]
        fn checked_sum_matches_u128(values in proptest::collection::vec(any::<u64>(), 0..50)) {
            let wide: u128 = values.iter().map(|v| *v as u128).sum();
            let got = Dong::sum(values.iter().copied().map(Dong::new));
            if wide > u64::MAX as u128 {
                prop_assert_eq!(got, Err(MoneyError::Overflow));
            } else {
                prop_assert_eq!(got, Ok(Dong::new(wide as u64)));
            }
        }

        #[test]
        fn add_then_sub_round_trips(a in any::<u64>(), b in any::<u64>()) {
            if let Ok(sum) = Dong::new(a).checked_add(Dong::new(b)) {
                prop_assert_eq!(sum.checked_sub(Dong::new(b)), Ok(Dong::new(a)));
            }
        }

        #[test]
        fn serde_is_a_plain_integer(a in any::<u64>()) {
            let json = serde_json::to_string(&Dong::new(a)).unwrap();
            prop_assert_eq!(&json, &a.to_string());
            prop_assert_eq!(serde_json::from_str::<Dong>(&json).unwrap(), Dong::new(a));
        }
    }
}
