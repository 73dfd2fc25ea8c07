//! The electronic sample as a learner gets it: rendered with the proposed Fluent wording,
//! then read back with poppler's `pdftotext` / `pdfinfo` (Debian: poppler-utils).
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use fluent_bundle::{FluentBundle, FluentResource};
use uchbot::certificate::{
    render_sample, sha256_hex, Field, RenderError, SampleData, SampleWording, WordingError,
    PAGE_HEIGHT_PT, PAGE_WIDTH_PT,
};
use uchbot::domain::catalog::DocumentKind;

fn bundle() -> FluentBundle<FluentResource> {
    let resource = FluentResource::try_new(uchbot::texts::RU_FTL.to_string())
        .unwrap_or_else(|(_, errors)| panic!("ru.ftl: {errors:?}"));
    let mut bundle = FluentBundle::new(vec![unic_langid::langid!("ru")]);
    bundle.set_use_isolating(false);
    bundle.add_resource(resource).expect("no clashing ids");
    bundle
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn sample(document: DocumentKind) -> SampleData {
    SampleData {
        document,
        full_name: "Иванова Мария Сергеевна".into(),
        program_title: "Охрана труда для руководителей и специалистов".into(),
        hours: 72,
        starts_on: date(2026, 12, 1),
        ends_on: date(2026, 12, 7),
        registration_number: "ПК-2026-000123".into(),
        issued_on: date(2026, 12, 7),
        school_name: "ООО «Учебный центр „Профи“»".into(),
        city: "Москва".into(),
    }
}

/// A rendered sample on disk, and what poppler reads out of it.
struct Rendered {
    _dir: tempfile::TempDir,
    path: PathBuf,
    bytes: Vec<u8>,
    took: Duration,
}

fn render(data: &SampleData) -> Rendered {
    let wording = SampleWording::from_fluent(&bundle(), data).expect("wording formats");
    let started = Instant::now();
    let bytes = render_sample(data, &wording).expect("sample renders");
    let took = started.elapsed();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sample.pdf");
    std::fs::write(&path, &bytes).unwrap();
    Rendered {
        _dir: dir,
        path,
        bytes,
        took,
    }
}

fn poppler(tool: &str, args: &[&str], pdf: &Path) -> String {
    let output = Command::new(tool)
        .args(args)
        .arg(pdf)
        .arg("-")
        .output()
        .unwrap_or_else(|e| panic!("{tool} not runnable ({e}); install Debian's poppler-utils"));
    assert!(
        output.status.success(),
        "{tool} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("poppler prints UTF-8")
}

/// `pdftotext -layout`, with runs of whitespace (line breaks included) made single spaces,
/// so a phrase wrapped across lines still reads as one.
fn page_text(pdf: &Path) -> String {
    poppler("pdftotext", &["-layout"], pdf)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn pdfinfo(pdf: &Path) -> String {
    let output = Command::new("pdfinfo")
        .arg(pdf)
        .output()
        .expect("pdfinfo not runnable; install Debian's poppler-utils");
    assert!(output.status.success());
    String::from_utf8(output.stdout).unwrap()
}

/// One word as `pdftotext -bbox` reports it, in points from the top-left corner.
#[derive(Debug)]
struct WordBox {
    x_min: f32,
    y_min: f32,
    x_max: f32,
    y_max: f32,
    text: String,
}

fn word_boxes(pdf: &Path) -> Vec<WordBox> {
    let html = poppler("pdftotext", &["-bbox"], pdf);
    let attr = |tag: &str, name: &str| -> f32 {
        let start = tag.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
        let end = start + tag[start..].find('"').unwrap();
        tag[start..end].parse().unwrap()
    };
    html.lines()
        .filter_map(|line| line.trim().strip_prefix("<word "))
        .map(|rest| {
            let (tag, after) = rest.split_once('>').unwrap();
            let text = after.strip_suffix("</word>").unwrap().to_string();
            WordBox {
                x_min: attr(tag, "xMin"),
                y_min: attr(tag, "yMin"),
                x_max: attr(tag, "xMax"),
                y_max: attr(tag, "yMax"),
                text,
            }
        })
        .collect()
}

/// Every word lies inside the inner frame of the page (27 pt from each edge); the
/// watermark word is allowed anywhere on the page.
fn assert_within_frame(pdf: &Path, watermark: &str) {
    let words = word_boxes(pdf);
    assert!(words.len() > 30, "too few words: {words:?}");
    let inset = 27.0;
    for w in words.iter().filter(|w| w.text != watermark) {
        assert!(
            w.x_min >= inset
                && w.y_min >= inset
                && w.x_max <= PAGE_WIDTH_PT - inset
                && w.y_max <= PAGE_HEIGHT_PT - inset,
            "{w:?} is outside the frame"
        );
    }
    for w in &words {
        assert!(
            w.x_min >= 0.0
                && w.y_min >= 0.0
                && w.x_max <= PAGE_WIDTH_PT
                && w.y_max <= PAGE_HEIGHT_PT,
            "{w:?} is off the page"
        );
    }
}

/// The page rasterised by `pdftoppm` at `dpi`: width, height and RGB bytes.
fn raster(pdf: &Path, dpi: u32) -> (usize, usize, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("page");
    let status = Command::new("pdftoppm")
        .args(["-r", &dpi.to_string(), "-singlefile"])
        .arg(pdf)
        .arg(&prefix)
        .status()
        .expect("pdftoppm not runnable; install Debian's poppler-utils");
    assert!(status.success());
    let ppm = std::fs::read(prefix.with_extension("ppm")).unwrap();
    // Binary PPM: "P6", width, height, max value, one whitespace byte, then RGB.
    let mut fields = Vec::new();
    let mut pos = 0;
    while fields.len() < 4 {
        while ppm[pos].is_ascii_whitespace() {
            pos += 1;
        }
        let start = pos;
        while !ppm[pos].is_ascii_whitespace() {
            pos += 1;
        }
        fields.push(String::from_utf8(ppm[start..pos].to_vec()).unwrap());
    }
    assert_eq!(fields[0], "P6");
    let (w, h) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    let pixels = ppm[pos + 1..].to_vec();
    assert_eq!(pixels.len(), w * h * 3);
    (w, h, pixels)
}

/// The light red of the watermark, as it comes out of the rasteriser (anti-aliasing
/// blends it with white, and darkens it where text crosses it).
fn is_watermark_pink(rgb: &[u8]) -> bool {
    let (r, g, b) = (i32::from(rgb[0]), i32::from(rgb[1]), i32::from(rgb[2]));
    r > 225 && (150..236).contains(&g) && (150..236).contains(&b) && r - g > 15
}

fn assert_contains(text: &str, needle: &str) {
    assert!(
        text.contains(needle),
        "«{needle}» not in the page text:\n{text}"
    );
}

#[test]
fn certificate_reads_back_with_name_program_hours_dates_number_and_watermark() {
    let data = sample(DocumentKind::Certificate);
    let pdf = render(&data);
    let text = page_text(&pdf.path);
    for needle in [
        "ОБРАЗЕЦ",
        "УДОСТОВЕРЕНИЕ",
        "о повышении квалификации",
        "Настоящее удостоверение свидетельствует о том, что",
        "Иванова Мария Сергеевна",
        "с 1 декабря 2026 г. по 7 декабря 2026 г. прошла повышение квалификации",
        "ООО «Учебный центр „Профи“»",
        "по дополнительной профессиональной программе",
        "«Охрана труда для руководителей и специалистов»",
        "в объёме 72 часа",
        "Регистрационный номер ПК-2026-000123",
        "Дата выдачи 7 декабря 2026 г.",
        "Москва, 2026",
        "Электронный образец для проверки данных. Не является документом о квалификации.",
    ] {
        assert_contains(&text, needle);
    }
    assert_within_frame(&pdf.path, "ОБРАЗЕЦ");
    eprintln!(
        "certificate: {} bytes, rendered in {:?}",
        pdf.bytes.len(),
        pdf.took
    );
}

#[test]
fn diploma_reads_as_professional_retraining_with_its_hours() {
    let data = SampleData {
        full_name: "Петров Илья Андреевич".into(),
        program_title: "Педагогика и психология дошкольного образования".into(),
        hours: 252,
        starts_on: date(2026, 9, 1),
        ends_on: date(2027, 1, 15),
        registration_number: "ПП-2027-000007".into(),
        issued_on: date(2027, 1, 18),
        ..sample(DocumentKind::Diploma)
    };
    let pdf = render(&data);
    let text = page_text(&pdf.path);
    for needle in [
        "ОБРАЗЕЦ",
        "ДИПЛОМ",
        "о профессиональной переподготовке",
        "Настоящий диплом свидетельствует о том, что",
        "Петров Илья Андреевич",
        "с 1 сентября 2026 г. по 15 января 2027 г. прошёл профессиональную переподготовку",
        "«Педагогика и психология дошкольного образования»",
        "в объёме 252 часа",
        "Регистрационный номер ПП-2027-000007",
        "Дата выдачи 18 января 2027 г.",
        "Москва, 2027",
    ] {
        assert_contains(&text, needle);
    }
    assert_within_frame(&pdf.path, "ОБРАЗЕЦ");
}

#[test]
fn svidetelstvo_reads_as_vocational_training_with_its_hours() {
    let data = SampleData {
        full_name: "Смит Джон".into(),
        program_title: "Стропальщик".into(),
        hours: 16,
        registration_number: "ПО-2026-000042".into(),
        city: "Екатеринбург".into(),
        ..sample(DocumentKind::Svidetelstvo)
    };
    let pdf = render(&data);
    let text = page_text(&pdf.path);
    for needle in [
        "ОБРАЗЕЦ",
        "СВИДЕТЕЛЬСТВО",
        "о профессии рабочего, должности служащего",
        "Настоящее свидетельство подтверждает, что",
        "Смит Джон",
        // No patronymic: the verb keeps both endings.
        "прошёл(ла) профессиональное обучение",
        "по основной программе профессионального обучения",
        "«Стропальщик»",
        "в объёме 16 часов",
        "Регистрационный номер ПО-2026-000042",
        "Екатеринбург, 2026",
    ] {
        assert_contains(&text, needle);
    }
    assert_within_frame(&pdf.path, "ОБРАЗЕЦ");
}

#[test]
fn hours_take_the_russian_plural_form() {
    for (hours, expected) in [
        (1, "в объёме 1 час"),
        (2, "в объёме 2 часа"),
        (16, "в объёме 16 часов"),
        (21, "в объёме 21 час"),
        (72, "в объёме 72 часа"),
        (111, "в объёме 111 часов"),
        (252, "в объёме 252 часа"),
        (500, "в объёме 500 часов"),
    ] {
        let data = SampleData {
            hours,
            ..sample(DocumentKind::Certificate)
        };
        let wording = SampleWording::from_fluent(&bundle(), &data).unwrap();
        assert_eq!(wording.volume, expected);
    }
    // And the one-hour form really reaches the page.
    let data = SampleData {
        hours: 1,
        ..sample(DocumentKind::Certificate)
    };
    let text = page_text(&render(&data).path);
    let after = text
        .split("в объёме 1 ")
        .nth(1)
        .expect("volume on the page");
    assert_eq!(after.split_whitespace().next(), Some("час"), "{text}");
}

#[test]
fn pdf_is_one_a4_landscape_page_with_embedded_subset_fonts() {
    let pdf = render(&sample(DocumentKind::Certificate));
    let info = pdfinfo(&pdf.path);
    let field = |name: &str| -> String {
        info.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}:")))
            .unwrap_or_else(|| panic!("pdfinfo has no {name}:\n{info}"))
            .trim()
            .to_string()
    };
    assert_eq!(field("Pages"), "1");
    // 841.89 x 595.276 pts (A4), landscape.
    let size = field("Page size");
    assert!(size.starts_with("841.89 x 595.27"), "{size}");
    assert!(size.contains("(A4)"), "{size}");
    assert!(field("Title").contains("Иванова Мария Сергеевна"));

    let fonts = Command::new("pdffonts").arg(&pdf.path).output().unwrap();
    let fonts = String::from_utf8(fonts.stdout).unwrap();
    let rows: Vec<&str> = fonts.lines().skip(2).collect();
    assert_eq!(rows.len(), 2, "{fonts}");
    for row in rows {
        // name, type, encoding, emb, sub, uni: "XXXXXX+DejaVuSerif CID TrueType Identity-H yes yes yes"
        let cols: Vec<&str> = row.split_whitespace().collect();
        assert!(cols[0].contains("+DejaVuSerif"), "{row}");
        assert_eq!(
            &cols[cols.len() - 5..cols.len() - 2],
            ["yes", "yes", "yes"],
            "{row}"
        );
    }
    assert!(pdf.bytes.len() < 80_000, "{} bytes", pdf.bytes.len());

    // The diagonal watermark is drawn (pink along the page's rising diagonal) but as a
    // shape: the only «ОБРАЗЕЦ» in the text layer is the stamp beside the title.
    let (w, h, pixels) = raster(&pdf.path, 30);
    for share in [0.3, 0.5, 0.7] {
        let (cx, cy) = (
            (w as f32 * share) as usize,
            (h as f32 * (1.0 - share)) as usize,
        );
        let (rx, ry) = (w / 12, h / 12);
        let pink = (cy - ry..cy + ry)
            .flat_map(|y| (cx - rx..cx + rx).map(move |x| (y * w + x) * 3))
            .filter(|&i| is_watermark_pink(&pixels[i..i + 3]))
            .count();
        assert!(
            pink > 20,
            "no watermark around {share} of the diagonal ({pink} pink pixels)"
        );
    }
    let text = page_text(&pdf.path);
    assert_eq!(text.matches("ОБРАЗЕЦ").count(), 1, "{text}");
    eprintln!(
        "A4 sample: {} bytes, rendered in {:?}",
        pdf.bytes.len(),
        pdf.took
    );
}

#[test]
fn long_program_title_and_long_double_barrelled_name_stay_within_the_page() {
    let data = SampleData {
        full_name: "Римская-Корсакова-Оглоблина Анастасия-Виктория Константиновна".into(),
        program_title: "Организация и проведение работ по обеспечению пожарной безопасности, \
                        охраны труда и промышленной безопасности на опасных производственных \
                        объектах химической, нефтехимической и нефтегазоперерабатывающей \
                        промышленности с учётом требований федеральных норм и правил, \
                        действующих с 1 сентября 2026 года"
            .into(),
        school_name: "Автономная некоммерческая организация дополнительного профессионального \
                      образования «Межрегиональный учебно-методический центр повышения \
                      квалификации и профессиональной переподготовки специалистов»"
            .into(),
        ..sample(DocumentKind::Certificate)
    };
    let pdf = render(&data);
    assert_within_frame(&pdf.path, "ОБРАЗЕЦ");
    let text = page_text(&pdf.path);
    assert_contains(
        &text,
        "Римская-Корсакова-Оглоблина Анастасия-Виктория Константиновна",
    );
    assert_contains(&text, "«Организация и проведение работ");
    assert_contains(&text, "действующих с 1 сентября 2026 года»");
    assert_contains(&text, "в объёме 72 часа");
    assert_contains(&text, "Регистрационный номер ПК-2026-000123");
}

#[test]
fn same_input_gives_the_same_bytes_and_other_input_other_bytes() {
    let data = sample(DocumentKind::Certificate);
    let wording = SampleWording::from_fluent(&bundle(), &data).unwrap();
    let first = render_sample(&data, &wording).unwrap();
    let second = render_sample(&data, &wording).unwrap();
    assert_eq!(sha256_hex(&first), sha256_hex(&second));
    assert_eq!(first, second);

    let corrected = SampleData {
        full_name: "Иванова Марина Сергеевна".into(),
        ..data
    };
    let wording = SampleWording::from_fluent(&bundle(), &corrected).unwrap();
    let third = render_sample(&corrected, &wording).unwrap();
    assert_ne!(sha256_hex(&first), sha256_hex(&third));
}

#[test]
fn unprintable_character_in_the_name_is_reported_as_the_names() {
    let data = SampleData {
        full_name: "Иванова Мария 🌸".into(),
        ..sample(DocumentKind::Certificate)
    };
    let wording = SampleWording::from_fluent(&bundle(), &data).unwrap();
    match render_sample(&data, &wording) {
        Err(RenderError::UnsupportedCharacter { field, character }) => {
            assert_eq!(field, Field::FullName);
            assert_eq!(character, '🌸');
        }
        other => panic!("expected UnsupportedCharacter, got {other:?}"),
    }
}

#[test]
fn text_too_long_for_one_page_is_refused_not_cut() {
    let data = SampleData {
        // About 6,600 characters: no type size that can still be read fits it on a page.
        program_title: "Очень длинное название программы ".repeat(200),
        ..sample(DocumentKind::Diploma)
    };
    let wording = SampleWording::from_fluent(&bundle(), &data).unwrap();
    assert!(matches!(
        render_sample(&data, &wording),
        Err(RenderError::DoesNotFit)
    ));
}

#[test]
fn missing_fluent_message_is_named() {
    let mut partial = FluentBundle::new(vec![unic_langid::langid!("ru")]);
    partial
        .add_resource(FluentResource::try_new("doc-sample-watermark = ОБРАЗЕЦ\n".into()).unwrap())
        .unwrap();
    let err = SampleWording::from_fluent(&partial, &sample(DocumentKind::Diploma)).unwrap_err();
    assert_eq!(
        err,
        WordingError::MissingMessage {
            id: "doc-sample-disclaimer".into()
        }
    );
}

/// Not a check: writes the samples to `target/tmp/certificate-samples/` to look at.
/// `cargo test --test certificate_pdf -- --ignored write_samples_for_review`
#[test]
#[ignore]
fn write_samples_for_review() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("certificate-samples");
    std::fs::create_dir_all(&dir).unwrap();
    let long = SampleData {
        full_name: "Римская-Корсакова-Оглоблина Анастасия-Виктория Константиновна".into(),
        program_title: "Организация и проведение работ по обеспечению пожарной безопасности, \
                        охраны труда и промышленной безопасности на опасных производственных \
                        объектах химической, нефтехимической и нефтегазоперерабатывающей \
                        промышленности с учётом требований федеральных норм и правил, \
                        действующих с 1 сентября 2026 года"
            .into(),
        ..sample(DocumentKind::Diploma)
    };
    let samples = [
        ("certificate", sample(DocumentKind::Certificate)),
        ("diploma", sample(DocumentKind::Diploma)),
        ("svidetelstvo", sample(DocumentKind::Svidetelstvo)),
        ("long", long),
    ];
    for (name, data) in samples {
        let pdf = render(&data);
        let path = dir.join(format!("{name}.pdf"));
        std::fs::write(&path, &pdf.bytes).unwrap();
        eprintln!(
            "{} ({} bytes, {:?})",
            path.display(),
            pdf.bytes.len(),
            pdf.took
        );
    }
}
