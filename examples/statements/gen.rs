//! Bank statements shaped like the real ones of the 2024 typhoon-relief
//! campaign, with the truth kept beside them, so name extraction and
//! de-duplication can be scored.
//!
//! One fund with three accounts, all in September 2024, in the layout
//! volunteers transcribed from the banks' PDFs (`date,bank,id,money,desc,page`):
//!
//! - account A (`VCB`): `id` is a row number; two statements overlap (1–12
//!   and 10–17 September); the second re-issues 10–12 September with masked
//!   account numbers, text appended to each description, one-digit hours
//!   and its own row numbers;
//! - account B (`VTB`): `id` is the bank's number, restarting every day, so
//!   the same number comes back on other days for other transfers; runs of
//!   identical `Ung ho` rows told apart only by it; dates without a year;
//! - account C (`BIDV`): row numbers restarting in each of its two files.
//!
//! Everywhere: the sender's name inside free text in the banks' shapes,
//! trailing and doubled spaces, zero-amount and debit lines, and a few
//! genuinely identical transfers (same time, amount and text).

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;

pub const ACCOUNTS: [(&str, &str, &str); 3] = [
    ("970436", "0011001932418", "VCB"),
    ("970415", "1122334455", "VTB"),
    ("970418", "31410001234567", "BIDV"),
];

/// The mapping of accounts A and C: `id` is a row number.
pub const ROW_MAPPING: &str = "year = 2024\ndate_format = [\"%d/%m %H:%M:%S\", \"%d/%m\"]\nref_kind = \"row\"\n[columns]\ndate = \"date\"\nref = \"id\"\namount = \"money\"\ndescription = \"desc\"\n";
/// The mapping of account B: `id` is the bank's number within a day.
pub const DAILY_MAPPING: &str = "year = 2024\ndate_format = [\"%d/%m %H:%M:%S\", \"%d/%m\"]\nref_kind = \"daily\"\n[columns]\ndate = \"date\"\nref = \"id\"\namount = \"money\"\ndescription = \"desc\"\n";

/// One real transfer.
#[derive(Clone, Debug)]
pub struct Transfer {
    pub account: usize,
    pub day: u32,
    pub seconds: u32,
    pub amount: u64,
    /// The sender's name as the bank writes it; `None` for an anonymous text.
    pub name: Option<String>,
    pub description: String,
    /// The bank's number within the day (account B).
    pub number: u32,
}

/// A statement file: its name, account, mapping and CSV text, and for each
/// data row (from row 2) the transfer it shows (`None`: zero or debit).
pub struct Statement {
    pub file: String,
    pub account: usize,
    pub daily: bool,
    pub text: String,
    pub rows: Vec<Option<usize>>,
}

pub struct Generated {
    pub transfers: Vec<Transfer>,
    pub statements: Vec<Statement>,
}

impl Generated {
    pub fn total(&self) -> u64 {
        self.transfers.iter().map(|t| t.amount).sum()
    }
}

struct Rng(ChaCha8Rng);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0.next_u64() % n
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
    fn digits(&mut self, count: usize) -> String {
        (0..count)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }
}

// Unaccented, as banks write them; given names that are also transfer
// words (BAO, TRUNG, TIEN, DONG, TAI, QUY, TU) and the family names HO and
// TANG are here on purpose.
const FAMILY: [&str; 16] = [
    "NGUYEN", "TRAN", "LE", "PHAM", "HOANG", "HUYNH", "PHAN", "VU", "VO", "DANG", "BUI", "DO",
    "HO", "NGO", "DUONG", "TANG",
];
const MIDDLE: [&str; 8] = ["VAN", "THI", "MINH", "DUC", "NGOC", "THANH", "HUU", "XUAN"];
const GIVEN: [&str; 24] = [
    "AN", "BINH", "CHAU", "DUNG", "HOA", "HUONG", "LAN", "MAI", "NAM", "PHUONG", "QUANG", "SON",
    "THAO", "TUAN", "VY", "YEN", "BAO", "TRUNG", "TIEN", "DONG", "TAI", "QUY", "TU", "LINH",
];
const ROUND: [u64; 8] = [
    50_000, 100_000, 200_000, 300_000, 500_000, 1_000_000, 2_000_000, 5_000_000,
];

fn name(rng: &mut Rng) -> String {
    let mut words = vec![rng.pick(&FAMILY), rng.pick(&MIDDLE)];
    if rng.below(5) == 0 {
        words.push(rng.pick(&MIDDLE));
    }
    words.push(rng.pick(&GIVEN));
    words.join(" ")
}

fn amount(rng: &mut Rng) -> u64 {
    match rng.below(100) {
        0..=84 => ROUND[rng.below(ROUND.len() as u64) as usize],
        85..=98 => 10_000 * (1 + rng.below(300)),
        _ => 1_000_000 * (10 + rng.below(40)),
    }
}

/// A description in one of the shapes banks write, with the name in it.
fn described(rng: &mut Rng, name: &str, day: u32, seconds: u32) -> String {
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    match rng.below(9) {
        0 => format!("CT nhanh 247 den: {name} chuyen tien ung ho dong bao bi bao lu"),
        1 => format!(
            "TKThe :{}{} tai VCB. MBVCB.{}.{}.{name} ung ho mien Bac",
            "0491000",
            rng.digits(6),
            rng.digits(10),
            rng.digits(6)
        ),
        2 => format!(
            "Ung ho dong bao bi lu lut ; thoi gian GD:{day:02}/09/2024 {h:02}:{m:02}:{s:02} {name} {}***",
            rng.digits(9)
        ),
        3 => format!("IBFT {name} chuyen khoan ung ho"),
        4 => format!(
            "{name} UNG HO BA CON LU LUT FT24{} -CTLNHIDI{}",
            rng.digits(12),
            rng.digits(6)
        ),
        5 => format!("{name} chuyen tien ung ho"),
        // Typed by the sender: capitalised, or after a dash.
        6 => format!("{} ung ho dong bao", capitalised(name)),
        7 => format!("ung ho ba con mien Bac - {name}"),
        // Beyond the built-in shapes: the name in lower case.
        _ => format!("ung ho tu {}", name.to_lowercase()),
    }
}

/// `NGUYEN VAN AN` → `Nguyen Van An`.
fn capitalised(name: &str) -> String {
    name.split(' ')
        .map(|word| word[..1].to_string() + &word[1..].to_lowercase())
        .collect::<Vec<_>>()
        .join(" ")
}

const ANONYMOUS: [&str; 4] = [
    "Ung ho dong bao mien Bac",
    "UNG HO DONG BAO BI BAO LU",
    "Ung ho",
    "ung ho ba con vung lu",
];

/// Real texts carry trailing and doubled spaces.
fn messy(rng: &mut Rng, text: &str) -> String {
    match rng.below(10) {
        0 => format!("{text}  "),
        1 => text.replacen(' ', "  ", 1),
        _ => text.to_string(),
    }
}

/// How long the bank's texts are: `Short`, the shapes above alone (about
/// 55 characters on average, the statements of issue 16); `Long`, most of
/// them followed by what the banks add after the sender's words (the
/// sending account and bank, transaction numbers, the receiving account's
/// holder), as on the real 2024 statements: about 120 characters on
/// average, as the lookup benchmarks of issue 17 need. The same transfers
/// either way (the trailers draw from their own random stream).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(dead_code)] // each user of this file needs only some of its forms
pub enum Texts {
    Short,
    Long,
}

const BANKS: [&str; 6] = [
    "Techcombank",
    "MB Bank",
    "VietinBank",
    "ACB",
    "TPBank",
    "Agribank",
];

/// What a bank writes after the sender's words, by receiving account.
fn with_trailer(rng: &mut Rng, account: usize, text: &str, name: Option<&str>, day: u32) -> String {
    let name = name.unwrap_or("KHACH HANG");
    match (account, rng.below(4)) {
        (_, 0) => text.to_string(),
        (0, _) => format!(
            "{text}.CT tu {} {name} toi 0011001932418 UY BAN TRUNG UONG MAT TRAN TO QUOC VIET NAM tai Vietcombank",
            rng.digits(13)
        ),
        (1, _) => format!(
            "{text} - Ma GD ACSP/ {}{} ; tu TK {} {name} tai {} ; Ngay GD {day:02}/09/2024",
            rng.pick(&["LU", "VT", "ZX", "QH"]),
            rng.digits(6),
            rng.digits(10),
            rng.pick(&BANKS)
        ),
        _ => format!(
            "{text}; So GD {} ; REF {} ; Ngan hang chuyen: {} ; Nguoi chuyen: {name} ; TK: {}",
            rng.digits(9),
            rng.digits(12),
            rng.pick(&BANKS),
            rng.digits(12)
        ),
    }
}

/// Generates about `count` transfers (at least a few per account and day).
pub fn generate(count: usize, seed: u64) -> Generated {
    generate_with(count, seed, Texts::Short)
}

/// `generate`, with the bank's texts as long as `texts` says.
pub fn generate_with(count: usize, seed: u64, texts: Texts) -> Generated {
    let mut trailers = Rng(ChaCha8Rng::seed_from_u64(seed ^ 0x7e47));
    let mut rng = Rng(ChaCha8Rng::seed_from_u64(seed));
    let mut transfers = Vec::with_capacity(count + count / 50);
    let per_day = (count / (3 * 17)).max(4);
    for account in 0..3 {
        for day in 1..=17u32 {
            let mut number = 5000;
            let mut seconds: u32 = rng.below(600) as u32;
            let mut left = per_day;
            while left > 0 {
                seconds =
                    (seconds + 1 + rng.below((86_000 / per_day as u64).max(2)) as u32).min(86_399);
                let anonymous = rng.below(100) < 15;
                let who = (!anonymous).then(|| name(&mut rng));
                let text = match &who {
                    Some(who) => described(&mut rng, who, day, seconds),
                    None => rng.pick(&ANONYMOUS).to_string(),
                };
                let text = match texts {
                    Texts::Short => text,
                    Texts::Long => with_trailer(&mut trailers, account, &text, who.as_deref(), day),
                };
                // A run of identical gifts: same time, amount and text; the
                // bank's number tells them apart on account B, nothing on A
                // and C (each still counts).
                let run = if anonymous && rng.below(4) == 0 {
                    2 + rng.below(3) as usize
                } else {
                    1
                };
                let value = amount(&mut rng);
                for _ in 0..run.min(left) {
                    number += 1;
                    transfers.push(Transfer {
                        account,
                        day,
                        seconds,
                        amount: value,
                        name: who.clone(),
                        description: messy(&mut rng, &text),
                        number,
                    });
                    left -= 1;
                }
            }
        }
    }
    let files: [(&str, usize, std::ops::RangeInclusive<u32>, bool); 6] = [
        ("a-01-12.csv", 0, 1..=12, false),
        ("a-10-17.csv", 0, 10..=17, true),
        ("b-01-09.csv", 1, 1..=9, false),
        ("b-10-17.csv", 1, 10..=17, false),
        ("c-01-08.csv", 2, 1..=8, false),
        ("c-09-17.csv", 2, 9..=17, false),
    ];
    let mut statements = Vec::new();
    for (file, account, days, reissued) in files {
        let daily = account == 1;
        let mut text = String::from("date,bank,id,money,desc,page\n");
        let mut rows = Vec::new();
        let mut row_number = 0u64;
        for (index, transfer) in transfers.iter().enumerate() {
            if transfer.account != account || !days.contains(&transfer.day) {
                continue;
            }
            // Zero-amount and debit lines between the credits.
            if rng.below(300) == 0 {
                row_number += 1;
                let money = if rng.below(2) == 0 { "0" } else { "-22.000" };
                text.push_str(&line(
                    transfer.day,
                    transfer.seconds,
                    false,
                    &row_number.to_string(),
                    money,
                    "Phi quan ly tai khoan",
                    ACCOUNTS[account].2,
                ));
                rows.push(None);
            }
            row_number += 1;
            let overlap = reissued && transfer.day <= 12;
            let description = if overlap {
                format!(
                    "{}.CT tu 0491000012xxx toi - CTLNHIDI{}; thoi gian GD:{:02}/09/2024 {}:",
                    mask(&transfer.description),
                    rng.digits(6),
                    transfer.day,
                    transfer.seconds / 3600
                )
            } else {
                transfer.description.clone()
            };
            let id = if daily {
                transfer.number.to_string()
            } else {
                row_number.to_string()
            };
            let one_digit_hour = overlap || daily;
            text.push_str(&line(
                transfer.day,
                transfer.seconds,
                one_digit_hour,
                &id,
                &group(transfer.amount),
                &description,
                ACCOUNTS[account].2,
            ));
            rows.push(Some(index));
        }
        statements.push(Statement {
            file: file.to_string(),
            account,
            daily,
            text,
            rows,
        });
    }
    Generated {
        transfers,
        statements,
    }
}

/// A re-issued statement masks the last three digits of account numbers.
fn mask(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut digits = 0;
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_digit() {
            digits += 1;
            let run_end = chars.get(i + 1).is_none_or(|n| !n.is_ascii_digit());
            if run_end && digits >= 13 {
                out.truncate(out.len() - 2);
                out.push_str("xxx");
                digits = 0;
                continue;
            }
        } else {
            digits = 0;
        }
        out.push(c);
    }
    out
}

fn group(amount: u64) -> String {
    let digits = amount.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    out
}

fn line(
    day: u32,
    seconds: u32,
    one_digit_hour: bool,
    id: &str,
    money: &str,
    desc: &str,
    bank: &str,
) -> String {
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    let time = if one_digit_hour {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{h:02}:{m:02}:{s:02}")
    };
    let desc = desc.replace('"', "\"\"");
    format!("{day:02}/09 {time},{bank},{id},\"{money}\",\"{desc}\",1\n")
}

/// How a ledger compares with the truth.
pub struct Score {
    pub transfers: usize,
    pub dong: u64,
    pub recorded: usize,
    pub recorded_dong: u64,
    pub unmatched: usize,
    pub named: usize,
    pub names_right: usize,
    pub names_wrong: usize,
    pub anonymous: usize,
    pub anonymous_right: usize,
}

impl std::fmt::Display for Score {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let percent = |a: usize, b: usize| 100.0 * a as f64 / b.max(1) as f64;
        writeln!(
            f,
            "transfers: {} true ({} đồng), {} recorded ({} đồng), {} recorded that match no transfer",
            self.transfers, self.dong, self.recorded, self.recorded_dong, self.unmatched
        )?;
        writeln!(
            f,
            "names: {} of {} named transfers right ({:.1} %), {} wrong ({:.1} %), the rest anonymous",
            self.names_right,
            self.named,
            percent(self.names_right, self.named),
            self.names_wrong,
            percent(self.names_wrong, self.named)
        )?;
        write!(
            f,
            "anonymous texts: {} of {} recorded anonymous ({:.1} %); all rows right: {:.1} %",
            self.anonymous_right,
            self.anonymous,
            percent(self.anonymous_right, self.anonymous),
            percent(
                self.names_right + self.anonymous_right,
                self.named + self.anonymous
            )
        )
    }
}

/// Pairs the ledger's donations (account, date, booking time, amount,
/// description, donor) with the true transfers by what identifies
/// them and the text of their first copy, and counts names.
pub fn compare(generated: &Generated, donations: &[[String; 6]]) -> Score {
    let key = |account: &str, date: &str, time: &str, amount: &str, text: &str| {
        format!("{account}|{date}|{time}|{amount}|{text}")
    };
    let mut truth: HashMap<String, Vec<Option<String>>> = HashMap::new();
    for t in &generated.transfers {
        let time = format!(
            "{:02}:{:02}:{:02}",
            t.seconds / 3600,
            t.seconds / 60 % 60,
            t.seconds % 60
        );
        let text = t
            .description
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        truth
            .entry(key(
                ACCOUNTS[t.account].1,
                &format!("2024-09-{:02}", t.day),
                &time,
                &t.amount.to_string(),
                &text,
            ))
            .or_default()
            .push(t.name.clone());
    }
    let mut score = Score {
        transfers: generated.transfers.len(),
        dong: generated.total(),
        recorded: donations.len(),
        recorded_dong: donations
            .iter()
            .map(|d| d[3].parse::<u64>().unwrap_or(0))
            .sum(),
        unmatched: 0,
        named: 0,
        names_right: 0,
        names_wrong: 0,
        anonymous: 0,
        anonymous_right: 0,
    };
    for [account, date, time, amount, text, donor] in donations {
        let Some(names) = truth
            .get_mut(&key(account, date, time, amount, text))
            .and_then(|n| n.pop())
        else {
            score.unmatched += 1;
            continue;
        };
        match names {
            Some(name) => {
                score.named += 1;
                // A capitalised name counts as right when it is the name.
                if donor.to_uppercase() == name {
                    score.names_right += 1;
                } else if !donor.is_empty() {
                    score.names_wrong += 1;
                    if std::env::var_os("SHOW_WRONG").is_some() {
                        eprintln!("wrong: {donor:?} for {name:?} in {text:?}");
                    }
                }
            }
            None => {
                score.anonymous += 1;
                if donor.is_empty() {
                    score.anonymous_right += 1;
                }
            }
        }
    }
    score
}
