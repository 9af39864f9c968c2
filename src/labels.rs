//! The one text form of each state enum a model entry carries: `as_str()`
//! and `Display`. The events JSON, the entry JSON, the command line and the
//! metrics labels all use these, so a state is spelled the same everywhere.

use crate::entry::{DigestSource, Lifecycle, TrustState, VerifyResult};
use std::fmt;

impl Lifecycle {
    /// `"active"` or `"retired"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Lifecycle::Active => "active",
            Lifecycle::Retired => "retired",
        }
    }
}

impl TrustState {
    /// `"verified"`, `"warned"`, `"unverified"` or `"failed"`.
    pub fn as_str(self) -> &'static str {
        match self {
            TrustState::Verified => "verified",
            TrustState::Warned => "warned",
            TrustState::Unverified => "unverified",
            TrustState::Failed => "failed",
        }
    }
}

impl VerifyResult {
    /// `"pass"`, `"warn"` or `"fail"` (also the metrics' `result` label).
    pub fn as_str(self) -> &'static str {
        match self {
            VerifyResult::Pass => "pass",
            VerifyResult::Warn => "warn",
            VerifyResult::Fail => "fail",
        }
    }
}

macro_rules! display_as_str {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    )*};
}

display_as_str!(Lifecycle, TrustState, VerifyResult, DigestSource);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_as_str_and_each_label_is_distinct() {
        let lifecycle =
            [Lifecycle::Active, Lifecycle::Retired].map(|l| (l.to_string(), l.as_str()));
        let trust = [
            TrustState::Verified,
            TrustState::Warned,
            TrustState::Unverified,
            TrustState::Failed,
        ]
        .map(|t| (t.to_string(), t.as_str()));
        let result = [VerifyResult::Pass, VerifyResult::Warn, VerifyResult::Fail]
            .map(|r| (r.to_string(), r.as_str()));
        let source =
            [DigestSource::Publisher, DigestSource::Import].map(|s| (s.to_string(), s.as_str()));
        let all: Vec<(String, &str)> = lifecycle
            .into_iter()
            .chain(trust)
            .chain(result)
            .chain(source)
            .collect();
        for (shown, label) in &all {
            assert_eq!(shown, label, "Display must print as_str()");
        }
        let labels: std::collections::BTreeSet<&str> = all.iter().map(|(_, l)| *l).collect();
        assert_eq!(labels.len(), all.len(), "two states share a label: {all:?}");
        assert_eq!(TrustState::Unverified.as_str(), "unverified");
        assert_eq!(VerifyResult::Fail.to_string(), "fail");
    }
}
