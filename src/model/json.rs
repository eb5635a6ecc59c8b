//! The snapshot's on-disk JSON layout: indented like pretty JSON, but any
//! node whose compact form fits in [`INLINE_WIDTH`] characters stays on one
//! line, so a column, a grant or an index key is one line in a git diff.

use serde_json::Value;

/// Longest compact rendering kept on one line.
pub const INLINE_WIDTH: usize = 100;

/// Renders `value` in the snapshot layout, with a final newline.
pub fn to_layout(value: &Value) -> String {
    let mut out = String::new();
    write_value(value, 0, &mut out, true);
    out.push('\n');
    out
}

fn compact(value: &Value) -> String {
    match value {
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(compact).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Object(map) => {
            let parts: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", scalar(&Value::String(k.clone())), compact(v)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        other => scalar(other),
    }
}

fn scalar(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

fn write_value(value: &Value, depth: usize, out: &mut String, top: bool) {
    let one_line = compact(value);
    let is_empty = match value {
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => true,
    };
    if is_empty || (!top && one_line.len() + depth * 2 <= INLINE_WIDTH) {
        out.push_str(&one_line);
        return;
    }
    let pad = "  ".repeat(depth + 1);
    match value {
        Value::Array(items) => {
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                out.push_str(&pad);
                write_value(item, depth + 1, out, false);
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            out.push_str(&"  ".repeat(depth));
            out.push(']');
        }
        Value::Object(map) => {
            out.push_str("{\n");
            for (i, (key, item)) in map.iter().enumerate() {
                out.push_str(&pad);
                out.push_str(&scalar(&Value::String(key.clone())));
                out.push_str(": ");
                write_value(item, depth + 1, out, false);
                out.push_str(if i + 1 < map.len() { ",\n" } else { "\n" });
            }
            out.push_str(&"  ".repeat(depth));
            out.push('}');
        }
        other => out.push_str(&scalar(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_nodes_stay_on_one_line_and_parse_back() {
        let v: Value = serde_json::from_str(
            r#"{"a": [1, 2], "b": {"name": "x", "list": ["p", "q"]}, "long": ["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"]}"#,
        )
        .unwrap();
        let text = to_layout(&v);
        assert!(text.contains("\"a\": [1, 2],\n"), "{text}");
        assert!(
            text.contains("\"b\": {\"name\": \"x\", \"list\": [\"p\", \"q\"]}"),
            "{text}"
        );
        assert!(text.contains("\"long\": [\n"), "{text}");
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, v);
    }
}
