//! A three-way merge of JSON by its structure (devcontainer.json), for
//! where a line merge stumbles on commas: a member added after the last one
//! changes that line too. Objects merge by key in the student's order (a
//! key only tracelab added goes after theirs), arrays of plain values as
//! sets (each side's additions and removals kept), and a value both sides
//! changed differently is a conflict. The result is printed as tracelab
//! prints the file: two spaces, small objects and plain arrays on one line.

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// A JSON value that keeps its members' order.
#[derive(Debug, Clone, PartialEq)]
enum Json {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
        Ok(Json::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
        Ok(Json::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
        Ok(Json::Number(v.into()))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Json, E> {
        serde_json::Number::from_f64(v)
            .map(Json::Number)
            .ok_or_else(|| E::custom("not a JSON number"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Json, E> {
        Ok(Json::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Json, E> {
        Ok(Json::String(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut members = Vec::new();
        while let Some((key, value)) = map.next_entry::<String, Json>()? {
            members.push((key, value));
        }
        Ok(Json::Object(members))
    }
}

/// The merged text, or None when the sides do not parse or conflict.
pub fn merge(base: &str, ours: &str, theirs: &str) -> Option<String> {
    let parse = |text: &str| serde_json::from_str::<Json>(text).ok();
    let merged = merge_values(
        Some(&parse(base)?),
        Some(&parse(ours)?),
        Some(&parse(theirs)?),
    )
    .ok()??;
    let mut out = String::new();
    print(&merged, 0, &mut out);
    out.push('\n');
    Some(out)
}

struct Conflict;

fn member<'a>(object: Option<&'a Json>, key: &str) -> Option<&'a Json> {
    match object? {
        Json::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
        _ => None,
    }
}

fn is_plain(value: &Json) -> bool {
    !matches!(value, Json::Array(_) | Json::Object(_))
}

/// None: the member is gone.
fn merge_values(
    base: Option<&Json>,
    ours: Option<&Json>,
    theirs: Option<&Json>,
) -> Result<Option<Json>, Conflict> {
    if ours == theirs {
        return Ok(ours.cloned());
    }
    if ours == base {
        return Ok(theirs.cloned());
    }
    if theirs == base {
        return Ok(ours.cloned());
    }
    match (ours, theirs) {
        (Some(Json::Object(mine)), Some(Json::Object(new))) => {
            let base = base.filter(|b| matches!(b, Json::Object(_)));
            let keys = mine.iter().map(|(k, _)| k).chain(
                new.iter()
                    .map(|(k, _)| k)
                    .filter(|k| !mine.iter().any(|(m, _)| m == *k)),
            );
            let mut members = Vec::new();
            for key in keys {
                let merged =
                    merge_values(member(base, key), member(ours, key), member(theirs, key))?;
                if let Some(value) = merged {
                    members.push((key.clone(), value));
                }
            }
            Ok(Some(Json::Object(members)))
        }
        (Some(Json::Array(mine)), Some(Json::Array(new)))
            if mine.iter().chain(new).all(is_plain) =>
        {
            let empty = Vec::new();
            let before = match base {
                Some(Json::Array(items)) => items,
                _ => &empty,
            };
            // The student's items, less what tracelab removed, then what
            // tracelab added.
            let mut items: Vec<Json> = mine
                .iter()
                .filter(|i| !before.contains(i) || new.contains(i))
                .cloned()
                .collect();
            for item in new {
                if !items.contains(item) && !before.contains(item) {
                    items.push(item.clone());
                }
            }
            Ok(Some(Json::Array(items)))
        }
        _ => Err(Conflict),
    }
}

fn scalar(value: &Json) -> String {
    match value {
        Json::Null => "null".into(),
        Json::Bool(b) => b.to_string(),
        Json::Number(n) => n.to_string(),
        Json::String(s) => serde_json::to_string(s).expect("a string serializes"),
        Json::Array(_) | Json::Object(_) => String::new(),
    }
}

/// On one line when it is small and holds only plain values.
fn inline(value: &Json) -> Option<String> {
    let text = match value {
        Json::Array(items) if items.iter().all(is_plain) => {
            format!(
                "[{}]",
                items.iter().map(scalar).collect::<Vec<_>>().join(", ")
            )
        }
        Json::Object(members) if members.is_empty() => "{}".into(),
        Json::Object(members) if members.iter().all(|(_, v)| is_plain(v)) => format!(
            "{{{}}}",
            members
                .iter()
                .map(|(k, v)| format!("{}: {}", scalar(&Json::String(k.clone())), scalar(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Json::Array(_) | Json::Object(_) => return None,
        plain => scalar(plain),
    };
    (text.len() <= 72 || is_plain(value)).then_some(text)
}

fn print(value: &Json, depth: usize, out: &mut String) {
    if let Some(text) = inline(value).filter(|_| depth > 0 || is_plain(value)) {
        out.push_str(&text);
        return;
    }
    let pad = "  ".repeat(depth + 1);
    let (open, close, entries): (char, char, Vec<(Option<&str>, &Json)>) = match value {
        Json::Array(items) => ('[', ']', items.iter().map(|i| (None, i)).collect()),
        Json::Object(members) => (
            '{',
            '}',
            members.iter().map(|(k, v)| (Some(k.as_str()), v)).collect(),
        ),
        _ => unreachable!("plain values print inline"),
    };
    out.push(open);
    out.push('\n');
    for (index, (key, item)) in entries.iter().enumerate() {
        out.push_str(&pad);
        if let Some(key) = key {
            out.push_str(&scalar(&Json::String(key.to_string())));
            out.push_str(": ");
        }
        print(item, depth + 1, out);
        if index + 1 < entries.len() {
            out.push(',');
        }
        out.push('\n');
    }
    out.push_str(&"  ".repeat(depth));
    out.push(close);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_and_items_added_on_both_sides_are_all_kept_in_the_students_order() {
        let base = "{\n  \"forwardPorts\": [4567],\n  \"secrets\": {\n    \"A\": {\"description\": \"a\"}\n  }\n}\n";
        let ours = "{\n  \"forwardPorts\": [4567, 5432],\n  \"secrets\": {\n    \"A\": {\"description\": \"a\"},\n    \"MINE\": {\"description\": \"m\"}\n  }\n}\n";
        let theirs = "{\n  \"forwardPorts\": [5000],\n  \"secrets\": {\n    \"A\": {\"description\": \"a\"},\n    \"B\": {\"description\": \"b\"}\n  }\n}\n";
        let merged = merge(base, ours, theirs).unwrap();
        assert_eq!(
            merged,
            "{\n  \"forwardPorts\": [5432, 5000],\n  \"secrets\": {\n    \"A\": {\"description\": \"a\"},\n    \"MINE\": {\"description\": \"m\"},\n    \"B\": {\"description\": \"b\"}\n  }\n}\n"
        );
    }

    #[test]
    fn a_value_both_changed_differently_is_a_conflict() {
        assert_eq!(merge("{\"a\": 1}", "{\"a\": 2}", "{\"a\": 3}"), None);
        assert_eq!(merge("{\"a\": 1}", "{\"a\": 1} // c", "{\"a\": 3}"), None);
    }
}
