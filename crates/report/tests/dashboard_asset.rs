//! Static guarantees of the dashboard page; its behaviour is checked in a real browser against
//! a real lab by scripts/checks/50-dashboard-browser.

use incident_report::DASHBOARD_HTML;

#[test]
fn dashboard_inserts_data_as_text_only() {
    for sink in [
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
        "new Function",
    ] {
        assert!(!DASHBOARD_HTML.contains(sink), "dashboard.html uses {sink}");
    }
    assert!(DASHBOARD_HTML.contains("textContent"));
}

#[test]
fn dashboard_loads_nothing_from_the_network() {
    // The only absolute URL is the SVG namespace name, which is an identifier, not a request.
    let without_ns = DASHBOARD_HTML.replace("\"http://www.w3.org/2000/svg\"", "");
    for needle in ["http://", "https://", "//cdn", " src=", "@import", "url("] {
        assert!(!without_ns.contains(needle), "dashboard.html contains {needle:?}");
    }
    let links: Vec<&str> = DASHBOARD_HTML
        .match_indices("<link")
        .map(|(i, _)| &DASHBOARD_HTML[i..i + 40])
        .collect();
    assert!(links.iter().all(|l| l.contains("href=\"data:")), "{links:?}");
}

#[test]
fn dashboard_takes_the_token_once_and_strips_it_from_the_address_bar() {
    assert!(DASHBOARD_HTML.contains("params.get(\"token\")"));
    assert!(DASHBOARD_HTML.contains("history.replaceState"));
    assert!(!DASHBOARD_HTML.contains("localStorage") && !DASHBOARD_HTML.contains("sessionStorage"));
    assert!(DASHBOARD_HTML.contains("Authorization: \"Bearer \" + token"));
}
