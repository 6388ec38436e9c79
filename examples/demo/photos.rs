//! Demo photos: simple drawings of a house at each stage of the works, made
//! deterministically with the `image` crate, so the demo portal shows
//! before / during / after photos without shipping real people's homes.
//!
//! Each JPEG carries a hand-made EXIF block with a GPS position, as a phone
//! photo would: the published site must show copies with that metadata
//! stripped, and the demo makes the stripping checkable (the originals under
//! `ledger/media/` keep it, which is why they are never published).

use image::{Rgb, RgbImage};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

const WIDTH: u32 = 800;
const HEIGHT: u32 = 600;
/// How many consenting, handed-over households get photos.
const HOUSEHOLDS: usize = 3;

/// Adds photos (through the `file` field, as an officer would) to the
/// progress entries of the first few households that consented to photos
/// and whose house was handed over. Photo files are written to `dir`.
pub fn attach(batches: &mut [super::data::Batch], dir: &Path) -> anyhow::Result<usize> {
    let mut consenting: Vec<String> = Vec::new();
    let mut handed_over: BTreeSet<String> = BTreeSet::new();
    for entry in batches.iter().flat_map(|b| b.entries.iter()) {
        let kind = entry["kind"].as_str();
        let id = entry["id"].as_str().or(entry["household"].as_str());
        match (kind, id) {
            (Some("household"), Some(id)) if entry["photo_consent"] == Value::Bool(true) => {
                consenting.push(id.to_string());
            }
            (Some("progress"), Some(id)) if entry["stage"] == "handed_over" => {
                handed_over.insert(id.to_string());
            }
            _ => {}
        }
    }
    let chosen: Vec<String> = consenting
        .into_iter()
        .filter(|id| handed_over.contains(id))
        .take(HOUSEHOLDS)
        .collect();
    std::fs::create_dir_all(dir)?;
    let mut count = 0;
    for entry in batches.iter_mut().flat_map(|b| b.entries.iter_mut()) {
        if entry["kind"] != "progress" {
            continue;
        }
        let Some(house) = entry["household"]
            .as_str()
            .and_then(|id| chosen.iter().position(|c| c == id))
        else {
            continue;
        };
        let Some(stage) = entry["stage"].as_str().map(str::to_owned) else {
            continue;
        };
        let jpeg = photo(&stage, house)?;
        let file = dir.join(format!("{}-{stage}.jpg", chosen[house]));
        std::fs::write(&file, jpeg)?;
        let caption = match stage.as_str() {
            "approved" => "Nhà cũ xuống cấp, mái dột, trước khi làm",
            "started" => "Đang xây tường",
            "completed" => "Nhà mới đã hoàn thành",
            _ => "Bàn giao nhà Đại đoàn kết",
        };
        entry["photos"] = serde_json::json!([{
            "file": file.file_name().expect("a file name").to_string_lossy(),
            "caption": caption,
        }]);
        count += 1;
    }
    Ok(count)
}

/// One JPEG of house number `house` at `stage`, with EXIF GPS inserted.
fn photo(stage: &str, house: usize) -> anyhow::Result<Vec<u8>> {
    let image = draw(stage, house);
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 78).encode_image(&image)?;
    // Around Đông Hà, Quảng Trị, a little apart per house.
    let latitude = (16, 48 + house as u32, 1234 + 517 * house as u32);
    let longitude = (107, 5 + 2 * house as u32, 4321 + 733 * house as u32);
    Ok(with_exif(&jpeg, latitude, longitude))
}

fn fill(image: &mut RgbImage, x0: i32, y0: i32, x1: i32, y1: i32, color: [u8; 3]) {
    for y in y0.max(0)..y1.min(HEIGHT as i32) {
        for x in x0.max(0)..x1.min(WIDTH as i32) {
            image.put_pixel(x as u32, y as u32, Rgb(color));
        }
    }
}

/// A triangle (a roof) with its apex at (`cx`, `top`) and base from `x0` to
/// `x1` at `base`; every 16th row in `stripe` (rows of tiles), if given.
#[allow(clippy::too_many_arguments)]
fn roof(
    image: &mut RgbImage,
    cx: i32,
    top: i32,
    x0: i32,
    x1: i32,
    base: i32,
    color: [u8; 3],
    stripe: Option<[u8; 3]>,
) {
    for y in top..base {
        let t = (y - top) as f32 / (base - top) as f32;
        let left = cx as f32 - t * (cx - x0) as f32;
        let right = cx as f32 + t * (x1 - cx) as f32;
        let row = match stripe {
            Some(stripe) if (y - top) % 16 >= 14 => stripe,
            _ => color,
        };
        fill(image, left as i32, y, right as i32, y + 1, row);
    }
}

fn draw(stage: &str, house: usize) -> RgbImage {
    let mut image = RgbImage::new(WIDTH, HEIGHT);
    // Sky, lighter towards the horizon; then the ground.
    for y in 0..380 {
        let shade = (y / 8) as u8;
        fill(
            &mut image,
            0,
            y,
            WIDTH as i32,
            y + 1,
            [120 + shade, 170 + shade / 2, 225],
        );
    }
    let ground = [[118, 150, 72], [132, 140, 80], [104, 142, 86]][house % 3];
    fill(&mut image, 0, 380, WIDTH as i32, HEIGHT as i32, ground);
    // A path to the door and a tree, placed per house.
    fill(&mut image, 370, 470, 430, HEIGHT as i32, [190, 170, 130]);
    let tree = 60 + 40 * house as i32;
    fill(&mut image, tree + 30, 250, tree + 50, 420, [100, 70, 40]);
    fill(&mut image, tree, 170, tree + 80, 270, [40, 110, 50]);

    let (x0, x1, top, base) = (220, 580, 260, 470);
    match stage {
        "approved" => {
            // The old house: weathered wooden walls, a sagging roof with a
            // blue tarpaulin, a crack.
            fill(&mut image, x0, top, x1, base, [140, 110, 80]);
            for x in (x0..x1).step_by(24) {
                fill(&mut image, x, top, x + 3, base, [110, 85, 60]);
            }
            roof(
                &mut image,
                380,
                170,
                x0 - 30,
                x1 + 10,
                top + 10,
                [95, 95, 95],
                None,
            );
            fill(&mut image, 300, 200, 400, 240, [40, 90, 170]);
            fill(&mut image, 460, 240, 490, 262, [130, 170, 220]);
            for step in 0..12 {
                fill(
                    &mut image,
                    470 + step * 2,
                    300 + step * 12,
                    474 + step * 2,
                    312 + step * 12,
                    [50, 40, 30],
                );
            }
            fill(&mut image, 370, 370, 430, base, [70, 50, 35]);
        }
        "started" => {
            // Foundation and half-built brick walls, scaffolding, sand.
            fill(
                &mut image,
                x0 - 10,
                base - 20,
                x1 + 10,
                base,
                [150, 150, 150],
            );
            for row in 0..8 {
                let y = base - 20 - (row + 1) * 18;
                let offset = if row % 2 == 0 { 0 } else { 15 };
                let mut x = x0 + offset;
                while x < x1 {
                    fill(&mut image, x, y, (x + 27).min(x1), y + 15, [178, 80, 50]);
                    x += 30;
                }
            }
            for x in [x0 - 25, x1 + 15] {
                fill(&mut image, x, 200, x + 6, base, [160, 130, 60]);
            }
            fill(&mut image, x0 - 25, 260, x1 + 21, 266, [160, 130, 60]);
            roof(&mut image, 660, 440, 620, 720, 480, [215, 190, 130], None);
        }
        _ => {
            // The new house: plastered walls, a red tiled roof, a door and
            // two windows; on hand-over day, a red banner.
            fill(&mut image, x0, top, x1, base, [238, 226, 190]);
            roof(
                &mut image,
                400,
                150,
                x0 - 40,
                x1 + 40,
                top,
                [185, 50, 35],
                Some([150, 35, 25]),
            );
            fill(&mut image, 370, 360, 430, base, [120, 70, 40]);
            fill(&mut image, 260, 320, 320, 380, [90, 140, 190]);
            fill(&mut image, 480, 320, 540, 380, [90, 140, 190]);
            fill(
                &mut image,
                x0 - 10,
                base - 6,
                x1 + 10,
                base,
                [170, 170, 170],
            );
            if stage == "handed_over" {
                fill(&mut image, 290, 275, 510, 305, [200, 20, 20]);
                fill(&mut image, 392, 281, 408, 299, [250, 220, 0]);
            }
        }
    }
    image
}

/// Inserts an EXIF APP1 segment (big-endian TIFF: IFD0 with `Make` and a
/// GPS IFD with version, latitude and longitude) right after the JPEG's SOI
/// marker, as a phone camera writes it. Positions are (degrees, minutes,
/// hundredths of a second).
fn with_exif(jpeg: &[u8], latitude: (u32, u32, u32), longitude: (u32, u32, u32)) -> Vec<u8> {
    const MAKE: &[u8] = b"minhbach demo\0";
    let mut tiff: Vec<u8> = Vec::new();
    let entry = |tiff: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]| {
        tiff.extend_from_slice(&tag.to_be_bytes());
        tiff.extend_from_slice(&kind.to_be_bytes());
        tiff.extend_from_slice(&count.to_be_bytes());
        tiff.extend_from_slice(&value);
    };
    // Offsets are from the start of the TIFF header.
    let ifd0 = 8u32;
    let make_at = ifd0 + 2 + 2 * 12 + 4;
    let gps_at = make_at + MAKE.len() as u32;
    let latitude_at = gps_at + 2 + 5 * 12 + 4;
    let longitude_at = latitude_at + 24;
    tiff.extend_from_slice(b"MM\0\x2a");
    tiff.extend_from_slice(&ifd0.to_be_bytes());
    tiff.extend_from_slice(&2u16.to_be_bytes());
    entry(
        &mut tiff,
        0x010f,
        2,
        MAKE.len() as u32,
        make_at.to_be_bytes(),
    );
    entry(&mut tiff, 0x8825, 4, 1, gps_at.to_be_bytes());
    tiff.extend_from_slice(&0u32.to_be_bytes());
    tiff.extend_from_slice(MAKE);
    tiff.extend_from_slice(&5u16.to_be_bytes());
    entry(&mut tiff, 0x0000, 1, 4, [2, 3, 0, 0]);
    entry(&mut tiff, 0x0001, 2, 2, *b"N\0\0\0");
    entry(&mut tiff, 0x0002, 5, 3, latitude_at.to_be_bytes());
    entry(&mut tiff, 0x0003, 2, 2, *b"E\0\0\0");
    entry(&mut tiff, 0x0004, 5, 3, longitude_at.to_be_bytes());
    tiff.extend_from_slice(&0u32.to_be_bytes());
    for (degrees, minutes, hundredths) in [latitude, longitude] {
        for (numerator, denominator) in [(degrees, 1u32), (minutes, 1), (hundredths, 100)] {
            tiff.extend_from_slice(&numerator.to_be_bytes());
            tiff.extend_from_slice(&denominator.to_be_bytes());
        }
    }
    debug_assert_eq!(tiff.len() as u32, longitude_at + 24);
    let length = (2 + 6 + tiff.len()) as u16;
    let mut out = Vec::with_capacity(jpeg.len() + length as usize + 2);
    out.extend_from_slice(&jpeg[..2]);
    out.extend_from_slice(&[0xff, 0xe1]);
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(b"Exif\0\0");
    out.extend_from_slice(&tiff);
    out.extend_from_slice(&jpeg[2..]);
    out
}
