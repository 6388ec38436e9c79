//! The entry forms. Each is `form[data-kind=KIND]`, its inputs named after
//! the entry's fields in the data contract (README, "Entry kinds"), so a
//! submitted form becomes one input line of `append` almost field for field:
//! only amounts are read as officers type them (`1.000.000`), empty optional
//! fields are left out, and a fund's account is nested. Nothing is checked
//! here that the ledger checks: `parse_input` and the append session judge
//! the line.

use serde::Serialize;
use serde_json::{Map, Value, json};

/// The kinds of entry the desk records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Fund,
    Donation,
    Household,
    Disbursement,
    Progress,
    Correction,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::Fund,
        Kind::Donation,
        Kind::Household,
        Kind::Disbursement,
        Kind::Progress,
        Kind::Correction,
    ];

    pub fn parse(text: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Fund => "fund",
            Kind::Donation => "donation",
            Kind::Household => "household",
            Kind::Disbursement => "disbursement",
            Kind::Progress => "progress",
            Kind::Correction => "correction",
        }
    }

    /// The form's title: Vietnamese, English.
    pub fn title(self) -> (&'static str, &'static str) {
        match self {
            Kind::Fund => ("Quỹ", "Fund"),
            Kind::Donation => ("Khoản ủng hộ", "Donation"),
            Kind::Household => ("Hộ gia đình", "Household"),
            Kind::Disbursement => ("Khoản chi", "Disbursement"),
            Kind::Progress => ("Tiến độ", "Progress"),
            Kind::Correction => ("Đính chính", "Correction"),
        }
    }
}

/// One input of a form, as the template draws it.
#[derive(Clone, Debug, Serialize)]
pub struct Field {
    pub name: String,
    pub vi: String,
    pub en: String,
    /// `text`, `number`, `date`, `textarea`, `select`, `radio`, `file`.
    pub input: &'static str,
    pub required: bool,
    pub options: Vec<Choice>,
    pub value: String,
    /// A hint under the field (Vietnamese, English), or empty.
    pub hint_vi: String,
    pub hint_en: String,
    /// A `datalist` id for suggestions, or empty.
    pub list: String,
    /// Private fields: never filled back into the form.
    pub private: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct Choice {
    pub value: String,
    pub vi: String,
    pub en: String,
}

fn choice(value: &str, vi: &str, en: &str) -> Choice {
    Choice {
        value: value.into(),
        vi: vi.into(),
        en: en.into(),
    }
}

fn field(name: &str, vi: &str, en: &str, input: &'static str, required: bool) -> Field {
    Field {
        name: name.into(),
        vi: vi.into(),
        en: en.into(),
        input,
        required,
        options: Vec::new(),
        value: String::new(),
        hint_vi: String::new(),
        hint_en: String::new(),
        list: String::new(),
        private: false,
    }
}

impl Field {
    fn options(mut self, options: Vec<Choice>) -> Field {
        self.options = options;
        self
    }
    fn hint(mut self, vi: &str, en: &str) -> Field {
        self.hint_vi = vi.into();
        self.hint_en = en.into();
        self
    }
    fn list(mut self, id: &str) -> Field {
        self.list = id.into();
        self
    }
    fn private(mut self) -> Field {
        self.private = true;
        self
    }
}

/// The fields of `kind`'s form, with the funds to choose from.
pub fn fields(kind: Kind, funds: &[(String, String)]) -> Vec<Field> {
    let fund_choices: Vec<Choice> = funds
        .iter()
        .map(|(id, name)| choice(id, &format!("{name} ({id})"), &format!("{name} ({id})")))
        .collect();
    let amount_hint = ("Số đồng, ví dụ 1.000.000", "Whole đồng, e.g. 1.000.000");
    match kind {
        Kind::Fund => vec![
            field("id", "Mã quỹ", "Fund id", "text", true).hint(
                "Chữ thường, số và gạch ngang, ví dụ bao-so-5",
                "Lowercase letters, digits and hyphens, e.g. bao-so-5",
            ),
            field("name", "Tên quỹ", "Name", "text", true),
            field("description", "Mô tả", "Description", "textarea", true),
            field("target", "Mục tiêu (đồng)", "Target (đồng)", "text", false)
                .hint(amount_hint.0, amount_hint.1),
            // The bank accounts (`accounts`) are groups of their own: see
            // `AccountGroup`.
        ],
        Kind::Donation => vec![
            field("fund", "Quỹ", "Fund", "select", true).options(fund_choices),
            field("donor", "Người ủng hộ", "Donor", "text", false)
                .hint("Để trống nếu ẩn danh", "Leave empty for an anonymous gift"),
            field("amount", "Số tiền (đồng)", "Amount (đồng)", "text", true)
                .hint(amount_hint.0, amount_hint.1),
            field("date", "Ngày", "Date", "date", true),
            field("channel", "Hình thức", "Channel", "select", true).options(vec![
                choice("cash", "Tiền mặt", "Cash"),
                choice("in_kind", "Hiện vật", "In kind"),
                choice("bank", "Chuyển khoản", "Bank transfer"),
                choice("other", "Khác", "Other"),
            ]),
            field(
                "ref",
                "Số tham chiếu / số biên nhận",
                "Reference / receipt number",
                "text",
                false,
            ),
            field("note", "Ghi chú", "Note", "textarea", false).hint(
                "Với hiện vật: ghi rõ hàng hóa",
                "In kind: say what was given",
            ),
        ],
        Kind::Household => vec![
            field("id", "Mã hộ", "Household id", "text", true)
                .hint("Ví dụ qt-vl-0001", "E.g. qt-vl-0001"),
            field("head", "Chủ hộ", "Head of household", "text", true),
            field("province", "Tỉnh / thành phố", "Province", "text", true),
            field(
                "district",
                "Huyện (địa chỉ cũ)",
                "District (former address)",
                "text",
                false,
            ),
            field("commune", "Xã / phường", "Commune", "text", true),
            field("village", "Thôn / bản", "Village", "text", false),
            field(
                "circumstances",
                "Hoàn cảnh",
                "Circumstances",
                "textarea",
                true,
            ),
            field("support", "Hình thức hỗ trợ", "Support", "select", true).options(vec![
                choice("new", "Xây mới", "New house"),
                choice("repair", "Sửa chữa", "Repair"),
            ]),
            field(
                "planned",
                "Kinh phí dự kiến (đồng)",
                "Planned amount (đồng)",
                "text",
                true,
            )
            .hint(amount_hint.0, amount_hint.1),
            field(
                "photo_consent",
                "Đồng ý công bố ảnh",
                "Consent to publish photos",
                "radio",
                true,
            )
            .options(vec![
                choice("true", "Có, hộ đã đồng ý", "Yes, the household agreed"),
                choice("false", "Không", "No"),
            ]),
            field(
                "citizen_id",
                "Số CCCD (riêng tư)",
                "Citizen ID (private)",
                "text",
                true,
            )
            .hint(
                "Không công bố và không hiển thị lại: sổ cái chỉ giữ mã băm",
                "Never published nor shown again: the ledger keeps only a commitment",
            )
            .private(),
            field(
                "phone",
                "Số điện thoại (riêng tư)",
                "Phone (private)",
                "text",
                false,
            )
            .hint(
                "Không công bố và không hiển thị lại",
                "Never published nor shown again",
            )
            .private(),
        ],
        Kind::Disbursement => vec![
            field("fund", "Quỹ", "Fund", "select", true).options(fund_choices),
            field("amount", "Số tiền (đồng)", "Amount (đồng)", "text", true)
                .hint(amount_hint.0, amount_hint.1),
            field("date", "Ngày", "Date", "date", true),
            field(
                "household",
                "Hộ nhận (mã hộ)",
                "Household (id)",
                "text",
                false,
            )
            .hint(
                "Tìm hộ ở trên, hoặc ghi người nhận khác",
                "Find the household above, or name another payee",
            )
            .list("household-list"),
            field("payee", "Người nhận khác", "Other payee", "text", false),
            field("purpose", "Nội dung chi", "Purpose", "textarea", true),
        ],
        Kind::Progress => vec![
            field("household", "Hộ (mã hộ)", "Household (id)", "text", true).list("household-list"),
            field("date", "Ngày", "Date", "date", true),
            field("stage", "Giai đoạn", "Stage", "select", true).options(vec![
                choice("approved", "Đã duyệt", "Approved"),
                choice("started", "Đã khởi công", "Started"),
                choice("completed", "Đã hoàn thành", "Completed"),
                choice("handed_over", "Đã bàn giao", "Handed over"),
            ]),
            field(
                "photos",
                "Ảnh (máy ảnh hoặc tệp)",
                "Photos (camera or files)",
                "file",
                false,
            )
            .hint(
                "Ảnh được thu nhỏ và xóa thông tin EXIF/GPS trên máy này",
                "Photos are resized and stripped of EXIF/GPS on this machine",
            ),
            field("caption", "Chú thích ảnh", "Photo caption", "text", false),
            field("note", "Ghi chú", "Note", "textarea", false),
        ],
        Kind::Correction => vec![
            field(
                "target",
                "Số thứ tự bút toán cần đính chính",
                "Sequence number of the entry to correct",
                "number",
                true,
            ),
            field("reason", "Lý do", "Reason", "textarea", true),
        ],
    }
}

/// Why a submitted form is not an input line: the field and a message in
/// Vietnamese and English.
#[derive(Debug)]
pub struct FormError {
    pub field: String,
    pub message: String,
}

fn form_error(field: &str, vi: &str, en: &str) -> FormError {
    FormError {
        field: field.into(),
        message: format!("{vi} / {en}"),
    }
}

/// An amount as officers type it: `1.000.000`, `1 000 000`, `1,000,000 đ`.
/// Fractions are not read (`1.000,50` is refused by the digit check).
pub fn parse_amount(name: &str, text: &str) -> Result<u64, FormError> {
    let cleaned: String = text
        .trim()
        .trim_end_matches(['đ', '₫'])
        .trim_end_matches("VND")
        .chars()
        .filter(|c| !matches!(c, '.' | ',' | ' ' | '\u{a0}'))
        .collect();
    if cleaned.is_empty() || !cleaned.bytes().all(|b| b.is_ascii_digit()) {
        return Err(form_error(
            name,
            &format!("số tiền `{text}` phải là số đồng nguyên"),
            &format!("amount `{text}` must be whole đồng"),
        ));
    }
    cleaned
        .parse()
        .map_err(|_| form_error(name, "số tiền quá lớn", "amount too large"))
}

/// The value of `name` in a submitted form, trimmed; empty if absent.
pub fn value<'a>(form: &'a [(String, String)], name: &str) -> &'a str {
    form.iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.trim())
        .unwrap_or("")
}

/// A submitted entry form as an input line of the data contract. Progress
/// photos are added by the caller.
pub fn to_input(kind: Kind, form: &[(String, String)]) -> Result<Value, FormError> {
    let mut object = Map::new();
    object.insert("kind".into(), json!(kind.as_str()));
    let fields = fields(kind, &[]);
    for field in &fields {
        let text = value(form, &field.name);
        match field.name.as_str() {
            "photos" | "caption" => continue,
            "amount" | "planned" | "target" => {
                if text.is_empty() && !field.required {
                    continue;
                }
                object.insert(field.name.clone(), json!(parse_amount(&field.name, text)?));
            }
            "photo_consent" => {
                let consent = match text {
                    "true" => true,
                    "false" => false,
                    _ => {
                        return Err(form_error(
                            "photo_consent",
                            "hãy chọn hộ có đồng ý công bố ảnh hay không",
                            "choose whether the household consents to publishing photos",
                        ));
                    }
                };
                object.insert("photo_consent".into(), json!(consent));
            }
            "donor" => {
                object.insert("donor".into(), json!(text));
            }
            _ => {
                if text.is_empty() && !field.required {
                    continue;
                }
                object.insert(field.name.clone(), json!(text));
            }
        }
    }
    if kind == Kind::Fund {
        let accounts: Vec<Value> = account_groups(form)
            .into_iter()
            .filter(|group| !group.is_empty())
            .map(|group| {
                json!({"bank_bin": group.bank_bin, "number": group.number, "holder": group.holder})
            })
            .collect();
        if !accounts.is_empty() {
            object.insert("accounts".into(), Value::Array(accounts));
        }
    }
    Ok(Value::Object(object))
}

/// A fund's correction: its accounts as the form gives them
/// (`amend.accounts[N].…`), amended when they differ from the entry's. An
/// entry written with the older single `account` loses it for the list (a
/// fund has one or the other).
fn amend_accounts(
    form: &[(String, String)],
    current: &Map<String, Value>,
    amend: &mut Map<String, Value>,
) {
    let given: Vec<(String, String)> = form
        .iter()
        .filter_map(|(key, text)| {
            key.strip_prefix("amend.")
                .filter(|name| name.starts_with("accounts["))
                .map(|name| (name.to_string(), text.clone()))
        })
        .collect();
    if given.is_empty() {
        return;
    }
    let new: Vec<Value> = account_groups(&given)
        .into_iter()
        .filter(|group| !group.is_empty())
        .map(|group| json!({"bank_bin": group.bank_bin, "number": group.number, "holder": group.holder}))
        .collect();
    let old: Vec<Value> = match (current.get("accounts"), current.get("account")) {
        (Some(Value::Array(list)), _) => list.clone(),
        (_, Some(one @ Value::Object(_))) => vec![one.clone()],
        _ => Vec::new(),
    };
    if new == old {
        return;
    }
    if current.contains_key("account") {
        amend.insert("account".into(), Value::Null);
    }
    let list = if new.is_empty() {
        Value::Null
    } else {
        Value::Array(new)
    };
    amend.insert("accounts".into(), list);
}

/// The most bank accounts one fund form takes.
pub const MAX_ACCOUNTS: usize = 20;

/// One bank account of a fund form: inputs `accounts[N].bank_bin`,
/// `accounts[N].number`, `accounts[N].holder`, named after the entry's
/// `accounts` list in the data contract.
#[derive(Clone, Debug, Default, Serialize)]
pub struct AccountGroup {
    pub index: usize,
    pub bank_bin: String,
    pub number: String,
    pub holder: String,
    /// The account's VietQR code as a `data:` image, or empty.
    pub qr: String,
    /// Why no code could be drawn (Vietnamese / English), or empty.
    pub qr_error: String,
}

impl AccountGroup {
    fn is_empty(&self) -> bool {
        self.bank_bin.is_empty() && self.number.is_empty() && self.holder.is_empty()
    }
}

/// The account groups of a submitted fund form, in index order (empty
/// groups included, so the form is drawn again as it was).
pub fn account_groups(form: &[(String, String)]) -> Vec<AccountGroup> {
    let mut groups: std::collections::BTreeMap<usize, AccountGroup> = Default::default();
    for (key, text) in form {
        let Some((index, part)) = key
            .strip_prefix("accounts[")
            .and_then(|rest| rest.split_once("]."))
        else {
            continue;
        };
        let Ok(index) = index.parse::<usize>() else {
            continue;
        };
        if index >= MAX_ACCOUNTS {
            continue;
        }
        let group = groups.entry(index).or_default();
        group.index = index;
        let text = text.trim().to_string();
        match part {
            "bank_bin" => group.bank_bin = text,
            "number" => group.number = text,
            "holder" => group.holder = text,
            _ => {}
        }
    }
    groups.into_values().collect()
}

/// A correction form as an input line: `target`, `reason`, and `amend` with
/// each `amend.FIELD` whose value differs from the entry as it stands (typed
/// like the current value), or no `amend` when `void` is checked.
pub fn correction_input(
    form: &[(String, String)],
    current: &Map<String, Value>,
) -> Result<Value, FormError> {
    let target_text = value(form, "target");
    let target: u64 = target_text
        .parse()
        .map_err(|_| form_error("target", "số thứ tự không hợp lệ", "not a sequence number"))?;
    let mut object = Map::new();
    object.insert("kind".into(), json!("correction"));
    object.insert("target".into(), json!(target));
    object.insert("reason".into(), json!(value(form, "reason")));
    if value(form, "void") == "1" {
        return Ok(Value::Object(object));
    }
    let mut amend = Map::new();
    for (key, text) in form {
        let Some(name) = key.strip_prefix("amend.") else {
            continue;
        };
        if name.starts_with("accounts[") {
            continue;
        }
        let text = text.trim();
        let new = match current.get(name) {
            Some(Value::Number(_)) => json!(parse_amount(key, text)?),
            Some(Value::Bool(_)) => json!(text == "true"),
            Some(Value::String(_)) => json!(text),
            None | Some(_) if text.is_empty() => continue,
            _ => json!(text),
        };
        if current.get(name) != Some(&new) {
            amend.insert(name.to_string(), new);
        }
    }
    amend_accounts(form, current, &mut amend);
    if amend.is_empty() {
        return Err(form_error(
            "reason",
            "không có trường nào thay đổi; hãy sửa một trường hoặc chọn hủy bút toán",
            "no field changed: change a field, or choose to void the entry",
        ));
    }
    object.insert("amend".into(), Value::Object(amend));
    Ok(Value::Object(object))
}

/// One line saying what an entry is.
pub(super) fn summary(body: &crate::ledger::entry::Body) -> String {
    use crate::ledger::entry::Body;
    let vnd = |d: crate::money::Dong| crate::vn::format_vnd(d.get());
    match body {
        Body::Fund(fund) => format!("{} ({})", fund.name, fund.id),
        Body::Donation(d) => format!(
            "{} — {} — {} — {}",
            if d.donor.is_empty() {
                "Ẩn danh / Anonymous"
            } else {
                &d.donor
            },
            vnd(d.amount),
            crate::vn::date_vi(&d.date),
            d.fund
        ),
        Body::Household(h) => format!("{} — {}, {} ({})", h.head, h.commune, h.province, h.id),
        Body::Disbursement(d) => format!(
            "{} — {} — {} — {}",
            d.household.as_deref().or(d.payee.as_deref()).unwrap_or(""),
            vnd(d.amount),
            crate::vn::date_vi(&d.date),
            d.fund
        ),
        Body::Progress(p) => format!(
            "{} — {} — {} — {} ảnh / photos",
            p.household,
            p.stage.as_str(),
            crate::vn::date_vi(&p.date),
            p.photos.len()
        ),
        Body::Correction(c) => format!("#{} — {}", c.target, c.reason),
        Body::Key(_) => "key".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn desk_amounts_read_as_officers_type_them() {
        assert_eq!(parse_amount("amount", "1.000.000").unwrap(), 1_000_000);
        assert_eq!(parse_amount("amount", "2 500 000 đ").unwrap(), 2_500_000);
        assert!(parse_amount("amount", "1000,5x").is_err());
        assert!(parse_amount("amount", "").is_err());
    }

    #[test]
    fn desk_donation_form_becomes_an_input_line() {
        let line = to_input(
            Kind::Donation,
            &form(&[
                ("fund", "bao-so-5"),
                ("donor", ""),
                ("amount", "500.000"),
                ("date", "2025-09-12"),
                ("channel", "cash"),
                ("ref", ""),
                ("csrf", "x"),
            ]),
        )
        .unwrap();
        assert_eq!(
            line,
            json!({"kind":"donation","fund":"bao-so-5","donor":"","amount":500000,"date":"2025-09-12","channel":"cash"})
        );
    }

    #[test]
    fn desk_fund_accounts_are_a_list_in_form_order() {
        let line = to_input(
            Kind::Fund,
            &form(&[
                ("id", "f"),
                ("name", "F"),
                ("description", "D"),
                ("accounts[0].bank_bin", "970415"),
                ("accounts[0].number", "1"),
                ("accounts[0].holder", "H"),
                ("accounts[1].bank_bin", ""),
                ("accounts[1].number", ""),
                ("accounts[1].holder", ""),
                ("accounts[2].bank_bin", "970436"),
                ("accounts[2].number", "2"),
                ("accounts[2].holder", "H"),
            ]),
        )
        .unwrap();
        assert_eq!(
            line["accounts"],
            json!([
                {"bank_bin": "970415", "number": "1", "holder": "H"},
                {"bank_bin": "970436", "number": "2", "holder": "H"}
            ])
        );
        assert!(line.get("account").is_none() && line.get("bank_bin").is_none());
    }

    #[test]
    fn desk_fund_correction_adds_an_account_to_the_older_single_one() {
        let current = json!({"id":"f","name":"F","description":"D",
            "account":{"bank_bin":"970415","number":"1","holder":"H"}});
        let current = current.as_object().unwrap();
        let unchanged = form(&[
            ("target", "2"),
            ("reason", "r"),
            ("amend.name", "F"),
            ("amend.accounts[0].bank_bin", "970415"),
            ("amend.accounts[0].number", "1"),
            ("amend.accounts[0].holder", "H"),
            ("amend.accounts[1].bank_bin", ""),
            ("amend.accounts[1].number", ""),
            ("amend.accounts[1].holder", ""),
        ]);
        assert!(
            correction_input(&unchanged, current).is_err(),
            "nothing changed"
        );
        let mut added = unchanged.clone();
        added[7].1 = "2".into();
        added[6].1 = "970436".into();
        added[8].1 = "H".into();
        let line = correction_input(&added, current).unwrap();
        assert_eq!(
            line["amend"],
            json!({"account": null, "accounts": [
                {"bank_bin":"970415","number":"1","holder":"H"},
                {"bank_bin":"970436","number":"2","holder":"H"}]})
        );
    }

    #[test]
    fn desk_correction_amends_only_changed_fields() {
        let current = json!({"fund":"f","amount":500000,"donor":"A"});
        let line = correction_input(
            &form(&[
                ("target", "7"),
                ("reason", "sai số tiền"),
                ("amend.fund", "f"),
                ("amend.amount", "50.000"),
                ("amend.donor", "A"),
            ]),
            current.as_object().unwrap(),
        )
        .unwrap();
        assert_eq!(line["amend"], json!({"amount": 50000}));
    }
}
