//! The one real sportsbook points line a prediction is made against.
//!
//! The rule (market and player, pre-tip only, real lines ≥ 5.0, book
//! preference, latest snapshot, main line among alternates) is
//! [`propcast_core::prop_lines`], shared with the upcoming player context;
//! it is re-exported here. This module adds only where a prediction's line
//! came from ([`LineSource`]).

pub use propcast_core::prop_lines::{
    BOOK_PREFERENCE, LineChoice, MIN_LINE, PLAYER_POINTS_MARKET, PropLine, book_rank, choose_line,
    is_pre_tip, price_gap,
};

/// Where a prediction's line came from (`line_source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineSource {
    /// A real pre-tip sportsbook line.
    ActualProp,
    /// No sportsbook offered an eligible line; the prediction has none.
    NoPropLine,
}

impl LineSource {
    pub fn as_str(self) -> &'static str {
        match self {
            LineSource::ActualProp => "ACTUAL_PROP",
            LineSource::NoPropLine => "NO_PROP_LINE",
        }
    }
}
