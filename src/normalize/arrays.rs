//! One spelling for a cast of an array literal. PostgreSQL prints
//! `c IN ('a', 'b')` on a varchar column as
//! `(c)::text = ANY ((ARRAY['a'::character varying, …])::text[])`, and that
//! text, run again, is stored and printed as
//! `= ANY (ARRAY[('a'::character varying)::text, …])`: the same values
//! compared the same way. Pushing the array cast into the elements makes the
//! two one text, so a constraint driftwatch wrote does not read as drift.

use pg_query::protobuf::{node::Node as N, AArrayExpr, Node, SelectStmt, TypeCast};

/// Rewrites every `(ARRAY[e, …])::T[]` under `node` as
/// `ARRAY[(e)::T, …]`, in the expression nodes a default, CHECK,
/// predicate or view query holds.
pub(super) fn push_array_casts(node: &mut Node) {
    if let Some(N::TypeCast(cast)) = &mut node.node {
        if let Some(array) = element_cast(cast) {
            node.node = Some(N::AArrayExpr(array));
        }
    }
    let Some(inner) = node.node.as_mut() else {
        return;
    };
    let each = |nodes: &mut Vec<Node>| nodes.iter_mut().for_each(push_array_casts);
    let one = |n: &mut Option<Box<Node>>| {
        if let Some(n) = n {
            push_array_casts(n)
        }
    };
    match inner {
        N::AExpr(e) => {
            one(&mut e.lexpr);
            one(&mut e.rexpr);
        }
        N::BoolExpr(e) => each(&mut e.args),
        N::FuncCall(e) => {
            each(&mut e.args);
            one(&mut e.agg_filter);
        }
        N::TypeCast(e) => one(&mut e.arg),
        N::NullTest(e) => one(&mut e.arg),
        N::BooleanTest(e) => one(&mut e.arg),
        N::CaseExpr(e) => {
            one(&mut e.arg);
            each(&mut e.args);
            one(&mut e.defresult);
        }
        N::CaseWhen(e) => {
            one(&mut e.expr);
            one(&mut e.result);
        }
        N::CoalesceExpr(e) => each(&mut e.args),
        N::MinMaxExpr(e) => each(&mut e.args),
        N::RowExpr(e) => each(&mut e.args),
        N::AArrayExpr(e) => each(&mut e.elements),
        N::SubLink(e) => {
            one(&mut e.testexpr);
            one(&mut e.subselect);
        }
        N::ResTarget(e) => one(&mut e.val),
        N::SelectStmt(e) => select(e),
        N::JoinExpr(e) => {
            one(&mut e.larg);
            one(&mut e.rarg);
            one(&mut e.quals);
        }
        N::RangeSubselect(e) => one(&mut e.subquery),
        // Index keys compare as `CREATE INDEX i ON t (key)`.
        N::IndexStmt(e) => {
            each(&mut e.index_params);
            one(&mut e.where_clause);
        }
        N::IndexElem(e) => one(&mut e.expr),
        _ => {}
    }
}

/// The parts of a SELECT (and of both sides of a UNION) that hold
/// expressions.
fn select(s: &mut SelectStmt) {
    for n in s.target_list.iter_mut().chain(s.from_clause.iter_mut()) {
        push_array_casts(n);
    }
    for n in [&mut s.where_clause, &mut s.having_clause]
        .into_iter()
        .flatten()
    {
        push_array_casts(n);
    }
    for side in [&mut s.larg, &mut s.rarg].into_iter().flatten() {
        select(side);
    }
}

/// `ARRAY[(e)::T, …]` for a cast `(ARRAY[e, …])::T[]` of a one-dimension
/// array literal.
fn element_cast(cast: &TypeCast) -> Option<AArrayExpr> {
    let Some(N::AArrayExpr(array)) = cast.arg.as_ref()?.node.as_ref() else {
        return None;
    };
    let type_name = cast.type_name.as_ref()?;
    if type_name.array_bounds.len() != 1
        || array
            .elements
            .iter()
            .any(|e| matches!(e.node, Some(N::AArrayExpr(_))))
    {
        return None;
    }
    let mut element_type = type_name.clone();
    element_type.array_bounds.clear();
    let elements = array
        .elements
        .iter()
        .map(|e| Node {
            node: Some(N::TypeCast(Box::new(TypeCast {
                arg: Some(Box::new(e.clone())),
                type_name: Some(element_type.clone()),
                location: -1,
            }))),
        })
        .collect();
    Some(AArrayExpr {
        elements,
        ..array.clone()
    })
}
