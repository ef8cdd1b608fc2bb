//! An entry's columns (`data`, `old`) as the client sent them, read without copying: names
//! and values stay slices of the request body, and only what a statement needs is turned
//! into text or typed values. A name or string the client escaped is unescaped (owned), and
//! so is an object sent as the text of one.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

/// A JSON object's members, sorted by name; a name given twice keeps its last value, as a
/// JSON map reads it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Row<'a> {
    members: Vec<(Cow<'a, str>, Field<'a>)>,
}

/// One value as JSON text.
#[derive(Debug, Clone)]
pub struct Field<'a>(Cow<'a, RawValue>);

impl<'a> Row<'a> {
    fn from_members(mut members: Vec<(Cow<'a, str>, Field<'a>)>) -> Self {
        // Stable: of a repeated name, the last one sent ends up last, and is kept.
        members.sort_by(|a, b| a.0.cmp(&b.0));
        let mut kept: Vec<(Cow<'a, str>, Field<'a>)> = Vec::with_capacity(members.len());
        for member in members {
            match kept.last_mut() {
                Some(last) if last.0 == member.0 => *last = member,
                _ => kept.push(member),
            }
        }
        Row { members: kept }
    }

    /// The object in `text` (some connectors send row data as the JSON text of one).
    pub fn parse_owned(text: &str) -> Result<Row<'static>, serde_json::Error> {
        let row: Row = serde_json::from_str(text)?;
        Ok(Row {
            members: row
                .members
                .into_iter()
                .map(|(name, Field(value))| {
                    (
                        Cow::Owned(name.into_owned()),
                        Field(Cow::Owned(value.into_owned())),
                    )
                })
                .collect(),
        })
    }

    fn position(&self, name: &str) -> Result<usize, usize> {
        self.members.binary_search_by(|(n, _)| (**n).cmp(name))
    }

    pub fn get(&self, name: &str) -> Option<&Field<'a>> {
        self.position(name).ok().map(|i| &self.members[i].1)
    }

    /// The text of `name` when it is a string.
    pub fn text_of(&self, name: &str) -> Option<Cow<'_, str>> {
        self.get(name)?.as_str()
    }

    pub fn contains_key(&self, name: &str) -> bool {
        self.position(name).is_ok()
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.members.iter().map(|(name, _)| &**name)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Field<'a>)> {
        self.members.iter().map(|(name, value)| (&**name, value))
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Keeps the members whose name passes `keep`.
    pub fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) {
        self.members.retain(|(name, _)| keep(name));
    }

    /// Sets `name` to the string `text`.
    pub fn set_text(&mut self, name: &str, text: &str) {
        let value = Field(Cow::Owned(
            serde_json::value::to_raw_value(text).expect("a string serializes"),
        ));
        match self.position(name) {
            Ok(i) => self.members[i].1 = value,
            Err(i) => self.members.insert(i, (Cow::Owned(name.to_owned()), value)),
        }
    }

    pub fn remove(&mut self, name: &str) {
        if let Ok(i) = self.position(name) {
            self.members.remove(i);
        }
    }

    /// The object as a JSON value.
    pub fn to_value(&self) -> Value {
        Value::Object(
            self.iter()
                .map(|(name, value)| (name.to_owned(), value.to_value()))
                .collect(),
        )
    }
}

impl Field<'_> {
    fn raw(&self) -> &str {
        self.0.get()
    }

    /// A JSON string's text: a slice of the body unless the client escaped something.
    pub fn as_str(&self) -> Option<Cow<'_, str>> {
        unquote(self.raw())
    }

    /// The value as the text Postgres parses into a column's type (what
    /// `jsonb_populate_record` hands the type's input function): a string's text, a number
    /// as sent, `true`/`false`, an array or object as compact JSON; null: None.
    pub fn text(&self) -> Option<Cow<'_, str>> {
        let raw = self.raw();
        match raw.as_bytes()[0] {
            _ if self.is_null() => None,
            b'"' => unquote(raw),
            b'[' | b'{' => Some(
                self.parsed()
                    .map_or(Cow::Borrowed(raw), |v| Cow::Owned(v.to_string())),
            ),
            _ => Some(Cow::Borrowed(raw)),
        }
    }

    /// The value as a JSON value; one holding a number no `Value` can hold (`1e400`: valid
    /// JSON, beyond a double) as its text.
    pub fn to_value(&self) -> Value {
        self.parsed()
            .unwrap_or_else(|| Value::String(self.raw().to_owned()))
    }

    pub fn is_null(&self) -> bool {
        self.raw() == "null"
    }

    fn parsed(&self) -> Option<Value> {
        serde_json::from_str(self.raw()).ok()
    }

    /// Whether a string in it holds a NUL character (only an escape can write one).
    pub fn has_nul(&self) -> bool {
        self.raw().contains("\\u0000") && self.parsed().is_some_and(|value| has_nul(&value))
    }

    /// Bytes the value takes as Postgres receives it: a string's text, an array or object
    /// as compact JSON, anything else nothing.
    pub fn size(&self) -> usize {
        match self.raw().as_bytes()[0] {
            b'"' | b'[' | b'{' => self.text().map_or(0, |text| text.len()),
            _ => 0,
        }
    }
}

impl PartialEq for Field<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.raw() == other.raw()
    }
}

fn has_nul(value: &Value) -> bool {
    match value {
        Value::String(text) => text.contains('\0'),
        Value::Array(items) => items.iter().any(has_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}

/// The text of the JSON string `raw`, borrowed when it has no escape; None when `raw` is
/// not a string.
pub fn unquote(raw: &str) -> Option<Cow<'_, str>> {
    if !raw.starts_with('"') {
        return None;
    }
    if !raw.contains('\\') {
        // Valid JSON (serde checked it): without an escape, the text between the quotes.
        return Some(Cow::Borrowed(&raw[1..raw.len() - 1]));
    }
    serde_json::from_str::<String>(raw).ok().map(Cow::Owned)
}

impl Serialize for Row<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.members.len()))?;
        for (name, value) in self.iter() {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

impl Serialize for Field<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Row<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Members<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for Members<'a> {
            type Value = Row<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Row<'a>, M::Error> {
                let mut members = Vec::with_capacity(map.size_hint().unwrap_or(8));
                while let Some((Name(name), value)) = map.next_entry::<Name, &'de RawValue>()? {
                    members.push((name, Field(Cow::Borrowed(value))));
                }
                Ok(Row::from_members(members))
            }
        }
        deserializer.deserialize_map(Members(std::marker::PhantomData))
    }
}

/// A member name: borrowed from the body unless escaped.
struct Name<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Name<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Text<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for Text<'a> {
            type Value = Name<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a name")
            }
            fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Name<'a>, E> {
                Ok(Name(Cow::Borrowed(text)))
            }
            fn visit_str<E>(self, text: &str) -> Result<Name<'a>, E> {
                Ok(Name(Cow::Owned(text.to_owned())))
            }
            fn visit_string<E>(self, text: String) -> Result<Name<'a>, E> {
                Ok(Name(Cow::Owned(text)))
            }
        }
        deserializer.deserialize_str(Text(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn row(text: &str) -> Row<'_> {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn members_are_sorted_and_the_last_of_a_repeated_name_wins() {
        let row = row(r#"{"b": 1, "a": "x", "b": 2}"#);
        assert_eq!(row.keys().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(row.get("b").unwrap().text().unwrap(), "2");
        assert_eq!(row.to_value(), json!({"a": "x", "b": 2}));
    }

    #[test]
    fn text_borrows_unless_escaped() {
        let row = row(
            r#"{"plain": "abc", "escaped": "a\"b\u00e9", "n": null, "t": true, "x": 1.50, "o": {"k": [1, 2]}}"#,
        );
        assert!(matches!(
            row.get("plain").unwrap().as_str(),
            Some(Cow::Borrowed("abc"))
        ));
        assert_eq!(row.get("escaped").unwrap().as_str().unwrap(), "a\"bé");
        assert_eq!(row.get("n").unwrap().text(), None);
        assert_eq!(row.get("t").unwrap().text().unwrap(), "true");
        assert_eq!(row.get("x").unwrap().text().unwrap(), "1.50");
        assert_eq!(row.get("o").unwrap().text().unwrap(), r#"{"k":[1,2]}"#);
        assert_eq!(row.get("t").unwrap().as_str(), None);
        assert_eq!(row.get("escaped").unwrap().size(), "a\"bé".len());
        assert_eq!(row.get("o").unwrap().size(), r#"{"k":[1,2]}"#.len());
    }

    #[test]
    fn a_number_beyond_a_double_is_kept_as_sent() {
        let row = row(r#"{"n": 1e400, "a": [1e400, "x"]}"#);
        assert_eq!(row.get("n").unwrap().text().unwrap(), "1e400");
        assert_eq!(row.get("a").unwrap().text().unwrap(), r#"[1e400, "x"]"#);
        assert_eq!(row.to_value(), json!({"n": "1e400", "a": "[1e400, \"x\"]"}));
        assert!(!row.get("a").unwrap().has_nul());
    }

    #[test]
    fn nul_is_found_only_where_an_escape_writes_one() {
        let row =
            row(r#"{"a": "x\u0000y", "b": "x\\u0000y", "c": ["\u0000"], "d": {"k\u0000": 1}}"#);
        let nul: Vec<bool> = ["a", "b", "c", "d"]
            .iter()
            .map(|c| row.get(c).unwrap().has_nul())
            .collect();
        assert_eq!(nul, [true, false, true, true]);
    }

    #[test]
    fn edits_keep_the_order() {
        let mut row = Row::parse_owned(r#"{"title": "t", "body": "b"}"#).unwrap();
        row.set_text("body", "merged \"text\"");
        row.set_text("a", "new");
        row.remove("title");
        assert_eq!(
            row.to_value(),
            json!({"a": "new", "body": "merged \"text\""})
        );
        assert_eq!(
            serde_json::to_string(&row).unwrap(),
            r#"{"a":"new","body":"merged \"text\""}"#
        );
        row.retain(|name| name != "a");
        assert_eq!(row.keys().collect::<Vec<_>>(), ["body"]);
    }
}
