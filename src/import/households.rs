//! Roster rows into `household` entries.
//!
//! Each row goes through `ledger::parse_input`, like a line given to
//! `append`, so the citizen ID and phone become keyed commitments exactly as
//! there and never reach the ledger. A row whose id is already registered (or
//! earlier in the file) is skipped and counted; a citizen ID already
//! registered to another household is an invalid row.

use super::amount::parse_amount;
use super::batch::{Batch, Drive, ImportError, RowFixes, RowOutcome, drive};
use super::mapping::{Field, Mapping, fold_header};
use super::reader::{Cell, Position, Row};
use crate::ledger::entry::{Body, Support};
use crate::ledger::{InputContext, State, parse_input};
use ahash::AHashSet;
use serde_json::{Map, Value};
use std::path::Path;

/// The roster's columns, in the order of the data contract.
pub const FIELDS: [Field; 12] = [
    Field {
        key: "id",
        required: true,
        aliases: &["id", "ma ho", "ma", "ma ho gia dinh", "ma so"],
    },
    Field {
        key: "head",
        required: true,
        aliases: &[
            "head",
            "chu ho",
            "ho ten chu ho",
            "ten chu ho",
            "ho va ten chu ho",
        ],
    },
    Field {
        key: "province",
        required: true,
        aliases: &["province", "tinh", "tinh thanh pho", "tinh thanh"],
    },
    Field {
        key: "district",
        required: false,
        aliases: &["district", "huyen", "quan huyen", "huyen thi xa"],
    },
    Field {
        key: "commune",
        required: true,
        aliases: &[
            "commune",
            "xa",
            "xa phuong",
            "phuong xa",
            "xa phuong thi tran",
        ],
    },
    Field {
        key: "village",
        required: false,
        aliases: &[
            "village", "thon", "thon ban", "thon xom", "thon to", "ap", "ban",
        ],
    },
    Field {
        key: "circumstances",
        required: false,
        aliases: &["circumstances", "hoan canh", "hoan canh gia dinh"],
    },
    Field {
        key: "support",
        required: true,
        aliases: &[
            "support",
            "hinh thuc ho tro",
            "loai ho tro",
            "ho tro",
            "hinh thuc",
        ],
    },
    Field {
        key: "planned",
        required: true,
        aliases: &[
            "planned",
            "kinh phi",
            "kinh phi du kien",
            "so tien du kien",
            "muc ho tro",
            "so tien ho tro",
        ],
    },
    Field {
        key: "citizen_id",
        required: true,
        aliases: &[
            "citizen id",
            "cccd",
            "so cccd",
            "cccd cmnd",
            "so cccd cmnd",
            "cmnd",
            "so dinh danh",
        ],
    },
    Field {
        key: "phone",
        required: false,
        aliases: &["phone", "so dien thoai", "dien thoai", "sdt"],
    },
    Field {
        key: "photo_consent",
        required: false,
        aliases: &[
            "photo consent",
            "dong y dang anh",
            "dong y cong khai anh",
            "dong y anh",
        ],
    },
];

/// A roster import.
pub struct HouseholdImport<'a> {
    pub path: &'a Path,
    pub mapping: &'a Mapping,
    pub skip_invalid: bool,
    /// Cells an officer corrected, laid over the file's rows.
    pub fixes: Option<&'a RowFixes>,
    /// The ledger's input context (the portal secret commits private fields).
    pub context: &'a InputContext<'a>,
}

/// Reads a roster into a batch of households, judged against `state` for
/// citizen IDs already registered.
pub fn read_households(
    import: &HouseholdImport,
    state: &State,
    progress: &mut dyn FnMut(Position),
) -> Result<Batch, ImportError> {
    import
        .mapping
        .check_columns(&FIELDS)
        .map_err(ImportError::Mapping)?;
    let mut batch = Batch::default();
    let mut seen_ids: AHashSet<String> = AHashSet::new();
    let mut seen_citizens: AHashSet<String> = AHashSet::new();
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
        &|_, _| (),
        &mut |row, (), positions, batch| {
            let column_of = |key: &str| {
                FIELDS
                    .iter()
                    .position(|field| field.key == key)
                    .and_then(|index| positions[index])
            };
            let input = match input_of(row, positions, import.mapping) {
                Ok(input) => input,
                Err((key, reason)) => {
                    return RowOutcome::Rejected {
                        column: column_of(key),
                        reason,
                    };
                }
            };
            let id = input["id"].as_str().unwrap_or_default().to_string();
            if state.has_household(&id) || seen_ids.contains(&id) {
                batch.duplicates += 1;
                return RowOutcome::Taken;
            }
            let pending = match parse_input(&Value::Object(input).to_string(), import.context) {
                Ok(pending) => pending,
                Err(error) => {
                    let key = error.field.as_deref().unwrap_or("");
                    return RowOutcome::Rejected {
                        column: column_of(key.split(['.', '[']).next().unwrap_or(key)),
                        reason: error.message,
                    };
                }
            };
            let Body::Household(household) = &pending.body else {
                unreachable!("a household input gives a household body")
            };
            if state.has_citizen(&household.citizen_id_hmac)
                || !seen_citizens.insert(household.citizen_id_hmac.clone())
            {
                return RowOutcome::Rejected {
                    column: column_of("citizen_id"),
                    reason: "this citizen ID is already registered to another household".into(),
                };
            }
            match batch.total.checked_add(household.planned) {
                Ok(total) => batch.total = total,
                Err(error) => {
                    return RowOutcome::Rejected {
                        column: column_of("planned"),
                        reason: error.to_string(),
                    };
                }
            }
            match household.support {
                Support::New => batch.new_houses += 1,
                Support::Repair => batch.repairs += 1,
            }
            seen_ids.insert(id);
            batch.pending.push(pending);
            batch.rows.push(row.number);
            RowOutcome::Taken
        },
    )?;
    for (field, position) in FIELDS.iter().zip(&columns.positions) {
        if let Some(position) = position {
            batch
                .field_columns
                .push((field.key, columns.name(*position)));
        }
    }
    // The ledger names the commitment, the officer the column.
    if let Some((_, column)) = batch
        .field_columns
        .iter()
        .find(|(key, _)| *key == "citizen_id")
    {
        let column = column.clone();
        batch.field_columns.push(("citizen_id_hmac", column));
    }
    Ok(batch)
}

type FieldError = (&'static str, String);

/// The row as the JSON object `append` would take.
fn input_of(
    row: &Row,
    positions: &[Option<usize>],
    mapping: &Mapping,
) -> Result<Map<String, Value>, FieldError> {
    let cell = |key: &str| {
        let index = FIELDS.iter().position(|field| field.key == key)?;
        positions[index].map(|p| row.cell(p))
    };
    let text = |key: &str| -> Option<String> {
        let cell = cell(key)?;
        let text: String = cell.text().split_whitespace().collect::<Vec<_>>().join(" ");
        (!text.is_empty()).then_some(text)
    };
    let required = |key: &'static str| text(key).ok_or((key, "is empty".to_string()));
    let mut object = Map::new();
    object.insert("kind".into(), "household".into());
    object.insert("id".into(), required("id")?.to_lowercase().into());
    object.insert("head".into(), required("head")?.into());
    object.insert("province".into(), required("province")?.into());
    if let Some(district) = text("district") {
        object.insert("district".into(), district.into());
    }
    object.insert("commune".into(), required("commune")?.into());
    if let Some(village) = text("village") {
        object.insert("village".into(), village.into());
    }
    let circumstances = match cell("circumstances") {
        Some(cell) => cell
            .text()
            .lines()
            .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|line| !line.is_empty())
            .collect::<Vec<_>>()
            .join("\n"),
        None => String::new(),
    };
    object.insert("circumstances".into(), circumstances.into());
    let support = required("support")?;
    object.insert(
        "support".into(),
        match parse_support(&support) {
            Some(Support::New) => "new",
            Some(Support::Repair) => "repair",
            None => {
                return Err((
                    "support",
                    format!(
                        "`{support}` is not a kind of support: new (xây mới) or repair (sửa chữa)"
                    ),
                ));
            }
        }
        .into(),
    );
    let planned = match cell("planned") {
        Some(Cell::Number(number))
            if number.fract() == 0.0 && *number > 0.0 && *number < 1.8e19 =>
        {
            *number as u64
        }
        _ => {
            let planned = required("planned")?;
            match parse_amount(&planned, mapping.decimal) {
                Ok(amount) if !amount.negative => amount.dong,
                Ok(_) => return Err(("planned", format!("`{planned}` is negative"))),
                Err(error) => return Err(("planned", format!("`{planned}` {error}"))),
            }
        }
    };
    object.insert("planned".into(), planned.into());
    if let Some(consent) = text("photo_consent") {
        let consent = parse_consent(&consent).ok_or((
            "photo_consent",
            format!("`{consent}` is not yes or no (có / không)"),
        ))?;
        object.insert("photo_consent".into(), consent.into());
    }
    // A spreadsheet that typed the ID as a number dropped its leading zero
    // (CCCD numbers start with the province code, 001–096).
    let citizen_id = match cell("citizen_id") {
        Some(Cell::Number(number)) if number.fract() == 0.0 && *number >= 0.0 => {
            let digits = format!("{}", *number as u64);
            match digits.len() {
                11 => format!("0{digits}"),
                8 => format!("0{digits}"),
                _ => digits,
            }
        }
        _ => required("citizen_id")?,
    };
    object.insert("citizen_id".into(), citizen_id.into());
    let phone = match cell("phone") {
        Some(Cell::Number(number)) if number.fract() == 0.0 && *number > 0.0 => {
            Some(format!("0{}", *number as u64))
        }
        _ => text("phone"),
    };
    if let Some(phone) = phone {
        object.insert("phone".into(), phone.into());
    }
    Ok(object)
}

/// `new` / `xây mới`, `repair` / `sửa chữa`, in any case, with or without
/// diacritics.
fn parse_support(text: &str) -> Option<Support> {
    match fold_header(text).as_str() {
        "new" | "xay moi" | "xay dung moi" | "xay nha moi" | "moi" => Some(Support::New),
        "repair" | "sua chua" | "sua chua nha" | "sua nha" | "sua" => Some(Support::Repair),
        _ => None,
    }
}

fn parse_consent(text: &str) -> Option<bool> {
    match fold_header(text).as_str() {
        "yes" | "true" | "1" | "x" | "co" | "dong y" => Some(true),
        "no" | "false" | "0" | "khong" | "khong dong y" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn support_in_both_languages() {
        assert_eq!(parse_support("Xây mới"), Some(Support::New));
        assert_eq!(parse_support("SỬA CHỮA"), Some(Support::Repair));
        assert_eq!(parse_support("repair"), Some(Support::Repair));
        assert_eq!(parse_support("nâng cấp"), None);
        assert_eq!(parse_consent("Có"), Some(true));
        assert_eq!(parse_consent("không"), Some(false));
    }
}
