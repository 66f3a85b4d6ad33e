//! HTTP API route selection: `METHOD /path` keys from the stage file, with `ANY`, `{param}`,
//! greedy `{proxy+}` and `$default`, most specific first as API Gateway chooses.

use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Literal(String),
    Param(String),
    Greedy(String),
}

#[derive(Debug, Clone)]
pub struct Route<T> {
    /// The route key as written: `GET /pay`.
    pub key: Arc<str>,
    method: Option<String>,
    segments: Vec<Segment>,
    default: bool,
    pub target: T,
}

pub struct Matched<'a, T> {
    pub route: &'a Route<T>,
    pub path_parameters: BTreeMap<String, String>,
}

pub struct Router<T> {
    routes: Vec<Route<T>>,
}

fn parse_segments(path: &str) -> Vec<Segment> {
    path.trim_start_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) => match name.strip_suffix('+') {
                Some(g) => Segment::Greedy(g.to_owned()),
                None => Segment::Param(name.to_owned()),
            },
            None => Segment::Literal(s.to_owned()),
        })
        .collect()
}

impl<T> Router<T> {
    /// Routes from `(route key, target)` pairs; the stage file has validated the keys.
    pub fn new(routes: impl IntoIterator<Item = (String, T)>) -> Router<T> {
        let mut routes: Vec<Route<T>> = routes
            .into_iter()
            .map(|(key, target)| {
                if key == "$default" {
                    return Route {
                        key: key.into(),
                        method: None,
                        segments: vec![],
                        default: true,
                        target,
                    };
                }
                let (method, path) = key.split_once(' ').unwrap_or(("ANY", key.as_str()));
                let method = (method != "ANY").then(|| method.to_owned());
                let segments = parse_segments(path);
                Route {
                    key: key.clone().into(),
                    method,
                    segments,
                    default: false,
                    target,
                }
            })
            .collect();
        // Most specific first: literal segments beat parameters, parameters beat greedy ones,
        // an explicit method beats ANY, $default comes last.
        routes.sort_by_key(|r| {
            let rank: Vec<u8> = r
                .segments
                .iter()
                .map(|s| match s {
                    Segment::Literal(_) => 0,
                    Segment::Param(_) => 1,
                    Segment::Greedy(_) => 2,
                })
                .collect();
            (
                r.default,
                std::cmp::Reverse(r.segments.len()),
                rank,
                r.method.is_none(),
            )
        });
        Router { routes }
    }

    pub fn find(&self, method: &str, path: &str) -> Option<Matched<'_, T>> {
        let parts: Vec<&str> = path
            .trim_start_matches('/')
            .split('/')
            .filter(|s| !s.is_empty())
            .collect();
        for route in &self.routes {
            if route.default {
                return Some(Matched {
                    route,
                    path_parameters: BTreeMap::new(),
                });
            }
            if route.method.as_deref().is_some_and(|m| m != method) {
                continue;
            }
            if let Some(params) = match_segments(&route.segments, &parts) {
                return Some(Matched {
                    route,
                    path_parameters: params,
                });
            }
        }
        None
    }
}

fn match_segments(segments: &[Segment], parts: &[&str]) -> Option<BTreeMap<String, String>> {
    let mut params = BTreeMap::new();
    for (i, seg) in segments.iter().enumerate() {
        match seg {
            Segment::Greedy(name) => {
                if i >= parts.len() {
                    return None;
                }
                params.insert(name.clone(), parts[i..].join("/"));
                return Some(params);
            }
            Segment::Literal(lit) => {
                if parts.get(i) != Some(&lit.as_str()) {
                    return None;
                }
            }
            Segment::Param(name) => {
                params.insert(name.clone(), (*parts.get(i)?).to_owned());
            }
        }
    }
    (parts.len() == segments.len()).then_some(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_most_specific_route() {
        let r = Router::new(
            [
                "GET /pay",
                "ANY /pay",
                "GET /items/{id}",
                "GET /files/{proxy+}",
                "GET /items/special",
            ]
            .map(|k| (k.to_string(), k.to_string())),
        );
        assert_eq!(r.find("GET", "/pay").unwrap().route.target, "GET /pay");
        assert_eq!(r.find("POST", "/pay").unwrap().route.target, "ANY /pay");
        let m = r.find("GET", "/items/42").unwrap();
        assert_eq!(
            (m.route.target.as_str(), m.path_parameters["id"].as_str()),
            ("GET /items/{id}", "42")
        );
        assert_eq!(
            r.find("GET", "/items/special").unwrap().route.target,
            "GET /items/special"
        );
        assert_eq!(
            r.find("GET", "/files/a/b").unwrap().path_parameters["proxy"],
            "a/b"
        );
        assert!(r.find("GET", "/nope").is_none());
        assert!(r.find("DELETE", "/items/1").is_none());
        let d = Router::new([("$default".to_string(), 1), ("GET /a".to_string(), 2)]);
        assert_eq!(d.find("GET", "/a").unwrap().route.target, 2);
        assert_eq!(d.find("GET", "/zzz").unwrap().route.target, 1);
    }
}
