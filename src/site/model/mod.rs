//! The site's typed view of the ledger: what the pages show, built from the
//! stored entries with corrections applied.
//!
//! The ledger's `State` says what each correction did (an entry's amended
//! body, whether it is void); the model lists every entry in its current
//! form beside its corrections. A voided entry is listed as voided and never
//! counted. The fund totals computed here are
//! compared with the verified `State`'s, so the site can never publish a sum
//! the ledger does not vouch for.
//!
//! Personal data is reduced here, once, before any template sees it: the
//! household head's name is shown as `[privacy] household_names` says, the
//! citizen ID only as `********1234` and only if allowed, the commitments
//! (HMACs) never, and photos only for households that consented.

use super::routes;

pub mod cache;
mod donations;
mod household_index;
use crate::config::PrivacyConfig;
use crate::ledger::entry::{
    Body, Channel, Disbursement, Donation, Entry, Fund, Household, KeyEntry, Progress, Stage,
    Support,
};
use crate::ledger::{Settled, note::Checkpoint};
use crate::portal::CitizenIdDigits;
use crate::vn;
use anyhow::{Result, bail};
use base64::Engine;
pub use donations::{Chunk, Donations, chunk_rows};
pub use household_index::HouseholdIndex;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// A correction as shown beside the entry it corrects.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CorrectionRef {
    pub seq: u64,
    /// The day the correction was appended (`YYYY-MM-DD`).
    pub date: String,
    pub reason: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AccountRow {
    pub bank_bin: String,
    pub number: String,
    pub holder: String,
}

/// One of a fund's accounts and what it received.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AccountTotalsRow {
    pub bank_bin: String,
    pub number: String,
    pub holder: String,
    pub received: u64,
    pub donation_count: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FundRow {
    pub seq: u64,
    pub id: String,
    pub name: String,
    pub description: String,
    pub target: Option<u64>,
    /// The fund's first account: the one the donate box and VietQR code show.
    pub account: Option<AccountRow>,
    /// Every account of the fund, with what it received (live donations
    /// that name it).
    pub accounts: Vec<AccountTotalsRow>,
    pub received: u64,
    pub disbursed: u64,
    /// `received - disbursed`, or the advance when `advance` is true.
    pub balance: u64,
    pub advance: bool,
    /// Live donations and disbursements.
    pub donation_count: u64,
    pub disbursement_count: u64,
    pub voided: Option<CorrectionRef>,
    pub amended: Vec<CorrectionRef>,
    pub path: String,
    /// The VietQR code of the fund's account, when it has one that VietQR
    /// can carry.
    pub vietqr: Option<VietQrRow>,
}

/// A fund's VietQR transfer code: the payload the QR symbol carries, the
/// transfer note it suggests and where the SVG is published.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct VietQrRow {
    pub payload: String,
    /// `UNG HO …`: the transfer note, folded to plain ASCII capitals.
    pub note: String,
    /// Site path of the SVG image, `/quy/<id>/vietqr.svg`.
    pub svg_path: String,
    /// The bank's common name when its BIN is a well-known one.
    pub bank_name: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DonationRow {
    pub seq: u64,
    /// Position among all donations, from 0: it fixes the page forever.
    pub index: usize,
    pub page: usize,
    /// The fund's id and name, shared by all its rows (not a copy per row:
    /// there are millions).
    #[serde(deserialize_with = "cache::shared")]
    pub fund: Arc<str>,
    #[serde(deserialize_with = "cache::shared")]
    pub fund_name: Arc<str>,
    /// Empty for an anonymous gift.
    pub donor: String,
    pub amount: u64,
    pub date: String,
    pub channel: Channel,
    /// The bank's booking time, `HH:MM:SS`.
    pub booking_time: Option<String>,
    /// The fund's account that received it.
    pub account: Option<String>,
    pub reference: Option<String>,
    /// The bank's own text, whole.
    pub description: Option<String>,
    pub note: Option<String>,
    /// Boxed: almost no donation is voided, and an unboxed `None` took 56
    /// bytes in each of millions of rows.
    pub voided: Option<Box<CorrectionRef>>,
    pub amended: Vec<CorrectionRef>,
    pub anchor: Anchor,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DisbursementRow {
    pub seq: u64,
    pub index: usize,
    pub page: usize,
    #[serde(deserialize_with = "cache::shared")]
    pub fund: Arc<str>,
    #[serde(deserialize_with = "cache::shared")]
    pub fund_name: Arc<str>,
    pub amount: u64,
    pub date: String,
    pub household: Option<String>,
    /// The household head's name as the privacy setting shows it.
    pub household_name: Option<String>,
    pub payee: Option<String>,
    pub purpose: String,
    pub voided: Option<CorrectionRef>,
    pub amended: Vec<CorrectionRef>,
    pub anchor: Anchor,
}

/// The stable anchor of a row, `e<seq>`: shown to templates as that string
/// without storing one per row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Anchor(pub u64);

impl std::fmt::Display for Anchor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "e{}", self.0)
    }
}

impl Serialize for Anchor {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Anchor {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Anchor, D::Error> {
        let text = <&str>::deserialize(deserializer)?;
        text.strip_prefix('e')
            .and_then(|seq| seq.parse().ok())
            .map(Anchor)
            .ok_or_else(|| serde::de::Error::custom(format!("`{text}` is not an anchor")))
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StageRow {
    pub seq: u64,
    pub stage: Stage,
    #[serde(deserialize_with = "cache::text")]
    pub date: String,
    #[serde(deserialize_with = "cache::optional_text")]
    pub note: Option<String>,
    pub voided: Option<CorrectionRef>,
    pub amended: Vec<CorrectionRef>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PhotoRow {
    /// Site path to link to: the stripped full-size JPEG
    /// (`/media/<sha256>/full.jpg`), or a PDF as it is (`/media/<name>`).
    pub path: String,
    /// The original's name under `ledger/media/`, `<sha256>.<ext>`.
    pub media: String,
    pub caption: Option<String>,
    pub stage: Stage,
    pub phase: Phase,
    pub date: String,
    /// The published renditions; `None` for a document (PDF).
    pub files: Option<PhotoFiles>,
}

/// When a photo was taken, by the stage it came with: `before`
/// (approved), `during` (started) or `after` (completed, handed over).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Before,
    During,
    After,
}

impl Phase {
    fn of(stage: Stage) -> Phase {
        match stage {
            Stage::Approved => Phase::Before,
            Stage::Started => Phase::During,
            Stage::Completed | Stage::HandedOver => Phase::After,
        }
    }
}

/// The stripped copies of one photo the site publishes (site paths).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PhotoFiles {
    pub thumb_webp: String,
    pub thumb_jpeg: String,
    pub thumb_width: u32,
    pub thumb_height: u32,
    pub screen_webp: String,
    pub screen_jpeg: String,
    pub screen_width: u32,
    pub screen_height: u32,
    pub full_jpeg: String,
    pub full_width: u32,
    pub full_height: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HouseholdRow {
    pub seq: u64,
    #[serde(deserialize_with = "cache::text")]
    pub id: String,
    /// As `[privacy] household_names` allows.
    #[serde(deserialize_with = "cache::text")]
    pub head: String,
    #[serde(deserialize_with = "cache::text")]
    pub province: String,
    #[serde(deserialize_with = "cache::optional_text")]
    pub district: Option<String>,
    #[serde(deserialize_with = "cache::text")]
    pub commune: String,
    #[serde(deserialize_with = "cache::optional_text")]
    pub village: Option<String>,
    #[serde(deserialize_with = "cache::text")]
    pub circumstances: String,
    pub support: Support,
    pub planned: u64,
    pub photo_consent: bool,
    /// `********1234`, only when `[privacy] show_citizen_id_last4` is on.
    pub citizen_id_masked: Option<String>,
    /// The current stage, `None` before the first progress entry.
    pub stage: Option<Stage>,
    pub stage_date: Option<String>,
    pub history: Vec<StageRow>,
    /// Published only with consent.
    pub photos: Vec<PhotoRow>,
    pub disbursements: Vec<usize>,
    /// Sum of the live disbursements to this household.
    pub received: u64,
    pub voided: Option<CorrectionRef>,
    pub amended: Vec<CorrectionRef>,
    #[serde(deserialize_with = "cache::text")]
    pub path: String,
    #[serde(deserialize_with = "cache::text")]
    pub commune_path: String,
}

/// A household row for tests: `qt-<seq>` in one commune.
#[cfg(test)]
fn household_row(seq: u64) -> HouseholdRow {
    HouseholdRow {
        seq,
        id: format!("qt-{seq:04}"),
        head: format!("Hộ {seq}"),
        province: "Quảng Trị".into(),
        district: None,
        commune: "Hải Lăng".into(),
        village: Some("Thôn 1".into()),
        circumstances: "Nhà sập".into(),
        support: crate::ledger::entry::Support::New,
        planned: 60_000_000,
        photo_consent: false,
        citizen_id_masked: None,
        stage: seq.is_multiple_of(2).then_some(Stage::Approved),
        stage_date: None,
        history: Vec::new(),
        photos: Vec::new(),
        disbursements: Vec::new(),
        received: 0,
        voided: None,
        amended: Vec::new(),
        path: format!("/ho/qt-{seq:04}/"),
        commune_path: "/xa/hai-lang/".into(),
    }
}

/// A live stage change, for the daily reports; the household by its index
/// in `Model::households` (`Model::report` shows its fields).
#[derive(Clone, Debug)]
pub struct StageChange {
    pub seq: u64,
    pub household: usize,
    pub stage: Stage,
}

/// A stage change as its report page shows it, the household's fields
/// borrowed.
#[derive(Serialize)]
pub struct StageChangeView<'a> {
    seq: u64,
    household: &'a str,
    head: &'a str,
    province: &'a str,
    commune: &'a str,
    village: Option<&'a str>,
    support: Support,
    stage: Stage,
    path: &'a str,
}

/// A day's report as its page shows it (`Model::report`).
#[derive(Serialize)]
pub struct DayReportView<'a> {
    date: &'a str,
    path: &'a str,
    changes: Vec<StageChangeView<'a>>,
    communes: &'a [CommuneTotals],
    totals: &'a StageCounts,
}

/// Households per stage (and not yet started: `none`).
#[derive(Clone, Debug, Default, Serialize)]
pub struct StageCounts {
    pub none: u64,
    pub approved: u64,
    pub started: u64,
    pub completed: u64,
    pub handed_over: u64,
    pub total: u64,
}

impl StageCounts {
    fn add(&mut self, stage: Option<Stage>) {
        self.total += 1;
        self.bump(stage, 1);
    }

    fn bump(&mut self, stage: Option<Stage>, delta: i64) {
        let slot = match stage {
            None => &mut self.none,
            Some(Stage::Approved) => &mut self.approved,
            Some(Stage::Started) => &mut self.started,
            Some(Stage::Completed) => &mut self.completed,
            Some(Stage::HandedOver) => &mut self.handed_over,
        };
        *slot = slot.saturating_add_signed(delta);
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct CommuneTotals {
    pub province: String,
    pub commune: String,
    pub path: String,
    pub counts: StageCounts,
}

/// One day's report: its stage changes and the running totals of the
/// communes concerned, as they stood at the end of that day.
#[derive(Clone, Debug)]
pub struct DayReport {
    pub date: String,
    pub path: String,
    pub changes: Vec<StageChange>,
    pub communes: Vec<CommuneTotals>,
    pub totals: StageCounts,
}

#[derive(Clone, Debug, Serialize)]
pub struct Commune {
    pub province: String,
    pub district_names: Vec<String>,
    pub commune: String,
    pub path: String,
    pub households: Vec<usize>,
    pub counts: StageCounts,
}

#[derive(Clone, Debug, Serialize)]
pub struct Province {
    pub name: String,
    pub path: String,
    pub communes: Vec<usize>,
    pub counts: StageCounts,
}

#[derive(Clone, Debug, Serialize)]
pub struct KeyRow {
    pub name: String,
    pub unit: String,
    pub role: &'static str,
    pub vkey: String,
    pub admitted_seq: u64,
    pub revoked_seq: Option<u64>,
    pub active: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct CheckpointInfo {
    pub origin: String,
    pub size: u64,
    pub root: String,
    /// The signed note, exactly as stored.
    pub note: String,
}

/// A one-line summary of an entry, for "latest entries" and the feed.
#[derive(Clone, Debug, Serialize)]
pub struct EntrySummary {
    pub seq: u64,
    pub kind: &'static str,
    pub date: String,
    /// For a donation, `donor → fund`, or only the fund when `anonymous`.
    pub title: String,
    /// A donation from an anonymous donor (show "Anonymous donor").
    pub anonymous: bool,
    pub amount: Option<u64>,
    pub path: String,
}

#[derive(Debug)]
pub struct Model {
    pub funds: Vec<FundRow>,
    /// What each fund's page shows of its donations, by fund (as `funds`).
    pub fund_activity: Vec<FundActivity>,
    pub donations: Donations,
    pub disbursements: Vec<DisbursementRow>,
    pub households: Vec<HouseholdRow>,
    /// `households` by id.
    pub household_index: HouseholdIndex,
    pub provinces: Vec<Province>,
    pub communes: Vec<Commune>,
    pub reports: Vec<DayReport>,
    pub keys: Vec<KeyRow>,
    pub checkpoint: CheckpointInfo,
    pub totals: Totals,
    pub latest: Vec<EntrySummary>,
    /// The entries `latest` summarises, as signed, oldest first: the Atom
    /// feed quotes them.
    pub newest: Vec<Entry>,
    /// Each fund's name as signed, by id (the feed's titles).
    pub signed_fund_names: BTreeMap<String, String>,
    /// Entries written before citizen-ID digits left the ledger line.
    pub entries_with_citizen_id_digits: usize,
    /// The households' checksum in the model cache this build wrote
    /// (`cache::Stored::households`): the same in two builds, so are the
    /// household rows and stages `households` and the places were made of.
    pub households_stored: Option<[u8; 32]>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Totals {
    pub received: u64,
    pub disbursed: u64,
    pub balance: u64,
    pub donations: u64,
    pub disbursements: u64,
    pub households: StageCounts,
}

/// What a fund's page shows of its donations, kept as they are added so
/// that the page needs none of the other rows (a drive has millions).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct FundActivity {
    /// Its donations, voided ones included.
    pub donations: usize,
    /// The numbers of its newest donations (at most a page), oldest first.
    pub recent: std::collections::VecDeque<usize>,
    /// Its live donations by day, as written: amount and count.
    pub days: BTreeMap<String, (u64, u64)>,
}

impl FundActivity {
    /// Adds donation number `index` of `date`; `live` is its amount unless
    /// it is voided.
    pub fn add(&mut self, index: usize, date: &str, live: Option<u64>, page_size: usize) {
        self.donations += 1;
        if self.recent.len() == page_size {
            self.recent.pop_front();
        }
        self.recent.push_back(index);
        if let Some(amount) = live {
            let slot = match self.days.get_mut(date) {
                Some(slot) => slot,
                None => self.days.entry(date.to_string()).or_default(),
            };
            slot.0 = slot.0.saturating_add(amount);
            slot.1 += 1;
        }
    }
}

/// How many latest entries the model keeps (the feed; the home page shows ten).
const LATEST: usize = 50;

pub struct ModelOptions<'a> {
    pub privacy: &'a PrivacyConfig,
    pub page_size: usize,
    /// The private side store of citizen IDs' last four digits (read only
    /// when `show_citizen_id_last4` is on).
    pub citizen_id_digits: &'a CitizenIdDigits,
}

/// Turns `entry_time` into the day it names.
fn day(time: &str) -> String {
    time.get(..10).unwrap_or(time).to_string()
}

/// A URL path segment from a place name: "Vĩnh Linh" → `vinh-linh`.
pub fn slugify(text: &str) -> String {
    let folded: String = vn::fold(text)
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let slug = folded
        .split('-')
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    if slug.is_empty() {
        "khac".to_string()
    } else {
        slug
    }
}

/// Applies corrections: the current body of every entry, and who voided or
/// amended it.
struct Corrections {
    voided: HashMap<u64, CorrectionRef>,
    amended: HashMap<u64, Vec<CorrectionRef>>,
}

impl Corrections {
    /// The correction that voided entry `seq`, if one did.
    fn voided(&self, seq: u64) -> Option<CorrectionRef> {
        self.voided.get(&seq).cloned()
    }

    /// The corrections that amended entry `seq`, oldest first.
    fn amended(&self, seq: u64) -> Vec<CorrectionRef> {
        self.amended.get(&seq).cloned().unwrap_or_default()
    }
}

/// Collects the corrections of every entry. What a correction *does* (the
/// amended body, whether the target is void) comes from the verified
/// `State`, the one implementation of the correction rules; only the list
/// of corrections with their reasons is gathered here.
fn replay_corrections<'a>(
    entries: impl Iterator<Item = &'a Entry>,
    state: &Settled,
) -> Result<Corrections> {
    let mut corrections = Corrections {
        voided: HashMap::new(),
        amended: HashMap::new(),
    };
    for entry in entries {
        let Body::Correction(correction) = &entry.body else {
            continue;
        };
        let reference = CorrectionRef {
            seq: entry.seq,
            date: day(&entry.time),
            reason: correction.reason.clone(),
        };
        let target = correction.target;
        match &correction.amend {
            None => {
                corrections.voided.insert(target, reference);
            }
            Some(_) => {
                if state.amended_body(target).is_none() {
                    bail!(
                        "correction {} amends entry {target}, unknown to the ledger",
                        entry.seq
                    );
                }
                corrections
                    .amended
                    .entry(target)
                    .or_default()
                    .push(reference);
            }
        }
    }
    if let Some(&target) = corrections
        .voided
        .keys()
        .find(|&&seq| !state.is_voided(seq))
    {
        bail!("entry {target} is voided by a correction but the ledger does not hold it voided");
    }
    Ok(corrections)
}

impl Model {
    /// Day report `index` as its page shows it.
    pub fn report(&self, index: usize) -> DayReportView<'_> {
        let report = &self.reports[index];
        let changes = (report.changes.iter())
            .map(|change| {
                let household = &self.households[change.household];
                StageChangeView {
                    seq: change.seq,
                    household: &household.id,
                    head: &household.head,
                    province: &household.province,
                    commune: &household.commune,
                    village: household.village.as_deref(),
                    support: household.support,
                    stage: change.stage,
                    path: &household.path,
                }
            })
            .collect();
        DayReportView {
            date: &report.date,
            path: &report.path,
            changes,
            communes: &report.communes,
            totals: &report.totals,
        }
    }

    /// Builds the model from every stored entry (in `seq` order, one `Vec`
    /// per segment) and the verified state and checkpoint (see
    /// [`Rows::add`], [`Rows::finish`]).
    pub fn build(
        segments: Vec<Vec<Entry>>,
        state: &Settled,
        checkpoint: &Checkpoint,
        checkpoint_note: &str,
        options: &ModelOptions,
    ) -> Result<Model> {
        let mut rows = Rows::default();
        rows.add(segments, state, options)?;
        rows.finish(state, checkpoint, checkpoint_note)
    }
}

/// The rows made of the first `size` entries, before what is derived from
/// all of them (places, day reports, totals, the latest entries): what the
/// model cache keeps (`cache`), so a rebuild adds only the entries appended
/// since.
#[derive(Debug, Default)]
pub struct Rows {
    /// How many entries (from number 0) the rows are made of.
    pub size: u64,
    funds: Vec<FundRow>,
    /// Each fund's id and name, shared by its donation and disbursement
    /// rows (from `funds`).
    fund_names: Vec<(Arc<str>, Arc<str>)>,
    fund_index: HashMap<String, usize>,
    households: Vec<HouseholdRow>,
    household_index: HouseholdIndex,
    household_stages: Vec<Option<Stage>>,
    fund_activity: Vec<FundActivity>,
    donations: Donations,
    disbursements: Vec<DisbursementRow>,
    live_changes: Vec<(String, u64, usize, Stage)>,
    /// The newest entries (at most `LATEST`), as signed, oldest first.
    newest: Vec<Entry>,
    /// Each fund's name as signed, by id: the feed quotes entries as signed.
    signed_fund_names: BTreeMap<String, String>,
    /// Entries written before citizen-ID digits left the ledger line.
    with_citizen_id_digits: usize,
    /// Where the households' frame is in the model cache these rows were
    /// read from, while no entry added since changed a household: the next
    /// cache copies that frame instead of writing it again (`cache`).
    kept_households: Option<cache::KeptFrames>,
}

impl Rows {
    /// Adds the entries that follow the first `size` (in `seq` order, one
    /// `Vec` per segment; empty ones skipped), in their current form. The
    /// entries are consumed: their strings move into the rows instead of
    /// being copied (copying them was gigabytes of fresh memory at national
    /// scale and most of this step's time), and each segment's `Vec` is
    /// freed once turned into rows, so rows and entries are never all held
    /// at once.
    ///
    /// Rows already made are never revisited, so a correction may come
    /// only with the first entries (a rebuild with one makes every row
    /// again: `corrects_earlier`).
    pub fn add(
        &mut self,
        segments: Vec<Vec<Entry>>,
        state: &Settled,
        options: &ModelOptions,
    ) -> Result<()> {
        let added = segments.iter().flatten();
        if let Some(first) = added.clone().next()
            && first.seq != self.size
        {
            bail!(
                "internal error: the model holds {} entries and was given entry {}",
                self.size,
                first.seq
            );
        }
        if self.size > 0 && corrects_earlier(added.clone(), 0) {
            bail!("internal error: a correction was added to rows made before it");
        }
        let corrections = replay_corrections(added, state)?;
        self.keep_newest(&segments);
        let (households, donations, disbursements) = count_rows(&segments);
        self.households.reserve(households);
        self.household_index.reserve(&self.households, households);
        self.household_stages.reserve(households);
        self.donations.reserve(donations);
        self.disbursements.reserve(disbursements);
        let mut adding = Adding {
            rows: self,
            options,
            page_size: options.page_size.max(1),
            corrections: &corrections,
        };
        for entry in segments.into_iter().flatten() {
            adding.rows.size = entry.seq + 1;
            if let Body::Fund(fund) = &entry.body {
                adding
                    .rows
                    .signed_fund_names
                    .insert(fund.id.clone(), fund.name.clone());
            }
            if super::carries_citizen_id_digits(&entry) {
                adding.rows.with_citizen_id_digits += 1;
            }
            let body = state.amended_body(entry.seq).cloned().unwrap_or(entry.body);
            adding.push(entry.seq, body)?;
        }
        Ok(())
    }

    /// The newest entries after adding `segments`.
    fn keep_newest(&mut self, segments: &[Vec<Entry>]) {
        let mut newest: Vec<Entry> = segments
            .iter()
            .rev()
            .flat_map(|segment| segment.iter().rev())
            .take(LATEST)
            .cloned()
            .collect();
        newest.reverse();
        let keep = self.newest.len().saturating_sub(LATEST - newest.len());
        self.newest.drain(..keep);
        self.newest.append(&mut newest);
    }

    /// Entries written before citizen-ID digits left the ledger line.
    pub fn with_citizen_id_digits(&self) -> usize {
        self.with_citizen_id_digits
    }

    /// The fund and household lookups, from the rows (after reading them
    /// back from the cache).
    fn index(&mut self) {
        self.fund_names = self
            .funds
            .iter()
            .map(|fund| (fund.id.as_str().into(), fund.name.as_str().into()))
            .collect();
        self.fund_index = (self.funds.iter().enumerate())
            .map(|(at, fund)| (fund.id.clone(), at))
            .collect();
        self.household_index = HouseholdIndex::of(&self.households);
    }

    /// The model: what is derived from all the rows, checked against the
    /// verified state.
    pub fn finish(
        self,
        state: &Settled,
        checkpoint: &Checkpoint,
        checkpoint_note: &str,
    ) -> Result<Model> {
        let Rows {
            mut funds,
            fund_index,
            mut households,
            household_index,
            household_stages,
            fund_activity,
            donations,
            disbursements,
            mut live_changes,
            newest,
            signed_fund_names,
            with_citizen_id_digits,
            ..
        } = self;

        hide_photos_without_consent(&mut households);
        settle_balances(&mut funds);
        check_against_state(&funds, state)?;
        let mut totals = fund_totals(&funds)?;

        // Independent of each other, and serial each: on both cores.
        let ((provinces, communes), reports) = rayon::join(
            || places(&households, &household_stages),
            || day_reports(&households, &mut live_changes),
        );
        for (household, stage) in households.iter().zip(&household_stages) {
            if household.voided.is_none() {
                totals.households.add(*stage);
            }
        }
        let newest_bodies: Vec<Body> = newest
            .iter()
            .map(|entry| {
                state
                    .amended_body(entry.seq)
                    .cloned()
                    .unwrap_or_else(|| entry.body.clone())
            })
            .collect();
        let mut latest = latest_entries(
            &newest,
            &newest_bodies,
            &funds,
            &fund_index,
            &households,
            &household_index,
        );
        anchor_latest(&mut latest, &donations, &disbursements)?;
        let keys = key_rows(state);
        let checkpoint = CheckpointInfo {
            origin: checkpoint.origin.clone(),
            size: checkpoint.size,
            root: base64::engine::general_purpose::STANDARD.encode(checkpoint.root),
            note: checkpoint_note.to_string(),
        };
        Ok(Model {
            funds,
            fund_activity,
            donations,
            disbursements,
            households,
            household_index,
            provinces,
            communes,
            reports,
            keys,
            checkpoint,
            totals,
            latest,
            newest,
            signed_fund_names,
            entries_with_citizen_id_digits: with_citizen_id_digits,
            households_stored: None,
        })
    }
}

/// Whether any of `entries` numbered `since` or more is a correction: rows
/// made before it would change, so they cannot be extended.
pub fn corrects_earlier<'a>(entries: impl IntoIterator<Item = &'a Entry>, since: u64) -> bool {
    entries
        .into_iter()
        .any(|entry| entry.seq >= since && matches!(entry.body, Body::Correction(_)))
}

/// Adds entries to rows, in `seq` order.
struct Adding<'r, 'o> {
    rows: &'r mut Rows,
    options: &'o ModelOptions<'o>,
    page_size: usize,
    corrections: &'r Corrections,
}

impl Adding<'_, '_> {
    /// Adds entry `seq` in its current form (`body`, corrections applied).
    fn push(&mut self, seq: u64, body: Body) -> Result<()> {
        match body {
            Body::Fund(fund) => self.fund(seq, *fund)?,
            Body::Donation(donation) => self.donation(seq, donation)?,
            Body::Household(household) => {
                self.rows.kept_households = None;
                self.household(seq, household)?
            }
            Body::Disbursement(disbursement) => {
                self.rows.kept_households = None;
                self.disbursement(seq, disbursement)?
            }
            Body::Progress(progress) => {
                self.rows.kept_households = None;
                self.progress(seq, progress)?
            }
            Body::Key(_) | Body::Correction(_) => {}
        }
        Ok(())
    }

    /// A fund: its row, its accounts with their totals, its VietQR code.
    fn fund(&mut self, seq: u64, fund: Fund) -> Result<()> {
        let account = fund.bank_accounts().next().map(|a| AccountRow {
            bank_bin: a.bank_bin.clone(),
            number: a.number.clone(),
            holder: a.holder.clone(),
        });
        let accounts = fund
            .bank_accounts()
            .map(|a| AccountTotalsRow {
                bank_bin: a.bank_bin.clone(),
                number: a.number.clone(),
                holder: a.holder.clone(),
                received: 0,
                donation_count: 0,
            })
            .collect();
        self.rows
            .fund_index
            .insert(fund.id.clone(), self.rows.funds.len());
        self.rows
            .fund_names
            .push((fund.id.as_str().into(), fund.name.as_str().into()));
        self.rows.fund_activity.push(FundActivity::default());
        self.rows.funds.push(FundRow {
            seq,
            path: routes::fund(&fund.id),
            id: fund.id,
            name: fund.name,
            description: fund.description,
            target: fund.target.map(|t| t.get()),
            account,
            accounts,
            received: 0,
            disbursed: 0,
            balance: 0,
            advance: false,
            donation_count: 0,
            disbursement_count: 0,
            voided: self.corrections.voided(seq),
            amended: self.corrections.amended(seq),
            vietqr: None,
        });
        let row = self.rows.funds.last_mut().expect("just pushed");
        row.vietqr = fund_vietqr(row);
        Ok(())
    }

    /// A donation: its row on its numbered page, counted in its fund and account unless voided.
    fn donation(&mut self, seq: u64, donation: Donation) -> Result<()> {
        let index = self.rows.donations.len();
        let is_voided = self.corrections.voided(seq);
        let (fund, fund_name) = match self.rows.fund_index.get(&donation.fund) {
            Some(&f) => {
                self.rows.fund_activity[f].add(
                    index,
                    &donation.date,
                    is_voided.is_none().then_some(donation.amount.get()),
                    self.page_size,
                );
                if is_voided.is_none() {
                    let fund = &mut self.rows.funds[f];
                    fund.received = checked(fund.received, donation.amount.get())?;
                    fund.donation_count += 1;
                    if let Some(account) = fund
                        .accounts
                        .iter_mut()
                        .find(|a| Some(a.number.as_str()) == donation.account.as_deref())
                    {
                        account.received = checked(account.received, donation.amount.get())?;
                        account.donation_count += 1;
                    }
                }
                self.rows.fund_names[f].clone()
            }
            None => bail!("donation {} names an unknown fund", seq),
        };
        self.rows.donations.push(DonationRow {
            seq,
            index,
            page: index / self.page_size + 1,
            fund,
            fund_name,
            donor: donation.donor,
            amount: donation.amount.get(),
            date: donation.date,
            channel: donation.channel,
            booking_time: donation.booking_time,
            account: donation.account,
            reference: donation.reference,
            description: donation.description,
            note: donation.note,
            voided: is_voided.map(Box::new),
            amended: self.corrections.amended(seq),
            anchor: Anchor(seq),
        });
        Ok(())
    }

    /// A household: its row as privacy allows.
    fn household(&mut self, seq: u64, household: Box<Household>) -> Result<()> {
        self.rows.household_stages.push(None);
        self.rows.households.push(HouseholdRow {
            seq,
            path: routes::household(&household.id),
            commune_path: commune_path(&household.province, &household.commune),
            id: household.id,
            head: vn::display_name(&household.head, self.options.privacy.household_names),
            province: household.province,
            district: household.district,
            commune: household.commune,
            village: household.village,
            circumstances: household.circumstances,
            support: household.support,
            planned: household.planned.get(),
            photo_consent: household.photo_consent,
            citizen_id_masked: self
                .options
                .privacy
                .show_citizen_id_last4
                .then(|| {
                    // The side store; else the digits an entry
                    // written before they left the ledger line
                    // still carries.
                    self.options
                        .citizen_id_digits
                        .get(seq)
                        .or(household.citizen_id_last4.as_deref())
                        .map(vn::mask_last4)
                })
                .flatten(),
            stage: None,
            stage_date: None,
            history: Vec::new(),
            photos: Vec::new(),
            disbursements: Vec::new(),
            received: 0,
            voided: self.corrections.voided(seq),
            amended: self.corrections.amended(seq),
        });
        let at = self.rows.households.len() - 1;
        self.rows.household_index.push(&self.rows.households, at);
        Ok(())
    }

    /// A disbursement: its row, counted in its fund and household unless voided.
    fn disbursement(&mut self, seq: u64, disbursement: Disbursement) -> Result<()> {
        let index = self.rows.disbursements.len();
        let is_voided = self.corrections.voided(seq);
        let (fund, fund_name) = match self.rows.fund_index.get(&disbursement.fund) {
            Some(&f) => {
                if is_voided.is_none() {
                    let fund = &mut self.rows.funds[f];
                    fund.disbursed = checked(fund.disbursed, disbursement.amount.get())?;
                    fund.disbursement_count += 1;
                }
                self.rows.fund_names[f].clone()
            }
            None => bail!("disbursement {} names an unknown fund", seq),
        };
        let household_name = match &disbursement.household {
            Some(id) => match self.rows.household_index.get(&self.rows.households, id) {
                Some(h) => {
                    self.rows.households[h].disbursements.push(index);
                    if is_voided.is_none() {
                        self.rows.households[h].received =
                            checked(self.rows.households[h].received, disbursement.amount.get())?;
                    }
                    Some(self.rows.households[h].head.clone())
                }
                None => bail!("disbursement {} names an unknown household", seq),
            },
            None => None,
        };
        self.rows.disbursements.push(DisbursementRow {
            seq,
            index,
            page: index / self.page_size + 1,
            fund,
            fund_name,
            amount: disbursement.amount.get(),
            date: disbursement.date,
            household: disbursement.household,
            household_name,
            payee: disbursement.payee,
            purpose: disbursement.purpose,
            voided: is_voided,
            amended: self.corrections.amended(seq),
            anchor: Anchor(seq),
        });
        Ok(())
    }

    /// A household's stage: its history, and its photos when consent allows.
    fn progress(&mut self, seq: u64, progress: Progress) -> Result<()> {
        let Some(h) = (self.rows.household_index).get(&self.rows.households, &progress.household)
        else {
            bail!("progress {} names an unknown household", seq);
        };
        let is_voided = self.corrections.voided(seq);
        let household = &mut self.rows.households[h];
        if is_voided.is_none() {
            self.rows.household_stages[h] = Some(progress.stage);
            household.stage = Some(progress.stage);
            household.stage_date = Some(progress.date.clone());
            self.rows
                .live_changes
                .push((progress.date.clone(), seq, h, progress.stage));
            if household.photo_consent {
                for photo in &progress.photos {
                    household.photos.push(PhotoRow {
                        path: routes::media(&photo.media),
                        media: photo.media.clone(),
                        caption: photo.caption.clone(),
                        stage: progress.stage,
                        phase: Phase::of(progress.stage),
                        date: progress.date.clone(),
                        files: None,
                    });
                }
            }
        }
        household.history.push(StageRow {
            seq,
            stage: progress.stage,
            date: progress.date,
            note: progress.note,
            voided: is_voided,
            amended: self.corrections.amended(seq),
        });
        Ok(())
    }
}

/// How many households, donations and disbursements there are, so their
/// rows are sized up front: a `Vec` grown by doubling holds its old and new
/// buffers at once, and the new one is fresh memory (slow to fault in).
fn count_rows(segments: &[Vec<Entry>]) -> (usize, usize, usize) {
    let (mut households, mut donations, mut disbursements) = (0, 0, 0);
    for entry in segments.iter().flatten() {
        match entry.body {
            Body::Household(_) => households += 1,
            Body::Donation(_) => donations += 1,
            Body::Disbursement(_) => disbursements += 1,
            _ => {}
        }
    }
    (households, donations, disbursements)
}

/// Consent is judged on the household's current form: an amendment
/// withdrawing consent hides photos published before.
fn hide_photos_without_consent(households: &mut [HouseholdRow]) {
    for household in households {
        if !household.photo_consent {
            household.photos.clear();
        }
    }
}

/// Each fund's balance, or its advance when it disbursed more than it
/// received.
fn settle_balances(funds: &mut [FundRow]) {
    for fund in funds {
        match fund.received.checked_sub(fund.disbursed) {
            Some(balance) => fund.balance = balance,
            None => {
                fund.advance = true;
                fund.balance = fund.disbursed - fund.received;
            }
        }
    }
}

/// The totals over every fund not voided (households are added later).
fn fund_totals(funds: &[FundRow]) -> Result<Totals> {
    let mut totals = Totals::default();
    for fund in funds.iter().filter(|f| f.voided.is_none()) {
        totals.received = checked(totals.received, fund.received)?;
        totals.disbursed = checked(totals.disbursed, fund.disbursed)?;
        totals.donations += fund.donation_count;
        totals.disbursements += fund.disbursement_count;
    }
    totals.balance = totals.received.saturating_sub(totals.disbursed);
    Ok(totals)
}

/// A donation or disbursement among the newest entries links to its stable
/// anchor on the numbered page that holds it forever.
fn anchor_latest(
    latest: &mut [EntrySummary],
    donations: &Donations,
    disbursements: &[DisbursementRow],
) -> Result<()> {
    for summary in latest {
        let anchored = match summary.kind {
            "donation" => donations
                .find_seq(summary.seq)?
                .map(|row| routes::anchored(routes::DONATIONS, row.page, row.anchor)),
            "disbursement" => disbursements
                .binary_search_by_key(&summary.seq, |row| row.seq)
                .ok()
                .map(|i| {
                    let row = &disbursements[i];
                    routes::anchored(routes::DISBURSEMENTS, row.page, row.anchor)
                }),
            _ => None,
        };
        if let Some(path) = anchored {
            summary.path = path;
        }
    }
    Ok(())
}

/// Every key ever admitted, as the verify page lists them.
fn key_rows(state: &Settled) -> Vec<KeyRow> {
    state
        .keys()
        .map(|key| KeyRow {
            name: key.name.clone(),
            unit: key.unit.clone(),
            role: key.role.as_str(),
            vkey: key.vkey.to_string(),
            admitted_seq: key.admitted_seq,
            revoked_seq: key.revoked_seq,
            active: key.is_active(),
        })
        .collect()
}

fn checked(a: u64, b: u64) -> Result<u64> {
    a.checked_add(b)
        .ok_or_else(|| anyhow::anyhow!("amount overflow while adding up the ledger"))
}

pub fn commune_path(province: &str, commune: &str) -> String {
    routes::commune(&slugify(province), &slugify(commune))
}

/// The verified `State` is the authority on totals: a difference means the
/// site's replay of corrections disagrees with the ledger's, and nothing is
/// published.
fn check_against_state(funds: &[FundRow], state: &Settled) -> Result<()> {
    let by_id: BTreeMap<&str, &FundRow> = funds.iter().map(|f| (f.id.as_str(), f)).collect();
    for totals in state.funds() {
        let Some(fund) = by_id.get(totals.id.as_str()) else {
            bail!(
                "fund `{}` is in the verified ledger but not in the site model",
                totals.id
            );
        };
        if fund.received != totals.received.get() || fund.disbursed != totals.disbursed.get() {
            bail!(
                "internal error: the site totals of fund `{}` ({} received, {} disbursed) differ from the verified ledger's ({} received, {} disbursed); nothing was published",
                fund.id,
                fund.received,
                fund.disbursed,
                totals.received,
                totals.disbursed
            );
        }
    }
    Ok(())
}

fn places(households: &[HouseholdRow], stages: &[Option<Stage>]) -> (Vec<Province>, Vec<Commune>) {
    // Grouped by the names as borrowed (a household's own strings), in
    // no order: the sort below gives the only one.
    let mut grouped: ahash::AHashMap<(&str, &str), Vec<usize>> = Default::default();
    for (index, household) in households.iter().enumerate() {
        if household.voided.is_some() {
            continue;
        }
        grouped
            .entry((&household.province, &household.commune))
            .or_default()
            .push(index);
    }
    // In Vietnamese alphabetical order, marks ignored ("Ái Tử" beside
    // "An …", not after "Z"), the exact names breaking ties.
    let mut grouped: Vec<((&str, &str), Vec<usize>)> = grouped.into_iter().collect();
    grouped.sort_by_cached_key(|&((province, commune), _)| {
        (vn::fold(province), province, vn::fold(commune), commune)
    });
    let mut provinces: Vec<Province> = Vec::new();
    let mut communes = Vec::new();
    for ((province, commune), members) in grouped {
        let (province, commune) = (province.to_string(), commune.to_string());
        let mut counts = StageCounts::default();
        let mut district_names: Vec<String> = Vec::new();
        for &member in &members {
            counts.add(stages[member]);
            if let Some(district) = &households[member].district
                && !district_names.contains(district)
            {
                district_names.push(district.clone());
            }
        }
        district_names.sort();
        if provinces.last().is_none_or(|p| p.name != province) {
            provinces.push(Province {
                path: routes::province(&slugify(&province)),
                name: province.clone(),
                communes: Vec::new(),
                counts: StageCounts::default(),
            });
        }
        let current = provinces.last_mut().expect("just pushed");
        current.communes.push(communes.len());
        current.counts.total += counts.total;
        current.counts.none += counts.none;
        current.counts.approved += counts.approved;
        current.counts.started += counts.started;
        current.counts.completed += counts.completed;
        current.counts.handed_over += counts.handed_over;
        communes.push(Commune {
            path: commune_path(&province, &commune),
            province,
            district_names,
            commune,
            households: members,
            counts,
        });
    }
    (provinces, communes)
}

/// Groups live stage changes by their date and keeps running totals per
/// commune (each household counted at its latest stage so far).
fn day_reports(
    households: &[HouseholdRow],
    changes: &mut [(String, u64, usize, Stage)],
) -> Vec<DayReport> {
    // Unstable is exact: no two changes share an entry number.
    changes.sort_unstable_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    // Each household's stage so far, by its index.
    let mut stage_of: Vec<Option<Stage>> = vec![None; households.len()];
    let mut by_commune: ahash::AHashMap<(&str, &str), StageCounts> = Default::default();
    let mut totals = StageCounts::default();
    for household in households {
        if household.voided.is_none() {
            by_commune
                .entry((&household.province, &household.commune))
                .or_default()
                .add(None);
            totals.add(None);
        }
    }
    let mut reports: Vec<DayReport> = Vec::new();
    let mut start = 0;
    while start < changes.len() {
        let date = changes[start].0.clone();
        let end = start + changes[start..].iter().take_while(|c| c.0 == date).count();
        let mut touched: Vec<(&str, &str)> = Vec::new();
        let mut rows = Vec::new();
        for (_, seq, h, stage) in &changes[start..end] {
            let household = &households[*h];
            let key = (household.province.as_str(), household.commune.as_str());
            let previous = stage_of[*h].replace(*stage);
            let counts = by_commune.entry(key).or_default();
            counts.bump(previous, -1);
            counts.bump(Some(*stage), 1);
            totals.bump(previous, -1);
            totals.bump(Some(*stage), 1);
            touched.push(key);
            rows.push(StageChange {
                seq: *seq,
                household: *h,
                stage: *stage,
            });
        }
        // Sorted, then each commune once (a day touches thousands: looking
        // each change's commune up in the list was most of this step).
        touched.sort_unstable();
        touched.dedup();
        let communes = touched
            .into_iter()
            .map(|(province, commune)| CommuneTotals {
                path: commune_path(province, commune),
                counts: by_commune[&(province, commune)].clone(),
                province: province.to_string(),
                commune: commune.to_string(),
            })
            .collect();
        reports.push(DayReport {
            path: routes::report(&date),
            date,
            changes: rows,
            communes,
            totals: totals.clone(),
        });
        start = end;
    }
    reports
}

fn latest_entries(
    entries: &[Entry],
    bodies: &[Body],
    funds: &[FundRow],
    fund_index: &HashMap<String, usize>,
    households: &[HouseholdRow],
    household_index: &HouseholdIndex,
) -> Vec<EntrySummary> {
    let mut latest = Vec::new();
    for (entry, body) in entries.iter().zip(bodies).rev() {
        if latest.len() == LATEST {
            break;
        }
        if let Some(summary) =
            summarize(entry, body, funds, fund_index, households, household_index)
        {
            latest.push(summary);
        }
    }
    latest
}

/// A summary of an entry for lists and the feed; `None` for key entries.
pub fn summarize(
    entry: &Entry,
    body: &Body,
    funds: &[FundRow],
    fund_index: &HashMap<String, usize>,
    households: &[HouseholdRow],
    household_index: &HouseholdIndex,
) -> Option<EntrySummary> {
    let fund_name = |id: &str| {
        fund_index
            .get(id)
            .map_or(id.to_string(), |&f| funds[f].name.clone())
    };
    let head = |id: &str| {
        household_index
            .get(households, id)
            .map_or(id.to_string(), |h| households[h].head.clone())
    };
    let (title, amount, path) = match body {
        Body::Key(KeyEntry::Admit { name, .. }) | Body::Key(KeyEntry::Revoke { name, .. }) => {
            (name.clone(), None, routes::VERIFY.to_string())
        }
        Body::Fund(fund) => (fund.name.clone(), None, routes::fund(&fund.id)),
        Body::Donation(donation) if donation.donor.is_empty() => (
            fund_name(&donation.fund),
            Some(donation.amount.get()),
            routes::fund(&donation.fund),
        ),
        Body::Donation(donation) => (
            format!("{} → {}", donation.donor, fund_name(&donation.fund)),
            Some(donation.amount.get()),
            routes::fund(&donation.fund),
        ),
        Body::Household(household) => (
            head(&household.id),
            Some(household.planned.get()),
            routes::household(&household.id),
        ),
        Body::Disbursement(disbursement) => (
            disbursement.purpose.clone(),
            Some(disbursement.amount.get()),
            routes::DISBURSEMENTS.to_string(),
        ),
        Body::Progress(progress) => (
            format!("{} — {}", head(&progress.household), progress.stage),
            None,
            routes::household(&progress.household),
        ),
        Body::Correction(correction) => (
            correction.reason.clone(),
            None,
            routes::OPEN_DATA.to_string(),
        ),
    };
    Some(EntrySummary {
        seq: entry.seq,
        kind: body.kind(),
        date: day(&entry.time),
        title,
        anonymous: matches!(body, Body::Donation(donation) if donation.donor.is_empty()),
        amount,
        path,
    })
}

/// The VietQR code of a fund's account, or `None` when the fund has no
/// account or VietQR cannot carry it (an account number with punctuation).
fn fund_vietqr(fund: &FundRow) -> Option<VietQrRow> {
    let account = fund.account.as_ref()?;
    let note = transfer_note(&fund.id);
    let qr = crate::vietqr::VietQr {
        note: Some(note.clone()),
        ..crate::vietqr::VietQr::new(&account.bank_bin, &account.number)
    };
    let payload = qr.payload().ok()?;
    Some(VietQrRow {
        payload,
        note,
        svg_path: format!("{}vietqr.svg", fund.path),
        bank_name: bank_name(&account.bank_bin).map(str::to_string),
    })
}

/// The longest transfer note the site suggests, in characters: what every
/// bank app takes in the VietQR purpose field.
const NOTE_MAX: usize = 25;

/// `UNG HO ` and the fund's id in capitals, cut at a word boundary to fit
/// [`NOTE_MAX`]: `cuu-tro-thien-tai-2025` → `UNG HO CUU TRO THIEN TAI`.
pub fn transfer_note(fund_id: &str) -> String {
    let mut note = String::from("UNG HO");
    for word in crate::vietqr::fold_note(fund_id).split(' ') {
        if word.is_empty() {
            continue;
        }
        if note.len() + 1 + word.len() > NOTE_MAX {
            break;
        }
        note.push(' ');
        note.push_str(&word.to_ascii_uppercase());
    }
    note
}

/// Common names of the largest banks by their NAPAS BIN, so a donor sees
/// "Vietcombank" rather than a six-digit code. Others show the code only.
fn bank_name(bin: &str) -> Option<&'static str> {
    Some(match bin {
        "970403" => "Sacombank",
        "970405" => "Agribank",
        "970407" => "Techcombank",
        "970415" => "VietinBank",
        "970416" => "ACB",
        "970418" => "BIDV",
        "970422" => "MB",
        "970423" => "TPBank",
        "970432" => "VPBank",
        "970436" => "Vietcombank",
        _ => return None,
    })
}
