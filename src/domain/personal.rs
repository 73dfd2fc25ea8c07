//! The learner's personal data, as typed by Russian users on phones: each value is a newtype
//! that can only be built by `parse`, which accepts the reasonable variations, normalizes
//! them, and refuses the rest with a [`ValidationError`] precise enough to tell the learner
//! what to fix. No I/O here.
use std::fmt;

use chrono::{Datelike, NaiveDate};
use fluent_bundle::FluentArgs;
use serde::{Deserialize, Serialize};

use super::catalog::ProgramKind;

/// Why a value was refused. Every variant maps to a Fluent message (`message_id`) with its
/// arguments (`args`); the texts are proposed in `dialogues/proposed-domain.ftl`.
/// `Display` is a short English reason for logs: it never repeats the learner's input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidationError {
    // Email
    #[error("the email address is empty")]
    EmailEmpty,
    #[error("the email address contains spaces")]
    EmailHasSpaces,
    #[error("the email address has no @")]
    EmailMissingAt,
    #[error("the email address has more than one @")]
    EmailSeveralAt,
    #[error("the part of the email address before @ is not in Latin letters")]
    EmailLocalPartNotLatin,
    #[error("the part of the email address before @ is malformed")]
    EmailBadLocalPart,
    #[error("the domain of the email address is malformed")]
    EmailBadDomain,
    #[error("the email address is longer than {max} characters")]
    EmailTooLong { max: usize },

    // Names
    #[error("the name is empty")]
    NameEmpty,
    #[error("the name is longer than {max} characters")]
    NameTooLong { max: usize },
    #[error("the name contains a character that is not a letter: {character:?}")]
    NameInvalidCharacter { character: char },
    #[error("the name mixes Cyrillic and Latin letters")]
    NameMixedAlphabets,
    #[error("the name has a misplaced hyphen or apostrophe")]
    NameBadPunctuation,
    #[error("a full name needs 2 or 3 words, found {found}")]
    FullNameWordCount { found: usize },

    // SNILS
    #[error("the SNILS is empty")]
    SnilsEmpty,
    #[error("the SNILS contains a character that is not a digit: {character:?}")]
    SnilsInvalidCharacter { character: char },
    #[error("a SNILS has 11 digits, found {found}")]
    SnilsWrongLength { found: usize },
    #[error("the SNILS check number does not match")]
    SnilsChecksum,
    #[error("the SNILS is all zeros")]
    SnilsPlaceholder,

    // Phone
    #[error("the phone number is empty")]
    PhoneEmpty,
    #[error("the phone number contains an unexpected character: {character:?}")]
    PhoneInvalidCharacter { character: char },
    #[error("a Russian phone number has 11 digits, found {found}")]
    PhoneWrongLength { found: usize },
    #[error("no Russian number starts with +7 {first_digit}")]
    PhoneUnknownRussianCode { first_digit: u32 },
    #[error("the phone number needs a country code starting with +")]
    PhoneNeedsCountryCode,
    #[error("an international number has 8 to 15 digits, found {found}")]
    PhoneInternationalLength { found: usize },

    // Birth date
    #[error("the birth date is empty")]
    BirthDateEmpty,
    #[error("the birth date is not in the form dd.mm.yyyy")]
    BirthDateFormat,
    #[error("the birth date has a two-digit year")]
    BirthDateTwoDigitYear,
    #[error("no such day in the calendar")]
    BirthDateNonexistent,
    #[error("the birth date is in the future")]
    BirthDateInFuture,
    #[error("the learner is younger than {min_age}")]
    BirthDateTooYoung { min_age: u32 },
    #[error("the learner would be older than {max_age}")]
    BirthDateTooOld { max_age: u32 },

    // Postal index and address
    #[error("the postal index is empty")]
    PostalIndexEmpty,
    #[error("the postal index contains a character that is not a digit")]
    PostalIndexNotDigits,
    #[error("a postal index has 6 digits, found {found}")]
    PostalIndexWrongLength { found: usize },
    #[error("Russian postal indexes start with 1 to 6")]
    PostalIndexNotRussian,
    #[error("the address is empty")]
    AddressEmpty,
    #[error("the address is shorter than {min} characters")]
    AddressTooShort { min: usize },
    #[error("the address is longer than {max} characters")]
    AddressTooLong { max: usize },
    #[error("the address has no 6-digit postal index")]
    AddressMissingIndex,
    #[error("the address names no town or village")]
    AddressMissingLocality,
    #[error("the address has no street and house number")]
    AddressMissingHouse,

    // Education
    #[error("unknown level of education")]
    EducationUnknown,
    #[error("this level of education does not admit to a {program} program")]
    EducationNotAdmitted { program: &'static str },

    // Tracking numbers
    #[error("the tracking number is empty")]
    TrackingEmpty,
    #[error("a tracking number has 14 digits or 13 characters, found {found}")]
    TrackingWrongLength { found: usize },
    #[error("the tracking number is neither 14 digits nor the form RA123456785RU")]
    TrackingBadShape,
    #[error("the tracking number's check digit does not match")]
    TrackingChecksum,
}

impl ValidationError {
    /// The Fluent message id of the learner-facing text.
    pub fn message_id(&self) -> &'static str {
        use ValidationError::*;
        match self {
            EmailEmpty => "invalid-email-empty",
            EmailHasSpaces => "invalid-email-spaces",
            EmailMissingAt => "invalid-email-missing-at",
            EmailSeveralAt => "invalid-email-several-at",
            EmailLocalPartNotLatin => "invalid-email-local-not-latin",
            EmailBadLocalPart => "invalid-email-local-part",
            EmailBadDomain => "invalid-email-domain",
            EmailTooLong { .. } => "invalid-email-too-long",
            NameEmpty => "invalid-name-empty",
            NameTooLong { .. } => "invalid-name-too-long",
            NameInvalidCharacter { .. } => "invalid-name-character",
            NameMixedAlphabets => "invalid-name-mixed-alphabets",
            NameBadPunctuation => "invalid-name-punctuation",
            FullNameWordCount { .. } => "invalid-full-name-word-count",
            SnilsEmpty => "invalid-snils-empty",
            SnilsInvalidCharacter { .. } => "invalid-snils-character",
            SnilsWrongLength { .. } => "invalid-snils-length",
            SnilsChecksum => "invalid-snils-checksum",
            SnilsPlaceholder => "invalid-snils-placeholder",
            PhoneEmpty => "invalid-phone-empty",
            PhoneInvalidCharacter { .. } => "invalid-phone-character",
            PhoneWrongLength { .. } => "invalid-phone-length",
            PhoneUnknownRussianCode { .. } => "invalid-phone-russian-code",
            PhoneNeedsCountryCode => "invalid-phone-country-code",
            PhoneInternationalLength { .. } => "invalid-phone-international-length",
            BirthDateEmpty => "invalid-birth-date-empty",
            BirthDateFormat => "invalid-birth-date-format",
            BirthDateTwoDigitYear => "invalid-birth-date-two-digit-year",
            BirthDateNonexistent => "invalid-birth-date-nonexistent",
            BirthDateInFuture => "invalid-birth-date-future",
            BirthDateTooYoung { .. } => "invalid-birth-date-too-young",
            BirthDateTooOld { .. } => "invalid-birth-date-too-old",
            PostalIndexEmpty => "invalid-postal-index-empty",
            PostalIndexNotDigits => "invalid-postal-index-not-digits",
            PostalIndexWrongLength { .. } => "invalid-postal-index-length",
            PostalIndexNotRussian => "invalid-postal-index-not-russian",
            AddressEmpty => "invalid-address-empty",
            AddressTooShort { .. } => "invalid-address-too-short",
            AddressTooLong { .. } => "invalid-address-too-long",
            AddressMissingIndex => "invalid-address-missing-index",
            AddressMissingLocality => "invalid-address-missing-locality",
            AddressMissingHouse => "invalid-address-missing-house",
            EducationUnknown => "invalid-education-unknown",
            EducationNotAdmitted { .. } => "invalid-education-not-admitted",
            TrackingEmpty => "invalid-tracking-empty",
            TrackingWrongLength { .. } => "invalid-tracking-length",
            TrackingBadShape => "invalid-tracking-shape",
            TrackingChecksum => "invalid-tracking-checksum",
        }
    }

    /// The values the message needs (limits, counts), named as in the `.ftl` file.
    pub fn args(&self) -> FluentArgs<'static> {
        use ValidationError::*;
        let mut args = FluentArgs::new();
        match self {
            EmailTooLong { max } | NameTooLong { max } | AddressTooLong { max } => {
                args.set("max", *max as u64);
            }
            AddressTooShort { min } => args.set("min", *min as u64),
            NameInvalidCharacter { character }
            | SnilsInvalidCharacter { character }
            | PhoneInvalidCharacter { character } => args.set("character", character.to_string()),
            FullNameWordCount { found }
            | SnilsWrongLength { found }
            | PhoneWrongLength { found }
            | PhoneInternationalLength { found }
            | PostalIndexWrongLength { found }
            | TrackingWrongLength { found } => args.set("found", *found as u64),
            PhoneUnknownRussianCode { first_digit } => args.set("first_digit", *first_digit),
            BirthDateTooYoung { min_age } => args.set("min_age", *min_age),
            BirthDateTooOld { max_age } => args.set("max_age", *max_age),
            EducationNotAdmitted { program } => args.set("program", *program),
            _ => {}
        }
        args
    }
}

/// Implements `Display`, `as_str`, and string (de)serialization through `parse` for a
/// newtype over `String`.
macro_rules! string_newtype {
    ($name:ident) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
        impl TryFrom<String> for $name {
            type Error = ValidationError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }
        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }
    };
}

/// Dashes phones and office software put in place of a hyphen-minus.
fn is_dash(c: char) -> bool {
    matches!(
        c,
        '-' | '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{2014}' | '\u{2212}'
    )
}

/// Collapses every run of whitespace (NBSP included) to one space and trims the ends.
fn collapse_whitespace(input: &str) -> String {
    input.split_whitespace().collect::<Vec<_>>().join(" ")
}

// ---------------------------------------------------------------------------------------
// Email

/// An email address in the practical RFC 5321 shape: `local@domain`, the local part in
/// ASCII (dot-atom, no quoting), the domain lowercased and possibly internationalized
/// (`почта.рф`); at most 254 characters in its ASCII form.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);
string_newtype!(Email);

impl Email {
    pub const MAX_LEN: usize = 254;
    const MAX_LOCAL_LEN: usize = 64;

    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        let mut text = input.trim();
        // Pasted from a mail client: "mailto:…" or "<…>"; typed at the end of a sentence: "…ru."
        if text
            .get(..7)
            .is_some_and(|p| p.eq_ignore_ascii_case("mailto:"))
        {
            text = &text[7..];
        }
        let text = text
            .trim_start_matches('<')
            .trim_end_matches(['>', '.', ',', ';'])
            .trim();
        if text.is_empty() {
            return Err(ValidationError::EmailEmpty);
        }
        if text.chars().any(char::is_whitespace) {
            return Err(ValidationError::EmailHasSpaces);
        }
        let mut parts = text.split('@');
        let (local, domain) = match (parts.next(), parts.next(), parts.next()) {
            (Some(local), Some(domain), None) => (local, domain),
            (_, None, _) => return Err(ValidationError::EmailMissingAt),
            _ => return Err(ValidationError::EmailSeveralAt),
        };
        validate_local_part(local)?;
        let domain = domain.to_lowercase();
        let ascii_domain = validate_domain(&domain)?;
        if local.len() + 1 + ascii_domain.len() > Self::MAX_LEN {
            return Err(ValidationError::EmailTooLong { max: Self::MAX_LEN });
        }
        Ok(Self(format!("{local}@{domain}")))
    }

    pub fn local_part(&self) -> &str {
        self.0.split_once('@').map(|(l, _)| l).unwrap_or_default()
    }

    /// The domain as typed (lowercased; Unicode for IDN domains).
    pub fn domain(&self) -> &str {
        self.0.split_once('@').map(|(_, d)| d).unwrap_or_default()
    }

    /// The address with its domain in ASCII (punycode), the form SMTP servers expect.
    pub fn to_ascii(&self) -> String {
        let ascii = idna::domain_to_ascii(self.domain()).unwrap_or_else(|_| self.domain().into());
        format!("{}@{}", self.local_part(), ascii)
    }
}

fn validate_local_part(local: &str) -> Result<(), ValidationError> {
    if local.is_empty() || local.len() > Email::MAX_LOCAL_LEN {
        return Err(ValidationError::EmailBadLocalPart);
    }
    // A Russian keyboard layout turns "sasha" into "sаsha" with a Cyrillic "а": say so.
    if !local.is_ascii() {
        return Err(ValidationError::EmailLocalPartNotLatin);
    }
    let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c);
    let dot_atom = local
        .split('.')
        .all(|atom| !atom.is_empty() && atom.chars().all(atext));
    if !dot_atom {
        return Err(ValidationError::EmailBadLocalPart);
    }
    Ok(())
}

/// Checks the (lowercased) domain and returns its ASCII form.
fn validate_domain(domain: &str) -> Result<String, ValidationError> {
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        return Err(ValidationError::EmailBadDomain);
    }
    for label in &labels {
        let well_formed = !label.is_empty()
            && label.chars().count() <= 63
            && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !well_formed {
            return Err(ValidationError::EmailBadDomain);
        }
    }
    let tld = labels[labels.len() - 1];
    if tld.chars().count() < 2 || tld.chars().all(|c| c.is_ascii_digit()) {
        return Err(ValidationError::EmailBadDomain);
    }
    let ascii = idna::domain_to_ascii(domain).map_err(|_| ValidationError::EmailBadDomain)?;
    if ascii.is_empty() || ascii.len() > 253 {
        return Err(ValidationError::EmailBadDomain);
    }
    Ok(ascii)
}

// ---------------------------------------------------------------------------------------
// Names

/// One part of a person's name (surname, given name or patronymic), as it will be printed
/// on the qualification document: Cyrillic letters (ё included), hyphens, apostrophes and
/// single spaces; Latin only when the whole part is Latin. Case is normalized
/// (`иванова-петрова` → `Иванова-Петрова`) unless the learner deliberately capitalized
/// inside a word (`МакДональд`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct NamePart(String);
string_newtype!(NamePart);

/// Particles of Turkic patronymics that stay lowercase: «Гусейн оглы», «Алиевна кызы».
const LOWERCASE_PARTICLES: [&str; 5] = ["оглы", "кызы", "улы", "уулу", "кизи"];

/// Words a learner types to say there is no patronymic.
const NO_PATRONYMIC: [&str; 9] = [
    "",
    "-",
    "нет",
    "не имею",
    "отсутствует",
    "без отчества",
    "нет отчества",
    "no",
    "none",
];

fn is_cyrillic_letter(c: char) -> bool {
    matches!(c, 'А'..='я' | 'Ё' | 'ё')
}

impl NamePart {
    pub const MAX_LEN: usize = 60;

    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        let unified: String = input
            .chars()
            .map(|c| match c {
                '\u{2019}' | '\u{02BC}' | '\u{2018}' | '`' | '\u{00B4}' => '\'',
                c if is_dash(c) => '-',
                c => c,
            })
            .collect();
        let text = collapse_whitespace(&unified)
            .replace(" -", "-")
            .replace("- ", "-");
        if text.is_empty() {
            return Err(ValidationError::NameEmpty);
        }
        if text.chars().count() > Self::MAX_LEN {
            return Err(ValidationError::NameTooLong { max: Self::MAX_LEN });
        }
        if let Some(character) = text
            .chars()
            .find(|&c| !(is_cyrillic_letter(c) || c.is_ascii_alphabetic() || " -'".contains(c)))
        {
            return Err(ValidationError::NameInvalidCharacter { character });
        }
        let has_cyrillic = text.chars().any(is_cyrillic_letter);
        let has_latin = text.chars().any(|c| c.is_ascii_alphabetic());
        if has_cyrillic && has_latin {
            return Err(ValidationError::NameMixedAlphabets);
        }
        let words: Vec<&str> = text.split([' ', '-']).collect();
        let well_punctuated = words.iter().all(|word| {
            !word.is_empty()
                && !word.starts_with('\'')
                && !word.ends_with('\'')
                && !word.contains("''")
        });
        if !well_punctuated {
            return Err(ValidationError::NameBadPunctuation);
        }
        Ok(Self(normalize_name_case(&text)))
    }

    /// A patronymic: `None` when the learner says there is none ("нет", "-", empty).
    pub fn parse_patronymic(input: &str) -> Result<Option<Self>, ValidationError> {
        let folded = collapse_whitespace(input).to_lowercase();
        let folded = folded.trim_end_matches('.');
        if NO_PATRONYMIC.contains(&folded) || folded.chars().all(is_dash) {
            return Ok(None);
        }
        Self::parse(input).map(Some)
    }
}

fn normalize_name_case(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let mut word_index = 0;
    for c in text.chars().chain(std::iter::once('\0')) {
        if c == ' ' || c == '-' || c == '\0' {
            out.push_str(&normalize_word_case(&word, word_index));
            word.clear();
            word_index += 1;
            if c != '\0' {
                out.push(c);
            }
        } else {
            word.push(c);
        }
    }
    out
}

fn normalize_word_case(word: &str, index: usize) -> String {
    let lower = word.to_lowercase();
    if index > 0 && LOWERCASE_PARTICLES.contains(&lower.as_str()) {
        return lower;
    }
    let letters: Vec<char> = word.chars().filter(|c| c.is_alphabetic()).collect();
    let all_lower = letters.iter().all(|c| c.is_lowercase());
    let all_upper = letters.iter().all(|c| c.is_uppercase());
    let first_upper = letters.first().is_some_and(|c| c.is_uppercase());
    if !all_lower && !all_upper && first_upper {
        return word.to_string(); // deliberate inner capital: «МакДональд», «ДиКаприо»
    }
    let mut chars = lower.chars();
    let mut titled: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    };
    // «д'Артаньян», «O'Connor»: a one-letter prefix before the apostrophe.
    if let Some((prefix, rest)) = titled.split_once('\'') {
        if prefix.chars().count() == 1 {
            let mut rest_chars = rest.chars();
            if let Some(first) = rest_chars.next() {
                titled = format!(
                    "{prefix}'{}",
                    first.to_uppercase().chain(rest_chars).collect::<String>()
                );
            }
        }
    }
    titled
}

/// A person's full name as the qualification document prints it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FullName {
    pub surname: NamePart,
    pub name: NamePart,
    pub patronymic: Option<NamePart>,
}

impl FullName {
    /// "Фамилия Имя Отчество" (or "Фамилия Имя").
    pub fn display(&self) -> String {
        match &self.patronymic {
            Some(p) => format!("{} {} {}", self.surname, self.name, p),
            None => format!("{} {}", self.surname, self.name),
        }
    }

    /// A full name typed on one line, "Фамилия Имя Отчество" or "Фамилия Имя": the form a
    /// learner uses to correct the spelling on the document sample. A part with a space
    /// inside («Гусейн оглы») can only be entered part by part.
    pub fn parse_line(input: &str) -> Result<Self, ValidationError> {
        let text = collapse_whitespace(input)
            .replace(" -", "-")
            .replace("- ", "-");
        let words: Vec<&str> = text.split(' ').filter(|w| !w.is_empty()).collect();
        match words.as_slice() {
            [surname, name] => Ok(Self {
                surname: NamePart::parse(surname)?,
                name: NamePart::parse(name)?,
                patronymic: None,
            }),
            [surname, name, patronymic] => Ok(Self {
                surname: NamePart::parse(surname)?,
                name: NamePart::parse(name)?,
                patronymic: NamePart::parse_patronymic(patronymic)?,
            }),
            [] => Err(ValidationError::NameEmpty),
            other => Err(ValidationError::FullNameWordCount { found: other.len() }),
        }
    }
}

impl fmt::Display for FullName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display())
    }
}

// ---------------------------------------------------------------------------------------
// SNILS

/// A SNILS (insurance number of the individual personal account), 11 digits, stored bare
/// and shown as `112-233-445 95`. Its check number follows the Pension Fund rule.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Snils(String);

impl Snils {
    /// Numbers up to 001-001-998 were issued before the check number existed.
    const LAST_UNCHECKED: u64 = 1_001_998;

    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        let mut digits = String::with_capacity(11);
        for c in input.trim().chars() {
            if c.is_ascii_digit() {
                digits.push(c);
            } else if !(c.is_whitespace() || is_dash(c)) {
                return Err(ValidationError::SnilsInvalidCharacter { character: c });
            }
        }
        if digits.is_empty() {
            return Err(ValidationError::SnilsEmpty);
        }
        if digits.len() != 11 {
            return Err(ValidationError::SnilsWrongLength {
                found: digits.len(),
            });
        }
        let number: u64 = digits[..9].parse().expect("nine ASCII digits");
        if number == 0 {
            return Err(ValidationError::SnilsPlaceholder);
        }
        let stated: u32 = digits[9..].parse().expect("two ASCII digits");
        if number > Self::LAST_UNCHECKED && stated != Self::check_number(&digits[..9]) {
            return Err(ValidationError::SnilsChecksum);
        }
        Ok(Self(digits))
    }

    /// The check number of the 9-digit number: Σ digit × (9..1); below 100 it is the sum,
    /// 100 and 101 give 00, above 101 the sum is taken mod 101 and the rule applied again.
    pub fn check_number(nine_digits: &str) -> u32 {
        let sum: u32 = nine_digits
            .bytes()
            .zip((1..=9).rev())
            .map(|(d, weight)| u32::from(d - b'0') * weight)
            .sum();
        match sum {
            0..=99 => sum,
            100 | 101 => 0,
            _ => match sum % 101 {
                100 => 0,
                rest => rest,
            },
        }
    }

    /// The 11 digits without separators.
    pub fn digits(&self) -> &str {
        &self.0
    }

    /// `112-233-445 95`.
    pub fn formatted(&self) -> String {
        let d = &self.0;
        format!("{}-{}-{} {}", &d[..3], &d[3..6], &d[6..9], &d[9..])
    }
}

impl fmt::Display for Snils {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.formatted())
    }
}

/// Masked, so that a SNILS printed with `{:?}` into a log does not leak.
impl fmt::Debug for Snils {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Snils(***-***-{} **)", &self.0[6..9])
    }
}

impl TryFrom<String> for Snils {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Snils> for String {
    fn from(value: Snils) -> String {
        value.0
    }
}

// ---------------------------------------------------------------------------------------
// Phone

/// A phone number in E.164 form (`+79123456789`). Russian numbers are accepted in every
/// usual spelling (`8 912 345-67-89`, `+7 (912) 345-67-89`, `9123456789`); other countries
/// need their `+` code (or the Russian international prefix `8 10`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);
string_newtype!(Phone);

impl Phone {
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        let text = input.trim();
        let mut digits = String::with_capacity(16);
        let mut plus = false;
        for (i, c) in text.chars().enumerate() {
            match c {
                '0'..='9' => digits.push(c),
                '+' if i == 0 => plus = true,
                '(' | ')' | '.' => {}
                c if c.is_whitespace() || is_dash(c) => {}
                c => return Err(ValidationError::PhoneInvalidCharacter { character: c }),
            }
        }
        if digits.is_empty() {
            return Err(ValidationError::PhoneEmpty);
        }
        if !plus {
            if let Some(rest) = digits.strip_prefix("810") {
                // Dialled from Russia: 8, wait for the tone, 10, then the country code.
                if digits.len() > 11 {
                    return Self::international(rest);
                }
            }
        }
        if plus && !digits.starts_with('7') {
            return Self::international(&digits);
        }
        let national = match (plus, digits.len(), digits.as_bytes()[0]) {
            (true, 11, _) => &digits[1..],
            (true, n, _) => return Err(ValidationError::PhoneWrongLength { found: n }),
            (false, 11, b'7' | b'8') => &digits[1..],
            // "8912345678" is a mobile number with a digit lost, not an area code 891.
            (false, 10, _) if digits.starts_with("89") || digits.starts_with("79") => {
                return Err(ValidationError::PhoneWrongLength { found: 10 })
            }
            // The national number alone: "912 345-67-89", "(495) 123-45-67".
            (false, 10, _) => &digits[..],
            (false, n, _) if n >= 11 => return Err(ValidationError::PhoneNeedsCountryCode),
            (false, n, _) => return Err(ValidationError::PhoneWrongLength { found: n }),
        };
        // Russian and Kazakh area codes begin with 3, 4, 7, 8 or 9.
        let first_digit = u32::from(national.as_bytes()[0] - b'0');
        if !matches!(first_digit, 3 | 4 | 7 | 8 | 9) {
            return Err(ValidationError::PhoneUnknownRussianCode { first_digit });
        }
        Ok(Self(format!("+7{national}")))
    }

    fn international(digits: &str) -> Result<Self, ValidationError> {
        if !(8..=15).contains(&digits.len()) || digits.starts_with('0') {
            return Err(ValidationError::PhoneInternationalLength {
                found: digits.len(),
            });
        }
        if digits.starts_with('7') {
            return Self::parse(&format!("+{digits}"));
        }
        Ok(Self(format!("+{digits}")))
    }

    pub fn is_russian(&self) -> bool {
        self.0.starts_with("+7")
    }
}

// ---------------------------------------------------------------------------------------
// Birth date

/// A birth date that makes a plausible learner: not in the future, age 16 to 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BirthDate(NaiveDate);

impl BirthDate {
    pub const MIN_AGE: u32 = 16;
    pub const MAX_AGE: u32 = 100;

    /// `dd.mm.yyyy`, also `d.m.yyyy`, `dd/mm/yyyy`, `dd-mm-yyyy`, `dd mm yyyy`,
    /// `yyyy-mm-dd`, and `1 февраля 1990`; a trailing «г.» is ignored.
    pub fn parse(input: &str, today: NaiveDate) -> Result<Self, ValidationError> {
        let date = parse_date_ru(input)?;
        if date > today {
            return Err(ValidationError::BirthDateInFuture);
        }
        let age = age_on(date, today);
        if age < Self::MIN_AGE {
            return Err(ValidationError::BirthDateTooYoung {
                min_age: Self::MIN_AGE,
            });
        }
        if age > Self::MAX_AGE {
            return Err(ValidationError::BirthDateTooOld {
                max_age: Self::MAX_AGE,
            });
        }
        Ok(Self(date))
    }

    /// A date read back from the store, validated when it was entered.
    pub fn restore(date: NaiveDate) -> Self {
        Self(date)
    }

    pub fn date(&self) -> NaiveDate {
        self.0
    }

    pub fn age_on(&self, today: NaiveDate) -> u32 {
        age_on(self.0, today)
    }
}

impl fmt::Display for BirthDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%d.%m.%Y"))
    }
}

fn age_on(birth: NaiveDate, today: NaiveDate) -> u32 {
    let years = today.year() - birth.year();
    let before_birthday = (today.month(), today.day()) < (birth.month(), birth.day());
    u32::try_from(years - i32::from(before_birthday)).unwrap_or(0)
}

/// Month names as Russians write them in dates, matched by their first three letters.
#[rustfmt::skip]
const MONTH_STEMS: [&str; 12] = [
    "янв", "фев", "мар", "апр", "ма", "июн", "июл", "авг", "сен", "окт", "ноя", "дек",
];

fn month_from_word(word: &str) -> Option<u32> {
    let word = word.to_lowercase();
    if matches!(word.as_str(), "мая" | "май") {
        return Some(5);
    }
    if word.chars().count() < 3 {
        return None;
    }
    let stem: String = word.chars().take(3).collect();
    MONTH_STEMS
        .iter()
        .position(|m| m.chars().count() == 3 && *m == stem)
        .map(|i| i as u32 + 1)
}

fn parse_date_ru(input: &str) -> Result<NaiveDate, ValidationError> {
    let text = input.trim();
    if text.is_empty() {
        return Err(ValidationError::BirthDateEmpty);
    }
    let tokens: Vec<&str> = text
        .split(|c: char| c == '.' || c == '/' || c == ',' || c.is_whitespace() || is_dash(c))
        .filter(|t| !t.is_empty())
        // "1990г." and "1990 года": the year word is not part of the date.
        .map(|t| match t.as_bytes()[0] {
            b'0'..=b'9' => t.trim_end_matches(['г', 'Г']),
            _ => t,
        })
        .filter(|t| !matches!(t.to_lowercase().as_str(), "г" | "год" | "года"))
        .collect();
    let [first, second, third] = tokens.as_slice() else {
        return Err(ValidationError::BirthDateFormat);
    };
    let number = |t: &str| -> Option<u32> {
        (t.len() <= 4 && t.bytes().all(|b| b.is_ascii_digit()))
            .then(|| t.parse().ok())
            .flatten()
    };
    let (year_token, month, day) = if first.len() == 4 {
        let (Some(month), Some(day)) = (number(second), number(third)) else {
            return Err(ValidationError::BirthDateFormat);
        };
        (*first, month, day)
    } else {
        let month = number(second).or_else(|| month_from_word(second));
        let (Some(day), Some(month)) = (number(first), month) else {
            return Err(ValidationError::BirthDateFormat);
        };
        if first.len() > 2 || (second.len() > 2 && number(second).is_some()) {
            return Err(ValidationError::BirthDateFormat);
        }
        (*third, month, day)
    };
    let year = match (year_token.len(), number(year_token)) {
        (4, Some(year)) => year,
        (1 | 2, Some(_)) => return Err(ValidationError::BirthDateTwoDigitYear),
        _ => return Err(ValidationError::BirthDateFormat),
    };
    NaiveDate::from_ymd_opt(year as i32, month, day).ok_or(ValidationError::BirthDateNonexistent)
}

// ---------------------------------------------------------------------------------------
// Postal index and address

/// A Russian postal index: 6 digits, the first from 1 (Moscow) to 6 (Siberia, Far East).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PostalIndex(String);
string_newtype!(PostalIndex);

impl PostalIndex {
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        let text: String = input.chars().filter(|c| !c.is_whitespace()).collect();
        if text.is_empty() {
            return Err(ValidationError::PostalIndexEmpty);
        }
        if !text.chars().all(|c| c.is_ascii_digit()) {
            return Err(ValidationError::PostalIndexNotDigits);
        }
        if text.len() != 6 {
            return Err(ValidationError::PostalIndexWrongLength { found: text.len() });
        }
        if !matches!(text.as_bytes()[0], b'1'..=b'6') {
            return Err(ValidationError::PostalIndexNotRussian);
        }
        Ok(Self(text))
    }
}

/// A postal address for the registered letter with the document: free text that must hold
/// a 6-digit index, a locality and a street with a house number (or a village and a house).
/// Whitespace is normalized; the text is otherwise kept as the learner wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PostalAddress {
    text: String,
    index: PostalIndex,
}

#[rustfmt::skip]
const LOCALITY_MARKERS: [&str; 22] = [
    "г", "гор", "город", "пгт", "рп", "п", "пос", "посёлок", "поселок", "с", "село", "дер",
    "деревня", "ст-ца", "станица", "х", "хутор", "аул", "сл", "слобода", "нп", "снт",
];
/// Localities without streets: a house number after them is a whole address.
#[rustfmt::skip]
const VILLAGE_MARKERS: [&str; 14] = [
    "п", "пос", "посёлок", "поселок", "с", "село", "дер", "деревня", "х", "хутор", "аул", "сл",
    "слобода", "снт",
];
const FEDERAL_CITIES: [&str; 5] = ["москва", "санкт-петербург", "спб", "питер", "севастополь"];
#[rustfmt::skip]
const STREET_MARKERS: [&str; 30] = [
    "ул", "улица", "пр", "пр-т", "пр-кт", "просп", "проспект", "пер", "переулок", "ш", "шоссе",
    "б-р", "бул", "бульвар", "наб", "набережная", "пл", "площадь", "проезд", "пр-д", "мкр",
    "мкрн", "микрорайон", "туп", "тупик", "аллея", "линия", "кв-л", "квартал", "тракт",
];
/// Words that name neither a locality nor a street («д.» is a house, or a village in
/// «д. Ивановка»: it proves neither).
#[rustfmt::skip]
const OTHER_ADDRESS_WORDS: [&str; 25] = [
    "обл", "область", "край", "респ", "республика", "р-н", "район", "ао", "россия", "рф", "д",
    "дом", "кв", "квартира", "корп", "корпус", "к", "стр", "строение", "офис", "литер", "лит",
    "а", "б", "в",
];

impl PostalAddress {
    pub const MIN_LEN: usize = 15;
    pub const MAX_LEN: usize = 300;

    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        let text = normalize_address(input);
        if text.is_empty() {
            return Err(ValidationError::AddressEmpty);
        }
        let length = text.chars().count();
        if length < Self::MIN_LEN {
            return Err(ValidationError::AddressTooShort { min: Self::MIN_LEN });
        }
        if length > Self::MAX_LEN {
            return Err(ValidationError::AddressTooLong { max: Self::MAX_LEN });
        }
        let numbers = digit_runs(&text);
        let index_at = numbers
            .iter()
            .position(|run| run.len() == 6)
            .ok_or(ValidationError::AddressMissingIndex)?;
        let index = PostalIndex::parse(numbers[index_at])?;
        let has_house_number = numbers
            .iter()
            .enumerate()
            .any(|(i, run)| i != index_at && run.len() <= 5);

        let words = address_words(&text);
        let is = |list: &[&str], w: &str| list.contains(&w);
        let plain_words = words
            .iter()
            .filter(|w| {
                !is(&LOCALITY_MARKERS, w)
                    && !is(&STREET_MARKERS, w)
                    && !is(&OTHER_ADDRESS_WORDS, w)
                    && !is(&FEDERAL_CITIES, w)
            })
            .count();
        let federal_city = words.iter().any(|w| is(&FEDERAL_CITIES, w));
        let locality_marker = words.iter().any(|w| is(&LOCALITY_MARKERS, w));
        if !(locality_marker || federal_city || plain_words >= 2) {
            return Err(ValidationError::AddressMissingLocality);
        }
        let street_marker = words.iter().any(|w| is(&STREET_MARKERS, w));
        let village = words.iter().any(|w| is(&VILLAGE_MARKERS, w));
        let named_street = plain_words + usize::from(federal_city) >= 2;
        if !has_house_number || !(street_marker || named_street || village) {
            return Err(ValidationError::AddressMissingHouse);
        }
        Ok(Self { text, index })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn index(&self) -> &PostalIndex {
        &self.index
    }
}

impl fmt::Display for PostalAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl TryFrom<String> for PostalAddress {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<PostalAddress> for String {
    fn from(value: PostalAddress) -> String {
        value.text
    }
}

/// One space between words, none before a comma, one after it.
fn normalize_address(input: &str) -> String {
    let collapsed = collapse_whitespace(input);
    let mut out = String::with_capacity(collapsed.len());
    let mut chars = collapsed.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' if matches!(chars.peek(), Some(',' | ';')) => {}
            ',' | ';' => {
                out.push(c);
                // No space between two separators: «,;» stays as typed, and normalizing
                // twice changes nothing (found by the form_fields fuzz target).
                match chars.peek() {
                    Some(' ' | ',' | ';') | None => {}
                    Some(_) => out.push(' '),
                }
            }
            _ => out.push(c),
        }
    }
    out.trim_end_matches([',', ';', ' ']).to_string()
}

/// The maximal runs of ASCII digits, in order.
fn digit_runs(text: &str) -> Vec<&str> {
    text.split(|c: char| !c.is_ascii_digit())
        .filter(|run| !run.is_empty())
        .collect()
}

/// Lowercased words made of letters and inner hyphens («ст-ца», «санкт-петербург»).
fn address_words(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphabetic() || c == '-'))
        .map(|w| w.trim_matches('-').to_lowercase())
        .filter(|w| !w.is_empty())
        .collect()
}

// ---------------------------------------------------------------------------------------
// Education

/// The learner's level of education, as the enrollment application asks for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EducationLevel {
    /// Высшее образование.
    Higher,
    /// Среднее профессиональное образование.
    SecondaryProfessional,
    /// Студент вуза.
    StudentHigher,
    /// Студент колледжа, техникума (получает СПО).
    StudentCollege,
    /// Среднее общее образование (11 классов).
    SecondaryGeneral,
    /// Основное общее образование (9 классов).
    BasicGeneral,
}

impl EducationLevel {
    pub const ALL: [EducationLevel; 6] = [
        Self::Higher,
        Self::SecondaryProfessional,
        Self::StudentHigher,
        Self::StudentCollege,
        Self::SecondaryGeneral,
        Self::BasicGeneral,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::Higher => "higher",
            Self::SecondaryProfessional => "secondary_professional",
            Self::StudentHigher => "student_higher",
            Self::StudentCollege => "student_college",
            Self::SecondaryGeneral => "secondary_general",
            Self::BasicGeneral => "basic_general",
        }
    }

    /// The Fluent id of the level's name (for buttons and the application form).
    pub fn message_id(self) -> &'static str {
        match self {
            Self::Higher => "education-higher",
            Self::SecondaryProfessional => "education-secondary-professional",
            Self::StudentHigher => "education-student-higher",
            Self::StudentCollege => "education-student-college",
            Self::SecondaryGeneral => "education-secondary-general",
            Self::BasicGeneral => "education-basic-general",
        }
    }

    /// A button code, or the level as a learner writes it in a letter.
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        let text = collapse_whitespace(input).to_lowercase().replace('ё', "е");
        let text = text.trim_end_matches('.');
        if let Some(level) = Self::ALL.into_iter().find(|l| l.code() == text) {
            return Ok(level);
        }
        let level = match text {
            "высшее"
            | "высшее образование"
            | "вуз"
            | "бакалавр"
            | "бакалавриат"
            | "магистр"
            | "магистратура"
            | "специалитет" => Self::Higher,
            "среднее профессиональное"
            | "среднее профессиональное образование"
            | "спо"
            | "среднее специальное"
            | "средне-специальное"
            | "средне специальное"
            | "среднее техническое" => Self::SecondaryProfessional,
            "студент вуза" | "студентка вуза" | "студент" | "студентка" | "неоконченное высшее" => {
                Self::StudentHigher
            }
            "студент колледжа"
            | "студентка колледжа"
            | "студент техникума"
            | "студентка техникума" => Self::StudentCollege,
            "среднее общее" | "среднее общее образование" | "среднее" | "11 классов" | "школа" => {
                Self::SecondaryGeneral
            }
            "основное общее" | "основное общее образование" | "9 классов" => {
                Self::BasicGeneral
            }
            _ => return Err(ValidationError::EducationUnknown),
        };
        Ok(level)
    }

    /// 273-ФЗ ст. 76 ч. 3: additional professional programs (повышение квалификации and
    /// профессиональная переподготовка) admit people who have, or are getting, secondary
    /// professional or higher education. Professional training (ст. 73) admits everyone.
    pub fn admits(self, program: ProgramKind) -> bool {
        match program {
            ProgramKind::Qualification | ProgramKind::Retraining => matches!(
                self,
                Self::Higher
                    | Self::SecondaryProfessional
                    | Self::StudentHigher
                    | Self::StudentCollege
            ),
            ProgramKind::Vocational => true,
        }
    }

    pub fn check_admission(self, program: ProgramKind) -> Result<(), ValidationError> {
        if self.admits(program) {
            Ok(())
        } else {
            Err(ValidationError::EducationNotAdmitted {
                program: program.code(),
            })
        }
    }
}

impl fmt::Display for EducationLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}
