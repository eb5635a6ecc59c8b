//! One escaping function per output that shows database text to people:
//! a terminal (or a plain-text email part), Markdown prose and table cells,
//! Markdown code spans and fences, and HTML. Names, comments, bodies and
//! error messages come from a database someone else controls; each
//! function turns them into text that output can only display.
//!
//! Control characters are made visible rather than dropped, so the reader
//! sees that a name holds them: `\r`, `\n`, `\t`, `\x1b` (C0 and DEL),
//! `\u0085` (C1) and `\u202e` (bidi controls). A terminal would otherwise
//! act on them (clear the screen, move the cursor, open a hyperlink, hide a
//! line by returning to its start), and bidi controls reorder what is shown.

use std::borrow::Cow;
use std::fmt::Write as _;

/// True for a character that acts instead of showing: C0 controls, DEL,
/// C1 controls, the bidi marks, embeddings, overrides and isolates, and the
/// Unicode line and paragraph separators.
/// (The one definition is [`crate::model::is_hidden_char`], which SQL
/// quoting uses too.)
pub fn is_control(c: char) -> bool {
    crate::model::is_hidden_char(c)
}

/// Appends the visible form of control character `c`.
fn push_visible(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if (c as u32) < 0x80 => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c => {
            let _ = write!(out, "\\u{:04x}", c as u32);
        }
    }
}

/// `text` with every control character but those in `keep` made visible.
fn visible<'a>(text: &'a str, keep: &[char]) -> Cow<'a, str> {
    if !text.chars().any(|c| is_control(c) && !keep.contains(&c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_control(c) && !keep.contains(&c) {
            push_visible(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// One line of terminal or plain text (a name, a message, a value): every
/// control character, newline and tab included, made visible.
pub fn terminal(text: &str) -> Cow<'_, str> {
    visible(text, &[])
}

/// A block of terminal or plain text (a unified diff, a function body):
/// its newlines and tabs stay, every other control character (a lone `\r`,
/// ESC, BEL, bidi overrides) is made visible.
pub fn terminal_block(text: &str) -> Cow<'_, str> {
    visible(text, &['\n', '\t'])
}

/// Markdown prose or a table cell (outside code): one line, control
/// characters visible, and every character that could start markup
/// escaped: `\` `` ` `` `*` `_` `[` `]` `!` `<` `>` `|` `&` `~` `#` `:`
/// and the dot of `www.` with a backslash (no link, image, emphasis, HTML
/// tag, entity, table column or autolink), and `@` as a code span of its own, because GitHub
/// turns `@org/team` into a mention after Markdown's escapes are undone,
/// but never inside code.
pub fn markdown(text: &str) -> String {
    let text = terminal(text);
    let mut out = String::with_capacity(text.len() + 8);
    // `www.` starts an autolink: its dot is escaped (`http:` by its colon).
    let mut ws = 0;
    for c in text.chars() {
        let after_www = ws >= 3;
        ws = if c.eq_ignore_ascii_case(&'w') {
            ws + 1
        } else {
            0
        };
        match c {
            '.' if after_www => out.push_str("\\."),
            '@' => out.push_str("`@`"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '!' | '<' | '>' | '|' | '&' | '~' | '#' | ':' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// The longest run of consecutive backticks in `text`.
fn longest_backtick_run(text: &str) -> usize {
    let (mut longest, mut run) = (0, 0);
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    longest
}

/// Wraps `content` (one line, controls already visible) in a code span
/// whose backtick string is longer than any run inside it; a space pads
/// content that starts or ends with a backtick or a space (Markdown strips
/// one from each side).
fn code_span(content: &str) -> String {
    if content.is_empty() {
        return "` `".into();
    }
    let ticks = "`".repeat(longest_backtick_run(content) + 1);
    let pad = content.starts_with(['`', ' ']) || content.ends_with(['`', ' ']);
    let pad = if pad { " " } else { "" };
    format!("{ticks}{pad}{content}{pad}{ticks}")
}

/// A Markdown inline code span outside a table: shown exactly as it is,
/// control characters visible, on one line.
pub fn markdown_code(text: &str) -> String {
    code_span(&terminal(text))
}

/// A Markdown inline code span inside a table cell: as [`markdown_code`],
/// with `|` written `\|` (GitHub splits cells on a bare `|` even inside
/// code, and shows `\|` there as `|`).
pub fn markdown_cell_code(text: &str) -> String {
    code_span(&terminal(text).replace('|', "\\|"))
}

/// A fenced Markdown code block with `info` (`diff`, `sql`): the fence is
/// longer than any backtick run in `body`, so no line of it can close the
/// block; newlines and tabs stay, other control characters are visible.
pub fn markdown_fence(body: &str, info: &str) -> String {
    let body = terminal_block(body);
    let fence = "`".repeat((longest_backtick_run(&body) + 1).max(3));
    let newline = if body.is_empty() || body.ends_with('\n') {
        ""
    } else {
        "\n"
    };
    format!("{fence}{info}\n{body}{newline}{fence}\n")
}

fn html_with(text: &str, keep: &[char]) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if is_control(c) && !keep.contains(&c) => push_visible(&mut out, c),
            c => out.push(c),
        }
    }
    out
}

/// Text for Slack's `text` field: `&`, `<` and `>` as Slack's entities,
/// so `<http://evil|click>` or `<!channel>` from a database stays text.
pub fn slack(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// HTML element content or a quoted attribute value: `& < > " '` as
/// entities, every control character (newline and tab included) visible.
pub fn html(text: &str) -> String {
    html_with(text, &[])
}

/// A block of HTML text (inside `<pre>`, or text that keeps its lines): as
/// [`html`], with newlines and tabs kept.
pub fn html_block(text: &str) -> String {
    html_with(text, &['\n', '\t'])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hostile strings: cursor control, screen clearing, an OSC 8
    /// hyperlink, BEL, a bidi override, and Markdown and HTML that would
    /// add a link, an image, a mention, a tag or a table column.
    const CLEAR: &str = "a\x1b[2Jb";
    const OSC8: &str = "\x1b]8;;http://evil\x07click\x1b]8;;\x07";
    const RLO: &str = "users\u{202e}txt.exe";
    const CR: &str = "innocent\rEVIL";
    const CRLF: &str = "one\r\ntwo";
    const LINK: &str = "[x](http://evil)";
    const IMAGE: &str = "![i](http://evil/p.png)";
    const MENTION: &str = "@org/team";
    const TAG: &str = "<img src=x onerror=alert(1)>";

    fn no_control(s: &str, keep: &[char]) {
        assert!(
            !s.chars().any(|c| is_control(c) && !keep.contains(&c)),
            "control character left in {s:?}"
        );
    }

    #[test]
    fn terminal_text_shows_control_characters_instead_of_acting_on_them() {
        assert_eq!(terminal(CLEAR), "a\\x1b[2Jb");
        assert_eq!(
            terminal(OSC8),
            "\\x1b]8;;http://evil\\x07click\\x1b]8;;\\x07"
        );
        assert_eq!(terminal(RLO), "users\\u202etxt.exe");
        assert_eq!(terminal(CR), "innocent\\rEVIL");
        assert_eq!(terminal(CRLF), "one\\r\\ntwo");
        assert_eq!(terminal("a\tb\nc"), "a\\tb\\nc");
        assert_eq!(terminal("\u{85}\u{9b}\u{7f}\0"), "\\u0085\\u009b\\x7f\\x00");
        for bidi in [
            '\u{202a}', '\u{202b}', '\u{202c}', '\u{202d}', '\u{202e}', '\u{2066}', '\u{2067}',
            '\u{2068}', '\u{2069}', '\u{200e}', '\u{200f}', '\u{61c}',
        ] {
            let s = format!("x{bidi}y");
            assert_eq!(terminal(&s), format!("x\\u{:04x}y", bidi as u32));
        }
        // Ordinary text, accents and other scripts pass through untouched.
        assert!(matches!(
            terminal("café_Ω → ok"),
            Cow::Borrowed("café_Ω → ok")
        ));
    }

    #[test]
    fn a_terminal_block_keeps_its_lines_and_tabs_only() {
        let body = "-\tRETURN 1;\r\n+\tRETURN 2;\x1b[2J\x1b]8;;http://evil\x07\u{202e}\n";
        let out = terminal_block(body);
        assert_eq!(
            out,
            "-\tRETURN 1;\\r\n+\tRETURN 2;\\x1b[2J\\x1b]8;;http://evil\\x07\\u202e\n"
        );
        no_control(&out, &['\n', '\t']);
        assert_eq!(out.lines().count(), 2);
    }

    #[test]
    fn markdown_prose_cannot_add_markup() {
        assert_eq!(markdown(LINK), "\\[x\\](http\\://evil)");
        assert_eq!(markdown(IMAGE), "\\!\\[i\\](http\\://evil/p.png)");
        assert_eq!(markdown(MENTION), "`@`org/team");
        assert_eq!(markdown(TAG), "\\<img src=x onerror=alert(1)\\>");
        assert_eq!(markdown("a|b"), "a\\|b");
        assert_eq!(
            markdown("*b* _i_ ~s~ `c` \\"),
            "\\*b\\* \\_i\\_ \\~s\\~ \\`c\\` \\\\"
        );
        assert_eq!(markdown("&#x202e; # h"), "\\&\\#x202e; \\# h");
        // Control characters are visible, and their backslash is escaped so
        // Markdown shows it.
        assert_eq!(markdown("a\r\nb\x1b[2J"), "a\\\\r\\\\nb\\\\x1b\\[2J");
        for s in [CLEAR, OSC8, RLO, CR, CRLF] {
            let out = markdown(s);
            no_control(&out, &[]);
            assert!(!out.contains('\n'));
        }
    }

    #[test]
    fn code_spans_are_longer_than_any_backtick_run_inside() {
        assert_eq!(markdown_code("plain"), "`plain`");
        assert_eq!(markdown_code("a`b"), "``a`b``");
        assert_eq!(markdown_code("a``b```c"), "````a``b```c````");
        assert_eq!(markdown_code("`x`"), "`` `x` ``");
        assert_eq!(markdown_code("a|b"), "`a|b`");
        assert_eq!(markdown_cell_code("a|b"), "`a\\|b`");
        assert_eq!(markdown_cell_code("x\n| y | z"), "`x\\n\\| y \\| z`");
        assert_eq!(markdown_code(""), "` `");
        assert_eq!(
            markdown_code("\x1b]8;;http://evil\x07"),
            "`\\x1b]8;;http://evil\\x07`"
        );
    }

    #[test]
    fn fences_are_longer_than_any_backtick_run_inside() {
        let body = "+COMMENT ON TABLE t IS '```\n[x](http://evil)\n```';\n";
        let out = markdown_fence(body, "diff");
        assert!(out.starts_with("````diff\n"), "{out}");
        assert!(out.ends_with("\n````\n"), "{out}");
        assert_eq!(markdown_fence("a", "sql"), "```sql\na\n```\n");
        let out = markdown_fence("x\ry\x1b[2J\u{202e}\tz\n", "diff");
        assert_eq!(out, "```diff\nx\\ry\\x1b[2J\\u202e\tz\n```\n");
    }

    #[test]
    fn html_escapes_markup_quotes_and_control_characters() {
        assert_eq!(
            html("<script>alert('x')</script> & \"y\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;y&quot;"
        );
        assert_eq!(html(TAG), "&lt;img src=x onerror=alert(1)&gt;");
        assert_eq!(html("\" onmouseover=\"x"), "&quot; onmouseover=&quot;x");
        assert_eq!(html(OSC8), "\\x1b]8;;http://evil\\x07click\\x1b]8;;\\x07");
        assert_eq!(html(RLO), "users\\u202etxt.exe");
        assert_eq!(html(CRLF), "one\\r\\ntwo");
        assert_eq!(html_block("a\r\n\tb\u{202e}"), "a\\r\n\tb\\u202e");
    }

    /// Markdown rendered the way GitHub does before it sanitises: GFM
    /// tables, autolinks, strikethrough, the tag filter, raw HTML allowed.
    fn gfm(md: &str) -> String {
        let mut o = comrak::Options::default();
        o.extension.table = true;
        o.extension.autolink = true;
        o.extension.strikethrough = true;
        o.extension.tagfilter = true;
        o.render.r#unsafe = true;
        comrak::markdown_to_html(md, &o)
    }

    /// The text a browser shows for `html` (tags dropped, entities read).
    fn shown(html: &str) -> String {
        let mut out = String::new();
        let mut in_tag = false;
        for c in html.chars() {
            match c {
                '<' => in_tag = true,
                '>' if in_tag => in_tag = false,
                c if !in_tag => out.push(c),
                _ => {}
            }
        }
        out.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&amp;", "&")
    }

    const HOSTILE: &[&str] = &[
        CLEAR,
        OSC8,
        RLO,
        CR,
        CRLF,
        LINK,
        IMAGE,
        MENTION,
        TAG,
        "a|b",
        "x\n| y | z |",
        "*strong* _em_ ~~gone~~",
        "http://evil.example/x and www.evil.example",
        "mail dba@evil.example",
        "&lt;b&gt; &#x202e; &amp;",
        "`tick` ``two`` ```",
        "\\[escaped\\]",
        "<!-- hide --> <details open>",
        "```",
    ];

    /// No element but the ones the report itself writes.
    fn assert_no_markup(html: &str, allowed: &[&str], input: &str) {
        let mut rest = html;
        while let Some(i) = rest.find('<') {
            rest = &rest[i + 1..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '/' || *c == '!')
                .collect();
            assert!(
                allowed.contains(&name.trim_start_matches('/')),
                "<{name}> from {input:?}: {html}"
            );
        }
    }

    #[test]
    fn rendered_markdown_prose_shows_the_text_and_adds_nothing() {
        for input in HOSTILE {
            let md = format!("| a | b |\n|---|---|\n| {} | end |\n", markdown(input));
            let html = gfm(&md);
            assert_no_markup(
                &html,
                &["table", "thead", "tbody", "tr", "th", "td", "code"],
                input,
            );
            assert_eq!(html.matches("<td>").count(), 2, "{input:?}: {html}");
            // `@` is the only code span, there so no mention is made.
            assert_eq!(html.matches("<code>").count(), input.matches('@').count());
            let cell = html.split("<td>").nth(1).unwrap_or_default();
            let cell = cell.split("</td>").next().unwrap_or_default();
            assert_eq!(shown(cell), terminal(input), "{html}");
        }
    }

    #[test]
    fn rendered_code_spans_and_fences_hold_the_text_exactly() {
        for input in HOSTILE {
            let md = format!(
                "| a | b |\n|---|---|\n| {} | end |\n",
                markdown_cell_code(input)
            );
            let html = gfm(&md);
            assert_no_markup(
                &html,
                &["table", "thead", "tbody", "tr", "th", "td", "code"],
                input,
            );
            assert_eq!(html.matches("<td>").count(), 2, "{input:?}: {html}");
            assert_eq!(html.matches("<code>").count(), 1, "{input:?}: {html}");
            let code = html.split("<code>").nth(1).unwrap_or_default();
            let code = code.split("</code>").next().unwrap_or_default();
            assert_eq!(shown(code), terminal(input), "{html}");

            let html = gfm(&format!("before {} after\n", markdown_code(input)));
            assert_no_markup(&html, &["p", "code"], input);
            let code = html.split("<code>").nth(1).unwrap_or_default();
            let code = code.split("</code>").next().unwrap_or_default();
            assert_eq!(shown(code), terminal(input), "{html}");

            let body = format!("{input}\n+{input}\n");
            let html = gfm(&format!("{}\nafter\n", markdown_fence(&body, "diff")));
            assert_no_markup(&html, &["pre", "code", "p"], input);
            let code = html.split("\">").nth(1).unwrap_or_default();
            let code = code.split("</code>").next().unwrap_or_default();
            assert_eq!(shown(code), terminal_block(&body), "{html}");
            assert!(html.ends_with("<p>after</p>\n"), "{html}");
        }
    }

    #[test]
    fn slack_text_keeps_links_and_mentions_as_text() {
        assert_eq!(
            slack("<http://evil|click> & <!channel>"),
            "&lt;http://evil|click&gt; &amp; &lt;!channel&gt;"
        );
    }
}
