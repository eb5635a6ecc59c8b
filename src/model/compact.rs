//! serde_json's compact text of [`Objects`], byte for byte, built on every
//! core: the object lists are cut into chunks that threads serialize side by
//! side, then stitched in order.
//!
//! Why: the fingerprint and the snapshot file both need this text, and on a
//! 10,000-table schema serializing it on one thread took a fifth of a
//! capture's client time while the other core sat idle (the server's work
//! is done by then).

use super::{Objects, Snapshot};
use serde::Serialize;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Below this many objects one thread does it all (threads cost more than
/// they save).
const PARALLEL_FROM: usize = 2_000;

/// Objects per chunk: small enough to balance the threads, large enough
/// that a chunk's bookkeeping is noise.
const CHUNK: usize = 250;

/// One chunk of one list: serializes its items joined by commas.
type Piece<'a> = Box<dyn Fn() -> Vec<u8> + Sync + 'a>;

/// `serde_json::to_vec(objects)`, on up to `available_parallelism` threads.
pub fn objects(objects: &Objects) -> Vec<u8> {
    let mut out = Vec::new();
    write_objects(objects, &mut |bytes| out.extend_from_slice(bytes));
    out
}

/// Hands `serde_json::to_vec(objects)` to `sink` in order, a piece at a
/// time (the fingerprint hashes it without ever holding it whole), each
/// piece freed once handed over.
pub fn write_objects(objects: &Objects, sink: &mut dyn FnMut(&[u8])) {
    let total: usize = objects.counts().iter().map(|(_, n)| n).sum();
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(8);
    if total < PARALLEL_FROM || threads < 2 {
        sink(&serde_json::to_vec(objects).expect("objects serialize"));
        return;
    }
    // (field, piece count) per list, and the pieces in order.
    let mut lists: Vec<(&'static str, usize)> = Vec::new();
    let mut pieces: Vec<Piece<'_>> = Vec::new();
    macro_rules! cut {
        ($list:ident, $kind:ident) => {
            // Left out as serde leaves it out (`skip_serializing_if`).
            if !super::skipped_when_empty(stringify!($list), objects.$list.len()) {
                let first = pieces.len();
                for chunk in objects.$list.chunks(CHUNK) {
                    pieces.push(Box::new(move || items(chunk)));
                }
                lists.push((stringify!($list), pieces.len() - first));
            }
        };
    }
    crate::each_kind!(cut);
    let mut done = run(&pieces, threads).into_iter();
    sink(b"{");
    for (i, (field, count)) in lists.iter().enumerate() {
        if i > 0 {
            sink(b",");
        }
        sink(b"\"");
        sink(field.as_bytes());
        sink(b"\":[");
        for j in 0..*count {
            if j > 0 {
                sink(b",");
            }
            sink(&done.next().unwrap_or_default());
        }
        sink(b"]");
    }
    sink(b"}");
}

/// `serde_json::to_vec(snapshot)`, with its objects from [`objects`].
pub fn snapshot(snapshot: &Snapshot) -> Vec<u8> {
    /// Snapshot's fields before `objects`, in its order.
    #[derive(Serialize)]
    struct Head<'a> {
        format: &'a str,
        meta: &'a super::Meta,
        fingerprint: &'a str,
    }
    let mut out = serde_json::to_vec(&Head {
        format: &snapshot.format,
        meta: &snapshot.meta,
        fingerprint: &snapshot.fingerprint,
    })
    .expect("snapshot head serializes");
    out.pop(); // its closing brace
    out.extend_from_slice(b",\"objects\":");
    out.extend_from_slice(&objects(&snapshot.objects));
    out.push(b'}');
    out
}

/// The items of `chunk`, compact, joined by commas (its array without the
/// brackets).
fn items<T: Serialize>(chunk: &[T]) -> Vec<u8> {
    let mut text = serde_json::to_vec(chunk).expect("objects serialize");
    text.pop();
    text.remove(0);
    text
}

/// Runs every piece, `threads` at a time, each thread taking the next piece
/// not yet taken; the results in the pieces' order.
fn run(pieces: &[Piece<'_>], threads: usize) -> Vec<Vec<u8>> {
    let next = AtomicUsize::new(0);
    let mut done: Vec<Vec<u8>> = vec![Vec::new(); pieces.len()];
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(piece) = pieces.get(i) else { break };
                        mine.push((i, piece()));
                    }
                    mine
                })
            })
            .collect();
        for worker in workers {
            for (i, text) in worker.join().expect("a serializer thread panicked") {
                done[i] = text;
            }
        }
    });
    done
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Column, Meta, Schema, Table};

    fn table(i: usize) -> Table {
        let mut t: Table = serde_json::from_value(serde_json::json!({
            "schema": "s", "name": format!("t{i:05}"), "kind": "table", "owner": "o"
        }))
        .expect("a minimal table");
        let c: Column = serde_json::from_value(serde_json::json!({
            "name": "note \"quoted\", é", "position": 1, "type": "text", "not_null": i % 2 == 0
        }))
        .expect("a minimal column");
        t.columns = vec![c];
        t
    }

    /// Byte for byte what serde_json writes, for sizes around every edge:
    /// below the parallel threshold, exact chunk multiples, a lone item in
    /// the last chunk, and empty lists between full ones.
    #[test]
    fn the_stitched_text_is_serde_jsons_byte_for_byte() {
        for n in [0, 1, 1_999, 2_000, 2_250, 2_251, 5_001] {
            let mut objects = Objects {
                tables: (0..n).map(table).collect(),
                ..Objects::default()
            };
            objects.schemas = vec![serde_json::from_value::<Schema>(
                serde_json::json!({"name": "s", "owner": "o"}),
            )
            .expect("a schema")];
            let expected = serde_json::to_vec(&objects).unwrap();
            assert!(objects_eq(&super::objects(&objects), &expected), "n = {n}");
            let snap = Snapshot::new(Meta::default(), objects);
            let expected = serde_json::to_vec(&snap).unwrap();
            assert!(objects_eq(&super::snapshot(&snap), &expected), "n = {n}");
        }
    }

    /// An optional list ([`OPTIONAL_LISTS`](crate::model::OPTIONAL_LISTS))
    /// is stitched in when it holds something, left out when empty, as
    /// serde does on either side of the parallel threshold.
    #[test]
    fn optional_lists_are_written_only_when_not_empty() {
        let configuration: crate::model::TextSearchConfiguration =
            serde_json::from_value(serde_json::json!({
                "schema": "s", "name": "c", "parser": "default", "owner": "o",
                "mappings": [{"token": "word", "dictionaries": ["simple"]}]
            }))
            .expect("a configuration");
        for n in [1, 2_251] {
            for configurations in [vec![], vec![configuration.clone()]] {
                let objects = Objects {
                    tables: (0..n).map(table).collect(),
                    text_search_configurations: configurations.clone(),
                    ..Objects::default()
                };
                let expected = serde_json::to_vec(&objects).unwrap();
                let written = super::objects(&objects);
                assert!(objects_eq(&written, &expected), "n = {n}");
                let named =
                    String::from_utf8_lossy(&written).contains("text_search_configurations");
                assert_eq!(named, !configurations.is_empty(), "n = {n}");
            }
        }
    }

    fn objects_eq(a: &[u8], b: &[u8]) -> bool {
        if a != b {
            let at = a.iter().zip(b).position(|(x, y)| x != y).unwrap_or(0);
            eprintln!(
                "differ at {at}: {:?} vs {:?}",
                String::from_utf8_lossy(&a[at.saturating_sub(40)..(at + 40).min(a.len())]),
                String::from_utf8_lossy(&b[at.saturating_sub(40)..(at + 40).min(b.len())])
            );
            return false;
        }
        true
    }
}
