//! The Monitor's report as an e-mail to ORAPOST: a plain-text part (the findings, and the
//! Statistics samples as sparklines) and an HTML part (the same findings as a table, and the
//! samples as charts), multipart/alternative, marked `Auto-Submitted: auto-generated`.

use chrono::{DateTime, Utc};
use mail_builder::headers::raw::Raw;
use mail_builder::MessageBuilder;

use super::chart::{self, format_value, Series, Unit};
use super::checks::{Finding, Severity};
use crate::postman::report::BuiltNdr;
use crate::store::system;

/// The samples drawn in a report.
pub struct Charts {
    /// Queue lengths over the last day.
    pub queues: Vec<Series>,
    /// Space used over the last week.
    pub space: Vec<Series>,
    pub now: DateTime<Utc>,
}

/// What a report says about a node.
pub struct Report<'a> {
    pub node: &'a str,
    /// The host name in the Message-ID and the greeting.
    pub host: &'a str,
    pub from_domain: &'a str,
    pub to: &'a str,
    pub findings: &'a [Finding],
    pub charts: &'a Charts,
}

/// The worst severity of the findings.
pub fn worst(findings: &[Finding]) -> Severity {
    findings
        .iter()
        .map(|f| f.severity)
        .max()
        .unwrap_or(Severity::Ok)
}

/// The subject: the worst severity and the tests that reached it.
pub fn subject(node: &str, findings: &[Finding]) -> String {
    let w = worst(findings);
    let tests: Vec<&str> = findings
        .iter()
        .filter(|f| f.severity == w)
        .map(|f| f.test)
        .collect();
    if w == Severity::Ok {
        format!("esmail Monitor: node {node} OK")
    } else {
        format!(
            "esmail Monitor: {} on node {node}: {}",
            w.name(),
            tests.join(", ")
        )
    }
}

fn sparklines(out: &mut String, title: &str, unit: Unit, series: &[Series]) {
    out.push_str(&format!("{title}\r\n"));
    if series.iter().all(|s| s.points.is_empty()) {
        out.push_str("  no samples yet\r\n");
        return;
    }
    let width = series.iter().map(|s| s.name.len()).max().unwrap_or(0);
    for s in series {
        let values: Vec<f64> = s.points.iter().map(|p| p.1).collect();
        let last = values
            .last()
            .map(|v| format_value(*v, unit))
            .unwrap_or_else(|| "no data".into());
        out.push_str(&format!(
            "  {:<width$}  {}  {last}\r\n",
            s.name,
            chart::sparkline(&values, 48)
        ));
    }
}

fn text(r: &Report<'_>) -> String {
    let mut out = format!(
        "The esmail Monitor of node {} (host {}) ran its tests at {}.\r\n\r\n",
        r.node,
        r.host,
        r.charts.now.format("%Y-%m-%d %H:%M UTC")
    );
    for f in r.findings {
        out.push_str(&format!(
            "{:<8} {}: {}\r\n",
            f.severity.name(),
            f.test,
            f.summary
        ));
        for d in &f.details {
            out.push_str(&format!("         - {d}\r\n"));
        }
    }
    out.push_str("\r\n");
    sparklines(
        &mut out,
        "Queue lengths, last 24 hours:",
        Unit::Count,
        &r.charts.queues,
    );
    out.push_str("\r\n");
    sparklines(
        &mut out,
        "Space used, last 7 days:",
        Unit::Bytes,
        &r.charts.space,
    );
    out.push_str(
        "\r\n`iofcmgr` `show monitor;` shows the latest result of each test, `show monitor \
         test=NAME;` its history.\r\n",
    );
    out
}

fn colour(s: Severity) -> &'static str {
    match s {
        Severity::Ok => "#2e7d32",
        Severity::Info => "#1565c0",
        Severity::Warning => "#ef6c00",
        Severity::Error => "#c62828",
    }
}

fn html(r: &Report<'_>) -> String {
    let mut rows = String::new();
    for f in r.findings {
        let details = if f.details.is_empty() {
            String::new()
        } else {
            format!(
                "<ul>{}</ul>",
                f.details
                    .iter()
                    .map(|d| format!("<li>{}</li>", chart::escape(d)))
                    .collect::<String>()
            )
        };
        rows.push_str(&format!(
            "<tr><td style=\"color:{};font-weight:bold\">{}</td><td>{}</td><td>{}{details}</td></tr>\n",
            colour(f.severity),
            f.severity.name(),
            chart::escape(f.test),
            chart::escape(&f.summary)
        ));
    }
    let now = r.charts.now;
    let draw = |title: &str, unit: Unit, span: chrono::Duration, series: &[Series]| {
        chart::svg(title, unit, now - span, now, series)
    };
    let queues = draw(
        "Queue lengths, last 24 hours",
        Unit::Count,
        chrono::Duration::hours(24),
        &r.charts.queues,
    );
    let space = draw(
        "Space used, last 7 days",
        Unit::Bytes,
        chrono::Duration::days(7),
        &r.charts.space,
    );
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title></head>\n\
         <body style=\"font-family:sans-serif\">\n<h2>{title}</h2>\n\
         <p>Node {node} (host {host}), {at}.</p>\n\
         <table cellpadding=\"4\" border=\"1\" style=\"border-collapse:collapse\">\n\
         <tr><th>result</th><th>test</th><th>what was found</th></tr>\n{rows}</table>\n\
         <p>{queues}</p>\n<p>{space}</p>\n\
         <p><code>iofcmgr</code> <code>show monitor;</code> shows the latest result of each \
         test.</p>\n</body></html>\n",
        title = chart::escape(&subject(r.node, r.findings)),
        node = chart::escape(r.node),
        host = chart::escape(r.host),
        at = now.format("%Y-%m-%d %H:%M UTC"),
    )
}

/// The report message.
pub fn build(r: &Report<'_>) -> BuiltNdr {
    let guid = system::new_guid();
    let message_id = format!("{guid}@{}", r.host);
    let content = MessageBuilder::new()
        .from((
            "esmail Monitor".to_string(),
            format!("MAILER-DAEMON@{}", r.from_domain),
        ))
        .to(r.to)
        .subject(subject(r.node, r.findings))
        .message_id(message_id.clone())
        .date(r.charts.now.timestamp())
        .header("Auto-Submitted", Raw::new("auto-generated"))
        .text_body(text(r))
        .html_body(html(r))
        .write_to_vec()
        .unwrap_or_default();
    BuiltNdr {
        content,
        message_id,
        guid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_has_a_text_and_an_html_part_with_charts() {
        let now = Utc::now();
        let findings = vec![
            Finding {
                test: "flow",
                severity: Severity::Warning,
                summary: "queues: submission 3 (oldest 20 min)".into(),
                details: vec!["the <submission> queue waits".into()],
            },
            Finding {
                test: "space",
                severity: Severity::Ok,
                summary: "store 1 MiB".into(),
                details: vec![],
            },
        ];
        let charts = Charts {
            queues: vec![Series {
                name: "submission".into(),
                points: (0..10)
                    .map(|i| (now - chrono::Duration::hours(10 - i), i as f64))
                    .collect(),
            }],
            space: vec![],
            now,
        };
        let r = Report {
            node: "n1",
            host: "mail.acme.com",
            from_domain: "acme.com",
            to: "orapost@acme.com",
            findings: &findings,
            charts: &charts,
        };
        assert_eq!(
            subject("n1", &findings),
            "esmail Monitor: WARNING on node n1: flow"
        );
        let built = build(&r);
        let m = mail_parser::MessageParser::default()
            .parse(&built.content)
            .expect("a message");
        assert_eq!(
            m.subject(),
            Some("esmail Monitor: WARNING on node n1: flow")
        );
        let text = m.body_text(0).expect("a text part");
        assert!(
            text.contains("WARNING  flow: queues: submission 3"),
            "{text}"
        );
        assert!(text.contains('█'), "{text}");
        let html = m.body_html(0).expect("an html part");
        assert!(html.contains("<svg"), "{html}");
        assert!(
            html.contains("the &lt;submission&gt; queue waits"),
            "{html}"
        );
        let raw = String::from_utf8_lossy(&built.content);
        assert!(raw.contains("Auto-Submitted: auto-generated"), "{raw}");
        assert!(raw.contains("multipart/alternative"), "{raw}");
    }
}
