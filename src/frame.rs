//! Frames: 8-bit RGB images, decoded from files or given by the caller.

use crate::error::{Error, Result};

/// The largest frame we accept, per side and in pixels; bigger images are refused before decoding.
pub const MAX_SIDE: u32 = 16384;
pub const MAX_PIXELS: u64 = 64 * 1024 * 1024;

/// An RGB image, 3 bytes per pixel, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Rgb {
    pub width: usize,
    pub height: usize,
    pub data: Vec<u8>,
}

impl Rgb {
    pub fn new(width: usize, height: usize, data: Vec<u8>) -> Result<Rgb> {
        check_size(width as u64, height as u64)?;
        if data.len() != width * height * 3 {
            return Err(Error::input(format!("{} bytes for a {width}x{height} RGB frame", data.len())));
        }
        Ok(Rgb { width, height, data })
    }

    /// The pixel at (x, y), clamped to the border.
    #[inline]
    pub fn pixel(&self, x: usize, y: usize) -> [u8; 3] {
        let i = (y.min(self.height - 1) * self.width + x.min(self.width - 1)) * 3;
        [self.data[i], self.data[i + 1], self.data[i + 2]]
    }
}

fn check_size(width: u64, height: u64) -> Result<()> {
    if width == 0 || height == 0 {
        return Err(Error::input(format!("empty frame ({width}x{height})")));
    }
    if width > MAX_SIDE as u64 || height > MAX_SIDE as u64 || width * height > MAX_PIXELS {
        return Err(Error::input(format!("frame of {width}x{height} is {}", too_large())));
    }
    Ok(())
}

fn too_large() -> String {
    format!("too large (at most {MAX_SIDE} pixels a side, {MAX_PIXELS} pixels in all)")
}

/// Decodes a JPEG, PNG or WebP file; the format comes from the content, not the name, and the EXIF
/// orientation is applied. The declared size is checked before any pixel is decoded.
pub fn decode(bytes: &[u8]) -> Result<Rgb> {
    // The decoders are third-party code, and fuzzing found files that make them panic (zune-jpeg 0.5.15
    // in its IDCT and upsampler, png 0.18.1 on a palette of a partial entry, image-webp 0.2.4 in its YUV
    // conversion and on an animation frame's short alpha data): a panic there is a bad file, not a
    // crash. (The browser decodes images itself; this path is native only, where panics unwind.)
    IN_DECODER.set(true);
    let decoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| decode_unchecked(bytes)));
    IN_DECODER.set(false);
    decoded.unwrap_or_else(|_| Err(Error::input("cannot decode image: the decoder failed on malformed data")))
}

thread_local! {
    static IN_DECODER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Wraps the current panic hook so that it stays quiet about the panics `decode` turns into errors: a bad
/// file should not print a panic message and stack trace as if the program crashed. Any other panic, a bug,
/// still goes to the hook that was there (the default one, or a fuzzer's that saves the input).
pub fn quiet_decoder_panics() {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !IN_DECODER.get() {
            hook(info)
        }
    }));
}

fn decode_unchecked(bytes: &[u8]) -> Result<Rgb> {
    use image::ImageDecoder;
    let bad = |e: image::ImageError| Error::input(format!("cannot decode image: {e}"));
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| Error::input(format!("cannot read image: {e}")))?;
    match reader.format() {
        Some(image::ImageFormat::Jpeg | image::ImageFormat::Png | image::ImageFormat::WebP) => {}
        _ => return Err(Error::input("not an image (JPEG, PNG or WebP)")),
    }
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_PIXELS * 4 + (64 << 20));
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|e| match e {
        image::ImageError::Limits(_) => Error::input(format!("image is {}", too_large())),
        e => bad(e),
    })?;
    let (w, h) = decoder.dimensions();
    check_size(w as u64, h as u64)?;
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = image::DynamicImage::from_decoder(decoder).map_err(bad)?;
    img.apply_orientation(orientation);
    let rgb = img.into_rgb8();
    Rgb::new(rgb.width() as usize, rgb.height() as usize, rgb.into_raw())
}

/// Writes a frame as an image file, its format from the file name's extension (PNG, JPEG or WebP).
pub fn save(frame: &Rgb, path: &std::path::Path) -> Result<()> {
    let image =
        image::RgbImage::from_raw(frame.width as u32, frame.height as u32, frame.data.clone()).ok_or_else(|| {
            Error::input(format!("a {}x{} frame of {} bytes", frame.width, frame.height, frame.data.len()))
        })?;
    image.save(path).map_err(|e| Error::io(format!("{}: {e}", path.display())))
}

/// Reads and decodes an image file.
pub fn load(path: &std::path::Path) -> Result<Rgb> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(format!("{}: {e}", path.display())))?;
    decode(&bytes)
}
