//! Which check durable data failed ([`CorruptKind`]): the typed part of
//! [`crate::Error::Corrupt`], whose `reason` says the particulars. A leaf:
//! the error carries it, so it imports nothing from the crate.

use std::fmt;

/// Which check a damaged file failed (`Error::Corrupt::kind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CorruptKind {
    /// Not a file of its kind: its magic is wrong.
    Magic,
    /// It ends before its structure does (a header, a record, a trailer).
    Truncated,
    /// A CRC does not match the bytes it covers.
    Checksum,
    /// A header or frame field holds a value no writer writes (unknown
    /// flags, an impossible length, a number at its maximum).
    Header,
    /// The bytes pass their checksum but do not decode as what they hold.
    Decode,
    /// The SHA-256 chain does not continue: a record, a segment or a
    /// snapshot does not follow from what came before it.
    Chain,
    /// Sequence or segment numbers do not follow on (a gap, a step back, a
    /// segment that does not continue the one before it).
    Sequence,
    /// A file that the others show must exist is missing.
    Missing,
    /// A file belongs to another catalog, or says another number than its
    /// name does.
    Misplaced,
    /// A snapshot and the journal disagree (contents, chain, coverage).
    Snapshot,
    /// A record's operation does not apply to the state before it.
    Replay,
    /// A torn tail, which strict recovery refuses to cut.
    TornTail,
    /// Written by someone else: a move intent of another user, an
    /// unreadable repair marker. It is not acted on.
    Foreign,
}

impl CorruptKind {
    /// A short name: `"magic"`, `"truncated"`, `"checksum"`, `"header"`,
    /// `"decode"`, `"chain"`, `"sequence"`, `"missing"`, `"misplaced"`,
    /// `"snapshot"`, `"replay"`, `"torn-tail"`, `"foreign"`.
    pub fn as_str(self) -> &'static str {
        match self {
            CorruptKind::Magic => "magic",
            CorruptKind::Truncated => "truncated",
            CorruptKind::Checksum => "checksum",
            CorruptKind::Header => "header",
            CorruptKind::Decode => "decode",
            CorruptKind::Chain => "chain",
            CorruptKind::Sequence => "sequence",
            CorruptKind::Missing => "missing",
            CorruptKind::Misplaced => "misplaced",
            CorruptKind::Snapshot => "snapshot",
            CorruptKind::Replay => "replay",
            CorruptKind::TornTail => "torn-tail",
            CorruptKind::Foreign => "foreign",
        }
    }
}

impl fmt::Display for CorruptKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
