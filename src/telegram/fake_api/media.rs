//! Files as Telegram describes them: MIME types, image sizes, the `PhotoSize` ladder.

/// MIME type Telegram reports for an uploaded document: the upload's own content type when it
/// says something, else by extension, else by sniffing the bytes.
pub fn document_mime(file_name: &str, declared: Option<&str>, bytes: &[u8]) -> Option<String> {
    if let Some(declared) = declared {
        let declared = declared.trim();
        if !declared.is_empty() && declared != "application/octet-stream" {
            return Some(declared.to_owned());
        }
    }
    let extension = file_name
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase());
    let by_extension = match extension.as_deref() {
        Some("pdf") => Some("application/pdf"),
        Some("jpg" | "jpeg") => Some("image/jpeg"),
        Some("png") => Some("image/png"),
        Some("gif") => Some("image/gif"),
        Some("webp") => Some("image/webp"),
        Some("heic") => Some("image/heic"),
        Some("tif" | "tiff") => Some("image/tiff"),
        Some("txt") => Some("text/plain"),
        Some("csv") => Some("text/csv"),
        Some("rtf") => Some("application/rtf"),
        Some("doc") => Some("application/msword"),
        Some("docx") => {
            Some("application/vnd.openxmlformats-officedocument.wordprocessingml.document")
        }
        Some("xls") => Some("application/vnd.ms-excel"),
        Some("xlsx") => Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        Some("odt") => Some("application/vnd.oasis.opendocument.text"),
        Some("zip") => Some("application/zip"),
        _ => None,
    };
    by_extension
        .map(str::to_owned)
        .or_else(|| infer::get(bytes).map(|kind| kind.mime_type().to_owned()))
}

/// Whether Telegram would accept these bytes as a photo.
pub fn is_image(bytes: &[u8]) -> bool {
    matches!(
        infer::get(bytes).map(|k| k.mime_type()),
        Some("image/jpeg" | "image/png" | "image/gif" | "image/webp" | "image/bmp")
    )
}

/// Width and height from the image header (PNG, JPEG, GIF, WebP, BMP).
pub fn image_size(bytes: &[u8]) -> Option<(u32, u32)> {
    let be16 = |i: usize| -> Option<u32> {
        Some(u32::from(u16::from_be_bytes([
            *bytes.get(i)?,
            *bytes.get(i + 1)?,
        ])))
    };
    let le16 = |i: usize| -> Option<u32> {
        Some(u32::from(u16::from_le_bytes([
            *bytes.get(i)?,
            *bytes.get(i + 1)?,
        ])))
    };
    let be32 = |i: usize| -> Option<u32> {
        Some(u32::from_be_bytes(bytes.get(i..i + 4)?.try_into().ok()?))
    };
    let le24 = |i: usize| -> Option<u32> {
        let b = bytes.get(i..i + 3)?;
        Some(u32::from(b[0]) | u32::from(b[1]) << 8 | u32::from(b[2]) << 16)
    };
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some((be32(16)?, be32(20)?));
    }
    if bytes.starts_with(b"GIF8") {
        return Some((le16(6)?, le16(8)?));
    }
    if bytes.starts_with(b"BM") {
        let w = i32::from_le_bytes(bytes.get(18..22)?.try_into().ok()?);
        let h = i32::from_le_bytes(bytes.get(22..26)?.try_into().ok()?);
        return Some((w.unsigned_abs(), h.unsigned_abs()));
    }
    if bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
        return match bytes.get(12..16)? {
            b"VP8X" => Some((le24(24)? + 1, le24(27)? + 1)),
            b"VP8 " => Some((le16(26)? & 0x3FFF, le16(28)? & 0x3FFF)),
            b"VP8L" => {
                let b = bytes.get(21..25)?;
                let bits = u32::from_le_bytes(b.try_into().ok()?);
                Some(((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1))
            }
            _ => None,
        };
    }
    if bytes.starts_with(&[0xFF, 0xD8]) {
        let mut i = 2;
        while i + 9 < bytes.len() {
            if bytes[i] != 0xFF {
                i += 1;
                continue;
            }
            let marker = bytes[i + 1];
            if marker == 0xFF {
                i += 1;
                continue;
            }
            let is_sof = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
            if is_sof {
                return Some((be16(i + 7)?, be16(i + 5)?));
            }
            if matches!(marker, 0xD0..=0xD9 | 0x01) {
                i += 2;
                continue;
            }
            i += 2 + be16(i + 2)? as usize;
        }
    }
    None
}

/// The sizes Telegram keeps of a photo: thumbnails with the longer side 90, 320, 800 and
/// 1280 pixels where the original is larger, then the original (at most 2560).
pub fn photo_ladder(width: u32, height: u32) -> Vec<(u32, u32)> {
    let longer = width.max(height).max(1);
    let scale = |side: u32| -> (u32, u32) {
        let factor = f64::from(side) / f64::from(longer);
        (
            ((f64::from(width) * factor).round() as u32).max(1),
            ((f64::from(height) * factor).round() as u32).max(1),
        )
    };
    let mut sizes: Vec<(u32, u32)> = [90, 320, 800, 1280]
        .into_iter()
        .filter(|side| *side < longer)
        .map(scale)
        .collect();
    sizes.push(if longer > 2560 {
        scale(2560)
    } else {
        (width, height)
    });
    sizes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        b.extend(width.to_be_bytes());
        b.extend(height.to_be_bytes());
        b.extend([8, 2, 0, 0, 0]);
        b
    }

    #[test]
    fn reads_png_size() {
        assert_eq!(image_size(&png(1024, 768)), Some((1024, 768)));
        assert!(is_image(&png(1, 1)));
        assert!(!is_image(b"%PDF-1.4"));
    }

    #[test]
    fn reads_jpeg_size() {
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x00, 0x00];
        jpeg.extend([0xFF, 0xC0, 0x00, 0x11, 0x08, 0x01, 0xE0, 0x02, 0x80, 0x03]);
        jpeg.extend([0u8; 16]);
        assert_eq!(image_size(&jpeg), Some((640, 480)));
    }

    #[test]
    fn ladder_keeps_smaller_sizes_and_original() {
        assert_eq!(
            photo_ladder(1000, 500),
            vec![(90, 45), (320, 160), (800, 400), (1000, 500)]
        );
        assert_eq!(photo_ladder(50, 50), vec![(50, 50)]);
        assert_eq!(photo_ladder(4000, 3000).last(), Some(&(2560, 1920)));
    }

    #[test]
    fn mime_by_declared_then_extension() {
        assert_eq!(
            document_mime("scan.pdf", None, b"").as_deref(),
            Some("application/pdf")
        );
        assert_eq!(
            document_mime("x.bin", Some("image/png"), b"").as_deref(),
            Some("image/png")
        );
        assert_eq!(document_mime("noext", None, b"zzz"), None);
    }
}
