//! The public log as static files, in the C2SP `tlog-tiles` layout, and the
//! reading of such a tree back for verification.
//!
//! ```text
//! checkpoint                 the newest signed checkpoint
//! tile/<L>/<N>[.p/<W>]       Merkle tree hashes, 256 per full tile
//! tile/entries/<N>[.p/<W>]   entry bundles: uint16-length-prefixed entry lines
//! ```
//!
//! `<N>` is written in 3-digit groups, all but the last prefixed with `x`
//! (1234067 → `x001/x234/067`). Cloudflare's `tlog_tiles` 0.2 writes Go's
//! older sumdb paths (`tile/8/L/N`, `tile/8/data/N`), not these, so the layout
//! is written here; the hashing is the RFC 6962 code of `merkle`.
//!
//! Partial tiles are published for every checkpoint ever signed whose full
//! tile does not exist yet, as the specification requires, so a client
//! holding an older checkpoint can still prove against it.

use super::merkle::{self, Hash};
use std::collections::BTreeSet;

/// Hashes per full tile (tile height 8).
pub const TILE_WIDTH: u64 = 256;

/// A tile's coordinates: level, index and width (256 when full).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Tile {
    pub level: u8,
    pub index: u64,
    pub width: u64,
}

impl Tile {
    /// `tile/<L>/<N>[.p/<W>]`.
    pub fn path(&self) -> String {
        format!("tile/{}/{}", self.level, self.suffix())
    }

    /// How many entries a full tile of this level covers: 256^(level + 1).
    pub fn entries_per_tile(&self) -> u64 {
        TILE_WIDTH.saturating_pow(u32::from(self.level) + 1)
    }

    /// The first entry under this tile.
    pub fn first_entry(&self) -> u64 {
        self.index.saturating_mul(self.entries_per_tile())
    }

    /// `tile/entries/<N>[.p/<W>]`, for level-0 tiles.
    pub fn entries_path(&self) -> String {
        format!("tile/entries/{}", self.suffix())
    }

    fn suffix(&self) -> String {
        let mut groups = vec![format!("{:03}", self.index % 1000)];
        let mut rest = self.index / 1000;
        while rest > 0 {
            groups.push(format!("x{:03}", rest % 1000));
            rest /= 1000;
        }
        groups.reverse();
        let mut path = groups.join("/");
        if self.width < TILE_WIDTH {
            path.push_str(&format!(".p/{}", self.width));
        }
        path
    }
}

/// The tiles a tree of `size` entries is published as: every full tile and
/// the rightmost partial tile of each level.
pub fn tiles_for_size(size: u64) -> Vec<Tile> {
    let mut tiles = Vec::new();
    let mut level = 0u8;
    let mut span = 1u64; // entries per hash at this level
    while size >= span && level < 64 {
        let hashes = size / span;
        let full = hashes / TILE_WIDTH;
        tiles.extend((0..full).map(|index| Tile {
            level,
            index,
            width: TILE_WIDTH,
        }));
        let partial = hashes % TILE_WIDTH;
        if partial > 0 {
            tiles.push(Tile {
                level,
                index: full,
                width: partial,
            });
        }
        match span.checked_mul(TILE_WIDTH) {
            Some(next) => span = next,
            None => break,
        }
        level += 1;
    }
    tiles
}

/// The tiles to publish for a ledger of `size` entries whose checkpoints were
/// signed at `checkpoint_sizes`: all of `tiles_for_size(size)`, plus each
/// older checkpoint's partial tiles whose full tile does not exist yet.
pub fn tiles_to_publish(size: u64, checkpoint_sizes: &[u64]) -> Vec<Tile> {
    let mut tiles: BTreeSet<Tile> = tiles_for_size(size).into_iter().collect();
    let full: BTreeSet<(u8, u64)> = tiles
        .iter()
        .filter(|t| t.width == TILE_WIDTH)
        .map(|t| (t.level, t.index))
        .collect();
    for &old in checkpoint_sizes.iter().filter(|&&s| s <= size) {
        for tile in tiles_for_size(old) {
            if tile.width < TILE_WIDTH && !full.contains(&(tile.level, tile.index)) {
                tiles.insert(tile);
            }
        }
    }
    tiles.into_iter().collect()
}

/// Entries under one level-2 hash: 256², a segment of the ledger.
pub const LEVEL_2_SPAN: u64 = TILE_WIDTH * TILE_WIDTH;

/// The hashes tiles are cut from: at level `l`, hash `i` is the Merkle Tree
/// Hash of entries `i·256^l .. (i+1)·256^l`. The first subtrees of 256²
/// entries may be given by their roots alone, without their leaves: their
/// level-0 and level-1 tiles are then not at hand (`tile_bytes` is `None`),
/// and every other tile is.
pub struct TileLevels<'l> {
    leaves: &'l [Hash],
    /// Levels 1 and up; levels 0 and 1 start at `from`'s hash.
    upper: Vec<Vec<Hash>>,
    /// The first entry whose leaf is at hand (a multiple of 256²).
    from: u64,
}

impl<'l> TileLevels<'l> {
    /// The levels of a tree whose first `subtree_roots.len()` subtrees of
    /// 256² entries have these roots, and whose later leaves are `leaves`.
    pub fn new(subtree_roots: &[Hash], leaves: &'l [Hash]) -> TileLevels<'l> {
        let up = |below: &[Hash]| -> Vec<Hash> {
            below
                .chunks_exact(TILE_WIDTH as usize)
                .map(merkle::root)
                .collect()
        };
        let level_1 = up(leaves);
        let mut level_2 = subtree_roots.to_vec();
        level_2.extend(up(&level_1));
        let mut upper = vec![level_1, level_2];
        while let Some(below) = upper.last().filter(|b| b.len() as u64 >= TILE_WIDTH) {
            let next = up(below);
            upper.push(next);
        }
        TileLevels {
            leaves,
            upper,
            from: subtree_roots.len() as u64 * LEVEL_2_SPAN,
        }
    }

    /// The root of the `index`th subtree of 256² entries, if it is full.
    pub fn subtree_root(&self, index: usize) -> Option<Hash> {
        self.upper[1].get(index).copied()
    }

    /// Whether entry `seq`'s leaf hash is at hand.
    pub fn has_leaf(&self, seq: u64) -> bool {
        seq >= self.from
    }

    /// A tile's bytes, its hashes concatenated; `None` for a level-0 or
    /// level-1 tile of a subtree given by its root alone.
    pub fn tile_bytes(&self, tile: Tile) -> Option<Vec<u8>> {
        let (hashes, first): (&[Hash], u64) = match tile.level {
            0 => (self.leaves, self.from),
            1 => (&self.upper[0], self.from / TILE_WIDTH),
            level => (&self.upper[level as usize - 1], 0),
        };
        let start = (tile.index * TILE_WIDTH).checked_sub(first)? as usize;
        Some(hashes[start..start + tile.width as usize].concat())
    }
}

/// An entry bundle's bytes: each line preceded by its length as a big-endian
/// uint16 (lines are at most 65,535 bytes, checked on append).
pub fn bundle_bytes<'a>(lines: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut bytes = Vec::new();
    for line in lines {
        let length = u16::try_from(line.len()).expect("entry lines are at most 65,535 bytes");
        bytes.extend_from_slice(&length.to_be_bytes());
        bytes.extend_from_slice(line);
    }
    bytes
}

/// Splits an entry bundle into its lines.
pub fn split_bundle(bytes: &[u8]) -> Result<Vec<&[u8]>, String> {
    let mut lines = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        if rest.len() < 2 {
            return Err("the bundle ends inside a length prefix".into());
        }
        let length = u16::from_be_bytes([rest[0], rest[1]]) as usize;
        if rest.len() < 2 + length {
            return Err(format!(
                "an entry of {length} bytes runs past the end of the bundle"
            ));
        }
        lines.push(&rest[2..2 + length]);
        rest = &rest[2 + length..];
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_the_spec() {
        let tile = Tile {
            level: 0,
            index: 1_234_067,
            width: 256,
        };
        assert_eq!(tile.path(), "tile/0/x001/x234/067");
        assert_eq!(tile.entries_path(), "tile/entries/x001/x234/067");
        assert_eq!(
            Tile {
                level: 2,
                index: 5,
                width: 17
            }
            .path(),
            "tile/2/005.p/17"
        );
        assert_eq!(
            Tile {
                level: 1,
                index: 1000,
                width: 256
            }
            .path(),
            "tile/1/x001/000"
        );
    }

    #[test]
    fn tiles_of_the_spec_example() {
        // "a tree of size 70,000 will be represented by 273 full level 0 tiles,
        // one partial level 0 tile of width 112, one full level 1 tile, one
        // partial level 1 tile of width 17, and one partial level 2 tile of width 1."
        let tiles = tiles_for_size(70_000);
        let count = |level: u8, full: bool| {
            tiles
                .iter()
                .filter(|t| t.level == level && (t.width == 256) == full)
                .count()
        };
        assert_eq!(
            (count(0, true), count(1, true), count(2, true)),
            (273, 1, 0)
        );
        let partial: Vec<(u8, u64)> = tiles
            .iter()
            .filter(|t| t.width < 256)
            .map(|t| (t.level, t.width))
            .collect();
        assert_eq!(partial, [(0, 112), (1, 17), (2, 1)]);
        let at_256: Vec<Tile> = tiles_for_size(256);
        assert_eq!(
            at_256,
            [
                Tile {
                    level: 0,
                    index: 0,
                    width: 256
                },
                Tile {
                    level: 1,
                    index: 0,
                    width: 1
                }
            ]
        );
        assert!(tiles_for_size(0).is_empty());
    }

    #[test]
    fn older_partial_tiles_stay_until_their_full_tile_exists() {
        let tiles = tiles_to_publish(600, &[100, 520, 600]);
        assert!(tiles.contains(&Tile {
            level: 0,
            index: 0,
            width: 256
        }));
        assert!(
            !tiles.contains(&Tile {
                level: 0,
                index: 0,
                width: 100
            }),
            "tile 0 is full now"
        );
        assert!(
            tiles.contains(&Tile {
                level: 0,
                index: 2,
                width: 8
            }),
            "size 520's partial tile"
        );
        assert!(
            tiles.contains(&Tile {
                level: 0,
                index: 2,
                width: 88
            }),
            "size 600's partial tile"
        );
        assert!(tiles.contains(&Tile {
            level: 1,
            index: 0,
            width: 2
        }));
    }

    #[test]
    fn higher_tiles_hash_full_lower_tiles() {
        let leaves: Vec<Hash> = (0..70_000u32)
            .map(|i| merkle::leaf_hash(&i.to_be_bytes()))
            .collect();
        let levels = TileLevels::new(&[], &leaves);
        let tile = |level, index, width| Tile {
            level,
            index,
            width,
        };
        let bytes = |levels: &TileLevels, tile| levels.tile_bytes(tile).unwrap();
        assert_eq!(
            bytes(&levels, tile(1, 0, 256))[5 * 32..6 * 32],
            merkle::root(&leaves[5 * 256..6 * 256])
        );
        assert_eq!(
            bytes(&levels, tile(2, 0, 1)),
            merkle::root(&leaves[..65_536])
        );
        assert_eq!(bytes(&levels, tile(0, 273, 112)).len(), 112 * 32);
        assert_eq!(
            bytes(&levels, tile(1, 1, 17)),
            leaves[65_536..70_000 - 112]
                .chunks(256)
                .map(merkle::root)
                .collect::<Vec<_>>()
                .concat()
        );

        // The first 256² entries by their root alone: the same tiles, but
        // for their own level-0 and level-1 ones.
        let root = merkle::root(&leaves[..65_536]);
        let from_root = TileLevels::new(&[root], &leaves[65_536..]);
        for tile in tiles_for_size(70_000) {
            let inside = tile.level <= 1 && tile.first_entry() < 65_536;
            match inside {
                true => assert_eq!(from_root.tile_bytes(tile), None, "{tile:?}"),
                false => assert_eq!(from_root.tile_bytes(tile), levels.tile_bytes(tile)),
            }
        }
    }

    #[test]
    fn bundles_round_trip() {
        let lines: Vec<&[u8]> = vec![b"{\"a\":1}", b"", &[0x41; 300]];
        let bytes = bundle_bytes(lines.iter().copied());
        assert_eq!(&bytes[..2], &[0, 7]);
        assert_eq!(split_bundle(&bytes).unwrap(), lines);
        assert!(split_bundle(&bytes[..bytes.len() - 1]).is_err());
    }
}
