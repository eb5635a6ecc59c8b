//! Outbox entries for one alert: the email (both parts, threading headers)
//! and each webhook's JSON body. The Message-ID is fixed here, once, so a
//! retried message is the same message.

use super::outbox::{OutboxEntry, Payload, OUTBOX_FORMAT};
use super::state::{alerted, Alert, AlertKind, AlertState};
use super::view::AlertView;
use crate::config::AlertPolicy;
use crate::error::{Error, Result};
use crate::report::CheckReport;
use crate::util::Named;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use serde_json::json;

/// What every message of one scan shares.
pub(super) struct Context<'a> {
    pub report: &'a CheckReport,
    pub policy: &'a AlertPolicy,
    pub from: Option<&'a Mailbox>,
    pub report_path: Option<&'a str>,
}

fn email_error(e: impl std::fmt::Display) -> Error {
    Error::Input {
        path: "[smtp]".into(),
        message: format!("cannot build the alert email ({e})"),
        hint: "check smtp.from and the targets' notify addresses".into(),
    }
}

/// The entries `alert` makes (one email, one per webhook), advancing
/// `state`'s sequence and thread.
pub(super) fn entries(
    ctx: &Context<'_>,
    alert: &Alert,
    state: &mut AlertState,
) -> Result<Vec<OutboxEntry>> {
    let report = ctx.report;
    let mut findings = match alert.kind {
        AlertKind::Drift | AlertKind::Reminder => alerted(report, ctx.policy),
        _ => Vec::new(),
    };
    // The worst first: a phone shows the top of the message.
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    let drift_since = findings.iter().map(|f| f.since.clone()).min();
    let view = AlertView {
        report,
        kind: alert.kind,
        findings,
        new_findings: &alert.new_findings,
        gone_findings: &alert.gone_findings,
        failures: alert.failures,
        drift_since,
        report_path: ctx.report_path.map(str::to_string),
    };
    state.sequence += 1;
    let stem = format!("{:06}-{}", state.sequence, alert.kind.as_str());
    let domain = ctx
        .from
        .map(|m| m.email.domain().to_string())
        .unwrap_or_else(|| "driftwatch.invalid".into());
    let message_id = format!(
        "<{}.{}.{}@{domain}>",
        crate::store::time_stem(&report.time),
        stem,
        report.target
    );
    let thread = state.thread.clone();
    let previous = state.last_message.clone();
    if state.thread.is_none() {
        state.thread = Some(message_id.clone());
    }
    state.last_message = Some(message_id.clone());
    let base = |id: String, payload, pending| OutboxEntry {
        format: OUTBOX_FORMAT.into(),
        id,
        target: report.target.clone(),
        kind: alert.kind,
        message_id: message_id.clone(),
        created: report.time.clone(),
        payload,
        pending,
        attempts: 0,
        next_attempt: None,
        last_error: None,
    };
    let mut out = Vec::new();
    if let (Some(from), false) = (ctx.from, ctx.policy.recipients.is_empty()) {
        let mut b = lettre::Message::builder()
            .from(from.clone())
            .subject(view.subject())
            .message_id(Some(message_id.clone()))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("Auto-Submitted"),
                "auto-generated".into(),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("X-Driftwatch-Target"),
                crate::escape::terminal(&report.target).into_owned(),
            ));
        for to in &ctx.policy.recipients {
            b = b.to(to.clone());
        }
        if let Some(prev) = &previous {
            b = b.in_reply_to(prev.clone());
            let refs = match &thread {
                Some(root) if root != prev => format!("{root} {prev}"),
                _ => prev.clone(),
            };
            b = b.references(refs);
        }
        let message = b
            .multipart(MultiPart::alternative_plain_html(view.text(), view.html()))
            .map_err(email_error)?;
        out.push(base(
            format!("{stem}-email"),
            Payload::Email {
                from: from.email.to_string(),
                message: String::from_utf8_lossy(&message.formatted()).into_owned(),
            },
            ctx.policy
                .recipients
                .iter()
                .map(|m| m.email.to_string())
                .collect(),
        ));
    }
    for hook in &ctx.policy.webhooks {
        let body = webhook_body(&view, &message_id);
        out.push(base(
            format!("{stem}-webhook-{hook}"),
            Payload::Webhook {
                name: hook.clone(),
                body,
            },
            vec![hook.clone()],
        ));
    }
    Ok(out)
}

/// The JSON a webhook receives: Slack's `text`, and the summary as data.
fn webhook_body(view: &AlertView<'_>, message_id: &str) -> String {
    let r = view.report;
    let findings: Vec<serde_json::Value> = view
        .findings
        .iter()
        .map(|f| {
            json!({
                "id": f.id(),
                "code": f.code,
                "severity": f.severity.name(),
                "object": f.object,
                "migration": f.migration,
                "message": f.message,
                "attribution": f.attribution,
                "since": f.since,
                "new": view.new_findings.contains(&f.id()),
            })
        })
        .collect();
    let body = json!({
        // Slack reads `text` as mrkdwn: `<…>` would be a link or a mention.
        "text": crate::escape::slack(&view.chat_text()),
        "format": "driftwatch.alert/1",
        "id": message_id,
        "kind": view.kind,
        "target": r.target,
        "url": r.url,
        "time": r.time,
        "result": r.result,
        "subject": view.subject(),
        "summary": view.headline(),
        "findings": findings,
        "fixed": view.gone_findings,
        "failures": view.failures,
        "error": r.error,
        "report": view.report_path,
    });
    serde_json::to_string(&body).unwrap_or_default()
}

/// `alert test`: one message saying the channel works.
pub(super) fn test_entry(
    target: &str,
    from: Option<&Mailbox>,
    to: &Mailbox,
) -> Result<OutboxEntry> {
    let Some(from) = from else {
        return Err(Error::Usage(
            "the configuration has no [smtp] section to send through".into(),
        ));
    };
    let time = crate::util::now_rfc3339();
    let message_id = format!(
        "<{}.test.{target}@{}>",
        crate::store::time_stem(&time),
        from.email.domain()
    );
    let text = format!(
        "This is a test message from driftwatch for target {target}.\n\
         If you can read it, alerts for {target} reach {}.\n",
        to.email
    );
    let html = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"></head><body style=\"font-family:sans-serif\"><p>{}</p></body></html>",
        crate::escape::html_block(&text)
    );
    let message = lettre::Message::builder()
        .from(from.clone())
        .to(to.clone())
        .subject(format!(
            "[driftwatch] {}: test message",
            crate::escape::terminal(target)
        ))
        .message_id(Some(message_id.clone()))
        .multipart(MultiPart::alternative_plain_html(text, html))
        .map_err(email_error)?;
    Ok(OutboxEntry {
        format: OUTBOX_FORMAT.into(),
        id: "test-email".into(),
        target: target.into(),
        kind: AlertKind::Drift,
        message_id,
        created: time,
        payload: Payload::Email {
            from: from.email.to_string(),
            message: String::from_utf8_lossy(&message.formatted()).into_owned(),
        },
        pending: vec![to.email.to_string()],
        attempts: 0,
        next_attempt: None,
        last_error: None,
    })
}
