//! Values no write may carry, refused before any SQL runs: a NUL character (Postgres
//! stores none in text or jsonb, so it could never apply) and a value over
//! `upload.max_value` (kept out so one huge note cannot make every request too large).

use super::apply::Rejection;
use super::request::Entry;

/// The first entry carrying a value that can never be written, and why.
pub fn refuse_values(entries: &[Entry<'_>], max_value: usize) -> Option<Rejection> {
    entries.iter().enumerate().find_map(|(index, entry)| {
        let refuse = |code: &str, message: String| Rejection {
            entry: index,
            code: code.into(),
            message,
        };
        if entry.id.contains('\0') {
            return Some(refuse("NUL_CHARACTER", "the id contains a NUL character (\\u0000), which Postgres cannot store".into()));
        }
        entry.data.iter().find_map(|(column, value)| {
            // Named only in a refusal: most values pass, and clipping allocates.
            let column_name = || super::rejections::clip(column, super::rejections::MAX_TEXT);
            if column.contains('\0') || value.has_nul() {
                return Some(refuse(
                    "NUL_CHARACTER",
                    format!("{} contains a NUL character (\\u0000), which Postgres cannot store", column_name()),
                ));
            }
            let size = value.size();
            (size > max_value).then(|| {
                refuse(
                    "VALUE_TOO_LARGE",
                    format!("{} is {size} bytes; this server accepts at most {max_value} bytes per value", column_name()),
                )
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::upload::{Op, Row};

    fn entry(data: Value) -> Entry<'static> {
        Entry {
            op_id: None,
            op: Op::Put,
            table: "notes".into(),
            id: "a".into(),
            data: Row::parse_owned(&data.to_string()).unwrap(),
            old: None,
        }
    }

    #[test]
    fn nul_anywhere_is_refused() {
        for data in [
            json!({"title": "a\u{0}b"}),
            json!({"title": ["x", {"y": "\u{0}"}]}),
            json!({"title": {"k\u{0}": 1}}),
            json!({"t\u{0}": "x"}),
        ] {
            let rejection = refuse_values(&[entry(json!({})), entry(data)], 100).unwrap();
            assert_eq!(
                (rejection.entry, rejection.code.as_str()),
                (1, "NUL_CHARACTER")
            );
        }
        let mut nul_id = entry(json!({}));
        nul_id.id = "a\u{0}".into();
        assert_eq!(refuse_values(&[nul_id], 100).unwrap().code, "NUL_CHARACTER");
    }

    #[test]
    fn values_over_the_limit_are_refused_and_at_the_limit_pass() {
        assert!(refuse_values(&[entry(json!({"body": "x".repeat(100)}))], 100).is_none());
        let over = refuse_values(&[entry(json!({"body": "é".repeat(51)}))], 100).unwrap();
        assert_eq!(over.code, "VALUE_TOO_LARGE");
        assert!(over.message.contains("102 bytes"), "{}", over.message);
        let nested = refuse_values(&[entry(json!({"tags": vec!["abcdefghij"; 10]}))], 100);
        assert_eq!(nested.unwrap().code, "VALUE_TOO_LARGE");
        assert!(refuse_values(&[entry(json!({}))], 0).is_none());
    }
}
