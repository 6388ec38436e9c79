//! Vietnamese formats: `1.250.000 ₫`, `12/09/2025`.

/// Groups digits by thousands with dots, the Vietnamese way: `1.250.000`.
pub fn group_digits(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push('.');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_by_thousands() {
        assert_eq!(group_digits(0), "0");
        assert_eq!(group_digits(999), "999");
        assert_eq!(group_digits(1_000), "1.000");
        assert_eq!(group_digits(1_250_000), "1.250.000");
        assert_eq!(group_digits(u64::MAX), "18.446.744.073.709.551.615");
    }
}
