//! Bank statement rows into `donation` entries (channel `bank`).
//!
//! Every row read is accounted for, in rows and in đồng (`Statement`): added,
//! already recorded, a debit line, a zero amount, or rejected. A credit is
//! already recorded when the ledger holds a bank donation with the same
//! transaction identity (`ledger::identity`: fund, account, booking date and
//! time, amount, and the reference where it is a real one), paired one to
//! one in file order, so re-importing a statement or one that overlaps it
//! adds only what is new, and two identical transfers both count.
//!
//! Text is normalised, never refused for its spacing: trimmed, runs of
//! spaces collapsed, control characters removed, NFC. The donor is the donor
//! column, else the mapping's pattern, else the built-in shapes of
//! Vietnamese transfer texts (`donor`), else anonymous (or the description,
//! cut at a word boundary). The bank's text is kept whole as `description`.

use super::amount::{AmountError, parse_amount};
use super::batch::{Batch, Drive, ImportError, RowFixes, RowOutcome, SkipReason, Skipped, drive};
use super::date::{ledger_date, ledger_time, parse_date_time, parse_time};
use super::donor::builtin_donor;
use super::mapping::{DonorFallback, Field, Mapping, RefKind, fold_header};
use super::reader::{Cell, Position, Row};
use crate::ledger::entry::{Body, Channel, Donation, nfc};
use crate::ledger::identity::TransferKey;
use crate::ledger::{Pending, State};
use crate::money::Dong;
use ahash::AHashMap;
use rayon::prelude::*;
use std::path::Path;

/// The columns of a statement, in this order (see `Col`).
pub const FIELDS: [Field; 9] = [
    Field {
        key: "date",
        required: true,
        aliases: &[
            "date",
            "ngay giao dich",
            "ngay gd",
            "ngay",
            "ngay hach toan",
            "ngay chuyen",
            "transaction date",
            "posting date",
        ],
    },
    Field {
        key: "ref",
        required: false,
        aliases: &[
            "ref",
            "id",
            "reference",
            "so tham chieu",
            "ma giao dich",
            "ma gd",
            "so giao dich",
            "so but toan",
            "so ct",
            "so chung tu",
            "reference number",
            "ref no",
            "transaction id",
            "transaction no",
        ],
    },
    Field {
        key: "amount",
        required: true,
        aliases: &[
            "amount",
            "so tien ghi co",
            "ghi co",
            "so tien co",
            "phat sinh co",
            "credit amount",
            "credit",
            "so tien",
            "so tien giao dich",
            "money",
        ],
    },
    Field {
        key: "donor",
        required: false,
        aliases: &[
            "donor",
            "nguoi chuyen",
            "ten nguoi chuyen",
            "nguoi ung ho",
            "ten nguoi ung ho",
            "nha hao tam",
            "ten tai khoan doi ung",
            "ten doi ung",
            "ho ten",
            "ho va ten",
        ],
    },
    Field {
        key: "note",
        required: false,
        aliases: &["note", "ghi chu"],
    },
    Field {
        key: "description",
        required: false,
        aliases: &[
            "description",
            "noi dung",
            "mo ta",
            "dien giai",
            "noi dung giao dich",
            "noi dung chuyen khoan",
            "chi tiet giao dich",
            "chi tiet",
            "transaction description",
            "details",
            "desc",
        ],
    },
    Field {
        key: "debit",
        required: false,
        aliases: &[
            "debit",
            "so tien ghi no",
            "ghi no",
            "so tien no",
            "phat sinh no",
            "debit amount",
        ],
    },
    Field {
        key: "type",
        required: false,
        aliases: &[
            "type",
            "loai",
            "loai giao dich",
            "loai gd",
            "no co",
            "c d",
            "d c",
            "dr cr",
            "credit debit",
        ],
    },
    Field {
        key: "time",
        required: false,
        aliases: &["time", "gio", "gio giao dich"],
    },
];

/// Indices into `FIELDS`.
#[derive(Clone, Copy)]
enum Col {
    Date = 0,
    Ref,
    Amount,
    Donor,
    Note,
    Description,
    Debit,
    Type,
    Time,
}

/// A statement import into one fund.
pub struct DonationImport<'a> {
    pub path: &'a Path,
    pub fund: &'a str,
    /// The fund's account the statement is of, if the fund has accounts.
    pub account: Option<&'a str>,
    pub mapping: &'a Mapping,
    /// Set invalid rows aside instead of refusing the file.
    pub skip_invalid: bool,
    /// Cells an officer corrected, laid over the file's rows.
    pub fixes: Option<&'a RowFixes>,
    /// Keep each debit and zero line in `Batch::skipped` for a report
    /// (`--report`); they are counted in the statement's tallies either
    /// way. Off, a statement of a million debit lines costs no memory.
    pub keep_skipped_lines: bool,
}

/// Why a statement's account cannot be told (`statement_account`).
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error(
        "fund `{fund}` has no bank account, so `--account {number}` cannot be recorded; add the fund's accounts with a correction first"
    )]
    NoAccounts { fund: String, number: String },
    #[error("`{number}` is not an account of fund `{fund}` (its accounts: {listed})")]
    NotTheFunds {
        fund: String,
        number: String,
        listed: String,
    },
    #[error(
        "fund `{fund}` receives through several accounts ({listed}); say which one the statement is of with --account NUMBER"
    )]
    Several { fund: String, listed: String },
}

/// The account a statement of `fund` is of: the `given` one, which must be
/// one of the fund's `accounts`; without it the fund's only account, or
/// none if it has none. `import --account` and the desk's wizard both ask
/// this.
pub fn statement_account(
    fund: &str,
    accounts: &[String],
    given: Option<&str>,
) -> Result<Option<String>, AccountError> {
    let listed = || accounts.join(", ");
    match (given, accounts) {
        (Some(number), _) if accounts.iter().any(|a| a == number) => Ok(Some(number.to_string())),
        (Some(number), []) => Err(AccountError::NoAccounts {
            fund: fund.to_string(),
            number: number.to_string(),
        }),
        (Some(number), _) => Err(AccountError::NotTheFunds {
            fund: fund.to_string(),
            number: number.to_string(),
            listed: listed(),
        }),
        (None, []) => Ok(None),
        (None, [only]) => Ok(Some(only.clone())),
        (None, _) => Err(AccountError::Several {
            fund: fund.to_string(),
            listed: listed(),
        }),
    }
}

/// The longest texts the ledger takes (see `ledger::validate`).
const DONOR_CHARS: usize = 200;
const NOTE_CHARS: usize = 5_000;
const REF_CHARS: usize = 64;

/// Reads a statement into a batch of donations for `import.fund`; rows
/// already recorded in the ledger `state` are counted, not added.
pub fn read_donations(
    import: &DonationImport,
    state: &State,
    progress: &mut dyn FnMut(Position),
) -> Result<Batch, ImportError> {
    import
        .mapping
        .check_columns(&FIELDS)
        .map_err(ImportError::Mapping)?;
    let mut batch = Batch::default();
    let mut row_numbers = RowNumbers::default();
    let settings = Drive {
        path: import.path,
        mapping: import.mapping,
        fields: &FIELDS,
        skip_invalid: import.skip_invalid,
        fixes: import.fixes,
    };
    let columns = drive(
        &settings,
        &mut batch,
        progress,
        &|row, positions| {
            let reader = RowReader {
                row,
                positions,
                mapping: import.mapping,
            };
            read_row(&reader, import)
        },
        &mut |row, read, positions, batch| {
            row_numbers.see(&RowReader {
                row,
                positions,
                mapping: import.mapping,
            });
            let (read, dong) = match read {
                Ok(read) => {
                    let dong = read.amount();
                    (Ok(read), dong)
                }
                Err((column, reason, dong)) => (Err((column, reason)), dong),
            };
            // The rows read are summed first, checked; every other tally is
            // a part of this sum.
            let statement = &mut batch.statement;
            let (read, dong) = match statement.read.dong.checked_add(dong) {
                Ok(_) => (read, dong),
                Err(error) => (Err((Col::Amount, error.to_string())), Dong::ZERO),
            };
            statement.read.add(dong);
            let skip = |reason| Skipped {
                row: row.number,
                amount: dong,
                reason,
            };
            match read {
                Err((column, reason)) => {
                    statement.rejected.add(dong);
                    RowOutcome::Rejected {
                        column: positions[column as usize],
                        reason,
                    }
                }
                Ok(RowRead::Debit(_)) => {
                    statement.debits.add(dong);
                    batch.debits += 1;
                    if import.keep_skipped_lines {
                        batch.skipped.push(skip(SkipReason::Debit));
                    }
                    RowOutcome::Taken
                }
                Ok(RowRead::Zero) => {
                    statement.zero.add(dong);
                    if import.keep_skipped_lines {
                        batch.skipped.push(skip(SkipReason::Zero));
                    }
                    RowOutcome::Taken
                }
                Ok(RowRead::Credit(donation)) => {
                    batch.pending.push(Pending {
                        body: Body::Donation(donation),
                        media: Vec::new(),
                        citizen_id_last4: None,
                    });
                    batch.rows.push(row.number);
                    RowOutcome::Taken
                }
            }
        },
    )?;
    let name = |col: Col| columns.positions[col as usize].map(|p| columns.name(p));
    let ref_kind = match import.mapping.ref_kind {
        Some(kind) => kind,
        None if row_numbers.counted() => {
            batch.statement.row_numbers = name(Col::Ref);
            RefKind::Row
        }
        None => RefKind::Unique,
    };
    pair_with_ledger(&mut batch, state, ref_kind);
    let description = name(Col::Description);
    batch.field_columns = [
        ("date", name(Col::Date)),
        ("booking_time", name(Col::Time).or(name(Col::Date))),
        ("ref", name(Col::Ref)),
        ("amount", name(Col::Amount)),
        ("donor", name(Col::Donor).or(description.clone())),
        ("description", description),
        ("note", name(Col::Note)),
    ]
    .into_iter()
    .filter_map(|(field, column)| column.map(|c| (field, c)))
    .collect();
    batch
        .field_columns
        .push(("fund", format!("--fund {}", import.fund)));
    if let Some(account) = import.account {
        batch
            .field_columns
            .push(("account", format!("--account {account}")));
    }
    Ok(batch)
}

/// Whether a `ref` column counts the rows, 1, 2, 3 …: a row number, not a
/// bank reference.
#[derive(Default)]
struct RowNumbers {
    seen: u64,
    broken: bool,
}

impl RowNumbers {
    fn see(&mut self, reader: &RowReader) {
        if self.broken {
            return;
        }
        let cell = reader.cell(Col::Ref).map(|cell| cell.text());
        self.see_text(cell.as_deref().map(str::trim));
    }

    fn see_text(&mut self, reference: Option<&str>) {
        match reference.and_then(|r| r.parse::<u64>().ok()) {
            Some(number) if number == self.seen + 1 => self.seen = number,
            _ => self.broken = true,
        }
    }

    fn counted(&self) -> bool {
        !self.broken && self.seen >= 2
    }
}

/// Pairs each credit read with the ledger's bank donations of the same
/// transaction identity, one to one in file order: the first row with a
/// given identity takes the oldest such entry, the next row the next one,
/// and a row left over is new. Entries recorded before donations had an
/// account and a time (no `account`, no `time`) are found by their
/// reference, date and amount when the row has a real reference.
fn pair_with_ledger(batch: &mut Batch, state: &State, ref_kind: RefKind) {
    // Each row's transaction identity (and, where an older entry may lack
    // the account and time, its identity without them), hashed in parallel;
    // the pairing itself, in file order, below.
    let unplaced = state.has_unplaced_transfers();
    let identities: Vec<(u64, Option<u64>)> = batch
        .pending
        .par_iter_mut()
        .map(|item| {
            let Body::Donation(donation) = &mut item.body else {
                unreachable!("a statement reads donations")
            };
            if ref_kind == RefKind::Row {
                donation.reference = None;
            }
            let key = TransferKey::of(donation);
            let legacy = TransferKey {
                account: None,
                time: None,
                ..key
            };
            let legacy =
                (key.reference.is_some() && legacy != key && unplaced).then(|| legacy.identity());
            (key.identity(), legacy)
        })
        .collect();
    // In place: a statement's pending donations are most of an import's
    // memory, so they are not copied into a second vector.
    let rows = std::mem::take(&mut batch.rows);
    let mut rows_iter = rows.iter().zip(&identities);
    let mut kept_rows = Vec::with_capacity(rows.len());
    let mut taken = Candidates::default();
    let mut taken_legacy = Candidates::default();
    let (statement, skipped) = (&mut batch.statement, &mut batch.skipped);
    batch.pending.retain_mut(|item| {
        let (&row, &(identity, legacy)) = rows_iter.next().expect("a row number per pending entry");
        let Body::Donation(donation) = &item.body else {
            unreachable!("a statement reads donations")
        };
        let matched = taken
            .next(state, identity)
            .or_else(|| legacy.and_then(|legacy| taken_legacy.next(state, legacy)));
        let amount = donation.amount;
        match matched {
            Some(seq) => {
                statement.recorded.add(amount);
                skipped.push(Skipped {
                    row,
                    amount,
                    reason: SkipReason::Recorded {
                        seq,
                        description: bank_text_hash(donation),
                        differs: false,
                    },
                });
                false
            }
            None => {
                statement.added.add(amount);
                kept_rows.push(row);
                true
            }
        }
    });
    batch.rows = kept_rows;
    batch.total = batch.statement.added.dong;
    batch.skipped.sort_by_key(|skipped| skipped.row);
}

/// The recorded donations of each transaction identity a row had, oldest
/// first, and how many of them earlier rows took. Looked up once per
/// identity: a statement's runs of identical gifts (the same day, amount
/// and no reference) share one identity with thousands of entries, and
/// listing them again for every row was quadratic.
#[derive(Default)]
struct Candidates(AHashMap<u64, (Vec<u64>, usize)>);

impl Candidates {
    /// The recorded donation the next row with this identity pairs with, if
    /// any is left: the first row takes the oldest, the next row the next.
    fn next(&mut self, state: &State, identity: u64) -> Option<u64> {
        use std::collections::hash_map::Entry;
        match self.0.entry(identity) {
            Entry::Occupied(mut taken) => {
                let (seqs, index) = taken.get_mut();
                let found = seqs.get(*index).copied();
                *index += 1;
                found
            }
            Entry::Vacant(vacant) => {
                // Nothing to pair with: no need to count the rows of this
                // identity.
                let seqs = state.recorded_transfers(identity);
                let first = *seqs.first()?;
                vacant.insert((seqs, 1));
                Some(first)
            }
        }
    }
}

/// A hash of a transfer's bank text, to tell an entry's from a row's
/// without keeping either: its description or, without one, its note (an
/// entry imported before `description` existed kept the bank's text there,
/// and a statement without a description column gives its rows none). The
/// same rule on both sides, so the same row imported twice is never told
/// apart.
pub fn bank_text_hash(donation: &Donation) -> u64 {
    use std::hash::Hasher;
    let mut hasher = siphasher::sip::SipHasher13::new();
    match donation.description.as_deref().or(donation.note.as_deref()) {
        None => hasher.write_u8(0),
        Some(text) => {
            hasher.write_u8(1);
            hasher.write(text.as_bytes());
        }
    }
    hasher.finish()
}

/// A row with the positions of the statement's columns.
struct RowReader<'a> {
    row: &'a Row,
    positions: &'a [Option<usize>],
    mapping: &'a Mapping,
}

/// The column at fault, why, and the row's amount where it could be read.
type RowError = (Col, String, Dong);

impl RowReader<'_> {
    fn cell(&self, col: Col) -> Option<&Cell> {
        self.positions[col as usize].map(|p| self.row.cell(p))
    }

    /// A text cell, normalised (`clean_text`); `None` if the column is
    /// absent or the cell is blank.
    fn text(&self, col: Col, multi_line: bool) -> Option<String> {
        let cell = self.cell(col)?;
        let text = clean_text(&cell.text(), multi_line);
        (!text.is_empty()).then_some(text)
    }

    /// An amount cell: `None` if blank; negative numbers are kept.
    fn amount(&self, col: Col) -> Result<Option<(bool, u64)>, RowError> {
        let refuse = |reason: String| (col, reason, Dong::ZERO);
        match self.cell(col) {
            None | Some(Cell::Empty) => Ok(None),
            Some(Cell::Number(number)) => {
                if number.fract() != 0.0 {
                    Err(refuse(format!("`{number}` {}", AmountError::Fraction)))
                } else if number.abs() >= 1.8e19 {
                    Err(refuse(format!("`{number}` {}", AmountError::Overflow)))
                } else {
                    Ok(Some((*number < 0.0, number.abs() as u64)))
                }
            }
            Some(cell) => {
                let text = cell.text();
                if text.trim().is_empty() {
                    return Ok(None);
                }
                parse_amount(&text, self.mapping.decimal)
                    .map(|amount| Some((amount.negative, amount.dong)))
                    .map_err(|error| refuse(format!("`{}` {error}", text.trim())))
            }
        }
    }
}

/// Makes a cell's text fit a ledger field: trimmed, runs of spaces
/// collapsed, control characters removed (line breaks kept in notes), NFC.
fn clean_text(text: &str, multi_line: bool) -> String {
    if multi_line {
        let lines: Vec<String> = text
            .lines()
            .map(|line| clean_text(line, false))
            .filter(|line| !line.is_empty())
            .collect();
        return lines.join("\n");
    }
    let spaced: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    nfc(&spaced.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// The first `max_chars` characters of a one-line text, cut after a whole
/// word where the text is longer, so a derived value never ends in a space
/// or half a word.
fn cut_at_word(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        None => text.to_string(),
        Some((end, next)) => {
            let head = &text[..end];
            let cut = if next == ' ' {
                head
            } else {
                head.rfind(' ').map_or(head, |space| &head[..space])
            };
            cut.trim_end().to_string()
        }
    }
}

/// What a row is.
enum RowRead {
    Debit(Dong),
    Zero,
    Credit(Donation),
}

impl RowRead {
    fn amount(&self) -> Dong {
        match self {
            RowRead::Debit(dong) => *dong,
            RowRead::Zero => Dong::ZERO,
            RowRead::Credit(donation) => donation.amount,
        }
    }
}

/// Reads one row: a debit line, a zero amount, or the donation it records.
fn read_row(reader: &RowReader, import: &DonationImport) -> Result<RowRead, RowError> {
    let mapping = reader.mapping;
    let mut is_debit = false;
    if let Some(kind) = reader.text(Col::Type, false) {
        let folded = fold_header(&kind);
        is_debit = mapping
            .debit_values
            .iter()
            .any(|v| fold_header(v) == folded);
        if !is_debit
            && !mapping
                .credit_values
                .iter()
                .any(|v| fold_header(v) == folded)
        {
            return Err((
                Col::Type,
                format!(
                    "`{kind}` is neither a credit ({}) nor a debit ({}); set credit_values and debit_values in the mapping",
                    mapping.credit_values.join(", "),
                    mapping.debit_values.join(", ")
                ),
                Dong::ZERO,
            ));
        }
    }
    let debit = reader.amount(Col::Debit)?.filter(|&(_, dong)| dong > 0);
    let credit = reader.amount(Col::Amount);
    if is_debit {
        let dong = credit.ok().flatten().map_or(0, |(_, dong)| dong);
        return Ok(RowRead::Debit(Dong::new(dong)));
    }
    let (negative, dong) = match (credit?, debit) {
        (Some((_, credit)), Some(_)) if credit > 0 => {
            return Err((
                Col::Amount,
                "the row has both a credit and a debit amount".into(),
                Dong::new(credit),
            ));
        }
        (_, Some((_, debit))) => return Ok(RowRead::Debit(Dong::new(debit))),
        (None, None) => return Err((Col::Amount, "is empty".into(), Dong::ZERO)),
        (Some(amount), None) => amount,
    };
    if negative {
        return Ok(RowRead::Debit(Dong::new(dong)));
    }
    if dong == 0 {
        return Ok(RowRead::Zero);
    }
    let amount = Dong::new(dong);
    let refuse = |col: Col, reason: String| (col, reason, amount);
    let reference = reader.text(Col::Ref, false);
    if let Some(reference) = &reference
        && reference.chars().count() > REF_CHARS
    {
        return Err(refuse(
            Col::Ref,
            format!("is longer than {REF_CHARS} characters"),
        ));
    }
    let (date, time) = date_and_time(reader).map_err(|(col, reason)| refuse(col, reason))?;
    let description = reader.text(Col::Description, false);
    if let Some(description) = &description
        && description.chars().count() > NOTE_CHARS
    {
        return Err(refuse(
            Col::Description,
            format!("is longer than {NOTE_CHARS} characters"),
        ));
    }
    let donor = match reader.text(Col::Donor, false) {
        Some(donor) if donor.chars().count() > DONOR_CHARS => {
            return Err(refuse(
                Col::Donor,
                format!("the donor's name is longer than {DONOR_CHARS} characters"),
            ));
        }
        Some(donor) => donor,
        None => donor_from_description(mapping, description.as_deref()).unwrap_or_default(),
    };
    let note = reader.text(Col::Note, true);
    if let Some(note) = &note
        && note.chars().count() > NOTE_CHARS
    {
        return Err(refuse(
            Col::Note,
            format!("is longer than {NOTE_CHARS} characters"),
        ));
    }
    Ok(RowRead::Credit(Donation {
        fund: import.fund.to_string(),
        donor,
        amount,
        date,
        booking_time: time,
        channel: Channel::Bank,
        account: import.account.map(str::to_string),
        reference,
        description,
        note,
    }))
}

/// The booking date, and the time where the date cell or a time column
/// gives one, in the ledger's forms.
fn date_and_time(reader: &RowReader) -> Result<(String, Option<String>), (Col, String)> {
    let mapping = reader.mapping;
    let parsed = match reader.cell(Col::Date) {
        Some(Cell::Date(year, month, day)) => {
            chrono::NaiveDate::from_ymd_opt(*year, *month, *day).map(|date| (date, None))
        }
        Some(cell) => parse_date_time(&cell.text(), &mapping.date_formats, mapping.year),
        None => None,
    };
    let (date, time) = parsed.ok_or_else(|| {
        let text = reader
            .cell(Col::Date)
            .map(|c| c.text().into_owned())
            .unwrap_or_default();
        let formats = if mapping.date_formats.is_empty() {
            "dd/mm/yyyy (with or without a time) or yyyy-mm-dd".to_string()
        } else {
            mapping.date_formats.join(", ")
        };
        let year = if mapping.year.is_none() && text.trim().matches('/').count() == 1 {
            "; a date without a year needs `year = …` in the mapping"
        } else {
            ""
        };
        (
            Col::Date,
            format!("`{text}` is not a date ({formats}){year}"),
        )
    })?;
    let time = match reader.text(Col::Time, false) {
        Some(text) => Some(parse_time(&text).ok_or_else(|| {
            (
                Col::Time,
                format!("`{text}` is not a time of day such as 10:27:58"),
            )
        })?),
        None => time,
    };
    Ok((ledger_date(date), time.map(ledger_time)))
}

/// The donor's name taken out of a transfer description: the mapping's
/// pattern, or without one the built-in shapes, then the fallback.
fn donor_from_description(mapping: &Mapping, description: Option<&str>) -> Option<String> {
    let one_line = description?;
    let found = match &mapping.donor_pattern {
        Some(pattern) => pattern
            .captures(one_line)
            .and_then(|captures| captures.name("donor"))
            .map(|found| clean_text(found.as_str(), false))
            .filter(|name| !name.is_empty()),
        None => builtin_donor(one_line),
    };
    if let Some(name) = found {
        return Some(cut_at_word(&name, DONOR_CHARS));
    }
    match mapping.donor_fallback {
        DonorFallback::Anonymous => None,
        DonorFallback::Description => Some(cut_at_word(one_line, DONOR_CHARS)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(text: &str) -> Mapping {
        Mapping::parse(text).unwrap()
    }

    #[test]
    fn the_donor_comes_out_of_the_description() {
        let mapping = mapping(
            r#"donor_pattern = '(?i)^(?:IBFT |MBVCB\.\d+\.)?(?P<donor>[A-Z ]+?) (?:chuyen tien|ung ho|chuyen khoan)'"#,
        );
        assert_eq!(
            donor_from_description(
                &mapping,
                Some("MBVCB.123456.NGUYEN VAN AN chuyen tien ung ho bao so 3")
            ),
            Some("NGUYEN VAN AN".into())
        );
        assert_eq!(
            donor_from_description(&mapping, Some("ung ho dong bao")),
            None
        );
        let mut fallback = mapping;
        fallback.donor_fallback = DonorFallback::Description;
        assert_eq!(
            donor_from_description(&fallback, Some(&clean_text("  ủng  hộ\nđồng bào ", false))),
            Some("ủng hộ đồng bào".into())
        );
    }

    #[test]
    fn derived_donors_are_cut_at_a_word() {
        let long = format!("{} {}", "a".repeat(199), "bcd");
        assert_eq!(cut_at_word(&long, 200), "a".repeat(199));
        let at_space = format!("{} x", "b".repeat(200));
        assert_eq!(cut_at_word(&at_space, 200), "b".repeat(200));
        assert_eq!(cut_at_word("ngắn gọn", 200), "ngắn gọn");
        let mut fallback = mapping("donor_fallback = \"description\"");
        fallback.donor_pattern = None;
        let text = format!("{} ung ho", "x ".repeat(150).trim_end());
        let donor = donor_from_description(&fallback, Some(&text)).unwrap();
        assert!(
            donor.chars().count() <= 200 && !donor.ends_with(' '),
            "{donor:?}"
        );
    }

    #[test]
    fn a_ref_column_counting_rows_is_a_row_number() {
        let mut numbers = RowNumbers::default();
        for reference in ["1", "2", "3"] {
            numbers.see_text(Some(reference));
        }
        assert!(numbers.counted());
        numbers.see_text(Some("5"));
        assert!(!numbers.counted());
        let mut one = RowNumbers::default();
        one.see_text(Some("1"));
        assert!(!one.counted());
    }

    #[test]
    fn text_is_cleaned_for_the_ledger() {
        assert_eq!(clean_text("  a \t b\r\n", false), "a b");
        assert_eq!(
            clean_text(" dòng 1 \r\n\r\n dòng  2 ", true),
            "dòng 1\ndòng 2"
        );
        assert_eq!(clean_text("Nguye\u{302}\u{303}n", false), "Nguyễn");
    }
}
