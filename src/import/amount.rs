//! Amounts as banks print them, read into whole đồng.
//!
//! Every bank groups digits its own way: Vietcombank `1.000.000`, VietinBank
//! `400.000,00`, BIDV and Agribank `50,000` or `1,000,000.00`, some exports a
//! sign (`+500,000`, `-200,000`, `(200,000)`) or a currency (`500000 VND`).
//! The đồng has no subunit in use, so a fraction that is not zero
//! (`1.000,50`) is refused rather than rounded: it means the column or the
//! decimal separator is wrong. Arithmetic is checked; nothing here uses floats.

use std::fmt;

/// Which character separates the (always zero) decimals from the đồng.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DecimalSeparator {
    /// Decide per value: when both `.` and `,` appear the last one is the
    /// decimal separator; a lone separator followed by exactly three digits
    /// groups thousands (`50,000`, `1.000`), otherwise it starts decimals.
    #[default]
    Auto,
    /// `1.000.000`, `400.000,00`.
    Comma,
    /// `1,000,000`, `1,000,000.00`.
    Dot,
}

/// A parsed amount with its sign: statements with one signed amount column
/// show debits as negative numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignedAmount {
    pub negative: bool,
    pub dong: u64,
}

/// Why a text is not an amount.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AmountError {
    Empty,
    /// A character that has no place in an amount.
    Unexpected(char),
    /// Digit groups that are not 1–3 digits followed by groups of three.
    Grouping,
    /// Decimals that are not all zero: a fraction of a đồng.
    Fraction,
    Overflow,
}

impl fmt::Display for AmountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AmountError::Empty => f.write_str("is empty"),
            AmountError::Unexpected(c) => write!(f, "has an unexpected character `{c}`"),
            AmountError::Grouping => f.write_str(
                "has digits grouped oddly (expected groups of three, such as 1.000.000 or 1,000,000)",
            ),
            AmountError::Fraction => f.write_str(
                "has a fraction of a đồng; amounts are whole đồng (is the decimal separator right?)",
            ),
            AmountError::Overflow => f.write_str("is too large"),
        }
    }
}

impl std::error::Error for AmountError {}

/// Currency words and signs that may stand before or after the number.
const CURRENCIES: [&str; 7] = ["vnđ", "vnd", "đồng", "dong", "đ", "₫", "d"];

/// Parses an amount of đồng as a bank printed it.
pub fn parse_amount(text: &str, decimal: DecimalSeparator) -> Result<SignedAmount, AmountError> {
    let mut rest = strip_currency(text.trim());
    let mut negative = false;
    if let Some(inner) = rest.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
        negative = true;
        rest = strip_currency(inner.trim());
    }
    if let Some(after) = rest.strip_prefix('-') {
        negative = !negative;
        rest = after.trim_start();
    } else if let Some(after) = rest.strip_prefix('+') {
        rest = after.trim_start();
    }
    if rest.is_empty() {
        return Err(AmountError::Empty);
    }
    let (integer, fraction) = split_decimal(rest, decimal)?;
    if !fraction.bytes().all(|b| b == b'0') {
        return Err(if fraction.bytes().all(|b| b.is_ascii_digit()) {
            AmountError::Fraction
        } else {
            AmountError::Unexpected(
                fraction
                    .chars()
                    .find(|c| !c.is_ascii_digit())
                    .unwrap_or('?'),
            )
        });
    }
    let dong = parse_grouped(integer)?;
    Ok(SignedAmount { negative, dong })
}

fn strip_currency(text: &str) -> &str {
    let mut text = text;
    loop {
        let before = text;
        for currency in CURRENCIES {
            if let Some(rest) = strip_prefix_ignore_case(text, currency) {
                text = rest.trim_start();
            }
            if let Some(rest) = strip_suffix_ignore_case(text, currency) {
                text = rest.trim_end();
            }
        }
        if text == before {
            return text;
        }
    }
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    let rest = &text[prefix.len()..];
    // `d` alone is a currency only when it is not the start of a word.
    let next_is_letter = rest.chars().next().is_some_and(char::is_alphabetic);
    (head.to_lowercase() == prefix && !next_is_letter).then_some(rest)
}

fn strip_suffix_ignore_case<'a>(text: &'a str, suffix: &str) -> Option<&'a str> {
    let start = text.len().checked_sub(suffix.len())?;
    let tail = text.get(start..)?;
    let rest = &text[..start];
    let previous_is_letter = rest.chars().next_back().is_some_and(char::is_alphabetic);
    (tail.to_lowercase() == suffix && !previous_is_letter).then_some(rest)
}

/// Splits into the integer part (with its grouping) and the decimals.
fn split_decimal(text: &str, decimal: DecimalSeparator) -> Result<(&str, &str), AmountError> {
    let separator = match decimal {
        DecimalSeparator::Comma => Some(','),
        DecimalSeparator::Dot => Some('.'),
        DecimalSeparator::Auto => guess_decimal(text),
    };
    match separator.and_then(|s| text.rfind(s).map(|at| (s, at))) {
        Some((s, at)) => {
            let (integer, fraction) = (&text[..at], &text[at + s.len_utf8()..]);
            if integer.contains(s) {
                // `1,000,000` read with a comma decimal separator.
                return Err(AmountError::Grouping);
            }
            let grouping = if s == ',' { '.' } else { ',' };
            if fraction.contains(grouping) {
                return Err(AmountError::Grouping);
            }
            Ok((integer, fraction))
        }
        None => Ok((text, "")),
    }
}

/// The decimal separator of a value in a file that did not say.
fn guess_decimal(text: &str) -> Option<char> {
    let last_dot = text.rfind('.');
    let last_comma = text.rfind(',');
    match (last_dot, last_comma) {
        (Some(dot), Some(comma)) => Some(if dot > comma { '.' } else { ',' }),
        (Some(at), None) | (None, Some(at)) => {
            let separator = text[at..].chars().next()?;
            let occurrences = text.matches(separator).count();
            let digits_after = text[at + 1..].len();
            if occurrences > 1 || digits_after == 3 {
                None
            } else {
                Some(separator)
            }
        }
        (None, None) => None,
    }
}

/// Reads digits grouped by `.`, `,` or spaces (one kind per number), with
/// checked arithmetic.
fn parse_grouped(text: &str) -> Result<u64, AmountError> {
    let is_space = |c: char| c == ' ' || c == '\u{a0}' || c == '\u{202f}';
    let mut separator: Option<char> = None;
    let mut groups: Vec<&str> = Vec::new();
    let mut start = 0;
    for (at, c) in text.char_indices() {
        if c.is_ascii_digit() {
            continue;
        }
        let kind = if is_space(c) { ' ' } else { c };
        if !matches!(kind, '.' | ',' | ' ') {
            return Err(AmountError::Unexpected(c));
        }
        match separator {
            Some(seen) if seen != kind => return Err(AmountError::Grouping),
            _ => separator = Some(kind),
        }
        groups.push(&text[start..at]);
        start = at + c.len_utf8();
    }
    groups.push(&text[start..]);
    if groups.len() > 1 {
        let first_ok = (1..=3).contains(&groups[0].len());
        if !first_ok || groups[1..].iter().any(|group| group.len() != 3) {
            return Err(AmountError::Grouping);
        }
    } else if groups[0].is_empty() {
        return Err(AmountError::Empty);
    }
    let mut value: u64 = 0;
    for digit in groups.iter().flat_map(|group| group.bytes()) {
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(digit - b'0')))
            .ok_or(AmountError::Overflow)?;
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn auto(text: &str) -> Result<SignedAmount, AmountError> {
        parse_amount(text, DecimalSeparator::Auto)
    }

    fn dong(value: u64) -> Result<SignedAmount, AmountError> {
        Ok(SignedAmount {
            negative: false,
            dong: value,
        })
    }

    #[test]
    fn the_banks_formats() {
        assert_eq!(auto("1.000.000"), dong(1_000_000));
        assert_eq!(auto("400.000,00"), dong(400_000));
        assert_eq!(auto("50,000"), dong(50_000));
        assert_eq!(auto("1,000,000.00"), dong(1_000_000));
        assert_eq!(auto("+500,000"), dong(500_000));
        assert_eq!(auto("500000 VND"), dong(500_000));
        assert_eq!(auto("500.000 ₫"), dong(500_000));
        assert_eq!(auto("500.000đ"), dong(500_000));
        assert_eq!(auto("VND 1 000 000"), dong(1_000_000));
        assert_eq!(auto("1.000"), dong(1_000));
        assert_eq!(auto("0"), dong(0));
        assert_eq!(auto("200000.0"), dong(200_000));
        assert_eq!(
            auto("-200,000"),
            Ok(SignedAmount {
                negative: true,
                dong: 200_000
            })
        );
        assert_eq!(
            auto("(1.500.000)"),
            Ok(SignedAmount {
                negative: true,
                dong: 1_500_000
            })
        );
    }

    #[test]
    fn fractions_and_nonsense_are_refused() {
        assert_eq!(auto("1.000,50"), Err(AmountError::Fraction));
        assert_eq!(auto("1,5"), Err(AmountError::Fraction));
        assert_eq!(auto("12.34.567"), Err(AmountError::Grouping));
        assert_eq!(auto("1.000,000.00"), Err(AmountError::Grouping));
        assert_eq!(auto(""), Err(AmountError::Empty));
        assert_eq!(auto("VND"), Err(AmountError::Empty));
        assert_eq!(auto("abc"), Err(AmountError::Unexpected('a')));
        assert_eq!(auto("99999999999999999999"), Err(AmountError::Overflow));
        assert_eq!(
            parse_amount("1,000,000", DecimalSeparator::Comma),
            Err(AmountError::Grouping)
        );
        assert_eq!(
            parse_amount("1.005", DecimalSeparator::Dot),
            Err(AmountError::Fraction)
        );
    }

    #[test]
    fn an_explicit_separator_settles_ambiguity() {
        assert_eq!(parse_amount("1.000", DecimalSeparator::Comma), dong(1_000));
        assert_eq!(parse_amount("1,000", DecimalSeparator::Dot), dong(1_000));
        assert_eq!(parse_amount("250,00", DecimalSeparator::Comma), dong(250));
    }

    fn group(value: u64, separator: char) -> String {
        let digits = value.to_string();
        let mut out = String::new();
        for (index, digit) in digits.chars().enumerate() {
            if index > 0 && (digits.len() - index).is_multiple_of(3) {
                out.push(separator);
            }
            out.push(digit);
        }
        out
    }

    proptest! {
        #[test]
        fn every_bank_style_reads_back(value in any::<u64>()) {
            let styles = [
                (group(value, '.'), DecimalSeparator::Comma),
                (format!("{},00", group(value, '.')), DecimalSeparator::Comma),
                (group(value, ','), DecimalSeparator::Dot),
                (format!("{}.00", group(value, ',')), DecimalSeparator::Dot),
                (format!("+{}", group(value, ',')), DecimalSeparator::Dot),
                (format!("{value} VND"), DecimalSeparator::Auto),
                (format!("{},00", group(value, '.')), DecimalSeparator::Auto),
                (format!("{}.00", group(value, ',')), DecimalSeparator::Auto),
            ];
            for (text, decimal) in styles {
                prop_assert_eq!(parse_amount(&text, decimal), dong(value), "{}", text);
            }
            prop_assert_eq!(
                parse_amount(&format!("-{}", group(value, ',')), DecimalSeparator::Dot),
                Ok(SignedAmount { negative: true, dong: value })
            );
        }

        #[test]
        fn grouped_without_decimals_reads_back_in_auto(value in 1_000u64..) {
            // Two or more groups, or one group of three after the separator:
            // never mistaken for decimals.
            prop_assert_eq!(auto(&group(value, '.')), dong(value));
            prop_assert_eq!(auto(&group(value, ',')), dong(value));
        }

        #[test]
        fn fractions_of_a_dong_are_refused(value in 0u64..1_000_000_000, cents in 1u32..100) {
            let text = format!("{},{cents:02}", group(value, '.'));
            prop_assert_eq!(parse_amount(&text, DecimalSeparator::Comma), Err(AmountError::Fraction));
            let text = format!("{}.{cents:02}", group(value, ','));
            prop_assert_eq!(parse_amount(&text, DecimalSeparator::Auto), Err(AmountError::Fraction));
        }

        #[test]
        fn never_panics(text in "\\PC{0,24}") {
            let _ = auto(&text);
            let _ = parse_amount(&text, DecimalSeparator::Comma);
            let _ = parse_amount(&text, DecimalSeparator::Dot);
        }

        #[test]
        fn overflow_is_an_error_not_a_wrap(extra in 1u64..1000) {
            let text = format!("{}{:03}", u64::MAX / 1000 + extra, 0);
            prop_assert_eq!(auto(&text), Err(AmountError::Overflow));
        }
    }
}
