//! Times `media::derive` on a 4000 × 3000 JPEG (a 12-megapixel phone photo)
//! and prints the size of every copy, for `BENCHMARKS.md`.
//!
//! ```text
//! cargo run --release --example media_timing [PHOTO.jpg]
//! ```
//!
//! With a photo, it is scaled to 4000 × 3000 and given sensor-like noise, so
//! the encoders see photographic detail; without one, a synthetic scene is
//! drawn. Either way the input is a quality-90 JPEG, as phones write them.

use std::time::Instant;

use image::{Rgb, RgbImage};
use minhbach::media;

fn main() -> anyhow::Result<()> {
    let (width, height) = (4000, 3000);
    let base = match std::env::args().nth(1) {
        Some(path) => {
            let photo = image::open(&path)?.into_rgb8();
            image::imageops::resize(&photo, width, height, image::imageops::FilterType::Triangle)
        }
        None => RgbImage::from_fn(width, height, |x, y| {
            let (fx, fy) = (x as f32 / width as f32, y as f32 / height as f32);
            let roof = if fy < 0.4 + 0.2 * (fx * 12.0).sin().abs() {
                60
            } else {
                0
            };
            Rgb([
                (90.0 + 120.0 * fy) as u8 + roof,
                (140.0 + 60.0 * fx) as u8,
                (200.0 - 100.0 * fy) as u8,
            ])
        }),
    };
    // A fixed linear congruential generator: the same noise on every run.
    let mut state: u32 = 0x2024_0912;
    let noisy = RgbImage::from_fn(width, height, |x, y| {
        let pixel = base.get_pixel(x, y);
        Rgb(pixel.0.map(|channel| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let noise = (state >> 24) as i32 % 9 - 4;
            (i32::from(channel) + noise).clamp(0, 255) as u8
        }))
    });
    let mut input = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut input, 90).encode_image(&noisy)?;
    println!("input: {width}×{height} JPEG, {} bytes", input.len());

    let runs = 5;
    let mut best = f64::INFINITY;
    let mut derived = None;
    for _ in 0..runs {
        let start = Instant::now();
        derived = Some(media::derive(&input)?);
        best = best.min(start.elapsed().as_secs_f64());
    }
    let derived = derived.expect("at least one run");
    println!("derive: best of {runs} runs {:.0} ms", best * 1000.0);
    for (name, rendition) in [("thumb", &derived.thumb), ("screen", &derived.screen)] {
        println!(
            "{name}: {}×{}, WebP {} bytes, JPEG {} bytes",
            rendition.width,
            rendition.height,
            rendition.webp.len(),
            rendition.jpeg.len()
        );
    }
    println!(
        "full: {}×{}, JPEG {} bytes",
        derived.width,
        derived.height,
        derived.full_jpeg.len()
    );
    Ok(())
}
