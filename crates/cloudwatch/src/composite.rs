//! Composite alarms: the rule language of PutCompositeAlarm's `AlarmRule` and its evaluation.
//!
//! The language (CloudWatch API reference, PutCompositeAlarm, `AlarmRule`):
//! - functions `ALARM(name)`, `OK(name)`, `INSUFFICIENT_DATA(name)`, true when the named alarm is
//!   in that state; the name may be written in double quotes or bare;
//! - the constants `TRUE` and `FALSE`;
//! - the operators `AND`, `OR`, `NOT` and parentheses; at most 10,240 characters.
//!
//! The reference gives no precedence; the lab binds `NOT` tightest, then `AND`, then `OR`, as
//! boolean algebra does (every rule this project writes is a plain `OR` list, which precedence
//! cannot change). A composite alarm is in ALARM while its rule is true and OK while it is
//! false; it starts in INSUFFICIENT_DATA and is evaluated whenever an alarm it names changes.

use std::collections::BTreeSet;

use crate::alarms::AlarmState;

/// PutCompositeAlarm's limit on `AlarmRule`.
pub const MAX_RULE_CHARS: usize = 10_240;

/// A parsed `AlarmRule`.
#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    Constant(bool),
    /// True when the named alarm is in the state.
    InState(AlarmState, String),
    Not(Box<Rule>),
    And(Vec<Rule>),
    Or(Vec<Rule>),
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RuleError {
    #[error("the rule is empty")]
    Empty,
    #[error("the rule has {0} characters; AlarmRule allows at most {MAX_RULE_CHARS}")]
    TooLong(usize),
    #[error("at character {at}: {message}")]
    Syntax { at: usize, message: String },
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Quoted(String),
    Open,
    Close,
}

fn tokens(rule: &str) -> Result<Vec<(usize, Token)>, RuleError> {
    let chars: Vec<(usize, char)> = rule.char_indices().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push((at, Token::Open));
                i += 1;
            }
            ')' => {
                out.push((at, Token::Close));
                i += 1;
            }
            '"' => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|&(_, c)| c == '"')
                    .ok_or_else(|| RuleError::Syntax {
                        at,
                        message: "a quoted alarm name is not closed".into(),
                    })?;
                let name: String = chars[i + 1..i + 1 + end].iter().map(|&(_, c)| c).collect();
                out.push((at, Token::Quoted(name)));
                i += end + 2;
            }
            _ => {
                let end = chars[i..]
                    .iter()
                    .position(|&(_, c)| c.is_whitespace() || c == '(' || c == ')' || c == '"')
                    .unwrap_or(chars.len() - i);
                let word: String = chars[i..i + end].iter().map(|&(_, c)| c).collect();
                out.push((at, Token::Word(word)));
                i += end;
            }
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<(usize, Token)>,
    next: usize,
    len: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next).map(|(_, t)| t)
    }

    fn at(&self) -> usize {
        self.tokens.get(self.next).map_or(self.len, |(at, _)| *at)
    }

    fn error(&self, message: impl Into<String>) -> RuleError {
        RuleError::Syntax {
            at: self.at(),
            message: message.into(),
        }
    }

    fn keyword(&mut self, word: &str) -> bool {
        if matches!(self.peek(), Some(Token::Word(w)) if w == word) {
            self.next += 1;
            true
        } else {
            false
        }
    }

    fn or(&mut self) -> Result<Rule, RuleError> {
        let mut terms = vec![self.and()?];
        while self.keyword("OR") {
            terms.push(self.and()?);
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Rule::Or(terms)
        })
    }

    fn and(&mut self) -> Result<Rule, RuleError> {
        let mut terms = vec![self.unary()?];
        while self.keyword("AND") {
            terms.push(self.unary()?);
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Rule::And(terms)
        })
    }

    fn unary(&mut self) -> Result<Rule, RuleError> {
        if self.keyword("NOT") {
            return Ok(Rule::Not(Box::new(self.unary()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Rule, RuleError> {
        let expected = "expected ALARM(...), OK(...), INSUFFICIENT_DATA(...), TRUE, FALSE, NOT or (";
        match self.peek().cloned() {
            Some(Token::Open) => {
                self.next += 1;
                let inner = self.or()?;
                if self.peek() != Some(&Token::Close) {
                    return Err(self.error("expected ) to close the group"));
                }
                self.next += 1;
                Ok(inner)
            }
            Some(Token::Word(w)) => {
                let state = match w.as_str() {
                    "TRUE" | "FALSE" => {
                        self.next += 1;
                        return Ok(Rule::Constant(w == "TRUE"));
                    }
                    "ALARM" => AlarmState::Alarm,
                    "OK" => AlarmState::Ok,
                    "INSUFFICIENT_DATA" => AlarmState::InsufficientData,
                    other => return Err(self.error(format!("{other:?}: {expected}"))),
                };
                self.next += 1;
                if self.peek() != Some(&Token::Open) {
                    return Err(self.error(format!("expected ( after {w}")));
                }
                self.next += 1;
                let name = self.alarm_name()?;
                if self.peek() != Some(&Token::Close) {
                    return Err(self.error(format!("expected ) after the alarm name in {w}(...)")));
                }
                self.next += 1;
                Ok(Rule::InState(state, name))
            }
            _ => Err(self.error(expected)),
        }
    }

    /// A quoted name, or bare words up to the closing parenthesis (names may hold spaces).
    fn alarm_name(&mut self) -> Result<String, RuleError> {
        if let Some(Token::Quoted(name)) = self.peek().cloned() {
            self.next += 1;
            return non_empty(name).ok_or_else(|| self.error("the alarm name is empty"));
        }
        let mut words = Vec::new();
        while let Some(Token::Word(w)) = self.peek().cloned() {
            words.push(w);
            self.next += 1;
        }
        non_empty(words.join(" ")).ok_or_else(|| self.error("expected an alarm name"))
    }
}

fn non_empty(name: String) -> Option<String> {
    (!name.trim().is_empty()).then(|| name.trim().to_owned())
}

impl Rule {
    pub fn parse(rule: &str) -> Result<Rule, RuleError> {
        let chars = rule.chars().count();
        if chars > MAX_RULE_CHARS {
            return Err(RuleError::TooLong(chars));
        }
        let tokens = tokens(rule)?;
        if tokens.is_empty() {
            return Err(RuleError::Empty);
        }
        let mut parser = Parser {
            tokens,
            next: 0,
            len: rule.len(),
        };
        let parsed = parser.or()?;
        if parser.peek().is_some() {
            return Err(parser.error("expected AND, OR or the end of the rule"));
        }
        Ok(parsed)
    }

    /// The rule's truth, given each named alarm's state (`None` for an alarm that does not
    /// exist: no state function is true of it).
    pub fn holds(&self, state_of: &impl Fn(&str) -> Option<AlarmState>) -> bool {
        match self {
            Rule::Constant(b) => *b,
            Rule::InState(state, name) => state_of(name) == Some(*state),
            Rule::Not(inner) => !inner.holds(state_of),
            Rule::And(terms) => terms.iter().all(|t| t.holds(state_of)),
            Rule::Or(terms) => terms.iter().any(|t| t.holds(state_of)),
        }
    }

    /// Every alarm the rule names.
    pub fn alarms(&self) -> BTreeSet<&str> {
        let mut out = BTreeSet::new();
        self.collect(&mut out);
        out
    }

    fn collect<'a>(&'a self, out: &mut BTreeSet<&'a str>) {
        match self {
            Rule::Constant(_) => {}
            Rule::InState(_, name) => {
                out.insert(name);
            }
            Rule::Not(inner) => inner.collect(out),
            Rule::And(terms) | Rule::Or(terms) => terms.iter().for_each(|t| t.collect(out)),
        }
    }
}
