//! One-line summaries that show what differs: the changed fields of a
//! structured value (`references on delete: no action → cascade`), the
//! differing part of long text, and flags as words (`not null: yes → no`,
//! `row security: off → on`). Pure.

use serde_json::Value;

/// Longest shown value.
const WIDTH: usize = 80;

/// Attributes whose true/false read as on/off rather than yes/no.
const ON_OFF: &[&str] = &[
    "row_security",
    "force_row_security",
    "enabled",
    "security_barrier",
    "security_invoker",
];

/// True when a value is a flag (or an absent one, which reads as false).
fn is_flag(v: &Value) -> bool {
    matches!(v, Value::Bool(_) | Value::Null)
}

/// A flag as a word.
fn flag(attribute: &str, v: &Value) -> &'static str {
    let on = v.as_bool().unwrap_or(false);
    match (ON_OFF.contains(&attribute), on) {
        (true, true) => "on",
        (true, false) => "off",
        (false, true) => "yes",
        (false, false) => "no",
    }
}

/// A value in a line: text with whitespace collapsed, `none` for null.
fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => crate::normalize::collapse_whitespace(s),
        Value::Null => "none".into(),
        other => other.to_string(),
    }
}

fn cut(text: &str) -> String {
    if text.chars().count() > WIDTH {
        format!("{}…", text.chars().take(WIDTH - 1).collect::<String>())
    } else {
        text.to_string()
    }
}

/// The two texts around their first difference: a little common context,
/// then what differs, with `…` where text was left out.
fn differing_parts(a: &str, b: &str) -> (String, String) {
    if a.chars().count() <= WIDTH && b.chars().count() <= WIDTH {
        return (a.to_string(), b.to_string());
    }
    let (ac, bc): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let prefix = ac.iter().zip(&bc).take_while(|(x, y)| x == y).count();
    let suffix = ac[prefix..]
        .iter()
        .rev()
        .zip(bc[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let context = 12;
    let start = prefix.saturating_sub(context);
    let show = |chars: &[char]| -> String {
        let end = (chars.len() - suffix + context).min(chars.len());
        let mut s: String = chars[start..end].iter().collect();
        if s.chars().count() > WIDTH {
            s = s.chars().take(WIDTH - 1).collect();
            s.push('…');
        } else if end < chars.len() {
            s.push('…');
        }
        if start > 0 {
            s.insert(0, '…');
        }
        s
    };
    (show(&ac), show(&bc))
}

/// A keyword value as words (`no-action` → `no action`).
fn words(v: &Value) -> Value {
    match v {
        Value::String(s)
            if s.contains('-') && s.chars().all(|c| c.is_ascii_lowercase() || c == '-') =>
        {
            Value::String(s.replace('-', " "))
        }
        other => other.clone(),
    }
}

/// `attribute: before → after` for an attribute-level change, showing
/// what differs.
pub(super) fn changed(attribute: &str, before: &Value, after: &Value) -> String {
    let label = attribute.replace('_', " ");
    match (before, after) {
        (_, Value::Bool(true)) if attribute == "triggers_disabled" => {
            "not enforced (its triggers are disabled)".into()
        }
        (Value::Bool(true), _) if attribute == "triggers_disabled" => {
            "enforced again (its triggers are enabled)".into()
        }
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            let parts: Vec<String> = keys
                .into_iter()
                .filter(|k| a.get(*k) != b.get(*k))
                .map(|k| {
                    let (x, y) = (
                        a.get(k).unwrap_or(&Value::Null),
                        b.get(k).unwrap_or(&Value::Null),
                    );
                    changed(k, &words(x), &words(y))
                })
                .collect();
            format!("{label} {}", parts.join("; "))
        }
        (x, y) if is_flag(x) && is_flag(y) => {
            format!("{label}: {} → {}", flag(attribute, x), flag(attribute, y))
        }
        (x, y) => {
            let (a, b) = differing_parts(&plain(x), &plain(y));
            format!("{label}: {a} → {b}")
        }
    }
}

/// A value as shown after `renamed from` or `granted`.
pub(super) fn short(v: &Value) -> String {
    cut(&plain(v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn structured_values_show_the_changed_field_and_flags_read_as_words() {
        let a = json!({"table": "public.customers_with_a_long_name", "columns": ["id"], "on_delete": "no-action"});
        let b = json!({"table": "public.customers_with_a_long_name", "columns": ["id"], "on_delete": "cascade"});
        assert_eq!(
            changed("references", &a, &b),
            "references on delete: no action → cascade"
        );
        assert_eq!(
            changed("not_null", &json!(true), &Value::Null),
            "not null: yes → no"
        );
        assert_eq!(
            changed("row_security", &Value::Null, &json!(true)),
            "row security: off → on"
        );
        let body = "SELECT ".to_string() + &"x, ".repeat(40);
        let (a, b) = (format!("{body}1 FROM t"), format!("{body}2 FROM t"));
        let line = changed("definition", &json!(a), &json!(b));
        assert_eq!(
            line,
            "definition: …x, x, x, x, 1 FROM t → …x, x, x, x, 2 FROM t"
        );
    }
}
