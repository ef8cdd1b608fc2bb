//! PUT values that travel to Postgres in binary, already typed, instead of as text for
//! Postgres to parse row by row: uuids and timestamps, which are most of a note's
//! non-text columns. Only the one text form that Rust and Postgres read alike is
//! converted (a hyphenated uuid; an RFC 3339 time with an offset and at most microsecond
//! precision); when any value of a statement is in another form, the whole statement
//! sends text as before, so Postgres alone decides what such a value means (or refuses).

use std::borrow::Cow;

use chrono::{DateTime, Datelike, FixedOffset, Timelike, Utc};
use uuid::Uuid;

use super::row::Field;
use super::schema::Column;

/// A column type whose values can be sent typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Native {
    Uuid,
    Timestamptz,
}

impl Native {
    /// The kind of `column`, when its values can be sent typed.
    pub fn of(column: &Column) -> Option<Self> {
        match column.sql_type.as_str() {
            "uuid" => Some(Native::Uuid),
            "timestamp with time zone" => Some(Native::Timestamptz),
            _ => None,
        }
    }

    /// The SQL array type the column's values are bound as.
    pub fn array_type(self) -> &'static str {
        match self {
            Native::Uuid => "uuid[]",
            Native::Timestamptz => "timestamptz[]",
        }
    }
}

/// One column's values, as one array parameter.
#[derive(Debug, PartialEq)]
pub enum Values<'a> {
    Text(Vec<Option<Cow<'a, str>>>),
    Uuid(Vec<Option<Uuid>>),
    Timestamptz(Vec<Option<DateTime<Utc>>>),
}

impl Values<'_> {
    /// Binds the array as the query's next parameter.
    pub fn bind<'q>(
        self,
        query: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    ) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>
    where
        Self: 'q,
    {
        match self {
            Values::Text(values) => query.bind(values),
            Values::Uuid(values) => query.bind(values),
            Values::Timestamptz(values) => query.bind(values),
        }
    }
}

/// `values` typed as `native`: None when one of them is in a form only Postgres should read.
pub fn convert<'a>(native: Native, values: &[Option<&Field<'a>>]) -> Option<Values<'a>> {
    fn each<T>(
        values: &[Option<&Field>],
        parse: impl Fn(&str) -> Option<T>,
    ) -> Option<Vec<Option<T>>> {
        values
            .iter()
            .map(|value| match value {
                None => Some(None),
                Some(field) if field.is_null() => Some(None),
                Some(field) => parse(&field.as_str()?).map(Some),
            })
            .collect()
    }
    match native {
        Native::Uuid => each(values, uuid).map(Values::Uuid),
        Native::Timestamptz => each(values, timestamptz).map(Values::Timestamptz),
    }
}

/// A hyphenated uuid (any case): the only 36-character form, read alike by both.
fn uuid(text: &str) -> Option<Uuid> {
    (text.len() == 36).then(|| Uuid::try_parse(text).ok())?
}

/// `YYYY-MM-DDTHH:MM:SS[.ffffff](Z|±HH:MM)`, as `toISOString()` and most clients write it.
/// Left to Postgres: other separators and spellings, leap seconds, years before 1, more
/// than six fractional digits (Postgres rounds them) and offsets beyond ±14:00.
fn timestamptz(text: &str) -> Option<DateTime<Utc>> {
    let bytes = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        bytes
            .get(range)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
    };
    let shape = bytes.len() >= 20
        && digits(0..4)
        && bytes[4] == b'-'
        && digits(5..7)
        && bytes[7] == b'-'
        && digits(8..10)
        && bytes[10] == b'T'
        && digits(11..13)
        && bytes[13] == b':'
        && digits(14..16)
        && bytes[16] == b':'
        && digits(17..19);
    if !shape {
        return None;
    }
    let mut rest = &text[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let length = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if !(1..=6).contains(&length) {
            return None;
        }
        rest = &fraction[length..];
    }
    if rest != "Z"
        && !(rest.len() == 6
            && matches!(rest.as_bytes()[0], b'+' | b'-')
            && rest.as_bytes()[3] == b':')
    {
        return None;
    }
    let parsed: DateTime<FixedOffset> = DateTime::parse_from_rfc3339(text).ok()?;
    let in_range = parsed.year() >= 1
        && parsed.nanosecond() < 1_000_000_000
        && parsed.offset().local_minus_utc().abs() <= 14 * 3600;
    in_range.then(|| parsed.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upload::Row;

    fn time(text: &str) -> Option<String> {
        timestamptz(text).map(|t| t.format("%Y-%m-%d %H:%M:%S%.6f").to_string())
    }

    #[test]
    fn times_in_the_common_form_are_read_as_postgres_reads_them() {
        for (text, instant) in [
            ("2026-11-24T10:00:00Z", "2026-11-24 10:00:00.000000"),
            ("2026-11-24T10:00:00.123Z", "2026-11-24 10:00:00.123000"),
            (
                "2026-11-24T10:00:00.123456+02:00",
                "2026-11-24 08:00:00.123456",
            ),
            ("2026-11-24T00:30:00-05:30", "2026-11-24 06:00:00.000000"),
        ] {
            assert_eq!(time(text).as_deref(), Some(instant), "{text}");
        }
    }

    #[test]
    fn other_forms_are_left_to_postgres() {
        for text in [
            "2026-11-24 10:00:00Z",
            "2026-11-24t10:00:00Z",
            "2026-11-24T10:00:00z",
            "2026-11-24T10:00:00",
            "2026-11-24T10:00:00.1234567Z",
            "2026-11-24T10:00:00.Z",
            "2026-11-24T23:59:60Z",
            "2026-11-24T24:00:00Z",
            "2026-02-30T10:00:00Z",
            "0000-01-01T00:00:00Z",
            "2026-11-24T10:00:00+15:00",
            "2026-11-24T10:00:00+0200",
            "now",
            "infinity",
            "",
        ] {
            assert_eq!(time(text), None, "{text}");
        }
    }

    #[test]
    fn only_hyphenated_uuids_are_typed() {
        let id = "0b5e0c9e-6c1d-4f4e-9a53-8a6c2f0e7d11";
        assert_eq!(uuid(id), Uuid::try_parse(id).ok());
        assert_eq!(uuid(&id.to_uppercase()), Uuid::try_parse(id).ok());
        for text in [
            &id.replace('-', ""),
            &format!("{{{id}}}"),
            &format!("urn:uuid:{id}"),
            "x",
        ] {
            assert_eq!(uuid(text), None, "{text}");
        }
    }

    #[test]
    fn one_value_in_another_form_leaves_the_column_as_text() {
        let row: Row = serde_json::from_str(
            r#"{"good": "2026-11-24T10:00:00Z", "odd": "yesterday", "null": null, "one": 1}"#,
        )
        .unwrap();
        let field = |name| row.get(name);
        let (good, odd, null) = (field("good"), field("odd"), field("null"));
        let typed = convert(Native::Timestamptz, &[good, None, null]).unwrap();
        assert!(
            matches!(typed, Values::Timestamptz(ref v) if v.len() == 3 && v[1].is_none() && v[2].is_none())
        );
        assert_eq!(convert(Native::Timestamptz, &[good, odd]), None);
        assert_eq!(convert(Native::Uuid, &[field("one")]), None);
    }
}
