//! The ledger's invariants, checked the same way on append and on verify.
//!
//! `State` is what the ledger must remember to judge the next entry: the key
//! history, each fund's receipts, disbursements and bank references, each
//! household's stages, the citizen-ID commitments, and one small slot per
//! entry so a correction can undo what its target did. It is built by
//! applying entries in order; an entry that breaks an invariant is refused
//! with the field it concerns, and the caller throws the state away.

use super::entry::{Body, Channel, Correction, Donation, Entry, KeyEntry, Role, Stage};
use super::identity::{TransferHashes, TransferKey};
use super::note::VerifierKey;
use super::validate::EntryError;
use crate::money::Dong;
use crate::sized;
use crate::sorted_base::{SortedBaseMap, SortedBaseSet};
use ahash::AHashMap as HashMap;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A signing key's history.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KeyRecord {
    pub name: String,
    pub unit: String,
    pub role: Role,
    #[serde(with = "vkey_text")]
    pub vkey: VerifierKey,
    pub admitted_seq: u64,
    pub revoked_seq: Option<u64>,
}

impl KeyRecord {
    pub fn is_active(&self) -> bool {
        self.revoked_seq.is_none()
    }

    /// The tree size from which the key is revoked: the size of the tree
    /// that first holds its revocation. A checkpoint of that size or larger
    /// signed by it is refused. A key never signs its own revocation (another
    /// administrator must), so every checkpoint it rightly signed is smaller.
    pub fn revoked_from(&self) -> Option<u64> {
        self.revoked_seq.map(|seq| seq + 1)
    }
}

/// A fund's running totals.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FundTotals {
    pub id: String,
    pub seq: u64,
    pub received: Dong,
    pub disbursed: Dong,
    pub voided: bool,
}

impl FundTotals {
    /// Received minus disbursed; negative only when advances are allowed, so
    /// it is reported as (is_advance, amount).
    pub fn balance(&self) -> (bool, Dong) {
        match self.received.checked_sub(self.disbursed) {
            Ok(balance) => (false, balance),
            Err(_) => (true, Dong::new(self.disbursed.get() - self.received.get())),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct FundState {
    totals: FundTotals,
    /// The numbers of the fund's bank accounts, as amended.
    accounts: Vec<String>,
    live_entries: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct HouseholdState {
    id: String,
    citizen_id_hmac: String,
    /// Live stage changes, in order: (seq, stage, date).
    stages: Vec<(u64, Stage, String)>,
    live_entries: u32,
    voided: bool,
}

/// What an entry did, kept so a correction can undo or redo it.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
enum Slot {
    Key,
    Correction,
    Fund {
        fund: u32,
        live: bool,
    },
    Donation {
        fund: u32,
        amount: Dong,
        live: bool,
    },
    Household {
        household: u32,
    },
    Disbursement {
        fund: u32,
        amount: Dong,
        household: Option<u32>,
        live: bool,
    },
    Progress {
        household: u32,
        live: bool,
    },
}

/// The households in the order recorded, found by id, and the live ones by
/// the citizen-ID commitment each claims, through tables of their
/// positions: not stored (the cache holds the list; the tables are made
/// again from it when it is read), and no second copy of each id or
/// commitment, as maps from them to positions held (one of each per
/// household).
#[derive(Clone, Debug, Default)]
struct Households {
    list: Vec<HouseholdState>,
    by_id: hashbrown::HashTable<u32>,
    /// Every live household, by its `citizen_id_hmac`: a voided one has
    /// released its claim, and one cannot be corrected again, so this is
    /// exactly the live households' commitments.
    by_citizen: hashbrown::HashTable<u32>,
    hasher: ahash::RandomState,
}

impl Households {
    /// The position of the household `id`.
    fn position(&self, id: &str) -> Option<u32> {
        let hash = self.hasher.hash_one(id);
        (self.by_id)
            .find(hash, |&at| self.list[at as usize].id == id)
            .copied()
    }

    /// Adds a household whose id is not there yet (`position` said so);
    /// returns its position.
    fn push(&mut self, household: HouseholdState) -> u32 {
        let at = self.list.len() as u32;
        let (list, hasher) = (&self.list, &self.hasher);
        self.by_id
            .insert_unique(hasher.hash_one(&household.id), at, |&at| {
                hasher.hash_one(&list[at as usize].id)
            });
        self.list.push(household);
        at
    }

    fn len(&self) -> usize {
        self.list.len()
    }

    /// The live household that claims the citizen-ID commitment `hmac`.
    fn citizen(&self, hmac: &str) -> Option<u32> {
        let hash = self.hasher.hash_one(hmac);
        (self.by_citizen)
            .find(hash, |&at| self.list[at as usize].citizen_id_hmac == hmac)
            .copied()
    }

    /// Household `at` claims its commitment, which no other live household
    /// claims (`citizen` said so).
    fn claim(&mut self, at: u32) {
        let (list, hasher) = (&self.list, &self.hasher);
        let hash = hasher.hash_one(&list[at as usize].citizen_id_hmac);
        self.by_citizen.insert_unique(hash, at, |&other| {
            hasher.hash_one(&list[other as usize].citizen_id_hmac)
        });
    }

    /// Household `at` no longer claims its commitment (it was voided).
    fn release(&mut self, at: u32) {
        let hash = self
            .hasher
            .hash_one(&self.list[at as usize].citizen_id_hmac);
        if let Ok(claim) = self.by_citizen.find_entry(hash, |&other| other == at) {
            claim.remove();
        }
    }

    /// Household `at`'s commitment becomes `hmac` (an amendment), its claim
    /// moved with it.
    fn set_citizen(&mut self, at: u32, hmac: String) {
        self.release(at);
        self.list[at as usize].citizen_id_hmac = hmac;
        self.claim(at);
    }
}

impl std::ops::Index<usize> for Households {
    type Output = HouseholdState;
    fn index(&self, at: usize) -> &HouseholdState {
        &self.list[at]
    }
}

/// Changes a household's state; never its id or commitment (the tables find
/// it by them: `set_citizen` changes the commitment).
impl std::ops::IndexMut<usize> for Households {
    fn index_mut(&mut self, at: usize) -> &mut HouseholdState {
        &mut self.list[at]
    }
}

impl Serialize for Households {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.list.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Households {
    /// The list, with its tables made again; an id twice, or a commitment
    /// claimed by two live households, is no state.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let list: Vec<HouseholdState> = sized::vec(deserializer)?;
        let hasher = ahash::RandomState::default();
        // Room for the appends to come, as the list has (`sized`).
        let mut by_id = hashbrown::HashTable::with_capacity(list.capacity());
        for (at, household) in list.iter().enumerate() {
            let hash = hasher.hash_one(&household.id);
            if (by_id.find(hash, |&other: &u32| list[other as usize].id == household.id)).is_some()
            {
                let message = format!("household `{}` twice", household.id);
                return Err(serde::de::Error::custom(message));
            }
            by_id.insert_unique(hash, at as u32, |&other| {
                hasher.hash_one(&list[other as usize].id)
            });
        }
        let by_citizen = hashbrown::HashTable::with_capacity(list.capacity());
        let mut households = Households {
            list,
            by_id,
            by_citizen,
            hasher,
        };
        for at in 0..households.list.len() as u32 {
            let household = &households.list[at as usize];
            if household.voided {
                continue;
            }
            if let Some(other) = households.citizen(&household.citizen_id_hmac) {
                let message = format!(
                    "households `{}` and `{}` claim one citizen ID",
                    households.list[other as usize].id, household.id
                );
                return Err(serde::de::Error::custom(message));
            }
            households.claim(at);
        }
        Ok(households)
    }
}

/// Everything needed to judge the next entry. Serialisable for the
/// verified-state cache (`cache`), in postcard, which needs no field names.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct State {
    allow_advances: bool,
    keys: BTreeMap<String, KeyRecord>,
    #[serde(deserialize_with = "sized::vec")]
    funds: Vec<FundState>,
    #[serde(deserialize_with = "sized::map")]
    fund_index: HashMap<String, u32>,
    households: Households,
    #[serde(deserialize_with = "sized::vec")]
    slots: Vec<Slot>,
    /// Bank references recorded, per fund, account and booking day
    /// (`TransferKey::reference_day`), live or voided.
    reference_days: SortedBaseSet<u128>,
    /// Every donation by transaction identity (`TransferKey::identity`):
    /// the newest entry with each key, live or voided ...
    identities: SortedBaseMap<u64, u64>,
    /// ... and, for the rare key held by several entries, (key, entry) →
    /// the previous entry with that key.
    #[serde(deserialize_with = "sized::map")]
    earlier_identities: HashMap<(u64, u64), u64>,
    /// Bank donations with a reference but no account and no booking time
    /// (all those imported before either existed), live or voided.
    unplaced_transfers: u64,
    /// The current form of entries changed by an amendment.
    #[serde(with = "bodies_as_json")]
    amended: HashMap<u64, Body>,
    /// Received and disbursed over every fund.
    totals: LedgerTotals,
}

/// What readers of a verified ledger ask of its state, without what only
/// judging new entries needs (`State::settle`): the keys, each fund's
/// totals, the current form of amended entries and which entries are void.
/// The same answers as the `State` it was settled from.
#[derive(Clone, Debug)]
pub struct Settled {
    size: u64,
    keys: BTreeMap<String, KeyRecord>,
    funds: Vec<FundTotals>,
    amended: HashMap<u64, Body>,
    /// Sorted.
    voided: Vec<u64>,
}

impl Settled {
    /// The number of entries applied.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// As `State::amended_body`.
    pub fn amended_body(&self, seq: u64) -> Option<&Body> {
        self.amended.get(&seq)
    }

    /// As `State::is_voided`.
    pub fn is_voided(&self, seq: u64) -> bool {
        self.voided.binary_search(&seq).is_ok()
    }

    pub fn keys(&self) -> impl Iterator<Item = &KeyRecord> {
        self.keys.values()
    }

    pub fn funds(&self) -> impl Iterator<Item = &FundTotals> {
        self.funds.iter()
    }
}

/// What the whole ledger has received and disbursed, over every fund: the
/// sums `minhbach balance` and the site's front page show. Kept as entries
/// are applied so that an entry which would make either leave `u64` is
/// refused, not stored to break every later build and `balance` (each fund's
/// own total fitting is not enough). A voided fund has no live entries, so
/// it adds nothing.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
struct LedgerTotals {
    received: Dong,
    disbursed: Dong,
}

/// `total + amount`, or the refusal of an entry that would make a
/// ledger-wide sum (`what`: "received", "disbursed") overflow.
fn ledger_sum(total: Dong, amount: Dong, what: &str, field: &str) -> Result<Dong, EntryError> {
    total.checked_add(amount).map_err(|_| {
        EntryError::field(
            field,
            format!(
                "the ledger would have {what} {total} + {amount} đồng over all funds, more than the {} đồng its totals can hold",
                u64::MAX
            ),
        )
    })
}

/// A verifier key in the cache: its text, parsed back on reading.
mod vkey_text {
    use super::VerifierKey;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(key: &VerifierKey, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(key)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<VerifierKey, D::Error> {
        let text = String::deserialize(deserializer)?;
        VerifierKey::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Amended bodies in the cache: each as its JSON text, because a body's
/// kind is an internal tag, which only a self-describing format can read.
mod bodies_as_json {
    use super::{Body, HashMap};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(
        bodies: &HashMap<u64, Body>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let mut texts = Vec::with_capacity(bodies.len());
        for (&seq, body) in bodies {
            texts.push((
                seq,
                serde_json::to_string(body).map_err(serde::ser::Error::custom)?,
            ));
        }
        texts.sort_unstable();
        texts.serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<HashMap<u64, Body>, D::Error> {
        let texts = Vec::<(u64, String)>::deserialize(deserializer)?;
        texts
            .into_iter()
            .map(|(seq, text)| {
                Ok((
                    seq,
                    serde_json::from_str(&text).map_err(serde::de::Error::custom)?,
                ))
            })
            .collect()
    }
}

/// The checks of an entry that need no ledger context: its fields and time.
pub fn check_entry_fields(entry: &Entry) -> Result<(), EntryError> {
    super::validate::check_fields(&entry.body)?;
    super::validate::time("time", &entry.time)
}

/// Fields a correction may amend, per kind. Identity fields (`id`, `fund`,
/// `household` of a progress entry, `stage`) are not amendable: void the
/// entry and append a new one instead, so the history stays readable.
fn amendable(kind: &str) -> &'static [&'static str] {
    match kind {
        "fund" => &["name", "description", "target", "account", "accounts"],
        "donation" => &[
            "donor",
            "amount",
            "date",
            "booking_time",
            "channel",
            "account",
            "ref",
            "description",
            "note",
        ],
        "household" => &[
            "head",
            "province",
            "district",
            "commune",
            "village",
            "circumstances",
            "support",
            "planned",
            "photo_consent",
            "citizen_id_hmac",
            "citizen_id_last4",
            "phone_hmac",
        ],
        "disbursement" => &["amount", "date", "household", "payee", "purpose"],
        "progress" => &["date", "photos", "note"],
        _ => &[],
    }
}

impl State {
    pub fn new(allow_advances: bool) -> State {
        State {
            allow_advances,
            ..State::default()
        }
    }

    /// The number of entries applied.
    pub fn size(&self) -> u64 {
        self.slots.len() as u64
    }

    /// The current form of entry `seq` if corrections amended it: readers
    /// (the site) show this instead of replaying corrections themselves.
    pub fn amended_body(&self, seq: u64) -> Option<&Body> {
        self.amended.get(&seq)
    }

    /// Whether a correction voided entry `seq`.
    pub fn is_voided(&self, seq: u64) -> bool {
        match self.slots.get(seq as usize) {
            Some(Slot::Fund { live, .. })
            | Some(Slot::Donation { live, .. })
            | Some(Slot::Disbursement { live, .. })
            | Some(Slot::Progress { live, .. }) => !live,
            Some(Slot::Household { household }) => self.households[*household as usize].voided,
            Some(Slot::Key) | Some(Slot::Correction) | None => false,
        }
    }

    pub fn keys(&self) -> impl Iterator<Item = &KeyRecord> {
        self.keys.values()
    }

    /// What a reader of the ledger needs of the state once no more entries
    /// are to be judged (`Settled`), the rest dropped: the site settles the
    /// state after verifying, so the bank references, transfer identities,
    /// commitments and one slot per entry (most of its memory) are not held
    /// while it builds.
    pub fn settle(self) -> Settled {
        let voided = self.voided();
        Settled {
            size: self.size(),
            keys: self.keys,
            funds: self.funds.into_iter().map(|fund| fund.totals).collect(),
            amended: self.amended,
            voided,
        }
    }

    /// `settle` for a caller that keeps the state.
    pub fn settled(&self) -> Settled {
        Settled {
            size: self.size(),
            keys: self.keys.clone(),
            funds: self.funds().cloned().collect(),
            amended: self.amended.clone(),
            voided: self.voided(),
        }
    }

    /// Every voided entry's number, in order.
    fn voided(&self) -> Vec<u64> {
        (0..self.size())
            .filter(|&seq| self.is_voided(seq))
            .collect()
    }

    pub fn key(&self, name: &str) -> Option<&KeyRecord> {
        self.keys.get(name)
    }

    pub fn funds(&self) -> impl Iterator<Item = &FundTotals> {
        self.funds.iter().map(|fund| &fund.totals)
    }

    pub fn has_household(&self, id: &str) -> bool {
        self.households.position(id).is_some()
    }

    pub fn has_fund(&self, id: &str) -> bool {
        self.fund_index.contains_key(id)
    }

    /// The bank donations (live or voided) recorded with this transaction
    /// identity (`TransferKey::identity`), oldest first: an import pairs its
    /// rows with them one to one.
    pub fn recorded_transfers(&self, identity: u64) -> Vec<u64> {
        let mut seqs = Vec::new();
        let mut next = self.identities.get(&identity);
        while let Some(seq) = next {
            seqs.push(seq);
            next = self.earlier_identities.get(&(identity, seq)).copied();
        }
        seqs.reverse();
        seqs
    }

    /// Whether any bank donation has a reference but neither an account nor
    /// a booking time: an import then also looks for its rows that way.
    pub fn has_unplaced_transfers(&self) -> bool {
        self.unplaced_transfers > 0
    }

    /// The account numbers of fund `id`, as amended.
    pub fn fund_accounts(&self, id: &str) -> &[String] {
        match self.fund_index.get(id) {
            Some(&index) => &self.funds[index as usize].accounts,
            None => &[],
        }
    }

    /// Room for `donations` more bank donations' keys: a national
    /// statement's five million grew the tables by rehashing them.
    pub fn reserve_transfers(&mut self, donations: usize) {
        self.reference_days.reserve(donations);
        self.identities.reserve(donations);
    }

    /// Records entry `seq` under its transaction identity.
    fn record_identity(&mut self, identity: u64, seq: u64) {
        if let Some(previous) = self.identities.insert(identity, seq)
            && previous != seq
        {
            self.earlier_identities.insert((identity, seq), previous);
        }
    }

    /// Refuses a donation whose account is not one of its fund's, or whose
    /// reference is already recorded on that account and day; returns the
    /// key of that reference and day (`day`, hashed by the caller), to record.
    fn check_transfer(
        &self,
        fund: u32,
        donation: &Donation,
        day: Option<u128>,
        field: &str,
    ) -> Result<Option<u128>, EntryError> {
        let accounts = &self.funds[fund as usize].accounts;
        if let Some(account) = &donation.account
            && !accounts.contains(account)
        {
            return Err(EntryError::field(
                &format!("{field}account"),
                format!(
                    "fund `{}` has no account `{account}` (its accounts: {})",
                    donation.fund,
                    if accounts.is_empty() {
                        "none".to_string()
                    } else {
                        accounts.join(", ")
                    }
                ),
            ));
        }
        if let Some(day) = day
            && self.reference_days.contains(&day)
        {
            return Err(EntryError::field(
                &format!("{field}ref"),
                format!(
                    "bank reference `{}` is already recorded in fund `{}`{} on {}",
                    donation.reference.as_deref().unwrap_or_default(),
                    donation.fund,
                    donation
                        .account
                        .as_ref()
                        .map(|a| format!(", account `{a}`,"))
                        .unwrap_or_default(),
                    donation.date
                ),
            ));
        }
        Ok(day)
    }

    /// Whether a household with this citizen-ID commitment is registered.
    pub fn has_citizen(&self, citizen_id_hmac: &str) -> bool {
        self.households.citizen(citizen_id_hmac).is_some()
    }

    /// Checks that the signer of a batch may sign it: it must be an admitted,
    /// unrevoked key. The genesis batch is signed by the key it admits.
    pub fn check_signer(&self, signer: &str) -> Result<&KeyRecord, EntryError> {
        match self.keys.get(signer) {
            Some(key) if key.is_active() => Ok(key),
            Some(key) => Err(EntryError::entry(format!(
                "key `{signer}` was revoked at entry {}",
                key.revoked_seq.unwrap_or_default()
            ))),
            None => Err(EntryError::entry(format!(
                "key `{signer}` has not been admitted"
            ))),
        }
    }

    /// Checks `entry` against every invariant and, if it holds, records it.
    /// A refused entry leaves the state unchanged, except a refused
    /// correction, which may leave it half-applied: callers then discard it.
    /// `signer_role` is the batch signer's role at the start of the batch
    /// (`None` for the genesis). `lookup` returns an earlier entry by sequence
    /// number, for corrections; it is called only for entries not amended.
    pub fn apply(
        &mut self,
        entry: &Entry,
        signer_role: Option<Role>,
        lookup: &mut dyn FnMut(u64) -> Result<Entry, String>,
    ) -> Result<(), EntryError> {
        check_entry_fields(entry)?;
        self.apply_checked(entry, signer_role, lookup)
    }

    /// `apply` for an entry whose fields `check_entry_fields` already
    /// accepted (verify runs those checks in parallel, ahead of the
    /// in-order application).
    pub fn apply_checked(
        &mut self,
        entry: &Entry,
        signer_role: Option<Role>,
        lookup: &mut dyn FnMut(u64) -> Result<Entry, String>,
    ) -> Result<(), EntryError> {
        self.apply_hashed(entry, None, signer_role, lookup)
    }

    /// `apply_checked` with a donation's keys already hashed
    /// (`TransferHashes::of` the entry's donation, on `verify`'s decoding
    /// threads).
    pub fn apply_hashed(
        &mut self,
        entry: &Entry,
        hashes: Option<TransferHashes>,
        signer_role: Option<Role>,
        lookup: &mut dyn FnMut(u64) -> Result<Entry, String>,
    ) -> Result<(), EntryError> {
        if entry.seq != self.size() {
            return Err(EntryError::field(
                "seq",
                format!(
                    "expected sequence number {}, found {}",
                    self.size(),
                    entry.seq
                ),
            ));
        }
        let slot = match (&entry.body, signer_role) {
            (Body::Key(key), role) => self.apply_key(entry, key, role)?,
            (_, None) => {
                return Err(EntryError::entry(
                    "the first entry (genesis) must admit the administrator key",
                ));
            }
            (Body::Fund(fund), Some(_)) => {
                if self.fund_index.contains_key(&fund.id) {
                    return Err(EntryError::field(
                        "id",
                        format!("fund `{}` already exists", fund.id),
                    ));
                }
                let index = self.funds.len() as u32;
                self.fund_index.insert(fund.id.clone(), index);
                self.funds.push(FundState {
                    totals: FundTotals {
                        id: fund.id.clone(),
                        seq: entry.seq,
                        received: Dong::ZERO,
                        disbursed: Dong::ZERO,
                        voided: false,
                    },
                    accounts: fund.bank_accounts().map(|a| a.number.clone()).collect(),
                    live_entries: 0,
                });
                Slot::Fund {
                    fund: index,
                    live: true,
                }
            }
            (Body::Donation(donation), Some(_)) => {
                let fund = self.live_fund(&donation.fund, "fund")?;
                let hashes = hashes.unwrap_or_else(|| TransferHashes::of(donation));
                let day = self.check_transfer(fund, donation, hashes.reference_day, "")?;
                // Every check before any change, so a refused entry leaves
                // the state as it was (an import skips it and goes on).
                let received = self.funds[fund as usize]
                    .totals
                    .received
                    .checked_add(donation.amount)
                    .map_err(|e| EntryError::money("amount", e))?;
                let ledger_received =
                    ledger_sum(self.totals.received, donation.amount, "received", "amount")?;
                if let Some(day) = day {
                    self.reference_days.insert(day);
                }
                if let Some(identity) = hashes.identity {
                    self.record_identity(identity, entry.seq);
                    if donation.reference.is_some()
                        && donation.account.is_none()
                        && donation.booking_time.is_none()
                    {
                        self.unplaced_transfers += 1;
                    }
                }
                let state = &mut self.funds[fund as usize];
                state.totals.received = received;
                state.live_entries += 1;
                self.totals.received = ledger_received;
                Slot::Donation {
                    fund,
                    amount: donation.amount,
                    live: true,
                }
            }
            (Body::Household(household), Some(_)) => {
                if self.households.position(&household.id).is_some() {
                    return Err(EntryError::field(
                        "id",
                        format!("household `{}` already exists", household.id),
                    ));
                }
                let index = self.households.len() as u32;
                self.check_citizen(&household.citizen_id_hmac)?;
                self.households.push(HouseholdState {
                    id: household.id.clone(),
                    citizen_id_hmac: household.citizen_id_hmac.clone(),
                    stages: Vec::new(),
                    live_entries: 0,
                    voided: false,
                });
                self.households.claim(index);
                Slot::Household { household: index }
            }
            (Body::Disbursement(disbursement), Some(_)) => {
                let fund = self.live_fund(&disbursement.fund, "fund")?;
                let household = match &disbursement.household {
                    Some(id) => Some(self.live_household(id, "household")?),
                    None => None,
                };
                self.add_disbursed(fund, disbursement.amount, "amount")?;
                if let Some(household) = household {
                    self.households[household as usize].live_entries += 1;
                }
                self.funds[fund as usize].live_entries += 1;
                Slot::Disbursement {
                    fund,
                    amount: disbursement.amount,
                    household,
                    live: true,
                }
            }
            (Body::Progress(progress), Some(_)) => {
                let household = self.live_household(&progress.household, "household")?;
                let state = &mut self.households[household as usize];
                if let Some((_, last_stage, last_date)) = state.stages.last() {
                    if progress.stage <= *last_stage {
                        return Err(EntryError::field(
                            "stage",
                            format!(
                                "household `{}` is already at stage `{last_stage}`; stages only move forward (approved, started, completed, handed_over)",
                                progress.household
                            ),
                        ));
                    }
                    if progress.date < *last_date {
                        return Err(EntryError::field(
                            "date",
                            format!(
                                "{} is before the household's previous stage change on {last_date}",
                                progress.date
                            ),
                        ));
                    }
                }
                state
                    .stages
                    .push((entry.seq, progress.stage, progress.date.clone()));
                state.live_entries += 1;
                Slot::Progress {
                    household,
                    live: true,
                }
            }
            (Body::Correction(correction), Some(_)) => {
                self.apply_correction(entry.seq, correction, lookup)?;
                Slot::Correction
            }
        };
        self.slots.push(slot);
        Ok(())
    }

    fn apply_key(
        &mut self,
        entry: &Entry,
        key: &KeyEntry,
        signer_role: Option<Role>,
    ) -> Result<Slot, EntryError> {
        match (signer_role, key) {
            (
                None,
                KeyEntry::Admit {
                    name,
                    role: Role::Admin,
                    ..
                },
            ) if *name == entry.signer => {}
            (None, _) => {
                return Err(EntryError::entry(
                    "the first entry (genesis) must admit, as `admin`, the key that signs it",
                ));
            }
            (Some(Role::Admin), _) => {}
            (Some(Role::Officer), _) => {
                return Err(EntryError::entry(format!(
                    "only an administrator may admit or revoke keys; `{}` is an officer",
                    entry.signer
                )));
            }
        }
        match key {
            KeyEntry::Admit {
                name,
                unit,
                role,
                vkey,
            } => {
                let parsed = VerifierKey::parse(vkey)
                    .map_err(|e| EntryError::field("vkey", e.to_string()))?;
                if parsed.name() != name {
                    return Err(EntryError::field(
                        "vkey",
                        format!(
                            "the verifier key is named `{}`, not `{name}`",
                            parsed.name()
                        ),
                    ));
                }
                if let Some(existing) = self.keys.get(name) {
                    let status = if existing.is_active() {
                        "is already admitted"
                    } else {
                        "was revoked; admit a key with a new name"
                    };
                    return Err(EntryError::field("name", format!("key `{name}` {status}")));
                }
                if let Some(same) = self
                    .keys
                    .values()
                    .find(|k| k.vkey.to_string() == parsed.to_string())
                {
                    return Err(EntryError::field(
                        "vkey",
                        format!("this key is already admitted as `{}`", same.name),
                    ));
                }
                self.keys.insert(
                    name.clone(),
                    KeyRecord {
                        name: name.clone(),
                        unit: unit.clone(),
                        role: *role,
                        vkey: parsed,
                        admitted_seq: entry.seq,
                        revoked_seq: None,
                    },
                );
            }
            KeyEntry::Revoke { name, .. } => {
                let active_admins = self
                    .keys
                    .values()
                    .filter(|k| k.is_active() && k.role == Role::Admin)
                    .count();
                let record = self.keys.get_mut(name).ok_or_else(|| {
                    EntryError::field("name", format!("key `{name}` has not been admitted"))
                })?;
                if !record.is_active() {
                    return Err(EntryError::field(
                        "name",
                        format!("key `{name}` is already revoked"),
                    ));
                }
                if record.role == Role::Admin && active_admins == 1 {
                    return Err(EntryError::field(
                        "name",
                        format!(
                            "`{name}` is the last administrator; admit another administrator first"
                        ),
                    ));
                }
                if *name == entry.signer {
                    return Err(EntryError::field(
                        "name",
                        format!(
                            "`{name}` cannot revoke its own key: the checkpoint of this batch would be signed by a revoked key; another administrator signs the revocation"
                        ),
                    ));
                }
                record.revoked_seq = Some(entry.seq);
            }
        }
        Ok(Slot::Key)
    }

    fn live_fund(&self, id: &str, field: &str) -> Result<u32, EntryError> {
        match self.fund_index.get(id) {
            Some(&index) if !self.funds[index as usize].totals.voided => Ok(index),
            Some(_) => Err(EntryError::field(field, format!("fund `{id}` was voided"))),
            None => Err(EntryError::field(
                field,
                format!("no fund `{id}` in the ledger"),
            )),
        }
    }

    fn live_household(&self, id: &str, field: &str) -> Result<u32, EntryError> {
        match self.households.position(id) {
            Some(index) if !self.households[index as usize].voided => Ok(index),
            Some(_) => Err(EntryError::field(
                field,
                format!("household `{id}` was voided"),
            )),
            None => Err(EntryError::field(
                field,
                format!("no household `{id}` in the ledger"),
            )),
        }
    }

    /// Refuses a commitment a live household claims (a new household's,
    /// or an amendment's, which differs from the one its household claims).
    fn check_citizen(&self, hmac: &str) -> Result<(), EntryError> {
        match self.households.citizen(hmac) {
            Some(other) => Err(EntryError::field(
                "citizen_id",
                format!(
                    "this citizen ID is already registered to household `{}`",
                    self.households[other as usize].id
                ),
            )),
            None => Ok(()),
        }
    }

    fn add_disbursed(&mut self, fund: u32, amount: Dong, field: &str) -> Result<(), EntryError> {
        let allow_advances = self.allow_advances;
        let ledger_disbursed = ledger_sum(self.totals.disbursed, amount, "disbursed", field)?;
        let totals = &mut self.funds[fund as usize].totals;
        let disbursed = totals
            .disbursed
            .checked_add(amount)
            .map_err(|e| EntryError::money(field, e))?;
        if disbursed > totals.received && !allow_advances {
            return Err(EntryError::field(
                field,
                format!(
                    "fund `{}` would disburse {} đồng but has received only {} đồng (set ledger.allow_advances in config.toml to allow advances)",
                    totals.id, disbursed, totals.received
                ),
            ));
        }
        totals.disbursed = disbursed;
        self.totals.disbursed = ledger_disbursed;
        Ok(())
    }

    /// Lowers a fund's disbursements (a disbursement voided or amended).
    fn remove_disbursed(&mut self, fund: u32, amount: Dong, field: &str) -> Result<(), EntryError> {
        let totals = &mut self.funds[fund as usize].totals;
        totals.disbursed = totals
            .disbursed
            .checked_sub(amount)
            .map_err(|e| EntryError::money(field, e))?;
        self.totals.disbursed = self
            .totals
            .disbursed
            .checked_sub(amount)
            .map_err(|e| EntryError::money(field, e))?;
        Ok(())
    }

    /// Lowers a fund's receipts, refusing if its disbursements would then
    /// exceed them.
    fn remove_received(&mut self, fund: u32, amount: Dong, field: &str) -> Result<(), EntryError> {
        let allow_advances = self.allow_advances;
        let totals = &mut self.funds[fund as usize].totals;
        let received = totals
            .received
            .checked_sub(amount)
            .map_err(|e| EntryError::money(field, e))?;
        if totals.disbursed > received && !allow_advances {
            return Err(EntryError::field(
                field,
                format!(
                    "fund `{}` would have received {received} đồng, less than the {} đồng it has disbursed",
                    totals.id, totals.disbursed
                ),
            ));
        }
        totals.received = received;
        self.totals.received = self
            .totals
            .received
            .checked_sub(amount)
            .map_err(|e| EntryError::money(field, e))?;
        Ok(())
    }

    fn current_body(
        &self,
        target: u64,
        lookup: &mut dyn FnMut(u64) -> Result<Entry, String>,
    ) -> Result<Body, EntryError> {
        if let Some(body) = self.amended.get(&target) {
            return Ok(body.clone());
        }
        let entry = lookup(target).map_err(|e| EntryError::field("target", e))?;
        Ok(entry.body)
    }

    fn apply_correction(
        &mut self,
        seq: u64,
        correction: &Correction,
        lookup: &mut dyn FnMut(u64) -> Result<Entry, String>,
    ) -> Result<(), EntryError> {
        let target = correction.target;
        if target >= seq {
            return Err(EntryError::field(
                "target",
                format!("entry {target} does not precede this correction"),
            ));
        }
        let slot = self.slots[target as usize];
        match slot {
            Slot::Key => {
                return Err(EntryError::field(
                    "target",
                    format!("entry {target} is a key entry; revoke the key instead"),
                ));
            }
            Slot::Correction => {
                return Err(EntryError::field(
                    "target",
                    format!(
                        "entry {target} is a correction; corrections cannot be corrected, correct the original entry again"
                    ),
                ));
            }
            Slot::Fund { live: false, .. }
            | Slot::Donation { live: false, .. }
            | Slot::Disbursement { live: false, .. }
            | Slot::Progress { live: false, .. } => {
                return Err(EntryError::field(
                    "target",
                    format!("entry {target} is already voided"),
                ));
            }
            Slot::Household { household } if self.households[household as usize].voided => {
                return Err(EntryError::field(
                    "target",
                    format!("entry {target} is already voided"),
                ));
            }
            _ => {}
        }
        match &correction.amend {
            None => self.void(target, slot),
            Some(amend) => self.amend(target, slot, amend, lookup),
        }
    }

    fn void(&mut self, target: u64, slot: Slot) -> Result<(), EntryError> {
        let dependents = |count: u32, what: &str| {
            EntryError::field(
                "target",
                format!(
                    "entry {target} cannot be voided while {count} live entries refer to this {what}; void those first"
                ),
            )
        };
        let slot = match slot {
            Slot::Fund { fund, .. } => {
                let state = &mut self.funds[fund as usize];
                if state.live_entries > 0 {
                    return Err(dependents(state.live_entries, "fund"));
                }
                state.totals.voided = true;
                Slot::Fund { fund, live: false }
            }
            Slot::Donation { fund, amount, .. } => {
                self.remove_received(fund, amount, "target")?;
                self.funds[fund as usize].live_entries -= 1;
                Slot::Donation {
                    fund,
                    amount,
                    live: false,
                }
            }
            Slot::Household { household } => {
                let state = &mut self.households[household as usize];
                if state.live_entries > 0 {
                    return Err(dependents(state.live_entries, "household"));
                }
                state.voided = true;
                self.households.release(household);
                Slot::Household { household }
            }
            Slot::Disbursement {
                fund,
                amount,
                household,
                ..
            } => {
                self.remove_disbursed(fund, amount, "target")?;
                self.funds[fund as usize].live_entries -= 1;
                if let Some(household) = household {
                    self.households[household as usize].live_entries -= 1;
                }
                Slot::Disbursement {
                    fund,
                    amount,
                    household,
                    live: false,
                }
            }
            Slot::Progress { household, .. } => {
                let state = &mut self.households[household as usize];
                state.stages.retain(|(seq, _, _)| *seq != target);
                state.live_entries -= 1;
                Slot::Progress {
                    household,
                    live: false,
                }
            }
            Slot::Key | Slot::Correction => unreachable!("checked by apply_correction"),
        };
        self.slots[target as usize] = slot;
        Ok(())
    }

    fn amend(
        &mut self,
        target: u64,
        slot: Slot,
        amend: &serde_json::Map<String, serde_json::Value>,
        lookup: &mut dyn FnMut(u64) -> Result<Entry, String>,
    ) -> Result<(), EntryError> {
        let before = self.current_body(target, lookup)?;
        let kind = before.kind();
        if amend.is_empty() {
            return Err(EntryError::field(
                "amend",
                "is empty; omit `amend` to void the entry",
            ));
        }
        let mut value = serde_json::to_value(&before).expect("bodies serialise");
        let object = value.as_object_mut().expect("bodies are objects");
        for (field, new_value) in amend {
            if !amendable(kind).contains(&field.as_str()) {
                return Err(EntryError::field(
                    &format!("amend.{field}"),
                    format!(
                        "cannot be amended on a {kind} entry (amendable: {})",
                        amendable(kind).join(", ")
                    ),
                ));
            }
            if new_value.is_null() {
                object.remove(field);
            } else {
                object.insert(field.clone(), new_value.clone());
            }
        }
        let after: Body = serde_json::from_value(value).map_err(|e| {
            EntryError::field("amend", format!("the amended {kind} is invalid: {e}"))
        })?;
        super::validate::check_fields(&after).map_err(|e| EntryError {
            field: Some(format!("amend.{}", e.field.as_deref().unwrap_or(""))),
            message: e.message,
        })?;
        self.apply_amendment(target, slot, &before, &after)?;
        self.amended.insert(target, after);
        Ok(())
    }

    fn apply_amendment(
        &mut self,
        target: u64,
        slot: Slot,
        before: &Body,
        after: &Body,
    ) -> Result<(), EntryError> {
        match (slot, before, after) {
            (Slot::Donation { fund, amount, live }, Body::Donation(old), Body::Donation(new)) => {
                let (old_key, new_key) = (TransferKey::of(old), TransferKey::of(new));
                let new_day = new_key.reference_day();
                if new_day != old_key.reference_day() {
                    self.check_transfer(fund, new, new_day, "amend.")?;
                } else if new.account != old.account {
                    self.check_transfer(fund, new, None, "amend.")?;
                }
                if let Some(day) = new_day {
                    self.reference_days.insert(day);
                }
                // The old identity stays too: re-importing the statement the
                // entry came from still finds it.
                if new_key.identity() != old_key.identity() && new.channel == Channel::Bank {
                    self.record_identity(new_key.identity(), target);
                }
                if new.amount != amount {
                    let totals = &self.funds[fund as usize].totals;
                    let received = totals
                        .received
                        .checked_add(new.amount)
                        .map_err(|e| EntryError::money("amend.amount", e))?;
                    let ledger_received =
                        ledger_sum(self.totals.received, new.amount, "received", "amend.amount")?;
                    // Add first, then remove: only the final balance matters.
                    self.funds[fund as usize].totals.received = received;
                    self.totals.received = ledger_received;
                    self.remove_received(fund, amount, "amend.amount")?;
                }
                self.slots[target as usize] = Slot::Donation {
                    fund,
                    amount: new.amount,
                    live,
                };
            }
            (
                Slot::Disbursement {
                    fund,
                    amount,
                    household,
                    live,
                },
                Body::Disbursement(_),
                Body::Disbursement(new),
            ) => {
                let new_household = match &new.household {
                    Some(id) => Some(self.live_household(id, "amend.household")?),
                    None => None,
                };
                self.remove_disbursed(fund, amount, "amend.amount")?;
                self.add_disbursed(fund, new.amount, "amend.amount")?;
                if let Some(old) = household {
                    self.households[old as usize].live_entries -= 1;
                }
                if let Some(new) = new_household {
                    self.households[new as usize].live_entries += 1;
                }
                self.slots[target as usize] = Slot::Disbursement {
                    fund,
                    amount: new.amount,
                    household: new_household,
                    live,
                };
            }
            (Slot::Household { household }, Body::Household(old), Body::Household(new)) => {
                if new.citizen_id_hmac != old.citizen_id_hmac {
                    self.check_citizen(&new.citizen_id_hmac)
                        .map_err(|e| EntryError {
                            field: Some("amend.citizen_id".into()),
                            message: e.message,
                        })?;
                    (self.households).set_citizen(household, new.citizen_id_hmac.clone());
                }
            }
            (Slot::Progress { household, .. }, Body::Progress(_), Body::Progress(new)) => {
                let stages = &mut self.households[household as usize].stages;
                let position = stages
                    .iter()
                    .position(|(seq, _, _)| *seq == target)
                    .expect("live progress is listed");
                let earlier_ok = position == 0 || stages[position - 1].2 <= new.date;
                let later_ok = stages
                    .get(position + 1)
                    .is_none_or(|next| new.date <= next.2);
                if !earlier_ok || !later_ok {
                    return Err(EntryError::field(
                        "amend.date",
                        "the new date is out of order with the household's other stage changes",
                    ));
                }
                stages[position].2 = new.date.clone();
            }
            (Slot::Fund { fund, .. }, Body::Fund(_), Body::Fund(new)) => {
                // Accounts only grow: donations already recorded to an
                // account stay valid when a correction drops it.
                let accounts = &mut self.funds[fund as usize].accounts;
                for account in new.bank_accounts() {
                    if !accounts.contains(&account.number) {
                        accounts.push(account.number.clone());
                    }
                }
            }
            _ => unreachable!("a slot always matches its entry's kind"),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::note::SigningKey;

    fn admin_vkey() -> String {
        SigningKey::from_seed("admin", [1; 32])
            .unwrap()
            .verifier_key()
            .to_string()
    }

    /// Applies `lines` (entry bodies as JSON, signed by the administrator)
    /// after a genesis; returns the state or the first refusal as
    /// "entry N: message".
    fn run(lines: &[&str], allow_advances: bool) -> Result<State, String> {
        let mut state = State::new(allow_advances);
        let genesis = format!(
            r#"{{"kind":"key","action":"admit","name":"admin","unit":"u","role":"admin","vkey":"{}"}}"#,
            admin_vkey()
        );
        let mut entries: Vec<Entry> = Vec::new();
        for (index, body) in std::iter::once(genesis.as_str())
            .chain(lines.iter().copied())
            .enumerate()
        {
            let body: Body =
                serde_json::from_str(body).map_err(|e| format!("bad test input {body}: {e}"))?;
            let entry = Entry {
                seq: index as u64,
                time: "2025-09-12T08:00:00Z".into(),
                signer: "admin".into(),
                body,
            };
            let role = if index == 0 { None } else { Some(Role::Admin) };
            let earlier = entries.clone();
            state
                .apply(&entry, role, &mut |seq| {
                    earlier
                        .get(seq as usize)
                        .cloned()
                        .ok_or_else(|| "missing".into())
                })
                .map_err(|e| format!("entry {index}: {e}"))?;
            entries.push(entry);
        }
        Ok(state)
    }

    /// The one helper of the data-driven tests: `Ok` totals per fund
    /// "received/disbursed", or the expected error fragment.
    fn check(lines: &[&str], expected: Result<&str, &str>) {
        let got = run(lines, false).map(|state| {
            state
                .funds()
                .map(|f| format!("{}={}/{}", f.id, f.received, f.disbursed))
                .collect::<Vec<_>>()
                .join(" ")
        });
        match (&got, expected) {
            (Ok(totals), Ok(want)) => assert_eq!(totals, want),
            (Err(error), Err(want)) => {
                assert!(error.contains(want), "expected `{want}` in `{error}`")
            }
            _ => panic!("for {lines:?}: expected {expected:?}, got {got:?}"),
        }
    }

    const FUND: &str = r#"{"kind":"fund","id":"f","name":"F","description":""}"#;
    const GIFT: &str = r#"{"kind":"donation","fund":"f","donor":"A","amount":100,"date":"2025-01-01","channel":"bank","ref":"R1"}"#;
    const HOUSE: &str = r#"{"kind":"household","id":"h","head":"H","province":"P","commune":"C","circumstances":"","support":"new","planned":60,"photo_consent":false,"citizen_id_hmac":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","citizen_id_last4":"1234"}"#;
    const PAY: &str = r#"{"kind":"disbursement","fund":"f","amount":60,"date":"2025-01-02","household":"h","purpose":"p"}"#;

    #[test]
    fn totals_and_references() {
        check(&[FUND, GIFT], Ok("f=100/0"));
        check(&[FUND, GIFT, HOUSE, PAY], Ok("f=100/60"));
        check(
            &[FUND, GIFT, GIFT],
            Err("entry 3: field `ref`: bank reference `R1` is already recorded"),
        );
        check(
            &[FUND, FUND],
            Err("entry 2: field `id`: fund `f` already exists"),
        );
        check(&[GIFT], Err("entry 1: field `fund`: no fund `f`"));
        check(
            &[FUND, HOUSE, PAY],
            Err("entry 3: field `amount`: fund `f` would disburse 60 đồng but has received only 0"),
        );
        check(
            &[
                FUND,
                HOUSE,
                HOUSE.replace(r#""id":"h""#, r#""id":"h2""#).as_str(),
            ],
            Err("already registered to household `h`"),
        );
    }

    #[test]
    fn advances_are_allowed_only_by_config() {
        assert!(run(&[FUND, HOUSE, PAY], true).is_ok());
    }

    /// Ledger-wide totals are kept through voids and amendments, and an
    /// entry that would make one leave `u64` is refused (here disbursements,
    /// which only advances let outgrow receipts).
    #[test]
    fn ledger_wide_totals_cannot_overflow() {
        let max = Dong::MAX_AMOUNT.get();
        let fund_b = FUND.replace(r#""id":"f""#, r#""id":"g""#);
        let pay = |fund: &str| {
            format!(
                r#"{{"kind":"disbursement","fund":"{fund}","amount":{max},"date":"2025-01-02","payee":"X","purpose":"p"}}"#
            )
        };
        // `run` replays from the genesis, copying the entries at each step:
        // built once here, then entries are applied one at a time.
        let mut state = run(&[FUND, &fund_b], true).unwrap();
        let mut entries: Vec<Entry> = Vec::new();
        let mut apply = |state: &mut State, body: &str| {
            let entry = Entry {
                seq: state.size(),
                time: "2025-09-12T08:00:00Z".into(),
                signer: "admin".into(),
                body: serde_json::from_str(body).unwrap(),
            };
            let result = state.apply(&entry, Some(Role::Admin), &mut |seq| {
                entries
                    .iter()
                    .find(|e| e.seq == seq)
                    .cloned()
                    .ok_or_else(|| "missing".into())
            });
            if result.is_ok() {
                entries.push(entry);
            }
            result.map_err(|e| e.to_string())
        };
        for i in 0..18_446 {
            apply(&mut state, &pay(if i % 2 == 0 { "f" } else { "g" })).unwrap();
        }
        assert_eq!(state.totals.disbursed.get(), 18_446 * max);
        let error = apply(&mut state, &pay("g")).unwrap_err();
        assert!(
            error.contains("field `amount`: the ledger would have disbursed"),
            "{error}"
        );
        assert_eq!(state.totals.disbursed.get(), 18_446 * max, "unchanged");
        // Voiding one makes room again; amending one down lowers the total.
        apply(
            &mut state,
            r#"{"kind":"correction","target":3,"reason":"x"}"#,
        )
        .unwrap();
        apply(
            &mut state,
            r#"{"kind":"correction","target":4,"reason":"x","amend":{"amount":5}}"#,
        )
        .unwrap();
        assert_eq!(state.totals.disbursed.get(), 18_444 * max + 5);
        apply(&mut state, &pay("g")).unwrap();
        assert_eq!(state.totals.disbursed.get(), 18_445 * max + 5);
    }

    #[test]
    fn a_state_read_back_from_the_cache_judges_as_the_original() {
        let amend = r#"{"kind":"correction","target":2,"reason":"sai","amend":{"amount":250}}"#;
        let original = run(&[FUND, GIFT, HOUSE, PAY, amend], false).unwrap();
        let bytes = postcard::to_stdvec(&original).unwrap();
        let copy: State = postcard::from_bytes(&bytes).unwrap();
        let show = |state: &State| {
            format!(
                "{} {:?} {:?} {:?}",
                state.size(),
                state.funds().collect::<Vec<_>>(),
                state.keys().collect::<Vec<_>>(),
                state.amended_body(2)
            )
        };
        assert_eq!(show(&copy), show(&original));
        assert!(copy.amended_body(2).is_some());
        // The next entries are judged alike: a bank reference seen before,
        // a citizen ID seen before, a new donation.
        let next = |body: &str, state: &mut State| {
            let entry = Entry {
                seq: state.size(),
                time: "2025-09-12T08:00:00Z".into(),
                signer: "admin".into(),
                body: serde_json::from_str(body).unwrap(),
            };
            let result = state
                .apply(&entry, Some(Role::Admin), &mut |_| Err("none".into()))
                .map_err(|e| e.to_string());
            (result, show(state))
        };
        let second_house = HOUSE.replace(r#""id":"h""#, r#""id":"h2""#);
        let new_gift = GIFT.replace("R1", "R2");
        // Households found by id in the table made again on reading: the
        // same id again, a payment to it and to one never recorded.
        let same_id = HOUSE.replace(&"a".repeat(64), &"b".repeat(64));
        let unknown = PAY.replace(r#""household":"h""#, r#""household":"zz""#);
        for body in [
            GIFT,
            second_house.as_str(),
            new_gift.as_str(),
            same_id.as_str(),
            PAY,
            unknown.as_str(),
        ] {
            let (mut original, mut copy) = (original.clone(), copy.clone());
            assert_eq!(next(body, &mut copy), next(body, &mut original), "{body}");
        }
        let (mut copy_now, mut original_now) = (copy.clone(), original.clone());
        assert!(
            next(&same_id, &mut copy_now)
                .0
                .unwrap_err()
                .contains("already exists")
        );
        assert!(next(&unknown, &mut original_now).0.is_err());
        assert!(next(PAY, &mut copy_now).0.is_ok());
        // A household twice in a cache is no state.
        let mut twice = original.clone();
        twice.households.list.push(twice.households.list[0].clone());
        let bytes = postcard::to_stdvec(&twice).unwrap();
        let error = postcard::from_bytes::<State>(&bytes).unwrap_err();
        assert!(matches!(error, postcard::Error::SerdeDeCustom), "{error:?}");
    }

    /// The live households' claims on their citizen IDs are made again from
    /// the list when the cache is read: a voided household's ID is free, an
    /// amended one's new ID is claimed and its old one free; two live
    /// households with one ID in a cache is no state.
    #[test]
    fn citizen_claims_are_made_again_from_the_households() {
        let house = |id: &str, digit: &str| {
            HOUSE
                .replace(r#""id":"h""#, &format!(r#""id":"{id}""#))
                .replace(&"a".repeat(64), &digit.repeat(64))
        };
        // 1 fund, 2 household h (a…), 3 household h2 (b…), 4 h voided,
        // 5 h2's citizen ID amended to c….
        let void_h = r#"{"kind":"correction","target":2,"reason":"trùng"}"#;
        let amend_h2 = format!(
            r#"{{"kind":"correction","target":3,"reason":"sai","amend":{{"citizen_id_hmac":"{}"}}}}"#,
            "c".repeat(64)
        );
        let (h, h2) = (house("h", "a"), house("h2", "b"));
        let original = run(&[FUND, &h, &h2, void_h, &amend_h2], false).unwrap();
        let copy: State = postcard::from_bytes(&postcard::to_stdvec(&original).unwrap()).unwrap();
        for state in [&original, &copy] {
            assert!(!state.has_citizen(&"a".repeat(64)), "voided: released");
            assert!(
                !state.has_citizen(&"b".repeat(64)),
                "amended away: released"
            );
            assert!(state.has_citizen(&"c".repeat(64)), "amended to: claimed");
        }
        let judge = |state: &State, body: &str| {
            let mut state = state.clone();
            let entry = Entry {
                seq: state.size(),
                time: "2025-09-12T08:00:00Z".into(),
                signer: "admin".into(),
                body: serde_json::from_str(body).unwrap(),
            };
            state
                .apply(&entry, Some(Role::Admin), &mut |_| Err("none".into()))
                .map_err(|e| e.to_string())
        };
        for (body, refused) in [
            (house("h3", "a"), false),
            (house("h4", "b"), false),
            (house("h5", "c"), true),
        ] {
            let (from_original, from_copy) = (judge(&original, &body), judge(&copy, &body));
            assert_eq!(from_original, from_copy, "{body}");
            assert_eq!(from_copy.is_err(), refused, "{body}: {from_copy:?}");
        }
        assert!(
            judge(&copy, &house("h5", "c"))
                .unwrap_err()
                .contains("already registered to household `h2`")
        );
        // Two live households claiming one ID in a cache is no state.
        let mut shared = original.clone();
        shared.households.list[0].voided = false;
        shared.households.list[0].citizen_id_hmac = "c".repeat(64);
        let bytes = postcard::to_stdvec(&shared).unwrap();
        let error = postcard::from_bytes::<State>(&bytes).unwrap_err();
        assert!(matches!(error, postcard::Error::SerdeDeCustom), "{error:?}");
    }

    #[test]
    fn corrections_void_amend_and_keep_invariants() {
        let void_gift = r#"{"kind":"correction","target":2,"reason":"trùng"}"#;
        check(&[FUND, GIFT, void_gift], Ok("f=0/0"));
        check(
            &[FUND, GIFT, HOUSE, PAY, void_gift],
            Err("would have received 0 đồng, less than the 60 đồng it has disbursed"),
        );
        check(
            &[FUND, GIFT, void_gift, void_gift],
            Err("entry 4: field `target`: entry 2 is already voided"),
        );
        let amend = r#"{"kind":"correction","target":2,"reason":"sai","amend":{"amount":250}}"#;
        check(&[FUND, GIFT, amend], Ok("f=250/0"));
        check(
            &[FUND, GIFT, amend, amend.replace("250", "70").as_str()],
            Ok("f=70/0"),
        );
        let too_low = r#"{"kind":"correction","target":2,"reason":"sai","amend":{"amount":10}}"#;
        check(
            &[FUND, GIFT, HOUSE, PAY, too_low],
            Err("would have received 10 đồng"),
        );
        let void_fund = r#"{"kind":"correction","target":1,"reason":"x"}"#;
        check(
            &[FUND, GIFT, void_fund],
            Err("cannot be voided while 1 live entries refer to this fund"),
        );
        check(
            &[FUND, void_fund, GIFT],
            Err("entry 3: field `fund`: fund `f` was voided"),
        );
        let void_self = r#"{"kind":"correction","target":2,"reason":"x"}"#;
        check(
            &[FUND, void_self],
            Err("entry 2: field `target`: entry 2 does not precede this correction"),
        );
        let amend_id = r#"{"kind":"correction","target":1,"reason":"x","amend":{"id":"g"}}"#;
        check(
            &[FUND, amend_id],
            Err("field `amend.id`: cannot be amended on a fund entry"),
        );
        let bad_amount = r#"{"kind":"correction","target":2,"reason":"x","amend":{"amount":0}}"#;
        check(
            &[FUND, GIFT, bad_amount],
            Err("field `amend.amount`: must be a positive"),
        );
    }

    #[test]
    fn a_settled_state_answers_as_the_state() {
        let stage = r#"{"kind":"progress","household":"h","date":"2025-01-01","stage":"approved"}"#;
        let lines: [&str; 11] = [
            FUND,
            GIFT,
            HOUSE,
            PAY,
            stage,
            &GIFT.replace("R1", "R2"),
            // Voids the second gift, the payment and the stage change,
            // amends the first gift, voids the household.
            r#"{"kind":"correction","target":6,"reason":"trùng"}"#,
            r#"{"kind":"correction","target":4,"reason":"nhầm"}"#,
            r#"{"kind":"correction","target":5,"reason":"nhầm"}"#,
            r#"{"kind":"correction","target":2,"reason":"sai","amend":{"amount":250}}"#,
            r#"{"kind":"correction","target":3,"reason":"x"}"#,
        ];
        let state = run(&lines, false).unwrap();
        let settled = state.settled();
        let voided: Vec<u64> = (0..=state.size())
            .filter(|&seq| state.is_voided(seq))
            .collect();
        assert_eq!(voided, [3, 4, 5, 6]);
        for seq in 0..=state.size() + 1 {
            assert_eq!(settled.is_voided(seq), state.is_voided(seq), "{seq}");
            assert_eq!(
                settled
                    .amended_body(seq)
                    .map(|body| serde_json::to_string(body).unwrap()),
                state
                    .amended_body(seq)
                    .map(|body| serde_json::to_string(body).unwrap()),
                "{seq}"
            );
        }
        assert!(settled.amended_body(2).is_some());
        let names = |keys: Vec<&KeyRecord>| -> Vec<String> {
            keys.iter().map(|key| key.name.clone()).collect()
        };
        assert_eq!(
            names(settled.keys().collect()),
            names(state.keys().collect())
        );
        let totals = |funds: Vec<&FundTotals>| -> Vec<(String, u64, u64)> {
            (funds.iter())
                .map(|fund| (fund.id.clone(), fund.received.get(), fund.disbursed.get()))
                .collect()
        };
        assert_eq!(
            totals(settled.funds().collect()),
            totals(state.funds().collect())
        );
        assert_eq!(settled.size(), state.size());
        // Consumed, the same answers.
        let (size, keys) = (state.size(), state.keys().count());
        let consumed = state.settle();
        assert_eq!((consumed.size(), consumed.keys().count()), (size, keys));
        assert!((0..=size).all(|seq| consumed.is_voided(seq) == settled.is_voided(seq)));
    }

    #[test]
    fn stages_move_forward_and_voids_reopen_them() {
        let stage = |stage: &str, date: &str| {
            format!(r#"{{"kind":"progress","household":"h","date":"{date}","stage":"{stage}"}}"#)
        };
        let approved = stage("approved", "2025-01-01");
        let started = stage("started", "2025-01-05");
        assert!(run(&[HOUSE, &approved, &started], false).is_ok());
        let again = run(
            &[HOUSE, &approved, &started, &stage("started", "2025-01-06")],
            false,
        )
        .unwrap_err();
        assert!(again.contains("already at stage `started`"), "{again}");
        let void_started = r#"{"kind":"correction","target":3,"reason":"nhầm"}"#;
        assert!(
            run(
                &[
                    HOUSE,
                    &approved,
                    &started,
                    void_started,
                    &stage("started", "2025-01-07")
                ],
                false
            )
            .is_ok()
        );
        let early =
            r#"{"kind":"correction","target":3,"reason":"x","amend":{"date":"2024-12-31"}}"#;
        let error = run(&[HOUSE, &approved, &started, early], false).unwrap_err();
        assert!(error.contains("out of order"), "{error}");
    }

    #[test]
    fn genesis_and_key_rules() {
        let officer = SigningKey::from_seed("canbo", [2; 32])
            .unwrap()
            .verifier_key()
            .to_string();
        let admit = format!(
            r#"{{"kind":"key","action":"admit","name":"canbo","unit":"u","role":"officer","vkey":"{officer}"}}"#
        );
        let state = run(&[&admit], false).unwrap();
        assert_eq!(state.keys().count(), 2);
        let mismatched = admit.replace(r#""name":"canbo""#, r#""name":"other""#);
        assert!(
            run(&[&mismatched], false)
                .unwrap_err()
                .contains("the verifier key is named `canbo`, not `other`")
        );
        assert!(
            run(&[&admit, &admit], false)
                .unwrap_err()
                .contains("already admitted")
        );
        let revoke = r#"{"kind":"key","action":"revoke","name":"canbo"}"#;
        let state = run(&[&admit, revoke], false).unwrap();
        assert_eq!(
            state.check_signer("canbo").unwrap_err().message,
            "key `canbo` was revoked at entry 2"
        );
        assert!(
            run(&[&admit, revoke, &admit], false)
                .unwrap_err()
                .contains("was revoked; admit a key with a new name")
        );
        let last_admin = r#"{"kind":"key","action":"revoke","name":"admin"}"#;
        assert!(
            run(&[last_admin], false)
                .unwrap_err()
                .contains("last administrator")
        );
        // With a second administrator, `admin` still cannot sign its own
        // revocation: its checkpoint would be signed by a revoked key.
        let second_admin = admit.replace(r#""role":"officer""#, r#""role":"admin""#);
        assert!(
            run(&[&second_admin, last_admin], false)
                .unwrap_err()
                .contains("cannot revoke its own key")
        );
        let state = run(&[&second_admin, revoke], false).unwrap();
        assert_eq!(state.key("canbo").unwrap().revoked_from(), Some(3));
        // The genesis must be a key admitting its own signer as admin.
        let mut state = State::new(false);
        let body: Body = serde_json::from_str(FUND).unwrap();
        let entry = Entry {
            seq: 0,
            time: "2025-09-12T08:00:00Z".into(),
            signer: "admin".into(),
            body,
        };
        let error = state
            .apply(&entry, None, &mut |_| Err("none".into()))
            .unwrap_err();
        assert!(error.message.contains("genesis"), "{error}");
    }

    #[test]
    fn times_and_sequence_numbers_are_checked() {
        let mut state = run(&[], false).unwrap();
        let body: Body = serde_json::from_str(FUND).unwrap();
        let wrong_seq = Entry {
            seq: 5,
            time: "2025-09-12T08:00:00Z".into(),
            signer: "admin".into(),
            body: body.clone(),
        };
        assert!(
            state
                .apply(&wrong_seq, Some(Role::Admin), &mut |_| Err(String::new()))
                .unwrap_err()
                .to_string()
                .contains("expected sequence number 1")
        );
        for time in [
            "2025-09-12 08:00:00",
            "2025-09-12T08:00:00+07:00",
            "2025-09-12T08:00:00.5Z",
        ] {
            let entry = Entry {
                seq: 1,
                time: time.into(),
                signer: "admin".into(),
                body: body.clone(),
            };
            assert!(
                state
                    .apply(&entry, Some(Role::Admin), &mut |_| Err(String::new()))
                    .is_err(),
                "{time}"
            );
        }
    }
}
