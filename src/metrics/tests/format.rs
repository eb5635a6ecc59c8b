//! A checker of the exposition format 0.0.4, written from its specification
//! so that the render is parsed rather than trusted to look right.

use std::collections::{BTreeSet, HashMap};

/// Labels in order: name and (unescaped) value.
pub(super) type Labels = Vec<(String, String)>;

/// One sample: metric name, labels, value.
pub(super) type Sample = (String, Labels, f64);

/// Parses `text` as exposition format 0.0.4 and checks what Prometheus would
/// reject or misread: names and label syntax, HELP and TYPE before a
/// family's first sample, each family in one group, no duplicate series,
/// and histograms whose cumulative buckets never decrease and end with a
/// `+Inf` bucket equal to `_count`, next to a `_sum`.
pub(super) fn check_format(text: &str) -> Result<Vec<Sample>, String> {
    let mut types: HashMap<String, String> = HashMap::new();
    let mut helped: BTreeSet<String> = BTreeSet::new();
    let mut finished: BTreeSet<String> = BTreeSet::new();
    let mut current: Option<String> = None;
    let mut samples: Vec<Sample> = Vec::new();
    let mut series = BTreeSet::new();
    if !text.ends_with('\n') {
        return Err("the text does not end with a line feed".into());
    }
    for (n, line) in text.lines().enumerate() {
        let at = |what: &str| format!("line {}: {what}: {line:?}", n + 1);
        let family = if let Some(rest) = line.strip_prefix("# ") {
            let (keyword, rest) = rest.split_once(' ').ok_or_else(|| at("bare comment"))?;
            let (name, arg) = rest.split_once(' ').ok_or_else(|| at("no text"))?;
            if !is_metric_name(name) {
                return Err(at("bad family name"));
            }
            match keyword {
                "HELP" if !helped.insert(name.to_string()) => return Err(at("second HELP")),
                "HELP" => {}
                "TYPE" => {
                    if !helped.contains(name) {
                        return Err(at("TYPE before HELP"));
                    }
                    let known = ["counter", "gauge", "histogram", "summary", "untyped"];
                    if !known.contains(&arg) {
                        return Err(at("unknown type"));
                    }
                    if types.insert(name.to_string(), arg.to_string()).is_some() {
                        return Err(at("second TYPE"));
                    }
                }
                _ => return Err(at("unknown comment")),
            }
            name.to_string()
        } else {
            let sample = parse_sample(line).map_err(|e| at(&e))?;
            let family = family_of(&sample.0, &types).ok_or_else(|| at("no TYPE before"))?;
            if !helped.contains(&family) {
                return Err(at("no HELP before"));
            }
            if !series.insert((sample.0.clone(), sample.1.clone())) {
                return Err(at("duplicate series"));
            }
            samples.push(sample);
            family
        };
        if current.as_deref() != Some(family.as_str()) {
            if finished.contains(&family) {
                return Err(at("family split in two groups"));
            }
            if let Some(previous) = current.replace(family) {
                finished.insert(previous);
            }
        }
    }
    check_histograms(&samples, &types)?;
    Ok(samples)
}

/// The family a sample belongs to: its own name, or a histogram's name
/// with its `_bucket`, `_sum` or `_count` suffix taken off.
fn family_of(name: &str, types: &HashMap<String, String>) -> Option<String> {
    if types.contains_key(name) {
        return Some(name.to_string());
    }
    ["_bucket", "_sum", "_count"].iter().find_map(|suffix| {
        let base = name.strip_suffix(suffix)?;
        (types.get(base)? == "histogram").then(|| base.to_string())
    })
}

fn is_metric_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn is_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `name{label="value",...} value`, label values unescaped.
fn parse_sample(line: &str) -> Result<Sample, String> {
    let name_end = line.find(['{', ' ']).ok_or("no value")?;
    let name = &line[..name_end];
    if !is_metric_name(name) {
        return Err("bad metric name".into());
    }
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(mut inner) = rest.strip_prefix('{') {
        loop {
            let (label, after) = inner.split_once("=\"").ok_or("label without =\"")?;
            if !is_label_name(label) {
                return Err(format!("bad label name {label:?}"));
            }
            let mut value = String::new();
            let mut chars = after.char_indices();
            let close = loop {
                match chars.next().ok_or("unterminated label value")? {
                    (i, '"') => break i,
                    (_, '\\') => match chars.next().ok_or("dangling backslash")?.1 {
                        '\\' => value.push('\\'),
                        '"' => value.push('"'),
                        'n' => value.push('\n'),
                        c => return Err(format!("bad escape \\{c}")),
                    },
                    (_, '\n') => return Err("raw line feed in a label value".into()),
                    (_, c) => value.push(c),
                }
            };
            labels.push((label.to_string(), value));
            let after = &after[close + 1..];
            if let Some(next) = after.strip_prefix(',') {
                inner = next;
            } else if let Some(end) = after.strip_prefix('}') {
                rest = end;
                break;
            } else {
                return Err("expected , or } after a label".into());
            }
        }
    }
    let value = rest.strip_prefix(' ').ok_or("no space before the value")?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().map_err(|_| format!("bad value {v:?}"))?,
    };
    Ok((name.to_string(), labels, value))
}

fn check_histograms(samples: &[Sample], types: &HashMap<String, String>) -> Result<(), String> {
    for (family, _) in types.iter().filter(|(_, kind)| *kind == "histogram") {
        // Buckets by their labels other than le, in order of appearance.
        let mut buckets: Vec<(Labels, Vec<(f64, f64)>)> = Vec::new();
        for (name, labels, value) in samples {
            if *name != format!("{family}_bucket") {
                continue;
            }
            let le = labels
                .iter()
                .find(|(l, _)| l == "le")
                .ok_or("bucket without le")?;
            let le: f64 = match le.1.as_str() {
                "+Inf" => f64::INFINITY,
                v => v.parse().map_err(|_| format!("bad le {v:?}"))?,
            };
            let rest: Vec<_> = labels.iter().filter(|(l, _)| l != "le").cloned().collect();
            match buckets.iter_mut().find(|(l, _)| *l == rest) {
                Some((_, b)) => b.push((le, *value)),
                None => buckets.push((rest, vec![(le, *value)])),
            }
        }
        for (labels, b) in buckets {
            let find = |suffix: &str| {
                samples
                    .iter()
                    .find(|(n, l, _)| *n == format!("{family}{suffix}") && *l == labels)
                    .map(|s| s.2)
                    .ok_or(format!("{family}{suffix} missing for {labels:?}"))
            };
            let (count, _sum) = (find("_count")?, find("_sum")?);
            if b.windows(2).any(|w| w[1].0 <= w[0].0 || w[1].1 < w[0].1) {
                return Err(format!("{family} {labels:?}: buckets out of order: {b:?}"));
            }
            match b.last() {
                Some(&(le, n)) if le == f64::INFINITY && n == count => {}
                _ => return Err(format!("{family} {labels:?}: +Inf bucket != _count")),
            }
        }
    }
    Ok(())
}

/// The value of the one sample with this name and these labels.
pub(super) fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|(n, l, _)| {
            n == name
                && l.len() == labels.len()
                && l.iter().zip(labels).all(|(a, b)| a.0 == b.0 && a.1 == b.1)
        })
        .map(|s| s.2)
}

/// The checker itself: each of these must be refused, or the tests above
/// prove nothing.
#[test]
fn the_format_check_catches_mistakes() {
    let head = "# HELP h A histogram.\n# TYPE h histogram\n";
    let bad = [
        ("x 1\n", "no TYPE"),
        ("# TYPE x gauge\nx 1\n", "TYPE before HELP"),
        ("# HELP x X.\n# TYPE x gauge\n1x 1\n", "bad metric name"),
        ("# HELP x X.\n# TYPE x gauge\nx{a=\"b} 1\n", "unterminated"),
        ("# HELP x X.\n# TYPE x gauge\nx{a=\"\\t\"} 1\n", "bad escape"),
        ("# HELP x X.\n# TYPE x gauge\nx{1a=\"b\"} 1\n", "bad label name"),
        ("# HELP x X.\n# TYPE x gauge\nx{a=\"b\"} one\n", "bad value"),
        ("# HELP x X.\n# TYPE x gauge\nx 1\nx 2\n", "duplicate"),
        (
            "# HELP x X.\n# TYPE x gauge\nx{a=\"1\"} 1\n# HELP y Y.\n# TYPE y gauge\ny 1\nx{a=\"2\"} 1\n",
            "two groups",
        ),
        ("# HELP x X.\n# TYPE x gauge\nx 1", "line feed"),
    ];
    for (text, why) in bad {
        let err = check_format(text).expect_err(text);
        assert!(err.contains(why), "{text:?}: {err}");
    }
    let histograms = [
        (
            "h_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
            "out of order",
        ),
        (
            "h_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 2\n",
            "_count",
        ),
        (
            "h_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n",
            "h_sum missing",
        ),
    ];
    for (samples, why) in histograms {
        let text = format!("{head}{samples}");
        let err = check_format(&text).expect_err(&text);
        assert!(err.contains(why), "{text:?}: {err}");
    }
    let good =
        format!("{head}h_bucket{{le=\"1\"}} 1\nh_bucket{{le=\"+Inf\"}} 2\nh_sum 3.5\nh_count 2\n");
    assert_eq!(check_format(&good).map(|s| s.len()), Ok(4));
}
