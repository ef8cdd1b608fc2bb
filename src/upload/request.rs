//! The upload request shapes PowerSync connectors send (powersync.md §3), parsed into
//! client transactions. Anything malformed is a protocol error (400), never a data error.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::value::MapAccessDeserializer;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;

use super::row::{Row, unquote};

/// Which request shape was used: it decides how results are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `{"batch":[…]}` / `{"operations":[…]}`: 200 when all handled, 503 to retry.
    Batch,
    /// `{"transactions":[{"crud":[…]}]}`: always 200, one result per transaction.
    Transactions,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    Put,
    Patch,
    Delete,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Put => "PUT",
            Op::Patch => "PATCH",
            Op::Delete => "DELETE",
        }
    }
}

/// One queued change, whichever spelling the client used, borrowing from the request body.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry<'a> {
    pub op_id: Option<Value>,
    pub op: Op,
    pub table: Cow<'a, str>,
    pub id: Cow<'a, str>,
    pub data: Row<'a>,
    /// The previous values of changed columns (`trackPrevious`): a PATCH's merge base.
    pub old: Option<Row<'a>>,
}

/// Changes the client made in one local transaction: applied all-or-nothing.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ClientTransaction<'a> {
    pub entries: Vec<Entry<'a>>,
    /// The client database (the body's `client_id`) and its local transaction counter:
    /// together they identify the transaction, so a retry is applied at most once.
    pub client_id: Option<String>,
    pub tx_id: Option<i64>,
}

impl ClientTransaction<'_> {
    /// (client id, tx id) when the transaction can be recognised again.
    pub fn ledger_key(&self) -> Option<(&str, i64)> {
        Some((self.client_id.as_deref()?, self.tx_id?))
    }
}

// Entries are read in one pass straight into their typed shape, borrowing names and values
// from the body (`Row`). Only when that fails is the body read again, entry by entry, to say
// which entry is malformed and why.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope<E> {
    /// The uploading client database (`db.getClientId()`), optional.
    client_id: Option<String>,
    batch: Option<Vec<E>>,
    operations: Option<Vec<E>>,
    transactions: Option<Vec<TransactionShape<E>>>,
}

#[derive(Debug, Deserialize)]
struct TransactionShape<E> {
    crud: Vec<E>,
}

/// One entry as sent; `D` is how its `data` and `old` are read: as rows in the one pass
/// (`Object`), as raw text when an error is being located (`&RawValue`).
#[derive(Debug, Deserialize)]
struct RawEntry<'a, D> {
    #[serde(alias = "clientId", alias = "client_id")]
    op_id: Option<Value>,
    #[serde(borrow)]
    op: Cow<'a, str>,
    #[serde(alias = "table")]
    #[serde(rename = "type")]
    #[serde(borrow)]
    table: Cow<'a, str>,
    #[serde(borrow)]
    id: &'a RawValue,
    #[serde(alias = "opData", alias = "op_data")]
    data: Option<D>,
    #[serde(alias = "transactionId", alias = "transaction_id")]
    tx_id: Option<Value>,
    #[serde(alias = "previousValues", alias = "previous_values")]
    old: Option<D>,
}

/// An entry's `data` or `old` read in the one pass: an object, or the JSON text of one
/// (some connectors send row data as a string). Anything else fails the pass.
#[derive(Debug)]
struct Object<'a>(Row<'a>);

impl<'de: 'a, 'a> Deserialize<'de> for Object<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Shape<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for Shape<'a> {
            type Value = Object<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object, or the JSON text of one")
            }
            fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<Object<'a>, M::Error> {
                Row::deserialize(MapAccessDeserializer::new(map)).map(Object)
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Object<'a>, E> {
                Row::parse_owned(text).map(Object).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(Shape(std::marker::PhantomData))
    }
}

/// How an entry's `data` or `old`, as read, becomes a row (None: absent or null).
trait Shaped<'a> {
    fn row(self) -> Result<Option<Row<'a>>, ()>;
}

impl<'a> Shaped<'a> for Object<'a> {
    fn row(self) -> Result<Option<Row<'a>>, ()> {
        Ok(Some(self.0))
    }
}

impl<'a> Shaped<'a> for &'a RawValue {
    fn row(self) -> Result<Option<Row<'a>>, ()> {
        object(self)
    }
}

/// Parses a request body into its format and ordered client transactions.
pub fn parse<'a>(body: &'a [u8]) -> Result<(Format, Vec<ClientTransaction<'a>>), String> {
    match in_one_pass(body) {
        Some(parsed) => Ok(parsed),
        None => parse_located(body),
    }
}

/// The body read in one pass, when it is well-formed.
fn in_one_pass(body: &[u8]) -> Option<(Format, Vec<ClientTransaction<'_>>)> {
    let envelope: Envelope<RawEntry<Object>> = serde_json::from_slice(body).ok()?;
    transactions(envelope).ok()
}

/// `parse` reading each entry on its own, to say which one is malformed and why.
fn parse_located<'a>(body: &'a [u8]) -> Result<(Format, Vec<ClientTransaction<'a>>), String> {
    let envelope: Envelope<&'a RawValue> =
        serde_json::from_slice(body).map_err(|e| match e.classify() {
            serde_json::error::Category::Data => format!(
                "the body must be {{\"batch\":[…]}}, {{\"operations\":[…]}} or {{\"transactions\":[{{\"crud\":[…]}}]}}: {e}"
            ),
            _ => format!("the body is not valid JSON: {e}"),
        })?;
    let located = |entries: Vec<&'a RawValue>| {
        entries
            .into_iter()
            .enumerate()
            .map(|(index, value)| {
                serde_json::from_str::<RawEntry<'a, &'a RawValue>>(value.get())
                    .map_err(|e| format!("entry {index}: {e}"))
            })
            .collect::<Result<Vec<_>, String>>()
    };
    transactions(Envelope {
        client_id: envelope.client_id,
        batch: envelope.batch.map(located).transpose()?,
        operations: envelope.operations.map(located).transpose()?,
        transactions: envelope
            .transactions
            .map(|ts| {
                ts.into_iter()
                    .map(|t| {
                        Ok(TransactionShape {
                            crud: located(t.crud)?,
                        })
                    })
                    .collect::<Result<Vec<_>, String>>()
            })
            .transpose()?,
    })
}

/// The format and client transactions of an envelope whose entries were read.
fn transactions<'a, D: Shaped<'a>>(
    envelope: Envelope<RawEntry<'a, D>>,
) -> Result<(Format, Vec<ClientTransaction<'a>>), String> {
    let client_id = match envelope.client_id {
        Some(id) if id.is_empty() || id.len() > 200 => {
            return Err("client_id must be 1 to 200 characters".into());
        }
        id => id,
    };
    let with_client = |mut transactions: Vec<ClientTransaction<'a>>| {
        for transaction in &mut transactions {
            transaction.client_id.clone_from(&client_id);
        }
        transactions
    };
    match (envelope.batch, envelope.operations, envelope.transactions) {
        (Some(entries), None, None) | (None, Some(entries), None) => Ok((
            Format::Batch,
            with_client(group_by_tx_id(entries_of(entries)?)),
        )),
        (None, None, Some(transactions)) => {
            let transactions = transactions
                .into_iter()
                .map(|t| {
                    let entries = entries_of(t.crud)?;
                    let tx_id = entries
                        .first()
                        .and_then(|(tx_id, _)| tx_number(tx_id.as_ref()));
                    Ok(ClientTransaction {
                        entries: entries.into_iter().map(|(_, e)| e).collect(),
                        client_id: None,
                        tx_id,
                    })
                })
                .collect::<Result<Vec<_>, String>>()?;
            Ok((Format::Transactions, with_client(transactions)))
        }
        (None, None, None) => {
            Err("the body must have one of \"batch\", \"operations\" or \"transactions\"".into())
        }
        _ => Err(
            "the body must have only one of \"batch\", \"operations\" or \"transactions\"".into(),
        ),
    }
}

/// Consecutive entries with the same transaction id form one client transaction; an
/// entry without one is a transaction of its own.
fn group_by_tx_id(entries: Vec<(Option<Value>, Entry<'_>)>) -> Vec<ClientTransaction<'_>> {
    let mut transactions: Vec<ClientTransaction> = Vec::new();
    let mut current: Option<Value> = None;
    for (tx_id, entry) in entries {
        let continues = tx_id.is_some() && tx_id == current && !transactions.is_empty();
        if !continues {
            transactions.push(ClientTransaction {
                tx_id: tx_number(tx_id.as_ref()),
                ..ClientTransaction::default()
            });
        }
        current = tx_id;
        transactions
            .last_mut()
            .expect("pushed above")
            .entries
            .push(entry);
    }
    transactions
}

/// A transaction id as the ledger keeps it: an integer (sent as a number or a string).
fn tx_number(tx_id: Option<&Value>) -> Option<i64> {
    match tx_id? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn entries_of<'a, D: Shaped<'a>>(
    raw: Vec<RawEntry<'a, D>>,
) -> Result<Vec<(Option<Value>, Entry<'a>)>, String> {
    raw.into_iter()
        .enumerate()
        .map(|(index, raw)| entry(index, raw))
        .collect()
}

fn entry<'a, D: Shaped<'a>>(
    index: usize,
    raw: RawEntry<'a, D>,
) -> Result<(Option<Value>, Entry<'a>), String> {
    let op = if raw.op.eq_ignore_ascii_case("PUT") {
        Op::Put
    } else if raw.op.eq_ignore_ascii_case("PATCH") {
        Op::Patch
    } else if raw.op.eq_ignore_ascii_case("DELETE") {
        Op::Delete
    } else {
        return Err(format!(
            "entry {index}: unknown op {:?}; expected PUT, PATCH or DELETE",
            raw.op.to_ascii_uppercase()
        ));
    };
    let id = match raw.id.get().as_bytes().first() {
        Some(b'"') => unquote(raw.id.get()),
        Some(b'-' | b'0'..=b'9') => serde_json::from_str::<serde_json::Number>(raw.id.get())
            .ok()
            .map(|n| Cow::Owned(n.to_string())),
        _ => None,
    }
    .ok_or_else(|| format!("entry {index}: id must be a string, not {}", raw.id.get()))?;
    let data = raw
        .data
        .map_or(Ok(None), Shaped::row)
        .map_err(|()| format!("entry {index}: data must be an object"))?
        .unwrap_or_default();
    let old = raw
        .old
        .map_or(Ok(None), Shaped::row)
        .map_err(|()| format!("entry {index}: old must be an object"))?;
    Ok((
        raw.tx_id,
        Entry {
            op_id: raw.op_id,
            op,
            table: raw.table,
            id,
            data,
            old,
        },
    ))
}

/// A JSON object, or the JSON text of one (some connectors send row data as a string);
/// null: None.
fn object(raw: &RawValue) -> Result<Option<Row<'_>>, ()> {
    let text = raw.get();
    match text.as_bytes().first() {
        Some(b'{') => serde_json::from_str(text).map(Some).map_err(|_| ()),
        Some(b'"') => {
            let inner = unquote(text).ok_or(())?;
            Row::parse_owned(&inner).map(Some).map_err(|_| ())
        }
        Some(b'n') => Ok(None),
        _ => Err(()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn body(value: Value) -> Vec<u8> {
        value.to_string().into_bytes()
    }

    #[test]
    fn batch_groups_consecutive_tx_ids() {
        let sent = body(json!({"batch": [
            {"op_id": 1, "op": "PUT", "type": "notes", "id": "a", "tx_id": 1, "data": {"title": "x"}},
            {"op_id": 2, "op": "PATCH", "type": "notes", "id": "a", "tx_id": 1, "data": {"title": "y"}},
            {"op_id": 3, "op": "DELETE", "type": "notes", "id": "b", "tx_id": 2},
            {"op_id": 4, "op": "DELETE", "type": "notes", "id": "c"},
            {"op_id": 5, "op": "DELETE", "type": "notes", "id": "d"},
        ]}));
        let (format, txs) = parse(&sent).unwrap();
        assert_eq!(format, Format::Batch);
        let sizes: Vec<usize> = txs.iter().map(|t| t.entries.len()).collect();
        assert_eq!(sizes, [2, 1, 1, 1]);
        assert_eq!(
            txs[0].entries[1].data.get("title").unwrap().text().unwrap(),
            "y"
        );
    }

    #[test]
    fn both_spellings_are_accepted() {
        let sent = body(json!({"operations": [
            {"clientId": 7, "op": "put", "table": "notes", "id": "a", "transactionId": 3, "opData": {"title": "x"}},
            {"clientId": 8, "op": "PATCH", "table": "notes", "id": "a", "transaction_id": 3, "op_data": {"body": "b"}},
        ]}));
        let (_, txs) = parse(&sent).unwrap();
        assert_eq!(txs.len(), 1);
        let entries = &txs[0].entries;
        assert_eq!(
            (entries[0].op, &*entries[0].table, entries[0].op_id.clone()),
            (Op::Put, "notes", Some(json!(7)))
        );
        assert_eq!(entries[1].data.get("body").unwrap().text().unwrap(), "b");
    }

    #[test]
    fn transactions_keep_their_grouping() {
        let sent = body(json!({"transactions": [
            {"crud": [{"op": "PUT", "type": "notes", "id": "a", "data": {}}, {"op": "PUT", "type": "notes", "id": "b", "data": {}}]},
            {"crud": [{"op": "DELETE", "type": "notes", "id": "a"}]},
        ]}));
        let (format, txs) = parse(&sent).unwrap();
        assert_eq!(format, Format::Transactions);
        assert_eq!(
            txs.iter().map(|t| t.entries.len()).collect::<Vec<_>>(),
            [2, 1]
        );
    }

    #[test]
    fn the_one_pass_reads_what_the_entry_by_entry_reading_does() {
        let bodies: [&[u8]; 3] = [
            br#"{"batch": [
                {"op_id": 1, "op": "PUT", "type": "notes", "id": "a", "tx_id": 1, "data": {"title": "x", "title": "y", "b\u00e9": "\"q\""}},
                {"op_id": 2, "op": "PATCH", "type": "notes", "id": 7, "tx_id": 1, "data": "{\"body\": \"from text\"}", "old": {"body": "base"}},
                {"op_id": 3, "op": "DELETE", "type": "notes", "id": "b", "tx_id": "2", "data": null, "old": null},
                {"op": "PUT", "type": "notes", "id": "c", "data": {"n": 1e400, "o": {"deep": [1, 2]}}}
            ], "client_id": "device-1"}"#,
            br#"{"operations": [{"clientId": 7, "op": "put", "table": "notes", "id": "a", "transactionId": 3, "opData": {"title": "x"}, "previousValues": "{\"title\": \"w\"}"}]}"#,
            br#"{"transactions": [{"crud": [{"op": "PUT", "type": "notes", "id": "a"}]}, {"crud": []}]}"#,
        ];
        for sent in bodies {
            let located = parse_located(sent).unwrap();
            assert_eq!(in_one_pass(sent), Some(located));
        }
    }

    #[test]
    fn protocol_errors_say_what_is_wrong() {
        let cases = [
            (&b"{not json"[..], "not valid JSON"),
            (br#"{"rows": []}"#, "batch"),
            (br#"{"batch": [], "transactions": []}"#, "only one"),
            (
                br#"{"batch": [{"op": "UPSERT", "type": "notes", "id": "a"}]}"#,
                "unknown op",
            ),
            (br#"{"batch": [{"op": "PUT", "id": "a"}]}"#, "type"),
            (
                br#"{"batch": [{"op": "PUT", "type": "notes", "id": {"x": 1}}]}"#,
                "id must be a string",
            ),
            (
                br#"{"batch": [{"op": "PUT", "type": "notes", "id": "a", "data": [1]}]}"#,
                "data must be an object",
            ),
            (br#"{"batch": {"op": "PUT"}}"#, "batch"),
            (
                br#"{"batch": [{"op": "PUT", "type": "notes", "id": "a"}, {"op": "PUT", "type": "notes", "id": "b", "data": "[1]"}]}"#,
                "entry 1: data must be an object",
            ),
            (
                br#"{"batch": [{"op": "PATCH", "type": "notes", "id": "a", "old": 3}]}"#,
                "entry 0: old must be an object",
            ),
            (
                br#"{"transactions": [{"crud": [{"op": "PUT", "type": "notes", "id": "a"}, {"op": "PUT", "type": 5, "id": "b"}]}]}"#,
                "entry 1: invalid type: integer `5`",
            ),
        ];
        for (input, expected) in cases {
            let error = parse(input).unwrap_err();
            assert!(
                error.contains(expected),
                "{error} should mention {expected}"
            );
        }
    }
}
