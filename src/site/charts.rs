//! The numbers behind a fund page's two charts, computed at build time: the
//! donations per day (per month for drives longer than a year) and the
//! disbursements per commune.
//!
//! The template draws them as inline SVG (bars only, so nothing needs a
//! script or a font) with HTML labels and a table of the same figures for
//! screen readers and for anyone who prefers numbers. Geometry is computed
//! here as plain decimal strings so the template does no arithmetic: the day
//! chart's `viewBox` is `0 0 width 100`, one 10-unit slot per day.

use super::model::{DisbursementRow, HouseholdRow};
use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// Past this many days the day chart groups by month.
const MAX_DAYS: i64 = 366;
/// Width of one bar's slot in the day chart's `viewBox` units.
const SLOT: u64 = 10;

#[derive(Clone, Debug, Default, Serialize)]
pub struct FundCharts {
    pub days: DayChart,
    /// Communes by amount received, largest first; disbursements to a payee
    /// rather than a household are one row with `commune` empty.
    pub communes: Vec<PlaceBar>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct DayChart {
    /// One bar per day (or month) from the first donation to the last,
    /// days without donations included (at zero height).
    pub bars: Vec<Bar>,
    /// The `viewBox` width.
    pub width: u64,
    /// `day` or `month`.
    pub unit: &'static str,
    /// The largest bar and its date.
    pub max: u64,
    pub max_date: Option<String>,
    pub first: Option<String>,
    pub last: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Bar {
    /// `YYYY-MM-DD`, or `YYYY-MM` when grouped by month.
    pub date: String,
    pub amount: u64,
    pub count: u64,
    pub x: u64,
    /// Top edge and height in `viewBox` units (0 to 100), as decimals.
    pub y: String,
    pub height: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct PlaceBar {
    pub province: String,
    pub commune: String,
    pub path: Option<String>,
    pub amount: u64,
    pub count: u64,
    /// Bar length relative to the largest row, in percent.
    pub percent: String,
}

/// The households, to find a disbursement's commune.
pub struct Households<'a> {
    pub rows: &'a [HouseholdRow],
    pub index: &'a super::model::HouseholdIndex,
}

impl Households<'_> {
    fn get(&self, id: &str) -> Option<&HouseholdRow> {
        self.index.get(self.rows, id).map(|at| &self.rows[at])
    }
}

/// The charts of one fund from its live donations (amount and count by
/// date as written, `FundActivity::days`) and its disbursements.
pub fn fund_charts(
    donations: &BTreeMap<String, (u64, u64)>,
    disbursements: &[&DisbursementRow],
    households: &Households,
) -> FundCharts {
    FundCharts {
        days: day_chart(donations),
        communes: commune_bars(disbursements, households),
    }
}

fn day_chart(per_text: &BTreeMap<String, (u64, u64)>) -> DayChart {
    // Each of the few distinct dates parsed once (a fund has millions of
    // donations over some weeks).
    let mut per_day: BTreeMap<NaiveDate, (u64, u64)> = BTreeMap::new();
    for (text, &(amount, count)) in per_text {
        let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") else {
            continue;
        };
        let slot = per_day.entry(date).or_default();
        slot.0 = slot.0.saturating_add(amount);
        slot.1 += count;
    }
    let (Some(&first), Some(&last)) = (per_day.keys().next(), per_day.keys().next_back()) else {
        return DayChart {
            unit: "day",
            ..DayChart::default()
        };
    };
    let by_month = (last - first).num_days() > MAX_DAYS;
    let mut series: Vec<(String, u64, u64)> = Vec::new();
    if by_month {
        let mut months: BTreeMap<(i32, u32), (u64, u64)> = BTreeMap::new();
        for (date, (amount, count)) in &per_day {
            let slot = months.entry((date.year(), date.month())).or_default();
            slot.0 = slot.0.saturating_add(*amount);
            slot.1 += count;
        }
        let (mut year, mut month) = (first.year(), first.month());
        while (year, month) <= (last.year(), last.month()) {
            let (amount, count) = months.get(&(year, month)).copied().unwrap_or_default();
            series.push((format!("{year:04}-{month:02}"), amount, count));
            (year, month) = if month == 12 {
                (year + 1, 1)
            } else {
                (year, month + 1)
            };
        }
    } else {
        let mut date = first;
        loop {
            let (amount, count) = per_day.get(&date).copied().unwrap_or_default();
            series.push((date.format("%Y-%m-%d").to_string(), amount, count));
            match date.succ_opt() {
                Some(next) if date < last => date = next,
                _ => break,
            }
        }
    }
    let (max_date, max) = series
        .iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        .map(|(date, amount, _)| (date.clone(), *amount))
        .unwrap_or_default();
    let bars = series
        .iter()
        .enumerate()
        .map(|(index, (date, amount, count))| {
            let tenths = bar_tenths(*amount, max);
            Bar {
                date: date.clone(),
                amount: *amount,
                count: *count,
                x: index as u64 * SLOT + 1,
                y: decimal(1000 - tenths),
                height: decimal(tenths),
            }
        })
        .collect();
    DayChart {
        width: series.len() as u64 * SLOT,
        unit: if by_month { "month" } else { "day" },
        max,
        max_date: Some(max_date),
        first: series.first().map(|s| s.0.clone()),
        last: series.last().map(|s| s.0.clone()),
        bars,
    }
}

/// Height of a bar in tenths of a `viewBox` unit (0 to 1000): a day with
/// any donation shows at least a sliver.
fn bar_tenths(amount: u64, max: u64) -> u64 {
    if amount == 0 || max == 0 {
        return 0;
    }
    let tenths = (u128::from(amount) * 1000 / u128::from(max)) as u64;
    tenths.max(10)
}

/// Tenths as a decimal string: `625` → `62.5`, `1000` → `100`.
fn decimal(tenths: u64) -> String {
    match tenths % 10 {
        0 => (tenths / 10).to_string(),
        digit => format!("{}.{digit}", tenths / 10),
    }
}

fn commune_bars(disbursements: &[&DisbursementRow], households: &Households) -> Vec<PlaceBar> {
    // (province, commune) → (commune page, amount, count); ("", "") for
    // payees that are not households.
    let mut places: HashMap<(String, String), (Option<String>, u64, u64)> = HashMap::new();
    for row in disbursements.iter().filter(|d| d.voided.is_none()) {
        let (key, path) = match row.household.as_deref().and_then(|id| households.get(id)) {
            Some(h) => (
                (h.province.clone(), h.commune.clone()),
                Some(h.commune_path.clone()),
            ),
            None => ((String::new(), String::new()), None),
        };
        let slot = places.entry(key).or_insert((path, 0, 0));
        slot.1 = slot.1.saturating_add(row.amount);
        slot.2 += 1;
    }
    let max = places.values().map(|p| p.1).max().unwrap_or(0);
    let mut bars: Vec<PlaceBar> = places
        .into_iter()
        .map(|((province, commune), (path, amount, count))| PlaceBar {
            province,
            commune,
            path,
            amount,
            count,
            percent: super::render::percent(amount, max),
        })
        .collect();
    // Largest first; the payees' row last; ties by name, so output is stable.
    bars.sort_by(|a, b| {
        (
            a.commune.is_empty(),
            std::cmp::Reverse(a.amount),
            &a.province,
            &a.commune,
        )
            .cmp(&(
                b.commune.is_empty(),
                std::cmp::Reverse(b.amount),
                &b.province,
                &b.commune,
            ))
    });
    bars
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bar_heights() {
        assert_eq!(decimal(bar_tenths(50, 100)), "50");
        assert_eq!(decimal(bar_tenths(1, 3)), "33.3");
        assert_eq!(decimal(bar_tenths(1, 1_000_000)), "1");
        assert_eq!(decimal(bar_tenths(0, 100)), "0");
    }
}
