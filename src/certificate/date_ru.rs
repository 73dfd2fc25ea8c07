//! Dates as Russian documents write them: «7 декабря 2026 г.».
use chrono::{Datelike, NaiveDate};

/// Month names in the genitive case, as they follow a day number.
const MONTHS_GENITIVE: [&str; 12] = [
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
];

/// «7 декабря 2026 г.»: day without a leading zero, genitive month, year and «г.».
pub fn format_date_ru(date: NaiveDate) -> String {
    let month = MONTHS_GENITIVE[date.month0() as usize];
    format!("{} {} {} г.", date.day(), month, date.year())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn day_has_no_leading_zero_and_month_is_genitive() {
        assert_eq!(format_date_ru(date(2026, 12, 7)), "7 декабря 2026 г.");
        assert_eq!(format_date_ru(date(2027, 1, 31)), "31 января 2027 г.");
        assert_eq!(format_date_ru(date(2026, 5, 1)), "1 мая 2026 г.");
        assert_eq!(format_date_ru(date(2028, 2, 29)), "29 февраля 2028 г.");
    }

    #[test]
    fn every_month_has_its_own_genitive_name() {
        let names: Vec<String> = (1..=12)
            .map(|m| format_date_ru(date(2026, m, 10)))
            .collect();
        assert_eq!(
            names,
            [
                "10 января 2026 г.",
                "10 февраля 2026 г.",
                "10 марта 2026 г.",
                "10 апреля 2026 г.",
                "10 мая 2026 г.",
                "10 июня 2026 г.",
                "10 июля 2026 г.",
                "10 августа 2026 г.",
                "10 сентября 2026 г.",
                "10 октября 2026 г.",
                "10 ноября 2026 г.",
                "10 декабря 2026 г.",
            ]
        );
    }
}
