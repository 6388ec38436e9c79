//! Publishing household photos: never the originals under `ledger/media/`
//! (a phone photo carries the GPS position of the house and the time it was
//! taken), only copies re-encoded from pixels by `crate::media::derive`: a
//! thumbnail and a screen-size copy, each as WebP and JPEG, and a full-size
//! JPEG, under `media/<sha256>/`. A scanned document (PDF) is linked as it is.
//!
//! Deriving a 12-megapixel photo takes about half a second, so a build reuses
//! the copies of the previous build: the original's hash names the folder,
//! and a `stamp` file, written with the copies, records the derivation
//! version and the sizes. A rebuild after an append derives only new photos.
//!
//! Only photos of households that consented are here: the model has already
//! dropped the others.

use super::model::{Model, PhotoFiles};
use super::output::Sink;
use super::routes;
use crate::ledger::hex;
use crate::media::{self, MediaError};
use crate::portal::Portal;
use anyhow::{Context as _, Result, bail};
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;

/// Bump when `media::derive` changes its output, so old copies are derived
/// again instead of reused.
const DERIVATION: &str = "minhbach media 1";

/// The files of one photo's folder, besides the stamp.
const RENDITIONS: [&str; 5] = [
    "thumb.webp",
    "thumb.jpg",
    "screen.webp",
    "screen.jpg",
    "full.jpg",
];

/// What was published for one original.
#[derive(Clone, Debug)]
enum Published {
    Image(Sizes),
    Document,
}

/// Pixel sizes of the thumbnail, the screen copy and the full-size copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Sizes {
    thumb: (u32, u32),
    screen: (u32, u32),
    full: (u32, u32),
}

impl Sizes {
    fn stamp(&self) -> String {
        format!(
            "{DERIVATION}\nthumb {} {}\nscreen {} {}\nfull {} {}\n",
            self.thumb.0, self.thumb.1, self.screen.0, self.screen.1, self.full.0, self.full.1
        )
    }

    fn from_stamp(text: &str) -> Option<Sizes> {
        let mut lines = text.lines();
        if lines.next()? != DERIVATION {
            return None;
        }
        let mut size = |name: &str| -> Option<(u32, u32)> {
            let line = lines.next()?;
            let mut parts = line.split(' ');
            if parts.next()? != name {
                return None;
            }
            let width = parts.next()?.parse().ok()?;
            let height = parts.next()?.parse().ok()?;
            Some((width, height))
        };
        Some(Sizes {
            thumb: size("thumb")?,
            screen: size("screen")?,
            full: size("full")?,
        })
    }
}

/// Derives (or reuses) the copies of every published photo, writes them to
/// `sink` and fills in the model's photo rows. Returns the number of files
/// written.
pub fn publish(portal: &Portal, model: &mut Model, sink: &dyn Sink) -> Result<usize> {
    let media_dir = portal.ledger_dir().join("media");
    let mut names: Vec<String> = model
        .households
        .iter()
        .flat_map(|h| h.photos.iter().map(|p| p.media.clone()))
        .collect();
    names.sort();
    names.dedup();
    let published: Vec<(Published, usize)> = names
        .par_iter()
        .map(|name| publish_one(&media_dir, name, sink))
        .collect::<Result<_>>()?;
    let files = published.iter().map(|(_, files)| files).sum();
    let by_name: BTreeMap<&str, &Published> = names
        .iter()
        .map(String::as_str)
        .zip(published.iter().map(|(p, _)| p))
        .collect();
    for household in &mut model.households {
        for photo in &mut household.photos {
            match by_name.get(photo.media.as_str()) {
                Some(Published::Image(sizes)) => {
                    let folder = routes::media_folder(stem(&photo.media));
                    photo.path = format!("{folder}full.jpg");
                    photo.files = Some(PhotoFiles {
                        thumb_webp: format!("{folder}thumb.webp"),
                        thumb_jpeg: format!("{folder}thumb.jpg"),
                        thumb_width: sizes.thumb.0,
                        thumb_height: sizes.thumb.1,
                        screen_webp: format!("{folder}screen.webp"),
                        screen_jpeg: format!("{folder}screen.jpg"),
                        screen_width: sizes.screen.0,
                        screen_height: sizes.screen.1,
                        full_jpeg: format!("{folder}full.jpg"),
                        full_width: sizes.full.0,
                        full_height: sizes.full.1,
                    });
                }
                Some(Published::Document) => {
                    photo.path = routes::media(&photo.media);
                    photo.files = None;
                }
                None => {}
            }
        }
    }
    Ok(files)
}

/// `<sha256>.jpg` → `<sha256>`.
fn stem(name: &str) -> &str {
    name.split_once('.').map_or(name, |(stem, _)| stem)
}

/// Publishes one original; returns what it became and how many files.
fn publish_one(media_dir: &Path, name: &str, sink: &dyn Sink) -> Result<(Published, usize)> {
    let hash = stem(name);
    let plain = hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit());
    if !plain || name.contains(['/', '\\']) {
        bail!("media name `{name}` is not `<sha256>.<ext>`");
    }
    let folder = format!("media/{hash}");
    if let Some(sizes) = reusable(sink, &folder) {
        for file in RENDITIONS {
            let path = format!("{folder}/{file}");
            let previous = sink.previous(&path).expect("checked by `reusable`");
            sink.copy(&path, &previous)?;
        }
        sink.write(&format!("{folder}/stamp"), sizes.stamp().as_bytes())?;
        return Ok((Published::Image(sizes), RENDITIONS.len() + 1));
    }
    let source = media_dir.join(name);
    refuse_link(&source)?;
    let bytes = std::fs::read(&source).with_context(|| {
        format!(
            "photo `{}` is referenced by the ledger but cannot be read",
            source.display()
        )
    })?;
    // The ledger names media by their hash; a swapped file is refused here
    // as well as by `minhbach verify`.
    let actual = hex(&Sha256::digest(&bytes));
    if !actual.eq_ignore_ascii_case(hash) {
        bail!(
            "photo `{}` does not match its name: its SHA-256 is {actual}",
            source.display()
        );
    }
    match media::derive(&bytes) {
        Ok(derived) => {
            let sizes = Sizes {
                thumb: (derived.thumb.width, derived.thumb.height),
                screen: (derived.screen.width, derived.screen.height),
                full: (derived.width, derived.height),
            };
            let contents: [&[u8]; 5] = [
                &derived.thumb.webp,
                &derived.thumb.jpeg,
                &derived.screen.webp,
                &derived.screen.jpeg,
                &derived.full_jpeg,
            ];
            for (file, bytes) in RENDITIONS.iter().zip(contents) {
                sink.write(&format!("{folder}/{file}"), bytes)?;
            }
            // The stamp last: it says the copies beside it are complete.
            sink.write(&format!("{folder}/stamp"), sizes.stamp().as_bytes())?;
            Ok((Published::Image(sizes), RENDITIONS.len() + 1))
        }
        Err(MediaError::NotAnImage(_)) => {
            sink.write(&format!("media/{name}"), &bytes)?;
            Ok((Published::Document, 1))
        }
        Err(error) => bail!("photo `{}` cannot be published: {error}", source.display()),
    }
}

/// Refuses a media file that is a symbolic link. `append` stores media as
/// regular files; a link put there by hand could make the build read (and,
/// for a PDF, publish as it is) a file from anywhere on the machine, and the
/// hash check alone would not say where the bytes came from.
fn refuse_link(source: &Path) -> Result<()> {
    let is_link = std::fs::symlink_metadata(source)
        .map(|meta| meta.file_type().is_symlink())
        .unwrap_or(false);
    if is_link {
        bail!(
            "photo `{}` is a symbolic link; files under `ledger/media/` must be regular files, as `append` stores them",
            source.display()
        );
    }
    Ok(())
}

/// The sizes recorded by the previous build's stamp for `folder`, if it and
/// every rendition are there.
fn reusable(sink: &dyn Sink, folder: &str) -> Option<Sizes> {
    let stamp = sink.previous(&format!("{folder}/stamp"))?;
    let sizes = Sizes::from_stamp(&std::fs::read_to_string(stamp).ok()?)?;
    RENDITIONS
        .iter()
        .all(|file| sink.previous(&format!("{folder}/{file}")).is_some())
        .then_some(sizes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamp_round_trips() {
        let sizes = Sizes {
            thumb: (480, 360),
            screen: (1280, 960),
            full: (4000, 3000),
        };
        assert_eq!(Sizes::from_stamp(&sizes.stamp()), Some(sizes));
        assert_eq!(Sizes::from_stamp("minhbach media 0\nthumb 1 1\n"), None);
    }
}
