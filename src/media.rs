//! Photos made fit to publish: from an original under `ledger/media/`, a
//! thumbnail and a screen-size copy (lossless WebP with a JPEG fallback) and a
//! full-size JPEG, all re-encoded from pixels so that no metadata survives:
//! no EXIF (GPS position, camera, time), XMP, IPTC, ICC profile or comment.
//!
//! The original's EXIF orientation is applied first, so a photo taken with
//! the phone held upright stays upright once the tag that said so is gone.
//! Transparent pixels are laid on white, since JPEG has no alpha.
//!
//! The module is pure: bytes in, bytes out, no file system, and the same input
//! always gives the same bytes on the same build, so a rebuilt site is
//! identical. Scanned documents (PDF) are not images: [`derive`] says so with
//! [`MediaError::NotAnImage`] and the site links them as they are.

use std::io::Cursor;

use image::imageops::FilterType;
use image::{DynamicImage, ImageDecoder as _, ImageFormat, ImageReader, RgbImage};

/// The longer side of a thumbnail, in pixels: sharp in a two-column grid on
/// a phone with a 2× screen, and a few kilobytes on 3G.
pub const THUMB_MAX: u32 = 320;
/// The longer side of the screen-size copy, in pixels: a full-width photo on
/// a phone or a laptop.
pub const SCREEN_MAX: u32 = 1280;
/// JPEG quality of the thumbnail and screen copies.
const JPEG_QUALITY_RESIZED: u8 = 80;
/// JPEG quality of the full-size copy, which people open to look closely.
const JPEG_QUALITY_FULL: u8 = 88;
/// The largest width or height accepted, so a crafted file cannot make the
/// build allocate gigabytes (a 16384 × 16384 photo is 268 megapixels).
const MAX_SIDE: u32 = 16_384;

/// The copies of one photo that the site publishes. Every copy is a fresh
/// encoding of decoded pixels and carries no metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Derived {
    /// At most [`THUMB_MAX`] pixels on the longer side.
    pub thumb: Rendition,
    /// At most [`SCREEN_MAX`] pixels on the longer side.
    pub screen: Rendition,
    /// The whole photo at its own size, upright, as JPEG.
    pub full_jpeg: Vec<u8>,
    /// Width of the full-size copy, after orientation was applied.
    pub width: u32,
    /// Height of the full-size copy, after orientation was applied.
    pub height: u32,
}

/// One size of a photo in two formats: WebP for browsers that take it (every
/// current one) and JPEG for the rest, e.g. in a `<picture>` element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendition {
    pub width: u32,
    pub height: u32,
    /// Lossless WebP (the `image` crate's pure-Rust encoder writes no other).
    pub webp: Vec<u8>,
    pub jpeg: Vec<u8>,
}

/// A file under `ledger/media/` that is not a raster image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Document {
    /// A PDF, e.g. a scanned decision or bank statement.
    Pdf,
}

/// Why no copies were derived from a file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MediaError {
    /// The file is a document, not an image: publish it as it is, as a link.
    #[error("not an image but a {0:?} document")]
    NotAnImage(Document),
    /// The file is neither a document nor an image in a format the site
    /// publishes. It must not be published as it is: it may carry metadata.
    #[error("not a JPEG, PNG, WebP or GIF image ({format})")]
    Unsupported { format: String },
    /// The image is wider or taller than [`MAX_SIDE`] pixels, or would take
    /// too much memory to decode.
    #[error("image is too large to publish: {0}")]
    TooLarge(String),
    /// The file claims an image format but its data is broken.
    #[error("cannot decode the image: {0}")]
    Decode(String),
    /// Encoding a copy failed; a bug rather than bad input.
    #[error("cannot encode a copy of the image: {0}")]
    Encode(String),
}

/// The file extension the media store should give `bytes`, from their
/// content, not from the name the officer's file had: `jpg`, `png`, `webp`,
/// `gif` or `pdf`; `None` for anything the site cannot publish.
pub fn extension(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"%PDF-") {
        return Some("pdf");
    }
    match image::guess_format(bytes).ok()? {
        ImageFormat::Jpeg => Some("jpg"),
        ImageFormat::Png => Some("png"),
        ImageFormat::WebP => Some("webp"),
        ImageFormat::Gif => Some("gif"),
        _ => None,
    }
}

/// Derives the published copies of the photo in `bytes` (JPEG, PNG, WebP or
/// the first frame of a GIF). About a third of a second for a 12-megapixel
/// JPEG in a release build; see `BENCHMARKS.md`.
pub fn derive(bytes: &[u8]) -> Result<Derived, MediaError> {
    let full = decode_upright(bytes)?;
    let (width, height) = full.dimensions();
    // The screen copy is resampled from the original and the thumbnail from
    // the screen copy: a quarter of the work, and the same look, because a
    // triangle filter scaled to the reduction averages every source pixel.
    let screen = fit(&full, SCREEN_MAX);
    let thumb = fit(&screen, THUMB_MAX);
    // The full-size JPEG is the slowest encoding; do it beside the others.
    let (full_jpeg, renditions) = rayon::join(
        || encode_jpeg(&full, JPEG_QUALITY_FULL),
        || -> Result<_, MediaError> {
            Ok((
                rendition(&screen, JPEG_QUALITY_RESIZED)?,
                rendition(&thumb, JPEG_QUALITY_RESIZED)?,
            ))
        },
    );
    let (screen, thumb) = renditions?;
    Ok(Derived {
        thumb,
        screen,
        full_jpeg: full_jpeg?,
        width,
        height,
    })
}

/// Decodes the image, turns it upright by its EXIF orientation and flattens
/// it to 8-bit RGB on white. Nothing but pixels leaves this function.
fn decode_upright(bytes: &[u8]) -> Result<RgbImage, MediaError> {
    if bytes.starts_with(b"%PDF-") {
        return Err(MediaError::NotAnImage(Document::Pdf));
    }
    let format = match image::guess_format(bytes) {
        Ok(
            format @ (ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP | ImageFormat::Gif),
        ) => format,
        Ok(other) => {
            return Err(MediaError::Unsupported {
                format: format!("{other:?}"),
            });
        }
        Err(_) => {
            return Err(MediaError::Unsupported {
                format: "unknown format".to_owned(),
            });
        }
    };
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(image_error)?;
    // A damaged EXIF block should not stop a photo from being published; it
    // is then shown as stored, which is what most viewers do too.
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(image_error)?;
    image.apply_orientation(orientation);
    Ok(flatten_on_white(image))
}

fn image_error(error: image::ImageError) -> MediaError {
    match error {
        image::ImageError::Limits(limit) => MediaError::TooLarge(limit.to_string()),
        image::ImageError::Unsupported(unsupported) => MediaError::Unsupported {
            format: unsupported.to_string(),
        },
        other => MediaError::Decode(other.to_string()),
    }
}

fn flatten_on_white(image: DynamicImage) -> RgbImage {
    if !image.color().has_alpha() {
        return image.into_rgb8();
    }
    let rgba = image.into_rgba8();
    let mut rgb = RgbImage::new(rgba.width(), rgba.height());
    for (out, pixel) in rgb.pixels_mut().zip(rgba.pixels()) {
        let [r, g, b, a] = pixel.0;
        let over_white = |channel: u8| {
            let (channel, alpha) = (u32::from(channel), u32::from(a));
            // Rounded integer blend: exact and the same on every machine.
            ((channel * alpha + 255 * (255 - alpha) + 127) / 255) as u8
        };
        out.0 = [over_white(r), over_white(g), over_white(b)];
    }
    rgb
}

/// Scales `image` down so its longer side is at most `max_side`, keeping the
/// aspect ratio; never scales up.
fn fit(image: &RgbImage, max_side: u32) -> RgbImage {
    let (width, height) = image.dimensions();
    if width <= max_side && height <= max_side {
        return image.clone();
    }
    let (new_width, new_height) = if width >= height {
        (max_side, scaled_side(height, max_side, width))
    } else {
        (scaled_side(width, max_side, height), max_side)
    };
    image::imageops::resize(image, new_width, new_height, FilterType::Triangle)
}

/// `side × numerator / denominator`, rounded, and at least one pixel.
fn scaled_side(side: u32, numerator: u32, denominator: u32) -> u32 {
    let scaled = (u64::from(side) * u64::from(numerator) + u64::from(denominator) / 2)
        / u64::from(denominator);
    (scaled as u32).max(1)
}

fn rendition(image: &RgbImage, jpeg_quality: u8) -> Result<Rendition, MediaError> {
    Ok(Rendition {
        width: image.width(),
        height: image.height(),
        webp: encode_webp(image)?,
        jpeg: encode_jpeg(image, jpeg_quality)?,
    })
}

fn encode_jpeg(image: &RgbImage, quality: u8) -> Result<Vec<u8>, MediaError> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(image)
        .map_err(|e| MediaError::Encode(e.to_string()))?;
    Ok(out)
}

fn encode_webp(image: &RgbImage) -> Result<Vec<u8>, MediaError> {
    let mut out = Vec::new();
    image::codecs::webp::WebPEncoder::new_lossless(&mut out)
        .encode(
            image.as_raw(),
            image.width(),
            image.height(),
            image::ExtendedColorType::Rgb8,
        )
        .map_err(|e| MediaError::Encode(e.to_string()))?;
    Ok(out)
}
