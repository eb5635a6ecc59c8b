//! What an `ALTER COLUMN … TYPE` does to the values already stored, read
//! from the two types as `format_type` prints them: a widening that
//! PostgreSQL records in the catalog only, one that rewrites the table but
//! keeps every value, or a cast that may lose or refuse values.

/// What a column's type change does to its stored values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cast {
    /// Every value fits and PostgreSQL changes only the catalog
    /// (`varchar(50)` → `varchar(100)`, `varchar` → `text`,
    /// `numeric(10,2)` → `numeric(12,2)`).
    CatalogOnly,
    /// Every value fits, but the table is rewritten (`integer` → `bigint`).
    Rewrite,
    /// A value may be cut, rounded or refused: held back unless drops are
    /// allowed.
    MayLose,
}

/// How `from` becomes `to` (type names as `format_type` prints them;
/// arrays follow their element type).
pub(crate) fn classify(from: &str, to: &str) -> Cast {
    if from == to {
        return Cast::CatalogOnly;
    }
    match (from.strip_suffix("[]"), to.strip_suffix("[]")) {
        (Some(a), Some(b)) => return classify(a, b),
        (None, None) => {}
        _ => return Cast::MayLose,
    }
    let (from_base, from_mods) = split_modifiers(from);
    let (to_base, to_mods) = split_modifiers(to);
    let text_like = |b: &str| b == "character varying" || b == "text";
    match (from_base, to_base) {
        // varchar(n) → varchar(m ≥ n) or unlimited; varchar ↔ text.
        (a, b) if text_like(a) && text_like(b) => match (from_mods.first(), to_mods.first()) {
            (_, None) => Cast::CatalogOnly,
            (Some(n), Some(m)) if m >= n => Cast::CatalogOnly,
            _ => Cast::MayLose,
        },
        // numeric(p, s) → numeric(p2 ≥ p, s) or unconstrained numeric.
        ("numeric", "numeric") => match (from_mods.as_slice(), to_mods.as_slice()) {
            (_, []) => Cast::CatalogOnly,
            ([p, s], [p2, s2]) if p2 >= p && s2 == s => Cast::CatalogOnly,
            ([p], [p2]) if p2 >= p => Cast::CatalogOnly,
            _ => Cast::MayLose,
        },
        ("smallint", "integer" | "bigint") | ("integer", "bigint") => Cast::Rewrite,
        ("smallint" | "integer" | "bigint", "numeric") if to_mods.is_empty() => Cast::Rewrite,
        ("real", "double precision") => Cast::Rewrite,
        _ => Cast::MayLose,
    }
}

/// True when PostgreSQL has a cast from `from` to `to` among the built-in
/// families driftwatch knows (numbers, strings, date and time, json,
/// integer and boolean): `USING col::to` plans. Any other pair may have no
/// cast at all (`bigint` → `timestamp`), and goes through text, which
/// every type converts to and from.
pub(crate) fn direct(from: &str, to: &str) -> bool {
    let family = |t: &str| {
        let (base, _) = split_modifiers(t);
        match base {
            "smallint" | "integer" | "bigint" | "numeric" | "real" | "double precision" => 1,
            "text" | "character varying" | "character" | "name" | "\"char\"" => 2,
            "date"
            | "timestamp without time zone"
            | "timestamp with time zone"
            | "time without time zone"
            | "time with time zone" => 3,
            "json" | "jsonb" => 4,
            _ if base.starts_with("timestamp(") || base.starts_with("time(") => 3,
            _ => 0,
        }
    };
    match (from.strip_suffix("[]"), to.strip_suffix("[]")) {
        (Some(a), Some(b)) => return direct(a, b),
        (None, None) => {}
        _ => return false,
    }
    let (f, t) = (family(from), family(to));
    (f != 0 && f == t)
        || f == 2
        || t == 2
        || matches!(
            (split_modifiers(from).0, split_modifiers(to).0),
            ("integer", "boolean") | ("boolean", "integer")
        )
}

/// `character varying(50)` → (`character varying`, [50]); a type whose
/// modifiers are not numbers keeps them in its name.
fn split_modifiers(t: &str) -> (&str, Vec<u32>) {
    let Some(open) = t.find('(') else {
        return (t, Vec::new());
    };
    let Some(close) = t[open..].find(')').map(|c| open + c) else {
        return (t, Vec::new());
    };
    let mods: Option<Vec<u32>> = t[open + 1..close]
        .split(',')
        .map(|m| m.trim().parse().ok())
        .collect();
    match mods {
        // `timestamp(3) without time zone`: the words after the modifier
        // are part of the name, so only a trailing modifier splits.
        Some(mods) if close + 1 == t.len() => (t[..open].trim_end(), mods),
        _ => (t, Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widenings_keep_every_value_and_narrowings_may_not() {
        use Cast::*;
        for (from, to, cast) in [
            (
                "character varying(50)",
                "character varying(100)",
                CatalogOnly,
            ),
            ("character varying(50)", "character varying", CatalogOnly),
            ("character varying(50)", "text", CatalogOnly),
            ("text", "character varying", CatalogOnly),
            ("numeric(10,2)", "numeric(12,2)", CatalogOnly),
            ("numeric(10,2)", "numeric", CatalogOnly),
            ("smallint", "integer", Rewrite),
            ("integer", "bigint", Rewrite),
            ("integer[]", "bigint[]", Rewrite),
            ("real", "double precision", Rewrite),
            ("character varying(100)", "character varying(50)", MayLose),
            ("text", "character varying(10)", MayLose),
            ("numeric(10,2)", "numeric(12,3)", MayLose),
            ("numeric(10,2)", "numeric(8,2)", MayLose),
            ("bigint", "integer", MayLose),
            ("bigint", "timestamp without time zone", MayLose),
            ("integer", "integer[]", MayLose),
            (
                "timestamp(3) without time zone",
                "timestamp(6) without time zone",
                MayLose,
            ),
            ("integer", "text", MayLose),
        ] {
            assert_eq!(classify(from, to), cast, "{from} -> {to}");
        }
    }

    #[test]
    fn casts_without_a_direct_path_go_through_text() {
        for (from, to, known) in [
            ("bigint", "timestamp without time zone", false),
            ("integer", "numeric(10,2)", true),
            ("text", "integer", true),
            ("integer", "text", true),
            ("date", "timestamp(3) with time zone", true),
            ("json", "jsonb", true),
            ("integer", "boolean", true),
            ("bigint", "boolean", false),
            ("uuid", "inet", false),
            ("integer[]", "bigint[]", true),
            ("integer", "integer[]", false),
        ] {
            assert_eq!(direct(from, to), known, "{from} -> {to}");
        }
    }
}
