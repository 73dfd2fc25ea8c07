//! Properties of the validators against damaged input: a valid value with one thing wrong
//! (a changed digit or letter, a digit lost or added, a stray character) is refused with the
//! reason that names the damage. The round trips of valid values are in tests/validators.rs.
use chrono::{Datelike, NaiveDate};
use proptest::prelude::*;
use uchbot::domain::personal::{
    BirthDate, Email, NamePart, Phone, PostalIndex, Snils, ValidationError as E,
};
use uchbot::domain::tracking::{domestic_check_digit, s10_check_digit, TrackingNumber};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
}

fn snils(number: u32) -> String {
    let nine = format!("{number:09}");
    format!("{nine}{:02}", Snils::check_number(&nine))
}

fn s10(prefix: &str, serial: &str, country: &str) -> String {
    format!(
        "{prefix}{serial}{}{country}",
        s10_check_digit(serial.as_bytes())
    )
}

/// Characters a phone keyboard or a paste may slip into a number.
fn stray() -> impl Strategy<Value = char> {
    prop_oneof![
        proptest::char::range('a', 'z'),
        proptest::char::range('а', 'я'),
        Just('#'),
        Just('*'),
        Just('/'),
        Just('😀'),
        Just('_'),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn snils_with_a_digit_lost_or_added_names_the_length(
        number in 1_001_999u32..=999_999_999,
        at in 0usize..11,
        extra in 0u8..10,
    ) {
        let digits = snils(number);
        let mut short = digits.clone();
        short.remove(at);
        prop_assert_eq!(Snils::parse(&short), Err(E::SnilsWrongLength { found: 10 }));
        let mut long = digits.clone();
        long.insert(at, char::from(b'0' + extra));
        prop_assert_eq!(Snils::parse(&long), Err(E::SnilsWrongLength { found: 12 }));
    }

    #[test]
    fn snils_with_a_stray_character_names_it(
        number in 1_001_999u32..=999_999_999,
        at in 0usize..=11,
        character in stray(),
    ) {
        let mut text = snils(number);
        text.insert(at, character);
        prop_assert_eq!(Snils::parse(&text), Err(E::SnilsInvalidCharacter { character }));
    }

    #[test]
    fn s10_numbers_catch_a_changed_check_digit_always(
        prefix in "[A-Z]{2}",
        serial in "[0-9]{8}",
        country in "[A-Z]{2}",
        replacement in 0u8..10,
    ) {
        let valid = s10(&prefix, &serial, &country);
        prop_assert!(TrackingNumber::parse(&valid).is_ok());
        let mut changed = valid.clone().into_bytes();
        prop_assume!(changed[10] != b'0' + replacement);
        changed[10] = b'0' + replacement;
        let changed = String::from_utf8(changed).unwrap();
        prop_assert_eq!(TrackingNumber::parse(&changed), Err(E::TrackingChecksum));
    }

    #[test]
    fn s10_numbers_catch_a_changed_serial_digit_but_where_the_standard_cannot(
        prefix in "[A-Z]{2}",
        serial in "[0-9]{8}",
        country in "[A-Z]{2}",
        at in 0usize..8,
        replacement in 0u8..10,
    ) {
        let valid = s10(&prefix, &serial, &country);
        let mut changed = valid.clone().into_bytes();
        prop_assume!(changed[2 + at] != b'0' + replacement);
        changed[2 + at] = b'0' + replacement;
        let changed = String::from_utf8(changed).unwrap();
        match TrackingNumber::parse(&changed) {
            Err(e) => prop_assert_eq!(e, E::TrackingChecksum),
            // S10 maps both remainders 0 and 6 to the check digit 5: the only blind spot.
            Ok(_) => prop_assert_eq!(&valid[10..11], "5"),
        }
    }

    #[test]
    fn s10_numbers_with_a_digit_for_a_letter_or_a_letter_for_a_digit_are_misshapen(
        prefix in "[A-Z]{2}",
        serial in "[0-9]{8}",
        country in "[A-Z]{2}",
        letter_at in prop_oneof![0usize..2, 11usize..13],
        digit_at in 2usize..11,
        digit in 0u8..10,
        letter in "[A-Z]",
    ) {
        let valid = s10(&prefix, &serial, &country);
        let mut text = valid.clone().into_bytes();
        text[letter_at] = b'0' + digit;
        prop_assert_eq!(
            TrackingNumber::parse(std::str::from_utf8(&text).unwrap()),
            Err(E::TrackingBadShape)
        );
        let mut text = valid.into_bytes();
        text[digit_at] = letter.as_bytes()[0];
        prop_assert_eq!(
            TrackingNumber::parse(std::str::from_utf8(&text).unwrap()),
            Err(E::TrackingBadShape)
        );
    }

    #[test]
    fn tracking_numbers_of_other_lengths_name_the_length(
        body in "[0-9]{13}",
        cut in 1usize..10,
        extra in "[0-9]{1,6}",
    ) {
        let valid = format!("{body}{}", domestic_check_digit(body.as_bytes()));
        let short = &valid[..14 - cut];
        let short_len = 14 - cut;
        // 13 characters of digits only is neither shape.
        let expected = if short_len == 13 {
            E::TrackingBadShape
        } else {
            E::TrackingWrongLength { found: short_len }
        };
        prop_assert_eq!(TrackingNumber::parse(short), Err(expected));
        let long = format!("{valid}{extra}");
        prop_assert_eq!(
            TrackingNumber::parse(&long),
            Err(E::TrackingWrongLength { found: 14 + extra.len() })
        );
    }

    #[test]
    fn postal_indexes_refuse_each_kind_of_damage(
        index in "[1-6][0-9]{5}",
        at in 0usize..6,
        character in stray(),
        first in prop_oneof![Just('0'), Just('7'), Just('8'), Just('9')],
    ) {
        let parsed = PostalIndex::parse(&index).unwrap();
        prop_assert_eq!(parsed.as_str(), index.as_str());
        prop_assert_eq!(
            PostalIndex::parse(&index[..5]),
            Err(E::PostalIndexWrongLength { found: 5 })
        );
        prop_assert_eq!(
            PostalIndex::parse(&format!("{index}{}", &index[..1])),
            Err(E::PostalIndexWrongLength { found: 7 })
        );
        let mut stray_text = index.clone();
        stray_text.insert(at, character);
        prop_assert_eq!(PostalIndex::parse(&stray_text), Err(E::PostalIndexNotDigits));
        let foreign = format!("{first}{}", &index[1..]);
        prop_assert_eq!(PostalIndex::parse(&foreign), Err(E::PostalIndexNotRussian));
    }

    #[test]
    fn russian_mobiles_with_a_digit_lost_or_a_stray_character_are_refused(
        rest in "9[0-9]{9}",
        // Losing the 9 itself leaves «8 800…», a valid national number: not this case.
        at in 2usize..11,
        character in stray().prop_filter("not a separator", |c| *c != '/'),
    ) {
        let full = format!("8{rest}");
        let mut short = full.clone();
        short.remove(at);
        prop_assert_eq!(Phone::parse(&short), Err(E::PhoneWrongLength { found: 10 }));
        let mut stray_text = full.clone();
        stray_text.insert(at, character);
        prop_assert_eq!(
            Phone::parse(&stray_text),
            Err(E::PhoneInvalidCharacter { character })
        );
    }

    #[test]
    fn birth_dates_that_do_not_exist_or_are_ahead_are_refused(
        year in 1930i32..2005,
        month in 1u32..=12,
        days_ahead in 1i64..4000,
    ) {
        // The day after the month's last day.
        let first_next = if month == 12 {
            NaiveDate::from_ymd_opt(year + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(year, month + 1, 1)
        }
        .unwrap();
        let last = first_next.pred_opt().unwrap();
        let impossible = format!("{}.{:02}.{year}", last.day() + 1, month);
        prop_assert_eq!(BirthDate::parse(&impossible, today()), Err(E::BirthDateNonexistent));
        let month_13 = format!("01.13.{year}");
        prop_assert!(BirthDate::parse(&month_13, today()).is_err());
        let ahead = today() + chrono::Duration::days(days_ahead);
        let typed = ahead.format("%d.%m.%Y").to_string();
        prop_assert_eq!(BirthDate::parse(&typed, today()), Err(E::BirthDateInFuture));
    }

    #[test]
    fn names_with_a_digit_or_symbol_inside_name_it(
        name in "[А-Я][а-я]{2,12}",
        at in 1usize..3,
        character in prop_oneof![proptest::char::range('0', '9'), Just('@'), Just('😀'), Just('_')],
    ) {
        let mut text: Vec<char> = name.chars().collect();
        text.insert(at, character);
        let text: String = text.into_iter().collect();
        prop_assert_eq!(NamePart::parse(&text), Err(E::NameInvalidCharacter { character }));
    }

    #[test]
    fn emails_lose_their_at_or_gain_a_second_one(
        local in "[a-z0-9]{1,12}",
        domain in "[a-z0-9]{1,12}",
    ) {
        let valid = format!("{local}@{domain}.ru");
        prop_assert!(Email::parse(&valid).is_ok());
        prop_assert_eq!(Email::parse(&format!("{local}{domain}.ru")), Err(E::EmailMissingAt));
        prop_assert_eq!(
            Email::parse(&format!("{local}@@{domain}.ru")),
            Err(E::EmailSeveralAt)
        );
        prop_assert_eq!(
            Email::parse(&format!("{local} @{domain}.ru")),
            Err(E::EmailHasSpaces)
        );
    }
}
