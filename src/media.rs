//! Photos made fit to publish: from an original under `ledger/media/`, a
//! thumbnail and a screen-size copy (lossy WebP with a JPEG fallback) and a
//! full-size JPEG, all re-encoded from pixels so that no metadata survives:
//! no EXIF (GPS position, camera, time), XMP, IPTC, ICC profile or comment.
//!
//! The original's EXIF orientation is applied first, so a photo taken with
//! the phone held upright stays upright once the tag that said so is gone.
//! Transparent pixels are laid on white, since JPEG has no alpha.
//!
//! The module is pure: bytes in, bytes out, no file system, and the same input
//! always gives the same bytes on the same build, so a rebuilt site is
//! identical. (The decoders' SIMD paths are bit-identical to their scalar
//! ones, and resizing is plain IEEE arithmetic.)
//!
//! Scanned documents (PDF) are not images: [`derive`] says so with
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
/// WebP quality of the thumbnail and screen copies: libwebp's default, about
/// half the bytes of the JPEG fallback for the same look.
const WEBP_QUALITY: f32 = 75.0;
/// JPEG quality of the thumbnail and screen copies.
const JPEG_QUALITY_RESIZED: u8 = 80;
/// JPEG quality of the full-size copy, which people open to look closely.
const JPEG_QUALITY_FULL: u8 = 88;
/// The largest width or height accepted, so a crafted file cannot make the
/// build allocate gigabytes; the decoder's own 512 MiB limit (about 170
/// megapixels of RGB) applies as well.
const MAX_SIDE: u32 = 16_384;
/// The most pixels a photo may have: a 50-megapixel phone photo (8,660 ×
/// 5,773) passes; a 108- or 200-megapixel "high resolution" one must be
/// resized first. Every pixel costs about five bytes while its copies are
/// derived: a 420 KB PNG of 144 megapixels cost the build 0.7 GB.
pub const MAX_PIXELS: u64 = 50_000_000;

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
    /// Lossy WebP (libwebp, quality 75).
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
    /// The image is wider or taller than [`MAX_SIDE`] pixels, has more than
    /// [`MAX_PIXELS`], or would take too much memory to decode.
    #[error("image is too large to publish: {0}")]
    TooLarge(String),
    /// The file claims an image format but its data is broken.
    #[error("cannot decode the image: {0}")]
    Decode(String),
    /// Encoding a copy failed; a bug rather than bad input.
    #[error("cannot encode a copy of the image: {0}")]
    Encode(String),
}

/// Derives the published copies of the photo in `bytes` (JPEG, PNG, WebP or
/// the first frame of a GIF). About half a second for a 12-megapixel JPEG in
/// a release build, most of it encoding the full-size copy, so callers should
/// derive each original once and keep the copies by its hash; see
/// `BENCHMARKS.md`.
pub fn derive(bytes: &[u8]) -> Result<Derived, MediaError> {
    let full = decode_upright(bytes)?;
    let (width, height) = full.dimensions();
    // The screen copy is resampled from the original and the thumbnail from
    // the screen copy, which costs a few milliseconds instead of another pass
    // over 12 megapixels; a triangle filter widened to the reduction averages
    // every source pixel either way.
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

/// Checks that the build will publish `bytes`: a PDF (linked as it is), or
/// an image [`derive`] decodes, by decoding it whole with the same decoder
/// and the same limits ([`MAX_SIDE`], [`MAX_PIXELS`], the decoder's memory
/// limit). `append` calls it, so a file that only starts like a JPEG is
/// refused there instead of stopping every later build.
pub fn check(bytes: &[u8]) -> Result<(), MediaError> {
    match decode(bytes) {
        Ok(_) | Err(MediaError::NotAnImage(_)) => Ok(()),
        Err(error) => Err(error),
    }
}

/// [`check`] in the form the ledger takes it (`InputContext::check_media`).
pub fn check_photo(bytes: &[u8]) -> Result<(), String> {
    check(bytes).map_err(|e| e.to_string())
}

/// Decodes the image, turns it upright by its EXIF orientation and flattens
/// it to 8-bit RGB on white. Nothing but pixels leaves this function.
fn decode_upright(bytes: &[u8]) -> Result<RgbImage, MediaError> {
    let (mut image, orientation) = decode(bytes)?;
    image.apply_orientation(orientation);
    Ok(flatten_on_white(image))
}

/// Decodes the image (the first frame of a GIF) within the limits, with its
/// EXIF orientation. The one place both the build and `append` decode.
fn decode(bytes: &[u8]) -> Result<(DynamicImage, image::metadata::Orientation), MediaError> {
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
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(MediaError::TooLarge(format!(
            "{width} × {height} pixels, over the limit of {MAX_PIXELS} pixels"
        )));
    }
    // A damaged EXIF block should not stop a photo from being published; it
    // is then shown as stored, which is what most viewers do too.
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let image = DynamicImage::from_decoder(decoder).map_err(image_error)?;
    Ok((image, orientation))
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
    // Lossy VP8 through libwebp; its default single-threaded encoder gives
    // the same bytes for the same pixels.
    webp::Encoder::from_rgb(image.as_raw(), image.width(), image.height())
        .encode_simple(false, WEBP_QUALITY)
        .map(|memory| memory.to_vec())
        .map_err(|e| MediaError::Encode(format!("{e:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageEncoder as _, Rgb, Rgba, RgbaImage};

    const RED: [u8; 3] = [255, 0, 0];
    const WHITE: [u8; 3] = [255, 255, 255];
    /// Words that would betray metadata in an output file.
    const TELLTALES: [&[u8]; 7] = [
        b"Exif",
        b"GPS",
        b"http://ns.adobe.com/xap",
        b"ICC_PROFILE",
        b"Nikon",
        b"comment: house of",
        b"XMP",
    ];

    /// A `width × height` picture, white with its top-left quadrant red, so
    /// every rotation and flip puts the red somewhere else.
    fn quadrant_picture(width: u32, height: u32) -> RgbImage {
        RgbImage::from_fn(width, height, |x, y| {
            Rgb(if x < width / 2 && y < height / 2 {
                RED
            } else {
                WHITE
            })
        })
    }

    fn jpeg(image: &RgbImage) -> Vec<u8> {
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 95)
            .encode_image(image)
            .unwrap();
        out
    }

    fn png_rgba(image: &RgbaImage) -> Vec<u8> {
        let mut out = Vec::new();
        image::codecs::png::PngEncoder::new(&mut out)
            .write_image(
                image.as_raw(),
                image.width(),
                image.height(),
                image::ExtendedColorType::Rgba8,
            )
            .unwrap();
        out
    }

    fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
        let length = u16::try_from(payload.len() + 2).unwrap();
        let mut out = vec![0xFF, marker];
        out.extend_from_slice(&length.to_be_bytes());
        out.extend_from_slice(payload);
        out
    }

    /// An EXIF block (big-endian TIFF) as a phone writes it: IFD0 with the
    /// camera make, the orientation and a pointer to a GPS IFD placing the
    /// photo at 16°49'12.34" N, 107°5'6.78" E (Đông Hà, Quảng Trị).
    fn exif_app1(orientation: u16) -> Vec<u8> {
        let mut tiff: Vec<u8> = b"MM\0\x2a\0\0\0\x08".to_vec();
        let entry = |tiff: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]| {
            tiff.extend_from_slice(&tag.to_be_bytes());
            tiff.extend_from_slice(&kind.to_be_bytes());
            tiff.extend_from_slice(&count.to_be_bytes());
            tiff.extend_from_slice(&value);
        };
        const ASCII: u16 = 2;
        const SHORT: u16 = 3;
        const LONG: u16 = 4;
        const RATIONAL: u16 = 5;
        // IFD0 at 8: 3 entries (2 + 36 + 4 bytes) ends at 50; "Nikon\0" and
        // padding at 50..56; the GPS IFD at 56: 4 entries end at 110; then
        // two triples of rationals at 110 and 134.
        tiff.extend_from_slice(&3u16.to_be_bytes());
        entry(&mut tiff, 0x010F, ASCII, 6, 50u32.to_be_bytes()); // Make
        let [o1, o2] = orientation.to_be_bytes();
        entry(&mut tiff, 0x0112, SHORT, 1, [o1, o2, 0, 0]); // Orientation
        entry(&mut tiff, 0x8825, LONG, 1, 56u32.to_be_bytes()); // GPS IFD
        tiff.extend_from_slice(&0u32.to_be_bytes());
        assert_eq!(tiff.len(), 50);
        tiff.extend_from_slice(b"Nikon\0");
        assert_eq!(tiff.len(), 56);
        tiff.extend_from_slice(&4u16.to_be_bytes());
        entry(&mut tiff, 0x0001, ASCII, 2, *b"N\0\0\0"); // GPSLatitudeRef
        entry(&mut tiff, 0x0002, RATIONAL, 3, 110u32.to_be_bytes()); // GPSLatitude
        entry(&mut tiff, 0x0003, ASCII, 2, *b"E\0\0\0"); // GPSLongitudeRef
        entry(&mut tiff, 0x0004, RATIONAL, 3, 134u32.to_be_bytes()); // GPSLongitude
        tiff.extend_from_slice(&0u32.to_be_bytes());
        assert_eq!(tiff.len(), 110);
        for (numerator, denominator) in [
            (16u32, 1u32),
            (49, 1),
            (1234, 100),
            (107, 1),
            (5, 1),
            (678, 100),
        ] {
            tiff.extend_from_slice(&numerator.to_be_bytes());
            tiff.extend_from_slice(&denominator.to_be_bytes());
        }
        let mut payload = b"Exif\0\0".to_vec();
        payload.extend_from_slice(&tiff);
        segment(0xE1, &payload)
    }

    /// `jpeg` with an EXIF block carrying GPS and `orientation`, an XMP
    /// packet, an ICC profile and a comment inserted right after SOI.
    fn with_metadata(jpeg: &[u8], orientation: u16) -> Vec<u8> {
        assert_eq!(&jpeg[..2], [0xFF, 0xD8]);
        let mut out = jpeg[..2].to_vec();
        out.extend(exif_app1(orientation));
        out.extend(segment(
            0xE1,
            b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">XMP \
              exif:GPSLatitude=\"16,49.2N\"</x:xmpmeta>",
        ));
        let mut icc = b"ICC_PROFILE\0\x01\x01".to_vec();
        icc.extend_from_slice(&[0u8; 128]);
        out.extend(segment(0xE2, &icc));
        out.extend(segment(0xFE, b"comment: house of Nguyen Van A, 0912345678"));
        out.extend_from_slice(&jpeg[2..]);
        out
    }

    fn decode(bytes: &[u8]) -> RgbImage {
        image::load_from_memory(bytes).unwrap().into_rgb8()
    }

    fn every_output(derived: &Derived) -> [(&'static str, &[u8]); 5] {
        [
            ("thumb.webp", &derived.thumb.webp),
            ("thumb.jpg", &derived.thumb.jpeg),
            ("screen.webp", &derived.screen.webp),
            ("screen.jpg", &derived.screen.jpeg),
            ("full.jpg", &derived.full_jpeg),
        ]
    }

    /// The markers of a JPEG's segments up to the start of scan.
    fn jpeg_markers(bytes: &[u8]) -> Vec<u8> {
        let mut markers = Vec::new();
        let mut at = 2;
        loop {
            assert_eq!(bytes[at], 0xFF);
            let marker = bytes[at + 1];
            markers.push(marker);
            if marker == 0xDA {
                return markers;
            }
            at += 2 + usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
        }
    }

    /// The chunk names of a WebP (RIFF) file.
    fn webp_chunks(bytes: &[u8]) -> Vec<String> {
        assert_eq!(&bytes[..4], b"RIFF");
        assert_eq!(&bytes[8..12], b"WEBP");
        let mut chunks = Vec::new();
        let mut at = 12;
        while at + 8 <= bytes.len() {
            chunks.push(String::from_utf8_lossy(&bytes[at..at + 4]).into_owned());
            let size = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
            at += 8 + size + size % 2;
        }
        chunks
    }

    #[test]
    fn outputs_carry_no_metadata() {
        let input = with_metadata(&jpeg(&quadrant_picture(64, 48)), 1);
        // The fixture really is a photo with a GPS position, as EXIF readers
        // see it.
        let exif = exif::Reader::new()
            .read_from_container(&mut Cursor::new(&input))
            .unwrap();
        let latitude = exif
            .get_field(exif::Tag::GPSLatitude, exif::In::PRIMARY)
            .unwrap();
        assert_eq!(
            latitude.display_value().to_string(),
            "16 deg 49 min 12.34 sec"
        );
        assert!(exif.get_field(exif::Tag::Make, exif::In::PRIMARY).is_some());

        let derived = derive(&input).unwrap();
        for (name, bytes) in every_output(&derived) {
            for telltale in TELLTALES {
                assert!(
                    !bytes.windows(telltale.len()).any(|w| w == telltale),
                    "{name} contains {:?}",
                    String::from_utf8_lossy(telltale)
                );
            }
            assert!(
                exif::Reader::new()
                    .read_from_container(&mut Cursor::new(bytes))
                    .is_err(),
                "{name} has EXIF"
            );
            match name.rsplit_once('.').unwrap().1 {
                // Only the JFIF header (APP0, which holds nothing but the
                // pixel density), tables, the frame and the scan: no other
                // application segment and no comment.
                "jpg" => {
                    let markers = jpeg_markers(bytes);
                    assert_eq!(markers.iter().filter(|&&m| m == 0xE0).count(), 1, "{name}");
                    assert!(
                        markers
                            .iter()
                            .all(|m| [0xE0, 0xDB, 0xC0, 0xC4, 0xDA].contains(m)),
                        "{name}: {markers:x?}"
                    );
                }
                _ => assert_eq!(webp_chunks(bytes), ["VP8 "], "{name}"),
            }
        }
    }

    /// Where the red quadrant of [`quadrant_picture`] is after the photo has
    /// been turned upright: (right half?, bottom half?).
    fn red_quadrant(image: &RgbImage) -> (bool, bool) {
        let (width, height) = image.dimensions();
        let mut red = Vec::new();
        for (right, bottom) in [(false, false), (true, false), (false, true), (true, true)] {
            let x = width / 4 + u32::from(right) * width / 2;
            let y = height / 4 + u32::from(bottom) * height / 2;
            let [r, g, b] = image.get_pixel(x, y).0;
            let is_red = r > 200 && g < 60 && b < 60;
            let is_white = r > 200 && g > 200 && b > 200;
            assert!(is_red || is_white, "pixel {x},{y} is {r},{g},{b}");
            if is_red {
                red.push((right, bottom));
            }
        }
        assert_eq!(red.len(), 1, "{red:?}");
        red[0]
    }

    #[test]
    fn orientation_is_applied_before_the_tag_is_dropped() {
        // (EXIF orientation, upright size, where the stored top-left ends up)
        let cases = [
            (1, (64, 48), (false, false)),
            (2, (64, 48), (true, false)),
            (3, (64, 48), (true, true)),
            (4, (64, 48), (false, true)),
            (5, (48, 64), (false, false)),
            (6, (48, 64), (true, false)),
            (7, (48, 64), (true, true)),
            (8, (48, 64), (false, true)),
        ];
        let stored = jpeg(&quadrant_picture(64, 48));
        for (orientation, size, red) in cases {
            let derived = derive(&with_metadata(&stored, orientation)).unwrap();
            assert_eq!(
                (derived.width, derived.height),
                size,
                "orientation {orientation}"
            );
            for (name, bytes) in every_output(&derived) {
                let image = decode(bytes);
                assert_eq!(
                    image.dimensions(),
                    size,
                    "orientation {orientation}, {name}"
                );
                assert_eq!(
                    red_quadrant(&image),
                    red,
                    "orientation {orientation}, {name}"
                );
            }
        }
    }

    #[test]
    fn copies_fit_their_sizes_and_never_grow() {
        // (original size, screen size, thumbnail size)
        let cases = [
            ((1600, 1000), (1280, 800), (320, 200)),
            ((900, 2000), (576, 1280), (144, 320)),
            ((1280, 1280), (1280, 1280), (320, 320)),
            ((5000, 3), (1280, 1), (320, 1)),
            ((400, 300), (400, 300), (320, 240)),
            ((100, 50), (100, 50), (100, 50)),
        ];
        for (original, screen, thumb) in cases {
            let input = jpeg(&quadrant_picture(original.0, original.1));
            let derived = derive(&input).unwrap();
            assert_eq!((derived.width, derived.height), original);
            assert_eq!((derived.screen.width, derived.screen.height), screen);
            assert_eq!((derived.thumb.width, derived.thumb.height), thumb);
            assert_eq!(decode(&derived.full_jpeg).dimensions(), original);
            for (rendition, size) in [(&derived.screen, screen), (&derived.thumb, thumb)] {
                assert_eq!(decode(&rendition.webp).dimensions(), size);
                assert_eq!(decode(&rendition.jpeg).dimensions(), size);
            }
        }
    }

    #[test]
    fn same_input_gives_the_same_bytes() {
        let input = with_metadata(&jpeg(&quadrant_picture(700, 500)), 6);
        let first = derive(&input).unwrap();
        let second = derive(&input).unwrap();
        assert_eq!(first, second);
        // A one-pixel change shows: nothing is cached across calls.
        let mut changed = quadrant_picture(700, 500);
        changed.put_pixel(600, 400, Rgb([0, 0, 0]));
        assert_ne!(derive(&jpeg(&changed)).unwrap().full_jpeg, first.full_jpeg);
    }

    #[test]
    fn png_gif_and_webp_are_published_too() {
        // Transparent pixels are laid on white, half-transparent ones blended.
        let mut rgba = RgbaImage::from_pixel(40, 30, Rgba([255, 0, 0, 255]));
        for x in 20..40 {
            for y in 0..30 {
                rgba.put_pixel(x, y, Rgba([0, 0, 0, if y < 15 { 0 } else { 128 }]));
            }
        }
        let derived = derive(&png_rgba(&rgba)).unwrap();
        let full = decode(&derived.full_jpeg);
        let near = |pixel: [u8; 3], want: [u8; 3]| {
            pixel
                .iter()
                .zip(want)
                .all(|(&got, want)| got.abs_diff(want) <= 12)
        };
        assert!(near(full.get_pixel(5, 5).0, RED));
        assert!(
            near(full.get_pixel(35, 5).0, WHITE),
            "{:?}",
            full.get_pixel(35, 5)
        );
        assert!(
            near(full.get_pixel(35, 25).0, [127, 127, 127]),
            "{:?}",
            full.get_pixel(35, 25)
        );

        let mut gif = Vec::new();
        image::codecs::gif::GifEncoder::new(&mut gif)
            .encode(rgba.as_raw(), 40, 30, image::ExtendedColorType::Rgba8)
            .unwrap();
        assert_eq!(derive(&gif).unwrap().thumb.width, 40);

        let webp = derive(&gif).unwrap().screen.webp;
        assert_eq!(image::guess_format(&webp).unwrap(), ImageFormat::WebP);
        assert_eq!(derive(&webp).unwrap().height, 30);
    }

    #[test]
    fn documents_and_other_files_are_told_apart() {
        let pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n";
        assert_eq!(derive(pdf), Err(MediaError::NotAnImage(Document::Pdf)));

        let bmp = b"BM\x3a\0\0\0\0\0\0\0\x36\0\0\0\x28\0\0\0\x01\0\0\0";
        assert_eq!(
            derive(bmp),
            Err(MediaError::Unsupported {
                format: "Bmp".into()
            })
        );
        let text = b"household list, not a photo";
        assert!(matches!(derive(text), Err(MediaError::Unsupported { .. })));
        assert!(matches!(derive(b""), Err(MediaError::Unsupported { .. })));

        let whole = jpeg(&quadrant_picture(64, 48));
        let truncated = &whole[..whole.len() / 3];
        assert!(matches!(derive(truncated), Err(MediaError::Decode(_))));
    }

    #[test]
    fn oversized_images_are_refused_before_decoding() {
        let wide = RgbaImage::new(MAX_SIDE + 1, 1);
        let error = derive(&png_rgba(&wide)).unwrap_err();
        assert!(matches!(error, MediaError::TooLarge(_)), "{error:?}");
        assert_eq!(check(&png_rgba(&wide)), Err(error));
    }

    #[test]
    fn check_decodes_what_derive_would() {
        let whole = jpeg(&quadrant_picture(64, 48));
        assert_eq!(check(&whole), Ok(()));
        assert_eq!(check(b"%PDF-1.7\n%%EOF\n"), Ok(()));
        let mut fake = b"\xFF\xD8\xFF\xE0".to_vec();
        fake.extend_from_slice(&[0x5A; 64]);
        assert!(
            matches!(check(&fake), Err(MediaError::Decode(_))),
            "{:?}",
            check(&fake)
        );
        let truncated = &whole[..whole.len() / 3];
        assert!(matches!(check(truncated), Err(MediaError::Decode(_))));
    }
}
