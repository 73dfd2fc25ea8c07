//! Validators of learner input: real-world spellings from Russian users, the precise
//! reason for each refusal, and properties over generated values.
use chrono::NaiveDate;
use proptest::prelude::*;
use uchbot::domain::catalog::ProgramKind;
use uchbot::domain::personal::{
    BirthDate, EducationLevel, Email, FullName, NamePart, Phone, PostalAddress, PostalIndex, Snils,
    ValidationError as E,
};
use uchbot::domain::tracking::{domestic_check_digit, s10_check_digit, TrackingNumber};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
}

// --- Email -------------------------------------------------------------------------------

#[test]
fn email_accepts_and_normalizes_real_inputs() {
    let cases = [
        ("ivanova@mail.ru", "ivanova@mail.ru"),
        ("  Ivanova.M@Mail.RU ", "Ivanova.M@mail.ru"),
        ("petrov_1985@yandex.ru.", "petrov_1985@yandex.ru"),
        ("mailto:teach@uchmet.org", "teach@uchmet.org"),
        ("<olga+school@gmail.com>", "olga+school@gmail.com"),
        ("info@ПОЧТА.РФ", "info@почта.рф"),
        ("a.b-c@sub.school-12.edu.ru", "a.b-c@sub.school-12.edu.ru"),
    ];
    for (input, expected) in cases {
        let email = Email::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
        assert_eq!(email.as_str(), expected, "{input:?}");
    }
}

#[test]
fn email_keeps_non_ascii_local_part_out_and_has_ascii_form_for_smtp() {
    // A local part in Cyrillic is refused, but an IDN domain is fine: SMTP gets punycode.
    let email = Email::parse("info@почта.рф").unwrap();
    assert_eq!(email.to_ascii(), "info@xn--80a1acny.xn--p1ai");
    assert_eq!(email.domain(), "почта.рф");
    assert_eq!(email.local_part(), "info");
}

#[test]
fn email_refuses_with_precise_reasons() {
    let cases = [
        ("", E::EmailEmpty),
        ("   ", E::EmailEmpty),
        ("ivanova mail.ru", E::EmailHasSpaces),
        ("ivanova @mail.ru", E::EmailHasSpaces),
        ("ivanova.mail.ru", E::EmailMissingAt),
        ("ivanova@@mail.ru", E::EmailSeveralAt),
        ("a@b@mail.ru", E::EmailSeveralAt),
        ("иванова@mail.ru", E::EmailLocalPartNotLatin),
        // Fully Cyrillic addresses need SMTPUTF8, which most mail servers lack.
        ("директор@почта.рф", E::EmailLocalPartNotLatin),
        // "sаsha" with a Cyrillic "а" typed on a Russian layout
        ("s\u{430}sha@mail.ru", E::EmailLocalPartNotLatin),
        ("@mail.ru", E::EmailBadLocalPart),
        ("ivan..ova@mail.ru", E::EmailBadLocalPart),
        (".ivanova@mail.ru", E::EmailBadLocalPart),
        ("ivanova@mail", E::EmailBadDomain),
        ("ivanova@mail,ru", E::EmailBadDomain),
        ("ivanova@mail..ru", E::EmailBadDomain),
        ("ivanova@-mail.ru", E::EmailBadDomain),
        ("ivanova@mail.r", E::EmailBadDomain),
        ("ivanova@192.168.0.1", E::EmailBadDomain),
        ("ivanova@", E::EmailBadDomain),
    ];
    for (input, expected) in cases {
        assert_eq!(Email::parse(input), Err(expected), "{input:?}");
    }
    let long_local = format!("{}@mail.ru", "a".repeat(65));
    assert_eq!(Email::parse(&long_local), Err(E::EmailBadLocalPart));
    let long = format!(
        "{}@{}.ru",
        "a".repeat(64),
        vec!["b".repeat(60); 4].join(".")
    );
    assert_eq!(Email::parse(&long), Err(E::EmailTooLong { max: 254 }));
}

// --- Names -------------------------------------------------------------------------------

#[test]
fn names_are_normalized_as_printed_on_documents() {
    let cases = [
        ("иванова", "Иванова"),
        ("ИВАНОВА", "Иванова"),
        ("иВАНОВА", "Иванова"),
        ("  иванова-петрова ", "Иванова-Петрова"),
        ("Иванова - Петрова", "Иванова-Петрова"),
        ("иванова–петрова", "Иванова-Петрова"),
        ("Артём", "Артём"),
        ("ёлкин", "Ёлкин"),
        ("анна  мария", "Анна Мария"),
        ("МакДональд", "МакДональд"),
        ("д’артаньян", "Д'Артаньян"),
        ("o'connor", "O'Connor"),
        ("smith", "Smith"),
        ("Ли", "Ли"),
        ("Ю", "Ю"),
    ];
    for (input, expected) in cases {
        let name = NamePart::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
        assert_eq!(name.as_str(), expected, "{input:?}");
    }
}

#[test]
fn names_refuse_with_precise_reasons() {
    let cases = [
        ("", E::NameEmpty),
        ("  ", E::NameEmpty),
        ("Иванова2", E::NameInvalidCharacter { character: '2' }),
        ("Иванова.", E::NameInvalidCharacter { character: '.' }),
        ("Ivanова", E::NameMixedAlphabets),
        ("-Иванова", E::NameBadPunctuation),
        ("Иванова-", E::NameBadPunctuation),
        ("Иванова--Петрова", E::NameBadPunctuation),
        ("'Иванова", E::NameBadPunctuation),
        ("Иван''ова", E::NameBadPunctuation),
    ];
    for (input, expected) in cases {
        assert_eq!(NamePart::parse(input), Err(expected), "{input:?}");
    }
    assert_eq!(
        NamePart::parse(&"а".repeat(61)),
        Err(E::NameTooLong { max: 60 })
    );
}

#[test]
fn patronymic_may_be_absent() {
    for none in ["", "нет", "Нет.", "-", "—", "отсутствует", "Без отчества"]
    {
        assert_eq!(NamePart::parse_patronymic(none), Ok(None), "{none:?}");
    }
    assert_eq!(
        NamePart::parse_patronymic("петровна")
            .unwrap()
            .unwrap()
            .as_str(),
        "Петровна"
    );
    // Turkic patronymics keep their particle lowercase.
    assert_eq!(
        NamePart::parse_patronymic("гусейн оглы")
            .unwrap()
            .unwrap()
            .as_str(),
        "Гусейн оглы"
    );
}

#[test]
fn full_name_displays_in_document_order() {
    let name = FullName {
        surname: NamePart::parse("иванова-петрова").unwrap(),
        name: NamePart::parse("мария").unwrap(),
        patronymic: NamePart::parse_patronymic("сергеевна").unwrap(),
    };
    assert_eq!(name.display(), "Иванова-Петрова Мария Сергеевна");
    let no_patronymic = FullName::parse_line("smith john").unwrap();
    assert_eq!(no_patronymic.display(), "Smith John");
    let from_line = FullName::parse_line("  ИВАНОВА мария  сергеевна ").unwrap();
    assert_eq!(from_line, name_with("Иванова", "Мария", Some("Сергеевна")));
    assert_eq!(
        FullName::parse_line("Иванова"),
        Err(E::FullNameWordCount { found: 1 })
    );
    assert_eq!(
        FullName::parse_line("Иванова Мария Сергеевна Петровна"),
        Err(E::FullNameWordCount { found: 4 })
    );
}

fn name_with(surname: &str, name: &str, patronymic: Option<&str>) -> FullName {
    FullName {
        surname: NamePart::parse(surname).unwrap(),
        name: NamePart::parse(name).unwrap(),
        patronymic: patronymic.map(|p| NamePart::parse(p).unwrap()),
    }
}

// --- SNILS -------------------------------------------------------------------------------

#[test]
fn snils_accepts_usual_spellings() {
    for input in [
        "112-233-445 95",
        "11223344595",
        "112 233 445 95",
        "112-233-445-95",
        " 112–233–445 95 ",
        "112\u{a0}233\u{a0}445\u{a0}95",
    ] {
        let snils = Snils::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
        assert_eq!(snils.to_string(), "112-233-445 95");
        assert_eq!(snils.digits(), "11223344595");
    }
}

#[test]
fn snils_check_number_follows_the_pension_fund_rule() {
    assert_eq!(Snils::check_number("112233445"), 95);
    let sum = |d: &str| -> u32 {
        d.bytes()
            .zip((1..=9).rev())
            .map(|(b, w)| u32::from(b - b'0') * w)
            .sum()
    };
    // Below 100 the sum itself.
    assert_eq!(sum("000000910"), 29);
    assert_eq!(Snils::check_number("000000910"), 29);
    // Exactly 100 and 101 give 00.
    assert_eq!(sum("920000003"), 100);
    assert_eq!(Snils::check_number("920000003"), 0);
    assert_eq!(sum("920000004"), 101);
    assert_eq!(Snils::check_number("920000004"), 0);
    // Above 101: mod 101, then the same rule (405 → 1; 201 → 100 → 00; 202 → 0; 203 → 1).
    assert_eq!(sum("999999999"), 405);
    assert_eq!(Snils::check_number("999999999"), 1);
    for (digits, expected_sum, check) in [
        ("106897449", 201, 0),
        ("105978845", 202, 0),
        ("115988461", 203, 1),
    ] {
        assert_eq!(sum(digits), expected_sum, "{digits}");
        assert_eq!(Snils::check_number(digits), check, "{digits}");
    }
    assert!(Snils::parse("106-897-449 00").is_ok());
    assert_eq!(Snils::parse("106-897-449 99"), Err(E::SnilsChecksum));
    // Numbers up to 001-001-998 have no check number.
    assert!(Snils::parse("001-001-998 42").is_ok());
    assert_eq!(Snils::parse("001-001-999 42"), Err(E::SnilsChecksum));
}

#[test]
fn snils_refuses_with_precise_reasons() {
    let cases = [
        ("", E::SnilsEmpty),
        ("  -  ", E::SnilsEmpty),
        ("112-233-445 9", E::SnilsWrongLength { found: 10 }),
        ("112-233-445 955", E::SnilsWrongLength { found: 12 }),
        ("112-233-445 96", E::SnilsChecksum),
        (
            "112/233/445 95",
            E::SnilsInvalidCharacter { character: '/' },
        ),
        (
            "СНИЛС 112-233-445 95",
            E::SnilsInvalidCharacter { character: 'С' },
        ),
        ("000-000-000 00", E::SnilsPlaceholder),
    ];
    for (input, expected) in cases {
        assert_eq!(Snils::parse(input), Err(expected), "{input:?}");
    }
}

#[test]
fn snils_debug_output_does_not_leak_the_number() {
    let snils = Snils::parse("112-233-445 95").unwrap();
    let debug = format!("{snils:?}");
    assert!(!debug.contains("112"), "{debug}");
    assert!(!debug.contains("95"), "{debug}");
}

// --- Phone -------------------------------------------------------------------------------

#[test]
fn phone_accepts_russian_spellings() {
    for input in [
        "+7 (912) 345-67-89",
        "89123456789",
        "8 912 345 67 89",
        "8-912-345-67-89",
        "+79123456789",
        "79123456789",
        "912 345-67-89",
        "8(912)3456789",
        "+7 912 345–67–89",
    ] {
        let phone = Phone::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
        assert_eq!(phone.as_str(), "+79123456789", "{input:?}");
        assert!(phone.is_russian());
    }
    assert_eq!(
        Phone::parse("8 (495) 123-45-67").unwrap().as_str(),
        "+74951234567"
    );
    assert_eq!(
        Phone::parse("(495) 123-45-67").unwrap().as_str(),
        "+74951234567"
    );
    assert_eq!(
        Phone::parse("8 800 555-35-35").unwrap().as_str(),
        "+78005553535"
    );
}

#[test]
fn phone_accepts_other_countries_in_e164() {
    let cases = [
        ("+375 29 123-45-67", "+375291234567"),
        ("+998 90 123 45 67", "+998901234567"),
        ("+49 30 1234567", "+49301234567"),
        ("8 10 375 29 123 45 67", "+375291234567"),
        // Kazakhstan shares +7.
        ("+7 701 234 56 78", "+77012345678"),
    ];
    for (input, expected) in cases {
        let phone = Phone::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
        assert_eq!(phone.as_str(), expected, "{input:?}");
    }
}

#[test]
fn phone_refuses_with_precise_reasons() {
    let cases = [
        ("", E::PhoneEmpty),
        ("()", E::PhoneEmpty),
        ("8 912 345 67 8", E::PhoneWrongLength { found: 10 }),
        ("+7 912 345 67 8", E::PhoneWrongLength { found: 10 }),
        ("345-67-89", E::PhoneWrongLength { found: 7 }),
        (
            "+7 (112) 345-67-89",
            E::PhoneUnknownRussianCode { first_digit: 1 },
        ),
        (
            "8 (212) 345-67-89",
            E::PhoneUnknownRussianCode { first_digit: 2 },
        ),
        ("375291234567", E::PhoneNeedsCountryCode),
        ("+375 29", E::PhoneInternationalLength { found: 5 }),
        (
            "+1234567890123456",
            E::PhoneInternationalLength { found: 16 },
        ),
        ("+7 912 abc", E::PhoneInvalidCharacter { character: 'a' }),
        (
            "89123456789 доб. 12",
            E::PhoneInvalidCharacter { character: 'д' },
        ),
        ("8+9123456789", E::PhoneInvalidCharacter { character: '+' }),
    ];
    for (input, expected) in cases {
        assert_eq!(Phone::parse(input), Err(expected), "{input:?}");
    }
}

// --- Birth date --------------------------------------------------------------------------

#[test]
fn birth_date_accepts_usual_spellings() {
    let expected = NaiveDate::from_ymd_opt(1985, 3, 7).unwrap();
    for input in [
        "07.03.1985",
        "7.3.1985",
        "07/03/1985",
        "07-03-1985",
        "07 03 1985",
        "1985-03-07",
        "7 марта 1985",
        "7 март 1985 г.",
        "07.03.1985г.",
        "07.03.1985 года",
        " 07.03.1985 ",
    ] {
        let date = BirthDate::parse(input, today()).unwrap_or_else(|e| panic!("{input:?}: {e}"));
        assert_eq!(date.date(), expected, "{input:?}");
        assert_eq!(date.to_string(), "07.03.1985");
    }
    assert_eq!(
        BirthDate::parse("1 мая 1990", today()).unwrap().to_string(),
        "01.05.1990"
    );
}

#[test]
fn birth_date_refuses_with_distinct_reasons() {
    let cases = [
        ("", E::BirthDateEmpty),
        ("седьмое марта", E::BirthDateFormat),
        ("07.03", E::BirthDateFormat),
        ("07031985", E::BirthDateFormat),
        ("07.03.85", E::BirthDateTwoDigitYear),
        ("31.02.1990", E::BirthDateNonexistent),
        ("29.02.2001", E::BirthDateNonexistent),
        ("01.13.1990", E::BirthDateNonexistent),
        ("26.11.2026", E::BirthDateInFuture),
        ("01.01.2030", E::BirthDateInFuture),
        ("26.11.2010", E::BirthDateTooYoung { min_age: 16 }),
        ("01.01.2015", E::BirthDateTooYoung { min_age: 16 }),
        ("24.11.1925", E::BirthDateTooOld { max_age: 100 }),
    ];
    for (input, expected) in cases {
        assert_eq!(BirthDate::parse(input, today()), Err(expected), "{input:?}");
    }
}

#[test]
fn birth_date_age_boundaries_are_exact() {
    // Sixteen today: accepted; sixteen tomorrow: not yet.
    assert!(BirthDate::parse("25.11.2010", today()).is_ok());
    assert_eq!(
        BirthDate::parse("26.11.2010", today()),
        Err(E::BirthDateTooYoung { min_age: 16 })
    );
    // A hundred until the 101st birthday.
    assert!(BirthDate::parse("26.11.1925", today()).is_ok());
    assert!(BirthDate::parse("25.11.1926", today()).is_ok());
    assert_eq!(
        BirthDate::parse("25.11.1925", today()),
        Err(E::BirthDateTooOld { max_age: 100 })
    );
    // Born on 29 February: on 28 February of a common year the birthday has not come.
    let born = BirthDate::parse("29.02.2008", NaiveDate::from_ymd_opt(2025, 3, 1).unwrap());
    assert_eq!(
        born.unwrap()
            .age_on(NaiveDate::from_ymd_opt(2025, 2, 28).unwrap()),
        16
    );
}

// --- Postal ------------------------------------------------------------------------------

#[test]
fn postal_index_rules() {
    assert_eq!(PostalIndex::parse("101000").unwrap().as_str(), "101000");
    assert_eq!(PostalIndex::parse(" 690 091 ").unwrap().as_str(), "690091");
    assert_eq!(PostalIndex::parse(""), Err(E::PostalIndexEmpty));
    assert_eq!(
        PostalIndex::parse("12345"),
        Err(E::PostalIndexWrongLength { found: 5 })
    );
    assert_eq!(PostalIndex::parse("1234S6"), Err(E::PostalIndexNotDigits));
    assert_eq!(PostalIndex::parse("012345"), Err(E::PostalIndexNotRussian));
    assert_eq!(PostalIndex::parse("712345"), Err(E::PostalIndexNotRussian));
}

#[test]
fn postal_address_accepts_real_addresses_and_extracts_the_index() {
    let cases = [
        (
            "123456, г. Москва, ул. Ленина, д. 1, кв. 2",
            "123456, г. Москва, ул. Ленина, д. 1, кв. 2",
            "123456",
        ),
        (
            "  420111 ,  г.Казань,ул.Баумана,  д.5 ",
            "420111, г.Казань, ул.Баумана, д.5",
            "420111",
        ),
        (
            "420111 Казань Баумана 5",
            "420111 Казань Баумана 5",
            "420111",
        ),
        (
            "Москва, Тверская улица, 7, кв. 15, 125009",
            "Москва, Тверская улица, 7, кв. 15, 125009",
            "125009",
        ),
        (
            "Саратовская обл., Энгельсский р-н, с. Безымянное, ул. Мира, д. 7, 413151",
            "Саратовская обл., Энгельсский р-н, с. Безымянное, ул. Мира, д. 7, 413151",
            "413151",
        ),
        (
            "413151, Саратовская область, с. Безымянное, 7",
            "413151, Саратовская область, с. Безымянное, 7",
            "413151",
        ),
        (
            "690091 Владивосток, Светланская 12а-34",
            "690091 Владивосток, Светланская 12а-34",
            "690091",
        ),
    ];
    for (input, normalized, index) in cases {
        let address = PostalAddress::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
        assert_eq!(address.as_str(), normalized, "{input:?}");
        assert_eq!(address.index().as_str(), index, "{input:?}");
    }
}

#[test]
fn postal_address_refuses_with_precise_reasons() {
    let cases = [
        ("", E::AddressEmpty),
        ("Москва", E::AddressTooShort { min: 15 }),
        ("г. Москва, ул. Ленина, д. 1", E::AddressMissingIndex),
        ("12345, г. Москва, ул. Ленина, д. 1", E::AddressMissingIndex),
        (
            "023456, г. Москва, ул. Ленина, д. 1",
            E::PostalIndexNotRussian,
        ),
        ("123456, ул. Ленина, д. 1, кв. 5", E::AddressMissingLocality),
        ("123456, г. Москва, ул. Ленина", E::AddressMissingHouse),
        ("123456, г. Казань, дом 5 корпус 2", E::AddressMissingHouse),
        ("123456, г. Казань, 5", E::AddressMissingHouse),
    ];
    for (input, expected) in cases {
        assert_eq!(PostalAddress::parse(input), Err(expected), "{input:?}");
    }
    let long = format!("123456, г. Москва, ул. {}, д. 1", "Ленина".repeat(60));
    assert_eq!(
        PostalAddress::parse(&long),
        Err(E::AddressTooLong { max: 300 })
    );
}

// --- Education ---------------------------------------------------------------------------

#[test]
fn education_admission_follows_273_fz_article_76() {
    use EducationLevel::*;
    for level in [Higher, SecondaryProfessional, StudentHigher, StudentCollege] {
        assert!(level.admits(ProgramKind::Qualification), "{level}");
        assert!(level.admits(ProgramKind::Retraining), "{level}");
    }
    for level in [SecondaryGeneral, BasicGeneral] {
        assert!(!level.admits(ProgramKind::Qualification), "{level}");
        assert_eq!(
            level.check_admission(ProgramKind::Retraining),
            Err(E::EducationNotAdmitted {
                program: "retraining"
            })
        );
    }
    for level in EducationLevel::ALL {
        assert!(level.admits(ProgramKind::Vocational), "{level}");
        assert_eq!(EducationLevel::parse(level.code()), Ok(level));
    }
}

#[test]
fn education_parses_what_learners_write() {
    let cases = [
        ("Высшее", EducationLevel::Higher),
        ("высшее образование.", EducationLevel::Higher),
        ("магистр", EducationLevel::Higher),
        (
            "Среднее профессиональное",
            EducationLevel::SecondaryProfessional,
        ),
        ("средне-специальное", EducationLevel::SecondaryProfessional),
        ("СПО", EducationLevel::SecondaryProfessional),
        ("студентка вуза", EducationLevel::StudentHigher),
        ("Студент колледжа", EducationLevel::StudentCollege),
        ("11 классов", EducationLevel::SecondaryGeneral),
        ("основное общее", EducationLevel::BasicGeneral),
    ];
    for (input, expected) in cases {
        assert_eq!(EducationLevel::parse(input), Ok(expected), "{input:?}");
    }
    assert_eq!(EducationLevel::parse("не помню"), Err(E::EducationUnknown));
}

// --- Tracking numbers --------------------------------------------------------------------

#[test]
fn tracking_numbers_from_real_letters_are_accepted() {
    // Real domestic barcodes quoted in public code; they verify the check-digit rule.
    for barcode in ["14084006734100", "10204289519872", "80110885894666"] {
        let number = TrackingNumber::parse(barcode).unwrap_or_else(|e| panic!("{barcode}: {e}"));
        assert!(number.is_domestic());
        assert_eq!(
            number.tracking_url(),
            format!("https://www.pochta.ru/tracking#{barcode}")
        );
    }
    let spaced = TrackingNumber::parse(" 140840 06 73410 0 ").unwrap();
    assert_eq!(spaced.as_str(), "14084006734100");
    // S10: serial 12345678 → check digit 5 (weights 8 6 4 2 3 5 9 7, 11 − 204 mod 11).
    let s10 = TrackingNumber::parse("ra 123 456 785 ru").unwrap();
    assert_eq!(s10.as_str(), "RA123456785RU");
    assert!(!s10.is_domestic());
    assert_eq!(
        s10.tracking_url(),
        "https://www.pochta.ru/tracking#RA123456785RU"
    );
}

#[test]
fn tracking_numbers_refuse_with_precise_reasons() {
    let cases = [
        ("", E::TrackingEmpty),
        ("1408400673410", E::TrackingBadShape),
        ("140840067341", E::TrackingWrongLength { found: 12 }),
        ("140840067341001", E::TrackingWrongLength { found: 15 }),
        ("14084006734101", E::TrackingChecksum),
        // The usual shape example: its check digit is wrong (should be 5).
        ("RA123456789RU", E::TrackingChecksum),
        ("R1123456785RU", E::TrackingBadShape),
        ("РА123456785RU", E::TrackingBadShape),
        ("RA12345678ERU", E::TrackingBadShape),
    ];
    for (input, expected) in cases {
        assert_eq!(TrackingNumber::parse(input), Err(expected), "{input:?}");
    }
}

#[test]
fn s10_check_digit_special_cases() {
    // 11 − r: r = 1 gives 10 → 0; r = 0 gives 11 → 5.
    let serial_for = |target_r: u32| -> Vec<u8> {
        (0..100_000_000u32)
            .map(|n| format!("{n:08}").into_bytes())
            .find(|d| {
                let sum: u32 = d
                    .iter()
                    .zip([8, 6, 4, 2, 3, 5, 9, 7])
                    .map(|(b, w)| u32::from(b - b'0') * w)
                    .sum();
                sum % 11 == target_r
            })
            .unwrap()
    };
    assert_eq!(s10_check_digit(&serial_for(1)), 0);
    assert_eq!(s10_check_digit(&serial_for(0)), 5);
    assert_eq!(s10_check_digit(b"12345678"), 5);
}

// --- Error messages ----------------------------------------------------------------------

/// Fails to compile when a variant is added without a place in `every_error`.
fn listed_in_every_error(error: &E) {
    match error {
        E::EmailEmpty
        | E::EmailHasSpaces
        | E::EmailMissingAt
        | E::EmailSeveralAt
        | E::EmailLocalPartNotLatin
        | E::EmailBadLocalPart
        | E::EmailBadDomain
        | E::EmailTooLong { .. }
        | E::NameEmpty
        | E::NameTooLong { .. }
        | E::NameInvalidCharacter { .. }
        | E::NameMixedAlphabets
        | E::NameBadPunctuation
        | E::FullNameWordCount { .. }
        | E::SnilsEmpty
        | E::SnilsInvalidCharacter { .. }
        | E::SnilsWrongLength { .. }
        | E::SnilsChecksum
        | E::SnilsPlaceholder
        | E::PhoneEmpty
        | E::PhoneInvalidCharacter { .. }
        | E::PhoneWrongLength { .. }
        | E::PhoneUnknownRussianCode { .. }
        | E::PhoneNeedsCountryCode
        | E::PhoneInternationalLength { .. }
        | E::BirthDateEmpty
        | E::BirthDateFormat
        | E::BirthDateTwoDigitYear
        | E::BirthDateNonexistent
        | E::BirthDateInFuture
        | E::BirthDateTooYoung { .. }
        | E::BirthDateTooOld { .. }
        | E::PostalIndexEmpty
        | E::PostalIndexNotDigits
        | E::PostalIndexWrongLength { .. }
        | E::PostalIndexNotRussian
        | E::AddressEmpty
        | E::AddressTooShort { .. }
        | E::AddressTooLong { .. }
        | E::AddressMissingIndex
        | E::AddressMissingLocality
        | E::AddressMissingHouse
        | E::EducationUnknown
        | E::EducationNotAdmitted { .. }
        | E::TrackingEmpty
        | E::TrackingWrongLength { .. }
        | E::TrackingBadShape
        | E::TrackingChecksum => {}
    }
}

/// One value of every variant, with realistic arguments.
fn every_error() -> Vec<E> {
    vec![
        E::EmailEmpty,
        E::EmailHasSpaces,
        E::EmailMissingAt,
        E::EmailSeveralAt,
        E::EmailLocalPartNotLatin,
        E::EmailBadLocalPart,
        E::EmailBadDomain,
        E::EmailTooLong { max: 254 },
        E::NameEmpty,
        E::NameTooLong { max: 60 },
        E::NameInvalidCharacter { character: '2' },
        E::NameMixedAlphabets,
        E::NameBadPunctuation,
        E::FullNameWordCount { found: 4 },
        E::SnilsEmpty,
        E::SnilsInvalidCharacter { character: '/' },
        E::SnilsWrongLength { found: 10 },
        E::SnilsChecksum,
        E::SnilsPlaceholder,
        E::PhoneEmpty,
        E::PhoneInvalidCharacter { character: 'a' },
        E::PhoneWrongLength { found: 10 },
        E::PhoneUnknownRussianCode { first_digit: 1 },
        E::PhoneNeedsCountryCode,
        E::PhoneInternationalLength { found: 5 },
        E::BirthDateEmpty,
        E::BirthDateFormat,
        E::BirthDateTwoDigitYear,
        E::BirthDateNonexistent,
        E::BirthDateInFuture,
        E::BirthDateTooYoung { min_age: 16 },
        E::BirthDateTooOld { max_age: 100 },
        E::PostalIndexEmpty,
        E::PostalIndexNotDigits,
        E::PostalIndexWrongLength { found: 5 },
        E::PostalIndexNotRussian,
        E::AddressEmpty,
        E::AddressTooShort { min: 15 },
        E::AddressTooLong { max: 300 },
        E::AddressMissingIndex,
        E::AddressMissingLocality,
        E::AddressMissingHouse,
        E::EducationUnknown,
        E::EducationNotAdmitted {
            program: "retraining",
        },
        E::TrackingEmpty,
        E::TrackingWrongLength { found: 12 },
        E::TrackingBadShape,
        E::TrackingChecksum,
    ]
}

#[test]
fn every_error_has_a_fluent_id_with_a_proposed_text_and_its_arguments() {
    let ftl = uchbot::texts::RU_FTL.to_owned();
    let errors = every_error();
    errors.iter().for_each(listed_in_every_error);
    // 48 variants: the match above lists them all, this list must too.
    assert_eq!(errors.len(), 48);
    let mut ids = std::collections::HashSet::new();
    for error in &errors {
        let id = error.message_id();
        assert!(ids.insert(id), "{id} is used twice");
        let entry = ftl
            .split("\n\n")
            .find(|block| block.lines().any(|l| l.starts_with(&format!("{id} ="))))
            .unwrap_or_else(|| panic!("{id} has no text in ru.ftl"));
        for (name, _) in error.args().iter() {
            assert!(
                entry.contains(&format!("${name}")),
                "{id}: the text does not use ${name}"
            );
        }
    }
    for level in EducationLevel::ALL {
        assert!(
            ftl.lines()
                .any(|l| l.starts_with(&format!("{} =", level.message_id()))),
            "{}",
            level.message_id()
        );
    }
}

#[test]
fn proposed_texts_render_with_fluent() {
    use fluent_bundle::{FluentBundle, FluentResource};
    let ftl = uchbot::texts::RU_FTL.to_owned();
    let resource = FluentResource::try_new(ftl).expect("valid Fluent syntax");
    let mut bundle = FluentBundle::new(vec![unic_langid::langid!("ru")]);
    bundle.set_use_isolating(false);
    bundle.add_resource(resource).unwrap();
    let render = |error: E| {
        let message = bundle.get_message(error.message_id()).unwrap();
        let mut problems = Vec::new();
        let text = bundle
            .format_pattern(message.value().unwrap(), Some(&error.args()), &mut problems)
            .to_string();
        assert!(problems.is_empty(), "{problems:?}");
        text
    };
    for error in every_error() {
        let text = render(error.clone());
        assert!(!text.contains('{'), "{error:?}: {text}");
        assert!(text.len() > 20, "{error:?}: {text}");
    }
    let ten = render(E::SnilsWrongLength { found: 10 });
    assert!(
        ten.starts_with("В СНИЛС 11 цифр, а здесь 10. Проверьте, пожалуйста, и пришлите ещё раз"),
        "{ten}"
    );
    // Russian plural forms: 1 знак, 2 знака, 12 знаков, 21 знак.
    for (found, words) in [
        (1, "1 знак,"),
        (2, "2 знака,"),
        (12, "12 знаков,"),
        (21, "21 знак,"),
    ] {
        let text = render(E::TrackingWrongLength { found });
        assert!(text.contains(words), "{text}");
    }
    let young = render(E::BirthDateTooYoung { min_age: 16 });
    assert!(young.contains("16 лет"), "{young}");
    let retraining = render(E::EducationNotAdmitted {
        program: "retraining",
    });
    assert!(retraining.contains("переподготовк"), "{retraining}");
}

// --- Properties --------------------------------------------------------------------------

fn snils_with_check(number: u32) -> String {
    let nine = format!("{number:09}");
    format!("{nine}{:02}", Snils::check_number(&nine))
}

const CYRILLIC_UPPER: &str = "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЭЮЯ";
const CYRILLIC_LOWER: &str = "абвгдеёжзийклмнопрстуфхцчшщъыьэюя";

fn cyrillic_word() -> impl Strategy<Value = String> {
    let upper: Vec<char> = CYRILLIC_UPPER.chars().collect();
    let lower: Vec<char> = CYRILLIC_LOWER.chars().collect();
    (
        proptest::sample::select(upper),
        proptest::collection::vec(proptest::sample::select(lower), 1..14),
    )
        .prop_map(|(first, rest)| std::iter::once(first).chain(rest).collect())
}

fn cyrillic_name() -> impl Strategy<Value = String> {
    // A second word that is a patronymic particle («оглы») is lowercased by design.
    let second = cyrillic_word().prop_filter("not a particle", |w| {
        !["оглы", "кызы", "улы", "уулу", "кизи"].contains(&w.to_lowercase().as_str())
    });
    (cyrillic_word(), proptest::option::of(second)).prop_map(|(a, b)| match b {
        Some(b) => format!("{a}-{b}"),
        None => a,
    })
}

proptest! {
    #[test]
    fn valid_snils_round_trips(number in 1_001_999u32..=999_999_999) {
        let digits = snils_with_check(number);
        let snils = Snils::parse(&digits).unwrap();
        prop_assert_eq!(snils.digits(), digits.as_str());
        prop_assert_eq!(Snils::parse(&snils.to_string()).unwrap(), snils);
    }

    #[test]
    fn any_single_digit_change_of_a_valid_snils_is_refused(
        number in 1_001_999u32..=999_999_999,
        position in 0usize..11,
        replacement in 0u8..10,
    ) {
        let digits = snils_with_check(number);
        let mut changed = digits.clone().into_bytes();
        let old = changed[position] - b'0';
        prop_assume!(old != replacement);
        changed[position] = b'0' + replacement;
        let changed = String::from_utf8(changed).unwrap();
        let changed_number: u32 = changed[..9].parse().unwrap();
        // Numbers up to 001-001-998 carry no check number by the rule itself.
        prop_assume!(changed_number > 1_001_998);
        // The rule maps both 100 and 0 (mod 101) to 00: with check number 00, moving the
        // last digit of the number by one (weight 1) cannot be detected.
        let undetectable = position == 8
            && old.abs_diff(replacement) == 1
            && &digits[9..] == "00";
        prop_assume!(!undetectable);
        prop_assert_eq!(Snils::parse(&changed), Err(E::SnilsChecksum));
    }

    #[test]
    fn names_round_trip_and_normalize_case(name in cyrillic_name()) {
        let parsed = NamePart::parse(&name).unwrap();
        prop_assert_eq!(parsed.as_str(), name.as_str());
        prop_assert_eq!(NamePart::parse(&format!("{parsed}")).unwrap(), parsed.clone());
        prop_assert_eq!(NamePart::parse(&name.to_lowercase()).unwrap(), parsed.clone());
        prop_assert_eq!(NamePart::parse(&name.to_uppercase()).unwrap(), parsed);
    }

    #[test]
    fn emails_round_trip(
        local in "[a-z0-9]{1,12}([._+-][a-z0-9]{1,8})?",
        domain in "[a-z0-9]{1,12}(-[a-z0-9]{1,6})?",
        tld in prop_oneof!["ru", "com", "org", "рф", "su"],
    ) {
        let text = format!("{local}@{domain}.{tld}");
        let email = Email::parse(&text).unwrap();
        prop_assert_eq!(email.as_str(), text.as_str());
        prop_assert_eq!(Email::parse(&format!("{email}")).unwrap(), email.clone());
        let shouted = format!("{local}@{}.{}", domain.to_uppercase(), tld.to_uppercase());
        prop_assert_eq!(Email::parse(&shouted).unwrap(), email);
    }

    #[test]
    fn russian_mobiles_in_any_spelling_become_e164(rest in "9[0-9]{9}") {
        let expected = format!("+7{rest}");
        let spellings = [
            format!("8{rest}"),
            format!("+7 ({}) {}-{}-{}", &rest[..3], &rest[3..6], &rest[6..8], &rest[8..]),
            format!("8 {} {} {} {}", &rest[..3], &rest[3..6], &rest[6..8], &rest[8..]),
            rest.clone(),
        ];
        for spelling in spellings {
            let phone = Phone::parse(&spelling).unwrap();
            prop_assert_eq!(phone.as_str(), expected.as_str());
            prop_assert_eq!(Phone::parse(&format!("{phone}")).unwrap(), phone);
        }
    }

    #[test]
    fn plausible_birth_dates_round_trip(days_back in (16 * 366i64)..(100 * 365)) {
        let date = today() - chrono::Duration::days(days_back);
        let typed = date.format("%-d.%-m.%Y").to_string();
        let parsed = BirthDate::parse(&typed, today()).unwrap();
        prop_assert_eq!(parsed.date(), date);
        prop_assert_eq!(BirthDate::parse(&parsed.to_string(), today()).unwrap(), parsed);
    }

    #[test]
    fn postal_addresses_round_trip(
        index in "[1-6][0-9]{5}",
        city in cyrillic_word(),
        street in cyrillic_word(),
        house in 1u32..300,
        flat in proptest::option::of(1u32..500),
    ) {
        let mut text = format!("{index}, г. {city}, ул. {street}, д. {house}");
        if let Some(flat) = flat {
            text.push_str(&format!(", кв. {flat}"));
        }
        let address = PostalAddress::parse(&text).unwrap();
        prop_assert_eq!(address.as_str(), text.as_str());
        prop_assert_eq!(address.index().as_str(), index.as_str());
        prop_assert_eq!(PostalAddress::parse(&address.to_string()).unwrap(), address);
    }

    #[test]
    fn domestic_tracking_numbers_round_trip_and_catch_any_single_digit_change(
        body in "[0-9]{13}",
        position in 0usize..14,
        replacement in 0u8..10,
    ) {
        let check = domestic_check_digit(body.as_bytes());
        let barcode = format!("{body}{check}");
        let number = TrackingNumber::parse(&barcode).unwrap();
        prop_assert_eq!(TrackingNumber::parse(&number.to_string()).unwrap(), number);
        let mut changed = barcode.clone().into_bytes();
        prop_assume!(changed[position] != b'0' + replacement);
        changed[position] = b'0' + replacement;
        let changed = String::from_utf8(changed).unwrap();
        prop_assert_eq!(TrackingNumber::parse(&changed), Err(E::TrackingChecksum));
    }

    #[test]
    fn s10_tracking_numbers_round_trip(
        prefix in "[A-Z]{2}",
        serial in "[0-9]{8}",
        country in "[A-Z]{2}",
    ) {
        let check = s10_check_digit(serial.as_bytes());
        let text = format!("{prefix}{serial}{check}{country}");
        let number = TrackingNumber::parse(&text.to_lowercase()).unwrap();
        prop_assert_eq!(number.as_str(), text.as_str());
        prop_assert_eq!(TrackingNumber::parse(&number.to_string()).unwrap(), number);
    }

    #[test]
    fn random_input_never_panics(input in any::<String>()) {
        let _ = Email::parse(&input);
        let _ = NamePart::parse(&input);
        let _ = NamePart::parse_patronymic(&input);
        let _ = FullName::parse_line(&input);
        let _ = Snils::parse(&input);
        let _ = Phone::parse(&input);
        let _ = BirthDate::parse(&input, today());
        let _ = PostalIndex::parse(&input);
        let _ = PostalAddress::parse(&input);
        let _ = EducationLevel::parse(&input);
        let _ = TrackingNumber::parse(&input);
    }

    #[test]
    fn input_from_a_phone_keyboard_never_panics(
        input in "[0-9а-яёА-ЯЁa-zA-Z .,:;/@+()'’«»№\u{a0}\u{2013}-]{0,60}",
    ) {
        let _ = Email::parse(&input);
        let _ = NamePart::parse(&input);
        let _ = FullName::parse_line(&input);
        let _ = Snils::parse(&input);
        let _ = Phone::parse(&input);
        let _ = BirthDate::parse(&input, today());
        let _ = PostalAddress::parse(&input);
        let _ = TrackingNumber::parse(&input);
    }
}
