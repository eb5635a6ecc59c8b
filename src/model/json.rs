//! The snapshot's on-disk JSON layout: indented like pretty JSON, but any
//! node whose one-line form fits in [`INLINE_WIDTH`] characters stays on one
//! line, so a column, a grant or an index key is one line in a git diff.
//!
//! It reformats serde_json's compact output in one pass, looking at most
//! `INLINE_WIDTH` bytes ahead at each bracket: linear time, and no
//! `serde_json::Value` tree (which cost seconds and hundreds of MB on a
//! 10,000-table snapshot).

/// Longest one-line rendering (indentation included) kept on one line.
pub const INLINE_WIDTH: usize = 100;

/// Renders any serializable value in the snapshot layout, with a final newline.
pub fn to_layout<T: serde::Serialize + ?Sized>(value: &T) -> String {
    let compact = serde_json::to_string(value).expect("value serializes");
    reformat(&compact)
}

/// Reformats compact JSON text (no insignificant whitespace) into the layout.
pub fn reformat(compact: &str) -> String {
    let mut out = Vec::with_capacity(compact.len() + compact.len() / 2);
    reformat_to(compact, &mut out).expect("writing to memory");
    String::from_utf8(out).expect("the layout of UTF-8 is UTF-8")
}

/// Bytes of layout held before they are written out.
const FLUSH_AT: usize = 1 << 20;

/// [`reformat`], written to `sink` a megabyte at a time.
pub fn reformat_to(compact: &str, sink: &mut dyn std::io::Write) -> std::io::Result<()> {
    let bytes = compact.as_bytes();
    let mut out = String::with_capacity(FLUSH_AT + 4096);
    let mut depth = 0usize;
    let mut i = 0;
    let mut start = 0; // bytes[start..i] are pending verbatim output
    while i < bytes.len() {
        if out.len() >= FLUSH_AT {
            sink.write_all(out.as_bytes())?;
            out.clear();
        }
        match bytes[i] {
            b'"' => {
                i = string_end(bytes, i);
                continue;
            }
            open @ (b'{' | b'[') => {
                out.push_str(&compact[start..i]);
                let close = if open == b'{' { b'}' } else { b']' };
                // The document's own bracket (the first byte).
                let top = i == 0;
                match inline_end(bytes, i, INLINE_WIDTH.saturating_sub(depth * 2)) {
                    Some(end) if !top || bytes[i + 1] == close => {
                        push_spaced(&mut out, &compact[i..=end]);
                        i = end + 1;
                    }
                    _ if bytes.get(i + 1) == Some(&close) => {
                        out.push(open as char);
                        out.push(close as char);
                        i += 2;
                    }
                    _ => {
                        depth += 1;
                        out.push(open as char);
                        newline(&mut out, depth);
                        i += 1;
                    }
                }
                start = i;
                continue;
            }
            b'}' | b']' => {
                out.push_str(&compact[start..i]);
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(bytes[i] as char);
                i += 1;
                start = i;
                continue;
            }
            b',' => {
                out.push_str(&compact[start..i]);
                out.push(',');
                newline(&mut out, depth);
                i += 1;
                start = i;
                continue;
            }
            b':' => {
                out.push_str(&compact[start..i]);
                out.push_str(": ");
                i += 1;
                start = i;
                continue;
            }
            _ => i += 1,
        }
    }
    out.push_str(&compact[start..]);
    out.push('\n');
    sink.write_all(out.as_bytes())
}

/// Index just past the string starting at `i` (which holds its `"`).
fn string_end(bytes: &[u8], mut i: usize) -> usize {
    i += 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    i
}

/// Index of the bracket closing the one at `open`, when the node's spaced
/// one-line form is at most `budget` characters; None otherwise.
fn inline_end(bytes: &[u8], open: usize, budget: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut width = 0usize;
    let mut i = open;
    while i < bytes.len() && width <= budget {
        match bytes[i] {
            b'"' => {
                let end = string_end(bytes, i);
                width += end - i;
                i = end;
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return (width < budget).then_some(i);
                }
            }
            b',' | b':' => width += 1, // the space that follows in the layout
            _ => {}
        }
        width += 1;
        i += 1;
    }
    None
}

/// Copies a compact node, adding a space after each `,` and `:` outside strings.
fn push_spaced(out: &mut String, node: &str) {
    let bytes = node.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i = string_end(bytes, i);
                continue;
            }
            b',' | b':' => {
                out.push_str(&node[start..=i]);
                out.push(' ');
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    out.push_str(&node[start..]);
}

fn newline(out: &mut String, depth: usize) {
    out.push('\n');
    for _ in 0..depth {
        out.push_str("  ");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn small_nodes_stay_on_one_line_and_parse_back() {
        let v: Value = serde_json::from_str(
            r#"{"a": [1, 2], "b": {"name": "x, y: z", "list": ["p", "q\"]"]}, "e": [], "o": {}, "long": ["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"]}"#,
        )
        .unwrap();
        let text = to_layout(&v);
        assert!(text.starts_with("{\n  \"a\": [1, 2],\n"), "{text}");
        assert!(
            text.contains("\"b\": {\"name\": \"x, y: z\", \"list\": [\"p\", \"q\\\"]\"]}"),
            "{text}"
        );
        assert!(text.contains("\"e\": [],\n  \"o\": {},"), "{text}");
        assert!(text.contains("\"long\": [\n    \"aaaa"), "{text}");
        assert!(text.ends_with("\n  ]\n}\n"), "{text}");
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn the_top_level_is_always_expanded() {
        assert_eq!(
            to_layout(&serde_json::json!({"a": 1})),
            "{\n  \"a\": 1\n}\n"
        );
        assert_eq!(to_layout(&serde_json::json!({})), "{}\n");
    }
}
