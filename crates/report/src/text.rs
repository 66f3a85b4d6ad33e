//! Small text helpers shared by the renderers: escaping and formatting of instants and durations.

use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

/// Escapes text for HTML and XML (element content and quoted attribute values alike).
///
/// Characters that XML 1.0 forbids (control characters such as the ESC of terminal colour
/// codes that can turn up in log lines) become U+FFFD, so a hostile or noisy log line can
/// neither inject markup nor make an SVG ill-formed.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{7f}' || c == '\u{fffe}' || c == '\u{ffff}' => {
                out.push('\u{fffd}')
            }
            c => out.push(c),
        }
    }
    out
}

/// Text for Markdown prose: `&`, `<` and `>` become entities, since Markdown renders raw HTML;
/// quotes stay readable, as they cannot start markup outside a tag.
pub fn markdown_text(text: &str) -> String {
    escape(text).replace("&quot;", "\"").replace("&#39;", "'")
}

/// Text for a Markdown table cell: as [`markdown_text`], pipes escaped, line breaks flattened.
pub fn markdown_cell(text: &str) -> String {
    markdown_text(text)
        .replace('|', "\\|")
        .replace("\r\n", " ")
        .replace(['\n', '\r'], " ")
}

/// Control characters (terminal colour codes in log lines, say) replaced by U+FFFD, for text
/// that is shown literally (code blocks and code spans).
pub fn without_controls(text: &str) -> String {
    text.chars()
        .map(|c| {
            if (c.is_control() && c != '\n' && c != '\t') || c == '\r' {
                '\u{fffd}'
            } else {
                c
            }
        })
        .collect()
}

fn longest_backtick_run(text: &str) -> usize {
    let (mut longest, mut run) = (0, 0);
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    longest
}

/// An inline code span for a Markdown table cell or list item. Code spans are literal (no
/// entities, no HTML), so the text is not entity-escaped; the span's backtick string is longer
/// than any run inside it, and pipes are escaped for tables.
pub fn code_span(text: &str) -> String {
    let flat = without_controls(text)
        .replace(['\n', '\t'], " ")
        .replace('|', "\\|");
    let ticks = "`".repeat(longest_backtick_run(&flat) + 1);
    let pad = if flat.starts_with('`') || flat.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{ticks}{pad}{flat}{pad}{ticks}")
}

/// A code fence longer than any run of backticks in `body`, so log text cannot close it.
pub fn code_fence(body: &str) -> String {
    "`".repeat((longest_backtick_run(body) + 1).max(3))
}

fn utc(t: OffsetDateTime) -> OffsetDateTime {
    t.to_offset(UtcOffset::UTC)
}

/// `HH:MM:SS` in UTC: the tick label and timeline format.
pub fn hms(t: OffsetDateTime) -> String {
    utc(t)
        .format(format_description!("[hour]:[minute]:[second]"))
        .unwrap_or_default()
}

/// `HH:MM:SS.mmm` in UTC, for log lines and precise instants.
pub fn hms_millis(t: OffsetDateTime) -> String {
    utc(t)
        .format(format_description!(
            "[hour]:[minute]:[second].[subsecond digits:3]"
        ))
        .unwrap_or_default()
}

/// `YYYY-MM-DD HH:MM:SS UTC`.
pub fn date_time(t: OffsetDateTime) -> String {
    utc(t)
        .format(format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second] UTC"
        ))
        .unwrap_or_default()
}

/// Seconds with one decimal, e.g. `12.4 s`; an em dash when not measured.
pub fn seconds(s: Option<f64>) -> String {
    match s {
        Some(s) => format!("{s:.1} s"),
        None => "\u{2014}".to_string(),
    }
}

/// `+12.4 s` relative to the start of the drill.
pub fn offset(start: OffsetDateTime, t: OffsetDateTime) -> String {
    let s = (t - start).as_seconds_f64();
    if s < 0.0 {
        format!("\u{2212}{:.1} s", -s)
    } else {
        format!("+{s:.1} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn escape_neutralises_markup_and_control_characters() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
        assert_eq!(escape("\u{1b}[31mred\u{1b}[0m"), "\u{fffd}[31mred\u{fffd}[0m");
        assert_eq!(escape("a\tb\nc"), "a\tb\nc");
    }

    #[test]
    fn markdown_cell_escapes_pipes_and_newlines() {
        assert_eq!(markdown_cell("a|b\nc <b>"), "a\\|b c &lt;b&gt;");
        assert_eq!(markdown_text("\"it's\" <i>"), "\"it's\" &lt;i&gt;");
    }

    #[test]
    fn code_span_is_literal_and_cannot_be_closed_early() {
        assert_eq!(code_span("a<b>|c"), "`a<b>\\|c`");
        assert_eq!(code_span("x ``` y"), "````x ``` y````");
        assert_eq!(code_span("`tick"), "`` `tick ``");
        assert_eq!(without_controls("\u{1b}[0m\r\n"), "\u{fffd}[0m\u{fffd}\n");
    }

    #[test]
    fn code_fence_is_longer_than_any_backtick_run() {
        assert_eq!(code_fence("plain"), "```");
        assert_eq!(code_fence("a ```` b"), "`````");
    }

    #[test]
    fn formats_instants_in_utc() {
        let t = datetime!(2026-11-25 17:04:09.250 +01:00);
        assert_eq!(hms(t), "16:04:09");
        assert_eq!(hms_millis(t), "16:04:09.250");
        assert_eq!(date_time(t), "2026-11-25 16:04:09 UTC");
        assert_eq!(offset(t, t + time::Duration::milliseconds(12_400)), "+12.4 s");
        assert_eq!(seconds(None), "\u{2014}");
    }
}
