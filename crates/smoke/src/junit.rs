//! A tiny JUnit XML writer: the shape CI test reporters read (`testsuites` > `testsuite` >
//! `testcase`, with `failure` on a failed case and `system-out` for details).

use std::fmt::Write;

/// One test case.
#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    pub classname: String,
    pub time_s: f64,
    /// `Some(message)` when the case failed.
    pub failure: Option<String>,
    pub output: Option<String>,
}

/// A suite of cases, written as one `<testsuites>` document.
#[derive(Debug, Clone)]
pub struct Suite {
    pub name: String,
    pub cases: Vec<Case>,
}

impl Suite {
    pub fn to_xml(&self) -> String {
        let failures = self.cases.iter().filter(|c| c.failure.is_some()).count();
        let time: f64 = self.cases.iter().map(|c| c.time_s).sum();
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            out,
            "<testsuites name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" time=\"{time:.3}\">",
            escape(&self.name),
            self.cases.len()
        );
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\" time=\"{time:.3}\">",
            escape(&self.name),
            self.cases.len()
        );
        for case in &self.cases {
            let _ = write!(
                out,
                "    <testcase name=\"{}\" classname=\"{}\" time=\"{:.3}\"",
                escape(&case.name),
                escape(&case.classname),
                case.time_s
            );
            if case.failure.is_none() && case.output.is_none() {
                out.push_str("/>\n");
                continue;
            }
            out.push_str(">\n");
            if let Some(message) = &case.failure {
                let _ = writeln!(
                    out,
                    "      <failure message=\"{}\">{}</failure>",
                    escape(message),
                    escape(message)
                );
            }
            if let Some(text) = &case.output {
                let _ = writeln!(out, "      <system-out>{}</system-out>", escape(text));
            }
            out.push_str("    </testcase>\n");
        }
        out.push_str("  </testsuite>\n</testsuites>\n");
        out
    }
}

/// Escapes text for XML attributes and content, and drops characters XML 1.0 cannot carry.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\r' | '\t' => out.push(ch),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_document_junit_readers_accept() {
        let suite = Suite {
            name: "smoke-test drill dev".into(),
            cases: vec![
                Case {
                    name: "detect".into(),
                    classname: "drill.dev".into(),
                    time_s: 12.5,
                    failure: None,
                    output: None,
                },
                Case {
                    name: "validate <OK>".into(),
                    classname: "drill.dev".into(),
                    time_s: 1.0,
                    failure: Some("alarm \"x\" stayed in ALARM & \u{1} more".into()),
                    output: Some("line 1\nline 2".into()),
                },
            ],
        };
        let xml = suite.to_xml();
        let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "testsuites");
        assert_eq!(root.attribute("tests"), Some("2"));
        assert_eq!(root.attribute("failures"), Some("1"));
        let suite_el = root.children().find(|n| n.has_tag_name("testsuite")).unwrap();
        let cases: Vec<_> = suite_el
            .children()
            .filter(|n| n.has_tag_name("testcase"))
            .collect();
        assert_eq!(cases.len(), 2);
        assert_eq!(cases[1].attribute("name"), Some("validate <OK>"));
        let failure = cases[1].children().find(|n| n.has_tag_name("failure")).unwrap();
        assert_eq!(
            failure.attribute("message"),
            Some("alarm \"x\" stayed in ALARM &  more")
        );
        assert!(cases[0].children().all(|n| !n.has_tag_name("failure")));
    }
}
