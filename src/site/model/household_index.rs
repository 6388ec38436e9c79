//! Households by id: each household's position in the rows, found through
//! a hash of its id. No second copy of the ids (a national site has half a
//! million), and made again from the rows, when they come from the model
//! cache, without an allocation per household.

use super::HouseholdRow;
use hashbrown::HashTable;
use rayon::prelude::*;

#[derive(Default, Debug)]
pub struct HouseholdIndex {
    positions: HashTable<u32>,
    hasher: ahash::RandomState,
}

impl HouseholdIndex {
    /// The index of `rows`, the ids hashed on every core. A later row of
    /// the same id is the one found, as `push` makes it.
    pub fn of(rows: &[HouseholdRow]) -> HouseholdIndex {
        let mut index = HouseholdIndex::default();
        let hashes: Vec<u64> = (rows.par_iter())
            .map(|row| index.hasher.hash_one(row.id.as_str()))
            .collect();
        index
            .positions
            .reserve(rows.len(), |&at| hashes[at as usize]);
        for (at, &hash) in hashes.iter().enumerate() {
            index.place(rows, hash, at);
        }
        index
    }

    /// Room for `more` households.
    pub fn reserve(&mut self, rows: &[HouseholdRow], more: usize) {
        let hasher = &self.hasher;
        (self.positions).reserve(more, |&at| hasher.hash_one(rows[at as usize].id.as_str()));
    }

    /// Records that `rows[at]` (the row last pushed) is the household of
    /// its id.
    pub fn push(&mut self, rows: &[HouseholdRow], at: usize) {
        let hash = self.hasher.hash_one(rows[at].id.as_str());
        self.place(rows, hash, at);
    }

    fn place(&mut self, rows: &[HouseholdRow], hash: u64, at: usize) {
        let at = u32::try_from(at).expect("fewer than 4 billion households");
        let id = rows[at as usize].id.as_str();
        let same = |&other: &u32| rows[other as usize].id == id;
        match self.positions.find_mut(hash, same) {
            Some(position) => *position = at,
            None => {
                let hasher = &self.hasher;
                (self.positions).insert_unique(hash, at, |&other| {
                    hasher.hash_one(rows[other as usize].id.as_str())
                });
            }
        }
    }

    /// The position in `rows` (the rows this index was made from) of the
    /// household `id`.
    pub fn get(&self, rows: &[HouseholdRow], id: &str) -> Option<usize> {
        let hash = self.hasher.hash_one(id);
        (self.positions)
            .find(hash, |&at| rows[at as usize].id == id)
            .map(|&at| at as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(ids: &[&str]) -> Vec<HouseholdRow> {
        (ids.iter().enumerate())
            .map(|(seq, id)| HouseholdRow {
                id: id.to_string(),
                ..super::super::household_row(seq as u64)
            })
            .collect()
    }

    /// Made from the rows at once (the model cache) or a row at a time (the
    /// entries), the index finds each household, the later of two rows of
    /// one id, and nothing for an id no row has.
    #[test]
    fn households_are_found_by_id_made_either_way() {
        let rows = rows(&["qt-1", "qt-2", "hue-1", "qt-2", "qt-3"]);
        let mut pushed = HouseholdIndex::default();
        for at in 0..rows.len() {
            pushed.reserve(&rows[..at], 1);
            pushed.push(&rows[..=at], at);
        }
        let whole = HouseholdIndex::of(&rows);
        for index in [&pushed, &whole] {
            let found: Vec<_> = ["qt-1", "qt-2", "hue-1", "qt-3", "qt-4", ""]
                .iter()
                .map(|id| index.get(&rows, id))
                .collect();
            assert_eq!(found, [Some(0), Some(3), Some(2), Some(4), None, None]);
        }
        // Enough rows for the table to grow and move its entries.
        let ids: Vec<String> = (0..1000).map(|n| format!("xa-{n}")).collect();
        let many = self::rows(&ids.iter().map(String::as_str).collect::<Vec<_>>());
        let mut grown = HouseholdIndex::default();
        for at in 0..many.len() {
            grown.push(&many[..=at], at);
        }
        let whole = HouseholdIndex::of(&many);
        for (at, id) in ids.iter().enumerate() {
            assert_eq!(grown.get(&many, id), Some(at));
            assert_eq!(whole.get(&many, id), Some(at));
        }
    }
}
