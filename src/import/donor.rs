//! The sender's name in a Vietnamese bank transfer's text.
//!
//! Without a donor column or a mapping's `donor_pattern`, the importer looks
//! for the name where the common transfer texts put it:
//!
//! ```text
//! CT nhanh 247 den: NGUYEN VAN AN chuyen tien ung ho …
//! TKThe :0491000012xxx tai VCB. MBVCB.7012345678.123456.LE THI HOA ung ho …
//! … ; thoi gian GD:15/09/2024 23:08:17 PHAM VAN BINH 103871234***
//! IBFT TRAN MINH CHAU chuyen khoan …
//! LE THI MAI UNG HO BA CON LU LUT FT24256123456789 -CTLNHIDI…
//! ```
//!
//! A name is a run of two to six upper-case or capitalised words
//! (diacritics allowed) at the start, after one of these markers or after
//! ` - `, ending at the first word that is not one: lower case, a number,
//! or a word of the transfer's own wording (`UNG HO`, `CHUYEN`, `CK` …).
//! Anything else is anonymous: a wrong name published is worse than none.

use regex::Regex;
use std::sync::LazyLock;

/// Where a name starts, most specific first; the name follows the match.
static MARKERS: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        r"(?i)\bthoi gian GD:\s*\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2}(?::\d{2})?\s+",
        r"\bMBVCB\.\d+\.(?:\d+\.)?",
        r"(?i)\bden:\s*",
        r"^(?:IBFT|IBT|CK|QR)\s+",
        r"\s-\s*",
        r"^",
        // Last: a bank's own field, which spells the name in capitals even
        // when the sender's words at the start did not.
        r"(?i)\bnguoi chuyen:\s*",
    ]
    .iter()
    .map(|pattern| Regex::new(pattern).expect("the built-in patterns compile"))
    .collect()
});

/// Upper-case words that belong to the transfer's wording, never to a
/// Vietnamese name. Words that are also names are not here: `HO` (Hồ),
/// `TANG` (Tăng), `BAO` (Bảo), `TIEN` (Tiến), `DONG` (Đông), `TRUNG`,
/// `TAI` (Tài), `QUY` (Quý), `TU` (Tú), `THE` (Thế); `UNG HO` stops at
/// `UNG`, `CHUYEN TIEN` at `CHUYEN`.
const WORDING: [&str; 23] = [
    "UNG", "CHUYEN", "CK", "CT", "MTTQ", "UH", "IBFT", "MBVCB", "VCB", "BIDV", "VTB", "TK",
    "TKTHE", "ND", "NOP", "GUI", "CUU", "TRO", "DEN", "TOI", "GD", "REF", "KHACH",
];

/// A word of a name: upper case (`NGUYEN`, `NGUYỄN`) or capitalised
/// (`Nguyen`), letters only.
fn is_name_word(word: &str) -> bool {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) if first.is_uppercase() => {
            let rest: Vec<char> = chars.collect();
            rest.iter().all(|c| c.is_uppercase()) || rest.iter().all(|c| c.is_lowercase())
        }
        _ => false,
    }
}

/// The most words a name has, and the least.
const MAX_WORDS: usize = 6;
const MIN_WORDS: usize = 2;

/// The sender's name in `description` (one line, normalised), if one of the
/// common shapes holds it.
pub fn builtin_donor(description: &str) -> Option<String> {
    MARKERS.iter().find_map(|marker| {
        marker
            .find_iter(description)
            .find_map(|found| name_at(&description[found.end()..]))
    })
}

fn name_at(text: &str) -> Option<String> {
    let mut words = Vec::new();
    for word in text.split(' ') {
        // Punctuation after a word ends the name there (`… - LE VAN AN; So
        // GD`, `… - LE VAN AN.CT tu …`).
        let core = word.split([';', ',', '.', ':']).next().unwrap_or_default();
        if !is_name_word(core) || WORDING.contains(&core.to_uppercase().as_str()) {
            break;
        }
        words.push(core);
        if words.len() > MAX_WORDS {
            return None;
        }
        if core.len() < word.len() {
            break;
        }
    }
    (words.len() >= MIN_WORDS).then(|| words.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_out_of_the_common_shapes() {
        for (text, name) in [
            (
                "CT nhanh 247 den: NGUYEN VAN AN chuyen tien ung ho dong bao",
                Some("NGUYEN VAN AN"),
            ),
            (
                "TKThe :0491000012xxx tai VCB. MBVCB.7012345678.123456.LE THI HOA ung ho mien Bac",
                Some("LE THI HOA"),
            ),
            (
                "ung ho bao lu ; thoi gian GD:15/09/2024 23:08:17 PHAM VAN BINH 103871234***",
                Some("PHAM VAN BINH"),
            ),
            // A bank's trailer after ` - ` is not a name (`Ma GD` is "mã
            // giao dịch"), but the sender it names further on is.
            (
                "ung ho dong bao - Ma GD ACSP/ LU123456 ; tu TK 0123456789 NGUYEN VAN AN tai BIDV",
                None,
            ),
            (
                "ung ho mien Trung; So GD 123456 ; REF 99 ; Ngan hang chuyen: VCB ; Nguoi chuyen: TRAN THI BE ; TK: 0123",
                Some("TRAN THI BE"),
            ),
            // `KHACH HANG` ("customer") is the bank's word for a sender it
            // does not name.
            (
                "ung ho; So GD 1 ; REF 2 ; Ngan hang chuyen: MB ; Nguoi chuyen: KHACH HANG ; TK: 3",
                None,
            ),
            (
                "Tran Minh Tu ung ho; So GD 1 ; Nguoi chuyen: TRAN MINH TU ; TK: 3",
                Some("Tran Minh Tu"),
            ),
            (
                "ung ho ba con mien Bac - HOANG MINH BINH; So GD 476862014 ; REF 9",
                Some("HOANG MINH BINH"),
            ),
            (
                "ung ho ba con mien Bac - DUONG NGOC DUNG.CT tu 2328894537697 DUONG NGOC DUNG toi 0011",
                Some("DUONG NGOC DUNG"),
            ),
            (
                "IBFT TRAN MINH CHAU chuyen khoan ung ho",
                Some("TRAN MINH CHAU"),
            ),
            (
                "LE THI MAI UNG HO BA CON LU LUT FT24256123456789 -CTLNHIDI000123",
                Some("LE THI MAI"),
            ),
            ("NGUYỄN THỊ ÁNH ủng hộ", Some("NGUYỄN THỊ ÁNH")),
            ("Nguyen Van An ung ho dong bao", Some("Nguyen Van An")),
            ("ung ho ba con mien Bac - HO VAN TIEN", Some("HO VAN TIEN")),
            ("Ung Ho Dong Bao", None),
            ("Ho tro dong bao", None),
            ("Ung ho dong bao mien Bac", None),
            ("UNG HO DONG BAO", None),
            ("MTTQ VN", None),
            ("CT nhanh 247 den: chuyen tien", None),
        ] {
            assert_eq!(builtin_donor(text).as_deref(), name, "{text}");
        }
    }
}
